#pragma once
// RMSprop (Hinton's lecture notes) as torch.optim.RMSprop computes it:
//     g = g + weight_decay * p
//     s = alpha * s + (1 - alpha) * g^2
//     centered: a = alpha * a + (1 - alpha) * g;  r = sqrt(s - a^2) + eps
//     otherwise:                                  r = sqrt(s) + eps
//     momentum > 0: buf = momentum * buf + g / r;  p -= lr * buf
//     otherwise:                                   p -= lr * g / r
// eps is added outside the square root (TensorFlow adds it inside: results differ for tiny s).
// WGAN (Arjovsky et al. 2017) trains both networks with RMSprop, lr 5e-5.
#include <algorithm>
#include <cmath>

#include "gant/optim/optimizer.hpp"

namespace gant::optim {

/// Defaults are PyTorch's (lr 1e-2, alpha 0.99, eps 1e-8).
struct rmsprop_params {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0.0;
    double momentum = 0.0;
    bool centered = false;

    /// WGAN with weight clipping (Arjovsky et al. 2017, Alg. 1): lr 5e-5.
    static rmsprop_params wgan() { return {.lr = 5e-5}; }
};

struct rmsprop_rule {
    using params = rmsprop_params;
    static constexpr std::array<const char*, 3> state_names{"square_avg", "momentum_buffer", "grad_avg"};

    static std::array<bool, 3> uses(const params& p) { return {true, p.momentum > 0, p.centered}; }

    static void check(const params& p) {
        detail::require(p.lr >= 0, "rmsprop", "the learning rate must be non-negative", p.lr);
        detail::require(p.eps >= 0, "rmsprop", "eps must be non-negative", p.eps);
        detail::require(p.alpha >= 0, "rmsprop", "alpha must be non-negative", p.alpha);
        detail::require(p.momentum >= 0, "rmsprop", "momentum must be non-negative", p.momentum);
        detail::require(p.weight_decay >= 0, "rmsprop", "weight_decay must be non-negative", p.weight_decay);
    }

    template <class T>
    static void update(const params& hp, std::uint64_t, T* value, const T* grad, std::size_t n,
                       const std::array<T*, 3>& state) {
        T *square = state[0], *buf = state[1], *mean = state[2];
        if (mean && buf)
            run<true, true>(hp, value, grad, square, buf, mean, n);
        else if (mean)
            run<true, false>(hp, value, grad, square, buf, mean, n);
        else if (buf)
            run<false, true>(hp, value, grad, square, buf, mean, n);
        else
            run<false, false>(hp, value, grad, square, buf, mean, n);
    }

private:
    // The configuration is resolved at compile time so each loop body is straight-line code; kept
    // out of line because GCC 12 stops vectorising such loops once inlined into the parameter walk.
    template <bool Centered, bool Momentum, class T>
    [[gnu::noinline]] static void run(const params& hp, T* __restrict value, const T* __restrict grad,
                                      T* __restrict square, T* __restrict buf, T* __restrict mean, std::size_t n) {
        const T lr = T(hp.lr), a = T(hp.alpha), c = T(1.0 - hp.alpha), eps = T(hp.eps), wd = T(hp.weight_decay),
                mu = T(hp.momentum);
        for (std::size_t i = 0; i < n; ++i) {
            const T g = grad[i] + wd * value[i];
            const T s = a * square[i] + c * g * g;
            square[i] = s;
            T r;
            if constexpr (Centered) {
                const T m = a * mean[i] + c * g;
                mean[i] = m;
                // s >= m^2 in exact arithmetic; the clamp only stops rounding from making a NaN.
                r = std::sqrt(std::max(s - m * m, T(0))) + eps;
            } else {
                r = std::sqrt(s) + eps;
            }
            if constexpr (Momentum) {
                const T b = mu * buf[i] + g / r;
                buf[i] = b;
                value[i] -= lr * b;
            } else {
                value[i] -= lr * (g / r);
            }
        }
    }
};

/// optim::rmsprop<T>: see rmsprop_params for the hyper-parameters.
template <class T = float>
using rmsprop = optimizer<T, rmsprop_rule>;

}  // namespace gant::optim
