#define BOOST_TEST_MODULE gant_mixtures
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <numbers>

#include "gant/data/mixtures.hpp"

using namespace gant;
using namespace gant::data;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(benchmarks)

BOOST_AUTO_TEST_CASE(ring_of_eight_matches_veegan_pacgan) {
    const auto m = ring_mixture();
    BOOST_TEST(m.modes() == 8u);
    BOOST_TEST(m.stddev == 0.01);
    for (std::size_t i = 0; i < 8; ++i) {
        const double a = 2.0 * std::numbers::pi * static_cast<double>(i) / 8.0;
        BOOST_TEST(m.means[i][0] == std::cos(a), tt::tolerance(1e-15));
        BOOST_TEST(m.means[i][1] == std::sin(a), tt::tolerance(1e-15));
        BOOST_TEST(std::hypot(m.means[i][0], m.means[i][1]) == 1.0, tt::tolerance(1e-15));
    }
    BOOST_TEST(m.means[0][0] == 1.0);
    BOOST_TEST(m.means[0][1] == 0.0);
}

BOOST_AUTO_TEST_CASE(grid_of_twentyfive_matches_veegan_pacgan) {
    const auto m = grid_mixture();
    BOOST_TEST(m.modes() == 25u);
    BOOST_TEST(m.stddev == 0.05);
    const double coords[] = {-4, -2, 0, 2, 4};
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 5; ++j) {
            BOOST_TEST(m.means[i * 5 + j][0] == coords[i]);
            BOOST_TEST(m.means[i * 5 + j][1] == coords[j]);
        }
}

