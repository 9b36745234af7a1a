// WGAN-div (Wu et al. 2018, arXiv:1712.01026) on Fashion-MNIST.
//
// The Wasserstein loss with the Wasserstein-divergence penalty k E ||grad D(x_hat)||^p: no
// target norm of 1 and no Lipschitz constraint, yet a valid divergence. The points x_hat lie
// between real and generated samples, as in the authors' code (the policy also offers the
// real-and-fake sampling of the common PyTorch port). The penalty's weight gradient is exact
// (second order), and topology::dcgan gives the critic layer_norm instead of batch_norm under
// a per-sample penalty.
// Defaults: k 2 (--div-k), p 6 (--div-p), Adam lr 2e-4, betas (0, 0.9), 5 critic steps per
// generator step, batch 64.
//
//   wgan_div --minutes 10 --threads 2 --out out/wgan_div
#include "../common/trainer.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"

using namespace gant;

using wgan_div = gan<topology::dcgan<image<1, 28, 28>, shape<100>>,  // critic gets layer_norm
                     loss::wasserstein,                                 // E D(x) - E D(G(z))
                     lipschitz::wasserstein_div,                        // k E ||grad D||^p
                     growth::fixed, float, examples::backend_type>;     // CPU, or the GPU (GANT_EXAMPLES_CUDA)

int main(int argc, char** argv) {
    return examples::run<wgan_div>(argc, argv, {"wgan_div", "WGAN-div (Wu et al. 2018): Wasserstein loss, divergence penalty"});
}
