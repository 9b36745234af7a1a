#define BOOST_TEST_MODULE gant_cuda_training_reference
#include "support/test_framework.hpp"
// What can be checked of the device training pieces without a GPU:
//   * the functors the training kernels run (gant/cuda/detail/training_ops.hpp), element by
//     element on the CPU, against the gant CPU code they stand in for: SGD against
//     optim::sgd_rule in every configuration over several steps, clamping against
//     lipschitz::weight_clip, the non-finite test against std::isfinite;
//   * sum_squares' fixed summation order (support/sum_squares_replay.hpp, which
//     test_cuda_training holds the kernel to bit for bit) against exact sums;
//   * the argument checks of the entry points, which refuse before anything reaches the GPU;
//   * device_optimizer_slot's configuration against optimizer_slot's: the same settings and the
//     same refusal sentences.
// This build has no -march flags, so the CPU does no fused multiply-adds, and the kernels are
// compiled with -fmad=false: every comparison of a functor is exact (NaN matching NaN).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/training_ops.hpp"
#include "gant/cuda/train/device_optimizer.hpp"
#include "gant/cuda/train/reductions.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/optim/sgd.hpp"
#include "gant/train/optimizer_slot.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/sum_squares_replay.hpp"

namespace {

using namespace gant::cuda::testing;
namespace detail = gant::cuda::detail;

const float nan_value = std::numeric_limits<float>::quiet_NaN();
const float inf = std::numeric_limits<float>::infinity();

std::size_t count_nan(const std::vector<float>& v) {
    std::size_t n = 0;
    for (float x : v) n += std::isnan(x) ? 1 : 0;
    return n;
}

/// The message of the std::invalid_argument that f throws ("" when it throws none).
template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(training_functors_against_gant_cpu)

// Five updates in every SGD configuration: plain, momentum, dampening with weight decay,
// Nesterov. The momentum buffers start as NaN on both sides: the first step must set them
// without reading them (PyTorch's buffer starts at d), or NaN reaches the parameters.
BOOST_AUTO_TEST_CASE(sgd_updates) {
    for (const gant::optim::sgd_params hp :
         {gant::optim::sgd_params{.lr = 1e-2}, gant::optim::sgd_params{.lr = 5e-3, .momentum = 0.9},
          gant::optim::sgd_params{.lr = 2e-3, .momentum = 0.5, .dampening = 0.3, .weight_decay = 0.01},
          gant::optim::sgd_params{.lr = 1e-2, .momentum = 0.9, .weight_decay = 0.05, .nesterov = true}}) {
        gant::optim::sgd_rule::check(hp);
        const bool momentum = gant::optim::sgd_rule::uses(hp)[0];
        const std::size_t n = 611;
        std::vector<float> p = uniform_values(n, test_seed(), -1, 1), buf(n, nan_value);
        std::vector<float> p2 = p, buf2 = buf;
        const gant::cuda::sgd_settings s{hp.lr, hp.momentum, hp.dampening, hp.weight_decay, hp.nesterov};
        for (std::uint64_t step = 1; step <= 5; ++step) {
            const std::vector<float> g = uniform_values(n, test_seed() + 30 + step, -2, 2);
            gant::optim::sgd_rule::update(hp, step, p.data(), g.data(), n,
                                          std::array<float*, 1>{momentum ? buf.data() : nullptr});
            emulate(detail::sgd_op{detail::make_sgd_constants(s, step), p2.data(), g.data(),
                                   momentum ? buf2.data() : nullptr},
                    n);
        }
        BOOST_TEST(differences(p2.data(), p.data(), n) == 0u);
        BOOST_TEST(differences(buf2.data(), buf.data(), n) == 0u);
        BOOST_TEST(count_nan(p2) == 0u);
        BOOST_TEST(count_nan(buf2) == (momentum ? 0u : n));
    }
}

// lipschitz::weight_clip on a network against clamp_op over the same values, with the values
// std::clamp must get right: NaN kept, infinities and values past the bound clipped, -0, the
// bounds themselves, denormals.
BOOST_AUTO_TEST_CASE(clamping_is_weight_clip) {
    using net =
        gant::network<gant::shape<5>, float, gant::backend::cpu, gant::dense<5, 9>, gant::relu, gant::dense<9, 3>>;
    const float c = float(0.05);
    const std::vector<float> specials{
        nan_value, inf, -inf, 0.f, -0.f, c, -c, 0.0500001f, -0.0500001f, 1e-40f, -1e-40f, std::nextafter(c, 0.f), 3.f};
    net n;
    std::uint64_t k = 0;
    n.visit_parameters([&](gant::parameter<float>& p) {
        const auto v = uniform_values(p.size(), test_seed() + 50 + k++, -0.1, 0.1);
        std::copy(v.begin(), v.end(), p.data());
        for (std::size_t i = 0; i < specials.size() && i < p.size(); ++i) p.value[i] = specials[i];
    });
    std::vector<std::vector<float>> mine;
    n.visit_parameters([&](gant::parameter<float>& p) { mine.emplace_back(p.data(), p.data() + p.size()); });
    gant::lipschitz::weight_clip clip;
    clip.p.clip = 0.05;
    clip.after_critic_step(n);
    k = 0;
    std::size_t bad = 0, nans = 0;
    n.visit_parameters([&](gant::parameter<float>& p) {
        emulate(detail::clamp_op{-c, c, mine[k].data()}, p.size());
        bad += differences(mine[k].data(), p.data(), p.size());
        nans += count_nan(mine[k]);
        ++k;
    });
    BOOST_TEST(k == 4u);
    BOOST_TEST(bad == 0u);
    BOOST_TEST(nans == 4u);  // one NaN per parameter survives, as std::clamp keeps it
}

BOOST_AUTO_TEST_CASE(fill_writes_the_value_bits) {
    std::vector<float> v(37, 1.f);
    emulate(detail::fill_op{-0.f, v.data()}, v.size());
    for (float x : v) BOOST_TEST(std::signbit(x));
    BOOST_TEST(differences(v.data(), std::vector<float>(37, -0.f).data(), v.size()) == 0u);
}

// The bit test against std::isfinite: special values and a spread of random bit patterns.
BOOST_AUTO_TEST_CASE(nonfinite_test_is_not_isfinite) {
    std::vector<float> values{nan_value,
                              -nan_value,
                              inf,
                              -inf,
                              0.f,
                              -0.f,
                              1e-45f,
                              std::numeric_limits<float>::max(),
                              -std::numeric_limits<float>::max(),
                              std::numeric_limits<float>::signaling_NaN()};
    gant::rng r(test_seed(), 13);
    for (int i = 0; i < 200000; ++i) {
        const std::uint32_t bits = std::uint32_t(r.uniform(0.0, 4294967296.0));
        float v;
        std::memcpy(&v, &bits, sizeof v);
        values.push_back(v);
    }
    std::size_t bad = 0, nonfinite = 0;
    for (float v : values) {
        bad += detail::is_nonfinite(v) == !std::isfinite(v) ? 0 : 1;
        nonfinite += detail::is_nonfinite(v) ? 1 : 0;
    }
    BOOST_TEST(bad == 0u);
    BOOST_TEST(nonfinite >= 5u);  // the specials at least
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sum_squares_fixed_order)

// Every element in exactly one block, no empty block, at most 128 blocks, one block up to 32768.
BOOST_AUTO_TEST_CASE(plan_covers_every_element_once) {
    for (std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(255), std::size_t(256), std::size_t(257),
                          std::size_t(32768), std::size_t(32769), std::size_t(65536), std::size_t(65537),
                          std::size_t(128) * 32768, std::size_t(128) * 32768 + 1, std::size_t(10000019)}) {
        const std::size_t blocks = detail::sum_squares_blocks(n), chunk = detail::sum_squares_chunk(n);
        BOOST_TEST(blocks >= 1u);
        BOOST_TEST(blocks <= detail::sum_squares_max_blocks);
        BOOST_TEST((blocks == 1) == (n <= detail::sum_squares_min_block_elements), "n = " << n);
        BOOST_TEST(blocks * chunk >= n, "n = " << n);
        BOOST_TEST((blocks - 1) * chunk < n, "n = " << n);
    }
}

