#define BOOST_TEST_MODULE gant_cuda_attention_reference
#include "support/test_framework.hpp"
// The self-attention row rules (gant/layers/attention_rows.hpp), which the CPU layer and the
// device kernels (gant/cuda/attention.hpp) share, checked in double against their definitions:
// the softmax against exp(z)/sum, the adjoint and the tangent against the explicit Jacobian
// J = diag(p) - p p^T, and the paired reverse against central differences of the map it is
// the adjoint of. Then the row functors the kernels run (detail/attention_ops.hpp) against the
// per-row calls, so each kernel's row indexing is checked without a GPU.
#include <cmath>
#include <iostream>
#include <limits>
#include <vector>

#include "gant/cuda/detail/attention_ops.hpp"
#include "gant/layers/attention_rows.hpp"
#include "support/conv_reference.hpp"  // test_seed
#include "support/functor_checks.hpp"

namespace {

using namespace gant::cuda::testing;
namespace rows = gant::attention_rows;

std::vector<double> doubles(std::size_t n, std::uint64_t seed, double lo, double hi) {
    const std::vector<float> f = uniform_values(n, seed, lo, hi);
    return std::vector<double>(f.begin(), f.end());
}

std::vector<double> softmax_of(std::vector<double> z) {
    rows::softmax(z.data(), z.size());
    return z;
}

/// J(z) w with J = diag(p) - p p^T, p = softmax(z), in plain double.
std::vector<double> jacobian_times(const std::vector<double>& p, const std::vector<double>& w) {
    double inner = 0;
    for (std::size_t i = 0; i < p.size(); ++i) inner += p[i] * w[i];
    std::vector<double> out(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) out[i] = p[i] * w[i] - p[i] * inner;
    return out;
}

double largest(const std::vector<double>& a, const std::vector<double>& b) {
    double w = 0;
    for (std::size_t i = 0; i < a.size(); ++i) w = std::max(w, std::abs(a[i] - b[i]));
    return w;
}

constexpr std::size_t widths[] = {1, 2, 7, 64, 257};

}  // namespace

BOOST_AUTO_TEST_CASE(softmax_is_exp_over_its_sum) {
    for (std::size_t n : widths) {
        const std::vector<double> z = doubles(n, test_seed() + n, -6, 6);
        const std::vector<double> p = softmax_of(z);
        double sum = 0;
        for (double x : z) sum += std::exp(x);
        std::vector<double> want(n);
        for (std::size_t i = 0; i < n; ++i) want[i] = std::exp(z[i]) / sum;
        BOOST_TEST(largest(p, want) <= 1e-15);
        // float rows: the same maths in single precision
        std::vector<float> f(z.begin(), z.end());
        rows::softmax(f.data(), n);
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(double(f[i]) - want[i]));
        BOOST_TEST(worst <= 1e-6);
    }
    // Shifted by the row's maximum: large logits do not overflow, -inf logits get 0.
    std::vector<float> z{1e4f, 1e4f - 1.f, -std::numeric_limits<float>::infinity(), 0.f};
    rows::softmax(z.data(), z.size());
    BOOST_TEST(std::abs(z[0] - 1.f / (1.f + std::exp(-1.f))) <= 1e-6);
    BOOST_TEST(z[2] == 0.f);
    BOOST_TEST(z[3] == 0.f);
}

BOOST_AUTO_TEST_CASE(adjoint_and_tangent_apply_the_jacobian) {
    for (std::size_t n : widths) {
        const std::vector<double> p = softmax_of(doubles(n, test_seed() + 10 + n, -3, 3));
        const std::vector<double> w = doubles(n, test_seed() + 20 + n, -2, 2);
        const std::vector<double> want = jacobian_times(p, w);  // J is symmetric: adjoint = tangent map
        std::vector<double> b = w;
        rows::softmax_adjoint(p.data(), b.data(), n);
        BOOST_TEST(largest(b, want) <= 1e-15);
        std::vector<double> u = w, pdot(n);
        rows::softmax_tangent(p.data(), u.data(), pdot.data(), n);
        BOOST_TEST(largest(pdot, want) <= 1e-15);
        double centred = 0;  // u is w centred under p
        for (std::size_t i = 0; i < n; ++i) centred += p[i] * u[i];
        BOOST_TEST(std::abs(centred) <= 1e-15);
    }
}

