#pragma once
// spectral_norm<Layer, Dim> on the device: the wrapped device layer (dense, conv2d,
// conv_transpose2d) computes with W_SN = W / sigma(W), as gant::spectral_norm_impl
// (include/gant/layers/spectral_norm.hpp) does on the CPU:
//   * the raw weight W is this layer's parameter (the CPU's name, shape, role and fans, visited
//     where the wrapped layer's weight would be), the wrapped layer's own weight holds W_SN;
//   * u and v are buffers ("u" [rows], "v" [cols], visited after the wrapped layer's buffers)
//     starting from the CPU's values (spectral_start), so upload_network carries them over;
//   * a training-mode forward that may update state runs one power-iteration step; every forward
//     recomputes sigma = u^T W v and W_SN (gant/cuda/spectral.hpp);
//   * backward and the paired reverse zero the wrapped layer's weight gradient, run it, and pull
//     its gradient G back to W: dL/dW += (G - <G, W_SN> u v^T) / sigma (u, v constant);
//   * the tangent is the wrapped layer's, with W_SN.
// sigma lives in device memory; sigma() copies it to the host (tests, reports) and waits.
#include <cstddef>
#include <vector>

#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/layers/device_state.hpp"
#include "gant/cuda/spectral.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

template <class Inner, std::size_t Dim>
class device_spectral_norm {
    static_assert(Dim <= 1, "gant: spectral_norm reads the weight with rows along dimension 0 or 1");

public:
    using scalar = typename Inner::scalar;
    using T = scalar;
    using input_shape = typename Inner::input_shape;
    using output_shape = typename Inner::output_shape;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = Inner::couples_samples;
    static constexpr bool uses_batch_statistics = gant::uses_batch_statistics<Inner>();
    static constexpr bool second_order = Inner::second_order;

    device_spectral_norm()
        : weight_(inner_.weight().name, inner_.weight().shape, inner_.weight().role, inner_.weight().fan_in,
                  inner_.weight().fan_out),
          matrix_(spectral_matrix_of(weight_.shape, Dim)),
          u_("u", {matrix_.rows}, T(0)),
          v_("v", {matrix_.cols}, T(0)),
          sigma_(1) {
        const spectral_vectors start = spectral_start(matrix_.rows, matrix_.cols);
        u_.value.copy_from_host(start.u);
        v_.value.copy_from_host(start.v);
        sigma_.copy_from_host(std::vector<T>{T(1)});
    }

    Inner& inner() { return inner_; }
    device_parameter<T>& weight() { return weight_; }
    device_state<T>& u() { return u_; }
    device_state<T>& v() { return v_; }
    /// sigma of the last forward (or power_iterate), copied to the host after the queued work.
    T sigma() const { return sigma_.to_host()[0]; }

    /// Runs `iterations` power-iteration steps and updates sigma, nothing else (tests, warm-up).
    void power_iterate(std::size_t iterations) {
        spectral_normalise(matrix_, iterations, weight_.data(), u_.data(), v_.data(), sigma_.data(), nullptr);
    }

    void forward(const batch& x, batch& y, const pass_context& ctx) {
        const std::size_t steps = ctx.training() && ctx.update_statistics ? 1 : 0;
        spectral_normalise(matrix_, steps, weight_.data(), u_.data(), v_.data(), sigma_.data(), inner_.weight().data());
        inner_.forward(x, y, ctx);
    }

    void backward(const batch& x, const batch& y, const batch& dy, batch* dx, bool accumulate,
                  const pass_context& ctx) {
        if (accumulate) inner_.weight().zero_grad();
        inner_.backward(x, y, dy, dx, accumulate, ctx);
        if (accumulate) pull_back_weight_gradient();
    }

    void forward_tangent(const batch& x, const batch& y, const batch& xdot, batch& ydot, const pass_context& ctx) {
        inner_.forward_tangent(x, y, xdot, ydot, ctx);
    }

    void backward_paired(const batch& x, const batch& y, const batch& xdot, const batch& ydot, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context& ctx) {
        inner_.weight().zero_grad();
        inner_.backward_paired(x, y, xdot, ydot, ybar, ydotbar, xbar, xdotbar, ctx);
        pull_back_weight_gradient();
    }

    template <class F>
    void visit_parameters(F&& f) {
        device_parameter<T>* effective = &inner_.weight();
        inner_.visit_parameters([&](device_parameter<T>& p) { f(&p == effective ? weight_ : p); });
    }
    template <class F>
    void visit_buffers(F&& f) {
        inner_.visit_buffers(f);
        f(u_);
        f(v_);
    }

private:
    void pull_back_weight_gradient() {
        spectral_pull_back(matrix_, inner_.weight().grad_data(), inner_.weight().data(), u_.data(), v_.data(),
                           sigma_.data(), weight_.grad_data());
    }

    Inner inner_;
    device_parameter<T> weight_;  // the raw weight W, trained by the optimiser
    spectral_matrix matrix_;
    device_state<T> u_, v_;
    device_buffer<T> sigma_;
};

}  // namespace gant::cuda
