#define BOOST_TEST_MODULE gant_pytorch_reference
#include <boost/test/unit_test.hpp>

// gant against an independent implementation: PyTorch autograd in float64
// (scripts/make_reference_fixtures.py writes unit/gan/reference_fixtures.hpp). The other tests
// check each layer against finite differences of itself, which cannot see a convention that
// is wrong consistently (a softmax over the wrong axis, a transposed weight, groups formed from
// neighbouring samples, a penalty summed the wrong way); here every value and gradient is
// compared with what torch computes from algorithms.md's definitions.
//
// Layer cases: forward, backward (input and parameter gradients of sum(w * y)), the tangent
// and the paired reverse pass (of sum(w * y) + sum(wdot * ydot)). Penalty cases: the policy's
// penalize on a small critic, with the interpolation weights of a reseeded stream; its value,
// mean gradient norm, input gradients and the gradient with respect to every parameter.
//
// The conv-leaky critic is piecewise linear: its input gradients do not move with the
// interpolation weights unless a unit changes sides, so the other critics are the ones that pin
// the interpolation down (with test interpolation_stream_draws_the_fixture_weights).
//
// Tolerance: for each array, max_k |gant_k - torch_k| <= 1e-10 * max_k |torch_k|. Both sides
// are double. The layers and WGAN-div agree to ~1e-15 (summation order); WGAN-GP to ~3e-12,
// because gant's derivative divides by |g| + 1e-12 (the guard of algorithms.md 5.2), a relative
// 1e-12 / |g| with |g| ~ 0.4 in the SAGAN critic. 1e-10 leaves room for that and nothing else.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/equalized.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/minibatch_stddev.hpp"
#include "gant/layers/pixel_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/layers/self_attention.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/nn/sequential.hpp"
#include "unit/gan/reference_fixtures.hpp"

using namespace gant;
namespace fx = gant::fixtures::reference;

