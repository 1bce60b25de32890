/* The SGEMM driver: picks the kernel set (cpu.h), the path (packed blocks
 * or few vectors), the cache blocking and the split over threads, and lays
 * out the workspace; the kernels themselves are in gemm_isa.c.
 *
 * The blocked path (Goto / BLIS order), for a block of C rows [i0, i1) x
 * columns [j0, j1) on one thread:
 *   for jc over the columns in steps of NC:
 *     for pc over K in slices of depth <= KC (equal slices):
 *       B block = op(B)[pc.., jc..] packed into NR-wide panels (or taken from
 *                 a B packed at load), KC x NC: stays in L2
 *       for ic over the rows in steps of MC:
 *         A block = op(A)[ic.., pc..] packed into MR-tall panels (or taken
 *                   from an A packed at load)
 *         for each A micro-panel (MR x KC, stays in L1):
 *           for each B panel: micro-kernel -> MR x NR tile of C
 * The first slice applies alpha and beta * X to the tile, later ones add
 * alpha * their sums onto C; the last one applies the clamp.
 *
 * Threads: the product is cut into UNITS_PER_THREAD units a thread of
 * nearly equal size, column ranges first (each at least a B panel wide), and
 * rows too when there are few columns (conv layers on 7x7 and 14x14 maps),
 * or rows alone when A has more rows than B has columns (A the bigger);
 * each thread takes its own contiguous run of them (oc_parallel_for_affine:
 * thread t the t-th part of the columns, which for a 1x1 conv are the t-th
 * part of the image's rows, the part the direct and Winograd convs give it
 * too, so its input is mostly in its own caches), a thread done early
 * taking the others' last units. Each unit packs its own B (and A) blocks
 * into its thread's slot of the workspace.
 *
 * The few-vector path (m or n <= 8, both raw operands given): the big
 * operand is W, the small one S; dot form when W's rows run along K, axpy
 * form otherwise (see gemm_isa.c); a strided S is first gathered into the
 * workspace's shared area for the dot form. Threads take ranges of W's rows
 * (dot) or two column ranges each (axpy). */
#include "gemm.h"

#include <stdint.h>
#include <string.h>

#include "core/util.h"
#include "gemm_isa.h"

enum {
    /* Below this many flops a product stays on the calling thread. */
    PARALLEL_FLOPS = 1 << 19,
    /* Below this many bytes of the streamed operand, likewise. */
    PARALLEL_BYTES = 1 << 18,
    /* Units of work per thread a parallel product aims at. */
    UNITS_PER_THREAD = 4,
    WS_ALIGN = 64
};

/* Products with at most this many rows (or columns) take the few-vector path. */
#ifndef SMALL_PATH_MAX
#define SMALL_PATH_MAX OC_GEMM_SMALL_MAX
#endif

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
static size_t round_up(size_t n, size_t m) { return ceil_div(n, m) * m; }

static const oc_gemm_kernels *const kernel_sets[] = {
    &oc_gemm_kernels_portable,
#ifdef OC_HAVE_AVX2
    &oc_gemm_kernels_avx2,
#endif
#ifdef OC_HAVE_AVX512
    &oc_gemm_kernels_avx512,
#endif
};
#define N_KERNEL_SETS (sizeof kernel_sets / sizeof *kernel_sets)

static const oc_gemm_kernels *kernels_of(oc_isa isa)
{
    oc_isa want = oc_isa_resolve(isa);
    for (size_t i = N_KERNEL_SETS; i-- > 0;)
        if ((oc_isa)kernel_sets[i]->isa == want) return kernel_sets[i];
    return &oc_gemm_kernels_portable;
}

/* The depth of each K slice: K split into equal slices of at most kc, so a
 * remainder does not make one slice tiny. */
static size_t slice_depth(size_t k, size_t kc)
{
    if (k == 0) return 1;
    return ceil_div(k, ceil_div(k, kc));
}

/* Rows of a packed A of m rows; columns of a packed B of n columns
 * (SIZE_MAX for sizes no buffer could hold, so that byte counts overflow). */
