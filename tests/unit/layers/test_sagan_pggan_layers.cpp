#define BOOST_TEST_MODULE gant_sagan_pggan_layers
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/equalized.hpp"
#include "gant/layers/minibatch_stddev.hpp"
#include "gant/layers/pixel_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/layers/self_attention.hpp"
#include "gant/nn/network_io.hpp"
#include "gant/optim/init.hpp"
#include "support/gradcheck.hpp"

using namespace gant;
using gant::testing::check_layers;
using gant::testing::check_network;
using gant::testing::gradcheck_options;

namespace {

template <class In, class... Layers>
using net_t = network<In, double, backend::cpu, Layers...>;

gradcheck_options batch_of(std::size_t n) {
    gradcheck_options o;
    o.batch = n;
    return o;
}

gradcheck_options inference_batch_of(std::size_t n) {
    gradcheck_options o;
    o.batch = n;
    o.pass_mode = mode::inference;
    return o;
}

tensor<double> random_batch(std::size_t batch, std::size_t features, rng& r, double scale = 1.0) {
    tensor<double> t({batch, features});
    for (auto& v : t) v = scale * r.normal();
    return t;
}

template <class Net>
void randomize(Net& net, rng& r, double scale = 0.5) {
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = scale * r.normal();
    });
}

}  // namespace

// ---- compile-time facts -----------------------------------------------------------------------

static_assert(self_attention<8>::accepts<shape<8, 3, 5>>);
static_assert(!self_attention<8>::accepts<shape<4, 3, 5>>, "self_attention must refuse another channel count");
static_assert(!self_attention<8>::accepts<shape<120>>, "self_attention takes images only");
static_assert(std::is_same_v<self_attention<8>::output_shape<shape<8, 3, 5>>, shape<8, 3, 5>>);
static_assert(std::is_same_v<self_attention<8>::expects, expects_channels<8>>);
static_assert(self_attention<8>::impl<shape<8, 2, 2>, double, backend::cpu>::attention_channels == 1);
static_assert(self_attention<5>::impl<shape<5, 2, 2>, double, backend::cpu>::attention_channels == 1);
static_assert(self_attention<24>::impl<shape<24, 2, 2>, double, backend::cpu>::attention_channels == 3);
static_assert(layer_impl<self_attention<8>::impl<shape<8, 3, 5>, float, backend::cpu>>);
static_assert(layer_impl<self_attention<8, true>::impl<shape<8, 3, 5>, double, backend::cpu>>);
static_assert(std::is_same_v<self_attention<8>::spectrally_normalised, self_attention<8, true>>);
static_assert(std::is_same_v<pixel_norm::output_shape<shape<5, 3, 3>>, shape<5, 3, 3>>);
static_assert(layer_impl<pixel_norm::impl<shape<5, 3, 3>, float, backend::cpu>>);
static_assert(std::is_same_v<minibatch_stddev<>::output_shape<shape<3, 4, 4>>, shape<4, 4, 4>>);
static_assert(std::is_same_v<minibatch_stddev<>::output_shape<shape<6>>, shape<7>>);
static_assert(layer_impl<minibatch_stddev<2>::impl<shape<3, 2, 3>, double, backend::cpu>>);
static_assert(std::is_same_v<equalized<dense<5, 4>>::output_shape<shape<5>>, shape<4>>);
static_assert(equalized<conv2d<2, 3, 3, 1, 1>>::accepts<shape<2, 5, 4>>);
static_assert(!equalized<conv2d<2, 3, 3, 1, 1>>::accepts<shape<3, 5, 4>>);
static_assert(layer_impl<equalized<conv2d<2, 3, 3, 1, 1>>::impl<shape<2, 5, 4>, float, backend::cpu>>);
// Minibatch stddev mixes samples, but in a way a gradient penalty on sum_i D(x_i) tolerates.
static_assert(net_t<shape<3, 2, 2>, minibatch_stddev<>>::couples_samples);
static_assert(!net_t<shape<3, 2, 2>, minibatch_stddev<>>::uses_batch_statistics);
static_assert(!net_t<shape<8, 2, 2>, self_attention<8>, pixel_norm, equalized<conv2d<8, 2, 1>>>::couples_samples);
static_assert(net_t<shape<8, 2, 2>, self_attention<8>, pixel_norm, minibatch_stddev<>, equalized<conv2d<9, 2, 1>>>::
                  second_order);

