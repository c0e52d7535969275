/* Shared between the files of the als kind: als.c (parameters, fit, training
 * loss, biases, file, ops table), als_solve.c (Gram, row systems, Cholesky,
 * portable CG, half sweeps), als_cg_avx512.c (the AVX-512 CG row solver),
 * als_serve.c (fold-in, explanations, partial fit). */
#ifndef RI_ALS_INTERNAL_H
#define RI_ALS_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "models/model_internal.h"

/* A fitted als model. */
typedef struct {
    uint32_t n_users, n_items, dim;
    float *U; /* n_users x dim */
    float *V; /* n_items x dim */
    /* V^T V (dim x dim): shared by every fold-in and explanation, so each costs
     * O(n dim^2 + dim^3) instead of O(n_items dim^2). Derived from V at fit end
     * and at load, never stored in the file. */
    float *G;
    /* biases=true: user and item biases (else NULL). The user bias does not
     * change a user's ranking, so serving uses the item biases only. */
    float *ub, *ib;
    /* biases=true, derived like G: the item rows as [y_i, 1] (n_items x (dim + 1)),
     * their Gram and t = sum_i b_i [y_i, 1], for the user-side single-row solves. */
    float *Vh, *Gh, *th;
} ri_als_state;

typedef enum { RI_ALS_CG = 0, RI_ALS_CHOLESKY = 1 } ri_als_solver;

/* The parameters of a fit. */
typedef struct {
    uint32_t dim, iterations, cg_steps;
    double lambda, exponent, alpha;
    int biases;
    ri_als_solver solver;
    unsigned threads;
    uint64_t seed;
    ri_isa isa; /* of the row solvers: the model's isa key, as serving reads it */
} ri_als_params;

/* als.c: a state with unset factors (NULL: out of memory); weights must be
 * finite and >= 0 (EINVAL naming the first bad one). */
ri_als_state *ri_als_state_alloc(uint32_t n_users, uint32_t n_items, uint32_t dim);
void ri_als_state_free(ri_als_state *s);
/* Zeroed bias arrays for s's counts. Errors: ENOMEM. */
int ri_als_state_add_biases(ri_als_state *s);
/* (Re)compute what is derived from V: G, and with biases Vh, Gh, th. Errors:
 * ENOMEM (s keeps what it had). */
int ri_als_state_derive(ri_als_state *s);
/* [X, 1] rows (n x (d + 1)) of X (n x d), their Gram (d + 1)^2 and t = sum_r
 * bias_r [x_r, 1]: the other side of a biased row solve. */
void ri_als_augment(const float *X, const float *bias, uint32_t n, uint32_t d, float *Xh, float *Gh,
                    float *t);
int ri_als_check_weights(const float *w, uint64_t nnz);

/* Packed lower triangle of a d x d matrix: row r starts at tri_len(r). */
static inline size_t ri_als_tri_len(uint32_t d) { return (size_t)d * (d + 1) / 2; }

/* Penalty of a row with n training rows: lambda * max(n, 1)^exponent. */
static inline double ri_als_row_lambda(double lambda, double exponent, uint64_t n)
{
    if (exponent == 0)
        return lambda;
    return lambda * pow((double)(n ? n : 1), exponent);
}

/* One half sweep of conjugate-gradient solves: rows [begin, end) of X, each
 * with its items idx[indptr[r] .. indptr[r+1]) of Y (weights w, NULL: 1), G =
 * Y^T Y (dim x dim, row-major, symmetric). */
typedef struct {
    uint32_t dim, steps;
    float alpha;
    double lambda, exponent;
    const float *G;
    const float *Y;
    const uint64_t *indptr;
    const uint32_t *idx;
    const float *w;
    /* Biases (else NULL): off[i] is added to every prediction of other-side row
     * i (its bias), and the right-hand side gets -t, t = sum_i off[i] y_i over
     * the whole other side. */
    const float *off;
    const float *t;
} ri_als_cg_task;

/* The AVX-512 solver keeps a row's vectors in registers, so it exists for dims
 * up to RI_ALS_CG_AVX512_MAX_DIM (the caller uses the portable solver above). */
#define RI_ALS_CG_AVX512_MAX_DIM 128
/* Solves rows [begin, end) of X in place. Needs AVX-512F (the caller checks the
 * CPU) and dim <= RI_ALS_CG_AVX512_MAX_DIM. */
void ri_als_cg_avx512(const ri_als_cg_task *t, float *X, size_t begin, size_t end);
/* The packed system of one row as ri_als_factor_row builds it (no biases),
 * unfactored, with the rank-n part summed in float: AVX-512F, dim <=
 * RI_ALS_CG_AVX512_MAX_DIM. */
void ri_als_row_system_avx512(const float *G, const float *Y, uint32_t d, const uint32_t *items,
                              const float *weights, size_t n, double alpha, double lambda,
                              double *A, double *b);


/* ---- als_solve.c ---- */

/* G = Y^T Y (dim x dim, row-major) for Y rows x dim, BLIS single-threaded in
 * the calling thread with a local runtime object. */
void ri_als_gram(const float *Y, uint32_t rows, uint32_t dim, float *G);

/* Scratch of all workers of one fit: the Gram matrix and per-worker buffers. */
typedef struct {
    float *G;
    double *dscratch;
    float *fscratch;
} ri_als_scratch;
int ri_als_scratch_alloc(ri_als_scratch *s, const ri_als_params *p);
void ri_als_scratch_free(ri_als_scratch *s);

/* One half sweep: rows of X (n_x x p->dim, each with its items
 * idx[indptr[r] .. indptr[r+1]) of Y, weights w) solved against Y (n_y x
 * p->dim) with p's solver on p->threads threads; off and t: biases as in
 * ri_als_cg_task (else NULL). */
int ri_als_solve_side(const ri_als_params *p, ri_als_scratch *sc, float *X, uint32_t n_x,
                      const float *Y, uint32_t n_y, const uint64_t *indptr, const uint32_t *idx,
                      const float *w, const float *off, const float *t);

/* One row's normal equations (G the other side's Gram, rows items[0..n) of Y
 * with weights, NULL: 1; off and t: biases as in ri_als_cg_task, else NULL) as
 * a packed lower triangle A and right-hand side b,
 * factored in place: A needs ri_als_tri_len(d) + 2 d doubles, b = A +
 * ri_als_tri_len(d). isa picks the compiled copy. */
void ri_als_factor_row(ri_isa isa, const float *G, const float *Y, uint32_t d,
                       const uint32_t *items, const float *weights, size_t n, double alpha,
                       double lambda, const float *off, const float *t, double *A, double *b);
/* x = (L L^T)^{-1} x for a factor of ri_als_factor_row. */
void ri_als_cholesky_solve(const double *L, uint32_t d, double *x);

/* ---- als_serve.c: the kind's fold_in, explain and partial_fit operations ---- */
int ri_als_fold_in(const recint_model *m, const void *state, const uint32_t *items,
                   const float *weights, size_t n, float *out);
int ri_als_explain(const recint_model *m, const void *state, uint32_t user, uint32_t item,
                   uint32_t k, uint32_t *items, float *contributions, uint32_t *n_out,
                   float *score);
int ri_als_partial_fit(const recint_model *m, void *state, const ri_partial_rows *rq,
                       void **state_out);

#endif
