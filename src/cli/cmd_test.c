/* `onnxc test`: runs folders in the ONNX backend-test layout
 *     CASE/model.onnx
 *     CASE/test_data_set_N/input_K.pb, output_K.pb
 * and compares the outputs. Each case runs in a forked child with a timeout,
 * so that a crash or a hang fails that case and the others still run. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_TIMEOUT 120

void cli_test_help(FILE *f)
{
    fputs("Usage: onnxc test [--timeout S] [--rtol R] [--atol A] [--atol-scale F]\n"
          "                  [--no-optimize] CASE_DIR...\n"
          "\n"
          "Runs each CASE_DIR in the ONNX backend-test layout (model.onnx and\n"
          "test_data_set_N/input_K.pb, output_K.pb for every N) and compares each output\n"
          "with the expected one: floats within A + F*max|expected| + R*|expected| (NaN\n"
          "matches NaN), integers and bool exactly, shapes and element types exactly.\n"
          "The default is the ONNX test runner's tolerance, 1e-7 + 1e-3*|expected|.\n"
          "Inputs bind by the .pb's tensor name when it names a model input, else by\n"
          "position.\n"
          "\n"
          "Prints one line per case: 'PASS <case>', 'FAIL <case>: <why>' or\n"
          "'SKIP <case>: <why>' (valid ONNX that onnxc does not support), then\n"
          "'N passed, N failed, N skipped'. With a looser tolerance, a PASS line also\n"
          "says how many elements the ONNX tolerance alone would reject. Exits 0 when no\n"
          "case failed and some passed, 77 when every case was skipped, 1 otherwise.\n"
          "\n"
          "Options:\n"
          "  --timeout S     seconds a case may take before it fails (default 120)\n"
          "  --rtol R        relative tolerance (default 1e-3)\n"
          "  --atol A        absolute tolerance (default 1e-7)\n"
          "  --atol-scale F  add F times the output's largest |expected| to the absolute\n"
          "                  tolerance (default 0)\n"
          "  --no-optimize   load the models without the graph optimizations (BatchNormalization\n"
          "                  folding, Relu/Clip fusion, Identity/Dropout removal)\n"
          "  -h, --help      show this help\n",
          f);
}

typedef enum verdict { VERDICT_PASS = 'P', VERDICT_FAIL = 'F', VERDICT_SKIP = 'S' } verdict;

typedef struct case_result {
    verdict verdict;
    char message[2048];
} case_result;

/* ---- one case, in the child ------------------------------------------------------- */

/* The tensors of one test_data_set_N folder. */
typedef struct data_set {
    oc_tensor *tensors; /* inputs, then expected outputs */
    char **names;
    int n_inputs, n_outputs;
} data_set;

static void free_data_set(data_set *d)
{
    for (int i = 0; i < d->n_inputs + d->n_outputs; i++) {
        free(d->tensors[i].data);
        free(d->names[i]);
    }
    free(d->tensors);
    free(d->names);
    memset(d, 0, sizeof *d);
}

static char *path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* How many of prefix_0.pb, prefix_1.pb, ... exist (stopping at the first gap). */
static int count_files(const char *dir, const char *prefix)
{
    char name[64];
    for (int k = 0;; k++) {
        snprintf(name, sizeof name, "%s_%d.pb", prefix, k);
        char *path = path_join(dir, name);
        bool exists = path && cli_is_file(path);
        free(path);
        if (!exists) return k;
    }
}

static onnxc_status *load_tensor(const char *dir, const char *prefix, int k, oc_tensor *t,
                                 char **name)
{
    char file[64];
    snprintf(file, sizeof file, "%s_%d.pb", prefix, k);
    char *path = path_join(dir, file);
    if (!path) return oc_no_memory();
    onnxc_status *st = cli_tensor_load(path, t, name);
    free(path);
    return st;
}

