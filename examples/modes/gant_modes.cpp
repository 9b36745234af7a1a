// gant_modes: the 2-D mode-collapse study (VEEGAN, PacGAN; docs/modes.md).
//
// Trains every loss x Lipschitz family on the ring of 8 Gaussians and on the 5x5 grid of 25
// Gaussians with small MLPs, then draws 2,500 samples from each generator and reports modes
// covered, the fraction of high-quality samples and the reverse KL of the mode histogram
// (gant/data/mixtures.hpp). One family's settings are the same on both data sets: the study
// compares families, it does not tune each one to each data set.
//
//   gant_modes                                   # every family on both data sets, one table
//   gant_modes --family wgan_gp --data grid25 --json
//   gant_modes --steps 20 --family wgan_gp --data ring8   # the CTest smoke run
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <limits>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "gant/core/threads.hpp"
#include "gant/data/mixtures.hpp"
#include "gant/gan.hpp"
#include "gant/io/atomic_file.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/mlp.hpp"

#include "../common/flag_checks.hpp"

namespace {

using namespace gant;

// The nets: Depth hidden layers of Hidden units, ReLU generator, leaky-ReLU (0.2) critic, a 2-d
// N(0, I) latent code and a linear generator output (the data are unbounded). The published toy
// nets are larger (WGAN-GP: 3 x 512; PacGAN: G 4 x 400, D 3 x 200 maxout); 3 x 64 is small
// enough for ten thousand penalised WGAN iterations in under a minute on one core and still
// places all 25 grid modes (docs/modes.md).
#ifndef GANT_MODES_HIDDEN
#define GANT_MODES_HIDDEN 64
#endif
#ifndef GANT_MODES_DEPTH
#define GANT_MODES_DEPTH 3
#endif
constexpr std::size_t hidden = GANT_MODES_HIDDEN;
constexpr std::size_t depth = GANT_MODES_DEPTH;
using nets = topology::mlp<shape<2>, shape<2>, hidden, depth>;

constexpr std::size_t evaluation_samples = 2500;  // as VEEGAN and PacGAN

/// One family's complete settings: the hyper-parameters and the policies' own parameters.
template <class Loss, class Lipschitz>
struct family {
    using model = gan<nets, Loss, Lipschitz>;
    const char* name;
    const char* source;  // where the numbers come from
    hyper_parameters h = model::default_hyper_parameters();
    typename Loss::params loss{};
    typename Lipschitz::params lipschitz{};
    std::size_t steps = 0;  // generator iterations (each has n_critic critic steps)
    bool lr_decay = true;   // learning rates fall linearly to 0 over the steps

