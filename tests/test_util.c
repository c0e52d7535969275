/* White-box tests of lib/util: number parsing, CRC-32, RNG, allocation, the
 * parallel loop, the error channel and atomic file replacement. */
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/crc32.h"
#include "util/error.h"
#include "util/fileio.h"
#include "io/format.h"
#include "data/idmap.h"
#include "util/numparse.h"
#include "util/parallel.h"
#include "util/rng.h"
#include "testutil.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ numparse */

static int parse_i(const char *s, int64_t *out) { return ri_parse_i64(s, strlen(s), out); }
static int parse_f(const char *s, double *out) { return ri_parse_f64(s, strlen(s), out); }

START_TEST(i64_values)
{
    int64_t v = 0;
    ck_assert_int_eq(parse_i("0", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(parse_i("-17", &v), 0);
    ck_assert_int_eq(v, -17);
    ck_assert_int_eq(parse_i("+42", &v), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(parse_i("007", &v), 0);
    ck_assert_int_eq(v, 7);
    ck_assert_int_eq(parse_i("9223372036854775807", &v), 0);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(parse_i("-9223372036854775808", &v), 0);
    ck_assert(v == INT64_MIN);
    /* Only the span counts, not what follows it. */
    ck_assert_int_eq(ri_parse_i64("12345", 3, &v), 0);
    ck_assert_int_eq(v, 123);
}
END_TEST

START_TEST(i64_errors)
{
    int64_t v = 99;
    ck_assert_int_eq(parse_i("9223372036854775808", &v), -2);
    ck_assert_int_eq(parse_i("-9223372036854775809", &v), -2);
    ck_assert_int_eq(parse_i("99999999999999999999999", &v), -2);
    const char *bad[] = {"", "-", "+", "1.0", "12a", " 1", "1 ", "0x10", "1e3", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse_i(bad[i], &v) == -1, "'%s' should be a syntax error", bad[i]);
    ck_assert_int_eq(v, 99); /* untouched on failure */
}
END_TEST

START_TEST(f64_values)
{
    static const struct {
        const char *text;
        double want;
    } cases[] = {
        {"4", 4.0},       {"3.5", 3.5},        {"-1e-3", -1e-3},   {".5", 0.5},
        {"1e10", 1e10},   {"0.1", 0.1},        {"-0.25", -0.25},   {"5.", 5.0},
        {"2.5E+2", 250},  {"+7", 7.0},         {"964982703", 964982703.0},
        {"3.14159", 3.14159}, {"1e-5", 1e-5},  {"123.456", 123.456}, {"0", 0.0},
        {"0.000001", 1e-6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -12345.0;
        ck_assert_msg(parse_f(cases[i].text, &v) == 0, "'%s' rejected", cases[i].text);
        /* Short decimals must round exactly like the compiler's literal. */
        ck_assert_msg(v == cases[i].want, "'%s' -> %.17g, want %.17g", cases[i].text, v,
                      cases[i].want);
    }
    double v;
    ck_assert_int_eq(parse_f("inf", &v), 0);
    ck_assert(isinf(v) && v > 0);
    ck_assert_int_eq(parse_f("-Infinity", &v), 0);
    ck_assert(isinf(v) && v < 0);
    ck_assert_int_eq(parse_f("NaN", &v), 0);
    ck_assert(isnan(v));
    ck_assert_int_eq(parse_f("-0", &v), 0);
    ck_assert(v == 0.0 && signbit(v));
}
END_TEST

START_TEST(f64_errors)
{
    const char *bad[] = {"", ".", "-", "e5", "1e", "1e+", "1.2.3", "abc", "1,5",
                         " 1", "1 ", "--1", "0x1p3", "1e5x", "infx", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 77.0;
        ck_assert_msg(parse_f(bad[i], &v) == -1, "'%s' should be a syntax error", bad[i]);
        ck_assert(v == 77.0);
    }
}
END_TEST

START_TEST(format_round_trip)
{
    char buf[64];
    ri_format_f64(2.5, buf, sizeof buf);
    ck_assert_str_eq(buf, "2.5");
    ri_format_f64(4.0, buf, sizeof buf);
    ck_assert_str_eq(buf, "4");
    ri_format_f64(NAN, buf, sizeof buf);
    ck_assert_str_eq(buf, "nan");
    ri_format_f64(-INFINITY, buf, sizeof buf);
    ck_assert_str_eq(buf, "-inf");
    ri_format_f64(12345.678, buf, 4); /* truncated but terminated */
    ck_assert_uint_eq(strlen(buf), 3);

    /* Every float survives format -> parse: the loader relies on it for save/load. */
    ri_rng r;
    ri_rng_seed(&r, 7, 0);
    int failures = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)ri_rng_u64(&r);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f))
            continue;
        double back = NAN;
        ri_format_f64((double)f, buf, sizeof buf);
        if (ri_parse_f64(buf, strlen(buf), &back) != 0 || (float)back != f) {
            if (failures++ == 0)
                fprintf(stderr, "round trip: %a -> '%s' -> %a\n", (double)f, buf, back);
        }
    }
    ck_assert_int_eq(failures, 0);
}
END_TEST

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ri_parse_f64 is correctly rounded: 17 significant digits of any double read
 * back to that double, and random decimals of every length and exponent agree
 * bit for bit with glibc's strtod (a correctly rounded reference; the test runs
 * in the "C" locale). */
