/* Relu, Add, Concat, Flatten, Identity, Dropout through the op harness, each
 * against a naive computation written here (index arithmetic per element).
 * Byte-level references assume a little-endian host. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/broadcast.h"
#include "kernels/elementwise.h"
#include "op_harness.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

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

/* Deterministic contents: small floats of both signs, or random integer bits
 * (so integer adds overflow and must wrap). */
static void fill_random(onnxc_dtype dtype, void *data, size_t count, unsigned seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    size_t esize = onnxc_dtype_size(dtype);
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        float f = (float)((int)(s >> 40 & 0xFFFF) - 0x8000) / 1024.0f;
        double d = (double)f + 1.0 / 3.0;
        if (dtype == ONNXC_DTYPE_FLOAT)
            memcpy((char *)data + i * 4, &f, 4);
        else if (dtype == ONNXC_DTYPE_DOUBLE)
            memcpy((char *)data + i * 8, &d, 8);
        else if (dtype == ONNXC_DTYPE_BOOL)
            ((unsigned char *)data)[i] = (unsigned char)(s & 1);
        else
            memcpy((char *)data + i * esize, &s, esize);
    }
}

static void *alloc_filled(onnxc_dtype dtype, const shape *s, unsigned seed)
{
    size_t n = shape_count(s), esize = onnxc_dtype_size(dtype);
    void *p = malloc(n * esize + 1);
    ck_assert_ptr_nonnull(p);
    fill_random(dtype, p, n, seed);
    return p;
}

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

/* a + b for one element: in the type for floats; for integers the
 * zero-extended bits added and truncated, which is two's-complement wrapping
 * at any width and either signedness. */
static void naive_add(onnxc_dtype dtype, void *out, const void *a, const void *b)
{
    if (dtype == ONNXC_DTYPE_FLOAT) {
        float x, y, r;
        memcpy(&x, a, 4), memcpy(&y, b, 4);
        r = x + y;
        memcpy(out, &r, 4);
    } else if (dtype == ONNXC_DTYPE_DOUBLE) {
        double x, y, r;
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        r = x + y;
        memcpy(out, &r, 8);
    } else {
        size_t esize = onnxc_dtype_size(dtype);
        uint64_t x = 0, y = 0, r;
        memcpy(&x, a, esize), memcpy(&y, b, esize);
        r = x + y;
        memcpy(out, &r, esize);
    }
}

static const onnxc_dtype numeric_dtypes[] = {
    ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT8,  ONNXC_DTYPE_INT16,  ONNXC_DTYPE_INT32,
    ONNXC_DTYPE_INT64, ONNXC_DTYPE_UINT8,  ONNXC_DTYPE_UINT16, ONNXC_DTYPE_UINT32, ONNXC_DTYPE_UINT64,
};

/* ---- Add ---- */

/* Runs Add on a and b and checks against the naive broadcast, where b_ref is
 * b's shape as the reference should align it (b itself, or padded with 1s
 * for the legacy axis rule). */
static void check_add(oh_node *h, onnxc_dtype dtype, const shape *sa, const shape *sb,
                      const shape *b_ref, unsigned seed)
{
    void *a = alloc_filled(dtype, sa, seed), *b = alloc_filled(dtype, sb, seed + 1);
    oc_tensor ta = oh_tensor(dtype, sa->rank, sa->dims, a);
    oc_tensor tb = oh_tensor(dtype, sb->rank, sb->dims, b);
    const oc_tensor *in[] = {&ta, &tb};
    oc_tensor out[1] = {{0}};
    expect_ok(oh_run(h, 2, in, 1, out, NULL));

    shape so = naive_bcast_shape(sa, b_ref);
    expect_shape(&out[0], dtype, &so);
    size_t esize = onnxc_dtype_size(dtype);
    unsigned char want[8];
    for (size_t i = 0; i < shape_count(&so); i++) {
        naive_add(dtype, want, (char *)a + naive_bcast_index(&so, sa, i) * esize,
                  (char *)b + naive_bcast_index(&so, b_ref, i) * esize);
        ck_assert_msg(memcmp(want, (char *)out[0].data + i * esize, esize) == 0,
                      "%s element %zu differs", onnxc_dtype_name(dtype), i);
    }
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
    {{3, {3, 1, 5}}, {2, {4, 5}}},                    /* [3,1,5] + [4,5] */
    {{2, {3, 1}}, {2, {1, 4}}},                       /* both sides broadcast */
    {{4, {2, 1, 4, 1}}, {3, {3, 1, 5}}},
    {{4, {2, 3, 4, 5}}, {3, {3, 1, 1}}},              /* per channel */
    {{4, {1, 3, 1, 1}}, {4, {2, 3, 4, 5}}},
    {{4, {2, 3, 4, 5}}, {4, {2, 3, 4, 1}}},           /* broadcast innermost */
    {{5, {7, 1, 3, 1, 2}}, {5, {1, 5, 1, 4, 1}}},     /* alternating */
    {{8, {2, 1, 2, 1, 2, 1, 2, 1}}, {8, {1, 2, 1, 2, 1, 2, 1, 2}}},
    {{2, {0, 5}}, {2, {1, 5}}},                       /* zero-size */
    {{2, {2, 0}}, {2, {2, 1}}},
    {{3, {3, 0, 2}}, {1, {1}}},
    {{1, {1}}, {1, {0}}},
    {{2, {1, 0}}, {2, {3, 1}}},                       /* 0 meets broadcast on both sides */
};

