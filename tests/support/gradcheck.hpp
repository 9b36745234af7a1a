#pragma once
// The shared gradient testbed: every layer (and every composed network) is checked in double
// against central finite differences, first order (input and parameter gradients), the tangent
// (JVP), and second order (the paired reverse pass), with one call per layer.
//
//   first order:  L(x, theta) = sum r * y              -> backward(r)
//   tangent:      ydot  vs  (y(x + h xdot) - y(x - h xdot)) / 2h
//   second order: S(x, xdot, theta) = sum r * y + sum rho * ydot
//                 -> backward_paired(r, rho) gives dS/dx, dS/dxdot, dS/dtheta
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gant/nn/sequential.hpp"

namespace gant::testing {

struct gradcheck_options {
    std::size_t batch = 3;
    std::uint64_t seed = 1;
    double input_scale = 1.0;
    double param_scale = 0.5;
    double step = 1e-5;
    double tolerance = 1e-6;         // relative error, norm-wise
    std::size_t max_checks = 48;     // entries per tensor checked by finite differences
    double min_abs_input = 0.0;      // push inputs away from 0 (activation kinks)
    mode pass_mode = mode::training;
    bool randomize_parameters = true;
    bool second_order = true;
};

/// ||a - b|| / max(||a||, ||b||); passes trivially when both are ~0.
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    const double scale = std::sqrt(std::max(na, nb));
    if (scale < 1e-12) return std::sqrt(diff);
    return std::sqrt(diff) / scale;
}

/// Indices of at most `count` entries out of n, spread deterministically.
inline std::vector<std::size_t> sample_indices(std::size_t n, std::size_t count, rng& r) {
    std::vector<std::size_t> idx;
    if (n <= count) {
        for (std::size_t i = 0; i < n; ++i) idx.push_back(i);
    } else {
        for (std::size_t i = 0; i < count; ++i) idx.push_back(r.below(n));
    }
    return idx;
}

inline void fill_random(tensor<double>& t, rng& r, double scale, double min_abs = 0.0) {
    for (auto& v : t) {
        double x = r.normal() * scale;
        if (min_abs > 0 && std::abs(x) < min_abs) x = x < 0 ? x - min_abs : x + min_abs;
        v = x;
    }
}

inline void report(const std::string& what, double err, double tol) {
    BOOST_TEST_INFO(what << ": relative error " << err);
    BOOST_TEST(err < tol);
}

