#pragma once
// SAGAN (Zhang, Goodfellow, Metaxas & Odena 2018, arXiv:1805.08318) on small images: a DCGAN-like
// generator/critic pair with a self-attention block in each network at the middle resolution,
// spectral normalisation on every weight layer of BOTH networks, batch norm in the generator only.
// Compose it as the paper does:
//
//   gan<topology::sagan<image<1, 28, 28>, shape<100>>, loss::hinge, lipschitz::spectral_norm>
//
// W = Width (default 64) is the narrowest hidden width; each halving of the resolution doubles it.
// For 28x28 and W = 64 the widths are topology::dcgan's 28x28 pair's (128 / 64), which two CPU
// cores train at a useful rate; tests instantiate the same structures with a small W.
//
//   sagan<image<C, 28, 28>, shape<Z>, W>
//     G: z -> SN dense(2W*7*7) -> BN -> ReLU                                   2W x 7x7
//          -> SN convT(2W->W, 4, 2, 1) -> BN -> ReLU                            W x 14x14
//          -> self-attention(W, SN projections)                                 W x 14x14
//          -> SN convT(W->C, 4, 2, 1) -> tanh                                   C x 28x28
//     D: conv(C->W, 4, 2, 1) -> LReLU(0.1)                                      W x 14x14
//          -> self-attention(W)                                                 W x 14x14
//          -> conv(W->2W, 4, 2, 1) -> LReLU(0.1) -> dense(2W*7*7 -> 1)          a raw score
//   sagan<image<C, 32, 32>, shape<Z>, W>   (CIFAR-sized; 256 / 128 / 64 at W = 64)
//     G: SN dense(4W*4*4) 4x4 -> SN convT 2W 8x8 -> SN convT W 16x16 -> attention -> SN convT C 32x32
//     D: conv W 16x16 -> attention -> conv 2W 8x8 -> conv 4W 4x4 -> dense 1
//   sagan<image<C, 64, 64>, shape<Z>, W>   (512 / 256 / 128 / 64 at W = 64)
//     G: SN dense(8W*4*4) 4x4 -> 4W 8x8 -> 2W 16x16 -> attention -> W 32x32 -> C 64x64
//     D: conv W 32x32 -> conv 2W 16x16 -> attention -> conv 4W 8x8 -> conv 8W 4x4 -> dense 1
//   (G: BN + ReLU after every hidden layer, whose dense / convT therefore has no bias; tanh output.
//    D: LReLU(0.1) after every convolution; biases everywhere.)
//
// Choices, and where they come from:
// - Spectral norm on both networks (paper, section 4; algorithms.md 7.2). The critic's comes from
//   the Lipschitz slot: lipschitz::spectral_norm wraps every weight layer of `critic` (and turns
//   self_attention<W> into self_attention<W, true>), so `critic` here is written plain and the
//   same topology also composes with the other policies (its critic is per-sample: no batch
//   norm). The generator is not touched by any policy, so it is written already normalised:
//   spectral_norm<dense>, spectral_norm<conv_transpose2d<...>, 1> (a transposed convolution's
//   weight is [Cin, Cout, k, k]; reading its dimension 1 as the rows is PyTorch's choice and what
//   lipschitz::spectrally_normalised picks) and self_attention<W, true>. The first and last layers
//   are normalised too: the paper names no exception (heykeetae's PyTorch code leaves the last
//   layer of each network plain).
// - Self-attention at the middle resolution of each network (14x14 for 28x28, 16x16 for 32x32
//   and 64x64): the paper finds attention on mid-to-high-level feature maps best (its table 1);
//   at 28x28 the 7x7 map is too coarse to need it and a 28x28 map costs N^2 = 614,656 scores per
//   sample. The block is layers/self_attention.hpp (C/8 query/key/value, output projection,
//   gamma = 0 at the start: the networks begin as plain SN-DCGANs and learn how much to attend).
// - Batch norm in the generator, none in the critic besides spectral norm (paper; both codes).
// - LeakyReLU slope 0.1 in the critic, as heykeetae/Self-Attention-GAN's DCGAN-style SAGAN (the
//   official TF code has a ResNet critic with ReLU). With spectral norm every layer has gain ~1,
//   so the critic's Lipschitz bound is the product of the activations' slopes (1 for leaky ReLU)
//   and the slope only sets how much gradient negative pre-activations pass back: 0.1 keeps the
//   map close to ReLU, which the SN papers analyse, while no unit dies.
// - Weights Glorot-uniform (init::xavier), as the official TF code's snconv2d / snlinear. Under
//   spectral norm the scale of the raw weights does not change the function, only Adam's relative
//   step on them; BN scales start at 1, biases and gamma at 0.
// - Kernel 4, stride 2, padding 1 up- and down-sampling, dense projection from z, as
//   topology::dcgan (the 28x28 pair is the same apart from attention, SN, the critic's slope and
//   batch norm, the initialiser and the generator's biases), so the two differ where SAGAN does.
// The hinge loss and TTUR Adam (lr_D 4e-4, lr_G 1e-4, betas (0, 0.9), n_critic 1) come from the
// policies: lipschitz::spectral_norm::defaults sets them (docs/policies.md).
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/layers/self_attention.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/topology/topology.hpp"

