#pragma once
// WGAN-GP (Gulrajani et al. 2017): lambda * E_i (||grad_x D(x_hat_i)|| - 1)^2 at
// x_hat_i = eps_i x_i + (1 - eps_i) x_fake_i, one eps_i ~ U[0, 1] per sample. Its gradient
// with respect to the critic's weights is computed exactly (input_gradient.hpp).
// Paper defaults (Alg. 1): lambda 10, n_critic 5, Adam lr 1e-4, betas (0, 0.9).
#include "gant/lipschitz/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::lipschitz {

struct gradient_penalty {
    struct params {
        double lambda = 10.0;
        double target = 1.0;  // the norm the gradient is pulled towards
    };
    params p;
    static constexpr const char* name = "gradient_penalty";
    static constexpr bool needs_per_sample_critic = true;  // topologies drop batch_norm for it

    void check_magnitudes() const {
        require_magnitude(finite_non_negative(p.lambda), name, "lambda", p.lambda, "finite and >= 0");
        require_magnitude(finite_non_negative(p.target), name, "target", p.target, "finite and >= 0 (a norm)");
    }
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {
        require_per_sample_second_order<Critic>();
    }

    template <class Critic, class T>
    penalty_report penalize(Critic& critic, const tensor<T>& real, const tensor<T>& fake, penalty_context<T>& c) {
        interpolate(real, fake, c.points, *c.random);
        const double scale = p.lambda / double(real.shape(0)), target = p.target;
        return c.gradient.apply(critic, c.points, [&](double q) {
            const double norm = std::sqrt(q);
            const double gap = norm - target;
            // d/dq (norm - t)^2 = (norm - t) / norm; guarded at norm = 0 as in algorithms.md 5.2.
            return penalty_term{scale * gap * gap, scale * gap / (norm + 1e-12)};
        }, c.pass);
    }

    template <class Critic>
    void after_critic_step(Critic&) {}

    static void defaults(hyper_parameters& h) {
        h.optimizer = optimizer_kind::adam;
        h.lr_generator = h.lr_critic = 1e-4;
        h.beta1 = 0.0;
        h.beta2 = 0.9;
        h.n_critic = 5;
    }
};

}  // namespace gant::lipschitz
