#pragma once
// WGAN (Arjovsky et al. 2017): the critic f maximises E f(x) - E f(G(z)), i.e. minimises
//   L_critic = E f(x_fake) - E f(x_real),   and   L_G = -E f(G(z)).
// -L_critic is the critic's estimate of the Wasserstein-1 distance (up to the Lipschitz
// constant), the number worth logging. It needs a Lipschitz policy to be meaningful.
#include "gant/loss/policy.hpp"

namespace gant::loss {

struct wasserstein {
    struct params {};
    params p;
    static constexpr const char* name = "wasserstein";
    static constexpr bool is_wasserstein = true;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        return detail::signed_mean(fake, T(1), d_fake) + detail::signed_mean(real, T(-1), d_real);
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        return detail::signed_mean(fake, T(-1), d_fake);
    }
};

}  // namespace gant::loss
