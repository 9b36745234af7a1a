#pragma once
// conv2d and conv_transpose2d on the device: the tensor-core kernels of gant/cuda/conv.hpp
// (TF32 operands, FP32 sums; docs/cuda.md states the bound) with the bias fused into the
// forward epilogue, and gant's four passes per layer as layers/conv2d.hpp and
// conv_transpose2d.hpp define them:
//   forward          y = conv(x, W) + b
//   backward         dx = conv^T(dy, W),  dW += corr(x, dy),  db += sums of dy
//   forward_tangent  ydot = conv(xdot, W)                     (the bias is constant)
//   backward_paired  the primal path (x, ybar) and the tangent path (xdot, ydotbar) each as
//                    backward, the bias from the primal path only
// Weights are laid out as on the CPU ([Cout, Cin, K, K] for conv2d, PyTorch's [Cin, Cout, K, K]
// for conv_transpose2d), so parameters move between the backends unchanged.
#include <cstddef>
#include <string>

#include "gant/cuda/conv.hpp"
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

/// What the two convolution layers share: parameters, and the passes written over the three
/// kernels of a layer (Kernels::forward, input_gradient, weight_gradient).
template <class Kernels, class In, class Out, std::size_t BiasChannels, bool Bias, class T>
class device_conv_layer {
    static_assert(std::is_same_v<T, float>, "gant: the CUDA backend's layers are float32 (TF32 tensor cores)");

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = Out;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;

    device_conv_layer(std::vector<std::size_t> weight_shape, std::size_t fan_in, std::size_t fan_out)
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
        conv_epilogue e;
        if (with_bias) e.bias = bias_.data();
        Kernels::forward(int(x.shape(0)), x.data(), weight_.data(), y.data(), e);
    }

    void adjoint(const batch& x, const batch& dy, batch* dx, bool weight_gradient, bool bias_gradient) {
        const int n = int(dy.shape(0));
        if (weight_gradient) Kernels::weight_gradient(n, x.data(), dy.data(), weight_.grad_data());
        if (bias_gradient)
            channel_sums(dy.data(), n, int(BiasChannels), int(Out::size / BiasChannels), bias_.grad_data(), 1.f, 1.f);
        if (dx) Kernels::input_gradient(n, dy.data(), weight_.data(), dx->data());
    }

    device_parameter<T> weight_, bias_;
};

/// The kernels of conv2d<Cin, Cout, K, S, P> on per-sample input In.
template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P>
struct conv2d_kernels {
    static conv2d_problem problem(int n) {
        return {n,      int(Cin), int(image_dims<In>::height), int(image_dims<In>::width), int(Cout), int(K), int(K),
                int(S), int(P)};
    }
    static void forward(int n, const float* x, const float* w, float* y, const conv_epilogue& e) {
        conv2d_forward(problem(n), x, w, y, e);
    }
    static void input_gradient(int n, const float* dy, const float* w, float* dx) {
        conv2d_backward_data(problem(n), dy, w, dx);
    }
    static void weight_gradient(int n, const float* x, const float* dy, float* dw) {  // dw +=
        conv2d_backward_filter(problem(n), x, dy, dw, 1.f, 1.f);
    }
};

/// The kernels of conv_transpose2d<Cin, Cout, K, S, P> on per-sample input In.
template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P>
struct conv_transpose2d_kernels {
    static conv_transpose2d_problem problem(int n) {
        return {n,      int(Cin), int(image_dims<In>::height), int(image_dims<In>::width), int(Cout), int(K), int(K),
                int(S), int(P)};
    }
    static void forward(int n, const float* x, const float* w, float* y, const conv_epilogue& e) {
        conv_transpose2d_forward(problem(n), x, w, y, e);
    }
    static void input_gradient(int n, const float* dy, const float* w, float* dx) {
        conv_transpose2d_backward_data(problem(n), dy, w, dx);
    }
    static void weight_gradient(int n, const float* x, const float* dy, float* dw) {  // dw +=
        conv_transpose2d_backward_filter(problem(n), x, dy, dw, 1.f, 1.f);
    }
};

template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool Bias, class T>
class device_conv2d
    : public device_conv_layer<conv2d_kernels<In, Cin, Cout, K, S, P>, In,
                               typename conv2d_impl<In, Cin, Cout, K, S, P, Bias, T, backend::cpu>::output_shape, Cout,
                               Bias, T> {
    using base = device_conv_layer<conv2d_kernels<In, Cin, Cout, K, S, P>, In,
                                   typename conv2d_impl<In, Cin, Cout, K, S, P, Bias, T, backend::cpu>::output_shape,
                                   Cout, Bias, T>;

public:
    // conv2d_impl's layout and fans: weight [Cout, Cin, K, K], fan_in Cin*K*K, fan_out Cout*K*K.
    device_conv2d() : base({Cout, Cin, K, K}, Cin * K * K, Cout * K * K) {}
};

template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool Bias, class T>
class device_conv_transpose2d
    : public device_conv_layer<
          conv_transpose2d_kernels<In, Cin, Cout, K, S, P>, In,
          typename conv_transpose2d_impl<In, Cin, Cout, K, S, P, Bias, T, backend::cpu>::output_shape, Cout, Bias, T> {
    using base =
        device_conv_layer<conv_transpose2d_kernels<In, Cin, Cout, K, S, P>, In,
                          typename conv_transpose2d_impl<In, Cin, Cout, K, S, P, Bias, T, backend::cpu>::output_shape,
                          Cout, Bias, T>;

public:
    // conv_transpose2d_impl's layout and fans (PyTorch's): weight [Cin, Cout, K, K], fan_in
    // Cout*K*K, fan_out Cin*K*K.
    device_conv_transpose2d() : base({Cin, Cout, K, K}, Cout * K * K, Cin * K * K) {}
};

}  // namespace gant::cuda
