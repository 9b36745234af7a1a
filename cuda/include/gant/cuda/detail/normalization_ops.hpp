#pragma once
// The functors behind gant/cuda/normalization.hpp, written after include/gant/layers/
// normalize.hpp (whose header derives the rules). A pass has up to three parts:
//   * group sums: a `terms` functor adds element e's terms to K double sums of its group, and
//     finish(g, sums) turns a group's sums into the float scalars the element pass needs;
//     the device runs a block per group (device_exec.cuh), the CPU a loop (host_exec.hpp);
//   * an element functor, as in elementwise_ops.hpp;
//   * parameter gradients: the same group sums over the per-channel layout (one group per
//     channel across the batch), whose finish adds to gamma and beta.
// All compile with any C++ compiler. normalization_passes.hpp puts them in sequence;
// test_cuda_normalization_reference runs those passes on the CPU against gant's batch_norm and
// layer_norm.
#include <cstddef>

#include "gant/core/host_device.hpp"
#include "gant/cuda/detail/device_math.hpp"
#include "gant/cuda/normalization.hpp"

namespace gant::cuda::detail {

/// Where elements lie: [batch, channels, plane], grouped per sample or per channel.
struct norm_layout {
    bool per_sample;
    std::size_t batch, channels, plane;

    GANT_HOST_DEVICE std::size_t groups() const { return per_sample ? batch : channels; }
    GANT_HOST_DEVICE std::size_t group_size() const { return per_sample ? channels * plane : batch * plane; }
    /// The k-th element of group g (k < group_size()).
    GANT_HOST_DEVICE std::size_t element(std::size_t g, std::size_t k) const {
        if (per_sample) return g * channels * plane + k;
        return (k / plane) * channels * plane + g * plane + k % plane;
    }
    GANT_HOST_DEVICE std::size_t channel_of(std::size_t e) const { return (e / plane) % channels; }
    GANT_HOST_DEVICE std::size_t group_of(std::size_t e) const {
        return per_sample ? e / (channels * plane) : channel_of(e);
    }
    /// One group per channel across the batch: the parameter gradients' layout.
    GANT_HOST_DEVICE norm_layout by_channel() const { return {false, batch, channels, plane}; }
};

inline norm_layout layout_of(const norm_problem& p) {
    return {p.grouping == norm_grouping::per_sample, p.batch, p.channels, p.plane};
}

GANT_HOST_DEVICE inline float scale_of(const float* gamma, std::size_t c) { return gamma ? gamma[c] : 1.f; }
GANT_HOST_DEVICE inline float shift_of(const float* beta, std::size_t c) { return beta ? beta[c] : 0.f; }

// ---- forward ---------------------------------------------------------------------------------

/// Pass 1 of normalize::measure: mean in double.
struct mean_terms {
    static constexpr int count = 1;
    const float* x;
    double* mean;  // per group
    double group_size;
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const { s[0] += x[e]; }
    GANT_HOST_DEVICE void finish(std::size_t g, const double (&s)[count]) const { mean[g] = s[0] / group_size; }
};

/// Pass 2: the biased variance about the double mean, then the statistics the passes use.
struct variance_terms {
    static constexpr int count = 1;
    norm_layout layout;
    const float* x;
    const double* mean_exact;
    double group_size;
    float eps;
    float *mean, *inv_std, *variance;  // variance may be null
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const {
        const double d = double(x[e]) - mean_exact[layout.group_of(e)];
        s[0] += d * d;
    }
    GANT_HOST_DEVICE void finish(std::size_t g, const double (&s)[count]) const {
        const float var = float(s[0] / group_size);
        mean[g] = float(mean_exact[g]);
        inv_std[g] = 1.f / sqrt_of(var + eps);
        if (variance) variance[g] = var;
    }
};

/// y = m x + b with m = gamma_c inv_std, b = beta_c - m mean (normalize::forward).
struct norm_apply_op {
    norm_layout layout;
    const float *x, *gamma, *beta, *mean, *inv_std;
    float* y;
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t c = layout.channel_of(e), g = layout.group_of(e);
        const float m = scale_of(gamma, c) * inv_std[g], b = shift_of(beta, c) - m * mean[g];
        y[e] = m * x[e] + b;
    }
};

