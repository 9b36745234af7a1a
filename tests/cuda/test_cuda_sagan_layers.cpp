#define BOOST_TEST_MODULE gant_cuda_sagan_layers
#include "support/test_framework.hpp"
// SAGAN's layers built for backend::cuda (gant/cuda/layers/spectral_norm.hpp, attention.hpp)
// against the same layers on the CPU with the same parameters, through all four passes (forward,
// backward with input and parameter gradients, tangent, paired reverse) and the state they keep
// (spectral norm's u, v and sigma, the attention maps, batch norm's running statistics); then
// whole topology::sagan networks. Structured as test_cuda_network.cpp, whose comment explains
// the two levels (layers on exact data, networks against a CPU that rounds to TF32).
//
// Layers alone, on exact data (multiples of 1/8 in [-2, 2] for inputs and seeds, of 1/32 in
// [-1/2, 1/2] for weights):
//   * spectral_norm<dense>: W / sigma is not exact, but the dense products are FP32 on both
//     sides and sigma differs by the order of its sums (double on the device, float on the CPU),
//     a few ulps: normwise 1e-5 (a wrong term, index or factor in the pull-back through sigma is
//     an error of order 1). u, v and sigma to 1e-5.
//   * spectral_norm<conv2d>, spectral_norm<conv_transpose2d> (dimension 1), against a CPU that
//     rounds products to TF32 as the tensor cores do: both round W / sigma, but where sigma
//     differs by an ulp an element of W / sigma can round to the neighbouring TF32 value (about
//     1e-4 of the elements per ulp, an error of 2^-11 in that weight): relative L2 1e-3, which
//     that leaves room for by an order of magnitude and more, while a wrong term is of order 1.
//   * self_attention<C> and self_attention<C, true>, against an FP32 CPU: the attention products
//     are FP32 cuBLAS on the device, but the 1x1 projections run on the tensor cores, which round
//     to TF32 the operands that are not exact here (M = H P^T into v; the adjoints Fbar, Gbar, Hbar
//     into f, g, h; with spectral norm, W / sigma everywhere): one rounding of 2^-11 at most per
//     operand, about 3e-4 in relative L2 through a pass (the softmax rows and sums agree to their
//     ulps). Held to 3e-3. The identity path of Y = gamma O + X is subtracted before comparing
//     (y - x, ydot - xdot, dx - ybar, ...), so what is compared is the attention's own
//     contribution, which a wrong buffer or a missed term changes by order 1, not ybar or x.
//
// Whole networks (topology::sagan<image<1, 28, 28>, shape<100>, 16>'s generator and critic, and
// the critic under lipschitz::spectral_norm, all spectral norms and both attention blocks
// included) against the TF32-rounding CPU, by relative L2 error, the parameter gradients as two
// vectors (the attention blocks' own parameters apart, so that they are not lost among the
// others). Expected from test_cuda_network's DCGAN runs, which these networks resemble: the
// forward passes and the critics' passes about 1e-4 to 1e-3, the attention's FP32 products adding
// a few 1e-4 against this CPU's TF32 products; the generator's tangents and gradients up to a
// few 1e-2, varying with the seed (training-mode batch norm at batch 8 and ReLUs after it grow a
// sum order's ulp that moves an operand across a TF32 rounding boundary, as in the DCGAN
// generators, measured up to 3.2e-2). All held to 1e-1, as the DCGAN networks are: these check
// how the layers compose (a wrong buffer or a missed accumulation is an error of order 1), the
// layer tests above carry the precision. The attention blocks' gamma is set to 1 (it starts at 0
// in training), so their path counts in every pass.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/core/rng.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/self_attention.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/topology/sagan.hpp"
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

/// a - b element by element (the identity path of a residual layer taken out of a result).
std::vector<float> minus(std::vector<float> a, const tensor<float>& b) {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) a[i] -= b.data()[i];
    return a;
}


