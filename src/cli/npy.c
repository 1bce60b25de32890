/* NumPy .npy files (format versions 1.0, 2.0 and 3.0). The header is a Python
 * dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
 * It is parsed strictly: exactly these three keys, C order, a known element
 * type, and a data size that matches the shape to the byte. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

bool cli_npy_magic(const void *data, size_t size)
{
    return size >= sizeof npy_magic && memcmp(data, npy_magic, sizeof npy_magic) == 0;
}

/* A cursor over the header text. */
typedef struct header {
    const char *p, *end;
} header;

static void skip_spaces(header *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

/* Consumes c (after blanks) when it is next. */
static bool accept(header *h, char c)
{
    skip_spaces(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return true;
    }
    return false;
}

static onnxc_status *header_error(const char *what)
{
    return oc_error(ONNXC_ERR_PARSE, "invalid .npy header: %s", what);
}

/* A quoted string without escapes into buf. */
static onnxc_status *parse_string(header *h, char *buf, size_t size)
{
    skip_spaces(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return header_error("expected a string");
    char quote = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != quote) {
        if (*h->p == '\\' || n + 1 >= size) return header_error("unexpected string");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return header_error("unterminated string");
    h->p++;
    buf[n] = '\0';
    return NULL;
}

static bool accept_word(header *h, const char *word)
{
    skip_spaces(h);
    size_t n = strlen(word);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, word, n) != 0) return false;
    h->p += n;
    return true;
}

static onnxc_status *parse_bool(header *h, bool *out)
{
    if (accept_word(h, "True"))
        *out = true;
    else if (accept_word(h, "False"))
        *out = false;
    else
        return header_error("fortran_order is neither True nor False");
    return NULL;
}

static onnxc_status *parse_dim(header *h, int64_t *out)
{
    skip_spaces(h);
    int64_t v = 0;
    const char *start = h->p;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        if (!oc_mul_i64(v, 10, &v) || !oc_add_i64(v, *h->p - '0', &v))
            return header_error("a dimension is too large");
        h->p++;
    }
    if (h->p == start) return header_error("expected a dimension (a non-negative integer)");
    if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 longs */
    *out = v;
    return NULL;
}

/* A tuple: "()", "(3,)", "(2, 3)", "(2, 3,)". */
static onnxc_status *parse_shape(header *h, oc_tensor *t)
{
    if (!accept(h, '(')) return header_error("shape is not a tuple");
    t->rank = 0;
    while (!accept(h, ')')) {
        if (t->rank == OC_MAX_RANK)
            return oc_error(ONNXC_ERR_LIMIT, ".npy array has more than %d dimensions", OC_MAX_RANK);
        OC_TRY(parse_dim(h, &t->dims[t->rank]));
        t->rank++;
        bool comma = accept(h, ',');
        if (!comma && !accept(h, ')')) return header_error("expected ',' or ')' in shape");
        if (!comma) {
            if (t->rank == 1) return header_error("a one-dimensional shape needs a comma: (n,)");
            break;
        }
    }
    return NULL;
}

