#pragma once
// Pixelwise feature normalisation (Karras et al. 2017, PGGAN section 4.2, networks.py
// `pixel_norm`): every pixel's feature vector is scaled to unit mean square over the channels,
//     b_c = a_c / r,   r = sqrt(mean_c(a_c^2) + eps),   eps = 1e-8.
// No parameters. For a feature vector shape<F> the whole vector is one "pixel" (the latent
// normalisation of PGGAN's generator input).
//
// With q = mean_c(a_c * adot_c), the Jacobian is symmetric,
//     J(u) = u / r - a * mean_c(a * u) / r^3,
// so (algorithms.md 8)
//   tangent    bdot    = J(adot) = adot / r - a q / r^3
//   reverse    abar    = J(bbar)
//   paired     adotbar = J(w)                                     (w = bdot_bar)
//              abar    = J(bbar) + [ 3 mean(w a) q a / r^2 - mean(w adot) a - q w - mean(w a) adot ] / r^3
// The bracket is the gradient of w . J_a(adot) with respect to a (adot, w fixed): r depends
// on a through d r = mean(a da) / r, and q through d q = mean(adot da).
//
// One sample is [C, P] (P pixels per channel); the per-pixel means over C run as C passes over
// contiguous planes of P values, so every inner loop is unit-stride.
#include <cmath>
#include <cstddef>
#include <vector>

#include "gant/nn/layer.hpp"

namespace gant {

template <class In, class T>
class pixel_norm_impl : public stateless {
    static constexpr std::size_t channels = In::dims[0];
    static constexpr std::size_t plane = In::size / channels;  // pixels per channel

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    /// Run-time setting with PGGAN's default.
    T epsilon = T(1e-8);

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context&) {
        const std::size_t n = x.shape(0);
        ensure_shape(inv_r_, n, plane);  // 1 / r per pixel, kept for the later passes
        for (std::size_t i = 0; i < n; ++i) {
            const T* a = x.data() + i * In::size;
            T* inv = inv_r_.data() + i * plane;
            mean_product(a, a, inv);
            for (std::size_t p = 0; p < plane; ++p) inv[p] = T(1) / std::sqrt(inv[p] + epsilon);
            T* b = y.data() + i * In::size;
            for (std::size_t c = 0; c < channels; ++c)
                for (std::size_t p = 0; p < plane; ++p) b[c * plane + p] = a[c * plane + p] * inv[p];
        }
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool,
                  const pass_context&) {
        if (!dx) return;
        for (std::size_t i = 0, n = x.shape(0); i < n; ++i)
            jacobian(x.data() + i * In::size, inv_r_.data() + i * plane, dy.data() + i * In::size,
                     dx->data() + i * In::size);
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context&) {
        for (std::size_t i = 0, n = x.shape(0); i < n; ++i)
            jacobian(x.data() + i * In::size, inv_r_.data() + i * plane, xdot.data() + i * In::size,
                     ydot.data() + i * In::size);
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context&) {
        q_.resize(plane);
        wa_.resize(plane);
        wd_.resize(plane);
        for (std::size_t i = 0, n = x.shape(0); i < n; ++i) {
            const std::size_t o = i * In::size;
            const T *a = x.data() + o, *ad = xdot.data() + o, *w = ydotbar.data() + o;
            const T* inv = inv_r_.data() + i * plane;
            if (xdotbar) jacobian(a, inv, w, xdotbar->data() + o);
            if (!xbar) continue;
            T* ab = xbar->data() + o;
            jacobian(a, inv, ybar.data() + o, ab);
            mean_product(a, ad, q_.data());
            mean_product(w, a, wa_.data());
            mean_product(w, ad, wd_.data());
            for (std::size_t c = 0; c < channels; ++c)
                for (std::size_t p = 0; p < plane; ++p) {
                    const std::size_t k = c * plane + p;
                    const T s = inv[p], s3 = s * s * s;
                    ab[k] += s3 * (T(3) * wa_[p] * q_[p] * a[k] * s * s - wd_[p] * a[k] - q_[p] * w[k] - wa_[p] * ad[k]);
                }
        }
    }

private:
    // out[p] = mean over channels of u[c, p] * v[c, p].
    static void mean_product(const T* u, const T* v, T* out) {
        for (std::size_t p = 0; p < plane; ++p) out[p] = T(0);
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t p = 0; p < plane; ++p) out[p] += u[c * plane + p] * v[c * plane + p];
        for (std::size_t p = 0; p < plane; ++p) out[p] /= T(channels);
    }

    // out = J(u) = u / r - a mean(a u) / r^3, per pixel.
    void jacobian(const T* a, const T* inv, const T* u, T* out) {
        m_.resize(plane);
        mean_product(a, u, m_.data());
        for (std::size_t p = 0; p < plane; ++p) m_[p] *= inv[p] * inv[p] * inv[p];
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t p = 0; p < plane; ++p) {
                const std::size_t k = c * plane + p;
                out[k] = u[k] * inv[p] - a[k] * m_[p];
            }
    }

    tensor<T> inv_r_;                 // [batch, plane]: 1 / r of the last forward
    std::vector<T> m_, q_, wa_, wd_;  // per-pixel means of one sample (scratch)
};

/// pixel_norm: PGGAN's per-pixel normalisation over the channels (the first dimension) of any
/// sample shape: shape<C, H, W> per pixel, shape<F> over the whole vector.
struct pixel_norm {
    static constexpr const char* name = "pixel_norm";
    using expects = expects_any_shape;
    template <class In>
    static constexpr bool accepts = true;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = pixel_norm_impl<In, T>;
};

}  // namespace gant
