/* The Winograd transforms (see winograd_isa.h), written once against the
 * SIMD mapping of simd.h and compiled once per ISA. A group of
 * OC_WINO_LANES tiles is gathered lane-wise into a small buffer (windows
 * zero outside the image), transformed OC_VL lanes at a time, and the
 * outputs scattered back from one, clipped at the bottom and right. The
 * 1-D transforms are written out: their matrices are mostly 0 and +-1. The
 * arithmetic uses operators, which work on GNU vectors (every ISA's oc_vf
 * with GCC and Clang) and on the scalar fallback alike. */
#include <stdbool.h>
#include <string.h>

#include "simd.h"
#include "winograd_isa.h"

#define LANES OC_WINO_LANES
#define NV (LANES / OC_VL) /* vectors a group of tiles */
#define INL static OC_ALWAYS_INLINE

/* ---- 1-D transforms: o[i * os] from d[i * is] ---- */

/* F(2,3) input: B^T (4 x 4). */
INL void in2(oc_vf *o, int os, const oc_vf *d, int is)
{
    oc_vf d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is];
    o[0] = d0 - d2;
    o[os] = d1 + d2;
    o[2 * os] = d2 - d1;
    o[3 * os] = d1 - d3;
}

/* F(2,3) output: A^T (2 x 4). */
INL void out2(oc_vf *o, int os, const oc_vf *s, int is)
{
    oc_vf s0 = s[0], s1 = s[is], s2 = s[2 * is], s3 = s[3 * is];
    o[0] = s0 + s1 + s2;
    o[os] = s1 - s2 - s3;
}

/* F(4,3) input: B^T (6 x 6). */
INL void in4(oc_vf *o, int os, const oc_vf *d, int is)
{
    oc_vf d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is], d4 = d[4 * is], d5 = d[5 * is];
    oc_vf a = d4 - 4.0f * d2, b = d3 - 4.0f * d1;
    oc_vf c = d4 - d2, e = 2.0f * (d3 - d1);
    o[0] = 4.0f * d0 - 5.0f * d2 + d4;
    o[os] = a + b;
    o[2 * os] = a - b;
    o[3 * os] = c + e;
    o[4 * os] = c - e;
    o[5 * os] = 4.0f * d1 - 5.0f * d3 + d5;
}

/* F(4,3) output: A^T (4 x 6). */
INL void out4(oc_vf *o, int os, const oc_vf *s, int is)
{
    oc_vf s0 = s[0], s1 = s[is], s2 = s[2 * is], s3 = s[3 * is], s4 = s[4 * is], s5 = s[5 * is];
    oc_vf p12 = s1 + s2, m12 = s1 - s2, p34 = s3 + s4, m34 = s3 - s4;
    o[0] = s0 + p12 + p34;
    o[os] = m12 + 2.0f * m34;
    o[2 * os] = p12 + 4.0f * p34;
    o[3 * os] = m12 + 8.0f * m34 + s5;
}

/* F(6,3) input: B^T (8 x 8). */
INL void in6(oc_vf *o, int os, const oc_vf *d, int is)
{
    oc_vf d0 = d[0], d1 = d[is], d2 = d[2 * is], d3 = d[3 * is];
    oc_vf d4 = d[4 * is], d5 = d[5 * is], d6 = d[6 * is], d7 = d[7 * is];
    o[0] = d0 - d6 + 5.25f * (d4 - d2);
    o[7 * os] = d7 - d1 + 5.25f * (d3 - d5);
    oc_vf a = d2 + d6 - 4.25f * d4, b = d1 + d5 - 4.25f * d3;
    o[os] = a + b;
    o[2 * os] = a - b;
    a = d6 + 0.25f * d2 - 1.25f * d4;
    b = 0.5f * d1 - 2.5f * d3 + 2.0f * d5;
    o[3 * os] = a + b;
    o[4 * os] = a - b;
    a = d6 + 4.0f * (d2 - 1.25f * d4);
    b = 2.0f * d1 - 2.5f * d3 + 0.5f * d5;
    o[5 * os] = a + b;
    o[6 * os] = a - b;
}

/* F(6,3) output: A^T (6 x 8). */
INL void out6(oc_vf *o, int os, const oc_vf *s, int is)
{
    oc_vf s0 = s[0], s1 = s[is], s2 = s[2 * is], s3 = s[3 * is];
    oc_vf s4 = s[4 * is], s5 = s[5 * is], s6 = s[6 * is], s7 = s[7 * is];
    oc_vf p12 = s1 + s2, m12 = s1 - s2, p34 = s3 + s4, m34 = s3 - s4;
    oc_vf p56 = s5 + s6, m56 = s5 - s6;
    o[0] = s0 + p12 + p34 + p56;
    o[os] = m12 + 2.0f * m34 + 0.5f * m56;
    o[2 * os] = p12 + 4.0f * p34 + 0.25f * p56;
    o[3 * os] = m12 + 8.0f * m34 + 0.125f * m56;
    o[4 * os] = p12 + 16.0f * p34 + 0.0625f * p56;
    o[5 * os] = m12 + 32.0f * m34 + 0.03125f * m56 + s7;
}

