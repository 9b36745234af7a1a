#pragma once
// The shared trainer of gant's example programs. An example is one compile-time configuration,
//
//   using model = gant::gan<topology, loss, lipschitz>;
//   int main(int argc, char** argv) { return gant::examples::run<model>(argc, argv, {"dcgan", "..."}); }
//
// and this header does the rest: the command line (options.hpp), Fashion-MNIST into a shuffling
// batch source, the training loop with progress on stderr, and the outputs in --out:
//
//   grid.png         8x8 samples from a fixed latent batch (the same codes all run long, so grids
//                    written at different steps are comparable)
//   samples.idx      --samples samples as IDX3 uint8 at the dataset's resolution
//   metrics.csv      one row per --log-every iterations (metrics_log.hpp)
//   checkpoint.gant  the whole training state, also every --checkpoint-every iterations
//   generator.gant   the generator alone (export_generator: the EMA weights when EMA is on),
//                    written with each checkpoint; gant_sample (examples/sample) draws from it
//
// Every file is replaced atomically (io::atomic_file), so an interrupted run never leaves a torn
// file, and a run removes the temporary files that a killed one left. A NaN or infinity in
// training stops the run with one sentence naming the step; nothing is written after it, so the
// last checkpoint is the last good state. Ctrl-C (or SIGTERM) finishes the current iteration,
// writes the outputs and exits with 130 (143): a second one stops at once.
//
// Determinism: with the same seed, thread count and --steps, two runs write identical files, and
// a run resumed from a checkpoint writes the files the uninterrupted run would have written
// (--smoke checks exactly that).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

#include "gant/core/threads.hpp"
#include "gant/data/idx.hpp"
#include "gant/gan.hpp"
#include "gant/io/atomic_file.hpp"
#include "gant/io/png.hpp"
#include "gant/train/gan_state.hpp"

#include "backend.hpp"
#include "batch_feed.hpp"
#include "evaluation.hpp"
#include "metrics_log.hpp"
#include "options.hpp"
#include "resolution.hpp"

