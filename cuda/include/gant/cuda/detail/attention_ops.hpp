#pragma once
// One functor per row pass of gant/cuda/attention.hpp: operator()(r) does row r with the shared
// functions of gant/layers/attention_rows.hpp. cuda/src/attention.cu launches them, one thread
// per row; the CPU tests run the same functors over the rows (testing::emulate).
#include <cstddef>

#include "gant/core/host_device.hpp"
#include "gant/layers/attention_rows.hpp"

namespace gant::cuda::detail {

struct softmax_rows_op {
    float* z;
    std::size_t width;
    GANT_HOST_DEVICE void operator()(std::size_t r) const { attention_rows::softmax(z + r * width, width); }
};

struct softmax_adjoint_rows_op {
    const float* p;
    float* b;
    std::size_t width;
    GANT_HOST_DEVICE void operator()(std::size_t r) const {
        attention_rows::softmax_adjoint(p + r * width, b + r * width, width);
    }
};

struct softmax_tangent_rows_op {
    const float* p;
    float *u, *pdot;
    std::size_t width;
    GANT_HOST_DEVICE void operator()(std::size_t r) const {
        const std::size_t at = r * width;
        attention_rows::softmax_tangent(p + at, u + at, pdot + at, width);
    }
};

struct softmax_paired_rows_op {
    const float *p, *u;
    float *pbar, *pdotbar;
    std::size_t width;
    GANT_HOST_DEVICE void operator()(std::size_t r) const {
        const std::size_t at = r * width;
        attention_rows::softmax_paired(p + at, u + at, pbar + at, pdotbar + at, width);
    }
};

}  // namespace gant::cuda::detail
