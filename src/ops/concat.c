/* Concat: joins tensors along one axis. Any fixed-size element type: the
 * data moves as bytes. */
#include <inttypes.h>
#include <string.h>

#include "ops.h"

typedef struct concat_params {
    int64_t axis; /* as written; normalized against the rank in infer */
} concat_params;

onnxc_status *oc_concat_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    concat_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    /* Before opset 4 axis was optional with default 1. */
    if (n->opset >= 4 && !oc_attr_find(n, "axis"))
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'axis' is required");
    OC_TRY(oc_attr_int(n, "axis", 1, &p->axis));
    *params = p;
    return NULL;
}

/* Checks that t can sit next to first along axis. */
static onnxc_status *check_joinable(const oc_node *n, int i, const oc_tensor *first,
                                    const oc_tensor *t, int axis)
{
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input %d is missing", i);
    if (t->dtype != first->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input %d is %s but input 0 is %s", i,
                             onnxc_dtype_name(t->dtype), onnxc_dtype_name(first->dtype));
    bool dims_match = t->rank == first->rank;
    for (int d = 0; dims_match && d < t->rank; d++)
        dims_match = d == axis || t->dims[d] == first->dims[d];
    if (!dims_match) {
        char s0[OC_SHAPE_STR_MAX], si[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input %d of shape %s does not match input 0 of shape %s "
                             "outside axis %d",
                             i, oc_shape_str(t->dims, t->rank, si, sizeof si),
                             oc_shape_str(first->dims, first->rank, s0, sizeof s0), axis);
    }
    return NULL;
}

onnxc_status *oc_concat_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const concat_params *p = ctx->params;
    const oc_tensor *first = ctx->in[0];
    if (!first) return oc_node_error(n, ONNXC_ERR_MODEL, "input 0 is missing");
    if (onnxc_dtype_size(first->dtype) == 0)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "element type %s is not supported",
                             onnxc_dtype_name(first->dtype));
    int axis;
    OC_TRY(oc_normalize_axis(n, p->axis, first->rank, &axis));

    int64_t joined = 0;
    for (int i = 0; i < ctx->n_inputs; i++) {
        OC_TRY(check_joinable(n, i, first, ctx->in[i], axis));
        if (!oc_add_i64(joined, ctx->in[i]->dims[axis], &joined))
            return oc_node_error(n, ONNXC_ERR_LIMIT, "the joined axis overflows");
    }
    if (ctx->out[0]) {
        oc_tensor_copy_type(ctx->out[0], first);
        ctx->out[0]->dims[axis] = joined;
    }
    return NULL;
}

/* Product of dims[from..to). Fits: bounded by an existing tensor's count. */
static size_t dims_product(const int64_t *dims, int from, int to)
{
    size_t product = 1;
    for (int d = from; d < to; d++) product *= (size_t)dims[d];
    return product;
}

onnxc_status *oc_concat_run(oc_run_ctx *ctx)
{
    const concat_params *p = ctx->params;
    oc_tensor *out = ctx->out[0];
    if (!out || out->count == 0) return NULL;
    int axis;
    OC_TRY(oc_normalize_axis(ctx->node, p->axis, out->rank, &axis));
    size_t esize = onnxc_dtype_size(out->dtype);
    /* Each input contributes one contiguous block per index of the dims before
     * axis; the output is those blocks interleaved. */
    size_t outer = dims_product(out->dims, 0, axis);
    size_t block_unit = dims_product(out->dims, axis + 1, out->rank) * esize;
    size_t out_row = (size_t)out->dims[axis] * block_unit;
    char *dst = out->data;
    size_t offset = 0;
    for (int i = 0; i < ctx->n_inputs; i++) {
        const oc_tensor *t = ctx->in[i];
        size_t block = (size_t)t->dims[axis] * block_unit;
        if (block == 0) continue;
        const char *src = t->data;
        /* The memory plan may have let the producer write in place. */
        if (outer == 1 && src == dst + offset) {
            offset += block;
            continue;
        }
        for (size_t o = 0; o < outer; o++) memcpy(dst + o * out_row + offset, src + o * block, block);
        offset += block;
    }
    return NULL;
}
