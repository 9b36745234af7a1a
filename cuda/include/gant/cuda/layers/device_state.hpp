#pragma once
// A non-trainable tensor of a device layer (batch_norm's running statistics): gant::buffer's
// name and shape with the values in device memory, moved to and from a host buffer<T>.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/parameter.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/layers/device_parameter.hpp"  // detail::element_count, require_same_shape

namespace gant::cuda {

template <class T>
struct device_state {
    std::string name;
    std::vector<std::size_t> shape;
    device_buffer<T> value;

    device_state(std::string n, std::vector<std::size_t> s, T fill)
        : name(std::move(n)), shape(std::move(s)), value(detail::element_count(shape)) {
        value.copy_from_host(std::vector<T>(value.size(), fill));
    }

    std::size_t size() const { return value.size(); }
    T* data() { return value.data(); }
    const T* data() const { return value.data(); }

    void upload(const buffer<T>& host) {
        detail::require_same_shape(host.shape, host.name, shape, name, "device_state::upload");
        value.copy_from_host(host.data(), host.size());
    }
    void download(buffer<T>& host) const {
        detail::require_same_shape(host.shape, host.name, shape, name, "device_state::download");
        value.copy_to_host(host.data(), host.size());
    }
};

}  // namespace gant::cuda
