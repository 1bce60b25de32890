/* Building error statuses. Every internal fallible function returns an
 * onnxc_status pointer: NULL on success. */
#ifndef OC_STATUS_H
#define OC_STATUS_H

#include "onnxc.h"

#if defined(__GNUC__)
#define OC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OC_PRINTF(a, b)
#endif

/* A new status with a printf-formatted message. Never returns NULL: when
 * memory runs out it returns a static out-of-memory status that
 * onnxc_status_free ignores. */
onnxc_status *oc_error(onnxc_code code, const char *fmt, ...) OC_PRINTF(2, 3);

/* The static out-of-memory status. */
onnxc_status *oc_no_memory(void);

/* Prefixes the message of st with a formatted context and ": ", e.g.
 * "loading 'model.onnx'". Returns st (NULL stays NULL). */
onnxc_status *oc_error_prefix(onnxc_status *st, const char *fmt, ...) OC_PRINTF(2, 3);

/* Propagate an error: evaluates expr once and returns its status if non-NULL. */
#define OC_TRY(expr)                          \
    do {                                      \
        onnxc_status *oc_try_st_ = (expr);    \
        if (oc_try_st_) return oc_try_st_;    \
    } while (0)

#endif
