#pragma once
// gan<Topology, Loss, Lipschitz, Growth, T, Backend>: one type that owns a generator, a critic,
// their optimisers and every workspace, and runs one training iteration per call.
//
//   using model = gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::wasserstein,
//                     lipschitz::gradient_penalty>;
//   model m(model::default_hyper_parameters(), /*seed=*/0);
//   m.train_step([&](tensor<float>& batch) { data.next(batch); });
//
// Structure is compile-time: the policies are types and illegal combinations fail to compile
// with a sentence. Magnitudes (learning rates, n_critic, lambda, ...) are run-time values.
//
// The Backend decides where the networks, their batches and the optimiser state live; the step
// itself is written once, over step_ops<Backend, T> (train/step_ops.hpp), which does the work
// between network passes in that memory. With backend::cuda (gant/backend/cuda.hpp, and
// gant/cuda/train/step_ops.hpp for its step_ops) the whole iteration runs on the GPU: `source`
// then fills a device batch, and only a few scalars per step (the losses, the penalty, the
// gradient check) come back to the host.
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/backend/cpu.hpp"
#include "gant/growth/fixed.hpp"
#include "gant/growth/progressive.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/policy.hpp"
#include "gant/loss/policy.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/optim/init.hpp"
#include "gant/topology/topology.hpp"
#include "gant/train/ema.hpp"
#include "gant/train/hyper_parameters.hpp"
#include "gant/train/magnitudes.hpp"
#include "gant/train/optimizer_slot.hpp"
#include "gant/train/step_ops.hpp"
#include "gant/train/step_stats.hpp"

namespace gant {

/// Thrown when training produces a NaN or an infinity; what() names the step and the value.
struct training_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace detail {
template <class D>
struct last_layer {
    using type = D;
};
template <class... Ls>
struct last_layer<sequential<Ls...>> {
    using type = typename last_layer<std::tuple_element_t<sizeof...(Ls) - 1, std::tuple<Ls...>>>::type;
};
template <class D>
inline constexpr bool ends_in_sigmoid = std::is_same_v<typename last_layer<D>::type, gant::sigmoid>;

/// Instantiated when the generator's output is not the critic's input: the arguments name both.
template <class GeneratorOutput, class SampleShape>
struct generator_output_mismatch {
    static_assert(dependent_false_v<GeneratorOutput>,
                  "gant: the generator's output shape is not the topology's sample shape; read "
                  "generator_output_mismatch<generator output, sample shape> in this message");
    static constexpr bool value = false;
};
template <class CriticOutput>
struct critic_output_not_a_score {
    static_assert(dependent_false_v<CriticOutput>,
                  "gant: the critic must end in one raw score per sample (shape<1>); read "
                  "critic_output_not_a_score<critic output shape> in this message");
    static constexpr bool value = false;
};
template <class A, class B>
constexpr bool generator_matches() {
    if constexpr (A::size == B::size && A::rank == B::rank && A::dims == B::dims)
        return true;
    else
        return generator_output_mismatch<A, B>::value;
}
template <class C>
constexpr bool critic_scores() {
    if constexpr (C::size == 1)
        return true;
    else
        return critic_output_not_a_score<C>::value;
}
}  // namespace detail

template <class Topology, class Loss, class Lipschitz = lipschitz::none, class Growth = growth::fixed,
          class T = float, class Backend = backend::cpu>
class gan {
public:
    using scalar = T;
    using backend = Backend;
    using topology_type = Topology;
    using loss_type = Loss;
    using lipschitz_type = Lipschitz;
    using growth_type = Growth;
    using latent_shape = typename Topology::latent_shape;
    using sample_shape = typename Topology::sample_shape;
    using generator_descriptor = typename Topology::generator;
    using critic_descriptor =
        typename Lipschitz::template critic<gant::topology::critic_for_t<Topology, Lipschitz>>;
    using generator_type = typename generator_descriptor::template impl<latent_shape, T, Backend>;
    using critic_type = typename critic_descriptor::template impl<sample_shape, T, Backend>;
    /// The same networks on the host (where the initialisers draw and checkpoints are read).
    using host_generator_type = typename generator_descriptor::template impl<latent_shape, T, gant::backend::cpu>;
    using host_critic_type = typename critic_descriptor::template impl<sample_shape, T, gant::backend::cpu>;
    /// The step's operations on this backend's memory, and the types they choose.
    using ops_type = step_ops<Backend, T>;
    /// What the networks take and return: tensor<T> on the host, device memory on a GPU backend.
    using batch = typename ops_type::batch;
    using optimizer_type = typename ops_type::optimizer;
    static constexpr bool host_batches = std::is_same_v<batch, tensor<T>>;
    static constexpr std::size_t latent_size = latent_shape::size;
    static constexpr std::size_t sample_size = sample_shape::size;

