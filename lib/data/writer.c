/* Dataset -> self-describing tab-separated text that recint_dataset_load reads
 * back to an equal dataset (docs/api-guide.md, "Text dataset files"):
 *
 *   # recint-dataset 1 ids=int users=3 items=2
 *   #u<TAB>17            one line per user, in index order
 *   #i<TAB>4             one line per item, in index order
 *   17<TAB>4<TAB>2.5<TAB>964982703
 *
 * The catalogue lines carry what rows cannot: ids without interactions and the
 * index order; the header carries the id kind ("42" may be a string id).
 * The text goes to a unique temporary file renamed over path once complete and
 * synced (fileio.h), so a failed save never leaves a partial file under path. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/fileio.h"
#include "data/idmap.h"
#include "util/numparse.h"

enum { OUT_BLOCK = 1 << 20 };

typedef struct {
    ri_atomic_file *f;
    char *buf;
    size_t len;
    int rc;       /* first failure; later writes are skipped */
} out;

static void flush(out *o)
{
    if (o->rc == RECINT_OK)
        o->rc = ri_atomic_write(o->f, o->buf, o->len);
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

/* Shortest of 6..9 significant digits that the loader (ri_parse_f64, then a
 * cast to float) turns back into exactly w; 9 digits always do. */
static size_t format_float(char *d, float w)
{
    char text[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)w);
        for (char *p = text; *p; p++)
            if (*p == ',') /* a host locale's decimal point */
                *p = '.';
        double back;
        if (ri_parse_f64(text, strlen(text), &back) == 0 && (float)back == w)
            break;
    }
    size_t k = strlen(text);
    memcpy(d, text, k);
    return k;
}

static void put_weight(out *o, float w)
{
    char *d = room(o, 40);
    size_t k;
    /* Whole weights (counts, star ratings) skip snprintf; the digits are the same. */
    if (w == truncf(w) && fabsf(w) < 16777216.0f && !signbit(w))
        k = format_i64(d, (int64_t)w);
    else
        k = format_float(d, w);
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

/* The id of index, then sep. */
static void put_id(out *o, const recint_idmap *m, const int64_t *ints, uint32_t index, char sep)
{
    if (ints) {
        put_i64(o, ints[index], sep);
        return;
    }
    const char *s = "";
    int rc = recint_idmap_id_str(m, index, &s); /* ids were checked: cannot fail */
    if (rc != RECINT_OK && o->rc == RECINT_OK)
        o->rc = rc;
    put(o, s, strlen(s));
    *room(o, 1) = sep;
    o->len++;
}

static const char *kind_name(int kind)
{
    return kind == RECINT_IDS_INT ? "int" : kind == RECINT_IDS_STRING ? "string" : "none";
}

static void write_header(out *o, const recint_dataset *ds, int kind)
{
    char line[128];
    int n = snprintf(line, sizeof line, "# recint-dataset 1 ids=%s users=%" PRIu32 " items=%" PRIu32 "\n",
                     kind_name(kind), recint_dataset_n_users(ds), recint_dataset_n_items(ds));
    put(o, line, (size_t)n);
}

static void write_catalogue(out *o, const recint_idmap *m, const char *tag)
{
    const int64_t *ints = ri_idmap_ints(m);
    uint32_t n = recint_idmap_size(m);
    for (uint32_t k = 0; k < n && o->rc == RECINT_OK; k++) {
        put(o, tag, 3);
        put_id(o, m, ints, k, '\n');
    }
}

static void write_rows(out *o, const recint_dataset *ds, const uint64_t *indptr,
                       const uint32_t *items, const float *weights, const int64_t *times)
{
    const recint_idmap *um = recint_dataset_users(ds), *im = recint_dataset_items(ds);
    const int64_t *uints = ri_idmap_ints(um), *iints = ri_idmap_ints(im);
    uint32_t n_users = recint_dataset_n_users(ds);
    for (uint32_t u = 0; u < n_users && o->rc == RECINT_OK; u++) {
        for (uint64_t e = indptr[u]; e < indptr[u + 1]; e++) {
            put_id(o, um, uints, u, '\t');
            put_id(o, im, iints, items[e], '\t');
            put_weight(o, weights[e]);
            put_i64(o, times[e], '\n');
        }
    }
}

/* One id kind for the header: an empty map has none and takes the other's. */
static int file_kind(const recint_dataset *ds, int *kind)
{
    int ku = recint_idmap_kind(recint_dataset_users(ds));
    int ki = recint_idmap_kind(recint_dataset_items(ds));
    if (ku != RECINT_IDS_NONE && ki != RECINT_IDS_NONE && ku != ki)
        return ri_error(RECINT_EINVAL,
                        "recint_dataset_save: user ids are %s but item ids are %s; a dataset file "
                        "holds one id kind", kind_name(ku), kind_name(ki));
    *kind = ku != RECINT_IDS_NONE ? ku : ki;
    return RECINT_OK;
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
    int kind = RECINT_IDS_NONE;
    if ((rc = file_kind(ds, &kind)) != RECINT_OK ||
        (recint_idmap_kind(um) == RECINT_IDS_STRING && (rc = check_string_ids(um, "user")) != 0) ||
        (recint_idmap_kind(im) == RECINT_IDS_STRING && (rc = check_string_ids(im, "item")) != 0))
        return rc;

    ri_atomic_file f;
    out o = {&f, ri_malloc_array(OUT_BLOCK, 1), 0, RECINT_OK};
    if (!o.buf)
        return RECINT_ENOMEM;
    rc = ri_atomic_open(&f, path);
    if (rc == RECINT_OK) {
        write_header(&o, ds, kind);
        write_catalogue(&o, um, "#u\t");
        write_catalogue(&o, im, "#i\t");
        write_rows(&o, ds, indptr, items, weights, times);
        flush(&o);
        if (o.rc != RECINT_OK) {
            ri_atomic_abort(&f);
            rc = o.rc;
        } else {
            rc = ri_atomic_commit(&f);
        }
    }
    free(o.buf);
    return rc ? ri_error_prefix(rc, "recint_dataset_save: ") : RECINT_OK;
}
