/* Runs one operator outside any model: builds an oc_node with attributes,
 * then calls the registry entry's prepare, infer and run as a session would. */
#ifndef OP_HARNESS_H
#define OP_HARNESS_H

#include "ops/ops.h"

#define OH_MAX_ATTRS 16

typedef struct oh_node {
    oc_node node;
    oc_arena arena;
    oc_attr attrs[OH_MAX_ATTRS];
    const char *input_names[16];
    const char *output_names[16];
} oh_node;

void oh_init(oh_node *h, const char *op_type, int64_t opset);
void oh_attr_int(oh_node *h, const char *name, int64_t v);
void oh_attr_float(oh_node *h, const char *name, float v);
void oh_attr_string(oh_node *h, const char *name, const char *v);
void oh_attr_ints(oh_node *h, const char *name, const int64_t *v, size_t n);
void oh_attr_floats(oh_node *h, const char *name, const float *v, size_t n);
void oh_free(oh_node *h);

/* A tensor over caller data (count/nbytes computed). */
oc_tensor oh_tensor(onnxc_dtype dtype, int rank, const int64_t *dims, void *data);

/* Prepares, infers and runs. in[i] NULL = omitted input; out[i] is filled with
 * the inferred type and freshly allocated data (free with oh_free_outputs);
 * want_out[i] false (or want_out NULL for all true) omits that output. */
onnxc_status *oh_run(oh_node *h, int n_in, const oc_tensor *const *in, int n_out, oc_tensor *out,
                     const bool *want_out);
/* The same, but the inputs whose bit is set in known (bit i for in[i]) keep
 * their data visible to shape inference, as constants and values computed
 * from shapes are in a model: for ops whose output shape depends on an
 * input's values (Reshape's shape, Slice's starts, ...). */
onnxc_status *oh_run_known(oh_node *h, int n_in, const oc_tensor *const *in, unsigned known,
                           int n_out, oc_tensor *out, const bool *want_out);
void oh_free_outputs(int n_out, oc_tensor *out);

/* Deterministic uniform values in [lo, hi). */
void oh_fill(float *p, size_t n, unsigned seed, float lo, float hi);
/* n malloc'd deterministic values in {-1, -7/8, ..., 7/8} ("dyadic"): every
 * product and partial sum of a kernel test is then exact in float32. */
float *oh_dyadic(size_t n, unsigned seed);

/* Buffers of prepared weights (the owner of an oc_conv_alloc_fn: oh_alloc),
 * freed together. */
typedef struct oh_allocs {
    void *p[16];
    int n;
} oh_allocs;
void *oh_alloc(void *owner, size_t bytes);
void oh_allocs_free(oh_allocs *a);
/* The element-wise tolerance of the ONNX test runner: |a-e| <= 1e-7 + 1e-3*|e|;
 * returns the index of the first violation or -1. */
long oh_compare(const float *actual, const float *expected, size_t n);

#endif
