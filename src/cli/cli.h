/* The onnxc command-line tool: commands, argument helpers, tensor files. */
#ifndef ONNXC_CLI_H
#define ONNXC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/ir.h"
#include "onnxc.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_SKIPPED = 77 };

/* ---- commands (argv[0] is the command name) ------------------------------ */

int cli_run_main(int argc, char **argv);
int cli_info_main(int argc, char **argv);
int cli_test_main(int argc, char **argv);
int cli_bench_main(int argc, char **argv);

void cli_run_help(FILE *f);
void cli_info_help(FILE *f);
void cli_test_help(FILE *f);
void cli_bench_help(FILE *f);

/* ---- messages (main.c) ----------------------------------------------------- */

/* "onnxc: error: ..." on stderr; returns CLI_EXIT_ERROR. */
int cli_error(const char *fmt, ...) OC_PRINTF(1, 2);
/* Reports and frees st; returns CLI_EXIT_ERROR. */
int cli_status_error(onnxc_status *st);
/* "onnxc: error: ..." plus a pointer to the command's help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) OC_PRINTF(2, 3);
/* "onnxc: note: ..." on stderr. */
void cli_note(const char *fmt, ...) OC_PRINTF(1, 2);

/* ---- argument parsing (main.c) -------------------------------------------- */

/* Matches argv[*i] against option name ("--input"), written "--input VALUE" or
 * "--input=VALUE". Returns 1 and sets *value (advancing *i past a separate
 * value) on a match, 0 when argv[*i] is something else, and -1 after a usage
 * message when the value is missing. */
int cli_option_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                     const char **value);
/* True for "-h" and "--help". */
bool cli_is_help(const char *arg);
/* Parses a decimal integer in [min, max]; a usage message and false otherwise. */
bool cli_parse_int(const char *cmd, const char *option, const char *text, long long min,
                   long long max, long long *out);

/* ---- files and tensors (tensor_file.c, npy.c) ------------------------------ */

/* Reads a whole regular file into a malloc'd buffer (never NULL on success). */
onnxc_status *cli_read_file(const char *path, void **data, size_t *size);
onnxc_status *cli_write_file(const char *path, const void *data, size_t size);
/* Creates a folder and its missing parents. */
onnxc_status *cli_make_dirs(const char *path);
/* True when path names an existing regular file. */
bool cli_is_file(const char *path);

/* Loads a tensor from an ONNX TensorProto .pb or a NumPy .npy file (told apart
 * by their content). t->data is malloc'd (may be NULL when empty); *name gets
 * a malloc'd copy of a .pb tensor's name, or NULL. */
onnxc_status *cli_tensor_load(const char *path, oc_tensor *t, char **name);
/* A tensor describing a session's output view (sharing its data). */
void cli_tensor_from_view(const onnxc_tensor_view *v, oc_tensor *t);
/* Decodes the bytes of a .npy file (C order; versions 1.0, 2.0, 3.0). */
onnxc_status *cli_npy_decode(const void *data, size_t size, oc_tensor *t);
/* True when the bytes start with the .npy magic string. */
bool cli_npy_magic(const void *data, size_t size);

/* ---- model inputs (inputs.c) ------------------------------------------------ */

/* The tensors bound to a session's inputs, owned until cli_inputs_free. */
typedef struct cli_input_file cli_input_file;
typedef struct cli_inputs {
    const onnxc_model *model;
    onnxc_session *session;
    cli_input_file *files; /* from --input */
    int n_files;
    void **generated;      /* per model input: a generated buffer, or NULL */
    size_t n_generated;
} cli_inputs;

/* Loads the --input files (args: their values in order) and binds them to the
 * session: NAME=FILE by name, a .pb whose tensor name is an input to that
 * input, the rest to the remaining inputs in order. Inputs not given get seeded
 * random values (floats uniform in [0, 1), integers 0, bool false, symbolic
 * dims 1) and a note on stderr. The buffers must outlive the session's runs. */
onnxc_status *cli_inputs_bind(cli_inputs *in, const onnxc_model *model, onnxc_session *session,
                              const char *const *args, int n_args, uint64_t seed);
/* Frees what cli_inputs_bind allocated; a zeroed cli_inputs is allowed. */
void cli_inputs_free(cli_inputs *in);

/* ---- profiles (trace.c) --------------------------------------------------------- */

/* Writes the records of a profiled run to path as a Chrome trace (Trace Event
 * Format JSON: one complete "X" event per node, ts and dur in microseconds,
 * name the node's name, cat its op type, args its op type and the shapes of
 * its inputs and outputs) that chrome://tracing and Perfetto open. title names
 * the process (e.g. "onnxc run model.onnx"). */
onnxc_status *cli_write_trace(const char *path, const char *title,
                              const onnxc_node_timing *records, size_t count);
/* A node's label: its name, or "OpType#index" when it has none. */
const char *cli_node_label(const onnxc_node_timing *r, char *buf, size_t size);

/* ---- element access (compare.c) -------------------------------------------- */

bool cli_dtype_is_float(onnxc_dtype dtype);
/* Element i of a float or integer buffer as a double (float16 converted). */
double cli_element_double(onnxc_dtype dtype, const void *data, size_t i);
/* Element i printed exactly (integers) or with 9 significant digits (floats). */
const char *cli_element_str(onnxc_dtype dtype, const void *data, size_t i, char *buf,
                            size_t size);
/* Float tolerance of `onnxc test`: element i matches when
 * |got - want| <= atol + atol_scale * max|want| + rtol * |want[i]|.
 * The default is the ONNX test runner's: rtol 1e-3, atol 1e-7, no scale. */
typedef struct cli_tolerance {
    double rtol, atol, atol_scale;
} cli_tolerance;
#define CLI_ONNX_TOLERANCE ((cli_tolerance){1e-3, 1e-7, 0.0})

/* Compares got with want; on a mismatch writes what differs (shape, dtype, or
 * the worst element with its index) into msg and returns false. Floats match
 * within tol (NaN matches NaN); integers and bool exactly. When tol is looser
 * than the ONNX default and got passes, note (if not NULL) says how many
 * elements the ONNX tolerance alone would reject ("" when none). */
bool cli_compare(const oc_tensor *got, const oc_tensor *want, const cli_tolerance *tol, char *msg,
                 size_t size, char *note, size_t note_size);

/* Parses a non-negative decimal number for option; a usage error otherwise. */
bool cli_parse_double(const char *cmd, const char *option, const char *text, double *out);

#endif
