/* Builds serialized ONNX models (and tensors) for tests.
 *
 * The builder fills the protobuf-c structs of onnx.pb-c.h and serializes them
 * with protobuf-c, so what it writes is exactly what an exporter would write.
 * The structs stay reachable (mb->proto, the returned node and tensor
 * pointers) so a test can also break a file on purpose: clear a name, set a
 * bad type, and so on. Anything a test stores in them must come from malloc
 * (or be NULL): mb_free releases the whole tree with protobuf-c. The lists
 * the builder appends to (nodes, attributes, initializers, ...) are kept at
 * power-of-two capacities: shrinking a count by hand is fine; replacing such
 * an array by hand before appending more is not.
 *
 * Names and data are always copied. Out of memory aborts (tests only).
 *
 *     mb_model *mb = mb_new(8, 13);
 *     int64_t dims[2] = {-1, 4};                       // -1: symbolic dim "N"
 *     mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, dims);
 *     mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, dims);
 *     mb_node *n = mb_node_add(mb, "LeakyRelu", "act", "x", "y");
 *     mb_attr_float(n, "alpha", 0.2f);
 *     uint8_t *bytes; size_t len;
 *     mb_serialize(mb, &bytes, &len);                  // free(bytes) afterwards
 *     mb_free(mb);
 */
#ifndef MODEL_BUILDER_H
#define MODEL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"
#include "onnxc.h"

typedef struct mb_model {
    Onnx__ModelProto *proto; /* the model being built */
    Onnx__GraphProto *graph; /* proto->graph */
} mb_model;

typedef Onnx__NodeProto mb_node;
typedef Onnx__TensorProto mb_tensor;

/* ---- models -------------------------------------------------------------- */

/* A model with an empty graph named "test" and, when opset > 0, an import of
 * the default domain ("") at that version. */
mb_model *mb_new(int64_t ir_version, int64_t opset);
/* Adds an opset_import entry (domain NULL leaves the field unset). */
void mb_opset(mb_model *mb, const char *domain, int64_t version);
/* Serializes into a malloc'd buffer. */
bool mb_serialize(const mb_model *mb, uint8_t **buf, size_t *len);
/* Serializes into a file; false on an I/O error. */
bool mb_write_file(const mb_model *mb, const char *path);
void mb_free(mb_model *mb);
/* Serializes mb, frees it and opens the bytes with onnxc_model_open_buffer
 * (options may be NULL): its status, the model in *out on success (NULL
 * otherwise). */
onnxc_status *mb_open(mb_model *mb, const onnxc_model_options *options, onnxc_model **out);
/* Asserts that st is an error of code whose message contains n1 and n2
 * (either may be NULL), naming the test's line when it is not; frees st. */
void mb_expect_status(onnxc_status *st, onnxc_code code, const char *n1, const char *n2,
                      int line);

/* ---- graph inputs, outputs, value_info ----------------------------------- */

/* A tensor-typed ValueInfoProto. dtype 0 leaves elem_type unset; rank -1
 * leaves the shape out; a dim of -1 becomes the symbolic dim "N", a dim of -2
 * a dimension with neither value nor name. */
Onnx__ValueInfoProto *mb_input(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims);
Onnx__ValueInfoProto *mb_output(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims);
Onnx__ValueInfoProto *mb_value_info(mb_model *mb, const char *name, int dtype, int rank,
                                    const int64_t *dims);
/* The same with explicit names: dim_names[i] non-NULL makes dim i symbolic
 * with that name (dims[i] is then ignored). */
Onnx__ValueInfoProto *mb_input_sym(mb_model *mb, const char *name, int dtype, int rank,
                                   const int64_t *dims, const char *const *dim_names);
Onnx__ValueInfoProto *mb_output_sym(mb_model *mb, const char *name, int dtype, int rank,
                                    const int64_t *dims, const char *const *dim_names);
/* Makes vi a sequence of float tensors (a type onnxc does not support). */
void mb_make_sequence_type(Onnx__ValueInfoProto *vi);

/* ---- tensors ------------------------------------------------------------- */

