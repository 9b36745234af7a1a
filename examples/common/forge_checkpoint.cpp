// forge_checkpoint: a test tool that rewrites one gant checkpoint file into another with chosen
// records replaced, and a valid checksum, so tests can hand the programs a file that passes
// every framing check but holds values no run could have saved (a batch of 2^63, a NaN learning
// rate, a NaN weight). It is how check_hostile_checkpoint.cmake reaches the range checks behind
// the checksum.
//
//   forge_checkpoint IN OUT EDIT...
//     u64:NAME=V    the scalar u64 record NAME becomes V (decimal)
//     f64:NAME=V    the scalar f64 record NAME becomes V (strtod: "nan" and "inf" work)
//     fill:NAME=V   every element of the f32 or f64 record NAME becomes V
//
// NAME is the full record name ("extra/hyper/batch", "generator/0/weight"). Exit 0 on success,
// 1 with one sentence on stderr otherwise. Not installed: it is for tests only.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "gant/train/checkpoint.hpp"

namespace {

struct edit {
    std::string kind;  // u64, f64 or fill
    std::string value;
    bool used = false;
};

[[noreturn]] void die(const std::string& sentence) {
    std::fprintf(stderr, "forge_checkpoint: %s\n", sentence.c_str());
    std::exit(1);
}

double parse_real(const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') die("'" + text + "' is not a number");
    return v;
}

std::uint64_t parse_whole(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE) die("'" + text + "' is not a u64");
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) die("usage: forge_checkpoint IN OUT EDIT... (EDIT: u64:NAME=V, f64:NAME=V or fill:NAME=V)");
    std::map<std::string, edit> edits;
    for (int i = 3; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto colon = arg.find(':'), equals = arg.find('=');
        if (colon == std::string::npos || equals == std::string::npos || equals < colon)
            die("'" + arg + "' is not KIND:NAME=VALUE");
        edit e{arg.substr(0, colon), arg.substr(equals + 1)};
        if (e.kind != "u64" && e.kind != "f64" && e.kind != "fill") die("'" + e.kind + "' is not u64, f64 or fill");
        edits[arg.substr(colon + 1, equals - colon - 1)] = e;
    }
    try {
        using gant::checkpoint::dtype;
        const gant::checkpoint::reader in(argv[1]);
        gant::checkpoint::writer out;
        std::vector<std::vector<std::uint8_t>> buffers;  // the writer borrows them until write()
        buffers.reserve(in.records().size());
        for (const auto& r : in.records()) {
            // The record's bytes in host order; an edit replaces them.
            const std::size_t size = gant::checkpoint::dtype_size(r.type);
            std::vector<std::uint8_t>& bytes = buffers.emplace_back(r.count * size);
            gant::checkpoint::detail::convert_le(r.data, bytes.data(), r.count, size);
            if (const auto it = edits.find(r.name); it != edits.end()) {
                edit& e = it->second;
                e.used = true;
                if (e.kind == "u64") {
                    if (r.type != dtype::u64 || r.count != 1) die("record '" + r.name + "' is not one u64");
                    const std::uint64_t v = parse_whole(e.value);
                    std::memcpy(bytes.data(), &v, sizeof v);
                } else if (e.kind == "f64") {
                    if (r.type != dtype::f64 || r.count != 1) die("record '" + r.name + "' is not one f64");
                    const double v = parse_real(e.value);
                    std::memcpy(bytes.data(), &v, sizeof v);
                } else if (r.type == dtype::f32) {
                    const float v = static_cast<float>(parse_real(e.value));
                    for (std::uint64_t k = 0; k < r.count; ++k) std::memcpy(bytes.data() + k * sizeof v, &v, sizeof v);
                } else if (r.type == dtype::f64) {
                    const double v = parse_real(e.value);
                    for (std::uint64_t k = 0; k < r.count; ++k) std::memcpy(bytes.data() + k * sizeof v, &v, sizeof v);
                } else {
                    die("record '" + r.name + "' holds neither f32 nor f64 values");
                }
            }
            out.add(r.name, r.type, r.dims, bytes.data(), r.count);
        }
        for (const auto& [name, e] : edits)
            if (!e.used) die(std::string(argv[1]) + " has no record '" + name + "'");
        out.write(argv[2]);
    } catch (const std::exception& e) {
        die(e.what());
    }
    return 0;
}
