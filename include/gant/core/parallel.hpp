#pragma once
// Splitting a layer's element-wise or per-group work over the pass's thread pool.
//
// Convolutions split their batch over the pool themselves (conv2d.hpp); the passes here are the
// memory-bound ones between them (activations, normalisations), which on one thread took a third
// of a two-thread WGAN-GP step while the other core waited. Each item range goes to one worker
// as one contiguous slice (thread_pool's static partitioning), so every item is computed by the
// same arithmetic as on one thread: results do not depend on the thread count unless the caller
// reduces across items (layer_norm's parameter gradients, which it sums in worker order).
#include <cstddef>

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
    if (!ctx.pool || work < parallel_threshold() || items < 2) return 1;
    return ctx.pool->size() < items ? ctx.pool->size() : items;
}

/// Calls fn(begin, end, worker) on contiguous slices of [0, items), in parallel when the pass
/// is large enough (`work`: its total scalar operations) and the pool has several workers;
/// otherwise fn(0, items, 0) on the calling thread. Allocates nothing.
template <class F>
void split_items(const pass_context& ctx, std::size_t items, std::size_t work, F&& fn) {
    const std::size_t workers = split_workers(ctx, items, work);
    if (workers <= 1) {
        fn(std::size_t{0}, items, std::size_t{0});
        return;
    }
    auto slice = [&](std::size_t worker) {
        if (worker >= workers) return;
        fn(items * worker / workers, items * (worker + 1) / workers, worker);
    };
    ctx.pool->run_on_all(slice);
}

}  // namespace gant
