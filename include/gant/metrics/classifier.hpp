#pragma once
// The feature extractor behind gant's image metrics: a small CNN for 28x28 grayscale images,
// built from gant's own layers and trained on Fashion-MNIST (examples/eval/train_classifier.cpp).
//
// FID proper needs Inception-v3 weights, which gant cannot ship. For MNIST-like data the accepted
// substitute is the same metrics in the feature space of a classifier trained on the dataset
// (algorithms.md section 9): the numbers are meaningful for comparing models scored with the
// same extractor and the same N, and are NOT comparable with Inception-based values in papers.
//
//   trunk:  conv 3x3 1->32, relu, avgpool 2x2    28x28 -> 14x14
//           conv 3x3 32->64, relu, avgpool 2x2   14x14 -> 7x7
//           flatten, dense 3136->128, relu       the 128-d feature space of the metrics
//   head:   dense 128->10                         class logits (softmax: p(y|x))
//
// The trunk and head are two networks so the penultimate activations are simply the trunk's
// output. Images are rows of [-1, 1] values (the mapping of data/idx.hpp), as GAN samples are.
//
// The weights ship as models/fashion_classifier.gant in gant's checkpoint format
// (train/checkpoint.hpp), with the test accuracy and the command that produced them as extra
// records; save_classifier / load_classifier are the only places that touch the file format.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "gant/core/context.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/data/dataset.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/resample.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/metrics/cross_entropy.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/optim/adam.hpp"
#include "gant/optim/init.hpp"
#include "gant/train/checkpoint.hpp"
#include "gant/train/gan_state.hpp"

namespace gant::metrics {

using classifier_input = image<1, 28, 28>;
inline constexpr std::size_t classifier_classes = 10;
inline constexpr std::size_t feature_dims = 128;

/// Image -> the 128-d feature space.
using classifier_trunk = sequential<conv2d<1, 32, 3, 1, 1>, relu, avg_pool2x,   //
                                    conv2d<32, 64, 3, 1, 1>, relu, avg_pool2x,  //
                                    flatten, dense<64 * 7 * 7, feature_dims>, relu>;
/// Features -> class logits.
using classifier_head = sequential<dense<feature_dims, classifier_classes>>;

/// What a classifier file records about its weights besides the weights themselves.
struct classifier_info {
    double test_accuracy = 0.0;  // fraction of the 10,000 test images classified correctly
    std::string command;         // the command line that trained the weights
};

template <class T = float>
class classifier {
public:
    using scalar = T;
    using trunk_type = typename classifier_trunk::template impl<classifier_input, T, backend::cpu>;
    using head_type = typename classifier_head::template impl<shape<feature_dims>, T, backend::cpu>;
    static constexpr std::size_t input_size = classifier_input::size;

    /// He-normal weights for the ReLU layers, zero biases (the head uses the same rule: its scale
    /// only sets the initial logit spread).
    void initialize(rng& r) {
        init::apply(trunk_, init::kaiming{}, r);
        init::apply(head_, init::kaiming{}, r);
    }

    trunk_type& trunk() { return trunk_; }
    head_type& head() { return head_; }

    template <class F>
    void visit_parameters(F&& f) {
        trunk_.visit_parameters(f);
        head_.visit_parameters(f);
    }
    template <class F>
    void visit_buffers(F&& f) {
        trunk_.visit_buffers(f);
        head_.visit_buffers(f);
    }
    std::size_t parameter_count() { return trunk_.parameter_count() + head_.parameter_count(); }

    /// Logits of a batch ([n, 784] -> [n, 10]); features() then holds its [n, 128] features.
    const tensor<T>& forward(const tensor<T>& images, const pass_context& ctx = {}) {
        return head_.forward(trunk_.forward(images, ctx), ctx);
    }
    const tensor<T>& features() const { return trunk_.output(); }
    const tensor<T>& logits() const { return head_.output(); }

    /// Accumulates parameter gradients for d(loss)/d(logits) of the last forward.
    void backward(const tensor<T>& dlogits, const pass_context& ctx = {}) {
        head_.backward(dlogits, &dfeatures_, true, ctx);
        trunk_.backward(dfeatures_, nullptr, true, ctx);
    }