static size_t padded_rows(const oc_gemm_kernels *K, size_t m)
{
    return m > SIZE_MAX / 2 ? SIZE_MAX : round_up(m, (size_t)K->mr);
}
static size_t padded_cols(const oc_gemm_kernels *K, size_t n)
{
    size_t nr = (size_t)K->nr;
    return n > SIZE_MAX / 2 ? SIZE_MAX : n / nr * nr + round_up(n % nr, (size_t)K->vl);
}

oc_gemm_epilogue oc_gemm_epilogue_default(void)
{
    return (oc_gemm_epilogue){1.0f, 0.0f, NULL, 0, 0, false, 0.0f, 0.0f};
}

oc_gemm_desc oc_gemm_desc_make(bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                               const float *a, size_t lda, const float *b, size_t ldb, float *c,
                               size_t ldc)
{
    oc_gemm_desc d;
    memset(&d, 0, sizeof d);
    d.m = m, d.n = n, d.k = k;
    d.trans_a = trans_a, d.trans_b = trans_b;
    d.a = a, d.lda = lda, d.b = b, d.ldb = ldb, d.c = c, d.ldc = ldc;
    d.ep = oc_gemm_epilogue_default();
    d.isa = OC_ISA_AUTO;
    return d;
}

/* ======================================================================== */
/* Sizes                                                                    */
/* ======================================================================== */

/* bytes = a * b * c floats rounded up to WS_ALIGN; false on overflow. */
static bool float_bytes(size_t a, size_t b, size_t c, size_t *bytes)
{
    size_t n;
    return oc_mul_size(a, b, &n) && oc_mul_size(n, c, &n) && oc_mul_size(n, sizeof(float), &n) &&
           n <= SIZE_MAX - WS_ALIGN && (*bytes = round_up(n, WS_ALIGN), true);
}

/* One thread's slot for kernel set K: packed B block, then packed A block. */
static bool slot_parts(const oc_gemm_kernels *K, size_t m, size_t n, size_t k, size_t *b_bytes,
                       size_t *a_bytes)
{
    size_t depth = min_sz(k, K->kc);
    return float_bytes(depth, min_sz(padded_cols(K, n), K->nc), 1, b_bytes) &&
           float_bytes(min_sz(padded_rows(K, m), K->mc), depth, 1, a_bytes);
}

/* The slot stride: the largest slot of any kernel set. */
static bool slot_stride(size_t m, size_t n, size_t k, size_t *stride)
{
    *stride = 0;
    for (size_t i = 0; i < N_KERNEL_SETS; i++) {
        size_t b, a;
        if (!slot_parts(kernel_sets[i], m, n, k, &b, &a) || !oc_add_size(a, b, &a)) return false;
        *stride = max_sz(*stride, a);
    }
    return true;
}

/* The shared area: room for up to OC_GEMM_SMALL_MAX gathered vectors of k. */
static bool shared_bytes(size_t m, size_t n, size_t k, size_t *bytes)
{
    return float_bytes(min_sz(min_sz(m, n), OC_GEMM_SMALL_MAX), k, 1, bytes);
}

/* With threads, each thread's room for all of B packed (any kernel set pads
 * n by less than 16) and a flag per column range, for units that split the
 * rows of a product whose B is transposed (see gemm_blocked). The
 * workspace holds at most PRIVATE_B_MAX of it a thread (not a
 * fully-connected layer's weights: those products take the few-vector path
 * or pack per unit when it does not fit). */
#define PRIVATE_B_MAX ((size_t)16 << 20)
static bool private_b_bytes(size_t n, size_t k, size_t threads, size_t *each, size_t *flags)
{
    *each = *flags = 0;
    return threads <= 1 ||
           (n <= SIZE_MAX - 16 && float_bytes(n + 16, k, 1, each) &&
            oc_mul_size(threads, UNITS_PER_THREAD, flags) && oc_align_up(*flags, flags) &&
            oc_add_size(*each, *flags, each));
}

