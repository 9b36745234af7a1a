#pragma once
// Fully connected generator and critic (the original GAN's model family; the 2-D toy nets of
// WGAN-GP and PacGAN). Depth hidden layers of Hidden units each:
//   generator: z -> [dense(Hidden) -> Activation] x Depth -> dense(sample) -> Output
//   critic:    x -> [dense(Hidden) -> CriticActivation] x Depth -> dense(1)   (a raw score)
// Output is identity for unbounded data (2-D mixtures) and tanh for images in [-1, 1]. For an
// image sample shape (mlp<image<1, 28, 28>, shape<100>, ...>) the generator ends in a reshape to
// the image, so the same type serves flat vectors and images (the critic's dense layers read an
// image's pixels in storage order either way).
#include <type_traits>

#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/topology/topology.hpp"

namespace gant::topology {

namespace detail {
template <std::size_t Depth, std::size_t In, std::size_t Hidden, class Activation, class Tail, class... Built>
struct hidden_stack {
    using type = typename hidden_stack<Depth - 1, Hidden, Hidden, Activation, Tail, Built..., dense<In, Hidden>,
                                       Activation>::type;
};
template <std::size_t In, std::size_t Hidden, class Activation, class... Tail, class... Built>
struct hidden_stack<0, In, Hidden, Activation, sequential<Tail...>, Built...> {
    using type = sequential<Built..., Tail...>;
};
}  // namespace detail

template <class Sample, class Latent, std::size_t Hidden = 128, std::size_t Depth = 3, class Activation = relu,
          class CriticActivation = leaky_relu<>, class Output = identity>
struct mlp {
    static_assert(Depth >= 1, "gant: topology::mlp needs at least one hidden layer");
    using latent_shape = Latent;
    using sample_shape = Sample;
    using generator = typename detail::hidden_stack<
        Depth, Latent::size, Hidden, Activation,
        std::conditional_t<(Sample::rank > 1), sequential<dense<Hidden, Sample::size>, Output, reshape<Sample>>,
                           sequential<dense<Hidden, Sample::size>, Output>>>::type;
    using critic = typename detail::hidden_stack<Depth, Sample::size, Hidden, CriticActivation,
                                                 sequential<dense<Hidden, 1>>>::type;
    using initializer = init::pytorch_default;
};

}  // namespace gant::topology
