// forward_borrowed reads its input again in the reverse passes, so a temporary, gone by the end
// of the statement, must not compile: here a batch made in the call itself.
#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<3>, float, gant::backend::cpu, gant::dense<3, 2>> net;
    net.forward_borrowed(gant::tensor<float>({4, 3}));
    return 0;
}
