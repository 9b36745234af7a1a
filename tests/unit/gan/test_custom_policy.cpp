#define BOOST_TEST_MODULE gant_custom_policy
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gant/gan.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/topology/mlp.hpp"
#include "unit/gan/critic_gradcheck.hpp"
#include "unit/gan/loss_fixtures.hpp"

// ---- a user's own policies, written outside namespace gant ---------------------------------------

/// Relativistic average standard GAN (RaSGAN, Jolicoeur-Martineau 2018): the critic judges
/// whether a real sample looks more real than the average fake, and vice versa,
///   L_D = E_r softplus(-(C(x_r) - E C(x_f))) + E_f softplus(C(x_f) - E C(x_r)),
///   L_G = the same with real and fake swapped.
/// Every score's gradient involves the other batch's mean: not separable, and the generator's
/// loss reads real scores.
struct relativistic_average {
    struct params {};
    params p;
    static constexpr const char* name = "relativistic_average";
    static constexpr bool is_wasserstein = false;
    static constexpr bool generator_uses_real = true;
    static constexpr bool separable = false;

    template <class T>
    T critic(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_real,
             gant::tensor<T>& d_fake) const {
        return objective<T>(real, fake, &d_real, &d_fake);
    }
    template <class T>
    T generator(const gant::tensor<T>& real, const gant::tensor<T>& fake, gant::tensor<T>& d_fake) const {
        return objective<T>(fake, real, &d_fake, nullptr);
    }

private:
    template <class T>
    static T softplus(T u) {
        return std::max(u, T(0)) + std::log1p(std::exp(-std::abs(u)));
    }
    template <class T>
    static T sigmoid(T u) {
        if (u >= T(0)) return T(1) / (T(1) + std::exp(-u));
        const T e = std::exp(u);
        return e / (T(1) + e);
    }
    template <class T>
    static T mean(const gant::tensor<T>& t) {
        T s = 0;
        for (auto v : t) s += v;
        return s / T(t.size());
    }
    // E_a softplus(mean b - a_i) + E_b softplus(b_j - mean a), and its gradients:
    //   d/da_i = -sigma(mean b - a_i) / na - sum_j sigma(b_j - mean a) / (na nb)
    //   d/db_j =  sigma(b_j - mean a) / nb + sum_i sigma(mean b - a_i) / (na nb)
    template <class T>
    static T objective(const gant::tensor<T>& a, const gant::tensor<T>& b, gant::tensor<T>* da, gant::tensor<T>* db) {
        const std::size_t na = a.size(), nb = b.size();
        const T ma = mean(a), mb = mean(b);
        T total = 0, sa = 0, sb = 0;
        for (std::size_t i = 0; i < na; ++i) {
            total += softplus(mb - a.data()[i]) / T(na);
            sa += sigmoid(mb - a.data()[i]);
        }
        for (std::size_t j = 0; j < nb; ++j) {
            total += softplus(b.data()[j] - ma) / T(nb);
            sb += sigmoid(b.data()[j] - ma);
        }
        if (da)
            for (std::size_t i = 0; i < na; ++i)
                da->data()[i] = -sigmoid(mb - a.data()[i]) / T(na) - sb / T(na * nb);
        if (db)
            for (std::size_t j = 0; j < nb; ++j) db->data()[j] = sigmoid(b.data()[j] - ma) / T(nb) + sa / T(na * nb);
        return total;
    }
};

/// R1 (Mescheder et al. 2018): (gamma / 2) E ||grad_x D(x_real)||^2, on real samples only, no
/// target norm. phi(q) = (gamma / 2B) q, so phi'(q) = gamma / 2B; gant's input-gradient
/// machinery turns that into the exact gradient with respect to the critic's weights.
struct r1_penalty {
    struct params {
        double gamma = 10.0;
    };
    params p;
    static constexpr const char* name = "r1";
    template <class CriticDescriptor>
    using critic = CriticDescriptor;
    template <class Critic>
    static constexpr void check() {
        gant::lipschitz::require_per_sample_second_order<Critic>();
    }
    template <class Critic, class T>
    gant::lipschitz::penalty_report penalize(Critic& critic, const gant::tensor<T>& real, const gant::tensor<T>&,
                                             gant::lipschitz::penalty_context<T>& c) {
        const double scale = p.gamma / (2.0 * double(real.shape(0)));
        return c.gradient.apply(
            critic, real, [scale](double q) { return gant::lipschitz::penalty_term{scale * q, scale}; }, c.pass);
    }
    template <class Critic>
    void after_critic_step(Critic&) {}
    static void defaults(gant::hyper_parameters& h) {  // Mescheder et al.: RMSProp 1e-4, one critic step
        h.optimizer = gant::optimizer_kind::rmsprop;
        h.lr_generator = h.lr_critic = 1e-4;
        h.n_critic = 1;
    }
};

