#pragma once
// The layer contract.
//
// A layer is used through two types:
//
//  * a *descriptor*, the name users write in a network (dense<784, 256>, leaky_relu<>, ...).
//    It holds only compile-time facts:
//        static constexpr const char* name;                 // for messages
//        template <class In> static constexpr bool accepts;  // can it take per-sample shape In?
//        using expects = ...;                                // what it takes, named for error messages
//        template <class In> using output_shape = ...;       // per-sample shape it produces
//        template <class In, class T, class Backend> using impl = ...;
//
//  * an *implementation* bound to an input shape, a scalar type and a backend. Batches are
//    tensor<T> (rows = samples; a backend with its own batch type, such as the CUDA backend's
//    device_batch<T>, binds its own implementations through gant::layer_binding). All methods see the primal input x and output y the network
//    stored during forward, so layers keep no copies of them:
//        forward(x, y, ctx)
//        backward(x, y, dy, dx*, accumulate, ctx)        dx may be null (not needed);
//                                                        param grads += only if accumulate
//        forward_tangent(x, y, xdot, ydot, ctx)          JVP: ydot = J(x) xdot
//        backward_paired(x, y, xdot, ydot, ybar, ydotbar, xbar*, xdotbar*, ctx)
//                                                        reverse through primal and tangent
//                                                        together; param grads always +=
//        visit_parameters(f), visit_buffers(f)           f(parameter<T>&) / f(buffer<T>&)
//        static constexpr bool couples_samples;          batch statistics mix samples
//        static constexpr bool second_order;             tangent rules are implemented
//
//    Optional facts let a network keep fewer buffers (runs_in_place() and the ones after it):
//        static constexpr bool in_place;                 default false; see runs_in_place()
//        static constexpr bool reads_output;             default true; see reads_output()
//        static constexpr bool views_input;              default false; see views_input()
//        static constexpr bool backward_in_place;        default false; see backward_runs_in_place()
//
// Why the tangent rules: a gradient penalty needs d/dtheta of a function of grad_x D(x). With
// v = dPenalty/dg held fixed, that equals d/dtheta of the directional derivative of D along v
// (a JVP), so running primal and tangent forward and then back-propagating through both
// gives the exact second-order gradient with first-order kernels. See docs/concepts.md.
#include <concepts>
#include <type_traits>

#include "gant/core/context.hpp"
#include "gant/core/parameter.hpp"
#include "gant/core/shape.hpp"
#include "gant/core/tensor.hpp"

namespace gant {

/// Descriptors of what a layer accepts, used only to make wiring errors readable.
template <std::size_t C>
struct expects_channels {};
template <std::size_t F>
struct expects_features {};
template <std::size_t N>
struct expects_elements {};
struct expects_image {};
struct expects_any_shape {};

template <class L>
concept layer_descriptor = requires {
    { L::name } -> std::convertible_to<const char*>;
    typename L::expects;
};

template <class I>
concept layer_impl = requires(I& layer, const tensor<typename I::scalar>& t, tensor<typename I::scalar>& out,
                              tensor<typename I::scalar>* maybe, const pass_context& ctx) {
    typename I::input_shape;
    typename I::output_shape;
    { I::couples_samples } -> std::convertible_to<bool>;
    { I::second_order } -> std::convertible_to<bool>;
    layer.forward(t, out, ctx);
    layer.backward(t, t, t, maybe, true, ctx);
    layer.forward_tangent(t, t, t, out, ctx);
    layer.backward_paired(t, t, t, t, t, t, maybe, maybe, ctx);
};

/// True when a layer normalises with batch statistics (batch_norm in training mode), which makes
/// "the gradient of one sample's score with respect to that sample" ill-defined. A layer that
/// couples samples in a way penalties tolerate (minibatch stddev) declares
/// uses_batch_statistics = false next to couples_samples = true.
template <class L>
constexpr bool uses_batch_statistics() {
    if constexpr (requires { L::uses_batch_statistics; })
        return L::uses_batch_statistics;
    else
        return L::couples_samples;
}

/// True when a network may give this layer one tensor as both x and y, so that forward overwrites
/// its input with its output, and every later pass of the layer then receives that tensor, holding
/// y, as x and y. The layer states it with `static constexpr bool in_place = true` only when all of
/// its passes give the same results from y as from x: an element-wise activation whose derivatives
/// follow from its output (ReLU, leaky ReLU with a non-negative slope, tanh, sigmoid). The network
/// does it only where the layer before never reads its own output (reads_output() below), because
/// that output is what gets overwritten. Saves one activation buffer per such layer.
template <class L>
constexpr bool runs_in_place() {
    if constexpr (requires { L::in_place; })
        return L::in_place;
    else
        return false;
}

/// False when none of the layer's passes reads its stored output y or output tangent ydot (they
/// work from x, xdot and the adjoints), which a layer promises with
/// `static constexpr bool reads_output = false`. The conservative default is true: an in-place
/// layer after it would overwrite what it reads.
template <class L>
constexpr bool reads_output() {
    if constexpr (requires { L::reads_output; })
        return L::reads_output;
    else
        return true;
}

/// True when the layer's output is its input's values in their order, only seen as another
/// per-sample shape (reshape, flatten), which it states with `static constexpr bool views_input =
/// true`. Its forward must then accept x and y as one tensor (and leave it as it is), and none of
/// its passes may read x or y. A network hands such a layer its input's buffer whatever the layer
/// before reads, since nothing is overwritten: the buffer still holds what that layer wrote.
template <class L>
constexpr bool views_input() {
    if constexpr (requires { L::views_input; })
        return L::views_input;
    else
        return false;
}

/// True when the first-order backward accepts dx and dy as one tensor (dx then overwrites dy),
/// which the layer states with `static constexpr bool backward_in_place = true`: element-wise
/// layers that read dy[i] before writing dx[i], and normalisations that read all of a group's dy
/// before writing its dx. Input and output must have as many elements per sample. A network then
/// works that backward in the adjoint buffer it was given instead of the other one of its two
/// (network::adjoint_slot), so a run of such layers keeps to one buffer. The paired reverse pass
/// (gradient penalties) never runs in place.
template <class L>
constexpr bool backward_runs_in_place() {
    if constexpr (requires { L::backward_in_place; })
        return L::backward_in_place;
    else
        return false;
}

/// Base for layers without parameters or buffers.
struct stateless {
    template <class F>
    void visit_parameters(F&&) {}
    template <class F>
    void visit_buffers(F&&) {}
};

}  // namespace gant
