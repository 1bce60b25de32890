/* Pad (and crop), by element size (any fixed-size type).
 *
 * Per dim, begin[k] elements are added before the input and end[k] after it;
 * a negative count removes that many instead. As in ONNX Runtime, removal
 * happens first and the added elements are taken from what is kept:
 *   constant  the value,
 *   edge      the nearest kept element,
 *   reflect   the kept elements mirrored about the first or last one
 *             (which is not repeated),
 *   wrap      the kept elements repeated periodically.
 * Output dim k = in_dims[k] + begin[k] + end[k].
 *
 * Preconditions (the op checks them; the kernels check nothing): every
 * output dim is >= 0 and no more is removed than exists; in modes other than
 * constant, a dim that gets elements added keeps at least one, and for
 * reflect fewer are added on each side than are kept. */
#ifndef OC_KERNELS_PAD_H
#define OC_KERNELS_PAD_H

#include <stddef.h>
#include <stdint.h>

#define OC_PAD_MAX_RANK 8

typedef enum oc_pad_mode { OC_PAD_CONSTANT, OC_PAD_REFLECT, OC_PAD_EDGE, OC_PAD_WRAP } oc_pad_mode;

typedef struct oc_pad_geom {
    int rank;
    int64_t in_dims[OC_PAD_MAX_RANK];
    int64_t begin[OC_PAD_MAX_RANK];
    int64_t end[OC_PAD_MAX_RANK];
    oc_pad_mode mode;
} oc_pad_geom;

/* dst (dense, the output dims) from src (dense, in_dims); value is one
 * element (elem_size bytes), read only in constant mode.
 *
 * The fast version recurses over the dims, fills whole constant blocks at
 * once and copies the kept part of each innermost row with one memcpy. */
void oc_pad(const oc_pad_geom *g, size_t elem_size, const void *src, void *dst, const void *value);
/* The reference: for each output element, its source coordinates one dim at
 * a time. */
void oc_pad_ref(const oc_pad_geom *g, size_t elem_size, const void *src, void *dst,
                const void *value);

#endif
