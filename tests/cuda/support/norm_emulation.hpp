#pragma once
// The device normalisation passes (detail/normalization_passes.hpp, which cuda/src runs with
// device_exec) run on the CPU with host_exec: each group's sums in element order instead of a
// block's tree. test_cuda_normalization_reference checks them against gant's CPU layers and
// test_cuda_normalization checks the GPU against them.
#include <cstddef>
#include <vector>

#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/normalization_passes.hpp"
#include "support/functor_checks.hpp"

namespace gant::cuda::testing {

/// Per-group statistics of a forward pass.
struct norm_statistics {
    std::vector<float> mean, inv_std, variance;
};

inline norm_statistics emulate_norm_forward(const norm_problem& p, float eps, const float* x, const float* gamma,
                                            const float* beta, float* y) {
    norm_statistics st{std::vector<float>(p.groups()), std::vector<float>(p.groups()), std::vector<float>(p.groups())};
    gant::cuda::detail::norm_forward_pass(gant::cuda::detail::host_exec{}, p, eps, x, gamma, beta, y, st.mean.data(),
                                          st.inv_std.data(), st.variance.data());
    return st;
}

inline void emulate_norm_backward(const norm_problem& p, bool from_input, const float* x, const norm_statistics& st,
                                  const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                                  float* beta_grad) {
    gant::cuda::detail::norm_backward_pass(gant::cuda::detail::host_exec{}, p, from_input, x, st.mean.data(),
                                           st.inv_std.data(), gamma, ybar, xbar, gamma_grad, beta_grad);
}

inline void emulate_norm_tangent(const norm_problem& p, bool from_input, const float* x, const norm_statistics& st,
                                 const float* gamma, const float* xdot, float* ydot) {
    gant::cuda::detail::norm_tangent_pass(gant::cuda::detail::host_exec{}, p, from_input, x, st.mean.data(),
                                          st.inv_std.data(), gamma, xdot, ydot);
}

inline void emulate_norm_paired(const norm_problem& p, bool from_input, const float* x, const float* xdot,
                                const norm_statistics& st, const float* gamma, const float* ybar, const float* ydotbar,
                                float* xbar, float* xdotbar, float* gamma_grad, float* beta_grad) {
    gant::cuda::detail::norm_paired_pass(gant::cuda::detail::host_exec{}, p, from_input, x, xdot, st.mean.data(),
                                         st.inv_std.data(), gamma, ybar, ydotbar, xbar, xdotbar, gamma_grad, beta_grad);
}

}  // namespace gant::cuda::testing
