#pragma once
// Integer-factor image rescaling for progressive growing, on batches of NCHW rows:
//   box_downsample:   each f x f block of the input becomes its mean (PGGAN's downscaling of
//                     real images, and repeated 2x2 average pooling in one pass)
//   nearest_upsample: each pixel becomes an f x f block (PGGAN's upscaling)
// Both are linear; their adjoints are each other up to the factor f^2:
//   box_downsample^T = nearest_upsample / f^2,   nearest_upsample^T = f^2 box_downsample,
// which is what the backward, tangent and paired-reverse rules of the progressive networks use.
#include <cstddef>

#include "gant/core/tensor.hpp"

namespace gant::growth {

/// out[p] (h/f x w/f) = scale * sum over f x f blocks of in[p] (h x w), for `planes` planes.
template <class T>
void box_sum(std::size_t planes, std::size_t h, std::size_t w, std::size_t f, T scale, const T* in, T* out) {
    const std::size_t oh = h / f, ow = w / f;
    for (std::size_t p = 0; p < planes; ++p) {
        const T* src = in + p * h * w;
        T* dst = out + p * oh * ow;
        for (std::size_t i = 0; i < oh; ++i) {
            T* row = dst + i * ow;
            for (std::size_t j = 0; j < ow; ++j) row[j] = T(0);
            for (std::size_t a = 0; a < f; ++a) {
                const T* s = src + (i * f + a) * w;
                for (std::size_t j = 0; j < ow; ++j)
                    for (std::size_t b = 0; b < f; ++b) row[j] += s[j * f + b];
            }
            for (std::size_t j = 0; j < ow; ++j) row[j] *= scale;
        }
    }
}

/// out[p] (h*f x w*f) = scale * in[p] (h x w) repeated over f x f blocks.
template <class T>
void spread(std::size_t planes, std::size_t h, std::size_t w, std::size_t f, T scale, const T* in, T* out) {
    const std::size_t oh = h * f, ow = w * f;
    for (std::size_t p = 0; p < planes; ++p) {
        const T* src = in + p * h * w;
        T* dst = out + p * oh * ow;
        for (std::size_t i = 0; i < oh; ++i) {
            const T* s = src + (i / f) * w;
            T* row = dst + i * ow;
            for (std::size_t j = 0; j < ow; ++j) row[j] = scale * s[j / f];
        }
    }
}

/// Batch forms: x holds rows of `channels` planes of h x w; out is resized.
template <class T>
void box_downsample(const tensor<T>& x, std::size_t channels, std::size_t h, std::size_t w, std::size_t f,
                    tensor<T>& out) {
    const std::size_t n = x.shape(0);
    ensure_shape(out, n, channels * (h / f) * (w / f));
    if (f == 1) {
        std::copy(x.begin(), x.end(), out.begin());
        return;
    }
    box_sum(n * channels, h, w, f, T(1) / T(f * f), x.data(), out.data());
}

template <class T>
void nearest_upsample(const tensor<T>& x, std::size_t channels, std::size_t h, std::size_t w, std::size_t f,
                      tensor<T>& out, T scale = T(1)) {
    const std::size_t n = x.shape(0);
    ensure_shape(out, n, channels * h * f * w * f);
    spread(n * channels, h, w, f, scale, x.data(), out.data());
}

/// The adjoint of nearest_upsample by f: block sums (scaled).
template <class T>
void nearest_upsample_adjoint(const tensor<T>& dy, std::size_t channels, std::size_t h, std::size_t w, std::size_t f,
                              tensor<T>& dx, T scale = T(1)) {
    const std::size_t n = dy.shape(0);
    ensure_shape(dx, n, channels * h * w);
    box_sum(n * channels, h * f, w * f, f, scale, dy.data(), dx.data());
}

/// The adjoint of box_downsample by f (from h/f x w/f back to h x w).
template <class T>
void box_downsample_adjoint(const tensor<T>& dy, std::size_t channels, std::size_t h, std::size_t w, std::size_t f,
                            tensor<T>& dx) {
    const std::size_t n = dy.shape(0);
    ensure_shape(dx, n, channels * h * w);
    spread(n * channels, h / f, w / f, f, T(1) / T(f * f), dy.data(), dx.data());
}

/// a = s * a + t * b, elementwise (b the same size as a).
template <class T>
void blend_into(tensor<T>& a, T s, const tensor<T>& b, T t) {
    auto* pa = a.data();
    const auto* pb = b.data();
    for (std::size_t i = 0, n = a.size(); i < n; ++i) pa[i] = s * pa[i] + t * pb[i];
}

}  // namespace gant::growth
