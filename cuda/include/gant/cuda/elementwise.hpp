#pragma once
// The element-wise passes of a training step on the device: activations with their backward,
// tangent and paired rules, the Adam and RMSprop updates and the generator's moving average,
// on float32 arrays in device memory. Plain C++ (CUDA runtime headers only), like conv.hpp; the
// kernels are in gant::cuda_kernels (cuda/src/elementwise.cu) and each thread runs the functors
// of detail/elementwise_ops.hpp, which mirror the CPU layers and optimizers operation for
// operation. Every call is asynchronous on its stream and checks its launch.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "gant/cuda/conv.hpp"  // activation

namespace gant::cuda {

/// y = phi(a) for n elements (activation::none copies). leaky_relu's slope is `slope`.
void activation_forward(activation phi, float slope, const float* a, float* y, std::size_t n,
                        cudaStream_t stream = nullptr);

/// da = phi'(a) * dy, phi' from the input a and output y as the CPU activations take it.
void activation_backward(activation phi, float slope, const float* a, const float* y, const float* dy, float* da,
                         std::size_t n, cudaStream_t stream = nullptr);

/// ydot = phi'(a) * adot: the tangent of the gradient penalty's paired forward pass.
void activation_tangent(activation phi, float slope, const float* a, const float* y, const float* adot, float* ydot,
                        std::size_t n, cudaStream_t stream = nullptr);

/// The paired reverse pass: abar = phi'(a) ybar + phi''(a) adot ydotbar and adotbar = phi'(a)
/// ydotbar; abar or adotbar may be null when not needed (not both).
void activation_paired(activation phi, float slope, const float* a, const float* y, const float* adot,
                       const float* ybar, const float* ydotbar, float* abar, float* adotbar, std::size_t n,
                       cudaStream_t stream = nullptr);

/// Adam's hyper-parameters, as gant::optim::adam_params (which checks them) holds them.
struct adam_settings {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

/// Update number `step` (from 1) of n parameters: optim::adam_rule's arithmetic. vmax null:
/// plain Adam; otherwise AMSGrad with vmax as its running maximum.
void adam_update(const adam_settings& settings, std::uint64_t step, float* value, const float* grad, float* m, float* v,
                 float* vmax, std::size_t n, cudaStream_t stream = nullptr);

/// RMSprop's hyper-parameters, as gant::optim::rmsprop_params holds them.
struct rmsprop_settings {
    double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
};

/// One RMSprop update: optim::rmsprop_rule's arithmetic. buf (momentum > 0) and mean (centered)
/// are null when unused.
void rmsprop_update(const rmsprop_settings& settings, float* value, const float* grad, float* square, float* buf,
                    float* mean, std::size_t n, cudaStream_t stream = nullptr);

/// average = decay * average + (1 - decay) * weights (gant::ema's update of one parameter).
void ema_update(double decay, float* average, const float* weights, std::size_t n, cudaStream_t stream = nullptr);

/// out[r] = table[rows[r]] for count rows of row_size floats: a batch drawn from a dataset held
/// on the device (gant/cuda/batch_source.hpp).
void gather_rows(const float* table, std::size_t row_size, const std::uint32_t* rows, std::size_t count, float* out,
                 cudaStream_t stream = nullptr);

}  // namespace gant::cuda
