#pragma once
// Self-attention block of SAGAN (Zhang et al. 2018; algorithms.md 7.1). Per sample, with the
// image read as X in R^{C x N} (N = H*W positions) and Cr = max(1, C/8) channels:
//     F = W_f X,  G = W_g X,  H = W_h X                  1x1 convolutions C -> Cr, no bias
//     S = F^T G                                          S_ij = f_i . g_j   (N x N)
//     beta = softmax over i of each column j             attention of position j on position i
//     M = H beta,  O = W_v M                             W_v: 1x1 convolution Cr -> C, no bias
//     Y = gamma O + X                                    gamma a learnable scalar, initially 0
// Choices: the query/key/value widths of algorithms.md 7.1 (C/8 each, an output projection back
// to C; the official TF code uses C/2 for the value path and 2x2 max-pooled keys, heykeetae a
// C-wide value and no output projection), and no biases, as in the official code (a bias on f
// would cancel in the softmax, one on h adds a constant to M that W_v maps to a constant).
// gamma has role::shift so that every initialiser sets it to 0, as the paper does; at that
// point the block is the identity and the projections get zero gradients until gamma moves.
//
// The kernels work on the transposed attention P = beta^T (row j = the distribution of output
// position j over the inputs), so every softmax and every reduction runs along contiguous rows:
//     Z = G^T F (= S^T),  P = row-softmax(Z),  M = H P^T.
// Rules per sample (R(A, B)_j = rows of A * (B_j - sum_i A_ji B_ji): the softmax Jacobian,
// symmetric, applied row by row):
//   reverse   Obar = gamma Ybar,  gamma_bar += <Ybar, O>,  Mbar = W_v^T Obar (the projection),
//             Pbar = Mbar^T H,  Hbar = Mbar P,  Zbar = R(P, Pbar),
//             Fbar = G Zbar,  Gbar = F Zbar^T,  Xbar = Ybar + sum of the projections' adjoints
//   tangent   Fdot = W_f Xdot, ...,  Zdot = Gdot^T F + G^T Fdot,
//             U = Zdot - rowsum(P Zdot) (row-centred),  Pdot = P U,
//             Mdot = Hdot P^T + H Pdot^T,  Ydot = gamma W_v Mdot + Xdot
//   paired    (seeds Ybar, Ydotbar) gamma_bar += <Ybar, O> + <Ydotbar, Odot>,
//             Obar = gamma Ybar, Odotbar = gamma Ydotbar, through W_v to Mbar, Mdotbar;
//             Pbar  = Mbar^T H + Mdotbar^T Hdot,   Pdotbar = Mdotbar^T H,
//             Hbar  = Mbar P + Mdotbar Pdot,       Hdotbar = Mdotbar P,
//             E = Pdotbar - rowsum(P Pdotbar),     Zdotbar = P E,   Pbar += U E,
//             Zbar  = R(P, Pbar),
//             Fbar  = G Zbar + Gdot Zdotbar,       Gbar = F Zbar^T + Fdot Zdotbar^T,
//             Fdotbar = G Zdotbar,                 Gdotbar = F Zdotbar^T,
//             and each projection's own paired reverse gives Xbar, Xdotbar and its weight's
//             gradient (W_f_bar += Fbar X^T + Fdotbar Xdot^T, ...).
//   (U E is the adjoint of Pdot = J(P) Zdot with respect to P; a constant per row that the
//   derivation also gives cancels in R.)
//
// The projections are conv2d layers (or spectral_norm<conv2d> when SpectralNorm is set: SAGAN
// normalises every projection; lipschitz::spectral_norm wraps layers with one weight only, so a
// topology asks for self_attention<C, true> itself). Their parameters and buffers are renamed
// "f.weight", "g.weight", "h.weight", "v.weight" (and "f.u", ... for spectral norm) so one
// layer's records stay distinct in checkpoints. The N x N products run per sample as GEMMs,
// samples split over the thread pool; the attention itself has no parameters, so the split
// never changes a sum's order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "gant/layers/attention_rows.hpp"
#include "gant/layers/conv2d.hpp"
#include "gant/layers/spectral_norm.hpp"
#include "gant/nn/layer.hpp"

