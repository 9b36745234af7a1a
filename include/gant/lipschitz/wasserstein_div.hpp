#pragma once
// WGAN-div (Wu et al. 2018): k * E ||grad_x D(x_hat)||^p, k = 2, p = 6, with no "-1" target.
// Two sampling schemes are in use and both are offered:
//   points::interpolated   - the authors' code: x_hat on lines between real and fake samples
//   points::real_and_fake  - the common PyTorch variant: (k/2) E[||grad D(x_r)||^p + ||grad D(x_g)||^p]
// ||g||^p is computed as (sum g^2)^(p/2), so no square root meets a zero norm. Exact gradient
// as for the gradient penalty. Defaults: Adam 2e-4, betas (0, 0.9), n_critic 5.
#include <cmath>

#include "gant/lipschitz/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::lipschitz {

struct wasserstein_div {
    enum class points { interpolated, real_and_fake };
    struct params {
        double k = 2.0;
        double p = 6.0;
        points sampling = points::interpolated;
    };
    params p;
    static constexpr const char* name = "wasserstein_div";
    static constexpr bool needs_per_sample_critic = true;  // topologies drop batch_norm for it

    // p >= 1: below it the penalty's derivative grows without bound as a gradient norm nears 0.
    void check_magnitudes() const {
        require_magnitude(finite_non_negative(p.k), name, "k", p.k, "finite and >= 0");
        require_magnitude(std::isfinite(p.p) && p.p >= 1.0, name, "p", p.p, "finite and >= 1");
    }
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {
        require_per_sample_second_order<Critic>();
    }

private:
    // phi(q) = scale * q^(p/2) and its derivative. Defined before penalize: its calls there are not
    // dependent, so its deduced return type must already be known (clang enforces this).
    auto term(double scale) const {
        const double half_p = p.p / 2;
        return [scale, half_p](double q) {
            return penalty_term{scale * std::pow(q, half_p), q > 0 ? scale * half_p * std::pow(q, half_p - 1) : 0.0};
        };
    }

public:
    template <class Critic, class T>
    penalty_report penalize(Critic& critic, const tensor<T>& real, const tensor<T>& fake, penalty_context<T>& c) {
        const double n = double(real.shape(0));
        if (p.sampling == points::interpolated) {
            interpolate(real, fake, c.points, *c.random);
            return c.gradient.apply(critic, c.points, term(p.k / n), c.pass);
        }
        const penalty_report a = c.gradient.apply(critic, real, term(0.5 * p.k / n), c.pass);
        const penalty_report b = c.gradient.apply(critic, fake, term(0.5 * p.k / n), c.pass);
        return {a.value + b.value, 0.5 * (a.mean_grad_norm + b.mean_grad_norm)};
    }

    template <class Critic>
    void after_critic_step(Critic&) {}

    static void defaults(hyper_parameters& h) {
        h.optimizer = optimizer_kind::adam;
        h.lr_generator = h.lr_critic = 2e-4;
        h.beta1 = 0.0;
        h.beta2 = 0.9;
        h.n_critic = 5;
    }
};

}  // namespace gant::lipschitz
