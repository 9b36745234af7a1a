#pragma once
// The loss-policy contract. A loss turns critic scores (one raw score, a logit, per sample)
// into the two players' objectives and their gradients with respect to the scores:
//
//   struct my_loss {
//       struct params { ... };                          // run-time magnitudes, papers' defaults
//       params p;
//       static constexpr bool is_wasserstein = false;      // the critic estimates a Wasserstein distance
//       static constexpr bool generator_uses_real = false;  // generator loss also reads real scores
//       template <class T> T critic(const tensor<T>& real, const tensor<T>& fake,
//                                   tensor<T>& d_real, tensor<T>& d_fake) const;
//       template <class T> T generator(const tensor<T>& real, const tensor<T>& fake,
//                                      tensor<T>& d_fake) const;
//   };
//
// Scores are tensor<T> of shape [batch, 1]; gradients are written (not accumulated) into
// tensors of the same shape. Both objectives are minimised, and both are batch means.
#include <cmath>
#include <concepts>

#include "gant/core/tensor.hpp"
#include "gant/core/vector_state.hpp"

namespace gant::loss {

template <class L>
concept policy = requires(const L& l, const tensor<double>& s, tensor<double>& g) {
    typename L::params;
    { L::is_wasserstein } -> std::convertible_to<bool>;
    { L::generator_uses_real } -> std::convertible_to<bool>;
    { l.critic(s, s, g, g) } -> std::convertible_to<double>;
    { l.generator(s, s, g) } -> std::convertible_to<double>;
};

namespace detail {
/// softplus(u) = log(1 + e^u) without overflow: max(u, 0) + log1p(exp(-|u|)).
template <class T>
T softplus(T u) {
    gant::detail::leave_upper_vector_state_clean();  // glibc's log1p is SSE code (core/vector_state.hpp)
    return std::max(u, T(0)) + std::log1p(std::exp(-std::abs(u)));
}
/// sigma(u), stable on both tails.
template <class T>
T sigmoid(T u) {
    if (u >= T(0)) return T(1) / (T(1) + std::exp(-u));
    const T e = std::exp(u);
    return e / (T(1) + e);
}
/// sign * E[score] and its gradient sign / n: the linear terms of the Wasserstein and hinge
/// objectives (the generator's -E D(G(z)) in both).
template <class T>
T signed_mean(const tensor<T>& scores, T sign, tensor<T>& grad) {
    const std::size_t n = scores.size();
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        total += sign * scores.data()[i] / T(n);
        grad.data()[i] = sign / T(n);
    }
    return total;
}
}  // namespace detail

}  // namespace gant::loss
