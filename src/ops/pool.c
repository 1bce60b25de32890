/* MaxPool, AveragePool and GlobalAveragePool (ai.onnx opsets 1-26) over 1 to
 * 3 spatial dimensions, and GlobalMaxPool over any number.
 *
 * Attribute history: MaxPool gained storage_order and the Indices output at
 * opset 8, ceil_mode and dilations at 10, int8/uint8 inputs at 12;
 * AveragePool gained count_include_pad at 7, ceil_mode at 10, dilations at
 * 19. An attribute used before its opset is an error. */
#include <inttypes.h>
#include <math.h>

#include "kernels/pool.h"
#include "window.h"

typedef struct pool_params {
    oc_window_attrs window;
    bool col_major_indices;  /* MaxPool storage_order = 1 */
    bool count_include_pad;  /* AveragePool */
} pool_params;

/* The attribute names n may use: the base set plus those its opset has
 * gained (each entry is a name and the opset that introduced it). */
typedef struct attr_since {
    const char *name;
    int64_t since;
} attr_since;

static onnxc_status *check_versioned_attrs(const oc_node *n, const attr_since *list, size_t count)
{
    const char *names[16];
    size_t known = 0;
    for (size_t i = 0; i < count && known < sizeof names / sizeof *names; i++)
        if (n->opset >= list[i].since) names[known++] = list[i].name;
    return oc_check_attr_names(n, names, known);
}

/* Parses the window attributes common to MaxPool and AveragePool; kernel_shape is required. */
static onnxc_status *prepare_window(const oc_node *n, oc_arena *arena, pool_params **out)
{
    pool_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_window_parse(n, &p->window));
    if (p->window.n_kernel == 0)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'kernel_shape' is required");
    *out = p;
    return NULL;
}

onnxc_status *oc_maxpool_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const attr_since names[] = {
        {"auto_pad", 1}, {"kernel_shape", 1}, {"pads", 1},      {"strides", 1},
        {"storage_order", 8}, {"ceil_mode", 10}, {"dilations", 10}};
    OC_TRY(check_versioned_attrs(n, names, sizeof names / sizeof *names));
    pool_params *p;
    OC_TRY(prepare_window(n, arena, &p));
    OC_TRY(oc_attr_flag(n, "storage_order", &p->col_major_indices));
    *params = p;
    return NULL;
}

onnxc_status *oc_averagepool_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const attr_since names[] = {
        {"auto_pad", 1},          {"kernel_shape", 1}, {"pads", 1},      {"strides", 1},
        {"count_include_pad", 7}, {"ceil_mode", 10},   {"dilations", 19}};
    OC_TRY(check_versioned_attrs(n, names, sizeof names / sizeof *names));
    pool_params *p;
    OC_TRY(prepare_window(n, arena, &p));
    OC_TRY(oc_attr_flag(n, "count_include_pad", &p->count_include_pad));
    *params = p;
    return NULL;
}

/* ceil((l + m * y) / a) for a in [1, 2^63), when the result fits in 64 bits
 * although m * y may not: the 128-bit numerator from 32-bit halves, then
 * long division one bit at a time. */
static uint64_t ceil_div_wide(uint64_t l, uint64_t m, uint64_t y, uint64_t a)
{
    uint64_t m_lo = m & 0xFFFFFFFFu, m_hi = m >> 32, y_lo = y & 0xFFFFFFFFu, y_hi = y >> 32;
    uint64_t ll = m_lo * y_lo, lh = m_lo * y_hi, hl = m_hi * y_lo;
    uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
    uint64_t lo = (ll & 0xFFFFFFFFu) | (mid << 32);
    uint64_t hi = m_hi * y_hi + (lh >> 32) + (hl >> 32) + (mid >> 32);
    lo += l;
    hi += lo < l;
    uint64_t q = 0, rem = 0;
    for (int bit = 127; bit >= 0; bit--) {
        rem = rem << 1 | ((bit >= 64 ? hi >> (bit - 64) : lo >> bit) & 1u); /* rem < a < 2^63 */
        q <<= 1;
        if (rem >= a) {
            rem -= a;
            q |= 1u;
        }
    }
    return q + (rem != 0);
}

