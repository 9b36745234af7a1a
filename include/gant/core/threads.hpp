#pragma once
// A small fixed-size worker pool with static work partitioning. Static partitioning (task i
// always runs on worker i % n) keeps every reduction order fixed for a given thread count,
// which is what makes training bit-for-bit deterministic. OpenBLAS is kept single-threaded
// while the pool runs batch-parallel work, so the two never fight over the cores.
//
// The hand-off spins before it sleeps. A training step runs hundreds of short parallel passes
// (every pass of every layer) with a little serial work between them, and waking a thread that
// sleeps in the kernel costs tens of microseconds or more on a virtual machine, where the idle
// vCPU halts, at the start of a pass (caller -> workers) and again at its end (last worker ->
// caller). So a worker polls for the next job for up to spin_time() after finishing one, and the
// caller polls for the workers to finish, before either blocks on a condition variable. An idle
// pool still sleeps: it burns at most spin_time() of CPU per worker after each job.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "gant/core/blas.hpp"

namespace gant {

namespace detail {
/// One polite step of a spin-wait: tells the core that this is a busy-wait loop, so that it
/// slows the loop down and gives the pipeline (or the sibling hyper-thread) to useful work.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#else
    std::this_thread::yield();
#endif
}

/// Polls ready() until it returns true or `limit` has passed; returns its last answer.
template <class Ready>
bool spin_until(Ready&& ready, std::chrono::nanoseconds limit) {
    if (ready()) return true;
    if (limit <= std::chrono::nanoseconds::zero()) return false;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        for (int i = 0; i < 64; ++i) {  // the clock costs more than a poll: read it every 64 polls
            spin_pause();
            if (ready()) return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return ready();
    }
}
}  // namespace detail

class thread_pool {
public:
    /// How long a thread polls before it sleeps, by default. Measured on the 2-vCPU VM with
    /// bench_pool (docs/performance.md, "Pool hand-off"): a pass of the WGAN-GP step is 0.05-5 ms
    /// and the serial gaps between passes mostly well under 100 microseconds.
    static constexpr std::chrono::microseconds default_spin_time{200};

    explicit thread_pool(std::size_t threads = 1) { resize(threads); }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    ~thread_pool() { stop(); }

    std::size_t size() const { return workers_.size() + 1; }

    /// Sets the number of workers. Asking for the current count keeps the running workers (and
    /// their thread-local GEMM packing buffers): set_num_threads before each phase of a program
    /// must not make the next step start on cold threads that allocate.
    void resize(std::size_t threads) {
        if (threads == 0) threads = 1;
        if (threads == size()) return;
        stop();
        stopping_.store(false);
        // New workers start from the current generation: a job that finished before the resize
        // must not look like new work to them.
        const std::size_t current = generation_.load();
        for (std::size_t i = 1; i < threads; ++i)
            workers_.emplace_back([this, i, current] { worker_loop(i, current); });
    }

