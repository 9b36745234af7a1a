#define BOOST_TEST_MODULE gant_cuda_network
#include "support/test_framework.hpp"
// Layers and networks built for backend::cuda (gant/cuda/layers/) against the same ones on the
// CPU with the same parameters, through all four passes the gradient penalty needs: forward,
// backward (input and parameter gradients), the tangent, and the paired reverse pass (input and
// tangent adjoints, parameter gradients); batch norm's running statistics too.
//
// Two levels, because TF32 and piecewise-linear activations do not mix in a comparison: where a
// ReLU's input is within TF32's error of 0 on one side, the two sides take different
// derivatives there, an O(1) difference at that element (the first H100/H200 run of this test
// compared whole networks with an FP32 CPU and saw normwise differences of 2e-2 to 0.5 in the
// tangents and gradients for that reason, while the forward outputs agreed to 5e-3).
//   * each device layer alone, on exact data (multiples of 1/8 in [-2, 2], which TF32 and FP32
//     hold exactly, as are their products and sums): the convolutions, dense layers, reshapes
//     and piecewise-linear activations must agree to 1e-6 normwise (a wrong, missing or extra
//     term is 1/64 or more), tanh to its ulps and the norms to float rounding (1e-5);
//   * whole networks (topology::dcgan's generators and critics, the WGAN-GP critics with layer
//     norm, small networks with biased convolutions and every activation) against a CPU network
//     whose products round their operands to TF32 as the tensor cores do
//     (support/tf32_cpu_backend.hpp), so the two differ by the order of FP32 sums; compared by
//     relative L2 error (one kink that still falls between them moves an element, not the norm),
//     the parameter gradients as one vector per network. The small networks agree to 1e-4
//     (two H200 runs: 7e-6 to 9e-5), so they are held to 1e-3. The DCGAN networks are held to
//     1e-1: a sum order that differs by an ulp can still move an operand across a TF32 rounding
//     boundary (an error of 2^-11 in that term), and through training-mode batch norms at small
//     batches and the ReLUs after them that grows (the 28x28 generator's dense layer, FP32 on
//     the device and TF32 on this CPU, adds to it); the same two runs measured 1e-4 to 7e-4 for
//     every forward pass and the 28x28 critics' passes, and up to 3.2e-2 for the generators' and
//     64x64 critics' tangents and gradients, varying with the seed. The layer tests above carry
//     the precision; these check how the layers compose (a wrong buffer or a missed
//     accumulation is an error of order 1).
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/core/rng.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/layer_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/topology/dcgan.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"
#include "support/network_checks.hpp"
#include "support/tf32_cpu_backend.hpp"

namespace {

using namespace gant;
using gant::cuda::testing::cpu_tf32;
using gant::cuda::testing::normwise;
using gant::cuda::testing::relative_l2;
using gant::cuda::testing::test_seed;
using gant::cuda::testing::compare;
using gant::cuda::testing::data;
using gant::cuda::testing::draw;
using gant::cuda::testing::host_values;
using gant::cuda::testing::metric;
using gant::cuda::testing::random_batch;
using gant::cuda::testing::to_device;

/// Random parameters on the CPU network, the same values on the device network. Gaussian data:
/// weights scaled by 1/sqrt(fan-in) so activations keep their size through deep layers, norm
/// scales near 1. Exact data: multiples of 1/8 (norm scales 1 + k/8).
template <class Cpu, class Gpu>
void same_parameters(Cpu& cpu, Gpu& gpu, rng& r, data kind) {
    std::vector<parameter<float>*> host;
    cpu.visit_parameters([&](parameter<float>& p) {
        const float scale = p.role == role::weight ? 1.f / std::sqrt(float(p.fan_in)) : 0.2f;
        const float offset = p.role == role::scale ? 1.f : 0.f;
        for (auto& v : p.value) v = offset + (kind == data::exact ? draw(r, kind, 1.f) / 4.f : draw(r, kind, scale));
        host.push_back(&p);
    });
    std::size_t i = 0;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) { p.upload(*host.at(i++)); });
    BOOST_TEST(i == host.size());
}

