#pragma once
// dense<In, Out> on the device: cuBLAS FP32 products (gant/cuda/gemm.hpp) and the four passes of
// a linear layer (linear_layer.hpp), y = x W^T + b with W [Out, In] as on the CPU. The bias is
// added by one more product, ones(n) b^T, so no extra kernel is needed; the column of ones is
// uploaded once per batch size.
#include <cstddef>
#include <vector>

#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/gemm.hpp"
#include "gant/cuda/layers/linear_layer.hpp"

namespace gant::cuda {

/// The products of dense<Inputs, Outputs> (row-major, samples as rows).
template <std::size_t Inputs, std::size_t Outputs>
class dense_kernels {
public:
    void forward(int n, const float* x, const float* w, const float* bias, float* y) {
        if (bias) gemm(false, false, n, int(Outputs), 1, 1.f, ones(n), 1, bias, int(Outputs), 0.f, y, int(Outputs));
        gemm(false, true, n, int(Outputs), int(Inputs), 1.f, x, int(Inputs), w, int(Inputs), bias ? 1.f : 0.f, y,
             int(Outputs));
    }
    void input_gradient(int n, const float* dy, const float* w, float* dx) const {
        gemm(false, false, n, int(Inputs), int(Outputs), 1.f, dy, int(Outputs), w, int(Inputs), 0.f, dx, int(Inputs));
    }
    void weight_gradient(int n, const float* x, const float* dy, float* dw) const {  // dw += dy^T x
        gemm(true, false, int(Outputs), int(Inputs), n, 1.f, dy, int(Outputs), x, int(Inputs), 1.f, dw, int(Inputs));
    }

private:
    /// A column of n ones in device memory (uploaded when the batch size grows).
    const float* ones(int n) {
        if (ones_.shape(0) < std::size_t(n)) {
            const std::vector<float> host(std::size_t(n), 1.f);
            ones_.assign(host.data(), std::size_t(n), 1);
        }
        return ones_.data();
    }

    device_batch<float> ones_;
};

template <class In, std::size_t Inputs, std::size_t Outputs, bool Bias, class T>
class device_dense : public device_linear_layer<dense_kernels<Inputs, Outputs>, In, shape<Outputs>, Outputs, Bias, T> {
    using base = device_linear_layer<dense_kernels<Inputs, Outputs>, In, shape<Outputs>, Outputs, Bias, T>;

public:
    // dense_impl's layout and fans: weight [Outputs, Inputs], fan_in Inputs, fan_out Outputs.
    device_dense() : base({Outputs, Inputs}, Inputs, Outputs) {}
};

}  // namespace gant::cuda
