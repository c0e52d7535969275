/* Speed, quality and memory of the hybrid kind on the P1 and P3 protocols
 * (/work/shared/bench/PROTOCOLS.md), public API only.
 *
 * usage: bench_hybrid p1 [DATASETS_DIR]        P1 (u.data, rating >= 4, temporal:0.2), losses
 *                                              warp and bpr at their library defaults, dim=64,
 *                                              threads=2: 5 fits (seeds 1..5), median fit wall
 *                                              and CPU seconds, P@10 / NDCG@10 mean of seeds 1..3
 *        bench_hybrid synthetic S|M|L [epochs [key=value ...]]
 *                                              recint_dataset_synthetic preset (syn_scale), loss
 *                                              warp, dim=64, threads=2, 1 epoch by default, other
 *                                              keys at their defaults unless given (LightFM's P3
 *                                              figure is at its max_sampled=10): seconds per
 *                                              epoch, peak RSS against the size of the
 *                                              interaction data plus the parameters
 * Environment: RECINT_DATASETS is the fallback datasets directory for p1.
 * CPU seconds are the process's user+system time during the fit: on a machine
 * shared with other jobs they measure the work, while wall time is inflated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "recint.h"


#define BENCH_THREADS "2"
#define BENCH_DIM 64
#define P1_REPEATS 5
#define P1_QUALITY_SEEDS 3

/* Current resident set (not the peak), from /proc/self/statm; 0 if unreadable. */
static double rss_now_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (double)res * 4096.0 / (1024.0 * 1024.0);
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_hybrid: %s: %s\n", what, recint_last_error());
    return 1;
}

static recint_config *bench_config(const char *loss, int seed, const char *epochs)
{
    recint_config *cfg = NULL;
    char sv[32], dv[16];
    snprintf(sv, sizeof sv, "%d", seed);
    snprintf(dv, sizeof dv, "%d", BENCH_DIM);
    if (recint_config_new(&cfg) != RECINT_OK || recint_config_set(cfg, "loss", loss) ||
        recint_config_set(cfg, "dim", dv) || recint_config_set(cfg, "threads", BENCH_THREADS) ||
        recint_config_set(cfg, "seed", sv) ||
        (epochs && recint_config_set(cfg, "epochs", epochs))) {
        fail("config");
        recint_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* One fit: wall and CPU seconds. */
static int fit_once(recint_model **out, const recint_config *cfg, const recint_dataset *train,
                    double *wall, double *cpu)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    if (recint_model_new(&m, "hybrid", cfg) != RECINT_OK)
        return fail("model_new hybrid");
    if (recint_trainer_new(&t, m, cfg) != RECINT_OK) {
        recint_model_free(m);
        return fail("trainer_new");
    }
    double c0 = cpu_seconds(), w0 = now();
    int rc = recint_trainer_fit(t, train, NULL, NULL, NULL);
    *wall = now() - w0;
    *cpu = cpu_seconds() - c0;
    recint_trainer_free(t);
    if (rc != RECINT_OK) {
        recint_model_free(m);
        return fail("trainer_fit");
    }
    *out = m;
    return 0;
}

static void print_settings(const recint_config *cfg)
{
    static const char *const keys[] = {"loss", "dim", "epochs", "learning_rate", "optimizer",
                                       "max_sampled", "user_alpha", "item_alpha", "threads",
                                       "user_history", "user_history_halflife"};
    printf("  settings:");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char v[64];
        if (recint_config_get(cfg, keys[i], v, sizeof v) == RECINT_OK)
            printf(" %s=%s", keys[i], v);
    }
    printf(" (epochs 0 / learning_rate 0 / user_history auto / halflife -1: the loss's "
           "documented default)\n");
}

