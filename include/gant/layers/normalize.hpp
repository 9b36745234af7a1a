#pragma once
// The maths shared by batch_norm and layer_norm. Both normalise groups of elements and then
// apply a per-channel affine map y = gamma_c * xhat + beta_c; they differ only in which
// elements form a group (one channel across the batch, or one whole sample), so the rules are
// written once here over a group description and the layers only enumerate their groups.
//
// Pure normalisation over a group of N elements:
//   mu = mean(x), var = mean((x - mu)^2) (biased), s = sqrt(var + eps), xhat = (x - mu) / s.
// Its Jacobian is symmetric; its action on a vector u is
//   J(u) = (u - mean(u) - xhat * mean(xhat * u)) / s
// (d mu = mean(dx), d s = mean(xhat * dx)). Hence
//   tangent      xhat_dot = J(xdot)
//   reverse      x_bar    = J(xhat_bar)
//   paired       xdot_bar = J(w)                                         (w = xhat_dot_bar)
//                x_bar    = J(xhat_bar) - (1/s) [ mean(w * xhat_dot) * xhat + p * J(w)
//                                                 + mean(w * xhat) * xhat_dot ],   p = mean(xhat * xdot)
// The paired x_bar is the gradient of w . J_x(xdot) with respect to x (xdot, w fixed): the
// three bracketed terms come from s (through d s = mean(xhat dx)) and from the two xhat inside
// J. This is algorithms.md 5.3's LayerNorm rule with gamma folded into the adjoints:
//   xhat_bar = gamma * ybar, w = gamma * ydot_bar,
//   gamma_bar += sum(ybar * xhat + ydot_bar * xhat_dot), beta_bar += sum(ybar).
//
// When the statistics are constants (batch norm in inference mode, running statistics) the
// map is affine: J(u) = u / s and the curvature term vanishes. The same code serves both: the
// centring and curvature terms are multiplied by zero.
//
// The functions work on raw host pointers, one group per call, in plain loops (these passes are
// memory-bound); a device backend supplies the same per-group kernels.
#include <array>
#include <cmath>
#include <cstddef>
#include <type_traits>

namespace gant::normalize {

/// Where the elements of one group lie in a batch laid out row-major as [batch, C, P]
/// (P = the product of the dimensions after the channel): `runs` contiguous runs of
/// `run_length` elements, run r starting at offset + r * run_stride, whose affine channel is
/// channel + r * channel_step.
struct group {
    std::size_t offset = 0;
    std::size_t runs = 0;
    std::size_t run_length = 0;
    std::size_t run_stride = 0;
    std::size_t channel = 0;
    std::size_t channel_step = 0;  // 0: one channel per group (batch norm); 1: run r is channel r (layer norm)

    std::size_t size() const { return runs * run_length; }
    std::size_t run_offset(std::size_t r) const { return offset + r * run_stride; }
    std::size_t run_channel(std::size_t r) const { return channel + r * channel_step; }

    /// Channel c across a batch of n samples (batch norm).
    static group across_batch(std::size_t c, std::size_t n, std::size_t channels, std::size_t plane) {
        return {c * plane, n, plane, channels * plane, c, 0};
    }
    /// Every element of sample i (layer norm).
    static group within_sample(std::size_t i, std::size_t channels, std::size_t plane) {
        return {i * channels * plane, channels, plane, plane, 0, 1};
    }
};

/// A group's statistics as forward used them: xhat = (x - mean) * inv_std.
template <class T>
struct statistics {
    T mean = T(0);
    T inv_std = T(1);
};

/// The per-channel affine map; null pointers mean gamma = 1, beta = 0 (no affine part).
template <class T>
struct affine {
    const T* gamma = nullptr;
    const T* beta = nullptr;
    T scale(std::size_t c) const { return gamma ? gamma[c] : T(1); }
    T shift(std::size_t c) const { return beta ? beta[c] : T(0); }
};

/// Where parameter gradients go (+=); null pointers skip them.
template <class T>
struct affine_grad {
    T* gamma = nullptr;
    T* beta = nullptr;
};

/// Sums of float data are accumulated in double: a batch-norm group of a 64-image batch of
/// 32x32 maps has 65536 elements, enough to lose several digits in a float sum.
template <class T>
using accumulator = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;

/// `Count` running sums, each split over `lanes` partial sums that consecutive elements take in
/// turn. A single accumulator makes every add wait for the one before it (a double add's
/// latency, about 4 cycles, against a throughput of two a cycle): perf showed batch_norm's
/// forward, mostly that chain, as 7% of a DCGAN 28x28 step. Independent lanes let the adds
/// overlap and the compiler keep them in vector registers (6% after; what remains is waiting for
/// memory; the step about 1% faster, 2026-11-29). The sums keep their double precision, only the
/// order of the additions changes.
template <class A, std::size_t Count>
class lane_sums {
public:
    static constexpr std::size_t lanes = 8;
    using terms = std::array<A, Count>;

