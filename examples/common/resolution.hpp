#pragma once
// When a model's images are larger than the dataset's (PGGAN grows to 32x32, a power of two,
// while Fashion-MNIST is 28x28), the trainer pads real images with background on every side and
// crops generated ones back, so that samples.idx and grid.png always hold images at the
// dataset's resolution and every family's samples are scored the same way.
#include <algorithm>
#include <cstddef>

#include "gant/core/shape.hpp"
#include "gant/core/tensor.hpp"

namespace gant::examples {

/// Data: the dataset's image shape; Model: the networks' (at least as large, same channels,
/// even margins).
template <class Data, class Model>
struct margins {
    using d = image_dims<Data>;
    using m = image_dims<Model>;
    static_assert(d::channels == m::channels, "gant examples: the model's images need the dataset's channel count");
    static_assert(m::height >= d::height && m::width >= d::width && (m::height - d::height) % 2 == 0 &&
                      (m::width - d::width) % 2 == 0,
                  "gant examples: the model's images must be the dataset's plus an even margin");
    static constexpr std::size_t top = (m::height - d::height) / 2, left = (m::width - d::width) / 2;
    static constexpr bool none = top == 0 && left == 0;
};

/// Dataset-sized rows -> model-sized rows, the margin filled with `background` (the data's
/// minimum: -1 for images scaled to [-1, 1]).
template <class Data, class Model, class T>
void pad_images(const tensor<T>& in, tensor<T>& out, T background) {
    using d = image_dims<Data>;
    using m = image_dims<Model>;
    using g = margins<Data, Model>;
    const std::size_t n = in.shape(0);
    ensure_shape(out, n, Model::size);
    std::fill(out.begin(), out.end(), background);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < d::channels; ++c)
            for (std::size_t y = 0; y < d::height; ++y) {
                const T* src = in.data() + i * Data::size + (c * d::height + y) * d::width;
                T* dst = out.data() + i * Model::size + (c * m::height + y + g::top) * m::width + g::left;
                std::copy_n(src, d::width, dst);
            }
}

/// Model-sized rows -> the dataset-sized centre.
template <class Data, class Model, class T>
void crop_images(const tensor<T>& in, tensor<T>& out) {
    using d = image_dims<Data>;
    using m = image_dims<Model>;
    using g = margins<Data, Model>;
    const std::size_t n = in.shape(0);
    ensure_shape(out, n, Data::size);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < d::channels; ++c)
            for (std::size_t y = 0; y < d::height; ++y) {
                const T* src = in.data() + i * Model::size + (c * m::height + y + g::top) * m::width + g::left;
                T* dst = out.data() + i * Data::size + (c * d::height + y) * d::width;
                std::copy_n(src, d::width, dst);
            }
}

}  // namespace gant::examples
