#define BOOST_TEST_MODULE gant_reshape_resample
#include <boost/test/unit_test.hpp>

#include <type_traits>

#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/resample.hpp"
#include "gant/layers/reshape.hpp"
#include "support/gradcheck.hpp"

using namespace gant;
using gant::testing::check_layers;
using gant::testing::gradcheck_options;

// ---- compile-time wiring facts -------------------------------------------------------------
static_assert(reshape<shape<2, 6>>::accepts<shape<12>>);
static_assert(reshape<shape<2, 6>>::accepts<shape<3, 2, 2>>);
static_assert(!reshape<shape<2, 6>>::accepts<shape<13>>, "reshape must refuse a different element count");
static_assert(!reshape<shape<2, 6>>::accepts<shape<3, 5>>, "reshape must refuse a different element count");
static_assert(std::is_same_v<reshape<shape<2, 6>>::expects, expects_elements<12>>);
static_assert(std::is_same_v<flatten::output_shape<shape<3, 5, 7>>, shape<105>>);
static_assert(upsample2x::accepts<shape<3, 5, 7>>);
static_assert(!upsample2x::accepts<shape<105>>, "upsample2x takes images only");
static_assert(std::is_same_v<upsample2x::output_shape<shape<3, 5, 7>>, shape<3, 10, 14>>);
static_assert(avg_pool2x::accepts<shape<3, 6, 10>>);
static_assert(!avg_pool2x::accepts<shape<3, 5, 10>>, "avg_pool2x must refuse an odd height");
static_assert(!avg_pool2x::accepts<shape<3, 6, 7>>, "avg_pool2x must refuse an odd width");
static_assert(!avg_pool2x::accepts<shape<60>>, "avg_pool2x takes images only");
static_assert(std::is_same_v<avg_pool2x::expects, expects_image>);
static_assert(std::is_same_v<avg_pool2x::output_shape<shape<3, 6, 10>>, shape<3, 3, 5>>);
static_assert(std::is_same_v<sequential<upsample2x, avg_pool2x>::output_shape<shape<3, 5, 7>>, shape<3, 5, 7>>);
static_assert(layer_impl<upsample2x::impl<shape<3, 5, 7>, float, backend::cpu>>);
static_assert(layer_impl<avg_pool2x::impl<shape<3, 6, 10>, double, backend::cpu>>);
static_assert(layer_impl<reshape<shape<12>>::impl<shape<3, 4>, double, backend::cpu>>);

