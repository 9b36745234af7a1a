#define BOOST_TEST_MODULE gant_basic_layers
#include <boost/test/unit_test.hpp>

#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "support/gradcheck.hpp"
#include "unit/layers/two_threads.hpp"

#include <cmath>
#include <limits>

using namespace gant;
using gant::testing::on_two_threads;
using gant::testing::check_layers;
using gant::testing::gradcheck_options;

BOOST_AUTO_TEST_SUITE(dense_layer)

BOOST_AUTO_TEST_CASE(gradients_odd_sizes) { check_layers<shape<7>, dense<7, 5>>(); }
BOOST_AUTO_TEST_CASE(gradients_without_bias) { check_layers<shape<3, 2, 2>, dense<12, 3, false>>(); }
BOOST_AUTO_TEST_CASE(gradients_batch_of_one) {
    gradcheck_options o;
    o.batch = 1;
    check_layers<shape<4>, dense<4, 9>>(o);
}

BOOST_AUTO_TEST_CASE(forward_matches_hand_computed) {
    network<shape<2>, double, backend::cpu, dense<2, 2>> net;
    auto& l = net.layer<0>();
    l.weight().value = {1.0, 2.0, 3.0, 4.0};  // rows are outputs
    l.bias().value = {0.5, -0.5};
    tensor<double> x = {{1.0, -1.0}};
    const auto& y = net.forward(x);
    BOOST_TEST(y(0, 0) == 1.0 - 2.0 + 0.5);
    BOOST_TEST(y(0, 1) == 3.0 - 4.0 - 0.5);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(activations)

// Inputs are kept away from 0 so that central differences never straddle a kink.
gradcheck_options away_from_kinks() {
    gradcheck_options o;
    o.min_abs_input = 1e-2;
    return o;
}

BOOST_AUTO_TEST_CASE(relu_gradients) { check_layers<shape<3, 5, 3>, relu>(away_from_kinks()); }
BOOST_AUTO_TEST_CASE(leaky_relu_gradients) { check_layers<shape<11>, leaky_relu<>>(away_from_kinks()); }
BOOST_AUTO_TEST_CASE(tanh_gradients) { check_layers<shape<2, 3, 5>, gant::tanh>(); }
BOOST_AUTO_TEST_CASE(sigmoid_gradients) { check_layers<shape<13>, sigmoid>(); }
BOOST_AUTO_TEST_CASE(softplus_gradients) { check_layers<shape<13>, softplus>(); }

// Second-order terms only show up after a layer with weights: dense -> activation -> dense.
BOOST_AUTO_TEST_CASE(mlp_with_curved_activations) {
    check_layers<shape<5>, dense<5, 7>, gant::tanh, dense<7, 3>, sigmoid, dense<3, 1>>();
}
BOOST_AUTO_TEST_CASE(mlp_with_leaky_relu) {
    check_layers<shape<5>, dense<5, 7>, leaky_relu<>, dense<7, 1>>();
}

BOOST_AUTO_TEST_CASE(leaky_relu_slope) {
    network<shape<2>, double, backend::cpu, leaky_relu<1, 10>> net;
    tensor<double> x = {{-2.0, 3.0}};
    const auto& y = net.forward(x);
    BOOST_TEST(y(0, 0) == -0.2);
    BOOST_TEST(y(0, 1) == 3.0);
}

// The branch-free form max(a, 0) + slope * min(a, 0) must keep what the branch gave: NaN stays
// NaN (a NaN check downstream must see it), infinities keep their side, -0 stays -0.
BOOST_AUTO_TEST_CASE(leaky_relu_special_values) {
    network<shape<4>, float, backend::cpu, leaky_relu<>> net;
    const float inf = std::numeric_limits<float>::infinity();
    tensor<float> x = {{std::numeric_limits<float>::quiet_NaN(), inf, -inf, -0.0f}};
    const auto& y = net.forward(x);
    BOOST_TEST(std::isnan(y(0, 0)));
    BOOST_TEST(y(0, 1) == inf);
    BOOST_TEST(y(0, 2) == -inf);
    BOOST_TEST(y(0, 3) == 0.0f);
    BOOST_TEST(std::signbit(y(0, 3)));
}

// The forward values themselves, in float and double, ReLU's special values, and a batch long
// enough for the vectorised loop and its remainder: every element against the definition.
BOOST_AUTO_TEST_CASE(leaky_relu_and_relu_values) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    network<shape<5>, float, backend::cpu, relu> r;
    const auto& y = r.forward(tensor<float>{{nan, inf, -inf, -0.0f, -3.0f}});
    BOOST_TEST(std::isnan(y(0, 0)));
    BOOST_TEST(y(0, 1) == inf);
    for (std::size_t i = 2; i < 5; ++i) {
        BOOST_TEST(y(0, i) == 0.0f);
        BOOST_TEST(!std::signbit(y(0, i)));
    }
    rng g(3);
    tensor<double> xd({3, 37});
    for (auto& v : xd) v = 3 * g.normal();
    network<shape<37>, double, backend::cpu, leaky_relu<1, 100>> ld;
    network<shape<37>, float, backend::cpu, leaky_relu<>> lf;
    tensor<float> xf({3, 37});
    for (std::size_t k = 0; k < xd.size(); ++k) xf.data()[k] = float(xd.data()[k]);
    const auto& yd = ld.forward(xd);
    const auto& yf = lf.forward(xf);
    for (std::size_t k = 0; k < xd.size(); ++k) {
        const double a = xd.data()[k];
        BOOST_TEST(yd.data()[k] == (a > 0 ? a : a * (1.0 / 100.0)));
        const float af = xf.data()[k];
        BOOST_TEST(yf.data()[k] == (af > 0 ? af : af * 0.2f));
    }
}

