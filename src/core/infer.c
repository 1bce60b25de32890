/* Shape inference over the execution order, with evaluation of what is
 * already known: at load it folds constant subgraphs into constants; in a
 * session it computes shape subgraphs (Shape -> Gather -> Concat -> Reshape)
 * once the bound shapes are known, so later nodes see their values. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ops/ops.h"

/* The data of known values that have no elements: never NULL, never read. */
static const unsigned char no_elements[OC_ALIGN];

static int max_arity(const onnxc_model *m, bool inputs)
{
    int most = 1;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *n = &m->nodes[m->order[k]];
        int a = inputs ? n->n_inputs : n->n_outputs;
        if (a > most) most = a;
    }
    return most;
}

static bool all_inputs(const oc_node *node, const oc_tensor *const *in, bool need_data)
{
    for (int i = 0; i < node->n_inputs; i++) {
        if (!in[i]) continue;
        if (in[i]->dtype == ONNXC_DTYPE_UNDEFINED) return false;
        if (need_data && !in[i]->data) return false;
    }
    return true;
}

/* The inputs whose values decide the output shapes have known data. */
static bool shape_inputs_known(const oc_node *node, const oc_tensor *const *in)
{
    unsigned mask = oc_op_shape_inputs(node->op);
    for (int i = 0; i < node->n_inputs && i < 32; i++)
        if (((mask >> i) & 1u) && in[i] && !in[i]->data) return false;
    return true;
}

/* Runs node now, its outputs stored through opts->alloc. */
static onnxc_status *evaluate(const oc_node *node, const oc_tensor *const *in, oc_tensor *const *out,
                              size_t workspace, const oc_infer_opts *opts)
{
    char what[300];
    for (int o = 0; o < node->n_outputs; o++) {
        if (!out[o]) continue;
        out[o]->data = out[o]->nbytes ? opts->alloc(opts->owner, out[o]->nbytes) : (void *)no_elements;
        if (out[o]->data) continue;
        if (!opts->budget || !opts->budget->refused) return oc_no_memory();
        snprintf(what, sizeof what, "computing output '%s'", node->output_names[o]);
        return oc_node_error_prefix(node, oc_budget_error(opts->budget, out[o]->nbytes, what));
    }
    if (workspace && !oc_budget_take(opts->budget, workspace))
        return oc_node_error_prefix(node, oc_budget_error(opts->budget, workspace, "its scratch"));
    void *ws = workspace ? oc_aligned_alloc(workspace) : NULL;
    onnxc_status *st = workspace && !ws ? oc_no_memory() : NULL;
    oc_run_ctx ctx = {node,     node->params, node->n_inputs, in, node->n_outputs, out,
                      ws,       workspace,    NULL};
    if (!st) st = node->op->run(&ctx);
    oc_aligned_free(ws);
    if (workspace) oc_budget_give(opts->budget, workspace);
    return st;
}

static onnxc_status *infer_node(const oc_node *node, const oc_tensor **in, oc_tensor **out,
                                oc_tensor *vals, const oc_infer_opts *opts, bool *evaluated,
                                size_t *workspace)
{
    for (int i = 0; i < node->n_inputs; i++)
        in[i] = node->inputs[i] >= 0 ? &vals[node->inputs[i]] : NULL;
    for (int o = 0; o < node->n_outputs; o++) {
        out[o] = node->outputs[o] >= 0 ? &vals[node->outputs[o]] : NULL;
        if (out[o]) memset(out[o], 0, sizeof *out[o]);
    }
    if (!all_inputs(node, in, false)) {
        if (opts->partial) return NULL; /* outputs stay unknown */
        return oc_node_error(node, ONNXC_ERR_INTERNAL, "an input has no inferred type");
    }
    if (opts->partial && !shape_inputs_known(node, in))
        return NULL; /* a session knows them once inputs are bound */
    oc_infer_ctx ctx = {node, node->params, node->n_inputs, in, node->n_outputs, out, 0,
                        opts->threads > 0 ? opts->threads : 1};
    OC_TRY(node->op->infer(&ctx));
    for (int o = 0; o < node->n_outputs; o++) {
        if (!out[o]) continue;
        if (out[o]->dtype == ONNXC_DTYPE_UNDEFINED)
            return oc_node_error(node, ONNXC_ERR_INTERNAL, "inference left output %d untyped", o);
        onnxc_status *st = oc_tensor_set_sizes(out[o]);
        if (!st) st = oc_limits_check_tensor(opts->limits, out[o]);
        if (st)
            return oc_node_error_prefix(node,
                                        oc_error_prefix(st, "output '%s'", node->output_names[o]));
    }
    bool computable = (node->op->flags & OC_OP_SHAPE_ONLY) || all_inputs(node, in, true);
    if (opts->evaluate && computable) {
        uint64_t ops = oc_node_ops(node, vals);
        if (opts->ops_used && !oc_ops_take(opts->ops_used, opts->max_ops, ops))
            return oc_node_error(node, ONNXC_ERR_LIMIT,
                                 "computing it now would take about %" PRIu64 " operations with %"
                                 PRIu64 " spent, beyond the %s's limit of %" PRIu64 " (max_ops)",
                                 ops, *opts->ops_used, opts->budget ? opts->budget->owner : "model",
                                 opts->max_ops);
        OC_TRY(evaluate(node, in, out, ctx.workspace, opts));
        if (evaluated) evaluated[node->index] = true;
    } else if (ctx.workspace > *workspace) {
        *workspace = ctx.workspace;
    }
    return NULL;
}

