/* The element-wise glue (see elementwise.h): op-independent prepare, infer
 * and run for unary, binary and variadic ops. The ops themselves live in
 * arith.c, math_unary.c and activation.c. */
#include <inttypes.h>
#include <string.h>

#include "elementwise.h"

_Static_assert(OC_BCAST_MAX_RANK >= OC_MAX_RANK, "broadcast plans must hold any tensor rank");

/* ---- checks ---- */

/* Equal rank and dims, whatever the element types. */
static bool same_dims(const oc_tensor *a, const oc_tensor *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

#define MAX_ATTR_NAMES 8

onnxc_status *oc_ew_check_node(const oc_node *n, const oc_ew_types *types,
                               const char *const *names, size_t count, bool had_consumed_inputs)
{
    if (n->opset < types->since)
        return oc_node_error(n, ONNXC_ERR_MODEL, "%s does not exist before opset %d", n->op_type,
                             types->since);
    const char *all[MAX_ATTR_NAMES] = {0};
    if (count >= MAX_ATTR_NAMES)
        return oc_node_error(n, ONNXC_ERR_INTERNAL, "too many attribute names");
    for (size_t i = 0; i < count; i++) all[i] = names[i];
    /* An optimization hint of opsets 1-5, without effect on the result. */
    if (had_consumed_inputs && n->opset < 6) all[count++] = "consumed_inputs";
    return oc_check_attr_names(n, all, count);
}

onnxc_status *oc_ew_require_input(const oc_node *n, const oc_tensor *t, const char *what)
{
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input %s is missing", what);
    return NULL;
}

onnxc_status *oc_ew_check_type(const oc_node *n, const oc_ew_types *types, const char *what,
                               int dtype, bool implemented)
{
    if (!implemented)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "%s of element type %s is not supported",
                             what, onnxc_dtype_name(dtype));
    for (size_t k = 0; k < sizeof types->later / sizeof types->later[0]; k++) {
        bool added_later = dtype >= 0 && dtype < 32 && (types->later[k].types & OC_EW_BIT(dtype));
        if (added_later && n->opset < types->later[k].opset)
            return oc_node_error(n, ONNXC_ERR_MODEL, "%s of element type %s needs opset %d or later",
                                 what, onnxc_dtype_name(dtype), types->later[k].opset);
    }
    return NULL;
}

/* ---- unary ---- */

static onnxc_status *unary_like_infer(oc_infer_ctx *ctx, const oc_ew_types *types, bool implemented)
{
    const oc_tensor *x = ctx->in[0];
    OC_TRY(oc_ew_require_input(ctx->node, x, "X"));
    OC_TRY(oc_ew_check_type(ctx->node, types, "X", x->dtype, implemented));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    return NULL;
}

onnxc_status *oc_ew_unary_infer(oc_infer_ctx *ctx, const oc_ew_types *types, oc_unary_lookup kernel)
{
    return unary_like_infer(ctx, types, ctx->in[0] && kernel(ctx->in[0]->dtype));
}

onnxc_status *oc_ew_unary_run(oc_run_ctx *ctx, oc_unary_lookup kernel)
{
    const oc_tensor *x = ctx->in[0];
    if (ctx->out[0] && x->count) kernel(x->dtype)(ctx->out[0]->data, x->data, x->count);
    return NULL;
}

onnxc_status *oc_ew_param_infer(oc_infer_ctx *ctx, const oc_ew_types *types, oc_param_lookup kernel)
{
    return unary_like_infer(ctx, types, ctx->in[0] && kernel(ctx->in[0]->dtype));
}

onnxc_status *oc_ew_param_run(oc_run_ctx *ctx, oc_param_lookup kernel)
{
    const oc_tensor *x = ctx->in[0];
    if (ctx->out[0] && x->count)
        kernel(x->dtype)(ctx->out[0]->data, x->data, x->count, ctx->params);
    return NULL;
}

/* ---- binary ---- */

onnxc_status *oc_ew_binary_prepare(const oc_node *n, oc_arena *arena, void **params,
                                   const oc_ew_types *types, bool had_consumed_inputs)
{
    static const char *const legacy_names[] = {"broadcast", "axis"};
    if (n->opset >= 7) return oc_ew_check_node(n, types, NULL, 0, false);
    OC_TRY(oc_ew_check_node(n, types, legacy_names, 2, had_consumed_inputs));
    oc_ew_binary_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_flag(n, "broadcast", &p->broadcast));
    OC_TRY(oc_attr_int(n, "axis", 0, &p->axis));
    p->legacy = true;
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
static onnxc_status *legacy_b_dims(const oc_node *n, const oc_ew_binary_params *p,
                                   const oc_tensor *a, const oc_tensor *b, int64_t *dims)
{
    if (!p->broadcast) {
        if (!same_dims(a, b))
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

onnxc_status *oc_ew_binary_shape(const oc_node *n, const oc_ew_binary_params *params,
                                 const oc_tensor *a, const oc_tensor *b, oc_tensor *out)
{
    if (params && params->legacy) {
        int64_t b_dims[OC_MAX_RANK];
        OC_TRY(legacy_b_dims(n, params, a, b, b_dims));
        oc_tensor_copy_type(out, a);
        return NULL;
    }
    return oc_broadcast_shape(n, a, b, out);
}

onnxc_status *oc_ew_binary_infer(oc_infer_ctx *ctx, const oc_ew_types *types,
                                 oc_binary_lookup kernel)
{
    const oc_node *n = ctx->node;
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    OC_TRY(oc_ew_require_input(n, a, "A"));
    OC_TRY(oc_ew_require_input(n, b, "B"));
    if (a->dtype != b->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "inputs differ in element type: %s and %s",
                             onnxc_dtype_name(a->dtype), onnxc_dtype_name(b->dtype));
    OC_TRY(oc_ew_check_type(n, types, "A", a->dtype, kernel(a->dtype) != NULL));
    oc_tensor shape = {0};
    OC_TRY(oc_ew_binary_shape(n, ctx->params, a, b, &shape));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], &shape);
    return NULL;
}

