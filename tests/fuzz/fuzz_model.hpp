#pragma once
// The small gan configuration the checkpoint fuzzer loads into and make_corpus saves from: an MLP
// pair (2-D samples, 3-D latent, one hidden layer of 8), so one load takes microseconds and the
// fuzzer can try tens of thousands of files a second. Every record kind is present: dense weights
// and biases, the EMA copy, Adam's moments and step counts, the random streams, the step counter.
#include "gant/gan.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/topology/mlp.hpp"
#include "gant/train/gan_state.hpp"

namespace gant::fuzz {

using model = gan<topology::mlp<shape<2>, shape<3>, 8, 1>, loss::non_saturating>;

inline hyper_parameters model_hyper() {
    auto h = model::default_hyper_parameters();
    h.batch = 4;
    h.ema = true;
    return h;
}

}  // namespace gant::fuzz
