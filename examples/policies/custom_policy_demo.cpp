// custom_policy_demo: a loss and a penalty written in user code, outside include/gant, plugged
// into gan<...> and trained on the ring of 8 Gaussians. docs/policies.md shows the part between
// the two marker lines, and a CTest test keeps that copy identical to this file.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>

#include "gant/data/mixtures.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/input_gradient.hpp"
#include "gant/lipschitz/policy.hpp"
#include "gant/topology/mlp.hpp"

// ---- begin docs/policies.md example ----
namespace my {

inline double softplus(double u) { return std::max(u, 0.0) + std::log1p(std::exp(-std::abs(u))); }
inline double sigmoid(double u) { return u >= 0 ? 1 / (1 + std::exp(-u)) : std::exp(u) / (1 + std::exp(u)); }

/// Relativistic average GAN (Jolicoeur-Martineau 2018), on raw scores r (real) and f (fake):
///   L_D = E_r softplus(-(r - mean f)) + E_f softplus(f - mean r)
///   L_G = E_f softplus(-(f - mean r)) + E_r softplus(r - mean f)
/// The generator's loss reads the real scores, so generator_uses_real is true and gan<...>
/// runs the critic on a real batch in the generator step too.
struct relativistic_average {
    struct params {};
    params p;
    static constexpr const char* name = "relativistic_average";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = true;

    template <class T>
    T critic(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_real,
             gant::tensor<T>& d_fake) const {
        const double mr = mean(real), mf = mean(fake);
        const double nr = double(real.size()), nf = double(fake.size());
        double loss = 0, pull_real = 0, push_fake = 0;  // mean sigma(mf - r), mean sigma(f - mr)
        for (auto r : real) {
            loss += softplus(mf - double(r)) / nr;
            pull_real += sigmoid(mf - double(r)) / nr;
        }
        for (auto f : fake) {
            loss += softplus(double(f) - mr) / nf;
            push_fake += sigmoid(double(f) - mr) / nf;
        }
        for (std::size_t i = 0; i < real.size(); ++i)
            d_real.data()[i] = T(-(sigmoid(mf - double(real.data()[i])) + push_fake) / nr);
        for (std::size_t j = 0; j < fake.size(); ++j)
            d_fake.data()[j] = T((sigmoid(double(fake.data()[j]) - mr) + pull_real) / nf);
        return T(loss);
    }

    template <class T>
    T generator(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_fake) const {
        const double mr = mean(real), mf = mean(fake);
        const double nr = double(real.size()), nf = double(fake.size());
        double loss = 0, push_real = 0;  // mean sigma(r - mf)
        for (auto f : fake) loss += softplus(mr - double(f)) / nf;
        for (auto r : real) {
            loss += softplus(double(r) - mf) / nr;
            push_real += sigmoid(double(r) - mf) / nr;
        }
        for (std::size_t j = 0; j < fake.size(); ++j)
            d_fake.data()[j] = T(-(sigmoid(mr - double(fake.data()[j])) + push_real) / nf);
        return T(loss);
    }

    /// Optional: the family's defaults (the RaGAN paper trains with Adam 2e-4, betas 0.5, 0.999).
    static void defaults(gant::hyper_parameters& h) {
        h.optimizer = gant::optimizer_kind::adam;
        h.lr_generator = h.lr_critic = 2e-4;
        h.beta1 = 0.5;
        h.beta2 = 0.999;
    }

private:
    template <class T>
    static double mean(const gant::tensor<T>& s) {
        double m = 0;
        for (auto v : s) m += double(v) / double(s.size());
        return m;
    }
};

/// R1 (Mescheder et al. 2018): (gamma / 2) E_real ||grad_x D(x)||^2, on real samples only.
/// As a function of q = ||g||^2 the per-sample term is phi(q) = gamma / (2 n) q, so
/// d phi / dq = gamma / (2 n); input_gradient_penalty turns that into the exact gradient with
/// respect to every critic weight (a tangent pass and a paired reverse pass, no finite differences).
struct r1 {
    struct params {
        double gamma = 10.0;
    };
    params p;
    static constexpr const char* name = "r1";
    template <class CriticDescriptor>
    using critic = CriticDescriptor;  // no change to the critic's layers

    template <class Critic>
    static constexpr void check() {  // per-sample critic with second-order rules, or a sentence
        gant::lipschitz::require_per_sample_second_order<Critic>();
    }

    template <class Critic, class T>
    gant::lipschitz::penalty_report penalize(Critic& critic, const gant::tensor<T>& real, const gant::tensor<T>&,
                                             gant::lipschitz::penalty_context<T>& c) {
        const double scale = p.gamma / (2.0 * double(real.shape(0)));
        return c.gradient.apply(critic, real,
                                [scale](double q) { return gant::lipschitz::penalty_term{scale * q, scale}; },
                                c.pass);
    }

    template <class Critic>
    void after_critic_step(Critic&) {}
    static void defaults(gant::hyper_parameters&) {}  // keeps the loss's optimiser settings
};

}  // namespace my

// Plugged in like gant's own policies:
using ring_nets = gant::topology::mlp<gant::shape<2>, gant::shape<2>, 64, 3>;
using model = gant::gan<ring_nets, my::relativistic_average, my::r1>;
// ---- end docs/policies.md example ----

int main(int argc, char** argv) {
    std::size_t steps = 3000, threads = 1;
    std::uint64_t seed = 1;
    double gamma = 1.0;
    CLI::App app{"custom_policy_demo: a user-written loss (relativistic average) and penalty (R1) trained on the "
                 "ring of 8 Gaussians"};
    app.add_option("--steps", steps, "training iterations")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--seed", seed, "random seed")->capture_default_str();
    app.add_option("--gamma", gamma, "R1 weight (the ring's scale is ~1; 10 is the image-data default)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--threads", threads, "CPU threads")->check(CLI::Range(1, 256))->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    gant::set_num_threads(threads);

    gant::hyper_parameters h = model::default_hyper_parameters();
    h.batch = 100;
    model m(h, seed);
    m.lipschitz().p.gamma = gamma;
    const gant::data::gaussian_mixture_2d ring = gant::data::ring_mixture();
    gant::rng data(seed, 1), evaluation(seed, 2);
    try {
        for (std::size_t i = 0; i < steps; ++i) m.train_step([&](gant::tensor<float>& b) { ring.sample(b, data); });
    } catch (const gant::training_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    const gant::step_stats& s = m.last_stats();
    const gant::data::mode_metrics q = gant::data::evaluate_modes(ring, m.sample(2500, evaluation));
    std::printf("%s + %s, %zu steps: critic loss %.4f (R1 %.4f, mean |grad_x D| on reals %.4f), generator loss %.4f\n",
                my::relativistic_average::name, my::r1::name, steps, s.critic_loss, s.penalty, s.input_grad_norm,
                s.generator_loss);
    std::printf("ring8: %zu/8 modes, %.1f%% high quality, reverse KL %.3f\n", q.modes_covered,
                100 * q.high_quality_fraction, q.reverse_kl);
    return 0;
}
