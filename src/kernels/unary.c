/* Unary kernels: math functions and activations. <tgmath.h> picks the
 * function of the element type (expf for float, exp for double), so each
 * expression serves both. */
#include <tgmath.h>

#include "elementwise.h"

/* "x < 0" rather than "x > 0": NaN stays NaN, as in max(x, 0) of numpy and torch. */
#define RELU(T, W, x) ((x) < 0 ? (T)0 : (x))
OC_DEFINE_UNARY_KERNELS(relu, OC_SIGNED_TYPES, RELU)

/* -x rather than 0 - x for floating point, so that Neg(0) is -0. */
#define FLOAT_NEG(T, W, x) (-(x))
#define INT_NEG(T, W, x) ((T)(0 - (W)(x)))
OC_DEFINE_UNARY_SPANS(neg, OC_FLOAT_TYPES, FLOAT_NEG)
OC_DEFINE_UNARY_SPANS(neg, OC_SIGNED_INT_TYPES, INT_NEG)
OC_DEFINE_LOOKUP(oc_unary_span_fn, neg, OC_SIGNED_TYPES)

#define FLOAT_ABS(T, W, x) (fabs(x))
#define SIGNED_ABS(T, W, x) ((x) < 0 ? (T)(0 - (W)(x)) : (x))
#define UNSIGNED_ABS(T, W, x) (x)
OC_DEFINE_UNARY_SPANS(abs, OC_FLOAT_TYPES, FLOAT_ABS)
OC_DEFINE_UNARY_SPANS(abs, OC_SIGNED_INT_TYPES, SIGNED_ABS)
OC_DEFINE_UNARY_SPANS(abs, OC_UNSIGNED_INT_TYPES, UNSIGNED_ABS)
OC_DEFINE_LOOKUP(oc_unary_span_fn, abs, OC_NUMERIC_TYPES)

/* An integer argument goes through the double erf, and the result truncates. */
#define ERF(T, W, x) ((T)erf(x))
OC_DEFINE_UNARY_KERNELS(erf, OC_NUMERIC_TYPES, ERF)

#define SQRT(T, W, x) (sqrt(x))
#define EXP(T, W, x) (exp(x))
#define RECIPROCAL(T, W, x) ((T)1 / (x))
#define FLOOR(T, W, x) (floor(x))
#define CEIL(T, W, x) (ceil(x))
#define TANH(T, W, x) (tanh(x))
OC_DEFINE_UNARY_KERNELS(sqrt, OC_FLOAT_TYPES, SQRT)
OC_DEFINE_UNARY_KERNELS(exp, OC_FLOAT_TYPES, EXP)
OC_DEFINE_UNARY_KERNELS(reciprocal, OC_FLOAT_TYPES, RECIPROCAL)
OC_DEFINE_UNARY_KERNELS(floor, OC_FLOAT_TYPES, FLOOR)
OC_DEFINE_UNARY_KERNELS(ceil, OC_FLOAT_TYPES, CEIL)
OC_DEFINE_UNARY_KERNELS(tanh, OC_FLOAT_TYPES, TANH)

/* exp of a non-positive number only, so neither form overflows to inf/inf. */
#define SIGMOID(T, W, x) \
    ((x) >= 0 ? (T)1 / ((T)1 + exp(-(x))) : exp(x) / ((T)1 + exp(x)))
OC_DEFINE_UNARY_KERNELS(sigmoid, OC_FLOAT_TYPES, SIGMOID)

/* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, no
 * precision lost to 1 + tiny for very negative x. */
#define SOFTPLUS(T, W, x) ((x) > 0 ? (x) + log1p(exp(-(x))) : log1p(exp(x)))
OC_DEFINE_UNARY_KERNELS(softplus, OC_FLOAT_TYPES, SOFTPLUS)

/* max(0, min(1, v)) keeping NaN (comparisons with NaN are false). */
#define CLAMP01(T, v) ((v) < 0 ? (T)0 : (v) > 1 ? (T)1 : (v))
#define HARDSWISH(T, W, x) ((x) * CLAMP01(T, (x) * ((T)1 / 6) + (T)0.5))
OC_DEFINE_UNARY_KERNELS(hardswish, OC_FLOAT_TYPES, HARDSWISH)

/* ---- with parameters ---- */

#define LEAKYRELU(T, W, x) ((x) < 0 ? alpha * (x) : (x))
#define ELU(T, W, x) ((x) < 0 ? alpha * expm1(x) : (x))
#define SELU(T, W, x) ((x) > 0 ? gamma * (x) : gamma * alpha * expm1(x))
#define HARDSIGMOID(T, W, x) (CLAMP01(T, alpha * (x) + beta))
#define DIVIDE_BY(T, W, x) ((x) / alpha)
OC_DEFINE_PARAM_KERNELS(leakyrelu, OC_FLOAT_TYPES, LEAKYRELU)
OC_DEFINE_PARAM_KERNELS(elu, OC_FLOAT_TYPES, ELU)
OC_DEFINE_PARAM_KERNELS(selu, OC_FLOAT_TYPES, SELU)
OC_DEFINE_PARAM_KERNELS(hardsigmoid, OC_FLOAT_TYPES, HARDSIGMOID)
OC_DEFINE_PARAM_KERNELS(divide_by, OC_FLOAT_TYPES, DIVIDE_BY)

/* ---- Clip ---- */

/* The bounds are read once; an absent one is a flag the loop tests (hoisted
 * by the compiler) rather than a type-dependent extreme value. */
#define CLIP_SPAN_DEF_(dtype, T, W, sfx, op, unused)                                        \
    static void op##_##sfx(void *out_, const void *in_, size_t n, const void *lo_,          \
                           const void *hi_)                                                 \
    {                                                                                       \
        T *o = out_;                                                                        \
        const T *x = in_;                                                                   \
        const bool has_lo = lo_ != NULL, has_hi = hi_ != NULL;                              \
        const T lo = has_lo ? *(const T *)lo_ : (T)0, hi = has_hi ? *(const T *)hi_ : (T)0; \
        for (size_t i = 0; i < n; i++) {                                                    \
            T v = x[i];                                                                     \
            if (has_lo && v < lo) v = lo;                                                   \
            if (has_hi && v > hi) v = hi;                                                   \
            o[i] = v;                                                                       \
        }                                                                                   \
    }
OC_NUMERIC_TYPES(CLIP_SPAN_DEF_, clip, unused)
OC_DEFINE_LOOKUP(oc_clip_span_fn, clip, OC_NUMERIC_TYPES)
