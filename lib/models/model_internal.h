/* The model handle and the table of operations each model kind supplies.
 * model.c owns everything every kind shares (catalogue, id maps, seen items,
 * serving a candidate state for validation, the file container); serve.c owns
 * scoring and ranking, which go through the scoring core (lib/core/core.h) for
 * every kind; a kind owns only its state. */
#ifndef RI_MODEL_INTERNAL_H
#define RI_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/config.h"
#include "core/core.h"
#include "io/format.h"
#include "recint.h"

/* Every kind scores as a linear form R[u, i] = <user_vec(u), item_mat[i, :]> +
 * item_bias[i], the shape the scoring core consumes. dim 0 means scores are
 * item_bias alone (popularity). Views borrowed from the kind's state.
 *
 * User vectors come from user_mat when the kind stores them; a kind that
 * computes them on the fly (a sequential model reading a history) leaves
 * user_mat NULL and supplies the user_vector operation instead. */
typedef struct {
    uint32_t dim;
    const float *item_mat;   /* n_items rows of item_stride floats (NULL when dim 0) */
    size_t item_stride;
    const float *item_bias;  /* n_items (NULL: zero) */
    const float *user_mat;   /* n_users rows of user_stride floats, or NULL (see above) */
    size_t user_stride;
} ri_linear_view;

/* Everything a kind's fit needs. The kind builds a NEW state and never touches
 * the model's current one, so a failed or canceled fit leaves it intact. */
typedef struct ri_fit_args ri_fit_args;

/* What a kind hands the epoch driver: its passes over the data and, for early
 * stopping, how to make its candidate state servable and how to keep and
 * bring back the best one. The driver owns the schedule (validation every
 * valid_every passes and after the last, patience, best-state restore,
 * progress and cancel); the kind owns what a pass does. */
typedef struct {
    const char *what;  /* "hybrid fit": prefix of the driver's messages */
    const char *unit;  /* "epoch", "iteration": what a pass is called */
    uint32_t passes;   /* how many to run at most */
    /* One pass, number ep from 0; *loss: its mean training loss (NaN: none). */
    int (*pass)(void *kind, uint32_t ep, double *loss);
    /* Brings the derived parts of the state up to date (before a validation
     * and when the driver ends); NULL: nothing to do. */
    int (*ready)(void *kind);
    /* Copies the state aside (restore 0) or back (restore 1); NULL: the kind
     * has no early stopping and validation data is not read. */
    int (*keep)(void *kind, int restore);
    const void *state; /* what validation scores (the kind's state) */
    int next_item;     /* validation by next-item metrics (sequential kinds) */
} ri_epoch_steps;

/* The epoch driver (lib/train/epochs.c). The trainer supplies it: training
 * sits above the models in the layering (lib/layers.txt), so a kind reaches
 * it only through this pointer. On ECANCELED the state holds the best
 * validated or else the last finished pass. */
typedef int (*ri_fit_epochs_fn)(const ri_fit_args *a, const ri_epoch_steps *steps, void *kind);

struct ri_fit_args {
    const recint_model *model;      /* config in model->cfg */
    const recint_dataset *train;
    const recint_dataset *valid;    /* may be NULL */
    const recint_config *train_cfg; /* trainer's config (threads, epochs); may be NULL */
    recint_progress_fn progress;    /* may be NULL */
    void *ctx;
    ri_fit_epochs_fn epochs;        /* the driver; NULL only for kinds without passes */
};

/* Rows to re-solve in a partial fit (recint_model_partial_fit_users/_items): row
 * rows[r] of the side gets the interactions idx[indptr[r] .. indptr[r+1]) (indices
 * of the other side, ascending and distinct) with weights w (NULL: 1, else finite
 * and >= 0 after the kind's check). Rows at or past the side's current count are
 * new; new_count is the side's size afterwards and every new row is listed. */
typedef struct {
    int side; /* 0 users, 1 items */
    uint32_t new_count;
    size_t n;
    const uint32_t *rows;
    const uint64_t *indptr;
    const uint32_t *idx;
    const float *w;
} ri_partial_rows;

