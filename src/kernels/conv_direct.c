/* The direct convolution's driver (see conv_direct.h): the choice, the
 * weight packing, the phase planes and the threads. */
#include "conv_direct.h"

#include <string.h>

#include "core/util.h"
#include "pool_isa.h"

/* Taps beyond which the weights of a channel block (taps * MR floats) leave
 * L1 and im2col's GEMM, with its cache blocking over K, does better. */
#ifndef DIRECT_MAX_TAPS
#define DIRECT_MAX_TAPS 1024
#endif
/* Output rows at least this many vectors wide, and at least 3/4 of each
 * plane row outputs (the rest is computed and dropped). */
#ifndef DIRECT_MIN_VECS
#define DIRECT_MIN_VECS 2
#endif

const oc_direct_kernels *oc_direct_kernels_for(oc_isa isa)
{
    switch (oc_isa_resolve(isa)) {
#ifdef OC_HAVE_AVX512
    case OC_ISA_AVX512: return &oc_direct_kernels_avx512;
#endif
#ifdef OC_HAVE_AVX2
    case OC_ISA_AVX2: return &oc_direct_kernels_avx2;
#endif
    default: return &oc_direct_kernels_portable;
    }
}

static int64_t taps_of(const oc_conv_geom *g)
{
    return g->in_channels / g->group * g->dim[1].kernel * g->dim[2].kernel;
}

static bool geometry_fits(const oc_conv_geom *g)
{
    const oc_window_dim *dd = &g->dim[0], *dh = &g->dim[1], *dw = &g->dim[2];
    if (g->group != 1 || dd->in != 1 || dd->kernel != 1 || dd->out != 1) return false;
    if (g->in_channels < 1 || dh->kernel * dw->kernel == 1) return false; /* depthwise, 1x1 */
    for (int i = 1; i < 3; i++) {
        const oc_window_dim *d = &g->dim[i];
        if (d->stride > 4 || d->kernel > 64 || d->dilation > 64) return false;
    }
    return taps_of(g) <= DIRECT_MAX_TAPS;
}

bool oc_conv_direct_applies(const oc_conv_geom *g)
{
    if (!geometry_fits(g)) return false;
    const oc_window_dim *dw = &g->dim[2];
    int64_t vl = oc_direct_kernels_for(OC_ISA_AUTO)->vl, ow = dw->out;
    int64_t cols = ow + (dw->kernel - 1) * dw->dilation / dw->stride;
    return oc_div_ceil(ow, vl) >= DIRECT_MIN_VECS && 4 * ow >= 3 * cols;
}

size_t oc_conv_direct_packed_count(oc_isa isa, const oc_conv_geom *g)
{
    int64_t mr = oc_direct_kernels_for(isa)->mr;
    size_t n;
    if (!oc_mul_size((size_t)oc_div_ceil(g->out_channels, mr) * (size_t)mr, (size_t)taps_of(g),
                     &n))
        return SIZE_MAX;
    return n;
}

void oc_conv_direct_pack(oc_isa isa, const oc_conv_geom *g, const float *w, float *packed)
{
    int64_t mr = oc_direct_kernels_for(isa)->mr, taps = taps_of(g), k = g->out_channels;
    for (int64_t k0 = 0; k0 < k; k0 += mr)
        for (int64_t t = 0; t < taps; t++)
            for (int64_t i = 0; i < mr; i++)
                *packed++ = k0 + i < k ? w[(k0 + i) * taps + t] : 0.0f;
}

/* The phase planes' extents: rows, the floats of a row (the outputs plus
 * the farthest tap's shift), planes and their floats, slack included (the
 * micro-kernel's last vectors read up to SLACK_VECTORS past the last
 * plane). */
#define SLACK_VECTORS 4
typedef struct phase_dims {
    int64_t planes, rows, cols, plane, total;
} phase_dims;

static bool phase_dims_of(const oc_conv_geom *g, int64_t vl, phase_dims *p)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    p->planes = g->in_channels * dh->stride * dw->stride;
    p->rows = dh->out + (dh->kernel - 1) * dh->dilation / dh->stride;
    p->cols = dw->out + (dw->kernel - 1) * dw->dilation / dw->stride;
    int64_t all;
    return oc_mul_i64(p->rows, p->cols, &p->plane) && oc_mul_i64(p->plane, p->planes, &all) &&
           oc_add_i64(all, SLACK_VECTORS * vl, &p->total);
}

