#define BOOST_TEST_MODULE gant_optimizers
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/optim/adam.hpp"
#include "gant/optim/rmsprop.hpp"
#include "gant/optim/sgd.hpp"
#include "unit/optim/optim_fixtures.hpp"

using namespace gant;
namespace fx = gant::fixtures::optim;
namespace tt = boost::test_tools;

namespace {

/// The fixture's parameters: two tensors (4 and 3 values) visited in that order.
template <class T>
struct two_tensors {
    parameter<T> a{"a", {fx::tensor_sizes[0]}}, b{"b", {fx::tensor_sizes[1]}};

    template <class F>
    void visit_parameters(F&& f) {
        f(a);
        f(b);
    }
    void load(const double* v) {
        for (std::size_t i = 0; i < a.size(); ++i) a.value(i) = T(v[i]);
        for (std::size_t i = 0; i < b.size(); ++i) b.value(i) = T(v[a.size() + i]);
    }
    void set_grad(const double* g) {
        for (std::size_t i = 0; i < a.size(); ++i) a.grad(i) = T(g[i]);
        for (std::size_t i = 0; i < b.size(); ++i) b.grad(i) = T(g[a.size() + i]);
    }
    std::vector<double> values() const {
        std::vector<double> v(a.value.begin(), a.value.end());
        v.insert(v.end(), b.value.begin(), b.value.end());
        return v;
    }
};

static_assert(optim::parameter_set<two_tensors<double>, double>);
static_assert(optim::parameter_set<network<shape<3>, float, backend::cpu, dense<3, 2>>, float>);
static_assert(!optim::parameter_set<parameter<double>, double>, "a type without visit_parameters is refused");

optim::sgd_params sgd_from(const fx::hyper_parameters& h) {
    return {.lr = h.lr, .momentum = h.momentum, .dampening = h.dampening, .weight_decay = h.weight_decay,
            .nesterov = h.nesterov};
}
optim::adam_params adam_from(const fx::hyper_parameters& h) {
    return {.lr = h.lr, .beta1 = h.beta1, .beta2 = h.beta2, .eps = h.eps, .weight_decay = h.weight_decay,
            .amsgrad = h.amsgrad};
}
optim::rmsprop_params rmsprop_from(const fx::hyper_parameters& h) {
    return {.lr = h.lr, .alpha = h.alpha, .eps = h.eps, .weight_decay = h.weight_decay, .momentum = h.momentum,
            .centered = h.centered};
}

/// Runs the fixture's gradients through `opt` and compares every step with PyTorch's values.
/// For double, the update itself (value after - value before) is compared too, which is far
/// sharper than the values when lr is small: |ours - torch| <= 1e-9 |torch| + a few ulps.
template <class T, class Opt>
void replay(Opt& opt, const fx::trajectory& c, double value_tolerance) {
    two_tensors<T> net;
    net.load(fx::initial);
    std::vector<double> ours_before(fx::initial, fx::initial + fx::size);
    const double* torch_before = fx::initial;
    for (std::size_t t = 0; t < fx::steps; ++t) {
        net.set_grad(fx::grads[t]);
        opt.step(net);
        const std::vector<double> now = net.values();
        for (std::size_t i = 0; i < fx::size; ++i) {
            BOOST_TEST_CONTEXT(c.torch_call << ", step " << t + 1 << ", element " << i) {
                BOOST_TEST(now[i] == c.after[t][i], tt::tolerance(value_tolerance));
                if constexpr (std::is_same_v<T, double>) {
                    const double ours = now[i] - ours_before[i], torch = c.after[t][i] - torch_before[i];
                    BOOST_TEST(std::abs(ours - torch) <= 1e-9 * std::abs(torch) + 8e-16 * std::abs(now[i]));
                }
            }
        }
        ours_before = now;
        torch_before = c.after[t];
    }
    BOOST_TEST(opt.steps() == fx::steps);
}

template <class T>
void replay_case(const fx::trajectory& c, double tolerance) {
    const std::string_view kind = c.optimizer;
    if (kind == "SGD") {
        optim::sgd<T> opt(sgd_from(c.hyper));
        replay<T>(opt, c, tolerance);
    } else if (kind == "Adam") {
        optim::adam<T> opt(adam_from(c.hyper));
        replay<T>(opt, c, tolerance);
    } else if (kind == "RMSprop") {
        optim::rmsprop<T> opt(rmsprop_from(c.hyper));
        replay<T>(opt, c, tolerance);
    } else {
        BOOST_FAIL("unknown optimizer in the fixture: " << kind);
    }
}

using saved_state = std::map<std::string, std::vector<double>>;

/// Saves everything visit_state exposes (the counter stored as a one-element entry).
template <class Opt>
saved_state save(Opt& opt) {
    saved_state s;
    opt.visit_state([&](const std::string& name, auto& x) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(x)>, std::uint64_t>)
            s[name] = {double(x)};
        else
            s[name] = std::vector<double>(x.begin(), x.end());
    });
    return s;
}