namespace gant {

template <class In, std::size_t Channels, bool SpectralNorm, class T, class Backend>
class self_attention_impl {
    using dims = image_dims<In>;
    static constexpr std::size_t reduced = Channels / 8 > 0 ? Channels / 8 : 1;  // Cr
    static constexpr std::size_t positions = dims::pixels;                          // N
    static constexpr std::size_t square = positions * positions;
    static constexpr std::size_t in_size = In::size;                                // C * N
    static constexpr std::size_t narrow = reduced * positions;                      // Cr * N
    using narrow_shape = shape<reduced, dims::height, dims::width>;

    template <class Layer>
    using maybe_normalised = std::conditional_t<SpectralNorm, gant::spectral_norm<Layer>, Layer>;
    using in_projection = typename maybe_normalised<conv2d<Channels, reduced, 1, 1, 0, false>>::template impl<
        In, T, Backend>;
    using out_projection = typename maybe_normalised<conv2d<reduced, Channels, 1, 1, 0, false>>::template impl<
        narrow_shape, T, Backend>;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr bool reads_output = false;  // its passes read x, never y: an activation may overwrite y
    static constexpr std::size_t attention_channels = reduced;

    self_attention_impl() : gamma_("gamma", {1}, role::shift) {
        name(f_, "f");
        name(g_, "g");
        name(h_, "h");
        name(v_, "v");
    }

    in_projection& f() { return f_; }
    in_projection& g() { return g_; }
    in_projection& h() { return h_; }
    out_projection& v() { return v_; }
    parameter<T>& gamma() { return gamma_; }

    /// The attention map of sample i from the last forward: element (j, i') is beta_{i', j},
    /// the weight of input position i' in output position j (rows sum to 1).
    const T* attention(std::size_t i) const { return p_.data() + i * square; }

    void forward(const tensor<T>& x, tensor<T>& y, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for (auto* t : {&fx_, &gx_, &hx_, &m_}) ensure_shape(*t, n, narrow);
        ensure_shape(o_, n, in_size);
        ensure_shape(p_, n, square);
        f_.forward(x, fx_, ctx);
        g_.forward(x, gx_, ctx);
        h_.forward(x, hx_, ctx);
        per_sample(n, ctx, 0, [&](std::size_t s, T*) {
            const T *F = at(fx_, s), *G = at(gx_, s), *H = at(hx_, s);
            T* P = p_.data() + s * square;
            gemm(true, false, positions, positions, reduced, G, F, T(0), P);  // Z = G^T F
            for (std::size_t j = 0; j < positions; ++j) attention_rows::softmax(P + j * positions, positions);
            gemm(false, true, reduced, positions, positions, H, P, T(0), at(m_, s));  // M = H P^T
        });
        v_.forward(m_, o_, ctx);
        const T gm = gamma_.value(0);
        for (std::size_t k = 0, total = x.size(); k < total; ++k) y.data()[k] = gm * o_.data()[k] + x.data()[k];
    }

    void backward(const tensor<T>& x, const tensor<T>&, const tensor<T>& dy, tensor<T>* dx, bool accumulate,
                  const pass_context& ctx) {
        if (!dx && !accumulate) return;
        const std::size_t n = x.shape(0);
        if (accumulate) gamma_.grad(0) += inner_product(dy, o_);
        ensure_shape(obar_, n, in_size);
        scaled(dy, gamma_.value(0), obar_);
        for (auto* t : {&mbar_, &fbar_, &gbar_, &hbar_}) ensure_shape(*t, n, narrow);
        v_.backward(m_, o_, obar_, &mbar_, accumulate, ctx);
        per_sample(n, ctx, square, [&](std::size_t s, T* scratch) {
            const T *F = at(fx_, s), *G = at(gx_, s), *H = at(hx_, s), *P = p_.data() + s * square;
            const T* Mbar = at(mbar_, s);
            T* Zbar = scratch;
            gemm(true, false, positions, positions, reduced, Mbar, H, T(0), Zbar);        // Pbar = Mbar^T H
            gemm(false, false, reduced, positions, positions, Mbar, P, T(0), at(hbar_, s));  // Hbar = Mbar P
            for (std::size_t j = 0; j < positions; ++j)
                attention_rows::softmax_adjoint(P + j * positions, Zbar + j * positions, positions);
            gemm(false, false, reduced, positions, positions, G, Zbar, T(0), at(fbar_, s));  // Fbar = G Zbar
            gemm(false, true, reduced, positions, positions, F, Zbar, T(0), at(gbar_, s));   // Gbar = F Zbar^T
        });
        tensor<T>* part = nullptr;
        if (dx) {
            ensure_shape(part_, n, in_size);
            part = &part_;
            std::copy(dy.begin(), dy.end(), dx->begin());
        }
        project_back(f_, x, fx_, fbar_, part, dx, accumulate, ctx);
        project_back(g_, x, gx_, gbar_, part, dx, accumulate, ctx);
        project_back(h_, x, hx_, hbar_, part, dx, accumulate, ctx);
    }

