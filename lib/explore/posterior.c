/* A user's Bayesian linear posterior over the model's user vector. The
 * covariance is kept directly (not the precision) so that an observation costs
 * one Sherman-Morrison update, O(dim^2), and the policies read it as is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "explore/explore_internal.h"
#include "core/target.h"

int ri_cholesky(const double *a, uint32_t n, double *out)
{
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j <= i; j++) {
            double s = a[(size_t)i * n + j];
            const double *li = out + (size_t)i * n, *lj = out + (size_t)j * n;
            for (uint32_t t = 0; t < j; t++)
                s -= li[t] * lj[t];
            if (i == j) {
                if (!(s > 0.0))
                    return -1;
                out[(size_t)i * n + i] = sqrt(s);
            } else {
                out[(size_t)i * n + j] = s / lj[j];
            }
        }
        for (uint32_t j = i + 1; j < n; j++)
            out[(size_t)i * n + j] = 0.0;
    }
    return 0;
}

int ri_spd_inverse(const double *a, uint32_t n, double *out, double *work)
{
    if (ri_cholesky(a, n, work) != 0)
        return -1;
    /* Column c of the inverse solves L L^T x = e_c. */
    for (uint32_t c = 0; c < n; c++) {
        double *x = out + (size_t)c * n; /* row c; the inverse is symmetric */
        for (uint32_t i = 0; i < n; i++) {
            double s = i == c ? 1.0 : 0.0;
            for (uint32_t t = 0; t < i; t++)
                s -= work[(size_t)i * n + t] * x[t];
            x[i] = s / work[(size_t)i * n + i];
        }
        for (uint32_t i = n; i-- > 0;) {
            double s = x[i];
            for (uint32_t t = i + 1; t < n; t++)
                s -= work[(size_t)t * n + i] * x[t];
            x[i] = s / work[(size_t)i * n + i];
        }
    }
    /* Rounding leaves the two triangles a few ulps apart: average them. */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++) {
            double v = 0.5 * (out[(size_t)i * n + j] + out[(size_t)j * n + i]);
            out[(size_t)i * n + j] = out[(size_t)j * n + i] = v;
        }
    return 0;
}

/* mean = cov b, as a sum of cov's rows (cov is symmetric): a plain axpy loop
 * that vectorises without reassociating any sum. */
static inline __attribute__((always_inline)) void mean_body(ri_posterior *p)
{
    const uint32_t d = p->dim;
    double *m = p->mean;
    for (uint32_t i = 0; i < d; i++)
        m[i] = 0.0;
    for (uint32_t j = 0; j < d; j++) {
        const double bj = p->b[j];
        const double *row = p->cov + (size_t)j * d;
        for (uint32_t i = 0; i < d; i++)
            m[i] += bj * row[i];
    }
    for (uint32_t i = 0; i < d; i++)
        p->mean_f[i] = (float)m[i];
}

int ri_posterior_init(ri_posterior *p, uint32_t dim, const float *u0, const float *item_mat,
                      size_t stride, const uint32_t *hist, size_t n_hist, double prior_precision,
                      double history_precision)
{
    memset(p, 0, sizeof *p);
    size_t dd;
    if (ri_mul_overflow(dim, dim, &dd))
        return ri_error(RECINT_ENOMEM, "explorer: dim %u overflows", dim);
    double *A = ri_malloc_array(dd, sizeof(double));
    double *work = ri_malloc_array(dd, sizeof(double));
    p->cov = ri_malloc_array(dd, sizeof(double));
    p->chol = ri_malloc_array(dd, sizeof(double));
    p->scratch = ri_malloc_array(dim, sizeof(double));
    p->b = ri_malloc_array(dim, sizeof(double));
    p->mean = ri_malloc_array(dim, sizeof(double));
    p->mean_f = ri_malloc_array(dim, sizeof(float));
    if (!A || !work || !p->cov || !p->chol || !p->scratch || !p->b || !p->mean || !p->mean_f) {
        free(A);
        free(work);
        ri_posterior_free(p);
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for a posterior of dim %u", dim);
    }
    p->dim = dim;
    memset(A, 0, dd * sizeof(double));
    for (uint32_t i = 0; i < dim; i++)
        A[(size_t)i * dim + i] = prior_precision;
    for (size_t h = 0; h < n_hist && history_precision > 0.0; h++) {
        const float *x = item_mat + (size_t)hist[h] * stride;
        for (uint32_t i = 0; i < dim; i++) {
            double xi = history_precision * x[i];
            for (uint32_t j = 0; j <= i; j++)
                A[(size_t)i * dim + j] += xi * x[j];
        }
    }
    for (uint32_t i = 0; i < dim; i++)
        for (uint32_t j = 0; j < i; j++)
            A[(size_t)j * dim + i] = A[(size_t)i * dim + j];
    /* b = A u0 makes the prior mean exactly u0 (up to the inverse's rounding). */
    for (uint32_t i = 0; i < dim; i++) {
        double s = 0.0;
        for (uint32_t j = 0; j < dim; j++)
            s += A[(size_t)i * dim + j] * u0[j];
        p->b[i] = s;
    }
    int bad = ri_spd_inverse(A, dim, p->cov, work);
    /* ri_spd_inverse leaves the lower factor L of A in work: R = L^T. */
    for (uint32_t i = 0; !bad && i < dim; i++)
        for (uint32_t j = 0; j < dim; j++)
            p->chol[(size_t)i * dim + j] = work[(size_t)j * dim + i];
    free(A);
    free(work);
    if (bad) {
        ri_posterior_free(p);
        return ri_error(RECINT_EINVAL, "explorer: the prior precision is not positive definite");
    }
    for (uint32_t i = 0; i < dim; i++) {
        p->mean[i] = u0[i];
        p->mean_f[i] = u0[i];
    }
    return RECINT_OK;
}

