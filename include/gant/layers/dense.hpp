#pragma once
// Fully connected layer: y = x W^T + b over the flattened sample (PyTorch's nn.Linear layout,
// W is out x in). Tangent: ydot = xdot W^T (the bias is constant along any direction).
#include "gant/nn/layer.hpp"

namespace gant {

template <class In, std::size_t Inputs, std::size_t Outputs, bool Bias, class T, class Backend>
class dense_impl {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = shape<Outputs>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    dense_impl()
        : weight_("weight", {Outputs, Inputs}, role::weight, Inputs, Outputs),
          bias_("bias", {Bias ? Outputs : 0}, role::bias, Inputs, Outputs) {}

    parameter<T>& weight() { return weight_; }
    parameter<T>& bias() { return bias_; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context&) {
        const std::size_t n = x.shape(0);
        if constexpr (Bias)
            for (std::size_t i = 0; i < n; ++i) std::copy(bias_.value.begin(), bias_.value.end(), &y(i, 0));
        Backend::gemm(blas::op::none, blas::op::transpose, n, Outputs, Inputs, T(1), x.data(), Inputs, weight_.data(),
                      Inputs, Bias ? T(1) : T(0), y.data(), Outputs);
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context&) {
        linear_backward(x, dy, dx, accumulate, true);
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context&) {
        Backend::gemm(blas::op::none, blas::op::transpose, xdot.shape(0), Outputs, Inputs, T(1), xdot.data(), Inputs,
                      weight_.data(), Inputs, T(0), ydot.data(), Outputs);
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context&) {
        linear_backward(x, ybar, xbar, true, true);             // the primal path: y = xW^T + b
        linear_backward(xdot, ydotbar, xdotbar, true, false);   // the tangent path: ydot = xdot W^T
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(weight_);
        if constexpr (Bias) f(bias_);
    }
    template <class F>
    void visit_buffers(F&&) {}

private:
    void linear_backward(const tensor<T>& x, const tensor<T>& dy, tensor<T>* dx, bool accumulate, bool with_bias) {
        const std::size_t n = x.shape(0);
        if (accumulate) {
            Backend::gemm(blas::op::transpose, blas::op::none, Outputs, Inputs, n, T(1), dy.data(), Outputs, x.data(),
                          Inputs, T(1), weight_.grad_data(), Inputs);
            if constexpr (Bias)
                if (with_bias)
                    for (std::size_t i = 0; i < n; ++i)
                        for (std::size_t o = 0; o < Outputs; ++o) bias_.grad(o) += dy(i, o);
        }
        if (dx)
            Backend::gemm(blas::op::none, blas::op::none, n, Inputs, Outputs, T(1), dy.data(), Outputs, weight_.data(),
                          Inputs, T(0), dx->data(), Inputs);
    }

    parameter<T> weight_, bias_;
};

/// dense<In, Out>: a fully connected layer from In features (the flattened sample) to Out.
template <std::size_t Inputs, std::size_t Outputs, bool Bias = true>
struct dense {
    static_assert(Inputs > 0 && Outputs > 0, "gant: dense<In, Out> needs positive sizes");
    static constexpr const char* name = "dense";
    static constexpr std::size_t spectral_dim = 0;  // weight rows = outputs
    using expects = expects_elements<Inputs>;
    template <class In>
    static constexpr bool accepts = In::size == Inputs;
    template <class In>
    using output_shape = shape<Outputs>;
    template <class In, class T, class B>
    using impl = dense_impl<In, Inputs, Outputs, Bias, T, B>;
};

}  // namespace gant
