#pragma once
// Per-sample shapes as types. The batch size is a run-time value; everything else about a
// tensor that flows between layers is known to the compiler, so wiring mistakes are compile
// errors instead of run-time surprises.
#include <array>
#include <cstddef>
#include <string>

namespace gant {

/// The shape of one sample: shape<F> for feature vectors, shape<C, H, W> for images (NCHW).
template <std::size_t... Dims>
struct shape {
    static_assert(sizeof...(Dims) >= 1, "gant: a shape needs at least one dimension");
    static_assert(((Dims > 0) && ...), "gant: every dimension of a shape must be positive");
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (Dims * ...);
    static constexpr std::array<std::size_t, rank> dims{Dims...};

    static std::string to_string() {
        std::string s;
        for (std::size_t i = 0; i < rank; ++i) {
            if (i) s += 'x';
            s += std::to_string(dims[i]);
        }
        return s;
    }
};

template <class S>
struct is_shape : std::false_type {};
template <std::size_t... D>
struct is_shape<shape<D...>> : std::true_type {};
template <class S>
inline constexpr bool is_shape_v = is_shape<S>::value;

/// An image shape: channels, height, width.
template <std::size_t C, std::size_t H, std::size_t W>
using image = shape<C, H, W>;

/// Accessors that read an image shape's dimensions (rank-3 shapes only).
template <class S>
struct image_dims {
    static_assert(S::rank == 3, "gant: this layer needs an image input of shape<C, H, W>");
    static constexpr std::size_t channels = S::dims[0];
    static constexpr std::size_t height = S::dims[1];
    static constexpr std::size_t width = S::dims[2];
    static constexpr std::size_t pixels = height * width;
};

}  // namespace gant
