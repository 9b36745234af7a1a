// PGGAN (Karras et al. 2017, arXiv:1710.10196) on Fashion-MNIST, grown from 4x4 to 32x32.
//
// The networks start at 4x4 and gain a block per resolution; each new block fades in
// (alpha 0 -> 1 over --phase-images real images) and then stabilises for as many. Real images
// are padded from 28x28 to 32x32 with background and faded exactly like the generator's output;
// samples.idx and grid.png are cropped back to 28x28. Everything else is the paper's:
// pixel norm in the generator, minibatch standard deviation in the critic, equalized learning
// rate, nearest upsampling and average-pool downsampling, the WGAN-GP loss (lambda 10) with the
// drift term 0.001 E D(x)^2, one critic step per generator step, Adam lr 1e-3, betas (0, 0.99),
// optimiser state reset at each new resolution, and samples from an EMA of the generator.
// Widths are the paper's shape scaled to a CPU: 128, 64, 32, 16 feature maps at 4, 8, 16, 32.
//
//   pggan --minutes 10 --threads 2 --out out/pggan
#include "../common/trainer.hpp"
#include "gant/growth/progressive.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/progressive.hpp"

using namespace gant;

// The Wasserstein loss with PGGAN's drift term (--drift).
struct pggan_loss : loss::wasserstein {
    pggan_loss() { p.drift = 0.001; }
};

// PGGAN's schedule, with phases sized for a few minutes of CPU (--phase-images), and two
// settings scaled to such a run: PGGAN's minibatch of 16 (its configs; more steps per image than
// the trainer's usual 64), and an EMA half-life of ~1,100 images (decay 0.99 at batch 16)
// instead of the paper's 10,000, which is most of a 10-minute CPU run.
struct cpu_schedule : growth::progressive {
    cpu_schedule() { p.stabilise_images = p.fade_images = 4000; }
    static void defaults(hyper_parameters& h) {
        growth::progressive::defaults(h);
        h.batch = 16;
        h.ema_decay = 0.99;
    }
};

using pggan = gan<topology::progressive<image<1, 32, 32>, shape<128>, topology::widths<128, 64, 32, 16>>,
                  pggan_loss,                     // E D(G(z)) - E D(x) + 0.001 E D(x)^2
                  lipschitz::gradient_penalty,    // lambda (||grad D(x_hat)|| - 1)^2
                  cpu_schedule>;                  // 4x4 -> 8x8 -> 16x16 -> 32x32

int main(int argc, char** argv) {
    return examples::run<pggan, image<1, 28, 28>>(
        argc, argv, {"pggan", "PGGAN (Karras et al. 2017): progressive growing, WGAN-GP with drift, 28x28 padded to 32x32"});
}
