#define BOOST_TEST_MODULE gant_cuda_attention
#include "support/test_framework.hpp"
// The self-attention row kernels (gant/cuda/attention.hpp) on a GPU against their functors run
// on the CPU (detail/attention_ops.hpp, checked in test_cuda_attention_reference). Row counts
// are odd and larger than the kernels' grid cap (batch 64 of 64 x 64 maps and more), widths
// from 1 to 257; outputs are poisoned with NaN where a pass writes a fresh array.
//
// Tolerances: the softmax uses the device's expf (within 2 ulp of <cmath>'s exp), so the
// probabilities agree to about 1e-6 (checked as 1e-6 absolute: they lie in [0, 1]); the other
// passes read the CPU's probabilities, do the CPU's operations in its order and are compiled
// without multiply-add contraction, so they must agree bit for bit.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/cuda/attention.hpp"
#include "gant/cuda/detail/attention_ops.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"

using namespace gant::cuda;
using namespace gant::cuda::testing;

BOOST_AUTO_TEST_CASE(row_passes_match_the_cpu) {
    struct size {
        std::size_t rows, width;
    };
    for (const size& s : {size{3, 1}, size{7, 257}, size{64 * 64 * 8 + 5, 64}}) {
        const std::size_t n = s.rows * s.width;
        const std::vector<float> z = uniform_values(n, test_seed(), -8, 8),
                                 w = uniform_values(n, test_seed() + 1, -2, 2),
                                 v = uniform_values(n, test_seed() + 2, -2, 2);
        // The CPU: every pass from the previous one's CPU result.
        std::vector<float> p = z, b = w, u = w, pdot(n), pbar = v, pdotbar = w;
        emulate(detail::softmax_rows_op{p.data(), s.width}, s.rows);
        emulate(detail::softmax_adjoint_rows_op{p.data(), b.data(), s.width}, s.rows);
        emulate(detail::softmax_tangent_rows_op{p.data(), u.data(), pdot.data(), s.width}, s.rows);
        emulate(detail::softmax_paired_rows_op{p.data(), u.data(), pbar.data(), pdotbar.data(), s.width}, s.rows);

        // The GPU: each pass from the CPU's inputs, so each is checked alone.
        device_buffer<float> dp = upload(z);
        softmax_rows(dp.data(), s.rows, s.width, test_stream());
        GANT_CHECK_DIFFERENCE(dp.to_host(), p, 1e-6);

        const device_buffer<float> p_cpu = upload(p), u_cpu = upload(u);
        device_buffer<float> db = upload(w), du = upload(w), dpdot = poisoned<float>(n), dpbar = upload(v),
                             dpdotbar = upload(w);
        softmax_adjoint_rows(p_cpu.data(), db.data(), s.rows, s.width, test_stream());
        softmax_tangent_rows(p_cpu.data(), du.data(), dpdot.data(), s.rows, s.width, test_stream());
        softmax_paired_rows(p_cpu.data(), u_cpu.data(), dpbar.data(), dpdotbar.data(), s.rows, s.width, test_stream());
        GANT_CHECK_DIFFERENCE(db.to_host(), b, 0.0);
        GANT_CHECK_DIFFERENCE(du.to_host(), u, 0.0);
        GANT_CHECK_DIFFERENCE(dpdot.to_host(), pdot, 0.0);
        GANT_CHECK_DIFFERENCE(dpbar.to_host(), pbar, 0.0);
        GANT_CHECK_DIFFERENCE(dpdotbar.to_host(), pdotbar, 0.0);
    }
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
    device_buffer<float> b(16, test_stream());
    bool refused = false;
    try {
        softmax_rows(b.data(), 4, 0, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("at least one entry") != std::string::npos;
    }
    BOOST_TEST(refused);
    refused = false;
    try {
        softmax_paired_rows(b.data(), nullptr, b.data(), b.data(), 4, 4, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("null") != std::string::npos;
    }
    BOOST_TEST(refused);
}

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
