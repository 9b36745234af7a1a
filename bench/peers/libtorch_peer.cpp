// The peer networks of gant_bench_vs_libtorch, written the way a PyTorch user would write them,
// but doing the same work per iteration as gant's gan<...>::train_step (include/gant/gan.hpp):
//
//   critic step:    z ~ N(0, 1); fake = G(z) (no graph kept, batch-norm statistics updated);
//                   batch-norm critic: D(real) -> backward, D(fake) -> backward (each half its own
//                   batch statistics, as in DCGAN); per-sample critic (WGAN-GP): D on the
//                   concatenated real+fake batch, plus the exact gradient penalty at the
//                   interpolates (double backprop, create_graph = true); Adam on D.
//   generator step: a fresh z; fake = G(z); loss of D(fake); backward through D with D's
//                   parameters frozen (gant's critic backward does not accumulate them either:
//                   accumulate = false), then Adam on G.
//
// The layer lists are topology::dcgan's (include/gant/topology/dcgan.hpp), the initialisation is
// init::dcgan (weights N(0, 0.02), norm scales N(1, 0.02), biases and shifts 0), the losses are
// gant's loss::non_saturating / loss::wasserstein on raw scores, and the WGAN-GP critic's norm is
// channel_layer_norm below, which is gant's layer_norm (not nn::LayerNorm: see there).
//
// The same networks and step also train on real data (make_trainer, for gant_libtorch_dcgan):
// gan_pair holds them, bench_workload feeds it a fixed stand-in batch, gan_trainer the caller's.
#include "libtorch_peer.hpp"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace gant_bench::peer {

namespace {

namespace nn = torch::nn;

// gant's layer_norm<C> (include/gant/layers/layer_norm.hpp): each sample normalised over all of
// its C*H*W elements with its own mean and biased variance, eps 1e-5, then scaled and shifted
// per *channel*. nn::LayerNorm({C, H, W}) would instead learn one gamma and beta per element, a
// different (and C*H*W times larger) parameterisation, so it is built from the functional form.
// (TORCH_MODULE needs the name <holder>Impl.)
struct channel_layer_normImpl : nn::Module {
    explicit channel_layer_normImpl(int64_t channels) {
        gamma = register_parameter("gamma", torch::ones({channels}));
        beta = register_parameter("beta", torch::zeros({channels}));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        const auto shape = x.sizes().slice(1);  // [C, H, W]
        const auto y = torch::layer_norm(x, shape, /*weight=*/{}, /*bias=*/{}, 1e-5);
        return y * gamma.view({1, -1, 1, 1}) + beta.view({1, -1, 1, 1});
    }
    torch::Tensor gamma, beta;
};
TORCH_MODULE(channel_layer_norm);

// init::dcgan on every module of a network.
void init_dcgan(nn::Module& net) {
    torch::NoGradGuard no_grad;
    for (auto& m : net.modules(/*include_self=*/false)) {
        auto weight_bias = [](torch::Tensor& w, torch::Tensor& b) {
            w.normal_(0.0, 0.02);
            if (b.defined()) b.zero_();
        };
        if (auto* c = m->as<nn::Conv2d>()) weight_bias(c->weight, c->bias);
        else if (auto* t = m->as<nn::ConvTranspose2d>()) weight_bias(t->weight, t->bias);
        else if (auto* l = m->as<nn::Linear>()) weight_bias(l->weight, l->bias);
        else if (auto* bn = m->as<nn::BatchNorm2d>()) {
            bn->weight.normal_(1.0, 0.02);
            bn->bias.zero_();
        } else if (auto* ln = m->as<channel_layer_norm>()) {
            ln->gamma.normal_(1.0, 0.02);
            ln->beta.zero_();
        }
    }
}

nn::Conv2dOptions conv(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, bool bias) {
    return nn::Conv2dOptions(in, out, k).stride(s).padding(p).bias(bias);
}
nn::ConvTranspose2dOptions convt(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, bool bias) {
    return nn::ConvTranspose2dOptions(in, out, k).stride(s).padding(p).bias(bias);
}
nn::LeakyReLU lrelu() { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); }

