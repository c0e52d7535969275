/* The explorer (docs/exploration.md): per-user Bayesian linear posteriors over a
 * model's user vector, bandit policies over the scoring core's candidates, a log
 * of what was shown, and the estimators and simulator built on them. */
#ifndef RI_EXPLORE_INTERNAL_H
#define RI_EXPLORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "models/model_internal.h"
#include "recint.h"
#include "util/rng.h"

/* The policies (named in explorer.c, ri_explore_read_params). */
typedef enum {
    RI_POL_GREEDY = 0,
    RI_POL_EPSILON,
    RI_POL_SOFTMAX,
    RI_POL_LINUCB,
    RI_POL_THOMPSON,
    RI_POL_UNIFORM,
} ri_policy;

typedef struct {
    ri_policy policy;
    double epsilon, temperature, ucb_alpha, ts_scale;
    double prior_precision, history_precision, mmr_lambda, debias;
    double decay; /* explore_decay: rounds over which the width shrinks (0: never) */
    uint32_t candidates, samples;
    uint64_t seed;
    int online; /* observe updates the posterior */
} ri_explore_params;

/* One user's posterior N(mean, cov) with precision A = cov^-1 and b = A mean:
 * A starts as prior_precision I + history_precision sum_h x_h x_h^T around the
 * model's user vector, and each observation adds x x^T to A and r x to b. */
typedef struct {
    uint32_t dim;
    uint64_t round;      /* recommend calls so far: the next round's number */
    double *cov;         /* dim x dim, kept exactly symmetric */
    double *chol;        /* dim x dim: upper R with A = R^T R (thompson draws R^-1 z) */
    int chol_stale;      /* an observe skipped R's update (policies other than thompson) */
    double *b;           /* dim */
    double *mean;        /* dim, cov b */
    double *scratch;     /* dim, for observe */
    float *mean_f;       /* dim, mean rounded: the candidates' query vector */
    uint64_t log_first;  /* records of the last round in the explorer's log */
    uint32_t log_count;
} ri_posterior;

/* posterior.c */
/* Prior of a user: mean u0 (dim floats), precision from the history items' rows
 * (item_mat rows, stride). Errors: ENOMEM, EINVAL (precision not positive
 * definite, which finite inputs and positive prior_precision rule out). */
int ri_posterior_init(ri_posterior *p, uint32_t dim, const float *u0, const float *item_mat,
                      size_t stride, const uint32_t *hist, size_t n_hist, double prior_precision,
                      double history_precision);
void ri_posterior_free(ri_posterior *p);
/* A deep copy of src into dst (nothing allocated on failure). Errors: ENOMEM. */
int ri_posterior_copy(ri_posterior *dst, const ri_posterior *src);
/* Sherman-Morrison: A += x x^T (cov updated in O(dim^2), and R by a rank-one
 * Cholesky update, also O(dim^2), when keep_chol; else R goes stale), b += r x,
 * mean = cov b. */
void ri_posterior_observe(ri_posterior *p, const float *x, double r, ri_isa isa, int keep_chol);
/* Lower Cholesky factor L of a symmetric positive definite n x n matrix (row
 * major, L written to out; the upper part zeroed). Returns 0, or -1 when a pivot
 * is not positive. */
int ri_cholesky(const double *a, uint32_t n, double *out);
/* Inverse of a symmetric positive definite matrix via its Cholesky factor.
 * work: n*n doubles, left holding the lower factor. Returns 0 or -1 as
 * ri_cholesky. */
int ri_spd_inverse(const double *a, uint32_t n, double *out, double *work);

/* kernels.c: float kernels over candidate rows (AVX-512 when the CPU has it). */
/* q[i] = x_i^T S x_i for n rows x_i of X (dim floats each, stride apart), S a
 * dim x dim float matrix (row major). */
void ri_explore_quadforms(ri_isa isa, const float *S, uint32_t dim, const float *const *X,
                          uint32_t n, float *q);
/* out[i * m + s] = <x_i, T[:, s]> for the dim x m matrix T (row major). */
void ri_explore_multidot(ri_isa isa, const float *T, uint32_t dim, uint32_t m,
                         const float *const *X, uint32_t n, float *out);
/* out[i] = <v, x_i>. */
void ri_explore_dots(ri_isa isa, const float *v, uint32_t dim, const float *const *X, uint32_t n,
                     float *out);
/* y = x^T M for x of d floats and M d x m (row major). */
void ri_explore_rowmat(ri_isa isa, const float *x, const float *M, uint32_t d, uint32_t m,
                       float *y);
/* Each draw's K best candidates from out (n rows of DP floats: row i holds the
 * draws' noise at candidate i; draw m's score is base[i] + out[i * DP + m]),
 * best first (score descending, then position ascending; NaN and -inf never
 * enter) into list (D x K positions). Returns 1 when every list is full, 0
 * when one is short (its contents then undefined), -1 on ENOMEM (no message). */
int ri_explore_draw_lists(ri_isa isa, const float *out, uint32_t DP, const float *base,
                          uint32_t n, uint32_t D, uint32_t K, uint32_t *list);
