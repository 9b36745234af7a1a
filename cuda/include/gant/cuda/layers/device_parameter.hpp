#pragma once
// A trainable tensor of a device layer: gant::parameter's description (name, logical shape, role,
// fans, which initialisers and checkpoints read) with its value and gradient in device memory.
// The device layers visit these where the CPU layers visit parameter<T>; transfer() moves values
// between the two, so a parameter initialised or loaded on the host can train on the device and
// come back.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/parameter.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/device_buffer.hpp"

namespace gant::cuda {

namespace detail {

inline std::size_t element_count(const std::vector<std::size_t>& shape) {
    std::size_t count = 1;
    for (auto d : shape) count *= d;
    return count;
}

/// Refuses a transfer between a host tensor and a device one of another logical shape.
inline void require_same_shape(const std::vector<std::size_t>& host_shape, const std::string& host_name,
                               const std::vector<std::size_t>& device_shape, const std::string& device_name,
                               const char* what) {
    if (host_shape != device_shape)
        throw std::invalid_argument("gant::cuda::" + std::string(what) + ": '" + host_name +
                                    "' has another shape than the device tensor '" + device_name + "'");
}

}  // namespace detail

template <class T>
struct device_parameter {
    std::string name;
    std::vector<std::size_t> shape;
    gant::role role = gant::role::other;
    std::size_t fan_in = 1, fan_out = 1;
    device_buffer<T> value, grad;

    device_parameter(std::string n, std::vector<std::size_t> s, gant::role r = gant::role::other, std::size_t in = 1,
                     std::size_t out = 1)
        : name(std::move(n)),
          shape(std::move(s)),
          role(r),
          fan_in(in),
          fan_out(out),
          value(detail::element_count(shape)),
          grad(detail::element_count(shape)) {
        value.fill_bytes(0);
        grad.fill_bytes(0);
    }

    std::size_t size() const { return value.size(); }
    T* data() { return value.data(); }
    const T* data() const { return value.data(); }
    T* grad_data() { return grad.data(); }
    void zero_grad() { grad.fill_bytes(0); }
    std::size_t rows() const { return shape.empty() ? 1 : shape[0]; }
    std::size_t cols() const { return shape.empty() ? 1 : size() / shape[0]; }

    /// The value from a host parameter of the same shape (its gradient is left alone).
    void upload(const parameter<T>& host) {
        detail::require_same_shape(host.shape, host.name, shape, name, "device_parameter::upload");
        value.copy_from_host(host.data(), host.size());
    }
    /// The value into a host parameter of the same shape.
    void download(parameter<T>& host) const {
        detail::require_same_shape(host.shape, host.name, shape, name, "device_parameter::download");
        value.copy_to_host(host.data(), host.size());
    }
};

}  // namespace gant::cuda
