#define BOOST_TEST_MODULE gant_cuda_gemm_reference
#include "support/test_framework.hpp"
// gant::cuda::gemm hands cuBLAS the column-major form of gant's row-major product
// (detail::column_major_call). Here that mapping is executed by a column-major reference and
// compared with gant's own CPU gemm (gant::blas::gemm) for every transpose combination, odd
// sizes and leading dimensions wider than the rows, alpha and beta. No GPU needed.
#include <iostream>
#include <vector>

#include "gant/core/blas.hpp"
#include "gant/cuda/gemm.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gemm_reference.hpp"

using namespace gant::cuda::testing;

BOOST_AUTO_TEST_CASE(column_major_mapping_matches_gant_cpu_gemm) {
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (const auto& [m, n, k] :
                 {std::array<int, 3>{7, 5, 3}, {1, 9, 4}, {13, 1, 6}, {6, 11, 1}, {33, 17, 29}}) {
                const int pad = 3;
                const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                const std::vector<float> a = uniform_values(std::size_t((ta ? k : m) * lda), test_seed(), -1, 1),
                                         b = uniform_values(std::size_t((tb ? n : k) * ldb), test_seed() + 1, -1, 1),
                                         c0 = uniform_values(std::size_t(m * ldc), test_seed() + 2, -1, 1);
                for (float beta : {0.f, 1.f, -0.5f}) {
                    std::vector<float> want = c0, got = c0;
                    gant::blas::gemm(ta ? gant::blas::op::transpose : gant::blas::op::none,
                                     tb ? gant::blas::op::transpose : gant::blas::op::none, std::size_t(m),
                                     std::size_t(n), std::size_t(k), 1.5f, a.data(), std::size_t(lda), b.data(),
                                     std::size_t(ldb), beta, want.data(), std::size_t(ldc));
                    const auto call = gant::cuda::detail::column_major(ta, tb, m, n, k, a.data(), lda, b.data(), ldb,
                                                                       got.data(), ldc);
                    column_major_gemm(call.transpose_a, call.transpose_b, call.m, call.n, call.k, 1.5f, call.a,
                                      call.lda, call.b, call.ldb, beta, call.c, call.ldc);
                    BOOST_TEST(normwise(got, want) <= 1e-6);
                }
            }
}

// The batched call: the column-major mapping with A's and B's strides exchanged, product by
// product, against gant's CPU gemm on each slice.
BOOST_AUTO_TEST_CASE(batched_mapping_exchanges_the_strides) {
    const int m = 5, n = 7, k = 3, batch = 3;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            const int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
            const gant::cuda::batch_strides strides{m * k + 2, k * n + 1, m * n + 4};
            const std::vector<float> a = uniform_values(std::size_t(strides.a * batch), test_seed() + 3, -1, 1),
                                     b = uniform_values(std::size_t(strides.b * batch), test_seed() + 4, -1, 1);
            std::vector<float> want(std::size_t(strides.c * batch), 0.f), got = want;
            const auto call =
                gant::cuda::detail::column_major(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, got.data(), ldc);
            const gant::cuda::batch_strides s = gant::cuda::detail::column_major(strides);
            for (int i = 0; i < batch; ++i) {
                gant::blas::gemm(ta ? gant::blas::op::transpose : gant::blas::op::none,
                                 tb ? gant::blas::op::transpose : gant::blas::op::none, std::size_t(m), std::size_t(n),
                                 std::size_t(k), 1.f, a.data() + i * strides.a, std::size_t(lda),
                                 b.data() + i * strides.b, std::size_t(ldb), 0.f, want.data() + i * strides.c,
                                 std::size_t(ldc));
                column_major_gemm(call.transpose_a, call.transpose_b, call.m, call.n, call.k, 1.f, call.a + i * s.a,
                                  call.lda, call.b + i * s.b, call.ldb, 0.f, call.c + i * s.c, call.ldc);
            }
            BOOST_TEST(normwise(got, want) <= 1e-6);
        }
}

int main(int argc, char** argv) {
    std::cout << "gant CUDA gemm mapping tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
