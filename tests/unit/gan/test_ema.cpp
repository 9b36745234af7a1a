#define BOOST_TEST_MODULE gant_ema
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "gant/gan.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/topology/mlp.hpp"

using namespace gant;

namespace {

// sample shape<2>, latent shape<3>
using toy = topology::mlp<shape<2>, shape<3>, 8, 2>;
template <class T>
using model = gan<toy, loss::non_saturating, lipschitz::none, growth::fixed, T>;

template <class Net>
std::vector<double> flat(Net& net) {
    std::vector<double> w;
    net.visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    return w;
}

template <class Model>
void step(Model& m, rng& data) {
    m.train_step([&](tensor<typename Model::scalar>& b) {
        for (auto& v : b) v = typename Model::scalar(data.normal(0.5, 1.0));
    });
}

/// A gan with EMA on at `decay`, batch 8.
template <class T>
model<T> averaging_model(double decay, std::uint64_t seed) {
    auto h = model<T>::default_hyper_parameters();
    h.batch = 8;
    h.ema = true;
    h.ema_decay = decay;
    return model<T>(h, seed);
}

template <class T>
tensor<T> latent_codes(std::size_t n, std::size_t size, std::uint64_t seed) {
    rng r(seed, 0);
    tensor<T> z({n, size});
    for (auto& v : z) v = T(r.normal());
    return z;
}

/// e_k = d^k w_0 + sum_{t=1..k} (1 - d) d^(k-t) w_t: the recursion e_t = d e_(t-1) + (1 - d) w_t
/// from e_0 = w_0, unrolled.
std::vector<double> closed_form(const std::vector<std::vector<double>>& trajectory, double d) {
    const std::size_t k = trajectory.size() - 1;
    std::vector<double> e(trajectory[0].size(), 0.0);
    for (std::size_t t = 0; t <= k; ++t) {
        const double weight = t == 0 ? std::pow(d, double(k)) : (1 - d) * std::pow(d, double(k - t));
        for (std::size_t i = 0; i < e.size(); ++i) e[i] += weight * trajectory[t][i];
    }
    return e;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        norm += b[i] * b[i];
    }
    return std::sqrt(diff / norm);
}

