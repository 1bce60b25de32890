/* Reference pooling: every tap of every window, bounds-checked one by one. */
#include <math.h>

#include "pool.h"

/* Where tap t of output o lands in dimension d (may be in the padding or past it). */
static int64_t tap_position(const oc_window_dim *d, int64_t o, int64_t t)
{
    return o * d->stride - d->pad_begin + t * d->dilation;
}

static bool is_real(const oc_window_dim *d, int64_t pos) { return pos >= 0 && pos < d->in; }

static bool is_real_or_pad(const oc_window_dim *d, int64_t pos)
{
    return pos >= -d->pad_begin && pos < d->in + d->pad_end;
}

static int64_t volume_in(const oc_pool_geom *g)
{
    return g->dim[0].in * g->dim[1].in * g->dim[2].in;
}
static int64_t volume_out(const oc_pool_geom *g)
{
    return g->dim[0].out * g->dim[1].out * g->dim[2].out;
}

static int64_t flat_index(const oc_pool_geom *g, bool col_major, int64_t plane, int64_t id,
                          int64_t ih, int64_t iw)
{
    int64_t in_d = g->dim[0].in, in_h = g->dim[1].in, in_w = g->dim[2].in;
    int64_t spatial = col_major ? id + ih * in_d + iw * in_d * in_h : (id * in_h + ih) * in_w + iw;
    return plane * volume_in(g) + spatial;
}

void oc_maxpool_f32_ref(const oc_pool_geom *g, const float *x, float *y, int64_t *indices,
                        bool col_major_indices, int64_t plane_begin, int64_t plane_end)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t out_pos = plane_begin * volume_out(g);
    for (int64_t p = plane_begin; p < plane_end; p++)
    for (int64_t od = 0; od < dd->out; od++)
    for (int64_t oh = 0; oh < dh->out; oh++)
    for (int64_t ow = 0; ow < dw->out; ow++, out_pos++) {
        float best = -INFINITY;
        int64_t best_index = -1;
        for (int64_t kd = 0; kd < dd->kernel; kd++)
        for (int64_t kh = 0; kh < dh->kernel; kh++)
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            int64_t id = tap_position(dd, od, kd), ih = tap_position(dh, oh, kh);
            int64_t iw = tap_position(dw, ow, kw);
            if (!is_real(dd, id) || !is_real(dh, ih) || !is_real(dw, iw)) continue;
            float v = x[p * volume_in(g) + (id * dh->in + ih) * dw->in + iw];
            bool first = best_index < 0;
            bool larger = v > best || (isnan(v) && !isnan(best));
            if (first || larger) {
                best = v;
                best_index = flat_index(g, col_major_indices, p, id, ih, iw);
            }
        }
        y[out_pos] = best;
        if (indices) indices[out_pos] = best_index;
    }
}

void oc_avgpool_f32_ref(const oc_pool_geom *g, bool count_include_pad, const float *x, float *y,
                        int64_t plane_begin, int64_t plane_end)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    int64_t out_pos = plane_begin * volume_out(g);
    for (int64_t p = plane_begin; p < plane_end; p++)
    for (int64_t od = 0; od < dd->out; od++)
    for (int64_t oh = 0; oh < dh->out; oh++)
    for (int64_t ow = 0; ow < dw->out; ow++, out_pos++) {
        double sum = 0.0;
        int64_t real = 0, real_or_pad = 0;
        for (int64_t kd = 0; kd < dd->kernel; kd++)
        for (int64_t kh = 0; kh < dh->kernel; kh++)
        for (int64_t kw = 0; kw < dw->kernel; kw++) {
            int64_t id = tap_position(dd, od, kd), ih = tap_position(dh, oh, kh);
            int64_t iw = tap_position(dw, ow, kw);
            if (is_real_or_pad(dd, id) && is_real_or_pad(dh, ih) && is_real_or_pad(dw, iw))
                real_or_pad++;
            if (is_real(dd, id) && is_real(dh, ih) && is_real(dw, iw)) {
                real++;
                sum += x[p * volume_in(g) + (id * dh->in + ih) * dw->in + iw];
            }
        }
        y[out_pos] = (float)(sum / (double)(count_include_pad ? real_or_pad : real));
    }
}

void oc_global_avgpool_f32_ref(int64_t plane_size, const float *x, float *y,
                               int64_t plane_begin, int64_t plane_end)
{
    for (int64_t p = plane_begin; p < plane_end; p++) {
        double sum = 0.0;
        for (int64_t i = 0; i < plane_size; i++) sum += x[p * plane_size + i];
        y[p] = (float)(sum / (double)plane_size);
    }
}
