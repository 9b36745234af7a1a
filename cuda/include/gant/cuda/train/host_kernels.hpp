#pragma once
// device_step_ops's kernels run on the host, over host tensors: every device pass that the
// training step launches (random fills, the losses, the interpolation, the penalty's per-sample
// work) is the same pass template run with host_exec, and the few reductions are loops in the
// order the CPU step sums. A gan<...> whose backend binds these (the tests' emulated_device)
// runs the device step's code path with the CPU's layers and optimisers, so its results can be
// compared with the CPU step's bit for bit on a machine without a GPU.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/objective_passes.hpp"
#include "gant/cuda/detail/random_passes.hpp"
#include "gant/optim/init.hpp"
#include "gant/train/ema.hpp"
#include "gant/train/optimizer_slot.hpp"

namespace gant::cuda {

struct host_kernels {
    using batch = tensor<float>;
    using optimizer = optimizer_slot<float>;
    template <class Net>
    using moving_average = ema<Net>;
    template <class U>
    using buffer = std::vector<U>;

    /// The network is already a host network: the initialisers write it directly.
    template <class HostNet, class Net, class Init>
    static void initialize(Net& net, const Init& initializer, rng& r) {
        init::apply(net, initializer, r);
    }

    static void fill_normal(rng& r, float* out, std::size_t n) { detail::fill_normal_pass(exec(), r, out, n); }
    static void fill_uniform(rng& r, float* out, std::size_t n) {
        detail::fill_uniform_pass(exec(), r, out, n, 0.0, 1.0);
    }
    static void copy(float* to, const float* from, std::size_t n) { std::copy(from, from + n, to); }
    template <class U>
    static void read(U* host, const U* from, std::size_t n) {
        std::copy(from, from + n, host);
    }
    template <class U>
    static void zero(U* x, std::size_t n) {
        std::fill(x, x + n, U(0));
    }
    static void fill(float* x, std::size_t n, float value) { std::fill(x, x + n, value); }
    static void upload(const tensor<float>& host, batch& to) { to = host; }
    static void download(const batch& from, tensor<float>& host) { host = from; }

    static void critic_loss(const loss_settings& s, const float* real, std::size_t n_real, const float* fake,
                            std::size_t n_fake, float* d_real, float* d_fake, float* total) {
        detail::critic_loss_pass(exec(), s, real, n_real, fake, n_fake, d_real, d_fake, total);
    }
    static void generator_loss(const loss_settings& s, const float* fake, std::size_t n_fake, float* d_fake,
                               float* total) {
        detail::generator_loss_pass(exec(), s, fake, n_fake, d_fake, total);
    }
    static void interpolate(const float* real, const float* fake, const float* eps, std::size_t samples,
                            std::size_t features, float* out) {
        detail::interpolate_pass(exec(), real, fake, eps, samples, features, out);
    }
    static void penalty_direction(const penalty_settings& s, const float* grad, std::size_t samples,
                                  std::size_t features, float* direction, double* report) {
        detail::penalty_direction_pass(exec(), s, grad, samples, features, direction, report);
    }

    /// *out += the squares, continuing the running sum as the CPU's weight norm does (the device
    /// sums each tensor by a tree; the norm is a statistic, not part of the training state).
    static void sum_squares(const float* x, std::size_t n, double* out) {
        for (std::size_t i = 0; i < n; ++i) *out += double(x[i]) * double(x[i]);
    }
    static void count_nonfinite(const float* x, std::size_t n, unsigned long long* out) {
        for (std::size_t i = 0; i < n; ++i)
            if (!std::isfinite(x[i])) ++*out;
    }
    static void clamp_values(float* x, std::size_t n, float lo, float hi) {
        for (std::size_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], lo, hi);
    }

private:
    static detail::host_exec exec() { return {}; }
};

}  // namespace gant::cuda
