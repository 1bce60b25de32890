/* The SGEMM kernels, written once against the SIMD mapping (simd.h) and
 * compiled once per ISA: OC_SIMD_ISA picks the mapping and OC_ISA_SYM the
 * name of the one exported table (see gemm_isa.h for the interface and the
 * packed layouts, gemm.c for the driver).
 *
 * - The register tile: MR rows x NR = NV vectors of columns. Per step of K
 *   the micro-kernel loads NV vectors of the packed B panel, broadcasts MR
 *   values of the packed A panel and issues MR * NV FMAs into accumulators
 *   that stay in registers for the whole K slice; the epilogue (alpha, the
 *   addend X with beta, the clamp) is applied to them before the one store.
 *   Every (rows, vectors) edge shape has its own instance, so edge tiles
 *   waste no FMAs on whole missing vectors; only the last vector's store is
 *   masked.
 * - Cache blocking (the driver's loops): a packed B block (KC x NC) stays in
 *   L2 while A micro-panels (MR x KC, from a block of MC rows) are reused
 *   from L1 across all its panels.
 * - Few vectors (M or N <= 8, a fully-connected layer on a few samples):
 *   no packing; the big operand is streamed once in place, either as dot
 *   products of its rows (W row-major [N, K], e.g. Gemm with transB) or as
 *   row-by-row updates of an L1-resident block of outputs (W [K, N]).
 *   Sums over long K are blocked (partial sums per chunk, then added), so no
 *   single accumulator runs over tens of thousands of terms. */
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "gemm_isa.h"
#include "simd.h"

/* ---- per-ISA parameters, measured on Zen 4 with bench/sgemm.c ----
 * AVX-512: 8 x 48 (24 zmm accumulators, 3 B loads + 8 broadcasts per 24
 *   FMAs) measured as fast as 6 x 64 and faster than 12 x 32; 8 rows divide
 *   the channel counts of the usual CNNs. KC 256..512 and NC 240..960 were
 *   all within 1%.
 * AVX2 + FMA: 6 x 16 (12 ymm accumulators of 16 registers).
 * Portable: 4 x 8 (GNU vectors of 4: 8 accumulators; 6 and 8 rows spill).
 * Every parameter can be overridden with -D for experiments. */
#if OC_SIMD_ISA == 2
#ifndef GEMM_MR
#define GEMM_MR 8
#define GEMM_NV 3
#endif
#ifndef GEMM_KC
#define GEMM_KC 384
#endif
#define GEMM_MC 256
#ifndef GEMM_NC
#define GEMM_NC 480
#endif
#elif OC_SIMD_ISA == 1
#define GEMM_MR 6
#define GEMM_NV 2
#define GEMM_KC 256
#define GEMM_MC 240
#define GEMM_NC 512
#else
#define GEMM_MR 4
#define GEMM_NV 2
#define GEMM_KC 256
#define GEMM_MC 128
#define GEMM_NC 1024
#endif

#define VL OC_VL
#define MR GEMM_MR
#define NV GEMM_NV
#define NR (NV * VL)

/* The micro-kernel prefetches its A panel this many floats ahead (4 KB,
 * about a DRAM latency of its steps ahead): a constant A (weights packed at
 * load: conv and Winograd weights) comes from memory on every run, and with
 * few B columns (small images) it is streamed at the rate of the FMAs,
 * faster than the hardware prefetchers follow from panel to panel (measured
 * 1.6 times faster on AlexNet's conv4 with Winograd, caches cold). */
#ifndef GEMM_A_PREFETCH
#define GEMM_A_PREFETCH 1024
#endif

/* Floats a dot-product chunk sums before its partial sums are added up. */
#ifndef DOT_CHUNK
#define DOT_CHUNK 512
#endif
/* The axpy form prefetches each streamed row AXPY_PREFETCH floats ahead into
 * L2 (measured 20 -> 26 GB/s with one vector). AXPY_WINDOW(V): the columns
 * (a multiple of VL) a block of it takes at once with V vectors (longer row
 * pieces stream better: 2048 columns measured 25% faster than 512 with one
 * vector; the L1-resident outputs bound it with more). AXPY_CHUNK: the rows
 * a chunk sums before adding into the totals. */
#define AXPY_WINDOW(V) ((V) <= 2 ? 2048 : 4096 / (V) / VL * VL)
#define AXPY_CHUNK 256
#ifndef AXPY_PREFETCH
#define AXPY_PREFETCH 256
#endif

