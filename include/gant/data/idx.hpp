#pragma once
// IDX files: the format of MNIST and Fashion-MNIST, and of the samples.idx gant writes.
//
//   magic   4 bytes: 0, 0, data type (0x08 = unsigned byte), rank
//   dims    rank big-endian uint32
//   data    product(dims) values, row-major
//
// So 0x00000803 is a uint8 image file (n x rows x cols) and 0x00000801 a uint8 label file (n).
// gant also writes 0x00000804 (n x channels x rows x cols) for colour samples.
//
// Every file is treated as hostile: the header is checked (magic, type, rank, zero sizes, a size
// product that overflows or exceeds a cap) before anything is allocated, the data must be exactly
// as long as the header says, and each problem throws one format_error whose what() is a single
// sentence naming the file. Files may be gzip-compressed (detected by content), see gzip.hpp.
//
// Pixels map to [-1, 1] as x = p / 127.5 - 1 (0 -> -1, 255 -> 1); the way back is
// p = round((x + 1) * 127.5) clamped to 0..255; a sample holding a NaN or an infinity is refused.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "gant/core/tensor.hpp"
#include "gant/data/dataset.hpp"
#include "gant/data/gzip.hpp"
#include "gant/io/atomic_file.hpp"

namespace gant::data {

/// Largest data block read_idx accepts by default (2 GiB; Fashion-MNIST's train set is 47 MB).
inline constexpr std::uint64_t idx_max_bytes = std::uint64_t{1} << 31;

/// Largest image tensor load_idx_images builds by default: 4 GiB, 2^30 pixels as float (50,000
/// RGB images of 64 x 64 are 0.6 of that). Loading takes the bytes and the tensor at once.
inline constexpr std::uint64_t idx_max_tensor_bytes = std::uint64_t{1} << 32;

/// The IDX type code of unsigned bytes, the only element type gant reads and writes.
inline constexpr std::uint8_t idx_unsigned_byte = 0x08;

/// Where Debian's dataset-fashion-mnist package installs the data.
inline constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

/// A decoded IDX file: its dimensions and its row-major bytes.
struct idx_data {
    std::vector<std::uint32_t> dims;
    std::vector<std::uint8_t> bytes;

    std::size_t count() const noexcept { return dims.empty() ? 0 : dims[0]; }
    /// Bytes per item (the product of every dimension after the first).
    std::size_t item_size() const noexcept {
        std::size_t s = 1;
        for (std::size_t i = 1; i < dims.size(); ++i) s *= dims[i];
        return s;
    }
};

namespace detail {

inline std::string idx_dims_text(std::span<const std::uint32_t> dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += 'x';
        s += std::to_string(dims[i]);
    }
    return s;
}

inline const char* idx_noun(std::size_t rank) { return rank == 1 ? "labels" : rank >= 3 ? "images" : "values"; }

inline std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
    return buf;
}

inline std::string idx_type_name(std::uint8_t code) {
    switch (code) {
        case 0x09: return "0x09 (signed byte)";
        case 0x0B: return "0x0B (16-bit integer)";
        case 0x0C: return "0x0C (32-bit integer)";
        case 0x0D: return "0x0D (32-bit float)";
        case 0x0E: return "0x0E (64-bit float)";
        default: {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(code));
            return std::string(buf) + " (not an IDX type)";
        }
    }
}

}  // namespace detail

