// gant::cuda::gemm (gant/cuda/gemm.hpp): the row-major product through cublasSgemm.
#include "gant/cuda/gemm.hpp"

#include <cublas_v2.h>

#include <array>
#include <mutex>
#include <string>

#include "gant/cuda/check.hpp"
#include "gant/cuda/cublas_check.hpp"

namespace gant::cuda {

namespace {

/// One cuBLAS handle per device, created on first use and kept for the process (a handle is
/// costly to create; cuBLAS allows one handle to serve several streams when the stream is set
/// before each call, which the calls below do under the lock).
struct handles {
    std::mutex lock;
    std::array<cublasHandle_t, 64> per_device{};
};

handles& all_handles() {
    static handles h;  // never destroyed: handles outlive static destructors that may still use them
    return h;
}

}  // namespace

namespace {

void require_product(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc,
                     bool transpose_a, bool transpose_b, const char* function) {
    detail::require_argument(m >= 0 && n >= 0 && k >= 0, function, "matrix sizes must not be negative");
    detail::require_argument(m == 0 || n == 0 || (c && (k == 0 || (a && b))), function, "a matrix pointer is null");
    detail::require_argument(ldc >= n && lda >= (transpose_a ? m : k) && ldb >= (transpose_b ? k : n), function,
                             "a leading dimension is smaller than its matrix's row length");
}

/// The current device's handle, set to `stream` and `precision`; the caller holds the lock.
cublasHandle_t prepared_handle(handles& h, cudaStream_t stream, gemm_precision precision, const char* function) {
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    detail::require_argument(device >= 0 && device < 64, function, "device ordinals above 63 are not supported");
    cublasHandle_t& handle = h.per_device[std::size_t(device)];
    if (!handle) GANT_CUBLAS_CHECK(cublasCreate(&handle));
    GANT_CUBLAS_CHECK(cublasSetStream(handle, stream));
    GANT_CUBLAS_CHECK(cublasSetMathMode(
        handle, precision == gemm_precision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    return handle;
}

cublasOperation_t operation(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

}  // namespace

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc, cudaStream_t stream, gemm_precision precision) {
    require_product(m, n, k, a, lda, b, ldb, c, ldc, transpose_a, transpose_b, "gemm");
    if (m == 0 || n == 0) return;
    handles& h = all_handles();
    const std::lock_guard<std::mutex> guard(h.lock);
    const cublasHandle_t handle = prepared_handle(h, stream, precision, "gemm");
    const detail::column_major_call call =
        detail::column_major(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
    GANT_CUBLAS_CHECK(cublasSgemm(handle, operation(call.transpose_a), operation(call.transpose_b), call.m, call.n,
                                  call.k, &alpha, call.a, call.lda, call.b, call.ldb, &beta, call.c, call.ldc));
}

void gemm_strided_batched(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda,
                          const float* b, int ldb, float beta, float* c, int ldc, batch_strides strides, int batch,
                          cudaStream_t stream, gemm_precision precision) {
    require_product(m, n, k, a, lda, b, ldb, c, ldc, transpose_a, transpose_b, "gemm_strided_batched");
    detail::require_argument(batch >= 0, "gemm_strided_batched", "the batch count must not be negative");
    // Overlapping outputs would be written by several products at once.
    detail::require_argument(batch <= 1 || strides.c >= static_cast<long long>(m - 1) * ldc + n, "gemm_strided_batched",
                             "the outputs of two products overlap (stride_c too small)");
    if (m == 0 || n == 0 || batch == 0) return;
    handles& h = all_handles();
    const std::lock_guard<std::mutex> guard(h.lock);
    const cublasHandle_t handle = prepared_handle(h, stream, precision, "gemm_strided_batched");
    const detail::column_major_call call =
        detail::column_major(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
    const batch_strides s = detail::column_major(strides);
    GANT_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, operation(call.transpose_a), operation(call.transpose_b),
                                                call.m, call.n, call.k, &alpha, call.a, call.lda, s.a, call.b, call.ldb,
                                                s.b, &beta, call.c, call.ldc, s.c, batch));
}

}  // namespace gant::cuda
