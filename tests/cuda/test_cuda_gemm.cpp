#define BOOST_TEST_MODULE gant_cuda_gemm
#include "support/test_framework.hpp"
// gant::cuda::gemm on a GPU against a double-precision row-major reference: every transpose
// combination, odd sizes, padded leading dimensions, beta 0 (C poisoned with NaN first: not
// read), 1 and -0.5. Each element's error is bounded against its own scale, |alpha| sum |a||b|
// + |beta c|: FP32 1e-5 of it (float sums of up to 6272 terms); TF32 2^-9 + 1e-5 of it (each
// operand rounded or truncated to TF32's 10 mantissa bits: at most 2^-9 relative per product).
// Elements outside the product (the padding columns) must keep their values. The strided-batched
// form runs each product of a batch against the same reference.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "gant/cuda/gemm.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gemm_reference.hpp"
#include "support/gpu_test.hpp"

using namespace gant::cuda;
using namespace gant::cuda::testing;

BOOST_AUTO_TEST_CASE(row_major_products_on_the_gpu) {
    for (gemm_precision precision : {gemm_precision::fp32, gemm_precision::tf32})
        for (bool ta : {false, true})
            for (bool tb : {false, true})
                for (const auto& [m, n, k] :
                     {std::array<int, 3>{7, 5, 3}, {64, 6272, 1}, {64, 1, 6272}, {100, 33, 257}}) {
                    const int pad = 5;
                    const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                    const std::vector<float> a = uniform_values(std::size_t((ta ? k : m) * lda), test_seed(), -1, 1),
                                             b = uniform_values(std::size_t((tb ? n : k) * ldb), test_seed() + 1, -1,
                                                                1),
                                             c0 = uniform_values(std::size_t(m * ldc), test_seed() + 2, -1, 1);
                    for (float beta : {0.f, 1.f, -0.5f}) {
                        std::vector<float> want = c0;
                        row_major_gemm(ta, tb, m, n, k, 0.75f, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
                        const device_buffer<float> da = upload(a), db = upload(b);
                        device_buffer<float> dc = upload(c0);
                        if (beta == 0.f) dc.fill_bytes(0xFF);
                        gemm(ta, tb, m, n, k, 0.75f, da.data(), lda, db.data(), ldb, beta, dc.data(), ldc,
                             test_stream(), precision);
                        const std::vector<float> got = dc.to_host();
                        const std::vector<double> scale = row_major_error_scale(ta, tb, m, n, k, 0.75f, a.data(), lda,
                                                                                b.data(), ldb, beta, c0.data(), ldc);
                        const double bound = precision == gemm_precision::fp32 ? 1e-5 : 0x1p-9 + 1e-5;
                        int wrong = 0;
                        for (int i = 0; i < m; ++i)
                            for (int j = 0; j < ldc; ++j) {
                                const std::size_t e = std::size_t(i * ldc + j);
                                if (j < n)  // the product: within its own error scale (NaN fails)
                                    wrong +=
                                        std::abs(double(got[e]) - double(want[e])) <= bound * scale[e] + 1e-30 ? 0 : 1;
                                else if (beta != 0.f)  // padding: untouched (with beta 0 it holds the poison)
                                    wrong += same_bits(got[e], c0[e]) ? 0 : 1;
                            }
                        BOOST_TEST(wrong == 0);
                    }
                }
}

// Batched: each product against the same reference on its own slice, strides wider than the
// matrices (the gaps between them must keep their values), including self-attention's shapes
// (N x N maps from Cr x N operands, per sample).
BOOST_AUTO_TEST_CASE(strided_batched_products_on_the_gpu) {
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (const auto& [m, n, k] : {std::array<int, 3>{7, 5, 3}, {64, 64, 8}, {8, 256, 256}}) {
                const int batch = 3, gap = 7;
                const int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
                const batch_strides strides{(ta ? k : m) * lda + gap, (tb ? n : k) * ldb + gap, m * ldc + gap};
                const std::vector<float> a = uniform_values(std::size_t(strides.a * batch), test_seed() + 3, -1, 1),
                                         b = uniform_values(std::size_t(strides.b * batch), test_seed() + 4, -1, 1),
                                         c0 = uniform_values(std::size_t(strides.c * batch), test_seed() + 5, -1, 1);
                for (float beta : {0.f, 1.f}) {
                    std::vector<float> want = c0;
                    for (int s = 0; s < batch; ++s)
                        row_major_gemm(ta, tb, m, n, k, 1.25f, a.data() + s * strides.a, lda, b.data() + s * strides.b,
                                       ldb, beta, want.data() + s * strides.c, ldc);
                    const device_buffer<float> da = upload(a), db = upload(b);
                    device_buffer<float> dc = upload(c0);
                    gemm_strided_batched(ta, tb, m, n, k, 1.25f, da.data(), lda, db.data(), ldb, beta, dc.data(), ldc,
                                         strides, batch, test_stream());
                    const std::vector<float> got = dc.to_host();
                    int wrong = 0;
                    for (int s = 0; s < batch; ++s) {
                        const std::vector<double> scale =
                            row_major_error_scale(ta, tb, m, n, k, 1.25f, a.data() + s * strides.a, lda,
                                                  b.data() + s * strides.b, ldb, beta, c0.data() + s * strides.c, ldc);
                        for (long long e = 0; e < strides.c; ++e) {
                            const std::size_t at = std::size_t(s * strides.c + e);
                            if (e < m * ldc)
                                wrong +=
                                    std::abs(double(got[at]) - double(want[at])) <= 1e-5 * scale[std::size_t(e)] + 1e-30
                                        ? 0
                                        : 1;
                            else  // the gap after each output: untouched
                                wrong += same_bits(got[at], c0[at]) ? 0 : 1;
                        }
                    }
                    BOOST_TEST(wrong == 0);
                }
            }
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
    device_buffer<float> b(16, test_stream());
    bool refused = false;
    try {
        gemm(false, false, 4, 4, 4, 1.f, b.data(), 2, b.data(), 4, 0.f, b.data(), 4, test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("leading dimension") != std::string::npos;
    }
    BOOST_TEST(refused);
    refused = false;
    try {  // two 4x4 outputs 8 floats apart overlap
        gemm_strided_batched(false, false, 4, 4, 4, 1.f, b.data(), 4, b.data(), 4, 0.f, b.data(), 4, {0, 0, 8}, 2,
                             test_stream());
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("overlap") != std::string::npos;
    }
    BOOST_TEST(refused);
}

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
