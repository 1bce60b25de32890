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
          "                 [--seed S]\n"
          "\n"
          "Runs MODEL once and prints each output's name, type and shape; for a 2-D [N, C]\n"
          "float output also the top-5 classes and scores of each row.\n"
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
} run_options;

/* One --input file and the model input it binds to. */
typedef struct input_file {
    const char *arg;     /* as given on the command line */
    const char *path;
    char *given_name;    /* NAME of NAME=FILE, or NULL */
    oc_tensor t;
    char *pb_name;       /* the tensor's name in a .pb file, or NULL */
    const char *target;  /* the input it binds to */
} input_file;

typedef struct run_state {
    onnxc_model *model;
    onnxc_session *session;
    input_file *files;
    int n_files;
    void **generated; /* per model input: a generated buffer, or NULL */
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

/* ---- binding files to inputs ------------------------------------------------ */

/* A name listed in the graph's inputs (including initializers listed there,
 * which can be overridden by name). */
static bool is_graph_input(const onnxc_model *m, const char *name)
{
    for (int i = 0; i < m->n_graph_inputs; i++)
        if (strcmp(m->graph_inputs[i].name, name) == 0) return true;
    return false;
}

/* "a, b, c": the inputs a caller binds, for messages. */
static const char *input_names(const onnxc_model *m, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < onnxc_model_input_count(m); i++) {
        onnxc_tensor_info info;
        onnxc_status_free(onnxc_model_input(m, i, &info));
        int n = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", info.name);
        if (n < 0 || (size_t)n >= size - used) break;
        used += (size_t)n;
    }
    return used ? buf : "none";
}

/* NAME=FILE or FILE. A prefix that names no input is an error, unless the
 * whole argument is an existing file whose name happens to contain '='. */
static onnxc_status *split_input_arg(const onnxc_model *m, const char *arg, input_file *f)
{
    char names[512];
    f->arg = arg;
    f->path = arg;
    const char *eq = strchr(arg, '=');
    if (!eq) return NULL;
    char *name = strndup(arg, (size_t)(eq - arg));
    if (!name) return oc_no_memory();
    if (is_graph_input(m, name)) {
        f->given_name = name;
        f->path = eq + 1;
        return NULL;
    }
    onnxc_status *st = NULL;
    if (!cli_is_file(arg))
        st = oc_error(ONNXC_ERR_ARGUMENT, "--input '%s': the model has no input named '%s' "
                      "(its inputs: %s)", arg, name, input_names(m, names, sizeof names));
    free(name);
    return st;
}

/* The name a file binds to by itself: NAME=, or a .pb tensor named like an input. */
static const char *named_target(const onnxc_model *m, const input_file *f)
{
    if (f->given_name) return f->given_name;
    if (f->pb_name && is_graph_input(m, f->pb_name)) return f->pb_name;
    return NULL;
}

static const input_file *file_bound_to(const run_state *rs, const char *name)
{
    for (int k = 0; k < rs->n_files; k++)
        if (rs->files[k].target && strcmp(rs->files[k].target, name) == 0) return &rs->files[k];
    return NULL;
}

/* Named files first, then the rest to the remaining inputs in order. */
static onnxc_status *assign_targets(run_state *rs)
{
    const onnxc_model *m = rs->model;
    for (int k = 0; k < rs->n_files; k++) {
        input_file *f = &rs->files[k];
        const char *name = named_target(m, f);
        const input_file *other = name ? file_bound_to(rs, name) : NULL;
        if (other)
            return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' is given twice: by '%s' and by '%s'",
                            name, other->arg, f->arg);
        f->target = name;
    }
    size_t next = 0, count = onnxc_model_input_count(m);
    for (int k = 0; k < rs->n_files; k++) {
        input_file *f = &rs->files[k];
        onnxc_tensor_info info = {0};
        while (!f->target && next < count) {
            onnxc_status_free(onnxc_model_input(m, next++, &info));
            if (!file_bound_to(rs, info.name)) f->target = info.name;
        }
        if (!f->target)
            return oc_error(ONNXC_ERR_ARGUMENT, "--input '%s': every input of the model is "
                            "already given (it has %zu)", f->arg, count);
    }
    return NULL;
}