/* The workspace: the tap offsets, then one slot a thread: its own phase
 * planes (and, with a fused pool, its conv rows). Each thread fills the
 * plane rows of the output rows it computes itself: with threads on
 * different core complexes (each with its own L3), reading planes another
 * thread has just written costs more than filling them twice where chunks
 * meet (SqueezeNet's fire 3x3 convs, 2 threads: 0.21 -> 0.16 ms). */
typedef struct direct_layout {
    size_t taps, planes, slot; /* bytes, aligned */
} direct_layout;

static bool layout_of(const oc_conv_geom *g, oc_isa isa, int64_t scratch_floats,
                      direct_layout *l)
{
    phase_dims p;
    size_t scratch;
    return phase_dims_of(g, oc_direct_kernels_for(isa)->vl, &p) &&
           oc_mul_size((size_t)taps_of(g), sizeof(int64_t), &l->taps) &&
           oc_align_up(l->taps, &l->taps) &&
           oc_mul_size((size_t)p.total, sizeof(float), &l->planes) &&
           oc_align_up(l->planes, &l->planes) &&
           oc_mul_size((size_t)scratch_floats, sizeof(float), &scratch) &&
           oc_add_size(l->planes, scratch, &l->slot);
}

static bool layout_bytes(const direct_layout *l, int threads, size_t *bytes)
{
    size_t slots;
    return oc_mul_size(l->slot, (size_t)(threads < 1 ? 1 : threads), &slots) &&
           oc_add_size(l->taps, slots, bytes);
}

bool oc_conv_direct_workspace(const oc_conv_geom *g, oc_isa isa, int threads, size_t *bytes)
{
    direct_layout l;
    return layout_of(g, isa, 0, &l) && layout_bytes(&l, threads, bytes);
}

typedef struct direct_run {
    const oc_conv_geom *g;
    const oc_direct_kernels *kern;
    phase_dims pd;
    direct_layout lay;
    const float *x; /* the image */
    char *slots;    /* the threads' slots */
    int64_t per;    /* output rows a unit (plain), pooled rows a unit (fused pool) */
    oc_direct_job job;
} direct_run;

/* Rows [y0, y1) of the image's phase planes into phases: for each input
 * channel c and row phase u, planes (c, u, v) for every v, at index
 * (c sh + u) sw + v. Each input row is read once, into its sw phase rows. */
static void fill_rows(const direct_run *r, const float *x, float *phases, int64_t y0, int64_t y1)
{
    const oc_window_dim *dh = &r->g->dim[1], *dw = &r->g->dim[2];
    int64_t sh = dh->stride, sw = dw->stride, cols = r->pd.cols;
    if (y1 > r->pd.rows) y1 = r->pd.rows;
    for (int64_t unit = 0; unit < r->g->in_channels * sh; unit++) {
        int64_t c = unit / sh, u = unit % sh;
        const float *xc = x + c * dh->in * dw->in;
        float *dst = phases + unit * sw * r->pd.plane + y0 * cols;
        for (int64_t y = y0; y < y1; y++, dst += cols) {
            int64_t ih = sh * y + u - dh->pad_begin;
            if (ih < 0 || ih >= dh->in) {
                for (int64_t v = 0; v < sw; v++)
                    memset(dst + v * r->pd.plane, 0, (size_t)cols * sizeof *dst);
                continue;
            }
            r->kern->split(xc + ih * dw->in, dw->in, dw->pad_begin, (int)sw, cols, dst,
                           r->pd.plane);
        }
    }
}

/* The thread's phase planes, holding the rows that output rows [oh0, oh1)
 * read: those of their taps, and one more, which the vectors that cross
 * the last row's end read into (dropped lanes, but no stale denormal or
 * NaN should slow their FMAs). */
