#define BOOST_TEST_MODULE gant_norm
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "support/gradcheck.hpp"
#include "unit/layers/norm_fixtures.hpp"
#include "unit/layers/two_threads.hpp"

using namespace gant;
using gant::testing::check_layers;
using gant::testing::check_network;
using gant::testing::gradcheck_options;
using gant::testing::on_two_threads;
namespace fx = gant_fixtures::norm;

namespace {

template <class In, class... Layers>
using net_t = network<In, double, backend::cpu, Layers...>;

gradcheck_options batch_of(std::size_t n) {
    gradcheck_options o;
    o.batch = n;
    return o;
}

template <std::size_t N>
tensor<double> batch_from(const double (&values)[N], std::size_t batch) {
    tensor<double> t({batch, N / batch});
    std::copy(values, values + N, t.begin());
    return t;
}

template <class Buffer, std::size_t N>
void set_values(Buffer& b, const double (&values)[N]) {
    BOOST_REQUIRE_EQUAL(b.value.size(), N);
    std::copy(values, values + N, b.value.begin());
}

template <class Range, std::size_t N>
void expect_close(const Range& actual, const double (&expected)[N], const char* what) {
    BOOST_REQUIRE_EQUAL(static_cast<std::size_t>(actual.size()), N);
    double worst = 0;
    auto it = actual.begin();
    for (std::size_t i = 0; i < N; ++i, ++it) worst = std::max(worst, std::abs(*it - expected[i]));
    BOOST_TEST_INFO(what << ": max abs difference from PyTorch " << worst);
    BOOST_TEST(worst < 1e-10);
}

/// Inference-mode checks: random running statistics (positive variances) first, since the
/// testbed only randomises parameters.
template <class Net>
void check_inference(Net& net, std::size_t batch) {
    rng r(11);
    net.visit_buffers([&](buffer<double>& b) {
        for (auto& v : b.value) v = b.name == "running_var" ? 0.2 + 2.0 * r.uniform() : r.normal();
    });
    gradcheck_options o;
    o.batch = batch;
    o.pass_mode = mode::inference;
    check_network(net, o);
}

}  // namespace

// ---- descriptors ------------------------------------------------------------------------

static_assert(batch_norm<3>::accepts<shape<3, 5, 7>>);
static_assert(batch_norm<5>::accepts<shape<5>>);
static_assert(!batch_norm<4>::accepts<shape<3, 5, 7>>);
static_assert(!batch_norm<4>::accepts<shape<12>>);
static_assert(layer_norm<3>::accepts<shape<3, 5, 7>>);
static_assert(!layer_norm<5>::accepts<shape<3, 5, 7>>);
static_assert(std::is_same_v<batch_norm<3>::expects, expects_channels<3>>);
static_assert(std::is_same_v<layer_norm<3>::output_shape<shape<3, 4, 4>>, shape<3, 4, 4>>);
static_assert(layer_impl<batch_norm<3>::impl<shape<3, 2, 2>, double, backend::cpu>>);
static_assert(layer_impl<layer_norm<3>::impl<shape<3, 2, 2>, float, backend::cpu>>);
static_assert(net_t<shape<4>, batch_norm<4>>::couples_samples);
static_assert(!net_t<shape<4>, layer_norm<4>>::couples_samples);
static_assert(net_t<shape<4>, layer_norm<4>, batch_norm<4>>::second_order);

// ---- batch norm -------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(batch_norm_layer)

BOOST_AUTO_TEST_CASE(gradients_image_training) { check_layers<shape<3, 5, 7>, batch_norm<3>>(batch_of(4)); }
BOOST_AUTO_TEST_CASE(gradients_vector_training) { check_layers<shape<5>, batch_norm<5>>(batch_of(6)); }
BOOST_AUTO_TEST_CASE(gradients_sequence_training) { check_layers<shape<2, 3>, batch_norm<2>>(batch_of(3)); }
BOOST_AUTO_TEST_CASE(gradients_without_affine) { check_layers<shape<2, 3, 3>, batch_norm<2, false>>(batch_of(3)); }
// One sample, but 15 values per channel: allowed in training mode, as in PyTorch.
BOOST_AUTO_TEST_CASE(gradients_single_image) { check_layers<shape<3, 5, 3>, batch_norm<3>>(batch_of(1)); }

