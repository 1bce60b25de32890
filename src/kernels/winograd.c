/* Winograd F(m x m, 3 x 3) convolution: the plan, the weight transform, the
 * per-instruction-set transforms (winograd_body.h) and the threaded driver.
 * See winograd.h for the scheme. */
#include "winograd.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "cpu.h"
#include "gemm.h"
#include "winograd_isa.h"

#if defined(__GNUC__)
#define OC_WINO_INLINE inline __attribute__((always_inline))
#else
#define OC_WINO_INLINE inline
#endif

enum {
    LANES = OC_WINO_LANES,
    /* Tiles of a phase-2 unit, at most: the GEMMs' n (one or two AVX-512
     * panels). Wider when U is too big for the caches: each sub-block
     * streams all of it. */
    TB_MAX = 48,
    TB_MAX_BIG = 96,
    KB = 48,      /* output channels of a packed chunk: the GEMMs' m (6 x 8) */
    KB_SMALL = 24, /* ... with fewer than MIN_CHUNKS chunks of KB (also 3 x 8, 4 x 6) */
    /* Chunks of output channels are the units threads share on a small
     * image (one sub-block of tiles): with fewer, two threads split them
     * unevenly (5 chunks of 224 channels: 3 against 2). */
    MIN_CHUNKS = 8,
    /* Fewest tiles (of all images) for which Winograd pays: with fewer, the
     * transformed weights ((m+2)^2 / 9 times the plain ones) take longer to
     * stream than the multiplications they save. */
    MIN_TILES = 12,
    MIN_CHANNELS = 8,
    /* Kernels up to this extent are split into 3x3 pieces. */
    MAX_KERNEL = 9,
};
/* Up to this many (virtual) input channels the transforms' own product
 * beats a GEMM call per position. */
#ifndef SMALL_DEPTH
#define SMALL_DEPTH 128
#endif
/* ... with at least this many tiles (measured on GoogLeNet's 14 x 14 and
 * SqueezeNet's 13 x 13 layers, caches cold: with 16 tiles the GEMM is 1.5
 * times faster; on ResNet's 56 x 56 layer the plain product 1.2 times). */
#define PLAIN_MIN_TILES 48
/* Bytes of transformed input per super-block: it is written by the input
 * transform and read by the products right after, so it should stay in
 * cache: a thread's own L2 when the threads take whole super-blocks, else
 * the shared last-level cache. Each super-block streams all of U, so with
 * a big U the shared budget grows to half of U's size. */
#define V_LOCAL ((size_t)768 << 10)
#define V_BUDGET ((size_t)4 << 20)
/* Local super-blocks hold at least this many tiles (GEMM width), and there
 * are at least LOCAL_UNITS per thread (balance). */
#define LOCAL_MIN_TILES 48
#define LOCAL_UNITS 4
/* Local super-blocks with several threads while the busiest thread gets at
 * most this many times its even share of tiles. Not 1.35: a 28 x 28
 * output's 49 tiles in blocks of 32 and 17 (1.31) ran slower on two
 * threads than on one inside the networks (ResNet-18's layer2 convs 0.83
 * against 0.72 ms), 0.59 ms shared; 196 tiles in blocks of 48 (1.02) stay
 * local. ResNet-18 -7%, GoogLeNet -5%, SqueezeNet -2% at 2 threads. */
#define LOCAL_BALANCE 1.1
/* ... of at least this many tiles: each streams all of U, which takes
 * about 32 tiles' products to hide when U comes from memory (VGG-16's
 * 256-channel layers in blocks of 16 tiles: 12% slower than shared). */
#define LOCAL_MIN_BLOCK 32
/* U bigger than this is not expected to stay in cache between passes. */
#define U_BIG ((size_t)8 << 20)

typedef oc_wino_plan wino_plan;

typedef struct wino_isa {
    oc_wino_input_fn input;
    oc_wino_output_fn output;
    oc_wino_multiply_fn multiply;
    oc_wino_weights_fn weights;
} wino_isa;

static wino_isa pick_isa(void)
{
    switch (oc_isa_best()) {
#ifdef OC_HAVE_AVX512
    case OC_ISA_AVX512:
        return (wino_isa){oc_wino_input_avx512, oc_wino_output_avx512, oc_wino_multiply_avx512,
                          oc_wino_weights_avx512};
#endif
#ifdef OC_HAVE_AVX2
    case OC_ISA_AVX2:
        return (wino_isa){oc_wino_input_avx2, oc_wino_output_avx2, oc_wino_multiply_avx2,
                          oc_wino_weights_avx2};
#endif
    default:
        return (wino_isa){oc_wino_input_portable, oc_wino_output_portable,
                          oc_wino_multiply_portable,
                          oc_wino_weights_portable};
    }
}

