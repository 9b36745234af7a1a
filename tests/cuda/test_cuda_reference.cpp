#define BOOST_TEST_MODULE gant_cuda_reference
#include "support/test_framework.hpp"
// The CUDA tests' CPU reference (support/conv_reference.hpp: loops in double, no xtensor, so that
// the GPU machine can build it) against gant's own CPU layers, in double: conv2d's forward,
// input gradient and weight gradient, and conv_transpose2d's three passes through the adjoint
// mapping the CUDA entry points use (conv_transpose2d_problem::adjoint()). Runs without a GPU.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/cuda/conv.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "support/conv_reference.hpp"

namespace {

using namespace gant::cuda::testing;
using gant::cuda::conv2d_problem;
using gant::cuda::conv_transpose2d_problem;

template <class T>
gant::tensor<T> batch_of(const std::vector<float>& v, std::size_t batch) {
    gant::tensor<T> t = gant::tensor<T>::from_shape({batch, v.size() / batch});
    for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = T(v[i]);
    return t;
}

/// max |a - b| / max(1, max |b|): the results agree to double rounding when this is ~1e-15.
template <class A>
double mismatch(const A* a, const std::vector<double>& b) {
    double worst = 0, scale = 1;
    for (std::size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::abs(double(a[i]) - b[i]));
        scale = std::max(scale, std::abs(b[i]));
    }
    return worst / scale;
}

constexpr double tolerance = 1e-12;

/// conv2d<Cin, Cout, K, S, P> on image<Cin, H, W>, batch N: the layer's forward, input gradient
/// and weight gradient against conv2d_*_ref.
template <std::size_t N, std::size_t Cin, std::size_t H, std::size_t W, std::size_t Cout, std::size_t K, std::size_t S,
          std::size_t P>
void check_conv2d() {
    using layer = typename gant::conv2d<Cin, Cout, K, S, P, false>::template impl<gant::image<Cin, H, W>, double,
                                                                                    gant::backend::cpu>;
    const conv2d_problem p{int(N), int(Cin), int(H), int(W), int(Cout), int(K), int(K), int(S), int(P)};
    data_source rng(test_seed());
    const std::vector<float> x = rng.make(std::size_t(p.input_size()), data_kind::uniform);
    const std::vector<float> w = rng.make(std::size_t(p.weight_size()), data_kind::uniform);
    const std::vector<float> dy = rng.make(std::size_t(p.output_size()), data_kind::uniform);
    layer l;
    for (std::size_t i = 0; i < w.size(); ++i) l.weight().data()[i] = w[i];
    l.weight().zero_grad();
    const gant::pass_context ctx;
    const auto xt = batch_of<double>(x, N), dyt = batch_of<double>(dy, N);
    gant::tensor<double> y = gant::tensor<double>::from_shape({N, std::size_t(p.output_size()) / N});
    gant::tensor<double> dx = gant::tensor<double>::from_shape({N, std::size_t(p.input_size()) / N});
    l.forward(xt, y, ctx);
    l.backward(xt, y, dyt, &dx, true, ctx);
    const double e_forward = mismatch(y.data(), conv2d_forward_ref(p, x, w).value);
    const double e_data = mismatch(dx.data(), conv2d_backward_data_ref(p, dy, w).value);
    const double e_filter = mismatch(l.weight().grad_data(), conv2d_backward_filter_ref(p, x, dy).value);
    BOOST_TEST_MESSAGE(p.describe() << ": " << e_forward << " " << e_data << " " << e_filter);
    BOOST_TEST(e_forward < tolerance);
    BOOST_TEST(e_data < tolerance);
    BOOST_TEST(e_filter < tolerance);
}

/// conv_transpose2d<Cin, Cout, K, S, P> on image<Cin, H, W>: forward = the adjoint conv2d's
/// backward-data, input gradient = its forward, weight gradient = its backward-filter with the
/// roles of image and gradient exchanged.
template <std::size_t N, std::size_t Cin, std::size_t H, std::size_t W, std::size_t Cout, std::size_t K, std::size_t S,
          std::size_t P>
