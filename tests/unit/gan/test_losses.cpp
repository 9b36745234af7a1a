#define BOOST_TEST_MODULE gant_losses
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "unit/gan/loss_fixtures.hpp"

using namespace gant;
namespace fx = gant::fixtures::losses;

namespace {

template <class T>
tensor<T> column(const double* values, std::size_t n) {
    tensor<T> t({n, std::size_t(1)});
    for (std::size_t i = 0; i < n; ++i) t(i, 0) = T(values[i]);
    return t;
}

template <class T>
tensor<T> filled(std::size_t n, T value) {
    tensor<T> t({n, std::size_t(1)});
    std::fill(t.begin(), t.end(), value);
    return t;
}

/// What PyTorch computed for one loss (scripts/make_loss_fixtures.py).
struct reference {
    double critic_value;
    const double* critic_d_real;
    const double* critic_d_fake;
    double generator_value;
    const double* generator_d_fake;
};
#define GANT_REFERENCE(ns) \
    reference { fx::ns::critic_value, fx::ns::critic_d_real, fx::ns::critic_d_fake, fx::ns::generator_value, fx::ns::generator_d_fake }

bool close(double a, double b, double rel, double abs) { return std::abs(a - b) <= abs + rel * std::abs(b); }

template <class T, class Loss>
void check_against_torch(const Loss& loss, const reference& ref, double rel, double abs) {
    const tensor<T> real = column<T>(fx::real, fx::n_real), fake = column<T>(fx::fake, fx::n_fake);
    // Gradients are written, not accumulated: start them at garbage.
    tensor<T> d_real = filled<T>(fx::n_real, T(123)), d_fake = filled<T>(fx::n_fake, T(-77));
    const double critic = double(loss.critic(real, fake, d_real, d_fake));
    BOOST_TEST_INFO(Loss::name << ": critic value " << critic << " vs torch " << ref.critic_value);
    BOOST_TEST(close(critic, ref.critic_value, rel, abs));
    for (std::size_t i = 0; i < fx::n_real; ++i) {
        BOOST_TEST_INFO(Loss::name << ": critic d_real[" << i << "] " << d_real(i, 0) << " vs " << ref.critic_d_real[i]);
        BOOST_TEST(close(double(d_real(i, 0)), ref.critic_d_real[i], rel, abs));
    }
    for (std::size_t i = 0; i < fx::n_fake; ++i) {
        BOOST_TEST_INFO(Loss::name << ": critic d_fake[" << i << "] " << d_fake(i, 0) << " vs " << ref.critic_d_fake[i]);
        BOOST_TEST(close(double(d_fake(i, 0)), ref.critic_d_fake[i], rel, abs));
    }
    d_fake = filled<T>(fx::n_fake, T(55));
    const double generator = double(loss.generator(real, fake, d_fake));
    BOOST_TEST_INFO(Loss::name << ": generator value " << generator << " vs torch " << ref.generator_value);
    BOOST_TEST(close(generator, ref.generator_value, rel, abs));
    for (std::size_t i = 0; i < fx::n_fake; ++i) {
        BOOST_TEST_INFO(Loss::name << ": generator d_fake[" << i << "] " << d_fake(i, 0) << " vs "
                                   << ref.generator_d_fake[i]);
        BOOST_TEST(close(double(d_fake(i, 0)), ref.generator_d_fake[i], rel, abs));
    }
}

/// ||a - b|| / max(||a||, ||b||, 1e-3): the floor keeps rounding noise of differences of an
/// O(10) objective (~1e-10) from failing a gradient that is genuinely ~0.
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
    double diff = 0, na = 0, nb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff += (a[i] - b[i]) * (a[i] - b[i]);
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nb), 1e-3});
}

std::vector<double> central_differences(tensor<double>& scores, const std::function<double()>& f) {
    const double h = 1e-5;
    std::vector<double> g;
    for (auto& s : scores) {
        const double keep = s;
        s = keep + h;
        const double plus = f();
        s = keep - h;
        const double minus = f();
        s = keep;
        g.push_back((plus - minus) / (2 * h));
    }
    return g;
}

