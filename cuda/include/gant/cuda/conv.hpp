#pragma once
// gant's convolution kernels on CUDA devices: conv2d forward, backward-data and backward-filter,
// and conv_transpose2d as conv2d's adjoint, all NCHW float32 in device memory, as implicit GEMMs
// on the tensor cores (TF32 operands rounded to nearest, FP32 accumulation; docs/cuda.md).
//
// This header is plain C++ (it needs only the CUDA runtime headers), so host code compiled by
// any C++ compiler calls the kernels; the kernels themselves are compiled once into
// gant::cuda_kernels (cuda/src/*.cu). Every call is asynchronous on the given stream and
// checks its launch (GANT_CUDA_CHECK_LAUNCH); a workspace, when a pass splits its reduction
// dimension over several blocks, comes from the caching allocator on that stream.
//
// Layouts follow PyTorch: x [N, C, H, W]; conv2d weight [Cout, Cin, KH, KW]; conv_transpose2d
// weight [Cin, Cout, KH, KW]; bias [channels of the output].
#include <cuda_runtime_api.h>

#include <string>

namespace gant::cuda {

/// A 2-D convolution over a batch: PyTorch's Conv2d(in_channels, out_channels, (kernel_h,
/// kernel_w), stride, padding) on [batch, in_channels, in_height, in_width] (cross-correlation,
/// the same stride and zero padding on both axes, no dilation or groups).
struct conv2d_problem {
    int batch = 1;
    int in_channels = 1, in_height = 1, in_width = 1;
    int out_channels = 1;
    int kernel_h = 1, kernel_w = 1;
    int stride = 1, padding = 0;

    int out_height() const { return (in_height + 2 * padding - kernel_h) / stride + 1; }
    int out_width() const { return (in_width + 2 * padding - kernel_w) / stride + 1; }
    long long input_size() const { return 1LL * batch * in_channels * in_height * in_width; }
    long long output_size() const { return 1LL * batch * out_channels * out_height() * out_width(); }
    long long weight_size() const { return 1LL * out_channels * in_channels * kernel_h * kernel_w; }
    /// Multiply-adds of one pass (forward, backward-data and backward-filter do as many), times 2.
    double flops() const { return 2.0 * output_size() * in_channels * kernel_h * kernel_w; }
    std::string describe() const;
};

/// PyTorch's ConvTranspose2d(in_channels, out_channels, (kernel_h, kernel_w), stride, padding)
/// on [batch, in_channels, in_height, in_width]: out = (in - 1) * stride - 2 * padding + kernel
/// (no output_padding). It is the adjoint of the conv2d adjoint() describes, which maps an
/// image of this layer's output shape to one of its input shape with the same weight memory.
struct conv_transpose2d_problem {
    int batch = 1;
    int in_channels = 1, in_height = 1, in_width = 1;
    int out_channels = 1;
    int kernel_h = 1, kernel_w = 1;
    int stride = 1, padding = 0;

