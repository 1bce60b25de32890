/* Unary math: Sqrt, Exp, Neg, Abs, Reciprocal, Erf, Floor, Ceil. No
 * attributes beyond opsets 1-5's consumed_inputs (an optimization hint). */
#include "elementwise.h"

static const oc_ew_types float_only = {1, {{0, 0}}};
/* Neg and Abs gained integers at opset 6 (Abs the unsigned ones too). */
static const oc_ew_types integers_from_6 = {1, {{6, OC_EW_INTS}}};
static const oc_ew_types erf_types = {9, {{0, 0}}};

#define MATH_UNARY_OP(name, types, had_consumed_inputs)                                 \
    onnxc_status *oc_##name##_prepare(const oc_node *n, oc_arena *arena, void **params) \
    {                                                                                   \
        return oc_ew_check_node(n, &types, NULL, 0, had_consumed_inputs);               \
    }                                                                                   \
    onnxc_status *oc_##name##_infer(oc_infer_ctx *ctx)                                  \
    {                                                                                   \
        return oc_ew_unary_infer(ctx, &types, oc_##name##_kernel);                      \
    }                                                                                   \
    onnxc_status *oc_##name##_run(oc_run_ctx *ctx) { return oc_ew_unary_run(ctx, oc_##name##_kernel); }

MATH_UNARY_OP(sqrt, float_only, true)
MATH_UNARY_OP(exp, float_only, true)
MATH_UNARY_OP(reciprocal, float_only, true)
MATH_UNARY_OP(floor, float_only, true)
MATH_UNARY_OP(ceil, float_only, true)
MATH_UNARY_OP(neg, integers_from_6, true)
MATH_UNARY_OP(abs, integers_from_6, true)
MATH_UNARY_OP(erf, erf_types, false)
