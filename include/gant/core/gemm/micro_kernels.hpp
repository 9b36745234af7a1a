#pragma once
// The register-blocked inner products of gant's own single-precision GEMM (packed_gemm.hpp).
//
// Each kernel computes one MR x NR tile of C from a packed A micro-panel (kc steps of MR values,
// one per row) and a packed B micro-panel (kc steps of NR values, one per column):
//
//     C[MR x NR] = alpha * (A_panel * B_panel) + beta * C      (beta == 0: C is not read)
//
// The whole tile lives in vector registers for the kc steps, so each loaded B vector feeds MR
// fused multiply-adds and each A value (broadcast straight from memory into the FMA) feeds NR/lanes
// of them. Why these tile shapes:
//   - AVX-512 (32 zmm registers): 8 x 32 keeps 16 accumulators, enough independent FMA chains to
//     hide the 4-cycle FMA latency on two FMA ports, with registers to spare for the two B vectors.
//     MR = 8 divides every channel count gant's topologies use, so few tiles run half empty.
//   - AVX2 (16 ymm registers): 6 x 16, 12 accumulators plus two B vectors and a broadcast.
//
// The kernels carry their own target attributes, so they compile into a default (-O3, no -march)
// build and are only called after the CPU said it has the instructions (sgemm.hpp). Outside x86-64
// none is compiled and GEMMs go to the CBLAS library.
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GANT_GEMM_X86_KERNELS 1
#endif

namespace gant::blas::kernels {

#if defined(GANT_GEMM_X86_KERNELS)

/// 8 x 32 tile, 512-bit vectors.
struct avx512 {
    static constexpr std::size_t mr = 8, nr = 32;
    static constexpr const char* name = "avx512";

    static bool supported() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }

    __attribute__((target("avx512f,avx2,fma"))) static void tile(std::size_t kc, const float* a, const float* b,
                                                                  float* c, std::size_t ldc, float alpha,
                                                                  float beta) {
        __m512 acc[mr][2];
#pragma GCC unroll 8
        for (std::size_t i = 0; i < mr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        for (std::size_t p = 0; p < kc; ++p, a += mr, b += nr) {
            const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
            for (std::size_t i = 0; i < mr; ++i) {
                const __m512 ai = _mm512_set1_ps(a[i]);
                acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        const __m512 va = _mm512_set1_ps(alpha);
        if (beta == 0.0f) {
#pragma GCC unroll 8
            for (std::size_t i = 0; i < mr; ++i) {
                _mm512_storeu_ps(c + i * ldc, _mm512_mul_ps(va, acc[i][0]));
                _mm512_storeu_ps(c + i * ldc + 16, _mm512_mul_ps(va, acc[i][1]));
            }
        } else {
            const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
            for (std::size_t i = 0; i < mr; ++i) {
                float* row = c + i * ldc;
                _mm512_storeu_ps(row, _mm512_fmadd_ps(va, acc[i][0], _mm512_mul_ps(vb, _mm512_loadu_ps(row))));
                _mm512_storeu_ps(row + 16,
                                 _mm512_fmadd_ps(va, acc[i][1], _mm512_mul_ps(vb, _mm512_loadu_ps(row + 16))));
            }
        }
    }
};

/// 6 x 16 tile, 256-bit vectors.
struct avx2 {
    static constexpr std::size_t mr = 6, nr = 16;
    static constexpr const char* name = "avx2";

    static bool supported() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

    __attribute__((target("avx2,fma"))) static void tile(std::size_t kc, const float* a, const float* b, float* c,
                                                         std::size_t ldc, float alpha, float beta) {
        __m256 acc[mr][2];
#pragma GCC unroll 6
        for (std::size_t i = 0; i < mr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        for (std::size_t p = 0; p < kc; ++p, a += mr, b += nr) {
            const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
            for (std::size_t i = 0; i < mr; ++i) {
                const __m256 ai = _mm256_broadcast_ss(a + i);
                acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        const __m256 va = _mm256_set1_ps(alpha);
        if (beta == 0.0f) {
#pragma GCC unroll 6
            for (std::size_t i = 0; i < mr; ++i) {
                _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc[i][0]));
                _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc[i][1]));
            }
        } else {
            const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
            for (std::size_t i = 0; i < mr; ++i) {
                float* row = c + i * ldc;
                _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc[i][0], _mm256_mul_ps(vb, _mm256_loadu_ps(row))));
                _mm256_storeu_ps(row + 8,
                                 _mm256_fmadd_ps(va, acc[i][1], _mm256_mul_ps(vb, _mm256_loadu_ps(row + 8))));
            }
        }
    }
};

#endif  // GANT_GEMM_X86_KERNELS

}  // namespace gant::blas::kernels