/* ---- lane coordinates ---- */

typedef struct tile_pos {
    int64_t n, oy, ox; /* image; output position of the tile's top left corner */
} tile_pos;

/* Tiles [first, first + count) (count <= LANES); lanes past count repeat
 * the last tile, so they read valid memory. */
INL void coords(const oc_wino_plan *p, int64_t first, int count, tile_pos *pos)
{
    int64_t n = first / p->tiles_img, r = first % p->tiles_img;
    int64_t ty = r / p->tw, tx = r % p->tw;
    for (int l = 0; l < LANES; l++) {
        pos[l].n = n;
        pos[l].oy = ty * p->m;
        pos[l].ox = tx * p->m;
        if (l + 1 < count && ++tx == p->tw) {
            tx = 0;
            if (++ty == p->th) {
                ty = 0;
                n++;
            }
        }
    }
}

/* ---- AVX-512: runs of tiles side by side, by transposes ---- */

#if OC_SIMD_ISA == 2 && LANES == 16
#define ROW_FAST 1

/* Runs a group may have (tiles side by side in one tile row) for the
 * transposes to beat the lane-wise copies. */
#define MAX_RUNS 6

/* The runs of the group's first n tiles: run r is lanes [start[r],
 * start[r + 1]). 0 when there are too many. */
INL int tile_runs(const tile_pos *pos, int n, int *start)
{
    int runs = 0;
    for (int l = 0; l < n; l++) {
        if (l == 0 || pos[l].oy != pos[l - 1].oy || pos[l].n != pos[l - 1].n) {
            if (runs == MAX_RUNS) return 0;
            start[runs++] = l;
        }
    }
    start[runs] = n;
    return runs;
}

/* Lanes [lo, hi) of 16 (clamped) as a mask. */
INL __mmask16 lane_mask(int64_t lo, int64_t hi)
{
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)((((uint32_t)1 << hi) - 1u) & ~(((uint32_t)1 << lo) - 1u));
}

/* Where a group's windows come from, the same for every channel: per run,
 * its offset in a channel's plane (image and first column of lane 0 as
 * if its tiles continued), its first input row, the masks of its row
 * loads (nothing outside the row is read) and the lanes it fills. */
typedef struct in_plan4 {
    int runs;
    int64_t at[MAX_RUNS], iy0[MAX_RUNS];
    __mmask16 load[MAX_RUNS][5], mine[MAX_RUNS];
} in_plan4;

/* False when the group has too many runs. */
INL bool in_plan4_of(const oc_wino_plan *p, int64_t image_stride, int64_t dy, int64_t dx,
                     const tile_pos *pos, int n, in_plan4 *ip)
{
    int start[MAX_RUNS + 1];
    int runs = tile_runs(pos, n, start);
    if (runs == 0 || p->w > INT64_MAX / 4 - 128) return false;
    ip->runs = runs;
    for (int r = 0; r < runs; r++) {
        int ls = start[r];
        int64_t base = pos[ls].ox - p->pad_l + dx - 4 * (int64_t)ls;
        ip->at[r] = pos[ls].n * image_stride + base;
        ip->iy0[r] = pos[ls].oy - p->pad_t + dy;
        for (int k = 0; k < 5; k++) {
            int64_t c = base + 16 * k;
            ip->load[r][k] = lane_mask(-c, p->w - c) & (k == 4 ? (__mmask16)0x3 : (__mmask16)0xFFFF);
        }
        ip->mine[r] = lane_mask(r == 0 ? 0 : ls, r == runs - 1 ? 16 : start[r + 1]);
    }
    return true;
}

/* F(4,3)'s input transform of one channel of a group: each window row
 * through the row transform as soon as it is loaded, then the columns,
 * each stored as it is made: out[xi * stride] for the 36 positions xi. A
 * run's row of windows, lane l = row[base + 4 l + j] (j < 6): five masked
 * loads, a 16 x 4 -> 4 x 16 transpose of the first 64 columns (two-source
 * permutes, then 128-bit lanes), and columns 4 and 5 as 0 and 1 moved by
 * a lane, with columns 64 and 65 coming in; runs blended into their lanes.
 * (Transforming the 36 vectors of a group after loading them all kept
 * them in memory: 0.62 -> 0.51 ms on ResNet-18's 56 x 56 layer with the
 * output side done the same way.) */
