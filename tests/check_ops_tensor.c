/* The tensor-manipulation ops (Reshape, Unsqueeze, Squeeze, Expand, Shape,
 * Constant, ConstantOfShape, Cast, Gather, Slice, Split, Pad, Transpose)
 * through the op harness, each against a naive computation written here
 * (index arithmetic per element), and the data-movement kernels' fast paths
 * against their reference twins. Byte-level references assume a
 * little-endian host. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cast.h"
#include "kernels/gather.h"
#include "kernels/pad.h"
#include "kernels/strided.h"
#include "op_harness.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/* Every element type onnxc holds: 1-, 2-, 4- and 8-byte elements. */
static const onnxc_dtype all_dtypes[] = {
    ONNXC_DTYPE_FLOAT,  ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_FLOAT16, ONNXC_DTYPE_INT8,
    ONNXC_DTYPE_INT16,  ONNXC_DTYPE_INT32,  ONNXC_DTYPE_INT64,   ONNXC_DTYPE_UINT8,
    ONNXC_DTYPE_UINT16, ONNXC_DTYPE_UINT32, ONNXC_DTYPE_UINT64,  ONNXC_DTYPE_BOOL,
};

/* A non-NULL pointer for empty inputs whose data must look known. */
static int64_t no_values[1];

static size_t volume(int rank, const int64_t *dims)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++) n *= (size_t)dims[k];
    return n;
}

static void unravel(size_t flat, int rank, const int64_t *dims, int64_t *coord)
{
    for (int k = rank - 1; k >= 0; k--) {
        coord[k] = (int64_t)(flat % (size_t)dims[k]);
        flat /= (size_t)dims[k];
    }
}

static size_t ravel(int rank, const int64_t *dims, const int64_t *coord)
{
    size_t flat = 0;
    for (int k = 0; k < rank; k++) flat = flat * (size_t)dims[k] + (size_t)coord[k];
    return flat;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bits (bool: 0 or 1), distinct per element so misplaced bytes show. */
static void fill_bytes(onnxc_dtype dtype, void *data, size_t count, unsigned seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 11;
    size_t esize = onnxc_dtype_size(dtype);
    for (size_t i = 0; i < count; i++) {
        uint64_t v = next_random(&s);
        if (dtype == ONNXC_DTYPE_BOOL) v &= 1;
        memcpy((char *)data + i * esize, &v, esize);
    }
}

static void *alloc_random(onnxc_dtype dtype, size_t count, unsigned seed)
{
    void *p = malloc(count * onnxc_dtype_size(dtype) + 16);
    ck_assert_ptr_nonnull(p);
    fill_bytes(dtype, p, count, seed);
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

static void expect_dims(const oc_tensor *t, onnxc_dtype dtype, int rank, const int64_t *dims)
{
    ck_assert_int_eq(t->dtype, dtype);
    ck_assert_int_eq(t->rank, rank);
    for (int i = 0; i < rank; i++) ck_assert_int_eq(t->dims[i], dims[i]);
}

static oc_tensor vec_i64(const int64_t *v, size_t n)
{
    int64_t dims[1] = {(int64_t)n};
    return oh_tensor(ONNXC_DTYPE_INT64, 1, dims, n ? (void *)v : (void *)no_values);
}

static oc_tensor vec_i32(const int32_t *v, size_t n)
{
    int64_t dims[1] = {(int64_t)n};
    return oh_tensor(ONNXC_DTYPE_INT32, 1, dims, n ? (void *)v : (void *)no_values);
}

/* Runs a one-output op; the inputs flagged in known are visible to inference. */
static onnxc_status *run1(oh_node *h, int n_in, const oc_tensor *const *in, unsigned known,
                          oc_tensor *out)
{
    return oh_run_known(h, n_in, in, known, 1, out, NULL);
}

/* Runs, expects code, cleans up. */
static void expect_run_code(oh_node *h, int n_in, const oc_tensor *const *in, unsigned known,
                            onnxc_code code)
{
    oc_tensor out[1];
    expect_code(run1(h, n_in, in, known, out), code);
    oh_free_outputs(1, out);
    oh_free(h);
}

static void expect_bytes(const void *got, const void *want, size_t nbytes, const char *what)
{
    ck_assert_msg(nbytes == 0 || memcmp(got, want, nbytes) == 0, "%s: data differs", what);
}

/* A kernel test's output buffer: the bytes and a poisoned tail, checked after. */
static void *guarded_alloc(size_t nbytes)
{
    unsigned char *p = malloc(nbytes + 64);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xA5, nbytes + 64);
    return p;
}

static void expect_guard(const void *p, size_t nbytes)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < 64; i++) ck_assert_msg(b[nbytes + i] == 0xA5, "write past the end");
}

/* ---- Transpose ---- */

/* Each input element goes to the output position with coordinates permuted. */
static void naive_transpose(const void *x, void *y, size_t esize, int rank, const int64_t *dims,
                            const int *perm)
{
    int64_t out_dims[OC_MAX_RANK], c[OC_MAX_RANK], o[OC_MAX_RANK];
    for (int k = 0; k < rank; k++) out_dims[k] = dims[perm[k]];
    size_t n = volume(rank, dims);
    for (size_t i = 0; i < n; i++) {
        unravel(i, rank, dims, c);
        for (int k = 0; k < rank; k++) o[k] = c[perm[k]];
        memcpy((char *)y + ravel(rank, out_dims, o) * esize, (const char *)x + i * esize, esize);
    }
}

/* Next permutation in lexicographic order; false after the last. */
static bool next_perm(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] >= p[i + 1]) i--;
    if (i < 0) return false;
    int j = n - 1;
    while (p[j] <= p[i]) j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return true;
}

static void check_transpose(onnxc_dtype dtype, int rank, const int64_t *dims, const int *perm,
                            unsigned seed)
{
    size_t n = volume(rank, dims), esize = onnxc_dtype_size(dtype);
    void *x = alloc_random(dtype, n, seed), *want = malloc(n * esize + 1);
    naive_transpose(x, want, esize, rank, dims, perm);
    int64_t perm64[OC_MAX_RANK], out_dims[OC_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        perm64[k] = perm[k];
        out_dims[k] = dims[perm[k]];
    }
    oh_node h;
    oh_init(&h, "Transpose", 13);
    oh_attr_ints(&h, "perm", perm64, (size_t)rank);
    oc_tensor tx = oh_tensor(dtype, rank, dims, x), out[1];
    const oc_tensor *in[] = {&tx};
    expect_ok(run1(&h, 1, in, 0, out));
    expect_dims(&out[0], dtype, rank, out_dims);
    expect_bytes(out[0].data, want, n * esize, "transpose");
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
    free(want);
}

/* Every permutation of ranks 1-4, every dtype on rank 3. */
START_TEST(transpose_all_permutations)
{
    static const int64_t dims[4] = {2, 3, 4, 5};
    for (int rank = 1; rank <= 4; rank++) {
        int perm[4] = {0, 1, 2, 3};
        do {
            check_transpose(ONNXC_DTYPE_FLOAT, rank, dims, perm, (unsigned)rank);
        } while (next_perm(perm, rank));
    }
    static const int perm3[3] = {2, 0, 1};
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++)
        check_transpose(all_dtypes[d], 3, dims, perm3, (unsigned)d);
}
END_TEST

/* Large enough to cross tile edges, and ranks up to 8. */
START_TEST(transpose_large_and_high_rank)
{
    static const int64_t big[2] = {67, 45};
    static const int swap[2] = {1, 0};
    check_transpose(ONNXC_DTYPE_FLOAT, 2, big, swap, 1);
    check_transpose(ONNXC_DTYPE_UINT8, 2, big, swap, 2);
    check_transpose(ONNXC_DTYPE_INT64, 2, big, swap, 3);
    static const int64_t d8[8] = {2, 3, 1, 2, 3, 2, 1, 2};
    static const int p8[8] = {7, 0, 5, 2, 4, 1, 6, 3};
    check_transpose(ONNXC_DTYPE_INT16, 8, d8, p8, 4);
    static const int64_t d4[4] = {3, 40, 2, 37};
    static const int p4[4] = {0, 3, 2, 1};
    check_transpose(ONNXC_DTYPE_DOUBLE, 4, d4, p4, 5);
}
END_TEST