START_TEST(f64_correctly_rounded)
{
    ri_rng r;
    ri_rng_seed(&r, 11, 0);
    char buf[64];
    int bad = 0;
    for (int k = 0; k < 200000; k++) {
        double d = from_bits(ri_rng_u64(&r));
        if (!isfinite(d))
            continue;
        snprintf(buf, sizeof buf, "%.17g", d);
        double back = NAN;
        if (ri_parse_f64(buf, strlen(buf), &back) != 0 || !same_bits(back, d))
            if (bad++ == 0)
                fprintf(stderr, "%%.17g: '%s' -> %a, want %a\n", buf, back, d);
    }
    ck_assert_int_eq(bad, 0);
    char text[64];
    for (int k = 0; k < 200000; k++) {
        int digits = 1 + (int)ri_rng_below(&r, 25), point = (int)ri_rng_below(&r, (uint64_t)digits + 1);
        size_t n = 0;
        for (int d = 0; d < digits; d++) {
            if (d == point)
                text[n++] = '.';
            text[n++] = (char)('0' + ri_rng_below(&r, 10));
        }
        if (ri_rng_below(&r, 2))
            n += (size_t)snprintf(text + n, sizeof text - n, "e%d", (int)ri_rng_below(&r, 660) - 340);
        text[n] = '\0';
        double got = NAN, want = strtod(text, NULL);
        if (ri_parse_f64(text, n, &got) != 0 || !same_bits(got, want))
            if (bad++ == 0)
                fprintf(stderr, "'%s' -> %a, strtod %a\n", text, got, want);
    }
    ck_assert_int_eq(bad, 0);
    static const char *const hard[] = {
        "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
        "1.7976931348623158e308", "1.7976931348623159e308", "9007199254740993",
        "9007199254740993.00000000000000000000000000000001", "9007199254740992.9999999999999999999",
        "0.000000000000000000000000000000000000000000001e-280", "123456789012345678901234567890e-20",
        "1e23", "8.589973e9", "0.1", "1e-400", "1e400",
    };
    for (size_t k = 0; k < sizeof hard / sizeof hard[0]; k++) {
        double got = NAN, want = strtod(hard[k], NULL);
        ck_assert_int_eq(parse_f(hard[k], &got), 0);
        ck_assert_msg(same_bits(got, want), "'%s' -> %a, want %a", hard[k], got, want);
    }
    /* 9007199254740993 = 2^53 + 1 lies halfway: ties to even (2^53); any
     * non-zero digit after it, however far, rounds up. */
    double v;
    ck_assert_int_eq(parse_f("9007199254740993", &v), 0);
    ck_assert(v == 9007199254740992.0);
    char *longer = malloc(1200);
    ck_assert_ptr_nonnull(longer);
    memset(longer, '0', 1200);
    memcpy(longer, "9007199254740993.", 17);
    longer[1198] = '1';
    ck_assert_int_eq(ri_parse_f64(longer, 1199, &v), 0);
    ck_assert(v == 9007199254740994.0);
    longer[1198] = '0';
    ck_assert_int_eq(ri_parse_f64(longer, 1199, &v), 0);
    ck_assert(v == 9007199254740992.0);
    free(longer);
}
END_TEST

/* Shortest of 15..17 digits that reads back to the same double. */
START_TEST(format_shortest_exact)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {1.23456789012345, "1.23456789012345"},
        {0.1, "0.1"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.30000000000000004, "0.30000000000000004"},
        {1e300, "1e+300"},
        {-2.5e-300, "-2.5e-300"},
        {5e-324, "4.94065645841247e-324"},
        {123456789.0, "123456789"},
    };
    char buf[64];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ri_format_f64(cases[k].v, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[k].text);
    }
    ri_rng r;
    ri_rng_seed(&r, 5, 0);
    int bad = 0;
    for (int k = 0; k < 200000; k++) {
        double d = from_bits(ri_rng_u64(&r));
        if (!isfinite(d))
            continue;
        ri_format_f64(d, buf, sizeof buf);
        double back = NAN;
        if (ri_parse_f64(buf, strlen(buf), &back) != 0 || !same_bits(back, d))
            if (bad++ == 0)
                fprintf(stderr, "'%s' -> %a, want %a\n", buf, back, d);
        /* The first of %.15g, %.16g, %.17g that strtod reads back exactly. */
        char want[64];
        for (int p = 15; p <= 17; p++) {
            snprintf(want, sizeof want, "%.*g", p, d);
            if (strtod(want, NULL) == d)
                break;
        }
        if (strcmp(buf, want) != 0 && bad++ == 0)
            fprintf(stderr, "'%s', shortest exact is '%s'\n", buf, want);
    }
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(locale_independent)
{
    static const char *const comma_locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                                "fr_FR.utf8", "de_DE", "fr_FR", "ru_RU.UTF-8",
                                                "nl_NL.UTF-8"};
    const char *got = NULL;
    for (size_t i = 0; i < sizeof comma_locales / sizeof comma_locales[0] && !got; i++) {
        if (setlocale(LC_NUMERIC, comma_locales[i]) &&
            strcmp(localeconv()->decimal_point, ",") == 0)
            got = comma_locales[i];
    }
    if (!got) {
        setlocale(LC_NUMERIC, "C");
        fprintf(stderr, "SKIP: no locale with a ',' decimal point is installed; "
                        "locale independence not checked\n");
        return;
    }
    double v = 0;
    char buf[32];
    ck_assert_int_eq(parse_f("2.5", &v), 0);
    ck_assert(v == 2.5);
    ck_assert_int_eq(parse_f("2,5", &v), -1);
    ri_format_f64(0.75, buf, sizeof buf);
    ck_assert_str_eq(buf, "0.75");
    setlocale(LC_NUMERIC, "C");
}
END_TEST

/* --------------------------------------------------------------------- crc32 */

/* Bit-at-a-time reference, independent of the library's slice-by-4 tables. */
static uint32_t crc_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

START_TEST(crc32_known)
{
    ck_assert_uint_eq(ri_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(ri_crc32(0, "", 0), 0);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    ck_assert_uint_eq(ri_crc32(0, fox, strlen(fox)), 0x414FA339u);
}
END_TEST

START_TEST(crc32_chunked)
{
    unsigned char data[1031];
    ri_rng r;
    ri_rng_seed(&r, 3, 1);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)ri_rng_u64(&r);
    /* Every length and misaligned start against the reference. */
    int mismatches = 0;
    for (size_t off = 0; off < 5; off++)
        for (size_t n = 0; n + off <= sizeof data; n += 13)
            mismatches += ri_crc32(0, data + off, n) != crc_ref(data + off, n);
    ck_assert_int_eq(mismatches, 0);
    uint32_t whole = ri_crc32(0, data, sizeof data);
    for (size_t step = 1; step < 40; step += 3) {
        uint32_t c = 0;
        for (size_t i = 0; i < sizeof data; i += step)
            c = ri_crc32(c, data + i, i + step <= sizeof data ? step : sizeof data - i);
        ck_assert_uint_eq(c, whole);
    }
}
END_TEST