/// The self-attention block's scale gamma: the only one-element shift parameter in these layers.
bool is_attention_gamma(role r, std::size_t size) { return r == role::shift && size == 1; }

/// The parameters of a self-attention block: its projections' ("f.weight", ...) and gamma.
bool is_attention_parameter(const std::string& name, role r, std::size_t size) {
    for (const char* prefix : {"f.", "g.", "h.", "v."})
        if (name.rfind(prefix, 0) == 0) return true;
    return is_attention_gamma(r, size);
}

/// Random parameters on the CPU network, the same values on the device network. Gaussian data:
/// weights scaled by 1/sqrt(fan-in), norm scales near 1, shifts near 0. Exact data: weights
/// multiples of 1/32 in [-1/2, 1/2], the rest multiples of 1/32 (scales 1 + that). The attention
/// blocks' gamma is 1 (gaussian) or 3/4 (exact), so their path is not scaled away.
template <class Cpu, class Gpu>
void same_parameters(Cpu& cpu, Gpu& gpu, rng& r, data kind) {
    std::vector<parameter<float>*> host;
    cpu.visit_parameters([&](parameter<float>& p) {
        const float scale = p.role == role::weight ? 1.f / std::sqrt(float(p.fan_in)) : 0.2f;
        const float offset = p.role == role::scale ? 1.f : 0.f;
        for (auto& v : p.value) v = offset + (kind == data::exact ? draw(r, kind, 1.f) / 4.f : draw(r, kind, scale));
        if (is_attention_gamma(p.role, p.size())) p.value(0) = kind == data::exact ? 0.75f : 1.f;
        host.push_back(&p);
    });
    std::size_t i = 0;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) {
        BOOST_TEST(p.name == host.at(i)->name);
        p.upload(*host.at(i++));
    });
    BOOST_TEST(i == host.size());
}

/// The parameter gradients: one by one (layer tests) or as two vectors, the attention blocks'
/// parameters and the others (network tests).
template <class Cpu, class Gpu>
void compare_parameter_gradients(Cpu& cpu, Gpu& gpu, const std::string& pass, bool grouped, metric m,
                                 double tolerance) {
    std::vector<std::vector<float>> want;
    std::vector<std::string> names;
    std::vector<bool> attention;
    cpu.visit_parameters([&](parameter<float>& p) {
        want.emplace_back(p.grad.begin(), p.grad.end());
        names.push_back(p.name);
        attention.push_back(is_attention_parameter(p.name, p.role, p.size()));
    });
    std::vector<std::vector<float>> got;
    gpu.visit_parameters([&](cuda::device_parameter<float>& p) { got.push_back(p.grad.to_host()); });
    BOOST_TEST(got.size() == want.size());
    if (got.size() != want.size() || want.empty()) return;
    if (grouped) {
        for (bool group : {true, false}) {
            std::vector<float> all_got, all_want;
            for (std::size_t i = 0; i < want.size(); ++i)
                if (attention[i] == group) {
                    all_got.insert(all_got.end(), got[i].begin(), got[i].end());
                    all_want.insert(all_want.end(), want[i].begin(), want[i].end());
                }
            if (!all_want.empty())
                compare(pass + (group ? " attention parameter gradients" : " other parameter gradients"), all_got,
                        all_want, m, tolerance);
        }
    } else {
        for (std::size_t i = 0; i < want.size(); ++i)
            compare(pass + " " + names[i] + " gradient", got[i], want[i], m, tolerance);
    }
}

struct settings {
    data kind;
    metric m;
    double tolerance;
    bool grouped;   // parameter gradients compared as two vectors
    bool residual;  // y = x + layer's own part: compare the part (y - x, dx - ybar, ...)
};

