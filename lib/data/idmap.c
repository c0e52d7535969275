#include "data/idmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "data/data_private.h"
#include "util/error.h"

/* Open addressing with linear probing; a slot holds index + 1 (0 = empty), so
 * 2^32 - 1 ids fit in uint32_t slots. Strings live back to back in one arena
 * (NUL-terminated) so a map of millions of ids costs a few bytes per id. */
struct recint_idmap {
    int kind;
    uint32_t size;
    size_t cap;        /* capacity of ints / offs */
    int64_t *ints;     /* int maps: id of each index */
    size_t *offs;      /* string maps: arena offset of each index */
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *slots;
    size_t nslots;     /* 0 or a power of two */
};

#define RI_IDMAP_MAX UINT32_MAX

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash_int(int64_t id) { return mix64((uint64_t)id + 0x9E3779B97F4A7C15ull); }

static uint64_t hash_str(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

static uint64_t hash_of(const recint_idmap *m, uint32_t index)
{
    if (m->kind == RECINT_IDS_INT)
        return hash_int(m->ints[index]);
    const char *s = m->arena + m->offs[index];
    return hash_str(s, strlen(s));
}

static int str_equal(const recint_idmap *m, uint32_t index, const char *id, size_t len)
{
    const char *s = m->arena + m->offs[index];
    /* The stored id may be shorter than len: strnlen stops at its terminator, so
     * memcmp never reads past it (nor compares a query holding a NUL). */
    return len != SIZE_MAX && strnlen(s, len + 1) == len && memcmp(s, id, len) == 0;
}

/* Slot holding index (known to be present) or the empty slot where it goes. */
static void place(uint32_t *slots, size_t nslots, uint64_t h, uint32_t index)
{
    size_t mask = nslots - 1;
    size_t p = (size_t)h & mask;
    while (slots[p] != 0)
        p = (p + 1) & mask;
    slots[p] = index + 1;
}

static void fill_slots(recint_idmap *m, uint32_t *slots, size_t nslots, uint32_t count)
{
    memset(slots, 0, nslots * sizeof *slots);
    for (uint32_t i = 0; i < count; i++)
        place(slots, nslots, hash_of(m, i), i);
}

/* Table able to hold `want` ids at load <= 0.7. */
static int ensure_slots(recint_idmap *m, uint64_t want)
{
    if (m->nslots != 0 && want * 10 <= (uint64_t)m->nslots * 7)
        return RECINT_OK;
    size_t n = m->nslots ? m->nslots : 16;
    while (want * 10 > (uint64_t)n * 7) {
        if (n > SIZE_MAX / 2)
            return ri_error(RECINT_ENOMEM, "id map: hash table for %llu ids too large",
                            (unsigned long long)want);
        n *= 2;
    }
    uint32_t *slots = RI_NEW_ARRAY(uint32_t, n);
    if (!slots)
        return RECINT_ENOMEM;
    fill_slots(m, slots, n, m->size);
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return RECINT_OK;
}

static int ensure_cap(recint_idmap *m, size_t want)
{
    if (want <= m->cap)
        return RECINT_OK;
    size_t cap = m->cap ? m->cap : 16;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    if (m->kind == RECINT_IDS_INT) {
        int64_t *p = ri_realloc_array(m->ints, cap, sizeof *p);
        if (!p)
            return RECINT_ENOMEM;
        m->ints = p;
    } else {
        size_t *p = ri_realloc_array(m->offs, cap, sizeof *p);
        if (!p)
            return RECINT_ENOMEM;
        m->offs = p;
    }
    m->cap = cap;
    return RECINT_OK;
}

static int ensure_arena(recint_idmap *m, size_t extra)
{
    if (extra > SIZE_MAX - m->arena_len)
        return ri_error(RECINT_ENOMEM, "id map: string storage overflows");
    size_t want = m->arena_len + extra;
    if (want <= m->arena_cap)
        return RECINT_OK;
    size_t cap = m->arena_cap ? m->arena_cap : 256;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    char *p = ri_realloc_array(m->arena, cap, 1);
    if (!p)
        return RECINT_ENOMEM;
    m->arena = p;
    m->arena_cap = cap;
    return RECINT_OK;
}

int ri_idmap_new(recint_idmap **out)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "id map: out is NULL");
    recint_idmap *m = RI_NEW_ZEROED(recint_idmap, 1);
    if (!m)
        return RECINT_ENOMEM;
    *out = m;
    return RECINT_OK;
}

