#pragma once
// Walks a network's layers with stable names, for serialisation: each leaf layer gets a path
// ("3", or "3.1" inside a nested sequential at position 3), the name of its descriptor
// ("conv2d", "spectral_norm(dense)") and its output shape, and exposes its parameters and buffers.
// Knows nothing about file formats (train/checkpoint.hpp and train/gan_state.hpp do).
//
// The descriptor is recovered from the network's type, network<In, T, B, Descriptors...>, whose
// i-th implementation is the i-th descriptor's (wiring errors stop compilation, so the lists
// always line up). A network that is not a gant::network (a bare layer used as a generator) is
// one layer, path "0", named "layer".
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "gant/nn/sequential.hpp"

namespace gant::network_io {

template <class Net>
struct network_traits {
    static constexpr bool is_network = false;
};
template <class In, class T, class B, class... Ls>
struct network_traits<network<In, T, B, Ls...>> {
    static constexpr bool is_network = true;
    using descriptors = std::tuple<Ls...>;
};

/// The descriptor's name; wrappers (spectral_norm<L>) name what they wrap: "spectral_norm(dense)".
template <class D>
std::string layer_name() {
    if constexpr (requires { typename D::wrapped; })
        return std::string(D::name) + "(" + layer_name<typename D::wrapped>() + ")";
    else
        return std::string(D::name);
}

/// Calls f(path, layer name, output shape text, layer implementation&) for every leaf layer of
/// `net`, in order.
template <class Net, class F>
void visit_layers_named(Net& net, F&& f, const std::string& path = {}) {
    using traits = network_traits<Net>;
    if constexpr (traits::is_network) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (
                [&] {
                    using descriptor = std::tuple_element_t<I, typename traits::descriptors>;
                    auto& layer = net.template layer<I>();
                    using impl = std::remove_cvref_t<decltype(layer)>;
                    const std::string here = path.empty() ? std::to_string(I) : path + "." + std::to_string(I);
                    if constexpr (network_traits<impl>::is_network)
                        visit_layers_named(layer, f, here);
                    else if constexpr (requires { impl::composite; })
                        // A layer made of named sub-networks (the progressive topology's
                        // pyramids): each child is walked as a network of its own.
                        layer.visit_children([&](const std::string& child, auto& sub) {
                            visit_layers_named(sub, f, here + "." + child);
                        });
                    else
                        f(here, layer_name<descriptor>(), impl::output_shape::to_string(), layer);
                }(),
                ...);
        }(std::make_index_sequence<Net::depth>{});
    } else {
        f(path.empty() ? std::string("0") : path, std::string("layer"), Net::output_shape::to_string(), net);
    }
}

/// Top-level layers of a network (1 for a bare layer).
template <class Net>
constexpr std::size_t top_level_layers() {
    if constexpr (network_traits<Net>::is_network)
        return Net::depth;
    else
        return 1;
}

}  // namespace gant::network_io