    /// Adds term(k) (the Count summands of element k) for k in [0, length).
    template <class Term>
    void add(std::size_t length, Term&& term) {
        std::size_t k = 0;
        for (; k + lanes <= length; k += lanes)
            for (std::size_t j = 0; j < lanes; ++j) add_to_lane(j, term(k + j));
        // The last length % lanes elements go on where the previous call's stopped, so that many
        // short runs (a feature's batch norm over vectors: runs of one) still spread over the lanes.
        for (std::size_t j = 0; j < lanes; ++j)
            if (k + j < length) add_to_lane((next_ + j) % lanes, term(k + j));
        next_ = (next_ + length - k) % lanes;
    }

    /// Sum number s of everything added, its lanes combined pairwise.
    A total(std::size_t s) const {
        const auto& v = sums_[s];
        return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    }

private:
    void add_to_lane(std::size_t j, const terms& t) {
        for (std::size_t s = 0; s < Count; ++s) sums_[s][j] += t[s];
    }
    static_assert(lanes == 8, "total() combines exactly eight lanes");
    std::array<std::array<A, lanes>, Count> sums_{};
    std::size_t next_ = 0;  // the lane of the next tail element
};

/// Mean and biased variance of a group, two-pass (as exact as the data allow).
template <class T>
struct moments {
    T mean;
    T variance;
};

template <class T>
moments<T> measure(const group& g, const T* x) {
    using A = accumulator<T>;
    lane_sums<A, 1> sum;
    for (std::size_t r = 0; r < g.runs; ++r) {
        const T* xr = x + g.run_offset(r);
        sum.add(g.run_length, [&](std::size_t k) { return std::array<A, 1>{A(xr[k])}; });
    }
    const A n = A(g.size());
    const A mean = sum.total(0) / n;
    lane_sums<A, 1> ss;
    for (std::size_t r = 0; r < g.runs; ++r) {
        const T* xr = x + g.run_offset(r);
        ss.add(g.run_length, [&](std::size_t k) {
            const A d = A(xr[k]) - mean;
            return std::array<A, 1>{d * d};
        });
    }
    return {T(mean), T(ss.total(0) / n)};
}

/// y = gamma_c * (x - mean) * inv_std + beta_c.
template <class T>
void forward(const group& g, statistics<T> st, affine<T> a, const T* x, T* y) {
    for (std::size_t r = 0; r < g.runs; ++r) {
        const std::size_t c = g.run_channel(r), o = g.run_offset(r);
        // y = m * x + b with m, b folded per run.
        const T m = a.scale(c) * st.inv_std, b = a.shift(c) - m * st.mean;
        const T* xr = x + o;
        T* yr = y + o;
        for (std::size_t k = 0; k < g.run_length; ++k) yr[k] = m * xr[k] + b;
    }
}

/// First-order reverse: xbar = J(gamma * ybar) (may be null); gradients += unless null.
/// from_input: the statistics were computed from x (else they are constants).
template <class T>
void backward(const group& g, statistics<T> st, bool from_input, affine<T> a, const T* x, const T* ybar, T* xbar,
              affine_grad<T> grad) {
    using A = accumulator<T>;
    const bool want_grad = grad.gamma || grad.beta;
    if (!xbar && !want_grad) return;
    const T mu = st.mean, inv = st.inv_std;
    // Pass 1: per-run sums of ybar and ybar * xhat give the parameter gradients and, weighted
    // by gamma, mean(xhat_bar) and mean(xhat * xhat_bar) for J.
    A s_a = 0, s_xa = 0;
    if (from_input || want_grad) {
        for (std::size_t r = 0; r < g.runs; ++r) {
            const std::size_t c = g.run_channel(r), o = g.run_offset(r);
            const T *xr = x + o, *br = ybar + o;
            lane_sums<A, 2> run;
            run.add(g.run_length, [&](std::size_t k) {
                const A xh = A((xr[k] - mu) * inv), b = br[k];
                return std::array<A, 2>{b, b * xh};
            });
            const A sy = run.total(0), syx = run.total(1);
            if (grad.gamma) grad.gamma[c] += T(syx);
            if (grad.beta) grad.beta[c] += T(sy);
            s_a += A(a.scale(c)) * sy;
            s_xa += A(a.scale(c)) * syx;
        }
    }
    if (!xbar) return;
    const T centre = from_input ? T(1) : T(0);
    const T m_a = centre * T(s_a / A(g.size())), m_xa = centre * T(s_xa / A(g.size()));
    for (std::size_t r = 0; r < g.runs; ++r) {
        const std::size_t c = g.run_channel(r), o = g.run_offset(r);
        const T gm = a.scale(c);
        const T *xr = x + o, *br = ybar + o;
        T* out = xbar + o;
        for (std::size_t k = 0; k < g.run_length; ++k) {
            const T xh = (xr[k] - mu) * inv;
            out[k] = (gm * br[k] - m_a - xh * m_xa) * inv;
        }
    }
}

/// Tangent: ydot = gamma * J(xdot).
template <class T>
void tangent(const group& g, statistics<T> st, bool from_input, affine<T> a, const T* x, const T* xdot, T* ydot) {
    using A = accumulator<T>;
    const T mu = st.mean, inv = st.inv_std;
    T m_d = 0, m_xd = 0;
    if (from_input) {
        lane_sums<A, 2> sums;
        for (std::size_t r = 0; r < g.runs; ++r) {
            const std::size_t o = g.run_offset(r);
            const T *xr = x + o, *dr = xdot + o;
            sums.add(g.run_length, [&](std::size_t k) {
                const A d = dr[k];
                return std::array<A, 2>{d, A((xr[k] - mu) * inv) * d};
            });
        }
        m_d = T(sums.total(0) / A(g.size()));
        m_xd = T(sums.total(1) / A(g.size()));
    }
    for (std::size_t r = 0; r < g.runs; ++r) {
        const std::size_t c = g.run_channel(r), o = g.run_offset(r);
        const T gm = a.scale(c) * inv;
        const T *xr = x + o, *dr = xdot + o;
        T* out = ydot + o;
        for (std::size_t k = 0; k < g.run_length; ++k) {
            const T xh = (xr[k] - mu) * inv;
            out[k] = gm * (dr[k] - m_d - xh * m_xd);
        }
    }
}

/// Reverse through primal and tangent together (see the header comment). xbar and xdotbar may
/// be null; gradients += unless null.
template <class T>
void backward_paired(const group& g, statistics<T> st, bool from_input, affine<T> a, const T* x, const T* xdot,
                     const T* ybar, const T* ydotbar, T* xbar, T* xdotbar, affine_grad<T> grad) {
    using A = accumulator<T>;
    const T mu = st.mean, inv = st.inv_std;
    // Pass 1: every group mean the rules need, from per-run sums (gamma is constant on a run).
    A s_d = 0, s_xd = 0, s_a = 0, s_xa = 0, s_w = 0, s_xw = 0, s_wd = 0;
    for (std::size_t r = 0; r < g.runs; ++r) {
        const std::size_t c = g.run_channel(r), o = g.run_offset(r);
        const T *xr = x + o, *dr = xdot + o, *br = ybar + o, *wr = ydotbar + o;
        lane_sums<A, 7> run;
        run.add(g.run_length, [&](std::size_t k) {
            const A xh = A((xr[k] - mu) * inv), d = dr[k], b = br[k], w = wr[k];
            return std::array<A, 7>{d, xh * d, b, b * xh, w, w * xh, w * d};
        });
        s_d += run.total(0);
        s_xd += run.total(1);
        const A sy = run.total(2), syx = run.total(3), sw = run.total(4), swx = run.total(5), swd = run.total(6);
        if (grad.gamma) grad.gamma[c] += T(syx);  // the ydot_bar * xhat_dot part is added in pass 2
        if (grad.beta) grad.beta[c] += T(sy);
        const A gm = a.scale(c);
        s_a += gm * sy;
        s_xa += gm * syx;
        s_w += gm * sw;
        s_xw += gm * swx;
        s_wd += gm * swd;
    }
    const A n = A(g.size());
    const T centre = from_input ? T(1) : T(0);
    const T m_d = centre * T(s_d / n);     // mean(xdot)
    const T p = centre * T(s_xd / n);      // mean(xhat * xdot)
    const T m_a = centre * T(s_a / n);     // mean(xhat_bar)
    const T m_xa = centre * T(s_xa / n);   // mean(xhat * xhat_bar)
    const T m_w = centre * T(s_w / n);     // mean(w)
    const T q = centre * T(s_xw / n);      // mean(xhat * w)
    // mean(w * xhat_dot) = (mean(w xdot) - mean(w) mean(xdot) - q p) / s
    const T m_wxd = centre * T((s_wd / n - A(m_w) * A(m_d) - A(q) * A(p)) * A(inv));

    for (std::size_t r = 0; r < g.runs; ++r) {
        const std::size_t c = g.run_channel(r), o = g.run_offset(r);
        const T gm = a.scale(c);
        const T *xr = x + o, *dr = xdot + o, *br = ybar + o, *wr = ydotbar + o;
        T* xb = xbar ? xbar + o : nullptr;
        T* xdb = xdotbar ? xdotbar + o : nullptr;
        lane_sums<A, 1> s_wxhd;  // the sum over the run of ydot_bar * xhat_dot
        s_wxhd.add(g.run_length, [&](std::size_t k) {
            const T xh = (xr[k] - mu) * inv;
            const T xhd = (dr[k] - m_d - xh * p) * inv;  // xhat_dot = J(xdot)
            const T w = gm * wr[k];
            const T jw = (w - m_w - xh * q) * inv;  // J(w)
            if (xdb) xdb[k] = jw;
            if (xb) xb[k] = (gm * br[k] - m_a - xh * m_xa) * inv - inv * (m_wxd * xh + p * jw + q * xhd);
            return std::array<A, 1>{A(wr[k]) * A(xhd)};
        });
        if (grad.gamma) grad.gamma[c] += T(s_wxhd.total(0));
    }
}

}  // namespace gant::normalize