static int p1(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dir);
    recint_config *dcfg;
    recint_dataset *raw, *pos, *train, *test;
    if (recint_config_new(&dcfg) || recint_config_set(dcfg, "delimiter", "tab") ||
        recint_config_set(dcfg, "min_weight", "4"))
        return fail("config");
    if (recint_dataset_new(&raw, dcfg) || recint_dataset_load(raw, path, dcfg))
        return fail(path);
    if (recint_dataset_filter(&pos, raw, dcfg) ||
        recint_dataset_split(pos, "temporal:0.2", 0, &train, NULL, &test))
        return fail("filter/split");
    printf("P1: %llu train rows, %llu test rows\n",
           (unsigned long long)recint_dataset_n_interactions(train),
           (unsigned long long)recint_dataset_n_interactions(test));
    static const char *const losses[] = {"warp", "bpr"};
    for (size_t l = 0; l < 2; l++) {
        double wall[P1_REPEATS], cpu[P1_REPEATS], prec = 0, ndcg = 0;
        for (int r = 0; r < P1_REPEATS; r++) {
            recint_config *cfg = bench_config(losses[l], r + 1, NULL);
            recint_model *m;
            if (!cfg || fit_once(&m, cfg, train, &wall[r], &cpu[r]))
                return 1;
            if (r == 0)
                print_settings(cfg);
            if (r < P1_QUALITY_SEEDS) {
                double v[RECINT_METRIC_COUNT];
                if (recint_evaluate(m, train, test, 10, cfg, v, RECINT_METRIC_COUNT))
                    return fail("evaluate");
                prec += v[RECINT_METRIC_PRECISION] / P1_QUALITY_SEEDS;
                ndcg += v[RECINT_METRIC_NDCG] / P1_QUALITY_SEEDS;
            }
            recint_model_free(m);
            recint_config_free(cfg);
        }
        double w = median(wall, P1_REPEATS), c = median(cpu, P1_REPEATS);
        printf("  %-5s fit %.3f s wall (median of %d), %.3f s CPU (CPU/wall %.2f); "
               "P@10 %.4f NDCG@10 %.4f (mean of seeds 1..%d)\n",
               losses[l], w, P1_REPEATS, c, c / w, prec, ndcg, P1_QUALITY_SEEDS);
    }
    recint_dataset_free(raw);
    recint_dataset_free(pos);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_config_free(dcfg);
    return 0;
}

static int synthetic(const char *scale, const char *epochs, char **extra, int n_extra)
{
    recint_config *scfg;
    recint_dataset *ds;
    if (recint_config_new(&scfg) || recint_config_set(scfg, "syn_scale", scale) ||
        recint_config_set(scfg, "threads", BENCH_THREADS))
        return fail("config");
    double t0 = now();
    if (recint_dataset_synthetic(&ds, scfg, NULL))
        return fail("synthetic");
    const uint32_t nu = recint_dataset_n_users(ds), ni = recint_dataset_n_items(ds);
    const uint64_t nnz = recint_dataset_n_interactions(ds);
    /* CSR: item + weight + timestamp per row, one offset per user */
    const double data_mib = ((double)nnz * (4 + 4 + 8) + ((double)nu + 1) * 8) / (1024.0 * 1024.0);
    /* warp's default user history adds a table of items x dim (docs/hybrid.md) */
    int history = 1;
    for (int k = 0; k < n_extra; k++)
        history &= strcmp(extra[k], "user_history=none") != 0;
    const double param_mib = (((double)nu + ni) * (BENCH_DIM + 1) + (history ? (double)ni * BENCH_DIM : 0)) *
                             4 / (1024.0 * 1024.0);
    printf("synthetic %s: %u users x %u items x %llu interactions (generated in %.1f s)\n", scale,
           nu, ni, (unsigned long long)nnz, now() - t0);
    printf("  interaction data %.0f MiB + parameters %.0f MiB%s = %.0f MiB; RSS before the fit "
           "%.0f MiB (peak so far %.0f MiB, includes generation)\n",
           data_mib, param_mib, history ? " (with the history table)" : "", data_mib + param_mib, rss_now_mib(), peak_rss_mib());
    recint_config *cfg = bench_config("warp", 42, epochs);
    recint_model *m;
    double wall, cpu;
    if (!cfg)
        return 1;
    for (int k = 0; k < n_extra; k++)
        if (recint_config_set_pair(cfg, extra[k]))
            return fail(extra[k]);
    print_settings(cfg);
    double before = rss_now_mib();
    if (fit_once(&m, cfg, ds, &wall, &cpu))
        return 1;
    int n_epochs = atoi(epochs);
    printf("  warp: %d epoch(s) %.2f s wall, %.2f s CPU (%.2f s wall per epoch, fit setup "
           "included)\n", n_epochs, wall, cpu, wall / (n_epochs > 0 ? n_epochs : 1));
    printf("  RSS after the fit %.0f MiB (fit added %.0f MiB); peak RSS %.0f MiB = %.2fx "
           "(data + parameters)\n", rss_now_mib(), rss_now_mib() - before, peak_rss_mib(),
           peak_rss_mib() / (data_mib + param_mib));
    recint_model_free(m);
    recint_config_free(cfg);
    recint_config_free(scfg);
    recint_dataset_free(ds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "p1") == 0) {
        const char *dir = argc >= 3 ? argv[2] : getenv("RECINT_DATASETS");
        if (!dir) {
            fprintf(stderr, "bench_hybrid p1: give DATASETS_DIR or set RECINT_DATASETS\n");
            return 2;
        }
        return p1(dir);
    }
    if (argc >= 3 && strcmp(argv[1], "synthetic") == 0)
        return synthetic(argv[2], argc >= 4 ? argv[3] : "1", argv + 4, argc > 4 ? argc - 4 : 0);
    fprintf(stderr, "usage: bench_hybrid p1 [DATASETS_DIR] | synthetic S|M|L [epochs [key=value ...]]\n");
    return 2;
}
