// Convolution throughput at the DCGAN shapes, against OpenBLAS's own sgemm rate measured in the
// same process: forward, backward-data and backward-filter of conv2d and conv_transpose2d, in
// float, batch 64, at 1 and 2 threads. A conv can at best run at the rate of the GEMM inside it,
// so "% of sgemm" says how much the lowering (im2col / col2im, layout moves, narrow products)
// costs. Run it as
//     env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./gant_bench_conv [--json] [--reps N]
// so OpenBLAS picks its kernels the same way for the reference product and for the layers.
//
// Before timing anything it checks one forward of each layer and one weight gradient against
// direct loops and aborts on a mismatch: a fast wrong kernel is not a result.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/conv_transpose2d.hpp"

extern "C" char* openblas_get_corename();

namespace {

using clock_type = std::chrono::steady_clock;
using namespace gant;

struct options {
    bool json = false;
    std::size_t reps = 11;
    std::size_t warmup = 3;
    std::size_t batch = 64;
    std::size_t fold = detail::default_fold_columns;
    bool cpu_time = false;      // process CPU time instead of wall time (1 thread only)
    std::string only;           // run only layers whose label contains this
};

struct record {
    std::string group, layer, op;
    std::size_t threads;
    double ms, gflops, percent;
    double sgemm;  // the reference rate measured just before this layer, same thread count
};

double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

template <class F>
double median_seconds(const options& o, F&& f) {
    // Warm up for at least warmup runs and 0.2 s, so caches, page mappings and clock speed settle.
    const auto warm_start = clock_type::now();
    for (std::size_t i = 0; i < o.warmup || clock_type::now() - warm_start < std::chrono::milliseconds(200); ++i) f();
    std::vector<double> t;
    for (std::size_t i = 0; i < o.reps; ++i) {
        if (o.cpu_time) {
            const double start = cpu_seconds();
            f();
            t.push_back(cpu_seconds() - start);
            continue;
        }
        const auto start = clock_type::now();
        f();
        t.push_back(std::chrono::duration<double>(clock_type::now() - start).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// The reference: a square 1024 sgemm on `threads` OpenBLAS threads.
class sgemm_reference {
public:
    sgemm_reference() : a_(n * n), b_(n * n), c_(n * n) {
        rng r(3);
        for (auto& v : a_) v = float(r.normal());
        for (auto& v : b_) v = float(r.normal());
    }
    double gflops(const options& o, int threads) {
        blas::set_threads(threads);
        const double s = median_seconds(o, [&] {
            // OpenBLAS itself, not blas::gemm (which runs gant's own kernels where the CPU has them).
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0f, a_.data(), int(n),
                        b_.data(), int(n), 0.0f, c_.data(), int(n));
        });
        blas::set_threads(1);
        return 2.0 * double(n * n * n) / s * 1e-9;
    }

private:
    static constexpr std::size_t n = 1024;
    std::vector<float> a_, b_, c_;
};

void fill(tensor<float>& t, rng& r, double scale) {
    for (auto& v : t) v = float(r.normal() * scale);
}

// ---- correctness gate ---------------------------------------------------------------------

[[noreturn]] void fail(const char* what, double err) {
    std::fprintf(stderr, "gant_bench_conv: %s differs from the direct loop (max error %g); aborting\n", what, err);
    std::abort();
}

void check_against_loops() {
    constexpr std::size_t N = 3, C = 3, O = 5, K = 4, S = 2, P = 1, H = 9, W = 7;
    constexpr std::size_t OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
    rng r(17);
    pass_context ctx;

    // conv2d forward and weight gradient
    conv2d<C, O, K, S, P>::impl<image<C, H, W>, float, backend::cpu> conv;
    for (auto& v : conv.weight().value) v = float(r.normal());
    for (auto& v : conv.bias().value) v = float(r.normal());
    tensor<float> x({N, C * H * W}), y({N, O * OH * OW}), dy({N, O * OH * OW});
    fill(x, r, 1.0);
    fill(dy, r, 1.0);
    conv.forward(x, y, ctx);
    conv.weight().zero_grad();
    conv.backward(x, y, dy, nullptr, true, ctx);
    auto at = [&](std::size_t n, std::size_t c, long iy, long ix) -> double {
        if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W)) return 0.0;
        return x(n, (c * H + std::size_t(iy)) * W + std::size_t(ix));
    };
    double err = 0;
    std::vector<double> wgrad(O * C * K * K, 0.0);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t oy = 0; oy < OH; ++oy)
                for (std::size_t ox = 0; ox < OW; ++ox) {
                    double acc = conv.bias().value(o);
                    const double g = dy(n, (o * OH + oy) * OW + ox);
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t ky = 0; ky < K; ++ky)
                            for (std::size_t kx = 0; kx < K; ++kx) {
                                const double v = at(n, c, long(oy * S + ky) - long(P), long(ox * S + kx) - long(P));
                                acc += conv.weight().value(((o * C + c) * K + ky) * K + kx) * v;
                                wgrad[((o * C + c) * K + ky) * K + kx] += g * v;
                            }
                    err = std::max(err, std::abs(acc - y(n, (o * OH + oy) * OW + ox)));
                }
    if (err > 1e-4) fail("conv2d forward", err);
    err = 0;
    for (std::size_t i = 0; i < wgrad.size(); ++i) err = std::max(err, std::abs(wgrad[i] - conv.weight().grad(i)));
    if (err > 1e-3) fail("conv2d weight gradient", err);

    // conv_transpose2d forward: every input pixel scatters its weighted kernel
    conv_transpose2d<C, O, K, S, P>::impl<image<C, H, W>, float, backend::cpu> convt;
    constexpr std::size_t TH = (H - 1) * S + K - 2 * P, TW = (W - 1) * S + K - 2 * P;
    for (auto& v : convt.weight().value) v = float(r.normal());
    for (auto& v : convt.bias().value) v = float(r.normal());
    tensor<float> ty({N, O * TH * TW});
    convt.forward(x, ty, ctx);
    std::vector<double> want(N * O * TH * TW);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t p = 0; p < TH * TW; ++p) want[(n * O + o) * TH * TW + p] = convt.bias().value(o);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t iy = 0; iy < H; ++iy)
                for (std::size_t ix = 0; ix < W; ++ix)
                    for (std::size_t o = 0; o < O; ++o)
                        for (std::size_t ky = 0; ky < K; ++ky)
                            for (std::size_t kx = 0; kx < K; ++kx) {
                                const long oy = long(iy * S + ky) - long(P), ox = long(ix * S + kx) - long(P);
                                if (oy < 0 || ox < 0 || oy >= long(TH) || ox >= long(TW)) continue;
                                want[((n * O + o) * TH + std::size_t(oy)) * TW + std::size_t(ox)] +=
                                    convt.weight().value(((c * O + o) * K + ky) * K + kx) *
                                    x(n, (c * H + iy) * W + ix);
                            }
    err = 0;
    for (std::size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(want[i] - ty.data()[i]));
    if (err > 1e-4) fail("conv_transpose2d forward", err);
}

