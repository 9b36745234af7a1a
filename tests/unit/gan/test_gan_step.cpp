#define BOOST_TEST_MODULE gant_gan_step
#include <boost/test/unit_test.hpp>

#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/mlp.hpp"

using namespace gant;
using toy = topology::mlp<shape<2>, shape<2>, 16, 2>;

// Trains m for `steps` steps on normal noise drawn from `seed`; returns the critic's weights,
// then the generator's.
template <class Model>
std::vector<double> trained_weights(Model& m, std::size_t steps, std::uint64_t seed) {
    rng data(seed, 99);
    for (std::size_t i = 0; i < steps; ++i)
        m.train_step([&](tensor<typename Model::scalar>& b) {
            for (auto& v : b) v = typename Model::scalar(data.normal());
        });
    std::vector<double> w;
    m.critic().visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    m.generator().visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    m.ema_generator().visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    return w;
}

template <class Model>
std::vector<double> weights_after(std::size_t steps, std::uint64_t seed) {
    auto h = Model::default_hyper_parameters();
    h.batch = 16;
    Model m(h, seed);
    return trained_weights(m, steps, seed);
}

using families = std::tuple<gan<toy, loss::non_saturating>, gan<toy, loss::minimax>, gan<toy, loss::least_squares>,
                            gan<toy, loss::wasserstein, lipschitz::weight_clip>,
                            gan<toy, loss::wasserstein, lipschitz::gradient_penalty>,
                            gan<toy, loss::wasserstein, lipschitz::wasserstein_div>,
                            gan<toy, loss::hinge, lipschitz::spectral_norm>>;

BOOST_AUTO_TEST_CASE_TEMPLATE(deterministic_for_a_seed, Model, families) {
    const auto a = weights_after<Model>(20, 5), b = weights_after<Model>(20, 5), c = weights_after<Model>(20, 6);
    BOOST_TEST(a.size() == b.size());
    BOOST_TEST((a == b));  // bit-identical
    BOOST_TEST((a != c));
}

// The generator works in the critic's adjoint buffers (nn/sequential.hpp, reverse_buffers): the
// weights after a few steps are those of a gan whose generator has a set of its own, bit for bit.
BOOST_AUTO_TEST_CASE_TEMPLATE(generator_works_in_the_critics_reverse_buffers, Model, families) {
    auto h = Model::default_hyper_parameters();
    h.batch = 16;
    h.ema = true;  // the EMA copy keeps a set of its own
    Model shared(h, 5), separate(h, 5);
    BOOST_TEST(shared.generator().shares_reverse_buffers_with(shared.critic()));
    BOOST_TEST(!shared.ema_generator().shares_reverse_buffers_with(shared.generator()));
    typename Model::generator_type other;  // gives the separate gan's generator a set of its own
    separate.generator().share_reverse_buffers(other);
    BOOST_TEST(!separate.generator().shares_reverse_buffers_with(separate.critic()));
    BOOST_TEST((trained_weights(shared, 4, 5) == trained_weights(separate, 4, 5)));
}

BOOST_AUTO_TEST_CASE(weight_clip_bounds_critic) {
    using model = gan<toy, loss::wasserstein, lipschitz::weight_clip>;
    auto h = model::default_hyper_parameters();
    h.batch = 8;
    model m(h, 1);
    rng data(1, 1);
    m.train_step([&](tensor<float>& b) { for (auto& v : b) v = float(data.normal()); });
    m.critic().visit_parameters([&](auto& p) {
        for (auto v : p.value) BOOST_TEST(std::abs(v) <= 0.01f);
    });
    BOOST_TEST((h.optimizer == optimizer_kind::rmsprop));
    BOOST_TEST(h.n_critic == 5u);
}

BOOST_AUTO_TEST_CASE(stats_are_reported) {
    using model = gan<toy, loss::wasserstein, lipschitz::gradient_penalty>;
    auto h = model::default_hyper_parameters();
    h.batch = 8;
    model m(h, 1);
    rng data(1, 1);
    const auto& s = m.train_step([&](tensor<float>& b) { for (auto& v : b) v = float(data.normal()); });
    BOOST_TEST(s.step == 1u);
    BOOST_TEST(s.penalty > 0.0);
    BOOST_TEST(s.input_grad_norm > 0.0);
    BOOST_TEST(std::isfinite(s.wasserstein_estimate));
    BOOST_TEST(s.critic_weight_norm > 0.0);
}

