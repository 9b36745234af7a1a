#pragma once
// The checkpoint file format: named little-endian tensors behind a magic number, a format version
// and a checksum (docs/checkpoints.md is the reference).
//
//   "GANTCKPT"            8 bytes
//   version               u32   (1)
//   payload length        u64
//   payload               records, back to back
//   checksum              u64   FNV-1a 64 over the payload bytes
//
//   record: u32 name length, name bytes (UTF-8), u8 dtype, u32 rank, u64 dims[rank],
//           the elements in row-major order, each little-endian
//
// All integers are little-endian. This header knows nothing about networks: gan_state.hpp maps a
// gan<...> onto records. Why the whole file is read and checked before anything is used: a
// failed load must leave the caller's objects untouched, and a hostile or torn file must give one
// sentence, never an out-of-bounds read or a giant allocation. Every size read from the file is
// checked against the bytes that are actually there before it is used.
//
// Writing streams the records straight from the caller's tensors (no copy of the payload) through
// io::atomic_file, so a crash leaves either the old file or the new one.
#include <algorithm>
#include <array>
#include <concepts>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gant/core/one_line.hpp"
#include "gant/core/rng.hpp"
#include "gant/io/atomic_file.hpp"

namespace gant {

/// A checkpoint could not be written, read or applied. what() is one sentence naming the file,
/// on one line: control bytes (record names and configuration text come from the file, which may
/// be hostile) are shown as \xNN, so a file cannot break the line or send terminal escapes.
class checkpoint_error : public std::runtime_error {
public:
    checkpoint_error(const std::filesystem::path& file, const std::string& problem)
        : std::runtime_error(one_line("gant: " + file.string() + ": " + problem)), file_(file) {}
    const std::filesystem::path& file() const noexcept { return file_; }

private:
    std::filesystem::path file_;
};

namespace checkpoint {

inline constexpr std::array<char, 8> magic{'G', 'A', 'N', 'T', 'C', 'K', 'P', 'T'};
inline constexpr std::uint32_t format_version = 1;
inline constexpr std::size_t header_size = 8 + 4 + 8;  // magic, version, payload length
inline constexpr std::size_t trailer_size = 8;         // checksum
inline constexpr std::uint32_t max_rank = 8;
inline constexpr std::uint32_t max_name_length = 4096;

/// Element types. The numbers are part of the file format: never renumber.
enum class dtype : std::uint8_t { f32 = 1, f64 = 2, u64 = 3, i64 = 4, u8 = 5 };

inline std::size_t dtype_size(dtype t) {
    switch (t) {
        case dtype::f32: return 4;
        case dtype::f64: return 8;
        case dtype::u64: return 8;
        case dtype::i64: return 8;
        case dtype::u8: return 1;
    }
    return 0;
}

inline const char* dtype_name(dtype t) {
    switch (t) {
        case dtype::f32: return "f32";
        case dtype::f64: return "f64";
        case dtype::u64: return "u64";
        case dtype::i64: return "i64";
        case dtype::u8: return "u8";
    }
    return "unknown";
}

inline bool valid_dtype(std::uint8_t code) { return code >= 1 && code <= 5; }

template <class T>
constexpr dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>) return dtype::f32;
    else if constexpr (std::is_same_v<T, double>) return dtype::f64;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return dtype::u64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::i64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return dtype::u8;
    else static_assert(sizeof(T) == 0, "gant: checkpoints store float, double, uint64_t, int64_t and uint8_t");
}

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559, "gant: checkpoints need IEEE float");
static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559, "gant: checkpoints need IEEE double");

/// "128x64x4x4"; "scalar" for rank 0.
inline std::string dims_text(std::span<const std::uint64_t> dims) {
    if (dims.empty()) return "scalar";
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += 'x';
        s += std::to_string(dims[i]);
    }
    return s;
}

