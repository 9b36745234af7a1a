// Progressive growing (PGGAN): the schedule, the fade-in of real images, the progressive
// networks' gradients and second-order rules at every level and mid-fade, the fade-in limits,
// and a gan<..., growth::progressive> that trains across level boundaries and resumes exactly.
#define BOOST_TEST_MODULE progressive
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

#include "gant/gan.hpp"
#include "gant/growth/progressive.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/progressive.hpp"
#include "gant/train/gan_state.hpp"
#include "support/gradcheck.hpp"

using namespace gant;

namespace {

// Three levels (4x4, 8x8, 16x16), tiny widths: every rule runs, finite differences stay cheap.
using small_topology = topology::progressive<image<1, 16, 16>, shape<5>, topology::widths<4, 4, 4>>;
using generator_net = small_topology::generator::impl<shape<5>, double, backend::cpu>;
using critic_net = small_topology::critic::impl<image<1, 16, 16>, double, backend::cpu>;

template <class Net>
void set_level(Net& net, std::size_t level, double alpha) {
    growth::set_phase(net, growth::phase_point{level, alpha, alpha < 1.0});
}

template <class Net>
void randomize(Net& net, std::uint64_t seed) {
    rng r(seed, 0);
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = 0.5 * r.normal();
    });
}

tensor<double> random_batch(std::size_t n, std::size_t f, std::uint64_t seed) {
    tensor<double> t = tensor<double>::from_shape({n, f});
    rng r(seed, 1);
    for (auto& v : t) v = r.normal();
    return t;
}

double max_abs_diff(const tensor<double>& a, const tensor<double>& b) {
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
    return m;
}

