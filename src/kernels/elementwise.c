/* Binary arithmetic kernels and Pow's exponent conversions. */
#include <math.h>

#include "elementwise.h"

/* Wrapping for integers (see elementwise.h); plain arithmetic for floating point. */
#define ADD(T, W, x, y) ((T)((W)(x) + (W)(y)))
#define SUB(T, W, x, y) ((T)((W)(x) - (W)(y)))
#define MUL(T, W, x, y) ((T)((W)(x) * (W)(y)))
OC_DEFINE_BINARY_KERNELS(add, OC_NUMERIC_TYPES, ADD)
OC_DEFINE_BINARY_KERNELS(sub, OC_NUMERIC_TYPES, SUB)
OC_DEFINE_BINARY_KERNELS(mul, OC_NUMERIC_TYPES, MUL)

/* C traps (or is undefined) on x / 0 and on MIN / -1; numpy gives 0 for the
 * first and MIN for the second, and so do these. */
#define FLOAT_DIV(T, W, x, y) ((x) / (y))
#define SIGNED_DIV(T, W, x, y) \
    ((y) == 0 ? (T)0 : (y) == -1 ? (T)(0 - (W)(x)) : (T)((x) / (y)))
#define UNSIGNED_DIV(T, W, x, y) ((y) == 0 ? (T)0 : (T)((x) / (y)))
OC_DEFINE_BINARY_SPANS(div, OC_FLOAT_TYPES, FLOAT_DIV)
OC_DEFINE_BINARY_SPANS(div, OC_SIGNED_INT_TYPES, SIGNED_DIV)
OC_DEFINE_BINARY_SPANS(div, OC_UNSIGNED_INT_TYPES, UNSIGNED_DIV)
OC_DEFINE_LOOKUP(oc_binary_span_fn, div, OC_NUMERIC_TYPES)

/* numpy's maximum/minimum: a NaN on either side gives NaN. */
#define FLOAT_MAX(T, W, x, y) ((x) > (y) || isnan(x) ? (x) : (y))
#define FLOAT_MIN(T, W, x, y) ((x) < (y) || isnan(x) ? (x) : (y))
#define INT_MAX_OF(T, W, x, y) ((x) > (y) ? (x) : (y))
#define INT_MIN_OF(T, W, x, y) ((x) < (y) ? (x) : (y))
OC_DEFINE_BINARY_SPANS(max, OC_FLOAT_TYPES, FLOAT_MAX)
OC_DEFINE_BINARY_SPANS(max, OC_INT_TYPES, INT_MAX_OF)
OC_DEFINE_LOOKUP(oc_binary_span_fn, max, OC_NUMERIC_TYPES)
OC_DEFINE_BINARY_SPANS(min, OC_FLOAT_TYPES, FLOAT_MIN)
OC_DEFINE_BINARY_SPANS(min, OC_INT_TYPES, INT_MIN_OF)
OC_DEFINE_LOOKUP(oc_binary_span_fn, min, OC_NUMERIC_TYPES)

/* The element types of PRelu (opset 9 on): unsigned values are never negative. */
#define PRELU_SIGNED_TYPES(X, ...)                          \
    OC_FLOAT_TYPES(X, __VA_ARGS__)                          \
    X(ONNXC_DTYPE_INT32, int32_t, uint32_t, i32, __VA_ARGS__) \
    X(ONNXC_DTYPE_INT64, int64_t, uint64_t, i64, __VA_ARGS__)
#define PRELU_UNSIGNED_TYPES(X, ...)                           \
    X(ONNXC_DTYPE_UINT32, uint32_t, uint32_t, u32, __VA_ARGS__) \
    X(ONNXC_DTYPE_UINT64, uint64_t, uint64_t, u64, __VA_ARGS__)
