#pragma once
// The CPU backend: the reference implementation of every kernel that layers call. Layers hold
// the maths (which products and which reductions make up a forward, backward or tangent pass);
// a backend decides where and how those kernels run. A CUDA backend (cuda/) provides the same
// static functions over device memory, so layers are specialised, not rewritten.
#include <algorithm>
#include <cstddef>

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

    /// Unfolds one sample (C x H x W) into columns: rows = C*kh*kw patch entries, cols = output
    /// pixels (row-major [patch, out_pixels]); padding reads as zero.
    template <class T>
    static void im2col(const conv_geometry& g, const T* image, T* columns) {
        const std::size_t op = g.out_pixels();
        for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                    T* row = columns + ((c * g.kernel_h + ky) * g.kernel_w + kx) * op;
                    const T* plane = image + c * g.height * g.width;
                    for (std::size_t oy = 0; oy < g.out_height; ++oy) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.stride + ky) - std::ptrdiff_t(g.padding);
                        T* out = row + oy * g.out_width;
                        if (iy < 0 || iy >= std::ptrdiff_t(g.height)) {
                            std::fill(out, out + g.out_width, T(0));
                            continue;
                        }
                        const T* in = plane + std::size_t(iy) * g.width;
                        for (std::size_t ox = 0; ox < g.out_width; ++ox) {
                            const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.stride + kx) - std::ptrdiff_t(g.padding);
                            out[ox] = (ix < 0 || ix >= std::ptrdiff_t(g.width)) ? T(0) : in[ix];
                        }
                    }
                }
    }

    /// The adjoint of im2col: scatters (adds) columns back into an image that the caller zeroed.
    template <class T>
    static void col2im(const conv_geometry& g, const T* columns, T* image) {
        const std::size_t op = g.out_pixels();
        for (std::size_t c = 0; c < g.channels; ++c)
            for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                    const T* row = columns + ((c * g.kernel_h + ky) * g.kernel_w + kx) * op;
                    T* plane = image + c * g.height * g.width;
                    for (std::size_t oy = 0; oy < g.out_height; ++oy) {
                        const std::ptrdiff_t iy = std::ptrdiff_t(oy * g.stride + ky) - std::ptrdiff_t(g.padding);
                        if (iy < 0 || iy >= std::ptrdiff_t(g.height)) continue;
                        const T* in = row + oy * g.out_width;
                        T* out = plane + std::size_t(iy) * g.width;
                        for (std::size_t ox = 0; ox < g.out_width; ++ox) {
                            const std::ptrdiff_t ix = std::ptrdiff_t(ox * g.stride + kx) - std::ptrdiff_t(g.padding);
                            if (ix >= 0 && ix < std::ptrdiff_t(g.width)) out[ix] += in[ox];
                        }
                    }
                }
    }
};

}  // namespace gant::backend