namespace detail {

/// FNV-1a 64, streamed.
class fnv1a64 {
public:
    void update(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        std::uint64_t h = h_;
        for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
        h_ = h;
    }
    std::uint64_t value() const { return h_; }

private:
    std::uint64_t h_ = 0xCBF29CE484222325ULL;
};

template <class U>
U byteswap(U v) {
    U r = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) r = U(r << 8) | U((v >> (8 * i)) & 0xFF);
    return r;
}

/// Copies n elements of `size` bytes from `in` (host order) to `out` (little-endian), or back:
/// the conversion is its own inverse.
inline void convert_le(const void* in, void* out, std::size_t n, std::size_t size) {
    if (n == 0) return;  // an empty vector's data() may be null, and memcpy(null, ..., 0) is undefined
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(out, in, n * size);
    } else {
        const auto* src = static_cast<const std::uint8_t*>(in);
        auto* dst = static_cast<std::uint8_t*>(out);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t b = 0; b < size; ++b) dst[i * size + b] = src[i * size + size - 1 - b];
    }
}

template <class U>
void put_le(std::vector<std::uint8_t>& out, U v) {
    if constexpr (std::endian::native != std::endian::little) v = byteswap(v);
    const auto at = out.size();
    out.resize(at + sizeof(U));
    std::memcpy(out.data() + at, &v, sizeof(U));
}

template <class U>
U get_le(const std::uint8_t* p) {
    U v;
    std::memcpy(&v, p, sizeof(U));
    if constexpr (std::endian::native != std::endian::little) v = byteswap(v);
    return v;
}

/// a * b, or false when it overflows 64 bits.
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
    out = a * b;
    return true;
}

}  // namespace detail

// ---- rng state as six u64 values ---------------------------------------------------------

inline constexpr std::size_t rng_state_words = 6;

/// seed, stream, counter, lane, has_spare, bits of the pending Box-Muller variate.
inline std::array<std::uint64_t, rng_state_words> encode_rng_state(const rng::full_state& s) {
    return {s.core.seed, s.core.stream, s.core.counter, s.core.lane, s.has_spare ? 1u : 0u,
            std::bit_cast<std::uint64_t>(s.spare)};
}

/// Decodes an encoded state; an empty string when it is valid, else what is wrong with it.
inline std::string decode_rng_state(std::span<const std::uint64_t> w, rng::full_state& out) {
    if (w.size() != rng_state_words) return "a random-stream state needs 6 values, found " + std::to_string(w.size());
    if (w[3] > 4) return "the random-stream lane is " + std::to_string(w[3]) + ", at most 4 is valid";
    if (w[3] < 4 && w[2] == 0) return "the random-stream lane points into a block that was never generated";
    if (w[4] > 1) return "the random-stream spare flag is " + std::to_string(w[4]) + ", not 0 or 1";
    out.core.seed = w[0];
    out.core.stream = w[1];
    out.core.counter = w[2];
    out.core.lane = static_cast<std::uint32_t>(w[3]);
    const double spare = std::bit_cast<double>(w[5]);
    // The spare is the second variate of a Box-Muller pair with u1 >= 2^-53: |z| <= sqrt(106 ln 2),
    // about 8.57. Anything else (a NaN, 1e308) was not drawn by the stream.
    if (w[4] == 1 && !(std::abs(spare) <= 8.6)) {
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", spare);
        return std::string("the random stream's stored normal draw is ") + text +
               ", which it cannot produce (every draw lies within +-8.57)";
    }
    out.has_spare = w[4] == 1;
    out.spare = spare;
    return {};
}

// ---- writing -------------------------------------------------------------------------------

