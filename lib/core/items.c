/* The item side of the scoring core: validated copies of W, bias and scale in
 * the layouts the kernels read (see items_internal.h), and the int8 copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "core/kernels.h"

static int check_finite(const char *what, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return ri_error(RECINT_EINVAL, "%s[%zu] is %s", what, i, isnan(v[i]) ? "NaN" : "infinite");
    return RECINT_OK;
}

static int check_matrix(uint32_t n, uint32_t dim, const float *W, size_t ldw)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *row = W + (size_t)i * ldw;
        for (uint32_t j = 0; j < dim; j++)
            if (!isfinite(row[j]))
                return ri_error(RECINT_EINVAL, "item %u, dim %u of the item matrix is %s", i, j,
                                isnan(row[j]) ? "NaN" : "infinite");
    }
    return RECINT_OK;
}

/* A copy padded with fill up to whole panels. */
static float *padded_copy(const float *src, uint32_t n, size_t n_panels, float fill)
{
    size_t len = n_panels * RI_PANEL;
    float *p = ri_aligned_alloc(len ? len : 1, sizeof(float));
    if (!p)
        return NULL;
    if (n)
        memcpy(p, src, (size_t)n * sizeof(float));
    for (size_t i = n; i < len; i++)
        p[i] = fill;
    return p;
}

static void free_int8(ri_core_items *it)
{
    free(it->codes);
    ri_aligned_free(it->qscale);
    ri_aligned_free(it->qpanels);
    it->codes = NULL;
    it->qscale = NULL;
    it->qpanels = NULL;
    it->has_int8 = 0;
}

void ri_core_items_free(ri_core_items *it)
{
    if (!it)
        return;
    ri_aligned_free(it->W);
    ri_aligned_free(it->bias);
    ri_aligned_free(it->scale);
    ri_aligned_free(it->panels);
    free_int8(it);
    free(it);
}

static int build_panels(ri_core_items *it)
{
    size_t total;
    if (ri_mul_overflow(it->n_panels * RI_PANEL, it->dim, &total))
        return ri_error(RECINT_ENOMEM, "item panels: %u items x %u dims overflow", it->n, it->dim);
    float *P = ri_aligned_alloc(total, sizeof(float));
    if (!P)
        return ri_error(RECINT_ENOMEM, "items: out of memory for the panels of %u items x %u dims",
                        it->n, it->dim);
    memset(P, 0, total * sizeof(float));
    size_t dim = it->dim;
    for (size_t i = 0; i < it->n; i++) {
        float *dst = P + (i / RI_PANEL) * dim * RI_PANEL + i % RI_PANEL;
        const float *row = it->W + i * dim;
        for (size_t j = 0; j < dim; j++)
            dst[j * RI_PANEL] = row[j];
    }
    it->panels = P;
    return RECINT_OK;
}

/* Takes ownership of codes and scales (freed on failure too). */
static int attach_int8(ri_core_items *it, int8_t *codes, float *scales)
{
    size_t dim4 = ri_q_dim4(it->dim), total;
    uint8_t *Q = NULL;
    float *qs = NULL;
    if (ri_mul_overflow(it->n_panels * RI_PANEL, dim4, &total)) {
        ri_error(RECINT_ENOMEM, "int8 panels: %u items x %u dims overflow", it->n, it->dim);
        goto fail;
    }
    Q = ri_aligned_alloc(total ? total : 1, 1);
    qs = Q ? padded_copy(scales, it->n, it->n_panels, 1.0f) : NULL;
    if (!Q || !qs) {
        ri_error(RECINT_ENOMEM, "int8 panels: out of memory for %u items x %u dims", it->n,
                 it->dim);
        goto fail;
    }
    memset(Q, 128, total);
    for (size_t i = 0; i < it->n; i++) {
        size_t p = i / RI_PANEL, lane = i % RI_PANEL;
        for (size_t j = 0; j < it->dim; j++)
            Q[((p * (dim4 / 4) + j / 4) * RI_PANEL + lane) * 4 + j % 4] =
                (uint8_t)(codes[i * it->dim + j] + 128);
    }
    free(scales);
    free_int8(it);
    it->codes = codes;
    it->qscale = qs;
    it->qpanels = Q;
    it->has_int8 = 1;
    return RECINT_OK;
fail:
    ri_aligned_free(Q);
    ri_aligned_free(qs);
    free(codes);
    free(scales);
    return RECINT_ENOMEM;
}

