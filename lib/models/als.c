/* Kind "als": implicit-feedback alternating least squares (Hu, Koren & Volinsky
 * 2008), R = U V^T.
 *
 * Every (user, item) pair is a preference p (1 for a training row, 0 otherwise)
 * with a confidence c: c = 1 + alpha * weight for a training row, 1 otherwise.
 * The convention is Hu's; the `implicit` package takes alpha * weight itself as
 * the confidence, so at weight 1 its alpha = 2 is alpha = 1 here.
 * The objective is
 *   sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + sum_u lambda_u |x_u|^2 + sum_i lambda_i |y_i|^2,
 * lambda_r = regularization * max(n_r, 1)^regularization_exponent for a row
 * with n_r training rows (exponent 0: plain L2; Rendle et al. 2021 scale it by
 * frequency).
 *
 * With the other side Y fixed, row x solves the normal equations
 *   (Y^T Y + sum_{j in rows} (c_j - 1) y_j y_j^T + lambda I) x = sum_j c_j y_j,
 * where the Gram Y^T Y is shared by all rows: it is computed once per half
 * sweep (BLIS), so a row costs O(n_r dim^2 + dim^3) (Cholesky) or
 * O(steps (dim^2 + n_r dim)) (conjugate gradient warm-started from the row's
 * previous value, which is why a few steps per sweep suffice). Every row reads
 * only the other side and its own previous value, so results do not depend on
 * the thread count or schedule. */
#include <blis.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "als_internal.h"
#include "model_internal.h"
#include "parallel.h"
#include "topk.h"
#include "rng.h"

#define TAG_DIM "ALSDIM"
#define TAG_USER "ALSUSER"
#define TAG_ITEM "ALSITEM"
#define TAG_UBIAS "ALSUBIAS" /* biases=true only */
#define TAG_IBIAS "ALSIBIAS"

/* Initial factors ~ N(0, INIT_STD^2): small enough that the first solves are
 * dominated by the data, nonzero so that the two sides are not stuck at 0. */
#define INIT_STD 0.01

/* Rows handed to a worker at a time: rows differ a lot in length, so hand out
 * small chunks dynamically. */
#define ROW_CHUNK 32

typedef enum { SOLVER_CG = 0, SOLVER_CHOLESKY = 1 } als_solver; /* params.def order */



typedef struct {
    uint32_t dim, iterations, cg_steps;
    double lambda, exponent, alpha;
    int biases;
    als_solver solver;
    unsigned threads;
    uint64_t seed;
    ri_isa isa; /* of the row solvers: the model's isa key, as serving reads it */
} als_params;

static void als_destroy(void *state)
{
    ri_als_state *s = state;
    if (!s)
        return;
    free(s->U);
    free(s->V);
    free(s->G);
    free(s->ub);
    free(s->ib);
    free(s);
}

static ri_als_state *state_alloc(uint32_t n_users, uint32_t n_items, uint32_t dim)
{
    ri_als_state *s = RI_NEW_ZEROED(ri_als_state, 1);
    if (!s)
        return NULL;
    s->n_users = n_users;
    s->n_items = n_items;
    s->dim = dim;
    s->U = ri_malloc_array((size_t)(n_users ? n_users : 1), (size_t)dim * sizeof(float));
    s->V = ri_malloc_array((size_t)n_items, (size_t)dim * sizeof(float));
    s->G = ri_malloc_array((size_t)dim, (size_t)dim * sizeof(float));
    if (!s->U || !s->V || !s->G) {
        als_destroy(s);
        return NULL;
    }
    return s;
}

static int state_add_biases(ri_als_state *s)
{
    s->ub = RI_NEW_ZEROED(float, s->n_users ? s->n_users : 1);
    s->ib = RI_NEW_ZEROED(float, s->n_items ? s->n_items : 1);
    return s->ub && s->ib ? RECINT_OK : RECINT_ENOMEM;
}

static int als_check_config(const recint_config *cfg)
{
    if (!(ri_cfg_float(cfg, RI_P_REGULARIZATION) > 0))
        return ri_error(RECINT_EINVAL,
                        "als: regularization must be > 0 (the per-row systems need it to be "
                        "positive definite), got %g", ri_cfg_float(cfg, RI_P_REGULARIZATION));
    return RECINT_OK;
}

/* The trainer's config decides the thread count when it sets one; else the model's. */
static als_params read_params(const ri_fit_args *a)
{
    const recint_config *mc = a->model->cfg;
    als_params p;
    p.dim = (uint32_t)ri_cfg_int(mc, RI_P_DIM);
    p.iterations = (uint32_t)ri_cfg_int(mc, RI_P_ITERATIONS);
    if (a->train_cfg && ri_cfg_is_set(a->train_cfg, RI_P_ITERATIONS))
        p.iterations = (uint32_t)ri_cfg_int(a->train_cfg, RI_P_ITERATIONS);
    p.cg_steps = (uint32_t)ri_cfg_int(mc, RI_P_CG_STEPS);
    p.lambda = ri_cfg_float(mc, RI_P_REGULARIZATION);
    p.exponent = ri_cfg_float(mc, RI_P_REGULARIZATION_EXPONENT);
    p.alpha = ri_cfg_float(mc, RI_P_ALPHA);
    p.biases = ri_cfg_bool(mc, RI_P_BIASES);
    p.solver = ri_cfg_choice(mc, RI_P_SOLVER) == SOLVER_CHOLESKY ? SOLVER_CHOLESKY : SOLVER_CG;
    const recint_config *tc =
        a->train_cfg && ri_cfg_is_set(a->train_cfg, RI_P_THREADS) ? a->train_cfg : mc;
    p.threads = ri_threads_resolve(ri_cfg_int(tc, RI_P_THREADS));
    p.seed = (uint64_t)ri_cfg_int(mc, RI_P_SEED);
    /* at_load: a level this CPU lacks falls back instead of failing; the fit
     * only gets faster with it. */
    if (ri_serving_isa(mc, 1, &p.isa) != RECINT_OK)
        p.isa = RI_ISA_SCALAR;
    return p;
}

