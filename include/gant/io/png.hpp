#pragma once
// Sample grids as PNG (the grid.png every example writes). Samples are rows of a tensor in
// [-1, 1], each C x H x W (NCHW; C = 1 grayscale or 3 RGB); tiles are laid out row by row with
// `padding` background pixels between neighbouring tiles (none around the border).
//
// Encoding is stb_image_write's, taken from the compiled libstb (Debian's libstb-dev; the CMake
// target gant::io links it), so no translation unit has to define STB_IMAGE_WRITE_IMPLEMENTATION.
// The file is written through io::atomic_file: an existing grid.png is replaced whole or not at all.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/shape.hpp"
#include "gant/core/tensor.hpp"
#include "gant/data/dataset.hpp"
#include "gant/io/atomic_file.hpp"

#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif

namespace gant::io {

struct grid_options {
    std::size_t rows = 8;
    std::size_t cols = 8;
    std::size_t padding = 2;        // pixels between tiles
    std::uint8_t background = 255;  // padding and empty tiles (white: tiles stand out on dark data)
};

namespace detail {

// stb calls this from C code, so no exception may escape it: the first failure is parked and
// rethrown once stbi_write_png_to_func has returned.
struct png_sink {
    atomic_file* file;
    std::exception_ptr error;

    static void write(void* context, void* data, int size) {
        auto* self = static_cast<png_sink*>(context);
        if (self->error || size <= 0) return;
        try {
            self->file->write(data, static_cast<std::size_t>(size));
        } catch (...) {
            self->error = std::current_exception();
        }
    }
};

}  // namespace detail

/// The grid as interleaved 8-bit pixels (rows*tile_h + padding*(rows-1) lines of
/// channels*width bytes). Separate from the file writing so it can be tested and reused.
template <class T>
std::vector<std::uint8_t> grid_pixels(const tensor<T>& samples, std::size_t channels, std::size_t height,
                                      std::size_t width, const grid_options& opt, std::size_t& grid_w,
                                      std::size_t& grid_h) {
    if (channels != 1 && channels != 3)
        throw std::invalid_argument("gant: an image grid needs 1 (grayscale) or 3 (RGB) channels, got " +
                                    std::to_string(channels));
    if (height == 0 || width == 0 || opt.rows == 0 || opt.cols == 0)
        throw std::invalid_argument("gant: an image grid needs positive tile sizes and at least one row and column");
    require_features(samples, channels * height * width, "write_png_grid");
    data::require_finite_samples(samples, "write_png_grid");
    constexpr std::size_t max_side = 1 << 15;  // keeps every size and stride well inside stb's int
    if (width > max_side || height > max_side || opt.cols > max_side || opt.rows > max_side ||
        opt.padding > max_side || opt.cols * width + (opt.cols - 1) * opt.padding > max_side ||
        opt.rows * height + (opt.rows - 1) * opt.padding > max_side)
        throw std::invalid_argument("gant: the image grid would be wider or taller than " + std::to_string(max_side) +
                                    " pixels");
    grid_w = opt.cols * width + (opt.cols - 1) * opt.padding;
    grid_h = opt.rows * height + (opt.rows - 1) * opt.padding;
    std::vector<std::uint8_t> px(grid_w * grid_h * channels, opt.background);
    const std::size_t n = std::min(samples.shape(0), opt.rows * opt.cols), plane = height * width;
    const T* src = samples.data();
    for (std::size_t s = 0; s < n; ++s) {
        const std::size_t top = (s / opt.cols) * (height + opt.padding), left = (s % opt.cols) * (width + opt.padding);
        const T* img = src + s * channels * plane;
        for (std::size_t y = 0; y < height; ++y)
            for (std::size_t x = 0; x < width; ++x)
                for (std::size_t c = 0; c < channels; ++c) {
                    px[((top + y) * grid_w + left + x) * channels + c] =
                        data::value_to_pixel(img[c * plane + y * width + x]);
                }
    }
    return px;
}

/// Writes the first rows*cols samples ([n, C*H*W], values in [-1, 1]) as a PNG grid; tiles past n
/// stay background. Throws std::invalid_argument for bad shapes and io::write_error (one sentence
/// naming the file) when the file cannot be written; the previous file, if any, is then untouched.
template <class T>
void write_png_grid(const std::filesystem::path& path, const tensor<T>& samples, std::size_t channels,
                    std::size_t height, std::size_t width, const grid_options& opt = {}) {
    std::size_t gw = 0, gh = 0;
    const std::vector<std::uint8_t> px = grid_pixels(samples, channels, height, width, opt, gw, gh);
    write_atomically(path, [&](atomic_file& f) {
        detail::png_sink sink{&f, nullptr};
        const int ok = stbi_write_png_to_func(&detail::png_sink::write, &sink, static_cast<int>(gw), static_cast<int>(gh),
                                              static_cast<int>(channels), px.data(), static_cast<int>(gw * channels));
        if (sink.error) std::rethrow_exception(sink.error);
        if (!ok) throw write_error(path, "PNG encoding failed");
    });
}

/// The same for a compile-time image shape: write_png_grid<image<1, 28, 28>>(path, samples).
template <class Shape, class T>
    requires is_shape_v<Shape>
void write_png_grid(const std::filesystem::path& path, const tensor<T>& samples, const grid_options& opt = {}) {
    static_assert(Shape::rank == 3, "gant: write_png_grid needs an image shape<C, H, W>");
    write_png_grid(path, samples, image_dims<Shape>::channels, image_dims<Shape>::height, image_dims<Shape>::width, opt);
}

}  // namespace gant::io