template <class T>
void check_closed_form(double tolerance) {
    auto h = model<T>::default_hyper_parameters();
    h.batch = 8;
    h.ema = true;
    h.ema_decay = 0.8;  // far from 1, so every step's weight is visible in the average
    model<T> m(h, 2);
    rng data(2, 7);
    std::vector<std::vector<double>> trajectory{flat(m.generator())};
    BOOST_TEST((flat(m.ema_generator()) == trajectory[0]));  // the average starts at the weights
    for (int t = 0; t < 7; ++t) {
        step(m, data);
        trajectory.push_back(flat(m.generator()));
    }
    const auto expected = closed_form(trajectory, 0.8);
    const auto ema = flat(m.ema_generator());
    BOOST_TEST(relative_difference(ema, expected) < tolerance);
    BOOST_TEST(relative_difference(ema, trajectory.back()) > 1e-3);  // and it is not the weights

    // Samples come from the EMA network.
    const tensor<T> z = latent_codes<T>(5, 3, 9);
    const tensor<T> sample = m.generate(z);
    BOOST_TEST((sample == m.ema_generator().forward(z)));
    BOOST_TEST((sample != m.generator().forward(z)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ema_off_samples_come_from_the_generator) {
    auto h = model<float>::default_hyper_parameters();
    h.batch = 8;
    BOOST_TEST(!h.ema);             // off unless asked for
    BOOST_TEST(h.ema_decay == 0.999);  // PGGAN's G_smoothing
    model<float> m(h, 1);
    const auto initial = flat(m.generator());
    rng data(1, 7);
    for (int i = 0; i < 3; ++i) step(m, data);
    const tensor<float> z = latent_codes<float>(6, 3, 4);
    const tensor<float> sample = m.generate(z);
    BOOST_TEST((sample == m.generator().forward(z)));
    BOOST_TEST((flat(m.generator()) != initial));
    // Off, there is no average (no second generator's memory): samples come from the generator.
    BOOST_TEST(&m.ema_generator() == &m.generator());

    rng r(5, 5);
    const tensor<float>& drawn = m.sample(4, r);
    BOOST_TEST(drawn.shape(0) == 4u);
    BOOST_TEST(drawn.shape(1) == 2u);
}

BOOST_AUTO_TEST_CASE(ema_on_matches_the_closed_form_double) { check_closed_form<double>(1e-13); }
BOOST_AUTO_TEST_CASE(ema_on_matches_the_closed_form_float) { check_closed_form<float>(1e-6); }

BOOST_AUTO_TEST_CASE(decay_zero_is_the_weights) {
    model<float> m = averaging_model<float>(0.0, 3);
    rng data(3, 7);
    for (int i = 0; i < 4; ++i) {
        step(m, data);
        BOOST_TEST((flat(m.ema_generator()) == flat(m.generator())));
    }
}

// Switched on at run time, the average starts from the weights of that moment: the initial
// random weights must not linger in it (with decay 0.999 they would dominate for thousands of
// steps).
BOOST_AUTO_TEST_CASE(switched_on_at_run_time) {
    auto h = model<double>::default_hyper_parameters();
    h.batch = 8;
    model<double> m(h, 4);
    rng data(4, 7);
    for (int i = 0; i < 3; ++i) step(m, data);
    h.ema = true;
    h.ema_decay = 0.5;
    m.set_hyper_parameters(h);
    std::vector<std::vector<double>> trajectory{flat(m.generator())};
    BOOST_TEST((flat(m.ema_generator()) == trajectory[0]));
    for (int i = 0; i < 3; ++i) {
        step(m, data);
        trajectory.push_back(flat(m.generator()));
    }
    BOOST_TEST(relative_difference(flat(m.ema_generator()), closed_form(trajectory, 0.5)) < 1e-13);

    // Changing the decay while on keeps the average running.
    const auto before = flat(m.ema_generator());
    h.ema_decay = 0.9;
    m.set_hyper_parameters(h);
    BOOST_TEST((flat(m.ema_generator()) == before));
}

// Switched off, the average is freed; switched on again, it starts afresh from the weights of
// that moment, not from where it stood when it was switched off.
BOOST_AUTO_TEST_CASE(switched_off_and_on_again) {
    model<double> m = averaging_model<double>(0.5, 9);
    auto h = m.hyper();
    rng data(9, 7);
    for (int i = 0; i < 3; ++i) step(m, data);
    BOOST_TEST(&m.ema_generator() != &m.generator());
    BOOST_TEST((flat(m.ema_generator()) != flat(m.generator())));

    h.ema = false;
    m.set_hyper_parameters(h);
    BOOST_TEST(&m.ema_generator() == &m.generator());
    for (int i = 0; i < 2; ++i) step(m, data);  // no average to update while off

    h.ema = true;
    m.set_hyper_parameters(h);
    BOOST_TEST(&m.ema_generator() != &m.generator());
    BOOST_TEST((flat(m.ema_generator()) == flat(m.generator())));
    std::vector<std::vector<double>> trajectory{flat(m.generator())};
    for (int i = 0; i < 2; ++i) {
        step(m, data);
        trajectory.push_back(flat(m.generator()));
    }
    BOOST_TEST(relative_difference(flat(m.ema_generator()), closed_form(trajectory, 0.5)) < 1e-13);
}

// gant::ema on its own: no average until reset(), none after release(), and its copies are deep.
BOOST_AUTO_TEST_CASE(ema_holds_an_average_only_between_reset_and_release) {
    using net = model<double>::generator_type;
    net source;
    rng init(2, 1);
    source.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = init.normal();
    });
    ema<net> average;
    BOOST_TEST(!average.active());
    BOOST_CHECK_THROW(average.network(), std::logic_error);
    BOOST_CHECK_THROW(average.update(source, 0.5), std::logic_error);

    average.reset(source);
    BOOST_TEST(average.active());
    BOOST_TEST((flat(average.network()) == flat(source)));
    ema<net> copy = average;
    BOOST_TEST(&copy.network() != &average.network());
    const auto start = flat(source);
    source.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v += 1.0;
    });
    average.update(source, 0.5);
    BOOST_TEST((flat(copy.network()) == start));  // the copy kept its own average
    auto expected = start;
    for (auto& v : expected) v += 0.5;
    BOOST_TEST(relative_difference(flat(average.network()), expected) < 1e-15);

    ema<net> moved = std::move(average);
    moved.update(source, 0.5);  // the pointer tables moved with the average
    for (auto& v : expected) v += 0.25;
    BOOST_TEST(relative_difference(flat(moved.network()), expected) < 1e-15);

    moved.release();
    BOOST_TEST(!moved.active());
    BOOST_CHECK_THROW(moved.update(source, 0.5), std::logic_error);
    copy = moved;  // assigning an empty one empties
    BOOST_TEST(!copy.active());
}