// softmax_paired is the reverse of (z, zdot) -> (p, pdot) = (softmax(z), J(z) zdot): for seeds
// pbar, pdotbar it must give the gradients of F(z, zdot) = <pbar, p> + <pdotbar, pdot>.
BOOST_AUTO_TEST_CASE(paired_reverse_is_the_gradient_of_the_paired_map) {
    for (std::size_t n : widths) {
        const std::vector<double> z = doubles(n, test_seed() + 30 + n, -3, 3),
                                  zdot = doubles(n, test_seed() + 40 + n, -2, 2),
                                  pbar = doubles(n, test_seed() + 50 + n, -2, 2),
                                  pdotbar = doubles(n, test_seed() + 60 + n, -2, 2);
        const auto F = [&](const std::vector<double>& zz, const std::vector<double>& dd) {
            const std::vector<double> p = softmax_of(zz), pdot = jacobian_times(p, dd);
            double f = 0;
            for (std::size_t i = 0; i < n; ++i) f += pbar[i] * p[i] + pdotbar[i] * pdot[i];
            return f;
        };
        const std::vector<double> p = softmax_of(z);
        std::vector<double> u = zdot, pdot(n), zbar = pbar, zdotbar = pdotbar;
        rows::softmax_tangent(p.data(), u.data(), pdot.data(), n);
        rows::softmax_paired(p.data(), u.data(), zbar.data(), zdotbar.data(), n);
        const double h = 1e-6;
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i) {
            std::vector<double> up = z, down = z;
            up[i] += h;
            down[i] -= h;
            worst = std::max(worst, std::abs((F(up, zdot) - F(down, zdot)) / (2 * h) - zbar[i]));
            up = zdot;
            down = zdot;
            up[i] += h;
            down[i] -= h;
            worst = std::max(worst, std::abs((F(z, up) - F(z, down)) / (2 * h) - zdotbar[i]));
        }
        BOOST_TEST(worst <= 1e-7);
    }
}

// The functors the kernels run, over several rows, against the per-row calls: bit for bit.
BOOST_AUTO_TEST_CASE(row_functors_address_each_row) {
    const std::size_t count = 5, width = 9, n = count * width;
    std::vector<float> z = uniform_values(n, test_seed() + 70, -4, 4), p = z;
    emulate(gant::cuda::detail::softmax_rows_op{p.data(), width}, count);
    std::vector<float> want = z;
    for (std::size_t r = 0; r < count; ++r) rows::softmax(want.data() + r * width, width);
    BOOST_TEST(differences(p.data(), want.data(), n) == 0u);

    const std::vector<float> w = uniform_values(n, test_seed() + 71, -2, 2),
                             v = uniform_values(n, test_seed() + 72, -2, 2);
    std::vector<float> b = w, b_want = w;
    emulate(gant::cuda::detail::softmax_adjoint_rows_op{p.data(), b.data(), width}, count);
    for (std::size_t r = 0; r < count; ++r)
        rows::softmax_adjoint(p.data() + r * width, b_want.data() + r * width, width);
    BOOST_TEST(differences(b.data(), b_want.data(), n) == 0u);

    std::vector<float> u = w, pdot(n), u_want = w, pdot_want(n);
    emulate(gant::cuda::detail::softmax_tangent_rows_op{p.data(), u.data(), pdot.data(), width}, count);
    for (std::size_t r = 0; r < count; ++r)
        rows::softmax_tangent(p.data() + r * width, u_want.data() + r * width, pdot_want.data() + r * width, width);
    BOOST_TEST(differences(u.data(), u_want.data(), n) == 0u);
    BOOST_TEST(differences(pdot.data(), pdot_want.data(), n) == 0u);

    std::vector<float> pbar = v, pdotbar = w, pbar_want = v, pdotbar_want = w;
    emulate(gant::cuda::detail::softmax_paired_rows_op{p.data(), u.data(), pbar.data(), pdotbar.data(), width}, count);
    for (std::size_t r = 0; r < count; ++r)
        rows::softmax_paired(p.data() + r * width, u.data() + r * width, pbar_want.data() + r * width,
                             pdotbar_want.data() + r * width, width);
    BOOST_TEST(differences(pbar.data(), pbar_want.data(), n) == 0u);
    BOOST_TEST(differences(pdotbar.data(), pdotbar_want.data(), n) == 0u);
}

int main(int argc, char** argv) {
    std::cout << "gant CUDA attention row tests, seed " << test_seed() << std::endl;
    return run_tests(argc, argv);
}
