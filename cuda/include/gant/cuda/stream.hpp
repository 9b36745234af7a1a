#pragma once
// An owned CUDA stream (non-blocking with respect to the legacy default stream), and a pair of
// events that times the work queued between them.
#include <cuda_runtime_api.h>

#include <utility>

#include "gant/cuda/check.hpp"

namespace gant::cuda {

class stream {
public:
    stream() { GANT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
    ~stream() {
        if (stream_) (void)cudaStreamDestroy(stream_);
    }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    stream(stream&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
    stream& operator=(stream&& o) noexcept {
        if (this != &o) {
            if (stream_) (void)cudaStreamDestroy(stream_);
            stream_ = std::exchange(o.stream_, nullptr);
        }
        return *this;
    }

    cudaStream_t get() const { return stream_; }
    operator cudaStream_t() const { return stream_; }
    void synchronize() const { GANT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

private:
    cudaStream_t stream_ = nullptr;
};

/// Milliseconds of device time between start() and stop() on one stream.
class event_timer {
public:
    event_timer() {
        GANT_CUDA_CHECK(cudaEventCreate(&start_));
        GANT_CUDA_CHECK(cudaEventCreate(&stop_));
    }
    ~event_timer() {
        (void)cudaEventDestroy(start_);
        (void)cudaEventDestroy(stop_);
    }
    event_timer(const event_timer&) = delete;
    event_timer& operator=(const event_timer&) = delete;

    void start(cudaStream_t s) { GANT_CUDA_CHECK(cudaEventRecord(start_, s)); }
    void stop(cudaStream_t s) { GANT_CUDA_CHECK(cudaEventRecord(stop_, s)); }
    /// Waits for the stop event and returns the elapsed time.
    float milliseconds() const {
        GANT_CUDA_CHECK(cudaEventSynchronize(stop_));
        float ms = 0.f;
        GANT_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
        return ms;
    }

private:
    cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

}  // namespace gant::cuda
