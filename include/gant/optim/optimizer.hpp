#pragma once
// What every optimizer shares: per-parameter state, the walk over a network's parameters, the
// step counter, reset and checkpoint access. An optimizer is optimizer<T, Rule>; the Rule holds
// only the maths of one update, so sgd, adam and rmsprop are each a page, and a user writes a
// new optimizer as a new Rule without touching this file.
//
// A Rule provides
//     using params = ...;                                     // run-time hyper-parameters, with .lr
//     static constexpr std::array<const char*, S> state_names; // per-parameter state tensors
//     static std::array<bool, S> uses(const params&);         // which of them this setting needs
//     static void check(const params&);                       // throws std::invalid_argument
//     template <class T> static void update(const params&, std::uint64_t step, T* value,
//                                           const T* grad, std::size_t n, const std::array<T*, S>& state);
// `step` counts from 1 at the first update (PyTorch's state['step'] after its increment); state
// tensors a setting does not use are passed as null.
//
// Why the state is sized on the first step: the optimizer can be built before the network it will
// train, and one optimizer type serves any object with visit_parameters (a network, or a struct
// holding a generator and a critic). After that first step, step() allocates nothing.
#include <array>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "gant/core/parameter.hpp"

namespace gant::optim {

namespace detail {
template <class T>
struct parameter_probe {
    void operator()(parameter<T>&) const {}
};
}  // namespace detail

/// Anything whose visit_parameters(f) calls f(parameter<T>&) for each trainable tensor, always in
/// the same order: a network, a layer, or a user's struct of several networks. (Only the existence
/// of visit_parameters is checked here: a network of another scalar type fails inside its body.)
template <class Net, class T>
concept parameter_set = requires(Net& net, detail::parameter_probe<T> f) { net.visit_parameters(f); };

/// Several parameter sets seen as one (their parameters in argument order), e.g.
/// adam.step(optim::group(generator, critic)). Holds references only.
template <class... Nets>
class parameter_group {
public:
    explicit parameter_group(Nets&... nets) : nets_(nets...) {}
    template <class F>
    void visit_parameters(F&& f) {
        std::apply([&](auto&... net) { (net.visit_parameters(f), ...); }, nets_);
    }

private:
    std::tuple<Nets&...> nets_;
};

template <class... Nets>
parameter_group<Nets...> group(Nets&... nets) {
    return parameter_group<Nets...>(nets...);
}

template <class T, class Rule>
class optimizer {
public:
    using scalar = T;
    using rule = Rule;
    using params = typename Rule::params;
    static constexpr std::size_t slots = Rule::state_names.size();

    optimizer() : optimizer(params{}) {}
    explicit optimizer(const params& p) : params_(p) { Rule::check(p); }

    const params& hyper_parameters() const { return params_; }
    /// Changes the hyper-parameters between steps; the state is kept.
    void set_hyper_parameters(const params& p) {
        Rule::check(p);
        params_ = p;
    }
    double learning_rate() const { return params_.lr; }
    void set_learning_rate(double lr) {
        params p = params_;
        p.lr = lr;
        set_hyper_parameters(p);
    }

    /// One update of every parameter of `net` from its accumulated gradient (gradients are not
    /// cleared: that is the training step's job).
    template <class Net>
    void step(Net&& net) {
        static_assert(parameter_set<std::remove_cvref_t<Net>, T>,
                      "gant: optimizer::step needs an object with visit_parameters(f) calling f(parameter<T>&) "
                      "for the optimizer's scalar type T");
        bind(net);  // before the update: a mismatch throws without having changed anything
        ++steps_;
        std::size_t k = 0;
        net.visit_parameters([&](parameter<T>& p) {
            std::array<T*, slots> state{};
            for (std::size_t s = 0; s < slots; ++s)
                state[s] = used_[s] ? state_[k][s].data() : nullptr;
            Rule::update(params_, steps_, p.value.data(), p.grad.data(), p.size(), state);
            ++k;
        });
    }

    /// Sizes the state for `net` without updating it (done by the first step anyway); call it on a
    /// fresh optimizer before restoring its state through visit_state. Throws
    /// std::invalid_argument when the state was sized for a different set of parameters.
    template <class Net>
    void bind(Net&& net) {
        used_ = Rule::uses(params_);
        if (state_.empty()) {
            net.visit_parameters([&](parameter<T>& p) {
                state_.emplace_back();
                for (std::size_t s = 0; s < slots; ++s)
                    if (used_[s]) state_.back()[s] = xt::zeros<T>({p.size()});
            });
            return;
        }
        std::size_t k = 0;
        net.visit_parameters([&](parameter<T>& p) {
            if (k >= state_.size()) mismatch(k + 1);
            for (std::size_t s = 0; s < slots; ++s) {
                if (!used_[s]) continue;
                vector<T>& v = state_[k][s];
                if (v.size() == 0 && p.size() != 0)
                    v = xt::zeros<T>({p.size()});  // a setting switched on between steps starts from zero
                else if (v.size() != p.size())
                    throw std::invalid_argument("gant: optimizer state for parameter #" + std::to_string(k) + " ('" +
                                                p.name + "') holds " + std::to_string(v.size()) +
                                                " values but the parameter has " + std::to_string(p.size()) +
                                                "; call reset() after changing the network");
            }
            ++k;
        });
        if (k != state_.size()) mismatch(k);
    }

    /// Forgets all state, so the next step starts as the first one did (bias correction
    /// included). PGGAN resets its optimizers whenever the networks grow.
    void reset() {
        state_.clear();
        steps_ = 0;
    }

    /// Exposes the state for checkpoints: f("step", std::uint64_t&) once, then
    /// f("<k>.<name>", vector<T>&) for every state tensor in use, k = the parameter's index in
    /// visiting order and name as in PyTorch's state_dict (exp_avg, momentum_buffer, ...). To
    /// restore, bind() a fresh optimizer with the same hyper-parameters, then assign through f.
    template <class F>
    void visit_state(F&& f) {
        f(std::string("step"), steps_);
        const auto used = Rule::uses(params_);
        for (std::size_t k = 0; k < state_.size(); ++k)
            for (std::size_t s = 0; s < slots; ++s)
                if (used[s]) f(std::to_string(k) + "." + Rule::state_names[s], state_[k][s]);
    }

    /// Updates taken since construction or the last reset().
    std::uint64_t steps() const { return steps_; }
    /// Parameters the state is sized for (0 before the first step or bind).
    std::size_t bound_parameters() const { return state_.size(); }

private:
    [[noreturn]] void mismatch(std::size_t seen) const {
        throw std::invalid_argument("gant: optimizer state was sized for " + std::to_string(state_.size()) +
                                    " parameters but the network now has " +
                                    (seen > state_.size() ? "more" : std::to_string(seen)) +
                                    "; call reset() after changing the network");
    }

    params params_;
    std::vector<std::array<vector<T>, slots>> state_;
    std::array<bool, slots> used_{};
    std::uint64_t steps_ = 0;
};

namespace detail {
/// Hyper-parameter validation with one sentence per mistake (the same rules PyTorch enforces).
inline void require(bool ok, const char* optimizer, const char* what, double got) {
    if (ok) return;
    std::ostringstream message;
    message << "gant: " << optimizer << ": " << what << ", got " << got;
    throw std::invalid_argument(message.str());
}
}  // namespace detail

}  // namespace gant::optim
