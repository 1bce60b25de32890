/*
 * onnxc: an ONNX model importer and CPU interpreter.
 *
 * The whole public API. Handles are opaque; every fallible call returns an
 * onnxc_status pointer that is NULL on success and otherwise carries a code
 * and a message naming what went wrong and where. The caller frees a non-NULL
 * status with onnxc_status_free. The library keeps no global state.
 *
 * A loaded onnxc_model is immutable: several sessions, in several threads,
 * may share it. A session is used by one thread at a time.
 */
#ifndef ONNXC_H
#define ONNXC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols the shared library exports; everything else stays hidden. */
#if defined(ONNXC_BUILDING) && defined(__GNUC__)
#define ONNXC_API __attribute__((visibility("default")))
#else
#define ONNXC_API
#endif

#define ONNXC_VERSION_MAJOR 0
#define ONNXC_VERSION_MINOR 1
#define ONNXC_VERSION_PATCH 0
#define ONNXC_VERSION_STRING "0.1.0"

/* The library's version string, e.g. "0.1.0". */
ONNXC_API const char *onnxc_version(void);

/* ---- status -------------------------------------------------------------- */

typedef enum onnxc_code {
    ONNXC_OK = 0,
    ONNXC_ERR_ARGUMENT,    /* API misuse: NULL handle, bad index, bound tensor of wrong type or shape */
    ONNXC_ERR_IO,          /* a file could not be opened or read */
    ONNXC_ERR_PARSE,       /* the bytes are not a decodable ONNX protobuf */
    ONNXC_ERR_MODEL,       /* the model decodes but is invalid */
    ONNXC_ERR_UNSUPPORTED, /* valid ONNX that onnxc does not implement */
    ONNXC_ERR_MEMORY,      /* an allocation failed */
    ONNXC_ERR_LIMIT,       /* a resource limit would be exceeded */
    ONNXC_ERR_STATE,       /* a call out of order, e.g. reading outputs before a run */
    ONNXC_ERR_INTERNAL     /* a bug in onnxc */
} onnxc_code;

typedef struct onnxc_status onnxc_status;

/* ONNXC_OK for a NULL status. */
ONNXC_API onnxc_code onnxc_status_code(const onnxc_status *status);
/* "ok" for a NULL status; valid until the status is freed. */
ONNXC_API const char *onnxc_status_message(const onnxc_status *status);
/* Frees a status; NULL is allowed. */
ONNXC_API void onnxc_status_free(onnxc_status *status);
/* A short name for a code, e.g. "invalid model". */
ONNXC_API const char *onnxc_code_name(onnxc_code code);

/* ---- element types (the values of ONNX TensorProto.DataType) -------------- */

typedef enum onnxc_dtype {
    ONNXC_DTYPE_UNDEFINED = 0,
    ONNXC_DTYPE_FLOAT = 1,
    ONNXC_DTYPE_UINT8 = 2,
    ONNXC_DTYPE_INT8 = 3,
    ONNXC_DTYPE_UINT16 = 4,
    ONNXC_DTYPE_INT16 = 5,
    ONNXC_DTYPE_INT32 = 6,
    ONNXC_DTYPE_INT64 = 7,
    ONNXC_DTYPE_STRING = 8,
    ONNXC_DTYPE_BOOL = 9,
    ONNXC_DTYPE_FLOAT16 = 10,
    ONNXC_DTYPE_DOUBLE = 11,
    ONNXC_DTYPE_UINT32 = 12,
    ONNXC_DTYPE_UINT64 = 13
} onnxc_dtype;

/* "float32", "int64", ...; "unknown" for values onnxc does not know. */
ONNXC_API const char *onnxc_dtype_name(int dtype);
/* Bytes per element; 0 for types onnxc cannot hold in a tensor (string, undefined, unknown). */
ONNXC_API size_t onnxc_dtype_size(int dtype);

/* ---- models -------------------------------------------------------------- */

typedef struct onnxc_model onnxc_model;

/* The defaults of the resource limits below (the meaning of 0 in a limit
 * field). A model or session that would exceed a limit fails with
 * ONNXC_ERR_LIMIT before the memory is allocated. */
#define ONNXC_DEFAULT_MAX_BYTES ((uint64_t)2 << 30)           /* 2 GiB, for a model */
#define ONNXC_DEFAULT_SESSION_MAX_BYTES ((uint64_t)1 << 30)   /* 1 GiB, for a session */
#define ONNXC_DEFAULT_MAX_ELEMENTS ((uint64_t)INT32_MAX)      /* 2^31 - 1 */
#define ONNXC_MAX_RANK 8                                      /* the default and the largest max_rank */
#define ONNXC_DEFAULT_MAX_OPS ((uint64_t)1 << 36)             /* about 6.9e10: VGG-16 at batch 4 */

