/* Training throughput and peak memory of the sequential kind on P2 (ML100K,
 * leave-one-out; /work/shared/bench/PROTOCOLS.md), public API only.
 *
 * usage: bench_sequential [--data U_DATA] [--epochs N] [--eval] [key=value ...]
 *   Default settings: SASRec's reference configuration (maxlen 200, dim 50,
 *   2 blocks, 1 head, batch 128, dropout 0.2, bce with one negative, Adam 1e-3),
 *   threads=2, 10 epochs; key=value pairs override them (loss=auto for the
 *   kind's default objective). --eval also reports the P2 test metrics.
 * Reported: wall and CPU seconds of every epoch (CPU / wall near 2 means both
 * threads had a core; lower means the timing is inflated by other processes),
 * the median epoch, and the peak RSS of the process (dataset + training).
 * Environment: RECINT_DATASETS locates ml-100k/u.data when --data is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "recint.h"


#define MAX_EPOCHS 100000

static const char *const reference[] = {
    "maxlen=200", "dim=50",   "blocks=2",    "heads=1",         "batch_size=128",
    "dropout=0.2", "loss=bce", "negatives=1", "learning_rate=0.001", "threads=2",
    "norm=pre",    NULL};

static int fail(const char *what)
{
    fprintf(stderr, "bench_sequential: %s: %s\n", what, recint_last_error());
    return 1;
}

typedef struct {
    double *wall, *cpu; /* at the end of each epoch; [0] = start */
    uint32_t done;
} clock_log;

static int on_epoch(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    clock_log *c = ctx;
    c->wall[step] = now();
    c->cpu[step] = cpu_seconds();
    c->done = step;
    printf("epoch %4u/%u  loss %.5f  wall %.3f s  cpu %.3f s\n", step, steps, loss,
           c->wall[step] - c->wall[step - 1], c->cpu[step] - c->cpu[step - 1]);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *data = NULL;
    unsigned long epochs = 10;
    int eval = 0;
    recint_config *cfg;
    if (recint_config_new(&cfg) != RECINT_OK)
        return fail("config");
    for (const char *const *kv = reference; *kv; kv++)
        if (recint_config_set_pair(cfg, *kv) != RECINT_OK)
            return fail(*kv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
            epochs = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--eval") == 0) {
            eval = 1;
        } else if (recint_config_set_pair(cfg, argv[i]) != RECINT_OK) {
            fprintf(stderr, "usage: bench_sequential [--data U_DATA] [--epochs N] [--eval] "
                            "[key=value ...]\n");
            return fail(argv[i]);
        }
    }
    if (epochs < 1 || epochs > MAX_EPOCHS) {
        fprintf(stderr, "bench_sequential: --epochs must be in [1, %d]\n", MAX_EPOCHS);
        return 1;
    }
    if (!data) {
        const char *dir = getenv("RECINT_DATASETS");
        snprintf(path, sizeof path, "%s/ml-100k/u.data", dir ? dir : "../shared/datasets");
        data = path;
    }
    char num[32];
    snprintf(num, sizeof num, "%lu", epochs);
    recint_config_set(cfg, "epochs", num);

    recint_dataset *ds = NULL, *train = NULL, *test = NULL;
    if (recint_dataset_new(&ds, cfg) != RECINT_OK || recint_dataset_load(ds, data, cfg) != RECINT_OK)
        return fail(data);
    if (recint_dataset_split(ds, "loo", 42, &train, NULL, &test) != RECINT_OK)
        return fail("split");
    char v[64];
    printf("P2: %s, %llu training rows (train + validation), %u users, %u items\nsettings:", data,
           (unsigned long long)recint_dataset_n_interactions(train), recint_dataset_n_users(train),
           recint_dataset_n_items(train));
    static const char *const shown[] = {"maxlen", "dim",     "blocks",    "heads",
                                        "batch_size", "dropout", "loss",   "negatives",
                                        "learning_rate", "norm", "activation", "threads", "epochs"};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        recint_config_get(cfg, shown[i], v, sizeof v);
        printf(" %s=%s", shown[i], v);
    }
    printf("\nBLIS: one thread per call, parallel across sequences\n");

    recint_model *m = NULL;
    recint_trainer *t = NULL;
    clock_log log = {calloc(epochs + 1, sizeof(double)), calloc(epochs + 1, sizeof(double)), 0};
    if (!log.wall || !log.cpu)
        return 1;
    if (recint_model_new(&m, "sequential", cfg) != RECINT_OK ||
        recint_trainer_new(&t, m, cfg) != RECINT_OK)
        return fail("model");
    log.wall[0] = now();
    log.cpu[0] = cpu_seconds();
    if (recint_trainer_fit(t, train, NULL, on_epoch, &log) != RECINT_OK)
        return fail("fit");
    const double wall = now() - log.wall[0], cpu = cpu_seconds() - log.cpu[0];
    double *per = malloc(log.done * sizeof(double)), *per_cpu = malloc(log.done * sizeof(double));
    if (!per || !per_cpu)
        return 1;
    for (uint32_t e = 0; e < log.done; e++) {
        per[e] = log.wall[e + 1] - log.wall[e];
        per_cpu[e] = log.cpu[e + 1] - log.cpu[e];
    }
    qsort(per, log.done, sizeof(double), cmp_double);
    qsort(per_cpu, log.done, sizeof(double), cmp_double);
    printf("fit: %u epochs in %.2f s wall, %.2f s CPU (CPU/wall %.2f)\n", log.done, wall, cpu,
           cpu / wall);
    printf("median epoch: %.3f s wall, %.3f s CPU\n", per[log.done / 2], per_cpu[log.done / 2]);
    printf("peak RSS (dataset + training): %.1f MiB\n", peak_rss_mib());
    if (eval) {
        double mt[RECINT_METRIC_COUNT];
        if (recint_evaluate_next(m, train, test, 10, cfg, mt, RECINT_METRIC_COUNT) != RECINT_OK)
            return fail("evaluate");
        printf("P2 test: full HR@10 %.4f NDCG@10 %.4f | sampled-100 HR@10 %.4f NDCG@10 %.4f\n",
               mt[RECINT_METRIC_FULL_HR], mt[RECINT_METRIC_FULL_NDCG],
               mt[RECINT_METRIC_SAMPLED_HR], mt[RECINT_METRIC_SAMPLED_NDCG]);
    }
    free(per);
    free(per_cpu);
    free(log.wall);
    free(log.cpu);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_config_free(cfg);
    return 0;
}
