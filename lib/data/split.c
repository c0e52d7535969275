#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "data/data_private.h"
#include "data/dataset_internal.h"
#include "util/error.h"
#include "util/rng.h"

enum { SPLIT_RANDOM, SPLIT_TEMPORAL, SPLIT_LOO };
enum { PART_TRAIN = 0, PART_VALID = 1, PART_TEST = 2 };

/* Fractions stay exact rationals p/q (q a power of ten): the protocols need
 * ceil(n * 0.2) == (n + 4) / 5 for every n, which binary floating point misses. */
typedef struct {
    int kind;
    uint64_t p, q;
} split_spec;

#define RI_SPLIT_MAX_DECIMALS 9

static int bad_spec(const char *spec, const char *why)
{
    return ri_error(RECINT_EINVAL,
                    "split spec \"%s\": %s; valid forms are random:F, temporal:F "
                    "(0 < F < 1, at most %d decimals, e.g. temporal:0.2) and loo",
                    spec, why, RI_SPLIT_MAX_DECIMALS);
}

static int parse_fraction(const char *spec, const char *s, split_spec *out)
{
    uint64_t p = 0, q = 1;
    int digits = 0, decimals = 0;
    while (*s == '0') {
        s++;
        digits++;
    }
    if (*s >= '1' && *s <= '9')
        return bad_spec(spec, "the fraction must be below 1");
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (++decimals > RI_SPLIT_MAX_DECIMALS)
                return bad_spec(spec, "too many decimals");
            p = p * 10 + (uint64_t)(*s - '0');
            q *= 10;
        }
    }
    if (*s != '\0' || digits == 0)
        return bad_spec(spec, "the fraction is not a decimal number");
    if (p == 0)
        return bad_spec(spec, "the fraction must be above 0");
    out->p = p;
    out->q = q;
    return RECINT_OK;
}

static int parse_spec(const char *spec, split_spec *out)
{
    if (strcmp(spec, "loo") == 0) {
        out->kind = SPLIT_LOO;
        return RECINT_OK;
    }
    if (strncmp(spec, "random:", 7) == 0) {
        out->kind = SPLIT_RANDOM;
        return parse_fraction(spec, spec + 7, out);
    }
    if (strncmp(spec, "temporal:", 9) == 0) {
        out->kind = SPLIT_TEMPORAL;
        return parse_fraction(spec, spec + 9, out);
    }
    return bad_spec(spec, "unknown split");
}

/* ceil(n * p / q) without overflow: q <= 10^9 keeps (n % q) * p below 10^18. */
static uint64_t ceil_part(uint64_t n, const split_spec *sp)
{
    return n / sp->q * sp->p + ((n % sp->q) * sp->p + sp->q - 1) / sp->q;
}

/* Exactly `want` of the rows labelled `from` (count of them: pool) move to `to`,
 * each subset equally likely (selection sampling: one pass, no extra memory). */
static void pick_random(uint8_t *label, uint64_t nnz, uint64_t pool, uint64_t want, uint8_t from,
                        uint8_t to, ri_rng *rng)
{
    for (uint64_t e = 0; e < nnz && want > 0; e++) {
        if (label[e] != from)
            continue;
        if (ri_rng_below(rng, pool) < want) {
            label[e] = to;
            want--;
        }
        pool--;
    }
}

typedef struct {
    int64_t t;
    uint32_t item;
    uint64_t e;
} timed_row;

static int cmp_timed(const void *a, const void *b)
{
    const timed_row *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->item > y->item) - (x->item < y->item);
}

/* Per user, rows by (timestamp, item index); the tail goes to test (and valid). */
static int label_per_user(const recint_dataset *ds, const split_spec *sp, int with_valid,
                          uint8_t *label)
{
    uint64_t longest = 0;
    for (uint32_t u = 0; u < ds->n_users; u++)
        if (ds->indptr[u + 1] - ds->indptr[u] > longest)
            longest = ds->indptr[u + 1] - ds->indptr[u];
    timed_row *rows = RI_NEW_ARRAY(timed_row, longest);
    if (!rows)
        return RECINT_ENOMEM;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        uint64_t b = ds->indptr[u], n = ds->indptr[u + 1] - b;
        for (uint64_t j = 0; j < n; j++)
            rows[j] = (timed_row){ds->timestamps[b + j], ds->indices[b + j], b + j};
        qsort(rows, n, sizeof *rows, cmp_timed);
        uint64_t n_test, n_valid;
        if (sp->kind == SPLIT_LOO) {
            n_test = n >= 4 ? 1 : 0;
            n_valid = n >= 4 && with_valid ? 1 : 0;
        } else {
            n_test = ceil_part(n, sp);
            n_valid = with_valid ? ceil_part(n - n_test, sp) : 0;
        }
        for (uint64_t j = 0; j < n; j++)
            label[rows[j].e] = j >= n - n_test                ? PART_TEST
                               : j >= n - n_test - n_valid ? PART_VALID
                                                           : PART_TRAIN;
    }
    free(rows);
    return RECINT_OK;
}

static int label_random(const recint_dataset *ds, const split_spec *sp, int with_valid,
                        uint64_t seed, uint8_t *label)
{
    ri_rng rng;
    ri_rng_seed(&rng, seed, RI_STREAM_SPLIT);
    memset(label, PART_TRAIN, ds->nnz);
    uint64_t n_test = ceil_part(ds->nnz, sp);
    pick_random(label, ds->nnz, ds->nnz, n_test, PART_TRAIN, PART_TEST, &rng);
    if (with_valid) {
        uint64_t rest = ds->nnz - n_test;
        pick_random(label, ds->nnz, rest, ceil_part(rest, sp), PART_TRAIN, PART_VALID, &rng);
    }
    return RECINT_OK;
}

RECINT_API int recint_dataset_split(const recint_dataset *ds, const char *spec, uint64_t seed,
                                    recint_dataset **train, recint_dataset **valid,
                                    recint_dataset **test)
{
    if (!ds || !spec || !train || !test)
        return ri_error(RECINT_EINVAL, "recint_dataset_split: %s is NULL",
                        !ds ? "dataset" : !spec ? "spec" : !train ? "train" : "test");
    split_spec sp = {0, 0, 1};
    int rc = parse_spec(spec, &sp);
    if (rc)
        return rc;
    uint8_t *label = RI_NEW_ARRAY(uint8_t, ds->nnz);
    if (!label)
        return RECINT_ENOMEM;
    int with_valid = valid != NULL;
    rc = sp.kind == SPLIT_RANDOM ? label_random(ds, &sp, with_valid, seed, label)
                                 : label_per_user(ds, &sp, with_valid, label);
    recint_dataset *parts[3] = {NULL, NULL, NULL};
    for (int k = 0; rc == RECINT_OK && k < 3; k++)
        if (k != PART_VALID || with_valid)
            rc = ri_dataset_select(&parts[k], ds, label, (uint8_t)k, 0);
    free(label);
    if (rc) {
        for (int k = 0; k < 3; k++)
            recint_dataset_free(parts[k]);
        return ri_error_prefix(rc, "recint_dataset_split: ");
    }
    *train = parts[PART_TRAIN];
    if (valid)
        *valid = parts[PART_VALID];
    *test = parts[PART_TEST];
    return RECINT_OK;
}