static onnxc_status *load_data_set(const char *dir, data_set *d)
{
    int n_in = count_files(dir, "input"), n_out = count_files(dir, "output");
    size_t n = (size_t)n_in + (size_t)n_out + 1;
    d->tensors = calloc(n, sizeof *d->tensors);
    d->names = calloc(n, sizeof *d->names);
    if (!d->tensors || !d->names) return oc_no_memory();
    for (int k = 0; k < n_in; k++) {
        d->n_inputs = k + 1;
        OC_TRY(load_tensor(dir, "input", k, &d->tensors[k], &d->names[k]));
    }
    for (int k = 0; k < n_out; k++) {
        d->n_outputs = k + 1;
        OC_TRY(load_tensor(dir, "output", k, &d->tensors[n_in + k], &d->names[n_in + k]));
    }
    if (n_out == 0) return oc_error(ONNXC_ERR_ARGUMENT, "'%s' has no output_0.pb", dir);
    return NULL;
}

static bool is_input_name(const onnxc_model *m, const char *name)
{
    for (int i = 0; name && name[0] && i < m->n_graph_inputs; i++)
        if (strcmp(m->graph_inputs[i].name, name) == 0) return true;
    return false;
}

static onnxc_status *bind_inputs(onnxc_session *s, const onnxc_model *m, const data_set *d)
{
    for (int k = 0; k < d->n_inputs; k++) {
        const oc_tensor *t = &d->tensors[k];
        onnxc_status *st;
        if (is_input_name(m, d->names[k]))
            st = onnxc_session_bind(s, d->names[k], t->dtype, t->dims, t->rank, t->data, t->nbytes);
        else
            st = onnxc_session_bind_index(s, (size_t)k, t->dtype, t->dims, t->rank, t->data,
                                          t->nbytes);
        if (st) return oc_error_prefix(st, "input_%d.pb", k);
    }
    return NULL;
}

/* The message of a failed or skipped case; the data set's name is given
 * when the case has several. */
static void set_result(case_result *r, verdict v, const char *set, const char *fmt, ...)
    OC_PRINTF(4, 5);
static void set_result(case_result *r, verdict v, const char *set, const char *fmt, ...)
{
    va_list ap;
    int n = set ? snprintf(r->message, sizeof r->message, "%s: ", set) : 0;
    size_t used = n > 0 && (size_t)n < sizeof r->message ? (size_t)n : 0;
    va_start(ap, fmt);
    vsnprintf(r->message + used, sizeof r->message - used, fmt, ap);
    va_end(ap);
    r->verdict = v;
}

/* Unsupported features skip the case; every other error fails it. */
static void set_status_result(case_result *r, onnxc_status *st, const char *set)
{
    verdict v = onnxc_status_code(st) == ONNXC_ERR_UNSUPPORTED ? VERDICT_SKIP : VERDICT_FAIL;
    set_result(r, v, set, "%s", onnxc_status_message(st));
    onnxc_status_free(st);
}

/* The same, without the "loading '<path>': " the model's errors start with:
 * the case's name already says which model it is. */
static void set_load_result(case_result *r, onnxc_status *st, const char *model_path)
{
    set_status_result(r, st, NULL);
    char prefix[sizeof r->message];
    int n = snprintf(prefix, sizeof prefix, "loading '%s': ", model_path);
    if (n > 0 && (size_t)n < sizeof prefix && strncmp(r->message, prefix, (size_t)n) == 0)
        memmove(r->message, r->message + n, strlen(r->message + n) + 1);
}

