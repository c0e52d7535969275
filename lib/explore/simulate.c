/* The exploration simulator (docs/exploration.md). A world of items in interest
 * clusters grouped into genres, and users who truly like a few clusters of one
 * genre; background users' histories show all of them, the explored users'
 * only some. An ALS model is trained on those histories (so it can learn which
 * clusters go together, never which ones a given explored user hides); then
 * rounds in which an explorer shows every explored user a slate and clicks are
 * drawn from the true interests. Each user's rounds run in order on one worker with streams of
 * (seed, user, round), so the results do not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "explore/explore_internal.h"
#include "util/parallel.h"
#include "explore/simulate_internal.h"

/* Streams of the world and of the clicks, apart from the explorer's. */
#define SIM_STREAM_ITEMS (RI_STREAM_EXPLORE + (UINT64_C(1) << 52))
#define SIM_STREAM_USERS (RI_STREAM_EXPLORE + (UINT64_C(2) << 52))
#define SIM_STREAM_CLICKS (RI_STREAM_EXPLORE + (UINT64_C(3) << 52))
#define SIM_USER_MIX 0xC2B2AE3D27D4EB4Full

void ri_sim_world_free(ri_sim_world *w)
{
    if (!w)
        return;
    free(w->item_cluster);
    free(w->quality);
    free(w->clusters);
    free(w->affinity);
    free(w->oracle);
    recint_model_free(w->model);
    memset(w, 0, sizeof *w);
}

double ri_sim_click_prob(const ri_sim_world *w, uint32_t user, uint32_t item)
{
    const uint32_t c = w->item_cluster[item];
    const uint32_t *uc = w->clusters + (size_t)user * w->n_true;
    for (uint32_t t = 0; t < w->n_true; t++)
        if (uc[t] == c)
            return w->click * w->affinity[(size_t)user * w->n_true + t] * w->quality[item];
    return w->noise_click;
}

void ri_sim_rng(const ri_sim_world *w, uint64_t stream, uint32_t user, uint64_t round, ri_rng *r)
{
    ri_rng_seed(r, w->seed ^ ((uint64_t)user * SIM_USER_MIX), stream + round);
}

/* Distinct history items of user from the revealed clusters (the first
 * n_revealed of its true clusters). Items of cluster c are c, c + C, c + 2C, ... */
static uint32_t draw_history(const ri_sim_world *w, uint32_t user, uint32_t want, ri_rng *r,
                             uint32_t *pool, int64_t *out)
{
    uint32_t n = 0;
    const uint32_t *uc = w->clusters + (size_t)user * w->n_true;
    const uint32_t shown = user < w->n_background ? w->n_true : w->n_revealed;
    for (uint32_t t = 0; t < shown; t++)
        for (uint64_t i = uc[t]; i < w->n_items; i += w->n_clusters)
            pool[n++] = (uint32_t)i;
    uint32_t take = want < n ? want : n;
    for (uint32_t j = 0; j < take; j++) {
        uint32_t s = j + (uint32_t)ri_rng_below(r, n - j);
        uint32_t tmp = pool[j];
        pool[j] = pool[s];
        pool[s] = tmp;
        out[j] = pool[j];
    }
    return take;
}

static int build_people(ri_sim_world *w, const recint_config *cfg)
{
    const uint32_t U = w->n_users, I = w->n_items, C = w->n_clusters, T = w->n_true;
    w->item_cluster = RI_NEW_ARRAY(uint32_t, I);
    w->quality = RI_NEW_ARRAY(float, I);
    w->clusters = ri_malloc_array(U, (size_t)T * sizeof(uint32_t));
    w->affinity = ri_malloc_array(U, (size_t)T * sizeof(float));
    w->oracle = RI_NEW_ARRAY(double, U);
    if (!w->item_cluster || !w->quality || !w->clusters || !w->affinity || !w->oracle)
        return ri_error(RECINT_ENOMEM, "simulate: out of memory for %u users and %u items", U, I);
    (void)cfg;
    ri_rng r;
    ri_rng_seed(&r, w->seed, SIM_STREAM_ITEMS);
    for (uint32_t i = 0; i < I; i++) {
        w->item_cluster[i] = i % C;
        w->quality[i] = (float)(1.0 - w->quality_spread * ri_rng_uniform(&r));
    }
    const uint32_t G = w->genre, n_genres = (C + G - 1) / G;
    for (uint32_t u = 0; u < U; u++) {
        ri_sim_rng(w, SIM_STREAM_USERS, u, 0, &r);
        uint32_t *uc = w->clusters + (size_t)u * T;
        /* A genre with room for T clusters (the last may be short). */
        uint32_t g, lo, size;
        do {
            g = (uint32_t)ri_rng_below(&r, n_genres);
            lo = g * G;
            size = C - lo < G ? C - lo : G;
        } while (size < T);
        for (uint32_t t = 0; t < T; t++) {
            uint32_t c;
            int again;
            do {
                c = lo + (uint32_t)ri_rng_below(&r, size);
                again = 0;
                for (uint32_t s = 0; s < t; s++)
                    again |= uc[s] == c;
            } while (again);
            uc[t] = c;
            w->affinity[(size_t)u * T + t] = (float)(0.3 + 0.7 * ri_rng_uniform(&r));
        }
    }
    return RECINT_OK;
}

