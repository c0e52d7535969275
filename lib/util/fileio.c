#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/error.h"

/* Temporary names are "path.tmp.XXXXXX": recognisable as leftovers should the
 * process die before the rename, and never "path.tmp", which may be the user's. */
#define TMP_MARK ".tmp."
enum {
    MARK = sizeof TMP_MARK - 1,
    SUFFIX = 6,          /* random characters after the mark */
    ATTEMPTS = 100,      /* names tried before giving up (each collides ~1 in 62^6) */
};

const char *ri_strerror(int err, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return "";
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    /* GNU strerror_r may return a static text instead of filling buf. */
    const char *s = strerror_r(err, buf, cap);
    if (s != buf)
        snprintf(buf, cap, "%s", s);
#else
    if (strerror_r(err, buf, cap) != 0)
        snprintf(buf, cap, "error %d", err);
#endif
    return buf;
}

static int io_error(const char *what, const char *name, int err)
{
    char eb[RI_STRERROR_CAP];
    return ri_error(RECINT_EIO, "%s '%s': %s", what, name, ri_strerror(err, eb, sizeof eb));
}

/* Random bytes for a temporary name. Only uniqueness matters (O_EXCL guarantees
 * correctness), so when the kernel has no entropy ready the clock, the process
 * id, an address and the attempt number are mixed instead. */
static void name_bytes(unsigned char *b, size_t n, unsigned attempt, const void *where)
{
    if (getrandom(b, n, GRND_NONBLOCK) == (ssize_t)n)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 17) ^
                 (uint64_t)(uintptr_t)where ^ ((uint64_t)attempt * 0x9E3779B97F4A7C15u);
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 33;
        x *= 0xFF51AFD7ED558CCDu;
        x ^= x >> 29;
        b[i] = (unsigned char)x;
    }
}

/* A unique "path.tmp.XXXXXX" created with O_EXCL. mkstemp would do the same but
 * creates the file with mode 0600, and the mode open() gives (0666 less the
 * umask) cannot be restored afterwards without reading the umask, which is not
 * thread-safe: saved files would silently stop being readable by others. */
static int create_unique(ri_atomic_file *f, size_t plen)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    memcpy(f->tmp + plen, TMP_MARK, MARK);
    f->tmp[plen + MARK + SUFFIX] = '\0';
    int err = EEXIST;
    for (unsigned attempt = 0; attempt < ATTEMPTS && err == EEXIST; attempt++) {
        unsigned char b[SUFFIX];
        name_bytes(b, sizeof b, attempt, f);
        for (int i = 0; i < SUFFIX; i++)
            f->tmp[plen + MARK + i] = alphabet[b[i] % (sizeof alphabet - 1)];
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (f->fd >= 0)
            return RECINT_OK;
        err = errno == EINTR ? EEXIST : errno;
    }
    return io_error("cannot create the temporary file", f->tmp, err);
}

static void release(ri_atomic_file *f)
{
    free(f->tmp);
    free(f->path);
    f->tmp = NULL;
    f->path = NULL;
    f->fd = -1;
}

int ri_atomic_open(ri_atomic_file *f, const char *path)
{
    if (!f || !path || !path[0])
        return ri_error(RECINT_EINVAL, "atomic file: %s", !f ? "handle is NULL" : "empty or NULL path");
    memset(f, 0, sizeof *f);
    f->fd = -1;
    size_t plen = strlen(path);
    if (plen > SIZE_MAX - (MARK + SUFFIX + 1))
        return ri_error(RECINT_EINVAL, "atomic file: path too long");
    f->path = ri_strdup(path);
    f->tmp = ri_malloc_array(plen + MARK + SUFFIX + 1, 1); /* path ".tmp." XXXXXX NUL */
    if (!f->path || !f->tmp) {
        release(f);
        return RECINT_ENOMEM;
    }
    memcpy(f->tmp, path, plen);
    int rc = create_unique(f, plen);
    if (rc != RECINT_OK)
        release(f);
    return rc;
}