START_TEST(add_broadcast_patterns)
{
    for (size_t t = 0; t < ARRAY_LEN(numeric_dtypes); t++) {
        oh_node h;
        oh_init(&h, "Add", 14);
        check_add(&h, numeric_dtypes[t], &bcast_cases[_i].a, &bcast_cases[_i].b,
                  &bcast_cases[_i].b, (unsigned)(_i * 31 + t));
        oh_free(&h);
    }
}
END_TEST

START_TEST(add_every_numpy_opset)
{
    static const int opsets[] = {7, 13, 14, 26};
    for (size_t k = 0; k < ARRAY_LEN(opsets); k++) {
        oh_node h;
        oh_init(&h, "Add", opsets[k]);
        check_add(&h, ONNXC_DTYPE_FLOAT, &bcast_cases[7].a, &bcast_cases[7].b, &bcast_cases[7].b,
                  (unsigned)k);
        oh_free(&h);
    }
}
END_TEST

static onnxc_status *run_add_shapes(oh_node *h, onnxc_dtype da, const shape *sa, onnxc_dtype db,
                                    const shape *sb)
{
    static const unsigned char zeros[1024];
    oc_tensor ta = oh_tensor(da, sa->rank, sa->dims, (void *)zeros);
    oc_tensor tb = oh_tensor(db, sb->rank, sb->dims, (void *)zeros);
    const oc_tensor *in[] = {&ta, &tb};
    oc_tensor out[1] = {{0}};
    onnxc_status *st = oh_run(h, 2, in, 1, out, NULL);
    oh_free_outputs(1, out);
    return st;
}

START_TEST(add_rejects_bad_inputs)
{
    static const struct { shape a, b; } incompatible[] = {
        {{2, {3, 4}}, {1, {5}}},
        {{2, {2, 3}}, {2, {3, 2}}},
        {{3, {2, 3, 4}}, {2, {2, 4}}},
        {{1, {0}}, {1, {2}}},
    };
    for (size_t k = 0; k < ARRAY_LEN(incompatible); k++) {
        oh_node h;
        oh_init(&h, "Add", 14);
        expect_code(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &incompatible[k].a, ONNXC_DTYPE_FLOAT,
                                   &incompatible[k].b),
                    ONNXC_ERR_MODEL);
        oh_free(&h);
    }
    shape s = {1, {4}};
    oh_node h;
    oh_init(&h, "Add", 14);
    expect_code(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &s, ONNXC_DTYPE_INT32, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, "Add", 14);
    expect_code(run_add_shapes(&h, ONNXC_DTYPE_BOOL, &s, ONNXC_DTYPE_BOOL, &s),
                ONNXC_ERR_UNSUPPORTED);
    oh_free(&h);
}
END_TEST

/* ---- Add, opsets 1-6: broadcast and axis attributes ---- */

/* B's shape as the reference aligns it: rank of A, B's dims at axis, 1s elsewhere. */
static shape legacy_aligned(const shape *a, const shape *b, int axis)
{
    shape r = {a->rank, {0}};
    for (int d = 0; d < a->rank; d++) r.dims[d] = 1;
    for (int j = 0; j < b->rank; j++) r.dims[axis + j] = b->dims[j];
    return r;
}

START_TEST(add_legacy_broadcast)
{
    static const struct {
        shape b;
        int axis; /* -1: attribute absent (suffix) */
    } cases[] = {
        {{0, {0}}, -1},       {{1, {5}}, -1},    {{2, {4, 5}}, -1}, {{2, {3, 4}}, 1},
        {{1, {2}}, 0},        {{1, {4}}, 2},     {{4, {2, 3, 4, 5}}, -1},
        {{1, {1}}, -1},       {{2, {3, 1}}, 1}, /* 1s broadcast too */
    };
    shape a = {4, {2, 3, 4, 5}};
    static const int opsets[] = {1, 6};
    for (size_t o = 0; o < ARRAY_LEN(opsets); o++)
        for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
            const shape *b = &cases[k].b;
            int axis = cases[k].axis >= 0 ? cases[k].axis : a.rank - b->rank;
            shape ref = legacy_aligned(&a, b, axis);
            oh_node h;
            oh_init(&h, "Add", opsets[o]);
            oh_attr_int(&h, "broadcast", 1);
            if (cases[k].axis >= 0) oh_attr_int(&h, "axis", cases[k].axis);
            if (opsets[o] == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
            check_add(&h, opsets[o] == 1 ? ONNXC_DTYPE_FLOAT : ONNXC_DTYPE_INT64, &a, b, &ref,
                      (unsigned)k);
            oh_free(&h);
        }
}
END_TEST

START_TEST(add_legacy_no_broadcast)
{
    shape a = {3, {2, 3, 4}}, b_ok = {3, {2, 3, 4}}, b_suffix = {1, {4}}, b_one = {3, {2, 1, 4}};
    oh_node h;
    oh_init(&h, "Add", 6);
    check_add(&h, ONNXC_DTYPE_DOUBLE, &a, &b_ok, &b_ok, 3);
    oh_free(&h);
    /* What opset 7 broadcasts, opset 6 without broadcast=1 rejects. */
    const shape *bad[] = {&b_suffix, &b_one};
    for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
        oh_init(&h, "Add", 6);
        expect_code(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &a, ONNXC_DTYPE_FLOAT, bad[k]),
                    ONNXC_ERR_MODEL);
        oh_free(&h);
        oh_init(&h, "Add", 7);
        expect_ok(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &a, ONNXC_DTYPE_FLOAT, bad[k]));
        oh_free(&h);
    }
}
END_TEST