/* G = Y^T Y (dim x dim, row-major) for Y rows x dim, BLIS in the calling thread:
 * the runtime object is local, so the process's BLIS settings are untouched. */
static void gram(const float *Y, uint32_t rows, uint32_t dim, float *G)
{
    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    bli_rntm_set_num_threads(1, &rntm);
    float one = 1.0f, zero = 0.0f;
    /* Y^T is Y read with swapped strides. */
    bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)dim, (dim_t)dim, (dim_t)rows, &one,
                 (float *)Y, 1, (inc_t)dim, (float *)Y, (inc_t)dim, 1, &zero, G, (inc_t)dim, 1,
                 NULL, &rntm);
}

/* The per-row solvers are compiled twice: for the baseline instruction set and,
 * on x86-64, for AVX2 (wider vectors for the dot products and updates, the
 * bulk of a fit). Inlining them into each entry point gives each its own copy. */
#if defined(__GNUC__)
#define RI_HOT inline __attribute__((always_inline))
#else
#define RI_HOT inline
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define ALS_HAVE_AVX2 1
#else
#define ALS_HAVE_AVX2 0
#endif

/* One half sweep: every row of X (n_rows x dim) solved against Y. */
typedef struct {
    const als_params *p;
    float *X;
    const float *Y;
    const float *G;
    const uint64_t *indptr;
    const uint32_t *idx;
    const float *w; /* NULL: every weight 1 */
    const float *off, *t; /* biases: as in ri_als_cg_task (else NULL) */
    int avx2;       /* use the AVX2 copy of the solvers */
    int cg_avx512;  /* cg through ri_als_cg_avx512 (task) */
    ri_als_cg_task task;
    double *dscratch; /* per worker: cholesky_scratch_len(dim) doubles */
    float *fscratch;  /* per worker: 3 * dim floats (cg) */
} half_sweep;

static double row_lambda(const als_params *p, uint64_t n)
{
    return ri_als_row_lambda(p->lambda, p->exponent, n);
}

static size_t tri_len(uint32_t d)
{
    return (size_t)d * (d + 1) / 2;
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
        double *Ar = A + tri_len(r);
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
            double *Ar = A + tri_len(r);
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
        double *pivot = A + tri_len(k) + k;
        const double l = sqrt(*pivot > 1e-300 ? *pivot : 1e-300);
        *pivot = l;
        for (uint32_t r = k + 1; r < d; r++) {
            double *Ark = A + tri_len(r) + k;
            *Ark /= l;
            col[r] = *Ark;
        }
        for (uint32_t r = k + 1; r < d; r++) {
            double *Ar = A + tri_len(r);
            const double lr = col[r];
            for (uint32_t c = k + 1; c <= r; c++)
                Ar[c] -= lr * col[c];
        }
    }
}

/* x = (L L^T)^{-1} x in place. */
static void cholesky_solve_packed(const double *L, uint32_t d, double *x)
{
    for (uint32_t r = 0; r < d; r++) {
        const double *Lr = L + tri_len(r);
        double sum = x[r];
        for (uint32_t k = 0; k < r; k++)
            sum -= Lr[k] * x[k];
        x[r] = sum / Lr[r];
    }
    for (uint32_t r = d; r-- > 0;) {
        double sum = x[r];
        for (uint32_t k = r + 1; k < d; k++)
            sum -= L[tri_len(k) + r] * x[k];
        x[r] = sum / L[tri_len(r) + r];
    }
}

/* Workspace of solve_cholesky: the packed system, right-hand side and a column. */
static size_t cholesky_scratch_len(uint32_t d) { return tri_len(d) + 2 * (size_t)d; }

/* Exact solve of a training row in double: the shared system, packed Cholesky,
 * two triangular solves. A holds cholesky_scratch_len(d) doubles. */
RI_HOT static void solve_cholesky(const half_sweep *h, size_t row, double *A)
{
    const uint32_t d = h->p->dim;
    const uint64_t beg = h->indptr[row], end = h->indptr[row + 1];
    double *b = A + tri_len(d);
    build_row_system(h->G, h->Y, d, h->idx + beg, h->w ? h->w + beg : NULL, (size_t)(end - beg),
                     h->p->alpha, row_lambda(h->p, end - beg), h->off, h->t, A, b);
    cholesky_packed(A, d, b + d);
    cholesky_solve_packed(A, d, b);
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

RI_HOT static void solve_rows(const half_sweep *h, size_t begin, size_t end, unsigned worker)
{
    const uint32_t d = h->p->dim;
    for (size_t row = begin; row < end; row++) {
        if (h->p->solver == SOLVER_CHOLESKY) {
            solve_cholesky(h, row, h->dscratch + (size_t)worker * cholesky_scratch_len(d));
        } else {
            solve_cg(h, row, h->fscratch + (size_t)worker * 3 * d);
        }
    }
}

static void solve_rows_baseline(const half_sweep *h, size_t begin, size_t end, unsigned worker)
{
    solve_rows(h, begin, end, worker);
}

#if ALS_HAVE_AVX2
__attribute__((target("avx2,fma"))) static void solve_rows_avx2(const half_sweep *h, size_t begin,
                                                             size_t end, unsigned worker)
{
    solve_rows(h, begin, end, worker);
}
#endif

static int half_sweep_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    const half_sweep *h = ctx;
    if (h->cg_avx512) {
        ri_als_cg_avx512(&h->task, h->X, begin, end);
        return RECINT_OK;
    }
#if ALS_HAVE_AVX2
    if (h->avx2) {
        solve_rows_avx2(h, begin, end, worker);
        return RECINT_OK;
    }
#endif
    solve_rows_baseline(h, begin, end, worker);
    return RECINT_OK;
}

