// train_classifier: trains the feature extractor of gant's image metrics (gant/metrics/classifier.hpp)
// on the Fashion-MNIST training set and writes its weights, with the test accuracy and the command
// that produced them, to a gant checkpoint file.
//
//   train_classifier --out models/fashion_classifier.gant       # the shipped weights (docs/metrics.md)
//   train_classifier --epochs 1 --limit 2048 --out /tmp/c.gant   # a quick check
//
// Softmax cross-entropy, Adam (lr 2e-3), batch 128, 10 epochs, cosine learning-rate decay to zero
// over the run, random left-right mirroring and shifts of up to 1 pixel (docs/metrics.md: 8 epochs
// with shifts of up to 2 pixels stopped at 90.95%). Same seed and thread count give the same
// weights bit for bit (gant's pool splits work statically; OpenBLAS runs single-threaded).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <new>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/threads.hpp"
#include "gant/data/idx.hpp"
#include "gant/metrics/classifier.hpp"

#include "../common/flag_checks.hpp"

namespace {

using namespace gant;

struct options {
    std::string data = data::default_data_dir;
    std::string out = "fashion_classifier.gant";
    std::size_t epochs = 10;
    std::size_t batch = 128;
    double lr = 2e-3;
    std::size_t shift = 1;
    bool flip = true;
    std::uint64_t seed = 1;
    std::size_t threads = 2;
    std::size_t limit = 0;
    bool quiet = false;
};

/// The first `n` images of a dataset (all when n is 0 or too large).
data::image_dataset<float> head_of(const data::image_dataset<float>& d, std::size_t n) {
    if (n == 0 || n >= d.size()) return d;
    tensor<float> x = tensor<float>::from_shape({n, d.features()});
    std::copy_n(d.images().data(), n * d.features(), x.data());
    std::vector<std::uint8_t> labels;  // none when the dataset has none (main refuses that before)
    if (d.has_labels()) labels.assign(d.labels().begin(), d.labels().begin() + std::ptrdiff_t(n));
    return data::image_dataset<float>(std::move(x), d.channels(), d.height(), d.width(), std::move(labels));
}

std::string command_line(int argc, char** argv) {
    std::string s = std::filesystem::path(argv[0]).filename().string();
    for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
    return s;
}

/// "gant: x" and "train_classifier: x" -> "train_classifier: x": one sentence with the program's name.
std::string sentence(const std::string& what) {
    return "train_classifier: " + examples::sentence_after("train_classifier", what);
}
using examples::usage_error;

}  // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"train_classifier: trains the Fashion-MNIST classifier whose 128-d penultimate layer is the "
                 "feature space of gant's image metrics, and saves its weights."};
    app.add_option("--data", o.data, "folder with the Fashion-MNIST IDX files")->capture_default_str();
    app.add_option("--out", o.out, "weights file to write")->capture_default_str();
    app.add_option("--epochs", o.epochs, "passes over the training set")
        ->transform(examples::flags::whole_number({1, 100000}))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "batch size")
        ->transform(examples::flags::whole_number({1, 65536}))
        ->capture_default_str();
    app.add_option("--lr", o.lr, "Adam's initial learning rate (cosine decay to 0)")
        ->check(examples::flags::finite_number({0.0, 1.0, true, false}))
        ->capture_default_str();
    app.add_option("--shift", o.shift, "random shift of up to this many pixels (augmentation)")
        ->transform(examples::flags::whole_number({0, 8}))
        ->capture_default_str();
    app.add_option("--flip", o.flip, "random left-right mirroring (augmentation)")->capture_default_str();
    app.add_option("--seed", o.seed, "seed for the initial weights, the shuffling and the augmentation")
        ->transform(examples::flags::whole_number({0, std::numeric_limits<std::uint64_t>::max()}))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads")
        ->transform(examples::flags::whole_number({1, 256}))
        ->capture_default_str();
    app.add_option("--limit", o.limit, "train on the first N images only (0: all)")
        ->transform(examples::flags::whole_number({0, std::uint64_t{1} << 40}))
        ->capture_default_str();
    app.add_flag("--quiet,-q", o.quiet, "no progress lines on stderr");
    // Every command-line mistake is one sentence and exit code 2.
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        std::fprintf(stderr, "%s (see train_classifier --help)\n", sentence(e.what()).c_str());
        return usage_error;
    }

    std::string doing = "loading the training images of " + o.data;  // for an out-of-memory message
    try {
        set_num_threads(o.threads);
        const auto t0 = std::chrono::steady_clock::now();
        // Both splits need their label files; name the missing one instead of training without.
        for (const auto which : {data::split::train, data::split::test}) {
            if (data::find_idx_files(o.data, which).labels.empty()) {
                const std::string stem =
                    which == data::split::train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";
                throw data::format_error(o.data,
                                         "no " + stem + " or " + stem +
                                             ".gz file in this folder (the classifier trains on labelled images)");
            }
        }
        // The weights replace --out atomically: if it names one of the dataset's files (the one
        // read or its plain or .gz twin), that file would be lost, its content replaced.
        for (const auto which : {data::split::train, data::split::test}) {
            const data::idx_file_names names = data::idx_names(which);
            for (const auto& candidates : {names.images, names.labels})
                for (const std::string& name : candidates) {
                    const std::filesystem::path input = std::filesystem::path(o.data) / name;
                    std::error_code ec;
                    if (std::filesystem::equivalent(o.out, input, ec))
                        throw std::invalid_argument(
                            "gant: --out " + o.out + " is the dataset file " + input.string() +
                            ", which the classifier's weights would replace; choose another file");
                }
        }
        const auto train = head_of(data::load_idx_folder<float>(o.data, data::split::train), o.limit);
        const auto test = data::load_idx_folder<float>(o.data, data::split::test);
        if (train.channels() != 1 || train.height() != 28 || train.width() != 28 || !train.has_labels() ||
            !test.has_labels())
            throw std::runtime_error("gant: " + o.data + ": the classifier needs labelled 28x28 grayscale images");
        if (train.size() == 0 || test.size() == 0)
            throw data::format_error(
                o.data, std::string("the ") + (train.size() == 0 ? "training" : "test") + " set holds no image");
        doing = "training on " + std::to_string(train.size()) + " images with batch " + std::to_string(o.batch);

        rng root(o.seed);
        rng init_rng = root.split(1), augment_rng = root.split(3);
        metrics::classifier<float> clf;
        clf.initialize(init_rng);
        optim::adam<float> adam({.lr = o.lr});
        data::batch_source<float> source(train, root.split(2));

        const std::size_t steps_per_epoch = (train.size() + o.batch - 1) / o.batch;
        const std::size_t total = steps_per_epoch * o.epochs;
        tensor<float> x = tensor<float>::from_shape({o.batch, train.features()});
        std::vector<std::uint8_t> y(o.batch);
        std::size_t step = 0;
        double accuracy = 0.0;
        for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
            const auto e0 = std::chrono::steady_clock::now();
            double loss_sum = 0.0;
            for (std::size_t s = 0; s < steps_per_epoch; ++s, ++step) {
                adam.set_learning_rate(o.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * double(step) / double(total))));
                source.next(x, y);
                if (o.flip || o.shift) metrics::augment(x, augment_rng, o.shift, o.flip);
                loss_sum += clf.train_step(x, y, adam);
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
            const bool last = epoch == o.epochs;
            if (last || !o.quiet) accuracy = metrics::accuracy(clf, test);
            if (!o.quiet)
                std::fprintf(stderr, "[train_classifier] epoch %zu/%zu  loss %.4f  test accuracy %.2f%%  %.1f s\n", epoch,
                             o.epochs, loss_sum / double(steps_per_epoch), 100 * accuracy, seconds);
        }
        metrics::save_classifier(clf, o.out, {accuracy, command_line(argc, argv)});
        const double total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("test accuracy %.2f%% (%zu images), %zu parameters, %.0f s, written to %s\n", 100 * accuracy,
                    test.size(), clf.parameter_count(), total_seconds, o.out.c_str());
        return 0;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "train_classifier: out of memory (%s)\n", doing.c_str());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", sentence(e.what()).c_str());
        return 1;
    }
}
