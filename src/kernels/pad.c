/* Pad and crop (see pad.h). */
#include <stdbool.h>
#include <string.h>

#include "pad.h"

/* One dim of the output: lead added elements, then kept input elements
 * starting at input index crop, then the rest added. */
typedef struct pad_dim {
    int64_t out, lead, kept, crop;
    size_t in_step, out_step; /* bytes between neighbours along this dim */
} pad_dim;

typedef struct pad_ctx {
    int rank;
    pad_dim dims[OC_PAD_MAX_RANK];
    oc_pad_mode mode;
    size_t size;
    const char *value;
} pad_ctx;

/* The input index output index o of d reads, or -1 for the constant. */
static int64_t source_index(oc_pad_mode mode, const pad_dim *d, int64_t o)
{
    int64_t j = o - d->lead; /* position among the kept elements */
    if (j >= 0 && j < d->kept) return d->crop + j;
    switch (mode) {
    case OC_PAD_CONSTANT: return -1;
    case OC_PAD_EDGE: j = j < 0 ? 0 : d->kept - 1; break;
    case OC_PAD_REFLECT: j = j < 0 ? -j : 2 * (d->kept - 1) - j; break;
    case OC_PAD_WRAP:
        j %= d->kept;
        if (j < 0) j += d->kept;
        break;
    }
    return d->crop + j;
}

/* n copies of the element at value, doubling the filled prefix. */
static void fill_repeat(char *dst, const char *value, size_t size, size_t n)
{
    size_t total = size * n, filled = size;
    if (n == 0) return;
    memcpy(dst, value, size);
    while (filled < total) {
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(dst + filled, dst, chunk);
        filled += chunk;
    }
}

/* Output elements [from, to) of an innermost row, one at a time. */
static void pad_elements(const pad_ctx *c, const pad_dim *d, const char *src, char *dst,
                         int64_t from, int64_t to)
{
    if (c->mode == OC_PAD_CONSTANT) {
        fill_repeat(dst + (size_t)from * c->size, c->value, c->size, (size_t)(to - from));
        return;
    }
    for (int64_t o = from; o < to; o++)
        memcpy(dst + (size_t)o * c->size, src + (size_t)source_index(c->mode, d, o) * c->size,
               c->size);
}

static void pad_row(const pad_ctx *c, const pad_dim *d, const char *src, char *dst)
{
    int64_t mid_end = d->lead + d->kept; /* out = lead + kept + the trailing added */
    pad_elements(c, d, src, dst, 0, d->lead);
    if (d->kept > 0)
        memcpy(dst + (size_t)d->lead * c->size, src + (size_t)d->crop * c->size,
               (size_t)d->kept * c->size);
    pad_elements(c, d, src, dst, mid_end, d->out);
}

static void pad_level(const pad_ctx *c, int k, const char *src, char *dst)
{
    const pad_dim *d = &c->dims[k];
    if (k == c->rank - 1) {
        pad_row(c, d, src, dst);
        return;
    }
    for (int64_t o = 0; o < d->out; o++) {
        int64_t i = source_index(c->mode, d, o);
        char *to = dst + (size_t)o * d->out_step;
        if (i < 0)
            fill_repeat(to, c->value, c->size, d->out_step / c->size);
        else
            pad_level(c, k + 1, src + (size_t)i * d->in_step, to);
    }
}

void oc_pad(const oc_pad_geom *g, size_t elem_size, const void *src, void *dst, const void *value)
{
    if (g->rank == 0) {
        memcpy(dst, src, elem_size);
        return;
    }
    pad_ctx c = {g->rank, {{0}}, g->mode, elem_size, value};
    size_t in_step = elem_size, out_step = elem_size;
    bool input_empty = false;
    for (int k = g->rank - 1; k >= 0; k--) {
        input_empty = input_empty || g->in_dims[k] == 0;
        pad_dim *d = &c.dims[k];
        int64_t crop_begin = g->begin[k] < 0 ? -g->begin[k] : 0;
        int64_t crop_end = g->end[k] < 0 ? -g->end[k] : 0;
        d->out = g->in_dims[k] + g->begin[k] + g->end[k];
        if (d->out == 0) return; /* an empty output */
        d->lead = g->begin[k] > 0 ? g->begin[k] : 0;
        d->kept = g->in_dims[k] - crop_begin - crop_end;
        d->crop = crop_begin;
        d->in_step = in_step;
        d->out_step = out_step;
        in_step *= (size_t)g->in_dims[k]; /* may wrap when the input is empty: unused then */
        out_step *= (size_t)d->out;
    }
    if (input_empty) {
        /* Only constant mode can pad an empty input: all of dst is the value,
         * and src (possibly NULL) is never touched. */
        fill_repeat(dst, value, elem_size, out_step / elem_size);
        return;
    }
    pad_level(&c, 0, src, dst);
}

/* The input coordinate output coordinate o of dim k reads, or -1. Written
 * in input coordinates: the kept window is [lo, hi). */
static int64_t ref_source(const oc_pad_geom *g, int k, int64_t o)
{
    int64_t p = o - g->begin[k];
    int64_t lo = g->begin[k] < 0 ? -g->begin[k] : 0;
    int64_t hi = g->in_dims[k] - (g->end[k] < 0 ? -g->end[k] : 0);
    if (p >= lo && p < hi) return p;
    switch (g->mode) {
    case OC_PAD_CONSTANT: return -1;
    case OC_PAD_EDGE: return p < lo ? lo : hi - 1;
    case OC_PAD_REFLECT: return p < lo ? 2 * lo - p : 2 * (hi - 1) - p;
    case OC_PAD_WRAP: {
        int64_t period = hi - lo, r = (p - lo) % period;
        return lo + (r < 0 ? r + period : r);
    }
    }
    return -1;
}

void oc_pad_ref(const oc_pad_geom *g, size_t elem_size, const void *src, void *dst,
                const void *value)
{
    int64_t out_dims[OC_PAD_MAX_RANK];
    size_t count = 1;
    for (int k = 0; k < g->rank; k++) {
        out_dims[k] = g->in_dims[k] + g->begin[k] + g->end[k];
        count *= (size_t)out_dims[k];
    }
    for (size_t i = 0; i < count; i++) {
        size_t rest = i, in_flat = 0, in_scale = 1;
        bool constant = false;
        for (int k = g->rank - 1; k >= 0; k--) {
            int64_t o = (int64_t)(rest % (size_t)out_dims[k]);
            rest /= (size_t)out_dims[k];
            int64_t s = ref_source(g, k, o);
            if (s < 0) constant = true;
            else in_flat += (size_t)s * in_scale;
            in_scale *= (size_t)g->in_dims[k];
        }
        const char *from = constant ? value : (const char *)src + in_flat * elem_size;
        memcpy((char *)dst + i * elem_size, from, elem_size);
    }
}
