#!/usr/bin/env python3
"""A tokbench external tokenizer (protocol v1, v2 and v3) that needs only Python's standard library, for the tests.

v1: reads --images (uint8 [N, H, W, C] .npy), writes --out (an .npz).
v2 (--protocol 2 --chunks DIR --chunk-count K --chunk-images S --first-chunk F): for each chunk k = F … K-1
waits for DIR/eval-k.npy, writes DIR/out-k.npz (through a .part file renamed into place). Every mode below
applies to each chunk; --die-once FILE kills the program with SIGKILL at chunk --die-at (once: FILE marks it),
--chunk-log FILE appends "chunk k" for every chunk written.
v3 (--protocol 3): v2, and with --encode-images PATH --encode-out PATH (an AR probe's request) it writes the
tokens of those train images to PATH (an .npz with 'tokens', after the last chunk; --mode no-encode: it does not;
--die-at equal to --chunk-count kills it after the last chunk, before the tokens).
v3 decode request (--decode-tokens PATH --decode-out PATH --decode-height H --decode-width W --decode-channels C): the samples'
tokens (int32 [n, L]) decoded to reconstructions[n, y, x, c] = 16 * tokens[n, (y/4)*(W/4) + x/4] mod 256
(--mode decode-shape: one row too few).
The outputs are known in closed form,
so the tests can hand-compute what tokbench must record:
  reconstructions = images XOR 1 (every byte off by exactly one: per-image MSE 1, PSNR 10*log10(255^2));
  tokens[n, l] = (n*L + l) % V with L = (H/4)*(W/4) and V = --vocab (default 16); the train images' the same
  with n their index in the train file.
--mode picks a failure instead: exit, timeout, missing, shape, dtype, oob, garbage, grow (v2: L + 1 after the first chunk)
(or log2: log2_vocab = 4 instead of vocab_size).
Hostile modes (the program misbehaves; tokbench must bound every wait and allocation):
  term-ignored   ignores SIGTERM and has a child that sleeps: the timeout must still hold (SIGKILL).
  grandchild     sleeps; its grandchild, in a session of its own, ignores SIGTERM.
  leave-child    writes valid outputs, then leaves a setsid child holding stdout/stderr for 30 s: finished, at once.
  progress       4 MB of progress bar on stderr without a newline (\r only), then valid outputs: finished.
  zipbomb        out.npz whose 'tokens' (uint8) inflates to 1 GiB from about 1 MB: a real deflate stream.
Each hostile child writes its pid to PIDFILE (--pidfile) so the tests can check /proc afterwards.
"""
import argparse, ast, os, signal, struct, sys, time, zipfile, zlib


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
    ap.add_argument("--images")
    ap.add_argument("--out")
    ap.add_argument("--protocol", type=int, default=1)
    ap.add_argument("--chunks")
    ap.add_argument("--chunk-count", type=int)
    ap.add_argument("--chunk-images", type=int)
    ap.add_argument("--first-chunk", type=int, default=0)
    ap.add_argument("--die-once")
    ap.add_argument("--die-at", type=int, default=1)
    ap.add_argument("--chunk-log")
    ap.add_argument("--encode-images")
    ap.add_argument("--encode-out")
    ap.add_argument("--decode-tokens")
    ap.add_argument("--decode-out")
    ap.add_argument("--decode-height", type=int)
    ap.add_argument("--decode-width", type=int)
    ap.add_argument("--decode-channels", type=int)
    ap.add_argument("--train-images")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--mode", default="ok")
    ap.add_argument("--vocab", type=int, default=16)
    ap.add_argument("--pidfile")
    a = ap.parse_args()

    note_pid = lambda pid: write_pid(a, pid)

    if a.mode == "term-ignored":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pid = os.fork()
        if pid == 0:
            time.sleep(120); os._exit(0)
        note_pid(pid); note_pid(os.getpid())
        time.sleep(120)
    if a.mode == "grandchild":
        if os.fork() == 0:
            if os.fork() == 0:
                os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN)
                note_pid(os.getpid())
                time.sleep(120); os._exit(0)
            time.sleep(120); os._exit(0)
        time.sleep(120)
    if a.decode_tokens:
        decode(a)
        return
    if a.protocol in (2, 3):
        parent = os.getppid()
        for k in range(a.first_chunk, a.chunk_count):
            images = os.path.join(a.chunks, "eval-%05d.npy" % k)
            while not os.path.exists(images):      # tokbench writes chunks ahead; stop if it is gone
                if os.getppid() != parent: sys.exit(1)
                time.sleep(0.02)
            if a.die_once and k == a.die_at and not os.path.exists(a.die_once):
                open(a.die_once, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
            out = os.path.join(a.chunks, "out-%05d.npz" % k)
            one(a, images, out + ".part", first=k * a.chunk_images)
            if os.path.exists(out + ".part"): os.replace(out + ".part", out)
            if a.chunk_log:
                with open(a.chunk_log, "a") as f: f.write("chunk %d\n" % k)
        if a.die_once and a.die_at == a.chunk_count and not os.path.exists(a.die_once):   # after the last chunk, before the train tokens
            open(a.die_once, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        if a.protocol == 3 and a.encode_images and a.mode != "no-encode":
            (N, H, W, C), _ = read_npy(a.encode_images)
            L, V = (H // 4) * (W // 4), a.vocab
            tokens = [(n * L + l) % V for n in range(N) for l in range(L)]
            with zipfile.ZipFile(a.encode_out + ".part", "w", zipfile.ZIP_STORED) as z:
                z.writestr("tokens.npy", npy("<i8", (N, L), struct.pack("<%dq" % len(tokens), *tokens)))
            os.replace(a.encode_out + ".part", a.encode_out)
            if a.chunk_log:
                with open(a.chunk_log, "a") as f: f.write("encoded %d\n" % N)
        return
    one(a, a.images, a.out, first=0)


def decode(a):
    b = open(a.decode_tokens, "rb").read()
    n = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + n].decode("latin1"))
    assert h["descr"] == "<i4", h
    N, L = h["shape"][0], h["shape"][1]
    tokens = struct.unpack("<%di" % (len(b[10 + n:]) // 4), b[10 + n:])
    H, W, C = a.decode_height, a.decode_width, a.decode_channels
    rows = H - 1 if a.mode == "decode-shape" else H
    recon = bytes((16 * tokens[i * L + (y // 4) * (W // 4) + x // 4]) % 256
                  for i in range(N) for y in range(rows) for x in range(W) for c in range(C))
    with zipfile.ZipFile(a.decode_out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("reconstructions.npy", npy("|u1", (N, rows, W, C), recon))


def write_pid(a, pid):
    if a.pidfile:
        with open(a.pidfile, "a") as f: f.write("%d\n" % pid)


def one(a, images_path, out_path, first):
    """One request: the images at images_path (image 0 is image `first` of the split) to out_path."""
    (N, H, W, C), pixels = read_npy(images_path)
    if a.train_images:
        (Nt, _, _, _), _ = read_npy(a.train_images)
        print("training on %d images, seed %d" % (Nt, a.seed), file=sys.stderr)
    if a.mode == "exit":
        print("something went wrong on the GPU", file=sys.stderr)
        sys.exit(3)
    if a.mode == "timeout":
        time.sleep(60)
    L, V = (H // 4) * (W // 4), a.vocab
    if a.mode == "grow" and first > 0:   # v2: every chunk after the first has one token more per image
        L += 1
    recon = bytes(p ^ 1 for p in pixels)
    tokens = [((first + n) * L + l) % V for n in range(N) for l in range(L)]
    arrays = {
        "reconstructions": npy("|u1", (N, H, W, C), recon),
        "tokens": npy("<i8", (N, L), struct.pack("<%dq" % len(tokens), *tokens)),
        "vocab_size": npy("<i8", (), struct.pack("<q", V)),
        "metric_fake_lpips": npy("<f8", (), struct.pack("<d", 0.125)),
    }
    if a.mode == "missing":
        del arrays["vocab_size"]
    if a.mode in ("log2", "log2-32"):   # log2_vocab instead of vocab_size: same tokens, V = 2^4 (or 2^32, the largest word)
        del arrays["vocab_size"]
        arrays["log2_vocab"] = npy("<f8", (), struct.pack("<d", 4.0 if a.mode == "log2" else 32.0))
    if a.mode == "shape":
        arrays["reconstructions"] = npy("|u1", (N, H, W + 1, C), recon + bytes(N * H * C))
    if a.mode == "dtype":
        arrays["reconstructions"] = npy("<f4", (N, H, W, C), struct.pack("<%df" % len(recon), *recon))
    if a.mode == "oob":
        tokens[5] = V
        arrays["tokens"] = npy("<i8", (N, L), struct.pack("<%dq" % len(tokens), *tokens))
    if a.mode == "garbage":
        open(out_path, "wb").write(b"PK\x03\x04 this is not a zip archive")
        return
    if a.mode == "progress":
        sys.stderr.write("x" * (4 << 20))
        for i in range(50000): sys.stderr.write("\r%d%%" % (i * 100 // 50000))
        sys.stderr.flush()
    if a.mode == "zipbomb":
        # 1 GiB of zero tokens (uint8, which tokbench widens to 8 bytes each) deflates to about 1 MB; the
        # entry is honest (sizes and CRC match), so only a check of the header's shape can refuse it early.
        per = (1 << 30) // N
        header = npy("|u1", (N, per), b"")
        declared = len(header) + N * per
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        chunk = bytes(1 << 20)
        crc = zlib.crc32(header)
        parts = [c.compress(header)]
        for _ in range(N * per >> 20):
            parts.append(c.compress(chunk)); crc = zlib.crc32(chunk, crc)
        rest = bytes(N * per - ((N * per >> 20) << 20))
        parts.append(c.compress(rest)); crc = zlib.crc32(rest, crc)
        parts.append(c.flush())
        data = b"".join(parts)
        with zipfile.ZipFile(out_path, "w", zipfile.ZIP_STORED) as z:
            for name, d in arrays.items():
                if name != "tokens": z.writestr(name + ".npy", d)
        # append the bomb entry by hand: local header, data, central directory (zip64 sizes)
        raw = open(out_path, "rb").read()
        eocd = raw.rfind(b"PK\x05\x06")
        cd_off = struct.unpack("<I", raw[eocd + 16:eocd + 20])[0]
        cd_size = struct.unpack("<I", raw[eocd + 12:eocd + 16])[0]
        count = struct.unpack("<H", raw[eocd + 10:eocd + 12])[0]
        body, cd = raw[:cd_off], raw[cd_off:cd_off + cd_size]
        name = b"tokens.npy"
        extra = struct.pack("<HHQQ", 1, 16, declared, len(data))
        local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)) + name + extra
        off = len(body)
        central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, off) + name + extra
        new_body = body + local + data
        new_cd = cd + central
        end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, count + 1, count + 1, len(new_cd), len(new_body), 0)
        open(out_path, "wb").write(new_body + new_cd + end)
        return
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_STORED) as z:
        for name, data in arrays.items():
            z.writestr(name + ".npy", data)
    print("wrote %s" % out_path)
    if a.mode == "leave-child":
        pid = os.fork()
        if pid == 0:
            os.setsid()
            time.sleep(30); os._exit(0)
        write_pid(a, pid)


if __name__ == "__main__":
    main()
