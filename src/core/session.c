/* Sessions: bound inputs, per-shape inference and memory plan, execution. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "ops/ops.h"
#include "threadpool.h"

typedef struct binding {
    bool bound;
    oc_tensor t;    /* the caller's dtype, shape and buffer */
    void *snapshot; /* for inputs whose data decides shapes: the data planned with */
    size_t snapshot_bytes;
} binding;

struct onnxc_session {
    const onnxc_model *model;
    oc_pool *pool;        /* the session's threads */
    oc_tensor *vals;      /* one per value: shape and, during a run, data */
    binding *bindings;    /* one per value; used for inputs and overridable initializers */
    size_t *offsets;      /* arena offset per value (SIZE_MAX: not in the arena) */
    bool *skip;           /* per node: folded at load or computed by inference; not run */
    bool *unfold;         /* per node: folded at load but depending on a bound initializer */
    bool *known;          /* per value: data fixed at planning (constants, computed values) */
    void **computed;      /* buffers of values computed by inference (freed at replan) */
    size_t n_computed, cap_computed;
    size_t computed_bytes; /* their total, charged to the budget */
    oc_budget budget;     /* what the session holds, against options.max_bytes */
    uint64_t max_ops;     /* options.max_ops, resolved */
    bool planned;         /* vals/offsets match the bound shapes */
    void *arena;
    size_t arena_size;
    void *workspace;
    size_t workspace_size;
    bool have_outputs;
    struct profile *profile; /* NULL unless options.profile */
};

/* ---- profiling: the run loop stores when each node ran; records are built
 * from that when asked for ----------------------------------------------------- */

typedef struct node_time {
    int k;                /* position in the model's execution order */
    uint64_t start, duration;
} node_time;

struct profile {
    uint64_t run_start;        /* monotonic ns at onnxc_session_run */
    bool ran;                  /* a run has started since the session was created */
    size_t n_times;
    node_time *times;          /* n_order entries */
    onnxc_node_timing *records; /* n_order entries */
    onnxc_tensor_info *infos;  /* the inputs and outputs of every node in the order */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void profile_free(struct profile *p)
{
    if (!p) return;
    free(p->times);
    free(p->records);
    free(p->infos);
    free(p);
}

static onnxc_status *profile_create(const onnxc_model *m, struct profile **out)
{
    size_t n_infos = 0;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        n_infos += (size_t)node->n_inputs + (size_t)node->n_outputs;
    }
    struct profile *p = calloc(1, sizeof *p);
    if (!p) return oc_no_memory();
    p->times = calloc((size_t)m->n_order + 1, sizeof *p->times);
    p->records = calloc((size_t)m->n_order + 1, sizeof *p->records);
    p->infos = calloc(n_infos + 1, sizeof *p->infos);
    if (!p->times || !p->records || !p->infos) {
        profile_free(p);
        return oc_no_memory();
    }
    *out = p;
    return NULL;
}

/* What the optimizer fused into node: an Add (a Conv's extra input, see
 * OC_CONV_SUM_INPUT), an activation and a MaxPool. */
static const char *fused_name(const oc_node *node)
{
    bool add = strcmp(node->op_type, "Conv") == 0 && node->n_inputs > OC_CONV_SUM_INPUT;
    if (node->pool) { /* never with an Add */
        switch (node->fused.kind) {
        case OC_ACT_NONE: return "MaxPool";
        case OC_ACT_RELU: return "Relu+MaxPool";
        case OC_ACT_CLIP: return "Clip+MaxPool";
        }
    }
    switch (node->fused.kind) {
    case OC_ACT_NONE: return add ? "Add" : NULL;
    case OC_ACT_RELU: return add ? "Add+Relu" : "Relu";
    case OC_ACT_CLIP: return add ? "Add+Clip" : "Clip";
    }
    return "activation";
}

