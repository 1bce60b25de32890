/* TensorProto -> oc_tensor: the decoding shared by initializers, attribute
 * tensors and the .pb files of test data, including external data files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_internal.h"
#include "util.h"
#include "tensor_pb.h"

static const char *tensor_label(const Onnx__TensorProto *pb)
{
    return pb->name && pb->name[0] ? pb->name : "(unnamed)";
}

/* ---- shape and type ------------------------------------------------------ */

static const oc_limits *limits_of(const oc_decode_limits *lim) { return lim ? lim->limits : NULL; }
static oc_budget *budget_of(const oc_decode_limits *lim) { return lim ? lim->budget : NULL; }

/* Charges the data of t to the model before it is allocated or mapped. */
static onnxc_status *charge(const Onnx__TensorProto *pb, const oc_decode_limits *lim, const oc_tensor *t)
{
    oc_budget *b = budget_of(lim);
    if (oc_budget_take(b, t->nbytes)) return NULL;
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", tensor_label(pb));
    return oc_budget_error(b, t->nbytes, what);
}

static onnxc_status *decode_shape(const Onnx__TensorProto *pb, const oc_decode_limits *lim, oc_tensor *t)
{
    const char *label = tensor_label(pb);
    const oc_limits *limits = limits_of(lim);
    int max_rank = limits ? limits->max_rank : OC_MAX_RANK;
    if (pb->n_dims > (size_t)max_rank)
        return oc_error(ONNXC_ERR_LIMIT, "tensor '%s' has rank %zu; the limit is %d (max_rank)",
                        label, pb->n_dims, max_rank);
    int dtype = pb->has_data_type ? pb->data_type : ONNXC_DTYPE_UNDEFINED;
    if (dtype == ONNXC_DTYPE_UNDEFINED)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has no data_type", label);
    if (onnxc_dtype_size(dtype) == 0)
        return oc_error(ONNXC_ERR_UNSUPPORTED,
                        "tensor '%s' has element type %s (%d), which onnxc does not support",
                        label, onnxc_dtype_name(dtype), dtype);
    t->dtype = (onnxc_dtype)dtype;
    t->rank = (int)pb->n_dims;
    for (int i = 0; i < t->rank; i++) {
        if (pb->dims[i] < 0)
            return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has a negative dimension %d (%" PRId64 ")",
                            label, i, pb->dims[i]);
        t->dims[i] = pb->dims[i];
    }
    OC_TRY(oc_error_prefix(oc_tensor_set_sizes(t), "tensor '%s'", label));
    return oc_error_prefix(oc_limits_check_tensor(limits, t), "tensor '%s'", label);
}

/* ---- typed data fields --------------------------------------------------- */

/* The typed fields of TensorProto, in the order of this enum. */
enum typed_field { F_FLOAT, F_INT32, F_INT64, F_DOUBLE, F_UINT64, F_STRING, F_COUNT };

static const char *const typed_field_names[F_COUNT] = {
    "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data",
};

static size_t typed_field_count(const Onnx__TensorProto *pb, enum typed_field f)
{
    switch (f) {
    case F_FLOAT: return pb->n_float_data;
    case F_INT32: return pb->n_int32_data;
    case F_INT64: return pb->n_int64_data;
    case F_DOUBLE: return pb->n_double_data;
    case F_UINT64: return pb->n_uint64_data;
    case F_STRING: return pb->n_string_data;
    case F_COUNT: break;
    }
    return 0;
}

/* The field the ONNX schema assigns to each supported element type. */
static enum typed_field field_for_dtype(onnxc_dtype dtype)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: return F_FLOAT;
    case ONNXC_DTYPE_INT64: return F_INT64;
    case ONNXC_DTYPE_DOUBLE: return F_DOUBLE;
    case ONNXC_DTYPE_UINT32:
    case ONNXC_DTYPE_UINT64: return F_UINT64;
    default: return F_INT32; /* int32 and every narrower integer, bool and float16 bits */
    }
}