/* Compares every output with the expected one; false (with r set) at the first mismatch. */
static bool compare_outputs(const onnxc_model *m, onnxc_session *s, const data_set *d,
                            const char *set, const cli_tolerance *tol, case_result *r)
{
    size_t n = onnxc_model_output_count(m);
    if ((size_t)d->n_outputs != n) {
        set_result(r, VERDICT_FAIL, set, "%d expected outputs (output_K.pb) but the model has %zu",
                   d->n_outputs, n);
        return false;
    }
    for (int k = 0; k < d->n_outputs; k++) {
        const oc_tensor *want = &d->tensors[d->n_inputs + k];
        const char *want_name = d->names[d->n_inputs + k];
        onnxc_tensor_view v;
        oc_tensor got;
        char msg[1024];
        onnxc_status *st = onnxc_session_output(s, (size_t)k, &v);
        if (st) {
            set_status_result(r, st, set);
            return false;
        }
        if (want_name && want_name[0] && strcmp(want_name, v.name) != 0) {
            set_result(r, VERDICT_FAIL, set, "output_%d.pb is named '%s' but output %d of the "
                       "model is '%s'", k, want_name, k, v.name);
            return false;
        }
        cli_tensor_from_view(&v, &got);
        char note[1024];
        if (!cli_compare(&got, want, tol, msg, sizeof msg, note, sizeof note)) {
            set_result(r, VERDICT_FAIL, set, "output %d '%s': %s", k, v.name, msg);
            return false;
        }
        if (note[0] && !r->message[0])
            set_result(r, VERDICT_PASS, set, "output %d '%s': %s", k, v.name, note);
    }
    return true;
}

/* Loads, binds, runs and compares one data set; false (with r set) when it did not pass. */
static bool run_data_set(const onnxc_model *m, onnxc_session *s, const char *case_dir,
                         const char *set, const char *label, const cli_tolerance *tol,
                         case_result *r)
{
    data_set d = {0};
    char *dir = path_join(case_dir, set);
    onnxc_status *st = dir ? load_data_set(dir, &d) : oc_no_memory();
    if (!st) st = bind_inputs(s, m, &d);
    if (!st) st = onnxc_session_run(s);
    bool ok = !st && compare_outputs(m, s, &d, label, tol, r);
    if (st) set_status_result(r, st, label);
    free_data_set(&d);
    free(dir);
    return ok;
}

/* ---- data set folders ---- */

/* N of "test_data_set_N", or -1 for other names. */
static long data_set_number(const char *name)
{
    static const char prefix[] = "test_data_set_";
    size_t len = sizeof prefix - 1;
    if (strncmp(name, prefix, len) != 0 || name[len] < '0' || name[len] > '9') return -1;
    char *end;
    errno = 0;
    long n = strtol(name + len, &end, 10);
    return *end == '\0' && errno == 0 && n <= 1000000 ? n : -1;
}

static int compare_longs(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The numbers N of the case's test_data_set_N folders, sorted. */
static onnxc_status *list_data_sets(const char *case_dir, long **out, size_t *count)
{
    DIR *dir = opendir(case_dir);
    if (!dir)
        return oc_error(ONNXC_ERR_IO, "cannot open folder '%s': %s", case_dir, strerror(errno));
    long *sets = NULL;
    size_t n = 0, cap = 0;
    onnxc_status *st = NULL;
    struct dirent *e;
    while (!st && (e = readdir(dir))) {
        long k = data_set_number(e->d_name);
        if (k < 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            long *grown = realloc(sets, cap * sizeof *grown);
            if (!grown) st = oc_no_memory();
            else sets = grown;
        }
        if (!st) sets[n++] = k;
    }
    closedir(dir);
    if (!st && n == 0)
        st = oc_error(ONNXC_ERR_ARGUMENT, "no test_data_set_N folder in '%s'", case_dir);
    if (st) {
        free(sets);
        return st;
    }
    qsort(sets, n, sizeof *sets, compare_longs);
    *out = sets;
    *count = n;
    return NULL;
}

/* ---- the case ---- */

/* A passing case keeps in r->message the first note on strict-tolerance misses. */
static void run_sets(const onnxc_model *m, onnxc_session *s, const char *case_dir,
                     const long *sets, size_t n, const cli_tolerance *tol, case_result *r)
{
    r->message[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char set[64];
        snprintf(set, sizeof set, "test_data_set_%ld", sets[i]);
        if (!run_data_set(m, s, case_dir, set, n > 1 ? set : NULL, tol, r)) return;
    }
    r->verdict = VERDICT_PASS;
}

static void run_case(const char *case_dir, const onnxc_model_options *mo, const cli_tolerance *tol,
                     case_result *r)
{
    onnxc_model *m = NULL;
    onnxc_session *s = NULL;
    long *sets = NULL;
    size_t n_sets = 0;
    char *model_path = path_join(case_dir, "model.onnx");
    onnxc_status *st = model_path ? NULL : oc_no_memory();
    if (!st && !cli_is_file(model_path))
        st = oc_error(ONNXC_ERR_IO, "no model.onnx in '%s'", case_dir);
    if (!st && (st = onnxc_model_open_file(model_path, mo, &m))) {
        set_load_result(r, st, model_path);
        free(model_path);
        return;
    }
    if (!st) st = onnxc_session_create(m, NULL, &s);
    if (!st) st = list_data_sets(case_dir, &sets, &n_sets);
    if (st)
        set_status_result(r, st, NULL);
    else
        run_sets(m, s, case_dir, sets, n_sets, tol, r);
    free(sets);
    onnxc_session_free(s);
    onnxc_model_free(m);
    free(model_path);
}

/* ---- the parent: fork, timeout, report ------------------------------------------------ */

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGALRM: return "SIGALRM";
    case SIGTRAP: return "SIGTRAP";
    case SIGSYS: return "SIGSYS";
    case SIGPIPE: return "SIGPIPE";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    default: return "signal";
    }
}

