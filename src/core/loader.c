/* Serialized ModelProto -> onnxc IR. The bytes are first walked without
 * recursion to bound message nesting (protobuf-c's unpacker recurses), then
 * unpacked by protobuf-c and converted into the model's arena. */
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "pb_internal.h"

/* Deepest message nesting accepted. Real models nest a few subgraphs deep
 * (three levels each: graph, node, attribute); hostile ones nest until the
 * recursive unpacker exhausts the stack. */
#define OC_MAX_NESTING 64

/* ---- wire-format pre-check ----------------------------------------------- */

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LENGTH = 2,
    WIRE_FIXED32 = 5,
};

#define MAX_FIELD_NUMBER 536870911u /* 2^29 - 1 */

typedef struct wire_frame {
    const ProtobufCMessageDescriptor *desc;
    size_t end;    /* where this message's bytes end */
    uint64_t seen; /* singular message fields met so far, by index in desc->fields */
} wire_frame;

/* Reads a varint of at most 10 bytes from data[*pos..end). */
static bool read_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10 && *pos < end; i++) {
        uint8_t b = data[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static onnxc_status *wire_error(const char *what, size_t at)
{
    return oc_error(ONNXC_ERR_PARSE, "not a valid ONNX model protobuf: %s at byte %zu", what, at);
}

/* protobuf-c merges repeated occurrences of a singular message field by
 * copying the lists gathered so far: quadratic time for a file that repeats,
 * say, ModelProto.graph with one node each. Serializers never write a
 * singular field twice, so such files are refused. (Every ONNX message has
 * fewer than 64 fields; the check covers the first 64 of any message.) */
static bool repeats_singular_message(wire_frame *frame, const ProtobufCFieldDescriptor *field)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED) return false;
    size_t index = (size_t)(field - frame->desc->fields);
    if (index >= 64) return false;
    uint64_t bit = (uint64_t)1 << index;
    if (frame->seen & bit) return true;
    frame->seen |= bit;
    return false;
}

/* Reads a length prefix that must fit in the rest of the message. */
static onnxc_status *read_length(const uint8_t *data, size_t end, size_t *pos, size_t key_at, size_t *len)
{
    uint64_t value;
    *len = 0;
    if (!read_varint(data, end, pos, &value)) return wire_error("truncated length", key_at);
    if (value > end - *pos) return wire_error("length past the end of its message", key_at);
    *len = (size_t)value;
    return NULL;
}

/* Skips the value of a field that is not descended into. */
static onnxc_status *skip_value(const uint8_t *data, size_t end, size_t *pos, unsigned wire, size_t key_at)
{
    uint64_t value;
    size_t len;
    switch (wire) {
    case WIRE_VARINT:
        if (!read_varint(data, end, pos, &value)) return wire_error("truncated varint", key_at);
        return NULL;
    case WIRE_FIXED64:
        if (end - *pos < 8) return wire_error("truncated 64-bit value", key_at);
        *pos += 8;
        return NULL;
    case WIRE_FIXED32:
        if (end - *pos < 4) return wire_error("truncated 32-bit value", key_at);
        *pos += 4;
        return NULL;
    case WIRE_LENGTH:
        OC_TRY(read_length(data, end, pos, key_at, &len));
        *pos += len;
        return NULL;
    default: /* groups (3, 4) are not used by ONNX; 6 and 7 do not exist */
        return wire_error("unsupported wire type", key_at);
    }
}

/* Checks keys, varints, lengths and wire types of the message in data and,
 * through the descriptors, of every known nested message, keeping an explicit
 * stack. Each step consumes bytes or closes a message, so time is linear. */
