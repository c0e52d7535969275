/* The one epoch loop of every fit. A kind hands over its passes and its best-
 * state copy (ri_epoch_steps); the schedule lives here, so validation,
 * patience, restore and cancel mean the same for every kind. */
#include <math.h>

#include "util/config.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "train/train_internal.h"

int ri_train_epochs(const ri_fit_args *a, const ri_epoch_steps *st, void *kind)
{
    const int64_t patience = ri_cfg_int(ri_fit_cfg(a, RI_P_PATIENCE), RI_P_PATIENCE);
    const uint32_t every = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_VALID_EVERY), RI_P_VALID_EVERY);
    /* valid_every's range starts at 1; patience 0 means never stop early */
    const int early = a->valid && patience > 0 && st->keep;
    double best = -INFINITY;
    int64_t since_best = 0;
    int have_best = 0, rc;
    for (uint32_t ep = 0; ep < st->passes; ep++) {
        double loss = NAN;
        rc = st->pass(kind, ep, &loss);
        if (rc)
            return rc;
        int stop = 0;
        if (early && ((ep + 1) % every == 0 || ep + 1 == st->passes)) {
            double v;
            rc = st->ready ? st->ready(kind) : RECINT_OK;
            if (rc == RECINT_OK)
                rc = ri_train_validate(a, st->state, st->next_item, &v);
            if (rc)
                return rc;
            if (v > best) {
                best = v;
                since_best = 0;
                have_best = 1;
                rc = st->keep(kind, 0);
                if (rc)
                    return rc;
            } else if (++since_best >= patience) {
                stop = 1;
            }
        }
        if (a->progress && a->progress(a->ctx, ep + 1, st->passes, loss) != 0) {
            /* canceled: the kind keeps what is restored here, so its own
             * errors cannot replace the cancel */
            if (have_best)
                st->keep(kind, 1);
            if (st->ready)
                st->ready(kind);
            return ri_error(RECINT_ECANCELED, "%s: canceled by the progress callback after %s "
                            "%u of %u", st->what, st->unit, ep + 1, st->passes);
        }
        if (stop)
            break;
    }
    if (have_best)
        st->keep(kind, 1);
    return st->ready ? st->ready(kind) : RECINT_OK;
}