typedef struct onnxc_model_options {
    /* Graph optimizations at load; 1 = on (default), 0 = off. They fold
     * BatchNormalization into the preceding Conv, fuse an Add of a Conv's
     * output and a tensor of the same shape (a residual connection) into the
     * Conv, fuse Relu and Clip (with constant bounds) into the preceding Conv
     * or Gemm, and bypass Identity, inference-mode Dropout and pools of
     * single-element windows. Outputs, their names and overridable
     * initializers behave the same either way (float results may differ by
     * rounding where BatchNormalization is folded). */
    int optimize;
    /* The largest rank of any tensor (declared, stored or inferred), 1 to
     * ONNXC_MAX_RANK; 0 = ONNXC_MAX_RANK. */
    int max_rank;
    /* The most elements any one tensor of the model or its sessions may have;
     * 0 = ONNXC_DEFAULT_MAX_ELEMENTS. */
    uint64_t max_elements;
    /* The most bytes the model may hold while loading and after: the decoded
     * protobuf, every tensor (weights, also those left in the file or mapped
     * from external data), folded constants and prepared weights;
     * 0 = ONNXC_DEFAULT_MAX_BYTES. (Bookkeeping that grows with the node
     * count and is freed before the load returns is not counted.) */
    uint64_t max_bytes;
    /* The most work computing constants at load may take, and the default
     * for the model's sessions (see onnxc_session_options.max_ops);
     * 0 = ONNXC_DEFAULT_MAX_OPS. */
    uint64_t max_ops;
    /* Threads that prepare the weights (repacking, Winograd transforms) of
     * different nodes at once while loading, for the load only; 0 = one per
     * online CPU (default), 1 = the calling thread alone. The result is the
     * same for any count. */
    int threads;
} onnxc_model_options;

/* Fills *options with the defaults (limits 0: the defaults above). */
ONNXC_API void onnxc_model_options_init(onnxc_model_options *options);

/* Loads, checks and prepares a model. options may be NULL for the defaults.
 * External data (if any) is read relative to the model file's folder. */
ONNXC_API onnxc_status *onnxc_model_open_file(const char *path, const onnxc_model_options *options,
                                    onnxc_model **out_model);
/* The same from bytes in memory; the buffer may be freed once this returns. */
ONNXC_API onnxc_status *onnxc_model_open_buffer(const void *data, size_t size,
                                      const onnxc_model_options *options,
                                      onnxc_model **out_model);
/* Frees a model; NULL is allowed. Every session of the model must be freed first. */
ONNXC_API void onnxc_model_free(onnxc_model *model);

/* Describes a graph input or output. Pointers stay valid while the model lives. */
typedef struct onnxc_tensor_info {
    const char *name;
    onnxc_dtype dtype;            /* ONNXC_DTYPE_UNDEFINED when the model does not say */
    int rank;                     /* -1 when the model does not say */
    const int64_t *shape;         /* rank entries; -1 for a symbolic or unknown dim */
    const char *const *dim_names; /* rank entries: the dim_param of a symbolic dim, else NULL */
} onnxc_tensor_info;

/* The inputs a caller binds: graph inputs that are not initializers. (Inputs that
 * are also initializers, as in IR version < 4 models, keep their initializer
 * value unless bound by name.) */
ONNXC_API size_t onnxc_model_input_count(const onnxc_model *model);
ONNXC_API size_t onnxc_model_output_count(const onnxc_model *model);
ONNXC_API onnxc_status *onnxc_model_input(const onnxc_model *model, size_t index, onnxc_tensor_info *out);
ONNXC_API onnxc_status *onnxc_model_output(const onnxc_model *model, size_t index, onnxc_tensor_info *out);

/* ---- sessions ------------------------------------------------------------ */

typedef struct onnxc_session onnxc_session;

