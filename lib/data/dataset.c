#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/data_private.h"
#include "data/dataset_internal.h"
#include "util/error.h"
#include "data/idmap.h"

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */
/* ------------------------------------------------------------------------ */

static void csc_reset(recint_dataset *ds)
{
    free(ds->csc_indptr);
    free(ds->csc_users);
    free(ds->csc_weights);
    ds->csc_indptr = NULL;
    ds->csc_users = NULL;
    ds->csc_weights = NULL;
    ds->csc_ready = 0;
}

int ri_dup_policy(const recint_config *cfg)
{
    static const char *const names[] = {[RI_DUP_SUM] = "sum", [RI_DUP_LAST] = "last",
                                        [RI_DUP_MAX] = "max"};
    return RI_CFG_PICK(cfg, RI_P_DUPLICATES, names);
}

static int parse_duplicates(const recint_config *cfg, int *out)
{
    int k = ri_dup_policy(cfg);
    if (k < 0)
        return ri_error(RECINT_EINVAL, "duplicates: \"%s\" is not a known policy",
                        ri_cfg_str(cfg, RI_P_DUPLICATES));
    *out = k;
    return RECINT_OK;
}

/* Arrays of a zero-length CSR still get a (tiny) allocation so that the views
 * handed out are never NULL. */
static void *alloc_or_keep(void *p, size_t n, size_t size, int *failed)
{
    if (p)
        return p;
    p = ri_malloc_array(n, size);
    if (!p)
        *failed = 1;
    return p;
}

int ri_dataset_wrap(recint_dataset **out, int duplicates, recint_idmap *users, recint_idmap *items,
                    uint64_t *indptr, uint32_t *indices, float *weights, int64_t *timestamps)
{
    int rc = RECINT_OK;
    recint_dataset *ds = NULL;
    if (!out) {
        rc = ri_error(RECINT_EINVAL, "dataset wrap: out is NULL");
        goto fail;
    }
    if (duplicates != RI_DUP_SUM && duplicates != RI_DUP_LAST && duplicates != RI_DUP_MAX) {
        rc = ri_error(RECINT_EINVAL, "dataset wrap: unknown duplicates policy %d", duplicates);
        goto fail;
    }
    if ((!users && (rc = ri_idmap_new(&users)) != RECINT_OK) ||
        (!items && (rc = ri_idmap_new(&items)) != RECINT_OK))
        goto fail;
    uint32_t nu = recint_idmap_size(users);
    int failed = 0;
    if (!indptr) {
        indptr = RI_NEW_ZEROED(uint64_t, (size_t)nu + 1);
        if (!indptr) {
            rc = RECINT_ENOMEM;
            goto fail;
        }
    }
    uint64_t nnz = indptr[nu];
    if (nnz && !indices) {
        rc = ri_error(RECINT_EINVAL, "dataset wrap: %llu rows but no item indices",
                      (unsigned long long)nnz);
        goto fail;
    }
    int fill_weights = !weights, fill_times = !timestamps;
    indices = alloc_or_keep(indices, nnz, sizeof *indices, &failed);
    weights = alloc_or_keep(weights, nnz, sizeof *weights, &failed);
    timestamps = alloc_or_keep(timestamps, nnz, sizeof *timestamps, &failed);
    ds = failed ? NULL : RI_NEW_ZEROED(recint_dataset, 1);
    if (!ds) {
        rc = RECINT_ENOMEM;
        goto fail;
    }
    if (pthread_mutex_init(&ds->csc_lock, NULL) != 0) {
        free(ds);
        ds = NULL;
        rc = ri_error(RECINT_ENOMEM, "dataset: cannot create the CSC lock");
        goto fail;
    }
    for (uint64_t e = 0; fill_weights && e < nnz; e++)
        weights[e] = 1.0f;
    if (fill_times && nnz)
        memset(timestamps, 0, nnz * sizeof *timestamps);
    ds->duplicates = duplicates;
    ds->users = users;
    ds->items = items;
    ds->n_users = nu;
    ds->n_items = recint_idmap_size(items);
    ds->nnz = nnz;
    ds->indptr = indptr;
    ds->indices = indices;
    ds->weights = weights;
    ds->timestamps = timestamps;
    *out = ds;
    return RECINT_OK;
fail:
    ri_idmap_free(users);
    ri_idmap_free(items);
    free(indptr);
    free(indices);
    free(weights);
    free(timestamps);
    return rc;
}

