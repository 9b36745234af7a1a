#pragma once
// Batch normalisation (Ioffe & Szegedy 2015), as PyTorch's BatchNorm2d for images
// shape<C, H, W> and BatchNorm1d for feature vectors shape<F> (channel = feature) or
// shape<C, L>: every channel is normalised over (batch, spatial positions).
//
//  * training mode: batch statistics (biased variance); the running statistics move towards
//    them, running = (1 - momentum) * running + momentum * batch, with the *unbiased* batch
//    variance for running_var, as PyTorch does. Momentum 0.1, eps 1e-5.
//  * inference mode (ctx.mode == mode::inference): the running statistics, so the layer is an
//    affine map per channel.
//
// The tangent and paired rules in training mode are those of the whole-batch function (the
// batch is the normalisation group), so they are exact; but since batch statistics couple the
// samples, a per-sample input gradient is not meaningful and a gradient penalty refuses this
// layer (couples_samples = true). Layer norm is the critic-side replacement.
#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gant/core/parallel.hpp"
#include "gant/layers/normalize.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

template <class In, std::size_t Channels, bool Affine, class T>
class batch_norm_impl {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = true;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y
    static constexpr bool backward_in_place = true;  // normalize::backward reads a channel's dy before writing its dx
    static constexpr std::size_t plane = In::size / Channels;  // elements per channel per sample

    /// Run-time settings with PyTorch's defaults.
    T momentum = T(0.1);
    T epsilon = T(1e-5);

    batch_norm_impl()
        : gamma_("gamma", {Affine ? Channels : 0}, role::scale),
          beta_("beta", {Affine ? Channels : 0}, role::shift),
          running_mean_("running_mean", {Channels}, T(0)),
          running_var_("running_var", {Channels}, T(1)) {
        std::fill(gamma_.value.begin(), gamma_.value.end(), T(1));
    }

    parameter<T>& gamma() { return gamma_; }
    parameter<T>& beta() { return beta_; }
    buffer<T>& running_mean() { return running_mean_; }
    buffer<T>& running_var() { return running_var_; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        batch_statistics_ = ctx.training();
        if (n == 0) return;
        if (batch_statistics_ && n * plane == 1)
            throw std::invalid_argument("gant: batch_norm in training mode needs more than one value per channel, "
                                        "but got a batch of 1 sample with 1 value per channel (use a larger batch "
                                        "or inference mode)");
        for_channels(ctx, n, [&](std::size_t c) {
            const auto g = group_of(c, n);
            if (batch_statistics_) {
                const auto m = normalize::measure(g, x.data());
                stats_[c] = {m.mean, T(1) / std::sqrt(m.variance + epsilon)};
                if (ctx.update_statistics) {  // off for sampling passes that must not move them
                    const T count = T(g.size());
                    const T unbiased = m.variance * count / (count - T(1));
                    running_mean_.value(c) = (T(1) - momentum) * running_mean_.value(c) + momentum * m.mean;
                    running_var_.value(c) = (T(1) - momentum) * running_var_.value(c) + momentum * unbiased;
                }
            } else {
                stats_[c] = {running_mean_.value(c), T(1) / std::sqrt(running_var_.value(c) + epsilon)};
            }
            normalize::forward(g, stats_[c], coefficients(), x.data(), y.data());
        });
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        const auto grads = accumulate ? gradients() : normalize::affine_grad<T>{};
        for_channels(ctx, n, [&](std::size_t c) {
            normalize::backward(group_of(c, n), stats_[c], batch_statistics_, coefficients(), x.data(), dy.data(),
                                dx ? dx->data() : nullptr, grads);
        });
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for_channels(ctx, n, [&](std::size_t c) {
            normalize::tangent(group_of(c, n), stats_[c], batch_statistics_, coefficients(), x.data(), xdot.data(),
                               ydot.data());
        });
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for_channels(ctx, n, [&](std::size_t c) {
            normalize::backward_paired(group_of(c, n), stats_[c], batch_statistics_, coefficients(), x.data(),
                                       xdot.data(), ybar.data(), ydotbar.data(), xbar ? xbar->data() : nullptr,
                                       xdotbar ? xdotbar->data() : nullptr, gradients());
        });
    }

    template <class F>
    void visit_parameters(F&& f) {
        if constexpr (Affine) {
            f(gamma_);
            f(beta_);
        }
    }
    template <class F>
    void visit_buffers(F&& f) {
        f(running_mean_);
        f(running_var_);
    }

private:
    // Channels are independent groups (each touches only its own elements, statistics and
    // gamma/beta gradient entries), so they split over the pool with results identical to one
    // thread's.
    template <class Body>
    static void for_channels(const pass_context& ctx, std::size_t n, Body&& body) {
        split_items(ctx, Channels, n * In::size, [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t c = begin; c < end; ++c) body(c);
        });
    }

    static normalize::group group_of(std::size_t c, std::size_t n) {
        return normalize::group::across_batch(c, n, Channels, plane);
    }
    normalize::affine<T> coefficients() const {
        if constexpr (Affine) return {gamma_.data(), beta_.data()};
        return {};
    }
    normalize::affine_grad<T> gradients() {
        if constexpr (Affine) return {gamma_.grad_data(), beta_.grad_data()};
        return {};
    }

    parameter<T> gamma_, beta_;
    buffer<T> running_mean_, running_var_;
    // What the last forward used, for the backward and tangent passes over the same batch.
    std::array<normalize::statistics<T>, Channels> stats_{};
    bool batch_statistics_ = true;
};

/// batch_norm<C>: batch normalisation over channel C of any input whose first dimension is C
/// (images shape<C, H, W>, feature vectors shape<C>). Affine = false drops gamma and beta.
template <std::size_t Channels, bool Affine = true>
struct batch_norm {
    static_assert(Channels > 0, "gant: batch_norm<C> needs a positive channel count");
    static constexpr const char* name = "batch_norm";
    using expects = expects_channels<Channels>;
    template <class In>
    static constexpr bool accepts = In::dims[0] == Channels;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = batch_norm_impl<In, Channels, Affine, T>;
};

}  // namespace gant
