// PNG read/write through libpng's classic API. Errors longjmp inside C and come back
// to Swift as a non-zero return plus a message — Swift never sees a longjmp.
#ifndef TOKBENCH_PNGIO_H
#define TOKBENCH_PNGIO_H
#include <stddef.h>
#include <stdint.h>

// Decodes a PNG held in memory into 8-bit interleaved pixels: 1 channel for gray (and
// gray+alpha), 3 for everything else (RGB, RGBA, palette). Palette and low bit depths are
// expanded, 16-bit is scaled to 8 with rounding, alpha is dropped, interlacing is handled.
// On success returns 0 and *pixels (malloc'd, free with tb_png_free) holds H*W*C bytes.
// On failure returns -1 and err holds a one-line message.
int tb_png_decode(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height,
                  int *channels, char *err, size_t err_size);

// Encodes 8-bit interleaved pixels (channels 1 or 3) as a PNG at zlib level `level` (0-9).
// On success returns 0 and *out (malloc'd, free with tb_png_free) holds *out_size bytes.
int tb_png_encode(const uint8_t *pixels, int width, int height, int channels, int level,
                  uint8_t **out, size_t *out_size, char *err, size_t err_size);

void tb_png_free(void *p);
#endif
