#pragma once
// Element-wise activations y = phi(a). One implementation serves every activation; an
// activation only states phi, phi' and phi'' (the curvature the gradient-penalty rules need):
//   tangent   ydot    = phi'(a) * adot
//   reverse   abar    = phi'(a) * ybar + phi''(a) * adot * ydotbar
//             adotbar = phi'(a) * ydotbar
//
// phi' and phi'' are written Fn::first(a, y) and Fn::second(a, y). An activation whose two
// derivatives come out the same when handed y in place of a (Fn::derivatives_from_output) runs in
// place in a network (nn/layer.hpp, runs_in_place): y overwrites a, and one activation buffer less
// is stored. The values do not change by a bit.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "gant/core/parallel.hpp"
#include "gant/core/vector_state.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

namespace detail {
/// Fn::derivatives_from_output when the function object states it; a user's activation that
/// does not say is not run in place.
template <class Fn>
constexpr bool derivatives_from_output() {
    if constexpr (requires { Fn::derivatives_from_output; })
        return Fn::derivatives_from_output;
    else
        return false;
}
}  // namespace detail

template <class In, class Fn, class T>
class pointwise_impl : public stateless {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool in_place = detail::derivatives_from_output<Fn>();  // x and y may be one tensor
    // dx[i] is computed from dy[i] alone, so dx may overwrite dy
    static constexpr bool backward_in_place = true;

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        const T* a = x.data();
        T* out = y.data();
        each_slice(ctx, x.size(), [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) out[i] = Fn::value(a[i]);  // a == out when run in place
        });
    }

    void backward(const tensor<T>& x, const tensor<T>& y, const tensor<T>& dy, tensor<T>* dx, bool,
                  const pass_context& ctx) {
        if (!dx) return;
        const T *a = x.data(), *out = y.data(), *g = dy.data();
        T* d = dx->data();
        each_slice(ctx, x.size(), [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) d[i] = Fn::first(a[i], out[i]) * g[i];
        });
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        const T *a = x.data(), *out = y.data(), *ad = xdot.data();
        T* yd = ydot.data();
        each_slice(ctx, x.size(), [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) yd[i] = Fn::first(a[i], out[i]) * ad[i];
        });
    }

    void backward_paired(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        const T *a = x.data(), *out = y.data(), *ad = xdot.data(), *yb = ybar.data(), *ydb = ydotbar.data();
        T* ab = xbar ? xbar->data() : nullptr;
        T* adb = xdotbar ? xdotbar->data() : nullptr;
        each_slice(ctx, x.size(), [&](std::size_t b, std::size_t e) {
            if (ab)
                for (std::size_t i = b; i < e; ++i)
                    ab[i] = Fn::first(a[i], out[i]) * yb[i] + Fn::second(a[i], out[i]) * ad[i] * ydb[i];
            if (adb)
                for (std::size_t i = b; i < e; ++i) adb[i] = Fn::first(a[i], out[i]) * ydb[i];
        });
    }

private:
    // Element-wise, so any split gives the same values as one thread.
    template <class Body>
    static void each_slice(const pass_context& ctx, std::size_t n, Body&& body) {
        split_items(ctx, n, n, [&](std::size_t b, std::size_t e, std::size_t) { body(b, e); });
    }
};

/// Declares a descriptor for an activation function object Fn.
template <class Fn, const char* Name>
struct activation {
    static constexpr const char* name = Name;
    using expects = expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = pointwise_impl<In, typename Fn::template with<T>, T>;
};

