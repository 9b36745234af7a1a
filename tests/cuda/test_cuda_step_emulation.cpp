#define BOOST_TEST_MODULE gant_cuda_step_emulation
#include "support/test_framework.hpp"
// The device training step's code path, checked without a GPU: gan<...> on `emulated_device`, a
// CPU backend whose step_ops are device_step_ops over host_kernels (gant/cuda/train/), against
// the same gan<...> on backend::cpu. The emulated gan runs everything the device step does
// between the network passes (latent codes and interpolation weights from the device's random
// passes, real and fake joined and split by copies, the losses, the penalty's per-sample pass and
// its network passes, the scalars read back, the non-finite counts, weight clipping) with the
// device passes' functors on host memory, and the CPU's own layers and optimisers; so any
// difference from the CPU step is a difference in that code path: a draw out of order, a wrong
// scale, a missed pass. Every family must agree bit for bit, weights, statistics and random
// streams, over several iterations.
//
// What this does not cover: the device layers, optimisers and moving average themselves
// (test_cuda_network, test_cuda_training and test_cuda_gan_step on a GPU).
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gant/cuda/train/device_step_ops.hpp"
#include "gant/cuda/train/host_kernels.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/wasserstein_div.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "gant/topology/mlp.hpp"
#include "gant/topology/sagan.hpp"
#include "support/conv_reference.hpp"  // test_seed

/// The CPU backend's kernels, with the device step's operations.
struct emulated_device : gant::backend::cpu {
    static constexpr const char* name = "emulated_device";
};

namespace gant {
template <>
class step_ops<emulated_device, float> : public cuda::device_step_ops<cuda::host_kernels> {};
}  // namespace gant