/* Symmetric per-item quantisation: scale = max|w| / 127, codes in [-127, 127].
 * An all-zero item gets scale 1 so every stored scale is positive. */
static int quantize(ri_core_items *it)
{
    size_t n = it->n, dim = it->dim, total = n * dim; /* fits: W was allocated */
    int8_t *codes = RI_NEW_ARRAY(int8_t, total ? total : 1);
    float *scales = RI_NEW_ARRAY(float, n ? n : 1);
    if (!codes || !scales) {
        free(codes);
        free(scales);
        return ri_error(RECINT_ENOMEM, "int8 copy: out of memory for %zu items x %zu dims", n, dim);
    }
    for (size_t i = 0; i < n; i++) {
        /* dim 0 (pop) has no W: NULL plus an offset, even 0, is undefined */
        const float *row = dim ? it->W + i * dim : NULL;
        float m = 0.0f;
        for (size_t j = 0; j < dim; j++)
            m = fmaxf(m, fabsf(row[j]));
        float s = m > 0.0f ? m / 127.0f : 1.0f;
        scales[i] = s;
        for (size_t j = 0; j < dim; j++) {
            long c = lroundf(row[j] / s);
            codes[i * dim + j] = (int8_t)(c > 127 ? 127 : c < -127 ? -127 : c);
        }
    }
    return attach_int8(it, codes, scales);
}

int ri_core_items_new(ri_core_items **out, uint32_t n, uint32_t dim, const float *W, size_t ldw,
                      const float *bias, const float *scale, unsigned flags)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "items: NULL output");
    if (dim > 0 && n > 0 && !W)
        return ri_error(RECINT_EINVAL, "items: NULL matrix for %u x %u", n, dim);
    if (dim > 0 && ldw < dim)
        return ri_error(RECINT_EINVAL, "items: row stride %zu < dim %u", ldw, dim);
    if (flags & ~RI_CORE_INT8)
        return ri_error(RECINT_EINVAL, "items: unknown flags 0x%x", flags);
    int rc;
    if (dim > 0 && (rc = check_matrix(n, dim, W, ldw)) != RECINT_OK)
        return rc;
    if (bias && (rc = check_finite("bias", bias, n)) != RECINT_OK)
        return rc;
    if (scale && (rc = check_finite("scale", scale, n)) != RECINT_OK)
        return rc;

    ri_core_items *it = RI_NEW_ZEROED(ri_core_items, 1);
    if (!it)
        return ri_error(RECINT_ENOMEM, "items: out of memory");
    it->n = n;
    it->dim = dim;
    it->n_panels = ((size_t)n + RI_PANEL - 1) / RI_PANEL;
    it->best_isa = ri_core_isa_detect();
    it->vnni = ri_core_cpu_has_vnni();
    /* Each step sets rc itself: a status left over from an earlier step that
     * succeeded must never be what a later failure returns. */
    if (dim > 0) {
        size_t total;
        if (ri_mul_overflow(n, dim, &total)) {
            rc = ri_error(RECINT_ENOMEM, "items: %u x %u overflows", n, dim);
            goto fail;
        }
        if (!(it->W = ri_aligned_alloc(total ? total : 1, sizeof(float)))) {
            rc = ri_error(RECINT_ENOMEM, "items: out of memory for %u items x %u dims", n, dim);
            goto fail;
        }
        for (size_t i = 0; i < n; i++)
            memcpy(it->W + i * dim, W + i * ldw, (size_t)dim * sizeof(float));
        if ((rc = build_panels(it)) != RECINT_OK)
            goto fail;
    }
    if ((bias && !(it->bias = padded_copy(bias, n, it->n_panels, 0.0f))) ||
        (scale && !(it->scale = padded_copy(scale, n, it->n_panels, 1.0f)))) {
        rc = ri_error(RECINT_ENOMEM, "items: out of memory for the %s of %u items",
                      it->bias || !bias ? "scales" : "biases", n);
        goto fail;
    }
    if ((flags & RI_CORE_INT8) && (rc = quantize(it)) != RECINT_OK)
        goto fail;
    *out = it;
    return RECINT_OK;
