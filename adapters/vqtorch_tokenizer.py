#!/usr/bin/env python3
"""A tokbench external tokenizer built with PyTorch and lucidrains' vector-quantize-pytorch:
the reference backbone of ARCHITECTURE.md (bench/pytorch_peer.py's encoder and decoder: h=128, r=32,
two stride-2 stages) around VQ (EMA, k-means init, dead-code restarts), FSQ, LFQ, SimVQ or residual VQ,
trained on the train split tokbench passes (--train-images) on CPU or GPU, then run on the eval images.

    [[tokenizer]]
    kind = "external"
    command = ["python3", "../adapters/vqtorch_tokenizer.py"]
    train = true
    timeout_s = 7200
    [tokenizer.args]
    quantizer = ["vq", "fsq", "lfq", "simvq"]    # a list sweeps
    codebook_size = 1024                         # vq, lfq (2^bits), simvq, rvq (per stage); fsq uses levels
    levels = "8,5,5,5"                           # fsq
    steps = 1500
    batch = 64
    lr = 1e-3
    # vq and rvq only (see vq_options below; each states tokbench's own behaviour):
    # rotation_trick = false                     # absent: the library's default (the rotation trick at D > 1)
    # straight_through = false                   # the library's Gumbel straight-through flag, not the STE
    # dead_code_threshold = 1
    # commitment_weight = 0.25
    # decay = 0.99

Booleans arrive as --key=true / --key=false (tokbench writes TOML booleans that way).
Needs `pip install torch vector-quantize-pytorch` (checked against 1.32.0). tokbench itself never does.
"""
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from tokbench_protocol import chunks, read_request  # noqa: E402
from pytorch_peer import make_decoder, make_encoder  # noqa: E402


def flag(args, key, default):
    """A boolean arg: tokbench passes TOML booleans as --key=true / --key=false; absent gives `default`."""
    if key not in args:
        return default
    v = args[key].strip().lower()
    if v not in ("true", "false"):
        raise SystemExit(f"{key} must be true or false, got {args[key]!r}")
    return v == "true"


def vq_options(args):
    """The VectorQuantize settings the vq and rvq quantizers share. Absent args keep the values this adapter
    always used, so earlier runs keep their meaning. Each comment says what tokbench's vq-vae does
    (Sources/Quantizers/VectorQuantizer.swift, Codebook.swift) and what vector-quantize-pytorch 1.32.0 does."""
    opts = dict(
        kmeans_init=True,   # tokbench: kmeans_init = true, 10 Lloyd rounds on the first training batch, seeded
                            # from distinct random vectors; sets the EMA counts/sums. Library: the same (kmeans_iters = 10).
        # tokbench: the codebook follows an EMA of its assigned encoder outputs (ema = true, Laplace-smoothed
        # counts, eps 1e-5), updated after the optimizer step from that step's forward. Library (ema_update=True,
        # learnable_codebook=False, its defaults when directional_reparam is off): the same update, inside the
        # training forward, after the codes for that forward were chosen. Pinned here so a library default
        # change cannot move it.
        ema_update=True,
        learnable_codebook=False,
        decay=float(args.get("decay", 0.99)),  # tokbench: decay = 0.99
        # tokbench: commitment = 0.25, loss beta * mean((u - sg(q))^2) over every element, and no codebook
        # loss when ema = true. Library: commitment_weight * F.mse_loss(q.detach(), x), the same mean; with EMA
        # and learnable_codebook=False the codebook is a buffer, so there is no codebook loss either.
        commitment_weight=float(args.get("commitment_weight", 0.25)),
        # tokbench: dead_threshold = 1.0; after each EMA update a code whose EMA count is < threshold is
        # re-seeded from a random encoder output of the batch (drawn with replacement), its count reset to the
        # threshold. Library threshold_ema_dead_code: the same test (cluster_size < threshold) and reset
        # (reset_cluster_size = threshold), samples drawn without replacement; 0 turns restarts off.
        threshold_ema_dead_code=float(args.get("dead_code_threshold", 1)),
    )
    # Gradient estimator. tokbench: the straight-through estimator, dL/du = dL/dq (+ the commitment term).
    # Library: rotation_trick=None resolves to `not directional_reparam and dim > 1`, i.e. the rotation trick
    # (Fifty et al. 2024, arXiv 2410.06424) at D = 64; rotation_trick=false gives the plain STE
    # x + (q - x).detach(), tokbench's estimator. Absent keeps None (the library's default, as before).
    if "rotation_trick" in args:
        opts["rotation_trick"] = flag(args, "rotation_trick", None)
    # The library's `straight_through` is the Gumbel-softmax straight-through of the code choice (one-hot +
    # softmax(-dist) - sg(softmax)), not the STE; it needs rotation_trick = false, and VectorQuantize's STE
    # detach then drops its gradient, leaving only float-rounding changes in the forward and the EMA
    # statistics. tokbench has no such option. Default false, as before.
    if flag(args, "straight_through", False):
        if opts.get("rotation_trick", True):
            raise SystemExit("straight_through = true needs rotation_trick = false (the library allows one estimator)")
        opts["straight_through"] = True
    return opts