// ---- self-attention ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(self_attention_layer)

// The testbed draws every parameter, gamma included, from N(0, 0.25): the attention path is live.
BOOST_AUTO_TEST_CASE(gradients_one_attention_channel) { check_layers<shape<8, 3, 5>, self_attention<8>>(batch_of(2)); }
BOOST_AUTO_TEST_CASE(gradients_two_attention_channels) {
    check_layers<shape<16, 3, 5>, self_attention<16>>(batch_of(3));
}
BOOST_AUTO_TEST_CASE(gradients_fewer_than_eight_channels) {
    check_layers<shape<5, 1, 7>, self_attention<5>>(batch_of(1));
}
BOOST_AUTO_TEST_CASE(gradients_large_scores) {
    // Larger weights and inputs: peaked softmax rows, where the curvature terms are largest.
    gradcheck_options o = batch_of(2);
    o.param_scale = 1.0;
    o.input_scale = 1.5;
    check_layers<shape<24, 2, 3>, self_attention<24>>(o);
}
BOOST_AUTO_TEST_CASE(gradients_inside_a_critic) {
    check_layers<shape<2, 3, 5>, conv2d<2, 8, 3, 1, 1>, gant::tanh, self_attention<8>, softplus, flatten,
                 dense<120, 3>, gant::tanh, dense<3, 1>>(batch_of(3));
}
BOOST_AUTO_TEST_CASE(gradients_with_spectral_norm) {
    // inference mode: u and v stay fixed, so finite differences see one function
    check_layers<shape<16, 3, 3>, self_attention<16, true>, gant::tanh>(inference_batch_of(2));
}

// Direct evaluation of algorithms.md 7.1 for one sample, with the layer's own weights.
std::vector<double> reference_attention(const double* x, std::size_t C, std::size_t N, std::size_t Cr,
                                        const double* Wf, const double* Wg, const double* Wh, const double* Wv,
                                        double gamma) {
    auto project = [&](const double* W, std::size_t rows, std::size_t cols, const std::vector<double>& in) {
        std::vector<double> out(rows * N, 0.0);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t c = 0; c < cols; ++c)
                for (std::size_t i = 0; i < N; ++i) out[r * N + i] += W[r * cols + c] * in[c * N + i];
        return out;
    };
    const std::vector<double> X(x, x + C * N);
    const auto F = project(Wf, Cr, C, X), G = project(Wg, Cr, C, X), H = project(Wh, Cr, C, X);
    std::vector<double> beta(N * N);  // beta[i][j]
    for (std::size_t j = 0; j < N; ++j) {
        double total = 0;
        for (std::size_t i = 0; i < N; ++i) {
            double s = 0;
            for (std::size_t c = 0; c < Cr; ++c) s += F[c * N + i] * G[c * N + j];
            beta[i * N + j] = std::exp(s);
            total += beta[i * N + j];
        }
        for (std::size_t i = 0; i < N; ++i) beta[i * N + j] /= total;
    }
    std::vector<double> M(Cr * N, 0.0);
    for (std::size_t c = 0; c < Cr; ++c)
        for (std::size_t j = 0; j < N; ++j)
            for (std::size_t i = 0; i < N; ++i) M[c * N + j] += H[c * N + i] * beta[i * N + j];
    const auto O = project(Wv, C, Cr, M);
    std::vector<double> Y(C * N);
    for (std::size_t k = 0; k < C * N; ++k) Y[k] = gamma * O[k] + X[k];
    return Y;
}