int ri_atomic_write(void *handle, const void *data, size_t n)
{
    ri_atomic_file *f = handle;
    const char *p = data;
    while (f->rc == RECINT_OK && n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            f->rc = io_error("cannot write", f->tmp, errno);
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    return f->rc;
}

void ri_atomic_abort(ri_atomic_file *f)
{
    if (!f || !f->tmp)
        return;
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    release(f);
}

/* The rename is durable only once the directory entry is synced. Filesystems
 * that cannot sync a directory (EINVAL) and directories the process may write
 * but not open for reading (EACCES) are left as they are. tmp, the temporary's
 * name (unused once renamed, and in the destination's directory), is cut down
 * to that directory: nothing is allocated after the destination was replaced,
 * where a failure could no longer leave it as it was. */
static int sync_directory(char *tmp)
{
    char *slash = strrchr(tmp, '/');
    const char *dir = ".";
    if (slash) {
        slash[slash == tmp ? 1 : 0] = '\0';
        dir = tmp;
    }
    int rc = RECINT_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != EACCES)
            rc = io_error("saved, but cannot open its directory to sync it", dir, errno);
    } else {
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = io_error("saved, but cannot sync the directory", dir, errno);
        close(fd);
    }
    return rc;
}

int ri_atomic_commit(ri_atomic_file *f)
{
    if (!f || !f->tmp)
        return ri_error(RECINT_EINVAL, "atomic file: commit without an open file");
    int rc = f->rc;
    /* Synced before the rename: the name must never point at unwritten data. */
    if (rc == RECINT_OK && fsync(f->fd) != 0)
        rc = io_error("cannot sync", f->tmp, errno);
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0 && rc == RECINT_OK)
        rc = io_error("cannot close", f->tmp, errno);
    if (rc == RECINT_OK && rename(f->tmp, f->path) != 0) {
        char eb[RI_STRERROR_CAP];
        rc = ri_error(RECINT_EIO, "cannot rename '%s' to '%s': %s", f->tmp, f->path,
                      ri_strerror(errno, eb, sizeof eb));
    }
    if (rc != RECINT_OK) {
        unlink(f->tmp);
        release(f);
        return rc;
    }
    rc = sync_directory(f->tmp);
    release(f);
    return rc;
}

/* ------------------------------------------------------------ reading */

enum { LINE_BLOCK = 8 << 20 }; /* read size: large enough to amortise syscalls */

typedef struct {
    ri_line_fn fn;
    void *ctx;
    uint64_t line;
} line_reader;

static int one_line(line_reader *R, const char *s, size_t n)
{
    R->line++;
    if (R->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3; /* UTF-8 byte order mark of spreadsheet exports */
        n -= 3;
    }
    return R->fn(R->ctx, s, n, R->line);
}

/* The complete lines of [p, p+len); with final, the unterminated tail too.
 * *used receives the bytes consumed. A line ends at "\n", "\r\n" or a lone
 * "\r": spreadsheets on old Macs write CR-only text, which read as one line
 * would be misparsed as a single row. */
static int feed_lines(line_reader *R, const char *p, size_t len, int final, size_t *used)
{
    const char *s = p, *end = p + len;
    /* The next '\n' at or after s (end when none) is kept across lines: in a
     * CR-only text a search per line would rescan the rest of the block. */
    const char *nl = NULL;
    int rc = RECINT_OK;
    while (s < end) {
        if (!nl || nl < s) {
            nl = memchr(s, '\n', (size_t)(end - s));
            if (!nl)
                nl = end;
        }
        const char *cr = memchr(s, '\r', (size_t)(nl - s));
        const char *stop = cr ? cr : nl, *next;
        if (cr && cr + 1 == end && !final)
            break; /* a "\r\n" may be split across blocks */
        if (cr)
            next = cr + 1 < end && cr[1] == '\n' ? cr + 2 : cr + 1;
        else if (nl < end)
            next = nl + 1;
        else if (final)
            next = end;
        else
            break;
        if ((rc = one_line(R, s, (size_t)(stop - s))) != RECINT_OK)
            break;
        s = next;
    }
    *used = (size_t)(s - p);
    return rc;
}

