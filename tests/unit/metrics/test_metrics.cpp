#define BOOST_TEST_MODULE gant_metrics
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/threads.hpp"
#include "gant/metrics/classifier_score.hpp"
#include "gant/metrics/cross_entropy.hpp"
#include "gant/metrics/frechet.hpp"
#include "gant/metrics/kid.hpp"
#include "gant/metrics/linalg.hpp"
#include "gant/metrics/prdc.hpp"

using namespace gant;
using namespace gant::metrics;

namespace {

/// n x d draws of mean[j] + stddev[j] * N(0, 1).
tensor<double> gaussian_samples(std::size_t n, const std::vector<double>& mean, const std::vector<double>& stddev,
                                rng& r) {
    const std::size_t d = mean.size();
    tensor<double> x = tensor<double>::from_shape({n, d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) x(i, j) = mean[j] + stddev[j] * r.normal();
    return x;
}

tensor<double> random_matrix(std::size_t n, std::size_t d, rng& r, double scale = 1.0) {
    tensor<double> x = tensor<double>::from_shape({n, d});
    for (auto& v : x) v = scale * r.normal();
    return x;
}

/// A random orthogonal d x d matrix (Gram-Schmidt on Gaussian columns), row-major.
std::vector<double> random_orthogonal(std::size_t d, rng& r) {
    std::vector<double> q(d * d);
    for (auto& v : q) v = r.normal();
    for (std::size_t k = 0; k < d; ++k) {  // rows are the vectors
        for (std::size_t p = 0; p < k; ++p) {
            double dot = 0;
            for (std::size_t i = 0; i < d; ++i) dot += q[k * d + i] * q[p * d + i];
            for (std::size_t i = 0; i < d; ++i) q[k * d + i] -= dot * q[p * d + i];
        }
        double norm = 0;
        for (std::size_t i = 0; i < d; ++i) norm += q[k * d + i] * q[k * d + i];
        for (std::size_t i = 0; i < d; ++i) q[k * d + i] /= std::sqrt(norm);
    }
    return q;
}

/// Q^T diag(l) Q for row-orthonormal Q.
std::vector<double> with_spectrum(const std::vector<double>& q, const std::vector<double>& l) {
    const std::size_t d = l.size();
    std::vector<double> a(d * d, 0.0);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j)
            for (std::size_t k = 0; k < d; ++k) a[i * d + j] += q[k * d + i] * l[k] * q[k * d + j];
    return a;
}

gaussian_fit make_fit(std::vector<double> mean, std::vector<double> cov) {
    gaussian_fit g;
    g.dim = mean.size();
    g.n = 1000;
    g.mean = std::move(mean);
    g.cov = std::move(cov);
    return g;
}

std::vector<double> diagonal(const std::vector<double>& v) {
    std::vector<double> m(v.size() * v.size(), 0.0);
    for (std::size_t i = 0; i < v.size(); ++i) m[i * v.size() + i] = v[i];
    return m;
}

tensor<double> column(const std::vector<double>& v) {
    tensor<double> x = tensor<double>::from_shape({v.size(), 1});
    for (std::size_t i = 0; i < v.size(); ++i) x(i, 0) = v[i];
    return x;
}

}  // namespace

// ---- linear algebra ----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(linear_algebra)

BOOST_AUTO_TEST_CASE(eigendecomposition_recovers_a_known_spectrum) {
    rng r(3);
    const std::size_t d = 7;
    const std::vector<double> l{-2.5, -0.25, 0.0, 0.5, 1.0, 3.0, 11.0};
    const auto q = random_orthogonal(d, r);
    const auto a = with_spectrum(q, l);
    auto v = a;
    const auto w = linalg::symmetric_eigen(v, d);
    for (std::size_t k = 0; k < d; ++k) BOOST_TEST(w[k] == l[k], boost::test_tools::tolerance(1e-12));
    // A v_k = l_k v_k for each returned row v_k, and |v_k| = 1.
    for (std::size_t k = 0; k < d; ++k) {
        double norm = 0, residual = 0;
        for (std::size_t i = 0; i < d; ++i) {
            double av = 0;
            for (std::size_t j = 0; j < d; ++j) av += a[i * d + j] * v[k * d + j];
            residual = std::max(residual, std::abs(av - w[k] * v[k * d + i]));
            norm += v[k * d + i] * v[k * d + i];
        }
        BOOST_TEST(residual < 1e-12);
        BOOST_TEST(norm == 1.0, boost::test_tools::tolerance(1e-12));
    }
}

