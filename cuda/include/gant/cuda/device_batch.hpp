#pragma once
// A batch in device memory: what gant's tensor<T> is on the CPU (rows = samples, each sample's
// values in row-major order of its shape), for the CUDA backend's networks and layers. It keeps
// its allocation when it shrinks and reuses it when it grows back within it, so a training step
// that alternates batch sizes (a WGAN-GP critic sees real + fake, then the interpolates)
// allocates only the first time; the caching allocator serves even that from its pool.
//
// Work on it is queued on the legacy default stream (nullptr), in order with every kernel the
// device layers launch; copies to the host wait for it.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/cuda/check.hpp"
#include "gant/cuda/device_buffer.hpp"

namespace gant::cuda {

template <class T>
class device_batch {
public:
    device_batch() = default;
    device_batch(std::size_t rows, std::size_t cols) { resize(rows, cols); }

    std::size_t shape(std::size_t axis) const { return axis == 0 ? rows_ : cols_; }
    std::size_t size() const { return rows_ * cols_; }
    T* data() { return buffer_.data(); }
    const T* data() const { return buffer_.data(); }

    /// rows x cols, reallocating only when that is more than the allocation holds. The values are
    /// unspecified afterwards (as xtensor's resize leaves them).
    void resize(std::size_t rows, std::size_t cols) {
        if (rows * cols > buffer_.size()) buffer_ = device_buffer<T>(rows * cols);
        rows_ = rows;
        cols_ = cols;
    }

    /// rows x cols, from host memory (rows * cols values).
    void assign(const T* host, std::size_t rows, std::size_t cols) {
        resize(rows, cols);
        buffer_.copy_from_host(host, size());
    }

    /// The values, copied to the host after the work queued before.
    std::vector<T> to_host() const {
        std::vector<T> out(size());
        buffer_.copy_to_host(out.data(), out.size());
        return out;
    }

private:
    device_buffer<T> buffer_;
    std::size_t rows_ = 0, cols_ = 0;
};

// The free functions the networks call on their batches (tensor.hpp has the host ones).

template <class T>
void ensure_shape(device_batch<T>& b, std::size_t rows, std::size_t cols) {
    if (b.shape(0) != rows || b.shape(1) != cols) b.resize(rows, cols);
}

template <class T>
void require_features(const device_batch<T>& b, std::size_t features, const char* what) {
    if (b.shape(1) != features)
        throw std::invalid_argument(std::string("gant: ") + what + " expects " + std::to_string(features) +
                                    " values per sample, got " + std::to_string(b.shape(1)));
}

template <class T>
void copy_batch(const device_batch<T>& from, device_batch<T>& to) {
    if (from.size() == 0) return;
    GANT_CUDA_CHECK(
        cudaMemcpyAsync(to.data(), from.data(), from.size() * sizeof(T), cudaMemcpyDeviceToDevice, nullptr));
}

}  // namespace gant::cuda