    static_assert(loss::policy<Loss>, "gant: the Loss slot of gan<...> needs a loss policy (see loss/policy.hpp)");
    static_assert(detail::generator_matches<typename generator_type::output_shape, sample_shape>());
    static_assert(detail::critic_scores<typename critic_type::output_shape>());
    static_assert(!(Loss::is_wasserstein && detail::ends_in_sigmoid<critic_descriptor>),
                  "gant: a Wasserstein critic must output an unbounded score, but this critic ends in sigmoid; "
                  "remove the final sigmoid (every gant loss works on raw scores)");
    static_assert(!critic_type::uses_batch_statistics || requires { requires Loss::separable; },
                  "gant: this loss's critic gradient mixes real and fake scores, which needs real and fake in "
                  "one critic batch, but the critic uses batch_norm statistics; use layer_norm in the critic");
    static_assert(!critic_type::couples_samples || requires { requires Loss::separable; },
                  "gant: this loss's critic gradient mixes real and fake scores, which needs real and fake in "
                  "one critic batch, but the critic mixes the samples of a batch (minibatch stddev), so real "
                  "and fake must pass separately; use a separable loss");
    static_assert(!Growth::grows || requires { Topology::levels; },
                  "gant: a growing schedule (growth::progressive) needs a topology with resolution levels, such as "
                  "topology::progressive");
    static_assert(!Growth::grows || host_batches,
                  "gant: progressive growing (growth::progressive) runs on the CPU backend only: its layers (pixel "
                  "norm, resampling, minibatch stddev, the fade-in) have no device versions yet");

    /// The papers' defaults for this family: the loss's, then the Lipschitz policy's.
    static hyper_parameters default_hyper_parameters() {
        hyper_parameters h;
        if constexpr (requires { Loss::defaults(h); }) Loss::defaults(h);
        Lipschitz::defaults(h);
        if constexpr (requires { Growth::defaults(h); }) Growth::defaults(h);
        return h;
    }

    explicit gan(const hyper_parameters& h = default_hyper_parameters(), std::uint64_t seed = 0)
        : h_(h), seed_(seed), init_rng_(seed, 1), latent_rng_(seed, 2), penalty_rng_(seed, 3) {
        gant::check(h);  // std::invalid_argument naming the field out of range
        Lipschitz::template check<critic_type>();
        // The initialisers draw on the host, generator first, so every backend starts from the
        // same weights for the same seed.
        const gant::topology::initializer_t<Topology> initializer{};
        ops_.template initialize<host_generator_type>(generator_, initializer, init_rng_);
        ops_.template initialize<host_critic_type>(critic_, initializer, init_rng_);
        // The moving average is a second generator: it exists only while EMA is on.
        if (h_.ema) ema_.reset(generator_);
        // The critic's reverse passes have ended before the generator's begin, so the two work in
        // one set of adjoint buffers (nn/sequential.hpp, reverse_buffers). The EMA copy has its own.
        if constexpr (requires { generator_.share_reverse_buffers(critic_); })
            generator_.share_reverse_buffers(critic_);
        ensure_shape(no_scores_, 0, 1);
        configure_optimizers();
        if constexpr (Growth::grows) set_phase(growth_.at(growth_.images, Topology::levels));
    }

