#pragma once
// What the device's dense, conv2d and conv_transpose2d layers share: a weight and an optional
// bias per output channel, and gant's four passes of a linear map plus bias (layers/dense.hpp,
// conv2d.hpp and conv_transpose2d.hpp define them the same way):
//   forward          y = A(x; W) + b
//   backward         dx = A^T(dy; W),  dW += the weight gradient of (x, dy),  db += sums of dy
//   forward_tangent  ydot = A(xdot; W)                      (the bias is constant)
//   backward_paired  the primal path (x, ybar) and the tangent path (xdot, ydotbar) each as
//                    backward, the bias from the primal path only
// written over a Kernels object that runs A, A^T and the weight gradient on the device:
//   kernels.forward(n, x, w, bias or null, y)      y = A(x; W) (+ b per channel)
//   kernels.input_gradient(n, dy, w, dx)           dx = A^T(dy; W)
//   kernels.weight_gradient(n, x, dy, dw)          dw += ...
// The bias gradient is a sum over samples and pixels per output channel (channel_sums).
#include <cstddef>
#include <type_traits>
#include <vector>

#include "gant/cuda/conv.hpp"  // channel_sums
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

template <class Kernels, class In, class Out, std::size_t BiasChannels, bool Bias, class T>
class device_linear_layer {
    static_assert(std::is_same_v<T, float>, "gant: the CUDA backend's layers are float32");

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = Out;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;

    /// The weight's logical shape and fans as the CPU layer gives them (the bias shares the fans).
    device_linear_layer(std::vector<std::size_t> weight_shape, std::size_t fan_in, std::size_t fan_out)
        : weight_("weight", std::move(weight_shape), role::weight, fan_in, fan_out),
          bias_("bias", {Bias ? BiasChannels : 0}, role::bias, fan_in, fan_out) {}

    device_parameter<T>& weight() { return weight_; }
    device_parameter<T>& bias() { return bias_; }

    void forward(const batch& x, batch& y, const pass_context&) { apply(x, y, Bias); }
    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context&) {
        adjoint(x, dy, dx, accumulate, accumulate && Bias);
    }
    void forward_tangent(const batch&, const batch&, const batch& xdot, batch& ydot, const pass_context&) {
        apply(xdot, ydot, false);
    }
    void backward_paired(const batch& x, const batch&, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        adjoint(x, ybar, xbar, true, Bias);
        adjoint(xdot, ydotbar, xdotbar, true, false);
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(weight_);
        if constexpr (Bias) f(bias_);
    }
    template <class F>
    void visit_buffers(F&&) {}

private:
    void apply(const batch& x, batch& y, bool with_bias) {
        kernels_.forward(int(x.shape(0)), x.data(), weight_.data(), with_bias ? bias_.data() : nullptr, y.data());
    }

    void adjoint(const batch& x, const batch& dy, batch* dx, bool weight_gradient, bool bias_gradient) {
        const int n = int(dy.shape(0));
        if (weight_gradient) kernels_.weight_gradient(n, x.data(), dy.data(), weight_.grad_data());
        if (bias_gradient)
            channel_sums(dy.data(), n, int(BiasChannels), int(Out::size / BiasChannels), bias_.grad_data(), 1.f, 1.f);
        if (dx) kernels_.input_gradient(n, dy.data(), weight_.data(), dx->data());
    }

    device_parameter<T> weight_, bias_;
    Kernels kernels_;
};

}  // namespace gant::cuda