/* Copies count values of the typed field into dst, narrowing as the type needs. */
static void convert_typed(const Onnx__TensorProto *pb, onnxc_dtype dtype, size_t count, void *dst)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: memcpy(dst, pb->float_data, count * sizeof(float)); return;
    case ONNXC_DTYPE_INT64: memcpy(dst, pb->int64_data, count * sizeof(int64_t)); return;
    case ONNXC_DTYPE_DOUBLE: memcpy(dst, pb->double_data, count * sizeof(double)); return;
    case ONNXC_DTYPE_UINT64: memcpy(dst, pb->uint64_data, count * sizeof(uint64_t)); return;
    case ONNXC_DTYPE_INT32: memcpy(dst, pb->int32_data, count * sizeof(int32_t)); return;
    case ONNXC_DTYPE_UINT32:
        for (size_t i = 0; i < count; i++) ((uint32_t *)dst)[i] = (uint32_t)pb->uint64_data[i];
        return;
    case ONNXC_DTYPE_INT16:
    case ONNXC_DTYPE_UINT16:
    case ONNXC_DTYPE_FLOAT16: /* bit patterns, possibly written sign-extended */
        for (size_t i = 0; i < count; i++) ((uint16_t *)dst)[i] = (uint16_t)pb->int32_data[i];
        return;
    case ONNXC_DTYPE_INT8:
    case ONNXC_DTYPE_UINT8:
        for (size_t i = 0; i < count; i++) ((uint8_t *)dst)[i] = (uint8_t)pb->int32_data[i];
        return;
    case ONNXC_DTYPE_BOOL: /* any non-zero value is true; keep elements 0 or 1 */
        for (size_t i = 0; i < count; i++) ((uint8_t *)dst)[i] = pb->int32_data[i] != 0;
        return;
    default: return; /* decode_shape admitted only the types above */
    }
}

static onnxc_status *decode_typed(const Onnx__TensorProto *pb, const oc_decode_limits *lim, oc_tensor *t,
                                  oc_data_kind *kind)
{
    const char *label = tensor_label(pb);
    enum typed_field want = field_for_dtype(t->dtype);
    for (int f = 0; f < F_COUNT; f++) {
        if (f != (int)want && typed_field_count(pb, (enum typed_field)f) > 0)
            return oc_error(ONNXC_ERR_MODEL, "tensor '%s' of type %s has its data in %s; that type uses %s",
                            label, onnxc_dtype_name(t->dtype), typed_field_names[f],
                            typed_field_names[want]);
    }
    size_t have = typed_field_count(pb, want);
    if (have != t->count)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has %zu values in %s but its shape needs %zu",
                        label, have, typed_field_names[want], t->count);
    if (t->count == 0) return NULL;
    OC_TRY(charge(pb, lim, t));
    void *data = malloc(t->nbytes);
    if (!data) {
        oc_budget_give(budget_of(lim), t->nbytes);
        return oc_no_memory();
    }
    convert_typed(pb, t->dtype, t->count, data);
    t->data = data;
    *kind = OC_DATA_MALLOC;
    return NULL;
}

/* ---- raw_data ------------------------------------------------------------ */

static onnxc_status *decode_raw(Onnx__TensorProto *pb, oc_tensor *t, oc_data_kind *kind)
{
    if (pb->raw_data.len != t->nbytes)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has %zu bytes of raw_data but its shape needs %zu",
                        tensor_label(pb), pb->raw_data.len, t->nbytes);
    if (t->nbytes == 0) return NULL;
    /* Take protobuf-c's malloc'd copy instead of copying big weights again. */
    t->data = pb->raw_data.data;
    pb->raw_data.data = NULL;
    pb->raw_data.len = 0;
    pb->has_raw_data = 0;
    *kind = OC_DATA_MALLOC;
    return NULL;
}

/* ---- external data ------------------------------------------------------- */

void oc_external_dir_free(oc_external_dir *ext)
{
    free(ext->real_dir);
    ext->real_dir = NULL;
}

typedef struct external_ref {
    const char *location;
    bool has_offset, has_length;
    uint64_t offset, length;
} external_ref;