static onnxc_status *load_and_bind_files(run_state *rs, const run_options *o)
{
    for (int k = 0; k < o->n_input_args; k++) {
        input_file *f = &rs->files[k];
        rs->n_files = k + 1;
        OC_TRY(split_input_arg(rs->model, o->input_args[k], f));
        OC_TRY(cli_tensor_load(f->path, &f->t, &f->pb_name));
    }
    OC_TRY(assign_targets(rs));
    for (int k = 0; k < rs->n_files; k++) {
        const input_file *f = &rs->files[k];
        onnxc_status *st = onnxc_session_bind(rs->session, f->target, f->t.dtype, f->t.dims,
                                              f->t.rank, f->t.data, f->t.nbytes);
        if (st) return oc_error_prefix(st, "--input '%s'", f->arg);
    }
    return NULL;
}

/* ---- generated inputs --------------------------------------------------------- */

/* splitmix64: small, seedable, good enough for test inputs. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* k / 2048 as float16 bits, exact for k in [0, 2048). */
static uint16_t half_of_fraction(uint64_t k)
{
    if (k == 0) return 0;
    int top = 63 - __builtin_clzll(k); /* k = 1.m * 2^top */
    uint16_t exponent = (uint16_t)(top - 11 + 15);
    uint16_t mantissa = (uint16_t)((k << (10 - top)) & 0x3ff);
    return (uint16_t)(exponent << 10 | mantissa);
}

/* Uniform values in [0, 1) for float types; other types stay zero. */
static void fill_uniform(onnxc_dtype dtype, void *data, size_t count, uint64_t *state)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t r = next_random(state);
        if (dtype == ONNXC_DTYPE_FLOAT) {
            float v = (float)(r >> 40) * 0x1p-24f;
            memcpy((float *)data + i, &v, sizeof v);
        } else if (dtype == ONNXC_DTYPE_DOUBLE) {
            double v = (double)(r >> 11) * 0x1p-53;
            memcpy((double *)data + i, &v, sizeof v);
        } else if (dtype == ONNXC_DTYPE_FLOAT16) {
            uint16_t v = half_of_fraction(r >> 53);
            memcpy((uint16_t *)data + i, &v, sizeof v);
        }
    }
}

/* The shape a generated input gets: declared dims, symbolic ones as 1.
 * Lists the symbolic dims' names in syms. */
static onnxc_status *generated_shape(const onnxc_tensor_info *info, oc_tensor *t, char *syms,
                                     size_t size)
{
    if (info->dtype == ONNXC_DTYPE_UNDEFINED || info->rank < 0)
        return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' is not given and the model declares no "
                        "%s for it: give it with --input", info->name,
                        info->rank < 0 ? "shape" : "element type");
    if (onnxc_dtype_size(info->dtype) == 0)
        return oc_error(ONNXC_ERR_UNSUPPORTED, "input '%s' has element type %s, which onnxc "
                        "cannot generate", info->name, onnxc_dtype_name(info->dtype));
    memset(t, 0, sizeof *t);
    t->dtype = info->dtype;
    t->rank = info->rank;
    size_t used = 0;
    syms[0] = '\0';
    for (int d = 0; d < info->rank; d++) {
        t->dims[d] = info->shape[d] < 0 ? 1 : info->shape[d];
        if (info->shape[d] >= 0 || used >= size) continue;
        const char *name = info->dim_names && info->dim_names[d] ? info->dim_names[d] : "?";
        int n = snprintf(syms + used, size - used, "%s'%s'", used ? ", " : "", name);
        used += n > 0 ? (size_t)n : 0;
    }
    return oc_tensor_set_sizes(t);
}

static const char *generated_kind(onnxc_dtype dtype)
{
    if (cli_dtype_is_float(dtype)) return "uniform random values in [0, 1)";
    if (dtype == ONNXC_DTYPE_BOOL) return "false (bool inputs are not randomized)";
    return "zeros (integer inputs are not randomized)";
}

