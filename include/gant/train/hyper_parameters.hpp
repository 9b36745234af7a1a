#pragma once
// Run-time training magnitudes. Structure (which loss, which penalty, which layers) is a type;
// numbers a user tunes are here, filled with the papers' defaults for the chosen family by
// gan<...>::default_hyper_parameters() and overridable without recompiling.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace gant {

enum class optimizer_kind { adam, rmsprop, sgd };

inline const char* to_string(optimizer_kind k) {
    switch (k) {
        case optimizer_kind::adam: return "adam";
        case optimizer_kind::rmsprop: return "rmsprop";
        default: return "sgd";
    }
}

struct hyper_parameters {
    std::size_t batch = 64;
    std::size_t n_critic = 1;          // critic steps per generator step
    optimizer_kind optimizer = optimizer_kind::adam;
    double lr_generator = 2e-4;
    double lr_critic = 2e-4;
    double beta1 = 0.5, beta2 = 0.999, eps = 1e-8;  // Adam
    double rmsprop_alpha = 0.99;                     // RMSProp smoothing
    double momentum = 0.0;                           // SGD / RMSProp momentum
    bool ema = false;                                // keep an EMA of the generator's weights
    double ema_decay = 0.999;
};

/// The largest batch a gan accepts: 2^24 samples. Far beyond any GAN batch, and small enough that
/// batch * sample size cannot overflow a size_t for any image a topology describes.
inline constexpr std::size_t max_batch = std::size_t{1} << 24;
/// The most critic steps per generator step (the papers use 1 to 5; WGAN's warm-up 100).
inline constexpr std::size_t max_n_critic = 1000000;

/// Throws std::invalid_argument, one sentence naming the first field out of its range, unless every
/// magnitude makes sense: a batch of 1 to max_batch samples, 1 to max_n_critic critic steps, finite
/// learning rates >= 0, decays (betas, RMSProp's alpha, momentum, the EMA's decay) in [0, 1) and a
/// finite eps > 0. NaN fails every check (each is written so that a NaN comparison fails it).
inline void check(const hyper_parameters& h) {
    const auto fail = [](const std::string& field, const std::string& value, const char* range) {
        throw std::invalid_argument("gant: hyper_parameters." + field + " is " + value + ", but it must be " + range);
    };
    const auto number = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v);
        return std::string(buf);
    };
    if (!(h.batch >= 1 && h.batch <= max_batch)) fail("batch", std::to_string(h.batch), "1 to 2^24");
    if (!(h.n_critic >= 1 && h.n_critic <= max_n_critic)) fail("n_critic", std::to_string(h.n_critic), "1 to 10^6");
    if (!(h.optimizer == optimizer_kind::adam || h.optimizer == optimizer_kind::rmsprop ||
          h.optimizer == optimizer_kind::sgd))
        fail("optimizer", std::to_string(static_cast<int>(h.optimizer)), "adam, rmsprop or sgd");
    const auto rate = [&](const char* field, double v) {
        if (!(std::isfinite(v) && v >= 0)) fail(field, number(v), "finite and >= 0");
    };
    rate("lr_generator", h.lr_generator);
    rate("lr_critic", h.lr_critic);
    const auto decay = [&](const char* field, double v) {
        if (!(v >= 0 && v < 1)) fail(field, number(v), "in [0, 1)");
    };
    decay("beta1", h.beta1);
    decay("beta2", h.beta2);
    decay("rmsprop_alpha", h.rmsprop_alpha);
    decay("momentum", h.momentum);
    decay("ema_decay", h.ema_decay);
    if (!(std::isfinite(h.eps) && h.eps > 0)) fail("eps", number(h.eps), "finite and > 0");
}

}  // namespace gant
