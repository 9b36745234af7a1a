#define BOOST_TEST_MODULE gant_vector_state
#include <boost/test/unit_test.hpp>

// Built with -mavx (tests/CMakeLists.txt), as a user's -march=native build would be: there
// leave_upper_vector_state_clean() is the vzeroupper instruction, and the activations and losses
// that call SSE-only library code (glibc's tanh, log1p) must run it first. The processor reports
// whether the upper halves of the vector registers hold data (XGETBV with ECX = 1, XINUSE bit 2
// for the upper 128 bits of ymm0-15, bit 6 for the upper 256 of zmm0-15), so the tests dirty
// them, make the call, and read that state back with no compiler-generated code in between.
#include <cpuid.h>

#include "gant/core/vector_state.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/loss/policy.hpp"

namespace {

constexpr unsigned avx_upper_bits = (1u << 2) | (1u << 6);

unsigned upper_state_in_use() {
    unsigned lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    (void)hi;
    return lo & avx_upper_bits;
}

// Returns with the upper halves of ymm0 set, as the function GCC 12 compiled without its closing
// vzeroupper did. Written in assembly so that the compiler's own bookkeeping (which assumes every
// call returns them clean, and so adds no vzeroupper of its own after one) cannot see it.
__attribute__((naked, noinline)) void dirty_the_upper_state() {
    asm("vpcmpeqd %ymm0, %ymm0, %ymm0\n\t"
        "ret");
}

// The CPU runs AVX and reports the state in use (XGETBV ECX = 1), and the kernel enabled AVX.
struct state_is_observable {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        unsigned a, b, c, d;
        if (!__builtin_cpu_supports("avx")) return boost::test_tools::assertion_result(false);
        if (!__get_cpuid_count(0xD, 1, &a, &b, &c, &d) || !((a >> 2) & 1u))
            return boost::test_tools::assertion_result(false);
        return true;
    }
};

// Dirties the upper state, runs f, and returns what is left in use.
template <class F>
unsigned in_use_after(F&& f) {
    dirty_the_upper_state();
    f();
    return upper_state_in_use();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_state_is_dirty_before_and_clean_after,
                     *boost::unit_test::precondition(state_is_observable())) {
    dirty_the_upper_state();
    const unsigned before = upper_state_in_use();
    gant::detail::leave_upper_vector_state_clean();
    const unsigned after = upper_state_in_use();
    BOOST_TEST(before != 0u, "a 256-bit instruction left no upper state: the test could not see a change");
    BOOST_TEST(after == 0u);
}

BOOST_AUTO_TEST_CASE(activations_that_call_sse_library_code_clean_it_first,
                     *boost::unit_test::precondition(state_is_observable())) {
    volatile float sink_f = 0;
    volatile double sink_d = 0;
    BOOST_TEST(in_use_after([&] { sink_f = gant::fn::tanh_fn::with<float>::value(0.3f); }) == 0u);
    BOOST_TEST(in_use_after([&] { sink_d = gant::fn::tanh_fn::with<double>::value(0.3); }) == 0u);
    BOOST_TEST(in_use_after([&] { sink_f = gant::fn::softplus_fn::with<float>::value(0.3f); }) == 0u);
    BOOST_TEST(in_use_after([&] { sink_d = gant::fn::softplus_fn::with<double>::value(0.3); }) == 0u);
    BOOST_TEST(in_use_after([&] { sink_f = gant::loss::detail::softplus(0.3f); }) == 0u);
    BOOST_TEST(in_use_after([&] { sink_d = gant::loss::detail::softplus(0.3); }) == 0u);
    // Control: the library call alone leaves the state as it found it, so a pass above is the
    // activation's doing.
    BOOST_TEST(in_use_after([&] { sink_f = std::tanh(float(sink_f) + 0.3f); }) != 0u);
}