#define UNROLL OC_UNROLL

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* ======================================================================== */
/* Packing                                                                  */
/* ======================================================================== */

static void pack_a(bool trans, const float *a, size_t lda, size_t rows, size_t kc,
                   float *restrict out)
{
    for (size_t ir = 0; ir < rows; ir += MR, out += MR * kc) {
        size_t r = min_sz(MR, rows - ir);
        if (trans) {
            /* op(A) row i is column i of A: MR consecutive floats per depth. */
            for (size_t p = 0; p < kc; p++) {
                const float *src = a + p * lda + ir;
                float *dst = out + p * MR;
                size_t i = 0;
                for (; i < r; i++) dst[i] = src[i];
                for (; i < MR; i++) dst[i] = 0.0f;
            }
        } else if (r == MR) {
            const float *src[MR];
            for (int i = 0; i < MR; i++) src[i] = a + (ir + (size_t)i) * lda;
            for (size_t p = 0; p < kc; p++) {
                UNROLL
                for (int i = 0; i < MR; i++) out[p * MR + (size_t)i] = src[i][p];
            }
        } else {
            for (size_t i = 0; i < MR; i++) {
                const float *src = a + (ir + i) * lda;
                for (size_t p = 0; p < kc; p++) out[p * MR + i] = i < r ? src[p] : 0.0f;
            }
        }
    }
}

static void pack_b(bool trans, const float *b, size_t ldb, size_t kc, size_t cols,
                   float *restrict out)
{
    for (size_t jr = 0; jr < cols; jr += NR) {
        size_t w = min_sz(NR, cols - jr);
        size_t width = (w + VL - 1) / VL * VL;
        if (!trans) {
            for (size_t p = 0; p < kc; p++) {
                const float *src = b + p * ldb + jr;
                float *dst = out + p * width;
                if (w == NR) {
                    UNROLL
                    for (int v = 0; v < NV; v++) oc_vstoreu(dst + v * VL, oc_vloadu(src + v * VL));
                } else {
                    for (size_t j = 0; j < width; j += VL) {
                        size_t n = w > j ? min_sz(VL, w - j) : 0;
                        oc_vstoreu(dst + j, n == VL ? oc_vloadu(src + j)
                                                    : oc_vloadu_n(src + j, (int)n));
                    }
                }
            }
        } else {
            /* op(B) column j is row j of B: a transpose, a few rows at a time
             * so each source row is read sequentially. */
            size_t j = 0;
            for (; j + 4 <= w; j += 4) {
                const float *s0 = b + (jr + j) * ldb, *s1 = s0 + ldb, *s2 = s1 + ldb,
                            *s3 = s2 + ldb;
                for (size_t p = 0; p < kc; p++) {
                    float *dst = out + p * width + j;
                    dst[0] = s0[p];
                    dst[1] = s1[p];
                    dst[2] = s2[p];
                    dst[3] = s3[p];
                }
            }
            for (; j < w; j++) {
                const float *src = b + (jr + j) * ldb;
                for (size_t p = 0; p < kc; p++) out[p * width + j] = src[p];
            }
            for (; j < width; j++)
                for (size_t p = 0; p < kc; p++) out[p * width + j] = 0.0f;
        }
        out += width * kc;
    }
}

/* ======================================================================== */
/* The register-blocked micro-kernel                                        */
/* ======================================================================== */

/* One result vector through the epilogue: alpha, + beta * X, clamp. xp
 * points at X's element for the vector's first lane (NULL: no X); n lanes
 * are valid (VL for a whole vector). */
static OC_ALWAYS_INLINE oc_vf epilogue_vec(oc_vf r, oc_vf valpha, const float *xp, size_t x_cs,
                                           oc_vf vbeta, int n, bool clamp, oc_vf vlo, oc_vf vhi)
{
    r = oc_vmul(r, valpha);
    if (xp) {
        oc_vf xv = x_cs == 0 ? oc_vbcast(xp) : n == VL ? oc_vloadu(xp) : oc_vloadu_n(xp, n);
        r = oc_vfma(vbeta, xv, r);
    }
    if (clamp) r = oc_vmin(vhi, oc_vmax(vlo, r));
    return r;
}

/* The epilogue of one element: alpha * sum, + beta * X (x: X's element,
 * or NULL), clamped. */
