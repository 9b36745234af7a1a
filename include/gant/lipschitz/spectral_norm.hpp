#pragma once
// Spectral normalisation as a Lipschitz policy (Miyato et al. 2018; SAGAN): every weight layer
// of the critic is wrapped in spectral_norm<...> at compile time, so each has spectral norm ~1.
// A weight layer is any descriptor that declares `static constexpr std::size_t spectral_dim`
// (the weight dimension read as matrix rows). No penalty, no clipping.
// Defaults (SAGAN): Adam, betas (0, 0.9), two time-scale learning rates G 1e-4, D 4e-4.
#include "gant/layers/spectral_norm.hpp"
#include "gant/lipschitz/policy.hpp"
#include "gant/nn/sequential.hpp"

namespace gant::lipschitz {

namespace detail {
template <class L>
struct wrap_weights {
    using type = L;
};
template <class L>
    requires requires { L::spectral_dim; }
struct wrap_weights<L> {
    using type = gant::spectral_norm<L, L::spectral_dim>;
};
/// A composite layer with several weights names its own normalised form (self_attention).
template <class L>
    requires requires { typename L::spectrally_normalised; }
struct wrap_weights<L> {
    using type = typename L::spectrally_normalised;
};
template <class... Ls>
struct wrap_weights<sequential<Ls...>> {
    using type = sequential<typename wrap_weights<Ls>::type...>;
};
template <class L, std::size_t D>
struct wrap_weights<gant::spectral_norm<L, D>> {  // already normalised: leave it
    using type = gant::spectral_norm<L, D>;
};
}  // namespace detail

/// Applies spectral normalisation to every weight layer of a descriptor (also usable for a
/// generator, as SAGAN does).
template <class Descriptor>
using spectrally_normalised = typename detail::wrap_weights<Descriptor>::type;

struct spectral_norm {
    struct params {};
    params p;
    static constexpr const char* name = "spectral_norm";
    template <class CriticDescriptor>
    using critic = spectrally_normalised<CriticDescriptor>;
    template <class Critic>
    static constexpr void check() {}

    template <class Critic, class T>
    penalty_report penalize(Critic&, const tensor<T>&, const tensor<T>&, penalty_context<T>&) {
        return {};
    }
    template <class Critic>
    void after_critic_step(Critic&) {}

    static void defaults(hyper_parameters& h) {
        h.optimizer = optimizer_kind::adam;
        h.lr_generator = 1e-4;
        h.lr_critic = 4e-4;
        h.beta1 = 0.0;
        h.beta2 = 0.9;
        h.n_critic = 1;
    }
};

}  // namespace gant::lipschitz