static int read_lines_fd(line_reader *R, int fd, const char *name)
{
    size_t cap = LINE_BLOCK, have = 0;
    char *buf = ri_malloc_array(cap, 1);
    if (!buf)
        return RECINT_ENOMEM;
    int rc = RECINT_OK, eof = 0;
    while (!eof && rc == RECINT_OK) {
        /* Fill the block completely so each line is scanned once. */
        while (have < cap) {
            ssize_t got = read(fd, buf + have, cap - have);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                char eb[RI_STRERROR_CAP];
                rc = ri_error(RECINT_EIO, "%s: cannot read: %s", name, ri_strerror(errno, eb, sizeof eb));
                break;
            }
            if (got == 0) {
                eof = 1;
                break;
            }
            have += (size_t)got;
        }
        if (rc != RECINT_OK)
            break;
        size_t used = 0;
        rc = feed_lines(R, buf, have, eof, &used);
        if (rc != RECINT_OK || eof)
            break;
        if (used == 0) {
            /* One line longer than the block: widen it. */
            char *wider = cap <= SIZE_MAX / 2 ? ri_realloc_array(buf, cap * 2, 1) : NULL;
            if (!wider) {
                rc = ri_error(RECINT_ENOMEM, "%s:%llu: line longer than %zu bytes", name,
                              (unsigned long long)R->line + 1, cap);
                break;
            }
            buf = wider;
            cap *= 2;
        } else {
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
    free(buf);
    return rc;
}

int ri_read_lines(const char *path, ri_line_fn fn, void *ctx)
{
    if (!path || !fn)
        return ri_error(RECINT_EINVAL, "read lines: %s is NULL", !path ? "path" : "callback");
    int fd;
    uint64_t size;
    int rc = ri_open_regular(path, &fd, &size);
    if (rc != RECINT_OK)
        return rc;
    line_reader R = {fn, ctx, 0};
    rc = read_lines_fd(&R, fd, path);
    close(fd);
    return rc;
}

int ri_read_lines_buffer(const char *text, size_t len, ri_line_fn fn, void *ctx)
{
    if ((!text && len) || !fn)
        return ri_error(RECINT_EINVAL, "read lines: %s is NULL", !fn ? "callback" : "text");
    line_reader R = {fn, ctx, 0};
    size_t used;
    return len ? feed_lines(&R, text, len, 1, &used) : RECINT_OK;
}

/* What a non-regular file is, for the message refusing it. */
static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode) ? "FIFO" : S_ISDIR(mode) ? "directory" : S_ISCHR(mode) ? "character device"
         : S_ISBLK(mode) ? "block device" : S_ISSOCK(mode) ? "socket" : "special file";
}

int ri_open_regular(const char *path, int *fd, uint64_t *size)
{
    if (!path || !fd || !size)
        return ri_error(RECINT_EINVAL, "open file: %s is NULL", !path ? "path" : "output");
    char eb[RI_STRERROR_CAP];
    /* O_NONBLOCK: opening a FIFO without it waits for a writer, possibly forever,
     * before fstat could refuse it. O_NOCTTY: a terminal must not become the
     * host's controlling terminal on the way. */
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f < 0)
        return ri_error(RECINT_EIO, "%s: cannot open: %s", path, ri_strerror(errno, eb, sizeof eb));
    struct stat st;
    int rc = RECINT_OK, flags;
    if (fstat(f, &st) != 0)
        rc = ri_error(RECINT_EIO, "%s: cannot stat: %s", path, ri_strerror(errno, eb, sizeof eb));
    else if (!S_ISREG(st.st_mode))
        rc = ri_error(RECINT_EIO, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
    /* Reads then behave as on any descriptor, whatever O_NONBLOCK means on this
     * file system. */
    else if ((flags = fcntl(f, F_GETFL)) < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) < 0)
        rc = ri_error(RECINT_EIO, "%s: cannot set blocking reads: %s", path,
                      ri_strerror(errno, eb, sizeof eb));
    if (rc != RECINT_OK) {
        close(f);
        return rc;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return RECINT_OK;
}

int ri_read_exact(int fd, void *buf, size_t n, const char *name)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            char eb[RI_STRERROR_CAP];
            return ri_error(RECINT_EIO, "%s: read failed: %s", name, ri_strerror(errno, eb, sizeof eb));
        }
        if (r == 0)
            return ri_error(RECINT_EIO, "%s: the file ends early (changed while reading?)", name);
        got += (size_t)r;
    }
    return RECINT_OK;
}
