#pragma once
// The per-element work of gant/cuda/train/reductions.hpp, one functor per operation, written so
// that a host compiler builds the same code for the tests' CPU runs (as elementwise_ops.hpp is).
// Each mirrors the CPU code it replaces, operation for operation:
//   sgd_op         include/gant/optim/sgd.hpp (sgd_rule::run)
//   clamp_op       include/gant/lipschitz/weight_clip.hpp (std::clamp)
// and the summation order of sum_squares is fixed here (sum_squares_blocks, _chunk), so that a
// test can replay it on the host bit for bit.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gant/core/host_device.hpp"
#include "gant/cuda/train/reductions.hpp"

namespace gant::cuda::detail {

/// The per-call constants of SGD, as sgd_rule::run converts them to float; `first` and
/// `nesterov` select the branch the CPU rule resolves at compile time.
struct sgd_constants {
    float lr, weight_decay, momentum, keep;
    bool first, nesterov;
};

inline sgd_constants make_sgd_constants(const sgd_settings& s, std::uint64_t step) {
    return {float(s.lr), float(s.weight_decay), float(s.momentum), float(1.0 - s.dampening), step == 1, s.nesterov};
}

/// One SGD update of element i; buf null: no momentum (the CPU rule's null state).
struct sgd_op {
    sgd_constants k;
    float* value;
    const float* grad;
    float* buf;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        float d = grad[i] + k.weight_decay * value[i];
        if (buf) {
            const float b = k.first ? d : k.momentum * buf[i] + k.keep * d;  // PyTorch starts the buffer at d
            buf[i] = b;
            d = k.nesterov ? d + k.momentum * b : b;
        }
        value[i] -= k.lr * d;
    }
};

/// x = std::clamp(x, lo, hi): lo below lo, hi above hi, anything else (NaN included) unchanged.
struct clamp_op {
    float lo, hi;
    float* x;
    GANT_HOST_DEVICE void operator()(std::size_t i) const {
        const float v = x[i];
        x[i] = v < lo ? lo : (hi < v ? hi : v);
    }
};

struct fill_op {
    float value;
    float* x;
    GANT_HOST_DEVICE void operator()(std::size_t i) const { x[i] = value; }
};

/// NaN or infinity, decided on the bits (all exponent bits set), so that no compiler flag that
/// assumes finite math can fold the test away.
GANT_HOST_DEVICE inline bool is_nonfinite(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    return (bits & 0x7f800000u) == 0x7f800000u;
}

// ---- sum_squares' fixed order ------------------------------------------------------------------
// Block b of sum_squares_blocks(n) takes elements [b * chunk, min(n, (b + 1) * chunk)); its thread
// t adds x[i]^2 (exact in double) for i = start + t, start + t + threads, ... into its own
// double; the block's threads are then summed as a tree (thread t += thread t + w for w =
// threads / 2, ..., 1). With one block, *out += that sum; otherwise the block sums are added in
// block order into a double starting at 0, and *out += that. Everything depends on n only.

constexpr unsigned sum_squares_threads = 256;
constexpr std::size_t sum_squares_min_block_elements = 32768;  // below this one block does all
constexpr std::size_t sum_squares_max_blocks = 128;

inline std::size_t sum_squares_blocks(std::size_t n) {
    const std::size_t wanted = (n + sum_squares_min_block_elements - 1) / sum_squares_min_block_elements;
    return wanted < 1 ? 1 : (wanted > sum_squares_max_blocks ? sum_squares_max_blocks : wanted);
}

inline std::size_t sum_squares_chunk(std::size_t n) {
    const std::size_t blocks = sum_squares_blocks(n);
    return (n + blocks - 1) / blocks;
}

}  // namespace gant::cuda::detail