/* No perm: the dims reversed; zero-size dims; a scalar. */
START_TEST(transpose_default_and_empty)
{
    static const int64_t dims[3] = {2, 3, 4}, reversed[3] = {4, 3, 2};
    float x[24], want[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    static const int rev[3] = {2, 1, 0};
    naive_transpose(x, want, 4, 3, dims, rev);
    oh_node h;
    oh_init(&h, "Transpose", 1);
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, dims, x), out[1];
    const oc_tensor *in[] = {&tx};
    expect_ok(run1(&h, 1, in, 0, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 3, reversed);
    expect_bytes(out[0].data, want, sizeof want, "default perm");
    oh_free_outputs(1, out);
    oh_free(&h);

    static const int64_t zdims[3] = {2, 0, 3}, zout[3] = {3, 2, 0};
    static const int64_t zperm[3] = {2, 0, 1};
    oh_init(&h, "Transpose", 21);
    oh_attr_ints(&h, "perm", zperm, 3);
    tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, zdims, x);
    expect_ok(run1(&h, 1, in, 0, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 3, zout);
    ck_assert_uint_eq(out[0].count, 0);
    oh_free_outputs(1, out);
    oh_free(&h);

    oh_init(&h, "Transpose", 13);
    tx = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, x);
    expect_ok(run1(&h, 1, in, 0, out));
    ck_assert_int_eq(out[0].rank, 0);
    ck_assert(((float *)out[0].data)[0] == x[0]);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

START_TEST(transpose_rejects)
{
    static const int64_t dims[3] = {2, 3, 4};
    float x[24] = {0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, dims, x);
    const oc_tensor *in[] = {&tx};
    static const int64_t dup[3] = {0, 1, 1}, high[3] = {0, 1, 3}, neg[3] = {-1, 0, 1},
                         short_perm[2] = {1, 0}, long_perm[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    const struct {
        const int64_t *perm;
        size_t n;
        onnxc_code code;
    } cases[] = {
        {dup, 3, ONNXC_ERR_MODEL},   {high, 3, ONNXC_ERR_MODEL},      {neg, 3, ONNXC_ERR_MODEL},
        {short_perm, 2, ONNXC_ERR_MODEL}, {long_perm, 9, ONNXC_ERR_LIMIT},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        oh_node h;
        oh_init(&h, "Transpose", 13);
        oh_attr_ints(&h, "perm", cases[c].perm, cases[c].n);
        expect_run_code(&h, 1, in, 0, cases[c].code);
    }
    oh_node h;
    oh_init(&h, "Transpose", 13);
    oh_attr_int(&h, "axis", 1);
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
}
END_TEST

/* The kernels: the fast strided copy and transpose against their references,
 * over random shapes, permutations, element sizes (including odd ones) and
 * views with negative and zero strides. */
START_TEST(kernel_transpose_matches_reference)
{
    uint64_t s = 42;
    static const size_t sizes[] = {1, 2, 3, 4, 8, 16};
    for (int iter = 0; iter < 300; iter++) {
        int rank = 1 + (int)(next_random(&s) % 6);
        int64_t dims[8];
        for (int k = 0; k < rank; k++) dims[k] = 1 + (int64_t)(next_random(&s) % (rank <= 2 ? 70 : 7));
        int perm[8];
        for (int k = 0; k < rank; k++) perm[k] = k;
        for (int k = rank - 1; k > 0; k--) {
            int j = (int)(next_random(&s) % (uint64_t)(k + 1)), t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
        }
        size_t esize = sizes[next_random(&s) % ARRAY_LEN(sizes)];
        size_t nbytes = volume(rank, dims) * esize;
        unsigned char *x = malloc(nbytes), *fast = guarded_alloc(nbytes), *ref = guarded_alloc(nbytes);
        for (size_t i = 0; i < nbytes; i++) x[i] = (unsigned char)next_random(&s);
        oc_transpose(fast, x, esize, rank, dims, perm);
        oc_transpose_ref(ref, x, esize, rank, dims, perm);
        ck_assert_msg(memcmp(fast, ref, nbytes) == 0, "transpose differs (iteration %d)", iter);
        expect_guard(fast, nbytes);
        free(x);
        free(fast);
        free(ref);
    }
}
END_TEST

START_TEST(kernel_strided_matches_reference)
{
    uint64_t s = 7;
    static const size_t sizes[] = {1, 2, 4, 8, 5};
    for (int iter = 0; iter < 400; iter++) {
        /* A source block, and a view of it: random dims, strides of either
         * sign or 0, starting where every addressed element stays inside. */
        int rank = (int)(next_random(&s) % 5);
        int64_t dims[8], strides[8], lo = 0, hi = 0;
        for (int k = 0; k < rank; k++) {
            dims[k] = (int64_t)(next_random(&s) % 6);
            strides[k] = (int64_t)(next_random(&s) % 41) - 20;
            if (next_random(&s) % 4 == 0) strides[k] = 0;
            if (next_random(&s) % 4 == 0) strides[k] = 1;
            int64_t reach = strides[k] * (dims[k] > 0 ? dims[k] - 1 : 0);
            if (reach < 0) lo += reach;
            else hi += reach;
        }
        size_t esize = sizes[next_random(&s) % ARRAY_LEN(sizes)];
        size_t src_bytes = (size_t)(hi - lo + 1) * esize, nbytes = volume(rank, dims) * esize;
        unsigned char *src = malloc(src_bytes), *fast = guarded_alloc(nbytes), *ref = guarded_alloc(nbytes);
        for (size_t i = 0; i < src_bytes; i++) src[i] = (unsigned char)next_random(&s);
        const unsigned char *origin = src + (size_t)(-lo) * esize;
        oc_strided_copy(fast, origin, esize, rank, dims, strides);
        oc_strided_copy_ref(ref, origin, esize, rank, dims, strides);
        ck_assert_msg(memcmp(fast, ref, nbytes) == 0, "strided copy differs (iteration %d)", iter);
        expect_guard(fast, nbytes);
        free(src);
        free(fast);
        free(ref);
    }
}
END_TEST

/* ---- Slice ---- */

/* Python's slice(start, end, step).indices(dim) (CPython's
 * PySlice_AdjustIndices), then the positions one by one. ONNX's text differs
 * in one case: a start still negative after adding dim, with a negative step,
 * is clamped to 0 (Python makes it -1, an empty slice). Returns the count;
 * idx receives up to dim positions. */
static int64_t spec_slice(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *idx)
{
    if (dim == 0) return 0;
    if (start < 0) {
        start += dim;
        if (start < 0) start = 0;
    } else if (start >= dim) {
        start = step < 0 ? dim - 1 : dim;
    }
    if (end < 0) {
        end += dim;
        if (end < 0) end = step < 0 ? -1 : 0;
    } else if (end >= dim) {
        end = step < 0 ? dim - 1 : dim;
    }
    int64_t n = 0;
    for (int64_t i = start; step > 0 ? i < end : i > end;) {
        idx[n++] = i;
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    return n;
}

/* The naive slice of x (rank dims) given per-dim index lists. */
static void naive_gather_coords(const void *x, void *y, size_t esize, int rank,
                                const int64_t *in_dims, const int64_t *out_dims,
                                int64_t idx[][64])
{
    int64_t o[OC_MAX_RANK], c[OC_MAX_RANK];
    size_t n = volume(rank, out_dims);
    for (size_t i = 0; i < n; i++) {
        unravel(i, rank, out_dims, o);
        for (int k = 0; k < rank; k++) c[k] = idx[k][o[k]];
        memcpy((char *)y + i * esize, (const char *)x + ravel(rank, in_dims, c) * esize, esize);
    }
}

typedef struct slice_case {
    int rank;
    int64_t dims[4];
    int n;                 /* entries in the lists */
    int64_t starts[4], ends[4], axes[4], steps[4];
    bool has_axes, has_steps;
} slice_case;

#define BIG INT64_MAX
#define SMALL INT64_MIN

static const slice_case slice_cases[] = {
    {2, {5, 6}, 2, {1, 0}, {4, 3}, {0, 1}, {1, 1}, true, true},
    {3, {20, 10, 5}, 2, {0, 0}, {3, 10}, {0, 1}, {1, 1}, false, false},      /* default axes, steps */
    {3, {20, 10, 5}, 3, {0, 0, 3}, {20, 10, 4}, {0, 1, 2}, {1, 1, 1}, true, false},
    {3, {20, 10, 5}, 1, {1}, {1000}, {1}, {1}, true, true},                /* end out of bounds */
    {3, {20, 10, 5}, 1, {1000}, {1000}, {1}, {1}, true, true},             /* start out of bounds */
    {2, {20, 10}, 2, {0, 0}, {-1, -1}, {0, 1}, {1, 1}, true, true},        /* negative ends */
    {2, {20, 10}, 2, {20, 10}, {0, 0}, {0, 1}, {-1, -3}, true, true},      /* negative steps */
    {3, {20, 10, 5}, 2, {0, 0}, {3, 10}, {-3, -2}, {1, 1}, true, true},    /* negative axes */
    {2, {5, 6}, 2, {-1, BIG}, {SMALL, SMALL}, {0, 1}, {-1, -2}, true, true}, /* whole axes reversed */
    {2, {5, 6}, 2, {SMALL, 2}, {BIG, BIG}, {1, 0}, {2, BIG}, true, true},
    {2, {5, 6}, 1, {3}, {3}, {0}, {1}, true, true},                        /* empty result */
    {2, {5, 6}, 1, {-1}, {SMALL}, {1}, {SMALL}, true, true},               /* step INT64_MIN */
    {3, {4, 0, 3}, 1, {1}, {3}, {2}, {1}, true, true},                     /* zero-size input */
    {1, {7}, 0, {0}, {0}, {0}, {0}, true, true},                           /* no entries */
};

/* Runs Slice at opset with the lists as int64 (or int32) inputs, or as
 * attributes before opset 10, and compares with spec_slice. */
static void check_slice(const slice_case *c, int opset, onnxc_dtype dtype, bool int32_lists)
{
    int64_t idx[4][64], out_dims[4];
    for (int k = 0; k < c->rank; k++) {
        out_dims[k] = c->dims[k];
        for (int64_t i = 0; i < c->dims[k]; i++) idx[k][i] = i;
    }
    for (int i = 0; i < c->n; i++) {
        int64_t axis = c->has_axes ? c->axes[i] : i;
        if (axis < 0) axis += c->rank;
        int64_t step = c->has_steps ? c->steps[i] : 1;
        out_dims[axis] = spec_slice(c->dims[axis], c->starts[i], c->ends[i], step, idx[axis]);
    }
    size_t esize = onnxc_dtype_size(dtype), n_in = volume(c->rank, c->dims), n_out = volume(c->rank, out_dims);
    void *x = alloc_random(dtype, n_in, 3), *want = malloc(n_out * esize + 1);
    naive_gather_coords(x, want, esize, c->rank, c->dims, out_dims, idx);

    oh_node h;
    oh_init(&h, "Slice", opset);
    oc_tensor tx = oh_tensor(dtype, c->rank, c->dims, x), lists[4], out[1];
    int32_t l32[4][4];
    const int64_t *l64[4] = {c->starts, c->ends, c->axes, c->steps};
    int n_in_tensors = 1;
    if (opset < 10) {
        oh_attr_ints(&h, "starts", c->starts, (size_t)c->n);
        oh_attr_ints(&h, "ends", c->ends, (size_t)c->n);
        if (c->has_axes) oh_attr_ints(&h, "axes", c->axes, (size_t)c->n);
    } else {
        n_in_tensors = c->has_steps ? 5 : c->has_axes ? 4 : 3;
        for (int l = 0; l < 4; l++) {
            for (int i = 0; i < c->n; i++) l32[l][i] = (int32_t)(l64[l][i] > INT32_MAX ? INT32_MAX
                                                      : l64[l][i] < INT32_MIN ? INT32_MIN : l64[l][i]);
            lists[l] = int32_lists ? vec_i32(l32[l], (size_t)c->n) : vec_i64(l64[l], (size_t)c->n);
        }
    }
    const oc_tensor *in[5] = {&tx, &lists[0], &lists[1], c->has_axes ? &lists[2] : NULL, &lists[3]};
    expect_ok(run1(&h, n_in_tensors, in, ~1u, out));
    expect_dims(&out[0], dtype, c->rank, out_dims);
    expect_bytes(out[0].data, want, n_out * esize, "slice");
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
    free(want);
}

START_TEST(slice_cases_every_form)
{
    const slice_case *c = &slice_cases[_i];
    check_slice(c, 13, ONNXC_DTYPE_FLOAT, false);
    check_slice(c, 11, ONNXC_DTYPE_INT64, false);
    bool fits_int32 = true;
    for (int i = 0; i < c->n; i++)
        fits_int32 &= c->starts[i] == (int32_t)c->starts[i] && c->ends[i] == (int32_t)c->ends[i] &&
                      c->steps[i] == (int32_t)c->steps[i];
    if (fits_int32) check_slice(c, 10, ONNXC_DTYPE_UINT8, true);
    bool unit_steps = true; /* expressible with the attributes of opsets 1-9 */
    for (int i = 0; i < c->n; i++) unit_steps &= !c->has_steps || c->steps[i] == 1;
    if (unit_steps) check_slice(c, 1, ONNXC_DTYPE_INT16, false);
}
END_TEST

START_TEST(slice_every_dtype)
{
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        check_slice(&slice_cases[6], 13, all_dtypes[d], false);
        check_slice(&slice_cases[0], 13, all_dtypes[d], true);
    }
}
END_TEST

/* Every start, end and step near a small dim, and the int64 extremes:
 * the clamping rules against spec_slice. */
START_TEST(slice_clamping_sweep)
{
    static const int64_t points[] = {SMALL, SMALL + 1, -9, -6, -5, -4, -1, 0, 1, 3, 4, 5, 6, 9, BIG - 1, BIG};
    static const int64_t steps[] = {SMALL, -BIG, -3, -2, -1, 1, 2, 3, 5, BIG};
    int64_t data[5] = {10, 11, 12, 13, 14};
    for (int64_t dim = 0; dim <= 5; dim++)
        for (size_t a = 0; a < ARRAY_LEN(points); a++)
            for (size_t b = 0; b < ARRAY_LEN(points); b++)
                for (size_t c = 0; c < ARRAY_LEN(steps); c++) {
                    int64_t idx[8];
                    int64_t n = spec_slice(dim, points[a], points[b], steps[c], idx);
                    oh_node h;
                    oh_init(&h, "Slice", 13);
                    oc_tensor tx = oh_tensor(ONNXC_DTYPE_INT64, 1, &dim, data), out[1];
                    oc_tensor ts = vec_i64(&points[a], 1), te = vec_i64(&points[b], 1);
                    oc_tensor tp = vec_i64(&steps[c], 1);
                    const oc_tensor *in[] = {&tx, &ts, &te, NULL, &tp};
                    expect_ok(run1(&h, 5, in, ~1u, out));
                    ck_assert_msg(out[0].dims[0] == n, "dim %lld [%lld:%lld:%lld]: %lld, want %lld",
                                  (long long)dim, (long long)points[a], (long long)points[b],
                                  (long long)steps[c], (long long)out[0].dims[0], (long long)n);
                    for (int64_t i = 0; i < n; i++)
                        ck_assert_int_eq(((int64_t *)out[0].data)[i], data[idx[i]]);
                    oh_free_outputs(1, out);
                    oh_free(&h);
                }
}
END_TEST

START_TEST(slice_rejects)
{
    static const int64_t dims[2] = {4, 5};
    float x[20] = {0};
    static const int64_t zero[1] = {0}, one[1] = {1}, two[2] = {0, 1}, five[1] = {5},
                         dup_axes[2] = {1, -1}, three[3] = {0, 0, 0};
    static const float fstart[1] = {0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    oc_tensor t0 = vec_i64(zero, 1), t1 = vec_i64(one, 1), t2 = vec_i64(two, 2), t5 = vec_i64(five, 1);
    oc_tensor tdup = vec_i64(dup_axes, 2), t3 = vec_i64(three, 3);
    int64_t one_dim = 1;
    oc_tensor tf = oh_tensor(ONNXC_DTYPE_FLOAT, 1, &one_dim, (void *)fstart);
    oh_node h;

    const oc_tensor *zero_step[] = {&tx, &t0, &t1, &t0, &t0};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 5, zero_step, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *axis_out[] = {&tx, &t0, &t1, &t5};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 4, axis_out, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *dup[] = {&tx, &t2, &t2, &tdup};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 4, dup, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *lengths[] = {&tx, &t2, &t1};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 3, lengths, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *too_many[] = {&tx, &t3, &t3};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 3, too_many, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *float_starts[] = {&tx, &tf, &t1};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 3, float_starts, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *missing_ends[] = {&tx, &t0, NULL};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 3, missing_ends, ~0u, ONNXC_ERR_MODEL);
    /* Starts known only at run time: the output shape cannot be planned. */
    const oc_tensor *ok[] = {&tx, &t0, &t1};
    oh_init(&h, "Slice", 13);
    expect_run_code(&h, 3, ok, 1u | 4u, ONNXC_ERR_UNSUPPORTED);

    /* Attributes before opset 10; inputs are not allowed there, nor attributes after. */
    oh_init(&h, "Slice", 1);
    oh_attr_ints(&h, "starts", zero, 1);
    const oc_tensor *only_x[] = {&tx};
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Slice", 9);
    oh_attr_ints(&h, "starts", zero, 1);
    oh_attr_ints(&h, "ends", two, 2);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Slice", 9);
    oh_attr_ints(&h, "starts", zero, 1);
    oh_attr_ints(&h, "ends", one, 1);
    expect_run_code(&h, 3, ok, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Slice", 10);
    oh_attr_ints(&h, "starts", zero, 1);
    expect_run_code(&h, 3, ok, ~0u, ONNXC_ERR_MODEL);
}
END_TEST

/* ---- Gather ---- */

/* out[pre, j..., post] = x[pre, wrap(indices[j...]), post]. */
static void naive_gather(const void *x, void *y, size_t esize, int rank, const int64_t *dims,
                         int axis, const int64_t *indices, int q, const int64_t *idims)
{
    int64_t out_dims[OC_MAX_RANK], o[OC_MAX_RANK], c[OC_MAX_RANK], ic[OC_MAX_RANK];
    int r = 0;
    for (int k = 0; k < axis; k++) out_dims[r++] = dims[k];
    for (int k = 0; k < q; k++) out_dims[r++] = idims[k];
    for (int k = axis + 1; k < rank; k++) out_dims[r++] = dims[k];
    size_t n = volume(r, out_dims);
    for (size_t i = 0; i < n; i++) {
        unravel(i, r, out_dims, o);
        for (int k = 0; k < axis; k++) c[k] = o[k];
        for (int k = 0; k < q; k++) ic[k] = o[axis + k];
        int64_t v = indices[ravel(q, idims, ic)];
        c[axis] = v < 0 ? v + dims[axis] : v;
        for (int k = axis + 1; k < rank; k++) c[k] = o[k + q - 1];
        memcpy((char *)y + i * esize, (const char *)x + ravel(rank, dims, c) * esize, esize);
    }
}

static void check_gather(onnxc_dtype dtype, int opset, int rank, const int64_t *dims, int64_t axis,
                         const int64_t *indices, int q, const int64_t *idims, bool int32_indices,
                         bool known)
{
    int a = (int)(axis < 0 ? axis + rank : axis);
    size_t esize = onnxc_dtype_size(dtype), n_in = volume(rank, dims), n_idx = volume(q, idims);
    int64_t out_dims[OC_MAX_RANK];
    int r = 0;
    for (int k = 0; k < a; k++) out_dims[r++] = dims[k];
    for (int k = 0; k < q; k++) out_dims[r++] = idims[k];
    for (int k = a + 1; k < rank; k++) out_dims[r++] = dims[k];
    size_t n_out = volume(r, out_dims);
    void *x = alloc_random(dtype, n_in, 9), *want = malloc(n_out * esize + 1);
    naive_gather(x, want, esize, rank, dims, a, indices, q, idims);
    int32_t i32[64];
    for (size_t i = 0; i < n_idx; i++) i32[i] = (int32_t)indices[i];
    oh_node h;
    oh_init(&h, "Gather", opset);
    oh_attr_int(&h, "axis", axis);
    oc_tensor tx = oh_tensor(dtype, rank, dims, x), out[1];
    oc_tensor ti = oh_tensor(int32_indices ? ONNXC_DTYPE_INT32 : ONNXC_DTYPE_INT64, q, idims,
                             int32_indices ? (void *)i32 : (void *)indices);
    const oc_tensor *in[] = {&tx, &ti};
    expect_ok(run1(&h, 2, in, known ? 2u : 0u, out));
    expect_dims(&out[0], dtype, r, out_dims);
    expect_bytes(out[0].data, want, n_out * esize, "gather");
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
    free(want);
}

START_TEST(gather_axes_and_index_shapes)
{
    static const int64_t dims[3] = {5, 4, 3};
    static const int64_t idx1[4] = {0, 4, -1, 2}, idims1[1] = {4};
    static const int64_t idx2[6] = {1, -3, 2, 0, -1, 1}, idims2[2] = {2, 3};
    static const int64_t scalar[1] = {-2};
    for (int64_t axis = -3; axis < 3; axis++) {
        check_gather(ONNXC_DTYPE_FLOAT, 13, 3, dims, axis, idx2, 2, idims2, false, false);
        check_gather(ONNXC_DTYPE_FLOAT, 11, 3, dims, axis, scalar, 0, NULL, true, false);
    }
    check_gather(ONNXC_DTYPE_INT64, 1, 3, dims, 0, idx1, 1, idims1, false, true);
    check_gather(ONNXC_DTYPE_INT64, 13, 3, dims, 0, idx1, 1, idims1, true, true);
    static const int64_t one_dim[1] = {5};
    check_gather(ONNXC_DTYPE_DOUBLE, 13, 1, one_dim, 0, idx2, 2, idims2, false, false);
}
END_TEST

START_TEST(gather_every_dtype_and_empty)
{
    static const int64_t dims[2] = {3, 4};
    static const int64_t idx[3] = {2, -3, 0}, idims[1] = {3};
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        check_gather(all_dtypes[d], 13, 2, dims, 1, idx, 1, idims, d % 2 == 0, false);
        check_gather(all_dtypes[d], 13, 2, dims, 0, idx, 1, idims, d % 2 == 1, false);
    }
    static const int64_t no_idx_dims[1] = {0};
    check_gather(ONNXC_DTYPE_FLOAT, 13, 2, dims, 1, no_values, 1, no_idx_dims, false, false);
    static const int64_t zero_rows[2] = {0, 4};
    check_gather(ONNXC_DTYPE_FLOAT, 13, 2, zero_rows, 1, idx, 1, idims, false, false);
}
END_TEST

START_TEST(gather_rejects)
{
    static const int64_t dims[2] = {3, 4}, idims[1] = {2};
    float x[12] = {0};
    static const int64_t bad_high[2] = {0, 3}, bad_low[2] = {-4, 0};
    static const float fidx[2] = {0, 1};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    oh_node h;
    for (int k = 0; k < 2; k++) {
        oc_tensor ti = oh_tensor(ONNXC_DTYPE_INT64, 1, idims, (void *)(k ? bad_low : bad_high));
        const oc_tensor *in[] = {&tx, &ti};
        /* Indices known at inference: an invalid model; otherwise caught at run. */
        oh_init(&h, "Gather", 13);
        expect_run_code(&h, 2, in, 2u, ONNXC_ERR_MODEL);
        oh_init(&h, "Gather", 13);
        expect_run_code(&h, 2, in, 0u, ONNXC_ERR_ARGUMENT);
    }
    /* Every index of an empty axis is out of range. */
    static const int64_t empty_axis[2] = {3, 0}, zero_idx[1] = {0}, one[1] = {1};
    oc_tensor te = oh_tensor(ONNXC_DTYPE_FLOAT, 2, empty_axis, x);
    oc_tensor tz = oh_tensor(ONNXC_DTYPE_INT64, 1, one, (void *)zero_idx);
    const oc_tensor *empty_in[] = {&te, &tz};
    oh_init(&h, "Gather", 13);
    oh_attr_int(&h, "axis", 1);
    expect_run_code(&h, 2, empty_in, 0u, ONNXC_ERR_ARGUMENT);

    oc_tensor tf = oh_tensor(ONNXC_DTYPE_FLOAT, 1, idims, (void *)fidx);
    const oc_tensor *float_idx[] = {&tx, &tf};
    oh_init(&h, "Gather", 13);
    expect_run_code(&h, 2, float_idx, 0u, ONNXC_ERR_MODEL);
    oc_tensor ti = oh_tensor(ONNXC_DTYPE_INT64, 1, idims, (void *)zero_idx);
    const oc_tensor *in[] = {&tx, &ti};
    oh_init(&h, "Gather", 13);
    oh_attr_int(&h, "axis", 2);
    expect_run_code(&h, 2, in, 0u, ONNXC_ERR_MODEL);
    oc_tensor scalar = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, x);
    const oc_tensor *scalar_in[] = {&scalar, &ti};
    oh_init(&h, "Gather", 13);
    expect_run_code(&h, 2, scalar_in, 0u, ONNXC_ERR_MODEL);
    /* rank 5 data with rank 5 indices: rank 9 output. */
    static const int64_t d5[5] = {1, 1, 1, 1, 1};
    oc_tensor t5 = oh_tensor(ONNXC_DTYPE_FLOAT, 5, d5, x), i5 = oh_tensor(ONNXC_DTYPE_INT64, 5, d5, (void *)zero_idx);
    const oc_tensor *deep[] = {&t5, &i5};
    oh_init(&h, "Gather", 13);
    expect_run_code(&h, 2, deep, 0u, ONNXC_ERR_LIMIT);
}
END_TEST

START_TEST(kernel_gather_matches_reference)
{
    uint64_t s = 99;
    static const size_t sizes[] = {1, 2, 4, 8, 3, 12};
    for (int iter = 0; iter < 300; iter++) {
        size_t outer = next_random(&s) % 5, axis_dim = 1 + next_random(&s) % 9;
        size_t inner = next_random(&s) % 3 == 0 ? 1 : next_random(&s) % 7;
        size_t n_idx = next_random(&s) % 12, esize = sizes[next_random(&s) % ARRAY_LEN(sizes)];
        int64_t idx[12];
        for (size_t j = 0; j < n_idx; j++) idx[j] = (int64_t)(next_random(&s) % axis_dim);
        size_t in_bytes = outer * axis_dim * inner * esize, nbytes = outer * n_idx * inner * esize;
        unsigned char *x = malloc(in_bytes + 1), *fast = guarded_alloc(nbytes), *ref = guarded_alloc(nbytes);
        for (size_t i = 0; i < in_bytes; i++) x[i] = (unsigned char)next_random(&s);
        oc_gather(fast, x, esize, outer, axis_dim, inner, idx, n_idx);
        oc_gather_ref(ref, x, esize, outer, axis_dim, inner, idx, n_idx);
        ck_assert_msg(memcmp(fast, ref, nbytes) == 0, "gather differs (iteration %d)", iter);
        expect_guard(fast, nbytes);
        free(x);
        free(fast);
        free(ref);
    }
}
END_TEST

/* ---- Split ---- */

/* Output k: the elements of x whose coordinate on axis lies in
 * [offset_k, offset_k + sizes[k]). */
static void naive_split_part(const void *x, void *y, size_t esize, int rank, const int64_t *dims,
                             int axis, int64_t offset, int64_t size)
{
    int64_t od[OC_MAX_RANK], o[OC_MAX_RANK];
    memcpy(od, dims, (size_t)rank * sizeof *dims);
    od[axis] = size;
    size_t n = volume(rank, od);
    for (size_t i = 0; i < n; i++) {
        unravel(i, rank, od, o);
        o[axis] += offset;
        memcpy((char *)y + i * esize, (const char *)x + ravel(rank, dims, o) * esize, esize);
    }
}

typedef enum split_form { SPLIT_EQUAL, SPLIT_ATTR, SPLIT_INPUT, SPLIT_NUM_OUTPUTS } split_form;

static void check_split(onnxc_dtype dtype, int opset, split_form form, int rank, const int64_t *dims,
                        int64_t axis, int n_out, const int64_t *sizes)
{
    int a = (int)(axis < 0 ? axis + rank : axis);
    size_t esize = onnxc_dtype_size(dtype);
    void *x = alloc_random(dtype, volume(rank, dims), 5);
    oh_node h;
    oh_init(&h, "Split", opset);
    oh_attr_int(&h, "axis", axis);
    if (form == SPLIT_ATTR) oh_attr_ints(&h, "split", sizes, (size_t)n_out);
    if (form == SPLIT_NUM_OUTPUTS) oh_attr_int(&h, "num_outputs", n_out);
    oc_tensor tx = oh_tensor(dtype, rank, dims, x), ts = vec_i64(sizes, (size_t)n_out), out[8];
    const oc_tensor *in[] = {&tx, &ts};
    expect_ok(oh_run_known(&h, form == SPLIT_INPUT ? 2 : 1, in, 2u, n_out, out, NULL));
    int64_t offset = 0;
    for (int k = 0; k < n_out; k++) {
        int64_t od[OC_MAX_RANK];
        memcpy(od, dims, (size_t)rank * sizeof *dims);
        od[a] = sizes[k];
        expect_dims(&out[k], dtype, rank, od);
        void *want = malloc(volume(rank, od) * esize + 1);
        naive_split_part(x, want, esize, rank, dims, a, offset, sizes[k]);
        expect_bytes(out[k].data, want, volume(rank, od) * esize, "split");
        free(want);
        offset += sizes[k];
    }
    oh_free_outputs(n_out, out);
    oh_free(&h);
    free(x);
}

START_TEST(split_every_form)
{
    static const int64_t d1[1] = {6}, d2[2] = {2, 6}, d3[3] = {3, 7, 2};
    static const int64_t equal3[3] = {2, 2, 2}, equal2[2] = {1, 1}, var[2] = {2, 4};
    static const int64_t uneven[3] = {3, 3, 1}, zeros[4] = {0, 0, 7, 0}, big_chunks[2] = {4, 3};
    /* Default: equal parts, at every opset family. */
    static const int opsets[] = {1, 2, 11, 13, 18};
    for (size_t o = 0; o < ARRAY_LEN(opsets); o++) {
        int opset = opsets[o];
        check_split(ONNXC_DTYPE_FLOAT, opset, SPLIT_EQUAL, 1, d1, 0, 3, equal3);
        check_split(ONNXC_DTYPE_FLOAT, opset, SPLIT_EQUAL, 2, d2, 1, 3, equal3);
        check_split(ONNXC_DTYPE_FLOAT, opset, SPLIT_EQUAL, 2, d2, 0, 2, equal2);
    }
    check_split(ONNXC_DTYPE_FLOAT, 2, SPLIT_ATTR, 2, d2, 1, 2, var);
    check_split(ONNXC_DTYPE_FLOAT, 11, SPLIT_ATTR, 2, d2, -1, 2, var);
    check_split(ONNXC_DTYPE_FLOAT, 1, SPLIT_INPUT, 1, d1, 0, 2, var);
    check_split(ONNXC_DTYPE_FLOAT, 13, SPLIT_INPUT, 2, d2, -1, 2, var);
    check_split(ONNXC_DTYPE_FLOAT, 18, SPLIT_INPUT, 3, d3, 1, 4, zeros);
    check_split(ONNXC_DTYPE_FLOAT, 18, SPLIT_NUM_OUTPUTS, 3, d3, 1, 3, uneven);
    check_split(ONNXC_DTYPE_FLOAT, 18, SPLIT_NUM_OUTPUTS, 3, d3, -2, 2, big_chunks);
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++)
        check_split(all_dtypes[d], 13, SPLIT_INPUT, 3, d3, 1, 3, uneven);
}
END_TEST

