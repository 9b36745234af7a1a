#!/usr/bin/env python3
"""The PyTorch peer of gant's whole-step GPU benchmark (issue: CUDA backend, part 2).

Times one training iteration of the DCGAN 64x64 and WGAN-GP 64x64 workloads in PyTorch eager
mode, with the networks, initialisation, losses and Adam settings of gant's libtorch CPU peer
(bench/peers/libtorch_peer.cpp) and of gant's defaults:

  dcgan64    topology::dcgan<image<3, 64, 64>, shape<100>> (the pytorch/examples DCGAN, ngf = ndf
             = 64, no conv biases, batch norm), non-saturating loss, Adam 2e-4 (0.5, 0.999);
             one iteration = one critic step on real + fake, one generator step.
  wgan_gp64  the same networks with the critic's batch norm replaced by gant's layer_norm (per
             sample over C*H*W, per-channel gamma and beta, eps 1e-5), Wasserstein loss plus
             lambda 10 (||grad_x D(x_hat)|| - 1)^2 through autograd.grad(create_graph=True),
             Adam 1e-4 (0, 0.9), 5 critic steps and one generator step per iteration.

Real images are a fixed stand-in batch in [-1, 1] already on the device (the step's cost does
not depend on their content; gant's device run will have its dataset uploaded once too).
Convolutions run as cuDNN chooses (TF32 allowed, PyTorch's default for convolutions); the
printout says which precision settings were in force.

Usage: torch_train_step.py [--device cuda|cpu] [--batches 64,256] [--workloads dcgan64,wgan_gp64]
                           [--iterations N] [--warmup N] [--json FILE] [--cudnn-benchmark]
Prints one line per (workload, batch): milliseconds per iteration (median of the timed ones) and
real images drawn per second (batch x critic steps per iteration, as gant's examples count);
--json also writes them for the comparison table.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn


class ChannelLayerNorm(nn.Module):
    """gant's layer_norm<C>: per-sample statistics over [C, H, W], per-channel affine."""

    def __init__(self, channels):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        y = torch.nn.functional.layer_norm(x, x.shape[1:], eps=1e-5)
        return y * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)


