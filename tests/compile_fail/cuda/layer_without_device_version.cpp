// Must not compile: a network for backend::cuda with a layer that has no device version (pixel
// norm, a PGGAN layer). The message says so and names the descriptor, instead of the layer
// silently running on the host.
#include "gant/backend/cuda.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pixel_norm.hpp"
#include "gant/nn/sequential.hpp"

using namespace gant;
using net = network<shape<8>, float, backend::cuda, dense<8, 8>, pixel_norm>;

int main() {
    net n;
    (void)n;
}
