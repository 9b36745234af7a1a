#pragma once
// What both implicit-GEMM kernels (igemm_kernel.cuh, mma_kernel.cuh) do around their main
// loops: find the block's share of the work, and write its finished C tile. nvcc only.
#include <cuda_runtime.h>

#include <new>

#include "gant/cuda/detail/igemm.hpp"

namespace gant::cuda::detail {

/// A block's share: its stride phase, split of the reduction, tile origin and slices.
template <class Op>
struct block_work {
    typename Op::phase_t ph;
    int phase, split, m0, n0, kt_begin, kt_end;
};

/// The block's work from its indices (grid: column tiles, row tiles, phases x splits). Thread 0
/// derives the phase into `phase_storage` (__shared__, sizeof(phase_t) bytes) and a barrier
/// shares it. Uniform over the block; the caller returns when n0 >= ph.N (a phase with fewer
/// columns than the grid).
template <class Cfg, class Op>
__device__ __forceinline__ block_work<Op> find_block_work(const typename Op::params& p, int splits,
                                                          unsigned char* phase_storage) {
    using phase_t = typename Op::phase_t;
    block_work<Op> w;
    w.phase = int(blockIdx.z) / splits;
    w.split = int(blockIdx.z) % splits;
    if (threadIdx.x == 0) new (phase_storage) phase_t(Op::make_phase(p, w.phase));
    __syncthreads();
    w.ph = *reinterpret_cast<const phase_t*>(phase_storage);
    w.m0 = int(blockIdx.y) * Cfg::BM;
    w.n0 = int(blockIdx.x) * Cfg::BN;
    split_range((w.ph.K + Cfg::BK - 1) / Cfg::BK, splits, w.split, w.kt_begin, w.kt_end);
    return w;
}

/// Writes the block's C tile (row-major [BM][Cfg::ldc] in shared memory) through the epilogue
/// or, when the reduction is split, to the split's part of the workspace. Each thread takes
/// consecutive columns, so that consecutive threads write consecutive output pixels.
template <class Cfg, class Op>
__device__ __forceinline__ void write_block_tile(const typename Op::params& p, const block_work<Op>& w,
                                                 const float* cs, int splits, float* workspace, int workspace_ld) {
    GANT_UNROLL for (int i = 0; i < Cfg::BM * Cfg::BN / Cfg::threads; ++i) {
        const int e = int(threadIdx.x) + i * Cfg::threads, ml = e / Cfg::BN, jl = e % Cfg::BN;
        const int m = w.m0 + ml, j = w.n0 + jl;
        if (m >= p.M || j >= w.ph.N) continue;
        const float v = cs[ml * Cfg::ldc + jl];
        if (splits == 1)
            store_output<Op>(p, w.ph, m, j, v);
        else
            workspace[workspace_index(w.phase, w.split, splits, p.M, workspace_ld, m, j)] = v;
    }
}

}  // namespace gant::cuda::detail