fail:
    ri_core_items_free(it);
    return rc;
}

/* Sizes as ri_aligned_alloc rounds them (whole 64-byte lines), saturating. */
static uint64_t sat_mul(uint64_t a, uint64_t b) { return a && b > UINT64_MAX / a ? UINT64_MAX : a * b; }
static uint64_t sat_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }
static uint64_t lines(uint64_t bytes) { return bytes > UINT64_MAX - 63 ? UINT64_MAX : (bytes + 63) & ~(uint64_t)63; }

uint64_t ri_core_items_bytes(uint32_t n, uint32_t dim, int bias, int scale, int int8)
{
    const uint64_t padded = ((uint64_t)n + RI_PANEL - 1) / RI_PANEL * RI_PANEL;
    uint64_t b = sizeof(ri_core_items);
    if (dim > 0) {
        const uint64_t total = (uint64_t)n * dim;
        b = sat_add(b, lines(sat_mul(total ? total : 1, sizeof(float))));
        b = sat_add(b, lines(sat_mul(padded * dim, sizeof(float))));
    }
    const uint64_t per_item = lines((padded ? padded : 1) * sizeof(float));
    b = sat_add(b, (uint64_t)(bias != 0) * per_item + (uint64_t)(scale != 0) * per_item);
    if (int8) {
        /* codes and scales as given, then the panels and padded scales */
        b = sat_add(b, (uint64_t)n * dim + (uint64_t)n * sizeof(float) + 2);
        const uint64_t q = sat_mul(padded, ri_q_dim4(dim));
        b = sat_add(b, lines(q ? q : 1));
        b = sat_add(b, per_item);
    }
    return b;
}

uint32_t ri_core_items_n(const ri_core_items *it) { return it ? it->n : 0; }
uint32_t ri_core_items_dim(const ri_core_items *it) { return it ? it->dim : 0; }
int ri_core_items_has_int8(const ri_core_items *it) { return it && it->has_int8; }
const float *ri_core_items_matrix(const ri_core_items *it) { return it ? it->W : NULL; }
const float *ri_core_items_bias(const ri_core_items *it) { return it ? it->bias : NULL; }

int ri_core_items_int8_view(const ri_core_items *it, const int8_t **codes, const float **scales)
{
    if (!it || !codes || !scales)
        return ri_error(RECINT_EINVAL, "int8 view: NULL argument");
    if (!it->has_int8)
        return ri_error(RECINT_EINVAL, "int8 view: the items have no int8 copy");
    *codes = it->codes;
    *scales = it->qscale;
    return RECINT_OK;
}

int ri_core_items_set_int8(ri_core_items *it, const int8_t *codes, const float *scales)
{
    if (!it || !scales || (!codes && it->dim > 0 && it->n > 0))
        return ri_error(RECINT_EINVAL, "int8 copy: NULL argument");
    size_t n = it->n, dim = it->dim, total = n * dim;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(scales[i]) || !(scales[i] > 0.0f))
            return ri_error(RECINT_EINVAL, "int8 copy: scale of item %zu is %g, expected finite > 0",
                            i, (double)scales[i]);
    for (size_t i = 0; i < total; i++)
        if (codes[i] == -128)
            return ri_error(RECINT_EINVAL,
                            "int8 copy: code of item %zu, dim %zu is -128, expected [-127, 127]",
                            i / dim, i % dim);
    int8_t *c = RI_NEW_ARRAY(int8_t, total ? total : 1);
    float *s = RI_NEW_ARRAY(float, n ? n : 1);
    if (!c || !s) {
        free(c);
        free(s);
        return ri_error(RECINT_ENOMEM, "int8 copy: out of memory for %zu items x %zu dims", n, dim);
    }
    if (total)
        memcpy(c, codes, total);
    if (n)
        memcpy(s, scales, n * sizeof(float));
    return attach_int8(it, c, s);
}