INL void input_group4(const oc_wino_plan *p, const float *xc, const in_plan4 *ip, float *out,
                      size_t stride)
{
    const __m512i idx[4] = {
        _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0),
        _mm512_setr_epi32(1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0),
        _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0),
        _mm512_setr_epi32(3, 7, 11, 15, 19, 23, 27, 31, 0, 0, 0, 0, 0, 0, 0, 0)};
    __m512 t[6][6];
    for (int i = 0; i < 6; i++) {
        __m512 d[6];
        for (int j = 0; j < 6; j++) d[j] = _mm512_setzero_ps();
        for (int r = 0; r < ip->runs; r++) {
            int64_t iy = ip->iy0[r] + i;
            if (iy < 0 || iy >= p->h) continue; /* zero rows: the blend keeps zeros */
            const float *row = xc + ip->at[r] + iy * p->w;
            __m512 v0 = _mm512_maskz_loadu_ps(ip->load[r][0], row);
            __m512 v1 = _mm512_maskz_loadu_ps(ip->load[r][1], row + 16);
            __m512 v2 = _mm512_maskz_loadu_ps(ip->load[r][2], row + 32);
            __m512 v3 = _mm512_maskz_loadu_ps(ip->load[r][3], row + 48);
            __m512i tail = _mm512_castps_si512(_mm512_maskz_loadu_ps(ip->load[r][4], row + 64));
            __m512 e[6];
            for (int j = 0; j < 4; j++) {
                __m512 lo = _mm512_permutex2var_ps(v0, idx[j], v1);
                __m512 hi = _mm512_permutex2var_ps(v2, idx[j], v3);
                e[j] = _mm512_shuffle_f32x4(lo, hi, 0x44);
            }
            e[4] = _mm512_castsi512_ps(_mm512_alignr_epi32(tail, _mm512_castps_si512(e[0]), 1));
            e[5] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_alignr_epi32(tail, tail, 1),
                                                           _mm512_castps_si512(e[1]), 1));
            if (ip->runs == 1) {
                for (int j = 0; j < 6; j++) d[j] = e[j];
            } else {
                for (int j = 0; j < 6; j++) d[j] = _mm512_mask_blend_ps(ip->mine[r], d[j], e[j]);
            }
        }
        in4(t[i], 1, d, 1);
    }
    for (int j = 0; j < 6; j++) {
        __m512 c[6] = {t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]}, o[6];
        in4(o, 1, c, 1);
        for (int a = 0; a < 6; a++) _mm512_storeu_ps(out + (size_t)(a * 6 + j) * stride, o[a]);
    }
}

/* Where a group's outputs go, the same for every output channel: per run,
 * output row i < 4 and vector q < 4 (tiles 4q .. 4q + 3), the offset in
 * the channel's plane and the mask of its lanes (0: nothing). */
typedef struct out_plan4 {
    int runs;
    int64_t at[MAX_RUNS][4][4];
    __mmask16 mask[MAX_RUNS][4][4];
} out_plan4;

/* False when the group has too many runs. */
INL bool out_plan4_of(const oc_wino_plan *p, int64_t image_stride, const tile_pos *pos, int n,
                      out_plan4 *op)
{
    int start[MAX_RUNS + 1];
    int runs = tile_runs(pos, n, start);
    if (runs == 0 || p->wo > INT64_MAX / 4 - 128) return false;
    op->runs = runs;
    for (int rr = 0; rr < runs; rr++) {
        int ls = start[rr], le = start[rr + 1];
        int64_t at = pos[ls].n * image_stride;
        int64_t oy = pos[ls].oy, base = pos[ls].ox - 4 * (int64_t)ls;
        for (int i = 0; i < 4; i++)
            for (int q = 0; q < 4; q++) {
                int64_t c = base + 16 * q;
                op->at[rr][i][q] = at + (oy + i) * p->wo + c;
                op->mask[rr][i][q] =
                    oy + i < p->ho ? lane_mask(4 * ((int64_t)ls - 4 * q), 4 * ((int64_t)le - 4 * q)) &
                                         lane_mask(-c, p->wo - c)
                                   : 0;
            }
    }
    return true;
}

/* F(4,3)'s output transform of one channel of a group, with the plan of
 * its stores: the columns' 1-D transforms straight from M (no copy of the
 * 36 vectors), then row by row the row transform, the 4 x 16 -> 16 x 4
 * transpose and the masked stores, so that few vectors are live at once. */