/* The oracle's expected clicks per round: the k best click probabilities among
 * the items the explorer may show (all but the user's history). */
static void oracle_values(ri_sim_world *w, uint32_t k)
{
    const recint_model *m = w->model;
    double best[64];
    for (uint32_t u = 0; u < w->n_users; u++) {
        /* The best items lie in the true clusters; everything else is noise. */
        uint32_t kk = k < 64 ? k : 64, nb = 0;
        const uint32_t *seen;
        size_t ns, s = 0;
        ri_model_seen(m, u, &seen, &ns);
        for (uint32_t i = 0; i < w->n_items; i++) {
            while (s < ns && seen[s] < i)
                s++;
            if (s < ns && seen[s] == i)
                continue;
            double p = ri_sim_click_prob(w, u, i);
            if (nb < kk) {
                uint32_t j = nb++;
                while (j > 0 && best[j - 1] < p) {
                    best[j] = best[j - 1];
                    j--;
                }
                best[j] = p;
            } else if (p > best[kk - 1]) {
                uint32_t j = kk - 1;
                while (j > 0 && best[j - 1] < p) {
                    best[j] = best[j - 1];
                    j--;
                }
                best[j] = p;
            }
        }
        double v = 0.0;
        for (uint32_t j = 0; j < nb; j++)
            v += best[j];
        /* Slates longer than 64: the rest at the noise rate at least. */
        if (k > kk)
            v += (double)(k - kk) * w->noise_click;
        w->oracle[u] = v;
    }
}

static int train_model(ri_sim_world *w, const recint_config *cfg)
{
    const uint32_t U = w->n_users, I = w->n_items, H = w->history;
    recint_dataset *ds = NULL;
    int64_t *ids = ri_malloc_array(U > I ? U : I, sizeof(int64_t));
    int64_t *hu = ri_malloc_array(H, sizeof(int64_t)), *hi = ri_malloc_array(H, sizeof(int64_t));
    uint32_t max_pool = (w->n_items / w->n_clusters + 1) * w->n_true;
    uint32_t *pool = RI_NEW_ARRAY(uint32_t, max_pool);
    int rc = RECINT_OK;
    if (!ids || !hu || !hi || !pool)
        rc = ri_error(RECINT_ENOMEM, "simulate: out of memory for the histories");
    if (rc == RECINT_OK)
        rc = recint_dataset_new(&ds, NULL);
    for (uint32_t i = 0; rc == RECINT_OK && i < (U > I ? U : I); i++)
        ids[i] = i;
    if (rc == RECINT_OK)
        rc = recint_dataset_reserve_ids(ds, U, ids, I, ids);
    for (uint32_t u = 0; rc == RECINT_OK && u < U; u++) {
        ri_rng r;
        ri_sim_rng(w, SIM_STREAM_USERS, u, 1, &r);
        uint32_t n = draw_history(w, u, H, &r, pool, hi);
        for (uint32_t j = 0; j < n; j++)
            hu[j] = u;
        rc = recint_dataset_add(ds, n, hu, hi, NULL, NULL);
    }
    if (rc == RECINT_OK)
        rc = recint_model_new(&w->model, "als", cfg);
    recint_trainer *t = NULL;
    if (rc == RECINT_OK)
        rc = recint_trainer_new(&t, w->model, cfg);
    if (rc == RECINT_OK)
        rc = recint_trainer_fit(t, ds, NULL, NULL, NULL);
    recint_trainer_free(t);
    recint_dataset_free(ds);
    free(ids);
    free(hu);
    free(hi);
    free(pool);
    return rc;
}

