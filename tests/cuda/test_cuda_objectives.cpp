#define BOOST_TEST_MODULE gant_cuda_objectives
#include "support/test_framework.hpp"
// The device losses and penalty steps (gant/cuda/objectives.hpp) on a GPU, against their own
// functors run on the CPU (detail/objective_ops.hpp), which test_cuda_objectives_reference checks
// against gant's CPU policies. Outputs are poisoned with NaN before each launch.
//
// Tolerances: losses use the device's expf and log1pf (within 2 ulp of the CPU's), so values and
// gradients agree to 1e-6 relative to max(1, |value|); interpolation is exact; the penalty's
// norms are double sums in the same order (exact up to the device's sqrt and pow, correctly
// rounded or within an ulp in double): direction 1e-6, report 1e-12 relative.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/objective_passes.hpp"
#include "gant/cuda/objectives.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"

namespace {

using namespace gant::cuda;
using namespace gant::cuda::testing;

}  // namespace

BOOST_AUTO_TEST_SUITE(objectives_on_the_gpu)

BOOST_AUTO_TEST_CASE(every_loss_both_players) {
    const loss_settings all[] = {{.kind = loss_kind::minimax},
                                 {.kind = loss_kind::non_saturating},
                                 {.kind = loss_kind::least_squares, .a = -1.0, .b = 1.0, .c = 0.0},
                                 {.kind = loss_kind::wasserstein, .drift = 0.001},
                                 {.kind = loss_kind::hinge}};
    for (const loss_settings& s : all) {
        const std::size_t nr = 256, nf = 253;
        const std::vector<float> real = uniform_values(nr, test_seed(), -20, 20),
                                 fake = uniform_values(nf, test_seed() + 1, -20, 20);
        std::vector<float> dr(nr), df(nf), dg(nf), totals(2);
        detail::critic_loss_pass(detail::host_exec{}, s, real.data(), nr, fake.data(), nf, dr.data(), df.data(),
                                 &totals[0]);
        detail::generator_loss_pass(detail::host_exec{}, s, fake.data(), nf, dg.data(), &totals[1]);

        const device_buffer<float> d_real = upload(real), d_fake = upload(fake);
        device_buffer<float> d_dr = poisoned<float>(nr), d_df = poisoned<float>(nf), d_dg = poisoned<float>(nf),
                             d_totals = poisoned<float>(2);
        critic_loss(s, d_real.data(), nr, d_fake.data(), nf, d_dr.data(), d_df.data(), d_totals.data(), test_stream());
        generator_loss(s, d_fake.data(), nf, d_dg.data(), d_totals.data() + 1, test_stream());
        GANT_CHECK_DIFFERENCE(d_totals.to_host(), totals, 1e-6);
        GANT_CHECK_DIFFERENCE(d_dr.to_host(), dr, 1e-6);
        GANT_CHECK_DIFFERENCE(d_df.to_host(), df, 1e-6);
        GANT_CHECK_DIFFERENCE(d_dg.to_host(), dg, 1e-6);
    }
}

BOOST_AUTO_TEST_CASE(interpolation) {
    const std::size_t n = 64, f = 784;
    const std::vector<float> real = uniform_values(n * f, test_seed() + 2, -1, 1),
                             fake = uniform_values(n * f, test_seed() + 3, -1, 1),
                             eps = uniform_values(n, test_seed() + 4, 0, 1);
    std::vector<float> want(n * f);
    detail::interpolate_pass(detail::host_exec{}, real.data(), fake.data(), eps.data(), n, f, want.data());
    const device_buffer<float> d_real = upload(real), d_fake = upload(fake), d_eps = upload(eps);
    device_buffer<float> out = poisoned<float>(n * f);
    interpolate(d_real.data(), d_fake.data(), d_eps.data(), n, f, out.data(), test_stream());
    GANT_CHECK_DIFFERENCE(out.to_host(), want, 0.0);
}

BOOST_AUTO_TEST_CASE(penalty_direction_and_report) {
    const penalty_settings all[] = {{.form = penalty_form::gradient_norm, .scale = 10.0 / 64, .target = 1.0},
                                    {.form = penalty_form::norm_power, .scale = 2.0 / 64, .half_power = 3.0}};
    for (const penalty_settings& s : all) {
        const std::size_t n = 64, f = 784;
        std::vector<float> grad = uniform_values(n * f, test_seed() + 5, -0.08, 0.08);
        for (std::size_t j = 0; j < f; ++j) grad[j] = 0.f;  // a zero gradient: the guards at norm 0
        std::vector<float> direction(n * f);
        std::vector<double> report(2);
        detail::penalty_direction_pass(detail::host_exec{}, s, grad.data(), n, f, direction.data(), report.data());

        const device_buffer<float> d_grad = upload(grad);
        device_buffer<float> d_direction = poisoned<float>(n * f);
        device_buffer<double> d_report = poisoned<double>(2);
        penalty_direction(s, d_grad.data(), n, f, d_direction.data(), d_report.data(), test_stream());
        GANT_CHECK_DIFFERENCE(d_direction.to_host(), direction, 1e-6);
        GANT_CHECK_DIFFERENCE(d_report.to_host(), report, 1e-12);
    }
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
    device_buffer<float> b(16, test_stream());
    bool refused = false;
    try {
        critic_loss({}, b.data(), 0, b.data(), 4, b.data(), b.data(), b.data(), test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("critic_loss") != std::string::npos;
    }
    BOOST_TEST(refused);
    refused = false;
    try {
        penalty_direction({}, b.data(), 4, 4, nullptr, nullptr, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("penalty_direction") != std::string::npos;
    }
    BOOST_TEST(refused);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
