// The original GAN (Goodfellow et al. 2014, arXiv:1406.2661) on Fashion-MNIST: the seed model.
//
// Both players are fully connected networks on the 784 pixels, written out layer by layer:
//   G: z(100) -> 256 -> 512 -> 1024 (ReLU) -> 784 -> tanh -> 1x28x28   (pixels in [-1, 1])
//   D: x(784) -> 1024 -> 512 -> 256 (LeakyReLU 0.2) -> 1                (a logit)
// The loss is the paper's value function with its practical fix, the non-saturating generator
// objective max log D(G(z)) (loss::minimax is the saturating original, one word away). No
// Lipschitz policy. Defaults: Adam lr 2e-4, beta1 0.5, batch 64, one critic step per generator
// step. The networks are all matrix products, so OpenBLAS gets the threads.
//
//   gan_mlp --minutes 5 --threads 2 --out out/gan_mlp
#include "../common/trainer.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/topology/topology.hpp"

using namespace gant;

using generator = sequential<dense<100, 256>, relu, dense<256, 512>, relu, dense<512, 1024>, relu,
                             dense<1024, 784>, gant::tanh, reshape<image<1, 28, 28>>>;
using critic = sequential<dense<784, 1024>, leaky_relu<>, dense<1024, 512>, leaky_relu<>, dense<512, 256>,
                          leaky_relu<>, dense<256, 1>>;
using gan_mlp = gan<topology::custom<shape<100>, image<1, 28, 28>, generator, critic>,  // latent, sample, G, D
                    loss::non_saturating,                                               // -log D(G(z)) for G
                    lipschitz::none, growth::fixed, float, examples::backend_type>;     // CPU or GPU

int main(int argc, char** argv) {
    return examples::run<gan_mlp>(argc, argv,
                                  {"gan_mlp", "the original GAN (Goodfellow et al. 2014): MLPs, non-saturating loss", true});
}
