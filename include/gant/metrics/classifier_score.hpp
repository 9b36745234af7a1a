#pragma once
// Metrics of the classifier's softmax p(y|x) over generated images (algorithms.md section 9):
//
//   classifier score   exp(E_x KL(p(y|x) || p(y))), p(y) = mean of p(y|x) over the set: the
//                      Inception Score with the dataset's own classifier. 1 when every image gets
//                      the same distribution, at most the number of classes (10) when each image
//                      is confidently one class and the classes are used equally.
//   class histogram    how many images the classifier assigns (argmax) to each class
//   class entropy      entropy of that histogram in nats: ln 10 = 2.303 when every class is
//                      equally frequent, 0 when all images look like one class (mode collapse)
//
// The Inception Score convention splits 50k images into 10 parts and reports mean +- std of the
// per-part scores; `splits` does that (1: the whole set, gant_eval's default).
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/tensor.hpp"
#include "gant/metrics/cross_entropy.hpp"

namespace gant::metrics {

struct class_statistics {
    double score = 0.0;         // classifier score (mean over splits)
    double score_stddev = 0.0;  // std over splits (0 for one split)
    std::vector<std::size_t> histogram;
    double entropy = 0.0;       // nats
};

/// exp(mean KL(p(y|x) || p(y))) over the rows of `probs` [first, last).
inline double classifier_score_of(const tensor<double>& probs, std::size_t first, std::size_t last) {
    const std::size_t classes = probs.shape(1);
    std::vector<double> marginal(classes, 0.0);
    for (std::size_t i = first; i < last; ++i)
        for (std::size_t c = 0; c < classes; ++c) marginal[c] += probs(i, c);
    for (auto& p : marginal) p /= double(last - first);
    double kl = 0.0;
    for (std::size_t i = first; i < last; ++i)
        for (std::size_t c = 0; c < classes; ++c) {
            const double p = probs(i, c);
            if (p > 0.0) kl += p * (std::log(p) - std::log(marginal[c]));  // 0 log 0 = 0
        }
    return std::exp(kl / double(last - first));
}

/// Entropy (nats) of a histogram of counts; 0 log 0 = 0.
inline double histogram_entropy(const std::vector<std::size_t>& counts) {
    std::size_t total = 0;
    for (const auto c : counts) total += c;
    if (total == 0) return 0.0;
    double h = 0.0;
    for (const auto c : counts)
        if (c > 0) {
            const double q = double(c) / double(total);
            h -= q * std::log(q);
        }
    return h;
}

/// Classifier score, class histogram and its entropy from logits ([n, classes], n >= splits).
template <class T>
class_statistics classifier_statistics(const tensor<T>& logits, std::size_t splits = 1) {
    const std::size_t n = logits.shape(0), classes = logits.shape(1);
    if (splits == 0 || n < splits)
        throw std::invalid_argument("gant: classifier_statistics: " + std::to_string(n) + " images cannot make " +
                                    std::to_string(splits) + " non-empty splits");
    tensor<double> probs;
    softmax(logits, probs);
    class_statistics out;
    std::vector<double> scores(splits);
    for (std::size_t s = 0; s < splits; ++s) scores[s] = classifier_score_of(probs, n * s / splits, n * (s + 1) / splits);
    for (const double v : scores) out.score += v;
    out.score /= double(splits);
    for (const double v : scores) out.score_stddev += (v - out.score) * (v - out.score);
    out.score_stddev = std::sqrt(out.score_stddev / double(splits));
    out.histogram.assign(classes, 0);
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < classes; ++c)
            if (logits(i, c) > logits(i, best)) best = c;
        ++out.histogram[best];
    }
    out.entropy = histogram_entropy(out.histogram);
    return out;
}

}  // namespace gant::metrics
