#pragma once
// The seam between the host entry points (cuda/src/conv.cpp, any C++ compiler) and the kernels
// (cuda/src/conv_*.cu, nvcc): one launcher per pass, defined next to its kernels.
#include <cuda_runtime_api.h>

#include "gant/cuda/detail/igemm.hpp"
#include "gant/cuda/detail/plan.hpp"

namespace gant::cuda::detail {

/// Runs Op's GEMM with `plan` on `stream`: the main kernel, and for plan.splits > 1 a workspace
/// from the caching allocator and the reduction kernel.
template <class Op>
void launch_igemm(const typename Op::params& params, const launch_plan& plan, cudaStream_t stream);

extern template void launch_igemm<fprop_op>(const fprop_params&, const launch_plan&, cudaStream_t);
extern template void launch_igemm<dgrad_op>(const dgrad_params&, const launch_plan&, cudaStream_t);
extern template void launch_igemm<wgrad_op>(const wgrad_params&, const launch_plan&, cudaStream_t);

/// Blocks of each configuration of Op's kernel that fit on one multiprocessor of the current
/// device (queried once per device).
template <class Op>
void query_residency(int (&resident)[config_total]);

extern template void query_residency<fprop_op>(int (&)[config_total]);
extern template void query_residency<dgrad_op>(int (&)[config_total]);
extern template void query_residency<wgrad_op>(int (&)[config_total]);

void launch_channel_sums(const float* batch, int samples, int channels, int pixels, float* sums, float alpha,
                         float beta, cudaStream_t stream);

}  // namespace gant::cuda::detail
