#include "numparse.h"

#include <math.h>
#include <stdio.h>
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
    /* Up to 19 significant digits exactly in an integer, then one scaling by a
     * power of ten: correctly rounded for the short decimals data files hold. */
    uint64_t mant = 0;
    int digits = 0, exp10 = 0, any = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        any = 1;
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            if (mant)
                digits++;
        } else {
            exp10++;
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
            }
        }
    }
    if (!any)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == len)
            return -1;
        int e = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return -1;
    double v = (double)mant;
    if (mant != 0) {
        if (exp10 > 0)
            v *= pow(10.0, exp10);
        else if (exp10 < 0)
            v = exp10 < -300 ? (v / 1e300) / pow(10.0, -exp10 - 300) : v / pow(10.0, -exp10);
    }
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
    snprintf(buf, cap, "%.9g", v);
    /* A host may have set a locale whose decimal point is ','. */
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}
