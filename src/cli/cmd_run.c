/* `onnxc run`: runs a model once on tensors from files, or on generated
 * values for inputs not given, and prints (and optionally writes) the outputs. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/tensor_pb.h"

void cli_run_help(FILE *f)
{
    fputs("Usage: onnxc run MODEL [--input [NAME=]FILE]... [--output-dir DIR] [--threads N]\n"
          "                 [--seed S] [--profile FILE.json] [--no-optimize] [--max-ops OPS]\n"
          "\n"
          "Runs MODEL once and prints each output's name, type and shape; for a 2-D [N, C]\n"
          "float output also the top-5 classes and scores of each row (the first 16).\n"
          "\n"
          "Options:\n"
          "  --input [NAME=]FILE  an input tensor from an ONNX TensorProto .pb or a NumPy .npy\n"
          "                       file (C order). Without NAME, files bind to the model's inputs\n"
          "                       in order, except that a .pb whose tensor name is an input of\n"
          "                       the model binds to that input. Repeat for several inputs.\n"
          "  --output-dir DIR     write output K to DIR/output_K.pb (a TensorProto named after\n"
          "                       the output); DIR is created if missing\n"
          "  --threads N          worker threads (0 = all cores; default 0)\n"
          "  --seed S             seed of the random values of inputs not given (default 0)\n"
          "  --no-optimize        load MODEL without the graph optimizations (BatchNormalization\n"
          "                       folding, residual Add and Relu/Clip fusion, Identity/Dropout\n"
          "                       removal)\n"
          "  --max-ops OPS        the most work a run may take (multiply-adds and element\n"
          "                       operations, estimated before it starts); 0 = the library's\n"
          "                       default, 2^36 (a guard against models that would run for hours)\n"
          "  --profile FILE.json  time every node of the run and write a Chrome trace (open it\n"
          "                       in chrome://tracing or ui.perfetto.dev)\n"
          "  -h, --help           show this help\n"
          "\n"
          "Inputs not given are generated, and a note on stderr says so: float inputs get\n"
          "uniform random values in [0, 1), integer inputs zeros, bool inputs false; symbolic\n"
          "dimensions are taken as 1.\n",
          f);
}

typedef struct run_options {
    const char *model_path;
    const char **input_args; /* the values of --input, in order */
    int n_input_args;
    const char *output_dir;
    int threads;
    uint64_t seed;
    bool no_optimize;         /* --no-optimize */
    uint64_t max_ops;         /* --max-ops (0: the library's default) */
    const char *profile_path; /* --profile */
} run_options;

typedef struct run_state {
    onnxc_model *model;
    onnxc_session *session;
    cli_inputs inputs;
} run_state;

/* ---- arguments ------------------------------------------------------------ */

/* Returns CLI_EXIT_OK, or an exit code after printing why not. */
static int parse_run_args(int argc, char **argv, run_options *o)
{
    const char *value;
    long long n;
    int r;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_is_help(arg)) {
            cli_run_help(stdout);
            return -1;
        }
        if ((r = cli_option_value("run", argc, argv, &i, "--input", &value)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            o->input_args[o->n_input_args++] = value;
        } else if ((r = cli_option_value("run", argc, argv, &i, "--output-dir", &value)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!value[0]) return cli_usage_error("run", "--output-dir needs a folder name");
            o->output_dir = value;
        } else if ((r = cli_option_value("run", argc, argv, &i, "--threads", &value)) != 0) {
            if (r < 0 || !cli_parse_int("run", "--threads", value, 0, 4096, &n))
                return CLI_EXIT_USAGE;
            o->threads = (int)n;
        } else if ((r = cli_option_value("run", argc, argv, &i, "--seed", &value)) != 0) {
            if (r < 0 || !cli_parse_int("run", "--seed", value, 0, INT64_MAX, &n))
                return CLI_EXIT_USAGE;
            o->seed = (uint64_t)n;
        } else if (strcmp(arg, "--no-optimize") == 0) {
            o->no_optimize = true;
        } else if ((r = cli_option_value("run", argc, argv, &i, "--max-ops", &value)) != 0) {
            if (r < 0 || !cli_parse_int("run", "--max-ops", value, 0, INT64_MAX, &n))
                return CLI_EXIT_USAGE;
            o->max_ops = (uint64_t)n;
        } else if ((r = cli_option_value("run", argc, argv, &i, "--profile", &value)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!value[0]) return cli_usage_error("run", "--profile needs a file name");
            o->profile_path = value;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return cli_usage_error("run", "unknown option '%s'", arg);
        } else if (o->model_path) {
            return cli_usage_error("run", "unexpected argument '%s' (the model is '%s')", arg,
                                   o->model_path);
        } else {
            o->model_path = arg;
        }
    }
    if (!o->model_path) return cli_usage_error("run", "no model given");
    return CLI_EXIT_OK;
}

