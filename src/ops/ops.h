/* The operator interface. Every supported (domain, op type, opset range) is
 * one entry of the table in registry.c; the functions live one op family to a
 * file in this folder. */
#ifndef OC_OPS_H
#define OC_OPS_H

#include "../core/ir.h"
#include "../core/threadpool.h"
#include "../kernels/gemm.h"

/* Shape inference: the inputs' types and shapes are known (data too, when the
 * value is a constant); the op fills each non-NULL output's dtype, rank and dims
 * and may ask for scratch memory for its run. */
typedef struct oc_infer_ctx {
    const oc_node *node;
    const void *params;
    int n_inputs;
    const oc_tensor *const *in;   /* NULL for an omitted optional input */
    int n_outputs;
    oc_tensor *const *out;        /* NULL for an omitted optional output */
    size_t workspace;             /* bytes of scratch the run needs (set by infer) */
    int threads;                  /* threads the run will have: scratch may be per thread */
} oc_infer_ctx;

/* Execution: inputs and outputs are shaped and allocated as inference said. */
typedef struct oc_run_ctx {
    const oc_node *node;
    const void *params;
    int n_inputs;
    const oc_tensor *const *in;
    int n_outputs;
    oc_tensor *const *out;
    void *workspace;              /* OC_ALIGN-aligned, at least the bytes infer asked for */
    size_t workspace_size;
    oc_pool *pool;                /* the session's threads (NULL: run on the caller) */
} oc_run_ctx;

/* Load-time preparation of a node that runs (optional): with its constant
 * inputs known it may repack weights into the layout its kernels want and
 * keep them in node->params. Called after folding, once per model; the
 * result is shared read-only by every session. An initializer listed as a
 * graph input (IR < 4 models) comes with its default data, which a session
 * may override: run must use the packed form only while ctx->in[i]->data is
 * still the pointer it was packed from. The hooks of different nodes run
 * concurrently on the load's threads: a hook changes only its own node and
 * allocates only through alloc (thread-safe, like release). */
struct oc_pack_ctx;
typedef struct oc_pack_ctx {
    oc_node *node;
    int n_inputs;
    const oc_tensor *const *in;     /* type and shape when known at load, else NULL;
                                     * data when the input is a constant */
    void *(*alloc)(void *owner, size_t bytes); /* OC_ALIGN-aligned model-owned memory */
    /* The op has packed [data, data + bytes) of constant input `input` into
     * its own copy and reads that copy from now on (run checks that
     * in[input]->data is still the pointer it packed from): the memory may
     * be given back. Pages of a file mapping are dropped (and read again
     * from the file if touched); when this node is the constant's only
     * reader, those of a copy the model made are dropped too, and then read
     * as zeros: after a release, the op must never read the original. */
    void (*release)(const struct oc_pack_ctx *ctx, int input, const void *data, size_t bytes);
    void *owner;
} oc_pack_ctx;

typedef struct oc_op {
    const char *domain;           /* "" = ai.onnx */
    const char *type;
    int since, until;             /* opset versions served, inclusive */
    int min_inputs, max_inputs;   /* max -1 = variadic */
    int min_outputs, max_outputs;
    /* At load: reads and checks the attributes into *params (allocated from
     * arena; may stay NULL). May be NULL when the op has no attributes. */
    onnxc_status *(*prepare)(const oc_node *node, oc_arena *arena, void **params);
    onnxc_status *(*infer)(oc_infer_ctx *ctx);
    onnxc_status *(*run)(oc_run_ctx *ctx);
    onnxc_status *(*pack)(oc_pack_ctx *ctx); /* optional */
    unsigned flags;               /* OC_OP_* */
} oc_op;

/* The op's outputs depend only on its inputs' types and shapes (Shape, Size):
 * they are computed during shape inference whenever those are known. */
#define OC_OP_SHAPE_ONLY 1u

/* The entry serving (domain, type) at that opset, or NULL. */
const oc_op *oc_op_find(const char *domain, const char *type, int64_t opset);
/* True when some opset of (domain, type) is served. */
bool oc_op_known(const char *domain, const char *type);
/* A bit mask of the op's inputs whose values (not only shapes) decide its
 * output shapes, e.g. Reshape's shape: bit i for input i. */
unsigned oc_op_shape_inputs(const oc_op *op);
/* The whole table, for documentation and `onnxc info`. */
const oc_op *oc_op_table(size_t *count);

/* ---- attribute access (attrs.c). Errors name the node and the attribute. ---- */

const oc_attr *oc_attr_find(const oc_node *n, const char *name);
onnxc_status *oc_attr_int(const oc_node *n, const char *name, int64_t def, int64_t *out);
onnxc_status *oc_attr_float(const oc_node *n, const char *name, float def, float *out);
/* *out points into the model (or is def); valid while the model lives. */
onnxc_status *oc_attr_string(const oc_node *n, const char *name, const char *def, const char **out);
/* Absent: *out = NULL, *count = 0. */
onnxc_status *oc_attr_ints(const oc_node *n, const char *name, const int64_t **out, size_t *count);
onnxc_status *oc_attr_floats(const oc_node *n, const char *name, const float **out, size_t *count);
/* An int attribute that must be 0 or 1 (default 0). */
onnxc_status *oc_attr_flag(const oc_node *n, const char *name, bool *out);
/* Every attribute of n is one of names[0, count): an attribute the op does
 * not define at the node's opset makes the model invalid (as the ONNX
 * checker says), rather than being silently ignored. */
onnxc_status *oc_check_attr_names(const oc_node *n, const char *const *names, size_t count);

/* ---- helpers for ops ---- */

