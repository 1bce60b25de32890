/* Strided copies and transposes (see strided.h). */
#include <stdbool.h>
#include <string.h>

#include "strided.h"

/* Square tiles of this many elements a side: 32 x 32 of 8 bytes is 8 KiB,
 * well inside L1 for the source lines and the destination lines together. */
#define TILE 32

/* The copy after simplification: dims with their source and destination
 * strides in elements. */
typedef struct walk {
    int rank;
    int64_t dims[OC_STRIDED_MAX_RANK];
    int64_t src[OC_STRIDED_MAX_RANK];
    int64_t dst[OC_STRIDED_MAX_RANK];
} walk;

/* Drops unit dims and merges a dim into the one outside it when both sides
 * step over the inner one exactly as the outer one does. False when a dim is
 * 0: there is nothing to copy. */
static bool simplify(walk *w, int rank, const int64_t *dims, const int64_t *strides)
{
    int64_t dense[OC_STRIDED_MAX_RANK];
    int64_t step = 1;
    for (int k = rank - 1; k >= 0; k--) {
        if (dims[k] == 0) return false;
        dense[k] = step;
        step *= dims[k];
    }
    w->rank = 0;
    for (int k = 0; k < rank; k++) {
        if (dims[k] == 1) continue;
        int j = w->rank - 1;
        int64_t src_span, dst_span;
        if (j >= 0 && !__builtin_mul_overflow(strides[k], dims[k], &src_span) &&
            !__builtin_mul_overflow(dense[k], dims[k], &dst_span) && w->src[j] == src_span &&
            w->dst[j] == dst_span) {
            w->dims[j] *= dims[k];
            w->src[j] = strides[k];
            w->dst[j] = dense[k];
            continue;
        }
        w->dims[w->rank] = dims[k];
        w->src[w->rank] = strides[k];
        w->dst[w->rank] = dense[k];
        w->rank++;
    }
    return true;
}

/* Writes n copies of the element at value to dst, doubling the filled
 * prefix: a few memcpy calls whatever the element size. */
static void fill_repeat(char *dst, const char *value, size_t size, size_t n)
{
    size_t total = size * n, filled = size;
    memcpy(dst, value, size);
    while (filled < total) {
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(dst + filled, dst, chunk);
        filled += chunk;
    }
}

/* The element loops, written once and instantiated per element size so the
 * memcpy of a constant size compiles to a single load and store (and stays
 * correct for unaligned data). */
