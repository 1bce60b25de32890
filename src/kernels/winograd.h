/* Winograd convolution F(m x m, 3 x 3), m = 2, 4 or 6 (tiles of alpha x alpha
 * inputs, alpha = m + 2), for 2-D convolutions with stride 1, dilation 1
 * and one group (any padding, batch and extents):
 *
 *   Y_tile = A^T [ sum_c (G g_kc G^T) .* (B^T d_c B) ] A
 *
 * A kernel bigger than 3x3 (up to 9x9) is cut into 3x3 pieces, zero-padded:
 * piece (i, j) is a 3x3 convolution of the input shifted by (3i, 3j), so a
 * 5x5 kernel is four 3x3 ones over four "virtual" copies of each input
 * channel (36/16 x 4 = 9 multiplications an output instead of 25).
 *
 * The weights are transformed once (U = G g G^T, at load) and packed as the
 * SGEMM's left operand in chunks of KB output channels. A run cuts the
 * output into m x m tiles (the tiles of all images form one list) and
 * processes them a super-block at a time:
 *  1. input transform: V[vc][xi][t] = (B^T d B)[xi] of (virtual) channel vc
 *     of tile t (alpha^2 positions xi; the window zero outside the image);
 *  2. per unit of (up to) TB tiles x KB output channels: the alpha^2
 *     products M[xi] = U[xi] (KB x C) * V[xi] (C x TB) with SGEMM into
 *     per-thread scratch, then the output transform A^T M A, the bias and
 *     the activation, written to y clipped at the bottom and right.
 * With many tiles (big images) each thread takes whole super-blocks sized
 * so that V stays in its L2; with few (small images, where U is the big
 * operand) the threads share a super-block's units, each thread
 * transforming the super-block's input into a V of its own first (threads
 * on different core complexes read V that another one wrote at a third of
 * the speed of their own: AlexNet conv3-5 at 2 threads 10-20% faster). The
 * transforms (winograd_isa.c) work on 16
 * tiles at once, one SIMD lane a tile, compiled once per ISA; with AVX-512
 * the windows of tiles side by side are loaded and stored by transposes.
 *
 * Accuracy, as error / sum |x||w| on random data: direct summation about
 * 1e-8 on average and 1e-7 at worst; F(2,3) the same; F(4,3) about 5e-8
 * and 3e-6; F(6,3) about 1.2e-7 and 6e-6 (and a full-size GoogLeNet with
 * it misses the model suites' tolerance). So the automatic choice is
 * F(4,3), and F(2,3) on small outputs; F(6,3) stays for callers that
 * choose it (oc_conv_prepare_method). */
#ifndef OC_KERNELS_WINOGRAD_H
#define OC_KERNELS_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conv.h"
#include "core/threadpool.h"

/* The geometry is one Winograd computes: depth 1 (2-D), a kernel of 3 to 9
 * in both dims (bigger than 3 in 3x3 pieces, see winograd_isa.h), stride 1,
 * dilation 1, one group, at least one input channel. */
bool oc_winograd_applies(const oc_conv_geom *g);

/* The tile for this geometry when Winograd pays (4, or 2 for small outputs),
 * else 0. With
 * extents_known false, g's batch and extents are guesses, and only the
 * channels decide. */
int oc_winograd_choose(const oc_conv_geom *g, bool extents_known);

/* Floats of U for K x C kernels of kh x kw: (m+2)^2 * pieces * K * C;
 * false on overflow. */
bool oc_winograd_weights_count(int m, int64_t k, int64_t c, int64_t kh, int64_t kw,
                               size_t *count);
/* u[xi][k][piece * C + c] = (G g G^T)[xi], computed in double, with g the
 * piece's 3x3 window of w[k][c] (zero past the kernel), for w [K][C][kh][kw].
 * False when out of memory (it needs a buffer for one output channel). */
bool oc_winograd_weights(int m, int64_t k, int64_t c, int64_t kh, int64_t kw, const float *w,
                         float *u);

/* Output channels per chunk of packed U: a multiple of every kernel set's
 * register-tile height. */
int64_t oc_winograd_chunk(int64_t k);
/* Rows of the packed U matrices: virtual input channels (channels x pieces). */
int64_t oc_winograd_depth(const oc_conv_geom *g);
/* U stays plain for the transforms' own product (few input channels and
 * enough tiles for its widest register block), else it is packed for the
 * GEMM (which prefetches it: better when the tiles are few and U, read
 * once, comes from memory). */
bool oc_winograd_plain_u(const oc_conv_geom *g, int m);

/* Bytes of scratch oc_winograd_conv needs with threads threads; false on
 * overflow. */
bool oc_winograd_workspace(const oc_conv_geom *g, const oc_conv_weights *pw, int threads,
                           size_t *bytes);

/* y = conv(x, w) + bias + sum (sum may be NULL), then clamped to [lo, hi]
 * (see oc_conv_act), with pw's packed U. workspace holds
 * oc_winograd_workspace(g, pw, threads) bytes; the pool (may be NULL) must
 * have at most threads threads. */
void oc_winograd_conv(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                      const float *bias, const float *sum, float lo, float hi, float *y,
                      void *workspace, int threads, oc_pool *pool);

/* ---- references (winograd_ref.c): the transforms as matrix products in
 * double, and the whole convolution tile by tile with them ---- */

/* v = B^T d B for an alpha x alpha input window d (row-major). */
void oc_winograd_input_ref(int m, const double *d, double *v);
/* y = A^T v A: the m x m outputs of alpha x alpha products v. */
void oc_winograd_output_ref(int m, const double *v, double *y);
/* G ((m + 2) x 3, row-major) of F(m x m, 3x3). */
const double *oc_winograd_g(int m);
/* u = G g G^T for a 3x3 kernel g. */
void oc_winograd_kernel_ref(int m, const double *g, double *u);
/* The convolution computed with those (no activation): it differs from the
 * direct one by rounding only. */
void oc_winograd_conv_ref(const oc_conv_geom *g, int m, const float *x, const float *w,
                          const float *bias, float *y);

#endif
