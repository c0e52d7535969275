/* Popularity: every user gets the same scores, the number of training
 * interactions (rows, not weights) of each item. The baseline of PROTOCOLS.md P1. */
#include <math.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/error.h"
#include "models/model_internal.h"

#define POP_TAG "POPSCORE"

typedef struct {
    float *scores; /* n_items */
} pop_state;

static void pop_destroy(void *state)
{
    pop_state *s = state;
    if (!s)
        return;
    free(s->scores);
    free(s);
}

static pop_state *pop_alloc(uint32_t n_items)
{
    pop_state *s = RI_NEW_ZEROED(pop_state, 1);
    if (!s)
        return NULL;
    s->scores = RI_NEW_ZEROED(float, n_items ? n_items : 1);
    if (!s->scores) {
        free(s);
        return NULL;
    }
    return s;
}

static int pop_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    uint32_t n_items = recint_dataset_n_items(a->train);
    const uint64_t *indptr;
    const uint32_t *items;
    int rc = recint_dataset_csr(a->train, &indptr, &items, NULL, NULL);
    if (rc)
        return rc;
    uint64_t nnz = indptr[recint_dataset_n_users(a->train)];
    uint64_t *counts = RI_NEW_ZEROED(uint64_t, n_items ? n_items : 1);
    pop_state *s = pop_alloc(n_items);
    if (!counts || !s) {
        free(counts);
        pop_destroy(s);
        return ri_error(RECINT_ENOMEM, "pop fit: out of memory for %u items", n_items);
    }
    for (uint64_t j = 0; j < nnz; j++)
        counts[items[j]]++;
    /* Counts above 2^24 round in float; ranking ties then follow the index, which
     * is still deterministic. */
    for (uint32_t i = 0; i < n_items; i++)
        s->scores[i] = (float)counts[i];
    free(counts);
    if (a->progress && a->progress(a->ctx, 1, 1, NAN) != 0) {
        pop_destroy(s);
        return ri_error(RECINT_ECANCELED, "pop fit: canceled by the progress callback");
    }
    *state_out = s;
    return RECINT_OK;
}

static int pop_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const pop_state *s = state;
    out->dim = 0;
    out->item_mat = NULL;
    out->item_stride = 0;
    out->item_bias = s->scores;
    out->user_mat = NULL;
    out->user_stride = 0;
    return RECINT_OK;
}

static int pop_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    const uint32_t n_items = ri_model_items_count(m);
    const pop_state *s = state;
    return ri_fmt_add(w, POP_TAG, RI_FMT_F32, s->scores, (uint64_t)n_items * sizeof(float));
}

static int pop_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    const uint32_t n_items = ri_model_items_count(m);
    const void *data;
    int rc = ri_fmt_array(r, POP_TAG, RI_FMT_F32, n_items, &data, NULL);
    if (rc)
        return rc;
    const float *scores = data;
    for (uint32_t i = 0; i < n_items; i++)
        if (!isfinite(scores[i]))
            return ri_error(RECINT_EFORMAT, "%s: section %s: score of item %u is not finite",
                            r->name, POP_TAG, i);
    rc = ri_fmt_charge(r, n_items ? n_items : 1, sizeof(float),
                       "the popularity scores");
    if (rc)
        return rc;
    pop_state *s = pop_alloc(n_items);
    if (!s)
        return ri_error(RECINT_ENOMEM, "pop load: out of memory for %u items", n_items);
    for (uint32_t i = 0; i < n_items; i++)
        s->scores[i] = scores[i];
    *state_out = s;
    return RECINT_OK;
}

const ri_model_ops ri_pop_ops = {
    .name = "pop",
    .check_config = NULL,
    .destroy = pop_destroy,
    .fit = pop_fit,
    .linear = pop_linear,
    .user_vector = NULL, /* dim 0: scores need no user vector */
    .save_sections = pop_save,
    .load_sections = pop_load,
};