/// Collects records, then writes them in one pass. Tensor data added with add() is borrowed and
/// must stay valid and unchanged until write() returns; small values (add_u64, ...) are copied.
class writer {
public:
    /// Borrows `count` elements of type t at `data` (host byte order), with logical shape `dims`.
    void add(std::string name, dtype t, std::vector<std::uint64_t> dims, const void* data, std::uint64_t count) {
        std::uint64_t expected = 1;
        for (auto d : dims)
            if (!detail::checked_mul(expected, d, expected))
                throw std::invalid_argument("gant: checkpoint record '" + name + "' has an impossible shape");
        if (expected != count)
            throw std::invalid_argument("gant: checkpoint record '" + name + "' has shape " + dims_text(dims) +
                                        " but " + std::to_string(count) + " elements");
        check_new(name, dims.size());
        records_.push_back({std::move(name), t, std::move(dims), data, count, {}});
    }

    template <class T>
    void add(std::string name, std::vector<std::uint64_t> dims, const T* data, std::uint64_t count) {
        add(std::move(name), dtype_of<T>(), std::move(dims), data, count);
    }

    /// Copies `values` (a rank-1 record of their count, or rank 0 when scalar is true).
    template <class T>
    void add_copy(std::string name, std::span<const T> values, bool scalar = false) {
        if (scalar && values.size() != 1) throw std::invalid_argument("gant: a scalar record needs one value");
        check_new(name, scalar ? 0 : 1);
        record r{std::move(name), dtype_of<T>(), {}, nullptr, values.size(), {}};
        if (!scalar) r.dims = {values.size()};
        r.owned.resize(values.size() * sizeof(T));
        if (!values.empty()) std::memcpy(r.owned.data(), values.data(), r.owned.size());
        records_.push_back(std::move(r));
    }