    /// Multiplies both learning rates (the paper's, with their ratio kept).
    family& scale_learning_rates(double s) {
        h.lr_generator *= s;
        h.lr_critic *= s;
        return *this;
    }
};

// ---- the per-family settings (documented in docs/modes.md) -----------------------------------
// One protocol for every family, and one setting per family for both data sets:
//   * the paper's optimiser, betas, n_critic and policy parameters, from
//     gan<...>::default_hyper_parameters() and the policies' params (WGAN-GP: its authors' 2-D
//     script, gan_toy.py: lambda 0.1, beta1 0.5);
//   * batch 64 for every family;
//   * steps: as many generator iterations as fit in ~50 s on one idle core, so a family with
//     n_critic 5 and a penalty gets fewer than a 1:1 family;
//   * the papers' learning rates are set for 10^5 iterations or more; with 10^4 they are scaled
//     by one factor per family, chosen from {1, 10, 30} on the grid with another seed (2), and
//     fall linearly to 0 over the run.
auto make_families() {
    family<loss::non_saturating, lipschitz::none> gan_ns{"gan", "GAN, non-saturating: DCGAN's Adam(2e-4, 0.5, 0.999) x 10"};
    gan_ns.scale_learning_rates(10).steps = 50000;

    family<loss::least_squares, lipschitz::none> lsgan{"lsgan", "LSGAN, 0-1 coding (a, b, c) = (0, 1, 1): Adam(2e-4, 0.5, 0.999) x 10"};
    lsgan.scale_learning_rates(10).steps = 50000;

    family<loss::wasserstein, lipschitz::weight_clip> wgan_clip{"wgan_clip", "WGAN Alg. 1: c 0.01, n_critic 5, RMSProp 5e-5 x 10"};
    wgan_clip.scale_learning_rates(10).steps = 18000;

    family<loss::wasserstein, lipschitz::gradient_penalty> wgan_gp{"wgan_gp", "WGAN-GP gan_toy.py: lambda 0.1, n_critic 5, Adam(1e-4, 0.5, 0.9) x 30"};
    wgan_gp.h.beta1 = 0.5;
    wgan_gp.lipschitz.lambda = 0.1;
    wgan_gp.scale_learning_rates(30).steps = 10000;

    family<loss::wasserstein, lipschitz::wasserstein_div> wgan_div{"wgan_div", "WGAN-div: k 2, p 6, interpolated points, n_critic 5, Adam(2e-4, 0, 0.9) x 30"};
    wgan_div.scale_learning_rates(30).steps = 10000;

    family<loss::hinge, lipschitz::spectral_norm> hinge_sn{"hinge_sn", "SAGAN: hinge, SN critic, n_critic 1, Adam(G 1e-4, D 4e-4, 0, 0.9) x 10"};
    hinge_sn.scale_learning_rates(10).steps = 35000;

    for (auto* h : {&gan_ns.h, &lsgan.h, &wgan_clip.h, &wgan_gp.h, &wgan_div.h, &hinge_sn.h}) h->batch = 64;
    return std::make_tuple(gan_ns, lsgan, wgan_clip, wgan_gp, wgan_div, hinge_sn);
}

// ---- describing the settings ------------------------------------------------------------------
std::string describe(const loss::non_saturating::params&) { return ""; }
std::string describe(const loss::wasserstein::params&) { return ""; }
std::string describe(const loss::least_squares::params& p) {
    std::ostringstream s;
    s << " a " << p.a << " b " << p.b << " c " << p.c;
    return s.str();
}
std::string describe(const loss::hinge::params& p) {
    std::ostringstream s;
    s << " margin " << p.margin;
    return s.str();
}
std::string describe(const lipschitz::none::params&) { return ""; }
std::string describe(const lipschitz::spectral_norm::params&) { return " spectral norm (1 power iteration)"; }
std::string describe(const lipschitz::weight_clip::params& p) {
    std::ostringstream s;
    s << " clip " << p.clip;
    return s.str();
}
std::string describe(const lipschitz::gradient_penalty::params& p) {
    std::ostringstream s;
    s << " lambda " << p.lambda << " target " << p.target;
    return s.str();
}
std::string describe(const lipschitz::wasserstein_div::params& p) {
    std::ostringstream s;
    s << " k " << p.k << " p " << p.p << " points "
      << (p.sampling == lipschitz::wasserstein_div::points::interpolated ? "interpolated" : "real_and_fake");
    return s.str();
}

template <class F>
std::string describe(const F& f) {
    const hyper_parameters& h = f.h;
    std::ostringstream s;
    s << to_string(h.optimizer) << " lr G " << h.lr_generator << " D " << h.lr_critic;
    if (h.optimizer == optimizer_kind::adam) s << " betas (" << h.beta1 << ", " << h.beta2 << ")";
    if (h.optimizer == optimizer_kind::rmsprop) s << " alpha " << h.rmsprop_alpha;
    s << " n_critic " << h.n_critic << " batch " << h.batch << describe(f.loss) << describe(f.lipschitz)
      << (h.ema ? " ema " + std::to_string(h.ema_decay) : std::string())
      << (f.lr_decay ? " lr linearly to 0" : "") << " steps " << f.steps;
    return s.str();
}

// ---- one run ----------------------------------------------------------------------------------
struct options {
    std::vector<std::string> families{"all"};
    std::vector<std::string> data{"all"};
    std::size_t steps = 0;    // 0: each family's own count
    double seconds = 0;       // wall-clock cap per run (0: none; the steps are the budget)
    std::uint64_t seed = 1;
    std::size_t threads = 2;
    std::size_t batch = 0;    // 0: each family's own batch
    bool json = false;
    bool quiet = false;
    std::size_t eval_every = 0;  // progress evaluations on stderr (0: none)
    std::string dump;            // folder for the evaluated samples as CSV (empty: none)
    // Run-time overrides of every family's settings (unset: the family's own value).
    std::optional<double> lr_generator, lr_critic, beta1, beta2, lambda;
    std::optional<std::size_t> n_critic;
    std::optional<bool> ema;
    std::optional<bool> lr_decay;
};

/// A family's settings after the command line's overrides.
template <class F>
F with_overrides(F f, const options& o) {
    if (o.batch) f.h.batch = o.batch;
    if (o.steps) f.steps = o.steps;
    if (o.lr_generator) f.h.lr_generator = *o.lr_generator;
    if (o.lr_critic) f.h.lr_critic = *o.lr_critic;
    if (o.beta1) f.h.beta1 = *o.beta1;
    if (o.beta2) f.h.beta2 = *o.beta2;
    if (o.n_critic) f.h.n_critic = *o.n_critic;
    if (o.ema) f.h.ema = *o.ema;
    if (o.lr_decay) f.lr_decay = *o.lr_decay;
    if constexpr (requires { f.lipschitz.lambda; })
        if (o.lambda) f.lipschitz.lambda = *o.lambda;
    return f;
}

struct result {
    std::string family, data;
    std::size_t steps = 0;
    bool stopped_by_clock = false;
    double seconds = 0;      // wall clock, training and evaluation
    double cpu_seconds = 0;  // processor time of the same span (less sensitive to a busy machine)
    data::mode_metrics metrics;
    std::string error;  // a training_error's sentence when the run diverged
};

/// x -> (x - mean) / scale with the mixture's exact mean and per-coordinate standard deviation
/// (the same scale on both axes, so the mixture's geometry is kept).
struct standardiser {
    double mean[2] = {0, 0};
    double scale = 1;