INL void output_group4(const float *src, int64_t xstride, const out_plan4 *op, float *yk,
                       const float *sk, __m512 bias, __m512 lov, __m512 hiv)
{
    __m512 t[4 * 6];
    for (int j = 0; j < 6; j++) { /* columns: t[i][j], i < 4 */
        __m512 s[6];
        for (int i = 0; i < 6; i++) s[i] = _mm512_loadu_ps(src + (i * 6 + j) * xstride);
        out4(&t[j], 6, s, 1);
    }
    for (int i = 0; i < 4; i++) {
        __m512 o[4];
        out4(o, 1, &t[i * 6], 1);
        __m512 o0 = o[0] + bias, o1 = o[1] + bias, o2 = o[2] + bias, o3 = o[3] + bias;
        __m512 t01lo = _mm512_unpacklo_ps(o0, o1), t01hi = _mm512_unpackhi_ps(o0, o1);
        __m512 t23lo = _mm512_unpacklo_ps(o2, o3), t23hi = _mm512_unpackhi_ps(o2, o3);
        __m512 u0 = _mm512_shuffle_ps(t01lo, t23lo, 0x44);
        __m512 u1 = _mm512_shuffle_ps(t01lo, t23lo, 0xEE);
        __m512 u2 = _mm512_shuffle_ps(t01hi, t23hi, 0x44);
        __m512 u3 = _mm512_shuffle_ps(t01hi, t23hi, 0xEE);
        __m512 a = _mm512_shuffle_f32x4(u0, u1, 0x44), b = _mm512_shuffle_f32x4(u2, u3, 0x44);
        __m512 c = _mm512_shuffle_f32x4(u0, u1, 0xEE), d = _mm512_shuffle_f32x4(u2, u3, 0xEE);
        __m512 row[4] = {_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD),
                         _mm512_shuffle_f32x4(c, d, 0x88), _mm512_shuffle_f32x4(c, d, 0xDD)};
        for (int rr = 0; rr < op->runs; rr++)
            for (int q = 0; q < 4; q++) {
                __mmask16 m = op->mask[rr][i][q];
                if (!m) continue;
                __m512 v = row[q];
                if (sk) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, sk + op->at[rr][i][q]));
                /* max(lo, v) keeps a NaN v, as does min(hi, v) */
                _mm512_mask_storeu_ps(yk + op->at[rr][i][q], m,
                                      _mm512_min_ps(hiv, _mm512_max_ps(lov, v)));
            }
    }
}
#endif

/* ---- input transform ---- */

/* d[i * A + j][lane] = the window of the lane's tile in channel plane
 * xc_base (of image 0), shifted by (dy, dx), zero outside the image. */
INL void gather(const oc_wino_plan *p, const int A, const float *xc_base, int64_t image_stride,
                int64_t dy, int64_t dx, const tile_pos *pos, float (*d)[LANES])
{
    int64_t h = p->h, w = p->w;
    for (int l = 0; l < LANES; l++) {
        const float *xc = xc_base + pos[l].n * image_stride;
        int64_t iy0 = pos[l].oy - p->pad_t + dy, ix0 = pos[l].ox - p->pad_l + dx;
        if (iy0 >= 0 && iy0 + A <= h && ix0 >= 0 && ix0 + A <= w) {
            const float *src = xc + iy0 * w + ix0;
            for (int i = 0; i < A; i++)
                for (int j = 0; j < A; j++) d[i * A + j][l] = src[i * w + j];
        } else {
            for (int i = 0; i < A; i++) {
                int64_t iy = iy0 + i;
                bool row_in = iy >= 0 && iy < h;
                for (int j = 0; j < A; j++) {
                    int64_t ix = ix0 + j;
                    d[i * A + j][l] = row_in && ix >= 0 && ix < w ? xc[iy * w + ix] : 0.0f;
                }
            }
        }
    }
}

