#pragma once
// The row work of SAGAN's self-attention (layers/self_attention.hpp): the softmax over each row
// of the transposed attention map and the rules that carry adjoints and tangents through it.
// One row is one output position's distribution over the input positions, so every loop runs
// along contiguous memory and sums in index order.
//
// Written once for both backends: the CPU layer calls these functions per row, and the CUDA
// backend's kernels (cuda/src/attention.cu) run them one thread per row, so the two compute the
// same operations in the same order. The only difference is exp: <cmath>'s on the CPU, CUDA's
// expf on the device (within 2 ulp). Dependency-free on purpose (no xtensor): nvcc compiles it.
#include <cmath>
#include <cstddef>

#include "gant/core/host_device.hpp"

namespace gant::attention_rows {

template <class T>
GANT_HOST_DEVICE inline T exponential(T x) {
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(T) == sizeof(float))
        return expf(x);
    else
        return exp(x);
#else
    return std::exp(x);
#endif
}

/// In place: z <- softmax(z) over n entries, shifted by the row's maximum so no exp overflows.
template <class T>
GANT_HOST_DEVICE void softmax(T* z, std::size_t n) {
    T top = z[0];
    for (std::size_t i = 1; i < n; ++i)
        if (top < z[i]) top = z[i];
    T sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        z[i] = exponential(z[i] - top);
        sum += z[i];
    }
    const T inv = T(1) / sum;
    for (std::size_t i = 0; i < n; ++i) z[i] *= inv;
}

/// In place: b <- b - sum_i p_i b_i (b centred under the distribution p).
template <class T>
GANT_HOST_DEVICE void centre(const T* p, T* b, std::size_t n) {
    T mean = 0;
    for (std::size_t i = 0; i < n; ++i) mean += p[i] * b[i];
    for (std::size_t i = 0; i < n; ++i) b[i] -= mean;
}

/// In place: b <- p * (b - sum_i p_i b_i), the softmax Jacobian (symmetric) applied to b: the
/// adjoint of the logits from the adjoint of the probabilities.
template <class T>
GANT_HOST_DEVICE void softmax_adjoint(const T* p, T* b, std::size_t n) {
    centre(p, b, n);
    for (std::size_t i = 0; i < n; ++i) b[i] *= p[i];
}

/// The tangent through the softmax: u (the logits' tangent) is centred in place, and
/// pdot = p * u is the probabilities' tangent. The centred u is what the paired pass reads.
template <class T>
GANT_HOST_DEVICE void softmax_tangent(const T* p, T* u, T* pdot, std::size_t n) {
    centre(p, u, n);
    for (std::size_t i = 0; i < n; ++i) pdot[i] = p[i] * u[i];
}

/// The paired reverse through the softmax, from the adjoints of the probabilities (pbar) and of
/// their tangent (pdotbar), with u the centred logit tangent of softmax_tangent:
///     E = centre(p, pdotbar),  pbar += u * E,  pdotbar <- p * E (the logit tangent's adjoint),
///     pbar <- softmax_adjoint(p, pbar) (the logits' adjoint).
/// (u * E is the adjoint of pdot = J(p) u with respect to p.)
template <class T>
GANT_HOST_DEVICE void softmax_paired(const T* p, const T* u, T* pbar, T* pdotbar, std::size_t n) {
    centre(p, pdotbar, n);
    for (std::size_t i = 0; i < n; ++i) {
        pbar[i] += u[i] * pdotbar[i];
        pdotbar[i] *= p[i];
    }
    softmax_adjoint(p, pbar, n);
}

}  // namespace gant::attention_rows
