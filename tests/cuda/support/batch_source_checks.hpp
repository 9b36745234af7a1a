#pragma once
// The device batch source's checks, over either memory (gant/cuda/batch_source.hpp): batches
// against data::batch_source's, across epochs, and states exchanged both ways. Run with
// host_memory without a GPU (test_cuda_batch_source_reference) and with device_memory on one
// (test_cuda_batch_source).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "gant/cuda/batch_source.hpp"
#include "gant/data/dataset.hpp"
#include "support/conv_reference.hpp"
#include "support/functor_checks.hpp"

namespace gant::cuda::testing {

/// 37 distinct images of 1 x 3 x 4 (odd sizes, so batches straddle epochs).
inline const data::image_dataset<float>& small_dataset() {
    static const data::image_dataset<float> d = [] {
        const std::size_t n = 37, f = 12;
        tensor<float> x = tensor<float>::from_shape({n, f});
        for (std::size_t i = 0; i < n * f; ++i) x.data()[i] = float(i) / float(n * f) - 0.5f;
        return data::image_dataset<float>(std::move(x), 1, 3, 4);
    }();
    return d;
}

/// Runs the checks; `draw(source, rows)` returns the next `rows` images as host floats (it
/// gathers into the memory's space and brings them back). Returns the number of mismatches.
template <class Memory>
std::size_t batch_source_mismatches(
    const Memory& memory, const std::function<std::vector<float>(basic_batch_source<Memory>&, std::size_t)>& draw) {
    const auto& data = small_dataset();
    std::size_t bad = 0;
    auto compare = [&](data::batch_source<float>& cpu, basic_batch_source<Memory>& dev, std::size_t rows) {
        tensor<float> want = tensor<float>::from_shape({rows, data.features()});
        cpu.next(want);
        const std::vector<float> got = draw(dev, rows);
        bad += got.size() == want.size() ? differences(got.data(), want.data(), got.size()) : 1;
        bad += cpu.state() == dev.state() ? 0 : 1;
    };
    // Batches of several sizes across four epochs, from a fresh generator.
    data::batch_source<float> cpu(data, rng(test_seed(), 6));
    basic_batch_source<Memory> dev(data, rng(test_seed(), 6), memory);
    for (std::size_t rows : {5, 16, 1, 37, 80, 3, 36}) compare(cpu, dev, rows);
    // A CPU state continued on the device source, and the device's on a fresh CPU source.
    data::batch_source<float> cpu2(data, rng(test_seed() + 1, 6));
    for (int i = 0; i < 3; ++i) {
        tensor<float> skip = tensor<float>::from_shape({7, data.features()});
        cpu2.next(skip);
    }
    dev.set_state(cpu2.state());
    for (std::size_t rows : {11, 30}) compare(cpu2, dev, rows);
    data::batch_source<float> cpu3(data, rng(0, 0));
    cpu3.set_state(dev.state());
    for (std::size_t rows : {9, 40}) compare(cpu3, dev, rows);
    return bad;
}

}  // namespace gant::cuda::testing
