/* The smallest complete use of librecint: make data, split it, train the
 * popularity baseline, evaluate it, and recommend to one user.
 * Build: cc quickstart.c $(pkg-config --cflags --libs recint) */
#include <stdio.h>

#include "recint.h"

/* Every fallible call returns RECINT_OK or a negative code; the message says why. */
#define CHECK(call)                                                               \
    do {                                                                          \
        int rc_ = (call);                                                         \
        if (rc_ != RECINT_OK) {                                                   \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, recint_strerror(rc_), \
                    recint_last_error());                                         \
            goto done;                                                            \
        }                                                                         \
    } while (0)

int main(void)
{
    int status = 1;
    recint_config *cfg = NULL;
    recint_dataset *data = NULL, *train = NULL, *test = NULL;
    recint_model *model = NULL;
    recint_trainer *trainer = NULL;

    CHECK(recint_config_new(&cfg));
    CHECK(recint_config_set(cfg, "syn_users", "1000"));
    CHECK(recint_config_set(cfg, "syn_interactions", "30000"));
    CHECK(recint_dataset_synthetic(&data, cfg, NULL));
    /* Per user, the latest 20% of interactions become the test set. */
    CHECK(recint_dataset_split(data, "temporal:0.2", 42, &train, NULL, &test));

    CHECK(recint_model_new(&model, "pop", cfg));
    CHECK(recint_trainer_new(&trainer, model, cfg));
    CHECK(recint_trainer_fit(trainer, train, NULL, NULL, NULL));

    double m[RECINT_METRIC_COUNT];
    CHECK(recint_evaluate(model, train, test, 10, cfg, m, RECINT_METRIC_COUNT));
    printf("precision@10 %.4f  recall@10 %.4f  ndcg@10 %.4f  auc %.4f\n",
           m[RECINT_METRIC_PRECISION], m[RECINT_METRIC_RECALL], m[RECINT_METRIC_NDCG],
           m[RECINT_METRIC_AUC]);

    /* Recommendations use dense indices; the model's id maps give external ids. */
    uint32_t items[10], n = 0;
    float scores[10];
    int64_t user_id, item_id;
    CHECK(recint_model_recommend(model, 0, 10, items, scores, &n));
    CHECK(recint_idmap_id(recint_model_users(model), 0, &user_id));
    printf("top-%u for user %lld:", n, (long long)user_id);
    for (uint32_t i = 0; i < n; i++) {
        CHECK(recint_idmap_id(recint_model_items(model), items[i], &item_id));
        printf(" %lld", (long long)item_id);
    }
    printf("\n");
    status = 0;
done:
    recint_trainer_free(trainer);
    recint_model_free(model);
    recint_dataset_free(test);
    recint_dataset_free(train);
    recint_dataset_free(data);
    recint_config_free(cfg);
    return status;
}