template <class Opt>
void restore(Opt& opt, const saved_state& s) {
    std::size_t restored = 0;
    opt.visit_state([&](const std::string& name, auto& x) {
        const auto it = s.find(name);
        BOOST_REQUIRE_MESSAGE(it != s.end(), "state entry " << name << " missing from the checkpoint");
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(x)>, std::uint64_t>) {
            x = std::uint64_t(it->second.at(0));
        } else {
            BOOST_REQUIRE_EQUAL(x.size(), it->second.size());
            std::copy(it->second.begin(), it->second.end(), x.begin());
        }
        ++restored;
    });
    BOOST_TEST(restored == s.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(against_pytorch)

BOOST_AUTO_TEST_CASE(every_configuration_double) {
    for (const auto& c : fx::cases) replay_case<double>(c, 1e-12);
}

// Same rules in float: only float rounding separates the results.
BOOST_AUTO_TEST_CASE(every_configuration_float) {
    for (const auto& c : fx::cases) replay_case<float>(c, 2e-6);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(state)

BOOST_AUTO_TEST_CASE(reset_restarts_adam_bias_correction) {
    const optim::adam_params p{.lr = 1e-3};
    optim::adam<double> opt(p);
    two_tensors<double> net;
    net.load(fx::initial);
    for (std::size_t t = 0; t < 3; ++t) {
        net.set_grad(fx::grads[t]);
        opt.step(net);
    }
    const std::vector<double> start = net.values();
    optim::adam<double> continued = opt;  // the same optimizer without the reset
    two_tensors<double> other = net;

    opt.reset();
    BOOST_TEST(opt.steps() == 0u);
    net.set_grad(fx::grads[3]);
    opt.step(net);
    BOOST_TEST(opt.steps() == 1u);

    // A reset optimizer takes exactly the step a fresh one takes from the same point ...
    optim::adam<double> fresh(p);
    two_tensors<double> reference;
    reference.load(start.data());
    reference.set_grad(fx::grads[3]);
    fresh.step(reference);
    BOOST_TEST(net.values() == reference.values(), tt::per_element());

    // ... whose size is lr wherever |g| >> eps (m / sqrt(v) = sign(g) after bias correction),
    for (std::size_t i = 0; i < 6; ++i)
        BOOST_TEST(std::abs(net.values()[i] - start[i]) == p.lr, tt::tolerance(1e-4));

    // ... and which differs from the step the optimizer would have taken without the reset.
    other.set_grad(fx::grads[3]);
    continued.step(other);
    BOOST_TEST(continued.steps() == 4u);
    BOOST_TEST(std::abs(other.values()[0] - net.values()[0]) > 1e-5);
}

template <class Opt>
void check_round_trip(const typename Opt::params& p, const std::vector<std::string>& expected_names) {
    Opt original(p);
    two_tensors<double> net;
    net.load(fx::initial);
    for (std::size_t t = 0; t < 2; ++t) {
        net.set_grad(fx::grads[t]);
        original.step(net);
    }
    const saved_state checkpoint = save(original);
    BOOST_TEST(checkpoint.size() == expected_names.size());
    for (const auto& name : expected_names) BOOST_TEST(checkpoint.count(name) == 1u, name << " is saved");
    BOOST_TEST(checkpoint.at("step").at(0) == 2.0);

    two_tensors<double> copy = net, untouched = net;
    Opt resumed(p);
    resumed.bind(copy);
    restore(resumed, checkpoint);
    BOOST_TEST(resumed.steps() == 2u);
    Opt forgetful(p);  // no restore: shows that the state matters for the next steps

    for (std::size_t t = 2; t < fx::steps; ++t) {
        net.set_grad(fx::grads[t]);
        copy.set_grad(fx::grads[t]);
        untouched.set_grad(fx::grads[t]);
        original.step(net);
        resumed.step(copy);
        forgetful.step(untouched);
    }
    BOOST_TEST(copy.values() == net.values(), tt::per_element());  // bit for bit
    BOOST_TEST(untouched.values() != net.values());
}

BOOST_AUTO_TEST_CASE(round_trip_through_visit_state) {
    check_round_trip<optim::adam<double>>({.lr = 1e-2, .beta2 = 0.9, .amsgrad = true},
                                          {"step", "0.exp_avg", "0.exp_avg_sq", "0.max_exp_avg_sq", "1.exp_avg",
                                           "1.exp_avg_sq", "1.max_exp_avg_sq"});
    check_round_trip<optim::rmsprop<double>>({.lr = 1e-3, .momentum = 0.9, .centered = true},
                                             {"step", "0.square_avg", "0.momentum_buffer", "0.grad_avg",
                                              "1.square_avg", "1.momentum_buffer", "1.grad_avg"});
    check_round_trip<optim::sgd<double>>({.lr = 0.1, .momentum = 0.8, .dampening = 0.3},
                                         {"step", "0.momentum_buffer", "1.momentum_buffer"});
}

BOOST_AUTO_TEST_CASE(settings_without_state_expose_only_the_counter) {
    optim::sgd<double> opt({.lr = 0.1});
    two_tensors<double> net;
    net.set_grad(fx::grads[0]);
    opt.step(net);
    BOOST_TEST(save(opt).size() == 1u);
}

BOOST_AUTO_TEST_CASE(state_is_allocated_once) {
    optim::adam<double> opt({.amsgrad = true});
    two_tensors<double> net;
    net.load(fx::initial);
    BOOST_TEST(opt.bound_parameters() == 0u);
    net.set_grad(fx::grads[0]);
    opt.step(net);
    BOOST_TEST(opt.bound_parameters() == 2u);
    std::vector<const double*> first;
    opt.visit_state([&](const std::string&, auto& x) {
        if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(x)>, std::uint64_t>) first.push_back(x.data());
    });
    BOOST_TEST(first.size() == 6u);
    for (std::size_t t = 1; t < fx::steps; ++t) {
        net.set_grad(fx::grads[t]);
        opt.step(net);
    }
    std::vector<const double*> later;
    opt.visit_state([&](const std::string&, auto& x) {
        if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(x)>, std::uint64_t>) later.push_back(x.data());
    });
    BOOST_TEST(later == first, tt::per_element());
}