def build_quantizer(kind, args, D):
    from vector_quantize_pytorch import FSQ, LFQ, ResidualVQ, SimVQ, VectorQuantize
    K = int(args.get("codebook_size", 1024))
    if kind == "vq":       # EMA codebook, k-means init, dead-code restarts: tokbench's vq-vae defaults
        q = VectorQuantize(dim=D, codebook_size=K, accept_image_fmap=True, **vq_options(args))
        print(f"vq: rotation_trick={q.rotation_trick} ema_update={q.ema_update} "
              f"threshold_ema_dead_code={q._codebook.threshold_ema_dead_code} commitment_weight={q.commitment_weight}",
              file=sys.stderr, flush=True)
        return q, K, 1
    if kind == "fsq":
        levels = [int(v) for v in args.get("levels", "8,5,5,5").split(",")]
        return FSQ(levels=levels, dim=D, channel_first=True), int(np.prod(levels)), 1
    if kind == "lfq":
        return LFQ(dim=D, codebook_size=K, entropy_loss_weight=0.1, diversity_gamma=1.0, channel_first=True), K, 1
    if kind == "simvq":
        return SimVQ(dim=D, codebook_size=K, channel_first=True), K, 1
    if kind == "rvq":
        S = int(args.get("stages", 2))
        return ResidualVQ(dim=D, num_quantizers=S, codebook_size=K, **vq_options(args)), K, S
    raise SystemExit(f"unknown quantizer {kind!r} (vq, fsq, lfq, simvq, rvq)")


def latent_dim(kind, args):
    """D as tokbench's defaults have it: FSQ and LFQ quantize the encoder's channels directly (one per
    level, one per bit, no projection, as in the papers); VQ, SimVQ and RVQ use D = 64."""
    if kind == "fsq":
        return len(args.get("levels", "8,5,5,5").split(","))
    if kind == "lfq":
        return int(math.log2(int(args.get("codebook_size", 1024))))
    return 64


class Tokenizer(nn.Module):
    def __init__(self, C, kind, args, h=128, r=32, n=2):
        super().__init__()
        D = latent_dim(kind, args)
        self.encoder = make_encoder(C, h, r, D, n)
        self.quantizer, self.V, self.S = build_quantizer(kind, args, D)
        self.decoder = make_decoder(C, h, r, D, n)
        self.kind = kind

    def quantize(self, z):  # z: [B, D, h, w]
        if self.kind == "rvq":  # residual VQ takes sequences [B, h·w, D]
            B, D, h, w = z.shape
            out = self.quantizer(z.flatten(2).transpose(1, 2))
            zq, idx = out[0].transpose(1, 2).reshape(B, D, h, w), out[1]
        else:
            out = self.quantizer(z)
            zq, idx = out[0], out[1]
        aux = out[2] if len(out) > 2 and out[2] is not None else torch.zeros((), device=z.device)
        return zq, idx, aux.sum()

    def forward(self, x):
        zq, idx, aux = self.quantize(self.encoder(x))
        return self.decoder(zq), idx, aux


def to_input(u8, device):  # uint8 [N, H, W, C] → float [N, C, H, W] in [-0.5, 0.5] (tokbench's x)
    return torch.from_numpy(u8).to(device).permute(0, 3, 1, 2).float() / 255 - 0.5


def main():
    req = read_request()
    a = req.args
    kind = a.get("quantizer", "vq")
    steps, batch, lr = int(a.get("steps", 1500)), int(a.get("batch", 64)), float(a.get("lr", 1e-3))
    warmup = int(a.get("warmup", 50))
    device = a.get("device", "cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(req.seed)
    np.random.seed(req.seed)
    model = None
    if req.train_images is not None:
        model = Tokenizer(req.train_images.shape[3], kind, a).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        train = req.train_images
        order, pos, t0 = np.random.permutation(len(train)), 0, time.time()
        model.train()
        for step in range(1, steps + 1):   # warm-up, then cosine decay to 0: tokbench's schedule
            s = lr * step / warmup if step <= warmup else lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
            for g in opt.param_groups:
                g["lr"] = s
            if pos + batch > len(order):
                order, pos = np.random.permutation(len(train)), 0
            x = to_input(train[order[pos:pos + batch]], device)
            pos += batch
            xhat, _, aux = model(x)
            loss = F.mse_loss(xhat, x) + aux
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step % 250 == 0 or step == steps:
                print(f"step {step}/{steps} loss {loss.item():.5f} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    for images, write in chunks(req):   # protocol 1: the whole eval split at once; 2: chunk by chunk
        if model is None:
            model = Tokenizer(images.shape[3], kind, a).to(device)
        model.eval()
        tokens, recons = [], []
        with torch.no_grad():
            for i in range(0, len(images), 256):
                xhat, idx, _ = model(to_input(np.ascontiguousarray(images[i:i + 256]), device))
                idx = idx.reshape(idx.shape[0], -1, model.S) if model.S > 1 else idx.reshape(idx.shape[0], -1)
                tokens.append(idx.cpu().numpy())
                recons.append(((xhat + 0.5) * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
        tokens = np.concatenate(tokens)
        if kind == "lfq" or kind == "fsq":
            tokens = tokens.astype(np.int64)
        write(tokens=tokens, reconstructions=np.concatenate(recons), vocab_size=[model.V] * model.S if model.S > 1 else model.V)


if __name__ == "__main__":
    main()
