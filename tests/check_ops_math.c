/* Arithmetic (Add, Sub, Mul, Div, Pow, Sum, Mean, Max, Min), unary math
 * (Sqrt, Exp, Neg, Abs, Reciprocal, Erf, Floor, Ceil) and activations
 * (Sigmoid, Tanh, LeakyRelu, PRelu, Elu, Selu, HardSigmoid, HardSwish,
 * Softplus, Clip) through the op harness, each against a naive computation
 * written here: per element, in double for floating point and in 64-bit
 * integers (wrapping as two's complement) for integer types. Byte-level
 * element access assumes a little-endian host. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/elementwise.h"
#include "model_builder.h"
#include "op_harness.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- shapes ---- */

typedef struct shape {
    int rank;
    int64_t dims[OC_MAX_RANK];
} shape;

static size_t shape_count(const shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

/* Flat index into in (right-aligned against out, size-1 dims repeated) of the
 * output element at flat index i: numpy's rule, one element at a time. */
static size_t naive_bcast_index(const shape *out, const shape *in, size_t flat)
{
    size_t index = 0, stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        size_t coord = flat % (size_t)out->dims[d];
        flat /= (size_t)out->dims[d];
        int k = d - (out->rank - in->rank);
        if (k < 0) continue;
        if (in->dims[k] != 1) index += coord * stride;
        stride *= (size_t)in->dims[k];
    }
    return index;
}

static shape naive_bcast_shape(const shape *a, const shape *b)
{
    shape out = {a->rank > b->rank ? a->rank : b->rank, {0}};
    for (int d = 0; d < out.rank; d++) {
        int ia = d - (out.rank - a->rank), ib = d - (out.rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        out.dims[d] = da == 1 ? db : da;
    }
    return out;
}

/* ---- elements ---- */

static const onnxc_dtype numeric_dtypes[] = {
    ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT8,  ONNXC_DTYPE_INT16,  ONNXC_DTYPE_INT32,
    ONNXC_DTYPE_INT64, ONNXC_DTYPE_UINT8,  ONNXC_DTYPE_UINT16, ONNXC_DTYPE_UINT32, ONNXC_DTYPE_UINT64,
};

static bool is_float(onnxc_dtype dt) { return dt == ONNXC_DTYPE_FLOAT || dt == ONNXC_DTYPE_DOUBLE; }

static bool is_unsigned(onnxc_dtype dt)
{
    return dt == ONNXC_DTYPE_UINT8 || dt == ONNXC_DTYPE_UINT16 || dt == ONNXC_DTYPE_UINT32 ||
           dt == ONNXC_DTYPE_UINT64;
}

/* Element i's bits, zero-extended. */
static uint64_t get_u(onnxc_dtype dt, const void *p, size_t i)
{
    size_t es = onnxc_dtype_size(dt);
    uint64_t v = 0;
    memcpy(&v, (const char *)p + i * es, es);
    return v;
}

/* Element i of an integer type, sign-extended when the type is signed. */
static int64_t get_i(onnxc_dtype dt, const void *p, size_t i)
{
    uint64_t v = get_u(dt, p, i);
    int bits = (int)onnxc_dtype_size(dt) * 8;
    if (!is_unsigned(dt) && bits < 64 && ((v >> (bits - 1)) & 1)) v |= ~UINT64_C(0) << bits;
    return (int64_t)v;
}

/* Element i as a double, whatever the type. */
static double get_f(onnxc_dtype dt, const void *p, size_t i)
{
    if (dt == ONNXC_DTYPE_FLOAT) {
        float f;
        memcpy(&f, (const char *)p + i * 4, 4);
        return f;
    }
    if (dt == ONNXC_DTYPE_DOUBLE) {
        double d;
        memcpy(&d, (const char *)p + i * 8, 8);
        return d;
    }
    return is_unsigned(dt) ? (double)get_u(dt, p, i) : (double)get_i(dt, p, i);
}

/* A reference result: f for floating-point types, the low bits of bits for integers. */
typedef struct ref {
    double f;
    uint64_t bits;
} ref;

static ref ref_f(double f) { return (ref){f, 0}; }
static ref ref_bits(uint64_t bits) { return (ref){0, bits}; }

static void put_ref(onnxc_dtype dt, void *p, size_t i, ref r)
{
    if (dt == ONNXC_DTYPE_FLOAT) {
        float f = (float)r.f;
        memcpy((char *)p + i * 4, &f, 4);
    } else if (dt == ONNXC_DTYPE_DOUBLE) {
        memcpy((char *)p + i * 8, &r.f, 8);
    } else {
        size_t es = onnxc_dtype_size(dt);
        memcpy((char *)p + i * es, &r.bits, es);
    }
}

/* The ONNX runner's tolerance for float32, a tight one for float64; NaN
 * must meet NaN and an infinity the same infinity. */
static bool close_enough(onnxc_dtype dt, double got, double want)
{
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    if (dt == ONNXC_DTYPE_FLOAT) return fabs(got - want) <= 1e-7 + 1e-3 * fabs(want);
    return fabs(got - want) <= 1e-15 + 1e-12 * fabs(want);
}

static void expect_elements(onnxc_dtype dt, const void *got, const void *want, size_t n,
                            const char *what)
{
    size_t es = onnxc_dtype_size(dt);
    for (size_t i = 0; i < n; i++) {
        if (is_float(dt)) {
            double g = get_f(dt, got, i), w = get_f(dt, want, i);
            ck_assert_msg(close_enough(dt, g, w), "%s %s element %zu: got %.9g, want %.9g", what,
                          onnxc_dtype_name(dt), i, g, w);
        } else {
            ck_assert_msg(memcmp((const char *)got + i * es, (const char *)want + i * es, es) == 0,
                          "%s %s element %zu: got %lld, want %lld", what, onnxc_dtype_name(dt), i,
                          (long long)get_i(dt, got, i), (long long)get_i(dt, want, i));
        }
    }
}

/* ---- data ---- */

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Deterministic contents. Floats: values in [-4, 4), with NaN, +-inf, +-0
 * and +-100 first when specials is set. Integers: random bits, with 0, -1
 * (all ones), 1 and the minimum (top bit only) sprinkled in, so integer
 * overflow, division by zero and MIN / -1 all occur. */
static void fill(onnxc_dtype dt, void *p, size_t n, unsigned seed, bool specials)
{
    static const double special[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 100.0, -100.0};
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    size_t es = onnxc_dtype_size(dt);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_random(&s);
        if (is_float(dt)) {
            double v = (double)((int)(r >> 40 & 0xFFFF) - 0x8000) / 8192.0;
            if (specials && i < ARRAY_LEN(special)) v = special[i];
            put_ref(dt, p, i, ref_f(v));
            continue;
        }
        switch (r % 16) {
        case 0: r = 0; break;
        case 1: r = ~UINT64_C(0); break;
        case 2: r = 1; break;
        case 3: r = UINT64_C(1) << (es * 8 - 1); break;
        default: break;
        }
        memcpy((char *)p + i * es, &r, es);
    }
}

static void *alloc_filled(onnxc_dtype dt, const shape *s, unsigned seed, bool specials)
{
    size_t n = shape_count(s);
    void *p = malloc(n * onnxc_dtype_size(dt) + 1);
    ck_assert_ptr_nonnull(p);
    fill(dt, p, n, seed, specials);
    return p;
}

/* ---- statuses ---- */

static void expect_ok(onnxc_status *st)
{
    ck_assert_msg(st == NULL, "unexpected error: %s", onnxc_status_message(st));
}

/* The status must carry code and name the node; frees it. */
static void expect_code(onnxc_status *st, onnxc_code code)
{
    ck_assert_msg(st != NULL, "expected %s, got success", onnxc_code_name(code));
    ck_assert_msg(onnxc_status_code(st) == code, "expected %s, got: %s", onnxc_code_name(code),
                  onnxc_status_message(st));
    ck_assert_msg(strstr(onnxc_status_message(st), "node 'test'") != NULL, "message: %s",
                  onnxc_status_message(st));
    onnxc_status_free(st);
}

static void expect_shape(const oc_tensor *t, onnxc_dtype dtype, const shape *s)
{
    ck_assert_int_eq(t->dtype, dtype);
    ck_assert_int_eq(t->rank, s->rank);
    for (int i = 0; i < s->rank; i++) ck_assert_int_eq(t->dims[i], s->dims[i]);
}

/* Runs h on inputs of the given dtypes and shapes (contents: zeros) and
 * returns the status, for the error paths. */
static onnxc_status *run_shapes(oh_node *h, int n, const onnxc_dtype *dts, const shape *shapes)
{
    static const double zeros[256];
    oc_tensor t[4];
    const oc_tensor *in[4] = {0};
    for (int i = 0; i < n; i++) {
        ck_assert(shape_count(&shapes[i]) * 8 <= sizeof zeros);
        if (!dts[i]) continue; /* an omitted input */
        t[i] = oh_tensor(dts[i], shapes[i].rank, shapes[i].dims, (void *)zeros);
        in[i] = &t[i];
    }
    oc_tensor out[1] = {{0}};
    onnxc_status *st = oh_run(h, n, in, 1, out, NULL);
    oh_free_outputs(1, out);
    return st;
}

/* A fresh node of op at opset, run on inputs of one dtype; expects code. */
static void expect_op_error(const char *op, int opset, onnxc_code code, int n, onnxc_dtype dt,
                            const shape *shapes)
{
    onnxc_dtype dts[4] = {dt, dt, dt, dt};
    oh_node h;
    oh_init(&h, op, opset);
    expect_code(run_shapes(&h, n, dts, shapes), code);
    oh_free(&h);
}