onnxc_status *oc_infer_shapes(const onnxc_model *m, oc_tensor *vals, const oc_infer_opts *opts,
                              bool *evaluated, size_t *workspace)
{
    *workspace = 0;
    const oc_tensor **in = malloc((size_t)max_arity(m, true) * sizeof *in);
    oc_tensor **out = malloc((size_t)max_arity(m, false) * sizeof *out);
    onnxc_status *st = (in && out) ? NULL : oc_no_memory();
    for (int i = 0; i < m->n_values && !st; i++)
        if (vals[i].dtype && vals[i].count == 0 && !vals[i].data && m->values[i].constant)
            vals[i].data = (void *)no_elements;
    for (int k = 0; k < m->n_order && !st; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        bool folded = m->folded && m->folded[node->index];
        if (folded && !(opts->unfold && opts->unfold[node->index])) continue; /* constants */
        st = infer_node(node, in, out, vals, opts, evaluated, workspace);
    }
    free(in);
    free(out);
    return st;
}

/* ---- at load ---- */

/* A declared type usable for inference: known dtype, rank and every dim. */
static bool decl_is_static(const oc_type_decl *d)
{
    if (!d || d->dtype == 0 || d->rank < 0) return false;
    for (int i = 0; i < d->rank; i++)
        if (d->dims[i] < 0) return false;
    return true;
}

static onnxc_status *check_input_dtypes(const onnxc_model *m)
{
    for (int i = 0; i < m->n_inputs; i++) {
        const oc_value *v = &m->values[m->inputs[i]];
        if (v->decl && v->decl->dtype != 0 && onnxc_dtype_size(v->decl->dtype) == 0)
            return oc_error(ONNXC_ERR_UNSUPPORTED, "graph input '%s' has element type %s (%d)",
                            v->name, onnxc_dtype_name(v->decl->dtype), v->decl->dtype);
    }
    return NULL;
}

static void *model_alloc(void *owner, size_t bytes) { return oc_model_alloc(owner, bytes); }

/* Per value: read by exactly one node (folded ones included: a session may
 * recompute them) and neither a graph output nor bindable. The lock
 * serializes the model's allocations and releases: nodes are packed on
 * several threads. */
typedef struct pack_state {
    onnxc_model *m;
    bool *exclusive;
    pthread_mutex_t lock;
} pack_state;

static void model_release(const oc_pack_ctx *ctx, int input, const void *data, size_t bytes)
{
    pack_state *ps = ctx->owner;
    int id = input >= 0 && input < ctx->node->n_inputs ? ctx->node->inputs[input] : -1;
    if (id < 0 || !ps->m->values[id].constant) return;
    const oc_tensor *c = ps->m->values[id].constant;
    uintptr_t begin = (uintptr_t)c->data, p = (uintptr_t)data;
    if (p < begin || bytes > c->nbytes || p - begin > c->nbytes - bytes) return;
    pthread_mutex_lock(&ps->lock);
    oc_model_release_constant(ps->m, data, bytes, ps->exclusive[id]);
    pthread_mutex_unlock(&ps->lock);
}