BOOST_AUTO_TEST_CASE(forward_matches_the_definition) {
    constexpr std::size_t C = 16, Hh = 3, Ww = 5, N = Hh * Ww, Cr = 2;
    net_t<shape<C, Hh, Ww>, self_attention<C>> net;
    rng r(21);
    randomize(net, r, 0.7);
    auto& a = net.layer<0>();
    a.gamma().value(0) = 0.8;
    const tensor<double> x = random_batch(3, C * N, r);
    const auto& y = net.forward(x);
    for (std::size_t s = 0; s < 3; ++s) {
        const auto expected = reference_attention(&x(s, 0), C, N, Cr, a.f().weight().data(), a.g().weight().data(),
                                                  a.h().weight().data(), a.v().weight().data(), 0.8);
        double worst = 0;
        for (std::size_t k = 0; k < C * N; ++k) worst = std::max(worst, std::abs(y(s, k) - expected[k]));
        BOOST_TEST_INFO("sample " << s);
        BOOST_TEST(worst < 1e-12);
        // every row of the attention map is a distribution over the N input positions
        for (std::size_t j = 0; j < N; ++j) {
            double total = 0;
            for (std::size_t i = 0; i < N; ++i) total += a.attention(s)[j * N + i];
            BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-12));
        }
    }
}

// With gamma = 0 (the initial state) the block is the identity; only gamma gets a gradient.
BOOST_AUTO_TEST_CASE(gamma_zero_is_the_identity) {
    net_t<shape<8, 3, 5>, self_attention<8>> net;
    rng r(5);
    randomize(net, r);
    net.layer<0>().gamma().value(0) = 0.0;
    const tensor<double> x = random_batch(2, 120, r), dy = random_batch(2, 120, r);
    const auto& y = net.forward(x);
    for (std::size_t k = 0; k < x.size(); ++k) BOOST_TEST(y.data()[k] == x.data()[k]);
    net.zero_grad();
    tensor<double> dx;
    net.backward(dy, &dx);
    for (std::size_t k = 0; k < x.size(); ++k) BOOST_TEST(dx.data()[k] == dy.data()[k]);
    auto& a = net.layer<0>();
    for (auto* p : {&a.f().weight(), &a.g().weight(), &a.h().weight(), &a.v().weight()})
        for (auto v : p->grad) BOOST_TEST(v == 0.0);
    BOOST_TEST(std::abs(a.gamma().grad(0)) > 1e-3);
}

// Every initialiser leaves gamma at 0 (it is a shift), and draws the projections.
BOOST_AUTO_TEST_CASE(initialisers_start_gamma_at_zero) {
    net_t<shape<8, 2, 2>, self_attention<8>> net;
    rng r(3);
    auto check = [&](const auto& initializer) {
        net.layer<0>().gamma().value(0) = 0.5;
        init::apply(net, initializer, r);
        BOOST_TEST(net.layer<0>().gamma().value(0) == 0.0);
        double norm = 0;
        for (auto v : net.layer<0>().f().weight().value) norm += v * v;
        BOOST_TEST(norm > 0.0);
    };
    check(init::dcgan{});
    check(init::pytorch_default{});
    check(init::kaiming{});
    check(init::xavier{});
    check(init::normal{});
    check(init::equalized{});
}

BOOST_AUTO_TEST_CASE(parameter_and_buffer_names_are_distinct) {
    net_t<shape<16, 2, 2>, self_attention<16, true>> net;
    std::vector<std::string> params, buffers;
    net.visit_parameters([&](parameter<double>& p) { params.push_back(p.name); });
    net.visit_buffers([&](buffer<double>& b) { buffers.push_back(b.name); });
    BOOST_TEST(params == (std::vector<std::string>{"f.weight", "g.weight", "h.weight", "v.weight", "gamma"}),
               boost::test_tools::per_element());
    BOOST_TEST(buffers == (std::vector<std::string>{"f.u", "f.v", "g.u", "g.v", "h.u", "h.v", "v.u", "v.v"}),
               boost::test_tools::per_element());
    BOOST_TEST(net.parameter_count() == 3u * 2 * 16 + 16u * 2 + 1);
    net_t<shape<16, 2, 2>, self_attention<16>> plain;
    std::size_t buffer_count = 0;
    plain.visit_buffers([&](buffer<double>&) { ++buffer_count; });
    BOOST_TEST(buffer_count == 0u);
}