/* An omitted output is skipped, the others still land right. */
START_TEST(split_omitted_output)
{
    static const int64_t dims[1] = {6};
    float x[6] = {0, 1, 2, 3, 4, 5};
    oh_node h;
    oh_init(&h, "Split", 13);
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, x), out[3];
    const oc_tensor *in[] = {&tx};
    const bool want[3] = {true, false, true};
    expect_ok(oh_run_known(&h, 1, in, 0, 3, out, want));
    ck_assert_ptr_null(out[1].data);
    ck_assert(((float *)out[0].data)[1] == 1.0f && ((float *)out[2].data)[0] == 4.0f);
    oh_free_outputs(3, out);
    oh_free(&h);
}
END_TEST

static void expect_split_code(oh_node *h, int n_in, const oc_tensor *const *in, unsigned known,
                              int n_out, onnxc_code code)
{
    oc_tensor out[4];
    expect_code(oh_run_known(h, n_in, in, known, n_out, out, NULL), code);
    oh_free_outputs(n_out, out);
    oh_free(h);
}

START_TEST(split_rejects)
{
    static const int64_t dims[2] = {2, 7};
    float x[14] = {0};
    static const int64_t sum_off[2] = {3, 3}, negative[2] = {8, -1}, fine[2] = {3, 4};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    oc_tensor t_off = vec_i64(sum_off, 2), t_neg = vec_i64(negative, 2), t_fine = vec_i64(fine, 2);
    const oc_tensor *only_x[] = {&tx}, *off[] = {&tx, &t_off}, *neg[] = {&tx, &t_neg},
                    *ok[] = {&tx, &t_fine};
    oh_node h;
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL); /* 7 does not halve */
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 2, off, ~0u, 2, ONNXC_ERR_MODEL);
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 2, neg, ~0u, 2, ONNXC_ERR_MODEL);
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 2, ok, ~0u, 3, ONNXC_ERR_MODEL); /* 2 sizes, 3 outputs */
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 2, ok, 1u, 2, ONNXC_ERR_UNSUPPORTED); /* sizes known at run time only */
    oh_init(&h, "Split", 11);
    oh_attr_int(&h, "axis", 1);
    expect_split_code(&h, 2, ok, ~0u, 2, ONNXC_ERR_MODEL); /* no input 'split' at 2-12 */
    oh_init(&h, "Split", 10);
    oh_attr_int(&h, "axis", -1);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL); /* negative axis before 11 */
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 2);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL);
    oh_init(&h, "Split", 11);
    oh_attr_ints(&h, "split", fine, 2);
    expect_split_code(&h, 1, only_x, 0, 3, ONNXC_ERR_MODEL); /* 2 sizes, 3 outputs */
    oh_init(&h, "Split", 13);
    oh_attr_ints(&h, "split", fine, 2);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL); /* attribute gone at 13 */
    oh_init(&h, "Split", 17);
    oh_attr_int(&h, "num_outputs", 2);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL); /* num_outputs from 18 */
    oh_init(&h, "Split", 18);
    oh_attr_int(&h, "num_outputs", 3);
    expect_split_code(&h, 1, only_x, 0, 2, ONNXC_ERR_MODEL);
    oh_init(&h, "Split", 18);
    oh_attr_int(&h, "axis", 1);
    oh_attr_int(&h, "num_outputs", 2);
    expect_split_code(&h, 2, ok, ~0u, 2, ONNXC_ERR_MODEL); /* both forms */
    /* num_outputs 4 on 5 elements: chunks of 2 leave -1 for the last. */
    static const int64_t five[1] = {5};
    oc_tensor t5 = oh_tensor(ONNXC_DTYPE_FLOAT, 1, five, x);
    const oc_tensor *in5[] = {&t5};
    oh_init(&h, "Split", 18);
    oh_attr_int(&h, "num_outputs", 4);
    expect_split_code(&h, 1, in5, 0, 4, ONNXC_ERR_MODEL);
}
END_TEST

