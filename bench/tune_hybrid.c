/* Hyperparameter selection for the hybrid kind on P1 without touching its test
 * part: the P1 training rows are split again (temporal:0.2 per user) into a
 * sub-training and a validation part; every configuration is fitted on the
 * former with seeds 1, 2, 3 and scored on the latter (mean P@10, NDCG@10).
 * The defaults of docs/hybrid.md were chosen with it.
 *
 * usage: tune_hybrid DATASETS_DIR key=value ...   (one configuration per run) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "recint.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int fail(const char *what)
{
    fprintf(stderr, "tune_hybrid: %s: %s\n", what, recint_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tune_hybrid DATASETS_DIR key=value ...\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", argv[1]);
    recint_config *dcfg;
    recint_dataset *all, *pos, *train, *test, *sub, *valid, *sub_test;
    if (recint_config_new(&dcfg) || recint_config_set(dcfg, "min_weight", "4"))
        return fail("config");
    if (recint_dataset_new(&all, dcfg) || recint_dataset_load(all, path, dcfg))
        return fail(path);
    if (recint_dataset_filter(&pos, all, dcfg))
        return fail("filter");
    if (recint_dataset_split(pos, "temporal:0.2", 0, &train, NULL, &test))
        return fail("split");
    /* valid carved from train: the test part is never looked at */
    if (recint_dataset_split(train, "temporal:0.2", 0, &sub, NULL, &sub_test))
        return fail("split train");
    valid = sub_test;
    double sum_p = 0, sum_n = 0, cpu = 0;
    for (int seed = 1; seed <= 3; seed++) {
        recint_config *cfg;
        recint_model *m;
        recint_trainer *t;
        char sv[16];
        snprintf(sv, sizeof sv, "%d", seed);
        if (recint_config_new(&cfg) || recint_config_set(cfg, "seed", sv) ||
            recint_config_set(cfg, "threads", "1"))
            return fail("config");
        for (int a = 2; a < argc; a++)
            if (recint_config_set_pair(cfg, argv[a]))
                return fail(argv[a]);
        if (recint_model_new(&m, "hybrid", cfg) || recint_trainer_new(&t, m, cfg))
            return fail("model");
        double c0 = cpu_seconds();
        if (recint_trainer_fit(t, sub, NULL, NULL, NULL))
            return fail("fit");
        cpu += cpu_seconds() - c0;
        double v[RECINT_METRIC_COUNT];
        if (recint_evaluate(m, sub, valid, 10, cfg, v, RECINT_METRIC_COUNT))
            return fail("evaluate");
        sum_p += v[RECINT_METRIC_PRECISION];
        sum_n += v[RECINT_METRIC_NDCG];
        recint_trainer_free(t);
        recint_model_free(m);
        recint_config_free(cfg);
    }
    printf("valid P@10 %.4f NDCG@10 %.4f cpu/fit %.3f s  ", sum_p / 3, sum_n / 3, cpu / 3);
    for (int a = 2; a < argc; a++)
        printf(" %s", argv[a]);
    printf("\n");
    recint_dataset_free(all);
    recint_dataset_free(pos);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(sub);
    recint_dataset_free(sub_test);
    recint_config_free(dcfg);
    return 0;
}