size_t oc_gemm_workspace(size_t m, size_t n, size_t k, int threads)
{
    if (m == 0 || n == 0 || k == 0) return 0;
    size_t t = threads > 1 ? (size_t)threads : 1, shared, stride, total, each, flags, b;
    if (!shared_bytes(m, n, k, &shared) || !slot_stride(m, n, k, &stride) ||
        !private_b_bytes(n, k, t, &each, &flags) ||
        !oc_mul_size(min_sz(each, PRIVATE_B_MAX + flags), t, &b) ||
        !oc_mul_size(stride, t, &total) || !oc_add_size(total, shared, &total) ||
        !oc_add_size(total, b, &total) || !oc_add_size(total, WS_ALIGN, &total))
        return SIZE_MAX;
    return total;
}

size_t oc_sgemm_workspace(size_t m, size_t n, size_t k) { return oc_gemm_workspace(m, n, k, 1); }

size_t oc_gemm_pack_a_size(oc_isa isa, size_t m, size_t k)
{
    size_t bytes;
    return float_bytes(padded_rows(kernels_of(isa), m), k, 1, &bytes) ? bytes : SIZE_MAX;
}

size_t oc_gemm_pack_b_size(oc_isa isa, size_t n, size_t k)
{
    size_t bytes;
    return float_bytes(padded_cols(kernels_of(isa), n), k, 1, &bytes) ? bytes : SIZE_MAX;
}

/* ======================================================================== */
/* Packing once                                                             */
/* ======================================================================== */

/* A packed A: slice after slice (slice at depth pc starts at pc * padded
 * rows), each slice its panels. */
void oc_gemm_pack_a(oc_isa isa, bool trans_a, size_t m, size_t k, const float *a, size_t lda,
                    float *dst, oc_gemm_packed *out)
{
    const oc_gemm_kernels *K = kernels_of(isa);
    size_t depth = slice_depth(k, K->kc), mpad = padded_rows(K, m);
    for (size_t pc = 0; pc < k && m > 0; pc += depth) {
        size_t kc = min_sz(depth, k - pc);
        K->pack_a(trans_a, trans_a ? a + pc * lda : a + pc, lda, m, kc, dst + pc * mpad);
    }
    *out = (oc_gemm_packed){(oc_isa)K->isa, false, m, k, depth, dst};
}

/* A packed B: slice after slice (slice at depth pc starts at pc * padded
 * columns), each slice its panels. */
void oc_gemm_pack_b(oc_isa isa, bool trans_b, size_t k, size_t n, const float *b, size_t ldb,
                    float *dst, oc_gemm_packed *out)
{
    oc_gemm_pack_b_consuming(isa, trans_b, k, n, b, ldb, dst, out, NULL, NULL);
}

/* Stored rows of op(B)'s columns a trans_b piece holds: a few panels, so a
 * piece is megabytes at most for any K a model has. */
#define PACK_PIECE_PANELS 4

void oc_gemm_pack_b_consuming(oc_isa isa, bool trans_b, size_t k, size_t n, const float *b,
                              size_t ldb, float *dst, oc_gemm_packed *out,
                              oc_gemm_consumed_fn consumed, void *ctx)
{
    const oc_gemm_kernels *K = kernels_of(isa);
    size_t depth = slice_depth(k, K->kc), npad = padded_cols(K, n);
    *out = (oc_gemm_packed){(oc_isa)K->isa, true, n, k, depth, dst};
    if (n == 0 || k == 0) return;
    if (!trans_b) {
        /* Slice pc is rows [pc, pc + kc) of b. */
        for (size_t pc = 0; pc < k; pc += depth) {
            size_t kc = min_sz(depth, k - pc);
            K->pack_b(false, b + pc * ldb, ldb, kc, n, dst + pc * npad);
            if (consumed) consumed(ctx, b + pc * ldb, ((kc - 1) * ldb + n) * sizeof *b);
        }
        return;
    }
    /* Columns [j0, j1) of op(B) are rows [j0, j1) of b; within slice pc
     * their panels start at j0 * kc (j0 a multiple of the panel width). */
    size_t step = (size_t)K->nr * PACK_PIECE_PANELS;
    for (size_t j0 = 0; j0 < n; j0 += step) {
        size_t cols = min_sz(step, n - j0);
        for (size_t pc = 0; pc < k; pc += depth) {
            size_t kc = min_sz(depth, k - pc);
            K->pack_b(true, b + j0 * ldb + pc, ldb, kc, cols, dst + pc * npad + j0 * kc);
        }
        if (consumed) consumed(ctx, b + j0 * ldb, ((cols - 1) * ldb + k) * sizeof *b);
    }
}