// -------------------------------------------------------------------------------------------------

using namespace gant;
using namespace gant::testing;
namespace fx = gant::fixtures::losses;

static_assert(loss::policy<relativistic_average>, "a user's loss meets gant's loss contract");

namespace {

tensor<double> column(const double* values, std::size_t n) {
    tensor<double> t({n, std::size_t(1)});
    for (std::size_t i = 0; i < n; ++i) t(i, 0) = values[i];
    return t;
}

double error_floored(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nb), 1e-3});
}

/// R1 written out: sum_i (gamma / 2B) ||grad D(real_i)||^2.
struct r1_reference {
    double gamma = 10;
    template <class Net>
    double operator()(Net& net, const tensor<double>& real, const pass_context& ctx) const {
        const tensor<double> g = input_gradients(net, real, ctx);
        double s = 0;
        for (std::size_t i = 0; i < g.shape(0); ++i) s += gamma / (2.0 * double(real.shape(0))) * row_squared_norm(g, i);
        return s;
    }
};

template <class Net>
void check_total_objective(const std::string& label, double scale) {
    Net net;
    rng r(42, 1);
    randomize_parameters(net, r, scale);
    const tensor<double> real = random_batch(5, Net::input_size, r);
    const tensor<double> fake = random_batch(5, Net::input_size, r, 1.4);
    const relativistic_average loss;
    r1_penalty r1;
    r1.p.gamma = 3.0;
    const r1_reference reference{3.0};
    pass_context ctx;

    auto penalize = [&] {
        lipschitz::penalty_context<double> pc;
        rng stream(1, 3);
        pc.random = &stream;
        pc.pass = ctx;
        return r1.penalize(net, real, fake, pc);
    };
    net.zero_grad();
    critic_loss_term(net, loss, real, fake, ctx, true);
    const auto report = penalize();
    const auto total = parameter_gradients(net);
    BOOST_TEST(report.value == reference(net, real, ctx), boost::test_tools::tolerance(1e-12));
    check_against_differences(
        net, total, [&] { return critic_loss_term(net, loss, real, fake, ctx, false) + reference(net, real, ctx); },
        label + ": RaSGAN + R1");

    net.zero_grad();
    penalize();
    const auto alone = parameter_gradients(net);
    BOOST_TEST(total_norm(alone) > 1e-6);
    check_against_differences(net, alone, [&] { return reference(net, real, ctx); }, label + ": R1 alone");
}

}  // namespace

