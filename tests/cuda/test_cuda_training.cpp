#define BOOST_TEST_MODULE gant_cuda_training
#include "support/test_framework.hpp"
// The device pieces of a training step on a GPU:
//   * the reductions and weight passes (gant/cuda/train/reductions.hpp) against their functors
//     and sum_squares' fixed order replayed on the CPU (support/sum_squares_replay.hpp), which
//     test_cuda_training_reference checks against gant's CPU code and exact sums;
//   * device_optimizer_slot against optimizer_slot on the same small network with the same
//     gradients, three steps of each rule, and its state exchanged with the host both ways;
//   * device_ema against gant::ema, buffers (batch norm's running statistics) included.
//
// Tolerances: none. sum_squares must reproduce the replay bit for bit (the order is fixed and
// each square is exact in double). Every other kernel here is compiled without multiply-add
// contraction (-fmad=false, cuda/CMakeLists.txt) and does the CPU's float operations in the
// CPU's order; sqrtf and division are IEEE-rounded on the device (nvcc's default -prec-sqrt and
// -prec-div), and the Adam step constants are computed on the host in double as the CPU rule
// computes them. So the device optimizers and EMA must agree with the CPU bit for bit, as
// test_cuda_elementwise's Adam and RMSprop kernels did on an H100 (2026-11-27). Any non-zero
// difference is printed (GANT_CHECK_DIFFERENCE).
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/core/rng.hpp"
#include "gant/cuda/detail/training_ops.hpp"
#include "gant/cuda/train/device_ema.hpp"
#include "gant/cuda/train/device_optimizer.hpp"
#include "gant/cuda/train/network_transfer.hpp"
#include "gant/cuda/train/reductions.hpp"
#include "gant/layers/batch_norm.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/train/ema.hpp"
#include "gant/train/optimizer_slot.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"
#include "support/gpu_test.hpp"
#include "support/sum_squares_replay.hpp"

