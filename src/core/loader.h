/* ONNX protobuf -> onnxc IR. The only code that sees protobuf-c types is
 * loader.c and tensor_pb.c. */
#ifndef OC_LOADER_H
#define OC_LOADER_H

#include "ir.h"

/* Decodes a serialized ModelProto into m, whose arena is ready and whose other
 * fields are zero. Fills the loader fields of onnxc_model (see ir.h); the
 * linking of names is graph.c's work. model_dir is the folder external data is
 * read from, or NULL when the model came from memory (external data is then
 * refused). On error m may hold partial state that onnxc_model_free releases. */
onnxc_status *oc_load_model(onnxc_model *m, const void *data, size_t size, const char *model_dir);

/* The same, for bytes that stay valid as long as m (a file mapping the model
 * keeps): big weights are then used in place when aligned for their type
 * instead of copied. *borrowed tells whether m references data. */
onnxc_status *oc_load_model_in_place(onnxc_model *m, const void *data, size_t size,
                                     const char *model_dir, bool *borrowed);

#endif
