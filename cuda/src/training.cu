// The training step's reductions and weight passes (gant/cuda/train/reductions.hpp): argument
// checks, the functors of detail/training_ops.hpp through run_elementwise, and the two reduction
// kernels, whose block sums follow a fixed tree (no float atomics) so that results repeat.
#include <cstddef>
#include <cstdint>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/run_elementwise.cuh"
#include "gant/cuda/detail/training_ops.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/train/reductions.hpp"

namespace gant::cuda {

using detail::require_argument;

namespace {

constexpr unsigned square_threads = detail::sum_squares_threads;

/// Block b: the sum of squares of its chunk, in detail/training_ops.hpp's order, added to *out
/// when it is the only block (accumulate) or written to out[b] for the finishing kernel.
__global__ void __launch_bounds__(square_threads)
    block_sum_squares_kernel(const float* x, std::size_t n, std::size_t chunk, double* out, bool accumulate) {
    __shared__ double partial[square_threads];
    const std::size_t begin = std::size_t(blockIdx.x) * chunk;
    const std::size_t end = begin + chunk < n ? begin + chunk : n;
    double sum = 0.0;
    for (std::size_t i = begin + threadIdx.x; i < end; i += square_threads) {
        const double v = x[i];
        sum += v * v;
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (unsigned width = square_threads / 2; width > 0; width /= 2) {
        if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (accumulate)
            *out += partial[0];
        else
            out[blockIdx.x] = partial[0];
    }
}

/// *out += the block sums added in block order (one thread: the order is the point).
__global__ void add_block_sums_kernel(const double* block_sums, std::size_t blocks, double* out) {
    double total = 0.0;
    for (std::size_t b = 0; b < blocks; ++b) total += block_sums[b];
    *out += total;
}

constexpr unsigned count_threads = 256;
constexpr std::size_t count_max_blocks = 1024;

/// Each block counts its grid-strided share, then adds its total with one integer atomic.
__global__ void __launch_bounds__(count_threads)
    count_nonfinite_kernel(const float* x, std::size_t n, unsigned long long* out) {
    __shared__ unsigned long long partial[count_threads];
    const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
    unsigned long long count = 0;
    for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
        count += detail::is_nonfinite(x[i]) ? 1 : 0;
    partial[threadIdx.x] = count;
    __syncthreads();
    for (unsigned width = count_threads / 2; width > 0; width /= 2) {
        if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0 && partial[0] != 0) atomicAdd(out, partial[0]);
}

}  // namespace

void sum_squares(const float* x, std::size_t n, double* out, cudaStream_t stream) {
    require_argument(out != nullptr, "sum_squares", "the output pointer is null");
    require_argument(n == 0 || x, "sum_squares", "the input pointer is null");
    if (n == 0) return;
    const std::size_t blocks = detail::sum_squares_blocks(n), chunk = detail::sum_squares_chunk(n);
    if (blocks == 1) {
        block_sum_squares_kernel<<<1, square_threads, 0, stream>>>(x, n, chunk, out, true);
        GANT_CUDA_CHECK_LAUNCH("block_sum_squares_kernel");
        return;
    }
    // From the caching allocator on this stream: reused by later work on it, no cudaMalloc in
    // the steady state.
    device_buffer<double> block_sums(blocks, stream);
    block_sum_squares_kernel<<<unsigned(blocks), square_threads, 0, stream>>>(x, n, chunk, block_sums.data(), false);
    GANT_CUDA_CHECK_LAUNCH("block_sum_squares_kernel");
    add_block_sums_kernel<<<1, 1, 0, stream>>>(block_sums.data(), blocks, out);
    GANT_CUDA_CHECK_LAUNCH("add_block_sums_kernel");
}

void count_nonfinite(const float* x, std::size_t n, unsigned long long* out, cudaStream_t stream) {
    require_argument(out != nullptr, "count_nonfinite", "the output pointer is null");
    require_argument(n == 0 || x, "count_nonfinite", "the input pointer is null");
    if (n == 0) return;
    const std::size_t wanted = (n + count_threads - 1) / count_threads;
    const std::size_t blocks = wanted < count_max_blocks ? wanted : count_max_blocks;
    count_nonfinite_kernel<<<unsigned(blocks), count_threads, 0, stream>>>(x, n, out);
    GANT_CUDA_CHECK_LAUNCH("count_nonfinite_kernel");
}

void clamp_values(float* x, std::size_t n, float lo, float hi, cudaStream_t stream) {
    require_argument(lo <= hi, "clamp_values", "the bounds must be numbers with lo <= hi");
    require_argument(n == 0 || x, "clamp_values", "the pointer is null");
    detail::run_elementwise(detail::clamp_op{lo, hi, x}, n, stream, "launch of clamp_values");
}

void fill_values(float* x, std::size_t n, float value, cudaStream_t stream) {
    require_argument(n == 0 || x, "fill_values", "the pointer is null");
    detail::run_elementwise(detail::fill_op{value, x}, n, stream, "launch of fill_values");
}

void sgd_update(const sgd_settings& settings, std::uint64_t step, float* value, const float* grad,
                float* momentum_buffer, std::size_t n, cudaStream_t stream) {
    require_argument(step >= 1, "sgd_update", "the step count starts at 1");
    require_argument(n == 0 || (value && grad), "sgd_update", "the parameter or gradient pointer is null");
    const bool momentum = settings.momentum != 0.0;
    require_argument(n == 0 || !momentum || momentum_buffer, "sgd_update", "momentum != 0 needs the momentum buffer");
    detail::run_elementwise(
        detail::sgd_op{detail::make_sgd_constants(settings, step), value, grad, momentum ? momentum_buffer : nullptr},
        n, stream, "launch of sgd_update");
}

}  // namespace gant::cuda