    void add_u64(std::string name, std::uint64_t v) { add_copy<std::uint64_t>(std::move(name), {&v, 1}, true); }
    void add_i64(std::string name, std::int64_t v) { add_copy<std::int64_t>(std::move(name), {&v, 1}, true); }
    void add_f64(std::string name, double v) { add_copy<double>(std::move(name), {&v, 1}, true); }
    void add_bytes(std::string name, std::span<const std::uint8_t> v) { add_copy(std::move(name), v); }
    void add_string(std::string name, std::string_view s) {
        add_bytes(std::move(name), {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    }
    void add_rng_state(std::string name, const rng::full_state& s) {
        const auto w = encode_rng_state(s);
        add_copy<std::uint64_t>(std::move(name), w);
    }

    bool contains(std::string_view name) const { return names_.count(std::string(name)) != 0; }
    std::size_t size() const { return records_.size(); }

    /// Bytes between the header and the checksum.
    std::uint64_t payload_size() const {
        std::uint64_t n = 0;
        for (const auto& r : records_) n += 4 + r.name.size() + 1 + 4 + 8 * r.dims.size() + r.count * dtype_size(r.type);
        return n;
    }

    /// Replaces `file` atomically (temporary file, fsync, rename). Throws checkpoint_error; on
    /// failure the previous content of `file` is untouched.
    void write(const std::filesystem::path& file) const {
        try {
            io::write_atomically(file, [&](io::atomic_file& out) { write_to(out); });
        } catch (const io::write_error& e) {
            std::string why = e.what();
            const std::string prefix = "gant: cannot write " + file.string() + ": ";
            if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
            throw checkpoint_error(file, "cannot write the checkpoint: " + why);
        }
    }

    /// Writes the whole file into any sink with write(const void*, size_t).
    template <class Sink>
    void write_to(Sink& out) const {
        std::vector<std::uint8_t> head;
        head.insert(head.end(), magic.begin(), magic.end());
        detail::put_le<std::uint32_t>(head, format_version);
        detail::put_le<std::uint64_t>(head, payload_size());
        out.write(head.data(), head.size());

        detail::fnv1a64 hash;
        std::vector<std::uint8_t> buf;
        auto emit = [&](const void* p, std::size_t n) {
            hash.update(p, n);
            out.write(p, n);
        };
        for (const auto& r : records_) {
            buf.clear();
            detail::put_le<std::uint32_t>(buf, static_cast<std::uint32_t>(r.name.size()));
            buf.insert(buf.end(), r.name.begin(), r.name.end());
            buf.push_back(static_cast<std::uint8_t>(r.type));
            detail::put_le<std::uint32_t>(buf, static_cast<std::uint32_t>(r.dims.size()));
            for (auto d : r.dims) detail::put_le<std::uint64_t>(buf, d);
            emit(buf.data(), buf.size());
            const std::size_t size = dtype_size(r.type);
            const void* data = r.data ? r.data : r.owned.data();
            if constexpr (std::endian::native == std::endian::little) {
                if (r.count) emit(data, r.count * size);
            } else {  // convert in chunks so a big tensor needs no second copy
                constexpr std::size_t chunk = 1 << 16;
                std::vector<std::uint8_t> le(chunk);
                const auto* src = static_cast<const std::uint8_t*>(data);
                for (std::uint64_t done = 0; done < r.count;) {
                    const std::size_t n = std::min<std::uint64_t>(chunk / size, r.count - done);
                    detail::convert_le(src + done * size, le.data(), n, size);
                    emit(le.data(), n * size);
                    done += n;
                }
            }
        }
        std::vector<std::uint8_t> tail;
        detail::put_le<std::uint64_t>(tail, hash.value());
        out.write(tail.data(), tail.size());
    }

    /// The whole file in memory (tests, fuzzers' seed corpora).
    std::vector<std::uint8_t> bytes() const {
        struct sink {
            std::vector<std::uint8_t>& v;
            void write(const void* p, std::size_t n) {
                const auto* b = static_cast<const std::uint8_t*>(p);
                v.insert(v.end(), b, b + n);
            }
        };
        std::vector<std::uint8_t> v;
        sink s{v};
        write_to(s);
        return v;
    }

private:
    struct record {
        std::string name;
        dtype type;
        std::vector<std::uint64_t> dims;
        const void* data;  // borrowed, or null when `owned` holds the elements
        std::uint64_t count;
        std::vector<std::uint8_t> owned;
    };

    void check_new(const std::string& name, std::size_t rank) {
        if (name.empty() || name.size() > max_name_length)
            throw std::invalid_argument("gant: a checkpoint record name must have 1 to " +
                                        std::to_string(max_name_length) + " bytes");
        if (rank > max_rank)
            throw std::invalid_argument("gant: checkpoint record '" + name + "' has rank " + std::to_string(rank) +
                                        ", at most " + std::to_string(max_rank) + " is allowed");
        if (!names_.insert(name).second)
            throw std::invalid_argument("gant: checkpoint record '" + name + "' was added twice");
    }

    std::vector<record> records_;
    std::unordered_set<std::string> names_;
};

// ---- reading -------------------------------------------------------------------------------

/// One record of a file that has been read and checked; `data` points into the reader's buffer.
struct record_view {
    std::string name;
    checkpoint::dtype type;
    std::vector<std::uint64_t> dims;
    std::uint64_t count = 0;  // elements
    const std::uint8_t* data = nullptr;
    std::uint64_t bytes = 0;
};

/// Reads a whole checkpoint into memory and checks its framing, checksum and record structure.
/// After construction every record_view is known to lie inside the buffer.
class reader {
public:
    /// Reads `file`; throws checkpoint_error naming it.
    explicit reader(std::filesystem::path file) : file_(std::move(file)) {
        std::error_code ec;
        const auto status = std::filesystem::status(file_, ec);
        if (ec || !std::filesystem::exists(status)) fail("cannot read it: the file does not exist");
        if (!std::filesystem::is_regular_file(status)) fail("cannot read it: it is not a regular file");
        const std::unique_ptr<std::FILE, int (*)(std::FILE*)> open_file(std::fopen(file_.c_str(), "rb"), std::fclose);
        std::FILE* f = open_file.get();
        if (!f) fail(std::string("cannot open it (") + std::strerror(errno) + ")");
        // The size comes from the open file itself, so what we allocate is what exists on disk;
        // and the header is checked against it first, so that a large file that is not a gant
        // checkpoint (or announces another size) is refused before it is read into memory.
        bool ok = std::fseek(f, 0, SEEK_END) == 0;
        const long size = ok ? std::ftell(f) : -1;
        ok = ok && size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
        std::array<std::uint8_t, header_size> head{};
        const std::size_t head_bytes = ok ? std::min(head.size(), static_cast<std::size_t>(size)) : 0;
        ok = ok && std::fread(head.data(), 1, head_bytes, f) == head_bytes && std::fseek(f, 0, SEEK_SET) == 0;
        if (ok) {
            check_header(head.data(), head_bytes, static_cast<std::uint64_t>(size));
            try {
                bytes_.resize(static_cast<std::size_t>(size));
            } catch (const std::bad_alloc&) {
                fail("cannot read it: not enough memory for its " + std::to_string(size) + " bytes");
            }
            ok = bytes_.empty() || std::fread(bytes_.data(), 1, bytes_.size(), f) == bytes_.size();
        }
        if (!ok) fail("cannot read it (I/O error or the file changed while being read)");
        parse();
    }

    /// Parses a file image already in memory; `name` is used in messages.
    reader(std::vector<std::uint8_t> bytes, std::filesystem::path name) : file_(std::move(name)), bytes_(std::move(bytes)) {
        parse();
    }

    reader(const reader&) = delete;  // record views point into bytes_
    reader& operator=(const reader&) = delete;

    const std::filesystem::path& file() const noexcept { return file_; }
    const std::vector<record_view>& records() const noexcept { return records_; }

    const record_view* find(std::string_view name) const {
        const auto it = index_.find(std::string(name));
        return it == index_.end() ? nullptr : &records_[it->second];
    }

    /// The record, checked for its type and (if given) its shape; throws checkpoint_error.
    const record_view& get(std::string_view name, dtype t) const {
        const record_view* r = find(name);
        if (!r) fail("has no record '" + std::string(name) + "'");
        if (r->type != t)
            fail("record '" + r->name + "' holds " + dtype_name(r->type) + " values, expected " + dtype_name(t));
        return *r;
    }
    const record_view& get(std::string_view name, dtype t, std::span<const std::uint64_t> dims) const {
        const record_view& r = get(name, t);
        if (!std::equal(r.dims.begin(), r.dims.end(), dims.begin(), dims.end()))
            fail("record '" + r.name + "' has shape " + dims_text(r.dims) + ", expected " + dims_text(dims));
        return r;
    }

    std::uint64_t get_u64(std::string_view name) const { return scalar<std::uint64_t>(name); }
    std::int64_t get_i64(std::string_view name) const { return scalar<std::int64_t>(name); }
    double get_f64(std::string_view name) const { return scalar<double>(name); }
    std::string get_string(std::string_view name) const {
        const record_view& r = get(name, dtype::u8);
        if (r.dims.size() != 1) fail("record '" + r.name + "' is not a byte string");
        return std::string(reinterpret_cast<const char*>(r.data), r.count);
    }
    template <class T>
    std::vector<T> get_vector(std::string_view name) const {
        const record_view& r = get(name, dtype_of<T>());
        std::vector<T> v(r.count);
        copy_out(r, v.data());
        return v;
    }

    /// Copies a record's elements (little-endian in the file) to `out` in host order; `out`
    /// must hold r.count elements of the record's type.
    template <class T>
    static void copy_out(const record_view& r, T* out) {
        if (r.type != dtype_of<T>()) throw std::logic_error("gant: checkpoint::reader::copy_out: wrong type");
        detail::convert_le(r.data, out, r.count, sizeof(T));
    }

    [[noreturn]] void fail(const std::string& problem) const { throw checkpoint_error(file_, problem); }

private:
    template <class T>
    T scalar(std::string_view name) const {
        const record_view& r = get(name, dtype_of<T>());
        if (r.count != 1) fail("record '" + r.name + "' has shape " + dims_text(r.dims) + ", expected one value");
        T v;
        copy_out(r, &v);
        return v;
    }

    /// The checks that need only the first `prefix` bytes (up to header_size) of a file of `size`
    /// bytes: magic, size, format version, and the payload length against the size.
    void check_header(const std::uint8_t* p, std::size_t prefix, std::uint64_t size) const {
        if (size == 0 || std::memcmp(p, magic.data(), std::min(prefix, magic.size())) != 0)
            fail("is not a gant checkpoint (it does not start with \"GANTCKPT\")");
        if (size < header_size + trailer_size)
            fail("is truncated: it has " + std::to_string(size) + " bytes, fewer than an empty checkpoint");
        const auto version = detail::get_le<std::uint32_t>(p + 8);
        if (version != format_version)
            fail("has checkpoint format version " + std::to_string(version) + ", but this gant reads version " +
                 std::to_string(format_version));
        const auto payload = detail::get_le<std::uint64_t>(p + 12);
        const std::uint64_t available = size - header_size - trailer_size;
        if (payload > available)
            fail("is truncated: its header announces " + std::to_string(payload) + " payload bytes but only " +
                 std::to_string(available) + " follow");
        if (payload < available)
            fail("has " + std::to_string(available - payload) + " unexpected bytes after its checksum");
    }

    void parse() {
        const std::uint8_t* p = bytes_.data();
        const std::size_t size = bytes_.size();
        check_header(p, std::min(size, header_size), size);
        const auto payload = detail::get_le<std::uint64_t>(p + 12);
        const std::uint8_t* body = p + header_size;
        detail::fnv1a64 hash;
        hash.update(body, payload);
        const auto stored = detail::get_le<std::uint64_t>(body + payload);
        if (stored != hash.value()) fail("is corrupt: its checksum does not match its content");

        std::uint64_t at = 0;
        auto need = [&](std::uint64_t n, const std::string& what) {
            if (n > payload - at)
                fail("is corrupt: record " + std::to_string(records_.size()) + " " + what + " runs past the end");
        };
        while (at < payload) {
            record_view r;
            need(4, "(its name length)");
            const auto name_length = detail::get_le<std::uint32_t>(body + at);
            at += 4;
            if (name_length == 0 || name_length > max_name_length)
                fail("is corrupt: record " + std::to_string(records_.size()) + " has a name of " +
                     std::to_string(name_length) + " bytes");
            need(name_length, "(its name)");
            r.name.assign(reinterpret_cast<const char*>(body + at), name_length);
            at += name_length;
            const std::string label = "'" + r.name + "'";
            need(1 + 4, label);
            const std::uint8_t code = body[at];
            if (!valid_dtype(code))
                fail("is corrupt: record " + label + " has an unknown element type " + std::to_string(code));
            r.type = static_cast<dtype>(code);
            const auto rank = detail::get_le<std::uint32_t>(body + at + 1);
            at += 5;
            if (rank > max_rank)
                fail("is corrupt: record " + label + " has rank " + std::to_string(rank) + ", at most " +
                     std::to_string(max_rank) + " is allowed");
            need(std::uint64_t{8} * rank, label + " (its shape)");
            r.dims.resize(rank);
            r.count = 1;
            for (std::uint32_t i = 0; i < rank; ++i) {
                r.dims[i] = detail::get_le<std::uint64_t>(body + at + 8 * i);
                if (!detail::checked_mul(r.count, r.dims[i], r.count))
                    fail("is corrupt: record " + label + " has an impossible shape");
            }
            at += std::uint64_t{8} * rank;
            if (!detail::checked_mul(r.count, dtype_size(r.type), r.bytes) || r.bytes > payload - at)
                fail("is corrupt: record " + label + " (shape " + dims_text(r.dims) +
                     ") needs more bytes than the file holds");
            r.data = body + at;
            at += r.bytes;
            if (!index_.emplace(r.name, records_.size()).second)
                fail("is corrupt: record " + label + " appears twice");
            records_.push_back(std::move(r));
        }
    }

    std::filesystem::path file_;
    std::vector<std::uint8_t> bytes_;
    std::vector<record_view> records_;
    std::map<std::string, std::size_t> index_;
};

}  // namespace checkpoint

// ---- caller-provided records ---------------------------------------------------------------

/// Small named values a program stores next to the training state: its data-shuffling state, its
/// hyper-parameters, anything it needs to resume. Saved as records "extra/<name>".
class checkpoint_extra {
public:
    void set_u64(const std::string& name, std::uint64_t v) { put(name, checkpoint::dtype::u64, &v, 1, true); }
    void set_i64(const std::string& name, std::int64_t v) { put(name, checkpoint::dtype::i64, &v, 1, true); }
    void set_f64(const std::string& name, double v) { put(name, checkpoint::dtype::f64, &v, 1, true); }
    void set_u64s(const std::string& name, std::span<const std::uint64_t> v) {
        put(name, checkpoint::dtype::u64, v.data(), v.size(), false);
    }
    void set_f64s(const std::string& name, std::span<const double> v) {
        put(name, checkpoint::dtype::f64, v.data(), v.size(), false);
    }
    void set_bytes(const std::string& name, std::span<const std::uint8_t> v) {
        put(name, checkpoint::dtype::u8, v.data(), v.size(), false);
    }
    void set_string(const std::string& name, std::string_view s) {
        put(name, checkpoint::dtype::u8, s.data(), s.size(), false);
    }
    void set_rng_state(const std::string& name, const rng::full_state& s) {
        const auto w = checkpoint::encode_rng_state(s);
        set_u64s(name, w);
    }