static onnxc_status *check_wire(const uint8_t *data, size_t size, const ProtobufCMessageDescriptor *root)
{
    wire_frame stack[OC_MAX_NESTING + 1];
    int depth = 0;
    stack[0] = (wire_frame){.desc = root, .end = size, .seen = 0};
    size_t pos = 0;
    for (;;) {
        while (pos == stack[depth].end) {
            if (depth == 0) return NULL;
            depth--;
        }
        wire_frame *frame = &stack[depth];
        size_t key_at = pos;
        uint64_t key;
        if (!read_varint(data, frame->end, &pos, &key)) return wire_error("truncated field key", key_at);
        uint64_t number = key >> 3;
        unsigned wire = (unsigned)(key & 7);
        if (number == 0 || number > MAX_FIELD_NUMBER) return wire_error("invalid field number", key_at);
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(frame->desc, (unsigned)number);
        if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE) {
            OC_TRY(skip_value(data, frame->end, &pos, wire, key_at));
            continue;
        }
        /* A known nested message: check it, then descend. */
        if (wire != WIRE_LENGTH) return wire_error("message field with a wrong wire type", key_at);
        size_t len;
        OC_TRY(read_length(data, frame->end, &pos, key_at, &len));
        if (repeats_singular_message(frame, field))
            return oc_error(ONNXC_ERR_PARSE,
                            "not a valid ONNX model protobuf: field '%s' of %s appears more than once at byte %zu",
                            field->name, frame->desc->name, key_at);
        if (depth == OC_MAX_NESTING)
            return oc_error(ONNXC_ERR_LIMIT, "model protobuf nests messages more than %d levels deep (at byte %zu)",
                            OC_MAX_NESTING, key_at);
        stack[++depth] = (wire_frame){.desc = field->descriptor, .end = pos + len, .seen = 0};
    }
}

/* ---- leaving big weights in the file ------------------------------------ */

/* raw_data payloads of graph initializers at least this big stay in the
 * file's bytes (when the model keeps them) instead of being copied by
 * protobuf-c; smaller ones are not worth the bookkeeping. */
#define BORROW_MIN_BYTES 4096

/* Field numbers on the path ModelProto.graph.initializer.raw_data. */
enum { MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9 };

typedef struct byte_buf {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} byte_buf;

static void buf_put(byte_buf *b, const void *p, size_t n)
{
    if (b->failed || n == 0) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_put_varint(byte_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    buf_put(b, tmp, n);
}

/* Where each initializer's raw_data payload was left in the source. */
typedef struct borrowed_raw {
    size_t offset, len; /* len 0: not borrowed */
} borrowed_raw;

typedef struct borrow_list {
    borrowed_raw *items; /* by initializer index */
    size_t count, cap;
} borrow_list;

static bool borrow_push(borrow_list *l, borrowed_raw r)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        borrowed_raw *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) return false;
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = r;
    return true;
}

/* One field of a message already checked by check_wire: its key, and for a
 * length-delimited value its payload. */
typedef struct wire_field {
    size_t start, payload, end; /* key position, payload position, next field */
    uint64_t number;
    unsigned wire;
} wire_field;

static bool next_field(const uint8_t *data, size_t end, size_t *pos, wire_field *f)
{
    uint64_t key, len;
    f->start = *pos;
    if (!read_varint(data, end, pos, &key)) return false;
    f->number = key >> 3;
    f->wire = (unsigned)(key & 7);
    if (f->wire == WIRE_LENGTH) {
        if (!read_varint(data, end, pos, &len) || len > end - *pos) return false;
        f->payload = *pos;
        *pos += (size_t)len;
    } else {
        f->payload = *pos;
        if (skip_value(data, end, pos, f->wire, f->start)) return false;
    }
    f->end = *pos;
    return true;
}

static void put_length_field(byte_buf *out, uint64_t number, const byte_buf *payload)
{
    buf_put_varint(out, number << 3 | WIRE_LENGTH);
    buf_put_varint(out, payload->len);
    buf_put(out, payload->data, payload->len);
}

/* Copies a TensorProto without its big raw_data payload (written as empty). */
static bool compact_tensor(const uint8_t *data, size_t begin, size_t end, byte_buf *out,
                           borrowed_raw *raw)
{
    *raw = (borrowed_raw){0, 0};
    for (size_t pos = begin; pos < end;) {
        wire_field f;
        if (!next_field(data, end, &pos, &f)) return false;
        size_t len = f.end - f.payload;
        if (f.number == TENSOR_RAW_DATA && f.wire == WIRE_LENGTH && len >= BORROW_MIN_BYTES) {
            *raw = (borrowed_raw){f.payload, len}; /* the last occurrence wins, as in protobuf */
            buf_put_varint(out, f.number << 3 | WIRE_LENGTH);
            buf_put_varint(out, 0);
        } else {
            if (f.number == TENSOR_RAW_DATA) *raw = (borrowed_raw){0, 0};
            buf_put(out, data + f.start, f.end - f.start);
        }
    }
    return true;
}

