#pragma once
// Transposed 2-D convolution with PyTorch nn.ConvTranspose2d semantics: weight [Cin, Cout, k, k],
// optional bias, output size (H - 1) * S - 2P + K (no output_padding, no dilation).
//
// It is implemented as the adjoint of conv2d, never as a convolution over a zero-stuffed input
// (which would spend most of its multiplications on zeros). Take the conv2d that maps an image
// of the *output* shape [Cout, H', W'] to the *input* grid [., H, W] with the same K, S, P;
// read W as the matrix [Cin, Cout*k*k]. Then
//   forward          y      = col2im(W^T * x) + b
//   backward-data    dx     = W * im2col(dy)
//   backward-filter  dW    += x * im2col(dy)^T,   db += sum over samples and pixels of dy
//   tangent          ydot   = col2im(W^T * xdot)
//   paired reverse   primal backward with ybar + tangent backward with ydotbar, bias only from ybar.
// Threading, sample folding and deterministic gradient reduction as in conv2d.hpp.
#include "gant/layers/conv2d.hpp"

namespace gant {

template <class In, std::size_t InChannels, std::size_t OutChannels, std::size_t Kernel, std::size_t Stride,
          std::size_t Padding, bool Bias, class T, class Backend>
class conv_transpose2d_impl {
    using dims = image_dims<In>;
    static constexpr std::size_t height = dims::height, width = dims::width;
    static constexpr std::size_t out_height = (height - 1) * Stride + Kernel - 2 * Padding;
    static constexpr std::size_t out_width = (width - 1) * Stride + Kernel - 2 * Padding;
    static constexpr std::size_t patch = OutChannels * Kernel * Kernel;  // rows of the column matrix
    static constexpr std::size_t pixels = height * width;               // input pixels per channel
    static constexpr std::size_t out_pixels = out_height * out_width;
    static constexpr std::size_t in_size = In::size;
    static constexpr std::size_t out_size = OutChannels * out_pixels;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = shape<OutChannels, out_height, out_width>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y

    // Fans follow PyTorch, which reads dimension 1 of any conv weight as the fan-in; for a
    // transposed conv that is Cout*k*k, so init::pytorch_default and init::kaiming match PyTorch.
    conv_transpose2d_impl()
        : weight_("weight", {InChannels, OutChannels, Kernel, Kernel}, role::weight, patch,
                  InChannels * Kernel * Kernel),
          bias_("bias", {Bias ? OutChannels : 0}, role::bias, patch, InChannels * Kernel * Kernel) {}

    parameter<T>& weight() { return weight_; }
    parameter<T>& bias() { return bias_; }

    /// Samples are folded into one GEMM up to this many columns (0 or 1: one sample per GEMM).
    void set_fold_columns(std::size_t columns) { fold_columns_ = columns; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) { expand(x, y, Bias, ctx); }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        adjoint(x, dy, dx, accumulate, accumulate && Bias, ctx);
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        expand(xdot, ydot, false, ctx);
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        adjoint(x, ybar, xbar, true, Bias, ctx);
        adjoint(xdot, ydotbar, xdotbar, true, false, ctx);
    }

    template <class F>
    void visit_parameters(F&& f) {
        f(weight_);
        if constexpr (Bias) f(bias_);
    }
    template <class F>
    void visit_buffers(F&&) {}

    /// The geometry of the conv2d this layer is the adjoint of (output image -> input grid).
    static constexpr backend::conv_geometry geometry() {
        return {OutChannels, out_height, out_width, Kernel, Kernel, Stride, Padding, height, width};
    }

private:
    // y = col2im(W^T * x) (+ b).
    void expand(const tensor<T>& x, tensor<T>& y, bool with_bias, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        const T* bias = with_bias ? bias_.data() : nullptr;
        auto& wt = Backend::template pass_left_operand<T>();  // W^T, packed once for every chunk
        wt.prepare(blas::op::transpose, patch, InChannels, weight_.data(), patch);
        runner_.run(n, runner_type::chunk_for(pixels, fold_columns_), ctx, nullptr, 0, nullptr, 0,
                    [&](std::size_t first, std::size_t count, detail::conv_scratch<T>& s, T*, T*) {
                        const std::size_t cols = count * pixels;
                        const T* in = x.data() + first * in_size;
                        const T* xm = in;  // x of the chunk as [Cin, cols]
                        if (count > 1) {
                            T* packed = s.grow(s.packed, InChannels * cols);
                            Backend::pack_channels(in, count, InChannels, pixels, packed);
                            xm = packed;
                        }
                        T* columns = s.grow(s.columns, patch * cols);
                        Backend::gemm(wt, blas::op::none, cols, T(1), xm, cols, T(0), columns, cols);
                        T* out = y.data() + first * out_size;
                        Backend::fill_channels(out, count, OutChannels, out_pixels, bias);  // col2im only adds
                        for (std::size_t j = 0; j < count; ++j)
                            Backend::template col2im<geometry()>(columns + j * pixels, out + j * out_size, cols);
                    });
    }

