#pragma once
// The sequence of each normalisation pass (gant/cuda/normalization.hpp), written once over an
// executor: cuda/src/normalization.cu runs it with device_exec, the tests with host_exec. The
// public entry points check their arguments first; these templates assume valid ones.
#include <cstddef>

#include "gant/cuda/detail/normalization_ops.hpp"

namespace gant::cuda::detail {

template <class Exec>
void norm_forward_pass(const Exec& exec, const norm_problem& p, float eps, const float* x, const float* gamma,
                       const float* beta, float* y, float* mean, float* inv_std, float* variance) {
    const norm_layout layout = layout_of(p);
    const double n = double(p.group_size());
    auto exact_mean = exec.template scratch<double>(p.groups());
    exec.group_sums(layout, mean_terms{x, exact_mean.data(), n}, "launch of norm_forward (mean)");
    exec.group_sums(layout, variance_terms{layout, x, exact_mean.data(), n, eps, mean, inv_std, variance},
                    "launch of norm_forward (variance)");
    exec.elementwise(norm_apply_op{layout, x, gamma, beta, mean, inv_std, y}, p.elements(),
                     "launch of norm_forward (apply)");
}

template <class Exec>
void norm_apply_pass(const Exec& exec, const norm_problem& p, const float* x, const float* gamma, const float* beta,
                     const float* mean, const float* inv_std, float* y) {
    exec.elementwise(norm_apply_op{layout_of(p), x, gamma, beta, mean, inv_std, y}, p.elements(),
                     "launch of norm_apply");
}

template <class Exec>
void norm_backward_pass(const Exec& exec, const norm_problem& p, bool from_input, const float* x, const float* mean,
                        const float* inv_std, const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                        float* beta_grad) {
    const norm_layout layout = layout_of(p);
    if (gamma_grad || beta_grad)
        exec.group_sums(
            layout.by_channel(),
            affine_grad_terms{layout, x, mean, inv_std, ybar, nullptr, nullptr, nullptr, gamma_grad, beta_grad},
            "launch of norm_backward (parameter gradients)");
    if (!xbar) return;
    auto scalars = exec.template scratch<float>(2 * p.groups());
    exec.group_sums(layout,
                    backward_terms{layout, x, mean, inv_std, gamma, ybar, double(p.group_size()),
                                   from_input ? 1.f : 0.f, scalars.data()},
                    "launch of norm_backward (group means)");
    exec.elementwise(backward_op{layout, x, mean, inv_std, gamma, ybar, scalars.data(), xbar}, p.elements(),
                     "launch of norm_backward (input gradient)");
}

template <class Exec>
void norm_tangent_pass(const Exec& exec, const norm_problem& p, bool from_input, const float* x, const float* mean,
                       const float* inv_std, const float* gamma, const float* xdot, float* ydot) {
    const norm_layout layout = layout_of(p);
    auto scalars = exec.template scratch<float>(2 * p.groups());
    exec.group_sums(
        layout,
        tangent_terms{layout, x, mean, inv_std, xdot, double(p.group_size()), from_input ? 1.f : 0.f, scalars.data()},
        "launch of norm_tangent (group means)");
    exec.elementwise(tangent_op{layout, x, mean, inv_std, gamma, xdot, scalars.data(), ydot}, p.elements(),
                     "launch of norm_tangent");
}

template <class Exec>
void norm_paired_pass(const Exec& exec, const norm_problem& p, bool from_input, const float* x, const float* xdot,
                      const float* mean, const float* inv_std, const float* gamma, const float* ybar,
                      const float* ydotbar, float* xbar, float* xdotbar, float* gamma_grad, float* beta_grad) {
    const norm_layout layout = layout_of(p);
    auto scalars = exec.template scratch<float>(7 * p.groups());
    exec.group_sums(layout,
                    paired_terms{layout, x, mean, inv_std, gamma, xdot, ybar, ydotbar, double(p.group_size()),
                                 from_input ? 1.f : 0.f, scalars.data()},
                    "launch of norm_paired (group means)");
    if (gamma_grad || beta_grad)
        exec.group_sums(
            layout.by_channel(),
            affine_grad_terms{layout, x, mean, inv_std, ybar, xdot, ydotbar, scalars.data(), gamma_grad, beta_grad},
            "launch of norm_paired (parameter gradients)");
    if (xbar || xdotbar)
        exec.elementwise(paired_op{layout, x, mean, inv_std, gamma, xdot, ybar, ydotbar, scalars.data(), xbar, xdotbar},
                         p.elements(), "launch of norm_paired");
}

template <class Exec>
void batch_norm_update_running_pass(const Exec& exec, std::size_t channels, std::size_t count, float momentum,
                                    const float* mean, const float* variance, float* running_mean, float* running_var) {
    exec.elementwise(running_update_op{momentum, float(count), mean, variance, running_mean, running_var}, channels,
                     "launch of batch_norm_update_running");
}

template <class Exec>
void batch_norm_statistics_pass(const Exec& exec, std::size_t channels, float eps, const float* running_mean,
                                const float* running_var, float* mean, float* inv_std) {
    exec.elementwise(running_statistics_op{eps, running_mean, running_var, mean, inv_std}, channels,
                     "launch of batch_norm_statistics");
}

}  // namespace gant::cuda::detail