INL void input_m(const oc_wino_plan *p, const int M, const float *x, int64_t first,
                 const oc_wino_v *vv, int64_t c0, int64_t c1)
{
    const int64_t count = vv->count;
    enum { AMAX = 8, GROUPS = 16 };
    const int A = M + 2;
    int64_t plane = p->h * p->w;
    _Alignas(64) float d[AMAX * AMAX][LANES];
    oc_vf dv[AMAX * AMAX], t[AMAX * AMAX], r[AMAX * AMAX];
    tile_pos pos[GROUPS][LANES];
    int lanes[GROUPS];
    /* Up to GROUPS groups of tiles at a time, channel by channel: a
     * channel's transformed tiles are consecutive in V. */
#ifdef ROW_FAST
    in_plan4 plans[GROUPS];
    int64_t plan_piece[GROUPS];
    bool plan_ok[GROUPS];
#endif
    for (int64_t g0 = 0; g0 < count; g0 += GROUPS * LANES) {
#ifdef ROW_FAST
        for (int gi = 0; gi < GROUPS; gi++) plan_piece[gi] = -1;
#endif
        int groups = 0;
        for (int64_t g = g0; g < count && groups < GROUPS; g += LANES, groups++) {
            lanes[groups] = count - g < LANES ? (int)(count - g) : LANES;
            coords(p, first + g, lanes[groups], pos[groups]);
        }
        for (int64_t vc = c0; vc < c1; vc++) {
            int64_t ch = vc % p->c, piece = vc / p->c;
            int64_t dy = 3 * (piece / p->subs_w), dx = 3 * (piece % p->subs_w);
            for (int gi = 0; gi < groups; gi++) {
                const tile_pos *gp = pos[gi];
                /* The group lies in one sub-block (sub_w is a multiple of LANES). */
                int64_t tile = g0 + gi * LANES, sub = tile / vv->sub_w;
                oc_gemm_b_layout lay = oc_wino_sub_layout(p, vv, sub);
                float *blk0 = oc_wino_block(p, vv, sub, 0);
                size_t at[NV];
                for (int q = 0; q < NV; q++)
                    at[q] = oc_gemm_b_offset(&lay, (size_t)vc, (size_t)(tile - sub * vv->sub_w + q * OC_VL));
#ifdef ROW_FAST
                if (M == 4) {
                    /* the group's plan, made again when the piece changes */
                    if (plan_piece[gi] != piece) {
                        plan_ok[gi] =
                            in_plan4_of(p, p->c * plane, dy, dx, gp, lanes[gi], &plans[gi]);
                        plan_piece[gi] = piece;
                    }
                    if (plan_ok[gi]) {
                        input_group4(p, x + ch * plane, &plans[gi], blk0 + at[0], vv->v_blk);
                        continue;
                    }
                }
#endif
                gather(p, A, x + ch * plane, p->c * plane, dy, dx, gp, d);
                for (int q = 0; q < NV; q++) {
                    for (int i = 0; i < A * A; i++) dv[i] = oc_vload(d[i] + q * OC_VL);
                    for (int j = 0; j < A; j++) { /* columns */
                        if (M == 2)
                            in2(&t[j], A, &dv[j], A);
                        else if (M == 4)
                            in4(&t[j], A, &dv[j], A);
                        else
                            in6(&t[j], A, &dv[j], A);
                    }
                    for (int i = 0; i < A; i++) { /* rows */
                        if (M == 2)
                            in2(&r[i * A], 1, &t[i * A], 1);
                        else if (M == 4)
                            in4(&r[i * A], 1, &t[i * A], 1);
                        else
                            in6(&r[i * A], 1, &t[i * A], 1);
                    }
                    for (int xi = 0; xi < A * A; xi++)
                        oc_vstoreu(blk0 + (size_t)xi * vv->v_blk + at[q], r[xi]);
                }
            }
        }
    }
}

void OC_ISA_SYM(oc_wino_input)(const oc_wino_plan *p, const float *x, int64_t first,
                               const oc_wino_v *v, int64_t c0, int64_t c1)
{
    if (p->m == 2)
        input_m(p, 2, x, first, v, c0, c1);
    else if (p->m == 4)
        input_m(p, 4, x, first, v, c0, c1);
    else
        input_m(p, 6, x, first, v, c0, c1);
}

/* ---- output transform ---- */

