/* `onnxc bench`: loads a model once, runs it a few times to warm up and then
 * K timed times, and prints the load time, the latency statistics, the peak
 * resident memory and, on request, where the time goes per op type and node. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "core/threadpool.h"

void cli_bench_help(FILE *f)
{
    fputs("Usage: onnxc bench MODEL [--input [NAME=]FILE]... [--threads N] [--iters K]\n"
          "                   [--warmup W] [--seed S] [--no-optimize] [--per-node]\n"
          "                   [--profile FILE.json] [--max-ops OPS]\n"
          "\n"
          "Loads MODEL once (timed), binds its inputs, runs it W times to warm up and then K\n"
          "timed times, and prints the load time, the latency of the timed runs (mean,\n"
          "median, p90, min, max), the peak resident memory (getrusage ru_maxrss) and, as\n"
          "the last line:\n"
          "  bench: median_ms=<float> p90_ms=<float> min_ms=<float> threads=<N>\n"
          "\n"
          "Options:\n"
          "  --input [NAME=]FILE  an input tensor from an ONNX TensorProto .pb or a NumPy .npy\n"
          "                       file, bound as by 'onnxc run'; inputs not given get seeded\n"
          "                       random values (floats uniform in [0, 1), integers 0, bool\n"
          "                       false, symbolic dims 1) and a note on stderr\n"
          "  --threads N          threads a run uses (0 = one per core; default 0)\n"
          "  --iters K            timed runs (default 10)\n"
          "  --warmup W           untimed runs first (default 1; the first run of a session\n"
          "                       also plans its memory)\n"
          "  --seed S             seed of the random values of inputs not given (default 0)\n"
          "  --no-optimize        load without graph optimizations\n"
          "  --max-ops OPS        the most work a run may take, as for 'onnxc run' (0 = the\n"
          "                       library's default)\n"
          "  --per-node           profile the timed runs and print the time per op type and\n"
          "                       the slowest nodes (mean per run)\n"
          "  --profile FILE.json  write the last timed run as a Chrome trace (open it in\n"
          "                       chrome://tracing or ui.perfetto.dev)\n"
          "  -h, --help           show this help\n"
          "\n"
          "p90 interpolates linearly between the sorted timings (as numpy.percentile).\n",
          f);
}

typedef struct bench_options {
    const char *model_path;
    const char **input_args; /* the values of --input, in order */
    int n_input_args;
    int threads;
    long long iters, warmup;
    uint64_t seed;
    bool optimize;
    bool per_node;
    const char *profile_path;
    uint64_t max_ops; /* --max-ops (0: the library's default) */
} bench_options;

/* ---- arguments ------------------------------------------------------------ */

/* Returns CLI_EXIT_OK, -1 after printing the help, or an exit code after
 * printing why not. */
static int parse_bench_args(int argc, char **argv, bench_options *o)
{
    const char *value;
    long long n;
    int r;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_is_help(arg)) {
            cli_bench_help(stdout);
            return -1;
        }
        if ((r = cli_option_value("bench", argc, argv, &i, "--input", &value)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            o->input_args[o->n_input_args++] = value;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--threads", &value)) != 0) {
            if (r < 0 || !cli_parse_int("bench", "--threads", value, 0, 4096, &n))
                return CLI_EXIT_USAGE;
            o->threads = (int)n;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--iters", &value)) != 0) {
            if (r < 0 || !cli_parse_int("bench", "--iters", value, 1, 1000000, &o->iters))
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--warmup", &value)) != 0) {
            if (r < 0 || !cli_parse_int("bench", "--warmup", value, 0, 1000000, &o->warmup))
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--seed", &value)) != 0) {
            if (r < 0 || !cli_parse_int("bench", "--seed", value, 0, INT64_MAX, &n))
                return CLI_EXIT_USAGE;
            o->seed = (uint64_t)n;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--profile", &value)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!value[0]) return cli_usage_error("bench", "--profile needs a file name");
            o->profile_path = value;
        } else if ((r = cli_option_value("bench", argc, argv, &i, "--max-ops", &value)) != 0) {
            if (r < 0 || !cli_parse_int("bench", "--max-ops", value, 0, INT64_MAX, &n))
                return CLI_EXIT_USAGE;
            o->max_ops = (uint64_t)n;
        } else if (strcmp(arg, "--no-optimize") == 0) {
            o->optimize = false;
        } else if (strcmp(arg, "--per-node") == 0) {
            o->per_node = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("bench", "unknown option '%s'", arg);
        } else if (o->model_path) {
            return cli_usage_error("bench", "unexpected argument '%s' (the model is '%s')", arg,
                                   o->model_path);
        } else {
            o->model_path = arg;
        }
    }
    if (!o->model_path) return cli_usage_error("bench", "no model given");
    return CLI_EXIT_OK;
}

