#pragma once
// Equalized learning rate (Karras et al. 2017, PGGAN section 4.1; networks.py `get_weight` with
// use_wscale): a weight layer stores w ~ N(0, 1) and computes with
//     w_hat = c * w,   c = gain / sqrt(fan_in)
// (He's constant, applied at run time instead of at initialisation). Adam's updates are
// invariant to the gradient's scale, so every weight then learns at the same effective speed,
// whatever its fan-in. The bias is not scaled (PGGAN's apply_bias) and starts at 0.
//
// equalized<Layer, Gain> wraps any descriptor whose implementation has a weight() (dense,
// conv2d): the optimiser sees the raw w, the wrapped layer computes with c * w, and
//     dL/dw = c * dL/dw_hat
// for every gradient the wrapped layer produces (first order and the paired reverse). The map
// w -> c w is linear and fixed, so the wrapped layer's tangent and second-order rules hold as
// they are. fan_in is the one the wrapped layer declares for its weight (Cin*k*k for conv2d,
// inputs for dense: PGGAN's fan_in for both; conv_transpose2d declares PyTorch's Cout*k*k).
//
// Initialisation. A parameter's role is all an initialiser sees, and no role says "N(0, 1)
// whatever the initialiser": the raw weight has role::weight, and a network whose weight layers
// are all equalized (PGGAN) uses init::equalized below (weights N(0, 1), biases and shifts 0,
// scales 1) as its topology's initializer. Mixing equalized and plain weight layers under one
// initialiser would need a parameter role that every initialiser draws from N(0, 1) itself;
// core/parameter.hpp has none yet.
#include <cmath>
#include <cstdint>

#include "gant/core/rng.hpp"
#include "gant/nn/layer.hpp"
#include "gant/optim/init.hpp"

namespace gant {

/// Gains of equalized layers: a type with `static double value()`.
namespace gain {
/// gain = sqrt(Num / Den), e.g. sqrt_of<2> = sqrt(2), sqrt_of<1, 8> = sqrt(2) / 4.
template <std::intmax_t Num, std::intmax_t Den = 1>
struct sqrt_of {
    static_assert(Num > 0 && Den > 0, "gant: a gain sqrt(Num / Den) needs positive Num and Den");
    static double value() { return std::sqrt(double(Num) / double(Den)); }
};
/// sqrt(2): before a (leaky) ReLU, PGGAN's default.
using he = sqrt_of<2>;
/// 1: linear outputs (to_rgb, the critic's score).
using linear = sqrt_of<1>;
}  // namespace gain

template <class Inner, class Gain>
class equalized_impl {
public:
    using scalar = typename Inner::scalar;
    using T = scalar;
    using input_shape = typename Inner::input_shape;
    using output_shape = typename Inner::output_shape;
    static constexpr bool couples_samples = Inner::couples_samples;
    static constexpr bool uses_batch_statistics = gant::uses_batch_statistics<Inner>();
    static constexpr bool second_order = Inner::second_order;
    static constexpr bool reads_output = gant::reads_output<Inner>();  // y is passed through to Inner

    equalized_impl()
        : weight_(inner_.weight()), scale_(T(Gain::value() / std::sqrt(double(inner_.weight().fan_in)))) {}

    Inner& inner() { return inner_; }
    /// The raw weight w (what the optimiser trains); the wrapped layer computes with scale() * w.
    parameter<T>& weight() { return weight_; }
    /// c = gain / sqrt(fan_in).
    T scale() const { return scale_; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        auto& w = inner_.weight().value;
        for (std::size_t i = 0; i < w.size(); ++i) w(i) = scale_ * weight_.value(i);
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
    }

private:
    void pull_back_weight_gradient() {
        const auto& g = inner_.weight().grad;
        for (std::size_t i = 0; i < g.size(); ++i) weight_.grad(i) += scale_ * g(i);
    }

    Inner inner_;
    parameter<T> weight_;  // the raw weight w ~ N(0, 1), trained by the optimiser
    T scale_;
};

/// equalized<Layer, Gain>: PGGAN's equalized learning rate on a weight layer (dense, conv2d):
/// equalized<conv2d<512, 512, 3, 1, 1>>, equalized<dense<512, 1>, gain::linear>.
template <class Layer, class Gain = gain::he>
struct equalized {
    static constexpr const char* name = "equalized";
    using expects = typename Layer::expects;
    using wrapped = Layer;
    template <class In>
    static constexpr bool accepts = Layer::template accepts<In>;
    template <class In>
    using output_shape = typename Layer::template output_shape<In>;
    template <class In, class T, class B>
    using impl = equalized_impl<typename Layer::template impl<In, T, B>, Gain>;
};

namespace init {

/// The initialiser of networks whose weight layers are all equalized<...> (PGGAN): weights
/// N(0, 1) (equalized layers scale them at run time), biases and shifts 0, scales 1.
struct equalized {
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        if (!detail::non_weight(p)) detail::fill_normal(p, r, 0.0, 1.0);
    }
};

}  // namespace init

}  // namespace gant
