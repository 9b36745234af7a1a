// forward_borrowed refuses a braced list: nothing is deduced from it, but the refusing overload's
// default template argument makes it a better match than binding a temporary batch.
#include "gant/layers/dense.hpp"
#include "gant/nn/sequential.hpp"

int main() {
    gant::network<gant::shape<3>, float, gant::backend::cpu, gant::dense<3, 2>> net;
    net.forward_borrowed({{1.0f, 2.0f, 3.0f}});
    return 0;
}