/// Checks a network (or a single layer wrapped in one) end to end.
template <class Net>
void check_network(Net& net, const gradcheck_options& o = {}) {
    using T = double;
    rng r(o.seed, 7);
    pass_context ctx;
    ctx.mode = o.pass_mode;
    constexpr std::size_t in = Net::input_size, out = Net::output_size;

    if (o.randomize_parameters)
        net.visit_parameters([&](parameter<T>& p) {
            for (auto& v : p.value) v = r.normal() * o.param_scale + (p.role == role::scale ? 1.0 : 0.0);
        });

    tensor<T> x({o.batch, in}), xdot({o.batch, in}), ry({o.batch, out}), rho({o.batch, out});
    fill_random(x, r, o.input_scale, o.min_abs_input);
    fill_random(xdot, r, 1.0);
    fill_random(ry, r, 1.0);
    fill_random(rho, r, 1.0);

    auto primal_loss = [&]() {
        const auto& y = net.forward(x, ctx);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += ry.data()[i] * y.data()[i];
        return s;
    };
    auto paired_loss = [&]() {
        double s = primal_loss();
        const auto& yd = net.forward_tangent(xdot, ctx);
        for (std::size_t i = 0; i < yd.size(); ++i) s += rho.data()[i] * yd.data()[i];
        return s;
    };
    auto fd = [&](double& slot, const std::function<double()>& f) {
        const double keep = slot;
        slot = keep + o.step;
        const double plus = f();
        slot = keep - o.step;
        const double minus = f();
        slot = keep;
        return (plus - minus) / (2 * o.step);
    };

    // ---- first order -------------------------------------------------------------------
    net.zero_grad();
    net.forward(x, ctx);
    tensor<T> dx;
    net.backward(ry, &dx, true, ctx);
    {
        std::vector<double> analytic, numeric;
        for (auto i : sample_indices(x.size(), o.max_checks, r)) {
            analytic.push_back(dx.data()[i]);
            numeric.push_back(fd(x.data()[i], primal_loss));
        }
        report("input gradient", relative_error(analytic, numeric), o.tolerance);
    }
    std::vector<std::vector<double>> first_grads;
    net.visit_parameters([&](parameter<T>& p) { first_grads.emplace_back(p.grad.begin(), p.grad.end()); });
    {
        std::size_t k = 0;
        net.visit_parameters([&](parameter<T>& p) {
            std::vector<double> analytic, numeric;
            for (auto i : sample_indices(p.size(), o.max_checks, r)) {
                analytic.push_back(first_grads[k][i]);
                numeric.push_back(fd(p.value.data()[i], primal_loss));
            }
            report("gradient of parameter '" + p.name + "' #" + std::to_string(k), relative_error(analytic, numeric),
                   o.tolerance);
            ++k;
        });
    }
    if (!o.second_order) return;

    // ---- tangent -----------------------------------------------------------------------
    net.forward(x, ctx);
    tensor<T> ydot = net.forward_tangent(xdot, ctx);
    {
        tensor<T> keep = x;
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = keep.data()[i] + o.step * xdot.data()[i];
        tensor<T> plus = net.forward(x, ctx);
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = keep.data()[i] - o.step * xdot.data()[i];
        tensor<T> minus = net.forward(x, ctx);
        x = keep;
        std::vector<double> analytic(ydot.begin(), ydot.end()), numeric;
        for (std::size_t i = 0; i < plus.size(); ++i)
            numeric.push_back((plus.data()[i] - minus.data()[i]) / (2 * o.step));
        report("tangent (JVP)", relative_error(analytic, numeric), o.tolerance);
    }

    // ---- second order ------------------------------------------------------------------
    net.zero_grad();
    net.forward(x, ctx);
    net.forward_tangent(xdot, ctx);
    tensor<T> xbar, xdotbar;
    net.backward_paired(ry, rho, &xbar, &xdotbar, ctx);
    {
        std::vector<double> analytic, numeric;
        for (auto i : sample_indices(x.size(), o.max_checks, r)) {
            analytic.push_back(xbar.data()[i]);
            numeric.push_back(fd(x.data()[i], paired_loss));
        }
        report("paired reverse: input adjoint", relative_error(analytic, numeric), o.tolerance);
    }
    {
        std::vector<double> analytic, numeric;
        for (auto i : sample_indices(xdot.size(), o.max_checks, r)) {
            analytic.push_back(xdotbar.data()[i]);
            numeric.push_back(fd(xdot.data()[i], paired_loss));
        }
        report("paired reverse: tangent adjoint", relative_error(analytic, numeric), o.tolerance);
    }
    std::vector<std::vector<double>> paired_grads;
    net.visit_parameters([&](parameter<T>& p) { paired_grads.emplace_back(p.grad.begin(), p.grad.end()); });
    std::size_t k = 0;
    net.visit_parameters([&](parameter<T>& p) {
        std::vector<double> analytic, numeric;
        for (auto i : sample_indices(p.size(), o.max_checks, r)) {
            analytic.push_back(paired_grads[k][i]);
            numeric.push_back(fd(p.value.data()[i], paired_loss));
        }
        report("paired reverse: parameter '" + p.name + "' #" + std::to_string(k), relative_error(analytic, numeric),
               o.tolerance);
        ++k;
    });
}

/// Checks one layer descriptor on per-sample input shape In.
template <class In, class... Layers>
void check_layers(const gradcheck_options& o = {}) {
    network<In, double, backend::cpu, Layers...> net;
    check_network(net, o);
}

}  // namespace gant::testing
