#pragma once
// reshape<S> and flatten on the device: the per-sample layout does not change, so every pass is
// a device-to-device copy (as the CPU layers' std::copy).
#include "gant/cuda/device_batch.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

template <class In, class Out, class T>
class device_reshape : public stateless {
    static_assert(In::size == Out::size, "gant: reshape keeps the number of elements per sample");

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = Out;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;

    void forward(const batch& x, batch& y, const pass_context&) { copy_batch(x, y); }
    void backward(const batch&, const batch&, const batch& dy, batch* dx, bool, const pass_context&) {
        if (dx) copy_batch(dy, *dx);
    }
    void forward_tangent(const batch&, const batch&, const batch& xdot, batch& ydot, const pass_context&) {
        copy_batch(xdot, ydot);
    }
    void backward_paired(const batch&, const batch&, const batch&, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        if (xbar) copy_batch(ybar, *xbar);
        if (xdotbar) copy_batch(ydotbar, *xdotbar);
    }
};

}  // namespace gant::cuda
