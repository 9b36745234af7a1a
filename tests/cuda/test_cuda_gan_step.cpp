#define BOOST_TEST_MODULE gant_cuda_gan_step
#include "support/test_framework.hpp"
// gan<..., float, backend::cuda>: whole training iterations on the device against the CPU.
//
//   * one DCGAN, one WGAN-GP and one SAGAN iteration from the same seed (the initialisers draw on the host, so both
//   start from
//     the same weights, bit for bit) on the same real batch, against the same gan on a CPU
//     backend whose products round their operands to TF32 as the tensor cores do
//     (support/tf32_cpu_backend.hpp): the critic's and the generator's parameter gradients by
//     relative L2 (one vector per network), the losses, the penalty and the scores. test_cuda_network
//     measured 1e-4 to 3.2e-2 for the DCGAN networks' gradients alone (a sum order that differs
//     by an ulp moves a TF32 rounding, and batch norm at small batches and the ReLUs after it
//     grow that); the same bound, 1e-1, holds the whole step's;
//   * 200 iterations on the device and on the plain FP32 CPU backend from the same seed and data:
//     the trajectories separate (TF32 against FP32 in a chaotic game), so what is compared is the
//     level the losses settle to, the means over the last 50 iterations, within 25% (+0.05): the
//     critic loss and the generator loss (for a Wasserstein critic, whose level nothing fixes,
//     the estimate E D(real) - E D(fake) instead of the generator loss);
//   * checkpoints across backends: the state a device gan writes loads into a CPU gan value for
//     value, and the other way round, and a device run resumed from its own checkpoint
//     continues as the uninterrupted one;
//   * no device allocation in steady state;
//   * a NaN in the data stops the device step with the CPU's sentence.
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/core/threads.hpp"
#include "gant/cuda/train/gan_state.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "gant/topology/sagan.hpp"
#include "gant/train/gan_state.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"
#include "support/tf32_cpu_backend.hpp"

namespace {

using namespace gant;
using gant::cuda::testing::cpu_tf32;
using gant::cuda::testing::relative_l2;
using gant::cuda::testing::test_seed;

template <class Model, class Backend>
using on_backend = gan<typename Model::topology_type, typename Model::loss_type, typename Model::lipschitz_type,
                       typename Model::growth_type, float, Backend>;

/// A pool of images in [-1, 1] (smooth blobs, not noise, so the critic has something to learn),
/// served in order to either backend.
class image_pool {
public:
    image_pool(std::size_t count, std::size_t features, std::uint64_t seed)
        : images_(tensor<float>::from_shape({count, features})) {
        rng r(seed, 41);
        for (std::size_t i = 0; i < count; ++i) {
            const double a = r.uniform(0.5, 2.0), b = r.uniform(0.0, 6.28);
            for (std::size_t j = 0; j < features; ++j)
                images_(i, j) = float(std::tanh(std::sin(a * double(j % 28) / 4.0 + b) + 0.3 * r.normal()));
        }
    }
    void next(tensor<float>& out) {
        for (std::size_t i = 0; i < out.shape(0); ++i, position_ = (position_ + 1) % images_.shape(0))
            std::copy(&images_(position_, 0), &images_(position_, 0) + out.shape(1), &out(i, 0));
    }
    void next(cuda::device_batch<float>& out) {
        staging_ = tensor<float>::from_shape({out.shape(0), out.shape(1)});
        next(staging_);
        out.assign(staging_.data(), staging_.shape(0), staging_.shape(1));
    }

private:
    tensor<float> images_, staging_;
    std::size_t position_ = 0;
};

template <class Net>
std::vector<float> host_gradients(Net& net) {
    std::vector<float> out;
    net.visit_parameters([&](parameter<float>& p) { out.insert(out.end(), p.grad.begin(), p.grad.end()); });
    return out;
}
template <class Net>
std::vector<float> host_values(Net& net) {
    std::vector<float> out;
    net.visit_parameters([&](parameter<float>& p) { out.insert(out.end(), p.value.begin(), p.value.end()); });
    net.visit_buffers([&](buffer<float>& b) { out.insert(out.end(), b.value.begin(), b.value.end()); });
    return out;
}
/// Every moment tensor of the optimiser rule in use, in order, with the step count in front.
template <class Slot, class Net>
std::vector<double> optimizer_state(Slot& slot, Net& net) {
    std::vector<double> out;
    slot.visit_state(net, [&](const std::string&, auto& v) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, std::uint64_t>)
            out.push_back(double(v));
        else
            out.insert(out.end(), v.begin(), v.end());
    });
    return out;
}

