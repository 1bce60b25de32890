/* Test-side ONNX model builder: see model_builder.h. */
#include "model_builder.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc.h"

/* ---- allocation (tests abort on out-of-memory) --------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static void *xmemdup(const void *src, size_t n)
{
    void *d = xmalloc(n);
    if (n) memcpy(d, src, n);
    return d;
}

/* Appends item to a protobuf-c repeated field (array + count). The arrays
 * have no capacity field: they are kept at power-of-two sizes, so growing
 * happens when count reaches one (linear time for big models). */
static void *grow_for_push(void *array, size_t count, size_t elem_size)
{
    if (count & (count - 1)) return array; /* room left below the next power of two */
    size_t cap = count ? count * 2 : 1;
    void *grown = realloc(array, cap * elem_size);
    if (!grown) abort();
    return grown;
}

#define PUSH(array, count, item)                                       \
    do {                                                               \
        (array) = grow_for_push((array), (count), sizeof *(array));    \
        (array)[(count)++] = (item);                                   \
    } while (0)

/* ---- models -------------------------------------------------------------- */

mb_model *mb_new(int64_t ir_version, int64_t opset)
{
    mb_model *mb = xcalloc(1, sizeof *mb);
    mb->proto = xmalloc(sizeof *mb->proto);
    onnx__model_proto__init(mb->proto);
    mb->proto->has_ir_version = 1;
    mb->proto->ir_version = ir_version;
    mb->proto->producer_name = xstrdup("onnxc-tests");
    mb->graph = xmalloc(sizeof *mb->graph);
    onnx__graph_proto__init(mb->graph);
    mb->graph->name = xstrdup("test");
    mb->proto->graph = mb->graph;
    if (opset > 0) mb_opset(mb, "", opset);
    return mb;
}

