#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define RI_ERRBUF 1024

/* Thread-local so that concurrent callers never see each other's messages. */
static _Thread_local char errbuf[RI_ERRBUF];

int ri_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

int ri_error_prefix(int code, const char *fmt, ...)
{
    char old[RI_ERRBUF];
    va_list ap;
    memcpy(old, errbuf, sizeof old);
    va_start(ap, fmt);
    int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof errbuf) {
        size_t room = sizeof errbuf - (size_t)n;
        size_t len = strnlen(old, room - 1);
        memcpy(errbuf + n, old, len);
        errbuf[(size_t)n + len] = '\0';
    }
    return code;
}

void ri_error_clear(void) { errbuf[0] = '\0'; }

RECINT_API const char *recint_last_error(void) { return errbuf; }

RECINT_API const char *recint_strerror(int code)
{
    switch (code) {
    case RECINT_OK: return "RECINT_OK: success";
    case RECINT_EINVAL: return "RECINT_EINVAL: invalid argument";
    case RECINT_ENOMEM: return "RECINT_ENOMEM: out of memory";
    case RECINT_EIO: return "RECINT_EIO: input/output error";
    case RECINT_EFORMAT: return "RECINT_EFORMAT: malformed input";
    case RECINT_ERANGE: return "RECINT_ERANGE: index out of range";
    case RECINT_ESTATE: return "RECINT_ESTATE: invalid state for this call";
    case RECINT_ECANCELED: return "RECINT_ECANCELED: canceled";
    case RECINT_EUNSUPPORTED: return "RECINT_EUNSUPPORTED: not supported";
    case RECINT_ENOTFOUND: return "RECINT_ENOTFOUND: not found";
    default: return "RECINT_E?: unknown status code";
    }
}

#define RI_STR2(x) #x
#define RI_STR(x) RI_STR2(x)

RECINT_API const char *recint_version(void)
{
    return RI_STR(RECINT_VERSION_MAJOR) "." RI_STR(RECINT_VERSION_MINOR) "." RI_STR(RECINT_VERSION_PATCH);
}

RECINT_API int recint_version_number(void) { return RECINT_VERSION_NUMBER; }
