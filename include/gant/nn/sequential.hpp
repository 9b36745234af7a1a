#pragma once
// Compile-time composition of layers. sequential<L1, L2, ...> is itself a layer descriptor, so
// networks nest; network<InputShape, T, Backend, Layers...> is the bound, runnable form.
//
// Per-sample shapes flow through the list at compile time. A layer that cannot take the shape
// its predecessor produces stops compilation at layer_input_mismatch<...>, whose template
// arguments name both layers, the shape produced and what was expected.
#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gant/backend/cpu.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

/// Marker for "the network's input" in wiring messages.
struct network_input {
    static constexpr const char* name = "input";
};

template <std::size_t Index>
struct layer_index {};

template <class T>
inline constexpr bool dependent_false_v = false;

/// Instantiated only when wiring fails: the compiler prints its template arguments.
template <class LayerIndex, class PreviousLayer, class ProducedShape, class Layer, class LayerExpects>
struct layer_input_mismatch {
    static_assert(dependent_false_v<Layer>,
                  "gant: wiring error: a layer's input does not match the shape the previous layer produces; "
                  "read layer_input_mismatch<layer_index<i>, previous layer, shape it produces, layer, what the "
                  "layer expects> in this message");
    static constexpr bool value = false;
};

namespace detail {

template <std::size_t I, class Prev, class In, class L>
constexpr bool check_wiring() {
    if constexpr (L::template accepts<In>)
        return true;
    else
        return layer_input_mismatch<layer_index<I>, Prev, In, L, typename L::expects>::value;
}

template <class... Ts>
struct type_list {};

}  // namespace detail

/// The implementation of layer descriptor L for per-sample input In, scalar T and a backend: by
/// default the descriptor's own impl (which takes the backend as a parameter, as the CPU layers
/// do). A backend whose layers are separate classes (the CUDA backend's device layers, which hold
/// their parameters and batches in device memory) specialises this for itself.
template <class L, class In, class T, class Backend>
struct layer_binding {
    using type = typename L::template impl<In, T, Backend>;
};

/// What a network of this backend stores its batches in: Backend::batch<T> where the backend
/// names one (device memory), else gant's host tensor.
template <class Backend, class T, class = void>
struct backend_batch {
    using type = tensor<T>;
};
template <class Backend, class T>
struct backend_batch<Backend, T, std::void_t<typename Backend::template batch<T>>> {
    using type = typename Backend::template batch<T>;
};
template <class Backend, class T>
using backend_batch_t = typename backend_batch<Backend, T>::type;

namespace detail {

// Walks the layer list, producing the implementation tuple and the final shape. On a wiring
// error the chain stops growing (the input shape is passed through) so one mistake gives one
// message instead of a cascade.
template <std::size_t I, class Prev, class In, class T, class B, class Impls, class... Ls>
struct chain;

template <std::size_t I, class Prev, class In, class T, class B, class... Done>
struct chain<I, Prev, In, T, B, type_list<Done...>> {
    using impls = std::tuple<Done...>;
    using output_shape = In;
};

template <class L, class In, bool Ok>
struct safe_output {
    using type = In;
};
template <class L, class In>
struct safe_output<L, In, true> {
    using type = typename L::template output_shape<In>;
};

template <std::size_t I, class Prev, class In, class T, class B, class... Done, class L, class... Rest>
struct chain<I, Prev, In, T, B, type_list<Done...>, L, Rest...> {
    static_assert(layer_descriptor<L>, "gant: every entry of sequential<...> must be a layer descriptor");
    static constexpr bool ok = check_wiring<I, Prev, In, L>();
    using out = typename safe_output<L, In, ok>::type;
    using next = std::conditional_t<ok, chain<I + 1, L, out, T, B, type_list<Done..., typename layer_binding<L, In, T, B>::type>, Rest...>,
                                    chain<I + 1, L, In, T, B, type_list<Done...>>>;
    using impls = typename next::impls;
    using output_shape = typename next::output_shape;
};

}  // namespace detail

template <class InputShape, class T, class Backend, class... Layers>
class network;