static bool compact_graph(const uint8_t *data, size_t begin, size_t end, byte_buf *out,
                          borrow_list *raws)
{
    byte_buf tensor = {0};
    bool ok = true;
    for (size_t pos = begin; pos < end && ok;) {
        wire_field f;
        if (!(ok = next_field(data, end, &pos, &f))) break;
        if (f.number == GRAPH_INITIALIZER && f.wire == WIRE_LENGTH) {
            borrowed_raw raw;
            tensor.len = 0;
            ok = compact_tensor(data, f.payload, f.end, &tensor, &raw) && borrow_push(raws, raw);
            put_length_field(out, f.number, &tensor);
            ok = ok && !tensor.failed;
        } else {
            buf_put(out, data + f.start, f.end - f.start);
        }
    }
    free(tensor.data);
    return ok && !out->failed;
}

/* A copy of the ModelProto bytes without the big initializer payloads, and
 * where those payloads are. The bytes were checked by check_wire. */
static onnxc_status *compact_model(const uint8_t *data, size_t size, byte_buf *out,
                                   borrow_list *raws)
{
    byte_buf graph = {0};
    bool ok = true;
    for (size_t pos = 0; pos < size && ok;) {
        wire_field f;
        if (!(ok = next_field(data, size, &pos, &f))) break;
        if (f.number == MODEL_GRAPH && f.wire == WIRE_LENGTH) {
            ok = compact_graph(data, f.payload, f.end, &graph, raws);
            put_length_field(out, f.number, &graph);
        } else {
            buf_put(out, data + f.start, f.end - f.start);
        }
    }
    free(graph.data);
    if (!ok || out->failed) return out->failed ? oc_no_memory() : wire_error("malformed field", 0);
    return NULL;
}

/* ---- protobuf-c's allocations, charged to the model ---------------------- */

/* Charged at their usable size, which free gives back; a raw_data block that
 * a tensor takes over is never freed here and stays charged. */
static void *pb_alloc(void *budget, size_t size)
{
    oc_budget *b = budget;
    if (!oc_budget_take(b, size)) return NULL; /* refused before allocating */
    void *p = malloc(size ? size : 1);
    oc_budget_give(b, size);
    if (p) b->used += malloc_usable_size(p); /* what pb_free gives back */
    return p;
}

static void pb_free(void *budget, void *p)
{
    if (!p) return;
    oc_budget_give(budget, malloc_usable_size(p));
    free(p);
}

/* ---- small helpers ------------------------------------------------------- */

typedef struct loader {
    onnxc_model *m;
    oc_external_dir ext;
    oc_decode_limits lim;    /* the model's limits and budget */
    const uint8_t *source;   /* the model's bytes, when they outlive the model */
    const borrow_list *raws; /* initializer payloads left in source (or NULL) */
    bool borrowed;           /* some tensor points into source */
} loader;

static bool is_default_domain(const char *domain)
{
    return !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
}

static bool is_empty(const char *s) { return !s || !s[0]; }

static onnxc_status *copy_str(onnxc_model *m, const char *s, const char **out)
{
    *out = oc_arena_strdup(&m->arena, s);
    return *out ? NULL : oc_no_memory();
}

static onnxc_status *alloc_array(onnxc_model *m, size_t n, size_t size, void **out)
{
    *out = NULL;
    if (n == 0) return NULL;
    *out = oc_arena_array(&m->arena, n, size);
    return *out ? NULL : oc_no_memory();
}

static onnxc_status *count_to_int(size_t n, const char *what, int *out)
{
    *out = 0;
    if (n > INT_MAX) return oc_error(ONNXC_ERR_LIMIT, "the model has too many %s (%zu)", what, n);
    *out = (int)n;
    return NULL;
}

static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Finds a name listed twice (by sorting a copy, to stay n log n). */
static onnxc_status *find_duplicate(const char *const *names, size_t n, const char **dup)
{
    *dup = NULL;
    if (n < 2) return NULL;
    const char **sorted = malloc(n * sizeof *sorted);
    if (!sorted) return oc_no_memory();
    memcpy(sorted, names, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_str_ptr);
    for (size_t i = 1; i < n && !*dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) *dup = sorted[i];
    free(sorted);
    return NULL;
}

