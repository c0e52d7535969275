/* Whole-file replacement that readers never see half done, and the one wrapper of
 * the system's error texts used in I/O messages. */
#ifndef RI_FILEIO_H
#define RI_FILEIO_H

#include <stddef.h>

/* Room for any system error text in a message. */
#define RI_STRERROR_CAP 128

/* Text of errno value err in buf (always filled and terminated); returns buf.
 * Thread-safe, unlike strerror. */
const char *ri_strerror(int err, char *buf, size_t cap);

/* A file being written under a unique temporary name beside its destination. */
typedef struct {
    int fd;
    char *tmp;        /* "path.tmp.XXXXXX", owned */
    char *path;       /* destination, owned copy */
    int rc;           /* first failure; later writes are skipped */
} ri_atomic_file;

/* Create the temporary file for path (mode 0666 less the umask, as open would
 * give). Errors: EINVAL (NULL or empty path), ENOMEM, EIO (with the reason). */
int ri_atomic_open(ri_atomic_file *f, const char *path);
/* Append n bytes. The signature fits byte-sink callbacks: f is an ri_atomic_file.
 * Returns the first failure so far (EIO naming the temporary file) or RECINT_OK. */
int ri_atomic_write(void *f, const void *data, size_t n);
/* Sync the data, rename the temporary onto the destination and sync the
 * directory. On any failure, earlier write failures included, the temporary is
 * removed and the destination is left as it was. f is released either way.
 * Errors: EIO. */
int ri_atomic_commit(ri_atomic_file *f);
/* Remove the temporary and release f (after a failure of the caller's own). */
void ri_atomic_abort(ri_atomic_file *f);

#endif