oc_gemm_b_layout oc_gemm_b_layout_of(oc_isa isa, size_t k, size_t n)
{
    const oc_gemm_kernels *K = kernels_of(isa);
    return (oc_gemm_b_layout){(oc_isa)K->isa,     k, n, slice_depth(k, K->kc), (size_t)K->nr,
                              (size_t)K->vl, padded_cols(K, n)};
}

oc_gemm_packed oc_gemm_packed_b_of(const oc_gemm_b_layout *l, const float *dst)
{
    return (oc_gemm_packed){l->isa, true, l->n, l->k, l->depth, dst};
}

/* ======================================================================== */
/* The blocked path                                                         */
/* ======================================================================== */

typedef struct plan {
    const oc_gemm_kernels *K;
    size_t m, n, k, depth;
    bool trans_a, trans_b;
    const float *a, *b;
    size_t lda, ldb;
    const float *packed_a, *packed_b; /* NULL: pack per block */
    bool in_place_b;                  /* unpacked B's whole panels read in place */
    size_t mpad, npad;                /* of the packed operands */
    float *c;
    size_t ldc;
    oc_gemm_epilogue ep;              /* resolved: x NULL when beta == 0 */
    char *slots;
    size_t slot_stride, a_offset;
    /* the unit grid (parallel runs) */
    size_t n_units, m_units, col_step;
    /* units that split the rows: each thread's own packed B (at
     * private_b + thread * private_stride, its column ranges' flags after
     * the floats at flags_offset), or NULL */
    char *private_b;
    size_t private_stride, flags_offset;
} plan;

/* The epilogue of K slice [pc, pc + kc) for the block at (i0, j0). */
static oc_gemm_kep slice_epilogue(const plan *p, size_t pc, size_t kc, size_t i0, size_t j0)
{
    oc_gemm_kep e = {p->ep.alpha, 1.0f, p->c + i0 * p->ldc + j0, p->ldc, 1, false, 0.0f, 0.0f};
    if (pc == 0) {
        e.beta = p->ep.beta;
        e.x = p->ep.x ? p->ep.x + i0 * p->ep.x_rs + j0 * p->ep.x_cs : NULL;
        e.x_rs = p->ep.x_rs;
        e.x_cs = p->ep.x_cs;
    }
    if (pc + kc == p->k) {
        e.clamp = p->ep.clamp;
        e.lo = p->ep.lo;
        e.hi = p->ep.hi;
    }
    return e;
}

/* Where element (pc, j) of op(B) is in b. */
static const float *b_at(const plan *p, size_t pc, size_t j)
{
    return p->trans_b ? p->b + j * p->ldb + pc : p->b + pc * p->ldb + j;
}