// topology::dcgan<image<C, 28, 28>, shape<Z>>: G z -> dense(128*7*7) -> BN -> ReLU -> convT 14x14
// -> BN -> ReLU -> convT 28x28 -> tanh; D conv 14x14 -> LReLU -> conv 7x7 -> norm -> LReLU -> dense.
nn::Sequential generator28(int64_t c, int64_t z) {
    return nn::Sequential(nn::Linear(z, 128 * 7 * 7),
                          nn::Functional([](const torch::Tensor& x) { return x.view({-1, 128, 7, 7}); }),
                          nn::BatchNorm2d(128), nn::ReLU(), nn::ConvTranspose2d(convt(128, 64, 4, 2, 1, true)),
                          nn::BatchNorm2d(64), nn::ReLU(), nn::ConvTranspose2d(convt(64, c, 4, 2, 1, true)),
                          nn::Tanh());
}
nn::Sequential critic28(int64_t c, bool layer_norm) {
    nn::Sequential d(nn::Conv2d(conv(c, 64, 4, 2, 1, true)), lrelu(), nn::Conv2d(conv(64, 128, 4, 2, 1, true)));
    if (layer_norm) d->push_back(channel_layer_norm(128));
    else d->push_back(nn::BatchNorm2d(128));
    d->push_back(lrelu());
    d->push_back(nn::Flatten());
    d->push_back(nn::Linear(128 * 7 * 7, 1));
    return d;
}

// topology::dcgan<image<C, 64, 64>, shape<Z>>: the pytorch/examples network, ngf = ndf = 64, no
// convolution biases.
nn::Sequential generator64(int64_t c, int64_t z) {
    constexpr int64_t g = 64;
    return nn::Sequential(
        nn::Functional([z](const torch::Tensor& x) { return x.view({-1, z, 1, 1}); }),
        nn::ConvTranspose2d(convt(z, g * 8, 4, 1, 0, false)), nn::BatchNorm2d(g * 8), nn::ReLU(),
        nn::ConvTranspose2d(convt(g * 8, g * 4, 4, 2, 1, false)), nn::BatchNorm2d(g * 4), nn::ReLU(),
        nn::ConvTranspose2d(convt(g * 4, g * 2, 4, 2, 1, false)), nn::BatchNorm2d(g * 2), nn::ReLU(),
        nn::ConvTranspose2d(convt(g * 2, g, 4, 2, 1, false)), nn::BatchNorm2d(g), nn::ReLU(),
        nn::ConvTranspose2d(convt(g, c, 4, 2, 1, false)), nn::Tanh());
}
nn::Sequential critic64(int64_t c) {
    constexpr int64_t d = 64;
    return nn::Sequential(nn::Conv2d(conv(c, d, 4, 2, 1, false)), lrelu(),
                          nn::Conv2d(conv(d, d * 2, 4, 2, 1, false)), nn::BatchNorm2d(d * 2), lrelu(),
                          nn::Conv2d(conv(d * 2, d * 4, 4, 2, 1, false)), nn::BatchNorm2d(d * 4), lrelu(),
                          nn::Conv2d(conv(d * 4, d * 8, 4, 2, 1, false)), nn::BatchNorm2d(d * 8), lrelu(),
                          nn::Conv2d(conv(d * 8, 1, 4, 1, 0, false)), nn::Flatten());
}

enum class loss_kind { non_saturating, wasserstein_gp };

// G, D and their two optimisers, and one training iteration on real batches the caller chooses.
// The bench (fixed stand-in batch) and the trainer (the caller's images) wrap it below.
class gan_pair {
public:
    gan_pair(nn::Sequential g, nn::Sequential d, loss_kind loss, int64_t latent, const settings& s)
        : g_(std::move(g)), d_(std::move(d)), loss_(loss), s_(s), latent_(latent),
          g_opt_(g_->parameters(), adam(s.lr_generator)), d_opt_(d_->parameters(), adam(s.lr_critic)) {
        init_dcgan(*g_);
        init_dcgan(*d_);
        g_->train();
        d_->train();
    }

    /// One generator iteration; real(k) is the real batch of critic step k.
    template <class Real>
    step_result step(Real&& real) {
        step_result r;
        for (std::size_t k = 0; k < std::max<std::size_t>(s_.n_critic, 1); ++k) critic_step(real(k), r);
        generator_step(r);
        return r;
    }

