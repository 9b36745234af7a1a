#pragma once
// Text that came from outside (a file's record names, a path, a string a checkpoint holds) shown
// as one line of plain text: every control byte becomes \xNN, so such text cannot break a
// one-sentence message over lines or send escape sequences to a terminal.
#include <string>

namespace gant {

/// `text` with each byte below 0x20 and 0x7f written as \xNN (two lowercase hex digits).
inline std::string one_line(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c != 0x7f) {
            out += ch;
            continue;
        }
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

}  // namespace gant
