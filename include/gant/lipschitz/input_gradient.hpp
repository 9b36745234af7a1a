#pragma once
// Exact penalties on the critic's input gradient, the machinery shared by the gradient penalty
// (WGAN-GP), the Wasserstein divergence (WGAN-div) and user penalties such as R1.
//
// A penalty P = sum_i phi(q_i), q_i = ||g_i||^2, g_i = grad_x D(x_i), depends on the critic's
// weights theta only through g. With v_i = dP/dg_i = 2 phi'(q_i) g_i held fixed,
//     dP/dtheta = d/dtheta [ sum_i v_i . g_i(theta) ],
// and v_i . g_i is the directional derivative of D at x_i along v_i: a JVP. So:
//   1. forward at the points, backward with seed 1 (weights untouched) -> g_i
//   2. v_i from phi'
//   3. tangent forward with input tangent v
//   4. paired reverse with output adjoint 0 and output-tangent adjoint 1 -> exact dP/dtheta,
//      accumulated into the critic's gradients.
// No finite differences and no second backward graph: only the layers' first-order kernels.
#include <cmath>
#include <cstddef>

#include "gant/core/context.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"

namespace gant::lipschitz {

/// The per-sample penalty phi as a function of q = ||g||^2: value and derivative d phi / dq.
struct penalty_term {
    double value;
    double derivative;
};

/// What a penalty pass measured, for logging.
struct penalty_report {
    double value = 0;          // the penalty added to the critic objective
    double mean_grad_norm = 0; // mean over samples of ||grad_x D||
};

template <class T>
class input_gradient_penalty {
public:
    /// Adds the exact gradient of sum_i phi(||grad_x D(points_i)||^2) to the critic's parameter
    /// gradients and returns the penalty value. phi(q) -> penalty_term.
    template <class Critic, class Phi>
    penalty_report apply(Critic& critic, const tensor<T>& points, Phi&& phi, const pass_context& ctx = {}) {
        const std::size_t n = points.shape(0), features = points.shape(1);
        critic.forward_borrowed(points, ctx);  // points stay as they are until the paired pass
        ensure_shape(ones_, n, Critic::output_size);
        ensure_shape(zeros_, n, Critic::output_size);
        std::fill(ones_.begin(), ones_.end(), T(1));
        std::fill(zeros_.begin(), zeros_.end(), T(0));
        critic.backward(ones_, &grad_, false, ctx);  // g_i, weights untouched

        ensure_shape(direction_, n, features);
        penalty_report report;
        for (std::size_t i = 0; i < n; ++i) {
            const T* g = &grad_(i, 0);
            double q = 0;
            for (std::size_t j = 0; j < features; ++j) q += double(g[j]) * double(g[j]);
            const penalty_term term = phi(q);
            report.value += term.value;
            report.mean_grad_norm += std::sqrt(q) / double(n);
            const T scale = T(2 * term.derivative);
            T* v = &direction_(i, 0);
            for (std::size_t j = 0; j < features; ++j) v[j] = scale * g[j];
        }
        critic.forward_tangent(direction_, ctx);
        critic.backward_paired(zeros_, ones_, nullptr, nullptr, ctx);
        return report;
    }

    /// The input gradients of the last apply(), one row per point.
    const tensor<T>& input_gradients() const { return grad_; }

private:
    tensor<T> grad_, direction_, ones_, zeros_;
};

/// x_hat_i = eps_i x_i + (1 - eps_i) y_i with one eps_i ~ U[0, 1) per sample (WGAN-GP).
template <class T>
void interpolate(const tensor<T>& real, const tensor<T>& fake, tensor<T>& out, rng& r) {
    const std::size_t n = real.shape(0), f = real.shape(1);
    ensure_shape(out, n, f);
    for (std::size_t i = 0; i < n; ++i) {
        const T eps = T(r.uniform());
        for (std::size_t j = 0; j < f; ++j) out(i, j) = eps * real(i, j) + (T(1) - eps) * fake(i, j);
    }
}

}  // namespace gant::lipschitz