def generator64(channels=3, latent=100, width=64):
    g = width
    return nn.Sequential(
        nn.Unflatten(1, (latent, 1, 1)),
        nn.ConvTranspose2d(latent, g * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(g * 8), nn.ReLU(),
        nn.ConvTranspose2d(g * 8, g * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(g * 4), nn.ReLU(),
        nn.ConvTranspose2d(g * 4, g * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(g * 2), nn.ReLU(),
        nn.ConvTranspose2d(g * 2, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.ReLU(),
        nn.ConvTranspose2d(g, channels, 4, 2, 1, bias=False), nn.Tanh())


def critic64(channels=3, width=64, layer_norm=False):
    d = width
    norm = (lambda c: ChannelLayerNorm(c)) if layer_norm else (lambda c: nn.BatchNorm2d(c))
    return nn.Sequential(
        nn.Conv2d(channels, d, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(d, d * 2, 4, 2, 1, bias=False), norm(d * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 2, d * 4, 4, 2, 1, bias=False), norm(d * 4), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 4, d * 8, 4, 2, 1, bias=False), norm(d * 8), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 8, 1, 4, 1, 0, bias=False), nn.Flatten())


def init_dcgan(net):
    """gant's init::dcgan: N(0, 0.02) weights, zero biases, norm scales N(1, 0.02)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                m.weight.normal_(0.0, 0.02)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.normal_(1.0, 0.02)
                m.bias.zero_()
            elif isinstance(m, ChannelLayerNorm):
                m.gamma.normal_(1.0, 0.02)
                m.beta.zero_()


class Workload:
    def __init__(self, name, batch, device):
        self.name, self.batch, self.device = name, batch, device
        self.wgan = name == "wgan_gp64"
        self.g = generator64().to(device)
        self.d = critic64(layer_norm=self.wgan).to(device)
        init_dcgan(self.g)
        init_dcgan(self.d)
        if self.wgan:
            lr, betas, self.n_critic, self.lam = 1e-4, (0.0, 0.9), 5, 10.0
        else:
            lr, betas, self.n_critic, self.lam = 2e-4, (0.5, 0.999), 1, 0.0
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=lr, betas=betas)
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=lr, betas=betas)
        gen = torch.Generator(device="cpu").manual_seed(0)
        self.real = (torch.rand(batch, 3, 64, 64, generator=gen) * 2 - 1).to(device)

    def critic_step(self):
        z = torch.randn(self.batch, 100, device=self.device)
        with torch.no_grad():
            fake = self.g(z)
        self.d_opt.zero_grad(set_to_none=True)
        real_score, fake_score = self.d(self.real), self.d(fake)
        if not self.wgan:
            loss = torch.nn.functional.softplus(-real_score).mean() + torch.nn.functional.softplus(fake_score).mean()
            penalty = None
        else:
            loss = fake_score.mean() - real_score.mean()
            eps = torch.rand(self.batch, 1, 1, 1, device=self.device)
            x_hat = (eps * self.real + (1 - eps) * fake).requires_grad_(True)
            score = self.d(x_hat)
            grad, = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
            penalty = self.lam * (grad.view(self.batch, -1).norm(2, dim=1) - 1).pow(2).mean()
            loss = loss + penalty
        loss.backward()
        self.d_opt.step()

    def generator_step(self):
        z = torch.randn(self.batch, 100, device=self.device)
        self.g_opt.zero_grad(set_to_none=True)
        score = self.d(self.g(z))
        loss = -score.mean() if self.wgan else torch.nn.functional.softplus(-score).mean()
        loss.backward()
        self.g_opt.step()

    def iteration(self):
        for _ in range(self.n_critic):
            self.critic_step()
        self.generator_step()


def synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batches", default="64,256")
    p.add_argument("--workloads", default="dcgan64,wgan_gp64")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", default="")
    p.add_argument("--cudnn-benchmark", action="store_true",
                   help="let cuDNN time its algorithms first (PyTorch's default is off)")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    try:
        batches = [int(b) for b in a.batches.split(",")]
    except ValueError:
        sys.exit(f"torch_train_step.py: --batches must be a comma-separated list of integers, got '{a.batches}'")
    workloads = a.workloads.split(",")
    for w in workloads:
        if w not in ("dcgan64", "wgan_gp64"):
            sys.exit(f"torch_train_step.py: unknown workload '{w}' (dcgan64, wgan_gp64)")
    if any(b < 2 for b in batches) or a.iterations < 1 or a.warmup < 0:
        sys.exit("torch_train_step.py: batches must be at least 2, --iterations at least 1, --warmup at least 0")
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("torch_train_step.py: --device cuda, but PyTorch sees no CUDA device")

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device {a.device}"
          + (f" ({torch.cuda.get_device_name()})" if a.device.startswith("cuda") else "")
          + f"; cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}, matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32}"
          + f", cudnn.benchmark={torch.backends.cudnn.benchmark}", flush=True)
    results = []
    for name in workloads:
        for batch in batches:
            w = Workload(name, batch, a.device)
            for _ in range(a.warmup):
                w.iteration()
            synchronize(a.device)
            times = []
            for _ in range(a.iterations):
                start = time.perf_counter()
                w.iteration()
                synchronize(a.device)
                times.append(time.perf_counter() - start)
            ms = 1e3 * statistics.median(times)
            images = batch * w.n_critic / (ms / 1e3)  # real images drawn, as gant's examples count them
            results.append({"workload": name, "batch": batch, "ms": ms, "images_per_s": images,
                            "iterations": a.iterations})
            print(f"torch {name:9s} batch {batch:4d}: {ms:9.3f} ms/iteration (median of {a.iterations}), "
                  f"{images:10.0f} images/s", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "device": a.device, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
