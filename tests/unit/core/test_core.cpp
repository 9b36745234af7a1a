#define BOOST_TEST_MODULE gant_core
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gant/core/parallel.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/shape.hpp"
#include "gant/core/threads.hpp"
#include "gant/optim/init.hpp"

using namespace gant;

BOOST_AUTO_TEST_SUITE(shapes)
BOOST_AUTO_TEST_CASE(size_and_text) {
    static_assert(shape<3, 28, 28>::size == 2352);
    static_assert(shape<3, 28, 28>::rank == 3);
    BOOST_TEST((shape<3, 28, 28>::to_string() == "3x28x28"));
    BOOST_TEST(shape<100>::to_string() == "100");
}
BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(random_numbers)

BOOST_AUTO_TEST_CASE(same_seed_same_sequence) {
    rng a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next_u64();
        BOOST_TEST(x == b.next_u64());
        differs |= x != c.next_u64();
    }
    BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(known_answer_philox) {
    // Philox4x32-10 with key 0 and counter 0 (Random123 known-answer vector): 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
    rng r(0, 0);
    BOOST_TEST(r.next_u32() == 0x6627e8d5u);
    BOOST_TEST(r.next_u32() == 0xe169c58du);
    BOOST_TEST(r.next_u32() == 0xbc57ac4cu);
    BOOST_TEST(r.next_u32() == 0x9b00dbd8u);
}

BOOST_AUTO_TEST_CASE(streams_are_independent) {
    rng base(7);
    rng s1 = base.split(1), s2 = base.split(2);
    int equal = 0;
    for (int i = 0; i < 64; ++i) equal += s1.next_u32() == s2.next_u32();
    BOOST_TEST(equal < 3);
}

BOOST_AUTO_TEST_CASE(state_round_trip_continues_exactly) {
    rng a(9, 3);
    for (int i = 0; i < 5; ++i) a.normal();
    a.next_u32();  // leave the block half used
    const auto saved = a.state();
    std::vector<double> expected;
    for (int i = 0; i < 10; ++i) expected.push_back(a.normal());
    rng b(0);
    b.set_state(saved);
    for (int i = 0; i < 10; ++i) BOOST_TEST(b.normal() == expected[i]);
}

BOOST_AUTO_TEST_CASE(normal_moments) {
    rng r(1);
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
        const double x = r.normal();
        s += x;
        s2 += x * x;
    }
    BOOST_TEST(std::abs(s / n) < 0.01);
    BOOST_TEST(std::abs(s2 / n - 1.0) < 0.01);
}

