#pragma once
// fill_normal and fill_uniform (gant/cuda/random.hpp) over an executor: cuda/src runs them with
// device_exec, the tests with host_exec against gant::rng itself.
#include <cstddef>

#include "gant/core/rng.hpp"
#include "gant/cuda/detail/elementwise_ops.hpp"
#include "gant/cuda/random.hpp"

namespace gant::cuda::detail {

template <class Exec>
void fill_normal_pass(const Exec& exec, rng& r, float* out, std::size_t count) {
    if (count == 0) return;
    const normal_plan plan = plan_normal(r.state(), count);
    const rng::state_type core = r.state().core;
    // The pending variate goes in by value: one launch, no host-to-device copy.
    exec.elementwise(
        normal_pairs_op{
            {core.seed, core.stream}, plan.first_word, plan.pair_values, out, plan.leading, plan.leading_value},
        plan.pairs > 0 ? plan.pairs : 1, "launch of fill_normal");
    r.set_state(plan.after);
}

template <class Exec>
void fill_uniform_pass(const Exec& exec, rng& r, float* out, std::size_t count, double lo, double hi) {
    if (count == 0) return;
    const uniform_plan plan = plan_uniform(r.state(), count);
    const rng::state_type core = r.state().core;
    exec.elementwise(uniform_op{{core.seed, core.stream}, plan.first_word, lo, hi, out}, count,
                     "launch of fill_uniform");
    r.set_state(plan.after);
}

}  // namespace gant::cuda::detail
