// gant's own float GEMM (core/gemm) against a double-precision reference, for every kernel this
// CPU can run: both operands in both orientations, padded leading dimensions, every edge of the
// tiles and cache blocks, beta's three regimes, and concurrent calls from the thread pool.
#define BOOST_TEST_MODULE gant_gemm
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "gant/core/blas.hpp"
#include "gant/core/rng.hpp"
#include "gant/core/threads.hpp"

using namespace gant;
using blas::sgemm_kernel;

namespace {

struct problem {
    std::size_t m, n, k;
    bool ta, tb;
    float alpha, beta;
    std::size_t pad = 0;  // extra columns in every leading dimension
};

struct operands {
    std::vector<float> a, b, c;
    std::size_t lda, ldb, ldc;
};

operands make_operands(const problem& p, std::uint64_t seed) {
    operands o;
    const std::size_t a_rows = p.ta ? p.k : p.m, a_cols = p.ta ? p.m : p.k;
    const std::size_t b_rows = p.tb ? p.n : p.k, b_cols = p.tb ? p.k : p.n;
    o.lda = a_cols + p.pad;
    o.ldb = b_cols + p.pad;
    o.ldc = p.n + p.pad;
    rng r(seed);
    o.a.resize(a_rows * o.lda);
    o.b.resize(b_rows * o.ldb);
    o.c.resize(p.m * o.ldc);
    for (auto& v : o.a) v = float(r.normal());
    for (auto& v : o.b) v = float(r.normal());
    for (auto& v : o.c) v = float(r.normal());
    return o;
}

/// The product in double, and per element the scale sum_p |A(i,p) B(p,j)| that bounds float rounding.
void reference(const problem& p, const operands& o, std::vector<double>& out, std::vector<double>& scale) {
    out.assign(p.m * p.n, 0.0);
    scale.assign(p.m * p.n, 0.0);
    for (std::size_t i = 0; i < p.m; ++i)
        for (std::size_t j = 0; j < p.n; ++j) {
            double sum = 0, mag = 0;
            for (std::size_t q = 0; q < p.k; ++q) {
                const double x = p.ta ? o.a[q * o.lda + i] : o.a[i * o.lda + q];
                const double y = p.tb ? o.b[j * o.ldb + q] : o.b[q * o.ldb + j];
                sum += x * y;
                mag += std::abs(x * y);
            }
            const double c0 = o.c[i * o.ldc + j];
            out[i * p.n + j] = p.alpha * sum + (p.beta == 0.0f ? 0.0 : p.beta * c0);
            scale[i * p.n + j] = std::abs(p.alpha) * mag + std::abs(p.beta * c0) + 1.0;
        }
}

std::vector<sgemm_kernel> kernels_of_this_cpu() {
    std::vector<sgemm_kernel> out;
    for (auto k : {sgemm_kernel::openblas, sgemm_kernel::avx2, sgemm_kernel::avx512})
        if (blas::supported(k)) out.push_back(k);
    return out;
}

/// Runs p on every kernel this CPU has, from the same operands, and checks every element of C
/// against one double-precision reference (computed once: it is most of the test's time under
/// the sanitizers), and that the padding columns of C (which no GEMM may touch) are unchanged.
/// Leaves the last kernel active; the test cases restore theirs with kernel_guard.
void check(const problem& p, std::uint64_t seed) {
    const operands o = make_operands(p, seed);
    std::vector<double> want, scale;
    reference(p, o, want, scale);
    for (auto kernel : kernels_of_this_cpu()) {
        blas::set_sgemm_kernel(kernel);
        std::vector<float> c = o.c;
        if (p.beta == 0.0f)  // BLAS semantics: C is not read, so garbage in it must not leak out
            for (std::size_t i = 0; i < p.m; ++i)
                for (std::size_t j = 0; j < p.n; ++j) c[i * o.ldc + j] = std::numeric_limits<float>::quiet_NaN();
        blas::gemm(p.ta ? blas::op::transpose : blas::op::none, p.tb ? blas::op::transpose : blas::op::none, p.m, p.n,
                   p.k, p.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, p.beta, c.data(), o.ldc);
        std::size_t bad = 0;
        const double eps = std::numeric_limits<float>::epsilon();
        for (std::size_t i = 0; i < p.m; ++i) {
            for (std::size_t j = 0; j < p.n; ++j) {
                const double got = c[i * o.ldc + j],
                             tolerance = 4 * eps * std::sqrt(double(p.k) + 1) * scale[i * p.n + j];
                if (!(std::abs(got - want[i * p.n + j]) <= tolerance)) ++bad;
            }
            for (std::size_t j = p.n; j < o.ldc; ++j)
                if (c[i * o.ldc + j] != o.c[i * o.ldc + j]) ++bad;
        }
        BOOST_TEST(bad == 0u, "kernel " << blas::name(kernel) << ": " << bad << " elements wrong");
    }
}

/// Restores the process-wide kernel when a test case ends.
struct kernel_guard {
    sgemm_kernel saved = blas::active_sgemm_kernel();
    ~kernel_guard() { blas::set_sgemm_kernel(saved); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_shape_orientation_and_beta_matches_the_double_reference) {
    kernel_guard guard;
    // Sizes around the tile edges (mr 6 and 8, nr 16 and 32) and the cache blocks (mc 144,
    // kc 256), plus the layer shapes of the 28x28 DCGAN. n 16 and 40 leave a last panel a
    // multiple of 8 wide, packed by 8 x 8 transposes with zero columns; k 13 gives those
    // transposes a remainder.
    const std::size_t ms[] = {2, 5, 8, 9, 16, 23, 145, 64};
    const std::size_t ns[] = {2, 16, 17, 32, 33, 40, 100, 196};
    const std::size_t ks[] = {1, 7, 13, 64, 257};
    std::uint64_t seed = 1;
    for (std::size_t m : ms)
        for (std::size_t n : ns)
            for (std::size_t k : ks)
                for (int orientation = 0; orientation < 4; ++orientation) {
                    const float betas[] = {0.0f, 1.0f, -0.5f};
                    const problem p{m, n, k, bool(orientation & 1), bool(orientation & 2), 1.5f,
                                    betas[seed % 3], seed % 2 ? std::size_t{3} : 0};
                    BOOST_TEST_CONTEXT("m " << m << " n " << n << " k " << k << " ta " << p.ta << " tb " << p.tb
                                            << " beta " << p.beta << " pad " << p.pad) {
                        check(p, seed++);
                    }
                }
}

BOOST_AUTO_TEST_CASE(products_larger_than_every_cache_block) {
    kernel_guard guard;
    // n > block_n (4096) and k > 2 * block_k: several column blocks and three k blocks, where
    // only the first applies beta.
    const problem shapes[] = {{150, 4200, 600, false, false, 1.0f, 0.5f, 1}, {40, 4500, 513, true, true, -1.0f, 0.0f, 0}};
    for (const auto& p : shapes) check(p, 7);
}

BOOST_AUTO_TEST_CASE(degenerate_products_follow_blas) {
    kernel_guard guard;
    for (auto kernel : kernels_of_this_cpu()) {
        blas::set_sgemm_kernel(kernel);
        // k == 0: C = beta * C.
        std::vector<float> c = {1, 2, 3, 4}, unused = {9};
        blas::gemm(blas::op::none, blas::op::none, 2, 2, 0, 1.0f, unused.data(), 1, unused.data(), 2, 2.0f, c.data(), 2);
        BOOST_TEST((c == std::vector<float>{2, 4, 6, 8}));
        // m == 0: nothing is touched.
        blas::gemm(blas::op::none, blas::op::none, 0, 2, 3, 1.0f, unused.data(), 3, unused.data(), 2, 0.0f, c.data(), 2);
        BOOST_TEST((c == std::vector<float>{2, 4, 6, 8}));
    }
    // Vector shapes (m == 1, n == 1) go to the library: still correct, on every kernel.
    check({1, 300, 70, false, true, 1.0f, 0.0f}, 3);
    check({300, 1, 70, true, false, 1.0f, 1.0f}, 4);
}

BOOST_AUTO_TEST_CASE(concurrent_calls_from_the_pool_each_use_their_own_buffers) {
    kernel_guard guard;
    blas::set_sgemm_kernel(blas::best_sgemm_kernel());
    const problem p{64, 392, 300, false, false, 1.0f, 0.0f};
    operands o = make_operands(p, 11);
    std::vector<float> serial(o.c.size());
    blas::gemm(blas::op::none, blas::op::none, p.m, p.n, p.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
               serial.data(), o.ldc);
    thread_pool pool(4);
    std::vector<std::vector<float>> results(4, std::vector<float>(o.c.size()));
    for (int round = 0; round < 20; ++round)
        pool.run_on_all([&](std::size_t w) {
            blas::gemm(blas::op::none, blas::op::none, p.m, p.n, p.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
                       results[w].data(), o.ldc);
        });
    for (const auto& r : results) BOOST_TEST((r == serial));  // bit for bit: same kernel, same order
}

// A left operand packed once (blas::left_operand, as the conv layers use for their weights) gives
// bit for bit the plain GEMM's result: same kernel, same blocks, same order of sums. Shapes cross
// the m and k blocks (mc 144, kc 256) and the tile edges; several right operands share one packing.
BOOST_AUTO_TEST_CASE(a_left_operand_packed_once_matches_the_plain_product) {
    kernel_guard guard;
    const std::size_t ms[] = {2, 9, 64, 145, 300};
    const std::size_t ns[] = {1, 2, 33, 245};
    const std::size_t ks[] = {1, 13, 257, 600};
    std::uint64_t seed = 50;
    for (auto kernel : kernels_of_this_cpu()) {
        blas::set_sgemm_kernel(kernel);
        for (std::size_t m : ms)
            for (std::size_t k : ks)
                for (int orientation = 0; orientation < 4; ++orientation) {
                    const bool ta = orientation & 1, tb = orientation & 2;
                    const problem first{m, ns[0], k, ta, tb, 1.0f, 0.0f, seed % 2 ? std::size_t{3} : 0};
                    const operands a_side = make_operands(first, seed++);
                    blas::left_operand<float> left;
                    left.prepare(ta ? blas::op::transpose : blas::op::none, m, k, a_side.a.data(), a_side.lda);
                    for (std::size_t n : ns) {
                        const problem p{m, n, k, ta, tb, 1.5f, n % 2 ? 0.0f : -0.5f, first.pad};
                        operands o = make_operands(p, seed++);
                        o.a = a_side.a;
                        std::vector<float> plain = o.c, shared = o.c;
                        blas::gemm(ta ? blas::op::transpose : blas::op::none, tb ? blas::op::transpose : blas::op::none,
                                   m, n, k, p.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, p.beta, plain.data(), o.ldc);
                        left.multiply(tb ? blas::op::transpose : blas::op::none, n, p.alpha, o.b.data(), o.ldb, p.beta,
                                      shared.data(), o.ldc);
                        BOOST_TEST_CONTEXT("kernel " << blas::name(kernel) << " m " << m << " n " << n << " k " << k
                                                     << " ta " << ta << " tb " << tb) {
                            BOOST_TEST((shared == plain));
                        }
                    }
                }
    }
}

// A packing made for one kernel is not used by another: after set_sgemm_kernel the product runs
// from the operand itself and still equals the plain product of the active kernel.
BOOST_AUTO_TEST_CASE(a_left_operand_survives_a_change_of_kernel) {
    kernel_guard guard;
    const auto kernels = kernels_of_this_cpu();
    const problem p{64, 100, 300, false, false, 1.0f, 0.0f};
    const operands o = make_operands(p, 77);
    for (auto packed_for : kernels)
        for (auto used_with : kernels) {
            blas::set_sgemm_kernel(packed_for);
            blas::left_operand<float> left;
            left.prepare(blas::op::none, p.m, p.k, o.a.data(), o.lda);
            blas::set_sgemm_kernel(used_with);
            std::vector<float> plain(o.c.size()), shared(o.c.size());
            blas::gemm(blas::op::none, blas::op::none, p.m, p.n, p.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
                       plain.data(), o.ldc);
            left.multiply(blas::op::none, p.n, 1.0f, o.b.data(), o.ldb, 0.0f, shared.data(), o.ldc);
            BOOST_TEST((shared == plain), "packed for " << blas::name(packed_for) << ", used with " << blas::name(used_with));
        }
}

BOOST_AUTO_TEST_CASE(the_environment_variable_chooses_or_is_refused_in_one_sentence) {
    ::setenv("GANT_SGEMM", "openblas", 1);
    BOOST_TEST((blas::detail::kernel_from_environment() == sgemm_kernel::openblas));
    ::setenv("GANT_SGEMM", "auto", 1);
    BOOST_TEST((blas::detail::kernel_from_environment() == blas::best_sgemm_kernel()));
    ::setenv("GANT_SGEMM", "fastest", 1);
    try {
        (void)blas::detail::kernel_from_environment();
        BOOST_FAIL("an unknown kernel name was accepted");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()) == "gant: GANT_SGEMM must be auto, openblas, avx2 or avx512, not 'fastest'");
    }
    ::unsetenv("GANT_SGEMM");
}
