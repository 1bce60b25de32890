/* Small helpers shared by the whole library: overflow-checked sizes, an
 * arena for the model's many small strings and arrays, aligned buffers. */
#ifndef OC_UTIL_H
#define OC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OC_ALIGN 64 /* alignment of every tensor buffer: one cache line, one AVX-512 vector */

/* *out = a * b; false on overflow. */
static inline bool oc_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool oc_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}
static inline bool oc_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool oc_add_i64(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* Rounds n up to a multiple of OC_ALIGN; false on overflow. */
static inline bool oc_align_up(size_t n, size_t *out)
{
    if (n > SIZE_MAX - (OC_ALIGN - 1)) return false;
    *out = (n + OC_ALIGN - 1) & ~(size_t)(OC_ALIGN - 1);
    return true;
}

/* OC_ALIGN-aligned allocation; free with oc_aligned_free. NULL on failure or size 0 overflow. */
void *oc_aligned_alloc(size_t size);
void oc_aligned_free(void *p);

/* Gives the whole pages inside [p, p + len) back to the kernel
 * (madvise MADV_DONTNEED): only for a private, read-only file mapping,
 * whose pages are then read from the file again if touched. */
void oc_release_pages(const void *p, size_t len);

/* A bump allocator: many small allocations, one free. */
typedef struct oc_arena_block oc_arena_block;
struct oc_budget;
typedef struct oc_arena {
    oc_arena_block *head;
    struct oc_budget *budget; /* blocks are charged to it (NULL: unlimited) */
} oc_arena;

/* Zeroed memory aligned to 16 bytes, or NULL. */
void *oc_arena_alloc(oc_arena *a, size_t size);
/* Zeroed array of n elements of size each, or NULL (also on overflow). */
void *oc_arena_array(oc_arena *a, size_t n, size_t size);
/* A NUL-terminated copy of s (NULL gives ""), or NULL when out of memory. */
char *oc_arena_strdup(oc_arena *a, const char *s);
char *oc_arena_strndup(oc_arena *a, const char *s, size_t len);
void oc_arena_free(oc_arena *a);

#endif