static OC_ALWAYS_INLINE float epilogue_scalar(float sum, float alpha, float beta, const float *x,
                                              bool clamp, float lo, float hi)
{
    float out = alpha * sum;
    if (x) out += beta * *x;
    if (clamp) {
        out = lo > out ? lo : out;
        out = hi < out ? hi : out;
    }
    return out;
}

/* C tile (M x cols, cols in ((V - 1) * VL, V * VL]) = epilogue of
 * A panel (MR-strided, first M rows) x B panel (V vectors wide, its rows
 * b_rs floats apart) over kc. */
static OC_ALWAYS_INLINE void micro_kernel(const int M, const int V, size_t kc,
                                          const float *restrict pa, const float *restrict pb,
                                          size_t b_rs, float *restrict c, size_t ldc, int cols,
                                          const oc_gemm_kep *ep)
{
    oc_vf acc[MR][NV];
    UNROLL
    for (int i = 0; i < M; i++) {
        UNROLL
        for (int v = 0; v < V; v++) acc[i][v] = oc_vzero();
    }
    /* The C tile is needed only at the end: start bringing it in now. */
    UNROLL
    for (int i = 0; i < M; i++) oc_prefetch(c + (size_t)i * ldc);
    for (size_t p = 0; p < kc; p++) {
        oc_vf b[NV];
        if ((p & 1) == 0) oc_prefetch(pa + GEMM_A_PREFETCH);
        UNROLL
        for (int v = 0; v < V; v++) b[v] = oc_vloadu(pb + v * VL);
        UNROLL
        for (int i = 0; i < M; i++) {
            oc_vf a = oc_vbcast(pa + i);
            UNROLL
            for (int v = 0; v < V; v++) acc[i][v] = oc_vfma(a, b[v], acc[i][v]);
        }
        pa += MR;
        pb += b_rs;
    }

    const oc_vf valpha = oc_vset1(ep->alpha), vbeta = oc_vset1(ep->beta);
    const oc_vf vlo = oc_vset1(ep->lo), vhi = oc_vset1(ep->hi);
    const bool clamp = ep->clamp;
    const size_t x_cs = ep->x_cs;
    const int last = cols - (V - 1) * VL;
    UNROLL
    for (int i = 0; i < M; i++) {
        float *cr = c + (size_t)i * ldc;
        const float *xr = ep->x ? ep->x + (size_t)i * ep->x_rs : NULL;
        UNROLL
        for (int v = 0; v < V; v++) {
            int n = v == V - 1 ? last : VL;
            const float *xp = xr ? xr + (size_t)v * VL * x_cs : NULL;
            oc_vf r = epilogue_vec(acc[i][v], valpha, xp, x_cs, vbeta, n, clamp, vlo, vhi);
            if (n == VL)
                oc_vstoreu(cr + v * VL, r);
            else
                oc_vstoreu_n(cr + v * VL, r, n);
        }
    }
}

typedef void (*micro_fn)(size_t kc, const float *pa, const float *pb, size_t b_rs, float *c,
                         size_t ldc, int cols, const oc_gemm_kep *ep);

#define UK_NAME(M, V) uk_##M##_##V
#define UK_DEF(M, V)                                                                         \
    static OC_NOINLINE void UK_NAME(M, V)(size_t kc, const float *pa, const float *pb,       \
                                          size_t b_rs, float *c, size_t ldc, int cols,       \
                                          const oc_gemm_kep *ep)                             \
    {                                                                                        \
        micro_kernel(M, V, kc, pa, pb, b_rs, c, ldc, cols, ep);                              \
    }

/* Instances for every rows 1..MR (up to 16) and vectors 1..NV (up to 4). */
#if NV >= 2
#define IF_V2(...) __VA_ARGS__
#else
#define IF_V2(...)
#endif
#if NV >= 3
#define IF_V3(...) __VA_ARGS__
#else
#define IF_V3(...)
#endif
#if NV >= 4
#define IF_V4(...) __VA_ARGS__
#else
#define IF_V4(...)
#endif
#if NV > 4 || MR > 16
#error "the micro-kernel table covers NV <= 4 and MR <= 16"
#endif

#define UK_ROW_DEF(M) UK_DEF(M, 1) IF_V2(UK_DEF(M, 2)) IF_V3(UK_DEF(M, 3)) IF_V4(UK_DEF(M, 4))
#define UK_ROW_REF(M)                                                                        \
    {UK_NAME(M, 1) IF_V2(, UK_NAME(M, 2)) IF_V3(, UK_NAME(M, 3)) IF_V4(, UK_NAME(M, 4))},

