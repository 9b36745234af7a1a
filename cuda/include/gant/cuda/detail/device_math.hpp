#pragma once
// The float math functions the element-wise and objective functors use, taken from CUDA's math
// library when nvcc compiles device code and from <cmath> otherwise (the host passes of the
// same .cu files, and the CPU emulation in tests/cuda). The CPU layers call the <cmath> ones,
// so the emulation reproduces them exactly, and the device's differ by the ulps docs/cuda.md
// states per kernel.
#include <cmath>

#include "gant/core/host_device.hpp"

namespace gant::cuda::detail {

#if defined(__CUDA_ARCH__)
GANT_HOST_DEVICE inline float tanh_of(float a) { return tanhf(a); }
GANT_HOST_DEVICE inline float sqrt_of(float a) { return sqrtf(a); }
GANT_HOST_DEVICE inline float exp_of(float a) { return expf(a); }
GANT_HOST_DEVICE inline float log1p_of(float a) { return log1pf(a); }
#else
GANT_HOST_DEVICE inline float tanh_of(float a) { return std::tanh(a); }
GANT_HOST_DEVICE inline float sqrt_of(float a) { return std::sqrt(a); }
GANT_HOST_DEVICE inline float exp_of(float a) { return std::exp(a); }
GANT_HOST_DEVICE inline float log1p_of(float a) { return std::log1p(a); }
#endif

}  // namespace gant::cuda::detail