void check_conv_transpose2d() {
    using layer = typename gant::conv_transpose2d<Cin, Cout, K, S, P, false>::template impl<
        gant::image<Cin, H, W>, double, gant::backend::cpu>;
    const conv_transpose2d_problem t{int(N), int(Cin), int(H), int(W), int(Cout), int(K), int(K), int(S), int(P)};
    const conv2d_problem a = t.adjoint();
    data_source rng(test_seed() + 1);
    const std::vector<float> x = rng.make(std::size_t(a.output_size()), data_kind::uniform);  // convT input
    const std::vector<float> w = rng.make(std::size_t(a.weight_size()), data_kind::uniform);
    const std::vector<float> dy = rng.make(std::size_t(a.input_size()), data_kind::uniform);  // convT output grad
    layer l;
    for (std::size_t i = 0; i < w.size(); ++i) l.weight().data()[i] = w[i];
    l.weight().zero_grad();
    const gant::pass_context ctx;
    const auto xt = batch_of<double>(x, N), dyt = batch_of<double>(dy, N);
    gant::tensor<double> y = gant::tensor<double>::from_shape({N, dy.size() / N});
    gant::tensor<double> dx = gant::tensor<double>::from_shape({N, x.size() / N});
    l.forward(xt, y, ctx);
    l.backward(xt, y, dyt, &dx, true, ctx);
    const double e_forward = mismatch(y.data(), conv2d_backward_data_ref(a, x, w).value);
    const double e_data = mismatch(dx.data(), conv2d_forward_ref(a, dy, w).value);
    const double e_filter = mismatch(l.weight().grad_data(), conv2d_backward_filter_ref(a, dy, x).value);
    BOOST_TEST_MESSAGE(t.describe() << ": " << e_forward << " " << e_data << " " << e_filter);
    BOOST_TEST(e_forward < tolerance);
    BOOST_TEST(e_data < tolerance);
    BOOST_TEST(e_filter < tolerance);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference)

// The odd square-kernel shapes of support/dcgan_shapes.hpp (gant's layers have square kernels).
BOOST_AUTO_TEST_CASE(conv2d_matches_gant_layers) {
    check_conv2d<3, 5, 11, 9, 7, 3, 2, 1>();
    check_conv2d<2, 3, 7, 10, 4, 5, 1, 2>();
    check_conv2d<2, 4, 9, 9, 6, 1, 2, 0>();
    check_conv2d<1, 2, 5, 6, 3, 4, 3, 2>();
    check_conv2d<2, 6, 8, 8, 13, 4, 2, 1>();
    check_conv2d<2, 64, 14, 14, 128, 4, 2, 1>();  // the 28x28 critic's second layer
}

BOOST_AUTO_TEST_CASE(conv_transpose2d_matches_gant_layers) {
    check_conv_transpose2d<3, 7, 6, 5, 5, 3, 2, 1>();
    check_conv_transpose2d<2, 5, 4, 7, 3, 4, 2, 1>();
    check_conv_transpose2d<2, 3, 5, 5, 4, 5, 3, 1>();
    check_conv_transpose2d<3, 9, 1, 1, 6, 4, 1, 0>();
    check_conv_transpose2d<2, 128, 7, 7, 64, 4, 2, 1>();  // the 28x28 generator's first convT
}

// The backend policy addresses kernels with the geometry the CPU layers give their backend;
// a transposed convolution's geometry is its adjoint conv2d's.
BOOST_AUTO_TEST_CASE(backend_policy_maps_layer_geometry) {
    using conv = gant::conv2d<5, 7, 3, 2, 1, false>::impl<gant::image<5, 11, 9>, float, gant::backend::cpu>;
    using convt = gant::conv_transpose2d<7, 5, 3, 2, 1, false>::impl<gant::image<7, 6, 5>, float, gant::backend::cpu>;
    auto same = [](const conv2d_problem& a, const conv2d_problem& b) {
        return a.batch == b.batch && a.in_channels == b.in_channels && a.in_height == b.in_height &&
               a.in_width == b.in_width && a.out_channels == b.out_channels && a.kernel_h == b.kernel_h &&
               a.kernel_w == b.kernel_w && a.stride == b.stride && a.padding == b.padding;
    };
    BOOST_TEST(same(gant::backend::cuda::problem(conv::geometry(), 3, 7), conv2d_problem{3, 5, 11, 9, 7, 3, 3, 2, 1}));
    BOOST_TEST(same(gant::backend::cuda::problem(convt::geometry(), 3, 7),
                    conv_transpose2d_problem{3, 7, 6, 5, 5, 3, 3, 2, 1}.adjoint()));
    BOOST_TEST(std::string(gant::backend::cuda::name) == "cuda");
    BOOST_TEST(gant::backend::cuda::problem(conv::geometry(), 3, 7).out_height() == int(conv::geometry().out_height));
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
