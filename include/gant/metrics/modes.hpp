#pragma once
// The 2-D mode-collapse metrics (modes covered, high-quality fraction, reverse KL of the mode
// histogram; VEEGAN and PacGAN's numbers, algorithms.md section 10) live with the mixtures they
// score, in data/mixtures.hpp. This header only makes them reachable under gant::metrics, next to
// the image metrics, so there is one implementation.
#include "gant/data/mixtures.hpp"

namespace gant::metrics {

using data::evaluate_modes;
using data::mode_metrics;

}  // namespace gant::metrics