/* Decodes a tensor whose data the model then owns. */
static onnxc_status *decode_owned_tensor(loader *L, Onnx__TensorProto *pb, oc_tensor *t)
{
    oc_data_kind kind;
    OC_TRY(oc_pb_decode_tensor(pb, &L->ext, &L->lim, t, &kind));
    onnxc_status *st = NULL;
    if (kind == OC_DATA_MALLOC) st = oc_model_own(L->m, t->data);
    else if (kind == OC_DATA_MAP) st = oc_model_own_map(L->m, t->data, t->nbytes);
    if (st) t->data = NULL; /* already released by oc_model_own* */
    return st;
}

/* ---- opsets -------------------------------------------------------------- */

static onnxc_status *convert_opset(onnxc_model *m, const Onnx__OperatorSetIdProto *pb, oc_opset *o)
{
    o->version = pb->has_version ? pb->version : 0;
    OC_TRY(copy_str(m, pb->domain, &o->domain));
    if (is_default_domain(o->domain) && (o->version < 1 || o->version > OC_MAX_OPSET))
        return oc_error(ONNXC_ERR_UNSUPPORTED,
                        "the model imports opset %" PRId64 " of the default domain (ai.onnx); onnxc supports opsets 1 to %d",
                        o->version, OC_MAX_OPSET);
    return NULL;
}

static onnxc_status *convert_opsets(onnxc_model *m, const Onnx__ModelProto *pb)
{
    int n;
    OC_TRY(count_to_int(pb->n_opset_import, "opset imports", &n));
    /* One spare entry for the opset 1 that old files imply. */
    void *mem;
    OC_TRY(alloc_array(m, (size_t)n + 1, sizeof(oc_opset), &mem));
    m->opsets = mem;
    const char **domains = malloc(((size_t)n + 1) * sizeof *domains);
    if (!domains) return oc_no_memory();
    onnxc_status *st = NULL;
    for (int i = 0; i < n && !st; i++) {
        st = convert_opset(m, pb->opset_import[i], &m->opsets[i]);
        m->n_opsets = i + 1;
        domains[i] = is_default_domain(m->opsets[i].domain) ? "" : m->opsets[i].domain;
    }
    const char *dup = NULL;
    if (!st) st = find_duplicate(domains, (size_t)n, &dup);
    if (!st && dup)
        st = oc_error(ONNXC_ERR_MODEL, "opset_import lists domain '%s' more than once", dup[0] ? dup : "ai.onnx");
    free(domains);
    return st;
}

/* Files from before IR version 3 had no opset_import and meant opset 1. */
static onnxc_status *check_default_opset(onnxc_model *m)
{
    bool used = false, imported = false;
    for (int i = 0; i < m->n_nodes && !used; i++) used = m->nodes[i].domain[0] == 0;
    for (int i = 0; i < m->n_opsets && !imported; i++) imported = is_default_domain(m->opsets[i].domain);
    if (!used || imported) return NULL;
    if (m->ir_version >= 3)
        return oc_error(ONNXC_ERR_MODEL,
                        "the model has nodes in the default domain (ai.onnx) but imports no opset for it");
    oc_opset *o = &m->opsets[m->n_opsets++]; /* the spare entry */
    o->domain = "";
    o->version = 1;
    return NULL;
}

/* ---- attributes ---------------------------------------------------------- */

/* Very old files leave out the type: it follows from the field that is set. */
static int infer_attr_type(const Onnx__AttributeProto *a)
{
    if (a->has_f) return OC_ATTR_FLOAT;
    if (a->has_i) return OC_ATTR_INT;
    if (a->has_s) return OC_ATTR_STRING;
    if (a->t) return OC_ATTR_TENSOR;
    if (a->g) return OC_ATTR_GRAPH;
    if (a->sparse_tensor) return OC_ATTR_SPARSE_TENSOR;
    if (a->tp) return OC_ATTR_TYPE_PROTO;
    if (a->n_floats) return OC_ATTR_FLOATS;
    if (a->n_ints) return OC_ATTR_INTS;
    if (a->n_strings) return OC_ATTR_STRINGS;
    if (a->n_tensors) return OC_ATTR_TENSORS;
    if (a->n_graphs) return OC_ATTR_GRAPHS;
    if (a->n_sparse_tensors) return OC_ATTR_SPARSE_TENSORS;
    if (a->n_type_protos) return OC_ATTR_TYPE_PROTOS;
    return OC_ATTR_UNDEFINED;
}