static void expect_op_ok(const char *op, int opset, int n, onnxc_dtype dt, const shape *shapes)
{
    onnxc_dtype dts[4] = {dt, dt, dt, dt};
    oh_node h;
    oh_init(&h, op, opset);
    expect_ok(run_shapes(&h, n, dts, shapes));
    oh_free(&h);
}

/* ---- binary ops: Add, Sub, Mul, Div ---- */

typedef ref (*binary_ref)(onnxc_dtype dt, const void *a, size_t ia, const void *b, size_t ib);

static ref ref_add(onnxc_dtype dt, const void *a, size_t ia, const void *b, size_t ib)
{
    if (is_float(dt)) return ref_f(get_f(dt, a, ia) + get_f(dt, b, ib));
    return ref_bits(get_u(dt, a, ia) + get_u(dt, b, ib));
}

static ref ref_sub(onnxc_dtype dt, const void *a, size_t ia, const void *b, size_t ib)
{
    if (is_float(dt)) return ref_f(get_f(dt, a, ia) - get_f(dt, b, ib));
    return ref_bits(get_u(dt, a, ia) - get_u(dt, b, ib));
}

static ref ref_mul(onnxc_dtype dt, const void *a, size_t ia, const void *b, size_t ib)
{
    if (is_float(dt)) return ref_f(get_f(dt, a, ia) * get_f(dt, b, ib));
    return ref_bits(get_u(dt, a, ia) * get_u(dt, b, ib));
}

/* Integers: truncation toward zero; x / 0 = 0; MIN / -1 wraps to MIN. */
static ref ref_div(onnxc_dtype dt, const void *a, size_t ia, const void *b, size_t ib)
{
    if (is_float(dt)) return ref_f(get_f(dt, a, ia) / get_f(dt, b, ib));
    if (is_unsigned(dt)) {
        uint64_t x = get_u(dt, a, ia), y = get_u(dt, b, ib);
        return ref_bits(y == 0 ? 0 : x / y);
    }
    int64_t x = get_i(dt, a, ia), y = get_i(dt, b, ib);
    if (y == 0) return ref_bits(0);
    if (y == -1) return ref_bits(0 - (uint64_t)x);
    return ref_bits((uint64_t)(x / y));
}

/* Runs a binary op on a and b and checks every element against ref, where
 * b_ref is b's shape as the reference aligns it (b itself, or padded with
 * 1s for the legacy axis rule). */
static void check_binary(oh_node *h, binary_ref fn, onnxc_dtype dt, const shape *sa,
                         const shape *sb, const shape *b_ref, unsigned seed)
{
    void *a = alloc_filled(dt, sa, seed, true), *b = alloc_filled(dt, sb, seed + 1, false);
    oc_tensor ta = oh_tensor(dt, sa->rank, sa->dims, a);
    oc_tensor tb = oh_tensor(dt, sb->rank, sb->dims, b);
    const oc_tensor *in[] = {&ta, &tb};
    oc_tensor out[1] = {{0}};
    expect_ok(oh_run(h, 2, in, 1, out, NULL));

    shape so = naive_bcast_shape(sa, b_ref);
    expect_shape(&out[0], dt, &so);
    size_t n = shape_count(&so);
    void *want = malloc(n * onnxc_dtype_size(dt) + 1);
    for (size_t i = 0; i < n; i++)
        put_ref(dt, want, i,
                fn(dt, a, naive_bcast_index(&so, sa, i), b, naive_bcast_index(&so, b_ref, i)));
    expect_elements(dt, out[0].data, want, n, h->node.op_type);
    free(want);
    oh_free_outputs(1, out);
    free(a);
    free(b);
}

static const struct { shape a, b; } bcast_cases[] = {
    {{3, {3, 4, 5}}, {3, {3, 4, 5}}},                 /* same shape */
    {{3, {3, 4, 5}}, {0, {0}}},                       /* scalar right */
    {{0, {0}}, {3, {3, 4, 5}}},                       /* scalar left */
    {{0, {0}}, {0, {0}}},                             /* both scalars */
    {{1, {1}}, {3, {2, 3, 7}}},                       /* one-element tensor */
    {{3, {3, 4, 5}}, {1, {5}}},                       /* rank mismatch, suffix */
    {{2, {4, 5}}, {4, {2, 3, 4, 5}}},
    {{3, {3, 1, 5}}, {2, {4, 5}}},                    /* [3,1,5] op [4,5] */
    {{2, {3, 1}}, {2, {1, 4}}},                       /* both sides broadcast */
    {{4, {2, 3, 4, 5}}, {3, {3, 1, 1}}},              /* per channel */
    {{4, {1, 3, 1, 1}}, {4, {2, 3, 4, 5}}},
    {{4, {2, 3, 4, 5}}, {4, {2, 3, 4, 1}}},           /* broadcast innermost */
    {{5, {7, 1, 3, 1, 2}}, {5, {1, 5, 1, 4, 1}}},     /* alternating */
    {{8, {2, 1, 2, 1, 2, 1, 2, 1}}, {8, {1, 2, 1, 2, 1, 2, 1, 2}}},
    {{1, {37}}, {1, {37}}},                           /* odd length */
    {{2, {0, 5}}, {2, {1, 5}}},                       /* zero-size */
    {{2, {1, 0}}, {2, {3, 1}}},
};

static const struct {
    const char *op;
    binary_ref fn;
} arith_ops[] = {{"Add", ref_add}, {"Sub", ref_sub}, {"Mul", ref_mul}, {"Div", ref_div}};

START_TEST(arith_broadcast_every_dtype)
{
    for (size_t o = 0; o < ARRAY_LEN(arith_ops); o++)
        for (size_t t = 0; t < ARRAY_LEN(numeric_dtypes); t++) {
            oh_node h;
            oh_init(&h, arith_ops[o].op, 14);
            check_binary(&h, arith_ops[o].fn, numeric_dtypes[t], &bcast_cases[_i].a,
                         &bcast_cases[_i].b, &bcast_cases[_i].b, (unsigned)(_i * 31 + t + o));
            oh_free(&h);
        }
}
END_TEST

/* Every opset of the numpy era; the 32/64-bit integers from opset 7 (6 for
 * the legacy form, below). */
START_TEST(arith_every_numpy_opset)
{
    static const int opsets[] = {7, 8, 13, 14, 18, 26};
    static const onnxc_dtype dts[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT32,
                                      ONNXC_DTYPE_INT64, ONNXC_DTYPE_UINT64};
    for (size_t o = 0; o < ARRAY_LEN(arith_ops); o++)
        for (size_t k = 0; k < ARRAY_LEN(opsets); k++)
            for (size_t t = 0; t < ARRAY_LEN(dts); t++) {
                oh_node h;
                oh_init(&h, arith_ops[o].op, opsets[k]);
                check_binary(&h, arith_ops[o].fn, dts[t], &bcast_cases[7].a, &bcast_cases[7].b,
                             &bcast_cases[7].b, (unsigned)(k * 5 + t));
                oh_free(&h);
            }
}
END_TEST

/* Division by hand: C's truncation, the defined answers where C traps. */
START_TEST(div_integer_semantics)
{
    static const int64_t dims[1] = {9};
    int32_t a32[9] = {7, -7, 7, -7, INT32_MIN, 5, 0, -5, INT32_MIN};
    int32_t b32[9] = {2, 2, -2, -2, -1, 0, 0, 0, 1};
    const int32_t want32[9] = {3, -3, -3, 3, INT32_MIN, 0, 0, 0, INT32_MIN};
    int64_t a64[9] = {INT64_MIN, INT64_MIN, 224, 224, -1, 1, INT64_MAX, 9, -9};
    int64_t b64[9] = {-1, 0, 2, 3, 2, -2, -1, 4, 4};
    const int64_t want64[9] = {INT64_MIN, 0, 112, 74, 0, 0, -INT64_MAX, 2, -2};
    uint8_t a8[9] = {255, 255, 0, 7, 200, 1, 0, 9, 128};
    uint8_t b8[9] = {0, 1, 0, 2, 255, 3, 5, 9, 255};
    const uint8_t want8[9] = {0, 255, 0, 3, 0, 0, 0, 1, 0};
    int8_t ai8[9] = {-128, -128, 127, -7, 5, 0, -1, 100, -100};
    int8_t bi8[9] = {-1, 0, -1, 2, -3, 0, -1, 7, 7};
    const int8_t wanti8[9] = {-128, 0, -127, -3, -1, 0, 1, 14, -14};
    struct {
        onnxc_dtype dt;
        void *a, *b;
        const void *want;
    } cases[] = {{ONNXC_DTYPE_INT32, a32, b32, want32},
                 {ONNXC_DTYPE_INT64, a64, b64, want64},
                 {ONNXC_DTYPE_UINT8, a8, b8, want8},
                 {ONNXC_DTYPE_INT8, ai8, bi8, wanti8}};
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        oc_tensor ta = oh_tensor(cases[k].dt, 1, dims, cases[k].a);
        oc_tensor tb = oh_tensor(cases[k].dt, 1, dims, cases[k].b);
        const oc_tensor *in[] = {&ta, &tb};
        oc_tensor out[1] = {{0}};
        oh_node h;
        oh_init(&h, "Div", 14);
        expect_ok(oh_run(&h, 2, in, 1, out, NULL));
        ck_assert(memcmp(out[0].data, cases[k].want, ta.nbytes) == 0);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
}
END_TEST

START_TEST(div_float_by_zero)
{
    static const int64_t dims[1] = {4};
    float a[4] = {1, -1, 0, 3}, b[4] = {0, 0, 0, -0.0f};
    oc_tensor ta = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, a), tb = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, b);
    const oc_tensor *in[] = {&ta, &tb};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Div", 13);
    expect_ok(oh_run(&h, 2, in, 1, out, NULL));
    const float *y = out[0].data;
    ck_assert(isinf(y[0]) && y[0] > 0);
    ck_assert(isinf(y[1]) && y[1] < 0);
    ck_assert(isnan(y[2]));
    ck_assert(isinf(y[3]) && y[3] < 0);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