/* ---- outputs ------------------------------------------------------------------ */

/* Rows whose top-5 is printed: a hostile model's output may have millions. */
#define TOP5_ROWS 16

/* v ranks above w: larger, and NaN below every number (ties keep the
 * earlier class). */
static bool ranks_above(double v, double w) { return !isnan(v) && (isnan(w) || v > w); }

/* The n (<= 5) best classes of row, best first, in one pass. */
static void top_classes(const oc_tensor *t, size_t row, size_t n, size_t *top, double *score)
{
    size_t classes = (size_t)t->dims[1], kept = 0;
    for (size_t c = 0; c < classes; c++) {
        double v = cli_element_double(t->dtype, t->data, row * classes + c);
        if (kept == n && !ranks_above(v, score[n - 1])) continue;
        size_t at = kept < n ? kept++ : n - 1;
        for (; at > 0 && ranks_above(v, score[at - 1]); at--) {
            top[at] = top[at - 1];
            score[at] = score[at - 1];
        }
        top[at] = c;
        score[at] = v;
    }
}

static void print_top5(const oc_tensor *t)
{
    size_t rows = (size_t)t->dims[0], classes = (size_t)t->dims[1];
    size_t n = classes < 5 ? classes : 5, shown = rows < TOP5_ROWS ? rows : TOP5_ROWS;
    for (size_t r = 0; r < shown; r++) {
        size_t top[5];
        double score[5];
        top_classes(t, r, n, top, score);
        printf("  row %zu top-%zu:", r, n);
        for (size_t k = 0; k < n; k++) printf("%s class %zu (%.6g)", k ? "," : "", top[k], score[k]);
        putchar('\n');
    }
    if (shown < rows) printf("  ... and %zu more rows\n", rows - shown);
}

/* The first few values, and for floats min, max and mean. */
static void print_summary(const oc_tensor *t)
{
    char buf[64];
    size_t shown = t->count < 8 ? t->count : 8;
    printf("  values:");
    bool is_float = cli_dtype_is_float(t->dtype);
    for (size_t i = 0; i < shown; i++) {
        if (is_float)
            snprintf(buf, sizeof buf, "%.6g", cli_element_double(t->dtype, t->data, i));
        else
            cli_element_str(t->dtype, t->data, i, buf, sizeof buf);
        printf("%s %s", i ? "," : "", buf);
    }
    printf("%s\n", shown < t->count ? ", ..." : "");
    if (!is_float) return;
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < t->count; i++) {
        double v = cli_element_double(t->dtype, t->data, i);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
    }
    printf("  min %.6g, max %.6g, mean %.6g\n", lo, hi, sum / (double)t->count);
}

