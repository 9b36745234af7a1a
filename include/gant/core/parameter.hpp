#pragma once
// A trainable tensor: value and gradient stored flat (optimizers, clipping, EMA and
// serialisation all see one contiguous array) with the logical shape kept for GEMM-based
// kernels, spectral normalisation and checkpoints.
#include <cstddef>
#include <string>
#include <vector>

#include "gant/core/tensor.hpp"

namespace gant {

/// What a parameter is for; initialisers use it to pick a distribution.
enum class role { weight, bias, scale, shift, other };

template <class T>
struct parameter {
    std::string name;                 // e.g. "weight", "bias", "gamma"
    std::vector<std::size_t> shape;   // logical shape, row-major
    vector<T> value;
    vector<T> grad;
    gant::role role = role::other;
    std::size_t fan_in = 1;           // inputs feeding one output (for He / Xavier)
    std::size_t fan_out = 1;          // outputs one input feeds

    parameter() = default;
    parameter(std::string n, std::vector<std::size_t> s, gant::role r = role::other, std::size_t in = 1,
              std::size_t out = 1)
        : name(std::move(n)), shape(std::move(s)), role(r), fan_in(in), fan_out(out) {
        std::size_t count = 1;
        for (auto d : shape) count *= d;
        value = xt::zeros<T>({count});
        grad = xt::zeros<T>({count});
    }

    std::size_t size() const { return value.size(); }
    T* data() { return value.data(); }
    const T* data() const { return value.data(); }
    T* grad_data() { return grad.data(); }
    void zero_grad() { std::fill(grad.begin(), grad.end(), T(0)); }

    /// Rows and columns when the tensor is read as a matrix: first dimension by the rest.
    std::size_t rows() const { return shape.empty() ? 1 : shape[0]; }
    std::size_t cols() const { return shape.empty() ? 1 : size() / shape[0]; }
};

/// A non-trainable tensor that is part of a layer's state (batch-norm running statistics,
/// spectral-norm u vectors). Checkpointed, never touched by optimizers.
template <class T>
struct buffer {
    std::string name;
    std::vector<std::size_t> shape;
    vector<T> value;

    buffer() = default;
    buffer(std::string n, std::vector<std::size_t> s, T fill = T(0)) : name(std::move(n)), shape(std::move(s)) {
        std::size_t count = 1;
        for (auto d : shape) count *= d;
        value = xt::zeros<T>({count});
        std::fill(value.begin(), value.end(), fill);
    }
    std::size_t size() const { return value.size(); }
    T* data() { return value.data(); }
    const T* data() const { return value.data(); }
};

}  // namespace gant
