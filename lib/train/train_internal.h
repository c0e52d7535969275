/* What lib/train gives the layers below it, as function pointers they are handed. */
#ifndef RI_TRAIN_INTERNAL_H
#define RI_TRAIN_INTERNAL_H

#include "models/model_internal.h"

/* ri_fit_validate_fn of every fit the trainer runs: a->valid evaluated on state
 * served on the training catalogue (see ri_fit_validate for the metric).
 * Errors: EINVAL, ENOMEM, those of evaluation (prefixed "fit validation: "). */
int ri_train_validate(const ri_fit_args *a, const void *state, int next_item, double *out);

#endif
