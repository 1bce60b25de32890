/* Fast convolution: the method for the geometry (see conv.h), split over a
 * thread pool.
 *
 * The GEMM-based methods see, per image and group, Y_g [cout_g x S] =
 * W_g [cout_g x K] * cols [K x S], with S the output positions and K =
 * cin_g * kernel volume. Their units of work are (image, group, a tile of
 * output positions, a block of output channels): tiles keep the im2col
 * buffer bounded and give every thread work; output-channel blocks do so
 * when the tiles are too few (small images). A unit leaves its part of Y
 * final: the bias and the activation are applied to the block the GEMM has
 * just written, while it is still in cache. */
#include "conv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv_direct.h"
#include "core/util.h"
#include "gemm.h"
#include "winograd.h"

/* Bytes of im2col buffer a tile aims for: within L2, so it is still in
 * cache when the GEMM packs it. */
#define COL_TILE_BYTES ((size_t)512 << 10)
/* Input channels up to which the direct method beats Winograd, and output
 * channels from which a 3x3 F(4,3) Winograd beats it anyway (see
 * chooses_direct). */
#define DIRECT_WINS_CHANNELS 32
#define WINOGRAD_WIDENS 64
/* Fewest output positions in a tile, so GEMM's fixed costs stay amortized
 * even when K is huge. */
#define COL_TILE_MIN 64

typedef enum conv_method {
    CONV_FILL,
    CONV_POINTWISE,
    CONV_DEPTHWISE,
    CONV_IM2COL,
    CONV_WINOGRAD,
    CONV_S2D, /* space-to-depth, then Winograd */
    CONV_DIRECT
} conv_method;

oc_conv_act oc_conv_act_none(void) { return (oc_conv_act){-INFINITY, INFINITY}; }

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

/* ---- space-to-depth ---- */

/* The stride-1 convolution g becomes when its input is regrouped into s x s
 * blocks: x2[c s^2 + u s + v][Y][X] = x[c][s Y + u - pad_top][s X + v -
 * pad_left] (zero outside x), kernel w2[k][c s^2 + u s + v][a][b] =
 * w[k][c][s a + u][s b + v] (zero past the kernel), no padding, the same
 * output. False when g is not 2-D with stride s in both dims, dilation 1,
 * one group, or the sizes overflow. */
static bool s2d_geom(const oc_conv_geom *g, int64_t s, oc_conv_geom *g2)
{
    const oc_window_dim *dd = &g->dim[0];
    if (s < 2 || g->group != 1 || dd->in != 1 || dd->kernel != 1 || dd->out != 1) return false;
    *g2 = *g;
    if (!oc_mul_i64(g->in_channels, s * s, &g2->in_channels)) return false;
    for (int i = 1; i < OC_WINDOW_DIMS; i++) {
        const oc_window_dim *d = &g->dim[i];
        if (d->stride != s || d->dilation != 1) return false;
        int64_t ka = oc_div_ceil(d->kernel, s);
        g2->dim[i] = (oc_window_dim){d->out + ka - 1, d->out, ka, 1, 1, 0, 0};
    }
    return true;
}

/* Planes [begin, end) of x2 (image-major: n * C s^2 + c2). */
typedef struct s2d_fill {
    const oc_conv_geom *g, *g2;
    int64_t s;
    const float *x;
    float *x2;
} s2d_fill;

static void run_s2d_fill(void *ctx, size_t begin, size_t end, int thread)
{
    const s2d_fill *f = ctx;
    const oc_window_dim *dh = &f->g->dim[1], *dw = &f->g->dim[2];
    int64_t s = f->s, c2n = f->g2->in_channels, h2 = f->g2->dim[1].in, w2 = f->g2->dim[2].in;
    for (size_t pl = begin; pl < end; pl++) {
        int64_t n = (int64_t)pl / c2n, c2 = (int64_t)pl % c2n;
        int64_t c = c2 / (s * s), u = c2 / s % s, v = c2 % s;
        const float *xc = f->x + (n * f->g->in_channels + c) * dh->in * dw->in;
        float *dst = f->x2 + (int64_t)pl * h2 * w2;
        for (int64_t yy = 0; yy < h2; yy++, dst += w2) {
            int64_t iy = s * yy + u - dh->pad_begin;
            if (iy < 0 || iy >= dh->in) {
                memset(dst, 0, (size_t)w2 * sizeof *dst);
                continue;
            }
            const float *row = xc + iy * dw->in;
            for (int64_t xx = 0; xx < w2; xx++) {
                int64_t ix = s * xx + v - dw->pad_begin;
                dst[xx] = ix >= 0 && ix < dw->in ? row[ix] : 0.0f;
            }
        }
    }
}