#define FOR_ROWS(X) X(1) X(2) X(3) X(4) FOR_ROWS_5(X)
#if MR >= 5
#define FOR_ROWS_5(X) X(5) X(6) FOR_ROWS_7(X)
#else
#define FOR_ROWS_5(X)
#endif
#if MR >= 7
#define FOR_ROWS_7(X) X(7) X(8) FOR_ROWS_9(X)
#else
#define FOR_ROWS_7(X)
#endif
#if MR >= 9
#define FOR_ROWS_9(X) X(9) X(10) X(11) X(12) FOR_ROWS_13(X)
#else
#define FOR_ROWS_9(X)
#endif
#if MR >= 13
#define FOR_ROWS_13(X) X(13) X(14) X(15) X(16)
#else
#define FOR_ROWS_13(X)
#endif
#if MR != 4 && MR != 6 && MR != 8 && MR != 12 && MR != 16
#error "MR must be 4, 6, 8, 12 or 16 (the instance lists go in those steps)"
#endif

FOR_ROWS(UK_ROW_DEF)

static const micro_fn micro_kernels[MR][NV] = {FOR_ROWS(UK_ROW_REF)};

#if OC_SIMD_ISA == 2 && MR == 8
/* A last panel of at most NARROW_MAX columns (a 7 x 7 image's 49 = 48 +
 * 1): a 16-lane vector a column would do 16 columns' FMAs for one (and
 * broadcast MR floats of A per vector loaded). Instead the rows go in the
 * lanes: an A panel's MR = 8 floats of one depth are one 256-bit vector,
 * each column's B element a broadcast, NARROW_PANELS panels sharing them.
 * ResNet-18's 7 x 7 stride-2 conv: its last column took a quarter of the
 * time. */
#define NARROW_MAX 4
#define NARROW_PANELS 3

/* Rows [0, rows) (at most NARROW_PANELS * MR; their A panels kc * MR
 * floats apart) x J columns of c = epilogue of A x B over kc, B's rows
 * b_rs floats apart. */
static OC_ALWAYS_INLINE void narrow_tile(const int J, const int P, size_t kc,
                                         const float *restrict pa, const float *restrict pb,
                                         size_t b_rs, float *restrict c, size_t ldc, size_t rows,
                                         const oc_gemm_kep *ep)
{
    __m256 acc[NARROW_PANELS][NARROW_MAX];
    UNROLL
    for (int q = 0; q < P; q++) {
        UNROLL
        for (int j = 0; j < J; j++) acc[q][j] = _mm256_setzero_ps();
    }
    for (size_t p = 0; p < kc; p++) {
        __m256 a[NARROW_PANELS];
        UNROLL
        for (int q = 0; q < P; q++) a[q] = _mm256_loadu_ps(pa + (size_t)q * kc * MR + p * MR);
        UNROLL
        for (int j = 0; j < J; j++) {
            __m256 b = _mm256_broadcast_ss(pb + p * b_rs + j);
            UNROLL
            for (int q = 0; q < P; q++) acc[q][j] = _mm256_fmadd_ps(a[q], b, acc[q][j]);
        }
    }
    UNROLL
    for (int q = 0; q < P; q++) {
        UNROLL
        for (int j = 0; j < J; j++) {
            _Alignas(32) float v[MR];
            _mm256_store_ps(v, acc[q][j]);
            for (size_t i = 0; i < MR && (size_t)q * MR + i < rows; i++) {
                size_t r = (size_t)q * MR + i;
                const float *x = ep->x ? ep->x + r * ep->x_rs + (size_t)j * ep->x_cs : NULL;
                c[r * ldc + (size_t)j] =
                    epilogue_scalar(v[i], ep->alpha, ep->beta, x, ep->clamp, ep->lo, ep->hi);
            }
        }
    }
}

typedef void (*narrow_fn)(size_t kc, const float *pa, const float *pb, size_t b_rs, float *c,
                          size_t ldc, size_t rows, const oc_gemm_kep *ep);
#define NARROW_NAME(J, P) narrow_##J##_##P
#define NARROW_DEF(J, P)                                                                      \
    static OC_NOINLINE void NARROW_NAME(J, P)(size_t kc, const float *pa, const float *pb,    \
                                              size_t b_rs, float *c, size_t ldc, size_t rows, \
                                              const oc_gemm_kep *ep)                          \
    {                                                                                         \
        narrow_tile(J, P, kc, pa, pb, b_rs, c, ldc, rows, ep);                                \
    }
