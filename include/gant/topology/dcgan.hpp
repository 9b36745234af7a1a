#pragma once
// DCGAN (Radford et al. 2015): strided convolutions in the critic, transposed convolutions in
// the generator, batch norm in both except the generator's output and the critic's input,
// ReLU in the generator (tanh output), LeakyReLU(0.2) in the critic, N(0, 0.02) weights.
//
//   dcgan<image<1, 28, 28>, shape<100>>   the Fashion-MNIST / MNIST variant (InfoGAN-like):
//     G: z -> dense(128*7*7) -> BN -> ReLU -> convT(128->64, 4, 2, 1) 14x14 -> BN -> ReLU
//          -> convT(64->C, 4, 2, 1) 28x28 -> tanh
//     D: conv(C->64, 4, 2, 1) 14x14 -> LReLU -> conv(64->128, 4, 2, 1) 7x7 -> BN -> LReLU
//          -> dense(6272 -> 1)
//   dcgan<image<C, 64, 64>, shape<Z>>     the pytorch/examples 64x64 network (ngf = ndf = 64,
//     convolutions without bias).
//
// Under a penalty on per-sample input gradients (gradient_penalty, wasserstein_div) the critic's
// batch_norm layers become layer_norm, as WGAN-GP prescribes: batch statistics would couple the
// samples whose gradients the penalty measures.
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/policy.hpp"
#include "gant/topology/topology.hpp"

namespace gant::topology {

template <class Image, class Latent>
struct dcgan {
    static_assert(dependent_false_v<Image>,
                  "gant: topology::dcgan is defined for image<C, 28, 28> and image<C, 64, 64>; write a "
                  "topology::custom<...> for other sizes");
};

namespace detail {
/// The critic's normalisation: batch_norm<C>, or layer_norm<C> under per-sample penalties.
template <class Lipschitz, std::size_t C>
using critic_norm = std::conditional_t<lipschitz::needs_per_sample_critic<Lipschitz>(), layer_norm<C>, batch_norm<C>>;
}  // namespace detail

template <std::size_t C, std::size_t Z>
struct dcgan<image<C, 28, 28>, shape<Z>> {
    using latent_shape = shape<Z>;
    using sample_shape = image<C, 28, 28>;
    using initializer = init::dcgan;

    using generator = sequential<dense<Z, 128 * 7 * 7>, reshape<shape<128, 7, 7>>, batch_norm<128>, relu,
                                 conv_transpose2d<128, 64, 4, 2, 1>, batch_norm<64>, relu,
                                 conv_transpose2d<64, C, 4, 2, 1>, gant::tanh>;

    template <class Lipschitz>
    using critic_for = sequential<conv2d<C, 64, 4, 2, 1>, leaky_relu<>, conv2d<64, 128, 4, 2, 1>,
                                  detail::critic_norm<Lipschitz, 128>, leaky_relu<>, flatten, dense<128 * 7 * 7, 1>>;
    using critic = critic_for<lipschitz::none>;
};

template <std::size_t C, std::size_t Z>
struct dcgan<image<C, 64, 64>, shape<Z>> {
    static constexpr std::size_t ngf = 64, ndf = 64;
    using latent_shape = shape<Z>;
    using sample_shape = image<C, 64, 64>;
    using initializer = init::dcgan;

    using generator = sequential<reshape<shape<Z, 1, 1>>,
                                 conv_transpose2d<Z, ngf * 8, 4, 1, 0, false>, batch_norm<ngf * 8>, relu,            // 4x4
                                 conv_transpose2d<ngf * 8, ngf * 4, 4, 2, 1, false>, batch_norm<ngf * 4>, relu,      // 8x8
                                 conv_transpose2d<ngf * 4, ngf * 2, 4, 2, 1, false>, batch_norm<ngf * 2>, relu,      // 16x16
                                 conv_transpose2d<ngf * 2, ngf, 4, 2, 1, false>, batch_norm<ngf>, relu,              // 32x32
                                 conv_transpose2d<ngf, C, 4, 2, 1, false>, gant::tanh>;                             // 64x64

    template <class Lipschitz>
    using critic_for = sequential<conv2d<C, ndf, 4, 2, 1, false>, leaky_relu<>,                                      // 32x32
                                  conv2d<ndf, ndf * 2, 4, 2, 1, false>, detail::critic_norm<Lipschitz, ndf * 2>, leaky_relu<>,      // 16x16
                                  conv2d<ndf * 2, ndf * 4, 4, 2, 1, false>, detail::critic_norm<Lipschitz, ndf * 4>, leaky_relu<>,  // 8x8
                                  conv2d<ndf * 4, ndf * 8, 4, 2, 1, false>, detail::critic_norm<Lipschitz, ndf * 8>, leaky_relu<>,  // 4x4
                                  conv2d<ndf * 8, 1, 4, 1, 0, false>, flatten>;                                     // 1x1
    using critic = critic_for<lipschitz::none>;
};

}  // namespace gant::topology
