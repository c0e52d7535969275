/* The scoring core: R[u, i] = scale[i] * <u, W[i, :]> + bias[i] and top-k
 * selection with filters, for one user (hand-written SIMD kernels) or many users
 * (BLIS sgemm, tiled). Arrays in, arrays out: nothing here knows about models,
 * datasets or files. Every model kind scores and ranks through this file's calls.
 *
 * Exactness contract: every fp32 path (scalar, AVX2, AVX-512, and the batch
 * path's final ranking) computes an item's dot product as the same chain of
 * fused multiply-adds in dimension order, s = fma(u[j], W[i][j], s) for j = 0..dim-1,
 * then s = s * scale[i] (if any) + bias[i]. The scalar path is the reference the
 * fast ones are tested against: equal scores, equal ids. */
#ifndef RI_CORE_H
#define RI_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Instruction-set levels of the single-user kernels. */
typedef enum { RI_ISA_SCALAR = 0, RI_ISA_AVX2 = 1, RI_ISA_AVX512 = 2 } ri_isa;

/* Best level this CPU (and OS: XSAVE state) supports. */
ri_isa ri_core_isa_detect(void);
/* Level for a request "auto", "scalar", "avx2" or "avx512" (config key isa); with
 * "auto" the environment variable RECINT_ISA (same words) may lower it for
 * testing. Errors: EINVAL (unknown word), EUNSUPPORTED (CPU lacks it). */
int ri_core_isa_resolve(const char *request, ri_isa *out);
const char *ri_core_isa_name(ri_isa isa);

/* Item side prepared once (at fit or load) for fast scoring: the row-major
 * matrix (kept for BLIS, rescoring and similar items), 16-item panels for the
 * SIMD kernels, and optionally an int8 copy. Immutable after creation: safe to
 * read from many threads. */
typedef struct ri_core_items ri_core_items;

#define RI_CORE_INT8 1u /* also build the int8 copy */

/* Copy W (n x dim, rows ldw floats apart; may be NULL when dim == 0), bias (n
 * or NULL = 0) and scale (n or NULL = 1). Errors: EINVAL (NaN/Inf anywhere,
 * ldw < dim), ENOMEM. */
int ri_core_items_new(ri_core_items **out, uint32_t n, uint32_t dim, const float *W, size_t ldw,
                      const float *bias, const float *scale, unsigned flags);
void ri_core_items_free(ri_core_items *it);
uint32_t ri_core_items_n(const ri_core_items *it);
uint32_t ri_core_items_dim(const ri_core_items *it);
int ri_core_items_has_int8(const ri_core_items *it);
/* Row-major view of W (n rows, dim floats each, contiguous) or NULL when dim 0. */
const float *ri_core_items_matrix(const ri_core_items *it);
const float *ri_core_items_bias(const ri_core_items *it); /* may be NULL */
/* The int8 copy for serialisation: per-item scale and zero point, and the
 * n x dim codes in row-major order (NULL when absent). */
int ri_core_items_int8_view(const ri_core_items *it, const int8_t **codes, const float **scales);
/* Attach an int8 copy read from a file (validated: n*dim codes, finite positive
 * scales). Errors: EINVAL, ENOMEM. */
int ri_core_items_set_int8(ri_core_items *it, const int8_t *codes, const float *scales);

/* Which items may be returned. exclude: ascending item indices (a user's seen
 * items); allow: bitset over items (bit i of word i/64), NULL = all; block:
 * bitset, NULL = none. An item is eligible when allowed, not blocked and not
 * excluded. */
typedef struct {
    const uint32_t *exclude;
    size_t n_exclude;
    const uint64_t *allow;
    const uint64_t *block;
} ri_core_filter;

/* Options of one selection. */
typedef struct {
    ri_isa isa;
    int use_int8;         /* score with the int8 copy, then rescore a shortlist exactly */
    uint32_t shortlist;   /* int8 candidates kept before exact rescoring (0: default) */
} ri_core_opts;

/* Top-k eligible items for user vector u (dim floats): best first, ties by the
 * smaller index. Writes up to k entries and returns the count (k when at least
 * k items are eligible). out_idx and out_score need k entries. No allocation
 * for k <= 2048 (the exact path) or a shortlist <= 2048 (int8); larger ones
 * allocate, and on failure return 0 with an ENOMEM message (check *status when
 * non-NULL). A zero score is returned as +0. */
uint32_t ri_core_topk(const ri_core_items *it, const float *u, const ri_core_filter *f, uint32_t k,
                      const ri_core_opts *o, uint32_t *out_idx, float *out_score, int *status);

/* Scores of u against every item (n floats) with the exact fp32 chain. */
void ri_core_score_all(const ri_core_items *it, const float *u, ri_isa isa, float *out);
/* Scores of u against the listed items. */
void ri_core_score_some(const ri_core_items *it, const float *u, const uint32_t *items, size_t n,
                        float *out);

/* Top-k for many users: U holds n_users rows of dim floats, ldu apart. filters:
 * one per user (NULL = none for all). Writes k slots per user into out_idx and
 * out_score (row u at u*k) and the count per user into out_count. threads: the
 * library's own worker threads; BLIS runs single-threaded inside each worker
 * through a per-call runtime object, so no process-wide BLIS setting changes.
 * Results equal ri_core_topk's for each user (candidates from sgemm are rescored
 * with the exact chain). Errors: EINVAL, ENOMEM. */
int ri_core_topk_batch(const ri_core_items *it, const float *U, size_t ldu, uint32_t n_users,
                       const ri_core_filter *filters, uint32_t k, unsigned threads,
                       uint32_t *out_idx, float *out_score, uint32_t *out_count);

/* Bytes ri_core_items_new (and ri_core_items_set_int8 when int8) allocates
 * for n items of dim with a bias and/or scale: what a model load charges its
 * budget before building the serving side (saturates at UINT64_MAX). Kept
 * beside the allocations it counts. */
uint64_t ri_core_items_bytes(uint32_t n, uint32_t dim, int bias, int scale, int int8);

/* Name of the micro-kernel set the batch path and every other multiply of
 * the library run ("skx", "haswell": BLIS's; "portable"), gemm.h. */
const char *ri_core_blis_arch(void);

#endif