BOOST_AUTO_TEST_CASE(sampling_is_deterministic_and_fills_in_place) {
    const auto m = grid_mixture();
    tensor<float> a = tensor<float>::from_shape({101, 2}), b = tensor<float>::from_shape({101, 2});
    const float* storage = a.data();
    rng r1(11), r2(11), r3(12);
    m.sample(a, r1);
    m.sample(b, r2);
    BOOST_TEST(a.data() == storage);
    BOOST_TEST(a == b);
    m.sample(b, r3);
    BOOST_TEST(!(a == b));
    tensor<float> wrong = tensor<float>::from_shape({4, 3});
    BOOST_CHECK_THROW(m.sample(wrong, r1), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(metrics)

template <class T>
void check_true_distribution(const gaussian_mixture_2d& m, std::uint64_t seed) {
    tensor<T> s = tensor<T>::from_shape({2500, 2});
    rng r(seed);
    m.sample(s, r);
    const auto q = evaluate_modes(m, s);
    BOOST_TEST_MESSAGE(m.modes() << " modes: covered " << q.modes_covered << ", HQ " << q.high_quality_fraction
                                 << ", rKL " << q.reverse_kl);
    BOOST_TEST(q.modes_covered == m.modes());
    // For a 2-D Gaussian P(d < 3) = 1 - exp(-9/2) = 0.98889 (the 99.7% of the brief is the 1-D
    // figure); 2500 draws put the fraction within ~4 standard errors (0.0021) of it.
    BOOST_TEST(q.high_quality_fraction == 1.0 - std::exp(-4.5), tt::tolerance(0.01));
    BOOST_TEST(q.high_quality_fraction > 0.98);
    // The histogram of 2500 uniform draws is close to flat: E[KL] ~ (K - 1) / (2 N).
    BOOST_TEST(q.reverse_kl >= 0.0);
    BOOST_TEST(q.reverse_kl < 0.02);
    std::size_t total = 0;
    for (auto c : q.counts) total += c;
    BOOST_TEST(static_cast<double>(total) / 2500.0 == q.high_quality_fraction);
}

BOOST_AUTO_TEST_CASE(true_ring_covers_all_modes) { check_true_distribution<double>(ring_mixture(), 1); }
BOOST_AUTO_TEST_CASE(true_grid_covers_all_modes) { check_true_distribution<float>(grid_mixture(), 2); }

BOOST_AUTO_TEST_CASE(collapsed_sampler_scores_one_mode_and_log_k) {
    for (const auto& m : {ring_mixture(), grid_mixture()}) {
        tensor<double> s = tensor<double>::from_shape({2500, 2});
        rng r(5);
        const auto& mu = m.means[3];
        for (std::size_t i = 0; i < 2500; ++i) {
            s(i, 0) = mu[0] + m.stddev * 0.5 * r.normal();
            s(i, 1) = mu[1] + m.stddev * 0.5 * r.normal();
        }
        const auto q = evaluate_modes(m, s);
        BOOST_TEST(q.modes_covered == 1u);
        BOOST_TEST(q.counts[3] > 2400u);
        BOOST_TEST(q.reverse_kl == std::log(static_cast<double>(m.modes())), tt::tolerance(1e-12));
    }
}

BOOST_AUTO_TEST_CASE(points_far_from_every_mode_are_never_high_quality) {
    tensor<double> s = tensor<double>::from_shape({50, 2});
    for (std::size_t i = 0; i < 50; ++i) {
        s(i, 0) = 10.0 + static_cast<double>(i);
        s(i, 1) = -10.0;
    }
    for (const auto& m : {ring_mixture(), grid_mixture()}) {
        const auto q = evaluate_modes(m, s);
        BOOST_TEST(q.modes_covered == 0u);
        BOOST_TEST(q.high_quality_fraction == 0.0);
        BOOST_TEST(std::isnan(q.reverse_kl));  // the histogram is empty: p_hat does not exist
    }
}

BOOST_AUTO_TEST_CASE(hand_checked_small_case) {
    // Ring of 8, std 0.01. Samples:
    //   (1.02, 0)      d = 2   -> HQ, mode 0
    //   (1.029, 0)     d = 2.9 -> HQ, mode 0
    //   (1.031, 0)     d = 3.1 -> assigned to mode 0, not HQ
    //   (0, 1.01)      d = 1   -> HQ, mode 2
    //   (-1, 0)        d = 0   -> HQ, mode 4
    //   (0.5, 0.5)     far     -> not HQ
    //   (NaN, 0)               -> not HQ
    //   (inf, inf)             -> not HQ
    const auto m = ring_mixture();
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    tensor<double> s = {{1.02, 0.0}, {1.029, 0.0}, {1.031, 0.0}, {0.0, 1.01}, {-1.0, 0.0}, {0.5, 0.5}, {nan, 0.0}, {inf, inf}};
    const auto q = evaluate_modes(m, s);
    BOOST_TEST(q.counts[0] == 2u);
    BOOST_TEST(q.counts[2] == 1u);
    BOOST_TEST(q.counts[4] == 1u);
    BOOST_TEST(q.modes_covered == 3u);
    BOOST_TEST(q.high_quality_fraction == 4.0 / 8.0);
    // p_hat = (1/2, 1/4, 1/4) on 3 of 8 modes: KL = 1/2 log(8/2) + 2 * 1/4 log(8/4) = log 4 / 2 + log 2 / 2.
    BOOST_TEST(q.reverse_kl == 0.5 * std::log(4.0) + 0.5 * std::log(2.0), tt::tolerance(1e-12));
    // The same with a looser threshold: (1.031, 0) now counts.
    const auto loose = evaluate_modes(m, s, 3.2);
    BOOST_TEST(loose.counts[0] == 3u);
}

BOOST_AUTO_TEST_CASE(uniform_histogram_has_zero_reverse_kl) {
    const auto m = grid_mixture();
    tensor<double> s = tensor<double>::from_shape({50, 2});
    for (std::size_t i = 0; i < 50; ++i) {
        s(i, 0) = m.means[i % 25][0] + 0.01;
        s(i, 1) = m.means[i % 25][1];
    }
    const auto q = evaluate_modes(m, s);
    BOOST_TEST(q.modes_covered == 25u);
    BOOST_TEST(q.high_quality_fraction == 1.0);
    BOOST_TEST(std::abs(q.reverse_kl) < 1e-15);
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_refused) {
    const auto m = ring_mixture();
    tensor<double> empty = tensor<double>::from_shape({0, 2});
    BOOST_CHECK_THROW(evaluate_modes(m, empty), std::invalid_argument);
    tensor<double> three = tensor<double>::from_shape({4, 3});
    BOOST_CHECK_THROW(evaluate_modes(m, three), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
