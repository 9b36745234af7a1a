#pragma once
// LSGAN (Mao et al. 2017). With targets a (fake), b (real) for the critic and c for the generator:
//   L_D = 1/2 E (D(x) - b)^2 + 1/2 E (D(G(z)) - a)^2,    L_G = 1/2 E (D(G(z)) - c)^2
// Defaults (a, b, c) = (0, 1, 1), the "0-1 coding" used in practice; pearson() gives the
// paper's (-1, 1, 0), which minimises the Pearson chi^2 divergence.
#include "gant/loss/policy.hpp"
#include "gant/train/magnitudes.hpp"

namespace gant::loss {

struct least_squares {
    struct params {
        double a = 0.0;  // critic target for fakes
        double b = 1.0;  // critic target for reals
        double c = 1.0;  // generator target for fakes
    };
    params p;
    static constexpr const char* name = "least_squares";

    void check_magnitudes() const {
        require_magnitude(std::isfinite(p.a), name, "a", p.a, "finite");
        require_magnitude(std::isfinite(p.b), name, "b", p.b, "finite");
        require_magnitude(std::isfinite(p.c), name, "c", p.c, "finite");
    }
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = false;
    static constexpr bool separable = true;  // d_real depends on real scores only, d_fake on fake

    static params zero_one() { return {0.0, 1.0, 1.0}; }
    static params pearson() { return {-1.0, 1.0, 0.0}; }

    template <class T>
    T critic(const tensor<T>& real, const tensor<T>& fake, tensor<T>& d_real, tensor<T>& d_fake) const {
        return half_square(real, T(p.b), d_real) + half_square(fake, T(p.a), d_fake);
    }
    template <class T>
    T generator(const tensor<T>&, const tensor<T>& fake, tensor<T>& d_fake) const {
        return half_square(fake, T(p.c), d_fake);
    }

private:
    template <class T>
    static T half_square(const tensor<T>& s, T target, tensor<T>& d) {
        const std::size_t n = s.size();
        T total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const T e = s.data()[i] - target;
            total += T(0.5) * e * e / T(n);
            d.data()[i] = e / T(n);
        }
        return total;
    }
};

}  // namespace gant::loss
