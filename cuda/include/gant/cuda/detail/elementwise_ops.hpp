#pragma once
// The element-wise work of a training step on the device, one functor per operation: the body
// each GPU thread runs for its elements (cuda/src/elementwise.cu launches them), written so that
// a host compiler builds the same functors for the CPU emulation in tests/cuda, which checks
// them against gant's CPU layers and optimizers. Each functor's operator()(i) does element (or
// pair, or sample) i and nothing else, so any launch shape gives the same values.
//
// Every formula mirrors the CPU code it replaces, operation for operation, so the two backends
// agree to the rounding of the device's own math functions (tanhf, sqrtf are correctly rounded
// or within an ulp on sm_90):
//   activations        include/gant/layers/pointwise.hpp (fn::leaky, fn::tanh_fn)
//   adam, rmsprop      include/gant/optim/adam.hpp, rmsprop.hpp
//   generator EMA      include/gant/train/ema.hpp
//   random numbers     include/gant/core/rng.hpp (through core/philox.hpp, shared outright)
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "gant/core/host_device.hpp"
#include "gant/core/philox.hpp"
#include "gant/cuda/detail/device_math.hpp"
#include "gant/cuda/elementwise.hpp"

namespace gant::cuda::detail {

/// An activation's phi, phi' and phi'' as gant's CPU activations define them: phi' and phi''
/// take the input a and the output y, and the leaky family decides by the sign of a.
struct activation_math {
    activation act;
    float slope;  // leaky_relu's negative slope

    GANT_HOST_DEVICE float value(float a) const {
        switch (act) {
            case activation::relu:
                return a <= 0.f ? 0.f : a;  // NaN fails the test and passes through
            case activation::leaky_relu:
                return a * (a > 0.f ? 1.f : slope);
            case activation::tanh:
                return tanh_of(a);
            default:
                return a;
        }
    }
    GANT_HOST_DEVICE float first(float a, float y) const {
        switch (act) {
            case activation::relu:
                return a > 0.f ? 1.f : 0.f;
            case activation::leaky_relu:
                return a > 0.f ? 1.f : slope;
            case activation::tanh:
                return 1.f - y * y;
            default:
                return 1.f;
        }
    }
    GANT_HOST_DEVICE float second(float, float y) const {
        return act == activation::tanh ? -2.f * y * (1.f - y * y) : 0.f;
    }
};

/// y = phi(a)
struct activation_forward_op {
    activation_math phi;
    const float* a;
    float* y;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { y[i] = phi.value(a[i]); }
};

/// da = phi'(a) * dy
struct activation_backward_op {
    activation_math phi;
    const float *a, *y, *dy;
    float* da;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { da[i] = phi.first(a[i], y[i]) * dy[i]; }
};

/// ydot = phi'(a) * adot: the tangent (JVP) rule the gradient penalty's paired pass runs forward.
struct activation_tangent_op {
    activation_math phi;
    const float *a, *y, *adot;
    float* ydot;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { ydot[i] = phi.first(a[i], y[i]) * adot[i]; }
};

/// The paired reverse rule: abar = phi'(a) ybar + phi''(a) adot ydotbar, adotbar = phi'(a) ydotbar;
/// either output may be null (not needed).
struct activation_paired_op {
    activation_math phi;
    const float *a, *y, *adot, *ybar, *ydotbar;
    float *abar, *adotbar;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        const float d1 = phi.first(a[i], y[i]);
        if (abar) abar[i] = d1 * ybar[i] + phi.second(a[i], y[i]) * adot[i] * ydotbar[i];
        if (adotbar) adotbar[i] = d1 * ydotbar[i];
    }
};

/// The per-step constants of Adam, computed on the host in double as the CPU rule does.
struct adam_constants {
    float step_size, correction2_sqrt, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
};

/// The constants of update number `step` (from 1), as adam_rule::run computes them: the step
/// constants in double, as PyTorch computes them in Python floats, then rounded to float.
inline adam_constants make_adam_constants(const adam_settings& s, std::uint64_t step) {
    const double t = static_cast<double>(step);
    return {float(s.lr / (1.0 - std::pow(s.beta1, t))),
            float(std::sqrt(1.0 - std::pow(s.beta2, t))),
            float(s.beta1),
            float(s.beta2),
            float(1.0 - s.beta1),
            float(1.0 - s.beta2),
            float(s.eps),
            float(s.weight_decay)};
}

/// One Adam (or AMSGrad, when vmax is set) update of element i; the CPU's adam_rule::run.
struct adam_op {
    adam_constants k;
    float* value;
    const float* grad;
    float *m, *v, *vmax;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        const float g = grad[i] + k.weight_decay * value[i];
        const float mi = k.beta1 * m[i] + k.one_minus_beta1 * g;
        float vi = k.beta2 * v[i] + k.one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        if (vmax) {
            vi = vmax[i] > vi ? vmax[i] : vi;  // std::max(vmax, vi): vmax unless vi is larger
            vmax[i] = vi;
        }
        value[i] -= k.step_size * (mi / (sqrt_of(vi) / k.correction2_sqrt + k.eps));
    }
};

