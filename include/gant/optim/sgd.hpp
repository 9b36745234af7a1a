#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// step for step the rule of torch.optim.SGD:
//     d = g + weight_decay * p
//     buf = d                                       (first step)
//     buf = momentum * buf + (1 - dampening) * d    (later steps)
//     d = nesterov ? d + momentum * buf : buf       (when momentum != 0)
//     p -= lr * d
// Goodfellow et al. 2014 (Alg. 1) train the original GAN with SGD and momentum.
#include "gant/optim/optimizer.hpp"

namespace gant::optim {

struct sgd_params {
    double lr = 1e-2;  // PyTorch requires an explicit lr; 0.01 is a common starting point
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

struct sgd_rule {
    using params = sgd_params;
    static constexpr std::array<const char*, 1> state_names{"momentum_buffer"};

    static std::array<bool, 1> uses(const params& p) { return {p.momentum != 0.0}; }

    static void check(const params& p) {
        detail::require(p.lr >= 0, "sgd", "the learning rate must be non-negative", p.lr);
        detail::require(p.momentum >= 0, "sgd", "momentum must be non-negative", p.momentum);
        detail::require(p.weight_decay >= 0, "sgd", "weight_decay must be non-negative", p.weight_decay);
        if (p.nesterov) {
            detail::require(p.momentum > 0, "sgd", "Nesterov momentum needs momentum > 0", p.momentum);
            detail::require(p.dampening == 0, "sgd", "Nesterov momentum needs dampening 0", p.dampening);
        }
    }

    template <class T>
    static void update(const params& hp, std::uint64_t step, T* value, const T* grad, std::size_t n,
                       const std::array<T*, 1>& state) {
        T* buf = state[0];
        if (!buf)
            run<false, false, false>(hp, value, grad, buf, n);
        else if (step == 1)  // PyTorch starts the buffer at d, without dampening
            hp.nesterov ? run<true, true, true>(hp, value, grad, buf, n)
                        : run<true, true, false>(hp, value, grad, buf, n);
        else
            hp.nesterov ? run<true, false, true>(hp, value, grad, buf, n)
                        : run<true, false, false>(hp, value, grad, buf, n);
    }

private:
    // The configuration is resolved at compile time so each loop body is straight-line code; kept
    // out of line because GCC 12 stops vectorising such loops once inlined into the parameter walk.
    template <bool Momentum, bool First, bool Nesterov, class T>
    [[gnu::noinline]] static void run(const params& hp, T* __restrict value, const T* __restrict grad,
                                      T* __restrict buf, std::size_t n) {
        const T lr = T(hp.lr), wd = T(hp.weight_decay), mu = T(hp.momentum), keep = T(1.0 - hp.dampening);
        for (std::size_t i = 0; i < n; ++i) {
            T d = grad[i] + wd * value[i];
            if constexpr (Momentum) {
                const T b = First ? d : mu * buf[i] + keep * d;
                buf[i] = b;
                d = Nesterov ? d + mu * b : b;
            }
            value[i] -= lr * d;
        }
    }
};

/// optim::sgd<T>: see sgd_params for the hyper-parameters.
template <class T = float>
using sgd = optimizer<T, sgd_rule>;

}  // namespace gant::optim
