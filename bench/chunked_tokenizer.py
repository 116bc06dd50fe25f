#!/usr/bin/env python3
"""A numpy stand-in tokenizer for the external-protocol benchmark (scripts/bench-external.sh), through
adapters/tokbench_protocol.py, so it speaks protocol 1 and 2 alike. Cheap on purpose, so that the benchmark
measures tokbench (memory, chunks, resume), not a network:
  reconstructions = images XOR 1 (every byte off by one);
  tokens = one per 16x16 patch, its mean colour at 5 bits per channel (V = 32768), as `tokbench bench pairs`.
--chunk-log FILE appends "chunk k" once each chunk's outputs are written (the benchmark checks no chunk is
written twice across a kill and a resume)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "adapters"))
from tokbench_protocol import chunks, read_request  # noqa: E402


def main():
    req = read_request()
    log = req.args.get("chunk-log")
    for k, (images, write) in enumerate(chunks(req), start=req.first_chunk):
        x = np.asarray(images)                                    # uint8 [N, H, W, C]
        n, h, w, c = x.shape
        p = x.reshape(n, h // 16, 16, w // 16, 16, c).astype(np.int64).sum(axis=(2, 4)) // 256   # [N, h/16, w/16, C] means
        if c == 1:
            p = np.repeat(p, 3, axis=3)
        tokens = ((p[..., 0] >> 3) << 10 | (p[..., 1] >> 3) << 5 | (p[..., 2] >> 3)).reshape(n, -1)
        write(tokens=tokens, reconstructions=x ^ 1, vocab_size=32768)
        if log:
            with open(log, "a") as f:
                f.write("chunk %d\n" % k)


if __name__ == "__main__":
    main()
