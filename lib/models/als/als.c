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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "models/als/als_internal.h"
#include "models/model_private.h"
#include "models/model_internal.h"
#include "util/parallel.h"
#include "util/rng.h"

#define TAG_DIM "ALSDIM"
#define TAG_USER "ALSUSER"
#define TAG_ITEM "ALSITEM"
#define TAG_UBIAS "ALSUBIAS" /* biases=true only */
#define TAG_IBIAS "ALSIBIAS"

/* Initial factors ~ N(0, INIT_STD^2): small enough that the first solves are
 * dominated by the data, nonzero so that the two sides are not stuck at 0. */
#define INIT_STD 0.01





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
    free(s->Vh);
    free(s->Gh);
    free(s->th);
    free(s);
}

void ri_als_state_free(ri_als_state *s) { als_destroy(s); }

ri_als_state *ri_als_state_alloc(uint32_t n_users, uint32_t n_items, uint32_t dim)
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

int ri_als_state_add_biases(ri_als_state *s)
{
    s->ub = RI_NEW_ZEROED(float, s->n_users ? s->n_users : 1);
    s->ib = RI_NEW_ZEROED(float, s->n_items ? s->n_items : 1);
    return s->ub && s->ib ? RECINT_OK : RECINT_ENOMEM;
}

int ri_als_state_derive(ri_als_state *s)
{
    if (s->ub) {
        const uint32_t D = s->dim + 1;
        float *Vh = ri_malloc_array(s->n_items ? s->n_items : 1, (size_t)D * sizeof(float));
        float *Gh = ri_malloc_array((size_t)D, (size_t)D * sizeof(float));
        float *th = RI_NEW_ARRAY(float, D);
        if (!Vh || !Gh || !th) {
            free(Vh);
            free(Gh);
            free(th);
            return ri_error(RECINT_ENOMEM, "als: out of memory for the biased item rows of %u "
                            "items at dim %u", s->n_items, s->dim);
        }
        ri_als_augment(s->V, s->ib, s->n_items, s->dim, Vh, Gh, th);
        free(s->Vh);
        free(s->Gh);
        free(s->th);
        s->Vh = Vh;
        s->Gh = Gh;
        s->th = th;
    }
    ri_als_gram(s->V, s->n_items, s->dim, s->G);
    return RECINT_OK;
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
static ri_als_params read_params(const ri_fit_args *a)
{
    const recint_config *mc = a->model->cfg;
    ri_als_params p;
    p.dim = (uint32_t)ri_cfg_int(mc, RI_P_DIM);
    p.iterations = (uint32_t)ri_cfg_int(mc, RI_P_ITERATIONS);
    if (a->train_cfg && ri_cfg_is_set(a->train_cfg, RI_P_ITERATIONS))
        p.iterations = (uint32_t)ri_cfg_int(a->train_cfg, RI_P_ITERATIONS);
    p.cg_steps = (uint32_t)ri_cfg_int(mc, RI_P_CG_STEPS);
    p.lambda = ri_cfg_float(mc, RI_P_REGULARIZATION);
    p.exponent = ri_cfg_float(mc, RI_P_REGULARIZATION_EXPONENT);
    p.alpha = ri_cfg_float(mc, RI_P_ALPHA);
    p.biases = ri_cfg_bool(mc, RI_P_BIASES);
    static const char *const solvers[] = {[RI_ALS_CG] = "cg", [RI_ALS_CHOLESKY] = "cholesky"};
    p.solver = RI_CFG_PICK(mc, RI_P_SOLVER, solvers) == RI_ALS_CHOLESKY ? RI_ALS_CHOLESKY : RI_ALS_CG;
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

/* Weights must keep every confidence >= 1 (A positive definite), so they must
 * be finite and nonnegative. */
int ri_als_check_weights(const float *w, uint64_t nnz)
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

static int init_factors(const ri_als_params *p, float *a, size_t rows, uint64_t side)
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
    const ri_als_params *p;
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
        sum += ri_als_row_lambda(j->p->lambda, j->p->exponent, j->ptr[r + 1] - j->ptr[r]) * xx;
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
static int training_loss(const ri_als_params *p, const ri_als_state *s, const uint64_t *r_ptr,
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
    ri_als_gram(s->U, s->n_users, d, GU);
    ri_als_gram(s->V, s->n_items, d, GV);
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

/* One fit's sides and work, which the epoch driver steps through. */
typedef struct {
    const ri_fit_args *a;
    const ri_als_params *p, *pw; /* pw: with biases, one more coordinate */
    ri_als_state *s;
    ri_als_scratch *sc;
    bias_work *bw;
    int want_loss;
    const uint64_t *r_ptr, *c_ptr;
    const uint32_t *r_idx, *c_idx;
    const float *r_w, *c_w;
} als_run;

/* One iteration: users against items, then items against users. */
static int als_pass(void *kind, uint32_t it, double *loss)
{
    (void)it;
    als_run *r = kind;
    const ri_als_params *p = r->p;
    ri_als_state *s = r->s;
    bias_work *bw = r->bw;
    const uint32_t n_users = s->n_users, n_items = s->n_items;
    int rc;
    if (p->biases) {
        prepare_other(bw->Va, n_items, r->pw->dim, bw);
        rc = ri_als_solve_side(r->pw, r->sc, bw->Ua, n_users, bw->Yh, n_items, r->r_ptr,
                               r->r_idx, r->r_w, bw->off, bw->t);
        if (rc == RECINT_OK) {
            prepare_other(bw->Ua, n_users, r->pw->dim, bw);
            rc = ri_als_solve_side(r->pw, r->sc, bw->Va, n_items, bw->Yh, n_users, r->c_ptr,
                                   r->c_idx, r->c_w, bw->off, bw->t);
        }
        if (rc == RECINT_OK) {
            split_bias(bw->Ua, n_users, p->dim, s->U, s->ub);
            split_bias(bw->Va, n_items, p->dim, s->V, s->ib);
        }
    } else {
        rc = ri_als_solve_side(p, r->sc, s->U, n_users, s->V, n_items, r->r_ptr, r->r_idx,
                               r->r_w, NULL, NULL);
        if (rc == RECINT_OK)
            rc = ri_als_solve_side(p, r->sc, s->V, n_items, s->U, n_users, r->c_ptr, r->c_idx,
                                   r->c_w, NULL, NULL);
    }
    if (rc == RECINT_OK && r->want_loss && r->a->progress)
        rc = training_loss(p, s, r->r_ptr, r->r_idx, r->r_w, r->c_ptr, loss);
    return rc;
}

static int als_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    const ri_als_params p = read_params(a);
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
        rc = ri_als_check_weights(r_w, r_ptr[n_users]);
    if (rc)
        return rc;
    ri_als_state *s = ri_als_state_alloc(n_users, n_items, p.dim);
    if (s && p.biases && ri_als_state_add_biases(s) != RECINT_OK) {
        als_destroy(s);
        s = NULL;
    }
    if (!s)
        return ri_error(RECINT_ENOMEM, "als fit: out of memory for %u users and %u items of dim %u",
                        n_users, n_items, p.dim);
    /* with biases the rows solved have one more coordinate */
    ri_als_params pw = p;
    pw.dim = p.dim + (p.biases ? 1 : 0);
    ri_als_scratch sc;
    bias_work bw = {0};
    rc = ri_als_scratch_alloc(&sc, &pw);
    if (rc == RECINT_OK && p.biases)
        rc = bias_work_alloc(&bw, n_users, n_items, pw.dim);
    if (rc) {
        ri_als_scratch_free(&sc);
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
    als_run r = {.a = a, .p = &p, .pw = &pw, .s = s, .sc = &sc, .bw = &bw,
                 .want_loss = want_loss, .r_ptr = r_ptr, .c_ptr = c_ptr, .r_idx = r_idx,
                 .c_idx = c_idx, .r_w = r_w, .c_w = c_w};
    if (rc == RECINT_OK) {
        /* no early stopping (no keep): validation data is not read */
        const ri_epoch_steps steps = {"als fit", "iteration", p.iterations, als_pass, NULL, NULL,
                                      s, 0};
        rc = ri_fit_epochs(a, &steps, &r);
    }
    ri_als_scratch_free(&sc);
    bias_work_free(&bw);
    if (rc) {
        /* A canceled fit keeps the model's previous state, not a partial one. */
        als_destroy(s);
        return rc;
    }
    rc = ri_als_state_derive(s);
    if (rc) {
        als_destroy(s);
        return rc;
    }
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

/* What a loaded state holds (ri_als_state_alloc, _add_biases, _derive): the
 * factors, the dim x dim Gram matrix that fold-in and partial fits read, and
 * with biases the augmented item rows, their Gram matrix and offset vector. */
static int als_charge(const ri_fmt_reader *r, uint32_t n_users, uint32_t n_items, uint32_t dim,
                      int biases)
{
    const uint64_t d = dim, d1 = d + 1, nu = n_users ? n_users : 1;
    int rc = ri_fmt_charge(r, (nu + n_items) * d, sizeof(float), "the user and item factors");
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, d * d, sizeof(float), "the Gram matrix of the item factors");
    if (rc == RECINT_OK && biases)
        rc = ri_fmt_charge(r, nu + n_items + (uint64_t)n_items * d1 + d1 * d1 + d1, sizeof(float),
                           "the biases and the augmented item rows");
    return rc;
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
    if (rc == RECINT_OK)
        rc = als_charge(r, m->n_users, m->n_items, dim, ri_cfg_bool(m->cfg, RI_P_BIASES));
    if (rc)
        return rc;
    ri_als_state *s = ri_als_state_alloc(m->n_users, m->n_items, dim);
    if (!s)
        return ri_error(RECINT_ENOMEM, "als load: out of memory for %u users and %u items of dim %u",
                        m->n_users, m->n_items, dim);
    rc = load_block(r, TAG_USER, m->n_users, dim, s->U);
    if (rc == RECINT_OK)
        rc = load_block(r, TAG_ITEM, m->n_items, dim, s->V);
    /* the saved config says whether the file has biases */
    if (rc == RECINT_OK && ri_cfg_bool(m->cfg, RI_P_BIASES)) {
        rc = ri_als_state_add_biases(s);
        if (rc)
            rc = ri_error(RECINT_ENOMEM, "als load: out of memory for the biases");
        if (rc == RECINT_OK)
            rc = load_block(r, TAG_UBIAS, m->n_users, 1, s->ub);
        if (rc == RECINT_OK)
            rc = load_block(r, TAG_IBIAS, m->n_items, 1, s->ib);
    }
    if (rc == RECINT_OK)
        rc = ri_als_state_derive(s);
    if (rc) {
        als_destroy(s);
        return rc;
    }
    *state_out = s;
    return RECINT_OK;
}

const ri_model_ops ri_als_ops = {
    .name = "als",
    .check_config = als_check_config,
    .destroy = als_destroy,
    .fit = als_fit,
    .linear = als_linear,
    .user_vector = NULL, /* user_mat holds them */
    .fold_in = ri_als_fold_in,
    .explain = ri_als_explain,
    .save_sections = als_save,
    .load_sections = als_load,
    .refit_rows = ri_als_partial_fit,
};
