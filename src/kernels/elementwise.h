/* Element-wise kernels: one expression per op, expanded over element types.
 *
 * An op defines its kernels once, e.g.
 *
 *     #define SUB(T, W, x, y) ((T)((W)(x) - (W)(y)))
 *     OC_DEFINE_BINARY_KERNELS(sub, OC_NUMERIC_TYPES, SUB)
 *
 * which writes one span function per type of the list plus the lookup
 * oc_binary_span_fn oc_sub_kernel(int dtype) (NULL for a type not listed);
 * declare that lookup below. When one expression cannot serve every type
 * (integer division must not trap, unsigned values are never negative), the
 * spans are defined per sub-list and one lookup covers them all:
 *
 *     OC_DEFINE_BINARY_SPANS(div, OC_FLOAT_TYPES, FLOAT_DIV)
 *     OC_DEFINE_BINARY_SPANS(div, OC_INT_TYPES, INT_DIV)
 *     OC_DEFINE_LOOKUP(oc_binary_span_fn, div, OC_NUMERIC_TYPES)
 *
 * Binary span functions run through a broadcast plan (broadcast.h); unary
 * ones take dense arrays.
 *
 * In an expression, T is the element type and W the type to compute in: the
 * unsigned counterpart for integers, so that overflow wraps as in numpy and
 * ONNX instead of being undefined, and small types do not promote to a
 * signed int that could overflow (uint16 * uint16 as int does; as unsigned it
 * wraps, and the low bits, which are all a 8/16-bit result keeps, are the
 * same for signed and unsigned operands); the type itself for floating
 * point. */
#ifndef OC_KERNELS_ELEMENTWISE_H
#define OC_KERNELS_ELEMENTWISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxc.h"
#include "broadcast.h"

/* Element type lists: X(dtype, T, W, suffix, extra...). */
#define OC_FLOAT_TYPES(X, ...)                          \
    X(ONNXC_DTYPE_FLOAT, float, float, f32, __VA_ARGS__) \
    X(ONNXC_DTYPE_DOUBLE, double, double, f64, __VA_ARGS__)
#define OC_SIGNED_INT_TYPES(X, ...)                          \
    X(ONNXC_DTYPE_INT8, int8_t, unsigned, i8, __VA_ARGS__)    \
    X(ONNXC_DTYPE_INT16, int16_t, unsigned, i16, __VA_ARGS__) \
    X(ONNXC_DTYPE_INT32, int32_t, uint32_t, i32, __VA_ARGS__) \
    X(ONNXC_DTYPE_INT64, int64_t, uint64_t, i64, __VA_ARGS__)
#define OC_UNSIGNED_INT_TYPES(X, ...)                          \
    X(ONNXC_DTYPE_UINT8, uint8_t, unsigned, u8, __VA_ARGS__)    \
    X(ONNXC_DTYPE_UINT16, uint16_t, unsigned, u16, __VA_ARGS__) \
    X(ONNXC_DTYPE_UINT32, uint32_t, uint32_t, u32, __VA_ARGS__) \
    X(ONNXC_DTYPE_UINT64, uint64_t, uint64_t, u64, __VA_ARGS__)
#define OC_INT_TYPES(X, ...) OC_SIGNED_INT_TYPES(X, __VA_ARGS__) OC_UNSIGNED_INT_TYPES(X, __VA_ARGS__)
#define OC_SIGNED_TYPES(X, ...) OC_FLOAT_TYPES(X, __VA_ARGS__) OC_SIGNED_INT_TYPES(X, __VA_ARGS__)
#define OC_NUMERIC_TYPES(X, ...) OC_SIGNED_TYPES(X, __VA_ARGS__) OC_UNSIGNED_INT_TYPES(X, __VA_ARGS__)

/* ---- the lookup: the span function of a dtype, NULL for a type not listed ---- */

#define OC_KERNEL_CASE_(dtype, T, W, sfx, op, unused) \
    case dtype:                                       \
        return op##_##sfx;

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_LOOKUP(fn_type, op, TYPES)         \
    fn_type oc_##op##_kernel(int dtype)              \
    {                                                \
        switch (dtype) {                             \
            TYPES(OC_KERNEL_CASE_, op, unused)       \
        default:                                     \
            return NULL;                             \
        }                                            \
    }

/* ---- binary: out[i] = EXPR(T, W, a[i], b[i]) over a broadcast plan ---- */