static bool s2d_bytes(const oc_conv_geom *g2, size_t *bytes)
{
    size_t n;
    return oc_mul_size((size_t)g2->batch, (size_t)g2->in_channels, &n) &&
           oc_mul_size(n, (size_t)g2->dim[1].in, &n) && oc_mul_size(n, (size_t)g2->dim[2].in, &n) &&
           oc_mul_size(n, sizeof(float), &n) && oc_align_up(n, bytes);
}

static bool use_winograd(const oc_conv_geom *g, const oc_conv_weights *pw)
{
    return pw && (pw->winograd_m == 2 || pw->winograd_m == 4 || pw->winograd_m == 6) &&
           (pw->wino || pw->wino_u) &&
           oc_winograd_applies(g);
}

/* The method without prepared weights. */
static conv_method plain_method(const oc_conv_geom *g)
{
    if (cin_per_group(g) == 0) return CONV_FILL;
    if (cin_per_group(g) == 1) return CONV_DEPTHWISE;
    if (is_pointwise(g)) return CONV_POINTWISE;
    return CONV_IM2COL;
}

static conv_method choose_method(const oc_conv_geom *g, const oc_conv_weights *pw)
{
    conv_method m = plain_method(g);
    if (m == CONV_FILL || !pw) return m;
    if (pw->s2d) {
        oc_conv_geom g2;
        return s2d_geom(g, pw->s2d, &g2) && use_winograd(&g2, pw) ? CONV_S2D : m;
    }
    if (use_winograd(g, pw)) return CONV_WINOGRAD;
    if (m == CONV_IM2COL && pw->direct && oc_conv_direct_applies(g)) return CONV_DIRECT;
    return m;
}

/* Y has no elements: there is nothing to compute (and with 0 input and
 * output channels, group may be anything, so no loop may count groups). */
static bool output_is_empty(const oc_conv_geom *g)
{
    return g->batch == 0 || g->out_channels == 0;
}

/* ---- the activation ---- */

static bool act_is_none(oc_conv_act act) { return act.lo == -INFINITY && act.hi == INFINITY; }

static float act_apply(float v, oc_conv_act act)
{
    v = v < act.lo ? act.lo : v;
    return v > act.hi ? act.hi : v;
}

/* y rows [0, rows) x columns [0, cols) (row distance ld) += bias[row] +
 * sum (laid out like y; bias and sum may be NULL), then the activation. */
static void bias_act(float *y, int64_t rows, int64_t cols, int64_t ld, const float *bias,
                     const float *sum, oc_conv_act act)
{
    if (!bias && !sum && act_is_none(act)) return;
    float lo = act.lo, hi = act.hi;
    for (int64_t r = 0; r < rows; r++) {
        float b = bias ? bias[r] : 0.0f;
        float *restrict row = y + r * ld;
        const float *srow = sum ? sum + r * ld : NULL;
        for (int64_t j = 0; j < cols; j++) {
            float v = row[j] + b;
            if (srow) v += srow[j];
            v = v < lo ? lo : v;
            row[j] = v > hi ? hi : v;
        }
    }
}

/* ---- the GEMM-based plan ---- */

typedef struct gemm_plan {
    int64_t m, k, s;         /* per group: output channels, depth, output positions */
    int64_t planes;          /* images x groups */
    int64_t tile, tiles;     /* positions per unit, units per plane */
    bool whole;              /* one threaded GEMM per plane (else units on threads) */
    size_t col_bytes;        /* im2col buffer: per thread (units) or shared (whole) */
    size_t gemm_bytes;       /* GEMM scratch: per thread (units) or for all (whole) */
} gemm_plan;

/* The largest tile, which the scratch of the units is sized for: threads
 * only make tiles smaller. */
static int64_t max_tile(const oc_conv_geom *g, conv_method method)
{
    int64_t s = out_plane(g), k = gemm_depth(g);
    if (method != CONV_IM2COL || k == 0) return s;
    int64_t t = (int64_t)(COL_TILE_BYTES / sizeof(float)) / k;
    t = max_i64(t - t % 16, COL_TILE_MIN);
    return min_i64(t, s);
}

static bool col_bytes(int64_t k, int64_t n, size_t *bytes)
{
    return oc_mul_size((size_t)k, (size_t)n, bytes) && oc_mul_size(*bytes, sizeof(float), bytes) &&
           oc_align_up(*bytes, bytes);
}

/* Units on threads, each an im2col tile (or a block of columns of X) and a
 * single-threaded GEMM, when there are enough of them for every thread;
 * else plane by plane, an im2col of the whole plane (split over threads)
 * and one GEMM split over threads. */