/* ----------------------------------------------------------------------- rng */

START_TEST(rng_determinism)
{
    ri_rng a, b, c, d;
    ri_rng_seed(&a, 42, 0);
    ri_rng_seed(&b, 42, 0);
    ri_rng_seed(&c, 42, 1);
    ri_rng_seed(&d, 43, 0);
    int diff_stream = 0, diff_seed = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = ri_rng_u64(&a);
        ck_assert(x == ri_rng_u64(&b));
        diff_stream += x != ri_rng_u64(&c);
        diff_seed += x != ri_rng_u64(&d);
    }
    ck_assert_int_eq(diff_stream, 1000);
    ck_assert_int_eq(diff_seed, 1000);

    /* Chunk streams must not start alike (a weak seeding would repeat values). */
    enum { STREAMS = 4096 };
    uint64_t *first = malloc(STREAMS * sizeof *first);
    ck_assert_ptr_nonnull(first);
    int repeats = 0;
    for (uint64_t s = 0; s < STREAMS; s++) {
        ri_rng_seed(&a, 42, s);
        first[s] = ri_rng_u64(&a);
        for (uint64_t t = 0; t < s; t++)
            repeats += first[t] == first[s];
    }
    free(first);
    ck_assert_int_eq(repeats, 0);
}
END_TEST

START_TEST(rng_below_range)
{
    ri_rng r;
    ri_rng_seed(&r, 1, 2);
    const uint64_t ns[] = {1, 2, 3, 7, 1000, UINT64_C(1) << 32, (UINT64_C(1) << 63) + 1, UINT64_MAX};
    /* Counted, not asserted per draw: each libcheck assertion costs a system call. */
    int outside = 0;
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int i = 0; i < 10000; i++)
            outside += ri_rng_below(&r, ns[k]) >= ns[k];
    ck_assert_int_eq(outside, 0);
    uint64_t zero_or_one = 0;
    for (int i = 0; i < 1000; i++)
        zero_or_one += ri_rng_below(&r, 2);
    ck_assert(zero_or_one > 400 && zero_or_one < 600); /* not stuck at one value */
    for (int i = 0; i < 100000; i++) {
        double u = ri_rng_uniform(&r);
        outside += !(u >= 0.0 && u < 1.0);
    }
    ck_assert_int_eq(outside, 0);
}
END_TEST

/* Pearson chi-square of counts against equal expectation. */
static double chi_square(const uint64_t *count, int bins, uint64_t draws)
{
    double e = (double)draws / bins, x = 0;
    for (int b = 0; b < bins; b++)
        x += ((double)count[b] - e) * ((double)count[b] - e) / e;
    return x;
}

START_TEST(rng_uniformity)
{
    ri_rng r;
    ri_rng_seed(&r, 2024, 5);
    enum { DRAWS = 200000 };
    uint64_t count[10] = {0};
    for (int i = 0; i < DRAWS; i++)
        count[ri_rng_below(&r, 10)]++;
    /* chi-square, 9 degrees of freedom: P(X > 33.7) = 1e-4. */
    double x = chi_square(count, 10, DRAWS);
    ck_assert_msg(x < 33.7, "chi-square %.2f over 10 bins", x);

    /* n = 3 * 2^62: a plain modulo would put half of the draws into the first third,
     * a chi-square of about DRAWS / 2; unbiased rejection keeps it small. */
    uint64_t third[3] = {0};
    uint64_t n = UINT64_C(3) << 62;
    for (int i = 0; i < DRAWS; i++)
        third[ri_rng_below(&r, n) >> 62]++;
    x = chi_square(third, 3, DRAWS);
    ck_assert_msg(x < 18.4, "chi-square %.2f over thirds of 3*2^62", x); /* 2 dof, 1e-4 */

    /* Low bits of the raw output must be uniform too (LCG-like generators fail). */
    uint64_t low[16] = {0};
    for (int i = 0; i < DRAWS; i++)
        low[ri_rng_u64(&r) & 15]++;
    x = chi_square(low, 16, DRAWS);
    ck_assert_msg(x < 44.3, "chi-square %.2f of the low 4 bits", x); /* 15 dof, 1e-4 */

    double sum = 0, sq = 0;
    for (int i = 0; i < DRAWS; i++) {
        double z = ri_rng_normal(&r);
        sum += z;
        sq += z * z;
    }
    double mean = sum / DRAWS, var = sq / DRAWS - mean * mean;
    ck_assert_msg(fabs(mean) < 0.01, "normal mean %g", mean); /* 4.5 standard errors */
    ck_assert_msg(fabs(var - 1.0) < 0.015, "normal variance %g", var);
}
END_TEST

/* ri_rng_normal_fill against Marsaglia's polar method written out one pair at
 * a time: the same floats and the generator left in the same state, for
 * lengths around its batch size (odd ones drop a pair's second value). Its
 * moments and a tail count check that the values are standard normal. */
