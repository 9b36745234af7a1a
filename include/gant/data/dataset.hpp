#pragma once
// An in-memory image dataset (values in [-1, 1], one image per row, NCHW within the row) and the
// batch source that feeds it to training.
//
// The batch source walks a fresh random permutation each epoch (Fisher-Yates with gant::rng).
// The permutation is regenerated from the generator state saved at the start of the epoch, so a
// checkpoint needs only {that state, epoch, position}: a few integers, not n indices, and a resumed
// run draws exactly the batches the uninterrupted run would have drawn. Batches form one endless
// stream: a batch that reaches the end of an epoch continues with the first images of the next.
//
// Pixels map to [-1, 1] as x = p / 127.5 - 1 (0 -> -1, 255 -> 1) and back as
// p = round((x + 1) * 127.5) clamped to 0..255; IDX and PNG output share that mapping and refuse
// samples holding a NaN or an infinity (require_finite_samples).
//
// Only core headers are needed here (no zlib): reading IDX files lives in data/idx.hpp.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"

namespace gant::data {

/// A pixel byte as a value in [-1, 1].
template <class T>
constexpr T pixel_to_value(std::uint8_t p) noexcept {
    return static_cast<T>(p) / T(127.5) - T(1);
}

/// A value in [-1, 1] as a pixel byte: round((x + 1) * 127.5) clamped to 0..255; NaN gives 0.
template <class T>
std::uint8_t value_to_pixel(T x) noexcept {
    const T v = (x + T(1)) * T(127.5);
    if (!(v > T(0))) return 0;  // also catches NaN
    if (v >= T(255)) return 255;
    return static_cast<std::uint8_t>(std::round(v));
}

/// Throws std::invalid_argument (one sentence, `who` first) when a sample holds a NaN or an
/// infinity: value_to_pixel would write it as a black or white pixel, an image that looks like a
/// result (of a generator whose output is not a number, in the examples).
template <class T>
void require_finite_samples(const tensor<T>& samples, const char* who) {
    const std::size_t n = samples.shape(0), features = samples.size() / std::max<std::size_t>(n, 1);
    const T* x = samples.data();
    for (std::size_t i = 0; i < samples.size(); ++i)
        if (!std::isfinite(x[i]))
            throw std::invalid_argument(std::string("gant: ") + who + ": sample " + std::to_string(i / features) +
                                        " holds a non-finite value (NaN or infinity) at feature " +
                                        std::to_string(i % features) +
                                        ", which no pixel can show, so nothing was written");
}

template <class T>
class image_dataset {
public:
    image_dataset() = default;

    /// images: [n, channels*height*width]; labels: empty, or one per image.
    image_dataset(tensor<T> images, std::size_t channels, std::size_t height, std::size_t width,
                  std::vector<std::uint8_t> labels = {})
        : images_(std::move(images)), labels_(std::move(labels)), channels_(channels), height_(height), width_(width) {
        if (channels == 0 || height == 0 || width == 0)
            throw std::invalid_argument("gant: an image dataset needs positive channels, height and width");
        require_features(images_, features(), "image_dataset");
        if (!labels_.empty() && labels_.size() != size())
            throw std::invalid_argument("gant: image_dataset has " + std::to_string(size()) + " images but " +
                                        std::to_string(labels_.size()) + " labels");
    }

    std::size_t size() const noexcept { return images_.shape(0); }
    std::size_t channels() const noexcept { return channels_; }
    std::size_t height() const noexcept { return height_; }
    std::size_t width() const noexcept { return width_; }
    std::size_t features() const noexcept { return channels_ * height_ * width_; }

    const tensor<T>& images() const noexcept { return images_; }
    const std::vector<std::uint8_t>& labels() const noexcept { return labels_; }
    bool has_labels() const noexcept { return !labels_.empty(); }

    /// The values of image i (features() of them).
    std::span<const T> image(std::size_t i) const { return {images_.data() + i * features(), features()}; }

private:
    tensor<T> images_;
    std::vector<std::uint8_t> labels_;
    std::size_t channels_ = 0, height_ = 0, width_ = 0;
};

/// Pads every image of `in` ([n, C*H*W]) by `pad` pixels on each side with `fill`, into `out`
/// ([n, C*(H+2pad)*(W+2pad)], resized only if its shape differs). PGGAN pads 28x28 Fashion-MNIST
/// to 32x32 with pad = 2 and the background value -1.
template <class T>
void pad_images(const tensor<T>& in, tensor<T>& out, std::size_t channels, std::size_t height, std::size_t width,
                std::size_t pad = 2, T fill = T(-1)) {
    require_features(in, channels * height * width, "pad_images");
    const std::size_t ph = height + 2 * pad, pw = width + 2 * pad, n = in.shape(0);
    ensure_shape(out, n, channels * ph * pw);
    std::fill(out.data(), out.data() + out.size(), fill);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t y = 0; y < height; ++y) {
                const T* src = in.data() + ((s * channels + c) * height + y) * width;
                T* dst = out.data() + ((s * channels + c) * ph + y + pad) * pw + pad;
                std::copy_n(src, width, dst);
            }
}

