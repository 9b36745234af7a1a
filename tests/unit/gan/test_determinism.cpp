#define BOOST_TEST_MODULE gant_determinism
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "gant/core/threads.hpp"
#include "gant/gan.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/wasserstein.hpp"

using namespace gant;

namespace {

// A small convolutional GAN: the critic's convolutions split each batch over the thread pool and
// reduce their weight gradients across workers, the part where thread scheduling could leak
// into the numbers.
using generator = sequential<dense<4, 49>, gant::tanh, reshape<image<1, 7, 7>>>;
using critic = sequential<conv2d<1, 3, 3, 2, 1>, layer_norm<3>, leaky_relu<>, conv2d<3, 4, 3, 2, 1>, leaky_relu<>,
                          flatten, dense<16, 1>>;
using topo = topology::custom<shape<4>, image<1, 7, 7>, generator, critic>;

/// The pool is grown to two threads once and never resized again: resizing a pool that has
/// already run parallel work crashes (thread_pool::resize starts the new workers with seen = 0
/// while generation_ is not 0, so they run the null job; reported to the owner of threads.hpp).
void use_two_threads() {
    if (num_threads() != 2) set_num_threads(2);
}

template <class Model>
std::vector<double> weights_after(std::size_t steps, std::uint64_t seed, bool sgd = false) {
    using T = typename Model::scalar;
    auto h = Model::default_hyper_parameters();
    if (sgd) {
        h.optimizer = optimizer_kind::sgd;
        h.lr_critic = h.lr_generator = 0.05;
    }
    h.batch = 10;
    h.n_critic = 2;
    h.ema = true;
    Model m(h, seed);
    rng data(seed, 99);
    for (std::size_t i = 0; i < steps; ++i)
        m.train_step([&](tensor<T>& b) {
            for (auto& v : b) v = T(std::tanh(data.normal()));
        });
    std::vector<double> w;
    auto take = [&](auto& net) {
        net.visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
        net.visit_buffers([&](auto& b) { w.insert(w.end(), b.value.begin(), b.value.end()); });
    };
    take(m.critic());
    take(m.generator());
    take(m.ema_generator());
    return w;
}

}  // namespace

// Different thread counts may round differently (the workers' gradient partial sums are added
// in another grouping), but only by rounding: in double, with plain SGD (Adam would turn the
// rounding noise of a gradient that is exactly 0 in theory, such as a Wasserstein critic's
// output bias, into full-size steps), the runs stay within rounding of each other.
// First in this file: it needs the process's initial single-threaded pool.
BOOST_AUTO_TEST_CASE(one_and_two_threads_agree_to_rounding) {
    using model = gan<topo, loss::wasserstein, lipschitz::gradient_penalty, growth::fixed, double>;
    BOOST_TEST_REQUIRE(num_threads() == 1u);
    const auto one = weights_after<model>(5, 9, true);
    use_two_threads();
    const auto two = weights_after<model>(5, 9, true);
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < one.size(); ++i) {
        diff += (one[i] - two[i]) * (one[i] - two[i]);
        norm += one[i] * one[i];
    }
    BOOST_TEST_MESSAGE("1 vs 2 threads, relative difference after 5 steps: " << std::sqrt(diff / norm));
    BOOST_TEST(std::sqrt(diff / norm) < 1e-12);
}

using families = std::tuple<gan<topo, loss::wasserstein, lipschitz::gradient_penalty>,
                            gan<topo, loss::wasserstein, lipschitz::wasserstein_div>,
                            gan<topo, loss::hinge, lipschitz::spectral_norm>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(two_threads_bit_identical, Model, families) {
    use_two_threads();
    BOOST_TEST_REQUIRE(num_threads() == 2u);
    const auto a = weights_after<Model>(20, 5), b = weights_after<Model>(20, 5), c = weights_after<Model>(20, 6);
    BOOST_TEST(a.size() == b.size());
    BOOST_TEST((a == b));  // bit-identical
    BOOST_TEST((a != c));
    for (double w : a) BOOST_TEST_REQUIRE(std::isfinite(w));
}
