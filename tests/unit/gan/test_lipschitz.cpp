#define BOOST_TEST_MODULE gant_lipschitz
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <tuple>

#include "gant/gan.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/mlp.hpp"
#include "unit/gan/critic_gradcheck.hpp"

using namespace gant;
using namespace gant::testing;

namespace {

constexpr std::uint64_t penalty_seed = 77;
constexpr std::size_t batch = 5;

// ---- the reference penalties, written out from the input gradients ----------------------

/// x_hat_i = eps_i real_i + (1 - eps_i) fake_i, eps_i the i-th uniform of the penalty stream:
/// the same weights the policy draws from an identically seeded stream.
tensor<double> interpolation_points(const tensor<double>& real, const tensor<double>& fake) {
    rng r(penalty_seed, 3);
    tensor<double> x(real.shape());
    for (std::size_t i = 0; i < real.shape(0); ++i) {
        const double eps = r.uniform();
        for (std::size_t j = 0; j < real.shape(1); ++j) x(i, j) = eps * real(i, j) + (1 - eps) * fake(i, j);
    }
    return x;
}

/// WGAN-GP: sum_i (lambda / B) (||g_i|| - target)^2 at the interpolated points.
struct gp_reference {
    double lambda = 10, target = 1;
    template <class Net>
    double operator()(Net& net, const tensor<double>& real, const tensor<double>& fake, const pass_context& ctx) const {
        const tensor<double> g = input_gradients(net, interpolation_points(real, fake), ctx);
        const double b = double(real.shape(0));
        double s = 0;
        for (std::size_t i = 0; i < g.shape(0); ++i) {
            const double gap = std::sqrt(row_squared_norm(g, i)) - target;
            s += lambda / b * gap * gap;
        }
        return s;
    }
};

/// WGAN-div: sum_i (k / B) ||g_i||^p at the interpolated points, or
/// sum_i (k / 2B) (||grad D(real_i)||^p + ||grad D(fake_i)||^p).
struct div_reference {
    double k = 2, p = 6;
    bool interpolated = true;
    template <class Net>
    double operator()(Net& net, const tensor<double>& real, const tensor<double>& fake, const pass_context& ctx) const {
        const double b = double(real.shape(0));
        auto sum_of_powers = [&](const tensor<double>& points, double weight) {
            const tensor<double> g = input_gradients(net, points, ctx);
            double s = 0;
            for (std::size_t i = 0; i < g.shape(0); ++i) s += weight * std::pow(std::sqrt(row_squared_norm(g, i)), p);
            return s;
        };
        if (interpolated) return sum_of_powers(interpolation_points(real, fake), k / b);
        return sum_of_powers(real, k / (2 * b)) + sum_of_powers(fake, k / (2 * b));
    }
};

struct no_penalty {
    template <class Net>
    double operator()(Net&, const tensor<double>&, const tensor<double>&, const pass_context&) const {
        return 0.0;
    }
};

// ---- the check ----------------------------------------------------------------------------

/// Builds the critic the policy asks for from `Descriptor`, and checks by central differences
/// (every entry of every parameter) the gradient of loss term + penalty, and of the penalty
/// alone, as the policy computes them.
template <class Descriptor, class In, class Policy, class Loss, class Reference>
void check_policy(const std::string& label, Policy policy, Loss loss, Reference reference, double scale,
                  mode pass_mode = mode::training) {
    using net_type = typename Policy::template critic<Descriptor>::template impl<In, double, backend::cpu>;
    Policy::template check<net_type>();
    net_type net;
    rng r(2024, 1);
    randomize_parameters(net, r, scale);
    const tensor<double> real = random_batch(batch, In::size, r);
    const tensor<double> fake = random_batch(batch, In::size, r, 1.5);
    pass_context ctx;
    ctx.mode = pass_mode;
    // Training-mode passes converge the power iterations of spectrally normalised critics (and
    // change nothing in the others), so sigma is the spectral norm, not a random u^T W v.
    for (int i = 0; i < 100; ++i) net.forward(real, pass_context{});

    auto penalize = [&] {
        lipschitz::penalty_context<double> pc;
        rng stream(penalty_seed, 3);  // re-seeded for every evaluation: fixed interpolation weights
        pc.random = &stream;
        pc.pass = ctx;
        return policy.penalize(net, real, fake, pc);
    };

    net.zero_grad();
    critic_loss_term(net, loss, real, fake, ctx, true);
    const lipschitz::penalty_report report = penalize();
    const auto total = parameter_gradients(net);
    const double value = reference(net, real, fake, ctx);
    BOOST_TEST_INFO(label << ": penalty " << report.value << " vs reference " << value);
    BOOST_TEST(std::abs(report.value - value) <= 1e-12 * std::max(1.0, std::abs(value)));
    BOOST_TEST(total_norm(total) > 0.0);
    check_against_differences(
        net, total, [&] { return critic_loss_term(net, loss, real, fake, ctx, false) + reference(net, real, fake, ctx); },
        label + ", loss + penalty");

    // The penalty alone: its gradient can be small next to the loss's, so check it on its own.
    net.zero_grad();
    penalize();
    const auto alone = parameter_gradients(net);
    if constexpr (std::is_same_v<Reference, no_penalty>) {
        BOOST_TEST_INFO(label << ": a policy without a penalty must not touch the gradients");
        BOOST_TEST(total_norm(alone) == 0.0);
    } else {
        BOOST_TEST_INFO(label << ": penalty gradient norm " << total_norm(alone));
        BOOST_TEST(total_norm(alone) > 1e-6);
        check_against_differences(net, alone, [&] { return reference(net, real, fake, ctx); }, label + ", penalty");
    }
}

div_reference div_ref(bool interpolated) {
    div_reference d;
    d.interpolated = interpolated;
    return d;
}
lipschitz::wasserstein_div div_policy(lipschitz::wasserstein_div::points s) {
    lipschitz::wasserstein_div w;
    w.p.sampling = s;
    return w;
}

/// Every policy on one critic (with the loss its family uses, and the JS and LS losses with none).
template <class Descriptor, class In>
void check_every_policy(const std::string& critic, double scale) {
    using points = lipschitz::wasserstein_div::points;
    loss::least_squares pearson;
    pearson.p = loss::least_squares::pearson();
    check_policy<Descriptor, In>(critic + " / none / non_saturating", lipschitz::none{}, loss::non_saturating{},
                                 no_penalty{}, scale);
    check_policy<Descriptor, In>(critic + " / none / least_squares(pearson)", lipschitz::none{}, pearson, no_penalty{},
                                 scale);
    check_policy<Descriptor, In>(critic + " / weight_clip / wasserstein", lipschitz::weight_clip{},
                                 loss::wasserstein{}, no_penalty{}, scale);
    check_policy<Descriptor, In>(critic + " / gradient_penalty / wasserstein", lipschitz::gradient_penalty{},
                                 loss::wasserstein{}, gp_reference{}, scale);
    check_policy<Descriptor, In>(critic + " / wasserstein_div(interpolated) / wasserstein",
                                 div_policy(points::interpolated), loss::wasserstein{}, div_ref(true), scale);
    check_policy<Descriptor, In>(critic + " / wasserstein_div(real_and_fake) / wasserstein",
                                 div_policy(points::real_and_fake), loss::wasserstein{}, div_ref(false), scale);
    // Spectral norm in inference mode: stored u and v, so the objective is a fixed function of
    // the raw weights and its exact gradient is the (u, v constant) one of algorithms.md 7.2.
    check_policy<Descriptor, In>(critic + " / spectral_norm / hinge", lipschitz::spectral_norm{}, loss::hinge{},
                                 no_penalty{}, scale, mode::inference);
}

template <class A>
using mlp_critic = sequential<dense<5, 7>, A, dense<7, 6>, A, dense<6, 1>>;

// image<1, 7, 7> -> 3 x 4 x 4 -> 4 x 2 x 2 -> score, with WGAN-GP's layer norm after the first conv.
template <class A>
using conv_critic = sequential<conv2d<1, 3, 3, 2, 1>, layer_norm<3>, A, conv2d<3, 4, 3, 2, 1>, A, flatten, dense<16, 1>>;

// Sigmoid's slope is at most 1/4: larger weights keep the input gradients near norm 1, where
// the penalties are not negligible.
template <class A>
double weight_scale() {
    return std::is_same_v<A, sigmoid> ? 1.5 : 0.6;
}

}  // namespace

