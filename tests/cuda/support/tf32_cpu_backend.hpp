#pragma once
// A CPU backend for comparing with the GPU: backend::cpu whose matrix products round both
// operands to TF32 first (10 mantissa bits, to nearest with ties away from zero: PTX's cvt.rna,
// what gant's convolution kernels do to every operand). A CPU network built on it computes each
// convolution from the operands the tensor cores see, so it differs from the device network by
// the order of FP32 sums alone, not by TF32's 3e-4: a ReLU's or leaky ReLU's kink then almost
// never falls between the two (the element where an activation's input is within TF32 error of
// 0 takes a different derivative on each side, an O(1) difference at that element). Its dense
// layers round too, unlike the device's FP32 cuBLAS products.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gant/backend/cpu.hpp"

namespace gant::cuda::testing {

inline float round_to_tf32(float x) {
    std::uint32_t u = std::bit_cast<std::uint32_t>(x);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;  // infinity and NaN unchanged
    u += 0x1000u;                                    // half of the 13 dropped bits: ties away
    return std::bit_cast<float>(u & 0xffffe000u);
}

struct cpu_tf32 : gant::backend::cpu {
    template <class T>
    static void gemm(blas::op ta, blas::op tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                     std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
        // The products may run on several pool threads at once: scratch per thread.
        thread_local std::vector<T> ra, rb;
        const std::size_t a_rows = ta == blas::op::transpose ? k : m, b_rows = tb == blas::op::transpose ? n : k;
        ra.assign(a, a + (a_rows == 0 ? 0 : (a_rows - 1) * lda + (ta == blas::op::transpose ? m : k)));
        rb.assign(b, b + (b_rows == 0 ? 0 : (b_rows - 1) * ldb + (tb == blas::op::transpose ? k : n)));
        for (auto& v : ra) v = round_to_tf32(v);
        for (auto& v : rb) v = round_to_tf32(v);
        gant::backend::cpu::gemm(ta, tb, m, n, k, alpha, ra.data(), lda, rb.data(), ldb, beta, c, ldc);
    }

    /// The layers' left operand (a weight matrix prepared once per pass, backend::cpu's
    /// pass_left_operand): here a rounded copy of op(A), multiplied through the gemm above so the
    /// right operand is rounded too.
    template <class T>
    struct rounded_left {
        std::vector<T> a;
        blas::op ta = blas::op::none;
        std::size_t m = 0, k = 0, lda = 0;

        void prepare(blas::op op_a, std::size_t rows, std::size_t depth, const T* values, std::size_t ld) {
            ta = op_a, m = rows, k = depth, lda = ld;
            const std::size_t stored_rows = ta == blas::op::transpose ? k : m;
            a.assign(values,
                     values + (stored_rows == 0 ? 0 : (stored_rows - 1) * lda + (ta == blas::op::transpose ? m : k)));
        }
    };

    template <class T>
    static rounded_left<T>& pass_left_operand() {
        thread_local rounded_left<T> operand;
        return operand;
    }

    template <class T>
    static void gemm(const rounded_left<T>& a, blas::op tb, std::size_t n, T alpha, const T* b, std::size_t ldb, T beta,
                     T* c, std::size_t ldc) {
        gemm(a.ta, tb, a.m, n, a.k, alpha, a.a.data(), a.lda, b, ldb, beta, c, ldc);  // rounds both operands
    }
};

}  // namespace gant::cuda::testing
