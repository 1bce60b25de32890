/* Gather along one axis, by element size (any fixed-size type).
 *
 * The source is viewed as [outer, axis_dim, inner] and the destination as
 * [outer, n_indices, inner]: dst[o, j, :] = src[o, indices[j], :]. The op
 * has normalized the indices into [0, axis_dim) (negative ones wrapped,
 * out-of-range ones rejected); the kernels check nothing. */
#ifndef OC_KERNELS_GATHER_H
#define OC_KERNELS_GATHER_H

#include <stddef.h>
#include <stdint.h>

/* The fast version: one memcpy per gathered block of inner elements, with
 * single-element loops for 1-, 2-, 4- and 8-byte elements when inner is 1. */
void oc_gather(void *dst, const void *src, size_t elem_size, size_t outer, size_t axis_dim,
               size_t inner, const int64_t *indices, size_t n_indices);
/* The reference: one element at a time. */
void oc_gather_ref(void *dst, const void *src, size_t elem_size, size_t outer, size_t axis_dim,
                   size_t inner, const int64_t *indices, size_t n_indices);

#endif