/* The four step combinations get their own loop so each one vectorizes. b
 * has element type TB (T for every op but Pow, whose exponent differs). */
#define OC_MIXED_SPAN_DEF_(dtype, T, W, sfx, op, EXPR, TB)                                   \
    static void op##_##sfx(void *out_, const void *a_, size_t a_step, const void *b_,       \
                           size_t b_step, size_t n)                                         \
    {                                                                                       \
        T *o = out_;                                                                        \
        const T *a = a_;                                                                    \
        const TB *b = b_;                                                                   \
        if (a_step && b_step) {                                                             \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, a[i], b[i]);                   \
        } else if (a_step) {                                                                \
            const TB y = b[0];                                                              \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, a[i], y);                      \
        } else if (b_step) {                                                                \
            const T x = a[0];                                                               \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, x, b[i]);                      \
        } else {                                                                            \
            const T r = EXPR(T, W, a[0], b[0]);                                             \
            for (size_t i = 0; i < n; i++) o[i] = r;                                        \
        }                                                                                   \
    }
#define OC_BINARY_SPAN_DEF_(dtype, T, W, sfx, op, EXPR) \
    OC_MIXED_SPAN_DEF_(dtype, T, W, sfx, op, EXPR, T)

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_BINARY_SPANS(op, TYPES, EXPR) TYPES(OC_BINARY_SPAN_DEF_, op, EXPR)
#define OC_DEFINE_MIXED_SPANS(op, TYPES, EXPR, TB) TYPES(OC_MIXED_SPAN_DEF_, op, EXPR, TB)
#define OC_DEFINE_BINARY_KERNELS(op, TYPES, EXPR) \
    OC_DEFINE_BINARY_SPANS(op, TYPES, EXPR)        \
    OC_DEFINE_LOOKUP(oc_binary_span_fn, op, TYPES)

/* ---- unary: out[i] = EXPR(T, W, in[i]) over dense arrays ---- */

typedef void (*oc_unary_span_fn)(void *out, const void *in, size_t n);

/* out has element type TO (T for every op but the conversions). */
#define OC_CONVERT_SPAN_DEF_(dtype, T, W, sfx, op, EXPR, TO)         \
    static void op##_##sfx(void *out_, const void *in_, size_t n)   \
    {                                                               \
        TO *o = out_;                                               \
        const T *x = in_;                                           \
        for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, x[i]);     \
    }
#define OC_UNARY_SPAN_DEF_(dtype, T, W, sfx, op, EXPR) \
    OC_CONVERT_SPAN_DEF_(dtype, T, W, sfx, op, EXPR, T)

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_UNARY_SPANS(op, TYPES, EXPR) TYPES(OC_UNARY_SPAN_DEF_, op, EXPR)
#define OC_DEFINE_UNARY_KERNELS(op, TYPES, EXPR) \
    OC_DEFINE_UNARY_SPANS(op, TYPES, EXPR)        \
    OC_DEFINE_LOOKUP(oc_unary_span_fn, op, TYPES)
#define OC_DEFINE_CONVERT_KERNELS(op, TYPES, EXPR, TO) \
    TYPES(OC_CONVERT_SPAN_DEF_, op, EXPR, TO)           \
    OC_DEFINE_LOOKUP(oc_unary_span_fn, op, TYPES)

/* ---- unary with real parameters (the activations' attributes) ---- */

typedef struct oc_unary_params {
    double alpha, beta, gamma;
} oc_unary_params;

typedef void (*oc_unary_param_fn)(void *out, const void *in, size_t n, const oc_unary_params *p);

/* EXPR may use alpha, beta and gamma, read once in the element type: the
 * compiler could not hoist the reads itself, since out might alias p. For
 * floating-point lists only (a parameter may not fit an integer type). */
#define OC_PARAM_SPAN_DEF_(dtype, T, W, sfx, op, EXPR)                                    \
    static void op##_##sfx(void *out_, const void *in_, size_t n, const oc_unary_params *p) \
    {                                                                                      \
        T *o = out_;                                                                       \
        const T *x = in_;                                                                  \
        const T alpha = (T)p->alpha, beta = (T)p->beta, gamma = (T)p->gamma;               \
        (void)alpha, (void)beta, (void)gamma;                                              \
        for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, x[i]);                            \
    }

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_PARAM_KERNELS(op, TYPES, EXPR) \
    TYPES(OC_PARAM_SPAN_DEF_, op, EXPR)           \
    OC_DEFINE_LOOKUP(oc_unary_param_fn, op, TYPES)

