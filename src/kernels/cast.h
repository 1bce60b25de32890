/* Element type conversion between every numeric type onnxc holds: float16,
 * float32, float64, int8..int64, uint8..uint64 and bool.
 *
 *   same type             a copy
 *   to bool               x != 0 (NaN is true)
 *   from bool             0 or 1 (any non-zero byte reads as true)
 *   float to float        round to nearest even; too large -> +-inf; NaN stays NaN
 *   float to integer      truncated toward zero; NaN -> 0; beyond the target's
 *                         range -> its minimum or maximum (ONNX leaves this
 *                         undefined and C makes it undefined behaviour; saturation
 *                         is the well-defined choice)
 *   integer to float      the nearest representable value (ties to even)
 *   integer to integer    the low bits, two's complement (as numpy and C casts)
 *
 * Data may be unaligned; src and dst must not overlap. */
#ifndef OC_KERNELS_CAST_H
#define OC_KERNELS_CAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True for the element types oc_cast converts from and to. */
bool oc_cast_supported(int dtype);

/* dst[i] = src[i] converted, for count elements. Both types supported. */
void oc_cast(void *dst, int dst_dtype, const void *src, int src_dtype, size_t count);

/* IEEE binary16 <-> binary64/binary32; the narrowing rounds to nearest even. */
uint16_t oc_half_from_double(double x);
float oc_half_to_float(uint16_t h);

#endif