typedef struct {
    const char *name;
    /* Validate the kind's parameters of m->cfg at recint_model_new (may be NULL). */
    int (*check_config)(const recint_config *cfg);
    void (*destroy)(void *state);
    /* Fit into *state_out. On RECINT_ECANCELED a kind may still return a complete
     * state (its last finished epoch) in *state_out, which the model then keeps;
     * NULL keeps the model's previous state. On other errors *state_out is NULL.
     * NULL for kinds built from given arrays (factors): such a kind cannot be
     * created empty by recint_model_new, and a trainer refuses it. */
    int (*fit)(const ri_fit_args *a, void **state_out);
    /* Linear form of a state (required). Called once when a state is installed
     * (fit, load, creation); the views must stay valid as long as the state.
     * During a fit m still holds the previous catalogue: read sizes from state. */
    int (*linear)(const recint_model *m, const void *state, ri_linear_view *out);
    /* Vector of user (view.dim floats) for kinds whose view has no user_mat; may
     * be NULL otherwise. Thread-safe: no writes to the model. */
    int (*user_vector)(const recint_model *m, const void *state, uint32_t user, float *out);
    /* Fold-in (recint_model_fold_in): the user vector for these interactions,
     * already validated (items in range and distinct, weights NULL or finite
     * and >= 0). Thread-safe: reads the state only. NULL: kind has none. */
    int (*fold_in)(const recint_model *m, const void *state, const uint32_t *items,
                   const float *weights, size_t n, float *out);
    /* Explanation (recint_model_explain) of item for user, both in range, k > 0.
     * Thread-safe. NULL: kind has none. */
    int (*explain)(const recint_model *m, const void *state, uint32_t user, uint32_t item,
                   uint32_t k, uint32_t *items, float *contributions, uint32_t *n_out,
                   float *score);
    /* Add the kind's sections (borrowing state's arrays) to w. */
    int (*save_sections)(const recint_model *m, const void *state, ri_fmt_writer *w);
    /* Build a state from a validated container. m holds the catalogue sizes, config
     * and seen items already; every array must be checked (sizes, finite values,
     * and derived arrays too) and charged to the load's budget with ri_fmt_charge
     * before it is allocated (docs/file-format.md, "Bounded loads"). */
    int (*load_sections)(const recint_model *m, const ri_fmt_reader *r, void **state_out);
    /* Non-zero: the kind reads model->user_features / item_features in fit. */
    int uses_features;
    /* Partial fit of rq's rows against the current other side. The kind either
     * updates state in place (*state_out = state, written only once nothing can
     * fail any more, so on failure state is unchanged) or builds a new state
     * (*state_out, which the model installs). NULL: kind has none. */
    int (*refit_rows)(const recint_model *m, void *state, const ri_partial_rows *rq,
                      void **state_out);
    /* More training from old_state (the model's, read only) on a->train into a
     * new *state_out, with the same catalogue; ECANCELED as fit. NULL: the kind
     * cannot continue a fit (recint_trainer_partial_fit gives EUNSUPPORTED). */
    int (*partial_fit)(const ri_fit_args *a, const void *old_state, void **state_out);
    /* Representation and bias of a feature row of side (recint_model_feature_vector),
     * the columns already checked distinct and the weights finite. ERANGE for a
     * column the side does not have. NULL: kind without feature embeddings. */
    int (*feature_vector)(const recint_model *m, const void *state, int side,
                          const uint32_t *cols, const float *weights, size_t n, float *out,
                          float *bias);
} ri_model_ops;

/* What serving reads, built from the kind's linear view whenever a state is
 * installed, immutable afterwards (so concurrent const calls need no lock). */
typedef struct {
    ri_linear_view view;
    ri_core_items *items; /* W, bias, optional int8 copy */
    /* Similar items: W without bias, scaled by 1/||w_i|| for cosine. Equal to
     * items when that is already the right form (dot, no bias); NULL for dim 0. */
    ri_core_items *sim;
    int cosine;           /* sim holds the cosine form */
    ri_isa isa;
    uint32_t shortlist;   /* int8_shortlist (0: the core's default) */
} ri_serving;

/* The fields of struct recint_model and struct recint_filter are in
 * models/model_private.h, for lib/models only; the layers above use these. */

/* The training items of user (ascending: the rows recommend excludes), as a
 * view into m. m fitted, user < recint_model_n_users(m). */
void ri_model_seen(const recint_model *m, uint32_t user, const uint32_t **items, size_t *n);
/* Every user's training items, users in order (*n in all), as a view into m
 * (m fitted). */
