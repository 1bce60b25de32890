/* Run-time ISA detection (see cpu.h): asked on every call, capped by the
 * environment variable ONNXC_MAX_ISA (portable, avx2 or avx512), which tests
 * set to run every kernel set on one machine. */
#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The highest ISA ONNXC_MAX_ISA allows (any case; every one when unset or
 * unknown). Read once: a constant of the process, like the CPU's own
 * features (the threads that race to read it first all find the same). */
static oc_isa read_max_isa(void)
{
    const char *cap = getenv("ONNXC_MAX_ISA");
    if (cap)
        for (int i = 0; i < OC_ISA_COUNT; i++)
            if (strcasecmp(cap, oc_isa_name((oc_isa)i)) == 0) return (oc_isa)i;
    return (oc_isa)(OC_ISA_COUNT - 1);
}

static oc_isa max_isa(void)
{
    static _Atomic int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        v = (int)read_max_isa();
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return (oc_isa)v;
}

bool oc_isa_compiled(oc_isa isa)
{
    switch (isa) {
    case OC_ISA_PORTABLE:
        return true;
    case OC_ISA_AVX2:
#ifdef OC_HAVE_AVX2
        return true;
#else
        return false;
#endif
    case OC_ISA_AVX512:
#ifdef OC_HAVE_AVX512
        return true;
#else
        return false;
#endif
    default:
        return false;
    }
}

bool oc_isa_supported(oc_isa isa)
{
    if (!oc_isa_compiled(isa) || isa > max_isa()) return false;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    /* Idempotent: libgcc runs the detection once (normally in a constructor)
     * and returns at once afterwards. */
    __builtin_cpu_init();
    switch (isa) {
    case OC_ISA_PORTABLE:
        return true;
    case OC_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case OC_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
        return false;
    }
#else
    return isa == OC_ISA_PORTABLE;
#endif
}

oc_isa oc_isa_best(void)
{
    for (int i = OC_ISA_COUNT - 1; i > 0; i--)
        if (oc_isa_supported((oc_isa)i)) return (oc_isa)i;
    return OC_ISA_PORTABLE;
}

oc_isa oc_isa_resolve(oc_isa isa)
{
    if (isa < 0 || isa >= OC_ISA_COUNT) return oc_isa_best();
    for (int i = isa; i > 0; i--)
        if (oc_isa_supported((oc_isa)i)) return (oc_isa)i;
    return OC_ISA_PORTABLE;
}

const char *oc_isa_name(oc_isa isa)
{
    switch (isa) {
    case OC_ISA_PORTABLE: return "portable";
    case OC_ISA_AVX2: return "avx2";
    case OC_ISA_AVX512: return "avx512";
    default: return "auto";
    }
}