    void forward_tangent(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, tensor<T>& ydot,
                         const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for (auto* t : {&fd_, &gd_, &hd_, &md_}) ensure_shape(*t, n, narrow);
        ensure_shape(od_, n, in_size);
        ensure_shape(u_, n, square);
        f_.forward_tangent(x, fx_, xdot, fd_, ctx);
        g_.forward_tangent(x, gx_, xdot, gd_, ctx);
        h_.forward_tangent(x, hx_, xdot, hd_, ctx);
        per_sample(n, ctx, square, [&](std::size_t s, T* scratch) {
            const T *F = at(fx_, s), *G = at(gx_, s), *H = at(hx_, s), *P = p_.data() + s * square;
            const T *Fd = at(fd_, s), *Gd = at(gd_, s), *Hd = at(hd_, s);
            T* U = u_.data() + s * square;
            gemm(true, false, positions, positions, reduced, Gd, F, T(0), U);  // Zdot = Gdot^T F + G^T Fdot
            gemm(true, false, positions, positions, reduced, G, Fd, T(1), U);
            T* Pd = scratch;
            for (std::size_t r = 0; r < square; r += positions)
                attention_rows::softmax_tangent(P + r, U + r, Pd + r, positions);
            T* Md = at(md_, s);
            gemm(false, true, reduced, positions, positions, Hd, P, T(0), Md);  // Mdot = Hdot P^T + H Pdot^T
            gemm(false, true, reduced, positions, positions, H, Pd, T(1), Md);
        });
        v_.forward_tangent(m_, o_, md_, od_, ctx);
        const T gm = gamma_.value(0);
        for (std::size_t k = 0, total = xdot.size(); k < total; ++k)
            ydot.data()[k] = gm * od_.data()[k] + xdot.data()[k];
    }