START_TEST(add_legacy_rejects)
{
    static const struct {
        shape b;
        int64_t axis; /* INT64_MIN: absent */
        int64_t broadcast;
    } cases[] = {
        {{1, {3}}, INT64_MIN, 1},       /* suffix mismatch */
        {{2, {3, 4}}, 0, 1},            /* wrong position */
        {{2, {4, 5}}, 3, 1},            /* runs past A */
        {{1, {5}}, 7, 1},               /* axis out of range */
        {{5, {1, 2, 3, 4, 5}}, INT64_MIN, 1}, /* B of higher rank */
        {{1, {5}}, INT64_MIN, 2},       /* broadcast not 0/1 */
    };
    shape a = {4, {2, 3, 4, 5}};
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) {
        oh_node h;
        oh_init(&h, "Add", 6);
        oh_attr_int(&h, "broadcast", cases[k].broadcast);
        if (cases[k].axis != INT64_MIN) oh_attr_int(&h, "axis", cases[k].axis);
        expect_code(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &a, ONNXC_DTYPE_FLOAT, &cases[k].b),
                    ONNXC_ERR_MODEL);
        oh_free(&h);
    }
    oh_node h;
    oh_init(&h, "Add", 6);
    oh_attr_float(&h, "broadcast", 1.0f); /* wrong attribute type */
    expect_code(run_add_shapes(&h, ONNXC_DTYPE_FLOAT, &a, ONNXC_DTYPE_FLOAT, &a), ONNXC_ERR_MODEL);
    oh_free(&h);
}
END_TEST

/* ---- the broadcast plan itself: the collapsing that makes it fast ---- */

static oc_bcast_plan plan_for(const shape *out, const shape *a, const shape *b)
{
    oc_bcast_operand oo = {out->rank, out->dims, 4}, oa = {a->rank, a->dims, 4},
                     ob = {b->rank, b->dims, 4};
    oc_bcast_plan plan;
    oc_bcast_plan_init(&plan, &oo, &oa, &ob);
    return plan;
}

START_TEST(bcast_plan_collapses)
{
    shape nchw = {4, {2, 3, 4, 5}}, chan = {3, {3, 1, 1}}, scalar = {0, {0}}, row = {1, {5}};
    oc_bcast_plan p = plan_for(&nchw, &nchw, &nchw);
    ck_assert_uint_eq(p.spans, 1);
    ck_assert_uint_eq(p.span, 120);
    ck_assert(p.a_step == 1 && p.b_step == 1);

    p = plan_for(&nchw, &nchw, &scalar);
    ck_assert_uint_eq(p.spans, 1);
    ck_assert(p.a_step == 1 && p.b_step == 0);

    p = plan_for(&nchw, &chan, &nchw); /* channel value fixed along each H*W span */
    ck_assert_uint_eq(p.span, 20);
    ck_assert_uint_eq(p.spans, 6);
    ck_assert(p.a_step == 0 && p.b_step == 1);

    p = plan_for(&nchw, &nchw, &row);
    ck_assert_uint_eq(p.span, 5);
    ck_assert_uint_eq(p.spans, 24);
    ck_assert_int_eq(p.rank, 2);
}
END_TEST

/* A variadic op folds inputs into its output in place: out = out + x. */
START_TEST(bcast_in_place_accumulation)
{
    shape out = {3, {2, 3, 4}}, x = {2, {3, 1}};
    float acc[24], orig[24], xv[3];
    oh_fill(acc, 24, 5, -1, 1);
    oh_fill(xv, 3, 6, -1, 1);
    memcpy(orig, acc, sizeof acc);
    oc_bcast_plan p = plan_for(&out, &out, &x);
    oc_bcast_run(&p, oc_add_kernel(ONNXC_DTYPE_FLOAT), acc, acc, xv);
    for (size_t i = 0; i < 24; i++)
        ck_assert_float_eq(acc[i], orig[i] + xv[naive_bcast_index(&out, &x, i)]);
}
END_TEST

/* ---- Relu ---- */

/* Negative per the element's type: the sign bit for integers (little-endian). */
static int element_is_negative(onnxc_dtype dtype, const unsigned char *p)
{
    if (dtype == ONNXC_DTYPE_FLOAT) {
        float f;
        memcpy(&f, p, 4);
        return f < 0;
    }
    if (dtype == ONNXC_DTYPE_DOUBLE) {
        double d;
        memcpy(&d, p, 8);
        return d < 0;
    }
    return (p[onnxc_dtype_size(dtype) - 1] & 0x80) != 0;
}

static void check_relu(int opset, onnxc_dtype dtype, unsigned seed)
{
    shape s = {3, {3, 5, 7}};
    size_t esize = onnxc_dtype_size(dtype), n = shape_count(&s);
    unsigned char *x = alloc_filled(dtype, &s, seed);
    if (dtype == ONNXC_DTYPE_FLOAT) { /* NaN passes through, -0 is not negative */
        float special[] = {NAN, -0.0f, 0.0f};
        memcpy(x, special, sizeof special);
    }
    oc_tensor tx = oh_tensor(dtype, s.rank, s.dims, x);
    const oc_tensor *in[] = {&tx};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Relu", opset);
    if (opset == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    expect_ok(oh_run(&h, 1, in, 1, out, NULL));
    expect_shape(&out[0], dtype, &s);
    static const unsigned char zero[8];
    const unsigned char *y = out[0].data;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *want = element_is_negative(dtype, x + i * esize) ? zero : x + i * esize;
        ck_assert_msg(memcmp(y + i * esize, want, esize) == 0, "%s element %zu",
                      onnxc_dtype_name(dtype), i);
    }
    if (dtype == ONNXC_DTYPE_FLOAT) ck_assert(isnan(((float *)out[0].data)[0]));
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
}

