#define BOOST_TEST_MODULE gant_cuda_emulation
#include "support/test_framework.hpp"
// The CUDA convolution kernels' index arithmetic, checked without a GPU: the loaders, shared
// tile layouts, epilogues, split reductions and launch plans of gant/cuda/detail/igemm.hpp run
// thread by thread on the CPU (support/emulate.hpp) for every pass, every tile configuration
// and split, on odd sizes and on the DCGAN layers, against the double-precision reference.
// Exact data (multiples of 1/8) must come out bit for bit; uniform data within the TF32 bound.
// Also here: the fast division, TF32 rounding, the allocator's size classes, the argument
// checks and the format of GANT_CUDA_CHECK's message, none of which need a device.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "gant/cuda/allocator.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/conv.hpp"
#include "gant/cuda/detail/plan.hpp"
#include "support/dcgan_shapes.hpp"
#include "support/emulate.hpp"
#include "support/pass_cases.hpp"

namespace {

using namespace gant::cuda;
using namespace gant::cuda::testing;

/// Runs a pass through the emulated kernel with a given plan choice; returns the output.
std::vector<float> emulate_pass(const pass_data& d, const kernel_choice& choice, detail::launch_plan* used = nullptr) {
    std::vector<float> out = d.old;
    if (out.empty()) out.assign(d.output_size, std::numeric_limits<float>::quiet_NaN());
    const conv_epilogue e =
        d.epilogue(d.bias.data(), d.chain.output.data(), d.chain.curvature_a.data(), d.chain.curvature_b.data());
    const detail::device_shape device;  // an H100 as the planner's defaults describe it
    detail::launch_plan plan;
    switch (d.pass) {
        case conv_pass::forward: {
            const auto p = detail::make_fprop(d.problem, d.a.data(), d.b.data(), out.data(), e);
            plan = detail::choose_plan(detail::extent_of(p), device, choice);
            emulate<detail::fprop_op>(p, plan);
            break;
        }
        case conv_pass::backward_data: {
            const auto p = detail::make_dgrad(d.problem, d.a.data(), d.b.data(), out.data(), e);
            plan = detail::choose_plan(detail::extent_of(p), device, choice);
            emulate<detail::dgrad_op>(p, plan);
            break;
        }
        case conv_pass::backward_filter: {
            const auto p = detail::make_wgrad(d.problem, d.a.data(), d.b.data(), out.data(), d.alpha, d.beta);
            plan = detail::choose_plan(detail::extent_of(p), device, choice);
            emulate<detail::wgrad_op>(p, plan);
            break;
        }
    }
    if (used) *used = plan;
    return out;
}

bool check_pass(const pass_data& d, const kernel_choice& choice) {
    detail::launch_plan plan;
    const std::vector<float> out = emulate_pass(d, choice, &plan);
    const comparison c = compare(out, d.expected, d.magnitude, d.kind, d.alpha);
    if (!c.ok)
        BOOST_ERROR(d.describe() << ", " << config_name(plan.config) << " splits " << plan.splits << ": " << c.detail
                                 << " (seed " << test_seed() << ")");
    return c.ok;
}

constexpr conv_pass all_passes[] = {conv_pass::forward, conv_pass::backward_data, conv_pass::backward_filter};

}  // namespace

BOOST_AUTO_TEST_SUITE(helpers)

BOOST_AUTO_TEST_CASE(fast_divmod_is_exact) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> any(0, std::numeric_limits<int>::max());
    std::vector<int> divisors;
    for (int d = 1; d <= 300; ++d) divisors.push_back(d);
    for (int d : {511, 512, 513, 1023, 4096, 12544, 50176, 65535, 65536, 1 << 20, (1 << 30) + 3,
                  std::numeric_limits<int>::max()})
        divisors.push_back(d);
    int wrong = 0;
    for (int d : divisors) {
        const gant::cuda::detail::fast_divmod f(d);
        auto check = [&](int x) {
            int q, r;
            f.divmod(x, q, r);
            if (q != x / d || r != x % d) ++wrong;
        };
        for (int x = 0; x < 5000; ++x) check(x);
        for (int x = std::numeric_limits<int>::max() - 2000; x > 0 && x <= std::numeric_limits<int>::max() - 1; ++x)
            check(x);
        check(std::numeric_limits<int>::max());
        for (int i = 0; i < 20000; ++i) check(any(rng));
        for (int k = 1; k < 64 && 1LL * k * d < std::numeric_limits<int>::max(); ++k) {  // around multiples
            check(k * d);
            check(k * d - 1);
            if (1LL * k * d + 1 <= std::numeric_limits<int>::max()) check(k * d + 1);
        }
    }
    BOOST_TEST(wrong == 0);
}

