#pragma once
// A caching device allocator: cudaMalloc and cudaFree synchronise the device and cost tens of
// microseconds, so a training step that allocated its temporaries each time would spend more on
// allocation than on small kernels. Freed blocks go back to a free list per (device, stream,
// size class) and the next request of that class on that stream takes one from there; in the
// steady state (the same shapes every step) no cudaMalloc happens at all.
//
// Stream order makes reuse safe without synchronisation: a block freed on stream s while a
// kernel on s may still use it is handed out again only for work on s, which runs after that
// kernel. A block must therefore be freed on the stream it was allocated on (device_buffer
// does this); using it from another stream needs the caller's own synchronisation.
//
// Size classes: requests are rounded up to 512 bytes, then to the next of 4 classes per power
// of two (2^k, 1.25 * 2^k, 1.5 * 2^k, 1.75 * 2^k), so a block is at most 25% larger than asked
// and nearby sizes share a free list.
//
// GANT_CUDA_UNCACHED_ALLOCATOR=1 in the environment turns caching off: every request is a
// cudaMalloc of exactly its size and every free a cudaFree, so that compute-sanitizer's memcheck
// sees each buffer's true end (in a cached, rounded-up block an overrun would go unnoticed).
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gant/cuda/check.hpp"

namespace gant::cuda {

class caching_allocator {
public:
    struct statistics {
        std::size_t device_allocations = 0;  // cudaMalloc calls that succeeded
        std::size_t cache_hits = 0;          // requests served from a free list
        std::size_t bytes_in_use = 0;        // handed out and not yet freed (size classes)
        std::size_t bytes_cached = 0;        // on free lists
    };

    caching_allocator() : caching_(!uncached_requested()) {}
    explicit caching_allocator(bool caching) : caching_(caching) {}
    caching_allocator(const caching_allocator&) = delete;
    caching_allocator& operator=(const caching_allocator&) = delete;

    /// Frees cached blocks. Blocks still in use are leaked on purpose: at static destruction
    /// the runtime may already be gone, and their owners free them after this anyway.
    ~caching_allocator() {
        for (auto& [key, blocks] : free_)
            for (void* p : blocks) (void)cudaFree(p);
    }

    /// The size a request of `bytes` is rounded up to (0 stays 0).
    static std::size_t size_class(std::size_t bytes) {
        if (bytes == 0) return 0;
        constexpr std::size_t min_block = 512;
        if (bytes <= min_block) return min_block;
        std::size_t power = min_block;
        while (power * 2 < bytes) power *= 2;  // power < bytes <= 2 * power
        const std::size_t step = power / 4;
        return (bytes + step - 1) / step * step;
    }

    /// A device block of at least `bytes` for work on `stream` on the current device; nullptr
    /// for 0 bytes. Throws (GANT_CUDA_CHECK's message) when the device is out of memory even
    /// after the cache was released.
    void* allocate(std::size_t bytes, cudaStream_t stream) {
        if (bytes == 0) return nullptr;
        const std::size_t size = caching_ ? size_class(bytes) : bytes;
        int device = 0;
        GANT_CUDA_CHECK(cudaGetDevice(&device));
        const key k{device, stream, size};
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = free_.find(k);
        if (it != free_.end() && !it->second.empty()) {
            void* p = it->second.back();
            it->second.pop_back();
            stats_.cache_hits += 1;
            stats_.bytes_cached -= size;
            stats_.bytes_in_use += size;
            live_.emplace(p, k);
            return p;
        }
        void* p = nullptr;
        cudaError_t status = cudaMalloc(&p, size);
        if (status == cudaErrorMemoryAllocation) {  // give the cached blocks back and try once more
            (void)cudaGetLastError();
            release_cached_locked();
            status = cudaMalloc(&p, size);
        }
        detail::check_cuda(status, "cudaMalloc(&p, size)", __FILE__, __LINE__);
        stats_.device_allocations += 1;
        stats_.bytes_in_use += size;
        live_.emplace(p, k);
        return p;
    }

    /// Returns a block from allocate() to its free list (nullptr is ignored).
    void deallocate(void* p) {
        if (!p) return;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = live_.find(p);
        if (it == live_.end()) throw std::runtime_error("gant::cuda::caching_allocator: deallocate of a pointer it did not allocate");
        const key k = it->second;
        live_.erase(it);
        stats_.bytes_in_use -= k.size;
        if (!caching_) {  // cudaFree waits for the device, so queued work using p finishes first
            GANT_CUDA_CHECK(cudaFree(p));
            return;
        }
        free_[k].push_back(p);
        stats_.bytes_cached += k.size;
    }

    /// False under GANT_CUDA_UNCACHED_ALLOCATOR=1 (see the top of this header).
    bool caching() const { return caching_; }

    static bool uncached_requested() {
        const char* v = std::getenv("GANT_CUDA_UNCACHED_ALLOCATOR");
        return v && *v && std::string(v) != "0";
    }

    /// cudaFree's every cached block (waits for the device first: a cached block may still be
    /// read by queued work). Blocks in use are untouched.
    void release_cached() {
        std::lock_guard<std::mutex> lock(mutex_);
        release_cached_locked();
    }

    statistics stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

private:
    struct key {
        int device;
        cudaStream_t stream;
        std::size_t size;
        bool operator<(const key& o) const {
            return std::tie(device, stream, size) < std::tie(o.device, o.stream, o.size);
        }
    };

    void release_cached_locked() {
        if (free_.empty()) return;
        GANT_CUDA_CHECK(cudaDeviceSynchronize());
        for (auto& [k, blocks] : free_)
            for (void* p : blocks) {
                GANT_CUDA_CHECK(cudaFree(p));
                stats_.bytes_cached -= k.size;
            }
        free_.clear();
    }

    const bool caching_;
    mutable std::mutex mutex_;
    std::map<key, std::vector<void*>> free_;
    std::unordered_map<void*, key> live_;
    statistics stats_;
};

/// The process-wide allocator that device_buffer and the kernels' workspaces use.
inline caching_allocator& default_allocator() {
    static caching_allocator allocator;
    return allocator;
}

}  // namespace gant::cuda
