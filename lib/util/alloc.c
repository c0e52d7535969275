#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

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

#ifdef RI_ALLOC_FAILPOINTS
#include <stdatomic.h>

/* Test-only global state (never compiled into a shipped build): atomics because
 * training and batch workers allocate from their own threads. countdown 0 means
 * disarmed; sticky_tripped keeps failing after a sticky target has been reached. */
static atomic_uint_fast64_t countdown;
static atomic_int sticky, sticky_tripped;
static atomic_uint_fast64_t attempts, injected;

static void arm(uint64_t n, int keep_failing)
{
    atomic_store(&countdown, 0);
    atomic_store(&sticky_tripped, 0);
    atomic_store(&sticky, keep_failing);
    atomic_store(&countdown, n);
}

void ri_alloc_fail_at(uint64_t n) { arm(n, 0); }
void ri_alloc_fail_from(uint64_t n) { arm(n, 1); }
uint64_t ri_alloc_count(void) { return atomic_load(&attempts); }
uint64_t ri_alloc_injected(void) { return atomic_load(&injected); }

/* 1 when this allocation is the one to fail. The compare-exchange lets exactly
 * one thread take each step of the countdown, so the n-th allocation fails even
 * when workers race. */
static int injected_failure(void)
{
    atomic_fetch_add(&attempts, 1);
    uint_fast64_t c = atomic_load(&countdown);
    int fail = 0;
    while (c != 0) {
        if (atomic_compare_exchange_weak(&countdown, &c, c - 1)) {
            fail = c == 1;
            break;
        }
    }
    if (fail && atomic_load(&sticky))
        atomic_store(&sticky_tripped, 1);
    fail = fail || atomic_load(&sticky_tripped);
    if (fail)
        atomic_fetch_add(&injected, 1);
    return fail;
}
#define RI_INJECTED_FAILURE() injected_failure()
#else
#define RI_INJECTED_FAILURE() 0
#endif

void *ri_malloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    if (RI_INJECTED_FAILURE())
        return oom(n, size);
    void *p = malloc(bytes ? bytes : 1);
    return p ? p : oom(n, size);
}

void *ri_calloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    if (RI_INJECTED_FAILURE())
        return oom(n, size);
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n, size);
}

void *ri_realloc_array(void *p, size_t n, size_t size)
{
    size_t bytes;
    if (ri_mul_overflow(n, size, &bytes))
        return oom(n, size);
    if (RI_INJECTED_FAILURE())
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
    if (RI_INJECTED_FAILURE())
        return oom(n, size);
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
