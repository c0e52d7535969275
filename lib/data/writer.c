/* Dataset -> tab-separated text that recint_dataset_load reads back.
 *
 * The text goes to "path.tmp" and is renamed over path only once it is
 * complete and synced, so a failed or interrupted save never leaves a partial
 * file under the real name. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "idmap.h"
#include "numparse.h"

enum { OUT_BLOCK = 1 << 20 };

typedef struct {
    int fd;
    const char *tmp;
    char *buf;
    size_t len;
    int rc;       /* first failure; later writes are skipped */
} out;

static int io_fail(const char *what, const char *path, int err)
{
    char eb[128];
    return ri_error(RECINT_EIO, "%s '%s': %s", what, path, strerror_r(err, eb, sizeof eb));
}

static void flush(out *o)
{
    size_t done = 0;
    while (o->rc == RECINT_OK && done < o->len) {
        ssize_t w = write(o->fd, o->buf + done, o->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            o->rc = io_fail("cannot write", o->tmp, errno);
        else
            done += (size_t)w;
    }
    o->len = 0;
}

/* Room for n more bytes (n <= OUT_BLOCK). */
static char *room(out *o, size_t n)
{
    if (OUT_BLOCK - o->len < n)
        flush(o);
    return o->buf + o->len;
}

static void put(out *o, const char *s, size_t n)
{
    while (n) {
        size_t part = n < OUT_BLOCK ? n : OUT_BLOCK;
        memcpy(room(o, part), s, part);
        o->len += part;
        s += part;
        n -= part;
    }
}

static size_t format_i64(char *dst, int64_t v)
{
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        dst[k++] = '-';
    while (n)
        dst[k++] = tmp[--n];
    return k;
}

static void put_i64(out *o, int64_t v, char sep)
{
    char *d = room(o, 24);
    size_t k = format_i64(d, v);
    d[k] = sep;
    o->len += k + 1;
}

static void put_weight(out *o, float w)
{
    char *d = room(o, 40);
    size_t k;
    /* Whole weights (counts, star ratings) skip snprintf; the digits are the same. */
    if (w == truncf(w) && fabsf(w) < 16777216.0f && !signbit(w)) {
        k = format_i64(d, (int64_t)w);
    } else {
        ri_format_f64((double)w, d, 32); /* %.9g: every float reads back exactly */
        k = strlen(d);
    }
    d[k] = '\t';
    o->len += k + 1;
}

/* A string id must read back as the same field: no separators, not empty. */
static int check_string_ids(const recint_idmap *m, const char *what)
{
    uint32_t n = recint_idmap_size(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        int rc = recint_idmap_id_str(m, i, &s);
        if (rc != RECINT_OK)
            return rc;
        size_t bad = strcspn(s, "\t\r\n");
        if (s[bad] != '\0' || s[0] == '\0')
            return ri_error(RECINT_EINVAL,
                            "recint_dataset_save: %s id %u \"%.40s\" %s; it cannot be saved as text",
                            what, i, s, s[0] ? "holds a tab or line break" : "is empty");
    }
    return RECINT_OK;
}

static void put_id(out *o, const recint_idmap *m, const int64_t *ints, uint32_t index)
{
    if (ints) {
        put_i64(o, ints[index], '\t');
        return;
    }
    const char *s = "";
    int rc = recint_idmap_id_str(m, index, &s); /* ids were checked: cannot fail */
    if (rc != RECINT_OK && o->rc == RECINT_OK)
        o->rc = rc;
    put(o, s, strlen(s));
    *room(o, 1) = '\t';
    o->len++;
}

static void write_rows(out *o, const recint_dataset *ds, const uint64_t *indptr,
                       const uint32_t *items, const float *weights, const int64_t *times)
{
    const recint_idmap *um = recint_dataset_users(ds), *im = recint_dataset_items(ds);
    const int64_t *uints = ri_idmap_ints(um), *iints = ri_idmap_ints(im);
    uint32_t n_users = recint_dataset_n_users(ds);
    for (uint32_t u = 0; u < n_users && o->rc == RECINT_OK; u++) {
        for (uint64_t e = indptr[u]; e < indptr[u + 1]; e++) {
            put_id(o, um, uints, u);
            put_id(o, im, iints, items[e]);
            put_weight(o, weights[e]);
            put_i64(o, times[e], '\n');
        }
    }
    flush(o);
}

RECINT_API int recint_dataset_save(const recint_dataset *ds, const char *path)
{
    if (!ds || !path)
        return ri_error(RECINT_EINVAL, "recint_dataset_save: %s is NULL", !ds ? "dataset" : "path");
    const uint64_t *indptr;
    const uint32_t *items;
    const float *weights;
    const int64_t *times;
    int rc = recint_dataset_csr(ds, &indptr, &items, &weights, &times);
    if (rc != RECINT_OK)
        return rc;
    const recint_idmap *um = recint_dataset_users(ds), *im = recint_dataset_items(ds);
    if ((recint_idmap_kind(um) == RECINT_IDS_STRING && (rc = check_string_ids(um, "user")) != 0) ||
        (recint_idmap_kind(im) == RECINT_IDS_STRING && (rc = check_string_ids(im, "item")) != 0))
        return rc;

    size_t plen = strlen(path);
    char *tmp = ri_malloc_array(plen + 5, 1);
    out o = {-1, tmp, ri_malloc_array(OUT_BLOCK, 1), 0, RECINT_OK};
    if (!tmp || !o.buf) {
        free(tmp);
        free(o.buf);
        return RECINT_ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    o.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (o.fd < 0) {
        rc = io_fail("cannot create", tmp, errno);
    } else {
        write_rows(&o, ds, indptr, items, weights, times);
        rc = o.rc;
        /* Synced before the rename: a crash must not leave an empty file under path. */
        if (rc == RECINT_OK && fsync(o.fd) != 0)
            rc = io_fail("cannot sync", tmp, errno);
        if (close(o.fd) != 0 && rc == RECINT_OK)
            rc = io_fail("cannot close", tmp, errno);
        if (rc == RECINT_OK && rename(tmp, path) != 0)
            rc = io_fail("cannot rename the finished file to", path, errno);
        if (rc != RECINT_OK)
            unlink(tmp);
    }
    free(tmp);
    free(o.buf);
    return rc;
}