/* Opsets 1-6: B broadcasts only with broadcast=1, aligned at axis. */
START_TEST(arith_legacy_broadcast)
{
    static const struct {
        shape b, b_ref;
        int64_t axis; /* INT64_MIN: absent (trailing dims) */
    } cases[] = {
        {{1, {5}}, {4, {1, 1, 1, 5}}, INT64_MIN},
        {{2, {4, 5}}, {4, {1, 1, 4, 5}}, INT64_MIN},
        {{1, {3}}, {4, {1, 3, 1, 1}}, 1},         /* per channel */
        {{2, {2, 3}}, {4, {2, 3, 1, 1}}, 0},
        {{2, {3, 4}}, {4, {1, 3, 4, 1}}, -3},
        {{0, {0}}, {4, {1, 1, 1, 1}}, INT64_MIN}, /* scalar */
        {{1, {1}}, {4, {1, 1, 1, 1}}, INT64_MIN}, /* [1] */
    };
    shape a = {4, {2, 3, 4, 5}};
    static const int opsets[] = {1, 6};
    for (size_t o = 0; o < ARRAY_LEN(arith_ops); o++)
        for (size_t k = 0; k < ARRAY_LEN(cases); k++)
            for (size_t v = 0; v < ARRAY_LEN(opsets); v++) {
                oh_node h;
                oh_init(&h, arith_ops[o].op, opsets[v]);
                oh_attr_int(&h, "broadcast", 1);
                if (cases[k].axis != INT64_MIN) oh_attr_int(&h, "axis", cases[k].axis);
                if (opsets[v] == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
                onnxc_dtype dt = opsets[v] == 6 ? ONNXC_DTYPE_INT64 : ONNXC_DTYPE_FLOAT;
                check_binary(&h, arith_ops[o].fn, dt, &a, &cases[k].b, &cases[k].b_ref,
                             (unsigned)(k + o));
                oh_free(&h);
            }
    /* Equal shapes need no broadcast attribute. */
    oh_node h;
    oh_init(&h, "Sub", 6);
    check_binary(&h, ref_sub, ONNXC_DTYPE_DOUBLE, &a, &a, &a, 3);
    oh_free(&h);
}
END_TEST

START_TEST(arith_rejects)
{
    shape s345[2] = {{3, {3, 4, 5}}, {1, {5}}};
    shape same[2] = {{2, {2, 3}}, {2, {2, 3}}};
    shape bad[2] = {{2, {3, 4}}, {1, {5}}};
    const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    for (size_t o = 0; o < ARRAY_LEN(ops); o++) {
        /* opset 6 without broadcast=1 refuses what 7 broadcasts */
        expect_op_error(ops[o], 6, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, s345);
        expect_op_ok(ops[o], 7, 2, ONNXC_DTYPE_FLOAT, s345);
        expect_op_error(ops[o], 14, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, bad);
        /* element types by opset */
        expect_op_error(ops[o], 5, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_INT32, same);
        expect_op_ok(ops[o], 6, 2, ONNXC_DTYPE_INT32, same);
        expect_op_error(ops[o], 13, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_INT8, same);
        expect_op_error(ops[o], 13, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_UINT16, same);
        expect_op_ok(ops[o], 14, 2, ONNXC_DTYPE_UINT16, same);
        expect_op_error(ops[o], 14, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_FLOAT16, same);
        expect_op_error(ops[o], 14, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_BOOL, same);
        /* mixed types */
        onnxc_dtype mixed[2] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE};
        oh_node h;
        oh_init(&h, ops[o], 14);
        expect_code(run_shapes(&h, 2, mixed, same), ONNXC_ERR_MODEL);
        oh_free(&h);
        /* attributes: the legacy ones are gone at 7, consumed_inputs at 6 */
        oh_init(&h, ops[o], 7);
        oh_attr_int(&h, "broadcast", 1);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, s345), ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, ops[o], 6);
        oh_attr_ints(&h, "consumed_inputs", NULL, 0);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, same), ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, ops[o], 6);
        oh_attr_int(&h, "broadcast", 2);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, same), ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, ops[o], 6); /* B's [5] is not at A's axis 0 */
        oh_attr_int(&h, "broadcast", 1);
        oh_attr_int(&h, "axis", 0);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, s345), ONNXC_ERR_MODEL);
        oh_free(&h);
        /* a missing input */
        oh_init(&h, ops[o], 14);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 0}, same), ONNXC_ERR_MODEL);
        oh_free(&h);
    }
}
END_TEST

/* ---- Pow ---- */

/* x^y: floating point in double; an integer base with an integer exponent
 * exactly (wrapping, by repeated multiplication here); an integer base with
 * a real exponent truncated and saturated. */
static ref ref_pow(onnxc_dtype xt, const void *x, size_t ix, onnxc_dtype yt, const void *y,
                   size_t iy)
{
    if (is_float(xt)) return ref_f(pow(get_f(xt, x, ix), get_f(yt, y, iy)));
    int64_t base = get_i(xt, x, ix);
    if (!is_float(yt)) {
        int64_t e = is_unsigned(yt) ? (int64_t)get_u(yt, y, iy) : get_i(yt, y, iy);
        if (e < 0) return ref_bits(base == 1 ? 1 : base == -1 ? (e % 2 ? UINT64_MAX : 1) : 0);
        uint64_t r = 1;
        for (int64_t k = 0; k < e; k++) r *= (uint64_t)base; /* the tests keep e small */
        return ref_bits(r);
    }
    double v = pow((double)base, get_f(yt, y, iy));
    bool i32 = xt == ONNXC_DTYPE_INT32;
    double lim = i32 ? 2147483648.0 : 9223372036854775808.0;
    if (isnan(v)) return ref_bits(0);
    if (v >= lim) return ref_bits(i32 ? INT32_MAX : INT64_MAX);
    if (v < -lim) return ref_bits((uint64_t)(i32 ? (int64_t)INT32_MIN : INT64_MIN));
    return ref_bits((uint64_t)(int64_t)v);
}

/* Runs Pow on x and y of the given types and shapes and checks every element. */
static void check_pow(int opset, onnxc_dtype xt, const shape *sx, onnxc_dtype yt, const shape *sy,
                      const void *xdata, const void *ydata)
{
    oc_tensor tx = oh_tensor(xt, sx->rank, sx->dims, (void *)xdata);
    oc_tensor ty = oh_tensor(yt, sy->rank, sy->dims, (void *)ydata);
    const oc_tensor *in[] = {&tx, &ty};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Pow", opset);
    expect_ok(oh_run(&h, 2, in, 1, out, NULL));
    shape so = naive_bcast_shape(sx, sy);
    expect_shape(&out[0], xt, &so);
    size_t n = shape_count(&so);
    void *want = malloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++)
        put_ref(xt, want, i,
                ref_pow(xt, xdata, naive_bcast_index(&so, sx, i), yt, ydata,
                        naive_bcast_index(&so, sy, i)));
    expect_elements(xt, out[0].data, want, n, "Pow");
    free(want);
    oh_free_outputs(1, out);
    oh_free(&h);
}

/* Small integers, so that powers stay meaningful: bases in [-5, 5],
 * exponents in [-2, 12]; floats with fractions. */
static void fill_pow(onnxc_dtype dt, void *p, size_t n, unsigned seed, bool exponent)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 3;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_random(&s);
        int64_t v = exponent ? (int64_t)(r % 15) - 2 : (int64_t)(r % 11) - 5;
        if (is_unsigned(dt) && v < 0) v = -v;
        if (is_float(dt))
            put_ref(dt, p, i, ref_f((double)v + (exponent ? 0.0 : (double)(r >> 60) / 16.0)));
        else
            put_ref(dt, p, i, ref_bits((uint64_t)v));
    }
}

START_TEST(pow_type_combinations)
{
    static const onnxc_dtype bases[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT32,
                                        ONNXC_DTYPE_INT64};
    for (size_t b = 0; b < ARRAY_LEN(bases); b++)
        for (size_t e = 0; e < ARRAY_LEN(numeric_dtypes); e++) {
            const shape *sx = &bcast_cases[_i].a, *sy = &bcast_cases[_i].b;
            void *x = malloc(shape_count(sx) * 8 + 1), *y = malloc(shape_count(sy) * 8 + 1);
            fill_pow(bases[b], x, shape_count(sx), (unsigned)(b + _i), false);
            fill_pow(numeric_dtypes[e], y, shape_count(sy), (unsigned)(e + 7 * _i), true);
            check_pow(_i % 2 ? 15 : 26, bases[b], sx, numeric_dtypes[e], sy, x, y);
            free(x);
            free(y);
        }
}
END_TEST