/* v + s (s may be NULL) clamped to [lo, hi] as the vectors are. */
INL float finish(float v, const float *s, float lo, float hi)
{
    if (s) v += *s;
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

/* Writes o[i * M + j][lane] (+ sum, then the clamp) of the first count
 * lanes' tiles into output plane yk_base (of image 0), clipped to the
 * output extent. */
INL void scatter(const oc_wino_plan *p, const int M, float *yk_base, const float *sk_base,
                 int64_t image_stride, const tile_pos *pos, int count, float (*o)[LANES],
                 float lo, float hi)
{
    int64_t ho = p->ho, wo = p->wo;
    for (int l = 0; l < count; l++) {
        int64_t oy = pos[l].oy, ox = pos[l].ox, at = pos[l].n * image_stride + oy * wo + ox;
        float *dst = yk_base + at;
        const float *sum = sk_base ? sk_base + at : NULL;
        int rows = ho - oy < M ? (int)(ho - oy) : M, cols = wo - ox < M ? (int)(wo - ox) : M;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                dst[i * wo + j] = finish(o[i * M + j][l], sum ? sum + i * wo + j : NULL, lo, hi);
    }
}

INL void output_m(const oc_wino_plan *p, const int M, const float *mm, int64_t xstride,
                  int64_t ldk, int64_t first, int64_t count, int64_t k0, int64_t kcount,
                  const float *bias, const float *sum, float lo, float hi, float *y)
{
    enum { AMAX = 8, MMAX = 6 };
    const int A = M + 2;
    int64_t plane = p->ho * p->wo;
    _Alignas(64) float o[MMAX * MMAX][LANES];
    oc_vf s[AMAX * AMAX], t[MMAX * AMAX], r[MMAX * MMAX];
    tile_pos pos[LANES];
    for (int64_t g = 0; g < count; g += LANES) {
        int n = count - g < LANES ? (int)(count - g) : LANES;
        coords(p, first + g, n, pos);
#ifdef ROW_FAST
        out_plan4 op;
        if (M == 4 && out_plan4_of(p, p->k * plane, pos, n, &op)) {
            __m512 lov = _mm512_set1_ps(lo), hiv = _mm512_set1_ps(hi);
            for (int64_t kk = 0; kk < kcount; kk++)
                output_group4(mm + kk * ldk + g, xstride, &op, y + (k0 + kk) * plane,
                              sum ? sum + (k0 + kk) * plane : NULL,
                              _mm512_set1_ps(bias ? bias[k0 + kk] : 0.0f), lov, hiv);
            continue;
        }
#endif
        for (int64_t kk = 0; kk < kcount; kk++) {
            const float *src = mm + kk * ldk + g;
            oc_vf b = oc_vset1(bias ? bias[k0 + kk] : 0.0f);
            for (int q = 0; q < NV; q++) {
                for (int xi = 0; xi < A * A; xi++)
                    s[xi] = oc_vloadu(src + xi * xstride + q * OC_VL);
                for (int j = 0; j < A; j++) { /* columns: t[i][j], i < M */
                    if (M == 2)
                        out2(&t[j], A, &s[j], A);
                    else if (M == 4)
                        out4(&t[j], A, &s[j], A);
                    else
                        out6(&t[j], A, &s[j], A);
                }
                for (int i = 0; i < M; i++) { /* rows: r[i][j], j < M */
                    if (M == 2)
                        out2(&r[i * M], 1, &t[i * A], 1);
                    else if (M == 4)
                        out4(&r[i * M], 1, &t[i * A], 1);
                    else
                        out6(&r[i * M], 1, &t[i * A], 1);
                }
                for (int i = 0; i < M * M; i++) r[i] = r[i] + b;
                for (int i = 0; i < M * M; i++) oc_vstore(o[i] + q * OC_VL, r[i]);
            }
            scatter(p, M, y + (k0 + kk) * plane, sum ? sum + (k0 + kk) * plane : NULL,
                    p->k * plane, pos, n, o, lo, hi);
        }
    }
}

void OC_ISA_SYM(oc_wino_output)(const oc_wino_plan *p, const float *mm, int64_t xstride,
                                int64_t ldk, int64_t first, int64_t count, int64_t k0,
                                int64_t kcount, const float *bias, const float *sum, float lo,
                                float hi, float *y)
{
    if (p->m == 2)
        output_m(p, 2, mm, xstride, ldk, first, count, k0, kcount, bias, sum, lo, hi, y);
    else if (p->m == 4)
        output_m(p, 4, mm, xstride, ldk, first, count, k0, kcount, bias, sum, lo, hi, y);
    else
        output_m(p, 6, mm, xstride, ldk, first, count, k0, kcount, bias, sum, lo, hi, y);
}

/* ---- the products, for few input channels ---- */

/* Register blocking: R output channels x NT vectors of tiles, the
 * accumulators in registers. Wide units take MUL_R x MUL_NT blocks; the
 * leftover columns (one or two vectors, as in the few tiles of a small
 * image) more rows at a time, so that loads and broadcasts stay few per
 * FMA. */
#if OC_VREGS >= 32
#define MUL_R 8
#define MUL_NT 3
#define MUL_R2 12 /* x 2 vectors */
#define MUL_R1 16 /* x 1 vector */
#else
#define MUL_R 4
#define MUL_NT 2
#define MUL_R2 4
#define MUL_R1 8
#endif
#define MUL_RMAX 16

/* mx[i * ldk + j * VL] (i < R, j < NT) = sum_c ux[i * cv + c] * vx[c * vs + j * VL]. */
INL void mul_block(const int R, const int NT, const float *ux, int64_t cv, const float *vx,
                   int64_t vs, float *mx, int64_t ldk)
{
    oc_vf acc[MUL_RMAX][MUL_NT > 2 ? MUL_NT : 2];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < NT; j++) acc[i][j] = oc_vzero();
    for (int64_t c = 0; c < cv; c++) {
        oc_vf b[MUL_NT > 2 ? MUL_NT : 2];
        for (int j = 0; j < NT; j++) b[j] = oc_vloadu(vx + c * vs + j * OC_VL);
        for (int i = 0; i < R; i++) {
            oc_vf a = oc_vbcast(ux + i * cv + c);
            for (int j = 0; j < NT; j++) acc[i][j] = oc_vfma(a, b[j], acc[i][j]);
        }
    }
    for (int i = 0; i < R; i++)
        for (int j = 0; j < NT; j++) oc_vstoreu(mx + i * ldk + j * OC_VL, acc[i][j]);
}

/* Rows [0, kn) for NT vectors of tiles: R rows at a time, then 4, then 1. */
INL void mul_rows(const int R, const int NT, const float *ux, int64_t cv, const float *vx,
                  int64_t vs, int64_t kn, float *mx, int64_t ldk)
{
    int64_t k = 0;
    for (; k + R <= kn; k += R) mul_block(R, NT, ux + k * cv, cv, vx, vs, mx + k * ldk, ldk);
    for (; k + 4 <= kn; k += 4) mul_block(4, NT, ux + k * cv, cv, vx, vs, mx + k * ldk, ldk);
    for (; k < kn; k++) mul_block(1, NT, ux + k * cv, cv, vx, vs, mx + k * ldk, ldk);
}