/// The parameter gradients: one by one (layer tests) or as one vector (network tests).
template <class Cpu, class Gpu>
void compare_parameter_gradients(Cpu& cpu, Gpu& gpu, const std::string& pass, bool one_vector, metric m,
                                 double tolerance) {
    std::vector<std::vector<float>> want;
    std::vector<std::string> names;
    cpu.visit_parameters([&](parameter<float>& p) {
        want.emplace_back(p.grad.begin(), p.grad.end());
        names.push_back(p.name);
    });
    std::vector<std::vector<float>> got;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) { got.push_back(p.grad.to_host()); });
    BOOST_TEST(got.size() == want.size());
    if (got.size() != want.size() || want.empty()) return;
    if (one_vector) {
        std::vector<float> all_got, all_want;
        for (std::size_t i = 0; i < want.size(); ++i) {
            all_got.insert(all_got.end(), got[i].begin(), got[i].end());
            all_want.insert(all_want.end(), want[i].begin(), want[i].end());
        }
        compare(pass + " parameter gradients", all_got, all_want, m, tolerance);
    } else {
        for (std::size_t i = 0; i < want.size(); ++i)
            compare(pass + " " + names[i] + " gradient", got[i], want[i], m, tolerance);
    }
}

struct settings {
    data kind;
    metric m;
    double tolerance;
    bool one_vector;  // parameter gradients compared as one vector
};

template <class Cpu, class Gpu>
void check(const char* name, std::size_t n, const settings& s) {
    rng r(test_seed(), 1);
    Cpu cpu;
    Gpu gpu;
    same_parameters(cpu, gpu, r, s.kind);
    const std::size_t in = Cpu::input_size, out = Cpu::output_size;
    const tensor<float> x = random_batch(n, in, r, s.kind), xdot = random_batch(n, in, r, s.kind),
                        ybar = random_batch(n, out, r, s.kind), ydotbar = random_batch(n, out, r, s.kind);
    const auto dx_ = to_device(x), dxdot = to_device(xdot), dybar = to_device(ybar), dydotbar = to_device(ydotbar);
    std::cout << name << ", batch " << n << ":\n";

    compare("forward", gpu.forward(dx_).to_host(), host_values(cpu.forward(x)), s.m, s.tolerance);
    compare("tangent", gpu.forward_tangent(dxdot).to_host(), host_values(cpu.forward_tangent(xdot)), s.m, s.tolerance);

    cpu.zero_grad();
    gpu.zero_grad();
    tensor<float> dx({n, in});
    cuda::device_batch<float> ddx;
    cpu.backward(ybar, &dx);
    gpu.backward(dybar, &ddx);
    compare("backward input gradient", ddx.to_host(), host_values(dx), s.m, s.tolerance);
    compare_parameter_gradients(cpu, gpu, "backward", s.one_vector, s.m, s.tolerance);

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
    compare("paired xbar", dxbar.to_host(), host_values(xbar), s.m, s.tolerance);
    compare("paired xdotbar", dxdotbar.to_host(), host_values(xdotbar), s.m, s.tolerance);
    compare_parameter_gradients(cpu, gpu, "paired", s.one_vector, s.m, s.tolerance);

    // Batch norm's running statistics after the two training forwards above.
    std::vector<std::vector<float>> buffers;
    cpu.visit_buffers([&](buffer<float>& b) { buffers.emplace_back(b.value.begin(), b.value.end()); });
    std::size_t i = 0;
    gpu.visit_buffers([&](cuda::device_state<float>& b) {
        compare("buffer " + b.name, b.value.to_host(), buffers.at(i++), s.m, std::max(s.tolerance, 1e-5));
    });
    BOOST_TEST(i == buffers.size());
}

template <class Layer, class In>
void check_layer(const char* name, double tolerance = 1e-6) {
    check<network<In, float, backend::cpu, Layer>, network<In, float, backend::cuda, Layer>>(
        name, 5, {data::exact, metric::normwise, tolerance, false});
}

template <class CpuOf, class GpuOf>
void check_network(const char* name, std::size_t n, double tolerance) {
    check<CpuOf, GpuOf>(name, n, {data::gaussian, metric::relative_l2, tolerance, true});
}

// Biased convolutions (the topologies' 64x64 ones have none) and every activation.
template <class Backend>
using small_critic = network<image<2, 14, 14>, float, Backend, conv2d<2, 16, 4, 2, 1>, leaky_relu<>,
                             conv2d<16, 32, 4, 2, 1>, layer_norm<32>, gant::tanh, conv2d<32, 1, 3, 1, 0>, flatten>;
template <class Backend>
using small_generator =
    network<shape<12>, float, Backend, reshape<shape<12, 1, 1>>, conv_transpose2d<12, 32, 4, 1, 0>, batch_norm<32>,
            relu, conv_transpose2d<32, 16, 4, 2, 1>, leaky_relu<>, conv_transpose2d<16, 1, 4, 2, 1, false>, gant::tanh>;