RECINT_API int recint_dataset_new(recint_dataset **out, const recint_config *cfg)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "recint_dataset_new: out is NULL");
    int dup = RI_DUP_SUM;
    int rc = parse_duplicates(cfg, &dup);
    if (rc)
        return rc;
    return ri_dataset_wrap(out, dup, NULL, NULL, NULL, NULL, NULL, NULL);
}

RECINT_API int recint_dataset_new_with_catalogue(recint_dataset **out, const recint_idmap *users,
                                                const recint_idmap *items, const recint_config *cfg)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "recint_dataset_new_with_catalogue: out is NULL");
    int dup = RI_DUP_SUM;
    int rc = parse_duplicates(cfg, &dup);
    if (rc)
        return rc;
    recint_idmap *u = NULL, *i = NULL;
    if (users && (rc = ri_idmap_copy(&u, users)) != RECINT_OK)
        return rc;
    if (items && (rc = ri_idmap_copy(&i, items)) != RECINT_OK) {
        ri_idmap_free(u);
        return rc;
    }
    return ri_dataset_wrap(out, dup, u, i, NULL, NULL, NULL, NULL);
}

RECINT_API void recint_dataset_free(recint_dataset *ds)
{
    if (!ds)
        return;
    csc_reset(ds);
    pthread_mutex_destroy(&ds->csc_lock);
    ri_idmap_free(ds->users);
    ri_idmap_free(ds->items);
    free(ds->indptr);
    free(ds->indices);
    free(ds->weights);
    free(ds->timestamps);
    free(ds);
}

/* ------------------------------------------------------------------------ */
/* Views                                                                    */
/* ------------------------------------------------------------------------ */

RECINT_API uint32_t recint_dataset_n_users(const recint_dataset *ds) { return ds ? ds->n_users : 0; }
RECINT_API uint32_t recint_dataset_n_items(const recint_dataset *ds) { return ds ? ds->n_items : 0; }
RECINT_API uint64_t recint_dataset_n_interactions(const recint_dataset *ds) { return ds ? ds->nnz : 0; }
RECINT_API const recint_idmap *recint_dataset_users(const recint_dataset *ds) { return ds ? ds->users : NULL; }
RECINT_API const recint_idmap *recint_dataset_items(const recint_dataset *ds) { return ds ? ds->items : NULL; }

RECINT_API int recint_dataset_csr(const recint_dataset *ds, const uint64_t **indptr,
                                  const uint32_t **items, const float **weights,
                                  const int64_t **timestamps)
{
    if (!ds)
        return ri_error(RECINT_EINVAL, "recint_dataset_csr: dataset is NULL");
    if (indptr)
        *indptr = ds->indptr;
    if (items)
        *items = ds->indices;
    if (weights)
        *weights = ds->weights;
    if (timestamps)
        *timestamps = ds->timestamps;
    return RECINT_OK;
}

static int csc_build(recint_dataset *ds)
{
    uint64_t *ptr = RI_NEW_ZEROED(uint64_t, (size_t)ds->n_items + 1);
    uint64_t *next = RI_NEW_ARRAY(uint64_t, (size_t)ds->n_items + 1);
    uint32_t *users = RI_NEW_ARRAY(uint32_t, ds->nnz);
    float *w = RI_NEW_ARRAY(float, ds->nnz);
    if (!ptr || !next || !users || !w) {
        free(ptr);
        free(next);
        free(users);
        free(w);
        return RECINT_ENOMEM;
    }
    for (uint64_t e = 0; e < ds->nnz; e++)
        ptr[ds->indices[e] + 1]++;
    for (uint32_t i = 0; i < ds->n_items; i++)
        ptr[i + 1] += ptr[i];
    memcpy(next, ptr, ((size_t)ds->n_items + 1) * sizeof *next);
    /* Walking users in order leaves every column sorted by user. */
    for (uint32_t u = 0; u < ds->n_users; u++)
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++) {
            uint64_t p = next[ds->indices[e]]++;
            users[p] = u;
            w[p] = ds->weights[e];
        }
    free(next);
    ds->csc_indptr = ptr;
    ds->csc_users = users;
    ds->csc_weights = w;
    ds->csc_ready = 1;
    return RECINT_OK;
}