struct rmsprop_constants {
    float lr, alpha, one_minus_alpha, eps, weight_decay, momentum;
};

inline rmsprop_constants make_rmsprop_constants(const rmsprop_settings& s) {
    return {float(s.lr), float(s.alpha), float(1.0 - s.alpha), float(s.eps), float(s.weight_decay), float(s.momentum)};
}

/// One RMSprop update of element i (centered when mean is set, with momentum when buf is set);
/// the CPU's rmsprop_rule::run.
struct rmsprop_op {
    rmsprop_constants k;
    float* value;
    const float* grad;
    float *square, *buf, *mean;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        const float g = grad[i] + k.weight_decay * value[i];
        const float s = k.alpha * square[i] + k.one_minus_alpha * g * g;
        square[i] = s;
        float r;
        if (mean) {
            const float m = k.alpha * mean[i] + k.one_minus_alpha * g;
            mean[i] = m;
            const float centred = s - m * m;
            r = sqrt_of(centred > 0.f ? centred : 0.f) + k.eps;  // std::max(s - m^2, 0)
        } else {
            r = sqrt_of(s) + k.eps;
        }
        if (buf) {
            const float b = k.momentum * buf[i] + g / r;
            buf[i] = b;
            value[i] -= k.lr * b;
        } else {
            value[i] -= k.lr * (g / r);
        }
    }
};

/// average = decay * average + (1 - decay) * weights: the generator EMA's update.
struct ema_op {
    float decay, rest;
    float* average;
    const float* weights;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { average[i] = decay * average[i] + rest * weights[i]; }
};

/// out row r = table row rows[r] (row_size floats each), element e of the output.
struct gather_rows_op {
    const float* table;
    std::size_t row_size;
    const std::uint32_t* rows;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        out[e] = table[std::size_t(rows[e / row_size]) * row_size + e % row_size];
    }
};

// ---- random numbers -------------------------------------------------------------------------
// gant::rng hands out the 32-bit words of consecutive Philox blocks in order; uniform() takes two
// words, normal() four per pair of variates. Word w of a stream is word w % 4 of block w / 4, so
// the thread that makes value (or pair) j finds its words directly: any launch shape gives the
// sequence the CPU generator gives.

struct word_source {
    std::uint64_t seed, stream;
    /// words[0..N) = the stream's words first, first + 1, ...; each block is computed once.
    template <int N>
    GANT_HOST_DEVICE void fetch(std::uint64_t first, std::uint32_t (&words)[N]) const {
        std::uint64_t current = first / 4;
        philox::block b = philox::generate(seed, stream, current);
        for (int n = 0; n < N; ++n) {
            const std::uint64_t w = first + std::uint64_t(n);
            if (w / 4 != current) b = philox::generate(seed, stream, current = w / 4);
            words[n] = b.word[w % 4];
        }
    }
};

/// out[j] = uniform() for the j-th value from word `first_word` on: lo + (hi - lo) * u.
struct uniform_op {
    word_source source;
    std::uint64_t first_word;
    double lo, hi;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t j) const {
        std::uint32_t words[2];
        source.fetch(first_word + 2 * std::uint64_t(j), words);
        const double u = philox::unit_interval(words[0], words[1]);
        out[j] = static_cast<float>(lo + (hi - lo) * u);
    }
};

/// Pair j of standard normals from word `first_word` on (see random.hpp's plan_normal): the
/// pairs fill out[leading ...] with pair_values values; thread 0 also writes the generator's
/// pending variate to out[0] when `leading`. A first uniform of exactly 0, which the CPU
/// generator would reject and redraw (probability 2^-53 per pair), becomes 2^-53 here, so that
/// one pair in 2^53 is where the two could part.
struct normal_pairs_op {
    word_source source;
    std::uint64_t first_word;
    std::size_t pair_values;
    float* out;
    bool leading;
    float leading_value;
    GANT_HOST_DEVICE void operator()(std::size_t j) const {
        if (j == 0 && leading) out[0] = leading_value;
        if (2 * j >= pair_values) return;
        std::uint32_t words[4];
        source.fetch(first_word + 4 * std::uint64_t(j), words);
        double u1 = philox::unit_interval(words[0], words[1]);
        if (u1 <= 0.0) u1 = 0x1.0p-53;
        const double u2 = philox::unit_interval(words[2], words[3]);
        const philox::normal_pair pair = philox::box_muller(u1, u2);
        float* pairs = out + (leading ? 1 : 0);
        pairs[2 * j] = static_cast<float>(pair.first);
        if (2 * j + 1 < pair_values) pairs[2 * j + 1] = static_cast<float>(pair.second);
    }
};

}  // namespace gant::cuda::detail
