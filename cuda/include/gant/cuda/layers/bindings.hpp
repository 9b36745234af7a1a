#pragma once
// Which device layer implements each of gant's layer descriptors when a network is built for
// backend::cuda: network<Shape, float, backend::cuda, Layers...> binds its layers through
// gant::layer_binding (nn/sequential.hpp), which this header specialises for the CUDA backend.
// Its batches are device_batch<float> and its parameters device_parameter<float>, so a forward,
// backward, tangent or paired pass runs on the device with no host round trip per layer.
//
// Device versions so far: dense, conv2d, conv_transpose2d, batch_norm, layer_norm, relu,
// leaky_relu, tanh, identity, reshape, flatten, self_attention (with or without spectrally
// normalised projections), spectral_norm around dense, conv2d or conv_transpose2d, and nested
// sequential<...>: every layer of the DCGAN topologies (and of their WGAN-GP critics, which use
// layer_norm) and of the SAGAN topologies (and of their critics under lipschitz::spectral_norm).
// Any other layer stops compilation with a sentence that names it (device_layer's primary
// template), rather than running on the host.
#include <type_traits>

#include "gant/backend/cuda.hpp"
#include "gant/cuda/layers/attention.hpp"
#include "gant/cuda/layers/conv.hpp"
#include "gant/cuda/layers/dense.hpp"
#include "gant/cuda/layers/norm.hpp"
#include "gant/cuda/layers/pointwise.hpp"
#include "gant/cuda/layers/reshape.hpp"
#include "gant/cuda/layers/spectral_norm.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/layers/self_attention.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/nn/sequential.hpp"

namespace gant::cuda {

template <class L>
inline constexpr bool no_device_layer_v = false;

/// The device implementation of descriptor L on per-sample input In.
template <class L, class In, class T>
struct device_layer {
    static_assert(no_device_layer_v<L>,
                  "gant: this layer has no CUDA implementation yet; read the descriptor in device_layer<...> in this "
                  "message (device versions exist for dense, conv2d, conv_transpose2d, batch_norm, layer_norm, relu, "
                  "leaky_relu, tanh, identity, reshape, flatten, self_attention, spectral_norm of dense, conv2d or "
                  "conv_transpose2d, and sequential)");
    using type = void;
};

template <class... Ls, class In, class T>
struct device_layer<sequential<Ls...>, In, T> {
    using type = network<In, T, backend::cuda, Ls...>;
};
template <class Fn, const char* Name, class In, class T>
struct device_layer<gant::activation<Fn, Name>, In, T> {
    using type = device_pointwise<In, Fn, T>;
};
template <class Target, class In, class T>
struct device_layer<reshape<Target>, In, T> {
    using type = device_reshape<In, Target, T>;
};
template <class In, class T>
struct device_layer<flatten, In, T> {
    using type = device_reshape<In, shape<In::size>, T>;
};
template <std::size_t I, std::size_t O, bool B, class In, class T>
struct device_layer<dense<I, O, B>, In, T> {
    using type = device_dense<In, I, O, B, T>;
};
template <std::size_t Ci, std::size_t Co, std::size_t K, std::size_t S, std::size_t P, bool B, class In, class T>
struct device_layer<conv2d<Ci, Co, K, S, P, B>, In, T> {
    using type = device_conv2d<In, Ci, Co, K, S, P, B, T>;
};
template <std::size_t Ci, std::size_t Co, std::size_t K, std::size_t S, std::size_t P, bool B, class In, class T>
struct device_layer<conv_transpose2d<Ci, Co, K, S, P, B>, In, T> {
    using type = device_conv_transpose2d<In, Ci, Co, K, S, P, B, T>;
};

template <std::size_t C, bool Affine, class In, class T>
struct device_layer<batch_norm<C, Affine>, In, T> {
    using type = device_batch_norm<In, C, Affine, T>;
};
template <std::size_t C, class In, class T>
struct device_layer<layer_norm<C>, In, T> {
    using type = device_layer_norm<In, C, T>;
};

template <std::size_t C, bool SpectralNorm, class In, class T>
struct device_layer<self_attention<C, SpectralNorm>, In, T> {
    using type = device_self_attention<In, C, SpectralNorm, T>;
};
/// The wrapped layer's device version with W / sigma(W) as its weight; only layers with a
/// weight() (dense, conv2d, conv_transpose2d) can be wrapped, as on the CPU.
template <class L, std::size_t Dim, class In, class T>
struct device_layer<gant::spectral_norm<L, Dim>, In, T> {
    using type = device_spectral_norm<typename device_layer<L, In, T>::type, Dim>;
};

}  // namespace gant::cuda

namespace gant {

template <class L, class In, class T>
struct layer_binding<L, In, T, backend::cuda> {
    using type = typename cuda::device_layer<L, In, T>::type;
};

}  // namespace gant
