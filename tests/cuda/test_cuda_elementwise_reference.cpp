#define BOOST_TEST_MODULE gant_cuda_elementwise_reference
#include "support/test_framework.hpp"
// The functors the CUDA element-wise kernels run (gant/cuda/detail/elementwise_ops.hpp), run here
// element by element on the CPU, against the gant CPU code they stand in for: the activations'
// four passes, Adam, RMSprop, the generator EMA, and the device random numbers' bookkeeping
// against gant::rng itself. This build has no -march flags, so the CPU does no fused
// multiply-adds and every comparison is exact (NaN matching NaN). Runs without a GPU; on a GPU,
// test_cuda_elementwise checks the kernels against these same functors.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/elementwise_ops.hpp"
#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/random_passes.hpp"
#include "gant/cuda/random.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/optim/adam.hpp"
#include "gant/optim/rmsprop.hpp"
#include "gant/train/ema.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"

namespace {

using namespace gant::cuda::testing;
using gant::cuda::activation;

/// Uniform values in [-3, 3) with the special values an activation must get right in front.
std::vector<float> activation_inputs(std::size_t n, std::uint64_t seed) {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> v{0.f, -0.f, 1.f, -1.f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 1e-30f, -1e-30f};
    gant::rng r(seed, 7);
    while (v.size() < n) v.push_back(float(r.uniform(-3.0, 3.0)));
    return v;
}

gant::tensor<float> as_batch(const std::vector<float>& v) {
    gant::tensor<float> t = gant::tensor<float>::from_shape({1, v.size()});
    std::copy(v.begin(), v.end(), t.data());
    return t;
}

constexpr std::size_t width = 1001;
using features = gant::shape<width>;

/// Descriptor D's CPU layer against the functors with activation `phi`, all four passes.
template <class D>
void check_activation(activation phi, float slope) {
    using layer = typename D::template impl<features, float, gant::backend::cpu>;
    const gant::tensor<float> a = as_batch(activation_inputs(width, test_seed())),
                              adot = as_batch(activation_inputs(width, test_seed() + 1)),
                              ybar = as_batch(activation_inputs(width, test_seed() + 2)),
                              ydotbar = as_batch(activation_inputs(width, test_seed() + 3));
    gant::tensor<float> y = a, da = a, ydot = a, abar = a, adotbar = a;
    layer l;
    const gant::pass_context ctx;
    l.forward(a, y, ctx);
    l.backward(a, y, ybar, &da, false, ctx);
    l.forward_tangent(a, y, adot, ydot, ctx);
    l.backward_paired(a, y, adot, ydot, ybar, ydotbar, &abar, &adotbar, ctx);

    const gant::cuda::detail::activation_math math{phi, slope};
    std::vector<float> y2(width), da2(width), ydot2(width), abar2(width), adotbar2(width), adotbar3(width);
    emulate(gant::cuda::detail::activation_forward_op{math, a.data(), y2.data()}, width);
    emulate(gant::cuda::detail::activation_backward_op{math, a.data(), y.data(), ybar.data(), da2.data()}, width);
    emulate(gant::cuda::detail::activation_tangent_op{math, a.data(), y.data(), adot.data(), ydot2.data()}, width);
    emulate(gant::cuda::detail::activation_paired_op{math, a.data(), y.data(), adot.data(), ybar.data(), ydotbar.data(),
                                                     abar2.data(), adotbar2.data()},
            width);
    // adotbar alone (abar not needed, as for a network's first layer)
    emulate(gant::cuda::detail::activation_paired_op{math, a.data(), y.data(), nullptr, nullptr, ydotbar.data(),
                                                     nullptr, adotbar3.data()},
            width);
    BOOST_TEST(differences(y2.data(), y.data(), width) == 0u);
    BOOST_TEST(differences(da2.data(), da.data(), width) == 0u);
    BOOST_TEST(differences(ydot2.data(), ydot.data(), width) == 0u);
    BOOST_TEST(differences(abar2.data(), abar.data(), width) == 0u);
    BOOST_TEST(differences(adotbar2.data(), adotbar.data(), width) == 0u);
    BOOST_TEST(differences(adotbar3.data(), adotbar.data(), width) == 0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(elementwise_functors_against_gant_cpu)

BOOST_AUTO_TEST_CASE(relu_all_four_passes) { check_activation<gant::relu>(activation::relu, 0.f); }
BOOST_AUTO_TEST_CASE(leaky_relu_all_four_passes) { check_activation<gant::leaky_relu<>>(activation::leaky_relu, 0.2f); }
BOOST_AUTO_TEST_CASE(leaky_relu_one_hundredth) {
    check_activation<gant::leaky_relu<1, 100>>(activation::leaky_relu, 0.01f);
}
BOOST_AUTO_TEST_CASE(tanh_all_four_passes) { check_activation<gant::tanh>(activation::tanh, 0.f); }
BOOST_AUTO_TEST_CASE(identity_all_four_passes) { check_activation<gant::identity>(activation::none, 0.f); }

// Five updates of plain Adam, AMSGrad and Adam with weight decay, moments carried over.
BOOST_AUTO_TEST_CASE(adam_updates) {
    for (const gant::optim::adam_params hp :
         {gant::optim::adam_params::wgan_gp(), gant::optim::adam_params::dcgan(),
          gant::optim::adam_params{
              .lr = 3e-3, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.1, .amsgrad = true}}) {
        const std::size_t n = 777;
        std::vector<float> p = uniform_values(n, test_seed(), -1, 1), m(n, 0.f), v(n, 0.f), vmax(n, 0.f);
        std::vector<float> p2 = p, m2 = m, v2 = v, vmax2 = vmax;
        const gant::cuda::adam_settings s{hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weight_decay};
        for (std::uint64_t step = 1; step <= 5; ++step) {
            const std::vector<float> g = uniform_values(n, test_seed() + step, -2, 2);
            gant::optim::adam_rule::update(
                hp, step, p.data(), g.data(), n,
                std::array<float*, 3>{m.data(), v.data(), hp.amsgrad ? vmax.data() : nullptr});
            emulate(gant::cuda::detail::adam_op{gant::cuda::detail::make_adam_constants(s, step), p2.data(), g.data(),
                                                m2.data(), v2.data(), hp.amsgrad ? vmax2.data() : nullptr},
                    n);
        }
        BOOST_TEST(differences(p2.data(), p.data(), n) == 0u);
        BOOST_TEST(differences(m2.data(), m.data(), n) == 0u);
        BOOST_TEST(differences(v2.data(), v.data(), n) == 0u);
        BOOST_TEST(differences(vmax2.data(), vmax.data(), n) == 0u);
    }
}

// Every RMSprop configuration: plain (WGAN's), centered, momentum, both; weight decay in one.
BOOST_AUTO_TEST_CASE(rmsprop_updates) {
    for (const gant::optim::rmsprop_params hp :
         {gant::optim::rmsprop_params::wgan(), gant::optim::rmsprop_params{.lr = 1e-3, .centered = true},
          gant::optim::rmsprop_params{.lr = 1e-3, .momentum = 0.9},
          gant::optim::rmsprop_params{
              .lr = 2e-3, .alpha = 0.9, .eps = 1e-6, .weight_decay = 0.01, .momentum = 0.5, .centered = true}}) {
        const std::size_t n = 513;
        std::vector<float> p = uniform_values(n, test_seed(), -1, 1), sq(n, 0.f), buf(n, 0.f), mean(n, 0.f);
        std::vector<float> p2 = p, sq2 = sq, buf2 = buf, mean2 = mean;
        const gant::cuda::rmsprop_settings s{hp.lr, hp.alpha, hp.eps, hp.weight_decay, hp.momentum};
        for (std::uint64_t step = 1; step <= 4; ++step) {
            const std::vector<float> g = uniform_values(n, test_seed() + 10 + step, -2, 2);
            gant::optim::rmsprop_rule::update(hp, step, p.data(), g.data(), n,
                                              std::array<float*, 3>{sq.data(), hp.momentum > 0 ? buf.data() : nullptr,
                                                                    hp.centered ? mean.data() : nullptr});
            emulate(gant::cuda::detail::rmsprop_op{gant::cuda::detail::make_rmsprop_constants(s), p2.data(), g.data(),
                                                   sq2.data(), hp.momentum > 0 ? buf2.data() : nullptr,
                                                   hp.centered ? mean2.data() : nullptr},
                    n);
        }
        BOOST_TEST(differences(p2.data(), p.data(), n) == 0u);
        BOOST_TEST(differences(sq2.data(), sq.data(), n) == 0u);
        BOOST_TEST(differences(buf2.data(), buf.data(), n) == 0u);
        BOOST_TEST(differences(mean2.data(), mean.data(), n) == 0u);
    }
}

// gant::ema over a small network against ema_op over the same weights, parameter by parameter.
BOOST_AUTO_TEST_CASE(generator_moving_average) {
    using net =
        gant::network<gant::shape<5>, float, gant::backend::cpu, gant::dense<5, 9>, gant::relu, gant::dense<9, 3>>;
    net source;
    std::uint64_t k = 0;
    source.visit_parameters([&](gant::parameter<float>& p) {
        const auto v = uniform_values(p.size(), test_seed() + 20 + k++, -1, 1);
        std::copy(v.begin(), v.end(), p.data());
    });
    gant::ema<net> average;
    average.reset(source);
    std::vector<std::vector<float>> mine;
    source.visit_parameters([&](gant::parameter<float>& p) { mine.emplace_back(p.data(), p.data() + p.size()); });
    for (int step = 0; step < 3; ++step) {
        k = 0;
        source.visit_parameters([&](gant::parameter<float>& p) {  // the generator moves
            const auto v = uniform_values(p.size(), test_seed() + 40 + 10 * step + k++, -1, 1);
            std::copy(v.begin(), v.end(), p.data());
        });
        average.update(source, 0.999);
        k = 0;
        source.visit_parameters([&](gant::parameter<float>& p) {
            emulate(gant::cuda::detail::ema_op{float(0.999), float(1.0 - 0.999), mine[k++].data(), p.data()}, p.size());
        });
    }
    k = 0;
    std::size_t bad = 0;
    average.network().visit_parameters(
        [&](gant::parameter<float>& p) { bad += differences(mine[k++].data(), p.data(), p.size()); });
    BOOST_TEST(k == 4u);
    BOOST_TEST(bad == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(device_random_numbers_against_gant_rng)

namespace {

/// A generator after some use that leaves it mid-block and/or with a pending normal variate.
gant::rng used(int uniforms, int normals) {
    gant::rng r(test_seed(), 3);
    for (int i = 0; i < uniforms; ++i) (void)r.uniform();
    for (int i = 0; i < normals; ++i) (void)r.normal();
    return r;
}

void check_normals(gant::rng r, std::size_t count) {
    const gant::rng::full_state before = r.state();
    std::vector<float> expected(count);
    for (auto& x : expected) x = float(r.normal());

    gant::rng device(0);
    device.set_state(before);
    std::vector<float> got(count, std::numeric_limits<float>::quiet_NaN());
    gant::cuda::detail::fill_normal_pass(gant::cuda::detail::host_exec{}, device, got.data(), count);
    BOOST_TEST(differences(got.data(), expected.data(), count) == 0u);
    BOOST_TEST((device.state() == r.state()));
    // and the generator goes on as the CPU's would
    BOOST_TEST(device.normal() == r.normal());
    BOOST_TEST(device.uniform() == r.uniform());
}

void check_uniforms(gant::rng r, std::size_t count, double lo, double hi) {
    const gant::rng::full_state before = r.state();
    std::vector<float> expected(count);
    for (auto& x : expected) x = float(lo + (hi - lo) * r.uniform());
    gant::rng device(0);
    device.set_state(before);
    std::vector<float> got(count, std::numeric_limits<float>::quiet_NaN());
    gant::cuda::detail::fill_uniform_pass(gant::cuda::detail::host_exec{}, device, got.data(), count, lo, hi);
    BOOST_TEST(differences(got.data(), expected.data(), count) == 0u);
    BOOST_TEST((device.state() == r.state()));
    BOOST_TEST(device.normal() == r.normal());
}

}  // namespace

BOOST_AUTO_TEST_CASE(normals_from_every_kind_of_state) {
    // fresh; mid-block (a uniform took 2 of a block's 4 words); a pending variate; both
    for (const auto& [uniforms, normals] : {std::pair{0, 0}, {1, 0}, {0, 1}, {1, 1}, {3, 3}, {2, 2}})
        for (std::size_t count :
             {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(64), std::size_t(6401)})
            check_normals(used(uniforms, normals), count);
}

BOOST_AUTO_TEST_CASE(uniforms_from_every_kind_of_state) {
    for (const auto& [uniforms, normals] : {std::pair{0, 0}, {1, 0}, {0, 1}, {3, 1}})
        for (std::size_t count : {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(64), std::size_t(999)}) {
            check_uniforms(used(uniforms, normals), count, 0.0, 1.0);
            check_uniforms(used(uniforms, normals), count, -0.5, 2.0);
        }
}

// The shared Philox against the published known-answer vectors (Random123's kat_vectors,
// philox4x32 10 rounds): counter and key all zero, and all ones.
BOOST_AUTO_TEST_CASE(philox_known_answers) {
    const gant::philox::block zero = gant::philox::generate(0, 0, 0);
    BOOST_TEST(zero.word[0] == 0x6627e8d5u);
    BOOST_TEST(zero.word[1] == 0xe169c58du);
    BOOST_TEST(zero.word[2] == 0xbc57ac4cu);
    BOOST_TEST(zero.word[3] == 0x9b00dbd8u);
    const gant::philox::block ones = gant::philox::generate(~0ULL, ~0ULL, ~0ULL);
    BOOST_TEST(ones.word[0] == 0x408f276du);
    BOOST_TEST(ones.word[1] == 0x41c83b0eu);
    BOOST_TEST(ones.word[2] == 0xa20bc7c6u);
    BOOST_TEST(ones.word[3] == 0x6d5451fdu);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA element-wise reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
