#include "util/numparse.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ri_parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len == 0)
        return -1;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    uint64_t v = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (v > (limit - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int lower_eq(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* Clinger's fast path: a mantissa below 2^53 and a power of ten up to 1e22 are
 * both exact doubles, so one multiplication or division rounds correctly. This
 * covers the short decimals of data files. */
static int fast_path(uint64_t mant, int exp10, double *out)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (mant > ((uint64_t)1 << 53) || exp10 < -22 || exp10 > 22)
        return 0;
    double m = (double)mant;
    *out = exp10 >= 0 ? m * pow10[exp10] : m / pow10[-exp10];
    return 1;
}

enum { KEEP_DIGITS = 800 };

/* Correctly rounded value of the digits [s, s+n) ("123.456", no sign, no
 * exponent) times 10^e, for input the fast path cannot take (17-digit text of
 * an arbitrary double, huge or tiny exponents). The digits are rewritten as an
 * integer with an exponent ("123456e-3": no decimal point, so no locale can
 * read it differently) and converted by strtod_l under a "C" locale object of
 * this call only. A double's rounding boundaries have at most 767 significant
 * digits, so after KEEP_DIGITS digits a single sticky 1 stands for any
 * non-zero rest. */
static double exact_value(const char *s, size_t n, int e, uint64_t mant, int exp10)
{
    char buf[KEEP_DIGITS + 40];
    size_t k = 0;
    long long x = e;
    int frac = 0, sticky = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            frac = 1;
            continue;
        }
        if (k == 0 && c == '0') {
            x -= frac; /* a leading zero has no value, but in the fraction a place */
        } else if (k < KEEP_DIGITS) {
            buf[k++] = c;
            x -= frac;
        } else {
            sticky |= c != '0';
            x += !frac && x < 1000000;
        }
    }
    if (sticky) {
        buf[k++] = '1';
        x--;
    }
    snprintf(buf + k, sizeof buf - k, "e%lld", x);
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0) {
        /* No memory for a locale object: the nearest approximation without one. */
        double v = (double)mant;
        return exp10 >= 0 ? v * pow(10.0, exp10) : v / pow(10.0, -exp10);
    }
    double v = strtod_l(buf, NULL, c_locale);
    freelocale(c_locale);
    return v;
}

int ri_parse_f64(const char *s, size_t len, double *out)
{
    size_t i = 0;
    int neg = 0;
    if (len == 0)
        return -1;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    if (lower_eq(s + i, len - i, "inf") || lower_eq(s + i, len - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 0;
    }
    if (lower_eq(s + i, len - i, "nan")) {
        *out = NAN;
        return 0;
    }
    /* The digits are scanned once for syntax and for the fast path below; the
     * exact value is only needed when that path cannot be exact. */
    size_t start = i;
    uint64_t mant = 0;
    int digits = 0, exp10 = 0, any = 0, exact = 1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        any = 1;
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                digits++;
        } else {
            exp10++;
            exact = 0;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            any = 1;
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                if (mant)
                    digits++;
                exp10--;
            } else if (s[i] != '0') {
                exact = 0;
            }
        }
    }
    if (!any)
        return -1;
    size_t mant_end = i;
    int e = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == len || s[i] < '0' || s[i] > '9')
            return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        if (eneg)
            e = -e;
        exp10 += e;
    }
    if (i != len)
        return -1;
    double v;
    if (mant == 0)
        v = 0.0;
    else if (!exact || !fast_path(mant, exp10, &v))
        v = exact_value(s + start, mant_end - start, e, mant, exp10);
    *out = neg ? -v : v;
    return 0;
}

void ri_format_f64(double v, char *buf, size_t cap)
{
    if (cap == 0)
        return;
    if (isnan(v)) {
        snprintf(buf, cap, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, cap, v < 0 ? "-inf" : "inf");
        return;
    }
    /* The shortest of 15, 16 and 17 significant digits that reads back as the
     * same double (17 always does): "0.1" stays "0.1", 1.23456789012345 keeps
     * every digit. */
    char tmp[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(tmp, sizeof tmp, "%.*g", digits, v);
        /* A host may have set a locale whose decimal point is ','. */
        for (char *p = tmp; *p; p++)
            if (*p == ',')
                *p = '.';
        double back;
        if (ri_parse_f64(tmp, strlen(tmp), &back) == 0 && back == v)
            break;
    }
    snprintf(buf, cap, "%s", tmp);
}
