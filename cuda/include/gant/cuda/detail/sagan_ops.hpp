#pragma once
// The passes behind gant/cuda/spectral.hpp and gant/cuda/scaled_residual.hpp, written once over
// an executor (device_exec.cuh on the device, host_exec.hpp in the tests), with the functors and
// group sums they run. Each mirrors include/gant/layers/spectral_norm.hpp or
// self_attention.hpp operation for operation; the sums are the exception: the executors sum in
// double per group (the CPU layers in float), so the results agree with the CPU to float
// rounding. The public entry points check their arguments; these templates assume valid ones.
#include <cmath>
#include <cstddef>

#include "gant/core/host_device.hpp"
#include "gant/cuda/spectral.hpp"

namespace gant::cuda::detail {

// Layouts: which elements each group of a group_sums covers (groups(), group_size(),
// element(group, k) = the index handed to the terms).

/// Group c = column c of the matrix (W^T u).
struct matrix_columns {
    spectral_matrix m;
    GANT_HOST_DEVICE std::size_t groups() const { return m.cols; }
    GANT_HOST_DEVICE std::size_t group_size() const { return m.rows; }
    GANT_HOST_DEVICE std::size_t element(std::size_t c, std::size_t r) const { return m.index(r, c); }
};

/// Group r = row r of the matrix (W v, and per-row partial sums of <g, W_SN>).
struct matrix_rows {
    spectral_matrix m;
    GANT_HOST_DEVICE std::size_t groups() const { return m.rows; }
    GANT_HOST_DEVICE std::size_t group_size() const { return m.cols; }
    GANT_HOST_DEVICE std::size_t element(std::size_t r, std::size_t c) const { return m.index(r, c); }
};

/// `count` groups of `size` consecutive elements (one group: a whole vector).
struct consecutive {
    std::size_t count, size;
    GANT_HOST_DEVICE std::size_t groups() const { return count; }
    GANT_HOST_DEVICE std::size_t group_size() const { return size; }
    GANT_HOST_DEVICE std::size_t element(std::size_t g, std::size_t k) const { return g * size + k; }
};

GANT_HOST_DEVICE inline double square_root(double s) {
#if defined(__CUDA_ARCH__)
    return sqrt(s);
#else
    return std::sqrt(s);
#endif
}

// Spectral normalisation.

/// out[group] = sum over the group of w[i] x[j(i)], j the element's row (transposed: W^T x) or
/// column (W x).
struct matrix_vector_terms {
    static constexpr int count = 1;
    spectral_matrix m;
    const float* w;
    const float* x;
    float* out;
    bool transposed;
    GANT_HOST_DEVICE void operator()(std::size_t i, double* sums) const {
        sums[0] += double(w[i]) * double(x[transposed ? m.row_of(i) : m.col_of(i)]);
    }
    GANT_HOST_DEVICE void finish(std::size_t g, const double* sums) const { out[g] = float(sums[0]); }
};

/// *inverse = 1 / max(||x||, 1e-12): spectral_norm_impl::normalise's factor, its sum in double.
struct inverse_norm_terms {
    static constexpr int count = 1;
    const float* x;
    float* inverse;
    GANT_HOST_DEVICE void operator()(std::size_t k, double* sums) const { sums[0] += double(x[k]) * double(x[k]); }
    GANT_HOST_DEVICE void finish(std::size_t, const double* sums) const {
        const double norm = square_root(sums[0]);
        *inverse = float(1.0 / (norm < 1e-12 ? 1e-12 : norm));
    }
};

/// out[k] = x[k] * factor[0] (out may be x).
struct scale_by_op {
    const float* x;
    const float* factor;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t k) const { out[k] = x[k] * factor[0]; }
};

/// *out = sum a[k] b[k] (sigma = u . W v).
struct dot_terms {
    static constexpr int count = 1;
    const float *a, *b;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t k, double* sums) const { sums[0] += double(a[k]) * double(b[k]); }
    GANT_HOST_DEVICE void finish(std::size_t, const double* sums) const { *out = float(sums[0]); }
};

/// partial[group] = sum over the group of a[i] b[i], kept in double for a second sum.
struct partial_dot_terms {
    static constexpr int count = 1;
    const float *a, *b;
    double* partial;
    GANT_HOST_DEVICE void operator()(std::size_t i, double* sums) const { sums[0] += double(a[i]) * double(b[i]); }
    GANT_HOST_DEVICE void finish(std::size_t g, const double* sums) const { partial[g] = sums[0]; }
};

/// *out = float(sum of the partial sums).
struct total_terms {
    static constexpr int count = 1;
    const double* partial;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t k, double* sums) const { sums[0] += partial[k]; }
    GANT_HOST_DEVICE void finish(std::size_t, const double* sums) const { *out = float(sums[0]); }
};

/// normalised[i] = w[i] / sigma[0], as the CPU writes W_SN into the wrapped layer.
struct divide_op {
    const float* w;
    const float* sigma;
    float* normalised;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { normalised[i] = w[i] / sigma[0]; }
};

/// grad[i] += (g[i] - <g, W_SN> u[r] v[c]) / sigma: spectral_norm_impl::pull_back_weight_gradient.
struct pull_back_op {
    spectral_matrix m;
    const float *g, *inner_product, *u, *v, *sigma;
    float* grad;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        grad[i] += (g[i] - inner_product[0] * u[m.row_of(i)] * v[m.col_of(i)]) / sigma[0];
    }
};