/// The buffers a network's reverse passes work in: the adjoints of its activations and of their
/// tangents, two of each, taken in turn (network::adjoint). They hold nothing from one call to
/// the next (each reverse pass starts by copying in the adjoint of the output), so networks whose
/// passes never run at the same time can work in one set: gan<...> gives its generator the
/// critic's, because the critic's reverse pass has ended before the generator's begins. A network
/// nested in another as a layer keeps its own (it runs inside the outer one's pass), and a copy of
/// a network gets a new set, so that copies may run on other threads.
template <class Batch>
class reverse_buffers {
    struct buffers {
        std::array<Batch, 2> primal, tangent;
    };

public:
    reverse_buffers() : set_(std::make_shared<buffers>()) {}
    reverse_buffers(const reverse_buffers&) : reverse_buffers() {}
    reverse_buffers& operator=(const reverse_buffers&) { return *this; }  // keeps its own set

    /// From now on works in other's set (the one this held is freed unless shared further).
    void share(const reverse_buffers& other) { set_ = other.set_; }

    bool same_set(const reverse_buffers& other) const { return set_ == other.set_; }

    Batch& primal(std::size_t i) { return set_->primal[i % 2]; }
    Batch& tangent(std::size_t i) { return set_->tangent[i % 2]; }

private:
    std::shared_ptr<buffers> set_;
};

/// A network's input as its first layer reads it: either a copy of its own (network::forward)
/// or the caller's batch, read where it is (network::forward_borrowed). A borrowed batch must
/// stay as it is until the network's last pass that reads it. A copy of the network copies what
/// the input holds into a batch of its own, so no network reads a batch that it was not handed;
/// a move is a copy (no move members are declared), since the borrowed batch may not move along.
template <class Batch>
class input_buffer {
public:
    input_buffer() = default;
    input_buffer(const input_buffer& other) { keep_copy_of(other.read()); }
    input_buffer& operator=(const input_buffer& other) {
        if (this != &other) keep_copy_of(other.read());
        return *this;
    }

    const Batch& read() const { return borrowed_ ? *borrowed_ : own_; }
    /// The batch of its own, to write the input into; ends a borrow.
    Batch& own() {
        borrowed_ = nullptr;
        return own_;
    }
    void borrow(const Batch& x) { borrowed_ = &x; }

private:
    void keep_copy_of(const Batch& x) {
        ensure_shape(own_, x.shape(0), x.shape(1));
        copy_batch(x, own_);
        borrowed_ = nullptr;
    }

    Batch own_;
    const Batch* borrowed_ = nullptr;
};

/// A list of layers applied in order; a layer descriptor itself.
template <class... Layers>
struct sequential {
    static_assert(sizeof...(Layers) > 0, "gant: sequential<> needs at least one layer");
    static constexpr const char* name = "sequential";
    using expects = expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;  // the inner layers check their own inputs
    template <class In>
    using output_shape = typename detail::chain<0, network_input, In, float, backend::cpu, detail::type_list<>, Layers...>::output_shape;
    template <class In, class T, class B>
    using impl = network<In, T, B, Layers...>;
};

template <class InputShape, class T, class Backend, class... Layers>
class network {
    using chain = detail::chain<0, network_input, InputShape, T, Backend, detail::type_list<>, Layers...>;

public:
    using scalar = T;
    using backend = Backend;
    using batch = backend_batch_t<Backend, T>;  // tensor<T> on the CPU, device memory on the CUDA backend
    using input_shape = InputShape;
    using output_shape = typename chain::output_shape;
    using layers = typename chain::impls;
    static constexpr std::size_t depth = std::tuple_size_v<layers>;
    static constexpr std::size_t input_size = InputShape::size;
    static constexpr std::size_t output_size = output_shape::size;

    template <std::size_t I>
    using layer_type = std::tuple_element_t<I, layers>;