    static standardiser of(const data::gaussian_mixture_2d& m) {
        standardiser z;
        const double k = double(m.modes());
        for (const auto& mu : m.means)
            for (int a = 0; a < 2; ++a) z.mean[a] += mu[a] / k;
        double spread = 0;  // mean squared distance of the means from their centre, per axis
        for (const auto& mu : m.means)
            for (int a = 0; a < 2; ++a) spread += (mu[a] - z.mean[a]) * (mu[a] - z.mean[a]) / (2 * k);
        z.scale = std::sqrt(spread + m.stddev * m.stddev);
        return z;
    }
    template <class T>
    void forward(tensor<T>& x) const {
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t a = 0; a < 2; ++a) x(i, a) = T((double(x(i, a)) - mean[a]) / scale);
    }
    template <class T>
    void inverse(tensor<T>& x) const {
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t a = 0; a < 2; ++a) x(i, a) = T(double(x(i, a)) * scale + mean[a]);
    }
};

/// The samples as "x,y" CSV, replacing `path` atomically like every other output (a full disk or
/// a kill leaves the previous file, never a cut-off one; io::write_error says which).
template <class T>
void dump(const tensor<T>& samples, const std::string& path) {
    std::string text = "x,y\n";
    char line[64];
    for (std::size_t i = 0; i < samples.shape(0); ++i) {
        const int n = std::snprintf(line, sizeof line, "%.6g,%.6g\n", double(samples(i, 0)), double(samples(i, 1)));
        text.append(line, std::size_t(n));
    }
    io::write_atomically(path, text.data(), text.size());
}