static bool make_gemm_plan(const oc_conv_geom *g, conv_method method, int threads,
                           gemm_plan *p)
{
    p->m = cout_per_group(g);
    p->k = gemm_depth(g);
    p->s = out_plane(g);
    p->planes = g->batch * g->group; /* <= elements of Y */
    int64_t tmax = max_tile(g, method);
    int64_t want = 2 * (int64_t)threads;
    p->tile = tmax;
    if (threads > 1 && method == CONV_IM2COL) {
        /* Few units: tiles of equal widths, as many a plane as make the
         * units a multiple of the threads (ResNet-18's 14 x 14 stride-2
         * conv at 2 threads: two tiles of 98 positions, not 64, 64, 64 and
         * 4), not below COL_TILE_MIN positions. */
        int64_t n = oc_div_ceil(p->s, tmax);
        if (p->planes * n < 4 * (int64_t)threads) {
            while (p->planes * n % threads != 0) n++;
            p->tile = min_i64(max_i64(oc_div_ceil(p->s, n), COL_TILE_MIN), tmax);
        }
    }
    p->tiles = oc_div_ceil(p->s, p->tile);
    p->whole = threads > 1 && p->planes * p->tiles < (method == CONV_IM2COL ? threads : want);
    if (method == CONV_POINTWISE) p->whole = threads > 1 && p->planes < want;
    if (p->whole) {
        p->tile = p->s;
        p->tiles = 1;
        p->gemm_bytes = oc_gemm_workspace((size_t)p->m, (size_t)p->s, (size_t)p->k, threads);
        if (p->gemm_bytes == SIZE_MAX) return false;
        p->col_bytes = 0;
        return method != CONV_IM2COL || col_bytes(p->k, p->s, &p->col_bytes);
    }
    size_t gemm = oc_gemm_workspace((size_t)p->m, (size_t)p->tile, (size_t)p->k, 1), col = 0;
    if (gemm == SIZE_MAX || !oc_align_up(gemm, &gemm)) return false;
    if (method == CONV_IM2COL && !col_bytes(p->k, tmax, &col)) return false;
    p->col_bytes = col;
    p->gemm_bytes = gemm;
    return true;
}

/* Bytes of scratch of the plan: per-thread slots of columns and GEMM
 * scratch, or the shared columns and the threaded GEMM's scratch. */
static bool gemm_plan_bytes(const gemm_plan *p, int threads, size_t *bytes)
{
    if (p->whole) return oc_add_size(p->col_bytes, p->gemm_bytes, bytes);
    size_t slot;
    return oc_add_size(p->col_bytes, p->gemm_bytes, &slot) &&
           oc_mul_size(slot, (size_t)threads, bytes);
}

/* ---- im2col ---- */

/* dst[0, ow1 - ow0) = the input row read by a tap at offset (kw dilation -
 * pad) whose outputs inside the row are [lo, hi), zero where it falls into
 * the padding. */
static void gather_row(const oc_window_dim *dw, int64_t offset, int64_t lo, int64_t hi,
                       const float *row, int64_t ow0, int64_t ow1, float *dst)
{
    lo = max_i64(min_i64(lo, ow1), ow0);
    hi = max_i64(min_i64(hi, ow1), lo);
    for (int64_t ow = ow0; ow < lo; ow++) *dst++ = 0.0f;
    if (dw->stride == 1) {
        memcpy(dst, row + lo + offset, (size_t)(hi - lo) * sizeof *dst);
        dst += hi - lo;
    } else if (dw->stride == 2) {
        const float *src = row + offset;
        for (int64_t ow = lo; ow < hi; ow++) *dst++ = src[2 * ow];
    } else {
        for (int64_t ow = lo; ow < hi; ow++) *dst++ = row[ow * dw->stride + offset];
    }
    for (int64_t ow = hi; ow < ow1; ow++) *dst++ = 0.0f;
}

/* cols [K x count] = the input values each of output positions [first,
 * first + count) multiplies with each weight of one group; x points at the
 * group's first input channel of one image. The tile's output rows are
 * walked with counters: with narrow outputs (14 x 14) the divisions that
 * locate a row cost more than copying it (ResNet-18's stride-2 3x3s: a
 * quarter of their time). */
