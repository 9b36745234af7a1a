#pragma once
// The topology contract: a generator/critic pair for one sample shape.
//
//   struct my_topology {
//       using latent_shape = shape<100>;          // generator input per sample
//       using sample_shape = image<1, 28, 28>;     // generator output = critic input
//       using generator = sequential<...>;         // descriptors
//       using critic = sequential<...>;            // must end in one raw score per sample
//       // optional: a critic adapted to a Lipschitz policy (dcgan swaps batch_norm for
//       // layer_norm under penalties)
//       template <class Lipschitz> using critic_for = ...;
//       // optional: using initializer = init::dcgan;
//   };
#include <type_traits>

#include "gant/nn/sequential.hpp"
#include "gant/optim/init.hpp"

namespace gant::topology {

/// Any generator/critic pair written by hand.
template <class Latent, class Sample, class Generator, class Critic, class Initializer = init::pytorch_default>
struct custom {
    using latent_shape = Latent;
    using sample_shape = Sample;
    using generator = Generator;
    using critic = Critic;
    using initializer = Initializer;
};

namespace detail {
template <class Topology, class Lipschitz>
struct critic_for {
    using type = typename Topology::critic;
};
template <class Topology, class Lipschitz>
    requires requires { typename Topology::template critic_for<Lipschitz>; }
struct critic_for<Topology, Lipschitz> {
    using type = typename Topology::template critic_for<Lipschitz>;
};

template <class Topology>
struct initializer_of {
    using type = init::pytorch_default;
};
template <class Topology>
    requires requires { typename Topology::initializer; }
struct initializer_of<Topology> {
    using type = typename Topology::initializer;
};
}  // namespace detail

template <class Topology, class Lipschitz>
using critic_for_t = typename detail::critic_for<Topology, Lipschitz>::type;

template <class Topology>
using initializer_t = typename detail::initializer_of<Topology>::type;

}  // namespace gant::topology
