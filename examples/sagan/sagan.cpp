// SAGAN (Zhang, Goodfellow, Metaxas & Odena 2018, arXiv:1805.08318) on Fashion-MNIST.
//
// Self-attention GAN: a self-attention block (1x1 query/key/value projections, a softmax over
// all positions, a learnable gamma that starts at 0, a residual connection) in both networks at
// 14x14, so a pixel's features can draw on every other position of the image instead of only a
// 4x4 neighbourhood; spectral normalisation on every weight layer of both networks; the hinge
// loss; two time-scale learning rates. topology/sagan.hpp's 28x28 pair (docs/topologies.md):
//   G: z(100) -> SN dense 128*7*7 -> BN -> ReLU -> SN convT 64 (14x14) -> BN -> ReLU -> attention
//        -> SN convT 1 (28x28) -> tanh
//   D: conv 64 (14x14) -> LReLU(0.1) -> attention -> conv 128 (7x7) -> LReLU(0.1) -> dense 1
// The critic's spectral norm is the Lipschitz policy's (it wraps every weight layer of the
// critic, the attention's projections included); the generator's is part of the topology.
// Defaults (the paper's, all set by lipschitz::spectral_norm; hinge has none of its own): Adam
// lr_D 4e-4, lr_G 1e-4 (TTUR), betas (0, 0.9), one critic step per generator step, batch 64.
//
//   sagan --minutes 10 --threads 2 --out out/sagan
#include "../common/trainer.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/topology/sagan.hpp"

using namespace gant;

using sagan = gan<topology::sagan<image<1, 28, 28>, shape<100>>,  // attention at 14x14, SN generator
                  loss::hinge,                                       // relu(1 - D(x)) + relu(1 + D(G(z)))
                  lipschitz::spectral_norm,                          // W / sigma(W) in every critic layer
                  growth::fixed, float, examples::backend_type>;     // CPU, or the GPU (GANT_EXAMPLES_CUDA)

int main(int argc, char** argv) {
    return examples::run<sagan>(argc, argv, {"sagan", "SAGAN (Zhang et al. 2018): self-attention, spectral norm, hinge loss"});
}
