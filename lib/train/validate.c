/* Early-stopping validation, which the epoch driver runs: evaluation sits
 * above the models in the layering (lib/layers.txt): train -> eval -> models,
 * never back. */
#include <stddef.h>

#include "util/config.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "train/train_internal.h"

/* valid_metric's choices and the metric each names (auto: -1, the kind's). */
static const char *const metric_names[] = {"auto", "precision", "recall", "ndcg",
                                           "map", "auc", "full_hr", "full_ndcg"};
static const int valid_metrics[] = {-1, RECINT_METRIC_PRECISION, RECINT_METRIC_RECALL,
                                    RECINT_METRIC_NDCG, RECINT_METRIC_MAP, RECINT_METRIC_AUC,
                                    RECINT_METRIC_FULL_HR, RECINT_METRIC_FULL_NDCG};
_Static_assert(sizeof metric_names / sizeof metric_names[0] ==
                   sizeof valid_metrics / sizeof valid_metrics[0],
               "one metric per valid_metric name");

typedef struct {
    const ri_fit_args *a;
    int next_item;
    uint32_t k;
    double v[RECINT_METRIC_COUNT];
} eval_call;

static int evaluate_served(const recint_model *m, void *ctx)
{
    eval_call *c = ctx;
    const recint_config *ecfg = ri_fit_cfg(c->a, RI_P_THREADS);
    int rc = c->next_item
                 ? recint_evaluate_next(m, c->a->train, c->a->valid, c->k, ecfg, c->v,
                                        RECINT_METRIC_COUNT)
                 : recint_evaluate(m, c->a->train, c->a->valid, c->k, ecfg, c->v,
                                   RECINT_METRIC_COUNT);
    return rc ? ri_error_prefix(rc, "fit validation: ") : RECINT_OK;
}

int ri_train_validate(const ri_fit_args *a, const void *state, int next_item, double *out)
{
    /* the driver calls this only with a->valid set */
    const recint_config *cfg = ri_fit_cfg(a, RI_P_VALID_METRIC);
    int choice = RI_CFG_PICK(cfg, RI_P_VALID_METRIC, metric_names);
    int metric = choice > 0 && (size_t)choice < sizeof valid_metrics / sizeof valid_metrics[0]
                     ? valid_metrics[choice]
                     : (next_item ? RECINT_METRIC_FULL_NDCG : RECINT_METRIC_NDCG);
    eval_call c = {a, metric == RECINT_METRIC_FULL_HR || metric == RECINT_METRIC_FULL_NDCG,
                   (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_K), RI_P_K), {0}};
    int rc = ri_fit_with_served_state(a, state, evaluate_served, &c);
    if (rc == RECINT_OK)
        *out = c.v[metric];
    return rc;
}