namespace {

using values = std::span<const double>;

constexpr double tolerance = 1e-10;

/// Norm-wise (max-norm) relative comparison, so that an entry that is ~0 through cancellation
/// is judged against the array's scale. An array torch computes as all zeros (the critic's
/// output bias gets nothing from a penalty) must come out zero to 1e-22.
void expect_close(const std::string& what, values got, values want) {
    BOOST_TEST_INFO(what << ": gant has " << got.size() << " values, torch " << want.size());
    BOOST_TEST(got.size() == want.size());
    if (got.size() != want.size()) return;
    double worst = 0, scale = 0;
    std::size_t at = 0, not_finite = 0;
    for (std::size_t k = 0; k < want.size(); ++k) {
        if (!std::isfinite(got[k]) || !std::isfinite(want[k])) {  // a NaN would compare false below
            if (not_finite++ == 0) at = k;
            continue;
        }
        const double d = std::abs(got[k] - want[k]);
        if (d > worst && not_finite == 0) worst = d, at = k;
        scale = std::max(scale, std::abs(want[k]));
    }
    BOOST_TEST_INFO(what << ": " << not_finite << " values are NaN or infinite, the first at [" << at << "] (gant "
                         << got[at] << ", torch " << want[at] << ")");
    BOOST_TEST(not_finite == 0u);
    const double bound = tolerance * std::max(scale, 1e-12);
    BOOST_TEST_INFO(what << ": largest difference " << worst << " at [" << at << "] (gant " << got[at] << ", torch "
                         << want[at] << "), allowed " << bound);
    BOOST_TEST(worst <= bound);
}

void expect_close(const std::string& what, double got, double want) {
    expect_close(what, values(&got, 1), values(&want, 1));
}

values of(const tensor<double>& t) { return {t.data(), t.size()}; }
values of(const gant::vector<double>& v) { return {v.data(), v.size()}; }  // a parameter's value or gradient

tensor<double> batch_of(values v, std::size_t n) {
    tensor<double> t({n, v.size() / n});
    std::copy(v.begin(), v.end(), t.begin());
    return t;
}

/// A gant parameter and what the fixture says about it: its value (loaded before the passes)
/// and the gradients torch computed (paired_grad only for layer cases).
struct mapped_parameter {
    const char* name;  // the fixture's name, for messages (gant's names repeat across layers)
    parameter<double>* target;
    values value, grad, paired_grad;
};
mapped_parameter mapped(const char* name, parameter<double>& target, values value, values grad,
                        values paired_grad = {}) {
    return {name, &target, value, grad, paired_grad};
}
#define GANT_PARAMETER(target, ns, name) \
    mapped(#name, target, fx::ns::name, fx::ns::name##_grad, fx::ns::name##_paired_grad)
#define GANT_CRITIC_PARAMETER(target, critic, variant, name) \
    mapped(#name, target, fx::critic::name, fx::critic::variant::name##_grad)

/// Loads every mapped value, after checking that the mapping covers each parameter the layer
/// (or network) visits exactly once, so a parameter left at its initial value cannot hide.
template <class Layer>
void load(const std::string& label, Layer& layer, const std::vector<mapped_parameter>& params) {
    std::size_t visited = 0;
    layer.visit_parameters([&](parameter<double>& p) {
        ++visited;
        const auto n = std::count_if(params.begin(), params.end(), [&](const auto& m) { return m.target == &p; });
        BOOST_TEST_INFO(label << ": gant's parameter '" << p.name << "' is mapped " << n << " times");
        BOOST_TEST(n == 1);
    });
    BOOST_TEST(visited == params.size());
    for (const auto& m : params) {
        BOOST_TEST_INFO(label << ": " << m.name << " has " << m.target->size() << " entries, the fixture "
                              << m.value.size());
        BOOST_REQUIRE(m.target->size() == m.value.size());
        std::copy(m.value.begin(), m.value.end(), m.target->value.begin());
    }
}

template <class Layer>
buffer<double>& buffer_named(Layer& layer, const std::string& name) {
    buffer<double>* found = nullptr;
    layer.visit_buffers([&](buffer<double>& b) {
        if (b.name == name) found = &b;
    });
    BOOST_TEST_INFO("no buffer named " << name);
    BOOST_REQUIRE(found);
    return *found;
}

void set_buffer(buffer<double>& b, values v) {
    BOOST_REQUIRE(b.size() == v.size());
    std::copy(v.begin(), v.end(), b.value.begin());
}

values of(const buffer<double>& b) { return {b.data(), b.size()}; }

// ---- layer cases ------------------------------------------------------------------------------

struct layer_case {
    std::size_t batch;
    values x, w, xdot, wdot, y, dx, ydot, xbar, xdotbar;
};
#define GANT_LAYER_CASE(ns)                                                                                   \
    layer_case {                                                                                              \
        fx::ns::batch, fx::ns::x, fx::ns::w, fx::ns::xdot, fx::ns::wdot, fx::ns::y, fx::ns::dx, fx::ns::ydot, \
            fx::ns::xbar, fx::ns::xdotbar                                                                     \
    }

/// All four passes of one layer in training mode, against torch: forward; backward with seed w
/// (input gradient written, parameter gradients accumulated from zero); the tangent along xdot;
/// the paired reverse with seeds (w, wdot).
template <class Layer>
void check_layer(const std::string& label, Layer& layer, const layer_case& c,
                 const std::vector<mapped_parameter>& params) {
    load(label, layer, params);
    constexpr std::size_t in = Layer::input_shape::size, out = Layer::output_shape::size;
    const std::size_t n = c.batch;
    const tensor<double> x = batch_of(c.x, n), w = batch_of(c.w, n), xdot = batch_of(c.xdot, n),
                         wdot = batch_of(c.wdot, n);
    BOOST_REQUIRE(x.shape(1) == in);
    BOOST_REQUIRE(w.shape(1) == out);
    const pass_context ctx{};
    auto zero_grads = [&] { layer.visit_parameters([](parameter<double>& p) { p.zero_grad(); }); };

    tensor<double> y({n, out});
    layer.forward(x, y, ctx);
    expect_close(label + ": y", of(y), c.y);

    zero_grads();
    tensor<double> dx({n, in});
    layer.backward(x, y, w, &dx, true, ctx);
    expect_close(label + ": dx", of(dx), c.dx);
    for (const auto& m : params) expect_close(label + ": gradient of " + m.name, of(m.target->grad), m.grad);

    tensor<double> ydot({n, out});
    layer.forward_tangent(x, y, xdot, ydot, ctx);
    expect_close(label + ": ydot", of(ydot), c.ydot);

    zero_grads();
    tensor<double> xbar({n, in}), xdotbar({n, in});
    layer.backward_paired(x, y, xdot, ydot, w, wdot, &xbar, &xdotbar, ctx);
    expect_close(label + ": xbar", of(xbar), c.xbar);
    expect_close(label + ": xdotbar", of(xdotbar), c.xdotbar);
    for (const auto& m : params)
        expect_close(label + ": paired gradient of " + m.name, of(m.target->grad), m.paired_grad);
}

template <class Layer>
void check_attention(const std::string& label, Layer& layer, const layer_case& c,
                     const std::vector<mapped_parameter>& params, values attention) {
    check_layer(label, layer, c, params);
    // The map of the forward pass above; the later passes leave it alone.
    constexpr std::size_t positions = Layer::input_shape::size / Layer::input_shape::dims[0];
    std::vector<double> map;
    for (std::size_t i = 0; i < c.batch; ++i)
        map.insert(map.end(), layer.attention(i), layer.attention(i) + positions * positions);
    expect_close(label + ": attention map", map, attention);
}
#define GANT_ATTENTION_PARAMETERS(layer, ns)                                                                        \
    {                                                                                                               \
        GANT_PARAMETER((layer).f().weight(), ns, f_weight), GANT_PARAMETER((layer).g().weight(), ns, g_weight),     \
            GANT_PARAMETER((layer).h().weight(), ns, h_weight), GANT_PARAMETER((layer).v().weight(), ns, v_weight), \
            GANT_PARAMETER((layer).gamma(), ns, gamma)                                                              \
    }

/// Spectral norm from the fixture's u: the one power iteration of the training-mode forward,
/// sigma, the updated u and v, and every pass with the normalised weight.
template <class Layer>
void check_spectral(const std::string& label, Layer& layer, const layer_case& c,
                    const std::vector<mapped_parameter>& params, values u_before, double sigma, values u_after,
                    values v_after) {
    set_buffer(buffer_named(layer, "u"), u_before);
    check_layer(label, layer, c, params);
    expect_close(label + ": sigma", layer.sigma(), sigma);
    expect_close(label + ": u after the forward", of(buffer_named(layer, "u")), u_after);
    expect_close(label + ": v after the forward", of(buffer_named(layer, "v")), v_after);
}
#define GANT_SPECTRAL(ns) fx::ns::u_before, fx::ns::sigma, fx::ns::u_after, fx::ns::v_after

// ---- penalty cases ----------------------------------------------------------------------------

struct penalty_expectation {
    double value, mean_grad_norm;
    values input_gradients;
};
#define GANT_PENALTY(critic, variant)                                                                         \
    penalty_expectation {                                                                                     \
        fx::critic::variant::value, fx::critic::variant::mean_grad_norm, fx::critic::variant::input_gradients \
    }

/// policy.penalize as gan<...>::critic_step calls it: training mode, a fresh penalty_context
/// and the interpolation stream reseeded (so it draws fx::interpolation_weights). `reset` puts
/// back state a previous call changed (spectral norm's u).
template <class Net, class Policy>
void check_penalty(const std::string& label, Net& net, const Policy& policy, std::size_t batch, values real_values,
                   values fake_values, const std::vector<mapped_parameter>& params, const penalty_expectation& e,
                   const std::function<void()>& reset = {}) {
    Policy::template check<Net>();
    load(label, net, params);
    if (reset) reset();
    const tensor<double> real = batch_of(real_values, batch), fake = batch_of(fake_values, batch);
    net.zero_grad();
    lipschitz::penalty_context<double> pc;
    rng stream(fx::penalty_seed, fx::penalty_stream);
    pc.random = &stream;
    Policy p = policy;
    const lipschitz::penalty_report report = p.penalize(net, real, fake, pc);
    expect_close(label + ": penalty", report.value, e.value);
    expect_close(label + ": mean gradient norm", report.mean_grad_norm, e.mean_grad_norm);
    // The last apply's: the interpolated points', or with real_and_fake the fake batch's.
    expect_close(label + ": input gradients", of(pc.gradient.input_gradients()), e.input_gradients);
    for (const auto& m : params) expect_close(label + ": penalty gradient of " + m.name, of(m.target->grad), m.grad);
}

lipschitz::gradient_penalty wgan_gp() {
    lipschitz::gradient_penalty policy;
    policy.p.lambda = 10;
    policy.p.target = 1;
    return policy;
}

lipschitz::wasserstein_div wgan_div(lipschitz::wasserstein_div::points sampling) {
    lipschitz::wasserstein_div policy;
    policy.p.k = 2;
    policy.p.p = 6;
    policy.p.sampling = sampling;
    return policy;
}

}  // namespace

BOOST_AUTO_TEST_CASE(interpolation_stream_draws_the_fixture_weights) {
    // The penalty fixtures interpolate with these numbers; if the stream ever changes, every
    // penalty case below fails for that reason, and this says so.
    rng r(fx::penalty_seed, fx::penalty_stream);
    for (double eps : fx::interpolation_weights) BOOST_TEST(r.uniform() == eps);
}

BOOST_AUTO_TEST_CASE(self_attention_matches_torch) {
    {
        self_attention<8>::impl<shape<8, 3, 5>, double, backend::cpu> layer;
        check_attention("self_attention<8> on 8x3x5", layer, GANT_LAYER_CASE(attention_c8),
                        GANT_ATTENTION_PARAMETERS(layer, attention_c8), fx::attention_c8::attention);
    }
    {
        self_attention<16>::impl<shape<16, 3, 3>, double, backend::cpu> layer;
        check_attention("self_attention<16> on 16x3x3", layer, GANT_LAYER_CASE(attention_c16),
                        GANT_ATTENTION_PARAMETERS(layer, attention_c16), fx::attention_c16::attention);
    }
    {
        self_attention<3>::impl<shape<3, 2, 3>, double, backend::cpu> layer;
        check_attention("self_attention<3> on 3x2x3", layer, GANT_LAYER_CASE(attention_c3),
                        GANT_ATTENTION_PARAMETERS(layer, attention_c3), fx::attention_c3::attention);
    }
}

BOOST_AUTO_TEST_CASE(spectral_norm_matches_torch) {
    {
        spectral_norm<dense<7, 5>>::impl<shape<7>, double, backend::cpu> layer;
        check_spectral("spectral_norm<dense<7, 5>>", layer, GANT_LAYER_CASE(spectral_dense),
                       {GANT_PARAMETER(layer.weight(), spectral_dense, weight),
                        GANT_PARAMETER(layer.inner().bias(), spectral_dense, bias)},
                       GANT_SPECTRAL(spectral_dense));
    }
    {
        spectral_norm<conv2d<3, 4, 3, 2, 1>>::impl<shape<3, 5, 5>, double, backend::cpu> layer;
        check_spectral("spectral_norm<conv2d<3, 4, 3, 2, 1>>", layer, GANT_LAYER_CASE(spectral_conv),
                       {GANT_PARAMETER(layer.weight(), spectral_conv, weight),
                        GANT_PARAMETER(layer.inner().bias(), spectral_conv, bias)},
                       GANT_SPECTRAL(spectral_conv));
    }
}

BOOST_AUTO_TEST_CASE(pggan_layers_match_torch) {
    {
        pixel_norm::impl<shape<5, 3, 2>, double, backend::cpu> layer;
        check_layer("pixel_norm on 5x3x2", layer, GANT_LAYER_CASE(pixel_norm_image), {});
    }
    {
        pixel_norm::impl<shape<7>, double, backend::cpu> layer;
        check_layer("pixel_norm on 7 features", layer, GANT_LAYER_CASE(pixel_norm_vector), {});
    }
    {
        minibatch_stddev<3>::impl<shape<2, 3, 3>, double, backend::cpu> layer;
        check_layer("minibatch_stddev<3> on 2x3x3, batch 6", layer, GANT_LAYER_CASE(stddev_image), {});
    }
    {
        minibatch_stddev<2>::impl<shape<5>, double, backend::cpu> layer;
        check_layer("minibatch_stddev<2> on 5 features, batch 6", layer, GANT_LAYER_CASE(stddev_vector), {});
    }
    {
        equalized<dense<7, 3>, gain::sqrt_of<1, 8>>::impl<shape<7>, double, backend::cpu> layer;
        check_layer("equalized<dense<7, 3>, sqrt(1/8)>", layer, GANT_LAYER_CASE(equalized_dense),
                    {GANT_PARAMETER(layer.weight(), equalized_dense, weight),
                     GANT_PARAMETER(layer.inner().bias(), equalized_dense, bias)});
    }
    {
        equalized<conv2d<3, 2, 3, 2, 1>>::impl<shape<3, 5, 5>, double, backend::cpu> layer;
        check_layer("equalized<conv2d<3, 2, 3, 2, 1>>", layer, GANT_LAYER_CASE(equalized_conv),
                    {GANT_PARAMETER(layer.weight(), equalized_conv, weight),
                     GANT_PARAMETER(layer.inner().bias(), equalized_conv, bias)});
    }
}

// ---- critics ----------------------------------------------------------------------------------

namespace {

using conv_leaky_critic =
    network<shape<2, 5, 5>, double, backend::cpu, conv2d<2, 3, 3, 2, 1>, leaky_relu<>, flatten, dense<27, 1>>;
#define GANT_CONV_LEAKY_PARAMETERS(net, variant)                                                        \
    {                                                                                                   \
        GANT_CRITIC_PARAMETER((net).layer<0>().weight(), conv_leaky_critic, variant, conv_weight),      \
            GANT_CRITIC_PARAMETER((net).layer<0>().bias(), conv_leaky_critic, variant, conv_bias),      \
            GANT_CRITIC_PARAMETER((net).layer<3>().weight(), conv_leaky_critic, variant, dense_weight), \
            GANT_CRITIC_PARAMETER((net).layer<3>().bias(), conv_leaky_critic, variant, dense_bias)      \
    }

using layer_norm_critic = network<shape<2, 3, 5>, double, backend::cpu, conv2d<2, 4, 3, 1, 1>, layer_norm<4>,
                                  gant::tanh, flatten, dense<60, 1>>;
#define GANT_LAYER_NORM_PARAMETERS(net, variant)                                                        \
    {                                                                                                   \
        GANT_CRITIC_PARAMETER((net).layer<0>().weight(), layer_norm_critic, variant, conv_weight),      \
            GANT_CRITIC_PARAMETER((net).layer<0>().bias(), layer_norm_critic, variant, conv_bias),      \
            GANT_CRITIC_PARAMETER((net).layer<1>().gamma(), layer_norm_critic, variant, norm_gamma),    \
            GANT_CRITIC_PARAMETER((net).layer<1>().beta(), layer_norm_critic, variant, norm_beta),      \
            GANT_CRITIC_PARAMETER((net).layer<4>().weight(), layer_norm_critic, variant, dense_weight), \
            GANT_CRITIC_PARAMETER((net).layer<4>().bias(), layer_norm_critic, variant, dense_bias)      \
    }

using sagan_critic = network<shape<1, 3, 4>, double, backend::cpu, spectral_norm<conv2d<1, 8, 3, 1, 1>>, leaky_relu<>,
                             self_attention<8, true>, flatten, spectral_norm<dense<96, 1>>>;
#define GANT_SAGAN_PARAMETERS(net, variant)                                                           \
    {                                                                                                 \
        GANT_CRITIC_PARAMETER((net).layer<0>().weight(), sagan_critic, variant, conv_weight),         \
            GANT_CRITIC_PARAMETER((net).layer<0>().inner().bias(), sagan_critic, variant, conv_bias), \
            GANT_CRITIC_PARAMETER((net).layer<2>().f().weight(), sagan_critic, variant, f_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<2>().g().weight(), sagan_critic, variant, g_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<2>().h().weight(), sagan_critic, variant, h_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<2>().v().weight(), sagan_critic, variant, v_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<2>().gamma(), sagan_critic, variant, gamma),            \
            GANT_CRITIC_PARAMETER((net).layer<4>().weight(), sagan_critic, variant, dense_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<4>().inner().bias(), sagan_critic, variant, dense_bias) \
    }

using pggan_critic = network<shape<2, 3, 3>, double, backend::cpu, equalized<conv2d<2, 4, 3, 1, 1>>, leaky_relu<>,
                             minibatch_stddev<3>, flatten, equalized<dense<45, 1>, gain::linear>>;
#define GANT_PGGAN_PARAMETERS(net, variant)                                                           \
    {                                                                                                 \
        GANT_CRITIC_PARAMETER((net).layer<0>().weight(), pggan_critic, variant, conv_weight),         \
            GANT_CRITIC_PARAMETER((net).layer<0>().inner().bias(), pggan_critic, variant, conv_bias), \
            GANT_CRITIC_PARAMETER((net).layer<4>().weight(), pggan_critic, variant, dense_weight),    \
            GANT_CRITIC_PARAMETER((net).layer<4>().inner().bias(), pggan_critic, variant, dense_bias) \
    }

/// The six persistent u's of the SAGAN critic, in the fixture's names: the first conv's, the
/// attention's four projections' and the score layer's.
struct sagan_u {
    buffer<double>* target;
    const char* name;
};
std::vector<sagan_u> sagan_u_buffers(sagan_critic& net) {
    auto& attention = net.layer<2>();
    return {{&buffer_named(net.layer<0>(), "u"), "conv_u"}, {&buffer_named(attention, "f.u"), "f_u"},
            {&buffer_named(attention, "g.u"), "g_u"},       {&buffer_named(attention, "h.u"), "h_u"},
            {&buffer_named(attention, "v.u"), "v_u"},       {&buffer_named(net.layer<4>(), "u"), "dense_u"}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradient_penalty_matches_torch) {
    namespace cl = fx::conv_leaky_critic;
    namespace ln = fx::layer_norm_critic;
    namespace sg = fx::sagan_critic;
    namespace pg = fx::pggan_critic;
    {
        conv_leaky_critic net;
        check_penalty("WGAN-GP, conv-leaky critic", net, wgan_gp(), cl::batch, cl::real, cl::fake,
                      GANT_CONV_LEAKY_PARAMETERS(net, gradient_penalty),
                      GANT_PENALTY(conv_leaky_critic, gradient_penalty));
    }
    {
        layer_norm_critic net;
        check_penalty("WGAN-GP, layer-norm critic", net, wgan_gp(), ln::batch, ln::real, ln::fake,
                      GANT_LAYER_NORM_PARAMETERS(net, gradient_penalty),
                      GANT_PENALTY(layer_norm_critic, gradient_penalty));
    }
    {
        sagan_critic net;
        const auto u = sagan_u_buffers(net);
        const values before[] = {sg::conv_u_before, sg::f_u_before, sg::g_u_before,
                                 sg::h_u_before,    sg::v_u_before, sg::dense_u_before};
        const values after[] = {sg::gradient_penalty::conv_u_after, sg::gradient_penalty::f_u_after,
                                sg::gradient_penalty::g_u_after,    sg::gradient_penalty::h_u_after,
                                sg::gradient_penalty::v_u_after,    sg::gradient_penalty::dense_u_after};
        check_penalty("WGAN-GP, SAGAN critic", net, wgan_gp(), sg::batch, sg::real, sg::fake,
                      GANT_SAGAN_PARAMETERS(net, gradient_penalty), GANT_PENALTY(sagan_critic, gradient_penalty), [&] {
                          for (std::size_t k = 0; k < u.size(); ++k) set_buffer(*u[k].target, before[k]);
                      });
        for (std::size_t k = 0; k < u.size(); ++k)
            expect_close(std::string("WGAN-GP, SAGAN critic: ") + u[k].name + " after the penalty", of(*u[k].target),
                         after[k]);
    }
    {
        pggan_critic net;
        check_penalty("WGAN-GP, PGGAN critic (minibatch stddev)", net, wgan_gp(), pg::batch, pg::real, pg::fake,
                      GANT_PGGAN_PARAMETERS(net, gradient_penalty), GANT_PENALTY(pggan_critic, gradient_penalty));
    }
}

BOOST_AUTO_TEST_CASE(wasserstein_div_matches_torch) {
    namespace cl = fx::conv_leaky_critic;
    namespace ln = fx::layer_norm_critic;
    namespace sg = fx::sagan_critic;
    namespace pg = fx::pggan_critic;
    using points = lipschitz::wasserstein_div::points;
    {
        conv_leaky_critic net;
        check_penalty("WGAN-div, conv-leaky critic", net, wgan_div(points::interpolated), cl::batch, cl::real, cl::fake,
                      GANT_CONV_LEAKY_PARAMETERS(net, wasserstein_div),
                      GANT_PENALTY(conv_leaky_critic, wasserstein_div));
        check_penalty("WGAN-div at the real and fake points, conv-leaky critic", net, wgan_div(points::real_and_fake),
                      cl::batch, cl::real, cl::fake, GANT_CONV_LEAKY_PARAMETERS(net, wasserstein_div_real_and_fake),
                      GANT_PENALTY(conv_leaky_critic, wasserstein_div_real_and_fake));
    }
    {
        layer_norm_critic net;
        check_penalty("WGAN-div, layer-norm critic", net, wgan_div(points::interpolated), ln::batch, ln::real, ln::fake,
                      GANT_LAYER_NORM_PARAMETERS(net, wasserstein_div),
                      GANT_PENALTY(layer_norm_critic, wasserstein_div));
        check_penalty("WGAN-div at the real and fake points, layer-norm critic", net, wgan_div(points::real_and_fake),
                      ln::batch, ln::real, ln::fake, GANT_LAYER_NORM_PARAMETERS(net, wasserstein_div_real_and_fake),
                      GANT_PENALTY(layer_norm_critic, wasserstein_div_real_and_fake));
    }
    {
        sagan_critic net;
        const auto u = sagan_u_buffers(net);
        const values before[] = {sg::conv_u_before, sg::f_u_before, sg::g_u_before,
                                 sg::h_u_before,    sg::v_u_before, sg::dense_u_before};
        check_penalty("WGAN-div, SAGAN critic", net, wgan_div(points::interpolated), sg::batch, sg::real, sg::fake,
                      GANT_SAGAN_PARAMETERS(net, wasserstein_div), GANT_PENALTY(sagan_critic, wasserstein_div), [&] {
                          for (std::size_t k = 0; k < u.size(); ++k) set_buffer(*u[k].target, before[k]);
                      });
    }
    {
        pggan_critic net;
        check_penalty("WGAN-div, PGGAN critic (minibatch stddev)", net, wgan_div(points::interpolated), pg::batch,
                      pg::real, pg::fake, GANT_PGGAN_PARAMETERS(net, wasserstein_div),
                      GANT_PENALTY(pggan_critic, wasserstein_div));
    }
}
