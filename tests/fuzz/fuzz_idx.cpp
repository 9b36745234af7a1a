// libFuzzer target: the IDX reader (include/gant/data/idx.hpp, gzip.hpp) on hostile bytes.
//
// The input is a whole file image, plain or gzipped (the reader detects gzip by its magic bytes,
// so one target covers both). The contract under test: either the file parses into dims and
// bytes that agree, or one format_error whose what() is a single line naming the file. Any other
// exception, a crash, an out-of-bounds access or leak (ASan), undefined behaviour (UBSan) or an
// allocation beyond -rss_limit_mb / -malloc_limit_mb is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gant/data/idx.hpp"

namespace {

void expect(bool ok) {
    if (!ok) std::abort();  // libFuzzer saves the input as a crash
}

bool one_line(const std::string& s) {
    for (const unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const gant::data::idx_data d = gant::data::read_idx_bytes({data, size}, "fuzz.idx");
        expect(!d.dims.empty() && d.dims.size() <= 4);
        std::uint64_t n = 1;
        for (const auto v : d.dims) n *= v;
        expect(n == d.bytes.size());
    } catch (const gant::data::format_error& e) {
        const std::string what = e.what();
        expect(what.rfind("gant: fuzz.idx: ", 0) == 0 && one_line(what));
    }
    return 0;
}