/* The least x >= 0 with l <= (a * x) mod m <= r, or -1 when there is none
 * (0 <= a < m < 2^63, 0 <= l <= r < m). Euclid-like: when no multiple of a
 * lies in [l, r], the answer comes from the least y with [l + m*y, r + m*y]
 * holding one, which is the same question modulo a; so O(log m) steps. */
static int64_t least_multiple_in(uint64_t a, uint64_t m, uint64_t l, uint64_t r)
{
    if (l == 0) return 0;
    if (a == 0) return -1;
    uint64_t x = (l + a - 1) / a; /* the first multiple of a at or above l */
    if (a * x <= r) return (int64_t)x;
    /* [l, r] is shorter than a and holds no multiple, so r % a >= l % a >= 1. */
    int64_t y = least_multiple_in(m % a, a, a - r % a, a - l % a);
    if (y < 0) return -1;
    return (int64_t)ceil_div_wide(l, m, (uint64_t)y, a);
}

/* The first window of d that covers only padding, or -1. In O(log) time
 * whatever the extents: pads and kernels can be huge.
 *
 * A window starting at s >= 0 covers input iff s < in: those failing are
 * the tail from the first start >= in. A window starting at s < 0 has its
 * first non-negative tap at k0 = ceil(-s / dilation), which only shrinks as
 * the windows move right, and that tap lands at s mod dilation; it covers
 * iff k0 < kernel and s mod dilation < in. Window 0 checks the first
 * condition for all of them; the second can only fail when dilation > in,
 * for a residue pattern repeating with the stride. */
static int64_t first_padding_window(const oc_window_dim *d)
{
    int64_t lo, hi;
    oc_window_taps(d, 0, d->in, &lo, &hi);
    if (lo == hi) return 0;
    int64_t leading = oc_div_ceil(d->pad_begin, d->stride); /* windows starting before 0 */
    if (leading > d->out) leading = d->out;
    if (leading > 1 && d->dilation > d->in) {
        /* Window o starts at o*stride - pad_begin: its residue (a*o + b) mod m. */
        uint64_t m = (uint64_t)d->dilation, a = (uint64_t)d->stride % m;
        uint64_t b = (m - (uint64_t)d->pad_begin % m) % m; /* < in: window 0 passed */
        int64_t o = least_multiple_in(a, m, (uint64_t)d->in - b, m - 1 - b);
        if (o >= 0 && o < leading) return o;
    }
    /* in + pad_begin fits: the padded extent was checked. */
    int64_t tail = oc_div_ceil(d->in + d->pad_begin, d->stride);
    return tail < d->out ? tail : -1;
}

/* Every window must cover at least one input element: a window made only of
 * padding has no maximum, and no average without count_include_pad. */
static onnxc_status *check_windows_cover_input(const oc_node *n, const oc_pool_geom *g,
                                               int spatial)
{
    for (int i = 0; i < OC_WINDOW_DIMS; i++) {
        int64_t o = first_padding_window(&g->dim[i]);
        if (o >= 0)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "window %" PRId64 " of spatial dimension %d covers only padding",
                                 o, i - (OC_WINDOW_DIMS - spatial));
    }
    return NULL;
}

/* Checks X against the attributes and describes the pooling for the kernels. */
static onnxc_status *pool_geometry(const oc_node *n, const pool_params *p, const oc_tensor *x,
                                   oc_pool_geom *g)
{
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input X is required");
    int spatial = (int)p->window.n_kernel;
    if (x->rank != spatial + 2)
        return oc_node_error(
            n, ONNXC_ERR_MODEL,
            "input X has rank %d; 'kernel_shape' has %d entries, so it needs rank %d "
            "(batch, channels, spatial...)",
            x->rank, spatial, spatial + 2);
    OC_TRY(oc_window_resolve(n, &p->window, spatial, x->dims + 2, p->window.kernel, g->dim));
    /* With every spatial extent >= 1 (resolved above) this is at most X's
     * element count; checked all the same. */
    if (!oc_mul_i64(x->dims[0], x->dims[1], &g->planes))
        return oc_node_error(n, ONNXC_ERR_LIMIT, "input X has more than 2^63 planes");
    return check_windows_cover_input(n, g, spatial);
}

onnxc_status *oc_maxpool_geometry(const oc_node *pool, const oc_tensor *x, oc_pool_geom *g)
{
    if (!pool->params) return oc_node_error(pool, ONNXC_ERR_INTERNAL, "not prepared");
    return pool_geometry(pool, pool->params, x, g);
}

