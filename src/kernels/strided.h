/* Data movement by element size: strided views and transposes.
 *
 * One engine serves Slice (start offset, step strides, possibly negative),
 * Split (an offset along one axis), Expand (stride 0 on broadcast dims) and
 * Transpose (permuted strides). Elements are moved as bytes, so any
 * fixed-size type works; 1-, 2-, 4- and 8-byte elements get their own loops.
 *
 * The kernels know nothing of the IR and check nothing: the op has checked
 * that every element they address lies inside the source. */
#ifndef OC_KERNELS_STRIDED_H
#define OC_KERNELS_STRIDED_H

#include <stddef.h>
#include <stdint.h>

#define OC_STRIDED_MAX_RANK 8

/* dst, dense and row-major over dims[0..rank), receives for each index
 * (i_0, ..., i_{rank-1}) the element of src at sum_k i_k * strides[k]
 * elements from src (strides may be 0 or negative; src addresses index 0).
 * rank <= OC_STRIDED_MAX_RANK; rank 0 copies one element.
 *
 * The fast version drops unit dims, merges dims that walk memory
 * contiguously, copies contiguous runs with memcpy, repeats one element for
 * an innermost stride of 0, and copies in square tiles when the source's
 * contiguous dim is not the destination's (a transpose), so that neither
 * side strides through memory a cache line per element. */
void oc_strided_copy(void *dst, const void *src, size_t elem_size, int rank, const int64_t *dims,
                     const int64_t *strides);
/* The reference: one element at a time, its source offset computed from scratch. */
void oc_strided_copy_ref(void *dst, const void *src, size_t elem_size, int rank,
                         const int64_t *dims, const int64_t *strides);

/* dst = src (dense, dims in_dims) transposed: output axis k is input axis
 * perm[k]; perm is a permutation of 0..rank-1. Through oc_strided_copy. */
void oc_transpose(void *dst, const void *src, size_t elem_size, int rank, const int64_t *in_dims,
                  const int *perm);
/* The reference: for each output element, its input coordinates one by one. */
void oc_transpose_ref(void *dst, const void *src, size_t elem_size, int rank,
                      const int64_t *in_dims, const int *perm);

#endif
