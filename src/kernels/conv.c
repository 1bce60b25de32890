/* Fast convolution: lowered to SGEMM.
 *
 * Per image and group, Y_g [cout_g x S] = W_g [cout_g x K] * cols [K x S],
 * with S the output positions and K = cin_g * kernel volume. Three ways to
 * get the right-hand side (and a fourth case without one):
 *  - no input channels (K = 0): Y_g is just the bias (or zeros);
 *  - pointwise (1x1, stride 1, no padding): the input itself is cols;
 *  - one input channel per group (depthwise): K is just the kernel volume,
 *    too small for GEMM to pay off, so direct row loops instead;
 *  - otherwise im2col into a scratch buffer, a tile of output positions at a
 *    time so the buffer stays bounded however large the image. */
#include "conv.h"

#include <string.h>

#include "core/util.h"
#include "gemm.h"

/* Bytes of im2col buffer a tile aims for: a few L2s, so it is still in
 * cache when the GEMM packs it. */
#define COL_TILE_BYTES ((size_t)1 << 20)
/* Fewest output positions in a tile, so GEMM's fixed costs stay amortized
 * even when K is huge. */
#define COL_TILE_MIN 64

typedef enum conv_method { CONV_FILL, CONV_POINTWISE, CONV_DEPTHWISE, CONV_IM2COL } conv_method;

static int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

/* The products below fit in int64: the op checked them (see conv.h). */
static int64_t out_plane(const oc_conv_geom *g)
{
    return g->dim[0].out * g->dim[1].out * g->dim[2].out;
}
static int64_t in_plane(const oc_conv_geom *g)
{
    return g->dim[0].in * g->dim[1].in * g->dim[2].in;
}
static int64_t kernel_volume(const oc_conv_geom *g)
{
    return g->dim[0].kernel * g->dim[1].kernel * g->dim[2].kernel;
}
static int64_t cin_per_group(const oc_conv_geom *g) { return g->in_channels / g->group; }
static int64_t cout_per_group(const oc_conv_geom *g) { return g->out_channels / g->group; }
/* Rows of the im2col matrix: the GEMM's K. */
static int64_t gemm_depth(const oc_conv_geom *g) { return cin_per_group(g) * kernel_volume(g); }

static bool is_pointwise(const oc_conv_geom *g)
{
    for (int i = 0; i < OC_WINDOW_DIMS; i++) {
        const oc_window_dim *d = &g->dim[i];
        if (d->kernel != 1 || d->stride != 1 || d->pad_begin != 0 || d->out != d->in) return false;
    }
    return true;
}

static conv_method choose_method(const oc_conv_geom *g)
{
    if (cin_per_group(g) == 0) return CONV_FILL;
    if (cin_per_group(g) == 1) return CONV_DEPTHWISE;
    if (is_pointwise(g)) return CONV_POINTWISE;
    return CONV_IM2COL;
}

/* Output positions per im2col tile. */
static int64_t tile_positions(const oc_conv_geom *g)
{
    int64_t s = out_plane(g), k = gemm_depth(g);
    if (k == 0) return s;
    int64_t t = (int64_t)(COL_TILE_BYTES / sizeof(float)) / k;
    t = max_i64(t - t % 8, COL_TILE_MIN);
    return min_i64(t, s);
}

static int64_t tiles_per_plane(const oc_conv_geom *g)
{
    if (choose_method(g) != CONV_IM2COL) return 1;
    int64_t t = tile_positions(g);
    return (out_plane(g) + t - 1) / t;
}

/* Y has no elements: there is nothing to compute (and with 0 input and
 * output channels, group may be anything, so no loop may count groups). */
static bool output_is_empty(const oc_conv_geom *g)
{
    return g->batch == 0 || g->out_channels == 0;
}

size_t oc_conv_f32_units(const oc_conv_geom *g)
{
    if (output_is_empty(g)) return 0;
    /* <= the elements of Y: group divides out_channels, a tile has >= 1 position. */
    return (size_t)g->batch * (size_t)g->group * (size_t)tiles_per_plane(g);
}

/* The im2col tile's bytes, rounded up so the GEMM scratch after it is aligned. */
static bool col_buffer_bytes(const oc_conv_geom *g, size_t *bytes)
{
    size_t n;
    return oc_mul_size((size_t)gemm_depth(g), (size_t)tile_positions(g), &n) &&
           oc_mul_size(n, sizeof(float), &n) && oc_align_up(n, bytes);
}

