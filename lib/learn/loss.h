/* The losses every kind trains with, as functions of scores: each returns the
 * loss and writes d loss / d score, so that a kind chains the derivative
 * through whatever made the score (hybrid_fit.c, seq_loss.c). */
#ifndef RI_LEARN_LOSS_H
#define RI_LEARN_LOSS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* log(1 + exp(z)) without overflow for large z or loss of precision for small. */
static inline double ri_softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* Binary cross-entropy of sigmoid(score) against label (0 or 1). */
double ri_loss_logistic(float score, int label, float *d);
/* BPR: -log sigmoid(s_pos - s_neg) (Rendle et al. 2009). */
double ri_loss_bpr(float s_pos, float s_neg, float *d_pos, float *d_neg);
/* WARP's hinge max(0, 1 - s_pos + s_neg) weighted by the rank weight. */
double ri_loss_warp(float s_pos, float s_neg, float rank_weight, float *d_pos, float *d_neg);
/* WARP's rank weight after `sampled` draws found a violator among n_items. */
float ri_loss_warp_rank_weight(uint32_t n_items, uint32_t sampled);
/* Softmax cross-entropy of a row of n logits c against target: c becomes the
 * gradient scale * (softmax - onehot(target)) in place; returns the row's
 * cross-entropy. Entries equal to -inf stay out (their gradient is 0). */
double ri_loss_softmax_row(float *c, size_t n, size_t target, float scale);

#endif