// ---- the loss ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(relativistic_loss_against_torch) {
    namespace ra = fx::relativistic_average;
    const tensor<double> real = column(fx::real, fx::n_real), fake = column(fx::fake, fx::n_fake);
    tensor<double> d_real(real.shape()), d_fake(fake.shape());
    const relativistic_average loss;
    BOOST_TEST(loss.critic(real, fake, d_real, d_fake) == ra::critic_value, boost::test_tools::tolerance(1e-13));
    for (std::size_t i = 0; i < fx::n_real; ++i)
        BOOST_TEST(d_real(i, 0) == ra::critic_d_real[i], boost::test_tools::tolerance(1e-12));
    for (std::size_t i = 0; i < fx::n_fake; ++i)
        BOOST_TEST(d_fake(i, 0) == ra::critic_d_fake[i], boost::test_tools::tolerance(1e-12));
    BOOST_TEST(loss.generator(real, fake, d_fake) == ra::generator_value, boost::test_tools::tolerance(1e-13));
    for (std::size_t i = 0; i < fx::n_fake; ++i)
        BOOST_TEST(d_fake(i, 0) == ra::generator_d_fake[i], boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(relativistic_loss_against_differences) {
    tensor<double> real = column(fx::real, fx::n_real), fake = column(fx::fake, fx::n_fake);
    tensor<double> d_real(real.shape()), d_fake(fake.shape()), sr(real.shape()), sf(fake.shape());
    const relativistic_average loss;
    auto fd = [](tensor<double>& s, auto f) {
        std::vector<double> g;
        for (auto& v : s) {
            const double keep = v;
            v = keep + 1e-5;
            const double plus = f();
            v = keep - 1e-5;
            const double minus = f();
            v = keep;
            g.push_back((plus - minus) / 2e-5);
        }
        return g;
    };
    loss.critic(real, fake, d_real, d_fake);
    auto critic = [&] { return loss.critic(real, fake, sr, sf); };
    BOOST_TEST(error_floored({d_real.begin(), d_real.end()}, fd(real, critic)) < 1e-6);
    BOOST_TEST(error_floored({d_fake.begin(), d_fake.end()}, fd(fake, critic)) < 1e-6);
    loss.generator(real, fake, d_fake);
    auto generator = [&] { return loss.generator(real, fake, sf); };
    BOOST_TEST(error_floored({d_fake.begin(), d_fake.end()}, fd(fake, generator)) < 1e-6);
}

// ---- loss + penalty on real critics, against central differences ---------------------------------

BOOST_AUTO_TEST_CASE(total_objective_mlp_critic) {
    check_total_objective<network<shape<5>, double, backend::cpu, dense<5, 7>, gant::tanh, dense<7, 6>, softplus,
                                  dense<6, 1>>>("mlp", 0.6);
}

BOOST_AUTO_TEST_CASE(total_objective_conv_critic) {
    check_total_objective<network<image<1, 7, 7>, double, backend::cpu, conv2d<1, 3, 3, 2, 1>, sigmoid,
                                  conv2d<3, 4, 3, 2, 1>, leaky_relu<>, flatten, dense<16, 1>>>("conv", 1.2);
}

// ---- plugged into gan<...> ---------------------------------------------------------------------

namespace {

using toy = topology::mlp<shape<2>, shape<2>, 16, 2>;
using custom_model = gan<toy, relativistic_average, r1_penalty>;

struct run_result {
    std::vector<double> weights;
    std::vector<step_stats> stats;
    std::size_t source_calls = 0;
};

run_result train(std::size_t steps, std::uint64_t seed, std::size_t n_critic = 1) {
    auto h = custom_model::default_hyper_parameters();
    h.batch = 12;
    h.n_critic = n_critic;
    custom_model m(h, seed);
    rng data(seed, 99);
    run_result out;
    for (std::size_t i = 0; i < steps; ++i)
        out.stats.push_back(m.train_step([&](tensor<float>& b) {
            ++out.source_calls;
            for (auto& v : b) v = float(data.normal(1.0, 0.5));
        }));
    m.critic().visit_parameters([&](auto& p) { out.weights.insert(out.weights.end(), p.value.begin(), p.value.end()); });
    m.generator().visit_parameters([&](auto& p) { out.weights.insert(out.weights.end(), p.value.begin(), p.value.end()); });
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(trains_inside_gan) {
    const auto h = custom_model::default_hyper_parameters();
    BOOST_TEST((h.optimizer == optimizer_kind::rmsprop));  // the user's defaults are used
    BOOST_TEST(h.n_critic == 1u);

    const run_result a = train(8, 3), b = train(8, 3), c = train(8, 4);
    for (const auto& s : a.stats) {
        BOOST_TEST(std::isfinite(s.critic_loss));
        BOOST_TEST(std::isfinite(s.generator_loss));
        BOOST_TEST(s.penalty > 0.0);
        BOOST_TEST(s.input_grad_norm > 0.0);
        BOOST_TEST(std::isnan(s.wasserstein_estimate));  // not a Wasserstein loss
        // the loss part is a mean of softplus values, so positive: the total exceeds the penalty
        BOOST_TEST(s.critic_loss > s.penalty);
    }
    BOOST_TEST((a.weights == b.weights));  // deterministic
    BOOST_TEST((a.weights != c.weights));
    for (double w : a.weights) BOOST_TEST(std::isfinite(w));
}

// The generator's loss reads real scores, so each iteration asks for one more real batch.
BOOST_AUTO_TEST_CASE(generator_step_reads_real_samples) {
    BOOST_TEST(train(3, 1, 1).source_calls == 3u * 2u);
    BOOST_TEST(train(2, 1, 3).source_calls == 2u * 4u);
}
