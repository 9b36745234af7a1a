// gant_eval: scores generated 28x28 grayscale images (an IDX file, as every gant example writes
// with --out) against the Fashion-MNIST test set, in the feature space of gant's own classifier
// (docs/metrics.md).
//
//   gant_eval run/samples.idx                 # a table
//   gant_eval run/samples.idx --json          # one JSON object
//   gant_eval --floor                         # training images against test images: the best a
//                                             # generator can expect at this N
//   gant_eval --floor --degrade blur:1        # the floor images degraded on purpose, to see how each
//                                             # number reacts (docs/metrics.md): noise:SIGMA,
//                                             # blur:SIGMA, collapse:CLASS, classes:K
//
// Metrics: Fréchet distance (fd), KID (unbiased, cubic kernel, 100 subsets of 1,000), precision and
// recall (k = 3), density and coverage (k = 5), the classifier score (Inception-Score analogue) and
// the entropy of the predicted-class histogram. FD depends on N: compare runs at equal N.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <new>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/threads.hpp"
#include "gant/data/idx.hpp"
#include "gant/metrics/evaluate.hpp"

#include "../common/flag_checks.hpp"

namespace {

using namespace gant;

struct options {
    std::string samples;
    std::string ref = data::default_data_dir;
    std::string classifier;
    bool json = false;
    bool floor = false;
    std::size_t n = 0;
    std::uint64_t seed = 0;
    std::size_t threads = 2;
    std::string degrade;
};

/// A controlled degradation of real images, for calibrating the metrics (--degrade KIND:VALUE).
struct degradation {
    std::string kind;  // "", noise, blur, collapse, classes
    double value = 0;
    std::string text;  // as given, for messages
};

/// The --degrade magnitudes the calibration can use: noise beyond a standard deviation of 10
/// ([-1, 1] units) saturates every pixel already, and a blur's kernel (radius 3 SIGMA) stays
/// within 64 pixels, past the 28-pixel image.
constexpr double max_noise_sigma = 10, max_blur_sigma = 20;

/// Parses --degrade KIND:VALUE. Throws std::invalid_argument (a sentence without the program's
/// name) unless the kind is known and its value finite and in range (NaN is refused too).
degradation parse_degradation(const std::string& text) {
    if (text.empty()) return {};
    const auto colon = text.find(':');
    degradation d{text.substr(0, colon), 0.0, text};
    const bool known = d.kind == "noise" || d.kind == "blur" || d.kind == "collapse" || d.kind == "classes";
    std::size_t used = 0;
    try {
        if (colon != std::string::npos) d.value = std::stod(text.substr(colon + 1), &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (!known || colon == std::string::npos || used == 0 || used != text.size() - colon - 1)
        throw std::invalid_argument("--degrade " + text +
                                    ": expected noise:SIGMA, blur:SIGMA, collapse:CLASS (0-9) or classes:K (1-10)");
    const auto whole = [&](double lo, double hi) {
        return d.value >= lo && d.value <= hi && d.value == std::floor(d.value);
    };
    if (d.kind == "noise" && !(d.value >= 0 && d.value <= max_noise_sigma))
        throw std::invalid_argument("--degrade " + text + ": the noise's SIGMA must be a number from 0 to 10");
    if (d.kind == "blur" && !(d.value >= 0 && d.value <= max_blur_sigma))
        throw std::invalid_argument("--degrade " + text + ": the blur's SIGMA must be a number of pixels from 0 to 20");
    if (d.kind == "collapse" && !whole(0, 9))
        throw std::invalid_argument("--degrade " + text + ": the CLASS must be a whole number from 0 to 9");
    if (d.kind == "classes" && !whole(1, 10))
        throw std::invalid_argument("--degrade " + text + ": K must be a whole number from 1 to 10");
    return d;
}

/// Gaussian blur with standard deviation `sigma` pixels (separable, edges replicated).
void blur(tensor<float>& images, double sigma) {
    if (!(sigma > 0)) return;
    if (!(sigma <= max_blur_sigma)) throw std::invalid_argument("gant_eval: blur: SIGMA must be at most 20 pixels");
    const int radius = static_cast<int>(std::ceil(3 * sigma));
    std::vector<float> k(2 * radius + 1);
    double sum = 0;
    for (int i = -radius; i <= radius; ++i) sum += k[i + radius] = float(std::exp(-0.5 * i * i / (sigma * sigma)));
    for (auto& v : k) v = float(v / sum);
    float tmp[784];
    auto at = [](int v) { return std::clamp(v, 0, 27); };
    for (std::size_t s = 0; s < images.shape(0); ++s) {
        float* img = images.data() + s * 784;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                float acc = 0;
                for (int i = -radius; i <= radius; ++i) acc += k[i + radius] * img[y * 28 + at(x + i)];
                tmp[y * 28 + x] = acc;
            }
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                float acc = 0;
                for (int i = -radius; i <= radius; ++i) acc += k[i + radius] * tmp[at(y + i) * 28 + x];
                img[y * 28 + x] = acc;
            }
    }
}

/// `n` training images degraded as asked, quantised to bytes as a sample file would be.
tensor<float> degraded_floor(const data::image_dataset<float>& train, const std::string& folder, std::size_t n,
                             const degradation& d, std::uint64_t seed) {
    rng r(seed, 0x44454752);  // "DEGR"
    std::vector<std::size_t> pool;
    for (std::size_t i = 0; i < train.size(); ++i) {
        const std::size_t label = train.labels()[i];
        if (d.kind == "collapse" ? label == std::size_t(d.value) : d.kind == "classes" ? label < std::size_t(d.value) : true)
            pool.push_back(i);
    }
    if (pool.empty())
        throw std::runtime_error("gant_eval: --degrade " + d.text + ": the training set in " + folder +
                                 " has no image " + (d.kind == "collapse" ? "of class " : "of a class below ") +
                                 std::to_string(std::size_t(d.value)));
    for (std::size_t i = pool.size() - 1; i > 0; --i) std::swap(pool[i], pool[r.below(i + 1)]);
    tensor<float> out = tensor<float>::from_shape({n, 784});
    for (std::size_t i = 0; i < n; ++i)  // cycles through the pool when n exceeds it (duplicates)
        std::copy_n(train.images().data() + pool[i % pool.size()] * 784, 784, out.data() + i * 784);
    if (d.kind == "noise")
        for (auto& v : out) v += float(d.value * r.normal());
    if (d.kind == "blur") blur(out, d.value);
    for (auto& v : out) v = data::pixel_to_value<float>(data::value_to_pixel(v));
    return out;
}

/// `n` rows of `images` (all when n is 0 or too large): the first n, or a seeded random subset.
tensor<float> take(const tensor<float>& images, std::size_t n, bool random, std::uint64_t seed) {
    const std::size_t total = images.shape(0), f = images.shape(1);
    if (n == 0 || n >= total) return images;
    std::vector<std::size_t> order(total);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (random) {
        rng r(seed, 0x464C4F4F52);  // "FLOOR"
        for (std::size_t i = 0; i < n; ++i) std::swap(order[i], order[i + r.below(total - i)]);
    }
    tensor<float> out = tensor<float>::from_shape({n, f});
    for (std::size_t i = 0; i < n; ++i) std::copy_n(images.data() + order[i] * f, f, out.data() + i * f);
    return out;
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

/// "gant: x" and "gant_eval: x" -> "gant_eval: x": one sentence with the program's name.
std::string sentence(const std::string& what) {
    return "gant_eval: " + examples::sentence_after("gant_eval", what);
}
using examples::usage_error;

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"gant_eval: scores generated 28x28 grayscale images against the Fashion-MNIST test set with "
                 "gant's classifier features (FD, KID, precision/recall, density/coverage, classifier score)."};
    app.add_option("samples", o.samples, "IDX file of generated images (n x 28 x 28, unsigned bytes)");
    app.add_option("--ref", o.ref, "dataset folder whose test split (t10k-*) is the reference")->capture_default_str();
    app.add_option("--classifier", o.classifier, "classifier weights (default: $GANT_CLASSIFIER, else the shipped "
                                                  "models/fashion_classifier.gant)");
    app.add_flag("--json", o.json, "print one JSON object instead of the table");
    app.add_flag("--floor", o.floor, "score N training images (seeded random subset, default 10,000) instead of a "
                                     "sample file: the real-data floor");
    app.add_option("--n", o.n, "score only N images (the first N of the sample file; 0: all)")
        ->transform(examples::flags::whole_number({0, std::uint64_t{1} << 40}))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the KID subsets and of the --floor subset")
        ->transform(examples::flags::whole_number({0, std::numeric_limits<std::uint64_t>::max()}))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads")
        ->transform(examples::flags::whole_number({1, 256}))
        ->capture_default_str();
    app.add_option("--degrade", o.degrade,
                   "with --floor: degrade the images first, to calibrate the metrics: "
                   "noise:SIGMA (Gaussian noise, [-1,1] units, 0-10), blur:SIGMA (pixels, "
                   "0-20), collapse:CLASS (one class only), classes:K (classes 0..K-1 only)");
    // Every command-line mistake is one sentence and exit code 2.
    degradation deg;
    try {
        app.parse(argc, argv);
        if (o.floor == !o.samples.empty())
            throw std::invalid_argument(o.floor ? "give either a sample file or --floor, not both"
                                                : "give a sample file to score, or --floor");
        if (!o.degrade.empty() && !o.floor) throw std::invalid_argument("--degrade applies to the --floor images only");
        deg = parse_degradation(o.degrade);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::fprintf(stderr, "%s (see gant_eval --help)\n", sentence(e.what()).c_str());
        return usage_error;
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s (see gant_eval --help)\n", sentence(e.what()).c_str());
        return usage_error;
    }

