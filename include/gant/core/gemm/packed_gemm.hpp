#pragma once
// The cache-blocked GEMM driver around a micro-kernel (micro_kernels.hpp), single precision,
// row-major, single-threaded (gant's pool parallelises over the batch and calls this from each
// worker, so the driver keeps its packing buffers per thread).
//
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, with the classic three-level blocking:
//
//   for each block of nc columns of C:              B block (kc x nc) packed once, stays in L2/L3
//     for each block of kc steps of the sum:
//       pack B[pc:pc+kc, jc:jc+nc] into NR-wide micro-panels
//       for each block of mc rows:                  A block (mc x kc) packed, stays in L2
//         pack A[ic:ic+mc, pc:pc+kc] into MR-tall micro-panels
//         for each NR micro-panel of B:             stays in L1 while ...
//           for each MR micro-panel of A:           ... every A panel streams past it
//             tile += A_panel * B_panel
//
// Packing turns any layout (either operand transposed, any leading dimension) into the one
// contiguous order the kernel reads, and pads partial panels with zeros, so the kernel has no
// edge cases; a partial tile of C is computed into a scratch tile and only its valid part is
// written back. The first kc block applies beta; later blocks accumulate (beta = 1).
#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>

#include "gant/core/gemm/micro_kernels.hpp"  // GANT_GEMM_X86_KERNELS and <immintrin.h>

namespace gant::blas::detail {

// Block sizes, in elements. kc * nr * 4 bytes (the B micro-panel, 32 KiB for nr = 32) fits the
// L1 data cache with room for the A panel streaming through; mc * kc (the A block, 144 KiB) sits
// in L2; kc * nc (the B block, at most 4 MiB) in L2/L3. mc is a multiple of both kernels' mr.
inline constexpr std::size_t block_k = 256, block_m = 144, block_n = 4096;

/// Per-thread packing buffers, allocated on a thread's first GEMM and kept: steady-state GEMMs
/// allocate nothing. The B block is sized to the largest one this thread has packed, not to
/// block_k x block_n: most products of a GAN are narrower or shorter (a 28x28 DCGAN's largest
/// needs 1.6 of the 4 MiB), and each thread holds its own.
struct packing_buffers {
    struct aligned_delete {
        void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
    };
    using buffer = std::unique_ptr<float[], aligned_delete>;

    static buffer make(std::size_t floats) {
        return buffer(static_cast<float*>(::operator new[](floats * sizeof(float), std::align_val_t(64))));
    }

    // The largest tile of any kernel: 8 x 32.
    static constexpr std::size_t max_tile = 8 * 32;

    buffer a = make(block_m * block_k);
    alignas(64) float tile[max_tile];

    /// The B block for kc x nc values in NR-wide panels, grown when a product needs more (the old
    /// block is freed first: it holds nothing between products).
    template <std::size_t NR>
    float* b_block(std::size_t kc, std::size_t nc) {
        const std::size_t floats = kc * ((nc + NR - 1) / NR * NR);
        if (floats > b_capacity_) {
            b_.reset();
            b_capacity_ = 0;
            b_ = make(floats);
            b_capacity_ = floats;
        }
        return b_.get();
    }

