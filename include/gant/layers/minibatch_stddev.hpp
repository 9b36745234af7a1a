#pragma once
// Minibatch standard deviation (Karras et al. 2017, PGGAN section 3; networks.py
// `minibatch_stddev_layer`): the critic sees how varied its batch is, by one extra feature map.
//
// The batch of B samples is split into B / G groups of G = min(Group, B) samples, the same way
// as the official code's reshape to [G, M, C, H, W]: group m holds samples m, m + M, m + 2M, ...
// (M = B / G). Per group and per feature f of the F = C*H*W features of a sample,
//     mu_f = mean_k x_kf,  d_kf = x_kf - mu_f,  sigma_f = sqrt(mean_k d_kf^2 + eps)   (eps 1e-8)
//     s = mean_f sigma_f
// and every sample of the group gets s appended as a constant feature map: shape<C, H, W> ->
// shape<C + 1, H, W> (a feature vector shape<F> gets one more feature).
//
// Rules (k over the group's G samples, t / tdot = the adjoint of s, of its tangent, summed over
// the extra map of every sample in the group):
//   ds/dx_kf  = d_kf / (F G sigma_f)                       (the mean's term vanishes: sum_k d_kf = 0)
//   tangent   sdot = sum_kf d_kf xdot_kf / (F G sigma_f)
//   reverse   xbar_kf    = ybar_kf + t d_kf / (F G sigma_f)
//   paired    xdotbar_kf = ydotbar_kf + tdot d_kf / (F G sigma_f)
//             xbar_kf    = ybar_kf + t d_kf / (F G sigma_f)
//                          + tdot / (F G) [ (xdot_kf - nu_f) / sigma_f - e_f d_kf / (G sigma_f^3) ]
//   with nu_f = mean_k xdot_kf and e_f = sum_k d_kf xdot_kf: the gradient of sdot with respect to x.
//
// The layer mixes samples (couples_samples), but through a statistic a gradient penalty
// tolerates: PGGAN penalises the gradient of sum_i D(xhat_i) with respect to the whole batch,
// which is well defined, so it declares uses_batch_statistics = false. With one sample per group
// (B = 1, or Group = 1) s = sqrt(eps) and every gradient through s is zero.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/nn/layer.hpp"

namespace gant {

namespace detail {
template <class S>
struct append_channel;
template <std::size_t C, std::size_t... Rest>
struct append_channel<shape<C, Rest...>> {
    using type = shape<C + 1, Rest...>;
};
}  // namespace detail

template <class In, std::size_t Group, class T>
class minibatch_stddev_impl : public stateless {
    static constexpr std::size_t features = In::size;                      // F = C*H*W
    static constexpr std::size_t plane = In::size / In::dims[0];            // pixels of the extra map
    using out_shape = typename detail::append_channel<In>::type;
    static constexpr std::size_t out_size = out_shape::size;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = out_shape;
    static constexpr bool couples_samples = true;
    static constexpr bool uses_batch_statistics = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    /// Run-time setting with PGGAN's default.
    T epsilon = T(1e-8);

