#pragma once
// Activations on the device: gant's relu, leaky_relu<Num, Den>, tanh and identity with their
// backward, tangent and paired rules (gant/cuda/elementwise.hpp's kernels, whose functors mirror
// layers/pointwise.hpp operation for operation).
#include <cstdint>

#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

/// The device kernels' name for one of gant's activation functions (Fn as layers/pointwise.hpp
/// defines them); `supported` is false for those without a device version yet.
template <class Fn>
struct device_activation {
    static constexpr bool supported = false;
};
template <std::intmax_t Num, std::intmax_t Den>
struct device_activation<fn::leaky<Num, Den>> {
    static constexpr bool supported = true;
    static constexpr activation phi = Num == 0 ? activation::relu : activation::leaky_relu;
    static constexpr float slope = float(Num) / float(Den);  // as fn::leaky's float slope
};
template <>
struct device_activation<fn::tanh_fn> {
    static constexpr bool supported = true;
    static constexpr activation phi = activation::tanh;
    static constexpr float slope = 0.f;
};
template <>
struct device_activation<fn::identity_fn> {
    static constexpr bool supported = true;
    static constexpr activation phi = activation::none;
    static constexpr float slope = 0.f;
};

template <class In, class Fn, class T>
class device_pointwise : public stateless {
    static_assert(device_activation<Fn>::supported,
                  "gant: this activation has no CUDA implementation yet (relu, leaky_relu, tanh and identity have)");
    static constexpr activation phi = device_activation<Fn>::phi;
    static constexpr float slope = device_activation<Fn>::slope;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;

    void forward(const batch& x, batch& y, const pass_context&) {
        activation_forward(phi, slope, x.data(), y.data(), x.size());
    }
    void backward(const batch& x, const batch& y, const batch& dy, batch* dx, bool, const pass_context&) {
        if (dx) activation_backward(phi, slope, x.data(), y.data(), dy.data(), dx->data(), x.size());
    }
    void forward_tangent(const batch& x, const batch& y, const batch& xdot, batch& ydot, const pass_context&) {
        activation_tangent(phi, slope, x.data(), y.data(), xdot.data(), ydot.data(), x.size());
    }
    void backward_paired(const batch& x, const batch& y, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        if (!xbar && !xdotbar) return;
        activation_paired(phi, slope, x.data(), y.data(), xdot.data(), ybar.data(), ydotbar.data(),
                          xbar ? xbar->data() : nullptr, xdotbar ? xdotbar->data() : nullptr, x.size());
    }
};

}  // namespace gant::cuda