/* Scratch of all workers for one fit. */
typedef struct {
    float *G;
    double *dscratch;
    float *fscratch;
} fit_scratch;

static void scratch_free(fit_scratch *s)
{
    free(s->G);
    free(s->dscratch);
    free(s->fscratch);
}

static int scratch_alloc(fit_scratch *s, const als_params *p)
{
    const size_t d = p->dim;
    memset(s, 0, sizeof *s);
    s->G = ri_malloc_array(d * d, sizeof(float));
    if (p->solver == SOLVER_CHOLESKY)
        s->dscratch = ri_malloc_array(p->threads, cholesky_scratch_len(p->dim) * sizeof(double));
    else
        s->fscratch = ri_malloc_array(p->threads, 3 * d * sizeof(float));
    if (!s->G || (!s->dscratch && !s->fscratch)) {
        scratch_free(s);
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for scratch of %u threads at dim %u",
                        p->threads, p->dim);
    }
    return RECINT_OK;
}

/* Rows of X (n_x x p->dim) solved against Y (n_y x p->dim); off and t: biases
 * (ri_als_cg_task), else NULL. */
static int solve_side(const als_params *p, fit_scratch *sc, float *X, uint32_t n_x,
                      const float *Y, uint32_t n_y, const uint64_t *indptr, const uint32_t *idx,
                      const float *w, const float *off, const float *t)
{
    gram(Y, n_y, p->dim, sc->G);
    half_sweep h = {p, X, Y, sc->G, indptr, idx, w, off, t, p->isa >= RI_ISA_AVX2, 0, {0},
                    sc->dscratch, sc->fscratch};
#if ALS_HAVE_AVX2
    if (p->solver == SOLVER_CG && p->isa >= RI_ISA_AVX512 && p->dim <= RI_ALS_CG_AVX512_MAX_DIM) {
        h.cg_avx512 = 1;
        h.task = (ri_als_cg_task){p->dim, p->cg_steps, (float)p->alpha, p->lambda, p->exponent,
                                  sc->G, Y, indptr, idx, w, off, t};
    }
#endif
    return ri_parallel_for(p->threads, n_x, ROW_CHUNK, half_sweep_range, &h);
}

/* Weights must keep every confidence >= 1 (A positive definite), so they must
 * be finite and nonnegative. */
static int check_weights(const float *w, uint64_t nnz)
{
    for (uint64_t j = 0; w && j < nnz; j++)
        if (!(w[j] >= 0) || !isfinite(w[j]))
            return ri_error(RECINT_EINVAL,
                            "als: interaction %llu has weight %g; als needs finite "
                            "weights >= 0 (confidence 1 + alpha*weight)",
                            (unsigned long long)j, (double)w[j]);
    return RECINT_OK;
}

/* Rows drawn from one random stream when initialising: blocks are drawn on the
 * library's threads (at P3-M sizes one thread's normals cost as much as half
 * an iteration), each from its own stream, so the values do not depend on the
 * thread count. Side s (0 users, 1 items) block b uses stream
 * RI_STREAM_TRAIN + s + 2 b. */
#define INIT_BLOCK_ROWS 4096

typedef struct {
    float *a;
    size_t rows;
    uint32_t dim;
    uint64_t seed, side;
} init_job;

static int init_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const init_job *j = ctx;
    for (size_t b = begin; b < end; b++) {
        ri_rng rng;
        ri_rng_seed(&rng, j->seed, RI_STREAM_TRAIN + j->side + 2 * (uint64_t)b);
        size_t r1 = (b + 1) * INIT_BLOCK_ROWS < j->rows ? (b + 1) * INIT_BLOCK_ROWS : j->rows;
        float *a = j->a + b * INIT_BLOCK_ROWS * j->dim;
        for (size_t k = 0, n = (r1 - b * INIT_BLOCK_ROWS) * j->dim; k < n; k++)
            a[k] = (float)(INIT_STD * ri_rng_normal(&rng));
    }
    return RECINT_OK;
}

static int init_factors(const als_params *p, float *a, size_t rows, uint64_t side)
{
    init_job j = {a, rows, p->dim, p->seed, side};
    return ri_parallel_for(p->threads, (rows + INIT_BLOCK_ROWS - 1) / INIT_BLOCK_ROWS, 1,
                           init_range, &j);
}

/* ------------------------------------------------------------------------ */
/* Training objective on request (compute_loss)                             */
/* ------------------------------------------------------------------------ */

/* Rows per partial sum: the sums are added in row order afterwards, so the
 * loss does not depend on the thread schedule. */
#define LOSS_CHUNK 256

typedef struct {
    const als_params *p;
    const float *X, *Y;
    const uint64_t *ptr;
    const uint32_t *idx;
    const float *w;
    const float *xb, *yb; /* biases of the two sides (NULL: none) */
    int observed; /* add the observed pairs' correction (user side) */
    double *partial;
} loss_job;