/* The info of value id as the last run had it. */
static void describe_value(const onnxc_session *s, int id, onnxc_tensor_info *info)
{
    static const char *const omitted = "";
    if (id < 0) {
        *info = (onnxc_tensor_info){omitted, ONNXC_DTYPE_UNDEFINED, -1, NULL, NULL};
        return;
    }
    const oc_tensor *t = &s->vals[id];
    *info = (onnxc_tensor_info){s->model->values[id].name, t->dtype, t->rank, t->dims, NULL};
}

onnxc_status *onnxc_session_profile(onnxc_session *s, const onnxc_node_timing **records,
                                    size_t *count)
{
    if (!s || !records || !count)
        return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_profile: an argument is NULL");
    *records = NULL;
    *count = 0;
    struct profile *p = s->profile;
    if (!p)
        return oc_error(ONNXC_ERR_STATE, "the session was created without profiling "
                        "(onnxc_session_options.profile)");
    if (!p->ran) return oc_error(ONNXC_ERR_STATE, "no profile: the session has not run");
    const onnxc_model *m = s->model;
    onnxc_tensor_info *info = p->infos;
    for (size_t i = 0; i < p->n_times; i++) {
        const node_time *t = &p->times[i];
        const oc_node *node = &m->nodes[m->order[t->k]];
        onnxc_node_timing *r = &p->records[i];
        *r = (onnxc_node_timing){node->name,       node->op_type, fused_name(node),
                                 (size_t)node->index, t->start,   t->duration,
                                 (size_t)node->n_inputs, (size_t)node->n_outputs, NULL, NULL};
        r->inputs = info;
        for (int j = 0; j < node->n_inputs; j++) describe_value(s, node->inputs[j], info++);
        r->outputs = info;
        for (int j = 0; j < node->n_outputs; j++) describe_value(s, node->outputs[j], info++);
    }
    *records = p->records;
    *count = p->n_times;
    return NULL;
}

void onnxc_session_options_init(onnxc_session_options *options)
{
    if (options) memset(options, 0, sizeof *options); /* every default is 0 */
}

onnxc_status *onnxc_session_create(const onnxc_model *model, const onnxc_session_options *options,
                                   onnxc_session **out_session)
{
    if (!out_session) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_create: out_session is NULL");
    *out_session = NULL;
    if (!model) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_create: model is NULL");
    if (options && options->threads < 0)
        return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_create: threads is negative (%d)",
                        options->threads);
    onnxc_session *s = calloc(1, sizeof *s);
    if (!s) return oc_no_memory();
    size_t n = (size_t)model->n_values + 1;
    s->model = model;
    uint64_t max_bytes = options && options->max_bytes ? options->max_bytes : ONNXC_DEFAULT_SESSION_MAX_BYTES;
    s->budget = (oc_budget){.owner = "session", .limit = max_bytes};
    s->max_ops = options && options->max_ops ? options->max_ops : model->limits.max_ops;
    s->vals = calloc(n, sizeof *s->vals);
    s->bindings = calloc(n, sizeof *s->bindings);
    s->offsets = calloc(n, sizeof *s->offsets);
    s->skip = calloc((size_t)model->n_nodes + 1, sizeof *s->skip);
    s->unfold = calloc((size_t)model->n_nodes + 1, sizeof *s->unfold);
    s->known = calloc(n, sizeof *s->known);
    if (!s->vals || !s->bindings || !s->offsets || !s->skip || !s->unfold || !s->known) {
        onnxc_session_free(s);
        return oc_no_memory();
    }
    onnxc_status *st = oc_pool_create(options ? options->threads : 0, &s->pool);
    if (!st && options && options->profile) st = profile_create(model, &s->profile);
    if (st) {
        onnxc_session_free(s);
        return st;
    }
    *out_session = s;
    return NULL;
}

static void free_computed(onnxc_session *s)
{
    for (size_t i = 0; i < s->n_computed; i++) oc_aligned_free(s->computed[i]);
    s->n_computed = 0;
    oc_budget_give(&s->budget, s->computed_bytes);
    s->computed_bytes = 0;
}

