/* The portable SIMD mapping: plain C. With GCC or Clang a vector is a GNU
 * vector of 4 floats (the compiler maps it onto whatever the target has,
 * SSE2 on baseline x86-64, or scalars); otherwise a single float. */
#ifndef OC_KERNELS_SIMD_PORTABLE_H
#define OC_KERNELS_SIMD_PORTABLE_H

#include <string.h>

#define OC_ISA_SUFFIX portable
#define OC_VREGS 16

#if defined(__GNUC__)

#define OC_VL 4
typedef float oc_vf __attribute__((vector_size(16)));

static OC_ALWAYS_INLINE oc_vf oc_vzero(void) { return (oc_vf){0.0f, 0.0f, 0.0f, 0.0f}; }
static OC_ALWAYS_INLINE oc_vf oc_vset1(float x) { return (oc_vf){x, x, x, x}; }
static OC_ALWAYS_INLINE oc_vf oc_vadd(oc_vf a, oc_vf b) { return a + b; }
static OC_ALWAYS_INLINE oc_vf oc_vmul(oc_vf a, oc_vf b) { return a * b; }
static OC_ALWAYS_INLINE oc_vf oc_vfma(oc_vf a, oc_vf b, oc_vf c) { return a * b + c; }
static OC_ALWAYS_INLINE float oc_vhsum(oc_vf v) { return (v[0] + v[2]) + (v[1] + v[3]); }
static OC_ALWAYS_INLINE void oc_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#else

#define OC_VL 1
typedef float oc_vf;

static OC_ALWAYS_INLINE oc_vf oc_vzero(void) { return 0.0f; }
static OC_ALWAYS_INLINE oc_vf oc_vset1(float x) { return x; }
static OC_ALWAYS_INLINE oc_vf oc_vadd(oc_vf a, oc_vf b) { return a + b; }
static OC_ALWAYS_INLINE oc_vf oc_vmul(oc_vf a, oc_vf b) { return a * b; }
static OC_ALWAYS_INLINE oc_vf oc_vfma(oc_vf a, oc_vf b, oc_vf c) { return a * b + c; }
static OC_ALWAYS_INLINE float oc_vhsum(oc_vf v) { return v; }
static OC_ALWAYS_INLINE void oc_prefetch(const void *p) { (void)p; }

#endif

/* Lane-wise helpers, written once for both representations. */
static OC_ALWAYS_INLINE float *oc_vlanes_(oc_vf *v) { return (float *)v; }

static OC_ALWAYS_INLINE oc_vf oc_vbcast(const float *p) { return oc_vset1(*p); }
static OC_ALWAYS_INLINE oc_vf oc_vloadu(const float *p)
{
    oc_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static OC_ALWAYS_INLINE oc_vf oc_vload(const float *p) { return oc_vloadu(p); }
static OC_ALWAYS_INLINE oc_vf oc_vloadu_n(const float *p, int n)
{
    oc_vf v = oc_vzero();
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
}
static OC_ALWAYS_INLINE void oc_vstoreu(float *p, oc_vf v) { memcpy(p, &v, sizeof v); }
static OC_ALWAYS_INLINE void oc_vstore(float *p, oc_vf v) { oc_vstoreu(p, v); }
static OC_ALWAYS_INLINE void oc_vstoreu_n(float *p, oc_vf v, int n)
{
    memcpy(p, &v, (size_t)n * sizeof(float));
}
static OC_ALWAYS_INLINE oc_vf oc_vloadu_lanes(const float *q, int lane, int n)
{
    oc_vf v = oc_vzero();
    memcpy(oc_vlanes_(&v) + lane, q, (size_t)n * sizeof(float));
    return v;
}
static OC_ALWAYS_INLINE void oc_vstoreu_lanes(float *q, oc_vf v, int lane, int n)
{
    memcpy(q, oc_vlanes_(&v) + lane, (size_t)n * sizeof(float));
}
static OC_ALWAYS_INLINE oc_vf oc_vmax(oc_vf a, oc_vf b)
{
    float *x = oc_vlanes_(&a), *y = oc_vlanes_(&b);
    for (int i = 0; i < OC_VL; i++) x[i] = x[i] > y[i] ? x[i] : y[i];
    return a;
}
static OC_ALWAYS_INLINE oc_vf oc_vmin(oc_vf a, oc_vf b)
{
    float *x = oc_vlanes_(&a), *y = oc_vlanes_(&b);
    for (int i = 0; i < OC_VL; i++) x[i] = x[i] < y[i] ? x[i] : y[i];
    return a;
}

#endif