START_TEST(rng_normal_fill_matches_pairwise)
{
    static const size_t lens[] = {0, 1, 2, 3, 63, 64, 65, 1024, 1031};
    enum { MAXN = 1031 };
    static float got[MAXN + 1], want[MAXN + 1];
    for (size_t t = 0; t < sizeof lens / sizeof lens[0]; t++) {
        const size_t n = lens[t];
        ri_rng a, b;
        ri_rng_seed(&a, 77 + t, 3);
        ri_rng_seed(&b, 77 + t, 3);
        got[n] = want[n] = 12345.0f;
        ri_rng_normal_fill(&a, got, n);
        for (size_t i = 0; i < n; i += 2) {
            double u, v, q;
            do {
                u = 2.0 * ri_rng_uniform(&b) - 1.0;
                v = 2.0 * ri_rng_uniform(&b) - 1.0;
                q = u * u + v * v;
            } while (q >= 1.0 || q == 0.0);
            const double f = sqrt(-2.0 * log(q) / q);
            want[i] = (float)(u * f);
            if (i + 1 < n)
                want[i + 1] = (float)(v * f);
        }
        ck_assert_int_eq(memcmp(got, want, (n + 1) * sizeof(float)), 0);
        ck_assert_uint_eq(ri_rng_u64(&a), ri_rng_u64(&b));
    }
    enum { DRAWS = 200000 };
    float *z = malloc(DRAWS * sizeof *z);
    ck_assert_ptr_nonnull(z);
    ri_rng r;
    ri_rng_seed(&r, 9, 9);
    ri_rng_normal_fill(&r, z, DRAWS);
    double sum = 0, sq = 0;
    int tail = 0;
    for (int i = 0; i < DRAWS; i++) {
        sum += z[i];
        sq += (double)z[i] * z[i];
        tail += fabsf(z[i]) > 1.959964f;
    }
    double mean = sum / DRAWS, var = sq / DRAWS - mean * mean;
    ck_assert_msg(fabs(mean) < 0.01, "normal mean %g", mean);
    ck_assert_msg(fabs(var - 1.0) < 0.015, "normal variance %g", var);
    /* P(|z| > 1.96) = 0.05: 10000 expected, sd ~97. */
    ck_assert_msg(abs(tail - 10000) < 500, "%d draws beyond 1.96", tail);
    free(z);
}
END_TEST

/* --------------------------------------------------------------------- alloc */

START_TEST(alloc_overflow)
{
    ri_error_clear();
    ck_assert_ptr_null(ri_malloc_array(SIZE_MAX / 2, 4));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "cannot allocate"));
    ri_error_clear();
    ck_assert_ptr_null(ri_calloc_array(SIZE_MAX / 8 + 1, 8));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "cannot allocate"));
    ck_assert_ptr_null(ri_aligned_alloc(SIZE_MAX / 4, 4));
    ck_assert_ptr_null(RI_NEW_ARRAY(double, SIZE_MAX / 4));

    /* A failed realloc keeps the old block intact. */
    int *p = RI_NEW_ARRAY(int, 4);
    ck_assert_ptr_nonnull(p);
    p[3] = 1234;
    ck_assert_ptr_null(ri_realloc_array(p, SIZE_MAX / 2, sizeof(int)));
    ck_assert_int_eq(p[3], 1234);
    free(p);

    size_t prod = 0;
    ck_assert_int_eq(ri_mul_overflow(SIZE_MAX / 2, 3, &prod), 1);
    ck_assert_int_eq(ri_mul_overflow(1u << 20, 1u << 10, &prod), 0);
    ck_assert_uint_eq(prod, (size_t)1 << 30);
    ck_assert_int_eq(ri_mul_overflow(0, SIZE_MAX, &prod), 0);
    ck_assert_uint_eq(prod, 0);
}
END_TEST

START_TEST(alloc_basic)
{
    double *z = RI_NEW_ZEROED(double, 100);
    ck_assert_ptr_nonnull(z);
    for (int i = 0; i < 100; i++)
        ck_assert(z[i] == 0.0);
    free(z);
    float *a = ri_aligned_alloc(33, sizeof(float));
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 64, 0);
    a[32] = 1.0f;
    ri_aligned_free(a);
    char *s = ri_strdup("abc");
    ck_assert_str_eq(s, "abc");
    free(s);
    void *zero = ri_malloc_array(0, 8); /* a valid, freeable pointer */
    ck_assert_ptr_nonnull(zero);
    free(zero);
}
END_TEST

/* ------------------------------------------------------------------ parallel */

typedef struct {
    atomic_int *hits;
    unsigned threads;
    atomic_int bad_worker;
    size_t fail_at; /* SIZE_MAX: never fail */
} cover_ctx;

static int cover_fn(void *vctx, size_t begin, size_t end, unsigned worker)
{
    cover_ctx *c = vctx;
    if (worker >= c->threads)
        atomic_store(&c->bad_worker, 1);
    for (size_t i = begin; i < end; i++) {
        if (i == c->fail_at)
            return ri_error(RECINT_ERANGE, "item %zu failed in chunk [%zu, %zu)", i, begin, end);
        atomic_fetch_add(&c->hits[i], 1);
    }
    return RECINT_OK;
}

START_TEST(parallel_covers_once)
{
    const size_t n = 1001;
    atomic_int *hits = malloc(n * sizeof *hits);
    ck_assert_ptr_nonnull(hits);
    const size_t chunks[] = {1, 3, 7, 64, 1000, 5000};
    for (unsigned t = 1; t <= 4; t++) {
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            for (size_t i = 0; i < n; i++)
                atomic_init(&hits[i], 0);
            cover_ctx c = {hits, t, 0, SIZE_MAX};
            atomic_init(&c.bad_worker, 0);
            RI_OK(ri_parallel_for(t, n, chunks[k], cover_fn, &c));
            size_t wrong = 0;
            for (size_t i = 0; i < n; i++)
                wrong += atomic_load(&hits[i]) != 1;
            ck_assert_msg(wrong == 0, "threads %u chunk %zu: %zu indices not hit exactly once", t,
                          chunks[k], wrong);
            ck_assert_int_eq(atomic_load(&c.bad_worker), 0);
        }
    }
    /* Nothing to do is not an error and calls nothing. */
    cover_ctx c = {hits, 4, 0, 0};
    atomic_init(&c.bad_worker, 0);
    RI_OK(ri_parallel_for(4, 0, 10, cover_fn, &c));
    free(hits);
}
END_TEST