/* Normalizes axis against rank (negative counts from the end); error when out of [-rank, rank). */
onnxc_status *oc_normalize_axis(const oc_node *n, int64_t axis, int rank, int *out);
/* Copies dtype/rank/dims of src into dst. */
void oc_tensor_copy_type(oc_tensor *dst, const oc_tensor *src);
/* Multidirectional (numpy) broadcast of a and b's shapes into out (dtype of a). */
onnxc_status *oc_broadcast_shape(const oc_node *n, const oc_tensor *a, const oc_tensor *b,
                                 oc_tensor *out);
/* Requires t's dtype to be one of the listed (terminated by 0). */
onnxc_status *oc_check_dtype(const oc_node *n, const char *what, const oc_tensor *t, ...);

/* ---- the op families (one file each) ---- */
#define OC_DECLARE_OP(name)                                                   \
    onnxc_status *oc_##name##_prepare(const oc_node *, oc_arena *, void **); \
    onnxc_status *oc_##name##_infer(oc_infer_ctx *);                         \
    onnxc_status *oc_##name##_run(oc_run_ctx *)

OC_DECLARE_OP(conv);
onnxc_status *oc_conv_pack(oc_pack_ctx *ctx);
/* The input the optimizer gives a Conv whose output an Add took (after X,
 * W and B, absent or not): added to the output before the activation. */
#define OC_CONV_SUM_INPUT 3
OC_DECLARE_OP(maxpool);
struct oc_pool_geom;
/* The pooling MaxPool node pool (prepared) does over an input shaped like x. */
onnxc_status *oc_maxpool_geometry(const oc_node *pool, const oc_tensor *x,
                                  struct oc_pool_geom *g);
/* Whether the MaxPool node pool, the only reader of Conv node conv's output,
 * is worth fusing into it: X (x), W (w) and B (b, may be NULL) shaped so that
 * the direct method computes the conv, float32, 2-D, and a window the fused
 * kernel takes. The fused Conv (conv->pool) then outputs the pooled tensor. */
bool oc_conv_takes_pool(const oc_node *conv, const oc_tensor *x, const oc_tensor *w,
                        const oc_tensor *b, const oc_node *pool);
OC_DECLARE_OP(averagepool);
OC_DECLARE_OP(globalaveragepool);
OC_DECLARE_OP(gemm);
onnxc_status *oc_gemm_pack(oc_pack_ctx *ctx);
/* Packs constant input `input` (B, 2-D, stored with rows of dims[1]), the
 * right operand of a product with op(B) k x n, for the blocked GEMM path,
 * releasing B's memory as it goes (ctx->release); rows is the left
 * operand's row count (0 when unknown at load). *packed_from stays NULL when
 * packing does not pay (a tiny classifier on a few rows streams its weights
 * in place faster). */
onnxc_status *oc_pack_weight_b(oc_pack_ctx *ctx, int input, bool trans_b, size_t k, size_t n,
                               size_t rows, oc_gemm_packed *out, const void **packed_from);
/* For a constant input `input` (2-D float B) that the product reads in place
 * (not packed): when its rows do not start on cache lines but could (whole
 * lines long), or it is 4 MB or more (2 MB pages), a copy in the model's
 * memory on a line boundary (*aligned, made from *aligned_from: run uses it
 * while the input's data is still that pointer), B's memory released; both
 * NULL when no copy is made. */
onnxc_status *oc_align_weight_b(oc_pack_ctx *ctx, int input, const float **aligned,
                                const void **aligned_from);
OC_DECLARE_OP(relu);
OC_DECLARE_OP(add);
OC_DECLARE_OP(concat);
OC_DECLARE_OP(flatten);
OC_DECLARE_OP(identity);
OC_DECLARE_OP(dropout);
OC_DECLARE_OP(sub);
OC_DECLARE_OP(mul);
OC_DECLARE_OP(div);
OC_DECLARE_OP(pow);
OC_DECLARE_OP(sum);
OC_DECLARE_OP(mean);
OC_DECLARE_OP(max);
OC_DECLARE_OP(min);
OC_DECLARE_OP(sqrt);
OC_DECLARE_OP(exp);
OC_DECLARE_OP(neg);
OC_DECLARE_OP(abs);
OC_DECLARE_OP(reciprocal);
OC_DECLARE_OP(erf);
OC_DECLARE_OP(floor);
OC_DECLARE_OP(ceil);
OC_DECLARE_OP(sigmoid);
OC_DECLARE_OP(tanh);
OC_DECLARE_OP(leakyrelu);
OC_DECLARE_OP(prelu);
OC_DECLARE_OP(elu);
OC_DECLARE_OP(selu);
OC_DECLARE_OP(hardsigmoid);
OC_DECLARE_OP(hardswish);
OC_DECLARE_OP(softplus);
OC_DECLARE_OP(clip);
OC_DECLARE_OP(batchnorm);
OC_DECLARE_OP(lrn);
OC_DECLARE_OP(softmax);
OC_DECLARE_OP(logsoftmax);
OC_DECLARE_OP(reducemean);
OC_DECLARE_OP(matmul);
onnxc_status *oc_matmul_pack(oc_pack_ctx *ctx);
OC_DECLARE_OP(shape);
OC_DECLARE_OP(constant);
OC_DECLARE_OP(constantofshape);
OC_DECLARE_OP(cast);
OC_DECLARE_OP(gather);
OC_DECLARE_OP(slice);
OC_DECLARE_OP(split);
OC_DECLARE_OP(pad);
OC_DECLARE_OP(transpose);
OC_DECLARE_OP(reshape);
OC_DECLARE_OP(unsqueeze);
OC_DECLARE_OP(squeeze);
OC_DECLARE_OP(expand);
OC_DECLARE_OP(globalmaxpool);

#endif