template <class Loss>
void check_against_differences(const Loss& loss) {
    tensor<double> real = column<double>(fx::real, fx::n_real), fake = column<double>(fx::fake, fx::n_fake);
    tensor<double> d_real(real.shape()), d_fake(fake.shape()), scratch_r(real.shape()), scratch_f(fake.shape());
    loss.critic(real, fake, d_real, d_fake);
    auto critic = [&] { return double(loss.critic(real, fake, scratch_r, scratch_f)); };
    const auto fd_real = central_differences(real, critic), fd_fake = central_differences(fake, critic);
    BOOST_TEST_INFO(Loss::name << ": critic gradient w.r.t. real scores");
    BOOST_TEST(relative_error(std::vector<double>(d_real.begin(), d_real.end()), fd_real) < 1e-6);
    BOOST_TEST_INFO(Loss::name << ": critic gradient w.r.t. fake scores");
    BOOST_TEST(relative_error(std::vector<double>(d_fake.begin(), d_fake.end()), fd_fake) < 1e-6);

    loss.generator(real, fake, d_fake);
    auto generator = [&] { return double(loss.generator(real, fake, scratch_f)); };
    const auto fd_gen = central_differences(fake, generator);
    BOOST_TEST_INFO(Loss::name << ": generator gradient w.r.t. fake scores");
    BOOST_TEST(relative_error(std::vector<double>(d_fake.begin(), d_fake.end()), fd_gen) < 1e-6);
}

loss::least_squares least_squares_with(loss::least_squares::params p) {
    loss::least_squares l;
    l.p = p;
    return l;
}

}  // namespace

// ---- values and gradients against PyTorch (float64, autograd) ---------------------------------

BOOST_AUTO_TEST_SUITE(against_torch)

BOOST_AUTO_TEST_CASE(minimax) {
    check_against_torch<double>(loss::minimax{}, GANT_REFERENCE(minimax), 1e-13, 1e-15);
    check_against_torch<float>(loss::minimax{}, GANT_REFERENCE(minimax), 1e-5, 1e-7);
}
BOOST_AUTO_TEST_CASE(non_saturating) {
    check_against_torch<double>(loss::non_saturating{}, GANT_REFERENCE(non_saturating), 1e-13, 1e-15);
    check_against_torch<float>(loss::non_saturating{}, GANT_REFERENCE(non_saturating), 1e-5, 1e-7);
}
BOOST_AUTO_TEST_CASE(least_squares_zero_one) {
    check_against_torch<double>(least_squares_with(loss::least_squares::zero_one()),
                                GANT_REFERENCE(least_squares_zero_one), 1e-13, 1e-15);
    check_against_torch<double>(loss::least_squares{}, GANT_REFERENCE(least_squares_zero_one), 1e-13, 1e-15);
    check_against_torch<float>(loss::least_squares{}, GANT_REFERENCE(least_squares_zero_one), 1e-5, 1e-6);
}
BOOST_AUTO_TEST_CASE(least_squares_pearson) {
    check_against_torch<double>(least_squares_with(loss::least_squares::pearson()),
                                GANT_REFERENCE(least_squares_pearson), 1e-13, 1e-15);
    check_against_torch<float>(least_squares_with(loss::least_squares::pearson()),
                               GANT_REFERENCE(least_squares_pearson), 1e-5, 1e-6);
}
BOOST_AUTO_TEST_CASE(wasserstein) {
    check_against_torch<double>(loss::wasserstein{}, GANT_REFERENCE(wasserstein), 1e-13, 1e-15);
    check_against_torch<float>(loss::wasserstein{}, GANT_REFERENCE(wasserstein), 1e-5, 1e-7);
}
BOOST_AUTO_TEST_CASE(hinge) {
    check_against_torch<double>(loss::hinge{}, GANT_REFERENCE(hinge), 1e-13, 1e-15);
    check_against_torch<float>(loss::hinge{}, GANT_REFERENCE(hinge), 1e-5, 1e-7);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- gradients against central differences -------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradients_against_differences) {
    check_against_differences(loss::minimax{});
    check_against_differences(loss::non_saturating{});
    check_against_differences(least_squares_with(loss::least_squares::zero_one()));
    check_against_differences(least_squares_with(loss::least_squares::pearson()));
    check_against_differences(least_squares_with({-0.3, 0.8, 0.45}));  // any (a, b, c) reaches the maths
    check_against_differences(loss::wasserstein{});
    loss::wasserstein with_drift;  // PGGAN's drift term, drift * E D(x_real)^2
    with_drift.p.drift = 0.25;
    check_against_differences(with_drift);
    check_against_differences(loss::hinge{});
}

// ---- numerical stability ------------------------------------------------------------------------

