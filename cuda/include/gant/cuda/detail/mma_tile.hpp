#pragma once
// The warp-level data movement of the pipelined tensor-core kernel (mma_kernel.cuh; its tile
// configurations, mma_config, are in igemm.hpp with the others), written for two compilers like igemm.hpp: nvcc builds them into the
// kernel, and any C++ compiler into the CPU emulation (tests/cuda/support/emulate.hpp), which
// runs the same fragment loads and accumulator stores lane by lane. Only the mma instruction
// itself is GPU-only; the emulation multiplies the fragments as the PTX ISA lays them out.
//
// Each warp computes its WM x WN part of the block's tile as (WM/16) x (WN/8) products of the
// PTX instruction mma.sync.m16n8k8 with TF32 operands and FP32 accumulators. The fragments of
// that instruction, for lane = 4*g + t (g = lane / 4, t = lane % 4), are (PTX ISA, "Matrix
// fragments for mma.m16n8k8", .tf32):
//   A (16x8, row-major): a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
//   B (8x8):             b0 = B[t][g], b1 = B[t+4][g]
//   C (16x8):            c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
// The shared tiles are padded so that these reads hit 32 distinct banks: A rows [BM][BK+4]
// (bank 4g + t), row-major B [BK][BN+8] (bank 8t + g), column-major B [BN][BK+4] (4g + t).
//
// The operands arrive in shared memory by cp.async, unrounded; each lane rounds the values it
// reads to TF32 (round to nearest, ties away, cvt.rna) before the product, so the arithmetic is
// that of the two-stage kernel: TF32 operands, FP32 accumulation.
#include <cstddef>

#include "gant/cuda/detail/igemm.hpp"

namespace gant::cuda::detail {

/// One warp's fragments: loads from the shared tiles (rounded to TF32) and the accumulator
/// store into the C tile. `wm`, `wn` are the warp's first row and column in the block's tile.
template <class Cfg, bool BColMajor>
struct warp_fragments {
    static constexpr int fm = Cfg::frags_m, fn = Cfg::frags_n;

    /// The A fragment of rows [row, row + 16) and columns [kk, kk + 8).
    GANT_HD static void load_a_one(const float* as, int row, int kk, int lane, float (&a)[4]) {
        const int g = lane >> 2, t = lane & 3;
        const float* p = as + (row + g) * Cfg::lda + kk + t;
        a[0] = round_tf32(p[0]);
        a[1] = round_tf32(p[8 * Cfg::lda]);
        a[2] = round_tf32(p[4]);
        a[3] = round_tf32(p[8 * Cfg::lda + 4]);
    }

    /// The warp's fm A fragments, rows [wm, wm + WM).
    GANT_HD static void load_a(const float* as, int wm, int kk, int lane, float (&a)[fm][4]) {
        GANT_UNROLL for (int i = 0; i < fm; ++i) load_a_one(as, wm + 16 * i, kk, lane, a[i]);
    }

    GANT_HD static void load_b(const float* bs, int wn, int kk, int lane, float (&b)[fn][2]) {
        const int g = lane >> 2, t = lane & 3;
        GANT_UNROLL for (int j = 0; j < fn; ++j) {
            const int n = wn + 8 * j + g;
            if constexpr (BColMajor) {
                const float* p = bs + n * Cfg::ldb_col + kk + t;
                b[j][0] = round_tf32(p[0]);
                b[j][1] = round_tf32(p[4]);
            } else {
                const float* p = bs + (kk + t) * Cfg::ldb_row + n;
                b[j][0] = round_tf32(p[0]);
                b[j][1] = round_tf32(p[4 * Cfg::ldb_row]);
            }
        }
    }

    GANT_HD static void store_c(float* cs, int wm, int wn, int lane, const float (&acc)[fm][fn][4]) {
        const int g = lane >> 2, t = lane & 3;
        GANT_UNROLL for (int i = 0; i < fm; ++i)
            GANT_UNROLL for (int j = 0; j < fn; ++j) {
                float* p = cs + (wm + 16 * i + g) * Cfg::ldc + wn + 8 * j + 2 * t;
                p[0] = acc[i][j][0];
                p[1] = acc[i][j][1];
                p[8 * Cfg::ldc] = acc[i][j][2];
                p[8 * Cfg::ldc + 1] = acc[i][j][3];
            }
    }
};

}  // namespace gant::cuda::detail
