// Must not compile: a double-precision gan on the CUDA backend, whose kernels are float32.
#include "gant/backend/cuda.hpp"
#include "gant/gan.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/topology/mlp.hpp"

using namespace gant;
using model = gan<topology::mlp<shape<4>, shape<4>, 8, 1>, loss::non_saturating, lipschitz::none, growth::fixed,
                  double, backend::cuda>;

int main() {
    model m;
    (void)m;
}
