#pragma once
// Plain reference products for the device GEMM's tests, in double: row-major as gant's contract
// states it, and column-major as cuBLAS reads its arguments.
#include <cstddef>
#include <vector>

namespace gant::cuda::testing {

/// C = alpha op(A) op(B) + beta C, row-major (gant::blas::gemm's contract), sums in double.
inline void row_major_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                           int ldb, float beta, float* c, int ldc) {
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p)
                s += double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
            float& out = c[i * ldc + j];
            out = float(alpha * s + (beta == 0.f ? 0.0 : double(beta) * out));
        }
}

/// Per element of C, |alpha| sum_p |op(A)_ip| |op(B)_pj| + |beta C_ij|: the scale of an
/// element's rounding errors (row-major, like row_major_gemm; c holds C before the product).
inline std::vector<double> row_major_error_scale(bool ta, bool tb, int m, int n, int k, float alpha, const float* a,
                                                 int lda, const float* b, int ldb, float beta, const float* c,
                                                 int ldc) {
    std::vector<double> scale(std::size_t(m) * std::size_t(ldc), 0.0);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
                const double x = ta ? a[p * lda + i] : a[i * lda + p], y = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += (x < 0 ? -x : x) * (y < 0 ? -y : y);
            }
            const double old = beta == 0.f ? 0.0 : double(beta) * c[i * ldc + j];
            scale[std::size_t(i * ldc + j)] = (alpha < 0 ? -alpha : alpha) * s + (old < 0 ? -old : old);
        }
    return scale;
}

/// The same product as cublasSgemm would compute it from column-major arguments.
inline void column_major_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                              const float* b, int ldb, float beta, float* c, int ldc) {
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double s = 0;
            for (int p = 0; p < k; ++p)
                s += double(ta ? a[i * lda + p] : a[p * lda + i]) * double(tb ? b[p * ldb + j] : b[j * ldb + p]);
            float& out = c[j * ldc + i];
            out = float(alpha * s + (beta == 0.f ? 0.0 : double(beta) * out));
        }
}

}  // namespace gant::cuda::testing
