/* Private to loader.c and tensor_pb.c: the one place protobuf-c types meet
 * onnxc types. Nothing else may include this header. */
#ifndef OC_PB_INTERNAL_H
#define OC_PB_INTERNAL_H

#include "ir.h"
#include "onnx.pb-c.h"

/* Tensor data is taken from the file as little-endian bytes without swapping. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "onnxc reads ONNX tensor data in place and needs a little-endian host"
#endif
#endif

/* Where external tensor data may be read from. */
typedef struct oc_external_dir {
    const char *dir;  /* the model's folder as given */
    char *real_dir;   /* realpath(dir), computed on first use; free with oc_external_dir_free */
} oc_external_dir;

void oc_external_dir_free(oc_external_dir *ext);

/* How the data of a decoded tensor is held. */
typedef enum oc_data_kind {
    OC_DATA_NONE,   /* no data (zero elements) */
    OC_DATA_MALLOC, /* t->data from malloc */
    OC_DATA_MAP,    /* t->data is an mmap'ed region of t->nbytes bytes */
    OC_DATA_BORROWED /* t->data points into the model file's bytes, kept by the model */
} oc_data_kind;

/* What decoding a model's tensors is held to: the model's limits and the
 * budget its tensor data is charged to (both NULL: no limits, as for the
 * CLI's tensor files). raw_data is charged while protobuf-c unpacks it. */
typedef struct oc_decode_limits {
    const oc_limits *limits;
    oc_budget *budget;
} oc_decode_limits;

/* Decodes pb into t. ext NULL refuses external data; lim NULL: no limits.
 * The raw_data buffer is taken from pb (pb->raw_data.data is set to NULL)
 * rather than copied. On success the caller owns t->data as *kind says; on
 * error nothing is left allocated. Messages name the tensor. */
onnxc_status *oc_pb_decode_tensor(Onnx__TensorProto *pb, oc_external_dir *ext,
                                  const oc_decode_limits *lim, oc_tensor *t, oc_data_kind *kind);

/* Decodes pb, whose raw_data payload (raw_len bytes at raw) was left out of
 * pb and lies in bytes that live as long as the model: used in place when
 * suitably aligned for the element type, else copied (and the source pages
 * handed back to the kernel, so the file is not resident twice). */
onnxc_status *oc_pb_decode_tensor_borrowed(Onnx__TensorProto *pb, const uint8_t *raw, size_t raw_len,
                                           const oc_decode_limits *lim, oc_tensor *t,
                                           oc_data_kind *kind);

#endif
