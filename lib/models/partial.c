/* recint_model_partial_fit_users / _items: re-solve (or append) some rows of a
 * fitted model from new interactions, keeping every other row. The interactions
 * come as a dataset, whose id maps carry the external ids: rows are matched to
 * the model by id, ids new to the model extend its map (on the side being
 * fitted), and the training items that recommend excludes are replaced for the
 * touched rows. Everything that can fail is built aside first, so a failed call
 * leaves the model as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "data/idmap.h"
#include "models/model_internal.h"
#include "models/model_private.h"

static const char *side_name(int side) { return side ? "item" : "user"; }

/* External id number `index` of map src. */
static int id_of(const recint_idmap *src, uint32_t index, int64_t *id, const char **sid)
{
    if (recint_idmap_kind(src) == RECINT_IDS_STRING)
        return recint_idmap_id_str(src, index, sid);
    *sid = NULL;
    return recint_idmap_id(src, index, id);
}

/* Index in dst of id number `index` of src, appended to dst when absent. */
static int intern_id(const recint_idmap *src, uint32_t index, recint_idmap *dst, uint32_t *out)
{
    int64_t id;
    const char *sid;
    int added, rc = id_of(src, index, &id, &sid);
    if (rc)
        return rc;
    return sid ? ri_idmap_intern_str(dst, sid, strlen(sid), out, &added)
               : ri_idmap_intern(dst, id, out, &added);
}

/* Index in dst of id number `index` of src, or UINT32_MAX when absent. */
static int find_id(const recint_idmap *src, uint32_t index, const recint_idmap *dst, uint32_t *out)
{
    int64_t id;
    const char *sid;
    int rc = id_of(src, index, &id, &sid);
    if (rc == RECINT_OK)
        rc = sid ? recint_idmap_index_str(dst, sid, out) : recint_idmap_index(dst, id, out);
    if (rc == RECINT_ENOTFOUND) {
        *out = UINT32_MAX;
        return RECINT_OK;
    }
    return rc;
}

static void id_text(const recint_idmap *map, uint32_t index, char *buf, size_t len)
{
    int64_t id;
    const char *sid;
    if (recint_idmap_kind(map) == RECINT_IDS_STRING && recint_idmap_id_str(map, index, &sid) == 0)
        snprintf(buf, len, "'%s'", sid);
    else if (recint_idmap_id(map, index, &id) == 0)
        snprintf(buf, len, "%lld", (long long)id);
    else
        snprintf(buf, len, "#%u", index);
}

/* The request of a call, in the model's indices. */
typedef struct {
    recint_idmap *map; /* copy of the model's map of the side, new ids appended */
    uint32_t *rows;
    uint64_t *indptr;
    uint32_t *idx;
    float *w;
    size_t n;
    uint64_t *seen_indptr;
    uint32_t *seen_items;
} request;

static void request_free(request *q)
{
    ri_idmap_free(q->map);
    free(q->rows);
    free(q->indptr);
    free(q->idx);
    free(q->w);
    free(q->seen_indptr);
    free(q->seen_items);
}

typedef struct {
    uint32_t idx;
    float w;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const entry *)a)->idx, y = ((const entry *)b)->idx;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Rows of data with at least one interaction, mapped to model indices. */
