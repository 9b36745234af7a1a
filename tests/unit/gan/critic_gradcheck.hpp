#pragma once
// Finite-difference checks of a whole critic objective, shared by test_lipschitz.cpp and
// test_custom_policy.cpp.
//
// The analytic side is built exactly as gan<...>::critic_step builds it: scores on real and
// fake, the loss's critic term and its backward, then policy.penalize with a penalty_context.
// The reference side never calls a policy: each test writes its penalty's value out from the
// input gradients g_i = grad_x D(x_i) (forward, then backward with seed 1), and the checks
// here take central differences of "loss term + that value" with respect to every entry of
// every critic parameter.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gant/lipschitz/policy.hpp"
#include "support/gradcheck.hpp"

namespace gant::testing {

inline tensor<double> random_batch(std::size_t n, std::size_t features, rng& r, double scale = 1.0) {
    tensor<double> t({n, features});
    for (auto& v : t) v = scale * r.normal();
    return t;
}

template <class Net>
void randomize_parameters(Net& net, rng& r, double scale) {
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = r.normal() * scale + (p.role == role::scale ? 1.0 : 0.0);
    });
}

/// g_i = grad_x D(x_i), one row per sample; parameter gradients untouched.
template <class Net>
tensor<double> input_gradients(Net& net, const tensor<double>& x, const pass_context& ctx) {
    net.forward(x, ctx);
    tensor<double> ones({x.shape(0), std::size_t(1)});
    std::fill(ones.begin(), ones.end(), 1.0);
    tensor<double> g;
    net.backward(ones, &g, false, ctx);
    return g;
}

inline double row_squared_norm(const tensor<double>& g, std::size_t i) {
    double q = 0;
    for (std::size_t j = 0; j < g.shape(1); ++j) q += g(i, j) * g(i, j);
    return q;
}

/// The loss's critic term. With backprop, its gradient is added to the parameter gradients the
/// way gan<...> does it (the loss sees both score batches before either backward runs, so
/// non-separable losses are covered).
template <class Net, class Loss>
double critic_loss_term(Net& net, const Loss& loss, const tensor<double>& real, const tensor<double>& fake,
                        const pass_context& ctx, bool backprop) {
    const tensor<double> score_real = net.forward(real, ctx);
    const tensor<double> score_fake = net.forward(fake, ctx);
    tensor<double> d_real(score_real.shape()), d_fake(score_fake.shape());
    const double value = double(loss.critic(score_real, score_fake, d_real, d_fake));
    if (backprop) {
        net.forward(real, ctx);
        net.backward(d_real, nullptr, true, ctx);
        net.forward(fake, ctx);
        net.backward(d_fake, nullptr, true, ctx);
    }
    return value;
}

/// Every parameter's gradient, flattened, in visiting order.
template <class Net>
std::vector<std::vector<double>> parameter_gradients(Net& net) {
    std::vector<std::vector<double>> g;
    net.visit_parameters([&](parameter<double>& p) { g.emplace_back(p.grad.begin(), p.grad.end()); });
    return g;
}

inline double total_norm(const std::vector<std::vector<double>>& g) {
    double s = 0;
    for (const auto& v : g)
        for (double x : v) s += x * x;
    return std::sqrt(s);
}

/// Compares `analytic` (one vector per parameter, visiting order) with central differences of
/// `objective` for every entry of every parameter; norm-wise relative error per parameter.
/// A gradient that is exactly zero (a Wasserstein critic's output bias: +1/B from the fakes,
/// -1/B from the reals) meets differences that are pure rounding noise, ~1e-10 for an O(1)
/// objective; norms below `floor` are therefore measured against `floor` instead.
template <class Net>
void check_against_differences(Net& net, const std::vector<std::vector<double>>& analytic,
                               const std::function<double()>& objective, const std::string& label,
                               double step = 1e-5, double tolerance = 1e-6, double floor = 1e-3) {
    std::size_t k = 0;
    net.visit_parameters([&](parameter<double>& p) {
        std::vector<double> numeric;
        for (std::size_t i = 0; i < p.size(); ++i) {
            double& slot = p.value.data()[i];
            const double keep = slot;
            slot = keep + step;
            const double plus = objective();
            slot = keep - step;
            const double minus = objective();
            slot = keep;
            numeric.push_back((plus - minus) / (2 * step));
        }
        double diff = 0, na = 0, nn = 0;
        for (std::size_t i = 0; i < numeric.size(); ++i) {
            diff += (analytic[k][i] - numeric[i]) * (analytic[k][i] - numeric[i]);
            na += analytic[k][i] * analytic[k][i];
            nn += numeric[i] * numeric[i];
        }
        const double err = std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nn), floor});
        BOOST_TEST_INFO(label << ": parameter #" << k << " '" << p.name << "' (" << p.size()
                              << " entries): relative error " << err);
        BOOST_TEST(err < tolerance);
        ++k;
    });
}

}  // namespace gant::testing