// ---- backward --------------------------------------------------------------------------------

/// mean(xhat_bar) and mean(xhat xhat_bar) with xhat_bar = gamma ybar, times `centre` (0 when the
/// statistics are constants): two floats per group.
struct backward_terms {
    static constexpr int count = 2;
    norm_layout layout;
    const float *x, *mean, *inv_std, *gamma, *ybar;
    double group_size;
    float centre;
    float* scalars;  // [m_a, m_xa] per group
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const {
        const std::size_t g = layout.group_of(e);
        const double xh = double((x[e] - mean[g]) * inv_std[g]),
                     gb = double(scale_of(gamma, layout.channel_of(e))) * ybar[e];
        s[0] += gb;
        s[1] += gb * xh;
    }
    GANT_HOST_DEVICE void finish(std::size_t g, const double (&s)[count]) const {
        scalars[2 * g] = centre * float(s[0] / group_size);
        scalars[2 * g + 1] = centre * float(s[1] / group_size);
    }
};

struct backward_op {
    norm_layout layout;
    const float *x, *mean, *inv_std, *gamma, *ybar, *scalars;
    float* xbar;
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t g = layout.group_of(e);
        const float inv = inv_std[g], xh = (x[e] - mean[g]) * inv;
        xbar[e] = (scale_of(gamma, layout.channel_of(e)) * ybar[e] - scalars[2 * g] - xh * scalars[2 * g + 1]) * inv;
    }
};

/// gamma_grad[c] += sum(ybar xhat), beta_grad[c] += sum(ybar) over channel c (by_channel()
/// groups); with xdot and ydotbar set (the paired pass) gamma also gets sum(ydotbar xhat_dot).
struct affine_grad_terms {
    static constexpr int count = 3;
    norm_layout layout;  // the problem's grouping, for each element's statistics
    const float *x, *mean, *inv_std, *ybar;
    const float *xdot, *ydotbar, *paired_scalars;  // paired pass only (else null)
    float *gamma_grad, *beta_grad;
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const {
        const std::size_t g = layout.group_of(e);
        const float inv = inv_std[g], xh = (x[e] - mean[g]) * inv;
        s[0] += double(ybar[e]) * double(xh);
        s[1] += ybar[e];
        if (ydotbar) {
            const float m_d = paired_scalars[7 * g], p = paired_scalars[7 * g + 1];
            const float xhd = (xdot[e] - m_d - xh * p) * inv;
            s[2] += double(ydotbar[e]) * double(xhd);
        }
    }
    GANT_HOST_DEVICE void finish(std::size_t c, const double (&s)[count]) const {
        if (gamma_grad) {
            gamma_grad[c] += float(s[0]);
            if (ydotbar) gamma_grad[c] += float(s[2]);
        }
        if (beta_grad) beta_grad[c] += float(s[1]);
    }
};

// ---- tangent ---------------------------------------------------------------------------------

struct tangent_terms {
    static constexpr int count = 2;
    norm_layout layout;
    const float *x, *mean, *inv_std, *xdot;
    double group_size;
    float centre;
    float* scalars;  // [m_d, m_xd] per group
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const {
        const std::size_t g = layout.group_of(e);
        s[0] += xdot[e];
        s[1] += double((x[e] - mean[g]) * inv_std[g]) * double(xdot[e]);
    }
    GANT_HOST_DEVICE void finish(std::size_t g, const double (&s)[count]) const {
        scalars[2 * g] = centre * float(s[0] / group_size);
        scalars[2 * g + 1] = centre * float(s[1] / group_size);
    }
};

