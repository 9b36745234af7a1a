#pragma once
// The 2-D mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018),
// docs/algorithms.md section 10:
//   ring: 8 Gaussians, means (cos 2pi i/8, sin 2pi i/8) (radius 1), std 0.01
//   grid: 25 Gaussians, means {-4,-2,0,2,4}^2, std 0.05
// and their metrics, computed as PacGAN's MetricLogger does (pacgan/extensions.py): each sample
// goes to the nearest mode by normalised distance d = |x - mu| / sigma; it is *high quality* when
// d < 3; a mode is *covered* when at least one high-quality sample went to it; the *reverse KL* is
// KL(p_hat || uniform) of the histogram of high-quality samples over the modes, with 0 log 0 = 0.
// (With no high-quality sample p_hat does not exist; reverse_kl is then NaN, as in PacGAN's code.)
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"

namespace gant::data {

/// An equal-weight mixture of isotropic 2-D Gaussians sharing one standard deviation.
struct gaussian_mixture_2d {
    std::vector<std::array<double, 2>> means;
    double stddev = 1.0;

    std::size_t modes() const noexcept { return means.size(); }

    /// Fills every row of `out` ([n, 2]) with a sample: a mode uniformly at random, then
    /// mean + stddev * N(0, I). Allocates nothing; deterministic given the generator.
    template <class T>
    void sample(tensor<T>& out, rng& r) const {
        require_features(out, 2, "gaussian_mixture_2d::sample");
        if (means.empty()) throw std::invalid_argument("gant: gaussian_mixture_2d::sample: the mixture has no modes");
        T* p = out.data();
        for (std::size_t i = 0, n = out.shape(0); i < n; ++i) {
            const auto& mu = means[r.below(means.size())];
            const double x = mu[0] + stddev * r.normal();
            const double y = mu[1] + stddev * r.normal();
            p[2 * i] = static_cast<T>(x);
            p[2 * i + 1] = static_cast<T>(y);
        }
    }
};

/// `modes` Gaussians evenly spaced on a circle, the first at angle 0 (VEEGAN/PacGAN: 8, 1, 0.01).
inline gaussian_mixture_2d ring_mixture(std::size_t modes = 8, double radius = 1.0, double stddev = 0.01) {
    gaussian_mixture_2d m;
    m.stddev = stddev;
    for (std::size_t i = 0; i < modes; ++i) {
        const double a = 2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(modes);
        m.means.push_back({radius * std::cos(a), radius * std::sin(a)});
    }
    return m;
}

/// A side x side grid of Gaussians centred on the origin, `spacing` apart (VEEGAN/PacGAN: 5, 2,
/// 0.05, so the means are {-4,-2,0,2,4}^2). Modes are listed row by row: index = i * side + j for
/// the mean (x_i, y_j).
inline gaussian_mixture_2d grid_mixture(std::size_t side = 5, double spacing = 2.0, double stddev = 0.05) {
    gaussian_mixture_2d m;
    m.stddev = stddev;
    const double centre = (static_cast<double>(side) - 1.0) / 2.0;
    for (std::size_t i = 0; i < side; ++i)
        for (std::size_t j = 0; j < side; ++j)
            m.means.push_back({(static_cast<double>(i) - centre) * spacing, (static_cast<double>(j) - centre) * spacing});
    return m;
}

/// The three numbers VEEGAN and PacGAN report, plus the per-mode histogram behind them.
struct mode_metrics {
    std::size_t modes_covered = 0;       // modes with at least one high-quality sample
    double high_quality_fraction = 0.0;  // high-quality samples / all samples
    double reverse_kl = 0.0;             // KL(p_hat || uniform), nats; NaN with no high-quality sample
    std::vector<std::size_t> counts;     // high-quality samples per mode
};

/// Scores samples ([n, 2], n > 0) against a mixture. A sample that is not finite is never high
/// quality. `threshold` is the normalised-distance bound (3 standard deviations).
template <class T>
mode_metrics evaluate_modes(const gaussian_mixture_2d& mixture, const tensor<T>& samples, double threshold = 3.0) {
    require_features(samples, 2, "evaluate_modes");
    const std::size_t n = samples.shape(0), k = mixture.modes();
    if (n == 0) throw std::invalid_argument("gant: evaluate_modes needs at least one sample");
    if (k == 0) throw std::invalid_argument("gant: evaluate_modes: the mixture has no modes");
    if (!(mixture.stddev > 0.0)) throw std::invalid_argument("gant: evaluate_modes: the mixture's stddev must be positive");
    mode_metrics out;
    out.counts.assign(k, 0);
    const double inv_var = 1.0 / (mixture.stddev * mixture.stddev), bound = threshold * threshold;
    const T* p = samples.data();
    std::size_t high_quality = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(p[2 * i]), y = static_cast<double>(p[2 * i + 1]);
        double best = std::numeric_limits<double>::infinity();
        std::size_t best_mode = k;
        for (std::size_t j = 0; j < k; ++j) {
            const double dx = x - mixture.means[j][0], dy = y - mixture.means[j][1];
            const double d2 = (dx * dx + dy * dy) * inv_var;  // squared normalised distance
            if (d2 < best) {
                best = d2;
                best_mode = j;
            }
        }
        if (best_mode < k && best < bound) {  // NaN or infinite coordinates never get here
            ++out.counts[best_mode];
            ++high_quality;
        }
    }
    for (const auto c : out.counts) out.modes_covered += c > 0;
    out.high_quality_fraction = static_cast<double>(high_quality) / static_cast<double>(n);
    if (high_quality == 0) {
        out.reverse_kl = std::numeric_limits<double>::quiet_NaN();
    } else {
        double kl = 0.0;
        for (const auto c : out.counts) {
            if (c == 0) continue;  // 0 log 0 = 0
            const double q = static_cast<double>(c) / static_cast<double>(high_quality);
            kl += q * std::log(q * static_cast<double>(k));
        }
        out.reverse_kl = kl;
    }
    return out;
}

}  // namespace gant::data
