#!/usr/bin/env python3
"""The PyTorch peer of `tokbench bench ar`: the same AR prior as tokbench's Probing/ARPrior.swift.

Input [BOS, w_0 .. w_{T-2}] (BOS = V) -> nn.Embedding(V+1, C) + a learned [T, C] position embedding ->
`layers` pre-norm blocks (LayerNorm -> causal multi-head self-attention with a fused qkv Linear(C, 3C) and
Linear(C, C) projection; LayerNorm -> Linear(C, 4C) -> exact GELU -> Linear(4C, C)) -> LayerNorm ->
Linear(C, V) -> cross-entropy against [w_0 .. w_{T-1}]; Adam (lr 1e-3, no weight decay), fp32, CPU.
Steps through the token file's rows in order, `batch` rows a step, as tokbench does.
  --serve: print "ready", then answer each "round" line on stdin with "img/s X" (sequences per second
  over one pass of the file, the same count of steps as tokbench's block).
Needs: pip install torch numpy."""
import argparse, math, sys, time
import numpy as np

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--features", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    words = torch.from_numpy(np.load(a.tokens).astype(np.int64))
    N, T = words.shape
    V, C, H = a.vocab, a.features, a.heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(C), nn.LayerNorm(C)
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.fc1, self.fc2 = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        def forward(self, x):
            B = x.shape[0]
            q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
            x = x + self.proj(o)
            return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))

    class Prior(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(V + 1, C), nn.Parameter(torch.randn(T, C) * 0.02)
            self.blocks = nn.ModuleList([Block() for _ in range(a.layers)])
            self.norm, self.head = nn.LayerNorm(C), nn.Linear(C, V)
        def forward(self, w):
            x = torch.cat([torch.full((w.shape[0], 1), V, dtype=torch.long), w[:, :-1]], 1)
            h = self.tok(x) + self.pos
            for b in self.blocks:
                h = b(h)
            return self.head(self.norm(h))

    model = Prior()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = N // a.batch

    def step(i):
        w = words[i * a.batch:(i + 1) * a.batch]
        loss = F.cross_entropy(model(w).reshape(-1, V), w.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    step(0)
    if a.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() != "round":
                continue
            t0 = time.perf_counter()
            for i in range(steps):
                step(i)
            print(f"img/s {steps * a.batch / (time.perf_counter() - t0):.3f}", flush=True)
    else:
        t0 = time.perf_counter()
        for i in range(steps):
            loss = step(i)
        print(f"{steps * a.batch / (time.perf_counter() - t0):.1f} sequences/s, loss {loss:.4f}")

if __name__ == "__main__":
    main()
