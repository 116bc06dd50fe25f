# Regenerates the loader fixtures (pip install pillow numpy). Committed; tests never run this.
# JPEGs use flat colour blocks aligned to the 16×16 MCU so the JPEG error is a few levels.
import io, struct, zipfile
import numpy as np
from PIL import Image

# --- JPEG -------------------------------------------------------------------------------
# RGB: 3×2 blocks of 16×16 (W=48, H=32); block (bx, by) has colour RGB_BLOCKS[by][bx].
RGB_BLOCKS = [[(200, 30, 40), (20, 180, 60), (40, 60, 220)],
              [(250, 250, 250), (10, 10, 10), (128, 200, 90)]]
GRAY_BLOCKS = [[0, 90, 255], [180, 40, 128]]          # 8×8 blocks, W=24, H=16
CMYK_BLOCKS = [[(0, 200, 200, 30), (180, 0, 160, 0), (200, 160, 0, 40)],   # C, M, Y, K ink
               [(0, 0, 0, 0), (0, 0, 0, 230), (100, 20, 150, 50)]]

def blocks(rows, bs, mode):
    h, w = len(rows) * bs, len(rows[0]) * bs
    im = Image.new(mode, (w, h))
    for by, row in enumerate(rows):
        for bx, v in enumerate(row):
            im.paste(v, (bx * bs, by * bs, (bx + 1) * bs, (by + 1) * bs))
    return im

blocks(RGB_BLOCKS, 16, 'RGB').save('rgb_baseline.jpg', quality=95)
blocks(RGB_BLOCKS, 16, 'RGB').save('rgb_progressive.jpg', quality=95, progressive=True)
blocks(GRAY_BLOCKS, 8, 'L').save('gray.jpg', quality=95)
blocks(CMYK_BLOCKS, 16, 'CMYK').save('cmyk.jpg', quality=95)    # Pillow writes Adobe (inverted) CMYK
# Truncated inside the entropy-coded scan (headers intact): libjpeg only warns
# "Premature end of JPEG file" here and would fill the rest with gray; the loader must refuse.
d = open('rgb_baseline.jpg', 'rb').read()
sos = d.index(b'\xff\xda')
open('truncated.jpg', 'wb').write(d[:sos + (len(d) - sos) // 2])

# --- CIFAR-10 binary -----------------------------------------------------------------------
# record r: label LABELS[r], then planes R, G, B (1024 bytes each, row-major 32×32).
LABELS = [3, 7, 9]
def cifar_record(r):
    p = np.arange(1024)
    planes = [(r * 50 + p) % 256, (r * 50 + 2 * p + 1) % 256, (r * 50 + 3 * p + 2) % 256]
    return bytes([LABELS[r]]) + b''.join(bytes(x.astype(np.uint8)) for x in planes)
cifar = b''.join(cifar_record(r) for r in range(3))
open('tiny_cifar.bin', 'wb').write(cifar)
open('truncated_cifar.bin', 'wb').write(cifar[:-100])

# --- npz (Imagenet64_train_npz layout) ---------------------------------------------------
# data[n] = channel-planar 64×64×3: value (n·37 + c·80 + y·3 + x) mod 256.
n, c, y, x = np.meshgrid(np.arange(2), np.arange(3), np.arange(64), np.arange(64), indexing='ij')
data = ((n * 37 + c * 80 + y * 3 + x) % 256).astype(np.uint8).reshape(2, 12288)
labels = np.array([5, 999], dtype=np.int64)
np.savez('tiny_imagenet64.npz', data=data, labels=labels)
np.savez_compressed('tiny_imagenet64_compressed.npz', data=data, labels=labels)
np.savez('no_data_key.npz', images=data, labels=labels)
np.savez('float_data.npz', data=np.zeros((2, 3), dtype=np.float32))
d = bytearray(open('tiny_imagenet64_compressed.npz', 'rb').read())
for i in range(200, 260): d[i] ^= 0x5A          # damage the deflate stream of 'data'
open('corrupt.npz', 'wb').write(bytes(d))

# The same CMYK file without its Adobe APP14 segment: decoders must then read the stored
# values as plain (non-inverted) CMYK.
d = open('cmyk.jpg', 'rb').read()
i = d.index(b'\xff\xee')
seg = 2 + (d[i + 2] << 8 | d[i + 3])
assert d[i + 4:i + 9] == b'Adobe'
open('cmyk_no_adobe.jpg', 'wb').write(d[:i] + d[i + seg:])

# zip64 central-directory fields (as in archives > 4 GB), made small by lowering zipfile's
# zip64 threshold: sizes and offsets read 0xFFFFFFFF and live in the zip64 extra field.
zipfile.ZIP64_LIMIT = 100
with zipfile.ZipFile('zip64_fields.npz', 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for k, a in (('labels', labels), ('data', data)):
        b = io.BytesIO(); np.lib.format.write_array(b, a, version=(2, 0)); z.writestr(zipfile.ZipInfo(k + '.npy', (1980, 1, 1, 0, 0, 0)), b.getvalue(), zipfile.ZIP_DEFLATED)