void mb_opset(mb_model *mb, const char *domain, int64_t version)
{
    Onnx__OperatorSetIdProto *o = xmalloc(sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = xstrdup(domain);
    o->has_version = 1;
    o->version = version;
    PUSH(mb->proto->opset_import, mb->proto->n_opset_import, o);
}

bool mb_serialize(const mb_model *mb, uint8_t **buf, size_t *len)
{
    size_t size = onnx__model_proto__get_packed_size(mb->proto);
    *buf = xmalloc(size);
    *len = onnx__model_proto__pack(mb->proto, *buf);
    return *len == size;
}

onnxc_status *mb_open(mb_model *mb, const onnxc_model_options *options, onnxc_model **out)
{
    uint8_t *buf;
    size_t len;
    ck_assert(mb_serialize(mb, &buf, &len));
    mb_free(mb);
    *out = NULL;
    onnxc_status *st = onnxc_model_open_buffer(buf, len, options, out);
    free(buf);
    return st;
}

void mb_expect_status(onnxc_status *st, onnxc_code code, const char *n1, const char *n2,
                      int line)
{
    ck_assert_msg(st, "line %d: expected %s ('%s'), got success", line, onnxc_code_name(code),
                  n1 ? n1 : "");
    const char *msg = onnxc_status_message(st);
    ck_assert_msg(onnxc_status_code(st) == code, "line %d: expected %s, got %s: %s", line,
                  onnxc_code_name(code), onnxc_code_name(onnxc_status_code(st)), msg);
    ck_assert_msg(!n1 || strstr(msg, n1), "line %d: '%s' not in: %s", line, n1, msg);
    ck_assert_msg(!n2 || strstr(msg, n2), "line %d: '%s' not in: %s", line, n2, msg);
    onnxc_status_free(st);
}

bool mb_write_file(const mb_model *mb, const char *path)
{
    uint8_t *buf;
    size_t len;
    if (!mb_serialize(mb, &buf, &len)) {
        free(buf);
        return false;
    }
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    free(buf);
    return ok;
}

void mb_free(mb_model *mb)
{
    if (!mb) return;
    /* Every piece came from malloc, as protobuf-c's own unpacker allocates. */
    onnx__model_proto__free_unpacked(mb->proto, NULL);
    free(mb);
}

/* ---- value infos --------------------------------------------------------- */

static Onnx__ValueInfoProto *value_info_new(const char *name, int dtype, int rank, const int64_t *dims,
                                            const char *const *dim_names)
{
    Onnx__ValueInfoProto *vi = xmalloc(sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = xstrdup(name);
    Onnx__TypeProto *tp = xmalloc(sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = xmalloc(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    if (dtype) {
        tt->has_elem_type = 1;
        tt->elem_type = dtype;
    }
    if (rank >= 0) {
        Onnx__TensorShapeProto *shape = xmalloc(sizeof *shape);
        onnx__tensor_shape_proto__init(shape);
        shape->n_dim = (size_t)rank;
        shape->dim = xcalloc((size_t)rank, sizeof *shape->dim);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = xmalloc(sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            const char *param = dim_names ? dim_names[i] : (dims[i] == -1 ? "N" : NULL);
            if (param) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = xstrdup(param);
            } else if (dims[i] != -2) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            }
            shape->dim[i] = d;
        }
        tt->shape = shape;
    }
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    return vi;
}

Onnx__ValueInfoProto *mb_input_sym(mb_model *mb, const char *name, int dtype, int rank,
                                   const int64_t *dims, const char *const *dim_names)
{
    Onnx__ValueInfoProto *vi = value_info_new(name, dtype, rank, dims, dim_names);
    PUSH(mb->graph->input, mb->graph->n_input, vi);
    return vi;
}

Onnx__ValueInfoProto *mb_output_sym(mb_model *mb, const char *name, int dtype, int rank,
                                    const int64_t *dims, const char *const *dim_names)
{
    Onnx__ValueInfoProto *vi = value_info_new(name, dtype, rank, dims, dim_names);
    PUSH(mb->graph->output, mb->graph->n_output, vi);
    return vi;
}

Onnx__ValueInfoProto *mb_input(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims)
{
    return mb_input_sym(mb, name, dtype, rank, dims, NULL);
}

Onnx__ValueInfoProto *mb_output(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims)
{
    return mb_output_sym(mb, name, dtype, rank, dims, NULL);
}

Onnx__ValueInfoProto *mb_value_info(mb_model *mb, const char *name, int dtype, int rank,
                                    const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = value_info_new(name, dtype, rank, dims, NULL);
    PUSH(mb->graph->value_info, mb->graph->n_value_info, vi);
    return vi;
}

void mb_make_sequence_type(Onnx__ValueInfoProto *vi)
{
    Onnx__TypeProto *elem = vi->type; /* the current tensor type becomes the element type */
    Onnx__TypeProto *tp = xmalloc(sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Sequence *seq = xmalloc(sizeof *seq);
    onnx__type_proto__sequence__init(seq);
    seq->elem_type = elem;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    tp->sequence_type = seq;
    vi->type = tp;
}

/* ---- tensors ------------------------------------------------------------- */

static void clear_tensor_data(mb_tensor *t)
{
    free(t->float_data);
    free(t->int32_data);
    free(t->int64_data);
    free(t->double_data);
    free(t->uint64_data);
    free(t->raw_data.data);
    t->float_data = NULL;
    t->int32_data = NULL;
    t->int64_data = NULL;
    t->double_data = NULL;
    t->uint64_data = NULL;
    t->n_float_data = t->n_int32_data = t->n_int64_data = t->n_double_data = t->n_uint64_data = 0;
    t->raw_data.data = NULL;
    t->raw_data.len = 0;
    t->has_raw_data = 0;
}

/* Widens count elements of dtype into the schema's typed field. */
static void set_typed(mb_tensor *t, int dtype, const void *data, size_t count)
{
    size_t n = count;
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT:
        t->float_data = xmemdup(data, n * sizeof(float));
        t->n_float_data = n;
        return;
    case ONNXC_DTYPE_DOUBLE:
        t->double_data = xmemdup(data, n * sizeof(double));
        t->n_double_data = n;
        return;
    case ONNXC_DTYPE_INT64:
        t->int64_data = xmemdup(data, n * sizeof(int64_t));
        t->n_int64_data = n;
        return;
    case ONNXC_DTYPE_UINT64:
        t->uint64_data = xmemdup(data, n * sizeof(uint64_t));
        t->n_uint64_data = n;
        return;
    case ONNXC_DTYPE_UINT32:
        t->uint64_data = xcalloc(n, sizeof(uint64_t));
        t->n_uint64_data = n;
        for (size_t i = 0; i < n; i++) t->uint64_data[i] = ((const uint32_t *)data)[i];
        return;
    default:
        break;
    }
    t->int32_data = xcalloc(n, sizeof(int32_t));
    t->n_int32_data = n;
    for (size_t i = 0; i < n; i++) {
        switch (dtype) {
        case ONNXC_DTYPE_INT32: t->int32_data[i] = ((const int32_t *)data)[i]; break;
        case ONNXC_DTYPE_INT16: t->int32_data[i] = ((const int16_t *)data)[i]; break;
        case ONNXC_DTYPE_UINT16:
        case ONNXC_DTYPE_FLOAT16: t->int32_data[i] = ((const uint16_t *)data)[i]; break;
        case ONNXC_DTYPE_INT8: t->int32_data[i] = ((const int8_t *)data)[i]; break;
        case ONNXC_DTYPE_UINT8:
        case ONNXC_DTYPE_BOOL: t->int32_data[i] = ((const uint8_t *)data)[i]; break;
        default: abort(); /* no typed field for this type in the builder */
        }
    }
}

mb_tensor *mb_tensor_new(const char *name, int dtype, int rank, const int64_t *dims, const void *data,
                         bool typed)
{
    mb_tensor *t = xmalloc(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = xstrdup(name);
    t->has_data_type = 1;
    t->data_type = dtype;
    if (rank > 0) {
        t->n_dims = (size_t)rank;
        t->dims = xmemdup(dims, (size_t)rank * sizeof(int64_t));
    }
    if (!data) return t;
    size_t count = 1;
    for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
    if (typed) {
        set_typed(t, dtype, data, count);
    } else {
        size_t esize = onnxc_dtype_size(dtype);
        if (!esize) abort(); /* raw data of a type the builder cannot size: use mb_tensor_raw */
        mb_tensor_raw(t, data, count * esize);
    }
    return t;
}

void mb_tensor_raw(mb_tensor *t, const void *bytes, size_t n)
{
    clear_tensor_data(t);
    t->has_raw_data = 1;
    t->raw_data.len = n;
    t->raw_data.data = n ? xmemdup(bytes, n) : NULL;
}

void mb_tensor_entry(mb_tensor *t, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = xmalloc(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    PUSH(t->external_data, t->n_external_data, e);
}

void mb_tensor_external(mb_tensor *t, const char *location, int64_t offset, int64_t length)
{
    clear_tensor_data(t);
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    mb_tensor_entry(t, "location", location);
    char num[32];
    if (offset >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)offset);
        mb_tensor_entry(t, "offset", num);
    }
    if (length >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)length);
        mb_tensor_entry(t, "length", num);
    }
}

