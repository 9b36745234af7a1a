#pragma once
// device_buffer<T>: an owned array in device memory, taken from the caching allocator and given
// back to it (not to cudaFree) on destruction. Transfers are explicit and named for their
// direction; there is no implicit host access. A buffer belongs to the stream it was made on:
// its copies run on that stream, and its memory is reused by later work on that stream.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gant/cuda/allocator.hpp"
#include "gant/cuda/check.hpp"

namespace gant::cuda {

template <class T>
class device_buffer {
    static_assert(std::is_trivially_copyable_v<T>, "gant: device_buffer<T> holds trivially copyable T only");

public:
    device_buffer() = default;

    explicit device_buffer(std::size_t count, cudaStream_t stream = nullptr,
                           caching_allocator& allocator = default_allocator())
        : allocator_(&allocator), stream_(stream), count_(count) {
        data_ = static_cast<T*>(allocator.allocate(count * sizeof(T), stream));
    }

    ~device_buffer() { reset(); }

    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    device_buffer(device_buffer&& o) noexcept
        : allocator_(o.allocator_), stream_(o.stream_), data_(std::exchange(o.data_, nullptr)),
          count_(std::exchange(o.count_, 0)) {}
    device_buffer& operator=(device_buffer&& o) noexcept {
        if (this != &o) {
            reset();
            allocator_ = o.allocator_;
            stream_ = o.stream_;
            data_ = std::exchange(o.data_, nullptr);
            count_ = std::exchange(o.count_, 0);
        }
        return *this;
    }

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return count_; }
    std::size_t bytes() const { return count_ * sizeof(T); }
    bool empty() const { return count_ == 0; }
    cudaStream_t stream() const { return stream_; }

    /// Copies count elements from host memory to the start of the buffer; returns when the copy
    /// is done, so `src` may be reused at once.
    void copy_from_host(const T* src, std::size_t count) {
        check_count(count, "copy_from_host");
        if (count == 0) return;
        GANT_CUDA_CHECK(cudaMemcpyAsync(data_, src, count * sizeof(T), cudaMemcpyHostToDevice, stream_));
        GANT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    void copy_from_host(const std::vector<T>& src) { copy_from_host(src.data(), src.size()); }

    /// Copies the first count elements to host memory, after the work queued on the buffer's
    /// stream; returns when the data is there.
    void copy_to_host(T* dst, std::size_t count) const {
        check_count(count, "copy_to_host");
        if (count == 0) return;
        GANT_CUDA_CHECK(cudaMemcpyAsync(dst, data_, count * sizeof(T), cudaMemcpyDeviceToHost, stream_));
        GANT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    std::vector<T> to_host() const {
        std::vector<T> out(count_);
        copy_to_host(out.data(), count_);
        return out;
    }

    /// Sets every byte to `value` (asynchronously, on the buffer's stream). 0xFF bytes make
    /// every float a NaN, which tests use to poison outputs.
    void fill_bytes(unsigned char value) {
        if (count_ == 0) return;
        GANT_CUDA_CHECK(cudaMemsetAsync(data_, value, bytes(), stream_));
    }

private:
    void check_count(std::size_t count, const char* what) const {
        if (count > count_)
            throw std::out_of_range(std::string("gant::cuda::device_buffer::") + what + ": " + std::to_string(count) +
                                    " elements requested, the buffer holds " + std::to_string(count_));
    }

    void reset() {
        if (data_) allocator_->deallocate(data_);
        data_ = nullptr;
        count_ = 0;
    }

    caching_allocator* allocator_ = &default_allocator();
    cudaStream_t stream_ = nullptr;
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace gant::cuda