/* Rows [begin, end): lambda_r |x_r|^2, and with observed the observed pairs'
 * part beyond the all-pairs sum of s^2: c (1 - s)^2 - s^2. */
static int loss_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const loss_job *j = ctx;
    const uint32_t d = j->p->dim;
    double sum = 0;
    for (size_t r = begin; r < end; r++) {
        const float *x = j->X + r * d;
        double xx = 0;
        for (uint32_t k = 0; k < d; k++)
            xx += (double)x[k] * x[k];
        if (j->xb)
            xx += (double)j->xb[r] * j->xb[r];
        sum += row_lambda(j->p, j->ptr[r + 1] - j->ptr[r]) * xx;
        for (uint64_t e = j->ptr[r]; j->observed && e < j->ptr[r + 1]; e++) {
            const float *y = j->Y + (size_t)j->idx[e] * d;
            double s = 0;
            for (uint32_t k = 0; k < d; k++)
                s += (double)x[k] * y[k];
            if (j->xb)
                s += (double)j->xb[r] + j->yb[j->idx[e]];
            const double c = 1.0 + j->p->alpha * (j->w ? j->w[e] : 1.0f);
            sum += c * (1 - s) * (1 - s) - s * s;
        }
    }
    j->partial[begin / LOSS_CHUNK] = sum;
    return RECINT_OK;
}

/* With biases, sum over all pairs of (x_u.y_i + b_u + b_i)^2 minus the
 * (x_u.y_i)^2 part: 2 (sum_u b_u x_u).(sum_i y_i) + 2 (sum_u x_u).(sum_i b_i y_i)
 * + n_items sum b_u^2 + n_users sum b_i^2 + 2 (sum b_u)(sum b_i). */
static double bias_pairs(const ri_als_state *s, uint32_t d, double *acc /* 4 d */)
{
    double *sbx = acc, *sx = acc + d, *sby = acc + 2 * (size_t)d, *sy = acc + 3 * (size_t)d;
    for (size_t k = 0; k < 4 * (size_t)d; k++)
        acc[k] = 0;
    double bu2 = 0, bi2 = 0, bu = 0, bi = 0;
    for (size_t u = 0; u < s->n_users; u++) {
        const float *x = s->U + u * d;
        for (uint32_t k = 0; k < d; k++) {
            sbx[k] += (double)s->ub[u] * x[k];
            sx[k] += x[k];
        }
        bu += s->ub[u];
        bu2 += (double)s->ub[u] * s->ub[u];
    }
    for (size_t i = 0; i < s->n_items; i++) {
        const float *y = s->V + i * d;
        for (uint32_t k = 0; k < d; k++) {
            sby[k] += (double)s->ib[i] * y[k];
            sy[k] += y[k];
        }
        bi += s->ib[i];
        bi2 += (double)s->ib[i] * s->ib[i];
    }
    double cross = 0;
    for (uint32_t k = 0; k < d; k++)
        cross += sbx[k] * sy[k] + sx[k] * sby[k];
    return 2 * cross + (double)s->n_items * bu2 + (double)s->n_users * bi2 + 2 * bu * bi;
}

/* The objective at the top of this file, exactly: over all pairs, c = 1 and
 * p = 0 give sum_{u,i} (x_u . y_i)^2 = sum_{a,b} (U^T U)_ab (V^T V)_ab, and
 * the observed pairs are corrected one by one: O(nnz dim + (n_users + n_items) dim^2). */
static int training_loss(const als_params *p, const ri_als_state *s, const uint64_t *r_ptr,
                         const uint32_t *r_idx, const float *r_w, const uint64_t *c_ptr,
                         double *out)
{
    const uint32_t d = p->dim;
    const size_t nu_chunks = ((size_t)s->n_users + LOSS_CHUNK - 1) / LOSS_CHUNK;
    const size_t ni_chunks = ((size_t)s->n_items + LOSS_CHUNK - 1) / LOSS_CHUNK;
    float *GU = ri_malloc_array((size_t)d * d, 2 * sizeof(float));
    /* partial sums, then 4 dim accumulators of bias_pairs */
    double *partial = RI_NEW_ZEROED(double, nu_chunks + ni_chunks + 4 * (size_t)d + 1);
    if (!GU || !partial) {
        free(GU);
        free(partial);
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for the training loss at dim %u", d);
    }
    float *GV = GU + (size_t)d * d;
    gram(s->U, s->n_users, d, GU);
    gram(s->V, s->n_items, d, GV);
    loss_job ju = {p, s->U, s->V, r_ptr, r_idx, r_w, s->ub, s->ib, 1, partial};
    loss_job ji = {p, s->V, NULL, c_ptr, NULL, NULL, s->ib, NULL, 0, partial + nu_chunks};
    int rc = ri_parallel_for(p->threads, s->n_users, LOSS_CHUNK, loss_range, &ju);
    if (rc == RECINT_OK)
        rc = ri_parallel_for(p->threads, s->n_items, LOSS_CHUNK, loss_range, &ji);
    double total = 0;
    for (size_t k = 0; k < (size_t)d * d; k++)
        total += (double)GU[k] * GV[k];
    if (s->ub)
        total += bias_pairs(s, d, partial + nu_chunks + ni_chunks);
    for (size_t c = 0; c < nu_chunks + ni_chunks; c++)
        total += partial[c];
    free(GU);
    free(partial);
    *out = total;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Biases                                                                   */
/* ------------------------------------------------------------------------ */

/* With biases a user's unknowns are [x, b_u] and the prediction for item i is
 * [x, b_u] . [y_i, 1] + b_i: the same row problem in dim + 1 coordinates
 * against [y, 1], with b_i as a fixed offset of every target (the solvers'
 * off and t). The fit keeps both sides as [vector, bias] rows. */
typedef struct {
    float *Ua, *Va; /* n x D rows [vector, bias] */
    float *Yh;      /* the side solved against, as [vector, 1] */
    float *off;     /* its biases */
    float *t;       /* D: sum_i off_i [y_i, 1] */
    double *tacc;
} bias_work;

static void bias_work_free(bias_work *b)
{
    free(b->Ua);
    free(b->Va);
    free(b->Yh);
    free(b->off);
    free(b->t);
    free(b->tacc);
}

static int bias_work_alloc(bias_work *b, uint32_t n_users, uint32_t n_items, uint32_t D)
{
    const size_t most = n_users > n_items ? n_users : n_items;
    b->Ua = ri_malloc_array((size_t)n_users, (size_t)D * sizeof(float));
    b->Va = ri_malloc_array((size_t)n_items, (size_t)D * sizeof(float));
    b->Yh = ri_malloc_array(most, (size_t)D * sizeof(float));
    b->off = RI_NEW_ARRAY(float, most);
    b->t = RI_NEW_ARRAY(float, D);
    b->tacc = RI_NEW_ARRAY(double, D);
    if (!b->Ua || !b->Va || !b->Yh || !b->off || !b->t || !b->tacc) {
        bias_work_free(b);
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for the bias copies of %u users "
                        "and %u items at dim %u", n_users, n_items, D - 1);
    }
    return RECINT_OK;
}

