/* Softmax and LogSoftmax (ai.onnx opsets 1-26), float32.
 *
 * Opsets 1-12 coerce the input to 2-D at 'axis' (default 1), [product of
 * the dims before it, product of the rest], and normalize each row over all
 * the trailing dims together. From opset 13 the normalization runs along the
 * single dim 'axis' (default -1). Both are the kernel's [outer, n, inner]
 * view (kernels/softmax.h). */
#include "kernels/softmax.h"
#include "ops.h"

typedef struct softmax_params {
    int64_t axis; /* as written; normalized against the rank at infer */
} softmax_params;

static onnxc_status *softmax_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"axis"};
    OC_TRY(oc_check_attr_names(n, names, 1));
    softmax_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_int(n, "axis", n->opset >= 13 ? -1 : 1, &p->axis));
    *params = p;
    return NULL;
}

onnxc_status *oc_softmax_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return softmax_prepare(n, arena, params);
}

onnxc_status *oc_logsoftmax_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return softmax_prepare(n, arena, params);
}

/* The kernel's view of x for this node. */
typedef struct softmax_view {
    int64_t outer, n, inner;
} softmax_view;

static onnxc_status *softmax_view_of(const oc_node *node, const softmax_params *p,
                                     const oc_tensor *x, softmax_view *v)
{
    v->outer = v->n = v->inner = 1;
    if (!x) return oc_node_error(node, ONNXC_ERR_MODEL, "input 'input' is required");
    OC_TRY(oc_check_dtype(node, "input", x, ONNXC_DTYPE_FLOAT, 0));
    int axis;
    OC_TRY(oc_normalize_axis(node, p->axis, x->rank, &axis));
    bool single_axis = node->opset >= 13;
    if (x->count == 0) {
        v->outer = 0; /* nothing to normalize; the dims' products may overflow */
        return NULL;
    }
    for (int i = 0; i < x->rank; i++) {
        if (i < axis)
            v->outer *= x->dims[i];
        else if (i == axis || !single_axis)
            v->n *= x->dims[i];
        else
            v->inner *= x->dims[i];
    }
    return NULL;
}

static onnxc_status *softmax_infer(oc_infer_ctx *ctx)
{
    softmax_view v;
    OC_TRY(softmax_view_of(ctx->node, ctx->params, ctx->in[0], &v));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], ctx->in[0]);
    return NULL;
}

static onnxc_status *softmax_run(oc_run_ctx *ctx, bool log_softmax)
{
    softmax_view v;
    OC_TRY(softmax_view_of(ctx->node, ctx->params, ctx->in[0], &v));
    if (ctx->out[0])
        oc_softmax_f32(v.outer, v.n, v.inner, log_softmax, ctx->in[0]->data, ctx->out[0]->data);
    return NULL;
}

onnxc_status *oc_softmax_infer(oc_infer_ctx *ctx) { return softmax_infer(ctx); }
onnxc_status *oc_logsoftmax_infer(oc_infer_ctx *ctx) { return softmax_infer(ctx); }
onnxc_status *oc_softmax_run(oc_run_ctx *ctx) { return softmax_run(ctx, false); }
onnxc_status *oc_logsoftmax_run(oc_run_ctx *ctx) { return softmax_run(ctx, true); }
