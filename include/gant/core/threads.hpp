#pragma once
// A small fixed-size worker pool with static work partitioning. Static partitioning (task i
// always runs on worker i % n) keeps every reduction order fixed for a given thread count,
// which is what makes training bit-for-bit deterministic. OpenBLAS is kept single-threaded
// while the pool runs batch-parallel work, so the two never fight over the cores.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gant/core/blas.hpp"

namespace gant {

class thread_pool {
public:
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
        stopping_ = false;
        // New workers start from the current generation: a job that finished before the resize
        // must not look like new work to them.
        for (std::size_t i = 1; i < threads; ++i)
            workers_.emplace_back([this, i, seen = generation_] { worker_loop(i, seen); });
    }

    /// Runs fn(worker) on every worker (0 .. size()-1) and waits; worker 0 is the calling thread.
    /// fn is held by reference (a std::function over a reference_wrapper stores it inline), so a
    /// call allocates nothing however large the caller's lambda is. An exception thrown by fn on
    /// any worker is rethrown here, on the calling thread, after every worker has finished (the
    /// first one, when several throw): a worker thread must not terminate the process, and fn
    /// must not be left running on other workers after the caller's frame is gone.
    template <class F>
    void run_on_all(F&& fn) {
        if (workers_.empty()) {
            fn(std::size_t{0});
            return;
        }
        const std::function<void(std::size_t)> job(std::ref(fn));
        {
            std::lock_guard lock(mutex_);
            job_ = &job;
            pending_ = workers_.size();
            ++generation_;
        }
        wake_.notify_all();
        run_caught(job, 0);
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        job_ = nullptr;
        if (failure_) {
            const std::exception_ptr failure = std::exchange(failure_, nullptr);
            lock.unlock();
            std::rethrow_exception(failure);
        }
    }

    /// Calls fn(begin, end, worker) on contiguous slices of [0, n), one slice per worker.
    template <class F>
    void parallel_for(std::size_t n, F&& fn) {
        const std::size_t w = std::min(size(), n == 0 ? std::size_t{1} : n);
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
            const std::function<void(std::size_t)>* job;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                job = job_;
            }
            run_caught(*job, index);
            {
                std::lock_guard lock(mutex_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::exception_ptr failure_;  // the first exception a job threw in the current run_on_all
    std::size_t pending_ = 0, generation_ = 0;
    bool stopping_ = false;
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
