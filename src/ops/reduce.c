/* ReduceMean (ai.onnx opsets 1-26): float32, float64, int32, int64.
 *
 * Opsets 1-17 take the reduced axes from the 'axes' attribute; from opset 18
 * they come from the optional second input, and 'noop_with_empty_axes' = 1
 * makes empty axes an identity instead of a reduction over every dim.
 * 'keepdims' (default 1) keeps the reduced dims with extent 1.
 *
 * The output's shape depends on the axes, so an axes input must be known at
 * shape inference: a constant (initializer, Constant, or folded subgraph),
 * or empty by its shape. */
#include <inttypes.h>
#include <string.h>

#include "kernels/reduce.h"
#include "ops.h"

typedef struct reduce_params {
    const int64_t *axes; /* the attribute (opsets 1-17); NULL when absent */
    size_t n_axes;
    bool keepdims;
    bool noop_with_empty_axes;
} reduce_params;

onnxc_status *oc_reducemean_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const old_names[] = {"axes", "keepdims"};
    static const char *const new_names[] = {"keepdims", "noop_with_empty_axes"};
    OC_TRY(n->opset >= 18 ? oc_check_attr_names(n, new_names, 2)
                          : oc_check_attr_names(n, old_names, 2));
    reduce_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_ints(n, "axes", &p->axes, &p->n_axes));
    int64_t keepdims;
    OC_TRY(oc_attr_int(n, "keepdims", 1, &keepdims));
    if (keepdims != 0 && keepdims != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'keepdims' is %" PRId64 "; expected 0 or 1", keepdims);
    p->keepdims = keepdims == 1;
    OC_TRY(oc_attr_flag(n, "noop_with_empty_axes", &p->noop_with_empty_axes));
    *params = p;
    return NULL;
}

/* What the node does to its input: nothing (noop), or a reduction. */
typedef struct reduce_plan {
    bool noop;
    oc_reduce_geom geom;
} reduce_plan;

/* The axes, from the attribute or the input; *known false when the input's
 * values are not known yet. */
static onnxc_status *axes_of(const oc_node *n, const reduce_params *p, const oc_tensor *axes_in,
                             const int64_t **axes, size_t *count, bool *known)
{
    *known = true;
    *axes = p->axes;
    *count = p->n_axes;
    if (!axes_in) return NULL;
    if (n->opset < 18)
        return oc_node_error(n, ONNXC_ERR_MODEL, "the 'axes' input exists only from opset 18");
    if (axes_in->dtype != ONNXC_DTYPE_INT64 || axes_in->rank != 1) {
        char s[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input 'axes' is %s %s; it must be a 1-D int64 tensor",
                             onnxc_dtype_name(axes_in->dtype),
                             oc_shape_str(axes_in->dims, axes_in->rank, s, sizeof s));
    }
    *count = axes_in->count;
    *axes = axes_in->data;
    *known = axes_in->count == 0 || axes_in->data != NULL;
    return NULL;
}

static onnxc_status *reduce_plan_of(const oc_node *n, const reduce_params *p,
                                    const oc_tensor *x, const oc_tensor *axes_in,
                                    reduce_plan *plan)
{
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is required");
    if (!oc_reduce_mean_supports(x->dtype))
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "input 'data' of element type %s is not supported",
                             onnxc_dtype_name(x->dtype));
    const int64_t *axes;
    size_t count;
    bool known;
    OC_TRY(axes_of(n, p, axes_in, &axes, &count, &known));
    if (!known)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "the output shape depends on the values of input 'axes', which are "
                             "not known before the run; only constant axes are supported");
    memset(plan, 0, sizeof *plan);
    plan->noop = count == 0 && p->noop_with_empty_axes;
    plan->geom.rank = x->rank;
    memcpy(plan->geom.dims, x->dims, sizeof plan->geom.dims);
    for (int i = 0; i < x->rank; i++) plan->geom.reduced[i] = count == 0;
    for (size_t k = 0; k < count; k++) {
        int axis;
        OC_TRY(oc_normalize_axis(n, axes[k], x->rank, &axis));
        if (plan->geom.reduced[axis])
            return oc_node_error(n, ONNXC_ERR_MODEL, "axis %" PRId64 " is listed twice", axes[k]);
        plan->geom.reduced[axis] = true;
    }
    return NULL;
}

static const oc_tensor *axes_input(const oc_tensor *const *in, int n_inputs)
{
    return n_inputs > 1 ? in[1] : NULL;
}

onnxc_status *oc_reducemean_infer(oc_infer_ctx *ctx)
{
    const reduce_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    reduce_plan plan;
    OC_TRY(reduce_plan_of(ctx->node, p, x, axes_input(ctx->in, ctx->n_inputs), &plan));
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL;
    y->dtype = x->dtype;
    y->rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (plan.noop || !plan.geom.reduced[i])
            y->dims[y->rank++] = x->dims[i];
        else if (p->keepdims)
            y->dims[y->rank++] = 1;
    }
    if (!plan.noop) {
        ctx->workspace = oc_reduce_mean_workspace(&plan.geom);
        if (ctx->workspace == SIZE_MAX)
            return oc_node_error(ctx->node, ONNXC_ERR_LIMIT, "the scratch size overflows");
    }
    return NULL;
}

onnxc_status *oc_reducemean_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    reduce_plan plan;
    OC_TRY(reduce_plan_of(ctx->node, ctx->params, x, axes_input(ctx->in, ctx->n_inputs), &plan));
    oc_tensor *y = ctx->out[0];
    if (!y || y->count == 0) return NULL;
    if (plan.noop) {
        if (x->nbytes) memcpy(y->data, x->data, x->nbytes);
        return NULL;
    }
    oc_reduce_mean(x->dtype, &plan.geom, x->data, y->data, ctx->workspace);
    return NULL;
}
