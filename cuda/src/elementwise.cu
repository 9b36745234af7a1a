// The element-wise passes (gant/cuda/elementwise.hpp) and the device random numbers
// (gant/cuda/random.hpp): the functors of detail/elementwise_ops.hpp, each run over its index
// range by detail/run_elementwise.cuh's grid-stride kernel.
#include <stdexcept>
#include <string>

#include "gant/cuda/detail/device_exec.cuh"
#include "gant/cuda/detail/elementwise_ops.hpp"
#include "gant/cuda/detail/random_passes.hpp"
#include "gant/cuda/elementwise.hpp"
#include "gant/cuda/random.hpp"

namespace gant::cuda {

using detail::require_argument;

namespace {

detail::activation_math math(activation phi, float slope) { return {phi, slope}; }

}  // namespace

void activation_forward(activation phi, float slope, const float* a, float* y, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (a && y), "activation_forward", "an input or output pointer is null");
    detail::run_elementwise(detail::activation_forward_op{math(phi, slope), a, y}, n, stream,
                            "launch of activation_forward");
}

void activation_backward(activation phi, float slope, const float* a, const float* y, const float* dy, float* da,
                         std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (a && y && dy && da), "activation_backward", "an input or output pointer is null");
    detail::run_elementwise(detail::activation_backward_op{math(phi, slope), a, y, dy, da}, n, stream,
                            "launch of activation_backward");
}

void activation_tangent(activation phi, float slope, const float* a, const float* y, const float* adot, float* ydot,
                        std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (a && y && adot && ydot), "activation_tangent", "an input or output pointer is null");
    detail::run_elementwise(detail::activation_tangent_op{math(phi, slope), a, y, adot, ydot}, n, stream,
                            "launch of activation_tangent");
}

void activation_paired(activation phi, float slope, const float* a, const float* y, const float* adot,
                       const float* ybar, const float* ydotbar, float* abar, float* adotbar, std::size_t n,
                       cudaStream_t stream) {
    require_argument(n == 0 || (abar || adotbar), "activation_paired", "neither output (abar, adotbar) is given");
    require_argument(n == 0 || (a && y && ydotbar && (!abar || (adot && ybar))), "activation_paired",
                     "an input pointer is null");
    detail::run_elementwise(detail::activation_paired_op{math(phi, slope), a, y, adot, ybar, ydotbar, abar, adotbar}, n,
                            stream, "launch of activation_paired");
}

void adam_update(const adam_settings& settings, std::uint64_t step, float* value, const float* grad, float* m, float* v,
                 float* vmax, std::size_t n, cudaStream_t stream) {
    require_argument(step >= 1, "adam_update", "the step count starts at 1");
    require_argument(n == 0 || (value && grad && m && v), "adam_update",
                     "a parameter, gradient or moment pointer is null");
    detail::run_elementwise(detail::adam_op{detail::make_adam_constants(settings, step), value, grad, m, v, vmax}, n,
                            stream, "launch of adam_update");
}

void rmsprop_update(const rmsprop_settings& settings, float* value, const float* grad, float* square, float* buf,
                    float* mean, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (value && grad && square), "rmsprop_update",
                     "a parameter, gradient or square-average pointer is null");
    require_argument(n == 0 || settings.momentum <= 0 || buf, "rmsprop_update",
                     "momentum > 0 needs the momentum buffer");
    detail::run_elementwise(detail::rmsprop_op{detail::make_rmsprop_constants(settings), value, grad, square,
                                               settings.momentum > 0 ? buf : nullptr, mean},
                            n, stream, "launch of rmsprop_update");
}

void ema_update(double decay, float* average, const float* weights, std::size_t n, cudaStream_t stream) {
    require_argument(n == 0 || (average && weights), "ema_update", "the average or the weights pointer is null");
    detail::run_elementwise(detail::ema_op{float(decay), float(1.0 - decay), average, weights}, n, stream,
                            "launch of ema_update");
}

void gather_rows(const float* table, std::size_t row_size, const std::uint32_t* rows, std::size_t count, float* out,
                 cudaStream_t stream) {
    require_argument(count * row_size == 0 || (table && rows && out), "gather_rows",
                     "a table, row or output pointer is null");
    detail::run_elementwise(detail::gather_rows_op{table, row_size, rows, out}, count * row_size, stream,
                            "launch of gather_rows");
}

void fill_normal(rng& r, float* out, std::size_t count, cudaStream_t stream) {
    require_argument(count == 0 || out, "fill_normal", "the output pointer is null");
    detail::fill_normal_pass(detail::device_exec{stream}, r, out, count);
}

void fill_uniform(rng& r, float* out, std::size_t count, double lo, double hi, cudaStream_t stream) {
    require_argument(count == 0 || out, "fill_uniform", "the output pointer is null");
    detail::fill_uniform_pass(detail::device_exec{stream}, r, out, count, lo, hi);
}

}  // namespace gant::cuda