void ri_idmap_free(recint_idmap *m)
{
    if (!m)
        return;
    free(m->ints);
    free(m->offs);
    free(m->arena);
    free(m->slots);
    free(m);
}

int ri_idmap_find(const recint_idmap *m, int64_t id, uint32_t *index)
{
    if (!m || m->kind != RECINT_IDS_INT || m->nslots == 0)
        return 0;
    size_t mask = m->nslots - 1;
    for (size_t p = (size_t)hash_int(id) & mask;; p = (p + 1) & mask) {
        uint32_t s = m->slots[p];
        if (s == 0)
            return 0;
        if (m->ints[s - 1] == id) {
            *index = s - 1;
            return 1;
        }
    }
}

void ri_idmap_prefetch(const recint_idmap *m, int64_t id, int deep)
{
    if (!m || m->kind != RECINT_IDS_INT || m->nslots == 0)
        return;
    size_t p = (size_t)hash_int(id) & (m->nslots - 1);
#if defined(__GNUC__)
    if (!deep) {
        __builtin_prefetch(&m->slots[p]);
        return;
    }
    uint32_t s = m->slots[p];
    if (s)
        __builtin_prefetch(&m->ints[s - 1]);
#else
    (void)p;
    (void)deep;
#endif
}

int ri_idmap_find_str(const recint_idmap *m, const char *id, size_t len, uint32_t *index)
{
    if (!m || m->kind != RECINT_IDS_STRING || m->nslots == 0)
        return 0;
    size_t mask = m->nslots - 1;
    for (size_t p = (size_t)hash_str(id, len) & mask;; p = (p + 1) & mask) {
        uint32_t s = m->slots[p];
        if (s == 0)
            return 0;
        if (str_equal(m, s - 1, id, len)) {
            *index = s - 1;
            return 1;
        }
    }
}

static int check_kind(const recint_idmap *m, int kind)
{
    if (m->kind == RECINT_IDS_NONE || m->kind == kind)
        return RECINT_OK;
    return ri_error(RECINT_ESTATE, "id map holds %s ids; cannot add a %s id",
                    m->kind == RECINT_IDS_INT ? "int" : "string",
                    kind == RECINT_IDS_INT ? "int" : "string");
}

static int check_room(const recint_idmap *m)
{
    if (m->size == RI_IDMAP_MAX)
        return ri_error(RECINT_ERANGE, "id map is full: at most %u ids", (unsigned)RI_IDMAP_MAX);
    return RECINT_OK;
}

int ri_idmap_intern(recint_idmap *m, int64_t id, uint32_t *index, int *added)
{
    if (!m || !index)
        return ri_error(RECINT_EINVAL, "id map: NULL argument");
    int rc = check_kind(m, RECINT_IDS_INT);
    if (rc)
        return rc;
    uint32_t found;
    if (ri_idmap_find(m, id, &found)) {
        *index = found;
        if (added)
            *added = 0;
        return RECINT_OK;
    }
    if ((rc = check_room(m)) != RECINT_OK)
        return rc;
    int old_kind = m->kind;
    m->kind = RECINT_IDS_INT;
    if ((rc = ensure_cap(m, (size_t)m->size + 1)) != RECINT_OK ||
        (rc = ensure_slots(m, (uint64_t)m->size + 1)) != RECINT_OK) {
        m->kind = old_kind;
        return rc;
    }
    m->ints[m->size] = id;
    place(m->slots, m->nslots, hash_int(id), m->size);
    *index = m->size++;
    if (added)
        *added = 1;
    return RECINT_OK;
}

