/* Kind "factors": serves user and item vectors made elsewhere, R = U V^T + b.
 * There is nothing to learn, so it has no fit: recint_model_new_factors makes
 * it ready to serve, and a trainer refuses it. Ids are the indices 0..n-1 and
 * no item counts as seen (only filters and explicit exclusions remove items). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "models/model_private.h"

#define TAG_DIM "FACDIM"
#define TAG_USER "FACUSER"
#define TAG_ITEM "FACITEM"
#define TAG_BIAS "FACBIAS"

typedef struct {
    uint32_t n_users, n_items, dim;
    float *U;    /* n_users x dim, or NULL when empty */
    float *V;    /* n_items x dim, or NULL when dim 0 */
    float *bias; /* n_items, or NULL for zero */
} factors_state;

static void factors_destroy(void *state)
{
    factors_state *s = state;
    if (!s)
        return;
    free(s->U);
    free(s->V);
    free(s->bias);
    free(s);
}

/* A copy of rows x cols floats, or NULL for an empty block (*ok tells failure). */
static float *copy_block(const float *src, size_t rows, size_t cols, int *ok)
{
    size_t n;
    if (ri_mul_overflow(rows, cols, &n)) {
        *ok = 0;
        return NULL;
    }
    if (n == 0 || !src)
        return NULL;
    float *dst = RI_NEW_ARRAY(float, n);
    if (!dst)
        *ok = 0;
    else
        memcpy(dst, src, n * sizeof(float));
    return dst;
}

/* State holding copies of the arrays (checked by the callers). */
static int state_new(factors_state **out, uint32_t n_users, uint32_t n_items, uint32_t dim,
                     const float *U, const float *V, const float *bias)
{
    factors_state *s = RI_NEW_ZEROED(factors_state, 1);
    int ok = s != NULL;
    if (ok) {
        s->n_users = n_users;
        s->n_items = n_items;
        s->dim = dim;
        s->U = copy_block(U, n_users, dim, &ok);
        s->V = copy_block(V, n_items, dim, &ok);
        s->bias = copy_block(bias, n_items, 1, &ok);
    }
    if (!ok) {
        factors_destroy(s);
        return ri_error(RECINT_ENOMEM, "factors: out of memory for %u users and %u items of dim %u",
                        n_users, n_items, dim);
    }
    *out = s;
    return RECINT_OK;
}

