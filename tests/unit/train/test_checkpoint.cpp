#define BOOST_TEST_MODULE gant_checkpoint
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gant/core/threads.hpp"
#include "gant/data/dataset.hpp"
#include "gant/gan.hpp"
#include "gant/lipschitz/gradient_penalty.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/lipschitz/weight_clip.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/loss/least_squares.hpp"
#include "gant/loss/minimax.hpp"
#include "gant/loss/wasserstein.hpp"
#include "gant/topology/dcgan.hpp"
#include "gant/topology/mlp.hpp"
#include "gant/train/gan_state.hpp"

using namespace gant;
namespace fs = std::filesystem;

namespace {

// ---- fixtures -------------------------------------------------------------------------------

using toy = topology::mlp<shape<2>, shape<3>, 8, 2>;                  // 2-D samples, 3-D latent
using toy_wide = topology::mlp<shape<2>, shape<3>, 16, 2>;            // other hidden width
using toy_deep = topology::mlp<shape<2>, shape<3>, 8, 3>;             // other depth
using conv = topology::dcgan<image<1, 28, 28>, shape<8>>;             // DCGAN 28x28, 8-D latent

/// A fresh, empty folder per test, removed afterwards.
struct temp_folder {
    fs::path path;
    temp_folder() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("gant_ckpt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_folder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path operator/(const std::string& name) const { return path / name; }
    std::vector<std::string> entries() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
        return out;
    }
};

std::vector<std::uint8_t> slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

/// Every bit of a gan's training state (weights, buffers, EMA, optimiser state, random streams,
/// step), gathered through the gan's own accessors, independently of gan_state.hpp.
template <class Model>
std::vector<std::uint8_t> snapshot(Model& m) {
    using T = typename Model::scalar;
    std::vector<std::uint8_t> out;
    auto append = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        out.insert(out.end(), b, b + n);
    };
    auto network = [&](auto& net) {
        net.visit_parameters([&](parameter<T>& p) { append(p.data(), p.size() * sizeof(T)); });
        net.visit_buffers([&](buffer<T>& b) { append(b.data(), b.size() * sizeof(T)); });
    };
    network(m.generator());
    network(m.critic());
    network(m.ema_generator());
    auto optimizer = [&](const std::string&, auto& v) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(v)>, std::uint64_t>)
            append(&v, sizeof v);
        else
            append(v.data(), v.size() * sizeof(T));
    };
    m.generator_optimizer().visit_state(m.generator(), optimizer);
    m.critic_optimizer().visit_state(m.critic(), optimizer);
    m.visit_random_streams([&](const char*, rng& r) {
        const auto w = checkpoint::encode_rng_state(r.state());
        append(w.data(), sizeof w);
    });
    const std::uint64_t step = m.step();
    append(&step, sizeof step);
    return out;
}

template <class Model>
hyper_parameters small_hyper(std::size_t batch) {
    auto h = Model::default_hyper_parameters();
    h.batch = batch;
    h.ema = true;
    h.ema_decay = 0.9;  // visible movement in a few steps
    return h;
}

/// Gaussian 2-D data from a gant::rng (state saved as an extra record).
template <class T>
struct gaussian_data {
    rng r;
    explicit gaussian_data(std::uint64_t seed) : r(seed, 99) {}
    void operator()(tensor<T>& b) {
        for (std::size_t i = 0; i < b.shape(0); ++i) {
            b(i, 0) = T(r.normal(1.0, 0.5));
            b(i, 1) = T(r.normal(-2.0, 0.25));
        }
    }
    void save(checkpoint_extra& e) const { e.set_rng_state("data", r.state()); }
    void load(const checkpoint_extra& e) { r.set_state(e.get_rng_state("data")); }
};

/// A gan trained for `steps` steps on gaussian_data from `seed`, the seed of its own streams too.
template <class Model>
Model trained_on_gaussians(const hyper_parameters& h, std::uint64_t seed, int steps) {
    Model m(h, seed);
    gaussian_data<float> d(seed);
    for (int i = 0; i < steps; ++i) m.train_step(d);
    return m;
}

/// Random 28x28 images fed through data::batch_source (state saved with set_source_state).
struct image_data {
    static const data::image_dataset<float>& dataset() {
        static const data::image_dataset<float> d = [] {
            const std::size_t n = 11;  // odd, so batches straddle epochs
            tensor<float> x = tensor<float>::from_shape({n, 784});
            rng r(3, 3);
            for (auto& v : x) v = float(r.uniform(-1.0, 1.0));
            return data::image_dataset<float>(std::move(x), 1, 28, 28);
        }();
        return d;
    }
    data::batch_source<float> source;
    explicit image_data(std::uint64_t seed) : source(dataset(), rng(seed, 7)) {}
    void operator()(tensor<float>& b) { source.next(b); }
    void save(checkpoint_extra& e) const { e.set_source_state("data", source.state()); }
    void load(const checkpoint_extra& e) {
        source.set_state(e.get_source_state<data::batch_source<float>::state_type>("data"));
    }
};

/// Train n + m steps straight through, and n steps / save / load into a fresh gan (other seed,
/// other data stream) / m steps: every bit of the state must agree.
template <class Model, class Data>
void check_exact_resume(const hyper_parameters& h, std::size_t n, std::size_t m, std::size_t threads) {
    if (num_threads() != threads) set_num_threads(threads);
    BOOST_REQUIRE(num_threads() == threads);
    temp_folder dir;
    const fs::path file = dir / "checkpoint.gant";

    Model straight(h, 7);
    Data straight_data(7);
    for (std::size_t i = 0; i < n + m; ++i) straight.train_step(straight_data);
    const auto expected = snapshot(straight);

    std::vector<std::uint8_t> at_save;
    {
        Model first(h, 7);
        Data first_data(7);
        for (std::size_t i = 0; i < n; ++i) first.train_step(first_data);
        at_save = snapshot(first);
        checkpoint_extra extra;
        first_data.save(extra);
        save_checkpoint(first, file, extra);
    }
    Model resumed(h, 1234);  // another seed: everything must come from the file
    Data resumed_data(1234);
    checkpoint_extra extra;
    load_checkpoint(resumed, file, extra);
    BOOST_TEST(resumed.step() == n);
    BOOST_TEST((snapshot(resumed) == at_save));
    resumed_data.load(extra);
    for (std::size_t i = 0; i < m; ++i) resumed.train_step(resumed_data);
    const auto got = snapshot(resumed);

    BOOST_TEST((at_save != expected), "training moved the state, so the comparison means something");
    BOOST_TEST(got.size() == expected.size());
    BOOST_TEST((got == expected), "resumed run is bit-identical to the uninterrupted one (" << threads << " threads)");
}

