#!/usr/bin/env python3
"""PyTorch peer of tokbench's CPU engine benchmark (Tools/EngineBench.swift, `tokbench bench train|infer --peer`).

Same model as `tokbench bench train/infer` (Tools/EngineBench.swift), which is what `tokbench run` trains for
kind = "vq-vae" with ema, kmeans_init and restart off: the reference backbone of ARCHITECTURE.md (h=128, r=32,
D=64, n=2) on 32x32x3 inputs, batch 64, with a K=512 nearest-code VQ bottleneck (straight-through,
codebook + 0.25 commitment loss).
Train step = forward, MSE, backward, Adam. Parameter names match tokbench's safetensors names
(encoder.0.weight, encoder.5.block.1.weight, quantizer.embedding.weight, decoder.4.weight, ...).

    python3 bench/pytorch_peer.py [--steps 20] [--batch 64] [--threads 2]

Only this script needs torch; tokbench never does.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Residual(nn.Module):
    def __init__(self, h, r):
        super().__init__()
        self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(h, r, 3, padding=1), nn.ReLU(), nn.Conv2d(r, h, 1))

    def forward(self, x):
        return x + self.block(x)


def stage_channels(C, h, n):
    return [C, h] if n == 1 else [C, h // 2] + [h] * (n - 1)


def make_encoder(C, h, r, D, n):
    s = stage_channels(C, h, n)
    layers = []
    for i in range(n):
        layers += [nn.Conv2d(s[i], s[i + 1], 4, stride=2, padding=1), nn.ReLU()]
    layers += [nn.Conv2d(s[-1], h, 3, padding=1), Residual(h, r), Residual(h, r), nn.ReLU(), nn.Conv2d(h, D, 1)]
    return nn.Sequential(*layers)


def make_decoder(C, h, r, D, n):
    s = stage_channels(C, h, n)
    layers = [nn.Conv2d(D, h, 3, padding=1), Residual(h, r), Residual(h, r), nn.ReLU()]
    c = h
    for i in reversed(range(n)):
        layers.append(nn.ConvTranspose2d(c, s[i], 4, stride=2, padding=1))
        if i > 0:
            layers.append(nn.ReLU())
        c = s[i]
    return nn.Sequential(*layers)


class Quantizer(nn.Module):
    def __init__(self, K, D, beta=0.25):
        super().__init__()
        self.embedding = nn.Embedding(K, D)
        nn.init.uniform_(self.embedding.weight, -1.0 / K, 1.0 / K)
        self.beta = beta

    def forward(self, z):  # z: [B, D, h, w]
        B, D, H, W = z.shape
        rows = z.permute(0, 2, 3, 1).reshape(-1, D)                     # [N, D]
        E = self.embedding.weight                                        # [K, D]
        dist = (E * E).sum(1)[None, :] - 2 * rows @ E.t()                # [N, K] (‖z‖² dropped)
        idx = dist.argmin(1)
        q = E[idx].view(B, H, W, D).permute(0, 3, 1, 2)
        loss = F.mse_loss(q, z.detach()) + self.beta * F.mse_loss(z, q.detach())
        return z + (q - z).detach(), loss


class Autoencoder(nn.Module):
    def __init__(self, C=3, h=128, r=32, D=64, n=2, K=512):
        super().__init__()
        self.encoder = make_encoder(C, h, r, D, n)
        self.quantizer = Quantizer(K, D) if K else None
        self.decoder = make_decoder(C, h, r, D, n)

    def forward(self, x):
        z = self.encoder(x)
        vq = torch.zeros(())
        if self.quantizer is not None:
            z, vq = self.quantizer(z)
        return self.decoder(z), vq


def write_safetensors(path, tensors, metadata=None):
    """Minimal F32 safetensors writer (no extra dependency)."""
    import json
    import struct
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def export_check(path, spec):
    """Writes a small model's weights, an input, PyTorch's reconstruction and the gradients of the training
    loss (MSE + VQ codebook and commitment losses), so tokbench's engine can be cross-checked against PyTorch
    on the model `tokbench run` trains (kind = "vq-vae" with ema, kmeans_init and restart off).
    spec = "C,h,r,D,n,B,H,W,K". The default is the committed fixture
    Tests/LayersTests/Fixtures/pytorch-parity.safetensors (regenerate: --export-check PATH).
    Conv weights are Kaiming-normal with biases in [0, 0.2], so few ReLUs are dead and every encoder tensor
    gets gradients large enough to expose a wrong backward (PyTorch's default init at these widths leaves
    most encoder gradients at 0 or ~1e-7); the K codes are N(0, 1), so nearest-code choices are clear-cut."""
    C, h, r, D, n, B, H, W, K = (int(v) for v in spec.split(","))
    torch.manual_seed(0)
    model = Autoencoder(C=C, h=h, r=r, D=D, n=n, K=K)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.uniform_(m.bias, 0.0, 0.2)
    nn.init.normal_(model.quantizer.embedding.weight)
    x = torch.rand(B, C, H, W) - 0.5
    xhat, vq = model(x)
    (F.mse_loss(xhat, x) + vq).backward()
    tensors = dict(model.state_dict())
    tensors["input"] = x
    tensors["reconstruction"] = xhat
    for k, p in model.named_parameters():
        tensors["grad." + k] = p.grad
    write_safetensors(path, tensors, {"config": spec, "torch": torch.__version__})
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export-check", metavar="PATH", help="write a cross-check file and exit")
    ap.add_argument("--check-spec", default="3,8,4,4,2,2,8,8,16", help="C,h,r,D,n,B,H,W,K of the cross-check model")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--codebook", type=int, default=512, help="0 = identity bottleneck")
    ap.add_argument("--layer-times", action="store_true",
                    help="print each encoder/decoder child's forward time per training step (forward hooks), "
                         "to set beside `tokbench bench train --profile`")
    ap.add_argument("--serve", choices=["train", "infer"],
                    help="warm up, print 'ready', then time one block of --steps steps per 'run' line on stdin "
                         "(tokbench bench --peer alternates its blocks with these)")
    args = ap.parse_args()
    if args.export_check:
        export_check(args.export_check, args.check_spec)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Autoencoder(K=args.codebook)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    x = torch.rand(args.batch, 3, 32, 32) - 0.5

    def train_step():
        opt.zero_grad(set_to_none=True)
        xhat, vq = model(x)
        loss = F.mse_loss(xhat, x)
        (loss + vq).backward()
        opt.step()
        return loss.item()

    def timed(fn):
        times = []
        t0 = time.perf_counter()
        for _ in range(args.steps):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return time.perf_counter() - t0, sorted(times)[len(times) // 2], out

    def train_block():
        dt, med, loss = timed(train_step)
        print(f"pytorch {torch.__version__} train batch {args.batch}: {args.batch * args.steps / dt:.1f} images/s "
              f"(median step: {args.batch / med:.1f}), {1000 * dt / args.steps:.2f} ms/step, loss {loss:.5f}, {args.threads} threads",
              flush=True)

    def infer_block():
        with torch.inference_mode():
            dt, med, _ = timed(lambda: model(x))
        print(f"pytorch {torch.__version__} infer batch {args.batch}: {args.batch * args.steps / dt:.1f} images/s "
              f"(median step: {args.batch / med:.1f}), {1000 * dt / args.steps:.2f} ms/step, {args.threads} threads", flush=True)

    if args.layer_times:
        for _ in range(args.warmup):
            train_step()
        spent, started = {}, {}
        for part in ("encoder", "decoder"):
            for i, m in enumerate(getattr(model, part)):
                name = f"{part}.{i} {type(m).__name__}"
                spent[name] = 0.0
                m.register_forward_pre_hook(lambda _m, _i, name=name: started.__setitem__(name, time.perf_counter()))
                m.register_forward_hook(lambda _m, _i, _o, name=name: spent.__setitem__(name, spent[name] + time.perf_counter() - started[name]))
        t0 = time.perf_counter()
        for _ in range(args.steps):
            train_step()
        print(f"pytorch {torch.__version__} train batch {args.batch}: {1000 * (time.perf_counter() - t0) / args.steps:.2f} ms/step, "
              f"{args.threads} threads; forward time per step of each layer:")
        for name, sec in spent.items():
            print(f"{name:40s} {1000 * sec / args.steps:8.2f} ms fwd")
        return

    if args.serve:
        import sys
        block = train_block if args.serve == "train" else infer_block
        for _ in range(args.warmup):
            if args.serve == "train":
                train_step()
            else:
                with torch.inference_mode():
                    model(x)
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "run":
                block()
        return

    for _ in range(args.warmup):
        train_step()
    train_block()
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
    infer_block()
    try:
        import resource
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    except Exception:
        pass


if __name__ == "__main__":
    main()
