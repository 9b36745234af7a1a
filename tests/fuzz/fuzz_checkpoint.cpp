// libFuzzer target: the checkpoint loader (include/gant/train/checkpoint.hpp, gan_state.hpp) on
// hostile bytes, loading into the small gan of fuzz_model.hpp.
//
// Each input is tried twice: as it is, and with its header's payload length and its checksum
// rewritten to fit the bytes. Without the second try nearly every mutation would stop at the
// checksum and the record parser, the configuration check and the record validation would go
// unexplored. Each try runs every entry point that reads a file: load_checkpoint (training state
// and extra records), load_generator and read_checkpoint_extra, then reads the extras back.
//
// The contract: success, or one checkpoint_error whose what() is one line naming the file and
// leaves the gan as it was. Anything else (another exception, a crash, an ASan or UBSan report, a
// huge allocation) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_model.hpp"

namespace {

using gant::fuzz::model;

void expect(bool ok) {
    if (!ok) std::abort();  // libFuzzer saves the input as a crash
}

void expect_sentence(const gant::checkpoint_error& e) {
    const std::string what = e.what();
    bool ok = what.rfind("gant: fuzz.gant: ", 0) == 0;
    for (const unsigned char c : what) ok = ok && c >= 0x20 && c != 0x7f;  // one line, no terminal escapes
    if (!ok) {
        std::fprintf(stderr, "fuzz_checkpoint: not one sentence: ");
        for (const unsigned char c : what) std::fprintf(stderr, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
        std::fprintf(stderr, "\n");
    }
    expect(ok);
}

model& the_model() {
    static model m(gant::fuzz::model_hyper(), 1);  // built once: a load replaces all of it or nothing
    return m;
}

/// The bytes with the header's payload length and the trailing checksum made consistent.
std::vector<std::uint8_t> with_valid_framing(std::vector<std::uint8_t> b) {
    using namespace gant::checkpoint;
    if (b.size() < header_size + trailer_size) return b;
    const std::uint64_t payload = b.size() - header_size - trailer_size;
    std::vector<std::uint8_t> le;
    detail::put_le<std::uint64_t>(le, payload);
    std::copy(le.begin(), le.end(), b.begin() + 12);
    detail::fnv1a64 h;
    h.update(b.data() + header_size, payload);
    le.clear();
    detail::put_le<std::uint64_t>(le, h.value());
    std::copy(le.begin(), le.end(), b.end() - 8);
    return b;
}

void try_file(std::vector<std::uint8_t> bytes) {
    try {
        const gant::checkpoint::reader r(std::move(bytes), "fuzz.gant");
        model& m = the_model();
        try {
            gant::checkpoint_extra extra;
            load_checkpoint(m, r, extra);
            for (const auto& name : extra.names()) (void)extra.get_bytes(name);
        } catch (const gant::checkpoint_error& e) {
            expect_sentence(e);
        }
        try {
            load_generator(m.generator(), r);
        } catch (const gant::checkpoint_error& e) {
            expect_sentence(e);
        }
        const gant::checkpoint_extra extra = gant::read_checkpoint_extra(r);
        for (const auto& name : extra.names()) {
            try {
                (void)extra.get_rng_state(name);
            } catch (const gant::checkpoint_error& e) {
                expect_sentence(e);
            }
        }
    } catch (const gant::checkpoint_error& e) {
        expect_sentence(e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::uint8_t> bytes(data, data + size);
    try_file(bytes);
    try_file(with_valid_framing(std::move(bytes)));
    return 0;
}