    /// How long threads poll for work (workers) or for the end of a job (the caller) before they
    /// block. Zero: block at once, as a plain condition-variable pool (no CPU spent waiting).
    void set_spin_time(std::chrono::microseconds t) {
        spin_ns_.store(t.count() < 0 ? 0 : std::chrono::nanoseconds(t).count());
    }
    std::chrono::microseconds spin_time() const {
        return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(spin_ns_.load()));
    }

    /// Runs fn(worker) on every worker (0 .. size()-1) and waits; worker 0 is the calling thread.
    /// fn is held by reference (a std::function over a reference_wrapper stores it inline), so a
    /// call allocates nothing however large the caller's lambda is. An exception thrown by fn on
    /// any worker is rethrown here, on the calling thread, after every worker has finished (the
    /// first one, when several throw): a worker thread must not terminate the process, and fn
    /// must not be left running on other workers after the caller's frame is gone.
    /// One caller at a time: run_on_all is not reentrant and not for concurrent callers.
    template <class F>
    void run_on_all(F&& fn) {
        if (workers_.empty()) {
            fn(std::size_t{0});
            return;
        }
        const std::function<void(std::size_t)> job(std::ref(fn));
        job_ = &job;
        pending_.store(workers_.size());
        // Publishes job_ and pending_ (seq_cst, as every access to the generation and the sleeper
        // counts: a worker that announces it will sleep and then rereads the generation, against
        // this store and then the read of the count, cannot both miss).
        generation_.fetch_add(1);
        if (sleeping_workers_.load() > 0) {
            // A worker that saw the old generation under the mutex is waiting once we hold it.
            { std::lock_guard lock(mutex_); }
            wake_.notify_all();
        }
        run_caught(job, 0);
        const auto finished = [this] { return pending_.load() == 0; };
        if (!detail::spin_until(finished, std::chrono::nanoseconds(spin_ns_.load()))) {
            std::unique_lock lock(mutex_);
            caller_sleeping_.store(true);
            done_.wait(lock, finished);
            caller_sleeping_.store(false);
        }
        job_ = nullptr;
        std::exception_ptr failure;
        {
            std::lock_guard lock(mutex_);
            failure = std::exchange(failure_, nullptr);
        }
        if (failure) std::rethrow_exception(failure);
    }

    /// How many workers parallel_for gives n items: one slice each, never an empty slice.
    std::size_t workers_for(std::size_t n) const { return std::min(size(), std::max<std::size_t>(n, 1)); }

    /// Calls fn(begin, end, worker) on contiguous slices of [0, n), one slice per worker
    /// (worker i of w takes [n*i/w, n*(i+1)/w)). Allocates nothing (see run_on_all).
    template <class F>
    void parallel_for(std::size_t n, F&& fn) {
        const std::size_t w = workers_for(n);
        if (w <= 1) {
            fn(std::size_t{0}, n, std::size_t{0});
            return;
        }
        run_on_all([&](std::size_t worker) {
            if (worker >= w) return;
            const std::size_t begin = n * worker / w, end = n * (worker + 1) / w;
            fn(begin, end, worker);
        });
    }

private:
    void run_caught(const std::function<void(std::size_t)>& job, std::size_t worker) {
        try {
            job(worker);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!failure_) failure_ = std::current_exception();
        }
    }

    void worker_loop(std::size_t index, std::size_t seen) {
        for (;;) {
            const auto new_job = [&] { return stopping_.load() || generation_.load() != seen; };
            if (!detail::spin_until(new_job, std::chrono::nanoseconds(spin_ns_.load()))) {
                sleeping_workers_.fetch_add(1);
                {
                    std::unique_lock lock(mutex_);
                    wake_.wait(lock, new_job);
                }
                sleeping_workers_.fetch_sub(1);
            }
            if (stopping_.load()) return;
            seen = generation_.load();
            run_caught(*job_, index);
            // The last worker out wakes the caller if it went to sleep (the same announce-then-
            // reread pairing as the wake-up: caller_sleeping_ is set under the mutex before the
            // caller rereads pending_).
            if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
                { std::lock_guard lock(mutex_); }
                done_.notify_one();
            }
        }
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_.store(true);
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(std::size_t)>* job_ = nullptr;  // written before the generation moves
    std::exception_ptr failure_;  // the first exception a job threw in the current run_on_all
    std::atomic<std::size_t> generation_{0};  // one more per job; workers wait for it to move
    std::atomic<std::size_t> pending_{0};     // workers still running the current job
    std::atomic<std::size_t> sleeping_workers_{0};
    std::atomic<bool> caller_sleeping_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<long long> spin_ns_{std::chrono::nanoseconds(default_spin_time).count()};
};

/// The process-wide pool that layers use. set_num_threads also pins OpenBLAS to one thread:
/// gant parallelises over the batch itself (measured: on these 2-vCPU machines two OpenBLAS
/// threads rarely beat one on conv-shaped products, while batch parallelism scales).
inline thread_pool& default_pool() {
    static thread_pool pool(1);
    return pool;
}

inline void set_num_threads(std::size_t threads) {
    blas::set_threads(1);
    default_pool().resize(threads);
}

inline std::size_t num_threads() { return default_pool().size(); }

}  // namespace gant