namespace gant::examples {

// ---- random streams of the trainer (the gan's own use streams 1 to 3) -------------------------
inline constexpr std::uint64_t data_stream = 100;     // shuffling order of the batch source
inline constexpr std::uint64_t grid_stream = 101;     // the fixed latent batch of grid.png
inline constexpr std::uint64_t samples_stream = 102;  // the latent codes of samples.idx
inline constexpr std::size_t grid_side = 8;

/// What the trainer keeps next to the gan's own state.
struct run_state {
    std::uint64_t seed = 0;
    std::uint64_t images = 0;   // real images drawn so far
    double seconds = 0;         // training seconds so far
    std::uint64_t limit = 0;    // --limit (0: the whole dataset)
    std::filesystem::path checkpoint;   // the last checkpoint this run wrote or resumed from
    std::uint64_t checkpoint_step = 0;  // and its step
    metrics_log metrics;
};

namespace detail {

inline volatile std::sig_atomic_t interrupted = 0;

inline volatile std::sig_atomic_t handling_int = 0, handling_term = 0;

inline void on_interrupt(int signal) {
    if (interrupted == 0) interrupted = signal;  // SIGINT (Ctrl-C) or SIGTERM (kill, a scheduler's stop)
    // A second one, of either kind, stops at once.
    if (handling_int) std::signal(SIGINT, SIG_DFL);
    if (handling_term) std::signal(SIGTERM, SIG_DFL);
}

/// Installs on_interrupt for `signal` unless the process ignores it (a job a non-interactive shell
/// starts in the background ignores SIGINT, and must go on doing so); returns the disposition to
/// restore and sets `handling` when installed.
inline void (*handle_interrupts(int signal, volatile std::sig_atomic_t& handling))(int) {
    auto previous = std::signal(signal, on_interrupt);
    if (previous == SIG_IGN) {
        std::signal(signal, SIG_IGN);
        return SIG_IGN;
    }
    handling = 1;
    return previous;
}

/// `e` as the user reads it: what() without the library's "gant: " prefix ("gant: step 3: the
/// critic loss is NaN" -> "step 3: ...", after the program's name); running out of memory
/// (whose what() is a bare "std::bad_alloc") says so, with what the program was doing then.
inline std::string sentence(const std::exception& e, const char* doing = nullptr) {
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return std::string("out of memory") + (doing ? std::string(" while ") + doing : std::string()) +
               " (try a smaller --batch or --limit)";
    std::string s = e.what();
    if (s.rfind("gant: ", 0) == 0) s.erase(0, 6);
    return s;
}

inline std::string duration(double seconds) {
    char buf[32];
    const long s = long(seconds + 0.5);
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

// ---- hyper-parameters and policy magnitudes in checkpoints ------------------------------------

inline void save_hyper(checkpoint_extra& e, const hyper_parameters& h) {
    e.set_u64("hyper/batch", h.batch);
    e.set_u64("hyper/n_critic", h.n_critic);
    e.set_u64("hyper/optimizer", static_cast<std::uint64_t>(h.optimizer));
    e.set_f64("hyper/lr_generator", h.lr_generator);
    e.set_f64("hyper/lr_critic", h.lr_critic);
    e.set_f64("hyper/beta1", h.beta1);
    e.set_f64("hyper/beta2", h.beta2);
    e.set_f64("hyper/eps", h.eps);
    e.set_f64("hyper/rmsprop_alpha", h.rmsprop_alpha);
    e.set_f64("hyper/momentum", h.momentum);
    e.set_u64("hyper/ema", h.ema ? 1 : 0);
    e.set_f64("hyper/ema_decay", h.ema_decay);
}

/// A restored value outside the range its flag accepts (options.hpp, limits) is refused with a
/// sentence naming the record: a damaged or forged checkpoint must not start a run that the
/// command line could not (a batch of 2^63, a NaN learning rate, a negative clip).
inline std::uint64_t restored(const checkpoint_extra& e, const std::string& record, limits::whole_range r) {
    const std::uint64_t v = e.get_u64(record);
    if (!limits::contains(r, v))
        throw checkpoint_error(e.source(), "record '" + record + "' holds " + std::to_string(v) +
                                               ", but it must be a whole number " + limits::text(r));
    return v;
}
inline double restored(const checkpoint_extra& e, const std::string& record, limits::real_range r) {
    const double v = e.get_f64(record);
    if (!limits::contains(r, v))
        throw checkpoint_error(e.source(), "record '" + record + "' holds " + number(v) +
                                               ", but it must be a finite number " + limits::text(r));
    return v;
}

inline void load_hyper(const checkpoint_extra& e, hyper_parameters& h) {
    h.batch = restored(e, "hyper/batch", limits::batch);
    h.n_critic = restored(e, "hyper/n_critic", limits::n_critic);
    const std::uint64_t kind = e.get_u64("hyper/optimizer");
    if (kind > static_cast<std::uint64_t>(optimizer_kind::sgd))
        throw checkpoint_error(e.source(), "extra record 'hyper/optimizer' names no optimiser");
    h.optimizer = static_cast<optimizer_kind>(kind);
    h.lr_generator = restored(e, "hyper/lr_generator", limits::learning_rate);
    h.lr_critic = restored(e, "hyper/lr_critic", limits::learning_rate);
    h.beta1 = restored(e, "hyper/beta1", limits::adam_beta);
    h.beta2 = restored(e, "hyper/beta2", limits::adam_beta);
    h.eps = e.get_f64("hyper/eps");
    h.rmsprop_alpha = e.get_f64("hyper/rmsprop_alpha");
    h.momentum = e.get_f64("hyper/momentum");
    h.ema = restored(e, "hyper/ema", limits::whole_range{0, 1}) != 0;
    h.ema_decay = restored(e, "hyper/ema_decay", limits::ema);
    // The fields without a flag get the library's own check (eps > 0, decays in [0, 1), ...).
    try {
        check(h);
    } catch (const std::invalid_argument& bad) {
        std::string why = bad.what();
        if (why.rfind("gant: ", 0) == 0) why.erase(0, 6);
        throw checkpoint_error(e.source(), "holds hyper-parameters gant refuses: " + why);
    }
}

/// A policy magnitude restored from record "policy/<name>", within its flag's range.
inline double restored_policy_magnitude(const checkpoint_extra& e, const char* name) {
    return restored(e, std::string("policy/") + name, limits::policy(name));
}

/// Calls f(name, value&, flag) for each run-time magnitude of the Lipschitz policy that has a
/// command-line flag (options.hpp registers the same set).
template <class Model, class F>
void visit_policy_magnitudes(Model& m, const options& o, F&& f) {
    auto& p = m.lipschitz().p;
    if constexpr (requires { p.lambda; }) f("lambda", p.lambda, o.lambda);
    if constexpr (requires { p.clip; }) f("clip", p.clip, o.clip);
    if constexpr (requires { p.k; }) f("div_k", p.k, o.div_k);
    if constexpr (requires { p.k; p.p; }) f("div_p", p.p, o.div_p);
    if constexpr (requires { p.gamma; }) f("gamma", p.gamma, o.gamma);
    if constexpr (requires { m.loss().p.drift; }) f("drift", m.loss().p.drift, o.drift);
    if constexpr (Model::growth_type::grows) {  // one length for fade-in and stabilisation phases
        auto& g = m.growth().p;
        double images = double(g.fade_images);
        f("phase_images", images, o.phase_images);
        g.fade_images = g.stabilise_images = static_cast<std::uint64_t>(images);
    }
}

/// The family of the run saved in `file` when it is another example's (empty when the file is
/// absent, unreadable, this example's own, or the checkpoint being resumed): a run must not
/// silently replace another family's training state in a shared --out folder.
inline std::string other_family_in(const std::filesystem::path& file, const example_info& info,
                                   const std::filesystem::path& resumed) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return {};
    if (!resumed.empty() && std::filesystem::equivalent(file, resumed, ec)) return {};
    try {
        const checkpoint_extra extra = read_checkpoint_extra(file);
        if (!extra.contains("family")) return {};
        const std::string family = extra.get_string("family");
        return family == info.name ? std::string() : family;
    } catch (const std::exception&) {
        return {};  // not a readable gant checkpoint: nothing worth protecting is lost
    }
}

inline bool has_training_images(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const char* name : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"})
        if (std::filesystem::is_regular_file(dir / name, ec)) return true;
    return false;
}

/// Why `dir` offers no training images, in words that point at the fix: the package for the
/// default folder, the folder's contents or its kind otherwise.
inline std::string missing_data_sentence(const std::filesystem::path& dir) {
    std::error_code ec;
    const auto kind = std::filesystem::status(dir, ec).type();
    const bool is_default = dir == std::filesystem::path(data::default_data_dir);
    if (kind == std::filesystem::file_type::not_found)
        return "the data folder " + dir.string() + " does not exist: " +
               (is_default ? "install Fashion-MNIST with `apt-get install dataset-fashion-mnist` or pass --data DIR"
                           : "pass --data a folder holding train-images-idx3-ubyte[.gz]");
    if (kind != std::filesystem::file_type::directory)
        return "--data " + dir.string() + " is not a folder (it needs a folder holding train-images-idx3-ubyte[.gz])";
    return "no training images (train-images-idx3-ubyte or .gz, a regular file) in " + dir.string() +
           (is_default ? ": install Fashion-MNIST with `apt-get install dataset-fashion-mnist` or pass --data DIR"
                       : "");
}

/// The first `limit` images of `all` (all of them when limit is 0 or too large).
template <class T>
data::image_dataset<T> first_images(data::image_dataset<T> all, std::size_t limit) {
    if (limit == 0 || limit >= all.size()) return all;
    const std::size_t f = all.features();
    tensor<T> part = tensor<T>::from_shape({limit, f});
    std::copy_n(all.images().data(), limit * f, part.data());
    return data::image_dataset<T>(std::move(part), all.channels(), all.height(), all.width());
}

/// A progress line on stderr every few seconds: rates over the last interval, losses of the
/// last iteration, and the time left.
class progress {
public:
    progress(const char* name, bool quiet, std::optional<std::size_t> target, double budget)
        : name_(name), quiet_(quiet), target_(target), budget_(budget) {}

