#pragma once
// Layer normalisation as WGAN-GP's critic uses it (Gulrajani et al. 2017, gan_64x64.py
// `Normalize` -> lib/ops/layernorm.py): each sample is normalised with its own mean and
// (biased) variance over all of its elements [C, H, W], then scaled and shifted per channel,
// y = gamma_c * xhat + beta_c, eps 1e-5.
//
// Note the affine part: PyTorch's nn.LayerNorm([C, H, W]) has one gamma and beta per *element*
// (C*H*W of each); this layer has one per channel, as the WGAN-GP code does. For a feature
// vector shape<F> the channel is the feature, so layer_norm<F> is exactly nn.LayerNorm(F).
//
// No statistic crosses samples (couples_samples = false), so the per-sample input gradient a
// gradient penalty needs is well defined: this is the normalisation to put in a critic.
#include <algorithm>
#include <cmath>
#include <vector>

#include "gant/core/parallel.hpp"
#include "gant/layers/normalize.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

template <class In, std::size_t Channels, class T>
class layer_norm_impl {
public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y
    static constexpr bool backward_in_place = true;  // normalize::backward reads a sample's dy before writing its dx
    static constexpr std::size_t plane = In::size / Channels;  // elements per channel

    /// Run-time setting with WGAN-GP's default.
    T epsilon = T(1e-5);

    layer_norm_impl() : gamma_("gamma", {Channels}, role::scale), beta_("beta", {Channels}, role::shift) {
        std::fill(gamma_.value.begin(), gamma_.value.end(), T(1));
    }

    parameter<T>& gamma() { return gamma_; }
    parameter<T>& beta() { return beta_; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        if (stats_.size() != n) stats_.resize(n);  // once per batch size
        for_samples(ctx, n, [&](std::size_t i, normalize::affine_grad<T>) {
            const auto g = group_of(i);
            const auto m = normalize::measure(g, x.data());
            stats_[i] = {m.mean, T(1) / std::sqrt(m.variance + epsilon)};
            normalize::forward(g, stats_[i], coefficients(), x.data(), y.data());
        });
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        with_gradients(ctx, x.shape(0), accumulate, [&](std::size_t i, normalize::affine_grad<T> grads) {
            normalize::backward(group_of(i), stats_[i], true, coefficients(), x.data(), dy.data(),
                                dx ? dx->data() : nullptr, grads);
        });
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        for_samples(ctx, x.shape(0), [&](std::size_t i, normalize::affine_grad<T>) {
            normalize::tangent(group_of(i), stats_[i], true, coefficients(), x.data(), xdot.data(), ydot.data());
        });
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        with_gradients(ctx, x.shape(0), true, [&](std::size_t i, normalize::affine_grad<T> grads) {
            normalize::backward_paired(group_of(i), stats_[i], true, coefficients(), x.data(), xdot.data(),
                                       ybar.data(), ydotbar.data(), xbar ? xbar->data() : nullptr,
                                       xdotbar ? xdotbar->data() : nullptr, grads);
        });
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(gamma_);
        f(beta_);
    }
    template <class F>
    void visit_buffers(F&&) {}

private:
    // Samples are independent groups and split over the pool, without parameter gradients ...
    template <class Body>
    void for_samples(const pass_context& ctx, std::size_t n, Body&& body) {
        split_items(ctx, n, n * In::size, [&](std::size_t begin, std::size_t end, std::size_t) {
            for (std::size_t i = begin; i < end; ++i) body(i, normalize::affine_grad<T>{});
        });
    }

    // ... and with them: gamma and beta gradients sum over samples, so with several workers each
    // sums into a private [gamma | beta] block, added to the parameters' gradients in worker
    // order afterwards (core/parallel.hpp worker_sums). One worker adds directly.
    template <class Body>
    void with_gradients(const pass_context& ctx, std::size_t n, bool accumulate, Body&& body) {
        const std::size_t workers = split_workers(ctx, n, n * In::size);
        if (!accumulate || workers <= 1) {
            const auto grads = accumulate ? gradients() : normalize::affine_grad<T>{};
            split_items(ctx, n, n * In::size, [&](std::size_t begin, std::size_t end, std::size_t) {
                for (std::size_t i = begin; i < end; ++i) body(i, grads);
            });
            return;
        }
        private_grads_.prepare(workers, 2 * Channels);
        split_items(ctx, n, n * In::size, [&](std::size_t begin, std::size_t end, std::size_t worker) {
            T* sums = private_grads_.start(worker);
            for (std::size_t i = begin; i < end; ++i) body(i, normalize::affine_grad<T>{sums, sums + Channels});
        });
        private_grads_.add_in_worker_order(0, Channels, gamma_.grad_data());
        private_grads_.add_in_worker_order(Channels, Channels, beta_.grad_data());
    }

    static normalize::group group_of(std::size_t i) { return normalize::group::within_sample(i, Channels, plane); }
    normalize::affine<T> coefficients() const { return {gamma_.data(), beta_.data()}; }
    normalize::affine_grad<T> gradients() { return {gamma_.grad_data(), beta_.grad_data()}; }

    parameter<T> gamma_, beta_;
    // Each sample's mean and 1/s from the last forward, for the later passes over the same batch.
    std::vector<normalize::statistics<T>> stats_;
    worker_sums<T> private_grads_;  // per worker: [gamma sums | beta sums], for with_gradients
};

/// layer_norm<C>: per-sample normalisation over every element, per-channel scale and shift, for
/// any input whose first dimension is C (images shape<C, H, W>, feature vectors shape<C>).
template <std::size_t Channels>
struct layer_norm {
    static_assert(Channels > 0, "gant: layer_norm<C> needs a positive channel count");
    static constexpr const char* name = "layer_norm";
    using expects = expects_channels<Channels>;
    template <class In>
    static constexpr bool accepts = In::dims[0] == Channels;
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = layer_norm_impl<In, Channels, T>;
};

}  // namespace gant
