#pragma once
// The row work of SAGAN's self-attention on the device: the softmax over each row of the
// transposed attention maps of a batch, and its adjoint, tangent and paired rules. The maths is
// gant/layers/attention_rows.hpp, the very functions the CPU layer calls; cuda/src/attention.cu
// runs them one thread per row, so each row is summed in the CPU's order and the two backends
// agree exactly except for exp (CUDA's expf, within 2 ulp of <cmath>'s). The attention
// products around them are batched GEMMs (gemm_strided_batched in gant/cuda/gemm.hpp).
//
// Every pointer is device memory holding `rows` rows of `width` floats, row-major and dense
// (row r starts at r * width); a batch of N x N maps is rows = batch * N, width = N. Every call
// is asynchronous on its stream and checks its launch.
#include <cuda_runtime_api.h>

#include <cstddef>

namespace gant::cuda {

/// In place: z <- softmax(z) along each row.
void softmax_rows(float* z, std::size_t rows, std::size_t width, cudaStream_t stream = nullptr);

/// In place: b <- p * (b - <p, b>) per row: the logits' adjoint from the probabilities' adjoint.
void softmax_adjoint_rows(const float* p, float* b, std::size_t rows, std::size_t width, cudaStream_t stream = nullptr);

/// The tangent: u (the logits' tangent) is centred in place per row, pdot = p * u.
void softmax_tangent_rows(const float* p, float* u, float* pdot, std::size_t rows, std::size_t width,
                          cudaStream_t stream = nullptr);

/// The paired reverse (attention_rows::softmax_paired): from the probabilities' adjoint pbar and
/// their tangent's adjoint pdotbar, with u the centred logit tangent, leaves the logits' adjoint
/// in pbar and the logit tangent's adjoint in pdotbar.
void softmax_paired_rows(const float* p, const float* u, float* pbar, float* pdotbar, std::size_t rows,
                         std::size_t width, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
