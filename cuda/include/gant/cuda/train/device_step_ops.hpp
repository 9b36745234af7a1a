#pragma once
// gan<...>'s step operations (include/gant/train/step_ops.hpp) for batches outside the host's
// tensors: written once over a Kernels type that says where the memory is and which kernels
// run on it. gant::cuda::device_kernels (device_kernels.hpp) launches the CUDA kernels on
// device batches; gant::cuda::host_kernels (host_kernels.hpp) runs the same passes' functors on
// host tensors, which is how the tests check, without a GPU, that a whole training step written
// this way (the order of the random draws, the joins and splits of the batches, the losses, the
// penalty's passes, the scalars read back) is the CPU's step bit for bit.
//
// What a training step reads back to the host, per critic step: the loss (4 bytes), the
// penalty's value and mean gradient norm (16 bytes), one count of non-finite gradient values
// per parameter, and the real and fake scores (for their means); per generator step the loss
// and the counts; per iteration the two weight norms. Everything else stays in device memory.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <vector>

#include "gant/core/context.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/cuda/objectives.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/train/step_ops.hpp"

namespace gant::cuda {

template <class Policy>
inline constexpr bool no_device_version_v = false;

/// The device loss kernel's settings for one of gant's loss policies. A policy of the user's own
/// has no device kernel: it stops compilation here with a sentence.
template <class Loss>
loss_settings device_loss_settings(const Loss& loss) {
    if constexpr (std::is_same_v<Loss, loss::minimax>) {
        return {.kind = loss_kind::minimax};
    } else if constexpr (std::is_same_v<Loss, loss::non_saturating>) {
        return {.kind = loss_kind::non_saturating};
    } else if constexpr (std::is_same_v<Loss, loss::least_squares>) {
        return {.kind = loss_kind::least_squares, .a = loss.p.a, .b = loss.p.b, .c = loss.p.c};
    } else if constexpr (std::is_same_v<Loss, loss::wasserstein>) {
        return {.kind = loss_kind::wasserstein, .drift = loss.p.drift};
    } else if constexpr (std::is_same_v<Loss, loss::hinge>) {
        return {.kind = loss_kind::hinge, .margin = loss.p.margin};
    } else {
        static_assert(no_device_version_v<Loss>,
                      "gant: this loss policy has no device kernel; on backend::cuda use one of gant's losses "
                      "(minimax, non_saturating, least_squares, wasserstein, hinge) or train on backend::cpu");
        return {};
    }
}

/// True for the Lipschitz policies whose work on the device is nothing (none, spectral norm: its
/// work is in the critic's layers) or only after the step (weight clipping).
template <class Policy>
inline constexpr bool penalty_free_v =
    std::is_same_v<Policy, lipschitz::none> || std::is_same_v<Policy, lipschitz::spectral_norm> ||
    std::is_same_v<Policy, lipschitz::weight_clip>;

template <class Kernels>
class device_step_ops {
public:
    using T = float;
    using batch = typename Kernels::batch;
    using optimizer = typename Kernels::optimizer;
    template <class Net>
    using moving_average = typename Kernels::template moving_average<Net>;

    device_step_ops() : loss_total_(1), report_(2), norm_(1) {}

    template <class HostNet, class Net, class Init>
    void initialize(Net& net, const Init& initializer, rng& r) {
        Kernels::template initialize<HostNet>(net, initializer, r);
    }

    void normal(rng& r, batch& z) { Kernels::fill_normal(r, z.data(), z.size()); }

    void concat(const batch& a, const batch& b, batch& out) {
        reshape(out, a.shape(0) + b.shape(0), a.shape(1));
        Kernels::copy(out.data(), a.data(), a.size());
        Kernels::copy(out.data() + a.size(), b.data(), b.size());
    }

    void split(const batch& both, std::size_t rows, batch& first, batch& second) {
        const std::size_t cols = both.shape(1);
        reshape(first, rows, cols);
        reshape(second, both.shape(0) - rows, cols);
        Kernels::copy(first.data(), both.data(), first.size());
        Kernels::copy(second.data(), both.data() + first.size(), second.size());
    }