#define PRELU_TYPES(X, ...) PRELU_SIGNED_TYPES(X, __VA_ARGS__) PRELU_UNSIGNED_TYPES(X, __VA_ARGS__)
#define SIGNED_PRELU(T, W, x, slope) ((x) < 0 ? (T)((W)(slope) * (W)(x)) : (x))
#define UNSIGNED_PRELU(T, W, x, slope) ((void)(slope), (x)) /* never negative */
OC_DEFINE_BINARY_SPANS(prelu, PRELU_SIGNED_TYPES, SIGNED_PRELU)
OC_DEFINE_BINARY_SPANS(prelu, PRELU_UNSIGNED_TYPES, UNSIGNED_PRELU)
OC_DEFINE_LOOKUP(oc_binary_span_fn, prelu, PRELU_TYPES)

/* ---- Pow ---- */

/* base^exp in 64-bit two's complement: the low bits of the exact power, so
 * truncating to a narrower type is that type's wrapped result. */
static uint64_t int_pow_wrapping(int64_t base, int64_t exp)
{
    if (exp < 0) { /* 1 / base^-exp truncated: nonzero only for |base| == 1 */
        if (base == 1) return 1;
        if (base == -1) return (exp & 1) ? UINT64_MAX : 1;
        return 0;
    }
    uint64_t result = 1, b = (uint64_t)base, e = (uint64_t)exp;
    while (e) {
        if (e & 1) result *= b;
        b *= b;
        e >>= 1;
    }
    return result;
}

/* v truncated toward zero into a signed integer of `bits` bits, saturating;
 * NaN gives 0. (A plain conversion of an out-of-range double is undefined.) */
static int64_t saturate_to_signed(double v, int bits)
{
    uint64_t max = ((uint64_t)1 << (bits - 1)) - 1;
    double limit = (double)(max + 1); /* 2^(bits-1), exact */
    if (isnan(v)) return 0;
    if (v >= limit) return (int64_t)max;
    if (v < -limit) return -(int64_t)max - 1;
    return (int64_t)v;
}

#define POW_FLOAT_BASES(X, ...) OC_FLOAT_TYPES(X, __VA_ARGS__)
#define POW_INT_BASES(X, ...)                                  \
    X(ONNXC_DTYPE_INT32, int32_t, uint32_t, i32, __VA_ARGS__) \
    X(ONNXC_DTYPE_INT64, int64_t, uint64_t, i64, __VA_ARGS__)
#define POW_BASES(X, ...) POW_FLOAT_BASES(X, __VA_ARGS__) POW_INT_BASES(X, __VA_ARGS__)

#define FLOAT_POW(T, W, x, e) ((T)pow((double)(x), (e)))
#define INT_POW_REAL(T, W, x, e) ((T)saturate_to_signed(pow((double)(x), (e)), (int)sizeof(T) * 8))
#define INT_POW_INT(T, W, x, e) ((T)int_pow_wrapping((x), (e)))
OC_DEFINE_MIXED_SPANS(pow_real, POW_FLOAT_BASES, FLOAT_POW, double)
OC_DEFINE_MIXED_SPANS(pow_real, POW_INT_BASES, INT_POW_REAL, double)
OC_DEFINE_MIXED_SPANS(pow_int, POW_INT_BASES, INT_POW_INT, int64_t)
static OC_DEFINE_LOOKUP(oc_binary_span_fn, pow_real, POW_BASES)
static OC_DEFINE_LOOKUP(oc_binary_span_fn, pow_int, POW_INT_BASES)

oc_binary_span_fn oc_pow_kernel(int base_dtype, bool int_exponent)
{
    return int_exponent ? oc_pow_int_kernel(base_dtype) : oc_pow_real_kernel(base_dtype);
}

#define TO_DOUBLE(T, W, x) ((double)(x))
#define TO_INT64(T, W, x) ((int64_t)(x))
OC_DEFINE_CONVERT_KERNELS(to_f64, OC_NUMERIC_TYPES, TO_DOUBLE, double)
OC_DEFINE_CONVERT_KERNELS(to_i64, OC_INT_TYPES, TO_INT64, int64_t)
