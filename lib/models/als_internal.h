/* Shared between the files of the als kind (als.c: fit, file, ops;
 * als_cg_avx512.c: the AVX-512 conjugate-gradient row solver). */
#ifndef RI_ALS_INTERNAL_H
#define RI_ALS_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

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
} ri_als_state;

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

#endif
