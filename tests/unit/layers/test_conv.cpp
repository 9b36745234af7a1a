#define BOOST_TEST_MODULE gant_conv
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <optional>
#include <vector>

#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "conv_fixtures.hpp"
#include "two_threads.hpp"
#include "support/gradcheck.hpp"

// Counts heap allocations so a test can check that a warmed-up pass allocates nothing. (GCC
// sees malloc/free pairs behind replaced new/delete after inlining and calls them mismatched.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<std::size_t> allocations{0};
}
void* operator new(std::size_t n) {
    ++allocations;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

using namespace gant;
using gant::testing::check_layers;
using gant::testing::check_network;
using gant::testing::gradcheck_options;
using gant::testing::on_two_threads;
using gant::testing::two_thread_pool;

namespace {

// ---- references ---------------------------------------------------------------------------

struct conv_spec {
    std::size_t batch, cin, cout, kernel, stride, padding, height, width;
};

// Direct-loop cross-correlation, PyTorch's Conv2d: weight [cout][cin][k][k].
std::vector<double> naive_conv(const conv_spec& s, const double* x, const double* w, const double* b) {
    const std::size_t oh = (s.height + 2 * s.padding - s.kernel) / s.stride + 1;
    const std::size_t ow = (s.width + 2 * s.padding - s.kernel) / s.stride + 1;
    std::vector<double> y(s.batch * s.cout * oh * ow);
    for (std::size_t n = 0; n < s.batch; ++n)
        for (std::size_t o = 0; o < s.cout; ++o)
            for (std::size_t oy = 0; oy < oh; ++oy)
                for (std::size_t ox = 0; ox < ow; ++ox) {
                    double acc = b ? b[o] : 0.0;
                    for (std::size_t i = 0; i < s.cin; ++i)
                        for (std::size_t ky = 0; ky < s.kernel; ++ky)
                            for (std::size_t kx = 0; kx < s.kernel; ++kx) {
                                const long iy = long(oy * s.stride + ky) - long(s.padding);
                                const long ix = long(ox * s.stride + kx) - long(s.padding);
                                if (iy < 0 || ix < 0 || iy >= long(s.height) || ix >= long(s.width)) continue;
                                acc += w[((o * s.cin + i) * s.kernel + ky) * s.kernel + kx] *
                                       x[((n * s.cin + i) * s.height + std::size_t(iy)) * s.width + std::size_t(ix)];
                            }
                    y[((n * s.cout + o) * oh + oy) * ow + ox] = acc;
                }
    return y;
}

// Direct-loop transposed convolution, PyTorch's ConvTranspose2d: every input pixel scatters
// w[i][o] into the output window it covers. weight [cin][cout][k][k].
std::vector<double> naive_conv_transpose(const conv_spec& s, const double* x, const double* w, const double* b) {
    const std::size_t oh = (s.height - 1) * s.stride + s.kernel - 2 * s.padding;
    const std::size_t ow = (s.width - 1) * s.stride + s.kernel - 2 * s.padding;
    std::vector<double> y(s.batch * s.cout * oh * ow);
    for (std::size_t n = 0; n < s.batch; ++n)
        for (std::size_t o = 0; o < s.cout; ++o)
            for (std::size_t p = 0; p < oh * ow; ++p) y[(n * s.cout + o) * oh * ow + p] = b ? b[o] : 0.0;
    for (std::size_t n = 0; n < s.batch; ++n)
        for (std::size_t i = 0; i < s.cin; ++i)
            for (std::size_t iy = 0; iy < s.height; ++iy)
                for (std::size_t ix = 0; ix < s.width; ++ix)
                    for (std::size_t o = 0; o < s.cout; ++o)
                        for (std::size_t ky = 0; ky < s.kernel; ++ky)
                            for (std::size_t kx = 0; kx < s.kernel; ++kx) {
                                const long oy = long(iy * s.stride + ky) - long(s.padding);
                                const long ox = long(ix * s.stride + kx) - long(s.padding);
                                if (oy < 0 || ox < 0 || oy >= long(oh) || ox >= long(ow)) continue;
                                y[((n * s.cout + o) * oh + std::size_t(oy)) * ow + std::size_t(ox)] +=
                                    w[((i * s.cout + o) * s.kernel + ky) * s.kernel + kx] *
                                    x[((n * s.cin + i) * s.height + iy) * s.width + ix];
                            }
    return y;
}

void randomize(tensor<double>& t, rng& r) {
    for (auto& v : t) v = r.normal();
}

template <class Net>
void randomize_parameters(Net& net, rng& r) {
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = r.normal() * 0.5;
    });
}

void check_close(const double* got, const double* want, std::size_t n, double tol) {
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    BOOST_TEST_INFO("largest absolute difference " << worst);
    BOOST_TEST(worst <= tol);
}