    void start(double seconds, std::size_t step, std::uint64_t images) {
        start_seconds_ = last_seconds_ = seconds;
        last_step_ = step;
        last_images_ = images;
    }

    /// `phase`: the growth phase ("16x16 fade-in 0.42") for growing models, else empty.
    void maybe_print(double seconds, std::size_t step, std::uint64_t images, const step_stats& s,
                     const std::string& phase = {}) {
        const double since = seconds - last_seconds_;
        if (quiet_ || since < interval) return;
        const double rate = double(step - last_step_) / since, image_rate = double(images - last_images_) / since;
        std::string where = "step " + std::to_string(step) + phase, left;
        if (target_) {
            where += "/" + std::to_string(*target_);
            if (rate > 0 && *target_ > step) left = "  ETA " + duration(double(*target_ - step) / rate);
        } else {
            left = "  left " + duration(std::max(0.0, budget_ - (seconds - start_seconds_)));
        }
        char losses[160];
        int n = std::snprintf(losses, sizeof losses, "D %.4g  G %.4g", s.critic_loss, s.generator_loss);
        if (std::isfinite(s.wasserstein_estimate))
            n += std::snprintf(losses + n, sizeof losses - std::size_t(n), "  W %.4g", s.wasserstein_estimate);
        if (s.penalty != 0)
            std::snprintf(losses + n, sizeof losses - std::size_t(n), "  penalty %.3g  |grad| %.3g", s.penalty,
                          s.input_grad_norm);
        std::fprintf(stderr, "[%s] %s  %.2f it/s  %.0f img/s  %s%s\n", name_, where.c_str(), rate, image_rate, losses,
                     left.c_str());
        std::fflush(stderr);
        last_seconds_ = seconds;
        last_step_ = step;
        last_images_ = images;
    }

