/* The off-policy experiment of the simulator: a frozen uniform-within-top-N
 * logging policy writes a log of first slots, the estimators read it for a
 * frozen target policy, and the target's true value comes from running it in
 * the same world (expected clicks of its picks, averaged over users and rounds). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "explore/explore_internal.h"
#include "util/parallel.h"
#include "explore/simulate_internal.h"

#define OPE_STREAM_CLICKS (RI_STREAM_EXPLORE + (UINT64_C(4) << 52))

typedef struct {
    const ri_sim_world *w;
    recint_explorer *e;
    uint32_t rounds;
    int draw_clicks; /* logging: draw and observe clicks; target: sum expectations */
    double *value;   /* per user */
} ope_ctx;

static int ope_users(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    ope_ctx *c = ctx;
    const ri_sim_world *w = c->w;
    for (size_t u = begin + w->n_background; u < end + w->n_background; u++) {
        double sum = 0.0;
        for (uint32_t t = 0; t < c->rounds; t++) {
            uint32_t item, n = 0;
            int rc = recint_explorer_recommend(c->e, (uint32_t)u, 1, &item, NULL, &n);
            if (rc)
                return rc;
            if (n == 0)
                continue;
            double p = ri_sim_click_prob(w, (uint32_t)u, item);
            sum += p;
            if (c->draw_clicks) {
                ri_rng r;
                ri_sim_rng(w, OPE_STREAM_CLICKS, (uint32_t)u, t, &r);
                float click = ri_rng_uniform(&r) < p ? 1.0f : 0.0f;
                if ((rc = recint_explorer_observe(c->e, (uint32_t)u, item, click)))
                    return rc;
            }
        }
        c->value[u - w->n_background] = sum / c->rounds;
    }
    return RECINT_OK;
}

/* A frozen run of policy (NULL: cfg's) over the explored users into *value;
 * with logger non-NULL it logs, draws clicks and hands its explorer over. */
static int run_frozen(const ri_sim_world *w, const recint_config *cfg, const char *policy,
                      recint_explorer **logger, double *value)
{
    recint_config *c = NULL;
    recint_explorer *e = NULL;
    const uint32_t explored = w->n_users - w->n_background;
    double *per_user = RI_NEW_ARRAY(double, explored);
    int rc = per_user ? recint_config_copy(&c, cfg)
                      : ri_error(RECINT_ENOMEM, "simulate: out of memory for %u users", explored);
    if (rc == RECINT_OK && policy)
        rc = recint_config_set(c, "policy", policy);
    if (rc == RECINT_OK)
        rc = recint_config_set(c, "online", "false");
    if (rc == RECINT_OK)
        rc = recint_explorer_new(&e, w->model, c);
    if (rc == RECINT_OK && logger)
        rc = recint_explorer_set_logging(e, 1);
    if (rc == RECINT_OK) {
        ope_ctx x = {w, e, (uint32_t)ri_cfg_int(cfg, RI_P_SIM_OPE_ROUNDS), logger != NULL,
                     per_user};
        rc = ri_parallel_for(ri_threads_resolve(ri_cfg_int(cfg, RI_P_THREADS)), explored, 16,
                             ope_users, &x);
    }
    if (rc == RECINT_OK) {
        double s = 0.0;
        for (uint32_t u = 0; u < explored; u++)
            s += per_user[u];
        *value = s / explored;
    }
    if (rc == RECINT_OK && logger) {
        *logger = e;
        e = NULL;
    }
    recint_explorer_free(e);
    recint_config_free(c);
    free(per_user);
    return rc;
}

RECINT_API int recint_simulate_ope(const recint_config *cfg, const char *log_path, double *out,
                                   size_t out_len)
{
    static const char fn[] = "recint_simulate_ope";
    if (!out || !log_path)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !out ? "out" : "log_path");
    if (out_len < RECINT_OPE_SIM_COUNT)
        return ri_error(RECINT_EINVAL, "%s: out holds %zu values, %d are written", fn, out_len,
                        RECINT_OPE_SIM_COUNT);
    ri_sim_world w;
    int rc = ri_sim_world_build(&w, cfg);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    double tmp[RECINT_OPE_SIM_COUNT], logged = 0.0;
    recint_config *tc = NULL;
    recint_explorer *target = NULL, *logger = NULL;
    rc = run_frozen(&w, cfg, "uniform", &logger, &logged);
    if (rc == RECINT_OK)
        rc = run_frozen(&w, cfg, NULL, NULL, &tmp[0]);
    if (rc == RECINT_OK)
        rc = recint_config_copy(&tc, cfg);
    if (rc == RECINT_OK)
        rc = recint_config_set(tc, "online", "false");
    if (rc == RECINT_OK)
        rc = recint_explorer_new(&target, w.model, tc);
    /* The estimators read the logger's records in memory (the file holds the
     * same bits) and the file is written last, so that no failure after it can
     * leave log_path replaced by a call that reports an error. */
    for (int est = RECINT_OPE_IPS; rc == RECINT_OK && est <= RECINT_OPE_DR; est++) {
        const uint64_t n = logger->log_n;
        ri_log_record *recs = ri_malloc_array(n ? (size_t)n : 1, sizeof *recs);
        if (!recs) {
            rc = ri_error(RECINT_ENOMEM, "out of memory for %llu log records",
                          (unsigned long long)n);
            break;
        }
        if (n)
            memcpy(recs, logger->log, (size_t)n * sizeof *recs);
        rc = ri_explore_estimate(target, recs, n, "the simulated log", est, tmp + 1 + 4 * est);
    }
    if (rc == RECINT_OK)
        rc = recint_explorer_log_save(logger, log_path);
    recint_explorer_free(logger);
    recint_explorer_free(target);
    recint_config_free(tc);
    ri_sim_world_free(&w);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    tmp[RECINT_OPE_SIM_COUNT - 1] = logged;
    memcpy(out, tmp, sizeof tmp);
    return RECINT_OK;
}
