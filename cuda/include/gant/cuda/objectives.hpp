#pragma once
// The objectives of a training step on the device: the losses on the critic's scores (with their
// gradients, the seeds of the backward passes) and the input-gradient penalties' per-sample work
// (the interpolation points, ||g_i||, the penalty value and the direction v_i that the penalty's
// tangent pass starts from). Plain C++ like conv.hpp; kernels in cuda/src/objectives.cu, each
// thread running a functor of detail/objective_ops.hpp that mirrors the CPU policy
// (include/gant/loss/*.hpp, include/gant/lipschitz/input_gradient.hpp, gradient_penalty.hpp,
// wasserstein_div.hpp) operation for operation, sums included: a loss is summed by one thread
// in the CPU's order, ||g_i||^2 by one thread per sample in double, so a step's scalars do not
// depend on the launch and agree with the CPU's to the device's rounding of exp and log1p.
#include <cuda_runtime_api.h>

#include <cstddef>

namespace gant::cuda {

/// gant's loss policies, with the magnitudes of their params.
enum class loss_kind { minimax, non_saturating, least_squares, wasserstein, hinge };

struct loss_settings {
    loss_kind kind = loss_kind::non_saturating;
    double a = 0.0, b = 1.0, c = 1.0;  // least_squares: targets for fakes (critic), reals, fakes (generator)
    double drift = 0.0;                // wasserstein: PGGAN's drift * E D(x)^2
    double margin = 1.0;               // hinge
};

/// The critic's objective on n_real real and n_fake fake scores: *total (device) = its value,
/// d_real and d_fake = its gradients with respect to the scores (written, not accumulated).
void critic_loss(const loss_settings& settings, const float* real, std::size_t n_real, const float* fake,
                 std::size_t n_fake, float* d_real, float* d_fake, float* total, cudaStream_t stream = nullptr);

/// The generator's objective on the fake scores: *total and d_fake.
void generator_loss(const loss_settings& settings, const float* fake, std::size_t n_fake, float* d_fake, float* total,
                    cudaStream_t stream = nullptr);

/// out_i = eps_i real_i + (1 - eps_i) fake_i, one eps per sample (lipschitz::interpolate; eps
/// from fill_uniform, as the CPU draws it).
void interpolate(const float* real, const float* fake, const float* eps, std::size_t samples, std::size_t features,
                 float* out, cudaStream_t stream = nullptr);

/// A penalty sum_i phi(q_i) on q_i = ||g_i||^2, as the built-in policies define phi.
enum class penalty_form {
    gradient_norm,  // phi(q) = scale (sqrt(q) - target)^2          (gradient_penalty: scale = lambda / batch)
    norm_power      // phi(q) = scale q^half_power                   (wasserstein_div: scale = k / batch, p / 2)
};

struct penalty_settings {
    penalty_form form = penalty_form::gradient_norm;
    double scale = 10.0;
    double target = 1.0;
    double half_power = 3.0;
};

/// From the input gradients grad [samples, features] of the critic's score: direction = v_i =
/// 2 phi'(q_i) g_i (the tangent the paired pass starts from) and, in report[0..2) on the device,
/// the penalty's value and the mean of ||g_i|| (input_gradient_penalty::apply's report).
void penalty_direction(const penalty_settings& settings, const float* grad, std::size_t samples, std::size_t features,
                       float* direction, double* report, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
