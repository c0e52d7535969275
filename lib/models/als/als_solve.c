/* The row solvers of the als kind: the Gram matrix of a side (BLIS kernels), the
 * normal equations of one row and their packed Cholesky factorisation, the
 * portable conjugate-gradient solver (the AVX-512 one is als_cg_avx512.c), and
 * a half sweep that solves every row of one side on the library's threads.
 * The model-level parts (fit, file, serving) are in als.c and als_serve.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "models/als/als_internal.h"
#include "util/error.h"
#include "core/gemm.h"
#include "util/parallel.h"
#include "core/target.h"

/* Rows handed to a worker at a time: rows differ a lot in length, so hand out
 * small chunks dynamically. */
#define ROW_CHUNK 32

/* G = Y^T Y (dim x dim, row-major) for Y rows x dim, in the calling thread
 * (the library's multiply, lib/core/gemm.h: no allocation, cannot fail). */
void ri_als_gram(const float *Y, uint32_t rows, uint32_t dim, float *G)
{
    ri_gemm_gram(ri_core_isa_detect(), Y, rows, dim, G);
}

/* The per-row solvers are compiled twice: for the baseline instruction set and,
 * on x86-64, for AVX2 (wider vectors for the dot products and updates, the
 * bulk of a fit). Inlining them into each entry point gives each its own copy. */
#define RI_HOT RI_INLINE_BODY

/* One half sweep: every row of X (n_rows x dim) solved against Y. */
typedef struct {
    const ri_als_params *p;
    float *X;
    const float *Y;
    const float *G;
    const uint64_t *indptr;
    const uint32_t *idx;
    const float *w; /* NULL: every weight 1 */
    const float *off, *t; /* biases: as in ri_als_cg_task (else NULL) */
    int avx2;       /* use the AVX2 copy of the solvers */
    int cg_avx512;  /* cg through ri_als_cg_avx512 (task) */
    int sys_avx512; /* cholesky systems (without biases) by ri_als_row_system_avx512 */
    ri_als_cg_task task;
    double *dscratch; /* per worker: cholesky_scratch_len(dim) doubles */
    float *fscratch;  /* per worker: 3 * dim floats (cg) */
} half_sweep;

static double row_lambda(const ri_als_params *p, uint64_t n)
{
    return ri_als_row_lambda(p->lambda, p->exponent, n);
}


/* The normal equations of one row, shared by training (solver cholesky) and
 * fold-in/explain: A = G + sum_j (c_j - 1) y_j y_j^T + lambda I (packed lower
 * triangle) and b = sum_j c_j y_j, with c_j = 1 + alpha * weight_j (weights NULL:
 * 1) over the row's items. With biases (off, t non-NULL) the targets are
 * p - off_i, so b = -t + sum_j (c_j - (c_j - 1) off_j) y_j. */
RI_HOT static void build_row_system(const float *G, const float *Y, uint32_t d,
                                    const uint32_t *items, const float *weights, size_t n,
                                    double alpha, double lambda, const float *off,
                                    const float *t, double *A, double *b)
{
    for (uint32_t r = 0; r < d; r++) {
        double *Ar = A + ri_als_tri_len(r);
        for (uint32_t c = 0; c <= r; c++)
            Ar[c] = G[(size_t)r * d + c];
        Ar[r] += lambda;
        b[r] = t ? -(double)t[r] : 0;
    }
    for (size_t j = 0; j < n; j++) {
        const float *y = Y + (size_t)items[j] * d;
        const double conf = 1.0 + alpha * (weights ? weights[j] : 1.0f);
        const double extra = conf - 1.0;
        const double target = off ? conf - extra * off[items[j]] : conf;
        for (uint32_t r = 0; r < d; r++) {
            const double yr = extra * y[r];
            double *Ar = A + ri_als_tri_len(r);
            for (uint32_t c = 0; c <= r; c++)
                Ar[c] += yr * y[c];
            b[r] += target * y[r];
        }
    }
}

/* Cholesky A = L L^T in place (packed lower), right-looking: after column k is
 * scaled (and copied to col, d doubles) the trailing update of each row is a
 * contiguous axpy, which vectorises; the dot-product form does not without
 * reassociation. A is positive definite (G is positive semidefinite, the rank-one terms are
 * nonnegative, lambda > 0); the guard only
 * keeps rounding from producing NaN. */
