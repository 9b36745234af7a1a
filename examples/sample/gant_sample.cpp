// gant_sample: draws samples from a generator that a gant example exported (generator.gant,
// written by export_generator next to every checkpoint), without the critic or the training state:
//
//   gant_sample --generator out/dcgan/generator.gant --n 10000 --seed 0 --out out/dcgan-samples
//
// writes samples.idx (IDX uint8, like the dataset) and grid.png (the first 64 samples, 8x8) into
// --out. The latent codes come from the stream the trainer uses for its own samples.idx, so with
// the run's --seed and --threads the two files are identical (the CTest test checks exactly that).
//
// A generator file records its network's configuration (every layer's name and tensor shapes,
// docs/checkpoints.md), not which program wrote it. gant_sample is compiled with the generator
// types of the example programs and picks the one whose configuration the file matches; the
// DCGAN families share one generator network, so one entry serves all of them. A file of any
// other network is refused with one sentence listing what is supported.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "gant/core/threads.hpp"
#include "gant/data/idx.hpp"
#include "gant/gan.hpp"
#include "gant/io/png.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "gant/topology/sagan.hpp"
#include "gant/topology/topology.hpp"
#include "gant/train/gan_state.hpp"

#include "../common/trainer.hpp"  // samples_stream, grid_side

using namespace gant;