    nn::Sequential& generator() { return g_; }
    int64_t latent_size() const { return latent_; }

private:
    torch::optim::AdamOptions adam(double lr) const {
        return torch::optim::AdamOptions(lr).betas({s_.beta1, s_.beta2}).eps(s_.eps);
    }
    torch::Tensor latent() const { return torch::randn({int64_t(s_.batch), latent_}); }

    void critic_step(const torch::Tensor& real, step_result& r) {
        torch::Tensor fake;
        {
            torch::NoGradGuard no_grad;  // the critic step does not train G: keep no graph for it
            fake = g_->forward(latent());
        }
        d_opt_.zero_grad();
        if (loss_ == loss_kind::non_saturating) {
            // BCE on logits with targets 1 (real) and 0 (fake), one batch-norm batch each.
            auto real_scores = d_->forward(real);
            auto loss_real = torch::binary_cross_entropy_with_logits(real_scores, torch::ones_like(real_scores));
            loss_real.backward();
            auto fake_scores = d_->forward(fake);
            auto loss_fake = torch::binary_cross_entropy_with_logits(fake_scores, torch::zeros_like(fake_scores));
            loss_fake.backward();
            r.critic_loss = loss_real.item<double>() + loss_fake.item<double>();
            r.penalty = 0;
        } else {
            const int64_t b = real.size(0);
            auto scores = d_->forward(torch::cat({real, fake}));
            auto loss = scores.slice(0, b).mean() - scores.slice(0, 0, b).mean();  // E D(fake) - E D(real)
            // WGAN-GP: lambda * mean_i (||grad_x D(x_hat_i)|| - 1)^2 at x_hat = eps real + (1 - eps) fake.
            auto eps = torch::rand({b, 1, 1, 1});
            auto points = (eps * real + (1 - eps) * fake).requires_grad_(true);
            auto point_scores = d_->forward(points);
            auto grad = torch::autograd::grad({point_scores}, {points}, {torch::ones_like(point_scores)},
                                              /*retain_graph=*/true, /*create_graph=*/true)[0];
            auto penalty = s_.lambda * (grad.view({b, -1}).norm(2, 1) - 1).pow(2).mean();
            auto total = loss + penalty;
            total.backward();
            r.critic_loss = total.item<double>();
            r.penalty = penalty.item<double>();
        }
        d_opt_.step();
    }

    void generator_step(step_result& r) {
        g_opt_.zero_grad();
        for (auto& p : d_->parameters()) p.requires_grad_(false);
        auto scores = d_->forward(g_->forward(latent()));
        auto loss = loss_ == loss_kind::non_saturating
                        ? torch::binary_cross_entropy_with_logits(scores, torch::ones_like(scores))
                        : -scores.mean();
        loss.backward();
        for (auto& p : d_->parameters()) p.requires_grad_(true);
        g_opt_.step();
        r.generator_loss = loss.item<double>();
    }

    nn::Sequential g_, d_;
    loss_kind loss_;
    settings s_;
    int64_t latent_;
    torch::optim::Adam g_opt_, d_opt_;
};

// The bench's workload: every critic step sees the same stand-in batch.
class bench_workload final : public workload {
public:
    bench_workload(nn::Sequential g, nn::Sequential d, loss_kind loss, std::vector<int64_t> sample, int64_t latent,
                   const settings& s)
        : gan_(std::move(g), std::move(d), loss, latent, s) {
        // Stand-in "real" images in [-1, 1]: the step's cost does not depend on their content,
        // and a fixed batch keeps data loading out of the measurement (gant's side does the same).
        std::vector<int64_t> shape{int64_t(s.batch)};
        shape.insert(shape.end(), sample.begin(), sample.end());
        real_ = torch::rand(shape) * 2 - 1;
    }

    step_result step() override {
        return gan_.step([this](std::size_t) { return real_; });
    }

private:
    gan_pair gan_;
    torch::Tensor real_;
};

