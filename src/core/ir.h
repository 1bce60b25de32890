/* onnxc's own model representation. The loader fills it from protobuf-c
 * messages (which never leave loader.c); graph.c links names into value ids,
 * orders the nodes and infers shapes; sessions execute it. */
#ifndef OC_IR_H
#define OC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxc.h"
#include "budget.h"
#include "status.h"
#include "util.h"

#define OC_MAX_RANK 8

/* A tensor: type, shape and (when known) data. During shape inference data is
 * NULL unless the value is a constant. count and nbytes follow the shape. */
typedef struct oc_tensor {
    onnxc_dtype dtype;
    int rank;
    int64_t dims[OC_MAX_RANK];
    size_t count;
    size_t nbytes;
    void *data;
} oc_tensor;

/* Sets count and nbytes from dtype and dims; an error when a dim is negative
 * or the size overflows. */
onnxc_status *oc_tensor_set_sizes(oc_tensor *t);
/* Same dtype, rank and dims. */
bool oc_tensor_same_shape(const oc_tensor *a, const oc_tensor *b);
/* "[1, 3, 224, 224]" into buf (always NUL-terminated). */
const char *oc_shape_str(const int64_t *dims, int rank, char *buf, size_t size);
#define OC_SHAPE_STR_MAX 256

/* The declared type of a graph input, output or value_info entry. */
typedef struct oc_type_decl {
    int dtype;                             /* ONNX DataType value; 0 = not declared */
    int rank;                              /* -1 = not declared */
    int64_t dims[OC_MAX_RANK];             /* -1 = symbolic or unknown */
    const char *dim_names[OC_MAX_RANK];    /* dim_param, or NULL */
} oc_type_decl;

typedef struct oc_value_info {
    const char *name;
    oc_type_decl type;
} oc_value_info;

/* Attribute types: the values of ONNX AttributeProto.AttributeType. */
enum {
    OC_ATTR_UNDEFINED = 0,
    OC_ATTR_FLOAT = 1,
    OC_ATTR_INT = 2,
    OC_ATTR_STRING = 3,
    OC_ATTR_TENSOR = 4,
    OC_ATTR_GRAPH = 5,
    OC_ATTR_FLOATS = 6,
    OC_ATTR_INTS = 7,
    OC_ATTR_STRINGS = 8,
    OC_ATTR_TENSORS = 9,
    OC_ATTR_GRAPHS = 10,
    OC_ATTR_SPARSE_TENSOR = 11,
    OC_ATTR_SPARSE_TENSORS = 12,
    OC_ATTR_TYPE_PROTO = 13,
    OC_ATTR_TYPE_PROTOS = 14
};

typedef struct oc_attr {
    const char *name;
    int type;              /* OC_ATTR_*; graphs, sparse tensors and type protos keep only their type */
    float f;
    int64_t i;
    const char *s;         /* STRING: bytes, NUL-terminated for convenience */
    size_t s_len;
    oc_tensor *t;          /* TENSOR */
    size_t n;              /* element count of FLOATS, INTS, STRINGS, TENSORS, GRAPHS, ... */
    const float *floats;
    const int64_t *ints;
    const char *const *strings;
    const size_t *string_lens;
    oc_tensor *tensors;
} oc_attr;

struct oc_op;

/* An activation the optimizer fused into a node's producer (Conv, Gemm):
 * the op applies it to output 0. */
typedef enum oc_act_kind { OC_ACT_NONE, OC_ACT_RELU, OC_ACT_CLIP } oc_act_kind;
typedef struct oc_activation {
    oc_act_kind kind;
    float min, max; /* OC_ACT_CLIP, as Clip computes it (NaN stays NaN, min > max gives
                     * max); an absent bound is -INFINITY / INFINITY */
} oc_activation;

/* What the load-time optimizer made of a node (optimize.c). */
typedef enum oc_node_fate {
    OC_NODE_KEPT,         /* runs (or is folded) as the file says */
    OC_NODE_REMOVED,      /* Identity/Dropout bypassed, Relu/Clip fused into its producer */
    OC_NODE_FOLDED_INTO   /* BatchNormalization now computing its Conv's weights at load */
} oc_node_fate;

typedef struct oc_node {
    int index;             /* position in the file's node list */
    const char *name;      /* "" when the file gives none */
    const char *op_type;
    const char *domain;    /* "" for the default domain (also written "ai.onnx") */
    int n_inputs, n_outputs;
    const char **input_names;   /* "" = an omitted optional input */
    const char **output_names;  /* "" = an omitted optional output */
    int *inputs, *outputs;      /* value ids, -1 when omitted (graph.c) */
    int n_attrs;
    oc_attr *attrs;
    int64_t opset;              /* the model's opset of this node's domain (graph.c) */
    const struct oc_op *op;     /* resolved implementation (graph.c) */
    void *params;               /* the op's prepared parameters, in the model arena */
    oc_activation fused;        /* applied to output 0 (set by the optimizer) */
    const struct oc_node *pool; /* a MaxPool applied after that (Conv; set by the optimizer):
                                 * removed itself, it keeps its attributes and params */
    uint64_t pool_input_count;  /* with pool: the elements the Conv computes before it
                                 * (static; the work limit counts them) */
    oc_node_fate fate;          /* set by the optimizer */
} oc_node;

typedef struct oc_initializer {
    const char *name;
    oc_tensor tensor;
} oc_initializer;

typedef struct oc_opset {
    const char *domain; /* as written in the file */
    int64_t version;
} oc_opset;