namespace gant::topology {

template <class Image, class Latent, std::size_t Width = 64>
struct sagan {
    static_assert(dependent_false_v<Image>,
                  "gant: topology::sagan is defined for image<C, 28, 28>, image<C, 32, 32> and image<C, 64, 64> "
                  "with a latent shape<Z>; write a topology::custom<...> for other sizes (self_attention<C, true> "
                  "and spectral_norm<...> are ordinary layers)");
};

namespace detail {
/// LeakyReLU(0.1): the critic's activation (see the header comment for the choice).
using sagan_leaky = leaky_relu<1, 10>;
/// A transposed convolution with spectral norm, its weight read along dimension 1 ([Cin, Cout, k, k]).
template <std::size_t In, std::size_t Out, bool Bias = true>
using sn_up = gant::spectral_norm<conv_transpose2d<In, Out, 4, 2, 1, Bias>, 1>;
// The generator's hidden layers feed batch norm, which subtracts each channel's batch mean: a
// bias there would be cancelled exactly (its gradient is 0), so those layers have none.
/// The generator's hidden up-sampling step: SN convT, batch norm, ReLU.
template <std::size_t In, std::size_t Out>
using sagan_up = sequential<sn_up<In, Out, false>, batch_norm<Out>, relu>;
/// The generator's stem: SN dense from z to Channels x Side x Side, batch norm, ReLU.
template <std::size_t Z, std::size_t Channels, std::size_t Side>
using sagan_stem = sequential<gant::spectral_norm<dense<Z, Channels * Side * Side, false>>,
                              reshape<shape<Channels, Side, Side>>, batch_norm<Channels>, relu>;
/// The critic's down-sampling step: conv (normalised by the Lipschitz policy), LReLU(0.1).
template <std::size_t In, std::size_t Out>
using sagan_down = sequential<conv2d<In, Out, 4, 2, 1>, sagan_leaky>;
}  // namespace detail

template <std::size_t C, std::size_t Z, std::size_t Width>
struct sagan<image<C, 28, 28>, shape<Z>, Width> {
    static_assert(Width >= 1, "gant: topology::sagan needs a positive Width");
    static constexpr std::size_t W = Width;
    using latent_shape = shape<Z>;
    using sample_shape = image<C, 28, 28>;
    using initializer = init::xavier;

    using generator = sequential<detail::sagan_stem<Z, 2 * W, 7>,                     // 2W x 7x7
                                 detail::sagan_up<2 * W, W>,                           // W x 14x14
                                 self_attention<W, true>,                              // attention at 14x14
                                 detail::sn_up<W, C>, gant::tanh>;                     // C x 28x28
    using critic = sequential<detail::sagan_down<C, W>,                               // W x 14x14
                              self_attention<W>,                                      // attention at 14x14
                              detail::sagan_down<W, 2 * W>,                           // 2W x 7x7
                              flatten, dense<2 * W * 7 * 7, 1>>;
};

template <std::size_t C, std::size_t Z, std::size_t Width>
struct sagan<image<C, 32, 32>, shape<Z>, Width> {
    static_assert(Width >= 1, "gant: topology::sagan needs a positive Width");
    static constexpr std::size_t W = Width;
    using latent_shape = shape<Z>;
    using sample_shape = image<C, 32, 32>;
    using initializer = init::xavier;

    using generator = sequential<detail::sagan_stem<Z, 4 * W, 4>,                     // 4W x 4x4
                                 detail::sagan_up<4 * W, 2 * W>,                       // 2W x 8x8
                                 detail::sagan_up<2 * W, W>,                           // W x 16x16
                                 self_attention<W, true>,                              // attention at 16x16
                                 detail::sn_up<W, C>, gant::tanh>;                     // C x 32x32
    using critic = sequential<detail::sagan_down<C, W>,                               // W x 16x16
                              self_attention<W>,                                      // attention at 16x16
                              detail::sagan_down<W, 2 * W>,                           // 2W x 8x8
                              detail::sagan_down<2 * W, 4 * W>,                       // 4W x 4x4
                              flatten, dense<4 * W * 4 * 4, 1>>;
};

template <std::size_t C, std::size_t Z, std::size_t Width>
struct sagan<image<C, 64, 64>, shape<Z>, Width> {
    static_assert(Width >= 1, "gant: topology::sagan needs a positive Width");
    static constexpr std::size_t W = Width;
    using latent_shape = shape<Z>;
    using sample_shape = image<C, 64, 64>;
    using initializer = init::xavier;

    using generator = sequential<detail::sagan_stem<Z, 8 * W, 4>,                     // 8W x 4x4
                                 detail::sagan_up<8 * W, 4 * W>,                       // 4W x 8x8
                                 detail::sagan_up<4 * W, 2 * W>,                       // 2W x 16x16
                                 self_attention<2 * W, true>,                          // attention at 16x16
                                 detail::sagan_up<2 * W, W>,                           // W x 32x32
                                 detail::sn_up<W, C>, gant::tanh>;                     // C x 64x64
    using critic = sequential<detail::sagan_down<C, W>,                               // W x 32x32
                              detail::sagan_down<W, 2 * W>,                           // 2W x 16x16
                              self_attention<2 * W>,                                  // attention at 16x16
                              detail::sagan_down<2 * W, 4 * W>,                       // 4W x 8x8
                              detail::sagan_down<4 * W, 8 * W>,                       // 8W x 4x4
                              flatten, dense<8 * W * 4 * 4, 1>>;
};

}  // namespace gant::topology