/* ---- Pad ---- */

/* numpy's pad after cropping (as ONNX Runtime orders them): for each output
 * coordinate, its position in the kept part of each dim, moved back inside
 * by the mode; -1 for the constant. */
static int64_t naive_pad_index(oc_pad_mode mode, int64_t o, int64_t begin, int64_t end,
                               int64_t dim)
{
    int64_t crop = begin < 0 ? -begin : 0, kept = dim - crop - (end < 0 ? -end : 0);
    int64_t j = o - (begin > 0 ? begin : 0);
    if (j < 0 || j >= kept) {
        switch (mode) {
        case OC_PAD_CONSTANT: return -1;
        case OC_PAD_EDGE: j = j < 0 ? 0 : kept - 1; break;
        case OC_PAD_REFLECT: /* bounce off both ends until inside */
            while (j < 0 || j >= kept) j = j < 0 ? -j : 2 * (kept - 1) - j;
            break;
        case OC_PAD_WRAP:
            while (j < 0) j += kept;
            while (j >= kept) j -= kept;
            break;
        }
    }
    return crop + j;
}

static void naive_pad(const void *x, void *y, size_t esize, int rank, const int64_t *dims,
                      const int64_t *begin, const int64_t *end, oc_pad_mode mode, const void *value)
{
    int64_t od[OC_MAX_RANK], o[OC_MAX_RANK], c[OC_MAX_RANK];
    for (int k = 0; k < rank; k++) od[k] = dims[k] + begin[k] + end[k];
    size_t n = volume(rank, od);
    for (size_t i = 0; i < n; i++) {
        unravel(i, rank, od, o);
        bool constant = false;
        for (int k = 0; k < rank; k++) {
            c[k] = naive_pad_index(mode, o[k], begin[k], end[k], dims[k]);
            constant |= c[k] < 0;
        }
        const void *from = constant ? value : (const char *)x + ravel(rank, dims, c) * esize;
        memcpy((char *)y + i * esize, from, esize);
    }
}

typedef struct pad_case {
    int rank;
    int64_t dims[4];
    int64_t begin[4], end[4];
} pad_case;

static const pad_case pad_cases[] = {
    {2, {3, 4}, {1, 2}, {2, 1}},
    {2, {3, 4}, {0, 3}, {0, 3}},
    {3, {2, 3, 4}, {1, 0, 2}, {0, 2, 1}},
    {2, {3, 4}, {-1, 1}, {1, -2}},     /* crop and pad */
    {2, {4, 5}, {-2, -1}, {-1, -1}},   /* crop only */
    {1, {5}, {4, 0}, {0, 4}},
    {4, {2, 1, 3, 2}, {0, 0, 2, 1}, {1, 0, 1, 1}},
};

static const char *const pad_mode_names[] = {"constant", "reflect", "edge", "wrap"};

/* Whether the case is valid in mode (reflect needs pads below the kept size). */
static bool pad_case_fits(const pad_case *c, oc_pad_mode mode)
{
    for (int k = 0; k < c->rank; k++) {
        int64_t kept = c->dims[k] - (c->begin[k] < 0 ? -c->begin[k] : 0) - (c->end[k] < 0 ? -c->end[k] : 0);
        if (mode == OC_PAD_REFLECT && (c->begin[k] >= kept || c->end[k] >= kept) &&
            (c->begin[k] > 0 || c->end[k] > 0))
            return false;
    }
    return true;
}

/* Runs Pad at opset (its form: attributes before 11, inputs after, axes
 * from 18 when use_axes) and compares with naive_pad. */
static void check_pad(const pad_case *c, oc_pad_mode mode, int opset, onnxc_dtype dtype,
                      bool use_axes, bool value_input)
{
    size_t esize = onnxc_dtype_size(dtype), n_in = volume(c->rank, c->dims);
    int64_t od[4], pads[8], axes[4];
    for (int k = 0; k < c->rank; k++) od[k] = c->dims[k] + c->begin[k] + c->end[k];
    size_t n_out = volume(c->rank, od);
    void *x = alloc_random(dtype, n_in, 17), *want = malloc(n_out * esize + 1);
    /* The constant: from the input in the data's type, or the float attribute cast. */
    unsigned char value[8] = {0};
    float fvalue = 3.0f;
    if (mode == OC_PAD_CONSTANT) {
        if (value_input) fill_bytes(dtype, value, 1, 77);
        else if (opset < 11) oc_cast(value, dtype, &fvalue, ONNXC_DTYPE_FLOAT, 1);
    }
    naive_pad(x, want, esize, c->rank, c->dims, c->begin, c->end, mode, value);
    /* With axes: list the dims in reverse and as negative numbers. */
    int n_axes = c->rank;
    for (int i = 0; i < n_axes; i++) {
        int k = use_axes ? c->rank - 1 - i : i;
        axes[i] = use_axes ? k - c->rank : k;
        pads[i] = c->begin[k];
        pads[i + n_axes] = c->end[k];
    }
    oh_node h;
    oh_init(&h, "Pad", opset);
    if (mode != OC_PAD_CONSTANT || opset % 2) oh_attr_string(&h, "mode", pad_mode_names[mode]);
    oc_tensor tx = oh_tensor(dtype, c->rank, c->dims, x), out[1];
    int64_t one = 1;
    oc_tensor tp = vec_i64(pads, (size_t)(2 * n_axes)), ta = vec_i64(axes, (size_t)n_axes);
    oc_tensor tv = oh_tensor(dtype, value_input && opset % 3 ? 0 : 1, &one, value);
    int n_inputs = 1;
    if (opset < 11) {
        oh_attr_ints(&h, opset == 1 ? "paddings" : "pads", pads, (size_t)(2 * n_axes));
        if (mode == OC_PAD_CONSTANT) oh_attr_float(&h, "value", fvalue);
    } else {
        n_inputs = use_axes ? 4 : value_input ? 3 : 2;
    }
    const oc_tensor *in[4] = {&tx, &tp, value_input ? &tv : NULL, &ta};
    expect_ok(run1(&h, n_inputs, in, 2u | 8u, out));
    expect_dims(&out[0], dtype, c->rank, od);
    expect_bytes(out[0].data, want, n_out * esize, "pad");
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
    free(want);
}

START_TEST(pad_every_mode_and_form)
{
    const pad_case *c = &pad_cases[_i];
    for (int m = OC_PAD_CONSTANT; m <= OC_PAD_WRAP; m++) {
        if (!pad_case_fits(c, (oc_pad_mode)m)) continue;
        if (m != OC_PAD_WRAP) {
            check_pad(c, (oc_pad_mode)m, 1, ONNXC_DTYPE_FLOAT, false, false);
            check_pad(c, (oc_pad_mode)m, 2, ONNXC_DTYPE_DOUBLE, false, false);
            check_pad(c, (oc_pad_mode)m, 11, ONNXC_DTYPE_FLOAT, false, false);
            check_pad(c, (oc_pad_mode)m, 13, ONNXC_DTYPE_INT32, false, true);
        }
        check_pad(c, (oc_pad_mode)m, 19, ONNXC_DTYPE_FLOAT, false, true);
        check_pad(c, (oc_pad_mode)m, 21, ONNXC_DTYPE_UINT8, true, true);
        check_pad(c, (oc_pad_mode)m, 24, ONNXC_DTYPE_INT64, true, false);
    }
}
END_TEST

START_TEST(pad_every_dtype)
{
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++)
        for (int m = OC_PAD_CONSTANT; m <= OC_PAD_WRAP; m++) {
            check_pad(&pad_cases[2], (oc_pad_mode)m, 19, all_dtypes[d], false, true);
            if (m == OC_PAD_CONSTANT) check_pad(&pad_cases[2], OC_PAD_CONSTANT, 2, all_dtypes[d], false, false);
        }
}
END_TEST

/* Axes naming only some dims; a zero-size input padded with the constant;
 * an empty output; a scalar. */
