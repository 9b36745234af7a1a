// The host entry points of gant's CUDA convolutions (gant/cuda/conv.hpp): checks, plans and
// dispatch to the per-pass launchers. Plain C++; the kernels are in conv_*.cu.
#include "gant/cuda/conv.hpp"

#include <array>
#include <atomic>
#include <limits>
#include <stdexcept>
#include <string>

#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/launch.hpp"
#include "gant/cuda/detail/plan.hpp"

namespace gant::cuda {

namespace {

/// Multiprocessors of the current device, queried once per device.
int current_sms() {
    static std::array<std::atomic<int>, 64> cached{};
    int device = 0;
    GANT_CUDA_CHECK(cudaGetDevice(&device));
    if (device >= 0 && device < 64) {
        if (int sms = cached[std::size_t(device)].load(std::memory_order_relaxed)) return sms;
    }
    int sms = 0;
    GANT_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    if (device >= 0 && device < 64) cached[std::size_t(device)].store(sms, std::memory_order_relaxed);
    return sms;
}

/// The device as the planner sees it for Op's kernels.
template <class Op>
detail::device_shape device_for() {
    detail::device_shape dev;
    dev.sms = current_sms();
    detail::query_residency<Op>(dev.resident);
    return dev;
}

void require(const conv2d_problem& problem, const char* what) {
    const std::string why = cannot_implement(problem);
    if (!why.empty()) throw std::invalid_argument(std::string("gant::cuda::") + what + ": " + why);
}

void require_pointers(const void* a, const void* b, const void* c, const char* what) {
    if (!a || !b || !c) throw std::invalid_argument(std::string("gant::cuda::") + what + ": a tensor pointer is null");
}

/// The chain-rule factor needs the activation's output, and a curvature term both its tensors.
void require_epilogue(const conv_epilogue& e, const char* what) {
    if (e.chain != activation::none && !e.chain_output)
        throw std::invalid_argument(std::string("gant::cuda::") + what +
                                    ": the epilogue's chain-rule factor needs chain_output (the activation's output)");
    if (bool(e.curvature_a) != bool(e.curvature_b))
        throw std::invalid_argument(std::string("gant::cuda::") + what +
                                    ": the epilogue's curvature term needs both curvature_a and curvature_b");
}

void check_choice(const kernel_choice& choice, const char* what) {
    if (choice.config >= config_count())
        throw std::invalid_argument(std::string("gant::cuda::") + what + ": kernel_choice.config " +
                                    std::to_string(choice.config) + " >= config_count() = " +
                                    std::to_string(config_count()));
}

detail::launch_plan plan_for(const conv2d_problem& problem, conv_pass pass, const kernel_choice& choice) {
    switch (pass) {
        case conv_pass::forward:
            return detail::choose_plan(detail::extent_of(detail::make_fprop(problem, nullptr, nullptr, nullptr, {})),
                                       device_for<detail::fprop_op>(), choice);
        case conv_pass::backward_data:
            return detail::choose_plan(detail::extent_of(detail::make_dgrad(problem, nullptr, nullptr, nullptr, {})),
                                       device_for<detail::dgrad_op>(), choice);
        case conv_pass::backward_filter:
            return detail::choose_plan(
                detail::extent_of(detail::make_wgrad(problem, nullptr, nullptr, nullptr, 1.f, 0.f)),
                device_for<detail::wgrad_op>(), choice);
    }
    throw std::invalid_argument("gant::cuda: unknown conv_pass");
}

}  // namespace

std::string conv2d_problem::describe() const {
    // No output size from a stride that is not positive (cannot_implement describes such problems too).
    const std::string out = stride > 0 ? " " + std::to_string(out_height()) + "x" + std::to_string(out_width()) : "";
    return "conv2d N=" + std::to_string(batch) + " C=" + std::to_string(in_channels) + " " + std::to_string(in_height) +
           "x" + std::to_string(in_width) + " -> K=" + std::to_string(out_channels) + out + " kernel " +
           std::to_string(kernel_h) + "x" + std::to_string(kernel_w) + " stride " + std::to_string(stride) + " pad " +
           std::to_string(padding);
}

std::string conv_transpose2d_problem::describe() const {
    return "conv_transpose2d N=" + std::to_string(batch) + " C=" + std::to_string(in_channels) + " " +
           std::to_string(in_height) + "x" + std::to_string(in_width) + " -> K=" + std::to_string(out_channels) + " " +
           std::to_string(out_height()) + "x" + std::to_string(out_width()) + " kernel " + std::to_string(kernel_h) +
           "x" + std::to_string(kernel_w) + " stride " + std::to_string(stride) + " pad " + std::to_string(padding);
}

std::string kernel_plan::describe() const {
    return std::string(config_name(config)) + " splits=" + std::to_string(splits) +
           (phases > 1 ? " phases=" + std::to_string(phases) : std::string()) + " blocks=" + std::to_string(blocks);
}

int config_count() { return detail::config_total; }

const char* config_name(int config) {
    return config >= 0 && config < detail::config_total ? detail::config_table[config].name : "(none)";
}

bool config_pipelined(int config) {
    return config >= 0 && config < detail::config_total && detail::config_table[config].pipelined;
}

std::string cannot_implement(const conv2d_problem& p) {
    if (p.batch < 1 || p.in_channels < 1 || p.out_channels < 1 || p.in_height < 1 || p.in_width < 1)
        return "batch, channels and image sizes must be positive (" + p.describe() + ")";
    if (p.kernel_h < 1 || p.kernel_w < 1 || p.stride < 1 || p.padding < 0)
        return "kernel and stride must be positive and padding non-negative (" + p.describe() + ")";
    if (p.in_height + 2 * p.padding < p.kernel_h || p.in_width + 2 * p.padding < p.kernel_w)
        return "the kernel is larger than the padded image (" + p.describe() + ")";
    if (p.stride > 32) return "strides above 32 are not supported (" + p.describe() + ")";
    if (p.out_channels > 65535 || p.in_channels > 65535)
        return "more than 65535 channels are not supported (" + p.describe() + ")";
    constexpr long long limit = std::numeric_limits<int>::max();
    const long long columns = 1LL * p.batch * p.out_height() * p.out_width();
    if (p.input_size() > limit || p.output_size() > limit || p.weight_size() > limit || columns > limit)
        return "a tensor has 2^31 elements or more; the kernels index with 32 bits (" + p.describe() + ")";
    return {};
}

kernel_plan plan_conv2d(const conv2d_problem& problem, conv_pass pass, const kernel_choice& choice) {
    require(problem, "plan_conv2d");
    check_choice(choice, "plan_conv2d");
    const detail::launch_plan plan = plan_for(problem, pass, choice);
    return {plan.config, plan.splits, plan.phases, plan.blocks()};
}

void conv2d_forward(const conv2d_problem& problem, const float* x, const float* w, float* y,
                    const conv_epilogue& epilogue, cudaStream_t stream, const kernel_choice& choice) {
    require(problem, "conv2d_forward");
    require_pointers(x, w, y, "conv2d_forward");
    require_epilogue(epilogue, "conv2d_forward");
    check_choice(choice, "conv2d_forward");
    const detail::fprop_params params = detail::make_fprop(problem, x, w, y, epilogue);
    const detail::launch_plan plan = detail::choose_plan(detail::extent_of(params), device_for<detail::fprop_op>(), choice);
    detail::launch_igemm<detail::fprop_op>(params, plan, stream);
}

void conv2d_backward_data(const conv2d_problem& problem, const float* dy, const float* w, float* dx,
                          const conv_epilogue& epilogue, cudaStream_t stream, const kernel_choice& choice) {
    require(problem, "conv2d_backward_data");
    require_pointers(dy, w, dx, "conv2d_backward_data");
    require_epilogue(epilogue, "conv2d_backward_data");
    check_choice(choice, "conv2d_backward_data");
    const detail::dgrad_params params = detail::make_dgrad(problem, dy, w, dx, epilogue);
    const detail::launch_plan plan = detail::choose_plan(detail::extent_of(params), device_for<detail::dgrad_op>(), choice);
    detail::launch_igemm<detail::dgrad_op>(params, plan, stream);
}

void conv2d_backward_filter(const conv2d_problem& problem, const float* x, const float* dy, float* dw, float alpha,
                            float beta, cudaStream_t stream, const kernel_choice& choice) {
    require(problem, "conv2d_backward_filter");
    require_pointers(x, dy, dw, "conv2d_backward_filter");
    check_choice(choice, "conv2d_backward_filter");
    const detail::wgrad_params params = detail::make_wgrad(problem, x, dy, dw, alpha, beta);
    const detail::launch_plan plan = detail::choose_plan(detail::extent_of(params), device_for<detail::wgrad_op>(), choice);
    detail::launch_igemm<detail::wgrad_op>(params, plan, stream);
}

void conv_transpose2d_forward(const conv_transpose2d_problem& problem, const float* x, const float* w, float* y,
                              const conv_epilogue& epilogue, cudaStream_t stream, const kernel_choice& choice) {
    conv2d_backward_data(problem.adjoint(), x, w, y, epilogue, stream, choice);
}

void conv_transpose2d_backward_data(const conv_transpose2d_problem& problem, const float* dy, const float* w,
                                    float* dx, float alpha, float beta, cudaStream_t stream,
                                    const kernel_choice& choice) {
    conv_epilogue epilogue;
    epilogue.alpha = alpha;
    epilogue.beta = beta;
    conv2d_forward(problem.adjoint(), dy, w, dx, epilogue, stream, choice);
}

void conv_transpose2d_backward_filter(const conv_transpose2d_problem& problem, const float* x, const float* dy,
                                      float* dw, float alpha, float beta, cudaStream_t stream,
                                      const kernel_choice& choice) {
    // In the adjoint conv2d, this layer's output gradient is the image and its input the output.
    conv2d_backward_filter(problem.adjoint(), dy, x, dw, alpha, beta, stream, choice);
}

void channel_sums(const float* batch, int samples, int channels, int pixels, float* sums, float alpha, float beta,
                  cudaStream_t stream) {
    if (samples < 0 || channels < 0 || pixels < 0 || 1LL * samples * channels * pixels > std::numeric_limits<int>::max())
        throw std::invalid_argument("gant::cuda::channel_sums: sizes must be non-negative and below 2^31 elements");
    if (channels == 0) return;
    if (!batch || !sums) throw std::invalid_argument("gant::cuda::channel_sums: a pointer is null");
    detail::launch_channel_sums(batch, samples, channels, pixels, sums, alpha, beta, stream);
}

}  // namespace gant::cuda
