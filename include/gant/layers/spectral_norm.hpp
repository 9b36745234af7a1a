#pragma once
// Spectral normalisation (Miyato et al. 2018) as a wrapper around any layer with a weight():
// the wrapped layer computes with W_SN = W / sigma(W), sigma estimated by one power iteration
// per training-mode forward on a persistent u (PyTorch's torch.nn.utils.spectral_norm).
//
//   v <- W^T u / ||W^T u||,  u <- W v / ||W v||,  sigma = u^T W v     (eps 1e-12)
//   dL/dW = (G - <G, W_SN> u v^T) / sigma,  G = dL/dW_SN,  u and v held constant
//
// The map W -> W_SN is only a re-parametrisation of the weight, so the wrapped layer's own
// tangent and paired-reverse rules stay exact: their weight gradients pass through the same
// formula. Inference-mode forwards, and training-mode ones that must leave the state alone
// (update_statistics = false: gan<...>::generate), reuse the stored u and v without updating them.
//
// The weight is read as a matrix with rows = dimension Dim of its shape (0 for dense and
// conv2d, whose first dimension is the output; 1 for conv_transpose2d, as in PyTorch).
#include <cmath>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

template <class Inner, std::size_t Dim>
class spectral_norm_impl {
public:
    using scalar = typename Inner::scalar;
    using T = scalar;
    using input_shape = typename Inner::input_shape;
    using output_shape = typename Inner::output_shape;
    static constexpr bool couples_samples = Inner::couples_samples;
    static constexpr bool uses_batch_statistics = gant::uses_batch_statistics<Inner>();
    static constexpr bool second_order = Inner::second_order;
    static constexpr bool reads_output = gant::reads_output<Inner>();  // y is passed through to Inner

    spectral_norm_impl() : weight_(inner_.weight()) {
        const auto& s = weight_.shape;
        static_assert(Dim <= 1, "gant: spectral_norm reads the weight with rows along dimension 0 or 1");
        rows_ = s[Dim];
        cols_ = weight_.size() / rows_;
        lead_ = Dim == 0 ? 1 : s[0];
        inner_block_ = Dim == 0 ? cols_ : weight_.size() / (s[0] * s[1]);
        u_ = buffer<T>("u", {rows_});
        v_ = buffer<T>("v", {cols_});
        rng r(0x5eed, rows_ * 131 + cols_);
        for (auto& x : u_.value) x = T(r.normal());
        normalise(u_.value.data(), rows_);
        for (auto& x : v_.value) x = T(r.normal());
        normalise(v_.value.data(), cols_);
    }

    Inner& inner() { return inner_; }
    parameter<T>& weight() { return weight_; }
    T sigma() const { return sigma_; }

    /// Runs `iterations` power iterations without computing anything else (tests, warm-up).
    void power_iterate(std::size_t iterations) {
        for (std::size_t i = 0; i < iterations; ++i) power_step();
        sigma_ = current_sigma();
    }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        if (ctx.training() && ctx.update_statistics) power_step();
        sigma_ = current_sigma();
        auto& w = inner_.weight().value;
        for (std::size_t i = 0; i < w.size(); ++i) w(i) = weight_.value(i) / sigma_;
        inner_.forward(x, y, ctx);
    }

    void backward(const tensor<T>& x, const tensor<T>& y, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        if (accumulate) inner_.weight().zero_grad();
        inner_.backward(x, y, dy, dx, accumulate, ctx);
        if (accumulate) pull_back_weight_gradient();
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        inner_.forward_tangent(x, y, xdot, ydot, ctx);
    }

    void backward_paired(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xdot, const tensor<T>& ydot,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        inner_.weight().zero_grad();
        inner_.backward_paired(x, y, xdot, ydot, ybar, ydotbar, xbar, xdotbar, ctx);
        pull_back_weight_gradient();
    }

    template <class F>
    void visit_parameters(F&& f) {
        parameter<T>* effective = &inner_.weight();
        inner_.visit_parameters([&](parameter<T>& p) { f(&p == effective ? weight_ : p); });
    }
    template <class F>
    void visit_buffers(F&& f) {
        inner_.visit_buffers(f);
        f(u_);
        f(v_);
    }

private:
    // Element (r, c) of the weight read as a rows_ x cols_ matrix.
    std::size_t index(std::size_t r, std::size_t c) const {
        if constexpr (Dim == 0) return r * cols_ + c;
        // shape [A, R, rest...]: column c = (a, t) with a < A, t < inner_block_
        const std::size_t a = c / inner_block_, t = c % inner_block_;
        return (a * rows_ + r) * inner_block_ + t;
    }

    static void normalise(T* x, std::size_t n) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i) s += double(x[i]) * double(x[i]);
        const T inv = T(1.0 / std::max(std::sqrt(s), 1e-12));
        for (std::size_t i = 0; i < n; ++i) x[i] *= inv;
    }

    void power_step() {
        const T* w = weight_.value.data();
        T* u = u_.value.data();
        T* v = v_.value.data();
        for (std::size_t c = 0; c < cols_; ++c) v[c] = 0;
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) v[c] += w[index(r, c)] * u[r];
        normalise(v, cols_);
        for (std::size_t r = 0; r < rows_; ++r) {
            T s = 0;
            for (std::size_t c = 0; c < cols_; ++c) s += w[index(r, c)] * v[c];
            u[r] = s;
        }
        normalise(u, rows_);
    }

    T current_sigma() const {
        const T* w = weight_.value.data();
        const T* u = u_.value.data();
        const T* v = v_.value.data();
        T s = 0;
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) s += u[r] * w[index(r, c)] * v[c];
        return s;
    }

    void pull_back_weight_gradient() {
        const auto& g = inner_.weight().grad;
        const auto& wsn = inner_.weight().value;
        T inner_product = 0;
        for (std::size_t i = 0; i < g.size(); ++i) inner_product += g(i) * wsn(i);
        const T* u = u_.value.data();
        const T* v = v_.value.data();
        for (std::size_t r = 0; r < rows_; ++r)
            for (std::size_t c = 0; c < cols_; ++c) {
                const std::size_t i = index(r, c);
                weight_.grad(i) += (g(i) - inner_product * u[r] * v[c]) / sigma_;
            }
    }

    Inner inner_;
    parameter<T> weight_;  // the raw weight W, trained by the optimiser
    buffer<T> u_, v_;
    std::size_t rows_ = 0, cols_ = 0, lead_ = 1, inner_block_ = 1;
    T sigma_ = T(1);
};

/// spectral_norm<Layer> wraps a weight layer descriptor (dense, conv2d, ...);
/// spectral_norm<conv_transpose2d<...>, 1> reads the weight along dimension 1 as PyTorch does.
template <class Layer, std::size_t Dim = 0>
struct spectral_norm {
    static constexpr const char* name = "spectral_norm";
    using expects = typename Layer::expects;
    using wrapped = Layer;
    template <class In>
    static constexpr bool accepts = Layer::template accepts<In>;
    template <class In>
    using output_shape = typename Layer::template output_shape<In>;
    template <class In, class T, class B>
    using impl = spectral_norm_impl<typename Layer::template impl<In, T, B>, Dim>;
};

}  // namespace gant
