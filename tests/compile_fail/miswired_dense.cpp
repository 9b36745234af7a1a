// Must not compile: dense<10, 128> produces 128 features, dense<64, 1> takes 64.
#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<10>, float, gant::backend::cpu, gant::dense<10, 128>, gant::dense<64, 1>> net;
    (void)net;
}