    static constexpr bool couples_samples = []<std::size_t... I>(std::index_sequence<I...>) {
        return (false || ... || layer_type<I>::couples_samples);
    }(std::make_index_sequence<depth>{});
    static constexpr bool uses_batch_statistics = []<std::size_t... I>(std::index_sequence<I...>) {
        return (false || ... || gant::uses_batch_statistics<layer_type<I>>());
    }(std::make_index_sequence<depth>{});
    static constexpr bool second_order = []<std::size_t... I>(std::index_sequence<I...>) {
        return (true && ... && layer_type<I>::second_order);
    }(std::make_index_sequence<depth>{});

    /// Which stored buffer holds activation i (0: the network's input, depth: its output).
    /// Activation i + 1 shares activation i's buffer when layer i only views its input as another
    /// shape (nn/layer.hpp: views_input), or when layer i runs in place (runs_in_place) and no
    /// layer whose output that buffer holds reads its output again (reads_output). A view leaves
    /// the buffer holding what the layer before it wrote, so that layer's reading still counts.
    /// Buffer 0 is the network's input: after forward(x) its own copy, which a first layer may
    /// overwrite; after forward_borrowed(x) the caller's x, only where can_borrow_input says no
    /// layer writes into it.
    static constexpr std::array<std::size_t, depth + 1> activation_slot = []<std::size_t... I>(
                                                                             std::index_sequence<I...>) {
        constexpr std::array<bool, depth> view{gant::views_input<layer_type<I>>()...};
        constexpr std::array<bool, depth> in_place{runs_in_place<layer_type<I>>()...};
        constexpr std::array<bool, depth> reads{reads_output<layer_type<I>>()...};
        std::array<std::size_t, depth + 1> slot{};
        bool held_output_is_read = false;  // by the layer that wrote what activation i's buffer holds
        for (std::size_t i = 0; i < depth; ++i) {
            if (view[i]) {
                slot[i + 1] = slot[i];
            } else {
                slot[i + 1] = in_place[i] && !held_output_is_read ? slot[i] : i + 1;
                held_output_is_read = reads[i];
            }
        }
        return slot;
    }(std::make_index_sequence<depth>{});

    /// Which of the two reverse buffers holds the adjoint of activation i (1..depth) in a
    /// first-order backward pass. Layer i reads adjoint i + 1 and writes adjoint i: into the same
    /// buffer when its backward runs in place (nn/layer.hpp: backward_runs_in_place), else into
    /// the other. Of the two ways to start, the one that puts the largest adjoint in buffer 0 is
    /// taken, so that networks sharing their reverse buffers (a gan's generator and critic) grow
    /// the same buffer for their largest and the other only for their second largest.
    static constexpr std::array<std::size_t, depth + 1> adjoint_slot = []<std::size_t... I>(
                                                                          std::index_sequence<I...>) {
        constexpr std::array<bool, depth> same{backward_runs_in_place<layer_type<I>>()...};
        constexpr std::array<std::size_t, depth + 1> size{layer_type<I>::input_shape::size..., output_size};
        static_assert(((!backward_runs_in_place<layer_type<I>>() ||
                        layer_type<I>::input_shape::size == layer_type<I>::output_shape::size) &&
                       ...),
                      "gant: a layer whose backward runs in place must keep the number of elements per sample");
        auto starting_in = [&](std::size_t first) {
            std::array<std::size_t, depth + 1> slot{};
            slot[depth] = first;
            for (std::size_t i = depth - 1; i >= 1; --i) slot[i] = same[i] ? slot[i + 1] : 1 - slot[i + 1];
            return slot;
        };
        auto largest_in = [&](const std::array<std::size_t, depth + 1>& slot, std::size_t buffer) {
            std::size_t most = 0;
            for (std::size_t i = 1; i <= depth; ++i)
                if (slot[i] == buffer) most = std::max(most, size[i]);
            return most;
        };
        const auto from_0 = starting_in(0);
        return largest_in(from_0, 0) >= largest_in(from_0, 1) ? from_0 : starting_in(1);
    }(std::make_index_sequence<depth>{});

    /// How many activation buffers a forward pass fills: depth + 1 less one per layer whose output
    /// shares its input's buffer (in place or a view).
    static constexpr std::size_t activation_buffers = [] {
        std::size_t n = 1;
        for (std::size_t i = 1; i <= depth; ++i) n += activation_slot[i] != activation_slot[i - 1];
        return n;
    }();

