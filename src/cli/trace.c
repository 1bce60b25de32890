/* Profiles of runs as Chrome traces (the Trace Event Format JSON that
 * chrome://tracing and Perfetto read). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"

const char *cli_node_label(const onnxc_node_timing *r, char *buf, size_t size)
{
    if (r->name && r->name[0]) return r->name;
    snprintf(buf, size, "%s#%zu", r->op_type, r->node);
    return buf;
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t utf8_length(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
             : s[0] >= 0xe0 && s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    /* no overlong forms, surrogates or code points above U+10FFFF */
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))) return 0;
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
    return n;
}

/* The inside of a JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not UTF-8 written as U+FFFD. */
static void json_chars(FILE *f, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        size_t n = utf8_length(s);
        if (n == 0) {
            fputs("\\ufffd", f);
            s++;
        } else if (*s == '"' || *s == '\\') {
            fputc('\\', f);
            fputc(*s++, f);
        } else if (*s < 0x20) {
            fprintf(f, "\\u%04x", *s++);
        } else {
            fwrite(s, 1, n, f);
            s += n;
        }
    }
}

static void json_string(FILE *f, const char *text)
{
    fputc('"', f);
    json_chars(f, text);
    fputc('"', f);
}

/* ["x: float32 [1, 3, 224, 224]", ...] */
static void json_tensors(FILE *f, const onnxc_tensor_info *t, size_t n)
{
    char shape[OC_SHAPE_STR_MAX];
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\"" : "\"", f);
        if (t[i].rank < 0) {
            fputs("(omitted)\"", f);
            continue;
        }
        json_chars(f, t[i].name);
        fprintf(f, ": %s %s\"", onnxc_dtype_name(t[i].dtype),
                oc_shape_str(t[i].shape, t[i].rank, shape, sizeof shape));
    }
    fputc(']', f);
}

/* Microseconds with nanosecond digits. */
static void json_us(FILE *f, uint64_t ns)
{
    fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

onnxc_status *cli_write_trace(const char *path, const char *title,
                              const onnxc_node_timing *records, size_t count)
{
    FILE *f = fopen(path, "w");
    if (!f) return oc_error(ONNXC_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    char label[64];
    uint64_t end = 0;
    for (size_t i = 0; i < count; i++)
        if (records[i].start_ns + records[i].duration_ns > end)
            end = records[i].start_ns + records[i].duration_ns;
    fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":", f);
    json_string(f, title);
    fputs("}},\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"
          "\"args\":{\"name\":\"onnxc_session_run\"}},\n", f);
    /* The whole run, from the call (binding checks and, on a first run,
     * planning come before the first node) to the end of the last node. */
    fputs("{\"name\":\"run\",\"cat\":\"session\",\"ph\":\"X\",\"ts\":0,\"dur\":", f);
    json_us(f, end);
    fprintf(f, ",\"pid\":1,\"tid\":1,\"args\":{\"nodes\":%zu}}", count);
    for (size_t i = 0; i < count; i++) {
        const onnxc_node_timing *r = &records[i];
        fputs(",\n{\"name\":", f);
        json_string(f, cli_node_label(r, label, sizeof label));
        fputs(",\"cat\":", f);
        json_string(f, r->op_type);
        fputs(",\"ph\":\"X\",\"ts\":", f);
        json_us(f, r->start_ns);
        fputs(",\"dur\":", f);
        json_us(f, r->duration_ns);
        fputs(",\"pid\":1,\"tid\":1,\"args\":{\"op_type\":", f);
        json_string(f, r->op_type);
        if (r->fused) {
            fputs(",\"fused\":", f);
            json_string(f, r->fused);
        }
        fprintf(f, ",\"node\":%zu,\"inputs\":", r->node);
        json_tensors(f, r->inputs, r->n_inputs);
        fputs(",\"outputs\":", f);
        json_tensors(f, r->outputs, r->n_outputs);
        fputs("}}", f);
    }
    fputs("\n]}\n", f);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        saved = errno;
    }
    if (failed) return oc_error(ONNXC_ERR_IO, "cannot write '%s': %s", path, strerror(saved));
    return NULL;
}
