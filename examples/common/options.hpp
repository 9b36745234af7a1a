#pragma once
// The command line every gant example shares (design.md, "User-facing surface"):
//
//   --data DIR  --steps N | --minutes M  --batch B  --seed S  --threads T  --out DIR
//   --samples N  --resume FILE  --checkpoint-every N  --eval  --log-every N
//   --lr-g LR  --lr-d LR  [--beta1 B1  --beta2 B2]  --n-critic K  --ema DECAY
//   [--lambda L  --clip C  --div-k K  --div-p P  --gamma G]
//   --limit N  --smoke  --quiet  --help
//
// The flags in brackets appear only in the families that have that magnitude (Adam's betas where
// the family trains with Adam, --lambda for the gradient penalty, --clip for weight clipping,
// ...), so `wgan --lambda 10` or `wgan --beta1 0.5` (RMSProp) is refused instead of silently
// ignored. A bad flag or value is one sentence on stderr and exit
// code 2; --help prints the options with this family's defaults.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <thread>

#include "gant/data/idx.hpp"
#include "gant/train/hyper_parameters.hpp"

#include "flag_checks.hpp"

namespace gant::examples {

/// What an example tells the shared trainer about itself.
struct example_info {
    const char* name;     // program name; the default output folder is ./out/<name>
    const char* summary;  // one line for --help: the family and its paper
    // GEMM-bound networks (MLPs) get the threads in OpenBLAS; convolutional ones split the batch
    // over gant's own pool and keep OpenBLAS at one thread (core/threads.hpp says why).
    bool blas_threads = false;
    // The example's own departures from its family's paper defaults
    // (gan<...>::default_hyper_parameters()), applied before the checkpoint's and the flags'
    // values and shown by --help; each example says in its comments why. Null: none.
    void (*adjust_defaults)(hyper_parameters&) = nullptr;
};

/// The defaults an example trains with: its family's, then its own adjustments.
template <class Model>
hyper_parameters example_defaults(const example_info& info) {
    hyper_parameters h = Model::default_hyper_parameters();
    if (info.adjust_defaults) info.adjust_defaults(h);
    return h;
}

/// The exit code CTest reads as "skipped" (SKIP_RETURN_CODE): a --smoke run without the dataset.
inline constexpr int skipped = 77;

struct options {
    std::filesystem::path data = data::default_data_dir;
    std::optional<std::size_t> steps;  // total generator iterations, resumed ones included
    std::optional<double> minutes;     // wall-clock training budget of this invocation
    std::optional<std::size_t> batch;
    std::optional<std::uint64_t> seed;
    std::size_t threads = 0;           // 0: every core (--smoke: one)
    std::filesystem::path out;
    std::size_t samples = 10000;
    std::filesystem::path resume;
    std::size_t checkpoint_every = 500;
    bool eval = false;
    std::size_t log_every = 25;
    std::optional<double> lr_generator, lr_critic;
    std::optional<double> beta1, beta2;  // Adam's moment decays (families trained with Adam only)
    std::optional<std::size_t> n_critic;
    std::optional<double> ema;  // decay of the generator's weight average used for samples (0: off)
    std::optional<double> lambda, clip, div_k, div_p, gamma;  // policy magnitudes
    std::optional<double> drift;                              // Wasserstein losses: PGGAN's drift term
    std::optional<double> phase_images;                       // progressive growing: images per phase
    std::optional<std::size_t> limit;                         // use the first N images only
    bool smoke = false;
    bool quiet = false;
    std::optional<std::size_t> inject_nan_at;  // hidden test hook: a NaN in the batch of this step

