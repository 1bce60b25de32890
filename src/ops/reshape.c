/* Shape-only ops: the data is copied unchanged (as bytes, so any fixed-size
 * element type) under a new shape. Flatten. */
#include <inttypes.h>
#include <string.h>

#include "ops.h"

typedef struct flatten_params {
    int64_t axis; /* as written; checked against the rank in infer */
} flatten_params;

onnxc_status *oc_flatten_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    flatten_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_int(n, "axis", 1, &p->axis));
    if (p->axis < 0 && n->opset < 11)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "negative axis %" PRId64 " needs opset 11 or later", p->axis);
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

/* stubs: to be written */
onnxc_status *oc_reshape_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "reshape is not implemented yet");
}
onnxc_status *oc_reshape_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_reshape_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_unsqueeze_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "unsqueeze is not implemented yet");
}
onnxc_status *oc_unsqueeze_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_unsqueeze_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_squeeze_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "squeeze is not implemented yet");
}
onnxc_status *oc_squeeze_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_squeeze_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_expand_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "expand is not implemented yet");
}
onnxc_status *oc_expand_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_expand_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