uint8_t *mb_tensor_serialize(const mb_tensor *t, size_t *len)
{
    size_t size = onnx__tensor_proto__get_packed_size(t);
    uint8_t *buf = xmalloc(size);
    *len = onnx__tensor_proto__pack(t, buf);
    return buf;
}

void mb_tensor_free(mb_tensor *t)
{
    if (t) onnx__tensor_proto__free_unpacked(t, NULL);
}

mb_tensor *mb_init_tensor(mb_model *mb, mb_tensor *t)
{
    PUSH(mb->graph->initializer, mb->graph->n_initializer, t);
    return t;
}

mb_tensor *mb_init(mb_model *mb, const char *name, int dtype, int rank, const int64_t *dims,
                   const void *data, bool typed)
{
    return mb_init_tensor(mb, mb_tensor_new(name, dtype, rank, dims, data, typed));
}

mb_tensor *mb_init_f32(mb_model *mb, const char *name, int rank, const int64_t *dims, const float *data,
                       bool typed)
{
    return mb_init(mb, name, ONNXC_DTYPE_FLOAT, rank, dims, data, typed);
}

mb_tensor *mb_init_i64(mb_model *mb, const char *name, int rank, const int64_t *dims,
                       const int64_t *data, bool typed)
{
    return mb_init(mb, name, ONNXC_DTYPE_INT64, rank, dims, data, typed);
}

/* ---- nodes and attributes ------------------------------------------------ */

