/* A test-only model kind, built into test_toy_kind alone: every user is offered
 * the items last interacted with most recently (score: the item's latest
 * training timestamp). It exists to show what a kind is: this file and one
 * line appended to the registry (tests/toy_kind/kinds.def, included by
 * lib/models/kinds.def when RI_EXTRA_KINDS names it). Scoring, ranking,
 * filters, the file container, key checks and validation come from the
 * model layer and the core, as for every kind. */
#include <math.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/error.h"
#include "models/model_internal.h"

#define RECENCY_TAG "RECENCY1"

typedef struct {
    float *latest; /* n_items: latest timestamp, -inf for an item never seen */
} recency_state;

static void recency_destroy(void *state)
{
    recency_state *s = state;
    if (s)
        free(s->latest);
    free(s);
}

static recency_state *recency_alloc(uint32_t n_items)
{
    recency_state *s = RI_NEW_ZEROED(recency_state, 1);
    if (s && !(s->latest = RI_NEW_ARRAY(float, n_items ? n_items : 1))) {
        free(s);
        s = NULL;
    }
    return s;
}

static int recency_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    const uint32_t n_items = recint_dataset_n_items(a->train);
    const uint64_t *indptr;
    const uint32_t *items;
    const int64_t *ts;
    int rc = recint_dataset_csr(a->train, &indptr, &items, NULL, &ts);
    if (rc)
        return rc;
    recency_state *s = recency_alloc(n_items);
    if (!s)
        return ri_error(RECINT_ENOMEM, "recency fit: out of memory for %u items", n_items);
    for (uint32_t i = 0; i < n_items; i++)
        s->latest[i] = -INFINITY;
    for (uint64_t j = 0; j < indptr[recint_dataset_n_users(a->train)]; j++)
        if ((float)ts[j] > s->latest[items[j]])
            s->latest[items[j]] = (float)ts[j];
    /* A never-seen item ranks last but stays finite, as serving requires. */
    for (uint32_t i = 0; i < n_items; i++)
        if (s->latest[i] == -INFINITY)
            s->latest[i] = -1e30f;
    *state_out = s;
    return RECINT_OK;
}

static int recency_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const recency_state *s = state;
    *out = (ri_linear_view){.dim = 0, .item_bias = s->latest};
    return RECINT_OK;
}

static int recency_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    const uint32_t n_items = ri_model_items_count(m);
    const recency_state *s = state;
    return ri_fmt_add(w, RECENCY_TAG, RI_FMT_F32, s->latest, (uint64_t)n_items * sizeof(float));
}

static int recency_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    const uint32_t n_items = ri_model_items_count(m);
    const void *data;
    int rc = ri_fmt_array(r, RECENCY_TAG, RI_FMT_F32, n_items, &data, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, n_items ? n_items : 1, sizeof(float), "the latest times");
    if (rc)
        return rc;
    const float *latest = data;
    for (uint32_t i = 0; i < n_items; i++)
        if (!isfinite(latest[i]))
            return ri_error(RECINT_EFORMAT, "%s: section %s: item %u is not finite", r->name,
                            RECENCY_TAG, i);
    recency_state *s = recency_alloc(n_items);
    if (!s)
        return ri_error(RECINT_ENOMEM, "recency load: out of memory for %u items", n_items);
    for (uint32_t i = 0; i < n_items; i++)
        s->latest[i] = latest[i];
    *state_out = s;
    return RECINT_OK;
}

const ri_model_ops ri_recency_ops = {
    .name = "recency",
    .destroy = recency_destroy,
    .fit = recency_fit,
    .linear = recency_linear,
    .save_sections = recency_save,
    .load_sections = recency_load,
};
