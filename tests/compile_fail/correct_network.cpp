// Control case: a correctly wired network compiles with the same flags as the failing cases.
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<10>, float, gant::backend::cpu, gant::dense<10, 128>, gant::leaky_relu<>,
                  gant::dense<128, 1>>
        net;
    return static_cast<int>(net.output_size) - 1;
}