static void join_bias(const float *X, uint32_t n, uint32_t d, float *Xa)
{
    for (size_t r = 0; r < n; r++) {
        memcpy(Xa + r * (d + 1), X + r * d, (size_t)d * sizeof(float));
        Xa[r * (d + 1) + d] = 0;
    }
}

static void split_bias(const float *Xa, uint32_t n, uint32_t d, float *X, float *bias)
{
    for (size_t r = 0; r < n; r++) {
        memcpy(X + r * d, Xa + r * (d + 1), (size_t)d * sizeof(float));
        bias[r] = Xa[r * (d + 1) + d];
    }
}

/* Yh, off and t of the side Xa (n rows of D) for solving the other side. */
static void prepare_other(const float *Xa, uint32_t n, uint32_t D, bias_work *b)
{
    for (uint32_t k = 0; k < D; k++)
        b->tacc[k] = 0;
    for (size_t r = 0; r < n; r++) {
        float *y = b->Yh + r * D;
        memcpy(y, Xa + r * D, (size_t)(D - 1) * sizeof(float));
        y[D - 1] = 1;
        const float o = Xa[r * D + D - 1];
        b->off[r] = o;
        for (uint32_t k = 0; k < D; k++)
            b->tacc[k] += (double)o * y[k];
    }
    for (uint32_t k = 0; k < D; k++)
        b->t[k] = (float)b->tacc[k];
}

static int als_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    const als_params p = read_params(a);
    const int want_loss = ri_cfg_bool(ri_fit_cfg(a, RI_P_COMPUTE_LOSS), RI_P_COMPUTE_LOSS);
    const uint32_t n_users = recint_dataset_n_users(a->train);
    const uint32_t n_items = recint_dataset_n_items(a->train);
    const uint64_t *r_ptr, *c_ptr;
    const uint32_t *r_idx, *c_idx;
    const float *r_w, *c_w;
    int rc = recint_dataset_csr(a->train, &r_ptr, &r_idx, &r_w, NULL);
    if (rc == RECINT_OK)
        rc = recint_dataset_csc(a->train, &c_ptr, &c_idx, &c_w);
    if (rc == RECINT_OK)
        rc = check_weights(r_w, r_ptr[n_users]);
    if (rc)
        return rc;
    ri_als_state *s = state_alloc(n_users, n_items, p.dim);
    if (s && p.biases && state_add_biases(s) != RECINT_OK) {
        als_destroy(s);
        s = NULL;
    }
    if (!s)
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for %u users and %u items of dim %u",
                        n_users, n_items, p.dim);
    /* with biases the rows solved have one more coordinate */
    als_params pw = p;
    pw.dim = p.dim + (p.biases ? 1 : 0);
    fit_scratch sc;
    bias_work bw = {0};
    rc = scratch_alloc(&sc, &pw);
    if (rc == RECINT_OK && p.biases)
        rc = bias_work_alloc(&bw, n_users, n_items, pw.dim);
    if (rc) {
        scratch_free(&sc);
        als_destroy(s);
        return rc;
    }
    rc = init_factors(&p, s->U, n_users, 0);
    if (rc == RECINT_OK)
        rc = init_factors(&p, s->V, n_items, 1);
    if (rc == RECINT_OK && p.biases) {
        join_bias(s->U, n_users, p.dim, bw.Ua);
        join_bias(s->V, n_items, p.dim, bw.Va);
    }
    for (uint32_t it = 0; rc == RECINT_OK && it < p.iterations; it++) {
        if (p.biases) {
            prepare_other(bw.Va, n_items, pw.dim, &bw);
            rc = solve_side(&pw, &sc, bw.Ua, n_users, bw.Yh, n_items, r_ptr, r_idx, r_w, bw.off,
                            bw.t);
            if (rc == RECINT_OK) {
                prepare_other(bw.Ua, n_users, pw.dim, &bw);
                rc = solve_side(&pw, &sc, bw.Va, n_items, bw.Yh, n_users, c_ptr, c_idx, c_w,
                                bw.off, bw.t);
            }
            if (rc == RECINT_OK) {
                split_bias(bw.Ua, n_users, p.dim, s->U, s->ub);
                split_bias(bw.Va, n_items, p.dim, s->V, s->ib);
            }
        } else {
            rc = solve_side(&p, &sc, s->U, n_users, s->V, n_items, r_ptr, r_idx, r_w, NULL, NULL);
            if (rc == RECINT_OK)
                rc = solve_side(&p, &sc, s->V, n_items, s->U, n_users, c_ptr, c_idx, c_w, NULL,
                                NULL);
        }
        double loss = NAN;
        if (rc == RECINT_OK && want_loss && a->progress)
            rc = training_loss(&p, s, r_ptr, r_idx, r_w, c_ptr, &loss);
        if (rc == RECINT_OK && a->progress && a->progress(a->ctx, it + 1, p.iterations, loss) != 0)
            rc = ri_error(RECINT_ECANCELED,
                          "als fit: canceled by the progress callback after iteration %u of %u",
                          it + 1, p.iterations);
    }
    scratch_free(&sc);
    bias_work_free(&bw);
    if (rc) {
        /* A canceled fit keeps the model's previous state, not a partial one. */
        als_destroy(s);
        return rc;
    }
    gram(s->V, n_items, p.dim, s->G);
    *state_out = s;
    return RECINT_OK;
}