static void im2col_tile(const oc_conv_geom *g, const float *x, int64_t first, int64_t count,
                        float *cols)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t plane_out_hw = dh->out * dw->out;
    int64_t od_first = first / plane_out_hw, oh_first = first % plane_out_hw / dw->out;
    int64_t ow_first = first % dw->out, end = first + count;
    for (int64_t c = 0; c < cin_per_group(g); c++) {
        const float *xc = x + c * in_plane(g);
        for (int64_t kd = 0; kd < dd->kernel; kd++)
        for (int64_t kh = 0; kh < dh->kernel; kh++)
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            int64_t lo, hi, offset = kw * dw->dilation - dw->pad_begin;
            oc_window_tap_outputs(dw, kw, &lo, &hi);
            /* Walk the tile one output row (fixed od, oh) at a time. */
            int64_t od = od_first, oh = oh_first, ow0 = ow_first;
            for (int64_t pos = first; pos < end;) {
                int64_t ow1 = min_i64(dw->out, ow0 + end - pos);
                int64_t id = oc_window_start(dd, od) + kd * dd->dilation;
                int64_t ih = oc_window_start(dh, oh) + kh * dh->dilation;
                if (id >= 0 && id < dd->in && ih >= 0 && ih < dh->in)
                    gather_row(dw, offset, lo, hi, xc + (id * dh->in + ih) * dw->in, ow0, ow1,
                               cols);
                else
                    memset(cols, 0, (size_t)(ow1 - ow0) * sizeof *cols);
                cols += ow1 - ow0;
                pos += ow1 - ow0;
                ow0 = 0;
                if (++oh == dh->out) oh = 0, od++;
            }
        }
    }
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
        const float *restrict src = xrow + offset;
        for (int64_t ow = lo; ow < hi; ow++) yrow[ow] += weight * src[ow];
    } else if (dw->stride == 2) {
        const float *restrict src = xrow + offset;
        for (int64_t ow = lo; ow < hi; ow++) yrow[ow] += weight * src[2 * ow];
    } else {
        for (int64_t ow = lo; ow < hi; ow++) yrow[ow] += weight * xrow[ow * dw->stride + offset];
    }
}

/* One output channel whose group has a single input channel xc. Output row
 * by output row, so the row being summed stays in L1. */
static void depthwise_channel(const oc_conv_geom *g, const float *xc, const float *wk, float b,
                              const float *sc, oc_conv_act act, float *yc)
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
            bias_act(yrow, 1, dw->out, 0, NULL,
                     sc ? sc + (od * dh->out + oh) * dw->out : NULL, act);
        }
    }
}

/* ---- the threaded driver ---- */

typedef struct conv_run {
    const oc_conv_geom *g;
    const oc_conv_weights *pw;
    conv_method method;
    gemm_plan plan;
    const float *x, *w, *bias, *sum;
    oc_conv_act act;
    float *y;
    char *ws;
    /* whole-plane im2col: the plane being gathered */
    const float *xg;
} conv_run;

/* The GEMM of one group: y block [mn rows from m0] x [count columns from
 * first] = W_g rows * b, with the bias and the activation. */
static void conv_gemm(const conv_run *r, int64_t grp, const float *b, size_t ldb, int64_t first,
                      int64_t count, float *yg, oc_pool *pool, void *ws, size_t ws_bytes)
{
    const gemm_plan *p = &r->plan;
    oc_gemm_desc d = oc_gemm_desc_make(false, false, (size_t)p->m, (size_t)count, (size_t)p->k,
                                       r->w + grp * p->m * p->k, (size_t)p->k, b, ldb, yg + first,
                                       (size_t)p->s);
    if (r->pw && r->pw->gemm) d.packed_a = &r->pw->gemm[grp];
    const float *bias = r->bias ? r->bias + grp * p->m : NULL;
    if (r->sum) {
        /* The epilogue takes one addend: the sum; the bias and the
         * activation follow on the block just written, still in cache. */
        const float *sg = r->sum + (yg - r->y);
        d.ep.beta = 1.0f;
        d.ep.x = sg + first;
        d.ep.x_rs = (size_t)p->s;
        d.ep.x_cs = 1;
        oc_gemm(&d, pool, ws, ws_bytes);
        bias_act(yg + first, p->m, count, p->s, bias, NULL, r->act);
        return;
    }
    if (bias) {
        d.ep.beta = 1.0f;
        d.ep.x = bias;
        d.ep.x_rs = 1;
        d.ep.x_cs = 0;
    }
    if (!act_is_none(r->act)) {
        d.ep.clamp = true;
        d.ep.lo = r->act.lo;
        d.ep.hi = r->act.hi;
    }
    oc_gemm(&d, pool, ws, ws_bytes);
}

/* Units of CONV_POINTWISE and CONV_IM2COL on threads: (plane, tile). */
static void run_gemm_units(void *ctx, size_t begin, size_t end, int thread)
{
    const conv_run *r = ctx;
    const oc_conv_geom *g = r->g;
    const gemm_plan *p = &r->plan;
    char *slot = r->ws + (size_t)thread * (p->col_bytes + p->gemm_bytes);
    float *cols = (float *)slot;
    void *gemm_ws = slot + p->col_bytes;
    for (size_t u = begin; u < end; u++) {
        int64_t tile = (int64_t)u % p->tiles, plane = (int64_t)u / p->tiles;
        int64_t grp = plane % g->group, n = plane / g->group;
        int64_t first = tile * p->tile, count = min_i64(p->tile, p->s - first);
        const float *xg = r->x + (n * g->in_channels + grp * cin_per_group(g)) * in_plane(g);
        float *yg = r->y + (n * g->out_channels + grp * p->m) * p->s;
        if (r->method == CONV_POINTWISE) {
            conv_gemm(r, grp, xg + first, (size_t)p->s, first, count, yg, NULL, gemm_ws,
                      p->gemm_bytes);
        } else {
            im2col_tile(g, xg, first, count, cols);
            conv_gemm(r, grp, cols, (size_t)count, first, count, yg, NULL, gemm_ws,
                      p->gemm_bytes);
        }
    }
}

