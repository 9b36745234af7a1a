#pragma once
// WGAN (Arjovsky et al. 2017): the critic f maximises E f(x) - E f(G(z)), i.e. minimises
//   L_critic = E f(x_fake) - E f(x_real) [+ drift E f(x_real)^2],   and   L_G = -E f(G(z)).
// -L_critic is the critic's estimate of the Wasserstein-1 distance (up to the Lipschitz
// constant), the number worth logging. It needs a Lipschitz policy to be meaningful.
#include "gant/loss/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::loss {

struct wasserstein {
    /// drift: PGGAN's epsilon_drift (0.001 there), a penalty drift * E f(x_real)^2 that keeps the
    /// critic's scores from drifting far from 0; 0 is the plain WGAN loss.
    struct params {
        double drift = 0.0;
    };
    params p;
    static constexpr const char* name = "wasserstein";

    void check_magnitudes() const {
        require_magnitude(finite_non_negative(p.drift), name, "drift", p.drift, "finite and >= 0");
    }
    static constexpr bool is_wasserstein = true;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        T value = detail::signed_mean(fake, T(1), d_fake) + detail::signed_mean(real, T(-1), d_real);
        if (p.drift != 0.0) {
            const std::size_t n = real.size();
            const T c = T(p.drift) / T(n);
            for (std::size_t i = 0; i < n; ++i) {
                const T v = real.data()[i];
                value += c * v * v;
                d_real.data()[i] += 2 * c * v;
            }
        }
        return value;
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        return detail::signed_mean(fake, T(-1), d_fake);
    }
};

}  // namespace gant::loss