/// A copy of `data` with every image padded by `pad` pixels on each side (labels kept).
template <class T>
image_dataset<T> pad_dataset(const image_dataset<T>& data, std::size_t pad = 2, T fill = T(-1)) {
    tensor<T> out;
    pad_images(data.images(), out, data.channels(), data.height(), data.width(), pad, fill);
    return image_dataset<T>(std::move(out), data.channels(), data.height() + 2 * pad, data.width() + 2 * pad,
                            data.labels());
}

/// Draws shuffled batches from an image_dataset, which must outlive the source.
/// An epoch's image order: 0 .. order.size() - 1, shuffled by Fisher-Yates with r (what
/// batch_source does at the start of every epoch; a device batch source shares it, so both
/// draw the same images in the same order from the same generator).
inline void shuffle_order(std::vector<std::size_t>& order, rng& r) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[r.below(i)]);
}

/// Refuses a batch-source state that does not fit this dataset (one sentence each).
inline void check_batch_state(const char* who, std::uint64_t saved_size, std::uint64_t position,
                              std::uint64_t size) {
    if (saved_size != size)
        throw std::invalid_argument(std::string("gant: ") + who + " state was saved for a dataset of " +
                                    std::to_string(saved_size) + " images, this one has " + std::to_string(size));
    if (position > saved_size)
        throw std::invalid_argument(std::string("gant: ") + who + " state has position " + std::to_string(position) +
                                    " past the end of its epoch");
}

template <class T>
class batch_source {
public:
    /// Everything needed to continue the exact same stream of batches (for checkpoints).
    struct state_type {
        rng::full_state epoch_start;  // generator state before this epoch's shuffle
        std::uint64_t epoch = 0;      // epochs started before the current one
        std::uint64_t position = 0;   // images of the current epoch already drawn
        std::uint64_t dataset_size = 0;
        bool operator==(const state_type&) const = default;
    };

    batch_source(const image_dataset<T>& data, rng generator) : data_(&data), rng_(std::move(generator)) {
        if (data.size() == 0) throw std::invalid_argument("gant: batch_source needs a non-empty dataset");
        order_.resize(data.size());
        epoch_start_ = rng_.state();
        shuffle();
    }

    /// The source keeps a pointer to the dataset: a temporary would dangle.
    batch_source(const image_dataset<T>&&, rng) = delete;

    /// Fills every row of `batch` ([b, features]) with the next b images. Allocates nothing.
    void next(tensor<T>& batch) { draw(batch, nullptr); }

    /// Same, also writing each image's label; `labels` must have one slot per batch row and the
    /// dataset must have labels.
    void next(tensor<T>& batch, std::span<std::uint8_t> labels) {
        if (!data_->has_labels()) throw std::invalid_argument("gant: batch_source: this dataset has no labels");
        if (labels.size() != batch.shape(0))
            throw std::invalid_argument("gant: batch_source: " + std::to_string(batch.shape(0)) + " images but " +
                                        std::to_string(labels.size()) + " label slots");
        draw(batch, labels.data());
    }

    state_type state() const { return {epoch_start_, epoch_, position_, data_->size()}; }

    /// Continues from a saved state: the next batch is the one the saving source would have drawn.
    void set_state(const state_type& s) {
        check_batch_state("batch_source", s.dataset_size, s.position, data_->size());
        rng_.set_state(s.epoch_start);
        epoch_start_ = s.epoch_start;
        shuffle();
        epoch_ = s.epoch;
        position_ = s.position;
    }

    std::uint64_t epoch() const noexcept { return epoch_; }
    std::uint64_t position() const noexcept { return position_; }
    const image_dataset<T>& data() const noexcept { return *data_; }

private:
    void shuffle() { shuffle_order(order_, rng_); }

    void draw(tensor<T>& batch, std::uint8_t* labels) {
        const std::size_t f = data_->features();
        require_features(batch, f, "batch_source");
        const T* src = data_->images().data();
        T* dst = batch.data();
        for (std::size_t r = 0, b = batch.shape(0); r < b; ++r) {
            if (position_ == order_.size()) {
                epoch_start_ = rng_.state();
                shuffle();
                ++epoch_;
                position_ = 0;
            }
            const std::size_t i = order_[position_++];
            std::copy_n(src + i * f, f, dst + r * f);
            if (labels) labels[r] = data_->labels()[i];
        }
    }

    const image_dataset<T>* data_;
    rng rng_;
    std::vector<std::size_t> order_;
    rng::full_state epoch_start_{};
    std::uint64_t epoch_ = 0;
    std::uint64_t position_ = 0;
};

}  // namespace gant::data