    template <std::size_t I>
    layer_type<I>& layer() { return std::get<I>(layers_); }
    template <std::size_t I>
    const layer_type<I>& layer() const { return std::get<I>(layers_); }

    // ---- whole-network interface: stores every activation for the backward passes --------

    const batch& forward(const batch& x, const pass_context& ctx = {}) {
        require_features(x, input_size, "the network input");
        batch& in = input_.own();
        ensure_shape(in, x.shape(0), input_size);
        copy_batch(x, in);
        run_forward(ctx);
        return act(depth);
    }

    /// True when no layer writes into the network's input buffer (the first layer neither runs
    /// in place nor views its input), so that forward_borrowed can read the caller's batch.
    static constexpr bool can_borrow_input = activation_slot[1] != 0;

    /// forward(x) without the copy of x: the network reads x where it is, in this pass and in the
    /// reverse and tangent passes after it, so x must stay as it is until the last of those and
    /// must not be a buffer of this network. A gan's critic reads the generator's output this way.
    /// A network whose layers write into their input buffer (can_borrow_input is false) copies x.
    const batch& forward_borrowed(const batch& x, const pass_context& ctx = {}) {
        if constexpr (!can_borrow_input) {
            return forward(x, ctx);
        } else {
            require_features(x, input_size, "the network input");
            input_.borrow(x);
            run_forward(ctx);
            return act(depth);
        }
    }

    /// A temporary would be gone before the reverse passes read it, so forward_borrowed takes
    /// only a named batch: this overload, a better match than the const batch& above for
    /// everything else (an rvalue batch, an expression or other type that would convert into a
    /// temporary batch, and, through the default argument, a braced list), refuses the call at
    /// compile time.
    template <class NotANamedBatch = batch>
        requires(!std::same_as<NotANamedBatch, batch&> && !std::same_as<NotANamedBatch, const batch&>)
    const batch& forward_borrowed(NotANamedBatch&&, const pass_context& = {}) {
        static_assert(dependent_false_v<NotANamedBatch>,
                      "gant: forward_borrowed reads its input again in the reverse passes, so it cannot take a "
                      "temporary (nor an expression or other type converted into one): keep the batch in a variable "
                      "until the last pass, or call forward, which copies it");
    }

    /// Back-propagates dy (adjoint of the last forward's output). dx: input gradient, or null.
    void backward(const batch& dy, batch* dx, bool accumulate_parameter_gradients = true,
                  const pass_context& ctx = {}) {
        require_features(dy, output_size, "the output gradient");
        ensure_shape(adjoint(depth), dy.shape(0), output_size);
        copy_batch(dy, adjoint(depth));
        run_backward(dx, accumulate_parameter_gradients, ctx);
    }

    /// Back-propagates through `downstream`, a network that took this one's output as its input
    /// (a gan's critic above its generator), and on through this one: the same bits as
    ///     downstream.backward(downstream_dy, &g, accumulate_downstream, ctx);
    ///     backward(g, dx, accumulate, ctx);
    /// but downstream writes g straight into the buffer this network's backward starts from, so
    /// g is neither kept nor copied. When the two share reverse buffers and that is the buffer
    /// downstream's first layer reads its adjoint from, g goes through a buffer of this network's
    /// own instead, as in the two calls above.
    template <class... Other>
    void backward_through(network<Other...>& downstream, const batch& downstream_dy, bool accumulate_downstream,
                          batch* dx, bool accumulate, const pass_context& ctx = {}) {
        static_assert(network<Other...>::input_size == output_size,
                      "gant: backward_through needs a downstream network whose input is this network's output");
        const bool collides =
            reverse_.same_set(downstream.reverse_) && adjoint_slot[depth] == network<Other...>::adjoint_slot[1];
        if (collides) {
            downstream.backward(downstream_dy, &handoff_, accumulate_downstream, ctx);
            backward(handoff_, dx, accumulate, ctx);
            return;
        }
        downstream.backward(downstream_dy, &adjoint(depth), accumulate_downstream, ctx);
        run_backward(dx, accumulate, ctx);
    }

