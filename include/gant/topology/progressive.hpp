#pragma once
// PGGAN's networks (Karras et al. 2017, "Progressive Growing of GANs"; networks.py G_paper /
// D_paper), for growth::progressive.
//
//   topology::progressive<image<C, R, R>, shape<Z>, widths<n0, n1, ..., nL>>
//
// One level per resolution 4x4, 8x8, ..., R x R (R = 4 * 2^L), feature maps n_l at level l.
// Every weight layer is equalized (runtime He scaling; layers/equalized.hpp), LeakyReLU 0.2 in
// both networks, no tanh (outputs are linear; data in [-1, 1]).
//
//   generator, level 0:  pixel_norm(z) -> dense(Z -> 16 n0, gain sqrt(2)/4) -> 4x4 -> lrelu -> pn
//                        -> conv3x3 -> lrelu -> pn
//              level l:  upsample2x -> conv3x3 (n_{l-1} -> n_l) -> lrelu -> pn -> conv3x3 -> lrelu -> pn
//              to_rgb_l: conv1x1 (n_l -> C), gain 1
//   critic,    from_rgb_l: conv1x1 (C -> n_l) -> lrelu
//              level l:  conv3x3 (n_l -> n_l) -> lrelu -> conv3x3 (n_l -> n_{l-1}) -> lrelu -> avgpool2x
//              level 0:  minibatch_stddev (groups of 4) -> conv3x3 (n0 + 1 -> n0) -> lrelu
//                        -> dense(16 n0 -> n0) -> lrelu -> dense(n0 -> 1, gain 1)
//
// The whole pyramid exists from the start; a run-time (level, alpha) set by the growth schedule
// picks the path. At level l during a fade-in (alpha < 1):
//   G(z) = alpha to_rgb_l(h_l) + (1 - alpha) upsample2x(to_rgb_{l-1}(h_{l-1}))
//   D(x) = D_{<l}( alpha block_l(from_rgb_l(x_l)) + (1 - alpha) from_rgb_{l-1}(avgpool2x(x_l)) )
// Both networks keep the final resolution at their boundary: G's level-l image is repeated up to
// R x R, D averages its R x R input down to the level's size x_l. That is exact (the average of
// a repeated image is the image), keeps one compile-time sample shape for the whole run, and
// makes the topology usable without growth: the default level is the last, alpha 1.
//
// Every path is linear outside the blocks, so the tangent and paired-reverse rules are the
// blocks' own plus the same blends and resamplings applied to tangents and adjoints: the exact
// gradient penalty of PGGAN's WGAN-GP loss works through both networks (minibatch stddev
// included, which couples the samples of a group the way PGGAN's penalty does).
//
// Each block and to_rgb / from_rgb network reads its input where it is (forward_borrowed): the
// layer's own x, another block's output or a resampled or blended batch of this layer's, none of
// which changes before the next forward pass, so no level keeps a second copy of its input.
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "gant/growth/rescale.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/dense.hpp"
#include "gant/layers/equalized.hpp"
#include "gant/layers/minibatch_stddev.hpp"
#include "gant/layers/pixel_norm.hpp"
#include "gant/layers/pointwise.hpp"
#include "gant/layers/resample.hpp"
#include "gant/layers/reshape.hpp"
#include "gant/nn/sequential.hpp"
#include "gant/topology/topology.hpp"