START_TEST(pad_partial_axes_and_empty)
{
    static const int64_t dims[3] = {2, 3, 2}, pads[2] = {1, 2}, axes[1] = {1}, od[3] = {2, 6, 2};
    float x[12], value = -7.0f;
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    oh_node h;
    oh_init(&h, "Pad", 18);
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, dims, x), tp = vec_i64(pads, 2), ta = vec_i64(axes, 1), out[1];
    oc_tensor tv = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, &value);
    const oc_tensor *in[] = {&tx, &tp, &tv, &ta};
    expect_ok(run1(&h, 4, in, ~0u, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 3, od);
    static const int64_t begin[3] = {0, 1, 0}, end[3] = {0, 2, 0};
    float want[24];
    naive_pad(x, want, 4, 3, dims, begin, end, OC_PAD_CONSTANT, &value);
    expect_bytes(out[0].data, want, sizeof want, "pad axes");
    oh_free_outputs(1, out);
    oh_free(&h);

    static const int64_t zdims[2] = {0, 2}, zpads[4] = {1, 0, 1, 1}, zod[2] = {2, 3};
    oh_init(&h, "Pad", 11);
    tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, zdims, x);
    tp = vec_i64(zpads, 4);
    expect_ok(run1(&h, 3, in, ~0u, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 2, zod);
    for (int i = 0; i < 6; i++) ck_assert(((float *)out[0].data)[i] == value);
    oh_free_outputs(1, out);
    oh_free(&h);

    static const int64_t crop_all[4] = {-2, 0, 0, 0}, cod[2] = {0, 3};
    oh_init(&h, "Pad", 19);
    oh_attr_string(&h, "mode", "reflect");
    tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    tp = vec_i64(crop_all, 4);
    expect_ok(run1(&h, 2, in, ~0u, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 2, cod);
    oh_free_outputs(1, out);
    oh_free(&h);

    oh_init(&h, "Pad", 13);
    tx = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, x);
    tp = vec_i64(no_values, 0);
    expect_ok(run1(&h, 2, in, ~0u, out));
    ck_assert_int_eq(out[0].rank, 0);
    ck_assert(((float *)out[0].data)[0] == x[0]);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

START_TEST(pad_rejects)
{
    static const int64_t dims[2] = {2, 3};
    float x[6] = {0}, fv = 0;
    double dv = 0;
    static const int64_t ok[4] = {0, 1, 0, 1}, wide_reflect[4] = {0, 3, 0, 0}, short_pads[2] = {1, 1},
                         over_crop[4] = {-2, 0, -1, 0}, shrink[4] = {0, -4, 0, 0}, min_pad[4] = {INT64_MIN, 0, 0, 0},
                         huge[4] = {0, INT64_MAX, 0, 1}, dup_axes[2] = {1, -1}, axis_out[1] = {2},
                         pads2[2] = {1, 1}, pads4[4] = {1, 1, 1, 1};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    float fv2[2] = {0};
    int64_t two = 2;
    oc_tensor tfv = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, &fv), tdv = oh_tensor(ONNXC_DTYPE_DOUBLE, 0, NULL, &dv);
    oc_tensor two_values = oh_tensor(ONNXC_DTYPE_FLOAT, 1, &two, fv2);
    struct {
        const char *mode;
        const int64_t *pads;
        size_t n_pads;
        int opset;
        onnxc_code code;
    } cases[] = {
        {"reflect", wide_reflect, 4, 13, ONNXC_ERR_MODEL}, /* pad 3 on a dim of 3 */
        {"constant", short_pads, 2, 13, ONNXC_ERR_MODEL},
        {"constant", over_crop, 4, 13, ONNXC_ERR_MODEL},
        {"constant", shrink, 4, 13, ONNXC_ERR_MODEL},
        {"constant", min_pad, 4, 13, ONNXC_ERR_MODEL},
        {"constant", huge, 4, 13, ONNXC_ERR_LIMIT},
        {"wrap", ok, 4, 18, ONNXC_ERR_MODEL},               /* wrap from 19 */
        {"mirror", ok, 4, 13, ONNXC_ERR_MODEL},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        oh_node h;
        oh_init(&h, "Pad", cases[c].opset);
        oh_attr_string(&h, "mode", cases[c].mode);
        oc_tensor tp = vec_i64(cases[c].pads, cases[c].n_pads);
        const oc_tensor *in[] = {&tx, &tp};
        expect_run_code(&h, 2, in, ~0u, cases[c].code);
    }
    oc_tensor tok = vec_i64(ok, 4), t2 = vec_i64(pads2, 2), t4 = vec_i64(pads4, 4);
    oc_tensor tdup = vec_i64(dup_axes, 2), tout = vec_i64(axis_out, 1);
    oh_node h;
    const oc_tensor *unknown[] = {&tx, &tok};
    oh_init(&h, "Pad", 13);
    expect_run_code(&h, 2, unknown, 1u, ONNXC_ERR_UNSUPPORTED);
    const oc_tensor *wrong_type[] = {&tx, &tok, &tdv};
    oh_init(&h, "Pad", 13);
    expect_run_code(&h, 3, wrong_type, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *two_vals[] = {&tx, &tok, &two_values};
    oh_init(&h, "Pad", 13);
    expect_run_code(&h, 3, two_vals, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *dup[] = {&tx, &t4, &tfv, &tdup};
    oh_init(&h, "Pad", 18);
    expect_run_code(&h, 4, dup, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *out_of_range[] = {&tx, &t2, NULL, &tout};
    oh_init(&h, "Pad", 18);
    expect_run_code(&h, 4, out_of_range, ~0u, ONNXC_ERR_MODEL);
    const oc_tensor *early_axes[] = {&tx, &t2, NULL, &tout};
    oh_init(&h, "Pad", 17);
    expect_run_code(&h, 4, early_axes, ~0u, ONNXC_ERR_MODEL);
    /* Edge on an empty dim that grows. */
    static const int64_t zdims[2] = {0, 3};
    oc_tensor tz = oh_tensor(ONNXC_DTYPE_FLOAT, 2, zdims, x);
    static const int64_t grow[4] = {1, 0, 0, 0};
    oc_tensor tg = vec_i64(grow, 4);
    const oc_tensor *empty_edge[] = {&tz, &tg};
    oh_init(&h, "Pad", 13);
    oh_attr_string(&h, "mode", "edge");
    expect_run_code(&h, 2, empty_edge, ~0u, ONNXC_ERR_MODEL);
    /* Attribute forms: required pads; inputs not allowed before 11; pads attribute not after. */
    const oc_tensor *only_x[] = {&tx};
    oh_init(&h, "Pad", 2);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Pad", 2);
    oh_attr_ints(&h, "pads", ok, 4);
    expect_run_code(&h, 2, unknown, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Pad", 2);
    oh_attr_ints(&h, "paddings", ok, 4);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Pad", 11);
    oh_attr_ints(&h, "pads", ok, 4);
    expect_run_code(&h, 2, unknown, ~0u, ONNXC_ERR_MODEL);
}
END_TEST

START_TEST(kernel_pad_matches_reference)
{
    uint64_t s = 1234;
    static const size_t sizes[] = {1, 2, 4, 8, 3};
    for (int iter = 0; iter < 600; iter++) {
        oc_pad_geom g;
        memset(&g, 0, sizeof g);
        g.rank = 1 + (int)(next_random(&s) % 4);
        g.mode = (oc_pad_mode)(next_random(&s) % 4);
        bool valid = true;
        for (int k = 0; k < g.rank; k++) {
            g.in_dims[k] = (int64_t)(next_random(&s) % 6);
            g.begin[k] = (int64_t)(next_random(&s) % 9) - 4;
            g.end[k] = (int64_t)(next_random(&s) % 9) - 4;
            int64_t crop_b = g.begin[k] < 0 ? -g.begin[k] : 0, crop_e = g.end[k] < 0 ? -g.end[k] : 0;
            int64_t kept = g.in_dims[k] - crop_b - crop_e;
            bool adds = g.begin[k] > 0 || g.end[k] > 0;
            valid &= kept >= 0;
            if (g.mode != OC_PAD_CONSTANT) valid &= !adds || kept > 0;
            if (g.mode == OC_PAD_REFLECT) valid &= g.begin[k] < kept || g.begin[k] <= 0;
            if (g.mode == OC_PAD_REFLECT) valid &= g.end[k] < kept || g.end[k] <= 0;
        }
        if (!valid) continue;
        size_t esize = sizes[next_random(&s) % ARRAY_LEN(sizes)];
        int64_t od[4];
        for (int k = 0; k < g.rank; k++) od[k] = g.in_dims[k] + g.begin[k] + g.end[k];
        size_t in_bytes = volume(g.rank, g.in_dims) * esize, nbytes = volume(g.rank, od) * esize;
        unsigned char *x = malloc(in_bytes + 1), *fast = guarded_alloc(nbytes), *ref = guarded_alloc(nbytes),
                      *naive = guarded_alloc(nbytes), value[8];
        for (size_t i = 0; i < in_bytes; i++) x[i] = (unsigned char)next_random(&s);
        for (size_t i = 0; i < 8; i++) value[i] = (unsigned char)next_random(&s);
        oc_pad(&g, esize, x, fast, value);
        oc_pad_ref(&g, esize, x, ref, value);
        naive_pad(x, naive, esize, g.rank, g.in_dims, g.begin, g.end, g.mode, value);
        ck_assert_msg(memcmp(fast, ref, nbytes) == 0, "pad differs from its reference (iteration %d)", iter);
        ck_assert_msg(memcmp(ref, naive, nbytes) == 0, "pad reference differs from naive (iteration %d)", iter);
        expect_guard(fast, nbytes);
        free(x);
        free(fast);
        free(ref);
        free(naive);
    }
}
END_TEST

/* ---- Reshape, Unsqueeze, Squeeze: the bytes unchanged under new dims ---- */

/* Runs op on x (dims) with an optional int64 list as a known second input
 * (opset >= list_from) or attribute attr_name, and checks the output dims
 * and that every byte is copied. */
static void check_regroup(const char *op, int opset, onnxc_dtype dtype, int rank, const int64_t *dims,
                          const char *attr_name, const int64_t *list, int n_list, bool list_input,
                          int out_rank, const int64_t *out_dims)
{
    size_t n = volume(rank, dims), esize = onnxc_dtype_size(dtype);
    void *x = alloc_random(dtype, n, 21);
    oh_node h;
    oh_init(&h, op, opset);
    if (list && !list_input) oh_attr_ints(&h, attr_name, list, (size_t)n_list);
    oc_tensor tx = oh_tensor(dtype, rank, dims, x), tl = vec_i64(list, (size_t)n_list), out[1];
    const oc_tensor *in[] = {&tx, &tl};
    expect_ok(run1(&h, list && list_input ? 2 : 1, in, 2u, out));
    expect_dims(&out[0], dtype, out_rank, out_dims);
    expect_bytes(out[0].data, x, n * esize, op);
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
}

typedef struct reshape_case {
    int rank;
    int64_t dims[4];
    int n;
    int64_t shape[5];
    bool allowzero;
    int64_t want[5];
} reshape_case;

static const reshape_case reshape_cases[] = {
    {3, {2, 3, 4}, 3, {4, 2, 3}, false, {4, 2, 3}},
    {3, {2, 3, 4}, 2, {2, 12}, false, {2, 12}},
    {3, {2, 3, 4}, 4, {2, 3, 2, 2}, false, {2, 3, 2, 2}},
    {3, {2, 3, 4}, 1, {24}, false, {24}},
    {3, {2, 3, 4}, 2, {-1, 2}, false, {12, 2}},
    {3, {2, 3, 4}, 4, {-1, 2, 3, 4}, false, {1, 2, 3, 4}},
    {3, {2, 3, 4}, 3, {2, 0, 4}, false, {2, 3, 4}},       /* 0 copies the dim */
    {3, {2, 3, 4}, 3, {0, 4, -1}, false, {2, 4, 3}},
    {3, {2, 3, 4}, 5, {2, 3, 4, 1, 1}, false, {2, 3, 4, 1, 1}},
    {3, {0, 3, 4}, 3, {3, 4, 0}, true, {3, 4, 0}},        /* allowzero: a real 0 */
    {3, {0, 3, 4}, 2, {0, 12}, false, {0, 12}},
    {3, {2, 3, 4}, 3, {4, 3, 2}, true, {4, 3, 2}},
    {0, {0}, 1, {-1}, false, {1}},                        /* scalar to [1] */
    {1, {1}, 0, {0}, false, {0}},                         /* [1] to a scalar */
};

START_TEST(reshape_cases_every_form)
{
    const reshape_case *c = &reshape_cases[_i];
    if (c->allowzero) {
        size_t n = volume(c->rank, c->dims);
        void *x = alloc_random(ONNXC_DTYPE_FLOAT, n, 2);
        oh_node h;
        oh_init(&h, "Reshape", 14);
        oh_attr_int(&h, "allowzero", 1);
        oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, c->rank, c->dims, x), ts = vec_i64(c->shape, (size_t)c->n), out[1];
        const oc_tensor *in[] = {&tx, &ts};
        expect_ok(run1(&h, 2, in, 2u, out));
        expect_dims(&out[0], ONNXC_DTYPE_FLOAT, c->n, c->want);
        expect_bytes(out[0].data, x, n * 4, "reshape allowzero");
        oh_free_outputs(1, out);
        oh_free(&h);
        free(x);
        return;
    }
    check_regroup("Reshape", 1, ONNXC_DTYPE_FLOAT, c->rank, c->dims, "shape", c->shape, c->n, false, c->n, c->want);
    check_regroup("Reshape", 5, ONNXC_DTYPE_INT16, c->rank, c->dims, NULL, c->shape, c->n, true, c->n, c->want);
    check_regroup("Reshape", 14, ONNXC_DTYPE_UINT8, c->rank, c->dims, NULL, c->shape, c->n, true, c->n, c->want);
    check_regroup("Reshape", 25, ONNXC_DTYPE_DOUBLE, c->rank, c->dims, NULL, c->shape, c->n, true, c->n, c->want);
}
END_TEST

START_TEST(reshape_squeeze_unsqueeze_every_dtype)
{
    static const int64_t dims[3] = {2, 1, 3}, shape[2] = {3, 2}, axes_sq[1] = {1}, axes_un[2] = {0, 4};
    static const int64_t sq[2] = {2, 3}, un[5] = {1, 2, 1, 3, 1};
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        check_regroup("Reshape", 13, all_dtypes[d], 3, dims, NULL, shape, 2, true, 2, shape);
        check_regroup("Squeeze", 13, all_dtypes[d], 3, dims, NULL, axes_sq, 1, true, 2, sq);
        check_regroup("Unsqueeze", 13, all_dtypes[d], 3, dims, NULL, axes_un, 2, true, 5, un);
    }
}
END_TEST

START_TEST(reshape_rejects)
{
    static const int64_t dims[3] = {2, 3, 4};
    float x[24] = {0};
    static const int64_t two_inferred[3] = {-1, -1, 2}, wrong_count[2] = {5, 5}, below[2] = {-2, -12},
                         zero_past[4] = {2, 3, 4, 0}, zero_and_inferred[2] = {0, -1},
                         nine[9] = {1, 1, 1, 1, 1, 1, 2, 3, 4}, zero_count[2] = {0, -1};
    static const int32_t as_int32[2] = {6, 4};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, dims, x);
    const struct {
        const int64_t *shape;
        size_t n;
        bool allowzero;
        onnxc_code code;
    } cases[] = {
        {two_inferred, 3, false, ONNXC_ERR_MODEL}, {wrong_count, 2, false, ONNXC_ERR_MODEL},
        {below, 2, false, ONNXC_ERR_MODEL},        {zero_past, 4, false, ONNXC_ERR_MODEL},
        {zero_and_inferred, 2, true, ONNXC_ERR_MODEL}, {nine, 9, false, ONNXC_ERR_LIMIT},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        oh_node h;
        oh_init(&h, "Reshape", 14);
        if (cases[c].allowzero) oh_attr_int(&h, "allowzero", 1);
        oc_tensor ts = vec_i64(cases[c].shape, cases[c].n);
        const oc_tensor *in[] = {&tx, &ts};
        expect_run_code(&h, 2, in, ~0u, cases[c].code);
    }
    oh_node h;
    /* -1 beside a copied 0 of an empty input: any size would do. */
    static const int64_t zdims[2] = {0, 3};
    oc_tensor tz = oh_tensor(ONNXC_DTYPE_FLOAT, 2, zdims, x), tzc = vec_i64(zero_count, 2);
    const oc_tensor *ambiguous[] = {&tz, &tzc};
    oh_init(&h, "Reshape", 13);
    expect_run_code(&h, 2, ambiguous, ~0u, ONNXC_ERR_MODEL);
    oc_tensor ts = vec_i64(wrong_count, 2), t32 = vec_i32(as_int32, 2);
    const oc_tensor *in[] = {&tx, &ts}, *in32[] = {&tx, &t32}, *only_x[] = {&tx};
    oh_init(&h, "Reshape", 13);
    expect_run_code(&h, 2, in, 1u, ONNXC_ERR_UNSUPPORTED); /* shape known only at run time */
    oh_init(&h, "Reshape", 13);
    expect_run_code(&h, 2, in32, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Reshape", 13);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Reshape", 13);
    oh_attr_int(&h, "allowzero", 1); /* from 14 */
    expect_run_code(&h, 2, in, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Reshape", 14);
    oh_attr_int(&h, "allowzero", 2);
    expect_run_code(&h, 2, in, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Reshape", 4);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL); /* attribute required */
    oh_init(&h, "Reshape", 4);
    oh_attr_ints(&h, "shape", wrong_count, 2);
    expect_run_code(&h, 2, in, ~0u, ONNXC_ERR_MODEL); /* no input before 5 */
    oh_init(&h, "Reshape", 5);
    oh_attr_ints(&h, "shape", wrong_count, 2);
    expect_run_code(&h, 2, in, ~0u, ONNXC_ERR_MODEL);
}
END_TEST

START_TEST(unsqueeze_every_form)
{
    static const int64_t dims[2] = {3, 4};
    static const int64_t a0[1] = {0}, a2[1] = {2}, neg[2] = {-1, -4}, unsorted[3] = {4, 0, 2};
    static const int64_t w0[3] = {1, 3, 4}, w2[3] = {3, 4, 1}, wneg[4] = {1, 3, 4, 1}, wun[5] = {1, 3, 1, 4, 1};
    static const int opsets[] = {1, 11, 13, 21};
    for (size_t o = 0; o < ARRAY_LEN(opsets); o++) {
        int op = opsets[o];
        bool input = op >= 13;
        check_regroup("Unsqueeze", op, ONNXC_DTYPE_FLOAT, 2, dims, "axes", a0, 1, input, 3, w0);
        check_regroup("Unsqueeze", op, ONNXC_DTYPE_FLOAT, 2, dims, "axes", a2, 1, input, 3, w2);
        if (op >= 11) check_regroup("Unsqueeze", op, ONNXC_DTYPE_FLOAT, 2, dims, "axes", neg, 2, input, 4, wneg);
    }
    /* 5 dims from 2 with unsorted axes (the axes index the output). */
    check_regroup("Unsqueeze", 13, ONNXC_DTYPE_FLOAT, 2, dims, NULL, unsorted, 3, true, 5, wun);
    static const int64_t one_axis[1] = {0}, scalar_out[1] = {1};
    check_regroup("Unsqueeze", 13, ONNXC_DTYPE_FLOAT, 0, NULL, NULL, one_axis, 1, true, 1, scalar_out);
}
END_TEST

START_TEST(squeeze_every_form)
{
    static const int64_t dims[4] = {1, 3, 1, 4};
    static const int64_t a0[1] = {0}, both[2] = {2, 0}, neg[1] = {-2};
    static const int64_t w0[3] = {3, 1, 4}, wall[2] = {3, 4}, wneg[3] = {1, 3, 4};
    static const int opsets[] = {1, 11, 13, 21};
    for (size_t o = 0; o < ARRAY_LEN(opsets); o++) {
        int op = opsets[o];
        bool input = op >= 13;
        check_regroup("Squeeze", op, ONNXC_DTYPE_FLOAT, 4, dims, "axes", a0, 1, input, 3, w0);
        check_regroup("Squeeze", op, ONNXC_DTYPE_FLOAT, 4, dims, "axes", both, 2, input, 2, wall);
        if (op >= 11) check_regroup("Squeeze", op, ONNXC_DTYPE_FLOAT, 4, dims, "axes", neg, 1, input, 3, wneg);
        check_regroup("Squeeze", op, ONNXC_DTYPE_FLOAT, 4, dims, "axes", NULL, 0, input, 2, wall); /* every 1 */
        check_regroup("Squeeze", op, ONNXC_DTYPE_FLOAT, 4, dims, "axes", no_values, 0, input, 2, wall);
    }
    static const int64_t ones[3] = {1, 1, 1};
    check_regroup("Squeeze", 13, ONNXC_DTYPE_FLOAT, 3, ones, NULL, NULL, 0, true, 0, NULL);
}
END_TEST

START_TEST(squeeze_unsqueeze_rejects)
{
    static const int64_t dims[3] = {1, 3, 1};
    float x[3] = {0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 3, dims, x);
    static const int64_t not_one[1] = {1}, dup[2] = {0, -3}, dup_out[2] = {1, -4}, out_of_range[1] = {3},
                         six[6] = {0, 1, 2, 3, 4, 5}, many[4] = {0, 0, 0, 0};
    const struct {
        const char *op;
        int opset;
        const int64_t *axes;
        size_t n;
        onnxc_code code;
    } cases[] = {
        {"Squeeze", 13, not_one, 1, ONNXC_ERR_MODEL},   {"Squeeze", 13, dup, 2, ONNXC_ERR_MODEL},
        {"Squeeze", 13, out_of_range, 1, ONNXC_ERR_MODEL}, {"Squeeze", 13, many, 4, ONNXC_ERR_MODEL},
        {"Squeeze", 1, out_of_range, 1, ONNXC_ERR_MODEL}, {"Unsqueeze", 13, dup_out, 2, ONNXC_ERR_MODEL},
        {"Unsqueeze", 13, six, 6, ONNXC_ERR_LIMIT},      {"Unsqueeze", 10, (const int64_t[]){-5}, 1, ONNXC_ERR_MODEL},
        {"Unsqueeze", 13, (const int64_t[]){4}, 1, ONNXC_ERR_MODEL},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        oh_node h;
        oh_init(&h, cases[c].op, cases[c].opset);
        oc_tensor ta = vec_i64(cases[c].axes, cases[c].n);
        const oc_tensor *in[] = {&tx, &ta};
        if (cases[c].opset < 13) oh_attr_ints(&h, "axes", cases[c].axes, cases[c].n);
        expect_run_code(&h, cases[c].opset < 13 ? 1 : 2, in, ~0u, cases[c].code);
    }
    oh_node h;
    oc_tensor ta = vec_i64(not_one, 1);
    const oc_tensor *in[] = {&tx, &ta}, *only_x[] = {&tx};
    oh_init(&h, "Unsqueeze", 13);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL); /* axes required */
    oh_init(&h, "Unsqueeze", 12);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Unsqueeze", 13);
    expect_run_code(&h, 2, in, 1u, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Squeeze", 13);
    expect_run_code(&h, 2, in, 1u, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Squeeze", 13);
    oh_attr_ints(&h, "axes", not_one, 1); /* attribute gone at 13 */
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Squeeze", 12);
    oh_attr_ints(&h, "axes", not_one, 1);
    expect_run_code(&h, 2, in, ~0u, ONNXC_ERR_MODEL); /* no input before 13 */
}
END_TEST

/* ---- Expand ---- */

/* numpy's broadcast of x to out_dims, one element at a time. */
static void naive_expand(const void *x, void *y, size_t esize, int rank, const int64_t *dims,
                         int out_rank, const int64_t *out_dims)
{
    int64_t o[OC_MAX_RANK], c[OC_MAX_RANK];
    size_t n = volume(out_rank, out_dims);
    for (size_t i = 0; i < n; i++) {
        unravel(i, out_rank, out_dims, o);
        for (int k = 0; k < rank; k++) c[k] = dims[k] == 1 ? 0 : o[k + out_rank - rank];
        memcpy((char *)y + i * esize, (const char *)x + ravel(rank, dims, c) * esize, esize);
    }
}

static void check_expand(onnxc_dtype dtype, int rank, const int64_t *dims, int n_shape,
                         const int64_t *shape, int out_rank, const int64_t *out_dims)
{
    size_t esize = onnxc_dtype_size(dtype), n_out = volume(out_rank, out_dims);
    void *x = alloc_random(dtype, volume(rank, dims), 31), *want = malloc(n_out * esize + 1);
    naive_expand(x, want, esize, rank, dims, out_rank, out_dims);
    oh_node h;
    oh_init(&h, "Expand", 13);
    oc_tensor tx = oh_tensor(dtype, rank, dims, x), ts = vec_i64(shape, (size_t)n_shape), out[1];
    const oc_tensor *in[] = {&tx, &ts};
    expect_ok(run1(&h, 2, in, 2u, out));
    expect_dims(&out[0], dtype, out_rank, out_dims);
    expect_bytes(out[0].data, want, n_out * esize, "expand");
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);
    free(want);
}

START_TEST(expand_broadcasts)
{
    static const int64_t d31[2] = {3, 1}, s216[3] = {2, 1, 6}, w236[3] = {2, 3, 6};
    static const int64_t d3[1] = {3}, s23[2] = {2, 3}, w23[2] = {2, 3}, s11[2] = {1, 1}, w13[2] = {1, 3};
    static const int64_t d1[1] = {1}, s0[2] = {4, 0}, w40[2] = {4, 0}, d213[3] = {2, 1, 3}, s1[1] = {1};
    static const int64_t d23[2] = {2, 3}, s7[4] = {7, 1, 1, 3}, w7[4] = {7, 1, 2, 3};
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        check_expand(all_dtypes[d], 2, d31, 3, s216, 3, w236);
        check_expand(all_dtypes[d], 1, d3, 2, s23, 2, w23);
    }
    check_expand(ONNXC_DTYPE_FLOAT, 1, d3, 2, s11, 2, w13);   /* a requested 1 keeps the dim */
    check_expand(ONNXC_DTYPE_FLOAT, 1, d1, 2, s0, 2, w40);    /* to zero elements */
    check_expand(ONNXC_DTYPE_FLOAT, 3, d213, 1, s1, 3, d213); /* shape of lower rank */
    check_expand(ONNXC_DTYPE_INT64, 2, d23, 4, s7, 4, w7);
    check_expand(ONNXC_DTYPE_FLOAT, 0, NULL, 2, s23, 2, w23); /* a scalar */
}
END_TEST

START_TEST(expand_rejects)
{
    static const int64_t dims[2] = {2, 3};
    float x[6] = {0};
    static const int64_t clash[2] = {2, 4}, negative[2] = {-1, 3}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 2, 3};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 2, dims, x);
    oc_tensor tc = vec_i64(clash, 2), tn = vec_i64(negative, 2), t9 = vec_i64(nine, 9);
    const oc_tensor *c1[] = {&tx, &tc}, *c2[] = {&tx, &tn}, *c3[] = {&tx, &t9}, *only_x[] = {&tx};
    oh_node h;
    oh_init(&h, "Expand", 13);
    expect_run_code(&h, 2, c1, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Expand", 13);
    expect_run_code(&h, 2, c2, ~0u, ONNXC_ERR_MODEL);
    oh_init(&h, "Expand", 13);
    expect_run_code(&h, 2, c3, ~0u, ONNXC_ERR_LIMIT);
    oh_init(&h, "Expand", 13);
    expect_run_code(&h, 2, c1, 1u, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Expand", 13);
    expect_run_code(&h, 1, only_x, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Expand", 7);
    expect_run_code(&h, 2, c1, ~0u, ONNXC_ERR_MODEL);
}
END_TEST

/* ---- Shape ---- */

/* Python's dims[start:end]. */
static int python_range(int64_t v, int rank)
{
    if (v < 0) return v + rank < 0 ? 0 : (int)(v + rank);
    return v > rank ? rank : (int)v;
}

START_TEST(shape_every_range)
{
    static const int64_t dims[4] = {2, 3, 4, 5};
    static const int64_t points[] = {INT64_MIN, -5, -4, -1, 0, 1, 3, 4, 5, INT64_MAX};
    /* Opset 1: all dims; the data is never read (NULL here). */
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 4, dims, NULL), out[1];
    const oc_tensor *in[] = {&tx};
    oh_node h;
    oh_init(&h, "Shape", 1);
    expect_ok(run1(&h, 1, in, 0, out));
    static const int64_t four[1] = {4};
    expect_dims(&out[0], ONNXC_DTYPE_INT64, 1, four);
    expect_bytes(out[0].data, dims, sizeof dims, "shape");
    oh_free_outputs(1, out);
    oh_free(&h);
    for (size_t a = 0; a <= ARRAY_LEN(points); a++)
        for (size_t b = 0; b <= ARRAY_LEN(points); b++) {
            /* index ARRAY_LEN: the attribute absent */
            int from = a < ARRAY_LEN(points) ? python_range(points[a], 4) : 0;
            int to = b < ARRAY_LEN(points) ? python_range(points[b], 4) : 4;
            int64_t n = to > from ? to - from : 0;
            oh_init(&h, "Shape", 15 + (int)((a + b) % 11));
            if (a < ARRAY_LEN(points)) oh_attr_int(&h, "start", points[a]);
            if (b < ARRAY_LEN(points)) oh_attr_int(&h, "end", points[b]);
            expect_ok(run1(&h, 1, in, 0, out));
            expect_dims(&out[0], ONNXC_DTYPE_INT64, 1, &n);
            expect_bytes(out[0].data, dims + from, (size_t)n * 8, "shape range");
            oh_free_outputs(1, out);
            oh_free(&h);
        }
    /* A scalar: an empty shape. */
    tx = oh_tensor(ONNXC_DTYPE_INT8, 0, NULL, NULL);
    oh_init(&h, "Shape", 13);
    expect_ok(run1(&h, 1, in, 0, out));
    ck_assert_int_eq(out[0].rank, 1);
    ck_assert_int_eq(out[0].dims[0], 0);
    oh_free_outputs(1, out);
    oh_free(&h);
    /* start/end only from opset 15. */
    oh_init(&h, "Shape", 14);
    oh_attr_int(&h, "start", 1);
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
}
END_TEST

/* ---- Constant ---- */

static void attr_tensor(oh_node *h, const char *name, oc_tensor *t)
{
    oc_attr *a = &h->attrs[h->node.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = OC_ATTR_TENSOR;
    a->t = t;
    a->n = 1;
}

static void attr_of_type(oh_node *h, const char *name, int type)
{
    oc_attr *a = &h->attrs[h->node.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = name;
    a->type = type;
}

/* Runs a Constant node and compares the output with want. */
static void expect_constant(oh_node *h, onnxc_dtype dtype, int rank, const int64_t *dims,
                            const void *want)
{
    oc_tensor out[1];
    expect_ok(run1(h, 0, NULL, 0, out));
    expect_dims(&out[0], dtype, rank, dims);
    expect_bytes(out[0].data, want, out[0].nbytes, "constant");
    oh_free_outputs(1, out);
    oh_free(h);
}

START_TEST(constant_every_form)
{
    static const int64_t dims[2] = {2, 3};
    static const int opsets[] = {1, 9, 11, 13, 21};
    oh_node h;
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++)
        for (size_t o = 0; o < ARRAY_LEN(opsets); o++) {
            void *v = alloc_random(all_dtypes[d], 6, (unsigned)d);
            oc_tensor t = oh_tensor(all_dtypes[d], 2, dims, v);
            oh_init(&h, "Constant", opsets[o]);
            attr_tensor(&h, "value", &t);
            expect_constant(&h, all_dtypes[d], 2, dims, v);
            free(v);
        }
    float f = 2.5f;
    oh_init(&h, "Constant", 12);
    oh_attr_float(&h, "value_float", f);
    expect_constant(&h, ONNXC_DTYPE_FLOAT, 0, NULL, &f);
    static const float fs[3] = {1.5f, -2.0f, 3.25f};
    static const int64_t three[1] = {3}, zero[1] = {0};
    oh_init(&h, "Constant", 13);
    oh_attr_floats(&h, "value_floats", fs, 3);
    expect_constant(&h, ONNXC_DTYPE_FLOAT, 1, three, fs);
    oh_init(&h, "Constant", 13);
    oh_attr_floats(&h, "value_floats", NULL, 0);
    expect_constant(&h, ONNXC_DTYPE_FLOAT, 1, zero, no_values);
    int64_t i = -7;
    oh_init(&h, "Constant", 12);
    oh_attr_int(&h, "value_int", i);
    expect_constant(&h, ONNXC_DTYPE_INT64, 0, NULL, &i);
    static const int64_t is[3] = {INT64_MIN, 0, INT64_MAX};
    oh_init(&h, "Constant", 25);
    oh_attr_ints(&h, "value_ints", is, 3);
    expect_constant(&h, ONNXC_DTYPE_INT64, 1, three, is);
}
END_TEST

START_TEST(constant_rejects)
{
    oh_node h;
    oh_init(&h, "Constant", 13);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL); /* no value */
    oh_init(&h, "Constant", 13);
    oh_attr_int(&h, "value_int", 1);
    oh_attr_float(&h, "value_float", 1);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL); /* two values */
    oh_init(&h, "Constant", 11);
    oh_attr_float(&h, "value_float", 1);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL); /* value_float from 12 */
    oh_init(&h, "Constant", 13);
    oh_attr_int(&h, "value_float", 1);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL); /* wrong attribute type */
    oh_init(&h, "Constant", 13);
    oh_attr_int(&h, "value", 1);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Constant", 13);
    oh_attr_int(&h, "shape", 1);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Constant", 11);
    attr_of_type(&h, "sparse_value", OC_ATTR_SPARSE_TENSOR);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Constant", 10);
    attr_of_type(&h, "sparse_value", OC_ATTR_SPARSE_TENSOR);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Constant", 12);
    oh_attr_string(&h, "value_string", "hello");
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Constant", 13);
    attr_of_type(&h, "value_strings", OC_ATTR_STRINGS);
    expect_run_code(&h, 0, NULL, 0, ONNXC_ERR_UNSUPPORTED);
}
END_TEST

