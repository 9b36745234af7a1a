// forward_borrowed refuses an expression too: it would convert into a temporary batch, gone
// before the network's backward reads it.
#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<3>, float, gant::backend::cpu, gant::dense<3, 2>> net;
    gant::tensor<float> x({4, 3});
    net.forward_borrowed(x * 2.0f);
    return 0;
}