#define DEFINE_MOVES(sfx, SIZE)                                                              \
    /* n elements to dense dst from src stepping step elements. */                           \
    static void row_##sfx(char *dst, const char *src, size_t n, int64_t step, size_t size)  \
    {                                                                                        \
        (void)size;                                                                          \
        ptrdiff_t jump = (ptrdiff_t)step * (ptrdiff_t)(SIZE);                                \
        for (size_t i = 0; i < n; i++, src += jump) memcpy(dst + i * (SIZE), src, SIZE);     \
    }                                                                                        \
    /* dst[a * dst_a + b] = src[a + b * src_b] for a < na, b < nb, tile by tile. */          \
    static void tile_##sfx(char *dst, const char *src, size_t na, int64_t dst_a, size_t nb,  \
                           int64_t src_b, size_t size)                                       \
    {                                                                                        \
        (void)size;                                                                          \
        ptrdiff_t src_jump = (ptrdiff_t)src_b * (ptrdiff_t)(SIZE);                           \
        for (size_t a0 = 0; a0 < na; a0 += TILE) {                                           \
            size_t a1 = na - a0 < TILE ? na : a0 + TILE;                                     \
            for (size_t b0 = 0; b0 < nb; b0 += TILE) {                                       \
                size_t b1 = nb - b0 < TILE ? nb : b0 + TILE;                                 \
                for (size_t a = a0; a < a1; a++) {                                           \
                    char *d = dst + (ptrdiff_t)a * (ptrdiff_t)dst_a * (ptrdiff_t)(SIZE);     \
                    const char *s = src + a * (SIZE) + (ptrdiff_t)b0 * src_jump;             \
                    for (size_t b = b0; b < b1; b++, s += src_jump)                          \
                        memcpy(d + b * (SIZE), s, SIZE);                                     \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

DEFINE_MOVES(1, 1)
DEFINE_MOVES(2, 2)
DEFINE_MOVES(4, 4)
DEFINE_MOVES(8, 8)
DEFINE_MOVES(any, size)

typedef void (*row_fn)(char *, const char *, size_t, int64_t, size_t);
typedef void (*tile_fn)(char *, const char *, size_t, int64_t, size_t, int64_t, size_t);

static row_fn pick_row(size_t size)
{
    switch (size) {
    case 1: return row_1;
    case 2: return row_2;
    case 4: return row_4;
    case 8: return row_8;
    default: return row_any;
    }
}

static tile_fn pick_tile(size_t size)
{
    switch (size) {
    case 1: return tile_1;
    case 2: return tile_2;
    case 4: return tile_4;
    case 8: return tile_8;
    default: return tile_any;
    }
}

/* How the innermost (or innermost two) dims are copied. */
typedef enum inner_kind { INNER_RUN, INNER_REPEAT, INNER_TILE, INNER_STRIDED } inner_kind;

typedef struct plan {
    const walk *w;
    size_t size;
    inner_kind kind;
    int last, tile_axis;
    row_fn row;
    tile_fn tile;
} plan;

static void copy_inner(const plan *p, char *dst, const char *src)
{
    const walk *w = p->w;
    size_t n = (size_t)w->dims[p->last];
    switch (p->kind) {
    case INNER_RUN: memcpy(dst, src, n * p->size); break;
    case INNER_REPEAT: fill_repeat(dst, src, p->size, n); break;
    case INNER_STRIDED: p->row(dst, src, n, w->src[p->last], p->size); break;
    case INNER_TILE:
        p->tile(dst, src, (size_t)w->dims[p->tile_axis], w->dst[p->tile_axis], n,
                w->src[p->last], p->size);
        break;
    }
}

/* A dim with source stride 1 other than the innermost: the transpose case. */
static int find_tile_axis(const walk *w)
{
    for (int k = w->rank - 2; k >= 0; k--)
        if (w->src[k] == 1) return k;
    return -1;
}

void oc_strided_copy(void *dst, const void *src, size_t elem_size, int rank, const int64_t *dims,
                     const int64_t *strides)
{
    walk w;
    if (!simplify(&w, rank, dims, strides)) return;
    if (w.rank == 0) {
        memcpy(dst, src, elem_size);
        return;
    }
    plan p = {&w, elem_size, INNER_STRIDED, w.rank - 1, -1, pick_row(elem_size),
              pick_tile(elem_size)};
    int64_t inner_stride = w.src[p.last];
    if (inner_stride == 1)
        p.kind = INNER_RUN;
    else if (inner_stride == 0)
        p.kind = INNER_REPEAT;
    else if ((p.tile_axis = find_tile_axis(&w)) >= 0)
        p.kind = INNER_TILE;

    /* An odometer over the remaining (outer) dims. */
    int outer[OC_STRIDED_MAX_RANK], n_outer = 0;
    for (int k = 0; k < p.last; k++)
        if (k != p.tile_axis) outer[n_outer++] = k;
    int64_t index[OC_STRIDED_MAX_RANK] = {0};
    ptrdiff_t src_off = 0, dst_off = 0, size = (ptrdiff_t)elem_size;
    for (;;) {
        copy_inner(&p, (char *)dst + dst_off * size, (const char *)src + src_off * size);
        int k = n_outer - 1;
        for (; k >= 0; k--) {
            int axis = outer[k];
            src_off += (ptrdiff_t)w.src[axis];
            dst_off += (ptrdiff_t)w.dst[axis];
            if (++index[k] < w.dims[axis]) break;
            src_off -= (ptrdiff_t)(w.src[axis] * w.dims[axis]);
            dst_off -= (ptrdiff_t)(w.dst[axis] * w.dims[axis]);
            index[k] = 0;
        }
        if (k < 0) break;
    }
}

void oc_transpose(void *dst, const void *src, size_t elem_size, int rank, const int64_t *in_dims,
                  const int *perm)
{
    int64_t in_strides[OC_STRIDED_MAX_RANK], dims[OC_STRIDED_MAX_RANK],
        strides[OC_STRIDED_MAX_RANK];
    int64_t step = 1;
    for (int k = rank - 1; k >= 0; k--) {
        in_strides[k] = step;
        step *= in_dims[k];
    }
    for (int k = 0; k < rank; k++) {
        dims[k] = in_dims[perm[k]];
        strides[k] = in_strides[perm[k]];
    }
    oc_strided_copy(dst, src, elem_size, rank, dims, strides);
}