/* First non-finite value of a rows x cols block, as (row, col); 0 when none. */
static int find_nonfinite(const float *a, size_t rows, size_t cols, size_t *row, size_t *col)
{
    for (size_t r = 0; a && r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            if (!isfinite(a[r * cols + c])) {
                *row = r;
                *col = c;
                return 1;
            }
    return 0;
}

static int check_finite(const char *fn, const char *what, const float *a, size_t rows, size_t cols)
{
    size_t r, c;
    if (!find_nonfinite(a, rows, cols, &r, &c))
        return RECINT_OK;
    float v = a[r * cols + c];
    return ri_error(RECINT_EINVAL, "%s: %s[%zu][%zu] is %s", fn, what, r, c,
                    isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
}

RECINT_API int recint_model_new_factors(recint_model **out, uint32_t n_users, uint32_t n_items,
                                        uint32_t dim, const float *user_factors,
                                        const float *item_factors, const float *item_bias,
                                        const recint_config *cfg)
{
    static const char fn[] = "recint_model_new_factors";
    if (!out)
        return ri_error(RECINT_EINVAL, "%s: out is NULL", fn);
    if (n_items == 0)
        return ri_error(RECINT_EINVAL, "%s: n_items must be >= 1", fn);
    if (dim == 0 && (user_factors || item_factors))
        return ri_error(RECINT_EINVAL,
                        "%s: dim is 0 but factor arrays were given (dim 0 serves item_bias alone: "
                        "pass NULL factors)", fn);
    if (dim > 0 && !item_factors)
        return ri_error(RECINT_EINVAL, "%s: item_factors is NULL with dim %u", fn, dim);
    if (dim > 0 && n_users > 0 && !user_factors)
        return ri_error(RECINT_EINVAL, "%s: user_factors is NULL with %u users of dim %u", fn,
                        n_users, dim);
    int rc = check_finite(fn, "user_factors", dim ? user_factors : NULL, n_users, dim);
    if (rc == RECINT_OK)
        rc = check_finite(fn, "item_factors", item_factors, n_items, dim);
    if (rc == RECINT_OK && item_bias) {
        size_t r, c;
        if (find_nonfinite(item_bias, n_items, 1, &r, &c))
            rc = ri_error(RECINT_EINVAL, "%s: item_bias[%zu] is not finite", fn, r);
    }
    ri_isa isa;
    if (rc == RECINT_OK)
        rc = ri_serving_isa(cfg, 0, &isa);
    if (rc)
        return rc;
    factors_state *s;
    rc = state_new(&s, n_users, n_items, dim, dim ? user_factors : NULL, item_factors, item_bias);
    if (rc)
        return rc;
    return ri_model_from_state(out, &ri_factors_ops, cfg, n_users, n_items, s);
}

static int factors_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const factors_state *s = state;
    out->dim = s->dim;
    out->item_mat = s->V;
    out->item_stride = s->dim;
    out->item_bias = s->bias;
    out->user_mat = s->U;
    out->user_stride = s->dim;
    return RECINT_OK;
}

static int factors_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    const factors_state *s = state;
    uint32_t dim = s->dim;
    int rc = ri_fmt_add(w, TAG_DIM, RI_FMT_U32, &s->dim, sizeof dim);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_USER, RI_FMT_F32, s->U, (uint64_t)m->n_users * dim * sizeof(float));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_ITEM, RI_FMT_F32, s->V, (uint64_t)m->n_items * dim * sizeof(float));
    if (rc == RECINT_OK && s->bias)
        rc = ri_fmt_add(w, TAG_BIAS, RI_FMT_F32, s->bias, (uint64_t)m->n_items * sizeof(float));
    return rc;
}

static int load_block(const ri_fmt_reader *r, const char *tag, uint64_t rows, uint32_t cols,
                      const float **out)
{
    const void *d;
    int rc = ri_fmt_array(r, tag, RI_FMT_F32, rows * cols, &d, NULL);
    if (rc)
        return rc;
    size_t br, bc;
    if (find_nonfinite(d, (size_t)rows, cols, &br, &bc))
        return ri_error(RECINT_EFORMAT, "%s: section %s: value [%zu][%zu] is not finite", r->name,
                        tag, br, bc);
    *out = d;
    return RECINT_OK;
}

static int factors_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    const void *d;
    int rc = ri_fmt_array(r, TAG_DIM, RI_FMT_U32, 1, &d, NULL);
    if (rc)
        return rc;
    uint32_t dim = *(const uint32_t *)d;
    const float *U = NULL, *V = NULL, *bias = NULL;
    /* Element counts are checked against the file, so dim cannot ask for more
     * memory than the file holds. */
    rc = load_block(r, TAG_USER, m->n_users, dim, &U);
    if (rc == RECINT_OK)
        rc = load_block(r, TAG_ITEM, m->n_items, dim, &V);
    ri_fmt_section sec;
    if (rc == RECINT_OK && ri_fmt_find(r, TAG_BIAS, &sec) == RECINT_OK)
        rc = load_block(r, TAG_BIAS, m->n_items, 1, &bias);
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, ((uint64_t)m->n_users + m->n_items) * dim + (bias ? m->n_items : 0),
                           sizeof(float), "the factor vectors");
    if (rc)
        return rc;
    factors_state *s;
    rc = state_new(&s, m->n_users, m->n_items, dim, dim ? U : NULL, dim ? V : NULL, bias);
    if (rc)
        return rc;
    *state_out = s;
    return RECINT_OK;
}

const ri_model_ops ri_factors_ops = {
    .name = "factors",
    .check_config = NULL,
    .destroy = factors_destroy,
    .fit = NULL, /* made from given arrays: recint_model_new_factors */
    .linear = factors_linear,
    .user_vector = NULL, /* user_mat holds them */
    .save_sections = factors_save,
    .load_sections = factors_load,
};