int ri_idmap_intern_str(recint_idmap *m, const char *id, size_t len, uint32_t *index, int *added)
{
    if (!m || !id || !index)
        return ri_error(RECINT_EINVAL, "id map: NULL argument");
    if (memchr(id, '\0', len))
        return ri_error(RECINT_EINVAL, "id map: string id holds a NUL byte");
    int rc = check_kind(m, RECINT_IDS_STRING);
    if (rc)
        return rc;
    uint32_t found;
    if (ri_idmap_find_str(m, id, len, &found)) {
        *index = found;
        if (added)
            *added = 0;
        return RECINT_OK;
    }
    if ((rc = check_room(m)) != RECINT_OK)
        return rc;
    if (len == SIZE_MAX)
        return ri_error(RECINT_ENOMEM, "id map: string id too long");
    int old_kind = m->kind;
    m->kind = RECINT_IDS_STRING;
    if ((rc = ensure_cap(m, (size_t)m->size + 1)) != RECINT_OK ||
        (rc = ensure_arena(m, len + 1)) != RECINT_OK ||
        (rc = ensure_slots(m, (uint64_t)m->size + 1)) != RECINT_OK) {
        m->kind = old_kind;
        return rc;
    }
    m->offs[m->size] = m->arena_len;
    memcpy(m->arena + m->arena_len, id, len);
    m->arena[m->arena_len + len] = '\0';
    m->arena_len += len + 1;
    place(m->slots, m->nslots, hash_str(id, len), m->size);
    *index = m->size++;
    if (added)
        *added = 1;
    return RECINT_OK;
}

void ri_idmap_truncate(recint_idmap *m, uint32_t size)
{
    if (!m || size >= m->size)
        return;
    if (m->kind == RECINT_IDS_STRING) {
        /* The dropped strings were appended after every kept one, though
         * ri_idmap_sort_tail may have reordered them: the lowest offset is where
         * they start. */
        size_t start = m->arena_len;
        for (uint32_t k = size; k < m->size; k++)
            if (m->offs[k] < start)
                start = m->offs[k];
        m->arena_len = start;
    }
    m->size = size;
    if (size == 0) {
        /* The kind was fixed by an id now undone: the map is as new again. */
        free(m->ints);
        free(m->offs);
        m->ints = NULL;
        m->offs = NULL;
        m->cap = 0;
        m->kind = RECINT_IDS_NONE;
    }
    if (m->nslots)
        fill_slots(m, m->slots, m->nslots, size);
}

int ri_idmap_new_range(recint_idmap **out, uint32_t n)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "id map: out is NULL");
    recint_idmap *m;
    int rc = ri_idmap_new(&m);
    if (rc)
        return rc;
    m->kind = n ? RECINT_IDS_INT : RECINT_IDS_NONE;
    if (n && ((rc = ensure_cap(m, n)) != RECINT_OK || (rc = ensure_slots(m, n)) != RECINT_OK)) {
        ri_idmap_free(m);
        return rc;
    }
    for (uint32_t i = 0; i < n; i++) {
        m->ints[i] = i;
        place(m->slots, m->nslots, hash_int(i), i);
    }
    m->size = n;
    *out = m;
    return RECINT_OK;
}

int ri_idmap_new_ints(recint_idmap **out, const int64_t *ids, uint32_t n)
{
    if (!out || (n && !ids))
        return ri_error(RECINT_EINVAL, "id map: NULL argument");
    recint_idmap *m;
    int rc = ri_idmap_new(&m);
    if (rc)
        return rc;
    if (n) {
        m->kind = RECINT_IDS_INT;
        if ((rc = ensure_cap(m, n)) != RECINT_OK || (rc = ensure_slots(m, n)) != RECINT_OK)
            goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = 0;
        int added = 0;
        if ((rc = ri_idmap_intern(m, ids[i], &idx, &added)) != RECINT_OK)
            goto fail;
        if (!added) {
            rc = ri_error(RECINT_EFORMAT, "id map: id %lld repeated at index %u (first at %u)",
                          (long long)ids[i], i, idx);
            goto fail;
        }
    }
    *out = m;
    return RECINT_OK;
fail:
    ri_idmap_free(m);
    return rc;
}