/* ---- geometry ---- */

bool oc_winograd_applies(const oc_conv_geom *g)
{
    const oc_window_dim *dd = &g->dim[0];
    if (dd->in != 1 || dd->kernel != 1 || dd->out != 1) return false;
    if (g->group != 1 || g->in_channels < 1) return false;
    for (int i = 1; i < OC_WINDOW_DIMS; i++) {
        const oc_window_dim *d = &g->dim[i];
        if (d->kernel < 3 || d->kernel > MAX_KERNEL || d->stride != 1 || d->dilation != 1)
            return false;
    }
    return true;
}

static int64_t round_up(int64_t n, int64_t multiple)
{
    return (n + multiple - 1) / multiple * multiple;
}
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Bytes of floats a * b * c, aligned; false on overflow. */
static bool float_bytes(size_t a, size_t b, size_t c, size_t *out)
{
    size_t n;
    return oc_mul_size(a, b, &n) && oc_mul_size(n, c, &n) && oc_mul_size(n, sizeof(float), &n) &&
           oc_align_up(n, out);
}

/* The most tiles a thread gets when threads claim super-blocks of sb tiles
 * (all full but the last) as they come free. */
static int64_t block_makespan(int64_t tiles, int64_t sb, int threads)
{
    int64_t full = tiles / sb, rest = tiles % sb;
    if (full % threads == 0) return full / threads * sb + rest;
    return oc_div_ceil(full, threads) * sb;
}

/* With several threads, local super-blocks whenever the tiles split into
 * them about evenly: a super-block's V is then written and read by one
 * thread. Shared, each thread reads V that the others transformed, which
 * on this kind of host (threads on different core complexes, each with its
 * own L3) crosses between them at a third of the speed of the thread's own
 * cache: ResNet-18's 56 x 56 layer ran no faster on two threads than on one
 * (0.67 against 0.56 ms), and 0.37 ms with local blocks. The block: the
 * widest multiple of LANES, at least LOCAL_MIN_BLOCK and at most cap_tiles
 * (V in L2), whose makespan is least; 0 when there is none or even that is
 * over LOCAL_BALANCE times an even split (then the finer units of a shared
 * block balance better). */
static int64_t threads_block(int64_t tiles, int64_t cap_tiles, int threads)
{
    int64_t best = 0, best_span = INT64_MAX;
    for (int64_t sb = cap_tiles / LANES * LANES; sb >= LOCAL_MIN_BLOCK; sb -= LANES) {
        int64_t span = block_makespan(tiles, sb, threads);
        if (span < best_span) best = sb, best_span = span;
    }
    return (double)best_span * threads <= LOCAL_BALANCE * (double)tiles ? best : 0;
}

