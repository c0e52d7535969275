/* Reading a container file whole (model loads, explorer logs). */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/fileio.h"
#include "io/format.h"

static int io_error(const char *path, const char *what)
{
    char msg[RI_STRERROR_CAP];
    return ri_error(RECINT_EIO, "%s: %s: %s", path, what, ri_strerror(errno, msg, sizeof msg));
}

int ri_fmt_read_file(const char *path, void **data, size_t *size)
{
    if (!path || !data || !size)
        return ri_error(RECINT_EINVAL, "container reader: NULL argument");
    int fd;
    uint64_t file_size;
    int rc = ri_open_regular(path, &fd, &file_size);
    if (rc)
        return rc;
    if (file_size < RI_FMT_HEADER_SIZE)
        rc = ri_error(RECINT_EFORMAT, "%s: truncated: %llu bytes, the header needs %u", path,
                      (unsigned long long)file_size, RI_FMT_HEADER_SIZE);
    else if (file_size > SIZE_MAX)
        rc = ri_error(RECINT_ENOMEM, "%s: %llu bytes do not fit in memory", path,
                      (unsigned long long)file_size);
    if (rc) {
        close(fd);
        return rc;
    }
    size_t n = (size_t)file_size, got = 0;
    uint8_t *buf = ri_aligned_alloc(n, 1);
    if (!buf) {
        close(fd);
        return ri_error(RECINT_ENOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? io_error(path, "read failed")
                       : ri_error(RECINT_EIO, "%s: file shrank while reading", path);
            close(fd);
            ri_aligned_free(buf);
            return rc;
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = n;
    return RECINT_OK;
}
