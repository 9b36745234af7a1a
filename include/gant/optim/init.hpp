#pragma once
// Parameter initialisers. Each is a small function object applied to every parameter of a
// network; it reads the parameter's role and fans to choose a distribution, so one object
// initialises a whole network correctly (weights drawn, biases and shifts zero, scales one).
#include <cmath>

#include "gant/core/parameter.hpp"
#include "gant/core/rng.hpp"

namespace gant::init {

namespace detail {
template <class T>
void fill_normal(parameter<T>& p, rng& r, double mean, double stddev) {
    for (auto& v : p.value) v = static_cast<T>(r.normal(mean, stddev));
}
template <class T>
void fill_uniform(parameter<T>& p, rng& r, double bound) {
    for (auto& v : p.value) v = static_cast<T>(r.uniform(-bound, bound));
}
template <class T>
void fill(parameter<T>& p, double value) {
    std::fill(p.value.begin(), p.value.end(), static_cast<T>(value));
}
/// Shared handling of biases, scales and shifts; returns true when it handled p.
template <class T>
bool non_weight(parameter<T>& p) {
    switch (p.role) {
        case role::bias:
        case role::shift: fill(p, 0.0); return true;
        case role::scale: fill(p, 1.0); return true;
        default: return false;
    }
}
}  // namespace detail

/// DCGAN (Radford et al. 2015): weights N(0, 0.02); norm scales N(1, 0.02); biases, shifts 0.
struct dcgan {
    double stddev = 0.02;
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        if (p.role == role::scale) return detail::fill_normal(p, r, 1.0, stddev);
        if (!detail::non_weight(p)) detail::fill_normal(p, r, 0.0, stddev);
    }
};

/// N(mean, stddev) for weights, zero biases, unit scales.
struct normal {
    double mean = 0.0, stddev = 0.02;
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        if (!detail::non_weight(p)) detail::fill_normal(p, r, mean, stddev);
    }
};

/// He et al. 2015: N(0, gain^2 / fan_in), gain = sqrt(2 / (1 + slope^2)) for a (leaky) ReLU
/// with negative slope `slope` (0 for ReLU).
struct kaiming {
    double slope = 0.0;
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        if (detail::non_weight(p)) return;
        const double gain = std::sqrt(2.0 / (1.0 + slope * slope));
        detail::fill_normal(p, r, 0.0, gain / std::sqrt(double(p.fan_in)));
    }
};

/// Glorot & Bengio 2010, uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
struct xavier {
    double gain = 1.0;
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        if (detail::non_weight(p)) return;
        detail::fill_uniform(p, r, gain * std::sqrt(6.0 / double(p.fan_in + p.fan_out)));
    }
};

/// PyTorch's default for Linear / Conv: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
struct pytorch_default {
    template <class T>
    void operator()(parameter<T>& p, rng& r) const {
        const double bound = 1.0 / std::sqrt(double(p.fan_in));
        if (p.role == role::weight || p.role == role::bias) return detail::fill_uniform(p, r, bound);
        detail::non_weight(p);
    }
};

/// Applies an initialiser to every parameter of a network (or any parameter visitor).
template <class Net, class Init>
void apply(Net& net, const Init& initializer, rng& r) {
    net.visit_parameters([&](auto& p) { initializer(p, r); });
}

}  // namespace gant::init
