#define BOOST_TEST_MODULE gant_sagan
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "gant/gan.hpp"
#include "gant/lipschitz/spectral_norm.hpp"
#include "gant/loss/hinge.hpp"
#include "gant/topology/sagan.hpp"
#include "gant/train/gan_state.hpp"
#include "support/gradcheck.hpp"

// topology::sagan composed as the example composes it (gan<sagan, hinge, spectral_norm>): its
// layer structure, the family's defaults, exact gradients of both networks in double (a
// reduced-width instance of the same structure, attention live), a few training steps of the real
// network, and the generator export the trainer relies on.

using namespace gant;
using gant::testing::check_network;
using gant::testing::gradcheck_options;

namespace {

using real_topology = topology::sagan<image<1, 28, 28>, shape<100>>;
using real_model = gan<real_topology, loss::hinge, lipschitz::spectral_norm>;
// The same structure at W = 4 (widths 8 / 4, one attention channel) and a 5-D latent: small
// enough for finite differences over every parameter tensor.
using small_topology = topology::sagan<image<1, 28, 28>, shape<5>, 4>;
using small_model = gan<small_topology, loss::hinge, lipschitz::spectral_norm, growth::fixed, double>;

using lrelu = leaky_relu<1, 10>;
template <class L, std::size_t D = 0>
using sn = gant::spectral_norm<L, D>;

// ---- structure -----------------------------------------------------------------------------------

// The generator the topology writes: every weight layer spectrally normalised by the topology
// itself, transposed convolutions along dimension 1.
static_assert(std::is_same_v<real_topology::generator,
                             sequential<sequential<sn<dense<100, 128 * 7 * 7, false>>, reshape<shape<128, 7, 7>>,
                                                   batch_norm<128>, relu>,
                                        sequential<sn<conv_transpose2d<128, 64, 4, 2, 1, false>, 1>, batch_norm<64>,
                                                   relu>,
                                        self_attention<64, true>, sn<conv_transpose2d<64, 1, 4, 2, 1>, 1>,
                                        gant::tanh>>);
// Nothing left for a policy to normalise: the policy's rewrite leaves the generator unchanged.
static_assert(std::is_same_v<lipschitz::spectrally_normalised<real_topology::generator>, real_topology::generator>);
// The critic the gan trains: the policy has wrapped every weight layer, the attention block's
// four projections included (self_attention<64, true>).
static_assert(std::is_same_v<real_model::critic_descriptor,
                             sequential<sequential<sn<conv2d<1, 64, 4, 2, 1>>, lrelu>, self_attention<64, true>,
                                        sequential<sn<conv2d<64, 128, 4, 2, 1>>, lrelu>, flatten,
                                        sn<dense<128 * 7 * 7, 1>>>>);
static_assert(!real_model::critic_type::uses_batch_statistics, "SAGAN's critic has no batch norm");
// ... and its plain form is per-sample with tangent rules, so the penalties accept it too.
using plain_critic = real_topology::critic::impl<image<1, 28, 28>, float, backend::cpu>;
static_assert(!plain_critic::couples_samples && plain_critic::second_order);
static_assert(std::is_same_v<real_model::generator_type::output_shape, image<1, 28, 28>>);
static_assert(std::is_same_v<real_model::critic_type::output_shape, shape<1>>);
static_assert(std::is_same_v<topology::initializer_t<real_topology>, init::xavier>);

/// The attention blocks' residual weights: parameters named "gamma" with role shift (batch
/// norm's scale is also called gamma, with role scale).
template <class Net>
std::vector<parameter<typename Net::scalar>*> gammas(Net& net) {
    std::vector<parameter<typename Net::scalar>*> out;
    net.visit_parameters([&](parameter<typename Net::scalar>& p) {
        if (p.name == "gamma" && p.role == role::shift) out.push_back(&p);
    });
    return out;
}

/// check_network's passes with update_statistics = false: batch norm keeps batch statistics
/// (training mode) and spectral norm keeps its u and v, so every finite difference evaluates the
/// same function of the weights (a training-mode forward would take one more power step each time).
template <class Net>
class frozen_state {
public:
    using scalar = double;
    static constexpr std::size_t input_size = Net::input_size, output_size = Net::output_size;
    explicit frozen_state(Net& net) : net_(net) {}

