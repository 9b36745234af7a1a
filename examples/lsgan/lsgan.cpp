// LSGAN (Mao et al. 2017, arXiv:1611.04076) on Fashion-MNIST.
//
// The DCGAN networks (topology/dcgan.hpp, see examples/dcgan) with the least-squares loss in
// place of the cross-entropy:
//   L_D = 1/2 E (D(x) - b)^2 + 1/2 E (D(G(z)) - a)^2,   L_G = 1/2 E (D(G(z)) - c)^2
// with the 0-1 coding (a, b, c) = (0, 1, 1); loss::least_squares::pearson() gives the paper's
// (-1, 1, 0). The critic outputs a raw score (no sigmoid). No Lipschitz policy. Defaults as in
// the paper: Adam lr 2e-4, beta1 0.5, batch 64, one critic step.
//
//   lsgan --minutes 5 --threads 2 --out out/lsgan
#include "../common/trainer.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/topology/dcgan.hpp"

using namespace gant;

using lsgan = gan<topology::dcgan<image<1, 28, 28>, shape<100>>,  // the DCGAN pair
                  loss::least_squares,                               // squared distance to the targets
                  lipschitz::none, growth::fixed, float, examples::backend_type>;  // CPU or GPU

int main(int argc, char** argv) {
    return examples::run<lsgan>(argc, argv, {"lsgan", "LSGAN (Mao et al. 2017): DCGAN networks, least-squares loss"});
}
