#pragma once
// Softmax cross-entropy over class logits, the loss the metric classifier trains with, and the
// softmax itself (the classifier score needs p(y|x)).
//
//   p_ic  = exp(z_ic) / sum_c' exp(z_ic')                 (shifted by max_c z_ic: no overflow)
//   loss  = -1/N sum_i log p_i,y_i
//   dz_ic = (p_ic - [c == y_i]) / N
//
// Every row is reduced in double whatever T is: the loss of a well-trained classifier is a sum of
// many tiny log-probabilities, and its gradient a difference of nearly equal numbers.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/tensor.hpp"

namespace gant::metrics {

namespace detail {

/// Softmax of one row of `classes` logits into `p` (double); returns log sum_c exp(z_c).
template <class T>
double softmax_row(const T* z, std::size_t classes, double* p) {
    double top = static_cast<double>(z[0]);
    for (std::size_t c = 1; c < classes; ++c) top = std::max(top, static_cast<double>(z[c]));
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) {
        p[c] = std::exp(static_cast<double>(z[c]) - top);
        sum += p[c];
    }
    for (std::size_t c = 0; c < classes; ++c) p[c] /= sum;
    return top + std::log(sum);
}

}  // namespace detail

/// Row-wise softmax of `logits` ([n, classes]) into `probs` (resized to match), in double.
template <class T>
void softmax(const tensor<T>& logits, tensor<double>& probs) {
    const std::size_t n = logits.shape(0), classes = logits.shape(1);
    if (classes == 0) throw std::invalid_argument("gant: softmax needs at least one class");
    ensure_shape(probs, n, classes);
    for (std::size_t i = 0; i < n; ++i) detail::softmax_row(logits.data() + i * classes, classes, probs.data() + i * classes);
}

/// Mean softmax cross-entropy of `logits` ([n, classes]) against integer `labels` (n of them, each
/// < classes). When `dlogits` is not null it receives d(loss)/d(logits), resized to [n, classes].
/// Throws std::invalid_argument on a count mismatch or an out-of-range label.
template <class T>
double softmax_cross_entropy(const tensor<T>& logits, std::span<const std::uint8_t> labels, tensor<T>* dlogits = nullptr) {
    const std::size_t n = logits.shape(0), classes = logits.shape(1);
    if (labels.size() != n)
        throw std::invalid_argument("gant: softmax_cross_entropy: " + std::to_string(n) + " rows of logits but " +
                                    std::to_string(labels.size()) + " labels");
    if (n == 0) throw std::invalid_argument("gant: softmax_cross_entropy needs at least one sample");
    if (dlogits) ensure_shape(*dlogits, n, classes);
    std::vector<double> p(classes);
    double loss = 0.0;
    const double inv_n = 1.0 / static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t y = labels[i];
        if (y >= classes)
            throw std::invalid_argument("gant: softmax_cross_entropy: label " + std::to_string(y) + " of sample " +
                                        std::to_string(i) + " is not below the " + std::to_string(classes) +
                                        " classes");
        const T* z = logits.data() + i * classes;
        const double log_sum = detail::softmax_row(z, classes, p.data());
        loss += log_sum - static_cast<double>(z[y]);
        if (dlogits) {
            T* d = dlogits->data() + i * classes;
            for (std::size_t c = 0; c < classes; ++c) d[c] = static_cast<T>((p[c] - (c == y ? 1.0 : 0.0)) * inv_n);
        }
    }
    return loss * inv_n;
}

}  // namespace gant::metrics