    static constexpr double default_minutes = 5.0;
};

/// The accepted values of the numeric flags, in one place: parse_options refuses a flag outside
/// its range, and a resumed run refuses a checkpoint whose restored values lie outside the same
/// range (trainer.hpp), so a forged or damaged file cannot start a run the flags could not.
namespace limits {

inline constexpr whole_range steps{1, std::uint64_t{1} << 40}, batch{2, 65536}, seed{0, ~std::uint64_t{0}},
    threads{1, 256}, samples{1, 1000000}, checkpoint_every{0, std::uint64_t{1} << 40},
    log_every{1, std::uint64_t{1} << 40}, n_critic{1, 1000}, limit{1, std::uint64_t{1} << 40},
    inject_nan_at{1, std::uint64_t{1} << 40};
// Adam's betas stay below 1: at beta = 1 the bias correction divides by 1 - beta^t = 0. An EMA
// decay of 1 would never move.
inline constexpr real_range minutes{1e-3, 1e6}, learning_rate{1e-12, 10.0}, adam_beta{0.0, 1.0, false, true},
    ema{0.0, 1.0, false, true}, lambda{0.0, 1e6}, clip{1e-9, 1e3}, div_k{0.0, 1e6}, div_p{1.0, 64.0},
    gamma{0.0, 1e6}, drift{0.0, 1e3}, phase_images{1.0, 1e12};

/// The range of a policy magnitude's flag, by the name trainer.hpp's visit_policy_magnitudes
/// gives it (also its checkpoint record, "policy/<name>").
inline real_range policy(std::string_view name) {
    if (name == "lambda") return lambda;
    if (name == "clip") return clip;
    if (name == "div_k") return div_k;
    if (name == "div_p") return div_p;
    if (name == "gamma") return gamma;
    if (name == "drift") return drift;
    if (name == "phase_images") return phase_images;
    throw std::logic_error("gant examples: no range for the policy magnitude '" + std::string(name) + "'");
}

}  // namespace limits

inline std::size_t default_thread_count() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

namespace detail {

inline std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

/// An option bound to a std::optional<T>: CLI11 2.1 has no optional support of its own.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& flag, std::optional<T>& target, const std::string& help) {
    return app.add_option_function<T>(flag, [&target](const T& v) { target = v; }, help);
}

}  // namespace detail