namespace {

using namespace gant::cuda::testing;
namespace detail = gant::cuda::detail;

const float inf = std::numeric_limits<float>::infinity();
const float nan_value = std::numeric_limits<float>::quiet_NaN();

// Past the element-wise grid cap (8192 x 256) and the non-finite count's (1024 x 256), so that
// threads take several elements; odd, so no block is full.
constexpr std::size_t big = 8192 * 256 + 4099;

/// Uniform values in [lo, hi) with NaN, infinities and signed zeros in front.
std::vector<float> inputs(std::size_t n, std::uint64_t seed, double lo, double hi) {
    std::vector<float> v{0.f, -0.f, inf, -inf, nan_value, 1e-40f};
    gant::rng r(seed, 9);
    while (v.size() < n) v.push_back(float(r.uniform(lo, hi)));
    v.resize(n);
    return v;
}

template <class Backend>
using small_net = gant::network<gant::shape<6>, float, Backend, gant::dense<6, 5>, gant::relu, gant::dense<5, 1>>;
template <class Backend>
using other_net = gant::network<gant::shape<6>, float, Backend, gant::dense<6, 4>, gant::relu, gant::dense<4, 1>>;
template <class Backend>
using normed_net = gant::network<gant::shape<6>, float, Backend, gant::dense<6, 5>, gant::batch_norm<5>, gant::relu,
                                 gant::dense<5, 1>>;

using cpu = gant::backend::cpu;
using gpu = gant::backend::cuda;

/// Fresh uniform values in every parameter (and, for a network with some, every buffer).
template <class Net>
void randomize(Net& net, std::uint64_t seed) {
    std::uint64_t k = 0;
    net.visit_parameters([&](gant::parameter<float>& p) {
        const auto v = uniform_values(p.size(), seed + k++, -1, 1);
        std::copy(v.begin(), v.end(), p.data());
    });
    net.visit_buffers([&](gant::buffer<float>& b) {
        const auto v = uniform_values(b.size(), seed + k++, 0.25, 2);
        std::copy(v.begin(), v.end(), b.data());
    });
}

/// The same random gradients in the CPU network and its device twin.
template <class CpuNet, class GpuNet>
void same_gradients(CpuNet& host, GpuNet& device, std::uint64_t seed) {
    std::vector<gant::parameter<float>*> params;
    std::uint64_t k = 0;
    host.visit_parameters([&](gant::parameter<float>& p) {
        const auto g = uniform_values(p.size(), seed + k++, -2, 2);
        std::copy(g.begin(), g.end(), p.grad.begin());
        params.push_back(&p);
    });
    k = 0;
    device.visit_parameters([&](gant::cuda::device_parameter<float>& p) {
        p.grad.copy_from_host(params.at(k)->grad.data(), params.at(k)->size());
        ++k;
    });
    BOOST_TEST(k == params.size());
}

template <class Net>
std::vector<std::vector<float>> host_values(Net& net) {
    std::vector<std::vector<float>> out;
    net.visit_parameters([&](gant::parameter<float>& p) { out.emplace_back(p.value.begin(), p.value.end()); });
    net.visit_buffers([&](gant::buffer<float>& b) { out.emplace_back(b.value.begin(), b.value.end()); });
    return out;
}

template <class Net>
std::vector<std::vector<float>> device_values(Net& net) {
    std::vector<std::vector<float>> out;
    net.visit_parameters([&](gant::cuda::device_parameter<float>& p) { out.push_back(p.value.to_host()); });
    net.visit_buffers([&](gant::cuda::device_state<float>& b) { out.push_back(b.value.to_host()); });
    return out;
}

void check_same(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want) {
    BOOST_TEST(got.size() == want.size());
    for (std::size_t k = 0; k < got.size() && k < want.size(); ++k) GANT_CHECK_DIFFERENCE(got[k], want[k], 0.0);
}

/// A host slot's step counter and state tensors, by their checkpoint names.
struct slot_state {
    std::uint64_t step = 0;
    std::map<std::string, std::vector<float>> tensors;
};

template <class Net>
slot_state state_of(gant::optimizer_slot<float>& slot, Net& net) {
    slot_state s;
    slot.visit_state(net, [&](const std::string& key, auto& v) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, std::uint64_t>)
            s.step = v;
        else
            s.tensors[key] = std::vector<float>(v.begin(), v.end());
    });
    return s;
}

void check_same(const slot_state& got, const slot_state& want) {
    BOOST_TEST(got.step == want.step);
    BOOST_TEST(got.tensors.size() == want.tensors.size());
    for (const auto& [key, values] : want.tensors) {
        const auto found = got.tensors.find(key);
        BOOST_TEST((found != got.tensors.end()), "state tensor " << key << " is missing");
        if (found != got.tensors.end()) GANT_CHECK_DIFFERENCE(found->second, values, 0.0);
    }
}

gant::hyper_parameters settings_for(gant::optimizer_kind kind) {
    gant::hyper_parameters h;
    h.optimizer = kind;
    h.beta1 = 0.5;
    h.beta2 = 0.9;
    h.momentum = kind == gant::optimizer_kind::adam ? 0.0 : 0.9;  // RMSprop and SGD with their momentum buffers
    return h;
}

const gant::optimizer_kind every_kind[] = {gant::optimizer_kind::adam, gant::optimizer_kind::rmsprop,
                                           gant::optimizer_kind::sgd};

template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reductions_on_the_gpu)

// Bit for bit the replay, on top of what *out held, and the same bits on a second launch.
BOOST_AUTO_TEST_CASE(sum_squares_follows_its_fixed_order) {
    for (std::size_t n : {std::size_t(1), std::size_t(255), std::size_t(4097), std::size_t(32768), std::size_t(32769),
                          std::size_t(1000003), big}) {
        const std::vector<float> x = uniform_values(n, test_seed() + n, -3, 3);
        const double want = replay_sum_squares(x.data(), n, 0.25);
        const gant::cuda::device_buffer<float> dx = upload(x);
        gant::cuda::device_buffer<double> first = upload(std::vector<double>{0.25}),
                                          second = upload(std::vector<double>{0.25});
        gant::cuda::sum_squares(dx.data(), n, first.data(), test_stream());
        gant::cuda::sum_squares(dx.data(), n, second.data(), test_stream());
        const double got = first.to_host()[0], again = second.to_host()[0];
        BOOST_TEST(got == want, "n = " << n << ": " << got << " != " << want);
        BOOST_TEST(again == got, "n = " << n);
    }
}