#define NARROW_ROW(J) NARROW_DEF(J, 1) NARROW_DEF(J, 2) NARROW_DEF(J, 3)
NARROW_ROW(1)
NARROW_ROW(2)
NARROW_ROW(3)
NARROW_ROW(4)
static const narrow_fn narrow_kernels[NARROW_MAX][NARROW_PANELS] = {
    {narrow_1_1, narrow_1_2, narrow_1_3},
    {narrow_2_1, narrow_2_2, narrow_2_3},
    {narrow_3_1, narrow_3_2, narrow_3_3},
    {narrow_4_1, narrow_4_2, narrow_4_3}};

/* Columns [0, cols) (cols <= NARROW_MAX) of all mc rows; B's rows b_rs
 * floats apart. */
static void narrow_strip(size_t mc, size_t kc, const float *pa, const float *pb, size_t b_rs,
                         float *c, size_t ldc, size_t cols, const oc_gemm_kep *ep)
{
    for (size_t ir = 0; ir < mc; ir += NARROW_PANELS * MR) {
        size_t rows = min_sz(NARROW_PANELS * MR, mc - ir), panels = (rows + MR - 1) / MR;
        oc_gemm_kep tile = *ep;
        if (tile.x) tile.x += ir * tile.x_rs;
        narrow_kernels[cols - 1][panels - 1](kc, pa + ir * kc, pb, b_rs, c + ir * ldc, ldc, rows,
                                             &tile);
    }
}
#else
#define NARROW_MAX 0
#endif

/* c (mc x nc) = epilogue of packed A (mc rows) x packed B (nc columns) over kc. */
static void block(size_t mc, size_t nc, size_t kc, const float *pa, const float *pb, float *c,
                  size_t ldc, const oc_gemm_kep *ep)
{
    size_t tail = nc % NR, full = nc;
    if (tail > 0 && tail <= NARROW_MAX) full = nc - tail;
    for (size_t ir = 0; ir < mc; ir += MR) {
        size_t rows = min_sz(MR, mc - ir);
        for (size_t jr = 0; jr < full; jr += NR) {
            size_t cols = min_sz(NR, full - jr);
            oc_gemm_kep tile = *ep;
            if (tile.x) tile.x += ir * tile.x_rs + jr * tile.x_cs;
            size_t v = (cols + VL - 1) / VL;
            micro_kernels[rows - 1][v - 1](kc, pa + ir * kc, pb + jr * kc, v * VL,
                                           c + ir * ldc + jr, ldc, (int)cols, &tile);
        }
    }
#if NARROW_MAX > 0
    if (full < nc) {
        /* the last panel, packed VL wide */
        oc_gemm_kep tile = *ep;
        if (tile.x) tile.x += full * tile.x_cs;
        narrow_strip(mc, kc, pa, pb + full * kc, VL, c + full, ldc, tail, &tile);
    }
#endif
}

/* The same with B read in place: element (p, j) of the block at
 * b[p * ldb + j], nc a multiple of NR (whole panels). */
static void block_in_place(size_t mc, size_t nc, size_t kc, const float *pa, const float *b,
                           size_t ldb, float *c, size_t ldc, const oc_gemm_kep *ep)
{
    for (size_t ir = 0; ir < mc; ir += MR) {
        size_t rows = min_sz(MR, mc - ir);
        for (size_t jr = 0; jr < nc; jr += NR) {
            oc_gemm_kep tile = *ep;
            if (tile.x) tile.x += ir * tile.x_rs + jr * tile.x_cs;
            micro_kernels[rows - 1][NV - 1](kc, pa + ir * kc, b + jr, ldb, c + ir * ldc + jr, ldc,
                                            (int)NR, &tile);
        }
    }
}

/* ======================================================================== */
/* Few vectors                                                              */
/* ======================================================================== */

static OC_ALWAYS_INLINE void small_store(const oc_gemm_small *s, size_t v, size_t r, float sum)
{
    const float *x = s->x ? s->x + v * s->x_vs + r * s->x_rs : NULL;
    s->c[v * s->c_vs + r * s->c_rs] =
        epilogue_scalar(sum, s->alpha, s->beta, x, s->clamp, s->lo, s->hi);
}

