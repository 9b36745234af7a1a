#define BOOST_TEST_MODULE gant_png
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gant/core/rng.hpp"
#include "gant/io/png.hpp"

#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif

namespace fs = std::filesystem;
using gant::tensor;
using gant::io::grid_options;
using gant::io::write_png_grid;

namespace {

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "gant-png-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

struct loaded {
    int w = 0, h = 0, c = 0;
    std::vector<unsigned char> px;
};

loaded load(const fs::path& p) {
    loaded out;
    std::unique_ptr<unsigned char, void (*)(void*)> data(stbi_load(p.c_str(), &out.w, &out.h, &out.c, 0),
                                                         stbi_image_free);
    BOOST_REQUIRE_MESSAGE(data, "stbi_load failed: " << (stbi_failure_reason() ? stbi_failure_reason() : "?"));
    out.px.assign(data.get(), data.get() + static_cast<std::size_t>(out.w) * out.h * out.c);
    return out;
}

std::size_t count_entries(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(grayscale_grid_reads_back_pixel_for_pixel) {
    // 5 samples of 3x2 (odd, non-square) in a 2x3 grid with padding 2: the sixth tile stays empty.
    constexpr std::size_t h = 3, w = 2, n = 5;
    tensor<double> s = tensor<double>::from_shape({n, h * w});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < h * w; ++k) s(i, k) = -1.0 + 2.0 * static_cast<double>(i * 6 + k) / 29.0;
    s(0, 0) = 3.0;                                         // clamps to 255
    s(0, 1) = -7.0;                                        // clamps to 0
    grid_options opt;
    opt.rows = 2;
    opt.cols = 3;
    opt.padding = 2;
    opt.background = 200;
    temp_dir d;
    const fs::path file = d.path / "grid.png";
    write_png_grid(file, s, 1, h, w, opt);
    const loaded img = load(file);
    BOOST_TEST(img.c == 1);
    BOOST_TEST(img.w == 3 * 2 + 2 * 2);
    BOOST_TEST(img.h == 2 * 3 + 1 * 2);
    std::vector<unsigned char> expected(static_cast<std::size_t>(img.w * img.h), 200);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t x = 0; x < w; ++x) {
                const std::size_t gy = (i / 3) * (h + 2) + y, gx = (i % 3) * (w + 2) + x;
                expected[gy * img.w + gx] = gant::data::value_to_pixel(s(i, y * w + x));
            }
    BOOST_TEST(expected[0] == 255);
    BOOST_TEST(expected[1] == 0);
    BOOST_TEST(img.px == expected, boost::test_tools::per_element());
    BOOST_TEST(count_entries(d.path) == 1u);
}

BOOST_AUTO_TEST_CASE(rgb_tiles_are_interleaved_from_nchw) {
    constexpr std::size_t c = 3, h = 2, w = 3;
    tensor<float> s = tensor<float>::from_shape({2, c * h * w});
    // Sample 0: red plane -1, green 0 (-> 128), blue 1. Sample 1: a ramp through all values.
    for (std::size_t k = 0; k < h * w; ++k) {
        s(0, k) = -1.0f;
        s(0, h * w + k) = 0.0f;
        s(0, 2 * h * w + k) = 1.0f;
    }
    for (std::size_t k = 0; k < c * h * w; ++k) s(1, k) = -1.0f + 2.0f * static_cast<float>(k) / 17.0f;
    grid_options opt;
    opt.rows = 1;
    opt.cols = 2;
    opt.padding = 2;
    opt.background = 7;
    temp_dir d;
    const fs::path file = d.path / "rgb.png";
    write_png_grid(file, s, c, h, w, opt);
    const loaded img = load(file);
    BOOST_REQUIRE(img.c == 3);
    BOOST_REQUIRE(img.w == 2 * 3 + 2);
    BOOST_REQUIRE(img.h == 2);
    auto at = [&](int x, int y, int ch) { return img.px[(static_cast<std::size_t>(y) * img.w + x) * 3 + ch]; };
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) {
            BOOST_TEST(at(x, y, 0) == 0);
            BOOST_TEST(at(x, y, 1) == 128);  // round(127.5)
            BOOST_TEST(at(x, y, 2) == 255);
            for (int ch = 0; ch < 3; ++ch) {
                BOOST_TEST(at(3 + ch % 2, y, ch) == 7);  // the padding columns 3 and 4
                BOOST_TEST(at(5 + x, y, ch) ==
                           gant::data::value_to_pixel(s(1, static_cast<std::size_t>(ch) * h * w + y * w + x)));
            }
        }
}