    static constexpr double interval = 5.0;  // seconds between lines

private:
    const char* name_;
    bool quiet_;
    std::optional<std::size_t> target_;
    double budget_;
    double start_seconds_ = 0, last_seconds_ = 0;
    std::size_t last_step_ = 0;
    std::uint64_t last_images_ = 0;
};

}  // namespace detail

// ---- checkpoints: the one place that saves and restores a run ---------------------------------

/// Writes the gan's whole state plus the trainer's (data order, seed, counters, hyper-parameters,
/// policy magnitudes, metrics rows) to `file`, atomically.
template <class Model, class Feed>
void save_run(Model& model, const Feed& source, const run_state& st, const options& o,
              const example_info& info, const std::filesystem::path& file) {
    checkpoint_extra extra;
    extra.set_string("family", info.name);
    extra.set_u64("seed", st.seed);
    extra.set_u64("images", st.images);
    extra.set_f64("seconds", st.seconds);
    extra.set_u64("limit", st.limit);
    extra.set_source_state("data", source.state());
    detail::save_hyper(extra, model.hyper());
    detail::visit_policy_magnitudes(model, o, [&](const char* name, double& v, const auto&) {
        extra.set_f64(std::string("policy/") + name, v);
    });
    st.metrics.save(extra);
    save_checkpoint(model, file, extra);
}

/// The records of a checkpoint that must be known before the gan exists (family, seed,
/// hyper-parameters, data slice). Throws checkpoint_error for a file of another example.
inline checkpoint_extra read_run_header(const std::filesystem::path& file, const example_info& info) {
    checkpoint_extra extra = read_checkpoint_extra(file);
    if (!extra.contains("family"))
        throw checkpoint_error(file, "was not written by a gant example (it has no 'family' record)");
    const std::string family = extra.get_string("family");
    if (family != info.name)
        throw checkpoint_error(file, "was written by the " + family + " example, not by " + info.name);
    return extra;
}

/// Restores the gan and the trainer's state from `file`; on error nothing is changed.
template <class Model, class Feed>
void load_run(Model& model, Feed& source, run_state& st, const std::filesystem::path& file) {
    checkpoint_extra extra;
    load_checkpoint(model, file, extra);  // checks everything before changing anything
    using state_type = typename Feed::state_type;
    const state_type data_state = extra.get_source_state<state_type>("data");
    if (data_state.dataset_size != source.dataset_size())
        throw checkpoint_error(file, "was trained on " + std::to_string(data_state.dataset_size) +
                                         " images but this run has " + std::to_string(source.dataset_size()) +
                                         " (same --data and --limit, please)");
    source.set_state(data_state);
    st.images = extra.get_u64("images");
    st.seconds = detail::restored(extra, "seconds", limits::real_range{0.0, 1e12});  // training time so far
    st.metrics.load(extra);
    st.checkpoint = file;
    st.checkpoint_step = model.step();
}

// ---- outputs -------------------------------------------------------------------------------

/// grid.png from the fixed latent batch.
template <class Model, class Data = typename Model::sample_shape>
void write_grid(Model& model, const tensor<typename Model::scalar>& grid_z, const std::filesystem::path& file) {
    const auto& images = model.generate(grid_z);
    if constexpr (margins<Data, typename Model::sample_shape>::none) {
        io::write_png_grid<Data>(file, images, {grid_side, grid_side, 2, 255});
    } else {
        tensor<typename Model::scalar> cropped;
        crop_images<Data, typename Model::sample_shape>(images, cropped);
        io::write_png_grid<Data>(file, cropped, {grid_side, grid_side, 2, 255});
    }
}

/// n samples from latent codes of their own stream, generated in chunks (a generator with batch
/// norm normalises each chunk by its own statistics, as in training).
template <class Model, class Data = typename Model::sample_shape>
tensor<typename Model::scalar> draw_samples(Model& model, std::uint64_t seed, std::size_t n) {
    using T = typename Model::scalar;
    constexpr std::size_t chunk = 250;
    tensor<T> out = tensor<T>::from_shape({n, Data::size}), cropped;
    rng r(seed, samples_stream);
    for (std::size_t at = 0; at < n; at += chunk) {
        const std::size_t k = std::min(chunk, n - at);
        const tensor<T>* s = &model.sample(k, r);
        if constexpr (!margins<Data, typename Model::sample_shape>::none) {
            crop_images<Data, typename Model::sample_shape>(*s, cropped);
            s = &cropped;
        }
        std::copy_n(s->data(), k * Data::size, out.data() + at * Data::size);
    }
    return out;
}

/// What a finished run reports (used by --smoke).
struct run_result {
    int exit_code = 0;
    std::size_t steps = 0;
};

/// One training run with these options. Returns the process exit code. `preloaded`, when given,
/// is the whole training set already read from o.data (--smoke trains three times on it).
template <class Model, class Data = typename Model::sample_shape>
run_result train(const options& o, const example_info& info,
                 const data::image_dataset<typename Model::scalar>* preloaded = nullptr) {
    using T = typename Model::scalar;
    using S = typename Model::sample_shape;
    using clock = std::chrono::steady_clock;
    static_assert(S::rank == 3, "gant examples train on images: the topology's sample shape must be image<C, H, W>");
    using dims = image_dims<Data>;  // the dataset's images (the model's may be padded: resolution.hpp)
    const char* name = info.name;
    const auto fail = [&](const std::string& sentence, int code = 1) {
        std::fprintf(stderr, "%s: %s\n", name, one_line(sentence).c_str());
        return run_result{code, 0};
    };

    const std::size_t threads = o.threads ? o.threads : default_thread_count();
    set_num_threads(threads);
    if (info.blas_threads) blas::set_threads(int(threads));

    run_state st;
    std::unique_ptr<Model> model;
    std::optional<batch_feed<Model, Data>> source;
    data::image_dataset<T> dataset;
    const std::filesystem::path checkpoint_file = o.out / "checkpoint.gant", grid_file = o.out / "grid.png",
                                samples_file = o.out / "samples.idx", metrics_file = o.out / "metrics.csv",
                                generator_file = o.out / "generator.gant";
    try {
        // Hyper-parameters: the family's defaults, then the checkpoint's, then the flags.
        hyper_parameters h = example_defaults<Model>(info);
        checkpoint_extra saved;
        const bool resuming = !o.resume.empty();
        if (resuming) {
            saved = read_run_header(o.resume, info);
            detail::load_hyper(saved, h);
            st.seed = saved.get_u64("seed");
            st.limit = saved.get_u64("limit");
            if (o.seed && *o.seed != st.seed)
                std::fprintf(stderr, "%s: note: --seed %llu ignored, the resumed run keeps its seed %llu\n", name,
                             static_cast<unsigned long long>(*o.seed), static_cast<unsigned long long>(st.seed));
        } else {
            st.seed = o.seed.value_or(0);
        }
        if (o.limit) st.limit = *o.limit;
        if (o.batch) h.batch = *o.batch;
        if (o.n_critic) h.n_critic = *o.n_critic;
        if (o.lr_generator) h.lr_generator = *o.lr_generator;
        if (o.lr_critic) h.lr_critic = *o.lr_critic;
        if (o.beta1) h.beta1 = *o.beta1;
        if (o.beta2) h.beta2 = *o.beta2;
        if (o.ema) {
            h.ema = *o.ema > 0;
            if (h.ema) h.ema_decay = *o.ema;
        }

        if (const std::string other = detail::other_family_in(checkpoint_file, info, o.resume); !other.empty())
            return fail(checkpoint_file.string() + " holds a " + other + " run, which this run would replace; pass " +
                        "another --out (or remove that file)");

        if (const std::string problem = backend_problem<Model>(); !problem.empty())
            return fail(problem + (o.smoke ? "; smoke test skipped" : ""), o.smoke ? skipped : 1);

        // The data.
        if (!preloaded && !detail::has_training_images(o.data))
            return fail(detail::missing_data_sentence(o.data) + (o.smoke ? "; smoke test skipped" : ""),
                        o.smoke ? skipped : 1);
        dataset = preloaded ? detail::first_images(*preloaded, st.limit)
                            : data::load_idx_folder<T>(o.data, data::split::train, st.limit);
        if (dataset.channels() != dims::channels || dataset.height() != dims::height || dataset.width() != dims::width)
            return fail("the images in " + o.data.string() + " are " + std::to_string(dataset.channels()) + "x" +
                        std::to_string(dataset.height()) + "x" + std::to_string(dataset.width()) +
                        " but this example's networks take " + Data::to_string());

        // The model and the stream of batches.
        // A resumed run starts with its own EMA setting; switching the average on now starts it
        // from the restored weights (set_hyper_parameters below), not from the initial ones.
        hyper_parameters initial = h;
        if (resuming) {  // load_hyper checked both records
            initial.ema = saved.get_u64("hyper/ema") != 0;
            initial.ema_decay = saved.get_f64("hyper/ema_decay");
        }
        model = std::make_unique<Model>(initial, st.seed);
        detail::visit_policy_magnitudes(*model, o, [&](const char* key, double& v, const std::optional<double>& flag) {
            const std::string record = std::string("policy/") + key;
            if (resuming && saved.contains(record)) v = detail::restored_policy_magnitude(saved, key);
            if (flag) v = *flag;
        });
        source.emplace(dataset, rng(st.seed, data_stream));
        if (resuming) {
            load_run(*model, *source, st, o.resume);
            model->set_hyper_parameters(h);
        }

        std::error_code ec;
        std::filesystem::create_directories(o.out, ec);
        if (ec || !std::filesystem::is_directory(o.out))
            return fail("cannot create the output folder " + o.out.string() + " (" + ec.message() + ")");
        // What an earlier run killed mid-write left beside its outputs (as large as a checkpoint
        // each); the outputs themselves are intact.
        for (const auto& file : {checkpoint_file, generator_file, grid_file, samples_file, metrics_file,
                                 o.out / "eval.json"})
            io::remove_stale_temporaries(file);
    } catch (const std::exception& e) {
        return fail(detail::sentence(e, "loading the data and building the networks"));
    }

    Model& m = *model;
    const hyper_parameters& h = m.hyper();
    tensor<T> grid_z = tensor<T>::from_shape({grid_side * grid_side, Model::latent_size});
    {
        rng r(st.seed, grid_stream);
        for (auto& v : grid_z) v = T(r.normal());
    }

    const std::optional<std::size_t> target = o.steps;
    const double budget = 60.0 * o.minutes.value_or(options::default_minutes);
    if (!o.quiet) {
        char lr[128];
        if (h.optimizer == optimizer_kind::adam)
            std::snprintf(lr, sizeof lr, "adam lr %g/%g betas (%g, %g)", h.lr_generator, h.lr_critic, h.beta1,
                          h.beta2);
        else
            std::snprintf(lr, sizeof lr, "%s lr %g/%g", to_string(h.optimizer), h.lr_generator, h.lr_critic);
        std::fprintf(stderr, "[%s] %s + %s + %s on %zu images of %s; batch %zu, %s, n_critic %zu, %zu thread%s, seed %llu\n",
                     name, S::to_string().c_str(), Model::loss_type::name, Model::lipschitz_type::name, dataset.size(),
                     o.data.string().c_str(), h.batch, lr, h.n_critic, threads, threads == 1 ? "" : "s",
                     static_cast<unsigned long long>(st.seed));
        std::fprintf(stderr, "[%s] %s%s; outputs in %s\n", name,
                     target ? ("until step " + std::to_string(*target)).c_str()
                            : ("for " + detail::duration(budget)).c_str(),
                     o.resume.empty() ? "" : (", resuming from step " + std::to_string(m.step())).c_str(),
                     o.out.string().c_str());
    }

    auto draw = [&](typename Model::batch& batch) {
        source->next(batch);
        st.images += batch.shape(0);
        // Hidden test hook (--inject-nan-at N): poison the real batch of step N so the NaN guard
        // fires mid-run; examples/common/check_nan_resume.cmake checks what the user then sees.
        if (o.inject_nan_at && m.step() + 1 == *o.inject_nan_at) source->poison(batch);
    };
    auto save_everything = [&] {  // checkpoint first: it is the state worth keeping
        save_run(m, *source, st, o, info, checkpoint_file);
        st.checkpoint = checkpoint_file;
        st.checkpoint_step = m.step();
        export_generator(m, generator_file);
        write_grid<Model, Data>(m, grid_z, grid_file);
        st.metrics.write(metrics_file);
    };

    // A NaN or infinity in a step, or in the state about to be saved: one sentence that says where
    // the last state worth keeping is.
    auto diverged = [&](const training_error& e) {
        const std::string where = st.checkpoint.empty()
                                      ? std::string("no checkpoint was written before it")
                                      : "the last good checkpoint, from step " + std::to_string(st.checkpoint_step) +
                                            ", is " + st.checkpoint.string();
        return detail::sentence(e) + "; " + where;
    };

    detail::interrupted = 0;
    detail::handling_int = 0;
    detail::handling_term = 0;
    auto previous_int = detail::handle_interrupts(SIGINT, detail::handling_int);
    auto previous_term = detail::handle_interrupts(SIGTERM, detail::handling_term);
    const auto restore_handler = [&] {
        detail::handling_int = 0;
        detail::handling_term = 0;
        std::signal(SIGINT, previous_int == SIG_ERR ? SIG_DFL : previous_int);
        std::signal(SIGTERM, previous_term == SIG_ERR ? SIG_DFL : previous_term);
    };
    const auto start = clock::now();
    const double base_seconds = st.seconds;
    const std::size_t first_step = m.step();
    const std::uint64_t first_images = st.images;
    const auto now_seconds = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
    double last_metrics_write = 0;
    detail::progress bar(name, o.quiet, target, budget);
    bar.start(base_seconds, first_step, first_images);

    try {
        while (!detail::interrupted) {
            if (target ? m.step() >= *target : now_seconds() >= budget) break;
            const step_stats& s = m.train_step(draw);
            st.seconds = base_seconds + now_seconds();
            st.metrics.add(s);
            const std::size_t step = m.step();
            if (step % o.log_every == 0) {
                st.metrics.close(step, st.seconds, st.images);
                if (st.seconds - last_metrics_write >= 30) {
                    st.metrics.write(metrics_file);
                    last_metrics_write = st.seconds;
                }
            }
            if (o.checkpoint_every && step % o.checkpoint_every == 0) save_everything();
            if constexpr (Model::growth_type::grows) {
                const auto& pt = m.phase();
                const std::string side = std::to_string(std::size_t(4) << pt.level);
                char alpha[32] = "";
                if (pt.fading) std::snprintf(alpha, sizeof alpha, " fade-in %.2f", pt.alpha);
                bar.maybe_print(st.seconds, step, st.images, s, "  " + side + "x" + side + alpha);
            } else {
                bar.maybe_print(st.seconds, step, st.images, s);
            }
        }
        if (st.metrics.interval_open()) st.metrics.close(m.step(), st.seconds, st.images);
    } catch (const training_error& e) {
        restore_handler();
        return fail(diverged(e));
    } catch (const std::exception& e) {
        restore_handler();
        return fail(detail::sentence(e, ("training step " + std::to_string(m.step() + 1)).c_str()));
    }

    // The final outputs are written with the handler still in place: a Ctrl-C now (the samples can
    // take seconds) lets them finish and ends with the message below; a second one stops at once.
    const std::size_t steps_done = m.step() - first_step;
    const double seconds_here = st.seconds - base_seconds;
    tensor<T> samples;
    try {
        save_everything();
        samples = draw_samples<Model, Data>(m, st.seed, o.samples);
        data::write_idx_samples(samples_file, samples, dims::channels, dims::height, dims::width);
    } catch (const training_error& e) {
        restore_handler();
        return fail(diverged(e));
    } catch (const std::exception& e) {
        restore_handler();
        return fail(detail::sentence(e, "writing the outputs"));
    }
    restore_handler();

    if (!o.quiet) {
        std::printf("%s: %zu iterations (%llu images) in %.1f s: %.2f it/s, %.0f images/s on %zu thread%s\n", name,
                    steps_done, static_cast<unsigned long long>(st.images - first_images), seconds_here,
                    seconds_here > 0 ? double(steps_done) / seconds_here : 0.0,
                    seconds_here > 0 ? double(st.images - first_images) / seconds_here : 0.0, threads,
                    threads == 1 ? "" : "s");
        std::printf("%s: step %zu; wrote %s, %s (%zu samples), %s and %s\n", name, m.step(), grid_file.string().c_str(),
                    samples_file.string().c_str(), o.samples, metrics_file.string().c_str(),
                    checkpoint_file.string().c_str());
        std::fflush(stdout);
    }
    if (o.eval) {
        try {
            evaluation::evaluate(samples, o.data, o.out, name);
        } catch (const std::exception& e) {
            return fail("evaluation failed: " + detail::sentence(e));
        }
    }
    if (const int signal = detail::interrupted) {
        std::fprintf(stderr, "%s: interrupted (%s) at step %zu; the outputs above are from that step\n", name,
                     signal == SIGTERM ? "SIGTERM" : "SIGINT", m.step());
        return {128 + signal, steps_done};
    }
    return {0, steps_done};
}

// ---- --smoke ---------------------------------------------------------------------------------

namespace detail {

inline std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// metrics.csv without its "seconds" column (the only one that depends on the clock).
inline std::string metrics_without_time(const std::filesystem::path& p) {
    std::istringstream in(file_bytes(p));
    std::string line, out;
    while (std::getline(in, line)) {
        const std::size_t a = line.find(','), b = a == std::string::npos ? a : line.find(',', a + 1);
        out += (b == std::string::npos ? line : line.substr(0, a) + line.substr(b)) + '\n';
    }
    return out;
}

}  // namespace detail

/// The CTest smoke test: a few iterations on a small slice of the data, all outputs written, and
/// a run that stops half-way and resumes from its checkpoint must write the same samples, grid
/// and metrics (clock column aside) as the uninterrupted run.
template <class Model, class Data = typename Model::sample_shape>
int smoke(options o, const example_info& info) {
    const char* name = info.name;
    const std::size_t steps = std::max<std::size_t>(o.steps.value_or(4), 2), half = steps / 2;
    if (!o.batch) o.batch = 8;
    if (!o.limit) o.limit = 256;
    if (o.samples == 10000) o.samples = 16;
    if (o.threads == 0) o.threads = 1;
    o.minutes.reset();
    o.log_every = 1;
    o.checkpoint_every = half;
    o.quiet = true;
    o.eval = false;

    std::error_code ec;
    const std::filesystem::path root =
        std::filesystem::temp_directory_path(ec) / ("gant-" + std::string(name) + "-smoke-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root, ec);
    const std::filesystem::path whole = root / "whole", resumed = root / "resumed";

    if (!detail::has_training_images(o.data)) return train<Model, Data>(o, info).exit_code;  // the sentence, and 77
    data::image_dataset<typename Model::scalar> all;
    try {
        all = data::load_idx_folder<typename Model::scalar>(o.data, data::split::train, *o.limit);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, detail::sentence(e, "loading the data").c_str());
        return 1;
    }

    options a = o;
    a.out = whole;
    a.steps = steps;
    if (const run_result ra = train<Model, Data>(a, info, &all); ra.exit_code != 0) return ra.exit_code;

    options b = o;
    b.out = resumed;
    b.steps = half;
    if (const run_result rb = train<Model, Data>(b, info, &all); rb.exit_code != 0) return rb.exit_code;
    b.resume = resumed / "checkpoint.gant";
    b.steps = steps;
    if (const run_result rc = train<Model, Data>(b, info, &all); rc.exit_code != 0) return rc.exit_code;

    for (const char* file : {"grid.png", "samples.idx", "metrics.csv", "checkpoint.gant"})
        if (!std::filesystem::is_regular_file(whole / file, ec) || std::filesystem::file_size(whole / file, ec) == 0) {
            std::fprintf(stderr, "%s: smoke test failed: %s was not written (outputs kept in %s)\n", name, file,
                         root.string().c_str());
            return 1;
        }
    for (const char* file : {"grid.png", "samples.idx"})
        if (detail::file_bytes(whole / file) != detail::file_bytes(resumed / file)) {
            std::fprintf(stderr,
                         "%s: smoke test failed: %s after %zu steps differs between the uninterrupted run and the run "
                         "resumed at step %zu (outputs kept in %s)\n",
                         name, file, steps, half, root.string().c_str());
            return 1;
        }
    if (detail::metrics_without_time(whole / "metrics.csv") != detail::metrics_without_time(resumed / "metrics.csv")) {
        std::fprintf(stderr, "%s: smoke test failed: metrics.csv of the resumed run differs (outputs kept in %s)\n", name,
                     root.string().c_str());
        return 1;
    }
    std::filesystem::remove_all(root, ec);
    std::printf("%s: smoke test passed: %zu iterations at batch %zu on %zu images wrote every output, and resuming at "
                "step %zu reproduced them bit for bit\n",
                name, steps, *o.batch, all.size(), half);
    return 0;
}

// ---- main ------------------------------------------------------------------------------------

/// The whole program of an example: parse, then train (or run the smoke test).
template <class Model, class Data = typename Model::sample_shape>
int run(int argc, char** argv, const example_info& info) {
    options o;
    if (const auto code = parse_options<typename Model::lipschitz_type, Model>(argc, argv, info,
                                                                         example_defaults<Model>(info), o))
        return *code;
    if (o.eval && !o.smoke)
        if (const std::string problem = evaluation::problem(); !problem.empty()) {
            std::fprintf(stderr, "%s: %s\n", info.name, problem.c_str());
            return usage_error;
        }
    if (o.smoke) return smoke<Model, Data>(o, info);
    return train<Model, Data>(o, info).exit_code;
}

}  // namespace gant::examples