    /// A data::batch_source state (or anything with its fields: an rng::full_state epoch_start and
    /// u64 epoch, position, dataset_size) as one list of nine u64 values.
    template <class State>
        requires requires(const State& s) {
            { s.epoch_start } -> std::convertible_to<rng::full_state>;
            s.epoch;
            s.position;
            s.dataset_size;
        }
    void set_source_state(const std::string& name, const State& s) {
        const auto w = checkpoint::encode_rng_state(s.epoch_start);
        std::vector<std::uint64_t> v(w.begin(), w.end());
        v.push_back(static_cast<std::uint64_t>(s.epoch));
        v.push_back(static_cast<std::uint64_t>(s.position));
        v.push_back(static_cast<std::uint64_t>(s.dataset_size));
        set_u64s(name, v);
    }
    template <class State>
    State get_source_state(const std::string& name) const {
        const auto v = get_u64s(name);
        if (v.size() != checkpoint::rng_state_words + 3)
            fail("extra record '" + name + "' holds " + std::to_string(v.size()) +
                 " values, a batch-source state has " + std::to_string(checkpoint::rng_state_words + 3));
        State s{};
        const std::string problem =
            checkpoint::decode_rng_state(std::span(v).first(checkpoint::rng_state_words), s.epoch_start);
        if (!problem.empty()) fail("extra record '" + name + "': " + problem);
        s.epoch = v[6];
        s.position = v[7];
        s.dataset_size = v[8];
        return s;
    }