static int build_request(const char *fn, const recint_model *m, const recint_dataset *data,
                         int side, request *q)
{
    const recint_idmap *d_rows = side ? recint_dataset_items(data) : recint_dataset_users(data);
    const recint_idmap *d_other = side ? recint_dataset_users(data) : recint_dataset_items(data);
    const recint_idmap *m_rows = side ? m->items : m->users;
    const recint_idmap *m_other = side ? m->users : m->items;
    const int mk = recint_idmap_kind(m_rows);
    if (recint_dataset_n_interactions(data) &&
        (recint_idmap_kind(d_rows) != mk || recint_idmap_kind(d_other) != mk))
        return ri_error(RECINT_EINVAL, "%s: the data's ids are %s but the model's are %s", fn,
                        recint_idmap_kind(d_rows) == RECINT_IDS_STRING ? "strings" : "int64",
                        mk == RECINT_IDS_STRING ? "strings" : "int64");
    const uint64_t *ptr;
    const uint32_t *oidx;
    const float *w;
    int rc = side ? recint_dataset_csc(data, &ptr, &oidx, &w)
                  : recint_dataset_csr(data, &ptr, &oidx, &w, NULL);
    if (rc)
        return rc;
    const uint32_t n_rows = side ? recint_dataset_n_items(data) : recint_dataset_n_users(data);
    const uint32_t n_other = side ? recint_dataset_n_users(data) : recint_dataset_n_items(data);
    const uint64_t nnz = ptr[n_rows];
    size_t n = 0;
    for (uint32_t r = 0; r < n_rows; r++)
        n += ptr[r + 1] > ptr[r];
    uint32_t *other = RI_NEW_ARRAY(uint32_t, n_other ? n_other : 1);
    entry *buf = NULL;
    q->rows = RI_NEW_ARRAY(uint32_t, n ? n : 1);
    q->indptr = RI_NEW_ARRAY(uint64_t, n + 1);
    q->idx = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    q->w = w ? RI_NEW_ARRAY(float, nnz ? (size_t)nnz : 1) : NULL;
    if (!other || !q->rows || !q->indptr || !q->idx || (w && !q->w)) {
        free(other);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %llu interactions", fn,
                        (unsigned long long)nnz);
    }
    rc = ri_idmap_copy(&q->map, m_rows);
    /* Other-side ids the data uses must be in the model: they carry the vectors
     * the rows are solved against. */
    for (uint32_t j = 0; rc == RECINT_OK && j < n_other; j++)
        rc = find_id(d_other, j, m_other, &other[j]);
    size_t longest = 0;
    for (uint32_t r = 0; r < n_rows; r++)
        if (ptr[r + 1] - ptr[r] > longest)
            longest = (size_t)(ptr[r + 1] - ptr[r]);
    if (rc == RECINT_OK && !(buf = RI_NEW_ARRAY(entry, longest ? longest : 1)))
        rc = ri_error(RECINT_ENOMEM, "%s: out of memory for a row of %zu interactions", fn,
                      longest);
    q->indptr[0] = 0;
    q->n = 0;
    for (uint32_t r = 0; rc == RECINT_OK && r < n_rows; r++) {
        if (ptr[r + 1] == ptr[r])
            continue;
        uint32_t row;
        /* appending is for the side being fitted only */
        rc = intern_id(d_rows, r, q->map, &row);
        size_t len = 0;
        for (uint64_t e = ptr[r]; rc == RECINT_OK && e < ptr[r + 1]; e++) {
            if (other[oidx[e]] == UINT32_MAX) {
                char a[96], b[96];
                id_text(d_other, oidx[e], a, sizeof a);
                id_text(d_rows, r, b, sizeof b);
                rc = ri_error(RECINT_ENOTFOUND,
                              "%s: %s %s (of %s %s) is not in the model; add it with "
                              "recint_model_partial_fit_%ss first",
                              fn, side_name(!side), a, side_name(side), b, side_name(!side));
                break;
            }
            buf[len].idx = other[oidx[e]];
            buf[len].w = w ? w[e] : 1.0f;
            len++;
        }
        if (rc)
            break;
        /* the model's indices need not follow the data's order */
        qsort(buf, len, sizeof *buf, cmp_entry);
        uint64_t at = q->indptr[q->n];
        for (size_t k = 0; k < len; k++) {
            q->idx[at + k] = buf[k].idx;
            if (q->w)
                q->w[at + k] = buf[k].w;
        }
        q->rows[q->n] = row;
        q->indptr[++q->n] = at + len;
    }
    free(other);
    free(buf);
    return rc;
}

/* Training items of every user after the call: touched users' rows replaced
 * (users side), or touched items moved to the users of their new rows (items
 * side). */
