#pragma once
// Random numbers drawn on the device from a gant::rng, the same numbers the CPU draws.
//
// gant::rng (include/gant/core/rng.hpp) is counter-based: its state is a seed, a stream and a
// count of 32-bit words used, and word w is word w % 4 of Philox block w / 4. So a kernel can
// make the values that `count` calls of r.normal() or r.uniform() would return, each thread its
// own, and the host generator then moves past them exactly as those calls would have moved it:
// a GPU run and a CPU run from the same seed draw the same latent codes and the same
// interpolation points, and a checkpoint's generator state means the same on either backend.
// The plans below are that bookkeeping, on the host and without CUDA, so they are tested on
// machines without a GPU.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "gant/core/philox.hpp"
#include "gant/core/rng.hpp"

namespace gant::cuda {

namespace detail {

/// Index of the next unused word of a generator in state s.
inline std::uint64_t next_word(const rng::state_type& s) {
    return s.lane < 4 ? (s.counter - 1) * 4 + s.lane : s.counter * 4;
}

/// The state of a generator whose next unused word is w (same seed and stream as s).
inline rng::state_type at_word(rng::state_type s, std::uint64_t w) {
    if (w % 4 == 0) {
        s.counter = w / 4;
        s.lane = 4;
    } else {
        s.counter = w / 4 + 1;
        s.lane = std::uint32_t(w % 4);
    }
    return s;
}

/// What fill_normal does for `count` values from state `before`.
struct normal_plan {
    bool leading = false;  // out[0] is the generator's pending variate (from a previous pair)
    float leading_value = 0.f;
    std::uint64_t first_word = 0;  // the first pair's words, after the leading value
    std::size_t pair_values = 0;   // values the pairs write (count minus the leading one)
    std::size_t pairs = 0;         // ceil(pair_values / 2)
    rng::full_state after;         // the generator once the values are drawn
};

inline normal_plan plan_normal(const rng::full_state& before, std::size_t count) {
    normal_plan p;
    p.after = before;
    if (count == 0) return p;
    std::size_t rest = count;
    if (before.has_spare) {
        p.leading = true;
        p.leading_value = static_cast<float>(before.spare);
        p.after.has_spare = false;
        --rest;
    }
    p.first_word = next_word(before.core);
    p.pair_values = rest;
    p.pairs = (rest + 1) / 2;
    p.after.core = at_word(before.core, p.first_word + 4 * std::uint64_t(p.pairs));
    if (p.pairs > 0) {
        // rng::normal() keeps the last pair's second variate: pending when the count leaves it
        // unused, and still in the state (not pending) when it was used. Computed here on the host,
        // with the CPU's own log, sin and cos, so the state is the CPU's bit for bit.
        const std::uint64_t w = p.first_word + 4 * std::uint64_t(p.pairs - 1);
        const auto word = [&](std::uint64_t i) { return philox::word_at(before.core.seed, before.core.stream, i); };
        double u1 = philox::unit_interval(word(w), word(w + 1));
        if (u1 <= 0.0) u1 = 0x1.0p-53;  // as normal_pairs_op does (detail/elementwise_ops.hpp)
        p.after.has_spare = rest % 2 == 1;
        p.after.spare = philox::box_muller(u1, philox::unit_interval(word(w + 2), word(w + 3))).second;
    }
    return p;
}

/// What fill_uniform does for `count` values from state `before` (two words a value; the
/// pending normal variate is untouched, as rng::uniform() leaves it).
struct uniform_plan {
    std::uint64_t first_word = 0;
    rng::full_state after;
};

inline uniform_plan plan_uniform(const rng::full_state& before, std::size_t count) {
    uniform_plan p;
    p.after = before;
    p.first_word = next_word(before.core);
    p.after.core = at_word(before.core, p.first_word + 2 * std::uint64_t(count));
    return p;
}

}  // namespace detail

/// out[0..count) = float(r.normal()) for count calls, drawn on the device; r moves on as those
/// calls would move it. (One pair in 2^53, whose first uniform is exactly 0, differs: the CPU
/// redraws it, the device uses 2^-53.)
void fill_normal(rng& r, float* out, std::size_t count, cudaStream_t stream = nullptr);

/// out[0..count) = float(lo + (hi - lo) * r.uniform()) for count calls, on the device.
void fill_uniform(rng& r, float* out, std::size_t count, double lo = 0.0, double hi = 1.0,
                  cudaStream_t stream = nullptr);

}  // namespace gant::cuda
