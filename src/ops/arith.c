/* Arithmetic: Add, Sub, Mul, Div, Pow (binary, broadcasting) and Sum, Mean,
 * Max, Min (variadic, broadcasting from opset 8). Integer arithmetic wraps;
 * integer Div truncates toward zero and gives 0 for a zero divisor. */
#include "elementwise.h"

/* Add, Sub, Mul, Div: float types from opset 1; 32/64-bit integers from 6
 * (with the legacy broadcast attributes); 8/16-bit ones from 14. */
static const oc_ew_types arith_types = {1, {{6, OC_EW_WIDE_INTS}, {14, OC_EW_NARROW_INTS}}};

#define ARITH_OP(name)                                                                  \
    onnxc_status *oc_##name##_prepare(const oc_node *n, oc_arena *arena, void **params) \
    {                                                                                   \
        return oc_ew_binary_prepare(n, arena, params, &arith_types, true);              \
    }                                                                                   \
    onnxc_status *oc_##name##_infer(oc_infer_ctx *ctx)                                  \
    {                                                                                   \
        return oc_ew_binary_infer(ctx, &arith_types, oc_##name##_kernel);               \
    }                                                                                   \
    onnxc_status *oc_##name##_run(oc_run_ctx *ctx) { return oc_ew_binary_run(ctx, oc_##name##_kernel); }

ARITH_OP(add)
ARITH_OP(sub)
ARITH_OP(mul)
ARITH_OP(div)

/* ---- Pow ---- */

/* Before opset 12 base and exponent share a float type; from 12 the base
 * may be int32/int64 and the exponent any numeric type. */
static const oc_ew_types pow_base_types = {
    1, {{12, OC_EW_BIT(ONNXC_DTYPE_INT32) | OC_EW_BIT(ONNXC_DTYPE_INT64)}}};
static const oc_ew_types pow_exponent_types = {1, {{12, OC_EW_INTS}}};

/* The integer types are exactly those the int64 conversion takes. */
static bool is_integer(int dtype) { return oc_to_i64_kernel(dtype) != NULL; }

/* Exponents are converted to one type per base kind: int64 when both are
 * integers (exact integer powers), else double. */
static bool int_exponent(const oc_tensor *x, const oc_tensor *y)
{
    return is_integer(x->dtype) && is_integer(y->dtype);
}

onnxc_status *oc_pow_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return oc_ew_binary_prepare(n, arena, params, &pow_base_types, false);
}

onnxc_status *oc_pow_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0], *y = ctx->in[1];
    OC_TRY(oc_ew_require_input(n, x, "X"));
    OC_TRY(oc_ew_require_input(n, y, "Y"));
    OC_TRY(oc_ew_check_type(n, &pow_base_types, "X", x->dtype,
                            oc_pow_kernel(x->dtype, false) != NULL));
    OC_TRY(oc_ew_check_type(n, &pow_exponent_types, "Y", y->dtype,
                            oc_to_f64_kernel(y->dtype) != NULL));
    if (n->opset < 12 && x->dtype != y->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "X (%s) and Y (%s) must have one element type before opset 12",
                             onnxc_dtype_name(x->dtype), onnxc_dtype_name(y->dtype));
    oc_tensor shape = {0};
    OC_TRY(oc_ew_binary_shape(n, ctx->params, x, y, &shape));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], &shape);
    /* The converted exponents. */
    if (!oc_mul_size(y->count, sizeof(double), &ctx->workspace))
        return oc_node_error(n, ONNXC_ERR_LIMIT, "the exponents' workspace overflows");
    return NULL;
}

onnxc_status *oc_pow_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0], *y = ctx->in[1];
    if (!ctx->out[0]) return NULL;
    bool int_exp = int_exponent(x, y);
    oc_unary_span_fn convert = int_exp ? oc_to_i64_kernel(y->dtype) : oc_to_f64_kernel(y->dtype);
    if (y->count) convert(ctx->workspace, y->data, y->count);
    _Static_assert(sizeof(double) == sizeof(int64_t), "one workspace size for both exponent types");
    return oc_ew_binary_apply(ctx->node, ctx->params, oc_pow_kernel(x->dtype, int_exp), ctx->out[0],
                              x, y, ctx->workspace, sizeof(double));
}

/* ---- Sum, Mean, Max, Min ---- */

static const oc_ew_types float_only = {1, {{0, 0}}};
static const oc_ew_types max_min_types = {1, {{12, OC_EW_INTS}}};

static onnxc_status *variadic_prepare(const oc_node *n, const oc_ew_types *types)
{
    return oc_ew_check_node(n, types, NULL, 0, true);
}

/* Sum and Mean are defined on floating point only. */
static oc_binary_span_fn float_add_kernel(int dtype)
{
    return dtype == ONNXC_DTYPE_FLOAT || dtype == ONNXC_DTYPE_DOUBLE ? oc_add_kernel(dtype) : NULL;
}

onnxc_status *oc_sum_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return variadic_prepare(n, &float_only);
}
onnxc_status *oc_sum_infer(oc_infer_ctx *ctx)
{
    return oc_ew_variadic_infer(ctx, &float_only, float_add_kernel);
}
onnxc_status *oc_sum_run(oc_run_ctx *ctx) { return oc_ew_variadic_run(ctx, float_add_kernel); }

onnxc_status *oc_mean_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return variadic_prepare(n, &float_only);
}
onnxc_status *oc_mean_infer(oc_infer_ctx *ctx)
{
    return oc_ew_variadic_infer(ctx, &float_only, float_add_kernel);
}

/* The sum, then divided in place by the number of inputs (a division, as
 * numpy's mean does, rather than a multiplication by its inverse). */
onnxc_status *oc_mean_run(oc_run_ctx *ctx)
{
    oc_tensor *out = ctx->out[0];
    OC_TRY(oc_ew_variadic_run(ctx, float_add_kernel));
    if (!out || !out->count) return NULL;
    oc_unary_params by = {(double)ctx->n_inputs, 0, 0};
    oc_divide_by_kernel(out->dtype)(out->data, out->data, out->count, &by);
    return NULL;
}

onnxc_status *oc_max_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return variadic_prepare(n, &max_min_types);
}
onnxc_status *oc_max_infer(oc_infer_ctx *ctx)
{
    return oc_ew_variadic_infer(ctx, &max_min_types, oc_max_kernel);
}
onnxc_status *oc_max_run(oc_run_ctx *ctx) { return oc_ew_variadic_run(ctx, oc_max_kernel); }

onnxc_status *oc_min_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    return variadic_prepare(n, &max_min_types);
}
onnxc_status *oc_min_infer(oc_infer_ctx *ctx)
{
    return oc_ew_variadic_infer(ctx, &max_min_types, oc_min_kernel);
}
onnxc_status *oc_min_run(oc_run_ctx *ctx) { return oc_ew_variadic_run(ctx, oc_min_kernel); }
