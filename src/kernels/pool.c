/* Fast pooling. 2-D pooling without dilation (and without indices) is
 * separable: per output row, the input rows it reads are reduced into one
 * padded buffer row, which the outputs then reduce across (pool_isa.c,
 * compiled per ISA). Otherwise, per output row (fixed depth and height),
 * the outputs whose whole window lies inside the input (the interior,
 * usually nearly all of them) are computed tap by tap across the row, with
 * no bounds checks and a unit-stride inner loop the compiler vectorizes;
 * only the few border outputs clip their windows one at a time. */
#include <math.h>
#include <stddef.h>

#include "pool.h"

#include "cpu.h"
#include "pool_isa.h"

typedef struct row_span {
    int64_t d_lo, d_hi, h_lo, h_hi; /* real taps in depth and height */
    int64_t id0, ih0;               /* input position of tap 0 in depth and height */
} row_span;

static row_span span_of_row(const oc_pool_geom *g, int64_t od, int64_t oh)
{
    row_span s;
    oc_window_taps(&g->dim[0], od, g->dim[0].in, &s.d_lo, &s.d_hi);
    oc_window_taps(&g->dim[1], oh, g->dim[1].in, &s.h_lo, &s.h_hi);
    s.id0 = oc_window_start(&g->dim[0], od);
    s.ih0 = oc_window_start(&g->dim[1], oh);
    return s;
}

static int64_t volume_in(const oc_pool_geom *g)
{
    return g->dim[0].in * g->dim[1].in * g->dim[2].in;
}

/* ---- max ---- */

/* Index strides of depth, height and width in the flattened Indices convention. */
typedef struct index_strides {
    int64_t d, h, w;
} index_strides;

static index_strides strides_of(const oc_pool_geom *g, bool col_major)
{
    int64_t in_d = g->dim[0].in, in_h = g->dim[1].in, in_w = g->dim[2].in;
    index_strides s = {in_h * in_w, in_w, 1};
    if (col_major) s = (index_strides){1, in_d, in_d * in_h};
    return s;
}

/* The new value replaces the running maximum: larger, or the first NaN
 * (x != x only for NaN; written so, it vectorizes as two compares). */
static inline bool takes_over(float v, float best)
{
    return v > best || (v != v && best == best);
}

/* One border output: its window clipped in all three dimensions. */
static void max_clipped(const oc_pool_geom *g, const float *xp, const row_span *s, int64_t ow,
                        int64_t index_base, const index_strides *is, float *y, int64_t *index)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t w_lo, w_hi, iw0 = oc_window_start(dw, ow);
    oc_window_taps(dw, ow, dw->in, &w_lo, &w_hi);
    float best = -INFINITY;
    int64_t best_index = -1;
    for (int64_t kd = s->d_lo; kd < s->d_hi; kd++)
    for (int64_t kh = s->h_lo; kh < s->h_hi; kh++) {
        int64_t id = s->id0 + kd * g->dim[0].dilation, ih = s->ih0 + kh * dh->dilation;
        const float *row = xp + (id * dh->in + ih) * dw->in;
        for (int64_t kw = w_lo; kw < w_hi; kw++) {
            int64_t iw = iw0 + kw * dw->dilation;
            if (best_index < 0 || takes_over(row[iw], best)) {
                best = row[iw];
                best_index = index_base + id * is->d + ih * is->h + iw * is->w;
            }
        }
    }
    *y = best;
    if (index) *index = best_index;
}

/* Interior outputs [lo, hi) of one row: every tap real, so the window
 * loops run across the row. */
static void max_interior(const oc_pool_geom *g, const float *xp, const row_span *s, int64_t lo,
                         int64_t hi, int64_t index_base, const index_strides *is,
                         float *restrict y, int64_t *restrict index)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t sw = dw->stride;
    for (int64_t ow = lo; ow < hi; ow++) y[ow] = -INFINITY;
    if (index) {
        /* Until something beats -inf, the first tap is the answer. */
        int64_t first = index_base + (s->id0 + s->d_lo * g->dim[0].dilation) * is->d +
                        (s->ih0 + s->h_lo * dh->dilation) * is->h;
        for (int64_t ow = lo; ow < hi; ow++) index[ow] = first + oc_window_start(dw, ow) * is->w;
    }
    for (int64_t kd = s->d_lo; kd < s->d_hi; kd++)
    for (int64_t kh = s->h_lo; kh < s->h_hi; kh++) {
        int64_t id = s->id0 + kd * g->dim[0].dilation, ih = s->ih0 + kh * dh->dilation;
        const float *restrict row = xp + (id * dh->in + ih) * dw->in;
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            int64_t offset = kw * dw->dilation - dw->pad_begin;
            if (!index) {
                for (int64_t ow = lo; ow < hi; ow++) {
                    float v = row[ow * sw + offset];
                    y[ow] = takes_over(v, y[ow]) ? v : y[ow];
                }
            } else {
                int64_t base = index_base + id * is->d + ih * is->h;
                for (int64_t ow = lo; ow < hi; ow++) {
                    float v = row[ow * sw + offset];
                    if (takes_over(v, y[ow])) {
                        y[ow] = v;
                        index[ow] = base + (ow * sw + offset) * is->w;
                    }
                }
            }
        }
    }
}