    /// JVP through the network at the last forward's point: returns ydot = J xdot.
    const batch& forward_tangent(const batch& xdot, const pass_context& ctx = {}) {
        require_features(xdot, input_size, "the input tangent");
        ensure_shape(tan_[0], xdot.shape(0), input_size);
        copy_batch(xdot, tan_[0]);
        run_tangent(ctx);
        return tan_[depth];
    }

    /// Reverse pass through primal and tangent together (after forward and forward_tangent).
    /// ybar / ydotbar: adjoints of the output and of its tangent. Parameter gradients +=.
    void backward_paired(const batch& ybar, const batch& ydotbar, batch* xbar, batch* xdotbar,
                         const pass_context& ctx = {}) {
        ensure_shape(paired_adjoint(depth), ybar.shape(0), output_size);
        ensure_shape(tangent_adjoint(depth), ydotbar.shape(0), output_size);
        copy_batch(ybar, paired_adjoint(depth));
        copy_batch(ydotbar, tangent_adjoint(depth));
        run_backward_paired(xbar, xdotbar, ctx);
    }

    const batch& output() const { return act(depth); }
    const batch& tangent_output() const { return tan_[depth]; }

    // ---- the layer contract, so a network nests inside another ----------------------------

    // The outer network hands every pass the x it stored (nn/layer.hpp), so a nested network
    // reads that x in place and keeps no copy of it when it can (can_borrow_input).
    void forward(const batch& x, batch& y, const pass_context& ctx) {
        forward_borrowed(x, ctx);
        ensure_shape(y, x.shape(0), output_size);
        copy_batch(act(depth), y);
    }
    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context& ctx) {
        if constexpr (can_borrow_input) input_.borrow(x);
        backward(dy, dx, accumulate, ctx);
    }
    void forward_tangent(const batch& x, const batch&, const batch& xdot, batch& ydot, const pass_context& ctx) {
        if constexpr (can_borrow_input) input_.borrow(x);
        forward_tangent(xdot, ctx);
        ensure_shape(ydot, xdot.shape(0), output_size);
        copy_batch(tan_[depth], ydot);
    }
    void backward_paired(const batch& x, const batch&, const batch&, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context& ctx) {
        if constexpr (can_borrow_input) input_.borrow(x);
        backward_paired(ybar, ydotbar, xbar, xdotbar, ctx);
    }

    template <class F>
    void visit_parameters(F&& f) {
        std::apply([&](auto&... l) { (l.visit_parameters(f), ...); }, layers_);
    }
    template <class F>
    void visit_buffers(F&& f) {
        std::apply([&](auto&... l) { (l.visit_buffers(f), ...); }, layers_);
    }

    void zero_grad() {
        visit_parameters([](auto& p) { p.zero_grad(); });
    }

    /// Works the reverse passes in other's buffers from now on (reverse_buffers): for two
    /// networks whose passes never overlap, such as a GAN's generator and critic.
    template <class... Other>
    void share_reverse_buffers(const network<Other...>& other) {
        reverse_.share(other.reverse_);
    }
    template <class... Other>
    bool shares_reverse_buffers_with(const network<Other...>& other) const {
        return reverse_.same_set(other.reverse_);
    }

    std::size_t parameter_count() {
        std::size_t n = 0;
        visit_parameters([&](auto& p) { n += p.size(); });
        return n;
    }