namespace gant::topology {

/// Feature maps per level, from 4x4 up.
template <std::size_t... N>
struct widths {};

namespace detail {

template <std::size_t C, std::size_t Z, std::size_t... N>
struct progressive_spec {
    static constexpr std::size_t levels = sizeof...(N);
    static constexpr std::array<std::size_t, levels> nf{N...};
    static constexpr std::size_t channels = C, latent = Z;
    template <std::size_t L>
    static constexpr std::size_t res = std::size_t(4) << L;
    static constexpr std::size_t final_res = res<levels - 1>;
};

// ---- the blocks of one level, as descriptors with their input shapes --------------------------

template <class S, std::size_t L, bool First = (L == 0)>
struct generator_level {
    static constexpr std::size_t in_c = S::nf[L - 1], c = S::nf[L], r = S::template res<L>;
    using input = shape<in_c, r / 2, r / 2>;
    using block = sequential<upsample2x, equalized<conv2d<in_c, c, 3, 1, 1>>, leaky_relu<>, pixel_norm,
                             equalized<conv2d<c, c, 3, 1, 1>>, leaky_relu<>, pixel_norm>;
};
template <class S, std::size_t L>
struct generator_level<S, L, true> {
    static constexpr std::size_t c = S::nf[0];
    using input = shape<S::latent>;
    using block = sequential<pixel_norm, equalized<dense<S::latent, 16 * c>, gain::sqrt_of<1, 8>>,
                             reshape<shape<c, 4, 4>>, leaky_relu<>, pixel_norm, equalized<conv2d<c, c, 3, 1, 1>>,
                             leaky_relu<>, pixel_norm>;
};

template <class S, std::size_t L, bool First = (L == 0)>
struct critic_level {
    static constexpr std::size_t c = S::nf[L], out_c = S::nf[L - 1], r = S::template res<L>;
    using input = shape<c, r, r>;
    using block = sequential<equalized<conv2d<c, c, 3, 1, 1>>, leaky_relu<>, equalized<conv2d<c, out_c, 3, 1, 1>>,
                             leaky_relu<>, avg_pool2x>;
};
template <class S, std::size_t L>
struct critic_level<S, L, true> {
    static constexpr std::size_t c = S::nf[0];
    using input = shape<c, 4, 4>;
    using block = sequential<minibatch_stddev<4>, equalized<conv2d<c + 1, c, 3, 1, 1>>, leaky_relu<>, flatten,
                             equalized<dense<16 * c, c>>, leaky_relu<>, equalized<dense<c, 1>, gain::linear>>;
};

template <class S, class T, class B>
struct progressive_parts {
    template <std::size_t L>
    using g_block = typename generator_level<S, L>::block::template impl<typename generator_level<S, L>::input, T, B>;
    template <std::size_t L>
    using to_rgb = network<shape<S::nf[L], S::template res<L>, S::template res<L>>, T, B,
                           equalized<conv2d<S::nf[L], S::channels, 1, 1, 0>, gain::linear>>;
    template <std::size_t L>
    using d_block = typename critic_level<S, L>::block::template impl<typename critic_level<S, L>::input, T, B>;
    template <std::size_t L>
    using from_rgb = network<shape<S::channels, S::template res<L>, S::template res<L>>, T, B,
                             equalized<conv2d<S::channels, S::nf[L], 1, 1, 0>>, leaky_relu<>>;
};

template <template <std::size_t> class F, class Seq>
struct tuple_over;
template <template <std::size_t> class F, std::size_t... L>
struct tuple_over<F, std::index_sequence<L...>> {
    using type = std::tuple<F<L>...>;
};

/// Calls f(integral_constant<L>) for the one L == level.
template <std::size_t N, class F>
void with_level(std::size_t level, F&& f) {
    [&]<std::size_t... L>(std::index_sequence<L...>) {
        ((level == L ? (f(std::integral_constant<std::size_t, L>{}), 0) : 0), ...);
    }(std::make_index_sequence<N>{});
}

template <class Tuple>
constexpr bool any_couples() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (false || ... || std::tuple_element_t<I, Tuple>::couples_samples);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}
template <class Tuple>
constexpr bool any_batch_statistics() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (false || ... || std::tuple_element_t<I, Tuple>::uses_batch_statistics);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}
template <class Tuple>
constexpr bool all_second_order() {
    return []<std::size_t... I>(std::index_sequence<I...>) {
        return (true && ... && std::tuple_element_t<I, Tuple>::second_order);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

/// dst = s * src
template <class T>
void scaled_copy(const tensor<T>& src, T s, tensor<T>& dst) {
    ensure_shape(dst, src.shape(0), src.shape(1));
    for (std::size_t i = 0, n = src.size(); i < n; ++i) dst.data()[i] = s * src.data()[i];
}
/// dst += src
template <class T>
void add_into(tensor<T>& dst, const tensor<T>& src) {
    for (std::size_t i = 0, n = dst.size(); i < n; ++i) dst.data()[i] += src.data()[i];
}

/// The run-time growth state both networks share.
class growth_state {
public:
    std::size_t level() const { return level_; }
    double alpha() const { return alpha_; }

protected:
    explicit growth_state(std::size_t levels) : levels_(levels), level_(levels - 1) {}
    void set(std::size_t level, double alpha) {
        if (level >= levels_)
            throw std::invalid_argument("gant: progressive network: level " + std::to_string(level) +
                                        " does not exist (this network has " + std::to_string(levels_) + " levels)");
        if (!(alpha >= 0.0 && alpha <= 1.0))
            throw std::invalid_argument("gant: progressive network: the fade-in weight alpha must lie in [0, 1]");
        level_ = level;
        alpha_ = alpha;
    }
    bool fading() const { return level_ > 0 && alpha_ < 1.0; }

    std::size_t levels_;
    std::size_t level_;
    double alpha_ = 1.0;
};

/// visit_parameters / visit_buffers of a layer made of named sub-networks: whatever its
/// visit_children walks, in that order (which checkpoints rely on).
template <class Derived>
struct composite_layer {
    template <class F>
    void visit_parameters(F&& f) {
        self().visit_children([&](const std::string&, auto& net) { net.visit_parameters(f); });
    }
    template <class F>
    void visit_buffers(F&& f) {
        self().visit_children([&](const std::string&, auto& net) { net.visit_buffers(f); });
    }

private:
    Derived& self() { return static_cast<Derived&>(*this); }
};

// ---- the generator ---------------------------------------------------------------------------

template <class S, class T, class B>
class progressive_generator_impl : public growth_state,
                                   public composite_layer<progressive_generator_impl<S, T, B>> {
    using parts = progressive_parts<S, T, B>;
    static constexpr std::size_t levels = S::levels, C = S::channels, R = S::final_res;
    using blocks_t = typename tuple_over<parts::template g_block, std::make_index_sequence<levels>>::type;
    using rgbs_t = typename tuple_over<parts::template to_rgb, std::make_index_sequence<levels>>::type;

public:
    using scalar = T;
    using input_shape = shape<S::latent>;
    using output_shape = shape<C, R, R>;
    static constexpr bool couples_samples = any_couples<blocks_t>() || any_couples<rgbs_t>();
    static constexpr bool uses_batch_statistics = any_batch_statistics<blocks_t>() || any_batch_statistics<rgbs_t>();
    static constexpr bool second_order = all_second_order<blocks_t>() && all_second_order<rgbs_t>();
    static constexpr bool composite = true;

    progressive_generator_impl() : growth_state(levels) {}

    /// The resolution level (0 = 4x4) and the newest block's blend weight.
    void set_growth(std::size_t level, double alpha) { set(level, alpha); }

    void forward(const tensor<T>& z, tensor<T>& y, const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            forward_blocks<l>(z, ctx);
            const tensor<T>& img = std::get<l>(rgbs_).forward_borrowed(std::get<l>(blocks_).output(), ctx);
            const tensor<T>* out = &img;
            if constexpr (l > 0) {
                if (fading()) {
                    const tensor<T>& old =
                        std::get<l - 1>(rgbs_).forward_borrowed(std::get<l - 1>(blocks_).output(), ctx);
                    growth::nearest_upsample(old, C, r / 2, r / 2, 2, mix_);
                    growth::blend_into(mix_, T(1 - alpha_), img, T(alpha_));
                    out = &mix_;
                }
            }
            growth::nearest_upsample(*out, C, r, r, R / r, y);
        });
    }

    void backward(const tensor<T>&, const tensor<T>&, const tensor<T>& dy, tensor<T>* dz, bool accumulate,
                  const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            const bool fade = fading();
            growth::nearest_upsample_adjoint(dy, C, r, r, R / r, dmix_);
            scaled_copy(dmix_, T(fade ? alpha_ : 1.0), drgb_);
            std::get<l>(rgbs_).backward(drgb_, &dh_[l], accumulate, ctx);
            if constexpr (l > 0) {
                if (fade) {
                    growth::nearest_upsample_adjoint(dmix_, C, r / 2, r / 2, 2, drgb_, T(1 - alpha_));
                    std::get<l - 1>(rgbs_).backward(drgb_, &dextra_, accumulate, ctx);
                }
            }
            backward_blocks<l, l>(dz, accumulate, fade, ctx);
        });
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& zdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            tangent_blocks<l>(zdot, ctx);
            const tensor<T>& img = std::get<l>(rgbs_).forward_tangent(std::get<l>(blocks_).tangent_output(), ctx);
            const tensor<T>* out = &img;
            if constexpr (l > 0) {
                if (fading()) {
                    const tensor<T>& old =
                        std::get<l - 1>(rgbs_).forward_tangent(std::get<l - 1>(blocks_).tangent_output(), ctx);
                    growth::nearest_upsample(old, C, r / 2, r / 2, 2, tmix_);
                    growth::blend_into(tmix_, T(1 - alpha_), img, T(alpha_));
                    out = &tmix_;
                }
            }
            growth::nearest_upsample(*out, C, r, r, R / r, ydot);
        });
    }

    void backward_paired(const tensor<T>&, const tensor<T>&, const tensor<T>&, const tensor<T>&, const tensor<T>& ybar,
                         const tensor<T>& ydotbar, tensor<T>* zbar, tensor<T>* zdotbar, const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            const bool fade = fading();
            const T a = T(fade ? alpha_ : 1.0);
            growth::nearest_upsample_adjoint(ybar, C, r, r, R / r, dmix_);
            growth::nearest_upsample_adjoint(ydotbar, C, r, r, R / r, tmix_);
            scaled_copy(dmix_, a, drgb_);
            scaled_copy(tmix_, a, trgb_);
            std::get<l>(rgbs_).backward_paired(drgb_, trgb_, &dh_[l], &th_[l], ctx);
            if constexpr (l > 0) {
                if (fade) {
                    growth::nearest_upsample_adjoint(dmix_, C, r / 2, r / 2, 2, drgb_, T(1 - alpha_));
                    growth::nearest_upsample_adjoint(tmix_, C, r / 2, r / 2, 2, trgb_, T(1 - alpha_));
                    std::get<l - 1>(rgbs_).backward_paired(drgb_, trgb_, &dextra_, &textra_, ctx);
                }
            }
            paired_blocks<l, l>(zbar, zdotbar, fade, ctx);
        });
    }

    /// The sub-networks with stable names, level by level (checkpoints name records by them).
    template <class F>
    void visit_children(F&& f) {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            ((f("block" + std::to_string(L), std::get<L>(blocks_)), f("to_rgb" + std::to_string(L), std::get<L>(rgbs_))),
             ...);
        }(std::make_index_sequence<levels>{});
    }

