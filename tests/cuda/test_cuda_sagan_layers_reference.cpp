#define BOOST_TEST_MODULE gant_cuda_sagan_layers_reference
#include "support/test_framework.hpp"
// The device passes of SAGAN's layers (gant/cuda/detail/sagan_ops.hpp, which
// cuda/src/sagan_layers.cu runs with device_exec) run on the CPU with host_exec, against gant's
// CPU layers. No GPU needed:
//   * the power iteration's starting vectors are the CPU spectral_norm layer's, bit for bit;
//   * spectral normalisation (power step, sigma, W / sigma, and the weight gradient pulled back
//     through sigma) against spectral_norm_impl wrapping dense, conv2d and conv_transpose2d (the
//     weight read along dimension 0 and 1), in training and inference mode and after many
//     steps. The passes sum in double where the CPU sums in float, so the two agree to float
//     rounding: normwise 1e-5 (a wrong index, term or factor is an error of order 1);
//   * the self-attention residual's functors against the CPU layer's expressions (bit for bit)
//     and gamma's gradient against a double reference (1e-6: one float rounding of a double sum).
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "gant/cuda/detail/host_exec.hpp"
#include "gant/cuda/detail/sagan_ops.hpp"
#include "gant/cuda/spectral.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "support/conv_reference.hpp"  // test_seed
#include "support/functor_checks.hpp"

namespace {

using namespace gant::cuda::testing;
using gant::cuda::spectral_matrix;
using gant::cuda::detail::host_exec;

constexpr double tolerance = 1e-5;
constexpr std::size_t batch = 4;

std::vector<float> values_of(gant::parameter<float>& p) { return {p.data(), p.data() + p.size()}; }
std::vector<float> grads_of(gant::parameter<float>& p) { return {p.grad.begin(), p.grad.end()}; }

gant::tensor<float> batch_of(std::size_t features, std::uint64_t seed) {
    const std::vector<float> v = uniform_values(batch * features, seed, -1, 1);
    gant::tensor<float> t = gant::tensor<float>::from_shape({batch, features});
    std::copy(v.begin(), v.end(), t.data());
    return t;
}

/// The CPU layer's buffers u and v, in its visiting order.
template <class Layer>
std::vector<std::vector<float>> buffers_of(Layer& layer) {
    std::vector<std::vector<float>> out;
    layer.visit_buffers([&](gant::buffer<float>& b) { out.emplace_back(b.value.begin(), b.value.end()); });
    return out;
}

void expect_close(const std::string& what, const std::vector<float>& got, const std::vector<float>& want,
                  double bound = tolerance) {
    const double error = normwise(got, want);
    std::cout << "  " << what << ": normwise " << error << '\n';
    BOOST_TEST(error <= bound, what << ": " << error << " > " << bound);
}

/// The device passes, replayed on the host on their own copies of the state.
struct emulated_spectral_norm {
    spectral_matrix m;
    std::vector<float> u, v, sigma{1.f}, normalised, grad;