    void backward_paired(const tensor<T>& x, const tensor<T>&, const tensor<T>& xdot, const tensor<T>&,
                         const tensor<T>& ybar, const tensor<T>& ydotbar, tensor<T>* xbar, tensor<T>* xdotbar,
                         const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        gamma_.grad(0) += inner_product(ybar, o_) + inner_product(ydotbar, od_);
        ensure_shape(obar_, n, in_size);
        ensure_shape(odbar_, n, in_size);
        scaled(ybar, gamma_.value(0), obar_);
        scaled(ydotbar, gamma_.value(0), odbar_);
        for (auto* t : {&mbar_, &fbar_, &gbar_, &hbar_, &mdbar_, &fdbar_, &gdbar_, &hdbar_}) ensure_shape(*t, n, narrow);
        v_.backward_paired(m_, o_, md_, od_, obar_, odbar_, &mbar_, &mdbar_, ctx);
        per_sample(n, ctx, 3 * square, [&](std::size_t s, T* scratch) {
            const T *F = at(fx_, s), *G = at(gx_, s), *H = at(hx_, s), *P = p_.data() + s * square;
            const T *Fd = at(fd_, s), *Gd = at(gd_, s), *Hd = at(hd_, s), *U = u_.data() + s * square;
            const T *Mbar = at(mbar_, s), *Mdbar = at(mdbar_, s);
            T* Zbar = scratch;                // Pbar, then Zbar
            T* Zdbar = scratch + square;      // Pdotbar, then Zdotbar
            T* Pd = scratch + 2 * square;
            for (std::size_t k = 0; k < square; ++k) Pd[k] = P[k] * U[k];
            gemm(true, false, positions, positions, reduced, Mbar, H, T(0), Zbar);  // Pbar = Mbar^T H + Mdbar^T Hdot
            gemm(true, false, positions, positions, reduced, Mdbar, Hd, T(1), Zbar);
            gemm(true, false, positions, positions, reduced, Mdbar, H, T(0), Zdbar);  // Pdotbar = Mdbar^T H
            T *Hbar = at(hbar_, s), *Hdbar = at(hdbar_, s);
            gemm(false, false, reduced, positions, positions, Mbar, P, T(0), Hbar);  // Hbar = Mbar P + Mdbar Pdot
            gemm(false, false, reduced, positions, positions, Mdbar, Pd, T(1), Hbar);
            gemm(false, false, reduced, positions, positions, Mdbar, P, T(0), Hdbar);  // Hdotbar = Mdbar P
            for (std::size_t r = 0; r < square; r += positions)  // Zbar and Zdotbar from Pbar and Pdotbar
                attention_rows::softmax_paired(P + r, U + r, Zbar + r, Zdbar + r, positions);
            T *Fbar = at(fbar_, s), *Gbar = at(gbar_, s);
            gemm(false, false, reduced, positions, positions, G, Zbar, T(0), Fbar);  // Fbar = G Zbar + Gdot Zdotbar
            gemm(false, false, reduced, positions, positions, Gd, Zdbar, T(1), Fbar);
            gemm(false, true, reduced, positions, positions, F, Zbar, T(0), Gbar);  // Gbar = F Zbar^T + Fdot Zdotbar^T
            gemm(false, true, reduced, positions, positions, Fd, Zdbar, T(1), Gbar);
            gemm(false, false, reduced, positions, positions, G, Zdbar, T(0), at(fdbar_, s));  // Fdotbar = G Zdotbar
            gemm(false, true, reduced, positions, positions, F, Zdbar, T(0), at(gdbar_, s));   // Gdotbar = F Zdotbar^T
        });
        tensor<T>*part = nullptr, *part_dot = nullptr;
        if (xbar) {
            ensure_shape(part_, n, in_size);
            part = &part_;
            std::copy(ybar.begin(), ybar.end(), xbar->begin());
        }
        if (xdotbar) {
            ensure_shape(part_dot_, n, in_size);
            part_dot = &part_dot_;
            std::copy(ydotbar.begin(), ydotbar.end(), xdotbar->begin());
        }
        project_back_paired(f_, x, xdot, fx_, fd_, fbar_, fdbar_, part, part_dot, xbar, xdotbar, ctx);
        project_back_paired(g_, x, xdot, gx_, gd_, gbar_, gdbar_, part, part_dot, xbar, xdotbar, ctx);
        project_back_paired(h_, x, xdot, hx_, hd_, hbar_, hdbar_, part, part_dot, xbar, xdotbar, ctx);
    }

    template <class Fn>
    void visit_parameters(Fn&& fn) {
        f_.visit_parameters(fn);
        g_.visit_parameters(fn);
        h_.visit_parameters(fn);
        v_.visit_parameters(fn);
        fn(gamma_);
    }
    template <class Fn>
    void visit_buffers(Fn&& fn) {
        f_.visit_buffers(fn);
        g_.visit_buffers(fn);
        h_.visit_buffers(fn);
        v_.visit_buffers(fn);
    }

private:
    template <class Projection>
    static void name(Projection& p, const std::string& prefix) {
        p.visit_parameters([&](parameter<T>& q) { q.name = prefix + "." + q.name; });
        p.visit_buffers([&](buffer<T>& b) { b.name = prefix + "." + b.name; });
    }

    static T* at(tensor<T>& t, std::size_t s) { return t.data() + s * t.shape(1); }

