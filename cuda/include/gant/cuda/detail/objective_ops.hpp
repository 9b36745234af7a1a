#pragma once
// The functors behind gant/cuda/objectives.hpp. Each mirrors its CPU policy operation for
// operation (the order of every sum included), compiles with any C++ compiler, and is checked
// against the CPU policies by test_cuda_objectives_reference and run on a GPU by
// test_cuda_objectives.
#include <cmath>
#include <cstddef>

#include "gant/core/host_device.hpp"
#include "gant/cuda/detail/device_math.hpp"
#include "gant/cuda/objectives.hpp"

namespace gant::cuda::detail {

/// loss::detail::softplus: max(u, 0) + log1p(exp(-|u|)), with std::max's "u unless u < 0".
GANT_HOST_DEVICE inline float softplus(float u) { return (u < 0.f ? 0.f : u) + log1p_of(exp_of(-(u < 0.f ? -u : u))); }

/// loss::detail::sigmoid, stable on both tails.
GANT_HOST_DEVICE inline float sigmoid(float u) {
    if (u >= 0.f) return 1.f / (1.f + exp_of(-u));
    const float e = exp_of(u);
    return e / (1.f + e);
}

/// sign * mean and its gradient (loss::detail::signed_mean).
GANT_HOST_DEVICE inline float signed_mean(const float* s, std::size_t n, float sign, float* grad) {
    float total = 0.f;
    for (std::size_t i = 0; i < n; ++i) {
        total += sign * s[i] / float(n);
        grad[i] = sign / float(n);
    }
    return total;
}

/// least_squares' half_square: 1/2 mean (s - target)^2 and its gradient.
GANT_HOST_DEVICE inline float half_square(const float* s, std::size_t n, float target, float* grad) {
    float total = 0.f;
    for (std::size_t i = 0; i < n; ++i) {
        const float e = s[i] - target;
        total += 0.5f * e * e / float(n);
        grad[i] = e / float(n);
    }
    return total;
}

/// The critic's or the generator's objective; run with i = 0 only (one thread: the CPU's order).
struct loss_op {
    loss_settings settings;
    bool critic;  // else the generator's
    const float *real, *fake;
    std::size_t n_real, n_fake;
    float *d_real, *d_fake, *total;

    GANT_HOST_DEVICE void operator()(std::size_t) const { *total = critic ? critic_value() : generator_value(); }

    GANT_HOST_DEVICE float critic_value() const {
        switch (settings.kind) {
            case loss_kind::minimax:
            case loss_kind::non_saturating: {  // loss::detail::bce_critic
                float t = 0.f;
                for (std::size_t i = 0; i < n_real; ++i) {
                    t += softplus(-real[i]) / float(n_real);
                    d_real[i] = (sigmoid(real[i]) - 1.f) / float(n_real);
                }
                for (std::size_t i = 0; i < n_fake; ++i) {
                    t += softplus(fake[i]) / float(n_fake);
                    d_fake[i] = sigmoid(fake[i]) / float(n_fake);
                }
                return t;
            }
            case loss_kind::least_squares:
                return half_square(real, n_real, float(settings.b), d_real) +
                       half_square(fake, n_fake, float(settings.a), d_fake);
            case loss_kind::wasserstein: {
                float value = signed_mean(fake, n_fake, 1.f, d_fake) + signed_mean(real, n_real, -1.f, d_real);
                if (settings.drift != 0.0) {
                    const float c = float(settings.drift) / float(n_real);
                    for (std::size_t i = 0; i < n_real; ++i) {
                        const float v = real[i];
                        value += c * v * v;
                        d_real[i] += 2.f * c * v;
                    }
                }
                return value;
            }
            case loss_kind::hinge: {
                const float m = float(settings.margin);
                float t = 0.f;
                for (std::size_t i = 0; i < n_real; ++i) {
                    const float e = m - real[i];
                    t += (e < 0.f ? 0.f : e) / float(n_real);
                    d_real[i] = e > 0.f ? -1.f / float(n_real) : 0.f;
                }
                for (std::size_t i = 0; i < n_fake; ++i) {
                    const float e = m + fake[i];
                    t += (e < 0.f ? 0.f : e) / float(n_fake);
                    d_fake[i] = e > 0.f ? 1.f / float(n_fake) : 0.f;
                }
                return t;
            }
        }
        return 0.f;
    }

    GANT_HOST_DEVICE float generator_value() const {
        switch (settings.kind) {
            case loss_kind::minimax: {
                float t = 0.f;
                for (std::size_t i = 0; i < n_fake; ++i) {
                    t -= softplus(fake[i]) / float(n_fake);
                    d_fake[i] = -sigmoid(fake[i]) / float(n_fake);
                }
                return t;
            }
            case loss_kind::non_saturating: {
                float t = 0.f;
                for (std::size_t i = 0; i < n_fake; ++i) {
                    t += softplus(-fake[i]) / float(n_fake);
                    d_fake[i] = (sigmoid(fake[i]) - 1.f) / float(n_fake);
                }
                return t;
            }
            case loss_kind::least_squares:
                return half_square(fake, n_fake, float(settings.c), d_fake);
            case loss_kind::wasserstein:
            case loss_kind::hinge:
                return signed_mean(fake, n_fake, -1.f, d_fake);
        }
        return 0.f;
    }
};

/// lipschitz::interpolate, element e of sample e / features.
struct interpolate_op {
    const float *real, *fake, *eps;
    std::size_t features;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        const float t = eps[e / features];
        out[e] = t * real[e] + (1.f - t) * fake[e];
    }
};

/// Sample i's q = ||g_i||^2 (summed in double in feature order), phi(q), phi'(q): the direction's
/// scale 2 phi'(q) (as the CPU's T(2 * derivative)), phi(q) and ||g_i||.
struct penalty_sample_op {
    penalty_settings settings;
    const float* grad;
    std::size_t features;
    float* direction_scale;
    double *value, *norm;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        const float* g = grad + i * features;
        double q = 0;
        for (std::size_t j = 0; j < features; ++j) q += double(g[j]) * double(g[j]);
        double phi = 0, derivative = 0;
        if (settings.form == penalty_form::gradient_norm) {  // gradient_penalty::penalize
            const double length = sqrt(q);
            const double gap = length - settings.target;
            phi = settings.scale * gap * gap;
            derivative = settings.scale * gap / (length + 1e-12);
        } else {  // wasserstein_div::term
            phi = settings.scale * pow(q, settings.half_power);
            derivative = q > 0 ? settings.scale * settings.half_power * pow(q, settings.half_power - 1) : 0.0;
        }
        direction_scale[i] = float(2 * derivative);
        value[i] = phi;
        norm[i] = sqrt(q);
    }
};

/// v = scale_i g, element e of sample e / features.
struct penalty_scale_op {
    const float *grad, *scale;
    std::size_t features;
    float* direction;
    GANT_HOST_DEVICE void operator()(std::size_t e) const { direction[e] = scale[e / features] * grad[e]; }
};

/// The report, summed in sample order; run with i = 0 only.
struct penalty_report_op {
    const double *value, *norm;
    std::size_t samples;
    double* report;
    GANT_HOST_DEVICE void operator()(std::size_t) const {
        double total = 0, mean_norm = 0;
        for (std::size_t i = 0; i < samples; ++i) {
            total += value[i];
            mean_norm += norm[i] / double(samples);
        }
        report[0] = total;
        report[1] = mean_norm;
    }
};

}  // namespace gant::cuda::detail
