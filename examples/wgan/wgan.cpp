// WGAN (Arjovsky, Chintala & Bottou 2017, arXiv:1701.07875) on Fashion-MNIST.
//
// The DCGAN networks (topology/dcgan.hpp, batch norm kept in the critic, as in the paper) with
// the Wasserstein loss: the critic maximises E D(x) - E D(G(z)), an estimate of the
// Wasserstein-1 distance (the W column of the progress lines and metrics.csv), and is kept
// K-Lipschitz by clipping every critic weight to [-c, c] after each critic update.
// Defaults (Algorithm 1): c = 0.01 (--clip), RMSProp lr 5e-5, 5 critic steps per generator
// step, batch 64.
//
//   wgan --minutes 10 --threads 2 --out out/wgan
#include "../common/trainer.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"

using namespace gant;

using wgan = gan<topology::dcgan<image<1, 28, 28>, shape<100>>,  // the DCGAN pair
                 loss::wasserstein,                                 // E D(x) - E D(G(z))
                 lipschitz::weight_clip,                            // critic weights in [-0.01, 0.01]
                 growth::fixed, float, examples::backend_type>;     // CPU, or the GPU (GANT_EXAMPLES_CUDA)

int main(int argc, char** argv) {
    return examples::run<wgan>(argc, argv, {"wgan", "WGAN (Arjovsky et al. 2017): Wasserstein loss, weight clipping"});
}