START_TEST(pow_by_hand)
{
    static const int64_t d8[1] = {8};
    /* float32 ^ float32, and the special cases of pow() */
    float fx[8] = {2, -2, -8, 0, 4, NAN, 1, -1};
    float fy[8] = {10, 3, 1.0f / 3, -1, 0.5f, 0, NAN, INFINITY};
    const float fw[8] = {1024, -8, NAN, INFINITY, 2, 1, 1, 1};
    /* int64 ^ int64: exact beyond 2^53, wrapping, negative exponents */
    int64_t ix[8] = {3, 3, 2, 1, -1, 0, 7, -2};
    int64_t iy[8] = {39, 41, 64, -5, -3, -1, 0, 63};
    const int64_t iw[8] = {INT64_C(4052555153018976267), (int64_t)(UINT64_C(4052555153018976267) * 9),
                           0, 1, -1, 0, 1, INT64_MIN};
    /* int32 ^ float32: truncated toward zero, saturated, NaN -> 0 */
    int32_t jx[8] = {2, 2, -2, 10, 2, -8, 3, 0};
    float jy[8] = {0.5f, 40, 31, -1, 31, 1.0f / 3, 2.5f, -1};
    const int32_t jw[8] = {1, INT32_MAX, INT32_MIN, 0, INT32_MAX, 0, 15, INT32_MAX};
    struct {
        onnxc_dtype xt, yt;
        void *x, *y;
        const void *want;
        size_t es;
    } cases[] = {{ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_FLOAT, fx, fy, fw, 4},
                 {ONNXC_DTYPE_INT64, ONNXC_DTYPE_INT64, ix, iy, iw, 8},
                 {ONNXC_DTYPE_INT32, ONNXC_DTYPE_FLOAT, jx, jy, jw, 4}};
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        oc_tensor tx = oh_tensor(cases[k].xt, 1, d8, cases[k].x);
        oc_tensor ty = oh_tensor(cases[k].yt, 1, d8, cases[k].y);
        const oc_tensor *in[] = {&tx, &ty};
        oc_tensor out[1] = {{0}};
        oh_node h;
        oh_init(&h, "Pow", 15);
        expect_ok(oh_run(&h, 2, in, 1, out, NULL));
        ck_assert_int_eq(out[0].dtype, cases[k].xt);
        if (cases[k].xt == ONNXC_DTYPE_FLOAT) {
            const float *y = out[0].data;
            for (int i = 0; i < 8; i++)
                ck_assert_msg(isnan(fw[i]) ? isnan(y[i]) : y[i] == fw[i], "Pow %d: %g", i, y[i]);
        } else {
            for (int i = 0; i < 8; i++)
                ck_assert_msg(memcmp((char *)out[0].data + i * cases[k].es,
                                     (const char *)cases[k].want + i * cases[k].es, cases[k].es) == 0,
                              "Pow case %zu element %d", k, i);
        }
        oh_free_outputs(1, out);
        oh_free(&h);
    }
}
END_TEST

START_TEST(pow_legacy_and_rejects)
{
    /* opset 1-6: the legacy broadcast attributes, float types only */
    shape sx = {3, {2, 3, 4}}, sy = {1, {3}};
    float x[24], y[3] = {2, 0.5f, -1};
    oh_fill(x, 24, 4, 0.5f, 3);
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, sx.dims, x), ty = oh_tensor(ONNXC_DTYPE_FLOAT, 1, sy.dims, y);
    const oc_tensor *in[] = {&tx, &ty};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Pow", 1);
    oh_attr_int(&h, "broadcast", 1);
    oh_attr_int(&h, "axis", 1);
    expect_ok(oh_run(&h, 2, in, 1, out, NULL));
    for (int i = 0; i < 24; i++) {
        double want = pow(x[i], y[(i / 4) % 3]);
        ck_assert_msg(fabs(((float *)out[0].data)[i] - want) <= 1e-6 * fabs(want), "element %d", i);
    }
    oh_free_outputs(1, out);
    oh_free(&h);

    shape same[2] = {{1, {3}}, {1, {3}}};
    onnxc_dtype f_i64[2] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT64};
    onnxc_dtype i32_f[2] = {ONNXC_DTYPE_INT32, ONNXC_DTYPE_FLOAT};
    onnxc_dtype i8_f[2] = {ONNXC_DTYPE_INT8, ONNXC_DTYPE_FLOAT};
    onnxc_dtype f_f16[2] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_FLOAT16};
    onnxc_dtype f_bool[2] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_BOOL};
    const struct {
        int opset;
        const onnxc_dtype *dts;
        onnxc_code code;
    } bad[] = {
        {11, f_i64, ONNXC_ERR_MODEL},       /* mixed types before 12 */
        {11, i32_f, ONNXC_ERR_MODEL},       /* integer base before 12 */
        {15, i8_f, ONNXC_ERR_UNSUPPORTED},  /* int8 base: never allowed */
        {15, f_f16, ONNXC_ERR_UNSUPPORTED},
        {15, f_bool, ONNXC_ERR_UNSUPPORTED},
    };
    for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
        oh_init(&h, "Pow", bad[k].opset);
        expect_code(run_shapes(&h, 2, bad[k].dts, same), bad[k].code);
        oh_free(&h);
    }
    oh_init(&h, "Pow", 12);
    expect_ok(run_shapes(&h, 2, f_i64, same));
    oh_free(&h);
    oh_init(&h, "Pow", 1); /* Pow never had consumed_inputs */
    oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, same), ONNXC_ERR_MODEL);
    oh_free(&h);
    shape nobcast[2] = {{2, {2, 3}}, {1, {4}}};
    oh_init(&h, "Pow", 13);
    expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, nobcast), ONNXC_ERR_MODEL);
    oh_free(&h);
}
END_TEST

/* ---- Sum, Mean, Max, Min ---- */

typedef enum { V_SUM, V_MEAN, V_MAX, V_MIN } variadic_kind;
static const char *const variadic_names[] = {"Sum", "Mean", "Max", "Min"};

/* One output element from the inputs' elements at idx: in double for
 * floats (NaN wins for Max/Min), compared as the type for integers. */
static ref ref_variadic(variadic_kind kind, onnxc_dtype dt, void *const *in, const size_t *idx, int n)
{
    if (is_float(dt)) {
        double acc = get_f(dt, in[0], idx[0]);
        for (int k = 1; k < n; k++) {
            double v = get_f(dt, in[k], idx[k]);
            if (kind == V_SUM || kind == V_MEAN)
                acc += v;
            else if (isnan(acc) || isnan(v))
                acc = NAN;
            else
                acc = kind == V_MAX ? fmax(acc, v) : fmin(acc, v);
        }
        return ref_f(kind == V_MEAN ? acc / n : acc);
    }
    uint64_t best = get_u(dt, in[0], idx[0]);
    for (int k = 1; k < n; k++) {
        uint64_t v = get_u(dt, in[k], idx[k]);
        bool greater = is_unsigned(dt) ? v > best : get_i(dt, in[k], idx[k]) > get_i(dt, &best, 0);
        bool less = is_unsigned(dt) ? v < best : get_i(dt, in[k], idx[k]) < get_i(dt, &best, 0);
        if ((kind == V_MAX && greater) || (kind == V_MIN && less)) best = v;
    }
    return ref_bits(best);
}

static void check_variadic(variadic_kind kind, int opset, onnxc_dtype dt, const shape *shapes, int n,
                           unsigned seed)
{
    void *data[6];
    oc_tensor t[6];
    const oc_tensor *in[6];
    shape so = {0, {0}};
    for (int k = 0; k < n; k++) {
        data[k] = alloc_filled(dt, &shapes[k], seed + (unsigned)k, k == n - 1);
        t[k] = oh_tensor(dt, shapes[k].rank, shapes[k].dims, data[k]);
        in[k] = &t[k];
        so = naive_bcast_shape(&so, &shapes[k]);
    }
    oh_node h;
    oh_init(&h, variadic_names[kind], opset);
    oc_tensor out[1] = {{0}};
    expect_ok(oh_run(&h, n, in, 1, out, NULL));
    expect_shape(&out[0], dt, &so);
    size_t count = shape_count(&so);
    void *want = malloc(count * 8 + 1);
    for (size_t i = 0; i < count; i++) {
        size_t idx[6] = {0};
        for (int k = 0; k < n; k++) idx[k] = naive_bcast_index(&so, &shapes[k], i);
        put_ref(dt, want, i, ref_variadic(kind, dt, data, idx, n));
    }
    expect_elements(dt, out[0].data, want, count, variadic_names[kind]);
    free(want);
    oh_free_outputs(1, out);
    oh_free(&h);
    for (int k = 0; k < n; k++) free(data[k]);
}

static const struct {
    int n;
    shape s[5];
} variadic_cases[] = {
    {1, {{3, {3, 4, 5}}}},
    {2, {{3, {3, 4, 5}}, {3, {3, 4, 5}}}},
    {3, {{1, {7}}, {1, {7}}, {1, {7}}}},
    {2, {{3, {3, 1, 5}}, {2, {4, 1}}}},                         /* both broadcast */
    {3, {{0, {0}}, {2, {2, 3}}, {3, {4, 1, 3}}}},              /* scalar first, growing rank */
    {4, {{4, {2, 3, 4, 5}}, {3, {3, 1, 1}}, {1, {5}}, {0, {0}}}},
    {5, {{2, {1, 6}}, {2, {5, 1}}, {1, {6}}, {2, {5, 6}}, {1, {1}}}},
    {2, {{2, {0, 3}}, {1, {3}}}},                              /* empty */
};

START_TEST(variadic_broadcast)
{
    static const onnxc_dtype float_dts[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE};
    const shape *s = variadic_cases[_i].s;
    int n = variadic_cases[_i].n;
    for (variadic_kind kind = V_SUM; kind <= V_MIN; kind++) {
        bool ints = kind == V_MAX || kind == V_MIN;
        const onnxc_dtype *dts = ints ? numeric_dtypes : float_dts;
        size_t ndts = ints ? ARRAY_LEN(numeric_dtypes) : ARRAY_LEN(float_dts);
        for (size_t t = 0; t < ndts; t++)
            check_variadic(kind, _i % 2 ? (ints ? 12 : 8) : 13, dts[t], s, n,
                           (unsigned)(_i * 13 + t + kind));
    }
}
END_TEST