private:
    // share_reverse_buffers, shares_reverse_buffers_with and backward_through reach another network's reverse_
    template <class, class, class, class...>
    friend class network;

    template <class F, std::size_t... I>
    static void each_forward(F&& f, std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    template <class F, std::size_t... I>
    static void each_reverse(F&& f, std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, depth - 1 - I>{}), ...);
    }

    void run_forward(const pass_context& ctx) {
        const std::size_t n = act(0).shape(0);
        each_forward([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            batch& y = writable_act(I + 1);
            ensure_shape(y, n, layer_type<I>::output_shape::size);
            std::get<I>(layers_).forward(act(I), y, ctx);
        }, std::make_index_sequence<depth>{});
    }

    void run_backward(batch* dx, bool accumulate, const pass_context& ctx) {
        const std::size_t n = adjoint(depth).shape(0);
        each_reverse([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            batch* target = nullptr;
            if constexpr (I > 0) {
                ensure_shape(adjoint(I), n, layer_type<I>::input_shape::size);
                target = &adjoint(I);
            } else if (dx) {
                ensure_shape(*dx, n, input_size);
                target = dx;
            }
            std::get<I>(layers_).backward(act(I), act(I + 1), adjoint(I + 1), target, accumulate, ctx);
        }, std::make_index_sequence<depth>{});
    }

    void run_tangent(const pass_context& ctx) {
        const std::size_t n = tan_[0].shape(0);
        each_forward([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            ensure_shape(tan_[I + 1], n, layer_type<I>::output_shape::size);
            std::get<I>(layers_).forward_tangent(act(I), act(I + 1), tan_[I], tan_[I + 1], ctx);
        }, std::make_index_sequence<depth>{});
    }

    void run_backward_paired(batch* xbar, batch* xdotbar, const pass_context& ctx) {
        const std::size_t n = paired_adjoint(depth).shape(0);
        each_reverse([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            batch* pbar = nullptr;
            batch* tbar = nullptr;
            if constexpr (I > 0) {
                ensure_shape(paired_adjoint(I), n, layer_type<I>::input_shape::size);
                ensure_shape(tangent_adjoint(I), n, layer_type<I>::input_shape::size);
                pbar = &paired_adjoint(I);
                tbar = &tangent_adjoint(I);
            } else {
                if (xbar) ensure_shape(*xbar, n, input_size);
                if (xdotbar) ensure_shape(*xdotbar, n, input_size);
                pbar = xbar;
                tbar = xdotbar;
            }
            std::get<I>(layers_).backward_paired(act(I), act(I + 1), tan_[I], tan_[I + 1], paired_adjoint(I + 1),
                                                 tangent_adjoint(I + 1), pbar, tbar, ctx);
        }, std::make_index_sequence<depth>{});
    }

    // The adjoint of activation i (i = 1..depth; that of the network's input goes only into the
    // caller's dx). A reverse pass reads the adjoint of a layer's output and writes that of its
    // input, and never looks at it again, so two buffers hold every adjoint of one pass: a
    // first-order pass takes them as adjoint_slot says (one buffer through a run of layers whose
    // backward works in place), the paired pass in turn, so that adjoint(i) and adjoint(i + 1) are
    // different buffers there. The forward activations and tangents are kept until the next
    // forward, because the reverse passes read them. The cost is a buffer resized between layers;
    // its capacity is kept, so steady-state steps still allocate nothing (measured savings:
    // docs/performance.md, "What would close the gap", item 5).
    batch& adjoint(std::size_t i) { return reverse_.primal(adjoint_slot[i]); }
    batch& paired_adjoint(std::size_t i) { return reverse_.primal(i); }
    batch& tangent_adjoint(std::size_t i) { return reverse_.tangent(i); }

    // Activation i (the input of layer i; depth: the network's output) in its buffer: an in-place
    // layer's output is in its input's buffer (activation_slot), and buffer 0 is the network's
    // input, its own copy or a borrowed batch (input_buffer). Tangents are never shared: the
    // paired reverse pass of a curved activation (tanh) reads its input tangent next to its output.
    const batch& act(std::size_t i) const {
        return activation_slot[i] == 0 ? input_.read() : act_[activation_slot[i] - 1];
    }
    // The same buffer, to write activation i into (for buffer 0, the input's own copy).
    batch& writable_act(std::size_t i) { return activation_slot[i] == 0 ? input_.own() : act_[activation_slot[i] - 1]; }

    layers layers_{};
    input_buffer<batch> input_;           // activation buffer 0, see act()
    std::array<batch, depth> act_{};      // activation buffers 1..depth, see act()
    std::array<batch, depth + 1> tan_{};  // tangents of the activations
    reverse_buffers<batch> reverse_;      // adjoints of the activations and tangents, see adjoint()
    batch handoff_;                       // backward_through's g, only when it cannot go straight in
};

}  // namespace gant