int ri_idmap_new_strings(recint_idmap **out, const char *const *ids, uint32_t n)
{
    if (!out || (n && !ids))
        return ri_error(RECINT_EINVAL, "id map: NULL argument");
    recint_idmap *m;
    int rc = ri_idmap_new(&m);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = 0;
        int added = 0;
        if (!ids[i]) {
            rc = ri_error(RECINT_EINVAL, "id map: string id %u is NULL", i);
            goto fail;
        }
        if ((rc = ri_idmap_intern_str(m, ids[i], strlen(ids[i]), &idx, &added)) != RECINT_OK)
            goto fail;
        if (!added) {
            rc = ri_error(RECINT_EFORMAT, "id map: id \"%s\" repeated at index %u (first at %u)",
                          ids[i], i, idx);
            goto fail;
        }
    }
    *out = m;
    return RECINT_OK;
fail:
    ri_idmap_free(m);
    return rc;
}

static void *dup_bytes(const void *src, size_t n, size_t size, int *failed)
{
    if (!src || n == 0)
        return NULL;
    void *p = ri_malloc_array(n, size);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    memcpy(p, src, n * size);
    return p;
}

int ri_idmap_copy(recint_idmap **out, const recint_idmap *src)
{
    if (!out || !src)
        return ri_error(RECINT_EINVAL, "id map copy: NULL argument");
    recint_idmap *m = RI_NEW_ZEROED(recint_idmap, 1);
    if (!m)
        return RECINT_ENOMEM;
    int failed = 0;
    m->kind = src->kind;
    m->size = src->size;
    m->cap = src->size;
    m->ints = src->kind == RECINT_IDS_INT ? dup_bytes(src->ints, src->size, sizeof *m->ints, &failed) : NULL;
    m->offs = src->kind == RECINT_IDS_STRING ? dup_bytes(src->offs, src->size, sizeof *m->offs, &failed) : NULL;
    m->arena = dup_bytes(src->arena, src->arena_len, 1, &failed);
    m->arena_len = m->arena_cap = src->arena ? src->arena_len : 0;
    m->slots = dup_bytes(src->slots, src->nslots, sizeof *m->slots, &failed);
    m->nslots = m->slots ? src->nslots : 0;
    if (failed) {
        ri_idmap_free(m);
        return RECINT_ENOMEM;
    }
    *out = m;
    return RECINT_OK;
}

const int64_t *ri_idmap_ints(const recint_idmap *m)
{
    return m && m->kind == RECINT_IDS_INT ? m->ints : NULL;
}

typedef struct {
    int64_t id;
    uint32_t rel;
} int_key;

typedef struct {
    const char *s;
    uint32_t rel;
} str_key;