void onnxc_session_free(onnxc_session *s)
{
    if (!s) return;
    for (int i = 0; s->bindings && i < s->model->n_values; i++) free(s->bindings[i].snapshot);
    oc_pool_free(s->pool);
    profile_free(s->profile);
    free_computed(s);
    free(s->computed);
    free(s->skip);
    free(s->unfold);
    free(s->known);
    free(s->vals);
    free(s->bindings);
    free(s->offsets);
    oc_aligned_free(s->arena);
    oc_aligned_free(s->workspace);
    free(s);
}

/* ---- binding ------------------------------------------------------------- */

static const unsigned char no_data[OC_ALIGN];

static onnxc_status *check_binding(const oc_value *v, const oc_limits *limits, onnxc_dtype dtype,
                                   const int64_t *shape, int rank, const void *data, size_t nbytes,
                                   oc_tensor *t)
{
    char want[OC_SHAPE_STR_MAX], got[OC_SHAPE_STR_MAX];
    if (rank < 0 || rank > OC_MAX_RANK)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s': rank %d is outside 0..%d", v->name, rank,
                        OC_MAX_RANK);
    if (rank > 0 && !shape)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s': shape is NULL", v->name);
    if (rank > limits->max_rank)
        return oc_error(ONNXC_ERR_LIMIT, "input '%s': rank %d exceeds the limit of %d (max_rank)",
                        v->name, rank, limits->max_rank);
    if (onnxc_dtype_size(dtype) == 0)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s': element type %s (%d) is not supported",
                        v->name, onnxc_dtype_name(dtype), (int)dtype);
    const oc_type_decl *d = v->decl;
    int want_dtype = d && d->dtype ? d->dtype : v->constant ? (int)v->constant->dtype : 0;
    if (want_dtype && want_dtype != (int)dtype)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' is %s in the model, got %s", v->name,
                        onnxc_dtype_name(want_dtype), onnxc_dtype_name(dtype));
    /* The rank is checked before shape is read: shape holds rank entries. */
    if (d && d->rank >= 0 && d->rank != rank)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' has rank %d in the model, got shape %s",
                        v->name, d->rank, oc_shape_str(shape, rank, got, sizeof got));
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = shape[i];
    if (d && d->rank >= 0) {
        bool ok = true;
        for (int i = 0; ok && i < rank; i++)
            ok = d->dims[i] < 0 ? shape[i] >= 1 : d->dims[i] == shape[i];
        if (!ok)
            return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' has shape %s in the model, got %s "
                            "(symbolic dims take any size >= 1)",
                            v->name, oc_shape_str(d->dims, d->rank, want, sizeof want),
                            oc_shape_str(shape, rank, got, sizeof got));
    }
    onnxc_status *st = oc_tensor_set_sizes(t);
    if (!st) st = oc_limits_check_tensor(limits, t);
    if (st) return oc_error_prefix(st, "input '%s'", v->name);
    if (nbytes != t->nbytes)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s': %zu bytes given, shape %s of %s needs %zu",
                        v->name, nbytes, oc_shape_str(shape, rank, got, sizeof got),
                        onnxc_dtype_name(dtype), t->nbytes);
    if (!data && nbytes > 0) return oc_error(ONNXC_ERR_ARGUMENT, "input '%s': data is NULL", v->name);
    /* An empty tensor may come without a buffer; known data is never NULL. */
    t->data = data ? (void *)data : (void *)no_data;
    return NULL;
}

static onnxc_status *bind_value(onnxc_session *s, int id, onnxc_dtype dtype, const int64_t *shape,
                                int rank, const void *data, size_t nbytes)
{
    oc_tensor t;
    OC_TRY(check_binding(&s->model->values[id], &s->model->limits, dtype, shape, rank, data, nbytes,
                         &t));
    binding *b = &s->bindings[id];
    /* An overridden initializer's values feed planning (folded nodes, shapes). */
    if (!b->bound || !oc_tensor_same_shape(&b->t, &t) || s->model->values[id].overridable)
        s->planned = false;
    b->bound = true;
    b->t = t;
    s->have_outputs = false;
    return NULL;
}