static onnxc_status *generate_input(run_state *rs, size_t index, uint64_t seed, uint64_t *state)
{
    onnxc_tensor_info info;
    oc_tensor t;
    char syms[256], shape[OC_SHAPE_STR_MAX];
    OC_TRY(onnxc_model_input(rs->model, index, &info));
    OC_TRY(generated_shape(&info, &t, syms, sizeof syms));
    void *data = calloc(t.nbytes ? t.nbytes : 1, 1);
    if (!data) return oc_error(ONNXC_ERR_MEMORY, "cannot allocate %zu bytes for input '%s'",
                               t.nbytes, info.name);
    rs->generated[index] = data;
    fill_uniform(t.dtype, data, t.count, state);
    cli_note("input '%s' not given: using %s %s of %s (seed %" PRIu64 ")%s%s%s", info.name,
             onnxc_dtype_name(t.dtype), oc_shape_str(t.dims, t.rank, shape, sizeof shape),
             generated_kind(t.dtype), seed, syms[0] ? "; symbolic dims " : "", syms,
             syms[0] ? " taken as 1" : "");
    return onnxc_session_bind_index(rs->session, index, t.dtype, t.dims, t.rank, data, t.nbytes);
}

static onnxc_status *generate_missing_inputs(run_state *rs, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < onnxc_model_input_count(rs->model); i++) {
        onnxc_tensor_info info;
        OC_TRY(onnxc_model_input(rs->model, i, &info));
        if (!file_bound_to(rs, info.name)) OC_TRY(generate_input(rs, i, seed, &state));
    }
    return NULL;
}

/* ---- outputs ------------------------------------------------------------------ */

/* The index of the largest value of row not yet taken (NaN never wins). */
static size_t best_unused(const oc_tensor *t, size_t row, const size_t *taken, size_t n_taken)
{
    size_t classes = (size_t)t->dims[1], best = SIZE_MAX;
    double best_value = 0;
    for (size_t c = 0; c < classes; c++) {
        bool used = false;
        for (size_t k = 0; k < n_taken && !used; k++) used = taken[k] == c;
        double v = cli_element_double(t->dtype, t->data, row * classes + c);
        if (used || (isnan(v) && best != SIZE_MAX)) continue;
        if (best == SIZE_MAX || v > best_value || isnan(best_value)) {
            best = c;
            best_value = v;
        }
    }
    return best;
}

static void print_top5(const oc_tensor *t)
{
    size_t rows = (size_t)t->dims[0], classes = (size_t)t->dims[1];
    size_t n = classes < 5 ? classes : 5;
    for (size_t r = 0; r < rows; r++) {
        size_t top[5];
        printf("  row %zu top-%zu:", r, n);
        for (size_t k = 0; k < n; k++) {
            top[k] = best_unused(t, r, top, k);
            printf("%s class %zu (%.6g)", k ? "," : "", top[k],
                   cli_element_double(t->dtype, t->data, r * classes + top[k]));
        }
        putchar('\n');
    }
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

/* ---- the command ---------------------------------------------------------------- */

static onnxc_status *run_model(run_state *rs, const run_options *o)
{
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.threads = o->threads;
    OC_TRY(onnxc_model_open_file(o->model_path, NULL, &rs->model));
    OC_TRY(onnxc_session_create(rs->model, &so, &rs->session));
    size_t n_inputs = onnxc_model_input_count(rs->model);
    rs->files = calloc((size_t)o->n_input_args + 1, sizeof *rs->files);
    rs->generated = calloc(n_inputs + 1, sizeof *rs->generated);
    if (!rs->files || !rs->generated) return oc_no_memory();
    OC_TRY(load_and_bind_files(rs, o));
    OC_TRY(generate_missing_inputs(rs, o->seed));
    OC_TRY(onnxc_session_run(rs->session));
    size_t n_outputs = onnxc_model_output_count(rs->model);
    OC_TRY(print_outputs(rs->session, n_outputs));
    if (o->output_dir) OC_TRY(write_outputs(rs->session, n_outputs, o->output_dir));
    return NULL;
}

static void free_run_state(run_state *rs)
{
    for (int k = 0; k < rs->n_files; k++) {
        free(rs->files[k].given_name);
        free(rs->files[k].pb_name);
        free(rs->files[k].t.data);
    }
    free(rs->files);
    size_t n_inputs = rs->model ? onnxc_model_input_count(rs->model) : 0;
    for (size_t i = 0; rs->generated && i < n_inputs; i++) free(rs->generated[i]);
    free(rs->generated);
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