    /// Samples per group for a batch of n (throws when n is not a multiple of it).
    static std::size_t group_size(std::size_t n) {
        const std::size_t g = std::min(Group, n);
        if (n == 0 || n % g != 0)
            throw std::invalid_argument("gant: minibatch_stddev splits a batch into groups of " + std::to_string(g) +
                                        " samples, so the batch size must be a multiple of it, got " +
                                        std::to_string(n));
        return g;
    }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context&) {
        const std::size_t n = x.shape(0), g = group_size(n), groups = n / g;
        ensure_shape(sigma_, groups, features);
        for (std::size_t m = 0; m < groups; ++m) {
            T* sig = sigma_.data() + m * features;
            measure(x, m, groups, g, sig);
            T s = 0;
            for (std::size_t f = 0; f < features; ++f) s += sig[f];
            s /= T(features);
            for (std::size_t k = 0; k < g; ++k) {
                const std::size_t i = m + k * groups;
                const T* src = x.data() + i * features;
                T* dst = y.data() + i * out_size;
                std::copy(src, src + features, dst);
                std::fill(dst + features, dst + out_size, s);
            }
        }
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool,
                  const pass_context&) {
        if (!dx) return;
        const std::size_t n = x.shape(0), g = group_size(n), groups = n / g;
        for (std::size_t m = 0; m < groups; ++m) {
            const T t = extra_sum(dy, m, groups, g) / T(features * g);
            const T* sig = sigma_.data() + m * features;
            mean_.resize(features);
            means(x, m, groups, g, mean_.data());
            for (std::size_t k = 0; k < g; ++k) {
                const std::size_t i = m + k * groups;
                const T *xi = x.data() + i * features, *gi = dy.data() + i * out_size;
                T* out = dx->data() + i * features;
                for (std::size_t f = 0; f < features; ++f) out[f] = gi[f] + t * (xi[f] - mean_[f]) / sig[f];
            }
        }
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context&) {
        const std::size_t n = x.shape(0), g = group_size(n), groups = n / g;
        for (std::size_t m = 0; m < groups; ++m) {
            const T* sig = sigma_.data() + m * features;
            mean_.resize(features);
            means(x, m, groups, g, mean_.data());
            T sdot = 0;
            for (std::size_t k = 0; k < g; ++k) {
                const std::size_t i = m + k * groups;
                const T *xi = x.data() + i * features, *di = xdot.data() + i * features;
                for (std::size_t f = 0; f < features; ++f) sdot += (xi[f] - mean_[f]) * di[f] / sig[f];
            }
            sdot /= T(features * g);
            for (std::size_t k = 0; k < g; ++k) {
                const std::size_t i = m + k * groups;
                const T* src = xdot.data() + i * features;
                T* dst = ydot.data() + i * out_size;
                std::copy(src, src + features, dst);
                std::fill(dst + features, dst + out_size, sdot);
            }
        }
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context&) {
        const std::size_t n = x.shape(0), g = group_size(n), groups = n / g;
        const T scale = T(1) / T(features * g);
        mean_.resize(features);
        nu_.resize(features);
        e_.resize(features);
        for (std::size_t m = 0; m < groups; ++m) {
            const T t = extra_sum(ybar, m, groups, g) * scale;
            const T tdot = extra_sum(ydotbar, m, groups, g) * scale;
            const T* sig = sigma_.data() + m * features;
            means(x, m, groups, g, mean_.data());
            if (xbar) {
                means(xdot, m, groups, g, nu_.data());
                std::fill(e_.begin(), e_.end(), T(0));
                for (std::size_t k = 0; k < g; ++k) {
                    const std::size_t i = m + k * groups;
                    const T *xi = x.data() + i * features, *di = xdot.data() + i * features;
                    for (std::size_t f = 0; f < features; ++f) e_[f] += (xi[f] - mean_[f]) * di[f];
                }
            }
            for (std::size_t k = 0; k < g; ++k) {
                const std::size_t i = m + k * groups;
                const T* xi = x.data() + i * features;
                if (xdotbar) {
                    const T* wi = ydotbar.data() + i * out_size;
                    T* out = xdotbar->data() + i * features;
                    for (std::size_t f = 0; f < features; ++f) out[f] = wi[f] + tdot * (xi[f] - mean_[f]) / sig[f];
                }
                if (xbar) {
                    const T *bi = ybar.data() + i * out_size, *di = xdot.data() + i * features;
                    T* out = xbar->data() + i * features;
                    for (std::size_t f = 0; f < features; ++f) {
                        const T d = xi[f] - mean_[f], inv = T(1) / sig[f];
                        out[f] = bi[f] + t * d * inv +
                                 tdot * ((di[f] - nu_[f]) * inv - e_[f] * d * inv * inv * inv / T(g));
                    }
                }
            }
        }
    }

private:
    // mean over the group's samples of each feature of `a` (a [batch, features] tensor).
    static void means(const tensor<T>& a, std::size_t m, std::size_t groups, std::size_t g, T* out) {
        std::fill(out, out + features, T(0));
        for (std::size_t k = 0; k < g; ++k) {
            const T* ai = a.data() + (m + k * groups) * features;
            for (std::size_t f = 0; f < features; ++f) out[f] += ai[f];
        }
        for (std::size_t f = 0; f < features; ++f) out[f] /= T(g);
    }

    // sigma_f of group m, two-pass.
    void measure(const tensor<T>& x, std::size_t m, std::size_t groups, std::size_t g, T* sig) {
        mean_.resize(features);
        means(x, m, groups, g, mean_.data());
        std::fill(sig, sig + features, T(0));
        for (std::size_t k = 0; k < g; ++k) {
            const T* xi = x.data() + (m + k * groups) * features;
            for (std::size_t f = 0; f < features; ++f) {
                const T d = xi[f] - mean_[f];
                sig[f] += d * d;
            }
        }
        for (std::size_t f = 0; f < features; ++f) sig[f] = std::sqrt(sig[f] / T(g) + epsilon);
    }

    // The sum of an adjoint over the extra map of every sample of group m.
    static T extra_sum(const tensor<T>& a, std::size_t m, std::size_t groups, std::size_t g) {
        T s = 0;
        for (std::size_t k = 0; k < g; ++k) {
            const T* ai = a.data() + (m + k * groups) * out_size + features;
            for (std::size_t p = 0; p < plane; ++p) s += ai[p];
        }
        return s;
    }

    tensor<T> sigma_;              // [groups, features]: sigma_f of the last forward
    std::vector<T> mean_, nu_, e_;  // per-feature scratch of one group
};

/// minibatch_stddev<Group>: PGGAN's minibatch standard deviation with groups of Group samples
/// (4 in the paper; the batch must be a multiple of min(Group, batch)), appended as one more
/// channel: shape<C, H, W> -> shape<C + 1, H, W>.
template <std::size_t Group = 4>
struct minibatch_stddev {
    static_assert(Group > 0, "gant: minibatch_stddev<G> needs a positive group size");
    static constexpr const char* name = "minibatch_stddev";
    using expects = expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = typename detail::append_channel<In>::type;
    template <class In, class T, class B>
    using impl = minibatch_stddev_impl<In, Group, T>;
};

}  // namespace gant
