#define BOOST_TEST_MODULE gant_basic_layers
#include <boost/test/unit_test.hpp>

#include "gant/layers/batch_norm.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/topology/dcgan.hpp"
#include "support/gradcheck.hpp"
#include "unit/layers/two_threads.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

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

// ---- activations in place -------------------------------------------------------------------

namespace {

// The same phi, phi' and phi'' as Fn, but not declared computable from the output, so a network
// stores its input separately: the reference for the in-place networks below.
template <class Fn>
struct stored_input {
    template <class T>
    struct with : Fn::template with<T> {
        static constexpr bool derivatives_from_output = false;
    };
};
constexpr char stored_input_name[] = "stored_input";
template <class Fn>
using kept = activation<stored_input<Fn>, stored_input_name>;

// Every kind of neighbour an activation can have: first layer, after layers that do not read
// their output (conv2d, batch_norm, layer_norm, dense), after an activation (which reads its own
// output, so no sharing), a negative slope (a > 0 no longer follows from y > 0), a user's
// activation that does not say (softplus says no), and the last layer.
template <class Tanh, class Leaky, class Relu, class Sigmoid, class Tanh2, class Identity>
using mixed_net = network<shape<2, 5, 5>, float, backend::cpu, Tanh, conv2d<2, 3, 3, 1, 1>, batch_norm<3>, Leaky,
                          conv2d<3, 4, 3, 2, 1>, layer_norm<4>, Relu, flatten, dense<36, 6>, Sigmoid, Tanh2,
                          leaky_relu<-1, 5>, softplus, dense<6, 1>, Identity>;
using shared_net = mixed_net<gant::tanh, leaky_relu<>, relu, sigmoid, gant::tanh, identity>;
using separate_net = mixed_net<kept<fn::tanh_fn>, kept<fn::leaky<1, 5>>, kept<fn::leaky<0, 1>>, kept<fn::sigmoid_fn>,
                               kept<fn::tanh_fn>, kept<fn::identity_fn>>;

// Weights of every parameter of net drawn from N(0, 0.25), in visiting order.
template <class Net>
void randomize_parameters(Net& net, rng& r) {
    net.visit_parameters([&](parameter<float>& p) {
        for (auto& v : p.value) v = float(0.5 * r.normal());
    });
}

// Every pass of a network on one batch, flattened: forward, backward (with the input gradient and
// the parameter gradients), tangent, paired reverse pass (both input adjoints, parameter gradients).
// With borrow, the forward pass reads x where it is (forward_borrowed) instead of copying it.
template <class Net>
std::vector<std::vector<float>> every_pass(std::size_t batch, std::uint64_t seed, bool borrow = false) {
    Net net;
    rng r(seed);
    randomize_parameters(net, r);
    auto filled = [&](std::size_t cols) {
        tensor<float> t({batch, cols});
        for (auto& v : t) v = float(1.5 * r.normal());
        return t;
    };
    const tensor<float> x = filled(Net::input_size), xdot = filled(Net::input_size), ybar = filled(Net::output_size),
                        ydotbar = filled(Net::output_size);
    std::vector<std::vector<float>> out;
    auto keep = [&](const auto& values) { out.emplace_back(values.begin(), values.end()); };
    auto grads = [&] { net.visit_parameters([&](parameter<float>& p) { keep(p.grad); }); };
    keep(borrow ? net.forward_borrowed(x) : net.forward(x));
    tensor<float> dx, xbar, xdotbar;
    for (int twice = 0; twice < 2; ++twice) {  // a second backward from the same forward: nothing was consumed
        net.zero_grad();
        net.backward(ybar, &dx);
        keep(dx);
        grads();
    }
    keep(net.forward_tangent(xdot));
    net.zero_grad();
    net.backward_paired(ybar, ydotbar, &xbar, &xdotbar);
    keep(xbar);
    keep(xdotbar);
    grads();
    net.zero_grad();
    net.backward(ybar, &dx);  // the first-order pass again, after the paired pass used the buffers its way
    keep(dx);
    grads();
    return out;
}

// Every pass of Net gives the bits of every pass of Reference, a network of the same layers with
// fewer or no buffer-sharing facts, on the same parameters and batches.
template <class Net, class Reference>
void same_bits_as(std::size_t batch, std::uint64_t seed, bool borrow = false) {
    const auto planned = every_pass<Net>(batch, seed, borrow);
    const auto reference = every_pass<Reference>(batch, seed);
    BOOST_TEST_REQUIRE(planned.size() == reference.size());
    for (std::size_t k = 0; k < planned.size(); ++k) {
        BOOST_TEST((planned[k] == reference[k]), "result " << k << " differs");
        bool finite = !planned[k].empty();
        for (float v : planned[k]) finite = finite && std::isfinite(v);
        BOOST_TEST(finite, "result " << k << " is empty or not finite");
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(in_place_activations)

BOOST_AUTO_TEST_CASE(which_activations_share_their_input_buffer) {
    // Layers 0 (tanh, first), 3 (leaky after batch_norm), 6 (relu after layer_norm), 9 (sigmoid
    // after dense) and 14 (identity after dense) run in place, and 7 (flatten) views its input;
    // 10 (tanh after sigmoid), 11 (negative slope) and 12 (softplus) do not.
    constexpr auto slot = shared_net::activation_slot;
    static_assert(shared_net::depth == 15);
    for (std::size_t i : {0, 3, 6, 7, 9, 14}) BOOST_TEST(slot[i + 1] == slot[i], "layer " << i);
    for (std::size_t i : {1, 2, 4, 5, 8, 10, 11, 12, 13}) BOOST_TEST(slot[i + 1] != slot[i], "layer " << i);
    static_assert(shared_net::activation_buffers == 16 - 6);
    static_assert(separate_net::activation_buffers == 16 - 1);  // only the flatten
}

// Sharing a buffer must not change a bit of any pass: forward, backward, the tangent and the
// paired reverse pass (the gradient penalty's), with parameter gradients after each reverse pass.
BOOST_AUTO_TEST_CASE(shared_buffers_give_the_same_bits_in_every_pass) {
    same_bits_as<shared_net, separate_net>(7, 11);
}

// Two networks working in one set of adjoint buffers (as a gan's generator and critic do) give
// what each gives alone, whatever ran in between; a copy works in a set of its own.
BOOST_AUTO_TEST_CASE(networks_sharing_reverse_buffers_give_the_same_bits) {
    using first_net = network<shape<2, 5, 5>, float, backend::cpu, conv2d<2, 3, 3, 1, 1>, leaky_relu<>, flatten,
                              dense<75, 4>, gant::tanh>;
    using second_net = shared_net;
    rng r(21);
    auto filled = [&](std::size_t rows, std::size_t cols) {
        tensor<float> t({rows, cols});
        for (auto& v : t) v = float(r.normal());
        return t;
    };
    const tensor<float> x1 = filled(3, 50), dy1 = filled(3, 4), x2 = filled(5, 50), xdot2 = filled(5, 50),
                        ybar2 = filled(5, 1), ydotbar2 = filled(5, 1);
    auto init = [](auto& net, std::uint64_t seed) {
        rng g(seed);
        randomize_parameters(net, g);
    };
    // The first network's backward, the second's paired pass, then the first's backward again.
    auto run = [&](first_net& a, second_net& b) {
        std::vector<std::vector<float>> out;
        auto keep = [&](const auto& values) { out.emplace_back(values.begin(), values.end()); };
        tensor<float> dx, xbar, xdotbar;
        for (int round = 0; round < 2; ++round) {
            a.forward(x1);
            a.backward(dy1, &dx);
            keep(dx);
            if (round == 0) {
                b.forward(x2);
                b.forward_tangent(xdot2);
                b.backward_paired(ybar2, ydotbar2, &xbar, &xdotbar);
                keep(xbar);
                keep(xdotbar);
            }
        }
        a.visit_parameters([&](parameter<float>& p) { keep(p.grad); });
        b.visit_parameters([&](parameter<float>& p) { keep(p.grad); });
        return out;
    };
    first_net a1, a2;
    second_net b1, b2;
    init(a1, 1), init(a2, 1), init(b1, 2), init(b2, 2);
    a2.share_reverse_buffers(b2);
    BOOST_TEST(a2.shares_reverse_buffers_with(b2));
    BOOST_TEST(!a1.shares_reverse_buffers_with(b1));
    const auto alone = run(a1, b1), shared = run(a2, b2);
    BOOST_TEST_REQUIRE(alone.size() == shared.size());
    for (std::size_t k = 0; k < alone.size(); ++k) BOOST_TEST((alone[k] == shared[k]), "result " << k << " differs");

    const first_net copy = a2;  // may run on another thread: must not work in a2's buffers
    BOOST_TEST(!copy.shares_reverse_buffers_with(a2));
    BOOST_TEST(!copy.shares_reverse_buffers_with(b2));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the buffer plan: views, backward in place, the two reverse buffers -----------------------

namespace {

// L with none of the facts that let a network share buffers (in place, views, backward in place,
// output not read): every activation and every adjoint gets a buffer of its own, the reference
// the planned networks must match bit for bit.
template <class L>
struct plain : gant::testing::descriptor_of<L> {
    template <class In, class T, class B>
    struct impl : L::template impl<In, T, B> {
        static constexpr bool in_place = false, reads_output = true, views_input = false, backward_in_place = false;
    };
};

template <class Net>
struct plain_network;
template <class In, class T, class B, class... Ls>
struct plain_network<network<In, T, B, Ls...>> {
    using type = network<In, T, B, plain<Ls>...>;
};

// Net with every layer's passes split over two threads (two_threads.hpp), facts kept.
template <class Net>
struct threaded;
template <class In, class T, class B, class... Ls>
struct threaded<network<In, T, B, Ls...>> {
    using type = network<In, T, B, on_two_threads<Ls>...>;
};

template <class Net>
void same_bits_as_plain(std::size_t batch, std::uint64_t seed, bool borrow = false) {
    same_bits_as<Net, typename plain_network<Net>::type>(batch, seed, borrow);
}

// The reverse-buffer plan's two promises for any network: a layer whose backward runs in place
// keeps its adjoints in one buffer, any other alternates, and buffer 0 holds the largest adjoint.
template <class Net>
void check_adjoint_plan() {
    constexpr auto slot = Net::adjoint_slot;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        constexpr std::array<bool, Net::depth> same{backward_runs_in_place<typename Net::template layer_type<I>>()...};
        constexpr std::array<std::size_t, Net::depth + 1> size{Net::template layer_type<I>::input_shape::size...,
                                                               Net::output_size};
        std::size_t largest[2] = {0, 0};
        for (std::size_t i = 1; i <= Net::depth; ++i) {
            BOOST_TEST(slot[i] < 2);
            largest[slot[i] % 2] = std::max(largest[slot[i] % 2], size[i]);
            if (i < Net::depth) BOOST_TEST((slot[i] == slot[i + 1]) == same[i], "layer " << i);
        }
        BOOST_TEST(largest[0] >= largest[1]);
    }(std::make_index_sequence<Net::depth>{});
}

// Views and in-place backward passes next to every kind of neighbour: views first and last and
// in runs; a view after a layer that reads its output (leaky), then an in-place activation
// (sigmoid, whose output would change every derivative leaky reads from it), which must not
// overwrite it; a view after a layer that does not (dense), then one that
// may; normalisations and activations whose backward runs in place.
using viewing_net = network<shape<2, 4, 4>, float, backend::cpu, reshape<shape<32>>, reshape<shape<2, 4, 4>>,
                            conv2d<2, 3, 3, 1, 1>, leaky_relu<>, flatten, sigmoid, reshape<shape<3, 4, 4>>,
                            batch_norm<3>, gant::tanh, conv2d<3, 2, 3, 2, 1>, layer_norm<2>, sigmoid, flatten,
                            reshape<shape<2, 2, 2>>, flatten, dense<8, 5>, flatten, relu, dense<5, 3>, flatten>;

}  // namespace

BOOST_AUTO_TEST_SUITE(buffer_plan)

BOOST_AUTO_TEST_CASE(views_share_whatever_the_layer_before_reads) {
    using net = viewing_net;
    constexpr auto slot = net::activation_slot;
    static_assert(net::depth == 20);
    // Views (0, 1, 4, 6, 12, 13, 14, 16, 19) always share, and so do leaky 3 (after conv2d), tanh
    // 8 (after batch_norm), sigmoid 11 (after layer_norm) and relu 17 (after dense, through a
    // view); sigmoid 5 does not: its buffer holds leaky 3's output, which leaky's passes read.
    for (std::size_t i : {0, 1, 4, 6, 12, 13, 14, 16, 19, 3, 8, 11, 17}) BOOST_TEST(slot[i + 1] == slot[i], "layer " << i);
    for (std::size_t i : {2, 5, 7, 9, 10, 15, 18}) BOOST_TEST(slot[i + 1] != slot[i], "layer " << i);
    static_assert(net::activation_buffers == 21 - 13);
    static_assert(plain_network<net>::type::activation_buffers == 21);
}

BOOST_AUTO_TEST_CASE(views_and_backward_in_place_give_the_same_bits_in_every_pass) {
    same_bits_as_plain<viewing_net>(5, 31);
    same_bits_as_plain<shared_net>(7, 32);
}

BOOST_AUTO_TEST_CASE(the_same_bits_with_every_pass_split_over_two_threads) {
    same_bits_as_plain<threaded<viewing_net>::type>(9, 33);
    same_bits_as_plain<threaded<shared_net>::type>(9, 34);
}

// The DCGAN topologies: what a gan's generator and critic run, at their per-sample shapes.
template <class Image>
using dcgan_nets = topology::dcgan<Image, shape<100>>;
template <class Image>
using dcgan_generator = typename dcgan_nets<Image>::generator::template impl<shape<100>, float, backend::cpu>;
template <class Image>
using dcgan_critic = typename dcgan_nets<Image>::critic::template impl<Image, float, backend::cpu>;

BOOST_AUTO_TEST_CASE(dcgan_networks_give_the_same_bits_as_without_a_plan) {
    same_bits_as_plain<dcgan_generator<image<1, 28, 28>>>(3, 41);
    same_bits_as_plain<dcgan_critic<image<1, 28, 28>>>(3, 42);
    same_bits_as_plain<dcgan_generator<image<3, 64, 64>>>(2, 43);
    same_bits_as_plain<dcgan_critic<image<3, 64, 64>>>(2, 44);
    check_adjoint_plan<dcgan_generator<image<1, 28, 28>>>();
    check_adjoint_plan<dcgan_critic<image<1, 28, 28>>>();
    check_adjoint_plan<dcgan_generator<image<3, 64, 64>>>();
    check_adjoint_plan<dcgan_critic<image<3, 64, 64>>>();
    // The 28x28 generator: dense, reshape, batch_norm, relu, conv_transpose2d, batch_norm, relu,
    // conv_transpose2d, tanh. Its largest adjoints (64 x 14 x 14, layers 5-7) share buffer 0, and
    // the dense layer's output, the reshape, batch_norm and relu before them share buffer 1.
    using g28 = dcgan_generator<image<1, 28, 28>>;
    for (std::size_t i : {5, 6, 7}) BOOST_TEST(g28::adjoint_slot[i] == 0u, "adjoint " << i);
    for (std::size_t i : {1, 2, 3, 4, 8, 9}) BOOST_TEST(g28::adjoint_slot[i] == 1u, "adjoint " << i);
}

// backward_through against its two calls: an upstream network (the generator's place) whose
// output adjoint is in buffer 1, under a downstream network whose first layer reads its adjoint
// from buffer 0 (the input gradient goes straight in) or from buffer 1 (through a buffer of the
// upstream's own), with the reverse buffers shared or not.
using upstream_net = network<shape<3>, float, backend::cpu, dense<3, 8>, gant::tanh, dense<8, 6>, gant::tanh>;
using straight_in_net = network<shape<6>, float, backend::cpu, dense<6, 16>, relu, dense<16, 1>>;
using colliding_net = network<shape<6>, float, backend::cpu, dense<6, 2>, gant::tanh, dense<2, 32>, dense<32, 1>>;
static_assert(upstream_net::adjoint_slot[upstream_net::depth] == 1);
static_assert(straight_in_net::adjoint_slot[1] == 0);
static_assert(colliding_net::adjoint_slot[1] == 1);

template <class Down>
void backward_through_gives_the_bits_of_two_calls(bool share, bool accumulate_downstream) {
    constexpr std::size_t batch = 5;
    auto init = [](auto& net, std::uint64_t seed) {
        rng g(seed);
        randomize_parameters(net, g);
    };
    rng r(51);
    tensor<float> z({batch, 3}), dy({batch, 1});
    for (auto& v : z) v = float(r.normal());
    for (auto& v : dy) v = float(r.normal());
    auto run = [&](bool through) {
        upstream_net up;
        Down down;
        init(up, 1), init(down, 2);
        if (share) up.share_reverse_buffers(down);
        std::vector<std::vector<float>> out;
        auto keep = [&](const auto& values) { out.emplace_back(values.begin(), values.end()); };
        tensor<float> dz, g;
        for (int step = 0; step < 2; ++step) {  // twice: the second works in buffers sized by the first
            up.zero_grad();
            down.zero_grad();
            down.forward(up.forward(z));
            if (through) {
                up.backward_through(down, dy, accumulate_downstream, &dz, true);
            } else {
                down.backward(dy, &g, accumulate_downstream);
                up.backward(g, &dz, true);
            }
            keep(dz);
            up.visit_parameters([&](parameter<float>& p) { keep(p.grad); });
            down.visit_parameters([&](parameter<float>& p) { keep(p.grad); });
        }
        return out;
    };
    const auto through = run(true), two_calls = run(false);
    BOOST_TEST_REQUIRE(through.size() == two_calls.size());
    for (std::size_t k = 0; k < through.size(); ++k)
        BOOST_TEST((through[k] == two_calls[k]), "result " << k << " differs");
    bool some_nonzero = false;
    for (float v : through.front()) some_nonzero = some_nonzero || v != 0.0f;
    BOOST_TEST(some_nonzero, "the upstream input gradient is all zero");
}

BOOST_AUTO_TEST_CASE(backward_through_another_network_gives_the_bits_of_two_calls) {
    for (bool share : {false, true})
        for (bool accumulate_downstream : {false, true}) {
            BOOST_TEST_CONTEXT("shared " << share << ", downstream gradients " << accumulate_downstream) {
                backward_through_gives_the_bits_of_two_calls<straight_in_net>(share, accumulate_downstream);
                backward_through_gives_the_bits_of_two_calls<colliding_net>(share, accumulate_downstream);
            }
        }
}

// A network that borrows its input: the first layer reads the caller's batch (dense), a nested
// network reads the outer one's activation (its first layer is a convolution), and another
// nested network starts with an in-place activation, so it cannot borrow and keeps a copy.
using borrowing_net = network<shape<12>, float, backend::cpu, dense<12, 18>, reshape<shape<2, 3, 3>>,
                              sequential<conv2d<2, 2, 3, 1, 1>, gant::tanh, flatten>,
                              sequential<leaky_relu<>, dense<18, 4>>, dense<4, 2>>;
static_assert(borrowing_net::can_borrow_input);
static_assert(borrowing_net::layer_type<2>::can_borrow_input);
static_assert(!borrowing_net::layer_type<3>::can_borrow_input);
static_assert(!viewing_net::can_borrow_input && !shared_net::can_borrow_input);

BOOST_AUTO_TEST_CASE(a_borrowed_input_gives_the_bits_of_a_copied_one_in_every_pass) {
    same_bits_as_plain<borrowing_net>(4, 61, true);
    same_bits_as_plain<borrowing_net>(4, 62, false);
    same_bits_as_plain<dcgan_critic<image<1, 28, 28>>>(3, 63, true);
    same_bits_as_plain<threaded<borrowing_net>::type>(5, 64, true);
    // Networks whose layers write into the input buffer copy the input instead.
    same_bits_as_plain<viewing_net>(5, 65, true);
    same_bits_as_plain<shared_net>(7, 66, true);
}

BOOST_AUTO_TEST_CASE(a_borrowed_input_is_read_where_it_is) {
    // The first layer's weight gradient is read from the input in the backward pass, so after the
    // caller's batch changes it is the changed batch's: dy^T (2 x), not dy^T x.
    using one_dense = network<shape<3>, float, backend::cpu, dense<3, 2>>;
    one_dense borrowing, copying;
    borrowing.visit_parameters([](parameter<float>& p) { std::fill(p.value.begin(), p.value.end(), 0.25f); });
    copying.visit_parameters([](parameter<float>& p) { std::fill(p.value.begin(), p.value.end(), 0.25f); });
    tensor<float> x({2, 3}), doubled({2, 3}), dy({2, 2});
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = float(k) - 2.5f;
    for (std::size_t k = 0; k < dy.size(); ++k) dy.data()[k] = 0.5f * float(k) + 1.0f;
    for (std::size_t k = 0; k < x.size(); ++k) doubled.data()[k] = 2.0f * x.data()[k];
    borrowing.zero_grad();
    borrowing.forward_borrowed(x);
    x = doubled;
    borrowing.backward(dy, nullptr);
    copying.zero_grad();
    copying.forward(doubled);
    copying.backward(dy, nullptr);
    std::vector<std::vector<float>> got, expected;
    borrowing.visit_parameters([&](parameter<float>& p) { got.emplace_back(p.grad.begin(), p.grad.end()); });
    copying.visit_parameters([&](parameter<float>& p) { expected.emplace_back(p.grad.begin(), p.grad.end()); });
    BOOST_TEST((got == expected));
}

BOOST_AUTO_TEST_CASE(a_copy_of_a_borrowing_network_keeps_its_own_input) {
    // Copied or moved after forward_borrowed, a network holds the input it read, so its reverse
    // passes give the original's bits after the caller's batch is gone.
    using net = borrowing_net;
    rng r(71);
    net original;
    randomize_parameters(original, r);
    tensor<float> dy({3, net::output_size});
    for (auto& v : dy) v = float(r.normal());
    auto x = std::make_unique<tensor<float>>(tensor<float>::shape_type{3, net::input_size});
    for (auto& v : *x) v = float(r.normal());
    auto gradients = [&](net& n) {
        std::vector<std::vector<float>> out;
        tensor<float> dx;
        n.zero_grad();
        n.backward(dy, &dx);
        out.emplace_back(dx.begin(), dx.end());
        n.visit_parameters([&](parameter<float>& p) { out.emplace_back(p.grad.begin(), p.grad.end()); });
        return out;
    };
    original.forward_borrowed(*x);
    const auto reference = gradients(original);
    net copied(original);
    net assigned;
    assigned = original;
    net moved(std::move(original));
    for (auto& v : *x) v = std::numeric_limits<float>::quiet_NaN();  // what a dangling read would see
    x.reset();
    BOOST_TEST((gradients(copied) == reference));
    BOOST_TEST((gradients(assigned) == reference));
    BOOST_TEST((gradients(moved) == reference));
}

BOOST_AUTO_TEST_CASE(adjoint_plans_of_the_test_networks) {
    check_adjoint_plan<viewing_net>();
    check_adjoint_plan<shared_net>();
    check_adjoint_plan<separate_net>();
    check_adjoint_plan<plain_network<shared_net>::type>();
    // A network without in-place backward passes alternates from the first layer to the last.
    using alternating = plain_network<viewing_net>::type;
    for (std::size_t i = 1; i < alternating::depth; ++i) BOOST_TEST(alternating::adjoint_slot[i] != alternating::adjoint_slot[i + 1]);
}

BOOST_AUTO_TEST_SUITE_END()