struct tangent_op {
    norm_layout layout;
    const float *x, *mean, *inv_std, *gamma, *xdot, *scalars;
    float* ydot;
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t g = layout.group_of(e);
        const float inv = inv_std[g], xh = (x[e] - mean[g]) * inv;
        ydot[e] = scale_of(gamma, layout.channel_of(e)) * inv * (xdot[e] - scalars[2 * g] - xh * scalars[2 * g + 1]);
    }
};

// ---- paired reverse --------------------------------------------------------------------------

/// The seven group means of normalize::backward_paired: [m_d, p, m_a, m_xa, m_w, q, m_wxd].
struct paired_terms {
    static constexpr int count = 7;
    norm_layout layout;
    const float *x, *mean, *inv_std, *gamma, *xdot, *ybar, *ydotbar;
    double group_size;
    float centre;
    float* scalars;
    GANT_HOST_DEVICE void operator()(std::size_t e, double (&s)[count]) const {
        const std::size_t g = layout.group_of(e);
        const double xh = double((x[e] - mean[g]) * inv_std[g]), d = xdot[e], b = ybar[e], w = ydotbar[e];
        const double gm = scale_of(gamma, layout.channel_of(e));
        s[0] += d;
        s[1] += xh * d;
        s[2] += gm * b;
        s[3] += gm * (b * xh);
        s[4] += gm * w;
        s[5] += gm * (w * xh);
        s[6] += gm * (w * d);
    }
    GANT_HOST_DEVICE void finish(std::size_t g, const double (&s)[count]) const {
        const double n = group_size;
        float* out = scalars + 7 * g;
        const float m_d = centre * float(s[0] / n), p = centre * float(s[1] / n), m_w = centre * float(s[4] / n),
                    q = centre * float(s[5] / n);
        out[0] = m_d;
        out[1] = p;
        out[2] = centre * float(s[2] / n);
        out[3] = centre * float(s[3] / n);
        out[4] = m_w;
        out[5] = q;
        // mean(w xhat_dot) = (mean(w xdot) - mean(w) mean(xdot) - q p) / s
        out[6] = centre * float((s[6] / n - double(m_w) * double(m_d) - double(q) * double(p)) * double(inv_std[g]));
    }
};

struct paired_op {
    norm_layout layout;
    const float *x, *mean, *inv_std, *gamma, *xdot, *ybar, *ydotbar, *scalars;
    float *xbar, *xdotbar;  // either may be null
    GANT_HOST_DEVICE void operator()(std::size_t e) const {
        const std::size_t g = layout.group_of(e);
        const float* k = scalars + 7 * g;
        const float m_d = k[0], p = k[1], m_a = k[2], m_xa = k[3], m_w = k[4], q = k[5], m_wxd = k[6];
        const float inv = inv_std[g], gm = scale_of(gamma, layout.channel_of(e));
        const float xh = (x[e] - mean[g]) * inv;
        const float xhd = (xdot[e] - m_d - xh * p) * inv;  // xhat_dot = J(xdot)
        const float w = gm * ydotbar[e];
        const float jw = (w - m_w - xh * q) * inv;  // J(w)
        if (xdotbar) xdotbar[e] = jw;
        if (xbar) xbar[e] = (gm * ybar[e] - m_a - xh * m_xa) * inv - inv * (m_wxd * xh + p * jw + q * xhd);
    }
};

// ---- batch_norm's running statistics -----------------------------------------------------------

struct running_update_op {
    float momentum, count;
    const float *mean, *variance;
    float *running_mean, *running_var;
    GANT_HOST_DEVICE void operator()(std::size_t c) const {
        const float unbiased = variance[c] * count / (count - 1.f);
        running_mean[c] = (1.f - momentum) * running_mean[c] + momentum * mean[c];
        running_var[c] = (1.f - momentum) * running_var[c] + momentum * unbiased;
    }
};

struct running_statistics_op {
    float eps;
    const float *running_mean, *running_var;
    float *mean, *inv_std;
    GANT_HOST_DEVICE void operator()(std::size_t c) const {
        mean[c] = running_mean[c];
        inv_std[c] = 1.f / sqrt_of(running_var[c] + eps);
    }
};

}  // namespace gant::cuda::detail