static int als_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const ri_als_state *s = state;
    out->dim = s->dim;
    out->item_mat = s->V;
    out->item_stride = s->dim;
    out->item_bias = s->ib;
    out->user_mat = s->U;
    out->user_stride = s->dim;
    return RECINT_OK;
}

static int als_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    const ri_als_state *s = state;
    (void)m;
    int rc = ri_fmt_add(w, TAG_DIM, RI_FMT_U32, &s->dim, sizeof s->dim);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_USER, RI_FMT_F32, s->U,
                        (uint64_t)s->n_users * s->dim * sizeof(float));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_ITEM, RI_FMT_F32, s->V,
                        (uint64_t)s->n_items * s->dim * sizeof(float));
    if (rc == RECINT_OK && s->ub)
        rc = ri_fmt_add(w, TAG_UBIAS, RI_FMT_F32, s->ub, (uint64_t)s->n_users * sizeof(float));
    if (rc == RECINT_OK && s->ib)
        rc = ri_fmt_add(w, TAG_IBIAS, RI_FMT_F32, s->ib, (uint64_t)s->n_items * sizeof(float));
    return rc;
}

/* rows x dim floats of section tag, all finite, copied into dst. */
static int load_block(const ri_fmt_reader *r, const char *tag, uint32_t rows, uint32_t dim,
                      float *dst)
{
    const void *d;
    const uint64_t n = (uint64_t)rows * dim;
    int rc = ri_fmt_array(r, tag, RI_FMT_F32, n, &d, NULL);
    if (rc)
        return rc;
    const float *src = d;
    for (uint64_t k = 0; k < n; k++)
        if (!isfinite(src[k]))
            return ri_error(RECINT_EFORMAT, "%s: section %s: value [%llu][%llu] is not finite",
                            r->name, tag, (unsigned long long)(k / dim),
                            (unsigned long long)(k % dim));
    if (n)
        memcpy(dst, src, (size_t)n * sizeof(float));
    return RECINT_OK;
}

static int als_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    const void *d;
    int rc = ri_fmt_array(r, TAG_DIM, RI_FMT_U32, 1, &d, NULL);
    if (rc)
        return rc;
    uint32_t dim;
    memcpy(&dim, d, sizeof dim);
    uint32_t want = (uint32_t)ri_cfg_int(m->cfg, RI_P_DIM);
    if (dim != want)
        return ri_error(RECINT_EFORMAT, "%s: section %s: dim %u differs from the saved config's dim %u",
                        r->name, TAG_DIM, dim, want);
    /* The element counts are checked against the file before allocating, so a
     * damaged size cannot ask for more memory than the file holds. */
    rc = ri_fmt_array(r, TAG_USER, RI_FMT_F32, (uint64_t)m->n_users * dim, &d, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_ITEM, RI_FMT_F32, (uint64_t)m->n_items * dim, &d, NULL);
    if (rc)
        return rc;
    ri_als_state *s = state_alloc(m->n_users, m->n_items, dim);
    if (!s)
        return ri_error(RECINT_ENOMEM, "als load: out of memory for %u users and %u items of dim %u",
                        m->n_users, m->n_items, dim);
    rc = load_block(r, TAG_USER, m->n_users, dim, s->U);
    if (rc == RECINT_OK)
        rc = load_block(r, TAG_ITEM, m->n_items, dim, s->V);
    /* the saved config says whether the file has biases */
    if (rc == RECINT_OK && ri_cfg_bool(m->cfg, RI_P_BIASES)) {
        rc = state_add_biases(s);
        if (rc)
            rc = ri_error(RECINT_ENOMEM, "als load: out of memory for the biases");
        if (rc == RECINT_OK)
            rc = load_block(r, TAG_UBIAS, m->n_users, 1, s->ub);
        if (rc == RECINT_OK)
            rc = load_block(r, TAG_IBIAS, m->n_items, 1, s->ib);
    }
    if (rc) {
        als_destroy(s);
        return rc;
    }
    gram(s->V, m->n_items, dim, s->G);
    *state_out = s;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Exact single-row solves: fold-in and explanations                        */
