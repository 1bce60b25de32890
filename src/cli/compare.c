/* Element access and the output comparison of `onnxc test`. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "cli.h"

bool cli_dtype_is_float(onnxc_dtype dtype)
{
    return dtype == ONNXC_DTYPE_FLOAT || dtype == ONNXC_DTYPE_DOUBLE ||
           dtype == ONNXC_DTYPE_FLOAT16;
}

static bool dtype_is_signed(onnxc_dtype dtype)
{
    return dtype == ONNXC_DTYPE_INT8 || dtype == ONNXC_DTYPE_INT16 || dtype == ONNXC_DTYPE_INT32 ||
           dtype == ONNXC_DTYPE_INT64;
}

static double half_to_double(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exponent == 0) return sign * ldexp(mantissa, -24); /* zero and subnormals */
    if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
    return sign * ldexp(mantissa + 1024, exponent - 25);
}

/* Loads element i of an integer or bool buffer, widened. */
static int64_t element_signed(onnxc_dtype dtype, const void *data, size_t i)
{
    const char *p = (const char *)data + i * onnxc_dtype_size(dtype);
    switch (dtype) {
    case ONNXC_DTYPE_INT8: { int8_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_INT16: { int16_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_INT32: { int32_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_INT64: { int64_t v; memcpy(&v, p, sizeof v); return v; }
    default: return 0;
    }
}

static uint64_t element_unsigned(onnxc_dtype dtype, const void *data, size_t i)
{
    const char *p = (const char *)data + i * onnxc_dtype_size(dtype);
    switch (dtype) {
    case ONNXC_DTYPE_BOOL:
    case ONNXC_DTYPE_UINT8: { uint8_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_UINT16: { uint16_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_UINT32: { uint32_t v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_UINT64: { uint64_t v; memcpy(&v, p, sizeof v); return v; }
    default: return 0;
    }
}

double cli_element_double(onnxc_dtype dtype, const void *data, size_t i)
{
    const char *p = (const char *)data + i * onnxc_dtype_size(dtype);
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: { float v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_DOUBLE: { double v; memcpy(&v, p, sizeof v); return v; }
    case ONNXC_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, p, sizeof v); return half_to_double(v); }
    default: break;
    }
    return dtype_is_signed(dtype) ? (double)element_signed(dtype, data, i)
                                  : (double)element_unsigned(dtype, data, i);
}

const char *cli_element_str(onnxc_dtype dtype, const void *data, size_t i, char *buf, size_t size)
{
    if (cli_dtype_is_float(dtype))
        snprintf(buf, size, "%.9g", cli_element_double(dtype, data, i));
    else if (dtype == ONNXC_DTYPE_BOOL)
        snprintf(buf, size, "%s", element_unsigned(dtype, data, i) ? "true" : "false");
    else if (dtype_is_signed(dtype))
        snprintf(buf, size, "%" PRId64, element_signed(dtype, data, i));
    else
        snprintf(buf, size, "%" PRIu64, element_unsigned(dtype, data, i));
    return buf;
}

/* "[1, 0, 2]": the position of flat index i in a tensor of t's shape. */
static const char *index_str(const oc_tensor *t, size_t i, char *buf, size_t size)
{
    int64_t idx[OC_MAX_RANK];
    for (int d = t->rank - 1; d >= 0; d--) {
        size_t dim = (size_t)t->dims[d];
        idx[d] = (int64_t)(i % dim);
        i /= dim;
    }
    return oc_shape_str(idx, t->rank, buf, size);
}

/* How far element i is out of tolerance (tol = the absolute slack plus rtol
 * times |want|): 0 when it matches, larger is worse. */
static double float_badness(double got, double want, double atol, double rtol)
{
    if (isnan(want)) return isnan(got) ? 0 : INFINITY;
    if (got == want) return 0; /* also equal infinities */
    if (isnan(got) || isinf(got) || isinf(want)) return INFINITY;
    double tol = atol + rtol * fabs(want);
    double diff = fabs(got - want);
    return diff <= tol ? 0 : tol > 0 ? diff / tol : INFINITY;
}

static double integer_badness(onnxc_dtype dtype, const void *got, const void *want, size_t i)
{
    if (dtype_is_signed(dtype)) {
        int64_t g = element_signed(dtype, got, i), w = element_signed(dtype, want, i);
        return g == w ? 0 : fabs((double)g - (double)w);
    }
    uint64_t g = element_unsigned(dtype, got, i), w = element_unsigned(dtype, want, i);
    return g == w ? 0 : fabs((double)g - (double)w);
}

static bool same_shape(const oc_tensor *a, const oc_tensor *b)
{
    if (a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

static double max_abs(const oc_tensor *t)
{
    double most = 0;
    for (size_t i = 0; i < t->count; i++) {
        double v = fabs(cli_element_double(t->dtype, t->data, i));
        if (v > most && !isinf(v)) most = v;
    }
    return most;
}

typedef struct mismatch {
    size_t bad, worst;
    double worst_badness;
} mismatch;

static mismatch count_mismatches(const oc_tensor *got, const oc_tensor *want, double atol,
                                 double rtol)
{
    bool is_float = cli_dtype_is_float(want->dtype);
    mismatch mm = {0, 0, 0};
    for (size_t i = 0; i < want->count; i++) {
        double badness = is_float ? float_badness(cli_element_double(got->dtype, got->data, i),
                                                  cli_element_double(want->dtype, want->data, i),
                                                  atol, rtol)
                                  : integer_badness(want->dtype, got->data, want->data, i);
        if (badness == 0) continue;
        if (mm.bad++ == 0 || badness > mm.worst_badness) {
            mm.worst = i;
            mm.worst_badness = badness;
        }
    }
    return mm;
}

bool cli_compare(const oc_tensor *got, const oc_tensor *want, const cli_tolerance *tol, char *msg,
                 size_t size, char *note, size_t note_size)
{
    char a[OC_SHAPE_STR_MAX], b[OC_SHAPE_STR_MAX];
    if (note && note_size) note[0] = 0;
    if (got->dtype != want->dtype) {
        snprintf(msg, size, "element type %s, expected %s", onnxc_dtype_name(got->dtype),
                 onnxc_dtype_name(want->dtype));
        return false;
    }
    if (!same_shape(got, want)) {
        snprintf(msg, size, "shape %s, expected %s",
                 oc_shape_str(got->dims, got->rank, a, sizeof a),
                 oc_shape_str(want->dims, want->rank, b, sizeof b));
        return false;
    }
    bool is_float = cli_dtype_is_float(want->dtype);
    double atol = tol->atol + (is_float && tol->atol_scale > 0 ? tol->atol_scale * max_abs(want) : 0);
    mismatch mm = count_mismatches(got, want, atol, tol->rtol);
    char g[64], w[64], idx[OC_SHAPE_STR_MAX];
    if (mm.bad == 0) {
        const cli_tolerance onnx = CLI_ONNX_TOLERANCE;
        bool looser = tol->atol_scale > 0 || tol->atol > onnx.atol || tol->rtol > onnx.rtol;
        if (!is_float || !looser || !note) return true;
        mismatch strict = count_mismatches(got, want, onnx.atol, onnx.rtol);
        if (strict.bad)
            snprintf(note, note_size,
                     "%zu of %zu elements outside the ONNX tolerance 1e-7 + 1e-3*|expected|, "
                     "worst %.3gx at %s: got %s, expected %s",
                     strict.bad, want->count, strict.worst_badness,
                     index_str(want, strict.worst, idx, sizeof idx),
                     cli_element_str(got->dtype, got->data, strict.worst, g, sizeof g),
                     cli_element_str(want->dtype, want->data, strict.worst, w, sizeof w));
        return true;
    }
    char tol_text[128] = "";
    if (is_float)
        snprintf(tol_text, sizeof tol_text, " (tolerance %.3g + %.3g*|expected|)", atol, tol->rtol);
    snprintf(msg, size, "%zu of %zu elements differ%s; worst at %s: got %s, expected %s", mm.bad,
             want->count, tol_text, index_str(want, mm.worst, idx, sizeof idx),
             cli_element_str(got->dtype, got->data, mm.worst, g, sizeof g),
             cli_element_str(want->dtype, want->data, mm.worst, w, sizeof w));
    return false;
}
