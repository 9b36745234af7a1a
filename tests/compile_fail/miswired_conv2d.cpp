// Must not compile: conv2d<1, 128, 4, 2, 1> turns 1x28x28 into 128x14x14, but the next
// convolution takes 64 channels.
#include "gant/layers/conv2d.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<1, 28, 28>, float, gant::backend::cpu, gant::conv2d<1, 128, 4, 2, 1>, gant::leaky_relu<>,
                  gant::conv2d<64, 128, 4, 2, 1>>
        net;
    (void)net;
}