// ---- timing ---------------------------------------------------------------------------------

// Times one layer's three passes at 1 and 2 threads. The sgemm reference is measured again right
// before each thread count's passes: on a shared VM the machine's speed drifts by tens of percent
// within a run, and a ratio is only meaningful when both sides saw the same machine.
template <class Desc, class In>
void bench_layer(const options& o, const char* group, const char* label, sgemm_reference& reference,
                 std::vector<record>& out) {
    if (!o.only.empty() && (std::string(group) + " " + label).find(o.only) == std::string::npos) return;
    using impl = typename Desc::template impl<In, float, backend::cpu>;
    using Out = typename impl::output_shape;
    impl layer;
    layer.set_fold_columns(o.fold);
    rng r(5);
    for (auto& v : layer.weight().value) v = float(r.normal(0.0, 0.02));
    tensor<float> x({o.batch, In::size}), y({o.batch, Out::size}), dy({o.batch, Out::size}), dx({o.batch, In::size});
    fill(x, r, 1.0);
    fill(dy, r, 1.0);
    // One pass multiplies every weight with every pixel of the conv's small grid: the output of a
    // conv2d, the input of a conv_transpose2d; geometry() names that grid in both layers.
    const double flops = 2.0 * double(layer.weight().size()) * double(impl::geometry().out_pixels()) * double(o.batch);
    // One pool per thread count, made once: gant parallelises over the batch with OpenBLAS pinned
    // to one thread, as set_num_threads does (pools are not resized between layers).
    static thread_pool pools[3] = {thread_pool(1), thread_pool(1), thread_pool(2)};
    blas::set_threads(1);
    for (std::size_t threads : {std::size_t(1), std::size_t(2)}) {
        if (o.cpu_time && threads > 1) break;
        pass_context ctx;
        ctx.pool = &pools[threads];
        const double sgemm = reference.gflops(o, int(threads));
        auto run = [&](const char* op, auto&& f) {
            const double s = median_seconds(o, f);
            const double g = flops / s * 1e-9;
            out.push_back({group, label, op, threads, s * 1e3, g, 100.0 * g / sgemm, sgemm});
        };
        run("forward", [&] { layer.forward(x, y, ctx); });
        run("backward-data", [&] { layer.backward(x, y, dy, &dx, false, ctx); });
        run("backward-filter", [&] {
            layer.weight().zero_grad();
            layer.backward(x, y, dy, nullptr, true, ctx);
        });
    }
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::size_t {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "gant_bench_conv: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return std::size_t(std::strtoull(argv[++i], nullptr, 10));
        };
        if (a == "--json")
            o.json = true;
        else if (a == "--reps")
            o.reps = std::max<std::size_t>(1, value());
        else if (a == "--batch")
            o.batch = std::max<std::size_t>(1, value());
        else if (a == "--fold")
            o.fold = value();
        else if (a == "--cpu-time")
            o.cpu_time = true;
        else if (a == "--only" && i + 1 < argc)
            o.only = argv[++i];
        else {
            std::printf("usage: gant_bench_conv [--json] [--reps N] [--batch B] [--fold COLUMNS] [--only TEXT] "
                        "[--cpu-time]\n"
                        "  --fold: GEMM width that samples are folded up to (0: one sample per GEMM; default %zu)\n"
                        "  --only: time only the layers whose group and label contain TEXT\n"
                        "  --cpu-time: time with process CPU time, 1 thread only (steadier on a loaded machine;\n"
                        "              says nothing about thread scaling)\n",
                        detail::default_fold_columns);
            return a == "--help" ? 0 : 2;
        }
    }
    // Reused buffers only: keep glibc from returning large blocks to the OS between repetitions
    // (first-touch page faults cost more than the kernels on these VMs; docs: toolchain notes).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);

    check_against_loops();

    sgemm_reference sgemm;
    std::vector<record> rec;
    // 28x28 (InfoGAN-style DCGAN for MNIST / Fashion-MNIST), no biases (batch norm follows)
    bench_layer<conv2d<1, 64, 4, 2, 1, false>, image<1, 28, 28>>(o, "28x28 critic", "conv 1->64 28x28", sgemm, rec);
    bench_layer<conv2d<64, 128, 4, 2, 1, false>, image<64, 14, 14>>(o, "28x28 critic", "conv 64->128 14x14", sgemm, rec);
    bench_layer<conv_transpose2d<128, 64, 4, 2, 1, false>, image<128, 7, 7>>(o, "28x28 generator",
                                                                              "convT 128->64 7x7", sgemm, rec);
    bench_layer<conv_transpose2d<64, 1, 4, 2, 1, false>, image<64, 14, 14>>(o, "28x28 generator", "convT 64->1 14x14",
                                                                            sgemm, rec);
    // 64x64 (pytorch/examples DCGAN, ndf = ngf = 64, nc = 3): the strided layers
    bench_layer<conv2d<3, 64, 4, 2, 1, false>, image<3, 64, 64>>(o, "64x64 critic", "conv 3->64 64x64", sgemm, rec);
    bench_layer<conv2d<64, 128, 4, 2, 1, false>, image<64, 32, 32>>(o, "64x64 critic", "conv 64->128 32x32", sgemm, rec);
    bench_layer<conv2d<128, 256, 4, 2, 1, false>, image<128, 16, 16>>(o, "64x64 critic", "conv 128->256 16x16", sgemm,
                                                                      rec);
    bench_layer<conv2d<256, 512, 4, 2, 1, false>, image<256, 8, 8>>(o, "64x64 critic", "conv 256->512 8x8", sgemm, rec);
    bench_layer<conv_transpose2d<512, 256, 4, 2, 1, false>, image<512, 4, 4>>(o, "64x64 generator",
                                                                              "convT 512->256 4x4", sgemm, rec);
    bench_layer<conv_transpose2d<256, 128, 4, 2, 1, false>, image<256, 8, 8>>(o, "64x64 generator",
                                                                              "convT 256->128 8x8", sgemm, rec);
    bench_layer<conv_transpose2d<128, 64, 4, 2, 1, false>, image<128, 16, 16>>(o, "64x64 generator",
                                                                               "convT 128->64 16x16", sgemm, rec);
    bench_layer<conv_transpose2d<64, 3, 4, 2, 1, false>, image<64, 32, 32>>(o, "64x64 generator",
                                                                            "convT 64->3 32x32", sgemm, rec);

    const char* core = openblas_get_corename();
    if (o.json) {
        std::printf("{\n  \"openblas_core\": \"%s\",\n  \"batch\": %zu,\n  \"reps\": %zu,\n  \"fold_columns\": %zu,\n  \"clock\": \"%s\",\n",
                    core, o.batch, o.reps, o.fold, o.cpu_time ? "process_cpu" : "wall");
        std::printf("  \"results\": [\n");
        for (std::size_t i = 0; i < rec.size(); ++i) {
            const auto& e = rec[i];
            std::printf("    {\"group\": \"%s\", \"layer\": \"%s\", \"op\": \"%s\", \"threads\": %zu, \"ms\": %.4f, "
                        "\"gflops\": %.2f, \"sgemm_gflops\": %.2f, \"percent_of_sgemm\": %.1f}%s\n",
                        e.group.c_str(), e.layer.c_str(), e.op.c_str(), e.threads, e.ms, e.gflops, e.sgemm, e.percent,
                        i + 1 < rec.size() ? "," : "");
        }
        std::printf("  ]\n}\n");
        return 0;
    }
    std::printf("gant_bench_conv: float, batch %zu, median of %zu after %zu warm-up, OpenBLAS core %s, fold %zu%s\n",
                o.batch, o.reps, o.warmup, core, o.fold, o.cpu_time ? ", CPU time" : "");
    std::printf("%% of sgemm: gant at T pool threads (OpenBLAS pinned to 1) against a 1024x1024x1024 sgemm at T\n"
                "OpenBLAS threads, measured just before each layer (ref = that rate, GFLOP/s).\n\n");
    std::printf("%-16s %-20s %-16s %7s %7s %7s %6s %7s %7s %7s %6s %7s\n", "group", "layer", "op", "1T ms",
                "1T GF/s", "1T ref", "1T %", "2T ms", "2T GF/s", "2T ref", "2T %", "speedup");
    for (std::size_t i = 0; i < rec.size(); ++i) {
        const auto& a = rec[i];
        if (a.threads != 1) continue;
        const record* b = nullptr;
        for (const auto& e : rec)
            if (e.threads == 2 && e.layer == a.layer && e.op == a.op) b = &e;
        if (!b) {
            std::printf("%-16s %-20s %-16s %7.2f %7.1f %7.1f %5.0f%%\n", a.group.c_str(), a.layer.c_str(),
                        a.op.c_str(), a.ms, a.gflops, a.sgemm, a.percent);
            continue;
        }
        std::printf("%-16s %-20s %-16s %7.2f %7.1f %7.1f %5.0f%% %7.2f %7.1f %7.1f %5.0f%% %7.2f\n", a.group.c_str(),
                    a.layer.c_str(), a.op.c_str(), a.ms, a.gflops, a.sgemm, a.percent, b->ms, b->gflops, b->sgemm,
                    b->percent, a.ms / b->ms);
    }
    return 0;
}
