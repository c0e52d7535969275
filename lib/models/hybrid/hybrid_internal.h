/* Kind "hybrid": the state shared by its files (hybrid.c: state, linear view,
 * save/load, fold-in; hybrid_fit.c: training; the losses are lib/learn's).
 *
 * Each side (users, items) has a feature matrix X (rows x cols, CSR; NULL
 * indptr means identity), one embedding row per feature column E (cols x dim)
 * and one bias per column b. Row r's representation is
 *   rep(r) = sum_c X[r, c] E[c]      bias(r) = sum_c X[r, c] b[c]
 * and the score of (u, i) is rep_u(u) . rep_i(i) + bias_u(u) + bias_i(i).
 * A dense block is a column per dimension, so its learned projection into dim
 * is its columns' embeddings: the same parameters and updates as sparse ones.
 * Serving sees rep_u as user_mat, rep_i as item_mat and bias_i as item_bias
 * (bias_u never changes a user's ranking). */
#ifndef RI_HYBRID_INTERNAL_H
#define RI_HYBRID_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "models/model_internal.h"

/* The hybrid kind's loss and optimizer choices (named in hybrid.c). */
enum { HYB_LOSS_AUTO = 0, HYB_LOSS_LOGISTIC = 1, HYB_LOSS_BPR = 2, HYB_LOSS_WARP = 3,
       HYB_LOSS_WARP_KOS = 4 };
enum { HYB_OPT_AUTO = 0, HYB_OPT_ADAGRAD = 1, HYB_OPT_ADAM = 2,
       /* internal, for the gradient checks: g is added to the moment buffers */
       HYB_OPT_GRADIENT = 3 };

typedef struct {
    uint32_t rows, cols;
    /* Features (CSR, columns ascending); all NULL for identity (rows == cols). */
    uint64_t *indptr;
    uint32_t *idx;
    float *val;
    float *emb;  /* cols x dim */
    float *bias; /* cols */
    /* Representations of every row (rows x dim, rows) for serving; for identity
     * they are emb and bias themselves (not owned). */
    float *rep, *rep_bias;
    /* Optimizer state, kept so that a partial fit continues the same optimizer
     * (NULL after a load: started afresh). adagrad (row-wise): m1 holds cols
     * row accumulators then cols bias accumulators. adam: m1 and m2 hold
     * cols x dim + cols moments (embeddings, then biases), steps a count per
     * column. The gradient checks' optimizer uses m1 like adam. */
    float *m1, *m2;
    uint32_t *steps;
} hyb_side;

/* user_history's choices (named in hybrid.c). */
enum { HYB_HIST_AUTO = 0, HYB_HIST_NONE = 1, HYB_HIST_SQRT = 2, HYB_HIST_MEAN = 3,
       HYB_HIST_SQRT_ONLY = 4, HYB_HIST_MEAN_ONLY = 5 };
/* -only: the history replaces identity user features (whose table then holds
 * the history sums, see hybrid_fit.c's flush); explicit user features stay. */
#define HYB_HIST_IS_MEAN(h) ((h) == HYB_HIST_MEAN || (h) == HYB_HIST_MEAN_ONLY)
#define HYB_HIST_IS_ONLY(h) ((h) == HYB_HIST_SQRT_ONLY || (h) == HYB_HIST_MEAN_ONLY)

typedef struct {
    uint32_t dim;
    hyb_side user, item;
    /* User history (user_history != none; all NULL otherwise): user u's
     * representation gains sum_e hval[e] hemb[hidx[e]] over its training items
     * e in hptr[u]..hptr[u+1] (SVD++ / FISM-style asymmetric factors, a table
     * of its own, n_items x dim). hsum caches that sum per user, umat the
     * whole user representation (rep + hsum) that serving reads as user_mat
     * (for -only modes with identity users hsum and umat are user.emb: that
     * table is not trained and holds the history sums).
     * hm1: row-wise adagrad accumulators (n_items), or for HYB_OPT_GRADIENT
     * the raw gradient (n_items x dim). hgrad: the users' representation
     * gradients gathered since the last flush (training only; NULL when hsum
     * is user.emb, whose rows gather them by moving). */
    uint32_t hist;
    float hhalf; /* user_history_halflife */
    uint64_t *hptr;
    uint32_t *hidx;
    float *hval, *hemb, *hsum, *umat, *hm1, *hgrad;
} hyb_state;