/// spectral_normalise (gant/cuda/spectral.hpp).
template <class Exec>
void spectral_normalise_pass(const Exec& exec, const spectral_matrix& m, std::size_t power_steps, const float* w,
                             float* u, float* v, float* sigma, float* normalised) {
    auto wv = exec.template scratch<float>(m.rows);  // W v: u before it is scaled, and sigma's factor
    auto inverse = exec.template scratch<float>(1);
    for (std::size_t step = 0; step < power_steps; ++step) {
        exec.group_sums(matrix_columns{m}, matrix_vector_terms{m, w, u, v, true},
                        "launch of spectral_normalise (W^T u)");
        exec.group_sums(consecutive{1, m.cols}, inverse_norm_terms{v, inverse.data()},
                        "launch of spectral_normalise (||v||)");
        exec.elementwise(scale_by_op{v, inverse.data(), v}, m.cols, "launch of spectral_normalise (v / ||v||)");
        exec.group_sums(matrix_rows{m}, matrix_vector_terms{m, w, v, wv.data(), false},
                        "launch of spectral_normalise (W v)");
        exec.group_sums(consecutive{1, m.rows}, inverse_norm_terms{wv.data(), inverse.data()},
                        "launch of spectral_normalise (||u||)");
        exec.elementwise(scale_by_op{wv.data(), inverse.data(), u}, m.rows, "launch of spectral_normalise (u / ||u||)");
    }
    if (power_steps == 0)
        exec.group_sums(matrix_rows{m}, matrix_vector_terms{m, w, v, wv.data(), false},
                        "launch of spectral_normalise (W v)");
    exec.group_sums(consecutive{1, m.rows}, dot_terms{u, wv.data(), sigma}, "launch of spectral_normalise (sigma)");
    if (normalised)
        exec.elementwise(divide_op{w, sigma, normalised}, m.size(), "launch of spectral_normalise (W / sigma)");
}

/// spectral_pull_back (gant/cuda/spectral.hpp).
template <class Exec>
void spectral_pull_back_pass(const Exec& exec, const spectral_matrix& m, const float* g, const float* normalised,
                             const float* u, const float* v, const float* sigma, float* grad) {
    auto partial = exec.template scratch<double>(m.rows);
    auto inner_product = exec.template scratch<float>(1);
    exec.group_sums(matrix_rows{m}, partial_dot_terms{g, normalised, partial.data()},
                    "launch of spectral_pull_back (<g, W_SN> per row)");
    exec.group_sums(consecutive{1, m.rows}, total_terms{partial.data(), inner_product.data()},
                    "launch of spectral_pull_back (<g, W_SN>)");
    exec.elementwise(pull_back_op{m, g, inner_product.data(), u, v, sigma, grad}, m.size(),
                     "launch of spectral_pull_back");
}

// The self-attention block's residual.

/// y[k] = gamma[0] * o[k] + x[k] (x null: gamma[0] * o[k]), the CPU's expressions.
struct scaled_residual_op {
    const float *gamma, *o, *x;
    float* y;
    GANT_HOST_DEVICE void operator()(std::size_t k) const { y[k] = x ? gamma[0] * o[k] + x[k] : gamma[0] * o[k]; }
};

/// partial[2 s], partial[2 s + 1] = <a, b> and <c, d> over sample s (c null: 0).
struct pair_dot_terms {
    static constexpr int count = 2;
    const float *a, *b, *c, *d;
    double* partial;
    GANT_HOST_DEVICE void operator()(std::size_t i, double* sums) const {
        sums[0] += double(a[i]) * double(b[i]);
        if (c) sums[1] += double(c[i]) * double(d[i]);
    }
    GANT_HOST_DEVICE void finish(std::size_t s, const double* sums) const {
        partial[2 * s] = sums[0];
        partial[2 * s + 1] = sums[1];
    }
};

/// *grad += float(<a, b>) + float(<c, d>) from the per-sample pairs: the CPU's
/// gamma.grad += inner_product(ybar, o) + inner_product(ydotbar, odot).
struct pair_total_terms {
    static constexpr int count = 2;
    const double* partial;
    float* grad;
    GANT_HOST_DEVICE void operator()(std::size_t s, double* sums) const {
        sums[0] += partial[2 * s];
        sums[1] += partial[2 * s + 1];
    }
    GANT_HOST_DEVICE void finish(std::size_t, const double* sums) const { *grad += float(sums[0]) + float(sums[1]); }
};

/// accumulate_scale_gradient (gant/cuda/scaled_residual.hpp): a block per sample, then one
/// over the samples' pairs.
template <class Exec>
void accumulate_scale_gradient_pass(const Exec& exec, const float* ybar, const float* o, const float* ydotbar,
                                    const float* odot, std::size_t samples, std::size_t features, float* gamma_grad) {
    auto partial = exec.template scratch<double>(2 * samples);
    exec.group_sums(consecutive{samples, features}, pair_dot_terms{ybar, o, ydotbar, odot, partial.data()},
                    "launch of accumulate_scale_gradient (per sample)");
    exec.group_sums(consecutive{1, samples}, pair_total_terms{partial.data(), gamma_grad},
                    "launch of accumulate_scale_gradient (total)");
}

/// out[k] += a[k].
struct add_op {
    const float* a;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t k) const { out[k] += a[k]; }
};

/// out[k] = a[k] * b[k].
struct multiply_op {
    const float *a, *b;
    float* out;
    GANT_HOST_DEVICE void operator()(std::size_t k) const { out[k] = a[k] * b[k]; }
};

}  // namespace gant::cuda::detail
