#pragma once
// Which CUDA devices this process can use. A machine without a GPU or without a driver new
// enough for the runtime (CI, most laptops) has none; callers ask device_count() before any
// other runtime call and skip, instead of failing on the first allocation.
#include <cuda_runtime_api.h>

#include <string>

#include "gant/cuda/check.hpp"

namespace gant::cuda {

/// The number of usable CUDA devices; 0 when the runtime reports an error (no driver, a
/// driver older than the runtime, no device). Never throws.
inline int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the error so it does not surface at a later call
        return 0;
    }
    return n;
}

/// Why device_count() is 0, in CUDA's words ("" when a device is there).
inline std::string no_device_reason() {
    int n = 0;
    const cudaError_t status = cudaGetDeviceCount(&n);
    (void)cudaGetLastError();
    if (status != cudaSuccess) return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
    return n == 0 ? "cudaGetDeviceCount reports 0 devices" : "";
}

/// The current device's name, compute capability and multiprocessor count, for logs.
inline std::string describe_current_device() {
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp prop{};
    GANT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " +
           std::to_string(prop.multiProcessorCount) + " SMs, " +
           std::to_string(prop.totalGlobalMem >> 20) + " MiB)";
}

/// Multiprocessors of the current device (the launch heuristics size grids with it).
inline int multiprocessor_count() {
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    int sms = 0;
    GANT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
}

}  // namespace gant::cuda
