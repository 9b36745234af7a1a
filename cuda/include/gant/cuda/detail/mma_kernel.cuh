#pragma once
// The pipelined tensor-core kernel of the implicit GEMMs in igemm.hpp: the same loaders, phases,
// epilogue and split reduction as igemm_kernel, with a deeper pipeline and leaner registers.
// nvcc only; include from one .cu per pass (cuda/src/conv_*.cu).
//
// Pipeline: `Cfg::stages` shared-memory stages filled by cp.async. Each thread issues its
// elements of slice t + stages - 1 straight into shared memory (zero-filled outside the tensor)
// and goes on to multiply slice t, so up to stages - 1 slices of gathers are in flight and no
// registers hold them. One barrier per slice: after it, slice t has landed for every thread
// (each waited for its own copies), and every warp has finished slice t - 1, whose stage the
// new copies then overwrite.
//
// Products: mma.sync.m16n8k8 on TF32 fragments (mma_tile.hpp), rounded to TF32 as they are read
// from shared memory.
#include <cuda_runtime.h>

#include "gant/cuda/detail/block_work.cuh"
#include "gant/cuda/detail/igemm.hpp"
#include "gant/cuda/detail/mma_tile.hpp"

namespace gant::cuda::detail {

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/// Waits until at most `Pending` of this thread's committed copy groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
}

/// d += a * b, one m16n8k8 product with TF32 operands (already rounded) and FP32 accumulators.
__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const float (&a)[4], const float (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
          "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
}

template <class Cfg, class Op>
__global__ void __launch_bounds__(Cfg::threads, Cfg::min_blocks)
    mma_igemm_kernel(const typename Op::params p, int splits, float* __restrict__ workspace, int workspace_ld) {
    using phase_t = typename Op::phase_t;
    using fragments = warp_fragments<Cfg, Op::b_col_major>;
    extern __shared__ __align__(128) float smem[];
    // Raw storage: a __shared__ object of a class with member initializers would need a constructor.
    __shared__ __align__(16) unsigned char phase_storage[sizeof(phase_t)];

    const int tid = int(threadIdx.x);
    const block_work<Op> work = find_block_work<Cfg, Op>(p, splits, phase_storage);
    if (work.n0 >= work.ph.N) return;  // uniform over the block
    const phase_t& ph = work.ph;
    const int m0 = work.m0, n0 = work.n0, kt_begin = work.kt_begin, kt_end = work.kt_end;
    const int slices = kt_end - kt_begin;

    const typename Op::template a_loader<Cfg> la(p, ph, m0, n0, tid);
    const typename Op::template b_loader<Cfg> lb(p, ph, m0, n0, tid);
    // Stage s of A at smem + s * a_stage, of B after all A stages.
    float* const a_base = smem;
    float* const b_base = smem + Cfg::stages * Cfg::a_stage;

    // Prologue: slices 0 .. stages-2 in flight, one commit group each (empty past the end, so
    // that the group count, and with it the wait below, is the same for every thread).
    GANT_UNROLL for (int s = 0; s < Cfg::stages - 1; ++s) {
        if (s < slices) {
            copy_slice_async(la, (kt_begin + s) * Cfg::BK, a_base + s * Cfg::a_stage);
            copy_slice_async(lb, (kt_begin + s) * Cfg::BK, b_base + s * Cfg::b_stage);
        }
        cp_async_commit();
    }

    const int lane = tid & 31, warp = tid >> 5;
    const int wm = (warp / Cfg::warps_n) * Cfg::WM, wn = (warp % Cfg::warps_n) * Cfg::WN;
    float acc[Cfg::frags_m][Cfg::frags_n][4];
    GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i)
        GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j)
            GANT_UNROLL for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

    int read_stage = 0, write_stage = Cfg::stages - 1;
    for (int t = 0; t < slices; ++t) {
        cp_async_wait<Cfg::stages - 2>();  // this thread's copies of slice t have landed
        __syncthreads();                   // ... everyone's; and slice t - 1 is no longer read
        const int next = t + Cfg::stages - 1;
        if (next < slices) {
            copy_slice_async(la, (kt_begin + next) * Cfg::BK, a_base + write_stage * Cfg::a_stage);
            copy_slice_async(lb, (kt_begin + next) * Cfg::BK, b_base + write_stage * Cfg::b_stage);
        }
        cp_async_commit();

        const float* as = a_base + read_stage * Cfg::a_stage;
        const float* bs = b_base + read_stage * Cfg::b_stage;
        GANT_UNROLL for (int kk = 0; kk < Cfg::BK; kk += 8) {
            // All of B's fragments, then A's one row of products at a time: fewer live registers.
            float b[Cfg::frags_n][2];
            fragments::load_b(bs, wn, kk, lane, b);
            GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i) {
                float a[4];
                fragments::load_a_one(as, wm + 16 * i, kk, lane, a);
                GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j) mma_m16n8k8_tf32(acc[i][j], a, b[j]);
            }
        }
        read_stage = read_stage + 1 == Cfg::stages ? 0 : read_stage + 1;
        write_stage = write_stage + 1 == Cfg::stages ? 0 : write_stage + 1;
    }
    cp_async_wait<0>();  // only empty groups can remain, but the C tile below reuses the stages
    __syncthreads();

    // Epilogue: the accumulators go through shared memory so that each thread then writes
    // consecutive output pixels, exactly as igemm_kernel does.
    float* const cs = smem;
    fragments::store_c(cs, wm, wn, lane, acc);
    __syncthreads();
    write_block_tile<Cfg, Op>(p, work, cs, splits, workspace, workspace_ld);
}

}  // namespace gant::cuda::detail