    // Given the adjoint dy of the output: dx = W * im2col(dy) when dx is wanted,
    // dW += x * im2col(dy)^T when weight_grad, db += sums of dy when bias_grad.
    void adjoint(const tensor<T>& x, const tensor<T>& dy, tensor<T>* dx, bool weight_grad, bool bias_grad,
                 const pass_context& ctx) {
        if (!dx && !weight_grad && !bias_grad) return;
        const std::size_t n = x.shape(0);
        auto& w = Backend::template pass_left_operand<T>();  // W, packed once for every chunk
        if (dx) w.prepare(blas::op::none, InChannels, patch, weight_.data(), patch);
        T* wg = weight_grad ? weight_.grad_data() : nullptr;
        T* bg = bias_grad ? bias_.grad_data() : nullptr;
        runner_.run(n, runner_type::chunk_for(pixels, fold_columns_), ctx, wg, weight_.size(), bg, OutChannels,
                    [&](std::size_t first, std::size_t count, detail::conv_scratch<T>& s, T* wacc, T* bacc) {
                        const std::size_t cols = count * pixels;
                        const T* grad = dy.data() + first * out_size;
                        if (bacc) Backend::channel_sums(grad, count, OutChannels, out_pixels, bacc);
                        if (!wacc && !dx) return;
                        T* columns = s.grow(s.columns, patch * cols);
                        for (std::size_t j = 0; j < count; ++j)
                            Backend::template im2col<geometry()>(grad + j * out_size, columns + j * pixels, cols);
                        if (wacc) {
                            const T* in = x.data() + first * in_size;
                            const T* xm = in;
                            if (count > 1) {
                                T* packed = s.grow(s.packed, InChannels * cols);
                                Backend::pack_channels(in, count, InChannels, pixels, packed);
                                xm = packed;
                            }
                            Backend::gemm(blas::op::none, blas::op::transpose, InChannels, patch, cols, T(1), xm, cols,
                                          columns, cols, T(1), wacc, patch);
                        }
                        if (dx) {
                            T* out = dx->data() + first * in_size;
                            if (count == 1) {
                                Backend::gemm(w, blas::op::none, cols, T(1), columns, cols, T(0), out, cols);
                            } else {
                                T* packed = s.grow(s.packed, InChannels * cols);
                                Backend::gemm(w, blas::op::none, cols, T(1), columns, cols, T(0), packed, cols);
                                Backend::unpack_channels(packed, count, InChannels, pixels, out,
                                                         static_cast<const T*>(nullptr));
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
template <class In, std::size_t C, std::size_t K, std::size_t S, std::size_t P>
constexpr bool conv_transpose_input_fits() {
    if constexpr (is_shape_v<In>) {
        if constexpr (In::rank == 3)
            return In::dims[0] == C && (In::dims[1] - 1) * S + K > 2 * P && (In::dims[2] - 1) * S + K > 2 * P;
        else
            return false;
    } else {
        return false;
    }
}
}  // namespace detail

/// conv_transpose2d<Cin, Cout, K, S, P, Bias>: PyTorch's nn.ConvTranspose2d(Cin, Cout, K, stride=S,
/// padding=P, bias=Bias) on shape<Cin, H, W>; the output is shape<Cout, (H-1)S-2P+K, (W-1)S-2P+K>.
template <std::size_t InChannels, std::size_t OutChannels, std::size_t Kernel, std::size_t Stride = 1,
          std::size_t Padding = 0, bool Bias = true>
struct conv_transpose2d {
    static_assert(InChannels > 0 && OutChannels > 0, "gant: conv_transpose2d needs positive channel counts");
    static_assert(Kernel > 0 && Stride > 0, "gant: conv_transpose2d needs a positive kernel size and stride");
    static constexpr const char* name = "conv_transpose2d";
    static constexpr std::size_t spectral_dim = 1;  // weight [Cin, Cout, k, k]: PyTorch reads dim 1
    using expects = expects_channels<InChannels>;
    template <class In>
    static constexpr bool accepts = detail::conv_transpose_input_fits<In, InChannels, Kernel, Stride, Padding>();
    template <class In>
    using output_shape = shape<OutChannels, (In::dims[1] - 1) * Stride + Kernel - 2 * Padding,
                               (In::dims[2] - 1) * Stride + Kernel - 2 * Padding>;
    template <class In, class T, class B>
    using impl = conv_transpose2d_impl<In, InChannels, OutChannels, Kernel, Stride, Padding, Bias, T, B>;
};

}  // namespace gant
