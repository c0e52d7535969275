/* Portable reference kernels. The fp32 chain below defines the scores every
 * other path must reproduce bit for bit: s = fma(u[j], w[j], s) for j in
 * order, then s * scale, then + bias, each rounded once. __builtin_fmaf is a
 * true fused multiply-add (the fma instruction, or glibc's correctly rounded
 * fmaf on baseline x86-64), and ISO C mode keeps the compiler from contracting
 * the separate multiply and add. */
#include <math.h>

#include "core/kernels.h"

static inline float finish(const ri_core_items *it, float s, size_t i)
{
    if (it->scale)
        s = s * it->scale[i];
    if (it->bias)
        s = s + it->bias[i];
    return s;
}

static float exact_score_portable(const ri_core_items *it, const float *u, uint32_t i)
{
    const float *w = ri_item_row(it, i);
    float s = 0.0f;
    for (uint32_t j = 0; j < it->dim; j++)
        s = __builtin_fmaf(u[j], w[j], s);
    return finish(it, s, i);
}

/* Rescoring (int8 shortlists, batch candidates) calls this per item: on baseline
 * x86-64 each __builtin_fmaf is a libm call, so CPUs with FMA take the inlined
 * instruction instead (same single rounding, same result). */
float ri_core_exact_score(const ri_core_items *it, const float *u, uint32_t i)
{
    if (it->best_isa >= RI_ISA_AVX2)
        return ri_core_exact_score_fma(it, u, i);
    return exact_score_portable(it, u, i);
}

unsigned ri_fp32_block_scalar(const ri_core_items *it, const float *u, size_t p0, size_t np,
                              float thr, float *out, uint16_t *mask)
{
    unsigned any = 0;
    for (size_t p = 0; p < np; p++) {
        unsigned m = 0;
        for (size_t lane = 0; lane < RI_PANEL; lane++) {
            size_t i = (p0 + p) * RI_PANEL + lane;
            float s = i < it->n ? exact_score_portable(it, u, (uint32_t)i) : -INFINITY;
            out[p * RI_PANEL + lane] = s;
            m |= (unsigned)(s > thr) << lane;
        }
        mask[p] = (uint16_t)m;
        any |= m;
    }
    return any;
}

/* The approximate score all int8 kernels produce from the exact integer dot:
 * dot * (item scale * user scale), then the fp32 finish. */
static inline float i8_finish(const ri_core_items *it, const ri_quser *uq, int32_t dot, size_t i)
{
    return finish(it, (float)dot * (it->qscale[i] * uq->scale), i);
}

unsigned ri_i8_block_scalar(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                            float thr, float *out, uint16_t *mask)
{
    unsigned any = 0;
    for (size_t p = 0; p < np; p++) {
        unsigned m = 0;
        for (size_t lane = 0; lane < RI_PANEL; lane++) {
            size_t i = (p0 + p) * RI_PANEL + lane;
            float s = -INFINITY;
            if (i < it->n) {
                const int8_t *c = it->codes + i * it->dim;
                int32_t dot = 0;
                for (uint32_t j = 0; j < it->dim; j++)
                    dot += (int32_t)c[j] * uq->q[j];
                s = i8_finish(it, uq, dot, i);
            }
            out[p * RI_PANEL + lane] = s;
            m |= (unsigned)(s > thr) << lane;
        }
        mask[p] = (uint16_t)m;
        any |= m;
    }
    return any;
}
