/* Copying a fitted model's vectors out (recint_model_factors): the linear view
 * every kind serves through (model_internal.h) is exactly what a vector
 * database, an ANN library or recint_model_new_factors takes, so the export
 * reads that view and nothing kind-specific. */
#include <string.h>

#include "models/model_internal.h"
#include "util/error.h"

RECINT_API int recint_model_factors(const recint_model *m, uint32_t n_users, uint32_t n_items,
                                    uint32_t dim, float *user_factors, float *item_factors,
                                    float *item_bias)
{
    static const char fn[] = "recint_model_factors";
    if (!m)
        return ri_error(RECINT_EINVAL, "%s: model is NULL", fn);
    ri_linear_view v;
    int rc = ri_model_linear(m, &v);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    const uint32_t nu = ri_model_users_count(m), ni = ri_model_items_count(m);
    /* The sizes are the caller's statement of what its arrays hold: a mismatch
     * would write past them, so it is refused, never clipped. */
    if (n_users != nu || n_items != ni || dim != v.dim)
        return ri_error(RECINT_EINVAL,
                        "%s: the arrays are for %u users x %u items x dim %u, the model has "
                        "%u x %u x dim %u (recint_model_n_users, _n_items, _dim)",
                        fn, n_users, n_items, dim, nu, ni, v.dim);
    /* Users first: a kind that computes them (sequential) can fail, and then
     * only user_factors has been written to. */
    if (user_factors && dim > 0) {
        for (uint32_t u = 0; u < nu; u++) {
            float *row = user_factors + (size_t)u * dim;
            if (v.user_mat) {
                memcpy(row, v.user_mat + (size_t)u * v.user_stride, (size_t)dim * sizeof(float));
            } else if ((rc = ri_model_user_vector(m, u, row)) != RECINT_OK) {
                return ri_error_prefix(rc, "%s: user index %u: ", fn, u);
            }
        }
    }
    if (item_factors && dim > 0)
        for (uint32_t i = 0; i < ni; i++)
            memcpy(item_factors + (size_t)i * dim, v.item_mat + (size_t)i * v.item_stride,
                   (size_t)dim * sizeof(float));
    if (item_bias) {
        if (v.item_bias)
            memcpy(item_bias, v.item_bias, (size_t)ni * sizeof(float));
        else
            for (uint32_t i = 0; i < ni; i++)
                item_bias[i] = 0.0f;
    }
    return RECINT_OK;
}