static void run_block(const plan *p, size_t i0, size_t i1, size_t j0, size_t j1, int thread)
{
    const oc_gemm_kernels *K = p->K;
    char *slot = p->slots + (size_t)thread * p->slot_stride;
    float *b_buf = (float *)slot, *a_buf = (float *)(slot + p->a_offset);
    for (size_t jc = j0; jc < j1; jc += K->nc) {
        size_t nc = min_sz(K->nc, j1 - jc);
        for (size_t pc = 0; pc < p->k; pc += p->depth) {
            size_t kc = min_sz(p->depth, p->k - pc);
            const float *pb, *src = NULL;
            /* B in place: its whole panels read where they are, the rest packed */
            size_t in_place = 0;
            if (p->packed_b) {
                pb = p->packed_b + pc * p->npad + jc * kc;
            } else {
                src = b_at(p, pc, jc);
                if (p->in_place_b) in_place = nc / (size_t)K->nr * (size_t)K->nr;
                if (in_place < nc)
                    K->pack_b(p->trans_b, src + in_place, p->ldb, kc, nc - in_place, b_buf);
                pb = b_buf;
            }
            for (size_t ic = i0; ic < i1; ic += K->mc) {
                size_t mc = min_sz(K->mc, i1 - ic);
                const float *pa;
                if (p->packed_a) {
                    pa = p->packed_a + pc * p->mpad + ic * kc;
                } else {
                    const float *a_src =
                        p->trans_a ? p->a + pc * p->lda + ic : p->a + ic * p->lda + pc;
                    K->pack_a(p->trans_a, a_src, p->lda, mc, kc, a_buf);
                    pa = a_buf;
                }
                float *c = p->c + ic * p->ldc + jc;
                oc_gemm_kep e = slice_epilogue(p, pc, kc, ic, jc);
                if (in_place) {
                    K->block_in_place(mc, in_place, kc, pa, src, p->ldb, c, p->ldc, &e);
                    if (in_place == nc) continue;
                    e = slice_epilogue(p, pc, kc, ic, jc + in_place);
                }
                K->block(mc, nc - in_place, kc, pa, pb, c + in_place, p->ldc, &e);
            }
        }
    }
}

/* Columns [j0, j1) of B, every K slice, into dst laid out as a packed B of
 * all n columns (j0 on a panel boundary). */
static void pack_b_cols(const plan *p, float *dst, size_t j0, size_t j1)
{
    for (size_t pc = 0; pc < p->k; pc += p->depth) {
        size_t kc = min_sz(p->depth, p->k - pc);
        p->K->pack_b(p->trans_b, b_at(p, pc, j0), p->ldb, kc, j1 - j0, dst + pc * p->npad + j0 * kc);
    }
}

/* Parallel units: a grid of n_units column ranges x m_units row ranges of
 * nearly equal size (columns in steps of col_step, rows of MR). */
static void run_grid_units(void *ctx, size_t begin, size_t end, int thread)
{
    const plan *p = ctx;
    size_t mr = (size_t)p->K->mr, g = p->col_step;
    for (size_t u = begin; u < end; u++) {
        size_t ni = u / p->m_units, mi = u % p->m_units;
        size_t j0 = ni * p->n / p->n_units / g * g;
        size_t j1 = ni + 1 == p->n_units ? p->n : (ni + 1) * p->n / p->n_units / g * g;
        size_t i0 = mi * p->m / p->m_units / mr * mr;
        size_t i1 = mi + 1 == p->m_units ? p->m : (mi + 1) * p->m / p->m_units / mr * mr;
        if (i0 >= i1 || j0 >= j1) continue;
        if (!p->private_b) {
            run_block(p, i0, i1, j0, j1, thread);
            continue;
        }
        char *mine = p->private_b + (size_t)thread * p->private_stride;
        bool *packed = (bool *)(mine + p->flags_offset);
        if (!packed[ni]) {
            pack_b_cols(p, (float *)mine, j0, j1);
            packed[ni] = true;
        }
        plan q = *p;
        q.packed_b = (const float *)mine;
        run_block(&q, i0, i1, j0, j1, thread);
    }
}

/* Units that split the rows read the same columns of a B that cannot be
 * read in place (transposed): each thread packs the column ranges of its
 * units once, into B of its own (room bytes for all; too little: each unit
 * packs its own blocks). Own, not one B packed
 * by all: threads on different core complexes read what another one has
 * just written at a third of the speed of their own cache. */
static void private_packed_b(plan *p, size_t threads, char *dst, size_t room)
{
    size_t each, flags, all;
    if (!private_b_bytes(p->n, p->k, threads, &each, &flags) || !oc_mul_size(each, threads, &all) ||
        all > room || p->n_units > flags)
        return;
    p->npad = padded_cols(p->K, p->n);
    p->private_b = dst;
    p->private_stride = each;
    p->flags_offset = each - flags;
    for (size_t t = 0; t < threads; t++) memset(dst + t * each + p->flags_offset, 0, p->n_units);
}