BOOST_AUTO_TEST_CASE(gradients_image_inference) {
    net_t<shape<3, 5, 7>, batch_norm<3>> net;
    check_inference(net, 4);
}
BOOST_AUTO_TEST_CASE(gradients_vector_inference) {
    net_t<shape<5>, batch_norm<5>> net;
    check_inference(net, 1);  // inference mode takes any batch, even one value per channel
}
BOOST_AUTO_TEST_CASE(mlp_inference) {
    net_t<shape<4>, dense<4, 7>, batch_norm<7>, gant::tanh, dense<7, 2>> net;
    check_inference(net, 5);
}

// Second-order rules with curvature on both sides of the norm.
// The dense layer before the norm has no bias: batch norm removes any per-channel constant, so
// that bias has an exactly zero gradient (checked below), which a relative error cannot grade.
BOOST_AUTO_TEST_CASE(mlp_training) {
    check_layers<shape<4>, dense<4, 7, false>, batch_norm<7>, gant::tanh, dense<7, 2>>(batch_of(5));
}
BOOST_AUTO_TEST_CASE(bias_before_norm_gets_no_gradient) {
    net_t<shape<4>, dense<4, 7>, batch_norm<7>, gant::tanh, dense<7, 2>> net;
    rng r(4);
    net.visit_parameters([&](parameter<double>& p) { for (auto& v : p.value) v = r.normal(); });
    tensor<double> x({5, 4}), xdot({5, 4}), ybar({5, 2}), ydotbar({5, 2});
    for (auto* t : {&x, &xdot, &ybar, &ydotbar})
        for (auto& v : *t) v = r.normal();
    net.zero_grad();
    net.forward(x);
    net.backward(ybar, nullptr);
    net.forward_tangent(xdot);
    net.backward_paired(ybar, ydotbar, nullptr, nullptr);
    double largest_weight_grad = 0;
    for (auto v : net.layer<0>().weight().grad) largest_weight_grad = std::max(largest_weight_grad, std::abs(v));
    BOOST_TEST(largest_weight_grad > 1e-3);
    for (auto v : net.layer<0>().bias().grad) BOOST_TEST(std::abs(v) < 1e-12);
}
BOOST_AUTO_TEST_CASE(mlp_training_two_norms) {
    check_layers<shape<3>, dense<3, 6>, gant::tanh, batch_norm<6>, dense<6, 5>, softplus, batch_norm<5, false>,
                 dense<5, 1>>(batch_of(7));
}

// Channels split over the pool (2 + 3 of 5): every pass, in training and inference mode.
BOOST_AUTO_TEST_CASE(two_threads_training) {
    check_layers<shape<4>, dense<4, 5, false>, on_two_threads<batch_norm<5>>, gant::tanh, dense<5, 2>>(batch_of(5));
}
BOOST_AUTO_TEST_CASE(two_threads_inference) {
    net_t<shape<5, 2, 3>, on_two_threads<batch_norm<5>>> net;
    check_inference(net, 4);
}

BOOST_AUTO_TEST_CASE(rejects_one_value_per_channel_in_training) {
    net_t<shape<5>, batch_norm<5>> net;
    tensor<double> x = xt::ones<double>({1ul, 5ul});
    BOOST_CHECK_EXCEPTION(net.forward(x), std::invalid_argument, [](const std::invalid_argument& e) {
        return std::string(e.what()).find("batch_norm") != std::string::npos;
    });
    // The running statistics are untouched by the rejected pass.
    for (auto v : net.layer<0>().running_mean().value) BOOST_TEST(v == 0.0);
    for (auto v : net.layer<0>().running_var().value) BOOST_TEST(v == 1.0);
    pass_context inference;
    inference.mode = mode::inference;
    BOOST_CHECK_NO_THROW(net.forward(x, inference));
    net_t<shape<5, 2>, batch_norm<5>> two_per_channel;
    tensor<double> x2 = xt::ones<double>({1ul, 10ul});
    BOOST_CHECK_NO_THROW(two_per_channel.forward(x2));
}