// On multiples of 1/8 in [-2, 2] every square and every partial sum is exact in double, so the
// replay must give the exact sum: an element missed or counted twice changes it by 1/64 or more.
BOOST_AUTO_TEST_CASE(replay_is_the_exact_sum_on_exact_data) {
    data_source source(test_seed());
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(256), std::size_t(1000),
                          std::size_t(32768), std::size_t(32769), std::size_t(100003), std::size_t(5000011)}) {
        const std::vector<float> x = source.make(n, data_kind::exact);
        std::uint64_t sixty_fourths = 0;
        for (float v : x) {
            const auto eighths = std::int64_t(v * 8.f);
            sixty_fourths += std::uint64_t(eighths * eighths);
        }
        const double exact = 0.5 + double(sixty_fourths) / 64.0;
        BOOST_TEST(replay_sum_squares(x.data(), n, 0.5) == exact, "n = " << n);
    }
}

BOOST_AUTO_TEST_CASE(replay_is_close_to_a_long_double_sum) {
    for (std::size_t n : {std::size_t(1000), std::size_t(70001), std::size_t(4000037)}) {
        const std::vector<float> x = uniform_values(n, test_seed() + 60, -3, 3);
        long double reference = 0;
        for (float v : x) reference += (long double)v * (long double)v;
        const double got = replay_sum_squares(x.data(), n, 0.0);
        BOOST_TEST(std::abs(double(got - reference)) <= 1e-13 * double(reference), "n = " << n);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// Refused before any CUDA call, so these run without a GPU.
BOOST_AUTO_TEST_CASE(entry_points_refuse_bad_arguments) {
    float dummy = 0.f;
    double sum = 0.0;
    unsigned long long count = 0;
    const gant::cuda::sgd_settings momentum{.lr = 0.1, .momentum = 0.9};
    BOOST_TEST(refusal([&] { gant::cuda::sgd_update({}, 0, &dummy, &dummy, nullptr, 1); }) ==
               "gant::cuda::sgd_update: the step count starts at 1");
    BOOST_TEST(refusal([&] { gant::cuda::sgd_update(momentum, 1, &dummy, &dummy, nullptr, 1); }) ==
               "gant::cuda::sgd_update: momentum != 0 needs the momentum buffer");
    BOOST_TEST(refusal([&] { gant::cuda::sgd_update({}, 1, nullptr, &dummy, nullptr, 1); }) ==
               "gant::cuda::sgd_update: the parameter or gradient pointer is null");
    BOOST_TEST(refusal([&] { gant::cuda::clamp_values(&dummy, 1, 1.f, -1.f); }) ==
               "gant::cuda::clamp_values: the bounds must be numbers with lo <= hi");
    BOOST_TEST(refusal([&] { gant::cuda::clamp_values(&dummy, 1, nan_value, 1.f); }) ==
               "gant::cuda::clamp_values: the bounds must be numbers with lo <= hi");
    BOOST_TEST(refusal([&] { gant::cuda::fill_values(nullptr, 3, 0.f); }) ==
               "gant::cuda::fill_values: the pointer is null");
    BOOST_TEST(refusal([&] { gant::cuda::sum_squares(&dummy, 1, nullptr); }) ==
               "gant::cuda::sum_squares: the output pointer is null");
    BOOST_TEST(refusal([&] { gant::cuda::sum_squares(nullptr, 1, &sum); }) ==
               "gant::cuda::sum_squares: the input pointer is null");
    BOOST_TEST(refusal([&] { gant::cuda::count_nonfinite(&dummy, 1, nullptr); }) ==
               "gant::cuda::count_nonfinite: the output pointer is null");
    BOOST_TEST(refusal([&] { gant::cuda::count_nonfinite(nullptr, 1, &count); }) ==
               "gant::cuda::count_nonfinite: the input pointer is null");
    // Empty ranges launch nothing and need no pointers.
    BOOST_TEST(refusal([&] { gant::cuda::sgd_update(momentum, 1, nullptr, nullptr, nullptr, 0); }).empty());
    BOOST_TEST(refusal([&] { gant::cuda::clamp_values(nullptr, 0, -1.f, 1.f); }).empty());
}

BOOST_AUTO_TEST_SUITE(device_optimizer_slot_configuration)

BOOST_AUTO_TEST_CASE(defaults_are_the_host_slots) {
    const gant::optimizer_slot<float> host;
    const gant::cuda::device_optimizer_slot<float> device;
    BOOST_TEST(int(device.kind()) == int(host.kind()));
    BOOST_TEST(device.steps() == 0u);
    BOOST_TEST(device.learning_rate() == host.learning_rate());
}

BOOST_AUTO_TEST_CASE(configure_sets_what_the_host_slot_sets) {
    for (gant::optimizer_kind kind :
         {gant::optimizer_kind::adam, gant::optimizer_kind::rmsprop, gant::optimizer_kind::sgd}) {
        gant::hyper_parameters h;
        h.optimizer = kind;
        h.momentum = 0.5;
        gant::optimizer_slot<float> host;
        gant::cuda::device_optimizer_slot<float> device;
        host.configure(h, 3e-4);
        device.configure(h, 3e-4);
        BOOST_TEST(int(device.kind()) == int(kind));
        BOOST_TEST(device.learning_rate() == host.learning_rate());
        BOOST_TEST(device.learning_rate() == 3e-4);
        BOOST_TEST(device.steps() == 0u);
    }
}

// Each bad value is refused with the host slot's sentence, and the device slot keeps its
// previous settings.
BOOST_AUTO_TEST_CASE(bad_settings_give_the_host_sentences_and_change_nothing) {
    struct bad_case {
        const char* what;
        void (*spoil)(gant::hyper_parameters&, double&);
    };
    const bad_case cases[] = {
        {"beta1 = 1", [](gant::hyper_parameters& h, double&) { h.beta1 = 1.0; }},
        {"beta2 < 0", [](gant::hyper_parameters& h, double&) { h.beta2 = -0.1; }},
        {"eps < 0", [](gant::hyper_parameters& h, double&) { h.eps = -1e-8; }},
        {"alpha < 0", [](gant::hyper_parameters& h, double&) { h.rmsprop_alpha = -0.5; }},
        {"momentum < 0", [](gant::hyper_parameters& h, double&) { h.momentum = -0.9; }},
        {"lr < 0", [](gant::hyper_parameters&, double& lr) { lr = -1.0; }},
    };
    for (const bad_case& c : cases) {
        gant::hyper_parameters good;
        good.optimizer = gant::optimizer_kind::rmsprop;
        gant::cuda::device_optimizer_slot<float> device;
        device.configure(good, 5e-5);
        gant::hyper_parameters bad = good;
        bad.optimizer = gant::optimizer_kind::sgd;
        double lr = 1e-3;
        c.spoil(bad, lr);
        gant::optimizer_slot<float> host;
        const std::string host_sentence = refusal([&] { host.configure(bad, lr); });
        const std::string device_sentence = refusal([&] { device.configure(bad, lr); });
        BOOST_TEST(!host_sentence.empty(), c.what);
        BOOST_TEST(device_sentence == host_sentence, c.what);
        BOOST_TEST(int(device.kind()) == int(gant::optimizer_kind::rmsprop), c.what);
        BOOST_TEST(device.learning_rate() == 5e-5, c.what);
    }
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA training reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