static bool make_plan(const oc_conv_geom *g, int m, int64_t kb, int threads, wino_plan *p)
{
    memset(p, 0, sizeof *p);
    p->m = m;
    p->a = m + 2;
    p->p = p->a * p->a;
    p->c = g->in_channels;
    p->k = g->out_channels;
    p->subs_h = (int)oc_div_ceil(g->dim[1].kernel, 3);
    p->subs_w = (int)oc_div_ceil(g->dim[2].kernel, 3);
    if (!oc_mul_i64(p->c, (int64_t)p->subs_h * p->subs_w, &p->cv)) return false;
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    p->h = dh->in;
    p->w = dw->in;
    p->ho = dh->out;
    p->wo = dw->out;
    p->pad_t = dh->pad_begin;
    p->pad_l = dw->pad_begin;
    p->th = oc_div_ceil(p->ho, m);
    p->tw = oc_div_ceil(p->wo, m);
    /* th * tw <= ho * wo, which fits (the op checked the output plane). */
    p->tiles_img = p->th * p->tw;
    if (!oc_mul_i64(g->batch, p->tiles_img, &p->tiles) || p->tiles > INT64_MAX / 2) return false;
    int64_t tiles = max64(p->tiles, 1);
    size_t u_bytes;
    if (!float_bytes((size_t)p->p, (size_t)p->k, (size_t)p->cv, &u_bytes)) return false;
    p->tb = min64(u_bytes > U_BIG ? TB_MAX_BIG : TB_MAX, round_up(tiles, LANES));
    /* A few tiles past tb (a 28 x 28 output's 49) in one sub-block, the
     * last vector's products tile by tile, rather than two sub-blocks of
     * two vectors each. */
    if (tiles > p->tb && tiles - p->tb <= OC_WINO_NARROW) p->tb = round_up(tiles, LANES);
    p->kb_max = min64(kb, p->k);
    if (p->cv > INT64_MAX / ((int64_t)p->p * (int64_t)sizeof(float) * TB_MAX_BIG)) return false;
    size_t per_tile = (size_t)p->p * (size_t)p->cv * sizeof(float);
    /* Local super-blocks when they can be big enough and many enough. */
    int64_t local = max64(round_up((int64_t)(V_LOCAL / per_tile), LANES) - LANES, LOCAL_MIN_TILES);
    int64_t blocks = oc_div_ceil(tiles, local);
    p->local = blocks >= LOCAL_UNITS * (int64_t)(threads > 1 ? threads : 1);
    if (!p->local && threads > 1) {
        int64_t sb = threads_block(tiles, (int64_t)(V_LOCAL / per_tile), threads);
        if (sb > 0) {
            p->local = true;
            blocks = oc_div_ceil(tiles, sb);
        }
    }
    if (!p->local) {
        /* Shared: as many tiles as the budget holds. */
        size_t budget = u_bytes / 2 > V_BUDGET ? u_bytes / 2 : V_BUDGET;
        blocks = oc_div_ceil(tiles, max64((int64_t)(budget / per_tile), p->tb));
    }
    p->sb = round_up(oc_div_ceil(tiles, blocks), LANES); /* split evenly */
    /* A block of V holds cv x (up to) tb tiles as a packed B: no padding for
     * a width that is a multiple of LANES, with any kernel set. */
    p->v_blk = (size_t)round_up(p->cv * p->tb, LANES);
    if (!float_bytes((size_t)(oc_div_ceil(p->sb, p->tb) * p->p), p->v_blk, 1, &p->v_bytes))
        return false;
    if (!float_bytes((size_t)p->p, (size_t)p->kb_max, (size_t)p->tb, &p->m_bytes)) return false;
    return oc_add_size(p->m_bytes, p->v_bytes, &p->slot_bytes);
}

/* Tiles of m x m over the output of all images (saturating). */
static int64_t tile_count(const oc_conv_geom *g, int m)
{
    int64_t t;
    if (!oc_mul_i64(g->batch, oc_div_ceil(g->dim[1].out, m) * oc_div_ceil(g->dim[2].out, m), &t))
        return INT64_MAX;
    return t;
}

int oc_winograd_choose(const oc_conv_geom *g, bool extents_known)
{
    if (!oc_winograd_applies(g)) return 0;
    /* The transforms cost about as much per tile as the products with a few
     * channels; below that the direct method is as fast. */
    if (g->in_channels < MIN_CHANNELS || g->out_channels < MIN_CHANNELS) return 0;
    /* A bigger kernel in 3x3 pieces: 36/16 multiplications an output per
     * piece against kh * kw; worth it when well under half (5x5: 0.36,
     * 7x7: 0.41; not 4x4: 0.56). */
    int64_t kh = g->dim[1].kernel, kw = g->dim[2].kernel;
    int64_t pieces = oc_div_ceil(kh, 3) * oc_div_ceil(kw, 3);
    if (pieces * 36 * 20 > kh * kw * 16 * 9) return 0;
    if (!extents_known) return 4;
    /* F(4,3) multiplies least; on small outputs (7 x 7) its few tiles make
     * U, 4 times the weights, costlier to stream than the products it
     * saves, and F(2,3) (U 16/9 of the weights, half the multiplications
     * of the direct method) takes over. */
    if (tile_count(g, 4) >= MIN_TILES) return 4;
    if (pieces == 1 && tile_count(g, 2) >= MIN_TILES) return 2;
    return 0;
}

int64_t oc_winograd_chunk(int64_t k)
{
    if (k <= KB_SMALL) return max64(k, 1);
    return oc_div_ceil(k, KB) < MIN_CHUNKS ? KB_SMALL : KB;
}

