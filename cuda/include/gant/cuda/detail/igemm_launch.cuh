#pragma once
// launch_igemm<Op>: picks the compiled tile configuration named by the plan (and with it the
// kernel: igemm_kernel or the pipelined mma_igemm_kernel), raises the kernel's shared-memory
// limit once per device, and launches (cuda/src/conv_*.cu instantiate it).
#include <cuda_runtime.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/igemm_kernel.cuh"
#include "gant/cuda/detail/mma_kernel.cuh"
#include "gant/cuda/detail/launch.hpp"
#include "gant/cuda/device_buffer.hpp"

namespace gant::cuda::detail {

/// The kernel a configuration runs.
template <class Cfg, class Op>
constexpr auto kernel_of() {
    if constexpr (Cfg::pipelined)
        return &mma_igemm_kernel<Cfg, Op>;
    else
        return &igemm_kernel<Cfg, Op>;
}

/// Raises the kernel's dynamic shared-memory limit (needed above 48 KB) once per device.
template <class Cfg, class Op>
void allow_shared_memory() {
    static std::atomic<bool> raised[64] = {};
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    if (device >= 0 && device < 64 && raised[device].load(std::memory_order_acquire)) return;
    GANT_CUDA_CHECK(cudaFuncSetAttribute(kernel_of<Cfg, Op>(), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(Cfg::smem_bytes)));
    if (device >= 0 && device < 64) raised[device].store(true, std::memory_order_release);
}

template <class Cfg, class Op>
int residency() {
    allow_shared_memory<Cfg, Op>();
    int blocks = 0;
    GANT_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel_of<Cfg, Op>(), Cfg::threads,
                                                                  Cfg::smem_bytes));
    return blocks;
}

template <class Op>
struct residency_query {
    int& blocks;
    template <class Cfg>
    void operator()() const { blocks = residency<Cfg, Op>(); }
};

template <class Op>
void query_residency(int (&resident)[config_total]) {
    static std::atomic<int> cached[64][config_total] = {};
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    const bool cacheable = device >= 0 && device < 64;
    if (cacheable && cached[device][0].load(std::memory_order_acquire) > 0) {
        for (int c = 0; c < config_total; ++c) resident[c] = cached[device][c].load(std::memory_order_relaxed);
        return;
    }
    int values[config_total] = {};
    for (int c = 0; c < config_total; ++c) with_config(c, residency_query<Op>{values[c]});
    for (int c = 0; c < config_total; ++c) {
        resident[c] = values[c] > 0 ? values[c] : 1;
        if (cacheable && c > 0) cached[device][c].store(resident[c], std::memory_order_relaxed);
    }
    if (cacheable) cached[device][0].store(resident[0], std::memory_order_release);
}

template <class Cfg, class Op>
void launch_with(const typename Op::params& params, const launch_plan& plan, cudaStream_t stream) {
    auto* kernel = kernel_of<Cfg, Op>();
    allow_shared_memory<Cfg, Op>();
    device_buffer<float> workspace;
    if (plan.splits > 1) workspace = device_buffer<float>(std::size_t(plan.workspace_floats), stream);
    const dim3 grid(unsigned(plan.grid_x), unsigned(plan.grid_y), unsigned(plan.phases * plan.splits));
    kernel<<<grid, Cfg::threads, Cfg::smem_bytes, stream>>>(params, plan.splits, workspace.data(), plan.workspace_ld);
    if constexpr (Cfg::pipelined)
        GANT_CUDA_CHECK_LAUNCH("gant::cuda::detail::mma_igemm_kernel");
    else
        GANT_CUDA_CHECK_LAUNCH("gant::cuda::detail::igemm_kernel");
    if (plan.splits > 1) {
        const dim3 reduce_grid(unsigned((plan.workspace_ld + 255) / 256), unsigned(params.M), unsigned(plan.phases));
        splitk_reduce_kernel<Op><<<reduce_grid, 256, 0, stream>>>(params, plan.splits, workspace.data(),
                                                                   plan.workspace_ld);
        GANT_CUDA_CHECK_LAUNCH("gant::cuda::detail::splitk_reduce_kernel");
    }
    // The workspace goes back to the allocator's list for `stream` here: later work on the
    // stream that reuses it runs after these kernels.
}

template <class Op>
struct launcher {
    const typename Op::params& params;
    const launch_plan& plan;
    cudaStream_t stream;
    template <class Cfg>
    void operator()() const { launch_with<Cfg, Op>(params, plan, stream); }
};

template <class Op>
void launch_igemm(const typename Op::params& params, const launch_plan& plan, cudaStream_t stream) {
    if (!with_config(plan.config, launcher<Op>{params, plan, stream}))
        throw std::invalid_argument("gant::cuda: no kernel configuration " + std::to_string(plan.config));
}

}  // namespace gant::cuda::detail
