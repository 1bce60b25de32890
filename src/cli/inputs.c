/* Model inputs for `onnxc run` and `onnxc bench`: tensors from --input files
 * bound by name or in order, and seeded random values for the inputs not given. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One --input file and the model input it binds to. */
struct cli_input_file {
    const char *arg;     /* as given on the command line */
    const char *path;
    char *given_name;    /* NAME of NAME=FILE, or NULL */
    oc_tensor t;
    char *pb_name;       /* the tensor's name in a .pb file, or NULL */
    const char *target;  /* the input it binds to */
};
typedef struct cli_input_file input_file;

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

static const input_file *file_bound_to(const cli_inputs *in, const char *name)
{
    for (int k = 0; k < in->n_files; k++)
        if (in->files[k].target && strcmp(in->files[k].target, name) == 0) return &in->files[k];
    return NULL;
}

/* Named files first, then the rest to the remaining inputs in order. */
static onnxc_status *assign_targets(cli_inputs *in)
{
    const onnxc_model *m = in->model;
    for (int k = 0; k < in->n_files; k++) {
        input_file *f = &in->files[k];
        const char *name = named_target(m, f);
        const input_file *other = name ? file_bound_to(in, name) : NULL;
        if (other)
            return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' is given twice: by '%s' and by '%s'",
                            name, other->arg, f->arg);
        f->target = name;
    }
    size_t next = 0, count = onnxc_model_input_count(m);
    for (int k = 0; k < in->n_files; k++) {
        input_file *f = &in->files[k];
        onnxc_tensor_info info = {0};
        while (!f->target && next < count) {
            onnxc_status_free(onnxc_model_input(m, next++, &info));
            if (!file_bound_to(in, info.name)) f->target = info.name;
        }
        if (!f->target)
            return oc_error(ONNXC_ERR_ARGUMENT, "--input '%s': every input of the model is "
                            "already given (it has %zu)", f->arg, count);
    }
    return NULL;
}

static onnxc_status *load_and_bind_files(cli_inputs *in, const char *const *args, int n_args)
{
    for (int k = 0; k < n_args; k++) {
        input_file *f = &in->files[k];
        in->n_files = k + 1;
        OC_TRY(split_input_arg(in->model, args[k], f));
        OC_TRY(cli_tensor_load(f->path, &f->t, &f->pb_name));
    }
    OC_TRY(assign_targets(in));
    for (int k = 0; k < in->n_files; k++) {
        const input_file *f = &in->files[k];
        onnxc_status *st = onnxc_session_bind(in->session, f->target, f->t.dtype, f->t.dims,
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

/* Uniform values in [0, 1) for float types; other types stay zero. One
 * loop per type: inputs may be big. */
static void fill_uniform(onnxc_dtype dtype, void *data, size_t count, uint64_t *state)
{
    if (dtype == ONNXC_DTYPE_FLOAT) {
        float *p = data;
        for (size_t i = 0; i < count; i++) p[i] = (float)(next_random(state) >> 40) * 0x1p-24f;
    } else if (dtype == ONNXC_DTYPE_DOUBLE) {
        double *p = data;
        for (size_t i = 0; i < count; i++) p[i] = (double)(next_random(state) >> 11) * 0x1p-53;
    } else if (dtype == ONNXC_DTYPE_FLOAT16) {
        uint16_t *p = data;
        for (size_t i = 0; i < count; i++) p[i] = half_of_fraction(next_random(state) >> 53);
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

/* Generated inputs stop at a session's default memory limit in total: a
 * hostile model's declared shapes must not make the CLI allocate (and fill)
 * more than the library would let a run hold. */
#define GENERATED_MAX_BYTES ONNXC_DEFAULT_SESSION_MAX_BYTES

static onnxc_status *generate_input(cli_inputs *in, size_t index, uint64_t seed, uint64_t *state,
                                    uint64_t *generated_bytes)
{
    onnxc_tensor_info info;
    oc_tensor t;
    char syms[256], shape[OC_SHAPE_STR_MAX];
    OC_TRY(onnxc_model_input(in->model, index, &info));
    OC_TRY(generated_shape(&info, &t, syms, sizeof syms));
    if (t.nbytes > GENERATED_MAX_BYTES - *generated_bytes)
        return oc_error(ONNXC_ERR_LIMIT,
                        "input '%s' not given: generating %s %s (%zu bytes) would pass the %" PRIu64
                        " bytes onnxc generates for inputs in total; give it with --input",
                        info.name, onnxc_dtype_name(t.dtype),
                        oc_shape_str(t.dims, t.rank, shape, sizeof shape), t.nbytes,
                        (uint64_t)GENERATED_MAX_BYTES);
    *generated_bytes += t.nbytes;
    void *data = calloc(t.nbytes ? t.nbytes : 1, 1);
    if (!data) return oc_error(ONNXC_ERR_MEMORY, "cannot allocate %zu bytes for input '%s'",
                               t.nbytes, info.name);
    in->generated[index] = data;
    fill_uniform(t.dtype, data, t.count, state);
    cli_note("input '%s' not given: using %s %s of %s (seed %" PRIu64 ")%s%s%s", info.name,
             onnxc_dtype_name(t.dtype), oc_shape_str(t.dims, t.rank, shape, sizeof shape),
             generated_kind(t.dtype), seed, syms[0] ? "; symbolic dims " : "", syms,
             syms[0] ? " taken as 1" : "");
    return onnxc_session_bind_index(in->session, index, t.dtype, t.dims, t.rank, data, t.nbytes);
}

static onnxc_status *generate_missing_inputs(cli_inputs *in, uint64_t seed)
{
    uint64_t state = seed, generated_bytes = 0;
    for (size_t i = 0; i < onnxc_model_input_count(in->model); i++) {
        onnxc_tensor_info info;
        OC_TRY(onnxc_model_input(in->model, i, &info));
        if (!file_bound_to(in, info.name))
            OC_TRY(generate_input(in, i, seed, &state, &generated_bytes));
    }
    return NULL;
}

/* ---- the whole ------------------------------------------------------------------ */

onnxc_status *cli_inputs_bind(cli_inputs *in, const onnxc_model *model, onnxc_session *session,
                              const char *const *args, int n_args, uint64_t seed)
{
    memset(in, 0, sizeof *in);
    in->model = model;
    in->session = session;
    in->n_generated = onnxc_model_input_count(model);
    in->files = calloc((size_t)n_args + 1, sizeof *in->files);
    in->generated = calloc(in->n_generated + 1, sizeof *in->generated);
    if (!in->files || !in->generated) return oc_no_memory();
    OC_TRY(load_and_bind_files(in, args, n_args));
    return generate_missing_inputs(in, seed);
}

void cli_inputs_free(cli_inputs *in)
{
    for (int k = 0; in->files && k < in->n_files; k++) {
        free(in->files[k].given_name);
        free(in->files[k].pb_name);
        free(in->files[k].t.data);
    }
    free(in->files);
    for (size_t i = 0; in->generated && i < in->n_generated; i++) free(in->generated[i]);
    free(in->generated);
    memset(in, 0, sizeof *in);
}