/* Whole-plane im2col, split over threads: rows [begin, end) of the columns
 * are the input channels' taps (kernel volume rows each). */
static void run_im2col_channels(void *ctx, size_t begin, size_t end, int thread)
{
    const conv_run *r = ctx;
    const oc_conv_geom *g = r->g;
    int64_t kvol = kernel_volume(g), s = r->plan.s;
    for (size_t c = begin; c < end; c++) {
        oc_conv_geom one = *g;
        one.in_channels = 1;
        one.group = 1;
        im2col_tile(&one, r->xg + (int64_t)c * in_plane(g), 0, s,
                    (float *)r->ws + (int64_t)c * kvol * s);
    }
}

/* Units of CONV_DEPTHWISE and CONV_FILL: (image, output channel). */
static void run_channel_units(void *ctx, size_t begin, size_t end, int thread)
{
    const conv_run *r = ctx;
    const oc_conv_geom *g = r->g;
    int64_t m = cout_per_group(g), s = out_plane(g), kvol = kernel_volume(g);
    for (size_t u = begin; u < end; u++) {
        int64_t oc = (int64_t)u % g->out_channels, n = (int64_t)u / g->out_channels;
        float b = r->bias ? r->bias[oc] : 0.0f;
        float *yc = r->y + (n * g->out_channels + oc) * s;
        const float *sc = r->sum ? r->sum + (n * g->out_channels + oc) * s : NULL;
        if (r->method == CONV_FILL) {
            float v = act_apply(b, r->act);
            for (int64_t j = 0; j < s; j++) yc[j] = sc ? act_apply(b + sc[j], r->act) : v;
        } else {
            const float *xc = r->x + (n * g->in_channels + oc / m) * in_plane(g);
            depthwise_channel(g, xc, r->w + oc * kvol, b, sc, r->act, yc);
        }
    }
}

static bool method_workspace(const oc_conv_geom *g, const oc_conv_weights *pw,
                             conv_method method, int threads, size_t *bytes)
{
    gemm_plan p;
    switch (method) {
    case CONV_WINOGRAD: return oc_winograd_workspace(g, pw, threads, bytes);
    case CONV_S2D: {
        oc_conv_geom g2;
        size_t x2, wino;
        return s2d_geom(g, pw->s2d, &g2) && s2d_bytes(&g2, &x2) &&
               oc_winograd_workspace(&g2, pw, threads, &wino) && oc_add_size(x2, wino, bytes);
    }
    case CONV_POINTWISE:
    case CONV_IM2COL:
        return make_gemm_plan(g, method, threads, &p) && gemm_plan_bytes(&p, threads, bytes);
    case CONV_DIRECT: return oc_conv_direct_workspace(g, (oc_isa)pw->direct_isa, threads, bytes);
    default: *bytes = 0; return true;
    }
}

bool oc_conv_f32_workspace(const oc_conv_geom *g, const oc_conv_weights *pw, int threads,
                           size_t *bytes)
{
    *bytes = 0;
    if (output_is_empty(g)) return true;
    if (threads < 1) threads = 1;
    /* Every thread count up to threads (a run may get fewer), and the
     * method without the prepared weights. */
    conv_method methods[2] = {plain_method(g), choose_method(g, pw)};
    for (int i = 0; i < 2; i++)
        for (int t = 1; t <= threads; t++) {
            size_t b;
            if (!method_workspace(g, pw, methods[i], t, &b)) return false;
            if (b > *bytes) *bytes = b;
        }
    return true;
}