RECINT_API int recint_dataset_csc(const recint_dataset *ds, const uint64_t **indptr,
                                  const uint32_t **users, const float **weights)
{
    if (!ds)
        return ri_error(RECINT_EINVAL, "recint_dataset_csc: dataset is NULL");
    /* The CSC is a cache: building it on a const dataset is invisible to readers,
     * and the lock makes concurrent first calls build it once. */
    recint_dataset *mut = (recint_dataset *)ds;
    int rc = RECINT_OK;
    pthread_mutex_lock(&mut->csc_lock);
    if (!mut->csc_ready)
        rc = csc_build(mut);
    pthread_mutex_unlock(&mut->csc_lock);
    if (rc)
        return ri_error_prefix(rc, "recint_dataset_csc: ");
    if (indptr)
        *indptr = ds->csc_indptr;
    if (users)
        *users = ds->csc_users;
    if (weights)
        *weights = ds->csc_weights;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Adding interactions                                                      */
/* ------------------------------------------------------------------------ */

/* One incoming row once its ids are indices; 16 bytes so rows sort in cache. */
typedef struct {
    uint32_t item;
    float w;
    int64_t t;
} row_rec;

/* External ids of one column: ints or strings. */
typedef struct {
    const int64_t *ints;
    const char *const *strs;
} id_column;

static int intern_one(recint_idmap *m, const id_column *c, size_t r, uint32_t *idx)
{
    if (c->ints)
        return ri_idmap_intern(m, c->ints[r], idx, NULL);
    return ri_idmap_intern_str(m, c->strs[r], strlen(c->strs[r]), idx, NULL);
}

static int same_id(const id_column *c, size_t a, size_t b)
{
    if (c->ints)
        return c->ints[a] == c->ints[b];
    return strcmp(c->strs[a], c->strs[b]) == 0;
}

/* Map the column to indices; ids new to m get indices in ascending id order.
 * On failure m is back to its old size. */
static int intern_column(recint_idmap *m, const id_column *c, size_t n, uint32_t *idx)
{
    uint32_t old = recint_idmap_size(m);
    int rc = RECINT_OK;
    enum { AHEAD = 16 };
    for (size_t r = 0; r < n; r++) {
        if (c->ints && r + AHEAD < n) {
            ri_idmap_prefetch(m, c->ints[r + AHEAD], 0);
            ri_idmap_prefetch(m, c->ints[r + AHEAD / 2], 1);
        }
        /* Input grouped by user repeats the previous id: skip the hash. */
        if (r > 0 && same_id(c, r, r - 1)) {
            idx[r] = idx[r - 1];
            continue;
        }
        if ((rc = intern_one(m, c, r, &idx[r])) != RECINT_OK)
            goto fail;
    }
    uint32_t added = recint_idmap_size(m) - old;
    if (added == 0)
        return RECINT_OK;
    uint32_t *perm = RI_NEW_ARRAY(uint32_t, added);
    if (!perm || (rc = ri_idmap_sort_tail(m, old, perm)) != RECINT_OK) {
        free(perm);
        rc = RECINT_ENOMEM;
        goto fail;
    }
    for (size_t r = 0; r < n; r++)
        if (idx[r] >= old)
            idx[r] = old + perm[idx[r] - old];
    free(perm);
    return RECINT_OK;
fail:
    ri_idmap_truncate(m, old);
    return rc;
}

/* (w, t) is a later row than the accumulated (acc_w, acc_t). */
static void combine(int policy, double *acc_w, int64_t *acc_t, float w, int64_t t)
{
    switch (policy) {
    case RI_DUP_SUM:
        *acc_w += w;
        if (t > *acc_t)
            *acc_t = t;
        break;
    case RI_DUP_MAX:
        if (w >= *acc_w) {
            *acc_w = w;
            *acc_t = t;
        }
        break;
    default: /* RI_DUP_LAST */
        if (t >= *acc_t) {
            *acc_w = w;
            *acc_t = t;
        }
        break;
    }
}

/* Stable sort of one user's rows by item: equal items keep arrival order, which
 * the "later row wins" rules rely on. */
static void sort_rows(row_rec *a, size_t n, row_rec *tmp)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            row_rec x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1].item > x.item) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_rows(a, h, tmp);
    sort_rows(a + h, n - h, tmp);
    if (a[h - 1].item <= a[h].item)
        return;
    memcpy(tmp, a, h * sizeof *a);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        a[k++] = a[j].item < tmp[i].item ? a[j++] : tmp[i++];
    while (i < h)
        a[k++] = tmp[i++];
}

