// DCGAN (Radford, Metz & Chintala 2015, arXiv:1511.06434) on Fashion-MNIST.
//
// The architecture guidelines are the topology: strided convolutions in the critic and
// transposed convolutions in the generator instead of pooling, batch norm in both networks
// (not at the generator's output nor the critic's input), ReLU in the generator with a tanh
// output, LeakyReLU(0.2) in the critic, weights from N(0, 0.02). The 28x28 variant is the
// InfoGAN-style pair of topology/dcgan.hpp:
//   G: z(100) -> dense 128*7*7 -> BN -> ReLU -> convT 64 (14x14) -> BN -> ReLU -> convT 1 (28x28) -> tanh
//   D: conv 64 (14x14) -> LReLU -> conv 128 (7x7) -> BN -> LReLU -> dense 1
// The loss is the original GAN's with the non-saturating generator objective; no Lipschitz
// policy. Defaults (from the policies): Adam lr 2e-4, beta1 0.5, batch 64, one critic step.
//
//   dcgan --minutes 5 --threads 2 --seed 0 --out out/dcgan   # the README's main job
//   dcgan --help
#include "../common/trainer.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/topology/dcgan.hpp"

using namespace gant;

using dcgan = gan<topology::dcgan<image<1, 28, 28>, shape<100>>,  // generator + critic pair
                  loss::non_saturating,                              // -log D(G(z)) for the generator
                  lipschitz::none,                                   // batch norm and Adam keep it stable
                  growth::fixed, float, examples::backend_type>;     // CPU, or the GPU (GANT_EXAMPLES_CUDA)

int main(int argc, char** argv) {
    return examples::run<dcgan>(argc, argv, {"dcgan", "DCGAN (Radford et al. 2015): convolutional GAN, non-saturating loss"});
}
