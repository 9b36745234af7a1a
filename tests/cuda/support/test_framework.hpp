#pragma once
// Boost.Test (gant's test framework; CI) or, on machines without Boost, support/mini_test.hpp
// with the same macros. The test file defines BOOST_TEST_MODULE first and writes its own main()
// (to exit with 77, CTest's skip code, when no GPU is there) that calls run_tests().
#if defined(GANT_TEST_WITH_BOOST)
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

namespace gant::cuda::testing {
inline int run_tests(int argc, char** argv) { return boost::unit_test::unit_test_main(&init_unit_test, argc, argv); }
}  // namespace gant::cuda::testing
#else
#include "mini_test.hpp"

namespace gant::cuda::testing {
inline int run_tests(int argc, char** argv) { return gant_mini::run(argc, argv); }
}  // namespace gant::cuda::testing
#endif
