/* Layout of ri_core_items, shared by the kernels, the selection and the batch
 * path inside lib/core only. */
#ifndef RI_ITEMS_INTERNAL_H
#define RI_ITEMS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Items per panel of the SIMD layout: one AVX-512 register of floats. */
#define RI_PANEL 16

struct ri_core_items {
    uint32_t n, dim;
    float *W;      /* n x dim row-major, 64-byte aligned; NULL when dim == 0 */
    /* bias and scale hold n entries; the allocation is padded to whole panels
     * (bias 0, scale 1) so the kernels load them a register at a time. */
    float *bias;   /* n, or NULL for zero */
    float *scale;  /* n, or NULL for one */
    /* ceil(n / RI_PANEL) panels; panel p holds dim rows of RI_PANEL floats:
     * panels[(p * dim + j) * RI_PANEL + lane] = W[p * RI_PANEL + lane][j];
     * lanes past n are zero. NULL when dim == 0. */
    float *panels;
    /* int8 copy (NULL when absent): row-major codes and per-item scale, plus the
     * panel layout the kernels read:
     * qpanels[((p * dim4 + j / 4) * RI_PANEL + lane) * 4 + j % 4]
     *     = codes[p * RI_PANEL + lane][j] + 128 (uint8),
     * dim4 = dim rounded up to 4; padding dims and lanes past n hold 128 (code
     * 0). One 64-byte row of a panel is one VNNI vpdpbusd operand: the item
     * side is the unsigned operand, so the kernels subtract 128 * sum(user
     * codes). qscale is padded to whole panels (scale 1). */
    int8_t *codes;
    float *qscale;
    uint8_t *qpanels;
    /* Below: not part of the layout the batch path reads. */
    size_t n_panels;  /* ceil(n / RI_PANEL) */
    int has_int8;     /* codes may be NULL when dim == 0 even with an int8 copy */
    ri_isa best_isa;  /* detected once at creation: no CPUID per query */
    int vnni;         /* AVX-512 VNNI usable */
};


#endif