    // ---- the training iteration --------------------------------------------------------

    /// One generator iteration: n_critic critic steps, then one generator step. `source`
    /// fills a [batch, sample_size] batch with real samples: source(batch&) (a tensor<T> on
    /// the host; on a GPU backend a device batch, e.g. from gant::cuda::device_batch_source).
    template <class Source>
    const step_stats& train_step(Source&& source) {
        // The policies' public magnitudes may have been set since the last step: check them
        // before anything changes (std::invalid_argument naming the field).
        check_magnitudes(loss_);
        check_magnitudes(lipschitz_);
        const std::size_t b = h_.batch;
        ensure_shape(real_, b, sample_size);
        ensure_shape(z_, b, latent_size);
        stats_ = step_stats{};
        stats_.step = step_ + 1;
        if constexpr (Growth::grows) {
            begin_growth_step();
            // Real images at the current level (and blended during a fade-in), as the critic
            // must see them next to the generator's output.
            auto faded = [&](tensor<T>& batch) {
                source(batch);
                growth::fade_real_images<sample_shape>(batch, phase_, Topology::levels, fade_a_, fade_b_);
            };
            for (std::size_t k = 0; k < std::max<std::size_t>(h_.n_critic, 1); ++k) {
                critic_step(faded);
                growth_.images += b;
            }
            generator_step(faded);
        } else {
            for (std::size_t k = 0; k < std::max<std::size_t>(h_.n_critic, 1); ++k) critic_step(source);
            generator_step(source);
        }
        stats_.critic_weight_norm = ops_.weight_norm(critic_);
        stats_.generator_weight_norm = ops_.weight_norm(generator_);
        // Finite losses and gradients can still give non-finite weights (a learning rate that
        // overflows the scalar type, an update that overflows): the norms catch any NaN or
        // infinity, so such a step is never counted, checkpointed or sampled from.
        guard("critic's weight norm", stats_.critic_weight_norm);
        guard("generator's weight norm", stats_.generator_weight_norm);
        ++step_;
        return stats_;
    }

    /// Generates samples for latent codes z ([n, latent_size]) with the EMA generator when it is
    /// on; the result is valid until the next call that runs the generator.
    const batch& generate(const batch& z) {
        pass_context ctx;
        ctx.update_statistics = false;
        return (h_.ema ? ema_.network() : generator_).forward(z, ctx);
    }

    /// The same from and to host tensors, on a backend whose batches live elsewhere.
    const tensor<T>& generate(const tensor<T>& z)
        requires(!host_batches)
    {
        ops_.upload(z, device_z_);
        return to_host(generate(device_z_));
    }

    /// n fresh samples, on the host, from a random stream the caller owns (latent codes ~ N(0, 1),
    /// drawn as n * latent_size calls of r.normal() on every backend).
    const tensor<T>& sample(std::size_t n, rng& r) {
        ensure_shape(sample_z_, n, latent_size);
        ops_.normal(r, sample_z_);
        return to_host(generate(sample_z_));
    }

    // ---- access ------------------------------------------------------------------------

    generator_type& generator() { return generator_; }
    critic_type& critic() { return critic_; }
    /// The generator samples come from: the moving average of the generator's weights when EMA
    /// is on; with EMA off there is no average, and this is generator() itself.
    generator_type& ema_generator() { return h_.ema ? ema_.network() : generator_; }
    Loss& loss() { return loss_; }
    Lipschitz& lipschitz() { return lipschitz_; }
    const hyper_parameters& hyper() const { return h_; }
    std::size_t step() const { return step_; }
    const step_stats& last_stats() const { return stats_; }
    optimizer_type& generator_optimizer() { return g_opt_; }
    optimizer_type& critic_optimizer() { return d_opt_; }
    /// The growth schedule and its state (images shown, level); phase() is where the last
    /// training step stood (level, alpha), which generate() and sample() also use.
    Growth& growth() { return growth_; }
    const growth::phase_point& phase() const { return phase_; }

