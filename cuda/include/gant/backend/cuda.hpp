#pragma once
// The CUDA backend policy: gant::backend::cuda, the counterpart of gant::backend::cpu
// (include/gant/backend/cpu.hpp). A backend is chosen at compile time, as the Backend template
// parameter of layers, networks and gant::gan (default backend::cpu); there is no run-time
// switch. This header exists only where gant::cuda is linked (a CUDA toolkit was found at build
// time), so naming backend::cuda without it is a compile error, not a silent CPU fallback.
//
// What it provides now (part 1 of the CUDA backend): device memory (buffers from the caching
// allocator, explicit transfers, streams) and the convolution kernels, addressed with the same
// conv_geometry that the CPU layers hand to their backend. Part 2 (whole layers and training
// steps on the device) has begun with the pieces around the convolutions, included here: the
// element-wise passes and optimizer updates (gant/cuda/elementwise.hpp), the losses and penalty
// steps (gant/cuda/objectives.hpp), batch and layer norm (gant/cuda/normalization.hpp), cuBLAS
// products with gant's row-major contract, single and strided-batched (gant/cuda/gemm.hpp, and
// gemm below), self-attention's softmax rows and their rules (gant/cuda/attention.hpp) and
// random numbers that match gant::rng's (gant/cuda/random.hpp). Networks built for this backend
// keep their batches in device_batch<T> (batch<T> below) and bind the device layers of
// gant/cuda/layers/ (included at the end); the training step on the device is still to come.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <type_traits>

#include "gant/backend/cpu.hpp"
#include "gant/cuda/allocator.hpp"
#include "gant/cuda/attention.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/conv.hpp"
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/device.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/cuda/gemm.hpp"
#include "gant/cuda/normalization.hpp"
#include "gant/cuda/objectives.hpp"
#include "gant/cuda/random.hpp"
#include "gant/cuda/stream.hpp"

namespace gant::backend {

struct cuda {
    static constexpr const char* name = "cuda";
    static constexpr bool device_memory = true;  // pointers handed to its kernels are device pointers

    template <class T>
    using buffer = gant::cuda::device_buffer<T>;
    template <class T>
    using batch = gant::cuda::device_batch<T>;  // what network<..., backend::cuda, ...> stores batches in
    using stream_type = gant::cuda::stream;

    /// True when this process can use a CUDA device (see gant::cuda::device_count()).
    static bool available() noexcept { return gant::cuda::device_count() > 0; }

    // ---- memory -------------------------------------------------------------------------------

    template <class T>
    static buffer<T> allocate(std::size_t count, cudaStream_t stream = nullptr) {
        return buffer<T>(count, stream);
    }
    template <class T>
    static buffer<T> upload(const T* host, std::size_t count, cudaStream_t stream = nullptr) {
        buffer<T> b(count, stream);
        b.copy_from_host(host, count);
        return b;
    }
    template <class T>
    static void download(const buffer<T>& device, T* host, std::size_t count) {
        device.copy_to_host(host, count);
    }

    // ---- matrix products (cuBLAS, FP32) ----------------------------------------------------------

    /// backend::cpu::gemm's row-major contract on device pointers (gant/cuda/gemm.hpp).
    template <class T>
    static void gemm(blas::op ta, blas::op tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                     std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc,
                     cudaStream_t stream = nullptr) {
        require_float<T>();
        constexpr std::size_t most = 2147483647;  // cuBLAS takes int sizes
        if (m > most || n > most || k > most || lda > most || ldb > most || ldc > most)
            throw std::invalid_argument("gant::backend::cuda::gemm: a size or leading dimension exceeds 2^31 - 1");
        gant::cuda::gemm(ta == blas::op::transpose, tb == blas::op::transpose, int(m), int(n), int(k), alpha, a,
                         int(lda), b, int(ldb), beta, c, int(ldc), stream);
    }

    // ---- convolution kernels (float32 on the tensor cores: TF32 operands, FP32 sums) ---------

    /// The batched conv2d problem of a layer's per-sample geometry (backend::conv_geometry, as
    /// conv2d_impl::geometry() and conv_transpose2d_impl::geometry() give it; a transposed
    /// convolution's geometry is the conv2d it is the adjoint of).
    static gant::cuda::conv2d_problem problem(const conv_geometry& g, std::size_t batch, std::size_t out_channels) {
        return {int(batch),      int(g.channels), int(g.height), int(g.width), int(out_channels),
                int(g.kernel_h), int(g.kernel_w), int(g.stride), int(g.padding)};
    }

    /// y = act(conv2d(x, w) + bias) for a batch; y is [batch, out_channels, out_height, out_width].
    template <class T>
    static void conv2d_forward(const conv_geometry& g, std::size_t batch, std::size_t out_channels, const T* x,
                               const T* w, T* y, const gant::cuda::conv_epilogue& epilogue = {},
                               cudaStream_t stream = nullptr) {
        require_float<T>();
        gant::cuda::conv2d_forward(problem(g, batch, out_channels), x, w, y, epilogue, stream);
    }

    /// dx = conv2d^T(dy, w) (+ epilogue: a transposed convolution's forward is this pass).
    template <class T>
    static void conv2d_backward_data(const conv_geometry& g, std::size_t batch, std::size_t out_channels, const T* dy,
                                     const T* w, T* dx, const gant::cuda::conv_epilogue& epilogue = {},
                                     cudaStream_t stream = nullptr) {
        require_float<T>();
        gant::cuda::conv2d_backward_data(problem(g, batch, out_channels), dy, w, dx, epilogue, stream);
    }

    /// dw (+)= the weight gradient: accumulate adds to dw, as the CPU layers' gradients do.
    template <class T>
    static void conv2d_backward_filter(const conv_geometry& g, std::size_t batch, std::size_t out_channels, const T* x,
                                       const T* dy, T* dw, bool accumulate, cudaStream_t stream = nullptr) {
        require_float<T>();
        gant::cuda::conv2d_backward_filter(problem(g, batch, out_channels), x, dy, dw, 1.f, accumulate ? 1.f : 0.f,
                                           stream);
    }

    /// sums[c] += sum over samples and pixels of batch[s][c][p] (a bias gradient), as cpu::channel_sums.
    template <class T>
    static void channel_sums(const T* batch, std::size_t samples, std::size_t channels, std::size_t pixels, T* sums,
                             cudaStream_t stream = nullptr) {
        require_float<T>();
        gant::cuda::channel_sums(batch, int(samples), int(channels), int(pixels), sums, 1.f, 1.f, stream);
    }

private:
    template <class T>
    static constexpr void require_float() {
        static_assert(std::is_same_v<T, float>,
                      "gant: backend::cuda's kernels are float32 (TF32 tensor cores); use backend::cpu for double "
                      "(gradient checks run on the CPU)");
    }
};

}  // namespace gant::backend

// The device layers that networks built for backend::cuda bind to (they need the policy above).
#include "gant/cuda/layers/bindings.hpp"
// How gan<..., float, backend::cuda> runs its training step on the device (gan.hpp's step_ops).
#include "gant/cuda/train/step_ops.hpp"