private:
    template <std::size_t L>
    void forward_blocks(const tensor<T>& z, const pass_context& ctx) {
        if constexpr (L == 0)
            std::get<0>(blocks_).forward_borrowed(z, ctx);
        else {
            forward_blocks<L - 1>(z, ctx);
            std::get<L>(blocks_).forward_borrowed(std::get<L - 1>(blocks_).output(), ctx);
        }
    }
    template <std::size_t L>
    void tangent_blocks(const tensor<T>& zdot, const pass_context& ctx) {
        if constexpr (L == 0)
            std::get<0>(blocks_).forward_tangent(zdot, ctx);
        else {
            tangent_blocks<L - 1>(zdot, ctx);
            std::get<L>(blocks_).forward_tangent(std::get<L - 1>(blocks_).tangent_output(), ctx);
        }
    }
    /// Blocks K, K-1, ..., 0 in reverse; dh_[K] holds the adjoint of block K's output. The old
    /// to_rgb's input adjoint (dextra_) joins at level Top - 1 during a fade-in.
    template <std::size_t K, std::size_t Top>
    void backward_blocks(tensor<T>* dz, bool accumulate, bool fade, const pass_context& ctx) {
        if constexpr (K == 0) {
            std::get<0>(blocks_).backward(dh_[0], dz, accumulate, ctx);
        } else {
            std::get<K>(blocks_).backward(dh_[K], &dh_[K - 1], accumulate, ctx);
            if (K == Top && fade) add_into(dh_[K - 1], dextra_);
            backward_blocks<K - 1, Top>(dz, accumulate, fade, ctx);
        }
    }
    template <std::size_t K, std::size_t Top>
    void paired_blocks(tensor<T>* zbar, tensor<T>* zdotbar, bool fade, const pass_context& ctx) {
        if constexpr (K == 0) {
            std::get<0>(blocks_).backward_paired(dh_[0], th_[0], zbar, zdotbar, ctx);
        } else {
            std::get<K>(blocks_).backward_paired(dh_[K], th_[K], &dh_[K - 1], &th_[K - 1], ctx);
            if (K == Top && fade) {
                add_into(dh_[K - 1], dextra_);
                add_into(th_[K - 1], textra_);
            }
            paired_blocks<K - 1, Top>(zbar, zdotbar, fade, ctx);
        }
    }

    blocks_t blocks_{};
    rgbs_t rgbs_{};
    std::array<tensor<T>, levels> dh_{}, th_{};  // adjoints (and tangent adjoints) of block outputs
    tensor<T> mix_, tmix_, dmix_, drgb_, trgb_, dextra_, textra_;
};

