/* Fast SGEMM in portable C.
 *
 * The classic blocked scheme (Goto / BLIS): for each NC-column block of B and
 * KC-deep slice of K, B is packed into NR-wide panels that stay in L3/L2;
 * for each MC-row block of A, A is packed into MR-tall panels that stay in
 * L2; a micro-kernel then multiplies one A panel by one B panel into an
 * MR x NR tile of accumulators held in registers. Packing makes every inner
 * access contiguous (whatever the transposes and strides) and pads edge
 * panels with zeros, so the micro-kernel never branches; only the write-back
 * of edge tiles is clipped.
 *
 * The micro-kernel is plain C written so that GCC -O3 keeps the tile in
 * registers and vectorizes its rows (MR = 4, NR = 8 measured best for the
 * baseline x86-64 SSE2 target: 8 accumulator vectors). ISA-specific
 * micro-kernels can replace it later without touching the packing.
 *
 * m == 1 or n == 1 (a fully-connected layer on one sample) skip packing: each
 * weight is used once, so the product streams the matrix once instead. */
#include "gemm.h"

#include <string.h>

#include "core/util.h"

enum {
    MR = 4,    /* rows of the register tile */
    NR = 8,    /* columns of the register tile (vector width multiple) */
    KC = 256,  /* depth of a packed slice: an A panel + a B panel fit L1 */
    MC = 128,  /* rows of a packed A block (multiple of MR): fits L2 */
    NC = 2048, /* columns of a packed B block (multiple of NR) */
    GEMV_BLOCK = 512 /* outputs accumulated at once by the streaming path */
};

/* The micro-kernel must stay a function of its own: inlined into the blocking
 * loops, GCC runs out of registers for the tile and spills it. */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
static size_t round_up(size_t n, size_t multiple)
{
    return (n + multiple - 1) / multiple * multiple;
}

/* The depth of each K slice: K split into equal slices of at most KC, so a
 * remainder does not make one slice tiny. */
static size_t slice_depth(size_t k)
{
    size_t slices = (k + KC - 1) / KC;
    return (k + slices - 1) / slices;
}

static size_t packed_a_bytes(size_t m, size_t k)
{
    return round_up(min_size(m, MC), MR) * slice_depth(k) * sizeof(float);
}

size_t oc_sgemm_workspace(size_t m, size_t n, size_t k)
{
    if (m == 0 || n == 0 || k == 0) return 0;
    if (k > SIZE_MAX / sizeof(float)) return SIZE_MAX;
    size_t vector_bytes = k * sizeof(float); /* room to gather a strided vector */
    if (m == 1 || n == 1) return vector_bytes;
    size_t b_bytes = round_up(min_size(n, NC), NR) * slice_depth(k) * sizeof(float);
    size_t blocked_bytes = round_up(packed_a_bytes(m, k), OC_ALIGN) + b_bytes;
    /* Never less than a vector product needs, so the size only grows with m and n. */
    return blocked_bytes > vector_bytes ? blocked_bytes : vector_bytes;
}

/* ---- the blocked path ---- */

/* Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row panels:
 * panel r holds element (i, p) at [p * MR + i]; missing rows are zero. */
static void pack_a(bool trans, const float *a, size_t lda, size_t i0, size_t p0, size_t mc,
                   size_t kc, float *restrict out)
{
    for (size_t ir = 0; ir < mc; ir += MR, out += MR * kc) {
        size_t rows = min_size(MR, mc - ir);
        if (trans) {
            for (size_t p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                for (size_t i = 0; i < rows; i++) out[p * MR + i] = src[i];
                for (size_t i = rows; i < MR; i++) out[p * MR + i] = 0.0f;
            }
        } else if (rows == MR) {
            const float *r0 = a + (i0 + ir) * lda + p0;
            const float *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
            for (size_t p = 0; p < kc; p++) {
                out[p * MR + 0] = r0[p];
                out[p * MR + 1] = r1[p];
                out[p * MR + 2] = r2[p];
                out[p * MR + 3] = r3[p];
            }
        } else {
            for (size_t i = 0; i < MR; i++) {
                const float *src = a + (i0 + ir + i) * lda + p0;
                for (size_t p = 0; p < kc; p++) out[p * MR + i] = i < rows ? src[p] : 0.0f;
            }
        }
    }
}

/* Packs depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) into NR-column
 * panels: panel c holds element (p, j) at [p * NR + j]; missing columns are zero. */
