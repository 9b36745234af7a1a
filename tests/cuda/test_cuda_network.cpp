#define BOOST_TEST_MODULE gant_cuda_network
#include "support/test_framework.hpp"
// Networks built for backend::cuda (gant/cuda/layers/) against the same networks on the CPU with
// the same parameters: topology::dcgan's generators and critics for 28x28 and 64x64 images (batch
// norm in the generators and the DCGAN critic, layer norm in the WGAN-GP critic), and a small
// network with biased convolutions, through all four passes the gradient penalty needs: forward,
// backward (input and parameter gradients), the tangent, and the paired reverse pass (input,
// tangent and parameter gradients); batch norm's running statistics too.
//
// Tolerance: the convolutions run on the tensor cores with TF32 operands (docs/cuda.md: about
// 3e-4 relative L2 per pass), the dense layers in FP32, and a paired pass goes through up to ten
// convolution passes and five normalisations; each result is compared normwise (largest error
// over largest value) within 2e-2, and the measured errors are printed. A layer that computed
// the wrong thing, or a parameter gradient that was not accumulated, is off by order 1.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/core/rng.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/topology/dcgan.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"

namespace {

using namespace gant;
using gant::cuda::testing::normwise;
using gant::cuda::testing::test_seed;

// Biased convolutions (the topologies' 64x64 ones have none) and every activation.
template <class Backend>
using small_critic = network<image<1, 28, 28>, float, Backend, conv2d<1, 16, 4, 2, 1>, leaky_relu<>,
                             conv2d<16, 32, 4, 2, 1, false>, gant::tanh, flatten, dense<32 * 7 * 7, 1>>;
template <class Backend>
using small_generator = network<shape<12>, float, Backend, dense<12, 32 * 7 * 7>, reshape<shape<32, 7, 7>>, relu,
                                conv_transpose2d<32, 16, 4, 2, 1>, leaky_relu<>, conv_transpose2d<16, 1, 4, 2, 1, false>,
                                gant::tanh>;

using dcgan28 = topology::dcgan<image<1, 28, 28>, shape<100>>;
using dcgan64 = topology::dcgan<image<3, 64, 64>, shape<100>>;
template <class Topology, class Backend>
using generator_of = typename Topology::generator::template impl<typename Topology::latent_shape, float, Backend>;
template <class Topology, class Backend>
using critic_of = typename Topology::critic::template impl<typename Topology::sample_shape, float, Backend>;
template <class Topology, class Backend>
using wgan_gp_critic_of = typename Topology::template critic_for<lipschitz::gradient_penalty>::template impl<
    typename Topology::sample_shape, float, Backend>;

tensor<float> random_batch(std::size_t n, std::size_t features, rng& r, float scale) {
    tensor<float> t({n, features});
    for (auto& v : t) v = scale * float(r.normal());
    return t;
}

cuda::device_batch<float> to_device(const tensor<float>& t) {
    cuda::device_batch<float> d;
    d.assign(t.data(), t.shape(0), t.shape(1));
    return d;
}

std::vector<float> host_values(const tensor<float>& t) { return std::vector<float>(t.begin(), t.end()); }

/// Random parameters on the CPU network (weights scaled by 1/sqrt(fan-in) so activations keep
/// their size through deep layers, norm scales near 1), the same values on the device network.
template <class Cpu, class Gpu>
void same_parameters(Cpu& cpu, Gpu& gpu, rng& r) {
    std::vector<parameter<float>*> host;
    cpu.visit_parameters([&](parameter<float>& p) {
        const float scale = p.role == role::weight ? 1.f / std::sqrt(float(p.fan_in)) : 0.2f;
        const float offset = p.role == role::scale ? 1.f : 0.f;
        for (auto& v : p.value) v = offset + scale * float(r.normal());
        host.push_back(&p);
    });
    std::size_t i = 0;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) { p.upload(*host.at(i++)); });
    BOOST_TEST(i == host.size());
}

/// Every parameter gradient of the device network against the CPU's, normwise.
template <class Cpu, class Gpu>
double parameter_gradient_error(Cpu& cpu, Gpu& gpu, const std::string& what) {
    std::vector<std::vector<float>> want;
    std::vector<std::string> names;
    cpu.visit_parameters([&](parameter<float>& p) {
        want.emplace_back(p.grad.begin(), p.grad.end());
        names.push_back(p.name);
    });
    double worst = 0;
    std::size_t i = 0;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) {
        const double e = normwise(p.grad.to_host(), want.at(i));
        std::cout << "  " << what << " " << names[i] << " [" << i << "]: " << e << '\n';
        worst = std::max(worst, e);
        ++i;
    });
    return worst;
}