/* The dot form. With one or two vectors it streams the rows of W one after
 * another: a single sequential stream, which the hardware prefetchers
 * follow at the core's full memory bandwidth (measured on Zen 5 at one
 * thread, W from memory: 35-40 GB/s, against 20 for 4 or 8 rows at once,
 * with or without software prefetches); each step loads U vectors of the
 * row, so that V * U accumulators hide the FMA latency. With more vectors
 * (which no longer fit L1 with a long K) RB rows share each load of S, each
 * row with a software prefetch into L2. */
#if OC_VREGS >= 32
#define DOT_ACC 24
#else
#define DOT_ACC 12
#endif
#define DOT_RB_(V) (DOT_ACC / (V) > 8 ? 8 : DOT_ACC / (V) < 1 ? 1 : DOT_ACC / (V))
#define DOT_RB(V) ((V) <= 2 ? 1 : DOT_RB_(V))
#define DOT_U(V) ((V) <= 2 ? DOT_ACC / 3 / (V) : 1)
#ifndef DOT_PREFETCH
#define DOT_PREFETCH 1024
#endif

#if OC_SIMD_ISA > 0
static OC_ALWAYS_INLINE void prefetch_l2(const void *p)
{
    _mm_prefetch((const char *)p, _MM_HINT_T1);
}
#else
#define prefetch_l2 oc_prefetch
#endif

/* out(v, r + i) for i < RB, v < V: dot products of W rows r + i with the
 * vectors, summed in chunks of DOT_CHUNK (each lane's partial sums over a
 * chunk, then the chunks' sums added up). */
static OC_ALWAYS_INLINE void dot_tile(const int RB, const int V, const int U,
                                      const oc_gemm_small *s, size_t r)
{
    const size_t k = s->k, ldw = s->ldw, s_vs = s->s_vs;
    const float *w = s->w + r * ldw, *x = s->s;
    float total[8][OC_GEMM_SMALL_MAX];
    UNROLL
    for (int i = 0; i < RB; i++) {
        UNROLL
        for (int v = 0; v < V; v++) total[i][v] = 0.0f;
    }
    for (size_t p0 = 0; p0 < k; p0 += DOT_CHUNK) {
        size_t end = min_sz(k, p0 + DOT_CHUNK), p = p0;
        oc_vf acc[8][OC_GEMM_SMALL_MAX][8];
        UNROLL
        for (int i = 0; i < RB; i++) {
            UNROLL
            for (int v = 0; v < V; v++) {
                UNROLL
                for (int u = 0; u < U; u++) acc[i][v][u] = oc_vzero();
            }
        }
        for (; p + (size_t)U * VL <= end; p += (size_t)U * VL) {
            UNROLL
            for (int u = 0; u < U; u++) {
                oc_vf xv[OC_GEMM_SMALL_MAX];
                UNROLL
                for (int v = 0; v < V; v++) xv[v] = oc_vloadu(x + (size_t)v * s_vs + p + (size_t)u * VL);
                UNROLL
                for (int i = 0; i < RB; i++) {
                    const float *wr = w + (size_t)i * ldw + p + (size_t)u * VL;
                    if (RB > 1 && DOT_PREFETCH) prefetch_l2(wr + DOT_PREFETCH);
                    oc_vf wv = oc_vloadu(wr);
                    UNROLL
                    for (int v = 0; v < V; v++) acc[i][v][u] = oc_vfma(wv, xv[v], acc[i][v][u]);
                }
            }
        }
        for (; p < end; p += VL) {
            int n = end - p < VL ? (int)(end - p) : VL;
            UNROLL
            for (int i = 0; i < RB; i++) {
                oc_vf wv = oc_vloadu_n(w + (size_t)i * ldw + p, n);
                UNROLL
                for (int v = 0; v < V; v++)
                    acc[i][v][0] =
                        oc_vfma(wv, oc_vloadu_n(x + (size_t)v * s_vs + p, n), acc[i][v][0]);
            }
        }
        UNROLL
        for (int i = 0; i < RB; i++) {
            UNROLL
            for (int v = 0; v < V; v++) {
                UNROLL
                for (int u = 1; u < U; u++) acc[i][v][0] = oc_vadd(acc[i][v][0], acc[i][v][u]);
                total[i][v] += oc_vhsum(acc[i][v][0]);
            }
        }
    }
    UNROLL
    for (int i = 0; i < RB; i++) {
        UNROLL
        for (int v = 0; v < V; v++) small_store(s, (size_t)v, r + (size_t)i, total[i][v]);
    }
}

