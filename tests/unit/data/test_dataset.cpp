#define BOOST_TEST_MODULE gant_dataset
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <type_traits>
#include <vector>

#include "gant/data/dataset.hpp"

using namespace gant;
using namespace gant::data;

namespace {

// n images of 1x3x1 (3 features); image i holds the values i, i + 0.25, i + 0.5; label i % 256.
image_dataset<double> numbered(std::size_t n) {
    tensor<double> x = tensor<double>::from_shape({n, 3});
    std::vector<std::uint8_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < 3; ++k) x(i, k) = static_cast<double>(i) + 0.25 * static_cast<double>(k);
        labels[i] = static_cast<std::uint8_t>(i % 256);
    }
    return image_dataset<double>(std::move(x), 1, 3, 1, std::move(labels));
}

// Which image each row of a batch is (checking that the row was copied whole).
std::vector<std::size_t> ids(const tensor<double>& batch) {
    std::vector<std::size_t> out;
    for (std::size_t r = 0; r < batch.shape(0); ++r) {
        const auto id = static_cast<std::size_t>(batch(r, 0));
        BOOST_TEST(batch(r, 1) == static_cast<double>(id) + 0.25);
        BOOST_TEST(batch(r, 2) == static_cast<double>(id) + 0.5);
        out.push_back(id);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pixels)

BOOST_AUTO_TEST_CASE(every_byte_round_trips_through_float_and_double) {
    for (int p = 0; p < 256; ++p) {
        const auto b = static_cast<std::uint8_t>(p);
        BOOST_TEST(value_to_pixel(pixel_to_value<float>(b)) == b);
        BOOST_TEST(value_to_pixel(pixel_to_value<double>(b)) == b);
        BOOST_TEST(pixel_to_value<float>(b) >= -1.0f);
        BOOST_TEST(pixel_to_value<float>(b) <= 1.0f);
    }
    BOOST_TEST(pixel_to_value<float>(0) == -1.0f);
    BOOST_TEST(pixel_to_value<float>(255) == 1.0f);
    BOOST_TEST(pixel_to_value<double>(255) == 1.0);
}

BOOST_AUTO_TEST_CASE(out_of_range_values_clamp_and_nan_is_black) {
    BOOST_TEST(value_to_pixel(-3.0) == 0);
    BOOST_TEST(value_to_pixel(7.0f) == 255);
    BOOST_TEST(value_to_pixel(0.0) == 128);  // round(127.5) rounds half away from zero
    BOOST_TEST(value_to_pixel(-1.0 + 0.4 / 127.5) == 0);
    BOOST_TEST(value_to_pixel(-1.0 + 0.6 / 127.5) == 1);
    BOOST_TEST(value_to_pixel(std::numeric_limits<double>::quiet_NaN()) == 0);
    BOOST_TEST(value_to_pixel(std::numeric_limits<float>::infinity()) == 255);
    BOOST_TEST(value_to_pixel(-std::numeric_limits<float>::infinity()) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(datasets)

BOOST_AUTO_TEST_CASE(construction_checks_shapes_and_labels) {
    tensor<float> x = tensor<float>::from_shape({4, 12});
    BOOST_CHECK_THROW(image_dataset<float>(x, 1, 3, 3), std::invalid_argument);   // 9 != 12
    BOOST_CHECK_THROW(image_dataset<float>(x, 0, 3, 4), std::invalid_argument);
    BOOST_CHECK_THROW(image_dataset<float>(x, 1, 3, 4, std::vector<std::uint8_t>(3)), std::invalid_argument);
    const image_dataset<float> d(x, 3, 2, 2, std::vector<std::uint8_t>(4, 1));
    BOOST_TEST(d.size() == 4u);
    BOOST_TEST(d.features() == 12u);
    BOOST_TEST(d.has_labels());
    BOOST_TEST(d.image(2).data() == d.images().data() + 24);
    BOOST_TEST(d.image(2).size() == 12u);
}

BOOST_AUTO_TEST_CASE(padding_surrounds_each_channel_with_fill) {
    // 2 images of 3 channels x 3 x 2 (odd, non-square), padded by 2 -> 3 x 7 x 6.
    constexpr std::size_t c = 3, h = 3, w = 2, p = 2, ph = h + 2 * p, pw = w + 2 * p;
    tensor<float> x = tensor<float>::from_shape({2, c * h * w});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i) / 100.0f;
    const image_dataset<float> d(x, c, h, w, {4, 5});
    const auto padded = pad_dataset(d);
    BOOST_TEST(padded.height() == ph);
    BOOST_TEST(padded.width() == pw);
    BOOST_TEST(padded.features() == c * ph * pw);
    BOOST_TEST(padded.labels() == d.labels());
    for (std::size_t s = 0; s < 2; ++s)
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t y = 0; y < ph; ++y)
                for (std::size_t xx = 0; xx < pw; ++xx) {
                    const float got = padded.images()(s, (ch * ph + y) * pw + xx);
                    const bool inside = y >= p && y < p + h && xx >= p && xx < p + w;
                    const float want = inside ? x(s, (ch * h + (y - p)) * w + (xx - p)) : -1.0f;
                    BOOST_TEST(got == want);
                }
}

BOOST_AUTO_TEST_CASE(pad_28_to_32_with_custom_fill_reuses_output) {
    tensor<double> x = tensor<double>::from_shape({3, 28 * 28});
    x.fill(0.5);
    tensor<double> out = tensor<double>::from_shape({3, 32 * 32});
    const double* storage = out.data();
    pad_images(x, out, 1, 28, 28, 2, 0.0);
    BOOST_TEST(out.data() == storage);  // already the right shape: no reallocation
    BOOST_TEST(out(2, 0) == 0.0);
    BOOST_TEST(out(2, 2 * 32 + 2) == 0.5);
    BOOST_TEST(out(2, 29 * 32 + 29) == 0.5);
    BOOST_TEST(out(2, 30 * 32 + 29) == 0.0);
    BOOST_CHECK_THROW(pad_images(x, out, 1, 27, 28), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batches)

BOOST_AUTO_TEST_CASE(each_epoch_is_a_permutation_and_batches_span_epochs) {
    // 7 images, batches of 3: 21 draws = exactly 3 epochs, each a permutation of 0..6.
    const auto d = numbered(7);
    batch_source<double> src(d, rng(17));
    tensor<double> batch = tensor<double>::from_shape({3, 3});
    std::vector<std::size_t> seen;
    for (int b = 0; b < 7; ++b) {
        src.next(batch);
        for (auto id : ids(batch)) seen.push_back(id);
    }
    BOOST_TEST(src.epoch() == 2u);
    BOOST_TEST(src.position() == 7u);
    std::vector<std::vector<std::size_t>> epochs;
    for (int e = 0; e < 3; ++e) {
        std::vector<std::size_t> ep(seen.begin() + 7 * e, seen.begin() + 7 * (e + 1));
        BOOST_TEST(std::set<std::size_t>(ep.begin(), ep.end()).size() == 7u);
        epochs.push_back(ep);
    }
    BOOST_TEST((epochs[0] != epochs[1] || epochs[1] != epochs[2]));  // reshuffled each epoch
}

BOOST_AUTO_TEST_CASE(fills_in_place_and_carries_labels) {
    const auto d = numbered(11);
    batch_source<double> src(d, rng(4));
    tensor<double> batch = tensor<double>::from_shape({5, 3});
    const double* storage = batch.data();
    std::vector<std::uint8_t> labels(5);
    for (int i = 0; i < 6; ++i) {
        src.next(batch, labels);
        BOOST_TEST(batch.data() == storage);
        const auto got = ids(batch);
        for (std::size_t r = 0; r < 5; ++r) BOOST_TEST(labels[r] == got[r]);
    }
    tensor<double> wrong = tensor<double>::from_shape({5, 4});
    BOOST_CHECK_THROW(src.next(wrong), std::invalid_argument);
    std::vector<std::uint8_t> short_labels(4);
    BOOST_CHECK_THROW(src.next(batch, short_labels), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(same_seed_same_stream_other_seed_differs) {
    const auto d = numbered(50);
    batch_source<double> a(d, rng(9)), b(d, rng(9)), c(d, rng(10));
    tensor<double> ba = tensor<double>::from_shape({16, 3}), bb = ba, bc = ba;
    bool differs = false;
    for (int i = 0; i < 10; ++i) {
        a.next(ba);
        b.next(bb);
        c.next(bc);
        BOOST_TEST((ba == bb));
        differs |= !(ba == bc);
    }
    BOOST_TEST(differs);
}

BOOST_AUTO_TEST_CASE(restoring_state_continues_exactly) {
    const auto d = numbered(13);
    tensor<double> batch = tensor<double>::from_shape({5, 3});
    for (int skip : {0, 1, 2, 3, 7}) {  // mid-epoch, at boundaries, several epochs in
        batch_source<double> a(d, rng(21, 3));
        for (int i = 0; i < skip; ++i) a.next(batch);
        const auto saved = a.state();
        std::vector<std::size_t> expected;
        for (int i = 0; i < 6; ++i) {
            a.next(batch);
            for (auto id : ids(batch)) expected.push_back(id);
        }
        batch_source<double> b(d, rng(999));  // a different generator: the state must override it
        b.set_state(saved);
        BOOST_TEST((b.state() == saved));
        std::vector<std::size_t> got;
        for (int i = 0; i < 6; ++i) {
            b.next(batch);
            for (auto id : ids(batch)) got.push_back(id);
        }
        BOOST_TEST(got == expected, boost::test_tools::per_element());
    }
}

// The source keeps a pointer to its dataset, so binding it to a temporary must not compile.
static_assert(!std::is_constructible_v<batch_source<double>, image_dataset<double>, rng>);
static_assert(std::is_constructible_v<batch_source<double>, const image_dataset<double>&, rng>);

BOOST_AUTO_TEST_CASE(state_from_another_dataset_is_refused) {
    const auto small = numbered(5), big = numbered(6);
    batch_source<double> a(small, rng(1)), b(big, rng(1));
    BOOST_CHECK_THROW(b.set_state(a.state()), std::invalid_argument);
    auto s = b.state();
    s.position = 7;
    BOOST_CHECK_THROW(b.set_state(s), std::invalid_argument);
    const image_dataset<double> none;
    BOOST_CHECK_THROW(batch_source<double>(none, rng(1)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