    bool contains(const std::string& name) const { return values_.count(name) != 0; }
    std::vector<std::string> names() const {
        std::vector<std::string> n;
        for (const auto& [k, v] : values_) n.push_back(k);
        return n;
    }
    void clear() { values_.clear(); }

    std::uint64_t get_u64(const std::string& name) const { return scalar<std::uint64_t>(name); }
    std::int64_t get_i64(const std::string& name) const { return scalar<std::int64_t>(name); }
    double get_f64(const std::string& name) const { return scalar<double>(name); }
    std::vector<std::uint64_t> get_u64s(const std::string& name) const { return values<std::uint64_t>(name); }
    std::vector<double> get_f64s(const std::string& name) const { return values<double>(name); }
    std::vector<std::uint8_t> get_bytes(const std::string& name) const { return values<std::uint8_t>(name); }
    std::string get_string(const std::string& name) const {
        const auto b = values<std::uint8_t>(name);
        return std::string(b.begin(), b.end());
    }
    rng::full_state get_rng_state(const std::string& name) const {
        rng::full_state s;
        const auto w = get_u64s(name);
        const std::string problem = checkpoint::decode_rng_state(w, s);
        if (!problem.empty()) fail("extra record '" + name + "': " + problem);
        return s;
    }

    /// The file these values were loaded from (empty when built in memory); named in messages.
    const std::filesystem::path& source() const noexcept { return source_; }

