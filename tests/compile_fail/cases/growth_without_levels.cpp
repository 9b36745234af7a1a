// Must not compile: progressive growth with a topology that has no resolution levels. The
// message names the schedule and the kind of topology it needs.
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/mlp.hpp"

using namespace gant;
using model = gan<topology::mlp<shape<2>, shape<2>, 8, 1>, loss::wasserstein, lipschitz::gradient_penalty,
                  growth::progressive>;

int main() {
    model m;
    (void)m;
}