/* A last vector of at most OC_WINO_NARROW tiles (ResNet-18's and
 * GoogLeNet's 28 x 28 outputs: 49 tiles = 3 x 16 + 1): the tiles' columns
 * of V gathered, then per output channel a dot product with its row of U,
 * cv / VL FMAs a tile instead of cv for the whole vector. Lanes past the
 * tiles are stored as 0. */
#define NARROW_DEPTH 512
#define NARROW_ROWS 4

INL void mul_narrow_rows(const int J, const int R, const float *ux, int64_t cv,
                         const float *col, float *mx, int64_t ldk)
{
    oc_vf acc[NARROW_ROWS][OC_WINO_NARROW];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < J; j++) acc[i][j] = oc_vzero();
    for (int64_t c = 0; c < cv; c += OC_VL) {
        int n = cv - c < OC_VL ? (int)(cv - c) : OC_VL; /* col is zero past cv */
        oc_vf b[OC_WINO_NARROW];
        for (int j = 0; j < J; j++) b[j] = oc_vloadu(col + j * NARROW_DEPTH + c);
        for (int i = 0; i < R; i++) {
            oc_vf a = n == OC_VL ? oc_vloadu(ux + i * cv + c) : oc_vloadu_n(ux + i * cv + c, n);
            for (int j = 0; j < J; j++) acc[i][j] = oc_vfma(a, b[j], acc[i][j]);
        }
    }
    for (int i = 0; i < R; i++) {
        float row[OC_VL > OC_WINO_NARROW ? OC_VL : OC_WINO_NARROW] = {0}; /* J < VL */
        for (int j = 0; j < J; j++) row[j] = oc_vhsum(acc[i][j]);
        oc_vstoreu(mx + i * ldk, oc_vloadu(row));
    }
}

INL void mul_narrow(const int J, const float *ux, int64_t cv, const float *vx, int64_t vs,
                    int64_t kn, float *mx, int64_t ldk)
{
    float col[OC_WINO_NARROW][NARROW_DEPTH];
    int64_t padded = (cv + OC_VL - 1) / OC_VL * OC_VL;
    for (int j = 0; j < J; j++) {
        for (int64_t c = 0; c < cv; c++) col[j][c] = vx[c * vs + j];
        for (int64_t c = cv; c < padded; c++) col[j][c] = 0.0f;
    }
    int64_t k = 0;
    for (; k + NARROW_ROWS <= kn; k += NARROW_ROWS)
        mul_narrow_rows(J, NARROW_ROWS, ux + k * cv, cv, col[0], mx + k * ldk, ldk);
    for (; k < kn; k++) mul_narrow_rows(J, 1, ux + k * cv, cv, col[0], mx + k * ldk, ldk);
}

/* One instance per tile count, each with its accumulators in registers. */
#define MUL_NARROW_N(J)                                                                     \
    static OC_NOINLINE void mul_narrow_##J(const float *ux, int64_t cv, const float *vx,   \
                                           int64_t vs, int64_t kn, float *mx, int64_t ldk) \
    {                                                                                       \
        mul_narrow(J, ux, cv, vx, vs, kn, mx, ldk);                                         \
    }
MUL_NARROW_N(1)
MUL_NARROW_N(2)
MUL_NARROW_N(3)
MUL_NARROW_N(4)

static bool mul_narrow_n(int64_t tiles, const float *ux, int64_t cv, const float *vx,
                         int64_t vs, int64_t kn, float *mx, int64_t ldk)
{
    if (tiles < 1 || cv > NARROW_DEPTH) return false;
    switch (tiles) {
    case 1: mul_narrow_1(ux, cv, vx, vs, kn, mx, ldk); return true;
    case 2: mul_narrow_2(ux, cv, vx, vs, kn, mx, ldk); return true;
    case 3: mul_narrow_3(ux, cv, vx, vs, kn, mx, ldk); return true;
    case 4: mul_narrow_4(ux, cv, vx, vs, kn, mx, ldk); return true;
    default: return false;
    }
}