static int cmp_int_key(const void *a, const void *b)
{
    int64_t x = ((const int_key *)a)->id, y = ((const int_key *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_str_key(const void *a, const void *b)
{
    return strcmp(((const str_key *)a)->s, ((const str_key *)b)->s);
}

/* Slot of index (present). */
static size_t slot_of(const recint_idmap *m, uint32_t index)
{
    size_t mask = m->nslots - 1;
    size_t p = (size_t)hash_of(m, index) & mask;
    while (m->slots[p] != index + 1)
        p = (p + 1) & mask;
    return p;
}

int ri_idmap_sort_tail(recint_idmap *m, uint32_t from, uint32_t *perm)
{
    if (!m || from > m->size)
        return ri_error(RECINT_EINVAL, "id map sort: bad range");
    uint32_t k = m->size - from;
    if (k == 0)
        return RECINT_OK;
    int is_int = m->kind == RECINT_IDS_INT;
    void *keys = is_int ? ri_malloc_array(k, sizeof(int_key)) : ri_malloc_array(k, sizeof(str_key));
    size_t *pos = RI_NEW_ARRAY(size_t, k);
    size_t *offs = is_int ? NULL : RI_NEW_ARRAY(size_t, k);
    if (!keys || !pos || (!is_int && !offs)) {
        free(keys);
        free(pos);
        free(offs);
        return RECINT_ENOMEM;
    }
    /* Slots are located before anything moves: slot_of hashes the old layout. */
    for (uint32_t r = 0; r < k; r++)
        pos[r] = slot_of(m, from + r);
    if (is_int) {
        int_key *ik = keys;
        for (uint32_t r = 0; r < k; r++)
            ik[r] = (int_key){m->ints[from + r], r};
        qsort(ik, k, sizeof *ik, cmp_int_key);
        for (uint32_t j = 0; j < k; j++) {
            m->ints[from + j] = ik[j].id;
            perm[ik[j].rel] = j;
        }
    } else {
        str_key *sk = keys;
        for (uint32_t r = 0; r < k; r++) {
            sk[r] = (str_key){m->arena + m->offs[from + r], r};
            offs[r] = m->offs[from + r];
        }
        qsort(sk, k, sizeof *sk, cmp_str_key);
        for (uint32_t j = 0; j < k; j++) {
            m->offs[from + j] = offs[sk[j].rel];
            perm[sk[j].rel] = j;
        }
    }
    for (uint32_t r = 0; r < k; r++)
        m->slots[pos[r]] = from + perm[r] + 1;
    free(keys);
    free(pos);
    free(offs);
    return RECINT_OK;
}

RECINT_API uint32_t recint_idmap_size(const recint_idmap *map) { return map ? map->size : 0; }

RECINT_API int recint_idmap_kind(const recint_idmap *map) { return map ? map->kind : RECINT_IDS_NONE; }

RECINT_API int recint_idmap_index(const recint_idmap *map, int64_t id, uint32_t *out)
{
    if (!map || !out)
        return ri_error(RECINT_EINVAL, "recint_idmap_index: %s is NULL", map ? "out" : "map");
    if (map->kind == RECINT_IDS_STRING)
        return ri_error(RECINT_EINVAL, "recint_idmap_index: map holds string ids (use recint_idmap_index_str)");
    if (!ri_idmap_find(map, id, out))
        return ri_error(RECINT_ENOTFOUND, "id %lld not found (map holds %u ids)", (long long)id,
                        map->size);
    return RECINT_OK;
}

RECINT_API int recint_idmap_index_str(const recint_idmap *map, const char *id, uint32_t *out)
{
    if (!map || !id || !out)
        return ri_error(RECINT_EINVAL, "recint_idmap_index_str: %s is NULL",
                        !map ? "map" : !id ? "id" : "out");
    if (map->kind == RECINT_IDS_INT)
        return ri_error(RECINT_EINVAL, "recint_idmap_index_str: map holds int ids (use recint_idmap_index)");
    if (!ri_idmap_find_str(map, id, strlen(id), out))
        return ri_error(RECINT_ENOTFOUND, "id \"%s\" not found (map holds %u ids)", id, map->size);
    return RECINT_OK;
}

RECINT_API int recint_idmap_id(const recint_idmap *map, uint32_t index, int64_t *out)
{
    if (!map || !out)
        return ri_error(RECINT_EINVAL, "recint_idmap_id: %s is NULL", map ? "out" : "map");
    if (map->kind == RECINT_IDS_STRING)
        return ri_error(RECINT_EINVAL, "recint_idmap_id: map holds string ids (use recint_idmap_id_str)");
    if (index >= map->size)
        return ri_error(RECINT_ERANGE, "index %u out of range (map holds %u ids)", index, map->size);
    *out = map->ints[index];
    return RECINT_OK;
}

RECINT_API int recint_idmap_id_str(const recint_idmap *map, uint32_t index, const char **out)
{
    if (!map || !out)
        return ri_error(RECINT_EINVAL, "recint_idmap_id_str: %s is NULL", map ? "out" : "map");
    if (map->kind == RECINT_IDS_INT)
        return ri_error(RECINT_EINVAL, "recint_idmap_id_str: map holds int ids (use recint_idmap_id)");
    if (index >= map->size)
        return ri_error(RECINT_ERANGE, "index %u out of range (map holds %u ids)", index, map->size);
    *out = map->arena + map->offs[index];
    return RECINT_OK;
}

int ri_idmap_equal(const recint_idmap *a, const recint_idmap *b)
{
    uint32_t n = recint_idmap_size(a);
    if (n != recint_idmap_size(b))
        return 0;
    if (n == 0)
        return 1;
    if (a == b)
        return 1;
    if (a->kind != b->kind)
        return 0;
    if (a->kind == RECINT_IDS_INT)
        return memcmp(a->ints, b->ints, (size_t)n * sizeof *a->ints) == 0;
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(a->arena + a->offs[i], b->arena + b->offs[i]) != 0)
            return 0;
    return 1;
}