static onnxc_status *convert_strings(onnxc_model *m, const Onnx__AttributeProto *pb, oc_attr *a)
{
    void *strings, *lens;
    OC_TRY(alloc_array(m, pb->n_strings, sizeof(char *), &strings));
    OC_TRY(alloc_array(m, pb->n_strings, sizeof(size_t), &lens));
    for (size_t i = 0; i < pb->n_strings; i++) {
        const ProtobufCBinaryData *b = &pb->strings[i];
        const char *s = oc_arena_strndup(&m->arena, (const char *)b->data, b->len);
        if (!s) return oc_no_memory();
        ((const char **)strings)[i] = s;
        ((size_t *)lens)[i] = b->len;
    }
    a->strings = strings;
    a->string_lens = lens;
    return NULL;
}

static onnxc_status *convert_tensors(loader *L, const Onnx__AttributeProto *pb, oc_attr *a)
{
    void *mem;
    OC_TRY(alloc_array(L->m, pb->n_tensors, sizeof(oc_tensor), &mem));
    a->tensors = mem;
    for (size_t i = 0; i < pb->n_tensors; i++)
        OC_TRY(decode_owned_tensor(L, pb->tensors[i], &a->tensors[i]));
    return NULL;
}

/* Fills a's value fields for its type. */
static onnxc_status *convert_attr_value(loader *L, const Onnx__AttributeProto *pb, oc_attr *a)
{
    onnxc_model *m = L->m;
    void *mem;
    switch (a->type) {
    case OC_ATTR_FLOAT: a->f = pb->f; return NULL;
    case OC_ATTR_INT: a->i = pb->i; return NULL;
    case OC_ATTR_STRING:
        a->s = oc_arena_strndup(&m->arena, (const char *)pb->s.data, pb->s.len);
        a->s_len = pb->s.len;
        return a->s ? NULL : oc_no_memory();
    case OC_ATTR_TENSOR:
        if (!pb->t) return oc_error(ONNXC_ERR_MODEL, "type TENSOR but no tensor");
        a->n = 1;
        a->t = oc_arena_alloc(&m->arena, sizeof *a->t);
        if (!a->t) return oc_no_memory();
        return decode_owned_tensor(L, pb->t, a->t);
    case OC_ATTR_FLOATS:
        a->n = pb->n_floats;
        OC_TRY(alloc_array(m, a->n, sizeof(float), &mem));
        if (a->n) memcpy(mem, pb->floats, a->n * sizeof(float));
        a->floats = mem;
        return NULL;
    case OC_ATTR_INTS:
        a->n = pb->n_ints;
        OC_TRY(alloc_array(m, a->n, sizeof(int64_t), &mem));
        if (a->n) memcpy(mem, pb->ints, a->n * sizeof(int64_t));
        a->ints = mem;
        return NULL;
    case OC_ATTR_STRINGS: a->n = pb->n_strings; return convert_strings(m, pb, a);
    case OC_ATTR_TENSORS: a->n = pb->n_tensors; return convert_tensors(L, pb, a);
    /* Kinds onnxc keeps only the type and count of; ops reject them. */
    case OC_ATTR_GRAPH: a->n = pb->g ? 1 : 0; return NULL;
    case OC_ATTR_SPARSE_TENSOR: a->n = pb->sparse_tensor ? 1 : 0; return NULL;
    case OC_ATTR_TYPE_PROTO: a->n = pb->tp ? 1 : 0; return NULL;
    case OC_ATTR_GRAPHS: a->n = pb->n_graphs; return NULL;
    case OC_ATTR_SPARSE_TENSORS: a->n = pb->n_sparse_tensors; return NULL;
    case OC_ATTR_TYPE_PROTOS: a->n = pb->n_type_protos; return NULL;
    default: return NULL; /* OC_ATTR_UNDEFINED: no value at all */
    }
}

static onnxc_status *convert_attr(loader *L, const Onnx__AttributeProto *pb, size_t index, oc_attr *a)
{
    if (is_empty(pb->name)) return oc_error(ONNXC_ERR_MODEL, "attribute #%zu has no name", index);
    OC_TRY(copy_str(L->m, pb->name, &a->name));
    int type = pb->has_type ? (int)pb->type : OC_ATTR_UNDEFINED;
    if (type < OC_ATTR_UNDEFINED || type > OC_ATTR_TYPE_PROTOS)
        return oc_error(ONNXC_ERR_MODEL, "attribute '%s' has an unknown type %d", a->name, type);
    a->type = type == OC_ATTR_UNDEFINED ? infer_attr_type(pb) : type;
    return oc_error_prefix(convert_attr_value(L, pb, a), "attribute '%s'", a->name);
}

