#pragma once
// The CPU backend: the reference implementation of every kernel that layers call. Layers hold
// the maths (which products and which reductions make up a forward, backward or tangent pass);
// a backend decides where and how those kernels run. A CUDA backend (cuda/) provides the same
// static functions over device memory, so layers are specialised, not rewritten.
#include <algorithm>
#include <cstddef>
#include <utility>

#include "gant/core/blas.hpp"

namespace gant::backend {

/// Geometry of a 2-D convolution on one sample, NCHW.
struct conv_geometry {
    std::size_t channels, height, width;  // input
    std::size_t kernel_h, kernel_w, stride, padding;
    std::size_t out_height, out_width;
    std::size_t patch() const { return channels * kernel_h * kernel_w; }  // rows of the column matrix
    std::size_t out_pixels() const { return out_height * out_width; }
};

struct cpu {
    static constexpr const char* name = "cpu";

    template <class T>
    static void gemm(blas::op ta, blas::op tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                     std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
        blas::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// A left operand that a layer prepares once per pass and multiplies by every chunk of the
    /// batch (blas::left_operand). One per calling thread, reused by every layer in turn, so the
    /// packed copy costs the memory of the largest weight matrix once, not once per layer; the
    /// pool's workers only read it while the preparing thread waits for them.
    template <class T>
    static blas::left_operand<T>& pass_left_operand() {
        thread_local blas::left_operand<T> operand;
        return operand;
    }

    /// C[m x n] = alpha * op(A) * op(B) + beta * C with a prepared op(A).
    template <class T>
    static void gemm(const blas::left_operand<T>& a, blas::op tb, std::size_t n, T alpha, const T* b, std::size_t ldb,
                     T beta, T* c, std::size_t ldc) {
        a.multiply(tb, n, alpha, b, ldb, beta, c, ldc);
    }

    /// Unfolds one sample (C x H x W) into columns: rows = C*kh*kw patch entries, cols = output
    /// pixels; padding reads as zero. Row r of the result starts at columns + r * ld, so several
    /// samples can be unfolded side by side into one wide matrix (ld = samples * out_pixels) and
    /// multiplied by a single GEMM. The geometry is a template argument (every layer's is known at
    /// compile time): each kernel tap's rows and columns that read real pixels rather than padding
    /// become constants, so the copies are loops of fixed length that the compiler unrolls and
    /// vectorises, with no bounds test per pixel. (With the geometry at run time the strided copy
    /// of a 7-pixel row was a scalar loop that took 13% of a WGAN-GP step.)
    template <conv_geometry G, class T>
    static void im2col(const T* image, T* columns, std::size_t ld) {
        constexpr std::size_t ow = G.out_width;
        for (std::size_t c = 0; c < G.channels; ++c) {
            const T* plane = image + c * G.height * G.width;
            for_each_tap<G>([&]<class Tap>(Tap) {
                T* row = columns + (c * G.kernel_h * G.kernel_w + Tap::index) * ld;
                if constexpr (Tap::x0 == Tap::x1) {  // the tap reads padding only
                    std::fill(row, row + G.out_height * ow, T(0));
                    return;
                }
                std::fill(row, row + Tap::y0 * ow, T(0));
                for (std::size_t oy = Tap::y0; oy < Tap::y1; ++oy) {
                    T* out = row + oy * ow;
                    const T* in = plane + Tap::first_pixel(oy);
                    for (std::size_t ox = 0; ox < Tap::x0; ++ox) out[ox] = T(0);
                    for (std::size_t i = 0; i < Tap::x1 - Tap::x0; ++i) out[Tap::x0 + i] = in[i * G.stride];
                    for (std::size_t ox = Tap::x1; ox < ow; ++ox) out[ox] = T(0);
                }
                std::fill(row + Tap::y1 * ow, row + G.out_height * ow, T(0));
            });
        }
    }

    /// The adjoint of im2col: scatters (adds) columns back into an image that the caller zeroed
    /// (or pre-filled: col2im only adds). ld and the compile-time geometry as for im2col.
    template <conv_geometry G, class T>
    static void col2im(const T* columns, T* image, std::size_t ld) {
        for (std::size_t c = 0; c < G.channels; ++c) {
            T* plane = image + c * G.height * G.width;
            for_each_tap<G>([&]<class Tap>(Tap) {
                if constexpr (Tap::x0 < Tap::x1) {
                    const T* row = columns + (c * G.kernel_h * G.kernel_w + Tap::index) * ld;
                    for (std::size_t oy = Tap::y0; oy < Tap::y1; ++oy) {
                        const T* in = row + oy * G.out_width + Tap::x0;
                        T* out = plane + Tap::first_pixel(oy);
                        for (std::size_t i = 0; i < Tap::x1 - Tap::x0; ++i) out[i * G.stride] += in[i];
                    }
                }
            });
        }
    }

    // ---- batch layout helpers for GEMM-based layers -------------------------------------
    // A batch of images is [samples][channels][pixels]. Folding several samples into one GEMM
    // needs them as [channels][samples * pixels] (each channel's pixels of all samples in one
    // row); these move a batch between the two layouts.

    /// packed[c][s * pixels + p] = batch[s][c][p].
    template <class T>
    static void pack_channels(const T* batch, std::size_t samples, std::size_t channels, std::size_t pixels,
                              T* packed) {
        for (std::size_t s = 0; s < samples; ++s)
            for (std::size_t c = 0; c < channels; ++c) {
                const T* src = batch + (s * channels + c) * pixels;
                std::copy(src, src + pixels, packed + (c * samples + s) * pixels);
            }
    }

    /// batch[s][c][p] = packed[c][s * pixels + p] (+ bias[c] when bias is not null).
    template <class T>
    static void unpack_channels(const T* packed, std::size_t samples, std::size_t channels, std::size_t pixels,
                                T* batch, const T* bias) {
        for (std::size_t s = 0; s < samples; ++s)
            for (std::size_t c = 0; c < channels; ++c) {
                const T* src = packed + (c * samples + s) * pixels;
                T* dst = batch + (s * channels + c) * pixels;
                if (bias) {
                    const T b = bias[c];
                    for (std::size_t p = 0; p < pixels; ++p) dst[p] = src[p] + b;
                } else {
                    std::copy(src, src + pixels, dst);
                }
            }
    }

    /// batch[s][c][p] = value[c], or 0 when value is null.
    template <class T>
    static void fill_channels(T* batch, std::size_t samples, std::size_t channels, std::size_t pixels,
                              const T* value) {
        for (std::size_t s = 0; s < samples; ++s)
            for (std::size_t c = 0; c < channels; ++c) {
                T* dst = batch + (s * channels + c) * pixels;
                std::fill(dst, dst + pixels, value ? value[c] : T(0));
            }
    }

    /// sums[c] += sum over samples and pixels of batch[s][c][p] (a bias gradient).
    template <class T>
    static void channel_sums(const T* batch, std::size_t samples, std::size_t channels, std::size_t pixels,
                             T* sums) {
        for (std::size_t s = 0; s < samples; ++s)
            for (std::size_t c = 0; c < channels; ++c) {
                const T* src = batch + (s * channels + c) * pixels;
                T acc = T(0);
                for (std::size_t p = 0; p < pixels; ++p) acc += src[p];
                sums[c] += acc;
            }
    }

private:
    /// Output positions o in [first, last) whose input coordinate o*stride + k - padding lies
    /// inside [0, size): the taps that read real pixels rather than padding.
    static constexpr std::pair<std::size_t, std::size_t> valid_range(std::size_t k, std::size_t size,
                                                                     std::size_t outputs, std::size_t stride,
                                                                     std::size_t padding) {
        const std::size_t first = k >= padding ? 0 : (padding - k + stride - 1) / stride;
        if (size + padding < k + 1) return {0, 0};
        const std::size_t last = std::min(outputs, (size - 1 + padding - k) / stride + 1);
        return {std::min(first, last), last};
    }

    /// Kernel tap (ky, kx) of G as compile-time facts: its row among a channel's rows of the
    /// column matrix, the output rows [y0, y1) and columns [x0, x1) where it reads real pixels
    /// rather than padding, and the offset in the channel's plane of the first pixel it reads on
    /// output row oy (oy in [y0, y1)).
    template <conv_geometry G, std::size_t ky, std::size_t kx>
    struct tap {
        static constexpr std::size_t index = ky * G.kernel_w + kx;
        static constexpr std::size_t y0 = valid_range(ky, G.height, G.out_height, G.stride, G.padding).first;
        static constexpr std::size_t y1 = valid_range(ky, G.height, G.out_height, G.stride, G.padding).second;
        static constexpr std::size_t x0 = valid_range(kx, G.width, G.out_width, G.stride, G.padding).first;
        static constexpr std::size_t x1 = valid_range(kx, G.width, G.out_width, G.stride, G.padding).second;
        static constexpr std::size_t first_pixel(std::size_t oy) {
            return (oy * G.stride + ky - G.padding) * G.width + (x0 * G.stride + kx - G.padding);
        }
    };

    /// Calls f(tap<G, ky, kx>{}) for every tap of G's kernel, in row-major order (the order of
    /// the column matrix's rows).
    template <conv_geometry G, class F>
    static void for_each_tap(F&& f) {
        [&]<std::size_t... t>(std::index_sequence<t...>) {
            (f(tap<G, t / G.kernel_w, t % G.kernel_w>{}), ...);
        }(std::make_index_sequence<G.kernel_h * G.kernel_w>{});
    }
};

}  // namespace gant::backend
