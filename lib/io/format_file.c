/* Reading a container file whole, for readers other than the model loader. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "fileio.h"
#include "format.h"

static int io_error(const char *path, const char *what)
{
    char msg[RI_STRERROR_CAP];
    return ri_error(RECINT_EIO, "%s: %s: %s", path, what, ri_strerror(errno, msg, sizeof msg));
}

int ri_fmt_read_file(const char *path, void **data, size_t *size)
{
    if (!path || !data || !size)
        return ri_error(RECINT_EINVAL, "container reader: NULL argument");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(path, "cannot open");
    struct stat st;
    int rc = RECINT_OK;
    if (fstat(fd, &st) != 0)
        rc = io_error(path, "cannot stat");
    else if (!S_ISREG(st.st_mode))
        rc = ri_error(RECINT_EIO, "%s: not a regular file", path);
    else if (st.st_size < (off_t)RI_FMT_HEADER_SIZE)
        rc = ri_error(RECINT_EFORMAT, "%s: truncated: %lld bytes, the header needs %u", path,
                      (long long)st.st_size, RI_FMT_HEADER_SIZE);
    else if ((uint64_t)st.st_size > SIZE_MAX)
        rc = ri_error(RECINT_ENOMEM, "%s: %lld bytes do not fit in memory", path,
                      (long long)st.st_size);
    if (rc) {
        close(fd);
        return rc;
    }
    size_t n = (size_t)st.st_size, got = 0;
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
