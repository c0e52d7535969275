/* Confidence weighting of count data (recint_dataset_reweight). Raw play
 * counts span five orders of magnitude, and a loss that takes them as
 * confidences (ALS's 1 + alpha*w) then fits a handful of heavy rows; the field
 * compresses them first (implicit's bm25_weight / tfidf_weight, Hu et al.'s
 * log scaling). The formulas are implicit's over a users x items matrix, so
 * that a setting found with it carries over. */
#include <math.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/data_private.h"
#include "data/dataset_internal.h"
#include "util/error.h"

enum { W_NONE, W_LOG1P, W_BM25, W_TFIDF };

/* idf of every item: log(N) - log(1 + users holding it), N the users. An item
 * nearly everyone holds would get a negative weight, which no confidence can
 * be: it gets 0 instead (it tells users apart no more than a constant). */
static double *item_idf(const recint_dataset *ds)
{
    /* counts first (exact in a double), then each turned into its idf */
    double *idf = RI_NEW_ARRAY(double, ds->n_items ? ds->n_items : 1);
    if (!idf)
        return NULL;
    for (uint32_t i = 0; i < ds->n_items; i++)
        idf[i] = 0;
    for (uint64_t e = 0; e < ds->nnz; e++)
        idf[ds->indices[e]] += 1;
    for (uint32_t i = 0; i < ds->n_items; i++) {
        /* one log of the ratio: an item held by N - 1 users gets exactly 0 */
        double v = log((double)ds->n_users / (1.0 + idf[i]));
        idf[i] = v > 0 ? v : 0;
    }
    return idf;
}

/* Rewrites w (ds's CSR order) by scheme; ds gives the statistics. */
static int apply(const recint_dataset *ds, int scheme, double k1, double b, float *w)
{
    if (ds->nnz == 0)
        return RECINT_OK; /* and no user or item statistic to take */
    if (scheme == W_LOG1P) {
        for (uint64_t e = 0; e < ds->nnz; e++)
            w[e] = (float)log1p((double)w[e]);
        return RECINT_OK;
    }
    double *idf = item_idf(ds);
    if (!idf)
        return RECINT_ENOMEM;
    if (scheme == W_TFIDF) {
        for (uint64_t e = 0; e < ds->nnz; e++)
            w[e] = (float)(sqrt((double)w[e]) * idf[ds->indices[e]]);
        free(idf);
        return RECINT_OK;
    }
    /* bm25: a row's weight saturates at K1 + 1 times its item's idf, reached
     * sooner by users whose total weight is above the mean user's. */
    double total = 0;
    for (uint64_t e = 0; e < ds->nnz; e++)
        total += w[e];
    const double mean = total / ds->n_users;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        double len = 0;
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++)
            len += w[e];
        /* All weights 0: no length to normalise by, every row is as long. */
        const double norm = (1 - b) + b * (mean > 0 ? len / mean : 1);
        for (uint64_t e = ds->indptr[u]; e < ds->indptr[u + 1]; e++) {
            const double x = w[e], den = k1 * norm + x;
            w[e] = (float)(den > 0 ? x * (k1 + 1) / den * idf[ds->indices[e]] : 0);
        }
    }
    free(idf);
    return RECINT_OK;
}

RECINT_API int recint_dataset_reweight(recint_dataset **out, const recint_dataset *ds,
                                       const recint_config *cfg)
{
    if (!out || !ds)
        return ri_error(RECINT_EINVAL, "recint_dataset_reweight: %s is NULL",
                        !out ? "out" : "dataset");
    static const char *const schemes[] = {"none", "log1p", "bm25", "tfidf"}; /* W_* */
    const int scheme = RI_CFG_PICK(cfg, RI_P_WEIGHTING, schemes);
    if (scheme < 0)
        return ri_error(RECINT_EINVAL,
                        "recint_dataset_reweight: weighting '%s' is not none, log1p, bm25 or tfidf",
                        ri_cfg_str(cfg, RI_P_WEIGHTING));
    /* the table's ranges hold them to k1 >= 0, b in [0, 1] */
    const double k1 = ri_cfg_float(cfg, RI_P_BM25_K1), b = ri_cfg_float(cfg, RI_P_BM25_B);
    if (scheme != W_NONE) {
        /* A count is never negative; a negative weight here is a rating or a
         * dislike that these formulas would turn into NaN or nonsense. */
        for (uint64_t e = 0; e < ds->nnz; e++)
            if (!(ds->weights[e] >= 0)) {
                uint32_t u = 0;
                while (ds->indptr[u + 1] <= e)
                    u++;
                return ri_error(RECINT_EINVAL,
                                "recint_dataset_reweight: weighting=%s needs weights >= 0, and "
                                "user index %u has %g on item index %u (filter with min_weight=0 "
                                "first, or keep weighting=none)",
                                schemes[scheme], u, (double)ds->weights[e], ds->indices[e]);
            }
    }
    recint_dataset *copy = NULL;
    int rc = ri_dataset_select(&copy, ds, NULL, 1, 0);
    if (rc == RECINT_OK && scheme != W_NONE)
        rc = apply(ds, scheme, k1, b, copy->weights);
    if (rc != RECINT_OK) {
        recint_dataset_free(copy);
        return ri_error_prefix(rc, "recint_dataset_reweight: ");
    }
    *out = copy;
    return RECINT_OK;
}
