#pragma once
// The resampling layers PGGAN grows with: nearest-neighbour upsampling x2 (generator side) and
// 2x2 average pooling with stride 2 (critic side, and the fade-in of real images).
//
// Both are linear and each is, up to a factor, the other's adjoint:
//     upsample2x     = spread      (each pixel copied into its 2x2 block)
//     upsample2x^T   = block sum   (each 2x2 block summed into one pixel)
//     avg_pool2x     = block sum / 4
//     avg_pool2x^T   = spread / 4
// so two kernels, spread2x and sum2x (with a scale), serve all four directions, and the tangent
// and paired-reverse rules come from linear_layer.
#include <algorithm>
#include <cstddef>

#include "gant/layers/reshape.hpp"

namespace gant {

/// The two resampling kernels over `planes` contiguous image planes (batch x channels of NCHW).
/// A backend that runs elsewhere (CUDA) specialises this template; the layers stay as they are.
template <class Backend>
struct resample_kernels {
    /// out (2h x 2w per plane)[2i+a][2j+b] = scale * in (h x w per plane)[i][j]
    template <class T>
    static void spread2x(std::size_t planes, std::size_t h, std::size_t w, T scale, const T* in, T* out) {
        const std::size_t ow = 2 * w;
        for (std::size_t p = 0; p < planes; ++p) {
            const T* src = in + p * h * w;
            T* dst = out + p * 4 * h * w;
            for (std::size_t i = 0; i < h; ++i) {
                T* top = dst + 2 * i * ow;
                T* bottom = top + ow;
                for (std::size_t j = 0; j < w; ++j) {
                    const T v = scale * src[i * w + j];
                    top[2 * j] = v;
                    top[2 * j + 1] = v;
                }
                std::copy(top, top + ow, bottom);
            }
        }
    }

    /// out (h x w per plane)[i][j] = scale * sum over the 2x2 block of in (2h x 2w per plane)
    template <class T>
    static void sum2x(std::size_t planes, std::size_t h, std::size_t w, T scale, const T* in, T* out) {
        const std::size_t iw = 2 * w;
        for (std::size_t p = 0; p < planes; ++p) {
            const T* src = in + p * 4 * h * w;
            T* dst = out + p * h * w;
            for (std::size_t i = 0; i < h; ++i) {
                const T* top = src + 2 * i * iw;
                const T* bottom = top + iw;
                for (std::size_t j = 0; j < w; ++j)
                    dst[i * w + j] = scale * ((top[2 * j] + top[2 * j + 1]) + (bottom[2 * j] + bottom[2 * j + 1]));
            }
        }
    }
};

namespace detail {
template <class S>
constexpr bool is_image_with_even_sides() {
    if constexpr (S::rank == 3)
        return S::dims[1] % 2 == 0 && S::dims[2] % 2 == 0;
    else
        return false;
}
}  // namespace detail

template <class In, class T, class Backend>
class upsample2x_impl
    : public linear_layer<upsample2x_impl<In, T, Backend>, In,
                          shape<image_dims<In>::channels, 2 * image_dims<In>::height, 2 * image_dims<In>::width>, T> {
    using dims = image_dims<In>;
    using kernels = resample_kernels<Backend>;

public:
    static void apply(const tensor<T>& in, tensor<T>& out) {
        kernels::spread2x(in.shape(0) * dims::channels, dims::height, dims::width, T(1), in.data(), out.data());
    }
    static void adjoint(const tensor<T>& in, tensor<T>& out) {
        kernels::sum2x(in.shape(0) * dims::channels, dims::height, dims::width, T(1), in.data(), out.data());
    }
};

template <class In, class T, class Backend>
class avg_pool2x_impl
    : public linear_layer<avg_pool2x_impl<In, T, Backend>, In,
                          shape<image_dims<In>::channels, image_dims<In>::height / 2, image_dims<In>::width / 2>, T> {
    using dims = image_dims<In>;
    using kernels = resample_kernels<Backend>;
    static_assert(detail::is_image_with_even_sides<In>(), "gant: avg_pool2x needs an even height and width");

public:
    static void apply(const tensor<T>& in, tensor<T>& out) {
        kernels::sum2x(in.shape(0) * dims::channels, dims::height / 2, dims::width / 2, T(0.25), in.data(),
                       out.data());
    }
    static void adjoint(const tensor<T>& in, tensor<T>& out) {
        kernels::spread2x(in.shape(0) * dims::channels, dims::height / 2, dims::width / 2, T(0.25), in.data(),
                          out.data());
    }
};

/// upsample2x: nearest-neighbour upsampling, image shape<C, H, W> -> shape<C, 2H, 2W>.
struct upsample2x {
    static constexpr const char* name = "upsample2x";
    using expects = expects_image;
    template <class In>
    static constexpr bool accepts = In::rank == 3;
    template <class In>
    using output_shape = shape<In::dims[0], 2 * In::dims[1], 2 * In::dims[2]>;
    template <class In, class T, class B>
    using impl = upsample2x_impl<In, T, B>;
};

/// avg_pool2x: 2x2 average pooling with stride 2, shape<C, H, W> -> shape<C, H/2, W/2>. Takes
/// images with an even height and width only (no silent cropping of the last row or column).
struct avg_pool2x {
    static constexpr const char* name = "avg_pool2x";
    using expects = expects_image;
    template <class In>
    static constexpr bool accepts = detail::is_image_with_even_sides<In>();
    template <class In>
    using output_shape = shape<In::dims[0], In::dims[1] / 2, In::dims[2] / 2>;
    template <class In, class T, class B>
    using impl = avg_pool2x_impl<In, T, B>;
};

}  // namespace gant
