/* Activations: Relu, Sigmoid, Tanh, Softplus, HardSwish (no attributes),
 * LeakyRelu, Elu, Selu, HardSigmoid (float attributes), PRelu (a slope
 * tensor) and Clip (bounds as attributes before opset 11, inputs after). */
#include <float.h>

#include "elementwise.h"

static const oc_ew_types float_only = {1, {{0, 0}}};
static const oc_ew_types relu_types = {
    1, {{14, OC_EW_BIT(ONNXC_DTYPE_INT8) | OC_EW_BIT(ONNXC_DTYPE_INT16) |
                 OC_EW_BIT(ONNXC_DTYPE_INT32) | OC_EW_BIT(ONNXC_DTYPE_INT64)}}};
static const oc_ew_types hardswish_types = {14, {{0, 0}}};

/* ---- without attributes ---- */

#define PLAIN_ACTIVATION(name, types, had_consumed_inputs)                              \
    onnxc_status *oc_##name##_prepare(const oc_node *n, oc_arena *arena, void **params) \
    {                                                                                   \
        return oc_ew_check_node(n, &types, NULL, 0, had_consumed_inputs);               \
    }                                                                                   \
    onnxc_status *oc_##name##_infer(oc_infer_ctx *ctx)                                  \
    {                                                                                   \
        return oc_ew_unary_infer(ctx, &types, oc_##name##_kernel);                      \
    }                                                                                   \
    onnxc_status *oc_##name##_run(oc_run_ctx *ctx) { return oc_ew_unary_run(ctx, oc_##name##_kernel); }

PLAIN_ACTIVATION(relu, relu_types, true)
PLAIN_ACTIVATION(sigmoid, float_only, true)
PLAIN_ACTIVATION(tanh, float_only, true)
PLAIN_ACTIVATION(softplus, float_only, false)
PLAIN_ACTIVATION(hardswish, hardswish_types, false)

/* ---- with float attributes: alpha, beta, gamma ---- */

/* Checks that the node's attributes are among names and reads alpha, beta
 * and gamma with the op's defaults (those the op lacks keep their unused
 * default: names has already refused them). */
static onnxc_status *param_prepare(const oc_node *n, oc_arena *arena, void **params,
                                   const char *const *names, size_t count, float alpha,
                                   float beta, float gamma)
{
    OC_TRY(oc_ew_check_node(n, &float_only, names, count, true));
    oc_unary_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    float a, b, g;
    OC_TRY(oc_attr_float(n, "alpha", alpha, &a));
    OC_TRY(oc_attr_float(n, "beta", beta, &b));
    OC_TRY(oc_attr_float(n, "gamma", gamma, &g));
    p->alpha = a;
    p->beta = b;
    p->gamma = g;
    *params = p;
    return NULL;
}

#define PARAM_ACTIVATION(name)                                          \
    onnxc_status *oc_##name##_infer(oc_infer_ctx *ctx)                  \
    {                                                                   \
        return oc_ew_param_infer(ctx, &float_only, oc_##name##_kernel); \
    }                                                                   \
    onnxc_status *oc_##name##_run(oc_run_ctx *ctx) { return oc_ew_param_run(ctx, oc_##name##_kernel); }

PARAM_ACTIVATION(leakyrelu)
PARAM_ACTIVATION(elu)
PARAM_ACTIVATION(selu)
PARAM_ACTIVATION(hardsigmoid)

onnxc_status *oc_leakyrelu_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"alpha"};
    return param_prepare(n, arena, params, names, 1, 0.01f, 0, 0);
}

onnxc_status *oc_elu_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"alpha"};
    return param_prepare(n, arena, params, names, 1, 1.0f, 0, 0);
}

/* The defaults are the float32 values of the spec's constants. */
onnxc_status *oc_selu_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"alpha", "gamma"};
    return param_prepare(n, arena, params, names, 2, 1.67326319217681884765625f, 0,
                         1.05070102214813232421875f);
}

onnxc_status *oc_hardsigmoid_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"alpha", "beta"};
    return param_prepare(n, arena, params, names, 2, 0.2f, 0.5f, 0);
}

/* ---- PRelu ---- */

/* Integer types came with opset 9. */
static const oc_ew_types prelu_types = {1, {{9, OC_EW_WIDE_INTS}}};

/* Opsets 1-6 had no broadcasting rule but "a slope of size 1 is shared
 * across channels": one value for all, or (as Caffe2 and the ONNX version
 * converter read it) one per channel, lined up with X's dim 1. */
onnxc_status *oc_prelu_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    OC_TRY(oc_ew_check_node(n, &prelu_types, NULL, 0, true));
    if (n->opset >= 7) return NULL;
    oc_ew_binary_params *per_channel = oc_arena_alloc(arena, sizeof *per_channel);
    if (!per_channel) return oc_no_memory();
    *per_channel = (oc_ew_binary_params){.legacy = true, .broadcast = true, .has_axis = true, .axis = 1};
    *params = per_channel;
    return NULL;
}

/* How the slope lines up against X: from opset 7 numpy-style (params NULL);
 * before, a one-element slope as a scalar, otherwise per channel. */
static const oc_ew_binary_params *slope_placement(const void *params, const oc_tensor *slope,
                                                  oc_tensor *view)
{
    *view = *slope;
    if (params && slope->count == 1) {
        view->rank = 0;
        return NULL;
    }
    return params;
}

