#pragma once
// batch_norm and layer_norm on the device (gant/cuda/normalization.hpp's passes, which sum in
// double as the CPU's normalize.hpp does): the same parameters (gamma initialised to 1, beta to 0),
// the same statistics (batch_norm: per channel across the batch in training mode, the running
// statistics in inference mode and updated unless pass_context::update_statistics is off;
// layer_norm: per sample over all its channels) and the same four passes.
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/layers/device_state.hpp"
#include "gant/cuda/normalization.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

/// What both norms share: gamma and beta, the per-group statistics of the last forward, and the
/// passes over a norm_problem.
template <class In, std::size_t Channels, bool Affine, class T>
class device_norm_base {
    static_assert(std::is_same_v<T, float>, "gant: the CUDA backend's layers are float32");

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    using batch = device_batch<T>;
    static constexpr bool second_order = true;
    static constexpr std::size_t plane = In::size / Channels;

    T epsilon = T(1e-5);

    device_norm_base()
        : gamma_("gamma", {Affine ? Channels : 0}, role::scale), beta_("beta", {Affine ? Channels : 0}, role::shift) {
        if constexpr (Affine) gamma_.value.copy_from_host(std::vector<T>(Channels, T(1)));
    }

    device_parameter<T>& gamma() { return gamma_; }
    device_parameter<T>& beta() { return beta_; }

    template <class F>
    void visit_parameters(F&& f) {
        if constexpr (Affine) {
            f(gamma_);
            f(beta_);
        }
    }

protected:
    norm_problem problem(norm_grouping grouping, std::size_t n) const { return {grouping, n, Channels, plane}; }

    /// Room for one mean, inv_std (and variance) per group; reallocated only when groups grow.
    void reserve_statistics(std::size_t groups) {
        if (mean_.size() < groups) {
            mean_ = device_buffer<T>(groups);
            inv_std_ = device_buffer<T>(groups);
            variance_ = device_buffer<T>(groups);
        }
    }

    const T* gamma_or_null() const { return Affine ? gamma_.data() : nullptr; }
    const T* beta_or_null() const { return Affine ? beta_.data() : nullptr; }
    T* gamma_grad(bool accumulate) { return Affine && accumulate ? gamma_.grad_data() : nullptr; }
    T* beta_grad(bool accumulate) { return Affine && accumulate ? beta_.grad_data() : nullptr; }

    void backward_pass(const norm_problem& p, bool from_input, const batch& x, const batch& dy, batch* dx,
                       bool accumulate) {
        if (!dx && !(Affine && accumulate)) return;
        norm_backward(p, from_input, x.data(), mean_.data(), inv_std_.data(), gamma_or_null(), dy.data(),
                      dx ? dx->data() : nullptr, gamma_grad(accumulate), beta_grad(accumulate));
    }
    void tangent_pass(const norm_problem& p, bool from_input, const batch& x, const batch& xdot, batch& ydot) {
        norm_tangent(p, from_input, x.data(), mean_.data(), inv_std_.data(), gamma_or_null(), xdot.data(), ydot.data());
    }
    void paired_pass(const norm_problem& p, bool from_input, const batch& x, const batch& xdot, const batch& ybar,
                     const batch& ydotbar, batch* xbar, batch* xdotbar) {
        norm_paired(p, from_input, x.data(), xdot.data(), mean_.data(), inv_std_.data(), gamma_or_null(), ybar.data(),
                    ydotbar.data(), xbar ? xbar->data() : nullptr, xdotbar ? xdotbar->data() : nullptr,
                    gamma_grad(true), beta_grad(true));
    }

    device_parameter<T> gamma_, beta_;
    device_buffer<T> mean_, inv_std_, variance_;
};

template <class In, std::size_t Channels, bool Affine, class T>
class device_batch_norm : public device_norm_base<In, Channels, Affine, T> {
    using base = device_norm_base<In, Channels, Affine, T>;
    using base::plane;

public:
    using typename base::batch;
    static constexpr bool couples_samples = true;

    T momentum = T(0.1);

    device_batch_norm()
        : running_mean_("running_mean", {Channels}, T(0)), running_var_("running_var", {Channels}, T(1)) {}

    device_state<T>& running_mean() { return running_mean_; }
    device_state<T>& running_var() { return running_var_; }

    void forward(const batch& x, batch& y, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        batch_statistics_ = ctx.training();
        if (n == 0) return;
        if (batch_statistics_ && n * plane == 1)
            throw std::invalid_argument(
                "gant: batch_norm in training mode needs more than one value per channel, "
                "but got a batch of 1 sample with 1 value per channel (use a larger batch "
                "or inference mode)");
        this->reserve_statistics(Channels);
        const norm_problem p = problem(n);
        if (batch_statistics_) {
            norm_forward(p, this->epsilon, x.data(), this->gamma_or_null(), this->beta_or_null(), y.data(),
                         this->mean_.data(), this->inv_std_.data(), this->variance_.data());
            if (ctx.update_statistics)
                batch_norm_update_running(Channels, n * plane, momentum, this->mean_.data(), this->variance_.data(),
                                          running_mean_.data(), running_var_.data());
        } else {
            batch_norm_statistics(Channels, this->epsilon, running_mean_.data(), running_var_.data(),
                                  this->mean_.data(), this->inv_std_.data());
            norm_apply(p, x.data(), this->gamma_or_null(), this->beta_or_null(), this->mean_.data(),
                       this->inv_std_.data(), y.data());
        }
    }
    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context&) {
        this->backward_pass(problem(x.shape(0)), batch_statistics_, x, dy, dx, accumulate);
    }
    void forward_tangent(const batch& x, const batch&, const batch& xdot, batch& ydot, const pass_context&) {
        this->tangent_pass(problem(x.shape(0)), batch_statistics_, x, xdot, ydot);
    }
    void backward_paired(const batch& x, const batch&, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        this->paired_pass(problem(x.shape(0)), batch_statistics_, x, xdot, ybar, ydotbar, xbar, xdotbar);
    }

    template <class F>
    void visit_buffers(F&& f) {
        f(running_mean_);
        f(running_var_);
    }

private:
    norm_problem problem(std::size_t n) const { return base::problem(norm_grouping::per_channel, n); }

    device_state<T> running_mean_, running_var_;
    bool batch_statistics_ = true;
};

template <class In, std::size_t Channels, class T>
class device_layer_norm : public device_norm_base<In, Channels, true, T> {
    using base = device_norm_base<In, Channels, true, T>;

public:
    using typename base::batch;
    static constexpr bool couples_samples = false;

    void forward(const batch& x, batch& y, const pass_context&) {
        const std::size_t n = x.shape(0);
        if (n == 0) return;
        this->reserve_statistics(n);
        norm_forward(problem(n), this->epsilon, x.data(), this->gamma_or_null(), this->beta_or_null(), y.data(),
                     this->mean_.data(), this->inv_std_.data(), nullptr);
    }
    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context&) {
        this->backward_pass(problem(x.shape(0)), true, x, dy, dx, accumulate);
    }
    void forward_tangent(const batch& x, const batch&, const batch& xdot, batch& ydot, const pass_context&) {
        this->tangent_pass(problem(x.shape(0)), true, x, xdot, ydot);
    }
    void backward_paired(const batch& x, const batch&, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context&) {
        this->paired_pass(problem(x.shape(0)), true, x, xdot, ybar, ydotbar, xbar, xdotbar);
    }

    template <class F>
    void visit_buffers(F&&) {}

private:
    norm_problem problem(std::size_t n) const { return base::problem(norm_grouping::per_sample, n); }
};

}  // namespace gant::cuda
