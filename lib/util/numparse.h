/* Locale-independent number parsing (strtod follows LC_NUMERIC, which a host
 * program may have changed; the library must read "4.5" the same everywhere). */
#ifndef RI_NUMPARSE_H
#define RI_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parse the whole span [s, s+len) as a decimal integer (optional sign).
 * Returns 0 on success, -1 on syntax error, -2 on overflow. */
int ri_parse_i64(const char *s, size_t len, int64_t *out);
/* Parse the whole span as a decimal floating-point number, correctly rounded ("4", "-1.5e3", ".5",
 * "inf", "-inf", "nan" accepted; the caller decides what to reject).
 * Returns 0 on success, -1 on syntax error. */
int ri_parse_f64(const char *s, size_t len, double *out);
/* Format v as the shortest of 15, 16 or 17 significant digits that ri_parse_f64
 * reads back as v, always with '.' as decimal point. */
void ri_format_f64(double v, char *buf, size_t cap);

#endif
