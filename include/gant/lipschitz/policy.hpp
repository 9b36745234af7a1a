#pragma once
// The Lipschitz-policy contract. A policy keeps the critic well-behaved; it may
//   * transform the critic's layer list at compile time (spectral_norm wraps weight layers),
//   * refuse critics it cannot work with, with a sentence (check<Critic>()),
//   * add a penalty's exact gradient during the critic step (penalize),
//   * act on the weights after each critic step (weight_clip),
//   * adjust the family's default hyper-parameters (defaults).
//
//   struct my_policy {
//       struct params { ... };  params p;
//       static constexpr const char* name;
//       template <class CriticDescriptor> using critic = CriticDescriptor;
//       template <class Critic> static constexpr void check() {}
//       template <class Critic, class T>
//       penalty_report penalize(Critic&, const tensor<T>& real, const tensor<T>& fake, penalty_context<T>&);
//       template <class Critic> void after_critic_step(Critic&) {}
//       static void defaults(hyper_parameters&) {}
//   };
#include "gant/lipschitz/input_gradient.hpp"
#include "gant/train/hyper_parameters.hpp"

namespace gant::lipschitz {

/// What the host hands a penalty: reusable workspaces, the random stream for interpolation
/// weights, and the pass context. Owned by gan<...>, so penalties allocate nothing per step.
template <class T>
struct penalty_context {
    input_gradient_penalty<T> gradient;
    tensor<T> points;
    rng* random = nullptr;
    pass_context pass{};
};


/// True for policies that penalise per-sample input gradients, so a topology can pick a critic
/// without batch statistics for them (the dcgan topology swaps batch_norm for layer_norm).
template <class Policy>
constexpr bool needs_per_sample_critic() {
    if constexpr (requires { Policy::needs_per_sample_critic; })
        return Policy::needs_per_sample_critic;
    else
        return false;
}

/// Shared compile-time requirements of every penalty on the critic's input gradient.
template <class Critic>
constexpr void require_per_sample_second_order() {
    static_assert(!Critic::uses_batch_statistics,
                  "gant: a gradient penalty needs a per-sample critic, but this critic contains batch_norm, whose "
                  "batch statistics couple the samples so that a per-sample input gradient is meaningless; use "
                  "layer_norm (or no normalisation) in the critic");
    static_assert(Critic::second_order,
                  "gant: this penalty differentiates the critic's input gradient, but a critic layer has no "
                  "second-order (tangent) rules; implement forward_tangent/backward_paired for it or choose "
                  "another Lipschitz policy");
}

/// No Lipschitz enforcement (the original GAN, LSGAN, DCGAN).
struct none {
    struct params {};
    params p;
    static constexpr const char* name = "none";
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {}
    template <class Critic, class T>
    penalty_report penalize(Critic&, const tensor<T>&, const tensor<T>&, penalty_context<T>&) {
        return {};
    }
    template <class Critic>
    void after_critic_step(Critic&) {}
    static void defaults(hyper_parameters&) {}
};

}  // namespace gant::lipschitz