static void set_output_shape(oc_tensor *y, onnxc_dtype dtype, const oc_tensor *x,
                             const oc_pool_geom *g)
{
    y->dtype = dtype;
    y->rank = x->rank;
    y->dims[0] = x->dims[0];
    y->dims[1] = x->dims[1];
    for (int i = 2; i < x->rank; i++) y->dims[i] = g->dim[OC_WINDOW_DIMS - x->rank + i].out;
}

/* Elements of X or of Y; SIZE_MAX when that overflows (Y's count is not
 * validated yet during inference). */
static size_t count_of(const oc_pool_geom *g, bool output)
{
    size_t c = (size_t)g->planes;
    for (int i = 0; i < OC_WINDOW_DIMS; i++)
        if (!oc_mul_size(c, (size_t)(output ? g->dim[i].out : g->dim[i].in), &c)) return SIZE_MAX;
    return c;
}

/* ---- MaxPool ---- */

/* 8-bit inputs (opset 12+) are pooled in float32 scratch: exact, since
 * every 8-bit value is a float and max only selects. */
static bool is_byte_type(onnxc_dtype t) { return t == ONNXC_DTYPE_INT8 || t == ONNXC_DTYPE_UINT8; }

static onnxc_status *check_maxpool_dtype(const oc_node *n, const oc_tensor *x)
{
    if (n->opset >= 12)
        return oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT8,
                              ONNXC_DTYPE_UINT8, 0);
    return oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, 0);
}

/* The scratch a MaxPool run needs: a float copy of 8-bit X, and float room
 * for Y when Y is 8-bit or omitted (Indices alone still needs the maxima). */
typedef struct maxpool_scratch {
    bool x_copy, y_room;
    size_t y_offset, bytes;
} maxpool_scratch;

static bool maxpool_scratch_of(const oc_pool_geom *g, onnxc_dtype dtype, bool y_wanted,
                               maxpool_scratch *s)
{
    s->x_copy = is_byte_type(dtype);
    s->y_room = s->x_copy || !y_wanted;
    size_t x_bytes = 0, y_bytes = 0;
    if (s->x_copy && (!oc_mul_size(count_of(g, false), sizeof(float), &x_bytes) ||
                      !oc_align_up(x_bytes, &x_bytes)))
        return false;
    if (s->y_room && !oc_mul_size(count_of(g, true), sizeof(float), &y_bytes)) return false;
    s->y_offset = x_bytes;
    return oc_add_size(x_bytes, y_bytes, &s->bytes);
}

static oc_tensor *indices_output(oc_tensor *const *out, int n_outputs)
{
    return n_outputs > 1 ? out[1] : NULL;
}

onnxc_status *oc_maxpool_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    oc_tensor *y = ctx->out[0], *indices = indices_output(ctx->out, ctx->n_outputs);
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input X is required");
    if (indices && n->opset < 8)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "MaxPool has the Indices output only from opset 8");
    OC_TRY(check_maxpool_dtype(n, x));
    oc_pool_geom g;
    OC_TRY(pool_geometry(n, ctx->params, x, &g));
    if (y) set_output_shape(y, x->dtype, x, &g);
    if (indices) set_output_shape(indices, ONNXC_DTYPE_INT64, x, &g);
    maxpool_scratch s;
    if (!maxpool_scratch_of(&g, x->dtype, y != NULL, &s))
        return oc_node_error(n, ONNXC_ERR_LIMIT, "the scratch size overflows");
    ctx->workspace = s.bytes;
    return NULL;
}

static void bytes_to_float(onnxc_dtype t, const void *src, float *dst, size_t count)
{
    if (t == ONNXC_DTYPE_INT8)
        for (size_t i = 0; i < count; i++) dst[i] = ((const int8_t *)src)[i];
    else
        for (size_t i = 0; i < count; i++) dst[i] = ((const uint8_t *)src)[i];
}

/* Values come from the input, so they fit; the clamp only keeps the
 * conversion defined should a window ever be empty (-inf). */