/* Opsets 1-7 take equal shapes only. */
START_TEST(variadic_legacy)
{
    shape three[3] = {{2, {3, 5}}, {2, {3, 5}}, {2, {3, 5}}};
    shape unequal[2] = {{2, {3, 5}}, {1, {5}}};
    for (variadic_kind kind = V_SUM; kind <= V_MIN; kind++) {
        check_variadic(kind, 6, ONNXC_DTYPE_FLOAT, three, 3, 1);
        check_variadic(kind, 7, ONNXC_DTYPE_DOUBLE, three, 2, 2);
        oh_node h;
        oh_init(&h, variadic_names[kind], 1);
        oh_attr_ints(&h, "consumed_inputs", NULL, 0);
        expect_ok(run_shapes(&h, 3, (onnxc_dtype[]){1, 1, 1}, three));
        oh_free(&h);
        expect_op_error(variadic_names[kind], 7, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, unequal);
        expect_op_ok(variadic_names[kind], 8, 2, ONNXC_DTYPE_FLOAT, unequal);
    }
}
END_TEST

START_TEST(variadic_rejects)
{
    shape two[2] = {{1, {4}}, {1, {4}}};
    shape bad[2] = {{1, {4}}, {1, {3}}};
    for (variadic_kind kind = V_SUM; kind <= V_MIN; kind++) {
        const char *op = variadic_names[kind];
        expect_op_error(op, 13, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, bad);
        expect_op_error(op, 13, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_FLOAT16, two);
        oh_node h;
        oh_init(&h, op, 13);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE}, two),
                    ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, op, 13);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT, 0}, two), ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, op, 6);
        oh_attr_ints(&h, "consumed_inputs", NULL, 0);
        expect_code(run_shapes(&h, 2, (onnxc_dtype[]){1, 1}, two), ONNXC_ERR_MODEL);
        oh_free(&h);
    }
    /* Sum and Mean: floating point only; Max and Min: integers from opset 12 */
    expect_op_error("Sum", 13, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_INT32, two);
    expect_op_error("Mean", 13, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_INT64, two);
    expect_op_error("Max", 11, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_INT64, two);
    expect_op_error("Min", 11, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_UINT8, two);
    expect_op_ok("Max", 12, 2, ONNXC_DTYPE_INT64, two);
    expect_op_error("Max", 13, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_BOOL, two);
}
END_TEST

/* numpy's maximum/minimum: NaN on either side wins; infinities order. */
START_TEST(max_min_nan)
{
    static const int64_t dims[1] = {5};
    float a[5] = {NAN, 1, NAN, -INFINITY, 2}, b[5] = {1, NAN, NAN, 3, INFINITY};
    oc_tensor ta = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, a), tb = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, b);
    const oc_tensor *in[] = {&ta, &tb};
    const float want_max[5] = {NAN, NAN, NAN, 3, INFINITY}, want_min[5] = {NAN, NAN, NAN, -INFINITY, 2};
    for (int k = 0; k < 2; k++) {
        oh_node h;
        oh_init(&h, k ? "Min" : "Max", 13);
        oc_tensor out[1] = {{0}};
        expect_ok(oh_run(&h, 2, in, 1, out, NULL));
        const float *y = out[0].data, *w = k ? want_min : want_max;
        for (int i = 0; i < 5; i++)
            ck_assert_msg(isnan(w[i]) ? isnan(y[i]) : y[i] == w[i], "%s %d", k ? "Min" : "Max", i);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
}
END_TEST

/* ---- unary math and activations ---- */

typedef ref (*unary_ref)(onnxc_dtype dt, const void *x, size_t i, const oc_unary_params *p);

/* max(0, min(1, v)), NaN kept (fmax/fmin would drop it). */
static double clamp01(double v) { return isnan(v) ? v : v < 0 ? 0 : v > 1 ? 1 : v; }

#define FLOAT_REF(name, expr)                                                                   \
    static ref ref_##name(onnxc_dtype dt, const void *xp, size_t i, const oc_unary_params *p) \
    {                                                                                          \
        double x = get_f(dt, xp, i);                                                           \
        (void)p;                                                                               \
        return ref_f(expr);                                                                    \
    }

FLOAT_REF(sqrt, sqrt(x))
FLOAT_REF(exp, exp(x))
FLOAT_REF(reciprocal, 1 / x)
FLOAT_REF(floor, floor(x))
FLOAT_REF(ceil, ceil(x))
FLOAT_REF(tanh, tanh(x))
FLOAT_REF(sigmoid, 1 / (1 + exp(-x)))
FLOAT_REF(softplus, log(1 + exp(x)))
FLOAT_REF(hardswish, x * clamp01(x / 6 + 0.5))
FLOAT_REF(leakyrelu, x < 0 ? p->alpha * x : x)
FLOAT_REF(elu, x < 0 ? p->alpha * (exp(x) - 1) : x)
FLOAT_REF(selu, x > 0 ? p->gamma * x : p->gamma * (p->alpha * exp(x) - p->alpha))
FLOAT_REF(hardsigmoid, clamp01(p->alpha * x + p->beta))

static ref ref_neg(onnxc_dtype dt, const void *x, size_t i, const oc_unary_params *p)
{
    if (is_float(dt)) return ref_f(-get_f(dt, x, i));
    return ref_bits(0 - get_u(dt, x, i));
}

static ref ref_abs(onnxc_dtype dt, const void *x, size_t i, const oc_unary_params *p)
{
    if (is_float(dt)) return ref_f(fabs(get_f(dt, x, i)));
    if (is_unsigned(dt) || get_i(dt, x, i) >= 0) return ref_bits(get_u(dt, x, i));
    return ref_bits(0 - get_u(dt, x, i));
}

/* Integers: erf in double, truncated toward zero: 0, or +-1 where the
 * double erf rounds to +-1 (|x| >= 6). */
static ref ref_erf(onnxc_dtype dt, const void *x, size_t i, const oc_unary_params *p)
{
    double v = erf(get_f(dt, x, i));
    return is_float(dt) ? ref_f(v) : ref_bits((uint64_t)(int64_t)v);
}

/* Runs h (attributes set) on an odd-shaped x with the special values and
 * checks every element. */
static void check_unary(oh_node *h, unary_ref fn, onnxc_dtype dt, const oc_unary_params *p,
                        unsigned seed)
{
    shape s = {3, {3, 5, 7}};
    void *x = alloc_filled(dt, &s, seed, true);
    oc_tensor tx = oh_tensor(dt, s.rank, s.dims, x);
    const oc_tensor *in[] = {&tx};
    oc_tensor out[1] = {{0}};
    expect_ok(oh_run(h, 1, in, 1, out, NULL));
    expect_shape(&out[0], dt, &s);
    size_t n = shape_count(&s);
    void *want = malloc(n * 8);
    for (size_t i = 0; i < n; i++) put_ref(dt, want, i, fn(dt, x, i, p));
    expect_elements(dt, out[0].data, want, n, h->node.op_type);
    free(want);
    oh_free_outputs(1, out);
    free(x);
}

static const struct {
    const char *op;
    unary_ref fn;
    int since;      /* the op's first opset */
    bool ints;      /* signed integers too (from opset 6) */
    bool unsigned_ints;
} unary_ops[] = {
    {"Sqrt", ref_sqrt, 1, false, false},       {"Exp", ref_exp, 1, false, false},
    {"Reciprocal", ref_reciprocal, 1, false, false}, {"Floor", ref_floor, 1, false, false},
    {"Ceil", ref_ceil, 1, false, false},       {"Neg", ref_neg, 1, true, false},
    {"Abs", ref_abs, 1, true, true},           {"Erf", ref_erf, 9, true, true},
    {"Sigmoid", ref_sigmoid, 1, false, false}, {"Tanh", ref_tanh, 1, false, false},
    {"Softplus", ref_softplus, 1, false, false}, {"HardSwish", ref_hardswish, 14, false, false},
};

START_TEST(unary_every_dtype)
{
    const char *op = unary_ops[_i].op;
    for (size_t t = 0; t < ARRAY_LEN(numeric_dtypes); t++) {
        onnxc_dtype dt = numeric_dtypes[t];
        bool ok = is_float(dt) || (unary_ops[_i].ints && !is_unsigned(dt)) ||
                  (unary_ops[_i].unsigned_ints && is_unsigned(dt));
        int opset = unary_ops[_i].since > 13 ? unary_ops[_i].since : 13;
        oh_node h;
        oh_init(&h, op, opset);
        if (ok)
            check_unary(&h, unary_ops[_i].fn, dt, NULL, (unsigned)(t + 3 * _i));
        else
            expect_code(run_shapes(&h, 1, &dt, &(shape){1, {4}}), ONNXC_ERR_UNSUPPORTED);
        oh_free(&h);
    }
}
END_TEST

START_TEST(unary_opsets)
{
    const char *op = unary_ops[_i].op;
    int since = unary_ops[_i].since;
    shape s = {2, {2, 3}};
    static const int opsets[] = {1, 5, 6, 9, 13, 14, 22, 26};
    for (size_t k = 0; k < ARRAY_LEN(opsets); k++) {
        oh_node h;
        oh_init(&h, op, opsets[k]);
        if (opsets[k] < since) {
            expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
        } else {
            check_unary(&h, unary_ops[_i].fn, ONNXC_DTYPE_DOUBLE, NULL, (unsigned)k);
            if (unary_ops[_i].ints && opsets[k] >= 6)
                expect_ok(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_INT32}, &s));
            if (unary_ops[_i].ints && opsets[k] < 6)
                expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_INT32}, &s),
                            ONNXC_ERR_MODEL);
        }
        oh_free(&h);
    }
    /* consumed_inputs: opsets 1-5 only, for the ops that had it */
    bool had = since == 1 && strcmp(op, "Softplus") != 0;
    oh_node h;
    oh_init(&h, op, since < 5 ? 5 : since);
    oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    onnxc_status *st = run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s);
    if (had)
        expect_ok(st);
    else
        expect_code(st, ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, op, 13);
    oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, op, 22);
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT16}, &s), ONNXC_ERR_UNSUPPORTED);
    oh_free(&h);
    oh_init(&h, op, 22);
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){0}, &s), ONNXC_ERR_MODEL); /* input missing */
    oh_free(&h);
    oh_init(&h, op, 22); /* empty tensors are fine */
    expect_ok(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &(shape){2, {0, 3}}));
    oh_free(&h);
}
END_TEST