BOOST_AUTO_TEST_CASE(tf32_rounding_is_nearest_ties_away) {
    using gant::cuda::detail::round_tf32;
    const float ulp = std::ldexp(1.f, -10);  // TF32's spacing in [1, 2)
    BOOST_TEST(round_tf32(1.f) == 1.f);
    BOOST_TEST(round_tf32(1.f + ulp / 4) == 1.f);
    BOOST_TEST(round_tf32(1.f + ulp / 2) == 1.f + ulp);  // a tie goes away from zero
    BOOST_TEST(round_tf32(-(1.f + ulp / 2)) == -(1.f + ulp));
    BOOST_TEST(round_tf32(1.f + 3 * ulp / 4) == 1.f + ulp);
    BOOST_TEST(round_tf32(0.375f) == 0.375f);  // test data (multiples of 1/8) is kept exactly
    BOOST_TEST(round_tf32(-1.875f) == -1.875f);
    BOOST_TEST(std::isnan(round_tf32(std::numeric_limits<float>::quiet_NaN())));
    BOOST_TEST(round_tf32(std::numeric_limits<float>::infinity()) == std::numeric_limits<float>::infinity());
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-100.f, 100.f);
    double worst = 0;
    for (int i = 0; i < 100000; ++i) {
        const float v = u(rng);
        if (v != 0) worst = std::max(worst, std::abs(double(round_tf32(v)) - v) / std::abs(double(v)));
    }
    BOOST_TEST(worst <= std::ldexp(1.0, -11));  // the bound the tests' tolerance starts from
}

