#pragma once
// Calls into library code built for SSE, made from code built for AVX.
//
// On x86, an SSE (non-VEX) instruction that runs while the upper halves of the vector registers
// hold data pays a penalty on every instruction. Compilers clear those halves (vzeroupper) before
// calls and returns, so the penalty should never arise, but GCC 12 with -march=cooperlake was seen
// leaving them dirty: the 512-bit loop that fills a transposed convolution's output with its
// bias, then a call and a return without vzeroupper. glibc's tanhf, expm1f and log1pf have no AVX
// builds (exp, log and the trigonometric functions have), so every tanh of the DCGAN generator's
// output ran about ten times slower than it should: 7% of a WGAN-GP training step.
//
// leave_upper_vector_state_clean() is called right before such a call. It is one instruction,
// compiled only where AVX code can have run before it (the translation unit is built for AVX);
// elsewhere it is nothing.

namespace gant::detail {

inline void leave_upper_vector_state_clean() noexcept {
#if defined(__AVX__) && !defined(__CUDA_ARCH__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_ia32_vzeroupper();
#endif
}

}  // namespace gant::detail
