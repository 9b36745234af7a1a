#pragma once
// The element-wise work of SAGAN's self-attention block around its products
// (gant/cuda/layers/attention.hpp): the residual y = gamma o + x with the learnable scalar gamma
// read from device memory (so no pass waits for the device), gamma's gradient, and the sums of
// the projections' adjoints. Each does what include/gant/layers/self_attention.hpp does on the
// CPU, operation for operation except gamma's gradient, whose inner products are summed in
// double (a block per sample, a fixed tree) where the CPU sums in float. Plain C++; the kernels
// are in gant::cuda_kernels (cuda/src/sagan_layers.cu), compiled without contraction so they
// round as the CPU does. Every call is asynchronous on its stream; the pointers are device memory.
#include <cuda_runtime_api.h>

#include <cstddef>

namespace gant::cuda {

/// y = gamma[0] * o + x over n elements; x null: y = gamma[0] * o.
void scaled_residual(const float* gamma, const float* o, const float* x, float* y, std::size_t n,
                     cudaStream_t stream = nullptr);

/// gamma_grad[0] += <ybar, o> (+ <ydotbar, odot> where ydotbar is not null) over samples rows of
/// `features` values: the gradient of the scale of the residual.
void accumulate_scale_gradient(const float* ybar, const float* o, const float* ydotbar, const float* odot,
                               std::size_t samples, std::size_t features, float* gamma_grad,
                               cudaStream_t stream = nullptr);

/// out += a over n elements.
void add_elements(const float* a, float* out, std::size_t n, cudaStream_t stream = nullptr);

/// out = a * b element by element over n elements.
void multiply_elements(const float* a, const float* b, float* out, std::size_t n, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