static void float_to_bytes(onnxc_dtype t, const float *src, void *dst, size_t count)
{
    float lo = t == ONNXC_DTYPE_INT8 ? -128.0f : 0.0f, hi = t == ONNXC_DTYPE_INT8 ? 127.0f : 255.0f;
    for (size_t i = 0; i < count; i++) {
        float v = isnan(src[i]) ? lo : fminf(fmaxf(src[i], lo), hi);
        if (t == ONNXC_DTYPE_INT8)
            ((int8_t *)dst)[i] = (int8_t)v;
        else
            ((uint8_t *)dst)[i] = (uint8_t)v;
    }
}

/* ---- planes split over the session's threads ---- */

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_GLOBAL_AVG } pool_kind;

typedef struct pool_job {
    pool_kind kind;
    const oc_pool_geom *g;
    const float *x;
    float *y;
    int64_t *indices;
    bool flag;          /* MaxPool: column-major indices; AveragePool: count_include_pad */
    int64_t plane_size; /* GlobalAveragePool */
} pool_job;

static void pool_planes(void *ctx, size_t begin, size_t end, int thread)
{
    (void)thread;
    const pool_job *j = ctx;
    int64_t b = (int64_t)begin, e = (int64_t)end;
    switch (j->kind) {
    case POOL_MAX: oc_maxpool_f32(j->g, j->x, j->y, j->indices, j->flag, b, e); break;
    case POOL_AVG: oc_avgpool_f32(j->g, j->flag, j->x, j->y, b, e); break;
    case POOL_GLOBAL_AVG: oc_global_avgpool_f32(j->plane_size, j->x, j->y, b, e); break;
    }
}

/* Elements read per plane, about: windows or whole planes. */
static double plane_work(const oc_pool_geom *g)
{
    double outs = 1, taps = 1;
    for (int i = 0; i < OC_WINDOW_DIMS; i++) {
        outs *= (double)g->dim[i].out;
        taps *= (double)g->dim[i].kernel;
    }
    return outs * taps;
}

/* Runs the job over planes [0, planes), in chunks of at least ~32K
 * elements of work so that short loops stay on the caller. */
static void run_planes(oc_pool *pool, pool_job *job, int64_t planes, double work_per_plane)
{
    double per = work_per_plane > 1 ? work_per_plane : 1;
    size_t grain = per >= 32768.0 ? 1 : (size_t)(32768.0 / per);
    oc_parallel_for(pool, (size_t)planes, grain, pool_planes, job);
}

onnxc_status *oc_maxpool_run(oc_run_ctx *ctx)
{
    const pool_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    oc_tensor *y = ctx->out[0], *indices = indices_output(ctx->out, ctx->n_outputs);
    if (!y && !indices) return NULL;
    oc_pool_geom g;
    OC_TRY(pool_geometry(ctx->node, p, x, &g));
    if (g.planes == 0) return NULL; /* empty outputs; X's data may be NULL */
    maxpool_scratch s;
    maxpool_scratch_of(&g, x->dtype, y != NULL, &s); /* cannot fail: infer checked it */
    const float *xf = x->data;
    float *yf = y ? y->data : NULL;
    if (s.x_copy) {
        bytes_to_float(x->dtype, x->data, ctx->workspace, count_of(&g, false));
        xf = ctx->workspace;
    }
    if (s.y_room) yf = (float *)((char *)ctx->workspace + s.y_offset);
    pool_job job = {POOL_MAX, &g, xf, yf, indices ? indices->data : NULL, p->col_major_indices, 0};
    run_planes(ctx->pool, &job, g.planes, plane_work(&g));
    if (s.x_copy && y) float_to_bytes(x->dtype, yf, y->data, count_of(&g, true));
    return NULL;
}

/* ---- AveragePool ---- */

onnxc_status *oc_averagepool_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "input X is required");
    OC_TRY(oc_check_dtype(ctx->node, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    oc_pool_geom g;
    OC_TRY(pool_geometry(ctx->node, ctx->params, x, &g));
    if (ctx->out[0]) set_output_shape(ctx->out[0], ONNXC_DTYPE_FLOAT, x, &g);
    return NULL;
}

onnxc_status *oc_averagepool_run(oc_run_ctx *ctx)
{
    const pool_params *p = ctx->params;
    if (!ctx->out[0]) return NULL;
    oc_pool_geom g;
    OC_TRY(pool_geometry(ctx->node, p, ctx->in[0], &g));
    if (g.planes == 0) return NULL; /* an empty output */
    pool_job job = {POOL_AVG, &g, ctx->in[0]->data, ctx->out[0]->data, NULL,
                    p->count_include_pad, 0};
    run_planes(ctx->pool, &job, g.planes, plane_work(&g));
    return NULL;
}

/* ---- GlobalAveragePool ---- */

onnxc_status *oc_globalaveragepool_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    (void)arena;
    *params = NULL;
    return oc_check_attr_names(n, NULL, 0);
}

