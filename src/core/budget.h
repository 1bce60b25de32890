/* Resource limits: the caps a model's options set (rank, elements, bytes)
 * and the byte budgets that models and sessions charge their allocations
 * to, so that a hostile file gets an error before memory is allocated. */
#ifndef OC_BUDGET_H
#define OC_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onnxc.h"

struct oc_tensor;

/* The limits in force (resolved from the options: never 0). */
typedef struct oc_limits {
    int max_rank;
    uint64_t max_elements;
    uint64_t max_bytes;
    uint64_t max_ops;
} oc_limits;

/* The defaults, for code that has no options (tests, tools). */
oc_limits oc_limits_default(void);

/* Resolves options (NULL = defaults); an error for invalid values. */
onnxc_status *oc_limits_from_options(const onnxc_model_options *options, oc_limits *out);

/* Checks a shaped tensor (count and nbytes set) against the limits; the
 * message says which limit, and the caller prefixes what the tensor is. */
onnxc_status *oc_limits_check_tensor(const oc_limits *l, const struct oc_tensor *t);

/* Bytes charged against a limit. Not thread-safe: a model charges only while
 * it loads, a session only in the thread running it. */
typedef struct oc_budget {
    const char *owner;  /* "model" or "session", for messages */
    uint64_t limit;     /* 0 = unlimited */
    uint64_t used;
    uint64_t refused;   /* the first charge refused (0: none yet) */
    uint64_t used_then; /* what was in use when it was refused */
} oc_budget;

/* Charges bytes; false (remembering the charge) when the limit would be
 * exceeded. A NULL budget takes anything. */
bool oc_budget_take(oc_budget *b, size_t bytes);
/* Gives back bytes taken earlier. */
void oc_budget_give(oc_budget *b, size_t bytes);
/* An OC_ALIGN-aligned buffer charged to b (NULL when refused or out of memory). */
void *oc_budget_alloc(oc_budget *b, size_t bytes);

/* When st is the out-of-memory status and b refused a charge, an
 * ONNXC_ERR_LIMIT error saying so instead (st is freed); else st. */
onnxc_status *oc_budget_explain(const oc_budget *b, onnxc_status *st);
/* The ONNXC_ERR_LIMIT error for needing `bytes` more than b allows. */
onnxc_status *oc_budget_error(const oc_budget *b, uint64_t bytes, const char *what);

#endif
