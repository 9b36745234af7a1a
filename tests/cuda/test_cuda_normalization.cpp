#define BOOST_TEST_MODULE gant_cuda_normalization
#include "support/test_framework.hpp"
// Batch and layer normalisation on a GPU (gant/cuda/normalization.hpp) against the same passes
// replayed on the CPU with the same functors (support/norm_emulation.hpp), which
// test_cuda_normalization_reference checks against gant's CPU layers. Shapes of the DCGAN and
// WGAN-GP networks plus an odd one; every output poisoned with NaN first. The device's group
// sums run in a block's tree order, the emulation's in element order (both double), so results
// agree to float rounding: normwise 1e-5.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cstdint>
#include <vector>

#include "gant/cuda/normalization.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"
#include "support/norm_emulation.hpp"

namespace {

using namespace gant::cuda;
using namespace gant::cuda::testing;

constexpr double tolerance = 1e-5;

void check(const norm_problem& p) {
    const std::size_t n = p.elements(), c = p.channels;
    const std::vector<float> x = uniform_values(n, test_seed(), -2, 3),
                             xdot = uniform_values(n, test_seed() + 1, -1, 1),
                             ybar = uniform_values(n, test_seed() + 2, -1, 1),
                             ydotbar = uniform_values(n, test_seed() + 3, -1, 1),
                             gamma = uniform_values(c, test_seed() + 4, 0.5, 1.5),
                             beta = uniform_values(c, test_seed() + 5, -0.5, 0.5);
    const float eps = 1e-5f;
    for (bool affine : {true, false}) {
        const float* g = affine ? gamma.data() : nullptr;
        const float* b = affine ? beta.data() : nullptr;
        std::vector<float> y(n), dx(n), ydot(n), xbar(n), xdotbar(n), gg(c, 0.25f), bg(c, -0.5f), ggp(c, 0.25f),
            bgp(c, -0.5f);
        const norm_statistics st = emulate_norm_forward(p, eps, x.data(), g, b, y.data());
        emulate_norm_backward(p, true, x.data(), st, g, ybar.data(), dx.data(), gg.data(), bg.data());
        emulate_norm_tangent(p, true, x.data(), st, g, xdot.data(), ydot.data());
        emulate_norm_paired(p, true, x.data(), xdot.data(), st, g, ybar.data(), ydotbar.data(), xbar.data(),
                            xdotbar.data(), ggp.data(), bgp.data());

        const device_buffer<float> d_x = upload(x), d_xdot = upload(xdot), d_ybar = upload(ybar),
                                   d_ydotbar = upload(ydotbar), d_gamma = upload(gamma), d_beta = upload(beta);
        const float* dg = affine ? d_gamma.data() : nullptr;
        const float* db = affine ? d_beta.data() : nullptr;
        device_buffer<float> d_y = poisoned<float>(n), d_dx = poisoned<float>(n), d_ydot = poisoned<float>(n),
                             d_xbar = poisoned<float>(n), d_xdotbar = poisoned<float>(n),
                             d_mean = poisoned<float>(p.groups()), d_inv = poisoned<float>(p.groups()),
                             d_var = poisoned<float>(p.groups());
        device_buffer<float> d_gg = upload(std::vector<float>(c, 0.25f)), d_bg = upload(std::vector<float>(c, -0.5f)),
                             d_ggp = upload(std::vector<float>(c, 0.25f)), d_bgp = upload(std::vector<float>(c, -0.5f));
        norm_forward(p, eps, d_x.data(), dg, db, d_y.data(), d_mean.data(), d_inv.data(), d_var.data(), test_stream());
        norm_backward(p, true, d_x.data(), d_mean.data(), d_inv.data(), dg, d_ybar.data(), d_dx.data(), d_gg.data(),
                      d_bg.data(), test_stream());
        norm_tangent(p, true, d_x.data(), d_mean.data(), d_inv.data(), dg, d_xdot.data(), d_ydot.data(), test_stream());
        norm_paired(p, true, d_x.data(), d_xdot.data(), d_mean.data(), d_inv.data(), dg, d_ybar.data(),
                    d_ydotbar.data(), d_xbar.data(), d_xdotbar.data(), d_ggp.data(), d_bgp.data(), test_stream());

        BOOST_TEST(normwise(d_mean.to_host(), st.mean) <= 1e-6);
        BOOST_TEST(normwise(d_inv.to_host(), st.inv_std) <= 1e-6);
        BOOST_TEST(normwise(d_var.to_host(), st.variance) <= 1e-6);
        BOOST_TEST(normwise(d_y.to_host(), y) <= tolerance);
        BOOST_TEST(normwise(d_dx.to_host(), dx) <= tolerance);
        BOOST_TEST(normwise(d_ydot.to_host(), ydot) <= tolerance);
        BOOST_TEST(normwise(d_xbar.to_host(), xbar) <= tolerance);
        BOOST_TEST(normwise(d_xdotbar.to_host(), xdotbar) <= tolerance);
        BOOST_TEST(normwise(d_gg.to_host(), gg) <= tolerance);  // added to what was there
        BOOST_TEST(normwise(d_bg.to_host(), bg) <= tolerance);
        BOOST_TEST(normwise(d_ggp.to_host(), ggp) <= tolerance);
        BOOST_TEST(normwise(d_bgp.to_host(), bgp) <= tolerance);
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(normalization_on_the_gpu)

BOOST_AUTO_TEST_CASE(layer_norm_wgan_gp_critic_28) { check({norm_grouping::per_sample, 64, 128, 49}); }
BOOST_AUTO_TEST_CASE(layer_norm_64x64_critic) { check({norm_grouping::per_sample, 32, 256, 64}); }
BOOST_AUTO_TEST_CASE(batch_norm_dcgan_generator_28) { check({norm_grouping::per_channel, 64, 64, 196}); }
BOOST_AUTO_TEST_CASE(batch_norm_dcgan_64x64) { check({norm_grouping::per_channel, 256, 64, 1024}); }
BOOST_AUTO_TEST_CASE(odd_sizes) {
    check({norm_grouping::per_sample, 3, 5, 7});
    check({norm_grouping::per_channel, 3, 5, 7});
    check({norm_grouping::per_sample, 1, 1, 1000});
}

BOOST_AUTO_TEST_CASE(running_statistics_and_inference) {
    const std::size_t c = 37, count = 640;
    const std::vector<float> mean = uniform_values(c, test_seed() + 6, -1, 1),
                             var = uniform_values(c, test_seed() + 7, 0.1, 2),
                             rm0 = uniform_values(c, test_seed() + 8, -1, 1),
                             rv0 = uniform_values(c, test_seed() + 9, 0.5, 1.5);
    std::vector<float> rm = rm0, rv = rv0, m2(c), inv2(c);
    detail::batch_norm_update_running_pass(detail::host_exec{}, c, count, 0.1f, mean.data(), var.data(), rm.data(),
                                           rv.data());
    detail::batch_norm_statistics_pass(detail::host_exec{}, c, 1e-5f, rm.data(), rv.data(), m2.data(), inv2.data());
    const device_buffer<float> d_mean = upload(mean), d_var = upload(var);
    device_buffer<float> d_rm = upload(rm0), d_rv = upload(rv0), d_m2 = poisoned<float>(c), d_inv2 = poisoned<float>(c);
    batch_norm_update_running(c, count, 0.1f, d_mean.data(), d_var.data(), d_rm.data(), d_rv.data(), test_stream());
    batch_norm_statistics(c, 1e-5f, d_rm.data(), d_rv.data(), d_m2.data(), d_inv2.data(), test_stream());
    BOOST_TEST(normwise(d_rm.to_host(), rm) <= 1e-6);
    BOOST_TEST(normwise(d_rv.to_host(), rv) <= 1e-6);
    BOOST_TEST(normwise(d_m2.to_host(), m2) <= 1e-6);
    BOOST_TEST(normwise(d_inv2.to_host(), inv2) <= 1e-6);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
