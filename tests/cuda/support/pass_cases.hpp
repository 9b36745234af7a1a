#pragma once
// One convolution pass as a test case: its inputs (drawn fresh), its epilogue, and the expected
// output from the double-precision reference. Shared by the GPU test and the CPU emulation, which
// differ only in how they run the pass.
#include <string>
#include <vector>

#include "support/conv_reference.hpp"

namespace gant::cuda::testing {

enum class epilogue_variant {
    plain,       // out = acc
    fused,       // out = act(acc + bias)          (forward, backward-data)
    accumulate,  // out = 0.5 * acc + 1 * out_old
    chain,       // out = phi'(y) * (acc + bias) [+ phi''(y) * a * b]  (forward, backward-data):
                 // leaky_relu (slope 1/4) on exact data, tanh with the curvature term on uniform
};

inline const char* pass_name(conv_pass pass) {
    switch (pass) {
        case conv_pass::forward: return "forward";
        case conv_pass::backward_data: return "backward-data";
        case conv_pass::backward_filter: return "backward-filter";
    }
    return "?";
}

inline const char* variant_name(epilogue_variant v) {
    switch (v) {
        case epilogue_variant::plain: return "plain";
        case epilogue_variant::fused: return "bias+activation";
        case epilogue_variant::accumulate: return "alpha=0.5,beta=1";
        case epilogue_variant::chain: return "bias+chain rule";
    }
    return "?";
}

struct pass_data {
    conv2d_problem problem;
    conv_pass pass = conv_pass::forward;
    data_kind kind = data_kind::exact;
    epilogue_variant variant = epilogue_variant::plain;
    std::vector<float> a, b;    // forward: x, w; backward-data: dy, w; backward-filter: x, dy
    std::vector<float> bias;    // empty unless fused or chain
    std::vector<float> old;     // the output's prior content when accumulating
    activation act = activation::none;
    float slope = 0.2f, alpha = 1.f, beta = 0.f;
    chain_rule chain;           // the chain variant's factor (its tensors laid out as the output)
    std::vector<double> expected, magnitude;
    std::size_t output_size = 0;

    /// The epilogue, given where the bias and the chain rule's tensors are (device or host).
    conv_epilogue epilogue(const float* bias_at, const float* chain_output_at = nullptr,
                           const float* curvature_a_at = nullptr, const float* curvature_b_at = nullptr) const {
        conv_epilogue e;
        e.bias = bias.empty() ? nullptr : bias_at;
        e.act = act;
        e.slope = slope;
        e.alpha = alpha;
        e.beta = beta;
        if (chain.phi != activation::none) {
            e.chain = chain.phi;
            e.chain_slope = chain.slope;
            e.chain_output = chain_output_at;
            if (!chain.curvature_a.empty()) {
                e.curvature_a = curvature_a_at;
                e.curvature_b = curvature_b_at;
            }
        }
        return e;
    }
    std::string describe() const {
        return problem.describe() + ", " + pass_name(pass) + ", " + variant_name(variant) + ", " +
               (kind == data_kind::exact ? "exact data" : "uniform data");
    }
};

/// Draws the inputs of a pass and computes what it must return. `act` is the fused variant's
/// activation (backward-filter has no bias or activation: fused means plain there).
inline pass_data make_pass(const conv2d_problem& problem, conv_pass pass, data_kind kind, epilogue_variant variant,
                           data_source& rng, activation act = activation::leaky_relu) {
    pass_data d;
    d.problem = problem;
    d.pass = pass;
    d.kind = kind;
    d.variant = variant;
    int channels = 0, pixels = 0;
    reference r;
    switch (pass) {
        case conv_pass::forward:
            d.a = rng.make(std::size_t(problem.input_size()), kind);
            d.b = rng.make(std::size_t(problem.weight_size()), kind);
            r = conv2d_forward_ref(problem, d.a, d.b);
            channels = problem.out_channels;
            pixels = problem.out_height() * problem.out_width();
            break;
        case conv_pass::backward_data:
            d.a = rng.make(std::size_t(problem.output_size()), kind);
            d.b = rng.make(std::size_t(problem.weight_size()), kind);
            r = conv2d_backward_data_ref(problem, d.a, d.b);
            channels = problem.in_channels;
            pixels = problem.in_height * problem.in_width;
            break;
        case conv_pass::backward_filter:
            d.a = rng.make(std::size_t(problem.input_size()), kind);
            d.b = rng.make(std::size_t(problem.output_size()), kind);
            r = conv2d_backward_filter_ref(problem, d.a, d.b);
            channels = problem.out_channels;
            pixels = problem.in_channels * problem.kernel_h * problem.kernel_w;
            if (variant == epilogue_variant::fused || variant == epilogue_variant::chain)
                d.variant = variant = epilogue_variant::plain;
            break;
    }
    d.output_size = r.value.size();
    if (variant == epilogue_variant::fused) {
        d.bias = rng.make(std::size_t(channels), kind);
        d.act = act;
        if (act == activation::leaky_relu) d.slope = kind == data_kind::exact ? 0.25f : 0.2f;
    } else if (variant == epilogue_variant::accumulate) {
        d.alpha = 0.5f;
        d.beta = 1.f;
        d.old = rng.make(d.output_size, kind);
    } else if (variant == epilogue_variant::chain) {
        d.bias = rng.make(std::size_t(channels), kind);
        d.chain.output = rng.make(d.output_size, kind);
        if (kind == data_kind::exact) {  // factors 1 and 1/4: exact
            d.chain.phi = activation::leaky_relu;
            d.chain.slope = 0.25f;
        } else {
            d.chain.phi = activation::tanh;
            d.chain.curvature_a = rng.make(d.output_size, kind);
            d.chain.curvature_b = rng.make(d.output_size, kind);
        }
    }
    d.expected = apply_epilogue(r.value, channels, pixels, d.bias, d.old, d.act, d.slope, d.alpha, d.beta);
    d.magnitude = std::move(r.magnitude);
    if (d.chain.phi != activation::none) apply_chain_rule(d.chain, d.expected, d.magnitude);
    return d;
}

}  // namespace gant::cuda::testing