bool oc_winograd_plain_u(const oc_conv_geom *g, int m)
{
    return oc_winograd_depth(g) <= SMALL_DEPTH && tile_count(g, m) >= PLAIN_MIN_TILES;
}

int64_t oc_winograd_depth(const oc_conv_geom *g)
{
    return g->in_channels * oc_div_ceil(g->dim[1].kernel, 3) * oc_div_ceil(g->dim[2].kernel, 3);
}

/* Bytes of the shared mode's flags: per thread and sub-block of a
 * super-block, whether the thread's V holds it. */
static bool flags_bytes(const wino_plan *p, int threads, size_t *bytes)
{
    return oc_mul_size((size_t)threads, (size_t)oc_div_ceil(p->sb, LANES) * sizeof(bool), bytes) &&
           oc_align_up(*bytes, bytes);
}

bool oc_winograd_workspace(const oc_conv_geom *g, const oc_conv_weights *pw, int threads,
                           size_t *bytes)
{
    wino_plan p;
    size_t slots, flags;
    if (threads < 1) threads = 1;
    return make_plan(g, pw->winograd_m, pw->wino_kb, threads, &p) &&
           oc_mul_size(p.slot_bytes, (size_t)threads, &slots) &&
           flags_bytes(&p, threads, &flags) && oc_add_size(flags, slots, bytes);
}

/* ---- weights ---- */

bool oc_winograd_weights_count(int m, int64_t k, int64_t c, int64_t kh, int64_t kw,
                               size_t *count)
{
    size_t a = (size_t)(m + 2), n;
    size_t pieces = (size_t)(oc_div_ceil(kh, 3) * oc_div_ceil(kw, 3));
    return k >= 0 && c >= 0 && oc_mul_size(a * a * pieces, (size_t)k, &n) &&
           oc_mul_size(n, (size_t)c, count);
}

bool oc_winograd_weights(int m, int64_t k, int64_t c, int64_t kh, int64_t kw, const float *w,
                         float *u)
{
    size_t cv, count;
    int A = m + 2;
    if (k < 0 || c < 0 || !oc_mul_size((size_t)c, (size_t)(oc_div_ceil(kh, 3) * oc_div_ceil(kw, 3)), &cv) ||
        !oc_mul_size(cv, (size_t)(9 + 3 * A), &count) || count > SIZE_MAX / sizeof(double))
        return false;
    double *tmp = malloc((count ? count : 1) * sizeof *tmp);
    if (!tmp) return false;
    pick_isa().weights(A, k, c, kh, kw, oc_winograd_g(m), w, u, tmp);
    free(tmp);
    return true;
}

/* ---- the driver ---- */

typedef struct wino_run {
    const wino_plan *p;
    wino_isa isa;
    const oc_conv_weights *pw;
    const float *x, *bias, *sum;
    float lo, hi;
    float *y;
    char *slots;          /* per-thread scratch */
    /* shared mode: the current super-block, and per thread and sub-block
     * whether the thread's V holds it yet */
    int64_t first, count, subs;
    bool *transformed;
} wino_run;

/* V of the super-block [first, first + count) in v. */
static oc_wino_v v_of(const wino_run *r, float *v, int64_t count)
{
    oc_isa isa = r->pw->wino ? r->pw->wino[0].isa : OC_ISA_AUTO;
    return (oc_wino_v){v, count, oc_wino_sub_width(count, r->p->tb), r->p->v_blk, isa};
}

/* Sub-block s x chunk j of output channels of the super-block whose first
 * tile is first and whose transformed input is v: the products into mm,
 * then the output transform. */
static void multiply(const wino_run *r, const oc_wino_v *v, int64_t first, int64_t s, int64_t j,
                     float *mm)
{
    const wino_plan *p = r->p;
    const oc_conv_weights *pw = r->pw;
    int64_t xstride = p->kb_max * p->tb;
    int64_t t0 = s * v->sub_w, tn = oc_wino_sub_count(v, s);
    int64_t k0 = j * pw->wino_kb, kn = min64(pw->wino_kb, p->k - k0);
    if (pw->wino_u) {
        r->isa.multiply(p, pw->wino_u, k0, kn, v, s, mm, xstride, p->tb);
    } else {
        /* the tiles themselves, not their vectors: a last panel of a few
         * columns takes the GEMM's narrow kernels */
        oc_gemm_b_layout lay = oc_wino_sub_layout(p, v, s);
        size_t n = (size_t)tn;
        for (int xi = 0; xi < p->p; xi++) {
            oc_gemm_packed b = oc_gemm_packed_b_of(&lay, oc_wino_block(p, v, s, xi));
            oc_gemm_packed_product(&pw->wino[j * p->p + xi], &b, (size_t)kn, n,
                                   mm + xi * xstride, (size_t)p->tb);
        }
    }
    r->isa.output(p, mm, xstride, p->tb, first + t0, tn, k0, kn, r->bias, r->sum, r->lo, r->hi,
                  r->y);
}