int ri_sim_world_build(ri_sim_world *w, const recint_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->n_users = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_USERS);
    w->n_items = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_ITEMS);
    w->n_clusters = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_CLUSTERS);
    w->n_true = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_TRUE_CLUSTERS);
    w->n_revealed = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_REVEALED);
    w->history = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_HISTORY);
    w->click = ri_cfg_float(cfg, RI_P_SIM_CLICK);
    w->noise_click = ri_cfg_float(cfg, RI_P_SIM_NOISE_CLICK);
    w->quality_spread = ri_cfg_float(cfg, RI_P_SIM_QUALITY_SPREAD);
    w->seed = (uint64_t)ri_cfg_int(cfg, RI_P_SEED);
    w->genre = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_GENRE);
    if (w->genre > w->n_clusters)
        w->genre = w->n_clusters;
    w->n_background = (uint32_t)floor(ri_cfg_float(cfg, RI_P_SIM_BACKGROUND) * w->n_users);
    if (w->n_true > w->genre)
        return ri_error(RECINT_EINVAL, "simulate: sim_true_clusters %u exceeds the clusters of a "
                        "genre (sim_genre %u)", w->n_true, w->genre);
    if (w->n_background >= w->n_users)
        return ri_error(RECINT_EINVAL, "simulate: no explored user: sim_background leaves none of "
                        "%u users", w->n_users);
    if (w->n_true > w->n_clusters)
        return ri_error(RECINT_EINVAL, "simulate: sim_true_clusters %u exceeds sim_clusters %u",
                        w->n_true, w->n_clusters);
    if (w->n_revealed > w->n_true)
        return ri_error(RECINT_EINVAL, "simulate: sim_revealed %u exceeds sim_true_clusters %u",
                        w->n_revealed, w->n_true);
    if (w->n_items < w->n_clusters)
        return ri_error(RECINT_EINVAL, "simulate: sim_items %u is below sim_clusters %u",
                        w->n_items, w->n_clusters);
    int rc = build_people(w, cfg);
    if (rc == RECINT_OK)
        rc = train_model(w, cfg);
    if (rc == RECINT_OK)
        oracle_values(w, (uint32_t)ri_cfg_int(cfg, RI_P_K));
    if (rc)
        ri_sim_world_free(w);
    return rc;
}

/* ------------------------------------------------------------------ rounds -- */

typedef struct {
    const ri_sim_world *w;
    recint_explorer *e;
    uint32_t k, round;
    uint32_t *shown;   /* users x k (UINT32_MAX: empty slot) */
    double *clicks;    /* users: this round's clicks */
    double *expected;  /* users: this round's expected clicks */
    uint8_t *found;    /* users x n_true: hidden cluster clicked */
} round_ctx;

static int run_users(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    round_ctx *c = ctx;
    const ri_sim_world *w = c->w;
    begin += w->n_background;
    end += w->n_background;
    for (size_t u = begin; u < end; u++) {
        uint32_t *slate = c->shown + u * c->k, got = 0;
        int rc = recint_explorer_recommend(c->e, (uint32_t)u, c->k, slate, NULL, &got);
        if (rc)
            return rc;
        for (uint32_t j = got; j < c->k; j++)
            slate[j] = UINT32_MAX;
        ri_rng r;
        ri_sim_rng(w, SIM_STREAM_CLICKS, (uint32_t)u, c->round, &r);
        double clicks = 0.0, expected = 0.0;
        for (uint32_t j = 0; j < got; j++) {
            double p = ri_sim_click_prob(w, (uint32_t)u, slate[j]);
            int click = ri_rng_uniform(&r) < p;
            expected += p;
            clicks += click;
            if (click) {
                const uint32_t *uc = w->clusters + u * w->n_true;
                for (uint32_t t = w->n_revealed; t < w->n_true; t++)
                    if (uc[t] == w->item_cluster[slate[j]])
                        c->found[u * w->n_true + t] = 1;
            }
            if ((rc = recint_explorer_observe(c->e, (uint32_t)u, slate[j], (float)click)))
                return rc;
        }
        c->clicks[u] = clicks;
        c->expected[u] = expected;
    }
    return RECINT_OK;
}

/* Share of the slate's pairs whose items lie in different clusters. */
static double slate_diversity(const ri_sim_world *w, const uint32_t *s, uint32_t k)
{
    uint64_t pairs = 0, diff = 0;
    for (uint32_t a = 0; a < k && s[a] != UINT32_MAX; a++)
        for (uint32_t b = a + 1; b < k && s[b] != UINT32_MAX; b++) {
            pairs++;
            diff += w->item_cluster[s[a]] != w->item_cluster[s[b]];
        }
    return pairs ? (double)diff / pairs : 0.0;
}

