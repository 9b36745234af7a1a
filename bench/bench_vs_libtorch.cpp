// gant against libtorch on whole GAN training iterations (issue 6), both in this one process:
//
//   dcgan28    gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::non_saturating>
//   wgan_gp28  the same shapes with loss::wasserstein + lipschitz::gradient_penalty (the critic's
//              batch_norm becomes layer_norm; n_critic = 5 critic steps with the exact penalty)
//   dcgan64    gan<topology::dcgan<image<3, 64, 64>, shape<100>>, loss::non_saturating>
//
// One "iteration" is one train_step: n_critic critic steps and one generator step, batch 64, Adam
// with the gan's default_hyper_parameters(). The libtorch peers (peers/libtorch_peer.cpp) do the
// same work with the same sizes, initialisation family and optimiser settings.
//
// Timing: after warm-up, gant and libtorch run alternately (A B A B ...), so both see the same
// machine: on a shared 2-vCPU VM the speed drifts by tens of percent within a minute, and the
// ratio of two medians taken minutes apart would measure the drift. Run it as
//     env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./gant_bench_vs_libtorch [--json]
// so OpenBLAS picks its kernels from the CPU it runs on (the environment's overrides are for
// other jobs).
//
// Heap accounting: this file replaces malloc and friends (glibc only) so that every heap
// allocation of the process is seen: gant's tensors (std::allocator -> operator new -> malloc),
// libtorch's tensor storage (c10's CPU allocator calls posix_memalign, not operator new), autograd
// nodes, oneDNN's scratch memory. allocations_per_step counts calls made while gant's step runs;
// the peak is the high-water mark of live bytes above the level before a model was built.
#include <execinfo.h>
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "peers/libtorch_peer.hpp"

extern "C" char* openblas_get_corename();

// ---- heap accounting ------------------------------------------------------------------------

namespace heap {
using i64 = long long;
std::atomic<bool> counting{false};           // set around gant's step only
std::atomic<std::size_t> calls{0};           // allocation calls while counting
std::atomic<i64> live{0}, peak{0};     // bytes (malloc_usable_size), every thread

// GANT_BENCH_TRACE_ALLOCATIONS=1 prints the call stack of every allocation counted in gant's
// step to stderr, to find what still allocates (addresses: addr2line -f -C -e <binary>).
bool trace = false;
thread_local bool in_trace = false;
inline void print_stack() {
    if (in_trace) return;  // backtrace itself may allocate once
    in_trace = true;
    void* frames[24];
    const int n = backtrace(frames, 24);
    const char line[] = "---- allocation in gant's step:\n";
    (void)!write(2, line, sizeof line - 1);
    backtrace_symbols_fd(frames, n, 2);  // writes straight to the fd, no malloc
    in_trace = false;
}

inline void grew(void* p) {
    if (!p) return;
    const i64 size = i64(malloc_usable_size(p));
    const i64 now = live.fetch_add(size, std::memory_order_relaxed) + size;
    i64 high = peak.load(std::memory_order_relaxed);
    while (now > high && !peak.compare_exchange_weak(high, now, std::memory_order_relaxed)) {
    }
    if (counting.load(std::memory_order_relaxed)) {
        calls.fetch_add(1, std::memory_order_relaxed);
        if (trace) print_stack();
    }
}
inline void shrank(void* p) {
    if (p) live.fetch_sub(i64(malloc_usable_size(p)), std::memory_order_relaxed);
}
/// Starts a high-water mark at the current level; returns that level.
inline long long restart_peak() {
    const long long now = live.load();
    peak.store(now);
    return now;
}
}  // namespace heap

