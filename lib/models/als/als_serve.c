/* The real-time side of the als kind, against a fitted state: fold-in of a
 * user (exact solve, const model), explanations (the score decomposed over the
 * user's history) and partial fits (exact solves of some rows, installed by
 * lib/models/partial.c). */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "models/als/als_internal.h"
#include "models/model_private.h"
#include "util/config.h"
#include "util/error.h"
#include "util/parallel.h"
#include "core/topk.h"

/* ------------------------------------------------------------------------ */
/* Exact single-row solves: fold-in and explanations                        */
/* ------------------------------------------------------------------------ */

/* These run against a const model from any thread, so the system is kept as a
 * packed lower triangle in double (row r starts at r (r + 1) / 2): at dim 128
 * the whole workspace is 67 KiB, small enough for the caller's stack. */
#define ROW_STACK_DIM 128

/* The system of a row against the other side's rows items[0..n) (Y, Gram G;
 * off and t: that side's biases), factored, with the model's penalty and
 * confidence as in training. */
static void factor_row_best(const recint_model *m, const float *G, const float *Y, uint32_t d,
                            const uint32_t *items, const float *weights, size_t n,
                            const float *off, const float *t, double *A, double *b)
{
    const double lambda = ri_als_row_lambda(ri_cfg_float(m->cfg, RI_P_REGULARIZATION),
                                            ri_cfg_float(m->cfg, RI_P_REGULARIZATION_EXPONENT), n);
    ri_als_factor_row(m->serve.isa, G, Y, d, items, weights, n, ri_cfg_float(m->cfg, RI_P_ALPHA),
                      lambda, off, t, A, b);
}

/* Workspace of ri_als_tri_len(dim) + 2 dim doubles (A, right-hand side,
 * column): the stack buffer up to ROW_STACK_DIM, else one allocation (*heap,
 * to be freed). */
static double *row_workspace(double *stack, uint32_t d, double **heap)
{
    *heap = NULL;
    if (d <= ROW_STACK_DIM)
        return stack;
    *heap = ri_malloc_array(ri_als_tri_len(d) + 2 * (size_t)d, sizeof(double));
    if (!*heap)
        ri_error(RECINT_ENOMEM, "als: out of memory for the workspace of a row solve at dim %u", d);
    return *heap;
}

#define ROW_STACK_DOUBLES (ROW_STACK_DIM * (ROW_STACK_DIM + 1) / 2 + 2 * ROW_STACK_DIM)

/* Explanations decompose the score over the history, which biases break (the
 * other side's biases add a term no history item owns): refused for a model
 * with biases rather than answered wrongly. */
static int refuse_biases(const ri_als_state *s, const char *what)
{
    if (!s->ub)
        return RECINT_OK;
    return ri_error(RECINT_EUNSUPPORTED, "als: %s is not available for a model fitted with "
                    "biases=true", what);
}

int ri_als_fold_in(const recint_model *m, const void *state, const uint32_t *items,
                   const float *weights, size_t n, float *out)
{
    const ri_als_state *s = state;
    /* with biases the row is [x, b_u] against [y, 1]; b_u does not change the
     * user's ranking, so only x is returned */
    const int biased = s->ub != NULL;
    const uint32_t d = s->dim, D = d + (uint32_t)biased;
    double stack[ROW_STACK_DOUBLES], *heap;
    double *A = row_workspace(stack, D, &heap);
    if (!A)
        return RECINT_ENOMEM;
    double *b = A + ri_als_tri_len(D);
    factor_row_best(m, biased ? s->Gh : s->G, biased ? s->Vh : s->V, D, items, weights, n,
                    biased ? s->ib : NULL, biased ? s->th : NULL, A, b);
    ri_als_cholesky_solve(A, D, b);
    for (uint32_t r = 0; r < d; r++)
        out[r] = (float)b[r];
    free(heap);
    return RECINT_OK;
}

/* The exact row x = A^{-1} b, so y_i . x = sum_j c_j (A^{-1} y_i) . y_j: solving
 * once for z = A^{-1} y_i (A symmetric) gives every contribution as a dot
 * product. The model keeps which items a user had, not their weights, so the
 * history counts with weight 1. */
int ri_als_explain(const recint_model *m, const void *state, uint32_t user, uint32_t item,
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
    double *z = A + ri_als_tri_len(d);
    factor_row_best(m, s->G, s->V, d, hist, NULL, n, NULL, NULL, A, z);
    const float *yi = s->V + (size_t)item * d;
    for (uint32_t r = 0; r < d; r++)
        z[r] = yi[r];
    ri_als_cholesky_solve(A, d, z);
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
    const float *off, *t; /* the other side's biases (else NULL) */
    uint32_t d;           /* solved dimension (dim + 1 with biases) */
    float *out;           /* rq->n rows of d */
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
    double *b = A + ri_als_tri_len(d);
    for (size_t r = begin; r < end; r++) {
        const uint64_t b0 = j->rq->indptr[r], b1 = j->rq->indptr[r + 1];
        factor_row_best(j->m, j->G, j->Y, d, j->rq->idx + b0, j->rq->w ? j->rq->w + b0 : NULL,
                        (size_t)(b1 - b0), j->off, j->t, A, b);
        ri_als_cholesky_solve(A, d, b);
        for (uint32_t k = 0; k < d; k++)
            j->out[r * d + k] = (float)b[k];
    }
    free(heap);
    return RECINT_OK;
}