static void gemm_blocked(const oc_gemm_desc *d, const oc_gemm_kernels *K, oc_gemm_epilogue ep,
                         oc_pool *pool, char *ws, size_t avail)
{
    plan p = {0};
    p.K = K;
    p.m = d->m, p.n = d->n, p.k = d->k;
    p.trans_a = d->trans_a, p.trans_b = d->trans_b;
    p.a = d->a, p.b = d->b, p.lda = d->lda, p.ldb = d->ldb;
    p.c = d->c, p.ldc = d->ldc;
    p.ep = ep;
    p.depth = slice_depth(d->k, K->kc);
    if (d->packed_a && (oc_isa)K->isa == d->packed_a->isa) {
        p.packed_a = d->packed_a->data;
        p.mpad = padded_rows(K, d->m);
        p.depth = d->packed_a->depth;
    }
    if (d->packed_b && (oc_isa)K->isa == d->packed_b->isa) {
        p.packed_b = d->packed_b->data;
        p.npad = padded_cols(K, d->n);
        p.depth = d->packed_b->depth;
    }
    /* An untransposed B is read in place (its whole panels; the rest is
     * packed): its rows are contiguous, and skipping the copy paid on every
     * shape measured (1x1 convs with 16 output channels 46 -> 31 us, VGG-16's
     * and GoogLeNet's im2col products 1-8% faster). */
    p.in_place_b = !p.packed_b && !p.trans_b;
    size_t shared = 0, b_bytes = 0, a_bytes = 0;
    shared_bytes(d->m, d->n, d->k, &shared); /* cannot fail: the workspace size did not */
    slot_stride(d->m, d->n, d->k, &p.slot_stride);
    slot_parts(K, d->m, d->n, d->k, &b_bytes, &a_bytes);
    p.slots = ws + shared;
    p.a_offset = b_bytes;

    size_t threads = (size_t)oc_pool_size(pool);
    double flops = 2.0 * (double)d->m * (double)d->n * (double)d->k;
    size_t room = avail > shared ? (avail - shared) / max_sz(p.slot_stride, 1) : 0;
    if (threads <= 1 || flops < PARALLEL_FLOPS || room < threads) {
        run_block(&p, 0, d->m, 0, d->n, 0);
        return;
    }
    /* UNITS_PER_THREAD equal units a thread: column ranges at least a panel
     * wide (a packed B's ranges start on its panels), then rows (at least a
     * panel each) when there are too few columns; the number of column
     * ranges divides the unit count so that every row split is even. Rows
     * only when A is the bigger operand (m > n): a column range streams all
     * of A, a row range all of B, and A (a conv's weights) comes from
     * memory (SqueezeNet's 1000 x 512 classifier over 13 x 13 positions:
     * 2.52 -> 2.37 ms at 2 threads). */
    size_t units = UNITS_PER_THREAD * threads, nr = (size_t)K->nr;
    size_t n_units = min_sz(units, max_sz(1, d->n / nr));
    if (d->m > d->n && ceil_div(d->m, (size_t)K->mr) >= units) n_units = 1;
    while (units % n_units) n_units--;
    p.n_units = n_units;
    p.m_units = min_sz(units / n_units, ceil_div(d->m, (size_t)K->mr));
    if (!p.packed_b && !p.in_place_b && p.m_units > 1)
        private_packed_b(&p, threads, ws + shared + threads * p.slot_stride,
                         avail - shared - threads * p.slot_stride);
    p.col_step = p.packed_b || p.private_b ? nr : (size_t)K->vl;
    /* Affine rather than claimed in turn: SqueezeNet 2.58 -> 2.50 ms and
     * GoogLeNet 8.40 -> 8.30 at 2 threads (its 55x55 1x1 convs 20-40%
     * faster); ResNet-18 and AlexNet unchanged. */
    oc_parallel_for_affine(pool, p.n_units * p.m_units, run_grid_units, &p);
}

/* ======================================================================== */
/* The few-vector path                                                      */
/* ======================================================================== */