BOOST_AUTO_TEST_CASE(default_grid_is_8x8_with_2_pixel_gaps) {
    gant::rng r(3);
    tensor<float> s = tensor<float>::from_shape({70, 28 * 28});  // more than 64: the rest are ignored
    for (auto& v : s) v = static_cast<float>(r.uniform(-1.0, 1.0));
    temp_dir d;
    const fs::path file = d.path / "grid.png";
    write_png_grid<gant::image<1, 28, 28>>(file, s);
    const loaded img = load(file);
    BOOST_TEST(img.w == 8 * 28 + 7 * 2);
    BOOST_TEST(img.h == 8 * 28 + 7 * 2);
    // Last tile's bottom-right pixel is sample 63's last value.
    BOOST_TEST(img.px.back() == gant::data::value_to_pixel(s(63, 28 * 28 - 1)));
    BOOST_TEST(img.px[28] == 255);  // first gap column, default white background
}

BOOST_AUTO_TEST_CASE(overwrites_an_existing_grid) {
    temp_dir d;
    const fs::path file = d.path / "grid.png";
    tensor<float> a = tensor<float>::from_shape({1, 4}), b = tensor<float>::from_shape({1, 4});
    a.fill(-1.0f);
    b.fill(1.0f);
    grid_options opt;
    opt.rows = opt.cols = 1;
    write_png_grid(file, a, 1, 2, 2, opt);
    write_png_grid(file, b, 1, 2, 2, opt);
    BOOST_TEST(load(file).px == std::vector<unsigned char>(4, 255), boost::test_tools::per_element());
    BOOST_TEST(count_entries(d.path) == 1u);
}

BOOST_AUTO_TEST_CASE(unwritable_path_gives_one_clear_sentence_and_no_temp_files) {
    temp_dir d;
    tensor<float> s = tensor<float>::from_shape({1, 4});
    s.fill(0.0f);
    const fs::path missing = d.path / "missing" / "grid.png";
    try {
        write_png_grid(missing, s, 1, 2, 2);
        BOOST_FAIL("expected write_error");
    } catch (const gant::io::write_error& e) {
        const std::string what = e.what();
        BOOST_TEST_MESSAGE(what);
        BOOST_TEST(what.rfind("gant: cannot write " + missing.string() + ": ", 0) == 0u);
        BOOST_TEST(what.find('\n') == std::string::npos);
    }
    // A target that exists as a folder: the temp file is written, the rename fails, it is removed.
    const fs::path folder = d.path / "grid.png";
    fs::create_directory(folder);
    fs::create_directory(folder / "sub");
    BOOST_CHECK_THROW(write_png_grid(folder, s, 1, 2, 2), gant::io::write_error);
    BOOST_TEST(count_entries(d.path) == 1u);
    BOOST_TEST(fs::is_directory(folder / "sub"));
}

BOOST_AUTO_TEST_CASE(bad_shapes_are_refused_before_touching_disk) {
    temp_dir d;
    tensor<float> s = tensor<float>::from_shape({2, 8});
    s.fill(0.0f);
    BOOST_CHECK_THROW(write_png_grid(d.path / "a.png", s, 2, 2, 2), std::invalid_argument);  // 2 channels
    BOOST_CHECK_THROW(write_png_grid(d.path / "b.png", s, 1, 3, 3), std::invalid_argument);  // 9 != 8 features
    grid_options huge;
    huge.cols = 100000;
    BOOST_CHECK_THROW(write_png_grid(d.path / "c.png", s, 1, 2, 4, huge), std::invalid_argument);
    BOOST_TEST(count_entries(d.path) == 0u);
}

// A NaN or an infinity would become a black or white pixel: an image that looks like a result.
BOOST_AUTO_TEST_CASE(non_finite_samples_are_refused_and_the_old_grid_kept) {
    temp_dir d;
    tensor<float> s = tensor<float>::from_shape({2, 8});
    s.fill(0.5f);
    write_png_grid(d.path / "grid.png", s, 1, 2, 4);
    const auto before = count_entries(d.path);
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
        s.data()[13] = bad;
        try {
            write_png_grid(d.path / "grid.png", s, 1, 2, 4);
            BOOST_ERROR("a non-finite sample was written");
        } catch (const std::invalid_argument& e) {
            BOOST_TEST(std::string(e.what()) ==
                       "gant: write_png_grid: sample 1 holds a non-finite value (NaN or infinity) at feature 5, "
                       "which no pixel can show, so nothing was written");
        }
    }
    BOOST_TEST(count_entries(d.path) == before);
    int w = 0, h = 0, c = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> px(stbi_load((d.path / "grid.png").c_str(), &w, &h, &c, 0),
                                                 stbi_image_free);
    BOOST_REQUIRE(px);
    BOOST_TEST(int(px.get()[0]) == 191);  // the old grid: 0.5 -> round(1.5 * 127.5)
}
