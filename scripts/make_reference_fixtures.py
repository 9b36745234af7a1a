#!/usr/bin/python3
"""Writes tests/unit/gan/reference_fixtures.hpp: PyTorch reference values (float64, autograd) for
the convention-sensitive pieces of gant that no closed form in the other tests pins down: the
self-attention block, spectral normalisation, the PGGAN layers (pixel_norm, minibatch_stddev,
equalized dense and conv2d) and the exact gradient penalties (WGAN-GP, WGAN-div) on small
critics. Seeded, so rerunning gives the same file.

    /usr/bin/python3 scripts/make_reference_fixtures.py

Everything is written from algorithms.md (sections 5-8) with PyTorch's own operators, not from
gant's kernels: the attention as S = F^T G with a softmax over i for each column j, minibatch
stddev with the official code's [G, M, ...] reshape, spectral normalisation with
torch.nn.utils.spectral_norm (u, v constants in backward), layer norm with F.layer_norm plus a
per-channel affine, and the penalties by double backprop (autograd.grad(create_graph=True), then
autograd.grad of the penalty).

Layer cases. For a layer y = f(x; theta) with fixed random weights w and wdot:
  first order   y, dx and dtheta of L1 = sum(w * y)
  tangent       ydot = J(x) xdot (by the double-vjp trick: ydot = d/du [ (J^T u) . xdot ])
  paired        xbar, xdotbar and dtheta of L2 = sum(w * y) + sum(wdot * ydot)
which are what a gant layer's backward, forward_tangent and backward_paired(ybar = w,
ydotbar = wdot) compute.

Penalty cases. gant draws the interpolation weight eps_i of sample i as the i-th
gant::rng(PENALTY_SEED, PENALTY_STREAM).uniform(); INTERPOLATION_WEIGHTS below are those draws,
printed once by this C++ program (built with -I include):

    #include <cstdio>
    #include "gant/core/rng.hpp"
    int main() {
        gant::rng r(11, 3);
        for (int i = 0; i < 6; ++i) std::printf("%.17g\\n", r.uniform());
    }

test_pytorch_reference.cpp checks that the stream still draws exactly these numbers.

Parameter layouts are PyTorch's, which are gant's: conv weight [Cout, Cin, k, k], dense weight
[out, in], the attention projections [Cr, C] / [C, Cr] (1x1 convolutions). Batches are
[batch, sample] with images NCHW.
"""
import os
import torch
import torch.nn.functional as F

torch.manual_seed(20250219)
torch.set_default_dtype(torch.float64)

PENALTY_SEED, PENALTY_STREAM = 11, 3
INTERPOLATION_WEIGHTS = [
    0.5605690777325737, 0.14300742558864155, 0.82527550357184354,
    0.71861861600457533, 0.63955198266009783, 0.90507262046406323,
]
LEAK = 0.2  # gant::leaky_relu<>


# ---- writing -------------------------------------------------------------------------------

def literals(t):
    values = [repr(float(v)) for v in t.detach().reshape(-1).tolist()]
    return "\n".join("    " + ", ".join(values[i:i + 4]) + "," for i in range(0, len(values), 4))


def array(name, t):
    return ["inline constexpr double %s[] = {" % name, literals(t), "};"]


def scalar(name, v):
    return ["inline constexpr double %s = %r;" % (name, float(v))]


def zeros_for_unused(grads, like):
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, like)]


# ---- the reference passes of one layer -----------------------------------------------------

def layer_passes(x, fn, params):
    """First-order, tangent and paired-reverse references of y = fn(x) (see the docstring)."""
    x = x.clone().requires_grad_(True)
    y = fn(x)
    w = torch.randn_like(y)
    first = torch.autograd.grad((w * y).sum(), [x] + params, retain_graph=True, allow_unused=True)
    first = zeros_for_unused(first, [x] + params)
    xdot = torch.randn_like(x).requires_grad_(True)
    u = torch.zeros_like(y, requires_grad=True)
    (vjp,) = torch.autograd.grad(y, x, u, create_graph=True)
    (ydot,) = torch.autograd.grad(vjp, u, xdot, create_graph=True)
    wdot = torch.randn_like(y)
    paired = torch.autograd.grad((w * y).sum() + (wdot * ydot).sum(), [x, xdot] + params, allow_unused=True)
    paired = zeros_for_unused(paired, [x, xdot] + params)
    return {
        "x": x, "w": w, "xdot": xdot, "wdot": wdot, "y": y, "dx": first[0], "ydot": ydot,
        "xbar": paired[0], "xdotbar": paired[1], "grads": first[1:], "paired": paired[2:],
    }