/* ------------------------------------------------------------------------ */

/* These run against a const model from any thread, so the system is kept as a
 * packed lower triangle in double (row r starts at r (r + 1) / 2): at dim 128
 * the whole workspace is 67 KiB, small enough for the caller's stack. */
#define ROW_STACK_DIM 128

/* The system of a row with the other side's rows items[0..n) (Y, Gram G), as
 * in training. */
RI_HOT static void row_system(const recint_model *m, const float *G, const float *Y, uint32_t d,
                              const uint32_t *items, const float *weights, size_t n, double *A,
                              double *b)
{
    const double lambda = ri_als_row_lambda(ri_cfg_float(m->cfg, RI_P_REGULARIZATION),
                                            ri_cfg_float(m->cfg, RI_P_REGULARIZATION_EXPONENT), n);
    build_row_system(G, Y, d, items, weights, n, ri_cfg_float(m->cfg, RI_P_ALPHA), lambda, NULL,
                     NULL, A, b);
}

/* The system of a row, factored: the bulk of a fold-in, so compiled twice like
 * the training solvers (the serving isa of the model picks the copy). */
RI_HOT static void factor_row(const recint_model *m, const float *G, const float *Y, uint32_t d,
                              const uint32_t *items, const float *weights, size_t n, double *A,
                              double *b)
{
    row_system(m, G, Y, d, items, weights, n, A, b);
    cholesky_packed(A, d, b + d);
}

static void factor_row_baseline(const recint_model *m, const float *G, const float *Y, uint32_t d,
                                const uint32_t *items, const float *weights, size_t n, double *A,
                                double *b)
{
    factor_row(m, G, Y, d, items, weights, n, A, b);
}

#if ALS_HAVE_AVX2
__attribute__((target("avx2,fma"))) static void
factor_row_avx2(const recint_model *m, const float *G, const float *Y, uint32_t d,
                const uint32_t *items, const float *weights, size_t n, double *A, double *b)
{
    factor_row(m, G, Y, d, items, weights, n, A, b);
}
#endif

static void factor_row_best(const recint_model *m, const float *G, const float *Y, uint32_t d,
                            const uint32_t *items, const float *weights, size_t n, double *A,
                            double *b)
{
#if ALS_HAVE_AVX2
    if (m->serve.isa >= RI_ISA_AVX2) {
        factor_row_avx2(m, G, Y, d, items, weights, n, A, b);
        return;
    }
#endif
    factor_row_baseline(m, G, Y, d, items, weights, n, A, b);
}

/* Workspace of tri_len(dim) + 2 dim doubles (A, right-hand side, column): the stack buffer up to
 * ROW_STACK_DIM, else one allocation (*heap, to be freed). */
static double *row_workspace(double *stack, uint32_t d, double **heap)
{
    *heap = NULL;
    if (d <= ROW_STACK_DIM)
        return stack;
    *heap = ri_malloc_array(tri_len(d) + 2 * (size_t)d, sizeof(double));
    if (!*heap)
        ri_error(RECINT_ENOMEM, "als: out of memory for the workspace of a row solve at dim %u", d);
    return *heap;
}

#define ROW_STACK_DOUBLES (ROW_STACK_DIM * (ROW_STACK_DIM + 1) / 2 + 2 * ROW_STACK_DIM)

/* Fold-in, explanations and partial fits solve rows without the other side's
 * biases (yet): refused for a model with biases rather than answered wrongly. */
static int refuse_biases(const ri_als_state *s, const char *what)
{
    if (!s->ub)
        return RECINT_OK;
    return ri_error(RECINT_EUNSUPPORTED, "als: %s is not available for a model fitted with "
                    "biases=true", what);
}

static int als_fold_in(const recint_model *m, const void *state, const uint32_t *items,
                       const float *weights, size_t n, float *out)
{
    const ri_als_state *s = state;
    if (refuse_biases(s, "fold-in"))
        return RECINT_EUNSUPPORTED;
    const uint32_t d = s->dim;
    double stack[ROW_STACK_DOUBLES], *heap;
    double *A = row_workspace(stack, d, &heap);
    if (!A)
        return RECINT_ENOMEM;
    double *b = A + tri_len(d);
    factor_row_best(m, s->G, s->V, d, items, weights, n, A, b);
    cholesky_solve_packed(A, d, b);
    for (uint32_t r = 0; r < d; r++)
        out[r] = (float)b[r];
    free(heap);
    return RECINT_OK;
}

/* The exact row x = A^{-1} b, so y_i . x = sum_j c_j (A^{-1} y_i) . y_j: solving
 * once for z = A^{-1} y_i (A symmetric) gives every contribution as a dot
 * product. The model keeps which items a user had, not their weights, so the
 * history counts with weight 1. */