static void *pack_alloc(void *owner, size_t bytes)
{
    pack_state *ps = owner;
    pthread_mutex_lock(&ps->lock);
    void *p = model_alloc(ps->m, bytes);
    pthread_mutex_unlock(&ps->lock);
    return p;
}

static bool *exclusive_constants(const onnxc_model *m)
{
    int *readers = calloc((size_t)m->n_values + 1, sizeof *readers);
    bool *exclusive = calloc((size_t)m->n_values + 1, sizeof *exclusive);
    if (!readers || !exclusive) {
        free(readers);
        free(exclusive);
        return NULL;
    }
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *n = &m->nodes[m->order[k]];
        if (n->fate == OC_NODE_REMOVED) continue;
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] >= 0) readers[n->inputs[i]]++;
    }
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        exclusive[i] = v->constant && readers[i] == 1 && !v->is_output && !v->overridable &&
                       v->kind != OC_VALUE_INPUT;
    }
    free(readers);
    return exclusive;
}

/* The types inference starts from: constants with their data (an
 * overridable initializer with its default: a session that binds one
 * recomputes what was folded from it), static inputs typed, inputs with
 * symbolic dims unknown. */
static onnxc_status *initial_values(const onnxc_model *m, oc_tensor *vals)
{
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        if (v->constant) {
            vals[i] = *v->constant;
        } else if (v->kind == OC_VALUE_INPUT && decl_is_static(v->decl)) {
            vals[i].dtype = (onnxc_dtype)v->decl->dtype;
            vals[i].rank = v->decl->rank;
            memcpy(vals[i].dims, v->decl->dims, sizeof vals[i].dims);
            onnxc_status *st = oc_tensor_set_sizes(&vals[i]);
            if (!st) st = oc_limits_check_tensor(&m->limits, &vals[i]);
            if (st) return oc_error_prefix(st, "graph input '%s'", v->name);
        }
    }
    return NULL;
}

static onnxc_status *check_declared_outputs(const onnxc_model *m, const oc_tensor *vals)
{
    for (int i = 0; i < m->n_outputs; i++) {
        const oc_value *v = &m->values[m->outputs[i]];
        const oc_tensor *t = &vals[m->outputs[i]];
        if (t->dtype && v->decl && v->decl->dtype != 0 && v->decl->dtype != (int)t->dtype)
            return oc_error(ONNXC_ERR_MODEL, "graph output '%s' is declared %s but computed as %s",
                            v->name, onnxc_dtype_name(v->decl->dtype), onnxc_dtype_name(t->dtype));
    }
    return NULL;
}

/* Records what inference found: shapes, and folded values as constants. */
static onnxc_status *record(onnxc_model *m, const oc_tensor *vals)
{
    m->static_shapes = true;
    for (int i = 0; i < m->n_values; i++) {
        oc_value *v = &m->values[i];
        if (!vals[i].dtype) {
            if (v->kind == OC_VALUE_NODE && m->nodes[v->producer].op) m->static_shapes = false;
            continue;
        }
        v->shape_known = true;
        v->info = vals[i];
        if (v->kind == OC_VALUE_NODE && m->folded[v->producer]) {
            oc_tensor *c = oc_arena_alloc(&m->arena, sizeof *c);
            if (!c) return oc_no_memory();
            *c = vals[i];
            v->constant = c;
        } else if (!v->constant) {
            v->info.data = NULL;
        }
    }
    for (int n = 0; n < m->n_nodes; n++) m->n_folded += m->folded[n];
    return NULL;
}

onnxc_status *oc_infer_static(onnxc_model *m)
{
    OC_TRY(check_input_dtypes(m));
    m->folded = oc_arena_array(&m->arena, (size_t)m->n_nodes + 1, sizeof *m->folded);
    oc_tensor *vals = calloc((size_t)m->n_values + 1, sizeof *vals);
    bool *folded = calloc((size_t)m->n_nodes + 1, sizeof *folded);
    onnxc_status *st = m->folded && vals && folded ? initial_values(m, vals) : oc_no_memory();
    uint64_t ops_used = 0;
    oc_infer_opts opts = {true,      true,       model_alloc, m,           NULL, 1,
                          &m->limits, &m->budget, &ops_used,   m->limits.max_ops};
    size_t workspace;
    /* m->folded stays all false during the pass: nothing is skipped yet. */
    if (!st) st = oc_infer_shapes(m, vals, &opts, folded, &workspace);
    if (!st) st = check_declared_outputs(m, vals);
    if (!st) {
        memcpy(m->folded, folded, (size_t)m->n_nodes * sizeof *folded);
        st = record(m, vals);
    }
    free(vals);
    free(folded);
    return st;
}