namespace detail {

/// The IDX parser behind read_idx and read_idx_bytes; `path` names the input in messages.
inline idx_data read_idx_from(input_file& in, const std::filesystem::path& path, std::uint64_t max_bytes,
                              std::uint64_t max_items, std::uint64_t value_size = 1) {
    // A damaged gzip stream can yield a nonsense header long before its CRC is checked. Blame the
    // right layer: before reporting a header problem in a gzip file, run the stream's own checks.
    auto reject = [&](const std::string& problem) {
        if (in.gzipped()) in.drain(max_bytes);
        return format_error(path, problem);
    };
    unsigned char magic[4];
    const std::size_t m = in.read(magic, 4);
    if (m == 0) throw reject("the file is empty, not an IDX file");
    if (m < 4) throw reject("truncated IDX header: the file holds only " + std::to_string(m) + " bytes");
    const std::uint32_t magic_value = std::uint32_t{magic[0]} << 24 | std::uint32_t{magic[1]} << 16 |
                                      std::uint32_t{magic[2]} << 8 | std::uint32_t{magic[3]};
    if (magic[0] != 0 || magic[1] != 0)
        throw reject("not an IDX file (magic number " + detail::hex32(magic_value) +
                                     ", expected 0x00000803 for images or 0x00000801 for labels)");
    if (magic[2] != idx_unsigned_byte)
        throw reject("unsupported IDX data type " + detail::idx_type_name(magic[2]) +
                                     " (gant reads unsigned bytes, type 0x08, only)");
    const std::size_t rank = magic[3];
    if (rank == 0 || rank > 4)
        throw reject("IDX header declares " + std::to_string(rank) +
                                     " dimensions (magic number " + detail::hex32(magic_value) +
                                     ") where gant reads 1 to 4");

    std::array<unsigned char, 16> raw{};
    const std::size_t d = in.read(raw.data(), 4 * rank);
    if (d < 4 * rank)
        throw reject("truncated IDX header: it declares " + std::to_string(rank) + " dimensions (" +
                                     std::to_string(4 * rank) + " bytes of sizes) but only " + std::to_string(d) +
                                     " bytes follow the magic number");
    idx_data out;
    out.dims.resize(rank);
    for (std::size_t i = 0; i < rank; ++i)
        out.dims[i] = std::uint32_t{raw[4 * i]} << 24 | std::uint32_t{raw[4 * i + 1]} << 16 |
                      std::uint32_t{raw[4 * i + 2]} << 8 | std::uint32_t{raw[4 * i + 3]};
    const std::string shape_text = detail::idx_dims_text(out.dims);
    const char* noun = detail::idx_noun(rank);
    // Only the first max_items items are read (all of them when it is 0 or larger): the limit
    // applies to what is kept, so a small slice of a huge (or gzip-bombed) file costs its slice.
    const bool sliced = max_items != 0 && max_items < out.dims[0];
    const std::uint32_t kept = sliced ? static_cast<std::uint32_t>(max_items) : out.dims[0];
    std::uint64_t need = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        if (out.dims[i] == 0)
            throw reject("IDX dimension " + std::to_string(i + 1) + " of " + std::to_string(rank) +
                                         " is zero (header says " + shape_text + ")");
        const std::uint32_t factor = i == 0 ? kept : out.dims[i];
        // Each factor is < 2^32 and need <= max_bytes before the multiply; check before it can wrap.
        if (need > std::numeric_limits<std::uint64_t>::max() / factor || need * factor > max_bytes / value_size)
            throw reject("IDX header says " + shape_text + " " + noun +
                         (value_size == 1 ? std::string(", ")
                                          : ": as " + std::to_string(value_size) + "-byte values, ") +
                         "more than the " + std::to_string(max_bytes) + "-byte limit" +
                         (sliced ? " even for the first " + std::to_string(kept) : std::string()));
        need *= factor;
    }

    // Grow the buffer with what actually arrives, so a lying header on a short file cannot make us
    // allocate its claimed size: start at the file's size when it is known (plain files), else at
    // 1 MiB (gzip), and double while data keeps coming.
    const std::size_t total = static_cast<std::size_t>(need);
    const std::uint64_t hint = in.size_hint();
    std::size_t got = 0;
    out.bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(need, hint ? hint : std::uint64_t{1} << 20)));
    for (;;) {
        const std::size_t r = in.read(out.bytes.data() + got, out.bytes.size() - got);
        got += r;
        if (got < out.bytes.size() || got == total) break;
        out.bytes.resize(std::min(total, 2 * out.bytes.size()));
    }
    if (got < total)
        throw format_error(path, "truncated IDX file: header says " + shape_text + " " + noun + " (" +
                                     (sliced ? "the first " + std::to_string(kept) + " need " : std::string()) +
                                     std::to_string(total) + " bytes) but only " + std::to_string(got) +
                                     " bytes follow");
    if (sliced) {  // the rest of the file is not read, so neither its length nor its checksum is checked
        out.dims[0] = kept;
        return out;
    }

    // Trailing data means the header and the contents disagree: refuse rather than guess which is right.
    constexpr std::size_t trailing_cap = std::size_t{1} << 20;
    std::array<unsigned char, 4096> scratch;
    std::size_t extra = 0;
    while (extra <= trailing_cap) {
        const std::size_t r = in.read(scratch.data(), scratch.size());
        if (r == 0) break;
        extra += r;
    }
    if (extra > 0)
        throw format_error(path, "IDX file has " +
                                     (extra > trailing_cap ? "more than " + std::to_string(trailing_cap)
                                                           : std::to_string(extra)) +
                                     " bytes of trailing data after the " + std::to_string(total) +
                                     " bytes its header announces");
    return out;
}

}  // namespace detail