    /// Puts all three networks at a schedule point (level, alpha) without training, e.g. to
    /// sample a checkpoint at the phase it was saved in. Training steps set it themselves.
    void set_phase(const growth::phase_point& pt) {
        phase_ = pt;
        growth::set_phase(generator_, pt);
        growth::set_phase(critic_, pt);
        if (ema_.active()) growth::set_phase(ema_.network(), pt);
    }

    /// Changes run-time magnitudes; optimiser state is kept, learning rates and betas follow.
    /// Switching the EMA on restarts it from the generator's current weights; switching it off
    /// frees the average.
    /// Throws std::invalid_argument (and changes nothing) when a field is out of range (check()).
    void set_hyper_parameters(const hyper_parameters& h) {
        gant::check(h);
        const bool kind_changed = h.optimizer != h_.optimizer;
        // An average switched on now starts at today's weights, not at the initial ones.
        if (h.ema && !h_.ema) ema_.reset(generator_);
        if (!h.ema && h_.ema) ema_.release();
        h_ = h;
        if (kind_changed) configure_optimizers();
        else {
            g_opt_.configure(h_, h_.lr_generator);
            d_opt_.configure(h_, h_.lr_critic);
        }
    }

    /// Every random stream, for checkpoints.
    template <class F>
    void visit_random_streams(F&& f) {
        f("init", init_rng_);
        f("latent", latent_rng_);
        f("penalty", penalty_rng_);
    }
    void set_step(std::size_t s) { step_ = s; }

private:
    /// Where the schedule stands for this step; a new level resets both optimisers (PGGAN).
    void begin_growth_step() {
        const growth::phase_point pt = growth_.at(growth_.images, Topology::levels);
        if (pt.level != growth_.level) {
            g_opt_.reset();
            d_opt_.reset();
            growth_.level = pt.level;
        }
        set_phase(pt);
    }

    template <class Source>
    void critic_step(Source& source) {
        source(real_);
        sample_latent();
        const batch& fake = generator_.forward(z_, train_ctx_);
        critic_.zero_grad();
        double critic_loss;
        if constexpr (!critic_type::couples_samples) {
            // Real and fake in one batch: identical to two passes for a per-sample critic,
            // and the larger products run faster.
            const std::size_t b = real_.shape(0);
            ops_.concat(real_, fake, both_);
            ops_.split(critic_.forward_borrowed(both_, train_ctx_), b, score_real_, score_fake_);
            ensure_shape(d_real_, score_real_.shape(0), 1);
            ensure_shape(d_fake_, score_fake_.shape(0), 1);
            critic_loss = ops_.critic_loss(loss_, score_real_, score_fake_, d_real_, d_fake_);
            ops_.concat(d_real_, d_fake_, d_both_);
            critic_.backward(d_both_, nullptr, true, train_ctx_);
        } else {
            // A critic that couples samples (batch norm, minibatch stddev): real and fake get their
            // own statistics (as in DCGAN and PGGAN); the loss is separable, so each half's
            // gradient needs only its own scores.
            ops_.copy(critic_.forward_borrowed(real_, train_ctx_), score_real_);
            ops_.copy(score_real_, score_fake_);  // a stand-in: the fake half's gradient is not used
            ensure_shape(d_real_, real_.shape(0), 1);
            ensure_shape(d_fake_, score_fake_.shape(0), 1);
            ops_.critic_loss(loss_, score_real_, score_fake_, d_real_, d_fake_);
            critic_.backward(d_real_, nullptr, true, train_ctx_);
            ops_.copy(critic_.forward_borrowed(fake, train_ctx_), score_fake_);
            ensure_shape(d_fake_, score_fake_.shape(0), 1);
            ensure_shape(scratch_, real_.shape(0), 1);
            critic_loss = ops_.critic_loss(loss_, score_real_, score_fake_, scratch_, d_fake_);
            critic_.backward(d_fake_, nullptr, true, train_ctx_);
        }
        const lipschitz::penalty_report pr = ops_.penalize(lipschitz_, critic_, real_, fake, penalty_rng_, train_ctx_);
        guard("critic loss", critic_loss);
        guard("penalty", pr.value);
        guard_gradients(critic_, "critic");
        d_opt_.step(critic_);
        ops_.after_critic_step(lipschitz_, critic_);

        stats_.critic_loss = critic_loss + pr.value;
        stats_.penalty = pr.value;
        stats_.input_grad_norm = pr.mean_grad_norm;
        stats_.mean_real_score = ops_.mean(score_real_);
        stats_.mean_fake_score = ops_.mean(score_fake_);
        stats_.wasserstein_estimate = Loss::is_wasserstein ? stats_.mean_real_score - stats_.mean_fake_score
                                                        : std::numeric_limits<double>::quiet_NaN();
    }

