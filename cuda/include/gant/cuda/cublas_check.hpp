#pragma once
// GANT_CUBLAS_CHECK(call): check_cuda's counterpart for cuBLAS statuses, same message format.
#include <cublas_v2.h>

#include "gant/cuda/check.hpp"

namespace gant::cuda::detail {

inline void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    throw_status_error(call, file, line,
                       std::string(cublasGetStatusName(status)) + " (" + cublasGetStatusString(status) + ")");
}

}  // namespace gant::cuda::detail

#define GANT_CUBLAS_CHECK(call) ::gant::cuda::detail::check_cublas((call), #call, __FILE__, __LINE__)
