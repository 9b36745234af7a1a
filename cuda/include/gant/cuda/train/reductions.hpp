#pragma once
// The device passes a training step needs beyond elementwise.hpp: the reductions behind its
// statistics (gradient norms, non-finite counts) and the maintenance of weights (WGAN's clipping,
// filling, the SGD update). Plain C++ (CUDA runtime headers only), like elementwise.hpp; the
// kernels are in gant::cuda_kernels (cuda/src/training.cu), and the per-element arithmetic in
// detail/training_ops.hpp, which tests run on the host against gant's CPU code. Every call is
// asynchronous on its stream and checks its launch; the pointers are device memory.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace gant::cuda {

/// *out += the sum of x[i]^2 over n elements, in double. Deterministic: the summation order
/// depends on n only (detail::sum_squares_blocks), never on the device or on timing, so the same
/// input gives the same bits on every launch and every GPU.
void sum_squares(const float* x, std::size_t n, double* out, cudaStream_t stream = nullptr);

/// *out += the number of NaN and infinite elements among n.
void count_nonfinite(const float* x, std::size_t n, unsigned long long* out, cudaStream_t stream = nullptr);

/// x[i] = std::clamp(x[i], lo, hi): WGAN's weight clipping (lipschitz::weight_clip), NaN kept.
/// Refuses lo > hi and NaN bounds, which std::clamp leaves undefined.
void clamp_values(float* x, std::size_t n, float lo, float hi, cudaStream_t stream = nullptr);

/// x[i] = value for n elements.
void fill_values(float* x, std::size_t n, float value, cudaStream_t stream = nullptr);

/// SGD's hyper-parameters, as gant::optim::sgd_params (which checks them) holds them.
struct sgd_settings {
    double lr = 1e-2, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
    bool nesterov = false;
};

/// Update number `step` (from 1) of n parameters: optim::sgd_rule's arithmetic. momentum_buffer
/// is read and written when settings.momentum != 0 (and is then required); it is ignored
/// otherwise, as the CPU rule ignores a state it does not use.
void sgd_update(const sgd_settings& settings, std::uint64_t step, float* value, const float* grad,
                float* momentum_buffer, std::size_t n, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