/// Sets every conv layer's fold width in a network (sample folding changes the code path).
template <class Net>
void set_fold(Net& net, std::size_t columns) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                auto& l = net.template layer<I>();
                if constexpr (requires { l.set_fold_columns(columns); }) l.set_fold_columns(columns);
            }(),
            ...);
    }(std::make_index_sequence<Net::depth>{});
}

}  // namespace

// ---- compile-time wiring --------------------------------------------------------------------

static_assert(conv2d<64, 128, 4, 2, 1>::accepts<image<64, 14, 14>>);
static_assert(!conv2d<64, 128, 4, 2, 1>::accepts<image<128, 14, 14>>, "channel mismatch must be refused");
static_assert(!conv2d<3, 4, 5>::accepts<image<3, 4, 9>>, "kernel larger than the padded input");
static_assert(conv2d<3, 4, 5, 1, 1>::accepts<image<3, 3, 9>>, "padding makes room for the kernel");
static_assert(!conv2d<3, 4, 3>::accepts<shape<27>>, "a flat vector is not an image");
static_assert(std::is_same_v<conv2d<1, 64, 4, 2, 1>::output_shape<image<1, 28, 28>>, image<64, 14, 14>>);
static_assert(std::is_same_v<conv2d<3, 4, 3, 2, 1>::output_shape<image<3, 7, 5>>, image<4, 4, 3>>);
static_assert(std::is_same_v<conv_transpose2d<128, 64, 4, 2, 1>::output_shape<image<128, 7, 7>>, image<64, 14, 14>>);
static_assert(std::is_same_v<conv_transpose2d<100, 512, 4, 1, 0>::output_shape<image<100, 1, 1>>, image<512, 4, 4>>);
static_assert(!conv_transpose2d<64, 1, 4, 2, 1>::accepts<image<128, 14, 14>>, "channel mismatch must be refused");
static_assert(std::is_same_v<conv2d<64, 1, 4>::expects, expects_channels<64>>);
static_assert(layer_impl<conv2d<3, 4, 3>::impl<image<3, 5, 5>, float, backend::cpu>>);
static_assert(layer_impl<conv_transpose2d<3, 4, 3>::impl<image<3, 5, 5>, double, backend::cpu>>);

// ---- gradients, tangents, second order (double, central differences) -----------------------

BOOST_AUTO_TEST_SUITE(conv2d_gradients)

BOOST_AUTO_TEST_CASE(k3_s2_p1_odd_image) { check_layers<image<3, 7, 5>, conv2d<3, 4, 3, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k3_s2_p1_batch_of_one) {
    gradcheck_options o;
    o.batch = 1;
    check_layers<image<3, 7, 5>, conv2d<3, 4, 3, 2, 1>>(o);
}
BOOST_AUTO_TEST_CASE(k3_without_bias) { check_layers<image<3, 7, 5>, conv2d<3, 2, 3, 2, 1, false>>(); }
BOOST_AUTO_TEST_CASE(k4_s2_p1) { check_layers<image<2, 9, 6>, conv2d<2, 3, 4, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k1) { check_layers<image<3, 5, 3>, conv2d<3, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k3_s1_p0) { check_layers<image<2, 6, 5>, conv2d<2, 3, 3>>(); }
BOOST_AUTO_TEST_CASE(padding_wider_than_needed) { check_layers<image<1, 3, 4>, conv2d<1, 2, 3, 3, 2>>(); }

// One GEMM per sample, two samples per GEMM (chunks of 2 + 1), and the whole batch in one.
BOOST_AUTO_TEST_CASE(every_fold_width) {
    for (std::size_t fold : {std::size_t(1), std::size_t(24), std::size_t(4096)}) {
        BOOST_TEST_CONTEXT("fold_columns " << fold) {
            network<image<3, 7, 5>, double, backend::cpu, conv2d<3, 4, 3, 2, 1>> net;
            set_fold(net, fold);  // 12 output pixels per sample: 24 columns fold two samples
            check_network(net);
        }
    }
}

// A 1x1 kernel skips im2col / col2im: one sample per GEMM, two, and the whole batch.
BOOST_AUTO_TEST_CASE(k1_every_fold_width) {
    for (std::size_t fold : {std::size_t(1), std::size_t(30), std::size_t(4096)}) {
        BOOST_TEST_CONTEXT("fold_columns " << fold) {
            network<image<3, 5, 3>, double, backend::cpu, conv2d<3, 2, 1>> net;
            set_fold(net, fold);  // 15 pixels per sample
            check_network(net);
        }
    }
}

BOOST_AUTO_TEST_CASE(two_threads) {
    gradcheck_options o;
    o.batch = 5;
    check_layers<image<3, 7, 5>, on_two_threads<conv2d<3, 4, 3, 2, 1>>>(o);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conv_transpose2d_gradients)