/* ---- nodes --------------------------------------------------------------- */

static onnxc_status *copy_names(onnxc_model *m, char *const *names, size_t n, const char *what,
                                int *count, const char ***out_names, int **out_ids)
{
    OC_TRY(count_to_int(n, what, count));
    void *names_mem, *ids_mem;
    OC_TRY(alloc_array(m, n, sizeof(char *), &names_mem));
    OC_TRY(alloc_array(m, n, sizeof(int), &ids_mem));
    *out_names = names_mem;
    *out_ids = ids_mem;
    for (size_t i = 0; i < n; i++) {
        OC_TRY(copy_str(m, names[i], &(*out_names)[i]));
        (*out_ids)[i] = -1; /* linked by graph.c */
    }
    return NULL;
}

static onnxc_status *convert_node_fields(loader *L, const Onnx__NodeProto *pb, oc_node *n)
{
    onnxc_model *m = L->m;
    OC_TRY(copy_str(m, pb->op_type, &n->op_type));
    OC_TRY(copy_str(m, is_default_domain(pb->domain) ? "" : pb->domain, &n->domain));
    OC_TRY(copy_names(m, pb->input, pb->n_input, "node inputs", &n->n_inputs, &n->input_names,
                      &n->inputs));
    OC_TRY(copy_names(m, pb->output, pb->n_output, "node outputs", &n->n_outputs, &n->output_names,
                      &n->outputs));
    OC_TRY(count_to_int(pb->n_attribute, "attributes", &n->n_attrs));
    void *mem;
    OC_TRY(alloc_array(m, pb->n_attribute, sizeof(oc_attr), &mem));
    n->attrs = mem;
    for (size_t i = 0; i < pb->n_attribute; i++) OC_TRY(convert_attr(L, pb->attribute[i], i, &n->attrs[i]));
    return NULL;
}

static onnxc_status *convert_node(loader *L, const Onnx__NodeProto *pb, int index, oc_node *n)
{
    n->index = index;
    OC_TRY(copy_str(L->m, pb->name, &n->name));
    if (is_empty(pb->op_type))
        return oc_error(ONNXC_ERR_MODEL, "node #%d '%s' has no op_type", index, n->name);
    onnxc_status *st = convert_node_fields(L, pb, n);
    if (st && n->name[0]) return oc_error_prefix(st, "node '%s' (%s)", n->name, pb->op_type);
    return oc_error_prefix(st, "node #%d (%s)", index, pb->op_type);
}

static onnxc_status *convert_nodes(loader *L, const Onnx__GraphProto *g)
{
    onnxc_model *m = L->m;
    int n;
    OC_TRY(count_to_int(g->n_node, "nodes", &n));
    void *mem;
    OC_TRY(alloc_array(m, (size_t)n, sizeof(oc_node), &mem));
    m->nodes = mem;
    for (int i = 0; i < n; i++) {
        OC_TRY(convert_node(L, g->node[i], i, &m->nodes[i]));
        m->n_nodes = i + 1;
    }
    return NULL;
}

/* ---- initializers -------------------------------------------------------- */

static onnxc_status *check_unique_initializers(const onnxc_model *m)
{
    const char **names = malloc(((size_t)m->n_initializers + 1) * sizeof *names);
    if (!names) return oc_no_memory();
    for (int i = 0; i < m->n_initializers; i++) names[i] = m->initializers[i].name;
    const char *dup = NULL;
    onnxc_status *st = find_duplicate(names, (size_t)m->n_initializers, &dup);
    if (!st && dup) st = oc_error(ONNXC_ERR_MODEL, "initializer '%s' is defined more than once", dup);
    free(names);
    return st;
}

