#pragma once
// Hinge loss (Lim & Ye 2017; SAGAN, Zhang et al. 2018):
//   L_D = E relu(1 - D(x)) + E relu(1 + D(G(z))),    L_G = -E D(G(z)).
// The subgradient at the hinge is taken as 0 (as relu' at 0 in PyTorch).
#include "gant/loss/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::loss {

struct hinge {
    struct params {
        double margin = 1.0;
    };
    params p;
    static constexpr const char* name = "hinge";

    void check_magnitudes() const {
        require_magnitude(finite_non_negative(p.margin), name, "margin", p.margin, "finite and >= 0");
    }
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        const std::size_t nr = real.size(), nf = fake.size();
        const T m = T(p.margin);
        T total = 0;
        for (std::size_t i = 0; i < nr; ++i) {
            const T e = m - real.data()[i];
            total += std::max(e, T(0)) / T(nr);
            d_real.data()[i] = e > T(0) ? T(-1) / T(nr) : T(0);
        }
        for (std::size_t i = 0; i < nf; ++i) {
            const T e = m + fake.data()[i];
            total += std::max(e, T(0)) / T(nf);
            d_fake.data()[i] = e > T(0) ? T(1) / T(nf) : T(0);
        }
        return total;
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        return detail::signed_mean(fake, T(-1), d_fake);
    }
};

}  // namespace gant::loss
