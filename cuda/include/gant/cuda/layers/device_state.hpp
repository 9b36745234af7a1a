#pragma once
// A non-trainable tensor of a device layer (batch_norm's running statistics): gant::buffer's
// name and shape with the values in device memory, moved to and from a host buffer<T>.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/parameter.hpp"
#include "gant/cuda/device_buffer.hpp"

namespace gant::cuda {

template <class T>
struct device_state {
    std::string name;
    std::vector<std::size_t> shape;
    device_buffer<T> value;

    device_state(std::string n, std::vector<std::size_t> s, T fill) : name(std::move(n)), shape(std::move(s)) {
        std::size_t count = 1;
        for (auto d : shape) count *= d;
        value = device_buffer<T>(count);
        value.copy_from_host(std::vector<T>(count, fill));
    }

    std::size_t size() const { return value.size(); }
    T* data() { return value.data(); }
    const T* data() const { return value.data(); }

    void upload(const buffer<T>& host) {
        require_same_shape(host, "upload");
        value.copy_from_host(host.data(), host.size());
    }
    void download(buffer<T>& host) const {
        require_same_shape(host, "download");
        value.copy_to_host(host.data(), host.size());
    }

private:
    void require_same_shape(const buffer<T>& host, const char* what) const {
        if (host.shape != shape)
            throw std::invalid_argument("gant::cuda::device_state::" + std::string(what) + ": buffer '" + host.name +
                                        "' has another shape than the device buffer '" + name + "'");
    }
};

}  // namespace gant::cuda
