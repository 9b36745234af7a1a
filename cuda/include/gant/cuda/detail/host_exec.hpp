#pragma once
// The CPU executor of the device passes: the same pass templates (normalization_passes.hpp,
// objective_passes.hpp) that cuda/src runs with device_exec (device_exec.cuh) run with this one
// in the tests, so the CPU checks cover each pass's whole sequence of launches (which buffers,
// which functors, in which order), not only the functors. Each functor's operator() runs for
// every index in order; group sums run element by element, where the device uses a block's tree.
#include <cstddef>
#include <vector>

namespace gant::cuda::detail {

struct host_exec {
    /// Scratch memory for one pass (the device takes it from the caching allocator).
    template <class T>
    std::vector<T> scratch(std::size_t n) const {
        return std::vector<T>(n);
    }

    template <class Op>
    void elementwise(const Op& op, std::size_t n, const char* /*what*/) const {
        for (std::size_t i = 0; i < n; ++i) op(i);
    }

    /// Terms' sums over each group of `over` (a norm_layout-like description: groups(),
    /// group_size(), element(g, k)), then Terms::finish per group.
    template <class Layout, class Terms>
    void group_sums(const Layout& over, const Terms& terms, const char* /*what*/) const {
        for (std::size_t g = 0; g < over.groups(); ++g) {
            double sums[Terms::count] = {};
            for (std::size_t k = 0; k < over.group_size(); ++k) terms(over.element(g, k), sums);
            terms.finish(g, sums);
        }
    }
};

}  // namespace gant::cuda::detail
