/* Top-k selection: the one place that ranks scores. Higher score first, ties
 * broken by the smaller index; NaN scores are never selected. */
#ifndef RI_TOPK_H
#define RI_TOPK_H

#include <stddef.h>
#include <stdint.h>

/* Best k of scores[0..n), skipping the indices listed in exclude (ascending,
 * n_exclude entries, may be NULL). Writes up to k entries, best first, into
 * out_idx and out_score (both required, k entries each) and returns the count. */
uint32_t ri_topk(const float *scores, uint32_t n, const uint32_t *exclude, size_t n_exclude,
                 uint32_t k, uint32_t *out_idx, float *out_score);

#endif
