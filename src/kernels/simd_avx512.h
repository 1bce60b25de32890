/* The SIMD mapping for AVX-512 (F, VL, DQ, BW): 16 floats a vector, 32 registers. */
#ifndef OC_KERNELS_SIMD_AVX512_H
#define OC_KERNELS_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define OC_ISA_SUFFIX avx512
#define OC_VL 16
#define OC_VREGS 32

typedef __m512 oc_vf;

static OC_ALWAYS_INLINE oc_vf oc_vzero(void) { return _mm512_setzero_ps(); }
static OC_ALWAYS_INLINE oc_vf oc_vset1(float x) { return _mm512_set1_ps(x); }
static OC_ALWAYS_INLINE oc_vf oc_vbcast(const float *p) { return _mm512_set1_ps(*p); }
static OC_ALWAYS_INLINE oc_vf oc_vload(const float *p) { return _mm512_load_ps(p); }
static OC_ALWAYS_INLINE oc_vf oc_vloadu(const float *p) { return _mm512_loadu_ps(p); }
static OC_ALWAYS_INLINE __mmask16 oc_vmask_(int n) { return (__mmask16)((1u << n) - 1u); }
static OC_ALWAYS_INLINE oc_vf oc_vloadu_n(const float *p, int n)
{
    return _mm512_maskz_loadu_ps(oc_vmask_(n), p);
}
static OC_ALWAYS_INLINE void oc_vstore(float *p, oc_vf v) { _mm512_store_ps(p, v); }
static OC_ALWAYS_INLINE void oc_vstoreu(float *p, oc_vf v) { _mm512_storeu_ps(p, v); }
static OC_ALWAYS_INLINE void oc_vstoreu_n(float *p, oc_vf v, int n)
{
    _mm512_mask_storeu_ps(p, oc_vmask_(n), v);
}
/* Lanes [lane, lane + n) in place, addressed from lane 0's (integer
 * arithmetic: that address may lie before the buffer; masked lanes are
 * never accessed). */
static OC_ALWAYS_INLINE __mmask16 oc_vmask_lanes_(int lane, int n)
{
    return (__mmask16)(((1u << n) - 1u) << lane);
}
static OC_ALWAYS_INLINE float *oc_lane0_(const float *q, int lane)
{
    return (float *)((uintptr_t)q - (uintptr_t)lane * sizeof(float));
}
static OC_ALWAYS_INLINE oc_vf oc_vloadu_lanes(const float *q, int lane, int n)
{
    return _mm512_maskz_loadu_ps(oc_vmask_lanes_(lane, n), oc_lane0_(q, lane));
}
static OC_ALWAYS_INLINE void oc_vstoreu_lanes(float *q, oc_vf v, int lane, int n)
{
    _mm512_mask_storeu_ps(oc_lane0_(q, lane), oc_vmask_lanes_(lane, n), v);
}
static OC_ALWAYS_INLINE oc_vf oc_vadd(oc_vf a, oc_vf b) { return _mm512_add_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vmul(oc_vf a, oc_vf b) { return _mm512_mul_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vfma(oc_vf a, oc_vf b, oc_vf c) { return _mm512_fmadd_ps(a, b, c); }
/* MAXPS/MINPS compute a > b ? a : b (a < b ? a : b): the second operand when either is NaN. */
static OC_ALWAYS_INLINE oc_vf oc_vmax(oc_vf a, oc_vf b) { return _mm512_max_ps(a, b); }
static OC_ALWAYS_INLINE oc_vf oc_vmin(oc_vf a, oc_vf b) { return _mm512_min_ps(a, b); }
static OC_ALWAYS_INLINE float oc_vhsum(oc_vf v)
{
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}
static OC_ALWAYS_INLINE void oc_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

#endif
