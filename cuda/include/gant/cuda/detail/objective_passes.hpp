#pragma once
// The sequence of each objective pass (gant/cuda/objectives.hpp), written once over an executor:
// cuda/src/objectives.cu runs it with device_exec, the tests with host_exec. Arguments are
// checked by the public entry points.
#include <cstddef>

#include "gant/cuda/detail/objective_ops.hpp"

namespace gant::cuda::detail {

/// One thread: a batch's few hundred scores, summed in the CPU's order.
template <class Exec>
void critic_loss_pass(const Exec& exec, const loss_settings& s, const float* real, std::size_t n_real,
                      const float* fake, std::size_t n_fake, float* d_real, float* d_fake, float* total) {
    exec.elementwise(loss_op{s, true, real, fake, n_real, n_fake, d_real, d_fake, total}, 1, "launch of critic_loss");
}

template <class Exec>
void generator_loss_pass(const Exec& exec, const loss_settings& s, const float* fake, std::size_t n_fake, float* d_fake,
                         float* total) {
    exec.elementwise(loss_op{s, false, nullptr, fake, 0, n_fake, nullptr, d_fake, total}, 1,
                     "launch of generator_loss");
}

template <class Exec>
void interpolate_pass(const Exec& exec, const float* real, const float* fake, const float* eps, std::size_t samples,
                      std::size_t features, float* out) {
    exec.elementwise(interpolate_op{real, fake, eps, features, out}, samples * features, "launch of interpolate");
}

/// Per-sample norms and phi (one thread per sample), the direction (per element), the report
/// (one thread, in sample order).
template <class Exec>
void penalty_direction_pass(const Exec& exec, const penalty_settings& s, const float* grad, std::size_t samples,
                            std::size_t features, float* direction, double* report) {
    auto scales = exec.template scratch<float>(samples);
    auto per_sample = exec.template scratch<double>(2 * samples);
    double *values = per_sample.data(), *norms = per_sample.data() + samples;
    exec.elementwise(penalty_sample_op{s, grad, features, scales.data(), values, norms}, samples,
                     "launch of penalty_direction (per sample)");
    exec.elementwise(penalty_scale_op{grad, scales.data(), features, direction}, samples * features,
                     "launch of penalty_direction (direction)");
    exec.elementwise(penalty_report_op{values, norms, samples, report}, 1, "launch of penalty_direction (report)");
}

}  // namespace gant::cuda::detail
