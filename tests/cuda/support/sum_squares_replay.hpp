#pragma once
// gant::cuda::sum_squares replayed on the host in the kernel's fixed order (the plan in
// gant/cuda/detail/training_ops.hpp: per block, strided per-thread partial sums in double, then a
// tree over the block's threads; block sums added in block order), so that the device's result
// can be required bit for bit. test_cuda_training_reference checks this replay against exact
// sums; test_cuda_training checks the kernel against it.
#include <cstddef>
#include <vector>

#include "gant/cuda/detail/training_ops.hpp"

namespace gant::cuda::testing {

/// What sum_squares leaves in *out when *out held `out` before.
inline double replay_sum_squares(const float* x, std::size_t n, double out) {
    namespace d = gant::cuda::detail;
    if (n == 0) return out;
    const std::size_t blocks = d::sum_squares_blocks(n), chunk = d::sum_squares_chunk(n);
    std::vector<double> block_sums(blocks), partial(d::sum_squares_threads);
    for (std::size_t b = 0; b < blocks; ++b) {
        const std::size_t begin = b * chunk, end = begin + chunk < n ? begin + chunk : n;
        for (std::size_t t = 0; t < d::sum_squares_threads; ++t) {
            double sum = 0.0;
            for (std::size_t i = begin + t; i < end; i += d::sum_squares_threads) {
                const double v = x[i];
                sum += v * v;
            }
            partial[t] = sum;
        }
        for (std::size_t width = d::sum_squares_threads / 2; width > 0; width /= 2)
            for (std::size_t t = 0; t < width; ++t) partial[t] += partial[t + width];
        block_sums[b] = partial[0];
    }
    if (blocks == 1) return out + block_sums[0];
    double total = 0.0;
    for (double s : block_sums) total += s;
    return out + total;
}

}  // namespace gant::cuda::testing
