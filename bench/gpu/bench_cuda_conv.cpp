// gant's CUDA convolution kernels against cuDNN on the DCGAN layers (the 28x28 and 64x64
// networks of include/gant/topology/dcgan.hpp) at batch 64 and 256: every pass of every conv2d
// (critic) and conv_transpose2d (generator) layer, timed in the same process on the same stream
// and buffers, in TFLOP/s and as the ratio of throughputs ours / cuDNN (> 1: gant faster).
//
//   ours       the plan gant's heuristic picks (what a user gets)
//   best       the fastest of every tile configuration x split of gant's kernels (what a better
//              heuristic could pick; the configuration is printed)
//   cuDNN      the fastest algorithm cudnnFind*AlgorithmEx reports, math type CUDNN_TENSOR_OP_MATH
//              (TF32 allowed for FP32 data, as gant's kernels use TF32), run with the math type
//              Find chose for it
// Times are the median over trials of the mean of back-to-back launches between CUDA events,
// after warm-up (inputs: uniform random; each pass reads the same buffers every launch, so
// inputs that fit in L2 stay there, for both sides alike). FLOPs are nominal: 2 * output
// pixels * Cin * KH * KW per pass. For each pass gant's and cuDNN's outputs are also compared
// (relative L2 difference, expected ~1e-3 or less for two TF32 computations).
//
// The per-layer lines come first, a summary table per network, batch and path last; --table FILE
// writes that table to FILE too.
//
// Usage: gant_bench_cuda_conv [--quick] [--no-sweep] [--budget SECONDS] [--table FILE]
//                             [--only LAYER] [--pass PASS] [--batch N] [--config C]
// --only keeps the layers whose name contains LAYER (e.g. D64.2), --pass one of the layer's
// passes (forward, backward-data, backward-filter), --batch one batch size, and
// --config forces gant's configuration C (config_name lists them) in place of the heuristic's:
// with --no-sweep, a short run to profile one kernel (bench/gpu/run_conv_check.sh runs ncu so).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gant/cuda/check.hpp"
#include "gant/cuda/conv.hpp"
#include "gant/cuda/device.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/stream.hpp"
#include "support/dcgan_shapes.hpp"

#if defined(GANT_BENCH_HAVE_CUDNN)
#include "gant/cuda/cudnn_check.hpp"
#endif

namespace {

using namespace gant::cuda;
using gant::cuda::testing::named_conv;

struct options {
    bool quick = false;
    bool sweep = true;
    double budget_s = 300;
    std::string table;
    std::string only;  // layer-name filter
    std::string pass;  // the layer's pass to run; empty: all three
    int batch = 0;     // 0: 64 and 256
    int config = -1;   // -1: the heuristic's configuration for "ours"
};

using clock_type = std::chrono::steady_clock;

/// Median over `trials` of the mean time of back-to-back launches, in microseconds.
double time_us(const std::function<void()>& launch, cudaStream_t s, int trials, double trial_ms = 2.0) {
    event_timer timer;
    launch();
    launch();
    GANT_CUDA_CHECK(cudaStreamSynchronize(s));
    timer.start(s);
    launch();
    timer.stop(s);
    const double once_ms = std::max(1e-3, double(timer.milliseconds()));
    const int reps = int(std::clamp(trial_ms / once_ms, 1.0, 200.0));
    std::vector<double> per;
    for (int t = 0; t < trials; ++t) {
        timer.start(s);
        for (int r = 0; r < reps; ++r) launch();
        timer.stop(s);
        per.push_back(double(timer.milliseconds()) * 1000.0 / reps);
    }
    std::sort(per.begin(), per.end());
    GANT_CUDA_CHECK(cudaGetLastError());
    return per[per.size() / 2];
}

double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
    double d2 = 0, b2 = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double d = double(a[i]) - double(b[i]);
        d2 += d * d;
        b2 += double(b[i]) * double(b[i]);
    }
    return b2 > 0 ? std::sqrt(d2 / b2) : std::sqrt(d2);
}

