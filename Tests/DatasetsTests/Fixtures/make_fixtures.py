# Regenerates Fixtures/ (pip install pypng). The fixtures are committed; tests never run this.
import png, gzip, struct
W, H = 5, 3
gray = [[(x * 50 + y * 7) % 256 for x in range(W)] for y in range(H)]
rgb = [[((x * 40 + y * 9) % 256, (255 - x * 30 - y * 11) % 256, (x * y * 17 + 3) % 256) for x in range(W)] for y in range(H)]
png.Writer(W, H, greyscale=True, bitdepth=8).write(open('gray8.png', 'wb'), gray)
png.Writer(W, H, greyscale=True, bitdepth=16).write(open('gray16.png', 'wb'), [[v * 257 for v in r] for r in gray])
for bd in (1, 2, 4):
    m = (1 << bd) - 1
    png.Writer(W, H, greyscale=True, bitdepth=bd).write(open(f'gray{bd}.png', 'wb'), [[(x + y) % (m + 1) for x in range(W)] for y in range(H)])
png.Writer(W, H, greyscale=True, alpha=True, bitdepth=8).write(open('graya8.png', 'wb'), [[v for g in r for v in (g, (g * 3) % 256)] for r in gray])
png.Writer(W, H, greyscale=False, bitdepth=8).write(open('rgb8.png', 'wb'), [[v for p in r for v in p] for r in rgb])
png.Writer(W, H, greyscale=False, bitdepth=16).write(open('rgb16.png', 'wb'), [[v * 257 for p in r for v in p] for r in rgb])
png.Writer(W, H, greyscale=False, alpha=True, bitdepth=8).write(open('rgba8.png', 'wb'), [[v for p in r for v in p + (128,)] for r in rgb])
pal = [(10, 20, 30), (200, 100, 50), (0, 255, 0), (255, 255, 255)]
png.Writer(W, H, palette=pal, bitdepth=8).write(open('palette8.png', 'wb'), [[(x + 2 * y) % 4 for x in range(W)] for y in range(H)])
png.Writer(W, H, palette=pal, bitdepth=2).write(open('palette2.png', 'wb'), [[(x + 2 * y) % 4 for x in range(W)] for y in range(H)])
png.Writer(W, H, greyscale=False, bitdepth=8, interlace=True).write(open('rgb8_interlaced.png', 'wb'), [[v for p in r for v in p] for r in rgb])
png.Writer(W, H, greyscale=True, bitdepth=16, interlace=True).write(open('gray16_interlaced.png', 'wb'), [[v * 257 for v in r] for r in gray])
d = open('rgb8.png', 'rb').read(); open('truncated.png', 'wb').write(d[:len(d) // 2])
open('not_a_png.png', 'w').write("this is text, not an image\n")
def idx(magic, n, r, c, data): return struct.pack('>IIII', magic, n, r, c) + bytes(data)
open('tiny-images-idx3-ubyte', 'wb').write(idx(0x803, 2, 3, 4, range(24)))
open('tiny-images-idx3-ubyte.gz', 'wb').write(gzip.compress(idx(0x803, 2, 3, 4, range(24))))
open('badmagic-idx3-ubyte', 'wb').write(idx(0x801, 2, 3, 4, range(24)))
open('short-idx3-ubyte', 'wb').write(idx(0x803, 5, 3, 4, range(24)))
