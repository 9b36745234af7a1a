#pragma once
// What the CUDA tests of the element-wise and objective functors share: running a functor over
// its index range on the CPU (the emulation of its kernel), comparing floats bit for bit or
// normwise, and uniform test data.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
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

}  // namespace gant::cuda::testing