/* ---- 2-D without dilation: separable ---- */

/* 2-D (unit depth), no dilation, padded rows short enough: a window's
 * maximum (or sum) is that over its columns of the column maxima (sums)
 * over its rows (pool_isa.c). (Ties between -0 and +0, and which NaN comes
 * out, may differ from the row-major window order; values are otherwise
 * the same.) */
bool oc_pool_separable(const oc_pool_geom *g)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    return dd->in == 1 && dd->out == 1 && dd->kernel == 1 && dh->dilation == 1 &&
           dw->dilation == 1 && dh->out <= OC_POOL_SEP_MAX && dh->in <= INT32_MAX &&
           dw->kernel <= OC_POOL_SEP_MAX && dw->out <= OC_POOL_SEP_MAX &&
           dw->stride <= OC_POOL_SEP_MAX && dw->pad_begin <= OC_POOL_SEP_MAX &&
           dw->in <= OC_POOL_SEP_MAX && oc_pool_padded_span(dw) <= OC_POOL_SEP_MAX;
}

const oc_pool_plane_kernels *oc_pool_plane_kernels_for(oc_isa isa)
{
    switch (oc_isa_resolve(isa)) {
#ifdef OC_HAVE_AVX512
    case OC_ISA_AVX512: return &oc_pool_plane_kernels_avx512;
#endif
#ifdef OC_HAVE_AVX2
    case OC_ISA_AVX2: return &oc_pool_plane_kernels_avx2;
#endif
    default: return &oc_pool_plane_kernels_portable;
    }
}

static int64_t divisor_taps(const oc_window_dim *d, int64_t o, bool count_include_pad);

/* Runs the separable kernel over planes [p0, p1) (avg with the divisors of
 * count_include_pad). */
static void pool_separable(const oc_pool_geom *g, bool avg, bool count_include_pad,
                           const float *x, float *y, int64_t p0, int64_t p1)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int32_t lo[OC_POOL_SEP_MAX], hi[OC_POOL_SEP_MAX];
    float rows[OC_POOL_SEP_MAX], cols[OC_POOL_SEP_MAX];
    for (int64_t oh = 0; oh < dh->out; oh++) {
        int64_t h_lo, h_hi, ih0 = oc_window_start(dh, oh);
        oc_window_taps(dh, oh, dh->in, &h_lo, &h_hi);
        lo[oh] = (int32_t)(ih0 + h_lo);
        hi[oh] = (int32_t)(ih0 + h_hi);
        if (avg) rows[oh] = (float)divisor_taps(dh, oh, count_include_pad);
    }
    if (avg)
        for (int64_t ow = 0; ow < dw->out; ow++)
            cols[ow] = (float)divisor_taps(dw, ow, count_include_pad);
    oc_pool_sep s = {dh->in,         dw->in,     dh->out, dw->out, dw->stride, dw->kernel,
                     dw->pad_begin,  oc_pool_padded_span(dw), lo,  hi,      rows,       cols};
    if (avg)
        oc_pool_plane_kernels_for(OC_ISA_AUTO)->avg(&s, x, y, p0, p1);
    else
        oc_pool_plane_kernels_for(OC_ISA_AUTO)->max(&s, x, y, p0, p1);
}

void oc_maxpool_f32(const oc_pool_geom *g, const float *x, float *y, int64_t *indices,
                    bool col_major_indices, int64_t plane_begin, int64_t plane_end)
{
    if (!indices && oc_pool_separable(g)) {
        pool_separable(g, false, false, x, y, plane_begin, plane_end);
        return;
    }
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    index_strides is = strides_of(g, col_major_indices);
    int64_t lo, hi;
    oc_window_interior(dw, &lo, &hi);
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *xp = x + p * volume_in(g);
        int64_t index_base = p * volume_in(g);
        for (int64_t od = 0; od < dd->out; od++)
        for (int64_t oh = 0; oh < dh->out; oh++) {
            int64_t row_pos = ((p * dd->out + od) * dh->out + oh) * dw->out;
            float *yrow = y + row_pos;
            int64_t *irow = indices ? indices + row_pos : NULL;
            row_span s = span_of_row(g, od, oh);
            bool empty = s.d_lo == s.d_hi || s.h_lo == s.h_hi;
            int64_t row_lo = empty ? dw->out : lo, row_hi = empty ? dw->out : hi;
            /* Border outputs: before and after the interior [row_lo, row_hi). */
            for (int64_t ow = 0; ow < dw->out; ow++) {
                if (ow == row_lo) ow = row_hi;
                if (ow == dw->out) break;
                max_clipped(g, xp, &s, ow, index_base, &is, yrow + ow, irow ? irow + ow : NULL);
            }
            if (row_lo < row_hi)
                max_interior(g, xp, &s, row_lo, row_hi, index_base, &is, yrow, irow);
        }
    }
}

