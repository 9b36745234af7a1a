#define BOOST_TEST_MODULE gant_idx
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

#include "gant/core/rng.hpp"
#include "gant/data/idx.hpp"

namespace fs = std::filesystem;
using namespace gant;
using namespace gant::data;
using bytes = std::vector<unsigned char>;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "gant-idx-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path operator/(const std::string& name) const { return path / name; }
};

bytes slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const fs::path& p, const bytes& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Compresses with zlib's own gzip writer, independent of the reader under test.
void put_gz(const fs::path& p, const bytes& b) {
    gzFile f = gzopen(p.c_str(), "wb");
    BOOST_REQUIRE(f);
    if (!b.empty()) BOOST_REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
    BOOST_REQUIRE(gzclose(f) == Z_OK);
}

bytes gz(const bytes& b, const temp_dir& d) {
    const auto p = d / "scratch.gz";
    put_gz(p, b);
    auto out = slurp(p);
    fs::remove(p);
    return out;
}

bytes header(std::uint8_t type, std::vector<std::uint32_t> dims, std::size_t rank_override = 99) {
    bytes h{0, 0, type, static_cast<unsigned char>(rank_override == 99 ? dims.size() : rank_override)};
    for (auto v : dims)
        for (int s = 24; s >= 0; s -= 8) h.push_back(static_cast<unsigned char>(v >> s));
    return h;
}

bytes idx_file(std::vector<std::uint32_t> dims, std::size_t data_bytes, std::uint64_t seed = 1) {
    bytes b = header(0x08, dims);
    rng r(seed);
    for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<unsigned char>(r.next_u32()));
    return b;
}

bytes cat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Runs f, expects a format_error for `file` whose what() is one sentence containing `fragment`.
template <class F>
std::string expect_format_error(const fs::path& file, const std::string& fragment, F&& f) {
    try {
        f();
    } catch (const format_error& e) {
        const std::string what = e.what();
        BOOST_TEST_MESSAGE(what);
        BOOST_TEST(what.rfind("gant: " + file.string() + ": ", 0) == 0u, "prefix of: " << what);
        BOOST_TEST(what.find(fragment) != std::string::npos, "'" << fragment << "' not in: " << what);
        BOOST_TEST(what.find('\n') == std::string::npos);
        BOOST_TEST(what.find(". ") == std::string::npos, "more than one sentence: " << what);
        BOOST_TEST(e.file() == file);
        return what;
    } catch (const std::exception& e) {
        BOOST_ERROR("wrong exception type for " << file << ": " << e.what());
        return {};
    }
    BOOST_ERROR("no error for " << file << " (expected '" << fragment << "')");
    return {};
}