BOOST_AUTO_TEST_CASE(allocator_size_classes) {
    using gant::cuda::caching_allocator;
    BOOST_TEST(caching_allocator::size_class(0) == 0u);
    BOOST_TEST(caching_allocator::size_class(1) == 512u);
    BOOST_TEST(caching_allocator::size_class(512) == 512u);
    BOOST_TEST(caching_allocator::size_class(513) == 640u);
    BOOST_TEST(caching_allocator::size_class(1000) == 1024u);
    BOOST_TEST(caching_allocator::size_class(1025) == 1280u);
    std::size_t previous = 0;
    bool ok = true;
    for (std::size_t bytes = 1; bytes < (std::size_t(1) << 26); bytes += bytes / 7 + 1) {
        const std::size_t c = caching_allocator::size_class(bytes);
        ok = ok && c >= bytes && c >= previous && c % 128 == 0;
        if (bytes > 512) ok = ok && double(c) <= 1.25 * double(bytes) + 1;
        previous = c;
    }
    BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(plans_are_well_formed) {
    using namespace gant::cuda::detail;
    bool ok = true;
    for (int k_tiles = 1; k_tiles <= 100; ++k_tiles)
        for (int splits = 1; splits <= 40; ++splits) {
            const launch_plan plan = make_plan({64, 100, k_tiles * 32, 1}, 0, splits);
            ok = ok && plan.splits >= 1 && plan.splits <= std::min(splits, k_tiles);
            int begin, end;
            split_range(k_tiles, plan.splits, plan.splits - 1, begin, end);  // the last split is not empty
            ok = ok && begin < end;
            int covered = 0;
            for (int s = 0; s < plan.splits; ++s) {
                split_range(k_tiles, plan.splits, s, begin, end);
                covered += end - begin;
            }
            ok = ok && covered == k_tiles;
        }
    BOOST_TEST(ok);
    // Forced choices are kept; the heuristic picks some configuration for every DCGAN layer.
    const gemm_extent g{128, 3136, 1024, 1};
    const launch_plan forced = choose_plan(g, device_shape{}, {3, 2});
    BOOST_TEST(forced.config == 3);
    BOOST_TEST(forced.splits == 2);
    for (int network : {28, 64})
        for (int batch : {64, 256})
            for (const auto& c : dcgan_convs(network, batch)) {
                const launch_plan plan = choose_plan(extent_of(make_fprop(c.problem, nullptr, nullptr, nullptr, {})),
                                                     device_shape{}, {});
                BOOST_TEST((plan.config >= 0 && plan.config < config_total && plan.splits >= 1));
            }
}

BOOST_AUTO_TEST_CASE(invalid_problems_are_refused_before_any_device_call) {
    BOOST_TEST(cannot_implement({2, 3, 8, 8, 4, 3, 3, 1, 1}).empty());
    BOOST_TEST(!cannot_implement({0, 3, 8, 8, 4, 3, 3, 1, 1}).empty());
    BOOST_TEST(!cannot_implement({2, 3, 8, 8, 4, 3, 3, 0, 1}).empty());
    BOOST_TEST(!cannot_implement({2, 3, 2, 2, 4, 5, 5, 1, 1}).empty());
    BOOST_TEST(!cannot_implement({2, 3, 8, 8, 4, 3, 3, 1, -1}).empty());
    BOOST_TEST(!cannot_implement({4096, 512, 1024, 1024, 4, 3, 3, 1, 1}).empty());  // 2^31 elements
    float dummy = 0;
    BOOST_CHECK_THROW(conv2d_forward({2, 3, 2, 2, 4, 5, 5, 1, 1}, &dummy, &dummy, &dummy), std::invalid_argument);
    BOOST_CHECK_THROW(conv2d_forward({2, 3, 8, 8, 4, 3, 3, 1, 1}, nullptr, &dummy, &dummy), std::invalid_argument);
    BOOST_CHECK_THROW(conv2d_backward_filter({2, 3, 8, 8, 4, 3, 3, 1, 1}, &dummy, &dummy, &dummy, 1.f, 0.f, nullptr,
                                             {config_count(), 1}),
                      std::invalid_argument);
    conv_epilogue chain_without_output;
    chain_without_output.chain = activation::tanh;
    BOOST_CHECK_THROW(conv2d_forward({2, 3, 8, 8, 4, 3, 3, 1, 1}, &dummy, &dummy, &dummy, chain_without_output),
                      std::invalid_argument);
    conv_epilogue half_curvature;
    half_curvature.chain = activation::tanh;
    half_curvature.chain_output = &dummy;
    half_curvature.curvature_a = &dummy;
    BOOST_CHECK_THROW(conv2d_backward_data({2, 3, 8, 8, 4, 3, 3, 1, 1}, &dummy, &dummy, &dummy, half_curvature),
                      std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cuda_check_names_the_call_file_and_error) {
    // Fails with or without a GPU: no device has this number.
    std::string message;
    try {
        GANT_CUDA_CHECK(cudaSetDevice(1 << 20));
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    BOOST_TEST(message.find("cudaSetDevice(1 << 20) failed") != std::string::npos);
    BOOST_TEST(message.find("test_cuda_emulation.cpp:") != std::string::npos);
    BOOST_TEST(message.find("cudaError") != std::string::npos);  // CUDA's name for the error
    BOOST_TEST_MESSAGE("GANT_CUDA_CHECK says: " << message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(emulated_kernels)

// Every pass x every tile configuration x (no split, 3 splits) x epilogue variants, odd sizes.
BOOST_AUTO_TEST_CASE(every_configuration_on_odd_sizes) {
    data_source rng(test_seed());
    int failures = 0, runs = 0;
    for (const auto& c : odd_convs())
        for (conv_pass pass : all_passes)
            for (epilogue_variant v : {epilogue_variant::plain, epilogue_variant::fused, epilogue_variant::accumulate,
                                       epilogue_variant::chain}) {
                const pass_data d = make_pass(c.problem, pass, data_kind::exact, v, rng,
                                              pass == conv_pass::backward_data ? activation::tanh
                                                                               : activation::leaky_relu);
                for (int config = 0; config < config_count(); ++config)
                    for (int splits : {1, 3}) {
                        ++runs;
                        failures += check_pass(d, {config, splits}) ? 0 : 1;
                    }
            }
    BOOST_TEST_MESSAGE(runs << " emulated runs on odd sizes, " << failures << " failed");
    BOOST_TEST(failures == 0);
}

// The DCGAN layers at batch 1 with the heuristic's plan and two forced ones.
BOOST_AUTO_TEST_CASE(dcgan_layers) {
    data_source rng(test_seed() + 1);
    int failures = 0;
    for (int network : {28, 64}) {
        std::vector<named_conv> layers = dcgan_convs(network, 1);
        for (const auto& t : dcgan_conv_transposes(network, 1)) layers.push_back({t.name, t.problem.adjoint()});
        for (const auto& c : layers)
            for (conv_pass pass : all_passes) {
                const pass_data d = make_pass(c.problem, pass, data_kind::exact, epilogue_variant::fused, rng,
                                              activation::relu);
                for (const kernel_choice& choice : {kernel_choice{}, kernel_choice{0, 1}, kernel_choice{5, 2}})
                    failures += check_pass(d, choice) ? 0 : 1;
            }
    }
    BOOST_TEST(failures == 0);
}

// Uniform data: the TF32 rounding (emulated bit for bit) stays within the stated bound.
BOOST_AUTO_TEST_CASE(uniform_data_within_the_tf32_bound) {
    data_source rng(test_seed() + 2);
    int failures = 0;
    pooled_l2 l2;
    for (const auto& c : {odd_convs()[0], odd_convs()[4], dcgan_convs(28, 1)[1]})
        for (conv_pass pass : all_passes)
            for (epilogue_variant v : {epilogue_variant::fused, epilogue_variant::chain}) {
                const pass_data d = make_pass(c.problem, pass, data_kind::uniform, v, rng);
                const std::vector<float> out = emulate_pass(d, {});
                const comparison cmp = compare(out, d.expected, d.magnitude, d.kind, d.alpha);
                l2.add(cmp, d.describe());
                if (!cmp.ok) {
                    ++failures;
                    BOOST_ERROR(d.describe() << ": " << cmp.detail);
                }
            }
    BOOST_TEST_MESSAGE("relative L2 error with emulated TF32 operands, pooled " << l2.relative() << ", largest single "
                                                                                 << l2.worst_single << " in "
                                                                                 << l2.worst_case);
    BOOST_TEST(failures == 0);
    BOOST_TEST(l2.relative() < 1e-3);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA emulation tests, seed " << test_seed() << " (set GANT_TEST_SEED to replay)" << std::endl;
    return run_tests(argc, argv);
}
