#pragma once
// Batches drawn from a dataset held on the device: the images are uploaded once, each epoch's
// shuffled order once per epoch (a few hundred kilobytes for Fashion-MNIST), and every batch is
// a gather on the device, with no host-to-device copy per batch.
//
// The order is gant::data::shuffle_order with the same generator, and the state is
// data::batch_source's state_type, so a device source draws exactly the images the CPU's
// batch_source draws, in the same order, and a checkpoint's batch state resumes on either.
//
// basic_batch_source<Memory> is written over where the tables live: device_memory (the CUDA
// backend) keeps them in device buffers and gathers with gant::cuda::gather_rows; host_memory
// keeps them in vectors and gathers on the CPU with the same functor, which is how the tests
// check the bookkeeping against data::batch_source without a GPU.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/cuda/detail/elementwise_ops.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/data/dataset.hpp"

namespace gant::cuda {

/// Tables in device memory; batches are written to device memory.
struct device_memory {
    template <class T>
    using table = device_buffer<T>;
    cudaStream_t stream = nullptr;

    template <class T>
    table<T> upload(const T* host, std::size_t n) const {
        table<T> t(n, stream);
        t.copy_from_host(host, n);
        return t;
    }
    template <class T>
    void replace(table<T>& t, const T* host, std::size_t n) const {
        t.copy_from_host(host, n);
    }
    void gather(const float* images, std::size_t row_size, const std::uint32_t* rows, std::size_t count,
                float* out) const {
        gather_rows(images, row_size, rows, count, out, stream);
    }
};

/// Tables in host vectors; the same gather functor run on the CPU (tests).
struct host_memory {
    template <class T>
    using table = std::vector<T>;

    template <class T>
    table<T> upload(const T* host, std::size_t n) const {
        return table<T>(host, host + n);
    }
    template <class T>
    void replace(table<T>& t, const T* host, std::size_t n) const {
        std::copy(host, host + n, t.begin());
    }
    void gather(const float* images, std::size_t row_size, const std::uint32_t* rows, std::size_t count,
                float* out) const {
        const detail::gather_rows_op op{images, row_size, rows, out};
        for (std::size_t e = 0; e < count * row_size; ++e) op(e);
    }
};

template <class Memory>
class basic_batch_source {
public:
    using state_type = data::batch_source<float>::state_type;

    basic_batch_source(const data::image_dataset<float>& data, rng generator, Memory memory = {})
        : memory_(memory), size_(data.size()), features_(data.features()), rng_(std::move(generator)) {
        if (size_ == 0) throw std::invalid_argument("gant: device batch source needs a non-empty dataset");
        if (size_ > std::numeric_limits<std::uint32_t>::max())
            throw std::invalid_argument("gant: device batch source: more than 2^32 - 1 images");
        images_ = memory_.upload(data.images().data(), size_ * features_);
        order_.resize(size_);
        order32_.resize(size_);
        order_table_ = memory_.upload(order32_.data(), size_);
        epoch_start_ = rng_.state();
        shuffle();
    }

    /// Writes the next `rows` images ([rows, features], in the memory's space) to out.
    void next(float* out, std::size_t rows) {
        std::size_t done = 0;
        while (done < rows) {
            if (position_ == size_) {
                epoch_start_ = rng_.state();
                shuffle();
                ++epoch_;
                position_ = 0;
            }
            const std::size_t take = std::min(rows - done, std::size_t(size_ - position_));
            memory_.gather(images_.data(), features_, order_table_.data() + position_, take, out + done * features_);
            position_ += take;
            done += take;
        }
    }

    state_type state() const { return {epoch_start_, epoch_, position_, size_}; }

    /// Continues from a saved state (this source's or a CPU batch_source's).
    void set_state(const state_type& s) {
        data::check_batch_state("device batch source", s.dataset_size, s.position, size_);
        rng_.set_state(s.epoch_start);
        epoch_start_ = s.epoch_start;
        shuffle();
        epoch_ = s.epoch;
        position_ = s.position;
    }

    std::size_t features() const noexcept { return features_; }

private:
    void shuffle() {
        data::shuffle_order(order_, rng_);
        std::copy(order_.begin(), order_.end(), order32_.begin());
        memory_.replace(order_table_, order32_.data(), size_);
    }

    Memory memory_;
    std::uint64_t size_;
    std::size_t features_;
    rng rng_;
    typename Memory::template table<float> images_;
    typename Memory::template table<std::uint32_t> order_table_;
    std::vector<std::size_t> order_;
    std::vector<std::uint32_t> order32_;
    rng::full_state epoch_start_{};
    std::uint64_t epoch_ = 0;
    std::uint64_t position_ = 0;
};

/// The CUDA backend's batch source: the dataset in device memory.
using device_batch_source = basic_batch_source<device_memory>;

}  // namespace gant::cuda
