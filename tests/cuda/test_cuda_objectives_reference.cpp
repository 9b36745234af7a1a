#define BOOST_TEST_MODULE gant_cuda_objectives_reference
#include "support/test_framework.hpp"
// The functors behind the device losses and penalties (gant/cuda/detail/objective_ops.hpp), run
// on the CPU against gant's own policies: every loss's critic and generator objectives and
// gradients, and the whole gradient-penalty and Wasserstein-divergence pass. For the penalties,
// the device pipeline's steps (uniform eps from the generator's state, interpolation, per-sample
// norms and phi, the direction v, the report) are emulated and fed into the same CPU critic's
// tangent and paired passes, and must give the critic's parameter gradients, the report and the
// generator's state that gradient_penalty::penalize / wasserstein_div::penalize give. No
// -march flags here, so no fused multiply-adds: every comparison is exact. No GPU needed.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/objective_passes.hpp"
#include "gant/cuda/detail/random_passes.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/nn/sequential.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"

namespace {

using namespace gant::cuda::testing;
using gant::cuda::loss_kind;
using gant::cuda::loss_settings;

gant::tensor<float> scores(std::size_t n, std::uint64_t seed, double spread) {
    gant::tensor<float> t = gant::tensor<float>::from_shape({n, 1});
    gant::rng r(seed, 9);
    for (std::size_t i = 0; i < n; ++i) t.data()[i] = float(r.uniform(-spread, spread));
    if (n > 3) {  // the hinge's kinks and the softplus's tails
        t.data()[0] = 1.f;
        t.data()[1] = -1.f;
        t.data()[2] = 40.f;
        t.data()[3] = -40.f;
    }
    return t;
}

/// Policy L's critic and generator objectives against loss_op with `settings`.
template <class L>
void check_loss(const L& policy, const loss_settings& settings) {
    for (const auto& [n_real, n_fake] : {std::pair<std::size_t, std::size_t>{64, 64}, {7, 13}, {1, 1}})
        for (double spread : {3.0, 30.0}) {
            const gant::tensor<float> real = scores(n_real, test_seed(), spread),
                                      fake = scores(n_fake, test_seed() + 1, spread);
            gant::tensor<float> dr = real, df = fake, dg = fake;
            const float critic = policy.critic(real, fake, dr, df);
            const float generator = policy.generator(real, fake, dg);

            std::vector<float> dr2(n_real), df2(n_fake), dg2(n_fake);
            float critic2 = 0, generator2 = 0;
            namespace d = gant::cuda::detail;
            d::critic_loss_pass(d::host_exec{}, settings, real.data(), n_real, fake.data(), n_fake, dr2.data(),
                                df2.data(), &critic2);
            d::generator_loss_pass(d::host_exec{}, settings, fake.data(), n_fake, dg2.data(), &generator2);
            BOOST_TEST(same_bits(critic2, critic));
            BOOST_TEST(same_bits(generator2, generator));
            BOOST_TEST(differences(dr2.data(), dr.data(), n_real) == 0u);
            BOOST_TEST(differences(df2.data(), df.data(), n_fake) == 0u);
            BOOST_TEST(differences(dg2.data(), dg.data(), n_fake) == 0u);
        }
}

constexpr std::size_t features = 12, batch = 9;
using critic_net = gant::network<gant::shape<features>, float, gant::backend::cpu, gant::dense<features, 10>,
                                 gant::tanh, gant::dense<10, 7>, gant::leaky_relu<>, gant::dense<7, 1>>;

critic_net make_critic() {
    critic_net net;
    std::uint64_t k = 0;
    net.visit_parameters([&](gant::parameter<float>& p) {
        gant::rng r(test_seed() + 100 + k++, 1);
        for (std::size_t i = 0; i < p.size(); ++i) p.data()[i] = float(r.uniform(-0.6, 0.6));
    });
    net.zero_grad();
    return net;
}

gant::tensor<float> samples(std::uint64_t seed) {
    gant::tensor<float> t = gant::tensor<float>::from_shape({batch, features});
    gant::rng r(seed, 13);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = float(r.uniform(-1, 1));
    return t;
}

std::vector<float> gradients(critic_net& net) {
    std::vector<float> g;
    net.visit_parameters([&](gant::parameter<float>& p) { g.insert(g.end(), p.grad.begin(), p.grad.end()); });
    return g;
}

/// The device penalty pipeline, emulated, on a CPU critic: returns the report.
std::pair<double, double> emulated_penalty(critic_net& net, const gant::tensor<float>& real,
                                           const gant::tensor<float>& fake, gant::rng& r,
                                           const gant::cuda::penalty_settings& settings) {
    namespace d = gant::cuda::detail;
    const std::size_t n = real.shape(0);
    std::vector<float> eps(n);
    d::fill_uniform_pass(d::host_exec{}, r, eps.data(), n, 0.0, 1.0);
    gant::tensor<float> points = real;
    d::interpolate_pass(d::host_exec{}, real.data(), fake.data(), eps.data(), n, features, points.data());

    const gant::pass_context ctx;
    net.forward(points, ctx);
    gant::tensor<float> ones = gant::tensor<float>::from_shape({n, 1}), zeros = ones, grad;
    std::fill(ones.begin(), ones.end(), 1.f);
    std::fill(zeros.begin(), zeros.end(), 0.f);
    net.backward(ones, &grad, false, ctx);

    std::vector<double> report(2);
    gant::tensor<float> direction = grad;
    d::penalty_direction_pass(d::host_exec{}, settings, grad.data(), n, features, direction.data(), report.data());
    net.forward_tangent(direction, ctx);
    net.backward_paired(zeros, ones, nullptr, nullptr, ctx);
    return {report[0], report[1]};
}

template <class Policy>
void check_penalty(Policy policy, const gant::cuda::penalty_settings& settings) {
    const gant::tensor<float> real = samples(test_seed() + 1), fake = samples(test_seed() + 2);
    critic_net cpu = make_critic(), emulated = make_critic();
    gant::rng r_cpu(test_seed(), 3), r_emulated(test_seed(), 3);
    (void)r_cpu.uniform();  // leave both generators mid-block
    (void)r_emulated.uniform();

    gant::lipschitz::penalty_context<float> c;
    c.random = &r_cpu;
    const gant::lipschitz::penalty_report want = policy.penalize(cpu, real, fake, c);
    const auto [value, mean_norm] = emulated_penalty(emulated, real, fake, r_emulated, settings);

    BOOST_TEST(value == want.value);
    BOOST_TEST(mean_norm == want.mean_grad_norm);
    BOOST_TEST(want.value > 0.0);
    const std::vector<float> g_cpu = gradients(cpu), g_emulated = gradients(emulated);
    BOOST_TEST(g_cpu.size() == g_emulated.size());
    BOOST_TEST(differences(g_emulated.data(), g_cpu.data(), g_cpu.size()) == 0u);
    double largest = 0;
    for (float v : g_cpu) largest = std::max(largest, double(std::abs(v)));
    BOOST_TEST(largest > 0.0);  // the penalty moved the weights' gradients
    BOOST_TEST((r_emulated.state() == r_cpu.state()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(loss_functors_against_gant_policies)

BOOST_AUTO_TEST_CASE(minimax) { check_loss(gant::loss::minimax{}, {.kind = loss_kind::minimax}); }
BOOST_AUTO_TEST_CASE(non_saturating) { check_loss(gant::loss::non_saturating{}, {.kind = loss_kind::non_saturating}); }
BOOST_AUTO_TEST_CASE(least_squares) {
    check_loss(gant::loss::least_squares{}, {.kind = loss_kind::least_squares});
    gant::loss::least_squares pearson;
    pearson.p = gant::loss::least_squares::pearson();
    check_loss(pearson, {.kind = loss_kind::least_squares, .a = -1.0, .b = 1.0, .c = 0.0});
}
BOOST_AUTO_TEST_CASE(wasserstein_with_and_without_drift) {
    check_loss(gant::loss::wasserstein{}, {.kind = loss_kind::wasserstein});
    gant::loss::wasserstein drifted;
    drifted.p.drift = 0.001;
    check_loss(drifted, {.kind = loss_kind::wasserstein, .drift = 0.001});
}
BOOST_AUTO_TEST_CASE(hinge) {
    check_loss(gant::loss::hinge{}, {.kind = loss_kind::hinge});
    gant::loss::hinge wide;
    wide.p.margin = 2.5;
    check_loss(wide, {.kind = loss_kind::hinge, .margin = 2.5});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(penalty_pipeline_against_gant_policies)

BOOST_AUTO_TEST_CASE(gradient_penalty_whole_pass) {
    check_penalty(gant::lipschitz::gradient_penalty{},
                  {.form = gant::cuda::penalty_form::gradient_norm, .scale = 10.0 / double(batch), .target = 1.0});
    gant::lipschitz::gradient_penalty other;
    other.p.lambda = 3.0;
    other.p.target = 0.5;
    check_penalty(other,
                  {.form = gant::cuda::penalty_form::gradient_norm, .scale = 3.0 / double(batch), .target = 0.5});
}

BOOST_AUTO_TEST_CASE(wasserstein_divergence_whole_pass) {
    check_penalty(gant::lipschitz::wasserstein_div{},
                  {.form = gant::cuda::penalty_form::norm_power, .scale = 2.0 / double(batch), .half_power = 3.0});
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA objectives reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