onnxc_status *onnxc_session_bind(onnxc_session *s, const char *name, onnxc_dtype dtype,
                                 const int64_t *shape, int rank, const void *data, size_t nbytes)
{
    if (!s || !name) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_bind: session or name is NULL");
    const onnxc_model *m = s->model;
    int id = oc_name_map_find(&m->names, m->values, name);
    if (id >= 0 && (m->values[id].kind == OC_VALUE_INPUT || m->values[id].overridable))
        return bind_value(s, id, dtype, shape, rank, data, nbytes);
    return oc_error(ONNXC_ERR_ARGUMENT, "the model has no input named '%s'", name);
}

onnxc_status *onnxc_session_bind_index(onnxc_session *s, size_t index, onnxc_dtype dtype,
                                       const int64_t *shape, int rank, const void *data,
                                       size_t nbytes)
{
    if (!s) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_bind_index: session is NULL");
    if (index >= (size_t)s->model->n_inputs)
        return oc_error(ONNXC_ERR_ARGUMENT, "input index %zu is out of range (the model has %d)",
                        index, s->model->n_inputs);
    return bind_value(s, s->model->inputs[index], dtype, shape, rank, data, nbytes);
}

/* ---- planning ------------------------------------------------------------ */

typedef struct named_dim {
    const char *name; /* dim_param */
    int64_t size;     /* as bound */
    int input;        /* value id */
} named_dim;

static int by_dim_name(const void *a, const void *b)
{
    return strcmp(((const named_dim *)a)->name, ((const named_dim *)b)->name);
}

/* Inputs sharing a dim_param must agree on its size (sorted by name, so
 * models with many inputs stay n log n). */
static onnxc_status *check_symbolic_dims(const onnxc_session *s)
{
    const onnxc_model *m = s->model;
    size_t n = 0;
    named_dim *dims = malloc(((size_t)m->n_inputs * OC_MAX_RANK + 1) * sizeof *dims);
    if (!dims) return oc_no_memory();
    for (int a = 0; a < m->n_inputs; a++) {
        const oc_value *v = &m->values[m->inputs[a]];
        for (int i = 0; v->decl && i < v->decl->rank; i++)
            if (v->decl->dim_names[i])
                dims[n++] = (named_dim){v->decl->dim_names[i],
                                        s->bindings[m->inputs[a]].t.dims[i], m->inputs[a]};
    }
    qsort(dims, n, sizeof *dims, by_dim_name);
    onnxc_status *st = NULL;
    for (size_t i = 1; i < n && !st; i++)
        if (strcmp(dims[i].name, dims[i - 1].name) == 0 && dims[i].size != dims[i - 1].size)
            st = oc_error(ONNXC_ERR_ARGUMENT,
                          "dimension '%s' is %" PRId64 " in input '%s' but %" PRId64 " in input '%s'",
                          dims[i].name, dims[i - 1].size, m->values[dims[i - 1].input].name,
                          dims[i].size, m->values[dims[i].input].name);
    free(dims);
    return st;
}

/* Grows *buf to need bytes, charged to b (checked before allocating). */
static onnxc_status *ensure_buffer(oc_budget *b, void **buf, size_t *size, size_t need,
                                   const char *what)
{
    if (need <= *size && *buf) return NULL;
    oc_aligned_free(*buf);
    oc_budget_give(b, *size);
    *buf = NULL;
    *size = 0;
    if (!oc_budget_take(b, need)) return oc_budget_error(b, need, what);
    *buf = oc_aligned_alloc(need ? need : 1);
    if (!*buf) {
        oc_budget_give(b, need);
        return oc_error(ONNXC_ERR_MEMORY, "cannot allocate %zu bytes for %s", need, what);
    }
    *size = need;
    return NULL;
}

/* Storage for values inference computes (shape subgraphs). */
static void *session_alloc(void *owner, size_t bytes)
{
    onnxc_session *s = owner;
    if (s->n_computed == s->cap_computed) {
        size_t cap = s->cap_computed ? s->cap_computed * 2 : 16;
        void **grown = realloc(s->computed, cap * sizeof *grown);
        if (!grown) return NULL;
        s->computed = grown;
        s->cap_computed = cap;
    }
    void *p = oc_budget_alloc(&s->budget, bytes);
    if (!p) return NULL;
    s->computed[s->n_computed++] = p;
    s->computed_bytes += bytes;
    return p;
}