/* A non-empty string of decimal digits no larger than INT64_MAX. */
static bool parse_decimal(const char *s, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static onnxc_status *parse_external_ref(const Onnx__TensorProto *pb, external_ref *ref)
{
    const char *label = tensor_label(pb);
    memset(ref, 0, sizeof *ref);
    for (size_t i = 0; i < pb->n_external_data; i++) {
        const char *key = pb->external_data[i]->key ? pb->external_data[i]->key : "";
        const char *value = pb->external_data[i]->value ? pb->external_data[i]->value : "";
        if (strcmp(key, "location") == 0) {
            ref->location = value;
        } else if (strcmp(key, "offset") == 0 || strcmp(key, "length") == 0) {
            bool is_offset = key[0] == 'o';
            if (!parse_decimal(value, is_offset ? &ref->offset : &ref->length))
                return oc_error(ONNXC_ERR_MODEL,
                                "tensor '%s': external data %s '%s' is not a non-negative decimal number",
                                label, key, value);
            *(is_offset ? &ref->has_offset : &ref->has_length) = true;
        }
        /* "checksum" and unknown keys are ignored. */
    }
    if (!ref->location || !ref->location[0])
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has external data without a location", label);
    return NULL;
}

static bool has_dotdot_component(const char *path)
{
    const char *p = path;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

/* The location must name a file inside the model's folder, also after
 * following symlinks. On success *resolved is a malloc'd real path. */
static onnxc_status *resolve_location(const Onnx__TensorProto *pb, oc_external_dir *ext,
                                      const char *location, char **resolved)
{
    const char *label = tensor_label(pb);
    if (location[0] == '/')
        return oc_error(ONNXC_ERR_MODEL,
                        "tensor '%s': external data location '%s' is an absolute path; it must be relative to the model's folder",
                        label, location);
    if (has_dotdot_component(location))
        return oc_error(ONNXC_ERR_MODEL,
                        "tensor '%s': external data location '%s' contains '..'; it must stay inside the model's folder",
                        label, location);
    if (!ext->real_dir) {
        ext->real_dir = realpath(ext->dir, NULL);
        if (!ext->real_dir)
            return oc_error(ONNXC_ERR_IO, "tensor '%s': cannot resolve the model folder '%s': %s", label,
                            ext->dir, strerror(errno));
    }
    size_t dir_len = strlen(ext->dir), loc_len = strlen(location), joined_len;
    if (!oc_add_size(dir_len, loc_len, &joined_len) || !oc_add_size(joined_len, 2, &joined_len))
        return oc_no_memory();
    char *joined = malloc(joined_len);
    if (!joined) return oc_no_memory();
    memcpy(joined, ext->dir, dir_len);
    joined[dir_len] = '/';
    memcpy(joined + dir_len + 1, location, loc_len + 1);

    char *real = realpath(joined, NULL);
    if (!real) {
        onnxc_status *st = oc_error(ONNXC_ERR_IO, "tensor '%s': cannot open external data file '%s': %s",
                                    label, joined, strerror(errno));
        free(joined);
        return st;
    }
    free(joined);
    size_t real_dir_len = strlen(ext->real_dir);
    bool root = real_dir_len == 1; /* "/" needs no separator after it */
    bool inside = strncmp(real, ext->real_dir, real_dir_len) == 0 &&
                  (root || real[real_dir_len] == '/');
    if (!inside) {
        onnxc_status *st = oc_error(ONNXC_ERR_MODEL,
                                    "tensor '%s': external data location '%s' resolves to '%s', outside the model's folder",
                                    label, location, real);
        free(real);
        return st;
    }
    *resolved = real;
    return NULL;
}

static onnxc_status *pread_all(int fd, void *dst, size_t len, uint64_t offset, const char *path)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > (size_t)1 << 30 ? (size_t)1 << 30 : len - done;
        ssize_t got = pread(fd, (char *)dst + done, chunk, (off_t)(offset + done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            return oc_error(ONNXC_ERR_IO, "cannot read external data file '%s': %s", path, strerror(errno));
        if (got == 0)
            return oc_error(ONNXC_ERR_IO, "external data file '%s' ended early", path);
        done += (size_t)got;
    }
    return NULL;
}

/* Maps the range when the offset allows it (a page-aligned offset), else reads it. */
static onnxc_status *load_range(int fd, const char *path, uint64_t offset, oc_tensor *t,
                                oc_data_kind *kind)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0 && offset % (uint64_t)page == 0) {
        void *addr = mmap(NULL, t->nbytes, PROT_READ, MAP_PRIVATE, fd, (off_t)offset);
        if (addr != MAP_FAILED) {
            t->data = addr;
            *kind = OC_DATA_MAP;
            return NULL;
        }
        /* Some file systems cannot map: fall back to reading. */
    }
    void *data = malloc(t->nbytes);
    if (!data) return oc_no_memory();
    onnxc_status *st = pread_all(fd, data, t->nbytes, offset, path);
    if (st) {
        free(data);
        return st;
    }
    t->data = data;
    *kind = OC_DATA_MALLOC;
    return NULL;
}

