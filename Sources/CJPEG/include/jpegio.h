// JPEG decoding through libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev).
// TurboJPEG keeps libjpeg's setjmp/longjmp inside the library; errors come back to Swift
// as a non-zero return plus a one-line message.
#ifndef TOKBENCH_JPEGIO_H
#define TOKBENCH_JPEGIO_H
#include <stddef.h>
#include <stdint.h>

// Reads the JPEG header: size and the channels tb_jpeg_decode will produce
// (1 for grayscale JPEGs, 3 for everything else: YCbCr, RGB, CMYK, YCCK).
// Returns 0 on success, -1 with a message in err otherwise.
int tb_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                   char *err, size_t err_size);

// Decodes a JPEG held in memory into channel-planar 8-bit pixels [C, H, W] written to
// `planar` (out_size must be exactly C*H*W as given by tb_jpeg_header). CMYK/YCCK JPEGs
// are converted to RGB (R = (255-C)(255-K)/255, …); files with an Adobe APP14 marker
// store inverted CMYK (Photoshop's convention) and are handled as such. Warnings from the
// codec (e.g. "Premature end of JPEG file") count as errors: a damaged file never yields
// half-gray pixels silently. Returns 0 on success, -1 with a message in err otherwise.
int tb_jpeg_decode(const uint8_t *data, size_t size, uint8_t *planar, size_t out_size,
                   char *err, size_t err_size);

// Encodes interleaved 8-bit pixels [H, W, C] (C = 1 or 3) as a baseline JPEG of `quality`
// (1-100, 4:2:0 chroma for colour). *out is allocated by the library: free it with
// tb_jpeg_free. Returns 0 on success, -1 with a message in err otherwise.
int tb_jpeg_encode(const uint8_t *hwc, int width, int height, int channels, int quality,
                   uint8_t **out, size_t *out_size, char *err, size_t err_size);
void tb_jpeg_free(uint8_t *p);
#endif