/* Wrapping at the extremes; -0 and NaN for floats. */
START_TEST(neg_abs_by_hand)
{
    static const int64_t dims[1] = {4};
    int32_t x[4] = {INT32_MIN, -5, 0, INT32_MAX};
    const int32_t neg[4] = {INT32_MIN, 5, 0, -INT32_MAX}, abs_[4] = {INT32_MIN, 5, 0, INT32_MAX};
    float f[4] = {-0.0f, NAN, -INFINITY, 2};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_INT32, 1, dims, x), tf = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, f);
    for (int k = 0; k < 2; k++) {
        oh_node h;
        oh_init(&h, k ? "Abs" : "Neg", 13);
        const oc_tensor *in[] = {&tx};
        oc_tensor out[1] = {{0}};
        expect_ok(oh_run(&h, 1, in, 1, out, NULL));
        ck_assert(memcmp(out[0].data, k ? abs_ : neg, sizeof x) == 0);
        oh_free_outputs(1, out);
        in[0] = &tf;
        expect_ok(oh_run(&h, 1, in, 1, out, NULL));
        const float *y = out[0].data;
        ck_assert(!signbit(y[0])); /* Neg(-0) = +0, Abs(-0) = +0 */
        ck_assert(isnan(y[1]));
        ck_assert(y[2] == INFINITY);
        ck_assert(y[3] == (k ? 2 : -2));
        oh_free_outputs(1, out);
        oh_free(&h);
    }
}
END_TEST

/* ---- activations with attributes ---- */

static const struct {
    const char *op;
    unary_ref fn;
    float defaults[3]; /* alpha, beta, gamma: float attributes */
    const char *attrs[2];
} param_ops[] = {
    {"LeakyRelu", ref_leakyrelu, {0.01f, 0, 0}, {"alpha", NULL}},
    {"Elu", ref_elu, {1.0f, 0, 0}, {"alpha", NULL}},
    {"Selu", ref_selu, {1.67326319217681884765625f, 0, 1.05070102214813232421875f}, {"alpha", "gamma"}},
    {"HardSigmoid", ref_hardsigmoid, {0.2f, 0.5f, 0}, {"alpha", "beta"}},
};

/* The value of a named parameter in p. */
static double *param_field(oc_unary_params *p, const char *name)
{
    return name[0] == 'a' ? &p->alpha : name[0] == 'b' ? &p->beta : &p->gamma;
}

START_TEST(param_activations)
{
    static const int opsets[] = {1, 6, 16, 22, 26};
    static const onnxc_dtype dts[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE};
    for (size_t k = 0; k < ARRAY_LEN(opsets); k++)
        for (size_t t = 0; t < ARRAY_LEN(dts); t++) {
            /* The defaults. (They are floats in the table: GCC 12.2 at -O2
             * dropped a double -> float -> double round trip here.) */
            const float *d = param_ops[_i].defaults;
            oc_unary_params p = {d[0], d[1], d[2]};
            oh_node h;
            oh_init(&h, param_ops[_i].op, opsets[k]);
            if (opsets[k] == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
            check_unary(&h, param_ops[_i].fn, dts[t], &p, (unsigned)(k + t));
            oh_free(&h);
            /* given values, including a negative and a zero one */
            static const float given[3] = {-0.75f, 2.5f, 0.0f};
            oh_init(&h, param_ops[_i].op, opsets[k]);
            for (int a = 0; a < 2 && param_ops[_i].attrs[a]; a++) {
                float v = given[(k + (size_t)a) % 3];
                oh_attr_float(&h, param_ops[_i].attrs[a], v);
                *param_field(&p, param_ops[_i].attrs[a]) = v;
            }
            check_unary(&h, param_ops[_i].fn, dts[t], &p, (unsigned)(k * 3 + t));
            oh_free(&h);
        }
}
END_TEST

START_TEST(param_activations_reject)
{
    shape s = {1, {4}};
    const char *op = param_ops[_i].op;
    oh_node h;
    oh_init(&h, op, 13);
    oh_attr_int(&h, "alpha", 1); /* an int where a float belongs */
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, op, 13);
    oh_attr_float(&h, "delta", 1.0f); /* unknown */
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    if (!param_ops[_i].attrs[1] || strcmp(param_ops[_i].attrs[1], "beta") != 0) {
        oh_init(&h, op, 13); /* a parameter of another activation */
        oh_attr_float(&h, "beta", 1.0f);
        expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
        oh_free(&h);
    }
    oh_init(&h, op, 6);
    oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    expect_code(run_shapes(&h, 1, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT}, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    static const onnxc_dtype unsupported[] = {ONNXC_DTYPE_INT32, ONNXC_DTYPE_FLOAT16, ONNXC_DTYPE_UINT8};
    for (size_t t = 0; t < ARRAY_LEN(unsupported); t++) {
        oh_init(&h, op, 22);
        expect_code(run_shapes(&h, 1, &unsupported[t], &s), ONNXC_ERR_UNSUPPORTED);
        oh_free(&h);
    }
}
END_TEST

/* A few values by hand, against the formulas of the spec. */
START_TEST(activations_by_hand)
{
    static const int64_t dims[1] = {5};
    float x[5] = {-2, -0.5f, 0, 1.5f, 4};
    static const struct {
        const char *op;
        float want[5];
    } cases[] = {
        {"LeakyRelu", {-0.02f, -0.005f, 0, 1.5f, 4}},
        {"Elu", {-0.86466472f, -0.39346934f, 0, 1.5f, 4}},
        {"HardSigmoid", {0.1f, 0.4f, 0.5f, 0.8f, 1}},
        {"HardSwish", {-0.33333333f, -0.20833333f, 0, 1.125f, 4}},
        {"Sigmoid", {0.11920292f, 0.37754067f, 0.5f, 0.81757448f, 0.98201379f}},
        {"Softplus", {0.12692801f, 0.47407698f, 0.69314718f, 1.70141328f, 4.01814993f}},
        {"Selu", {-1.52016647f, -0.69175231f, 0, 1.57605153f, 4.20280409f}},
    };
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, x);
    const oc_tensor *in[] = {&tx};
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        oh_node h;
        oh_init(&h, cases[k].op, 22);
        oc_tensor out[1] = {{0}};
        expect_ok(oh_run(&h, 1, in, 1, out, NULL));
        long bad = oh_compare(out[0].data, cases[k].want, 5);
        ck_assert_msg(bad < 0, "%s element %ld: %g", cases[k].op, bad,
                      bad < 0 ? 0.0 : ((float *)out[0].data)[bad]);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
}
END_TEST

/* ---- PRelu ---- */

static ref ref_prelu(onnxc_dtype dt, const void *x, size_t ix, const void *slope, size_t is)
{
    if (is_float(dt)) {
        double v = get_f(dt, x, ix);
        return ref_f(v < 0 ? v * get_f(dt, slope, is) : v);
    }
    if (is_unsigned(dt) || get_i(dt, x, ix) >= 0) return ref_bits(get_u(dt, x, ix));
    return ref_bits(get_u(dt, x, ix) * get_u(dt, slope, is));
}

START_TEST(prelu_unidirectional)
{
    static const shape slopes[] = {{1, {5}}, {2, {4, 1}}, {3, {3, 4, 5}}, {1, {1}},
                                   {0, {0}}, {3, {1, 4, 5}}, {2, {1, 1}}};
    static const onnxc_dtype dts[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT32,
                                      ONNXC_DTYPE_INT64, ONNXC_DTYPE_UINT32, ONNXC_DTYPE_UINT64};
    shape x = {3, {3, 4, 5}};
    for (size_t k = 0; k < ARRAY_LEN(slopes); k++)
        for (size_t t = 0; t < ARRAY_LEN(dts); t++) {
            oh_node h;
            oh_init(&h, "PRelu", k % 2 ? 9 : 16);
            check_binary(&h, ref_prelu, dts[t], &x, &slopes[k], &slopes[k], (unsigned)(k * 7 + t));
            oh_free(&h);
        }
    oh_node h;
    oh_init(&h, "PRelu", 7);
    check_binary(&h, ref_prelu, ONNXC_DTYPE_FLOAT, &x, &slopes[1], &slopes[1], 99);
    oh_free(&h);
}
END_TEST