START_TEST(parallel_failure_reaches_caller)
{
    const size_t n = 999;
    atomic_int *hits = malloc(n * sizeof *hits);
    ck_assert_ptr_nonnull(hits);
    for (unsigned t = 1; t <= 4; t++) {
        for (size_t i = 0; i < n; i++)
            atomic_init(&hits[i], 0);
        cover_ctx c = {hits, t, 0, 500};
        atomic_init(&c.bad_worker, 0);
        ri_error_clear();
        int rc = ri_parallel_for(t, n, 7, cover_fn, &c);
        ck_assert_int_eq(rc, RECINT_ERANGE);
        /* One thread runs the whole range at once; otherwise chunks of 7 put index 500
         * into [497, 504) whichever worker ran it. */
        const char *want = t == 1 ? "item 500 failed in chunk [0, 999)"
                                  : "item 500 failed in chunk [497, 504)";
        ck_assert_str_eq(recint_last_error(), want);
    }
    free(hits);
}
END_TEST

START_TEST(threads_resolve)
{
    ck_assert_uint_ge(ri_threads_resolve(0), 1);
    ck_assert_uint_ge(ri_threads_resolve(-5), 1);
    ck_assert_uint_eq(ri_threads_resolve(3), 3);
    ck_assert_uint_eq(ri_threads_resolve(1), 1);
    ck_assert_uint_eq(ri_threads_resolve(100000), 1024);
}
END_TEST

/* --------------------------------------------------------------------- error */

START_TEST(strerror_all)
{
    const int codes[] = {RECINT_OK,    RECINT_EINVAL,   RECINT_ENOMEM,      RECINT_EIO,
                         RECINT_EFORMAT, RECINT_ERANGE, RECINT_ESTATE,      RECINT_ECANCELED,
                         RECINT_EUNSUPPORTED, RECINT_ENOTFOUND};
    const char *names[] = {"RECINT_OK",     "RECINT_EINVAL",   "RECINT_ENOMEM", "RECINT_EIO",
                           "RECINT_EFORMAT", "RECINT_ERANGE",  "RECINT_ESTATE", "RECINT_ECANCELED",
                           "RECINT_EUNSUPPORTED", "RECINT_ENOTFOUND"};
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = recint_strerror(codes[i]);
        ck_assert_ptr_nonnull(s);
        size_t len = strlen(names[i]);
        ck_assert_msg(strncmp(s, names[i], len) == 0 && s[len] == ':', "%d -> '%s'", codes[i], s);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(s, recint_strerror(codes[j]));
    }
    ck_assert_ptr_nonnull(recint_strerror(-100));
    ck_assert_ptr_nonnull(recint_strerror(5));
    ck_assert_str_ne(recint_strerror(-100), recint_strerror(RECINT_OK));
}
END_TEST

typedef struct {
    pthread_barrier_t *barrier;
    const char *text;
    int ok;
} tls_arg;

static void *tls_thread(void *a)
{
    tls_arg *t = a;
    ri_error(RECINT_EINVAL, "thread says %s", t->text);
    pthread_barrier_wait(t->barrier); /* both messages are set before either is read */
    char want[64];
    snprintf(want, sizeof want, "thread says %s", t->text);
    t->ok = strcmp(recint_last_error(), want) == 0;
    return NULL;
}

START_TEST(last_error_thread_local)
{
    pthread_barrier_t barrier;
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 2), 0);
    ri_error(RECINT_EIO, "main thread message");
    tls_arg a = {&barrier, "alpha", 0}, b = {&barrier, "beta", 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, tls_thread, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, tls_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);
    ck_assert(a.ok);
    ck_assert(b.ok);
    ck_assert_str_eq(recint_last_error(), "main thread message");
}
END_TEST

START_TEST(error_prefix_and_clear)
{
    ck_assert_int_eq(ri_error(RECINT_EFORMAT, "bad %s at %d", "field", 7), RECINT_EFORMAT);
    ck_assert_str_eq(recint_last_error(), "bad field at 7");
    ck_assert_int_eq(ri_error_prefix(RECINT_EIO, "%s: ", "model file"), RECINT_EIO);
    ck_assert_str_eq(recint_last_error(), "model file: bad field at 7");
    ri_error_clear();
    ck_assert_str_eq(recint_last_error(), "");

    /* Overlong messages are truncated, never overflow. */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ri_error(RECINT_EINVAL, "%s", big);
    size_t len = strlen(recint_last_error());
    ck_assert(len > 500 && len < sizeof big - 1);
    ri_error_prefix(RECINT_EINVAL, "ctx: ");
    ck_assert(strncmp(recint_last_error(), "ctx: xxx", 8) == 0);
    ck_assert_uint_eq(strlen(recint_last_error()), len);
}
END_TEST

START_TEST(version)
{
    ck_assert_int_eq(recint_version_number(), RECINT_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", RECINT_VERSION_MAJOR, RECINT_VERSION_MINOR,
             RECINT_VERSION_PATCH);
    ck_assert_str_eq(recint_version(), want);
}
END_TEST

/* -------------------------------------------------------------------- fileio */

START_TEST(strerror_wrapper)
{
    char buf[RI_STRERROR_CAP];
    ck_assert_str_eq(ri_strerror(ENOENT, buf, sizeof buf), "No such file or directory");
    ck_assert_ptr_eq(ri_strerror(EACCES, buf, sizeof buf), buf);
    ck_assert_str_eq(buf, "Permission denied");
    ck_assert_ptr_nonnull(strstr(ri_strerror(123456, buf, sizeof buf), "123456"));
    char small[8];
    ri_strerror(ENOENT, small, sizeof small);
    ck_assert_uint_eq(strlen(small), 7); /* cut, but terminated */
    ck_assert_str_eq(ri_strerror(ENOENT, NULL, 0), "");
}
END_TEST

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    ck_assert_ptr_nonnull(b);
    size_t got;
    while ((got = fread(b + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            b = realloc(b, cap);
            ck_assert_ptr_nonnull(b);
        }
    }
    fclose(f);
    *n = len;
    return b;
}

