/* Run-time ISA detection (see cpu.h): no state, asked on every call. */
#include "cpu.h"

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
    if (!oc_isa_compiled(isa)) return false;
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