static int is_sorted(const row_rec *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i].item < a[i - 1].item)
            return 0;
    return 1;
}

/* Sort and merge repeats in place; returns the new length, or SIZE_MAX when a sum
 * leaves the float range (*bad_item set). */
static size_t dedupe_rows(row_rec *a, size_t n, row_rec *tmp, int policy, uint32_t *bad_item)
{
    if (!is_sorted(a, n))
        sort_rows(a, n, tmp);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        double w = a[i].w;
        int64_t t = a[i].t;
        size_t j = i + 1;
        for (; j < n && a[j].item == a[i].item; j++)
            combine(policy, &w, &t, a[j].w, a[j].t);
        if (!isfinite((float)w)) {
            *bad_item = a[i].item;
            return SIZE_MAX;
        }
        a[out] = (row_rec){a[i].item, (float)w, t};
        out++;
        i = j;
    }
    return out;
}

typedef struct {
    uint64_t *indptr;
    uint32_t *indices;
    float *weights;
    int64_t *timestamps;
} csr_arrays;

static void csr_free(csr_arrays *c)
{
    free(c->indptr);
    free(c->indices);
    free(c->weights);
    free(c->timestamps);
}

/* Merge an existing sorted row (earlier) with new deduplicated rows (later).
 * With out NULL only counts. */
static int merge_row(const recint_dataset *ds, uint32_t u, const row_rec *nr, size_t nn,
                     csr_arrays *out, uint64_t at, uint64_t *count)
{
    uint64_t b = 0, e = 0;
    if (u < ds->n_users) {
        b = ds->indptr[u];
        e = ds->indptr[u + 1];
    }
    uint64_t k = 0;
    size_t j = 0;
    while (b < e || j < nn) {
        uint32_t item;
        double w;
        int64_t t;
        if (j >= nn || (b < e && ds->indices[b] < nr[j].item)) {
            item = ds->indices[b];
            w = ds->weights[b];
            t = ds->timestamps[b];
            b++;
        } else if (b >= e || nr[j].item < ds->indices[b]) {
            item = nr[j].item;
            w = nr[j].w;
            t = nr[j].t;
            j++;
        } else {
            item = ds->indices[b];
            w = ds->weights[b];
            t = ds->timestamps[b];
            combine(ds->duplicates, &w, &t, nr[j].w, nr[j].t);
            b++;
            j++;
            if (!isfinite((float)w))
                return ri_error(RECINT_EINVAL,
                                "duplicate rows of user index %u, item index %u sum to a weight "
                                "outside the float range", u, item);
        }
        if (out) {
            out->indices[at + k] = item;
            out->weights[at + k] = (float)w;
            out->timestamps[at + k] = t;
        }
        k++;
    }
    *count = k;
    return RECINT_OK;
}

/* Build the merged CSR from the incoming rows (user indices *uidx, items *iidx).
 * Frees and clears *uidx and *iidx once the rows are gathered, so that a call
 * with tens of millions of rows does not hold them alongside the output. */
