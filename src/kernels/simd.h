/* The per-ISA SIMD mapping (ggml style): one vector type and a small set of
 * operations, defined once per instruction set, so that each kernel is
 * written once against them and compiled once per ISA.
 *
 * The build compiles a kernel source several times with OC_SIMD_ISA set to
 * 0 (portable), 1 (AVX2 + FMA, with -mavx2 -mfma) or 2 (AVX-512, with
 * -mavx512f -mavx512vl -mavx512dq -mavx512bw); OC_ISA_SYM(name) gives each
 * copy's symbols their own suffix. Every header provides:
 *
 *   OC_VL               floats per vector
 *   OC_VREGS            architectural vector registers (for register blocking)
 *   oc_vf               the vector type
 *   oc_vzero()          all lanes 0
 *   oc_vset1(x)         all lanes x
 *   oc_vbcast(p)        all lanes *p
 *   oc_vload(p)         VL floats from p (aligned to the vector size)
 *   oc_vloadu(p)        VL floats from p (any alignment)
 *   oc_vloadu_n(p, n)   the first n (0..VL) floats from p, the other lanes 0;
 *                       reads nothing past p[n - 1]
 *   oc_vstore(p, v), oc_vstoreu(p, v), oc_vstoreu_n(p, v, n)
 *   oc_vloadu_lanes(q, lane, n)   floats q[0 .. n) into lanes [lane, lane + n),
 *                       the other lanes 0; reads nothing else (q is where
 *                       lane `lane` comes from, lane + n <= VL)
 *   oc_vstoreu_lanes(q, v, lane, n)   lanes [lane, lane + n) of v to q[0 .. n)
 *   oc_vadd(a, b), oc_vmul(a, b)
 *   oc_vfma(a, b, c)    a * b + c (fused where the ISA has FMA)
 *   oc_vmax(a, b)       per lane a > b ? a : b (so a NaN in b comes through)
 *   oc_vmin(a, b)       per lane a < b ? a : b
 *   oc_vhsum(v)         the sum of the lanes
 *   oc_prefetch(p)      a hint to bring p's cache line into L1
 * and, for every ISA, OC_UNROLL (a pragma that fully unrolls a loop).
 */
#ifndef OC_KERNELS_SIMD_H
#define OC_KERNELS_SIMD_H

#ifndef OC_SIMD_ISA
#define OC_SIMD_ISA 0
#endif

#if defined(__GNUC__)
#define OC_ALWAYS_INLINE inline __attribute__((always_inline))
#define OC_NOINLINE __attribute__((noinline))
#else
#define OC_ALWAYS_INLINE inline
#define OC_NOINLINE
#endif

/* Fully unrolls the loop it precedes (small fixed trip counts: register
 * tiles, so that their arrays live in registers). */
#if defined(__GNUC__) && !defined(__clang__)
#define OC_UNROLL _Pragma("GCC unroll 16")
#elif defined(__clang__)
#define OC_UNROLL _Pragma("unroll")
#else
#define OC_UNROLL
#endif

#define OC_ISA_CAT_(a, b) a##_##b
#define OC_ISA_CAT(a, b) OC_ISA_CAT_(a, b)

#if OC_SIMD_ISA == 2
#include "simd_avx512.h"
#elif OC_SIMD_ISA == 1
#include "simd_avx2.h"
#else
#include "simd_portable.h"
#endif

#define OC_ISA_SYM(name) OC_ISA_CAT(name, OC_ISA_SUFFIX)

#endif