onnxc_status *oc_ew_binary_apply(const oc_node *n, const oc_ew_binary_params *params,
                                 oc_binary_span_fn fn, oc_tensor *out, const oc_tensor *a,
                                 const oc_tensor *b, const void *b_data, size_t b_elem_size)
{
    int64_t legacy_dims[OC_MAX_RANK];
    oc_bcast_operand oa = {a->rank, a->dims, onnxc_dtype_size(a->dtype)};
    oc_bcast_operand ob = {b->rank, b->dims, b_elem_size};
    oc_bcast_operand oo = {out->rank, out->dims, onnxc_dtype_size(out->dtype)};
    if (params && params->legacy) {
        OC_TRY(legacy_b_dims(n, params, a, b, legacy_dims));
        ob.rank = a->rank;
        ob.dims = legacy_dims;
    }
    if (out->count == 0) return NULL; /* nothing to compute; the inputs' data may be NULL */
    oc_bcast_plan plan;
    oc_bcast_plan_init(&plan, &oo, &oa, &ob);
    oc_bcast_run(&plan, fn, out->data, a->data, b_data);
    return NULL;
}

onnxc_status *oc_ew_binary_run(oc_run_ctx *ctx, oc_binary_lookup kernel)
{
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    if (!ctx->out[0]) return NULL;
    return oc_ew_binary_apply(ctx->node, ctx->params, kernel(a->dtype), ctx->out[0], a, b, b->data,
                              onnxc_dtype_size(b->dtype));
}

/* ---- variadic ---- */

static onnxc_status *variadic_unequal(const oc_node *n, const oc_tensor *a, const oc_tensor *b)
{
    char sa[OC_SHAPE_STR_MAX], sb[OC_SHAPE_STR_MAX];
    return oc_node_error(n, ONNXC_ERR_MODEL,
                         "shapes %s and %s differ (inputs broadcast from opset 8 on)",
                         oc_shape_str(a->dims, a->rank, sa, sizeof sa),
                         oc_shape_str(b->dims, b->rank, sb, sizeof sb));
}

onnxc_status *oc_ew_variadic_infer(oc_infer_ctx *ctx, const oc_ew_types *types,
                                   oc_binary_lookup kernel)
{
    const oc_node *n = ctx->node;
    if (ctx->n_inputs < 1) return oc_node_error(n, ONNXC_ERR_MODEL, "needs at least one input");
    OC_TRY(oc_ew_require_input(n, ctx->in[0], "data_0"));
    int dtype = ctx->in[0]->dtype;
    OC_TRY(oc_ew_check_type(n, types, "data_0", dtype, kernel(dtype) != NULL));
    oc_tensor shape = {0};
    oc_tensor_copy_type(&shape, ctx->in[0]);
    for (int i = 1; i < ctx->n_inputs; i++) {
        const oc_tensor *x = ctx->in[i];
        if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input %d is missing", i);
        if ((int)x->dtype != dtype)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input %d is %s, input 0 is %s", i,
                                 onnxc_dtype_name(x->dtype), onnxc_dtype_name(dtype));
        if (n->opset < 8) {
            if (!same_dims(x, &shape)) return variadic_unequal(n, &shape, x);
            continue;
        }
        oc_tensor so_far = shape; /* oc_broadcast_shape's out must not alias an input */
        OC_TRY(oc_broadcast_shape(n, &so_far, x, &shape));
    }
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], &shape);
    return NULL;
}

onnxc_status *oc_ew_variadic_run(oc_run_ctx *ctx, oc_binary_lookup kernel)
{
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    const oc_tensor *first = ctx->in[0];
    if (ctx->n_inputs == 1) {
        if (out->nbytes) memcpy(out->data, first->data, out->nbytes);
        return NULL;
    }
    oc_binary_span_fn fn = kernel(first->dtype);
    size_t esize = onnxc_dtype_size(first->dtype);
    oc_bcast_operand oo = {out->rank, out->dims, esize};
    /* The first step reads in0 and in1; later ones accumulate in place. */
    for (int i = 1; i < ctx->n_inputs; i++) {
        const oc_tensor *a = i == 1 ? first : out, *b = ctx->in[i];
        oc_bcast_operand oa = {a->rank, a->dims, esize}, ob = {b->rank, b->dims, esize};
        oc_bcast_plan plan;
        oc_bcast_plan_init(&plan, &oo, &oa, &ob);
        oc_bcast_run(&plan, fn, out->data, a->data, b->data);
    }
    return NULL;
}
