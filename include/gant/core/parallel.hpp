#pragma once
// Splitting a layer's element-wise or per-group work over the pass's thread pool.
//
// Convolutions split their batch over the pool themselves (conv2d.hpp); the passes here are the
// memory-bound ones between them (activations, normalisations), which on one thread took a third
// of a two-thread WGAN-GP step while the other core waited. Each item range goes to one worker
// as one contiguous slice (thread_pool's static partitioning), so every item is computed by the
// same arithmetic as on one thread: results do not depend on the thread count unless the caller
// reduces across items (parameter gradients), which worker_sums below makes deterministic.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "gant/core/context.hpp"

namespace gant {

/// Below this many scalar operations in a pass, waking the pool costs more than it saves
/// (a wake-up and join is some microseconds; a float pass does ~1e9 elements per second).
inline constexpr std::size_t default_parallel_threshold = std::size_t{1} << 15;

namespace detail {
inline std::size_t& parallel_threshold_setting() {
    static std::size_t threshold = default_parallel_threshold;
    return threshold;
}
}  // namespace detail

/// The smallest pass (in scalar operations) that split_items spreads over the pool. 0 splits
/// every pass with at least two items, which is how the tests drive the multi-worker paths with
/// small batches. Set it before training starts, not while passes run.
inline void set_parallel_threshold(std::size_t operations) { detail::parallel_threshold_setting() = operations; }
inline std::size_t parallel_threshold() { return detail::parallel_threshold_setting(); }

/// The number of workers split_items would use for `items` items of `work` total operations.
inline std::size_t split_workers(const pass_context& ctx, std::size_t items, std::size_t work) {
    if (!ctx.pool || work < parallel_threshold()) return 1;
    return ctx.pool->workers_for(items);
}

/// Calls fn(begin, end, worker) on contiguous slices of [0, items) (thread_pool::parallel_for)
/// when the pass is large enough (`work`: its total scalar operations) and the pool has several
/// workers; otherwise fn(0, items, 0) on the calling thread. Allocates nothing.
template <class F>
void split_items(const pass_context& ctx, std::size_t items, std::size_t work, F&& fn) {
    if (split_workers(ctx, items, work) <= 1)
        fn(std::size_t{0}, items, std::size_t{0});
    else
        ctx.pool->parallel_for(items, fn);
}

/// Private accumulators for a sum over items that are split across workers (split_items, or a
/// layer's own static split): each worker adds into its own block, and add_in_worker_order folds
/// the blocks into the destination in worker order 0, 1, ... Floating-point addition is not
/// associative, so a fixed order is what makes the total the same run to run for a given thread
/// count. Used for parameter gradients: conv_runner's weight and bias sums, layer_norm's gamma
/// and beta. Storage grows to the largest workers x size seen and is then reused, so the steady
/// state allocates nothing.
template <class T>
class worker_sums {
public:
    /// Makes room for `workers` blocks of `size` values, before the split. Every worker in
    /// [0, workers) must then call start() once, from its own thread (zeroing is split too).
    void prepare(std::size_t workers, std::size_t size) {
        workers_ = workers;
        size_ = size;
        if (values_.size() < workers * size) values_.resize(workers * size);
    }

    /// Worker w's block of `size` values, zeroed.
    T* start(std::size_t worker) {
        T* block = values_.data() + worker * size_;
        std::fill(block, block + size_, T(0));
        return block;
    }

    /// dst[k] += block(w)[offset + k] for k < count, adding the blocks of w = 0, 1, ... in turn.
    void add_in_worker_order(std::size_t offset, std::size_t count, T* dst) const {
        for (std::size_t w = 0; w < workers_; ++w) {
            const T* block = values_.data() + w * size_ + offset;
            for (std::size_t k = 0; k < count; ++k) dst[k] += block[k];
        }
    }

private:
    std::vector<T> values_;
    std::size_t workers_ = 0, size_ = 0;
};

}  // namespace gant