void oc_conv_f32(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                 const float *w, const float *bias, const float *sum, oc_conv_act act, float *y,
                 void *workspace, size_t workspace_bytes, oc_pool *pool)
{
    if (output_is_empty(g)) return;
    conv_run r = {g, pw, choose_method(g, pw), {0}, x, w, bias, sum, act, y, workspace, NULL};
    int threads = oc_pool_size(pool);
    size_t need;
    if (threads > 1 &&
        (!method_workspace(g, pw, r.method, threads, &need) || need > workspace_bytes)) {
        pool = NULL; /* scratch for the caller alone */
        threads = 1;
    }
    switch (r.method) {
    case CONV_WINOGRAD:
        oc_winograd_conv(g, pw, x, bias, sum, act.lo, act.hi, y, workspace, threads, pool);
        return;
    case CONV_S2D: {
        oc_conv_geom g2;
        size_t x2_bytes = 0;
        s2d_geom(g, pw->s2d, &g2); /* cannot fail: the method was chosen so */
        s2d_bytes(&g2, &x2_bytes);
        s2d_fill f = {g, &g2, pw->s2d, x, workspace};
        oc_parallel_for(pool, (size_t)(g2.batch * g2.in_channels), 1, run_s2d_fill, &f);
        oc_winograd_conv(&g2, pw, f.x2, bias, sum, act.lo, act.hi, y,
                         (char *)workspace + x2_bytes, threads, pool);
        return;
    }
    case CONV_DIRECT:
        oc_conv_direct(g, (oc_isa)pw->direct_isa, pw->direct, x, bias, sum, act.lo, act.hi, y,
                       workspace, pool);
        return;
    case CONV_FILL:
    case CONV_DEPTHWISE:
        oc_parallel_for(pool, (size_t)(g->batch * g->out_channels), 1, run_channel_units, &r);
        return;
    case CONV_POINTWISE:
    case CONV_IM2COL: {
        gemm_plan *p = &r.plan;
        if (!make_gemm_plan(g, r.method, threads, p)) return; /* sized by the workspace */
        if (!p->whole) {
            oc_parallel_for(pool, (size_t)(p->planes * p->tiles), 1, run_gemm_units, &r);
            return;
        }
        for (int64_t plane = 0; plane < p->planes; plane++) {
            int64_t grp = plane % g->group, n = plane / g->group;
            const float *xg = x + (n * g->in_channels + grp * cin_per_group(g)) * in_plane(g);
            float *yg = y + (n * g->out_channels + grp * p->m) * p->s;
            const float *b = xg;
            if (r.method == CONV_IM2COL) {
                r.xg = xg;
                oc_parallel_for(pool, (size_t)cin_per_group(g), 1, run_im2col_channels, &r);
                b = (const float *)r.ws;
            }
            conv_gemm(&r, grp, b, (size_t)p->s, 0, p->s, yg, pool, r.ws + p->col_bytes,
                      p->gemm_bytes);
        }
        return;
    }
    }
}

/* ---- prepared weights ---- */

bool oc_conv_prepare_method(const oc_conv_geom *g, int m, const float *w,
                            oc_conv_alloc_fn alloc, void *owner, oc_conv_weights *out)
{
    memset(out, 0, sizeof *out);
    if (output_is_empty(g) || cin_per_group(g) == 0) return true;
    if (m == 2 || m == 4 || m == 6) {
        if (!oc_winograd_applies(g)) return true;
        int64_t k = g->out_channels, c = g->in_channels, kb = oc_winograd_chunk(k);
        int64_t cv = oc_winograd_depth(g), chunks = oc_div_ceil(k, kb);
        int64_t positions = (m + 2) * (m + 2);
        size_t u_count, each = oc_gemm_pack_a_size(OC_ISA_AUTO, (size_t)kb, (size_t)cv), all;
        if (!oc_winograd_weights_count(m, k, c, g->dim[1].kernel, g->dim[2].kernel, &u_count) ||
            each == SIZE_MAX || !oc_align_up(each, &each) ||
            !oc_mul_size(each, (size_t)(positions * chunks), &all))
            return false;
        if (oc_winograd_plain_u(g, m)) { /* plain U, computed in place */
            if (u_count > SIZE_MAX / sizeof(float)) return false;
            float *u = alloc(owner, u_count * sizeof *u);
            if (!u || !oc_winograd_weights(m, k, c, g->dim[1].kernel, g->dim[2].kernel, w, u))
                return false;
            *out = (oc_conv_weights){w, m, kb, chunks, NULL, u, 0, NULL, NULL, 0};
            return true;
        }
        /* U one chunk of output channels at a time, packed at once: the
         * scratch is a chunk's U (reused, in cache) rather than all of it
         * (as big as the packed result, and a second round of page faults;
         * ResNet-18 loads about 15% faster). */
        size_t chunk_count;
        if (!oc_winograd_weights_count(m, kb, c, g->dim[1].kernel, g->dim[2].kernel,
                                       &chunk_count) ||
            chunk_count > SIZE_MAX / sizeof(float))
            return false;
        oc_gemm_packed *packs = alloc(owner, (size_t)(positions * chunks) * sizeof *packs);
        char *dst = alloc(owner, all);
        float *u = malloc((chunk_count ? chunk_count : 1) * sizeof *u);
        if (!packs || !dst || !u) {
            free(u);
            return false;
        }
        int64_t kvol = g->dim[1].kernel * g->dim[2].kernel;
        for (int64_t j = 0; j < chunks; j++) {
            int64_t k0 = j * kb, kn = min_i64(kb, k - k0);
            /* u: [xi][kn][cv] for output channels k0 .. k0 + kn. */
            if (!oc_winograd_weights(m, kn, c, g->dim[1].kernel, g->dim[2].kernel,
                                     w + k0 * c * kvol, u)) {
                free(u);
                return false;
            }
            for (int64_t xi = 0; xi < positions; xi++)
                oc_gemm_pack_a(OC_ISA_AUTO, false, (size_t)kn, (size_t)cv, u + xi * kn * cv,
                               (size_t)cv, (float *)(dst + (size_t)(j * positions + xi) * each),
                               &packs[j * positions + xi]);
        }
        free(u);
        *out = (oc_conv_weights){w, m, kb, chunks, packs, NULL, 0, NULL, NULL, 0};
        return true;
    }
    conv_method method = plain_method(g);
    if (m == 1) {
        if (method != CONV_IM2COL || !oc_conv_direct_applies(g)) return true;
        oc_isa isa = oc_isa_best();
        size_t count = oc_conv_direct_packed_count(isa, g);
        if (count == SIZE_MAX || count > SIZE_MAX / sizeof(float)) return false;
        float *packed = alloc(owner, count * sizeof *packed);
        if (!packed) return false;
        oc_conv_direct_pack(isa, g, w, packed);
        *out = (oc_conv_weights){w, 0, 0, 0, NULL, NULL, 0, NULL, packed, (int)isa};
        return true;
    }
    if (method != CONV_POINTWISE && method != CONV_IM2COL) return true;
    int64_t mg = cout_per_group(g), k = gemm_depth(g);
    size_t each = oc_gemm_pack_a_size(OC_ISA_AUTO, (size_t)mg, (size_t)k), all;
    if (each == SIZE_MAX || !oc_align_up(each, &each) || !oc_mul_size(each, (size_t)g->group, &all))
        return false;
    oc_gemm_packed *packs = alloc(owner, (size_t)g->group * sizeof *packs);
    char *dst = alloc(owner, all);
    if (!packs || !dst) return false;
    for (int64_t grp = 0; grp < g->group; grp++)
        oc_gemm_pack_a(OC_ISA_AUTO, false, (size_t)mg, (size_t)k, w + grp * mg * k, (size_t)k,
                       (float *)(dst + (size_t)grp * each), &packs[grp]);
    *out = (oc_conv_weights){w, 0, 0, 0, NULL, NULL, 0, packs, NULL, 0};
    return true;
}