RI_HOT static void cholesky_packed(double *A, uint32_t d, double *col)
{
    for (uint32_t k = 0; k < d; k++) {
        double *pivot = A + ri_als_tri_len(k) + k;
        const double l = sqrt(*pivot > 1e-300 ? *pivot : 1e-300);
        *pivot = l;
        for (uint32_t r = k + 1; r < d; r++) {
            double *Ark = A + ri_als_tri_len(r) + k;
            *Ark /= l;
            col[r] = *Ark;
        }
        for (uint32_t r = k + 1; r < d; r++) {
            double *Ar = A + ri_als_tri_len(r);
            const double lr = col[r];
            for (uint32_t c = k + 1; c <= r; c++)
                Ar[c] -= lr * col[c];
        }
    }
}

/* x = (L L^T)^{-1} x in place. */
void ri_als_cholesky_solve(const double *L, uint32_t d, double *x)
{
    for (uint32_t r = 0; r < d; r++) {
        const double *Lr = L + ri_als_tri_len(r);
        double sum = x[r];
        for (uint32_t k = 0; k < r; k++)
            sum -= Lr[k] * x[k];
        x[r] = sum / Lr[r];
    }
    for (uint32_t r = d; r-- > 0;) {
        double sum = x[r];
        for (uint32_t k = r + 1; k < d; k++)
            sum -= L[ri_als_tri_len(k) + r] * x[k];
        x[r] = sum / L[ri_als_tri_len(r) + r];
    }
}

/* Workspace of solve_cholesky: the packed system, right-hand side and a column. */
static size_t cholesky_scratch_len(uint32_t d) { return ri_als_tri_len(d) + 2 * (size_t)d; }

/* Exact solve of a training row in double: the shared system, packed Cholesky,
 * two triangular solves. A holds cholesky_scratch_len(d) doubles. */
RI_HOT static void solve_cholesky(const half_sweep *h, size_t row, double *A)
{
    const uint32_t d = h->p->dim;
    const uint64_t beg = h->indptr[row], end = h->indptr[row + 1];
    double *b = A + ri_als_tri_len(d);
    if (h->sys_avx512)
        ri_als_row_system_avx512(h->G, h->Y, d, h->idx + beg, h->w ? h->w + beg : NULL,
                                 (size_t)(end - beg), h->p->alpha, row_lambda(h->p, end - beg), A,
                                 b);
    else
        build_row_system(h->G, h->Y, d, h->idx + beg, h->w ? h->w + beg : NULL,
                         (size_t)(end - beg), h->p->alpha, row_lambda(h->p, end - beg), h->off,
                         h->t, A, b);
    cholesky_packed(A, d, b + d);
    ri_als_cholesky_solve(A, d, b);
    float *x = h->X + row * d;
    for (uint32_t r = 0; r < d; r++)
        x[r] = (float)b[r];
}

/* Lanes of the dot product: independent partial sums the compiler keeps in
 * vector registers (a single running sum is one long dependency chain, and
 * without reassociation it cannot be vectorised). */
#define DOT_LANES 8

RI_HOT static float dot(const float *a, const float *b, uint32_t d)
{
    float acc[DOT_LANES] = {0};
    uint32_t k = 0;
    for (; k + DOT_LANES <= d; k += DOT_LANES)
        for (uint32_t l = 0; l < DOT_LANES; l++)
            acc[l] += a[k + l] * b[k + l];
    for (uint32_t l = 0; k < d; k++, l++)
        acc[l] += a[k] * b[k];
    /* pairwise, so the lanes fold as vectors rather than one by one */
    for (uint32_t half = DOT_LANES / 2; half > 0; half /= 2)
        for (uint32_t l = 0; l < half; l++)
            acc[l] += acc[l + half];
    return acc[0];
}

/* out = (G + lambda I) v for symmetric G, column by column: each step is an
 * independent update of all of out, which vectorises. */
RI_HOT static void gram_times(const float *G, float lambda, const float *v, uint32_t d, float *out)
{
    for (uint32_t r = 0; r < d; r++)
        out[r] = lambda * v[r];
    for (uint32_t c = 0; c < d; c++) {
        const float *Gc = G + (size_t)c * d;
        const float vc = v[c];
        for (uint32_t r = 0; r < d; r++)
            out[r] += Gc[r] * vc;
    }
}