static int build_merged(const recint_dataset *ds, uint32_t nu, size_t n, uint32_t **uidx_p,
                        uint32_t **iidx_p, const float *weights, const int64_t *timestamps,
                        csr_arrays *res)
{
    const uint32_t *uidx = *uidx_p, *iidx = *iidx_p;
    int rc = RECINT_ENOMEM;
    uint64_t *start = RI_NEW_ZEROED(uint64_t, (size_t)nu + 1);
    uint64_t *len = RI_NEW_ZEROED(uint64_t, (size_t)nu + 1);
    row_rec *rows = RI_NEW_ARRAY(row_rec, n);
    row_rec *tmp = NULL;
    memset(res, 0, sizeof *res);
    if (!start || !len || !rows)
        goto done;
    /* Counting sort by user keeps arrival order within a user. */
    for (size_t r = 0; r < n; r++)
        start[uidx[r] + 1]++;
    uint64_t longest = 0;
    for (uint32_t u = 0; u < nu; u++) {
        if (start[u + 1] > longest)
            longest = start[u + 1];
        start[u + 1] += start[u];
    }
    for (size_t r = 0; r < n; r++) {
        uint64_t p = start[uidx[r]] + len[uidx[r]]++;
        rows[p] = (row_rec){iidx[r], weights ? weights[r] : 1.0f, timestamps ? timestamps[r] : 0};
    }
    free(*uidx_p);
    free(*iidx_p);
    *uidx_p = NULL;
    *iidx_p = NULL;
    tmp = RI_NEW_ARRAY(row_rec, longest / 2 + 1);
    res->indptr = RI_NEW_ARRAY(uint64_t, (size_t)nu + 1);
    if (!tmp || !res->indptr)
        goto done;
    res->indptr[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t bad = 0;
        size_t l = dedupe_rows(rows + start[u], len[u], tmp, ds->duplicates, &bad);
        if (l == SIZE_MAX) {
            rc = ri_error(RECINT_EINVAL, "duplicate rows of user index %u, item index %u sum to a "
                          "weight outside the float range", u, bad);
            goto done;
        }
        len[u] = l;
        uint64_t c = 0;
        if ((rc = merge_row(ds, u, rows + start[u], l, NULL, 0, &c)) != RECINT_OK)
            goto done;
        res->indptr[u + 1] = res->indptr[u] + c;
    }
    uint64_t nnz = res->indptr[nu];
    rc = RECINT_ENOMEM;
    res->indices = RI_NEW_ARRAY(uint32_t, nnz);
    res->weights = RI_NEW_ARRAY(float, nnz);
    res->timestamps = RI_NEW_ARRAY(int64_t, nnz);
    if (!res->indices || !res->weights || !res->timestamps)
        goto done;
    for (uint32_t u = 0; u < nu; u++) {
        uint64_t c = 0;
        merge_row(ds, u, rows + start[u], len[u], res, res->indptr[u], &c);
    }
    rc = RECINT_OK;
done:
    free(start);
    free(len);
    free(rows);
    free(tmp);
    if (rc)
        csr_free(res);
    return rc;
}

static void commit(recint_dataset *ds, csr_arrays *c)
{
    free(ds->indptr);
    free(ds->indices);
    free(ds->weights);
    free(ds->timestamps);
    ds->indptr = c->indptr;
    ds->indices = c->indices;
    ds->weights = c->weights;
    ds->timestamps = c->timestamps;
    ds->n_users = recint_idmap_size(ds->users);
    ds->n_items = recint_idmap_size(ds->items);
    ds->nnz = ds->indptr[ds->n_users];
    csc_reset(ds);
}

static int check_kinds(const recint_dataset *ds, int kind, const char *fn)
{
    int other = kind == RECINT_IDS_INT ? RECINT_IDS_STRING : RECINT_IDS_INT;
    if (recint_idmap_kind(ds->users) == other || recint_idmap_kind(ds->items) == other)
        return ri_error(RECINT_ESTATE, "%s: the dataset uses %s ids (use %s)", fn,
                        other == RECINT_IDS_INT ? "int" : "string",
                        other == RECINT_IDS_INT ? "recint_dataset_add" : "recint_dataset_add_str");
    return RECINT_OK;
}

static int validate_weights(size_t n, const float *weights, const char *fn)
{
    for (size_t r = 0; weights && r < n; r++)
        if (!isfinite(weights[r]))
            return ri_error(RECINT_EINVAL, "%s: weight of row %zu is %s", fn, r,
                            isnan(weights[r]) ? "NaN" : "infinite");
    return RECINT_OK;
}

