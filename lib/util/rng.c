#include "util/rng.h"

#include <math.h>

__extension__ typedef unsigned __int128 ri_u128;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void ri_rng_seed(ri_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

/* The generator's step lives in rng.h (ri_rng_next) so hot loops can inline it;
 * this is the out-of-line entry with the same sequence. */
uint64_t ri_rng_u64(ri_rng *r) { return ri_rng_next(r); }

uint64_t ri_rng_below(ri_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection. */
    uint64_t x = ri_rng_u64(r);
    ri_u128 m = (ri_u128)x * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            x = ri_rng_u64(r);
            m = (ri_u128)x * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ri_rng_uniform(ri_rng *r) { return (double)(ri_rng_u64(r) >> 11) * 0x1.0p-53; }

double ri_rng_normal(ri_rng *r)
{
    /* Box-Muller; the second value is dropped to keep the state a plain struct. */
    double u1 = ri_rng_uniform(r), u2 = ri_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* In batches of pairs: the rejection loop first, then the logarithms, then
 * the divisions and square roots as a loop the compiler vectorises, so their
 * latencies overlap instead of chaining pair after pair. The arithmetic per
 * pair (and the generator's sequence) is that of the one-pair-at-a-time loop:
 * the same values. */
#define NORMAL_BATCH 32

void ri_rng_normal_fill(ri_rng *r, float *out, size_t n)
{
    double u[NORMAL_BATCH], v[NORMAL_BATCH], s[NORMAL_BATCH], f[NORMAL_BATCH];
    size_t i = 0;
    while (i < n) {
        size_t pairs = (n - i + 1) / 2;
        pairs = pairs < NORMAL_BATCH ? pairs : NORMAL_BATCH;
        /* The rejections (one in five, at random) would mispredict a branch
         * each: instead, as many attempts as pairs are still missing, kept
         * without a branch. Never more attempts than the pair-at-a-time loop
         * makes, and in its order, so the generator ends where it would. */
        size_t got = 0;
        while (got < pairs) {
            for (size_t want = pairs - got, t = 0; t < want; t++) {
                const double a = 2.0 * ri_rng_uniform(r) - 1.0;
                const double b = 2.0 * ri_rng_uniform(r) - 1.0;
                const double q = a * a + b * b;
                u[got] = a;
                v[got] = b;
                s[got] = q;
                got += q < 1.0 && q != 0.0;
            }
        }
        for (size_t p = 0; p < pairs; p++)
            f[p] = log(s[p]);
        for (size_t p = 0; p < pairs; p++)
            f[p] = sqrt(-2.0 * f[p] / s[p]);
        for (size_t p = 0; p < pairs; p++, i += 2) {
            out[i] = (float)(u[p] * f[p]);
            if (i + 1 < n)
                out[i + 1] = (float)(v[p] * f[p]);
        }
    }
}
