#pragma once
// Checks for numeric command-line flags that CLI11 2.1 (Debian 12) does not make itself (and the
// exit code and sentence form every example's command-line errors share). CLI11's unsigned
// conversion reads "-1" as 2^64 - 1, a number past 2^64 as 2^64 - 1 and "010" as octal,
// and its Range lets "nan" through (every comparison with NaN is false). Each check here reads
// the text before CLI11 converts it and says what is wanted in one sentence:
//
//   app.add_option("--seed", seed)->transform(flags::whole_number({0, max}));
//   app.add_option("--beta1", beta1)->check(flags::finite_number({0.0, 1.0, false, true}));  // [0, 1)
//
// The ranges are plain values (limits::whole_range, limits::real_range), so a program can check
// numbers that reach it another way (a restored checkpoint) against the same ones.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gant/core/one_line.hpp"

namespace gant::examples {

namespace limits {

/// lo to hi, both included.
struct whole_range {
    std::uint64_t lo, hi;
};

/// lo to hi, each end included unless marked open; only finite numbers lie inside.
struct real_range {
    double lo, hi;
    bool lo_open = false, hi_open = false;
};

inline bool contains(whole_range r, std::uint64_t v) { return v >= r.lo && v <= r.hi; }
inline bool contains(real_range r, double v) {
    return std::isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) && (r.hi_open ? v < r.hi : v <= r.hi);
}

/// "from 2 to 65536"
inline std::string text(whole_range r) { return "from " + std::to_string(r.lo) + " to " + std::to_string(r.hi); }

/// "in [0, 1)"
inline std::string text(real_range r) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "in %c%g, %g%c", r.lo_open ? '(' : '[', r.lo, r.hi, r.hi_open ? ')' : ']');
    return buf;
}

}  // namespace limits

/// The exit code of a command-line error (the convention of getopt-based tools).
inline constexpr int usage_error = 2;

/// An error's text as the one sentence a program prints after "<program>: ": without a leading
/// "gant: " (the library's prefix) or "<program>: ", without trailing newlines, on one line.
inline std::string sentence_after(const std::string& program, std::string what) {
    for (const std::string& prefix : {std::string("gant: "), program + ": "})
        if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return one_line(what);  // control characters from paths or files as \xNN
}

namespace flags {

/// Decimal digits only, within r; the text is rewritten without leading zeros, so CLI11 cannot
/// read it as octal. Use with transform() (it may rewrite the text), not check().
inline CLI::Validator whole_number(limits::whole_range r) {
    return CLI::Validator(
        [r](std::string& text) -> std::string {
            std::uint64_t v = 0;
            const char* end = text.data() + text.size();
            const auto [at, ec] = std::from_chars(text.data(), end, v);
            const bool digits = !text.empty() && text.front() >= '0' && text.front() <= '9';
            if (!digits || ec != std::errc() || at != end || !limits::contains(r, v))
                return "must be a whole number " + limits::text(r) + ", not '" + text + "'";
            text = std::to_string(v);
            return {};
        },
        "UINT " + limits::text(r));
}

/// A finite number within r (NaN and infinities are refused).
inline CLI::Validator finite_number(limits::real_range r) {
    return CLI::Validator(
        [r](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size() || !limits::contains(r, v))
                return "must be a finite number " + limits::text(r) + ", not '" + text + "'";
            return {};
        },
        "FLOAT " + limits::text(r));
}

}  // namespace flags

}  // namespace gant::examples
