/* The losses as functions of scores (learn/loss.h). The kinds chain these
 * derivatives through their representations; the tests check both against
 * finite differences. */
#include <math.h>

#include "learn/loss.h"
#include "nn/nn.h"

static double sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}

/* Binary cross-entropy of sigmoid(score) against label. */
double ri_loss_logistic(float score, int label, float *d)
{
    const double s = score;
    *d = (float)(sigmoid(s) - (label ? 1.0 : 0.0));
    return label ? ri_softplus(-s) : ri_softplus(s);
}

/* -log sigmoid(s_pos - s_neg) (Rendle et al. 2009). */
double ri_loss_bpr(float s_pos, float s_neg, float *d_pos, float *d_neg)
{
    const double z = (double)s_pos - (double)s_neg;
    const double g = sigmoid(-z);
    *d_pos = (float)-g;
    *d_neg = (float)g;
    return ri_softplus(-z);
}

double ri_loss_warp(float s_pos, float s_neg, float rank_weight, float *d_pos, float *d_neg)
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
float ri_loss_warp_rank_weight(uint32_t n_items, uint32_t sampled)
{
    const uint32_t rank = sampled ? (n_items > 1 ? (n_items - 1) / sampled : 0) : 0;
    return rank > 1 ? logf((float)rank) : 0.0f;
}

#define LANES 8

/* Eight running maxima and sums: the loops vectorise, and the order of the
 * sums is fixed whatever the target ISA. */
double ri_loss_softmax_row(float *c, size_t n, size_t target, float scale)
{
    float mx[LANES];
    for (size_t l = 0; l < LANES; l++)
        mx[l] = c[target];
    size_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (size_t l = 0; l < LANES; l++)
            mx[l] = c[j + l] > mx[l] ? c[j + l] : mx[l];
    for (; j < n; j++)
        mx[0] = c[j] > mx[0] ? c[j] : mx[0];
    float m = mx[0];
    for (size_t l = 1; l < LANES; l++)
        m = mx[l] > m ? mx[l] : m;
    for (j = 0; j < n; j++)
        c[j] = ri_nn_exp_nonpos(c[j] - m);
    float acc[LANES] = {0};
    j = 0;
    for (; j + LANES <= n; j += LANES)
        for (size_t l = 0; l < LANES; l++)
            acc[l] += c[j + l];
    for (; j < n; j++)
        acc[0] += c[j];
    double sum = 0.0;
    for (size_t l = 0; l < LANES; l++)
        sum += acc[l];
    const double ce = log(sum) - log((double)c[target]);
    const float inv = (float)(1.0 / sum) * scale;
    for (j = 0; j < n; j++)
        c[j] *= inv;
    c[target] -= scale;
    return ce;
}