/* ---- ConstantOfShape ---- */

START_TEST(constantofshape_every_dtype)
{
    static const int64_t shape[3] = {2, 3, 2};
    static const int64_t one[1] = {1};
    oh_node h;
    oc_tensor out[1];
    /* Default: float32 zeros. */
    oh_init(&h, "ConstantOfShape", 9);
    oc_tensor ts = vec_i64(shape, 3);
    const oc_tensor *in[] = {&ts};
    expect_ok(run1(&h, 1, in, 1u, out));
    expect_dims(&out[0], ONNXC_DTYPE_FLOAT, 3, shape);
    for (int i = 0; i < 12; i++) ck_assert(((float *)out[0].data)[i] == 0.0f && !signbit(((float *)out[0].data)[i]));
    oh_free_outputs(1, out);
    oh_free(&h);
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        unsigned char v[8];
        fill_bytes(all_dtypes[d], v, 1, (unsigned)d + 40);
        oc_tensor tv = oh_tensor(all_dtypes[d], 1, one, v);
        oh_init(&h, "ConstantOfShape", d % 2 ? 20 : 25);
        attr_tensor(&h, "value", &tv);
        expect_ok(run1(&h, 1, in, 1u, out));
        expect_dims(&out[0], all_dtypes[d], 3, shape);
        size_t esize = onnxc_dtype_size(all_dtypes[d]);
        for (int i = 0; i < 12; i++) expect_bytes((char *)out[0].data + i * esize, v, esize, "fill");
        oh_free_outputs(1, out);
        oh_free(&h);
    }
    /* An empty shape: a scalar; a zero dim: no elements. */
    int64_t iv = 42;
    oc_tensor tv = oh_tensor(ONNXC_DTYPE_INT64, 1, one, &iv);
    ts = vec_i64(NULL, 0);
    oh_init(&h, "ConstantOfShape", 9);
    attr_tensor(&h, "value", &tv);
    expect_ok(run1(&h, 1, in, 1u, out));
    ck_assert_int_eq(out[0].rank, 0);
    ck_assert_int_eq(((int64_t *)out[0].data)[0], 42);
    oh_free_outputs(1, out);
    oh_free(&h);
    static const int64_t zero[2] = {2, 0};
    ts = vec_i64(zero, 2);
    oh_init(&h, "ConstantOfShape", 9);
    attr_tensor(&h, "value", &tv);
    expect_ok(run1(&h, 1, in, 1u, out));
    expect_dims(&out[0], ONNXC_DTYPE_INT64, 2, zero);
    ck_assert_uint_eq(out[0].count, 0);
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