BOOST_AUTO_TEST_CASE(count_nonfinite_counts_nan_and_infinity) {
    const std::size_t n = big;
    std::vector<float> x = uniform_values(n, test_seed() + 1, -1e30, 1e30);
    gant::rng r(test_seed(), 21);
    const float specials[] = {nan_value, inf, -inf, -nan_value};
    for (int i = 0; i < 3001; ++i) x[std::size_t(r.uniform(0.0, double(n)))] = specials[i % 4];
    unsigned long long want = 7;  // on top of what *out held
    for (float v : x) want += std::isfinite(v) ? 0 : 1;
    const gant::cuda::device_buffer<float> dx = upload(x);
    gant::cuda::device_buffer<unsigned long long> count = upload(std::vector<unsigned long long>{7});
    gant::cuda::count_nonfinite(dx.data(), n, count.data(), test_stream());
    BOOST_TEST(count.to_host()[0] == want);
}

BOOST_AUTO_TEST_CASE(clamp_and_fill) {
    const std::size_t n = big;
    std::vector<float> x = inputs(n, test_seed() + 2, -0.1, 0.1);
    x[6] = 0.01f;  // the bounds themselves
    x[7] = -0.01f;
    gant::cuda::device_buffer<float> dx = upload(x);
    gant::cuda::clamp_values(dx.data(), n, -0.01f, 0.01f, test_stream());
    emulate(detail::clamp_op{-0.01f, 0.01f, x.data()}, n);
    GANT_CHECK_DIFFERENCE(dx.to_host(), x, 0.0);

    gant::cuda::device_buffer<float> filled = poisoned<float>(n);
    gant::cuda::fill_values(filled.data(), n, -0.375f, test_stream());
    GANT_CHECK_DIFFERENCE(filled.to_host(), std::vector<float>(n, -0.375f), 0.0);
}

