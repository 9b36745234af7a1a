#pragma once
// The --eval hook, the one place where the examples meet gant's quality metrics (Fréchet
// distance, KID, precision/recall, density/coverage, classifier score; gant/metrics, docs/metrics.md).
//
// The metrics module arrived after the examples, so it is picked up when its header exists:
// without it, `available` is false and the trainer refuses --eval before training starts (one
// sentence, a non-zero exit) instead of training for minutes and failing at the end. The check
// that the classifier weights are present also runs before training (problem()).
//
// The samples are scored exactly as written to samples.idx (quantised to bytes), so the numbers
// match `gant_eval <out>/samples.idx`.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "gant/core/tensor.hpp"
#include "gant/data/dataset.hpp"
#include "gant/io/atomic_file.hpp"

#if __has_include("gant/metrics/evaluate.hpp")
#include "gant/metrics/evaluate.hpp"
#define GANT_EXAMPLES_HAVE_METRICS 1
#else
#define GANT_EXAMPLES_HAVE_METRICS 0
#endif

namespace gant::examples::evaluation {

inline constexpr bool available = GANT_EXAMPLES_HAVE_METRICS != 0;

/// Why --eval cannot run here (empty when it can).
inline std::string problem() {
#if GANT_EXAMPLES_HAVE_METRICS
    std::error_code ec;
    const std::filesystem::path weights = metrics::default_classifier_path();
    if (!std::filesystem::is_regular_file(weights, ec))
        return "--eval needs the metrics classifier's weights, " + weights.string() +
               ", which are missing (set GANT_CLASSIFIER to their file)";
    return {};
#else
    return "--eval is not available in this build: gant's metrics module (include/gant/metrics) is not "
           "there; train without --eval";
#endif
}

/// Scores `samples` ([n, 784] in [-1, 1]) against the test split in `data_dir`, prints the
/// scores on stdout and writes them to <out>/eval.json. Throws with one sentence on failure.
template <class T>
void evaluate(const tensor<T>& samples, const std::filesystem::path& data_dir, const std::filesystem::path& out,
              const char* name) {
#if GANT_EXAMPLES_HAVE_METRICS
    tensor<float> quantised = tensor<float>::from_shape({samples.shape(0), samples.shape(1)});
    for (std::size_t i = 0; i < samples.size(); ++i)
        quantised.data()[i] = data::pixel_to_value<float>(data::value_to_pixel(samples.data()[i]));
    metrics::evaluator ev = metrics::evaluator::from_folder(data_dir);
    const metrics::evaluation e = ev.score(quantised);
    nlohmann::ordered_json j;
    std::printf("%s: scores of %zu samples against %zu test images:", name, e.n, e.n_reference);
    for (const auto& [key, value] : e.fields()) {
        j[key] = value;
        if (value == std::floor(value) && std::abs(value) < 1e15) std::printf(" %s %.0f", key, value);
        else std::printf(" %s %.4g", key, value);
    }
    std::printf("\n");
    const std::string text = j.dump(2) + "\n";
    io::write_atomically(out / "eval.json", text.data(), text.size());
#else
    (void)samples;
    (void)data_dir;
    (void)out;
    (void)name;
#endif
}

}  // namespace gant::examples::evaluation
