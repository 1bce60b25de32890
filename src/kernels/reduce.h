/* ReduceMean: the mean over a set of dims of a dense row-major tensor.
 *
 * The reduced dims keep extent 1 in the output's layout (keepdims drops
 * them or not; the data is the same). Element types: float32 and float64
 * sum in double and divide, so an empty reduction gives NaN; int32 and
 * int64 sum in 64-bit two's complement (wrapping like numpy) and divide
 * rounding toward zero, as numpy's mean cast back to the integer type does;
 * an empty integer reduction gives 0. */
#ifndef OC_KERNELS_REDUCE_H
#define OC_KERNELS_REDUCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OC_REDUCE_MAX_RANK 8

typedef struct oc_reduce_geom {
    int rank;                          /* 0 (a scalar) to OC_REDUCE_MAX_RANK */
    int64_t dims[OC_REDUCE_MAX_RANK];  /* the input's extents, >= 0 */
    bool reduced[OC_REDUCE_MAX_RANK];
} oc_reduce_geom;

/* True for the element types (onnxc_dtype values) the kernels take. */
bool oc_reduce_mean_supports(int dtype);

/* Bytes of scratch oc_reduce_mean needs (one 8-byte accumulator per output
 * element); SIZE_MAX when that overflows. */
size_t oc_reduce_mean_workspace(const oc_reduce_geom *g);

/* The fast version: neighbouring dims that are both reduced or both kept
 * are merged and unit dims dropped, then the input is read once, in order,
 * one innermost row at a time: a reduced row sums into one accumulator, a
 * kept row adds onto a row of accumulators. */
void oc_reduce_mean(int dtype, const oc_reduce_geom *g, const void *x, void *y,
                    void *workspace);

/* The reference: each output element sums its own input elements, found by
 * index arithmetic. */
void oc_reduce_mean_ref(int dtype, const oc_reduce_geom *g, const void *x, void *y);

#endif