template <class Net>
std::vector<float> device_gradients(Net& net) {
    std::vector<float> out;
    net.visit_parameters([&](cuda::device_parameter<float>& p) {
        const std::vector<float> g = p.grad.to_host();
        out.insert(out.end(), g.begin(), g.end());
    });
    return out;
}
template <class Net>
std::vector<float> device_values(Net& net) {
    std::vector<float> out;
    net.visit_parameters([&](cuda::device_parameter<float>& p) {
        const std::vector<float> v = p.value.to_host();
        out.insert(out.end(), v.begin(), v.end());
    });
    net.visit_buffers([&](cuda::device_state<float>& b) {
        const std::vector<float> v = b.value.to_host();
        out.insert(out.end(), v.begin(), v.end());
    });
    return out;
}

void check_close(const std::string& what, double got, double want, double tolerance) {
    const double gap = std::abs(got - want) / std::max(1.0, std::abs(want));
    std::cout << "  " << what << ": device " << got << ", cpu " << want << " (gap " << gap << ")\n";
    BOOST_TEST(gap <= tolerance, what << ": " << got << " vs " << want);
}

/// One iteration (n_critic 1) of Model on the device and on the TF32 CPU backend.
template <class Model>
void one_iteration(const std::string& name, std::size_t batch) {
    using device_model = on_backend<Model, backend::cuda>;
    using host_model = on_backend<Model, cpu_tf32>;
    hyper_parameters h = device_model::default_hyper_parameters();
    h.batch = batch;
    h.n_critic = 1;
    const std::uint64_t seed = test_seed();
    device_model d(h, seed);
    host_model c(h, seed);
    BOOST_TEST((device_values(d.generator()) == host_values(c.generator())));
    BOOST_TEST((device_values(d.critic()) == host_values(c.critic())));

    image_pool data_d(64, Model::sample_size, seed), data_c(64, Model::sample_size, seed);
    const step_stats sd = d.train_step([&](cuda::device_batch<float>& b) { data_d.next(b); });
    const step_stats sc = c.train_step([&](tensor<float>& b) { data_c.next(b); });
    std::cout << name << " (batch " << batch << "):\n";
    const double critic_l2 = relative_l2(device_gradients(d.critic()), host_gradients(c.critic()));
    const double generator_l2 = relative_l2(device_gradients(d.generator()), host_gradients(c.generator()));
    std::cout << "  critic gradient relative L2 " << critic_l2 << ", generator " << generator_l2 << '\n';
    BOOST_TEST(critic_l2 <= 1e-1);
    BOOST_TEST(generator_l2 <= 1e-1);
    check_close("critic loss", sd.critic_loss, sc.critic_loss, 1e-2);
    check_close("generator loss", sd.generator_loss, sc.generator_loss, 1e-2);
    if (sc.penalty != 0.0) {
        check_close("penalty", sd.penalty, sc.penalty, 1e-2);
        check_close("mean input-gradient norm", sd.input_grad_norm, sc.input_grad_norm, 1e-2);
    }
    check_close("mean real score", sd.mean_real_score, sc.mean_real_score, 1e-2);
    check_close("mean fake score", sd.mean_fake_score, sc.mean_fake_score, 1e-2);
    // The weight norms come from the device's own reduction over the updated weights. One Adam
    // step moves each weight by about its learning rate whatever the gradient's size, so a
    // gradient whose sign TF32 flips moves a weight 4e-4 the other way: far below 1e-3 of norms
    // of weights drawn at N(0, 0.02) in their thousands.
    check_close("critic weight norm", sd.critic_weight_norm, sc.critic_weight_norm, 1e-3);
    check_close("generator weight norm", sd.generator_weight_norm, sc.generator_weight_norm, 1e-3);
}

/// `steps` iterations on the device and on the FP32 CPU backend; the settled losses.
template <class Model>
void long_run(const std::string& name, std::size_t batch, std::size_t steps) {
    using device_model = on_backend<Model, backend::cuda>;
    using host_model = on_backend<Model, backend::cpu>;
    hyper_parameters h = device_model::default_hyper_parameters();
    h.batch = batch;
    const std::uint64_t seed = test_seed();
    device_model d(h, seed);
    host_model c(h, seed);
    image_pool data_d(512, Model::sample_size, seed), data_c(512, Model::sample_size, seed);
    const std::size_t tail = std::min<std::size_t>(50, steps);
    // The second compared quantity: the generator's loss, except for a Wasserstein critic, whose
    // level nothing fixes (adding a constant to it changes neither player's objective's gradient,
    // and without drift the two runs' levels wander apart); there the estimate E D(real) -
    // E D(fake), which does not depend on that level.
    constexpr bool wasserstein = Model::loss_type::is_wasserstein;
    const char* second = wasserstein ? "Wasserstein estimate" : "generator loss";
    double critic_d = 0, critic_c = 0, second_d = 0, second_c = 0;
    for (std::size_t i = 0; i < steps; ++i) {
        const step_stats sd = d.train_step([&](cuda::device_batch<float>& b) { data_d.next(b); });
        const step_stats sc = c.train_step([&](tensor<float>& b) { data_c.next(b); });
        if (i + tail >= steps) {
            critic_d += sd.critic_loss / double(tail);
            critic_c += sc.critic_loss / double(tail);
            second_d += (wasserstein ? sd.wasserstein_estimate : sd.generator_loss) / double(tail);
            second_c += (wasserstein ? sc.wasserstein_estimate : sc.generator_loss) / double(tail);
        }
    }
    std::cout << name << ", " << steps << " iterations at batch " << batch << ", means of the last " << tail << ":\n";
    for (const auto& [what, got, want] :
         {std::tuple{"critic loss", critic_d, critic_c}, std::tuple{second, second_d, second_c}}) {
        const double gap = std::abs(got - want);
        std::cout << "  " << what << ": device " << got << ", cpu " << want << '\n';
        BOOST_TEST(gap <= 0.25 * std::abs(want) + 0.05, name << " " << what << ": " << got << " vs " << want);
    }
}

