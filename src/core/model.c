/* Model-wide helpers: owned buffers and node-qualified errors. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "ir.h"
#include "util.h"

onnxc_status *oc_model_own(onnxc_model *m, void *data)
{
    if (!data) return NULL;
    if (m->n_buffers == m->cap_buffers) {
        size_t cap = m->cap_buffers ? m->cap_buffers * 2 : 64;
        void **grown = realloc(m->buffers, cap * sizeof *grown);
        if (!grown) {
            free(data);
            return oc_no_memory();
        }
        m->buffers = grown;
        m->cap_buffers = cap;
    }
    m->buffers[m->n_buffers++] = data;
    return NULL;
}

/* Huge pages for the whole 2 MB pages inside a big model buffer (packed and
 * transformed weights, written once at load): each 4 KB page's first touch
 * is a fault, and on a virtual machine those faults were most of the load
 * time (GoogLeNet: 240 ms, two thirds in the kernel). Only a hint: where
 * transparent huge pages are off, nothing changes. */
#define HUGE_PAGE ((uintptr_t)2 << 20)

static void advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    uintptr_t begin = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
    if (end > begin) madvise((void *)begin, end - begin, MADV_HUGEPAGE);
#else
    (void)p, (void)bytes;
#endif
}

void *oc_model_alloc(onnxc_model *m, size_t bytes)
{
    void *p = oc_budget_alloc(&m->budget, bytes ? bytes : 1);
    if (p && bytes >= 2 * HUGE_PAGE) advise_huge(p, bytes);
    return p && !oc_model_own(m, p) ? p : NULL;
}

onnxc_status *oc_model_own_map(onnxc_model *m, void *addr, size_t len)
{
    if (m->n_maps == m->cap_maps) {
        size_t cap = m->cap_maps ? m->cap_maps * 2 : 8;
        struct oc_mapping *grown = realloc(m->maps, cap * sizeof *grown);
        if (!grown) {
            munmap(addr, len);
            return oc_no_memory();
        }
        m->maps = grown;
        m->cap_maps = cap;
    }
    m->maps[m->n_maps].addr = addr;
    m->maps[m->n_maps].len = len;
    m->n_maps++;
    return NULL;
}

void oc_model_release_constant(const onnxc_model *m, const void *data, size_t bytes, bool lossy)
{
    uintptr_t begin = (uintptr_t)data, end = begin + bytes;
    if (end < begin) return;
    for (size_t i = 0; i < m->n_maps; i++) {
        uintptr_t map = (uintptr_t)m->maps[i].addr;
        if (begin >= map && end <= map + m->maps[i].len) {
            oc_release_pages(data, bytes);
            return;
        }
    }
    /* Memory of the model's own (a copy, a folded value): only the whole
     * pages inside the range, which hold nothing else, are dropped. */
    if (lossy) oc_release_pages(data, bytes);
}

void oc_model_release(onnxc_model *m)
{
    oc_name_map_free(&m->names);
    for (size_t i = 0; i < m->n_buffers; i++) free(m->buffers[i]);
    free(m->buffers);
    m->buffers = NULL;
    m->n_buffers = m->cap_buffers = 0;
    for (size_t i = 0; i < m->n_maps; i++) munmap(m->maps[i].addr, m->maps[i].len);
    free(m->maps);
    m->maps = NULL;
    m->n_maps = m->cap_maps = 0;
    oc_arena_free(&m->arena);
}

/* "node 'conv1' (Conv, opset 13)"; before the opset is resolved (linking
 * errors), "node 'conv1' (Conv)". */
static void node_label(const oc_node *n, char *buf, size_t size)
{
    char opset[32] = "";
    if (n->opset > 0) snprintf(opset, sizeof opset, ", opset %" PRId64, n->opset);
    const char *op = n->op_type ? n->op_type : "?";
    if (n->name && n->name[0])
        snprintf(buf, size, "node '%s' (%s%s)", n->name, op, opset);
    else
        snprintf(buf, size, "node #%d (%s%s)", n->index, op, opset);
}

onnxc_status *oc_node_error_prefix(const oc_node *n, onnxc_status *st)
{
    char label[512];
    node_label(n, label, sizeof label);
    return oc_error_prefix(st, "%s", label);
}

onnxc_status *oc_node_error(const oc_node *n, onnxc_code code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char label[512];
    node_label(n, label, sizeof label);
    return oc_error(code, "%s: %s", label, msg);
}