const char* pass_label(conv_pass p) {
    switch (p) {
        case conv_pass::forward: return "forward";
        case conv_pass::backward_data: return "backward-data";
        case conv_pass::backward_filter: return "backward-filter";
    }
    return "?";
}

/// The conv2d pass that a layer's pass runs: a conv_transpose2d's forward is its adjoint's
/// backward-data, its backward-data the adjoint's forward.
conv_pass kernel_pass(bool transposed, conv_pass layer_pass) {
    if (!transposed) return layer_pass;
    if (layer_pass == conv_pass::forward) return conv_pass::backward_data;
    if (layer_pass == conv_pass::backward_data) return conv_pass::forward;
    return conv_pass::backward_filter;
}

#if defined(GANT_BENCH_HAVE_CUDNN)
/// cuDNN's side of one conv2d problem: descriptors, the algorithm Find picked, and a launcher.
class cudnn_conv {
public:
    cudnn_conv(cudnnHandle_t handle, const conv2d_problem& p) : handle_(handle) {
        GANT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&x_));
        GANT_CUDNN_CHECK(cudnnCreateTensorDescriptor(&y_));
        GANT_CUDNN_CHECK(cudnnCreateFilterDescriptor(&w_));
        GANT_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&conv_));
        GANT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, p.batch, p.in_channels,
                                                    p.in_height, p.in_width));
        GANT_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, p.batch, p.out_channels,
                                                    p.out_height(), p.out_width()));
        GANT_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, p.out_channels,
                                                    p.in_channels, p.kernel_h, p.kernel_w));
        GANT_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv_, p.padding, p.padding, p.stride, p.stride, 1, 1,
                                                         CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        GANT_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, CUDNN_TENSOR_OP_MATH));
        int n, c, h, w;
        GANT_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv_, x_, w_, &n, &c, &h, &w));
        if (n != p.batch || c != p.out_channels || h != p.out_height() || w != p.out_width())
            throw std::runtime_error("cuDNN's output shape differs from gant's for " + p.describe());
    }
    ~cudnn_conv() {
        cudnnDestroyTensorDescriptor(x_);
        cudnnDestroyTensorDescriptor(y_);
        cudnnDestroyFilterDescriptor(w_);
        cudnnDestroyConvolutionDescriptor(conv_);
    }
    cudnn_conv(const cudnn_conv&) = delete;
    cudnn_conv& operator=(const cudnn_conv&) = delete;

    /// Finds the fastest algorithm for `pass` (a: x or dy, b: w or dy, out as gant's API) and
    /// returns a launcher for it; `name` says which algorithm and math type.
    std::function<void()> prepare(conv_pass pass, const float* a, const float* b, float* out, void* workspace,
                                  std::size_t workspace_bytes, std::string& name) {
        int returned = 0;
        static const float one = 1.f, zero = 0.f;
        switch (pass) {
            case conv_pass::forward: {
                cudnnConvolutionFwdAlgoPerf_t perf[16];
                GANT_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(handle_, x_, a, w_, b, conv_, y_, out, 16,
                                                                        &returned, perf, workspace, workspace_bytes));
                const auto& best = first_ok(perf, returned);
                GANT_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, best.mathType));
                name = "fwd algo " + std::to_string(int(best.algo)) + math_name(best.mathType);
                const auto algo = best.algo;
                const std::size_t bytes = best.memory;
                return [=] {
                    GANT_CUDNN_CHECK(cudnnConvolutionForward(handle_, &one, x_, a, w_, b, conv_, algo, workspace, bytes,
                                                             &zero, y_, out));
                };
            }
            case conv_pass::backward_data: {
                cudnnConvolutionBwdDataAlgoPerf_t perf[16];
                GANT_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
                    handle_, w_, b, y_, a, conv_, x_, out, 16, &returned, perf, workspace, workspace_bytes));
                const auto& best = first_ok(perf, returned);
                GANT_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, best.mathType));
                name = "bwd-data algo " + std::to_string(int(best.algo)) + math_name(best.mathType);
                const auto algo = best.algo;
                const std::size_t bytes = best.memory;
                return [=] {
                    GANT_CUDNN_CHECK(cudnnConvolutionBackwardData(handle_, &one, w_, b, y_, a, conv_, algo, workspace,
                                                                  bytes, &zero, x_, out));
                };
            }
            case conv_pass::backward_filter: {
                cudnnConvolutionBwdFilterAlgoPerf_t perf[16];
                GANT_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                    handle_, x_, a, y_, b, conv_, w_, out, 16, &returned, perf, workspace, workspace_bytes));
                const auto& best = first_ok(perf, returned);
                GANT_CUDNN_CHECK(cudnnSetConvolutionMathType(conv_, best.mathType));
                name = "bwd-filter algo " + std::to_string(int(best.algo)) + math_name(best.mathType);
                const auto algo = best.algo;
                const std::size_t bytes = best.memory;
                return [=] {
                    GANT_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle_, &one, x_, a, y_, b, conv_, algo, workspace,
                                                                    bytes, &zero, w_, out));
                };
            }
        }
        throw std::runtime_error("unknown pass");
    }

