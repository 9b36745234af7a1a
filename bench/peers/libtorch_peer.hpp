#pragma once
// The libtorch side of gant_bench_vs_libtorch: the same three GANs written with the PyTorch C++
// API (layer sizes, DCGAN N(0, 0.02) initialisation, Adam settings, batch, thread count).
//
// This header deliberately includes no torch header: the bench's gant translation unit stays as
// light to compile as the other benches, and only libtorch_peer.cpp pays for <torch/...>.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "gant/train/hyper_parameters.hpp"

namespace gant_bench::peer {

/// The magnitudes both sides train with, copied from gant's gan<...>::default_hyper_parameters()
/// by the caller, so the two sides cannot drift apart.
struct settings {
    std::size_t batch = 64;
    std::size_t n_critic = 1;
    double lr_generator = 2e-4, lr_critic = 2e-4;
    double beta1 = 0.5, beta2 = 0.999, eps = 1e-8;
    double lambda = 10.0;  // gradient penalty weight (wgan_gp28 only)
    std::uint64_t seed = 0;
};

/// The settings of a gant model's hyper-parameters (lambda and seed keep their defaults: the
/// penalty weight lives in the Lipschitz policy, the seed in the caller's options).
inline settings settings_from(const gant::hyper_parameters& h) {
    settings s;
    s.batch = h.batch;
    s.n_critic = h.n_critic;
    s.lr_generator = h.lr_generator;
    s.lr_critic = h.lr_critic;
    s.beta1 = h.beta1;
    s.beta2 = h.beta2;
    s.eps = h.eps;
    return s;
}

/// What one iteration reports, for the bench's correctness gate.
struct step_result {
    double critic_loss = 0;     // last critic step: loss + penalty
    double generator_loss = 0;
    double penalty = 0;         // wgan_gp28: the gradient penalty of the last critic step
};

/// One GAN and its two optimisers; step() runs one generator iteration exactly as gant's
/// gan<...>::train_step does it (n_critic critic steps, then one generator step).
class workload {
public:
    virtual ~workload() = default;
    virtual step_result step() = 0;
};

/// name: "dcgan28", "wgan_gp28" or "dcgan64". Throws std::invalid_argument for another name.
std::unique_ptr<workload> make(const std::string& name, const settings& s);

/// The same GAN trained on the caller's images instead of a fixed stand-in batch: what
/// gant_libtorch_dcgan (libtorch_dcgan_train.cpp) trains on Fashion-MNIST to compare sample
/// quality with gant's dcgan example. Images and latent codes are plain float arrays, so the
/// caller (gant C++20 code) sees no torch type, and both sides can be fed the same codes.
class trainer {
public:
    virtual ~trainer() = default;

    /// One generator iteration, as gant's train_step: `real` holds n_critic consecutive batches
    /// of `batch` images (NCHW, values in [-1, 1]), one fresh batch per critic step as gant draws
    /// them. `batch` must equal settings::batch (the fake batches have that size). The images are
    /// only read during the call.
    virtual step_result step(const float* real, std::size_t batch) = 0;

    /// out[n, sample_size()] = G(z[n, latent_size()]) without changing any weight or statistic.
    /// Batch norm works as in gant's gan<...>::generate (include/gant/gan.hpp): training mode,
    /// i.e. the statistics of this batch of n, with the running statistics left untouched
    /// (gant's update_statistics = false); the running statistics are *not* used.
    virtual void generate(const float* z, std::size_t n, float* out) = 0;

    /// Generator iterations (step calls) so far.
    virtual std::size_t iterations() const = 0;
    virtual std::size_t latent_size() const = 0;
    virtual std::size_t sample_size() const = 0;  // C*H*W of one image
};

/// name: as make() ("dcgan28", "wgan_gp28" or "dcgan64"). Seeds libtorch's generator with
/// s.seed (torch::manual_seed) before building the networks. Throws std::invalid_argument for
/// another name.
std::unique_ptr<trainer> make_trainer(const std::string& name, const settings& s);

/// torch::set_num_threads(n) (ATen's OpenMP intra-op pool) and OpenBLAS pinned to one thread:
/// torch::set_num_threads leaves OpenBLAS's own pool alone, and two pools of n threads each on
/// n cores would oversubscribe them.
void set_threads(int n);

/// A line naming what libtorch was built with (version, parallel backend), for the report.
std::string describe();

}  // namespace gant_bench::peer
