/* The SIMD mapping for AVX2 + FMA: 8 floats a vector, 16 registers. */
#ifndef OC_KERNELS_SIMD_AVX2_H
#define OC_KERNELS_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define OC_ISA_SUFFIX avx2
#define OC_VL 8
#define OC_VREGS 16

typedef __m256 oc_vf;

static OC_ALWAYS_INLINE oc_vf oc_vzero(void) { return _mm256_setzero_ps(); }
static OC_ALWAYS_INLINE oc_vf oc_vset1(float x) { return _mm256_set1_ps(x); }
static OC_ALWAYS_INLINE oc_vf oc_vbcast(const float *p) { return _mm256_broadcast_ss(p); }
static OC_ALWAYS_INLINE oc_vf oc_vload(const float *p) { return _mm256_load_ps(p); }
static OC_ALWAYS_INLINE oc_vf oc_vloadu(const float *p) { return _mm256_loadu_ps(p); }
/* Lanes [0, n) set. */
static OC_ALWAYS_INLINE __m256i oc_vmask_(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static OC_ALWAYS_INLINE oc_vf oc_vloadu_n(const float *p, int n)
{
    return _mm256_maskload_ps(p, oc_vmask_(n));
}
static OC_ALWAYS_INLINE void oc_vstore(float *p, oc_vf v) { _mm256_store_ps(p, v); }
static OC_ALWAYS_INLINE void oc_vstoreu(float *p, oc_vf v) { _mm256_storeu_ps(p, v); }
static OC_ALWAYS_INLINE void oc_vstoreu_n(float *p, oc_vf v, int n)
{
    _mm256_maskstore_ps(p, oc_vmask_(n), v);
}
/* Lanes [lane, lane + n) in place, addressed from lane 0's (integer
 * arithmetic: that address may lie before the buffer; masked lanes are
 * never accessed). */
static OC_ALWAYS_INLINE __m256i oc_vmask_lanes_(int lane, int n)
{
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lane), idx),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(lane + n), idx));
}
static OC_ALWAYS_INLINE float *oc_lane0_(const float *q, int lane)
{
    return (float *)((uintptr_t)q - (uintptr_t)lane * sizeof(float));
}
static OC_ALWAYS_INLINE oc_vf oc_vloadu_lanes(const float *q, int lane, int n)
{
    return _mm256_maskload_ps(oc_lane0_(q, lane), oc_vmask_lanes_(lane, n));
}
static OC_ALWAYS_INLINE void oc_vstoreu_lanes(float *q, oc_vf v, int lane, int n)
{
    _mm256_maskstore_ps(oc_lane0_(q, lane), oc_vmask_lanes_(lane, n), v);
}
static OC_ALWAYS_INLINE oc_vf oc_vadd(oc_vf a, oc_vf b) { return _mm256_add_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vmul(oc_vf a, oc_vf b) { return _mm256_mul_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vfma(oc_vf a, oc_vf b, oc_vf c) { return _mm256_fmadd_ps(a, b, c); }
/* MAXPS/MINPS compute a > b ? a : b (a < b ? a : b): the second operand when either is NaN. */
static OC_ALWAYS_INLINE oc_vf oc_vmax(oc_vf a, oc_vf b) { return _mm256_max_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vmin(oc_vf a, oc_vf b) { return _mm256_min_ps(a, b); }
static OC_ALWAYS_INLINE float oc_vhsum(oc_vf v)
{
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
static OC_ALWAYS_INLINE void oc_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

#endif
