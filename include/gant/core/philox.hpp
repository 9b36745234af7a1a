#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): four
// 32-bit random words from a 64-bit key (gant's seed), a 64-bit stream id and a 64-bit counter,
// by ten rounds of multiply-and-mix. Any block is computed directly from its counter, so a GPU
// thread draws its own block without a shared state, and the CPU's sequential generator
// (gant::rng, core/rng.hpp) and a device kernel draw the very same numbers from the same state.
#include <cmath>
#include <cstdint>

#include "gant/core/host_device.hpp"

namespace gant::philox {

struct block {
    std::uint32_t word[4];
};

/// The block at `counter` of stream `stream` under key `seed`.
GANT_HOST_DEVICE constexpr block generate(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
    std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
    std::uint32_t c2 = static_cast<std::uint32_t>(stream), c3 = static_cast<std::uint32_t>(stream >> 32);
    std::uint32_t k0 = static_cast<std::uint32_t>(seed), k1 = static_cast<std::uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c0;
        const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c2;
        const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
        const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
        c1 = static_cast<std::uint32_t>(p1);
        c3 = static_cast<std::uint32_t>(p0);
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;  // the Weyl sequence of the key schedule (golden ratio, sqrt(3) - 1)
        k1 += 0xBB67AE85u;
    }
    return {{c0, c1, c2, c3}};
}

/// Word w of a stream: word w % 4 of block w / 4 (gant::rng hands the words out in this order).
GANT_HOST_DEVICE constexpr std::uint32_t word_at(std::uint64_t seed, std::uint64_t stream, std::uint64_t w) {
    return generate(seed, stream, w / 4).word[w % 4];
}

/// A uniform double in [0, 1) with 53 random bits from two words, high word first (what
/// gant::rng::uniform() makes of its next two words).
GANT_HOST_DEVICE constexpr double unit_interval(std::uint32_t high, std::uint32_t low) {
    const std::uint64_t bits = (std::uint64_t{high} << 32) | low;
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

/// Two standard normal variates by Box-Muller from two uniforms, u1 in (0, 1) and u2 in [0, 1):
/// first r cos(a), then r sin(a), with r = sqrt(-2 ln u1) and a = 2 pi u2 (gant::rng::normal()'s
/// order).
struct normal_pair {
    double first, second;
};
GANT_HOST_DEVICE inline normal_pair box_muller(double u1, double u2) {
    const double r = sqrt(-2.0 * log(u1));
    const double a = 6.283185307179586476925286766559 * u2;
    return {r * cos(a), r * sin(a)};
}

}  // namespace gant::philox