/* Checks the range against the file and the tensor, then loads it. */
static onnxc_status *load_external_file(const Onnx__TensorProto *pb, const external_ref *ref,
                                        const char *path, const oc_decode_limits *lim, oc_tensor *t,
                                        oc_data_kind *kind)
{
    const char *label = tensor_label(pb);
    /* O_NONBLOCK: a FIFO planted in the folder must not hang the loader. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return oc_error(ONNXC_ERR_IO, "tensor '%s': cannot open external data file '%s': %s", label,
                        path, strerror(errno));
    onnxc_status *st = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = oc_error(ONNXC_ERR_IO, "tensor '%s': cannot stat external data file '%s': %s", label, path,
                      strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = oc_error(ONNXC_ERR_MODEL, "tensor '%s': external data file '%s' is not a regular file", label,
                      path);
        goto done;
    }
    uint64_t file_size = (uint64_t)sb.st_size;
    if (ref->offset > file_size) {
        st = oc_error(ONNXC_ERR_MODEL,
                      "tensor '%s': external data offset %" PRIu64 " is past the end of '%s' (%" PRIu64 " bytes)",
                      label, ref->offset, path, file_size);
        goto done;
    }
    uint64_t length = ref->has_length ? ref->length : file_size - ref->offset;
    if (length > file_size - ref->offset) {
        st = oc_error(ONNXC_ERR_MODEL,
                      "tensor '%s': external data range offset %" PRIu64 " length %" PRIu64
                      " goes past the end of '%s' (%" PRIu64 " bytes)",
                      label, ref->offset, length, path, file_size);
        goto done;
    }
    if (length != (uint64_t)t->nbytes) {
        st = oc_error(ONNXC_ERR_MODEL,
                      "tensor '%s': external data length %" PRIu64 " does not match the %zu bytes its shape needs",
                      label, length, t->nbytes);
        goto done;
    }
    if (t->nbytes > 0 && !(st = charge(pb, lim, t))) {
        st = oc_error_prefix(load_range(fd, path, ref->offset, t, kind), "tensor '%s'", label);
        if (st) oc_budget_give(budget_of(lim), t->nbytes);
    }
done:
    close(fd);
    return st;
}

static onnxc_status *decode_external(const Onnx__TensorProto *pb, oc_external_dir *ext,
                                     const oc_decode_limits *lim, oc_tensor *t, oc_data_kind *kind)
{
    const char *label = tensor_label(pb);
    external_ref ref;
    OC_TRY(parse_external_ref(pb, &ref));
    if (!ext || !ext->dir)
        return oc_error(ONNXC_ERR_UNSUPPORTED,
                        "tensor '%s' keeps its data in the external file '%s', which needs a model loaded from a file",
                        label, ref.location);
    char *path = NULL;
    OC_TRY(resolve_location(pb, ext, ref.location, &path));
    onnxc_status *st = load_external_file(pb, &ref, path, lim, t, kind);
    free(path);
    return st;
}

/* ---- the decoder --------------------------------------------------------- */

static bool has_inline_data(const Onnx__TensorProto *pb)
{
    if (pb->has_raw_data) return true;
    for (int f = 0; f < F_COUNT; f++)
        if (typed_field_count(pb, (enum typed_field)f) > 0) return true;
    return false;
}

onnxc_status *oc_pb_decode_tensor(Onnx__TensorProto *pb, oc_external_dir *ext,
                                  const oc_decode_limits *lim, oc_tensor *t, oc_data_kind *kind)
{
    memset(t, 0, sizeof *t);
    *kind = OC_DATA_NONE;
    OC_TRY(decode_shape(pb, lim, t));
    const char *label = tensor_label(pb);
    int location = pb->has_data_location ? (int)pb->data_location : 0;
    if (location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        if (has_inline_data(pb))
            return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has both external and inline data", label);
        return decode_external(pb, ext, lim, t, kind);
    }
    if (location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has an unknown data_location %d", label, location);
    if (pb->has_raw_data) {
        for (int f = 0; f < F_COUNT; f++)
            if (typed_field_count(pb, (enum typed_field)f) > 0)
                return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has data in both raw_data and %s", label,
                                typed_field_names[f]);
        return decode_raw(pb, t, kind);
    }
    return decode_typed(pb, lim, t, kind);
}

onnxc_status *oc_pb_decode_tensor_borrowed(Onnx__TensorProto *pb, const uint8_t *raw, size_t raw_len,
                                           const oc_decode_limits *lim, oc_tensor *t,
                                           oc_data_kind *kind)
{
    memset(t, 0, sizeof *t);
    *kind = OC_DATA_NONE;
    OC_TRY(decode_shape(pb, lim, t));
    const char *label = tensor_label(pb);
    int location = pb->has_data_location ? (int)pb->data_location : 0;
    if (location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has raw_data and data_location %d", label,
                        location);
    for (int f = 0; f < F_COUNT; f++)
        if (typed_field_count(pb, (enum typed_field)f) > 0)
            return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has data in both raw_data and %s", label,
                            typed_field_names[f]);
    if (raw_len != t->nbytes)
        return oc_error(ONNXC_ERR_MODEL, "tensor '%s' has %zu bytes of raw_data but its shape needs %zu",
                        label, raw_len, t->nbytes);
    if (t->nbytes == 0) return NULL;
    /* Charged in place too: the model holds these bytes. */
    OC_TRY(charge(pb, lim, t));
    size_t align = onnxc_dtype_size(t->dtype);
    if ((uintptr_t)raw % align == 0) {
        t->data = (void *)raw;
        *kind = OC_DATA_BORROWED;
        return NULL;
    }
    /* Misaligned for its type: kernels read elements directly, so copy. */
    t->data = oc_aligned_alloc(t->nbytes);
    if (!t->data) {
        oc_budget_give(budget_of(lim), t->nbytes);
        return oc_no_memory();
    }
    memcpy(t->data, raw, t->nbytes);
    oc_release_pages(raw, raw_len);
    *kind = OC_DATA_MALLOC;
    return NULL;
}