    void copy(const batch& from, batch& to) {
        reshape(to, from.shape(0), from.shape(1));
        Kernels::copy(to.data(), from.data(), from.size());
    }

    void upload(const tensor<T>& host, batch& to) { Kernels::upload(host, to); }
    void download(const batch& from, tensor<T>& host) { Kernels::download(from, host); }

    template <class Loss>
    double critic_loss(const Loss& loss, const batch& real, const batch& fake, batch& d_real, batch& d_fake) {
        Kernels::critic_loss(device_loss_settings(loss), real.data(), real.shape(0), fake.data(), fake.shape(0),
                             d_real.data(), d_fake.data(), loss_total_.data());
        return read_loss();
    }

    template <class Loss>
    double generator_loss(const Loss& loss, const batch& /*real*/, const batch& fake, batch& d_fake) {
        static_assert(!Loss::generator_uses_real,
                      "gant: a generator objective that reads real scores has no device kernel; train it on "
                      "backend::cpu");
        Kernels::generator_loss(device_loss_settings(loss), fake.data(), fake.shape(0), d_fake.data(),
                                loss_total_.data());
        return read_loss();
    }

    /// The penalty of gant's Lipschitz policies, on the device: the same points (the same uniform
    /// draws from r), the same phi, the same four network passes as input_gradient_penalty.
    template <class Policy, class Critic>
    lipschitz::penalty_report penalize(Policy& policy, Critic& critic, const batch& real, const batch& fake, rng& r,
                                       const pass_context& ctx) {
        const double n = double(real.shape(0));
        if constexpr (penalty_free_v<Policy>) {
            return {};
        } else if constexpr (std::is_same_v<Policy, lipschitz::gradient_penalty>) {
            interpolate(real, fake, r);
            return input_gradient_penalty(
                critic, points_,
                {.form = penalty_form::gradient_norm, .scale = policy.p.lambda / n, .target = policy.p.target}, ctx);
        } else if constexpr (std::is_same_v<Policy, lipschitz::wasserstein_div>) {
            const double half_power = policy.p.p / 2;
            if (policy.p.sampling == lipschitz::wasserstein_div::points::interpolated) {
                interpolate(real, fake, r);
                return input_gradient_penalty(
                    critic, points_,
                    {.form = penalty_form::norm_power, .scale = policy.p.k / n, .half_power = half_power}, ctx);
            }
            const penalty_settings each{
                .form = penalty_form::norm_power, .scale = 0.5 * policy.p.k / n, .half_power = half_power};
            const lipschitz::penalty_report a = input_gradient_penalty(critic, real, each, ctx);
            const lipschitz::penalty_report b = input_gradient_penalty(critic, fake, each, ctx);
            return {a.value + b.value, 0.5 * (a.mean_grad_norm + b.mean_grad_norm)};
        } else {
            static_assert(no_device_version_v<Policy>,
                          "gant: this Lipschitz policy has no device version; on backend::cuda use none, "
                          "weight_clip, gradient_penalty, wasserstein_div or spectral_norm, or train on "
                          "backend::cpu");
            return {};
        }
    }

    template <class Policy, class Critic>
    void after_critic_step(Policy& policy, Critic& critic) {
        if constexpr (std::is_same_v<Policy, lipschitz::weight_clip>) {
            // std::clamp(v, -c, c) with c rounded to the scalar type first, as weight_clip does.
            const T c = T(policy.p.clip);
            critic.visit_parameters([&](auto& p) { Kernels::clamp_values(p.data(), p.size(), -c, c); });
        }
    }

    /// The mean of a batch's values: read back and summed in double in order, as on the host.
    double mean(const batch& b) {
        host_values_.resize(b.size());
        Kernels::read(host_values_.data(), b.data(), b.size());
        double s = 0;
        for (float v : host_values_) s += double(v);
        return b.size() ? s / double(b.size()) : 0.0;
    }

