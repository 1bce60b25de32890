/* Serialized ONNX TensorProto <-> oc_tensor, for test data and the CLI. */
#ifndef OC_TENSOR_PB_H
#define OC_TENSOR_PB_H

#include "ir.h"

/* Decodes a serialized TensorProto. On success t->data is a malloc'd buffer of
 * t->nbytes the caller frees (may be NULL for an empty tensor), and *name (if
 * name is not NULL) is a malloc'd copy of the tensor's name or NULL. */
onnxc_status *oc_tensor_pb_decode(const void *data, size_t size, oc_tensor *t, char **name);

/* Encodes t (with raw_data) and an optional name into a malloc'd buffer. */
onnxc_status *oc_tensor_pb_encode(const oc_tensor *t, const char *name, void **out, size_t *out_size);

#endif
