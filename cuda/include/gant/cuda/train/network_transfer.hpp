#pragma once
// Moving a whole network's state between the host and the device: every parameter value and
// every buffer (batch norm's running statistics) of a network built for backend::cpu into the
// same network built for backend::cuda, or back. Both visit their tensors in the same order
// (the device layers mirror the CPU layers' visit_parameters / visit_buffers), and each
// transfer checks the tensor's shape, so a network of another structure is refused with a
// sentence before a value is copied.
//
// This is how a gan<..., backend::cuda> starts from the weights the CPU initialisers draw (the
// same seed gives the same network on either backend) and how its checkpoints are written and
// read through the host.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/parameter.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/layers/device_state.hpp"

namespace gant::cuda {

namespace detail {

template <class T, class HostNet>
std::vector<parameter<T>*> host_parameters(HostNet& net) {
    std::vector<parameter<T>*> out;
    net.visit_parameters([&](parameter<T>& p) { out.push_back(&p); });
    return out;
}

template <class T, class HostNet>
std::vector<buffer<T>*> host_buffers(HostNet& net) {
    std::vector<buffer<T>*> out;
    net.visit_buffers([&](buffer<T>& b) { out.push_back(&b); });
    return out;
}

template <class T, class DeviceNet>
std::size_t device_parameter_count(DeviceNet& net) {
    std::size_t n = 0;
    net.visit_parameters([&](device_parameter<T>&) { ++n; });
    return n;
}

template <class T, class DeviceNet>
std::size_t device_buffer_count(DeviceNet& net) {
    std::size_t n = 0;
    net.visit_buffers([&](device_state<T>&) { ++n; });
    return n;
}

inline void require_same_count(std::size_t host, std::size_t device, const char* what, const char* call) {
    if (host != device)
        throw std::invalid_argument(std::string("gant::cuda::") + call + ": the host network has " +
                                    std::to_string(host) + " " + what + " but the device network has " +
                                    std::to_string(device));
}

}  // namespace detail

/// device <- host: every parameter value and buffer (gradients are left alone).
template <class HostNet, class DeviceNet>
void upload_network(HostNet& host, DeviceNet& device) {
    using T = typename HostNet::scalar;
    const auto params = detail::host_parameters<T>(host);
    const auto buffers = detail::host_buffers<T>(host);
    detail::require_same_count(params.size(), detail::device_parameter_count<T>(device), "parameters",
                               "upload_network");
    detail::require_same_count(buffers.size(), detail::device_buffer_count<T>(device), "buffers", "upload_network");
    std::size_t k = 0;
    device.visit_parameters([&](device_parameter<T>& p) { p.upload(*params[k++]); });
    k = 0;
    device.visit_buffers([&](device_state<T>& b) { b.upload(*buffers[k++]); });
}

/// host <- device: every parameter value and buffer (waits for the device's queued work).
template <class DeviceNet, class HostNet>
void download_network(DeviceNet& device, HostNet& host) {
    using T = typename HostNet::scalar;
    const auto params = detail::host_parameters<T>(host);
    const auto buffers = detail::host_buffers<T>(host);
    detail::require_same_count(params.size(), detail::device_parameter_count<T>(device), "parameters",
                               "download_network");
    detail::require_same_count(buffers.size(), detail::device_buffer_count<T>(device), "buffers", "download_network");
    std::size_t k = 0;
    device.visit_parameters([&](device_parameter<T>& p) { p.download(*params[k++]); });
    k = 0;
    device.visit_buffers([&](device_state<T>& b) { b.download(*buffers[k++]); });
}

}  // namespace gant::cuda
