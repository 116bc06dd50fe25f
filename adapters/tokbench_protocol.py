"""tokbench's external-tokenizer protocol, version 1: the two halves a program needs, with numpy only.
Copy this file next to your tokenizer. The protocol (ARCHITECTURE.md, "External tokenizer protocol"):

    tokbench runs:  COMMAND... --images IMAGES.npy --out OUT.npz [--train-images TRAIN.npy --seed S] [--key=value ...]
    IMAGES.npy      uint8 [N, H, W, C] (C = 1 or 3), the eval images in order; TRAIN.npy the same for training
    OUT.npz         tokens          integers [N, L] or [N, L, W] (W words per token), each word in 0..V-1
                    reconstructions uint8 [N, H, W, C], the decoded images in the same order
                    vocab_size      integer V (or [W] equal integers), or log2_vocab: float log2 of V
                    metric_<name>   optional float scalars you measured yourself (e.g. metric_lpips)

A minimal program:

    from tokbench_protocol import read_request, write_outputs
    req = read_request()                    # req.images, req.train_images (or None), req.seed, req.args (dict of str)
    tokens, recon = my_tokenizer(req.images)
    write_outputs(req.out, tokens=tokens, reconstructions=recon, vocab_size=1024)
"""
import argparse
from dataclasses import dataclass, field

import numpy as np

PROTOCOL_VERSION = 1


@dataclass
class Request:
    images: np.ndarray                      # uint8 [N, H, W, C]
    out: str
    train_images: np.ndarray | None = None  # uint8 [N_train, H, W, C] when tokbench asks for training
    seed: int = 0
    args: dict = field(default_factory=dict)  # every --key=value of the experiment's args table, as strings


def read_request(argv=None) -> Request:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train-images")
    ap.add_argument("--seed", type=int, default=0)
    known, rest = ap.parse_known_args(argv)
    args = {}
    for a in rest:
        if not a.startswith("--") or "=" not in a:
            raise SystemExit(f"tokbench protocol: expected --key=value, got {a!r}")
        k, v = a[2:].split("=", 1)
        args[k] = v
    return Request(images=np.load(known.images), out=known.out,
                   train_images=np.load(known.train_images) if known.train_images else None, seed=known.seed, args=args)


def write_outputs(path, tokens, reconstructions, vocab_size=None, log2_vocab=None, metrics=None):
    tokens = np.asarray(tokens)
    recon = np.asarray(reconstructions)
    if recon.dtype != np.uint8:
        raise ValueError("reconstructions must be uint8 [N, H, W, C] (round and clip before writing)")
    if not np.issubdtype(tokens.dtype, np.integer) or tokens.ndim not in (2, 3):
        raise ValueError("tokens must be integers [N, L] or [N, L, W]")
    if (vocab_size is None) == (log2_vocab is None):
        raise ValueError("give vocab_size or log2_vocab")
    arrays = {"tokens": tokens.astype(np.int64), "reconstructions": recon}
    if vocab_size is not None:
        arrays["vocab_size"] = np.asarray(vocab_size, dtype=np.int64)
    else:
        arrays["log2_vocab"] = np.float64(log2_vocab)
    for name, value in (metrics or {}).items():
        arrays["metric_" + name] = np.float64(value)
    np.savez(path, **arrays)