static int add_rows(recint_dataset *ds, size_t n, const id_column *uc, const id_column *ic,
                    const float *weights, const int64_t *timestamps)
{
    uint32_t old_users = ds->n_users, old_items = ds->n_items;
    uint32_t *uidx = RI_NEW_ARRAY(uint32_t, n);
    uint32_t *iidx = RI_NEW_ARRAY(uint32_t, n);
    int rc = RECINT_ENOMEM;
    if (!uidx || !iidx)
        goto done;
    if ((rc = intern_column(ds->users, uc, n, uidx)) != RECINT_OK) {
        rc = ri_error_prefix(rc, "user ids: ");
        goto done;
    }
    if ((rc = intern_column(ds->items, ic, n, iidx)) != RECINT_OK) {
        ri_idmap_truncate(ds->users, old_users);
        rc = ri_error_prefix(rc, "item ids: ");
        goto done;
    }
    csr_arrays res;
    rc = build_merged(ds, recint_idmap_size(ds->users), n, &uidx, &iidx, weights, timestamps, &res);
    if (rc) {
        ri_idmap_truncate(ds->users, old_users);
        ri_idmap_truncate(ds->items, old_items);
        goto done;
    }
    commit(ds, &res);
done:
    free(uidx);
    free(iidx);
    return rc;
}

RECINT_API int recint_dataset_add(recint_dataset *ds, size_t n, const int64_t *users,
                                  const int64_t *items, const float *weights,
                                  const int64_t *timestamps)
{
    const char *fn = "recint_dataset_add";
    if (!ds)
        return ri_error(RECINT_EINVAL, "%s: dataset is NULL", fn);
    if (n == 0)
        return RECINT_OK;
    if (!users || !items)
        return ri_error(RECINT_EINVAL, "%s: %s array is NULL", fn, !users ? "users" : "items");
    int rc;
    if ((rc = check_kinds(ds, RECINT_IDS_INT, fn)) != RECINT_OK ||
        (rc = validate_weights(n, weights, fn)) != RECINT_OK)
        return rc;
    id_column uc = {users, NULL}, ic = {items, NULL};
    return add_rows(ds, n, &uc, &ic, weights, timestamps);
}

static int validate_strings(size_t n, const char *const *ids, const char *what, const char *fn)
{
    for (size_t r = 0; r < n; r++)
        if (!ids[r])
            return ri_error(RECINT_EINVAL, "%s: %s id of row %zu is NULL", fn, what, r);
    return RECINT_OK;
}

RECINT_API int recint_dataset_add_str(recint_dataset *ds, size_t n, const char *const *users,
                                      const char *const *items, const float *weights,
                                      const int64_t *timestamps)
{
    const char *fn = "recint_dataset_add_str";
    if (!ds)
        return ri_error(RECINT_EINVAL, "%s: dataset is NULL", fn);
    if (n == 0)
        return RECINT_OK;
    if (!users || !items)
        return ri_error(RECINT_EINVAL, "%s: %s array is NULL", fn, !users ? "users" : "items");
    int rc;
    if ((rc = check_kinds(ds, RECINT_IDS_STRING, fn)) != RECINT_OK ||
        (rc = validate_strings(n, users, "user", fn)) != RECINT_OK ||
        (rc = validate_strings(n, items, "item", fn)) != RECINT_OK ||
        (rc = validate_weights(n, weights, fn)) != RECINT_OK)
        return rc;
    id_column uc = {NULL, users}, ic = {NULL, items};
    return add_rows(ds, n, &uc, &ic, weights, timestamps);
}

/* Give users interned past old_users empty rows and take the maps' new sizes.
 * Errors: ENOMEM (ds unchanged; the caller undoes the interning). */
static int adopt_new_ids(recint_dataset *ds, uint32_t old_users)
{
    uint32_t nu = recint_idmap_size(ds->users);
    if (nu != old_users) {
        uint64_t *p = ri_realloc_array(ds->indptr, (size_t)nu + 1, sizeof *p);
        if (!p)
            return RECINT_ENOMEM;
        for (uint32_t u = old_users; u < nu; u++)
            p[u + 1] = p[old_users];
        ds->indptr = p;
    }
    ds->n_users = nu;
    ds->n_items = recint_idmap_size(ds->items);
    csc_reset(ds);
    return RECINT_OK;
}