START_TEST(relu_every_dtype)
{
    static const onnxc_dtype dtypes[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT8,
                                         ONNXC_DTYPE_INT16, ONNXC_DTYPE_INT32, ONNXC_DTYPE_INT64};
    for (size_t t = 0; t < ARRAY_LEN(dtypes); t++) check_relu(14, dtypes[t], (unsigned)t);
    check_relu(1, ONNXC_DTYPE_FLOAT, 10);
    check_relu(6, ONNXC_DTYPE_DOUBLE, 11);
    check_relu(13, ONNXC_DTYPE_FLOAT, 12);
    check_relu(26, ONNXC_DTYPE_INT32, 13);
}
END_TEST

static onnxc_status *run_unary(oh_node *h, onnxc_dtype dtype, const shape *s)
{
    static const unsigned char zeros[1024];
    oc_tensor t = oh_tensor(dtype, s->rank, s->dims, (void *)zeros);
    const oc_tensor *in[] = {&t};
    oc_tensor out[1] = {{0}};
    onnxc_status *st = oh_run(h, 1, in, 1, out, NULL);
    oh_free_outputs(1, out);
    return st;
}

START_TEST(relu_rejects)
{
    shape s = {1, {4}};
    oh_node h;
    oh_init(&h, "Relu", 13); /* integers came with opset 14 */
    expect_code(run_unary(&h, ONNXC_DTYPE_INT32, &s), ONNXC_ERR_MODEL);
    oh_free(&h);
    oh_init(&h, "Relu", 14);
    expect_code(run_unary(&h, ONNXC_DTYPE_UINT8, &s), ONNXC_ERR_UNSUPPORTED);
    oh_free(&h);
    oh_init(&h, "Relu", 14);
    expect_code(run_unary(&h, ONNXC_DTYPE_BOOL, &s), ONNXC_ERR_UNSUPPORTED);
    oh_free(&h);
    shape empty = {2, {0, 3}};
    oh_init(&h, "Relu", 14);
    expect_ok(run_unary(&h, ONNXC_DTYPE_FLOAT, &empty));
    oh_free(&h);
}
END_TEST

/* ---- Concat ---- */

/* Runs Concat on n inputs of the given shapes and checks the result element
 * by element: the output coordinate along axis picks the input. */
static void check_concat(int opset, int64_t axis_attr, int axis, onnxc_dtype dtype,
                         const shape *shapes, int n, unsigned seed)
{
    size_t esize = onnxc_dtype_size(dtype);
    void *data[8] = {0};
    oc_tensor t[8];
    const oc_tensor *in[8];
    shape so = shapes[0];
    so.dims[axis] = 0;
    for (int i = 0; i < n; i++) {
        data[i] = alloc_filled(dtype, &shapes[i], seed + (unsigned)i);
        t[i] = oh_tensor(dtype, shapes[i].rank, shapes[i].dims, data[i]);
        in[i] = &t[i];
        so.dims[axis] += shapes[i].dims[axis];
    }
    oh_node h;
    oh_init(&h, "Concat", opset);
    if (axis_attr != INT64_MIN) oh_attr_int(&h, "axis", axis_attr);
    oc_tensor out[1] = {{0}};
    expect_ok(oh_run(&h, n, in, 1, out, NULL));
    expect_shape(&out[0], dtype, &so);

    for (size_t flat = 0; flat < shape_count(&so); flat++) {
        int64_t coord[OC_MAX_RANK] = {0};
        size_t rest = flat;
        for (int d = so.rank - 1; d >= 0; d--) {
            coord[d] = (int64_t)(rest % (size_t)so.dims[d]);
            rest /= (size_t)so.dims[d];
        }
        int k = 0;
        while (coord[axis] >= shapes[k].dims[axis]) coord[axis] -= shapes[k++].dims[axis];
        size_t src = 0;
        for (int d = 0; d < so.rank; d++) src = src * (size_t)shapes[k].dims[d] + (size_t)coord[d];
        ck_assert_msg(memcmp((char *)out[0].data + flat * esize, (char *)data[k] + src * esize,
                             esize) == 0,
                      "element %zu (from input %d)", flat, k);
    }
    oh_free_outputs(1, out);
    oh_free(&h);
    for (int i = 0; i < n; i++) free(data[i]);
}

/* Three inputs of rank 3 with distinct sizes along axis. */
static void three_along(int axis, shape *s)
{
    static const int64_t base[3] = {2, 3, 5};
    for (int i = 0; i < 3; i++) {
        s[i].rank = 3;
        memcpy(s[i].dims, base, sizeof base);
        s[i].dims[axis] = 1 + i * 2; /* 1, 3, 5 */
    }
}

