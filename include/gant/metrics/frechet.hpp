#pragma once
// The Fréchet distance between Gaussians fitted to two sets of features (FID when the features
// are Inception-v3's; algorithms.md section 9):
//
//   FD = |mu_r - mu_g|^2 + Tr(S_r) + Tr(S_g) - 2 Tr((S_r S_g)^{1/2})
//
// with sample covariances (divisor N - 1, as numpy.cov), all in float64. pytorch-fid takes
// scipy's sqrtm of the non-symmetric product S_r S_g; here the same trace comes from a symmetric
// problem: S_r S_g is similar to A = S_r^{1/2} S_g S_r^{1/2} (symmetric PSD), so
// Tr((S_r S_g)^{1/2}) = sum_k sqrt(max(l_k(A), 0)). Two symmetric eigendecompositions, no complex
// round-off to discard.
//
// FD is biased upward for small N (it depends on N): compare values only at equal N, and report N.
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/blas.hpp"
#include "gant/core/tensor.hpp"
#include "gant/metrics/linalg.hpp"

namespace gant::metrics {

/// A Gaussian fitted to n feature vectors of `dim` values: mean and covariance (row-major).
struct gaussian_fit {
    std::size_t n = 0, dim = 0;
    std::vector<double> mean;
    std::vector<double> cov;  // dim x dim, divisor n - 1
};

/// Copies any feature tensor into row-major float64.
template <class T>
std::vector<double> to_double(const tensor<T>& x) {
    return std::vector<double>(x.begin(), x.end());
}

/// Mean and sample covariance (N - 1) of the rows of `features` ([n, dim], n >= 2), in float64.
template <class T>
gaussian_fit fit_gaussian(const tensor<T>& features) {
    const std::size_t n = features.shape(0), d = features.shape(1);
    if (n < 2) throw std::invalid_argument("gant: fit_gaussian needs at least 2 feature vectors, got " + std::to_string(n));
    if (d == 0) throw std::invalid_argument("gant: fit_gaussian needs at least one feature");
    gaussian_fit g;
    g.n = n;
    g.dim = d;
    std::vector<double> x = to_double(features);
    g.mean.assign(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) g.mean[j] += x[i * d + j];
    for (auto& m : g.mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) x[i * d + j] -= g.mean[j];
    g.cov.assign(d * d, 0.0);
    blas::gemm(blas::op::transpose, blas::op::none, d, d, n, 1.0 / static_cast<double>(n - 1), x.data(), d, x.data(), d,
               0.0, g.cov.data(), d);
    linalg::symmetrize(g.cov, d);
    return g;
}

/// The Fréchet distance between two fitted Gaussians of the same dimension.
inline double frechet_distance(const gaussian_fit& r, const gaussian_fit& g) {
    if (r.dim != g.dim || r.mean.size() != r.dim || g.mean.size() != g.dim || r.cov.size() != r.dim * r.dim ||
        g.cov.size() != g.dim * g.dim)
        throw std::invalid_argument("gant: frechet_distance: the two Gaussians have different dimensions (" +
                                    std::to_string(r.dim) + " and " + std::to_string(g.dim) + ")");
    const std::size_t d = r.dim;
    double mean_term = 0.0, trace_r = 0.0, trace_g = 0.0;
    for (std::size_t j = 0; j < d; ++j) {
        const double diff = r.mean[j] - g.mean[j];
        mean_term += diff * diff;
        trace_r += r.cov[j * d + j];
        trace_g += g.cov[j * d + j];
    }
    // A = S_r^{1/2} S_g S_r^{1/2}.
    const std::vector<double> root = linalg::psd_sqrt(r.cov, d);
    std::vector<double> tmp(d * d), a(d * d);
    blas::gemm(blas::op::none, blas::op::none, d, d, d, 1.0, root.data(), d, g.cov.data(), d, 0.0, tmp.data(), d);
    blas::gemm(blas::op::none, blas::op::none, d, d, d, 1.0, tmp.data(), d, root.data(), d, 0.0, a.data(), d);
    linalg::symmetrize(a, d);
    const std::vector<double> l = linalg::symmetric_eigen(a, d, false);
    double trace_sqrt = 0.0;
    for (const double v : l) trace_sqrt += std::sqrt(std::max(v, 0.0));
    return mean_term + trace_r + trace_g - 2.0 * trace_sqrt;
}

/// The Fréchet distance between the Gaussians fitted to two feature sets ([n, d] and [m, d]).
template <class T>
double frechet_distance(const tensor<T>& real, const tensor<T>& fake) {
    return frechet_distance(fit_gaussian(real), fit_gaussian(fake));
}

}  // namespace gant::metrics
