// The kernels of conv2d forward (and conv_transpose2d backward-data): one translation unit per pass, so the passes compile in parallel.
#include "gant/cuda/detail/igemm_launch.cuh"

namespace gant::cuda::detail {
template void launch_igemm<fprop_op>(const fprop_params&, const launch_plan&, cudaStream_t);
template void query_residency<fprop_op>(int (&)[config_total]);
}  // namespace gant::cuda::detail
