// gant's whole training iteration on the GPU: gan<..., float, backend::cuda> for the DCGAN 64x64
// and WGAN-GP 64x64 workloads of bench/gpu/torch_train_step.py (the PyTorch peer, run by
// run_step_check.sh in the same call), at the same batches, with the same counting.
//
//   dcgan64    topology::dcgan<image<3, 64, 64>, shape<100>>, loss::non_saturating, Adam 2e-4
//              (0.5, 0.999): one critic step on real + fake and one generator step.
//   wgan_gp64  the same topology with lipschitz::gradient_penalty (its critic has layer norm),
//              loss::wasserstein, Adam 1e-4 (0, 0.9), 5 critic steps with the exact penalty and
//              one generator step.
// Real images are a fixed batch in [-1, 1] in device memory, copied into the step's batch by a
// device-to-device copy (PyTorch's peer reuses one stand-in batch likewise). gant's iteration is
// the library's whole train_step: it also reads its guards and statistics back (losses, penalty,
// non-finite counts, scores, weight norms), which the peer's loop does not compute, so a ratio
// against it errs against gant.
//
// Usage: gant_bench_cuda_step [--batches 64,256] [--workloads dcgan64,wgan_gp64] [--iterations N]
//                             [--warmup N] [--json FILE]
// Prints one line per (workload, batch) in the peer's format: milliseconds per iteration (median
// of the timed ones) and real images drawn per second.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gant/backend/cuda.hpp"
#include "gant/cuda/device.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"

namespace {

using namespace gant;
using topology64 = topology::dcgan<image<3, 64, 64>, shape<100>>;
using dcgan64 = gan<topology64, loss::non_saturating, lipschitz::none, growth::fixed, float, backend::cuda>;
using wgan_gp64 = gan<topology64, loss::wasserstein, lipschitz::gradient_penalty, growth::fixed, float, backend::cuda>;

struct options {
    std::vector<std::size_t> batches{64, 256};
    std::vector<std::string> workloads{"dcgan64", "wgan_gp64"};
    std::size_t iterations = 20, warmup = 3;
    std::string json;
};

[[noreturn]] void refuse(const std::string& sentence) {
    std::fprintf(stderr, "gant_bench_cuda_step: %s\n", sentence.c_str());
    std::exit(2);
}

std::size_t count_flag(const std::string& flag, const std::string& value, std::size_t least) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < least || value[0] == '-')
        refuse(flag + " must be an integer of at least " + std::to_string(least) + ", got '" + value + "'");
    return std::size_t(v);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) refuse(flag + " needs a value (see the comment at the top of bench_cuda_step.cpp)");
        const std::string value = argv[++i];
        std::stringstream list(value);
        std::string item;
        if (flag == "--batches") {
            o.batches.clear();
            while (std::getline(list, item, ',')) o.batches.push_back(count_flag("--batches", item, 2));
        } else if (flag == "--workloads") {
            o.workloads.clear();
            while (std::getline(list, item, ',')) {
                if (item != "dcgan64" && item != "wgan_gp64")
                    refuse("--workloads must list dcgan64 and/or wgan_gp64, got '" + item + "'");
                o.workloads.push_back(item);
            }
        } else if (flag == "--iterations") {
            o.iterations = count_flag("--iterations", value, 1);
        } else if (flag == "--warmup") {
            o.warmup = count_flag("--warmup", value, 0);
        } else if (flag == "--json") {
            o.json = value;
        } else {
            refuse("unknown flag " + flag + " (--batches, --workloads, --iterations, --warmup, --json)");
        }
    }
    if (o.batches.empty() || o.workloads.empty()) refuse("--batches and --workloads need at least one entry");
    return o;
}

struct result {
    std::string workload;
    std::size_t batch;
    double ms, images_per_s;
};

template <class Model>
result time_workload(const std::string& name, std::size_t batch, const options& o) {
    hyper_parameters h = Model::default_hyper_parameters();
    h.batch = batch;
    Model model(h, 0);
    tensor<float> stand_in = tensor<float>::from_shape({batch, Model::sample_size});
    rng r(0, 7);
    for (auto& v : stand_in) v = float(std::tanh(r.normal()));
    cuda::device_batch<float> real;
    real.assign(stand_in.data(), batch, Model::sample_size);
    auto source = [&](cuda::device_batch<float>& b) { cuda::copy_batch(real, b); };

    for (std::size_t i = 0; i < o.warmup; ++i) model.train_step(source);
    GANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> seconds;
    for (std::size_t i = 0; i < o.iterations; ++i) {
        const auto start = std::chrono::steady_clock::now();
        model.train_step(source);
        GANT_CUDA_CHECK(cudaDeviceSynchronize());
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::nth_element(seconds.begin(), seconds.begin() + std::ptrdiff_t(seconds.size() / 2), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double images = double(batch * std::max<std::size_t>(h.n_critic, 1)) / median;
    std::printf("gant  %-9s batch %4zu: %9.3f ms/iteration (median of %zu), %10.0f images/s\n", name.c_str(), batch,
                1e3 * median, o.iterations, images);
    std::fflush(stdout);
    return {name, batch, 1e3 * median, images};
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    if (cuda::device_count() == 0) {
        std::printf("no CUDA device: skipped (%s)\n", cuda::no_device_reason().c_str());
        return 77;
    }
    std::printf("gant device step benchmark on %s\n", cuda::describe_current_device().c_str());
    std::vector<result> results;
    try {
        for (const std::string& w : o.workloads)
            for (std::size_t batch : o.batches)
                results.push_back(w == "dcgan64" ? time_workload<dcgan64>(w, batch, o)
                                                 : time_workload<wgan_gp64>(w, batch, o));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gant_bench_cuda_step: %s\n", e.what());
        return 1;
    }
    if (!o.json.empty()) {
        nlohmann::json out{{"device", cuda::describe_current_device()}, {"results", nlohmann::json::array()}};
        for (const result& r : results)
            out["results"].push_back(
                {{"workload", r.workload}, {"batch", r.batch}, {"ms", r.ms}, {"images_per_s", r.images_per_s}});
        std::ofstream(o.json) << out.dump(1) << '\n';
    }
    return 0;
}