template <class T>
void check_stable_at_huge_logits() {
    // softplus(1000) must be 1000 and softplus(-1000) 0, not inf or NaN (a naive log(1 + e^l)
    // overflows at l > 88 in float, > 709 in double).
    const std::vector<double> logits = {1000.0, -1000.0};
    const tensor<T> real = column<T>(logits.data(), 2), fake = column<T>(logits.data(), 2);
    tensor<T> d_real({2, 1}), d_fake({2, 1});

    for (int which = 0; which < 2; ++which) {
        const T critic = which == 0 ? loss::minimax{}.critic(real, fake, d_real, d_fake)
                                    : loss::non_saturating{}.critic(real, fake, d_real, d_fake);
        // E softplus(-l_real) + E softplus(l_fake) = (0 + 1000) / 2 + (1000 + 0) / 2
        BOOST_TEST(double(critic) == 1000.0);
        BOOST_TEST(double(d_real(0, 0)) == 0.0);    // (sigma(1000) - 1) / 2
        BOOST_TEST(double(d_real(1, 0)) == -0.5);   // (sigma(-1000) - 1) / 2
        BOOST_TEST(double(d_fake(0, 0)) == 0.5);    // sigma(1000) / 2
        BOOST_TEST(double(d_fake(1, 0)) == 0.0);    // sigma(-1000) / 2
    }
    BOOST_TEST(double(loss::minimax{}.generator(real, fake, d_fake)) == -500.0);  // -E softplus(l)
    BOOST_TEST(double(d_fake(0, 0)) == -0.5);
    BOOST_TEST(double(d_fake(1, 0)) == 0.0);
    BOOST_TEST(double(loss::non_saturating{}.generator(real, fake, d_fake)) == 500.0);  // E softplus(-l)
    BOOST_TEST(double(d_fake(0, 0)) == 0.0);
    BOOST_TEST(double(d_fake(1, 0)) == -0.5);

    auto finite = [&](double v) {
        BOOST_TEST(std::isfinite(v));
        for (auto g : d_real) BOOST_TEST(std::isfinite(double(g)));
        for (auto g : d_fake) BOOST_TEST(std::isfinite(double(g)));
    };
    finite(double(loss::least_squares{}.critic(real, fake, d_real, d_fake)));
    finite(double(loss::least_squares{}.generator(real, fake, d_fake)));
    finite(double(loss::wasserstein{}.critic(real, fake, d_real, d_fake)));
    finite(double(loss::wasserstein{}.generator(real, fake, d_fake)));
    finite(double(loss::hinge{}.critic(real, fake, d_real, d_fake)));
    finite(double(loss::hinge{}.generator(real, fake, d_fake)));
}

BOOST_AUTO_TEST_CASE(stable_at_huge_logits_double) { check_stable_at_huge_logits<double>(); }
BOOST_AUTO_TEST_CASE(stable_at_huge_logits_float) { check_stable_at_huge_logits<float>(); }

// ---- the policy contract ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(policy_traits) {
    static_assert(loss::policy<loss::minimax> && loss::policy<loss::non_saturating> &&
                  loss::policy<loss::least_squares> && loss::policy<loss::wasserstein> && loss::policy<loss::hinge>);
    static_assert(loss::wasserstein::is_wasserstein);
    static_assert(!loss::minimax::is_wasserstein && !loss::non_saturating::is_wasserstein &&
                  !loss::least_squares::is_wasserstein && !loss::hinge::is_wasserstein);
    static_assert(!loss::minimax::generator_uses_real && !loss::non_saturating::generator_uses_real &&
                  !loss::least_squares::generator_uses_real && !loss::wasserstein::generator_uses_real &&
                  !loss::hinge::generator_uses_real);
    static_assert(loss::minimax::separable && loss::non_saturating::separable && loss::least_squares::separable &&
                  loss::wasserstein::separable && loss::hinge::separable);

    const auto z = loss::least_squares::zero_one(), p = loss::least_squares::pearson(), d = loss::least_squares{}.p;
    BOOST_TEST((z.a == 0.0 && z.b == 1.0 && z.c == 1.0));
    BOOST_TEST((p.a == -1.0 && p.b == 1.0 && p.c == 0.0));
    BOOST_TEST((d.a == z.a && d.b == z.b && d.c == z.c));  // the 0-1 coding is the default
    BOOST_TEST(loss::hinge{}.p.margin == 1.0);
}

// Separable losses: each score's gradient depends on that batch's scores only, which is what
// lets gan<...> run real and fake through a batch-norm critic in separate passes.
BOOST_AUTO_TEST_CASE(separable_losses_do_not_mix_batches) {
    auto check = [](const auto& loss) {
        tensor<double> real = column<double>(fx::real, fx::n_real), fake = column<double>(fx::fake, fx::n_fake);
        tensor<double> d_real(real.shape()), d_fake(fake.shape()), d_real2(real.shape()), d_fake2(fake.shape());
        loss.critic(real, fake, d_real, d_fake);
        tensor<double> other_fake = fake * 0.5 + 0.3;
        loss.critic(real, other_fake, d_real2, d_fake2);
        BOOST_TEST((d_real == d_real2));
    };
    check(loss::minimax{});
    check(loss::least_squares{});
    check(loss::wasserstein{});
    check(loss::hinge{});
}