    template <class Net>
    double weight_norm(Net& net) {
        Kernels::zero(norm_.data(), 1);
        net.visit_parameters([&](auto& p) { Kernels::sum_squares(p.data(), p.size(), norm_.data()); });
        double s = 0;
        Kernels::read(&s, norm_.data(), 1);
        return std::sqrt(s);
    }

    /// Counts the non-finite gradient values of every parameter on the device, reads the counts
    /// back in one copy and names the first parameter with any.
    template <class Net>
    std::optional<nonfinite_gradient> first_nonfinite_gradient(Net& net) {
        std::size_t count = 0;
        net.visit_parameters([&](auto&) { ++count; });
        if (nonfinite_.size() < count) nonfinite_ = typename Kernels::template buffer<unsigned long long>(count);
        Kernels::zero(nonfinite_.data(), count);
        std::size_t k = 0;
        net.visit_parameters(
            [&](auto& p) { Kernels::count_nonfinite(p.grad.data(), p.size(), nonfinite_.data() + k++); });
        host_counts_.resize(count);
        Kernels::read(host_counts_.data(), nonfinite_.data(), count);
        std::optional<nonfinite_gradient> found;
        k = 0;
        net.visit_parameters([&](auto& p) {
            if (!found && host_counts_[k] != 0) found = nonfinite_gradient{k, p.name};
            ++k;
        });
        return found;
    }

private:
    /// ensure_shape for either batch type: gant's for host tensors, gant::cuda's (found by
    /// argument-dependent lookup) for device batches.
    static void reshape(batch& b, std::size_t rows, std::size_t cols) {
        using gant::ensure_shape;
        ensure_shape(b, rows, cols);
    }

    double read_loss() {
        float total = 0;
        Kernels::read(&total, loss_total_.data(), 1);
        return double(total);
    }

    /// points_ = eps_i real_i + (1 - eps_i) fake_i with eps_i = r.uniform(), as lipschitz::interpolate.
    void interpolate(const batch& real, const batch& fake, rng& r) {
        const std::size_t n = real.shape(0), features = real.shape(1);
        reshape(eps_, n, 1);
        reshape(points_, n, features);
        Kernels::fill_uniform(r, eps_.data(), n);
        Kernels::interpolate(real.data(), fake.data(), eps_.data(), n, features, points_.data());
    }

    /// lipschitz::input_gradient_penalty::apply on device batches: forward, backward with seed 1
    /// (weights untouched) for g_i, v_i = 2 phi'(q_i) g_i on the device, the tangent pass along v
    /// and the paired reverse pass that adds the penalty's exact gradient to the critic's.
    template <class Critic>
    lipschitz::penalty_report input_gradient_penalty(Critic& critic, const batch& points,
                                                     const penalty_settings& settings, const pass_context& ctx) {
        const std::size_t n = points.shape(0), features = points.shape(1);
        critic.forward(points, ctx);
        reshape(ones_, n, Critic::output_size);
        reshape(zeros_, n, Critic::output_size);
        Kernels::fill(ones_.data(), ones_.size(), 1.f);
        Kernels::fill(zeros_.data(), zeros_.size(), 0.f);
        critic.backward(ones_, &input_grad_, false, ctx);
        reshape(direction_, n, features);
        Kernels::penalty_direction(settings, input_grad_.data(), n, features, direction_.data(), report_.data());
        critic.forward_tangent(direction_, ctx);
        critic.backward_paired(zeros_, ones_, nullptr, nullptr, ctx);
        double report[2] = {0, 0};
        Kernels::read(report, report_.data(), 2);
        return {report[0], report[1]};
    }

    typename Kernels::template buffer<float> loss_total_;
    typename Kernels::template buffer<double> report_, norm_;
    typename Kernels::template buffer<unsigned long long> nonfinite_;
    batch eps_, points_, ones_, zeros_, input_grad_, direction_;
    std::vector<float> host_values_;
    std::vector<unsigned long long> host_counts_;
};

}  // namespace gant::cuda
