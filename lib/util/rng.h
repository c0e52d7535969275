/* Seeded pseudo-random numbers (xoshiro256**), one state per stream: no globals. */
#ifndef RI_RNG_H
#define RI_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ri_rng {
    uint64_t s[4];
} ri_rng;

/* Each purpose numbers its streams from its own base, so that one seed never
 * gives two purposes (a split and the synthetic data it splits, say) the same
 * sequence. */
#define RI_STREAM_SPLIT (1ull << 56)
#define RI_STREAM_SYNTHETIC (2ull << 56)
#define RI_STREAM_EVAL (3ull << 56)
#define RI_STREAM_TRAIN (4ull << 56)
#define RI_STREAM_EXPLORE (5ull << 56)

/* Seed a stream; (seed, stream) pairs give independent sequences, so work split
 * into chunks can seed chunk c with stream base + c and stay deterministic. */
void ri_rng_seed(ri_rng *r, uint64_t seed, uint64_t stream);
uint64_t ri_rng_u64(ri_rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t ri_rng_below(ri_rng *r, uint64_t n);
/* Uniform double in [0, 1). */
double ri_rng_uniform(ri_rng *r);
/* Standard normal. */
double ri_rng_normal(ri_rng *r);

/* The generator's step, inlined for hot loops; ri_rng_u64 is this out of line. */
static inline uint64_t ri_rng_next(ri_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t x = s[1] * 5;
    const uint64_t result = ((x << 7) | (x >> 57)) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n) by multiply-shift of the top 32 bits, without rejection: the
 * bias (below n / 2^32) is far under what sampling negatives can notice, and
 * the draw costs no division. */
static inline uint32_t ri_rng_below32(ri_rng *r, uint32_t n)
{
    return (uint32_t)(((ri_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* n standard normals as floats (Marsaglia's polar method, both values of each
 * pair used): the bulk draws of a posterior sample. */
void ri_rng_normal_fill(ri_rng *r, float *out, size_t n);

#endif