/* Opsets 1-6: a one-element slope for all, or one per channel (X's dim 1). */
START_TEST(prelu_legacy)
{
    shape x = {4, {2, 3, 4, 5}}, chan = {1, {3}}, chan_ref = {4, {1, 3, 1, 1}};
    shape one = {1, {1}}, one_ref = {0, {0}}, ones = {3, {1, 1, 1}};
    static const int opsets[] = {1, 6};
    for (size_t k = 0; k < ARRAY_LEN(opsets); k++) {
        oh_node h;
        oh_init(&h, "PRelu", opsets[k]);
        if (opsets[k] == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
        check_binary(&h, ref_prelu, ONNXC_DTYPE_FLOAT, &x, &chan, &chan_ref, 1);
        check_binary(&h, ref_prelu, ONNXC_DTYPE_DOUBLE, &x, &one, &one_ref, 2);
        check_binary(&h, ref_prelu, ONNXC_DTYPE_FLOAT, &x, &ones, &one_ref, 3);
        oh_free(&h);
    }
    /* [5] is a channel slope only where X's dim 1 is 5 */
    shape bad[2] = {{4, {2, 3, 4, 5}}, {1, {5}}};
    expect_op_error("PRelu", 6, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, bad);
    expect_op_ok("PRelu", 7, 2, ONNXC_DTYPE_FLOAT, bad);
}
END_TEST

START_TEST(prelu_rejects)
{
    shape grows[2] = {{2, {4, 5}}, {3, {3, 4, 5}}};   /* the slope would grow X */
    shape widens[2] = {{2, {4, 1}}, {2, {4, 5}}};
    shape mismatch[2] = {{2, {4, 5}}, {1, {4}}};
    shape ok[2] = {{2, {4, 5}}, {1, {5}}};
    expect_op_error("PRelu", 16, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, grows);
    expect_op_error("PRelu", 16, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, widens);
    expect_op_error("PRelu", 16, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_FLOAT, mismatch);
    expect_op_error("PRelu", 8, ONNXC_ERR_MODEL, 2, ONNXC_DTYPE_INT32, ok);   /* ints from 9 */
    expect_op_error("PRelu", 16, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_INT8, ok);
    expect_op_error("PRelu", 16, ONNXC_ERR_UNSUPPORTED, 2, ONNXC_DTYPE_FLOAT16, ok);
    oh_node h;
    oh_init(&h, "PRelu", 16);
    expect_code(run_shapes(&h, 2, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE}, ok),
                ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, "PRelu", 16);
    expect_code(run_shapes(&h, 2, (onnxc_dtype[]){ONNXC_DTYPE_FLOAT, 0}, ok), ONNXC_ERR_MODEL);
    oh_free(&h);
}
END_TEST

/* ---- Clip ---- */

/* min(max(x, lo), hi) with absent bounds skipped; NaN stays NaN. */
static ref ref_clip(onnxc_dtype dt, const void *x, size_t i, const void *lo, const void *hi)
{
    if (is_float(dt)) {
        double v = get_f(dt, x, i);
        if (lo && v < get_f(dt, lo, 0)) v = get_f(dt, lo, 0);
        if (hi && v > get_f(dt, hi, 0)) v = get_f(dt, hi, 0);
        return ref_f(v);
    }
    uint64_t v = get_u(dt, x, i);
    bool u = is_unsigned(dt);
    if (lo && (u ? v < get_u(dt, lo, 0) : get_i(dt, x, i) < get_i(dt, lo, 0))) v = get_u(dt, lo, 0);
    uint64_t cur = v;
    if (hi && (u ? cur > get_u(dt, hi, 0) : get_i(dt, &cur, 0) > get_i(dt, hi, 0)))
        v = get_u(dt, hi, 0);
    return ref_bits(v);
}

/* Clip from opset 11 on: min and max as inputs, either omitted. */
static void check_clip_inputs(int opset, onnxc_dtype dt, const void *lo, const void *hi,
                              const shape *bound_shape, unsigned seed)
{
    shape s = {3, {2, 7, 3}};
    void *x = alloc_filled(dt, &s, seed, true);
    oc_tensor tx = oh_tensor(dt, s.rank, s.dims, x);
    oc_tensor tlo = oh_tensor(dt, bound_shape->rank, bound_shape->dims, (void *)lo);
    oc_tensor thi = oh_tensor(dt, bound_shape->rank, bound_shape->dims, (void *)hi);
    const oc_tensor *in[] = {&tx, lo ? &tlo : NULL, hi ? &thi : NULL};
    int n_in = hi ? 3 : lo ? 2 : 1;
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Clip", opset);
    expect_ok(oh_run(&h, n_in, in, 1, out, NULL));
    expect_shape(&out[0], dt, &s);
    size_t n = shape_count(&s);
    void *want = malloc(n * 8);
    for (size_t i = 0; i < n; i++) put_ref(dt, want, i, ref_clip(dt, x, i, lo, hi));
    expect_elements(dt, out[0].data, want, n, "Clip");
    free(want);
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
}

START_TEST(clip_bound_inputs)
{
    static const shape scalar = {0, {0}}, one = {1, {1}};
    for (size_t t = 0; t < ARRAY_LEN(numeric_dtypes); t++) {
        onnxc_dtype dt = numeric_dtypes[t];
        unsigned char lo[8], hi[8];
        /* bounds taken from the data's own distribution; lo > hi on some */
        fill(dt, lo, 1, (unsigned)t * 2 + 1, false);
        fill(dt, hi, 1, (unsigned)t * 2 + 2, false);
        if (is_float(dt)) {
            put_ref(dt, lo, 0, ref_f(-1.5));
            put_ref(dt, hi, 0, ref_f(2.25));
        }
        int opset = 12 + (int)t % 15;
        check_clip_inputs(opset, dt, lo, hi, &scalar, (unsigned)t);
        check_clip_inputs(opset, dt, lo, NULL, &scalar, (unsigned)t + 1);  /* max omitted */
        check_clip_inputs(opset, dt, NULL, hi, &scalar, (unsigned)t + 2);  /* min omitted */
        check_clip_inputs(opset, dt, NULL, NULL, &scalar, (unsigned)t + 3);
        check_clip_inputs(opset, dt, hi, lo, &one, (unsigned)t + 4);      /* swapped, [1] */
    }
    float lo = -1, hi = 1;
    check_clip_inputs(11, ONNXC_DTYPE_FLOAT, &lo, &hi, &scalar, 5);
}
END_TEST

/* min > max: every element becomes max. */
START_TEST(clip_min_greater_than_max)
{
    static const int64_t dims[1] = {5}, none[1] = {0};
    float x[5] = {-3, 0, 1.5f, 10, NAN}, lo = 2, hi = 1;
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, x);
    oc_tensor tlo = oh_tensor(ONNXC_DTYPE_FLOAT, 0, none, &lo), thi = oh_tensor(ONNXC_DTYPE_FLOAT, 0, none, &hi);
    const oc_tensor *in[] = {&tx, &tlo, &thi};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Clip", 13);
    expect_ok(oh_run(&h, 3, in, 1, out, NULL));
    const float *y = out[0].data;
    for (int i = 0; i < 4; i++) ck_assert_float_eq(y[i], 1.0f);
    ck_assert(isnan(y[4]));
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

/* Opsets 1-10: bounds as attributes; 1-5 without defaults, 6-10 +-FLT_MAX. */
START_TEST(clip_attributes)
{
    static const int64_t dims[1] = {6};
    double x[6] = {-INFINITY, -1e300, -2, 0.5, 3, INFINITY};
    float xf[6] = {-INFINITY, -FLT_MAX, -2, 0.5f, 3, INFINITY};
    static const struct {
        int opset;
        bool has_min, has_max;
        float min, max;
        double want[6];
    } cases[] = {
        {1, false, false, 0, 0, {-INFINITY, -1e300, -2, 0.5, 3, INFINITY}},
        {5, true, false, -1, 0, {-1, -1, -1, 0.5, 3, INFINITY}},
        {1, false, true, 0, 1, {-INFINITY, -1e300, -2, 0.5, 1, 1}},
        {6, false, false, 0, 0, {-FLT_MAX, -FLT_MAX, -2, 0.5, 3, FLT_MAX}},
        {10, true, true, -1, 2, {-1, -1, -1, 0.5, 2, 2}},
        {6, true, true, 2, -1, {-1, -1, -1, -1, -1, -1}},
        {6, false, true, 0, 0.25f, {-FLT_MAX, -FLT_MAX, -2, 0.25, 0.25, 0.25}},
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++)
        for (int f = 0; f < 2; f++) {
            onnxc_dtype dt = f ? ONNXC_DTYPE_FLOAT : ONNXC_DTYPE_DOUBLE;
            oc_tensor tx = oh_tensor(dt, 1, dims, f ? (void *)xf : (void *)x);
            const oc_tensor *in[] = {&tx};
            oc_tensor out[1] = {{0}};
            oh_node h;
            oh_init(&h, "Clip", cases[k].opset);
            if (cases[k].has_min) oh_attr_float(&h, "min", cases[k].min);
            if (cases[k].has_max) oh_attr_float(&h, "max", cases[k].max);
            if (cases[k].opset < 6) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
            expect_ok(oh_run(&h, 1, in, 1, out, NULL));
            for (int i = 0; i < 6; i++) {
                double want = cases[k].want[i], got = get_f(dt, out[0].data, (size_t)i);
                if (f && want == -1e300) want = -FLT_MAX; /* the float input differs there */
                ck_assert_msg(got == (f ? (double)(float)want : want), "case %zu %s element %d: %g",
                              k, onnxc_dtype_name(dt), i, got);
            }
            oh_free_outputs(1, out);
            oh_free(&h);
        }
}
END_TEST

