#pragma once
// dense<In, Out> on the device: cuBLAS FP32 products (gant/cuda/gemm.hpp) with layers/dense.hpp's
// passes, y = x W^T + b with W [Out, In] as on the CPU. The bias is added by one more product,
// ones(n) b^T, so no extra kernel is needed; the column of ones is uploaded once per batch size.
#include <cstddef>
#include <vector>

#include "gant/cuda/conv.hpp"  // channel_sums: the bias gradient, a sum over samples
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/gemm.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

template <class In, std::size_t Inputs, std::size_t Outputs, bool Bias, class T>
class device_dense {
    static_assert(std::is_same_v<T, float>, "gant: the CUDA backend's layers are float32");

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = shape<Outputs>;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;

    device_dense()
        : weight_("weight", {Outputs, Inputs}, role::weight, Inputs, Outputs),
          bias_("bias", {Bias ? Outputs : 0}, role::bias, Inputs, Outputs) {}

    device_parameter<T>& weight() { return weight_; }
    device_parameter<T>& bias() { return bias_; }

    void forward(const batch& x, batch& y, const pass_context&) {
        const int n = int(x.shape(0));
        if constexpr (Bias) {
            gemm(false, false, n, int(Outputs), 1, 1.f, ones(n), 1, bias_.data(), int(Outputs), 0.f, y.data(),
                 int(Outputs));
        }
        gemm(false, true, n, int(Outputs), int(Inputs), 1.f, x.data(), int(Inputs), weight_.data(), int(Inputs),
             Bias ? 1.f : 0.f, y.data(), int(Outputs));
    }
    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context&) {
        linear_backward(x, dy, dx, accumulate, true);
    }
    void forward_tangent(const batch&, const batch&, const batch& xdot, batch& ydot, const pass_context&) {
        gemm(false, true, int(xdot.shape(0)), int(Outputs), int(Inputs), 1.f, xdot.data(), int(Inputs), weight_.data(),
             int(Inputs), 0.f, ydot.data(), int(Outputs));
    }
    void backward_paired(const batch& x, const batch&, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        linear_backward(x, ybar, xbar, true, true);
        linear_backward(xdot, ydotbar, xdotbar, true, false);
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(weight_);
        if constexpr (Bias) f(bias_);
    }
    template <class F>
    void visit_buffers(F&&) {}

private:
    void linear_backward(const batch& x, const batch& dy, batch* dx, bool accumulate, bool with_bias) {
        const int n = int(x.shape(0));
        if (accumulate) {
            gemm(true, false, int(Outputs), int(Inputs), n, 1.f, dy.data(), int(Outputs), x.data(), int(Inputs), 1.f,
                 weight_.grad_data(), int(Inputs));
            if constexpr (Bias)
                if (with_bias) channel_sums(dy.data(), n, int(Outputs), 1, bias_.grad_data(), 1.f, 1.f);
        }
        if (dx)
            gemm(false, false, n, int(Inputs), int(Outputs), 1.f, dy.data(), int(Outputs), weight_.data(), int(Inputs),
                 0.f, dx->data(), int(Inputs));
    }

    /// A column of n ones in device memory (uploaded when the batch size grows).
    const float* ones(int n) {
        if (ones_.shape(0) < std::size_t(n)) {
            const std::vector<float> host(std::size_t(n), 1.f);
            ones_.assign(host.data(), std::size_t(n), 1);
        }
        return ones_.data();
    }

    device_parameter<T> weight_, bias_;
    device_batch<T> ones_;
};

}  // namespace gant::cuda