BOOST_AUTO_TEST_CASE(k4_s2_p1) { check_layers<image<3, 4, 5>, conv_transpose2d<3, 2, 4, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k4_s2_p1_batch_of_one) {
    gradcheck_options o;
    o.batch = 1;
    check_layers<image<3, 4, 5>, conv_transpose2d<3, 2, 4, 2, 1>>(o);
}
BOOST_AUTO_TEST_CASE(k4_without_bias) { check_layers<image<3, 4, 5>, conv_transpose2d<3, 2, 4, 2, 1, false>>(); }
BOOST_AUTO_TEST_CASE(k3_s2_p1) { check_layers<image<2, 5, 3>, conv_transpose2d<2, 3, 3, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k1) { check_layers<image<3, 5, 3>, conv_transpose2d<3, 2, 1>>(); }
BOOST_AUTO_TEST_CASE(k3_s1_p0) { check_layers<image<2, 3, 4>, conv_transpose2d<2, 3, 3>>(); }
BOOST_AUTO_TEST_CASE(stride_larger_than_kernel) { check_layers<image<2, 3, 2>, conv_transpose2d<2, 2, 1, 2>>(); }

BOOST_AUTO_TEST_CASE(every_fold_width) {
    for (std::size_t fold : {std::size_t(1), std::size_t(40), std::size_t(4096)}) {
        BOOST_TEST_CONTEXT("fold_columns " << fold) {
            network<image<3, 4, 5>, double, backend::cpu, conv_transpose2d<3, 2, 4, 2, 1>> net;
            set_fold(net, fold);  // 20 input pixels per sample: 40 columns fold two samples
            check_network(net);
        }
    }
}

BOOST_AUTO_TEST_CASE(two_threads) {
    gradcheck_options o;
    o.batch = 5;
    check_layers<image<3, 4, 5>, on_two_threads<conv_transpose2d<3, 2, 4, 2, 1>>>(o);
}

BOOST_AUTO_TEST_SUITE_END()

// Second-order terms only appear when curved activations sit between layers with weights.
BOOST_AUTO_TEST_SUITE(conv_networks)

BOOST_AUTO_TEST_CASE(critic_conv_tanh_conv_sigmoid_dense) {
    // 2x9x7 -> 4x5x4 -> 3x2x2 -> 1
    check_layers<image<2, 9, 7>, conv2d<2, 4, 3, 2, 1>, gant::tanh, conv2d<4, 3, 4, 2, 1>, sigmoid, dense<12, 1>>();
}

BOOST_AUTO_TEST_CASE(generator_then_critic) {
    // 3x3x2 -> 2x6x4 -> 3x6x4 -> 2x3x2 -> 1
    gradcheck_options o;
    o.batch = 2;
    check_layers<image<3, 3, 2>, conv_transpose2d<3, 2, 4, 2, 1>, softplus, conv2d<2, 3, 3, 1, 1>, gant::tanh,
                 conv2d<3, 2, 3, 2, 1, false>, sigmoid, dense<12, 1>>(o);
}

BOOST_AUTO_TEST_CASE(critic_with_two_threads) {
    check_layers<image<2, 9, 7>, on_two_threads<conv2d<2, 4, 3, 2, 1>>, gant::tanh,
                 on_two_threads<conv2d<4, 3, 4, 2, 1>>, sigmoid, dense<12, 1>>();
}

BOOST_AUTO_TEST_SUITE_END()

// ---- forward values --------------------------------------------------------------------------