    /// One Adam step on the mean softmax cross-entropy of a labelled batch; returns the loss.
    template <class Optimizer>
    double train_step(const tensor<T>& images, std::span<const std::uint8_t> labels, Optimizer& opt,
                      const pass_context& ctx = {}) {
        trunk_.zero_grad();
        head_.zero_grad();
        const double loss = softmax_cross_entropy(forward(images, ctx), labels, &dlogits_);
        backward(dlogits_, ctx);
        opt.step(*this);
        return loss;
    }

    /// Features and/or logits of any number of images, `batch` at a time (inference mode). Either
    /// output may be null; those given are resized to [n, 128] and [n, 10].
    void embed(const tensor<T>& images, tensor<T>* features_out, tensor<T>* logits_out, std::size_t batch = 256,
               pass_context ctx = {}) {
        require_features(images, input_size, "the classifier input");
        ctx.mode = mode::inference;
        const std::size_t n = images.shape(0);
        if (features_out) ensure_shape(*features_out, n, feature_dims);
        if (logits_out) ensure_shape(*logits_out, n, classifier_classes);
        if (batch == 0) batch = 256;
        for (std::size_t first = 0; first < n; first += batch) {
            const std::size_t count = std::min(batch, n - first);
            ensure_shape(chunk_, count, input_size);
            std::copy_n(images.data() + first * input_size, count * input_size, chunk_.data());
            const tensor<T>& z = forward(chunk_, ctx);
            if (features_out)
                std::copy_n(features().data(), count * feature_dims, features_out->data() + first * feature_dims);
            if (logits_out)
                std::copy_n(z.data(), count * classifier_classes, logits_out->data() + first * classifier_classes);
        }
    }

private:
    trunk_type trunk_;
    head_type head_;
    tensor<T> dlogits_, dfeatures_, chunk_;
};

/// The index of the largest logit of each row.
template <class T>
std::vector<std::uint8_t> predicted_classes(const tensor<T>& logits) {
    const std::size_t n = logits.shape(0), classes = logits.shape(1);
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const T* z = logits.data() + i * classes;
        std::size_t best = 0;
        for (std::size_t c = 1; c < classes; ++c)
            if (z[c] > z[best]) best = c;
        out[i] = static_cast<std::uint8_t>(best);
    }
    return out;
}

/// Fraction of a labelled dataset the classifier gets right.
template <class T>
double accuracy(classifier<T>& clf, const data::image_dataset<T>& data, std::size_t batch = 256) {
    if (!data.has_labels()) throw std::invalid_argument("gant: accuracy needs a labelled dataset");
    if (data.size() == 0) throw std::invalid_argument("gant: accuracy needs at least one image");
    tensor<T> logits;
    clf.embed(data.images(), nullptr, &logits, batch);
    const auto predicted = predicted_classes(logits);
    std::size_t right = 0;
    for (std::size_t i = 0; i < predicted.size(); ++i) right += predicted[i] == data.labels()[i];
    return static_cast<double>(right) / static_cast<double>(predicted.size());
}

/// Training-time augmentation, in place on a batch of 28x28 images in [-1, 1]: each image is
/// mirrored left-right with probability 1/2 (when `flip`) and shifted by up to `max_shift` pixels
/// on each axis (uncovered pixels become background, -1). Deterministic given the generator.
template <class T>
void augment(tensor<T>& images, rng& r, std::size_t max_shift = 2, bool flip_too = true) {
    constexpr std::size_t side = 28;
    require_features(images, side * side, "augment");
    T tmp[side * side];
    const std::size_t choices = 2 * max_shift + 1;
    for (std::size_t s = 0, n = images.shape(0); s < n; ++s) {
        T* img = images.data() + s * side * side;
        const bool flip = flip_too && r.below(2) == 1;
        const std::ptrdiff_t dy = static_cast<std::ptrdiff_t>(r.below(choices)) - static_cast<std::ptrdiff_t>(max_shift);
        const std::ptrdiff_t dx = static_cast<std::ptrdiff_t>(r.below(choices)) - static_cast<std::ptrdiff_t>(max_shift);
        for (std::ptrdiff_t y = 0; y < std::ptrdiff_t(side); ++y)
            for (std::ptrdiff_t x = 0; x < std::ptrdiff_t(side); ++x) {
                const std::ptrdiff_t sy = y - dy, sx0 = x - dx;
                const std::ptrdiff_t sx = flip ? std::ptrdiff_t(side) - 1 - sx0 : sx0;
                const bool inside = sy >= 0 && sy < std::ptrdiff_t(side) && sx >= 0 && sx < std::ptrdiff_t(side);
                tmp[y * side + x] = inside ? img[sy * side + sx] : T(-1);
            }
        std::copy_n(tmp, side * side, img);
    }
}

