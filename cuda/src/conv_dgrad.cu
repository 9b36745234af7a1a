// The kernels of conv2d backward-data (and conv_transpose2d forward): one translation unit per pass, so the passes compile in parallel.
#include "gant/cuda/detail/igemm_launch.cuh"

namespace gant::cuda::detail {
template void launch_igemm<dgrad_op>(const dgrad_params&, const launch_plan&, cudaStream_t);
template void query_residency<dgrad_op>(int (&)[config_total]);
}  // namespace gant::cuda::detail