static void pack_b(bool trans, const float *b, size_t ldb, size_t p0, size_t j0, size_t kc,
                   size_t nc, float *restrict out)
{
    for (size_t jr = 0; jr < nc; jr += NR, out += NR * kc) {
        size_t cols = min_size(NR, nc - jr);
        if (!trans) {
            for (size_t p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + jr;
                for (size_t j = 0; j < cols; j++) out[p * NR + j] = src[j];
                for (size_t j = cols; j < NR; j++) out[p * NR + j] = 0.0f;
            }
        } else {
            for (size_t j = 0; j < NR; j++) {
                const float *src = b + (j0 + jr + j) * ldb + p0;
                for (size_t p = 0; p < kc; p++) out[p * NR + j] = j < cols ? src[p] : 0.0f;
            }
        }
    }
}

/* acc (MR x NR, row-major) = A panel (MR x kc) * B panel (kc x NR). The
 * fixed trip counts let the compiler unroll i and j completely, keep acc in
 * registers and vectorize along j. */
NOINLINE static void micro_kernel(size_t kc, const float *restrict ap, const float *restrict bp,
                         float *restrict acc)
{
    float tile[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) tile[i][j] = 0.0f;
    for (size_t p = 0; p < kc; p++, ap += MR, bp += NR) {
        for (int i = 0; i < MR; i++) {
            const float ai = ap[i];
            for (int j = 0; j < NR; j++) tile[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i * NR + j] = tile[i][j];
}

/* C tile (rows x cols) = alpha * acc + beta * C; C is not read when beta == 0. */
static void store_tile(const float *restrict acc, size_t rows, size_t cols, float alpha,
                       float beta, float *restrict c, size_t ldc)
{
    for (size_t i = 0; i < rows; i++, c += ldc, acc += NR) {
        if (beta == 0.0f)
            for (size_t j = 0; j < cols; j++) c[j] = alpha * acc[j];
        else if (beta == 1.0f)
            for (size_t j = 0; j < cols; j++) c[j] += alpha * acc[j];
        else
            for (size_t j = 0; j < cols; j++) c[j] = alpha * acc[j] + beta * c[j];
    }
}

/* C block (mc x nc) = alpha * packed A * packed B + beta * C. The B panel
 * is the outer loop so it stays in L1 while the A panels stream from L2. */
static void macro_kernel(size_t mc, size_t nc, size_t kc, const float *pa, const float *pb,
                         float alpha, float beta, float *c, size_t ldc)
{
    float acc[MR * NR];
    for (size_t jr = 0; jr < nc; jr += NR) {
        size_t cols = min_size(NR, nc - jr);
        const float *bp = pb + jr * kc;
        for (size_t ir = 0; ir < mc; ir += MR) {
            micro_kernel(kc, pa + ir * kc, bp, acc);
            store_tile(acc, min_size(MR, mc - ir), cols, alpha, beta, c + ir * ldc + jr, ldc);
        }
    }
}

static void gemm_blocked(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                         const float *a, size_t lda, const float *b, size_t ldb, float beta,
                         float *c, size_t ldc, void *workspace)
{
    float *pa = workspace;
    float *pb = (float *)((char *)workspace + round_up(packed_a_bytes(m, k), OC_ALIGN));
    size_t depth = slice_depth(k);
    for (size_t jc = 0; jc < n; jc += NC) {
        size_t nc = min_size(NC, n - jc);
        for (size_t pc = 0; pc < k; pc += depth) {
            size_t kc = min_size(depth, k - pc);
            /* Later slices add onto what the first wrote. */
            float beta_slice = pc == 0 ? beta : 1.0f;
            pack_b(trans_b, b, ldb, pc, jc, kc, nc, pb);
            for (size_t ic = 0; ic < m; ic += MC) {
                size_t mc = min_size(MC, m - ic);
                pack_a(trans_a, a, lda, ic, pc, mc, kc, pa);
                macro_kernel(mc, nc, kc, pa, pb, alpha, beta_slice, c + ic * ldc + jc, ldc);
            }
        }
    }
}

/* ---- the matrix-vector path ---- */

static void store_one(float *y, float sum, float alpha, float beta)
{
    *y = beta == 0.0f ? alpha * sum : alpha * sum + beta * *y;
}

static float sum8(const float s[8])
{
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* y[r * incy] = alpha * <row r of mat, x> + beta * y[r * incy] for r < rows;
 * mat is rows x len with row distance ld. Four rows share each load of x and
 * each row keeps 8 partial sums, so the loop vectorizes without reordering
 * any single sum across lanes. */
static void gemv_dot_rows(size_t rows, size_t len, const float *mat, size_t ld,
                          const float *restrict x, float alpha, float beta, float *y, size_t incy)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *restrict m0 = mat + r * ld;
        const float *restrict m1 = m0 + ld, *restrict m2 = m1 + ld, *restrict m3 = m2 + ld;
        float s0[8] = {0}, s1[8] = {0}, s2[8] = {0}, s3[8] = {0};
        size_t p = 0;
        for (; p + 8 <= len; p += 8) {
            for (int j = 0; j < 8; j++) {
                s0[j] += m0[p + j] * x[p + j];
                s1[j] += m1[p + j] * x[p + j];
                s2[j] += m2[p + j] * x[p + j];
                s3[j] += m3[p + j] * x[p + j];
            }
        }
        float t0 = sum8(s0), t1 = sum8(s1), t2 = sum8(s2), t3 = sum8(s3);
        for (; p < len; p++) {
            t0 += m0[p] * x[p];
            t1 += m1[p] * x[p];
            t2 += m2[p] * x[p];
            t3 += m3[p] * x[p];
        }
        store_one(y + (r + 0) * incy, t0, alpha, beta);
        store_one(y + (r + 1) * incy, t1, alpha, beta);
        store_one(y + (r + 2) * incy, t2, alpha, beta);
        store_one(y + (r + 3) * incy, t3, alpha, beta);
    }
    for (; r < rows; r++) {
        const float *restrict m0 = mat + r * ld;
        float s0[8] = {0};
        size_t p = 0;
        for (; p + 8 <= len; p += 8)
            for (int j = 0; j < 8; j++) s0[j] += m0[p + j] * x[p + j];
        float t0 = sum8(s0);
        for (; p < len; p++) t0 += m0[p] * x[p];
        store_one(y + r * incy, t0, alpha, beta);
    }
}

/* y[j * incy] = alpha * sum_p x[p] * mat[p][j] + beta * y[j * incy] for
 * j < cols; mat is len x cols with row distance ld. A block of outputs stays
 * in L1 while the rows of mat stream past it once. */
static void gemv_axpy_rows(size_t len, size_t cols, const float *mat, size_t ld,
                           const float *restrict x, float alpha, float beta, float *y,
                           size_t incy)
{
    float acc[GEMV_BLOCK];
    for (size_t j0 = 0; j0 < cols; j0 += GEMV_BLOCK) {
        size_t nb = min_size(GEMV_BLOCK, cols - j0);
        memset(acc, 0, nb * sizeof *acc);
        size_t p = 0;
        for (; p + 4 <= len; p += 4) {
            const float *restrict r0 = mat + p * ld + j0;
            const float *restrict r1 = r0 + ld, *restrict r2 = r1 + ld, *restrict r3 = r2 + ld;
            const float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
            for (size_t j = 0; j < nb; j++)
                acc[j] += x0 * r0[j] + x1 * r1[j] + x2 * r2[j] + x3 * r3[j];
        }
        for (; p < len; p++) {
            const float *restrict r0 = mat + p * ld + j0;
            const float x0 = x[p];
            for (size_t j = 0; j < nb; j++) acc[j] += x0 * r0[j];
        }
        for (size_t j = 0; j < nb; j++) store_one(y + (j0 + j) * incy, acc[j], alpha, beta);
    }
}

/* A contiguous copy of a strided vector (or the vector itself when contiguous). */
static const float *contiguous(const float *v, size_t stride, size_t len, float *scratch)
{
    if (stride == 1) return v;
    for (size_t p = 0; p < len; p++) scratch[p] = v[p * stride];
    return scratch;
}

/* ---- entry point ---- */

/* C = beta * C (zeros when beta == 0, without reading C). */
static void scale_c(size_t m, size_t n, float beta, float *c, size_t ldc)
{
    if (beta == 1.0f) return;
    for (size_t i = 0; i < m; i++, c += ldc)
        for (size_t j = 0; j < n; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
}

void oc_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc, void *workspace)
{
    if (m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (m == 1) {
        /* op(A) is one row: contiguous, or a column of A (stride lda) when transposed. */
        const float *x = trans_a ? contiguous(a, lda, k, workspace) : a;
        if (trans_b)
            gemv_dot_rows(n, k, b, ldb, x, alpha, beta, c, 1);
        else
            gemv_axpy_rows(k, n, b, ldb, x, alpha, beta, c, 1);
        return;
    }
    if (n == 1) {
        /* op(B) is one column: a column of B (stride ldb), or a row when transposed. */
        const float *x = trans_b ? b : contiguous(b, ldb, k, workspace);
        if (trans_a)
            gemv_axpy_rows(k, m, a, lda, x, alpha, beta, c, ldc);
        else
            gemv_dot_rows(m, k, a, lda, x, alpha, beta, c, ldc);
        return;
    }
    gemm_blocked(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workspace);
}