START_TEST(concat_every_axis)
{
    static const onnxc_dtype dtypes[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT64, ONNXC_DTYPE_BOOL,
                                         ONNXC_DTYPE_FLOAT16, ONNXC_DTYPE_INT16};
    shape s[3];
    for (int axis = 0; axis < 3; axis++) {
        three_along(axis, s);
        for (size_t t = 0; t < ARRAY_LEN(dtypes); t++) {
            check_concat(13, axis, axis, dtypes[t], s, 3, (unsigned)(axis * 7 + t));
            check_concat(13, axis - 3, axis, dtypes[t], s, 3, (unsigned)(axis * 5 + t));
        }
        check_concat(4, axis, axis, ONNXC_DTYPE_DOUBLE, s, 3, 1);
        check_concat(11, axis - 3, axis, ONNXC_DTYPE_UINT8, s, 2, 2);
    }
    shape one_d[2] = {{1, {2}}, {1, {2}}};
    check_concat(13, -1, 0, ONNXC_DTYPE_FLOAT, one_d, 2, 3);
    three_along(1, s);
    check_concat(1, INT64_MIN, 1, ONNXC_DTYPE_FLOAT, s, 3, 4); /* opset 1: default axis 1 */
}
END_TEST

START_TEST(concat_single_and_empty)
{
    shape single[1] = {{3, {2, 3, 4}}};
    check_concat(13, 1, 1, ONNXC_DTYPE_FLOAT, single, 1, 1);
    shape mixed[3] = {{2, {2, 0}}, {2, {2, 3}}, {2, {2, 0}}};
    check_concat(13, 1, 1, ONNXC_DTYPE_INT32, mixed, 3, 2);
    shape all_empty[2] = {{2, {0, 3}}, {2, {0, 3}}};
    check_concat(13, 1, 1, ONNXC_DTYPE_FLOAT, all_empty, 2, 3);
    check_concat(13, 0, 0, ONNXC_DTYPE_FLOAT, all_empty, 2, 4);
    shape eight[8];
    for (int i = 0; i < 8; i++) eight[i] = (shape){2, {3, i}};
    check_concat(13, 1, 1, ONNXC_DTYPE_DOUBLE, eight, 8, 5);
}
END_TEST

static onnxc_status *run_concat_shapes(int opset, int64_t axis, const shape *s, const onnxc_dtype *dt,
                                       int n)
{
    static const unsigned char zeros[1024];
    oc_tensor t[4];
    const oc_tensor *in[4];
    for (int i = 0; i < n; i++) {
        t[i] = oh_tensor(dt[i], s[i].rank, s[i].dims, (void *)zeros);
        in[i] = &t[i];
    }
    oh_node h;
    oh_init(&h, "Concat", opset);
    if (axis != INT64_MIN) oh_attr_int(&h, "axis", axis);
    oc_tensor out[1] = {{0}};
    onnxc_status *st = oh_run(&h, n, in, 1, out, NULL);
    oh_free_outputs(1, out);
    oh_free(&h);
    return st;
}

START_TEST(concat_rejects)
{
    const onnxc_dtype f2[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_FLOAT};
    const onnxc_dtype mixed[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT32};
    shape ok[2] = {{2, {2, 3}}, {2, {2, 4}}};
    shape other_dim[2] = {{2, {2, 3}}, {2, {3, 3}}};
    shape other_rank[2] = {{2, {2, 3}}, {3, {2, 3, 1}}};
    shape scalars[2] = {{0, {0}}, {0, {0}}};
    expect_code(run_concat_shapes(13, 1, other_dim, f2, 2), ONNXC_ERR_MODEL);
    expect_code(run_concat_shapes(13, 1, other_rank, f2, 2), ONNXC_ERR_MODEL);
    expect_code(run_concat_shapes(13, 1, ok, mixed, 2), ONNXC_ERR_MODEL);
    expect_code(run_concat_shapes(13, 0, ok, f2, 2), ONNXC_ERR_MODEL);  /* 3 vs 4 off axis */
    expect_code(run_concat_shapes(13, 2, ok, f2, 2), ONNXC_ERR_MODEL);  /* axis == rank */
    expect_code(run_concat_shapes(13, -3, ok, f2, 2), ONNXC_ERR_MODEL);
    expect_code(run_concat_shapes(13, 0, scalars, f2, 2), ONNXC_ERR_MODEL);
    expect_code(run_concat_shapes(13, INT64_MIN, ok, f2, 2), ONNXC_ERR_MODEL); /* required */
    /* Negative axes are accepted before opset 11 too: old exporters wrote them. */
    expect_ok(run_concat_shapes(10, -1, ok, f2, 2));
    expect_ok(run_concat_shapes(11, -1, ok, f2, 2));
}
END_TEST

/* ---- Flatten ---- */

static void check_flatten(int opset, int64_t axis_attr, onnxc_dtype dtype, const shape *s,
                          unsigned seed)
{
    int axis = (int)(axis_attr == INT64_MIN ? 1 : axis_attr < 0 ? axis_attr + s->rank : axis_attr);
    shape want = {2, {1, 1}};
    for (int d = 0; d < s->rank; d++) want.dims[d < axis ? 0 : 1] *= s->dims[d];
    void *x = alloc_filled(dtype, s, seed);
    oc_tensor tx = oh_tensor(dtype, s->rank, s->dims, x);
    const oc_tensor *in[] = {&tx};
    oc_tensor out[1] = {{0}};
    oh_node h;
    oh_init(&h, "Flatten", opset);
    if (axis_attr != INT64_MIN) oh_attr_int(&h, "axis", axis_attr);
    expect_ok(oh_run(&h, 1, in, 1, out, NULL));
    expect_shape(&out[0], dtype, &want);
    ck_assert(out[0].data != x);
    ck_assert(memcmp(out[0].data, x, tx.nbytes) == 0); /* row-major order is unchanged */
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
}

