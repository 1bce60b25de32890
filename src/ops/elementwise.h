/* The glue shared by the element-wise op families (arith.c, math_unary.c,
 * activation.c), implemented in elementwise.c: attribute and element-type
 * checks by opset, and infer/run for unary, binary (numpy or legacy
 * broadcasting) and variadic ops over the kernels of kernels/elementwise.h.
 *
 * An op is described by the opset that introduced it and the element types
 * it gained later. Types the kernels lack (float16, and any the spec never
 * allowed) are ONNXC_ERR_UNSUPPORTED; a type the op only gained at a later
 * opset than the node's makes the model invalid (ONNXC_ERR_MODEL). */
#ifndef OC_OPS_ELEMENTWISE_H
#define OC_OPS_ELEMENTWISE_H

#include "ops.h"
#include "../kernels/elementwise.h"

#define OC_EW_BIT(dtype) (1u << (dtype))
#define OC_EW_WIDE_INTS                                                          \
    (OC_EW_BIT(ONNXC_DTYPE_INT32) | OC_EW_BIT(ONNXC_DTYPE_INT64) |               \
     OC_EW_BIT(ONNXC_DTYPE_UINT32) | OC_EW_BIT(ONNXC_DTYPE_UINT64))
#define OC_EW_NARROW_INTS                                                        \
    (OC_EW_BIT(ONNXC_DTYPE_INT8) | OC_EW_BIT(ONNXC_DTYPE_INT16) |                \
     OC_EW_BIT(ONNXC_DTYPE_UINT8) | OC_EW_BIT(ONNXC_DTYPE_UINT16))
#define OC_EW_INTS (OC_EW_WIDE_INTS | OC_EW_NARROW_INTS)

typedef struct oc_ew_types {
    int since; /* the opset that introduced the op */
    struct {
        int opset;
        unsigned types; /* OC_EW_BIT()s */
    } later[2];         /* types allowed from that opset on */
} oc_ew_types;

/* ---- prepare ---- */

/* The node's opset has the op, and every attribute is one of names (plus
 * consumed_inputs before opset 6 when the op's first version had it). */
onnxc_status *oc_ew_check_node(const oc_node *n, const oc_ew_types *types,
                               const char *const *names, size_t count, bool had_consumed_inputs);

/* ---- infer ---- */

onnxc_status *oc_ew_require_input(const oc_node *n, const oc_tensor *t, const char *what);
/* what (an input) of element type dtype: implemented by the op's kernels and
 * allowed at the node's opset. */
onnxc_status *oc_ew_check_type(const oc_node *n, const oc_ew_types *types, const char *what,
                               int dtype, bool implemented);

/* ---- unary: Y has X's type and shape ---- */

typedef oc_unary_span_fn (*oc_unary_lookup)(int dtype);
typedef oc_unary_param_fn (*oc_param_lookup)(int dtype);

onnxc_status *oc_ew_unary_infer(oc_infer_ctx *ctx, const oc_ew_types *types, oc_unary_lookup kernel);
onnxc_status *oc_ew_unary_run(oc_run_ctx *ctx, oc_unary_lookup kernel);
onnxc_status *oc_ew_param_infer(oc_infer_ctx *ctx, const oc_ew_types *types, oc_param_lookup kernel);
/* The kernel with the oc_unary_params the op's prepare left in ctx->params. */
onnxc_status *oc_ew_param_run(oc_run_ctx *ctx, oc_param_lookup kernel);

/* ---- binary ---- */

typedef oc_binary_span_fn (*oc_binary_lookup)(int dtype);

/* How B lines up against A: numpy broadcasting (params NULL), or opsets
 * 1-6's rule, where B broadcasts only with broadcast=1, matching A's dims
 * from axis on (by default A's trailing dims). */
typedef struct oc_ew_binary_params {
    bool legacy;
    bool broadcast;
    bool has_axis;
    int64_t axis;
} oc_ew_binary_params;

/* Reads broadcast/axis before opset 7 into *params (else leaves it NULL) and
 * checks the node as oc_ew_check_node does. */
onnxc_status *oc_ew_binary_prepare(const oc_node *n, oc_arena *arena, void **params,
                                   const oc_ew_types *types, bool had_consumed_inputs);
/* out's dims (and a's dtype) for a op b under params. */
onnxc_status *oc_ew_binary_shape(const oc_node *n, const oc_ew_binary_params *params,
                                 const oc_tensor *a, const oc_tensor *b, oc_tensor *out);
/* Same-type A and B. */
onnxc_status *oc_ew_binary_infer(oc_infer_ctx *ctx, const oc_ew_types *types,
                                 oc_binary_lookup kernel);
onnxc_status *oc_ew_binary_run(oc_run_ctx *ctx, oc_binary_lookup kernel);
/* out = fn(a, b) where b's elements are b_data, of b_elem_size bytes (Pow
 * passes its converted exponents); shapes as checked by oc_ew_binary_shape. */
onnxc_status *oc_ew_binary_apply(const oc_node *n, const oc_ew_binary_params *params,
                                 oc_binary_span_fn fn, oc_tensor *out, const oc_tensor *a,
                                 const oc_tensor *b, const void *b_data, size_t b_elem_size);

/* ---- variadic: Sum, Mean, Max, Min (1..N inputs of one type) ---- */

/* Before opset 8 the inputs must have equal shapes; from 8 they broadcast. */
onnxc_status *oc_ew_variadic_infer(oc_infer_ctx *ctx, const oc_ew_types *types,
                                   oc_binary_lookup kernel);
/* Folds the inputs into the output with kernel: out = k(k(in0, in1), in2)... */
onnxc_status *oc_ew_variadic_run(oc_run_ctx *ctx, oc_binary_lookup kernel);

#endif