static float *thread_planes(const direct_run *r, const float *x, int thread, int64_t oh0,
                            int64_t oh1)
{
    const oc_window_dim *dh = &r->g->dim[1];
    float *phases = (float *)(r->slots + (size_t)thread * r->lay.slot);
    fill_rows(r, x, phases, oh0, oh1 + (dh->kernel - 1) * dh->dilation / dh->stride + 1);
    return phases;
}

/* Units: chunks of output rows, every channel block of each. */
static void run_rows(void *ctx, size_t begin, size_t end, int thread)
{
    const direct_run *r = ctx;
    int64_t oh = r->job.oh, mr = r->kern->mr;
    for (size_t u = begin; u < end; u++) {
        int64_t oh0 = (int64_t)u * r->per, oh1 = oh0 + r->per < oh ? oh0 + r->per : oh;
        oc_direct_job job = r->job;
        job.phases = thread_planes(r, r->x, thread, oh0, oh1);
        for (int64_t k0 = 0; k0 < job.k; k0 += mr) r->kern->block(&job, k0, oh0, oh1);
    }
}

/* Sets r up for g: the tap offsets (at the workspace's start), the job,
 * the threads' slots (the slack past each one's planes zeroed: read,
 * never stored, and no garbage should slow the FMAs of the dropped lanes). */
static void setup_run(direct_run *r, const oc_conv_geom *g, oc_isa isa, const float *packed,
                      const float *bias, float lo, float hi, int64_t scratch_floats,
                      int threads, void *workspace)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    *r = (direct_run){g, oc_direct_kernels_for(isa), {0}, {0}, NULL, NULL, 1, {0}};
    /* checked by the workspace calls */
    phase_dims_of(g, r->kern->vl, &r->pd);
    layout_of(g, isa, scratch_floats, &r->lay);
    int64_t *taps = workspace;
    r->slots = (char *)workspace + r->lay.taps;
    int64_t t = 0;
    for (int64_t c = 0; c < g->in_channels; c++)
        for (int64_t kh = 0; kh < dh->kernel; kh++)
            for (int64_t kw = 0; kw < dw->kernel; kw++) {
                int64_t rh = kh * dh->dilation, rw = kw * dw->dilation;
                int64_t pl = (c * dh->stride + rh % dh->stride) * dw->stride + rw % dw->stride;
                taps[t++] = pl * r->pd.plane + rh / dh->stride * r->pd.cols + rw / dw->stride;
            }
    r->job = (oc_direct_job){NULL, taps, t, r->pd.cols, packed, bias, NULL, NULL, 0, 0,
                             dh->out * dw->out, g->out_channels, dh->out, dw->out, lo, hi};
    for (int i = 0; i < threads; i++) {
        float *phases = (float *)(r->slots + (size_t)i * r->lay.slot);
        memset(phases + r->pd.planes * r->pd.plane, 0,
               (size_t)(r->pd.total - r->pd.planes * r->pd.plane) * sizeof(float));
    }
}

/* Rows a unit of work takes: its plane rows (of every plane) within
 * UNIT_PLANE_BYTES, so that they stay in L1/L2 while every channel block
 * reads them; and at least UNITS_PER_THREAD units a thread when the rows
 * allow, for balance. */
#define UNIT_PLANE_BYTES ((int64_t)96 << 10)
#define UNITS_PER_THREAD 4

/* Rows a unit (at most per_max) when the units of images images, chunk
 * after chunk, go to threads in turn: the count whose busiest thread gets
 * the fewest rows; of those, the largest giving at least want units, else
 * the largest (fewest rows computed twice where chunks meet). 27 rows on 2
 * threads: 4 units of 7, not 7 of 4 with one thread doing 16 rows. */
static int64_t balanced_rows(int64_t rows, int64_t per_max, int64_t images, int threads,
                             int64_t want)
{
    if (per_max < 1) per_max = 1;
    if (per_max > rows) per_max = rows;
    if (threads <= 1) return per_max;
    int64_t best = per_max, best_span = INT64_MAX;
    bool best_many = false;
    for (int64_t c = per_max; c >= 1; c--) {
        int64_t units = images * oc_div_ceil(rows, c), span = oc_div_ceil(units, threads) * c;
        bool many = units >= want;
        if (span < best_span || (span == best_span && many && !best_many))
            best = c, best_span = span, best_many = many;
    }
    return best;
}

