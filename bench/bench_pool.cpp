// The cost of one hand-off of gant's thread pool (core/threads.hpp): a run_on_all whose job is a
// fixed amount of busy work on every worker, separated by a fixed amount of serial work on the
// calling thread, as layer passes are in a training step. Printed per configuration: the time of
// one round (serial gap + job) and its excess over the work itself, for the pool blocking at
// once (spin 0: a plain condition-variable pool, the peer) and polling first (the default).
//
//   ./gant_bench_pool [--threads N] [--rounds N]
//
// Busy work is a timed spin, not sleep: a sleeping caller would let the machine idle the core
// and measure the wake-up of the caller instead of the pool's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gant/core/threads.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

void busy_for(std::chrono::nanoseconds d) {
    const auto end = clock_type::now() + d;
    while (clock_type::now() < end) {
    }
}

/// Mean microseconds per round of `gap` serial work then a job of `work` on every worker.
double round_us(gant::thread_pool& pool, std::chrono::microseconds gap, std::chrono::microseconds work,
                std::size_t rounds) {
    auto one = [&](std::size_t) { busy_for(work); };
    for (std::size_t r = 0; r < rounds / 10 + 1; ++r) {  // warm-up
        busy_for(gap);
        pool.run_on_all(one);
    }
    const auto t0 = clock_type::now();
    for (std::size_t r = 0; r < rounds; ++r) {
        busy_for(gap);
        pool.run_on_all(one);
    }
    return std::chrono::duration<double, std::micro>(clock_type::now() - t0).count() / double(rounds);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t threads = 2, rounds = 4000;
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (!std::strcmp(argv[i], "--threads") && has_value) threads = std::strtoul(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--rounds") && has_value) rounds = std::strtoul(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "gant_bench_pool: unknown argument '%s' (flags: --threads N --rounds N)\n", argv[i]);
            return 2;
        }
    }
    if (threads < 2 || rounds == 0) {
        std::fprintf(stderr, "gant_bench_pool: needs --threads >= 2 and --rounds >= 1\n");
        return 2;
    }
    gant::thread_pool pool(threads);
    const std::chrono::microseconds spins[] = {std::chrono::microseconds(0), gant::thread_pool::default_spin_time};
    std::printf("thread pool hand-off, %zu threads, %zu rounds per row (excess = round - gap - job)\n", threads, rounds);
    std::printf("%8s %8s | %12s %12s | %12s %12s | %6s\n", "gap_us", "job_us", "block_us", "excess_us", "spin_us",
                "excess_us", "ratio");
    for (int gap : {0, 10, 50, 150, 1000})
        for (int job : {5, 50, 500}) {
            double t[2];
            for (int s = 0; s < 2; ++s) {
                pool.set_spin_time(spins[s]);
                t[s] = round_us(pool, std::chrono::microseconds(gap), std::chrono::microseconds(job),
                                job >= 500 || gap >= 1000 ? rounds / 8 : rounds);
            }
            std::printf("%8d %8d | %12.1f %12.1f | %12.1f %12.1f | %6.2f\n", gap, job, t[0], t[0] - gap - job, t[1],
                        t[1] - gap - job, t[0] / t[1]);
        }
    std::printf("(spin: thread_pool::default_spin_time = %lld us; ratio = block / spin, above 1: spinning is faster)\n",
                static_cast<long long>(gant::thread_pool::default_spin_time.count()));
    return 0;
}