    emulated_spectral_norm(const spectral_matrix& matrix)
        : m(matrix), normalised(matrix.size()), grad(matrix.size(), 0.f) {
        const gant::cuda::spectral_vectors start = gant::cuda::spectral_start(m.rows, m.cols);
        u = start.u;
        v = start.v;
    }
    void normalise(const std::vector<float>& w, std::size_t steps) {
        gant::cuda::detail::spectral_normalise_pass(host_exec{}, m, steps, w.data(), u.data(), v.data(), sigma.data(),
                                                    normalised.data());
    }
    void pull_back(const std::vector<float>& g) {
        gant::cuda::detail::spectral_pull_back_pass(host_exec{}, m, g.data(), normalised.data(), u.data(), v.data(),
                                                    sigma.data(), grad.data());
    }
};

/// spectral_norm<Layer, Dim> on input In: the CPU layer against the replayed device passes.
template <class Layer, std::size_t Dim, class In>
void check_spectral_norm(const char* name) {
    using cpu_layer = typename gant::spectral_norm<Layer, Dim>::template impl<In, float, gant::backend::cpu>;
    std::cout << name << ":\n";
    cpu_layer cpu;
    const spectral_matrix m = gant::cuda::spectral_matrix_of(cpu.weight().shape, Dim);

    // The starting vectors, before any step.
    const auto start = buffers_of(cpu);
    const gant::cuda::spectral_vectors device_start = gant::cuda::spectral_start(m.rows, m.cols);
    BOOST_TEST(start.size() == 2u);
    BOOST_TEST(differences(start[0].data(), device_start.u.data(), m.rows) == 0u);
    BOOST_TEST(differences(start[1].data(), device_start.v.data(), m.cols) == 0u);

    const std::vector<float> w = uniform_values(cpu.weight().size(), test_seed() + m.rows, -1, 1);
    std::copy(w.begin(), w.end(), cpu.weight().data());
    emulated_spectral_norm device(m);

    // A training forward: one power step, sigma and W_SN.
    const std::size_t in = In::size, out = cpu_layer::output_shape::size;
    const gant::tensor<float> x = batch_of(in, test_seed() + 1), dy = batch_of(out, test_seed() + 2);
    gant::tensor<float> y = gant::tensor<float>::from_shape({batch, out});
    gant::tensor<float> dx = gant::tensor<float>::from_shape({batch, in});
    const gant::pass_context training;
    cpu.forward(x, y, training);
    device.normalise(w, 1);
    auto state = buffers_of(cpu);
    expect_close("u after a step", device.u, state[0]);
    expect_close("v after a step", device.v, state[1]);
    expect_close("sigma", device.sigma, {cpu.sigma()});
    expect_close("W / sigma", device.normalised, values_of(cpu.inner().weight()));

    // The weight gradient through sigma, from the wrapped layer's gradient G of W_SN.
    cpu.weight().zero_grad();
    cpu.backward(x, y, dy, &dx, true, training);
    device.pull_back(grads_of(cpu.inner().weight()));
    expect_close("weight gradient", device.grad, grads_of(cpu.weight()));

    // Inference: no step, sigma from the stored vectors.
    gant::pass_context inference;
    inference.mode = gant::mode::inference;
    cpu.forward(x, y, inference);
    device.normalise(w, 0);
    state = buffers_of(cpu);
    expect_close("u unchanged in inference", device.u, state[0]);
    expect_close("sigma in inference", device.sigma, {cpu.sigma()});

    // Many steps: the vectors converge to the top singular pair on both sides.
    cpu.power_iterate(40);
    device.normalise(w, 40);
    state = buffers_of(cpu);
    expect_close("u after 40 more steps", device.u, state[0], 1e-4);
    expect_close("sigma after 40 more steps", device.sigma, {cpu.sigma()});
}

}  // namespace

BOOST_AUTO_TEST_CASE(spectral_norm_matches_the_cpu_layer) {
    check_spectral_norm<gant::dense<7, 5>, 0, gant::shape<7>>("spectral_norm<dense<7, 5>>");
    check_spectral_norm<gant::dense<12, 30, false>, 0, gant::image<3, 2, 2>>("spectral_norm<dense<12, 30>> (tall)");
    check_spectral_norm<gant::conv2d<3, 8, 4, 2, 1>, 0, gant::image<3, 9, 11>>("spectral_norm<conv2d 3->8 4x4>");
    check_spectral_norm<gant::conv_transpose2d<6, 4, 4, 2, 1, false>, 1, gant::image<6, 4, 3>>(
        "spectral_norm<conv_transpose2d 6->4 4x4, dim 1>");
    check_spectral_norm<gant::conv2d<5, 1, 1, 1, 0, false>, 0, gant::image<5, 3, 3>>(
        "spectral_norm<conv2d 5->1 1x1> (one row)");
}