using activations = std::tuple<relu, leaky_relu<>, gant::tanh, sigmoid, softplus>;

BOOST_AUTO_TEST_SUITE(total_critic_gradient)

BOOST_AUTO_TEST_CASE_TEMPLATE(mlp_critic_every_policy, A, activations) {
    check_every_policy<mlp_critic<A>, shape<5>>(std::string("mlp/") + A::name, weight_scale<A>());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conv_critic_every_policy, A, activations) {
    check_every_policy<conv_critic<A>, image<1, 7, 7>>(std::string("conv/") + A::name, weight_scale<A>());
}

// A user may also put spectral_norm layers into a critic by hand and add a gradient penalty:
// the penalty's second-order pass then runs through the wrapper's re-parametrised weight.
BOOST_AUTO_TEST_CASE(gradient_penalty_through_spectral_norm_layers) {
    using critic = lipschitz::spectrally_normalised<conv_critic<gant::tanh>>;
    check_policy<critic, image<1, 7, 7>>("conv/tanh with spectral_norm layers / gradient_penalty",
                                         lipschitz::gradient_penalty{}, loss::wasserstein{}, gp_reference{}, 1.0,
                                         mode::inference);
}

// Non-default magnitudes reach the maths.
BOOST_AUTO_TEST_CASE(non_default_parameters) {
    lipschitz::gradient_penalty gp;
    gp.p.lambda = 3.5;
    gp.p.target = 0.5;
    check_policy<mlp_critic<softplus>, shape<5>>("mlp/softplus / gradient_penalty(3.5, 0.5)", gp, loss::hinge{},
                                                 gp_reference{3.5, 0.5}, 0.6);
    lipschitz::wasserstein_div wd;
    wd.p.k = 1.25;
    wd.p.p = 3;  // odd p: ||g||^3 = q^(3/2)
    check_policy<mlp_critic<gant::tanh>, shape<5>>("mlp/tanh / wasserstein_div(1.25, 3)", wd, loss::wasserstein{},
                                                   div_reference{1.25, 3, true}, 0.6);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- penalty values and gradients against closed forms ---------------------------------------

BOOST_AUTO_TEST_SUITE(closed_forms)

// D(x) = w.x + b has g_i = w at every point.
BOOST_AUTO_TEST_CASE(linear_critic_penalty_values) {
    network<shape<4>, double, backend::cpu, dense<4, 1>> net;
    net.layer<0>().weight().value = {0.3, -1.2, 0.5, 2.0};
    net.layer<0>().bias().value = {0.7};
    const double norm = std::sqrt(0.09 + 1.44 + 0.25 + 4.0);
    rng r(3, 3);
    const tensor<double> real = random_batch(batch, 4, r), fake = random_batch(batch, 4, r);
    auto run = [&](auto policy) {
        lipschitz::penalty_context<double> pc;
        rng stream(1, 1);
        pc.random = &stream;
        net.zero_grad();
        const auto rep = policy.penalize(net, real, fake, pc);
        return std::make_pair(rep, parameter_gradients(net));
    };

    lipschitz::gradient_penalty gp;
    BOOST_TEST(gp.p.lambda == 10.0);
    BOOST_TEST(gp.p.target == 1.0);
    gp.p.lambda = 3;
    gp.p.target = 0.5;
    auto [rep, grads] = run(gp);
    BOOST_TEST(rep.value == 3 * (norm - 0.5) * (norm - 0.5), boost::test_tools::tolerance(1e-11));
    BOOST_TEST(rep.mean_grad_norm == norm, boost::test_tools::tolerance(1e-11));
    // d/dw lambda (||w|| - t)^2 = 2 lambda (||w|| - t) w / ||w||; the bias does not move g.
    const std::vector<double> w = {0.3, -1.2, 0.5, 2.0};
    for (std::size_t j = 0; j < 4; ++j)
        BOOST_TEST(grads[0][j] == 2 * 3 * (norm - 0.5) * w[j] / norm, boost::test_tools::tolerance(1e-11));
    BOOST_TEST(grads[1][0] == 0.0);

    lipschitz::wasserstein_div wd;
    BOOST_TEST(wd.p.k == 2.0);
    BOOST_TEST(wd.p.p == 6.0);
    BOOST_TEST((wd.p.sampling == lipschitz::wasserstein_div::points::interpolated));
    wd.p.k = 1.5;
    wd.p.p = 4;
    for (auto s : {lipschitz::wasserstein_div::points::interpolated, lipschitz::wasserstein_div::points::real_and_fake}) {
        wd.p.sampling = s;
        auto [drep, dgrads] = run(wd);
        BOOST_TEST(drep.value == 1.5 * std::pow(norm, 4), boost::test_tools::tolerance(1e-11));
        BOOST_TEST(drep.mean_grad_norm == norm, boost::test_tools::tolerance(1e-11));
        // d/dw k ||w||^p = k p ||w||^(p-2) w
        for (std::size_t j = 0; j < 4; ++j)
            BOOST_TEST(dgrads[0][j] == 1.5 * 4 * norm * norm * w[j], boost::test_tools::tolerance(1e-11));
    }
}

// algorithms.md 5.3, one hidden layer: f = w2 . tanh(W1 x + b1) + b2, g = W1^T (phi'(a) * w2).
// With v = dP/dg and u = W1 v: dP/dw2 = phi'(a) * u, dP/dW1 = (phi'(a) * w2) v^T +
// (phi''(a) * w2 * u) x^T, dP/db1 = phi''(a) * w2 * u, dP/db2 = 0.
BOOST_AUTO_TEST_CASE(one_hidden_layer_gradient_penalty) {
    constexpr std::size_t in = 3, hidden = 4;
    network<shape<in>, double, backend::cpu, dense<in, hidden>, gant::tanh, dense<hidden, 1>> net;
    rng r(8, 8);
    randomize_parameters(net, r, 0.8);
    const tensor<double> real = random_batch(batch, in, r), fake = random_batch(batch, in, r);
    const auto& W1 = net.layer<0>().weight().value;
    const auto& b1 = net.layer<0>().bias().value;
    const auto& w2 = net.layer<2>().weight().value;
    const double lambda = 10, B = double(batch);

    const tensor<double> x = interpolation_points(real, fake);
    std::vector<double> dW1(hidden * in, 0.0), db1(hidden, 0.0), dw2(hidden, 0.0);
    double value = 0;
    for (std::size_t i = 0; i < batch; ++i) {
        double a[hidden], d1[hidden], d2[hidden], g[in] = {0, 0, 0};
        for (std::size_t h = 0; h < hidden; ++h) {
            a[h] = b1(h);
            for (std::size_t j = 0; j < in; ++j) a[h] += W1(h * in + j) * x(i, j);
            const double y = std::tanh(a[h]);
            d1[h] = 1 - y * y;
            d2[h] = -2 * y * (1 - y * y);
            for (std::size_t j = 0; j < in; ++j) g[j] += W1(h * in + j) * d1[h] * w2(h);
        }
        const double norm = std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
        value += lambda / B * (norm - 1) * (norm - 1);
        double v[in];
        for (std::size_t j = 0; j < in; ++j) v[j] = 2 * lambda / B * (norm - 1) * g[j] / norm;
        for (std::size_t h = 0; h < hidden; ++h) {
            double u = 0;
            for (std::size_t j = 0; j < in; ++j) u += W1(h * in + j) * v[j];
            dw2[h] += d1[h] * u;
            db1[h] += d2[h] * w2(h) * u;
            for (std::size_t j = 0; j < in; ++j)
                dW1[h * in + j] += d1[h] * w2(h) * v[j] + d2[h] * w2(h) * u * x(i, j);
        }
    }

    lipschitz::gradient_penalty gp;
    lipschitz::penalty_context<double> pc;
    rng stream(penalty_seed, 3);
    pc.random = &stream;
    net.zero_grad();
    const auto rep = gp.penalize(net, real, fake, pc);
    const auto grads = parameter_gradients(net);
    BOOST_TEST(rep.value == value, boost::test_tools::tolerance(1e-12));
    // (the policy's 1e-12 guard on ||g|| in v = dP/dg shows at the 1e-12 level)
    BOOST_TEST(relative_error(grads[0], dW1) < 1e-10);
    BOOST_TEST(relative_error(grads[1], db1) < 1e-10);
    BOOST_TEST(relative_error(grads[2], dw2) < 1e-10);
    BOOST_TEST(grads[3][0] == 0.0);
}

// One interpolation weight per sample, in [0, 1), every feature on the same segment.
BOOST_AUTO_TEST_CASE(one_interpolation_weight_per_sample) {
    rng r(4, 4), stream(9, 9);
    const tensor<double> real = random_batch(7, 11, r), fake = random_batch(7, 11, r);
    tensor<double> points;
    lipschitz::interpolate(real, fake, points, stream);
    std::vector<double> weights;
    for (std::size_t i = 0; i < 7; ++i) {
        const double eps = (points(i, 0) - fake(i, 0)) / (real(i, 0) - fake(i, 0));
        BOOST_TEST(eps >= 0.0);
        BOOST_TEST(eps < 1.0);
        for (std::size_t j = 1; j < 11; ++j)
            BOOST_TEST(points(i, j) == eps * real(i, j) + (1 - eps) * fake(i, j), boost::test_tools::tolerance(1e-12));
        weights.push_back(eps);
    }
    BOOST_TEST(weights[0] != weights[1]);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- weight clipping --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(weight_clip_clamps_after_the_critic_step) {
    network<image<1, 7, 7>, float, backend::cpu, conv2d<1, 3, 3, 2, 1>, leaky_relu<>, flatten, dense<48, 1>> net;
    rng r(5, 5);
    net.visit_parameters([&](parameter<float>& p) {
        for (auto& v : p.value) v = float(0.05 * r.normal());
    });
    std::vector<float> before;
    net.visit_parameters([&](parameter<float>& p) { before.insert(before.end(), p.value.begin(), p.value.end()); });

    lipschitz::weight_clip clip;
    BOOST_TEST(clip.p.clip == 0.01);
    clip.p.clip = 0.03;
    lipschitz::penalty_context<float> pc;
    tensor<float> x({3, 49});
    BOOST_TEST(clip.penalize(net, x, x, pc).value == 0.0);  // clipping adds no penalty
    clip.after_critic_step(net);

    std::size_t k = 0, clamped = 0, kept = 0;
    net.visit_parameters([&](parameter<float>& p) {
        for (auto v : p.value) {
            const float b = before[k++];
            if (std::abs(b) > 0.03f) {
                BOOST_TEST(v == (b > 0 ? 0.03f : -0.03f));
                ++clamped;
            } else {
                BOOST_TEST(v == b);  // untouched, bit for bit
                ++kept;
            }
        }
    });
    BOOST_TEST(clamped > 10u);
    BOOST_TEST(kept > 10u);

    hyper_parameters h;
    lipschitz::weight_clip::defaults(h);
    BOOST_TEST((h.optimizer == optimizer_kind::rmsprop));
    BOOST_TEST(h.lr_critic == 5e-5);
    BOOST_TEST(h.n_critic == 5u);
}

// ---- the gan<...> critic step runs exactly this objective ---------------------------------------

namespace {

// With SGD (no momentum) and n_critic = 1, one train_step moves the critic by -lr * gradient
// of its objective, so the gradient gan<...> used can be read back and compared with the
// objective built here from the same real batch, latent codes and interpolation weights.
template <class Policy>
void check_gan_critic_step(Policy policy) {
    using topo = topology::mlp<shape<3>, shape<2>, 6, 2, gant::tanh, softplus>;
    using model = gan<topo, loss::wasserstein, Policy, growth::fixed, double>;
    hyper_parameters h = model::default_hyper_parameters();
    h.optimizer = optimizer_kind::sgd;
    h.momentum = 0;
    h.n_critic = 1;
    h.batch = batch;
    h.lr_critic = 1e-3;
    const std::uint64_t seed = 31;
    model m(h, seed);
    m.lipschitz() = policy;

    auto critic = m.critic();  // copies taken before the step
    auto generator = m.generator();
    std::vector<double> before;
    critic.visit_parameters([&](parameter<double>& p) { before.insert(before.end(), p.value.begin(), p.value.end()); });

    rng data(seed, 50);
    tensor<double> first_real;
    m.train_step([&](tensor<double>& b) {
        for (auto& v : b) v = data.normal();
        if (first_real.size() == 0) first_real = b;
    });

    // The critic step's fake batch: the first latent draws of the model's stream (seed, 2).
    rng latent(seed, 2);
    tensor<double> z({batch, 2});
    for (auto& v : z) v = latent.normal();
    const tensor<double> fake = generator.forward(z);

    pass_context ctx;
    critic.zero_grad();
    critic_loss_term(critic, loss::wasserstein{}, first_real, fake, ctx, true);
    lipschitz::penalty_context<double> pc;
    rng stream(seed, 3);  // the model's penalty stream
    pc.random = &stream;
    const double penalty = policy.penalize(critic, first_real, fake, pc).value;
    const auto expected = parameter_gradients(critic);

    std::vector<std::vector<double>> used;
    std::size_t k = 0;
    m.critic().visit_parameters([&](parameter<double>& p) {
        std::vector<double> g;
        for (std::size_t i = 0; i < p.size(); ++i) g.push_back((before[k++] - p.value(i)) / h.lr_critic);
        used.push_back(g);
    });
    BOOST_TEST(used.size() == expected.size());
    for (std::size_t i = 0; i < used.size(); ++i) {
        BOOST_TEST_INFO("critic parameter #" << i);
        BOOST_TEST(relative_error(used[i], expected[i]) < 1e-9);
    }
    // and the objective gan<...> reports is loss + penalty
    const double loss_value = critic_loss_term(critic, loss::wasserstein{}, first_real, fake, ctx, false);
    BOOST_TEST(penalty > 0.0);
    BOOST_TEST(m.last_stats().penalty == penalty, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(m.last_stats().critic_loss == loss_value + penalty, boost::test_tools::tolerance(1e-12));
}

}  // namespace

BOOST_AUTO_TEST_CASE(gan_critic_step_gradient_penalty) {
    check_gan_critic_step(lipschitz::gradient_penalty{});
}
BOOST_AUTO_TEST_CASE(gan_critic_step_wasserstein_div_real_and_fake) {
    check_gan_critic_step(div_policy(lipschitz::wasserstein_div::points::real_and_fake));
}