namespace {

template <bool Transposed, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool B,
          std::size_t H, std::size_t W>
void against_naive(std::size_t batch, std::size_t fold) {
    using layer = std::conditional_t<Transposed, conv_transpose2d<Cin, Cout, K, S, P, B>, conv2d<Cin, Cout, K, S, P, B>>;
    network<image<Cin, H, W>, double, backend::cpu, layer> net;
    set_fold(net, fold);
    rng r(11 + batch);
    randomize_parameters(net, r);
    tensor<double> x({batch, Cin * H * W});
    randomize(x, r);
    const auto& y = net.forward(x);
    auto& l = net.template layer<0>();
    const conv_spec spec{batch, Cin, Cout, K, S, P, H, W};
    const double* bias = B ? l.bias().data() : nullptr;
    const auto want = Transposed ? naive_conv_transpose(spec, x.data(), l.weight().data(), bias)
                                 : naive_conv(spec, x.data(), l.weight().data(), bias);
    BOOST_TEST_REQUIRE(y.size() == want.size());
    check_close(y.data(), want.data(), want.size(), 1e-12);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(forward_values)

BOOST_AUTO_TEST_CASE(conv2d_against_direct_loops) {
    for (std::size_t fold : {std::size_t(1), std::size_t(30), std::size_t(1024)})
        for (std::size_t batch : {std::size_t(1), std::size_t(3)}) {
            BOOST_TEST_CONTEXT("batch " << batch << ", fold " << fold) {
                against_naive<false, 3, 4, 3, 2, 1, true, 7, 5>(batch, fold);
                against_naive<false, 2, 5, 4, 2, 1, false, 9, 6>(batch, fold);
                against_naive<false, 3, 2, 1, 1, 0, true, 3, 4>(batch, fold);
                against_naive<false, 2, 3, 5, 1, 2, true, 6, 7>(batch, fold);
                against_naive<false, 1, 3, 2, 3, 0, true, 8, 7>(batch, fold);  // stride > kernel skips pixels
            }
        }
}

BOOST_AUTO_TEST_CASE(conv_transpose2d_against_direct_loops) {
    for (std::size_t fold : {std::size_t(1), std::size_t(30), std::size_t(1024)})
        for (std::size_t batch : {std::size_t(1), std::size_t(3)}) {
            BOOST_TEST_CONTEXT("batch " << batch << ", fold " << fold) {
                against_naive<true, 3, 2, 4, 2, 1, true, 4, 5>(batch, fold);
                against_naive<true, 2, 3, 3, 2, 1, false, 5, 3>(batch, fold);
                against_naive<true, 3, 2, 1, 1, 0, true, 3, 4>(batch, fold);
                against_naive<true, 2, 2, 3, 1, 0, true, 3, 4>(batch, fold);
                against_naive<true, 2, 3, 2, 3, 0, true, 3, 2>(batch, fold);  // stride > kernel leaves gaps
                against_naive<true, 4, 3, 4, 1, 0, false, 1, 1>(batch, fold); // DCGAN's 1x1 -> 4x4 projection
            }
        }
}

// Float runs on gant's packed kernels (the weights packed once per pass and shared by every chunk
// of samples); double on the CBLAS library. Same parameters and inputs, so forward, input gradient
// and weight gradient must agree to float's rounding, for one chunk and for several.
template <bool Transposed, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P,
          std::size_t H, std::size_t W>
void float_against_double(std::size_t batch, std::size_t fold) {
    using layer = std::conditional_t<Transposed, conv_transpose2d<Cin, Cout, K, S, P>, conv2d<Cin, Cout, K, S, P>>;
    network<image<Cin, H, W>, double, backend::cpu, layer> exact;
    network<image<Cin, H, W>, float, backend::cpu, layer> fast;
    set_fold(exact, fold);
    set_fold(fast, fold);
    rng r(5 + batch + fold);
    randomize_parameters(exact, r);
    std::vector<double> values;
    exact.visit_parameters([&](parameter<double>& p) { values.insert(values.end(), p.value.begin(), p.value.end()); });
    std::size_t at = 0;
    fast.visit_parameters([&](parameter<float>& p) {
        for (auto& v : p.value) v = float(values[at++]);
    });
    const std::size_t in = exact.input_size, out = exact.output_size;
    tensor<double> x({batch, in}), dy({batch, out}), dx;
    randomize(x, r);
    randomize(dy, r);
    tensor<float> xf = xt::cast<float>(x), dyf = xt::cast<float>(dy), dxf;
    const auto& y = exact.forward(x);
    const auto& yf = fast.forward(xf);
    exact.backward(dy, &dx);
    fast.backward(dyf, &dxf);
    // Each output sums Cin*K*K (or Cout*K*K) products of unit-scale values: float's relative
    // rounding 6e-8 times a few hundred terms stays far below 1e-4.
    const auto close = [](const auto& got, const auto& want, std::size_t n, const char* what) {
        double worst = 0, scale = 1;
        for (std::size_t i = 0; i < n; ++i) {
            worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
            scale = std::max(scale, std::abs(double(want[i])));
        }
        BOOST_TEST_INFO(what << ": largest difference " << worst << " at scale " << scale);
        BOOST_TEST(worst <= 1e-4 * scale);
    };
    close(yf.data(), y.data(), y.size(), "forward");
    close(dxf.data(), dx.data(), dx.size(), "input gradient");
    auto& l = exact.template layer<0>();
    auto& lf = fast.template layer<0>();
    close(lf.weight().grad_data(), l.weight().grad_data(), l.weight().size(), "weight gradient");
}

BOOST_AUTO_TEST_CASE(float_on_packed_kernels_matches_double) {
    for (std::size_t fold : {std::size_t(1), std::size_t(100), std::size_t(1024)})
        for (std::size_t batch : {std::size_t(1), std::size_t(7)}) {
            BOOST_TEST_CONTEXT("batch " << batch << ", fold " << fold) {
                float_against_double<false, 20, 24, 4, 2, 1, 14, 13>(batch, fold);  // patch 320: two k blocks
                float_against_double<false, 8, 40, 3, 1, 1, 9, 11>(batch, fold);
                float_against_double<true, 24, 20, 4, 2, 1, 7, 6>(batch, fold);   // 320 rows: three m blocks
                float_against_double<true, 40, 8, 3, 1, 0, 5, 9>(batch, fold);
            }
        }
}

template <bool Transposed, std::size_t Cin, std::size_t Cout, std::size_t K, std::size_t S, std::size_t P, bool B,
          std::size_t H, std::size_t W, std::size_t N, std::size_t OH, std::size_t OW, std::size_t InLen,
          std::size_t WLen, std::size_t OutLen>
void against_pytorch(const double (&input)[InLen], const double (&weight)[WLen], const double* bias,
                     const double (&output)[OutLen]) {
    using layer = std::conditional_t<Transposed, conv_transpose2d<Cin, Cout, K, S, P, B>, conv2d<Cin, Cout, K, S, P, B>>;
    using net_type = network<image<Cin, H, W>, double, backend::cpu, layer>;
    static_assert(std::is_same_v<typename net_type::output_shape, image<Cout, OH, OW>>, "output shape as PyTorch's");
    static_assert(InLen == N * Cin * H * W && OutLen == N * Cout * OH * OW, "fixture sizes");
    net_type net;
    auto& l = net.template layer<0>();
    BOOST_TEST_REQUIRE(l.weight().size() == WLen);
    std::copy(weight, weight + WLen, l.weight().value.begin());
    if constexpr (B) std::copy(bias, bias + Cout, l.bias().value.begin());
    tensor<double> x({N, Cin * H * W});
    std::copy(input, input + InLen, x.begin());
    const auto& y = net.forward(x);
    check_close(y.data(), output, OutLen, 1e-12);
}

BOOST_AUTO_TEST_CASE(conv2d_against_pytorch) {
    namespace f = fixtures;
    {
        namespace c = f::conv_k3_s2_p1;
        against_pytorch<false, 3, 4, 3, 2, 1, true, 7, 5, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                  c::bias, c::output);
    }
    {
        namespace c = f::conv_k4_s2_p1_nobias;
        against_pytorch<false, 2, 3, 4, 2, 1, false, 9, 6, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                   nullptr, c::output);
    }
    {
        namespace c = f::conv_k1;
        against_pytorch<false, 3, 2, 1, 1, 0, true, 3, 4, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                  c::bias, c::output);
    }
}

