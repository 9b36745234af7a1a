#pragma once
// GANT_CUDNN_CHECK(call): check_cuda's counterpart for cuDNN statuses, same message format.
// cuDNN is optional (gant's own kernels do not need it); the GPU benchmark uses it as the peer.
#include <cudnn.h>

#include "gant/cuda/check.hpp"

namespace gant::cuda::detail {

inline void check_cudnn(cudnnStatus_t status, const char* call, const char* file, int line) {
    if (status == CUDNN_STATUS_SUCCESS) return;
    throw_status_error(call, file, line,
                       std::string(cudnnGetErrorString(status)) + " (status " + std::to_string(int(status)) + ")");
}

}  // namespace gant::cuda::detail

#define GANT_CUDNN_CHECK(call) ::gant::cuda::detail::check_cudnn((call), #call, __FILE__, __LINE__)