const uint32_t *ri_model_seen_all(const recint_model *m, uint64_t *n);
/* Non-zero when the fitted kind computes user vectors on the fly
 * (ri_linear_view.user_mat NULL): ri_model_user_vector gives them. */
int ri_model_has_user_vector(const recint_model *m);
/* The vector of user (dim floats) of a kind with ri_model_has_user_vector.
 * Errors: EUNSUPPORTED (the kind has none), those of the kind. */
int ri_model_user_vector(const recint_model *m, uint32_t user, float *out);
/* The catalogue m holds: during a kind's load, the sizes of the file being
 * read; else recint_model_n_users / _n_items of a fitted m. */
uint32_t ri_model_users_count(const recint_model *m);
uint32_t ri_model_items_count(const recint_model *m);
/* The instruction-set level m's serving chose (isa key). */
ri_isa ri_model_isa(const recint_model *m);

#define RI_KIND(name, ops) extern const ri_model_ops ops;
#include "models/kinds.def"
#undef RI_KIND

/* The config a fit reads a training key from: the trainer's when the key is set
 * there, else the model's (so `--set epochs=5` works on either). */
const recint_config *ri_fit_cfg(const ri_fit_args *a, ri_param_id id);
/* Runs a kind's passes through a->epochs (ri_epoch_steps). Errors: EINVAL
 * (no driver), ECANCELED, those of the steps and of validation. */
int ri_fit_epochs(const ri_fit_args *a, const ri_epoch_steps *steps, void *kind);
/* Calls fn with state served as a temporary model on the training catalogue
 * (a->train's id maps, its rows excluded from rankings); the model lives for
 * the call only. Errors: ENOMEM, those of serving, and fn's. */
int ri_fit_with_served_state(const ri_fit_args *a, const void *state,
                             int (*fn)(const recint_model *m, void *ctx), void *ctx);

/* Continue training a fitted m on data (same catalogue) through the kind's
 * partial_fit; an unfitted m is fitted from scratch. The training rows the model
 * excludes become the union of the old ones and data's. Errors: EUNSUPPORTED,
 * EINVAL (catalogue), ENOMEM, ECANCELED and those of the kind. */
int ri_model_partial_fit(recint_model *m, const recint_dataset *data, const recint_config *train_cfg,
                         ri_fit_epochs_fn epochs, recint_progress_fn progress, void *ctx);
/* Linear form of a fitted model. Errors: ESTATE. */
int ri_model_linear(const recint_model *m, ri_linear_view *out);
/* Fit m from scratch (the trainer's entry point). Errors: EINVAL, ENOMEM,
 * ECANCELED, EUNSUPPORTED (kind cannot be fitted) and those of the kind. */
int ri_model_fit(recint_model *m, const recint_dataset *train, const recint_dataset *valid,
                 const recint_config *train_cfg, ri_fit_epochs_fn epochs,
                 recint_progress_fn progress, void *ctx);
/* A fitted model of kind ops made from a ready state (recint_model_new_factors):
 * catalogue 0..n-1 on both sides, no seen items. Takes state (destroyed on
 * failure). Errors: EINVAL, ENOMEM, EUNSUPPORTED (isa). */
int ri_model_from_state(recint_model **out, const ri_model_ops *ops, const recint_config *cfg,
                        uint32_t n_users, uint32_t n_items, void *state);

/* serve.c: build the serving side of a state of m's kind (n_items items) under
 * m's config (isa, quantize, similarity, int8_shortlist). int8 NULL (fit,
 * creation): quantize decides whether to build an int8 copy. Non-NULL (load):
 * the file's optional int8 section, attached as read, or codes NULL when the
 * file has none, which serves fp32 only whatever quantize says.
 * Errors: EINVAL, ENOMEM, EUNSUPPORTED. */
typedef struct {
    const int8_t *codes;
    const float *scales;
} ri_int8_copy;
int ri_serving_build(const recint_model *m, const void *state, uint32_t n_items,
                     const ri_int8_copy *int8, ri_serving *out);
void ri_serving_free(ri_serving *s);
/* Instruction set for cfg's isa request. at_load: a level this CPU lacks falls
 * back to the best it has (a saved preference of another machine). */
int ri_serving_isa(const recint_config *cfg, int at_load, ri_isa *out);

#endif