// Spectral norm on the projections: in training mode each forward runs one power iteration per
// projection, so after many forwards each sigma is its weight's largest singular value (here
// from the 2 x 2 Gram matrix of the 2 x 16 or 16 x 2 weight, in closed form).
double largest_singular_value_rank2(const std::vector<double>& w, std::size_t rows, std::size_t cols) {
    // Gram matrix of the short side: W W^T (rows = 2) or W^T W (cols = 2)
    double a = 0, b = 0, d = 0;
    const bool wide = rows == 2;
    const std::size_t len = wide ? cols : rows;
    for (std::size_t k = 0; k < len; ++k) {
        const double p = wide ? w[k] : w[k * cols], q = wide ? w[cols + k] : w[k * cols + 1];
        a += p * p;
        b += p * q;
        d += q * q;
    }
    return std::sqrt((a + d) / 2 + std::sqrt((a - d) * (a - d) / 4 + b * b));
}

BOOST_AUTO_TEST_CASE(spectral_norm_normalises_the_projections) {
    net_t<shape<16, 2, 3>, self_attention<16, true>> net;
    rng r(8);
    randomize(net, r, 1.0);
    const tensor<double> x = random_batch(2, 96, r);
    auto& a = net.layer<0>();
    const double f_before = a.f().sigma();
    for (int i = 0; i < 300; ++i) net.forward(x);
    BOOST_TEST(a.f().sigma() != f_before);
    auto values = [](auto& projection) {
        return std::vector<double>(projection.weight().value.begin(), projection.weight().value.end());
    };
    BOOST_TEST(a.f().sigma() == largest_singular_value_rank2(values(a.f()), 2, 16), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.g().sigma() == largest_singular_value_rank2(values(a.g()), 2, 16), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.h().sigma() == largest_singular_value_rank2(values(a.h()), 2, 16), boost::test_tools::tolerance(1e-9));
    BOOST_TEST(a.v().sigma() == largest_singular_value_rank2(values(a.v()), 16, 2), boost::test_tools::tolerance(1e-9));
    // and the projection computes with W / sigma
    for (std::size_t i = 0; i < 32; ++i)
        BOOST_TEST(a.f().inner().weight().value(i) == a.f().weight().value(i) / a.f().sigma(),
                   boost::test_tools::tolerance(1e-14));
}

// Samples are split over the pool; the number of threads changes nothing but rounding.
BOOST_AUTO_TEST_CASE(threads_do_not_change_results) {
    net_t<shape<8, 3, 3>, self_attention<8>> net;
    rng r(13);
    randomize(net, r);
    const tensor<double> x = random_batch(5, 72, r), xdot = random_batch(5, 72, r), ybar = random_batch(5, 72, r),
                         ydotbar = random_batch(5, 72, r);
    auto run = [&](thread_pool& pool) {
        pass_context ctx;
        ctx.pool = &pool;
        net.zero_grad();
        std::vector<double> out;
        const auto& y = net.forward(x, ctx);
        out.insert(out.end(), y.begin(), y.end());
        const auto& yd = net.forward_tangent(xdot, ctx);
        out.insert(out.end(), yd.begin(), yd.end());
        tensor<double> xb, xdb;
        net.backward_paired(ybar, ydotbar, &xb, &xdb, ctx);
        out.insert(out.end(), xb.begin(), xb.end());
        out.insert(out.end(), xdb.begin(), xdb.end());
        net.visit_parameters([&](parameter<double>& p) { out.insert(out.end(), p.grad.begin(), p.grad.end()); });
        return out;
    };
    thread_pool one(1), two(2), three(3);
    const auto a = run(one), b = run(two), c = run(three);
    // equal up to rounding: the projections' weight gradients are summed per worker
    BOOST_TEST_REQUIRE(a.size() == b.size());
    BOOST_TEST_REQUIRE(a.size() == c.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        BOOST_TEST_INFO("entry " << i);
        BOOST_TEST(a[i] == b[i], boost::test_tools::tolerance(1e-11));
        BOOST_TEST(a[i] == c[i], boost::test_tools::tolerance(1e-11));
    }
}