template <class Net, std::size_t NG, std::size_t NX>
void batch_norm_against_pytorch(Net& net, std::size_t batch, const double (&gamma)[NG], const double (&beta)[NG],
                                const double (&x1)[NX], const double (&x2)[NX], const double (&g1)[NX],
                                const double (&y1)[NX], const double (&rm1)[NG], const double (&rv1)[NG],
                                const double (&dx1)[NX], const double (&dgamma1)[NG], const double (&dbeta1)[NG],
                                const double (&y2)[NX], const double (&rm2)[NG], const double (&rv2)[NG],
                                const double (&y_eval)[NX]) {
    auto& bn = net.template layer<0>();
    set_values(bn.gamma(), gamma);
    set_values(bn.beta(), beta);
    net.zero_grad();
    const tensor<double> a = batch_from(x1, batch), b = batch_from(x2, batch), g = batch_from(g1, batch);
    expect_close(net.forward(a), y1, "training output, step 1");
    expect_close(bn.running_mean().value, rm1, "running_mean after step 1");
    expect_close(bn.running_var().value, rv1, "running_var after step 1");
    tensor<double> dx;
    net.backward(g, &dx);
    expect_close(dx, dx1, "input gradient");
    expect_close(bn.gamma().grad, dgamma1, "gamma gradient");
    expect_close(bn.beta().grad, dbeta1, "beta gradient");
    expect_close(net.forward(b), y2, "training output, step 2");
    expect_close(bn.running_mean().value, rm2, "running_mean after step 2");
    expect_close(bn.running_var().value, rv2, "running_var after step 2");
    pass_context inference;
    inference.mode = mode::inference;
    expect_close(net.forward(a, inference), y_eval, "inference output");
    // Inference passes leave the running statistics alone.
    expect_close(bn.running_mean().value, rm2, "running_mean after an inference pass");
    expect_close(bn.running_var().value, rv2, "running_var after an inference pass");
}

BOOST_AUTO_TEST_CASE(batch_norm_2d_matches_pytorch) {
    net_t<shape<3, 5, 7>, batch_norm<3>> net;
    batch_norm_against_pytorch(net, fx::bn2d_batch, fx::bn2d_gamma, fx::bn2d_beta, fx::bn2d_x1, fx::bn2d_x2,
                               fx::bn2d_g1, fx::bn2d_y1, fx::bn2d_running_mean1, fx::bn2d_running_var1, fx::bn2d_dx1,
                               fx::bn2d_dgamma1, fx::bn2d_dbeta1, fx::bn2d_y2, fx::bn2d_running_mean2,
                               fx::bn2d_running_var2, fx::bn2d_y_eval);
}

BOOST_AUTO_TEST_CASE(batch_norm_1d_matches_pytorch) {
    net_t<shape<5>, batch_norm<5>> net;
    batch_norm_against_pytorch(net, fx::bn1d_batch, fx::bn1d_gamma, fx::bn1d_beta, fx::bn1d_x1, fx::bn1d_x2,
                               fx::bn1d_g1, fx::bn1d_y1, fx::bn1d_running_mean1, fx::bn1d_running_var1, fx::bn1d_dx1,
                               fx::bn1d_dgamma1, fx::bn1d_dbeta1, fx::bn1d_y2, fx::bn1d_running_mean2,
                               fx::bn1d_running_var2, fx::bn1d_y_eval);
}

BOOST_AUTO_TEST_CASE(defaults_match_pytorch) {
    net_t<shape<2, 2, 2>, batch_norm<2>> net;
    auto& bn = net.layer<0>();
    for (auto v : bn.gamma().value) BOOST_TEST(v == 1.0);
    for (auto v : bn.beta().value) BOOST_TEST(v == 0.0);
    BOOST_TEST(bn.momentum == 0.1);
    BOOST_TEST(bn.epsilon == 1e-5);
    BOOST_TEST((bn.gamma().role == role::scale));
    BOOST_TEST((bn.beta().role == role::shift));
    std::vector<std::string> buffers;
    net.visit_buffers([&](buffer<double>& b) { buffers.push_back(b.name); });
    BOOST_TEST(buffers == (std::vector<std::string>{"running_mean", "running_var"}), boost::test_tools::per_element());
    BOOST_TEST(net.parameter_count() == 4u);
    net_t<shape<2, 2, 2>, batch_norm<2, false>> plain;
    BOOST_TEST(plain.parameter_count() == 0u);
}

