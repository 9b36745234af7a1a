#pragma once
// Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al.
// 2020) of generated features against real ones (algorithms.md section 9):
//
//   r_k(x)     distance from x to its k-th nearest neighbour in its own set, x itself excluded
//   precision  fraction of fakes inside some real ball B(x_i, r_3(x_i))
//   recall     fraction of reals inside some fake ball B(y_j, r_3(y_j))
//   density    1/(k M) sum_j #{i : y_j in B(x_i, r_5(x_i))}      (k = 5; can exceed 1)
//   coverage   fraction of reals whose ball B(x_i, r_5(x_i)) holds at least one fake
//
// "Inside" is strict (d < r), as in clovaai/generative-evaluation-prdc; gant uses k = 3 for
// precision/recall (StyleGAN2's pr50k3) and k = 5 for density/coverage (Naeem et al.'s choice),
// where the prdc package uses one k for all four. Self is excluded by index, which equals prdc's
// "(k+1)-th smallest including the zero self-distance" (duplicates of a point still count).
//
// Distances: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, the dot products by GEMM in row blocks (a 10k x 10k
// distance matrix is never stored), in float64, compared squared (monotone, so the same balls).
// Work is split over row blocks on the pool; the results are counts and flags, so they do not
// depend on the thread count.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/blas.hpp"
#include "gant/core/tensor.hpp"
#include "gant/core/threads.hpp"

namespace gant::metrics {

struct prdc_options {
    std::size_t k_precision_recall = 3;
    std::size_t k_density_coverage = 5;
    std::size_t block = 128;  // rows per GEMM block
};

struct prdc_result {
    double precision = 0.0, recall = 0.0, density = 0.0, coverage = 0.0;
};

/// A set of feature vectors in float64 with their squared norms.
struct point_set {
    std::size_t n = 0, dim = 0;
    std::vector<double> x;      // [n, dim]
    std::vector<double> norm2;  // |x_i|^2

    point_set() = default;
    template <class T>
    explicit point_set(const tensor<T>& features)
        : n(features.shape(0)), dim(features.shape(1)), x(features.begin(), features.end()), norm2(n, 0.0) {
        for (std::size_t i = 0; i < n; ++i) {
            double s = 0.0;
            for (std::size_t j = 0; j < dim; ++j) s += x[i * dim + j] * x[i * dim + j];
            norm2[i] = s;
        }
    }
};

namespace detail {

/// Calls visit(row, d2_row, worker) for every row of `a` with the squared distances from a_row to
/// every point of `b` (b.n values, clamped at 0), row blocks spread over the pool's workers.
template <class Visit>
void for_each_distance_row(const point_set& a, const point_set& b, std::size_t block, thread_pool& pool, Visit&& visit) {
    if (a.dim != b.dim)
        throw std::invalid_argument("gant: feature sizes differ (" + std::to_string(a.dim) + " and " +
                                    std::to_string(b.dim) + ")");
    block = std::max<std::size_t>(block, 1);
    const std::size_t blocks = (a.n + block - 1) / block, d = a.dim;
    pool.parallel_for(blocks, [&](std::size_t first_block, std::size_t last_block, std::size_t worker) {
        std::vector<double> dots(block * b.n);
        for (std::size_t blk = first_block; blk < last_block; ++blk) {
            const std::size_t row0 = blk * block, rows = std::min(block, a.n - row0);
            blas::gemm(blas::op::none, blas::op::transpose, rows, b.n, d, -2.0, a.x.data() + row0 * d, d, b.x.data(), d,
                       0.0, dots.data(), b.n);
            for (std::size_t r = 0; r < rows; ++r) {
                double* row = dots.data() + r * b.n;
                const double na = a.norm2[row0 + r];
                for (std::size_t j = 0; j < b.n; ++j) row[j] = std::max(row[j] + na + b.norm2[j], 0.0);
                visit(row0 + r, static_cast<const double*>(row), worker);
            }
        }
    });
}

}  // namespace detail

/// Squared distance from each point of `a` to its k-th nearest other point of `a`, for each k in
/// `ks` (each 1 <= k < a.n): result[q][i] for ks[q].
inline std::vector<std::vector<double>> knn_radii2(const point_set& a, const std::vector<std::size_t>& ks,
                                                   std::size_t block = 128, thread_pool& pool = default_pool()) {
    std::size_t kmax = 0;
    for (const auto k : ks) {
        if (k == 0 || k > 64)
            throw std::invalid_argument("gant: nearest-neighbour radii support k from 1 to 64, got " + std::to_string(k));
        if (k >= a.n)
            throw std::invalid_argument("gant: a " + std::to_string(k) + "-nearest-neighbour radius needs more than " +
                                        std::to_string(k) + " points, got " + std::to_string(a.n));
        kmax = std::max(kmax, k);
    }
    std::vector<std::vector<double>> out(ks.size(), std::vector<double>(a.n));
    detail::for_each_distance_row(a, a, block, pool, [&](std::size_t i, const double* d2, std::size_t) {
        // The kmax smallest distances to other points, ascending (insertion into a short list).
        double best[64];
        std::size_t have = 0;
        const std::size_t keep = kmax;
        for (std::size_t j = 0; j < a.n; ++j) {
            if (j == i) continue;
            const double v = d2[j];
            if (have == keep && v >= best[keep - 1]) continue;
            std::size_t p = have < keep ? have++ : keep - 1;
            while (p > 0 && best[p - 1] > v) {
                best[p] = best[p - 1];
                --p;
            }
            best[p] = v;
        }
        for (std::size_t q = 0; q < ks.size(); ++q) out[q][i] = best[ks[q] - 1];
    });
    return out;
}

/// The real set with the radii the four metrics need, computed once and reused for every
/// generated set scored against it.
struct prdc_reference {
    point_set real;
    std::vector<double> radius_pr2, radius_dc2;  // squared r_k for k = precision/recall and density/coverage
    prdc_options options;

