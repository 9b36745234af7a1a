#pragma once
// gan<..., float, backend::cuda>'s step operations: device_step_ops over the CUDA kernels. With
// this specialisation (included by gant/backend/cuda.hpp) the gan<...> of gan.hpp trains with
// its networks, batches, optimiser state and moving average in device memory.
#include "gant/cuda/train/device_kernels.hpp"
#include "gant/cuda/train/device_step_ops.hpp"
#include "gant/train/step_ops.hpp"

namespace gant {

namespace backend {
struct cuda;
}

template <>
class step_ops<backend::cuda, float> : public cuda::device_step_ops<cuda::device_kernels> {};

template <class T>
class step_ops<backend::cuda, T> {
    static_assert(std::is_same_v<T, float>,
                  "gant: gan<..., backend::cuda> trains in float32 (TF32 tensor cores); use backend::cpu for double");
};

}  // namespace gant