BOOST_AUTO_TEST_CASE(psd_square_root_squares_back_and_clamps_negative_round_off) {
    rng r(4);
    const std::size_t d = 5;
    const auto q = random_orthogonal(d, r);
    const auto a = with_spectrum(q, {0.0, 0.04, 1.0, 2.25, 9.0});
    const auto s = linalg::psd_sqrt(a, d);
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            double ss = 0;
            for (std::size_t k = 0; k < d; ++k) ss += s[i * d + k] * s[k * d + j];
            BOOST_TEST(std::abs(ss - a[i * d + j]) < 1e-12);
            BOOST_TEST(s[i * d + j] == s[j * d + i]);
        }
    // A tiny negative eigenvalue (a covariance's round-off) is treated as zero, not NaN.
    const auto b = with_spectrum(q, {-1e-14, 1.0, 1.0, 4.0, 4.0});
    for (const double v : linalg::psd_sqrt(b, d)) BOOST_TEST(std::isfinite(v));
}

BOOST_AUTO_TEST_CASE(size_mismatch_is_refused) {
    std::vector<double> a(5);
    BOOST_CHECK_THROW(linalg::symmetric_eigen(a, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- Fréchet distance ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(frechet)

BOOST_AUTO_TEST_CASE(fit_uses_the_unbiased_covariance) {
    // Rows (1, 2), (3, 2), (5, 8): mean (3, 4); deviations (-2,-2), (0,-2), (2,4);
    // cov = [[8, 12], [12, 24]] / (3 - 1).
    tensor<double> x = {{1.0, 2.0}, {3.0, 2.0}, {5.0, 8.0}};
    const auto g = fit_gaussian(x);
    BOOST_TEST(g.n == 3u);
    BOOST_TEST(g.mean[0] == 3.0);
    BOOST_TEST(g.mean[1] == 4.0);
    BOOST_TEST(g.cov[0] == 4.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g.cov[1] == 6.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g.cov[2] == 6.0, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g.cov[3] == 12.0, boost::test_tools::tolerance(1e-14));
    BOOST_CHECK_THROW(fit_gaussian(tensor<double>{{1.0, 2.0}}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(zero_for_identical_sets) {
    rng r(5);
    const auto x = random_matrix(301, 13, r, 2.0);
    const auto g = fit_gaussian(x);
    double trace = 0;
    for (std::size_t j = 0; j < 13; ++j) trace += g.cov[j * 13 + j];
    const double fd = frechet_distance(x, x);
    BOOST_TEST(std::abs(fd) < 1e-10 * trace);
    // Also with fewer samples than dimensions (a singular covariance): the zero eigenvalues come
    // back as +-1e-16 * trace, whose square roots leave ~1e-8 per zero eigenvalue.
    const auto y = random_matrix(9, 13, r);
    BOOST_TEST(std::abs(frechet_distance(y, y)) < 1e-6);
}

BOOST_AUTO_TEST_CASE(closed_form_for_diagonal_gaussians) {
    // FD = |mu1 - mu2|^2 + sum_j (s1 + s2 - 2 sqrt(s1 s2)), s = variances.
    const std::vector<double> m1{0.0, 1.0, -2.0, 0.5, 3.0}, m2{1.0, 1.0, 0.0, -0.5, 3.0};
    const std::vector<double> s1{1.0, 4.0, 0.25, 2.0, 0.0}, s2{9.0, 1.0, 0.25, 0.5, 3.0};
    double expected = 0;
    for (std::size_t j = 0; j < 5; ++j)
        expected += (m1[j] - m2[j]) * (m1[j] - m2[j]) + s1[j] + s2[j] - 2 * std::sqrt(s1[j] * s2[j]);
    const double fd = frechet_distance(make_fit(m1, diagonal(s1)), make_fit(m2, diagonal(s2)));
    BOOST_TEST(fd == expected, boost::test_tools::tolerance(1e-12));
    // The same Gaussians in a rotated basis (co-diagonal, so still the closed form). One variance is
    // 0, so one eigenvalue of A is round-off whose square root (~1e-8) limits the agreement.
    rng r(6);
    const auto q = random_orthogonal(5, r);
    auto rotate = [&](const std::vector<double>& m) {
        std::vector<double> out(5, 0.0);
        for (std::size_t i = 0; i < 5; ++i)
            for (std::size_t k = 0; k < 5; ++k) out[i] += q[k * 5 + i] * m[k];
        return out;
    };
    const double rotated =
        frechet_distance(make_fit(rotate(m1), with_spectrum(q, s1)), make_fit(rotate(m2), with_spectrum(q, s2)));
    BOOST_TEST(rotated == expected, boost::test_tools::tolerance(1e-7));
}

BOOST_AUTO_TEST_CASE(closed_form_for_non_commuting_2x2_covariances) {
    // For 2x2 PSD A, B: Tr sqrt(AB) = sqrt(Tr(AB) + 2 sqrt(det(AB))), since the eigenvalues of AB
    // are real and non-negative: (sqrt l1 + sqrt l2)^2 = l1 + l2 + 2 sqrt(l1 l2).
    const std::vector<double> a{2.0, 0.7, 0.7, 1.0}, b{0.5, -0.3, -0.3, 3.0};
    const double ab00 = a[0] * b[0] + a[1] * b[2], ab11 = a[2] * b[1] + a[3] * b[3];
    const double det = (a[0] * a[3] - a[1] * a[2]) * (b[0] * b[3] - b[1] * b[2]);
    const double tr_sqrt = std::sqrt(ab00 + ab11 + 2 * std::sqrt(det));
    const double expected = 1.0 * 1.0 + 0.5 * 0.5 + (a[0] + a[3]) + (b[0] + b[3]) - 2 * tr_sqrt;
    const double fd = frechet_distance(make_fit({1.0, 0.0}, a), make_fit({0.0, 0.5}, b));
    BOOST_TEST(fd == expected, boost::test_tools::tolerance(1e-12));
    // Symmetric in its arguments.
    BOOST_TEST(frechet_distance(make_fit({0.0, 0.5}, b), make_fit({1.0, 0.0}, a)) == expected,
               boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(sample_sets_match_the_closed_form_of_their_own_moments) {
    // One dimension: FD of two sample sets = (m1 - m2)^2 + (sqrt v1 - sqrt v2)^2 with the sample
    // means and the N - 1 sample variances.
    const auto x = column({0.0, 1.0, 2.0, 3.0, 7.0}), y = column({-1.0, 4.0, 4.5});
    auto moments = [](const tensor<double>& t) {
        const std::size_t n = t.shape(0);
        double m = 0, v = 0;
        for (std::size_t i = 0; i < n; ++i) m += t(i, 0);
        m /= double(n);
        for (std::size_t i = 0; i < n; ++i) v += (t(i, 0) - m) * (t(i, 0) - m);
        return std::pair{m, v / double(n - 1)};
    };
    const auto [m1, v1] = moments(x);
    const auto [m2, v2] = moments(y);
    const double expected = (m1 - m2) * (m1 - m2) + (std::sqrt(v1) - std::sqrt(v2)) * (std::sqrt(v1) - std::sqrt(v2));
    BOOST_TEST(frechet_distance(x, y) == expected, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(samples_of_known_gaussians_approach_the_closed_form) {
    rng r(7);
    const std::vector<double> m1{0.0, 1.0, 2.0}, m2{0.5, 1.0, 1.0}, s1{1.0, 2.0, 0.5}, s2{1.5, 1.0, 0.5};
    double expected = 0;
    for (std::size_t j = 0; j < 3; ++j) expected += (m1[j] - m2[j]) * (m1[j] - m2[j]) + (s1[j] - s2[j]) * (s1[j] - s2[j]);
    const double fd = frechet_distance(gaussian_samples(40000, m1, s1, r), gaussian_samples(40000, m2, s2, r));
    BOOST_TEST(fd == expected, boost::test_tools::tolerance(0.03));
}

BOOST_AUTO_TEST_CASE(invariant_to_the_order_of_samples) {
    rng r(8);
    const auto x = random_matrix(203, 11, r), y = random_matrix(157, 11, r, 1.5);
    const double fd = frechet_distance(x, y);
    tensor<double> shuffled = x;
    std::vector<std::size_t> order(203);
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
    for (std::size_t i = 0; i < 203; ++i)
        for (std::size_t j = 0; j < 11; ++j) shuffled(i, j) = x(order[i], j);
    BOOST_TEST(frechet_distance(shuffled, y) == fd, boost::test_tools::tolerance(1e-10));
    BOOST_TEST(fd > 1.0);  // the sets really differ (scale 1.5 vs 1)
}

BOOST_AUTO_TEST_CASE(dimension_mismatch_is_refused) {
    rng r(9);
    BOOST_CHECK_THROW(frechet_distance(random_matrix(10, 3, r), random_matrix(10, 4, r)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- KID -----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(kid)

/// The unbiased MMD^2 of the whole sets by direct loops.
double brute_force_mmd2(const tensor<double>& x, const tensor<double>& y) {
    const std::size_t m = x.shape(0), n = y.shape(0), d = x.shape(1);
    auto k = [&](const tensor<double>& a, std::size_t i, const tensor<double>& b, std::size_t j) {
        double dot = 0;
        for (std::size_t c = 0; c < d; ++c) dot += a(i, c) * b(j, c);
        return std::pow(dot / double(d) + 1.0, 3);
    };
    double xx = 0, yy = 0, xy = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j)
            if (i != j) xx += k(x, i, x, j);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            if (i != j) yy += k(y, i, y, j);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) xy += k(x, i, y, j);
    return xx / double(m * (m - 1)) + yy / double(n * (n - 1)) - 2 * xy / double(m * n);
}

BOOST_AUTO_TEST_CASE(one_full_subset_equals_the_unbiased_estimator) {
    rng r(10);
    const auto x = random_matrix(37, 6, r), y = random_matrix(37, 6, r, 1.3);
    kid_options o;
    o.subsets = 3;       // every subset is the whole set, drawn in another order
    o.subset_size = 50;  // larger than the sets: clipped to 37
    const auto k = kernel_inception_distance(x, y, o);
    BOOST_TEST(k.subset_size == 37u);
    BOOST_TEST(k.mean == brute_force_mmd2(x, y), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(k.stddev < 1e-12);
}

BOOST_AUTO_TEST_CASE(near_zero_for_two_halves_positive_when_shifted) {
    rng r(11);
    const std::size_t d = 16;
    const std::vector<double> zero(d, 0.0), one(d, 1.0), shift(d, 0.3);
    const auto a = gaussian_samples(3000, zero, one, r), b = gaussian_samples(3000, zero, one, r);
    const auto c = gaussian_samples(3000, shift, one, r);
    kid_options o;
    o.subsets = 50;
    o.subset_size = 1000;
    const auto same = kernel_inception_distance(a, b, o);
    const auto shifted = kernel_inception_distance(a, c, o);
    BOOST_TEST_MESSAGE("KID same " << same.mean << " +- " << same.stddev << ", shifted " << shifted.mean);
    BOOST_TEST(shifted.mean > 0.0);
    BOOST_TEST(shifted.mean > 10 * std::abs(same.mean));
    BOOST_TEST(std::abs(same.mean) < 3 * same.stddev);  // compatible with zero
}

BOOST_AUTO_TEST_CASE(seeded_and_independent_of_the_thread_count) {
    rng r(12);
    const auto x = random_matrix(300, 5, r), y = random_matrix(250, 5, r, 0.8);
    kid_options o;
    o.subsets = 9;
    o.subset_size = 100;
    o.seed = 4;
    thread_pool one(1), three(3);
    const auto a = kernel_inception_distance(x, y, o, one);
    const auto b = kernel_inception_distance(x, y, o, three);
    BOOST_TEST(a.mean == b.mean);
    BOOST_TEST(a.stddev == b.stddev);
    o.seed = 5;
    BOOST_TEST(kernel_inception_distance(x, y, o, one).mean != a.mean);
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_refused) {
    rng r(13);
    BOOST_CHECK_THROW(kernel_inception_distance(random_matrix(10, 3, r), random_matrix(10, 4, r)), std::invalid_argument);
    BOOST_CHECK_THROW(kernel_inception_distance(random_matrix(1, 3, r), random_matrix(10, 3, r)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- precision, recall, density, coverage --------------------------------------------------------

BOOST_AUTO_TEST_SUITE(prdc_metrics)

BOOST_AUTO_TEST_CASE(hand_checked_points_on_a_line) {
    // Real: 0 1 3 7 30 31 100 101; fake: -1 0.5 2 12. k = 1 for precision/recall, 2 for
    // density/coverage. Real radii r1 = 1 1 2 4 1 1 1 1, r2 = 3 2 3 6 23 24 69 70; fake r1 =
    // 1.5 1.5 1.5 10.
    //   precision: 0.5 (in B(0,1)), 2 (in B(3,2)); not -1 (|-1-0| = 1 is not < 1), not 12 -> 2/4
    //   recall: 0 (B(-1,1.5)), 1 (B(0.5,1.5)), 3 (B(2,1.5)), 7 (B(12,10)) -> 4/8
    //   density: pairs inside real r2-balls: -1: 1 (0; |-1-1| = 2 is not < 2); 0.5: 3; 2: 4; 12: 3
    //            (7, 30, 31) -> 11 / (2 * 4)
    //   coverage: all but 100 and 101 -> 6/8
    const auto real = column({0, 1, 3, 7, 30, 31, 100, 101}), fake = column({-1, 0.5, 2, 12});
    prdc_options o;
    o.k_precision_recall = 1;
    o.k_density_coverage = 2;
    o.block = 3;  // several blocks, one partial
    const auto p = prdc(real, fake, o);
    BOOST_TEST(p.precision == 0.5);
    BOOST_TEST(p.recall == 0.5);
    BOOST_TEST(p.density == 11.0 / 8.0);
    BOOST_TEST(p.coverage == 0.75);
    const prdc_reference ref(real, o);
    const std::vector<double> r2{3, 2, 3, 6, 23, 24, 69, 70};
    for (std::size_t i = 0; i < 8; ++i) BOOST_TEST(ref.radius_dc2[i] == r2[i] * r2[i]);
}

/// prdc.py semantics by direct loops: Euclidean distances, k-th neighbour excluding self, strict <.
prdc_result brute_force_prdc(const tensor<double>& real, const tensor<double>& fake, std::size_t kpr, std::size_t kdc) {
    const std::size_t n = real.shape(0), m = fake.shape(0), d = real.shape(1);
    auto dist = [&](const tensor<double>& a, std::size_t i, const tensor<double>& b, std::size_t j) {
        double s = 0;
        for (std::size_t c = 0; c < d; ++c) s += (a(i, c) - b(j, c)) * (a(i, c) - b(j, c));
        return std::sqrt(s);
    };
    auto radius = [&](const tensor<double>& a, std::size_t i, std::size_t k) {
        std::vector<double> ds;
        for (std::size_t j = 0; j < a.shape(0); ++j)
            if (j != i) ds.push_back(dist(a, i, a, j));
        std::sort(ds.begin(), ds.end());
        return ds[k - 1];
    };
    std::vector<double> rr_pr(n), rr_dc(n), rf_pr(m);
    for (std::size_t i = 0; i < n; ++i) rr_pr[i] = radius(real, i, kpr), rr_dc[i] = radius(real, i, kdc);
    for (std::size_t j = 0; j < m; ++j) rf_pr[j] = radius(fake, j, kpr);
    prdc_result out;
    std::size_t precise = 0, recalled = 0, covered = 0, inside = 0;
    for (std::size_t j = 0; j < m; ++j) {
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) any |= dist(real, i, fake, j) < rr_pr[i];
        precise += any;
    }
    for (std::size_t i = 0; i < n; ++i) {
        bool rec = false, cov = false;
        for (std::size_t j = 0; j < m; ++j) {
            const double v = dist(real, i, fake, j);
            rec |= v < rf_pr[j];
            cov |= v < rr_dc[i];
            inside += v < rr_dc[i];
        }
        recalled += rec;
        covered += cov;
    }
    out.precision = double(precise) / double(m);
    out.recall = double(recalled) / double(n);
    out.density = double(inside) / double(kdc * m);
    out.coverage = double(covered) / double(n);
    return out;
}

BOOST_AUTO_TEST_CASE(matches_direct_loops_on_random_sets) {
    rng r(14);
    const auto real = random_matrix(97, 7, r), fake = random_matrix(61, 7, r, 1.4);
    const auto expected = brute_force_prdc(real, fake, 3, 5);
    thread_pool pool(2);
    prdc_options o;
    o.block = 16;
    const auto p = prdc(real, fake, o, pool);
    BOOST_TEST(p.precision == expected.precision);
    BOOST_TEST(p.recall == expected.recall);
    BOOST_TEST(p.density == expected.density);
    BOOST_TEST(p.coverage == expected.coverage);
    // The sets differ, so none of the four is trivially 0 or 1.
    BOOST_TEST(p.precision < 1.0);
    BOOST_TEST(p.recall < 1.0);
    BOOST_TEST(p.coverage > 0.0);
}

BOOST_AUTO_TEST_CASE(identical_sets_are_fully_precise_and_covered) {
    rng r(15);
    const auto x = random_matrix(80, 4, r);
    const auto p = prdc(x, x);
    // Every point sits at distance 0 < r_k of its own ball.
    BOOST_TEST(p.precision == 1.0);
    BOOST_TEST(p.recall == 1.0);
    BOOST_TEST(p.coverage == 1.0);
    BOOST_TEST(p.density >= 1.0);
}

BOOST_AUTO_TEST_CASE(too_few_points_are_refused) {
    rng r(16);
    BOOST_CHECK_THROW(prdc(random_matrix(5, 3, r), random_matrix(20, 3, r)), std::invalid_argument);  // k = 5
    BOOST_CHECK_THROW(prdc(random_matrix(20, 3, r), random_matrix(3, 3, r)), std::invalid_argument);  // k = 3
}

BOOST_AUTO_TEST_SUITE_END()

// ---- classifier score and the loss ---------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(softmax_metrics)

BOOST_AUTO_TEST_CASE(classifier_score_of_known_distributions) {
    // Half the images p = (a, 1-a), half (1-a, a): p(y) = (1/2, 1/2) and
    // score = exp(a ln 2a + (1-a) ln 2(1-a)).
    const double a = 0.9, z = std::log(a / (1 - a));
    tensor<double> logits = tensor<double>::from_shape({6, 2});
    for (std::size_t i = 0; i < 6; ++i) {
        logits(i, 0) = i % 2 ? z : 0.0;
        logits(i, 1) = i % 2 ? 0.0 : z;
    }
    const auto s = classifier_statistics(logits);
    BOOST_TEST(s.score == std::exp(a * std::log(2 * a) + (1 - a) * std::log(2 * (1 - a))),
               boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.histogram == (std::vector<std::size_t>{3, 3}), boost::test_tools::per_element());
    BOOST_TEST(s.entropy == std::log(2.0), boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(confident_balanced_is_ten_and_collapsed_is_one) {
    tensor<float> balanced = xt::zeros<float>({50, 10}), collapsed = xt::zeros<float>({50, 10});
    for (std::size_t i = 0; i < 50; ++i) {
        balanced(i, i % 10) = 60.0f;
        collapsed(i, 3) = 60.0f;
    }
    const auto b = classifier_statistics(balanced), c = classifier_statistics(collapsed);
    BOOST_TEST(b.score == 10.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(b.entropy == std::log(10.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(c.score == 1.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(c.entropy == 0.0);
    BOOST_TEST(c.histogram[3] == 50u);
    // Splits: 5 parts of 10 balanced images each score 10, std 0.
    const auto split = classifier_statistics(balanced, 5);
    BOOST_TEST(split.score == 10.0, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(split.score_stddev < 1e-9);
    BOOST_CHECK_THROW(classifier_statistics(balanced, 51), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cross_entropy_value_and_gradient_against_finite_differences) {
    rng r(17);
    const std::size_t n = 5, classes = 7;
    tensor<double> logits = random_matrix(n, classes, r, 2.0);
    const std::vector<std::uint8_t> labels{0, 6, 3, 3, 1};
    tensor<double> grad;
    const double loss = softmax_cross_entropy(logits, labels, &grad);
    // Value: -mean log softmax.
    double expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t c = 0; c < classes; ++c) s += std::exp(logits(i, c));
        expected -= std::log(std::exp(logits(i, labels[i])) / s);
    }
    BOOST_TEST(loss == expected / n, boost::test_tools::tolerance(1e-13));
    // Gradient: central differences on every entry.
    const double h = 1e-5;
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < classes; ++c) {
            tensor<double> up = logits, down = logits;
            up(i, c) += h;
            down(i, c) -= h;
            const double fd = (softmax_cross_entropy(up, labels) - softmax_cross_entropy(down, labels)) / (2 * h);
            diff += (fd - grad(i, c)) * (fd - grad(i, c));
            norm += fd * fd;
        }
    BOOST_TEST(std::sqrt(diff / norm) < 1e-8);
    // Large logits do not overflow.
    tensor<double> big = {{1000.0, 0.0, -1000.0}};
    const std::vector<std::uint8_t> first{0}, last{2};
    BOOST_TEST(softmax_cross_entropy(big, first) == 0.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(softmax_cross_entropy(big, last) == 2000.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(cross_entropy_refuses_bad_labels) {
    tensor<float> logits = xt::zeros<float>({2, 3});
    const std::vector<std::uint8_t> out_of_range{0, 3}, too_few{0};
    BOOST_CHECK_THROW(softmax_cross_entropy(logits, out_of_range), std::invalid_argument);
    BOOST_CHECK_THROW(softmax_cross_entropy(logits, too_few), std::invalid_argument);
    const std::vector<std::uint8_t> ok{0, 2};
    BOOST_TEST(softmax_cross_entropy(logits, ok) == std::log(3.0), boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_SUITE_END()