typedef struct onnxc_session_options {
    /* Threads a run uses, the caller included; 0 = one per available core. */
    int threads;
    /* 1 = time every node of every run (see onnxc_session_profile); 0 = off
     * (default; a run then reads no clock). */
    int profile;
    /* The most bytes the session may hold for a run: the planned tensors,
     * scratch, values computed while planning and copies of shape-deciding
     * inputs (bound buffers are the caller's and not counted); checked when
     * a run plans, before allocating. 0 = ONNXC_DEFAULT_SESSION_MAX_BYTES
     * (about 30 ResNet-50 images at a time). The model's max_rank and
     * max_elements apply to bound inputs and every value, and no one tensor
     * may exceed the model's max_bytes. */
    uint64_t max_bytes;
    /* The most work one run may take, estimated from the shapes when it
     * plans, before it starts: Conv, Gemm and MatMul count their
     * multiply-accumulates, pooling and LRN 8 per window element, any node
     * at least 16 per element it reads or writes (memory-bound work costs
     * about that much more per element). It keeps a model whose shapes ask
     * for hours of compute from tying up the caller. 0 = the model's max_ops. */
    uint64_t max_ops;
} onnxc_session_options;

ONNXC_API void onnxc_session_options_init(onnxc_session_options *options);

/* Creates a session that runs model. options may be NULL for the defaults. */
ONNXC_API onnxc_status *onnxc_session_create(const onnxc_model *model, const onnxc_session_options *options,
                                   onnxc_session **out_session);
ONNXC_API void onnxc_session_free(onnxc_session *session);

/* Binds an input to the caller's buffer: dtype and shape must agree with the
 * model's declaration (symbolic dims take any size >= 1, consistently across
 * inputs); nbytes must equal the element count times the element size. The
 * buffer is read during onnxc_session_run, not copied, and must stay valid
 * until then. Binding a name again replaces the earlier binding. An input's
 * contents may change between runs without rebinding; an overridden
 * initializer (see onnxc_model_input_count) must be bound again after its
 * contents change, since what the model computed from it is recomputed then. */
ONNXC_API onnxc_status *onnxc_session_bind(onnxc_session *session, const char *name, onnxc_dtype dtype,
                                 const int64_t *shape, int rank, const void *data, size_t nbytes);
/* The same, by position among the model's inputs (see onnxc_model_input). */
ONNXC_API onnxc_status *onnxc_session_bind_index(onnxc_session *session, size_t index, onnxc_dtype dtype,
                                       const int64_t *shape, int rank, const void *data,
                                       size_t nbytes);

/* Runs the model on the bound inputs. Every input must be bound. */
ONNXC_API onnxc_status *onnxc_session_run(onnxc_session *session);

/* A view of a tensor held by the session. */
typedef struct onnxc_tensor_view {
    const char *name;
    onnxc_dtype dtype;
    int rank;
    const int64_t *shape; /* rank entries */
    const void *data;     /* count elements, row-major */
    size_t count;
    size_t nbytes;
} onnxc_tensor_view;

/* An output of the last run. The view stays valid until the next run, the
 * next bind, or the session is freed. */
ONNXC_API onnxc_status *onnxc_session_output(onnxc_session *session, size_t index, onnxc_tensor_view *out);
ONNXC_API onnxc_status *onnxc_session_output_by_name(onnxc_session *session, const char *name,
                                           onnxc_tensor_view *out);

/* ---- profiling ----------------------------------------------------------- */

/* What one node did in a run of a session created with options.profile = 1. */
typedef struct onnxc_node_timing {
    const char *name;      /* the node's name; "" when the model gives none */
    const char *op_type;   /* e.g. "Conv" */
    const char *fused;     /* what the optimizer fused into the node, in the order
                            * it applies: "Add", "Relu", "Clip", "MaxPool" joined
                            * by '+' (e.g. "Add+Relu", "Relu+MaxPool"), or NULL */
    size_t node;           /* the node's position in the model's node list */
    uint64_t start_ns;     /* when it started, in nanoseconds since onnxc_session_run
                            * was called (monotonic clock; on the first run and after
                            * a shape change this includes planning) */
    uint64_t duration_ns;  /* how long it ran, wall clock, all threads */
    /* Its inputs and outputs as they were in the run: name, dtype, rank and
     * shape (dim_names NULL). An omitted optional one has name "", dtype
     * ONNXC_DTYPE_UNDEFINED and rank -1. */
    size_t n_inputs, n_outputs;
    const onnxc_tensor_info *inputs;
    const onnxc_tensor_info *outputs;
} onnxc_node_timing;

/* The nodes of the last run, in the order they ran: *records gets count
 * entries (nodes folded at load or computed while planning do not run and are
 * not listed; after a failed run, the nodes that completed before the failure).
 * The records stay valid until the next run or the session is freed.
 * ONNXC_ERR_STATE when the session was created without options.profile or
 * has not run yet. */
ONNXC_API onnxc_status *onnxc_session_profile(onnxc_session *session,
                                              const onnxc_node_timing **records, size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* ONNXC_H */