// ---- the critic ------------------------------------------------------------------------------

template <class S, class T, class B>
class progressive_critic_impl : public growth_state,
                                public composite_layer<progressive_critic_impl<S, T, B>> {
    using parts = progressive_parts<S, T, B>;
    static constexpr std::size_t levels = S::levels, C = S::channels, R = S::final_res;
    using blocks_t = typename tuple_over<parts::template d_block, std::make_index_sequence<levels>>::type;
    using rgbs_t = typename tuple_over<parts::template from_rgb, std::make_index_sequence<levels>>::type;

public:
    using scalar = T;
    using input_shape = shape<C, R, R>;
    using output_shape = shape<1>;
    static constexpr bool couples_samples = any_couples<blocks_t>() || any_couples<rgbs_t>();
    static constexpr bool uses_batch_statistics = any_batch_statistics<blocks_t>() || any_batch_statistics<rgbs_t>();
    static constexpr bool second_order = all_second_order<blocks_t>() && all_second_order<rgbs_t>();
    static constexpr bool composite = true;

    progressive_critic_impl() : growth_state(levels) {}

    void set_growth(std::size_t level, double alpha) { set(level, alpha); }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            growth::box_downsample(x, C, R, R, R / r, xr_);
            const tensor<T>* h = &std::get<l>(rgbs_).forward_borrowed(xr_, ctx);
            if constexpr (l > 0) {
                h = &std::get<l>(blocks_).forward_borrowed(*h, ctx);
                if (fading()) {
                    growth::box_downsample(xr_, C, r, r, 2, xo_);
                    const tensor<T>& old = std::get<l - 1>(rgbs_).forward_borrowed(xo_, ctx);
                    scaled_copy(*h, T(alpha_), mix_);
                    growth::blend_into(mix_, T(1), old, T(1 - alpha_));
                    h = &mix_;
                }
                h = &forward_blocks<l - 1>(*h, ctx);
            } else {
                h = &std::get<0>(blocks_).forward_borrowed(*h, ctx);
            }
            ensure_shape(y, x.shape(0), 1);
            std::copy(h->begin(), h->end(), y.begin());
        });
    }

    void backward(const tensor<T>&, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            const bool fade = fading();
            if constexpr (l > 0) {
                backward_blocks<0, l - 1>(dy, accumulate, ctx);  // -> dg_[l - 1]: adjoint of the mix
                scaled_copy(dg_[l - 1], T(fade ? alpha_ : 1.0), dnew_);
                std::get<l>(blocks_).backward(dnew_, &dh_, accumulate, ctx);
            } else {
                std::get<0>(blocks_).backward(dy, &dh_, accumulate, ctx);
            }
            std::get<l>(rgbs_).backward(dh_, &dxr_, accumulate, ctx);
            if constexpr (l > 0) {
                if (fade) {
                    scaled_copy(dg_[l - 1], T(1 - alpha_), dnew_);
                    std::get<l - 1>(rgbs_).backward(dnew_, &dxo_, accumulate, ctx);
                    growth::box_downsample_adjoint(dxo_, C, r, r, 2, dtmp_);
                    add_into(dxr_, dtmp_);
                }
            }
            if (dx) growth::box_downsample_adjoint(dxr_, C, R, R, R / r, *dx);
        });
    }

    void forward_tangent(const tensor<T>&, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            growth::box_downsample(xdot, C, R, R, R / r, txr_);
            const tensor<T>* h = &std::get<l>(rgbs_).forward_tangent(txr_, ctx);
            if constexpr (l > 0) {
                h = &std::get<l>(blocks_).forward_tangent(*h, ctx);
                if (fading()) {
                    growth::box_downsample(txr_, C, r, r, 2, txo_);
                    const tensor<T>& old = std::get<l - 1>(rgbs_).forward_tangent(txo_, ctx);
                    scaled_copy(*h, T(alpha_), tmix_);
                    growth::blend_into(tmix_, T(1), old, T(1 - alpha_));
                    h = &tmix_;
                }
                h = &tangent_blocks<l - 1>(*h, ctx);
            } else {
                h = &std::get<0>(blocks_).forward_tangent(*h, ctx);
            }
            ensure_shape(ydot, xdot.shape(0), 1);
            std::copy(h->begin(), h->end(), ydot.begin());
        });
    }

    void backward_paired(const tensor<T>&, const tensor<T>&, const tensor<T>&, const tensor<T>&, const tensor<T>& ybar,
                         const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar, const pass_context& ctx) {
        with_level<levels>(level_, [&](auto lc) {
            constexpr std::size_t l = decltype(lc)::value, r = S::template res<l>;
            const bool fade = fading();
            const T a = T(fade ? alpha_ : 1.0);
            if constexpr (l > 0) {
                paired_blocks<0, l - 1>(ybar, ydotbar, ctx);  // -> dg_[l - 1], tg_[l - 1]
                scaled_copy(dg_[l - 1], a, dnew_);
                scaled_copy(tg_[l - 1], a, tnew_);
                std::get<l>(blocks_).backward_paired(dnew_, tnew_, &dh_, &th_, ctx);
            } else {
                std::get<0>(blocks_).backward_paired(ybar, ydotbar, &dh_, &th_, ctx);
            }
            std::get<l>(rgbs_).backward_paired(dh_, th_, &dxr_, &txr_bar_, ctx);
            if constexpr (l > 0) {
                if (fade) {
                    scaled_copy(dg_[l - 1], T(1 - alpha_), dnew_);
                    scaled_copy(tg_[l - 1], T(1 - alpha_), tnew_);
                    std::get<l - 1>(rgbs_).backward_paired(dnew_, tnew_, &dxo_, &txo_bar_, ctx);
                    growth::box_downsample_adjoint(dxo_, C, r, r, 2, dtmp_);
                    add_into(dxr_, dtmp_);
                    growth::box_downsample_adjoint(txo_bar_, C, r, r, 2, dtmp_);
                    add_into(txr_bar_, dtmp_);
                }
            }
            if (xbar) growth::box_downsample_adjoint(dxr_, C, R, R, R / r, *xbar);
            if (xdotbar) growth::box_downsample_adjoint(txr_bar_, C, R, R, R / r, *xdotbar);
        });
    }

    template <class F>
    void visit_children(F&& f) {
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            ((f("from_rgb" + std::to_string(L), std::get<L>(rgbs_)), f("block" + std::to_string(L), std::get<L>(blocks_))),
             ...);
        }(std::make_index_sequence<levels>{});
    }