namespace {

double dot(const tensor<double>& a, const tensor<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a.data()[i] * b.data()[i];
    return s;
}

tensor<double> random_batch(std::size_t batch, std::size_t features, rng& r) {
    tensor<double> t({batch, features});
    for (auto& v : t) v = r.normal();
    return t;
}

/// <L x, y> == <x, L^T y> through the layer's own forward and backward.
template <class In, class Layer>
void check_adjoint() {
    using impl = typename Layer::template impl<In, double, backend::cpu>;
    constexpr std::size_t in = In::size, out = impl::output_shape::size, batch = 3;
    impl layer;
    rng r(11);
    const tensor<double> x = random_batch(batch, in, r), y = random_batch(batch, out, r);
    tensor<double> lx({batch, out}), lty({batch, in}), ignored;
    pass_context ctx;
    layer.forward(x, lx, ctx);
    layer.backward(x, lx, y, &lty, true, ctx);
    const double lhs = dot(lx, y), rhs = dot(x, lty);
    BOOST_TEST(lhs == rhs, boost::test_tools::tolerance(1e-13));
    BOOST_TEST(std::abs(lhs) > 1e-3);  // a vacuous 0 == 0 would prove nothing

    // The paired reverse applies the same adjoint to both incoming adjoints.
    tensor<double> ybar = random_batch(batch, out, r), xbar({batch, in}), xdotbar({batch, in}), expect({batch, in});
    layer.backward_paired(x, lx, x, lx, ybar, y, &xbar, &xdotbar, ctx);
    layer.backward(x, lx, ybar, &expect, true, ctx);
    BOOST_TEST(xbar == expect);
    BOOST_TEST(xdotbar == lty);
    layer.backward_paired(x, lx, x, lx, ybar, y, nullptr, nullptr, ctx);  // both adjoints may be unwanted
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reshape_and_flatten)

BOOST_AUTO_TEST_CASE(gradients) {
    check_layers<shape<3, 4>, reshape<shape<2, 6>>>();
    check_layers<shape<3, 5, 7>, flatten>();
}

BOOST_AUTO_TEST_CASE(forward_copies_in_order) {
    network<shape<2, 3>, double, backend::cpu, reshape<shape<3, 2>>, flatten> net;
    tensor<double> x = {{1, 2, 3, 4, 5, 6}, {-1, -2, -3, -4, -5, -6}};
    const auto& y = net.forward(x);
    BOOST_TEST(y == x);
}

BOOST_AUTO_TEST_CASE(adjoint) {
    check_adjoint<shape<3, 4>, reshape<shape<12>>>();
    check_adjoint<shape<3, 5, 7>, flatten>();
}

// A projection reshaped into feature maps, as in a DCGAN generator's first block.
BOOST_AUTO_TEST_CASE(second_order_inside_a_network) {
    check_layers<shape<5>, dense<5, 12>, reshape<shape<3, 2, 2>>, gant::tanh, flatten, dense<12, 1>>();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(upsample)

BOOST_AUTO_TEST_CASE(gradients_odd_sizes) { check_layers<shape<3, 5, 7>, upsample2x>(); }

BOOST_AUTO_TEST_CASE(forward_by_hand) {
    // Two samples, two channels of 1 x 2 each.
    network<shape<2, 1, 2>, double, backend::cpu, upsample2x> net;
    tensor<double> x = {{1, 2, 3, 4}, {5, 6, 7, 8}};
    const auto& y = net.forward(x);
    BOOST_REQUIRE_EQUAL(y.shape(1), 2u * 2 * 4);
    const tensor<double> expect = {
        {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
        {5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8},
    };
    BOOST_TEST(y == expect);
}

BOOST_AUTO_TEST_CASE(adjoint) { check_adjoint<shape<3, 5, 7>, upsample2x>(); }

BOOST_AUTO_TEST_CASE(second_order_inside_a_network) {
    check_layers<shape<2, 3, 1>, dense<6, 6>, reshape<shape<2, 1, 3>>, upsample2x, gant::tanh, flatten, dense<24, 1>>();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(average_pool)

BOOST_AUTO_TEST_CASE(gradients_odd_channels) { check_layers<shape<3, 6, 10>, avg_pool2x>(); }

BOOST_AUTO_TEST_CASE(forward_by_hand) {
    // One channel of 2 x 4 -> 1 x 2, and a second channel, in two samples.
    network<shape<2, 2, 4>, double, backend::cpu, avg_pool2x> net;
    tensor<double> x = {
        {1, 2, 3, 4, 5, 6, 7, 8, /* channel 1 */ 0, 0, 1, 1, 0, 4, 1, 1},
        {-1, -1, 2, 2, -1, -1, 2, 6, /* channel 1 */ 8, 0, 0, 0, 0, 0, 0, 0},
    };
    const auto& y = net.forward(x);
    const tensor<double> expect = {{(1 + 2 + 5 + 6) / 4.0, (3 + 4 + 7 + 8) / 4.0, 1.0, 1.0}, {-1.0, 3.0, 2.0, 0.0}};
    BOOST_TEST(y == expect);
}

BOOST_AUTO_TEST_CASE(adjoint) { check_adjoint<shape<3, 6, 10>, avg_pool2x>(); }

BOOST_AUTO_TEST_CASE(pool_undoes_upsample) {
    network<shape<3, 5, 7>, double, backend::cpu, upsample2x, avg_pool2x> net;
    rng r(5);
    const tensor<double> x = random_batch(2, 105, r);
    BOOST_TEST(net.forward(x) == x);
}

// The PGGAN critic pattern: feature maps, pool, activation, dense head.
BOOST_AUTO_TEST_CASE(second_order_inside_a_network) {
    check_layers<shape<3, 4, 2>, dense<24, 24>, reshape<shape<2, 4, 3>>, gant::tanh, reshape<shape<2, 2, 6>>,
                 avg_pool2x, sigmoid, flatten, dense<6, 1>>();
}

BOOST_AUTO_TEST_SUITE_END()
