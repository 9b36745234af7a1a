#define BOOST_TEST_MODULE gant_cuda_conv
#include "support/test_framework.hpp"
// gant's CUDA convolution kernels on a GPU against the double-precision CPU reference
// (support/conv_reference.hpp): conv2d forward, backward-data and backward-filter, and
// conv_transpose2d's three passes through them, on odd sizes and on the DCGAN layers, with
// every tile configuration, split and epilogue; plus the bias-gradient reduction, the caching
// allocator, device buffers and error reporting.
//
// Precision (docs/cuda.md): every GEMM kernel rounds its operands to TF32 (10-bit mantissa,
// nearest) and accumulates in FP32.
//   * exact data (multiples of 1/8): TF32 and FP32 hold every operand, product and partial sum
//     exactly, so the output must equal the reference up to the epilogue's FP32 rounding
//     (2^-20 relative): any wrong, missing or extra term shows as an error >= 1/64;
//   * uniform data in [-1, 1]: |out - ref| <= 2^-9 * sum |terms| per element (twice the TF32
//     rounding bound), and the relative L2 error pooled over each pass's runs is reported (expected about
//     3e-4) and checked below 1e-3.
// Every output is poisoned with NaN (0xFF bytes) before each run, so an element no thread
// writes fails the comparison.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77, which
// CTest reports as skipped. GANT_CUDA_TEST_QUICK=1 keeps to the odd sizes (for
// compute-sanitizer, which runs the kernels far slower); GANT_TEST_SEED replays a seed.
#include <cmath>
#include <cstdlib>
#include <tuple>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/cuda/allocator.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/conv.hpp"
#include "gant/cuda/device.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/stream.hpp"
#include "support/dcgan_shapes.hpp"
#include "support/gpu_test.hpp"
#include "support/pass_cases.hpp"

