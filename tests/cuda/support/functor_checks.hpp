#pragma once
// What the CUDA tests of the element-wise and objective functors share: running a functor over
// its index range on the CPU (the emulation of its kernel), comparing floats bit for bit or
// normwise, and uniform test data.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <limits>
#include <vector>

#include "gant/core/rng.hpp"

namespace gant::cuda::testing {

/// op(i) for i in [0, n) on the CPU: what the element-wise kernel does on the device.
template <class Op>
void emulate(const Op& op, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) op(i);
}

/// Bit for bit, except that any NaN matches any NaN.
inline bool same_bits(float a, float b) {
    return std::isnan(a) ? std::isnan(b) : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

/// How many of n elements differ (same_bits).
inline std::size_t differences(const float* a, const float* b, std::size_t n) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += same_bits(a[i], b[i]) ? 0 : 1;
    return bad;
}

/// n floats uniform in [lo, hi) from gant's generator with this seed.
inline std::vector<float> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
    gant::rng r(seed, 11);
    std::vector<float> v(n);
    for (auto& x : v) x = float(r.uniform(lo, hi));
    return v;
}

/// Largest |a - b| over the largest |b| (at least 1e-30): a normwise relative error; infinite
/// for a NaN or a size mismatch.
inline double normwise(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0, scale = 1e-30;
    for (std::size_t i = 0; i < b.size() && i < a.size(); ++i) {
        const double d = double(a[i]) - double(b[i]);
        if (std::isnan(d)) return std::numeric_limits<double>::infinity();  // an unwritten (NaN) element too
        worst = std::max(worst, d < 0 ? -d : d);
        scale = std::max(scale, double(b[i] < 0 ? -b[i] : b[i]));
    }
    return a.size() == b.size() ? worst / scale : std::numeric_limits<double>::infinity();
}

/// ||got - want|| / ||want||: a whole result's relative error, where one element's may say
/// little (tests/cuda/test_cuda_network.cpp); infinite for a NaN or a size mismatch.
inline double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
    if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
    double error = 0, reference = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const double d = double(got[i]) - double(want[i]);
        error += d * d;
        reference += double(want[i]) * double(want[i]);
    }
    return std::isnan(error) ? std::numeric_limits<double>::infinity() : std::sqrt(error / std::max(reference, 1e-300));
}

/// Largest |got - want| / max(1, |want|): 0 when they agree exactly; infinite for a size
/// mismatch, where one is NaN and the other is not, or where infinities differ.
template <class T>
double largest_difference(const std::vector<T>& got, const std::vector<T>& want) {
    double w = got.size() == want.size() ? 0.0 : std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
        const double g = double(got[i]), r = double(want[i]);
        if (std::isnan(g) || std::isnan(r)) {
            if (std::isnan(g) != std::isnan(r)) w = std::numeric_limits<double>::infinity();
            continue;
        }
        if (std::isinf(g) || std::isinf(r)) {
            if (g != r) w = std::numeric_limits<double>::infinity();
            continue;
        }
        w = std::max(w, std::abs(g - r) / std::max(1.0, std::abs(r)));
    }
    return w;
}

/// A device result against its CPU replay within `tolerance` (largest_difference); a non-zero
/// difference is printed with the expression, so a GPU run's log says how close each result
/// came, not only whether it passed.
#define GANT_CHECK_DIFFERENCE(got, want, tolerance)                                                              \
    do {                                                                                                         \
        const double gant_difference_ = ::gant::cuda::testing::largest_difference((got), (want));                \
        if (gant_difference_ != 0.0) std::cout << "  " #got ": largest difference " << gant_difference_ << '\n'; \
        BOOST_TEST(gant_difference_ <= (tolerance));                                                             \
    } while (false)

}  // namespace gant::cuda::testing