bool oc_conv_f32_workspace(const oc_conv_geom *g, size_t *bytes)
{
    if (output_is_empty(g)) {
        *bytes = 0;
        return true;
    }
    size_t m = (size_t)cout_per_group(g), k = (size_t)gemm_depth(g);
    switch (choose_method(g)) {
    case CONV_FILL:
    case CONV_DEPTHWISE:
        *bytes = 0;
        return true;
    case CONV_POINTWISE:
        *bytes = oc_sgemm_workspace(m, (size_t)out_plane(g), (size_t)cin_per_group(g));
        return *bytes != SIZE_MAX;
    case CONV_IM2COL: {
        size_t col, gemm = oc_sgemm_workspace(m, (size_t)tile_positions(g), k);
        return gemm != SIZE_MAX && col_buffer_bytes(g, &col) && oc_add_size(col, gemm, bytes);
    }
    }
    return false;
}

/* y rows [0, rows) x columns [0, cols) (row distance ld) = bias[row]. */
static void fill_bias(float *y, int64_t rows, int64_t cols, int64_t ld, const float *bias)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) y[r * ld + j] = bias[r];
}

/* ---- im2col ---- */

/* dst[0, ow1 - ow0) = the input row read by tap kw for outputs [ow0, ow1),
 * zero where the tap falls into the padding. */
static void gather_row(const oc_window_dim *dw, int64_t kw, const float *row, int64_t ow0,
                       int64_t ow1, float *dst)
{
    int64_t lo, hi;
    oc_window_tap_outputs(dw, kw, &lo, &hi);
    lo = max_i64(min_i64(lo, ow1), ow0);
    hi = max_i64(min_i64(hi, ow1), lo);
    int64_t offset = kw * dw->dilation - dw->pad_begin;
    for (int64_t ow = ow0; ow < lo; ow++) *dst++ = 0.0f;
    if (dw->stride == 1) {
        memcpy(dst, row + lo + offset, (size_t)(hi - lo) * sizeof *dst);
        dst += hi - lo;
    } else {
        for (int64_t ow = lo; ow < hi; ow++) *dst++ = row[ow * dw->stride + offset];
    }
    for (int64_t ow = hi; ow < ow1; ow++) *dst++ = 0.0f;
}

/* cols [K x count] = the input values each of output positions [first,
 * first + count) multiplies with each weight of one group; x points at the
 * group's first input channel of one image. */
static void im2col_tile(const oc_conv_geom *g, const float *x, int64_t first, int64_t count,
                        float *cols)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t plane_out_hw = dh->out * dw->out;
    for (int64_t c = 0; c < cin_per_group(g); c++) {
        const float *xc = x + c * in_plane(g);
        for (int64_t kd = 0; kd < dd->kernel; kd++)
        for (int64_t kh = 0; kh < dh->kernel; kh++)
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            /* Walk the tile one output row (fixed od, oh) at a time. */
            for (int64_t pos = first, end = first + count; pos < end;) {
                int64_t od = pos / plane_out_hw, oh = pos % plane_out_hw / dw->out;
                int64_t ow0 = pos % dw->out, ow1 = min_i64(dw->out, ow0 + end - pos);
                int64_t id = oc_window_start(dd, od) + kd * dd->dilation;
                int64_t ih = oc_window_start(dh, oh) + kh * dh->dilation;
                if (id >= 0 && id < dd->in && ih >= 0 && ih < dh->in)
                    gather_row(dw, kw, xc + (id * dh->in + ih) * dw->in, ow0, ow1, cols);
                else
                    memset(cols, 0, (size_t)(ow1 - ow0) * sizeof *cols);
                cols += ow1 - ow0;
                pos += ow1 - ow0;
            }
        }
    }
}

static void run_im2col(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                       float *y, int64_t n, int64_t grp, int64_t tile, void *workspace)
{
    int64_t s = out_plane(g), k = gemm_depth(g), m = cout_per_group(g);
    int64_t t = tile_positions(g), first = tile * t, count = min_i64(t, s - first);
    size_t col_bytes = 0;
    col_buffer_bytes(g, &col_bytes); /* cannot fail: the workspace size did not */
    float *cols = workspace;
    void *gemm_ws = (char *)workspace + col_bytes;

    const float *xg = x + (n * g->in_channels + grp * cin_per_group(g)) * in_plane(g);
    float *yg = y + (n * g->out_channels + grp * m) * s + first;
    im2col_tile(g, xg, first, count, cols);
    if (bias) fill_bias(yg, m, count, s, bias + grp * m);
    oc_sgemm(false, false, (size_t)m, (size_t)count, (size_t)k, 1.0f, w + grp * m * k, (size_t)k,
             cols, (size_t)count, bias ? 1.0f : 0.0f, yg, (size_t)s, gemm_ws);
}

/* ---- no input channels ---- */

static void run_fill(const oc_conv_geom *g, const float *bias, float *y, int64_t n, int64_t grp)
{
    int64_t s = out_plane(g), m = cout_per_group(g);
    float *yg = y + (n * g->out_channels + grp * m) * s;
    for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < s; j++) yg[r * s + j] = bias ? bias[grp * m + r] : 0.0f;
}