template <class F>
result run(const F& f, const std::string& data_name, const data::gaussian_mixture_2d& mixture, const options& o) {
    using model = typename F::model;
    using T = typename model::scalar;
    const hyper_parameters& h = f.h;
    const std::size_t steps = f.steps;

    result r;
    r.family = f.name;
    r.data = data_name;
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

    model m(h, o.seed);
    m.loss().p = f.loss;
    m.lipschitz().p = f.lipschitz;
    rng data_rng(o.seed, 11), sample_rng(o.seed, 12);
    // The nets see standardised data (the WGAN-GP toy script divides its grid by 2.828 and its
    // ring by 1.414 for the same reason): a freshly initialised generator puts out values of
    // order 0.1, and the grid spans [-4, 4]. Samples are mapped back before they are scored.
    const standardiser z = standardiser::of(mixture);
    const auto source = [&](tensor<T>& batch) {
        mixture.sample(batch, data_rng);
        z.forward(batch);
    };
    tensor<T> scored;
    const auto evaluate = [&](rng& stream) {
        const tensor<T>& s = m.sample(evaluation_samples, stream);
        ensure_shape(scored, s.shape(0), s.shape(1));
        std::copy(s.begin(), s.end(), scored.begin());
        z.inverse(scored);
        return data::evaluate_modes(mixture, scored);
    };
    try {
        while (r.steps < steps) {
            if (f.lr_decay) {
                hyper_parameters now = h;
                const double left = 1.0 - double(r.steps) / double(steps);
                now.lr_generator *= left;
                now.lr_critic *= left;
                m.set_hyper_parameters(now);
            }
            m.train_step(source);
            ++r.steps;
            if (o.eval_every && r.steps % o.eval_every == 0) {
                rng progress_rng(o.seed, 13);
                const auto e = evaluate(progress_rng);
                const step_stats& st = m.last_stats();
                std::fprintf(stderr,
                             "[gant_modes] %-9s %-6s step %6zu  %5.1f s  %2zu modes  %5.1f%% high quality  rKL %.3f  "
                             "D loss %.4f  G loss %.4f  penalty %.4f  |grad_x D| %.3f\n",
                             f.name, data_name.c_str(), r.steps, elapsed(), e.modes_covered,
                             100 * e.high_quality_fraction, e.reverse_kl, st.critic_loss, st.generator_loss, st.penalty,
                             st.input_grad_norm);
            }
            if (o.seconds > 0 && elapsed() >= o.seconds) {
                r.stopped_by_clock = r.steps < steps;
                break;
            }
        }
        r.metrics = evaluate(sample_rng);
        if (!o.dump.empty()) dump(scored, o.dump + "/" + f.name + "_" + data_name + ".csv");
    } catch (const training_error& e) {
        r.error = e.what();
        r.metrics.reverse_kl = std::numeric_limits<double>::quiet_NaN();
    }
    r.seconds = elapsed();
    r.cpu_seconds = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    return r;
}

template <class Fn>
void for_each_family(Fn&& fn) {
    const auto families = make_families();
    std::apply([&](const auto&... f) { (fn(f), ...); }, families);
}

const CLI::Validator batch_flag{[](std::string& in) -> std::string {
                                    std::string v = in;
                                    if (examples::flags::whole_number({0, 65536})(v).empty() && v != "1") {
                                        in = v;
                                        return {};
                                    }
                                    return "must be 0 (each family's own) or a whole number from 2 to 65536, not '" +
                                           in + "'";
                                },
                                "0 or 2 to 65536"};
const CLI::Validator non_negative_number{[](std::string& in) -> std::string {
                                             char* end = nullptr;
                                             const double v = std::strtod(in.c_str(), &end);
                                             if (end == in.c_str() || *end != '\0' || !(v >= 0) || !std::isfinite(v))
                                                 return "must be a number >= 0, not '" + in + "'";
                                             return {};
                                         },
                                         "NUMBER >= 0"};
const CLI::Validator positive_number{[](std::string& in) -> std::string {
                                         char* end = nullptr;
                                         const double v = std::strtod(in.c_str(), &end);
                                         if (end == in.c_str() || *end != '\0' || !(v > 0) || !std::isfinite(v))
                                             return "must be a positive number, not '" + in + "'";
                                         return {};
                                     },
                                     "POSITIVE"};

/// The 1-minute load average (Linux), so a table says how busy the machine was; empty elsewhere.
std::string load_average() {
    std::FILE* f = std::fopen("/proc/loadavg", "r");
    if (!f) return {};
    double one = 0;
    const bool ok = std::fscanf(f, "%lf", &one) == 1;
    std::fclose(f);
    if (!ok) return {};
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", one);
    return text;
}

bool selected(const std::vector<std::string>& chosen, const std::string& name) {
    for (const auto& c : chosen)
        if (c == "all" || c == name) return true;
    return false;
}

using examples::usage_error;

