# Regenerates malformed/: files every decoder must reject with a one-line error (never a crash).
# Run from this folder with python3 (numpy, Pillow). The files are committed; tests never run this.
import io, os, struct, zlib, gzip, zipfile
import numpy as np
from PIL import Image

out = "malformed"
os.makedirs(out, exist_ok=True)
def w(name, data): open(os.path.join(out, name), "wb").write(data)

# A good PNG and JPEG to damage.
img = Image.fromarray((np.arange(24 * 16 * 3) % 251).astype(np.uint8).reshape(16, 24, 3))
b = io.BytesIO(); img.save(b, "PNG"); png = b.getvalue()
b = io.BytesIO(); img.save(b, "JPEG", quality=90); jpg = b.getvalue()

w("png-empty.png", b"")
w("png-signature-only.png", png[:8])
w("png-truncated-ihdr.png", png[:20])
w("png-truncated-idat.png", png[:len(png) - 30])
bad = bytearray(png); bad[29] ^= 0xFF; w("png-bad-ihdr-crc.png", bytes(bad))
ihdr = struct.pack(">IIBBBBB", 0, 16, 8, 2, 0, 0, 0)
w("png-zero-width.png", png[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:])
ihdr = struct.pack(">IIBBBBB", 1 << 30, 1 << 30, 8, 2, 0, 0, 0)
w("png-huge-dimensions.png", png[:8] + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:])
w("png-is-text.png", b"hello, not an image\n")

w("jpeg-empty.jpg", b"")
w("jpeg-soi-only.jpg", b"\xff\xd8")
w("jpeg-truncated-header.jpg", jpg[:60])
w("jpeg-truncated-scan.jpg", jpg[:len(jpg) * 2 // 3])
bad = bytearray(jpg); bad[2:40] = b"\x00" * 38; w("jpeg-garbage-markers.jpg", bytes(bad))

def idx(magic, n, r, c, payload): return struct.pack(">IIII", magic, n, r, c) + payload
w("idx-bad-magic-idx3-ubyte", idx(0x0801, 1, 2, 2, bytes(4)))
w("idx-short-header-idx3-ubyte", b"\x00\x00\x08\x03\x00")
w("idx-truncated-idx3-ubyte", idx(0x0803, 10, 28, 28, bytes(100)))
w("idx-zero-rows-idx3-ubyte", idx(0x0803, 1, 0, 28, b""))
w("idx-bad-gzip-idx3-ubyte.gz", gzip.compress(idx(0x0803, 1, 2, 2, bytes(4)))[:25])

w("cifar-one-byte.bin", b"\x03")
w("cifar-not-a-multiple.bin", bytes(3072))
w("cifar-label-out-of-range.bin", bytes([42]) + bytes(3072))

w("npz-empty.npz", b"")
w("npz-not-a-zip.npz", b"PK\x03\x04 this is not really a zip")
arr = io.BytesIO(); np.savez(arr, data=np.zeros((2, 12288), np.uint8)); z = arr.getvalue()
w("npz-truncated.npz", z[: len(z) // 2])
arr = io.BytesIO(); np.savez(arr, images=np.zeros((2, 12288), np.uint8)); w("npz-no-data-key.npz", arr.getvalue())
arr = io.BytesIO(); np.savez(arr, data=np.zeros((2, 12288), np.float32)); w("npz-float-dtype.npz", arr.getvalue())
arr = io.BytesIO(); np.savez(arr, data=np.zeros((2, 100), np.uint8)); w("npz-wrong-shape.npz", arr.getvalue())
zb = io.BytesIO()
with zipfile.ZipFile(zb, "w") as zf: zf.writestr("data.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '|u1'")
w("npz-bad-npy-header.npz", zb.getvalue())

w("toml-unterminated-string.toml", b'name = "x\n')
w("toml-duplicate-key.toml", b'name = "a"\nname = "b"\n')
w("toml-bare-word.toml", b'name = hello\n')
w("toml-unknown-key.toml", b'name = "a"\ncolour = 3\n[dataset]\nkind = "fashion-mnist"\n[[tokenizer]]\nkind = "raw-patch"\n')
w("toml-wrong-type.toml", b'name = "a"\n[dataset]\nkind = "fashion-mnist"\n[[tokenizer]]\nkind = "raw-patch"\nbits = "eight"\n')
w("toml-missing-name.toml", b'[dataset]\nkind = "fashion-mnist"\n')
w("toml-binary-garbage.toml", bytes(range(256)))
w("toml-unclosed-array.toml", b'name = "a"\nseeds = [1, 2\n')

w("lossless-empty.tbl", b"")
w("lossless-bad-magic.tbl", b"\x00\x01\x02\x03")
w("lossless-header-only.tbl", bytes([0xA1]))
w("lossless-garbage.tbl", bytes([0xA1]) + bytes((i * 37) % 256 for i in range(200)))

# Hostile sizes (the security issue): cheap to store, expensive to decode if the header is believed.
# A 46,000 x 46,000 gray PNG whose IDAT holds only a few rows (a few KB): refused by its IHDR size.
ihdr = struct.pack(">IIBBBBB", 46000, 46000, 8, 0, 0, 0, 0)
c = zlib.compressobj(9); idat = b"".join(c.compress(b"\0" * 46001) for _ in range(50)) + c.flush()
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
w("png-46000-square.png", png[:8] + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
# An npz whose 'data' is an honest deflate stream of 512 MiB of zeros (about 520 KB): its header's shape
# (1, 2^29) is refused before anything is inflated.
h = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 536870912), }"; h += " " * (-(11 + len(h)) % 64) + "\n"
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("data.npy", "w", force_zip64=True) as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
        for _ in range(512): f.write(bytes(1 << 20))
w("npz-inflate-bomb.npz", b.getvalue())
