#pragma once
// The optimiser of one player of a GAN trained on the device: gant::optimizer_slot's surface
// (include/gant/train/optimizer_slot.hpp) over parameters in device memory. Which rule runs
// (Adam, RMSprop, SGD) is a run-time choice as on the CPU; each rule keeps its own state (device
// buffers, sized on its first step, so that step() allocates nothing afterwards) and its own step
// counter, and runs its update as the kernels that mirror the CPU rules operation for operation
// (elementwise.hpp's adam_update and rmsprop_update, train/reductions.hpp's sgd_update), all on
// the legacy default stream where the device layers queue their work.
//
// download() and upload() exchange the state with a host optimizer_slot configured alike, which
// is how a device run writes and reads the CPU's checkpoints (train/checkpoint.hpp) and how a
// test compares the two.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gant/core/parameter.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/train/reductions.hpp"
#include "gant/optim/adam.hpp"
#include "gant/optim/rmsprop.hpp"
#include "gant/optim/sgd.hpp"
#include "gant/train/hyper_parameters.hpp"
#include "gant/train/optimizer_slot.hpp"

namespace gant::cuda {

namespace detail {

// One update of one parameter with a rule's kernel; `state` as optim::optimizer hands it to the
// CPU rule (null where the setting does not use a tensor).
inline void run_rule_update(const optim::adam_params& p, std::uint64_t step, float* value, const float* grad,
                            std::size_t n, const std::array<float*, 3>& state) {
    adam_update(adam_settings{p.lr, p.beta1, p.beta2, p.eps, p.weight_decay}, step, value, grad, state[0], state[1],
                state[2], n, nullptr);
}

inline void run_rule_update(const optim::rmsprop_params& p, std::uint64_t, float* value, const float* grad,
                            std::size_t n, const std::array<float*, 3>& state) {
    rmsprop_update(rmsprop_settings{p.lr, p.alpha, p.eps, p.weight_decay, p.momentum}, value, grad, state[0], state[1],
                   state[2], n, nullptr);
}

inline void run_rule_update(const optim::sgd_params& p, std::uint64_t step, float* value, const float* grad,
                            std::size_t n, const std::array<float*, 1>& state) {
    sgd_update(sgd_settings{p.lr, p.momentum, p.dampening, p.weight_decay, p.nesterov}, step, value, grad, state[0], n,
               nullptr);
}

/// One rule's hyper-parameters, per-parameter state and step counter: optim::optimizer<T, Rule>'s
/// bookkeeping with the state tensors in device memory.
template <class Rule>
struct device_rule_state {
    static constexpr std::size_t slots = Rule::state_names.size();
    using tensors = std::array<device_buffer<float>, slots>;

    typename Rule::params params;
    std::vector<tensors> state;  // one entry per parameter once bound; empty before
    std::uint64_t steps = 0;

    bool bound() const { return !state.empty(); }

    void reset() {
        state.clear();
        steps = 0;
    }

    /// Refuses a network whose parameters are not those the state was sized for (count and
    /// sizes), with optim::optimizer::bind's sentences; changes nothing.
    template <class Net>
    void require_matches(Net& net, const char* call) const {
        if (!bound()) return;
        std::size_t k = 0;
        bool more = false;
        net.visit_parameters([&](device_parameter<float>& p) {
            if (k >= state.size()) {
                more = true;
                return;
            }
            for (std::size_t s = 0; s < slots; ++s) {
                const device_buffer<float>& v = state[k][s];
                if (!v.empty() && v.size() != p.size())
                    throw std::invalid_argument(std::string("gant::cuda::device_optimizer_slot::") + call +
                                                ": the optimizer state of parameter #" + std::to_string(k) + " ('" +
                                                p.name + "') holds " + std::to_string(v.size()) +
                                                " values but the parameter has " + std::to_string(p.size()) +
                                                "; call reset() after changing the network");
            }
            ++k;
        });
        if (more || k != state.size())
            throw std::invalid_argument(
                std::string("gant::cuda::device_optimizer_slot::") + call + ": the optimizer state was sized for " +
                std::to_string(state.size()) + " parameters but the network now has " +
                (more ? std::string("more") : std::to_string(k)) + "; call reset() after changing the network");
    }

