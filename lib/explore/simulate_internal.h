/* The simulator's world, shared by the rounds (simulate.c) and the off-policy
 * experiment (simulate_ope.c). */
#ifndef RI_SIMULATE_INTERNAL_H
#define RI_SIMULATE_INTERNAL_H

#include <stdint.h>

#include "recint.h"
#include "util/rng.h"

typedef struct {
    uint32_t n_users, n_items, n_clusters, n_true, n_revealed, history, genre;
    uint32_t n_background;  /* users 0 .. n_background-1 show every true cluster */
    double click, noise_click, quality_spread;
    uint64_t seed;
    uint32_t *item_cluster; /* n_items: item i is in cluster i % n_clusters */
    float *quality;         /* n_items, in (1 - quality_spread, 1] */
    uint32_t *clusters;     /* n_users x n_true, from one genre; the history shows the
                             * first n_revealed (every one for background users) */
    float *affinity;        /* n_users x n_true, in [0.3, 1) */
    double *oracle;         /* n_users: the oracle's expected clicks per round */
    recint_model *model;    /* ALS trained on the histories */
} ri_sim_world;

/* Build the world of cfg's sim_* keys and train its model (cfg's model keys).
 * Errors: EINVAL (inconsistent sizes), ENOMEM, those of training. */
int ri_sim_world_build(ri_sim_world *w, const recint_config *cfg);
void ri_sim_world_free(ri_sim_world *w);
/* Click probability of item for user. */
double ri_sim_click_prob(const ri_sim_world *w, uint32_t user, uint32_t item);
/* The world's random stream of (purpose stream, user, round). */
void ri_sim_rng(const ri_sim_world *w, uint64_t stream, uint32_t user, uint64_t round, ri_rng *r);
/* Rounds of cfg's policy for the users past the background ones: totals into
 * out (RECINT_SIM_COUNT), per_round rows (may be NULL). */
int ri_sim_run(const ri_sim_world *w, const recint_config *cfg, double *out, double *per_round);

#endif