BOOST_AUTO_TEST_CASE(conv_transpose2d_against_pytorch) {
    namespace f = fixtures;
    {
        namespace c = f::convt_k4_s2_p1;
        against_pytorch<true, 3, 2, 4, 2, 1, true, 4, 5, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                 c::bias, c::output);
    }
    {
        namespace c = f::convt_k3_s2_p1_nobias;
        against_pytorch<true, 2, 3, 3, 2, 1, false, 5, 3, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                  nullptr, c::output);
    }
    {
        namespace c = f::convt_k3_s1_p0;
        against_pytorch<true, 2, 2, 3, 1, 0, true, 3, 4, c::batch, c::out_height, c::out_width>(c::input, c::weight,
                                                                                                 c::bias, c::output);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- structure ---------------------------------------------------------------------------------

// conv_transpose2d is the adjoint of conv2d: with one weight tensor ([A, B, k, k] is conv2d<B, A>'s
// [Cout, Cin, k, k] and conv_transpose2d<A, B>'s [Cin, Cout, k, k]), <conv(x), u> = <x, convT(u)>.
BOOST_AUTO_TEST_CASE(conv_transpose_is_the_adjoint_of_conv) {
    constexpr std::size_t A = 3, B = 2;
    network<image<B, 7, 9>, double, backend::cpu, conv2d<B, A, 3, 2, 1, false>> conv;
    network<image<A, 4, 5>, double, backend::cpu, conv_transpose2d<A, B, 3, 2, 1, false>> convt;
    static_assert(std::is_same_v<decltype(conv)::output_shape, image<A, 4, 5>>);
    static_assert(std::is_same_v<decltype(convt)::output_shape, image<B, 7, 9>>);
    rng r(5);
    randomize_parameters(conv, r);
    convt.layer<0>().weight().value = conv.layer<0>().weight().value;
    tensor<double> x({3, B * 7 * 9}), u({3, A * 4 * 5});
    randomize(x, r);
    randomize(u, r);
    const auto& cx = conv.forward(x);
    const auto& tu = convt.forward(u);
    double lhs = 0, rhs = 0, scale = 0;
    for (std::size_t i = 0; i < u.size(); ++i) lhs += cx.data()[i] * u.data()[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x.data()[i] * tu.data()[i];
    for (std::size_t i = 0; i < x.size(); ++i) scale += std::abs(x.data()[i] * tu.data()[i]);
    BOOST_TEST_INFO("<conv x, u> = " << lhs << ", <x, convT u> = " << rhs);
    BOOST_TEST(std::abs(lhs - rhs) <= 1e-12 * scale);

    // And the conv's input gradient is the transposed conv's forward (same kernels, other role).
    tensor<double> dx;
    conv.backward(u, &dx, false);
    check_close(dx.data(), tu.data(), dx.size(), 1e-12);
}

namespace {

using critic = network<image<2, 9, 7>, double, backend::cpu, conv2d<2, 4, 3, 2, 1>, gant::tanh,
                       conv2d<4, 3, 4, 2, 1>, leaky_relu<>, conv_transpose2d<3, 2, 3, 2, 1>, sigmoid, dense<18, 1>>;

struct pass_result {
    std::vector<double> output, input_grad, params, paired_grads, xbar, xdotbar;
};

// One full pass: forward, backward, tangent, paired reverse, collecting everything.
pass_result full_pass(critic& net, const tensor<double>& x, const tensor<double>& xdot, thread_pool& pool) {
    pass_result r;
    pass_context ctx;
    ctx.pool = &pool;
    tensor<double> ones = xt::ones<double>({x.shape(0), std::size_t(1)});
    net.zero_grad();
    const auto& y = net.forward(x, ctx);
    r.output.assign(y.begin(), y.end());
    tensor<double> dx;
    net.backward(ones, &dx, true, ctx);
    r.input_grad.assign(dx.begin(), dx.end());
    net.visit_parameters([&](parameter<double>& p) { r.params.insert(r.params.end(), p.grad.begin(), p.grad.end()); });
    net.zero_grad();
    net.forward(x, ctx);
    const auto& yd = net.forward_tangent(xdot, ctx);
    r.output.insert(r.output.end(), yd.begin(), yd.end());
    tensor<double> xbar, xdotbar;
    net.backward_paired(ones, ones, &xbar, &xdotbar, ctx);
    r.xbar.assign(xbar.begin(), xbar.end());
    r.xdotbar.assign(xdotbar.begin(), xdotbar.end());
    net.visit_parameters(
        [&](parameter<double>& p) { r.paired_grads.insert(r.paired_grads.end(), p.grad.begin(), p.grad.end()); });
    return r;
}

void compare(const std::vector<double>& a, const std::vector<double>& b, double tol, const char* what) {
    BOOST_TEST_REQUIRE(a.size() == b.size());
    BOOST_TEST_CONTEXT(what) { check_close(a.data(), b.data(), a.size(), tol); }
}

void compare(const pass_result& a, const pass_result& b, double tol) {
    compare(a.output, b.output, tol, "outputs and tangents");
    compare(a.input_grad, b.input_grad, tol, "input gradient");
    compare(a.params, b.params, tol, "parameter gradients");
    compare(a.paired_grads, b.paired_grads, tol, "paired parameter gradients");
    compare(a.xbar, b.xbar, tol, "paired input adjoint");
    compare(a.xdotbar, b.xdotbar, tol, "paired tangent adjoint");
}

}  // namespace

BOOST_AUTO_TEST_CASE(deterministic_with_two_threads) {
    critic net;
    rng r(9);
    randomize_parameters(net, r);
    tensor<double> x({7, critic::input_size}), xdot({7, critic::input_size});
    randomize(x, r);
    randomize(xdot, r);
    thread_pool single(1);
    const pass_result one = full_pass(net, x, xdot, single);
    const pass_result first = full_pass(net, x, xdot, two_thread_pool());
    const pass_result second = full_pass(net, x, xdot, two_thread_pool());
    compare(first, second, 0.0);  // bit-identical
    compare(one, first, 1e-12);   // the thread count only reorders sums
}

// Batch sizes that change between passes, including 1: each pass must equal the per-sample
// results computed one sample at a time (the no-folding path).
BOOST_AUTO_TEST_CASE(changing_batch_sizes) {
    critic net;
    rng r(21);
    randomize_parameters(net, r);
    thread_pool single(1);
    for (std::size_t threads : {std::size_t(1), std::size_t(2)}) {
        thread_pool& pool = threads == 1 ? single : two_thread_pool();
        for (std::size_t batch : {std::size_t(1), std::size_t(6), std::size_t(2), std::size_t(6), std::size_t(1),
                                  std::size_t(5)}) {
            BOOST_TEST_CONTEXT("threads " << threads << ", batch " << batch) {
                tensor<double> x({batch, critic::input_size}), xdot({batch, critic::input_size});
                randomize(x, r);
                randomize(xdot, r);
                const pass_result whole = full_pass(net, x, xdot, pool);
                pass_result sum;
                for (std::size_t i = 0; i < batch; ++i) {
                    tensor<double> xi({1, critic::input_size}), xdi({1, critic::input_size});
                    std::copy(&x(i, 0), &x(i, 0) + critic::input_size, xi.begin());
                    std::copy(&xdot(i, 0), &xdot(i, 0) + critic::input_size, xdi.begin());
                    const pass_result one = full_pass(net, xi, xdi, pool);
                    // outputs interleave [y rows..., ydot rows...]: compare row i of each
                    BOOST_TEST(std::abs(one.output[0] - whole.output[i]) <= 1e-12);
                    BOOST_TEST(std::abs(one.output[1] - whole.output[batch + i]) <= 1e-12);
                    check_close(one.input_grad.data(), whole.input_grad.data() + i * critic::input_size,
                                critic::input_size, 1e-12);
                    check_close(one.xbar.data(), whole.xbar.data() + i * critic::input_size, critic::input_size,
                                1e-12);
                    if (i == 0) {
                        sum.params = one.params;
                        sum.paired_grads = one.paired_grads;
                    } else {
                        for (std::size_t k = 0; k < sum.params.size(); ++k) sum.params[k] += one.params[k];
                        for (std::size_t k = 0; k < sum.params.size(); ++k) sum.paired_grads[k] += one.paired_grads[k];
                    }
                }
                compare(sum.params, whole.params, 1e-11, "parameter gradients");
                compare(sum.paired_grads, whole.paired_grads, 1e-11, "paired parameter gradients");
            }
        }
    }
}

// Every convolution a thread runs works in that thread's scratch (conv_scratch::of_this_thread)
// and, with several workers, in the calling thread's gradient blocks. A small network's passes
// must not depend on what a larger one left there: run after a network that fills both with NaN,
// it gives the same bits as before.
BOOST_AUTO_TEST_CASE(scratch_left_by_another_network_changes_nothing) {
    using big_net =
        network<image<3, 12, 10>, double, backend::cpu, conv2d<3, 8, 3, 1, 1>, conv_transpose2d<8, 6, 4, 2, 1>>;
    thread_pool single(1);
    for (thread_pool* pool : {&single, &two_thread_pool()}) {
        critic net;
        rng r(31);
        randomize_parameters(net, r);
        tensor<double> x({5, critic::input_size}), xdot({5, critic::input_size});
        randomize(x, r);
        randomize(xdot, r);
        const pass_result before = full_pass(net, x, xdot, *pool);

        big_net big;
        tensor<double> nan_x({6, big_net::input_size}), nan_dy({6, big_net::output_size}), dx;
        std::fill(nan_x.begin(), nan_x.end(), std::numeric_limits<double>::quiet_NaN());
        std::fill(nan_dy.begin(), nan_dy.end(), std::numeric_limits<double>::quiet_NaN());
        big.visit_parameters([](parameter<double>& p) {
            std::fill(p.value.begin(), p.value.end(), std::numeric_limits<double>::quiet_NaN());
        });
        pass_context ctx;
        ctx.pool = pool;
        big.forward(nan_x, ctx);
        big.backward(nan_dy, &dx, true, ctx);

        compare(before, full_pass(net, x, xdot, *pool), 0.0);
    }
}

// Once the workspaces are sized for a batch size, a pass allocates nothing (design property 4).
void check_no_allocation(thread_pool& pool) {
    network<image<2, 9, 7>, float, backend::cpu, conv2d<2, 4, 3, 2, 1>, leaky_relu<>, conv2d<4, 3, 4, 2, 1>,
            conv_transpose2d<3, 2, 3, 2, 1>>
        net;
    pass_context ctx;
    ctx.pool = &pool;
    tensor<float> x = xt::ones<float>({std::size_t(8), decltype(net)::input_size});
    tensor<float> dy = xt::ones<float>({std::size_t(8), decltype(net)::output_size});
    tensor<float> dx, xbar, xdotbar;
    auto step = [&] {
        net.forward(x, ctx);
        net.backward(dy, &dx, true, ctx);
        net.forward_tangent(x, ctx);
        net.backward_paired(dy, dy, &xbar, &xdotbar, ctx);
    };
    step();
    step();
    const std::size_t before = allocations.load();
    step();
    const std::size_t during = allocations.load() - before;
    BOOST_TEST(during == 0u);
}

BOOST_AUTO_TEST_CASE(no_allocation_in_steady_state_one_thread) {
    thread_pool single(1);
    check_no_allocation(single);
}

BOOST_AUTO_TEST_CASE(no_allocation_in_steady_state_two_threads) { check_no_allocation(two_thread_pool()); }

// ---- the backend's unfolding ------------------------------------------------------------------

namespace {

constexpr backend::conv_geometry geometry(std::size_t c, std::size_t h, std::size_t w, std::size_t kh, std::size_t kw,
                                          std::size_t stride, std::size_t padding) {
    return {c, h, w, kh, kw, stride, padding, (h + 2 * padding - kh) / stride + 1, (w + 2 * padding - kw) / stride + 1};
}

// Pixel (c, iy, ix) of the image, or nothing where (iy, ix) lies in the padding.
std::optional<std::size_t> pixel(const backend::conv_geometry& g, std::size_t c, std::ptrdiff_t iy, std::ptrdiff_t ix) {
    if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(g.height) || ix >= std::ptrdiff_t(g.width)) return std::nullopt;
    return (c * g.height + std::size_t(iy)) * g.width + std::size_t(ix);
}

// im2col against its definition, columns[(c, ky, kx)][(oy, ox)] = x[c][oy*s + ky - p][ox*s + kx - p]
// (0 in the padding), written as the second of two samples side by side with a gap (ld wider
// than two samples' pixels) into NaN: every element it owns is written and nothing else is. And
// col2im as its adjoint: image[c][iy][ix] += the columns that read that pixel. Values are small
// integers, so every sum is exact whatever the order of the additions.
template <backend::conv_geometry G>
void check_unfolding() {
    BOOST_TEST_CONTEXT("geometry C" << G.channels << " " << G.height << "x" << G.width << " kernel " << G.kernel_h
                                    << "x" << G.kernel_w << " stride " << G.stride << " padding " << G.padding) {
        const std::size_t pixels = G.out_pixels(), ld = 2 * pixels + 3, image_size = G.channels * G.height * G.width;
        rng r(G.channels * 131 + G.height * 17 + G.kernel_w);
        std::vector<double> image(image_size);
        for (auto& v : image) v = std::round(r.uniform(-8, 8));
        const double nan = std::numeric_limits<double>::quiet_NaN();
        std::vector<double> columns(G.patch() * ld, nan);
        backend::cpu::im2col<G>(image.data(), columns.data() + pixels, ld);

        std::vector<double> scattered(image_size);
        for (auto& v : scattered) v = std::round(r.uniform(-8, 8));
        std::vector<double> expected_scatter = scattered;
        std::vector<double> adjoint_in(G.patch() * ld, nan);  // what col2im reads: NaN outside the sample
        std::size_t wrong = 0, stray = 0;
        for (std::size_t c = 0; c < G.channels; ++c)
            for (std::size_t ky = 0; ky < G.kernel_h; ++ky)
                for (std::size_t kx = 0; kx < G.kernel_w; ++kx) {
                    const std::size_t row = (c * G.kernel_h + ky) * G.kernel_w + kx;
                    for (std::size_t col = 0; col < ld; ++col) {
                        const double got = columns[row * ld + col];
                        if (col < pixels || col >= 2 * pixels) {
                            stray += !std::isnan(got);
                            continue;
                        }
                        const std::size_t oy = (col - pixels) / G.out_width, ox = (col - pixels) % G.out_width;
                        const auto at = pixel(G, c, std::ptrdiff_t(oy * G.stride + ky) - std::ptrdiff_t(G.padding),
                                              std::ptrdiff_t(ox * G.stride + kx) - std::ptrdiff_t(G.padding));
                        wrong += got != (at ? image[*at] : 0.0);
                        const double a = std::round(r.uniform(-8, 8));
                        adjoint_in[row * ld + col] = a;
                        if (at) expected_scatter[*at] += a;
                    }
                }
        BOOST_TEST(wrong == 0u, wrong << " column entries differ from the definition");
        BOOST_TEST(stray == 0u, stray << " entries outside the sample's columns were written");

        backend::cpu::col2im<G>(adjoint_in.data() + pixels, scattered.data(), ld);
        BOOST_TEST(scattered == expected_scatter, boost::test_tools::per_element());
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unfolding)

BOOST_AUTO_TEST_CASE(k3_s2_p1_odd_image) { check_unfolding<geometry(3, 7, 5, 3, 3, 2, 1)>(); }
BOOST_AUTO_TEST_CASE(k4_s2_p1) { check_unfolding<geometry(2, 9, 6, 4, 4, 2, 1)>(); }
BOOST_AUTO_TEST_CASE(dcgan_critic_layer) { check_unfolding<geometry(64, 14, 14, 4, 4, 2, 1)>(); }
BOOST_AUTO_TEST_CASE(k5_s1_p2) { check_unfolding<geometry(2, 4, 6, 5, 5, 1, 2)>(); }
BOOST_AUTO_TEST_CASE(k1_s2_subsamples) { check_unfolding<geometry(2, 5, 6, 1, 1, 2, 0)>(); }
BOOST_AUTO_TEST_CASE(k1_s1_copies) { check_unfolding<geometry(3, 4, 3, 1, 1, 1, 0)>(); }
BOOST_AUTO_TEST_CASE(non_square_kernel) { check_unfolding<geometry(2, 5, 6, 2, 3, 1, 0)>(); }
BOOST_AUTO_TEST_CASE(stride_3_padding_2) { check_unfolding<geometry(1, 3, 4, 3, 3, 3, 2)>(); }
// Taps whose every position lies in the padding (kx, ky = 0 and 1 of a one-pixel image).
BOOST_AUTO_TEST_CASE(taps_reading_padding_only) { check_unfolding<geometry(2, 1, 1, 3, 3, 3, 2)>(); }
// A kernel as large as the padded image: one output pixel.
BOOST_AUTO_TEST_CASE(kernel_covers_the_padded_image) { check_unfolding<geometry(1, 2, 3, 4, 5, 2, 1)>(); }

BOOST_AUTO_TEST_SUITE_END()
