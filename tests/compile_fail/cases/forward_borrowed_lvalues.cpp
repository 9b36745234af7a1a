// Control for the forward_borrowed cases: a named batch, const or not, compiles with the same
// flags, so their failures are the temporary's, not the call's.
#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<3>, float, gant::backend::cpu, gant::dense<3, 2>> net;
    gant::tensor<float> x({4, 3});
    const gant::tensor<float>& read_only = x;
    net.forward_borrowed(x);
    net.forward_borrowed(read_only);
    return 0;
}