int ri_posterior_copy(ri_posterior *dst, const ri_posterior *src)
{
    memset(dst, 0, sizeof *dst);
    const size_t d = src->dim, dd = d * d; /* src was allocated: no overflow */
    ri_posterior c = *src;
    c.cov = ri_malloc_array(dd, sizeof(double));
    c.chol = ri_malloc_array(dd, sizeof(double));
    c.scratch = ri_malloc_array(d, sizeof(double));
    c.b = ri_malloc_array(d, sizeof(double));
    c.mean = ri_malloc_array(d, sizeof(double));
    c.mean_f = ri_malloc_array(d, sizeof(float));
    if (!c.cov || !c.chol || !c.scratch || !c.b || !c.mean || !c.mean_f) {
        ri_posterior_free(&c);
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for a copy of a posterior of dim %u",
                        src->dim);
    }
    memcpy(c.cov, src->cov, dd * sizeof(double));
    memcpy(c.chol, src->chol, dd * sizeof(double));
    memcpy(c.scratch, src->scratch, d * sizeof(double));
    memcpy(c.b, src->b, d * sizeof(double));
    memcpy(c.mean, src->mean, d * sizeof(double));
    memcpy(c.mean_f, src->mean_f, d * sizeof(float));
    *dst = c;
    return RECINT_OK;
}

void ri_posterior_free(ri_posterior *p)
{
    if (!p)
        return;
    free(p->cov);
    free(p->chol);
    free(p->scratch);
    free(p->b);
    free(p->mean);
    free(p->mean_f);
    memset(p, 0, sizeof *p);
}

/* The update, written as loops over contiguous rows so that they vectorise
 * (compiled for AVX-512 and for the baseline below). v = cov x is a sum of
 * cov's rows; the rank-one downdate subtracts u u^T with u = v / sqrt(1 + x^T v),
 * whose products u_i u_j = u_j u_i keep cov exactly symmetric. */
static inline __attribute__((always_inline)) void observe_body(ri_posterior *p, const float *x,
                                                               double r, double *u, double *xd,
                                                               int keep_chol)
{
    const uint32_t d = p->dim;
    for (uint32_t i = 0; i < d; i++) {
        xd[i] = x[i];
        u[i] = 0.0;
    }
    for (uint32_t j = 0; j < d; j++) {
        const double xj = xd[j];
        const double *row = p->cov + (size_t)j * d;
        for (uint32_t i = 0; i < d; i++)
            u[i] += xj * row[i];
    }
    double denom = 1.0;
    for (uint32_t i = 0; i < d; i++)
        denom += u[i] * xd[i];
    const double scale = 1.0 / sqrt(denom);
    for (uint32_t i = 0; i < d; i++)
        u[i] *= scale;
    for (uint32_t i = 0; i < d; i++) {
        const double ui = u[i];
        double *row = p->cov + (size_t)i * d;
        for (uint32_t j = 0; j < d; j++)
            row[j] -= ui * u[j];
    }
    /* R^T R + x x^T: a sequence of rotations on R's rows, with xd as the
     * rotated copy of x. Only Thompson's draws read R: the other policies
     * skip its d hypot calls and mark it stale. */
    p->chol_stale |= !keep_chol;
    for (uint32_t k = 0; keep_chol && k < d; k++) {
        double *rk = p->chol + (size_t)k * d;
        const double rkk = rk[k], h = hypot(rkk, xd[k]);
        const double c = h / rkk, s = xd[k] / rkk, ic = 1.0 / c;
        rk[k] = h;
        for (uint32_t i = k + 1; i < d; i++) {
            const double ri = (rk[i] + s * xd[i]) * ic;
            rk[i] = ri;
            xd[i] = c * xd[i] - s * ri;
        }
    }
    for (uint32_t i = 0; i < d; i++)
        p->b[i] += r * x[i];
    mean_body(p);
}

RI_TARGET_AVX512 static void observe_512(ri_posterior *p,
                                                                           const float *x,
                                                                           double r, double *u,
                                                                           double *xd, int keep)
{
    observe_body(p, x, r, u, xd, keep);
}

static void observe_base(ri_posterior *p, const float *x, double r, double *u, double *xd,
                         int keep)
{
    observe_body(p, x, r, u, xd, keep);
}

void ri_posterior_observe(ri_posterior *p, const float *x, double r, ri_isa isa, int keep_chol)
{
    /* Scratch: mean's slot (recomputed at the end) and the posterior's own
     * dim doubles, so that an observation allocates nothing. */
    if (isa == RI_ISA_AVX512)
        observe_512(p, x, r, p->mean, p->scratch, keep_chol);
    else
        observe_base(p, x, r, p->mean, p->scratch, keep_chol);
}
