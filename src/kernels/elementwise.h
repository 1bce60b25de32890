/* Element-wise kernels: one expression per op, expanded over element types.
 *
 * An op defines its kernels once, e.g.
 *
 *     #define SUB(T, W, x, y) ((T)((W)(x) - (W)(y)))
 *     OC_DEFINE_BINARY_KERNELS(sub, OC_NUMERIC_TYPES, SUB)
 *
 * which writes one span function per type of the list plus the lookup
 * oc_binary_span_fn oc_sub_kernel(int dtype) (NULL for a type not listed);
 * declare that lookup below. Binary span functions run through a broadcast
 * plan (broadcast.h); unary ones take dense arrays.
 *
 * In an expression, T is the element type and W the type to compute in: the
 * unsigned counterpart for integers, so that overflow wraps as in numpy and
 * ONNX instead of being undefined (and small types do not promote to a
 * signed int that could overflow); the type itself for floating point. */
#ifndef OC_KERNELS_ELEMENTWISE_H
#define OC_KERNELS_ELEMENTWISE_H

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
#define OC_SIGNED_TYPES(X, ...) OC_FLOAT_TYPES(X, __VA_ARGS__) OC_SIGNED_INT_TYPES(X, __VA_ARGS__)
#define OC_NUMERIC_TYPES(X, ...) OC_SIGNED_TYPES(X, __VA_ARGS__) OC_UNSIGNED_INT_TYPES(X, __VA_ARGS__)

/* ---- binary: out[i] = EXPR(T, W, a[i], b[i]) over a broadcast plan ---- */

/* The four step combinations get their own loop so each one vectorizes. */
#define OC_BINARY_SPAN_DEF_(dtype, T, W, sfx, op, EXPR)                                      \
    static void op##_##sfx(void *out_, const void *a_, size_t a_step, const void *b_,       \
                           size_t b_step, size_t n)                                         \
    {                                                                                       \
        T *o = out_;                                                                        \
        const T *a = a_, *b = b_;                                                           \
        if (a_step && b_step) {                                                             \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, a[i], b[i]);                   \
        } else if (a_step) {                                                                \
            const T y = b[0];                                                               \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, a[i], y);                      \
        } else if (b_step) {                                                                \
            const T x = a[0];                                                               \
            for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, x, b[i]);                      \
        } else {                                                                            \
            const T r = EXPR(T, W, a[0], b[0]);                                             \
            for (size_t i = 0; i < n; i++) o[i] = r;                                        \
        }                                                                                   \
    }
#define OC_KERNEL_CASE_(dtype, T, W, sfx, op, EXPR) \
    case dtype:                                     \
        return op##_##sfx;

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_BINARY_KERNELS(op, TYPES, EXPR)       \
    TYPES(OC_BINARY_SPAN_DEF_, op, EXPR)                 \
    oc_binary_span_fn oc_##op##_kernel(int dtype)        \
    {                                                    \
        switch (dtype) {                                 \
            TYPES(OC_KERNEL_CASE_, op, EXPR)             \
        default:                                         \
            return NULL;                                 \
        }                                                \
    }

/* ---- unary: out[i] = EXPR(T, W, in[i]) over dense arrays ---- */

typedef void (*oc_unary_span_fn)(void *out, const void *in, size_t n);

#define OC_UNARY_SPAN_DEF_(dtype, T, W, sfx, op, EXPR)               \
    static void op##_##sfx(void *out_, const void *in_, size_t n)   \
    {                                                               \
        T *o = out_;                                                \
        const T *x = in_;                                           \
        for (size_t i = 0; i < n; i++) o[i] = EXPR(T, W, x[i]);     \
    }

/* Use at file scope, without a trailing semicolon. */
#define OC_DEFINE_UNARY_KERNELS(op, TYPES, EXPR)        \
    TYPES(OC_UNARY_SPAN_DEF_, op, EXPR)                  \
    oc_unary_span_fn oc_##op##_kernel(int dtype)         \
    {                                                    \
        switch (dtype) {                                 \
            TYPES(OC_KERNEL_CASE_, op, EXPR)             \
        default:                                         \
            return NULL;                                 \
        }                                                \
    }

/* ---- the kernels (elementwise.c); NULL for an unsupported element type ---- */

oc_binary_span_fn oc_add_kernel(int dtype); /* all of OC_NUMERIC_TYPES */
oc_unary_span_fn oc_relu_kernel(int dtype); /* OC_SIGNED_TYPES */

#endif