onnxc_status *oc_prelu_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0], *slope = ctx->in[1];
    OC_TRY(oc_ew_require_input(n, x, "X"));
    OC_TRY(oc_ew_require_input(n, slope, "slope"));
    if (x->dtype != slope->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "X is %s but slope is %s",
                             onnxc_dtype_name(x->dtype), onnxc_dtype_name(slope->dtype));
    OC_TRY(oc_ew_check_type(n, &prelu_types, "X", x->dtype, oc_prelu_kernel(x->dtype) != NULL));
    oc_tensor view, shape = {0};
    OC_TRY(oc_ew_binary_shape(n, slope_placement(ctx->params, slope, &view), x, &view, &shape));
    /* Unidirectional: the slope broadcasts to X, never X to the slope. */
    bool grows = shape.rank != x->rank;
    for (int i = 0; i < x->rank && !grows; i++) grows = shape.dims[i] != x->dims[i];
    if (grows) {
        char sx[OC_SHAPE_STR_MAX], ss[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL, "slope %s does not broadcast to X %s",
                             oc_shape_str(slope->dims, slope->rank, ss, sizeof ss),
                             oc_shape_str(x->dims, x->rank, sx, sizeof sx));
    }
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    return NULL;
}

onnxc_status *oc_prelu_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0], *slope = ctx->in[1];
    if (!ctx->out[0]) return NULL;
    oc_tensor view;
    const oc_ew_binary_params *placement = slope_placement(ctx->params, slope, &view);
    return oc_ew_binary_apply(ctx->node, placement, oc_prelu_kernel(x->dtype), ctx->out[0], x,
                              &view, slope->data, onnxc_dtype_size(slope->dtype));
}

/* ---- Clip ---- */

/* Integer types came with opset 12. */
static const oc_ew_types clip_types = {1, {{12, OC_EW_INTS}}};

/* The attribute bounds of opsets 1-10, in both float types Clip then had
 * (float16 aside). Opsets 1-5 have no bound for an absent attribute; 6-10
 * default to -FLT_MAX and FLT_MAX. */
typedef struct clip_params {
    bool has_lo, has_hi;
    float lo_f32, hi_f32;
    double lo_f64, hi_f64;
} clip_params;

static onnxc_status *clip_bound(const oc_node *n, const char *name, float def, bool *has,
                                float *f32, double *f64)
{
    *has = oc_attr_find(n, name) != NULL || n->opset >= 6;
    OC_TRY(oc_attr_float(n, name, def, f32));
    *f64 = *f32;
    return NULL;
}

onnxc_status *oc_clip_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"min", "max"};
    if (n->opset >= 11) return oc_ew_check_node(n, &clip_types, NULL, 0, false);
    OC_TRY(oc_ew_check_node(n, &clip_types, names, 2, true));
    clip_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(clip_bound(n, "min", -FLT_MAX, &p->has_lo, &p->lo_f32, &p->lo_f64));
    OC_TRY(clip_bound(n, "max", FLT_MAX, &p->has_hi, &p->hi_f32, &p->hi_f64));
    *params = p;
    return NULL;
}

/* A bound input (opset 11 on): x's type, one element. */
static onnxc_status *check_bound_input(const oc_node *n, const oc_tensor *x, const oc_tensor *bound,
                                       const char *name)
{
    if (!bound) return NULL;
    if (n->opset < 11)
        return oc_node_error(n, ONNXC_ERR_MODEL, "%s is an attribute, not an input, before opset 11",
                             name);
    if (bound->dtype != x->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "%s is %s but input is %s", name,
                             onnxc_dtype_name(bound->dtype), onnxc_dtype_name(x->dtype));
    if (bound->count != 1) {
        char s[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL, "%s must be a scalar, not of shape %s", name,
                             oc_shape_str(bound->dims, bound->rank, s, sizeof s));
    }
    return NULL;
}

onnxc_status *oc_clip_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    OC_TRY(oc_ew_require_input(n, x, "input"));
    OC_TRY(oc_ew_check_type(n, &clip_types, "input", x->dtype, oc_clip_kernel(x->dtype) != NULL));
    OC_TRY(check_bound_input(n, x, ctx->n_inputs > 1 ? ctx->in[1] : NULL, "min"));
    OC_TRY(check_bound_input(n, x, ctx->n_inputs > 2 ? ctx->in[2] : NULL, "max"));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    return NULL;
}

/* The bound in x's type, or NULL for none. */
static const void *attr_bound(const oc_tensor *x, bool has, const float *f32, const double *f64)
{
    if (!has) return NULL;
    return x->dtype == ONNXC_DTYPE_FLOAT ? (const void *)f32 : (const void *)f64;
}

onnxc_status *oc_clip_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out || !x->count) return NULL;
    const void *lo = NULL, *hi = NULL;
    const clip_params *p = ctx->params;
    if (p) {
        lo = attr_bound(x, p->has_lo, &p->lo_f32, &p->lo_f64);
        hi = attr_bound(x, p->has_hi, &p->hi_f32, &p->hi_f64);
    } else {
        if (ctx->n_inputs > 1 && ctx->in[1]) lo = ctx->in[1]->data;
        if (ctx->n_inputs > 2 && ctx->in[2]) hi = ctx->in[2]->data;
    }
    oc_clip_kernel(x->dtype)(out->data, x->data, x->count, lo, hi);
    return NULL;
}