/// Parses argv into `o`. Returns an exit code when the program should stop now (0 after --help,
/// usage_error after a bad flag, with one sentence on stderr), or nothing to go on.
/// Lipschitz is the family's policy: its magnitudes decide which policy flags exist; Model (the
/// gan type), when given, adds the flags of its loss's and growth schedule's magnitudes.
template <class Lipschitz, class Model = void>
std::optional<int> parse_options(int argc, char** argv, const example_info& info, const hyper_parameters& defaults,
                                 options& o) {
    using detail::add_optional;
    using detail::number;
    CLI::App app{std::string(info.name) + ": " + info.summary + "\nTrains on Fashion-MNIST and writes grid.png, " +
                 "samples.idx, metrics.csv and checkpoint.gant into --out; progress goes to stderr."};
    app.get_formatter()->column_width(34);
    // As with getopt tools, a flag given twice takes its last value (scripts append overrides).
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--data", o.data, "folder with train-images-idx3-ubyte[.gz] (MNIST or Fashion-MNIST layout)")
        ->capture_default_str();
    auto* steps = add_optional(app, "--steps", o.steps, "train until N generator iterations in all (resumed ones count)")
                      ->transform(flags::whole_number(limits::steps));
    auto* minutes = add_optional(app, "--minutes", o.minutes,
                                 "train for M minutes of wall-clock time (default: " +
                                     number(options::default_minutes) + " when neither this nor --steps is given)")
                        ->check(flags::finite_number(limits::minutes));
    steps->excludes(minutes);
    add_optional(app, "--batch", o.batch, "batch size (default for this family: " + std::to_string(defaults.batch) + ")")
        ->transform(flags::whole_number(limits::batch));
    add_optional(app, "--seed", o.seed, "seed of weights, latent codes, data order and samples (default 0)")
        ->transform(flags::whole_number(limits::seed));
    app.add_option("--threads", o.threads,
                   "CPU threads (default: every core, " + std::to_string(default_thread_count()) + " here)")
        ->transform(flags::whole_number(limits::threads));
    app.add_option("--out", o.out, std::string("output folder (default ./out/") + info.name + ")");
    app.add_option("--samples", o.samples, "samples written to samples.idx at the end")
        ->transform(flags::whole_number(limits::samples))
        ->capture_default_str();
    app.add_option("--resume", o.resume, "continue the run saved in this checkpoint.gant")->check(CLI::ExistingFile);
    app.add_option("--checkpoint-every", o.checkpoint_every,
                   "also write checkpoint.gant and grid.png every N iterations (0: only at the end)")
        ->transform(flags::whole_number(limits::checkpoint_every))
        ->capture_default_str();
    app.add_flag("--eval", o.eval, "score samples.idx with gant's metrics at the end");
    app.add_option("--log-every", o.log_every, "one metrics.csv row per N iterations")
        ->transform(flags::whole_number(limits::log_every))
        ->capture_default_str();
    add_optional(app, "--lr-g", o.lr_generator, "generator learning rate (default for this family: " +
                                                   number(defaults.lr_generator) + ")")
        ->check(flags::finite_number(limits::learning_rate));
    add_optional(app, "--lr-d", o.lr_critic, "critic learning rate (default for this family: " +
                                                 number(defaults.lr_critic) + ")")
        ->check(flags::finite_number(limits::learning_rate));
    if (defaults.optimizer == optimizer_kind::adam) {
        add_optional(app, "--beta1", o.beta1, "Adam's first-moment decay (default for this family: " +
                                                  number(defaults.beta1) + ")")
            ->check(flags::finite_number(limits::adam_beta));
        add_optional(app, "--beta2", o.beta2, "Adam's second-moment decay (default for this family: " +
                                                  number(defaults.beta2) + ")")
            ->check(flags::finite_number(limits::adam_beta));
    }
    add_optional(app, "--n-critic", o.n_critic, "critic steps per generator step (default for this family: " +
                                                    std::to_string(defaults.n_critic) + ")")
        ->transform(flags::whole_number(limits::n_critic));
    add_optional(app, "--ema", o.ema,
                 "draw grid.png and samples.idx from an exponential moving average of the generator's weights "
                 "with this decay, e.g. 0.999 (0: off; default for this family: " +
                     (defaults.ema ? number(defaults.ema_decay) : std::string("off")) + ")")
        ->check(flags::finite_number(limits::ema));

    // The policy's own magnitudes, only where the policy has them.
    const typename Lipschitz::params p{};
    if constexpr (requires { p.lambda; })
        add_optional(app, "--lambda", o.lambda, "penalty weight lambda (default " + number(p.lambda) + ")")
            ->check(flags::finite_number(limits::lambda));
    if constexpr (requires { p.clip; })
        add_optional(app, "--clip", o.clip, "weight clipping bound c (default " + number(p.clip) + ")")
            ->check(flags::finite_number(limits::clip));
    if constexpr (requires { p.k; })
        add_optional(app, "--div-k", o.div_k, "Wasserstein-divergence weight k (default " + number(p.k) + ")")
            ->check(flags::finite_number(limits::div_k));
    if constexpr (requires { p.k; p.p; })
        add_optional(app, "--div-p", o.div_p, "Wasserstein-divergence power p (default " + number(p.p) + ")")
            ->check(flags::finite_number(limits::div_p));
    if constexpr (requires { p.gamma; })
        add_optional(app, "--gamma", o.gamma, "gradient penalty weight gamma (default " + number(p.gamma) + ")")
            ->check(flags::finite_number(limits::gamma));
    if constexpr (!std::is_void_v<Model>) {
        if constexpr (requires(typename Model::loss_type l) { l.p.drift; }) {
            const typename Model::loss_type loss{};
            add_optional(app, "--drift", o.drift,
                         "drift penalty weight on E D(x)^2 (PGGAN: 0.001; default " + number(loss.p.drift) + ")")
                ->check(flags::finite_number(limits::drift));
        }
        if constexpr (Model::growth_type::grows) {
            const typename Model::growth_type growth{};
            add_optional(app, "--phase-images", o.phase_images,
                         "real images per fade-in and per stabilisation phase of progressive growing (default " +
                             number(double(growth.p.fade_images)) + ")")
                ->check(flags::finite_number(limits::phase_images));
        }
    }

    add_optional(app, "--limit", o.limit, "train on the first N images only (default: all)")
        ->transform(flags::whole_number(limits::limit));
    app.add_flag("--smoke", o.smoke,
                 "a few iterations on a small slice of the data in a temporary folder, then check that "
                 "checkpoint + resume reproduces the uninterrupted run (the CTest smoke test)");
    app.add_flag("--quiet,-q", o.quiet, "no progress lines on stderr");
    // Not in --help (empty group): the NaN-guard test (check_nan_resume.cmake) makes training
    // diverge at a chosen step with it.
    add_optional(app, "--inject-nan-at", o.inject_nan_at, "put a NaN into the real batch of step N")
        ->transform(flags::whole_number(limits::inject_nan_at))
        ->group("");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        const std::string what = sentence_after(info.name, e.what());
        std::fprintf(stderr, "%s: %s (see %s --help)\n", info.name, what.c_str(), info.name);
        return usage_error;
    }
    if (o.out.empty()) o.out = std::filesystem::path("out") / info.name;
    return std::nullopt;
}

}  // namespace gant::examples