/* A few conjugate-gradient steps on the row's normal equations, starting from
 * its current value; A v is formed from G and the row's items without A. */
RI_HOT static void solve_cg(const half_sweep *h, size_t row, float *scratch)
{
    const uint32_t d = h->p->dim;
    const uint64_t beg = h->indptr[row], end = h->indptr[row + 1];
    const float lambda = (float)row_lambda(h->p, end - beg);
    const float alpha = (float)h->p->alpha;
    float *x = h->X + row * d, *r = scratch, *dir = scratch + d, *Ad = scratch + 2 * d;
    /* r = b - A x = -(G + lambda I) x + sum_j (c_j - (c_j - 1) y_j.x) y_j */
    gram_times(h->G, lambda, x, d, r);
    for (uint32_t k = 0; k < d; k++)
        r[k] = h->t ? -r[k] - h->t[k] : -r[k];
    for (uint64_t j = beg; j < end; j++) {
        const float *y = h->Y + (size_t)h->idx[j] * d;
        float extra = alpha * (h->w ? h->w[j] : 1.0f);
        float off = h->off ? h->off[h->idx[j]] : 0.0f;
        float coef = 1.0f + extra - extra * (dot(y, x, d) + off);
        for (uint32_t k = 0; k < d; k++)
            r[k] += coef * y[k];
    }
    memcpy(dir, r, d * sizeof(float));
    float rr = dot(r, r, d);
    for (uint32_t step = 0; step < h->p->cg_steps; step++) {
        if (!(rr > 1e-30f))
            break; /* converged (or nothing to do: zero right-hand side) */
        gram_times(h->G, lambda, dir, d, Ad);
        for (uint64_t j = beg; j < end; j++) {
            const float *y = h->Y + (size_t)h->idx[j] * d;
            float coef = alpha * (h->w ? h->w[j] : 1.0f) * dot(y, dir, d);
            for (uint32_t k = 0; k < d; k++)
                Ad[k] += coef * y[k];
        }
        float dAd = dot(dir, Ad, d);
        if (!(dAd > 0))
            break; /* rounding only: A is positive definite */
        float step_len = rr / dAd;
        for (uint32_t k = 0; k < d; k++) {
            x[k] += step_len * dir[k];
            r[k] -= step_len * Ad[k];
        }
        float rr_new = dot(r, r, d);
        float beta = rr_new / rr;
        for (uint32_t k = 0; k < d; k++)
            dir[k] = r[k] + beta * dir[k];
        rr = rr_new;
    }
}

RI_HOT static void solve_rows(int avx, const half_sweep *h, size_t begin, size_t end,
                              unsigned worker)
{
    (void)avx; /* the compiler vectorises it for each copy's target */
    const uint32_t d = h->p->dim;
    for (size_t row = begin; row < end; row++) {
        if (h->p->solver == RI_ALS_CHOLESKY) {
            solve_cholesky(h, row, h->dscratch + (size_t)worker * cholesky_scratch_len(d));
        } else {
            solve_cg(h, row, h->fscratch + (size_t)worker * 3 * d);
        }
    }
}

RI_AVX2_CLONES(solve_rows_isa, solve_rows,
               (const half_sweep *h, size_t begin, size_t end, unsigned worker),
               (h, begin, end, worker))

static int half_sweep_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    const half_sweep *h = ctx;
    if (h->cg_avx512) {
        ri_als_cg_avx512(&h->task, h->X, begin, end);
        return RECINT_OK;
    }
    solve_rows_isa(h->avx2, h, begin, end, worker);
    return RECINT_OK;
}


/* Idempotent: the failure path of ri_als_scratch_alloc releases the scratch and
 * its callers release it again on their own error path. */
void ri_als_scratch_free(ri_als_scratch *s)
{
    free(s->G);
    free(s->dscratch);
    free(s->fscratch);
    s->G = NULL;
    s->dscratch = NULL;
    s->fscratch = NULL;
}

