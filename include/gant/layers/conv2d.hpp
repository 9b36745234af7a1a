#pragma once
// 2-D convolution with PyTorch nn.Conv2d semantics: cross-correlation, weight [Cout, Cin, k, k],
// optional bias, square kernel, the same stride and zero padding on both axes.
//
// The layer holds the maths, the backend the kernels (im2col, col2im, GEMM, layout moves):
//   forward          y      = W * im2col(x) + b               W read as [Cout, Cin*k*k]
//   backward-data    dx     = col2im(W^T * dy)
//   backward-filter  dW    += dy * im2col(x)^T,   db += sum over samples and pixels of dy
//   tangent          ydot   = W * im2col(xdot)                 (the bias is constant)
//   paired reverse   the primal backward with ybar plus the tangent backward with ydotbar,
//                    the bias gradient only from ybar (algorithms.md 5.3: every op is linear).
//
// Work is split over the batch on the thread pool. Each worker folds a few consecutive samples
// into one GEMM (their columns side by side), because one sample of a small image gives a GEMM
// too narrow to keep the kernel busy; `fold_columns` sets how wide. W (or W^T) is packed once
// per pass and shared by every chunk (Backend::pass_left_operand). Weight and bias
// gradients go into per-worker accumulators that are summed in worker order, so results are
// bit-identical run to run for a fixed thread count.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "gant/backend/cpu.hpp"
#include "gant/core/parallel.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

namespace detail {

/// One worker's scratch. Buffers grow on first use for a batch size and are then reused, so the
/// steady state (same batch size, same thread count) allocates nothing.
template <class T>
struct conv_scratch {
    std::vector<T> columns;  // unfolded patches of a chunk of samples, [patch, chunk * pixels]
    std::vector<T> packed;   // a chunk's channels side by side, [channels, chunk * pixels]

    static T* grow(std::vector<T>& v, std::size_t n) {
        if (v.size() < n) v.resize(n);
        return v.data();
    }

    /// The scratch of the thread running a chunk, shared by every convolution of every network:
    /// a chunk's body runs to its end on one thread and no convolution runs inside another's
    /// chunk, so one set per thread holds what the largest layer needs, instead of each layer
    /// keeping its own (dcgan64: 20.8 MB of per-layer scratch at one thread became 4.2 MB).
    static conv_scratch& of_this_thread() {
        thread_local conv_scratch scratch;
        return scratch;
    }
};

/// Default GEMM width (columns = samples * pixels) that a worker folds samples up to. Measured
/// with bench/bench_conv on the DCGAN shapes (OpenBLAS SkylakeX kernels, batch 64): folding to
/// 256 columns lifts the 7x7 .. 4x4 layers from 40-55% to 65-80% of the sgemm rate; 512 and 1024
/// were equal or worse, and layers with >= 256 pixels per sample (folded not at all) lose when
/// folded because the extra layout copy costs more than a wider GEMM saves.
inline constexpr std::size_t default_fold_columns = 256;

/// Runs a batch through `body(first, count, scratch, weight_grad, bias_grad)` in chunks of at
/// most `chunk` samples, each worker taking a contiguous slice of the batch. When gradients are
/// wanted and several workers run, each sums into a private [weight | bias] block that is added
/// to the parameter gradients afterwards in worker order (core/parallel.hpp worker_sums); a
/// single worker accumulates directly.
///
/// Neither the scratch nor the private blocks outlive a run, so they are not the layer's: the
/// scratch is the running thread's (conv_scratch::of_this_thread) and the blocks the calling
/// thread's, shared by every convolution that thread runs.
template <class T, class Backend>
class conv_runner {
public:
    template <class Body>
    void run(std::size_t batch, std::size_t chunk, const pass_context& ctx, T* weight_grad, std::size_t weight_size,
             T* bias_grad, std::size_t bias_size, Body&& body) {
        thread_pool& pool = *ctx.pool;
        const std::size_t workers = pool.workers_for(batch);
        chunk = std::max<std::size_t>(chunk, 1);
        const bool private_grads = workers > 1 && (weight_grad || bias_grad);
        const std::size_t weight_part = weight_grad ? weight_size : 0, bias_part = bias_grad ? bias_size : 0;
        worker_sums<T>& grads = grads_of_this_thread();
        if (private_grads) grads.prepare(workers, weight_part + bias_part);
        pool.parallel_for(batch, [&](std::size_t begin, std::size_t end, std::size_t worker) {
            T* wg = weight_grad;
            T* bg = bias_grad;
            if (private_grads) {
                T* block = grads.start(worker);
                wg = weight_grad ? block : nullptr;
                bg = bias_grad ? block + weight_part : nullptr;
            }
            conv_scratch<T>& scratch = conv_scratch<T>::of_this_thread();
            for (std::size_t first = begin; first < end; first += chunk)
                body(first, std::min(chunk, end - first), scratch, wg, bg);
        });
        if (!private_grads) return;
        if (weight_grad) grads.add_in_worker_order(0, weight_part, weight_grad);
        if (bias_grad) grads.add_in_worker_order(weight_part, bias_part, bias_grad);
    }