// Activations split their elements over the pool: the gradient testbed on two workers with
// every pass split (slices of 2 + 3 samples' elements), then a float batch large enough to be
// split by the default threshold, bit for bit against one thread in every pass.
BOOST_AUTO_TEST_CASE(two_threads_gradients) {
    gradcheck_options o = away_from_kinks();
    o.batch = 5;
    check_layers<shape<5>, dense<5, 7>, on_two_threads<leaky_relu<>>, dense<7, 4>, on_two_threads<gant::tanh>,
                 dense<4, 1>>(o);
}

BOOST_AUTO_TEST_CASE(two_threads_equal_one_thread) {
    using net_t = network<shape<3, 16, 16>, float, backend::cpu, gant::tanh, leaky_relu<>, softplus>;
    constexpr std::size_t batch = 64, features = 3 * 16 * 16;
    static_assert(batch * features >= default_parallel_threshold, "the batch must be split by default");
    rng r(5);
    tensor<float> x({batch, features}), xdot({batch, features}), ybar({batch, features}), ydotbar({batch, features});
    for (auto* t : {&x, &xdot, &ybar, &ydotbar})
        for (auto& v : *t) v = float(2 * r.normal());
    thread_pool one(1), two(2);
    auto run = [&](thread_pool& pool) {
        pass_context ctx;
        ctx.pool = &pool;
        net_t net;
        std::vector<tensor<float>> out;
        out.push_back(net.forward(x, ctx));
        out.push_back(net.forward_tangent(xdot, ctx));
        tensor<float> dx, xbar, xdotbar;
        net.backward(ybar, &dx, true, ctx);
        out.push_back(dx);
        net.backward_paired(ybar, ydotbar, &xbar, &xdotbar, ctx);
        out.push_back(xbar);
        out.push_back(xdotbar);
        return out;
    };
    const auto a = run(one), b = run(two);
    for (std::size_t k = 0; k < a.size(); ++k) BOOST_TEST((a[k] == b[k]), "pass " << k << " differs");
}

BOOST_AUTO_TEST_SUITE_END()

// The closed form of algorithms.md 5.3 for f = w2^T phi(W1 x + b1): d(v^T grad_x f)/d theta.
BOOST_AUTO_TEST_CASE(closed_form_second_order_one_hidden_layer) {
    constexpr std::size_t I = 3, H = 4;
    network<shape<I>, double, backend::cpu, dense<I, H>, gant::tanh, dense<H, 1, false>> net;
    rng r(3);
    net.visit_parameters([&](parameter<double>& p) { for (auto& v : p.value) v = r.normal(); });
    tensor<double> x({1, I}), v({1, I});
    for (auto& e : x) e = r.normal();
    for (auto& e : v) e = r.normal();
    net.zero_grad();
    net.forward(x);
    net.forward_tangent(v);
    tensor<double> zero = xt::zeros<double>({1ul, 1ul}), one = xt::ones<double>({1ul, 1ul});
    net.backward_paired(zero, one, nullptr, nullptr);

    auto& W1 = net.layer<0>().weight();
    auto& b1 = net.layer<0>().bias();
    auto& w2 = net.layer<2>().weight();
    for (std::size_t h = 0; h < H; ++h) {
        double a = b1.value(h), u = 0;
        for (std::size_t i = 0; i < I; ++i) {
            a += W1.value(h * I + i) * x(0, i);
            u += W1.value(h * I + i) * v(0, i);
        }
        const double y = std::tanh(a), d1 = 1 - y * y, d2 = -2 * y * d1;
        BOOST_TEST(w2.grad(h) == d1 * u, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(b1.grad(h) == d2 * w2.value(h) * u, boost::test_tools::tolerance(1e-12));
        for (std::size_t i = 0; i < I; ++i)
            BOOST_TEST(W1.grad(h * I + i) == d1 * w2.value(h) * v(0, i) + d2 * w2.value(h) * u * x(0, i),
                       boost::test_tools::tolerance(1e-12));
    }
}
