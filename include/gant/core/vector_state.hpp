#pragma once
// Calls into library code built for SSE, made from code built for AVX.
//
// On x86, an SSE (non-VEX) instruction that runs while the upper halves of the vector registers
// hold data pays a penalty on every instruction. Compilers clear those halves (vzeroupper) before
// calls and returns, so the penalty should never arise, but GCC 12 with -march=native (here
// cooperlake) was seen leaving them dirty: a 512-bit loop that fills a transposed convolution's
// output with its bias, then a call and a return without vzeroupper. glibc 2.36's tanhf, expm1f
// and log1pf have no AVX builds (its exp, log and trigonometric functions have), so every tanh of
// the DCGAN generator's output ran about ten times slower than it should: 6% of a WGAN-GP step.
//
// leave_upper_vector_state_clean() is called right before such a call. It is one instruction,
// compiled only in translation units built for AVX, where the compiler's own code runs AVX
// instructions anywhere. Elsewhere it is nothing: there the only AVX code is gant's GEMM kernels
// (built with target attributes; the compiler closes each with vzeroupper) and the BLAS library,
// and a probe built without -march=native showed tanhf at its normal cost.

namespace gant::detail {

// Always inlined, so that each translation unit gets the body its own flags call for.
[[gnu::always_inline]] inline void leave_upper_vector_state_clean() noexcept {
#if defined(__AVX__) && !defined(__CUDA_ARCH__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_ia32_vzeroupper();
#endif
}

}  // namespace gant::detail
