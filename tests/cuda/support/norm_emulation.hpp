#pragma once
// The device normalisation passes (cuda/src/normalization.cu) replayed on the CPU with the same
// functors, in the same order, each group's sums in element order instead of a block's tree:
// what test_cuda_normalization_reference checks against gant's CPU layers and
// test_cuda_normalization checks the GPU against.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "gant/cuda/detail/normalization_ops.hpp"
#include "support/functor_checks.hpp"

namespace gant::cuda::testing {

/// Per-group statistics of a forward pass.
struct norm_statistics {
    std::vector<float> mean, inv_std, variance;
};

inline norm_statistics emulate_norm_forward(const norm_problem& p, float eps, const float* x, const float* gamma,
                                            const float* beta, float* y) {
    namespace d = gant::cuda::detail;
    const d::norm_layout layout = d::layout_of(p);
    const double n = double(p.group_size());
    std::vector<double> exact(p.groups());
    norm_statistics st{std::vector<float>(p.groups()), std::vector<float>(p.groups()), std::vector<float>(p.groups())};
    d::reduce_groups_on_host(layout, d::mean_terms{x, exact.data(), n});
    d::reduce_groups_on_host(layout, d::variance_terms{layout, x, exact.data(), n, eps, st.mean.data(),
                                                       st.inv_std.data(), st.variance.data()});
    emulate(d::norm_apply_op{layout, x, gamma, beta, st.mean.data(), st.inv_std.data(), y}, p.elements());
    return st;
}

inline void emulate_norm_backward(const norm_problem& p, bool from_input, const float* x, const norm_statistics& st,
                                  const float* gamma, const float* ybar, float* xbar, float* gamma_grad,
                                  float* beta_grad) {
    namespace d = gant::cuda::detail;
    const d::norm_layout layout = d::layout_of(p);
    if (gamma_grad || beta_grad)
        d::reduce_groups_on_host(layout.by_channel(),
                                 d::affine_grad_terms{layout, x, st.mean.data(), st.inv_std.data(), ybar, nullptr,
                                                      nullptr, nullptr, gamma_grad, beta_grad});
    if (!xbar) return;
    std::vector<float> scalars(2 * p.groups());
    d::reduce_groups_on_host(layout, d::backward_terms{layout, x, st.mean.data(), st.inv_std.data(), gamma, ybar,
                                                       double(p.group_size()), from_input ? 1.f : 0.f, scalars.data()});
    emulate(d::backward_op{layout, x, st.mean.data(), st.inv_std.data(), gamma, ybar, scalars.data(), xbar},
            p.elements());
}

inline void emulate_norm_tangent(const norm_problem& p, bool from_input, const float* x, const norm_statistics& st,
                                 const float* gamma, const float* xdot, float* ydot) {
    namespace d = gant::cuda::detail;
    const d::norm_layout layout = d::layout_of(p);
    std::vector<float> scalars(2 * p.groups());
    d::reduce_groups_on_host(layout, d::tangent_terms{layout, x, st.mean.data(), st.inv_std.data(), xdot,
                                                      double(p.group_size()), from_input ? 1.f : 0.f, scalars.data()});
    emulate(d::tangent_op{layout, x, st.mean.data(), st.inv_std.data(), gamma, xdot, scalars.data(), ydot},
            p.elements());
}

inline void emulate_norm_paired(const norm_problem& p, bool from_input, const float* x, const float* xdot,
                                const norm_statistics& st, const float* gamma, const float* ybar, const float* ydotbar,
                                float* xbar, float* xdotbar, float* gamma_grad, float* beta_grad) {
    namespace d = gant::cuda::detail;
    const d::norm_layout layout = d::layout_of(p);
    std::vector<float> scalars(7 * p.groups());
    d::reduce_groups_on_host(layout,
                             d::paired_terms{layout, x, st.mean.data(), st.inv_std.data(), gamma, xdot, ybar, ydotbar,
                                             double(p.group_size()), from_input ? 1.f : 0.f, scalars.data()});
    if (gamma_grad || beta_grad)
        d::reduce_groups_on_host(layout.by_channel(),
                                 d::affine_grad_terms{layout, x, st.mean.data(), st.inv_std.data(), ybar, xdot, ydotbar,
                                                      scalars.data(), gamma_grad, beta_grad});
    if (xbar || xdotbar)
        emulate(d::paired_op{layout, x, st.mean.data(), st.inv_std.data(), gamma, xdot, ybar, ydotbar, scalars.data(),
                             xbar, xdotbar},
                p.elements());
}

/// Largest |a - b| over the largest |b| (at least 1e-30): a normwise relative error; infinite
/// for a NaN or a size mismatch.
inline double normwise(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0, scale = 1e-30;
    for (std::size_t i = 0; i < b.size() && i < a.size(); ++i) {
        const double d = double(a[i]) - double(b[i]);
        if (std::isnan(d)) return std::numeric_limits<double>::infinity();  // an unwritten (NaN) element too
        worst = std::max(worst, d < 0 ? -d : d);
        scale = std::max(scale, double(b[i] < 0 ? -b[i] : b[i]));
    }
    return a.size() == b.size() ? worst / scale : std::numeric_limits<double>::infinity();
}

}  // namespace gant::cuda::testing
