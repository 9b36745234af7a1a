// The kernels of conv2d and conv_transpose2d backward-filter: one translation unit per pass, so the passes compile in parallel.
#include "gant/cuda/detail/igemm_launch.cuh"

namespace gant::cuda::detail {
template void launch_igemm<wgrad_op>(const wgrad_params&, const launch_plan&, cudaStream_t);
template void query_residency<wgrad_op>(int (&)[config_total]);
}  // namespace gant::cuda::detail

namespace gant::cuda::detail {

/// sums[c] = alpha * sum of batch[s][c][p] + beta * sums[c]: one block per channel; each
/// thread adds a fixed strided subset, then a tree in shared memory: the same order every run.
__global__ void __launch_bounds__(256)
    channel_sums_kernel(const float* __restrict__ batch, int samples, int channels, int pixels,
                        float* __restrict__ sums, float alpha, float beta) {
    __shared__ float partial[256];
    const int c = int(blockIdx.x);
    const int total = samples * pixels;
    float acc = 0.f;
    for (int e = int(threadIdx.x); e < total; e += 256) {
        const int s = e / pixels, p = e - s * pixels;
        acc += batch[(static_cast<long long>(s) * channels + c) * pixels + p];
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int width = 128; width > 0; width /= 2) {
        if (int(threadIdx.x) < width) partial[threadIdx.x] += partial[threadIdx.x + width];
        __syncthreads();
    }
    if (threadIdx.x == 0) sums[c] = alpha * partial[0] + (beta != 0.f ? beta * sums[c] : 0.f);
}

void launch_channel_sums(const float* batch, int samples, int channels, int pixels, float* sums, float alpha,
                         float beta, cudaStream_t stream) {
    if (channels <= 0) return;
    channel_sums_kernel<<<unsigned(channels), 256, 0, stream>>>(batch, samples, channels, pixels, sums, alpha, beta);
    GANT_CUDA_CHECK_LAUNCH("gant::cuda::detail::channel_sums_kernel");
}

}  // namespace gant::cuda::detail