// ---- the weights file ----------------------------------------------------------------------

namespace detail {

// The file is a gant checkpoint (train/checkpoint.hpp): a configuration record naming every layer
// and tensor shape, the trunk's and head's tensors as "trunk/<layer>/<name>", "head/<layer>/<name>",
// and extra records "extra/test_accuracy" and "extra/command". The network mapping is the one
// export_generator uses (train/gan_state.hpp), so a load checks the whole file before it copies.
template <class T>
checkpoint::detail::state_layout<T> describe_classifier(classifier<T>& clf) {
    checkpoint::detail::state_layout<T> out;
    out.config = {{"kind", "feature classifier"},
                  {"scalar type", checkpoint::detail::scalar_name<T>()},
                  {"input shape", classifier_input::to_string()},
                  {"features", std::to_string(feature_dims)},
                  {"classes", std::to_string(classifier_classes)}};
    checkpoint::detail::describe_network(clf.trunk(), "trunk", "trunk", out, true);
    checkpoint::detail::describe_network(clf.head(), "head", "head", out, true);
    return out;
}

}  // namespace detail

/// Writes the classifier's weights and `info` to `file` (atomically). Throws checkpoint_error, or
/// training_error (nothing written) when a weight is a NaN or an infinity, which load_classifier
/// would refuse.
template <class T>
void save_classifier(classifier<T>& clf, const std::filesystem::path& file, const classifier_info& info) {
    auto layout = detail::describe_classifier(clf);
    checkpoint_extra extra;
    extra.set_f64("test_accuracy", info.test_accuracy);
    extra.set_string("command", info.command);
    checkpoint::writer w;
    checkpoint::detail::add_layout(w, layout, "gant: the classifier");
    extra.add_to(w, "extra/");
    w.write(file);
}

/// Loads weights written by save_classifier; returns what the file records about them. On any
/// error (checkpoint_error: one sentence naming the file) `clf` is left as it was.
template <class T>
classifier_info load_classifier(classifier<T>& clf, const std::filesystem::path& file) {
    const checkpoint::reader r(file);
    auto layout = detail::describe_classifier(clf);
    auto v = checkpoint::detail::validate(r, layout, {}, true);
    classifier_info info;
    if (v.extra.contains("test_accuracy")) info.test_accuracy = v.extra.get_f64("test_accuracy");
    if (v.extra.contains("command")) info.command = v.extra.get_string("command");
    v.commit();
    return info;
}

/// Where the shipped weights are looked for, first match wins: $GANT_CLASSIFIER; the source tree
/// this header belongs to (models/fashion_classifier.gant); an installed tree
/// (<prefix>/share/gant/fashion_classifier.gant next to <prefix>/include). Returns the first
/// candidate that exists, or the source-tree path when none does (so the message names it).
inline std::filesystem::path default_classifier_path() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("GANT_CLASSIFIER"); env && *env) return env;
    // This header is <root>/include/gant/metrics/classifier.hpp in a source tree and
    // <prefix>/include/gant/metrics/classifier.hpp when installed.
    const fs::path root = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    const fs::path candidates[] = {root / "models" / "fashion_classifier.gant",
                                   root / "share" / "gant" / "fashion_classifier.gant"};
    std::error_code ec;
    for (const auto& c : candidates)
        if (fs::is_regular_file(c, ec)) return c;
    return candidates[0];
}

}  // namespace gant::metrics