private:
    template <class Perf>
    static const Perf& first_ok(const Perf* perf, int n) {
        for (int i = 0; i < n; ++i)
            if (perf[i].status == CUDNN_STATUS_SUCCESS) return perf[i];
        throw std::runtime_error("cuDNN Find returned no usable algorithm");
    }
    static std::string math_name(cudnnMathType_t m) {
        switch (m) {
            case CUDNN_DEFAULT_MATH: return " (default math)";
            case CUDNN_TENSOR_OP_MATH: return " (tensor-op math)";
            case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return " (tensor-op, conversion)";
            case CUDNN_FMA_MATH: return " (FMA math)";
        }
        return "";
    }

    cudnnHandle_t handle_;
    cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
    cudnnFilterDescriptor_t w_ = nullptr;
    cudnnConvolutionDescriptor_t conv_ = nullptr;
};
#endif

struct result {
    int network = 0, batch = 0;
    bool transposed = false;
    std::string layer;
    conv_pass pass = conv_pass::forward;  // the layer's pass
    double gflop = 0;
    double ours_us = NAN, best_us = NAN, cudnn_us = NAN, diff = NAN;
    double family_best_us[2] = {NAN, NAN};  // the sweep's best of the two-stage and of the pipelined kernel
    std::string ours_plan, best_plan, cudnn_algo;
};

std::string fmt(double v, int precision = 2) {
    if (std::isnan(v)) return "n/a";
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(precision);
    s << v;
    return s.str();
}

}  // namespace