static int leftovers(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static const char *test_dir(void)
{
    const char *d = getenv("RECINT_TEST_TMP");
    return d && d[0] ? d : "/tmp";
}

START_TEST(atomic_file_basics)
{
    char path[512], mine[600];
    snprintf(path, sizeof path, "%s/atomic-%d.bin", test_dir(), (int)getpid());
    snprintf(mine, sizeof mine, "%s.tmp", path);
    FILE *f = fopen(mine, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("the user's own file", f);
    fclose(f);

    ri_atomic_file a;
    RI_OK(ri_atomic_open(&a, path));
    ck_assert_ptr_nonnull(strstr(a.tmp, ".tmp."));
    RI_OK(ri_atomic_write(&a, "hello ", 6));
    RI_OK(ri_atomic_write(&a, "world", 5));
    ck_assert_int_ne(access(path, F_OK), 0); /* nothing under the name before commit */
    RI_OK(ri_atomic_commit(&a));
    size_t n;
    char *text = read_all(path, &n);
    ck_assert_uint_eq(n, 11);
    ck_assert(memcmp(text, "hello world", 11) == 0);
    free(text);
    /* The mode is what open() would give: 0666 less the umask. */
    mode_t mask = umask(022);
    umask(mask);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0666 & ~mask);

    /* Abort and failed writes leave the old file and no temporary. */
    RI_OK(ri_atomic_open(&a, path));
    RI_OK(ri_atomic_write(&a, "x", 1));
    ri_atomic_abort(&a);
    RI_OK(ri_atomic_open(&a, path));
    a.rc = ri_error(RECINT_EIO, "simulated write failure");
    ck_assert_int_eq(ri_atomic_write(&a, "y", 1), RECINT_EIO); /* sticky */
    ck_assert_int_eq(ri_atomic_commit(&a), RECINT_EIO);
    text = read_all(path, &n);
    ck_assert_uint_eq(n, 11);
    free(text);
    text = read_all(mine, &n);
    ck_assert_uint_eq(n, strlen("the user's own file"));
    free(text);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "atomic-%d.bin.tmp.", (int)getpid());
    ck_assert_int_eq(leftovers(test_dir(), prefix), 0);

    /* Errors name the file and the system's reason. */
    RI_FAILS(RECINT_EIO, ri_atomic_open(&a, "/nonexistent-dir-ri/x.bin"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'/nonexistent-dir-ri/x.bin.tmp."));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "No such file or directory"));
    RI_FAILS(RECINT_EINVAL, ri_atomic_open(&a, ""));
    RI_FAILS(RECINT_EINVAL, ri_atomic_open(NULL, path));
    /* A path without a directory part lands in the working directory. */
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(test_dir()), 0);
    char local[64];
    snprintf(local, sizeof local, "atomic-local-%d", (int)getpid());
    RI_OK(ri_atomic_open(&a, local));
    RI_OK(ri_atomic_write(&a, "z", 1));
    RI_OK(ri_atomic_commit(&a));
    ck_assert_int_eq(access(local, F_OK), 0);
    unlink(local);
    ck_assert_int_eq(chdir(cwd), 0);
    unlink(path);
    unlink(mine);
}
END_TEST

typedef struct {
    const char *path;
    char fill;
    int failures;
} writer_arg;

enum { BIG = 3 << 20 };

static void *write_versions(void *p)
{
    writer_arg *w = p;
    char *block = malloc(BIG);
    if (!block) {
        w->failures++;
        return NULL;
    }
    memset(block, w->fill, BIG);
    for (int k = 0; k < 10; k++) {
        ri_atomic_file f;
        int rc = ri_atomic_open(&f, w->path);
        if (rc == RECINT_OK) {
            for (size_t off = 0; off < BIG && rc == RECINT_OK; off += 65536)
                rc = ri_atomic_write(&f, block + off, 65536);
            rc = rc == RECINT_OK ? ri_atomic_commit(&f) : (ri_atomic_abort(&f), rc);
        }
        w->failures += rc != RECINT_OK;
    }
    free(block);
    return NULL;
}

/* Concurrent writers of one path never share a temporary: every commit
 * succeeds and the file is always one writer's complete version. */
START_TEST(atomic_file_concurrent)
{
    char path[512];
    snprintf(path, sizeof path, "%s/atomic-race-%d.bin", test_dir(), (int)getpid());
    writer_arg a = {path, 'a', 0}, b = {path, 'b', 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, write_versions, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, write_versions, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.failures + b.failures, 0);
    size_t n;
    char *text = read_all(path, &n);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(n, BIG);
    size_t same = 0;
    while (same < n && text[same] == text[0])
        same++;
    ck_assert_uint_eq(same, n);
    ck_assert(text[0] == 'a' || text[0] == 'b');
    free(text);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "atomic-race-%d.bin.tmp.", (int)getpid());
    ck_assert_int_eq(leftovers(test_dir(), prefix), 0);
    unlink(path);
}
END_TEST

/* ---------------------------------------------------------- line ends */

typedef struct {
    char text[64];  /* lines joined by '|' */
    size_t len;
    uint64_t lines, longest;
} line_log;

static int log_line(void *ctx, const char *s, size_t n, uint64_t line)
{
    line_log *g = ctx;
    ck_assert_uint_eq(line, g->lines + 1);
    g->lines = line;
    if (n > g->longest)
        g->longest = n;
    if (n < 16 && g->len + n + 1 < sizeof g->text) {
        memcpy(g->text + g->len, s, n);
        g->len += n;
        g->text[g->len++] = '|';
        g->text[g->len] = '\0';
    }
    return RECINT_OK;
}

static const char *lines_of(const char *text, line_log *g)
{
    memset(g, 0, sizeof *g);
    RI_OK(ri_read_lines_buffer(text, strlen(text), log_line, g));
    return g->text;
}

START_TEST(line_ends)
{
    line_log g;
    ck_assert_str_eq(lines_of("a\nb\r\nc\rd", &g), "a|b|c|d|");
    ck_assert_str_eq(lines_of("a\r\rb\r\n\r\nc\r", &g), "a||b||c|");
    ck_assert_str_eq(lines_of("\r", &g), "|");
    ck_assert_str_eq(lines_of("x\n\r", &g), "x||");
    ck_assert_str_eq(lines_of("\xEF\xBB\xBFh\rw", &g), "h|w|");
}
END_TEST

/* Random texts of 'a', '\r' and '\n' split as a plain reference splitter does. */
typedef struct {
    size_t starts[64], lens[64];
    const char *base;
    size_t n;
} line_spans;