    static packing_buffers& for_this_thread() {
        thread_local packing_buffers buffers;
        return buffers;
    }

private:
    buffer b_;
    std::size_t b_capacity_ = 0;
};

#if defined(GANT_GEMM_X86_KERNELS)
/// The packing step that dominates when an operand is stored along the sum: 8 rows of `src`
/// (row r at src + r * ld), each read contiguously along p, are written as out[p * ld_out + r]
/// for p in [0, whole), whole = count rounded down to a multiple of 8; returns whole. Done as
/// 8 x 8 register transposes: the scalar loop, which writes every value 32 bytes from the last,
/// was 4-6% of a training step in perf (wgan_gp28, dcgan64). AVX2 is enough, and every x86
/// kernel implies it.
__attribute__((target("avx2"))) inline std::size_t transpose_rows_8x8(const float* src, std::size_t ld,
                                                                      std::size_t count, float* out,
                                                                      std::size_t ld_out) {
    const std::size_t whole = count / 8 * 8;
    for (std::size_t p = 0; p < whole; p += 8) {
        const __m256 r0 = _mm256_loadu_ps(src + 0 * ld + p), r1 = _mm256_loadu_ps(src + 1 * ld + p);
        const __m256 r2 = _mm256_loadu_ps(src + 2 * ld + p), r3 = _mm256_loadu_ps(src + 3 * ld + p);
        const __m256 r4 = _mm256_loadu_ps(src + 4 * ld + p), r5 = _mm256_loadu_ps(src + 5 * ld + p);
        const __m256 r6 = _mm256_loadu_ps(src + 6 * ld + p), r7 = _mm256_loadu_ps(src + 7 * ld + p);
        // Interleave pairs of rows, then pairs of pairs: each 128-bit half then holds one column's
        // four values from rows 0-3 (low half) or 4-7 (high half) ...
        const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
        const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
        const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        // ... and joining the halves gives whole columns: p, p+1, ..., p+7 in order.
        float* dst = out + p * ld_out;
        _mm256_storeu_ps(dst + 0 * ld_out, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(dst + 1 * ld_out, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(dst + 2 * ld_out, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(dst + 3 * ld_out, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(dst + 4 * ld_out, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(dst + 5 * ld_out, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(dst + 6 * ld_out, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(dst + 7 * ld_out, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    return whole;
}
#endif

/// Copies N floats. A loop with a constant count becomes a few vector moves; std::copy_n of a
/// short run compiled to a memmove call per panel step, which cost more than the copy.
template <std::size_t N>
inline void copy_fixed(const float* src, float* dst) {
#pragma GCC unroll 32
    for (std::size_t i = 0; i < N; ++i) dst[i] = src[i];
}

/// Packs rows [i0, i0 + rows) x steps [p0, p0 + kc) of op(A) into MR-tall micro-panels:
/// panel q holds, for each step p, the MR values A(i0 + q*MR + r, p0 + p); rows past the end are 0.
template <std::size_t MR>
void pack_a(bool transposed, const float* a, std::size_t lda, std::size_t i0, std::size_t rows, std::size_t p0,
            std::size_t kc, float* out) {
    for (std::size_t q = 0; q < rows; q += MR, out += MR * kc) {
        const std::size_t valid = std::min(MR, rows - q);
        if (!transposed) {  // A(i, p) = a[i * lda + p]: each row is contiguous along p
#if defined(GANT_GEMM_X86_KERNELS)
            if constexpr (MR == 8) {
                if (valid == MR) {  // a full panel is a run of 8 x 8 transposes
                    const std::size_t whole = transpose_rows_8x8(a + (i0 + q) * lda + p0, lda, kc, out, MR);
                    for (std::size_t r = 0; r < MR; ++r) {
                        const float* src = a + (i0 + q + r) * lda + p0;
                        for (std::size_t p = whole; p < kc; ++p) out[p * MR + r] = src[p];
                    }
                    continue;
                }
            }
#endif
            for (std::size_t r = 0; r < valid; ++r) {
                const float* src = a + (i0 + q + r) * lda + p0;
                for (std::size_t p = 0; p < kc; ++p) out[p * MR + r] = src[p];
            }
            for (std::size_t r = valid; r < MR; ++r)
                for (std::size_t p = 0; p < kc; ++p) out[p * MR + r] = 0.0f;
        } else {  // A(i, p) = a[p * lda + i]: each step's MR values are contiguous
            if (valid == MR) {  // a fixed-length copy per step, which the compiler vectorises
                for (std::size_t p = 0; p < kc; ++p) copy_fixed<MR>(a + (p0 + p) * lda + i0 + q, out + p * MR);
                continue;
            }
            for (std::size_t p = 0; p < kc; ++p) {
                const float* src = a + (p0 + p) * lda + i0 + q;
                float* dst = out + p * MR;
                for (std::size_t r = 0; r < valid; ++r) dst[r] = src[r];
                for (std::size_t r = valid; r < MR; ++r) dst[r] = 0.0f;
            }
        }
    }
}

/// Packs steps [p0, p0 + kc) x columns [j0, j0 + cols) of op(B) into NR-wide micro-panels:
/// panel q holds, for each step p, the NR values B(p0 + p, j0 + q*NR + c); columns past the end are 0.
template <std::size_t NR>
void pack_b(bool transposed, const float* b, std::size_t ldb, std::size_t p0, std::size_t kc, std::size_t j0,
            std::size_t cols, float* out) {
    for (std::size_t q = 0; q < cols; q += NR, out += NR * kc) {
        const std::size_t valid = std::min(NR, cols - q);
        if (!transposed) {  // B(p, j) = b[p * ldb + j]: each step's NR values are contiguous
            if (valid == NR) {
                for (std::size_t p = 0; p < kc; ++p) copy_fixed<NR>(b + (p0 + p) * ldb + j0 + q, out + p * NR);
                continue;
            }
            for (std::size_t p = 0; p < kc; ++p) {
                const float* src = b + (p0 + p) * ldb + j0 + q;
                float* dst = out + p * NR;
                for (std::size_t c = 0; c < valid; ++c) dst[c] = src[c];
                for (std::size_t c = valid; c < NR; ++c) dst[c] = 0.0f;
            }
        } else {  // B(p, j) = b[j * ldb + p]: each column is contiguous along p
#if defined(GANT_GEMM_X86_KERNELS)
            if constexpr (NR % 8 == 0) {
                if (valid % 8 == 0) {  // runs of 8 x 8 transposes, side by side; missing columns are 0
                    std::size_t whole = 0;
                    for (std::size_t c = 0; c < valid; c += 8)
                        whole = transpose_rows_8x8(b + (j0 + q + c) * ldb + p0, ldb, kc, out + c, NR);
                    for (std::size_t c = 0; c < valid; ++c) {
                        const float* src = b + (j0 + q + c) * ldb + p0;
                        for (std::size_t p = whole; p < kc; ++p) out[p * NR + c] = src[p];
                    }
                    if (valid < NR)
                        for (std::size_t p = 0; p < kc; ++p) std::fill_n(out + p * NR + valid, NR - valid, 0.0f);
                    continue;
                }
            }
#endif
            for (std::size_t c = 0; c < valid; ++c) {
                const float* src = b + (j0 + q + c) * ldb + p0;
                for (std::size_t p = 0; p < kc; ++p) out[p * NR + c] = src[p];
            }
            for (std::size_t c = valid; c < NR; ++c)
                for (std::size_t p = 0; p < kc; ++p) out[p * NR + c] = 0.0f;
        }
    }
}

/// Rows of op(A) rounded up to whole MR-tall panels: the height of a packed A.
template <std::size_t MR>
constexpr std::size_t padded_rows(std::size_t m) {
    return (m + MR - 1) / MR * MR;
}

/// Packs all of op(A) [m x k] the way packed_gemm visits it, so that many products can share one
/// packing: the block of steps [pc, pc + kc) and rows [ic, ic + mc) starts at
/// out + pc * padded_rows(m) + ic * kc (ic is a multiple of MR, so the rows' panels are contiguous).
/// out holds padded_rows<MR>(m) * k floats.
template <std::size_t MR>
void pack_whole_a(bool ta, const float* a, std::size_t lda, std::size_t m, std::size_t k, float* out) {
    for (std::size_t pc = 0; pc < k; pc += block_k)
        pack_a<MR>(ta, a, lda, 0, m, pc, std::min(block_k, k - pc), out + pc * padded_rows<MR>(m));
}

/// C = alpha * op(A) op(B) + beta * C through Kernel's tiles. Expects m, n, k > 0 and alpha != 0
/// (sgemm.hpp handles the degenerate cases the way BLAS defines them). With prepacked_a (from
/// pack_whole_a for this kernel's MR) A is read from there and a / lda / ta are not used.
template <class Kernel>
void packed_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc,
                 const float* prepacked_a = nullptr) {
    constexpr std::size_t MR = Kernel::mr, NR = Kernel::nr;
    static_assert(block_m % MR == 0 && block_n % NR == 0 && MR * NR <= packing_buffers::max_tile);
    packing_buffers& ws = packing_buffers::for_this_thread();
    float* const b_packed = ws.b_block<NR>(std::min(block_k, k), std::min(block_n, n));
    for (std::size_t jc = 0; jc < n; jc += block_n) {
        const std::size_t nc = std::min(block_n, n - jc);
        for (std::size_t pc = 0; pc < k; pc += block_k) {
            const std::size_t kc = std::min(block_k, k - pc);
            const float beta_block = pc == 0 ? beta : 1.0f;
            pack_b<NR>(tb, b, ldb, pc, kc, jc, nc, b_packed);
            for (std::size_t ic = 0; ic < m; ic += block_m) {
                const std::size_t mc = std::min(block_m, m - ic);
                const float* a_block = prepacked_a ? prepacked_a + pc * padded_rows<MR>(m) + ic * kc : ws.a.get();
                if (!prepacked_a) pack_a<MR>(ta, a, lda, ic, mc, pc, kc, ws.a.get());
                for (std::size_t jr = 0; jr < nc; jr += NR) {
                    const float* b_panel = b_packed + jr * kc;
                    const std::size_t cols = std::min(NR, nc - jr);
                    for (std::size_t ir = 0; ir < mc; ir += MR) {
                        const float* a_panel = a_block + ir * kc;
                        const std::size_t rows = std::min(MR, mc - ir);
                        float* c_tile = c + (ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR) {
                            Kernel::tile(kc, a_panel, b_panel, c_tile, ldc, alpha, beta_block);
                            continue;
                        }
                        // A partial tile: compute all of it into scratch, write back the valid part.
                        Kernel::tile(kc, a_panel, b_panel, ws.tile, NR, alpha, 0.0f);
                        for (std::size_t r = 0; r < rows; ++r)
                            for (std::size_t j = 0; j < cols; ++j) {
                                float& out = c_tile[r * ldc + j];
                                out = beta_block == 0.0f ? ws.tile[r * NR + j] : ws.tile[r * NR + j] + beta_block * out;
                            }
                    }
                }
            }
        }
    }
}

}  // namespace gant::blas::detail
