#define BOOST_TEST_MODULE gant_spectral_norm
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/metrics/linalg.hpp"
#include "support/gradcheck.hpp"

using namespace gant;
using gant::testing::check_layers;
using gant::testing::check_network;
using gant::testing::gradcheck_options;

namespace {

/// The largest singular value of the rows x cols matrix m (row-major), computed without power
/// iteration: the largest eigenvalue of the symmetric m m^T by cyclic Jacobi rotations.
double largest_singular_value(const std::vector<double>& m, std::size_t rows, std::size_t cols) {
    std::vector<double> a(rows * rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < rows; ++j)
            for (std::size_t k = 0; k < cols; ++k) a[i * rows + j] += m[i * cols + k] * m[j * cols + k];
    auto at = [&](std::size_t i, std::size_t j) -> double& { return a[i * rows + j]; };
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (std::size_t p = 0; p < rows; ++p)
            for (std::size_t q = p + 1; q < rows; ++q) off += at(p, q) * at(p, q);
        if (off < 1e-60) break;
        for (std::size_t p = 0; p < rows; ++p)
            for (std::size_t q = p + 1; q < rows; ++q) {
                if (at(p, q) == 0.0) continue;
                // The rotation that zeroes a_pq (Numerical Recipes, section 11.1).
                const double theta = (at(q, q) - at(p, p)) / (2 * at(p, q));
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (std::size_t k = 0; k < rows; ++k) {  // A <- A J
                    const double kp = at(k, p), kq = at(k, q);
                    at(k, p) = c * kp - s * kq;
                    at(k, q) = s * kp + c * kq;
                }
                for (std::size_t k = 0; k < rows; ++k) {  // A <- J^T A
                    const double pk = at(p, k), qk = at(q, k);
                    at(p, k) = c * pk - s * qk;
                    at(q, k) = s * pk + c * qk;
                }
            }
    }
    double largest = 0;
    for (std::size_t i = 0; i < rows; ++i) largest = std::max(largest, at(i, i));
    return std::sqrt(largest);
}

/// The same value from LAPACK (dsyevd through metrics/linalg.hpp), an independent reference for
/// the Jacobi one: sigma_max^2 is the largest eigenvalue of the symmetric rows x rows m m^T.
double lapack_largest_singular_value(const std::vector<double>& m, std::size_t rows, std::size_t cols) {
    std::vector<double> a(rows * rows, 0.0);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < rows; ++j)
            for (std::size_t k = 0; k < cols; ++k) a[i * rows + j] += m[i * cols + k] * m[j * cols + k];
    const std::vector<double> eigenvalues = metrics::linalg::symmetric_eigen(a, rows, false);  // ascending
    return std::sqrt(eigenvalues.back());
}

template <class Descriptor, class In>
using bound = typename Descriptor::template impl<In, double, backend::cpu>;

void fill(std::vector<double>& v, rng& r) {
    for (auto& x : v) x = r.normal();
}

/// After many power iterations, sigma is the largest singular value of the weight read as the
/// matrix `as_matrix` builds; and the wrapped layer computes exactly what the plain layer does
/// with W / sigma.
template <class Layer, std::size_t Dim, class In, class AsMatrix>
void check_sigma(AsMatrix as_matrix, std::size_t rows, std::size_t cols) {
    bound<spectral_norm<Layer, Dim>, In> wrapped;
    bound<Layer, In> plain;
    rng r(rows * 7 + cols, 1);
    std::vector<double> w(wrapped.weight().size());
    fill(w, r);
    std::copy(w.begin(), w.end(), wrapped.weight().value.begin());
    std::vector<double> bias(wrapped.inner().bias().size());
    fill(bias, r);
    std::copy(bias.begin(), bias.end(), wrapped.inner().bias().value.begin());

    const double expected = largest_singular_value(as_matrix(w), rows, cols);
    BOOST_TEST(lapack_largest_singular_value(as_matrix(w), rows, cols) == expected,
               boost::test_tools::tolerance(1e-12));
    wrapped.power_iterate(1000);
    BOOST_TEST(wrapped.sigma() == expected, boost::test_tools::tolerance(1e-10));

    for (std::size_t i = 0; i < w.size(); ++i) plain.weight().value(i) = w[i] / expected;
    std::copy(bias.begin(), bias.end(), plain.bias().value.begin());
    tensor<double> x({3, In::size}), y_wrapped({3, Layer::template output_shape<In>::size}), y_plain = y_wrapped;
    for (auto& v : x) v = r.normal();
    pass_context inference;
    inference.mode = mode::inference;
    wrapped.forward(x, y_wrapped, inference);
    plain.forward(x, y_plain, inference);
    for (std::size_t i = 0; i < y_plain.size(); ++i)
        BOOST_TEST(y_wrapped.data()[i] == y_plain.data()[i], boost::test_tools::tolerance(1e-10));
}

