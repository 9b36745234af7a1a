#pragma once
// self_attention<Channels, SpectralNorm> on the device: SAGAN's block as
// include/gant/layers/self_attention.hpp defines it (that header derives every rule used here),
// pass for pass and product for product:
//   * the projections f, g, h (C -> Cr) and v (Cr -> C) are device conv2d 1x1 layers without
//     bias (the tensor-core kernels), wrapped in device_spectral_norm when SpectralNorm is set;
//     their parameters and buffers are renamed "f.weight", "f.u", ... and visited in the CPU's
//     order (f, g, h, v, then gamma), so upload_network carries a CPU layer's state over;
//   * the per-sample N x N products (Z = G^T F, M = H P^T and their adjoints and tangents) are
//     one cuBLAS FP32 strided-batched product each over the whole batch (gemm_strided_batched);
//   * the softmax over each row of the transposed attention map and its adjoint, tangent and
//     paired rules are gant/cuda/attention.hpp's row kernels, which run the CPU's row functions;
//   * y = gamma O + X with gamma read from device memory, gamma's gradient and the sums of the
//     projections' adjoints are gant/cuda/scaled_residual.hpp's kernels.
// Nothing is copied to the host: every pass is queued on the legacy default stream.
#include <cstddef>
#include <string>
#include <type_traits>

#include "gant/cuda/attention.hpp"
#include "gant/cuda/device_batch.hpp"
#include "gant/cuda/gemm.hpp"
#include "gant/cuda/layers/conv.hpp"
#include "gant/cuda/layers/device_parameter.hpp"
#include "gant/cuda/layers/device_state.hpp"
#include "gant/cuda/layers/spectral_norm.hpp"
#include "gant/cuda/scaled_residual.hpp"
#include "gant/nn/layer.hpp"

namespace gant::cuda {

template <class In, std::size_t Channels, bool SpectralNorm, class T>
class device_self_attention {
    static_assert(std::is_same_v<T, float>, "gant: the CUDA backend's layers are float32");
    using dims = image_dims<In>;
    static constexpr std::size_t reduced = Channels / 8 > 0 ? Channels / 8 : 1;  // Cr
    static constexpr std::size_t positions = dims::pixels;                       // N
    static constexpr std::size_t square = positions * positions;
    static constexpr std::size_t in_size = In::size;            // C * N
    static constexpr std::size_t narrow = reduced * positions;  // Cr * N
    using narrow_shape = shape<reduced, dims::height, dims::width>;

    template <class Layer>
    using maybe_normalised = std::conditional_t<SpectralNorm, device_spectral_norm<Layer, 0>, Layer>;
    using in_projection = maybe_normalised<device_conv2d<In, Channels, reduced, 1, 1, 0, false, T>>;
    using out_projection = maybe_normalised<device_conv2d<narrow_shape, reduced, Channels, 1, 1, 0, false, T>>;

public:
    using scalar = T;
    using input_shape = In;
    using output_shape = In;
    using batch = device_batch<T>;
    static constexpr bool couples_samples = false;
    static constexpr bool second_order = true;
    static constexpr std::size_t attention_channels = reduced;

    device_self_attention() : gamma_("gamma", {1}, role::shift) {
        name(f_, "f");
        name(g_, "g");
        name(h_, "h");
        name(v_, "v");
    }

    in_projection& f() { return f_; }
    in_projection& g() { return g_; }
    in_projection& h() { return h_; }
    out_projection& v() { return v_; }
    device_parameter<T>& gamma() { return gamma_; }

    /// The attention map of sample i from the last forward, in device memory: element (j, i') is
    /// beta_{i', j}, the weight of input position i' in output position j (rows sum to 1).
    const T* attention(std::size_t i) const { return p_.data() + i * square; }

    void forward(const batch& x, batch& y, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for (auto* t : {&fx_, &gx_, &hx_, &m_}) ensure_shape(*t, n, narrow);
        ensure_shape(o_, n, in_size);
        ensure_shape(p_, n, square);
        if (n == 0) return;
        f_.forward(x, fx_, ctx);
        g_.forward(x, gx_, ctx);
        h_.forward(x, hx_, ctx);
        products(true, false, positions, positions, reduced, gx_, fx_, 0.f, p_);  // Z = G^T F
        softmax_rows(p_.data(), n * positions, positions);
        products(false, true, reduced, positions, positions, hx_, p_, 0.f, m_);  // M = H P^T
        v_.forward(m_, o_, ctx);
        scaled_residual(gamma_.data(), o_.data(), x.data(), y.data(), x.size());
    }

