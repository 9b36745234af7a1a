#pragma once
// The operations of a training step that depend on where a backend keeps its batches.
//
// gan<...> (gan.hpp) is written once, over step_ops<Backend, T>: it says *what* a critic step
// and a generator step do (draw latent codes, run the networks, take the loss and the penalty,
// guard against NaN, update the weights and the moving average) and step_ops says *how* on
// this memory: which batch type, optimiser and moving-average types, and the operations on
// batches that are not a network pass (joining real and fake rows, the losses, the penalty's
// per-sample work, reading a scalar back, weight norms, gradient checks).
//
// The primary template below is the host's: batches are gant's tensors and the policies run
// their own code (loss.critic, lipschitz.penalize, ...). A backend whose batches live in device
// memory specialises step_ops for itself (the CUDA backend's is gant/cuda/train/step_ops.hpp),
// with the same members, so gan<..., Backend> compiles against either.
#include <cmath>
#include <cstddef>
#include <optional>
#include <string>

#include "gant/core/parameter.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/lipschitz/policy.hpp"
#include "gant/optim/init.hpp"
#include "gant/train/ema.hpp"
#include "gant/train/optimizer_slot.hpp"

namespace gant {

/// A parameter whose gradient is not finite: its index in visiting order and its name.
struct nonfinite_gradient {
    std::size_t index;
    std::string name;
};

template <class Backend, class T>
class step_ops {
public:
    using batch = tensor<T>;
    using optimizer = optimizer_slot<T>;
    template <class Net>
    using moving_average = ema<Net>;

    /// Draws the network's initial weights (HostNet is the same network on the host: here, Net).
    template <class HostNet, class Net, class Init>
    void initialize(Net& net, const Init& initializer, rng& r) {
        init::apply(net, initializer, r);
    }

    /// z = N(0, 1) values, one r.normal() per element in row-major order.
    void normal(rng& r, batch& z) {
        for (auto& v : z) v = T(r.normal());
    }

    /// out = the rows of a, then the rows of b.
    void concat(const batch& a, const batch& b, batch& out) {
        ensure_shape(out, a.shape(0) + b.shape(0), a.shape(1));
        std::copy(a.begin(), a.end(), out.begin());
        std::copy(b.begin(), b.end(), out.begin() + std::ptrdiff_t(a.size()));
    }

    /// first = the first `rows` rows of both, second = the rest.
    void split(const batch& both, std::size_t rows, batch& first, batch& second) {
        const std::size_t cols = both.shape(1), split_at = rows * cols;
        ensure_shape(first, rows, cols);
        ensure_shape(second, both.shape(0) - rows, cols);
        std::copy(both.begin(), both.begin() + std::ptrdiff_t(split_at), first.begin());
        std::copy(both.begin() + std::ptrdiff_t(split_at), both.end(), second.begin());
    }

    void copy(const batch& from, batch& to) {
        ensure_shape(to, from.shape(0), from.shape(1));
        std::copy(from.begin(), from.end(), to.begin());
    }

    template <class Loss>
    double critic_loss(const Loss& loss, const batch& real, const batch& fake, batch& d_real, batch& d_fake) {
        return double(loss.critic(real, fake, d_real, d_fake));
    }

    template <class Loss>
    double generator_loss(const Loss& loss, const batch& real, const batch& fake, batch& d_fake) {
        return double(loss.generator(real, fake, d_fake));
    }

    /// The Lipschitz policy's penalty on the critic step's batches; interpolation weights from r.
    template <class Policy, class Critic>
    lipschitz::penalty_report penalize(Policy& policy, Critic& critic, const batch& real, const batch& fake, rng& r,
                                       const pass_context& ctx) {
        penalty_.random = &r;
        penalty_.pass = ctx;
        return policy.penalize(critic, real, fake, penalty_);
    }

    template <class Policy, class Critic>
    void after_critic_step(Policy& policy, Critic& critic) {
        policy.after_critic_step(critic);
    }

    /// The mean of a batch's values, summed in double in order.
    double mean(const batch& b) {
        double s = 0;
        for (auto v : b) s += double(v);
        return b.size() ? s / double(b.size()) : 0.0;
    }

    /// ||all parameter values||_2 of a network, summed in double in visiting order.
    template <class Net>
    double weight_norm(Net& net) {
        double s = 0;
        net.visit_parameters([&](parameter<T>& p) {
            for (auto v : p.value) s += double(v) * double(v);
        });
        return std::sqrt(s);
    }

    /// The first parameter (in visiting order) with a NaN or infinite gradient, if any.
    template <class Net>
    std::optional<nonfinite_gradient> first_nonfinite_gradient(Net& net) {
        std::optional<nonfinite_gradient> found;
        std::size_t index = 0;
        net.visit_parameters([&](parameter<T>& p) {
            if (!found)
                for (auto g : p.grad)
                    if (!std::isfinite(double(g))) {
                        found = nonfinite_gradient{index, p.name};
                        break;
                    }
            ++index;
        });
        return found;
    }

private:
    lipschitz::penalty_context<T> penalty_;
};

}  // namespace gant
