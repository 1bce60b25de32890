/* Load-time graph optimizations (optimize.c). */
#ifndef OC_OPTIMIZE_H
#define OC_OPTIMIZE_H

#include "ir.h"

/* Rewrites a linked, statically inferred model before its weights are
 * packed (onnxc_model_options.optimize):
 *   - Identity, and Dropout in inference mode, are bypassed;
 *   - BatchNormalization right after a Conv is folded into the Conv's
 *     weights and bias (the BN node stays, as a folded node computing
 *     them, so that a session overriding an IR < 4 initializer recomputes
 *     them like any other folded value);
 *   - Relu, and Clip with constant bounds, right after a Conv or Gemm are
 *     fused into it (node->fused).
 * Graph output names never change; a node and its error messages keep their
 * name. Fills m->optimized and re-orders the graph when anything changed. */
onnxc_status *oc_optimize(onnxc_model *m);

#endif
