/* The hybrid kind's losses as functions of scores. Training and fold-in chain
 * these derivatives through the representations (hybrid_fit.c); the tests check
 * both against finite differences. */
#include <math.h>

#include "models/hybrid_internal.h"

/* log(1 + exp(z)) without overflow for large z or loss of precision for small. */
static double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}

/* Binary cross-entropy of sigmoid(score) against label. */
double ri_hyb_logistic(float score, int label, float *d)
{
    const double s = score;
    *d = (float)(sigmoid(s) - (label ? 1.0 : 0.0));
    return label ? softplus(-s) : softplus(s);
}

/* -log sigmoid(s_pos - s_neg) (Rendle et al. 2009). */
double ri_hyb_bpr(float s_pos, float s_neg, float *d_pos, float *d_neg)
{
    const double z = (double)s_pos - (double)s_neg;
    const double g = sigmoid(-z);
    *d_pos = (float)-g;
    *d_neg = (float)g;
    return softplus(-z);
}

double ri_hyb_warp(float s_pos, float s_neg, float rank_weight, float *d_pos, float *d_neg)
{
    const double h = 1.0 - (double)s_pos + (double)s_neg;
    if (h <= 0) {
        *d_pos = *d_neg = 0.0f;
        return 0.0;
    }
    *d_pos = -rank_weight;
    *d_neg = rank_weight;
    return rank_weight * h;
}

/* Weston et al. (2011): a violator found after `sampled` draws puts the positive
 * at rank about (n_items - 1) / sampled; the loss weighs the hinge by log of that
 * rank, so positives ranked far down move most. */
float ri_hyb_warp_rank_weight(uint32_t n_items, uint32_t sampled)
{
    const uint32_t rank = sampled ? (n_items > 1 ? (n_items - 1) / sampled : 0) : 0;
    return rank > 1 ? logf((float)rank) : 0.0f;
}