    /// Sizes the state for `net` (zeros), or checks it against `net`; a tensor that a setting
    /// switched on since the first step starts from zero, as on the CPU.
    template <class Net>
    void bind(Net& net, const char* call) {
        require_matches(net, call);
        const auto used = Rule::uses(params);
        const bool first = !bound();
        std::size_t k = 0;
        net.visit_parameters([&](device_parameter<float>& p) {
            if (first) state.emplace_back();
            for (std::size_t s = 0; s < slots; ++s) {
                device_buffer<float>& v = state[k][s];
                if (used[s] && v.empty() && p.size() != 0) {
                    v = device_buffer<float>(p.size());
                    v.fill_bytes(0);  // all-zero bytes are 0.0f
                }
            }
            ++k;
        });
    }

    template <class Net>
    void step(Net& net) {
        bind(net, "step");  // before the update: a mismatch throws without having changed anything
        ++steps;
        const auto used = Rule::uses(params);
        std::size_t k = 0;
        net.visit_parameters([&](device_parameter<float>& p) {
            std::array<float*, slots> tensor_pointers{};
            for (std::size_t s = 0; s < slots; ++s) tensor_pointers[s] = used[s] ? state[k][s].data() : nullptr;
            run_rule_update(params, steps, p.data(), p.grad_data(), p.size(), tensor_pointers);
            ++k;
        });
    }

    /// The index of a state tensor's name in Rule::state_names, or slots when it is not one.
    static std::size_t slot_of(const std::string& name) {
        for (std::size_t s = 0; s < slots; ++s)
            if (name == Rule::state_names[s]) return s;
        return slots;
    }
};

/// Splits optim::optimizer::visit_state's "<k>.<state name>" into its parameter index and name.
inline std::pair<std::size_t, std::string> split_state_key(const std::string& key) {
    const std::size_t dot = key.find('.');
    if (dot == std::string::npos || dot == 0)
        throw std::logic_error("gant::cuda::device_optimizer_slot: unexpected optimizer state key '" + key + "'");
    return {std::stoul(key.substr(0, dot)), key.substr(dot + 1)};
}

}  // namespace detail

template <class T>
class device_optimizer_slot {
    static_assert(std::is_same_v<T, float>,
                  "gant: the device optimizers are float32 only; use backend::cpu's optimizer_slot for double");

public:
    /// The same settings as optimizer_slot::configure, checked by the same optim::*_rule::check
    /// (so a bad value gives the same sentence); nothing changes when one is refused.
    void configure(const hyper_parameters& h, double lr) {
        const optimizer_settings settings = configured_settings(h, lr, {adam_.params, rmsprop_.params, sgd_.params});
        const optim::adam_params& a = settings.adam;
        const optim::rmsprop_params& r = settings.rmsprop;
        const optim::sgd_params& s = settings.sgd;
        optim::adam_rule::check(a);
        optim::rmsprop_rule::check(r);
        optim::sgd_rule::check(s);
        kind_ = h.optimizer;
        adam_.params = a;
        rmsprop_.params = r;
        sgd_.params = s;
    }

    /// One update of every parameter of `net` (visit_parameters(f) calling
    /// f(device_parameter<float>&)) from its gradient, queued on the legacy default stream.
    template <class Net>
    void step(Net& net) {
        with_rule([&](auto& rule) { rule.step(net); });
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
        return with_rule([](const auto& rule) { return rule.steps; });
    }
    double learning_rate() const {
        return with_rule([](const auto& rule) { return rule.params.lr; });
    }

    /// host <- this slot: `host` (configured with the same hyper_parameters) then holds the step
    /// counter and state of the rule in use, bound to `host_net`, the CPU twin of `device_net`.
    /// A slot that never stepped gives a never-stepped host slot (step 0, zero state). Waits for
    /// the device's queued work.
    template <class HostNet, class DeviceNet>
    void download(optimizer_slot<T>& host, HostNet& host_net, DeviceNet& device_net) {
        with_rule([&](auto& rule) {
            require_compatible(rule, host, host_net, device_net, "download");
            host.visit_state(host_net, [&](const std::string& key, auto& target) {
                if constexpr (std::is_same_v<std::remove_cvref_t<decltype(target)>, std::uint64_t>) {
                    target = rule.steps;
                } else {
                    const auto [k, name] = detail::split_state_key(key);
                    const std::size_t s = rule.slot_of(name);
                    const bool held = rule.bound() && !rule.state[k][s].empty();
                    if (held)
                        rule.state[k][s].copy_to_host(target.data(), target.size());
                    else
                        std::fill(target.begin(), target.end(), T(0));
                }
            });
        });
    }