    // ---- used by save_checkpoint / load_checkpoint ----
    void add_to(checkpoint::writer& w, const std::string& prefix) const {
        for (const auto& [name, v] : values_) {
            if (v.scalar) w.add(prefix + name, v.type, {}, v.bytes.data(), 1);
            else w.add(prefix + name, v.type, {v.count}, v.bytes.data(), v.count);
        }
    }
    /// Adopts a checked record (its bytes are little-endian: converted here).
    void adopt(const std::string& name, const checkpoint::record_view& r) {
        if (r.dims.size() > 1)
            throw checkpoint_error(source_, "extra record '" + name + "' has rank " + std::to_string(r.dims.size()) +
                                                ", extra records are scalars or lists");
        entry e{r.type, r.dims.empty(), r.count, std::vector<std::uint8_t>(r.bytes)};
        checkpoint::detail::convert_le(r.data, e.bytes.data(), r.count, checkpoint::dtype_size(r.type));
        values_[name] = std::move(e);
    }
    void set_source(std::filesystem::path p) { source_ = std::move(p); }

private:
    struct entry {
        checkpoint::dtype type;
        bool scalar;
        std::uint64_t count;
        std::vector<std::uint8_t> bytes;  // host byte order
    };

    void put(const std::string& name, checkpoint::dtype t, const void* data, std::size_t n, bool scalar) {
        if (name.empty() || name.size() > checkpoint::max_name_length - 6)
            throw std::invalid_argument("gant: an extra checkpoint record needs a name of 1 to " +
                                        std::to_string(checkpoint::max_name_length - 6) + " bytes");
        entry e{t, scalar, n, std::vector<std::uint8_t>(n * checkpoint::dtype_size(t))};
        if (!e.bytes.empty()) std::memcpy(e.bytes.data(), data, e.bytes.size());
        values_[name] = std::move(e);
    }

