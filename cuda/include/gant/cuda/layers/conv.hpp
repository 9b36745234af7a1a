#pragma once
// conv2d and conv_transpose2d on the device: the tensor-core kernels of gant/cuda/conv.hpp
// (TF32 operands, FP32 sums; docs/cuda.md states the bound) with the bias fused into the
// forward epilogue, and the four passes of a linear layer (linear_layer.hpp). Weights are laid
// out as on the CPU ([Cout, Cin, K, K] for conv2d, PyTorch's [Cin, Cout, K, K]
// for conv_transpose2d), so parameters move between the backends unchanged.
#include <cstddef>
#include <string>

#include "gant/cuda/conv.hpp"
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/layers/linear_layer.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

/// The kernels of conv2d<Cin, Cout, K, S, P> on per-sample input In.
template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P>
struct conv2d_kernels {
    static conv2d_problem problem(int n) {
        return {n,      int(Cin), int(image_dims<In>::height), int(image_dims<In>::width), int(Cout), int(K), int(K),
                int(S), int(P)};
    }
    void forward(int n, const float* x, const float* w, const float* bias, float* y) const {
        conv_epilogue e;
        e.bias = bias;
        conv2d_forward(problem(n), x, w, y, e);
    }
    void input_gradient(int n, const float* dy, const float* w, float* dx) const {
        conv2d_backward_data(problem(n), dy, w, dx);
    }
    void weight_gradient(int n, const float* x, const float* dy, float* dw) const {  // dw +=
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
    void forward(int n, const float* x, const float* w, const float* bias, float* y) const {
        conv_epilogue e;
        e.bias = bias;
        conv_transpose2d_forward(problem(n), x, w, y, e);
    }
    void input_gradient(int n, const float* dy, const float* w, float* dx) const {
        conv_transpose2d_backward_data(problem(n), dy, w, dx);
    }
    void weight_gradient(int n, const float* x, const float* dy, float* dw) const {  // dw +=
        conv_transpose2d_backward_filter(problem(n), x, dy, dw, 1.f, 1.f);
    }
};

template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool Bias, class T>
class device_conv2d
    : public device_linear_layer<conv2d_kernels<In, Cin, Cout, K, S, P>, In,
                                 typename conv2d<Cin, Cout, K, S, P, Bias>::template output_shape<In>, Cout, Bias, T> {
    using base =
        device_linear_layer<conv2d_kernels<In, Cin, Cout, K, S, P>, In,
                            typename conv2d<Cin, Cout, K, S, P, Bias>::template output_shape<In>, Cout, Bias, T>;

public:
    // conv2d_impl's layout and fans: weight [Cout, Cin, K, K], fan_in Cin*K*K, fan_out Cout*K*K.
    device_conv2d() : base({Cout, Cin, K, K}, Cin * K * K, Cout * K * K) {}
};

template <class In, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool Bias, class T>
class device_conv_transpose2d
    : public device_linear_layer<conv_transpose2d_kernels<In, Cin, Cout, K, S, P>, In,
                                 typename conv_transpose2d<Cin, Cout, K, S, P, Bias>::template output_shape<In>, Cout,
                                 Bias, T> {
    using base = device_linear_layer<conv_transpose2d_kernels<In, Cin, Cout, K, S, P>, In,
                                     typename conv_transpose2d<Cin, Cout, K, S, P, Bias>::template output_shape<In>,
                                     Cout, Bias, T>;

public:
    // conv_transpose2d_impl's layout and fans (PyTorch's): weight [Cin, Cout, K, K], fan_in
    // Cout*K*K, fan_out Cin*K*K.
    device_conv_transpose2d() : base({Cin, Cout, K, K}, Cout * K * K, Cin * K * K) {}
};

}  // namespace gant::cuda