/* ---- timing ------------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, interpolated linearly. */
static double quantile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n) return sorted[n - 1];
    return sorted[lo] + (pos - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

typedef struct latency {
    double mean, median, p90, min, max, stdev;
} latency;

static latency summarize(double *ms, size_t n)
{
    latency l = {0};
    for (size_t i = 0; i < n; i++) l.mean += ms[i];
    l.mean /= (double)n;
    for (size_t i = 0; i < n; i++) l.stdev += (ms[i] - l.mean) * (ms[i] - l.mean);
    l.stdev = n > 1 ? sqrt(l.stdev / (double)(n - 1)) : 0;
    qsort(ms, n, sizeof *ms, by_value);
    l.median = quantile(ms, n, 0.5);
    l.p90 = quantile(ms, n, 0.9);
    l.min = ms[0];
    l.max = ms[n - 1];
    return l;
}

/* ---- per-node statistics -------------------------------------------------------- */

/* The total time of one node over the timed runs. */
typedef struct node_total {
    onnxc_node_timing last; /* its record in the last run seen */
    uint64_t ns;
    size_t runs;
} node_total;

typedef struct op_total {
    char kind[96]; /* op type, "+Fused" */
    uint64_t ns;
    size_t nodes;
} op_total;

typedef struct per_node {
    node_total *nodes; /* by node index */
    size_t cap;
} per_node;

static onnxc_status *per_node_add(per_node *p, onnxc_session *s)
{
    const onnxc_node_timing *r;
    size_t count;
    OC_TRY(onnxc_session_profile(s, &r, &count));
    for (size_t i = 0; i < count; i++) {
        if (r[i].node >= p->cap) {
            size_t cap = r[i].node * 2 + 16;
            node_total *grown = realloc(p->nodes, cap * sizeof *grown);
            if (!grown) return oc_no_memory();
            memset(grown + p->cap, 0, (cap - p->cap) * sizeof *grown);
            p->nodes = grown;
            p->cap = cap;
        }
        node_total *t = &p->nodes[r[i].node];
        t->last = r[i];
        t->ns += r[i].duration_ns;
        t->runs++;
    }
    return NULL;
}

static int by_time_desc(const void *a, const void *b)
{
    uint64_t x = ((const node_total *)a)->ns, y = ((const node_total *)b)->ns;
    return (x < y) - (x > y);
}

static int op_by_time_desc(const void *a, const void *b)
{
    uint64_t x = ((const op_total *)a)->ns, y = ((const op_total *)b)->ns;
    return (x < y) - (x > y);
}

static void op_kind(const onnxc_node_timing *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s", r->op_type, r->fused ? "+" : "", r->fused ? r->fused : "");
}

/* Time per op type and the slowest nodes, as means per timed run. The
 * records of the last run stay valid (the session has not run since). */
static onnxc_status *print_per_node(per_node *p, long long runs, double median_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < p->cap; i++)
        if (p->nodes[i].runs) p->nodes[n++] = p->nodes[i];
    op_total *ops = calloc(n + 1, sizeof *ops);
    if (!ops) return oc_no_memory();
    size_t n_ops = 0;
    uint64_t all = 0;
    for (size_t i = 0; i < n; i++) {
        char kind[sizeof ops->kind];
        op_kind(&p->nodes[i].last, kind, sizeof kind);
        size_t k = 0;
        while (k < n_ops && strcmp(ops[k].kind, kind) != 0) k++;
        if (k == n_ops) snprintf(ops[n_ops++].kind, sizeof ops->kind, "%s", kind);
        ops[k].ns += p->nodes[i].ns;
        ops[k].nodes++;
        all += p->nodes[i].ns;
    }
    qsort(ops, n_ops, sizeof *ops, op_by_time_desc);
    double per_run = 1e-6 / (double)runs; /* ns over all runs -> ms per run */
    double total = (double)all * per_run;
    printf("\ntime per op type (mean per run; %% of the nodes' total):\n");
    printf("  %-24s %6s %12s %7s\n", "op type", "nodes", "ms", "%");
    for (size_t k = 0; k < n_ops; k++)
        printf("  %-24s %6zu %12.3f %6.1f%%\n", ops[k].kind, ops[k].nodes,
               (double)ops[k].ns * per_run, all ? 100.0 * (double)ops[k].ns / (double)all : 0.0);
    printf("  %-24s %6zu %12.3f %6.1f%%  (median run %.3f ms)\n", "all nodes", n, total, 100.0,
           median_ms);
    free(ops);

    qsort(p->nodes, n, sizeof *p->nodes, by_time_desc);
    size_t top = n < 10 ? n : 10;
    printf("\nslowest nodes (mean per run):\n");
    printf("  %12s %7s  %-16s %-20s %s\n", "ms", "%", "op type", "output", "node");
    for (size_t i = 0; i < top; i++) {
        const onnxc_node_timing *r = &p->nodes[i].last;
        char label[64], kind[96], shape[OC_SHAPE_STR_MAX] = "";
        op_kind(r, kind, sizeof kind);
        if (r->n_outputs > 0 && r->outputs[0].rank >= 0)
            oc_shape_str(r->outputs[0].shape, r->outputs[0].rank, shape, sizeof shape);
        printf("  %12.3f %6.1f%%  %-16s %-20s %s\n", (double)p->nodes[i].ns * per_run,
               all ? 100.0 * (double)p->nodes[i].ns / (double)all : 0.0, kind, shape,
               cli_node_label(r, label, sizeof label));
    }
    return NULL;
}

