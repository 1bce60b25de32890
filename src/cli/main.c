/* onnxc: command dispatch, help, and the message and option helpers the
 * commands share. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void main_help(FILE *f)
{
    fputs("Usage: onnxc COMMAND [ARGS]...\n"
          "\n"
          "An ONNX model importer and CPU interpreter.\n"
          "\n"
          "Commands:\n"
          "  run MODEL [OPTIONS]   run a model on tensors from files or on random inputs\n"
          "  bench MODEL [OPTIONS] time a model's load and runs; per op type with --per-node\n"
          "  info MODEL            describe a model: inputs, outputs, ops, parameters, MACs\n"
          "  test CASE_DIR...      run ONNX backend-test folders and compare the outputs\n"
          "  help [COMMAND]        show this help or a command's help\n"
          "\n"
          "Options:\n"
          "  -h, --help            show this help\n"
          "  --version             print the version\n"
          "\n"
          "Run 'onnxc COMMAND --help' for the options of a command.\n",
          f);
}

typedef struct command {
    const char *name;
    int (*main)(int argc, char **argv);
    void (*help)(FILE *f);
} command;

static const command commands[] = {
    {"run", cli_run_main, cli_run_help},
    {"info", cli_info_main, cli_info_help},
    {"test", cli_test_main, cli_test_help},
    {"bench", cli_bench_main, cli_bench_help},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

/* `onnxc help [COMMAND]` */
static int help_main(int argc, char **argv)
{
    if (argc > 2) return cli_usage_error(NULL, "help takes at most one command name");
    if (argc == 1 || cli_is_help(argv[1])) {
        main_help(stdout);
        return CLI_EXIT_OK;
    }
    const command *c = find_command(argv[1]);
    if (!c) return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
    c->help(stdout);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error(NULL, "no command given");
    const char *cmd = argv[1];
    if (cli_is_help(cmd)) {
        main_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("onnxc %s\n", onnxc_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) return help_main(argc - 1, argv + 1);
    const command *c = find_command(cmd);
    if (c) return c->main(argc - 1, argv + 1);
    if (cmd[0] == '-') return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* ---- messages ------------------------------------------------------------ */

static void vmessage(const char *kind, const char *fmt, va_list ap)
{
    fflush(stdout); /* keep the order of stdout and stderr when both go to one file */
    fprintf(stderr, "onnxc: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("error", fmt, ap);
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int cli_status_error(onnxc_status *st)
{
    cli_error("%s", onnxc_status_message(st));
    onnxc_status_free(st);
    return CLI_EXIT_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("error", fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Run 'onnxc %s --help' for its usage.\n", cmd);
    else
        fputs("Run 'onnxc --help' for usage.\n", stderr);
    return CLI_EXIT_USAGE;
}

void cli_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage("note", fmt, ap);
    va_end(ap);
}

/* ---- options ------------------------------------------------------------- */

bool cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int cli_option_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                     const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0) return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0') return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* strtoll alone would also take leading blanks and a '+'. */
static bool starts_with_digit(const char *s)
{
    if (*s == '-') s++;
    return *s >= '0' && *s <= '9';
}

bool cli_parse_int(const char *cmd, const char *option, const char *text, long long min,
                   long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!starts_with_digit(text) || *end != '\0' || errno == ERANGE || v < min || v > max) {
        cli_usage_error(cmd, "%s takes an integer from %lld to %lld, not '%s'", option, min, max,
                        text);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_double(const char *cmd, const char *option, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!starts_with_digit(text) || *end != '\0' || errno == ERANGE || !(v >= 0) || v > 1e30) {
        cli_usage_error(cmd, "%s takes a non-negative number, not '%s'", option, text);
        return false;
    }
    *out = v;
    return true;
}