using dcgan28 = gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::non_saturating>;
using wgan_gp28 = gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::wasserstein, lipschitz::gradient_penalty>;
using sagan28 = gan<topology::sagan<image<1, 28, 28>, shape<100>>, loss::hinge, lipschitz::spectral_norm>;
using dcgan64 = gan<topology::dcgan<image<3, 64, 64>, shape<100>>, loss::non_saturating>;
using wgan_gp64 = gan<topology::dcgan<image<3, 64, 64>, shape<100>>, loss::wasserstein, lipschitz::gradient_penalty>;

/// GANT_LONG_RUN_STEPS (at least 1) shortens the long runs, e.g. under a sanitizer.
std::size_t long_steps() {
    const char* s = std::getenv("GANT_LONG_RUN_STEPS");
    return s ? std::max<std::size_t>(1, std::size_t(std::strtoull(s, nullptr, 10))) : 200;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(one_iteration_against_the_cpu)

BOOST_AUTO_TEST_CASE(dcgan) {
    one_iteration<dcgan28>("DCGAN 28x28", 16);
    one_iteration<dcgan64>("DCGAN 64x64", 8);
}

BOOST_AUTO_TEST_CASE(wgan_gp) {
    one_iteration<wgan_gp28>("WGAN-GP 28x28", 16);
    one_iteration<wgan_gp64>("WGAN-GP 64x64", 8);
}

BOOST_AUTO_TEST_CASE(sagan) { one_iteration<sagan28>("SAGAN 28x28 (hinge, spectral norm)", 16); }

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(long_runs_settle_where_the_cpu_does)

BOOST_AUTO_TEST_CASE(dcgan_200_iterations) { long_run<dcgan28>("DCGAN 28x28", 32, long_steps()); }
BOOST_AUTO_TEST_CASE(wgan_gp_200_iterations) { long_run<wgan_gp28>("WGAN-GP 28x28", 16, long_steps()); }
BOOST_AUTO_TEST_CASE(sagan_200_iterations) { long_run<sagan28>("SAGAN 28x28", 16, long_steps()); }

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoints_across_backends)