    void backward(const batch& x, const batch&, const batch& dy, batch* dx, bool accumulate, const pass_context& ctx) {
        if (!dx && !accumulate) return;
        const std::size_t n = x.shape(0);
        if (n == 0) return;
        if (accumulate)
            accumulate_scale_gradient(dy.data(), o_.data(), nullptr, nullptr, n, in_size, gamma_.grad_data());
        ensure_shape(obar_, n, in_size);
        scaled_residual(gamma_.data(), dy.data(), nullptr, obar_.data(), dy.size());
        for (auto* t : {&mbar_, &fbar_, &gbar_, &hbar_}) ensure_shape(*t, n, narrow);
        ensure_shape(zbar_, n, square);
        v_.backward(m_, o_, obar_, &mbar_, accumulate, ctx);
        products(true, false, positions, positions, reduced, mbar_, hx_, 0.f, zbar_);   // Pbar = Mbar^T H
        products(false, false, reduced, positions, positions, mbar_, p_, 0.f, hbar_);   // Hbar = Mbar P
        softmax_adjoint_rows(p_.data(), zbar_.data(), n * positions, positions);        // Zbar = R(P, Pbar)
        products(false, false, reduced, positions, positions, gx_, zbar_, 0.f, fbar_);  // Fbar = G Zbar
        products(false, true, reduced, positions, positions, fx_, zbar_, 0.f, gbar_);   // Gbar = F Zbar^T
        batch* part = nullptr;
        if (dx) {
            ensure_shape(part_, n, in_size);
            part = &part_;
            copy_batch(dy, *dx);
        }
        project_back(f_, x, fx_, fbar_, part, dx, accumulate, ctx);
        project_back(g_, x, gx_, gbar_, part, dx, accumulate, ctx);
        project_back(h_, x, hx_, hbar_, part, dx, accumulate, ctx);
    }

    void forward_tangent(const batch& x, const batch&, const batch& xdot, batch& ydot, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        for (auto* t : {&fd_, &gd_, &hd_, &md_}) ensure_shape(*t, n, narrow);
        ensure_shape(od_, n, in_size);
        ensure_shape(u_, n, square);
        ensure_shape(pd_, n, square);
        if (n == 0) return;
        f_.forward_tangent(x, fx_, xdot, fd_, ctx);
        g_.forward_tangent(x, gx_, xdot, gd_, ctx);
        h_.forward_tangent(x, hx_, xdot, hd_, ctx);
        products(true, false, positions, positions, reduced, gd_, fx_, 0.f, u_);  // Zdot = Gdot^T F + G^T Fdot
        products(true, false, positions, positions, reduced, gx_, fd_, 1.f, u_);
        softmax_tangent_rows(p_.data(), u_.data(), pd_.data(), n * positions, positions);  // U centred, Pdot = P U
        products(false, true, reduced, positions, positions, hd_, p_, 0.f, md_);           // Mdot = Hdot P^T + H Pdot^T
        products(false, true, reduced, positions, positions, hx_, pd_, 1.f, md_);
        v_.forward_tangent(m_, o_, md_, od_, ctx);
        scaled_residual(gamma_.data(), od_.data(), xdot.data(), ydot.data(), xdot.size());
    }

