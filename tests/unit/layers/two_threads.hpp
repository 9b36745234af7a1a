#pragma once
// Test-only layer wrapper that runs a layer on a two-worker pool whatever pool the caller passes,
// so the shared gradient testbed (support/gradcheck.hpp) exercises a layer's multi-worker paths:
// batch slices, private gradient accumulators and their reduction.
#include "gant/core/parallel.hpp"
#include "gant/core/threads.hpp"
#include "gant/nn/layer.hpp"

namespace gant::testing {

// Two-thread runs use pools of their own, passed through pass_context, rather than resizing the
// default pool: core/threads.hpp starts new workers with generation 0, so growing a pool that
// has already run jobs makes the new worker run a stale (null) job.
inline thread_pool& two_thread_pool() {
    static thread_pool pool(2);
    return pool;
}

/// Test-only wrapper: runs layer L on two_thread_pool() whatever pool the caller passes, so the
/// shared gradient testbed exercises the multi-worker path (private gradient accumulators).
/// Splits every pass with at least two items over the pool while it lives (split_items would
/// keep the tests' small batches on one thread), then restores the threshold.
struct split_every_pass {
    std::size_t saved = parallel_threshold();
    split_every_pass() { set_parallel_threshold(0); }
    ~split_every_pass() { set_parallel_threshold(saved); }
    split_every_pass(const split_every_pass&) = delete;
    split_every_pass& operator=(const split_every_pass&) = delete;
};

template <class Inner>
struct on_two_threads_impl : Inner {
    using T = typename Inner::scalar;
    static pass_context two(const pass_context& c) {
        pass_context r = c;
        r.pool = &two_thread_pool();
        return r;
    }
    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& c) {
        split_every_pass all;
        Inner::forward(x, y, two(c));
    }
    void backward(const tensor<T>& x, const tensor<T>& y, const tensor<T>& dy, tensor<T>* dx, bool acc,
                  const pass_context& c) {
        split_every_pass all;
        Inner::backward(x, y, dy, dx, acc, two(c));
    }
    void forward_tangent(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xd, tensor<T>& yd,
                         const pass_context& c) {
        split_every_pass all;
        Inner::forward_tangent(x, y, xd, yd, two(c));
    }
    void backward_paired(const tensor<T>& x, const tensor<T>& y, const tensor<T>& xd, const tensor<T>& yd,
                         const tensor<T>& yb, const tensor<T>& ydb, tensor<T>* xb, tensor<T>* xdb,
                         const pass_context& c) {
        split_every_pass all;
        Inner::backward_paired(x, y, xd, yd, yb, ydb, xb, xdb, two(c));
    }
};

/// The compile-time facts of descriptor L, for a test wrapper that changes only its impl.
template <class L>
struct descriptor_of {
    static constexpr const char* name = L::name;
    using expects = typename L::expects;
    template <class In>
    static constexpr bool accepts = L::template accepts<In>;
    template <class In>
    using output_shape = typename L::template output_shape<In>;
};

template <class L>
struct on_two_threads : descriptor_of<L> {
    template <class In, class T, class B>
    using impl = on_two_threads_impl<typename L::template impl<In, T, B>>;
};

}  // namespace gant::testing
