#pragma once
// Matrix products on the device through cuBLAS, with gant's row-major contract
// (gant::blas::gemm, include/gant/core/blas.hpp): C = alpha op(A) op(B) + beta C, A m x k after
// op, B k x n after op, C m x n, each row-major with its leading dimension. The dense layers,
// the self-attention products and spectral norm's matrix-vector steps of the device step use it.
//
// cuBLAS is column-major. A row-major matrix is the column-major view of its transpose, so the
// row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T: the same memory with the
// operands swapped and m and n exchanged (detail::column_major_call). That mapping is plain C++
// and tested against gant's CPU gemm without a GPU (test_cuda_gemm_reference).
#include <cuda_runtime_api.h>

namespace gant::cuda {

/// fp32: full single precision (cuBLAS's default math); tf32: TF32 tensor-core products with
/// FP32 sums, as the convolution kernels use (about 3 decimal digits per product).
enum class gemm_precision { fp32, tf32 };

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc, cudaStream_t stream = nullptr,
          gemm_precision precision = gemm_precision::fp32);

/// `batch` independent products C_b = alpha op(A_b) op(B_b) + beta C_b, the b-th operands at
/// a + b * stride_a, b + b * stride_b, c + b * stride_c (cublasSgemmStridedBatched): the
/// per-sample products of self-attention in one launch.
struct batch_strides {
    long long a, b, c;
};
void gemm_strided_batched(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda,
                          const float* b, int ldb, float beta, float* c, int ldc, batch_strides strides, int batch,
                          cudaStream_t stream = nullptr, gemm_precision precision = gemm_precision::fp32);

namespace detail {

/// The column-major cublasSgemm arguments of a row-major product.
struct column_major_call {
    bool transpose_a, transpose_b;
    int m, n, k;
    const float* a;
    int lda;
    const float* b;
    int ldb;
    float* c;
    int ldc;
};

inline column_major_call column_major(bool transpose_a, bool transpose_b, int m, int n, int k, const float* a, int lda,
                                      const float* b, int ldb, float* c, int ldc) {
    return {transpose_b, transpose_a, n, m, k, b, ldb, a, lda, c, ldc};
}

/// The batch strides of the column-major call: A's and B's exchanged, as their roles are.
inline batch_strides column_major(batch_strides s) { return {s.b, s.a, s.c}; }

}  // namespace detail

}  // namespace gant::cuda