// Buffers (batch-norm running statistics) are copied, not averaged.
BOOST_AUTO_TEST_CASE(buffers_are_copied) {
    using generator = sequential<dense<3, 6>, batch_norm<6>, relu, dense<6, 2>>;
    using critic = sequential<dense<2, 8>, leaky_relu<>, dense<8, 1>>;
    using topo = topology::custom<shape<3>, shape<2>, generator, critic>;
    using bn_model = gan<topo, loss::non_saturating>;
    auto h = bn_model::default_hyper_parameters();
    h.batch = 8;
    h.ema = true;
    h.ema_decay = 0.9;
    bn_model m(h, 5);
    rng data(5, 7);
    for (int i = 0; i < 3; ++i) step(m, data);
    std::vector<float> g, e;
    m.generator().visit_buffers([&](buffer<float>& b) { g.insert(g.end(), b.value.begin(), b.value.end()); });
    m.ema_generator().visit_buffers([&](buffer<float>& b) { e.insert(e.end(), b.value.begin(), b.value.end()); });
    BOOST_TEST(g.size() == 12u);
    BOOST_TEST((g == e));
    BOOST_TEST((flat(m.generator()) != flat(m.ema_generator())));
}

// Drawing samples between steps must not change training: with a spectrally normalised
// generator, a training-mode forward would advance the power iteration of the generator itself
// (EMA off) and so change the next step.
BOOST_AUTO_TEST_CASE(sampling_does_not_change_training) {
    using generator = lipschitz::spectrally_normalised<sequential<dense<3, 8>, relu, dense<8, 2>>>;
    using critic = sequential<dense<2, 8>, leaky_relu<>, dense<8, 1>>;
    using topo = topology::custom<shape<3>, shape<2>, generator, critic>;
    using sn_model = gan<topo, loss::hinge, lipschitz::spectral_norm>;
    for (bool ema : {false, true}) {
        auto run = [&](bool sample_between) {
            auto h = sn_model::default_hyper_parameters();
            h.batch = 8;
            h.ema = ema;
            sn_model m(h, 6);
            rng data(6, 7), sampler(6, 8);
            for (int i = 0; i < 4; ++i) {
                step(m, data);
                if (sample_between) m.sample(16, sampler);
            }
            std::vector<float> state;
            m.generator().visit_buffers([&](buffer<float>& b) { state.insert(state.end(), b.value.begin(), b.value.end()); });
            for (double w : flat(m.generator())) state.push_back(float(w));
            return state;
        };
        BOOST_TEST_INFO("ema " << ema);
        BOOST_TEST((run(true) == run(false)));
    }
}
