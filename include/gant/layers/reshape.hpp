#pragma once
// Shape-only layers: reshape<shape<...>> and flatten. Activations are [batch, elements] row-major,
// so changing a sample's shape never moves data; the layer is a copy into the next activation.
//
// Also home of linear_layer, the base every parameter-free linear map uses (reshape, flatten,
// the resampling layers): for a linear L the tangent is L itself (ydot = L xdot) and the paired
// reverse applies the adjoint to both incoming adjoints (xbar = L^T ybar, xdotbar = L^T ydotbar),
// so a derived layer writes exactly two routines, apply and adjoint, and gets second order free.
#include <algorithm>

#include "gant/nn/layer.hpp"

namespace gant {

/// CRTP base for a parameter-free linear layer. Derived provides
///     static void apply(const tensor<T>& in, tensor<T>& out);    // out = L in   (whole batch)
///     static void adjoint(const tensor<T>& in, tensor<T>& out);  // out = L^T in (whole batch)
/// Both overwrite `out`, which the network has already sized.
template <class Derived, class In, class Out, class T>
class linear_layer : public stateless {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = Out;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context&) { Derived::apply(x, y); }

    void backward(const tensor<T>&, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool, const pass_context&) {
        if (dx) Derived::adjoint(dy, *dx);
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context&) {
        Derived::apply(xdot, ydot);
    }

    void backward_paired(const tensor<T>&, const tensor<T>&, const tensor<T>&, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context&) {
        if (xbar) Derived::adjoint(ybar, *xbar);
        if (xdotbar) Derived::adjoint(ydotbar, *xdotbar);
    }
};

/// Reinterprets a sample of shape In as shape Out (same element count). A network gives it one
/// buffer as input and output (views_input) and as dy and dx (backward_in_place), and then it
/// copies nothing; given two, it copies, in both directions.
template <class In, class Out, class T>
class reshape_impl : public linear_layer<reshape_impl<In, Out, T>, In, Out, T> {
    static_assert(In::size == Out::size, "gant: reshape keeps the number of elements per sample");

public:
    static constexpr bool views_input = true;
    static constexpr bool backward_in_place = true;

    static void apply(const tensor<T>& in, tensor<T>& out) {
        if (in.data() != out.data()) std::copy(in.data(), in.data() + in.size(), out.data());
    }
    static void adjoint(const tensor<T>& in, tensor<T>& out) { apply(in, out); }
};

/// reshape<shape<...>>: views each sample as the target shape; any input with as many elements.
template <class Target>
struct reshape {
    static_assert(is_shape_v<Target>, "gant: reshape<S> needs a shape<...> as its target");
    static constexpr const char* name = "reshape";
    using expects = expects_elements<Target::size>;
    template <class In>
    static constexpr bool accepts = In::size == Target::size;
    template <class In>
    using output_shape = Target;
    template <class In, class T, class B>
    using impl = reshape_impl<In, Target, T>;
};

/// flatten: any sample shape to shape<elements> (e.g. the last feature maps of a critic before
/// its dense head).
struct flatten {
    static constexpr const char* name = "flatten";
    using expects = expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = shape<In::size>;
    template <class In, class T, class B>
    using impl = reshape_impl<In, shape<In::size>, T>;
};

}  // namespace gant