BOOST_AUTO_TEST_CASE(nan_in_data_stops_with_a_sentence) {
    using model = gan<toy, loss::non_saturating>;
    auto h = model::default_hyper_parameters();
    h.batch = 4;
    model m(h, 1);
    try {
        m.train_step([&](tensor<float>& b) { for (auto& v : b) v = std::numeric_limits<float>::quiet_NaN(); });
        BOOST_FAIL("expected a training_error");
    } catch (const training_error& e) {
        BOOST_TEST(std::string(e.what()).find("step 1") != std::string::npos);
    }
}

// A learning rate that is finite in double but overflows float makes every generator weight
// infinite or NaN while the losses and gradients of that step stay finite: the weight-norm guard
// must stop the step (it is not counted) instead of letting a NaN model be saved or sampled.
BOOST_AUTO_TEST_CASE(nonfinite_weights_after_an_update_stop_the_step) {
    using model = gan<toy, loss::non_saturating>;
    auto h = model::default_hyper_parameters();
    h.batch = 4;
    h.lr_generator = 1e300;
    model m(h, 1);
    rng data(1, 1);
    try {
        m.train_step([&](tensor<float>& b) { for (auto& v : b) v = float(data.normal()); });
        BOOST_FAIL("expected a training_error");
    } catch (const training_error& e) {
        const std::string what = e.what();
        BOOST_TEST_INFO(what);
        BOOST_TEST(what.find("step 1: the generator's weight norm is") != std::string::npos);
    }
    BOOST_TEST(m.step() == 0u);  // the failed step was not counted
}

// check(hyper_parameters): each field out of its range (NaN included) is refused with a sentence
// naming it, by the constructor and by set_hyper_parameters, which then changes nothing.
BOOST_AUTO_TEST_CASE(hyper_parameters_out_of_range_are_refused) {
    using model = gan<toy, loss::non_saturating>;
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    struct bad_case {
        const char* field;
        void (*spoil)(hyper_parameters&, double, double);
    };
    const bad_case cases[] = {
        {"batch", [](hyper_parameters& h, double, double) { h.batch = 0; }},
        {"batch", [](hyper_parameters& h, double, double) { h.batch = std::size_t{1} << 63; }},
        {"n_critic", [](hyper_parameters& h, double, double) { h.n_critic = 0; }},
        {"n_critic", [](hyper_parameters& h, double, double) { h.n_critic = std::size_t{1} << 40; }},
        {"optimizer", [](hyper_parameters& h, double, double) { h.optimizer = static_cast<optimizer_kind>(7); }},
        {"lr_generator", [](hyper_parameters& h, double, double i) { h.lr_generator = i; }},
        {"lr_critic", [](hyper_parameters& h, double n, double) { h.lr_critic = n; }},
        {"lr_critic", [](hyper_parameters& h, double, double) { h.lr_critic = -1e-4; }},
        {"beta1", [](hyper_parameters& h, double n, double) { h.beta1 = n; }},
        {"beta2", [](hyper_parameters& h, double, double) { h.beta2 = 1.0; }},
        {"rmsprop_alpha", [](hyper_parameters& h, double, double) { h.rmsprop_alpha = -0.1; }},
        {"momentum", [](hyper_parameters& h, double, double i) { h.momentum = i; }},
        {"ema_decay", [](hyper_parameters& h, double n, double) { h.ema_decay = n; }},
        {"eps", [](hyper_parameters& h, double, double) { h.eps = 0; }},
        {"eps", [](hyper_parameters& h, double, double i) { h.eps = i; }},
    };
    const hyper_parameters good = model::default_hyper_parameters();
    BOOST_CHECK_NO_THROW(check(good));
    model m(good, 1);
    for (const auto& c : cases) {
        hyper_parameters h = good;
        c.spoil(h, nan, inf);
        const std::string expected = std::string("hyper_parameters.") + c.field + " is ";
        for (int use = 0; use < 2; ++use) {
            try {
                if (use == 0) model refused(h, 1);
                else m.set_hyper_parameters(h);
                BOOST_ERROR("hyper_parameters." << c.field << " out of range was accepted");
            } catch (const std::invalid_argument& e) {
                BOOST_TEST_INFO(e.what());
                BOOST_TEST(std::string(e.what()).find(expected) != std::string::npos);
            }
        }
        BOOST_TEST(m.hyper().batch == good.batch);  // unchanged by the refused set_hyper_parameters
        BOOST_TEST(m.hyper().lr_critic == good.lr_critic);
        BOOST_TEST(m.hyper().eps == good.eps);
    }
}