static onnxc_status *convert_initializers(loader *L, const Onnx__GraphProto *g)
{
    onnxc_model *m = L->m;
    if (g->n_sparse_initializer > 0) {
        const Onnx__SparseTensorProto *s = g->sparse_initializer[0];
        const char *name = s->values && !is_empty(s->values->name) ? s->values->name : "(unnamed)";
        return oc_error(ONNXC_ERR_UNSUPPORTED, "sparse initializer '%s': onnxc does not support sparse tensors",
                        name);
    }
    int n;
    OC_TRY(count_to_int(g->n_initializer, "initializers", &n));
    void *mem;
    OC_TRY(alloc_array(m, (size_t)n, sizeof(oc_initializer), &mem));
    m->initializers = mem;
    for (int i = 0; i < n; i++) {
        Onnx__TensorProto *pb = g->initializer[i];
        if (is_empty(pb->name)) return oc_error(ONNXC_ERR_MODEL, "initializer #%d has no name", i);
        oc_initializer *init = &m->initializers[i];
        OC_TRY(copy_str(m, pb->name, &init->name));
        m->n_initializers = i + 1;
        if (L->raws && (size_t)i < L->raws->count && L->raws->items[i].len) {
            const borrowed_raw *r = &L->raws->items[i];
            oc_data_kind kind;
            OC_TRY(oc_pb_decode_tensor_borrowed(pb, L->source + r->offset, r->len, &L->lim,
                                                &init->tensor, &kind));
            if (kind == OC_DATA_BORROWED) L->borrowed = true;
            if (kind == OC_DATA_MALLOC) OC_TRY(oc_model_own(m, init->tensor.data));
            continue;
        }
        OC_TRY(decode_owned_tensor(L, pb, &init->tensor));
    }
    return check_unique_initializers(m);
}

/* ---- graph inputs, outputs, value_info ----------------------------------- */

/* The name of a non-tensor type, or NULL for a tensor type (or no type). */
static const char *non_tensor_kind(const Onnx__TypeProto *tp)
{
    if (!tp) return NULL;
    switch (tp->value_case) {
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: return "sequence";
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: return "map";
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: return "optional";
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: return "sparse tensor";
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: return NULL;
    default: return NULL; /* no type set: treated as undeclared */
    }
}

static onnxc_status *convert_shape(onnxc_model *m, const Onnx__TensorShapeProto *shape, oc_type_decl *d)
{
    if (shape->n_dim > (size_t)m->limits.max_rank)
        return oc_error(ONNXC_ERR_LIMIT, "rank %zu exceeds the limit of %d (max_rank)", shape->n_dim,
                        m->limits.max_rank);
    d->rank = (int)shape->n_dim;
    for (int i = 0; i < d->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *dim = shape->dim[i];
        d->dims[i] = -1;
        d->dim_names[i] = NULL;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dim->dim_value < 0)
                return oc_error(ONNXC_ERR_MODEL, "dimension %d is negative (%" PRId64 ")", i, dim->dim_value);
            d->dims[i] = dim->dim_value;
        } else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   !is_empty(dim->dim_param)) {
            OC_TRY(copy_str(m, dim->dim_param, &d->dim_names[i]));
        }
    }
    return NULL;
}

/* A tensor type (or none) into d. */
static onnxc_status *convert_type(onnxc_model *m, const Onnx__TypeProto *tp, oc_type_decl *d)
{
    d->dtype = 0;
    d->rank = -1;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type) return NULL;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    d->dtype = tt->has_elem_type ? tt->elem_type : 0;
    return tt->shape ? convert_shape(m, tt->shape, d) : NULL;
}

/* Converts a list of ValueInfoProto. what names the list in messages; when
 * skip_non_tensor, entries of other types are left out, else refused. */
static onnxc_status *convert_value_infos(onnxc_model *m, Onnx__ValueInfoProto *const *list, size_t n,
                                         const char *what, bool skip_non_tensor, int *out_n,
                                         oc_value_info **out)
{
    int count;
    OC_TRY(count_to_int(n, what, &count));
    void *mem;
    OC_TRY(alloc_array(m, n, sizeof(oc_value_info), &mem));
    *out = mem;
    *out_n = 0;
    for (size_t i = 0; i < n; i++) {
        const Onnx__ValueInfoProto *vi = list[i];
        if (is_empty(vi->name)) return oc_error(ONNXC_ERR_MODEL, "%s #%zu has no name", what, i);
        const char *kind = non_tensor_kind(vi->type);
        if (kind && skip_non_tensor) continue;
        if (kind)
            return oc_error(ONNXC_ERR_UNSUPPORTED, "%s '%s' has type %s; onnxc supports only tensors", what,
                            vi->name, kind);
        oc_value_info *v = &(*out)[*out_n];
        OC_TRY(copy_str(m, vi->name, &v->name));
        OC_TRY(oc_error_prefix(convert_type(m, vi->type, &v->type), "%s '%s'", what, vi->name));
        (*out_n)++;
    }
    return NULL;
}