int study(const options& o, bool list, std::string& doing);

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> family_names{"gan", "lsgan", "wgan_clip", "wgan_gp", "wgan_div", "hinge_sn", "all"};
    const std::vector<std::string> data_names{"ring8", "grid25", "all"};

    options o;
    CLI::App app{"gant_modes: the 2-D mode-collapse study. Trains each GAN family on the ring of 8 and the grid "
                 "of 25 Gaussians with " + std::to_string(depth) + " x " + std::to_string(hidden) +
                 " MLPs and reports modes covered, high-quality samples and reverse KL on 2,500 samples."};
    app.add_option("--family", o.families, "families to run (gan, lsgan, wgan_clip, wgan_gp, wgan_div, hinge_sn, all)")
        ->check(CLI::IsMember(family_names))
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--data", o.data, "data sets (ring8, grid25, all)")
        ->check(CLI::IsMember(data_names))
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--steps", o.steps, "generator iterations per run (0: each family's own count, see --list)")
        ->transform(examples::flags::whole_number({0, std::uint64_t{1} << 40}));
    app.add_option("--seconds", o.seconds, "wall-clock cap per run (0: none); a run that reaches it stops early")
        ->check(non_negative_number)
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed for initial weights, latent codes, data and evaluation")
        ->transform(examples::flags::whole_number({0, std::numeric_limits<std::uint64_t>::max()}))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "threads of gant's pool, 1 to 256 (the MLPs' GEMMs stay single-threaded)")
        ->transform(examples::flags::whole_number({1, 256}))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "batch size for every family, 2 to 65536 (0: each family's own)")
        ->transform(batch_flag);
    app.add_flag("--json", o.json, "print a JSON array of results instead of the table");
    app.add_flag("--quiet,-q", o.quiet, "no progress lines on stderr");
    app.add_option("--dump", o.dump, "write the 2,500 evaluated samples of each run to DIR/<family>_<data>.csv")
        ->check(CLI::ExistingDirectory);
    app.add_option("--eval-every", o.eval_every, "also evaluate every N steps, on stderr (0: never)")
        ->transform(examples::flags::whole_number({0, std::uint64_t{1} << 40}));
    app.add_option("--lr-generator", o.lr_generator, "override every family's generator learning rate")
        ->check(positive_number);
    app.add_option("--lr-critic", o.lr_critic, "override every family's critic learning rate")->check(positive_number);
    app.add_option("--beta1", o.beta1, "override Adam's beta1, in [0, 1)")
        ->check(examples::flags::finite_number({0.0, 1.0, false, true}));
    app.add_option("--beta2", o.beta2, "override Adam's beta2, in [0, 1)")
        ->check(examples::flags::finite_number({0.0, 1.0, false, true}));
    app.add_option("--n-critic", o.n_critic, "override critic steps per generator step, 1 to 1000")
        ->transform(examples::flags::whole_number({1, 1000}));
    app.add_option("--lambda", o.lambda, "override the gradient penalty's weight (wgan_gp)")->check(positive_number);
    app.add_option("--ema", o.ema, "override: sample from an EMA (0.999) of the generator's weights (true/false)");
    app.add_option("--lr-decay", o.lr_decay, "override: learning rates fall linearly to 0 over the run (true/false)");
    bool list = false;
    app.add_flag("--list", list, "print each family's settings and exit");
    // Every command-line mistake is one sentence and exit code 2 (as in the family programs).
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::fprintf(stderr, "gant_modes: %s (see gant_modes --help)\n",
                     examples::sentence_after("gant_modes", e.what()).c_str());
        return usage_error;
    }

    // Anything else that goes wrong (a library check, a file that cannot be written, memory) is
    // one sentence and exit code 1.
    std::string doing = "setting up";  // for an out-of-memory message
    try {
        return study(o, list, doing);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "gant_modes: out of memory (%s)\n", doing.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gant_modes: %s\n", examples::sentence_after("gant_modes", e.what()).c_str());
    }
    return 1;
}