    template <class Source>
    void generator_step(Source& source) {
        sample_latent();
        generator_.zero_grad();
        if constexpr (Loss::generator_uses_real) {
            source(real_);
            ops_.copy(critic_.forward_borrowed(real_, train_ctx_), score_real_);
        }
        const batch& fake = generator_.forward(z_, train_ctx_);
        ops_.copy(critic_.forward_borrowed(fake, train_ctx_), score_fake_);
        ensure_shape(d_fake_, fake.shape(0), 1);
        // Losses that ignore real scores get an empty batch (made once: resizing score_real_
        // to 0 rows and back each step would cost two heap allocations per step).
        const batch& real_scores = Loss::generator_uses_real ? score_real_ : no_scores_;
        const double g_loss = ops_.generator_loss(loss_, real_scores, score_fake_, d_fake_);
        guard("generator loss", g_loss);
        // The critic's input gradient goes straight into the buffer the generator's backward
        // starts from (network::backward_through), without a batch in between.
        generator_.backward_through(critic_, d_fake_, false, nullptr, true, train_ctx_);
        guard_gradients(generator_, "generator");
        g_opt_.step(generator_);
        if (h_.ema) ema_.update(generator_, h_.ema_decay);
        stats_.generator_loss = g_loss;
    }

    void sample_latent() { ops_.normal(latent_rng_, z_); }

    /// A generated batch as a host tensor: itself on the host, else downloaded into host_samples_.
    const tensor<T>& to_host(const batch& images) {
        if constexpr (host_batches) {
            return images;
        } else {
            ops_.download(images, host_samples_);
            return host_samples_;
        }
    }

    void guard(const char* what, double value) const {
        if (!std::isfinite(value))
            throw training_error("gant: step " + std::to_string(step_ + 1) + ": the " + what + " is " +
                                 (std::isnan(value) ? "NaN" : "infinite") + "; training stopped");
    }

    template <class Net>
    void guard_gradients(Net& net, const char* which) {
        if (const auto bad = ops_.first_nonfinite_gradient(net))
            throw training_error("gant: step " + std::to_string(step_ + 1) + ": the gradient of " + which +
                                 " parameter #" + std::to_string(bad->index) + " ('" + bad->name +
                                 "') is not finite; training stopped");
    }

    void configure_optimizers() {
        g_opt_.configure(h_, h_.lr_generator);
        d_opt_.configure(h_, h_.lr_critic);
    }

    hyper_parameters h_;
    std::uint64_t seed_;
    rng init_rng_, latent_rng_, penalty_rng_;
    generator_type generator_;
    critic_type critic_;
    typename ops_type::template moving_average<generator_type> ema_;
    Loss loss_{};
    Lipschitz lipschitz_{};
    Growth growth_{};
    growth::phase_point phase_{};
    optimizer_type g_opt_, d_opt_;
    ops_type ops_;
    pass_context train_ctx_{};
    std::size_t step_ = 0;
    step_stats stats_{};
    batch real_, z_, both_, d_both_, score_real_, score_fake_, d_real_, d_fake_, scratch_, sample_z_, device_z_,
        no_scores_;
    tensor<T> fade_a_, fade_b_, host_samples_;
};

}  // namespace gant