BOOST_AUTO_TEST_CASE(device_to_cpu_and_back) {
    using device_model = on_backend<wgan_gp28, backend::cuda>;
    using host_model = on_backend<wgan_gp28, backend::cpu>;
    hyper_parameters h = device_model::default_hyper_parameters();
    h.batch = 8;
    h.ema = true;
    const std::uint64_t seed = test_seed();
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("gant_gan_step_" + std::to_string(seed));
    std::filesystem::create_directories(dir);

    device_model d(h, seed);
    image_pool data(64, device_model::sample_size, seed);
    for (int i = 0; i < 2; ++i) d.train_step([&](cuda::device_batch<float>& b) { data.next(b); });
    save_checkpoint(d, dir / "device.gant");

    host_model c(h, seed + 1);  // other weights, overwritten by the load
    load_checkpoint(c, dir / "device.gant");
    BOOST_TEST(c.step() == d.step());
    BOOST_TEST((host_values(c.generator()) == device_values(d.generator())));
    BOOST_TEST((host_values(c.critic()) == device_values(d.critic())));
    BOOST_TEST((host_values(c.ema_generator()) == device_values(d.ema_generator())));
    BOOST_TEST(c.critic_optimizer().steps() == d.critic_optimizer().steps());

    // The CPU trains on and saves; the device resumes from the CPU's file.
    c.train_step([&](tensor<float>& b) { data.next(b); });
    save_checkpoint(c, dir / "cpu.gant");
    device_model resumed(h, seed + 2);
    load_checkpoint(resumed, dir / "cpu.gant");
    BOOST_TEST(resumed.step() == c.step());
    BOOST_TEST((device_values(resumed.generator()) == host_values(c.generator())));
    BOOST_TEST((device_values(resumed.critic()) == host_values(c.critic())));
    BOOST_TEST((device_values(resumed.ema_generator()) == host_values(c.ema_generator())));
    BOOST_TEST(resumed.critic_optimizer().steps() == c.critic_optimizer().steps());
    BOOST_TEST(resumed.generator_optimizer().steps() == c.generator_optimizer().steps());
    // The uploaded optimiser state, read back through a third, host gan: the CPU's moments.
    host_model round_trip(h, seed + 5);
    cuda::download_state(resumed, round_trip);
    BOOST_TEST((optimizer_state(round_trip.critic_optimizer(), round_trip.critic()) ==
                optimizer_state(c.critic_optimizer(), c.critic())));
    BOOST_TEST((optimizer_state(round_trip.generator_optimizer(), round_trip.generator()) ==
                optimizer_state(c.generator_optimizer(), c.generator())));

    // A device run resumed from its own checkpoint continues as the uninterrupted run.
    image_pool a(64, device_model::sample_size, seed + 3), b(64, device_model::sample_size, seed + 3);
    device_model again(h, seed + 4);
    load_checkpoint(again, dir / "device.gant");
    for (int i = 0; i < 2; ++i) {
        const step_stats s1 = d.train_step([&](cuda::device_batch<float>& x) { a.next(x); });
        const step_stats s2 = again.train_step([&](cuda::device_batch<float>& x) { b.next(x); });
        check_close("resumed critic loss", s2.critic_loss, s1.critic_loss, 1e-5);
    }
    BOOST_TEST(relative_l2(device_values(again.generator()), device_values(d.generator())) <= 1e-5);

    // A file of another configuration is refused and leaves the device gan as it was.
    on_backend<dcgan28, backend::cpu> other(on_backend<dcgan28, backend::cpu>::default_hyper_parameters(), seed);
    save_checkpoint(other, dir / "other.gant");
    const std::vector<float> before = device_values(again.critic());
    BOOST_CHECK_THROW(load_checkpoint(again, dir / "other.gant"), checkpoint_error);
    BOOST_TEST((device_values(again.critic()) == before));
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

// After the first iterations every buffer of the step exists: later ones take no new device
// memory (the caching allocator counts its cudaMalloc calls) and stay on the device.
BOOST_AUTO_TEST_CASE(no_device_allocation_in_steady_state) {
    using device_model = on_backend<wgan_gp28, backend::cuda>;
    hyper_parameters h = device_model::default_hyper_parameters();
    h.batch = 16;
    h.ema = true;
    device_model d(h, test_seed());
    image_pool data(64, device_model::sample_size, test_seed());
    auto source = [&](cuda::device_batch<float>& b) { data.next(b); };
    if (!cuda::default_allocator().caching()) {  // GANT_CUDA_UNCACHED_ALLOCATOR: every block is new
        std::cout << "uncached allocator: steady-state allocation check not applicable\n";
        return;
    }
    for (int i = 0; i < 2; ++i) d.train_step(source);
    const auto before = cuda::default_allocator().stats().device_allocations;
    for (int i = 0; i < 3; ++i) d.train_step(source);
    const auto after = cuda::default_allocator().stats().device_allocations;
    std::cout << "device allocations in 3 steady-state WGAN-GP iterations: " << after - before << '\n';
    BOOST_TEST(after == before);
}

BOOST_AUTO_TEST_CASE(nan_in_the_data_stops_with_the_cpu_sentence) {
    using device_model = on_backend<dcgan28, backend::cuda>;
    using host_model = on_backend<dcgan28, backend::cpu>;
    hyper_parameters h = device_model::default_hyper_parameters();
    h.batch = 4;
    device_model d(h, 1);
    host_model c(h, 1);
    std::string on_device = "no error", on_cpu = "no error";
    try {
        d.train_step([&](cuda::device_batch<float>& b) {
            std::vector<float> nan(b.size(), std::numeric_limits<float>::quiet_NaN());
            b.assign(nan.data(), b.shape(0), b.shape(1));
        });
    } catch (const training_error& e) {
        on_device = e.what();
    }
    try {
        c.train_step([&](tensor<float>& b) { std::fill(b.begin(), b.end(), std::numeric_limits<float>::quiet_NaN()); });
    } catch (const training_error& e) {
        on_cpu = e.what();
    }
    std::cout << "NaN data: " << on_device << '\n';
    BOOST_TEST(on_device == on_cpu);
    BOOST_TEST(on_device.find("step 1") != std::string::npos);
}

int main(int argc, char** argv) {
    // The CPU side of the long runs is most of this program's time: use the GPU machine's cores.
    gant::set_num_threads(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8));
    return gant::cuda::testing::gpu_test_main(argc, argv);
}