START_TEST(flatten_every_axis)
{
    static const shape shapes[] = {{4, {2, 3, 4, 5}}, {4, {3, 1, 5, 2}}, {3, {2, 0, 3}}};
    for (size_t k = 0; k < ARRAY_LEN(shapes); k++) {
        int r = shapes[k].rank;
        for (int axis = -r; axis <= r; axis++) {
            check_flatten(13, axis, ONNXC_DTYPE_FLOAT, &shapes[k], (unsigned)(axis + 10));
            check_flatten(11, axis, ONNXC_DTYPE_INT64, &shapes[k], (unsigned)(axis + 20));
            if (axis >= 0) check_flatten(1, axis, ONNXC_DTYPE_DOUBLE, &shapes[k], 3);
        }
        check_flatten(9, INT64_MIN, ONNXC_DTYPE_BOOL, &shapes[k], 4);
        check_flatten(26, INT64_MIN, ONNXC_DTYPE_UINT8, &shapes[k], 5);
    }
    shape scalar = {0, {0}};
    check_flatten(13, 0, ONNXC_DTYPE_FLOAT, &scalar, 6); /* [] -> [1, 1] */
}
END_TEST

START_TEST(flatten_rejects)
{
    static const struct {
        int opset;
        int64_t axis;
    } bad[] = {{13, 5}, {13, -5}, {9, -5}, {1, 5}, {13, INT64_MAX}, {13, INT64_MIN + 1}};
    shape s = {4, {2, 3, 4, 5}};
    for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
        oh_node h;
        oh_init(&h, "Flatten", bad[k].opset);
        oh_attr_int(&h, "axis", bad[k].axis);
        expect_code(run_unary(&h, ONNXC_DTYPE_FLOAT, &s), ONNXC_ERR_MODEL);
        oh_free(&h);
    }
    shape scalar = {0, {0}};
    oh_node h;
    oh_init(&h, "Flatten", 13); /* default axis 1 > rank 0 */
    expect_code(run_unary(&h, ONNXC_DTYPE_FLOAT, &scalar), ONNXC_ERR_MODEL);
    oh_free(&h);
    /* The columns overflow although the tensor is empty. */
    shape huge = {3, {0, INT64_C(1) << 40, INT64_C(1) << 40}};
    oh_init(&h, "Flatten", 13);
    oh_attr_int(&h, "axis", 1);
    expect_code(run_unary(&h, ONNXC_DTYPE_FLOAT, &huge), ONNXC_ERR_LIMIT);
    oh_free(&h);
}
END_TEST

/* ---- Identity ---- */

START_TEST(identity_copies)
{
    static const onnxc_dtype dtypes[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT8, ONNXC_DTYPE_INT64,
                                         ONNXC_DTYPE_BOOL, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_FLOAT16,
                                         ONNXC_DTYPE_UINT32};
    static const shape shapes[] = {{4, {1, 1, 2, 2}}, {0, {0}}, {3, {3, 0, 2}}, {1, {37}}};
    static const int opsets[] = {1, 13, 14, 16, 26};
    for (size_t t = 0; t < ARRAY_LEN(dtypes); t++)
        for (size_t k = 0; k < ARRAY_LEN(shapes); k++) {
            void *x = alloc_filled(dtypes[t], &shapes[k], (unsigned)(t + k));
            oc_tensor tx = oh_tensor(dtypes[t], shapes[k].rank, shapes[k].dims, x);
            const oc_tensor *in[] = {&tx};
            oc_tensor out[1] = {{0}};
            oh_node h;
            oh_init(&h, "Identity", opsets[(t + k) % ARRAY_LEN(opsets)]);
            expect_ok(oh_run(&h, 1, in, 1, out, NULL));
            expect_shape(&out[0], dtypes[t], &shapes[k]);
            ck_assert(memcmp(out[0].data, x, tx.nbytes) == 0);
            oh_free_outputs(1, out);
            oh_free(&h);
            free(x);
        }
}
END_TEST

/* ---- Dropout ---- */

typedef struct dropout_case {
    int opset;
    onnxc_dtype dtype;
    bool with_ratio, with_training, want_mask;
    onnxc_dtype ratio_dtype;
    double ratio;
    bool training;
} dropout_case;

static void write_scalar(onnxc_dtype dtype, double v, void *p)
{
    if (dtype == ONNXC_DTYPE_FLOAT) {
        float f = (float)v;
        memcpy(p, &f, 4);
    } else if (dtype == ONNXC_DTYPE_DOUBLE) {
        memcpy(p, &v, 8);
    } else { /* float16: the test only needs 0, 0.5 and 1.5 */
        uint16_t h = v == 0 ? 0 : v == 0.5 ? 0x3800 : 0x3e00;
        memcpy(p, &h, 2);
    }
}

/* Runs the case: inputs data (+ ratio, + training_mode, either possibly
 * omitted in the middle), outputs y (+ mask). */