static int64_t unit_rows(const direct_run *r, int64_t rows, int threads)
{
    int64_t row_bytes = r->pd.planes * r->pd.cols * (int64_t)sizeof(float);
    return balanced_rows(rows, UNIT_PLANE_BYTES / (row_bytes > 0 ? row_bytes : 1), 1, threads,
                         (int64_t)threads * UNITS_PER_THREAD);
}

void oc_conv_direct(const oc_conv_geom *g, oc_isa isa, const float *packed, const float *x,
                    const float *bias, const float *sum, float lo, float hi, float *y,
                    void *workspace, oc_pool *pool)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int threads = oc_pool_size(pool);
    direct_run r;
    setup_run(&r, g, isa, packed, bias, lo, hi, 0, threads, workspace);
    int64_t in_image = g->in_channels * dh->in * dw->in;
    int64_t out_image = g->out_channels * dh->out * dw->out;
    r.per = unit_rows(&r, dh->out, threads);
    for (int64_t n = 0; n < g->batch; n++) {
        r.x = x + n * in_image;
        r.job.y = y + n * out_image;
        r.job.sum = sum ? sum + n * out_image : NULL;
        oc_parallel_for_affine(pool, (size_t)oc_div_ceil(dh->out, r.per), run_rows, &r);
    }
}

/* ---- fused max pooling ---- */

/* Bytes of a thread's conv rows (MR channels): small enough to stay in L2
 * beside the phase planes until they are pooled. */
#define POOLED_SCRATCH_BYTES (192 * 1024)

/* Pooled rows a unit makes at most, conv rows it computes at most, and
 * floats of a thread's scratch (a multiple of a cache line). */
typedef struct pooled_plan {
    int64_t per_max, rows_max, scratch;
} pooled_plan;

static bool pooled_plan_of(const oc_conv_geom *g, const oc_pool_geom *pg, int64_t mr,
                           pooled_plan *pp)
{
    const oc_window_dim *ph = &pg->dim[1];
    int64_t row = mr * g->dim[2].out; /* ow <= OC_POOL_SEP_MAX: oc_pool_separable */
    int64_t budget = (int64_t)(POOLED_SCRATCH_BYTES / sizeof(float)) / row;
    if (budget < ph->kernel) budget = ph->kernel;
    pp->per_max = (budget - ph->kernel) / ph->stride + 1;
    if (pp->per_max > ph->out) pp->per_max = ph->out;
    /* per_max > 1 only when (per_max - 1) * stride <= budget - kernel */
    pp->rows_max = pp->per_max > 1 ? (pp->per_max - 1) * ph->stride + ph->kernel : ph->kernel;
    if (pp->rows_max > g->dim[1].out) pp->rows_max = g->dim[1].out;
    int64_t floats;
    if (!oc_mul_i64(pp->rows_max, row, &floats) || floats > INT64_MAX - 16) return false;
    pp->scratch = (floats + 15) / 16 * 16;
    return true;
}

bool oc_conv_direct_pool_fits(const oc_conv_geom *g, const oc_pool_geom *pg)
{
    return pg->dim[1].in == g->dim[1].out && pg->dim[2].in == g->dim[2].out &&
           oc_pool_separable(pg);
}

bool oc_conv_direct_pool_workspace(const oc_conv_geom *g, const oc_pool_geom *pg, oc_isa isa,
                                   int threads, size_t *bytes)
{
    pooled_plan pp;
    direct_layout l;
    return pooled_plan_of(g, pg, oc_direct_kernels_for(isa)->mr, &pp) &&
           layout_of(g, isa, pp.scratch, &l) && layout_bytes(&l, threads, bytes);
}

typedef struct pooled_run {
    direct_run r;
    const oc_pool_geom *pg;
    const oc_pool_plane_kernels *pool;
    const float *x;         /* the batch's input */
    float *y;               /* the batch's pooled output */
    int64_t chunks;         /* units an image */
    int64_t in_image, out_image;
} pooled_run;