static int span_line(void *ctx, const char *s, size_t n, uint64_t line)
{
    line_spans *g = ctx;
    ck_assert_uint_lt(g->n, 64);
    ck_assert_uint_eq(line, g->n + 1);
    g->starts[g->n] = (size_t)(s - g->base);
    g->lens[g->n++] = n;
    return RECINT_OK;
}

START_TEST(line_ends_random)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    char text[40];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        x = x * 6364136223846793005u + 1442695040888963407u;
        size_t want = (size_t)(x >> 59); /* 0..31 */
        while (len < want) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            unsigned c = (unsigned)(x >> 62);
            text[len++] = c == 0 ? '\r' : c == 1 ? '\n' : 'a';
        }
        text[len] = '\0';
        line_spans got = {.base = text};
        RI_OK(ri_read_lines_buffer(text, len, span_line, &got));
        /* Reference: a line ends at "\r\n", "\r" or "\n"; a non-empty tail is one more. */
        size_t k = 0, start = 0;
        for (size_t i = 0; i <= len; i++) {
            int stop = i < len && (text[i] == '\r' || text[i] == '\n');
            if (!stop && !(i == len && start < len))
                continue;
            ck_assert_uint_lt(k, got.n);
            ck_assert_msg(got.starts[k] == start && got.lens[k] == i - start,
                          "text %d: line %zu at %zu+%zu, want %zu+%zu", round, k, got.starts[k],
                          got.lens[k], start, i - start);
            k++;
            if (i < len && text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
                i++;
            start = i + 1;
        }
        ck_assert_uint_eq(got.n, k);
    }
}
END_TEST

/* A "\r\n" split between two read blocks (8 MiB, LINE_BLOCK in fileio.c) is one
 * line end, and a lone "\r" closing a block is one too. */
START_TEST(line_ends_across_blocks)
{
    const size_t block = (size_t)8 << 20;
    char path[512];
    ri_test_tmp("cr-blocks.txt", path, sizeof path);
    for (int lone = 0; lone < 2; lone++) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        for (size_t i = 0; i + 1 < block; i++)
            fputc('a', f);
        fputs(lone ? "\rb\rc" : "\r\nb\r\nc", f);
        ck_assert_int_eq(fclose(f), 0);
        line_log g;
        memset(&g, 0, sizeof g);
        RI_OK(ri_read_lines(path, log_line, &g));
        ck_assert_uint_eq(g.lines, 3);
        ck_assert_uint_eq(g.longest, block - 1);
        ck_assert_str_eq(g.text, "b|c|");
    }
    unlink(path);
}
END_TEST

/* ------------------------------------------------ non-regular files */

/* Every reader of a file by path opens it through ri_open_regular: a FIFO (here
 * one nobody writes to, whose plain open would wait for a writer forever), a
 * directory and a device are refused at once with EIO and the reason. The alarm
 * turns a reader that blocks into a failure (libcheck's timeout does too, but
 * not when CK_FORK=no). */
enum { HANG_SECONDS = 30, N_SPECIAL = 3 };

typedef struct {
    char path[N_SPECIAL][512];
    const char *kind[N_SPECIAL];
} special_files;

static void special_make(special_files *sp)
{
    ri_test_tmp("fifo", sp->path[0], sizeof sp->path[0]);
    ri_test_tmp("dir", sp->path[1], sizeof sp->path[1]);
    snprintf(sp->path[2], sizeof sp->path[2], "/dev/null");
    unlink(sp->path[0]);
    rmdir(sp->path[1]);
    ck_assert_msg(mkfifo(sp->path[0], 0600) == 0, "mkfifo %s: %s", sp->path[0], strerror(errno));
    ck_assert_msg(mkdir(sp->path[1], 0700) == 0, "mkdir %s: %s", sp->path[1], strerror(errno));
    sp->kind[0] = "not a regular file (FIFO)";
    sp->kind[1] = "not a regular file (directory)";
    sp->kind[2] = "not a regular file (character device)";
}

static void special_remove(const special_files *sp)
{
    unlink(sp->path[0]);
    rmdir(sp->path[1]);
}

/* A reader under test: returns its status for path. */
typedef int (*path_reader)(const char *path, void *ctx);

static void expect_refused(const char *what, path_reader read, void *ctx)
{
    special_files sp;
    special_make(&sp);
    for (int k = 0; k < N_SPECIAL; k++) {
        alarm(HANG_SECONDS);
        int rc = read(sp.path[k], ctx);
        alarm(0);
        const char *msg = recint_last_error();
        ck_assert_msg(rc == RECINT_EIO, "%s(%s) -> %d, want EIO (%s)", what, sp.path[k], rc, msg);
        ck_assert_msg(strstr(msg, sp.path[k]) && strstr(msg, sp.kind[k]),
                      "%s(%s): message '%s' lacks the path or '%s'", what, sp.path[k], msg, sp.kind[k]);
    }
    special_remove(&sp);
}

static int count_line(void *ctx, const char *s, size_t n, uint64_t line)
{
    (void)s, (void)n, (void)line;
    ++*(int *)ctx;
    return RECINT_OK;
}

static int read_lines_at(const char *path, void *ctx) { return ri_read_lines(path, count_line, ctx); }

static int open_regular_at(const char *path, void *ctx)
{
    int fd = -1;
    uint64_t size = 0;
    int rc = ri_open_regular(path, &fd, &size);
    if (rc == RECINT_OK)
        close(fd);
    *(int *)ctx += rc == RECINT_OK;
    return rc;
}

static int container_at(const char *path, void *ctx)
{
    void *data = NULL;
    size_t size = 0;
    int rc = ri_fmt_read_file(path, &data, &size);
    ri_aligned_free(data);
    *(int *)ctx += rc == RECINT_OK;
    return rc;
}