typedef enum oc_value_kind {
    OC_VALUE_INPUT,        /* a graph input the caller binds */
    OC_VALUE_INITIALIZER,  /* a weight (possibly overridable, see below) */
    OC_VALUE_NODE          /* produced by a node */
} oc_value_kind;

/* A named edge of the graph. */
typedef struct oc_value {
    const char *name;
    oc_value_kind kind;
    bool overridable;          /* an initializer also listed as a graph input (IR < 4) */
    bool is_output;            /* a graph output */
    int producer;              /* node index for OC_VALUE_NODE, else -1 */
    int input_index;           /* position among bindable inputs, else -1 */
    const oc_type_decl *decl;  /* declared type, or NULL */
    const oc_tensor *constant; /* initializer data or a value folded at load, else NULL */
    bool shape_relevant;       /* its data decides some needed value's shape */
    bool shape_known;          /* type and shape inferred at load */
    oc_tensor info;            /* that type and shape (data NULL unless constant) */
} oc_value;

/* What the load-time optimizer did to a model (optimize.c); all zero when off. */
typedef struct oc_opt_stats {
    bool enabled;              /* the optimizer ran */
    int nodes_before;          /* nodes to run before it (needed, not folded) */
    int bn_into_conv;          /* BatchNormalization folded into the preceding Conv */
    int add_into_conv;         /* Add of a Conv's output and a same-shaped tensor (a residual) */
    int relu_into_conv, relu_into_gemm;
    int clip_into_conv, clip_into_gemm;
    int identity_removed, dropout_removed, pool_removed;
    int maxpool_into_conv;     /* MaxPool of a Conv's output, computed by the Conv */
} oc_opt_stats;

/* Name -> value id, keyed by a random per-model SipHash key so that crafted
 * names cannot make lookups quadratic (names.c). */
typedef struct oc_name_map {
    size_t cap;    /* power of two */
    int *slots;    /* value id, or -1 */
    uint64_t key[2];
} oc_name_map;

onnxc_status *oc_name_map_init(oc_name_map *map, size_t n);
/* The slot of name: holding its id, or -1 where it would go. */
int *oc_name_map_slot(const oc_name_map *map, const struct oc_value *values, const char *name);
/* The id of name, or -1. */
int oc_name_map_find(const oc_name_map *map, const struct oc_value *values, const char *name);
void oc_name_map_free(oc_name_map *map);

struct onnxc_model {
    oc_limits limits;          /* from the options */
    oc_budget budget;          /* the bytes the model holds, against limits.max_bytes */
    oc_arena arena;            /* every string, array and parameter block */
    void **buffers;            /* tensor data owned by the model, freed with free() */
    size_t n_buffers, cap_buffers;
    struct oc_mapping { void *addr; size_t len; } *maps; /* mmap'ed external data */
    size_t n_maps, cap_maps;
    struct oc_mapping *chunks; /* anonymous huge-page chunks oc_model_alloc carves */
    size_t n_chunks, cap_chunks;
    char *chunk_next;          /* the free part of the last chunk */
    size_t chunk_left;

    /* filled by the loader */
    int64_t ir_version, model_version;
    const char *producer_name, *producer_version, *domain, *graph_name, *path;
    int n_opsets;
    oc_opset *opsets;
    int n_nodes;
    oc_node *nodes;
    int n_initializers;
    oc_initializer *initializers;
    int n_graph_inputs, n_graph_outputs, n_value_infos;
    oc_value_info *graph_inputs, *graph_outputs, *value_infos;

    /* built by graph.c */
    int n_values;
    oc_value *values;
    oc_name_map names;         /* every value by name */
    int n_inputs, n_outputs;   /* bindable inputs and graph outputs, as value ids */
    int *inputs, *outputs;
    int n_order;               /* nodes needed by some output, in execution order */
    int *order;
    bool static_shapes;        /* every needed value's shape is known at load */
    bool *folded;              /* per node: computed at load into constants, never run */
    int n_folded;              /* nodes folded into constants (not counting the optimizer's) */
    oc_opt_stats optimized;    /* what the load-time optimizer did (optimize.c) */
    onnxc_tensor_info *input_info, *output_info;
};

/* The newest opset of the default domain onnxc knows. */
#define OC_MAX_OPSET 28

/* Registers data (from malloc) to be freed with the model; frees it and
 * fails when out of memory. */
onnxc_status *oc_model_own(onnxc_model *m, void *data);
/* An OC_ALIGN-aligned buffer of bytes (at least 1) charged to the model's
 * budget and freed with it; NULL when refused (m->budget says so) or out of
 * memory. */
void *oc_model_alloc(onnxc_model *m, size_t bytes);
/* Registers an mmap'ed region to be unmapped with the model; unmaps it and
 * fails when out of memory. */
onnxc_status *oc_model_own_map(onnxc_model *m, void *addr, size_t len);
/* The model's constant bytes [data, data + bytes) will not be read again
 * (an op packed a copy at load): where they lie in one of the model's file
 * mappings, their pages are given back to the kernel (to be read from the
 * file again if touched); with lossy, wherever they lie (the range must be
 * all of one constant's bytes, or part of them: its whole pages then read as
 * zeros). */
void oc_model_release_constant(const onnxc_model *m, const void *data, size_t bytes, bool lossy);
/* Frees everything the model owns (arena, buffers, mappings) but not m itself. */
void oc_model_release(onnxc_model *m);

/* "node 'conv1' (Conv, opset 13): " + message. */
onnxc_status *oc_node_error(const oc_node *n, onnxc_code code, const char *fmt, ...) OC_PRINTF(3, 4);
onnxc_status *oc_node_error_prefix(const oc_node *n, onnxc_status *st);

#endif
