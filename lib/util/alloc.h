/* Allocation with overflow-checked sizes. Every caller must handle NULL. */
#ifndef RI_ALLOC_H
#define RI_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* NULL when n * size overflows or the allocation fails (sets RECINT_ENOMEM message). */
void *ri_malloc_array(size_t n, size_t size);
void *ri_calloc_array(size_t n, size_t size);
void *ri_realloc_array(void *p, size_t n, size_t size);
/* 64-byte aligned (free with ri_aligned_free). */
void *ri_aligned_alloc(size_t n, size_t size);
void ri_aligned_free(void *p);
char *ri_strdup(const char *s);
/* 1 if a * b overflows size_t, else stores the product. */
int ri_mul_overflow(size_t a, size_t b, size_t *out);

#ifdef RI_ALLOC_FAILPOINTS
/* Test builds only (meson -Dalloc_failpoints=true): the allocation-failure hook of
 * tests/test_allocfail.c. One process-wide countdown shared by every thread, so a
 * worker's allocations count too; the shipped library has none of this state.
 * ri_alloc_fail_at(n): the n-th allocation from now fails (once); 0 disarms.
 * ri_alloc_fail_from(n): the n-th and every later one fail until disarmed. */
void ri_alloc_fail_at(uint64_t n);
void ri_alloc_fail_from(uint64_t n);
/* Allocations attempted since the process started (failed ones included). */
uint64_t ri_alloc_count(void);
/* Allocations the hook has failed since the process started. */
uint64_t ri_alloc_injected(void);
#endif

#define RI_NEW_ARRAY(type, n) ((type *)ri_malloc_array((n), sizeof(type)))
#define RI_NEW_ZEROED(type, n) ((type *)ri_calloc_array((n), sizeof(type)))

#endif