#define DOT_FN(V)                                                                            \
    static OC_NOINLINE void dot_##V(const oc_gemm_small *s, size_t r0, size_t r1)            \
    {                                                                                        \
        size_t r = r0;                                                                       \
        for (; r + DOT_RB(V) <= r1; r += DOT_RB(V)) dot_tile(DOT_RB(V), V, DOT_U(V), s, r);  \
        for (; r < r1; r++) dot_tile(1, V, 1, s, r);                                         \
    }
DOT_FN(1)
DOT_FN(2)
DOT_FN(3)
DOT_FN(4)
DOT_FN(5)
DOT_FN(6)
DOT_FN(7)
DOT_FN(8)

static void dot(const oc_gemm_small *s, size_t r0, size_t r1)
{
    switch (s->nv) {
    case 1: dot_1(s, r0, r1); break;
    case 2: dot_2(s, r0, r1); break;
    case 3: dot_3(s, r0, r1); break;
    case 4: dot_4(s, r0, r1); break;
    case 5: dot_5(s, r0, r1); break;
    case 6: dot_6(s, r0, r1); break;
    case 7: dot_7(s, r0, r1); break;
    case 8: dot_8(s, r0, r1); break;
    default: break;
    }
}

/* out(v, r + j) for j < win (<= AXPY_WINDOW(V)), v < V, in the axpy form: for
 * each row p of W the window's outputs move by S(v, p) * W(p, .), four rows
 * at a time; the sums of each AXPY_CHUNK rows are added into the totals. */
static OC_ALWAYS_INLINE void axpy_window(const int V, const oc_gemm_small *s, size_t r, size_t win,
                                         float *restrict acc, float *restrict total)
{
    const size_t k = s->k, ldw = s->ldw, s_vs = s->s_vs, s_ps = s->s_ps;
    const size_t full = win / VL;
    const int tail = (int)(win - full * VL);
    const size_t vecs = full + (tail > 0);
    const float *sv = s->s;
    for (size_t p0 = 0; p0 < k; p0 += AXPY_CHUNK) {
        size_t end = min_sz(k, p0 + AXPY_CHUNK), p = p0;
        float *chunk = p0 == 0 ? total : acc;
        memset(chunk, 0, (size_t)V * AXPY_WINDOW(V) * sizeof *chunk);
        for (; p + 4 <= end; p += 4) {
            const float *w0 = s->w + p * ldw + r, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
            oc_vf b[OC_GEMM_SMALL_MAX][4];
            UNROLL
            for (int v = 0; v < V; v++) {
                const float *sp = sv + (size_t)v * s_vs + p * s_ps;
                b[v][0] = oc_vbcast(sp);
                b[v][1] = oc_vbcast(sp + s_ps);
                b[v][2] = oc_vbcast(sp + 2 * s_ps);
                b[v][3] = oc_vbcast(sp + 3 * s_ps);
            }
            for (size_t j = 0; j < vecs; j++) {
                size_t o = j * VL;
                oc_vf x0, x1, x2, x3;
                if (j < full) {
                    if (AXPY_PREFETCH) {
                        prefetch_l2(w0 + o + AXPY_PREFETCH), prefetch_l2(w1 + o + AXPY_PREFETCH);
                        prefetch_l2(w2 + o + AXPY_PREFETCH), prefetch_l2(w3 + o + AXPY_PREFETCH);
                    }
                    x0 = oc_vloadu(w0 + o), x1 = oc_vloadu(w1 + o);
                    x2 = oc_vloadu(w2 + o), x3 = oc_vloadu(w3 + o);
                } else {
                    x0 = oc_vloadu_n(w0 + o, tail), x1 = oc_vloadu_n(w1 + o, tail);
                    x2 = oc_vloadu_n(w2 + o, tail), x3 = oc_vloadu_n(w3 + o, tail);
                }
                UNROLL
                for (int v = 0; v < V; v++) {
                    float *cp = chunk + (size_t)v * AXPY_WINDOW(V) + o;
                    oc_vf a = oc_vload(cp);
                    a = oc_vfma(b[v][0], x0, a);
                    a = oc_vfma(b[v][1], x1, a);
                    a = oc_vfma(b[v][2], x2, a);
                    a = oc_vfma(b[v][3], x3, a);
                    oc_vstore(cp, a);
                }
            }
        }
        for (; p < end; p++) {
            const float *w0 = s->w + p * ldw + r;
            oc_vf b[OC_GEMM_SMALL_MAX];
            UNROLL
            for (int v = 0; v < V; v++) b[v] = oc_vbcast(sv + (size_t)v * s_vs + p * s_ps);
            for (size_t j = 0; j < vecs; j++) {
                size_t o = j * VL;
                oc_vf x0 = j < full ? oc_vloadu(w0 + o) : oc_vloadu_n(w0 + o, tail);
                UNROLL
                for (int v = 0; v < V; v++) {
                    float *cp = chunk + (size_t)v * AXPY_WINDOW(V) + o;
                    oc_vstore(cp, oc_vfma(b[v], x0, oc_vload(cp)));
                }
            }
        }
        if (chunk != total)
            for (int v = 0; v < V; v++)
                for (size_t j = 0; j < vecs; j++) {
                    float *tp = total + (size_t)v * AXPY_WINDOW(V) + j * VL;
                    oc_vstore(tp, oc_vadd(oc_vload(tp), oc_vload(acc + (size_t)v * AXPY_WINDOW(V) + j * VL)));
                }
    }

    /* The epilogue, vectorized when outputs and X run along r contiguously. */
    const oc_vf valpha = oc_vset1(s->alpha), vbeta = oc_vset1(s->beta);
    const oc_vf vlo = oc_vset1(s->lo), vhi = oc_vset1(s->hi);
    for (int v = 0; v < V; v++) {
        const float *tv = total + (size_t)v * AXPY_WINDOW(V);
        if (s->c_rs == 1 && (!s->x || s->x_rs <= 1)) {
            float *cv = s->c + (size_t)v * s->c_vs + r;
            const float *xv = s->x ? s->x + (size_t)v * s->x_vs + r * s->x_rs : NULL;
            for (size_t j = 0; j < vecs; j++) {
                size_t o = j * VL;
                int n = j < full ? VL : tail;
                oc_vf res = epilogue_vec(oc_vload(tv + o), valpha, xv ? xv + o * s->x_rs : NULL,
                                         s->x_rs, vbeta, n, s->clamp, vlo, vhi);
                if (n == VL)
                    oc_vstoreu(cv + o, res);
                else
                    oc_vstoreu_n(cv + o, res, n);
            }
        } else {
            for (size_t j = 0; j < win; j++) small_store(s, (size_t)v, r + j, tv[j]);
        }
    }
}