/* Marks the folded nodes that depend on a bound (overridden) initializer:
 * the order is topological, so one pass sees every producer first. */
static void mark_unfolded(onnxc_session *s)
{
    const onnxc_model *m = s->model;
    memset(s->unfold, 0, (size_t)m->n_nodes * sizeof *s->unfold);
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        if (!m->folded[node->index]) continue;
        for (int i = 0; i < node->n_inputs && !s->unfold[node->index]; i++) {
            int v = node->inputs[i];
            if (v < 0) continue;
            int p = m->values[v].producer;
            s->unfold[node->index] = s->bindings[v].bound || (p >= 0 && s->unfold[p]);
        }
    }
}

/* Inference starts from the constants (unless recomputed), the overridden
 * initializers with their bound data, and the bound inputs' types (their data
 * is not known before a run: the caller may change it without rebinding). */
static void initial_values(onnxc_session *s)
{
    const onnxc_model *m = s->model;
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        bool recomputed = v->producer >= 0 && s->unfold[v->producer];
        if (s->bindings[i].bound) {
            s->vals[i] = s->bindings[i].t;
            if (!v->overridable && !v->shape_relevant) s->vals[i].data = NULL;
        } else if (v->constant && !recomputed) {
            s->vals[i] = *v->constant;
        } else {
            memset(&s->vals[i], 0, sizeof s->vals[i]);
        }
    }
}

/* Copies the data of bound inputs that decide shapes: a run whose data
 * differs from what the plan was made with plans again. */
static onnxc_status *take_snapshots(onnxc_session *s)
{
    for (int i = 0; i < s->model->n_values; i++) {
        binding *b = &s->bindings[i];
        if (b->snapshot) oc_budget_give(&s->budget, b->snapshot_bytes);
        free(b->snapshot);
        b->snapshot = NULL;
        if (!b->bound || !s->model->values[i].shape_relevant) continue;
        if (!oc_budget_take(&s->budget, b->t.nbytes)) {
            char what[300];
            snprintf(what, sizeof what, "the copy of input '%s' that decides shapes",
                     s->model->values[i].name);
            return oc_budget_error(&s->budget, b->t.nbytes, what);
        }
        b->snapshot = malloc(b->t.nbytes ? b->t.nbytes : 1);
        b->snapshot_bytes = b->t.nbytes;
        if (!b->snapshot) {
            oc_budget_give(&s->budget, b->t.nbytes);
            return oc_no_memory();
        }
        if (b->t.nbytes) memcpy(b->snapshot, b->t.data, b->t.nbytes);
    }
    return NULL;
}

static bool snapshots_match(const onnxc_session *s)
{
    for (int i = 0; i < s->model->n_values; i++) {
        const binding *b = &s->bindings[i];
        if (b->snapshot && b->t.nbytes && memcmp(b->snapshot, b->t.data, b->t.nbytes) != 0)
            return false;
    }
    return true;
}

/* "the largest planned tensor is 'x' (float32 [1, 64, 112, 112], 3211264
 * bytes)", for the message when the plan does not fit. */
static const char *largest_planned(const onnxc_session *s, char *buf, size_t size)
{
    const onnxc_model *m = s->model;
    int best = -1;
    for (int i = 0; i < m->n_values; i++)
        if (s->offsets[i] != SIZE_MAX && (best < 0 || s->vals[i].nbytes > s->vals[best].nbytes))
            best = i;
    if (best < 0) return "no tensor is planned";
    char shape[OC_SHAPE_STR_MAX];
    const oc_tensor *t = &s->vals[best];
    snprintf(buf, size, "the largest planned tensor is '%s' (%s %s, %zu bytes)", m->values[best].name,
             onnxc_dtype_name(t->dtype), oc_shape_str(t->dims, t->rank, shape, sizeof shape),
             t->nbytes);
    return buf;
}

/* The run's estimated work (see onnxc_session_options.max_ops) against the
 * limit, before anything is allocated for it. */