/* Splits "a,,b" into malloc'd strings {"a", "", "b"}. */
static char **split_names(const char *list, size_t *count)
{
    *count = 0;
    if (!list || !*list) return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    char **names = xcalloc(n, sizeof *names);
    const char *start = list;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        names[i] = xmalloc(len + 1);
        memcpy(names[i], start, len);
        names[i][len] = 0;
        start = end ? end + 1 : start + len;
    }
    *count = n;
    return names;
}

mb_node *mb_node_add(mb_model *mb, const char *op_type, const char *name, const char *inputs,
                     const char *outputs)
{
    mb_node *n = xmalloc(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = xstrdup(op_type);
    n->name = xstrdup(name);
    n->input = split_names(inputs, &n->n_input);
    n->output = split_names(outputs, &n->n_output);
    PUSH(mb->graph->node, mb->graph->n_node, n);
    return n;
}

void mb_node_domain(mb_node *n, const char *domain)
{
    free(n->domain);
    n->domain = xstrdup(domain);
}

Onnx__AttributeProto *mb_attr_add(mb_node *n, const char *name, int type)
{
    Onnx__AttributeProto *a = xmalloc(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = xstrdup(name);
    if (type >= 0) {
        a->has_type = 1;
        a->type = (Onnx__AttributeProto__AttributeType)type;
    }
    PUSH(n->attribute, n->n_attribute, a);
    return a;
}

void mb_attr_int(mb_node *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void mb_attr_float(mb_node *n, const char *name, float v)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void mb_attr_string(mb_node *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = a->s.len ? xmemdup(v, a->s.len) : NULL;
}

void mb_attr_ints(mb_node *n, const char *name, const int64_t *v, size_t count)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = count;
    a->ints = count ? xmemdup(v, count * sizeof *v) : NULL;
}

void mb_attr_floats(mb_node *n, const char *name, const float *v, size_t count)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = count;
    a->floats = count ? xmemdup(v, count * sizeof *v) : NULL;
}

void mb_attr_strings(mb_node *n, const char *name, const char *const *v, size_t count)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = count;
    a->strings = count ? xcalloc(count, sizeof *a->strings) : NULL;
    for (size_t i = 0; i < count; i++) {
        a->strings[i].len = strlen(v[i]);
        a->strings[i].data = a->strings[i].len ? xmemdup(v[i], a->strings[i].len) : NULL;
    }
}

void mb_attr_tensor(mb_node *n, const char *name, mb_tensor *t)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = t;
}

void mb_attr_tensors(mb_node *n, const char *name, mb_tensor *const *t, size_t count)
{
    Onnx__AttributeProto *a = mb_attr_add(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS);
    a->n_tensors = count;
    a->tensors = count ? xmemdup(t, count * sizeof *t) : NULL;
}

/* ---- hand-made wire bytes ------------------------------------------------ */

void mb_bytes_append(mb_bytes *b, const void *data, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) abort();
        b->data = grown;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
}

void mb_bytes_varint(mb_bytes *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    mb_bytes_append(b, tmp, n);
}

void mb_bytes_key(mb_bytes *b, uint32_t field, unsigned wire_type)
{
    mb_bytes_varint(b, ((uint64_t)field << 3) | (wire_type & 7));
}

void mb_bytes_int_field(mb_bytes *b, uint32_t field, uint64_t v)
{
    mb_bytes_key(b, field, 0);
    mb_bytes_varint(b, v);
}

void mb_bytes_field(mb_bytes *b, uint32_t field, const void *data, size_t n)
{
    mb_bytes_key(b, field, 2);
    mb_bytes_varint(b, n);
    mb_bytes_append(b, data, n);
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7) n++;
    return n;
}

void mb_bytes_nest(mb_bytes *b, const uint32_t *fields, size_t n, const void *inner, size_t inner_len)
{
    /* Lengths inside-out first, so the bytes can then be written outside-in. */
    size_t *lens = xcalloc(n + 1, sizeof *lens);
    lens[n] = inner_len;
    for (size_t i = n; i-- > 0;)
        lens[i] = varint_size((uint64_t)fields[i] << 3) + varint_size(lens[i + 1]) + lens[i + 1];
    for (size_t i = 0; i < n; i++) {
        mb_bytes_key(b, fields[i], 2);
        mb_bytes_varint(b, lens[i + 1]);
    }
    mb_bytes_append(b, inner, inner_len);
    free(lens);
}

void mb_bytes_free(mb_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
