#!/usr/bin/env python3
"""A tokbench external tokenizer (protocol v1) that needs only Python's standard library, for the tests.

Reads --images (uint8 [N, H, W, C] .npy), writes --out (an .npz). The outputs are known in closed form,
so the tests can hand-compute what tokbench must record:
  reconstructions = images XOR 1 (every byte off by exactly one: per-image MSE 1, PSNR 10*log10(255^2));
  tokens[n, l] = (n*L + l) % V with L = (H/4)*(W/4) and V = --vocab (default 16).
--mode picks a failure instead: exit, timeout, missing, shape, dtype, oob, garbage (or log2: log2_vocab = 4 instead of vocab_size).
"""
import argparse, ast, struct, sys, time, zipfile


def read_npy(path):
    b = open(path, "rb").read()
    assert b[:6] == b"\x93NUMPY", "not an npy file"
    n = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + n].decode("latin1"))
    assert h["descr"] == "|u1" and not h["fortran_order"], h
    return h["shape"], b[10 + n:]


def npy(dtype, shape, data):
    dims = "(%s)" % (", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, dims)
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train-images")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--vocab", type=int, default=16)
    a = ap.parse_args()
    (N, H, W, C), pixels = read_npy(a.images)
    if a.train_images:
        (Nt, _, _, _), _ = read_npy(a.train_images)
        print("training on %d images, seed %d" % (Nt, a.seed), file=sys.stderr)
    if a.mode == "exit":
        print("something went wrong on the GPU", file=sys.stderr)
        sys.exit(3)
    if a.mode == "timeout":
        time.sleep(60)
    L, V = (H // 4) * (W // 4), a.vocab
    recon = bytes(p ^ 1 for p in pixels)
    tokens = [(n * L + l) % V for n in range(N) for l in range(L)]
    arrays = {
        "reconstructions": npy("|u1", (N, H, W, C), recon),
        "tokens": npy("<i8", (N, L), struct.pack("<%dq" % len(tokens), *tokens)),
        "vocab_size": npy("<i8", (), struct.pack("<q", V)),
        "metric_fake_lpips": npy("<f8", (), struct.pack("<d", 0.125)),
    }
    if a.mode == "missing":
        del arrays["vocab_size"]
    if a.mode == "log2":   # log2_vocab instead of vocab_size: same tokens, V = 2^4
        del arrays["vocab_size"]
        arrays["log2_vocab"] = npy("<f8", (), struct.pack("<d", 4.0))
    if a.mode == "shape":
        arrays["reconstructions"] = npy("|u1", (N, H, W + 1, C), recon + bytes(N * H * C))
    if a.mode == "dtype":
        arrays["reconstructions"] = npy("<f4", (N, H, W, C), struct.pack("<%df" % len(recon), *recon))
    if a.mode == "oob":
        tokens[5] = V
        arrays["tokens"] = npy("<i8", (N, L), struct.pack("<%dq" % len(tokens), *tokens))
    if a.mode == "garbage":
        open(a.out, "wb").write(b"PK\x03\x04 this is not a zip archive")
        return
    with zipfile.ZipFile(a.out, "w", zipfile.ZIP_STORED) as z:
        for name, data in arrays.items():
            z.writestr(name + ".npy", data)
    print("wrote %s" % a.out)


if __name__ == "__main__":
    main()