// Three steps in every configuration; the momentum buffers start as NaN (the first step must not
// read them).
BOOST_AUTO_TEST_CASE(sgd_update_every_configuration) {
    const gant::cuda::sgd_settings configurations[] = {
        {.lr = 1e-2},
        {.lr = 5e-3, .momentum = 0.9},
        {.lr = 2e-3, .momentum = 0.5, .dampening = 0.3, .weight_decay = 0.01},
        {.lr = 1e-2, .momentum = 0.9, .weight_decay = 0.05, .nesterov = true}};
    for (const auto& s : configurations) {
        const std::size_t n = big;
        const bool momentum = s.momentum != 0.0;
        std::vector<float> p = uniform_values(n, test_seed() + 3, -1, 1), buf(n, nan_value);
        gant::cuda::device_buffer<float> dp = upload(p), dbuf = upload(buf);
        for (std::uint64_t step = 1; step <= 3; ++step) {
            const std::vector<float> g = inputs(n, test_seed() + 10 + step, -2, 2);
            emulate(detail::sgd_op{detail::make_sgd_constants(s, step), p.data(), g.data(),
                                   momentum ? buf.data() : nullptr},
                    n);
            const gant::cuda::device_buffer<float> dg = upload(g);
            gant::cuda::sgd_update(s, step, dp.data(), dg.data(), momentum ? dbuf.data() : nullptr, n, test_stream());
        }
        GANT_CHECK_DIFFERENCE(dp.to_host(), p, 0.0);
        if (momentum) GANT_CHECK_DIFFERENCE(dbuf.to_host(), buf, 0.0);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(device_optimizer_slot_against_the_host_slot)

// Three steps of each rule on the same network with the same gradients: the same parameters,
// and, downloaded, the same step counter and state.
BOOST_AUTO_TEST_CASE(three_steps_of_each_rule) {
    for (gant::optimizer_kind kind : every_kind) {
        BOOST_TEST_MESSAGE("rule " << gant::to_string(kind));
        const gant::hyper_parameters h = settings_for(kind);
        small_net<cpu> host_net;
        small_net<gpu> device_net;
        randomize(host_net, test_seed() + 100);
        gant::cuda::upload_network(host_net, device_net);
        gant::optimizer_slot<float> host;
        gant::cuda::device_optimizer_slot<float> device;
        host.configure(h, 1e-2);
        device.configure(h, 1e-2);
        for (std::uint64_t step = 1; step <= 3; ++step) {
            same_gradients(host_net, device_net, test_seed() + 200 + 10 * step);
            host.step(host_net);
            device.step(device_net);
        }
        BOOST_TEST(device.steps() == 3u);
        check_same(device_values(device_net), host_values(host_net));

        gant::optimizer_slot<float> downloaded;
        downloaded.configure(h, 1e-2);
        device.download(downloaded, host_net, device_net);
        const slot_state want = state_of(host, host_net);
        // 4 parameters: Adam's two moments, RMSprop's square average and momentum buffer, SGD's buffer.
        BOOST_TEST(want.tensors.size() == (kind == gant::optimizer_kind::sgd ? 4u : 8u));
        check_same(state_of(downloaded, host_net), want);
    }
}

// The host state uploaded into a fresh device slot carries on as the host slot does.
BOOST_AUTO_TEST_CASE(state_uploaded_from_the_host_carries_on) {
    for (gant::optimizer_kind kind : every_kind) {
        BOOST_TEST_MESSAGE("rule " << gant::to_string(kind));
        const gant::hyper_parameters h = settings_for(kind);
        small_net<cpu> host_net;
        randomize(host_net, test_seed() + 300);
        gant::optimizer_slot<float> host;
        host.configure(h, 2e-3);
        for (std::uint64_t step = 1; step <= 2; ++step) {
            std::uint64_t k = 0;
            host_net.visit_parameters([&](gant::parameter<float>& p) {
                const auto g = uniform_values(p.size(), test_seed() + 400 + 10 * step + k++, -2, 2);
                std::copy(g.begin(), g.end(), p.grad.begin());
            });
            host.step(host_net);
        }
        small_net<gpu> device_net;
        gant::cuda::upload_network(host_net, device_net);
        gant::cuda::device_optimizer_slot<float> device;
        device.configure(h, 2e-3);
        device.upload(host, host_net, device_net);
        BOOST_TEST(device.steps() == 2u);

        gant::optimizer_slot<float> back;  // the round trip gives the host state back
        back.configure(h, 2e-3);
        device.download(back, host_net, device_net);
        check_same(state_of(back, host_net), state_of(host, host_net));

        same_gradients(host_net, device_net, test_seed() + 500);
        host.step(host_net);
        device.step(device_net);
        BOOST_TEST(device.steps() == 3u);
        check_same(device_values(device_net), host_values(host_net));
    }
}

// A device slot that never stepped downloads as a never-stepped host slot, even into a host
// slot that had state of its own.
BOOST_AUTO_TEST_CASE(a_fresh_slot_downloads_as_a_fresh_slot) {
    for (gant::optimizer_kind kind : every_kind) {
        const gant::hyper_parameters h = settings_for(kind);
        small_net<cpu> host_net;
        small_net<gpu> device_net;
        randomize(host_net, test_seed() + 600);
        gant::optimizer_slot<float> host;
        host.configure(h, 1e-2);
        std::uint64_t k = 0;
        host_net.visit_parameters([&](gant::parameter<float>& p) {
            const auto g = uniform_values(p.size(), test_seed() + 610 + k++, 0.5, 1);
            std::copy(g.begin(), g.end(), p.grad.begin());
        });
        host.step(host_net);
        gant::cuda::device_optimizer_slot<float> device;
        device.configure(h, 1e-2);
        device.download(host, host_net, device_net);
        BOOST_TEST(host.steps() == 0u);
        const slot_state s = state_of(host, host_net);
        BOOST_TEST(s.step == 0u);
        BOOST_TEST(!s.tensors.empty());
        for (const auto& [key, values] : s.tensors)
            GANT_CHECK_DIFFERENCE(values, std::vector<float>(values.size(), 0.f), 0.0);
    }
}

// Mismatches are refused with one sentence before either side changes.
BOOST_AUTO_TEST_CASE(mismatches_are_refused_before_anything_changes) {
    const gant::hyper_parameters h = settings_for(gant::optimizer_kind::adam);
    small_net<cpu> host_net;
    small_net<gpu> device_net;
    other_net<cpu> other_host;
    other_net<gpu> other_device;
    randomize(host_net, test_seed() + 700);
    gant::cuda::upload_network(host_net, device_net);
    gant::optimizer_slot<float> host;
    gant::cuda::device_optimizer_slot<float> device;
    host.configure(h, 1e-2);
    device.configure(h, 1e-2);
    same_gradients(host_net, device_net, test_seed() + 710);
    host.step(host_net);
    device.step(device_net);
    const slot_state host_before = state_of(host, host_net);

    const std::string sizes = refusal([&] { device.download(host, other_host, device_net); });
    BOOST_TEST(sizes ==
               "gant::cuda::device_optimizer_slot::download: parameter #0 has 24 values on the host but 30 "
               "on the device");
    const std::string bound = refusal([&] { device.upload(host, host_net, other_device); });
    BOOST_TEST(bound.find("gant::cuda::device_optimizer_slot::upload: ") == 0u, bound);
    BOOST_TEST(!refusal([&] { device.step(other_device); }).empty());

    gant::optimizer_slot<float> sgd_host;
    sgd_host.configure(settings_for(gant::optimizer_kind::sgd), 1e-2);
    BOOST_TEST(refusal([&] { device.upload(sgd_host, host_net, device_net); }) ==
               "gant::cuda::device_optimizer_slot::upload: the host slot runs sgd but this slot runs adam; configure "
               "both with the same hyper_parameters");

    check_same(state_of(host, host_net), host_before);
    BOOST_TEST(device.steps() == 1u);
    gant::optimizer_slot<float> after;
    after.configure(h, 1e-2);
    device.download(after, host_net, device_net);
    check_same(state_of(after, host_net), host_before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(device_ema_against_gant_ema)

// Three updates towards a moving network with batch norm: the average's parameters bit for bit
// gant::ema's, its running statistics the source's; reset starts over from the source.
BOOST_AUTO_TEST_CASE(updates_and_reset) {
    normed_net<cpu> host_source;
    normed_net<gpu> device_source;
    randomize(host_source, test_seed() + 800);
    gant::cuda::upload_network(host_source, device_source);
    gant::ema<normed_net<cpu>> host_average;
    gant::cuda::device_ema<normed_net<gpu>> device_average;
    host_average.reset(host_source);
    device_average.reset(device_source);
    check_same(device_values(device_average.network()), host_values(host_average.network()));
    for (std::uint64_t step = 1; step <= 3; ++step) {
        randomize(host_source, test_seed() + 800 + 10 * step);
        gant::cuda::upload_network(host_source, device_source);
        host_average.update(host_source, 0.9);
        device_average.update(device_source, 0.9);
    }
    const auto averaged = host_values(host_average.network());
    BOOST_TEST(normwise(averaged.front(), host_values(host_source).front()) > 1e-3);  // a real average
    check_same(device_values(device_average.network()), averaged);
    device_average.reset(device_source);
    check_same(device_values(device_average.network()), host_values(host_source));
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
