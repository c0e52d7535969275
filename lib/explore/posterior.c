/* A user's Bayesian linear posterior over the model's user vector. The
 * covariance is kept directly (not the precision) so that an observation costs
 * one Sherman-Morrison update, O(dim^2), and the policies read it as is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "explore_internal.h"

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

static void update_mean(ri_posterior *p)
{
    const uint32_t d = p->dim;
    for (uint32_t i = 0; i < d; i++) {
        const double *row = p->cov + (size_t)i * d;
        double s = 0.0;
        for (uint32_t j = 0; j < d; j++)
            s += row[j] * p->b[j];
        p->mean[i] = s;
        p->mean_f[i] = (float)s;
    }
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
    p->b = ri_malloc_array(dim, sizeof(double));
    p->mean = ri_malloc_array(dim, sizeof(double));
    p->mean_f = ri_malloc_array(dim, sizeof(float));
    if (!A || !work || !p->cov || !p->chol || !p->b || !p->mean || !p->mean_f) {
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

void ri_posterior_free(ri_posterior *p)
{
    if (!p)
        return;
    free(p->cov);
    free(p->chol);
    free(p->b);
    free(p->mean);
    free(p->mean_f);
    memset(p, 0, sizeof *p);
}

void ri_posterior_observe(ri_posterior *p, const float *x, double r)
{
    const uint32_t d = p->dim;
    /* v = cov x lives in mean's slot until the mean is recomputed below; the
     * stack would do too, but dim has no small bound. */
    double *v = p->mean;
    double denom = 1.0;
    for (uint32_t i = 0; i < d; i++) {
        const double *row = p->cov + (size_t)i * d;
        double s = 0.0;
        for (uint32_t j = 0; j < d; j++)
            s += row[j] * x[j];
        v[i] = s;
        denom += s * x[i];
    }
    /* cov - v v^T / (1 + x^T cov x): both triangles from the same products keep
     * it exactly symmetric, which the Cholesky of thompson relies on. */
    const double inv = 1.0 / denom;
    for (uint32_t i = 0; i < d; i++) {
        double vi = v[i] * inv;
        double *row = p->cov + (size_t)i * d;
        for (uint32_t j = 0; j <= i; j++) {
            double nv = row[j] - vi * v[j];
            row[j] = nv;
            p->cov[(size_t)j * d + i] = nv;
        }
    }
    /* R^T R + x x^T: a sequence of rotations on R's rows, with v (free again)
     * as the rotated copy of x. */
    for (uint32_t i = 0; i < d; i++)
        v[i] = x[i];
    for (uint32_t k = 0; k < d; k++) {
        double *rk = p->chol + (size_t)k * d;
        const double rkk = rk[k], h = hypot(rkk, v[k]);
        const double c = h / rkk, s = v[k] / rkk;
        rk[k] = h;
        for (uint32_t i = k + 1; i < d; i++) {
            rk[i] = (rk[i] + s * v[i]) / c;
            v[i] = c * v[i] - s * rk[i];
        }
    }
    for (uint32_t i = 0; i < d; i++)
        p->b[i] += r * x[i];
    update_mean(p);
}