static onnxc_status *check_run_ops(const onnxc_session *s, uint64_t ops)
{
    const onnxc_model *m = s->model;
    uint64_t most = 0;
    const oc_node *costliest = NULL;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        if (s->skip[node->index]) continue;
        uint64_t node_ops = oc_node_ops(node, s->vals);
        if (!costliest || node_ops > most) {
            most = node_ops;
            costliest = node;
        }
        (void)oc_ops_take(&ops, 0, node_ops); /* no limit: saturates */
    }
    if (ops <= s->max_ops) return NULL;
    char who[300];
    if (costliest->name[0])
        snprintf(who, sizeof who, "'%s' (%s)", costliest->name, costliest->op_type);
    else
        snprintf(who, sizeof who, "#%d (%s)", costliest->index, costliest->op_type);
    return oc_error(ONNXC_ERR_LIMIT,
                    "the run would take about %" PRIu64 " operations (%" PRIu64 " in node %s), "
                    "beyond the session's limit of %" PRIu64 " (max_ops: onnxc_session_options, "
                    "onnxc run --max-ops)",
                    ops, most, who, s->max_ops);
}

static onnxc_status *plan(onnxc_session *s)
{
    const onnxc_model *m = s->model;
    OC_TRY(check_symbolic_dims(s));
    OC_TRY(take_snapshots(s));
    free_computed(s);
    mark_unfolded(s);
    initial_values(s);
    memset(s->skip, 0, (size_t)m->n_nodes * sizeof *s->skip);
    size_t workspace, total;
    char largest[400];
    uint64_t ops_used = 0; /* by the nodes computed while planning */
    oc_infer_opts opts = {false,      true,       session_alloc, s,         s->unfold,
                          oc_pool_size(s->pool), &m->limits, &s->budget, &ops_used, s->max_ops};
    OC_TRY(oc_infer_shapes(m, s->vals, &opts, s->skip, &workspace));
    for (int n = 0; n < m->n_nodes; n++)
        if (m->folded[n] && !s->unfold[n]) s->skip[n] = true;
    OC_TRY(check_run_ops(s, ops_used));
    for (int i = 0; i < m->n_values; i++) s->known[i] = s->vals[i].data != NULL;
    OC_TRY(oc_plan_memory(m, s->vals, s->skip, s->offsets, &total));
    /* Both buffers are given back before either grows, so a replan for
     * smaller shapes is not refused for what the last plan held. */
    if (total > s->arena_size || !s->arena) {
        oc_aligned_free(s->arena);
        oc_budget_give(&s->budget, s->arena_size);
        s->arena = NULL;
        s->arena_size = 0;
    }
    if (workspace > s->workspace_size || !s->workspace) {
        oc_aligned_free(s->workspace);
        oc_budget_give(&s->budget, s->workspace_size);
        s->workspace = NULL;
        s->workspace_size = 0;
    }
    onnxc_status *st = ensure_buffer(&s->budget, &s->arena, &s->arena_size, total,
                                     "the run's tensors");
    if (st && onnxc_status_code(st) == ONNXC_ERR_LIMIT) {
        onnxc_status *why = oc_error(ONNXC_ERR_LIMIT, "%s; %s", onnxc_status_message(st),
                                     largest_planned(s, largest, sizeof largest));
        onnxc_status_free(st);
        return why;
    }
    OC_TRY(st);
    OC_TRY(ensure_buffer(&s->budget, &s->workspace, &s->workspace_size, workspace,
                         "the nodes' scratch"));
    s->planned = true;
    return NULL;
}

/* ---- running ------------------------------------------------------------- */

/* Bound buffers and arena slots; values known since planning keep their data. */
static void attach_data(onnxc_session *s)
{
    const onnxc_model *m = s->model;
    for (int i = 0; i < m->n_values; i++) {
        if (s->bindings[i].bound)
            s->vals[i].data = s->bindings[i].t.data;
        else if (!s->known[i] && s->offsets[i] != SIZE_MAX)
            s->vals[i].data = (char *)s->arena + s->offsets[i];
    }
}

