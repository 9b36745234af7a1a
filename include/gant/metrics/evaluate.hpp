#pragma once
// Everything gant reports about a set of generated 28x28 grayscale images, in one call:
//
//   metrics::evaluator ev = metrics::evaluator::from_folder("/usr/share/datasets/fashion-mnist");
//   metrics::evaluation e = ev.score(samples);     // samples: [n, 784], values in [-1, 1]
//   for (auto [name, value] : e.fields()) ...      // fd, kid, precision, recall, ...
//
// The evaluator loads the shipped classifier (classifier.hpp), embeds the reference images once
// (the Fashion-MNIST test set: 10,000) and keeps what every score reuses: the reference Gaussian
// for FD and the reference k-NN radii for precision/recall/density/coverage. docs/metrics.md says
// what each number means and gives the real-data floor (training images against test images).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gant/core/tensor.hpp"
#include "gant/core/threads.hpp"
#include "gant/data/idx.hpp"
#include "gant/metrics/classifier.hpp"
#include "gant/metrics/classifier_score.hpp"
#include "gant/metrics/frechet.hpp"
#include "gant/metrics/kid.hpp"
#include "gant/metrics/prdc.hpp"

namespace gant::metrics {

struct evaluation_options {
    kid_options kid{};        // 100 subsets of 1,000, seed 0
    prdc_options prdc{};      // k = 3 for precision/recall, 5 for density/coverage
    std::size_t splits = 1;   // classifier-score splits
    std::size_t batch = 256;  // classifier batch
};

/// The scores of one set of images against the reference set.
struct evaluation {
    std::size_t n = 0;            // images scored
    std::size_t n_reference = 0;  // reference images
    double fd = 0, kid = 0, kid_stddev = 0;
    double precision = 0, recall = 0, density = 0, coverage = 0;
    double classifier_score = 0, class_entropy = 0;
    std::vector<std::size_t> class_histogram;
    double seconds = 0;  // time taken by score()

    /// The numbers under their JSON / table names, in the documented order.
    std::vector<std::pair<const char*, double>> fields() const {
        return {{"fd", fd},
                {"kid", kid},
                {"kid_std", kid_stddev},
                {"precision", precision},
                {"recall", recall},
                {"density", density},
                {"coverage", coverage},
                {"classifier_score", classifier_score},
                {"class_entropy", class_entropy},
                {"n", double(n)},
                {"n_reference", double(n_reference)}};
    }
};

/// Reads generated images for scoring: an IDX file (plain or gzipped) of n x 28 x 28 unsigned
/// bytes, as [n, 784] values in [-1, 1]. A corrupt file or one of another image shape throws
/// data::format_error, one sentence naming the file.
inline tensor<float> load_samples(const std::filesystem::path& file) {
    auto samples = data::load_idx_images<float>(file);
    if (samples.channels() != 1 || samples.height() != 28 || samples.width() != 28)
        throw data::format_error(file, "holds " + std::to_string(samples.size()) + " images of " +
                                           std::to_string(samples.channels()) + "x" + std::to_string(samples.height()) +
                                           "x" + std::to_string(samples.width()) +
                                           ", but gant's metrics score 28x28 grayscale images (1x28x28)");
    if (samples.size() < 7)
        throw data::format_error(file, "holds " + std::to_string(samples.size()) +
                                           " images; the metrics need at least 7 (k-NN radii with k = 5)");
    return samples.images();
}

class evaluator {
public:
    /// Reference images [n, 784] in [-1, 1]; the classifier weights from `classifier_file`.
    explicit evaluator(const tensor<float>& reference_images,
                       const std::filesystem::path& classifier_file = default_classifier_path(),
                       evaluation_options options = {}, thread_pool& pool = default_pool())
        : options_(options), pool_(&pool) {
        check_images(reference_images, "the reference images");
        info_ = load_classifier(classifier_, classifier_file);
        tensor<float> features;
        classifier_.embed(reference_images, &features, nullptr, options_.batch, context());
        n_reference_ = reference_images.shape(0);
        reference_features_ = features;
        gaussian_ = fit_gaussian(features);
        prdc_ = prdc_reference(features, options_.prdc, pool);
    }

    /// The test split of an MNIST-style folder as the reference (Fashion-MNIST: 10,000 images).
    static evaluator from_folder(const std::filesystem::path& dir = data::default_data_dir,
                                 const std::filesystem::path& classifier_file = default_classifier_path(),
                                 evaluation_options options = {}, thread_pool& pool = default_pool()) {
        const auto test = data::load_idx_folder<float>(dir, data::split::test);
        if (test.channels() != 1 || test.height() != 28 || test.width() != 28)
            throw data::format_error(dir, "the reference images must be 28x28 grayscale, found " +
                                              std::to_string(test.channels()) + "x" + std::to_string(test.height()) +
                                              "x" + std::to_string(test.width()));
        return evaluator(test.images(), classifier_file, options, pool);
    }

    /// Scores images [n, 784] in [-1, 1] (n >= 6: the k-NN radii need more points than k).
    evaluation score(const tensor<float>& images) {
        const auto t0 = std::chrono::steady_clock::now();
        check_images(images, "the images to score");
        tensor<float> features, logits;
        classifier_.embed(images, &features, &logits, options_.batch, context());
        evaluation e = score_features(features, logits);
        e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return e;
    }

    /// The same from features [n, 128] and logits [n, 10] computed elsewhere.
    evaluation score_features(const tensor<float>& features, const tensor<float>& logits) {
        evaluation e;
        e.n = features.shape(0);
        e.n_reference = n_reference_;
        e.fd = frechet_distance(gaussian_, fit_gaussian(features));
        const kid_result k = kernel_inception_distance(reference_features_, features, options_.kid, *pool_);
        e.kid = k.mean;
        e.kid_stddev = k.stddev;
        const prdc_result p = prdc(prdc_, features, *pool_);
        e.precision = p.precision;
        e.recall = p.recall;
        e.density = p.density;
        e.coverage = p.coverage;
        const class_statistics c = classifier_statistics(logits, options_.splits);
        e.classifier_score = c.score;
        e.class_entropy = c.entropy;
        e.class_histogram = c.histogram;
        return e;
    }

    const classifier_info& info() const { return info_; }
    classifier<float>& model() { return classifier_; }
    const tensor<float>& reference_features() const { return reference_features_; }
    const evaluation_options& options() const { return options_; }

private:
    static void check_images(const tensor<float>& images, const char* what) {
        if (images.shape(1) != classifier_input::size)
            throw std::invalid_argument(std::string("gant: ") + what + " must be 28x28 grayscale (784 values each), got " +
                                        std::to_string(images.shape(1)) + " values per image");
        if (images.shape(0) < 7)
            throw std::invalid_argument(std::string("gant: ") + what + " must number at least 7 (the k-NN metrics need " +
                                        "more than k = 5 neighbours), got " + std::to_string(images.shape(0)));
    }
    pass_context context() const {
        pass_context ctx;
        ctx.mode = mode::inference;
        ctx.pool = pool_;
        return ctx;
    }

    evaluation_options options_;
    thread_pool* pool_;
    classifier<float> classifier_;
    classifier_info info_;
    std::size_t n_reference_ = 0;
    tensor<float> reference_features_;
    gaussian_fit gaussian_;
    prdc_reference prdc_;
};

}  // namespace gant::metrics