/* Training settings, resolved (per-loss defaults applied). */
typedef struct {
    uint32_t dim, epochs, max_sampled, kos_k, kos_n;
    int loss, optimizer, hist;
    double lr, user_alpha, item_alpha, hist_halflife;
    unsigned threads;
    uint64_t seed;
    int avx2;
} hyb_params;

/* hybrid.c */
void ri_hyb_destroy(void *state);
int ri_hyb_side_is_identity(const hyb_side *s);
/* Recompute rep/rep_bias of the non-identity sides from emb (threads workers). */
int ri_hyb_refresh(hyb_state *s, unsigned threads);
/* Recompute hsum and umat (history on) from hemb and the user reps. */
int ri_hyb_refresh_history(hyb_state *s, unsigned threads);
/* Per-loss defaults: epochs and learning rate when the config leaves them 0. */
uint32_t ri_hyb_default_epochs(int loss);
double ri_hyb_default_lr(int loss);
/* HYB_LOSS_* of cfg's loss; auto and another kind's loss resolve to warp. */
int ri_hyb_resolve_loss(const recint_config *cfg);
/* EINVAL (message prefixed what) when cfg's loss is another kind's. */
int ri_hyb_check_loss(const recint_config *cfg, const char *what);


/* hybrid_fit.c */
int ri_hyb_fit(const ri_fit_args *a, void **state_out);
int ri_hyb_partial_fit(const ri_fit_args *a, const void *old_state, void **state_out);
/* Apply the gradient of one (user, positive, negative) triple to s with
 * optimizer opt (HYB_OPT_GRADIENT: add the raw gradient to m1, for tests).
 * d_pos/d_neg: d loss / d score; neg may be UINT32_MAX for none. */
void ri_hyb_apply_triple(hyb_state *s, const hyb_params *p, uint32_t u, uint32_t i, uint32_t j,
                         float d_pos, float d_neg);
/* Score of (u, i) computed from the embeddings (not the cached reps), in double. */
double ri_hyb_score_slow(const hyb_state *s, uint32_t u, uint32_t i);
/* Moments for optimizer opt on every side (zeroed). Errors: ENOMEM. */
int ri_hyb_alloc_moments(hyb_state *s, int opt);

/* hybrid.c: history of every user from the CSR of its training rows (rows of
 * weight 0 left out; w may be NULL), ordered oldest first by ts (NULL: as
 * given), weights by position (ri_hyb_history_weights); allocates hemb
 * (zeroed), hsum and umat. Replaces any history s had. Errors: ENOMEM. */
int ri_hyb_history_set(hyb_state *s, int mode, float halflife, const uint64_t *ptr,
                       const uint32_t *idx, const float *w, const int64_t *ts);
/* Weights of n history items, oldest first: the newest weighs 1, each
 * halflife items older half as much (0: all alike), normalised to sum 1
 * (mean modes) or norm 1 (sqrt modes). */
void ri_hyb_history_weights(float *out, size_t n, int mode, float halflife);
/* Frees the history arrays of s and sets them NULL. */
void ri_hyb_history_free(hyb_state *s);
double ri_hyb_default_halflife(int loss);
/* The user_history mode for a loss (resolving auto). */
int ri_hyb_resolve_history(const recint_config *cfg, int loss);

/* hybrid.c: state with the given features (NULL: identity), parameters
 * unset. Errors: EINVAL (row counts), ENOMEM. */
int ri_hyb_state_new(hyb_state **out, uint32_t n_users, uint32_t n_items, uint32_t dim,
                     const recint_features *uf, const recint_features *itf);

#endif
