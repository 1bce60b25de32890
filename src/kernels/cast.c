/* Element type conversion (see cast.h). Each chunk of elements is first
 * widened to double, int64 or uint64 (which hold every value of their
 * family exactly), then narrowed to the target: one loop per source type
 * and one per (target, family) instead of one per pair. */
#include <math.h>
#include <string.h>

#include "onnxc.h"
#include "cast.h"

#define CHUNK 256

typedef enum family { FAMILY_FLOAT, FAMILY_SIGNED, FAMILY_UNSIGNED } family;

typedef union wide {
    double f[CHUNK];
    int64_t i[CHUNK];
    uint64_t u[CHUNK];
} wide;

bool oc_cast_supported(int dtype)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: case ONNXC_DTYPE_DOUBLE: case ONNXC_DTYPE_FLOAT16:
    case ONNXC_DTYPE_INT8: case ONNXC_DTYPE_INT16: case ONNXC_DTYPE_INT32: case ONNXC_DTYPE_INT64:
    case ONNXC_DTYPE_UINT8: case ONNXC_DTYPE_UINT16: case ONNXC_DTYPE_UINT32:
    case ONNXC_DTYPE_UINT64: case ONNXC_DTYPE_BOOL:
        return true;
    default: return false;
    }
}

static family family_of(int dtype)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: case ONNXC_DTYPE_DOUBLE: case ONNXC_DTYPE_FLOAT16: return FAMILY_FLOAT;
    case ONNXC_DTYPE_INT8: case ONNXC_DTYPE_INT16: case ONNXC_DTYPE_INT32:
    case ONNXC_DTYPE_INT64: return FAMILY_SIGNED;
    default: return FAMILY_UNSIGNED;
    }
}

/* ---- float16 ---- */

float oc_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) { /* zero or subnormal: mantissa * 2^-24, exact in float */
        float magnitude = (float)mantissa * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31)
        bits = sign | 0x7f800000u | (mantissa << 13);
    else
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* q rounded to the nearest integer, ties to even, whatever the FPU's mode. */
static double round_half_even(double q)
{
    double r = floor(q), frac = q - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
    return r;
}

uint16_t oc_half_from_double(double x)
{
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs(x);
    if (isnan(x)) return sign | 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00; /* rounds past the largest half, 65504 */
    if (a < 6.103515625e-05) /* below 2^-14: a multiple of 2^-24 (1024 is the smallest normal) */
        return sign | (uint16_t)round_half_even(a * 16777216.0);
    int e;
    frexp(a, &e); /* a in [2^(e-1), 2^e) */
    int exponent = e - 1;
    int q = (int)round_half_even(ldexp(a, 10 - exponent)); /* 1024..2048 */
    /* A mantissa that rounds up to 2048 carries into the exponent by itself. */
    return sign | (uint16_t)(((exponent + 15) << 10) + (q - 1024));
}

/* ---- float to integer, saturating ---- */

static int64_t saturate_signed(double x, int64_t min, int64_t max)
{
    double t = isnan(x) ? 0.0 : trunc(x);
    if (t <= (double)min) return min;
    if (t >= (double)max) return max; /* (double)INT64_MAX is 2^63: excluded too */
    return (int64_t)t;
}

static uint64_t saturate_unsigned(double x, uint64_t max)
{
    double t = isnan(x) ? 0.0 : trunc(x);
    if (t <= 0.0) return 0;
    if (t >= (double)max) return max; /* (double)UINT64_MAX is 2^64 */
    return (uint64_t)t;
}

/* ---- widening ---- */

#define WIDEN(T, field, EXPR)                                          \
    for (size_t k = 0; k < n; k++) {                                   \
        T v;                                                           \
        memcpy(&v, (const char *)src + k * sizeof(T), sizeof(T));      \
        w->field[k] = EXPR;                                            \
    }                                                                  \
    break

static void widen(wide *w, const void *src, int dtype, size_t n)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: WIDEN(float, f, (double)v);
    case ONNXC_DTYPE_DOUBLE: WIDEN(double, f, v);
    case ONNXC_DTYPE_FLOAT16: WIDEN(uint16_t, f, (double)oc_half_to_float(v));
    case ONNXC_DTYPE_INT8: WIDEN(int8_t, i, v);
    case ONNXC_DTYPE_INT16: WIDEN(int16_t, i, v);
    case ONNXC_DTYPE_INT32: WIDEN(int32_t, i, v);
    case ONNXC_DTYPE_INT64: WIDEN(int64_t, i, v);
    case ONNXC_DTYPE_UINT8: WIDEN(uint8_t, u, v);
    case ONNXC_DTYPE_UINT16: WIDEN(uint16_t, u, v);
    case ONNXC_DTYPE_UINT32: WIDEN(uint32_t, u, v);
    case ONNXC_DTYPE_UINT64: WIDEN(uint64_t, u, v);
    case ONNXC_DTYPE_BOOL: WIDEN(uint8_t, u, v != 0);
    default: break;
    }
}

