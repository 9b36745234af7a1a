#define BOOST_TEST_MODULE gant_cuda_batch_source
#include "support/test_framework.hpp"
// The device batch source (gant/cuda/batch_source.hpp) on a GPU against data::batch_source:
// batches gathered on the device, each into a NaN-poisoned buffer, equal bit for bit to the CPU
// source's across epochs, with states exchanged both ways.
//
// Without a usable GPU the program prints "no CUDA device: skipped" and exits with 77.
#include "support/batch_source_checks.hpp"
#include "support/conv_reference.hpp"
#include "support/gpu_test.hpp"

using namespace gant::cuda;
using namespace gant::cuda::testing;

BOOST_AUTO_TEST_CASE(device_batches_are_the_cpu_batches) {
    const std::size_t bad = batch_source_mismatches<device_memory>(
        device_memory{test_stream()}, [](device_batch_source& s, std::size_t rows) {
            device_buffer<float> out = poisoned<float>(rows * s.features());
            s.next(out.data(), rows);
            return out.to_host();
        });
    BOOST_TEST(bad == 0u);
}

int main(int argc, char** argv) { return gant::cuda::testing::gpu_test_main(argc, argv); }
