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

void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc, cudaStream_t stream, gemm_precision precision) {
    detail::require_argument(m >= 0 && n >= 0 && k >= 0, "gemm", "matrix sizes must not be negative");
    if (m == 0 || n == 0) return;
    detail::require_argument(c && (k == 0 || (a && b)), "gemm", "a matrix pointer is null");
    detail::require_argument(ldc >= n && lda >= (transpose_a ? m : k) && ldb >= (transpose_b ? k : n), "gemm",
                             "a leading dimension is smaller than its matrix's row length");
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    detail::require_argument(device >= 0 && device < 64, "gemm", "device ordinals above 63 are not supported");
    handles& h = all_handles();
    const std::lock_guard<std::mutex> guard(h.lock);
    cublasHandle_t& handle = h.per_device[std::size_t(device)];
    if (!handle) GANT_CUBLAS_CHECK(cublasCreate(&handle));
    GANT_CUBLAS_CHECK(cublasSetStream(handle, stream));
    GANT_CUBLAS_CHECK(cublasSetMathMode(
        handle, precision == gemm_precision::tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    const detail::column_major_call call =
        detail::column_major(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
    GANT_CUBLAS_CHECK(cublasSgemm(handle, call.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  call.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, call.m, call.n, call.k, &alpha, call.a,
                                  call.lda, call.b, call.ldb, &beta, call.c, call.ldc));
}

}  // namespace gant::cuda