void expect_read_error(const fs::path& file, const std::string& fragment) {
    expect_format_error(file, fragment, [&] { read_idx(file); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(round_trips)

BOOST_AUTO_TEST_CASE(plain_images_and_labels) {
    temp_dir d;
    rng r(3);
    std::vector<std::uint8_t> img(7 * 5 * 3), lab(7);
    for (auto& b : img) b = static_cast<std::uint8_t>(r.next_u32());
    for (auto& b : lab) b = static_cast<std::uint8_t>(r.below(10));
    const std::vector<std::uint32_t> dims{7, 5, 3};
    write_idx(d / "img", dims, img);
    write_idx_labels(d / "lab", lab);
    const bytes raw = slurp(d / "img");
    BOOST_TEST(raw.size() == 16u + img.size());
    BOOST_TEST((bytes(raw.begin(), raw.begin() + 8) == bytes{0, 0, 8, 3, 0, 0, 0, 7}));
    const auto a = read_idx(d / "img");
    BOOST_TEST(a.dims == dims);
    BOOST_TEST(a.bytes == img);
    BOOST_TEST(a.count() == 7u);
    BOOST_TEST(a.item_size() == 15u);
    const auto l = read_idx(d / "lab");
    BOOST_TEST(l.dims == std::vector<std::uint32_t>{7});
    BOOST_TEST(l.bytes == lab);
    const bytes raw_labels = slurp(d / "lab");
    BOOST_TEST((bytes(raw_labels.begin(), raw_labels.begin() + 4) == bytes{0, 0, 8, 1}));
}

BOOST_AUTO_TEST_CASE(gzipped_detected_by_content_not_name) {
    temp_dir d;
    const bytes plain = idx_file({9, 4, 3}, 108);
    put_gz(d / "images.idx", plain);      // gzip without a .gz name
    put(d / "plain.gz", plain);           // plain with a .gz name
    const auto a = read_idx(d / "images.idx"), b = read_idx(d / "plain.gz");
    BOOST_TEST(a.bytes == bytes(plain.begin() + 16, plain.end()));
    BOOST_TEST(b.bytes == a.bytes);
    BOOST_TEST(input_file(d / "images.idx").gzipped());
    BOOST_TEST(!input_file(d / "plain.gz").gzipped());
}

BOOST_AUTO_TEST_CASE(large_incompressible_gzip_crosses_buffer_boundaries) {
    temp_dir d;
    const bytes plain = idx_file({301, 17, 19}, 301 * 17 * 19, 8);  // ~97 KB of noise, > 64 KiB buffer
    put_gz(d / "big.gz", plain);
    BOOST_TEST(fs::file_size(d / "big.gz") > 65536u);
    const auto a = read_idx(d / "big.gz");
    BOOST_TEST((a.dims == std::vector<std::uint32_t>{301, 17, 19}));
    BOOST_TEST(a.bytes == bytes(plain.begin() + 16, plain.end()));
}

BOOST_AUTO_TEST_CASE(multi_member_gzip_reads_as_one_stream) {
    temp_dir d;
    const bytes plain = idx_file({5, 3, 3}, 45);
    const bytes first(plain.begin(), plain.begin() + 20), second(plain.begin() + 20, plain.end());
    put(d / "two.gz", cat(gz(first, d), gz(second, d)));
    BOOST_TEST(read_idx(d / "two.gz").bytes == bytes(plain.begin() + 16, plain.end()));
}

BOOST_AUTO_TEST_CASE(memory_images_read_like_files) {
    // read_idx_bytes is the entry point of tests/fuzz/fuzz_idx.cpp: same parser, same messages.
    temp_dir d;
    const bytes plain = idx_file({4, 3, 2}, 24);
    const bytes zipped = gz(plain, d);
    BOOST_TEST(read_idx_bytes(plain, "mem.idx").bytes == bytes(plain.begin() + 16, plain.end()));
    BOOST_TEST(read_idx_bytes(zipped, "mem.idx").bytes == bytes(plain.begin() + 16, plain.end()));
    BOOST_TEST((read_idx_bytes(zipped, "mem.idx").dims == std::vector<std::uint32_t>{4, 3, 2}));
    const fs::path name = "mem.idx";
    expect_format_error(name, "the file is empty", [&] { read_idx_bytes({}, name); });
    expect_format_error(name, "header says 4x3x2 images (24 bytes) but only 23 bytes follow",
                        [&] { read_idx_bytes(bytes(plain.begin(), plain.end() - 1), name); });
    expect_format_error(name, "truncated gzip stream",
                        [&] { read_idx_bytes(bytes(zipped.begin(), zipped.end() - 12), name); });
    // A 2 GiB claim on 21 bytes: refused after reading what exists, without allocating the claim.
    expect_format_error(name, "(2147483648 bytes) but only 5 bytes follow",
                        [&] { read_idx_bytes(cat(header(0x08, {32768, 256, 256}), bytes(5, 0)), name); });
}

BOOST_AUTO_TEST_CASE(tensor_scaling_and_sample_files) {
    temp_dir d;
    idx_data x{{2, 1, 3}, {0, 255, 51, 102, 128, 127}};
    const tensor<float> t = idx_to_tensor<float>(x);
    BOOST_TEST(t.shape(0) == 2u);
    BOOST_TEST(t.shape(1) == 3u);
    BOOST_TEST(t(0, 0) == -1.0f);
    BOOST_TEST(t(0, 1) == 1.0f);
    BOOST_TEST(t(0, 2) == 51.0f / 127.5f - 1.0f);
    for (float v : t) {
        BOOST_TEST(v >= -1.0f);
        BOOST_TEST(v <= 1.0f);
    }
    // Samples -> samples.idx -> bytes: the grayscale file is n x h x w, exactly the dataset format.
    write_idx_samples(d / "samples.idx", t, 1, 1, 3);
    const auto back = read_idx(d / "samples.idx");
    BOOST_TEST((back.dims == std::vector<std::uint32_t>{2, 1, 3}));
    BOOST_TEST(back.bytes == x.bytes);
    // Colour samples get a fourth dimension and load back with their channel count.
    tensor<double> rgb = tensor<double>::from_shape({3, 3 * 2 * 5});
    for (std::size_t i = 0; i < rgb.size(); ++i) rgb.data()[i] = -1.3 + 2.6 * static_cast<double>(i) / 89.0;
    write_idx_samples(d / "rgb.idx", rgb, 3, 2, 5);
    const auto c = read_idx(d / "rgb.idx");
    BOOST_TEST((c.dims == std::vector<std::uint32_t>{3, 3, 2, 5}));
    BOOST_TEST(slurp(d / "rgb.idx")[3] == 4);  // magic 0x00000804
    std::vector<std::uint8_t> expected;
    tensor_to_pixels(rgb, expected);
    BOOST_TEST(c.bytes == expected);
    BOOST_TEST(expected.front() == 0);
    BOOST_TEST(expected.back() == 255);
    const auto loaded = load_idx_images<double>(d / "rgb.idx");
    BOOST_TEST(loaded.channels() == 3u);
    BOOST_TEST(loaded.height() == 2u);
    BOOST_TEST(loaded.width() == 5u);
    BOOST_TEST(!loaded.has_labels());
    BOOST_CHECK_THROW(write_idx_samples(d / "bad.idx", rgb, 3, 2, 4), std::invalid_argument);
    // A NaN would become a black pixel, silently: refused, and the old file kept.
    rgb.data()[40] = std::nan("");
    try {
        write_idx_samples(d / "rgb.idx", rgb, 3, 2, 5);
        BOOST_ERROR("a NaN sample was written");
    } catch (const std::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("sample 1 holds a non-finite value (NaN or infinity) at feature 10") !=
                       std::string::npos,
                   e.what());
    }
    BOOST_TEST(read_idx(d / "rgb.idx").bytes == expected);
}

BOOST_AUTO_TEST_CASE(writer_refuses_inconsistent_arguments_and_keeps_old_file) {
    temp_dir d;
    const std::vector<std::uint8_t> six(6, 1);
    write_idx(d / "keep.idx", std::vector<std::uint32_t>{6}, six);
    BOOST_CHECK_THROW(write_idx(d / "keep.idx", std::vector<std::uint32_t>{2, 2}, six), std::invalid_argument);
    BOOST_CHECK_THROW(write_idx(d / "keep.idx", std::vector<std::uint32_t>{}, six), std::invalid_argument);
    BOOST_CHECK_THROW(write_idx(d / "keep.idx", std::vector<std::uint32_t>{6, 0}, six), std::invalid_argument);
    BOOST_CHECK_THROW(write_idx(d / "keep.idx", std::vector<std::uint32_t>{1, 1, 1, 2, 3}, six), std::invalid_argument);
    BOOST_TEST(read_idx(d / "keep.idx").bytes == six);
    BOOST_CHECK_THROW(write_idx(d / "nowhere" / "x.idx", std::vector<std::uint32_t>{6}, six), io::write_error);
    BOOST_TEST(std::distance(fs::directory_iterator(d.path), fs::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hostile_files)

BOOST_AUTO_TEST_CASE(missing_file_and_folder) {
    temp_dir d;
    expect_read_error(d / "nope.idx", "cannot open the file (No such file or directory)");
    expect_read_error(d.path, "is a folder");
    // Opening a named pipe with no writer used to wait forever: it now reads as empty. A device
    // reads as what it holds (zeros: not an IDX file).
    BOOST_REQUIRE(::mkfifo((d / "pipe.idx").c_str(), 0600) == 0);
    expect_read_error(d / "pipe.idx", "the file is empty, not an IDX file");
    expect_read_error("/dev/zero", "unsupported IDX data type 0x00");
}

BOOST_AUTO_TEST_CASE(truncated_headers) {
    temp_dir d;
    put(d / "empty", {});
    expect_read_error(d / "empty", "the file is empty");
    put(d / "three", {0, 0, 8});
    expect_read_error(d / "three", "truncated IDX header: the file holds only 3 bytes");
    bytes h = header(0x08, {60000, 28});
    h[3] = 3;  // declares 3 dimensions but carries 2
    put(d / "dims", h);
    expect_read_error(d / "dims", "declares 3 dimensions (12 bytes of sizes) but only 8 bytes follow");
}

BOOST_AUTO_TEST_CASE(wrong_magic_type_and_rank) {
    temp_dir d;
    put(d / "magic", {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0});
    expect_read_error(d / "magic", "not an IDX file (magic number 0x12345678");
    put(d / "png", {0x89, 'P', 'N', 'G', 13, 10, 26, 10});
    expect_read_error(d / "png", "not an IDX file");
    put(d / "float", cat(header(0x0D, {2, 2}), bytes(16, 0)));
    expect_read_error(d / "float", "unsupported IDX data type 0x0D (32-bit float)");
    put(d / "weird", cat(header(0x42, {4}), bytes(4, 0)));
    expect_read_error(d / "weird", "unsupported IDX data type 0x42");
    put(d / "rank0", header(0x08, {}));
    expect_read_error(d / "rank0", "declares 0 dimensions");
    put(d / "rank5", cat(header(0x08, {1, 1, 1, 1, 1}), bytes(1, 0)));
    expect_read_error(d / "rank5", "declares 5 dimensions");
}

BOOST_AUTO_TEST_CASE(zero_and_oversized_dimensions_fail_before_allocating) {
    temp_dir d;
    put(d / "zero", header(0x08, {10, 0, 28}));
    expect_read_error(d / "zero", "IDX dimension 2 of 3 is zero (header says 10x0x28)");
    put(d / "big", header(0x08, {65536, 65536, 1}));
    expect_read_error(d / "big", "header says 65536x65536x1 images, more than the 2147483648-byte limit");
    // Each factor fits in 32 bits but the product wraps 64 bits.
    put(d / "wrap", header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
    expect_read_error(d / "wrap", "more than the 2147483648-byte limit");
    put(d / "sixty", idx_file({3, 4, 5}, 60));
    expect_format_error(d / "sixty", "more than the 59-byte limit", [&] { read_idx(d / "sixty", 59); });
    BOOST_TEST(read_idx(d / "sixty", 60).bytes.size() == 60u);
    // load_idx_images bounds the tensor it builds (4 GiB, 4 bytes a pixel in float): a header
    // declaring 2^30 + 2^10 pixels (a few kilobytes of gzip could) is refused from the header,
    // while the same count as bytes would still be under read_idx's 2 GiB; 8 bytes a pixel in
    // double halve the count.
    put(d / "float_bomb", header(0x08, {1048577, 1024, 1}));
    expect_format_error(d / "float_bomb",
                        "header says 1048577x1024x1 images: as 4-byte values, more than the 4294967296-byte limit",
                        [&] { load_idx_images<float>(d / "float_bomb"); });
    expect_format_error(d / "float_bomb", "truncated IDX file", [&] { read_idx(d / "float_bomb"); });
    put(d / "double_bomb", header(0x08, {524289, 1024, 1}));
    expect_format_error(d / "double_bomb", "as 8-byte values, more than the 4294967296-byte limit",
                        [&] { load_idx_images<double>(d / "double_bomb"); });
    expect_format_error(d / "double_bomb", "truncated IDX file", [&] { load_idx_images<float>(d / "double_bomb"); });
}

BOOST_AUTO_TEST_CASE(truncated_and_overlong_data) {
    temp_dir d;
    const bytes good = idx_file({3, 4, 5}, 60);
    put(d / "short", bytes(good.begin(), good.end() - 50));
    const std::string what = expect_format_error(d / "short", "", [&] { read_idx(d / "short"); });
    BOOST_TEST(what == "gant: " + (d / "short").string() +
                           ": truncated IDX file: header says 3x4x5 images (60 bytes) but only 10 bytes follow");
    put(d / "long", cat(good, bytes(17, 0xAB)));
    expect_read_error(d / "long", "IDX file has 17 bytes of trailing data after the 60 bytes its header announces");
    put(d / "labels_short", cat(header(0x08, {10}), bytes(9, 1)));
    expect_read_error(d / "labels_short", "header says 10 labels (10 bytes) but only 9 bytes follow");
    // A lying header on a tiny file must not allocate its claimed 2 GiB: it fails fast.
    put(d / "liar", cat(header(0x08, {32768, 256, 256}), bytes(5, 0)));
    expect_read_error(d / "liar", "header says 32768x256x256 images (2147483648 bytes) but only 5 bytes follow");
    // The same inside gzip streams.
    put_gz(d / "short.gz", bytes(good.begin(), good.end() - 1));
    expect_read_error(d / "short.gz", "but only 59 bytes follow");
    put_gz(d / "long.gz", cat(good, bytes(3, 0)));
    expect_read_error(d / "long.gz", "3 bytes of trailing data");
}

BOOST_AUTO_TEST_CASE(damaged_gzip_streams) {
    temp_dir d;
    const bytes good = idx_file({31, 7, 9}, 31 * 7 * 9, 5);
    const bytes z = gz(good, d);
    BOOST_REQUIRE(z.size() > 100u);
    // Cut short: the compressed stream ends before its end marker and trailer.
    put(d / "cut.gz", bytes(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(z.size() / 2)));
    expect_read_error(d / "cut.gz", "truncated gzip stream");
    put(d / "trailer_cut.gz", bytes(z.begin(), z.end() - 3));
    expect_read_error(d / "trailer_cut.gz", "truncated gzip stream");
    put(d / "magic_only.gz", {0x1f, 0x8b});
    expect_read_error(d / "magic_only.gz", "truncated gzip stream");
    // Garbage inside the data of noise, which deflate keeps in stored blocks: the decoder cannot
    // see it, the header it yields is nonsense, and the CRC is the first thing to notice. The error
    // must blame the gzip stream, not the (damaged) IDX header.
    bytes bad = z;
    for (std::size_t i = 20; i < 60; ++i) bad[i] ^= 0x5A;
    put(d / "corrupt.gz", bad);
    expect_read_error(d / "corrupt.gz", "corrupt gzip stream (incorrect data check)");
    // Garbage inside Huffman-coded data (compressible content): the decoder itself trips.
    bytes text = header(0x08, {400});
    for (int i = 0; i < 400; ++i) text.push_back(static_cast<unsigned char>("gant"[i % 4]));
    bytes huff = gz(text, d);
    BOOST_REQUIRE(huff.size() < 100u);
    for (std::size_t i = 12; i < huff.size() - 8; ++i) huff[i] ^= 0xFF;
    put(d / "huffman.gz", huff);
    expect_read_error(d / "huffman.gz", "corrupt gzip stream");
    // Intact data with a wrong CRC-32 in the trailer.
    bytes crc = z;
    crc[crc.size() - 8] ^= 0x01;
    put(d / "crc.gz", crc);
    expect_read_error(d / "crc.gz", "corrupt gzip stream (incorrect data check)");
    // A bad gzip header (unknown compression method).
    bytes method = z;
    method[2] = 7;
    put(d / "method.gz", method);
    expect_read_error(d / "method.gz", "corrupt gzip stream");
    // Junk after a complete gzip stream.
    put(d / "junk.gz", cat(z, {0, 0, 0, 0}));
    expect_read_error(d / "junk.gz", "unexpected data after the end of the gzip stream");
    put(d / "junk1.gz", cat(z, {0x1f}));
    expect_read_error(d / "junk1.gz", "unexpected data after the end of the gzip stream");
    // And the undamaged stream still reads.
    put(d / "fine.gz", z);
    BOOST_TEST(read_idx(d / "fine.gz").bytes == bytes(good.begin() + 16, good.end()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(folders)

BOOST_AUTO_TEST_CASE(loads_a_dataset_folder_mixing_plain_and_gzip) {
    temp_dir d;
    const bytes img = idx_file({6, 3, 5}, 90, 12);
    put_gz(d / "train-images-idx3-ubyte.gz", img);
    put(d / "train-labels-idx1-ubyte", cat(header(0x08, {6}), bytes{9, 8, 7, 6, 5, 4}));
    put(d / "t10k-images-idx3-ubyte", idx_file({2, 3, 5}, 30, 13));
    const auto train = load_idx_folder<float>(d.path);
    BOOST_TEST(train.size() == 6u);
    BOOST_TEST(train.channels() == 1u);
    BOOST_TEST(train.height() == 3u);
    BOOST_TEST(train.width() == 5u);
    BOOST_TEST((train.labels() == std::vector<std::uint8_t>{9, 8, 7, 6, 5, 4}));
    for (std::size_t i = 0; i < 90; ++i) BOOST_TEST(train.images().data()[i] == pixel_to_value<float>(img[16 + i]));
    const auto test = load_idx_folder<double>(d.path, split::test);
    BOOST_TEST(test.size() == 2u);
    BOOST_TEST(!test.has_labels());
    // The uncompressed file wins when both exist.
    put(d / "train-images-idx3-ubyte", idx_file({6, 2, 2}, 24, 14));
    BOOST_TEST(find_idx_files(d.path).images == d / "train-images-idx3-ubyte");
    BOOST_TEST(load_idx_folder<float>(d.path).features() == 4u);
}

// A limit reads only the first images and labels: a header that announces far more than the file
// holds (or than memory would), beyond the kept slice, costs nothing; the kept slice itself is
// still checked for truncation.
BOOST_AUTO_TEST_CASE(a_limit_reads_only_the_first_items) {
    temp_dir d;
    const bytes img = idx_file({6, 3, 5}, 90, 12);
    put_gz(d / "train-images-idx3-ubyte.gz", img);
    put(d / "train-labels-idx1-ubyte", cat(header(0x08, {6}), bytes{9, 8, 7, 6, 5, 4}));
    const auto first = load_idx_folder<float>(d.path, split::train, 4);
    BOOST_TEST(first.size() == 4u);
    BOOST_TEST((first.labels() == std::vector<std::uint8_t>{9, 8, 7, 6}));
    for (std::size_t i = 0; i < 60; ++i) BOOST_TEST(first.images().data()[i] == pixel_to_value<float>(img[16 + i]));
    BOOST_TEST(load_idx_folder<float>(d.path, split::train, 6).size() == 6u);
    BOOST_TEST(load_idx_folder<float>(d.path, split::train, 1000).size() == 6u);  // a limit above the count

    // 2^31 - 1 images of 28x28 announced (1.7 TB, over the byte limit), 3 present: the first 2 load.
    put(d / "huge", idx_file({0x7FFFFFFF, 28, 28}, 3 * 784, 5));
    expect_format_error(d / "huge", "more than the", [&] { read_idx(d / "huge"); });
    const auto two = read_idx(d / "huge", idx_max_bytes, 2);
    BOOST_TEST(two.count() == 2u);
    BOOST_TEST(two.bytes.size() == 2u * 784u);
    expect_format_error(d / "huge", "the first 5 need 3920 bytes) but only 2352 bytes follow",
                        [&] { read_idx(d / "huge", idx_max_bytes, 5); });
}

BOOST_AUTO_TEST_CASE(folder_errors_name_the_files) {
    temp_dir d;
    expect_format_error(d / "absent", "data folder not found", [&] { find_idx_files(d / "absent"); });
    expect_format_error(d.path, "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz file in this folder",
                        [&] { load_idx_folder<float>(d.path); });
    put(d / "train-images-idx3-ubyte", idx_file({6, 2, 2}, 24));
    put(d / "train-labels-idx1-ubyte", cat(header(0x08, {5}), bytes(5, 0)));
    const auto what = expect_format_error(d / "train-images-idx3-ubyte", "holds 6 images but its label file",
                                          [&] { load_idx_folder<float>(d.path); });
    BOOST_TEST(what.find((d / "train-labels-idx1-ubyte").string() + " holds 5 labels") != std::string::npos);
    // A label file where the images should be, and an image file where the labels should be.
    put(d / "train-labels-idx1-ubyte", idx_file({6, 2, 2}, 24));
    expect_format_error(d / "train-labels-idx1-ubyte", "expected a label file",
                        [&] { load_idx_folder<float>(d.path); });
    put(d / "train-images-idx3-ubyte", cat(header(0x08, {6}), bytes(6, 0)));
    expect_format_error(d / "train-images-idx3-ubyte", "expected an image file",
                        [&] { load_idx_folder<float>(d.path); });
    // A damaged label file is reported under its own name.
    put(d / "train-images-idx3-ubyte", idx_file({6, 2, 2}, 24));
    put(d / "train-labels-idx1-ubyte", cat(header(0x08, {6}), bytes(2, 0)));
    expect_format_error(d / "train-labels-idx1-ubyte", "truncated IDX file", [&] { load_idx_folder<float>(d.path); });
}

boost::test_tools::assertion_result fashion_mnist_present(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(fs::is_directory(default_data_dir));
    r.message() << default_data_dir << " is missing (Debian package dataset-fashion-mnist): skipping the real-data check";
    return r;
}

BOOST_AUTO_TEST_CASE(real_fashion_mnist, *boost::unit_test::precondition(fashion_mnist_present)) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto train = load_idx_folder<float>(default_data_dir);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST_MESSAGE("loaded Fashion-MNIST train (60000x28x28) in " << seconds << " s");
    BOOST_TEST(train.size() == 60000u);
    BOOST_TEST(train.channels() == 1u);
    BOOST_TEST(train.height() == 28u);
    BOOST_TEST(train.width() == 28u);
    BOOST_TEST(train.labels().size() == 60000u);
    const auto [lo, hi] = std::minmax_element(train.images().begin(), train.images().end());
    BOOST_TEST(*lo == -1.0f);
    BOOST_TEST(*hi == 1.0f);
    BOOST_TEST(*std::max_element(train.labels().begin(), train.labels().end()) == 9);
    std::vector<std::size_t> per_class(10, 0);
    for (auto l : train.labels()) ++per_class[l];
    for (auto c : per_class) BOOST_TEST(c == 6000u);  // Fashion-MNIST is balanced
    const auto test = load_idx_folder<float>(default_data_dir, split::test);
    BOOST_TEST(test.size() == 10000u);
    BOOST_TEST(test.features() == 784u);
}

BOOST_AUTO_TEST_SUITE_END()