    // C = op(A) op(B) (+ C when beta = 1); every operand is a dense row-major block whose
    // leading dimension is its column count (N for every operand here).
    static void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T beta,
                     T* c) {
        Backend::gemm(ta ? blas::op::transpose : blas::op::none, tb ? blas::op::transpose : blas::op::none, m, n, k,
                      T(1), a, ta ? m : k, b, tb ? k : n, beta, c, n);
    }

    // Runs body(sample, scratch) for every sample, split over the pool; scratch holds
    // `scratch_size` values private to the worker.
    template <class Body>
    void per_sample(std::size_t n, const pass_context& ctx, std::size_t scratch_size, Body&& body) {
        thread_pool& pool = *ctx.pool;
        if (scratch_.size() < pool.size()) scratch_.resize(pool.size());
        pool.parallel_for(n, [&](std::size_t begin, std::size_t end, std::size_t worker) {
            auto& s = scratch_[worker];
            if (s.size() < scratch_size) s.resize(scratch_size);
            for (std::size_t i = begin; i < end; ++i) body(i, s.data());
        });
    }

    static T inner_product(const tensor<T>& a, const tensor<T>& b) {
        T s = 0;
        for (std::size_t k = 0, total = a.size(); k < total; ++k) s += a.data()[k] * b.data()[k];
        return s;
    }

    static void scaled(const tensor<T>& a, T factor, tensor<T>& out) {
        for (std::size_t k = 0, total = a.size(); k < total; ++k) out.data()[k] = factor * a.data()[k];
    }

    static void add(const tensor<T>& a, tensor<T>& out) {
        for (std::size_t k = 0, total = a.size(); k < total; ++k) out.data()[k] += a.data()[k];
    }

    // The first-order reverse through one input projection: dx += W^T ybar_of_projection.
    static void project_back(in_projection& p, const tensor<T>& x, const tensor<T>& y, const tensor<T>& ybar,
                             tensor<T>* part, tensor<T>* dx, bool accumulate, const pass_context& ctx) {
        p.backward(x, y, ybar, part, accumulate, ctx);
        if (dx) add(*part, *dx);
    }

    static void project_back_paired(in_projection& p, const tensor<T>& x, const tensor<T>& xdot, const tensor<T>& y,
                                    const tensor<T>& ydot, const tensor<T>& ybar, const tensor<T>& ydotbar,
                                    tensor<T>* part, tensor<T>* part_dot, tensor<T>* xbar, tensor<T>* xdotbar,
                                    const pass_context& ctx) {
        p.backward_paired(x, y, xdot, ydot, ybar, ydotbar, part, part_dot, ctx);
        if (xbar) add(*part, *xbar);
        if (xdotbar) add(*part_dot, *xdotbar);
    }

    in_projection f_, g_, h_;
    out_projection v_;
    parameter<T> gamma_;
    // Intermediates of the last forward / tangent pass ([batch, Cr*N], [batch, C*N], [batch, N*N]).
    tensor<T> fx_, gx_, hx_, m_, o_, p_;
    tensor<T> fd_, gd_, hd_, md_, od_, u_;
    // Adjoints of the reverse passes.
    tensor<T> obar_, odbar_, mbar_, mdbar_, fbar_, gbar_, hbar_, fdbar_, gdbar_, hdbar_, part_, part_dot_;
    std::vector<std::vector<T>> scratch_;  // per worker, N*N values per buffer
};

/// self_attention<C>: SAGAN's self-attention block on images shape<C, H, W> (output the same
/// shape); self_attention<C, true> puts spectral normalisation on its four projections.
template <std::size_t Channels, bool SpectralNorm = false>
struct self_attention {
    static_assert(Channels > 0, "gant: self_attention<C> needs a positive channel count");
    static constexpr const char* name = SpectralNorm ? "self_attention_sn" : "self_attention";
    using expects = expects_channels<Channels>;
    template <class In>
    static constexpr bool accepts = detail::conv_input_fits<In, Channels, 1, 0>();
    template <class In>
    using output_shape = In;
    template <class In, class T, class B>
    using impl = self_attention_impl<In, Channels, SpectralNorm, T, B>;
    /// What a spectral-norm policy should put in its place.
    using spectrally_normalised = self_attention<Channels, true>;
};

}  // namespace gant