typedef struct small_plan {
    const oc_gemm_kernels *K;
    oc_gemm_small s;
    bool dot;
    size_t rows, unit; /* rows of the product; rows per parallel unit */
} small_plan;

static void run_small_units(void *ctx, size_t begin, size_t end, int thread)
{
    (void)thread;
    const small_plan *sp = ctx;
    size_t r0 = begin * sp->unit, r1 = min_sz(end * sp->unit, sp->rows);
    if (sp->dot)
        sp->K->dot(&sp->s, r0, r1);
    else
        sp->K->axpy(&sp->s, r0, r1);
}

static void gemm_small(const oc_gemm_desc *d, const oc_gemm_kernels *K, oc_gemm_epilogue ep,
                       oc_pool *pool, char *ws)
{
    small_plan sp;
    sp.K = K;
    oc_gemm_small *s = &sp.s;
    s->k = d->k;
    s->alpha = ep.alpha, s->beta = ep.beta, s->x = ep.x;
    s->clamp = ep.clamp, s->lo = ep.lo, s->hi = ep.hi;
    if (d->m <= d->n) {
        /* out(v, r) = C[v][r]: S = op(A) (m rows), W = op(B). */
        s->nv = (int)d->m;
        s->s = d->a;
        s->s_vs = d->trans_a ? 1 : d->lda;
        s->s_ps = d->trans_a ? d->lda : 1;
        s->w = d->b, s->ldw = d->ldb;
        sp.dot = d->trans_b;
        s->c = d->c, s->c_vs = d->ldc, s->c_rs = 1;
        s->x_vs = ep.x_rs, s->x_rs = ep.x_cs;
        sp.rows = d->n;
    } else {
        /* out(v, r) = C[r][v]: S = op(B)^T (n rows), W = op(A)^T. */
        s->nv = (int)d->n;
        s->s = d->b;
        s->s_vs = d->trans_b ? d->ldb : 1;
        s->s_ps = d->trans_b ? 1 : d->ldb;
        s->w = d->a, s->ldw = d->lda;
        sp.dot = !d->trans_a;
        s->c = d->c, s->c_vs = 1, s->c_rs = d->ldc;
        s->x_vs = ep.x_cs, s->x_rs = ep.x_rs;
        sp.rows = d->m;
    }
    if (sp.dot && s->s_ps != 1 && s->nv > 0) {
        /* Dot products want each vector contiguous: gather them. */
        float *g = (float *)ws;
        for (int v = 0; v < s->nv; v++)
            for (size_t p = 0; p < d->k; p++)
                g[(size_t)v * d->k + p] = s->s[(size_t)v * s->s_vs + p * s->s_ps];
        s->s = g, s->s_vs = d->k, s->s_ps = 1;
    }
    /* Parallel units: groups of 8 rows for dot products; for the axpy form
     * two column ranges a thread (its blocks of outputs are the longer the
     * better, see gemm_isa.c). */
    size_t threads = (size_t)oc_pool_size(pool);
    sp.unit = sp.dot ? 8 : round_up(max_sz(ceil_div(sp.rows, 2 * threads), 1), (size_t)K->vl * 4);
    size_t units = ceil_div(sp.rows, sp.unit);
    double bytes = (double)sp.rows * (double)d->k * sizeof(float);
    if (threads > 1 && bytes >= PARALLEL_BYTES && units > 1)
        oc_parallel_for(pool, units, 1, run_small_units, &sp);
    else
        run_small_units(&sp, 0, units, 0);
}

/* ======================================================================== */
/* Entry points                                                             */
/* ======================================================================== */

/* C = act(beta * X) when there is nothing to multiply (k == 0 or alpha == 0). */
static void epilogue_only(const oc_gemm_desc *d, oc_gemm_epilogue ep)
{
    for (size_t i = 0; i < d->m; i++)
        for (size_t j = 0; j < d->n; j++) {
            float v = ep.x ? ep.beta * ep.x[i * ep.x_rs + j * ep.x_cs] : 0.0f;
            if (ep.clamp) {
                v = ep.lo > v ? ep.lo : v;
                v = ep.hi < v ? ep.hi : v;
            }
            d->c[i * d->ldc + j] = v;
        }
}

