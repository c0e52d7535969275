#include <math.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/data_private.h"
#include "data/dataset_internal.h"
#include "util/error.h"

/* State of the k-core peeling: a vertex is removed once, and at that moment its
 * still-alive neighbours lose one degree each, so every edge is counted off once.
 * The users of each item come from a private column index over the kept edges
 * only: the dataset's own CSC cache would stay allocated (nnz * 8 bytes) after
 * the filter returns, and freeing it could pull it from under another thread
 * that asked for it meanwhile. */
typedef struct {
    const recint_dataset *ds;
    uint64_t *cptr;            /* n_items + 1 */
    uint32_t *cusers;          /* users of the kept edges, by item */
    uint64_t min_u, min_i;
    uint64_t *deg_u, *deg_i;
    uint8_t *alive_u, *alive_i;
    uint32_t *queue_u, *queue_i;
    size_t head_u, tail_u, head_i, tail_i;
} kcore;

static void kill_user(kcore *k, uint32_t u)
{
    k->alive_u[u] = 0;
    k->queue_u[k->tail_u++] = u;
}

static void kill_item(kcore *k, uint32_t i)
{
    k->alive_i[i] = 0;
    k->queue_i[k->tail_i++] = i;
}

static void drop_user(kcore *k, uint32_t u, const uint8_t *keep)
{
    const recint_dataset *ds = k->ds;
    for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++) {
        uint32_t i = ds->indices[e];
        if (keep[e] && k->alive_i[i] && --k->deg_i[i] < k->min_i)
            kill_item(k, i);
    }
}

static void drop_item(kcore *k, uint32_t i)
{
    for (uint64_t p = k->cptr[i]; p < k->cptr[i + 1]; p++) {
        uint32_t u = k->cusers[p];
        if (k->alive_u[u] && --k->deg_u[u] < k->min_u)
            kill_user(k, u);
    }
}

/* Column index of the edges with keep[e]; deg_i receives each item's count. */
static int build_columns(kcore *k, const uint8_t *keep)
{
    const recint_dataset *ds = k->ds;
    uint64_t kept = 0;
    for (uint32_t u = 0; u < ds->n_users; u++)
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++)
            if (keep[e]) {
                k->deg_u[u]++;
                k->deg_i[ds->indices[e]]++;
                kept++;
            }
    k->cptr = RI_NEW_ARRAY(uint64_t, (size_t)ds->n_items + 1);
    k->cusers = RI_NEW_ARRAY(uint32_t, kept ? kept : 1);
    if (!k->cptr || !k->cusers)
        return RECINT_ENOMEM;
    k->cptr[0] = 0;
    for (uint32_t i = 0; i < ds->n_items; i++)
        k->cptr[i + 1] = k->cptr[i] + k->deg_i[i];
    /* Fill from the column ends downwards (users descending) so no cursor array
     * is needed; the order within a column does not matter to the peeling. */
    for (uint32_t u = 0; u < ds->n_users; u++)
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++)
            if (keep[e])
                k->cusers[--k->cptr[ds->indices[e] + 1]] = u;
    /* Each cptr[i + 1] has walked down to the start of column i: shift back. */
    for (uint32_t i = 0; i < ds->n_items; i++)
        k->cptr[i] = k->cptr[i + 1];
    k->cptr[ds->n_items] = kept;
    return RECINT_OK;
}

static int run_kcore(const recint_dataset *ds, uint8_t *keep, uint64_t min_u, uint64_t min_i)
{
    kcore k = {.ds = ds, .min_u = min_u, .min_i = min_i};
    int rc;
    uint32_t nu = ds->n_users, ni = ds->n_items;
    k.deg_u = RI_NEW_ZEROED(uint64_t, nu);
    k.deg_i = RI_NEW_ZEROED(uint64_t, ni);
    k.alive_u = RI_NEW_ARRAY(uint8_t, nu);
    k.alive_i = RI_NEW_ARRAY(uint8_t, ni);
    k.queue_u = RI_NEW_ARRAY(uint32_t, nu);
    k.queue_i = RI_NEW_ARRAY(uint32_t, ni);
    rc = RECINT_ENOMEM;
    if (!k.deg_u || !k.deg_i || !k.alive_u || !k.alive_i || !k.queue_u || !k.queue_i)
        goto done;
    if ((rc = build_columns(&k, keep)) != RECINT_OK)
        goto done;
    for (uint32_t u = 0; u < nu; u++)
        k.alive_u[u] = 1;
    for (uint32_t i = 0; i < ni; i++)
        k.alive_i[i] = 1;
    for (uint32_t u = 0; u < nu; u++)
        if (k.deg_u[u] < min_u)
            kill_user(&k, u);
    for (uint32_t i = 0; i < ni; i++)
        if (k.deg_i[i] < min_i)
            kill_item(&k, i);
    while (k.head_u < k.tail_u || k.head_i < k.tail_i) {
        while (k.head_u < k.tail_u)
            drop_user(&k, k.queue_u[k.head_u++], keep);
        while (k.head_i < k.tail_i)
            drop_item(&k, k.queue_i[k.head_i++]);
    }
    for (uint32_t u = 0; u < nu; u++)
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++)
            keep[e] = keep[e] && k.alive_u[u] && k.alive_i[ds->indices[e]];
    rc = RECINT_OK;
done:
    free(k.cptr);
    free(k.cusers);
    free(k.deg_u);
    free(k.deg_i);
    free(k.alive_u);
    free(k.alive_i);
    free(k.queue_u);
    free(k.queue_i);
    return rc;
}

RECINT_API int recint_dataset_filter(recint_dataset **out, const recint_dataset *ds,
                                     const recint_config *cfg)
{
    if (!out || !ds)
        return ri_error(RECINT_EINVAL, "recint_dataset_filter: %s is NULL", !out ? "out" : "dataset");
    double min_w = ri_cfg_float(cfg, RI_P_MIN_WEIGHT);
    if (isnan(min_w))
        return ri_error(RECINT_EINVAL, "recint_dataset_filter: min_weight is NaN");
    int64_t min_u = ri_cfg_int(cfg, RI_P_MIN_USER_INTERACTIONS);
    int64_t min_i = ri_cfg_int(cfg, RI_P_MIN_ITEM_INTERACTIONS);
    if (min_u < 0 || min_i < 0)
        return ri_error(RECINT_EINVAL, "recint_dataset_filter: min_%s_interactions is negative",
                        min_u < 0 ? "user" : "item");
    /* Default min_weight is -inf: then there is no threshold, so nothing to binarise. */
    int implicit = isfinite(min_w) && ri_cfg_bool(cfg, RI_P_IMPLICIT);
    uint8_t *keep = RI_NEW_ARRAY(uint8_t, ds->nnz);
    if (!keep)
        return RECINT_ENOMEM;
    for (uint64_t e = 0; e < ds->nnz; e++)
        keep[e] = ds->weights[e] >= min_w;
    int rc = RECINT_OK;
    if (min_u > 0 || min_i > 0)
        rc = run_kcore(ds, keep, (uint64_t)min_u, (uint64_t)min_i);
    if (rc == RECINT_OK)
        rc = ri_dataset_select(out, ds, keep, 1, implicit);
    free(keep);
    return rc ? ri_error_prefix(rc, "recint_dataset_filter: ") : RECINT_OK;
}
