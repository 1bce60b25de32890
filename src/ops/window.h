/* The sliding-window attributes Conv and the pooling ops share (auto_pad,
 * kernel_shape, strides, dilations, pads, ceil_mode): parsed and checked at
 * prepare, resolved against the input shape (auto_pad, output extents) at
 * infer and run. Header-only so both op files use one definition. */
#ifndef OC_OPS_WINDOW_H
#define OC_OPS_WINDOW_H

#include <inttypes.h>
#include <string.h>

#include "kernels/window.h"
#include "ops.h"

typedef enum oc_auto_pad {
    OC_AUTO_PAD_NOTSET,
    OC_AUTO_PAD_SAME_UPPER,
    OC_AUTO_PAD_SAME_LOWER,
    OC_AUTO_PAD_VALID
} oc_auto_pad;

/* Absent lists have count 0 (defaults: stride 1, dilation 1, no padding). */
typedef struct oc_window_attrs {
    oc_auto_pad auto_pad;
    bool ceil_mode;
    size_t n_kernel, n_strides, n_dilations, n_pads;
    int64_t kernel[OC_WINDOW_DIMS];
    int64_t strides[OC_WINDOW_DIMS];
    int64_t dilations[OC_WINDOW_DIMS];
    int64_t pads[2 * OC_WINDOW_DIMS]; /* begins of each dim, then ends */
} oc_window_attrs;

/* Reads an ints attribute of at most max entries, each >= min_value. */
static inline onnxc_status *oc_window_read_list(const oc_node *n, const char *name, size_t max,
                                                int64_t min_value, int64_t *out, size_t *count)
{
    const int64_t *v;
    OC_TRY(oc_attr_ints(n, name, &v, count));
    if (*count > max)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "attribute '%s' has %zu entries: more than %d spatial dimensions "
                             "are not supported", name, *count, OC_WINDOW_DIMS);
    for (size_t i = 0; i < *count; i++) {
        if (v[i] < min_value)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "attribute '%s' has value %" PRId64
                                 " at position %zu; it must be >= %" PRId64,
                                 name, v[i], i, min_value);
        out[i] = v[i];
    }
    return NULL;
}

static inline onnxc_status *oc_window_read_auto_pad(const oc_node *n, oc_auto_pad *out)
{
    const char *s;
    OC_TRY(oc_attr_string(n, "auto_pad", "NOTSET", &s));
    if (strcmp(s, "NOTSET") == 0 || s[0] == '\0') /* some exporters write "" */
        *out = OC_AUTO_PAD_NOTSET;
    else if (strcmp(s, "SAME_UPPER") == 0)
        *out = OC_AUTO_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0)
        *out = OC_AUTO_PAD_SAME_LOWER;
    else if (strcmp(s, "VALID") == 0)
        *out = OC_AUTO_PAD_VALID;
    else
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'auto_pad' is '%s'; expected NOTSET, SAME_UPPER, "
                             "SAME_LOWER or VALID", s);
    return NULL;
}

/* Parses and checks the window attributes present on n (absent ones take
 * their defaults; the caller has already rejected those its opset lacks). */
static inline onnxc_status *oc_window_parse(const oc_node *n, oc_window_attrs *a)
{
    memset(a, 0, sizeof *a);
    OC_TRY(oc_window_read_auto_pad(n, &a->auto_pad));
    OC_TRY(oc_window_read_list(n, "kernel_shape", OC_WINDOW_DIMS, 1, a->kernel, &a->n_kernel));
    OC_TRY(oc_window_read_list(n, "strides", OC_WINDOW_DIMS, 1, a->strides, &a->n_strides));
    OC_TRY(oc_window_read_list(n, "dilations", OC_WINDOW_DIMS, 1, a->dilations, &a->n_dilations));
    OC_TRY(oc_window_read_list(n, "pads", 2 * OC_WINDOW_DIMS, 0, a->pads, &a->n_pads));
    if (a->n_pads % 2 != 0)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'pads' has %zu entries; it needs a begin and an end per "
                             "spatial dimension", a->n_pads);
    if (a->auto_pad != OC_AUTO_PAD_NOTSET)
        for (size_t i = 0; i < a->n_pads; i++)
            if (a->pads[i] != 0)
                return oc_node_error(n, ONNXC_ERR_MODEL,
                                     "attributes 'pads' and 'auto_pad' cannot both be used");
    int64_t ceil_mode;
    OC_TRY(oc_attr_int(n, "ceil_mode", 0, &ceil_mode));
    if (ceil_mode != 0 && ceil_mode != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'ceil_mode' is %" PRId64 "; expected 0 or 1", ceil_mode);
    a->ceil_mode = ceil_mode == 1;
    return NULL;
}

