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

#define RI_NEW_ARRAY(type, n) ((type *)ri_malloc_array((n), sizeof(type)))
#define RI_NEW_ZEROED(type, n) ((type *)ri_calloc_array((n), sizeof(type)))

#endif
