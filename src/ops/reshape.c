/* Ops that give the data a new shape: Flatten, Reshape, Unsqueeze and
 * Squeeze copy it unchanged (as bytes, so any fixed-size element type);
 * Expand repeats it along broadcast dims. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "int_inputs.h"
#include "kernels/strided.h"
#include "ops.h"

typedef struct flatten_params {
    int64_t axis; /* as written; checked against the rank in infer */
} flatten_params;

onnxc_status *oc_flatten_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    flatten_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_int(n, "axis", 1, &p->axis));
    *params = p;
    return NULL;
}

/* The product of dims[from..to), or an error when it overflows (possible even
 * for a valid tensor when another dim is 0). */
static onnxc_status *checked_product(const oc_node *n, const int64_t *dims, int from, int to,
                                     int64_t *out)
{
    int64_t product = 1;
    for (int d = from; d < to; d++)
        if (!oc_mul_i64(product, dims[d], &product))
            return oc_node_error(n, ONNXC_ERR_LIMIT, "a flattened dim overflows");
    *out = product;
    return NULL;
}

onnxc_status *oc_flatten_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const flatten_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input is missing");
    if (onnxc_dtype_size(x->dtype) == 0)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "element type %s is not supported",
                             onnxc_dtype_name(x->dtype));
    /* Unlike most axes, rank itself is allowed: everything goes to the rows. */
    if (p->axis < -(int64_t)x->rank || p->axis > x->rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "axis %" PRId64 " is out of range for rank %d",
                             p->axis, x->rank);
    int axis = (int)(p->axis < 0 ? p->axis + x->rank : p->axis);
    int64_t rows = 0, cols = 0;
    OC_TRY(checked_product(n, x->dims, 0, axis, &rows));
    OC_TRY(checked_product(n, x->dims, axis, x->rank, &cols));
    if (ctx->out[0]) {
        oc_tensor *out = ctx->out[0];
        out->dtype = x->dtype;
        out->rank = 2;
        out->dims[0] = rows;
        out->dims[1] = cols;
    }
    return NULL;
}

onnxc_status *oc_flatten_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (ctx->out[0] && x->nbytes) memcpy(ctx->out[0]->data, x->data, x->nbytes);
    return NULL;
}


/* Reshape, Unsqueeze and Squeeze keep every element in order: the run is
 * one copy of the bytes. */
static onnxc_status *copy_bytes(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    if (out->nbytes != x->nbytes)
        return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "output has %zu bytes, input %zu",
                             out->nbytes, x->nbytes);
    if (x->nbytes) memcpy(out->data, x->data, x->nbytes);
    return NULL;
}

static onnxc_status *require_data_input(const oc_node *n, const oc_tensor *x)
{
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is missing");
    return oc_check_sized(n, "data", x);
}

static void set_output(oc_tensor *out, onnxc_dtype dtype, const int64_t *dims, int rank)
{
    if (!out) return;
    out->dtype = dtype;
    out->rank = rank;
    memset(out->dims, 0, sizeof out->dims);
    if (rank > 0) memcpy(out->dims, dims, (size_t)rank * sizeof *dims);
}

/* ---- Reshape ----
 * Opsets 1-4 take the shape as an attribute, 5 on as an input. An entry 0
 * copies the input's dim at that position (with allowzero, opset 14+, it is
 * a real 0); one entry -1 takes whatever size makes the counts match. */

typedef struct reshape_params {
    bool allowzero;
    const int64_t *shape; /* opsets 1-4 */
    size_t n_shape;
} reshape_params;

onnxc_status *oc_reshape_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names_v1[] = {"shape", "consumed_inputs"};
    static const char *const names_v14[] = {"allowzero"};
    reshape_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    if (n->opset < 5) {
        OC_TRY(oc_check_attr_names(n, names_v1, 2));
        if (!oc_attr_find(n, "shape"))
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'shape' is required before opset 5");
        OC_TRY(oc_attr_ints(n, "shape", &p->shape, &p->n_shape));
        if (p->n_shape > OC_MAX_RANK)
            return oc_node_error(n, ONNXC_ERR_LIMIT,
                                 "attribute 'shape' has %zu entries; onnxc supports ranks up to %d",
                                 p->n_shape, OC_MAX_RANK);
    } else {
        OC_TRY(oc_check_attr_names(n, names_v14, n->opset >= 14 ? 1 : 0));
        OC_TRY(oc_attr_flag(n, "allowzero", &p->allowzero));
    }
    *params = p;
    return NULL;
}

/* The requested shape: the attribute, or the 'shape' input's known values. */
static onnxc_status *requested_shape(const oc_node *n, const reshape_params *p, int n_inputs,
                                     const oc_tensor *const *in, int64_t *shape, size_t *count)
{
    const oc_tensor *t = oc_input_or_null(n_inputs, in, 1);
    if (n->opset < 5) {
        if (t) return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input before opset 5");
        if (p->n_shape) memcpy(shape, p->shape, p->n_shape * sizeof *shape);
        *count = p->n_shape;
        return NULL;
    }
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'shape' is missing");
    OC_TRY(oc_int_list_input(n, t, "shape", false));
    if (t->count > OC_MAX_RANK)
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "input 'shape' has %zu entries; onnxc supports ranks up to %d",
                             t->count, OC_MAX_RANK);
    oc_int_list_copy(t, shape);
    *count = t->count;
    return NULL;
}

