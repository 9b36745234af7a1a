// Batch and layer normalisation on the device (gant/cuda/normalization.hpp): group sums by a
// block per group, then the element passes of detail/normalization_ops.hpp.
#include <cstddef>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/normalization_ops.hpp"
#include "gant/cuda/detail/run_elementwise.cuh"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/normalization.hpp"

namespace gant::cuda {

using detail::require_argument;

namespace {

constexpr int reduce_threads = 256;

/// Block g sums Terms over group g of `over`: each thread a strided share of the elements, then a
/// tree over the block in shared memory (a fixed order: the same sums every run); thread 0
/// finishes the group.
template <class Terms>
__global__ void __launch_bounds__(reduce_threads) group_sums_kernel(detail::norm_layout over, Terms terms) {
    constexpr int K = Terms::count;
    __shared__ double partial[K][reduce_threads];
    const std::size_t g = blockIdx.x, size = over.group_size();
    double sums[K] = {};
    for (std::size_t k = threadIdx.x; k < size; k += reduce_threads) terms(over.element(g, k), sums);
    for (int j = 0; j < K; ++j) partial[j][threadIdx.x] = sums[j];
    __syncthreads();
    for (int width = reduce_threads / 2; width > 0; width /= 2) {
        if (int(threadIdx.x) < width)
            for (int j = 0; j < K; ++j) partial[j][threadIdx.x] += partial[j][threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        for (int j = 0; j < K; ++j) sums[j] = partial[j][0];
        terms.finish(g, sums);
    }
}

template <class Terms>
void group_sums(const detail::norm_layout& over, const Terms& terms, cudaStream_t stream, const char* what) {
    if (over.groups() == 0) return;
    group_sums_kernel<<<unsigned(over.groups()), reduce_threads, 0, stream>>>(over, terms);
    detail::check_cuda(cudaGetLastError(), what, __FILE__, __LINE__);
}

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
    const detail::norm_layout layout = detail::layout_of(problem);
    const double n = double(problem.group_size());
    device_buffer<double> exact_mean(problem.groups(), stream);
    group_sums(layout, detail::mean_terms{x, exact_mean.data(), n}, stream, "launch of norm_forward (mean)");
    group_sums(layout, detail::variance_terms{layout, x, exact_mean.data(), n, eps, mean, inv_std, variance}, stream,
               "launch of norm_forward (variance)");
    detail::run_elementwise(detail::norm_apply_op{layout, x, gamma, beta, mean, inv_std, y}, problem.elements(), stream,
                            "launch of norm_forward (apply)");
}

void norm_apply(const norm_problem& problem, const float* x, const float* gamma, const float* beta, const float* mean,
                const float* inv_std, float* y, cudaStream_t stream) {
    require_problem(problem, "norm_apply");
    require_argument(x && y && mean && inv_std, "norm_apply", "the input, output or statistics pointer is null");
    detail::run_elementwise(detail::norm_apply_op{detail::layout_of(problem), x, gamma, beta, mean, inv_std, y},
                            problem.elements(), stream, "launch of norm_apply");
}

void norm_backward(const norm_problem& problem, bool from_input, const float* x, const float* mean,
                   const float* inv_std, const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                   float* beta_grad, cudaStream_t stream) {
    require_problem(problem, "norm_backward");
    require_argument(x && mean && inv_std && ybar, "norm_backward", "the input, statistics or ybar pointer is null");
    const detail::norm_layout layout = detail::layout_of(problem);
    if (gamma_grad || beta_grad)
        group_sums(
            layout.by_channel(),
            detail::affine_grad_terms{layout, x, mean, inv_std, ybar, nullptr, nullptr, nullptr, gamma_grad, beta_grad},
            stream, "launch of norm_backward (parameter gradients)");
    if (!xbar) return;
    device_buffer<float> scalars(2 * problem.groups(), stream);
    group_sums(layout,
               detail::backward_terms{layout, x, mean, inv_std, gamma, ybar, double(problem.group_size()),
                                      from_input ? 1.f : 0.f, scalars.data()},
               stream, "launch of norm_backward (group means)");
    detail::run_elementwise(detail::backward_op{layout, x, mean, inv_std, gamma, ybar, scalars.data(), xbar},
                            problem.elements(), stream, "launch of norm_backward (input gradient)");
}

void norm_tangent(const norm_problem& problem, bool from_input, const float* x, const float* mean, const float* inv_std,
                  const float* gamma, const float* xdot, float* ydot, cudaStream_t stream) {
    require_problem(problem, "norm_tangent");
    require_argument(x && mean && inv_std && xdot && ydot, "norm_tangent",
                     "the input, statistics, tangent or output pointer is null");
    const detail::norm_layout layout = detail::layout_of(problem);
    device_buffer<float> scalars(2 * problem.groups(), stream);
    group_sums(layout,
               detail::tangent_terms{layout, x, mean, inv_std, xdot, double(problem.group_size()),
                                     from_input ? 1.f : 0.f, scalars.data()},
               stream, "launch of norm_tangent (group means)");
    detail::run_elementwise(detail::tangent_op{layout, x, mean, inv_std, gamma, xdot, scalars.data(), ydot},
                            problem.elements(), stream, "launch of norm_tangent");
}

void norm_paired(const norm_problem& problem, bool from_input, const float* x, const float* xdot, const float* mean,
                 const float* inv_std, const float* gamma, const float* ybar, const float* ydotbar, float* xbar,
                 float* xdotbar, float* gamma_grad, float* beta_grad, cudaStream_t stream) {
    require_problem(problem, "norm_paired");
    require_argument(x && xdot && mean && inv_std && ybar && ydotbar, "norm_paired",
                     "an input, tangent, statistics or adjoint pointer is null");
    const detail::norm_layout layout = detail::layout_of(problem);
    device_buffer<float> scalars(7 * problem.groups(), stream);
    group_sums(layout,
               detail::paired_terms{layout, x, mean, inv_std, gamma, xdot, ybar, ydotbar, double(problem.group_size()),
                                    from_input ? 1.f : 0.f, scalars.data()},
               stream, "launch of norm_paired (group means)");
    if (gamma_grad || beta_grad)
        group_sums(layout.by_channel(),
                   detail::affine_grad_terms{layout, x, mean, inv_std, ybar, xdot, ydotbar, scalars.data(), gamma_grad,
                                             beta_grad},
                   stream, "launch of norm_paired (parameter gradients)");
    if (xbar || xdotbar)
        detail::run_elementwise(
            detail::paired_op{layout, x, mean, inv_std, gamma, xdot, ybar, ydotbar, scalars.data(), xbar, xdotbar},
            problem.elements(), stream, "launch of norm_paired");
}

void batch_norm_update_running(std::size_t channels, std::size_t count, float momentum, const float* mean,
                               const float* variance, float* running_mean, float* running_var, cudaStream_t stream) {
    require_argument(count > 1, "batch_norm_update_running", "the unbiased variance needs more than one value");
    require_argument(channels == 0 || (mean && variance && running_mean && running_var), "batch_norm_update_running",
                     "a statistics pointer is null");
    detail::run_elementwise(
        detail::running_update_op{momentum, float(count), mean, variance, running_mean, running_var}, channels, stream,
        "launch of batch_norm_update_running");
}

void batch_norm_statistics(std::size_t channels, float eps, const float* running_mean, const float* running_var,
                           float* mean, float* inv_std, cudaStream_t stream) {
    require_argument(channels == 0 || (running_mean && running_var && mean && inv_std), "batch_norm_statistics",
                     "a statistics pointer is null");
    detail::run_elementwise(detail::running_statistics_op{eps, running_mean, running_var, mean, inv_std}, channels,
                            stream, "launch of batch_norm_statistics");
}

}  // namespace gant::cuda