/* A TensorProto. data (may be NULL: no data at all) holds count * element
 * size bytes of dtype elements, count following dims. typed stores them in
 * the typed field the ONNX schema assigns to dtype (float_data, int32_data,
 * int64_data, double_data or uint64_data; narrow integers, bool and float16
 * are widened into int32_data); otherwise in raw_data. For types without a
 * fixed element size (string, complex, bfloat16, unknown) pass data NULL and
 * add bytes with mb_tensor_raw. rank 0 (dims may be NULL) is a scalar. */
mb_tensor *mb_tensor_new(const char *name, int dtype, int rank, const int64_t *dims, const void *data,
                         bool typed);
/* Replaces the tensor's data by n raw bytes (n may disagree with the dims). */
void mb_tensor_raw(mb_tensor *t, const void *bytes, size_t n);
/* Makes the data external: data_location EXTERNAL, the inline data dropped,
 * and "location" plus, when >= 0, "offset" and "length" entries. */
void mb_tensor_external(mb_tensor *t, const char *location, int64_t offset, int64_t length);
/* Adds one external_data key/value entry as given (for malformed entries). */
void mb_tensor_entry(mb_tensor *t, const char *key, const char *value);
/* A malloc'd serialization of a lone tensor (a .pb test data file). */
uint8_t *mb_tensor_serialize(const mb_tensor *t, size_t *len);
void mb_tensor_free(mb_tensor *t);

/* Adds an initializer (see mb_tensor_new) and returns it. */
mb_tensor *mb_init(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims,
                   const void *data, bool typed);
mb_tensor *mb_init_f32(mb_model *mb, const char *name, int rank, const int64_t *dims, const float *data,
                       bool typed);
mb_tensor *mb_init_i64(mb_model *mb, const char *name, int rank, const int64_t *dims,
                       const int64_t *data, bool typed);
/* Adds t (taking ownership) as an initializer. */
mb_tensor *mb_init_tensor(mb_model *mb, mb_tensor *t);

/* ---- nodes and attributes ------------------------------------------------ */

/* Appends a node. inputs and outputs are comma-separated name lists; empty
 * entries are kept as "" (omitted optional values): "x,,B". NULL or "" gives
 * no names. name NULL leaves the node unnamed. */
mb_node *mb_node_add(mb_model *mb, const char *op_type, const char *name, const char *inputs,
                     const char *outputs);
void mb_node_domain(mb_node *n, const char *domain);

void mb_attr_int(mb_node *n, const char *name, int64_t v);
void mb_attr_float(mb_node *n, const char *name, float v);
void mb_attr_string(mb_node *n, const char *name, const char *v);
void mb_attr_ints(mb_node *n, const char *name, const int64_t *v, size_t count);
void mb_attr_floats(mb_node *n, const char *name, const float *v, size_t count);
void mb_attr_strings(mb_node *n, const char *name, const char *const *v, size_t count);
/* Takes ownership of t. */
void mb_attr_tensor(mb_node *n, const char *name, mb_tensor *t);
void mb_attr_tensors(mb_node *n, const char *name, mb_tensor *const *t, size_t count);
/* A bare attribute to fill by hand: name NULL leaves the name unset, type < 0
 * leaves the type field unset (as very old files do). */
Onnx__AttributeProto *mb_attr_add(mb_node *n, const char *name, int type);

/* ---- hand-made wire bytes ------------------------------------------------ */

/* A growable byte buffer for writing protobuf wire format directly. Start
 * from a zeroed struct; free data with mb_bytes_free. */
typedef struct mb_bytes {
    uint8_t *data;
    size_t len, cap;
} mb_bytes;

void mb_bytes_append(mb_bytes *b, const void *data, size_t n);
void mb_bytes_varint(mb_bytes *b, uint64_t v);
/* A field key: (field << 3) | wire_type. */
void mb_bytes_key(mb_bytes *b, uint32_t field, unsigned wire_type);
/* A varint field (wire type 0). */
void mb_bytes_int_field(mb_bytes *b, uint32_t field, uint64_t v);
/* A length-delimited field (wire type 2). */
void mb_bytes_field(mb_bytes *b, uint32_t field, const void *data, size_t n);
/* fields[0] { fields[1] { ... fields[n-1] { inner } } }: n nested
 * length-delimited fields around inner, in time linear in the output. */
void mb_bytes_nest(mb_bytes *b, const uint32_t *fields, size_t n, const void *inner, size_t inner_len);
void mb_bytes_free(mb_bytes *b);

#endif
