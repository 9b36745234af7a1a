#pragma once
// The tensor-core kernel of the implicit GEMMs in igemm.hpp, and the kernel that reduces split
// partial sums. nvcc only; include from one .cu per pass (cuda/src/conv_*.cu).
//
// Pipeline: two shared-memory stages. While the warps multiply slice t from one stage, each
// thread already has slice t+1's global loads in flight into registers; after the products it
// rounds them to TF32 and stores them into the other stage, and one barrier per slice separates
// the two. (The other stage was last read in iteration t-1, before the previous barrier.)
#include <cuda_runtime.h>
#include <mma.h>

#include <new>
#include <type_traits>

#include "gant/cuda/detail/block_work.cuh"
#include "gant/cuda/detail/igemm.hpp"

namespace gant::cuda::detail {

template <class Cfg, class Op>
__global__ void __launch_bounds__(Cfg::threads, Cfg::min_blocks)
    igemm_kernel(const typename Op::params p, int splits, float* __restrict__ workspace, int workspace_ld) {
    using namespace nvcuda;
    using phase_t = typename Op::phase_t;
    using b_layout = std::conditional_t<Op::b_col_major, wmma::col_major, wmma::row_major>;
    extern __shared__ __align__(128) float smem[];
    // Raw storage: a __shared__ object of a class with member initializers would need a constructor.
    __shared__ __align__(16) unsigned char phase_storage[sizeof(phase_t)];

    const int tid = int(threadIdx.x);
    const block_work<Op> work = find_block_work<Cfg, Op>(p, splits, phase_storage);
    if (work.n0 >= work.ph.N) return;  // uniform over the block
    const phase_t& ph = work.ph;
    const int m0 = work.m0, n0 = work.n0, kt_begin = work.kt_begin, kt_end = work.kt_end;

    using a_loader = typename Op::template a_loader<Cfg>;
    using b_loader = typename Op::template b_loader<Cfg>;
    const a_loader la(p, ph, m0, n0, tid);
    const b_loader lb(p, ph, m0, n0, tid);
    float ra[a_loader::per];
    float rb[b_loader::per];

    // Stage s of A at smem + s * a_stage, of B after both A stages (pointer arithmetic, not an
    // array of pointers, which a run-time index would put in local memory).
    float* const a_base = smem;
    float* const b_base = smem + 2 * Cfg::a_stage;

    const int warp = tid / 32;
    const int wm = (warp / Cfg::warps_n) * Cfg::WM, wn = (warp % Cfg::warps_n) * Cfg::WN;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[Cfg::frags_m][Cfg::frags_n];
    GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i)
        GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j) wmma::fill_fragment(acc[i][j], 0.f);

    if (kt_begin < kt_end) {
        load_slice(la, kt_begin * Cfg::BK, ra);
        load_slice(lb, kt_begin * Cfg::BK, rb);
        store_slice(la, ra, a_base);
        store_slice(lb, rb, b_base);
    }
    __syncthreads();

    for (int kt = kt_begin; kt < kt_end; ++kt) {
        const int stage = (kt - kt_begin) & 1;
        const bool more = kt + 1 < kt_end;
        if (more) {
            load_slice(la, (kt + 1) * Cfg::BK, ra);
            load_slice(lb, (kt + 1) * Cfg::BK, rb);
        }
        const float* as = a_base + stage * Cfg::a_stage;
        const float* bs = b_base + stage * Cfg::b_stage;
        GANT_UNROLL for (int kk = 0; kk < Cfg::BK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[Cfg::frags_m];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, b_layout> fb[Cfg::frags_n];
            GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i)
                wmma::load_matrix_sync(fa[i], as + (wm + 16 * i) * Cfg::lda + kk, Cfg::lda);
            GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j) {
                if constexpr (Op::b_col_major)
                    wmma::load_matrix_sync(fb[j], bs + (wn + 16 * j) * Cfg::ldb_col + kk, Cfg::ldb_col);
                else
                    wmma::load_matrix_sync(fb[j], bs + kk * Cfg::ldb_row + wn + 16 * j, Cfg::ldb_row);
            }
            GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i)
                GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (more) {
            store_slice(la, ra, a_base + (stage ^ 1) * Cfg::a_stage);
            store_slice(lb, rb, b_base + (stage ^ 1) * Cfg::b_stage);
        }
        __syncthreads();
    }

    // Epilogue: the accumulators go through shared memory (the C tile overlays the stages, free
    // after the last barrier) so that each thread then writes consecutive output pixels.
    float* const cs = smem;
    GANT_UNROLL for (int i = 0; i < Cfg::frags_m; ++i)
        GANT_UNROLL for (int j = 0; j < Cfg::frags_n; ++j)
            wmma::store_matrix_sync(cs + (wm + 16 * i) * Cfg::ldc + wn + 16 * j, acc[i][j], Cfg::ldc,
                                    wmma::mem_row_major);
    __syncthreads();
    write_block_tile<Cfg, Op>(p, work, cs, splits, workspace, workspace_ld);
}

/// Adds the splits' partial sums (in split order) and applies the epilogue: one thread per
/// C[m][j]; grid (columns / 256, M, phases).
template <class Op>
__global__ void __launch_bounds__(256)
    splitk_reduce_kernel(const typename Op::params p, int splits, const float* __restrict__ workspace,
                         int workspace_ld) {
    using phase_t = typename Op::phase_t;
    __shared__ __align__(16) unsigned char phase_storage[sizeof(phase_t)];
    const int phase = int(blockIdx.z), m = int(blockIdx.y);
    if (threadIdx.x == 0) new (phase_storage) phase_t(Op::make_phase(p, phase));
    __syncthreads();
    const phase_t ph = *reinterpret_cast<const phase_t*>(phase_storage);
    const int j = int(blockIdx.x) * 256 + int(threadIdx.x);
    if (j < ph.N) reduce_and_store<Op>(p, ph, phase, splits, workspace, workspace_ld, m, j);
}

}  // namespace gant::cuda::detail
