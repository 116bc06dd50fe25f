"""tokbench's external-tokenizer protocol, versions 1, 2 and 3: the two halves a program needs, with numpy only.
Copy this file next to your tokenizer. The protocol (ARCHITECTURE.md, "External tokenizer protocol"):

    v1: tokbench runs  COMMAND... --images IMAGES.npy --out OUT.npz [--train-images TRAIN.npy --seed S] [--key=value ...]
    v2: tokbench runs  COMMAND... --protocol 2 --chunks DIR --chunk-count N --chunk-images S --first-chunk K [...]
        and writes DIR/eval-k.npy for each chunk k (a few ahead); the program writes DIR/out-k.npz for each in turn.
    v3: v2, plus, when the experiment AR-probes its runs, --encode-images ENC.npy --encode-out ENC_OUT.npz: the
        program writes the tokens of those train images (write_encoded) before it exits, so a prior can learn them;
        and with samples, a separate run  COMMAND... --protocol 3 --decode-tokens T.npy --decode-out D.npz
        --decode-height H --decode-width W --decode-channels C [...]  asks it to decode the prior's samples (write_decoded).
    IMAGES.npy      uint8 [N, H, W, C] (C = 1 or 3), the eval images in order; TRAIN.npy the same for training
    OUT.npz         tokens          integers [N, L] or [N, L, W] (W words per token), each word in 0..V-1
                    reconstructions uint8 [N, H, W, C], the decoded images in the same order
                    vocab_size      integer V (or [W] equal integers), or log2_vocab: float log2 of V
                    metric_<name>   optional float scalars you measured yourself (e.g. metric_lpips)

A minimal program, for either version:

    from tokbench_protocol import read_request, chunks, write_encoded, write_decoded
    req = read_request()                    # req.train_images (or None), req.seed, req.args (dict of str)
    if req.decode_tokens is not None:       # v3: decode an AR prior's samples (int32 [n, L] or [n, L, W]), nothing else
        write_decoded(req, my_decoder(req.decode_tokens))
        raise SystemExit(0)
    for images, write in chunks(req):       # v1: one chunk, the whole split; v2: each chunk as it arrives
        tokens, recon = my_tokenizer(images)
        write(tokens=tokens, reconstructions=recon, vocab_size=1024)
    if req.encode_images is not None:       # v3 under [ar_probe]: the train tokens the prior learns
        write_encoded(req, my_tokenizer(req.encode_images)[0])

Images are memory-mapped (np.load(mmap_mode="r")): a chunk is read from disk as the tokenizer touches it.
"""
import argparse
import os
import time
from dataclasses import dataclass, field

import numpy as np

PROTOCOL_VERSIONS = (1, 2, 3)


@dataclass
class Request:
    out: str | None                         # v1: where out.npz goes
    images: np.ndarray | None = None       # v1: uint8 [N, H, W, C], memory-mapped
    train_images: np.ndarray | None = None  # uint8 [N_train, H, W, C] when tokbench asks for training
    seed: int = 0
    args: dict = field(default_factory=dict)  # every --key=value of the experiment's args table, as strings
    protocol: int = 1
    chunks_dir: str | None = None           # v2: the exchange folder
    chunk_count: int = 0
    chunk_images: int = 0
    first_chunk: int = 0
    encode_images: np.ndarray | None = None  # v3: uint8 [M, H, W, C], train images whose tokens an AR probe learns
    encode_out: str | None = None            # v3: where those tokens go (write_encoded)
    decode_tokens: np.ndarray | None = None  # v3 decode request: int32 [n, L] or [n, L, W], an AR prior's samples
    decode_out: str | None = None            # v3: where their reconstructions go (write_decoded)
    image_shape: tuple | None = None         # v3 decode request: (H, W, C) of the reconstructions


