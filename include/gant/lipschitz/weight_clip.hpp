#pragma once
// WGAN weight clipping (Arjovsky et al. 2017): after every critic update, every critic
// parameter is clamped to [-c, c], c = 0.01. Paper defaults: RMSProp, lr 5e-5, n_critic 5.
#include <algorithm>

#include "gant/lipschitz/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::lipschitz {

struct weight_clip {
    struct params {
        double clip = 0.01;
    };
    params p;
    static constexpr const char* name = "weight_clip";

    void check_magnitudes() const {
        require_magnitude(std::isfinite(p.clip) && p.clip > 0.0, name, "clip", p.clip, "finite and > 0");
    }
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {}

    template <class Critic, class T>
    penalty_report penalize(Critic&, const tensor<T>&, const tensor<T>&, penalty_context<T>&) {
        return {};
    }

    template <class Critic>
    void after_critic_step(Critic& critic) {
        critic.visit_parameters([&](auto& prm) {
            using T = typename std::decay_t<decltype(prm.value)>::value_type;
            const T c = T(p.clip);
            for (auto& v : prm.value) v = std::clamp(v, -c, c);
        });
    }

    static void defaults(hyper_parameters& h) {
        h.optimizer = optimizer_kind::rmsprop;
        h.lr_generator = h.lr_critic = 5e-5;
        h.n_critic = 5;
    }
};

}  // namespace gant::lipschitz