    const tensor<double>& forward(const tensor<double>& x, const pass_context& c) { return net_.forward(x, hold(c)); }
    void backward(const tensor<double>& dy, tensor<double>* dx, bool accumulate, const pass_context& c) {
        net_.backward(dy, dx, accumulate, hold(c));
    }
    const tensor<double>& forward_tangent(const tensor<double>& xdot, const pass_context& c) {
        return net_.forward_tangent(xdot, hold(c));
    }
    void backward_paired(const tensor<double>& ybar, const tensor<double>& ydotbar, tensor<double>* xbar,
                         tensor<double>* xdotbar, const pass_context& c) {
        net_.backward_paired(ybar, ydotbar, xbar, xdotbar, hold(c));
    }
    template <class F>
    void visit_parameters(F&& f) {
        net_.visit_parameters(f);
    }
    void zero_grad() { net_.zero_grad(); }

private:
    static pass_context hold(pass_context c) {
        c.update_statistics = false;
        return c;
    }
    Net& net_;
};

/// Random weights (scales around 1), attention gamma set to `gamma` (non-zero: the attention
/// path contributes to the output and to every gradient), then 300 training-mode forwards so
/// spectral norm's u and v converge to the top singular vectors, the state training keeps them in.
template <class Net>
void prepare(Net& net, double gamma, std::size_t batch) {
    rng r(11, 5);
    net.visit_parameters([&](parameter<double>& p) {
        for (auto& v : p.value) v = 0.5 * r.normal() + (p.role == role::scale ? 1.0 : 0.0);
    });
    const auto g = gammas(net);
    BOOST_TEST_REQUIRE(g.size() == 1u);
    g[0]->value(0) = gamma;
    tensor<double> x({batch, Net::input_size});
    for (auto& v : x) v = r.normal();
    for (int i = 0; i < 300; ++i) net.forward(x, pass_context{});
}

gradcheck_options options_for_sagan() {
    gradcheck_options o;
    o.batch = 3;                    // batch norm in the generator needs more than one sample
    o.randomize_parameters = false; // prepare() chose them and converged u, v for them
    o.max_checks = 24;              // entries per tensor: every tensor is still checked
    return o;
}

struct temp_folder {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("gant-test-sagan-" + std::to_string(::getpid()));
    temp_folder() { std::filesystem::create_directories(path); }
    ~temp_folder() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace

// The paper's optimiser settings come from the policies, with nothing set by the example:
// hinge has no defaults of its own, lipschitz::spectral_norm sets TTUR Adam.
BOOST_AUTO_TEST_CASE(defaults_are_the_papers) {
    const hyper_parameters h = real_model::default_hyper_parameters();
    BOOST_TEST((h.optimizer == optimizer_kind::adam));
    BOOST_TEST(h.lr_critic == 4e-4);
    BOOST_TEST(h.lr_generator == 1e-4);
    BOOST_TEST(h.beta1 == 0.0);
    BOOST_TEST(h.beta2 == 0.9);
    BOOST_TEST(h.n_critic == 1u);
    BOOST_TEST(h.batch == 64u);
}

BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(generator) {
    small_model::generator_type net;
    prepare(net, 0.7, 3);
    frozen_state<small_model::generator_type> frozen(net);
    check_network(frozen, options_for_sagan());
}

BOOST_AUTO_TEST_CASE(critic_as_the_policy_normalises_it) {
    small_model::critic_type net;
    prepare(net, -0.6, 3);
    frozen_state<small_model::critic_type> frozen(net);
    check_network(frozen, options_for_sagan());  // first and second order (the critic could take a penalty)
}

BOOST_AUTO_TEST_SUITE_END()

// A few iterations of the real 28x28 network (W = 64) as the example trains it, at a small batch:
// losses finite, and both attention blocks have started to move gamma off 0.
BOOST_AUTO_TEST_CASE(training_steps_stay_finite_and_open_the_attention) {
    set_num_threads(2);
    hyper_parameters h = real_model::default_hyper_parameters();
    h.batch = 8;
    real_model m(h, 3);
    BOOST_TEST(gammas(m.generator()).size() == 1u);
    BOOST_TEST(gammas(m.critic()).size() == 1u);
    BOOST_TEST(gammas(m.generator())[0]->value(0) == 0.0f);  // the initialiser starts it at 0
    // docs/topologies.md quotes these: G = dense 627,200 + BN 256 + convT 131,072 + BN 128 +
    // attention 2,049 + convT 1,025; D = conv 1,088 + attention 2,049 + conv 131,200 + dense 6,273.
    BOOST_TEST(m.generator().parameter_count() == 761730u);
    BOOST_TEST(m.critic().parameter_count() == 140610u);
    rng data(3, 99);
    for (int step = 0; step < 3; ++step) {
        const step_stats& s = m.train_step([&](tensor<float>& b) {
            for (auto& v : b) v = float(std::tanh(data.normal()));
        });
        BOOST_TEST(std::isfinite(s.critic_loss));
        BOOST_TEST(std::isfinite(s.generator_loss));
        BOOST_TEST(std::isfinite(s.mean_real_score));
        BOOST_TEST(std::isfinite(s.mean_fake_score));
    }
    BOOST_TEST(m.step() == 3u);
    BOOST_TEST(gammas(m.generator())[0]->value(0) != 0.0f);
    BOOST_TEST(gammas(m.critic())[0]->value(0) != 0.0f);
    set_num_threads(1);
}

// The trainer writes samples through gan::generate; export_generator / load_generator must give a
// network that reproduces them: the raw weights and spectral norm's u, v (buffers) travel, W / sigma
// is recomputed from them, and batch norm's running statistics travel too.
BOOST_AUTO_TEST_CASE(exported_generator_reproduces_the_samples) {
    hyper_parameters h = real_model::default_hyper_parameters();
    h.batch = 4;
    real_model m(h, 5);
    rng data(5, 99);
    for (int step = 0; step < 2; ++step)
        m.train_step([&](tensor<float>& b) {
            for (auto& v : b) v = float(std::tanh(data.normal()));
        });
    temp_folder dir;
    export_generator(m, dir.path / "g.gant");
    real_model::generator_type net;
    load_generator(net, dir.path / "g.gant");
    tensor<float> z = tensor<float>::from_shape({6, 100});
    rng r(6, 6);
    for (auto& v : z) v = float(r.normal());
    pass_context ctx;  // what gan::generate uses
    ctx.update_statistics = false;
    const tensor<float> ours = net.forward(z, ctx);
    const tensor<float>& theirs = m.generate(z);
    BOOST_TEST((ours == theirs));
}

// ---- the 32x32 and 64x64 variants ----------------------------------------------------------------

namespace {
template <class Topology>
constexpr bool generator_fully_normalised =
    std::is_same_v<lipschitz::spectrally_normalised<typename Topology::generator>, typename Topology::generator>;
static_assert(generator_fully_normalised<topology::sagan<image<3, 32, 32>, shape<128>>>);
static_assert(generator_fully_normalised<topology::sagan<image<3, 64, 64>, shape<128>>>);

/// Two iterations of gan<sagan<Image, shape<8>, Width>, hinge, spectral_norm> at batch 4: finite
/// losses, samples of the image's shape in [-1, 1].
template <class Image, std::size_t Width>
void train_two_steps() {
    using model = gan<topology::sagan<Image, shape<8>, Width>, loss::hinge, lipschitz::spectral_norm>;
    static_assert(std::is_same_v<typename model::generator_type::output_shape, Image>);
    hyper_parameters h = model::default_hyper_parameters();
    h.batch = 4;
    model m(h, 7);
    rng data(7, 99);
    for (int step = 0; step < 2; ++step) {
        const step_stats& s = m.train_step([&](tensor<float>& b) {
            for (auto& v : b) v = float(std::tanh(data.normal()));
        });
        BOOST_TEST(std::isfinite(s.critic_loss));
        BOOST_TEST(std::isfinite(s.generator_loss));
    }
    rng r(8, 8);
    const tensor<float>& x = m.sample(3, r);
    BOOST_TEST(x.shape(0) == 3u);
    BOOST_TEST(x.shape(1) == Image::size);
    for (float v : x) BOOST_TEST((std::isfinite(v) && std::abs(v) <= 1.0f));
}
}  // namespace

BOOST_AUTO_TEST_CASE(variant_32x32_trains) { train_two_steps<image<3, 32, 32>, 8>(); }
BOOST_AUTO_TEST_CASE(variant_64x64_trains) { train_two_steps<image<3, 64, 64>, 4>(); }
