/* Whole-file replacement that readers never see half done, the readers of text
 * lines and whole files shared by the loaders, and the one wrapper of the
 * system's error texts used in I/O messages. */
#ifndef RI_FILEIO_H
#define RI_FILEIO_H

#include <stddef.h>
#include <stdint.h>

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

/* Called with each line of a text (without its end: "\n", "\r\n" or a lone "\r";
 * on line 1 without a UTF-8 byte order mark); line is 1-based. A non-OK return
 * stops the reading. */
typedef int (*ri_line_fn)(void *ctx, const char *s, size_t n, uint64_t line);
/* Hand every line of the regular file at path (opened by ri_open_regular) to fn,
 * the last one even without a final newline. The file is read in large blocks,
 * each line scanned once. Errors: EIO ("path: cannot open: reason", "path: not a
 * regular file (FIFO)"), ENOMEM, or fn's code. */
int ri_read_lines(const char *path, ri_line_fn fn, void *ctx);
/* The same over text[0..len). */
int ri_read_lines_buffer(const char *text, size_t len, ri_line_fn fn, void *ctx);
/* Open the regular file at path for reading; *fd (close it) and *size receive the
 * descriptor and its size in bytes. The one opener of every reader of a file by
 * path: a FIFO, device, directory or socket is refused at once, without waiting
 * for a FIFO's writer. Errors: EIO ("path: cannot open: reason", "path: not a
 * regular file (FIFO|directory|character device|block device|socket)"). */
int ri_open_regular(const char *path, int *fd, uint64_t *size);
/* Read exactly n bytes from fd into buf; name is used in messages.
 * Errors: EIO (read failure, or the file ends before n bytes). */
int ri_read_exact(int fd, void *buf, size_t n, const char *name);

#endif
