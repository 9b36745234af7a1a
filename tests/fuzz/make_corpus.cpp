// Writes the fuzzers' seed corpora: small valid files and truncated copies of them, so the fuzzers
// start from inputs that reach deep into the parsers instead of spending minutes rediscovering
// the magic numbers. The committed files in tests/fuzz/corpus/ are this program's output:
//
//   make_corpus tests/fuzz/corpus      # writes corpus/idx/* and corpus/checkpoint/*
//
// Deterministic: same program, same bytes (fixed seeds, zlib at a fixed level).
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <zlib.h>

#include "fuzz_model.hpp"

namespace fs = std::filesystem;
using bytes = std::vector<std::uint8_t>;

namespace {

void put(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

/// A valid file, a copy cut in half and one missing its last byte.
void put_with_truncations(const fs::path& dir, const std::string& name, const bytes& b) {
    put(dir / name, b);
    put(dir / (name + ".half"), bytes(b.begin(), b.begin() + std::ptrdiff_t(b.size() / 2)));
    put(dir / (name + ".short"), bytes(b.begin(), b.end() - 1));
}

bytes gzip(const bytes& in) {
    z_stream zs{};
    if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    bytes out(deflateBound(&zs, uLong(in.size())) + 32);
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = uInt(in.size());
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

bytes idx(std::vector<std::uint32_t> dims) {
    bytes b{0, 0, 0x08, std::uint8_t(dims.size())};
    std::uint64_t n = 1;
    for (auto d : dims) {
        n *= d;
        for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(d >> s));
    }
    gant::rng r(5, 5);
    for (std::uint64_t i = 0; i < n; ++i) b.push_back(std::uint8_t(r.next_u32()));
    return b;
}

void idx_corpus(const fs::path& dir) {
    const bytes labels = idx({10}), images = idx({3, 4, 5}), colour = idx({2, 3, 2, 2}), values = idx({4, 6});
    put_with_truncations(dir, "labels.idx1", labels);
    put_with_truncations(dir, "images.idx3", images);
    put_with_truncations(dir, "colour.idx4", colour);
    put(dir / "values.idx2", values);
    put_with_truncations(dir, "images.idx3.gz", gzip(images));
    put(dir / "labels.idx1.gz", gzip(labels));
    // Two gzip members (as `cat a.gz b.gz` writes) that decompress to one header and its data.
    bytes header(images.begin(), images.begin() + 16), body(images.begin() + 16, images.end());
    bytes members = gzip(header), tail = gzip(body);
    members.insert(members.end(), tail.begin(), tail.end());
    put(dir / "two_members.idx3.gz", members);
}

void checkpoint_corpus(const fs::path& dir) {
    using gant::fuzz::model;
    model m(gant::fuzz::model_hyper(), 3);
    gant::rng data(4, 4);
    auto batch = [&](gant::tensor<float>& b) {
        for (auto& v : b) v = float(data.normal());
    };
    for (int i = 0; i < 2; ++i) m.train_step(batch);
    gant::checkpoint_extra extra;
    extra.set_rng_state("data", data.state());
    extra.set_f64("lr", 2e-4);
    extra.set_string("family", "fuzz");
    const fs::path scratch = dir / ".scratch.gant";
    auto file_bytes = [&] {
        std::ifstream in(scratch, std::ios::binary);
        bytes b{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        fs::remove(scratch);
        return b;
    };
    save_checkpoint(m, scratch, extra);
    put_with_truncations(dir, "training_state.gant", file_bytes());
    export_generator(m, scratch);
    put_with_truncations(dir, "generator.gant", file_bytes());
    gant::checkpoint::writer empty;
    put(dir / "empty.gant", empty.bytes());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_corpus DIR (writes DIR/idx and DIR/checkpoint)\n");
        return 2;
    }
    try {
        const fs::path root = argv[1];
        fs::create_directories(root / "idx");
        fs::create_directories(root / "checkpoint");
        idx_corpus(root / "idx");
        checkpoint_corpus(root / "checkpoint");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_corpus: %s\n", e.what());
        return 1;
    }
    return 0;
}
