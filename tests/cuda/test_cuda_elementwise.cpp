#define BOOST_TEST_MODULE gant_cuda_elementwise
#include "support/test_framework.hpp"
// The element-wise kernels (gant/cuda/elementwise.hpp) and the device random numbers
// (gant/cuda/random.hpp) on a GPU, against their own functors run on the CPU
// (detail/elementwise_ops.hpp), which test_cuda_elementwise_reference checks against gant's CPU
// layers, optimizers and rng. Outputs are poisoned with NaN before each launch, sizes are odd
// and larger than the kernels' grid cap (so the grid-stride loop wraps), and every call runs on
// a non-default stream.
//
// Tolerances: the activations' relu/leaky/identity passes and the random words are exact; tanh
// forward uses the device's tanhf (within 2 ulp of the CPU's, checked as 3e-7), its other passes
// read the CPU's y; the kernels are compiled without multiply-add contraction (-fmad=false, see
// cuda/CMakeLists.txt), so Adam, RMSprop and the EMA do the CPU's operations and must agree bit
// for bit after several steps (as they did on an H100, 2026-11-27); normals use the device's
// double log, sin and cos, so each float may differ by 1 ulp (checked as 2e-7 relative; they
// agreed exactly on that H100). Every non-zero difference is
// printed (GANT_CHECK_DIFFERENCE), so the log shows how close each result came.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77, which
// CTest reports as skipped.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/elementwise_ops.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/cuda/random.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"

