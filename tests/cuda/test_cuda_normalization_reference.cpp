#define BOOST_TEST_MODULE gant_cuda_normalization_reference
#include "support/test_framework.hpp"
// The device normalisation's functors (gant/cuda/detail/normalization_ops.hpp), replayed on the
// CPU in the device's order of passes (support/norm_emulation.hpp), against gant's CPU
// batch_norm (training and inference mode, running statistics) and layer_norm: forward,
// backward with parameter gradients, tangent and paired reverse. The device sums each group in
// a different order from the CPU layers (both in double), so results agree to float rounding:
// normwise 1e-5 (a wrong term shows as an error of order 1). No GPU needed.
#include <cstdint>
#include <iostream>
#include <vector>

#include "gant/layers/batch_norm.hpp"
#include "gant/layers/layer_norm.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/norm_emulation.hpp"

namespace {

using namespace gant::cuda::testing;
using gant::cuda::norm_grouping;
using gant::cuda::norm_problem;

constexpr double tolerance = 1e-5;
constexpr std::size_t C = 6, H = 5, W = 3, N = 7;
using image = gant::image<C, H, W>;

gant::tensor<float> batch_of(std::uint64_t seed, double lo, double hi) {
    const std::vector<float> v = uniform_values(N * image::size, seed, lo, hi);
    gant::tensor<float> t = gant::tensor<float>::from_shape({N, image::size});
    std::copy(v.begin(), v.end(), t.data());
    return t;
}

std::vector<float> as_vector(const gant::tensor<float>& t) { return {t.data(), t.data() + t.size()}; }
std::vector<float> values_of(gant::parameter<float>& p) { return {p.data(), p.data() + p.size()}; }
std::vector<float> grads_of(gant::parameter<float>& p) { return {p.grad.begin(), p.grad.end()}; }

/// Layer L (batch_norm or layer_norm impl) against the emulated device passes.
template <class L>
void check_layer(L& layer, norm_grouping grouping, const gant::pass_context& ctx) {
    const bool training = ctx.training();
    const norm_problem p{grouping, N, C, H * W};
    {
        const auto g = uniform_values(C, test_seed() + 9, 0.5, 1.5), b = uniform_values(C, test_seed() + 10, -0.5, 0.5);
        std::copy(g.begin(), g.end(), layer.gamma().data());
        std::copy(b.begin(), b.end(), layer.beta().data());
    }
    const gant::tensor<float> x = batch_of(test_seed(), -2, 3), xdot = batch_of(test_seed() + 1, -1, 1),
                              ybar = batch_of(test_seed() + 2, -1, 1), ydotbar = batch_of(test_seed() + 3, -1, 1);
    gant::tensor<float> y = x, dx = x, ydot = x, xbar = x, xdotbar = x;
    layer.gamma().zero_grad();
    layer.beta().zero_grad();
    layer.forward(x, y, ctx);
    layer.backward(x, y, ybar, &dx, true, ctx);
    const std::vector<float> gamma_grad = grads_of(layer.gamma()), beta_grad = grads_of(layer.beta());
    layer.forward_tangent(x, y, xdot, ydot, ctx);
    layer.gamma().zero_grad();
    layer.beta().zero_grad();
    layer.backward_paired(x, y, xdot, ydot, ybar, ydotbar, &xbar, &xdotbar, ctx);
    const std::vector<float> gamma_grad_paired = grads_of(layer.gamma()), beta_grad_paired = grads_of(layer.beta());

    const std::vector<float> gamma = values_of(layer.gamma()), beta = values_of(layer.beta());
    const std::size_t n = p.elements();
    std::vector<float> y2(n), dx2(n), ydot2(n), xbar2(n), xdotbar2(n), gg(C, 0.f), bg(C, 0.f), ggp(C, 0.f), bgp(C, 0.f);
    norm_statistics st;
    if (training) {
        st = emulate_norm_forward(p, layer.epsilon, x.data(), gamma.data(), beta.data(), y2.data());
    } else if constexpr (requires { layer.running_mean(); }) {  // batch_norm in inference mode: running statistics
        namespace d = gant::cuda::detail;
        auto& rm = layer.running_mean().value;
        auto& rv = layer.running_var().value;
        st.mean.resize(C);
        st.inv_std.resize(C);
        d::batch_norm_statistics_pass(d::host_exec{}, C, layer.epsilon, rm.data(), rv.data(), st.mean.data(),
                                      st.inv_std.data());
        d::norm_apply_pass(d::host_exec{}, p, x.data(), gamma.data(), beta.data(), st.mean.data(), st.inv_std.data(),
                           y2.data());
    }
    emulate_norm_backward(p, training, x.data(), st, gamma.data(), ybar.data(), dx2.data(), gg.data(), bg.data());
    emulate_norm_tangent(p, training, x.data(), st, gamma.data(), xdot.data(), ydot2.data());
    emulate_norm_paired(p, training, x.data(), xdot.data(), st, gamma.data(), ybar.data(), ydotbar.data(), xbar2.data(),
                        xdotbar2.data(), ggp.data(), bgp.data());

    BOOST_TEST(normwise(y2, as_vector(y)) <= tolerance);
    BOOST_TEST(normwise(dx2, as_vector(dx)) <= tolerance);
    BOOST_TEST(normwise(gg, gamma_grad) <= tolerance);
    BOOST_TEST(normwise(bg, beta_grad) <= tolerance);
    BOOST_TEST(normwise(ydot2, as_vector(ydot)) <= tolerance);
    BOOST_TEST(normwise(xbar2, as_vector(xbar)) <= tolerance);
    BOOST_TEST(normwise(xdotbar2, as_vector(xdotbar)) <= tolerance);
    BOOST_TEST(normwise(ggp, gamma_grad_paired) <= tolerance);
    BOOST_TEST(normwise(bgp, beta_grad_paired) <= tolerance);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(normalization_functors_against_gant_layers)

BOOST_AUTO_TEST_CASE(layer_norm_all_passes) {
    gant::layer_norm_impl<image, C, float> layer;
    check_layer(layer, norm_grouping::per_sample, gant::pass_context{});
}

BOOST_AUTO_TEST_CASE(batch_norm_training_all_passes_and_running_statistics) {
    gant::batch_norm_impl<image, C, true, float> layer;
    const auto rm0 = layer.running_mean().value, rv0 = layer.running_var().value;
    check_layer(layer, norm_grouping::per_channel, gant::pass_context{});

    // The running statistics after that one training forward, from the emulated batch statistics.
    const norm_problem p{norm_grouping::per_channel, N, C, H * W};
    const gant::tensor<float> x = batch_of(test_seed(), -2, 3);
    std::vector<float> y(p.elements()), rm(rm0.begin(), rm0.end()), rv(rv0.begin(), rv0.end());
    const norm_statistics st = emulate_norm_forward(p, layer.epsilon, x.data(), nullptr, nullptr, y.data());
    gant::cuda::detail::batch_norm_update_running_pass(gant::cuda::detail::host_exec{}, C, N * H * W, layer.momentum,
                                                       st.mean.data(), st.variance.data(), rm.data(), rv.data());
    const auto& got_m = layer.running_mean().value;
    const auto& got_v = layer.running_var().value;
    BOOST_TEST(normwise(rm, std::vector<float>(got_m.begin(), got_m.end())) <= tolerance);
    BOOST_TEST(normwise(rv, std::vector<float>(got_v.begin(), got_v.end())) <= tolerance);
}

BOOST_AUTO_TEST_CASE(batch_norm_inference_all_passes) {
    gant::batch_norm_impl<image, C, true, float> layer;
    const auto m = uniform_values(C, test_seed() + 20, -1, 1), v = uniform_values(C, test_seed() + 21, 0.5, 2);
    std::copy(m.begin(), m.end(), layer.running_mean().value.begin());
    std::copy(v.begin(), v.end(), layer.running_var().value.begin());
    gant::pass_context ctx;
    ctx.mode = gant::mode::inference;
    check_layer(layer, norm_grouping::per_channel, ctx);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA normalisation reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