/* Winograd weights for the space-to-depth form of g (stride s), when
 * Winograd pays for it; out untouched otherwise. */
static bool prepare_s2d(const oc_conv_geom *g, bool extents_known, const float *w,
                        oc_conv_alloc_fn alloc, void *owner, oc_conv_weights *out)
{
    int64_t s = g->dim[2].stride;
    oc_conv_geom g2;
    if (!s2d_geom(g, s, &g2)) return true;
    int m = oc_winograd_choose(&g2, extents_known);
    if (m == 0) return true;
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t ka = g2.dim[1].kernel, kb = g2.dim[2].kernel, c = g->in_channels;
    size_t count;
    if (!oc_mul_size((size_t)g->out_channels, (size_t)g2.in_channels, &count) ||
        !oc_mul_size(count, (size_t)(ka * kb), &count) || count > SIZE_MAX / sizeof(float))
        return false;
    float *w2 = malloc((count ? count : 1) * sizeof *w2);
    if (!w2) return false;
    for (int64_t k = 0; k < g->out_channels; k++)
        for (int64_t c2 = 0; c2 < g2.in_channels; c2++)
            for (int64_t a = 0; a < ka; a++)
                for (int64_t b = 0; b < kb; b++) {
                    int64_t ci = c2 / (s * s), i = s * a + c2 / s % s, j = s * b + c2 % s;
                    w2[((k * g2.in_channels + c2) * ka + a) * kb + b] =
                        i < dh->kernel && j < dw->kernel
                            ? w[((k * c + ci) * dh->kernel + i) * dw->kernel + j]
                            : 0.0f;
                }
    bool ok = oc_conv_prepare_method(&g2, m, w2, alloc, owner, out);
    free(w2);
    if (ok && out->winograd_m) {
        out->source = w;
        out->s2d = (int)s;
    }
    return ok;
}

/* With the extents known and Winograd's choice m: the direct method. With
 * few input channels, even where Winograd applies: its transforms then
 * cost as much as its products save (the notebook's InceptionModule, 32
 * channels in and out: as fast, and further from PyTorch's results), and
 * for a kernel in 3x3 pieces more so. Not for a single 3x3 piece with
 * WINOGRAD_WIDENS output channels or more (SqueezeNet's 16 -> 64 and 32 ->
 * 128 expand convs: 12% faster in the network at 1 thread since the
 * F(4,3) transforms went through registers; within 2% at 2 threads). A
 * strided stem (AlexNet's 11x11 stride 4): direct rather than Winograd
 * after space-to-depth, which is faster only with hot caches; a network's
 * first conv runs cold (0.88 against 1.14 ms cold, 1.44 ms in AlexNet). */