static onnxc_status *run_nodes(onnxc_session *s)
{
    const onnxc_model *m = s->model;
    int most_in = 1, most_out = 1;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *n = &m->nodes[m->order[k]];
        if (n->n_inputs > most_in) most_in = n->n_inputs;
        if (n->n_outputs > most_out) most_out = n->n_outputs;
    }
    const oc_tensor **in = malloc((size_t)most_in * sizeof *in);
    oc_tensor **out = malloc((size_t)most_out * sizeof *out);
    onnxc_status *st = (in && out) ? NULL : oc_no_memory();
    for (int k = 0; k < m->n_order && !st; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        if (s->skip[node->index]) continue;
        for (int i = 0; i < node->n_inputs; i++)
            in[i] = node->inputs[i] >= 0 ? &s->vals[node->inputs[i]] : NULL;
        for (int o = 0; o < node->n_outputs; o++)
            out[o] = node->outputs[o] >= 0 ? &s->vals[node->outputs[o]] : NULL;
        oc_run_ctx ctx = {node,         node->params,      node->n_inputs, in, node->n_outputs,
                          out,          s->workspace,      s->workspace_size, s->pool};
        if (!s->profile) {
            st = node->op->run(&ctx);
            continue;
        }
        uint64_t start = now_ns();
        st = node->op->run(&ctx);
        if (!st)
            s->profile->times[s->profile->n_times++] =
                (node_time){k, start - s->profile->run_start, now_ns() - start};
    }
    free(in);
    free(out);
    return st;
}

onnxc_status *onnxc_session_run(onnxc_session *s)
{
    if (!s) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_run: session is NULL");
    if (s->profile) {
        s->profile->run_start = now_ns();
        s->profile->ran = true;
        s->profile->n_times = 0;
    }
    const onnxc_model *m = s->model;
    s->have_outputs = false;
    for (int i = 0; i < m->n_inputs; i++)
        if (!s->bindings[m->inputs[i]].bound)
            return oc_error(ONNXC_ERR_STATE, "input '%s' is not bound",
                            m->values[m->inputs[i]].name);
    if (s->planned && !snapshots_match(s)) s->planned = false;
    if (!s->planned) OC_TRY(plan(s));
    attach_data(s);
    oc_pool_run_begin(s->pool);
    onnxc_status *st = run_nodes(s);
    oc_pool_run_end(s->pool);
    OC_TRY(st);
    s->have_outputs = true;
    return NULL;
}

/* ---- outputs ------------------------------------------------------------- */

static onnxc_status *view_of(onnxc_session *s, int id, onnxc_tensor_view *out)
{
    if (!s->have_outputs)
        return oc_error(ONNXC_ERR_STATE, "no outputs: the session has not run since its last bind");
    const oc_tensor *t = &s->vals[id];
    out->name = s->model->values[id].name;
    out->dtype = t->dtype;
    out->rank = t->rank;
    out->shape = t->dims;
    out->data = t->data;
    out->count = t->count;
    out->nbytes = t->nbytes;
    return NULL;
}

onnxc_status *onnxc_session_output(onnxc_session *s, size_t index, onnxc_tensor_view *out)
{
    if (!s || !out) return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_output: session or out is NULL");
    if (index >= (size_t)s->model->n_outputs)
        return oc_error(ONNXC_ERR_ARGUMENT, "output index %zu is out of range (the model has %d)",
                        index, s->model->n_outputs);
    return view_of(s, s->model->outputs[index], out);
}

onnxc_status *onnxc_session_output_by_name(onnxc_session *s, const char *name,
                                           onnxc_tensor_view *out)
{
    if (!s || !name || !out)
        return oc_error(ONNXC_ERR_ARGUMENT, "onnxc_session_output_by_name: an argument is NULL");
    const onnxc_model *m = s->model;
    int id = oc_name_map_find(&m->names, m->values, name);
    if (id >= 0 && m->values[id].is_output) return view_of(s, id, out);
    return oc_error(ONNXC_ERR_ARGUMENT, "the model has no output named '%s'", name);
}