static onnxc_status *print_outputs(onnxc_session *s, size_t count)
{
    char shape[OC_SHAPE_STR_MAX];
    for (size_t k = 0; k < count; k++) {
        onnxc_tensor_view v;
        oc_tensor t;
        OC_TRY(onnxc_session_output(s, k, &v));
        cli_tensor_from_view(&v, &t);
        printf("output %zu '%s': %s %s\n", k, v.name, onnxc_dtype_name(v.dtype),
               oc_shape_str(t.dims, t.rank, shape, sizeof shape));
        if (t.rank == 2 && cli_dtype_is_float(t.dtype) && t.count > 0)
            print_top5(&t);
        else if (t.count > 0)
            print_summary(&t);
    }
    return NULL;
}

static onnxc_status *write_output(onnxc_session *s, size_t k, const char *dir)
{
    onnxc_tensor_view v;
    oc_tensor t;
    OC_TRY(onnxc_session_output(s, k, &v));
    cli_tensor_from_view(&v, &t);
    size_t len = strlen(dir) + 64;
    char *path = malloc(len);
    if (!path) return oc_no_memory();
    snprintf(path, len, "%s/output_%zu.pb", dir, k);
    void *bytes = NULL;
    size_t size = 0;
    onnxc_status *st = oc_tensor_pb_encode(&t, v.name, &bytes, &size);
    if (!st) st = cli_write_file(path, bytes, size);
    if (!st) printf("wrote %s\n", path);
    free(bytes);
    free(path);
    return st;
}

static onnxc_status *write_outputs(onnxc_session *s, size_t count, const char *dir)
{
    OC_TRY(cli_make_dirs(dir));
    for (size_t k = 0; k < count; k++) OC_TRY(write_output(s, k, dir));
    return NULL;
}

static onnxc_status *write_profile(onnxc_session *s, const run_options *o)
{
    const onnxc_node_timing *records;
    size_t count;
    OC_TRY(onnxc_session_profile(s, &records, &count));
    size_t len = strlen(o->model_path) + 16;
    char *title = malloc(len);
    if (!title) return oc_no_memory();
    snprintf(title, len, "onnxc run %s", o->model_path);
    onnxc_status *st = cli_write_trace(o->profile_path, title, records, count);
    free(title);
    OC_TRY(st);
    printf("wrote %s (a trace of %zu nodes)\n", o->profile_path, count);
    return NULL;
}

/* ---- the command ---------------------------------------------------------------- */

static onnxc_status *run_model(run_state *rs, const run_options *o)
{
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.threads = o->threads;
    so.profile = o->profile_path != NULL;
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.optimize = !o->no_optimize;
    mo.threads = o->threads; /* the load prepares weights on as many threads */
    mo.max_ops = so.max_ops = o->max_ops;
    OC_TRY(onnxc_model_open_file(o->model_path, &mo, &rs->model));
    OC_TRY(onnxc_session_create(rs->model, &so, &rs->session));
    OC_TRY(cli_inputs_bind(&rs->inputs, rs->model, rs->session, o->input_args, o->n_input_args,
                           o->seed));
    OC_TRY(onnxc_session_run(rs->session));
    size_t n_outputs = onnxc_model_output_count(rs->model);
    OC_TRY(print_outputs(rs->session, n_outputs));
    if (o->output_dir) OC_TRY(write_outputs(rs->session, n_outputs, o->output_dir));
    if (o->profile_path) OC_TRY(write_profile(rs->session, o));
    return NULL;
}

static void free_run_state(run_state *rs)
{
    cli_inputs_free(&rs->inputs);
    onnxc_session_free(rs->session);
    onnxc_model_free(rs->model);
}

int cli_run_main(int argc, char **argv)
{
    run_options o = {0};
    o.input_args = calloc((size_t)argc, sizeof *o.input_args);
    if (!o.input_args) return cli_error("out of memory");
    int code = parse_run_args(argc, argv, &o);
    if (code != CLI_EXIT_OK) {
        free(o.input_args);
        return code < 0 ? CLI_EXIT_OK : code;
    }
    run_state rs = {0};
    onnxc_status *st = run_model(&rs, &o);
    code = st ? cli_status_error(st) : CLI_EXIT_OK;
    free_run_state(&rs);
    free(o.input_args);
    return code;
}