template <class Cpu, class Gpu>
void check_network(const char* name, std::size_t n, float input_scale) {
    rng r(test_seed(), 1);
    Cpu cpu;
    Gpu gpu;
    same_parameters(cpu, gpu, r);
    const std::size_t in = Cpu::input_size, out = Cpu::output_size;
    const tensor<float> x = random_batch(n, in, r, input_scale), xdot = random_batch(n, in, r, 1.f),
                        ybar = random_batch(n, out, r, 1.f), ydotbar = random_batch(n, out, r, 1.f);
    const auto dx_ = to_device(x), dxdot = to_device(xdot), dybar = to_device(ybar), dydotbar = to_device(ydotbar);
    const double tolerance = 2e-2;
    std::cout << name << ", batch " << n << ":\n";

    // forward and tangent
    const tensor<float>& y = cpu.forward(x);
    const tensor<float>& ydot = cpu.forward_tangent(xdot);
    const double e_forward = normwise(gpu.forward(dx_).to_host(), host_values(y));
    const double e_tangent = normwise(gpu.forward_tangent(dxdot).to_host(), host_values(ydot));
    std::cout << "  forward " << e_forward << ", tangent " << e_tangent << '\n';
    BOOST_TEST(e_forward <= tolerance);
    BOOST_TEST(e_tangent <= tolerance);

    // backward: input gradient and parameter gradients
    cpu.zero_grad();
    gpu.zero_grad();
    tensor<float> dx({n, in});
    cuda::device_batch<float> ddx;
    cpu.backward(ybar, &dx);
    gpu.backward(dybar, &ddx);
    const double e_dx = normwise(ddx.to_host(), host_values(dx));
    std::cout << "  backward: input gradient " << e_dx << '\n';
    BOOST_TEST(e_dx <= tolerance);
    BOOST_TEST(parameter_gradient_error(cpu, gpu, "backward") <= tolerance);

    // the paired reverse pass (after forward and tangent at the same point)
    cpu.zero_grad();
    gpu.zero_grad();
    cpu.forward(x);
    cpu.forward_tangent(xdot);
    gpu.forward(dx_);
    gpu.forward_tangent(dxdot);
    tensor<float> xbar({n, in}), xdotbar({n, in});
    cuda::device_batch<float> dxbar, dxdotbar;
    cpu.backward_paired(ybar, ydotbar, &xbar, &xdotbar);
    gpu.backward_paired(dybar, dydotbar, &dxbar, &dxdotbar);
    const double e_xbar = normwise(dxbar.to_host(), host_values(xbar));
    const double e_xdotbar = normwise(dxdotbar.to_host(), host_values(xdotbar));
    std::cout << "  paired: xbar " << e_xbar << ", xdotbar " << e_xdotbar << '\n';
    BOOST_TEST(e_xbar <= tolerance);
    BOOST_TEST(e_xdotbar <= tolerance);
    BOOST_TEST(parameter_gradient_error(cpu, gpu, "paired") <= tolerance);

    // batch norm's running statistics, after the two training forwards above
    std::vector<std::vector<float>> buffers;
    cpu.visit_buffers([&](buffer<float>& b) { buffers.emplace_back(b.value.begin(), b.value.end()); });
    std::size_t i = 0;
    gpu.visit_buffers([&](cuda::device_state<float>& b) {
        const double e = normwise(b.value.to_host(), buffers.at(i++));
        std::cout << "  buffer " << b.name << ": " << e << '\n';
        BOOST_TEST(e <= tolerance);  // measured from TF32 conv outputs: first-order in their error
    });
    BOOST_TEST(i == buffers.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(small_networks_match_the_cpu) {
    check_network<small_critic<backend::cpu>, small_critic<backend::cuda>>("small critic", 37, 1.f);
    check_network<small_generator<backend::cpu>, small_generator<backend::cuda>>("small generator", 37, 1.f);
}

BOOST_AUTO_TEST_CASE(dcgan_28x28_networks_match_the_cpu) {
    check_network<generator_of<dcgan28, backend::cpu>, generator_of<dcgan28, backend::cuda>>("dcgan 28x28 generator",
                                                                                             37, 1.f);
    check_network<critic_of<dcgan28, backend::cpu>, critic_of<dcgan28, backend::cuda>>("dcgan 28x28 critic", 37, 1.f);
    check_network<wgan_gp_critic_of<dcgan28, backend::cpu>, wgan_gp_critic_of<dcgan28, backend::cuda>>(
        "wgan-gp 28x28 critic (layer norm)", 37, 1.f);
}

BOOST_AUTO_TEST_CASE(dcgan_64x64_networks_match_the_cpu) {
    check_network<generator_of<dcgan64, backend::cpu>, generator_of<dcgan64, backend::cuda>>("dcgan 64x64 generator",
                                                                                             6, 1.f);
    check_network<critic_of<dcgan64, backend::cpu>, critic_of<dcgan64, backend::cuda>>("dcgan 64x64 critic", 6, 1.f);
    check_network<wgan_gp_critic_of<dcgan64, backend::cpu>, wgan_gp_critic_of<dcgan64, backend::cuda>>(
        "wgan-gp 64x64 critic (layer norm)", 6, 1.f);
}

// Parameters move between the backends unchanged, and a shape mismatch is refused.
BOOST_AUTO_TEST_CASE(parameters_round_trip) {
    parameter<float> host("weight", {3, 4}, role::weight);
    for (std::size_t i = 0; i < host.size(); ++i) host.value(i) = float(i) - 5.5f;
    cuda::device_parameter<float> device("weight", {3, 4}, role::weight);
    device.upload(host);
    parameter<float> back("weight", {3, 4}, role::weight);
    device.download(back);
    BOOST_TEST(gant::cuda::testing::differences(back.data(), host.data(), host.size()) == 0u);
    parameter<float> other("weight", {4, 3}, role::weight);
    bool refused = false;
    try {
        device.upload(other);
    } catch (const std::invalid_argument& e) {
        refused = std::string(e.what()).find("another shape") != std::string::npos;
    }
    BOOST_TEST(refused);
}

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
