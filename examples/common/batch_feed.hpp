#pragma once
// Where an example's real batches come from: the dataset in the order data::batch_source draws
// it, into the batches the model's backend takes. On the CPU backend that is the host source
// itself (padding each batch when the model's images are larger than the dataset's,
// resolution.hpp); on the CUDA backend (GANT_EXAMPLES_CUDA) the dataset, padded once, is
// uploaded once and every batch is gathered on the device (gant::cuda::device_batch_source),
// in the same order from the same generator. Either way the checkpoint records the same
// state (data::batch_source's), so a run resumes on either backend.
#include <cstddef>
#include <limits>

#include "../common/resolution.hpp"
#include "gant/data/dataset.hpp"

#ifdef GANT_EXAMPLES_CUDA
#include <cuda_runtime_api.h>

#include "gant/cuda/batch_source.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/device_batch.hpp"
#endif

namespace gant::examples {

template <class Model, class Data, bool HostBatches = Model::host_batches>
class batch_feed;

/// Host batches: data::batch_source, padded per batch where the model is larger than the data.
template <class Model, class Data>
class batch_feed<Model, Data, true> {
public:
    using T = typename Model::scalar;
    using S = typename Model::sample_shape;
    using state_type = typename data::batch_source<T>::state_type;

    batch_feed(const data::image_dataset<T>& dataset, rng generator) : source_(dataset, std::move(generator)) {}

    void next(tensor<T>& batch) {
        if constexpr (margins<Data, S>::none) {
            source_.next(batch);
        } else {  // dataset images, then the margin of background (-1: the data lie in [-1, 1])
            ensure_shape(unpadded_, batch.shape(0), Data::size);
            source_.next(unpadded_);
            pad_images<Data, S>(unpadded_, batch, T(-1));
        }
    }
    /// The test hook's NaN in the first value of a batch.
    void poison(tensor<T>& batch) { batch.data()[0] = std::numeric_limits<T>::quiet_NaN(); }

    state_type state() const { return source_.state(); }
    void set_state(const state_type& s) { source_.set_state(s); }
    std::size_t dataset_size() const { return source_.data().size(); }

private:
    data::batch_source<T> source_;
    tensor<T> unpadded_;
};

#ifdef GANT_EXAMPLES_CUDA
/// Device batches: the (padded) dataset in device memory, gathered there batch by batch.
template <class Model, class Data>
class batch_feed<Model, Data, false> {
public:
    using T = typename Model::scalar;
    using S = typename Model::sample_shape;
    using state_type = cuda::device_batch_source::state_type;

    batch_feed(const data::image_dataset<T>& dataset, rng generator)
        : size_(dataset.size()), source_(at_model_resolution(dataset, padded_), std::move(generator)) {
        padded_ = {};  // uploaded: the host copy is not needed any more
    }

    void next(cuda::device_batch<T>& batch) {
        require_features(batch, source_.features(), "the device batch feed");
        source_.next(batch.data(), batch.shape(0));
    }
    void poison(cuda::device_batch<T>& batch) {
        const T nan = std::numeric_limits<T>::quiet_NaN();
        GANT_CUDA_CHECK(cudaMemcpy(batch.data(), &nan, sizeof nan, cudaMemcpyHostToDevice));
    }

    state_type state() const { return source_.state(); }
    void set_state(const state_type& s) { source_.set_state(s); }
    std::size_t dataset_size() const { return size_; }

private:
    /// The dataset at the model's resolution: itself, or padded once into `storage` (instead of
    /// per batch).
    static const data::image_dataset<T>& at_model_resolution(const data::image_dataset<T>& dataset,
                                                             data::image_dataset<T>& storage) {
        if constexpr (margins<Data, S>::none) {
            return dataset;
        } else {
            tensor<T> images;
            pad_images<Data, S>(dataset.images(), images, T(-1));
            using m = image_dims<S>;
            storage = data::image_dataset<T>(std::move(images), m::channels, m::height, m::width);
            return storage;
        }
    }

    std::size_t size_;
    data::image_dataset<T> padded_;  // before source_: filled while source_ is constructed
    cuda::device_batch_source source_;
};
#endif

}  // namespace gant::examples
