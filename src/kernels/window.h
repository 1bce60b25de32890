/* The geometry of a sliding-window op (convolution, pooling) along one
 * spatial dimension, and the index arithmetic the kernels share.
 *
 * Kernels work in exactly OC_WINDOW_DIMS = 3 spatial dimensions (depth,
 * height, width); 1-D and 2-D ops put unit dimensions in front
 * (oc_window_unit), so there is a single code path. */
#ifndef OC_KERNELS_WINDOW_H
#define OC_KERNELS_WINDOW_H

#include <stdint.h>

#define OC_WINDOW_DIMS 3

typedef struct oc_window_dim {
    int64_t in;        /* input extent, >= 1 */
    int64_t out;       /* output extent, >= 1 */
    int64_t kernel;    /* taps, >= 1 */
    int64_t stride;    /* >= 1 */
    int64_t dilation;  /* distance between taps, >= 1 */
    int64_t pad_begin; /* virtual positions before the input, >= 0 */
    int64_t pad_end;   /* after it; only the count_include_pad divisor reads it */
} oc_window_dim;

/* A dimension of extent 1 that does nothing. */
static inline oc_window_dim oc_window_unit(void)
{
    oc_window_dim d = {1, 1, 1, 1, 1, 0, 0};
    return d;
}

/* ceil(a / b) for a >= 0, b > 0 (without forming a + b, which may overflow). */
static inline int64_t oc_div_ceil(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* Input position of tap 0 of output o; negative inside the leading padding. */
static inline int64_t oc_window_start(const oc_window_dim *d, int64_t o)
{
    return o * d->stride - d->pad_begin;
}

/* The taps [*lo, *hi) of output o whose input position lies in [0, limit):
 * limit = in for real elements, in + pad_end to include the padding. */
static inline void oc_window_taps(const oc_window_dim *d, int64_t o, int64_t limit, int64_t *lo,
                                  int64_t *hi)
{
    int64_t start = oc_window_start(d, o);
    int64_t l = start >= 0 ? 0 : oc_div_ceil(-start, d->dilation);
    int64_t h = limit > start ? oc_div_ceil(limit - start, d->dilation) : 0;
    if (h > d->kernel) h = d->kernel;
    if (h < l) h = l;
    *lo = l;
    *hi = h;
}

/* The outputs [*lo, *hi) for which tap t reads a real input element, i.e.
 * 0 <= o * stride + t * dilation - pad_begin < in. */
static inline void oc_window_tap_outputs(const oc_window_dim *d, int64_t t, int64_t *lo,
                                         int64_t *hi)
{
    int64_t offset = t * d->dilation - d->pad_begin;
    int64_t l = offset >= 0 ? 0 : oc_div_ceil(-offset, d->stride);
    int64_t h = d->in > offset ? oc_div_ceil(d->in - offset, d->stride) : 0;
    if (h > d->out) h = d->out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* The outputs [*lo, *hi) whose every tap reads a real input element, so
 * their loops need no bounds checks. */
static inline void oc_window_interior(const oc_window_dim *d, int64_t *lo, int64_t *hi)
{
    int64_t extent = (d->kernel - 1) * d->dilation + 1;
    int64_t last_start = d->in - extent + d->pad_begin; /* largest o * stride allowed */
    int64_t l = oc_div_ceil(d->pad_begin, d->stride);
    int64_t h = last_start >= 0 ? last_start / d->stride + 1 : 0;
    if (h > d->out) h = d->out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

#endif
