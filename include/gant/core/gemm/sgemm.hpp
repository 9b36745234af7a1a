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

/// A left operand op(A) [m x k] packed once for many products with it. A convolution multiplies
/// its weights by every chunk of a batch; packing them per chunk cost as much as packing the
/// chunk itself (more where the weights outnumber a chunk's columns, as in DCGAN's deep layers).
/// The packing is in the layout of the kernel active at pack(); a product finds out whether it
/// can use it (same kernel, a product worth packing) and otherwise runs from the operand itself,
/// so the operand must stay alive and unchanged from pack() to the last product.
class sgemm_left {
public:
    /// Remembers op(A) and packs it for the active kernel (which allocates only when the operand
    /// outgrows every earlier one: steady state allocates nothing).
    void pack(bool ta, std::size_t m, std::size_t k, const float* a, std::size_t lda) {
        ta_ = ta, m_ = m, k_ = k, a_ = a, lda_ = lda;
        kernel_ = sgemm_kernel::openblas;  // "not packed" until it is
        if (m < 2 || k == 0) return;
#if defined(GANT_GEMM_X86_KERNELS)
        const sgemm_kernel active = active_sgemm_kernel();
        if (active == sgemm_kernel::avx512) pack_for<kernels::avx512>(active);
        if (active == sgemm_kernel::avx2) pack_for<kernels::avx2>(active);
#endif
    }

    /// C[m x n] = alpha * op(A) * op(B) + beta * C with this op(A).
    void multiply(bool tb, std::size_t n, float alpha, const float* b, std::size_t ldb, float beta, float* c,
                  std::size_t ldc) const {
        if (m_ == 0 || n == 0) return;
        const bool worth_packing = n >= 2 && alpha != 0.0f && m_ * n * k_ >= 4096;
#if defined(GANT_GEMM_X86_KERNELS)
        if (worth_packing && kernel_ == active_sgemm_kernel()) {
            if (kernel_ == sgemm_kernel::avx512)
                return detail::packed_gemm<kernels::avx512>(ta_, tb, m_, n, k_, alpha, a_, lda_, b, ldb, beta, c, ldc,
                                                            packed_.get());
            if (kernel_ == sgemm_kernel::avx2)
                return detail::packed_gemm<kernels::avx2>(ta_, tb, m_, n, k_, alpha, a_, lda_, b, ldb, beta, c, ldc,
                                                          packed_.get());
        }
#else
        (void)worth_packing;
#endif
        sgemm(ta_, tb, m_, n, k_, alpha, a_, lda_, b, ldb, beta, c, ldc);
    }

private:
    template <class Kernel>
    void pack_for(sgemm_kernel kernel) {
        const std::size_t floats = detail::padded_rows<Kernel::mr>(m_) * k_;
        if (floats > capacity_) {
            packed_.reset();  // first: the old packing is not needed, and both at once would raise the peak
            capacity_ = 0;
            packed_ = detail::packing_buffers::make(floats);
            capacity_ = floats;
        }
        detail::pack_whole_a<Kernel::mr>(ta_, a_, lda_, m_, k_, packed_.get());
        kernel_ = kernel;
    }

    bool ta_ = false;
    std::size_t m_ = 0, k_ = 0, lda_ = 0;
    const float* a_ = nullptr;
    sgemm_kernel kernel_ = sgemm_kernel::openblas;
    detail::packing_buffers::buffer packed_;
    std::size_t capacity_ = 0;
};

}  // namespace gant::blas