template <class Cpu, class Gpu>
void check(const char* name, std::size_t n, const settings& s, Cpu& cpu, Gpu& gpu) {
    rng r(test_seed(), 1);
    same_parameters(cpu, gpu, r, s.kind);
    const std::size_t in = Cpu::input_size, out = Cpu::output_size;
    const tensor<float> x = random_batch(n, in, r, s.kind), xdot = random_batch(n, in, r, s.kind),
                        ybar = random_batch(n, out, r, s.kind), ydotbar = random_batch(n, out, r, s.kind);
    const auto dx_ = to_device(x), dxdot = to_device(xdot), dybar = to_device(ybar), dydotbar = to_device(ydotbar);
    std::cout << name << ", batch " << n << ":\n";
    // The layer's own part of a result whose identity path is `path` (residual layers).
    const auto part = [&](std::vector<float> v, const tensor<float>& path) {
        return s.residual ? minus(std::move(v), path) : v;
    };

    compare("forward", part(gpu.forward(dx_).to_host(), x), part(host_values(cpu.forward(x)), x), s.m, s.tolerance);
    compare("tangent", part(gpu.forward_tangent(dxdot).to_host(), xdot),
            part(host_values(cpu.forward_tangent(xdot)), xdot), s.m, s.tolerance);

    cpu.zero_grad();
    gpu.zero_grad();
    tensor<float> dx({n, in});
    cuda::device_batch<float> ddx;
    cpu.backward(ybar, &dx);
    gpu.backward(dybar, &ddx);
    compare("backward input gradient", part(ddx.to_host(), ybar), part(host_values(dx), ybar), s.m, s.tolerance);
    compare_parameter_gradients(cpu, gpu, "backward", s.grouped, s.m, s.tolerance);

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
    compare("paired xbar", part(dxbar.to_host(), ybar), part(host_values(xbar), ybar), s.m, s.tolerance);
    compare("paired xdotbar", part(dxdotbar.to_host(), ydotbar), part(host_values(xdotbar), ydotbar), s.m, s.tolerance);
    compare_parameter_gradients(cpu, gpu, "paired", s.grouped, s.m, s.tolerance);

    // The state after the two training forwards above: spectral norm's u and v (one power step
    // each), batch norm's running statistics.
    std::vector<std::vector<float>> buffers;
    std::vector<std::string> names;
    cpu.visit_buffers([&](buffer<float>& b) {
        buffers.emplace_back(b.value.begin(), b.value.end());
        names.push_back(b.name);
    });
    std::size_t i = 0;
    gpu.visit_buffers([&](cuda::device_state<float>& b) {
        BOOST_TEST(b.name == names.at(i));
        compare("buffer " + b.name, b.value.to_host(), buffers.at(i++), s.m, std::max(s.tolerance, 1e-5));
    });
    BOOST_TEST(i == buffers.size());
}

template <class Layer, class In, class CpuBackend>
void check_spectral_norm(const char* name, metric m, double tolerance) {
    network<In, float, CpuBackend, Layer> cpu;
    network<In, float, backend::cuda, Layer> gpu;
    check(name, 5, {data::exact, m, tolerance, false, false}, cpu, gpu);
    const double sigma_error =
        std::abs(double(gpu.template layer<0>().sigma()) - double(cpu.template layer<0>().sigma())) /
        std::abs(double(cpu.template layer<0>().sigma()));
    std::cout << "  sigma: relative error " << sigma_error << '\n';
    BOOST_TEST(sigma_error <= 1e-5);
    // Many more steps (power_iterate): both converge to the same top singular value.
    gpu.template layer<0>().power_iterate(30);
    cpu.template layer<0>().power_iterate(30);
    const double converged =
        std::abs(double(gpu.template layer<0>().sigma()) - double(cpu.template layer<0>().sigma())) /
        std::abs(double(cpu.template layer<0>().sigma()));
    std::cout << "  sigma after 30 more steps: relative error " << converged << '\n';
    BOOST_TEST(converged <= 1e-5);
}