// The trainer: real batches and latent codes come from the caller's memory.
class gan_trainer final : public trainer {
public:
    gan_trainer(nn::Sequential g, nn::Sequential d, loss_kind loss, std::vector<int64_t> sample, int64_t latent,
                const settings& s)
        : gan_(std::move(g), std::move(d), loss, latent, s), sample_(std::move(sample)), batch_(s.batch) {
        sample_size_ = 1;
        for (int64_t v : sample_) sample_size_ *= std::size_t(v);
    }

    step_result step(const float* real, std::size_t batch) override {
        if (batch != batch_)
            throw std::invalid_argument("libtorch trainer: got real batches of " + std::to_string(batch) +
                                        " images but was built for batches of " + std::to_string(batch_));
        std::vector<int64_t> shape{int64_t(batch)};
        shape.insert(shape.end(), sample_.begin(), sample_.end());
        // A view of the caller's images, no copy: the step only reads them (nothing writes to
        // network inputs), and the graph that keeps them is gone when step() returns.
        const step_result r = gan_.step([&](std::size_t k) {
            return torch::from_blob(const_cast<float*>(real) + k * batch * sample_size_, shape);
        });
        ++iterations_;
        return r;
    }

    void generate(const float* z, std::size_t n, float* out) override {
        if (n == 0) return;
        torch::NoGradGuard no_grad;
        nn::Sequential& g = gan_.generator();
        // gant's generate() runs G in training mode with update_statistics = false: batch norm
        // normalises with this batch's statistics and leaves the running ones alone. libtorch's
        // training mode always updates them, so they are saved and put back around the pass.
        std::vector<torch::Tensor> buffers = g->buffers(), saved;
        for (const auto& b : buffers) saved.push_back(b.clone());
        const auto codes = torch::from_blob(const_cast<float*>(z), {int64_t(n), gan_.latent_size()});
        const torch::Tensor images = g->forward(codes).contiguous();
        for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
        std::memcpy(out, images.data_ptr<float>(), n * sample_size_ * sizeof(float));
    }

    std::size_t iterations() const override { return iterations_; }
    std::size_t latent_size() const override { return std::size_t(gan_.latent_size()); }
    std::size_t sample_size() const override { return sample_size_; }

private:
    gan_pair gan_;
    std::vector<int64_t> sample_;
    std::size_t batch_, sample_size_ = 0, iterations_ = 0;
};

}  // namespace

namespace {

// The networks, loss and sample shape of a named workload, built after torch::manual_seed.
struct gan_definition {
    nn::Sequential generator, critic;
    loss_kind loss;
    std::vector<int64_t> sample;
    int64_t latent = 100;
};

gan_definition define(const std::string& name, const settings& s, const char* who) {
    torch::manual_seed(s.seed);
    if (name == "dcgan28") return {generator28(1, 100), critic28(1, false), loss_kind::non_saturating, {1, 28, 28}};
    if (name == "wgan_gp28") return {generator28(1, 100), critic28(1, true), loss_kind::wasserstein_gp, {1, 28, 28}};
    if (name == "dcgan64") return {generator64(3, 100), critic64(3), loss_kind::non_saturating, {3, 64, 64}};
    throw std::invalid_argument(std::string(who) + ": no libtorch peer for workload '" + name +
                                "' (dcgan28, wgan_gp28 or dcgan64)");
}

}  // namespace

std::unique_ptr<workload> make(const std::string& name, const settings& s) {
    gan_definition d = define(name, s, "libtorch peer");
    return std::make_unique<bench_workload>(std::move(d.generator), std::move(d.critic), d.loss, std::move(d.sample),
                                            d.latent, s);
}

std::unique_ptr<trainer> make_trainer(const std::string& name, const settings& s) {
    gan_definition d = define(name, s, "libtorch trainer");
    return std::make_unique<gan_trainer>(std::move(d.generator), std::move(d.critic), d.loss, std::move(d.sample),
                                         d.latent, s);
}

void set_threads(int n) {
    torch::set_num_threads(n);
    openblas_set_num_threads(1);
}

std::string describe() {
    return std::string("libtorch ") + TORCH_VERSION + " (intra-op: " + (at::hasOpenMP() ? "OpenMP" : "native") +
           ", oneDNN: " + (at::hasMKLDNN() ? "yes" : "no") + ")";
}

}  // namespace gant_bench::peer