// Sanitizers bring their own allocator; the accounting is off there (and off the glibc path).
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define GANT_BENCH_COUNTS_HEAP 1
extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) noexcept {
    void* p = __libc_malloc(n);
    heap::grew(p);
    return p;
}
void free(void* p) noexcept {
    heap::shrank(p);
    __libc_free(p);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    void* p = __libc_calloc(n, size);
    heap::grew(p);
    return p;
}
void* realloc(void* p, std::size_t n) noexcept {
    const heap::i64 before = p ? heap::i64(malloc_usable_size(p)) : 0;
    void* q = __libc_realloc(p, n);
    if (q || n == 0) heap::live.fetch_sub(before, std::memory_order_relaxed);  // p is gone (or failed: kept)
    heap::grew(q);
    return q;
}
void* memalign(std::size_t alignment, std::size_t n) noexcept {
    void* p = __libc_memalign(alignment, n);
    heap::grew(p);
    return p;
}
void* aligned_alloc(std::size_t alignment, std::size_t n) noexcept { return memalign(alignment, n); }
int posix_memalign(void** out, std::size_t alignment, std::size_t n) noexcept {
    if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void* p = memalign(alignment, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void* valloc(std::size_t n) noexcept { return memalign(4096, n); }
}
#else
#define GANT_BENCH_COUNTS_HEAP 0
#endif

namespace {

using clock_type = std::chrono::steady_clock;
using namespace gant;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- the nominal work of one iteration ------------------------------------------------------

// Forward multiply-adds x 2 of each conv / dense layer for one sample: 2 x weights x pixels of
// the layer's small grid (a conv2d's output, a conv_transpose2d's input). Normalisations,
// activations and the optimiser are not counted: they are bandwidth, not FLOPs.
struct network_flops {
    std::vector<double> layers;
    double forward() const { return std::accumulate(layers.begin(), layers.end(), 0.0); }
    double backward_data_after_first() const { return forward() - layers.front(); }
};

// One train_step as gant runs it (gan.hpp), per sample; a backward pass costs one forward for the
// input gradient and one for the weight gradient, and the first layer's input gradient is skipped
// where nobody needs it. The same count is used for both sides: it is the work, not an estimate
// of what either implementation executes.
struct workload_flops {
    network_flops g, d;
    bool penalty = false;
    std::size_t n_critic = 1;

    double per_sample() const {
        const double gf = g.forward(), df = d.forward();
        // critic step: G forward; D forward + both gradients on real and on fake
        double critic = gf + 2 * (df + df + d.backward_data_after_first());
        // exact gradient penalty on one batch of interpolates: forward, input gradient, tangent
        // forward, paired reverse (two weight gradients, two input gradients after layer 0)
        if (penalty) critic += df + df + df + 2 * df + 2 * d.backward_data_after_first();
        // generator step: G forward + both gradients; D forward + input gradient through all layers
        const double generator = gf + gf + g.backward_data_after_first() + df + df;
        return double(n_critic) * critic + generator;
    }
};

constexpr double conv(double in, double out, double k, double grid) { return 2 * in * out * k * k * grid; }
constexpr double dense(double in, double out) { return 2 * in * out; }

workload_flops flops_28(bool penalty, std::size_t n_critic) {
    return {{{dense(100, 128 * 7 * 7), conv(128, 64, 4, 7 * 7), conv(64, 1, 4, 14 * 14)}},
            {{conv(1, 64, 4, 14 * 14), conv(64, 128, 4, 7 * 7), dense(128 * 7 * 7, 1)}},
            penalty,
            n_critic};
}
workload_flops flops_64() {
    return {{{conv(100, 512, 4, 1), conv(512, 256, 4, 4 * 4), conv(256, 128, 4, 8 * 8), conv(128, 64, 4, 16 * 16),
              conv(64, 3, 4, 32 * 32)}},
            {{conv(3, 64, 4, 32 * 32), conv(64, 128, 4, 16 * 16), conv(128, 256, 4, 8 * 8), conv(256, 512, 4, 4 * 4),
              conv(512, 1, 4, 1)}},
            false,
            1};
}

// ---- the two sides ----------------------------------------------------------------------------

struct step_result {
    double critic_loss, generator_loss, penalty;
};

class gant_side {
public:
    virtual ~gant_side() = default;
    virtual step_result step() = 0;
    virtual gant_bench::peer::settings settings() const = 0;
    virtual workload_flops flops() const = 0;
};

template <class Model>
class gant_model final : public gant_side {
public:
    gant_model(std::uint64_t seed, workload_flops (*flops)(const hyper_parameters&))
        : model_(Model::default_hyper_parameters(), seed), flops_(flops) {
        // Stand-in real images in [-1, 1], filled once: the step's cost does not depend on their
        // content, and the libtorch side uses a fixed batch too.
        rng r(seed + 100);
        real_ = tensor<float>({model_.hyper().batch, Model::sample_size});
        for (auto& v : real_) v = float(r.uniform(-1, 1));
    }
    step_result step() override {
        const step_stats& s = model_.train_step([&](tensor<float>& batch) { std::copy(real_.begin(), real_.end(), batch.begin()); });
        return {s.critic_loss, s.generator_loss, s.penalty};
    }
    gant_bench::peer::settings settings() const override {
        Model& m = const_cast<Model&>(model_);
        const hyper_parameters& h = m.hyper();
        gant_bench::peer::settings s = gant_bench::peer::settings_from(h);
        if constexpr (requires { m.lipschitz().p.lambda; }) s.lambda = m.lipschitz().p.lambda;
        return s;
    }
    workload_flops flops() const override { return flops_(model_.hyper()); }

private:
    Model model_;
    workload_flops (*flops_)(const hyper_parameters&);
    tensor<float> real_;
};

using dcgan28_model = gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::non_saturating>;
using wgan_gp28_model =
    gan<topology::dcgan<image<1, 28, 28>, shape<100>>, loss::wasserstein, lipschitz::gradient_penalty>;
using dcgan64_model = gan<topology::dcgan<image<3, 64, 64>, shape<100>>, loss::non_saturating>;

std::unique_ptr<gant_side> make_gant(const std::string& name, std::uint64_t seed) {
    if (name == "dcgan28")
        return std::make_unique<gant_model<dcgan28_model>>(
            seed, [](const hyper_parameters& h) { return flops_28(false, h.n_critic); });
    if (name == "wgan_gp28")
        return std::make_unique<gant_model<wgan_gp28_model>>(
            seed, [](const hyper_parameters& h) { return flops_28(true, h.n_critic); });
    if (name == "dcgan64")
        return std::make_unique<gant_model<dcgan64_model>>(seed, [](const hyper_parameters&) { return flops_64(); });
    throw std::invalid_argument("unknown workload '" + name +
                                "' (choose from dcgan28, wgan_gp28, dcgan64)");
}

// ---- correctness gate -----------------------------------------------------------------------

// A fast wrong step is not a result. Every step of both sides must give finite losses in a sane
// range. The very first step of each side, from freshly initialised networks, is checked against
// what that initialisation implies, and the two sides against each other (their first steps see
// different random draws of the same distributions, so they agree to tens of percent, not bits):
//   * BCE (dcgan*): the critic's scores start with a spread of about 1 (the critic's last batch
//     norm has unit variance), which puts the first critic loss (measured before the critic's
//     first update) near 1.4 to 1.9, not exactly 2 ln 2;
//   * WGAN-GP: at init ||grad_x D|| is about 3 on these shapes, so the penalty is a few times lambda.
// A kernel that is wrong by more than that (a transposed weight, a missing term) shows here even
// when it stays finite; the unit tests check the kernels bit by bit.
struct gate {
    std::string workload;
    bool wasserstein;
    double lambda;
    mutable step_result first_gant{}, first_torch{};

    void check(const char* side, const step_result& r, bool first) const {
        auto fail = [&](const char* what, double value) {
            std::fprintf(stderr, "gant_bench_vs_libtorch: %s, %s: %s is %g; aborting (a kernel is broken)\n",
                         workload.c_str(), side, what, value);
            std::exit(1);
        };
        if (!std::isfinite(r.critic_loss)) fail("the critic loss", r.critic_loss);
        if (!std::isfinite(r.generator_loss)) fail("the generator loss", r.generator_loss);
        if (!std::isfinite(r.penalty)) fail("the penalty", r.penalty);
        if (!wasserstein) {
            if (r.critic_loss < 0 || r.critic_loss > 50) fail("the critic loss (BCE, must lie in [0, 50])", r.critic_loss);
            if (first && (r.critic_loss < 1.0 || r.critic_loss > 2.6))
                fail("the first critic loss (expected in [1, 2.6])", r.critic_loss);
            // The generator loss comes after one critic update, which on stand-in data (noise
            // against generated images) already separates the two: only its range is checked.
            if (r.generator_loss < 0 || r.generator_loss > 50) fail("the generator loss (must lie in [0, 50])", r.generator_loss);
        } else {
            if (std::abs(r.critic_loss) > 1e4) fail("the critic loss (|loss| must stay below 1e4)", r.critic_loss);
            if (first && (r.penalty < 0.5 * lambda || r.penalty > 20 * lambda))
                fail("the first penalty (expected between lambda / 2 and 20 lambda)", r.penalty);
        }
        if (!first) return;
        (std::string(side) == "gant" ? first_gant : first_torch) = r;
        if (first_gant.critic_loss == 0 || first_torch.critic_loss == 0) return;
        const double a = wasserstein ? first_gant.penalty : first_gant.critic_loss;
        const double b = wasserstein ? first_torch.penalty : first_torch.critic_loss;
        if (a > 2 * b || b > 2 * a)
            fail(wasserstein ? "the first penalty, divided by libtorch's, (must be within 2x)"
                             : "the first critic loss, divided by libtorch's, (must be within 2x)",
                 a / b);
    }
};

// ---- the reference rate -----------------------------------------------------------------------

// A square 1024 sgemm: the rate a conv layer could at best reach if it were one big GEMM.
// `openblas`: cblas_sgemm itself on `threads` OpenBLAS threads (the reference; OpenBLAS is
// pinned back to one thread after). Otherwise gant's float GEMM on its active kernel (one thread:
// gant parallelises over the batch, not inside a GEMM).
double sgemm_gflops(int threads, bool openblas = true) {
    constexpr std::size_t n = 1024;
    static std::vector<float> a(n * n), b(n * n), c(n * n);
    rng r(3);
    for (auto& v : a) v = float(r.normal());
    for (auto& v : b) v = float(r.normal());
    blas::set_threads(threads);
    std::vector<double> t;
    for (int i = 0; i < 7; ++i) {
        const auto start = clock_type::now();
        if (openblas)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(n), 1.0f, a.data(), int(n),
                        b.data(), int(n), 0.0f, c.data(), int(n));
        else
            blas::gemm(blas::op::none, blas::op::none, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
        if (i >= 2) t.push_back(seconds_since(start));
    }
    blas::set_threads(1);
    return 2.0 * double(n * n * n) / median(t) * 1e-9;
}

// ---- the run ----------------------------------------------------------------------------------

struct options {
    std::vector<std::string> workloads{"dcgan28", "wgan_gp28", "dcgan64"};
    std::vector<int> threads{1, 2};
    std::size_t iterations = 15;
    std::size_t warmup = 3;
    std::uint64_t seed = 0;
    bool json = false;
    std::string json_file;
    bool default_malloc = false;
    std::size_t gant_only = 0;
    std::vector<long long> pool_spin_us;  // empty: the pool's default
};

struct record {
    std::string workload;
    int threads;
    std::size_t batch, iterations;
    double gant_ms, torch_ms, ratio, paired_ratio;
    double gflop_per_iteration, sgemm_gflops;
    std::size_t allocations_per_step;  // max over the timed gant steps
    double gant_peak_mb, torch_peak_mb, gant_retained_mb, torch_retained_mb;
};

constexpr double mb = 1.0 / (1024.0 * 1024.0);

void progress(const options& o, const char* fmt, const std::string& a, int b = 0) {
    if (o.json) return;
    std::fprintf(stderr, fmt, a.c_str(), b);
}

void print_row(const record& r);  // below, with the other printers

std::vector<record> run(const options& o) {
    std::vector<record> out;
    for (const std::string& name : o.workloads) {
        make_gant(name, o.seed);  // validates the name before anything is timed
        const bool wasserstein = name == "wgan_gp28";
        set_num_threads(std::size_t(o.threads.front()));
        gant_bench::peer::set_threads(o.threads.front());

        // Memory and warm-up, one side at a time: each side's high-water mark is measured from the
        // level just before its model is built, through construction and the warm-up steps (the
        // steps size every workspace; the gate checks the very first one).
        progress(o, "%s: building and warming up gant (%d threads)\n", name, o.threads.front());
        long long base = heap::restart_peak();
        std::unique_ptr<gant_side> g = make_gant(name, o.seed);
        const gant_bench::peer::settings settings = [&] {
            auto s = g->settings();
            s.seed = o.seed;
            return s;
        }();
        const gate check{name, wasserstein, settings.lambda};
        for (std::size_t i = 0; i < o.warmup; ++i) check.check("gant", g->step(), i == 0);
        const double gant_peak = double(heap::peak.load() - base) * mb;
        const double gant_retained = double(heap::live.load() - base) * mb;

        progress(o, "%s: building and warming up libtorch (%d threads)\n", name, o.threads.front());
        base = heap::restart_peak();
        std::unique_ptr<gant_bench::peer::workload> t = gant_bench::peer::make(name, settings);
        for (std::size_t i = 0; i < o.warmup; ++i) {
            const auto r = t->step();
            check.check("libtorch", {r.critic_loss, r.generator_loss, r.penalty}, i == 0);
        }
        const double torch_peak = double(heap::peak.load() - base) * mb;
        const double torch_retained = double(heap::live.load() - base) * mb;

        const double flops = g->flops().per_sample() * double(settings.batch);
        for (std::size_t ti = 0; ti < o.threads.size(); ++ti) {
            const int threads = o.threads[ti];
            set_num_threads(std::size_t(threads));
            gant_bench::peer::set_threads(threads);
            const double sgemm = sgemm_gflops(threads);
            // After a change of thread count, one more alternating warm-up pair: the new pools'
            // threads start cold.
            if (ti > 0) {
                check.check("gant", g->step(), false);
                const auto r = t->step();
                check.check("libtorch", {r.critic_loss, r.generator_loss, r.penalty}, false);
            }
            progress(o, "%s: timing, %d threads\n", name, threads);
            std::vector<double> tg, tt, ratios;
            std::size_t allocations = 0;
            for (std::size_t i = 0; i < o.iterations; ++i) {
                heap::calls.store(0);
                heap::counting.store(true);
                auto start = clock_type::now();
                const step_result rg = g->step();
                const double elapsed = seconds_since(start);
                heap::counting.store(false);  // before push_back, which may allocate
                tg.push_back(elapsed);
                allocations = std::max(allocations, heap::calls.load());
                check.check("gant", rg, false);

                start = clock_type::now();
                const auto rt = t->step();
                tt.push_back(seconds_since(start));
                check.check("libtorch", {rt.critic_loss, rt.generator_loss, rt.penalty}, false);
                ratios.push_back(tg.back() / tt.back());
            }
            record r;
            r.workload = name;
            r.threads = threads;
            r.batch = settings.batch;
            r.iterations = o.iterations;
            r.gant_ms = median(tg) * 1e3;
            r.torch_ms = median(tt) * 1e3;
            r.ratio = r.gant_ms / r.torch_ms;
            r.paired_ratio = median(ratios);
            r.gflop_per_iteration = flops * 1e-9;
            r.sgemm_gflops = sgemm;
            r.allocations_per_step = GANT_BENCH_COUNTS_HEAP ? allocations : std::size_t(-1);
            r.gant_peak_mb = gant_peak;
            r.torch_peak_mb = torch_peak;
            r.gant_retained_mb = gant_retained;
            r.torch_retained_mb = torch_retained;
            out.push_back(r);
            if (!o.json) print_row(r);  // as it comes: a later abort keeps what was measured
        }
    }
    return out;
}

void print_json(std::FILE* f, const std::vector<record>& rec) {
    std::fprintf(f, "[\n");
    for (std::size_t i = 0; i < rec.size(); ++i) {
        const record& r = rec[i];
        const double gg = r.gflop_per_iteration / (r.gant_ms * 1e-3), tg = r.gflop_per_iteration / (r.torch_ms * 1e-3);
        std::fprintf(f, "  {\"workload\": \"%s\", \"threads\": %d, \"gant_ms\": %.2f, \"libtorch_ms\": %.2f, "
                    "\"ratio\": %.3f, \"allocations_per_step\": %lld, \"paired_ratio\": %.3f, \"batch\": %zu, "
                    "\"iterations\": %zu, \"gant_images_per_s\": %.1f, \"libtorch_images_per_s\": %.1f, "
                    "\"gflop_per_iteration\": %.3f, \"gant_gflops\": %.2f, \"libtorch_gflops\": %.2f, "
                    "\"sgemm_gflops\": %.2f, \"gant_percent_of_sgemm\": %.1f, \"libtorch_percent_of_sgemm\": %.1f, "
                    "\"gant_peak_heap_mb\": %.1f, \"libtorch_peak_heap_mb\": %.1f}%s\n",
                    r.workload.c_str(), r.threads, r.gant_ms, r.torch_ms, r.ratio,
                    r.allocations_per_step == std::size_t(-1) ? -1LL : (long long)r.allocations_per_step,
                    r.paired_ratio, r.batch, r.iterations, double(r.batch) / (r.gant_ms * 1e-3),
                    double(r.batch) / (r.torch_ms * 1e-3), r.gflop_per_iteration, gg, tg, r.sgemm_gflops,
                    100 * gg / r.sgemm_gflops, 100 * tg / r.sgemm_gflops, r.gant_peak_mb, r.torch_peak_mb,
                    i + 1 < rec.size() ? "," : "");
    }
    std::fprintf(f, "]\n");
}

void print_header(const options& o) {
    std::printf("gant_bench_vs_libtorch: batch %zu, median of %zu alternating iterations (gant, libtorch, gant, ...)\n"
                "after %zu warm-up each; OpenBLAS core %s; peer: %s\n",
                std::size_t(64), o.iterations, o.warmup, openblas_get_corename(),
                gant_bench::peer::describe().c_str());
    std::printf("gant's float GEMM: %s kernel, 1024^3 on 1 thread %.1f GFLOP/s (OpenBLAS: %.1f)\n",
                blas::name(blas::active_sgemm_kernel()), sgemm_gflops(1, false), sgemm_gflops(1));
    std::printf("ms: one train_step (n_critic critic steps + 1 generator step); ratio = gant ms / libtorch ms "
                "(paired: median of per-pair ratios);\nimg/s = batch / step time; GF/s = analytic conv+dense FLOPs "
                "of the step / time; %%sgemm: against OpenBLAS's 1024^3 sgemm (cblas_sgemm) on T threads measured in this run.\n\n");
    std::printf("%-9s %2s %9s %9s %6s %6s %7s %7s %7s %7s %7s %6s %6s %7s %9s %9s\n", "workload", "T", "gant ms",
                "torch ms", "ratio", "paired", "gant/s", "torch/s", "GF/iter", "gant GF", "torch GF", "gant%",
                "torch%", "allocs", "gant MB", "torch MB");
    std::fflush(stdout);
}

void print_row(const record& r) {
    {
        const double gg = r.gflop_per_iteration / (r.gant_ms * 1e-3), tg = r.gflop_per_iteration / (r.torch_ms * 1e-3);
        std::printf("%-9s %2d %9.1f %9.1f %6.3f %6.3f %7.0f %7.0f %7.2f %7.2f %7.2f %5.0f%% %5.0f%% %7s %9.1f %9.1f\n",
                    r.workload.c_str(), r.threads, r.gant_ms, r.torch_ms, r.ratio, r.paired_ratio,
                    double(r.batch) / (r.gant_ms * 1e-3), double(r.batch) / (r.torch_ms * 1e-3),
                    r.gflop_per_iteration, gg, tg, 100 * gg / r.sgemm_gflops, 100 * tg / r.sgemm_gflops,
                    r.allocations_per_step == std::size_t(-1) ? "n/a" : std::to_string(r.allocations_per_step).c_str(),
                    r.gant_peak_mb, r.torch_peak_mb);
    }
    std::fflush(stdout);
}

void print_footer(const options& o, const std::vector<record>& rec) {
    std::printf("\nallocs: most heap allocations (malloc-family calls, operator new included) in one timed gant step.\n"
                "MB: heap high-water mark (live malloc-family bytes) above the level before the model was built,\n"
                "through construction and %zu warm-up steps at %d threads; libtorch's includes tensor storage (c10's\n"
                "posix_memalign), autograd graphs and oneDNN scratch memory.%s\n",
                o.warmup, o.threads.empty() ? 0 : o.threads.front(),
                GANT_BENCH_COUNTS_HEAP ? "" : " (heap accounting is off in this build)");
    if (!rec.empty()) {
        std::printf("retained after warm-up (weights, optimiser state, %s):", "kept workspaces / graphs");
        std::string last;
        for (const record& r : rec) {
            if (r.workload == last) continue;
            last = r.workload;
            std::printf(" %s gant %.1f MB, libtorch %.1f MB;", r.workload.c_str(), r.gant_retained_mb,
                        r.torch_retained_mb);
        }
        std::printf("\n");
    }
}

}  // namespace

int main(int argc, char** argv) {
    // libgomp (ATen's OpenMP pool) spins its idle threads by default. With 2 threads on 2 vCPUs
    // that share one core's FMA units, the spinning thread steals the core from the working one
    // and libtorch's 2-thread step ran 8-20x slower than its 1-thread step: a broken peer, not a
    // fair one. libgomp reads OMP_WAIT_POLICY only when it loads, so the bench sets PASSIVE
    // (idle threads sleep) and re-executes itself. An explicit OMP_WAIT_POLICY in the environment
    // is respected. gant's pool polls for at most thread_pool::default_spin_time before it
    // sleeps; --pool-spin-us 0 makes it sleep at once, like the peer.
    if (!std::getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        execv("/proc/self/exe", argv);
        std::fprintf(stderr, "gant_bench_vs_libtorch: note: could not re-execute with OMP_WAIT_POLICY=PASSIVE; "
                             "libtorch's 2-thread times may be inflated by spinning threads\n");
    }
    options o;
    CLI::App app{"gant against libtorch on whole GAN training iterations (batch 64), run alternately in one process"};
    app.add_option("--workloads", o.workloads, "workloads to run: dcgan28, wgan_gp28, dcgan64")->delimiter(',');
    app.add_option("--threads", o.threads, "thread counts, each run for both sides (gant's pool / ATen's OpenMP "
                                           "pool; OpenBLAS pinned to 1 thread)")
        ->delimiter(',')
        ->check(CLI::PositiveNumber);
    app.add_option("--iterations", o.iterations, "timed iterations per side and thread count")->check(CLI::PositiveNumber);
    app.add_option("--warmup", o.warmup, "warm-up iterations per side (at least 1: the gate checks the first)")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", o.seed, "seed of both sides' initialisation and latent codes");
    app.add_flag("--json", o.json, "print a JSON array instead of the table");
    app.add_option("--json-file", o.json_file, "also write the JSON array to this file");
    app.add_option("--gant-only", o.gant_only,
                   "profiling: build the first workload's gant model only, run this many steps at the first "
                   "thread count, print the median step time, exit (run under perf)");
    app.add_option("--pool-spin-us", o.pool_spin_us,
                   "microseconds gant's pool threads poll before they sleep (0: sleep at once; default: " +
                       std::to_string(thread_pool::default_spin_time.count()) +
                       "); with --gant-only, several values alternate step by step and each gets its median")
        ->delimiter(',')
        ->check(CLI::Range(0LL, 1000000LL));
    app.add_flag("--default-malloc", o.default_malloc,
                 "keep glibc's default mmap / trim thresholds (by default large blocks stay in the heap)");
    CLI11_PARSE(app, argc, argv);

    if (!o.default_malloc) {
        // Keep glibc from returning large blocks to the OS between steps (first-touch page faults
        // cost more than the kernels on these VMs; bench_conv does the same). libtorch allocates
        // its activations anew in every step, so this helps the peer more than gant.
        mallopt(M_MMAP_THRESHOLD, 1 << 30);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    if (!o.pool_spin_us.empty()) default_pool().set_spin_time(std::chrono::microseconds(o.pool_spin_us.front()));
    if (std::getenv("GANT_BENCH_TRACE_ALLOCATIONS")) {
        void* warm[2];
        backtrace(warm, 2);  // loads the unwinder now, not inside a counted allocation
        heap::trace = true;
    }
    if (o.gant_only > 0) {
        // No peer, no gate beyond finiteness: a clean process for a profiler to sample.
        set_num_threads(std::size_t(o.threads.front()));
        const std::string name = o.workloads.front();
        std::unique_ptr<gant_side> g = make_gant(name, o.seed);
        const gate check{name, name == "wgan_gp28", g->settings().lambda};
        // Several spin times take turns step by step, so that a drift of the machine's speed
        // (these VMs drift by tens of percent within minutes) hits them alike.
        const std::size_t settings = std::max<std::size_t>(o.pool_spin_us.size(), 1);
        std::vector<std::vector<double>> t(settings);
        for (std::size_t i = 0; i < o.gant_only * settings; ++i) {
            const std::size_t k = i % settings;
            if (!o.pool_spin_us.empty()) default_pool().set_spin_time(std::chrono::microseconds(o.pool_spin_us[k]));
            const auto start = clock_type::now();
            const step_result r = g->step();
            t[k].push_back(seconds_since(start));
            check.check("gant", r, false);
        }
        for (std::size_t k = 0; k < settings; ++k) {
            std::printf("%s: gant only, %d threads, %zu steps, median %.1f ms", name.c_str(), o.threads.front(),
                        o.gant_only, median(t[k]) * 1e3);
            if (!o.pool_spin_us.empty()) std::printf(" (pool spin %lld us)", o.pool_spin_us[k]);
            std::printf("\n");
        }
        return 0;
    }
    std::vector<record> rec;
    if (!o.json) print_header(o);
    try {
        rec = run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gant_bench_vs_libtorch: %s\n", e.what());
        return 1;
    }
    if (o.json)
        print_json(stdout, rec);
    else
        print_footer(o, rec);
    if (!o.json_file.empty()) {
        std::FILE* f = std::fopen(o.json_file.c_str(), "w");
        if (!f) {
            std::fprintf(stderr, "gant_bench_vs_libtorch: cannot write %s\n", o.json_file.c_str());
            return 1;
        }
        print_json(f, rec);
        std::fclose(f);
    }
    return 0;
}
