/* The dataset's layout, shared by the modules that build datasets (loader,
 * filters, splits, synthetic generator). Readers use the public CSR/CSC views. */
#ifndef RI_DATASET_INTERNAL_H
#define RI_DATASET_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "recint.h"

enum { RI_DUP_SUM = 0, RI_DUP_LAST = 1, RI_DUP_MAX = 2 };

struct recint_dataset {
    int duplicates;           /* RI_DUP_* */
    recint_idmap *users, *items;
    uint32_t n_users, n_items; /* equal to the id maps' sizes */
    uint64_t nnz;
    /* CSR by user, items ascending within a row, no repeats. */
    uint64_t *indptr;          /* n_users + 1 */
    uint32_t *indices;         /* nnz */
    float *weights;            /* nnz */
    int64_t *timestamps;       /* nnz */
    /* CSC by item, built on first request under csc_lock. */
    pthread_mutex_t csc_lock;
    int csc_ready;
    uint64_t *csc_indptr;
    uint32_t *csc_users;
    float *csc_weights;
};

/* Dataset owning the given arrays (all allocated with malloc; arrays may be NULL
 * when nnz == 0). Takes ownership of every pointer argument, also on failure.
 * The CSR must already be valid (sorted, no repeats): callers inside the
 * library guarantee it. */
int ri_dataset_wrap(recint_dataset **out, int duplicates, recint_idmap *users, recint_idmap *items,
                    uint64_t *indptr, uint32_t *indices, float *weights, int64_t *timestamps);

#endif
