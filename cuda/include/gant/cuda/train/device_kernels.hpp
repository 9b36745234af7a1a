#pragma once
// device_step_ops's kernels on a CUDA device: batches are device_batch<float>, the optimisers
// and the moving average keep their state in device memory, and every operation is a kernel or
// an asynchronous copy on the legacy default stream, in order with the networks' kernels. Only
// read() (how the step's few scalars come back) and upload() (a host copy) wait for the device.
#include <cuda_runtime_api.h>

#include <cstddef>

#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/objectives.hpp"
#include "gant/cuda/random.hpp"
#include "gant/cuda/train/device_ema.hpp"
#include "gant/cuda/train/device_optimizer.hpp"
#include "gant/cuda/train/network_transfer.hpp"
#include "gant/cuda/train/reductions.hpp"
#include "gant/optim/init.hpp"

namespace gant::cuda {

struct device_kernels {
    using batch = device_batch<float>;
    using optimizer = device_optimizer_slot<float>;
    template <class Net>
    using moving_average = device_ema<Net>;
    template <class U>
    using buffer = device_buffer<U>;

    /// The initialisers draw on the host (the same numbers as the CPU backend's for the same
    /// seed) into a host twin of the network, which is then uploaded.
    template <class HostNet, class Net, class Init>
    static void initialize(Net& net, const Init& initializer, rng& r) {
        HostNet host;
        init::apply(host, initializer, r);
        upload_network(host, net);
    }

    static void fill_normal(rng& r, float* out, std::size_t n) { cuda::fill_normal(r, out, n); }
    static void fill_uniform(rng& r, float* out, std::size_t n) { cuda::fill_uniform(r, out, n, 0.0, 1.0); }
    static void copy(float* to, const float* from, std::size_t n) {
        if (n == 0) return;
        GANT_CUDA_CHECK(cudaMemcpyAsync(to, from, n * sizeof(float), cudaMemcpyDeviceToDevice, nullptr));
    }
    /// Waits for the work queued before, then copies n values to the host.
    template <class U>
    static void read(U* host, const U* from, std::size_t n) {
        if (n == 0) return;
        GANT_CUDA_CHECK(cudaMemcpy(host, from, n * sizeof(U), cudaMemcpyDeviceToHost));
    }
    template <class U>
    static void zero(U* x, std::size_t n) {
        if (n == 0) return;
        GANT_CUDA_CHECK(cudaMemsetAsync(x, 0, n * sizeof(U), nullptr));
    }
    static void fill(float* x, std::size_t n, float value) { fill_values(x, n, value); }
    static void upload(const tensor<float>& host, batch& to) { to.assign(host.data(), host.shape(0), host.shape(1)); }
    static void download(const batch& from, tensor<float>& host) {
        gant::ensure_shape(host, from.shape(0), from.shape(1));
        read(host.data(), from.data(), from.size());
    }

    static void critic_loss(const loss_settings& s, const float* real, std::size_t n_real, const float* fake,
                            std::size_t n_fake, float* d_real, float* d_fake, float* total) {
        cuda::critic_loss(s, real, n_real, fake, n_fake, d_real, d_fake, total);
    }
    static void generator_loss(const loss_settings& s, const float* fake, std::size_t n_fake, float* d_fake,
                               float* total) {
        cuda::generator_loss(s, fake, n_fake, d_fake, total);
    }
    static void interpolate(const float* real, const float* fake, const float* eps, std::size_t samples,
                            std::size_t features, float* out) {
        cuda::interpolate(real, fake, eps, samples, features, out);
    }
    static void penalty_direction(const penalty_settings& s, const float* grad, std::size_t samples,
                                  std::size_t features, float* direction, double* report) {
        cuda::penalty_direction(s, grad, samples, features, direction, report);
    }
    static void sum_squares(const float* x, std::size_t n, double* out) { cuda::sum_squares(x, n, out); }
    static void count_nonfinite(const float* x, std::size_t n, unsigned long long* out) {
        cuda::count_nonfinite(x, n, out);
    }
    static void clamp_values(float* x, std::size_t n, float lo, float hi) { cuda::clamp_values(x, n, lo, hi); }
};

}  // namespace gant::cuda