namespace {

using namespace gant;
using gant::cuda::testing::run_tests;
using gant::cuda::testing::test_seed;

template <class Model>
using emulated_t = gan<typename Model::topology_type, typename Model::loss_type, typename Model::lipschitz_type,
                       typename Model::growth_type, float, emulated_device>;

std::vector<float> values_of(auto& net) {
    std::vector<float> out;
    net.visit_parameters([&](parameter<float>& p) { out.insert(out.end(), p.value.begin(), p.value.end()); });
    net.visit_buffers([&](buffer<float>& b) { out.insert(out.end(), b.value.begin(), b.value.end()); });
    return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_same_stats(const step_stats& cpu, const step_stats& emulated) {
    BOOST_TEST(cpu.step == emulated.step);
    BOOST_TEST(same_double(cpu.critic_loss, emulated.critic_loss), cpu.critic_loss << " vs " << emulated.critic_loss);
    BOOST_TEST(same_double(cpu.generator_loss, emulated.generator_loss));
    BOOST_TEST(same_double(cpu.penalty, emulated.penalty), cpu.penalty << " vs " << emulated.penalty);
    BOOST_TEST(same_double(cpu.input_grad_norm, emulated.input_grad_norm));
    BOOST_TEST(same_double(cpu.mean_real_score, emulated.mean_real_score));
    BOOST_TEST(same_double(cpu.mean_fake_score, emulated.mean_fake_score));
    BOOST_TEST(same_double(cpu.critic_weight_norm, emulated.critic_weight_norm));
    BOOST_TEST(same_double(cpu.generator_weight_norm, emulated.generator_weight_norm));
    BOOST_TEST(std::isnan(cpu.wasserstein_estimate) == std::isnan(emulated.wasserstein_estimate));
}

/// `steps` iterations of Model on the CPU and emulated, from the same seed and data.
template <class Model>
void check_family(std::size_t steps, std::size_t batch, bool ema = false,
                  void (*adjust)(typename Model::lipschitz_type&) = nullptr) {
    using Emulated = emulated_t<Model>;
    hyper_parameters h = Model::default_hyper_parameters();
    h.batch = batch;
    h.ema = ema;
    h.ema_decay = 0.9;
    const std::uint64_t seed = test_seed();
    Model cpu(h, seed);
    Emulated emulated(h, seed);
    if (adjust) {
        adjust(cpu.lipschitz());
        adjust(emulated.lipschitz());
    }
    BOOST_TEST(same_bits(values_of(cpu.generator()), values_of(emulated.generator())));
    BOOST_TEST(same_bits(values_of(cpu.critic()), values_of(emulated.critic())));

    rng data_cpu(seed, 77), data_emulated(seed, 77);
    auto source = [](rng& r) {
        return [&r](tensor<float>& b) {
            for (auto& v : b) v = float(std::tanh(r.normal()));
        };
    };
    for (std::size_t i = 0; i < steps; ++i) {
        const step_stats a = cpu.train_step(source(data_cpu));
        const step_stats b = emulated.train_step(source(data_emulated));
        check_same_stats(a, b);
    }
    BOOST_TEST(same_bits(values_of(cpu.generator()), values_of(emulated.generator())));
    BOOST_TEST(same_bits(values_of(cpu.critic()), values_of(emulated.critic())));
    BOOST_TEST(same_bits(values_of(cpu.ema_generator()), values_of(emulated.ema_generator())));
    BOOST_TEST(cpu.critic_optimizer().steps() == emulated.critic_optimizer().steps());
    std::vector<rng::full_state> streams_cpu, streams_emulated;
    cpu.visit_random_streams([&](const char*, rng& r) { streams_cpu.push_back(r.state()); });
    emulated.visit_random_streams([&](const char*, rng& r) { streams_emulated.push_back(r.state()); });
    BOOST_TEST((streams_cpu == streams_emulated));

    // Samples for codes drawn by sample(): the same codes and the same images.
    rng sample_cpu(seed, 5), sample_emulated(seed, 5);
    const tensor<float> x = cpu.sample(3, sample_cpu);
    const tensor<float> y = emulated.sample(3, sample_emulated);
    BOOST_TEST(same_bits(std::vector<float>(x.begin(), x.end()), std::vector<float>(y.begin(), y.end())));
}

using toy = topology::mlp<shape<6>, shape<3>, 12, 2>;

}  // namespace

BOOST_AUTO_TEST_SUITE(emulated_device_step_against_the_cpu_step)

BOOST_AUTO_TEST_CASE(vanilla_gan_minimax_and_non_saturating) {
    check_family<gan<toy, loss::minimax>>(4, 8);
    check_family<gan<toy, loss::non_saturating>>(4, 8, /*ema=*/true);
}

BOOST_AUTO_TEST_CASE(lsgan) { check_family<gan<toy, loss::least_squares>>(4, 8); }

BOOST_AUTO_TEST_CASE(wgan_with_weight_clipping) {
    check_family<gan<toy, loss::wasserstein, lipschitz::weight_clip>>(3, 8);
}

BOOST_AUTO_TEST_CASE(wgan_gp) {
    check_family<gan<toy, loss::wasserstein, lipschitz::gradient_penalty>>(3, 8);
    check_family<gan<toy, loss::wasserstein, lipschitz::gradient_penalty>>(2, 8, false, [](auto& p) {
        p.p.lambda = 3.0;
        p.p.target = 0.5;
    });
}

BOOST_AUTO_TEST_CASE(wgan_div_both_samplings) {
    check_family<gan<toy, loss::wasserstein, lipschitz::wasserstein_div>>(3, 8);
    check_family<gan<toy, loss::wasserstein, lipschitz::wasserstein_div>>(
        3, 8, false, [](auto& p) { p.p.sampling = lipschitz::wasserstein_div::points::real_and_fake; });
}

BOOST_AUTO_TEST_CASE(hinge_with_spectral_norm) { check_family<gan<toy, loss::hinge, lipschitz::spectral_norm>>(3, 8); }

// Batch norm in both networks: real and fake pass the critic separately (the coupled path).
BOOST_AUTO_TEST_CASE(dcgan_28x28) {
    check_family<gan<topology::dcgan<image<1, 28, 28>, shape<16>>, loss::non_saturating>>(2, 4, true);
}

// Layer norm critic and a penalty through convolutions.
BOOST_AUTO_TEST_CASE(dcgan_28x28_wgan_gp) {
    check_family<gan<topology::dcgan<image<1, 28, 28>, shape<16>>, loss::wasserstein, lipschitz::gradient_penalty>>(1,
                                                                                                                    4);
}

BOOST_AUTO_TEST_CASE(sagan_28x28) {
    check_family<gan<topology::sagan<image<1, 28, 28>, shape<16>, 8>, loss::hinge, lipschitz::spectral_norm>>(2, 4);
}

BOOST_AUTO_TEST_CASE(nan_stops_with_the_same_sentence) {
    using model = gan<toy, loss::non_saturating>;
    hyper_parameters h = model::default_hyper_parameters();
    h.batch = 4;
    auto message = [&](auto& m) {
        try {
            m.train_step([](tensor<float>& b) {
                for (auto& v : b) v = std::numeric_limits<float>::quiet_NaN();
            });
        } catch (const training_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    model cpu(h, 1);
    emulated_t<model> emulated(h, 1);
    const std::string a = message(cpu), b = message(emulated);
    BOOST_TEST(a == b);
    BOOST_TEST(a.find("step 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    std::cout << "gant CUDA step emulation tests, seed " << gant::cuda::testing::test_seed() << std::endl;
    return gant::cuda::testing::run_tests(argc, argv);
}
