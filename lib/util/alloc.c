#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

int ri_mul_overflow(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 1;
    *out = a * b;
    return 0;
}

static void *oom(size_t n, size_t size)
{
    ri_error(RECINT_ENOMEM, "cannot allocate %zu x %zu bytes", n, size);
    return NULL;
}

void *ri_malloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    void *p = malloc(bytes ? bytes : 1);
    return p ? p : oom(n, size);
}

void *ri_calloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n, size);
}

void *ri_realloc_array(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    void *q = realloc(p, bytes ? bytes : 1);
    return q ? q : oom(n, size);
}

void *ri_aligned_alloc(size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes) || bytes > SIZE_MAX - 64)
        return oom(n, size);
    bytes = (bytes + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    return p ? p : oom(n, size);
}

void ri_aligned_free(void *p) { free(p); }

char *ri_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ri_malloc_array(n, 1);
    if (d)
        memcpy(d, s, n);
    return d;
}