namespace fn {

/// a for a > 0, slope * a otherwise (slope 0: ReLU); phi'' = 0 away from the kink.
///
/// Written so that GCC vectorises the forward loop. A branch on random signs mispredicts half the
/// time (it made this the slowest pass of a WGAN-GP step), and GCC turns every plain form we tried
/// into that branch: `max(a, 0) + slope * min(a, 0)`, `a * (a > 0 ? 1 : slope)` and the like all
/// become "a, or a * slope", and a multiply done on one path only is not if-converted while it
/// may raise a floating-point exception (-ftrapping-math, the default). So the factor 1 or slope
/// is chosen with integer masks on its bits and the multiply happens on every element. ReLU
/// selects between a and 0 (no arithmetic), which GCC vectorises as it is.
/// Special values: NaN stays NaN, +-inf stay +-inf, -0 stays -0 (leaky; ReLU gives +0 for it and
/// for every a <= 0).
template <std::intmax_t Num, std::intmax_t Den>
struct leaky {
    template <class T>
    struct with {
        static constexpr T slope = T(Num) / T(Den);
        // a > 0 exactly when y > 0 unless the slope is negative, and phi'' is 0.
        static constexpr bool derivatives_from_output = slope >= T(0);
        static T value(T a) {
            if constexpr (Num == 0) {
                return a <= T(0) ? T(0) : a;  // NaN fails the test and passes through
            } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
                using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
                const bits positive = bits(0) - bits(a > T(0));  // all ones where a > 0 (never for NaN)
                const bits factor =
                    (positive & std::bit_cast<bits>(T(1))) | (~positive & std::bit_cast<bits>(slope));
                return a * std::bit_cast<T>(factor);
            } else {
                return a > T(0) ? a : slope * a;
            }
        }
        static T first(T a, T) { return a > T(0) ? T(1) : slope; }
        static T second(T, T) { return T(0); }
    };
};

struct tanh_fn {
    template <class T>
    struct with {
        static constexpr bool derivatives_from_output = true;  // phi' and phi'' read y only
        static T value(T a) {
            gant::detail::leave_upper_vector_state_clean();  // glibc's tanh is SSE code (core/vector_state.hpp)
            return std::tanh(a);
        }
        static T first(T, T y) { return T(1) - y * y; }
        static T second(T, T y) { return T(-2) * y * (T(1) - y * y); }
    };
};

struct sigmoid_fn {
    template <class T>
    struct with {
        static constexpr bool derivatives_from_output = true;  // phi' and phi'' read y only
        static T value(T a) { return a >= T(0) ? T(1) / (T(1) + std::exp(-a)) : std::exp(a) / (T(1) + std::exp(a)); }
        static T first(T, T y) { return y * (T(1) - y); }
        static T second(T, T y) { return y * (T(1) - y) * (T(1) - T(2) * y); }
    };
};

struct softplus_fn {
    template <class T>
    struct with {
        static constexpr bool derivatives_from_output = false;  // phi' = sigmoid(a) is not recovered exactly from y
        static T value(T a) {
            gant::detail::leave_upper_vector_state_clean();  // glibc's log1p is SSE code (core/vector_state.hpp)
            return std::max(a, T(0)) + std::log1p(std::exp(-std::abs(a)));
        }
        static T first(T a, T) { return sigmoid_fn::with<T>::value(a); }
        static T second(T a, T) {
            const T s = sigmoid_fn::with<T>::value(a);
            return s * (T(1) - s);
        }
    };
};

struct identity_fn {
    template <class T>
    struct with {
        static constexpr bool derivatives_from_output = true;  // phi' = 1, phi'' = 0
        static T value(T a) { return a; }
        static T first(T, T) { return T(1); }
        static T second(T, T) { return T(0); }
    };
};

inline constexpr char relu_name[] = "relu";
inline constexpr char leaky_relu_name[] = "leaky_relu";
inline constexpr char tanh_name[] = "tanh";
inline constexpr char sigmoid_name[] = "sigmoid";
inline constexpr char softplus_name[] = "softplus";
inline constexpr char identity_name[] = "identity";

}  // namespace fn

using relu = activation<fn::leaky<0, 1>, fn::relu_name>;
/// leaky_relu<> has slope 0.2 (DCGAN, PGGAN); leaky_relu<1, 100> has slope 0.01.
template <std::intmax_t Num = 1, std::intmax_t Den = 5>
using leaky_relu = activation<fn::leaky<Num, Den>, fn::leaky_relu_name>;
using tanh = activation<fn::tanh_fn, fn::tanh_name>;
using sigmoid = activation<fn::sigmoid_fn, fn::sigmoid_name>;
using softplus = activation<fn::softplus_fn, fn::softplus_name>;
using identity = activation<fn::identity_fn, fn::identity_name>;

}  // namespace gant