    /// this slot <- host: the step counter and state of the rule in use from `host` (configured
    /// with the same hyper_parameters, its state bound to `host_net`), sizing this slot's state
    /// for `device_net` if it is not yet.
    template <class HostNet, class DeviceNet>
    void upload(optimizer_slot<T>& host, HostNet& host_net, DeviceNet& device_net) {
        with_rule([&](auto& rule) {
            require_compatible(rule, host, host_net, device_net, "upload");
            rule.bind(device_net, "upload");
            host.visit_state(host_net, [&](const std::string& key, auto& source) {
                if constexpr (std::is_same_v<std::remove_cvref_t<decltype(source)>, std::uint64_t>) {
                    rule.steps = source;
                } else {
                    const auto [k, name] = detail::split_state_key(key);
                    rule.state[k][rule.slot_of(name)].copy_from_host(source.data(), source.size());
                }
            });
        });
    }

private:
    /// f(the rule in use's state), for this slot or a const one.
    template <class F>
    decltype(auto) with_rule(F&& f) {
        return with_rule_of(*this, std::forward<F>(f));
    }
    template <class F>
    decltype(auto) with_rule(F&& f) const {
        return with_rule_of(*this, std::forward<F>(f));
    }
    template <class Self, class F>
    static decltype(auto) with_rule_of(Self& self, F&& f) {
        switch (self.kind_) {
            case optimizer_kind::adam:
                return f(self.adam_);
            case optimizer_kind::rmsprop:
                return f(self.rmsprop_);
            default:
                return f(self.sgd_);
        }
    }

    /// Everything download and upload need, checked before either changes a value: the host slot
    /// runs the same rule with the same state tensors, the two networks have parameters of the
    /// same sizes, and this slot's state (if sized) fits them. The host slot's own check
    /// (optimizer::bind against host_net) runs here too, through a visit that copies nothing.
    template <class Rule, class HostNet, class DeviceNet>
    void require_compatible(detail::device_rule_state<Rule>& rule, optimizer_slot<T>& host, HostNet& host_net,
                            DeviceNet& device_net, const char* call) const {
        const std::string where = std::string("gant::cuda::device_optimizer_slot::") + call + ": ";
        if (host.kind() != kind_)
            throw std::invalid_argument(where + "the host slot runs " + to_string(host.kind()) +
                                        " but this slot runs " + to_string(kind_) +
                                        "; configure both with the same hyper_parameters");

        std::vector<std::size_t> host_sizes, device_sizes;
        host_net.visit_parameters([&](parameter<T>& p) { host_sizes.push_back(p.size()); });
        device_net.visit_parameters([&](device_parameter<T>& p) { device_sizes.push_back(p.size()); });
        if (host_sizes.size() != device_sizes.size())
            throw std::invalid_argument(where + "the host network has " + std::to_string(host_sizes.size()) +
                                        " parameters but the device network has " +
                                        std::to_string(device_sizes.size()));
        for (std::size_t k = 0; k < host_sizes.size(); ++k)
            if (host_sizes[k] != device_sizes[k])
                throw std::invalid_argument(where + "parameter #" + std::to_string(k) + " has " +
                                            std::to_string(host_sizes[k]) + " values on the host but " +
                                            std::to_string(device_sizes[k]) + " on the device");
        rule.require_matches(device_net, call);

        const auto used = Rule::uses(rule.params);
        std::size_t used_slots = 0, host_tensors = 0;
        for (bool u : used) used_slots += u ? 1 : 0;
        host.visit_state(host_net, [&](const std::string& key, auto& tensor) {
            if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(tensor)>, std::uint64_t>) {
                const std::size_t s = rule.slot_of(detail::split_state_key(key).second);
                if (s == Rule::state_names.size() || !used[s])
                    throw std::invalid_argument(where + "the host slot holds '" + key +
                                                "', which this slot's settings do not use; configure both with the "
                                                "same hyper_parameters");
                ++host_tensors;
            }
        });
        // Every host tensor is one this slot uses, so equal counts mean the same set.
        if (host_tensors != used_slots * device_sizes.size())
            throw std::invalid_argument(where + "the host slot holds " + std::to_string(host_tensors) +
                                        " state tensors but this slot's settings use " +
                                        std::to_string(used_slots * device_sizes.size()) +
                                        "; configure both with the same hyper_parameters");
    }

    optimizer_kind kind_ = optimizer_kind::adam;
    detail::device_rule_state<optim::adam_rule> adam_;
    detail::device_rule_state<optim::rmsprop_rule> rmsprop_;
    detail::device_rule_state<optim::sgd_rule> sgd_;
};

}  // namespace gant::cuda