/* Units: chunks of pooled rows of an image (the images' chunks one after
 * another). For each, the plane rows that the conv rows its windows cover
 * read; then, a channel block at a time, those conv rows into the thread's
 * scratch, pooled from there into y. Neighbouring chunks share (kernel -
 * stride) conv rows, computed by both. */
static void run_pooled(void *ctx, size_t begin, size_t end, int thread)
{
    const pooled_run *p = ctx;
    const direct_run *r = &p->r;
    const oc_window_dim *ph = &p->pg->dim[1], *pw = &p->pg->dim[2];
    int64_t oh = r->job.oh, mr = r->kern->mr;
    int64_t out_plane = ph->out * pw->out;
    float *scratch = (float *)(r->slots + (size_t)thread * r->lay.slot + r->lay.planes);
    int32_t row_lo[OC_POOL_SEP_MAX], row_hi[OC_POOL_SEP_MAX];
    for (size_t unit = begin; unit < end; unit++) {
        int64_t n = (int64_t)unit / p->chunks, u = (int64_t)unit % p->chunks;
        const float *x = p->x + n * p->in_image;
        float *y = p->y + n * p->out_image;
        int64_t q0 = u * r->per, q1 = q0 + r->per;
        if (q1 > ph->out) q1 = ph->out;
        int64_t r0 = oc_window_start(ph, q0), r1 = oc_window_start(ph, q1 - 1) + ph->kernel;
        if (r0 < 0) r0 = 0;
        if (r1 > oh) r1 = oh;
        for (int64_t q = q0; q < q1; q++) {
            int64_t lo, hi, start = oc_window_start(ph, q);
            oc_window_taps(ph, q, oh, &lo, &hi); /* at least one: the geometry was checked */
            row_lo[q - q0] = (int32_t)(start + lo - r0);
            row_hi[q - q0] = (int32_t)(start + hi - r0);
        }
        oc_pool_sep s = {r1 - r0,       r->job.ow, q1 - q0, pw->out, pw->stride, pw->kernel,
                         pw->pad_begin, oc_pool_padded_span(pw), row_lo, row_hi, NULL, NULL};
        oc_direct_job job = r->job;
        job.phases = thread_planes(r, x, thread, r0, r1);
        job.y = scratch;
        job.y_row0 = r0;
        job.y_plane = (r1 - r0) * job.ow;
        for (int64_t k0 = 0; k0 < job.k; k0 += mr) {
            job.y_k0 = k0;
            r->kern->block(&job, k0, r0, r1);
            int64_t rows = job.k - k0 < mr ? job.k - k0 : mr;
            for (int64_t i = 0; i < rows; i++)
                p->pool->max(&s, scratch + i * job.y_plane,
                             y + (k0 + i) * out_plane + q0 * pw->out, 0, 1);
        }
    }
}

void oc_conv_direct_pool(const oc_conv_geom *g, oc_isa isa, const float *packed, const float *x,
                         const float *bias, float lo, float hi, const oc_pool_geom *pg, float *y,
                         void *workspace, oc_pool *pool)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2], *ph = &pg->dim[1];
    int threads = oc_pool_size(pool);
    pooled_run p;
    pooled_plan pp = {0, 0, 0};
    pooled_plan_of(g, pg, oc_direct_kernels_for(isa)->mr, &pp); /* checked by the workspace */
    setup_run(&p.r, g, isa, packed, bias, lo, hi, pp.scratch, threads, workspace);
    p.pg = pg;
    p.pool = oc_pool_plane_kernels_for(isa);
    /* AlexNet's 27 pooled rows on 2 threads: chunks of 14 and 13 for one
     * image (not 7 of 4: 12% of the conv rows twice), one a batch-4 image */
    p.r.per = balanced_rows(ph->out, pp.per_max, g->batch, threads, 0);
    p.chunks = oc_div_ceil(ph->out, p.r.per);
    p.x = x;
    p.y = y;
    p.in_image = g->in_channels * dh->in * dw->in;
    p.out_image = g->out_channels * ph->out * pg->dim[2].out;
    oc_parallel_for_affine(pool, (size_t)(g->batch * p.chunks), run_pooled, &p);
}
