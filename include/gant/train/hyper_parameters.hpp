#pragma once
// Run-time training magnitudes. Structure (which loss, which penalty, which layers) is a type;
// numbers a user tunes are here, filled with the papers' defaults for the chosen family by
// gan<...>::default_hyper_parameters() and overridable without recompiling.
#include <cstddef>
#include <cstdint>

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

}  // namespace gant
