// Losses and penalty work on the device (gant/cuda/objectives.hpp): argument checks, then the
// passes of detail/objective_passes.hpp run by device_exec.
#include <stdexcept>
#include <string>

#include "gant/cuda/detail/device_exec.cuh"
#include "gant/cuda/detail/objective_passes.hpp"
#include "gant/cuda/objectives.hpp"

namespace gant::cuda {

using detail::require_argument;

void critic_loss(const loss_settings& settings, const float* real, std::size_t n_real, const float* fake,
                 std::size_t n_fake, float* d_real, float* d_fake, float* total, cudaStream_t stream) {
    require_argument(total && (n_real == 0 || (real && d_real)) && (n_fake == 0 || (fake && d_fake)), "critic_loss",
                     "a score, gradient or total pointer is null");
    require_argument(n_real > 0 && n_fake > 0, "critic_loss", "the critic's objective needs real and fake scores");
    detail::critic_loss_pass(detail::device_exec{stream}, settings, real, n_real, fake, n_fake, d_real, d_fake, total);
}

void generator_loss(const loss_settings& settings, const float* fake, std::size_t n_fake, float* d_fake, float* total,
                    cudaStream_t stream) {
    require_argument(total && fake && d_fake, "generator_loss", "a score, gradient or total pointer is null");
    require_argument(n_fake > 0, "generator_loss", "the generator's objective needs fake scores");
    detail::generator_loss_pass(detail::device_exec{stream}, settings, fake, n_fake, d_fake, total);
}

void interpolate(const float* real, const float* fake, const float* eps, std::size_t samples, std::size_t features,
                 float* out, cudaStream_t stream) {
    require_argument(samples * features == 0 || (real && fake && eps && out), "interpolate",
                     "an input or output pointer is null");
    detail::interpolate_pass(detail::device_exec{stream}, real, fake, eps, samples, features, out);
}

void penalty_direction(const penalty_settings& settings, const float* grad, std::size_t samples, std::size_t features,
                       float* direction, double* report, cudaStream_t stream) {
    require_argument(grad && direction && report, "penalty_direction",
                     "the gradient, direction or report pointer is null");
    require_argument(samples > 0 && features > 0, "penalty_direction", "there are no samples or no features");
    detail::penalty_direction_pass(detail::device_exec{stream}, settings, grad, samples, features, direction, report);
}

}  // namespace gant::cuda