/* ---- average ---- */

/* Taps of output o counted by the divisor in dimension d. */
static int64_t divisor_taps(const oc_window_dim *d, int64_t o, bool count_include_pad)
{
    int64_t lo, hi;
    /* The padding is [-pad_begin, 0) and [in, in + pad_end); every window
     * starts at or after -pad_begin, so only the upper limit moves. */
    if (count_include_pad) {
        int64_t start = oc_window_start(d, o);
        int64_t hi_pad = oc_div_ceil(d->in + d->pad_end - start, d->dilation);
        return hi_pad < d->kernel ? hi_pad : d->kernel;
    }
    oc_window_taps(d, o, d->in, &lo, &hi);
    return hi - lo;
}

static float avg_clipped(const oc_pool_geom *g, const float *xp, const row_span *s, int64_t ow)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t w_lo, w_hi, iw0 = oc_window_start(dw, ow);
    oc_window_taps(dw, ow, dw->in, &w_lo, &w_hi);
    float sum = 0.0f;
    for (int64_t kd = s->d_lo; kd < s->d_hi; kd++)
    for (int64_t kh = s->h_lo; kh < s->h_hi; kh++) {
        int64_t id = s->id0 + kd * g->dim[0].dilation, ih = s->ih0 + kh * dh->dilation;
        const float *row = xp + (id * dh->in + ih) * dw->in;
        for (int64_t kw = w_lo; kw < w_hi; kw++) sum += row[iw0 + kw * dw->dilation];
    }
    return sum;
}

static void avg_interior(const oc_pool_geom *g, const float *xp, const row_span *s, int64_t lo,
                         int64_t hi, float *restrict y)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t sw = dw->stride;
    for (int64_t ow = lo; ow < hi; ow++) y[ow] = 0.0f;
    for (int64_t kd = s->d_lo; kd < s->d_hi; kd++)
    for (int64_t kh = s->h_lo; kh < s->h_hi; kh++) {
        int64_t id = s->id0 + kd * g->dim[0].dilation, ih = s->ih0 + kh * dh->dilation;
        const float *restrict row = xp + (id * dh->in + ih) * dw->in;
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            int64_t offset = kw * dw->dilation - dw->pad_begin;
            for (int64_t ow = lo; ow < hi; ow++) y[ow] += row[ow * sw + offset];
        }
    }
}

void oc_avgpool_f32(const oc_pool_geom *g, bool count_include_pad, const float *x, float *y,
                    int64_t plane_begin, int64_t plane_end)
{
    if (oc_pool_separable(g)) {
        pool_separable(g, true, count_include_pad, x, y, plane_begin, plane_end);
        return;
    }
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t lo, hi;
    oc_window_interior(dw, &lo, &hi);
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *xp = x + p * volume_in(g);
        for (int64_t od = 0; od < dd->out; od++)
        for (int64_t oh = 0; oh < dh->out; oh++) {
            float *yrow = y + ((p * dd->out + od) * dh->out + oh) * dw->out;
            row_span s = span_of_row(g, od, oh);
            /* In floating point: a huge padded kernel must not overflow. */
            float outer = (float)divisor_taps(dd, od, count_include_pad) *
                          (float)divisor_taps(dh, oh, count_include_pad);
            for (int64_t ow = 0; ow < dw->out; ow++) { /* border outputs, as in max */
                if (ow == lo) ow = hi;
                if (ow == dw->out) break;
                float count = outer * (float)divisor_taps(dw, ow, count_include_pad);
                yrow[ow] = avg_clipped(g, xp, &s, ow) / count;
            }
            if (lo < hi) {
                /* Interior outputs have every width tap, real and counted. */
                avg_interior(g, xp, &s, lo, hi, yrow);
                float count = outer * (float)dw->kernel;
                for (int64_t ow = lo; ow < hi; ow++) yrow[ow] /= count;
            }
        }
    }
}

/* ---- global average ---- */

void oc_global_avgpool_f32(int64_t plane_size, const float *x, float *y, int64_t plane_begin,
                           int64_t plane_end)
{
    for (int64_t p = plane_begin; p < plane_end; p++) {
        const float *xp = x + p * plane_size;
        /* Eight independent partial sums: vectorizable, and more accurate
         * than one long running sum. */
        float part[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= plane_size; i += 8)
            for (int j = 0; j < 8; j++) part[j] += xp[i + j];
        float sum = ((part[0] + part[4]) + (part[1] + part[5])) +
                    ((part[2] + part[6]) + (part[3] + part[7]));
        for (; i < plane_size; i++) sum += xp[i];
        y[p] = sum / (float)plane_size;
    }
}