private:
    /// Blocks K, K-1, ..., 0 forward from h (block K's input); returns the score.
    template <std::size_t K>
    const tensor<T>& forward_blocks(const tensor<T>& h, const pass_context& ctx) {
        const tensor<T>& out = std::get<K>(blocks_).forward_borrowed(h, ctx);
        if constexpr (K == 0)
            return out;
        else
            return forward_blocks<K - 1>(out, ctx);
    }
    template <std::size_t K>
    const tensor<T>& tangent_blocks(const tensor<T>& hdot, const pass_context& ctx) {
        const tensor<T>& out = std::get<K>(blocks_).forward_tangent(hdot, ctx);
        if constexpr (K == 0)
            return out;
        else
            return tangent_blocks<K - 1>(out, ctx);
    }
    /// Reverse through blocks K = 0, 1, ..., Top: dg_[K] receives the adjoint of block K's input.
    template <std::size_t K, std::size_t Top>
    void backward_blocks(const tensor<T>& dy, bool accumulate, const pass_context& ctx) {
        std::get<K>(blocks_).backward(K == 0 ? dy : dg_[K - 1], &dg_[K], accumulate, ctx);
        if constexpr (K < Top) backward_blocks<K + 1, Top>(dy, accumulate, ctx);
    }
    template <std::size_t K, std::size_t Top>
    void paired_blocks(const tensor<T>& ybar, const tensor<T>& ydotbar, const pass_context& ctx) {
        std::get<K>(blocks_).backward_paired(K == 0 ? ybar : dg_[K - 1], K == 0 ? ydotbar : tg_[K - 1], &dg_[K], &tg_[K],
                                             ctx);
        if constexpr (K < Top) paired_blocks<K + 1, Top>(ybar, ydotbar, ctx);
    }

    blocks_t blocks_{};
    rgbs_t rgbs_{};
    std::array<tensor<T>, levels> dg_{}, tg_{};  // adjoints of block inputs (and of their tangents)
    tensor<T> xr_, xo_, mix_, txr_, txo_, tmix_, dh_, th_, dnew_, tnew_, dxr_, dxo_, txr_bar_, txo_bar_, dtmp_;
};