/* ---- the command ---------------------------------------------------------------- */

typedef struct bench_state {
    onnxc_model *model;
    onnxc_session *session;
    cli_inputs inputs;
    double *ms;
    per_node per_node;
} bench_state;

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

static onnxc_status *timed_run(onnxc_session *s, double *ms)
{
    double t0 = now_ms();
    OC_TRY(onnxc_session_run(s));
    *ms = now_ms() - t0;
    return NULL;
}

static onnxc_status *bench(bench_state *b, const bench_options *o)
{
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.optimize = o->optimize ? 1 : 0;
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    /* The load prepares weights on as many threads as the runs use. */
    mo.threads = so.threads = o->threads;
    mo.max_ops = so.max_ops = o->max_ops;
    so.profile = o->per_node || o->profile_path;
    int threads = o->threads > 0 ? o->threads : oc_cpu_count();

    printf("model: %s\n", o->model_path);
    double t0 = now_ms();
    OC_TRY(onnxc_model_open_file(o->model_path, &mo, &b->model));
    double load_ms = now_ms() - t0;
    printf("load: %.3f ms (read, check, infer shapes%s)\n", load_ms,
           o->optimize ? ", optimize" : "; --no-optimize");
    t0 = now_ms();
    OC_TRY(onnxc_session_create(b->model, &so, &b->session));
    printf("session: %d thread%s, created in %.3f ms%s\n", threads, threads == 1 ? "" : "s",
           now_ms() - t0, so.profile ? " (profiling every node)" : "");
    fflush(stdout);
    OC_TRY(cli_inputs_bind(&b->inputs, b->model, b->session, o->input_args, o->n_input_args,
                           o->seed));

    for (long long i = 0; i < o->warmup; i++) {
        double ms;
        OC_TRY(timed_run(b->session, &ms));
        if (i == 0) printf("first run: %.3f ms (it plans the memory)\n", ms);
    }
    if (o->warmup > 1) printf("warm-up: %lld runs\n", o->warmup);
    b->ms = malloc((size_t)o->iters * sizeof *b->ms);
    if (!b->ms) return oc_no_memory();
    for (long long i = 0; i < o->iters; i++) {
        OC_TRY(timed_run(b->session, &b->ms[i]));
        if (o->per_node) OC_TRY(per_node_add(&b->per_node, b->session));
    }
    latency l = summarize(b->ms, (size_t)o->iters);
    printf("timed runs: %lld%s\n", o->iters, o->warmup ? "" : " (the first also plans the memory)");
    printf("latency: mean %.3f ms, median %.3f ms, p90 %.3f ms, min %.3f ms, max %.3f ms, "
           "stdev %.3f ms\n", l.mean, l.median, l.p90, l.min, l.max, l.stdev);
    printf("peak RSS: %.1f MiB\n", peak_rss_mib());
    if (o->per_node) OC_TRY(print_per_node(&b->per_node, o->iters, l.median));
    if (o->profile_path) {
        const onnxc_node_timing *records;
        size_t count;
        OC_TRY(onnxc_session_profile(b->session, &records, &count));
        size_t len = strlen(o->model_path) + 16;
        char *title = malloc(len);
        if (!title) return oc_no_memory();
        snprintf(title, len, "onnxc bench %s", o->model_path);
        onnxc_status *st = cli_write_trace(o->profile_path, title, records, count);
        free(title);
        OC_TRY(st);
        printf("wrote %s (a trace of the last run, %zu nodes)\n", o->profile_path, count);
    }
    printf("bench: median_ms=%.3f p90_ms=%.3f min_ms=%.3f threads=%d\n", l.median, l.p90, l.min,
           threads);
    return NULL;
}

int cli_bench_main(int argc, char **argv)
{
    bench_options o = {0};
    o.iters = 10;
    o.warmup = 1;
    o.optimize = true;
    o.input_args = calloc((size_t)argc, sizeof *o.input_args);
    if (!o.input_args) return cli_error("out of memory");
    int code = parse_bench_args(argc, argv, &o);
    if (code != CLI_EXIT_OK) {
        free(o.input_args);
        return code < 0 ? CLI_EXIT_OK : code;
    }
    bench_state b = {0};
    onnxc_status *st = bench(&b, &o);
    code = st ? cli_status_error(st) : CLI_EXIT_OK;
    free(b.per_node.nodes);
    free(b.ms);
    cli_inputs_free(&b.inputs);
    onnxc_session_free(b.session);
    onnxc_model_free(b.model);
    free(o.input_args);
    return code;
}
