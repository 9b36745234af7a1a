// gant_libtorch_dcgan: the libtorch DCGAN of gant_bench_vs_libtorch (peers/libtorch_peer.cpp,
// workload dcgan28) trained on Fashion-MNIST, so that its samples can be scored next to those of
// gant's dcgan example (issue 4: "better and more diverse samples than the libtorch DCGAN trained
// the same 5 minutes on the same machine"):
//
//   gant_libtorch_dcgan --minutes 5 --threads 2 --seed 0 --out out/libtorch_dcgan
//   gant_eval out/libtorch_dcgan/samples.idx
//
// --workload wgan_gp28 trains the bench's libtorch WGAN-GP instead (the same DCGAN shapes, layer
// norm in the critic, the penalty by double backprop), next to gant's wgan_gp example:
//
//   gant_libtorch_dcgan --workload wgan_gp28 --iterations 700 --threads 1 --out out/libtorch_wgan_gp
//
// Everything around the networks is gant's dcgan example's (examples/common/trainer.hpp), so the
// comparison differs only in the library that trains: the same hyper-parameters (gant's
// default_hyper_parameters() for that gan type), the same data order (gant's batch_source on the
// same random stream), and grid.png and samples.idx drawn from the same latent codes, generated
// the same way (one pass of 64 codes for the grid, chunks of 250 for the samples, batch-norm
// statistics of each pass) and written by the same functions. Only libtorch's own random draws
// (initial weights, the training latent codes) differ, seeded by --seed through torch::manual_seed.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "gant/core/rng.hpp"
#include "gant/data/dataset.hpp"
#include "gant/data/idx.hpp"
#include "gant/gan.hpp"
#include "gant/io/png.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "libtorch_peer.hpp"