/* ---- serialized TensorProto files ---------------------------------------- */

onnxc_status *oc_tensor_pb_decode(const void *data, size_t size, oc_tensor *t, char **name)
{
    if (name) *name = NULL;
    if (!t || (!data && size))
        return oc_error(ONNXC_ERR_ARGUMENT, "oc_tensor_pb_decode: NULL tensor or data");
    memset(t, 0, sizeof *t);
    Onnx__TensorProto *pb = onnx__tensor_proto__unpack(NULL, size, data);
    if (!pb) return oc_error(ONNXC_ERR_PARSE, "not a valid ONNX TensorProto");
    oc_data_kind kind;
    onnxc_status *st = oc_pb_decode_tensor(pb, NULL, NULL, t, &kind);
    if (!st && name && pb->name && pb->name[0]) {
        *name = strdup(pb->name);
        if (!*name) {
            free(t->data);
            t->data = NULL;
            st = oc_no_memory();
        }
    }
    onnx__tensor_proto__free_unpacked(pb, NULL);
    return st;
}

onnxc_status *oc_tensor_pb_encode(const oc_tensor *t, const char *name, void **out, size_t *out_size)
{
    if (!t || !out || !out_size)
        return oc_error(ONNXC_ERR_ARGUMENT, "oc_tensor_pb_encode: NULL argument");
    *out = NULL;
    *out_size = 0;
    oc_tensor sized = *t;
    OC_TRY(oc_error_prefix(oc_tensor_set_sizes(&sized), "cannot encode tensor '%s'", name ? name : ""));
    if (sized.nbytes > 0 && !t->data)
        return oc_error(ONNXC_ERR_ARGUMENT, "cannot encode tensor '%s': no data", name ? name : "");
    /* A protobuf message is limited to 2 GiB. */
    if (sized.nbytes > (size_t)INT32_MAX - 4096)
        return oc_error(ONNXC_ERR_LIMIT, "cannot encode tensor '%s': %zu bytes exceed the 2 GiB protobuf limit",
                        name ? name : "", sized.nbytes);
    int64_t dims[OC_MAX_RANK];
    memcpy(dims, t->dims, sizeof dims);
    Onnx__TensorProto pb = ONNX__TENSOR_PROTO__INIT;
    pb.n_dims = (size_t)t->rank;
    pb.dims = dims;
    pb.has_data_type = 1;
    pb.data_type = (int32_t)t->dtype;
    pb.name = name ? (char *)name : NULL; /* protobuf-c only reads it */
    pb.has_raw_data = 1;
    pb.raw_data.len = sized.nbytes;
    pb.raw_data.data = t->data;
    size_t size = onnx__tensor_proto__get_packed_size(&pb);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return oc_no_memory();
    *out_size = onnx__tensor_proto__pack(&pb, buf);
    *out = buf;
    return NULL;
}