BOOST_AUTO_TEST_CASE(a_different_network_is_refused_until_reset) {
    optim::adam<double> opt;
    two_tensors<double> net;
    net.set_grad(fx::grads[0]);
    opt.step(net);

    network<shape<3>, double, backend::cpu, dense<3, 2>> other;
    other.visit_parameters([](parameter<double>& p) { std::fill(p.grad.begin(), p.grad.end(), 1.0); });
    BOOST_CHECK_THROW(opt.step(other), std::invalid_argument);
    BOOST_TEST(other.layer<0>().weight().value == xt::zeros<double>({6u}));  // nothing was updated
    BOOST_TEST(opt.steps() == 1u);

    opt.reset();
    opt.step(other);
    BOOST_TEST(other.layer<0>().weight().value(0) == -1e-3, tt::tolerance(1e-6));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(interface)

using small_g = network<shape<3>, double, backend::cpu, dense<3, 4>>;
using small_d = network<shape<4>, double, backend::cpu, dense<4, 2>>;

struct generator_and_critic {
    small_g g;
    small_d d;
    template <class F>
    void visit_parameters(F&& f) {
        g.visit_parameters(f);
        d.visit_parameters(f);
    }
};

void randomize(generator_and_critic& nets, std::uint64_t seed) {
    rng r(seed);
    auto fill = [&](parameter<double>& p) {
        for (auto& v : p.value) v = r.normal();
        for (auto& v : p.grad) v = r.normal();
    };
    nets.g.visit_parameters(fill);
    nets.d.visit_parameters(fill);
}

std::vector<double> all_values(generator_and_critic& nets) {
    std::vector<double> v;
    nets.visit_parameters([&](parameter<double>& p) { v.insert(v.end(), p.value.begin(), p.value.end()); });
    return v;
}

BOOST_AUTO_TEST_CASE(one_optimizer_over_several_networks) {
    const auto p = optim::adam_params::wgan_gp();
    generator_and_critic joint, grouped, separate;
    randomize(joint, 4);
    randomize(grouped, 4);
    randomize(separate, 4);
    const std::vector<double> start = all_values(joint);

    optim::adam<double> on_struct(p), on_group(p), on_g(p), on_d(p);
    for (int t = 0; t < 3; ++t) {
        on_struct.step(joint);
        on_group.step(optim::group(grouped.g, grouped.d));
        on_g.step(separate.g);
        on_d.step(separate.d);
    }
    BOOST_TEST(on_struct.bound_parameters() == 4u);
    BOOST_TEST(all_values(joint) == all_values(separate), tt::per_element());
    BOOST_TEST(all_values(grouped) == all_values(separate), tt::per_element());
    BOOST_TEST(all_values(joint) != start);
}

BOOST_AUTO_TEST_CASE(learning_rate_changes_between_steps) {
    optim::sgd<double> opt({.lr = 0.1});
    BOOST_TEST(opt.learning_rate() == 0.1);
    two_tensors<double> net;
    net.load(fx::initial);
    net.set_grad(fx::grads[0]);
    opt.step(net);
    opt.set_learning_rate(0.5);
    BOOST_TEST(opt.learning_rate() == 0.5);
    BOOST_TEST(opt.hyper_parameters().lr == 0.5);
    net.set_grad(fx::grads[1]);
    opt.step(net);
    for (std::size_t i = 0; i < fx::size; ++i)
        BOOST_TEST(net.values()[i] == fx::initial[i] - 0.1 * fx::grads[0][i] - 0.5 * fx::grads[1][i],
                   tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(invalid_hyper_parameters_are_refused) {
    BOOST_CHECK_THROW(optim::adam<double>({.beta1 = 1.0}), std::invalid_argument);
    BOOST_CHECK_THROW(optim::adam<double>({.eps = -1.0}), std::invalid_argument);
    BOOST_CHECK_THROW(optim::sgd<double>({.lr = 0.1, .nesterov = true}), std::invalid_argument);
    BOOST_CHECK_THROW(optim::sgd<double>({.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(optim::rmsprop<double>({.alpha = -0.5}), std::invalid_argument);
    optim::rmsprop<double> opt;
    BOOST_CHECK_THROW(opt.set_learning_rate(-1.0), std::invalid_argument);
    BOOST_TEST(opt.learning_rate() == 1e-2);  // unchanged by the refused value
}

BOOST_AUTO_TEST_CASE(papers_settings) {
    BOOST_TEST(optim::adam_params::dcgan().beta1 == 0.5);
    BOOST_TEST(optim::adam_params::wgan_gp().beta2 == 0.9);
    BOOST_TEST(optim::adam_params::pggan().beta2 == 0.99);
    BOOST_TEST(optim::adam_params::sagan_critic().lr == 4 * optim::adam_params::sagan_generator().lr);
    BOOST_TEST(optim::rmsprop_params::wgan().lr == 5e-5);
    BOOST_TEST(optim::rmsprop_params::wgan().alpha == 0.99);
}

BOOST_AUTO_TEST_SUITE_END()