int ri_als_scratch_alloc(ri_als_scratch *s, const ri_als_params *p)
{
    const size_t d = p->dim;
    memset(s, 0, sizeof *s);
    s->G = ri_malloc_array(d * d, sizeof(float));
    if (p->solver == RI_ALS_CHOLESKY)
        s->dscratch = ri_malloc_array(p->threads, cholesky_scratch_len(p->dim) * sizeof(double));
    else
        s->fscratch = ri_malloc_array(p->threads, 3 * d * sizeof(float));
    if (!s->G || (!s->dscratch && !s->fscratch)) {
        ri_als_scratch_free(s);
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for scratch of %u threads at dim %u",
                        p->threads, p->dim);
    }
    return RECINT_OK;
}

/* Rows of X (n_x x p->dim) solved against Y (n_y x p->dim); off and t: biases
 * (ri_als_cg_task), else NULL. */
int ri_als_solve_side(const ri_als_params *p, ri_als_scratch *sc, float *X, uint32_t n_x,
                      const float *Y, uint32_t n_y, const uint64_t *indptr, const uint32_t *idx,
                      const float *w, const float *off, const float *t)
{
    ri_als_gram(Y, n_y, p->dim, sc->G);
    half_sweep h = {p, X, Y, sc->G, indptr, idx, w, off, t, p->isa >= RI_ISA_AVX2, 0, 0, {0},
                    sc->dscratch, sc->fscratch};
#if RI_CAN_TARGET_AVX2
    const int avx512 = p->isa >= RI_ISA_AVX512 && p->dim <= RI_ALS_CG_AVX512_MAX_DIM;
    if (p->solver == RI_ALS_CG && avx512) {
        h.cg_avx512 = 1;
        h.task = (ri_als_cg_task){p->dim, p->cg_steps, (float)p->alpha, p->lambda, p->exponent,
                                  sc->G, Y, indptr, idx, w, off, t};
    }
    h.sys_avx512 = p->solver == RI_ALS_CHOLESKY && avx512 && !off;
#endif
    return ri_parallel_for(p->threads, n_x, ROW_CHUNK, half_sweep_range, &h);
}

/* One row's system, factored (fold-in, explanations, partial fits): compiled
 * twice like the training solvers, the caller's isa picks the copy. */
RI_HOT static void factor_row(int avx, const float *G, const float *Y, uint32_t d,
                              const uint32_t *items, const float *weights, size_t n,
                              double alpha, double lambda, const float *off, const float *t,
                              double *A, double *b)
{
    (void)avx;
    build_row_system(G, Y, d, items, weights, n, alpha, lambda, off, t, A, b);
    cholesky_packed(A, d, b + d);
}

RI_AVX2_CLONES(factor_row_isa, factor_row,
               (const float *G, const float *Y, uint32_t d, const uint32_t *items,
                const float *weights, size_t n, double alpha, double lambda, const float *off,
                const float *t, double *A, double *b),
               (G, Y, d, items, weights, n, alpha, lambda, off, t, A, b))

#if RI_CAN_TARGET_AVX2
RI_TARGET_AVX2 static void cholesky_avx2(double *A, uint32_t d, double *col)
{
    cholesky_packed(A, d, col);
}
#endif

void ri_als_factor_row(ri_isa isa, const float *G, const float *Y, uint32_t d,
                       const uint32_t *items, const float *weights, size_t n, double alpha,
                       double lambda, const float *off, const float *t, double *A, double *b)
{
#if RI_CAN_TARGET_AVX2
    if (isa >= RI_ISA_AVX512 && d <= RI_ALS_CG_AVX512_MAX_DIM && !off) {
        ri_als_row_system_avx512(G, Y, d, items, weights, n, alpha, lambda, A, b);
        cholesky_avx2(A, d, b + d);
        return;
    }
#endif
    factor_row_isa(isa >= RI_ISA_AVX2, G, Y, d, items, weights, n, alpha, lambda, off, t, A, b);
}

void ri_als_augment(const float *X, const float *bias, uint32_t n, uint32_t d, float *Xh, float *Gh,
                    float *t)
{
    const uint32_t D = d + 1;
    for (size_t r = 0; r < n; r++) {
        memcpy(Xh + r * D, X + r * d, (size_t)d * sizeof(float));
        Xh[r * D + d] = 1;
    }
    /* column by column, so that each sum runs in double without a buffer */
    for (uint32_t k = 0; k < D; k++) {
        double acc = 0;
        for (size_t r = 0; r < n; r++)
            acc += (double)bias[r] * Xh[r * D + k];
        t[k] = (float)acc;
    }
    ri_als_gram(Xh, n, D, Gh);
}
