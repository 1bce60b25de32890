/* Element-wise ops: Relu, Add.
 *
 * The glue here is op-independent: a unary op is its kernel lookup passed to
 * unary_infer/unary_run; a binary op is its lookup passed to binary_prepare/
 * binary_infer/binary_run, which handle both numpy broadcasting (opset >= 7)
 * and the legacy broadcast/axis attributes (opsets 1-6) that Sub, Mul, Div,
 * Pow and the comparison ops share with Add. */
#include <inttypes.h>
#include <stdbool.h>

#include "ops.h"
#include "../kernels/elementwise.h"

_Static_assert(OC_BCAST_MAX_RANK >= OC_MAX_RANK, "broadcast plans must hold any tensor rank");

typedef oc_unary_span_fn (*unary_lookup)(int dtype);
typedef oc_binary_span_fn (*binary_lookup)(int dtype);

static onnxc_status *require_input(const oc_node *n, const oc_tensor *t, const char *what)
{
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input %s is missing", what);
    return NULL;
}

static onnxc_status *unsupported_dtype(const oc_node *n, const oc_tensor *t)
{
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "element type %s is not supported",
                         onnxc_dtype_name(t->dtype));
}

/* ---- unary ---- */

static onnxc_status *unary_infer(oc_infer_ctx *ctx, unary_lookup kernel)
{
    const oc_tensor *x = ctx->in[0];
    OC_TRY(require_input(ctx->node, x, "X"));
    if (!kernel(x->dtype)) return unsupported_dtype(ctx->node, x);
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    return NULL;
}

static onnxc_status *unary_run(oc_run_ctx *ctx, unary_lookup kernel)
{
    const oc_tensor *x = ctx->in[0];
    if (ctx->out[0] && x->count) kernel(x->dtype)(ctx->out[0]->data, x->data, x->count);
    return NULL;
}

/* ---- binary ---- */

/* Opsets 1-6 broadcast only when asked to, aligning B at `axis` of A. */
typedef struct binary_params {
    bool legacy;
    bool broadcast;
    bool has_axis;
    int64_t axis;
} binary_params;

static onnxc_status *binary_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    if (n->opset >= 7) return NULL; /* no attributes left */
    binary_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    int64_t broadcast;
    OC_TRY(oc_attr_int(n, "broadcast", 0, &broadcast));
    if (broadcast != 0 && broadcast != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'broadcast' is %" PRId64
                             ", expected 0 or 1", broadcast);
    OC_TRY(oc_attr_int(n, "axis", 0, &p->axis));
    p->legacy = true;
    p->broadcast = broadcast == 1;
    p->has_axis = oc_attr_find(n, "axis") != NULL;
    *params = p;
    return NULL;
}

static onnxc_status *legacy_mismatch(const oc_node *n, const oc_tensor *a, const oc_tensor *b,
                                     const char *why)
{
    char sa[OC_SHAPE_STR_MAX], sb[OC_SHAPE_STR_MAX];
    return oc_node_error(n, ONNXC_ERR_MODEL, "shapes %s and %s: %s",
                         oc_shape_str(a->dims, a->rank, sa, sizeof sa),
                         oc_shape_str(b->dims, b->rank, sb, sizeof sb), why);
}

/* B's dims laid against A's (rank of A) under the legacy rules: without
 * broadcast the shapes must be equal; with it B must match a contiguous run
 * of A's dims starting at axis (default: A's trailing dims). A 1 in B also
 * broadcasts, a harmless superset that old exporters rely on for [1]. */
