#define BOOST_TEST_MODULE gant_vector_state
#include <boost/test/unit_test.hpp>

// Built with -mavx (tests/CMakeLists.txt, x86-64 only), as a user's -march=native build would be:
// there leave_upper_vector_state_clean() is the vzeroupper instruction, and the activations and
// losses that call SSE-only library code (glibc's tanh, log1p) must run it before the call. The
// processor reports whether the upper halves of the vector registers hold data (XGETBV with
// ECX = 1: XINUSE bit 2 for the upper 128 bits of ymm0-15, bit 6 for the upper 256 of zmm0-15).
// The tests leave those halves dirty, as the code GCC 12 was seen to generate did, and this file
// defines tanh, tanhf, log1p and log1pf itself (the program's definitions come before libm's) to
// record that state as each library call begins, then forward to libm's function.
// Limitation: on an x86 CPU without AVX the binary may stop at an illegal instruction before the
// precondition that would skip it runs; every x86-64 CPU of the last decade has AVX.
#include <cpuid.h>
#include <dlfcn.h>

#include <cmath>

#include "gant/core/vector_state.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/loss/policy.hpp"

namespace {

constexpr unsigned avx_upper_bits = (1u << 2) | (1u << 6);
constexpr unsigned not_called = ~0u;

unsigned upper_state_in_use() {
    unsigned lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    (void)hi;
    return lo & avx_upper_bits;
}

// The upper state as the last interposed library call began, or not_called.
unsigned state_at_library_entry = not_called;

// Records the upper state as an interposed library call begins, then runs libm's function.
template <class T, const char* Name>
T record_then_call_libm(T x) {
    state_at_library_entry = upper_state_in_use();
    static const auto next = reinterpret_cast<T (*)(T)>(dlsym(RTLD_NEXT, Name));
    return next(x);
}

constexpr char tanhf_name[] = "tanhf", tanh_name[] = "tanh", log1pf_name[] = "log1pf", log1p_name[] = "log1p";

}  // namespace

extern "C" {
float tanhf(float x) noexcept { return record_then_call_libm<float, tanhf_name>(x); }
double tanh(double x) noexcept { return record_then_call_libm<double, tanh_name>(x); }
float log1pf(float x) noexcept { return record_then_call_libm<float, log1pf_name>(x); }
double log1p(double x) noexcept { return record_then_call_libm<double, log1p_name>(x); }
}

namespace {

// Returns with the upper halves of all sixteen ymm registers set, as the function GCC 12 compiled
// without its closing vzeroupper did. Written in assembly so that the compiler's own bookkeeping
// (which assumes every call returns them clean, and so adds no vzeroupper of its own after one)
// cannot see it. All sixteen, not one: a VEX-encoded scalar load into xmm0 before the library call
// (the argument) zeroes ymm0's upper half, and AMD's Zen processors then report the upper state
// as clean (XINUSE follows the registers' contents there; Intel's stays set until vzeroupper).
// The calling code cannot overwrite every register in the few instructions in between.
__attribute__((naked, noinline)) void dirty_the_upper_state() {
    asm(".irp r, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n\t"
        "vpcmpeqd %ymm\\r, %ymm\\r, %ymm\\r\n\t"
        ".endr\n\t"
        "ret");
}

// The CPU runs AVX and reports the state in use (XGETBV ECX = 1).
struct state_is_observable {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        unsigned a, b, c, d;
        if (!__builtin_cpu_supports("avx")) return boost::test_tools::assertion_result(false);
        if (!__get_cpuid_count(0xD, 1, &a, &b, &c, &d) || !((a >> 2) & 1u))
            return boost::test_tools::assertion_result(false);
        return true;
    }
};

// Inputs the compiler cannot fold into constants, so every call reaches the library.
volatile float input_f = 0.3f;
volatile double input_d = 0.3;
volatile float sink_f;
volatile double sink_d;

// Leaves the upper state dirty, runs f, and returns the state as f's library call began.
template <class F>
unsigned state_at_the_library_call(F&& f) {
    state_at_library_entry = not_called;
    dirty_the_upper_state();
    f();
    BOOST_TEST_REQUIRE(state_at_library_entry != not_called, "the library function was not called");
    return state_at_library_entry;
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

BOOST_AUTO_TEST_CASE(activations_and_losses_enter_sse_library_code_clean,
                     *boost::unit_test::precondition(state_is_observable())) {
    using gant::fn::softplus_fn;
    using gant::fn::tanh_fn;
    BOOST_TEST(state_at_the_library_call([] { sink_f = tanh_fn::with<float>::value(input_f); }) == 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_d = tanh_fn::with<double>::value(input_d); }) == 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_f = softplus_fn::with<float>::value(input_f); }) == 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_d = softplus_fn::with<double>::value(input_d); }) == 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_f = gant::loss::detail::softplus(float(input_f)); }) == 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_d = gant::loss::detail::softplus(double(input_d)); }) == 0u);
}

// Control: a plain call after the same dirty return reaches the library with the state dirty, so
// a pass above is the activation's doing, not the compiler's.
BOOST_AUTO_TEST_CASE(a_plain_call_enters_dirty, *boost::unit_test::precondition(state_is_observable())) {
    BOOST_TEST(state_at_the_library_call([] { sink_f = std::tanh(float(input_f)); }) != 0u);
    BOOST_TEST(state_at_the_library_call([] { sink_d = std::log1p(double(input_d)); }) != 0u);
}