static void child_main(const char *case_dir, const onnxc_model_options *mo,
                       const cli_tolerance *tol, int fd)
{
    case_result r = {VERDICT_FAIL, "no result"};
    run_case(case_dir, mo, tol, &r);
    char line[sizeof r.message + 2];
    int n = snprintf(line, sizeof line, "%c%s", (char)r.verdict, r.message);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, line + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    close(fd);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads the child's result until it closes the pipe; false on timeout. */
static bool read_result(int fd, double timeout, char *buf, size_t size, size_t *len)
{
    double deadline = now_seconds() + timeout;
    *len = 0;
    for (;;) {
        double left = deadline - now_seconds();
        if (left <= 0) return false;
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) continue;
        char chunk[512];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        size_t take = (size_t)n < size - 1 - *len ? (size_t)n : size - 1 - *len;
        memcpy(buf + *len, chunk, take);
        *len += take;
    }
}

/* Turns what the child said and how it ended into a result. */
static void judge_child(const char *buf, size_t len, bool timed_out, int timeout, int wstatus,
                        case_result *r)
{
    bool have = len > 0 &&
                (buf[0] == VERDICT_PASS || buf[0] == VERDICT_FAIL || buf[0] == VERDICT_SKIP);
    if (have) {
        r->verdict = (verdict)buf[0];
        snprintf(r->message, sizeof r->message, "%.*s", (int)(len - 1), buf + 1);
    }
    if (timed_out) {
        set_result(r, VERDICT_FAIL, NULL, "timed out after %d s (killed)", timeout);
    } else if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        char done[sizeof r->message];
        snprintf(done, sizeof done, "%s", have ? r->message : "");
        set_result(r, VERDICT_FAIL, NULL, "crashed: %s (%s)%s%s", signal_name(sig),
                   strsignal(sig), have ? " after finishing: " : "", done);
    } else if (!have) {
        set_result(r, VERDICT_FAIL, NULL, "the case's process exited with status %d and no result",
                   WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    }
}

