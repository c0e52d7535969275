/* Time and memory of the synthetic generator at a given shape.
 *
 * usage: bench_synthetic S|M|L [threads]
 *        bench_synthetic USERS ITEMS INTERACTIONS [threads]
 * Prints the shape, seconds, interactions per second and peak RSS. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "recint.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int set(recint_config *cfg, const char *key, const char *value)
{
    int rc = recint_config_set(cfg, key, value);
    if (rc != RECINT_OK)
        fprintf(stderr, "bench_synthetic: %s=%s: %s\n", key, value, recint_last_error());
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_synthetic S|M|L [threads]\n"
                    "       bench_synthetic USERS ITEMS INTERACTIONS [threads]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    recint_config *cfg = NULL;
    if (recint_config_new(&cfg) != RECINT_OK) {
        fprintf(stderr, "bench_synthetic: %s\n", recint_last_error());
        return 1;
    }
    int preset = strlen(argv[1]) == 1 && strchr("SML", argv[1][0]) != NULL;
    int ok;
    const char *threads = NULL;
    if (preset) {
        ok = set(cfg, "syn_scale", argv[1]) == RECINT_OK;
        threads = argc > 2 ? argv[2] : NULL;
    } else if (argc >= 4) {
        ok = set(cfg, "syn_users", argv[1]) == RECINT_OK && set(cfg, "syn_items", argv[2]) == RECINT_OK &&
             set(cfg, "syn_interactions", argv[3]) == RECINT_OK;
        threads = argc > 4 ? argv[4] : NULL;
    } else {
        recint_config_free(cfg);
        return usage();
    }
    if (ok && threads)
        ok = set(cfg, "threads", threads) == RECINT_OK;
    if (!ok) {
        recint_config_free(cfg);
        return 2;
    }

    recint_dataset *ds = NULL;
    double t0 = now();
    int rc = recint_dataset_synthetic(&ds, cfg, NULL);
    double secs = now() - t0;
    if (rc != RECINT_OK) {
        fprintf(stderr, "bench_synthetic: %s\n", recint_last_error());
        recint_config_free(cfg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t nnz = recint_dataset_n_interactions(ds);
    char thr[32];
    recint_config_get(cfg, "threads", thr, sizeof thr);
    printf("shape        %u users x %u items x %llu interactions\n", recint_dataset_n_users(ds),
           recint_dataset_n_items(ds), (unsigned long long)nnz);
    printf("threads      %s\n", thr);
    printf("seconds      %.3f\n", secs);
    printf("interactions/s %.3g\n", (double)nnz / secs);
    printf("peak RSS     %.1f MiB (%.1f bytes per interaction)\n", (double)ru.ru_maxrss / 1024.0,
           (double)ru.ru_maxrss * 1024.0 / (double)nnz);
    recint_dataset_free(ds);
    recint_config_free(cfg);
    return 0;
}