using dcgan28 = topology::dcgan<image<1, 28, 28>, shape<100>>;
using dcgan64 = topology::dcgan<image<3, 64, 64>, shape<100>>;
template <class Topology, class Backend>
using generator_of = typename Topology::generator::template impl<typename Topology::latent_shape, float, Backend>;
template <class Topology, class Backend>
using critic_of = typename Topology::critic::template impl<typename Topology::sample_shape, float, Backend>;
template <class Topology, class Backend>
using wgan_gp_critic_of =
    typename Topology::template critic_for<lipschitz::gradient_penalty>::template impl<typename Topology::sample_shape,
                                                                                       float, Backend>;

}  // namespace

BOOST_AUTO_TEST_CASE(each_layer_matches_the_cpu_exactly) {
    check_layer<dense<7, 5>, shape<7>>("dense");
    check_layer<dense<12, 5, false>, image<3, 2, 2>>("dense without bias, on an image");
    check_layer<conv2d<3, 8, 4, 2, 1>, image<3, 9, 11>>("conv2d 3->8 4x4 s2 p1");
    check_layer<conv2d<5, 6, 3, 1, 1, false>, image<5, 6, 7>>("conv2d 5->6 3x3 s1 p1 without bias");
    check_layer<conv_transpose2d<5, 4, 4, 2, 1>, image<5, 4, 3>>("conv_transpose2d 5->4 4x4 s2 p1");
    check_layer<conv_transpose2d<6, 3, 3, 2, 1, false>, image<6, 5, 5>>("conv_transpose2d 6->3 3x3 s2 p1, no bias");
    check_layer<conv_transpose2d<7, 4, 4, 1, 0>, image<7, 1, 1>>("conv_transpose2d 7->4 from 1x1");
    check_layer<relu, shape<13>>("relu");
    check_layer<leaky_relu<>, shape<13>>("leaky_relu");
    check_layer<gant::tanh, shape<13>>("tanh", 1e-5);  // tanhf against std::tanh: ulps
    check_layer<identity, shape<13>>("identity");
    check_layer<reshape<shape<3, 5>>, shape<15>>("reshape");
    check_layer<flatten, image<2, 3, 4>>("flatten");
    check_layer<batch_norm<4>, image<4, 3, 5>>("batch_norm", 1e-5);
    check_layer<batch_norm<4, false>, image<4, 3, 5>>("batch_norm without affine", 1e-5);
    check_layer<batch_norm<6>, shape<6>>("batch_norm on vectors", 1e-5);
    check_layer<layer_norm<4>, image<4, 3, 5>>("layer_norm", 1e-5);
}

BOOST_AUTO_TEST_CASE(small_networks_match_the_cpu) {
    check_network<small_critic<cpu_tf32>, small_critic<backend::cuda>>("small critic", 37, 1e-3);
    check_network<small_generator<cpu_tf32>, small_generator<backend::cuda>>("small generator", 37, 1e-3);
}

BOOST_AUTO_TEST_CASE(dcgan_64x64_networks_match_the_cpu) {
    check_network<generator_of<dcgan64, cpu_tf32>, generator_of<dcgan64, backend::cuda>>("dcgan 64x64 generator", 6,
                                                                                         1e-1);
    check_network<critic_of<dcgan64, cpu_tf32>, critic_of<dcgan64, backend::cuda>>("dcgan 64x64 critic", 6, 1e-1);
    check_network<wgan_gp_critic_of<dcgan64, cpu_tf32>, wgan_gp_critic_of<dcgan64, backend::cuda>>(
        "wgan-gp 64x64 critic (layer norm)", 6, 1e-1);
}

BOOST_AUTO_TEST_CASE(dcgan_28x28_networks_match_the_cpu) {
    check_network<generator_of<dcgan28, cpu_tf32>, generator_of<dcgan28, backend::cuda>>("dcgan 28x28 generator", 37,
                                                                                         1e-1);
    check_network<critic_of<dcgan28, cpu_tf32>, critic_of<dcgan28, backend::cuda>>("dcgan 28x28 critic", 37, 1e-1);
    check_network<wgan_gp_critic_of<dcgan28, cpu_tf32>, wgan_gp_critic_of<dcgan28, backend::cuda>>(
        "wgan-gp 28x28 critic (layer norm)", 37, 1e-1);
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