static onnxc_status *run_dropout(const dropout_case *c, oc_tensor *out, void **x_out,
                                 oc_tensor *x_tensor)
{
    shape s = {3, {3, 4, 5}};
    void *x = alloc_filled(c->dtype, &s, 42);
    *x_tensor = oh_tensor(c->dtype, s.rank, s.dims, x);
    *x_out = x;
    static const int64_t no_dims[1] = {0};
    unsigned char ratio_buf[8], training_buf[1] = {c->training};
    write_scalar(c->ratio_dtype ? c->ratio_dtype : ONNXC_DTYPE_FLOAT, c->ratio, ratio_buf);
    oc_tensor ratio = oh_tensor(c->ratio_dtype ? c->ratio_dtype : ONNXC_DTYPE_FLOAT, 0, no_dims,
                                ratio_buf);
    oc_tensor training = oh_tensor(ONNXC_DTYPE_BOOL, 0, no_dims, training_buf);
    const oc_tensor *in[3] = {x_tensor, c->with_ratio ? &ratio : NULL,
                              c->with_training ? &training : NULL};
    int n_in = c->with_training ? 3 : c->with_ratio ? 2 : 1;
    oh_node h;
    oh_init(&h, "Dropout", c->opset);
    if (c->opset < 7) oh_attr_int(&h, "is_test", c->opset == 1);
    if (c->opset == 1) oh_attr_ints(&h, "consumed_inputs", NULL, 0);
    if (c->opset >= 7 && c->opset < 12) oh_attr_float(&h, "ratio", 0.3f);
    if (c->opset >= 12) oh_attr_int(&h, "seed", 7);
    out[0] = out[1] = (oc_tensor){0};
    onnxc_status *st = oh_run(&h, n_in, in, c->want_mask ? 2 : 1, out, NULL);
    oh_free(&h);
    return st;
}

static void check_dropout(const dropout_case *c)
{
    oc_tensor out[2], tx;
    void *x;
    expect_ok(run_dropout(c, out, &x, &tx));
    expect_shape(&out[0], c->dtype, &(shape){3, {3, 4, 5}});
    ck_assert(memcmp(out[0].data, x, tx.nbytes) == 0);
    if (c->want_mask) {
        /* Kept everywhere: true (opset 10+), else 1 in the data's type. */
        onnxc_dtype mdt = c->opset >= 10 ? ONNXC_DTYPE_BOOL : c->dtype;
        expect_shape(&out[1], mdt, &(shape){3, {3, 4, 5}});
        for (size_t i = 0; i < out[1].count; i++) {
            const char *m = (const char *)out[1].data;
            if (mdt == ONNXC_DTYPE_BOOL) ck_assert_int_eq(m[i], 1);
            else if (mdt == ONNXC_DTYPE_FLOAT) ck_assert_float_eq(((const float *)m)[i], 1.0f);
            else if (mdt == ONNXC_DTYPE_DOUBLE) ck_assert_double_eq(((const double *)m)[i], 1.0);
            else ck_assert_uint_eq(((const uint16_t *)m)[i], 0x3c00);
        }
    }
    oh_free_outputs(2, out);
    free(x);
}

START_TEST(dropout_inference_every_version)
{
    static const onnxc_dtype dtypes[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_FLOAT16};
    static const int opsets[] = {1, 6, 7, 9, 10, 11, 12, 13, 22, 26};
    for (size_t o = 0; o < ARRAY_LEN(opsets); o++)
        for (size_t t = 0; t < ARRAY_LEN(dtypes); t++)
            for (int mask = 0; mask < 2; mask++) {
                dropout_case c = {opsets[o], dtypes[t], false, false, mask, 0, 0, false};
                check_dropout(&c);
            }
}
END_TEST

START_TEST(dropout_optional_inputs)
{
    static const dropout_case cases[] = {
        /* opset, dtype, ratio?, training?, mask?, ratio dtype, ratio, training */
        {12, ONNXC_DTYPE_FLOAT, true, false, true, ONNXC_DTYPE_FLOAT, 0.1, false},
        {13, ONNXC_DTYPE_FLOAT, true, true, true, ONNXC_DTYPE_FLOAT, 0.5, false},
        {13, ONNXC_DTYPE_DOUBLE, false, true, true, 0, 0, false},   /* ratio omitted */
        {22, ONNXC_DTYPE_FLOAT, true, true, true, ONNXC_DTYPE_FLOAT, 0.0, true},
        {22, ONNXC_DTYPE_FLOAT, true, true, false, ONNXC_DTYPE_DOUBLE, 0.0, true},
        {13, ONNXC_DTYPE_FLOAT16, true, true, true, ONNXC_DTYPE_FLOAT16, 0.0, true},
        {12, ONNXC_DTYPE_FLOAT, true, true, true, ONNXC_DTYPE_FLOAT, 1.5, false}, /* ignored */
    };
    for (size_t k = 0; k < ARRAY_LEN(cases); k++) check_dropout(&cases[k]);
}
END_TEST

static void expect_dropout_error(const dropout_case *c, onnxc_code code)
{
    oc_tensor out[2], tx;
    void *x;
    expect_code(run_dropout(c, out, &x, &tx), code);
    oh_free_outputs(2, out);
    free(x);
}

