#pragma once
// What the tests of device layers and networks against the CPU share (test_cuda_network,
// test_cuda_sagan_layers): the two kinds of test data, batches of them on either side, and a
// comparison that prints both measures and checks the chosen one.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/core/tensor.hpp"
#include "gant/cuda/device_batch.hpp"
#include "support/functor_checks.hpp"
#include "support/test_framework.hpp"

namespace gant::cuda::testing {

/// exact: multiples of 1/8 in [-2, 2], which TF32 and FP32 hold exactly, as are their products
/// and sums; gaussian: normals, for the TF32 bounds.
enum class data { exact, gaussian };
enum class metric { normwise, relative_l2 };

/// One value: a multiple of 1/8 in [-2, 2] (exact), or a normal scaled by `scale`.
inline float draw(rng& r, data kind, float scale) {
    if (kind == data::exact) return float(std::lround(r.uniform(-16.0, 16.0))) / 8.f;
    return scale * float(r.normal());
}

inline tensor<float> random_batch(std::size_t n, std::size_t features, rng& r, data kind) {
    tensor<float> t({n, features});
    for (auto& v : t) v = draw(r, kind, 1.f);
    return t;
}

inline device_batch<float> to_device(const tensor<float>& t) {
    device_batch<float> d;
    d.assign(t.data(), t.shape(0), t.shape(1));
    return d;
}

inline std::vector<float> host_values(const tensor<float>& t) { return std::vector<float>(t.begin(), t.end()); }

/// Prints both measures and checks the chosen one.
inline void compare(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, metric m,
                    double tolerance) {
    const double n = normwise(got, want), l2 = relative_l2(got, want);
    std::cout << "  " << what << ": normwise " << n << ", relative L2 " << l2 << '\n';
    const double measured = m == metric::normwise ? n : l2;
    BOOST_TEST(measured <= tolerance, what << ": " << measured << " > " << tolerance);
}

}  // namespace gant::cuda::testing