/* ---- the model ----------------------------------------------------------- */

static onnxc_status *convert_graph(loader *L, const Onnx__GraphProto *g)
{
    onnxc_model *m = L->m;
    OC_TRY(copy_str(m, g->name, &m->graph_name));
    OC_TRY(convert_nodes(L, g));
    OC_TRY(check_default_opset(m));
    OC_TRY(convert_initializers(L, g));
    OC_TRY(convert_value_infos(m, g->input, g->n_input, "graph input", false, &m->n_graph_inputs,
                               &m->graph_inputs));
    OC_TRY(convert_value_infos(m, g->output, g->n_output, "graph output", false, &m->n_graph_outputs,
                               &m->graph_outputs));
    return convert_value_infos(m, g->value_info, g->n_value_info, "value_info", true, &m->n_value_infos,
                               &m->value_infos);
}

static onnxc_status *convert_model(loader *L, const Onnx__ModelProto *pb)
{
    onnxc_model *m = L->m;
    m->ir_version = pb->has_ir_version ? pb->ir_version : 0;
    m->model_version = pb->has_model_version ? pb->model_version : 0;
    OC_TRY(copy_str(m, pb->producer_name, &m->producer_name));
    OC_TRY(copy_str(m, pb->producer_version, &m->producer_version));
    OC_TRY(copy_str(m, pb->domain, &m->domain));
    if (!pb->graph) return oc_error(ONNXC_ERR_MODEL, "model has no graph");
    OC_TRY(convert_opsets(m, pb));
    return convert_graph(L, pb->graph);
}

static onnxc_status *load(onnxc_model *m, const void *data, size_t size, const char *model_dir,
                          bool keep, bool *borrowed)
{
    if (!m || (!data && size)) return oc_error(ONNXC_ERR_ARGUMENT, "oc_load_model: NULL model or data");
    /* A model zeroed by its caller (tests) gets the default limits. */
    if (!m->limits.max_rank) m->limits = oc_limits_default();
    if (!m->budget.owner) m->budget = (oc_budget){.owner = "model", .limit = m->limits.max_bytes};
    m->arena.budget = &m->budget;
    OC_TRY(check_wire(data, size, &onnx__model_proto__descriptor));
    byte_buf compacted = {0};
    borrow_list raws = {0};
    const uint8_t *bytes = data;
    size_t n_bytes = size;
    if (keep) {
        onnxc_status *st = compact_model(data, size, &compacted, &raws);
        if (st) {
            free(compacted.data);
            free(raws.items);
            return st;
        }
        bytes = compacted.data;
        n_bytes = compacted.len;
    }
    /* protobuf-c's allocations are charged to the model: a small file can
     * unpack into many times its size (a 1-byte varint into an 8-byte int,
     * a 2-byte empty string into a pointer and a heap block). */
    ProtobufCAllocator allocator = {pb_alloc, pb_free, &m->budget};
    Onnx__ModelProto *pb = onnx__model_proto__unpack(&allocator, n_bytes, bytes);
    onnxc_status *st = NULL;
    if (!pb && m->budget.refused)
        st = oc_error_prefix(oc_budget_explain(&m->budget, oc_no_memory()), "decoding the protobuf");
    else if (!pb)
        st = oc_error(ONNXC_ERR_PARSE, "not a valid ONNX model protobuf");
    loader L = {.m = m, .ext = {.dir = model_dir, .real_dir = NULL},
                .lim = {&m->limits, &m->budget}, .source = data,
                .raws = keep ? &raws : NULL, .borrowed = false};
    if (!st) st = convert_model(&L, pb);
    oc_external_dir_free(&L.ext);
    /* raw_data taken by tensors was detached (and stays charged: the model holds it). */
    if (pb) onnx__model_proto__free_unpacked(pb, &allocator);
    free(compacted.data);
    free(raws.items);
    if (borrowed) *borrowed = L.borrowed;
    return st;
}

onnxc_status *oc_load_model(onnxc_model *m, const void *data, size_t size, const char *model_dir)
{
    return load(m, data, size, model_dir, false, NULL);
}

onnxc_status *oc_load_model_in_place(onnxc_model *m, const void *data, size_t size,
                                     const char *model_dir, bool *borrowed)
{
    *borrowed = false;
    return load(m, data, size, model_dir, true, borrowed);
}