    const entry& find(const std::string& name, checkpoint::dtype t) const {
        const auto it = values_.find(name);
        if (it == values_.end()) fail("has no extra record '" + name + "'");
        if (it->second.type != t)
            fail("extra record '" + name + "' holds " + checkpoint::dtype_name(it->second.type) + " values, not " +
                 checkpoint::dtype_name(t));
        return it->second;
    }
    template <class T>
    T scalar(const std::string& name) const {
        const entry& e = find(name, checkpoint::dtype_of<T>());
        if (e.count != 1) fail("extra record '" + name + "' holds " + std::to_string(e.count) + " values, not one");
        T v;
        std::memcpy(&v, e.bytes.data(), sizeof(T));
        return v;
    }
    template <class T>
    std::vector<T> values(const std::string& name) const {
        const entry& e = find(name, checkpoint::dtype_of<T>());
        std::vector<T> v(e.count);
        if (e.count) std::memcpy(v.data(), e.bytes.data(), e.bytes.size());
        return v;
    }
    [[noreturn]] void fail(const std::string& problem) const {
        throw checkpoint_error(source_.empty() ? std::filesystem::path("checkpoint") : source_, problem);
    }

    std::map<std::string, entry> values_;
    std::filesystem::path source_;
};

}  // namespace gant
