#pragma once
// Which single-precision GEMM gant's float layers run on: its own packed kernels (packed_gemm.hpp)
// or the CBLAS library it links (OpenBLAS in practice).
//
// Why gant carries its own: OpenBLAS picks its kernels from the CPU model it recognises, and a
// Debian 12 OpenBLAS (0.3.21) does not recognise recent x86 CPUs: on the development machine (an
// AVX-512 Xeon) it falls back to its SSE3 "Prescott" kernels, about a third of the machine's
// speed, and GEMMs were ~70% of a training step (docs/performance.md). gant's kernels are chosen
// from the instructions the CPU reports, not from a model table, so they keep up with new CPUs.
//
// The choice is made once, at the first GEMM: the best kernel the CPU supports, unless the
// environment variable GANT_SGEMM names another ("openblas", "avx2", "avx512"), or a program calls
// set_sgemm_kernel. Double precision (gradient checks, metrics) always uses the CBLAS library.
#include <cblas.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "gant/core/gemm/micro_kernels.hpp"
#include "gant/core/gemm/packed_gemm.hpp"

namespace gant::blas {

enum class sgemm_kernel { openblas, avx2, avx512 };

inline const char* name(sgemm_kernel k) {
    switch (k) {
        case sgemm_kernel::avx2: return "avx2";
        case sgemm_kernel::avx512: return "avx512";
        default: return "openblas";
    }
}

/// Whether this CPU (and this build: x86-64 with GCC or clang) can run kernel k.
inline bool supported(sgemm_kernel k) {
#if defined(GANT_GEMM_X86_KERNELS)
    if (k == sgemm_kernel::avx512) return kernels::avx512::supported();
    if (k == sgemm_kernel::avx2) return kernels::avx2::supported();
#endif
    return k == sgemm_kernel::openblas;
}

/// The fastest kernel this CPU supports.
inline sgemm_kernel best_sgemm_kernel() {
    for (sgemm_kernel k : {sgemm_kernel::avx512, sgemm_kernel::avx2})
        if (supported(k)) return k;
    return sgemm_kernel::openblas;
}

namespace detail {

inline sgemm_kernel kernel_from_environment() {
    const char* value = std::getenv("GANT_SGEMM");
    if (value == nullptr || *value == '\0' || std::string_view(value) == "auto") return best_sgemm_kernel();
    for (sgemm_kernel k : {sgemm_kernel::openblas, sgemm_kernel::avx2, sgemm_kernel::avx512})
        if (std::string_view(value) == name(k)) {
            if (!supported(k))
                throw std::runtime_error(std::string("gant: GANT_SGEMM=") + value + " names a kernel this CPU does not support");
            return k;
        }
    throw std::runtime_error(std::string("gant: GANT_SGEMM must be auto, openblas, avx2 or avx512, not '") + value + "'");
}

inline std::atomic<sgemm_kernel>& active_kernel() {
    static std::atomic<sgemm_kernel> kernel{kernel_from_environment()};
    return kernel;
}

}  // namespace detail

/// The kernel float GEMMs use now.
inline sgemm_kernel active_sgemm_kernel() { return detail::active_kernel().load(std::memory_order_relaxed); }

/// Chooses the kernel for every later float GEMM in the process (for benchmarks and tests that
/// compare kernels). Throws std::invalid_argument when the CPU cannot run it.
inline void set_sgemm_kernel(sgemm_kernel k) {
    if (!supported(k)) throw std::invalid_argument(std::string("gant: the ") + name(k) + " GEMM kernel is not supported by this CPU");
    detail::active_kernel().store(k, std::memory_order_relaxed);
}

/// C[m x n] = alpha * op(A) * op(B) + beta * C, row-major, single precision, on the active kernel.
/// BLAS semantics: with beta == 0, C is written without being read (it may hold NaN).
inline void sgemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                  std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    const sgemm_kernel kernel = active_sgemm_kernel();
    // Vector-shaped and tiny products are bound by memory, not arithmetic: packing would only add
    // to them, so they stay with the library (as does k == 0 or alpha == 0: C = beta * C).
    const bool worth_packing = m >= 2 && n >= 2 && k > 0 && alpha != 0.0f && m * n * k >= 4096;
#if defined(GANT_GEMM_X86_KERNELS)
    if (worth_packing && kernel == sgemm_kernel::avx512)
        return detail::packed_gemm<kernels::avx512>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (worth_packing && kernel == sgemm_kernel::avx2)
        return detail::packed_gemm<kernels::avx2>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
    (void)kernel;
    (void)worth_packing;
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
                alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

}  // namespace gant::blas
