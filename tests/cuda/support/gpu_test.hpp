#pragma once
// What the GPU test programs share: the stream they run on, uploads, NaN-poisoned outputs, and a
// main() that skips with CTest's code 77 when no usable GPU is there.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

#include "gant/cuda/device.hpp"
#include "gant/cuda/device_buffer.hpp"
#include "gant/cuda/stream.hpp"
#include "support/conv_reference.hpp"
#include "support/test_framework.hpp"

namespace gant::cuda::testing {

/// The stream every test runs on: a non-default one, as a training loop would use.
inline cudaStream_t test_stream() {
    static stream s;
    return s;
}

template <class T>
device_buffer<T> upload(const std::vector<T>& v) {
    device_buffer<T> b(v.size(), test_stream());
    b.copy_from_host(v);
    return b;
}

/// A buffer of n elements filled with 0xFF bytes (NaN as float or double), so that an element
/// no thread writes fails the comparison.
template <class T>
device_buffer<T> poisoned(std::size_t n) {
    device_buffer<T> b(n, test_stream());
    b.fill_bytes(0xFF);
    return b;
}

/// main() of a GPU test program: without a usable device prints why and returns 77 (CTest's
/// skip code: never a silent pass); otherwise names the device and the seed and runs the tests.
inline int gpu_test_main(int argc, char** argv, const std::string& note = "") {
    if (device_count() == 0) {
        std::cout << "no CUDA device: skipped (" << no_device_reason() << ")" << std::endl;
        return 77;
    }
    std::cout << "device: " << describe_current_device() << "; seed " << test_seed()
              << " (set GANT_TEST_SEED to replay)" << note << std::endl;
    return run_tests(argc, argv);
}

}  // namespace gant::cuda::testing
