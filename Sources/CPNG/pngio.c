#include "pngio.h"
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const uint8_t *data;
  size_t size, pos;
  char *err;
  size_t err_size;
} reader_t;

static void on_error(png_structp png, png_const_charp msg) {
  reader_t *r = (reader_t *)png_get_error_ptr(png);
  if (r && r->err) snprintf(r->err, r->err_size, "%s", msg);
  png_longjmp(png, 1);
}
static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void on_read(png_structp png, png_bytep out, png_size_t n) {
  reader_t *r = (reader_t *)png_get_io_ptr(png);
  if (r->pos + n > r->size) png_error(png, "truncated PNG data");
  memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

int tb_png_decode(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height,
                  int *channels, char *err, size_t err_size) {
  reader_t r = {data, size, 0, err, err_size};
  *pixels = NULL;
  if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
    snprintf(err, err_size, "not a PNG file (bad signature)");
    return -1;
  }
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
  if (!png) { snprintf(err, err_size, "libpng: out of memory"); return -1; }
  png_infop info = png_create_info_struct(png);
  volatile png_bytep buffer = NULL;
  png_bytep *volatile rows = NULL;
  if (!info || setjmp(png_jmpbuf(png))) {
    free(buffer);
    free(rows);
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    return -1;
  }
  png_set_read_fn(png, &r, on_read);
  png_set_user_limits(png, 1 << 16, 1 << 16);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int color = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_scale_16(png);
  // Alpha is dropped, also the alpha that a tRNS chunk becomes (palette, gray or RGB with transparency).
  if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int c = png_get_channels(png, info);
  if (c != 1 && c != 3) png_error(png, "unsupported channel layout after conversion");
  if ((size_t)w * h * c > ((size_t)1 << 31)) png_error(png, "image too large");
  buffer = (png_bytep)malloc((size_t)w * h * c);
  rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
  if (!buffer || !rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) rows[y] = buffer + (size_t)y * w * c;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  free(rows);
  *pixels = buffer;
  *width = (int)w;
  *height = (int)h;
  *channels = c;
  return 0;
}

typedef struct {
  uint8_t *data;
  size_t size, cap;
  char *err;
  size_t err_size;
} writer_t;

static void on_write(png_structp png, png_bytep in, png_size_t n) {
  writer_t *wr = (writer_t *)png_get_io_ptr(png);
  if (wr->size + n > wr->cap) {
    size_t cap = wr->cap ? wr->cap * 2 : 4096;
    while (cap < wr->size + n) cap *= 2;
    uint8_t *d = (uint8_t *)realloc(wr->data, cap);
    if (!d) png_error(png, "out of memory");
    wr->data = d;
    wr->cap = cap;
  }
  memcpy(wr->data + wr->size, in, n);
  wr->size += n;
}
static void on_flush(png_structp png) { (void)png; }

int tb_png_encode(const uint8_t *pixels, int width, int height, int channels, int level,
                  uint8_t **out, size_t *out_size, char *err, size_t err_size) {
  writer_t wr = {NULL, 0, 0, err, err_size};
  *out = NULL;
  if (channels != 1 && channels != 3) { snprintf(err, err_size, "PNG encode: channels must be 1 or 3"); return -1; }
  reader_t errctx = {NULL, 0, 0, err, err_size};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &errctx, on_error, on_warning);
  if (!png) { snprintf(err, err_size, "libpng: out of memory"); return -1; }
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    free(wr.data);
    png_destroy_write_struct(&png, info ? &info : NULL);
    return -1;
  }
  png_set_write_fn(png, &wr, on_write, on_flush);
  png_set_compression_level(png, level);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  *out = wr.data;
  *out_size = wr.size;
  return 0;
}

void tb_png_free(void *p) { free(p); }