def read_request(argv=None) -> Request:
    ap = argparse.ArgumentParser(allow_abbrev=False)   # an args key like --w=3 is the program's, not a prefix of a protocol flag
    ap.add_argument("--protocol", type=int, default=1)
    ap.add_argument("--images")
    ap.add_argument("--out")
    ap.add_argument("--chunks")
    ap.add_argument("--chunk-count", type=int, default=0)
    ap.add_argument("--chunk-images", type=int, default=0)
    ap.add_argument("--first-chunk", type=int, default=0)
    ap.add_argument("--train-images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encode-images")
    ap.add_argument("--encode-out")
    ap.add_argument("--decode-tokens")
    ap.add_argument("--decode-out")
    ap.add_argument("--decode-height", type=int)
    ap.add_argument("--decode-width", type=int)
    ap.add_argument("--decode-channels", type=int)
    known, rest = ap.parse_known_args(argv)
    if known.protocol not in PROTOCOL_VERSIONS:
        raise SystemExit(f"tokbench protocol: version {known.protocol} is not one this helper speaks ({PROTOCOL_VERSIONS})")
    args = {}
    for a in rest:
        if not a.startswith("--") or "=" not in a:
            raise SystemExit(f"tokbench protocol: expected --key=value, got {a!r}")
        k, v = a[2:].split("=", 1)
        args[k] = v
    if known.protocol == 1 and (known.images is None or known.out is None) and known.decode_tokens is None:
        raise SystemExit("tokbench protocol 1: --images and --out are required")
    return Request(out=known.out, images=np.load(known.images, mmap_mode="r") if known.images else None,
                   train_images=np.load(known.train_images, mmap_mode="r") if known.train_images else None, seed=known.seed, args=args,
                   protocol=known.protocol, chunks_dir=known.chunks, chunk_count=known.chunk_count, chunk_images=known.chunk_images,
                   first_chunk=known.first_chunk,
                   encode_images=np.load(known.encode_images, mmap_mode="r") if known.encode_images else None, encode_out=known.encode_out,
                   decode_tokens=np.load(known.decode_tokens) if known.decode_tokens else None, decode_out=known.decode_out,
                   image_shape=(known.decode_height, known.decode_width, known.decode_channels) if known.decode_tokens else None)


def chunks(req: Request, poll_seconds=0.05):
    """Yields (images, write) for each chunk in order: v1 once (the whole split, write → req.out); v2 for
    chunk k = first … count-1, waiting for tokbench's eval-k.npy, write → out-k.npz (renamed into place)."""
    if req.protocol == 1:
        yield req.images, lambda **outputs: write_outputs(req.out, **outputs)
        return
    parent = os.getppid()
    for k in range(req.first_chunk, req.chunk_count):
        path = os.path.join(req.chunks_dir, "eval-%05d.npy" % k)
        while not os.path.exists(path):
            if os.getppid() != parent:       # tokbench is gone: nobody will read what we write
                raise SystemExit(f"tokbench protocol {req.protocol}: tokbench exited")
            time.sleep(poll_seconds)
        out = os.path.join(req.chunks_dir, "out-%05d.npz" % k)

        def write(out=out, **outputs):
            part = out + ".part.npz"
            write_outputs(part, **outputs)
            os.replace(part, out)
        yield np.load(path, mmap_mode="r"), write


def write_encoded(req: Request, tokens):
    """v3: the tokens (integers [M, L] or [M, L, W], the eval tokens' L and W and word range) of req.encode_images."""
    tokens = np.asarray(tokens)
    if not np.issubdtype(tokens.dtype, np.integer) or tokens.ndim not in (2, 3) or tokens.shape[0] != len(req.encode_images):
        raise ValueError("encoded tokens must be integers [M, L] or [M, L, W], one row per encode image")
    part = req.encode_out + ".part.npz"
    with open(part, "wb") as f:
        np.savez(f, tokens=tokens.astype(np.int64))
    os.replace(part, req.encode_out)


def write_decoded(req: Request, reconstructions):
    """v3 decode request: uint8 [n, H, W, C] reconstructions of req.decode_tokens, H, W, C = req.image_shape."""
    recon = np.asarray(reconstructions)
    if recon.dtype != np.uint8 or recon.shape != (len(req.decode_tokens),) + tuple(req.image_shape):
        raise ValueError(f"decoded samples must be uint8 {(len(req.decode_tokens),) + tuple(req.image_shape)}")
    part = req.decode_out + ".part.npz"
    with open(part, "wb") as f:
        np.savez(f, reconstructions=recon)
    os.replace(part, req.decode_out)


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
    with open(path, "wb") as f:       # np.savez appends .npz to a name that lacks it; a file object keeps the name
        np.savez(f, **arrays)