template <class S>
struct progressive_generator {
    static constexpr const char* name = "progressive_generator";
    using expects = expects_features<S::latent>;
    template <class In>
    static constexpr bool accepts = In::size == S::latent;
    template <class In>
    using output_shape = shape<S::channels, S::final_res, S::final_res>;
    template <class In, class T, class B>
    using impl = progressive_generator_impl<S, T, B>;
};

template <class S>
struct progressive_critic {
    static constexpr const char* name = "progressive_critic";
    using expects = shape<S::channels, S::final_res, S::final_res>;
    template <class In>
    static constexpr bool accepts = std::is_same_v<In, shape<S::channels, S::final_res, S::final_res>>;
    template <class In>
    using output_shape = shape<1>;
    template <class In, class T, class B>
    using impl = progressive_critic_impl<S, T, B>;
};

}  // namespace detail

template <class Image, class Latent, class Widths = widths<128, 128, 64, 32>>
struct progressive {
    static_assert(dependent_false_v<Image>,
                  "gant: topology::progressive is defined for square images image<C, R, R> with R = 4 * 2^L, a "
                  "latent shape<Z> and widths<n0, ..., nL> (one width per level)");
};

template <std::size_t C, std::size_t R, std::size_t Z, std::size_t... N>
struct progressive<image<C, R, R>, shape<Z>, widths<N...>> {
    static_assert(sizeof...(N) >= 1, "gant: topology::progressive needs at least one level width");
    static_assert(R == (std::size_t(4) << (sizeof...(N) - 1)),
                  "gant: topology::progressive: the image side must be 4 * 2^L for widths<n0, ..., nL> (4x4 for one "
                  "width, 8x8 for two, ..., 32x32 for four)");
    using spec = detail::progressive_spec<C, Z, N...>;
    static constexpr std::size_t levels = sizeof...(N);
    using latent_shape = shape<Z>;
    using sample_shape = image<C, R, R>;
    using initializer = init::equalized;
    using generator = sequential<detail::progressive_generator<spec>>;
    using critic = sequential<detail::progressive_critic<spec>>;
};

}  // namespace gant::topology
