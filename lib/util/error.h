/* Thread-local last-error message and the helper every failing path returns through. */
#ifndef RI_ERROR_H
#define RI_ERROR_H

#include "recint.h"

#if defined(__GNUC__)
#define RI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RI_PRINTF(a, b)
#endif

/* Record a formatted message for recint_last_error() and return code, so that a
 * failing path reads: return ri_error(RECINT_EINVAL, "k must be > 0, got %u", k); */
int ri_error(int code, const char *fmt, ...) RI_PRINTF(2, 3);
/* Prefix the current message with context ("model file: ") keeping the code. */
int ri_error_prefix(int code, const char *fmt, ...) RI_PRINTF(2, 3);
/* Clear the message (successful public calls need not do this). */
void ri_error_clear(void);

#endif
