// gant_bench_eval: how long scoring N generated images takes (issue: 10,000 in under 30 s on two
// cores), split into its parts: the classifier's features for the reference and the samples, FD,
// KID (100 subsets of 1,000), precision/recall/density/coverage, the classifier score.
//
//   gant_bench_eval [--n 10000] [--threads 2] [--json]
//
// The peer, measured in the same run: the three raw float64 GEMMs of the k-NN distance matrices
// (reference x reference, samples x samples, reference x samples), which the PRDC pass cannot beat;
// "prdc / gemm" says what the radius search and the ball tests add on top.
//
// The weights are random and the images noise: the cost of every part depends on the sizes only
// (no data-dependent early exits), so no dataset or weights file is needed.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/threads.hpp"
#include "gant/metrics/classifier.hpp"
#include "gant/metrics/classifier_score.hpp"
#include "gant/metrics/frechet.hpp"
#include "gant/metrics/kid.hpp"
#include "gant/metrics/prdc.hpp"

extern "C" char* openblas_get_corename();

namespace {

using namespace gant;

double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct timing {
    const char* part;
    double wall, cpu;
};

template <class F>
timing measure(const char* part, F&& f) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    f();
    return {part, std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count(), cpu_seconds() - c0};
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 10000, threads = 2;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--n") && i + 1 < argc) n = std::strtoul(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::strtoul(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--json")) json = true;
        else {
            std::fprintf(stderr, "usage: gant_bench_eval [--n N] [--threads T] [--json]\n");
            return 2;
        }
    }
    if (n < 1000) n = 1000;
    set_num_threads(threads);

    rng r(1);
    metrics::classifier<float> clf;
    clf.initialize(r);
    tensor<float> reference = tensor<float>::from_shape({n, 784}), samples = tensor<float>::from_shape({n, 784});
    for (auto& v : reference) v = float(r.uniform(-1.0, 1.0));
    for (auto& v : samples) v = float(r.uniform(-1.0, 1.0));

    std::vector<timing> t;
    tensor<float> ref_features, features, logits;
    metrics::gaussian_fit ref_gaussian;
    metrics::prdc_reference ref_prdc;
    // Once per reference set (gant_eval does it on every run; a training loop that evaluates
    // repeatedly keeps the evaluator).
    t.push_back(measure("reference features", [&] { clf.embed(reference, &ref_features, nullptr); }));
    t.push_back(measure("reference gaussian + k-NN radii", [&] {
        ref_gaussian = metrics::fit_gaussian(ref_features);
        ref_prdc = metrics::prdc_reference(ref_features);
    }));
    // Per scored set.
    double fd = 0, kid = 0;
    metrics::prdc_result p;
    metrics::class_statistics c;
    t.push_back(measure("sample features + logits", [&] { clf.embed(samples, &features, &logits); }));
    t.push_back(measure("fd", [&] { fd = metrics::frechet_distance(ref_gaussian, metrics::fit_gaussian(features)); }));
    t.push_back(measure("kid (100 x 1000)", [&] { kid = metrics::kernel_inception_distance(ref_features, features).mean; }));
    t.push_back(measure("prdc (samples)", [&] { p = metrics::prdc(ref_prdc, features); }));
    t.push_back(measure("classifier score", [&] { c = metrics::classifier_statistics(logits); }));

    // The peer: the three raw n x n x 128 float64 GEMMs of the distance matrices, in row blocks of
    // 128 as the PRDC pass does them (one block per call, the pool's workers in parallel).
    const metrics::point_set a(ref_features), b(features);
    const timing gemm = measure("peer: 3 distance dgemms", [&] {
        for (int rep = 0; rep < 3; ++rep)
            default_pool().parallel_for((n + 127) / 128, [&](std::size_t first, std::size_t last, std::size_t) {
                std::vector<double> block(128 * n);
                for (std::size_t blk = first; blk < last; ++blk) {
                    const std::size_t rows = std::min<std::size_t>(128, n - blk * 128);
                    blas::gemm(blas::op::none, blas::op::transpose, rows, n, 128, -2.0, a.x.data() + blk * 128 * 128, 128,
                               b.x.data(), 128, 0.0, block.data(), n);
                }
            });
    });

    double total_wall = 0, total_cpu = 0, per_set_wall = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        total_wall += t[i].wall;
        total_cpu += t[i].cpu;
        if (i >= 2) per_set_wall += t[i].wall;
    }
    const double prdc_wall = t[1].wall + t[5].wall;  // reference radii are 2 of the 3 distance passes
    if (json) {
        std::printf("{\"n\": %zu, \"threads\": %zu, \"blas_core\": \"%s\"", n, threads, openblas_get_corename());
        for (const auto& x : t) std::printf(", \"%s\": %.3f", x.part, x.wall);
        std::printf(", \"total_seconds\": %.3f, \"per_set_seconds\": %.3f, \"peer_gemm_seconds\": %.3f, \"prdc_over_gemm\": %.3f}\n",
                    total_wall, per_set_wall, gemm.wall, prdc_wall / gemm.wall);
        return 0;
    }
    std::printf("gant_bench_eval: scoring %zu images against %zu, %zu thread(s), OpenBLAS core %s\n\n", n, n, threads,
                openblas_get_corename());
    std::printf("| part                             | wall s | cpu s  |\n|----------------------------------|--------|--------|\n");
    for (const auto& x : t) std::printf("| %-32s | %6.2f | %6.2f |\n", x.part, x.wall, x.cpu);
    std::printf("| %-32s | %6.2f | %6.2f |\n", "total", total_wall, total_cpu);
    std::printf("| %-32s | %6.2f | %6.2f |\n\n", gemm.part, gemm.wall, gemm.cpu);
    std::printf("per scored set (reference prepared): %.2f s; whole gant_eval-like run: %.2f s (budget 30 s)\n",
                per_set_wall, total_wall);
    std::printf("k-NN passes (reference radii + prdc) / raw distance dgemms: %.2f\n", prdc_wall / gemm.wall);
    std::printf("(checks: fd %.4g, kid %.4g, precision %.3f, score %.3f)\n", fd, kid, p.precision, c.score);
    return 0;
}
