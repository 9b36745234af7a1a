#pragma once
// The one kernel behind every element-wise pass, loss and penalty step of the CUDA backend: a
// grid-stride loop that runs a functor's operator()(i) for i in [0, n). The functors
// (elementwise_ops.hpp, objective_ops.hpp) own the maths; this file owns the launch. nvcc only.
#include <cuda_runtime_api.h>

#include <cstddef>

#include "gant/cuda/check.hpp"

namespace gant::cuda::detail {

template <class Op>
__global__ void __launch_bounds__(256) elementwise_kernel(Op op, std::size_t n) {
    const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
    for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) op(i);
}

/// Runs op(i) for i in [0, n) on `stream`; `what` names the launch in an error. The grid is
/// capped at 8192 blocks of 256 threads (several times what any current GPU holds at once), and
/// the grid-stride loop covers larger n.
template <class Op>
void run_elementwise(const Op& op, std::size_t n, cudaStream_t stream, const char* what) {
    if (n == 0) return;
    constexpr std::size_t threads = 256, max_blocks = 8192;
    const std::size_t wanted = (n + threads - 1) / threads;
    const std::size_t blocks = wanted < max_blocks ? wanted : max_blocks;
    elementwise_kernel<<<unsigned(blocks), unsigned(threads), 0, stream>>>(op, n);
    check_cuda(cudaGetLastError(), what, __FILE__, __LINE__);
}

}  // namespace gant::cuda::detail