START_TEST(fileio_refuses_non_regular)
{
    int calls = 0;
    expect_refused("ri_read_lines", read_lines_at, &calls);
    expect_refused("ri_open_regular", open_regular_at, &calls);
    expect_refused("ri_fmt_read_file", container_at, &calls);
    ck_assert_int_eq(calls, 0); /* no line handed over, nothing opened */

    /* A regular file still opens and reads, with blocking reads. */
    char path[512];
    ri_test_tmp("regular.txt", path, sizeof path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("a\nb\n", f);
    fclose(f);
    int fd = -1;
    uint64_t size = 0;
    RI_OK(ri_open_regular(path, &fd, &size));
    ck_assert_uint_eq(size, 4);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
    RI_OK(ri_read_lines(path, count_line, &calls));
    ck_assert_int_eq(calls, 2);
    unlink(path);
}
END_TEST

static int dataset_at(const char *path, void *ctx)
{
    return recint_dataset_load(ctx, path, NULL);
}

static int sparse_at(const char *path, void *ctx)
{
    recint_features *f = NULL;
    int rc = recint_features_load_sparse(&f, NULL, path, ctx, NULL);
    ck_assert_ptr_null(f);
    return rc;
}

static int npy_at(const char *path, void *ctx)
{
    (void)ctx;
    recint_features *f = NULL;
    int rc = recint_features_load_npy(&f, path, NULL);
    ck_assert_ptr_null(f);
    return rc;
}

static int raw_at(const char *path, void *ctx)
{
    (void)ctx;
    recint_features *f = NULL;
    int rc = recint_features_load_raw(&f, path, 2, NULL);
    ck_assert_ptr_null(f);
    return rc;
}

START_TEST(data_loaders_refuse_non_regular)
{
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    expect_refused("recint_dataset_load", dataset_at, ds);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 0);
    recint_dataset_free(ds);
    recint_idmap *rows = NULL;
    RI_OK(ri_idmap_new_range(&rows, 3));
    expect_refused("recint_features_load_sparse", sparse_at, rows);
    ri_idmap_free(rows);
    expect_refused("recint_features_load_npy", npy_at, NULL);
    expect_refused("recint_features_load_raw", raw_at, NULL);
}
END_TEST

static int model_at(const char *path, void *ctx)
{
    (void)ctx;
    recint_model *m = NULL;
    int rc = recint_model_load(&m, path);
    ck_assert_ptr_null(m);
    return rc;
}

START_TEST(model_load_refuses_non_regular)
{
    expect_refused("recint_model_load", model_at, NULL);
}
END_TEST

static recint_explorer *small_explorer(recint_model **m)
{
    const float U[] = {1, 0, 0, 1}, V[] = {1, 0, 0, 1, 1, 1};
    RI_OK(recint_model_new_factors(m, 2, 3, 2, U, V, NULL, NULL));
    recint_explorer *e = NULL;
    RI_OK(recint_explorer_new(&e, *m, NULL));
    return e;
}

static int replay_at(const char *path, void *ctx)
{
    uint64_t mismatches = 12345;
    int rc = recint_explorer_replay(ctx, path, &mismatches);
    ck_assert_uint_eq(mismatches, 12345);
    return rc;
}

static int evaluate_at(const char *path, void *ctx)
{
    double out[4] = {-1, -1, -1, -1};
    int rc = recint_explorer_evaluate(ctx, path, RECINT_OPE_IPS, out, 4);
    ck_assert(out[0] == -1 && out[3] == -1);
    return rc;
}

START_TEST(explorer_logs_refuse_non_regular)
{
    recint_model *m = NULL;
    recint_explorer *e = small_explorer(&m);
    expect_refused("recint_explorer_replay", replay_at, e);
    expect_refused("recint_explorer_evaluate", evaluate_at, e);
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *num = tcase_create("numparse");
    tcase_add_test(num, i64_values);
    tcase_add_test(num, i64_errors);
    tcase_add_test(num, f64_values);
    tcase_add_test(num, f64_errors);
    tcase_add_test(num, format_round_trip);
    tcase_add_test(num, f64_correctly_rounded);
    tcase_add_test(num, format_shortest_exact);
    tcase_add_test(num, locale_independent);
    suite_add_tcase(s, num);
    TCase *crc = tcase_create("crc32");
    tcase_add_test(crc, crc32_known);
    tcase_add_test(crc, crc32_chunked);
    suite_add_tcase(s, crc);
    TCase *rng = tcase_create("rng");
    tcase_add_test(rng, rng_determinism);
    tcase_add_test(rng, rng_below_range);
    tcase_add_test(rng, rng_uniformity);
    tcase_add_test(rng, rng_normal_fill_matches_pairwise);
    suite_add_tcase(s, rng);
    TCase *mem = tcase_create("alloc");
    tcase_add_test(mem, alloc_overflow);
    tcase_add_test(mem, alloc_basic);
    suite_add_tcase(s, mem);
    TCase *par = tcase_create("parallel");
    tcase_add_test(par, parallel_covers_once);
    tcase_add_test(par, parallel_failure_reaches_caller);
    tcase_add_test(par, threads_resolve);
    suite_add_tcase(s, par);
    TCase *err = tcase_create("error");
    tcase_add_test(err, strerror_all);
    tcase_add_test(err, last_error_thread_local);
    tcase_add_test(err, error_prefix_and_clear);
    tcase_add_test(err, version);
    TCase *io = tcase_create("fileio");
    tcase_add_test(io, strerror_wrapper);
    tcase_add_test(io, atomic_file_basics);
    tcase_add_test(io, atomic_file_concurrent);
    tcase_add_test(io, line_ends);
    tcase_add_test(io, line_ends_random);
    tcase_add_test(io, line_ends_across_blocks);
    suite_add_tcase(s, io);
    TCase *special = tcase_create("non-regular files");
    /* A reader that blocks on a FIFO fails here rather than hanging. */
    tcase_set_timeout(special, 2 * HANG_SECONDS);
    tcase_add_test(special, fileio_refuses_non_regular);
    tcase_add_test(special, data_loaders_refuse_non_regular);
    tcase_add_test(special, model_load_refuses_non_regular);
    tcase_add_test(special, explorer_logs_refuse_non_regular);
    suite_add_tcase(s, special);
    suite_add_tcase(s, err);
    return ri_test_run(s);
}
