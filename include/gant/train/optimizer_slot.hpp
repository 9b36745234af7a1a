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

template <class T>
class optimizer_slot {
public:
    void configure(const hyper_parameters& h, double lr) {
        kind_ = h.optimizer;
        optim::adam_params a = adam_.hyper_parameters();
        a.lr = lr;
        a.beta1 = h.beta1;
        a.beta2 = h.beta2;
        a.eps = h.eps;
        adam_.set_hyper_parameters(a);
        optim::rmsprop_params r = rmsprop_.hyper_parameters();
        r.lr = lr;
        r.alpha = h.rmsprop_alpha;
        r.eps = h.eps;
        r.momentum = h.momentum;
        rmsprop_.set_hyper_parameters(r);
        optim::sgd_params s = sgd_.hyper_parameters();
        s.lr = lr;
        s.momentum = h.momentum;
        sgd_.set_hyper_parameters(s);
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