// topology::mlp on images: the generator ends in the image shape, the critic reads its pixels.
BOOST_AUTO_TEST_CASE(mlp_topology_generates_images) {
    using images = topology::mlp<image<1, 6, 5>, shape<4>, 16, 2, relu, leaky_relu<>, gant::tanh>;
    using model = gan<images, loss::non_saturating>;
    static_assert(std::is_same_v<model::generator_type::output_shape, image<1, 6, 5>>);
    auto h = model::default_hyper_parameters();
    h.batch = 8;
    model m(h, 3);
    rng data(3, 1);
    const step_stats& s = m.train_step([&](tensor<float>& b) {
        for (auto& v : b) v = float(std::tanh(data.normal()));
    });
    BOOST_TEST(std::isfinite(s.critic_loss));
    BOOST_TEST(std::isfinite(s.generator_loss));
    const tensor<float>& x = m.sample(4, data);
    BOOST_TEST(x.shape(1) == 30u);
    for (float v : x) BOOST_TEST(std::abs(v) <= 1.0f);
}

namespace {

// Spoils one policy magnitude of a fresh model, expects train_step to refuse it with `sentence`
// before changing anything, then restores the value and expects a step to train.
template <class Model, class Spoil, class Restore>
void refused_magnitude(Spoil spoil, Restore restore, const std::string& sentence) {
    auto h = Model::default_hyper_parameters();
    h.batch = 4;
    h.n_critic = 1;
    Model m(h, 3);
    rng data(3, 3);
    auto source = [&](tensor<float>& b) { for (auto& v : b) v = float(data.normal()); };
    const auto before = [&] {
        std::vector<double> w;
        m.critic().visit_parameters([&](auto& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
        return w;
    }();
    spoil(m);
    try {
        m.train_step(source);
        BOOST_ERROR("accepted: " << sentence);
    } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()) == sentence);
    }
    BOOST_TEST(m.step() == 0u);
    std::vector<double> after;
    m.critic().visit_parameters([&](auto& p) { after.insert(after.end(), p.value.begin(), p.value.end()); });
    BOOST_TEST((after == before));  // refused before anything changed
    restore(m);
    m.train_step(source);
    BOOST_TEST(m.step() == 1u);
}

}  // namespace

// Policy magnitudes are public fields: a value outside its meaning is refused by train_step with
// a sentence naming it, whichever policy holds it.
BOOST_AUTO_TEST_CASE(policy_magnitudes_out_of_range_are_refused) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    using gp = gan<toy, loss::wasserstein, lipschitz::gradient_penalty>;
    refused_magnitude<gp>([](gp& m) { m.lipschitz().p.lambda = -1; }, [](gp& m) { m.lipschitz().p.lambda = 10; },
                          "gant: gradient_penalty.p.lambda is -1, but it must be finite and >= 0");
    refused_magnitude<gp>([&](gp& m) { m.lipschitz().p.lambda = nan; }, [](gp& m) { m.lipschitz().p.lambda = 0; },
                          "gant: gradient_penalty.p.lambda is nan, but it must be finite and >= 0");
    refused_magnitude<gp>([&](gp& m) { m.lipschitz().p.target = inf; }, [](gp& m) { m.lipschitz().p.target = 1; },
                          "gant: gradient_penalty.p.target is inf, but it must be finite and >= 0 (a norm)");
    refused_magnitude<gp>([](gp& m) { m.loss().p.drift = -0.001; }, [](gp& m) { m.loss().p.drift = 0.001; },
                          "gant: wasserstein.p.drift is -0.001, but it must be finite and >= 0");
    using clip = gan<toy, loss::wasserstein, lipschitz::weight_clip>;
    refused_magnitude<clip>([](clip& m) { m.lipschitz().p.clip = 0; }, [](clip& m) { m.lipschitz().p.clip = 0.01; },
                            "gant: weight_clip.p.clip is 0, but it must be finite and > 0");
    using div = gan<toy, loss::wasserstein, lipschitz::wasserstein_div>;
    refused_magnitude<div>([](div& m) { m.lipschitz().p.p = 0.5; }, [](div& m) { m.lipschitz().p.p = 6; },
                           "gant: wasserstein_div.p.p is 0.5, but it must be finite and >= 1");
    refused_magnitude<div>([](div& m) { m.lipschitz().p.k = -2; }, [](div& m) { m.lipschitz().p.k = 2; },
                           "gant: wasserstein_div.p.k is -2, but it must be finite and >= 0");
    using hinge = gan<toy, loss::hinge, lipschitz::spectral_norm>;
    refused_magnitude<hinge>([&](hinge& m) { m.loss().p.margin = nan; }, [](hinge& m) { m.loss().p.margin = 1; },
                             "gant: hinge.p.margin is nan, but it must be finite and >= 0");
    using ls = gan<toy, loss::least_squares>;
    refused_magnitude<ls>([&](ls& m) { m.loss().p.b = -inf; }, [](ls& m) { m.loss().p.b = 1; },
                          "gant: least_squares.p.b is -inf, but it must be finite");
}