static onnxc_status *cannot_reshape(const oc_node *n, const oc_tensor *x, const int64_t *shape,
                                    size_t count, const char *why)
{
    char from[OC_SHAPE_STR_MAX], to[OC_SHAPE_STR_MAX];
    /* oc_shape_str shows negative entries as '?'; spell the request out. */
    size_t used = 0;
    to[0] = 0;
    for (size_t i = 0; i < count && used < sizeof to; i++)
        used += (size_t)snprintf(to + used, sizeof to - used, "%s%" PRId64, i ? ", " : "", shape[i]);
    return oc_node_error(n, ONNXC_ERR_MODEL, "cannot reshape %s (%zu elements) into [%s]: %s",
                         oc_shape_str(x->dims, x->rank, from, sizeof from), x->count, to, why);
}

/* The output dims of reshaping x to shape[0..count). */
static onnxc_status *resolve_shape(const oc_node *n, const oc_tensor *x, const int64_t *shape,
                                   size_t count, bool allowzero, int64_t *dims)
{
    int inferred = -1;
    bool has_zero = false;
    int64_t known = 1; /* the product of every dim but the inferred one */
    for (size_t i = 0; i < count; i++) {
        int64_t d = shape[i];
        if (d == -1) {
            if (inferred >= 0) return cannot_reshape(n, x, shape, count, "more than one -1");
            inferred = (int)i;
            continue;
        }
        if (d < -1) return cannot_reshape(n, x, shape, count, "a dim is below -1");
        if (d == 0 && !allowzero) {
            if ((int)i >= x->rank)
                return cannot_reshape(n, x, shape, count, "a 0 (copy the input's dim) past its rank");
            d = x->dims[i];
        }
        has_zero |= shape[i] == 0;
        dims[i] = d;
        if (!oc_mul_i64(known, d, &known))
            return oc_node_error(n, ONNXC_ERR_LIMIT, "the requested element count overflows");
    }
    int64_t total = (int64_t)x->count;
    if (inferred < 0) {
        if (known != total) return cannot_reshape(n, x, shape, count, "the counts differ");
        return NULL;
    }
    if (allowzero && has_zero)
        return cannot_reshape(n, x, shape, count, "with allowzero, 0 and -1 cannot both appear");
    if (known == 0 || total % known != 0)
        return cannot_reshape(n, x, shape, count, "no size for the -1 dim matches the count");
    dims[inferred] = total / known;
    return NULL;
}

onnxc_status *oc_reshape_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const reshape_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    OC_TRY(require_data_input(n, x));
    int64_t shape[OC_MAX_RANK], dims[OC_MAX_RANK];
    size_t count = 0;
    OC_TRY(requested_shape(n, p, ctx->n_inputs, ctx->in, shape, &count));
    OC_TRY(resolve_shape(n, x, shape, count, p->allowzero, dims));
    set_output(ctx->out[0], x->dtype, dims, (int)count);
    return NULL;
}

onnxc_status *oc_reshape_run(oc_run_ctx *ctx) { return copy_bytes(ctx); }

/* ---- Unsqueeze and Squeeze ----
 * Opsets 1-12 take the axes as an attribute, 13 on as an input (required
 * for Unsqueeze, optional for Squeeze); negative axes from opset 11. */

typedef struct axes_params {
    const int64_t *axes; /* opsets 1-12; NULL when absent */
    size_t n_axes;
} axes_params;

static onnxc_status *prepare_axes(const oc_node *n, oc_arena *arena, void **params, bool required)
{
    static const char *const names[] = {"axes"};
    axes_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_check_attr_names(n, names, n->opset < 13 ? 1 : 0));
    if (n->opset < 13) {
        if (required && !oc_attr_find(n, "axes"))
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'axes' is required before opset 13");
        OC_TRY(oc_attr_ints(n, "axes", &p->axes, &p->n_axes));
    }
    *params = p;
    return NULL;
}

/* The axes, unnormalized, into axes[0..*count); *given is false when there
 * are none (Squeeze then removes every 1). More than max axes are counted
 * but not copied: the caller rejects them. */
static onnxc_status *read_axes(const oc_node *n, const axes_params *p, int n_inputs,
                               const oc_tensor *const *in, int64_t *axes, size_t max,
                               size_t *count, bool *given)
{
    const oc_tensor *t = oc_input_or_null(n_inputs, in, 1);
    *count = 0;
    *given = false;
    if (n->opset < 13) {
        if (t) return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input before opset 13");
        if (!p->axes) return NULL;
        *count = p->n_axes;
        if (p->n_axes && p->n_axes <= max) memcpy(axes, p->axes, p->n_axes * sizeof *axes);
        *given = true;
        return NULL;
    }
    if (!t) return NULL;
    OC_TRY(oc_int_list_input(n, t, "axes", false));
    *count = t->count;
    if (t->count <= max) oc_int_list_copy(t, axes);
    *given = true;
    return NULL;
}

