#pragma once
// Batches are 2-D xtensor containers: one row per sample, the sample's elements in row-major
// order of its compile-time shape (so an image batch is NCHW in memory). Keeping every
// activation rank-2 makes reshape and flatten free and lets GEMM-based layers see the batch as
// one matrix.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/xtensor.hpp"

namespace gant {

// Stored in a std::vector, not xtensor's default uvector: a std::vector keeps its capacity when
// it shrinks, so a buffer resized from batch 128 to 64 and back (a WGAN-GP critic sees the real +
// fake batch, then the penalty's interpolates, then the generator's fakes) reallocates only the
// first time. uvector reallocates on every change of size, which made steady-state training
// steps allocate.
template <class T>
using tensor = xt::xtensor_container<std::vector<T>, 2, xt::layout_type::row_major>;

template <class T>
using vector = xt::xtensor<T, 1>;

/// Resize `t` to batch x features unless it already has that shape (no allocation then, nor when
/// the buffer held at least batch x features values before).
template <class T>
void ensure_shape(tensor<T>& t, std::size_t batch, std::size_t features) {
    if (t.shape(0) != batch || t.shape(1) != features) t.resize({batch, features});
}

template <class T>
std::size_t batch_size(const tensor<T>& t) { return t.shape(0); }

/// Copies a batch into another of the same shape (the network's entry and exit copies). A
/// backend with batches elsewhere (the CUDA backend's device_batch) has its own overload.
template <class T>
void copy_batch(const tensor<T>& from, tensor<T>& to) {
    std::copy(from.begin(), from.end(), to.begin());
}

/// Throws std::invalid_argument with one sentence when a batch does not carry `features` per sample.
template <class T>
void require_features(const tensor<T>& t, std::size_t features, const char* what) {
    if (t.shape(1) != features)
        throw std::invalid_argument(std::string("gant: ") + what + " expects " + std::to_string(features) +
                                    " values per sample, got " + std::to_string(t.shape(1)));
}

}  // namespace gant
