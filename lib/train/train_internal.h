/* What lib/train gives the layers below it, as function pointers they are handed. */
#ifndef RI_TRAIN_INTERNAL_H
#define RI_TRAIN_INTERNAL_H

#include "models/model_internal.h"

/* Validation score of a candidate state for early stopping: a->valid
 * evaluated on state served on the training catalogue, at cut-off k with the
 * metric valid_metric names (auto: ndcg; next_item selects
 * recint_evaluate_next and auto full_ndcg). Reads state only. Errors: ENOMEM,
 * those of evaluation (prefixed "fit validation: "). */
int ri_train_validate(const ri_fit_args *a, const void *state, int next_item, double *out);

/* ri_fit_epochs_fn of every fit the trainer runs (lib/train/epochs.c). */
int ri_train_epochs(const ri_fit_args *a, const ri_epoch_steps *steps, void *kind);

#endif
