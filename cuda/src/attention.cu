// The self-attention row passes (gant/cuda/attention.hpp): the functors of
// detail/attention_ops.hpp, one thread per row, through detail/run_elementwise.cuh's grid-stride
// kernel. A thread walks its row in index order, as the CPU layer does, so the sums agree
// exactly; a warp per row would be faster on wide rows but would add in another order.
#include "gant/cuda/attention.hpp"
#include "gant/cuda/check.hpp"
#include "gant/cuda/detail/attention_ops.hpp"
#include "gant/cuda/detail/run_elementwise.cuh"

namespace gant::cuda {

using detail::require_argument;

namespace {

void require_rows(bool pointers_ok, std::size_t rows, std::size_t width, const char* function) {
    require_argument(rows == 0 || width > 0, function, "rows must have at least one entry");
    require_argument(rows == 0 || pointers_ok, function, "an input or output pointer is null");
}

}  // namespace

void softmax_rows(float* z, std::size_t rows, std::size_t width, cudaStream_t stream) {
    require_rows(z != nullptr, rows, width, "softmax_rows");
    detail::run_elementwise(detail::softmax_rows_op{z, width}, rows, stream, "launch of softmax_rows");
}

void softmax_adjoint_rows(const float* p, float* b, std::size_t rows, std::size_t width, cudaStream_t stream) {
    require_rows(p && b, rows, width, "softmax_adjoint_rows");
    detail::run_elementwise(detail::softmax_adjoint_rows_op{p, b, width}, rows, stream,
                            "launch of softmax_adjoint_rows");
}

void softmax_tangent_rows(const float* p, float* u, float* pdot, std::size_t rows, std::size_t width,
                          cudaStream_t stream) {
    require_rows(p && u && pdot, rows, width, "softmax_tangent_rows");
    detail::run_elementwise(detail::softmax_tangent_rows_op{p, u, pdot, width}, rows, stream,
                            "launch of softmax_tangent_rows");
}

void softmax_paired_rows(const float* p, const float* u, float* pbar, float* pdotbar, std::size_t rows,
                         std::size_t width, cudaStream_t stream) {
    require_rows(p && u && pbar && pdotbar, rows, width, "softmax_paired_rows");
    detail::run_elementwise(detail::softmax_paired_rows_op{p, u, pbar, pdotbar, width}, rows, stream,
                            "launch of softmax_paired_rows");
}

}  // namespace gant::cuda