namespace {

// ---- the generators of the example programs ---------------------------------------------------
// Each is the generator_type of the example's gan<...>, spelled as in examples/<name>/<name>.cpp.
// When an example changes its networks, change it here too: the gant_sample tests export from
// the examples and fail with "not a generator gant_sample knows" if the two drift apart.

using dcgan_pair = topology::dcgan<image<1, 28, 28>, shape<100>>;
using dcgan_generator = gan<dcgan_pair, loss::non_saturating, lipschitz::none>::generator_type;
using lsgan_generator = gan<dcgan_pair, loss::least_squares, lipschitz::none>::generator_type;
using wgan_generator = gan<dcgan_pair, loss::wasserstein, lipschitz::weight_clip>::generator_type;
using wgan_gp_generator = gan<dcgan_pair, loss::wasserstein, lipschitz::gradient_penalty>::generator_type;
using wgan_div_generator = gan<dcgan_pair, loss::wasserstein, lipschitz::wasserstein_div>::generator_type;
static_assert(std::is_same_v<dcgan_generator, lsgan_generator> && std::is_same_v<dcgan_generator, wgan_generator> &&
                  std::is_same_v<dcgan_generator, wgan_gp_generator> &&
                  std::is_same_v<dcgan_generator, wgan_div_generator>,
              "the DCGAN families no longer share a generator: give each its own entry in samplers below");

namespace mlp {  // examples/gan_mlp/gan_mlp.cpp
using generator = sequential<dense<100, 256>, relu, dense<256, 512>, relu, dense<512, 1024>, relu, dense<1024, 784>,
                             gant::tanh, reshape<image<1, 28, 28>>>;
using critic = sequential<dense<784, 1024>, leaky_relu<>, dense<1024, 512>, leaky_relu<>, dense<512, 256>,
                          leaky_relu<>, dense<256, 1>>;
using model = gan<topology::custom<shape<100>, image<1, 28, 28>, generator, critic>, loss::non_saturating,
                  lipschitz::none>;
}  // namespace mlp
using gan_mlp_generator = mlp::model::generator_type;

// examples/sagan/sagan.cpp (the generator carries its own spectral norm and self-attention).
using sagan_generator =
    gan<topology::sagan<image<1, 28, 28>, shape<100>>, loss::hinge, lipschitz::spectral_norm>::generator_type;

struct options {
    std::filesystem::path generator;
    std::size_t n = 10000;
    std::uint64_t seed = 0;
    std::filesystem::path out = "samples";
    std::size_t threads = 1;
};

/// Loads `r` into a Net and writes the samples; what the sampler for one generator type does.
template <class Net>
void sample_with(const checkpoint::reader& r, const options& o) {
    using T = typename Net::scalar;
    using S = typename Net::output_shape;
    using dims = image_dims<S>;
    constexpr std::size_t latent = Net::input_shape::size, size = S::size;
    Net net;
    load_generator(net, r);
    // Chunks of 250 with batch statistics, as the trainer's draw_samples and gan::generate do.
    constexpr std::size_t chunk = 250;
    tensor<T> out = tensor<T>::from_shape({o.n, size}), z;
    rng codes(o.seed, examples::samples_stream);
    pass_context ctx;
    ctx.update_statistics = false;
    for (std::size_t at = 0; at < o.n; at += chunk) {
        const std::size_t k = std::min(chunk, o.n - at);
        ensure_shape(z, k, latent);
        for (auto& v : z) v = T(codes.normal());
        const tensor<T>& x = net.forward(z, ctx);
        std::copy_n(x.data(), k * size, out.data() + at * size);
    }
    data::write_idx_samples(o.out / "samples.idx", out, dims::channels, dims::height, dims::width);
    io::write_png_grid<S>(o.out / "grid.png", out, {examples::grid_side, examples::grid_side, 2, 255});
}

/// One generator type gant_sample can load, and the examples that export it.
struct sampler {
    const char* examples;
    bool (*matches)(const checkpoint::reader&);
    void (*sample)(const checkpoint::reader&, const options&);
};

template <class Net>
sampler make_sampler(const char* examples) {
    return {examples,
            [](const checkpoint::reader& r) {
                Net net;
                return matches_generator_export(r, net);
            },
            &sample_with<Net>};
}

std::string describe(const checkpoint::reader& r) {
    std::string kind, in, out;
    for (const auto& [key, value] : checkpoint_configuration(r)) {
        if (key == "kind") kind = value;
        if (key == "input shape") in = value;
        if (key == "output shape") out = value;
    }
    if (kind != "generator export") return "a " + (kind.empty() ? std::string("file of unknown kind") : kind);
    return "a generator " + in + " -> " + out + " that gant_sample does not know";
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"gant_sample: writes samples.idx and grid.png from a generator.gant exported by a gant example"};
    app.add_option("--generator", o.generator, "generator.gant written by an example (next to its checkpoint)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("--n", o.n, "number of samples")
        ->transform(examples::flags::whole_number(examples::limits::samples))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the latent codes (the run's --seed reproduces its samples.idx)")
        ->transform(examples::flags::whole_number(examples::limits::seed))
        ->capture_default_str();
    app.add_option("--out", o.out, "output folder")->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads (the run's thread count reproduces its samples.idx)")
        ->transform(examples::flags::whole_number(examples::limits::threads))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "gant_sample: %s (see gant_sample --help)\n",
                     examples::sentence_after("gant_sample", e.what()).c_str());
        return examples::usage_error;
    }

    const sampler samplers[] = {
        make_sampler<dcgan_generator>("dcgan, lsgan, wgan, wgan_gp, wgan_div, custom_policy"),
        make_sampler<gan_mlp_generator>("gan_mlp"),
        make_sampler<sagan_generator>("sagan"),
    };
    try {
        set_num_threads(o.threads);
        blas::set_threads(int(o.threads));  // the MLP generator is GEMM-bound (as in gan_mlp)
        const checkpoint::reader r(o.generator);
        const sampler* chosen = nullptr;
        for (const auto& s : samplers)
            if (!chosen && s.matches(r)) chosen = &s;
        if (!chosen) {
            std::string supported;
            for (const auto& s : samplers) supported += std::string(supported.empty() ? "" : "; ") + s.examples;
            const std::string sentence = o.generator.string() + " is " + describe(r) +
                                         "; it reads generators exported by the examples (" + supported + ")";
            std::fprintf(stderr, "gant_sample: %s\n", one_line(sentence).c_str());
            return 1;
        }
        std::error_code ec;
        std::filesystem::create_directories(o.out, ec);
        if (ec || !std::filesystem::is_directory(o.out)) {
            const std::string sentence = "cannot create the output folder " + o.out.string() + " (" + ec.message() + ")";
            std::fprintf(stderr, "gant_sample: %s\n", one_line(sentence).c_str());
            return 1;
        }
        chosen->sample(r, o);
        std::printf("gant_sample: wrote %zu samples to %s and %s (generator of %s)\n", o.n,
                    (o.out / "samples.idx").string().c_str(), (o.out / "grid.png").string().c_str(), chosen->examples);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gant_sample: %s\n", examples::sentence_after("gant_sample", e.what()).c_str());
        return 1;
    }
    return 0;
}