static bool chooses_direct(const oc_conv_geom *g, int m)
{
    if (plain_method(g) != CONV_IM2COL || !oc_conv_direct_applies(g)) return false;
    if (m == 0) return true;
    bool one_piece = g->dim[1].kernel == 3 && g->dim[2].kernel == 3;
    return cin_per_group(g) <= DIRECT_WINS_CHANNELS &&
           !(m == 4 && one_piece && g->out_channels >= WINOGRAD_WIDENS);
}

bool oc_conv_chooses_direct(const oc_conv_geom *g)
{
    return !output_is_empty(g) && chooses_direct(g, oc_winograd_choose(g, true));
}

bool oc_conv_prepare_weights(const oc_conv_geom *g, bool extents_known, const float *w,
                             oc_conv_alloc_fn alloc, void *owner, oc_conv_weights *out)
{
    int m = oc_winograd_choose(g, extents_known);
    if (extents_known && chooses_direct(g, m))
        return oc_conv_prepare_method(g, 1, w, alloc, owner, out);
    if (m == 0 && g->dim[1].stride >= 2 && g->dim[1].stride <= 4) {
        memset(out, 0, sizeof *out);
        if (!output_is_empty(g) && cin_per_group(g) > 0 &&
            !prepare_s2d(g, extents_known, w, alloc, owner, out))
            return false;
        if (out->winograd_m) return true;
    }
    return oc_conv_prepare_method(g, m, w, alloc, owner, out);
}

/* ---- followed by max pooling ---- */

bool oc_conv_maxpool_fits(const oc_conv_geom *g, const oc_pool_geom *pg)
{
    int64_t planes;
    return oc_mul_i64(g->batch, g->out_channels, &planes) &&
           pg->planes == planes && pg->dim[0].in == g->dim[0].out &&
           oc_conv_direct_pool_fits(g, pg);
}

static bool pool_fused(const oc_conv_geom *g, const oc_conv_weights *pw, const oc_pool_geom *pg)
{
    return !output_is_empty(g) && pw && choose_method(g, pw) == CONV_DIRECT &&
           oc_conv_direct_pool_fits(g, pg);
}

/* The conv's whole output, for the path that pools it afterwards. */
static bool conv_output_bytes(const oc_conv_geom *g, size_t *bytes)
{
    size_t n = (size_t)g->batch;
    for (int i = 0; i < OC_WINDOW_DIMS; i++)
        if (!oc_mul_size(n, (size_t)g->dim[i].out, &n)) return false;
    return oc_mul_size(n, (size_t)g->out_channels, &n) && oc_mul_size(n, sizeof(float), &n) &&
           oc_align_up(n, bytes);
}

bool oc_conv_maxpool_f32_workspace(const oc_conv_geom *g, const oc_conv_weights *pw,
                                   const oc_pool_geom *pg, int threads, size_t *bytes)
{
    size_t out, conv, fused = 0;
    if (!conv_output_bytes(g, &out) || !oc_conv_f32_workspace(g, pw, threads, &conv) ||
        !oc_add_size(out, conv, bytes))
        return false;
    if (pool_fused(g, pw, pg) &&
        !oc_conv_direct_pool_workspace(g, pg, (oc_isa)pw->direct_isa, threads, &fused))
        return false;
    if (fused > *bytes) *bytes = fused;
    return true;
}

typedef struct pool_after {
    const oc_pool_geom *pg;
    const float *x;
    float *y;
} pool_after;

static void run_pool_after(void *ctx, size_t begin, size_t end, int thread)
{
    (void)thread;
    const pool_after *p = ctx;
    oc_maxpool_f32(p->pg, p->x, p->y, NULL, false, (int64_t)begin, (int64_t)end);
}

void oc_conv_maxpool_f32(const oc_conv_geom *g, const oc_conv_weights *pw,
                         const oc_pool_geom *pg, const float *x, const float *w,
                         const float *bias, oc_conv_act act, float *y, void *workspace,
                         size_t workspace_bytes, oc_pool *pool)
{
    if (output_is_empty(g)) return;
    size_t need;
    if (pool_fused(g, pw, pg)) {
        oc_isa isa = (oc_isa)pw->direct_isa;
        if (oc_pool_size(pool) > 1 &&
            (!oc_conv_direct_pool_workspace(g, pg, isa, oc_pool_size(pool), &need) ||
             need > workspace_bytes))
            pool = NULL; /* scratch for the caller alone */
        oc_conv_direct_pool(g, isa, pw->direct, x, bias, act.lo, act.hi, pg, y, workspace, pool);
        return;
    }
    size_t out = 0;
    conv_output_bytes(g, &out); /* checked by oc_conv_maxpool_f32_workspace */
    float *conv = workspace;
    oc_conv_f32(g, pw, x, w, bias, NULL, act, conv, (char *)workspace + out,
                workspace_bytes - out, pool);
    pool_after p = {pg, conv, y};
    oc_parallel_for(pool, (size_t)pg->planes, 1, run_pool_after, &p);
}