BOOST_AUTO_TEST_CASE(spectral_matrix_reads_the_weight_as_the_cpu_does) {
    // conv_transpose2d's [Cin = 2, Cout = 3, 2, 2] along dimension 1: rows = Cout, columns
    // (cin, tap); element (r, c) at ((c / 4) * 3 + r) * 4 + c % 4.
    const spectral_matrix m = gant::cuda::spectral_matrix_of({2, 3, 2, 2}, 1);
    BOOST_TEST(m.rows == 3u);
    BOOST_TEST(m.cols == 8u);
    BOOST_TEST(m.block == 4u);
    std::vector<int> seen(m.size(), 0);
    for (std::size_t r = 0; r < m.rows; ++r)
        for (std::size_t c = 0; c < m.cols; ++c) {
            const std::size_t i = m.index(r, c);
            BOOST_TEST(i == ((c / 4) * 12 + r * 4 + c % 4));
            BOOST_TEST(m.row_of(i) == r);
            BOOST_TEST(m.col_of(i) == c);
            ++seen.at(i);
        }
    for (int s : seen) BOOST_TEST(s == 1);
    bool refused = false;
    try {
        gant::cuda::spectral_matrix_of({4, 5}, 2);
    } catch (const std::invalid_argument&) {
        refused = true;
    }
    BOOST_TEST(refused);
}

BOOST_AUTO_TEST_CASE(residual_functors_match_the_cpu_expressions) {
    constexpr std::size_t samples = 3, features = 37, n = samples * features;
    const std::vector<float> o = uniform_values(n, test_seed() + 3, -2, 2),
                             x = uniform_values(n, test_seed() + 4, -2, 2),
                             ybar = uniform_values(n, test_seed() + 5, -2, 2),
                             ydotbar = uniform_values(n, test_seed() + 6, -2, 2);
    const float gamma = 0.37f;

    std::vector<float> y(n), scaled(n), want_y(n), want_scaled(n);
    emulate(gant::cuda::detail::scaled_residual_op{&gamma, o.data(), x.data(), y.data()}, n);
    emulate(gant::cuda::detail::scaled_residual_op{&gamma, o.data(), nullptr, scaled.data()}, n);
    for (std::size_t k = 0; k < n; ++k) {  // self_attention_impl's forward and scaled()
        want_y[k] = gamma * o[k] + x[k];
        want_scaled[k] = gamma * o[k];
    }
    BOOST_TEST(differences(y.data(), want_y.data(), n) == 0u);
    BOOST_TEST(differences(scaled.data(), want_scaled.data(), n) == 0u);

    std::vector<float> sum = x, product(n);
    emulate(gant::cuda::detail::add_op{o.data(), sum.data()}, n);
    emulate(gant::cuda::detail::multiply_op{o.data(), x.data(), product.data()}, n);
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < n; ++k)
        wrong += same_bits(sum[k], x[k] + o[k]) && same_bits(product[k], o[k] * x[k]) ? 0 : 1;
    BOOST_TEST(wrong == 0u);

    // gamma's gradient, first-order and paired, accumulated onto what is there.
    double first = 0, second = 0;
    for (std::size_t k = 0; k < n; ++k) {
        first += double(ybar[k]) * double(o[k]);
        second += double(ydotbar[k]) * double(x[k]);
    }
    float grad = 0.5f;
    gant::cuda::detail::accumulate_scale_gradient_pass(host_exec{}, ybar.data(), o.data(), nullptr, nullptr, samples,
                                                       features, &grad);
    expect_close("gamma gradient", {grad}, {float(0.5 + first)}, 1e-6);
    grad = 0.f;
    gant::cuda::detail::accumulate_scale_gradient_pass(host_exec{}, ybar.data(), o.data(), ydotbar.data(), x.data(),
                                                       samples, features, &grad);
    expect_close("paired gamma gradient", {grad}, {float(first + second)}, 1e-6);
}

int main(int argc, char** argv) {
    std::cout << "gant CUDA SAGAN layer reference tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