static int als_explain(const recint_model *m, const void *state, uint32_t user, uint32_t item,
                       uint32_t k, uint32_t *items, float *contributions, uint32_t *n_out,
                       float *score)
{
    const ri_als_state *s = state;
    if (refuse_biases(s, "an explanation"))
        return RECINT_EUNSUPPORTED;
    const uint32_t d = s->dim;
    const uint32_t *hist = m->seen_items + m->seen_indptr[user];
    const uint32_t n = (uint32_t)(m->seen_indptr[user + 1] - m->seen_indptr[user]);
    float *all = RI_NEW_ARRAY(float, n ? n : 1);
    double stack[ROW_STACK_DOUBLES], *heap;
    double *A = all ? row_workspace(stack, d, &heap) : NULL;
    if (!A) {
        free(all);
        return ri_error(RECINT_ENOMEM, "recint_model_explain: out of memory for %u history items "
                        "at dim %u", n, d);
    }
    double *z = A + tri_len(d);
    factor_row_best(m, s->G, s->V, d, hist, NULL, n, A, z);
    const float *yi = s->V + (size_t)item * d;
    for (uint32_t r = 0; r < d; r++)
        z[r] = yi[r];
    cholesky_solve_packed(A, d, z);
    const double conf = 1.0 + ri_cfg_float(m->cfg, RI_P_ALPHA);
    double total = 0;
    for (uint32_t j = 0; j < n; j++) {
        const float *y = s->V + (size_t)hist[j] * d;
        double c = 0;
        for (uint32_t r = 0; r < d; r++)
            c += z[r] * y[r];
        c *= conf;
        total += c;
        all[j] = (float)c;
    }
    /* positions in the history, which is ascending: ties go to the smaller item */
    uint32_t got = ri_topk(all, n, NULL, 0, k, items, contributions);
    for (uint32_t r = 0; r < got; r++)
        items[r] = hist[items[r]];
    *n_out = got;
    if (score)
        *score = (float)total;
    free(all);
    free(heap);
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Partial fit: exact solves of some rows against the current other side     */
/* ------------------------------------------------------------------------ */

typedef struct {
    const recint_model *m;
    const ri_partial_rows *rq;
    const float *G, *Y; /* the other side and its Gram */
    uint32_t d;
    float *out; /* rq->n rows of d */
} partial_job;

static int partial_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const partial_job *j = ctx;
    const uint32_t d = j->d;
    double stack[ROW_STACK_DOUBLES], *heap;
    double *A = row_workspace(stack, d, &heap);
    if (!A)
        return RECINT_ENOMEM;
    double *b = A + tri_len(d);
    for (size_t r = begin; r < end; r++) {
        const uint64_t b0 = j->rq->indptr[r], b1 = j->rq->indptr[r + 1];
        factor_row_best(j->m, j->G, j->Y, d, j->rq->idx + b0, j->rq->w ? j->rq->w + b0 : NULL,
                        (size_t)(b1 - b0), A, b);
        cholesky_solve_packed(A, d, b);
        for (uint32_t k = 0; k < d; k++)
            j->out[r * d + k] = (float)b[k];
    }
    free(heap);
    return RECINT_OK;
}

/* Users are updated in place (serving borrows the user rows; the array grows
 * by realloc, the last step that can fail). Items get a new state: serving
 * keeps its own copies of the item rows, which are rebuilt anyway, and the
 * Gram of the items changes. */
static int als_partial_fit(const recint_model *m, void *state, const ri_partial_rows *rq,
                           void **state_out)
{
    ri_als_state *s = state;
    const uint32_t d = s->dim;
    *state_out = NULL;
    int rc = refuse_biases(s, "a partial fit");
    if (rc == RECINT_OK)
        rc = check_weights(rq->w, rq->indptr[rq->n]);
    if (rc)
        return rc;
    float *out = ri_malloc_array(rq->n ? rq->n : 1, (size_t)d * sizeof(float));
    float *Gu = rq->side ? ri_malloc_array((size_t)d, (size_t)d * sizeof(float)) : NULL;
    if (!out || (rq->side && !Gu)) {
        free(out);
        free(Gu);
        return ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %zu rows of dim %u",
                        rq->n, d);
    }
    if (rq->side)
        gram(s->U, s->n_users, d, Gu);
    partial_job j = {m, rq, rq->side ? Gu : s->G, rq->side ? s->U : s->V, d, out};
    rc = ri_parallel_for(ri_threads_resolve(ri_cfg_int(m->cfg, RI_P_THREADS)), rq->n, 16,
                         partial_range, &j);
    free(Gu);
    if (rc == RECINT_OK && !rq->side) {
        if (rq->new_count > s->n_users) {
            float *U = ri_realloc_array(s->U, rq->new_count, (size_t)d * sizeof(float));
            if (!U)
                rc = ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %u users of dim %u",
                              rq->new_count, d);
            else
                s->U = U;
        }
        if (rc == RECINT_OK) {
            for (size_t r = 0; r < rq->n; r++)
                memcpy(s->U + (size_t)rq->rows[r] * d, out + r * d, (size_t)d * sizeof(float));
            s->n_users = rq->new_count;
            *state_out = s;
        }
    } else if (rc == RECINT_OK) {
        ri_als_state *t = state_alloc(s->n_users, rq->new_count, d);
        if (!t) {
            rc = ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %u users and %u "
                          "items of dim %u", s->n_users, rq->new_count, d);
        } else {
            memcpy(t->U, s->U, (size_t)s->n_users * d * sizeof(float));
            memcpy(t->V, s->V, (size_t)s->n_items * d * sizeof(float));
            for (size_t r = 0; r < rq->n; r++)
                memcpy(t->V + (size_t)rq->rows[r] * d, out + r * d, (size_t)d * sizeof(float));
            gram(t->V, t->n_items, d, t->G);
            *state_out = t;
        }
    }
    free(out);
    return rc;
}

const ri_model_ops ri_als_ops = {
    .name = "als",
    .check_config = als_check_config,
    .destroy = als_destroy,
    .fit = als_fit,
    .linear = als_linear,
    .user_vector = NULL, /* user_mat holds them */
    .fold_in = als_fold_in,
    .explain = als_explain,
    .save_sections = als_save,
    .load_sections = als_load,
    .refit_rows = als_partial_fit,
};
