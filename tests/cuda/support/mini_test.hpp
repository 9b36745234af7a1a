#pragma once
// A stand-in for the part of Boost.Test that tests/cuda uses, for machines without Boost (the
// GPU machine's image has the CUDA toolkit but no Boost). The test sources are the same; they
// include support/test_framework.hpp, which picks Boost.Test when GANT_TEST_WITH_BOOST is set.
// Supported: BOOST_AUTO_TEST_SUITE[_END], BOOST_AUTO_TEST_CASE, BOOST_TEST(condition),
// BOOST_REQUIRE(condition), BOOST_ERROR(streamed message), BOOST_TEST_MESSAGE(streamed message),
// BOOST_CHECK_THROW(statement, exception); --run_test=<text> runs the cases whose
// "suite/case" name contains the text. Exit code: 0 when every case passed, 1 otherwise (also
// when no case ran: a filter that matches nothing is an error, never a pass).
#include <cstring>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace gant_mini {

struct test_case {
    std::string name;
    void (*body)();
};

struct state {
    std::vector<test_case> cases;
    int failures_in_case = 0;
    static state& get() {
        static state s;
        return s;
    }
};

struct registrar {
    registrar(const char* suite, const char* name, void (*body)()) {
        state::get().cases.push_back({std::string(suite) + (*suite ? "/" : "") + name, body});
    }
};

struct require_failed {};

inline void fail(const std::string& what, const char* file, int line) {
    ++state::get().failures_in_case;
    std::cout << file << "(" << line << "): error: " << what << std::endl;
}

inline void check(bool ok, const char* expression, const char* file, int line) {
    if (!ok) fail(std::string("check ") + expression + " has failed", file, line);
}

inline int run(int argc, char** argv) {
    std::string filter;
    for (int i = 1; i < argc; ++i)
        if (std::strncmp(argv[i], "--run_test=", 11) == 0) filter = argv[i] + 11;
    int ran = 0, failed = 0;
    for (const test_case& c : state::get().cases) {
        if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
        ++ran;
        state::get().failures_in_case = 0;
        std::cout << "[ run  ] " << c.name << std::endl;
        try {
            c.body();
        } catch (const require_failed&) {
        } catch (const std::exception& e) {
            fail(std::string("uncaught exception: ") + e.what(), c.name.c_str(), 0);
        } catch (...) {
            fail("uncaught exception of unknown type", c.name.c_str(), 0);
        }
        const bool ok = state::get().failures_in_case == 0;
        failed += ok ? 0 : 1;
        std::cout << (ok ? "[  ok  ] " : "[ FAIL ] ") << c.name << std::endl;
    }
    if (ran == 0) {
        std::cout << "no test case matches '" << filter << "'" << std::endl;
        return 1;
    }
    std::cout << ran << " test cases ran, " << failed << " failed" << std::endl;
    return failed == 0 ? 0 : 1;
}

}  // namespace gant_mini

static const char* const gant_mini_suite_name = "";

#define BOOST_AUTO_TEST_SUITE(suite) \
    namespace suite {                \
    static const char* const gant_mini_suite_name = #suite;
#define BOOST_AUTO_TEST_SUITE_END() }
#define BOOST_AUTO_TEST_CASE(name)                                                                 \
    static void name();                                                                            \
    static const ::gant_mini::registrar name##_gant_mini_registrar(gant_mini_suite_name, #name, &name); \
    static void name()
#define BOOST_TEST(condition) ::gant_mini::check(bool(condition), #condition, __FILE__, __LINE__)
#define BOOST_REQUIRE(condition)                                                  \
    do {                                                                          \
        if (!(condition)) {                                                       \
            ::gant_mini::fail("required " #condition " has failed", __FILE__, __LINE__); \
            throw ::gant_mini::require_failed{};                                  \
        }                                                                         \
    } while (false)
#define BOOST_ERROR(message)                                    \
    do {                                                        \
        std::ostringstream gant_mini_stream;                    \
        gant_mini_stream << message;                            \
        ::gant_mini::fail(gant_mini_stream.str(), __FILE__, __LINE__); \
    } while (false)
#define BOOST_TEST_MESSAGE(message)                      \
    do {                                                 \
        std::cout << message << std::endl;               \
    } while (false)
#define BOOST_CHECK_THROW(statement, exception)                                                \
    do {                                                                                       \
        try {                                                                                  \
            statement;                                                                         \
            ::gant_mini::fail("exception " #exception " expected from " #statement, __FILE__, __LINE__); \
        } catch (const exception&) {                                                           \
        } catch (...) {                                                                        \
            ::gant_mini::fail("another exception than " #exception " from " #statement, __FILE__, __LINE__); \
        }                                                                                      \
    } while (false)