BOOST_AUTO_TEST_CASE(uniform_range_and_below) {
    rng r(2);
    for (int i = 0; i < 10000; ++i) {
        const double u = r.uniform();
        BOOST_TEST((u >= 0.0 && u < 1.0));
        BOOST_TEST(r.below(7) < 7u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(thread_pool_tests)

BOOST_AUTO_TEST_CASE(parallel_for_covers_range_once) {
    thread_pool pool(2);
    std::vector<std::atomic<int>> hits(1001);
    for (int rep = 0; rep < 50; ++rep)
        pool.parallel_for(hits.size(), [&](std::size_t b, std::size_t e, std::size_t) {
            for (std::size_t i = b; i < e; ++i) hits[i]++;
        });
    for (auto& h : hits) BOOST_TEST(h.load() == 50);
}

BOOST_AUTO_TEST_CASE(resize_after_work_runs_only_new_jobs) {
    // Regression: workers created by a resize used to start from generation 0 and run a stale
    // (null) job as soon as they woke up.
    thread_pool pool(2);
    std::atomic<int> runs{0};
    for (int rep = 0; rep < 20; ++rep) {
        pool.run_on_all([&](std::size_t) { runs++; });
        pool.resize(rep % 2 ? 2 : 3);
    }
    pool.run_on_all([&](std::size_t) { runs++; });
    BOOST_TEST(runs.load() > 0);
}

// set_num_threads(n) when the pool already has n workers keeps them: the next step must not
// start on new threads (their first GEMM allocates packing buffers).
BOOST_AUTO_TEST_CASE(resize_to_the_same_count_keeps_the_workers) {
    thread_pool pool(2);
    auto worker_ids = [&] {
        std::set<std::thread::id> ids;
        std::mutex m;
        for (int rep = 0; rep < 5; ++rep)
            pool.run_on_all([&](std::size_t) {
                std::lock_guard lock(m);
                ids.insert(std::this_thread::get_id());
            });
        return ids;
    };
    const auto before = worker_ids();
    pool.resize(2);
    BOOST_TEST((worker_ids() == before));
    pool.resize(3);
    BOOST_TEST(pool.size() == 3u);
    BOOST_TEST(worker_ids().size() == 3u);
    pool.resize(0);  // 0 means 1: the calling thread alone
    BOOST_TEST(pool.size() == 1u);
}

// The hand-off in all its paths: workers that find the next job while polling, workers asleep
// when it comes (serial gaps longer than the spin time), a caller that finds the job done while
// polling and one that has to sleep (a slow worker). Every round runs on every worker exactly
// once, and the caller sees every worker's writes when run_on_all returns.
BOOST_AUTO_TEST_CASE(hand_off_runs_each_job_once_whether_threads_spin_or_sleep) {
    using namespace std::chrono_literals;
    thread_pool pool(3);
    BOOST_TEST(pool.spin_time() == thread_pool::default_spin_time);
    for (const auto spin : {std::chrono::microseconds(0), std::chrono::microseconds(50), std::chrono::microseconds(5000)}) {
        pool.set_spin_time(spin);
        BOOST_TEST(pool.spin_time() == spin);
        std::vector<std::size_t> runs(pool.size(), 0);  // plain: each worker writes its own slot only
        rng r(11);
        for (std::size_t round = 0; round < 300; ++round) {
            const std::size_t pause = r.below(4);  // serial gap: none, short, longer than 50 us, 2 ms
            if (pause == 1) std::this_thread::sleep_for(10us);
            if (pause == 2) std::this_thread::sleep_for(200us);
            if (pause == 3 && round % 10 == 0) std::this_thread::sleep_for(2ms);
            const std::size_t slow = r.below(pool.size() + 1);  // this worker takes a while (none: size())
            pool.run_on_all([&](std::size_t w) {
                if (w == slow) std::this_thread::sleep_for(100us);
                runs[w]++;
            });
            for (std::size_t w = 0; w < runs.size(); ++w) BOOST_TEST_REQUIRE(runs[w] == round + 1);
        }
    }
    pool.set_spin_time(std::chrono::microseconds(-5));  // negative: block at once
    BOOST_TEST(pool.spin_time().count() == 0);
}

// split_items: every item exactly once, on one thread below the threshold, on every worker of
// the pool above it, in contiguous slices.
BOOST_AUTO_TEST_CASE(split_items_covers_each_item_once) {
    thread_pool pool(2);
    pass_context ctx;
    ctx.pool = &pool;
    for (std::size_t items : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1000}}) {
        for (std::size_t work : {std::size_t{10}, default_parallel_threshold}) {
            std::vector<std::atomic<int>> hits(items);
            std::atomic<int> slices{0}, empty_slices{0};  // Boost.Test's macros are for the main thread only
            std::set<std::size_t> workers;
            std::mutex m;
            split_items(ctx, items, work, [&](std::size_t b, std::size_t e, std::size_t w) {
                if (b >= e) empty_slices++;
                for (std::size_t i = b; i < e; ++i) hits[i]++;
                slices++;
                std::lock_guard lock(m);
                workers.insert(w);
            });
            for (auto& h : hits) BOOST_TEST(h.load() == 1);
            BOOST_TEST(empty_slices.load() == 0);
            const bool split = work >= parallel_threshold() && items >= 2;
            BOOST_TEST(slices.load() == (split ? 2 : 1));
            BOOST_TEST(workers.size() == (split ? 2u : 1u));
        }
    }
}

// worker_sums: start() hands each worker a zeroed block (also when the storage is reused with
// other sizes), and the blocks are added into the destination in worker order, one after another,
// exactly as a sequential loop over the workers would add them.
BOOST_AUTO_TEST_CASE(worker_sums_zero_each_block_and_add_in_worker_order) {
    thread_pool pool(3);
    worker_sums<float> sums;
    for (const std::size_t size : {std::size_t{7}, std::size_t{1000}, std::size_t{3}}) {
        sums.prepare(pool.size(), size);
        pool.run_on_all([&](std::size_t w) {
            float* block = sums.start(w);
            for (std::size_t k = 0; k < size; ++k) block[k] += (w == 1 ? 1e-8f : 1e8f) * float(k + 1);
        });
        std::vector<float> dst(size + 2, 0.5f), expected(size + 2, 0.5f);
        sums.add_in_worker_order(1, size - 1, dst.data() + 2);  // a window: offset 1, count size - 1
        for (std::size_t k = 0; k + 1 < size; ++k)
            for (std::size_t w = 0; w < pool.size(); ++w)
                expected[k + 2] += (w == 1 ? 1e-8f : 1e8f) * float(k + 2);
        BOOST_TEST(dst == expected, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(static_partition_is_fixed) {
    thread_pool pool(2);
    std::set<std::pair<std::size_t, std::size_t>> first, second;
    std::mutex m;
    auto record = [&](auto& s) {
        pool.parallel_for(10, [&](std::size_t b, std::size_t e, std::size_t w) {
            std::lock_guard lock(m);
            s.insert({b * 100 + e, w});
        });
    };
    record(first);
    record(second);
    BOOST_TEST((first == second));
}

// A worker's exception reaches the caller (not std::terminate), only after every worker is done,
// and the pool keeps working afterwards. Thrown on a helper thread, on the calling thread, and on
// both at once.
BOOST_AUTO_TEST_CASE(exceptions_reach_the_caller_after_all_workers_finish) {
    thread_pool pool(3);
    for (std::size_t thrower : {std::size_t{1}, std::size_t{0}, std::size_t{3}}) {  // 3: workers 0 and 2
        std::atomic<int> finished{0};
        BOOST_CHECK_THROW(pool.run_on_all([&](std::size_t w) {
            const bool throws = thrower == 3 ? (w == 0 || w == 2) : w == thrower;
            if (throws) throw std::runtime_error("worker " + std::to_string(w) + " failed");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            finished++;
        }),
                          std::runtime_error);
        BOOST_TEST(finished.load() == (thrower == 3 ? 1 : 2));
    }
    std::atomic<int> runs{0};
    pool.run_on_all([&](std::size_t) { runs++; });
    BOOST_TEST(runs.load() == 3);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(initialisers)

BOOST_AUTO_TEST_CASE(roles_decide_the_distribution) {
    rng r(5);
    parameter<double> w("weight", {64, 100}, role::weight, 100, 64), b("bias", {64}, role::bias),
        g("gamma", {64}, role::scale);
    init::dcgan{}(w, r);
    init::dcgan{}(b, r);
    init::dcgan{}(g, r);
    double s2 = 0;
    for (auto v : w.value) s2 += v * v;
    BOOST_TEST(std::sqrt(s2 / w.size()) == 0.02, boost::test_tools::tolerance(0.05));
    for (auto v : b.value) BOOST_TEST(v == 0.0);
    for (auto v : g.value) BOOST_TEST(std::abs(v - 1.0) < 0.1);
}

BOOST_AUTO_TEST_CASE(kaiming_and_xavier_scales) {
    rng r(6);
    parameter<double> w("weight", {200, 300}, role::weight, 300, 200);
    init::kaiming{}(w, r);
    double s2 = 0;
    for (auto v : w.value) s2 += v * v;
    BOOST_TEST(s2 / w.size() == 2.0 / 300, boost::test_tools::tolerance(0.03));
    init::xavier{}(w, r);
    const double bound = std::sqrt(6.0 / 500);
    double mx = 0;
    for (auto v : w.value) mx = std::max(mx, std::abs(v));
    BOOST_TEST(mx <= bound);
    BOOST_TEST(mx > 0.95 * bound);
}

BOOST_AUTO_TEST_SUITE_END()