/* Checks that a list attribute has per_dim entries for each of the rank
 * spatial dims of the input (0 = absent is always fine). */
static inline onnxc_status *oc_window_check_count(const oc_node *n, const char *name,
                                                  size_t count, int rank, int per_dim)
{
    size_t want = (size_t)rank * (size_t)per_dim;
    if (count != 0 && count != want)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute '%s' has %zu entries; the input has %d spatial "
                             "dimensions, so it needs %zu", name, count, rank, want);
    return NULL;
}

/* Resolves spatial dimension i: padding (explicit or auto_pad) and the output
 * extent. ONNX: floor((in + pads - extent) / stride) + 1, or the ceiling
 * with ceil_mode, in which case a last window starting in the end padding is
 * dropped; SAME_* gives ceil(in / stride) outputs and pads the difference
 * (the odd one at the end for SAME_UPPER, at the start for SAME_LOWER). */
static inline onnxc_status *oc_window_resolve_dim(const oc_node *n, const oc_window_attrs *a,
                                                  int rank, int i, int64_t in, int64_t kernel,
                                                  oc_window_dim *d)
{
    d->in = in;
    d->kernel = kernel;
    d->stride = a->n_strides ? a->strides[i] : 1;
    d->dilation = a->n_dilations ? a->dilations[i] : 1;
    if (in < 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "spatial dimension %d of the input is %" PRId64 "; it must be >= 1", i,
                             in);
    int64_t extent;
    if (!oc_mul_i64(kernel - 1, d->dilation, &extent) || !oc_add_i64(extent, 1, &extent))
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "the window extent of spatial dimension %d overflows", i);

    if (a->auto_pad == OC_AUTO_PAD_SAME_UPPER || a->auto_pad == OC_AUTO_PAD_SAME_LOWER) {
        d->out = oc_div_ceil(in, d->stride);
        int64_t total = (d->out - 1) * d->stride - in; /* < 0: out * stride <= in + stride */
        if (!oc_add_i64(total, extent, &total))
            return oc_node_error(n, ONNXC_ERR_LIMIT,
                                 "the padding of spatial dimension %d overflows", i);
        if (total < 0) total = 0;
        d->pad_begin = a->auto_pad == OC_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
        d->pad_end = total - d->pad_begin;
        return NULL;
    }
    d->pad_begin = a->auto_pad == OC_AUTO_PAD_NOTSET && a->n_pads ? a->pads[i] : 0;
    d->pad_end = a->auto_pad == OC_AUTO_PAD_NOTSET && a->n_pads ? a->pads[rank + i] : 0;
    int64_t padded;
    if (!oc_add_i64(in, d->pad_begin, &padded) || !oc_add_i64(padded, d->pad_end, &padded))
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "the padded extent of spatial dimension %d overflows", i);
    if (padded < extent)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "spatial dimension %d: the window (kernel %" PRId64
                             ", dilation %" PRId64 ") spans %" PRId64
                             " but the padded input is only %" PRId64,
                             i, kernel, d->dilation, extent, padded);
    if (a->ceil_mode) {
        d->out = oc_div_ceil(padded - extent, d->stride) + 1;
        int64_t last_start;
        if (!oc_mul_i64(d->out - 1, d->stride, &last_start) || last_start >= in + d->pad_begin)
            d->out--;
    } else {
        d->out = (padded - extent) / d->stride + 1;
    }
    return NULL;
}

/* Resolves rank (1..3) spatial dims with input extents in[] and kernel
 * extents kernel[] into the kernels' 3-D geometry (unit dims in front). */
static inline onnxc_status *oc_window_resolve(const oc_node *n, const oc_window_attrs *a, int rank,
                                              const int64_t *in, const int64_t *kernel,
                                              oc_window_dim dims[OC_WINDOW_DIMS])
{
    OC_TRY(oc_window_check_count(n, "strides", a->n_strides, rank, 1));
    OC_TRY(oc_window_check_count(n, "dilations", a->n_dilations, rank, 1));
    OC_TRY(oc_window_check_count(n, "pads", a->n_pads, rank, 2));
    int lead = OC_WINDOW_DIMS - rank;
    for (int i = 0; i < lead; i++) dims[i] = oc_window_unit();
    for (int i = 0; i < rank; i++)
        OC_TRY(oc_window_resolve_dim(n, a, rank, i, in[i], kernel[i], &dims[lead + i]));
    return NULL;
}

#endif
