#pragma once
// The original GAN (Goodfellow et al. 2014), on logits in the stable softplus form.
//   critic:     L_D = E softplus(-l_real) + E softplus(l_fake)      (BCE with targets 1 / 0)
//   generator:  minimax (saturating)  L_G = -E softplus(l_fake)      (= E log(1 - sigma(l)))
//               non-saturating        L_G =  E softplus(-l_fake)     (= -E log sigma(l))
// The non-saturating generator loss is the paper's practical heuristic and the default.
#include "gant/loss/policy.hpp"

namespace gant::loss {

namespace detail {
template <class T>
T bce_critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) {
    const std::size_t nr = real.size(), nf = fake.size();
    T total = 0;
    for (std::size_t i = 0; i < nr; ++i) {
        const T l = real.data()[i];
        total += softplus(-l) / T(nr);
        d_real.data()[i] = (sigmoid(l) - T(1)) / T(nr);
    }
    for (std::size_t i = 0; i < nf; ++i) {
        const T l = fake.data()[i];
        total += softplus(l) / T(nf);
        d_fake.data()[i] = sigmoid(l) / T(nf);
    }
    return total;
}
}  // namespace detail

/// JS-GAN with the saturating ("minimax") generator loss, exactly the paper's game.
struct minimax {
    struct params {};
    params p;
    static constexpr const char* name = "minimax";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        return detail::bce_critic(real, fake, d_real, d_fake);
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        const std::size_t n = fake.size();
        T total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T l = fake.data()[i];
            total -= detail::softplus(l) / T(n);
            d_fake.data()[i] = -detail::sigmoid(l) / T(n);
        }
        return total;
    }
};

/// JS-GAN with the non-saturating generator loss (the default in practice, DCGAN).
struct non_saturating {
    struct params {};
    params p;
    static constexpr const char* name = "non_saturating";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        return detail::bce_critic(real, fake, d_real, d_fake);
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        const std::size_t n = fake.size();
        T total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T l = fake.data()[i];
            total += detail::softplus(-l) / T(n);
            d_fake.data()[i] = (detail::sigmoid(l) - T(1)) / T(n);
        }
        return total;
    }
};

}  // namespace gant::loss
