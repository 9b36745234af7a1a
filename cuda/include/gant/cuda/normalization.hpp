#pragma once
// Batch and layer normalisation on the device: the four passes of include/gant/layers/
// normalize.hpp (forward with measured statistics, backward, tangent, paired reverse) over a
// [batch, channels, plane] float batch, for either grouping:
//   per_channel  one group per channel across the batch (batch_norm in training mode)
//   per_sample   one group per sample over all its channels (gant's layer_norm)
// with gant's per-channel affine map y = gamma_c * xhat + beta_c (gamma, beta may be null: 1, 0).
//
// Each pass is a block per group that sums what the group's means need (in double, as the CPU
// does), an element pass that uses them, and for the parameter gradients a block per channel
// that sums over the batch (in double), so nothing is accumulated by atomics and every result
// is the same run to run. The sums are taken in a different order from the CPU's, so results
// agree with gant's CPU layers to float rounding (docs/cuda.md). Plain C++; kernels in
// cuda/src/normalization.cu.
#include <cuda_runtime_api.h>

#include <cstddef>

namespace gant::cuda {

enum class norm_grouping { per_channel, per_sample };

struct norm_problem {
    norm_grouping grouping = norm_grouping::per_sample;
    std::size_t batch = 1, channels = 1, plane = 1;  // elements per channel per sample

    std::size_t elements() const { return batch * channels * plane; }
    std::size_t groups() const { return grouping == norm_grouping::per_sample ? batch : channels; }
    std::size_t group_size() const { return grouping == norm_grouping::per_sample ? channels * plane : batch * plane; }
};

/// Measures each group's mean and biased variance of x (two passes, double sums), stores mean
/// and inv_std = 1 / sqrt(variance + eps) per group (and the variance when `variance` is not
/// null, for batch_norm's running statistics), and writes y = gamma_c (x - mean) inv_std + beta_c.
void norm_forward(const norm_problem& problem, float eps, const float* x, const float* gamma, const float* beta,
                  float* y, float* mean, float* inv_std, float* variance, cudaStream_t stream = nullptr);

/// y from given statistics (batch_norm in inference mode: mean and inv_std from the running
/// statistics, see batch_norm_statistics).
void norm_apply(const norm_problem& problem, const float* x, const float* gamma, const float* beta, const float* mean,
                const float* inv_std, float* y, cudaStream_t stream = nullptr);

/// xbar = J(gamma * ybar) (may be null) and gamma_grad += sum(ybar * xhat), beta_grad +=
/// sum(ybar) (each may be null). from_input: the statistics were measured from x (training);
/// false: they are constants (inference), and J(u) = u * inv_std.
void norm_backward(const norm_problem& problem, bool from_input, const float* x, const float* mean,
                   const float* inv_std, const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                   float* beta_grad, cudaStream_t stream = nullptr);

/// ydot = gamma * J(xdot).
void norm_tangent(const norm_problem& problem, bool from_input, const float* x, const float* mean, const float* inv_std,
                  const float* gamma, const float* xdot, float* ydot, cudaStream_t stream = nullptr);

/// The paired reverse pass (normalize::backward_paired): xbar and xdotbar (each may be null),
/// gamma_grad += sum(ybar xhat + ydotbar xhat_dot), beta_grad += sum(ybar).
void norm_paired(const norm_problem& problem, bool from_input, const float* x, const float* xdot, const float* mean,
                 const float* inv_std, const float* gamma, const float* ybar, const float* ydotbar, float* xbar,
                 float* xdotbar, float* gamma_grad, float* beta_grad, cudaStream_t stream = nullptr);

/// batch_norm's running statistics after a training forward of `count` values per channel:
/// running = (1 - momentum) running + momentum * batch, with the unbiased variance.
void batch_norm_update_running(std::size_t channels, std::size_t count, float momentum, const float* mean,
                               const float* variance, float* running_mean, float* running_var,
                               cudaStream_t stream = nullptr);

/// mean = running_mean, inv_std = 1 / sqrt(running_var + eps): inference-mode statistics.
void batch_norm_statistics(std::size_t channels, float eps, const float* running_mean, const float* running_var,
                           float* mean, float* inv_std, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