    int out_height() const { return (in_height - 1) * stride - 2 * padding + kernel_h; }
    int out_width() const { return (in_width - 1) * stride - 2 * padding + kernel_w; }
    conv2d_problem adjoint() const {
        return {batch, out_channels, out_height(), out_width(), in_channels, kernel_h, kernel_w, stride, padding};
    }
    std::string describe() const;
};

enum class activation { none, relu, leaky_relu, tanh };

/// What the forward passes (and conv2d backward-data, which is conv_transpose2d's forward) do
/// with each accumulated value v before storing it at out:
///   out = act(alpha * v + beta * out + bias[channel])
/// out is not read when beta == 0 (so it may hold anything, NaN included); bias may be null.
///
/// The chain-rule factor, applied last when `chain` is not none, is the work the backward and
/// tangent (gradient-penalty) passes of a conv followed by an activation phi need, fused:
///   out = phi'(y) * out + phi''(y) * curvature_a * curvature_b
/// with y = `chain_output` (phi's forward output, same layout as out) and phi = `chain` with
/// `chain_slope` for leaky_relu (positive). Examples: the tangent of y = phi(conv(x)) is
/// conv2d_forward(xdot) with chain = phi at that layer's output; the gradient reaching the
/// activation before a conv is conv2d_backward_data(dy) with chain = that activation. phi'(y)
/// is taken from the output, as gant's CPU activations do: relu y > 0 ? 1 : 0, leaky_relu
/// y > 0 ? 1 : slope (so NaN gets the slope, like the CPU), tanh 1 - y^2. The curvature term is
/// added only when both pointers are set and phi'' is not zero (tanh: -2y(1 - y^2)); it is the
/// second-order term of the paired backward pass, phi''(a) * adot * ydotbar.
struct conv_epilogue {
    const float* bias = nullptr;
    activation act = activation::none;
    float slope = 0.2f;  // leaky_relu's negative slope
    float alpha = 1.f;
    float beta = 0.f;
    activation chain = activation::none;  // none: no chain-rule factor
    const float* chain_output = nullptr;  // phi's output y; required when chain is not none
    float chain_slope = 0.2f;
    const float* curvature_a = nullptr;   // both or neither
    const float* curvature_b = nullptr;
};

enum class conv_pass { forward, backward_data, backward_filter };

/// Which kernel configuration runs a pass. The defaults pick by the heuristic; tests and the
/// benchmark force each configuration (index < config_count()) and a split of the reduction
/// dimension over `splits` blocks (1 = none) to cover and time them all.
struct kernel_choice {
    int config = -1;  // -1: heuristic
    int splits = 0;   // 0: heuristic
};

/// The resolved choice for one pass on the current device.
struct kernel_plan {
    int config = 0;
    int splits = 1;
    int phases = 1;       // backward-data: one GEMM per stride phase (stride^2)
    long long blocks = 0; // thread blocks of the main kernel
    std::string describe() const;
};

int config_count();
const char* config_name(int config);
/// True for the pipelined kernel's configurations (cp.async stages, mma.sync), false for the
/// two-stage WMMA kernel's.
bool config_pipelined(int config);

/// Empty when the kernels can run the problem; otherwise why not (sizes that overflow 32-bit
/// indexing, non-positive sizes, an output smaller than one pixel).
std::string cannot_implement(const conv2d_problem& problem);

kernel_plan plan_conv2d(const conv2d_problem& problem, conv_pass pass, const kernel_choice& choice = {});

/// y = act(alpha * conv2d(x, w) + beta * y + bias)
void conv2d_forward(const conv2d_problem& problem, const float* x, const float* w, float* y,
                    const conv_epilogue& epilogue = {}, cudaStream_t stream = nullptr, const kernel_choice& choice = {});

/// dx = act(alpha * conv2d^T(dy, w) + beta * dx + bias): the input gradient of conv2d, which is
/// also conv_transpose2d's forward (hence the epilogue).
void conv2d_backward_data(const conv2d_problem& problem, const float* dy, const float* w, float* dx,
                          const conv_epilogue& epilogue = {}, cudaStream_t stream = nullptr,
                          const kernel_choice& choice = {});

/// dw = alpha * sum over samples and pixels of dy (x) im2col(x) + beta * dw. beta = 1
/// accumulates into an existing gradient.
void conv2d_backward_filter(const conv2d_problem& problem, const float* x, const float* dy, float* dw,
                            float alpha = 1.f, float beta = 0.f, cudaStream_t stream = nullptr,
                            const kernel_choice& choice = {});

/// y = act(alpha * convT(x, w) + beta * y + bias) = conv2d_backward_data(adjoint, x, w, y)
void conv_transpose2d_forward(const conv_transpose2d_problem& problem, const float* x, const float* w, float* y,
                              const conv_epilogue& epilogue = {}, cudaStream_t stream = nullptr,
                              const kernel_choice& choice = {});

/// dx = alpha * convT^T(dy, w) + beta * dx = conv2d_forward(adjoint, dy, w, dx)
void conv_transpose2d_backward_data(const conv_transpose2d_problem& problem, const float* dy, const float* w,
                                    float* dx, float alpha = 1.f, float beta = 0.f, cudaStream_t stream = nullptr,
                                    const kernel_choice& choice = {});

/// dw = alpha * (gradient of convT's weight) + beta * dw = conv2d_backward_filter(adjoint, dy, x, dw)
void conv_transpose2d_backward_filter(const conv_transpose2d_problem& problem, const float* x, const float* dy,
                                      float* dw, float alpha = 1.f, float beta = 0.f, cudaStream_t stream = nullptr,
                                      const kernel_choice& choice = {});

/// sums[c] = alpha * (sum over samples and pixels of batch[s][c][p]) + beta * sums[c]: the bias
/// gradient. One block per channel, a fixed reduction order: the result is the same run to run.
void channel_sums(const float* batch, int samples, int channels, int pixels, float* sums, float alpha = 1.f,
                  float beta = 0.f, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
