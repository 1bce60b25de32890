/* Name -> value id for a model: open addressing keyed by SipHash-2-4 with a
 * random per-model key, so names crafted to collide cannot turn lookups
 * quadratic (an unkeyed hash made a 100k-node model take minutes to load). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ir.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                      \
    do {                                                              \
        v0 += v1;                                                     \
        v1 = ROTL(v1, 13);                                            \
        v1 ^= v0;                                                     \
        v0 = ROTL(v0, 32);                                            \
        v2 += v3;                                                     \
        v3 = ROTL(v3, 16);                                            \
        v3 ^= v2;                                                     \
        v0 += v3;                                                     \
        v3 = ROTL(v3, 21);                                            \
        v3 ^= v0;                                                     \
        v2 += v1;                                                     \
        v1 = ROTL(v1, 17);                                            \
        v1 ^= v2;                                                     \
        v2 = ROTL(v2, 32);                                            \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash24(const uint64_t key[2], const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
    uint64_t last = (uint64_t)len << 56;
    for (; len >= 8; in += 8, len -= 8) {
        uint64_t m = load_le64(in);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t i = 0; i < len; i++) last |= (uint64_t)in[i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* A key nobody can predict; without getrandom, the clock and addresses. */
static void random_key(uint64_t key[2], const void *salt)
{
    if (getrandom(key, 2 * sizeof *key, GRND_NONBLOCK) == (ssize_t)(2 * sizeof *key)) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    key[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)salt;
    key[1] = (uint64_t)ts.tv_sec * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)(uintptr_t)&ts;
}

onnxc_status *oc_name_map_init(oc_name_map *map, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2) {
        if (cap > SIZE_MAX / 4 / sizeof *map->slots)
            return oc_error(ONNXC_ERR_LIMIT, "too many names in the graph");
        cap *= 2;
    }
    map->slots = malloc(cap * sizeof *map->slots);
    if (!map->slots) return oc_no_memory();
    memset(map->slots, 0xff, cap * sizeof *map->slots);
    map->cap = cap;
    random_key(map->key, map);
    return NULL;
}

int *oc_name_map_slot(const oc_name_map *map, const oc_value *values, const char *name)
{
    size_t i = (size_t)siphash24(map->key, (const unsigned char *)name, strlen(name)) &
               (map->cap - 1);
    while (map->slots[i] >= 0 && strcmp(values[map->slots[i]].name, name) != 0)
        i = (i + 1) & (map->cap - 1);
    return &map->slots[i];
}

int oc_name_map_find(const oc_name_map *map, const oc_value *values, const char *name)
{
    if (!map->slots) return -1;
    return *oc_name_map_slot(map, values, name);
}

void oc_name_map_free(oc_name_map *map)
{
    free(map->slots);
    map->slots = NULL;
    map->cap = 0;
}
