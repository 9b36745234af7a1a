// Losses and penalty work on the device (gant/cuda/objectives.hpp): the functors of
// detail/objective_ops.hpp run by the element-wise kernel of detail/run_elementwise.cuh.
#include <stdexcept>
#include <string>

#include "gant/cuda/detail/objective_ops.hpp"
#include "gant/cuda/detail/run_elementwise.cuh"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/objectives.hpp"

namespace gant::cuda {

using detail::require_argument;

void critic_loss(const loss_settings& settings, const float* real, std::size_t n_real, const float* fake,
                 std::size_t n_fake, float* d_real, float* d_fake, float* total, cudaStream_t stream) {
    require_argument(total && (n_real == 0 || (real && d_real)) && (n_fake == 0 || (fake && d_fake)), "critic_loss",
                     "a score, gradient or total pointer is null");
    require_argument(n_real > 0 && n_fake > 0, "critic_loss", "the critic's objective needs real and fake scores");
    // One thread: a batch's few hundred scores, summed in the CPU's order.
    detail::run_elementwise(detail::loss_op{settings, true, real, fake, n_real, n_fake, d_real, d_fake, total}, 1,
                            stream, "launch of critic_loss");
}

void generator_loss(const loss_settings& settings, const float* fake, std::size_t n_fake, float* d_fake, float* total,
                    cudaStream_t stream) {
    require_argument(total && fake && d_fake, "generator_loss", "a score, gradient or total pointer is null");
    require_argument(n_fake > 0, "generator_loss", "the generator's objective needs fake scores");
    detail::run_elementwise(detail::loss_op{settings, false, nullptr, fake, 0, n_fake, nullptr, d_fake, total}, 1,
                            stream, "launch of generator_loss");
}

void interpolate(const float* real, const float* fake, const float* eps, std::size_t samples, std::size_t features,
                 float* out, cudaStream_t stream) {
    require_argument(samples * features == 0 || (real && fake && eps && out), "interpolate",
                     "an input or output pointer is null");
    detail::run_elementwise(detail::interpolate_op{real, fake, eps, features, out}, samples * features, stream,
                            "launch of interpolate");
}

void penalty_direction(const penalty_settings& settings, const float* grad, std::size_t samples, std::size_t features,
                       float* direction, double* report, cudaStream_t stream) {
    require_argument(grad && direction && report, "penalty_direction",
                     "the gradient, direction or report pointer is null");
    require_argument(samples > 0 && features > 0, "penalty_direction", "there are no samples or no features");
    // Per-sample scratch from the caching allocator on this stream (no cudaMalloc once warm).
    device_buffer<float> scales(samples, stream);
    device_buffer<double> per_sample(2 * samples, stream);
    double *values = per_sample.data(), *norms = per_sample.data() + samples;
    detail::run_elementwise(detail::penalty_sample_op{settings, grad, features, scales.data(), values, norms}, samples,
                            stream, "launch of penalty_direction (per sample)");
    detail::run_elementwise(detail::penalty_scale_op{grad, scales.data(), features, direction}, samples * features,
                            stream, "launch of penalty_direction (direction)");
    detail::run_elementwise(detail::penalty_report_op{values, norms, samples, report}, 1, stream,
                            "launch of penalty_direction (report)");
}

}  // namespace gant::cuda
