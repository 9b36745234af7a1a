#pragma once
// Row-major GEMM. One overload per scalar type so layers stay generic in T while float trains
// fast and double gives exact gradient checks: float runs on gant's own packed kernels where the
// CPU has them (gemm/sgemm.hpp), double on the CBLAS library (OpenBLAS in practice).
#include <cblas.h>

#include <cstddef>
#include <type_traits>

#include "gant/core/gemm/sgemm.hpp"

namespace gant::blas {

enum class op { none, transpose };

inline CBLAS_TRANSPOSE to_cblas(op o) { return o == op::none ? CblasNoTrans : CblasTrans; }

/// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major with leading dimensions.
inline void gemm(op ta, op tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
    sgemm(ta == op::transpose, tb == op::transpose, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(op ta, op tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
                 std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb),
                beta, c, int(ldc));
}

/// op(A) prepared once for many products C = alpha * op(A) * op(B) + beta * C that share it (a
/// layer's weights against each chunk of a batch). In float it is packed for gant's kernels
/// (sgemm_left); in double it is only remembered and each product calls the library. Either way
/// A must stay alive and unchanged from prepare() to the last product.
template <class T>
class left_operand {
public:
    void prepare(op ta, std::size_t m, std::size_t k, const T* a, std::size_t lda) {
        if constexpr (std::is_same_v<T, float>) packed_.pack(ta == op::transpose, m, k, a, lda);
        ta_ = ta, m_ = m, k_ = k, a_ = a, lda_ = lda;
    }

    /// C[m x n] = alpha * op(A) * op(B) + beta * C.
    void multiply(op tb, std::size_t n, T alpha, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) const {
        if constexpr (std::is_same_v<T, float>)
            packed_.multiply(tb == op::transpose, n, alpha, b, ldb, beta, c, ldc);
        else
            gemm(ta_, tb, m_, n, k_, alpha, a_, lda_, b, ldb, beta, c, ldc);
    }

private:
    struct nothing {};
    [[no_unique_address]] std::conditional_t<std::is_same_v<T, float>, sgemm_left, nothing> packed_;
    op ta_ = op::none;
    std::size_t m_ = 0, k_ = 0, lda_ = 0;
    const T* a_ = nullptr;
};

/// Pins OpenBLAS's own thread count (a no-op with another CBLAS).
inline void set_threads(int n) {
#if defined(OPENBLAS_VERSION) || defined(OPENBLAS_CONST)
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

}  // namespace gant::blas