static int reserve_ids(recint_dataset *ds, size_t n_users, const id_column *uc, size_t n_items,
                       const id_column *ic, int kind, const char *fn)
{
    if (!ds)
        return ri_error(RECINT_EINVAL, "%s: dataset is NULL", fn);
    int users_missing = n_users && !uc->ints && !uc->strs;
    if (users_missing || (n_items && !ic->ints && !ic->strs))
        return ri_error(RECINT_EINVAL, "%s: %s array is NULL", fn, users_missing ? "users" : "items");
    for (size_t r = 0; kind == RECINT_IDS_STRING && r < n_users + n_items; r++)
        if (!(r < n_users ? uc->strs[r] : ic->strs[r - n_users]))
            return ri_error(RECINT_EINVAL, "%s: %s id %zu is NULL", fn, r < n_users ? "user" : "item",
                            r < n_users ? r : r - n_users);
    int rc = check_kinds(ds, kind, fn);
    if (rc)
        return rc;
    uint32_t old_users = ds->n_users, old_items = ds->n_items;
    uint32_t *idx = RI_NEW_ARRAY(uint32_t, n_users > n_items ? n_users : n_items);
    if (!idx)
        return RECINT_ENOMEM;
    if ((rc = intern_column(ds->users, uc, n_users, idx)) != RECINT_OK)
        goto done;
    if ((rc = intern_column(ds->items, ic, n_items, idx)) != RECINT_OK)
        goto undo;
    if ((rc = adopt_new_ids(ds, old_users)) != RECINT_OK)
        goto undo;
    goto done;
undo:
    ri_idmap_truncate(ds->users, old_users);
    ri_idmap_truncate(ds->items, old_items);
done:
    free(idx);
    return rc;
}

RECINT_API int recint_dataset_reserve_ids(recint_dataset *ds, size_t n_users, const int64_t *users,
                                          size_t n_items, const int64_t *items)
{
    id_column uc = {users, NULL}, ic = {items, NULL};
    return reserve_ids(ds, n_users, &uc, n_items, &ic, RECINT_IDS_INT, "recint_dataset_reserve_ids");
}

RECINT_API int recint_dataset_reserve_ids_str(recint_dataset *ds, size_t n_users,
                                              const char *const *users, size_t n_items,
                                              const char *const *items)
{
    id_column uc = {NULL, users}, ic = {NULL, items};
    return reserve_ids(ds, n_users, &uc, n_items, &ic, RECINT_IDS_STRING,
                       "recint_dataset_reserve_ids_str");
}

/* Intern every id of src into m in src's index order; where[k] (when not NULL)
 * receives the index in m of src's id k. */
static int intern_in_order(recint_idmap *m, const recint_idmap *src, uint32_t *where)
{
    uint32_t n = recint_idmap_size(src);
    int kind = recint_idmap_kind(src);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t idx;
        int rc;
        if (kind == RECINT_IDS_INT) {
            int64_t id = 0;
            rc = recint_idmap_id(src, k, &id);
            if (rc == RECINT_OK)
                rc = ri_idmap_intern(m, id, &idx, NULL);
        } else {
            const char *id = "";
            rc = recint_idmap_id_str(src, k, &id);
            if (rc == RECINT_OK)
                rc = ri_idmap_intern_str(m, id, strlen(id), &idx, NULL);
        }
        if (rc != RECINT_OK)
            return rc;
        if (where)
            where[k] = idx;
    }
    return RECINT_OK;
}