namespace {

using namespace gant::cuda;
using namespace gant::cuda::testing;

std::vector<float> inputs(std::size_t n, std::uint64_t seed, double lo, double hi) {
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> v{0.f, -0.f, 1.f, -1.f, inf, -inf, std::numeric_limits<float>::quiet_NaN()};
    gant::rng r(seed, 5);
    while (v.size() < n) v.push_back(float(r.uniform(lo, hi)));
    v.resize(n);
    return v;
}

// Past the 8192 x 256 grid cap, so each thread does more than one element.
constexpr std::size_t big = 8192 * 256 + 4099;

void check_activation(activation phi, float slope, double tolerance) {
    const std::size_t n = big;
    const std::vector<float> a = inputs(n, test_seed(), -4, 4), adot = inputs(n, test_seed() + 1, -2, 2),
                             ybar = inputs(n, test_seed() + 2, -2, 2), ydotbar = inputs(n, test_seed() + 3, -2, 2);
    const detail::activation_math math{phi, slope};
    std::vector<float> y(n), da(n), ydot(n), abar(n), adotbar(n);
    emulate(detail::activation_forward_op{math, a.data(), y.data()}, n);
    emulate(detail::activation_backward_op{math, a.data(), y.data(), ybar.data(), da.data()}, n);
    emulate(detail::activation_tangent_op{math, a.data(), y.data(), adot.data(), ydot.data()}, n);
    emulate(detail::activation_paired_op{math, a.data(), y.data(), adot.data(), ybar.data(), ydotbar.data(),
                                         abar.data(), adotbar.data()},
            n);

    device_buffer<float> da_ = upload(a), dadot = upload(adot), dybar = upload(ybar), dydotbar = upload(ydotbar);
    device_buffer<float> dy = poisoned<float>(n), dda = poisoned<float>(n), dydot = poisoned<float>(n),
                         dabar = poisoned<float>(n), dadotbar = poisoned<float>(n), dadotbar_only = poisoned<float>(n);
    activation_forward(phi, slope, da_.data(), dy.data(), n, test_stream());
    const device_buffer<float> y_cpu = upload(y);  // the later passes read the CPU's y, so each pass is checked alone
    activation_backward(phi, slope, da_.data(), y_cpu.data(), dybar.data(), dda.data(), n, test_stream());
    activation_tangent(phi, slope, da_.data(), y_cpu.data(), dadot.data(), dydot.data(), n, test_stream());
    activation_paired(phi, slope, da_.data(), y_cpu.data(), dadot.data(), dybar.data(), dydotbar.data(), dabar.data(),
                      dadotbar.data(), n, test_stream());
    activation_paired(phi, slope, da_.data(), y_cpu.data(), nullptr, nullptr, dydotbar.data(), nullptr,
                      dadotbar_only.data(), n, test_stream());
    GANT_CHECK_DIFFERENCE(dy.to_host(), y, tolerance);
    GANT_CHECK_DIFFERENCE(dda.to_host(), da, tolerance);
    GANT_CHECK_DIFFERENCE(dydot.to_host(), ydot, tolerance);
    GANT_CHECK_DIFFERENCE(dabar.to_host(), abar, tolerance);
    GANT_CHECK_DIFFERENCE(dadotbar.to_host(), adotbar, tolerance);
    GANT_CHECK_DIFFERENCE(dadotbar_only.to_host(), adotbar, tolerance);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(elementwise_kernels_on_the_gpu)

BOOST_AUTO_TEST_CASE(relu) { check_activation(activation::relu, 0.f, 0.0); }
BOOST_AUTO_TEST_CASE(leaky_relu) { check_activation(activation::leaky_relu, 0.2f, 0.0); }
BOOST_AUTO_TEST_CASE(tanh) { check_activation(activation::tanh, 0.f, 3e-7); }
BOOST_AUTO_TEST_CASE(identity) { check_activation(activation::none, 0.f, 0.0); }

BOOST_AUTO_TEST_CASE(adam_and_amsgrad) {
    for (bool amsgrad : {false, true}) {
        const std::size_t n = big;
        const adam_settings s{2e-4, 0.5, 0.999, 1e-8, amsgrad ? 0.01 : 0.0};
        std::vector<float> p = inputs(n, test_seed() + 4, -1, 1), m(n, 0.f), v(n, 0.f), vmax(n, 0.f);
        for (std::size_t i = 0; i < 7; ++i) p[i] = 0.5f;  // no NaN or infinity in parameters
        device_buffer<float> dp = upload(p), dm = upload(m), dv = upload(v), dvmax = upload(vmax);
        for (std::uint64_t step = 1; step <= 4; ++step) {
            std::vector<float> g = inputs(n, test_seed() + 10 + step, -3, 3);
            for (std::size_t i = 0; i < 7; ++i) g[i] = 0.25f;
            emulate(detail::adam_op{detail::make_adam_constants(s, step), p.data(), g.data(), m.data(), v.data(),
                                    amsgrad ? vmax.data() : nullptr},
                    n);
            const device_buffer<float> dg = upload(g);
            adam_update(s, step, dp.data(), dg.data(), dm.data(), dv.data(), amsgrad ? dvmax.data() : nullptr, n,
                        test_stream());
        }
        GANT_CHECK_DIFFERENCE(dp.to_host(), p, 0.0);
        GANT_CHECK_DIFFERENCE(dm.to_host(), m, 0.0);
        GANT_CHECK_DIFFERENCE(dv.to_host(), v, 0.0);
        if (amsgrad) GANT_CHECK_DIFFERENCE(dvmax.to_host(), vmax, 0.0);
    }
}

BOOST_AUTO_TEST_CASE(rmsprop_every_configuration) {
    for (int config = 0; config < 4; ++config) {
        const bool centered = config & 1, momentum = config & 2;
        const std::size_t n = 100003;
        const rmsprop_settings s{5e-5, 0.99, 1e-8, 0.0, momentum ? 0.9 : 0.0};
        std::vector<float> p = inputs(n, test_seed() + 5, -1, 1), sq(n, 0.f), buf(n, 0.f), mean(n, 0.f);
        for (std::size_t i = 0; i < 7; ++i) p[i] = 0.5f;
        device_buffer<float> dp = upload(p), dsq = upload(sq), dbuf = upload(buf), dmean = upload(mean);
        for (int step = 1; step <= 3; ++step) {
            std::vector<float> g = inputs(n, test_seed() + 20 + std::uint64_t(step), -3, 3);
            for (std::size_t i = 0; i < 7; ++i) g[i] = -0.25f;
            emulate(detail::rmsprop_op{detail::make_rmsprop_constants(s), p.data(), g.data(), sq.data(),
                                       momentum ? buf.data() : nullptr, centered ? mean.data() : nullptr},
                    n);
            const device_buffer<float> dg = upload(g);
            rmsprop_update(s, dp.data(), dg.data(), dsq.data(), momentum ? dbuf.data() : nullptr,
                           centered ? dmean.data() : nullptr, n, test_stream());
        }
        GANT_CHECK_DIFFERENCE(dp.to_host(), p, 0.0);
        GANT_CHECK_DIFFERENCE(dsq.to_host(), sq, 0.0);
    }
}

BOOST_AUTO_TEST_CASE(generator_moving_average) {
    const std::size_t n = big;
    std::vector<float> average = inputs(n, test_seed() + 6, -1, 1), weights = inputs(n, test_seed() + 7, -1, 1);
    device_buffer<float> da = upload(average), dw = upload(weights);
    emulate(detail::ema_op{float(0.999), float(1.0 - 0.999), average.data(), weights.data()}, n);
    ema_update(0.999, da.data(), dw.data(), n, test_stream());
    GANT_CHECK_DIFFERENCE(da.to_host(), average, 0.0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
    device_buffer<float> b(16, test_stream());
    bool refused = false;
    try {
        activation_forward(activation::relu, 0.f, nullptr, b.data(), 16, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("activation_forward") != std::string::npos;
    }
    BOOST_TEST(refused);
    refused = false;
    try {
        adam_update({}, 0, b.data(), b.data(), b.data(), b.data(), nullptr, 16, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("step") != std::string::npos;
    }
    BOOST_TEST(refused);
    activation_forward(activation::relu, 0.f, nullptr, nullptr, 0, test_stream());  // nothing to do: fine
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(device_random_numbers)

// Latent codes as gan<...> draws them: the same floats as the CPU generator, which then
// continues identically. Counts cover a pending variate, an odd count and the grid cap.
BOOST_AUTO_TEST_CASE(normals_match_the_cpu_generator) {
    for (std::size_t count : {std::size_t(1), std::size_t(6400), std::size_t(6401), std::size_t(big)}) {
        for (int pending = 0; pending < 2; ++pending) {
            gant::rng cpu(test_seed(), 2), gpu(test_seed(), 2);
            (void)cpu.uniform();  // mid-block
            (void)gpu.uniform();
            if (pending) {
                (void)cpu.normal();
                (void)gpu.normal();
            }
            std::vector<float> want(count);
            for (auto& x : want) x = float(cpu.normal());
            device_buffer<float> out = poisoned<float>(count);
            fill_normal(gpu, out.data(), count, test_stream());
            GANT_CHECK_DIFFERENCE(out.to_host(), want, 2e-7);
            BOOST_TEST((gpu.state() == cpu.state()));
            BOOST_TEST(gpu.normal() == cpu.normal());
        }
    }
}

BOOST_AUTO_TEST_CASE(uniforms_match_the_cpu_generator) {
    for (std::size_t count : {std::size_t(1), std::size_t(64), std::size_t(big)}) {
        gant::rng cpu(test_seed(), 4), gpu(test_seed(), 4);
        (void)cpu.normal();
        (void)gpu.normal();
        std::vector<float> want(count);
        for (auto& x : want) x = float(-1.0 + 3.0 * cpu.uniform());
        device_buffer<float> out = poisoned<float>(count);
        fill_uniform(gpu, out.data(), count, -1.0, 2.0, test_stream());
        GANT_CHECK_DIFFERENCE(out.to_host(), want, 0.0);
        BOOST_TEST((gpu.state() == cpu.state()));
    }
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
