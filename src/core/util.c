#include "util.h"

#include "budget.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *oc_aligned_alloc(size_t size)
{
    size_t rounded;
    if (size == 0) size = 1;
    if (!oc_align_up(size, &rounded)) return NULL;
    return aligned_alloc(OC_ALIGN, rounded);
}

void oc_aligned_free(void *p) { free(p); }

struct oc_arena_block {
    oc_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK 65536

void *oc_arena_alloc(oc_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    oc_arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        if (cap > SIZE_MAX - sizeof(oc_arena_block)) return NULL;
        if (!oc_budget_take(a->budget, sizeof(oc_arena_block) + cap)) return NULL;
        b = malloc(sizeof(oc_arena_block) + cap);
        if (!b) {
            oc_budget_give(a->budget, sizeof(oc_arena_block) + cap);
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        /* A big allocation goes behind the current block so its free space stays usable. */
        if (a->head && size > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

void *oc_arena_array(oc_arena *a, size_t n, size_t size)
{
    size_t total;
    if (!oc_mul_size(n, size, &total) || total > SIZE_MAX - 16) return NULL;
    return oc_arena_alloc(a, total);
}

char *oc_arena_strndup(oc_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX) return NULL;
    char *d = oc_arena_alloc(a, len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, s, len);
    d[len] = 0;
    return d;
}

char *oc_arena_strdup(oc_arena *a, const char *s)
{
    if (!s) s = "";
    return oc_arena_strndup(a, s, strlen(s));
}

void oc_arena_free(oc_arena *a)
{
    oc_arena_block *b = a->head;
    while (b) {
        oc_arena_block *next = b->next;
        oc_budget_give(a->budget, sizeof(oc_arena_block) + b->cap);
        free(b);
        b = next;
    }
    a->head = NULL;
}

void oc_release_pages(const void *p, size_t len)
{
    long page_size = sysconf(_SC_PAGESIZE);
    if (page_size <= 0) return;
    uintptr_t page = (uintptr_t)page_size;
    uintptr_t begin = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)p + len) & ~(page - 1);
    if (end > begin) madvise((void *)begin, end - begin, MADV_DONTNEED);
}
