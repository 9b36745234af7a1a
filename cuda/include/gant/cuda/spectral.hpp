#pragma once
// Spectral normalisation on the device: the power iteration, sigma, W / sigma and the pull-back
// of the weight gradient through W -> W / sigma(W), as gant::spectral_norm_impl
// (include/gant/layers/spectral_norm.hpp) computes them on the CPU. The device layer
// gant/cuda/layers/spectral_norm.hpp calls these around its wrapped layer.
//
// sigma stays in device memory: W / sigma and the pull-back read it there, so a forward or a
// backward pass never waits for the device. Every sum runs in double (a block per row or
// column, a fixed tree: the same bits on every run), where the CPU sums in float in index order,
// so the two agree to float rounding. Plain C++ (CUDA runtime headers only); the kernels are in
// gant::cuda_kernels (cuda/src/sagan_layers.cu) and the passes in detail/sagan_ops.hpp, which
// the tests also run on the host. Every call is asynchronous on its stream and checks its
// launches; the pointers are device memory.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "gant/core/host_device.hpp"
#include "gant/core/rng.hpp"

namespace gant::cuda {

/// A weight read as a rows x cols matrix the way spectral_norm_impl reads it: rows along
/// dimension 0 (dense, conv2d; block = cols) or 1 (conv_transpose2d's [Cin, Cout, k, k];
/// block = k * k), element (r, c) at ((c / block) * rows + r) * block + c % block.
struct spectral_matrix {
    std::size_t rows = 0, cols = 0, block = 1;

    GANT_HOST_DEVICE std::size_t size() const { return rows * cols; }
    GANT_HOST_DEVICE std::size_t index(std::size_t r, std::size_t c) const {
        return ((c / block) * rows + r) * block + c % block;
    }
    GANT_HOST_DEVICE std::size_t row_of(std::size_t i) const { return (i / block) % rows; }
    GANT_HOST_DEVICE std::size_t col_of(std::size_t i) const { return (i / (rows * block)) * block + i % block; }
};

/// The matrix of a weight of this shape with rows along dimension `dim` (0 or 1).
inline spectral_matrix spectral_matrix_of(const std::vector<std::size_t>& shape, std::size_t dim) {
    if (dim > 1 || shape.size() <= dim)
        throw std::invalid_argument(
            "gant::cuda::spectral_matrix_of: the rows must lie along dimension 0 or 1 of the weight");
    std::size_t size = 1;
    for (auto d : shape) size *= d;
    spectral_matrix m;
    m.rows = shape[dim];
    if (m.rows == 0 || size == 0) throw std::invalid_argument("gant::cuda::spectral_matrix_of: the weight is empty");
    m.cols = size / m.rows;
    m.block = dim == 0 ? m.cols : size / (shape[0] * shape[1]);
    return m;
}

/// The power iteration's starting vectors u (rows) and v (cols): the very values
/// spectral_norm_impl's constructor draws (gant's rng, seed 0x5eed, stream rows * 131 + cols,
/// normal draws for u, then v, each scaled to unit length with a double sum).
struct spectral_vectors {
    std::vector<float> u, v;
};

inline spectral_vectors spectral_start(std::size_t rows, std::size_t cols) {
    const auto unit = [](std::vector<float>& x) {
        double s = 0;
        for (float e : x) s += double(e) * double(e);
        const float inv = float(1.0 / std::max(std::sqrt(s), 1e-12));
        for (float& e : x) e *= inv;
    };
    rng r(0x5eed, rows * 131 + cols);
    spectral_vectors start{std::vector<float>(rows), std::vector<float>(cols)};
    for (float& e : start.u) e = float(r.normal());
    unit(start.u);
    for (float& e : start.v) e = float(r.normal());
    unit(start.v);
    return start;
}

/// `power_steps` steps of the power iteration on u and v (v <- W^T u / ||W^T u||,
/// u <- W v / ||W v||, norms floored at 1e-12), then *sigma = u^T W v; and, where
/// normalised_weight is not null, normalised_weight = weight / *sigma element by element.
void spectral_normalise(const spectral_matrix& matrix, std::size_t power_steps, const float* weight, float* u, float* v,
                        float* sigma, float* normalised_weight, cudaStream_t stream = nullptr);

/// weight_grad += (g - <g, W_SN> u v^T) / sigma: the gradient of the raw weight from g, the
/// gradient of the normalised weight W_SN (u and v held constant, as on the CPU).
void spectral_pull_back(const spectral_matrix& matrix, const float* g, const float* normalised_weight, const float* u,
                        const float* v, const float* sigma, float* weight_grad, cudaStream_t stream = nullptr);

}  // namespace gant::cuda
