#pragma once
// Batches are 2-D xtensor containers: one row per sample, the sample's elements in row-major
// order of its compile-time shape (so an image batch is NCHW in memory). Keeping every
// activation rank-2 makes reshape and flatten free and lets GEMM-based layers see the batch as
// one matrix.
#include <cstddef>
#include <stdexcept>
#include <string>

#include "gant/core/xtensor.hpp"

namespace gant {

template <class T>
using tensor = xt::xtensor<T, 2>;

template <class T>
using vector = xt::xtensor<T, 1>;

/// Resize `t` to batch x features unless it already has that shape (no allocation then).
template <class T>
void ensure_shape(tensor<T>& t, std::size_t batch, std::size_t features) {
    if (t.shape(0) != batch || t.shape(1) != features) t.resize({batch, features});
}

template <class T>
std::size_t batch_size(const tensor<T>& t) { return t.shape(0); }

/// Throws std::invalid_argument with one sentence when a batch does not carry `features` per sample.
template <class T>
void require_features(const tensor<T>& t, std::size_t features, const char* what) {
    if (t.shape(1) != features)
        throw std::invalid_argument(std::string("gant: ") + what + " expects " + std::to_string(features) +
                                    " values per sample, got " + std::to_string(t.shape(1)));
}

}  // namespace gant