#if defined(__GNUC__)
#define ALIGNED_VEC __attribute__((aligned(64)))
#else
#define ALIGNED_VEC
#endif

#define AXPY_FN(V)                                                                           \
    static OC_NOINLINE void axpy_##V(const oc_gemm_small *s, size_t r0, size_t r1)           \
    {                                                                                        \
        float acc[V * AXPY_WINDOW(V)] ALIGNED_VEC, total[V * AXPY_WINDOW(V)] ALIGNED_VEC;    \
        for (size_t r = r0; r < r1; r += AXPY_WINDOW(V))                                     \
            axpy_window(V, s, r, min_sz(AXPY_WINDOW(V), r1 - r), acc, total);                \
    }
AXPY_FN(1)
AXPY_FN(2)
AXPY_FN(3)
AXPY_FN(4)
AXPY_FN(5)
AXPY_FN(6)
AXPY_FN(7)
AXPY_FN(8)

static void axpy(const oc_gemm_small *s, size_t r0, size_t r1)
{
    switch (s->nv) {
    case 1: axpy_1(s, r0, r1); break;
    case 2: axpy_2(s, r0, r1); break;
    case 3: axpy_3(s, r0, r1); break;
    case 4: axpy_4(s, r0, r1); break;
    case 5: axpy_5(s, r0, r1); break;
    case 6: axpy_6(s, r0, r1); break;
    case 7: axpy_7(s, r0, r1); break;
    case 8: axpy_8(s, r0, r1); break;
    default: break;
    }
}

/* ======================================================================== */

const oc_gemm_kernels OC_ISA_SYM(oc_gemm_kernels) = {
    .isa = OC_SIMD_ISA == 2 ? OC_ISA_AVX512 : OC_SIMD_ISA == 1 ? OC_ISA_AVX2 : OC_ISA_PORTABLE,
    .vl = VL,
    .mr = MR,
    .nr = NR,
    .kc = GEMM_KC,
    .mc = GEMM_MC,
    .nc = GEMM_NC,
    .pack_a = pack_a,
    .pack_b = pack_b,
    .block = block,
    .block_in_place = block_in_place,
    .dot = dot,
    .axpy = axpy,
};
