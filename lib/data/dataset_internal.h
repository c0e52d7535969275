/* The dataset's layout, shared by the modules that build datasets (loader,
 * filters, splits, synthetic generator). Readers use the public CSR/CSC views. */
#ifndef RI_DATASET_INTERNAL_H
#define RI_DATASET_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "recint.h"

enum { RI_DUP_SUM = 0, RI_DUP_LAST = 1, RI_DUP_MAX = 2 };
/* cfg's duplicates policy as RI_DUP_*, -1 for a name it does not know. */
int ri_dup_policy(const recint_config *cfg);

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

/* Append to ds's catalogue the ids of users and items (either may be NULL or
 * empty) that it lacks, in the given maps' index order (unlike the add/reserve
 * calls, which sort new ids): a dataset reloaded from its saved file keeps its
 * indices. New users get empty rows. user_index / item_index (each may be NULL,
 * else sized like its map) receive ds's index of every id of users / items.
 * Errors: ESTATE (other id kind), ERANGE, ENOMEM; ds unchanged on error. */
int ri_dataset_intern_catalogue(recint_dataset *ds, const recint_idmap *users,
                                const recint_idmap *items, uint32_t *user_index,
                                uint32_t *item_index);
/* Append n rows given as indices into ds's catalogue, merged by the duplicates
 * policy as recint_dataset_add does (weights NULL means 1, timestamps NULL 0).
 * Takes *users and *items (malloc'ed) and frees them, setting both to NULL,
 * whatever the outcome: a large load never holds them next to the new CSR.
 * Errors: EINVAL (index outside the catalogue, NaN/Inf weight, weight sum
 * outside the float range), ENOMEM; ds unchanged on error. */
int ri_dataset_add_indexed(recint_dataset *ds, size_t n, uint32_t **users, uint32_t **items,
                           const float *weights, const int64_t *timestamps);
/* Undo ri_dataset_intern_catalogue: drop the ids at indices >= n_users and
 * >= n_items. Only valid while no interaction refers to them. Never fails. */
void ri_dataset_drop_ids(recint_dataset *ds, uint32_t n_users, uint32_t n_items);

#endif