START_TEST(dropout_rejects)
{
    /* Random results are not reproducible: refused, whatever the ratio's type. */
    dropout_case random = {13, ONNXC_DTYPE_FLOAT, true, true, true, ONNXC_DTYPE_FLOAT, 0.5, true};
    expect_dropout_error(&random, ONNXC_ERR_UNSUPPORTED);
    random.ratio_dtype = ONNXC_DTYPE_FLOAT16;
    expect_dropout_error(&random, ONNXC_ERR_UNSUPPORTED);
    dropout_case default_ratio = {22, ONNXC_DTYPE_FLOAT, false, true, false, 0, 0, true};
    expect_dropout_error(&default_ratio, ONNXC_ERR_UNSUPPORTED); /* absent ratio = 0.5 */
    dropout_case bad_ratio = {13, ONNXC_DTYPE_DOUBLE, true, true, false, ONNXC_DTYPE_DOUBLE, 1.5,
                              true};
    expect_dropout_error(&bad_ratio, ONNXC_ERR_MODEL);
    dropout_case too_many = {10, ONNXC_DTYPE_FLOAT, true, false, false, ONNXC_DTYPE_FLOAT, 0, false};
    expect_dropout_error(&too_many, ONNXC_ERR_MODEL); /* one input before opset 12 */
    dropout_case int_ratio = {13, ONNXC_DTYPE_FLOAT, true, false, false, ONNXC_DTYPE_INT32, 0,
                              false};
    expect_dropout_error(&int_ratio, ONNXC_ERR_MODEL);
    dropout_case int_data = {13, ONNXC_DTYPE_INT32, false, false, false, 0, 0, false};
    expect_dropout_error(&int_data, ONNXC_ERR_UNSUPPORTED);

    /* training_mode must be a bool scalar; ratio a scalar. */
    static const int64_t two[1] = {2};
    float xv[2] = {1, 2}, rv[2] = {0, 0};
    unsigned char tv[2] = {0, 0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, two, xv);
    oc_tensor vec_ratio = oh_tensor(ONNXC_DTYPE_FLOAT, 1, two, rv);
    oc_tensor vec_training = oh_tensor(ONNXC_DTYPE_BOOL, 1, two, tv);
    oc_tensor float_training = oh_tensor(ONNXC_DTYPE_FLOAT, 0, two, rv);
    const oc_tensor *bad_inputs[][3] = {{&tx, &vec_ratio, NULL},
                                        {&tx, NULL, &vec_training},
                                        {&tx, NULL, &float_training}};
    for (size_t k = 0; k < ARRAY_LEN(bad_inputs); k++) {
        oh_node h;
        oh_init(&h, "Dropout", 13);
        oc_tensor out[1] = {{0}};
        expect_code(oh_run(&h, 3, bad_inputs[k], 1, out, NULL), ONNXC_ERR_MODEL);
        oh_free_outputs(1, out);
        oh_free(&h);
    }
    oh_node h;
    oh_init(&h, "Dropout", 7);
    oh_attr_float(&h, "ratio", -0.5f);
    oc_tensor out[1] = {{0}};
    const oc_tensor *in[] = {&tx};
    expect_code(oh_run(&h, 1, in, 1, out, NULL), ONNXC_ERR_MODEL);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

/* The mask alone, with the output omitted. */
START_TEST(dropout_mask_only)
{
    static const int64_t dims[2] = {2, 3};
    float xv[6] = {1, -2, 3, -4, 5, -6};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, xv);
    const oc_tensor *in[] = {&tx};
    const bool want[2] = {false, true};
    oc_tensor out[2] = {{0}};
    oh_node h;
    oh_init(&h, "Dropout", 13);
    expect_ok(oh_run(&h, 1, in, 2, out, want));
    ck_assert_ptr_null(out[0].data);
    ck_assert_int_eq(out[1].dtype, ONNXC_DTYPE_BOOL);
    for (size_t i = 0; i < 6; i++) ck_assert_int_eq(((unsigned char *)out[1].data)[i], 1);
    oh_free_outputs(2, out);
    oh_free(&h);
}
END_TEST

static Suite *ops_basic_suite(void)
{
    Suite *s = suite_create("ops_basic");
    TCase *add = tcase_create("add");
    tcase_add_loop_test(add, add_broadcast_patterns, 0, (int)ARRAY_LEN(bcast_cases));
    tcase_add_test(add, add_every_numpy_opset);
    tcase_add_test(add, add_rejects_bad_inputs);
    tcase_add_test(add, add_legacy_broadcast);
    tcase_add_test(add, add_legacy_no_broadcast);
    tcase_add_test(add, add_legacy_rejects);
    tcase_add_test(add, bcast_plan_collapses);
    tcase_add_test(add, bcast_in_place_accumulation);
    suite_add_tcase(s, add);

    TCase *relu = tcase_create("relu");
    tcase_add_test(relu, relu_every_dtype);
    tcase_add_test(relu, relu_rejects);
    suite_add_tcase(s, relu);

    TCase *concat = tcase_create("concat");
    tcase_add_test(concat, concat_every_axis);
    tcase_add_test(concat, concat_single_and_empty);
    tcase_add_test(concat, concat_rejects);
    suite_add_tcase(s, concat);

    TCase *flatten = tcase_create("flatten");
    tcase_add_test(flatten, flatten_every_axis);
    tcase_add_test(flatten, flatten_rejects);
    suite_add_tcase(s, flatten);

    TCase *pass = tcase_create("identity_dropout");
    tcase_add_test(pass, identity_copies);
    tcase_add_test(pass, dropout_inference_every_version);
    tcase_add_test(pass, dropout_optional_inputs);
    tcase_add_test(pass, dropout_rejects);
    tcase_add_test(pass, dropout_mask_only);
    suite_add_tcase(s, pass);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(ops_basic_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