/// Runs `f` and returns the checkpoint_error message it throws (fails the test if none).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const checkpoint_error& e) {
        return e.what();
    }
    BOOST_ERROR("expected a checkpoint_error");
    return {};
}

/// The checkpoint file `from` rebuilt record by record with a valid checksum, as a forger would
/// write it, with element `at` of the float record `name` (or of the second float record when
/// `name` is empty) set to `poison`. The writer itself refuses a non-finite state.
std::vector<std::uint8_t> forged(const fs::path& from, float poison, const std::string& name = {},
                                 std::size_t at = std::size_t(-1)) {
    checkpoint::reader r(from);
    checkpoint::writer w;
    std::vector<float> changed;
    std::size_t floats = 0;
    for (const auto& rec : r.records()) {
        const bool target = rec.type == checkpoint::dtype::f32 && (name.empty() ? floats++ == 1 : rec.name == name);
        if (target) {
            changed.resize(rec.count);
            checkpoint::reader::copy_out(rec, changed.data());
            changed[std::min(at, changed.size() / 2)] = poison;
            w.add<float>(rec.name, rec.dims, changed.data(), rec.count);
            continue;
        }
        w.add(rec.name, rec.type, rec.dims, rec.data, rec.count);  // little-endian host: bytes as they are
    }
    return w.bytes();
}

/// A file image around `payload` with a correct checksum (to reach the record parser).
std::vector<std::uint8_t> framed(const std::vector<std::uint8_t>& payload, std::uint32_t version = 1) {
    std::vector<std::uint8_t> out(checkpoint::magic.begin(), checkpoint::magic.end());
    checkpoint::detail::put_le<std::uint32_t>(out, version);
    checkpoint::detail::put_le<std::uint64_t>(out, payload.size());
    out.insert(out.end(), payload.begin(), payload.end());
    checkpoint::detail::fnv1a64 h;
    h.update(payload.data(), payload.size());
    checkpoint::detail::put_le<std::uint64_t>(out, h.value());
    return out;
}

/// A record header: name, dtype code, dims (the data is appended by the caller).
std::vector<std::uint8_t> record_head(const std::string& name, std::uint8_t code, std::vector<std::uint64_t> dims) {
    std::vector<std::uint8_t> out;
    checkpoint::detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out.insert(out.end(), name.begin(), name.end());
    out.push_back(code);
    checkpoint::detail::put_le<std::uint32_t>(out, static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) checkpoint::detail::put_le<std::uint64_t>(out, d);
    return out;
}

template <class T>
std::vector<T> flat_parameters(T, auto& net) {
    std::vector<T> w;
    net.visit_parameters([&](parameter<T>& p) { w.insert(w.end(), p.value.begin(), p.value.end()); });
    net.visit_buffers([&](buffer<T>& b) { w.insert(w.end(), b.value.begin(), b.value.end()); });
    return w;
}

}  // namespace

// ---- round trip -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE(whole_state_and_extra_records_come_back) {
    using model = gan<toy, loss::non_saturating>;
    temp_folder dir;
    const auto h = small_hyper<model>(5);
    model a(h, 1);
    gaussian_data<float> d(1);
    for (int i = 0; i < 3; ++i) a.train_step(d);

    checkpoint_extra extra;
    extra.set_u64("epoch", 42);
    extra.set_i64("offset", -7);
    extra.set_f64("lr", 2.5e-4);
    const std::vector<double> betas{0.5, 0.999};
    extra.set_f64s("betas", betas);
    extra.set_string("name", "fashion\tmnist\n");
    const std::vector<std::uint8_t> raw{0, 255, 1};
    extra.set_bytes("raw", raw);
    d.save(extra);
    save_checkpoint(a, dir / "c.gant", extra);

    model b(h, 99);
    BOOST_TEST((snapshot(b) != snapshot(a)));
    checkpoint_extra back;
    back.set_u64("stale", 1);  // replaced by the file's records
    load_checkpoint(b, dir / "c.gant", back);
    BOOST_TEST((snapshot(b) == snapshot(a)));
    BOOST_TEST(b.step() == 3u);
    BOOST_TEST(!back.contains("stale"));
    BOOST_TEST(back.get_u64("epoch") == 42u);
    BOOST_TEST(back.get_i64("offset") == -7);
    BOOST_TEST(back.get_f64("lr") == 2.5e-4);
    BOOST_TEST((back.get_f64s("betas") == betas));
    BOOST_TEST(back.get_string("name") == "fashion\tmnist\n");
    BOOST_TEST((back.get_bytes("raw") == raw));
    BOOST_TEST((back.get_rng_state("data") == d.r.state()));
    BOOST_TEST(back.source() == dir / "c.gant");

    // Type and presence errors name the file and the record.
    const std::string missing = error_of([&] { (void)back.get_u64("nope"); });
    BOOST_TEST(missing.find("c.gant") != std::string::npos);
    BOOST_TEST(missing.find("has no extra record 'nope'") != std::string::npos);
    const std::string wrong = error_of([&] { (void)back.get_u64("lr"); });
    BOOST_TEST(wrong.find("'lr' holds f64 values, not u64") != std::string::npos, wrong);

    // The extras can be read before any gan exists.
    const checkpoint_extra early = read_checkpoint_extra(dir / "c.gant");
    BOOST_TEST(early.get_u64("epoch") == 42u);
    BOOST_TEST(early.names().size() == 7u);
}