int ri_sim_run(const ri_sim_world *w, const recint_config *cfg, double *out, double *per_round)
{
    const uint32_t U = w->n_users, B = w->n_background, T = (uint32_t)ri_cfg_int(cfg, RI_P_SIM_ROUNDS);
    const uint32_t k = (uint32_t)ri_cfg_int(cfg, RI_P_K);
    const unsigned threads = ri_threads_resolve(ri_cfg_int(cfg, RI_P_THREADS));
    round_ctx c = {w, NULL, k, 0, NULL, NULL, NULL, NULL};
    uint8_t *covered = RI_NEW_ZEROED(uint8_t, w->n_items);
    c.shown = ri_malloc_array(U, (size_t)k * sizeof(uint32_t));
    c.clicks = RI_NEW_ARRAY(double, U);
    c.expected = RI_NEW_ARRAY(double, U);
    c.found = ri_calloc_array(U, w->n_true);
    int rc = RECINT_OK;
    if (!covered || !c.shown || !c.clicks || !c.expected || !c.found)
        rc = ri_error(RECINT_ENOMEM, "simulate: out of memory for %u users' slates", U);
    if (rc == RECINT_OK)
        rc = recint_explorer_new(&c.e, w->model, cfg);
    double reward = 0.0, regret = 0.0, div_sum = 0.0;
    uint64_t n_covered = 0, slates = 0;
    for (uint32_t t = 0; rc == RECINT_OK && t < T; t++) {
        c.round = t;
        rc = ri_parallel_for(threads, U - B, 16, run_users, &c);
        if (rc)
            break;
        for (uint32_t u = B; u < U; u++) {
            reward += c.clicks[u];
            regret += w->oracle[u] - c.expected[u];
            div_sum += slate_diversity(w, c.shown + (size_t)u * k, k);
            slates++;
            for (uint32_t j = 0; j < k; j++) {
                uint32_t i = c.shown[(size_t)u * k + j];
                if (i != UINT32_MAX && !covered[i]) {
                    covered[i] = 1;
                    n_covered++;
                }
            }
        }
        uint64_t found = 0, hidden = (uint64_t)(U - B) * (w->n_true - w->n_revealed);
        for (size_t x = (size_t)B * w->n_true; x < (size_t)U * w->n_true; x++)
            found += c.found[x];
        double row[RECINT_SIM_COUNT];
        row[RECINT_SIM_ROUNDS] = t + 1;
        row[RECINT_SIM_REWARD] = reward / (U - B);
        row[RECINT_SIM_REGRET] = regret / (U - B);
        row[RECINT_SIM_DISCOVERED] = hidden ? (double)found / hidden : 0.0;
        row[RECINT_SIM_COVERAGE] = (double)n_covered / w->n_items;
        row[RECINT_SIM_DIVERSITY] = slates ? div_sum / slates : 0.0;
        if (per_round)
            memcpy(per_round + (size_t)t * RECINT_SIM_COUNT, row, sizeof row);
        memcpy(out, row, sizeof row);
    }
    recint_explorer_free(c.e);
    free(covered);
    free(c.shown);
    free(c.clicks);
    free(c.expected);
    free(c.found);
    return rc;
}

RECINT_API int recint_simulate(const recint_config *cfg, double *out, size_t out_len,
                               double *per_round, size_t per_round_len)
{
    static const char fn[] = "recint_simulate";
    if (!out)
        return ri_error(RECINT_EINVAL, "%s: out is NULL", fn);
    if (out_len < RECINT_SIM_COUNT)
        return ri_error(RECINT_EINVAL, "%s: out holds %zu values, %d are written", fn, out_len,
                        RECINT_SIM_COUNT);
    const uint64_t T = (uint64_t)ri_cfg_int(cfg, RI_P_SIM_ROUNDS);
    if (per_round && per_round_len < T * RECINT_SIM_COUNT)
        return ri_error(RECINT_EINVAL, "%s: per_round holds %zu values, %llu rounds need %llu", fn,
                        per_round_len, (unsigned long long)T,
                        (unsigned long long)(T * RECINT_SIM_COUNT));
    /* The rows fill round by round and a later round may fail: they are kept
     * aside and copied out only when every round succeeded. */
    double *rows = NULL;
    if (per_round && T && !(rows = ri_malloc_array((size_t)T, RECINT_SIM_COUNT * sizeof(double))))
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %llu rounds' totals", fn,
                        (unsigned long long)T);
    ri_sim_world w;
    int rc = ri_sim_world_build(&w, cfg);
    double tmp[RECINT_SIM_COUNT] = {0};
    if (rc == RECINT_OK) {
        rc = ri_sim_run(&w, cfg, tmp, rows);
        ri_sim_world_free(&w);
    }
    if (rc == RECINT_OK && rows)
        memcpy(per_round, rows, (size_t)T * RECINT_SIM_COUNT * sizeof(double));
    free(rows);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    memcpy(out, tmp, sizeof tmp);
    return RECINT_OK;
}