std::vector<double> identity_matrix(const std::vector<double>& w) { return w; }

}  // namespace

BOOST_AUTO_TEST_CASE(jacobi_reference_on_a_known_matrix) {
    // [[3, 0], [4, 5]] has singular values sqrt(45) and sqrt(5); a 3x2 with known top value too.
    BOOST_TEST(largest_singular_value({3, 0, 4, 5}, 2, 2) == std::sqrt(45.0), boost::test_tools::tolerance(1e-14));
    BOOST_TEST(largest_singular_value({2, 0, 0, 0, -7, 0}, 2, 3) == 7.0, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_SUITE(sigma_is_the_largest_singular_value)

BOOST_AUTO_TEST_CASE(dense) {
    // weight [5, 7]: rows are the outputs
    check_sigma<gant::dense<7, 5>, 0, shape<7>>(identity_matrix, 5, 7);
    check_sigma<gant::dense<4, 9>, 0, shape<4>>(identity_matrix, 9, 4);
}

BOOST_AUTO_TEST_CASE(conv2d) {
    // weight [Cout = 4, Cin = 3, 3, 3] read as [Cout, Cin * k * k]
    check_sigma<gant::conv2d<3, 4, 3, 2, 1>, 0, image<3, 5, 6>>(identity_matrix, 4, 27);
}

BOOST_AUTO_TEST_CASE(conv_transpose2d_along_dimension_1) {
    // weight [Cin = 3, Cout = 5, 3, 3] read as [Cout, Cin * k * k], as PyTorch does (dim = 1)
    constexpr std::size_t cin = 3, cout = 5, kk = 9;
    auto rows_are_output_channels = [](const std::vector<double>& w) {
        std::vector<double> m(cout * cin * kk);
        for (std::size_t i = 0; i < cin; ++i)
            for (std::size_t o = 0; o < cout; ++o)
                for (std::size_t t = 0; t < kk; ++t) m[o * cin * kk + i * kk + t] = w[(i * cout + o) * kk + t];
        return m;
    };
    check_sigma<gant::conv_transpose2d<cin, cout, 3, 2, 1>, 1, image<cin, 3, 4>>(rows_are_output_channels, cout,
                                                                                 cin * kk);
    // The Lipschitz policy wraps a transposed convolution along dimension 1 by itself.
    static_assert(std::is_same_v<lipschitz::spectrally_normalised<gant::conv_transpose2d<3, 5, 3, 2, 1>>,
                                 gant::spectral_norm<gant::conv_transpose2d<3, 5, 3, 2, 1>, 1>>);
}

// The layers SAGAN's 28x28 networks normalise, at their real sizes: the critic's second
// convolution (weight [128, 64, 4, 4] read as 128 x 1024) and the generator's first transposed
// convolution (weight [128, 64, 4, 4] read along dimension 1 as 64 x 2048), against LAPACK.
BOOST_AUTO_TEST_CASE(sagan_sized_layers_against_lapack) {
    auto check = [](auto& layer, std::size_t rows, std::size_t cols, auto as_matrix) {
        rng r(rows + cols, 2);
        std::vector<double> w(layer.weight().size());
        fill(w, r);
        std::copy(w.begin(), w.end(), layer.weight().value.begin());
        const double expected = lapack_largest_singular_value(as_matrix(w), rows, cols);
        // The top two singular values of a Gaussian matrix this size are close, so the power
        // iteration needs many steps; the error of sigma is quadratic in that of u and v.
        layer.power_iterate(3000);
        BOOST_TEST(layer.sigma() == expected, boost::test_tools::tolerance(1e-10));
    };
    bound<gant::spectral_norm<gant::conv2d<64, 128, 4, 2, 1>>, image<64, 14, 14>> conv;
    check(conv, 128, 64 * 16, identity_matrix);
    constexpr std::size_t cin = 128, cout = 64, kk = 16;
    bound<gant::spectral_norm<gant::conv_transpose2d<cin, cout, 4, 2, 1, false>, 1>, image<cin, 7, 7>> up;
    check(up, cout, cin * kk, [](const std::vector<double>& w) {
        std::vector<double> m(cout * cin * kk);
        for (std::size_t i = 0; i < cin; ++i)
            for (std::size_t o = 0; o < cout; ++o)
                for (std::size_t t = 0; t < kk; ++t) m[o * cin * kk + i * kk + t] = w[(i * cout + o) * kk + t];
        return m;
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(policy_wraps_every_weight_layer) {
    using critic = sequential<gant::conv2d<1, 3, 3, 2, 1>, leaky_relu<>, flatten, gant::dense<48, 1>>;
    static_assert(std::is_same_v<lipschitz::spectral_norm::critic<critic>,
                                 sequential<gant::spectral_norm<gant::conv2d<1, 3, 3, 2, 1>>, leaky_relu<>, flatten,
                                            gant::spectral_norm<gant::dense<48, 1>>>>);
    // already normalised layers are left alone, nested sequentials are walked
    using nested = sequential<gant::spectral_norm<gant::dense<4, 4>>, sequential<gant::dense<4, 2>, relu>>;
    static_assert(std::is_same_v<lipschitz::spectrally_normalised<nested>,
                                 sequential<gant::spectral_norm<gant::dense<4, 4>>,
                                            sequential<gant::spectral_norm<gant::dense<4, 2>>, relu>>>);
}

// ---- u and v: one power iteration per training-mode forward, none in inference -------------------

BOOST_AUTO_TEST_CASE(u_updates_only_in_training_mode) {
    constexpr std::size_t in = 6, out = 4;
    bound<gant::spectral_norm<gant::dense<in, out>>, shape<in>> layer;
    rng r(12, 12);
    for (auto& v : layer.weight().value) v = r.normal();
    std::vector<buffer<double>*> buffers;
    layer.visit_buffers([&](buffer<double>& b) { buffers.push_back(&b); });
    BOOST_TEST_REQUIRE(buffers.size() == 2u);
    auto& u = buffers[0]->value;
    auto& v = buffers[1]->value;
    BOOST_TEST(u.size() == out);
    BOOST_TEST(v.size() == in);
    const auto& W = layer.weight().value;
    auto sigma_of = [&](const auto& uu, const auto& vv) {
        double s = 0;
        for (std::size_t i = 0; i < out; ++i)
            for (std::size_t j = 0; j < in; ++j) s += uu(i) * W(i * in + j) * vv(j);
        return s;
    };

    tensor<double> x({2, in}), y({2, out});
    for (auto& e : x) e = r.normal();
    const auto u0 = u, v0 = v;
    pass_context inference;
    inference.mode = mode::inference;
    layer.forward(x, y, inference);
    BOOST_TEST((u == u0));
    BOOST_TEST((v == v0));
    BOOST_TEST(layer.sigma() == sigma_of(u0, v0), boost::test_tools::tolerance(1e-14));

    // A training pass that must not change state (sampling) leaves u alone too.
    pass_context frozen;
    frozen.update_statistics = false;
    layer.forward(x, y, frozen);
    BOOST_TEST((u == u0));
    BOOST_TEST((v == v0));

    // One training forward = one power step: v = W^T u / |W^T u|, u = W v / |W v|.
    std::vector<double> v1(in, 0.0), u1(out, 0.0);
    for (std::size_t j = 0; j < in; ++j)
        for (std::size_t i = 0; i < out; ++i) v1[j] += W(i * in + j) * u0(i);
    double nv = 0;
    for (double e : v1) nv += e * e;
    for (double& e : v1) e /= std::sqrt(nv);
    for (std::size_t i = 0; i < out; ++i)
        for (std::size_t j = 0; j < in; ++j) u1[i] += W(i * in + j) * v1[j];
    double nu = 0;
    for (double e : u1) nu += e * e;
    for (double& e : u1) e /= std::sqrt(nu);

    layer.forward(x, y, pass_context{});
    for (std::size_t i = 0; i < out; ++i) BOOST_TEST(u(i) == u1[i], boost::test_tools::tolerance(1e-13));
    for (std::size_t j = 0; j < in; ++j) BOOST_TEST(v(j) == v1[j], boost::test_tools::tolerance(1e-13));
    BOOST_TEST(layer.sigma() == sigma_of(u, v), boost::test_tools::tolerance(1e-14));
    // sigma = u^T W v = |W v| after the step
    BOOST_TEST(layer.sigma() == std::sqrt(nu), boost::test_tools::tolerance(1e-13));
}

// The optimiser sees the raw weight W (what the wrapper owns), never W / sigma.
BOOST_AUTO_TEST_CASE(parameters_are_the_raw_weight_and_the_bias) {
    bound<gant::spectral_norm<gant::dense<3, 2>>, shape<3>> layer;
    std::vector<parameter<double>*> params;
    layer.visit_parameters([&](parameter<double>& p) { params.push_back(&p); });
    BOOST_TEST_REQUIRE(params.size() == 2u);
    BOOST_TEST(params[0] == &layer.weight());
    BOOST_TEST(params[0] != &layer.inner().weight());
    BOOST_TEST(params[1] == &layer.inner().bias());
}

// ---- gradients: inference mode (u, v fixed), first and second order ------------------------------

namespace {
gradcheck_options inference_options() {
    gradcheck_options o;
    o.pass_mode = mode::inference;
    return o;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(gradients_in_inference_mode)

BOOST_AUTO_TEST_CASE(dense_alone) { check_layers<shape<7>, gant::spectral_norm<gant::dense<7, 5>>>(inference_options()); }

BOOST_AUTO_TEST_CASE(mlp) {
    check_layers<shape<6>, gant::spectral_norm<gant::dense<6, 5>>, gant::tanh, gant::spectral_norm<gant::dense<5, 3>>,
                 softplus, gant::spectral_norm<gant::dense<3, 1>>>(inference_options());
}

BOOST_AUTO_TEST_CASE(conv2d) {
    check_layers<image<2, 5, 5>, gant::spectral_norm<gant::conv2d<2, 3, 3, 2, 1>>, sigmoid, flatten,
                 gant::spectral_norm<gant::dense<27, 2>>>(inference_options());
}

BOOST_AUTO_TEST_CASE(conv_transpose2d) {
    check_layers<image<3, 3, 4>, gant::spectral_norm<gant::conv_transpose2d<3, 2, 3, 2, 1>, 1>, gant::tanh>(
        inference_options());
}

// With u and v converged by training passes, so sigma is the spectral norm (the state the
// layer is in during training), and the paired reverse checked as well.
BOOST_AUTO_TEST_CASE(after_power_iterations) {
    network<image<1, 7, 7>, double, backend::cpu, gant::spectral_norm<gant::conv2d<1, 3, 3, 2, 1>>, gant::tanh,
            gant::spectral_norm<gant::conv2d<3, 4, 3, 2, 1>>, softplus, flatten, gant::spectral_norm<gant::dense<16, 1>>>
        net;
    rng r(3, 3);
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = 0.5 * r.normal();
    });
    tensor<double> x({3, 49});
    for (auto& v : x) v = r.normal();
    for (int i = 0; i < 200; ++i) net.forward(x);
    gradcheck_options o = inference_options();
    o.randomize_parameters = false;
    check_network(net, o);
}

BOOST_AUTO_TEST_SUITE_END()