BOOST_AUTO_TEST_CASE(float_matches_double) {
    network<shape<8, 3, 3>, float, backend::cpu, self_attention<8>> fnet;
    net_t<shape<8, 3, 3>, self_attention<8>> dnet;
    rng r(17);
    std::vector<double> values;
    dnet.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) {
            v = 0.5 * r.normal();
            values.push_back(v);
        }
    });
    std::size_t k = 0;
    fnet.visit_parameters([&](parameter<float>& p) {
        for (auto& v : p.value) v = float(values[k++]);
    });
    tensor<double> x = random_batch(2, 72, r);
    tensor<float> xf({2, 72});
    for (std::size_t i = 0; i < x.size(); ++i) {
        xf.data()[i] = float(x.data()[i]);
        x.data()[i] = double(xf.data()[i]);
    }
    const auto& yd = dnet.forward(x);
    const auto& yf = fnet.forward(xf);
    double worst = 0;
    for (std::size_t i = 0; i < yd.size(); ++i) worst = std::max(worst, std::abs(double(yf.data()[i]) - yd.data()[i]));
    BOOST_TEST(worst < 1e-5);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- pixel norm -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(pixel_norm_layer)

BOOST_AUTO_TEST_CASE(gradients_image) { check_layers<shape<5, 3, 3>, pixel_norm>(batch_of(3)); }
BOOST_AUTO_TEST_CASE(gradients_vector) { check_layers<shape<7>, pixel_norm>(batch_of(2)); }
BOOST_AUTO_TEST_CASE(gradients_small_activations) {
    // |a| ~ 0.01: r is dominated by the activations, far from eps, but the r^-3 terms are large
    gradcheck_options o = batch_of(2);
    o.input_scale = 0.01;
    o.step = 1e-8;
    check_layers<shape<3, 2, 5>, pixel_norm>(o);
}
BOOST_AUTO_TEST_CASE(gradients_inside_a_generator) {
    // PGGAN's generator: latent pixel norm, dense, reshape, pixel norm after each activation
    check_layers<shape<6>, pixel_norm, dense<6, 36>, reshape<shape<4, 3, 3>>, softplus, pixel_norm,
                 conv2d<4, 3, 3, 1, 1>, gant::tanh, pixel_norm, flatten, dense<27, 2>>(batch_of(3));
}

BOOST_AUTO_TEST_CASE(output_has_unit_mean_square_per_pixel) {
    net_t<shape<5, 3, 3>, pixel_norm> net;
    rng r(2);
    const tensor<double> x = random_batch(4, 45, r, 3.0);
    const auto& y = net.forward(x);
    for (std::size_t s = 0; s < 4; ++s)
        for (std::size_t p = 0; p < 9; ++p) {
            double ms = 0;
            for (std::size_t c = 0; c < 5; ++c) ms += y(s, c * 9 + p) * y(s, c * 9 + p) / 5;
            BOOST_TEST(ms == 1.0, boost::test_tools::tolerance(1e-8));
        }
}

