/* Fast ReduceMean: one pass over the input in memory order (see reduce.h).
 * The element types share the walk; only the two row loops and the final
 * division are written per type, once, by a macro. */
#include <string.h>

#include "core/util.h"
#include "onnxc.h"
#include "reduce.h"

/* Per element type: the accumulator (double for floating point; uint64_t
 * for integers, so overflow wraps instead of being undefined) and the mean. */
#define MEAN_FLOAT(T, acc, count) ((T)((acc) / (double)(count)))
#define MEAN_INT(T, acc, count) ((count) ? (T)((int64_t)(acc) / (count)) : (T)0)
#define REDUCE_TYPES(X)                                    \
    X(ONNXC_DTYPE_FLOAT, float, double, f32, MEAN_FLOAT)   \
    X(ONNXC_DTYPE_DOUBLE, double, double, f64, MEAN_FLOAT) \
    X(ONNXC_DTYPE_INT32, int32_t, uint64_t, i32, MEAN_INT) \
    X(ONNXC_DTYPE_INT64, int64_t, uint64_t, i64, MEAN_INT)

/* Every accumulator type is 8 bytes. */
#define ACC_SIZE 8

typedef struct reduce_fns {
    size_t elem_size;
    /* acc[0] += x[0] + ... + x[n-1] */
    void (*sum_row)(void *acc, const void *x, int64_t n);
    /* acc[i] += x[i] for i < n */
    void (*add_row)(void *acc, const void *x, int64_t n);
    /* y[i] = acc[i] / count for i < n */
    void (*finish)(void *y, const void *acc, int64_t n, int64_t count);
} reduce_fns;

#define DEFINE_FNS(dtype, T, ACC, sfx, MEAN)                                        \
    static void sum_row_##sfx(void *acc_, const void *x_, int64_t n)              \
    {                                                                              \
        const T *x = x_;                                                           \
        ACC sum = 0;                                                               \
        for (int64_t i = 0; i < n; i++) sum += (ACC)x[i];                          \
        *(ACC *)acc_ += sum;                                                       \
    }                                                                              \
    static void add_row_##sfx(void *acc_, const void *x_, int64_t n)              \
    {                                                                              \
        ACC *acc = acc_;                                                           \
        const T *x = x_;                                                           \
        for (int64_t i = 0; i < n; i++) acc[i] += (ACC)x[i];                       \
    }                                                                              \
    static void finish_##sfx(void *y_, const void *acc_, int64_t n, int64_t count) \
    {                                                                              \
        T *y = y_;                                                                 \
        const ACC *acc = acc_;                                                     \
        for (int64_t i = 0; i < n; i++) y[i] = MEAN(T, acc[i], count);             \
    }                                                                              \
    static const reduce_fns fns_##sfx = {sizeof(T), sum_row_##sfx, add_row_##sfx,   \
                                         finish_##sfx};
REDUCE_TYPES(DEFINE_FNS)

static const reduce_fns *fns_of(int dtype)
{
#define FNS_CASE(dt, T, ACC, sfx, MEAN) \
    if (dtype == dt) return &fns_##sfx;
    REDUCE_TYPES(FNS_CASE)
    return NULL;
}

bool oc_reduce_mean_supports(int dtype) { return fns_of(dtype) != NULL; }

/* Some dim selected by (reduced, kept) is 0. */
static bool has_zero(const oc_reduce_geom *g, bool reduced, bool kept)
{
    for (int i = 0; i < g->rank; i++)
        if ((g->reduced[i] ? reduced : kept) && g->dims[i] == 0) return true;
    return false;
}

size_t oc_reduce_mean_workspace(const oc_reduce_geom *g)
{
    size_t bytes = ACC_SIZE;
    if (has_zero(g, false, true)) return 0; /* an empty output (other dims may be huge) */
    for (int i = 0; i < g->rank; i++)
        if (!g->reduced[i] && !oc_mul_size(bytes, (size_t)g->dims[i], &bytes)) return SIZE_MAX;
    return bytes;
}

/* g with unit dims dropped and neighbouring dims of the same kind merged;
 * at least one dim (a kept 1 when nothing is left). */
static oc_reduce_geom collapse(const oc_reduce_geom *g)
{
    oc_reduce_geom c = {0, {0}, {false}};
    for (int i = 0; i < g->rank; i++) {
        if (g->dims[i] == 1) continue;
        if (c.rank > 0 && c.reduced[c.rank - 1] == g->reduced[i]) {
            c.dims[c.rank - 1] *= g->dims[i];
        } else {
            c.dims[c.rank] = g->dims[i];
            c.reduced[c.rank] = g->reduced[i];
            c.rank++;
        }
    }
    if (c.rank == 0) {
        c.rank = 1;
        c.dims[0] = 1;
    }
    return c;
}

/* The product of the dims selected by (reduced, kept): 0 when one is 0
 * (without multiplying the others: an empty tensor's may overflow), else
 * bounded by the input's or the output's element count. */
static int64_t count_of(const oc_reduce_geom *g, bool reduced, bool kept)
{
    if (has_zero(g, reduced, kept)) return 0;
    int64_t n = 1;
    for (int i = 0; i < g->rank; i++)
        if (g->reduced[i] ? reduced : kept) n *= g->dims[i];
    return n;
}

void oc_reduce_mean(int dtype, const oc_reduce_geom *g, const void *x, void *y, void *workspace)
{
    const reduce_fns *fns = fns_of(dtype);
    if (!fns) return;
    if (has_zero(g, false, true)) return; /* an empty output */
    if (has_zero(g, true, false)) {
        /* Empty reductions: x has no elements to read (its data may be NULL). */
        int64_t outputs = count_of(g, false, true);
        memset(workspace, 0, (size_t)outputs * ACC_SIZE);
        fns->finish(y, workspace, outputs, 0);
        return;
    }
    oc_reduce_geom c = collapse(g); /* x is not empty: every product fits */
    int64_t outputs = count_of(&c, false, true), inputs = count_of(&c, true, true);
    char *acc = workspace;
    memset(acc, 0, (size_t)outputs * ACC_SIZE);

    /* Accumulator strides of the outer dims: 0 along a reduced dim. */
    int outer = c.rank - 1;
    int64_t stride[OC_REDUCE_MAX_RANK], index[OC_REDUCE_MAX_RANK] = {0};
    int64_t next = c.reduced[outer] ? 1 : c.dims[outer];
    for (int d = outer - 1; d >= 0; d--) {
        stride[d] = c.reduced[d] ? 0 : next;
        if (!c.reduced[d]) next *= c.dims[d];
    }
    int64_t row = c.dims[outer], rows = row ? inputs / row : 0, at = 0;
    const char *xr = x;
    for (int64_t r = 0; r < rows; r++, xr += (size_t)row * fns->elem_size) {
        if (c.reduced[outer])
            fns->sum_row(acc + at * ACC_SIZE, xr, row);
        else
            fns->add_row(acc + at * ACC_SIZE, xr, row);
        for (int d = outer - 1; d >= 0; d--) { /* the odometer over the outer dims */
            at += stride[d];
            if (++index[d] < c.dims[d]) break;
            at -= stride[d] * c.dims[d];
            index[d] = 0;
        }
    }
    fns->finish(y, acc, outputs, count_of(g, true, false));
}
