#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct onnxc_status {
    onnxc_code code;
    char *message;
};

static onnxc_status no_memory_status = {ONNXC_ERR_MEMORY, (char *)"out of memory"};

onnxc_status *oc_no_memory(void) { return &no_memory_status; }

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

onnxc_status *oc_error(onnxc_code code, const char *fmt, ...)
{
    onnxc_status *st = malloc(sizeof *st);
    if (!st) return oc_no_memory();
    va_list ap;
    va_start(ap, fmt);
    st->message = vformat(fmt, ap);
    va_end(ap);
    if (!st->message) {
        free(st);
        return oc_no_memory();
    }
    st->code = code;
    return st;
}

onnxc_status *oc_error_prefix(onnxc_status *st, const char *fmt, ...)
{
    if (!st || st == &no_memory_status) return st;
    va_list ap;
    va_start(ap, fmt);
    char *prefix = vformat(fmt, ap);
    va_end(ap);
    if (!prefix) return st;
    size_t lp = strlen(prefix), lm = strlen(st->message);
    char *joined = malloc(lp + 2 + lm + 1);
    if (joined) {
        memcpy(joined, prefix, lp);
        memcpy(joined + lp, ": ", 2);
        memcpy(joined + lp + 2, st->message, lm + 1);
        free(st->message);
        st->message = joined;
    }
    free(prefix);
    return st;
}

onnxc_code onnxc_status_code(const onnxc_status *status) { return status ? status->code : ONNXC_OK; }

const char *onnxc_status_message(const onnxc_status *status)
{
    return status ? status->message : "ok";
}

void onnxc_status_free(onnxc_status *status)
{
    if (!status || status == &no_memory_status) return;
    free(status->message);
    free(status);
}

const char *onnxc_code_name(onnxc_code code)
{
    switch (code) {
    case ONNXC_OK: return "ok";
    case ONNXC_ERR_ARGUMENT: return "invalid argument";
    case ONNXC_ERR_IO: return "i/o error";
    case ONNXC_ERR_PARSE: return "parse error";
    case ONNXC_ERR_MODEL: return "invalid model";
    case ONNXC_ERR_UNSUPPORTED: return "unsupported";
    case ONNXC_ERR_MEMORY: return "out of memory";
    case ONNXC_ERR_LIMIT: return "limit exceeded";
    case ONNXC_ERR_STATE: return "invalid state";
    case ONNXC_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