/// The whole of `text` as an integer in [low, high], or false (atoi would read "x" as 0).
bool parse_int(const std::string& text, int low, int high, int& value) {
    std::size_t used = 0;
    try {
        const long v = std::stol(text, &used);
        if (used != text.size() || v < low || v > high) return false;
        value = int(v);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick")
            opt.quick = true;
        else if (a == "--no-sweep")
            opt.sweep = false;
        else if (a == "--budget" && i + 1 < argc)
            opt.budget_s = std::atof(argv[++i]);
        else if (a == "--table" && i + 1 < argc)
            opt.table = argv[++i];
        else if (a == "--only" && i + 1 < argc)
            opt.only = argv[++i];
        else if (a == "--pass" && i + 1 < argc) {
            opt.pass = argv[++i];
            if (opt.pass != "forward" && opt.pass != "backward-data" && opt.pass != "backward-filter") {
                std::cerr << "--pass must be forward, backward-data or backward-filter, not '" << opt.pass << "'\n";
                return 2;
            }
        } else if (a == "--batch" && i + 1 < argc) {
            if (!parse_int(argv[++i], 1, 1 << 20, opt.batch)) {
                std::cerr << "--batch must be a positive integer, not '" << argv[i] << "'\n";
                return 2;
            }
        } else if (a == "--config" && i + 1 < argc) {
            if (!parse_int(argv[++i], -1, config_count() - 1, opt.config)) {
                std::cerr << "--config must be -1 (the heuristic) or a configuration from 0 to " << config_count() - 1
                          << ", not '" << argv[i] << "'\n";
                return 2;
            }
        } else {
            std::cerr << "usage: " << argv[0]
                      << " [--quick] [--no-sweep] [--budget SECONDS] [--table FILE] [--only LAYER] [--pass PASS] [--batch N]"
                         " [--config C]\n";
            return 2;
        }
    }
    if (device_count() == 0) {
        std::cout << "no CUDA device: skipped (" << no_device_reason() << ")" << std::endl;
        return 77;
    }
    const auto started = clock_type::now();
    auto elapsed_s = [&] { return std::chrono::duration<double>(clock_type::now() - started).count(); };
    try {
        int runtime = 0, driver = 0;
        GANT_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
        GANT_CUDA_CHECK(cudaDriverGetVersion(&driver));
        std::cout << "device: " << describe_current_device() << "; CUDA runtime " << runtime << ", driver " << driver;
#if defined(GANT_BENCH_HAVE_CUDNN)
        std::cout << "; cuDNN " << cudnnGetVersion() << " (built against " << CUDNN_VERSION << ")" << std::endl;
        cudnnHandle_t handle = nullptr;
        try {  // without a working cuDNN, gant's kernels are still timed
            GANT_CUDNN_CHECK(cudnnCreate(&handle));
        } catch (const std::exception& e) {
            std::cout << "cuDNN unusable, timing gant's kernels only: " << e.what() << std::endl;
            handle = nullptr;
        }
#else
        std::cout << "; cuDNN: not found at build time, gant's kernels only" << std::endl;
#endif
        stream s;
#if defined(GANT_BENCH_HAVE_CUDNN)
        if (handle) GANT_CUDNN_CHECK(cudnnSetStream(handle, s));
        const std::size_t workspace_bytes = std::size_t(1) << 30;
        device_buffer<unsigned char> cudnn_workspace(workspace_bytes, s);
#endif

        // Inputs: slices of one random pool (read-only, so they may overlap); outputs separate.
        std::vector<int> batches{64, 256};
        std::vector<int> networks{28, 64};
        if (opt.quick) batches = {64};
        if (opt.batch > 0) batches = {opt.batch};
        std::size_t largest = 0;
        for (int n : networks)
            for (int b : batches) {
                for (const auto& c : gant::cuda::testing::dcgan_convs(n, b))
                    largest = std::max({largest, std::size_t(c.problem.input_size()), std::size_t(c.problem.output_size()),
                                        std::size_t(c.problem.weight_size())});
                for (const auto& t : gant::cuda::testing::dcgan_conv_transposes(n, b)) {
                    const conv2d_problem p = t.problem.adjoint();
                    largest = std::max({largest, std::size_t(p.input_size()), std::size_t(p.output_size()),
                                        std::size_t(p.weight_size())});
                }
            }
        std::vector<float> host(largest);
        std::mt19937 rng(2024);
        std::uniform_real_distribution<float> u(-1.f, 1.f);
        for (float& v : host) v = u(rng);
        device_buffer<float> pool(largest, s), out_ours(largest, s), out_cudnn(largest, s);
        pool.copy_from_host(host);

        std::vector<result> results;
        std::cout << "\nper layer (us per pass; ratio = ours/cuDNN throughput, >1 means gant is faster):\n";
        for (int network : networks)
            for (int batch : batches) {
                std::vector<std::pair<named_conv, bool>> layers;
                for (const auto& c : gant::cuda::testing::dcgan_convs(network, batch)) layers.push_back({c, false});
                for (const auto& t : gant::cuda::testing::dcgan_conv_transposes(network, batch))
                    layers.push_back({named_conv{t.name, t.problem.adjoint()}, true});
                for (const auto& [layer, transposed] : layers) {
                    if (layer.name.find(opt.only) == std::string::npos) continue;
                    const conv2d_problem& p = layer.problem;
#if defined(GANT_BENCH_HAVE_CUDNN)
                    std::unique_ptr<cudnn_conv> peer;
                    try {
                        if (handle) peer = std::make_unique<cudnn_conv>(handle, p);
                    } catch (const std::exception& e) {
                        std::cout << "  cuDNN descriptors failed for " << layer.name << ": " << e.what() << std::endl;
                    }
#endif
                    for (conv_pass lp : {conv_pass::forward, conv_pass::backward_data, conv_pass::backward_filter}) {
                        if (!opt.pass.empty() && opt.pass != pass_label(lp)) continue;
                        const conv_pass kp = kernel_pass(transposed, lp);
                        result r;
                        r.network = network;
                        r.batch = batch;
                        r.transposed = transposed;
                        r.layer = layer.name;
                        r.pass = lp;
                        r.gflop = p.flops() * 1e-9;
                        const float* a = pool.data();
                        const float* b = pool.data();
                        std::size_t out_size = 0;
                        switch (kp) {
                            case conv_pass::forward: out_size = std::size_t(p.output_size()); break;
                            case conv_pass::backward_data: out_size = std::size_t(p.input_size()); break;
                            case conv_pass::backward_filter: out_size = std::size_t(p.weight_size()); break;
                        }
                        auto ours = [&](const kernel_choice& choice, float* out) {
                            return [=, &s] {
                                switch (kp) {
                                    case conv_pass::forward: conv2d_forward(p, a, b, out, {}, s, choice); break;
                                    case conv_pass::backward_data: conv2d_backward_data(p, a, b, out, {}, s, choice); break;
                                    case conv_pass::backward_filter:
                                        conv2d_backward_filter(p, a, b, out, 1.f, 0.f, s, choice);
                                        break;
                                }
                            };
                        };
                        const kernel_choice chosen{opt.config, opt.config >= 0 ? 1 : 0};
                        try {
                            r.ours_plan = plan_conv2d(p, kp, chosen).describe();
                            r.ours_us = time_us(ours(chosen, out_ours.data()), s, 7);
                            r.best_us = r.ours_us;
                            r.best_plan = "(heuristic)";
                            if (opt.sweep && elapsed_s() < opt.budget_s) {
                                std::map<std::pair<int, int>, bool> seen;
                                for (int config = 0; config < config_count(); ++config)
                                    for (int splits : {1, 2, 4, 8, 16, 32}) {
                                        const kernel_plan plan = plan_conv2d(p, kp, {config, splits});
                                        if (seen[{plan.config, plan.splits}]) continue;
                                        seen[{plan.config, plan.splits}] = true;
                                        const double us = time_us(ours({config, splits}, out_ours.data()), s, 3, 1.0);
                                        double& family = r.family_best_us[config_pipelined(config) ? 1 : 0];
                                        if (std::isnan(family) || us < family) family = us;
                                        if (us < r.best_us) {
                                            r.best_us = us;
                                            r.best_plan = plan.describe();
                                        }
                                    }
                            }
                        } catch (const std::exception& e) {
                            std::cout << "  gant failed on " << layer.name << " " << pass_label(lp) << ": " << e.what()
                                      << std::endl;
                        }
#if defined(GANT_BENCH_HAVE_CUDNN)
                        if (peer) try {
                            const std::function<void()> peer_launch = peer->prepare(
                                kp, a, b, out_cudnn.data(), cudnn_workspace.data(), workspace_bytes, r.cudnn_algo);
                            r.cudnn_us = time_us(peer_launch, s, 7);
                            // The two results of the same pass, side by side.
                            ours(chosen, out_ours.data())();
                            peer_launch();
                            std::vector<float> mine(out_size), theirs(out_size);
                            out_ours.copy_to_host(mine.data(), out_size);
                            out_cudnn.copy_to_host(theirs.data(), out_size);
                            r.diff = relative_l2(mine, theirs);
                        } catch (const std::exception& e) {
                            std::cout << "  cuDNN failed on " << layer.name << " " << pass_label(lp) << ": " << e.what()
                                      << std::endl;
                        }
#endif
                        const double tf = r.gflop * 1e-3 / (r.ours_us * 1e-6);
                        std::cout << "  " << network << "x" << network << " N=" << batch << " " << layer.name << " "
                                  << pass_label(lp) << ": " << fmt(r.gflop, 3) << " GFLOP | ours " << fmt(r.ours_us, 1)
                                  << " us " << fmt(tf, 1) << " TFLOP/s [" << r.ours_plan << "] | best "
                                  << fmt(r.best_us, 1) << " us [" << r.best_plan << "] | cuDNN " << fmt(r.cudnn_us, 1)
                                  << " us " << fmt(r.gflop * 1e-3 / (r.cudnn_us * 1e-6), 1) << " TFLOP/s ["
                                  << r.cudnn_algo << "] | ratio " << fmt(r.cudnn_us / r.ours_us) << " (best "
                                  << fmt(r.cudnn_us / r.best_us) << "; two-stage " << fmt(r.cudnn_us / r.family_best_us[0])
                                  << ", pipelined " << fmt(r.cudnn_us / r.family_best_us[1]) << ") | rel diff "
                                  << fmt(r.diff * 1e4, 2) << "e-4"
                                  << std::endl;
                        results.push_back(r);
                    }
                }
            }
#if defined(GANT_BENCH_HAVE_CUDNN)
        if (handle) cudnnDestroy(handle);
#endif

        // Summary: per network, batch and path, the layers' times summed (TFLOP/s = all their
        // FLOPs over all their time), and the worst single layer's ratio.
        std::ostringstream table;
        table << "| net | batch | path | ours TFLOP/s | cuDNN TFLOP/s | ours/cuDNN | best cfg/cuDNN | best two-stage/cuDNN "
                 "| best pipelined/cuDNN | worst layer |\n"
              << "|---|---|---|---|---|---|---|---|---|---|\n";
        double all_ours = 0, all_best = 0, all_cudnn = 0, all_flop = 0, all_family[2] = {0, 0};
        for (int network : networks)
            for (int batch : batches)
                for (bool transposed : {false, true})
                    for (conv_pass lp : {conv_pass::forward, conv_pass::backward_data, conv_pass::backward_filter}) {
                        double flop = 0, ours = 0, best = 0, peer = 0, worst = INFINITY, family[2] = {0, 0};
                        for (const result& r : results)
                            if (r.network == network && r.batch == batch && r.transposed == transposed && r.pass == lp) {
                                flop += r.gflop;
                                ours += r.ours_us;
                                best += r.best_us;
                                peer += r.cudnn_us;
                                for (int f = 0; f < 2; ++f) family[f] += r.family_best_us[f];
                                if (!std::isnan(r.cudnn_us / r.ours_us)) worst = std::min(worst, r.cudnn_us / r.ours_us);
                            }
                        if (flop == 0) continue;
                        all_flop += flop;
                        all_ours += ours;
                        all_best += best;
                        all_cudnn += peer;
                        for (int f = 0; f < 2; ++f) all_family[f] += family[f];
                        table << "| " << network << "x" << network << " | " << batch << " | "
                              << (transposed ? "convT " : "conv ") << pass_label(lp) << " | "
                              << fmt(flop * 1e-3 / (ours * 1e-6), 1) << " | " << fmt(flop * 1e-3 / (peer * 1e-6), 1)
                              << " | " << fmt(peer / ours) << " | " << fmt(peer / best) << " | " << fmt(peer / family[0])
                              << " | " << fmt(peer / family[1]) << " | " << fmt(std::isinf(worst) ? NAN : worst) << " |\n";
                    }
        table << "| all | | all paths | " << fmt(all_flop * 1e-3 / (all_ours * 1e-6), 1) << " | "
              << fmt(all_flop * 1e-3 / (all_cudnn * 1e-6), 1) << " | " << fmt(all_cudnn / all_ours) << " | "
              << fmt(all_cudnn / all_best) << " | " << fmt(all_cudnn / all_family[0]) << " | "
              << fmt(all_cudnn / all_family[1]) << " | |\n";
        std::cout << "\nbenchmark took " << fmt(elapsed_s(), 1) << " s\n\nsummary (" << describe_current_device()
                  << "; TF32 both sides; ratio = ours/cuDNN throughput):\n"
                  << table.str() << std::flush;
        if (!opt.table.empty()) {
            std::ofstream f(opt.table);
            f << "gant CUDA conv vs cuDNN, " << describe_current_device() << "\n\n" << table.str();
        }
    } catch (const std::exception& e) {
        std::cout << "benchmark failed: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
