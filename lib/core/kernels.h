/* Kernel table of the single-user path (lib/core internal). Each ISA file
 * provides block functions over the 16-item panels of items_internal.h; the
 * selection in select.c drives them block by block. */
#ifndef RI_KERNELS_H
#define RI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/gemm.h"
#include "core/items_internal.h"

/* Scores of panels [p0, p0 + np) into out[(p - p0) * RI_PANEL + lane] and, per
 * panel, the mask of lanes whose score is > thr (lanes past n may be set: the
 * caller ignores them). Returns the OR of all masks, so the common "nothing
 * beats the threshold" block costs the caller one test. */
typedef unsigned (*ri_fp32_block_fn)(const ri_core_items *it, const float *u, size_t p0, size_t np,
                                     float thr, float *out, uint16_t *mask);

/* The user vector quantised for the int8 kernels: codes (int8, padded with
 * zeros to a multiple of 4 dims), their sum times 128 (the correction of the
 * unsigned item operand, see items.c), and the scale. */
typedef struct {
    const int8_t *q;
    int32_t corr;
    float scale;
} ri_quser;

/* Approximate scores from the int8 copy, same contract as ri_fp32_block_fn. */
typedef unsigned (*ri_i8_block_fn)(const ri_core_items *it, const ri_quser *uq, size_t p0,
                                   size_t np, float thr, float *out, uint16_t *mask);

typedef struct {
    ri_fp32_block_fn fp32;
    ri_i8_block_fn i8;
    int i8_qmax; /* largest |user code| the int8 kernel sums exactly */
    ri_gemm_kernel gemm; /* the multiply's micro-kernel (gemm.h) */
} ri_kernels;

/* Kernels for a level this CPU supports (the caller clamps the level). Never
 * fails. */
void ri_kernels_get(ri_isa isa, int vnni, ri_kernels *out);

/* CPU has AVX-512 VNNI + BW with OS support of the ZMM state. */
int ri_core_cpu_has_vnni(void);

unsigned ri_fp32_block_scalar(const ri_core_items *it, const float *u, size_t p0, size_t np,
                              float thr, float *out, uint16_t *mask);
unsigned ri_fp32_block_avx2(const ri_core_items *it, const float *u, size_t p0, size_t np,
                            float thr, float *out, uint16_t *mask);
unsigned ri_fp32_block_avx512(const ri_core_items *it, const float *u, size_t p0, size_t np,
                              float thr, float *out, uint16_t *mask);
unsigned ri_i8_block_scalar(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                            float thr, float *out, uint16_t *mask);
unsigned ri_i8_block_avx2(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                          float thr, float *out, uint16_t *mask);
unsigned ri_i8_block_vnni(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                          float thr, float *out, uint16_t *mask);

/* Exact fp32 chain of one item (the reference every path equals). */
float ri_core_exact_score(const ri_core_items *it, const float *u, uint32_t i);
/* The same chain compiled for CPUs with FMA (kernel_avx2.c). */
float ri_core_exact_score_fma(const ri_core_items *it, const float *u, uint32_t i);
/* ri_core_score_some for CPUs with AVX2 and FMA: the same scores, eight items'
 * chains at a time. */
void ri_core_score_some_fma(const ri_core_items *it, const float *u, const uint32_t *items,
                            size_t n, float *out);

/* Dims of the int8 panel layout: dim rounded up to a multiple of 4. */
static inline uint32_t ri_q_dim4(uint32_t dim) { return (dim + 3u) & ~3u; }

/* Panel p of the fp32 and int8 copies. A dim-0 model (pop) has no panel memory,
 * and NULL plus even a zero offset is undefined in C; the kernels read nothing
 * at dim 0, so they get NULL. */
static inline const float *ri_panel_f32(const ri_core_items *it, size_t p)
{
    return it->panels ? it->panels + p * ((size_t)it->dim * RI_PANEL) : NULL;
}
static inline const float *ri_item_row(const ri_core_items *it, size_t i)
{
    return it->W ? it->W + i * it->dim : NULL;
}
static inline const uint8_t *ri_panel_i8(const ri_core_items *it, size_t p)
{
    return it->qpanels ? it->qpanels + p * ((size_t)(ri_q_dim4(it->dim) / 4) * 64) : NULL;
}

#endif