namespace {

using namespace gant::cuda;
using namespace gant::cuda::testing;

/// GANT_CUDA_TEST_QUICK: 0 (unset) every shape; 1 the odd sizes only; 2 the first two of them.
int quick_level() {
    const char* q = std::getenv("GANT_CUDA_TEST_QUICK");
    return q && *q ? std::atoi(q) : 0;
}
bool quick() { return quick_level() > 0; }

/// Runs one pass on the GPU: uploads the inputs, poisons the output with NaN (or loads its prior
/// content when the epilogue accumulates), launches, and fetches the result.
std::vector<float> run_pass(const pass_data& d, const kernel_choice& choice) {
    device_buffer<float> a = upload(d.a), b = upload(d.b);
    device_buffer<float> bias = upload(d.bias);
    device_buffer<float> chain_output = upload(d.chain.output), curvature_a = upload(d.chain.curvature_a),
                         curvature_b = upload(d.chain.curvature_b);
    device_buffer<float> out(d.output_size, test_stream());
    if (d.old.empty())
        out.fill_bytes(0xFF);
    else
        out.copy_from_host(d.old);
    const conv_epilogue e = d.epilogue(bias.data(), chain_output.data(), curvature_a.data(), curvature_b.data());
    switch (d.pass) {
        case conv_pass::forward:
            conv2d_forward(d.problem, a.data(), b.data(), out.data(), e, test_stream(), choice);
            break;
        case conv_pass::backward_data:
            conv2d_backward_data(d.problem, a.data(), b.data(), out.data(), e, test_stream(), choice);
            break;
        case conv_pass::backward_filter:
            conv2d_backward_filter(d.problem, a.data(), b.data(), out.data(), d.alpha, d.beta, test_stream(), choice);
            break;
    }
    std::vector<float> host = out.to_host();  // synchronises the stream
    GANT_CUDA_CHECK(cudaGetLastError());
    return host;
}

bool check_pass(const pass_data& d, const kernel_choice& choice) {
    const std::vector<float> out = run_pass(d, choice);
    const comparison c = compare(out, d.expected, d.magnitude, d.kind, d.alpha);
    if (!c.ok) {
        const kernel_plan plan = plan_conv2d(d.problem, d.pass, choice);
        BOOST_ERROR(d.describe() << ", " << plan.describe() << ": " << c.detail << " (seed " << test_seed() << ")");
    }
    return c.ok;
}

std::vector<named_conv> test_convs() {
    std::vector<named_conv> all = odd_convs();
    if (quick_level() >= 2) all.resize(2);
    if (quick()) return all;
    for (int network : {28, 64})
        for (const auto& c : dcgan_convs(network, 2)) all.push_back(c);
    return all;
}

std::vector<named_conv_transpose> test_conv_transposes() {
    std::vector<named_conv_transpose> all = odd_conv_transposes();
    if (quick_level() >= 2) all.resize(2);
    if (quick()) return all;
    for (int network : {28, 64})
        for (const auto& c : dcgan_conv_transposes(network, 2)) all.push_back(c);
    return all;
}

/// The heuristic's choice, every configuration without a split, and every one with 3 splits.
std::vector<kernel_choice> all_choices() {
    std::vector<kernel_choice> choices{{}};
    for (int config = 0; config < config_count(); ++config) {
        choices.push_back({config, 1});
        choices.push_back({config, 3});
    }
    return choices;
}

/// One pass over every test shape: exact data through every choice and epilogue variant, then
/// uniform data through the heuristic's choice.
void check_conv_pass(conv_pass pass, activation act) {
    data_source rng(test_seed() + std::uint64_t(pass));
    int failures = 0, runs = 0;
    pooled_l2 l2;
    for (const auto& c : test_convs()) {
        for (epilogue_variant v : {epilogue_variant::plain, epilogue_variant::fused, epilogue_variant::accumulate,
                                   epilogue_variant::chain}) {
            const pass_data d = make_pass(c.problem, pass, data_kind::exact, v, rng, act);
            if (v == epilogue_variant::plain) {
                for (const kernel_choice& choice : all_choices()) {
                    ++runs;
                    failures += check_pass(d, choice) ? 0 : 1;
                }
            } else {
                ++runs;
                failures += check_pass(d, {}) ? 0 : 1;
            }
        }
        for (epilogue_variant v : {epilogue_variant::fused, epilogue_variant::chain}) {
            const pass_data u = make_pass(c.problem, pass, data_kind::uniform, v, rng, act);
            const std::vector<float> out = run_pass(u, {});
            const comparison cmp = compare(out, u.expected, u.magnitude, u.kind, u.alpha);
            ++runs;
            l2.add(cmp, u.describe());
            if (!cmp.ok) {
                ++failures;
                BOOST_ERROR(u.describe() << ": " << cmp.detail << " (seed " << test_seed() << ")");
            }
        }
    }
    std::cout << pass_name(pass) << ": " << runs << " runs, " << failures
              << " failed; relative L2 error on uniform data (TF32), pooled over the runs " << l2.relative()
              << ", largest single " << l2.worst_single << " in " << l2.worst_case << std::endl;
    BOOST_TEST(failures == 0);
    BOOST_TEST(l2.relative() < 1e-3);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv2d)

BOOST_AUTO_TEST_CASE(forward_matches_reference) { check_conv_pass(conv_pass::forward, activation::leaky_relu); }

BOOST_AUTO_TEST_CASE(backward_data_matches_reference) { check_conv_pass(conv_pass::backward_data, activation::tanh); }

BOOST_AUTO_TEST_CASE(backward_filter_matches_reference) {
    check_conv_pass(conv_pass::backward_filter, activation::none);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conv_transpose2d)

// The three passes through the public conv_transpose2d entry points; the references are the
// adjoint conv2d's (test_cuda_reference checks that correspondence against gant's CPU layers).
BOOST_AUTO_TEST_CASE(passes_match_reference) {
    data_source rng(test_seed() + 17);
    int failures = 0, runs = 0;
    for (const auto& t : test_conv_transposes()) {
        const conv_transpose2d_problem& p = t.problem;
        const conv2d_problem adj = p.adjoint();
        for (const kernel_choice& choice : {kernel_choice{}, kernel_choice{0, 1}, kernel_choice{5, 3}}) {
            // forward: y = tanh(convT(x, w) + bias) = conv2d backward-data of the adjoint
            const pass_data f =
                make_pass(adj, conv_pass::backward_data, data_kind::exact, epilogue_variant::fused, rng, activation::tanh);
            device_buffer<float> x = upload(f.a), w = upload(f.b), bias = upload(f.bias);
            device_buffer<float> y(f.output_size, test_stream());
            y.fill_bytes(0xFF);
            conv_transpose2d_forward(p, x.data(), w.data(), y.data(), f.epilogue(bias.data()), test_stream(), choice);
            comparison c = compare(y.to_host(), f.expected, f.magnitude, f.kind);
            ++runs;
            if (!c.ok) {
                ++failures;
                BOOST_ERROR(t.name << " forward, choice " << choice.config << "/" << choice.splits << ": " << c.detail);
            }
            // backward-data: dx = convT^T(dy, w) = conv2d forward of the adjoint
            const pass_data b = make_pass(adj, conv_pass::forward, data_kind::exact, epilogue_variant::accumulate, rng);
            device_buffer<float> dy = upload(b.a), w2 = upload(b.b), dx = upload(b.old);
            conv_transpose2d_backward_data(p, dy.data(), w2.data(), dx.data(), b.alpha, b.beta, test_stream(), choice);
            c = compare(dx.to_host(), b.expected, b.magnitude, b.kind, b.alpha);
            ++runs;
            if (!c.ok) {
                ++failures;
                BOOST_ERROR(t.name << " backward-data, choice " << choice.config << "/" << choice.splits << ": "
                                   << c.detail);
            }
            // backward-filter: dw of convT = conv2d backward-filter of the adjoint, image = dy
            const pass_data g = make_pass(adj, conv_pass::backward_filter, data_kind::exact, epilogue_variant::plain, rng);
            device_buffer<float> dy_img = upload(g.a), x_small = upload(g.b);
            device_buffer<float> dw(g.output_size, test_stream());
            dw.fill_bytes(0xFF);
            conv_transpose2d_backward_filter(p, x_small.data(), dy_img.data(), dw.data(), 1.f, 0.f, test_stream(), choice);
            c = compare(dw.to_host(), g.expected, g.magnitude, g.kind);
            ++runs;
            if (!c.ok) {
                ++failures;
                BOOST_ERROR(t.name << " backward-filter, choice " << choice.config << "/" << choice.splits << ": "
                                   << c.detail);
            }
        }
    }
    std::cout << "conv_transpose2d: " << runs << " runs, " << failures << " failed" << std::endl;
    BOOST_TEST(failures == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(support)

BOOST_AUTO_TEST_CASE(channel_sums_match_reference) {
    data_source rng(test_seed() + 5);
    for (const auto& [samples, channels, pixels] : {std::tuple{3, 7, 99}, std::tuple{64, 128, 49}, std::tuple{1, 1, 1},
                                                    std::tuple{5, 3, 4096}}) {
        const std::vector<float> batch = rng.make(std::size_t(samples) * channels * pixels, data_kind::exact);
        const std::vector<float> old = rng.make(std::size_t(channels), data_kind::exact);
        std::vector<double> want(static_cast<std::size_t>(channels)), magnitude(static_cast<std::size_t>(channels));
        for (int s = 0; s < samples; ++s)
            for (int c = 0; c < channels; ++c)
                for (int p = 0; p < pixels; ++p) {
                    const double v = batch[(std::size_t(s) * channels + c) * pixels + p];
                    want[std::size_t(c)] += v;
                    magnitude[std::size_t(c)] += std::abs(v);
                }
        device_buffer<float> b = upload(batch);
        device_buffer<float> sums(std::size_t(channels), test_stream());
        sums.fill_bytes(0xFF);
        channel_sums(b.data(), samples, channels, pixels, sums.data(), 1.f, 0.f, test_stream());
        comparison c = compare(sums.to_host(), want, magnitude, data_kind::exact);
        if (!c.ok) BOOST_ERROR("channel_sums " << samples << "x" << channels << "x" << pixels << ": " << c.detail);
        sums.copy_from_host(old);  // accumulate: sums = 2 * sum + 1 * old
        channel_sums(b.data(), samples, channels, pixels, sums.data(), 2.f, 1.f, test_stream());
        for (int ch = 0; ch < channels; ++ch) want[std::size_t(ch)] = 2 * want[std::size_t(ch)] + old[std::size_t(ch)];
        c = compare(sums.to_host(), want, magnitude, data_kind::exact);
        if (!c.ok) BOOST_ERROR("channel_sums accumulating: " << c.detail);
    }
}

BOOST_AUTO_TEST_CASE(allocator_reuses_blocks_in_the_steady_state) {
    caching_allocator& a = default_allocator();
    if (!a.caching()) {
        std::cout << "allocator_reuses_blocks_in_the_steady_state: not checked, GANT_CUDA_UNCACHED_ALLOCATOR is set"
                  << std::endl;
        return;
    }
    const conv2d_problem p{8, 64, 14, 14, 128, 4, 4, 2, 1};  // a split backward-filter needs a workspace
    device_buffer<float> x(std::size_t(p.input_size()), test_stream()), dy(std::size_t(p.output_size()), test_stream());
    device_buffer<float> dw(std::size_t(p.weight_size()), test_stream());
    x.fill_bytes(0);
    dy.fill_bytes(0);
    auto step = [&] {
        device_buffer<float> t1(1000, test_stream()), t2(123457, test_stream()), t3(77, test_stream());
        conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), 1.f, 0.f, test_stream(), {0, 4});
    };
    step();  // first step: whatever it needs is allocated
    const auto before = a.stats();
    for (int i = 0; i < 50; ++i) step();
    GANT_CUDA_CHECK(cudaStreamSynchronize(test_stream()));
    const auto after = a.stats();
    BOOST_TEST(after.device_allocations == before.device_allocations);  // no cudaMalloc in the steady state
    BOOST_TEST(after.cache_hits >= before.cache_hits + 50 * 4);
    BOOST_TEST(after.bytes_in_use == before.bytes_in_use);
}

BOOST_AUTO_TEST_CASE(device_buffer_round_trip_and_bounds) {
    const std::vector<float> v{1.f, -2.5f, 3.25f, 0.f, 7.f};
    device_buffer<float> b(v.size(), test_stream());
    b.copy_from_host(v);
    BOOST_TEST(b.to_host() == v);
    device_buffer<float> moved = std::move(b);
    BOOST_TEST(b.data() == nullptr);
    BOOST_TEST(moved.to_host() == v);
    BOOST_CHECK_THROW(moved.copy_from_host(v.data(), v.size() + 1), std::out_of_range);
    device_buffer<float> empty;
    BOOST_TEST(empty.to_host().empty());
}

BOOST_AUTO_TEST_CASE(errors_name_the_call) {
    std::string message;
    try {
        GANT_CUDA_CHECK(cudaSetDevice(1 << 20));
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    BOOST_TEST(message.find("cudaSetDevice(1 << 20) failed: cudaErrorInvalidDevice") != std::string::npos);
    BOOST_TEST(message.find("test_cuda_conv.cpp:") != std::string::npos);
    // A failed allocation reports the same way (and leaves the runtime usable).
    message.clear();
    try {
        device_buffer<float> huge(std::size_t(1) << 38, test_stream());  // 1 TiB
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    BOOST_TEST(message.find("cudaMalloc") != std::string::npos);
    BOOST_TEST(message.find("cudaErrorMemoryAllocation") != std::string::npos);
    device_buffer<float> small(16, test_stream());
    small.fill_bytes(0);
    BOOST_TEST(small.to_host() == std::vector<float>(16, 0.f));
}

// Prints the heuristic's plans (the benchmark times them); each must be a runnable plan.
BOOST_AUTO_TEST_CASE(heuristic_plans_for_the_dcgan_layers) {
    int malformed = 0;
    auto show = [&](const std::string& name, int batch, const conv2d_problem& p, conv_pass pass) {
        const kernel_plan plan = plan_conv2d(p, pass);
        malformed += plan.config >= 0 && plan.config < config_count() && plan.splits >= 1 && plan.blocks >= 1 ? 0 : 1;
        std::cout << "  plan " << name << " N=" << batch << " conv2d " << pass_name(pass) << ": " << plan.describe()
                  << "\n";
    };
    for (int network : {28, 64})
        for (int batch : {64, 256}) {
            for (const auto& c : dcgan_convs(network, batch))
                for (conv_pass pass : {conv_pass::forward, conv_pass::backward_data, conv_pass::backward_filter})
                    show(c.name, batch, c.problem, pass);
            for (const auto& t : dcgan_conv_transposes(network, batch))
                for (conv_pass pass : {conv_pass::backward_data, conv_pass::forward, conv_pass::backward_filter})
                    show(t.name + " (adjoint)", batch, t.problem.adjoint(), pass);
        }
    std::cout << std::flush;
    BOOST_TEST(malformed == 0);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) {
    return gant::cuda::testing::gpu_test_main(argc, argv, quick() ? "; quick mode" : "");
}
