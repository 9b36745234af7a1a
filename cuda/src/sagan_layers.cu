// The device work of SAGAN's two layers beyond the products and the softmax rows: spectral
// normalisation (gant/cuda/spectral.hpp) and the self-attention block's residual
// (gant/cuda/scaled_residual.hpp). Argument checks, then the passes of detail/sagan_ops.hpp run
// by device_exec.
#include <cstddef>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/device_exec.cuh"
#include "gant/cuda/detail/sagan_ops.hpp"
#include "gant/cuda/scaled_residual.hpp"
#include "gant/cuda/spectral.hpp"

namespace gant::cuda {

using detail::require_argument;

namespace {

void require_matrix(const spectral_matrix& m, const char* function) {
    require_argument(m.rows > 0 && m.cols > 0 && m.block > 0, function, "the matrix must not be empty");
    require_argument(m.cols % m.block == 0, function, "the column count must be a multiple of the block size");
}

}  // namespace

void spectral_normalise(const spectral_matrix& matrix, std::size_t power_steps, const float* weight, float* u, float* v,
                        float* sigma, float* normalised_weight, cudaStream_t stream) {
    require_matrix(matrix, "spectral_normalise");
    require_argument(weight && u && v && sigma, "spectral_normalise", "the weight, u, v or sigma pointer is null");
    detail::spectral_normalise_pass(detail::device_exec{stream}, matrix, power_steps, weight, u, v, sigma,
                                    normalised_weight);
}

void spectral_pull_back(const spectral_matrix& matrix, const float* g, const float* normalised_weight, const float* u,
                        const float* v, const float* sigma, float* weight_grad, cudaStream_t stream) {
    require_matrix(matrix, "spectral_pull_back");
    require_argument(g && normalised_weight && u && v && sigma && weight_grad, "spectral_pull_back",
                     "a gradient, weight, u, v or sigma pointer is null");
    detail::spectral_pull_back_pass(detail::device_exec{stream}, matrix, g, normalised_weight, u, v, sigma,
                                    weight_grad);
}

void scaled_residual(const float* gamma, const float* o, const float* x, float* y, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (gamma && o && y), "scaled_residual", "the gamma, input or output pointer is null");
    detail::run_elementwise(detail::scaled_residual_op{gamma, o, x, y}, n, stream, "launch of scaled_residual");
}

void accumulate_scale_gradient(const float* ybar, const float* o, const float* ydotbar, const float* odot,
                               std::size_t samples, std::size_t features, float* gamma_grad, cudaStream_t stream) {
    require_argument(gamma_grad != nullptr, "accumulate_scale_gradient", "the gradient pointer is null");
    require_argument(samples * features == 0 || (ybar && o), "accumulate_scale_gradient",
                     "the ybar or output pointer is null");
    require_argument((ydotbar == nullptr) == (odot == nullptr), "accumulate_scale_gradient",
                     "ydotbar and odot must both be given or both be null");
    if (samples == 0) return;
    detail::accumulate_scale_gradient_pass(detail::device_exec{stream}, ybar, o, ydotbar, odot, samples, features,
                                           gamma_grad);
}

void add_elements(const float* a, float* out, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (a && out), "add_elements", "an input or output pointer is null");
    detail::run_elementwise(detail::add_op{a, out}, n, stream, "launch of add_elements");
}

void multiply_elements(const float* a, const float* b, float* out, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (a && b && out), "multiply_elements", "an input or output pointer is null");
    detail::run_elementwise(detail::multiply_op{a, b, out}, n, stream, "launch of multiply_elements");
}

}  // namespace gant::cuda