/// Reads a plain or gzipped IDX file of unsigned bytes with 1 to 4 dimensions. Throws format_error
/// (one sentence naming the file) for a missing, truncated, oversized or otherwise malformed file.
/// Never reads out of bounds; the buffer grows with the data that really arrives (starting at the
/// file's size, doubling), so a lying header cannot make it allocate the size it claims.
/// With max_items > 0, only the first max_items items (images, labels) are read and returned; the
/// rest of the file is left unread (unchecked: its length and a gzip stream's checksum). With
/// value_size > 1 the limit is on what the caller turns the bytes into (value_size bytes each),
/// checked from the header, before anything is allocated for the data.
inline idx_data read_idx(const std::filesystem::path& path, std::uint64_t max_bytes = idx_max_bytes,
                         std::uint64_t max_items = 0, std::uint64_t value_size = 1) {
    input_file in(path);
    return detail::read_idx_from(in, path, max_bytes, max_items, std::max<std::uint64_t>(value_size, 1));
}

/// read_idx for a file image in memory (plain or gzipped, detected the same way); `name` stands
/// for the file in messages. The fuzzer drives the parser through this entry point.
inline idx_data read_idx_bytes(std::span<const std::uint8_t> bytes, const std::filesystem::path& name,
                               std::uint64_t max_bytes = idx_max_bytes, std::uint64_t max_items = 0) {
    input_file in(bytes, name);
    return detail::read_idx_from(in, name, max_bytes, max_items);
}

/// Writes an IDX file of unsigned bytes (uncompressed) atomically: the old file, if any, survives
/// any failure. Throws std::invalid_argument if dims and bytes disagree, io::write_error on I/O failure.
inline void write_idx(const std::filesystem::path& path, std::span<const std::uint32_t> dims,
                      std::span<const std::uint8_t> bytes) {
    if (dims.empty() || dims.size() > 4)
        throw std::invalid_argument("gant: write_idx: an IDX file needs 1 to 4 dimensions, got " +
                                    std::to_string(dims.size()));
    std::uint64_t product = 1;
    for (const auto d : dims) {
        if (d == 0) throw std::invalid_argument("gant: write_idx: dimension sizes must be positive");
        product *= d;
        if (product > idx_max_bytes)
            throw std::invalid_argument("gant: write_idx: " + detail::idx_dims_text(dims) + " is larger than the " +
                                        std::to_string(idx_max_bytes) + "-byte limit");
    }
    if (product != bytes.size())
        throw std::invalid_argument("gant: write_idx: dimensions " + detail::idx_dims_text(dims) + " need " +
                                    std::to_string(product) + " bytes, got " + std::to_string(bytes.size()));
    std::vector<unsigned char> header{0, 0, idx_unsigned_byte, static_cast<unsigned char>(dims.size())};
    for (const auto d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>(d >> shift));
    io::write_atomically(path, [&](io::atomic_file& f) {
        f.write(header.data(), header.size());
        f.write(bytes.data(), bytes.size());
    });
}