/* ---- narrowing ---- */

/* Stores EXPR(x) for every widened x, x read from the family's field. */
#define NARROW(T, EXPR)                                                        \
    do {                                                                       \
        for (size_t k = 0; k < n; k++) {                                       \
            T v;                                                               \
            if (fam == FAMILY_FLOAT) {                                         \
                double x = w->f[k];                                            \
                v = EXPR##_F(x);                                               \
            } else if (fam == FAMILY_SIGNED) {                                 \
                int64_t x = w->i[k];                                           \
                v = EXPR##_I(x);                                               \
            } else {                                                           \
                uint64_t x = w->u[k];                                          \
                v = EXPR##_I(x);                                               \
            }                                                                  \
            memcpy((char *)dst + k * sizeof(T), &v, sizeof(T));                \
        }                                                                      \
    } while (0)

#define TO_FLOAT_F(x) ((float)(x))
#define TO_FLOAT_I(x) ((float)(x))
#define TO_DOUBLE_F(x) (x)
#define TO_DOUBLE_I(x) ((double)(x))
/* Integers through double: inexact only above 2^53, where half is inf anyway. */
#define TO_HALF_F(x) oc_half_from_double(x)
#define TO_HALF_I(x) oc_half_from_double((double)(x))
#define TO_BOOL_F(x) ((uint8_t)((x) != 0.0))
#define TO_BOOL_I(x) ((uint8_t)((x) != 0))
#define TO_I8_F(x) ((int8_t)saturate_signed(x, INT8_MIN, INT8_MAX))
#define TO_I16_F(x) ((int16_t)saturate_signed(x, INT16_MIN, INT16_MAX))
#define TO_I32_F(x) ((int32_t)saturate_signed(x, INT32_MIN, INT32_MAX))
#define TO_I64_F(x) saturate_signed(x, INT64_MIN, INT64_MAX)
#define TO_U8_F(x) ((uint8_t)saturate_unsigned(x, UINT8_MAX))
#define TO_U16_F(x) ((uint16_t)saturate_unsigned(x, UINT16_MAX))
#define TO_U32_F(x) ((uint32_t)saturate_unsigned(x, UINT32_MAX))
#define TO_U64_F(x) saturate_unsigned(x, UINT64_MAX)
/* Integer to integer keeps the low bits (GCC and Clang define the narrowing
 * to a signed type as modular). */
#define TO_I8_I(x) ((int8_t)(uint64_t)(x))
#define TO_I16_I(x) ((int16_t)(uint64_t)(x))
#define TO_I32_I(x) ((int32_t)(uint64_t)(x))
#define TO_I64_I(x) ((int64_t)(uint64_t)(x))
#define TO_U8_I(x) ((uint8_t)(x))
#define TO_U16_I(x) ((uint16_t)(x))
#define TO_U32_I(x) ((uint32_t)(x))
#define TO_U64_I(x) ((uint64_t)(x))

static void narrow(void *dst, int dtype, const wide *w, family fam, size_t n)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: NARROW(float, TO_FLOAT); break;
    case ONNXC_DTYPE_DOUBLE: NARROW(double, TO_DOUBLE); break;
    case ONNXC_DTYPE_FLOAT16: NARROW(uint16_t, TO_HALF); break;
    case ONNXC_DTYPE_BOOL: NARROW(uint8_t, TO_BOOL); break;
    case ONNXC_DTYPE_INT8: NARROW(int8_t, TO_I8); break;
    case ONNXC_DTYPE_INT16: NARROW(int16_t, TO_I16); break;
    case ONNXC_DTYPE_INT32: NARROW(int32_t, TO_I32); break;
    case ONNXC_DTYPE_INT64: NARROW(int64_t, TO_I64); break;
    case ONNXC_DTYPE_UINT8: NARROW(uint8_t, TO_U8); break;
    case ONNXC_DTYPE_UINT16: NARROW(uint16_t, TO_U16); break;
    case ONNXC_DTYPE_UINT32: NARROW(uint32_t, TO_U32); break;
    case ONNXC_DTYPE_UINT64: NARROW(uint64_t, TO_U64); break;
    default: break;
    }
}

void oc_cast(void *dst, int dst_dtype, const void *src, int src_dtype, size_t count)
{
    size_t src_size = onnxc_dtype_size(src_dtype), dst_size = onnxc_dtype_size(dst_dtype);
    if (count == 0) return;
    if (dst_dtype == src_dtype && dst_dtype != ONNXC_DTYPE_BOOL) {
        memcpy(dst, src, count * src_size);
        return;
    }
    family fam = family_of(src_dtype);
    wide w;
    for (size_t done = 0; done < count; done += CHUNK) {
        size_t n = count - done < CHUNK ? count - done : CHUNK;
        widen(&w, (const char *)src + done * src_size, src_dtype, n);
        narrow((char *)dst + done * dst_size, dst_dtype, &w, fam, n);
    }
}