/* Element types by NumPy kind and size. */
static onnxc_dtype dtype_of(char kind, int size)
{
    switch (kind) {
    case 'f': return size == 4 ? ONNXC_DTYPE_FLOAT : size == 8 ? ONNXC_DTYPE_DOUBLE
                   : size == 2 ? ONNXC_DTYPE_FLOAT16 : ONNXC_DTYPE_UNDEFINED;
    case 'i': return size == 1 ? ONNXC_DTYPE_INT8 : size == 2 ? ONNXC_DTYPE_INT16
                   : size == 4 ? ONNXC_DTYPE_INT32 : size == 8 ? ONNXC_DTYPE_INT64
                   : ONNXC_DTYPE_UNDEFINED;
    case 'u': return size == 1 ? ONNXC_DTYPE_UINT8 : size == 2 ? ONNXC_DTYPE_UINT16
                   : size == 4 ? ONNXC_DTYPE_UINT32 : size == 8 ? ONNXC_DTYPE_UINT64
                   : ONNXC_DTYPE_UNDEFINED;
    case 'b': return size == 1 ? ONNXC_DTYPE_BOOL : ONNXC_DTYPE_UNDEFINED;
    default: return ONNXC_DTYPE_UNDEFINED;
    }
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* descr: byte order ('<', '>', '|' or '='), kind and size, e.g. "<f4". */
static onnxc_status *parse_descr(const char *descr, oc_tensor *t, bool *swap)
{
    char order = descr[0];
    char kind = order ? descr[1] : '\0';
    int size = kind && descr[2] >= '1' && descr[2] <= '8' && !descr[3] ? descr[2] - '0' : 0;
    bool known_order = order && strchr("<>|=", order);
    onnxc_dtype dtype = size && known_order ? dtype_of(kind, size) : ONNXC_DTYPE_UNDEFINED;
    if (dtype == ONNXC_DTYPE_UNDEFINED)
        return oc_error(ONNXC_ERR_UNSUPPORTED,
                        ".npy element type '%s' is not supported (use float32, float64, float16, "
                        "int8/16/32/64, uint8/16/32/64 or bool)",
                        descr);
    if (order == '|' && size != 1)
        return header_error("byte order '|' is only for one-byte types");
    bool little = order == '<' || (order == '=' && host_is_little_endian());
    *swap = size > 1 && order != '|' && little != host_is_little_endian();
    t->dtype = dtype;
    return NULL;
}

typedef struct npy_header {
    bool have_descr, have_order, have_shape;
    bool fortran_order;
    bool swap;
} npy_header;

static onnxc_status *parse_entry(header *h, oc_tensor *t, npy_header *out)
{
    char key[32], descr[32];
    OC_TRY(parse_string(h, key, sizeof key));
    if (!accept(h, ':')) return header_error("expected ':' after a key");
    bool *seen;
    if (strcmp(key, "descr") == 0) {
        seen = &out->have_descr;
        skip_spaces(h);
        if (h->p < h->end && *h->p == '[')
            return oc_error(ONNXC_ERR_UNSUPPORTED, ".npy structured arrays are not supported");
        OC_TRY(parse_string(h, descr, sizeof descr));
        OC_TRY(parse_descr(descr, t, &out->swap));
    } else if (strcmp(key, "fortran_order") == 0) {
        seen = &out->have_order;
        OC_TRY(parse_bool(h, &out->fortran_order));
    } else if (strcmp(key, "shape") == 0) {
        seen = &out->have_shape;
        OC_TRY(parse_shape(h, t));
    } else {
        return oc_error(ONNXC_ERR_PARSE, "invalid .npy header: unknown key '%s'", key);
    }
    if (*seen) return oc_error(ONNXC_ERR_PARSE, "invalid .npy header: key '%s' given twice", key);
    *seen = true;
    return NULL;
}

/* The dict, then nothing but blanks (NumPy pads with spaces and ends with '\n'). */
static onnxc_status *parse_header(header *h, oc_tensor *t, npy_header *out)
{
    if (!accept(h, '{')) return header_error("expected '{'");
    while (!accept(h, '}')) {
        OC_TRY(parse_entry(h, t, out));
        if (!accept(h, ',')) {
            if (!accept(h, '}')) return header_error("expected ',' or '}'");
            break;
        }
    }
    skip_spaces(h);
    if (h->p != h->end) return header_error("unexpected text after the dict");
    if (!out->have_descr || !out->have_order || !out->have_shape)
        return header_error("it needs the keys 'descr', 'fortran_order' and 'shape'");
    if (out->fortran_order)
        return oc_error(ONNXC_ERR_UNSUPPORTED,
                        "Fortran-order .npy arrays are not supported; save a C-order array "
                        "(numpy.ascontiguousarray)");
    return NULL;
}

/* Magic, version, header length: where the header text starts and ends. */
static onnxc_status *locate_header(const unsigned char *b, size_t size, size_t *start, size_t *len)
{
    if (!cli_npy_magic(b, size)) return oc_error(ONNXC_ERR_PARSE, "not a .npy file (bad magic)");
    if (size < 10) return oc_error(ONNXC_ERR_PARSE, ".npy file is truncated");
    int major = b[6], minor = b[7];
    if ((major < 1 || major > 3) || minor != 0)
        return oc_error(ONNXC_ERR_UNSUPPORTED, ".npy format version %d.%d is not supported "
                        "(1.0, 2.0 and 3.0 are)", major, minor);
    if (major == 1) {
        *start = 10;
        *len = (size_t)b[8] | (size_t)b[9] << 8;
    } else {
        if (size < 12) return oc_error(ONNXC_ERR_PARSE, ".npy file is truncated");
        *start = 12;
        *len = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    }
    if (*len > size - *start)
        return oc_error(ONNXC_ERR_PARSE, ".npy header length %zu runs past the end of the file",
                        *len);
    return NULL;
}

static void swap_bytes(unsigned char *data, size_t count, size_t esize)
{
    for (size_t i = 0; i < count; i++) {
        unsigned char *e = data + i * esize;
        for (size_t a = 0, z = esize - 1; a < z; a++, z--) {
            unsigned char c = e[a];
            e[a] = e[z];
            e[z] = c;
        }
    }
}

/* NumPy bools are single bytes 0 or 1; anything else is corrupt. */
static onnxc_status *check_bools(const unsigned char *data, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (data[i] > 1)
            return oc_error(ONNXC_ERR_PARSE, ".npy bool element %zu is %d, not 0 or 1", i, data[i]);
    return NULL;
}

onnxc_status *cli_npy_decode(const void *data, size_t size, oc_tensor *t)
{
    const unsigned char *b = data;
    size_t start = 0, len = 0;
    memset(t, 0, sizeof *t);
    OC_TRY(locate_header(b, size, &start, &len));
    header h = {(const char *)b + start, (const char *)b + start + len};
    npy_header info = {0};
    OC_TRY(parse_header(&h, t, &info));
    OC_TRY(oc_error_prefix(oc_tensor_set_sizes(t), ".npy array"));
    size_t body = size - start - len;
    if (body != t->nbytes)
        return oc_error(ONNXC_ERR_PARSE, ".npy data is %zu bytes, but shape and type need %zu",
                        body, t->nbytes);
    if (t->nbytes == 0) return NULL;
    unsigned char *copy = malloc(t->nbytes);
    if (!copy) return oc_no_memory();
    memcpy(copy, b + start + len, t->nbytes);
    if (info.swap) swap_bytes(copy, t->count, onnxc_dtype_size(t->dtype));
    onnxc_status *st = t->dtype == ONNXC_DTYPE_BOOL ? check_bools(copy, t->count) : NULL;
    if (st) {
        free(copy);
        return st;
    }
    t->data = copy;
    return NULL;
}