    /// Samples per GEMM for `pixels` columns per sample: as many as fit in fold_columns, at least one.
    static std::size_t chunk_for(std::size_t pixels, std::size_t fold_columns) {
        return std::max<std::size_t>(1, fold_columns / pixels);
    }

private:
    // Per worker: [weight sums | bias sums] when several workers accumulate. The calling thread's:
    // a run fills and empties them before it returns.
    static worker_sums<T>& grads_of_this_thread() {
        thread_local worker_sums<T> grads;
        return grads;
    }
};

}  // namespace detail

template <class In, std::size_t InChannels, std::size_t OutChannels, std::size_t Kernel, std::size_t Stride,
          std::size_t Padding, bool Bias, class T, class Backend>
class conv2d_impl {
    using dims = image_dims<In>;
    static constexpr std::size_t height = dims::height, width = dims::width;
    static constexpr std::size_t out_height = (height + 2 * Padding - Kernel) / Stride + 1;
    static constexpr std::size_t out_width = (width + 2 * Padding - Kernel) / Stride + 1;
    static constexpr std::size_t patch = InChannels * Kernel * Kernel;  // rows of the column matrix
    static constexpr std::size_t pixels = out_height * out_width;      // output pixels per channel
    static constexpr std::size_t in_size = In::size;
    static constexpr std::size_t out_size = OutChannels * pixels;
    // A 1x1 kernel with stride 1 and no padding makes im2col the identity: x itself (one sample)
    // or its channels side by side (folded samples) is the column matrix, and col2im is a copy.
    static constexpr bool pointwise = Kernel == 1 && Stride == 1 && Padding == 0;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = shape<OutChannels, out_height, out_width>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    conv2d_impl()
        : weight_("weight", {OutChannels, InChannels, Kernel, Kernel}, role::weight, patch,
                  OutChannels * Kernel * Kernel),
          bias_("bias", {Bias ? OutChannels : 0}, role::bias, patch, OutChannels * Kernel * Kernel) {}

    parameter<T>& weight() { return weight_; }
    parameter<T>& bias() { return bias_; }

    /// Samples are folded into one GEMM up to this many columns (0 or 1: one sample per GEMM).
    void set_fold_columns(std::size_t columns) { fold_columns_ = columns; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) { convolve(x, y, Bias, ctx); }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        adjoint(x, dy, dx, accumulate, accumulate && Bias, ctx);
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        convolve(xdot, ydot, false, ctx);
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        adjoint(x, ybar, xbar, true, Bias, ctx);            // primal path: y = conv(x, W) + b
        adjoint(xdot, ydotbar, xdotbar, true, false, ctx);  // tangent path: ydot = conv(xdot, W)
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(weight_);
        if constexpr (Bias) f(bias_);
    }
    template <class F>
    void visit_buffers(F&&) {}

    static constexpr backend::conv_geometry geometry() {
        return {InChannels, height, width, Kernel, Kernel, Stride, Padding, out_height, out_width};
    }

