#pragma once
// What one training iteration measured, for logs and metrics.csv.
#include <cstddef>
#include <limits>

namespace gant {

struct step_stats {
    std::size_t step = 0;
    double critic_loss = 0;            // loss + penalty, the critic's full objective (last critic step)
    double generator_loss = 0;
    double penalty = 0;                // Lipschitz penalty value (0 without one)
    double wasserstein_estimate = std::numeric_limits<double>::quiet_NaN();  // E D(real) - E D(fake)
    double input_grad_norm = 0;        // mean ||grad_x D|| at the penalty's points (0 without one)
    double mean_real_score = 0, mean_fake_score = 0;
    double critic_weight_norm = 0, generator_weight_norm = 0;
};

}  // namespace gant
