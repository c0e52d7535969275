/* The trainer: holds the training configuration and hands a fit to the model's
 * kind, which builds a new state aside so that a canceled fit keeps the old one. */
#include <stdlib.h>

#include "util/alloc.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "train/train_internal.h"

struct recint_trainer {
    recint_model *model; /* borrowed: must outlive the trainer */
    recint_config *cfg;
};

RECINT_API int recint_trainer_new(recint_trainer **out, recint_model *m, const recint_config *cfg)
{
    if (!out || !m)
        return ri_error(RECINT_EINVAL, "recint_trainer_new: %s is NULL", !out ? "out" : "model");
    int rc = ri_cfg_check_kind(cfg, recint_model_kind(m), "recint_trainer_new");
    if (rc)
        return rc;
    recint_trainer *t = RI_NEW_ZEROED(recint_trainer, 1);
    if (!t)
        return ri_error(RECINT_ENOMEM, "recint_trainer_new: out of memory");
    rc = recint_config_copy(&t->cfg, cfg);
    if (rc) {
        free(t);
        return rc;
    }
    t->model = m;
    *out = t;
    return RECINT_OK;
}

RECINT_API void recint_trainer_free(recint_trainer *t)
{
    if (!t)
        return;
    recint_config_free(t->cfg);
    free(t);
}

RECINT_API int recint_trainer_fit(recint_trainer *t, const recint_dataset *train,
                                  const recint_dataset *valid, recint_progress_fn progress,
                                  void *ctx)
{
    if (!t || !train)
        return ri_error(RECINT_EINVAL, "recint_trainer_fit: %s is NULL", !t ? "trainer" : "train");
    return ri_model_fit(t->model, train, valid, t->cfg, ri_train_epochs, progress, ctx);
}

RECINT_API int recint_trainer_partial_fit(recint_trainer *t, const recint_dataset *data,
                                          recint_progress_fn progress, void *ctx)
{
    if (!t || !data)
        return ri_error(RECINT_EINVAL, "recint_trainer_partial_fit: %s is NULL",
                        !t ? "trainer" : "data");
    return ri_model_partial_fit(t->model, data, t->cfg, ri_train_epochs, progress, ctx);
}