private:
    // The column matrix [patch, count * pixels] of `count` samples starting at `images`.
    static const T* unfold(const T* images, std::size_t count, detail::conv_scratch<T>& s) {
        const std::size_t cols = count * pixels;
        if constexpr (pointwise) {
            if (count == 1) return images;
            T* columns = s.grow(s.columns, patch * cols);
            Backend::pack_channels(images, count, InChannels, pixels, columns);
            return columns;
        } else {
            T* columns = s.grow(s.columns, patch * cols);
            for (std::size_t j = 0; j < count; ++j)
                Backend::template im2col<geometry()>(images + j * in_size, columns + j * pixels, cols);
            return columns;
        }
    }

    // y = W * im2col(x) (+ b).
    void convolve(const tensor<T>& x, tensor<T>& y, bool with_bias, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        const T* bias = with_bias ? bias_.data() : nullptr;
        auto& w = Backend::template pass_left_operand<T>();  // W, packed once for every chunk
        w.prepare(blas::op::none, OutChannels, patch, weight_.data(), patch);
        runner_.run(n, runner_type::chunk_for(pixels, fold_columns_), ctx, nullptr, 0, nullptr, 0,
                    [&](std::size_t first, std::size_t count, detail::conv_scratch<T>& s, T*, T*) {
                        const std::size_t cols = count * pixels;
                        const T* columns = unfold(x.data() + first * in_size, count, s);
                        T* out = y.data() + first * out_size;
                        if (count == 1) {  // one sample: [Cout, pixels] is already NCHW
                            if (bias) Backend::fill_channels(out, 1, OutChannels, pixels, bias);
                            Backend::gemm(w, blas::op::none, cols, T(1), columns, cols, bias ? T(1) : T(0), out, cols);
                        } else {
                            T* packed = s.grow(s.packed, OutChannels * cols);
                            Backend::gemm(w, blas::op::none, cols, T(1), columns, cols, T(0), packed, cols);
                            Backend::unpack_channels(packed, count, OutChannels, pixels, out, bias);
                        }
                    });
    }

    // The transpose of the convolution, given the adjoint dy of its output: dx = col2im(W^T dy)
    // when dx is wanted, dW += dy * im2col(x)^T when weight_grad, db += sums of dy when bias_grad.
    void adjoint(const tensor<T>& x, const tensor<T>& dy, tensor<T>* dx, bool weight_grad, bool bias_grad,
                 const pass_context& ctx) {
        if (!dx && !weight_grad && !bias_grad) return;
        const std::size_t n = x.shape(0);
        auto& wt = Backend::template pass_left_operand<T>();  // W^T, packed once for every chunk
        if (dx) wt.prepare(blas::op::transpose, patch, OutChannels, weight_.data(), patch);
        T* wg = weight_grad ? weight_.grad_data() : nullptr;
        T* bg = bias_grad ? bias_.grad_data() : nullptr;
        runner_.run(n, runner_type::chunk_for(pixels, fold_columns_), ctx, wg, weight_.size(), bg, OutChannels,
                    [&](std::size_t first, std::size_t count, detail::conv_scratch<T>& s, T* wacc, T* bacc) {
                        const std::size_t cols = count * pixels;
                        const T* grad = dy.data() + first * out_size;
                        const T* g = grad;  // dy of the chunk as [Cout, cols]
                        if (count > 1) {
                            T* packed = s.grow(s.packed, OutChannels * cols);
                            Backend::pack_channels(grad, count, OutChannels, pixels, packed);
                            g = packed;
                        }
                        if (wacc) {
                            const T* columns = unfold(x.data() + first * in_size, count, s);
                            Backend::gemm(blas::op::none, blas::op::transpose, OutChannels, patch, cols, T(1), g, cols,
                                          columns, cols, T(1), wacc, patch);
                        }
                        if (bacc) Backend::channel_sums(grad, count, OutChannels, pixels, bacc);
                        if (dx) {
                            T* out = dx->data() + first * in_size;
                            if (pointwise && count == 1) {  // the column adjoint is dx itself
                                Backend::gemm(wt, blas::op::none, cols, T(1), g, cols, T(0), out, cols);
                                return;
                            }
                            T* columns = s.grow(s.columns, patch * cols);
                            Backend::gemm(wt, blas::op::none, cols, T(1), g, cols, T(0), columns, cols);
                            if constexpr (pointwise) {
                                Backend::unpack_channels(columns, count, InChannels, pixels, out,
                                                         static_cast<const T*>(nullptr));
                            } else {
                                std::fill(out, out + count * in_size, T(0));
                                for (std::size_t j = 0; j < count; ++j)
                                    Backend::template col2im<geometry()>(columns + j * pixels, out + j * in_size, cols);
                            }
                        }
                    });
    }

    using runner_type = detail::conv_runner<T, Backend>;
    parameter<T> weight_, bias_;
    runner_type runner_;
    std::size_t fold_columns_ = detail::default_fold_columns;
};

namespace detail {
template <class In, std::size_t C, std::size_t K, std::size_t P>
constexpr bool conv_input_fits() {
    if constexpr (is_shape_v<In>) {
        if constexpr (In::rank == 3)
            return In::dims[0] == C && In::dims[1] + 2 * P >= K && In::dims[2] + 2 * P >= K;
        else
            return false;
    } else {
        return false;
    }
}
}  // namespace detail

/// conv2d<Cin, Cout, K, S, P, Bias>: PyTorch's nn.Conv2d(Cin, Cout, K, stride=S, padding=P,
/// bias=Bias) on an image shape<Cin, H, W>; the output is shape<Cout, (H+2P-K)/S+1, (W+2P-K)/S+1>.
template <std::size_t InChannels, std::size_t OutChannels, std::size_t Kernel, std::size_t Stride = 1,
          std::size_t Padding = 0, bool Bias = true>
struct conv2d {
    static_assert(InChannels > 0 && OutChannels > 0, "gant: conv2d needs positive channel counts");
    static_assert(Kernel > 0 && Stride > 0, "gant: conv2d needs a positive kernel size and stride");
    static constexpr const char* name = "conv2d";
    static constexpr std::size_t spectral_dim = 0;  // weight rows = output channels
    using expects = expects_channels<InChannels>;
    template <class In>
    static constexpr bool accepts = detail::conv_input_fits<In, InChannels, Kernel, Padding>();
    template <class In>
    using output_shape = shape<OutChannels, (In::dims[1] + 2 * Padding - Kernel) / Stride + 1,
                               (In::dims[2] + 2 * Padding - Kernel) / Stride + 1>;
    template <class In, class T, class B>
    using impl = conv2d_impl<In, InChannels, OutChannels, Kernel, Stride, Padding, Bias, T, B>;
};

}  // namespace gant