/* Solve R D = Z in place (Z: d x m) for upper triangular R (d x d). */
void ri_explore_backsolve(ri_isa isa, const float *R, uint32_t d, uint32_t m, float *Z);

/* One slate decision: what the policy step reads and writes. */
typedef struct {
    uint32_t n;               /* candidates */
    const uint32_t *item;     /* n: catalogue indices */
    const float *const *x;    /* n: item vectors */
    const float *base;        /* n: mean score + bias - popularity penalty */
    const float *inv_norm;    /* n: 1/||x|| for MMR cosine (NULL when MMR is off) */
} ri_candidates;

/* policy.c: choose k slots (k <= c->n) into pos (positions into the candidates)
 * with per-slot conditional propensities (prop, k entries). post supplies cov
 * for linucb and thompson. Errors: ENOMEM, EINVAL (a covariance that is not
 * positive definite). */
int ri_policy_slate(const ri_explore_params *pp, ri_isa isa, const ri_posterior *post,
                    const ri_candidates *c, uint32_t k, ri_rng *rng, uint32_t *pos, double *prop);
/* Probability of each candidate for slot 0 (probs, c->n entries) under the
 * policy, for the estimators; thompson counts the slot-0 choices of
 * pp->samples draws from rng. Errors as ri_policy_slate. */
int ri_policy_first_slot(const ri_explore_params *pp, ri_isa isa, const ri_posterior *post,
                         const ri_candidates *c, ri_rng *rng, double *probs);

/* One slot of one round in the log. */
typedef struct {
    uint32_t user, item, slot, n_candidates;
    uint64_t round;
    double propensity;
    float reward; /* NaN until observed */
} ri_log_record;

#define RI_EXPLORE_STRIPES 64

struct recint_explorer {
    const recint_model *m;
    recint_config *cfg;
    ri_explore_params pp;
    ri_linear_view view;
    ri_isa isa;
    uint32_t n_users, n_items;
    float *inv_norm;      /* n_items (MMR) or NULL */
    float *penalty;       /* n_items (debias) or NULL */
    ri_posterior **users; /* n_users, created on a user's first call */
    pthread_mutex_t stripe[RI_EXPLORE_STRIPES];
    float *rows[RI_EXPLORE_STRIPES]; /* per stripe: candidate rows of its calls (lazy) */
    pthread_mutex_t log_lock;
    int logging;
    ri_log_record *log;
    uint64_t log_n, log_cap;
};

/* explorer.c: the posterior of user (created on first use); caller holds the
 * user's stripe. Errors: ENOMEM, those of the model's user vector. */
int ri_explorer_posterior(recint_explorer *e, uint32_t user, ri_posterior **out);
/* The candidate set of a posterior (as recommend builds it) into caller arrays
 * of pp.candidates entries. rows (pp.candidates x dim floats, or NULL): a
 * contiguous copy of the candidates' vectors that x then points into. */
int ri_explorer_candidates(const recint_explorer *e, uint32_t user, const ri_posterior *p,
                           uint32_t *items, const float **x, float *base, float *inv_norm,
                           float *rows, uint32_t *n_out);
/* The random stream of (user, round). */
void ri_explorer_rng(const recint_explorer *e, uint32_t user, uint64_t round, ri_rng *r);
int ri_explore_read_params(const recint_config *cfg, ri_explore_params *pp);
/* The parameters at a user's round: explore_decay applied to ucb_alpha and
 * thompson_scale when the explorer is online (a frozen one keeps them). */
ri_explore_params ri_explore_at_round(const ri_explore_params *pp, uint64_t round);

/* log.c */
int ri_explore_log_append(recint_explorer *e, const ri_log_record *recs, uint32_t n,
                          uint64_t *first);
void ri_explore_log_reward(recint_explorer *e, uint64_t first, uint32_t count, uint32_t item,
                           float reward);
/* Read and validate a log file, container or text (either is recognised by its
 * first bytes): records (malloc'd) and count. n_users / n_items bound the
 * indices (ERANGE beyond). Errors: EIO, EFORMAT, ERANGE, ENOMEM. */
int ri_explore_log_read(const char *path, uint32_t n_users, uint32_t n_items,
                        ri_log_record **out, uint64_t *n_out);
/* One record's fields against the catalogue and their ranges; where prefixes
 * the message. Errors: ERANGE, EFORMAT. */
int ri_explore_log_check(const char *where, const ri_log_record *x, uint32_t n_users,
                         uint32_t n_items);

/* ope.c: the estimate of recint_explorer_evaluate from records already read
 * (all: n_all malloc'd records, reordered and freed here; name names them in
 * messages). Errors: ESTATE (no usable record), ENOMEM. */
int ri_explore_estimate(const recint_explorer *target, ri_log_record *all, uint64_t n_all,
                        const char *name, int estimator, double *out);

/* log_text.c: the same log as tab-separated text. */
#define RI_LOG_TEXT_MAGIC "# recint-explore-log 1"
/* *text = 1 when the file at path starts with the text header. Errors: EIO. */
int ri_explore_log_is_text(const char *path, int *text);
int ri_explore_log_read_text(const char *path, uint32_t n_users, uint32_t n_items,
                             ri_log_record **out, uint64_t *n_out);

#endif