static void run_case_forked(const char *case_dir, int timeout, const onnxc_model_options *mo,
                            const cli_tolerance *tol, case_result *r)
{
    int fds[2];
    if (pipe(fds) != 0) {
        set_result(r, VERDICT_FAIL, NULL, "cannot create a pipe: %s", strerror(errno));
        return;
    }
    fflush(stdout); /* or the child would print our buffered output again */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        set_result(r, VERDICT_FAIL, NULL, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        child_main(case_dir, mo, tol, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    char buf[sizeof r->message + 2];
    size_t len;
    bool finished = read_result(fds[0], timeout, buf, sizeof buf, &len);
    close(fds[0]);
    if (!finished) kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {}
    judge_child(buf, len, !finished, timeout, wstatus, r);
}

/* "test_relu" for ".../node/test_relu/". */
static const char *case_name(const char *dir, char *buf, size_t size)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/') start--;
    snprintf(buf, size, "%.*s", (int)(len - start), dir + start);
    return buf[0] ? buf : dir;
}

/* ---- the command ----------------------------------------------------------------------- */

typedef struct test_counts {
    int passed, failed, skipped;
} test_counts;

static void report(const char *case_dir, const case_result *r, test_counts *c)
{
    char name[512];
    case_name(case_dir, name, sizeof name);
    if (r->verdict == VERDICT_PASS) {
        if (r->message[0])
            printf("PASS %s (%s)\n", name, r->message);
        else
            printf("PASS %s\n", name);
        c->passed++;
    } else if (r->verdict == VERDICT_SKIP) {
        printf("SKIP %s: %s\n", name, r->message);
        c->skipped++;
    } else {
        printf("FAIL %s: %s\n", name, r->message);
        c->failed++;
    }
    fflush(stdout);
}

/* Parses the options and moves the case folders to argv[1..*n_cases] (no
 * heap copy: forked children would inherit it unfreed). CLI_EXIT_OK or an
 * exit code (-1 after printing the help). */
static int parse_test_args(int argc, char **argv, int *n_cases, long long *timeout,
                           onnxc_model_options *mo, cli_tolerance *tol)
{
    static const struct {
        const char *name;
        size_t offset;
    } tolerances[] = {{"--rtol", offsetof(cli_tolerance, rtol)},
                      {"--atol", offsetof(cli_tolerance, atol)},
                      {"--atol-scale", offsetof(cli_tolerance, atol_scale)}};
    const char *value;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_is_help(argv[i])) {
            cli_test_help(stdout);
            return -1;
        }
        bool matched = false;
        for (size_t t = 0; t < sizeof tolerances / sizeof tolerances[0] && !matched; t++) {
            if ((r = cli_option_value("test", argc, argv, &i, tolerances[t].name, &value)) == 0)
                continue;
            double *field = (double *)((char *)tol + tolerances[t].offset);
            if (r < 0 || !cli_parse_double("test", tolerances[t].name, value, field))
                return CLI_EXIT_USAGE;
            matched = true;
        }
        if (matched) continue;
        if ((r = cli_option_value("test", argc, argv, &i, "--timeout", &value)) != 0) {
            if (r < 0 || !cli_parse_int("test", "--timeout", value, 1, 86400, timeout))
                return CLI_EXIT_USAGE;
        } else if (strcmp(argv[i], "--no-optimize") == 0) {
            mo->optimize = 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("test", "unknown option '%s'", argv[i]);
        } else {
            argv[1 + (*n_cases)++] = argv[i]; /* never past i */
        }
    }
    if (*n_cases == 0) return cli_usage_error("test", "no case folder given");
    return CLI_EXIT_OK;
}

int cli_test_main(int argc, char **argv)
{
    long long timeout = DEFAULT_TIMEOUT;
    cli_tolerance tol = CLI_ONNX_TOLERANCE;
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    int n_cases = 0;
    int code = parse_test_args(argc, argv, &n_cases, &timeout, &mo, &tol);
    if (code != CLI_EXIT_OK) return code < 0 ? CLI_EXIT_OK : code;
    char **cases = argv + 1;
    test_counts counts = {0};
    for (int k = 0; k < n_cases; k++) {
        case_result r = {VERDICT_FAIL, ""};
        run_case_forked(cases[k], (int)timeout, &mo, &tol, &r);
        report(cases[k], &r, &counts);
    }
    printf("%d passed, %d failed, %d skipped\n", counts.passed, counts.failed, counts.skipped);
    if (counts.failed) return CLI_EXIT_ERROR;
    /* Every case skipped: the exit code meson and automake read as "skipped". */
    return counts.passed == 0 ? CLI_EXIT_SKIPPED : CLI_EXIT_OK;
}
