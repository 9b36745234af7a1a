#pragma once
// growth::progressive: PGGAN's schedule (Karras et al. 2017, section 3; train.py
// TrainingSchedule). The networks start at 4x4 and double their resolution level by level up to
// the topology's final one. Counted in real images shown to the critic:
//
//   level 0 (4x4):  stabilise for `stabilise_images`
//   level l >= 1:   fade in for `fade_images` (alpha 0 -> 1 linearly), then stabilise
//   last level:     stabilise for the rest of the run
//
// During a fade-in the new block's output is blended with the previous level's, in both
// networks (topology/progressive.hpp), and real images are blended the same way:
//   x_real <- alpha * x_r + (1 - alpha) * upsample2(avgpool2(x_r)),   x_r = x at the level's size,
// so the critic never sees a statistical difference between real and generated images that is
// only the blend. Both optimisers' states are reset when a new level starts (the paper's
// practice: the old moments belong to a network that no longer exists).
//
// Networks keep the final resolution as their input/output shape at every level: the generator
// upsamples its current-level image to the final size by repetition and the critic averages its
// input back down, which is exact (avgpool of a nearest upsample is the identity). So one
// compile-time sample shape serves the whole run, and real batches are transformed in place.
//
// The schedule's lengths are run-time values (p); the state (images, level) is part of the
// training state that checkpoints save (train/gan_state.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "gant/core/shape.hpp"
#include "gant/core/tensor.hpp"
#include "gant/growth/rescale.hpp"
#include "gant/train/hyper_parameters.hpp"

namespace gant::growth {

/// Where a run stands: the resolution level (0 = 4x4), the blend weight of the newest block,
/// and whether it is fading in.
struct phase_point {
    std::size_t level = 0;
    double alpha = 1.0;
    bool fading = false;
};

struct progressive {
    static constexpr const char* name = "progressive";
    static constexpr bool grows = true;

    /// Phase lengths in real images. The paper's final configurations use 800k + 800k; a CPU run
    /// on Fashion-MNIST uses far fewer (the pggan example's --phase-images).
    struct params {
        std::uint64_t stabilise_images = 800000;
        std::uint64_t fade_images = 800000;
    };
    params p{};

    /// PGGAN's training settings (loss.py / config.py): one critic step per generator step,
    /// Adam lr 1e-3 for both, betas (0, 0.99), and an EMA of the generator (decay 0.999) that
    /// samples are drawn from. Applied after the loss's and the Lipschitz policy's defaults.
    static void defaults(hyper_parameters& h) {
        h.n_critic = 1;
        h.lr_generator = h.lr_critic = 1e-3;
        h.beta1 = 0.0;
        h.beta2 = 0.99;
        h.ema = true;
        h.ema_decay = 0.999;
    }

    // ---- state (checkpointed) ---------------------------------------------------------------
    std::uint64_t images = 0;  // real images shown to the critic so far
    std::uint64_t level = 0;   // the level the networks trained at in the last step

    /// The schedule at a given image count, for a topology with `levels` levels.
    phase_point at(std::uint64_t shown, std::size_t levels) const {
        if (levels == 0) throw std::invalid_argument("gant: growth::progressive needs at least one level");
        const std::size_t last = levels - 1;
        if (shown < p.stabilise_images || last == 0) return {0, 1.0, false};
        const std::uint64_t rest = shown - p.stabilise_images;
        const std::uint64_t per_level = p.fade_images + p.stabilise_images;
        if (per_level == 0) return {last, 1.0, false};
        const std::uint64_t l = 1 + rest / per_level;
        if (l > last) return {last, 1.0, false};
        const std::uint64_t within = rest % per_level;
        if (within < p.fade_images) return {std::size_t(l), double(within) / double(p.fade_images), true};
        return {std::size_t(l), 1.0, false};
    }
};

/// Sets (level, alpha) on every top-level layer of `net` that grows (the progressive
/// topology's networks); a no-op for other networks.
template <class Net>
void set_phase(Net& net, const phase_point& pt) {
    if constexpr (requires { Net::depth; }) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (
                [&] {
                    auto& layer = net.template layer<I>();
                    if constexpr (requires { layer.set_growth(std::size_t{}, 0.0); }) layer.set_growth(pt.level, pt.alpha);
                }(),
                ...);
        }(std::make_index_sequence<Net::depth>{});
    }
}

/// Real images at the final size R x R become images of level `pt.level` (resolution r), shown at
/// R x R by repetition, blended with the previous level during a fade-in. In place.
template <class Image, class T>
void fade_real_images(tensor<T>& batch, const phase_point& pt, std::size_t levels, tensor<T>& scratch_a,
                      tensor<T>& scratch_b) {
    using dims = image_dims<Image>;
    constexpr std::size_t C = dims::channels, R = dims::height;
    static_assert(dims::height == dims::width, "gant: progressive growing needs square images");
    const std::size_t r = std::size_t(4) << pt.level;
    const std::size_t final_r = std::size_t(4) << (levels - 1);
    if (final_r != R) throw std::invalid_argument("gant: progressive growing: the final level's size is not the image size");
    if (r == R && !pt.fading) return;
    const std::size_t f = R / r;
    box_downsample(batch, C, R, R, f, scratch_a);           // x_r (r x r)
    if (pt.fading) {
        box_downsample(scratch_a, C, r, r, 2, scratch_b);   // avgpool2(x_r)
        const tensor<T>& low = scratch_b;
        // blend at r x r: alpha x_r + (1 - alpha) upsample2(avgpool2(x_r))
        const T a = T(pt.alpha), b = T(1 - pt.alpha);
        auto* x = scratch_a.data();
        const auto* lo = low.data();
        const std::size_t n = batch.shape(0), half = r / 2;
        for (std::size_t plane = 0; plane < n * C; ++plane)
            for (std::size_t i = 0; i < r; ++i)
                for (std::size_t j = 0; j < r; ++j) {
                    T& v = x[(plane * r + i) * r + j];
                    v = a * v + b * lo[(plane * half + i / 2) * half + j / 2];
                }
    }
    nearest_upsample(scratch_a, C, r, r, f, batch);
}

}  // namespace gant::growth