START_TEST(constantofshape_rejects)
{
    static const int64_t negative[2] = {2, -1}, ok[2] = {2, 2}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    static const int32_t ok32[2] = {2, 2};
    static const int64_t two[1] = {2};
    float two_values[2] = {1, 2};
    oc_tensor tn = vec_i64(negative, 2), tok = vec_i64(ok, 2), t9 = vec_i64(nine, 9), t32 = vec_i32(ok32, 2);
    oc_tensor tv2 = oh_tensor(ONNXC_DTYPE_FLOAT, 1, two, two_values);
    const oc_tensor *neg[] = {&tn}, *good[] = {&tok}, *deep[] = {&t9}, *i32[] = {&t32};
    oh_node h;
    oh_init(&h, "ConstantOfShape", 9);
    expect_run_code(&h, 1, neg, 1u, ONNXC_ERR_MODEL);
    oh_init(&h, "ConstantOfShape", 9);
    expect_run_code(&h, 1, deep, 1u, ONNXC_ERR_LIMIT);
    oh_init(&h, "ConstantOfShape", 9);
    expect_run_code(&h, 1, i32, 1u, ONNXC_ERR_MODEL);
    oh_init(&h, "ConstantOfShape", 9);
    expect_run_code(&h, 1, good, 0u, ONNXC_ERR_UNSUPPORTED); /* shape known at run time only */
    oh_init(&h, "ConstantOfShape", 8);
    expect_run_code(&h, 1, good, 1u, ONNXC_ERR_MODEL);
    oh_init(&h, "ConstantOfShape", 9);
    attr_tensor(&h, "value", &tv2);
    expect_run_code(&h, 1, good, 1u, ONNXC_ERR_MODEL);
    oh_init(&h, "ConstantOfShape", 9);
    oh_attr_float(&h, "value", 1.0f);
    expect_run_code(&h, 1, good, 1u, ONNXC_ERR_MODEL);
}
END_TEST

/* ---- Cast ---- */

/* IEEE half by its definition. */
static double half_value(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

/* The nearest half to x, ties to the even one, by search over every
 * positive finite half (they are ordered like their bits). */
static uint16_t nearest_half(double x)
{
    if (isnan(x)) return 0x7e00;
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs(x);
    if (a >= 65520.0) return sign | 0x7c00; /* past the midpoint of 65504 and 65536 */
    unsigned lo = 0, hi = 0x7bff; /* value(lo) <= a < value(hi + 1) */
    while (lo < hi) {
        unsigned mid = (lo + hi + 1) / 2;
        if (half_value((uint16_t)mid) <= a) lo = mid;
        else hi = mid - 1;
    }
    if (lo == 0x7bff) return sign | 0x7bff;
    double below = a - half_value((uint16_t)lo), above = half_value((uint16_t)(lo + 1)) - a;
    unsigned pick = below < above ? lo : above < below ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
    return sign | (uint16_t)pick;
}

START_TEST(cast_half_exhaustive)
{
    for (unsigned h = 0; h < 65536; h++) {
        double v = half_value((uint16_t)h);
        float f = oc_half_to_float((uint16_t)h);
        if (isnan(v)) {
            ck_assert(isnan(f));
            ck_assert(isnan(half_value(oc_half_from_double(f))));
            continue;
        }
        ck_assert_msg((double)f == v && !signbit(f) == !signbit(v), "half %#x reads as %g", h, (double)f);
        ck_assert_msg(oc_half_from_double(v) == h, "half %#x does not round-trip", h);
        /* Midpoints to the next half, and just either side of them. */
        unsigned next = h + 1;
        if ((h & 0x7fff) >= 0x7c00 || (h & 0x7fff) == 0x7bff) continue;
        double w = half_value((uint16_t)next), mid = (v + w) / 2;
        ck_assert_int_eq(oc_half_from_double(mid), nearest_half(mid));
        ck_assert_int_eq(oc_half_from_double(nextafter(mid, INFINITY)), nearest_half(nextafter(mid, INFINITY)));
        ck_assert_int_eq(oc_half_from_double(nextafter(mid, -INFINITY)), nearest_half(nextafter(mid, -INFINITY)));
    }
    ck_assert_int_eq(oc_half_from_double(65519.99), 0x7bff);
    ck_assert_int_eq(oc_half_from_double(65520.0), 0x7c00);
    ck_assert_int_eq(oc_half_from_double(-1e300), 0xfc00);
    ck_assert_int_eq(oc_half_from_double(1e-300), 0x0000);
    ck_assert_int_eq(oc_half_from_double(-1e-300), 0x8000);
    ck_assert_int_eq(oc_half_from_double(2.98023223876953125e-08), 0x0000); /* 2^-25: tie to 0 */
    ck_assert_int_eq(oc_half_from_double(2.98023223876953126e-08 * 1.0000001), 0x0001);
    uint64_t s = 5;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_random(&s);
        double x;
        memcpy(&x, &bits, sizeof x);
        x = ldexp(frexp(x, &(int){0}), (int)(next_random(&s) % 50) - 30);
        uint16_t got = oc_half_from_double(x), want = nearest_half(x);
        ck_assert_msg(got == want || (isnan(x) && isnan(half_value(got))), "%a -> %#x, want %#x", x, got, want);
    }
}
END_TEST

/* One source value as the types read it: a double, or integer bits. */
typedef struct exact {
    bool is_float, is_signed;
    double f;
    uint64_t bits; /* sign-extended for signed types */
} exact;

static bool is_float_type(onnxc_dtype t)
{
    return t == ONNXC_DTYPE_FLOAT || t == ONNXC_DTYPE_DOUBLE || t == ONNXC_DTYPE_FLOAT16;
}

static bool is_signed_int(onnxc_dtype t)
{
    return t == ONNXC_DTYPE_INT8 || t == ONNXC_DTYPE_INT16 || t == ONNXC_DTYPE_INT32 || t == ONNXC_DTYPE_INT64;
}

/* Stores v in type t (floats rounded by C or to the nearest half, integers
 * truncated to their low bits) and returns the value as stored. */
static exact store_source(onnxc_dtype t, double fv, int64_t iv, void *dst)
{
    exact e = {is_float_type(t), is_signed_int(t), 0, 0};
    size_t size = onnxc_dtype_size(t);
    if (t == ONNXC_DTYPE_FLOAT) {
        float f = (float)fv;
        memcpy(dst, &f, 4);
        e.f = f;
    } else if (t == ONNXC_DTYPE_DOUBLE) {
        memcpy(dst, &fv, 8);
        e.f = fv;
    } else if (t == ONNXC_DTYPE_FLOAT16) {
        uint16_t h = nearest_half(fv);
        memcpy(dst, &h, 2);
        e.f = half_value(h);
    } else {
        uint64_t bits = (uint64_t)iv;
        if (t == ONNXC_DTYPE_BOOL) bits = bits != 0;
        memcpy(dst, &bits, size);
        uint64_t low = size == 8 ? bits : bits & ((1ull << (8 * size)) - 1);
        if (e.is_signed && size < 8 && (low >> (8 * size - 1)) & 1) low |= ~0ull << (8 * size);
        e.bits = low;
    }
    return e;
}