/// Writes a 1-D IDX label file (magic 0x00000801).
inline void write_idx_labels(const std::filesystem::path& path, std::span<const std::uint8_t> labels) {
    if (labels.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::invalid_argument("gant: write_idx_labels: too many labels for an IDX file");
    const std::array<std::uint32_t, 1> dims{static_cast<std::uint32_t>(labels.size())};
    write_idx(path, dims, labels);
}

/// The items of an IDX file as rows of a [count, item_size] tensor scaled to [-1, 1].
template <class T>
tensor<T> idx_to_tensor(const idx_data& d) {
    tensor<T> out = tensor<T>::from_shape({d.count(), d.item_size()});
    T* dst = out.data();
    for (std::size_t i = 0, n = d.bytes.size(); i < n; ++i) dst[i] = pixel_to_value<T>(d.bytes[i]);
    return out;
}

/// Converts values in [-1, 1] to pixel bytes (see value_to_pixel); `out` is resized to x.size().
template <class T>
void tensor_to_pixels(const tensor<T>& x, std::vector<std::uint8_t>& out) {
    out.resize(x.size());
    const T* src = x.data();
    for (std::size_t i = 0, n = x.size(); i < n; ++i) out[i] = value_to_pixel(src[i]);
}

/// Writes samples ([n, channels*height*width], values in [-1, 1]) as an IDX file, atomically:
/// n x height x width (0x00000803) when channels == 1, n x channels x height x width (0x00000804)
/// otherwise, so a grayscale file reads back exactly like the dataset it imitates.
template <class T>
void write_idx_samples(const std::filesystem::path& path, const tensor<T>& samples, std::size_t channels,
                       std::size_t height, std::size_t width) {
    require_features(samples, channels * height * width, "write_idx_samples");
    require_finite_samples(samples, "write_idx_samples");
    constexpr std::size_t limit = std::numeric_limits<std::uint32_t>::max();
    if (samples.shape(0) > limit || channels > limit || height > limit || width > limit)
        throw std::invalid_argument("gant: write_idx_samples: a dimension is too large for an IDX file");
    std::vector<std::uint32_t> dims{static_cast<std::uint32_t>(samples.shape(0))};
    if (channels != 1) dims.push_back(static_cast<std::uint32_t>(channels));
    dims.push_back(static_cast<std::uint32_t>(height));
    dims.push_back(static_cast<std::uint32_t>(width));
    std::vector<std::uint8_t> pixels;
    tensor_to_pixels(samples, pixels);
    write_idx(path, dims, pixels);
}

/// Loads an IDX image file (3-D: n x rows x cols, or 4-D: n x channels x rows x cols) and, unless
/// `labels` is empty, its 1-D label file. A count mismatch is an error naming both files. With
/// limit > 0 only the first `limit` images (and labels) are read. max_bytes bounds the tensor of
/// T it builds (sizeof(T) bytes a pixel), not the file: a gzip file of a few megabytes can
/// declare gigabytes of pixels, and a larger dataset is refused from its header, before anything
/// is allocated for it.
template <class T>
image_dataset<T> load_idx_images(const std::filesystem::path& images, const std::filesystem::path& labels = {},
                                 std::size_t limit = 0, std::uint64_t max_bytes = idx_max_tensor_bytes) {
    const idx_data img = read_idx(images, max_bytes, limit, sizeof(T));
    if (img.dims.size() < 3)
        throw format_error(images, "expected an image file (3 or 4 dimensions, magic 0x00000803) but the header declares " +
                                       std::to_string(img.dims.size()) + " dimension" +
                                       (img.dims.size() == 1 ? "" : "s"));
    const bool rgb = img.dims.size() == 4;
    const std::size_t c = rgb ? img.dims[1] : 1, h = img.dims[rgb ? 2 : 1], w = img.dims[rgb ? 3 : 2];
    std::vector<std::uint8_t> lab;
    if (!labels.empty()) {
        idx_data l = read_idx(labels, idx_max_bytes, limit);
        if (l.dims.size() != 1)
            throw format_error(labels, "expected a label file (1 dimension, magic 0x00000801) but the header declares " +
                                           std::to_string(l.dims.size()) + " dimensions");
        if (l.count() != img.count())
            throw format_error(images, "holds " + std::to_string(img.count()) + " images but its label file " +
                                           labels.string() + " holds " + std::to_string(l.count()) + " labels");
        lab = std::move(l.bytes);
    }
    return image_dataset<T>(idx_to_tensor<T>(img), c, h, w, std::move(lab));
}

/// Which half of a dataset folder: "train-*" or "t10k-*".
enum class split { train, test };

/// The files of one split in a dataset folder; `labels` is empty when the folder has none.
struct idx_files {
    std::filesystem::path images;
    std::filesystem::path labels;
};

/// The names one split's files may have in a dataset folder, in the order find_idx_files tries
/// them: <prefix>-images-idx3-ubyte, then with .gz; the same for labels (prefix "train" or
/// "t10k").
struct idx_file_names {
    std::array<std::string, 2> images, labels;
};

inline idx_file_names idx_names(split which) {
    const std::string prefix = which == split::train ? "train" : "t10k";
    const std::string images = prefix + "-images-idx3-ubyte", labels = prefix + "-labels-idx1-ubyte";
    return {{images, images + ".gz"}, {labels, labels + ".gz"}};
}

/// Finds one split's image file and label file in `dir` (idx_names; the uncompressed file wins
/// when both exist). Labels are optional: a GAN does not need them. Throws format_error when the
/// folder or the image file is missing.
inline idx_files find_idx_files(const std::filesystem::path& dir, split which = split::train) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw format_error(dir, "data folder not found (point --data at a folder holding the IDX files)");
    const idx_file_names names = idx_names(which);
    auto find = [&](const std::array<std::string, 2>& candidates) -> std::filesystem::path {
        for (const auto& name : candidates) {
            const auto p = dir / name;
            if (std::filesystem::is_regular_file(p, ec)) return p;
        }
        return {};
    };
    idx_files f{find(names.images), find(names.labels)};
    if (f.images.empty())
        throw format_error(dir, "no " + names.images[0] + " or " + names.images[1] + " file in this folder");
    return f;
}

/// Loads one split of an MNIST-style dataset folder, e.g. load_idx_folder<float>(default_data_dir);
/// with limit > 0, its first `limit` images only (and only they are read). max_bytes as for
/// load_idx_images.
template <class T>
image_dataset<T> load_idx_folder(const std::filesystem::path& dir, split which = split::train,
                                 std::size_t limit = 0, std::uint64_t max_bytes = idx_max_tensor_bytes) {
    const idx_files f = find_idx_files(dir, which);
    return load_idx_images<T>(f.images, f.labels, limit, max_bytes);
}

}  // namespace gant::data
