// Must compile: the control case of the CUDA backend's refusals. gan<..., backend::cuda> for the
// DCGAN, WGAN-GP and SAGAN families, with the same flags as the cases that must fail.
#include "gant/backend/cuda.hpp"
#include "gant/cuda/train/gan_state.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "gant/topology/sagan.hpp"

using namespace gant;
using images = topology::dcgan<image<1, 28, 28>, shape<16>>;
using dcgan = gan<images, loss::non_saturating, lipschitz::none, growth::fixed, float, backend::cuda>;
using wgan_gp = gan<images, loss::wasserstein, lipschitz::gradient_penalty, growth::fixed, float, backend::cuda>;
using sagan = gan<topology::sagan<image<1, 28, 28>, shape<16>, 8>, loss::hinge, lipschitz::spectral_norm,
                  growth::fixed, float, backend::cuda>;

int main() {
    auto step = [](auto& m) {
        m.train_step([](cuda::device_batch<float>&) {});
        save_checkpoint(m, "unused.gant");
    };
    auto never = [&] {  // instantiated, not run
        dcgan a;
        wgan_gp b;
        sagan c;
        step(a);
        step(b);
        step(c);
    };
    (void)never;
}