namespace {

using namespace gant;
using clock_type = std::chrono::steady_clock;
using data_shape = image<1, 28, 28>;
// Only for their default hyper-parameters: the gan types of examples/dcgan and examples/wgan_gp.
using gant_dcgan = gan<topology::dcgan<data_shape, shape<100>>, loss::non_saturating, lipschitz::none>;
using gant_wgan_gp = gan<topology::dcgan<data_shape, shape<100>>, loss::wasserstein, lipschitz::gradient_penalty>;

constexpr const char* name = "gant_libtorch_dcgan";
constexpr int usage_error = 2;  // as gant's examples (examples/common/options.hpp)

// The random streams and sizes of examples/common/trainer.hpp, so that both programs shuffle the
// data and draw the grid's and the samples' latent codes identically for the same --seed.
constexpr std::uint64_t data_stream = 100, grid_stream = 101, samples_stream = 102;
constexpr std::size_t grid_side = 8, samples_chunk = 250;

struct options {
    std::string workload = "dcgan28";  // or "wgan_gp28"
    std::filesystem::path data = data::default_data_dir;
    double minutes = 5.0;
    std::size_t iterations = 0;  // 0: no iteration limit
    std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    std::uint64_t seed = 0;
    std::filesystem::path out = std::filesystem::path("out") / "libtorch_dcgan";
    std::size_t samples = 10000;
    bool quiet = false;
};

int fail(const std::string& sentence, int code = 1) {
    std::fprintf(stderr, "%s: %s\n", name, sentence.c_str());
    return code;
}

std::string duration(double seconds) {
    const long s = long(seconds + 0.5);
    char buf[32];
    if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    else std::snprintf(buf, sizeof buf, "%lds", s);
    return buf;
}

/// n latent codes ~ N(0, 1) from r, as gan<...>::sample fills them.
tensor<float> normal_codes(rng& r, std::size_t n, std::size_t latent) {
    tensor<float> z = tensor<float>::from_shape({n, latent});
    for (auto& v : z) v = float(r.normal());
    return z;
}

bool has_training_images(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const char* file : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"})
        if (std::filesystem::is_regular_file(dir / file, ec)) return true;
    return false;
}

int train(const options& o) {
    gant_bench::peer::set_threads(int(o.threads));
    const bool wgan_gp = o.workload == "wgan_gp28";
    gant_bench::peer::settings s = gant_bench::peer::settings_from(
        wgan_gp ? gant_wgan_gp::default_hyper_parameters() : gant_dcgan::default_hyper_parameters());
    if (wgan_gp) s.lambda = gant_wgan_gp::lipschitz_type::params{}.lambda;
    s.seed = o.seed;

    if (!has_training_images(o.data))
        return fail("no training images (train-images-idx3-ubyte or .gz) in " + o.data.string() +
                    ": install Fashion-MNIST with `apt-get install dataset-fashion-mnist` or pass --data DIR");
    data::image_dataset<float> dataset;
    std::unique_ptr<gant_bench::peer::trainer> t;
    try {
        dataset = data::load_idx_folder<float>(o.data);  // pixels scaled to [-1, 1]
        if (dataset.channels() != 1 || dataset.height() != 28 || dataset.width() != 28)
            return fail("the images in " + o.data.string() + " are " + std::to_string(dataset.channels()) + "x" +
                        std::to_string(dataset.height()) + "x" + std::to_string(dataset.width()) +
                        " but the DCGAN takes 1x28x28");
        std::error_code ec;
        std::filesystem::create_directories(o.out, ec);
        if (ec || !std::filesystem::is_directory(o.out))
            return fail("cannot create the output folder " + o.out.string() + " (" + ec.message() + ")");
        t = gant_bench::peer::make_trainer(o.workload, s);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    data::batch_source<float> source(dataset, rng(o.seed, data_stream));

    const double budget = 60.0 * o.minutes;
    if (!o.quiet)
        std::fprintf(stderr, "[%s] %s; libtorch %s on %zu images of %s; batch %zu, Adam lr %g/%g betas (%g, %g), "
                             "n_critic %zu, %zu thread%s, seed %llu; %s; outputs in %s\n",
                     name, gant_bench::peer::describe().c_str(), o.workload.c_str(), dataset.size(),
                     o.data.string().c_str(), s.batch, s.lr_generator, s.lr_critic, s.beta1, s.beta2, s.n_critic,
                     o.threads, o.threads == 1 ? "" : "s",
                     static_cast<unsigned long long>(o.seed),
                     o.iterations ? ("until iteration " + std::to_string(o.iterations) +
                                     (o.minutes > 0 ? " or " + duration(budget) : std::string()))
                                        .c_str()
                                  : ("for " + duration(budget)).c_str(),
                     o.out.string().c_str());

    // One iteration takes n_critic real batches, one per critic step, as gant's train_step.
    tensor<float> real = tensor<float>::from_shape({s.batch * s.n_critic, t->sample_size()});
    tensor<float> one_batch = tensor<float>::from_shape({s.batch, t->sample_size()});
    std::uint64_t images = 0;
    const auto start = clock_type::now();
    const auto seconds = [&] { return std::chrono::duration<double>(clock_type::now() - start).count(); };
    double last_print = 0;
    std::size_t last_iterations = 0;
    try {
        for (;;) {
            if (o.iterations && t->iterations() >= o.iterations) break;
            if (o.minutes > 0 && seconds() >= budget) break;
            for (std::size_t k = 0; k < s.n_critic; ++k) {
                source.next(one_batch);
                std::copy(one_batch.begin(), one_batch.end(), real.begin() + std::ptrdiff_t(k * one_batch.size()));
            }
            images += s.batch * s.n_critic;
            const gant_bench::peer::step_result r = t->step(real.data(), s.batch);
            if (!std::isfinite(r.critic_loss) || !std::isfinite(r.generator_loss))
                return fail("iteration " + std::to_string(t->iterations()) + ": the " +
                            (std::isfinite(r.critic_loss) ? "generator" : "critic") +
                            " loss is not finite; training stopped, nothing written");
            const double now = seconds();
            if (!o.quiet && now - last_print >= 10) {
                std::fprintf(stderr, "[%s] iteration %zu  %.2f it/s  D %.4g  G %.4g%s\n", name, t->iterations(),
                             double(t->iterations() - last_iterations) / (now - last_print), r.critic_loss,
                             r.generator_loss,
                             o.minutes > 0 ? ("  left " + duration(std::max(0.0, budget - now))).c_str() : "");
                last_print = now;
                last_iterations = t->iterations();
            }
        }
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    const double trained = seconds();

    const std::filesystem::path grid_file = o.out / "grid.png", samples_file = o.out / "samples.idx";
    try {
        // grid.png: one pass of 64 fixed codes (examples/common/trainer.hpp write_grid).
        rng grid_rng(o.seed, grid_stream);
        const tensor<float> grid_z = normal_codes(grid_rng, grid_side * grid_side, t->latent_size());
        tensor<float> grid = tensor<float>::from_shape({grid_side * grid_side, t->sample_size()});
        t->generate(grid_z.data(), grid_side * grid_side, grid.data());
        io::write_png_grid<data_shape>(grid_file, grid, {grid_side, grid_side, 2, 255});

        // samples.idx: chunks of 250 codes from their own stream (trainer.hpp draw_samples).
        rng samples_rng(o.seed, samples_stream);
        tensor<float> samples = tensor<float>::from_shape({o.samples, t->sample_size()});
        for (std::size_t at = 0; at < o.samples; at += samples_chunk) {
            const std::size_t k = std::min(samples_chunk, o.samples - at);
            const tensor<float> z = normal_codes(samples_rng, k, t->latent_size());
            t->generate(z.data(), k, samples.data() + at * t->sample_size());
        }
        data::write_idx_samples(samples_file, samples, 1, 28, 28);
    } catch (const std::exception& e) {
        return fail(e.what());
    }

    std::printf("%s: %zu iterations (%llu images) in %.1f s: %.2f it/s, %.0f images/s on %zu thread%s\n", name,
                t->iterations(), static_cast<unsigned long long>(images), trained,
                trained > 0 ? double(t->iterations()) / trained : 0.0, trained > 0 ? double(images) / trained : 0.0,
                o.threads, o.threads == 1 ? "" : "s");
    std::printf("%s: wrote %s and %s (%zu samples)\n", name, grid_file.string().c_str(), samples_file.string().c_str(),
                o.samples);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{std::string(name) +
                 ": trains gant_bench_vs_libtorch's libtorch DCGAN (dcgan28) or WGAN-GP (wgan_gp28) on Fashion-MNIST, "
                 "for comparison with gant's dcgan and wgan_gp examples, and writes grid.png and samples.idx into "
                 "--out; progress goes to stderr."};
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("--workload", o.workload, "dcgan28 (gant's dcgan example) or wgan_gp28 (its wgan_gp example)")
        ->check(CLI::IsMember({"dcgan28", "wgan_gp28"}))
        ->capture_default_str();
    app.add_option("--data", o.data, "folder with train-images-idx3-ubyte[.gz]")->capture_default_str();
    auto* minutes = app.add_option("--minutes", o.minutes,
                                   "train for M minutes of wall-clock time (default 5 unless --iterations is given)")
                        ->check(CLI::Range(1e-3, 1e6));
    auto* iterations = app.add_option("--iterations", o.iterations,
                                      "train for N generator iterations (with --minutes: whichever comes first)")
                           ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
    app.add_option("--threads", o.threads, "CPU threads (default: every core)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of weights, latent codes, data order and samples")->capture_default_str();
    app.add_option("--out", o.out, "output folder")->capture_default_str();
    app.add_option("--samples", o.samples, "samples written to samples.idx at the end")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->capture_default_str();
    app.add_flag("--quiet,-q", o.quiet, "no progress lines on stderr");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::string what = e.what();
        while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
        return fail(what + " (see " + name + " --help)", usage_error);
    }
    if (iterations->count() > 0 && minutes->count() == 0) o.minutes = 0;  // no time limit then
    return train(o);
}