    prdc_reference() = default;
    template <class T>
    prdc_reference(const tensor<T>& real_features, const prdc_options& o = {}, thread_pool& pool = default_pool())
        : real(real_features), options(o) {
        auto r = knn_radii2(real, {o.k_precision_recall, o.k_density_coverage}, o.block, pool);
        radius_pr2 = std::move(r[0]);
        radius_dc2 = std::move(r[1]);
    }
};

/// Precision, recall, density and coverage of `fake` features against a prepared real set.
template <class T>
prdc_result prdc(const prdc_reference& ref, const tensor<T>& fake, thread_pool& pool = default_pool()) {
    const point_set g(fake);
    const prdc_options& o = ref.options;
    if (g.dim != ref.real.dim)
        throw std::invalid_argument("gant: prdc: feature sizes differ (" + std::to_string(ref.real.dim) + " and " +
                                    std::to_string(g.dim) + ")");
    const std::vector<double> fake_pr2 = knn_radii2(g, {o.k_precision_recall}, o.block, pool)[0];
    const std::size_t n = ref.real.n, m = g.n;
    // Per worker: which fakes some real ball holds, and how many (real, fake) pairs fall in the
    // density balls. Per real row (each row visited once): recalled and covered.
    const std::size_t workers = pool.size();
    std::vector<std::vector<std::uint8_t>> precise(workers, std::vector<std::uint8_t>(m, 0));
    std::vector<std::uint64_t> inside(workers, 0);
    std::vector<std::uint8_t> recalled(n, 0), covered(n, 0);
    detail::for_each_distance_row(ref.real, g, o.block, pool, [&](std::size_t i, const double* d2, std::size_t w) {
        const double rp = ref.radius_pr2[i], rd = ref.radius_dc2[i];
        std::uint8_t* pre = precise[w].data();
        std::uint64_t count = 0;
        bool rec = false;
        for (std::size_t j = 0; j < m; ++j) {
            const double v = d2[j];
            pre[j] |= static_cast<std::uint8_t>(v < rp);
            rec |= v < fake_pr2[j];
            count += v < rd;
        }
        recalled[i] = rec;
        covered[i] = count > 0;
        inside[w] += count;
    });
    std::size_t n_precise = 0, n_recalled = 0, n_covered = 0;
    std::uint64_t n_inside = 0;
    for (std::size_t j = 0; j < m; ++j) {
        std::uint8_t any = 0;
        for (std::size_t w = 0; w < workers; ++w) any |= precise[w][j];
        n_precise += any;
    }
    for (std::size_t i = 0; i < n; ++i) {
        n_recalled += recalled[i];
        n_covered += covered[i];
    }
    for (const auto c : inside) n_inside += c;
    prdc_result out;
    out.precision = double(n_precise) / double(m);
    out.recall = double(n_recalled) / double(n);
    out.density = double(n_inside) / (double(o.k_density_coverage) * double(m));
    out.coverage = double(n_covered) / double(n);
    return out;
}

/// Convenience: all four metrics of `fake` against `real` features.
template <class T>
prdc_result prdc(const tensor<T>& real, const tensor<T>& fake, const prdc_options& o = {},
                 thread_pool& pool = default_pool()) {
    return prdc(prdc_reference(real, o, pool), fake, pool);
}

}  // namespace gant::metrics