void OC_ISA_SYM(oc_wino_multiply)(const oc_wino_plan *p, const float *u, int64_t k0,
                                  int64_t kn, const oc_wino_v *v, int64_t s, float *mm,
                                  int64_t xstride, int64_t ldk)
{
    int64_t cv = p->cv, tiles = oc_wino_sub_count(v, s);
    oc_gemm_b_layout lay = oc_wino_sub_layout(p, v, s);
    /* One K slice: panel after panel of lay.nr tiles, each [cv][width]. */
    for (int64_t first = 0; first < (int64_t)lay.n; first += (int64_t)lay.nr) {
        int64_t left = (int64_t)lay.n - first, vl = (int64_t)lay.vl;
        int64_t width = left >= (int64_t)lay.nr ? (int64_t)lay.nr : (left + vl - 1) / vl * vl;
        for (int xi = 0; xi < p->p; xi++) {
            const float *ux = u + ((int64_t)xi * p->k + k0) * cv;
            const float *vx = oc_wino_block(p, v, s, xi) + oc_gemm_b_offset(&lay, 0, (size_t)first);
            float *mx = mm + xi * xstride + first;
            int64_t t = 0;
            for (; t + MUL_NT * OC_VL <= width; t += MUL_NT * OC_VL)
                mul_rows(MUL_R, MUL_NT, ux, cv, vx + t, width, kn, mx + t, ldk);
            if (MUL_NT > 2 && t + 2 * OC_VL <= width) {
                mul_rows(MUL_R2, 2, ux, cv, vx + t, width, kn, mx + t, ldk);
                t += 2 * OC_VL;
            }
            for (; t < width; t += OC_VL) {
                int64_t in_vector = tiles - first - t;
                if (in_vector <= OC_WINO_NARROW && in_vector < OC_VL &&
                    mul_narrow_n(in_vector, ux, cv, vx + t, width, kn, mx + t, ldk))
                    continue;
                mul_rows(MUL_R1, 1, ux, cv, vx + t, width, kn, mx + t, ldk);
            }
        }
    }
}

/* u[xi][k][vc] for every kernel, A = m + 2 a constant so that the small
 * products unroll. An output channel at a time, in double: its 3x3 pieces
 * are gathered channel-innermost (g[9][cv]), the row pass gives t[A][3][cv]
 * and the column pass writes each position's cv floats straight into u.
 * Every pass is a loop over cv that the compiler vectorizes; kernel by
 * kernel (A^2 scattered writes each) the transform was most of ResNet-18's
 * load time. Compiled per instruction set for wider vectors; without FP
 * contraction (ISO C) every set gives the same floats. */
static inline __attribute__((always_inline)) void weights_a(const int A, int64_t k, int64_t c,
                                                           int64_t kh, int64_t kw,
                                                           const double *gm, const float *w,
                                                           float *u, double *tmp)
{
    int64_t subs_w = (kw + 2) / 3, pieces = (kh + 2) / 3 * subs_w, cv = c * pieces;
    double *g = tmp, *t = tmp + 9 * cv;
    for (int64_t ko = 0; ko < k; ko++) {
        for (int64_t piece = 0; piece < pieces; piece++) {
            /* The piece's 3x3 window of the kernel, zero past its edge. */
            int64_t r0 = 3 * (piece / subs_w), c0 = 3 * (piece % subs_w);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    double *restrict dst = g + (i * 3 + j) * cv + piece * c;
                    if (r0 + i >= kh || c0 + j >= kw) {
                        for (int64_t ci = 0; ci < c; ci++) dst[ci] = 0.0;
                        continue;
                    }
                    const float *restrict src = w + ko * c * kh * kw + (r0 + i) * kw + c0 + j;
                    for (int64_t ci = 0; ci < c; ci++) dst[ci] = src[ci * kh * kw];
                }
        }
        for (int i = 0; i < A; i++)
            for (int j = 0; j < 3; j++) {
                double a0 = gm[i * 3], a1 = gm[i * 3 + 1], a2 = gm[i * 3 + 2];
                const double *restrict g0 = g + j * cv, *restrict g1 = g + (3 + j) * cv,
                                       *restrict g2 = g + (6 + j) * cv;
                double *restrict ti = t + (i * 3 + j) * cv;
                for (int64_t vc = 0; vc < cv; vc++)
                    ti[vc] = a0 * g0[vc] + a1 * g1[vc] + a2 * g2[vc];
            }
        for (int i = 0; i < A; i++)
            for (int j = 0; j < A; j++) {
                double b0 = gm[j * 3], b1 = gm[j * 3 + 1], b2 = gm[j * 3 + 2];
                const double *restrict t0 = t + i * 3 * cv, *restrict t1 = t0 + cv,
                                       *restrict t2 = t1 + cv;
                float *restrict row = u + ((int64_t)(i * A + j) * k + ko) * cv;
                for (int64_t vc = 0; vc < cv; vc++)
                    row[vc] = (float)(t0[vc] * b0 + t1[vc] * b1 + t2[vc] * b2);
            }
    }
}

void OC_ISA_SYM(oc_wino_weights)(int a, int64_t k, int64_t c, int64_t kh, int64_t kw,
                                 const double *g, const float *w, float *u, double *tmp)
{
    if (a == 4)
        weights_a(4, k, c, kh, kw, g, w, u, tmp);
    else if (a == 6)
        weights_a(6, k, c, kh, kw, g, w, u, tmp);
    else
        weights_a(8, k, c, kh, kw, g, w, u, tmp);
}
