#pragma once
// Kernel Inception Distance (Bińkowski et al. 2018; algorithms.md section 9): the unbiased
// estimate of MMD^2 between real and generated features under the cubic polynomial kernel
//
//   k(x, y) = (x.y / d + 1)^3
//   MMD^2_u = 1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(m(m-1)) sum_{i!=j} k(y_i, y_j) - 2/m^2 sum_{i,j} k(x_i, y_j)
//
// averaged over `subsets` random subsets of m = min(subset_size, n_real, n_fake) rows drawn
// without replacement from each set (the MMD-GAN reference `polynomial_mmd_averages`; 100
// subsets of 1,000 here). Unlike FD it is unbiased in N, so values at different N compare, and it
// can be slightly negative when the two distributions agree. Often reported x 10^3.
//
// Subset s draws its indices from its own random stream (seed, s), and each subset's value is
// computed on its own, so the result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/blas.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/core/threads.hpp"

namespace gant::metrics {

struct kid_options {
    std::size_t subsets = 100;
    std::size_t subset_size = 1000;
    std::uint64_t seed = 0;
};

struct kid_result {
    double mean = 0.0;    // the KID
    double stddev = 0.0;  // spread of the per-subset estimates (population std, as the reference)
    std::size_t subsets = 0, subset_size = 0;
};

namespace detail {

/// Sum of k(a_i, a_j) over i != j for the rows of a ([m, d]): the upper triangle of a a^T
/// (dsyrk), twice. `scratch` holds m*m values.
inline double kernel_sum_within(const double* a, std::size_t m, std::size_t d, std::vector<double>& scratch) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, int(m), int(d), 1.0 / double(d), a, int(d), 0.0,
                scratch.data(), int(m));
    double sum = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        const double* row = scratch.data() + i * m;
        double s = 0.0;
        for (std::size_t j = i + 1; j < m; ++j) {
            const double k = row[j] + 1.0;
            s += k * k * k;
        }
        sum += s;
    }
    return 2.0 * sum;
}

/// Sum of k(a_i, b_j) over all i, j (a, b: [m, d]).
inline double kernel_sum_between(const double* a, const double* b, std::size_t m, std::size_t d,
                                 std::vector<double>& scratch) {
    blas::gemm(blas::op::none, blas::op::transpose, m, m, d, 1.0 / double(d), a, d, b, d, 0.0, scratch.data(), m);
    double sum = 0.0;
    for (std::size_t i = 0; i < m; ++i) {
        const double* row = scratch.data() + i * m;
        double s = 0.0;
        for (std::size_t j = 0; j < m; ++j) {
            const double k = row[j] + 1.0;
            s += k * k * k;
        }
        sum += s;
    }
    return sum;
}

/// The first m entries of a random permutation of 0..n-1 (partial Fisher-Yates).
inline void draw_subset(std::size_t n, std::size_t m, rng& r, std::vector<std::size_t>& order) {
    order.resize(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = 0; i < m; ++i) std::swap(order[i], order[i + r.below(n - i)]);
}

}  // namespace detail

/// KID between two feature sets ([n, d] and [m, d], same d, at least 2 rows each). Uses the pool's
/// threads over subsets; OpenBLAS should be single-threaded meanwhile (gant::set_num_threads).
template <class T>
kid_result kernel_inception_distance(const tensor<T>& real, const tensor<T>& fake, const kid_options& o = {},
                                     thread_pool& pool = default_pool()) {
    const std::size_t nr = real.shape(0), ng = fake.shape(0), d = real.shape(1);
    if (fake.shape(1) != d)
        throw std::invalid_argument("gant: kernel_inception_distance: feature sizes differ (" + std::to_string(d) +
                                    " and " + std::to_string(fake.shape(1)) + ")");
    if (d == 0) throw std::invalid_argument("gant: kernel_inception_distance needs at least one feature");
    const std::size_t m = std::min({o.subset_size, nr, ng});
    if (m < 2) throw std::invalid_argument("gant: kernel_inception_distance needs subsets of at least 2 rows per set");
    if (o.subsets == 0) throw std::invalid_argument("gant: kernel_inception_distance needs at least one subset");
    const std::vector<double> x(real.begin(), real.end()), y(fake.begin(), fake.end());

    std::vector<double> mmd(o.subsets);
    const rng root(o.seed, 0x4B4944);  // "KID"
    const double within = 1.0 / (double(m) * double(m - 1)), between = 2.0 / (double(m) * double(m));
    pool.parallel_for(o.subsets, [&](std::size_t begin, std::size_t end, std::size_t) {
        std::vector<double> xs(m * d), ys(m * d), scratch(m * m);
        std::vector<std::size_t> order;
        for (std::size_t s = begin; s < end; ++s) {
            rng r = root.split(s);
            detail::draw_subset(ng, m, r, order);  // fakes first, as the reference draws them
            for (std::size_t i = 0; i < m; ++i) std::copy_n(y.data() + order[i] * d, d, ys.data() + i * d);
            detail::draw_subset(nr, m, r, order);
            for (std::size_t i = 0; i < m; ++i) std::copy_n(x.data() + order[i] * d, d, xs.data() + i * d);
            const double kxx = detail::kernel_sum_within(xs.data(), m, d, scratch);
            const double kyy = detail::kernel_sum_within(ys.data(), m, d, scratch);
            const double kxy = detail::kernel_sum_between(xs.data(), ys.data(), m, d, scratch);
            mmd[s] = (kxx + kyy) * within - kxy * between;
        }
    });
    kid_result out;
    out.subsets = o.subsets;
    out.subset_size = m;
    for (const double v : mmd) out.mean += v;
    out.mean /= double(o.subsets);
    for (const double v : mmd) out.stddev += (v - out.mean) * (v - out.mean);
    out.stddev = std::sqrt(out.stddev / double(o.subsets));
    return out;
}

}  // namespace gant::metrics