// The float instantiation (sums accumulated in double): each channel of the output has zero
// mean and unit variance over the batch, up to eps.
BOOST_AUTO_TEST_CASE(float_output_is_normalised) {
    network<shape<2, 3, 3>, float, backend::cpu, batch_norm<2>> net;
    tensor<float> x({4, 18});
    rng r(5);
    for (auto& v : x) v = static_cast<float>(r.normal(3.0, 2.0));
    const auto& y = net.forward(x);
    for (std::size_t c = 0; c < 2; ++c) {
        double s = 0, ss = 0;
        for (std::size_t i = 0; i < 4; ++i)
            for (std::size_t k = 0; k < 9; ++k) {
                const double v = y(i, c * 9 + k);
                s += v;
                ss += v * v;
            }
        BOOST_TEST(std::abs(s / 36) < 1e-6);
        BOOST_TEST(std::abs(ss / 36 - 1.0) < 1e-3);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- layer norm -------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(layer_norm_layer)

BOOST_AUTO_TEST_CASE(gradients_image_batch_3) { check_layers<shape<3, 5, 7>, layer_norm<3>>(batch_of(3)); }
BOOST_AUTO_TEST_CASE(gradients_image_batch_1) { check_layers<shape<3, 5, 7>, layer_norm<3>>(batch_of(1)); }
BOOST_AUTO_TEST_CASE(gradients_vector_batch_3) { check_layers<shape<9>, layer_norm<9>>(batch_of(3)); }
BOOST_AUTO_TEST_CASE(gradients_vector_batch_1) { check_layers<shape<9>, layer_norm<9>>(batch_of(1)); }

BOOST_AUTO_TEST_CASE(mlp_with_layer_norm) {
    check_layers<shape<5>, dense<5, 8>, layer_norm<8>, gant::tanh, dense<8, 3>>(batch_of(3));
}
BOOST_AUTO_TEST_CASE(critic_shaped_image_network) {
    // image -> layer norm -> curved activation -> dense score, as in a WGAN-GP critic block
    check_layers<shape<3, 5, 7>, layer_norm<3>, softplus, dense<105, 4>, layer_norm<4>, gant::tanh, dense<4, 1>>(
        batch_of(3));
}

template <class Net, std::size_t NG, std::size_t NX>
void layer_norm_against_pytorch(Net& net, std::size_t batch, const double (&gamma)[NG], const double (&beta)[NG],
                                const double (&x)[NX], const double (&g)[NX], const double (&y)[NX],
                                const double (&dx)[NX], const double (&dgamma)[NG], const double (&dbeta)[NG]) {
    auto& ln = net.template layer<0>();
    set_values(ln.gamma(), gamma);
    set_values(ln.beta(), beta);
    net.zero_grad();
    expect_close(net.forward(batch_from(x, batch)), y, "output");
    tensor<double> d;
    net.backward(batch_from(g, batch), &d);
    expect_close(d, dx, "input gradient");
    expect_close(ln.gamma().grad, dgamma, "gamma gradient");
    expect_close(ln.beta().grad, dbeta, "beta gradient");
}

BOOST_AUTO_TEST_CASE(image_matches_wgan_gp_reference) {
    net_t<shape<3, 5, 7>, layer_norm<3>> net;
    layer_norm_against_pytorch(net, fx::ln_image_batch, fx::ln_image_gamma, fx::ln_image_beta, fx::ln_image_x,
                               fx::ln_image_g, fx::ln_image_y, fx::ln_image_dx, fx::ln_image_dgamma,
                               fx::ln_image_dbeta);
}

BOOST_AUTO_TEST_CASE(vector_matches_wgan_gp_reference) {
    net_t<shape<9>, layer_norm<9>> net;
    layer_norm_against_pytorch(net, fx::ln_vector_batch, fx::ln_vector_gamma, fx::ln_vector_beta, fx::ln_vector_x,
                               fx::ln_vector_g, fx::ln_vector_y, fx::ln_vector_dx, fx::ln_vector_dgamma,
                               fx::ln_vector_dbeta);
}

// Samples split over the pool (2 + 3 of 5), the gamma and beta gradients summed from each
// worker's private sums.
BOOST_AUTO_TEST_CASE(two_threads_gradients) {
    check_layers<shape<3, 5, 7>, on_two_threads<layer_norm<3>>>(batch_of(5));
    check_layers<shape<5>, dense<5, 8>, on_two_threads<layer_norm<8>>, gant::tanh, dense<8, 3>>(batch_of(5));
}

// Each sample is normalised on its own: changing sample 0 leaves sample 1's output unchanged.
BOOST_AUTO_TEST_CASE(samples_are_independent) {
    net_t<shape<2, 2, 3>, layer_norm<2>> net;
    rng r(9);
    tensor<double> x({2, 12});
    for (auto& v : x) v = r.normal();
    const tensor<double> before = net.forward(x);
    for (std::size_t k = 0; k < 12; ++k) x(0, k) = 5.0 * r.normal();
    const auto& after = net.forward(x);
    for (std::size_t k = 0; k < 12; ++k) BOOST_TEST(after(1, k) == before(1, k));
}

BOOST_AUTO_TEST_SUITE_END()