/* ---- Clip: out[i] = in[i] limited to [*lo, *hi] ---- */

/* lo and hi point to one element of the tensor's type, or are NULL for no
 * bound. When *lo > *hi every element becomes *hi (ONNX's min(max(x, lo), hi));
 * NaN elements stay NaN and a NaN bound limits nothing. */
typedef void (*oc_clip_span_fn)(void *out, const void *in, size_t n, const void *lo,
                                const void *hi);

/* ---- the kernels; NULL for an unsupported element type ---- */

/* elementwise.c: binary arithmetic. */
oc_binary_span_fn oc_add_kernel(int dtype);   /* all of OC_NUMERIC_TYPES, wrapping */
oc_binary_span_fn oc_sub_kernel(int dtype);   /* OC_NUMERIC_TYPES, wrapping */
oc_binary_span_fn oc_mul_kernel(int dtype);   /* OC_NUMERIC_TYPES, wrapping */
/* OC_NUMERIC_TYPES. Integers truncate toward zero; x / 0 is 0 (numpy's
 * answer, where C would trap) and MIN / -1 wraps to MIN. */
oc_binary_span_fn oc_div_kernel(int dtype);
oc_binary_span_fn oc_max_kernel(int dtype);   /* OC_NUMERIC_TYPES; NaN wins, as in numpy */
oc_binary_span_fn oc_min_kernel(int dtype);   /* OC_NUMERIC_TYPES; NaN wins */
/* out = a < 0 ? b * a : a; OC_FLOAT_TYPES and the 32/64-bit integers. */
oc_binary_span_fn oc_prelu_kernel(int dtype);
/* out = a ^ b for a base of float, double, int32 or int64. The exponents
 * are int64 when int_exponent (integer powers, exact and wrapping; a
 * negative one truncates 1 / a^-b toward zero, and 0^-b is 0), else double
 * (computed in double; for an integer base the result is truncated toward
 * zero and saturated, NaN giving 0). */
oc_binary_span_fn oc_pow_kernel(int base_dtype, bool int_exponent);

/* The exponent conversions for Pow: any numeric type to double, any integer
 * type to int64 (uint64 values above INT64_MAX wrap). */
oc_unary_span_fn oc_to_f64_kernel(int dtype);
oc_unary_span_fn oc_to_i64_kernel(int dtype);

/* unary.c: math functions and activations. */
oc_unary_span_fn oc_relu_kernel(int dtype);       /* OC_SIGNED_TYPES */
oc_unary_span_fn oc_neg_kernel(int dtype);        /* OC_SIGNED_TYPES, wrapping */
oc_unary_span_fn oc_abs_kernel(int dtype);        /* OC_NUMERIC_TYPES, |MIN| wraps to MIN */
/* OC_NUMERIC_TYPES; an integer's erf, computed in double, truncates to 0,
 * or to +-1 where the double rounds to +-1 (|x| >= 6). */
oc_unary_span_fn oc_erf_kernel(int dtype);
oc_unary_span_fn oc_sqrt_kernel(int dtype);       /* the rest: OC_FLOAT_TYPES */
oc_unary_span_fn oc_exp_kernel(int dtype);
oc_unary_span_fn oc_reciprocal_kernel(int dtype);
oc_unary_span_fn oc_floor_kernel(int dtype);
oc_unary_span_fn oc_ceil_kernel(int dtype);
oc_unary_span_fn oc_sigmoid_kernel(int dtype);
oc_unary_span_fn oc_tanh_kernel(int dtype);
oc_unary_span_fn oc_softplus_kernel(int dtype);
oc_unary_span_fn oc_hardswish_kernel(int dtype);
oc_unary_param_fn oc_leakyrelu_kernel(int dtype);   /* alpha */
oc_unary_param_fn oc_elu_kernel(int dtype);         /* alpha */
oc_unary_param_fn oc_selu_kernel(int dtype);        /* alpha, gamma */
oc_unary_param_fn oc_hardsigmoid_kernel(int dtype); /* alpha, beta */
oc_unary_param_fn oc_divide_by_kernel(int dtype);   /* x / alpha (Mean) */
oc_clip_span_fn oc_clip_kernel(int dtype);          /* OC_NUMERIC_TYPES */

#endif