/* Users are updated in place (serving borrows the user rows; the arrays grow
 * by realloc, the user rows last: after that nothing can fail). Items get a
 * new state: serving keeps its own copies of the item rows, which are rebuilt
 * anyway, and what is derived from the items changes. With biases the rows
 * solved are [vector, bias] against the other side's [vector, 1]. */
int ri_als_partial_fit(const recint_model *m, void *state, const ri_partial_rows *rq,
                       void **state_out)
{
    ri_als_state *s = state;
    const int biased = s->ub != NULL;
    const uint32_t d = s->dim, D = d + (uint32_t)biased;
    *state_out = NULL;
    int rc = ri_als_check_weights(rq->w, rq->indptr[rq->n]);
    if (rc)
        return rc;
    /* the other side of an items update: the users, plain or as [x, 1] */
    const int need_users = rq->side == 1;
    float *out = ri_malloc_array(rq->n ? rq->n : 1, (size_t)D * sizeof(float));
    float *Gu = need_users ? ri_malloc_array((size_t)D, (size_t)D * sizeof(float)) : NULL;
    float *Uh = need_users && biased
                    ? ri_malloc_array(s->n_users ? s->n_users : 1, (size_t)D * sizeof(float))
                    : NULL;
    float *tu = need_users && biased ? RI_NEW_ARRAY(float, D) : NULL;
    if (!out || (need_users && !Gu) || (need_users && biased && (!Uh || !tu))) {
        free(out);
        free(Gu);
        free(Uh);
        free(tu);
        return ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %zu rows of dim %u",
                        rq->n, d);
    }
    partial_job j = {m, rq, s->G, s->V, NULL, NULL, D, out};
    if (need_users && biased) {
        ri_als_augment(s->U, s->ub, s->n_users, d, Uh, Gu, tu);
        j = (partial_job){m, rq, Gu, Uh, s->ub, tu, D, out};
    } else if (need_users) {
        ri_als_gram(s->U, s->n_users, d, Gu);
        j = (partial_job){m, rq, Gu, s->U, NULL, NULL, D, out};
    } else if (biased) {
        j = (partial_job){m, rq, s->Gh, s->Vh, s->ib, s->th, D, out};
    }
    rc = ri_parallel_for(ri_threads_resolve(ri_cfg_int(m->cfg, RI_P_THREADS)), rq->n, 16,
                         partial_range, &j);
    free(Gu);
    free(Uh);
    free(tu);
    if (rc == RECINT_OK && !rq->side) {
        if (rq->new_count > s->n_users && biased) {
            float *ub = ri_realloc_array(s->ub, rq->new_count, sizeof(float));
            if (!ub)
                rc = ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %u user biases",
                              rq->new_count);
            else
                s->ub = ub;
        }
        if (rc == RECINT_OK && rq->new_count > s->n_users) {
            float *U = ri_realloc_array(s->U, rq->new_count, (size_t)d * sizeof(float));
            if (!U)
                rc = ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %u users of dim %u",
                              rq->new_count, d);
            else
                s->U = U;
        }
        if (rc == RECINT_OK) {
            for (size_t r = 0; r < rq->n; r++) {
                memcpy(s->U + (size_t)rq->rows[r] * d, out + r * D, (size_t)d * sizeof(float));
                if (biased)
                    s->ub[rq->rows[r]] = out[r * D + d];
            }
            s->n_users = rq->new_count;
            *state_out = s;
        }
    } else if (rc == RECINT_OK) {
        ri_als_state *t = ri_als_state_alloc(s->n_users, rq->new_count, d);
        if (t && biased && ri_als_state_add_biases(t) != RECINT_OK) {
            ri_als_state_free(t);
            t = NULL;
        }
        if (!t) {
            rc = ri_error(RECINT_ENOMEM, "als partial fit: out of memory for %u users and %u "
                          "items of dim %u", s->n_users, rq->new_count, d);
        } else {
            memcpy(t->U, s->U, (size_t)s->n_users * d * sizeof(float));
            memcpy(t->V, s->V, (size_t)s->n_items * d * sizeof(float));
            if (biased) {
                memcpy(t->ub, s->ub, (size_t)s->n_users * sizeof(float));
                memcpy(t->ib, s->ib, (size_t)s->n_items * sizeof(float));
            }
            for (size_t r = 0; r < rq->n; r++) {
                memcpy(t->V + (size_t)rq->rows[r] * d, out + r * D, (size_t)d * sizeof(float));
                if (biased)
                    t->ib[rq->rows[r]] = out[r * D + d];
            }
            rc = ri_als_state_derive(t);
            if (rc)
                ri_als_state_free(t);
            else
                *state_out = t;
        }
    }
    free(out);
    return rc;
}
