// Must not compile: a Wasserstein critic that ends in sigmoid. The critic's score must be
// unbounded (every gant loss works on raw scores); the message says to remove the sigmoid.
#include "gant/gan.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"

using namespace gant;
using generator = sequential<dense<2, 8>, relu, dense<8, 3>>;
using critic = sequential<dense<3, 8>, leaky_relu<>, dense<8, 1>, sigmoid>;
using model = gan<topology::custom<shape<2>, shape<3>, generator, critic>, loss::wasserstein, lipschitz::gradient_penalty>;

int main() {
    model m;
    (void)m;
}