/// Perturbs every parameter of the child network called `name`.
template <class Net>
void perturb_child(Net& net, const std::string& name) {
    bool found = false;
    net.template layer<0>().visit_children([&](const std::string& child, auto& sub) {
        if (child != name) return;
        found = true;
        sub.visit_parameters([](parameter<double>& p) {
            for (auto& v : p.value) v += 0.3;
        });
    });
    BOOST_REQUIRE(found);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(levels_and_alpha_follow_the_image_count_exactly) {
    growth::progressive g;
    g.p.stabilise_images = 100;
    g.p.fade_images = 40;
    struct expected {
        std::uint64_t images;
        std::size_t level;
        double alpha;
        bool fading;
    };
    // level 0 for 100 images; level 1 fades over [100, 140), stabilises [140, 240); level 2 fades
    // [240, 280), then stays (last level of three).
    const std::vector<expected> table = {
        {0, 0, 1.0, false},   {99, 0, 1.0, false},    {100, 1, 0.0, true},    {110, 1, 0.25, true},
        {139, 1, 39.0 / 40, true}, {140, 1, 1.0, false}, {239, 1, 1.0, false}, {240, 2, 0.0, true},
        {270, 2, 0.75, true}, {280, 2, 1.0, false},   {100000, 2, 1.0, false}};
    for (const auto& e : table) {
        const growth::phase_point pt = g.at(e.images, 3);
        BOOST_TEST_CONTEXT("images " << e.images) {
            BOOST_TEST(pt.level == e.level);
            BOOST_TEST(pt.alpha == e.alpha);
            BOOST_TEST(pt.fading == e.fading);
        }
    }
    // One level: never grows. No fade length: levels switch at once.
    BOOST_TEST(g.at(1000, 1).level == 0u);
    g.p.fade_images = 0;
    BOOST_TEST(g.at(100, 3).level == 1u);
    BOOST_TEST(g.at(100, 3).alpha == 1.0);
    BOOST_TEST(g.at(200, 3).level == 2u);
}

BOOST_AUTO_TEST_CASE(real_images_fade_like_the_generator) {
    constexpr std::size_t R = 16;
    const tensor<double> x = random_batch(2, R * R, 7);
    tensor<double> a, b, level1, level2_alpha0, level2_alpha1, level2_half, full;
    auto faded = [&](std::size_t level, double alpha) {
        tensor<double> t = x;
        growth::fade_real_images<image<1, R, R>>(t, growth::phase_point{level, alpha, alpha < 1}, 3, a, b);
        return t;
    };
    level1 = faded(1, 1.0);
    level2_alpha0 = faded(2, 0.0);
    level2_alpha1 = faded(2, 1.0);
    level2_half = faded(2, 0.5);
    full = x;
    // alpha 0 at level 2 is level 1's image; alpha 1 at the last level is the image itself.
    BOOST_TEST(max_abs_diff(level2_alpha0, level1) < 1e-14);
    BOOST_TEST(max_abs_diff(level2_alpha1, full) == 0.0);
    tensor<double> mid = level1;
    for (std::size_t i = 0; i < mid.size(); ++i) mid.data()[i] = 0.5 * level1.data()[i] + 0.5 * full.data()[i];
    BOOST_TEST(max_abs_diff(level2_half, mid) < 1e-14);
    // Level 1 (8x8) is constant on 2x2 blocks and holds the blocks' means.
    for (std::size_t i = 0; i < R; i += 2)
        for (std::size_t j = 0; j < R; j += 2) {
            const double mean = (x(0, i * R + j) + x(0, i * R + j + 1) + x(0, (i + 1) * R + j) + x(0, (i + 1) * R + j + 1)) / 4;
            BOOST_TEST(std::abs(level1(0, i * R + j) - mean) < 1e-14);
            BOOST_TEST(level1(0, (i + 1) * R + j + 1) == level1(0, i * R + j));
        }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(networks)

BOOST_AUTO_TEST_CASE(gradients_and_second_order_rules_at_every_level_and_mid_fade) {
    const std::vector<std::pair<std::size_t, double>> points = {{0, 1.0}, {1, 0.3}, {1, 1.0}, {2, 0.6}, {2, 1.0}};
    for (const auto& [level, alpha] : points) {
        BOOST_TEST_CONTEXT("level " << level << ", alpha " << alpha) {
            testing::gradcheck_options o;
            o.batch = 4;  // one minibatch-stddev group of 4 in the critic
            // Up to 14 nonlinear layers deep with pixel norms in between: central differences
            // of the second-order quantities carry ~1e-6 of truncation error here (each layer's
            // rules are checked alone at 1e-6 in test_sagan_pggan_layers). A wrong blend, scale
            // or missing adjoint term in the composition errs by O(alpha), far above 1e-5.
            o.tolerance = 1e-5;

            generator_net g;
            set_level(g, level, alpha);
            testing::check_network(g, o);
            critic_net d;
            set_level(d, level, alpha);
            testing::check_network(d, o);
        }
    }
}

BOOST_AUTO_TEST_CASE(fade_in_limits_are_the_old_and_the_new_paths) {
    generator_net g;
    randomize(g, 3);
    const tensor<double> z = random_batch(3, 5, 4);
    auto run = [&](std::size_t level, double alpha) {
        set_level(g, level, alpha);
        return tensor<double>(g.forward(z));
    };
    // alpha = 0: level 2 shows level 1's image (upsampled); alpha = 1: only the new path.
    BOOST_TEST(max_abs_diff(run(2, 0.0), run(1, 1.0)) < 1e-13);
    const tensor<double> new_path = run(2, 1.0), old_path = run(1, 1.0), half = run(2, 0.5);
    tensor<double> mid = new_path;
    for (std::size_t i = 0; i < mid.size(); ++i) mid.data()[i] = 0.5 * new_path.data()[i] + 0.5 * old_path.data()[i];
    BOOST_TEST(max_abs_diff(half, mid) < 1e-13);
    perturb_child(g, "to_rgb1");  // the old output layer no longer matters at alpha = 1
    BOOST_TEST(max_abs_diff(run(2, 1.0), new_path) == 0.0);
    BOOST_TEST(max_abs_diff(run(2, 0.5), half) > 1e-3);

    critic_net d;
    randomize(d, 5);
    const tensor<double> x = random_batch(4, 256, 6);
    auto score = [&](std::size_t level, double alpha) {
        set_level(d, level, alpha);
        return tensor<double>(d.forward(x));
    };
    BOOST_TEST(max_abs_diff(score(2, 0.0), score(1, 1.0)) < 1e-12);
    const tensor<double> d_new = score(2, 1.0);
    perturb_child(d, "from_rgb1");
    BOOST_TEST(max_abs_diff(score(2, 1.0), d_new) == 0.0);
}

BOOST_AUTO_TEST_CASE(level_and_alpha_are_checked) {
    generator_net g;
    BOOST_CHECK_THROW(set_level(g, 3, 1.0), std::invalid_argument);
    BOOST_CHECK_THROW(set_level(g, 1, 1.5), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
using pggan = gan<small_topology, loss::wasserstein, lipschitz::gradient_penalty, growth::progressive, double>;

hyper_parameters small_hyper() {
    hyper_parameters h = pggan::default_hyper_parameters();
    h.batch = 4;
    return h;
}

void configure(pggan& m) {
    m.growth().p.stabilise_images = 8;  // two steps per phase
    m.growth().p.fade_images = 12;       // three steps per fade
    m.loss().p.drift = 0.001;
}

struct batches {
    rng r{11, 0};
    void operator()(tensor<double>& b) {
        for (auto& v : b) v = std::tanh(r.normal());
    }
};

std::vector<double> weights(pggan& m) {
    std::vector<double> w;
    m.generator().visit_parameters([&](parameter<double>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    m.critic().visit_parameters([&](parameter<double>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    m.ema_generator().visit_parameters([&](parameter<double>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    return w;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(training)

BOOST_AUTO_TEST_CASE(defaults_are_pggans) {
    const hyper_parameters h = pggan::default_hyper_parameters();
    BOOST_TEST(h.n_critic == 1u);
    BOOST_TEST(h.lr_generator == 1e-3);
    BOOST_TEST(h.beta1 == 0.0);
    BOOST_TEST(h.beta2 == 0.99);
    BOOST_TEST(h.ema);
}

BOOST_AUTO_TEST_CASE(grows_through_every_level_and_resets_the_optimisers) {
    pggan m(small_hyper(), 1);
    configure(m);
    batches data;
    std::vector<std::size_t> levels;
    for (int s = 0; s < 14; ++s) {
        const step_stats& st = m.train_step(data);
        BOOST_TEST(std::isfinite(st.critic_loss));
        BOOST_TEST(std::isfinite(st.generator_loss));
        levels.push_back(m.phase().level);
    }
    // 4 images a step: level 0 for steps 1-2, level 1 fades in steps 3-5, stabilises 6-7, level 2 from step 8.
    const std::vector<std::size_t> expected = {0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2};
    BOOST_TEST(levels == expected, boost::test_tools::per_element());
    BOOST_TEST(m.growth().level == 2u);
    BOOST_TEST(m.generator_optimizer().steps() == 7u);  // reset at the start of step 8
    BOOST_TEST(m.critic_optimizer().steps() == 7u);
}

BOOST_AUTO_TEST_CASE(resume_across_a_fade_in_boundary_is_bit_identical) {
    const auto file = std::filesystem::temp_directory_path() / "gant_test_progressive_resume.gant";
    batches data_a, data_b;
    pggan uninterrupted(small_hyper(), 2);
    configure(uninterrupted);
    for (int s = 0; s < 9; ++s) uninterrupted.train_step(data_a);

    pggan first(small_hyper(), 2);
    configure(first);
    for (int s = 0; s < 4; ++s) first.train_step(data_b);  // mid fade-in of level 1
    BOOST_TEST(first.phase().fading);
    save_checkpoint(first, file);
    pggan resumed(small_hyper(), 2);
    configure(resumed);
    load_checkpoint(resumed, file);
    BOOST_TEST(resumed.growth().images == first.growth().images);
    for (int s = 0; s < 5; ++s) resumed.train_step(data_b);  // through the level-2 boundary
    BOOST_TEST(resumed.phase().level == 2u);
    BOOST_TEST((weights(resumed) == weights(uninterrupted)));
    std::filesystem::remove(file);
}

BOOST_AUTO_TEST_SUITE_END()