onnxc_status *oc_unsqueeze_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return prepare_axes(n, arena, params, true);
}

/* Inserts a 1 at each axis (axes index the output). */
onnxc_status *oc_unsqueeze_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    OC_TRY(require_data_input(n, x));
    int64_t axes[OC_MAX_RANK];
    size_t count;
    bool given;
    size_t room = (size_t)(OC_MAX_RANK - x->rank);
    OC_TRY(read_axes(n, ctx->params, ctx->n_inputs, ctx->in, axes, room, &count, &given));
    if (!given) return oc_node_error(n, ONNXC_ERR_MODEL, "the axes are missing");
    if (count > room)
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "%zu axes make rank %d grow past %d, onnxc's largest rank", count,
                             x->rank, OC_MAX_RANK);
    int rank = x->rank + (int)count;
    OC_TRY(oc_normalize_axes(n, axes, count, rank));
    bool inserted[OC_MAX_RANK] = {false};
    for (size_t i = 0; i < count; i++) inserted[axes[i]] = true;
    int64_t dims[OC_MAX_RANK];
    for (int d = 0, from = 0; d < rank; d++) dims[d] = inserted[d] ? 1 : x->dims[from++];
    set_output(ctx->out[0], x->dtype, dims, rank);
    return NULL;
}

onnxc_status *oc_unsqueeze_run(oc_run_ctx *ctx) { return copy_bytes(ctx); }

onnxc_status *oc_squeeze_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return prepare_axes(n, arena, params, false);
}

/* Removes each listed dim (which must be 1), or without axes every 1. */
onnxc_status *oc_squeeze_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    OC_TRY(require_data_input(n, x));
    int64_t axes[OC_MAX_RANK];
    size_t count;
    bool given;
    OC_TRY(read_axes(n, ctx->params, ctx->n_inputs, ctx->in, axes, (size_t)x->rank, &count, &given));
    if (count > (size_t)x->rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "%zu axes for rank %d", count, x->rank);
    OC_TRY(oc_normalize_axes(n, axes, count, x->rank));
    bool removed[OC_MAX_RANK] = {false};
    for (size_t i = 0; i < count; i++) {
        if (x->dims[axes[i]] != 1)
            return oc_node_error(n, ONNXC_ERR_MODEL, "cannot squeeze dim %" PRId64 " of size %" PRId64,
                                 axes[i], x->dims[axes[i]]);
        removed[axes[i]] = true;
    }
    int64_t dims[OC_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++) {
        bool drop = count > 0 ? removed[d] : x->dims[d] == 1; /* empty axes: as if absent */
        if (!drop) dims[rank++] = x->dims[d];
    }
    set_output(ctx->out[0], x->dtype, dims, rank);
    return NULL;
}

onnxc_status *oc_squeeze_run(oc_run_ctx *ctx) { return copy_bytes(ctx); }

/* ---- Expand (opset 8+) ----
 * The output has the numpy broadcast of the input's shape and the requested
 * one (so a requested 1 keeps the input's dim). */

onnxc_status *oc_expand_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    if (n->opset < 8)
        return oc_node_error(n, ONNXC_ERR_MODEL, "Expand does not exist before opset 8");
    return oc_check_attr_names(n, NULL, 0);
}

onnxc_status *oc_expand_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0], *t = oc_input_or_null(ctx->n_inputs, ctx->in, 1);
    OC_TRY(require_data_input(n, x));
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'shape' is missing");
    OC_TRY(oc_int_list_input(n, t, "shape", false));
    if (t->count > OC_MAX_RANK)
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "input 'shape' has %zu entries; onnxc supports ranks up to %d",
                             t->count, OC_MAX_RANK);
    oc_tensor requested = {0};
    requested.dtype = x->dtype;
    requested.rank = (int)t->count;
    oc_int_list_copy(t, requested.dims);
    for (int d = 0; d < requested.rank; d++)
        if (requested.dims[d] < 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input 'shape' has a negative dim %" PRId64,
                                 requested.dims[d]);
    oc_tensor out;
    OC_TRY(oc_broadcast_shape(n, x, &requested, &out));
    set_output(ctx->out[0], x->dtype, out.dims, out.rank);
    return NULL;
}

onnxc_status *oc_expand_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out || out->count == 0) return NULL; /* no strides: an empty input's may overflow */
    /* Source strides: the input's, right-aligned; 0 where it is broadcast. */
    int64_t strides[OC_MAX_RANK], step = 1;
    int lead = out->rank - x->rank;
    if (lead < 0) return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "output rank below input's");
    for (int d = out->rank - 1; d >= 0; d--) {
        int k = d - lead;
        int64_t in_dim = k >= 0 ? x->dims[k] : 1;
        if (in_dim != 1 && in_dim != out->dims[d])
            return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "input does not broadcast to output");
        strides[d] = in_dim == 1 ? 0 : step;
        step *= in_dim;
    }
    oc_strided_copy(out->data, x->data, onnxc_dtype_size(x->dtype), out->rank, out->dims, strides);
    return NULL;
}
