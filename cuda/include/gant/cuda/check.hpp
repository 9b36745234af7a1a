#pragma once
// Status checks for the CUDA runtime. Every runtime call in gant's CUDA code goes through
// GANT_CUDA_CHECK, so a failure surfaces as a std::runtime_error that names the call, the file
// and line, and CUDA's own name and text for the error, e.g.
//   cuda/src/conv_fprop.cu:41: cudaMalloc(&p, bytes) failed: cudaErrorMemoryAllocation (out of memory)
// Kernel launches report through cudaGetLastError, which GANT_CUDA_CHECK_LAUNCH names after the
// kernel it checks. The cuBLAS and cuDNN checks (cublas_check.hpp, cudnn_check.hpp) share the
// message format; they live apart so that this header needs only the runtime.
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace gant::cuda::detail {

[[noreturn]] inline void throw_status_error(const char* call, const char* file, int line, const std::string& status) {
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " + status);
}

inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
    if (status == cudaSuccess) return;
    throw_status_error(call, file, line, std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")");
}

/// Refuses a bad argument of a gant::cuda entry point with one sentence:
/// "gant::cuda::<function>: <what>" (std::invalid_argument).
inline void require_argument(bool ok, const char* function, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("gant::cuda::") + function + ": " + what);
}

}  // namespace gant::cuda::detail

/// Checks a CUDA runtime call: throws std::runtime_error naming the call, file, line and error.
#define GANT_CUDA_CHECK(call) ::gant::cuda::detail::check_cuda((call), #call, __FILE__, __LINE__)

/// Checks the launch of the kernel just issued (configuration errors, and earlier asynchronous
/// errors that the launch reports); `what` names the kernel in the message.
#define GANT_CUDA_CHECK_LAUNCH(what) \
    ::gant::cuda::detail::check_cuda(cudaGetLastError(), "launch of " what, __FILE__, __LINE__)