onnxc_status *oc_globalaveragepool_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "input X is required");
    OC_TRY(oc_check_dtype(ctx->node, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    if (x->rank < 3)
        return oc_node_error(
            ctx->node, ONNXC_ERR_MODEL,
            "input X has rank %d; it needs (batch, channels, spatial...), rank >= 3", x->rank);
    for (int i = 2; i < x->rank; i++)
        if (x->dims[i] < 1)
            return oc_node_error(ctx->node, ONNXC_ERR_MODEL,
                                 "spatial dimension %d of X is empty; its average is undefined",
                                 i - 2);
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL;
    oc_tensor_copy_type(y, x);
    for (int i = 2; i < x->rank; i++) y->dims[i] = 1;
    return NULL;
}

onnxc_status *oc_globalaveragepool_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (!ctx->out[0] || ctx->out[0]->count == 0) return NULL;
    /* Y has planes elements, X planes * plane_size: both fit. */
    int64_t planes = (int64_t)ctx->out[0]->count, plane_size = (int64_t)(x->count / (size_t)planes);
    pool_job job = {POOL_GLOBAL_AVG, NULL, x->data, ctx->out[0]->data, NULL, false, plane_size};
    run_planes(ctx->pool, &job, planes, (double)plane_size);
    return NULL;
}

/* ---- GlobalMaxPool ---- */

/* The maximum of each (batch, channel) plane over all its spatial dims,
 * however many: the planes are flattened to one spatial dim and pooled with
 * a single window spanning it. */

onnxc_status *oc_globalmaxpool_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    (void)arena;
    *params = NULL;
    return oc_check_attr_names(n, NULL, 0);
}

static onnxc_status *global_max_geometry(const oc_node *n, const oc_tensor *x, oc_pool_geom *g)
{
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input X is required");
    OC_TRY(oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    if (x->rank < 3)
        return oc_node_error(
            n, ONNXC_ERR_MODEL,
            "input X has rank %d; it needs (batch, channels, spatial...), rank >= 3", x->rank);
    for (int i = 2; i < x->rank; i++)
        if (x->dims[i] < 1)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "spatial dimension %d of X is empty; its maximum is undefined",
                                 i - 2);
    /* With a spatial dim >= 1 each, planes * plane_size is X's element count,
     * so no product overflows unless planes is 0, when nothing is computed. */
    g->planes = x->dims[0] * x->dims[1]; /* one factor is 0, or both are <= X's count */
    int64_t plane_size = 1;
    for (int i = 2; i < x->rank && g->planes > 0; i++)
        if (!oc_mul_i64(plane_size, x->dims[i], &plane_size))
            return oc_node_error(n, ONNXC_ERR_LIMIT, "input X has more than 2^63 elements");
    g->dim[0] = g->dim[1] = oc_window_unit();
    g->dim[2] = (oc_window_dim){plane_size, 1, plane_size, 1, 1, 0, 0};
    return NULL;
}

onnxc_status *oc_globalmaxpool_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_pool_geom g;
    OC_TRY(global_max_geometry(ctx->node, x, &g));
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL;
    oc_tensor_copy_type(y, x);
    for (int i = 2; i < x->rank; i++) y->dims[i] = 1;
    return NULL;
}

onnxc_status *oc_globalmaxpool_run(oc_run_ctx *ctx)
{
    oc_pool_geom g;
    OC_TRY(global_max_geometry(ctx->node, ctx->in[0], &g));
    if (!ctx->out[0] || g.planes == 0) return NULL;
    pool_job job = {POOL_MAX, &g, ctx->in[0]->data, ctx->out[0]->data, NULL, false, 0};
    run_planes(ctx->pool, &job, g.planes, plane_work(&g));
    return NULL;
}