BOOST_AUTO_TEST_CASE(files_are_deterministic_and_leave_no_temporaries) {
    using model = gan<toy, loss::wasserstein, lipschitz::gradient_penalty>;
    temp_folder dir;
    model a(small_hyper<model>(4), 3);
    gaussian_data<float> d(3);
    a.train_step(d);
    save_checkpoint(a, dir / "one.gant");
    save_checkpoint(a, dir / "two.gant");
    BOOST_TEST((slurp(dir / "one.gant") == slurp(dir / "two.gant")));
    save_checkpoint(a, dir / "one.gant");  // over an existing file
    BOOST_TEST(dir.entries().size() == 2u);
    // The header is what docs/checkpoints.md says.
    const auto bytes = slurp(dir / "one.gant");
    BOOST_TEST(std::memcmp(bytes.data(), "GANTCKPT", 8) == 0);
    BOOST_TEST(checkpoint::detail::get_le<std::uint32_t>(bytes.data() + 8) == 1u);
    BOOST_TEST(checkpoint::detail::get_le<std::uint64_t>(bytes.data() + 12) == bytes.size() - 28);
    // Record names follow the documented scheme.
    checkpoint::reader r(dir / "one.gant");
    for (const char* name : {"config", "step", "generator/0/weight", "generator/0/bias", "critic/4/weight", "ema/0/weight",
                             "optim/generator/step", "optim/critic/step", "optim/generator/0.exp_avg",
                             "optim/critic/5.exp_avg_sq", "rng/init", "rng/latent", "rng/penalty"})
        BOOST_TEST(r.find(name) != nullptr, name);
    BOOST_TEST(r.get_u64("optim/critic/step") == 5u);  // n_critic = 5 under WGAN-GP
    BOOST_TEST(r.get_string("config").find("critic layer 4 weight\t1x8\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(batch_norm_and_spectral_norm_buffers_are_saved) {
    using model = gan<conv, loss::non_saturating>;
    temp_folder dir;
    model a(small_hyper<model>(3), 5);
    image_data d(5);
    a.train_step(d);
    save_checkpoint(a, dir / "bn.gant");
    checkpoint::reader r(dir / "bn.gant");
    const auto& mean = r.get("critic/3/running_mean", checkpoint::dtype::f32);
    BOOST_TEST(mean.count == 128u);
    BOOST_TEST(r.find("generator/2/running_var") != nullptr);
    BOOST_TEST(r.find("ema/2/running_var") != nullptr);
    BOOST_TEST(r.get_string("config").find("critic layer 0\tconv2d\ncritic layer 0 weight\t64x1x4x4\n") !=
               std::string::npos);

    using sn = gan<toy, loss::hinge, lipschitz::spectral_norm>;
    sn s(small_hyper<sn>(4), 5);
    gaussian_data<float> g(5);
    s.train_step(g);
    save_checkpoint(s, dir / "sn.gant");
    checkpoint::reader q(dir / "sn.gant");
    BOOST_TEST(q.find("critic/0/u") != nullptr);
    BOOST_TEST(q.find("critic/0/v") != nullptr);
    BOOST_TEST(q.get_string("config").find("critic layer 0\tspectral_norm(dense)\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- exact resume -----------------------------------------------------------------------------

namespace resume_cases {

void mlp_adam(std::size_t threads) {
    using model = gan<toy, loss::non_saturating>;
    check_exact_resume<model, gaussian_data<float>>(small_hyper<model>(6), 4, 5, threads);
}

void mlp_rmsprop_weight_clip(std::size_t threads) {
    using model = gan<toy, loss::wasserstein, lipschitz::weight_clip>;
    auto h = small_hyper<model>(6);
    BOOST_TEST((h.optimizer == optimizer_kind::rmsprop));
    h.lr_critic = h.lr_generator = 5e-3;  // large enough that every step changes the weights
    check_exact_resume<model, gaussian_data<float>>(h, 3, 4, threads);
}

void mlp_rmsprop_with_momentum(std::size_t threads) {
    using model = gan<toy, loss::wasserstein, lipschitz::weight_clip>;
    auto h = small_hyper<model>(6);
    h.momentum = 0.5;  // adds the momentum_buffer state tensors
    check_exact_resume<model, gaussian_data<float>>(h, 3, 4, threads);
}

void mlp_wgan_gp(std::size_t threads) {
    using model = gan<toy, loss::wasserstein, lipschitz::gradient_penalty>;
    check_exact_resume<model, gaussian_data<float>>(small_hyper<model>(5), 3, 3, threads);
}

void mlp_hinge_spectral_norm(std::size_t threads) {
    using model = gan<toy, loss::hinge, lipschitz::spectral_norm>;
    check_exact_resume<model, gaussian_data<float>>(small_hyper<model>(5), 3, 4, threads);
}

void mlp_least_squares_double(std::size_t threads) {
    using model = gan<toy, loss::least_squares, lipschitz::none, growth::fixed, double>;
    check_exact_resume<model, gaussian_data<double>>(small_hyper<model>(5), 3, 4, threads);
}

void dcgan_batch_norm(std::size_t threads) {
    using model = gan<conv, loss::non_saturating>;
    check_exact_resume<model, image_data>(small_hyper<model>(3), 2, 2, threads);
}

void dcgan_wgan_gp(std::size_t threads) {
    using model = gan<conv, loss::wasserstein, lipschitz::gradient_penalty>;
    auto h = small_hyper<model>(3);
    h.n_critic = 2;
    check_exact_resume<model, image_data>(h, 1, 2, threads);
}

}  // namespace resume_cases

BOOST_AUTO_TEST_SUITE(exact_resume)

BOOST_AUTO_TEST_CASE(mlp_adam_with_ema) { resume_cases::mlp_adam(1); }
BOOST_AUTO_TEST_CASE(mlp_rmsprop_weight_clip_with_ema) { resume_cases::mlp_rmsprop_weight_clip(1); }
BOOST_AUTO_TEST_CASE(mlp_rmsprop_with_momentum) { resume_cases::mlp_rmsprop_with_momentum(1); }
BOOST_AUTO_TEST_CASE(mlp_wgan_gp_penalty_stream) { resume_cases::mlp_wgan_gp(1); }
BOOST_AUTO_TEST_CASE(mlp_hinge_spectral_norm) { resume_cases::mlp_hinge_spectral_norm(1); }
BOOST_AUTO_TEST_CASE(mlp_least_squares_in_double) { resume_cases::mlp_least_squares_double(1); }
BOOST_AUTO_TEST_CASE(dcgan_batch_norm_with_image_batches) { resume_cases::dcgan_batch_norm(1); }
BOOST_AUTO_TEST_CASE(dcgan_wgan_gp_layer_norm) { resume_cases::dcgan_wgan_gp(1); }

// Every configuration again with two threads, in one test case: the process-wide pool is grown
// from 1 to 2 threads only once per process, because growing it a second time after it has run
// parallel work crashes (core/threads.hpp: a new worker starts with seen = 0 while the pool's
// generation counter is already past 0, so it runs a null job).
BOOST_AUTO_TEST_CASE(all_of_the_above_with_two_threads) {
    resume_cases::mlp_adam(2);
    resume_cases::mlp_rmsprop_weight_clip(2);
    resume_cases::mlp_wgan_gp(2);
    resume_cases::dcgan_batch_norm(2);
    resume_cases::dcgan_wgan_gp(2);
    set_num_threads(1);
}

BOOST_AUTO_TEST_SUITE_END()

// With EMA off there is no average: the file's EMA records hold the generator's weights again,
// and a load checks them but restores nothing from them. So a run saved with EMA on resumes with
// EMA off with its generator (not its average), and a run saved with EMA off resumes with EMA on
// with the average starting at the saved generator, as switching it on at run time would.
BOOST_AUTO_TEST_CASE(resume_across_ema_settings) {
    using model = gan<toy, loss::non_saturating>;
    temp_folder dir;
    for (bool saved_with_ema : {true, false}) {
        BOOST_TEST_CONTEXT("saved with EMA " << (saved_with_ema ? "on" : "off")) {
            auto h = small_hyper<model>(4);
            h.ema = saved_with_ema;
            model saved = trained_on_gaussians<model>(h, 3, 4);
            save_checkpoint(saved, dir / "c.gant");
            const auto generator = flat_parameters(0.0f, saved.generator());
            const auto average = flat_parameters(0.0f, saved.ema_generator());
            BOOST_TEST(((generator != average) == saved_with_ema));

            h.ema = !saved_with_ema;
            model resumed(h, 8);
            load_checkpoint(resumed, dir / "c.gant");
            BOOST_TEST((flat_parameters(0.0f, resumed.generator()) == generator));
            BOOST_TEST((flat_parameters(0.0f, resumed.critic()) == flat_parameters(0.0f, saved.critic())));
            // Resumed with EMA on from a file without an average: the average starts at the generator.
            BOOST_TEST((flat_parameters(0.0f, resumed.ema_generator()) == generator));

            // The records a load skips are still checked: a NaN in the average of a file saved
            // with EMA on is refused by a gan with EMA off, which is left as it was.
            if (saved_with_ema) {
                spit(dir / "bad.gant", forged(dir / "c.gant", std::nanf(""), "ema/0/weight", 0));
                model target(h, 8);
                const auto before = snapshot(target);
                const std::string message = error_of([&] { load_checkpoint(target, dir / "bad.gant"); });
                BOOST_TEST(message.find("record 'ema/") != std::string::npos, message);
                BOOST_TEST(message.find("holds a non-finite value") != std::string::npos, message);
                BOOST_TEST((snapshot(target) == before));
            }
        }
    }
}

// ---- generator export -------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(export_generator_uses_ema_weights_when_ema_is_on) {
    using model = gan<toy, loss::non_saturating>;
    temp_folder dir;
    for (bool ema : {true, false}) {
        auto h = small_hyper<model>(4);
        h.ema = ema;
        model m = trained_on_gaussians<model>(h, 2, 3);
        export_generator(m, dir / "g.gant");

        model::generator_type net;
        BOOST_TEST((flat_parameters(0.0f, net) != flat_parameters(0.0f, m.generator())));
        load_generator(net, dir / "g.gant");
        auto& source = ema ? m.ema_generator() : m.generator();
        BOOST_TEST((flat_parameters(0.0f, net) == flat_parameters(0.0f, source)));
        BOOST_TEST(((flat_parameters(0.0f, m.ema_generator()) != flat_parameters(0.0f, m.generator())) == ema));

        // The same samples as the gan's own generate().
        tensor<float> z = tensor<float>::from_shape({5, 3});
        rng r(4, 4);
        for (auto& v : z) v = float(r.normal());
        pass_context ctx;  // what gan::generate uses
        ctx.update_statistics = false;
        const tensor<float> ours = net.forward(z, ctx);
        const tensor<float>& theirs = m.generate(z);
        BOOST_TEST((ours == theirs));
    }
    // Only weights: no optimiser state, no random streams.
    checkpoint::reader r(dir / "g.gant");
    for (const auto& record : r.records()) BOOST_TEST((record.name == "config" || record.name.rfind("generator/", 0) == 0));

    // The two kinds of file are not confused.
    model m(small_hyper<model>(4), 2);
    const auto before = snapshot(m);
    const std::string e = error_of([&] { load_checkpoint(m, dir / "g.gant"); });
    BOOST_TEST(e.find("holds a generator export, but a gan training state was expected") != std::string::npos, e);
    BOOST_TEST((snapshot(m) == before));
    save_checkpoint(m, dir / "full.gant");
    model::generator_type net;
    const std::string f = error_of([&] { load_generator(net, dir / "full.gant"); });
    BOOST_TEST(f.find("holds a gan training state, but a generator export was expected") != std::string::npos, f);

    // A generator of another width names the first difference.
    gan<toy_wide, loss::non_saturating>::generator_type wide;
    const std::string g = error_of([&] { load_generator(wide, dir / "g.gant"); });
    BOOST_TEST(g.find("generator layer 0 weight: expected 16x3, file has 8x3") != std::string::npos, g);
}

// ---- configuration mismatches -----------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(mismatch)

/// Saves a `From` gan, loads into a `To` gan: the message must contain `sentence`, name the file,
/// and the target must be unchanged.
template <class From, class To>
void check_mismatch(const std::string& sentence, hyper_parameters hf, hyper_parameters ht) {
    temp_folder dir;
    const fs::path file = dir / "other.gant";
    From from(hf, 1);
    save_checkpoint(from, file);
    To to(ht, 2);
    const auto before = snapshot(to);
    const std::string message = error_of([&] { load_checkpoint(to, file); });
    BOOST_TEST(message == "gant: " + file.string() + ": " + sentence);
    BOOST_TEST((snapshot(to) == before), "a failed load leaves the gan untouched");
}
template <class From, class To>
void check_mismatch(const std::string& sentence) {
    check_mismatch<From, To>(sentence, small_hyper<From>(4), small_hyper<To>(4));
}

BOOST_AUTO_TEST_CASE(layer_width) {
    check_mismatch<gan<toy, loss::non_saturating>, gan<toy_wide, loss::non_saturating>>(
        "generator layer 0 weight: expected 16x3, file has 8x3");
}

BOOST_AUTO_TEST_CASE(conv_channels_in_the_critic) {
    using generator = sequential<dense<4, 784>, reshape<shape<1, 28, 28>>, gant::tanh>;
    using critic_a = sequential<conv2d<1, 4, 4, 2, 1>, leaky_relu<>, conv2d<4, 8, 4, 2, 1>, leaky_relu<>, flatten,
                                dense<8 * 7 * 7, 1>>;
    using critic_b = sequential<conv2d<1, 4, 4, 2, 1>, leaky_relu<>, conv2d<4, 6, 4, 2, 1>, leaky_relu<>, flatten,
                                dense<6 * 7 * 7, 1>>;
    using a = gan<topology::custom<shape<4>, image<1, 28, 28>, generator, critic_a>, loss::non_saturating>;
    using b = gan<topology::custom<shape<4>, image<1, 28, 28>, generator, critic_b>, loss::non_saturating>;
    check_mismatch<a, b>("critic layer 2 weight: expected 6x4x4x4, file has 8x4x4x4");
}

BOOST_AUTO_TEST_CASE(depth) {
    check_mismatch<gan<toy, loss::non_saturating>, gan<toy_deep, loss::non_saturating>>(
        "generator layers: expected 8, file has 6");
}

BOOST_AUTO_TEST_CASE(loss_and_penalty) {
    check_mismatch<gan<toy, loss::non_saturating>, gan<toy, loss::hinge>>("loss: expected hinge, file has non_saturating");
    check_mismatch<gan<toy, loss::wasserstein, lipschitz::weight_clip>,
                   gan<toy, loss::wasserstein, lipschitz::gradient_penalty>>(
        "lipschitz: expected gradient_penalty, file has weight_clip");
}

BOOST_AUTO_TEST_CASE(scalar_type) {
    check_mismatch<gan<toy, loss::non_saturating>,
                   gan<toy, loss::non_saturating, lipschitz::none, growth::fixed, double>>(
        "scalar type: expected double, file has float");
}

BOOST_AUTO_TEST_CASE(optimizer_rule) {
    using model = gan<toy, loss::non_saturating>;
    auto adam = small_hyper<model>(4), rms = adam;
    rms.optimizer = optimizer_kind::rmsprop;
    check_mismatch<model, model>("generator optimizer: expected rmsprop (square_avg), file has adam (exp_avg, exp_avg_sq)",
                                 adam, rms);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- damaged and hostile files ----------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(damaged)

using model = gan<toy, loss::wasserstein, lipschitz::gradient_penalty>;

struct damaged_fixture {
    temp_folder dir;
    fs::path good = dir / "good.gant", bad = dir / "bad.gant";
    std::vector<std::uint8_t> bytes;
    damaged_fixture() {
        model m(small_hyper<model>(4), 1);
        gaussian_data<float> d(1);
        m.train_step(d);
        save_checkpoint(m, good);
        bytes = slurp(good);
    }
    /// Loading `image` fails with a message naming the file and containing `words`, and leaves a
    /// trained gan exactly as it was.
    void expect_rejected(const std::vector<std::uint8_t>& image, const std::string& words) {
        spit(bad, image);
        model target(small_hyper<model>(4), 5);
        gaussian_data<float> d(5);
        target.train_step(d);
        const auto before = snapshot(target);
        checkpoint_extra extra;
        extra.set_u64("keep", 3);
        const std::string message = error_of([&] { load_checkpoint(target, bad, extra); });
        BOOST_TEST(message.rfind("gant: " + bad.string() + ": ", 0) == 0, message);
        BOOST_TEST(message.find(words) != std::string::npos, message << "  (expected: " << words << ")");
        BOOST_TEST((snapshot(target) == before), "a failed load leaves the gan untouched");
        BOOST_TEST(extra.get_u64("keep") == 3u);
        BOOST_TEST(message.find('\n') == std::string::npos);
    }
};

BOOST_FIXTURE_TEST_CASE(the_good_file_loads, damaged_fixture) {
    model target(small_hyper<model>(4), 5);
    load_checkpoint(target, good);
    BOOST_TEST(target.step() == 1u);
}

BOOST_FIXTURE_TEST_CASE(truncated, damaged_fixture) {
    for (std::size_t keep : {bytes.size() - 1, bytes.size() / 2, std::size_t{30}, std::size_t{27}, std::size_t{12},
                             std::size_t{5}}) {
        BOOST_TEST_CONTEXT("kept " << keep << " bytes") {
            expect_rejected({bytes.begin(), bytes.begin() + std::ptrdiff_t(keep)}, "is truncated");
        }
    }
    expect_rejected({}, "is not a gant checkpoint");
}

BOOST_FIXTURE_TEST_CASE(flipped_bytes_fail_the_checksum, damaged_fixture) {
    for (std::size_t at : {std::size_t{20}, std::size_t{100}, bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
        BOOST_TEST_CONTEXT("byte " << at) {
            auto image = bytes;
            image[at] ^= 0x10;
            expect_rejected(image, "is corrupt: its checksum does not match its content");
        }
    }
}

BOOST_FIXTURE_TEST_CASE(wrong_magic_version_and_length, damaged_fixture) {
    auto image = bytes;
    image[3] = 'X';
    expect_rejected(image, "is not a gant checkpoint (it does not start with \"GANTCKPT\")");
    expect_rejected(std::vector<std::uint8_t>{'P', 'K', 3, 4, 0, 0}, "is not a gant checkpoint");

    image = bytes;
    image[8] = 2;
    expect_rejected(image, "has checkpoint format version 2, but this gant reads version 1");

    image = bytes;
    for (int i = 12; i < 20; ++i) image[std::size_t(i)] = 0xFF;  // payload length 2^64 - 1
    expect_rejected(image, "is truncated: its header announces 18446744073709551615 payload bytes");

    image = bytes;
    image.push_back(0);
    expect_rejected(image, "has 1 unexpected bytes after its checksum");
}

BOOST_FIXTURE_TEST_CASE(missing_and_odd_files, damaged_fixture) {
    model target(small_hyper<model>(4), 5);
    const std::string none = error_of([&] { load_checkpoint(target, dir / "absent.gant"); });
    BOOST_TEST(none.find("absent.gant: cannot read it: the file does not exist") != std::string::npos, none);
    const std::string folder = error_of([&] { load_checkpoint(target, dir.path); });
    BOOST_TEST(folder.find("it is not a regular file") != std::string::npos, folder);
}

// A framed, checksummed file whose weights hold a NaN or an infinity: no training run saves one
// (the step guard stops first, and the writer refuses such a state), so it is damaged or forged,
// and loading it would give NaN samples that look like results.
BOOST_FIXTURE_TEST_CASE(nonfinite_values_are_refused, damaged_fixture) {
    for (const float poison : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        expect_rejected(forged(good, poison), "holds a non-finite value (NaN or infinity) at element");

        // The same for a generator export.
        model m(small_hyper<model>(4), 1);
        gaussian_data<float> d(1);
        m.train_step(d);
        const fs::path exported = dir / "generator.gant", file = dir / "poisoned.gant";
        export_generator(m, exported);
        spit(file, forged(exported, poison));
        model target(small_hyper<model>(4), 5);
        const std::string message = error_of([&] { load_generator(target.generator(), file); });
        BOOST_TEST(message.find("holds a non-finite value") != std::string::npos, message);
    }
}

BOOST_FIXTURE_TEST_CASE(hostile_record_structure, damaged_fixture) {
    // Each payload below has a valid checksum, so only the record parser stands in the way.
    auto with_data = [](std::vector<std::uint8_t> head, std::size_t n) {
        head.resize(head.size() + n, 0);
        return head;
    };
    expect_rejected(framed(record_head("x", 1, std::vector<std::uint64_t>(9, 1))), "has rank 9, at most 8 is allowed");
    expect_rejected(framed(record_head("x", 1, {std::uint64_t{1} << 40})), "needs more bytes than the file holds");
    expect_rejected(framed(record_head("x", 3, {std::uint64_t{1} << 61})), "needs more bytes than the file holds");
    expect_rejected(framed(record_head("x", 1, {std::uint64_t{1} << 32, std::uint64_t{1} << 32, 2})),
                    "has an impossible shape");
    expect_rejected(framed(record_head("x", 9, {1})), "has an unknown element type 9");
    expect_rejected(framed(record_head("x", 0, {})), "has an unknown element type 0");
    {
        std::vector<std::uint8_t> p;
        checkpoint::detail::put_le<std::uint32_t>(p, 0xFFFFFFFFu);
        expect_rejected(framed(p), "has a name of 4294967295 bytes");
        p.clear();
        checkpoint::detail::put_le<std::uint32_t>(p, 100);
        p.push_back('a');
        expect_rejected(framed(p), "(its name) runs past the end");
        expect_rejected(framed({1, 0}), "(its name length) runs past the end");
    }
    {
        auto p = with_data(record_head("x", 5, {2}), 2);
        const auto twice = [&] {
            auto q = p;
            q.insert(q.end(), p.begin(), p.end());
            return q;
        }();
        expect_rejected(framed(twice), "record 'x' appears twice");
    }
    auto cut = record_head("x", 1, {4});
    cut.resize(cut.size() - 3);  // dims cut short
    expect_rejected(framed(cut), "'x' (its shape) runs past the end");
    // Well-formed records but no configuration.
    expect_rejected(framed(with_data(record_head("x", 5, {2}), 2)), "has no configuration record");
}

BOOST_FIXTURE_TEST_CASE(control_bytes_from_the_file_stay_on_one_line, damaged_fixture) {
    // Found by fuzz_checkpoint (its input is kept in tests/fuzz/corpus/checkpoint/crash-0194c3f1...):
    // record names and configuration text come from the file and were echoed raw, so a hostile
    // file could break the one-line message or send terminal escapes. They now show as \xNN.
    const std::string name = "bad\n\x1b[2Jname\x17";
    expect_rejected(framed(record_head(name, 9, {1})),
                    "is corrupt: record 'bad\\x0a\\x1b[2Jname\\x17' has an unknown element type 9");
    // The same through the configuration check: a value with a carriage return and an escape.
    checkpoint::reader r(good);
    checkpoint::writer w;
    std::string config;
    for (const auto& rec : r.records()) {
        if (rec.name == "config") {
            config.assign(reinterpret_cast<const char*>(rec.data), rec.count);
            const std::size_t at = config.find("loss\t");
            BOOST_REQUIRE(at != std::string::npos);
            config.insert(at + 5, "\r\x1b[1A");
            w.add_string("config", config);
        } else {
            w.add(rec.name, rec.type, rec.dims, rec.data, rec.count);
        }
    }
    expect_rejected(w.bytes(), "loss: expected wasserstein, file has \\x0d\\x1b[1Awasserstein");
}

BOOST_FIXTURE_TEST_CASE(random_mutations_behind_a_valid_checksum, damaged_fixture) {
    // Flipped bits and cut payloads, re-framed with a correct checksum so they reach the record
    // parser and the validation: each load either succeeds (a flipped bit in a weight) or throws
    // checkpoint_error and leaves the gan alone; nothing else (run it under ASan for bounds).
    const std::vector<std::uint8_t> payload(bytes.begin() + 20, bytes.end() - 8);
    rng r(21, 21);
    model target(small_hyper<model>(4), 5);
    int loaded = 0, refused = 0;
    for (int round = 0; round < 400; ++round) {
        auto p = payload;
        if (round % 4 == 3) {
            p.resize(std::size_t(r.below(p.size())));
        } else {
            for (int flips = 1 + int(r.below(3)); flips > 0; --flips) p[std::size_t(r.below(p.size()))] ^= std::uint8_t(1u << r.below(8));
        }
        spit(bad, framed(p));
        const auto before = snapshot(target);
        try {
            load_checkpoint(target, bad);
            ++loaded;
        } catch (const checkpoint_error& e) {
            ++refused;
            BOOST_TEST(std::string(e.what()).rfind("gant: " + bad.string() + ": ", 0) == 0u);
            if (snapshot(target) != before) BOOST_ERROR("round " << round << ": a refused load changed the gan: " << e.what());
        }
    }
    BOOST_TEST_MESSAGE(loaded << " mutated files loaded, " << refused << " refused");
    BOOST_TEST(refused > 100);
}

// A stored Box-Muller spare that the stream could not have drawn (NaN, 1e308, 9) is refused; the
// spare of a real stream (after one normal draw) and the largest possible one load.
BOOST_AUTO_TEST_CASE(a_random_stream_spare_must_be_a_possible_draw) {
    rng r(5, 1);
    r.normal();  // leaves the pair's second variate as the spare
    const auto words = checkpoint::encode_rng_state(r.state());
    BOOST_REQUIRE(words[4] == 1u);
    rng::full_state s;
    BOOST_TEST(checkpoint::decode_rng_state(words, s).empty());
    BOOST_TEST((s == r.state()));
    for (const double bad : {std::numeric_limits<double>::quiet_NaN(), 1e308, -9.0}) {
        auto w = words;
        w[5] = std::bit_cast<std::uint64_t>(bad);
        const std::string problem = checkpoint::decode_rng_state(w, s);
        BOOST_TEST(problem.find("which it cannot produce") != std::string::npos, problem);
    }
    auto w = words;
    w[5] = std::bit_cast<std::uint64_t>(std::sqrt(106 * std::log(2.0)));  // the largest |draw|, u1 = 2^-53
    BOOST_TEST(checkpoint::decode_rng_state(w, s).empty());
}

// A file of 64 GiB (sparse: it takes no disk space) whose header is wrong is refused from its
// header alone: reading it whole first would need 64 GiB of memory (an out-of-memory kill or an
// allocation failure instead of a sentence).
BOOST_FIXTURE_TEST_CASE(a_huge_file_is_judged_by_its_header_before_it_is_read, damaged_fixture) {
    const fs::path huge = dir / "huge.gant";
    auto header = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 20);
    for (const auto& [change, words] :
         std::vector<std::pair<int, std::string>>{{0, "is not a gant checkpoint"},
                                                  {1, "has checkpoint format version 7"},
                                                  {2, "is truncated: its header"},
                                                  {3, "unexpected bytes after its checksum"}}) {
        auto h = header;
        if (change == 0) h[0] = 'X';
        if (change == 1) h[8] = 7;
        if (change == 2) h[19] = 0xff;  // a payload length beyond the file
        spit(huge, h);
        fs::resize_file(huge, std::uintmax_t(64) << 30);
        model target(small_hyper<model>(4), 5);
        const std::string message = error_of([&] { load_checkpoint(target, huge); });
        BOOST_TEST(message.rfind("gant: " + huge.string() + ": ", 0) == 0, message);
        BOOST_TEST(message.find(words) != std::string::npos, message << "  (expected: " << words << ")");
    }
    fs::remove(huge);
}

BOOST_FIXTURE_TEST_CASE(records_that_do_not_fit_the_configuration, damaged_fixture) {
    // Rebuild the good file record by record with one change, keeping a valid checksum.
    auto rebuilt = [&](const std::string& drop, const std::string& reshape_name, bool add_unknown,
                       const std::string& bad_rng) {
        checkpoint::reader r(good);
        checkpoint::writer w;
        for (const auto& rec : r.records()) {
            if (rec.name == drop) continue;
            if (rec.name == bad_rng) {
                std::vector<std::uint64_t> v(6, 0);
                v[3] = 2;  // lane 2 of a block that was never generated (counter 0)
                w.add_copy<std::uint64_t>(rec.name, v);
                continue;
            }
            auto dims = rec.dims;
            if (rec.name == reshape_name) dims = {rec.count};
            w.add(rec.name, rec.type, dims, rec.data, rec.count);  // little-endian host: bytes as they are
        }
        if (add_unknown) w.add_u64("critic/9/weight", 1);
        return w.bytes();
    };
    expect_rejected(rebuilt("critic/0/bias", "", false, ""), "has no record 'critic/0/bias'");
    expect_rejected(rebuilt("optim/critic/step", "", false, ""), "has no record 'optim/critic/step'");
    expect_rejected(rebuilt("rng/penalty", "", false, ""), "has no record 'rng/penalty'");
    expect_rejected(rebuilt("", "critic/0/weight", false, ""), "record 'critic/0/weight' has shape 16, expected 8x2");
    expect_rejected(rebuilt("", "", true, ""), "has a record 'critic/9/weight' that this configuration does not use");
    expect_rejected(rebuilt("", "", false, "rng/latent"),
                    "record 'rng/latent': the random-stream lane points into a block that was never generated");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- crash safety -----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(crash_safety)

BOOST_AUTO_TEST_CASE(a_failed_write_keeps_the_old_checkpoint) {
    using model = gan<toy, loss::non_saturating>;
    temp_folder dir;
    const fs::path file = dir / "checkpoint.gant";
    model m(small_hyper<model>(4), 1);
    gaussian_data<float> d(1);
    m.train_step(d);
    save_checkpoint(m, file);
    const auto old_bytes = slurp(file);
    m.train_step(d);

    // The file-size limit makes the write fail part-way (EFBIG), as a full disk would.
    struct rlimit saved{};
    BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = saved;
    small.rlim_cur = old_bytes.size() / 2;
    BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::string message = error_of([&] { save_checkpoint(m, file); });
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);

    BOOST_TEST(message.rfind("gant: " + file.string() + ": cannot write the checkpoint: ", 0) == 0, message);
    BOOST_TEST((slurp(file) == old_bytes), "the old checkpoint is intact");
    BOOST_TEST(dir.entries() == std::vector<std::string>{"checkpoint.gant"}, "no temporary file is left");
    model back(small_hyper<model>(4), 9);
    load_checkpoint(back, file);
    BOOST_TEST(back.step() == 1u);

    const std::string nowhere = error_of([&] { save_checkpoint(m, dir / "no" / "such" / "folder.gant"); });
    BOOST_TEST(nowhere.find("folder.gant: cannot write the checkpoint: cannot create a temporary file") !=
               std::string::npos, nowhere);
}

// Adam's second moment overflows to infinity for a gradient near 1e19 while the weights stay
// finite (the parameter just stops moving), so the training guard lets the step through; the
// loader refuses such a file, so the writer must not replace a good checkpoint with it.
BOOST_AUTO_TEST_CASE(a_non_finite_state_is_not_saved) {
    using model = gan<toy, loss::non_saturating>;
    temp_folder dir;
    const fs::path file = dir / "checkpoint.gant", exported = dir / "generator.gant";
    model m(small_hyper<model>(4), 1);
    gaussian_data<float> d(1);
    m.train_step(d);
    save_checkpoint(m, file);
    export_generator(m, exported);
    const auto old_bytes = slurp(file), old_export = slurp(exported);
    m.train_step(d);

    auto layout = checkpoint::detail::describe_gan(m);
    auto slot = std::find_if(layout.tensors.begin(), layout.tensors.end(),
                             [](const auto& t) { return t.record.find("exp_avg_sq") != std::string::npos; });
    BOOST_REQUIRE(slot != layout.tensors.end());
    BOOST_REQUIRE(slot->count > 2);
    slot->data[2] = std::numeric_limits<float>::infinity();
    auto training_error_of = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const training_error& e) {  // what a trainer reports with its last good checkpoint
            return e.what();
        }
        BOOST_ERROR("expected a training_error");
        return {};
    };
    const std::string message = training_error_of([&] { save_checkpoint(m, file); });
    BOOST_TEST(message.rfind("gant: step 2: '" + slot->record +
                                 "' holds a non-finite value (infinity) at element 2, "
                                 "so nothing was saved",
                             0) == 0,
               message);
    BOOST_TEST(message.find('\n') == std::string::npos);
    BOOST_TEST((slurp(file) == old_bytes), "the previous checkpoint is intact");
    BOOST_TEST(dir.entries() == (std::vector<std::string>{"checkpoint.gant", "generator.gant"}),
               "no temporary file is left");
    slot->data[2] = 0.0f;
    save_checkpoint(m, file);  // finite again: saved

    bool poisoned = false;  // the network export_generator writes: the average when EMA is on
    (m.hyper().ema ? m.ema_generator() : m.generator()).visit_parameters([&](parameter<float>& p) {
        if (!std::exchange(poisoned, true)) p.value[0] = std::numeric_limits<float>::quiet_NaN();
    });
    const std::string export_message = training_error_of([&] { export_generator(m, exported); });
    BOOST_TEST(export_message.rfind("gant: step 2: the generator: '", 0) == 0, export_message);
    BOOST_TEST(export_message.find("holds a non-finite value (NaN) at element 0") != std::string::npos, export_message);
    BOOST_TEST((slurp(exported) == old_export), "the previous export is intact");
}

BOOST_AUTO_TEST_CASE(killing_the_writer_mid_write_leaves_a_loadable_checkpoint) {
    // A few megabytes of state, so a write takes long enough to be interrupted.
    using big = gan<topology::mlp<shape<64>, shape<16>, 384, 3>, loss::non_saturating>;
    temp_folder dir;
    const fs::path file = dir / "checkpoint.gant";
    auto h = small_hyper<big>(2);
    big m(h, 1);
    save_checkpoint(m, file);
    const auto started = std::chrono::steady_clock::now();
    save_checkpoint(m, file);
    const auto one_write = std::chrono::steady_clock::now() - started;
    const auto window_us = std::max<long>(
        2000, long(std::chrono::duration_cast<std::chrono::microseconds>(one_write).count() * 3));
    BOOST_TEST_MESSAGE("one checkpoint write of " << fs::file_size(file) << " bytes took "
                                                  << std::chrono::duration_cast<std::chrono::microseconds>(one_write).count()
                                                  << " us");

    rng timing(11, 11);
    int mid_write = 0, rounds = 0;
    for (; rounds < 60 && mid_write < 6; ++rounds) {
        const pid_t child = ::fork();
        BOOST_REQUIRE(child >= 0);
        if (child == 0) {
            // The child rewrites the checkpoint forever, each time with another step counter.
            for (std::size_t step = 1;; ++step) {
                m.set_step(1000 * std::size_t(rounds) + step);
                try {
                    save_checkpoint(m, file);
                } catch (...) {
                    ::_exit(3);
                }
            }
        }
        ::usleep(useconds_t(timing.below(std::uint64_t(window_us))));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "the writer was killed, not failed");

        // Whatever the moment, the checkpoint is one whole file.
        big back(h, 2);
        BOOST_CHECK_NO_THROW(load_checkpoint(back, file));
        BOOST_TEST(back.step() / 1000 <= std::size_t(rounds));
        bool temporary = false;
        for (const auto& name : dir.entries())
            if (name != "checkpoint.gant") {
                temporary = true;  // a write was cut short: its temporary file is all that is torn
                fs::remove(dir / name);
            }
        mid_write += temporary;
    }
    BOOST_TEST_MESSAGE(rounds << " kills, " << mid_write << " of them during a write");
    BOOST_TEST(mid_write >= 1, "at least one kill landed in the middle of a write");
}

BOOST_AUTO_TEST_SUITE_END()