START_TEST(clip_rejects)
{
    static const int64_t dims[1] = {4}, two[1] = {2}, none[1] = {0};
    float x[4] = {0}, b[2] = {0};
    double bd = 0;
    int32_t xi[4] = {0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, x);
    oc_tensor txi = oh_tensor(ONNXC_DTYPE_INT32, 1, dims, xi);
    oc_tensor vec = oh_tensor(ONNXC_DTYPE_FLOAT, 1, two, b);
    oc_tensor dbl = oh_tensor(ONNXC_DTYPE_DOUBLE, 0, none, &bd);
    oc_tensor sc = oh_tensor(ONNXC_DTYPE_FLOAT, 0, none, b);
    static const int16_t half[4] = {0};
    oc_tensor tf16 = oh_tensor(ONNXC_DTYPE_FLOAT16, 1, dims, (void *)half);
    static const struct {
        int opset, n;
        int which[3]; /* 0 none, 1 x, 2 vector bound, 3 double bound, 4 scalar, 5 int x, 6 f16 x */
        onnxc_code code;
    } cases[] = {
        {13, 2, {1, 2, 0}, ONNXC_ERR_MODEL},       /* min not a scalar */
        {13, 3, {1, 0, 2}, ONNXC_ERR_MODEL},       /* max not a scalar */
        {13, 3, {1, 4, 3}, ONNXC_ERR_MODEL},       /* max of another type */
        {10, 2, {1, 4, 0}, ONNXC_ERR_MODEL},       /* an input before opset 11 */
        {11, 1, {5, 0, 0}, ONNXC_ERR_MODEL},       /* integers from opset 12 */
        {13, 1, {6, 0, 0}, ONNXC_ERR_UNSUPPORTED}, /* float16 */
        {13, 1, {0, 0, 0}, ONNXC_ERR_MODEL},       /* input missing */
    };
    const oc_tensor *by_index[] = {NULL, &tx, &vec, &dbl, &sc, &txi, &tf16};
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        const oc_tensor *in[3];
        for (int i = 0; i < 3; i++) in[i] = by_index[cases[k].which[i]];
        oc_tensor out[1] = {{0}};
        oh_node h;
        oh_init(&h, "Clip", cases[k].opset);
        expect_code(oh_run(&h, cases[k].n, in, 1, out, NULL), cases[k].code);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
    /* attributes: not from opset 11; consumed_inputs only before 6 */
    const oc_tensor *in[] = {&tx};
    static const struct {
        int opset;
        const char *attr;
    } attrs[] = {{11, "min"}, {13, "max"}, {6, "consumed_inputs"}, {6, "clamp"}};
    for (size_t k = 0; k < ARRAY_LEN(attrs); k++) {
        oc_tensor out[1] = {{0}};
        oh_node h;
        oh_init(&h, "Clip", attrs[k].opset);
        if (strcmp(attrs[k].attr, "consumed_inputs") == 0)
            oh_attr_ints(&h, attrs[k].attr, NULL, 0);
        else
            oh_attr_float(&h, attrs[k].attr, 1.0f);
        expect_code(oh_run(&h, 1, in, 1, out, NULL), ONNXC_ERR_MODEL);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Clip", 6);
    oh_attr_int(&h, "min", 0); /* an int where a float belongs */
    expect_code(oh_run(&h, 1, in, 1, out, NULL), ONNXC_ERR_MODEL);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

/* ---- in a model: integer shape arithmetic, folded at load or run ---- */

/* y = ((x * 3 - 5) / 2) ^ 2 + Sum(x, x) on int64, with the constants as
 * initializers; also z = Clip(c, 0, "") of a constant, folded at load. */
START_TEST(model_int64_shape_math)
{
    static const int64_t three[1] = {3}, five[1] = {5}, two[1] = {2}, d4[1] = {4};
    static const int64_t cvals[4] = {-7, 0, 7, 1000};
    int64_t zero = 0;
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_INT64, 1, d4);
    mb_output(mb, "y", ONNXC_DTYPE_INT64, 1, d4);
    mb_output(mb, "z", ONNXC_DTYPE_INT64, 1, d4);
    mb_init_i64(mb, "three", 1, (const int64_t[]){1}, three, true);
    mb_init_i64(mb, "five", 0, NULL, five, false);
    mb_init_i64(mb, "two", 1, (const int64_t[]){1}, two, true);
    mb_init_i64(mb, "c", 1, d4, cvals, true);
    mb_init_i64(mb, "zero", 0, NULL, &zero, true);
    mb_node_add(mb, "Mul", NULL, "x,three", "m");
    mb_node_add(mb, "Sub", NULL, "m,five", "s");
    mb_node_add(mb, "Div", NULL, "s,two", "d");
    mb_node_add(mb, "Pow", NULL, "d,two", "p");
    mb_node_add(mb, "Sum", NULL, "x,x", "xx");
    mb_node_add(mb, "Add", NULL, "p,xx", "y");
    mb_node_add(mb, "Clip", NULL, "c,zero,", "z");
    uint8_t *bytes;
    size_t len;
    ck_assert(mb_serialize(mb, &bytes, &len));
    mb_free(mb);
    onnxc_model *model = NULL;
    onnxc_status *st = onnxc_model_open_buffer(bytes, len, NULL, &model);
    free(bytes);
    /* Sum is float-only: the model is refused with a message naming it */
    ck_assert_int_eq(onnxc_status_code(st), ONNXC_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(onnxc_status_message(st), "Sum") != NULL, "%s", onnxc_status_message(st));
    onnxc_status_free(st);

    mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_INT64, 1, d4);
    mb_output(mb, "y", ONNXC_DTYPE_INT64, 1, d4);
    mb_output(mb, "z", ONNXC_DTYPE_INT64, 1, d4);
    mb_init_i64(mb, "three", 1, (const int64_t[]){1}, three, true);
    mb_init_i64(mb, "five", 0, NULL, five, false);
    mb_init_i64(mb, "two", 1, (const int64_t[]){1}, two, true);
    mb_init_i64(mb, "c", 1, d4, cvals, true);
    mb_init_i64(mb, "zero", 0, NULL, &zero, true);
    mb_node_add(mb, "Mul", NULL, "x,three", "m");
    mb_node_add(mb, "Sub", NULL, "m,five", "s");
    mb_node_add(mb, "Div", NULL, "s,two", "d");
    mb_node_add(mb, "Pow", NULL, "d,two", "p");
    mb_node_add(mb, "Max", NULL, "x,x,zero", "xx");
    mb_node_add(mb, "Add", NULL, "p,xx", "y");
    mb_node_add(mb, "Clip", NULL, "c,zero,", "z");
    ck_assert(mb_serialize(mb, &bytes, &len));
    mb_free(mb);
    expect_ok(onnxc_model_open_buffer(bytes, len, NULL, &model));
    free(bytes);
    onnxc_session *session;
    expect_ok(onnxc_session_create(model, NULL, &session));
    int64_t x[4] = {224, -3, 1, 0};
    expect_ok(onnxc_session_bind(session, "x", ONNXC_DTYPE_INT64, d4, 1, x, sizeof x));
    expect_ok(onnxc_session_run(session));
    onnxc_tensor_view y, z;
    expect_ok(onnxc_session_output_by_name(session, "y", &y));
    expect_ok(onnxc_session_output_by_name(session, "z", &z));
    /* (672-5)/2 = 333 -> 110889 + 224; (-9-5)/2 = -7 -> 49 + 0; (3-5)/2 = -1 -> 1 + 1; -5/2 = -2 -> 4 */
    const int64_t want_y[4] = {110889 + 224, 49, 2, 4}, want_z[4] = {0, 0, 7, 1000};
    ck_assert_int_eq(y.dtype, ONNXC_DTYPE_INT64);
    ck_assert(memcmp(y.data, want_y, sizeof want_y) == 0);
    ck_assert(memcmp(z.data, want_z, sizeof want_z) == 0);
    onnxc_session_free(session);
    onnxc_model_free(model);
}
END_TEST

static Suite *ops_math_suite(void)
{
    Suite *s = suite_create("ops_math");
    TCase *arith = tcase_create("arith");
    tcase_add_loop_test(arith, arith_broadcast_every_dtype, 0, (int)ARRAY_LEN(bcast_cases));
    tcase_add_test(arith, arith_every_numpy_opset);
    tcase_add_test(arith, div_integer_semantics);
    tcase_add_test(arith, div_float_by_zero);
    tcase_add_test(arith, arith_legacy_broadcast);
    tcase_add_test(arith, arith_rejects);
    suite_add_tcase(s, arith);

    TCase *pw = tcase_create("pow");
    tcase_add_loop_test(pw, pow_type_combinations, 0, (int)ARRAY_LEN(bcast_cases));
    tcase_add_test(pw, pow_by_hand);
    tcase_add_test(pw, pow_legacy_and_rejects);
    suite_add_tcase(s, pw);

    TCase *variadic = tcase_create("variadic");
    tcase_add_loop_test(variadic, variadic_broadcast, 0, (int)ARRAY_LEN(variadic_cases));
    tcase_add_test(variadic, variadic_legacy);
    tcase_add_test(variadic, variadic_rejects);
    tcase_add_test(variadic, max_min_nan);
    suite_add_tcase(s, variadic);

    TCase *unary = tcase_create("unary");
    tcase_add_loop_test(unary, unary_every_dtype, 0, (int)ARRAY_LEN(unary_ops));
    tcase_add_loop_test(unary, unary_opsets, 0, (int)ARRAY_LEN(unary_ops));
    tcase_add_test(unary, neg_abs_by_hand);
    suite_add_tcase(s, unary);

    TCase *act = tcase_create("activations");
    tcase_add_loop_test(act, param_activations, 0, (int)ARRAY_LEN(param_ops));
    tcase_add_loop_test(act, param_activations_reject, 0, (int)ARRAY_LEN(param_ops));
    tcase_add_test(act, activations_by_hand);
    tcase_add_test(act, prelu_unidirectional);
    tcase_add_test(act, prelu_legacy);
    tcase_add_test(act, prelu_rejects);
    suite_add_tcase(s, act);

    TCase *clip = tcase_create("clip");
    tcase_add_test(clip, clip_bound_inputs);
    tcase_add_test(clip, clip_min_greater_than_max);
    tcase_add_test(clip, clip_attributes);
    tcase_add_test(clip, clip_rejects);
    suite_add_tcase(s, clip);

    TCase *model = tcase_create("model");
    tcase_add_test(model, model_int64_shape_math);
    suite_add_tcase(s, model);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(ops_math_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