/* ---- pointwise ---- */

static void run_pointwise(const oc_conv_geom *g, const float *x, const float *w,
                          const float *bias, float *y, int64_t n, int64_t grp, void *workspace)
{
    int64_t s = out_plane(g), k = cin_per_group(g), m = cout_per_group(g);
    const float *xg = x + (n * g->in_channels + grp * k) * s;
    float *yg = y + (n * g->out_channels + grp * m) * s;
    if (bias) fill_bias(yg, m, s, s, bias + grp * m);
    oc_sgemm(false, false, (size_t)m, (size_t)s, (size_t)k, 1.0f, w + grp * m * k, (size_t)k, xg,
             (size_t)s, bias ? 1.0f : 0.0f, yg, (size_t)s, workspace);
}

/* ---- depthwise: direct ---- */

/* yrow[ow] += weight * (input read by tap kw) for every output ow whose tap
 * lands inside the row. */
static void accumulate_row(const oc_window_dim *dw, int64_t kw, float weight,
                           const float *restrict xrow, float *restrict yrow)
{
    int64_t lo, hi;
    oc_window_tap_outputs(dw, kw, &lo, &hi);
    int64_t offset = kw * dw->dilation - dw->pad_begin;
    if (dw->stride == 1) {
        for (int64_t ow = lo; ow < hi; ow++) yrow[ow] += weight * xrow[ow + offset];
    } else {
        for (int64_t ow = lo; ow < hi; ow++) yrow[ow] += weight * xrow[ow * dw->stride + offset];
    }
}

/* One output channel whose group has a single input channel xc. Output row
 * by output row, so the row being summed stays in L1. */
static void depthwise_channel(const oc_conv_geom *g, const float *xc, const float *wk, float b,
                              float *yc)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    for (int64_t od = 0; od < dd->out; od++) {
        int64_t d_lo, d_hi;
        oc_window_taps(dd, od, dd->in, &d_lo, &d_hi);
        for (int64_t oh = 0; oh < dh->out; oh++) {
            float *yrow = yc + (od * dh->out + oh) * dw->out;
            for (int64_t ow = 0; ow < dw->out; ow++) yrow[ow] = b;
            int64_t h_lo, h_hi;
            oc_window_taps(dh, oh, dh->in, &h_lo, &h_hi);
            for (int64_t kd = d_lo; kd < d_hi; kd++)
            for (int64_t kh = h_lo; kh < h_hi; kh++) {
                int64_t id = oc_window_start(dd, od) + kd * dd->dilation;
                int64_t ih = oc_window_start(dh, oh) + kh * dh->dilation;
                const float *xrow = xc + (id * dh->in + ih) * dw->in;
                const float *wrow = wk + (kd * dh->kernel + kh) * dw->kernel;
                for (int64_t kw = 0; kw < dw->kernel; kw++)
                    accumulate_row(dw, kw, wrow[kw], xrow, yrow);
            }
        }
    }
}

static void run_depthwise(const oc_conv_geom *g, const float *x, const float *w,
                          const float *bias, float *y, int64_t n, int64_t grp)
{
    int64_t m = cout_per_group(g), kvol = kernel_volume(g);
    const float *xc = x + (n * g->in_channels + grp) * in_plane(g);
    for (int64_t j = 0; j < m; j++) {
        int64_t oc = grp * m + j;
        depthwise_channel(g, xc, w + oc * kvol, bias ? bias[oc] : 0.0f,
                          y + (n * g->out_channels + oc) * out_plane(g));
    }
}

/* ---- entry points ---- */

void oc_conv_f32_run_units(const oc_conv_geom *g, const float *x, const float *w,
                           const float *bias, float *y, size_t begin, size_t end,
                           void *workspace)
{
    conv_method method = choose_method(g);
    int64_t tiles = tiles_per_plane(g);
    for (size_t u = begin; u < end; u++) {
        int64_t tile = (int64_t)u % tiles, grp = (int64_t)u / tiles % g->group;
        int64_t n = (int64_t)u / tiles / g->group;
        switch (method) {
        case CONV_FILL: run_fill(g, bias, y, n, grp); break;
        case CONV_POINTWISE: run_pointwise(g, x, w, bias, y, n, grp, workspace); break;
        case CONV_DEPTHWISE: run_depthwise(g, x, w, bias, y, n, grp); break;
        case CONV_IM2COL: run_im2col(g, x, w, bias, y, n, grp, tile, workspace); break;
        }
    }
}

void oc_conv_f32(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                 float *y, void *workspace)
{
    oc_conv_f32_run_units(g, x, w, bias, y, 0, oc_conv_f32_units(g), workspace);
}