static onnxc_status *legacy_b_dims(const oc_node *n, const binary_params *p, const oc_tensor *a,
                                   const oc_tensor *b, int64_t *dims)
{
    if (!p->broadcast) {
        if (!oc_tensor_same_shape(a, b))
            return legacy_mismatch(n, a, b, "must be equal without broadcast=1");
        for (int i = 0; i < a->rank; i++) dims[i] = b->dims[i];
        return NULL;
    }
    if (b->rank > a->rank) return legacy_mismatch(n, a, b, "B has a higher rank than A");
    int64_t axis = p->has_axis ? p->axis : a->rank - b->rank;
    if (axis < 0) axis += a->rank;
    if (axis < 0 || axis + b->rank > a->rank)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "axis %" PRId64 " does not place B (rank %d) inside A (rank %d)",
                             p->axis, b->rank, a->rank);
    for (int i = 0; i < a->rank; i++) dims[i] = 1;
    for (int j = 0; j < b->rank; j++) {
        int64_t bd = b->dims[j], ad = a->dims[axis + j];
        if (bd != ad && bd != 1)
            return legacy_mismatch(n, a, b, "B does not match A's dims at axis");
        dims[axis + j] = bd;
    }
    return NULL;
}

static onnxc_status *binary_infer(oc_infer_ctx *ctx, binary_lookup kernel)
{
    const oc_node *n = ctx->node;
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    const binary_params *p = ctx->params;
    OC_TRY(require_input(n, a, "A"));
    OC_TRY(require_input(n, b, "B"));
    if (a->dtype != b->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "inputs differ in element type: %s and %s",
                             onnxc_dtype_name(a->dtype), onnxc_dtype_name(b->dtype));
    if (!kernel(a->dtype)) return unsupported_dtype(n, a);

    oc_tensor shape = {0};
    if (p && p->legacy) {
        int64_t b_dims[OC_MAX_RANK];
        OC_TRY(legacy_b_dims(n, p, a, b, b_dims));
        oc_tensor_copy_type(&shape, a);
    } else {
        OC_TRY(oc_broadcast_shape(n, a, b, &shape));
    }
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], &shape);
    return NULL;
}

static onnxc_status *binary_run(oc_run_ctx *ctx, binary_lookup kernel)
{
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    oc_tensor *out = ctx->out[0];
    const binary_params *p = ctx->params;
    if (!out) return NULL;
    int64_t legacy_dims[OC_MAX_RANK];
    oc_bcast_operand oa = {a->rank, a->dims, onnxc_dtype_size(a->dtype)};
    oc_bcast_operand ob = {b->rank, b->dims, onnxc_dtype_size(b->dtype)};
    oc_bcast_operand oo = {out->rank, out->dims, onnxc_dtype_size(out->dtype)};
    if (p && p->legacy) {
        OC_TRY(legacy_b_dims(ctx->node, p, a, b, legacy_dims));
        ob.rank = a->rank;
        ob.dims = legacy_dims;
    }
    oc_bcast_plan plan;
    oc_bcast_plan_init(&plan, &oo, &oa, &ob);
    oc_bcast_run(&plan, kernel(a->dtype), out->data, a->data, b->data);
    return NULL;
}

/* ---- Relu ---- */

/* No attributes: opset 1's consumed_inputs was an optimization hint, ignored. */
onnxc_status *oc_relu_prepare(const oc_node *n, oc_arena *arena, void **params) { return NULL; }

onnxc_status *oc_relu_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    bool floating = x && (x->dtype == ONNXC_DTYPE_FLOAT || x->dtype == ONNXC_DTYPE_DOUBLE);
    if (x && !floating && ctx->node->opset < 14 && oc_relu_kernel(x->dtype))
        return oc_node_error(ctx->node, ONNXC_ERR_MODEL,
                             "element type %s needs opset 14 or later",
                             onnxc_dtype_name(x->dtype));
    return unary_infer(ctx, oc_relu_kernel);
}

onnxc_status *oc_relu_run(oc_run_ctx *ctx) { return unary_run(ctx, oc_relu_kernel); }

/* ---- Add ---- */

onnxc_status *oc_add_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return binary_prepare(n, arena, params);
}

onnxc_status *oc_add_infer(oc_infer_ctx *ctx) { return binary_infer(ctx, oc_add_kernel); }
onnxc_status *oc_add_run(oc_run_ctx *ctx) { return binary_run(ctx, oc_add_kernel); }
