// Must not compile: a gradient penalty over a critic that contains batch_norm. Batch statistics
// couple the samples, so "the gradient of one sample's score with respect to that sample" has no
// meaning; the message says so and names layer_norm as the fix.
#include "gant/gan.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"

using namespace gant;
using generator = sequential<dense<2, 8>, relu, dense<8, 3>>;
using critic = sequential<dense<3, 8>, batch_norm<8>, leaky_relu<>, dense<8, 1>>;
using model = gan<topology::custom<shape<2>, shape<3>, generator, critic>, loss::wasserstein, lipschitz::gradient_penalty>;

int main() {
    model m;
    (void)m;
}
