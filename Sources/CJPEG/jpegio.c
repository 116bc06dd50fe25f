#include "jpegio.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define MAX_PIXELS ((size_t)1 << 29)  // 512 Mpixel: refuse absurd headers before allocating

static void set_err(char *err, size_t err_size, const char *prefix, tjhandle h) {
  const char *msg = h ? tjGetErrorStr2(h) : tjGetErrorStr2(NULL);
  snprintf(err, err_size, "%s%s", prefix, msg ? msg : "unknown error");
  for (char *p = err; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

// True when an APP14 "Adobe" segment appears before the first scan. Walks marker segments
// from SOI; any malformed structure just ends the walk (the decoder reports real damage).
static int has_adobe_marker(const uint8_t *d, size_t n) {
  size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return 0;
    uint8_t m = d[i + 1];
    if (m == 0xFF) { i++; continue; }              // fill byte
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
    if (m == 0xDA || m == 0xD9) return 0;          // start of scan / end of image
    size_t len = ((size_t)d[i + 2] << 8) | d[i + 3];
    if (len < 2 || i + 2 + len > n) return 0;
    if (m == 0xEE && len >= 7 && memcmp(d + i + 4, "Adobe", 5) == 0) return 1;
    i += 2 + len;
  }
  return 0;
}

typedef struct { int width, height, subsamp, colorspace; } header_t;

static int read_header(tjhandle h, const uint8_t *data, size_t size, header_t *hd, char *err, size_t err_size) {
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
    snprintf(err, err_size, "not a JPEG file (bad signature)");
    return -1;
  }
  if (size > 0xFFFFFFFFul) { snprintf(err, err_size, "JPEG file larger than 4 GB"); return -1; }
  if (tjDecompressHeader3(h, data, (unsigned long)size, &hd->width, &hd->height, &hd->subsamp, &hd->colorspace) != 0) {
    set_err(err, err_size, "", h);
    return -1;
  }
  if (hd->width <= 0 || hd->height <= 0 || (size_t)hd->width * (size_t)hd->height > MAX_PIXELS) {
    snprintf(err, err_size, "unsupported image size %dx%d", hd->width, hd->height);
    return -1;
  }
  return 0;
}

int tb_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                   char *err, size_t err_size) {
  tjhandle h = tjInitDecompress();
  if (!h) { set_err(err, err_size, "TurboJPEG init failed: ", NULL); return -1; }
  header_t hd;
  int rc = read_header(h, data, size, &hd, err, err_size);
  tjDestroy(h);
  if (rc != 0) return -1;
  *width = hd.width;
  *height = hd.height;
  *channels = hd.colorspace == TJCS_GRAY ? 1 : 3;
  return 0;
}

int tb_jpeg_decode(const uint8_t *data, size_t size, uint8_t *planar, size_t out_size,
                   char *err, size_t err_size) {
  tjhandle h = tjInitDecompress();
  if (!h) { set_err(err, err_size, "TurboJPEG init failed: ", NULL); return -1; }
  header_t hd;
  if (read_header(h, data, size, &hd, err, err_size) != 0) { tjDestroy(h); return -1; }
  int gray = hd.colorspace == TJCS_GRAY;
  int cmyk = hd.colorspace == TJCS_CMYK || hd.colorspace == TJCS_YCCK;
  int out_c = gray ? 1 : 3, tj_c = gray ? 1 : (cmyk ? 4 : 3);
  int pf = gray ? TJPF_GRAY : (cmyk ? TJPF_CMYK : TJPF_RGB);
  size_t plane = (size_t)hd.width * (size_t)hd.height;
  if (out_size != plane * out_c) {
    snprintf(err, err_size, "output buffer is %zu bytes, image needs %zu", out_size, plane * out_c);
    tjDestroy(h);
    return -1;
  }
  uint8_t *buf = (uint8_t *)malloc(plane * tj_c);
  if (!buf) { snprintf(err, err_size, "out of memory for %dx%d image", hd.width, hd.height); tjDestroy(h); return -1; }
  // STOPONWARNING: a truncated/corrupt stream is an error, not a gray-filled image.
  // LIMITSCANS: refuse progressive files with > 500 scans (decoder DoS guard).
  int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (tjDecompress2(h, data, (unsigned long)size, buf, hd.width, 0, hd.height, pf, flags) != 0) {
    set_err(err, err_size, "", h);
    free(buf);
    tjDestroy(h);
    return -1;
  }
  tjDestroy(h);
  if (gray) {
    memcpy(planar, buf, plane);
  } else if (!cmyk) {
    uint8_t *r = planar, *g = planar + plane, *b = planar + 2 * plane;
    for (size_t p = 0; p < plane; p++) { r[p] = buf[3 * p]; g[p] = buf[3 * p + 1]; b[p] = buf[3 * p + 2]; }
  } else {
    // TurboJPEG returns the stored CMYK values (YCCK is converted to CMYK). Adobe files store
    // inverted ink (255 = no ink), so there R = C'·K'/255; plain CMYK: R = (255-C)(255-K)/255.
    int inverted = has_adobe_marker(data, size);
    uint8_t *r = planar, *g = planar + plane, *b = planar + 2 * plane;
    for (size_t p = 0; p < plane; p++) {
      unsigned c = buf[4 * p], m = buf[4 * p + 1], y = buf[4 * p + 2], k = buf[4 * p + 3];
      if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
      r[p] = (uint8_t)((c * k + 127) / 255);
      g[p] = (uint8_t)((m * k + 127) / 255);
      b[p] = (uint8_t)((y * k + 127) / 255);
    }
  }
  free(buf);
  return 0;
}

int tb_jpeg_encode(const uint8_t *hwc, int width, int height, int channels, int quality,
                   uint8_t **out, size_t *out_size, char *err, size_t err_size) {
  *out = NULL; *out_size = 0;
  if ((channels != 1 && channels != 3) || width <= 0 || height <= 0 || quality < 1 || quality > 100) {
    snprintf(err, err_size, "bad JPEG encode arguments");
    return -1;
  }
  tjhandle h = tjInitCompress();
  if (!h) { set_err(err, err_size, "JPEG encoder: ", NULL); return -1; }
  unsigned char *buf = NULL;
  unsigned long size = 0;
  int rc = tjCompress2(h, hwc, width, 0, height, channels == 1 ? TJPF_GRAY : TJPF_RGB, &buf, &size,
                       channels == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  if (rc != 0) { set_err(err, err_size, "JPEG encoder: ", h); tjDestroy(h); if (buf) tjFree(buf); return -1; }
  tjDestroy(h);
  *out = buf; *out_size = size;
  return 0;
}

void tb_jpeg_free(uint8_t *p) { if (p) tjFree(p); }