static int build_seen(const char *fn, const recint_model *m, int side, uint32_t new_count,
                      request *q)
{
    const uint32_t n_users = side ? m->n_users : new_count;
    const uint32_t n_items = side ? new_count : m->n_items;
    const uint64_t *old_ptr = m->seen_indptr;
    uint64_t *ptr = RI_NEW_ZEROED(uint64_t, (size_t)n_users + 1);
    uint32_t *mark = RI_NEW_ARRAY(uint32_t, side ? n_items : n_users);
    if (!ptr || !mark) {
        free(ptr);
        free(mark);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for the training items of %u users", fn,
                        n_users);
    }
    /* mark[row] = request row + 1, or 0: untouched */
    memset(mark, 0, (size_t)(side ? n_items : n_users) * sizeof *mark);
    for (size_t r = 0; r < q->n; r++)
        mark[q->rows[r]] = (uint32_t)r + 1;
    /* counts */
    for (uint32_t u = 0; u < n_users; u++) {
        uint64_t c = 0;
        if (!side && mark[u]) {
            c = q->indptr[mark[u]] - q->indptr[mark[u] - 1];
        } else if (old_ptr && u < m->n_users) {
            for (uint64_t e = old_ptr[u]; e < old_ptr[u + 1]; e++)
                c += !side || !mark[m->seen_items[e]];
        }
        ptr[u + 1] = c;
    }
    if (side)
        for (uint64_t e = 0; e < q->indptr[q->n]; e++)
            ptr[q->idx[e] + 1]++;
    for (uint32_t u = 0; u < n_users; u++)
        ptr[u + 1] += ptr[u];
    uint32_t *items = RI_NEW_ARRAY(uint32_t, ptr[n_users] ? (size_t)ptr[n_users] : 1);
    if (!items) {
        const uint64_t total = ptr[n_users];
        free(ptr);
        free(mark);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %llu training items", fn,
                        (unsigned long long)total);
    }
    /* fill, with ptr[u] as the cursor of row u (shifted back afterwards) */
    for (uint32_t u = 0; u < n_users; u++) {
        uint64_t at = ptr[u];
        if (!side && mark[u]) {
            for (uint64_t e = q->indptr[mark[u] - 1]; e < q->indptr[mark[u]]; e++)
                items[at++] = q->idx[e];
        } else if (old_ptr && u < m->n_users) {
            for (uint64_t e = old_ptr[u]; e < old_ptr[u + 1]; e++)
                if (!side || !mark[m->seen_items[e]])
                    items[at++] = m->seen_items[e];
        }
        ptr[u] = at;
    }
    if (side)
        for (size_t r = 0; r < q->n; r++)
            for (uint64_t e = q->indptr[r]; e < q->indptr[r + 1]; e++)
                items[ptr[q->idx[e]]++] = q->rows[r];
    for (uint32_t u = n_users; u > 0; u--)
        ptr[u] = ptr[u - 1];
    ptr[0] = 0;
    /* only the users that received items have rows out of order */
    for (uint64_t e = 0; side && e < q->indptr[q->n]; e++) {
        const uint32_t u = q->idx[e];
        uint64_t k = ptr[u] + 1;
        while (k < ptr[u + 1] && items[k - 1] < items[k])
            k++;
        if (k < ptr[u + 1])
            qsort(items + ptr[u], (size_t)(ptr[u + 1] - ptr[u]), sizeof *items, cmp_u32);
    }
    free(mark);
    q->seen_indptr = ptr;
    q->seen_items = items;
    return RECINT_OK;
}

static int partial_fit(recint_model *m, const recint_dataset *data, int side, const char *fn)
{
    if (!m || !data)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !m ? "model" : "data");
    if (!m->ops->refit_rows)
        return ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' has no partial fit (kind 'als' has)",
                        fn, m->ops->name);
    if (!m->fitted)
        return ri_error(RECINT_ESTATE, "%s: model '%s' is not fitted", fn, m->ops->name);
    request q = {0};
    int rc = build_request(fn, m, data, side, &q);
    const uint32_t new_count = q.map ? recint_idmap_size(q.map) : 0;
    if (rc == RECINT_OK)
        rc = build_seen(fn, m, side, new_count, &q);
    if (rc) {
        request_free(&q);
        return rc;
    }
    ri_partial_rows rq = {side, new_count, q.n, q.rows, q.indptr, q.idx, q.w};
    void *state = NULL;
    ri_serving serve = {0};
    rc = m->ops->refit_rows(m, m->state, &rq, &state);
    if (rc == RECINT_OK && state != m->state) {
        /* the model's counts are the new ones while the serving side is built */
        const uint32_t n_users = m->n_users, n_items = m->n_items;
        if (side)
            m->n_items = new_count;
        else
            m->n_users = new_count;
        rc = ri_serving_build(m, state, side ? new_count : m->n_items, NULL, &serve);
        m->n_users = n_users;
        m->n_items = n_items;
        if (rc)
            m->ops->destroy(state);
    }
    if (rc) {
        request_free(&q);
        return rc;
    }
    /* nothing fails from here on */
    if (state != m->state) {
        ri_serving_free(&m->serve);
        m->ops->destroy(m->state);
        m->state = state;
        m->serve = serve;
    } else {
        /* in place: arrays may have moved, and serving borrows the user rows */
        ri_linear_view v;
        if (m->ops->linear(m, state, &v) == RECINT_OK)
            m->serve.view = v;
    }
    recint_idmap **slot = side ? &m->items : &m->users;
    ri_idmap_free(*slot);
    *slot = q.map;
    q.map = NULL;
    if (side)
        m->n_items = new_count;
    else
        m->n_users = new_count;
    free(m->seen_indptr);
    free(m->seen_items);
    m->seen_indptr = q.seen_indptr;
    m->seen_items = q.seen_items;
    q.seen_indptr = NULL;
    q.seen_items = NULL;
    request_free(&q);
    return RECINT_OK;
}

RECINT_API int recint_model_partial_fit_users(recint_model *m, const recint_dataset *data)
{
    return partial_fit(m, data, 0, "recint_model_partial_fit_users");
}

RECINT_API int recint_model_partial_fit_items(recint_model *m, const recint_dataset *data)
{
    return partial_fit(m, data, 1, "recint_model_partial_fit_items");
}