/* The expected bytes of e cast to t, by the rules in kernels/cast.h. */
static void expected_cast(exact e, onnxc_dtype t, void *dst)
{
    size_t size = onnxc_dtype_size(t);
    double as_double = e.is_float ? e.f : e.is_signed ? (double)(int64_t)e.bits : (double)e.bits;
    if (t == ONNXC_DTYPE_FLOAT) {
        float f = e.is_float ? (float)e.f : e.is_signed ? (float)(int64_t)e.bits : (float)e.bits;
        memcpy(dst, &f, 4);
    } else if (t == ONNXC_DTYPE_DOUBLE) {
        memcpy(dst, &as_double, 8);
    } else if (t == ONNXC_DTYPE_FLOAT16) {
        uint16_t h = nearest_half(as_double);
        memcpy(dst, &h, 2);
    } else if (t == ONNXC_DTYPE_BOOL) {
        unsigned char b = e.is_float ? e.f != 0.0 : e.bits != 0;
        memcpy(dst, &b, 1);
    } else if (!e.is_float) {
        memcpy(dst, &e.bits, size); /* the low bytes */
    } else {
        /* Saturating truncation: the range as exact doubles [lo, hi_excl). */
        bool sign = is_signed_int(t);
        double span = ldexp(1.0, (int)(8 * size) - (sign ? 1 : 0));
        double lo = sign ? -span : 0.0, hi_excl = span, tr = isnan(e.f) ? 0.0 : trunc(e.f);
        int width = (int)(8 * size);
        uint64_t max = sign ? (width == 64 ? (uint64_t)INT64_MAX : (1ull << (width - 1)) - 1)
                            : (width == 64 ? UINT64_MAX : (1ull << width) - 1);
        uint64_t min = sign ? ~max : 0; /* two's complement: -max - 1 */
        uint64_t bits;
        if (tr >= hi_excl) bits = max;
        else if (tr < lo) bits = min;
        else bits = sign ? (uint64_t)(int64_t)tr : (uint64_t)tr;
        memcpy(dst, &bits, size);
    }
}

static bool same_cast_result(onnxc_dtype t, const void *got, const void *want)
{
    size_t size = onnxc_dtype_size(t);
    if (is_float_type(t)) {
        double g, w;
        if (t == ONNXC_DTYPE_FLOAT) {
            float a, b;
            memcpy(&a, got, 4), memcpy(&b, want, 4);
            g = a, w = b;
        } else if (t == ONNXC_DTYPE_DOUBLE) {
            memcpy(&g, got, 8), memcpy(&w, want, 8);
        } else {
            uint16_t a, b;
            memcpy(&a, got, 2), memcpy(&b, want, 2);
            g = half_value(a), w = half_value(b);
        }
        if (isnan(w)) return isnan(g);
    }
    return memcmp(got, want, size) == 0;
}

static const double cast_floats[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 2.7, -2.7, 127.9, 128.0, -128.5, -129.0, 255.5, 256.0,
    300.0, -300.0, 32767.9, 40000.0, 65504.0, 65519.0, 65520.0, 1e10, -1e10, 3e9, -3e9, 9.3e18, 1e19,
    2e19, -1e19, 1e-8, 0.1, 6e-8, 1e300, -1e300, NAN, INFINITY, -INFINITY,
};
static const int64_t cast_ints[] = {
    0, 1, -1, 2, 127, 128, -128, -129, 255, 256, 300, -300, 32767, 32768, -32769, 65535, 65536,
    65519, 65521, 2147483647, -2147483647 - 1, 4294967295, (1ll << 53) + 1, INT64_MAX, INT64_MIN,
    123456789012,
};

/* Every (source, target) pair through the op, every value of the lists. */
START_TEST(cast_every_pair)
{
    onnxc_dtype src = all_dtypes[_i];
    bool from_float = is_float_type(src);
    size_t n = from_float ? ARRAY_LEN(cast_floats) : ARRAY_LEN(cast_ints);
    size_t ssize = onnxc_dtype_size(src);
    unsigned char *x = malloc(n * ssize);
    exact ex[64];
    for (size_t i = 0; i < n; i++)
        ex[i] = store_source(src, from_float ? cast_floats[i] : 0, from_float ? 0 : cast_ints[i], x + i * ssize);
    for (size_t d = 0; d < ARRAY_LEN(all_dtypes); d++) {
        onnxc_dtype dst = all_dtypes[d];
        size_t dsize = onnxc_dtype_size(dst);
        int64_t dims[1] = {(int64_t)n};
        oh_node h;
        oh_init(&h, "Cast", d % 2 ? 13 : 21);
        oh_attr_int(&h, "to", dst);
        oc_tensor tx = oh_tensor(src, 1, dims, x), out[1];
        const oc_tensor *in[] = {&tx};
        expect_ok(run1(&h, 1, in, 0, out));
        expect_dims(&out[0], dst, 1, dims);
        for (size_t i = 0; i < n; i++) {
            unsigned char want[8];
            expected_cast(ex[i], dst, want);
            ck_assert_msg(same_cast_result(dst, (char *)out[0].data + i * dsize, want),
                          "%s -> %s: element %zu (%g / %lld) wrong", onnxc_dtype_name(src),
                          onnxc_dtype_name(dst), i, from_float ? cast_floats[i] : 0.0,
                          from_float ? 0ll : (long long)cast_ints[i]);
        }
        oh_free_outputs(1, out);
        oh_free(&h);
    }
    free(x);
}
END_TEST

/* Opset 1's type names; more elements than one chunk; a bool source of
 * any non-zero byte. */
START_TEST(cast_names_chunks_and_bool)
{
    static const int64_t dims[1] = {1000};
    int32_t *x = malloc(1000 * sizeof *x);
    for (int i = 0; i < 1000; i++) x[i] = i * 7919 - 3000000;
    oh_node h;
    oh_init(&h, "Cast", 1);
    oh_attr_string(&h, "to", "DOUBLE");
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_INT32, 1, dims, x), out[1];
    const oc_tensor *in[] = {&tx};
    expect_ok(run1(&h, 1, in, 0, out));
    ck_assert_int_eq(out[0].dtype, ONNXC_DTYPE_DOUBLE);
    for (int i = 0; i < 1000; i++) ck_assert(((double *)out[0].data)[i] == (double)x[i]);
    oh_free_outputs(1, out);
    oh_free(&h);
    free(x);

    static const int64_t four[1] = {4};
    unsigned char b[4] = {0, 1, 2, 255};
    oh_init(&h, "Cast", 6);
    oh_attr_int(&h, "to", ONNXC_DTYPE_FLOAT);
    tx = oh_tensor(ONNXC_DTYPE_BOOL, 1, four, b);
    expect_ok(run1(&h, 1, in, 0, out));
    static const float want[4] = {0, 1, 1, 1};
    expect_bytes(out[0].data, want, sizeof want, "bool to float");
    oh_free_outputs(1, out);
    oh_free(&h);
    oh_init(&h, "Cast", 6);
    oh_attr_int(&h, "to", ONNXC_DTYPE_BOOL);
    expect_ok(run1(&h, 1, in, 0, out));
    static const unsigned char want_b[4] = {0, 1, 1, 1};
    expect_bytes(out[0].data, want_b, sizeof want_b, "bool to bool");
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

START_TEST(cast_rejects)
{
    static const int64_t dims[1] = {2};
    float x[2] = {0};
    oc_tensor tx = oh_tensor(ONNXC_DTYPE_FLOAT, 1, dims, x);
    const oc_tensor *in[] = {&tx};
    const struct {
        int opset;
        int64_t to;
        onnxc_code code;
    } bad_to[] = {
        {13, ONNXC_DTYPE_STRING, ONNXC_ERR_UNSUPPORTED}, {13, 16, ONNXC_ERR_UNSUPPORTED},
        {21, 17, ONNXC_ERR_UNSUPPORTED},                 {25, 26, ONNXC_ERR_UNSUPPORTED},
        {13, 0, ONNXC_ERR_MODEL},                        {13, 99, ONNXC_ERR_MODEL},
        {13, -1, ONNXC_ERR_MODEL},
    };
    oh_node h;
    for (size_t c = 0; c < ARRAY_LEN(bad_to); c++) {
        oh_init(&h, "Cast", bad_to[c].opset);
        oh_attr_int(&h, "to", bad_to[c].to);
        expect_run_code(&h, 1, in, 0, bad_to[c].code);
    }
    oh_init(&h, "Cast", 13);
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL); /* 'to' required */
    oh_init(&h, "Cast", 1);
    oh_attr_string(&h, "to", "FLOAT32");
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Cast", 1);
    oh_attr_string(&h, "to", "STRING");
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_UNSUPPORTED);
    oh_init(&h, "Cast", 13);
    oh_attr_int(&h, "to", 1);
    oh_attr_int(&h, "saturate", 1); /* from 19 */
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Cast", 19);
    oh_attr_int(&h, "to", 1);
    oh_attr_int(&h, "saturate", 2);
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Cast", 23);
    oh_attr_int(&h, "to", 1);
    oh_attr_string(&h, "round_mode", "up"); /* from 24 */
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
    oh_init(&h, "Cast", 24);
    oh_attr_int(&h, "to", 1);
    oh_attr_string(&h, "round_mode", "sideways");
    expect_run_code(&h, 1, in, 0, ONNXC_ERR_MODEL);
    /* saturate and round_mode accepted where defined (they only concern float8). */
    oh_init(&h, "Cast", 25);
    oh_attr_int(&h, "to", ONNXC_DTYPE_INT8);
    oh_attr_int(&h, "saturate", 0);
    oh_attr_string(&h, "round_mode", "nearest");
    oc_tensor out[1];
    expect_ok(run1(&h, 1, in, 0, out));
    oh_free_outputs(1, out);
    oh_free(&h);
}
END_TEST

/* ---- the suite ---- */

static Suite *ops_tensor_suite(void)
{
    Suite *s = suite_create("ops_tensor");
    TCase *transpose = tcase_create("transpose");
    tcase_add_test(transpose, transpose_all_permutations);
    tcase_add_test(transpose, transpose_large_and_high_rank);
    tcase_add_test(transpose, transpose_default_and_empty);
    tcase_add_test(transpose, transpose_rejects);
    tcase_add_test(transpose, kernel_transpose_matches_reference);
    tcase_add_test(transpose, kernel_strided_matches_reference);
    suite_add_tcase(s, transpose);

    TCase *slice = tcase_create("slice");
    tcase_add_loop_test(slice, slice_cases_every_form, 0, (int)ARRAY_LEN(slice_cases));
    tcase_add_test(slice, slice_every_dtype);
    tcase_add_test(slice, slice_clamping_sweep);
    tcase_add_test(slice, slice_rejects);
    suite_add_tcase(s, slice);

    TCase *gather = tcase_create("gather");
    tcase_add_test(gather, gather_axes_and_index_shapes);
    tcase_add_test(gather, gather_every_dtype_and_empty);
    tcase_add_test(gather, gather_rejects);
    tcase_add_test(gather, kernel_gather_matches_reference);
    suite_add_tcase(s, gather);

    TCase *split = tcase_create("split");
    tcase_add_test(split, split_every_form);
    tcase_add_test(split, split_omitted_output);
    tcase_add_test(split, split_rejects);
    suite_add_tcase(s, split);

    TCase *pad = tcase_create("pad");
    tcase_add_loop_test(pad, pad_every_mode_and_form, 0, (int)ARRAY_LEN(pad_cases));
    tcase_add_test(pad, pad_every_dtype);
    tcase_add_test(pad, pad_partial_axes_and_empty);
    tcase_add_test(pad, pad_rejects);
    tcase_add_test(pad, kernel_pad_matches_reference);
    suite_add_tcase(s, pad);

    TCase *regroup = tcase_create("reshape_squeeze_unsqueeze_expand");
    tcase_add_loop_test(regroup, reshape_cases_every_form, 0, (int)ARRAY_LEN(reshape_cases));
    tcase_add_test(regroup, reshape_squeeze_unsqueeze_every_dtype);
    tcase_add_test(regroup, reshape_rejects);
    tcase_add_test(regroup, unsqueeze_every_form);
    tcase_add_test(regroup, squeeze_every_form);
    tcase_add_test(regroup, squeeze_unsqueeze_rejects);
    tcase_add_test(regroup, expand_broadcasts);
    tcase_add_test(regroup, expand_rejects);
    suite_add_tcase(s, regroup);

    TCase *make = tcase_create("shape_constant");
    tcase_add_test(make, shape_every_range);
    tcase_add_test(make, constant_every_form);
    tcase_add_test(make, constant_rejects);
    tcase_add_test(make, constantofshape_every_dtype);
    tcase_add_test(make, constantofshape_rejects);
    suite_add_tcase(s, make);

    TCase *cast = tcase_create("cast");
    tcase_add_test(cast, cast_half_exhaustive);
    tcase_add_loop_test(cast, cast_every_pair, 0, (int)ARRAY_LEN(all_dtypes));
    tcase_add_test(cast, cast_names_chunks_and_bool);
    tcase_add_test(cast, cast_rejects);
    suite_add_tcase(s, cast);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(ops_tensor_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