/// map_tolerance: the attention maps agree to expf's ulps where the logits are exact (plain
/// projections on exact data), to the projections' TF32 rounding of W / sigma otherwise.
template <class Layer, class In>
void check_attention(const char* name, std::size_t n, double map_tolerance) {
    network<In, float, backend::cpu, Layer> cpu;
    network<In, float, backend::cuda, Layer> gpu;
    constexpr double tolerance = 3e-3;
    check(name, n, {data::exact, metric::relative_l2, tolerance, false, true}, cpu, gpu);
    // The attention maps of the last forward (check's second one).
    constexpr std::size_t square = image_dims<In>::pixels * image_dims<In>::pixels;
    std::vector<float> got(n * square), want(n * square);
    GANT_CUDA_CHECK(cudaMemcpy(got.data(), gpu.template layer<0>().attention(0), got.size() * sizeof(float),
                               cudaMemcpyDeviceToHost));
    std::copy(cpu.template layer<0>().attention(0), cpu.template layer<0>().attention(0) + want.size(), want.begin());
    compare("attention maps", got, want, metric::relative_l2, map_tolerance);
}

template <class CpuOf, class GpuOf>
void check_network(const char* name, std::size_t n, double tolerance) {
    CpuOf cpu;
    GpuOf gpu;
    check(name, n, {data::gaussian, metric::relative_l2, tolerance, true, false}, cpu, gpu);
}

using sagan28 = topology::sagan<image<1, 28, 28>, shape<100>, 16>;
template <class Backend>
using generator_of = sagan28::generator::impl<sagan28::latent_shape, float, Backend>;
template <class Backend>
using critic_of = sagan28::critic::impl<sagan28::sample_shape, float, Backend>;
template <class Backend>
using sn_critic_of = lipschitz::spectrally_normalised<sagan28::critic>::impl<sagan28::sample_shape, float, Backend>;

}  // namespace

BOOST_AUTO_TEST_CASE(spectral_norm_layers_match_the_cpu) {
    check_spectral_norm<spectral_norm<dense<7, 5>>, shape<7>, backend::cpu>("spectral_norm<dense<7, 5>>",
                                                                            metric::normwise, 1e-5);
    check_spectral_norm<spectral_norm<dense<12, 30, false>>, image<3, 2, 2>, backend::cpu>(
        "spectral_norm<dense<12, 30>> without bias, on an image", metric::normwise, 1e-5);
    check_spectral_norm<spectral_norm<conv2d<3, 8, 4, 2, 1>>, image<3, 9, 11>, cpu_tf32>(
        "spectral_norm<conv2d 3->8 4x4 s2 p1>", metric::relative_l2, 1e-3);
    check_spectral_norm<spectral_norm<conv_transpose2d<5, 4, 4, 2, 1, false>, 1>, image<5, 4, 3>, cpu_tf32>(
        "spectral_norm<conv_transpose2d 5->4 4x4 s2 p1, dim 1>", metric::relative_l2, 1e-3);
}

BOOST_AUTO_TEST_CASE(self_attention_matches_the_cpu) {
    check_attention<self_attention<16>, image<16, 5, 6>>("self_attention<16> on 5x6", 5, 1e-5);
    check_attention<self_attention<8>, image<8, 4, 4>>("self_attention<8> (one attention channel) on 4x4", 3, 1e-5);
    check_attention<self_attention<16, true>, image<16, 5, 6>>("self_attention<16, true> on 5x6", 5, 3e-3);
}

BOOST_AUTO_TEST_CASE(sagan_28x28_networks_match_the_cpu) {
    check_network<generator_of<cpu_tf32>, generator_of<backend::cuda>>("sagan 28x28 generator (W 16)", 8, 1e-1);
    check_network<critic_of<cpu_tf32>, critic_of<backend::cuda>>("sagan 28x28 critic (W 16)", 8, 1e-1);
    check_network<sn_critic_of<cpu_tf32>, sn_critic_of<backend::cuda>>(
        "sagan 28x28 critic under lipschitz::spectral_norm (W 16)", 8, 1e-1);
}

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