def layer_case(name, comment, x, fn, named_params, extras=()):
    """named_params: [(C++ name, leaf tensor)]; extras: callables returning [(name, tensor)],
    evaluated after the one forward (spectral norm's updated u, the attention map)."""
    params = [p for _, p in named_params]
    r = layer_passes(x, fn, params)
    out = ["// " + comment, "namespace %s {" % name, "inline constexpr std::size_t batch = %d;" % x.shape[0]]
    for key in ("x", "w", "xdot", "wdot", "y", "dx", "ydot", "xbar", "xdotbar"):
        out += array(key, r[key])
    for (pname, p), g, pg in zip(named_params, r["grads"], r["paired"]):
        out += array(pname, p) + array(pname + "_grad", g) + array(pname + "_paired_grad", pg)
    for extra in extras:
        for ename, t in extra():
            out += scalar(ename, t) if t.dim() == 0 else array(ename, t)
    out += ["}  // namespace %s" % name, ""]
    return out


def randn(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def unit(n):
    u = torch.randn(n)
    return u / u.norm()


# ---- self-attention (algorithms.md 7.1) ------------------------------------------------------

def attention(x, f, g, h, v, gamma, keep=None):
    """Y = gamma W_v (H beta) + X with S = F^T G and beta = softmax over i of each column j.
    f, g, h, v map an NCHW batch through the 1x1 projections."""
    b, c, hh, ww = x.shape
    n = hh * ww
    Fm, Gm, Hm = f(x).reshape(b, -1, n), g(x).reshape(b, -1, n), h(x).reshape(b, -1, n)
    S = Fm.transpose(1, 2) @ Gm                  # S[b, i, j] = f_i . g_j
    beta = torch.softmax(S, dim=1)               # over i, for each output position j
    M = Hm @ beta                                # M[:, j] = sum_i H[:, i] beta_ij
    O = v(M.reshape(b, -1, hh, ww))
    if keep is not None:
        keep["beta"] = beta.detach()
    return gamma * O + x


def conv1x1(weight):
    return lambda t: F.conv2d(t, weight.reshape(weight.shape[0], weight.shape[1], 1, 1))


def self_attention_case(name, batch, c, hh, ww, scale):
    cr = max(1, c // 8)
    wf, wg, wh = (randn(cr, c, scale=scale).requires_grad_(True) for _ in range(3))
    wv = randn(c, cr, scale=scale).requires_grad_(True)
    gamma = torch.tensor([0.7]).requires_grad_(True)  # nonzero: at gant's initial 0 the block is the identity
    keep = {}
    fn = lambda x: attention(x, conv1x1(wf), conv1x1(wg), conv1x1(wh), conv1x1(wv), gamma, keep)
    # gant's attention(i): element (j, i') = beta_{i', j}, so the map is exported transposed.
    attention_map = lambda: [("attention", keep["beta"].transpose(1, 2))]
    return layer_case(name, "self_attention<%d> on %dx%dx%d (Cr = %d), batch %d, gamma 0.7" % (c, c, hh, ww, cr, batch),
                      randn(batch, c, hh, ww), fn,
                      [("f_weight", wf), ("g_weight", wg), ("h_weight", wh), ("v_weight", wv), ("gamma", gamma)],
                      [attention_map])


# ---- spectral normalisation (algorithms.md 7.2) --------------------------------------------

def with_weights(module, weight, bias):
    with torch.no_grad():
        module.weight.copy_(weight)
        if bias is not None:
            module.bias.copy_(bias)
    return module


def normalised(module, u):
    """torch.nn.utils.spectral_norm with a given persistent u; training mode, so each forward
    runs one power iteration v <- W^T u / |.|, u <- W v / |.| and divides by sigma = u^T W v,
    u and v held constant in backward."""
    module = torch.nn.utils.spectral_norm(module)
    with torch.no_grad():
        module.weight_u.copy_(u)
    return module.train()


def sigma_of(module):
    w = module.weight_orig.detach()
    return torch.dot(module.weight_u, w.reshape(w.shape[0], -1) @ module.weight_v)


def spectral_state(module):
    return lambda: [("sigma", sigma_of(module)), ("u_after", module.weight_u), ("v_after", module.weight_v)]


def spectral_dense_case(name, batch, inputs, outputs):
    u = unit(outputs)
    m = normalised(with_weights(torch.nn.Linear(inputs, outputs), randn(outputs, inputs), randn(outputs)), u)
    return layer_case(name, "spectral_norm<dense<%d, %d>>, batch %d, one training-mode power iteration from u_before"
                      % (inputs, outputs, batch), randn(batch, inputs), m,
                      [("weight", m.weight_orig), ("bias", m.bias)],
                      [lambda: [("u_before", u)], spectral_state(m)])


def spectral_conv_case(name, batch, cin, cout, k, s, p, hh, ww):
    u = unit(cout)
    conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
    m = normalised(with_weights(conv, randn(cout, cin, k, k), randn(cout)), u)
    return layer_case(name, "spectral_norm<conv2d<%d, %d, %d, %d, %d>> on %dx%dx%d, batch %d, one power iteration"
                      % (cin, cout, k, s, p, cin, hh, ww, batch), randn(batch, cin, hh, ww), m,
                      [("weight", m.weight_orig), ("bias", m.bias)],
                      [lambda: [("u_before", u)], spectral_state(m)])


# ---- PGGAN layers (algorithms.md 8) ---------------------------------------------------------

def pixel_norm(a):
    return a / torch.sqrt((a * a).mean(dim=1, keepdim=True) + 1e-8)


def minibatch_stddev(x, group):
    """networks.py minibatch_stddev_layer: [G, M, ...] groups (sample m + k M is the k-th of
    group m), sigma over the group per feature, its mean over the features appended as a map."""
    b = x.shape[0]
    g = min(group, b)
    rest = x.shape[1:]
    y = x.reshape(g, b // g, *rest)
    y = y - y.mean(dim=0, keepdim=True)
    y = torch.sqrt((y * y).mean(dim=0) + 1e-8)                  # [M, ...]
    s = y.reshape(b // g, -1).mean(dim=1)                        # [M]
    extra_shape = (1,) + tuple(rest[1:])                         # one more channel / feature
    extra = s.reshape(1, b // g, *([1] * len(rest))).expand(g, b // g, *extra_shape).reshape(b, *extra_shape)
    return torch.cat([x, extra], dim=1)


def equalized_scale(gain, fan_in):
    return gain / fan_in ** 0.5


def pixel_norm_case(name, shape):
    return layer_case(name, "pixel_norm on %s, batch %d" % ("x".join(map(str, shape[1:])), shape[0]),
                      randn(*shape), pixel_norm, [])


def minibatch_stddev_case(name, group, shape):
    return layer_case(name, "minibatch_stddev<%d> on %s, batch %d (%d groups)"
                      % (group, "x".join(map(str, shape[1:])), shape[0], shape[0] // group),
                      randn(*shape), lambda x: minibatch_stddev(x, group), [])


def equalized_dense_case(name, batch, inputs, outputs, gain, gain_text):
    w = randn(outputs, inputs).requires_grad_(True)
    b = randn(outputs).requires_grad_(True)
    c = equalized_scale(gain, inputs)
    return layer_case(name, "equalized<dense<%d, %d>, %s>, batch %d: y = x (c w)^T + b, c = %s / sqrt(%d)"
                      % (inputs, outputs, gain_text, batch, gain_text, inputs),
                      randn(batch, inputs), lambda x: F.linear(x, w * c, b), [("weight", w), ("bias", b)])


def equalized_conv_case(name, batch, cin, cout, k, s, p, hh, ww):
    w = randn(cout, cin, k, k).requires_grad_(True)
    b = randn(cout).requires_grad_(True)
    c = equalized_scale(2 ** 0.5, cin * k * k)
    return layer_case(name, "equalized<conv2d<%d, %d, %d, %d, %d>> (gain sqrt 2, fan_in %d) on %dx%dx%d, batch %d"
                      % (cin, cout, k, s, p, cin * k * k, cin, hh, ww, batch),
                      randn(batch, cin, hh, ww), lambda x: F.conv2d(x, w * c, b, stride=s, padding=p),
                      [("weight", w), ("bias", b)])


# ---- penalties (algorithms.md 5, 6) ---------------------------------------------------------

def gradient_penalty(lam=10.0, target=1.0):
    return lambda q, b: lam / b * ((q.sqrt() - target) ** 2).sum()


def divergence(k=2.0, p=6.0):
    return lambda q, b: k / b * (q ** (p / 2)).sum()


def input_gradients(critic, points):
    points = points.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(points).sum(), points, create_graph=True)
    return g.reshape(g.shape[0], -1)


def penalty_variant(name, critic, params, real, fake, interpolated, phi, reset=None, state=None):
    """The penalty value, the mean input-gradient norm, the last input gradients and d/dparams.
    With interpolated points x_i = eps_i real_i + (1 - eps_i) fake_i; otherwise the
    real-and-fake form (k/2B) sum_i (|g(real_i)|^p + |g(fake_i)|^p), phi already halved, whose
    last input gradients are the fake batch's (gant evaluates the real batch first)."""
    if reset is not None:
        reset()
    b = real.shape[0]
    if interpolated:
        eps = torch.tensor(INTERPOLATION_WEIGHTS[:b]).reshape(b, *([1] * (real.dim() - 1)))
        g = input_gradients(critic, eps * real + (1 - eps) * fake)
        q = (g * g).sum(dim=1)
        value, norm = phi(q, b), q.sqrt().mean()
    else:
        g_real = input_gradients(critic, real)
        g = input_gradients(critic, fake)
        q_real, q = (g_real * g_real).sum(dim=1), (g * g).sum(dim=1)
        value, norm = phi(q_real, b) + phi(q, b), 0.5 * (q_real.sqrt().mean() + q.sqrt().mean())
    grads = zeros_for_unused(torch.autograd.grad(value, params, allow_unused=True), params)
    out = ["namespace %s {" % name] + scalar("value", value) + scalar("mean_grad_norm", norm)
    out += array("input_gradients", g)
    for (pname, _), gr in zip(critic.named, grads):
        out += array(pname + "_grad", gr)
    if state is not None:
        for sname, t in state():
            out += array(sname, t)
    return out + ["}  // namespace %s" % name]


class Critic:
    """A critic as a function of an NCHW batch, with its parameters named as the test names them."""

    def __init__(self, fn, named):
        self.fn, self.named = fn, named

    def __call__(self, x):
        return self.fn(x)


def penalty_case(name, comment, critic, real, fake, variants, u_buffers=()):
    params = [p for _, p in critic.named]
    out = ["// " + comment, "namespace %s {" % name, "inline constexpr std::size_t batch = %d;" % real.shape[0]]
    out += array("real", real) + array("fake", fake)
    for pname, p in critic.named:
        out += array(pname, p)
    u_before = [(uname, m.weight_u.clone()) for uname, m in u_buffers]
    for uname, u in u_before:
        out += array(uname + "_before", u)

    def reset():  # every variant starts from the same persistent u's
        with torch.no_grad():
            for (_, m), (_, u) in zip(u_buffers, u_before):
                m.weight_u.copy_(u)

    state = (lambda: [(uname + "_after", m.weight_u) for uname, m in u_buffers]) if u_buffers else None
    for vname, interpolated, phi in variants:
        out += penalty_variant(vname, critic, params, real, fake, interpolated, phi, reset if u_buffers else None,
                               state)
    return out + ["}  // namespace %s" % name, ""]


GP = ("gradient_penalty", True, gradient_penalty())
DIV = ("wasserstein_div", True, divergence())
DIV_REAL_FAKE = ("wasserstein_div_real_and_fake", False, divergence(k=1.0))  # k/2 on each set


def leaf(t):
    return t.requires_grad_(True)


def conv_leaky_critic():
    # conv2d<2, 3, 3, 2, 1> -> leaky_relu -> flatten -> dense<27, 1> on 2x5x5
    cw, cb = leaf(randn(3, 2, 3, 3, scale=0.5)), leaf(randn(3, scale=0.5))
    dw, db = leaf(randn(1, 27, scale=0.5)), leaf(randn(1, scale=0.5))
    fn = lambda x: F.linear(F.leaky_relu(F.conv2d(x, cw, cb, stride=2, padding=1), LEAK).flatten(1), dw, db)
    return Critic(fn, [("conv_weight", cw), ("conv_bias", cb), ("dense_weight", dw), ("dense_bias", db)])


def layer_norm_critic():
    # conv2d<2, 4, 3, 1, 1> -> layer_norm<4> -> tanh -> flatten -> dense<60, 1> on 2x3x5;
    # gant's layer_norm: moments over the sample's [C, H, W], one gamma and beta per channel.
    cw, cb = leaf(randn(4, 2, 3, 3, scale=0.5)), leaf(randn(4, scale=0.5))
    gamma, beta = leaf(1 + randn(4, scale=0.3)), leaf(randn(4, scale=0.3))
    dw, db = leaf(randn(1, 60, scale=0.5)), leaf(randn(1, scale=0.5))

    def fn(x):
        a = F.conv2d(x, cw, cb, padding=1)
        a = F.layer_norm(a, a.shape[1:], eps=1e-5) * gamma.reshape(1, -1, 1, 1) + beta.reshape(1, -1, 1, 1)
        return F.linear(torch.tanh(a).flatten(1), dw, db)

    return Critic(fn, [("conv_weight", cw), ("conv_bias", cb), ("norm_gamma", gamma), ("norm_beta", beta),
                           ("dense_weight", dw), ("dense_bias", db)])


def sagan_critic():
    # spectral_norm<conv2d<1, 8, 3, 1, 1>> -> leaky_relu -> self_attention<8, true> (spectral
    # norm on its four projections) -> flatten -> spectral_norm<dense<96, 1>> on 1x3x4
    conv = normalised(with_weights(torch.nn.Conv2d(1, 8, 3, padding=1), randn(8, 1, 3, 3), randn(8, scale=0.5)),
                      unit(8))
    proj = {}
    for pname, cin, cout in (("f", 8, 1), ("g", 8, 1), ("h", 8, 1), ("v", 1, 8)):
        m = torch.nn.Conv2d(cin, cout, 1, bias=False)
        proj[pname] = normalised(with_weights(m, randn(cout, cin, 1, 1), None), unit(cout))
    gamma = leaf(torch.tensor([0.6]))
    dense = normalised(with_weights(torch.nn.Linear(96, 1), randn(1, 96), randn(1, scale=0.5)), unit(1))

    def fn(x):
        a = F.leaky_relu(conv(x), LEAK)
        a = attention(a, proj["f"], proj["g"], proj["h"], proj["v"], gamma)
        return dense(a.flatten(1))

    named = [("conv_weight", conv.weight_orig), ("conv_bias", conv.bias)]
    named += [(p + "_weight", proj[p].weight_orig) for p in "fghv"]
    named += [("gamma", gamma), ("dense_weight", dense.weight_orig), ("dense_bias", dense.bias)]
    u_buffers = [("conv_u", conv)] + [(p + "_u", proj[p]) for p in "fghv"] + [("dense_u", dense)]
    return Critic(fn, named), u_buffers


def pggan_critic():
    # equalized<conv2d<2, 4, 3, 1, 1>> -> leaky_relu -> minibatch_stddev<3> -> flatten ->
    # equalized<dense<45, 1>, gain::linear> on 2x3x3; batch 6 = two groups of 3
    cw, cb = leaf(randn(4, 2, 3, 3)), leaf(randn(4, scale=0.3))
    dw, db = leaf(randn(1, 45)), leaf(randn(1, scale=0.3))
    c_conv, c_dense = equalized_scale(2 ** 0.5, 18), equalized_scale(1.0, 45)

    def fn(x):
        a = F.leaky_relu(F.conv2d(x, cw * c_conv, cb, padding=1), LEAK)
        return F.linear(minibatch_stddev(a, 3).flatten(1), dw * c_dense, db)

    return Critic(fn, [("conv_weight", cw), ("conv_bias", cb), ("dense_weight", dw), ("dense_bias", db)])


def main():
    out = [
        "#pragma once",
        "// Generated by scripts/make_reference_fixtures.py (PyTorch %s, float64); do not edit." % torch.__version__,
        "// Batches are [batch, sample], images NCHW; weights in PyTorch's layout (gant's). Layer cases:",
        "// y, dx, dtheta of sum(w * y); ydot = J xdot; xbar, xdotbar, dtheta of sum(w * y) + sum(wdot * ydot).",
        "// Penalty cases: value, mean |g_i|, the last input gradients g_i and d(penalty)/dtheta.",
        "#include <cstddef>",
        "#include <cstdint>",
        "",
        "namespace gant::fixtures::reference {",
        "",
        "// The interpolation weights gant::rng(penalty_seed, penalty_stream) draws, one per sample.",
        "inline constexpr std::uint64_t penalty_seed = %d, penalty_stream = %d;" % (PENALTY_SEED, PENALTY_STREAM),
    ]
    out += array("interpolation_weights", torch.tensor(INTERPOLATION_WEIGHTS)) + [""]

    out += self_attention_case("attention_c8", 2, 8, 3, 5, 0.4)
    out += self_attention_case("attention_c16", 3, 16, 3, 3, 0.25)
    out += self_attention_case("attention_c3", 2, 3, 2, 3, 0.8)

    out += spectral_dense_case("spectral_dense", 3, 7, 5)
    out += spectral_conv_case("spectral_conv", 2, 3, 4, 3, 2, 1, 5, 5)

    out += pixel_norm_case("pixel_norm_image", (3, 5, 3, 2))
    out += pixel_norm_case("pixel_norm_vector", (3, 7))
    out += minibatch_stddev_case("stddev_image", 3, (6, 2, 3, 3))
    out += minibatch_stddev_case("stddev_vector", 2, (6, 5))
    out += equalized_dense_case("equalized_dense", 3, 7, 3, (1 / 8) ** 0.5, "sqrt(1/8)")
    out += equalized_conv_case("equalized_conv", 2, 3, 2, 3, 2, 1, 5, 5)

    real, fake = randn(5, 2, 5, 5), randn(5, 2, 5, 5, scale=1.5)
    out += penalty_case("conv_leaky_critic", "conv2d<2, 3, 3, 2, 1> -> leaky_relu -> flatten -> dense<27, 1> on "
                        "2x5x5, batch 5", conv_leaky_critic(), real, fake, [GP, DIV, DIV_REAL_FAKE])
    real, fake = randn(5, 2, 3, 5), randn(5, 2, 3, 5, scale=1.5)
    out += penalty_case("layer_norm_critic", "conv2d<2, 4, 3, 1, 1> -> layer_norm<4> -> tanh -> flatten -> "
                        "dense<60, 1> on 2x3x5, batch 5", layer_norm_critic(), real, fake, [GP, DIV, DIV_REAL_FAKE])
    critic, u_buffers = sagan_critic()
    real, fake = randn(3, 1, 3, 4), randn(3, 1, 3, 4, scale=1.5)
    out += penalty_case("sagan_critic", "spectral_norm<conv2d<1, 8, 3, 1, 1>> -> leaky_relu -> "
                        "self_attention<8, true> (gamma 0.6) -> flatten -> spectral_norm<dense<96, 1>> on 1x3x4, "
                        "batch 3; every u takes one power iteration in the penalty's forward", critic, real, fake,
                        [GP, DIV], u_buffers)
    real, fake = randn(6, 2, 3, 3), randn(6, 2, 3, 3, scale=1.5)
    out += penalty_case("pggan_critic", "equalized<conv2d<2, 4, 3, 1, 1>> -> leaky_relu -> minibatch_stddev<3> -> "
                        "flatten -> equalized<dense<45, 1>, gain::linear> on 2x3x3, batch 6 (the gradient of "
                        "sum_i D(x_i) with respect to the whole batch)", pggan_critic(), real, fake, [GP, DIV])

    out.append("}  // namespace gant::fixtures::reference")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "unit", "gan",
                        "reference_fixtures.hpp")
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