/* The big operand of a few-vector product was packed for this kernel set:
 * the blocked path then streams its panels in one sequential pass, faster
 * than the rows of the raw operand (measured 37 against 22 GB/s). */
static bool big_operand_packed(const oc_gemm_desc *d, const oc_gemm_kernels *K)
{
    const oc_gemm_packed *big = d->m <= d->n ? d->packed_b : d->packed_a;
    return big && big->isa == (oc_isa)K->isa;
}

void oc_gemm(const oc_gemm_desc *d, oc_pool *pool, void *workspace, size_t workspace_size)
{
    if (d->m == 0 || d->n == 0) return;
    oc_gemm_epilogue ep = d->ep;
    if (ep.beta == 0.0f) {
        ep.x = NULL;
    } else if (!ep.x) {
        ep.x = d->c;
        ep.x_rs = d->ldc;
        ep.x_cs = 1;
    }
    if (d->k == 0 || ep.alpha == 0.0f) {
        epilogue_only(d, ep);
        return;
    }
    /* A packed operand decides the kernel set. */
    oc_isa isa = d->packed_a ? d->packed_a->isa : d->packed_b ? d->packed_b->isa : d->isa;
    const oc_gemm_kernels *K = kernels_of(isa);

    /* Align the scratch (a caller's plain malloc is only 16-byte aligned). */
    uintptr_t base = (uintptr_t)workspace, aligned = (base + WS_ALIGN - 1) & ~(uintptr_t)(WS_ALIGN - 1);
    size_t skip = (size_t)(aligned - base);
    char *ws = (char *)aligned;
    size_t avail = workspace_size > skip ? workspace_size - skip : 0;

    if (min_sz(d->m, d->n) <= SMALL_PATH_MAX && d->a && d->b && !big_operand_packed(d, K))
        gemm_small(d, K, ep, pool, ws);
    else
        gemm_blocked(d, K, ep, pool, ws, avail);
}

void oc_gemm_packed_product(const oc_gemm_packed *a, const oc_gemm_packed *b, size_t m,
                            size_t n, float *c, size_t ldc)
{
    const oc_gemm_kernels *K = kernels_of(a->isa);
    size_t k = a->k, depth = a->depth;
    size_t mpad = padded_rows(K, a->rows), npad = padded_cols(K, b->rows);
    if (m == 0 || n == 0) return;
    /* The panel holding column n - 1 is read as b packed it: where that is
     * wider than n's own rounding (b a full panel there), the product runs
     * to its end. */
    size_t nr = (size_t)K->nr, vl = (size_t)K->vl, first = (n - 1) / nr * nr;
    size_t packed_w = min_sz(nr, round_up(b->rows - first, vl));
    if (min_sz(nr, round_up(n - first, vl)) != packed_w) n = min_sz(b->rows, first + packed_w);
    if (k == 0 || depth == 0) {
        for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof *c);
        return;
    }
    for (size_t pc = 0; pc < k; pc += depth) {
        size_t kc = min_sz(depth, k - pc);
        for (size_t jc = 0; jc < n; jc += K->nc) {
            size_t nc = min_sz(K->nc, n - jc);
            for (size_t ic = 0; ic < m; ic += K->mc) {
                float *cb = c + ic * ldc + jc;
                oc_gemm_kep e = {1.0f, 0.0f, NULL, 0, 0, false, 0.0f, 0.0f};
                if (pc > 0) e.beta = 1.0f, e.x = cb, e.x_rs = ldc, e.x_cs = 1;
                K->block(min_sz(K->mc, m - ic), nc, kc, a->data + pc * mpad + ic * kc,
                         b->data + pc * npad + jc * kc, cb, ldc, &e);
            }
        }
    }
}

void oc_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc, void *workspace)
{
    oc_gemm_desc d = oc_gemm_desc_make(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    d.ep.alpha = alpha;
    d.ep.beta = beta;
    oc_gemm(&d, NULL, workspace, oc_sgemm_workspace(m, n, k));
}