BOOST_AUTO_TEST_CASE(hand_computed_values) {
    // one pixel with channels (3, 4): mean square 12.5; and a zero pixel stays zero (eps)
    net_t<shape<2, 1, 2>, pixel_norm> net;
    tensor<double> x({1, 4});
    x(0, 0) = 3;  // channel 0, pixel 0
    x(0, 1) = 0;  // channel 0, pixel 1
    x(0, 2) = 4;  // channel 1, pixel 0
    x(0, 3) = 0;  // channel 1, pixel 1
    const auto& y = net.forward(x);
    const double r = std::sqrt(12.5 + 1e-8);
    BOOST_TEST(y(0, 0) == 3 / r, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(y(0, 2) == 4 / r, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(y(0, 1) == 0.0);
    BOOST_TEST(y(0, 3) == 0.0);
    BOOST_TEST(net.layer<0>().epsilon == 1e-8);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- minibatch standard deviation -------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(minibatch_stddev_layer)

// The testbed perturbs every entry of the whole batch, so the cross-sample terms are checked.
BOOST_AUTO_TEST_CASE(gradients_groups_of_two) { check_layers<shape<3, 2, 3>, minibatch_stddev<2>>(batch_of(4)); }
BOOST_AUTO_TEST_CASE(gradients_groups_of_three) { check_layers<shape<3, 2, 3>, minibatch_stddev<3>>(batch_of(6)); }
BOOST_AUTO_TEST_CASE(gradients_group_larger_than_batch) {
    check_layers<shape<2, 3, 1>, minibatch_stddev<4>>(batch_of(3));  // one group of 3
}
BOOST_AUTO_TEST_CASE(gradients_vector) { check_layers<shape<5>, minibatch_stddev<2>>(batch_of(4)); }
BOOST_AUTO_TEST_CASE(gradients_inside_a_critic) {
    // PGGAN's last critic block: mbstd, conv, activation, dense score (curved activations here)
    check_layers<shape<2, 3, 3>, conv2d<2, 3, 1>, softplus, minibatch_stddev<2>, conv2d<4, 2, 3, 1, 1>, gant::tanh,
                 flatten, dense<18, 1>>(batch_of(4));
}

BOOST_AUTO_TEST_CASE(hand_computed_values) {
    // batch 2, one group of 2, shape<2, 1, 1>: feature 0 takes 0 and 2 (variance 1), feature 1
    // takes 2 and 2 (variance 0): s = (sqrt(1 + 1e-8) + sqrt(1e-8)) / 2
    net_t<shape<2, 1, 1>, minibatch_stddev<>> net;
    tensor<double> x({2, 2});
    x(0, 0) = 0;
    x(0, 1) = 2;
    x(1, 0) = 2;
    x(1, 1) = 2;
    const auto& y = net.forward(x);
    const double s = (std::sqrt(1 + 1e-8) + 1e-4) / 2;
    BOOST_TEST(y.shape(1) == 3u);
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST(y(i, 0) == x(i, 0));
        BOOST_TEST(y(i, 1) == x(i, 1));
        BOOST_TEST(y(i, 2) == s, boost::test_tools::tolerance(1e-15));
    }
}

BOOST_AUTO_TEST_CASE(identical_samples_give_sqrt_eps) {
    net_t<shape<3, 2, 2>, minibatch_stddev<>> net;
    rng r(4);
    tensor<double> x({4, 12});
    for (std::size_t k = 0; k < 12; ++k) {
        const double v = r.normal();
        for (std::size_t i = 0; i < 4; ++i) x(i, k) = v;
    }
    const auto& y = net.forward(x);
    BOOST_TEST(y.shape(1) == 16u);
    for (std::size_t i = 0; i < 4; ++i)
        for (std::size_t p = 0; p < 4; ++p) BOOST_TEST(y(i, 12 + p) == 1e-4, boost::test_tools::tolerance(1e-12));
}

// Groups are strided as in the official code's reshape to [G, M, ...]: with batch 4 and groups
// of 2, samples {0, 2} form one group and {1, 3} the other.
BOOST_AUTO_TEST_CASE(groups_are_strided_over_the_batch) {
    net_t<shape<2, 1, 2>, minibatch_stddev<2>> net;
    rng r(6);
    tensor<double> x = random_batch(4, 4, r);
    for (std::size_t k = 0; k < 4; ++k) x(2, k) = x(0, k);  // group {0, 2}: identical samples
    const auto& y = net.forward(x);
    for (std::size_t p = 0; p < 2; ++p) {
        BOOST_TEST(y(0, 4 + p) == 1e-4, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(y(2, 4 + p) == 1e-4, boost::test_tools::tolerance(1e-12));
        BOOST_TEST(y(1, 4 + p) > 1e-2);
        BOOST_TEST(y(3, 4 + p) == y(1, 4 + p));
    }
}

BOOST_AUTO_TEST_CASE(rejects_a_batch_that_is_not_a_multiple_of_the_group) {
    net_t<shape<3, 2, 2>, minibatch_stddev<4>> net;
    tensor<double> x = xt::ones<double>({6ul, 12ul});
    BOOST_CHECK_EXCEPTION(net.forward(x), std::invalid_argument, [](const std::invalid_argument& e) {
        const std::string what = e.what();
        return what.find("minibatch_stddev") != std::string::npos && what.find("6") != std::string::npos;
    });
    tensor<double> ok = xt::ones<double>({8ul, 12ul});
    BOOST_CHECK_NO_THROW(net.forward(ok));
    tensor<double> small = xt::ones<double>({3ul, 12ul});  // one group of 3
    BOOST_CHECK_NO_THROW(net.forward(small));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- equalized learning rate ------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(equalized_layers)

BOOST_AUTO_TEST_CASE(gradients_dense) { check_layers<shape<5>, equalized<dense<5, 4>>>(batch_of(3)); }
BOOST_AUTO_TEST_CASE(gradients_conv2d) {
    check_layers<shape<2, 5, 4>, equalized<conv2d<2, 3, 3, 1, 1>>>(batch_of(3));
}
BOOST_AUTO_TEST_CASE(gradients_pggan_like_critic) {
    check_layers<shape<2, 4, 4>, equalized<conv2d<2, 3, 1>>, softplus, minibatch_stddev<2>,
                 equalized<conv2d<4, 3, 3, 1, 1>>, gant::tanh, flatten, equalized<dense<48, 3>>, softplus,
                 equalized<dense<3, 1>, gain::linear>>(batch_of(4));
}
BOOST_AUTO_TEST_CASE(gradients_pggan_like_generator) {
    check_layers<shape<5>, pixel_norm, equalized<dense<5, 36>, gain::sqrt_of<1, 8>>, reshape<shape<4, 3, 3>>,
                 softplus, pixel_norm, equalized<conv2d<4, 3, 3, 1, 1>>, gant::tanh, pixel_norm,
                 equalized<conv2d<3, 1, 1>, gain::linear>>(batch_of(3));
}

// The wrapped layer computes with c * w; the optimiser's gradient is c times the plain one.
template <class Layer, class Gain, class In>
void check_scaling(double expected_scale) {
    using wrapped_t = typename equalized<Layer, Gain>::template impl<In, double, backend::cpu>;
    using plain_t = typename Layer::template impl<In, double, backend::cpu>;
    wrapped_t eq;
    plain_t plain;
    BOOST_TEST(eq.scale() == expected_scale, boost::test_tools::tolerance(1e-15));
    rng r(31);
    for (auto& v : eq.weight().value) v = r.normal();
    for (auto& v : eq.inner().bias().value) v = r.normal();
    for (std::size_t i = 0; i < eq.weight().size(); ++i) plain.weight().value(i) = expected_scale * eq.weight().value(i);
    plain.bias().value = eq.inner().bias().value;
    constexpr std::size_t out = plain_t::output_shape::size;
    const tensor<double> x = random_batch(2, In::size, r), dy = random_batch(2, out, r);
    tensor<double> ye({2, out}), yp({2, out}), dxe({2, In::size}), dxp({2, In::size});
    pass_context ctx;
    eq.forward(x, ye, ctx);
    plain.forward(x, yp, ctx);
    for (std::size_t k = 0; k < ye.size(); ++k)
        BOOST_TEST(ye.data()[k] == yp.data()[k], boost::test_tools::tolerance(1e-13));
    eq.weight().zero_grad();
    eq.inner().bias().zero_grad();
    plain.weight().zero_grad();
    plain.bias().zero_grad();
    eq.backward(x, ye, dy, &dxe, true, ctx);
    plain.backward(x, yp, dy, &dxp, true, ctx);
    for (std::size_t k = 0; k < dxe.size(); ++k)
        BOOST_TEST(dxe.data()[k] == dxp.data()[k], boost::test_tools::tolerance(1e-13));
    for (std::size_t i = 0; i < eq.weight().size(); ++i)
        BOOST_TEST(eq.weight().grad(i) == expected_scale * plain.weight().grad(i), boost::test_tools::tolerance(1e-13));
    for (std::size_t i = 0; i < plain.bias().size(); ++i)  // the bias is not scaled
        BOOST_TEST(eq.inner().bias().grad(i) == plain.bias().grad(i), boost::test_tools::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(runtime_scale_is_gain_over_root_fan_in) {
    check_scaling<dense<5, 4>, gain::he, shape<5>>(std::sqrt(2.0 / 5.0));
    check_scaling<conv2d<2, 3, 3, 1, 1>, gain::he, shape<2, 5, 4>>(std::sqrt(2.0 / 18.0));  // fan_in = 2*3*3
    check_scaling<conv2d<3, 2, 1>, gain::linear, shape<3, 2, 2>>(1.0 / std::sqrt(3.0));
    check_scaling<dense<8, 2>, gain::sqrt_of<1, 8>, shape<8>>(std::sqrt(2.0) / 4.0 / std::sqrt(8.0));
}

// The optimiser sees the raw weight; the initialiser for equalized networks draws it from
// N(0, 1) and zeroes the bias.
BOOST_AUTO_TEST_CASE(parameters_and_initialisation) {
    net_t<shape<64>, equalized<dense<64, 64>>> net;
    auto& layer = net.layer<0>();
    std::vector<parameter<double>*> params;
    net.visit_parameters([&](parameter<double>& p) { params.push_back(&p); });
    BOOST_TEST_REQUIRE(params.size() == 2u);
    BOOST_TEST(params[0] == &layer.weight());
    BOOST_TEST(params[0] != &layer.inner().weight());
    BOOST_TEST(params[1] == &layer.inner().bias());
    for (auto& v : layer.inner().bias().value) v = 1.0;
    rng r(1);
    init::apply(net, init::equalized{}, r);
    double mean = 0, square = 0;
    for (auto v : layer.weight().value) {
        mean += v / 4096;
        square += v * v / 4096;
    }
    BOOST_TEST(std::abs(mean) < 0.05);
    BOOST_TEST(std::abs(square - 1.0) < 0.06);
    for (auto v : layer.inner().bias().value) BOOST_TEST(v == 0.0);
    // the weight the layer computes with: c * w
    net.forward(xt::zeros<double>({1ul, 64ul}));
    for (std::size_t i = 0; i < 4096; ++i)
        BOOST_TEST(layer.inner().weight().value(i) == layer.scale() * layer.weight().value(i));
}

BOOST_AUTO_TEST_CASE(named_after_the_wrapped_layer) {
    const std::string name = network_io::layer_name<equalized<conv2d<2, 3, 3>>>();
    BOOST_TEST(name == "equalized(conv2d)");
    BOOST_TEST(network_io::layer_name<self_attention<8>>() == "self_attention");
}

BOOST_AUTO_TEST_SUITE_END()
