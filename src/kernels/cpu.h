/* Which instruction-set variant of the numeric kernels runs.
 *
 * Kernels written once against the mapping in simd.h are compiled several
 * times, once per ISA (see meson.build); the callers pick one at run time.
 * Detection keeps no state of its own: oc_isa_best() asks the CPU (through
 * GCC's __builtin_cpu_supports, whose data libgcc fills once, before main or
 * at dlopen, and which also checks that the OS saves the wider registers)
 * on every call. That costs a few loads and a compare, nothing next to a
 * kernel call, and is safe from any thread. */
#ifndef OC_KERNELS_CPU_H
#define OC_KERNELS_CPU_H

#include <stdbool.h>

typedef enum oc_isa {
    OC_ISA_AUTO = -1,    /* the best one this CPU runs (oc_isa_best) */
    OC_ISA_PORTABLE = 0, /* plain C (GNU vector extensions when available) */
    OC_ISA_AVX2 = 1,     /* x86-64 AVX2 + FMA */
    OC_ISA_AVX512 = 2,   /* x86-64 AVX-512 F/VL/DQ/BW */
    OC_ISA_COUNT = 3
} oc_isa;

/* The variant was compiled into this build (-Dsimd=false keeps only the portable one). */
bool oc_isa_compiled(oc_isa isa);
/* Compiled, and this CPU (and OS) can run it. */
bool oc_isa_supported(oc_isa isa);
/* The fastest supported variant. */
oc_isa oc_isa_best(void);
/* OC_ISA_AUTO resolved to oc_isa_best(); an unsupported one to the best
 * supported below it. */
oc_isa oc_isa_resolve(oc_isa isa);
/* "portable", "avx2", "avx512". */
const char *oc_isa_name(oc_isa isa);

#endif
