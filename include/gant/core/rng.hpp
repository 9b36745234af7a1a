#pragma once
// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011). A generator is a key (the
// seed) plus a stream id plus a 64-bit counter, so its whole state is three integers: trivial
// to checkpoint, identical on every platform and compiler (no std:: distributions, whose
// output is implementation-defined), and the same scheme a GPU backend can evaluate per thread.
#include <array>
#include <cmath>
#include <cstdint>

#include "gant/core/philox.hpp"

namespace gant {

class rng {
public:
    /// Plain state, for checkpoints: restoring it continues the exact same sequence.
    struct state_type {
        std::uint64_t seed = 0;
        std::uint64_t stream = 0;
        std::uint64_t counter = 0;  // blocks consumed
        std::uint32_t lane = 4;     // next unused word in the current block (4: none left)
        // Written out rather than defaulted: the CUDA kernels' C++17 (gant/cuda/random.hpp) reads it too.
        bool operator==(const state_type& o) const {
            return seed == o.seed && stream == o.stream && counter == o.counter && lane == o.lane;
        }
        bool operator!=(const state_type& o) const { return !(*this == o); }
    };

    explicit rng(std::uint64_t seed = 0, std::uint64_t stream = 0) { st_.seed = seed; st_.stream = stream; }

    /// An independent generator for sub-stream `id` of this generator's stream (same seed).
    rng split(std::uint64_t id) const { return rng(st_.seed, mix(st_.stream * 0x9E3779B97F4A7C15ULL + id + 1)); }

    std::uint32_t next_u32() {
        if (st_.lane >= 4) {
            block_ = philox(st_.counter++);
            st_.lane = 0;
        }
        return block_[st_.lane++];
    }

    std::uint64_t next_u64() {
        const std::uint64_t hi = next_u32();
        return (hi << 32) | next_u32();
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Standard normal by Box-Muller; both variates of a pair are used, in order.
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const philox::normal_pair pair = philox::box_muller(u1, u2);
        spare_ = pair.second;
        has_spare_ = true;
        return pair.first;
    }

    double normal(double mean, double stddev) { return mean + stddev * normal(); }

    /// Uniform integer in [0, n) without modulo bias.
    std::uint64_t below(std::uint64_t n) {
        if (n <= 1) return 0;
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        std::uint64_t x;
        do x = next_u64(); while (x >= limit);
        return x % n;
    }

    /// Full state including the pending Box-Muller variate.
    struct full_state {
        state_type core;
        bool has_spare = false;
        double spare = 0.0;
        bool operator==(const full_state& o) const {
            return core == o.core && has_spare == o.has_spare && spare == o.spare;
        }
        bool operator!=(const full_state& o) const { return !(*this == o); }
    };
    full_state state() const { return {st_, has_spare_, spare_}; }
    void set_state(const full_state& s) {
        st_ = s.core;
        has_spare_ = s.has_spare;
        spare_ = s.spare;
        if (st_.lane < 4) block_ = philox(st_.counter - 1);  // regenerate the current block
    }

private:
    static std::uint64_t mix(std::uint64_t z) {  // splitmix64 finaliser: spreads stream ids
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    std::array<std::uint32_t, 4> philox(std::uint64_t counter) const {
        const philox::block b = philox::generate(st_.seed, st_.stream, counter);
        return {b.word[0], b.word[1], b.word[2], b.word[3]};
    }

    state_type st_{};
    std::array<std::uint32_t, 4> block_{};
    bool has_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace gant
