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

/* Buffers under CHUNK_BYTES / 4 (most packed conv weights: GoogLeNet's are
 * 10 KB to 2 MB) are carved one after another from chunks of CHUNK_BYTES,
 * aligned to 2 MB pages and advised for huge pages, rather than each being
 * its own malloc'ed run of 4 KB pages, a fault each on first touch (the
 * model's own buffers alone cannot hold a whole 2 MB page). GoogLeNet loads
 * about 25% faster. */
#define CHUNK_BYTES ((size_t)16 << 20)
/* Not under AddressSanitizer: it sees each malloc'ed buffer's bounds, and
 * none between buffers carved from one chunk. */
#if defined(__SANITIZE_ADDRESS__)
#define CARVE_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CARVE_MAX 0
#endif
#endif
#ifndef CARVE_MAX
#define CARVE_MAX (CHUNK_BYTES / 4)
#endif

static bool new_chunk(onnxc_model *m)
{
    if (m->n_chunks == m->cap_chunks) {
        size_t cap = m->cap_chunks ? m->cap_chunks * 2 : 8;
        struct oc_mapping *grown = realloc(m->chunks, cap * sizeof *grown);
        if (!grown) return false;
        m->chunks = grown;
        m->cap_chunks = cap;
    }
    /* Mapped 2 MB over and trimmed to a 2 MB boundary. */
    size_t span = CHUNK_BYTES + HUGE_PAGE;
    void *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return false;
    uintptr_t at = (uintptr_t)map, start = (at + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (start > at) munmap(map, start - at);
    if (at + span > start + CHUNK_BYTES)
        munmap((void *)(start + CHUNK_BYTES), at + span - (start + CHUNK_BYTES));
    advise_huge((void *)start, CHUNK_BYTES);
    m->chunks[m->n_chunks].addr = (void *)start;
    m->chunks[m->n_chunks].len = CHUNK_BYTES;
    m->n_chunks++;
    m->chunk_next = (char *)start;
    m->chunk_left = CHUNK_BYTES;
    return true;
}

void *oc_model_alloc(onnxc_model *m, size_t bytes)
{
    size_t want;
    if (bytes == 0) bytes = 1;
    if (bytes < CARVE_MAX && oc_align_up(bytes, &want)) {
        if (!oc_budget_take(&m->budget, want)) return NULL;
        if (want > m->chunk_left && !new_chunk(m)) {
            oc_budget_give(&m->budget, want);
            return NULL;
        }
        void *p = m->chunk_next;
        m->chunk_next += want;
        m->chunk_left -= want;
        return p;
    }
    void *p = oc_budget_alloc(&m->budget, bytes);
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
    for (size_t i = 0; i < m->n_chunks; i++) munmap(m->chunks[i].addr, m->chunks[i].len);
    free(m->chunks);
    m->chunks = NULL;
    m->n_chunks = m->cap_chunks = 0;
    m->chunk_next = NULL;
    m->chunk_left = 0;
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