int ri_dataset_intern_catalogue(recint_dataset *ds, const recint_idmap *users,
                                const recint_idmap *items, uint32_t *user_index,
                                uint32_t *item_index)
{
    const char *fn = "dataset catalogue";
    int rc;
    if ((recint_idmap_size(users) && (rc = check_kinds(ds, recint_idmap_kind(users), fn)) != 0) ||
        (recint_idmap_size(items) && (rc = check_kinds(ds, recint_idmap_kind(items), fn)) != 0))
        return rc;
    uint32_t old_users = ds->n_users, old_items = ds->n_items;
    if ((rc = intern_in_order(ds->users, users, user_index)) != RECINT_OK) {
        rc = ri_error_prefix(rc, "user ids: ");
    } else if ((rc = intern_in_order(ds->items, items, item_index)) != RECINT_OK) {
        rc = ri_error_prefix(rc, "item ids: ");
    } else {
        rc = adopt_new_ids(ds, old_users);
    }
    if (rc != RECINT_OK) {
        ri_idmap_truncate(ds->users, old_users);
        ri_idmap_truncate(ds->items, old_items);
    }
    return rc;
}

int ri_dataset_add_indexed(recint_dataset *ds, size_t n, uint32_t **users, uint32_t **items,
                           const float *weights, const int64_t *timestamps)
{
    int rc = RECINT_OK;
    for (size_t r = 0; r < n && rc == RECINT_OK; r++)
        if ((*users)[r] >= ds->n_users || (*items)[r] >= ds->n_items)
            rc = ri_error(RECINT_EINVAL, "row %zu: user index %u or item index %u is outside the "
                          "catalogue (%u users, %u items)", r, (*users)[r], (*items)[r],
                          ds->n_users, ds->n_items);
    if (rc == RECINT_OK)
        rc = validate_weights(n, weights, "dataset rows");
    if (rc == RECINT_OK && n) {
        csr_arrays res;
        rc = build_merged(ds, ds->n_users, n, users, items, weights, timestamps, &res);
        if (rc == RECINT_OK)
            commit(ds, &res);
    }
    free(*users);
    free(*items);
    *users = NULL;
    *items = NULL;
    return rc;
}

void ri_dataset_drop_ids(recint_dataset *ds, uint32_t n_users, uint32_t n_items)
{
    if (n_users > ds->n_users || n_items > ds->n_items)
        return;
    ri_idmap_truncate(ds->users, n_users);
    ri_idmap_truncate(ds->items, n_items);
    ds->n_users = n_users;
    ds->n_items = n_items;
    csc_reset(ds);
}

/* ------------------------------------------------------------------------ */
/* Subsets (filters and splits)                                             */
/* ------------------------------------------------------------------------ */

int ri_dataset_select(recint_dataset **out, const recint_dataset *ds, const uint8_t *keep,
                      uint8_t which, int set_weight_one)
{
    recint_idmap *users = NULL, *items = NULL;
    int rc;
    if ((rc = ri_idmap_copy(&users, ds->users)) != RECINT_OK ||
        (rc = ri_idmap_copy(&items, ds->items)) != RECINT_OK) {
        ri_idmap_free(users);
        return rc;
    }
    uint64_t *indptr = RI_NEW_ARRAY(uint64_t, (size_t)ds->n_users + 1);
    if (!indptr) {
        ri_idmap_free(users);
        ri_idmap_free(items);
        return RECINT_ENOMEM;
    }
    indptr[0] = 0;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        uint64_t c = 0;
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++)
            c += !keep || keep[e] == which;
        indptr[u + 1] = indptr[u] + c;
    }
    uint64_t nnz = indptr[ds->n_users];
    uint32_t *ind = RI_NEW_ARRAY(uint32_t, nnz);
    float *w = RI_NEW_ARRAY(float, nnz);
    int64_t *t = RI_NEW_ARRAY(int64_t, nnz);
    if (ind && w && t) {
        uint64_t k = 0;
        for (uint64_t e = 0; e < ds->nnz; e++)
            if (!keep || keep[e] == which) {
                ind[k] = ds->indices[e];
                w[k] = set_weight_one ? 1.0f : ds->weights[e];
                t[k] = ds->timestamps[e];
                k++;
            }
    } else {
        free(ind);
        free(w);
        free(t);
        ind = NULL;
        w = NULL;
        t = NULL;
        free(indptr);
        indptr = NULL;
        ri_idmap_free(users);
        ri_idmap_free(items);
        return RECINT_ENOMEM;
    }
    return ri_dataset_wrap(out, ds->duplicates, users, items, indptr, ind, w, t);
}