/* ---- weight preparation ---- */

/* A node to pack and its weight: the bytes of its constant inputs, its
 * packing work roughly. */
typedef struct pack_order {
    size_t bytes;
    int node;
} pack_order;

static int by_bytes_desc(const void *a, const void *b)
{
    const pack_order *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return x->node - y->node;
}

/* The nodes to pack, each with its status; threads claim them one at a
 * time, the biggest weights first, so that two threads finish together. */
typedef struct pack_job {
    onnxc_model *m;
    pack_state *ps;
    pack_order *order;
    int count;
    atomic_int next;
    onnxc_status **status; /* per node index */
    size_t arity;
    const oc_tensor **in;  /* arity per thread */
} pack_job;

static void pack_one(pack_job *job, oc_node *node, const oc_tensor **in)
{
    onnxc_model *m = job->m;
    for (int i = 0; i < node->n_inputs; i++) {
        const oc_value *v = node->inputs[i] >= 0 ? &m->values[node->inputs[i]] : NULL;
        in[i] = v && v->shape_known ? &v->info : NULL;
    }
    oc_pack_ctx ctx = {node, node->n_inputs, in, pack_alloc, model_release, job->ps};
    job->status[node->index] = node->op->pack(&ctx);
}

static void run_pack_threads(void *arg, size_t begin, size_t end, int thread)
{
    (void)begin, (void)end;
    pack_job *job = arg;
    const oc_tensor **in = job->in + (size_t)thread * job->arity;
    for (int k; (k = atomic_fetch_add(&job->next, 1)) < job->count;)
        pack_one(job, &job->m->nodes[job->order[k].node], in);
}

static size_t constant_bytes(const onnxc_model *m, const oc_node *n)
{
    size_t bytes = 0;
    for (int i = 0; i < n->n_inputs; i++) {
        const oc_value *v = n->inputs[i] >= 0 ? &m->values[n->inputs[i]] : NULL;
        if (v && v->constant) bytes += v->constant->nbytes;
    }
    return bytes;
}

onnxc_status *oc_pack_nodes(onnxc_model *m, int threads)
{
    pack_state ps = {.m = m, .exclusive = exclusive_constants(m)};
    pack_job job = {.m = m, .ps = &ps, .arity = (size_t)max_arity(m, true)};
    atomic_init(&job.next, 0);
    job.order = malloc(((size_t)m->n_order + 1) * sizeof *job.order);
    job.status = calloc((size_t)m->n_nodes + 1, sizeof *job.status);
    onnxc_status *st = job.order && job.status && ps.exclusive ? NULL : oc_no_memory();
    oc_pool *pool = NULL;
    if (!st) {
        for (int k = 0; k < m->n_order; k++) {
            const oc_node *node = &m->nodes[m->order[k]];
            if (node->op->pack && !m->folded[node->index])
                job.order[job.count++] = (pack_order){constant_bytes(m, node), node->index};
        }
        qsort(job.order, (size_t)job.count, sizeof *job.order, by_bytes_desc);
        if (threads <= 0) threads = oc_cpu_count();
        if (threads > job.count) threads = job.count;
        if (threads > 1) {
            onnxc_status *no_pool = oc_pool_create(threads, &pool);
            onnxc_status_free(no_pool); /* then on this thread alone */
        }
        threads = oc_pool_size(pool);
        job.in = malloc((size_t)threads * (job.arity ? job.arity : 1) * sizeof *job.in);
        if (!job.in || pthread_mutex_init(&ps.lock, NULL) != 0) st = oc_no_memory();
    }
    if (!st) {
        oc_parallel_for(pool, (size_t)threads, 1, run_pack_threads, &job);
        pthread_mutex_destroy(&ps.lock);
        /* The first failure in execution order, as a sequential pass would
         * report it. */
        for (int k = 0; k < m->n_order; k++) {
            onnxc_status *s = job.status[m->order[k]];
            if (s && !st) st = s;
            else onnxc_status_free(s);
        }
    }
    oc_pool_free(pool);
    free(job.in);
    free(job.order);
    free(job.status);
    free(ps.exclusive);
    return st;
}
