// Batch and layer normalisation on the device (gant/cuda/normalization.hpp): argument checks,
// then the passes of detail/normalization_passes.hpp run by device_exec.
#include <cstddef>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/device_exec.cuh"
#include "gant/cuda/detail/normalization_passes.hpp"
#include "gant/cuda/normalization.hpp"

namespace gant::cuda {

using detail::require_argument;

namespace {

void require_problem(const norm_problem& p, const char* function) {
    require_argument(p.batch > 0 && p.channels > 0 && p.plane > 0, function,
                     "the batch, channel count and plane size must be positive");
    require_argument(p.group_size() > 1 || p.grouping == norm_grouping::per_sample, function,
                     "batch statistics need more than one value per channel");
}

}  // namespace

void norm_forward(const norm_problem& problem, float eps, const float* x, const float* gamma, const float* beta,
                  float* y, float* mean, float* inv_std, float* variance, cudaStream_t stream) {
    require_problem(problem, "norm_forward");
    require_argument(x && y && mean && inv_std, "norm_forward", "the input, output or statistics pointer is null");
    detail::norm_forward_pass(detail::device_exec{stream}, problem, eps, x, gamma, beta, y, mean, inv_std, variance);
}

void norm_apply(const norm_problem& problem, const float* x, const float* gamma, const float* beta, const float* mean,
                const float* inv_std, float* y, cudaStream_t stream) {
    require_problem(problem, "norm_apply");
    require_argument(x && y && mean && inv_std, "norm_apply", "the input, output or statistics pointer is null");
    detail::norm_apply_pass(detail::device_exec{stream}, problem, x, gamma, beta, mean, inv_std, y);
}

void norm_backward(const norm_problem& problem, bool from_input, const float* x, const float* mean,
                   const float* inv_std, const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                   float* beta_grad, cudaStream_t stream) {
    require_problem(problem, "norm_backward");
    require_argument(x && mean && inv_std && ybar, "norm_backward", "the input, statistics or ybar pointer is null");
    detail::norm_backward_pass(detail::device_exec{stream}, problem, from_input, x, mean, inv_std, gamma, ybar, xbar,
                               gamma_grad, beta_grad);
}

void norm_tangent(const norm_problem& problem, bool from_input, const float* x, const float* mean, const float* inv_std,
                  const float* gamma, const float* xdot, float* ydot, cudaStream_t stream) {
    require_problem(problem, "norm_tangent");
    require_argument(x && mean && inv_std && xdot && ydot, "norm_tangent",
                     "the input, statistics, tangent or output pointer is null");
    detail::norm_tangent_pass(detail::device_exec{stream}, problem, from_input, x, mean, inv_std, gamma, xdot, ydot);
}

void norm_paired(const norm_problem& problem, bool from_input, const float* x, const float* xdot, const float* mean,
                 const float* inv_std, const float* gamma, const float* ybar, const float* ydotbar, float* xbar,
                 float* xdotbar, float* gamma_grad, float* beta_grad, cudaStream_t stream) {
    require_problem(problem, "norm_paired");
    require_argument(x && xdot && mean && inv_std && ybar && ydotbar, "norm_paired",
                     "an input, tangent, statistics or adjoint pointer is null");
    detail::norm_paired_pass(detail::device_exec{stream}, problem, from_input, x, xdot, mean, inv_std, gamma, ybar,
                             ydotbar, xbar, xdotbar, gamma_grad, beta_grad);
}

void batch_norm_update_running(std::size_t channels, std::size_t count, float momentum, const float* mean,
                               const float* variance, float* running_mean, float* running_var, cudaStream_t stream) {
    require_argument(count > 1, "batch_norm_update_running", "the unbiased variance needs more than one value");
    require_argument(channels == 0 || (mean && variance && running_mean && running_var), "batch_norm_update_running",
                     "a statistics pointer is null");
    detail::batch_norm_update_running_pass(detail::device_exec{stream}, channels, count, momentum, mean, variance,
                                           running_mean, running_var);
}

void batch_norm_statistics(std::size_t channels, float eps, const float* running_mean, const float* running_var,
                           float* mean, float* inv_std, cudaStream_t stream) {
    require_argument(channels == 0 || (running_mean && running_var && mean && inv_std), "batch_norm_statistics",
                     "a statistics pointer is null");
    detail::batch_norm_statistics_pass(detail::device_exec{stream}, channels, eps, running_mean, running_var, mean,
                                       inv_std);
}

}  // namespace gant::cuda
