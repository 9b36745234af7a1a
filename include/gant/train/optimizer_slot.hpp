#pragma once
#include <cstdint>
// The optimiser of one player in gan<...>. Which rule runs (Adam, RMSProp, SGD) is a run-time
// hyper-parameter because the GAN papers differ on it for the same network (WGAN: RMSProp;
// WGAN-GP, DCGAN, SAGAN: Adam); each rule keeps its own state, sized on its first step.
#include "gant/optim/adam.hpp"
#include "gant/optim/rmsprop.hpp"
#include "gant/optim/sgd.hpp"
#include "gant/train/hyper_parameters.hpp"

namespace gant {

/// One player's settings of each rule.
struct optimizer_settings {
    optim::adam_params adam;
    optim::rmsprop_params rmsprop;
    optim::sgd_params sgd;
};

/// What a gan's run-time hyper-parameters set in each rule for a player with learning rate lr;
/// the fields they do not name (weight decay, AMSGrad, ...) keep their values in `from`. Shared
/// by the host slot below and the CUDA backend's device_optimizer_slot, so both train with the
/// same settings.
inline optimizer_settings configured_settings(const hyper_parameters& h, double lr, optimizer_settings from) {
    from.adam.lr = lr;
    from.adam.beta1 = h.beta1;
    from.adam.beta2 = h.beta2;
    from.adam.eps = h.eps;
    from.rmsprop.lr = lr;
    from.rmsprop.alpha = h.rmsprop_alpha;
    from.rmsprop.eps = h.eps;
    from.rmsprop.momentum = h.momentum;
    from.sgd.lr = lr;
    from.sgd.momentum = h.momentum;
    return from;
}

template <class T>
class optimizer_slot {
public:
    void configure(const hyper_parameters& h, double lr) {
        kind_ = h.optimizer;
        const optimizer_settings s = configured_settings(
            h, lr, {adam_.hyper_parameters(), rmsprop_.hyper_parameters(), sgd_.hyper_parameters()});
        adam_.set_hyper_parameters(s.adam);
        rmsprop_.set_hyper_parameters(s.rmsprop);
        sgd_.set_hyper_parameters(s.sgd);
    }

    template <class Net>
    void step(Net& net) {
        switch (kind_) {
            case optimizer_kind::adam: adam_.step(net); break;
            case optimizer_kind::rmsprop: rmsprop_.step(net); break;
            case optimizer_kind::sgd: sgd_.step(net); break;
        }
    }

    /// Forgets the state of every rule (PGGAN resets optimisers when the networks grow).
    void reset() {
        adam_.reset();
        rmsprop_.reset();
        sgd_.reset();
    }

    optimizer_kind kind() const { return kind_; }
    /// Updates the rule in use has taken since construction or the last reset().
    std::uint64_t steps() const {
        switch (kind_) {
            case optimizer_kind::adam: return adam_.steps();
            case optimizer_kind::rmsprop: return rmsprop_.steps();
            default: return sgd_.steps();
        }
    }
    double learning_rate() const {
        switch (kind_) {
            case optimizer_kind::adam: return adam_.learning_rate();
            case optimizer_kind::rmsprop: return rmsprop_.learning_rate();
            default: return sgd_.learning_rate();
        }
    }

    /// The state of the rule in use, for checkpoints (see optim::optimizer::visit_state).
    template <class Net, class F>
    void visit_state(Net& net, F&& f) {
        switch (kind_) {
            case optimizer_kind::adam: adam_.bind(net); adam_.visit_state(f); break;
            case optimizer_kind::rmsprop: rmsprop_.bind(net); rmsprop_.visit_state(f); break;
            case optimizer_kind::sgd: sgd_.bind(net); sgd_.visit_state(f); break;
        }
    }

private:
    optimizer_kind kind_ = optimizer_kind::adam;
    optim::adam<T> adam_;
    optim::rmsprop<T> rmsprop_;
    optim::sgd<T> sgd_;
};

}  // namespace gant