    const auto start = std::chrono::steady_clock::now();
    std::string doing = o.floor ? "loading the training images of " + o.ref : "loading " + o.samples;  // for bad_alloc
    try {
        set_num_threads(o.threads);

        // The images first: a bad sample file should fail before the slower reference work.
        tensor<float> images;
        std::string what;
        if (o.floor) {
            const auto train = data::load_idx_folder<float>(o.ref, data::split::train);
            if (train.size() == 0) throw data::format_error(o.ref, "the training set holds no image");
            if (!train.has_labels())
                throw data::format_error(o.ref,
                                         "no train-labels-idx1-ubyte or train-labels-idx1-ubyte.gz file in this "
                                         "folder (--floor needs the training labels)");
            if (train.channels() != 1 || train.height() != 28 || train.width() != 28)
                throw data::format_error(o.ref, "the training images are not 28x28 grayscale images");
            const std::size_t n = o.n == 0 ? 10000 : std::min(o.n, train.size());
            if (deg.kind.empty()) {
                images = take(train.images(), n, true, o.seed);
                what = "training images (random subset, seed " + std::to_string(o.seed) + ")";
            } else {
                images = degraded_floor(train, o.ref, n, deg, o.seed);
                what = "training images degraded by " + o.degrade + " (seed " + std::to_string(o.seed) + ")";
            }
        } else {
            const tensor<float> samples = metrics::load_samples(o.samples);
            images = take(samples, o.n, false, 0);
            what = o.samples;
        }

        doing = "scoring " + std::to_string(images.shape(0)) + " images against the test set of " + o.ref;
        metrics::evaluation_options eo;
        eo.kid.seed = o.seed;
        const std::filesystem::path weights =
            o.classifier.empty() ? metrics::default_classifier_path() : std::filesystem::path(o.classifier);
        metrics::evaluator ev = metrics::evaluator::from_folder(o.ref, weights, eo);
        const metrics::evaluation e = ev.score(images);
        const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        if (o.json) {
            nlohmann::ordered_json j;
            for (const auto& [name, value] : e.fields()) {
                if (std::string(name) == "n" || std::string(name) == "n_reference")
                    j[name] = static_cast<std::size_t>(value);
                else
                    j[name] = value;
            }
            j["class_histogram"] = e.class_histogram;
            j["samples"] = what;
            j["reference"] = o.ref;
            j["classifier"] = weights.string();
            j["classifier_test_accuracy"] = ev.info().test_accuracy;
            j["seconds"] = std::round(e.seconds * 100) / 100;
            j["total_seconds"] = std::round(total * 100) / 100;
            std::cout << j.dump(2) << '\n';
            return 0;
        }

        std::printf("gant_eval: %s, %zu images, against the test set of %s (%zu images)\n", what.c_str(), e.n,
                    o.ref.c_str(), e.n_reference);
        std::printf("classifier: %s (test accuracy %.2f%%), 128-d features; FD depends on N, compare at equal N\n\n",
                    weights.string().c_str(), 100 * ev.info().test_accuracy);
        std::printf("| metric           | value               | better | meaning |\n");
        std::printf("|------------------|---------------------|--------|---------|\n");
        const auto row = [](const char* name, const std::string& value, const char* better, const char* meaning) {
            std::printf("| %-16s | %19s | %-6s | %s |\n", name, value.c_str(), better, meaning);
        };
        row("fd", fixed(e.fd, 3), "lower", "Frechet distance of Gaussians fitted to the features");
        row("kid", fixed(e.kid, 4) + " +- " + fixed(e.kid_stddev, 4), "lower",
            "kernel distance (unbiased MMD^2, cubic kernel)");
        row("precision", fixed(e.precision, 4), "higher", "fraction of samples on the real manifold (k = 3)");
        row("recall", fixed(e.recall, 4), "higher", "fraction of real images the samples' manifold covers (k = 3)");
        row("density", fixed(e.density, 4), "~1", "sample crowding in real neighbourhoods (k = 5; can exceed 1)");
        row("coverage", fixed(e.coverage, 4), "higher", "fraction of real neighbourhoods holding a sample (k = 5)");
        row("classifier_score", fixed(e.classifier_score, 3), "higher", "exp E KL(p(y|x) || p(y)), at most 10");
        row("class_entropy", fixed(e.class_entropy, 4), "2.3026", "entropy of predicted classes, nats (ln 10 = all equal)");
        std::printf("\nclass histogram:");
        for (const auto c : e.class_histogram) std::printf(" %zu", c);
        std::printf("\nscored in %.1f s (%.1f s with loading and the reference set)\n", e.seconds, total);
        return 0;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "gant_eval: out of memory (%s)\n", doing.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", sentence(e.what()).c_str());
        return 1;
    }
}