    void backward_paired(const batch& x, const batch&, const batch& xdot, const batch&, const batch& ybar,
                         const batch& ydotbar, batch* xbar, batch* xdotbar, const pass_context& ctx) {
        const std::size_t n = x.shape(0);
        if (n == 0) return;
        accumulate_scale_gradient(ybar.data(), o_.data(), ydotbar.data(), od_.data(), n, in_size, gamma_.grad_data());
        ensure_shape(obar_, n, in_size);
        ensure_shape(odbar_, n, in_size);
        scaled_residual(gamma_.data(), ybar.data(), nullptr, obar_.data(), ybar.size());
        scaled_residual(gamma_.data(), ydotbar.data(), nullptr, odbar_.data(), ydotbar.size());
        for (auto* t : {&mbar_, &fbar_, &gbar_, &hbar_, &mdbar_, &fdbar_, &gdbar_, &hdbar_})
            ensure_shape(*t, n, narrow);
        for (auto* t : {&zbar_, &zdbar_, &pd_}) ensure_shape(*t, n, square);
        v_.backward_paired(m_, o_, md_, od_, obar_, odbar_, &mbar_, &mdbar_, ctx);
        multiply_elements(p_.data(), u_.data(), pd_.data(), pd_.size());               // Pdot = P U
        products(true, false, positions, positions, reduced, mbar_, hx_, 0.f, zbar_);  // Pbar = Mbar^T H + Mdbar^T Hdot
        products(true, false, positions, positions, reduced, mdbar_, hd_, 1.f, zbar_);
        products(true, false, positions, positions, reduced, mdbar_, hx_, 0.f, zdbar_);  // Pdotbar = Mdbar^T H
        products(false, false, reduced, positions, positions, mbar_, p_, 0.f, hbar_);    // Hbar = Mbar P + Mdbar Pdot
        products(false, false, reduced, positions, positions, mdbar_, pd_, 1.f, hbar_);
        products(false, false, reduced, positions, positions, mdbar_, p_, 0.f, hdbar_);  // Hdotbar = Mdbar P
        // Zbar and Zdotbar from Pbar and Pdotbar.
        softmax_paired_rows(p_.data(), u_.data(), zbar_.data(), zdbar_.data(), n * positions, positions);
        products(false, false, reduced, positions, positions, gx_, zbar_, 0.f, fbar_);  // Fbar = G Zbar + Gdot Zdotbar
        products(false, false, reduced, positions, positions, gd_, zdbar_, 1.f, fbar_);
        products(false, true, reduced, positions, positions, fx_, zbar_, 0.f,
                 gbar_);  // Gbar = F Zbar^T + Fdot Zdotbar^T
        products(false, true, reduced, positions, positions, fd_, zdbar_, 1.f, gbar_);
        products(false, false, reduced, positions, positions, gx_, zdbar_, 0.f, fdbar_);  // Fdotbar = G Zdotbar
        products(false, true, reduced, positions, positions, fx_, zdbar_, 0.f, gdbar_);   // Gdotbar = F Zdotbar^T
        batch *part = nullptr, *part_dot = nullptr;
        if (xbar) {
            ensure_shape(part_, n, in_size);
            part = &part_;
            copy_batch(ybar, *xbar);
        }
        if (xdotbar) {
            ensure_shape(part_dot_, n, in_size);
            part_dot = &part_dot_;
            copy_batch(ydotbar, *xdotbar);
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
        p.visit_parameters([&](device_parameter<T>& q) { q.name = prefix + "." + q.name; });
        p.visit_buffers([&](device_state<T>& b) { b.name = prefix + "." + b.name; });
    }

    // Per sample s: C_s = op(A_s) op(B_s) (+ C_s when beta = 1), every operand a dense row-major
    // block of its batch's row s whose leading dimension is its column count, as the CPU layer's
    // per-sample gemm; one strided-batched FP32 product for the whole batch.
    static void products(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const batch& a, const batch& b,
                         float beta, batch& c) {
        const batch_strides strides{static_cast<long long>(a.shape(1)), static_cast<long long>(b.shape(1)),
                                    static_cast<long long>(c.shape(1))};
        gemm_strided_batched(ta, tb, int(m), int(n), int(k), 1.f, a.data(), int(ta ? m : k), b.data(), int(tb ? k : n),
                             beta, c.data(), int(n), strides, int(c.shape(0)));
    }

    // The first-order reverse through one input projection: dx += W^T ybar_of_projection.
    static void project_back(in_projection& p, const batch& x, const batch& y, const batch& ybar, batch* part,
                             batch* dx, bool accumulate, const pass_context& ctx) {
        p.backward(x, y, ybar, part, accumulate, ctx);
        if (dx) add_elements(part->data(), dx->data(), dx->size());
    }

    static void project_back_paired(in_projection& p, const batch& x, const batch& xdot, const batch& y,
                                    const batch& ydot, const batch& ybar, const batch& ydotbar, batch* part,
                                    batch* part_dot, batch* xbar, batch* xdotbar, const pass_context& ctx) {
        p.backward_paired(x, y, xdot, ydot, ybar, ydotbar, part, part_dot, ctx);
        if (xbar) add_elements(part->data(), xbar->data(), xbar->size());
        if (xdotbar) add_elements(part_dot->data(), xdotbar->data(), xdotbar->size());
    }

    in_projection f_, g_, h_;
    out_projection v_;
    device_parameter<T> gamma_;
    // Intermediates of the last forward / tangent pass ([batch, Cr*N], [batch, C*N], [batch, N*N]).
    batch fx_, gx_, hx_, m_, o_, p_;
    batch fd_, gd_, hd_, md_, od_, u_, pd_;
    // Adjoints of the reverse passes, and the N x N adjoints Zbar, Zdotbar.
    batch obar_, odbar_, mbar_, mdbar_, fbar_, gbar_, hbar_, fdbar_, gdbar_, hdbar_, part_, part_dot_, zbar_, zdbar_;
};

}  // namespace gant::cuda
