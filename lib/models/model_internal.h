/* The model handle and the table of operations each model kind supplies.
 * model.c owns everything every kind shares (catalogue, id maps, seen items,
 * validation, top-k, the file container); a kind owns only its state. */
#ifndef RI_MODEL_INTERNAL_H
#define RI_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "recint.h"

/* Scoring as a linear form R[u, i] = <user_vec(u), item_mat[i, :]> + item_bias[i],
 * the shape the SIMD scoring core consumes. dim 0 means scores are item_bias
 * alone (popularity). Views borrowed from the model's state. */
typedef struct {
    uint32_t dim;
    const float *item_mat;   /* n_items rows of item_stride floats (NULL when dim 0) */
    size_t item_stride;
    const float *item_bias;  /* n_items (NULL: zero) */
} ri_linear_view;

/* Everything a kind's fit needs. The kind builds a NEW state and never touches
 * the model's current one, so a failed or canceled fit leaves it intact. */
typedef struct {
    const recint_model *model;      /* config in model->cfg */
    const recint_dataset *train;
    const recint_dataset *valid;    /* may be NULL */
    const recint_config *train_cfg; /* trainer's config (threads, epochs); may be NULL */
    recint_progress_fn progress;    /* may be NULL */
    void *ctx;
} ri_fit_args;

typedef struct {
    const char *name;
    /* Validate the kind's parameters of m->cfg at recint_model_new (may be NULL). */
    int (*check_config)(const recint_config *cfg);
    void (*destroy)(void *state);
    /* Fit into *state_out. On RECINT_ECANCELED a kind may still return a complete
     * state (its last finished epoch) in *state_out, which the model then keeps;
     * NULL keeps the model's previous state. On other errors *state_out is NULL. */
    int (*fit)(const ri_fit_args *a, void **state_out);
    /* Scores of user against every item into out[0..n_items). Thread-safe: no
     * writes to the model; scratch lives on the stack or is allocated per call. */
    int (*score_user)(const recint_model *m, const void *state, uint32_t user, float *out);
    /* Linear form of the scores, or EUNSUPPORTED for kinds that are not linear
     * (may be NULL). */
    int (*linear)(const recint_model *m, const void *state, ri_linear_view *out);
    /* Add the kind's sections (borrowing state's arrays) to w. */
    int (*save_sections)(const recint_model *m, const void *state, ri_fmt_writer *w);
    /* Build a state from a validated container. m holds the catalogue sizes, config
     * and seen items already; every array must be checked (sizes, finite values). */
    int (*load_sections)(const recint_model *m, const ri_fmt_reader *r, void **state_out);
} ri_model_ops;

struct recint_model {
    const ri_model_ops *ops;
    recint_config *cfg;
    int fitted;
    uint32_t n_users, n_items;
    recint_idmap *users, *items;
    /* The training rows of each user (CSR, items ascending): excluded by recommend. */
    uint64_t *seen_indptr; /* n_users + 1 */
    uint32_t *seen_items;
    void *state;
};

extern const ri_model_ops ri_pop_ops;

/* Linear form of a fitted model. Errors: ESTATE, EUNSUPPORTED. */
int ri_model_linear(const recint_model *m, ri_linear_view *out);
/* Fit m from scratch (the trainer's entry point). Errors: EINVAL, ENOMEM,
 * ECANCELED and those of the kind. */
int ri_model_fit(recint_model *m, const recint_dataset *train, const recint_dataset *valid,
                 const recint_config *train_cfg, recint_progress_fn progress, void *ctx);

#endif
