/* Float32 convolution (ONNX Conv), 1-D to 3-D through one 3-D code path.
 *
 * Layouts are ONNX's: x is [batch, in_channels, D, H, W], w is
 * [out_channels, in_channels / group, kD, kH, kW], bias (optional, may be
 * NULL) is [out_channels], y is [batch, out_channels, oD, oH, oW]; lower
 * ranks use unit leading dimensions (see window.h). The caller (the op) has
 * validated the geometry: channels divisible by group, every extent >= 1,
 * out consistent with in, kernel, stride, dilation and pads, and the input
 * plane, output plane, kernel volume and in_channels / group * kernel volume
 * all fit in int64 (even when a tensor is empty). An empty y (batch or
 * out_channels 0) is no work at all; 0 input channels give y = bias (or 0)
 * without reading x or w. */
#ifndef OC_KERNELS_CONV_H
#define OC_KERNELS_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "window.h"

typedef struct oc_conv_geom {
    int64_t batch;
    int64_t in_channels;  /* of x, all groups */
    int64_t out_channels; /* of y, all groups */
    int64_t group;
    oc_window_dim dim[OC_WINDOW_DIMS]; /* depth, height, width */
} oc_conv_geom;

/* The fast version splits the work into independent units (an image and a
 * group, and for im2col a tile of output positions); a thread pool can run
 * disjoint unit ranges concurrently, each with its own workspace. */
size_t oc_conv_f32_units(const oc_conv_geom *g);

/* Bytes of scratch one caller of oc_conv_f32_run_units needs (OC_ALIGN-
 * aligned memory); false when the size overflows. */
bool oc_conv_f32_workspace(const oc_conv_geom *g, size_t *bytes);

/* Computes units [begin, end) of the convolution. */
void oc_conv_f32_run_units(const oc_conv_geom *g, const float *x, const float *w,
                           const float *bias, float *y, size_t begin, size_t end,
                           void *workspace);

/* The whole convolution on the calling thread. */
void oc_conv_f32(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                 float *y, void *workspace);

/* The reference: direct nested loops, accumulating in double. */
void oc_conv_f32_ref(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                     float *y);

#endif
