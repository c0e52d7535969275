/* The fields of the model and filter handles: lib/models only (the layering
 * check refuses a *_private.h from another folder). The layers above read a
 * model through model_internal.h's accessors and the public API. */
#ifndef RI_MODEL_PRIVATE_H
#define RI_MODEL_PRIVATE_H

#include "models/model_internal.h"

struct recint_model {
    const ri_model_ops *ops;
    recint_config *cfg;
    int fitted;
    uint32_t n_users, n_items;
    recint_idmap *users, *items;
    /* The training rows of each user (CSR, items ascending): excluded by recommend. */
    uint64_t *seen_indptr; /* n_users + 1 */
    uint32_t *seen_items;
    void *state;
    ri_serving serve;
    /* recint_model_set_features' copies for the next fit (NULL: identity). */
    recint_features *user_features, *item_features;
};

/* The recint_filter handle (filter.c); read by serve.c. */
struct recint_filter {
    uint32_t n_items;
    uint64_t *allow; /* (n_items + 63) / 64 words, or NULL: every item allowed */
    uint64_t *block; /* same, or NULL: nothing blocked */
    int include_seen;
};

#endif
