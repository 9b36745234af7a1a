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
    /// multiplied by a single GEMM. The valid output range of each kernel tap is computed once, so
    /// the inner loop is a plain (strided) copy without bounds checks.
    template <class T>
    static void im2col(const conv_geometry& g, const T* image, T* columns, std::size_t ld) {
        const std::size_t ow = g.out_width, s = g.stride;
        for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                    T* row = columns + ((c * g.kernel_h + ky) * g.kernel_w + kx) * ld;
                    const T* plane = image + c * g.height * g.width;
                    const auto [x0, x1] = valid_range(kx, g.width, ow, s, g.padding);
                    for (std::size_t oy = 0; oy < g.out_height; ++oy) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * s + ky) - std::ptrdiff_t(g.padding);
                        T* out = row + oy * ow;
                        if (iy < 0 || iy >= std::ptrdiff_t(g.height) || x0 == x1) {
                            std::fill(out, out + ow, T(0));
                            continue;
                        }
                        // Only taps that overhang the border have these (a pixel or two): test
                        // first, as an unconditional fill costs a memset call per row.
                        if (x0 > 0) std::fill(out, out + x0, T(0));
                        if (x1 < ow) std::fill(out + x1, out + ow, T(0));
                        const T* in = plane + std::size_t(iy) * g.width + (x0 * s + kx - g.padding);
                        if (s == 1)
                            std::copy(in, in + (x1 - x0), out + x0);
                        else
                            for (std::size_t ox = x0, i = 0; ox < x1; ++ox, i += s) out[ox] = in[i];
                    }
                }
    }

    template <class T>
    static void im2col(const conv_geometry& g, const T* image, T* columns) {
        im2col(g, image, columns, g.out_pixels());
    }

    /// The adjoint of im2col: scatters (adds) columns back into an image that the caller zeroed
    /// (or pre-filled: col2im only adds). ld as for im2col.
    template <class T>
    static void col2im(const conv_geometry& g, const T* columns, T* image, std::size_t ld) {
        const std::size_t ow = g.out_width, s = g.stride;
        for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                    const T* row = columns + ((c * g.kernel_h + ky) * g.kernel_w + kx) * ld;
                    T* plane = image + c * g.height * g.width;
                    const auto [x0, x1] = valid_range(kx, g.width, ow, s, g.padding);
                    if (x0 == x1) continue;
                    for (std::size_t oy = 0; oy < g.out_height; ++oy) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * s + ky) - std::ptrdiff_t(g.padding);
                        if (iy < 0 || iy >= std::ptrdiff_t(g.height)) continue;
                        const T* in = row + oy * ow;
                        T* out = plane + std::size_t(iy) * g.width + (x0 * s + kx - g.padding);
                        if (s == 1)
                            for (std::size_t ox = x0; ox < x1; ++ox) out[ox - x0] += in[ox];
                        else
                            for (std::size_t ox = x0, i = 0; ox < x1; ++ox, i += s) out[i] += in[ox];
                    }
                }
    }

    template <class T>
    static void col2im(const conv_geometry& g, const T* columns, T* image) {
        col2im(g, columns, image, g.out_pixels());
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
    static std::pair<std::size_t, std::size_t> valid_range(std::size_t k, std::size_t size, std::size_t outputs,
                                                           std::size_t stride, std::size_t padding) {
        const std::size_t first = k >= padding ? 0 : (padding - k + stride - 1) / stride;
        if (size + padding < k + 1) return {0, 0};
        const std::size_t last = std::min(outputs, (size - 1 + padding - k) / stride + 1);
        return {std::min(first, last), last};
    }
};

}  // namespace gant::backend
