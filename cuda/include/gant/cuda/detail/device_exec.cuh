#pragma once
// The device executor of the pass templates (see host_exec.hpp for the CPU one): scratch from
// the caching allocator on the pass's stream, element-wise functors through run_elementwise,
// group sums by a block per group. nvcc only.
#include <cuda_runtime_api.h>

#include <cstddef>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/run_elementwise.cuh"
#include "gant/cuda/device_buffer.hpp"

namespace gant::cuda::detail {

constexpr int group_sum_threads = 256;

/// Block g sums Terms over group g of `over`: each thread a strided share of the elements, then a
/// tree over the block in shared memory (a fixed order: the same sums every run); thread 0
/// finishes the group.
template <class Layout, class Terms>
__global__ void __launch_bounds__(group_sum_threads) group_sums_kernel(Layout over, Terms terms) {
    constexpr int K = Terms::count;
    __shared__ double partial[K][group_sum_threads];
    const std::size_t g = blockIdx.x, size = over.group_size();
    double sums[K] = {};
    for (std::size_t k = threadIdx.x; k < size; k += group_sum_threads) terms(over.element(g, k), sums);
    for (int j = 0; j < K; ++j) partial[j][threadIdx.x] = sums[j];
    __syncthreads();
    for (int width = group_sum_threads / 2; width > 0; width /= 2) {
        if (int(threadIdx.x) < width)
            for (int j = 0; j < K; ++j) partial[j][threadIdx.x] += partial[j][threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        for (int j = 0; j < K; ++j) sums[j] = partial[j][0];
        terms.finish(g, sums);
    }
}

struct device_exec {
    cudaStream_t stream;

    template <class T>
    device_buffer<T> scratch(std::size_t n) const {
        return device_buffer<T>(n, stream);
    }

    template <class Op>
    void elementwise(const Op& op, std::size_t n, const char* what) const {
        run_elementwise(op, n, stream, what);
    }

    template <class Layout, class Terms>
    void group_sums(const Layout& over, const Terms& terms, const char* what) const {
        if (over.groups() == 0) return;
        group_sums_kernel<<<unsigned(over.groups()), group_sum_threads, 0, stream>>>(over, terms);
        check_cuda(cudaGetLastError(), what, __FILE__, __LINE__);
    }
};

}  // namespace gant::cuda::detail