namespace {

/// The study itself, once the command line is read: trains, evaluates and prints. `doing` says
/// what runs at the moment, for main's out-of-memory message.
int study(const options& o, bool list, std::string& doing) {
    // gant's pool parallelises over the batch inside the layers that use it (convolutions) and
    // pins OpenBLAS to one thread. An MLP's work is all small GEMMs, which a second OpenBLAS
    // thread makes slower, not faster (docs/modes.md), so each run here uses one core.
    set_num_threads(o.threads);

    if (list) {
        for_each_family([&](const auto& f) {
            std::printf("%-9s %s\n          (%s)\n", f.name, describe(with_overrides(f, o)).c_str(), f.source);
        });
        return 0;
    }

    const auto ring = data::ring_mixture(), grid = data::grid_mixture();
    const std::string load_before = load_average();
    std::vector<result> results;
    std::vector<std::string> settings;
    for_each_family([&](const auto& f) {
        if (!selected(o.families, f.name)) return;
        const auto used = with_overrides(f, o);
        settings.push_back(std::string(f.name) + ": " + describe(used));
        for (const auto* d : {"ring8", "grid25"}) {
            if (!selected(o.data, d)) continue;
            doing = std::string("training ") + f.name + " on " + d + " with batch " + std::to_string(used.h.batch);
            result r = run(used, d, std::string(d) == "ring8" ? ring : grid, o);
            if (!o.quiet)
                std::fprintf(stderr, "[gant_modes] %-9s %-6s %2zu modes  %5.1f%% high quality  %6zu steps  %5.1f s%s\n",
                             r.family.c_str(), r.data.c_str(), r.metrics.modes_covered,
                             100 * r.metrics.high_quality_fraction, r.steps, r.seconds,
                             r.error.empty() ? (r.stopped_by_clock ? "  (stopped by --seconds)" : "") : "  (diverged)");
            results.push_back(std::move(r));
        }
    });

    if (o.json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& r : results) {
            nlohmann::ordered_json j;  // keys in the documented order
            j["family"] = r.family;
            j["data"] = r.data;
            j["modes"] = r.metrics.modes_covered;
            j["high_quality"] = std::round(r.metrics.high_quality_fraction * 1e4) / 1e4;
            // NaN (no high-quality sample, or a diverged run) is written as null.
            j["reverse_kl"] = std::isfinite(r.metrics.reverse_kl) ? nlohmann::ordered_json(std::round(r.metrics.reverse_kl * 1e4) / 1e4)
                                                                  : nlohmann::ordered_json(nullptr);
            j["seconds"] = std::round(r.seconds * 10) / 10;
            j["steps"] = r.steps;
            if (!r.error.empty()) j["error"] = r.error;
            out.push_back(j);
        }
        std::cout << out.dump(2) << '\n';
        return 0;
    }

    std::printf("gant_modes: %zu x %zu MLPs, float, %zu thread(s), seed %llu, %zu samples per evaluation\n", depth, hidden,
                o.threads, static_cast<unsigned long long>(o.seed), evaluation_samples);
    for (const auto& s : settings) std::printf("  %s\n", s.c_str());
    if (!load_before.empty())
        std::printf("load average (1 min): %s before, %s after\n", load_before.c_str(), load_average().c_str());
    std::printf("\n| family    | data   | modes | high_quality %% | reverse_kl | steps  | seconds | cpu seconds |\n");
    std::printf("|-----------|--------|-------|----------------|------------|--------|---------|-------------|\n");
    for (const auto& r : results) {
        const std::size_t k = r.data == "ring8" ? ring.modes() : grid.modes();
        char kl[32];
        if (std::isfinite(r.metrics.reverse_kl)) std::snprintf(kl, sizeof kl, "%.3f", r.metrics.reverse_kl);
        else std::snprintf(kl, sizeof kl, "n/a");
        std::printf("| %-9s | %-6s | %2zu/%-2zu | %14.1f | %10s | %6zu | %7.1f | %11.1f |%s\n", r.family.c_str(),
                    r.data.c_str(), r.metrics.modes_covered, k, 100 * r.metrics.high_quality_fraction, kl, r.steps,
                    r.seconds, r.cpu_seconds,
                    r.error.empty() ? (r.stopped_by_clock ? " stopped by --seconds" : "") : " diverged");
    }
    for (const auto& r : results)
        if (!r.error.empty()) std::printf("\n%s %s: %s\n", r.family.c_str(), r.data.c_str(), r.error.c_str());
    return 0;
}

}  // namespace
