#pragma once
// Run-time magnitudes of loss and Lipschitz policies (lambda, clip, k, p, margin, drift, the
// least-squares targets) are public fields a user sets directly, e.g. m.lipschitz().p.lambda.
// A value outside its meaning (a negative penalty weight, a zero clipping bound, NaN) would not
// fail loudly: it would train a different objective or quietly wreck the critic. So a policy
// that has magnitudes states their rules in check_magnitudes(), and gan::train_step calls it
// before it changes anything; a failure throws std::invalid_argument naming the field.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace gant {

/// Throws "gant: <policy>.p.<field> is <value>, but it must be <rule>" unless ok.
inline void require_magnitude(bool ok, const char* policy, const char* field, double value, const char* rule) {
    if (ok) return;
    char number[32];
    std::snprintf(number, sizeof number, "%g", value);
    throw std::invalid_argument(std::string("gant: ") + policy + ".p." + field + " is " + number + ", but it must be " +
                                rule);
}

/// Finite and >= 0: a weight on a penalty term.
inline bool finite_non_negative(double v) { return std::isfinite(v) && v >= 0.0; }

/// Runs policy.check_magnitudes() where the policy has one (user policies need not).
template <class Policy>
void check_magnitudes(const Policy& policy) {
    if constexpr (requires { policy.check_magnitudes(); }) policy.check_magnitudes();
}

}  // namespace gant