/* The thread's slot: M, then V. */
static void slot_of(const wino_run *r, int thread, float **mm, float **v)
{
    char *slot = r->slots + (size_t)thread * r->p->slot_bytes;
    *mm = (float *)slot;
    *v = (float *)(slot + r->p->m_bytes);
}

/* Shared mode, units (sub-block, chunk of output channels), chunk fastest
 * (with the affine loop, each thread mostly one sub-block); before its
 * first unit of a sub-block the thread transforms that sub-block's input. */
static void shared_units(void *ctx, size_t begin, size_t end, int thread)
{
    wino_run *r = ctx;
    const wino_plan *p = r->p;
    float *mm, *vbuf;
    slot_of(r, thread, &mm, &vbuf);
    oc_wino_v v = v_of(r, vbuf, r->count);
    bool *transformed = r->transformed + (size_t)thread * (size_t)r->subs;
    for (size_t unit = begin; unit < end; unit++) {
        int64_t s = (int64_t)unit / r->pw->wino_chunks;
        if (!transformed[s]) {
            /* sub-block s alone: its blocks of V are a V of one sub-block */
            int64_t t0 = s * v.sub_w;
            oc_wino_v one = {v.v + (size_t)(s * p->p) * v.v_blk, min64(v.sub_w, v.count - t0),
                             v.sub_w, v.v_blk, v.isa};
            r->isa.input(p, r->x, r->first + t0, &one, 0, p->cv);
            transformed[s] = true;
        }
        multiply(r, &v, r->first, s, (int64_t)unit % r->pw->wino_chunks, mm);
    }
}

/* Local mode, units: whole super-blocks. */
static void local_blocks(void *ctx, size_t begin, size_t end, int thread)
{
    wino_run *r = ctx;
    const wino_plan *p = r->p;
    float *mm, *vbuf;
    slot_of(r, thread, &mm, &vbuf);
    for (size_t b = begin; b < end; b++) {
        int64_t first = (int64_t)b * p->sb, count = min64(p->sb, p->tiles - first);
        oc_wino_v v = v_of(r, vbuf, count);
        r->isa.input(p, r->x, first, &v, 0, p->cv);
        int64_t subs = oc_div_ceil(count, v.sub_w);
        for (int64_t s = 0; s < subs; s++)
            for (int64_t j = 0; j < r->pw->wino_chunks; j++)
                multiply(r, &v, first, s, j, mm);
    }
}

void oc_winograd_conv(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                      const float *bias, const float *sum, float lo, float hi, float *y,
                      void *workspace, int threads, oc_pool *pool)
{
    wino_plan p;
    if (oc_pool_size(pool) > threads) pool = NULL;
    if (!make_plan(g, pw->winograd_m, pw->wino_kb, oc_pool_size(pool), &p) || p.tiles == 0 ||
        p.k == 0)
        return; /* sized by the workspace call */
    int threads_used = oc_pool_size(pool);
    size_t flags = 0;
    flags_bytes(&p, threads_used, &flags); /* sized by the workspace call */
    wino_run r = {&p, pick_isa(), pw, x, bias, sum, lo, hi, y, (char *)workspace + flags,
                  0, 0, 0, workspace};
    if (p.local) {
        oc_parallel_for_affine(pool, (size_t)oc_div_ceil(p.tiles, p.sb), local_blocks, &r);
        return;
    }
    for (int64_t first = 0; first < p.tiles; first += p.sb) {
        r.first = first;
        r.count = min64(p.sb, p.tiles - first);
        r.subs = oc_div_ceil(r.count, oc_wino_sub_width(r.count, p.tb));
        memset(r.transformed, 0, (size_t)(threads_used * r.subs) * sizeof *r.transformed);
        oc_parallel_for_affine(pool, (size_t)(r.subs * pw->wino_chunks), shared_units, &r);
    }
}
