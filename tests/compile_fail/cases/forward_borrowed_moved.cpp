// forward_borrowed refuses an xvalue as well: std::move says the caller is done with the batch,
// but the network's backward would still read it.
#include <utility>

#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<3>, float, gant::backend::cpu, gant::dense<3, 2>> net;
    gant::tensor<float> x({4, 3});
    net.forward_borrowed(std::move(x));
    return 0;
}
