/* Feature matrices from files: sparse "row<TAB>feature[:weight] ..." text, and
 * dense .npy or raw little-endian float32 blocks.
 *
 * Rows are the external ids of a dataset's users or items (a recint_idmap), so
 * that row r of the result describes index r of that catalogue, as
 * recint_model_set_features expects. Text is read through the same line reader
 * and word splitter as the interaction loader; numbers through numparse.h. The
 * sparse entries gather in growable arrays and become the matrix in one
 * recint_features_new_sparse call, so a file that fails leaves nothing behind. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/data_private.h"
#include "util/error.h"
#include "data/features_internal.h"
#include "util/fileio.h"
#include "data/idmap.h"
#include "util/numparse.h"
#include "data/textscan.h"

enum { UNKNOWN_SKIP, UNKNOWN_ERROR };
static const char *const unknown_names[] = {[UNKNOWN_SKIP] = "skip", [UNKNOWN_ERROR] = "error"};
enum { SHOW = 40, FIRST_ENTRIES = 1 << 12, READ_CHUNK = 1 << 20 };

/* ------------------------------------------------------------ sparse text */

typedef struct {
    const char *name;          /* path or buffer name, for messages */
    const recint_idmap *rows;
    int unknown;               /* UNKNOWN_* */
    recint_idmap *features;    /* names -> columns, first-seen order */
    size_t n, cap;
    uint32_t *row, *col;       /* one entry per feature occurrence */
    float *weight;
    uint64_t skipped_lines, matched_lines;
} sparse_loader;

static int bad(const sparse_loader *S, uint64_t line, const char *what, ri_span f, const char *why,
               const char *detail)
{
    int show = f.n > SHOW ? SHOW : (int)f.n;
    return ri_error(RECINT_EFORMAT, "%s:%" PRIu64 ": %s '%.*s%s' %s%s", S->name, line, what, show,
                    f.p, f.n > SHOW ? "..." : "", why, detail ? detail : "");
}

static int grow_entries(sparse_loader *S)
{
    size_t cap = S->cap ? S->cap * 2 : FIRST_ENTRIES;
    if (cap < S->cap)
        return ri_error(RECINT_ENOMEM, "%s: too many feature entries", S->name);
    /* Each array is kept as soon as its realloc succeeds, so a later failure
     * leaves only valid blocks to free. */
    uint32_t *r = ri_realloc_array(S->row, cap, sizeof *r);
    if (!r)
        return RECINT_ENOMEM;
    S->row = r;
    uint32_t *c = ri_realloc_array(S->col, cap, sizeof *c);
    if (!c)
        return RECINT_ENOMEM;
    S->col = c;
    float *w = ri_realloc_array(S->weight, cap, sizeof *w);
    if (!w)
        return RECINT_ENOMEM;
    S->weight = w;
    S->cap = cap;
    return RECINT_OK;
}

/* Index of the row id f; *found 0 when the map does not hold it. */
static int row_index(sparse_loader *S, uint64_t line, ri_span f, uint32_t *index, int *found)
{
    if (f.n == 0)
        return bad(S, line, "row id", f, "is empty", NULL);
    if (recint_idmap_kind(S->rows) == RECINT_IDS_INT) {
        int64_t v;
        int rc = ri_parse_i64(f.p, f.n, &v);
        if (rc == -2)
            return bad(S, line, "row id", f, "is outside the int64 range", NULL);
        if (rc != 0)
            return bad(S, line, "row id", f, "is not an integer", " (the rows' id map holds integer ids)");
        *found = ri_idmap_find(S->rows, v, index);
    } else {
        if (memchr(f.p, '\0', f.n))
            return bad(S, line, "row id", f, "holds a NUL byte", NULL);
        *found = ri_idmap_find_str(S->rows, f.p, f.n, index);
    }
    return RECINT_OK;
}

/* "name" or "name:weight"; the weight follows the LAST colon, so a name may hold
 * colons when the weight is written out ("genre:Drama:1"). */
static int feature_entry(sparse_loader *S, uint64_t line, ri_span tok, uint32_t *col, float *weight)
{
    ri_span name = tok;
    float w = 1.0f;
    const char *colon = memrchr(tok.p, ':', tok.n);
    if (colon) {
        name.n = (size_t)(colon - tok.p);
        ri_span ws = {colon + 1, tok.n - name.n - 1};
        double v;
        if (ws.n == 0 || ri_parse_f64(ws.p, ws.n, &v) != 0)
            return bad(S, line, "feature", tok, "has a weight that is not a number",
                       " (write 'name:1' for a name holding ':')");
        if (!isfinite(v))
            return bad(S, line, "feature", tok, "has a weight that is not finite", NULL);
        w = (float)v;
        if (!isfinite(w))
            return bad(S, line, "feature", tok, "has a weight outside the float range", NULL);
    }
    if (name.n == 0)
        return bad(S, line, "feature", tok, "has an empty name", NULL);
    if (memchr(name.p, '\0', name.n))
        return bad(S, line, "feature", tok, "holds a NUL byte", NULL);
    int added;
    int rc = ri_idmap_intern_str(S->features, name.p, name.n, col, &added);
    if (rc != RECINT_OK)
        return ri_error_prefix(rc, "%s:%" PRIu64 ": ", S->name, line);
    *weight = w;
    return RECINT_OK;
}

static int sparse_line(void *ctx, const char *s, size_t n, uint64_t line)
{
    sparse_loader *S = ctx;
    const char *end = s + n, *cur = s;
    ri_span first;
    if (!ri_span_next_word(&cur, end, &first) || first.p[0] == '#')
        return RECINT_OK; /* blank or comment */
    /* With a tab the row id is everything before it (ids may hold spaces);
     * otherwise the first word. */
    const char *tab = memchr(s, '\t', n);
    ri_span id = first;
    if (tab) {
        id = ri_span_trim((ri_span){s, (size_t)(tab - s)});
        cur = tab + 1;
    }
    uint32_t r = 0;
    int found = 0;
    int rc = row_index(S, line, id, &r, &found);
    if (rc != RECINT_OK)
        return rc;
    if (!found) {
        if (S->unknown == UNKNOWN_ERROR)
            return ri_error(RECINT_ENOTFOUND,
                            "%s:%" PRIu64 ": row id '%.*s%s' is not in the id map "
                            "(feature_unknown_ids=error)",
                            S->name, line, (int)(id.n > SHOW ? SHOW : id.n), id.p,
                            id.n > SHOW ? "..." : "");
        S->skipped_lines++;
        return RECINT_OK;
    }
    S->matched_lines++;
    ri_span tok;
    while (ri_span_next_word(&cur, end, &tok)) {
        if (S->n == S->cap && (rc = grow_entries(S)) != RECINT_OK)
            return rc;
        if ((rc = feature_entry(S, line, tok, &S->col[S->n], &S->weight[S->n])) != RECINT_OK)
            return rc;
        S->row[S->n++] = r;
    }
    return RECINT_OK;
}

/* Entries (in file order) -> CSR by row; recint_features_new_sparse sorts each
 * row and sums repeated features. */
static int sparse_build(sparse_loader *S, recint_features **out)
{
    uint32_t rows = recint_idmap_size(S->rows), cols = recint_idmap_size(S->features);
    if (cols == 0)
        return ri_error(RECINT_EFORMAT,
                        "%s: no features for any row of the id map (%" PRIu64 " lines matched a row, %"
                        PRIu64 " named ids the map does not hold)",
                        S->name, S->matched_lines, S->skipped_lines);
    uint64_t *indptr = RI_NEW_ZEROED(uint64_t, (size_t)rows + 1);
    uint32_t *indices = RI_NEW_ARRAY(uint32_t, S->n ? S->n : 1);
    float *weights = RI_NEW_ARRAY(float, S->n ? S->n : 1);
    int rc = RECINT_ENOMEM;
    if (indptr && indices && weights) {
        for (size_t k = 0; k < S->n; k++)
            indptr[S->row[k] + 1]++;
        for (uint32_t r = 0; r < rows; r++)
            indptr[r + 1] += indptr[r];
        /* indptr[r] serves as the fill cursor of row r, then is restored. */
        for (size_t k = 0; k < S->n; k++) {
            uint64_t at = indptr[S->row[k]]++;
            indices[at] = S->col[k];
            weights[at] = S->weight[k];
        }
        for (uint32_t r = rows; r > 0; r--)
            indptr[r] = indptr[r - 1];
        indptr[0] = 0;
        rc = recint_features_new_sparse(out, rows, cols, indptr, indices, weights);
        if (rc != RECINT_OK)
            ri_error_prefix(rc, "%s: ", S->name);
    }
    free(indptr);
    free(indices);
    free(weights);
    return rc;
}

static int check_rows_map(const char *call, const recint_idmap *rows)
{
    if (!rows)
        return ri_error(RECINT_EINVAL, "%s: the rows' id map is NULL", call);
    if (recint_idmap_size(rows) == 0)
        return ri_error(RECINT_EINVAL, "%s: the rows' id map is empty", call);
    return RECINT_OK;
}

static int load_sparse(recint_features **out, recint_idmap **feature_names, const char *path,
                       const char *text, size_t len, const char *name, const recint_idmap *rows,
                       const recint_config *cfg)
{
    const char *call = path ? "recint_features_load_sparse" : "recint_features_load_sparse_buffer";
    if (!out || (path == NULL && text == NULL && len))
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", call, !out ? "out" : "text");
    int rc = check_rows_map(call, rows);
    if (rc != RECINT_OK)
        return rc;
    sparse_loader S;
    memset(&S, 0, sizeof S);
    S.name = path ? path : name ? name : "<buffer>";
    S.rows = rows;
    S.unknown = RI_CFG_PICK(cfg, RI_P_FEATURE_UNKNOWN_IDS, unknown_names);
    if ((rc = ri_idmap_new(&S.features)) != RECINT_OK)
        return rc;
    rc = path ? ri_read_lines(path, sparse_line, &S) : ri_read_lines_buffer(text, len, sparse_line, &S);
    recint_features *f = NULL;
    if (rc == RECINT_OK)
        rc = sparse_build(&S, &f);
    free(S.row);
    free(S.col);
    free(S.weight);
    if (rc != RECINT_OK) {
        ri_idmap_free(S.features);
        return rc;
    }
    *out = f;
    if (feature_names)
        *feature_names = S.features;
    else
        ri_idmap_free(S.features);
    return RECINT_OK;
}

RECINT_API int recint_features_load_sparse(recint_features **out, recint_idmap **feature_names,
                                           const char *path, const recint_idmap *rows,
                                           const recint_config *cfg)
{
    if (!path)
        return ri_error(RECINT_EINVAL, "recint_features_load_sparse: path is NULL");
    return load_sparse(out, feature_names, path, NULL, 0, NULL, rows, cfg);
}

RECINT_API int recint_features_load_sparse_buffer(recint_features **out,
                                                  recint_idmap **feature_names, const char *text,
                                                  size_t len, const char *name,
                                                  const recint_idmap *rows, const recint_config *cfg)
{
    return load_sparse(out, feature_names, NULL, text, len, name, rows, cfg);
}

RECINT_API void recint_idmap_free(recint_idmap *map) { ri_idmap_free(map); }

/* ------------------------------------------------------------ dense blocks */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* rows x cols little-endian floats of elem bytes (4 or 8) read from fd in chunks
 * straight into the matrix's own buffer (a large embedding file is held once in
 * memory, not twice). Every value must be finite as float. */
static int read_dense(recint_features **out, int fd, const char *name, uint32_t rows, uint32_t cols,
                      int elem)
{
    size_t n = (size_t)rows * cols; /* the caller checked rows * cols * elem fits */
    float *v = RI_NEW_ARRAY(float, n);
    unsigned char *chunk = ri_malloc_array(READ_CHUNK, 1);
    if (!v || !chunk) {
        free(v);
        free(chunk);
        return ri_error(RECINT_ENOMEM, "%s: cannot allocate %u x %u floats", name, rows, cols);
    }
    int rc = RECINT_OK;
    for (size_t done = 0; done < n && rc == RECINT_OK;) {
        size_t m = n - done < READ_CHUNK / (size_t)elem ? n - done : READ_CHUNK / (size_t)elem;
        if ((rc = ri_read_exact(fd, chunk, m * (size_t)elem, name)) != RECINT_OK)
            break;
        for (size_t i = 0; i < m; i++) {
            float x;
            if (elem == 4) {
                uint32_t u = le32(chunk + 4 * i);
                memcpy(&x, &u, sizeof x);
            } else {
                uint64_t u = le64(chunk + 8 * i);
                double d;
                memcpy(&d, &u, sizeof d);
                x = (float)d;
            }
            if (!isfinite(x)) {
                rc = ri_error(RECINT_EFORMAT, "%s: value at row %zu column %zu is not finite%s", name,
                              (done + i) / cols, (done + i) % cols, elem == 8 ? " as a float" : "");
                break;
            }
            v[done + i] = x;
        }
        done += m;
    }
    free(chunk);
    if (rc == RECINT_OK)
        rc = ri_features_adopt_dense(out, rows, cols, v);
    if (rc != RECINT_OK)
        free(v);
    return rc;
}

/* rows x cols x elem bytes must fit in memory sizes. */
static int dense_size(const char *name, uint64_t rows, uint64_t cols, int elem, size_t *bytes)
{
    size_t n;
    if (ri_mul_overflow((size_t)rows, (size_t)cols, &n) || ri_mul_overflow(n, (size_t)elem, bytes))
        return ri_error(RECINT_EFORMAT, "%s: shape %" PRIu64 " x %" PRIu64 " overflows memory sizes",
                        name, rows, cols);
    return RECINT_OK;
}

static int check_rows_count(const char *name, uint32_t got, const recint_idmap *rows)
{
    if (rows && got != recint_idmap_size(rows))
        return ri_error(RECINT_EINVAL,
                        "%s: %u rows, but the id map holds %u ids (row r of the file describes "
                        "index r of the map)",
                        name, got, recint_idmap_size(rows));
    return RECINT_OK;
}

/* --- .npy header: a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n'. */

typedef struct {
    const char *p, *end;
    const char *name;
} npy_cursor;

static void npy_blanks(npy_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int npy_bad(const npy_cursor *c, const char *what)
{
    return ri_error(RECINT_EFORMAT, "%s: damaged .npy header: %s", c->name, what);
}

static int npy_expect(npy_cursor *c, char ch)
{
    npy_blanks(c);
    if (c->p == c->end || *c->p != ch) {
        char msg[48];
        snprintf(msg, sizeof msg, "expected '%c'", ch);
        return npy_bad(c, msg);
    }
    c->p++;
    return RECINT_OK;
}

/* A quoted Python string (no escapes: keys and dtypes never hold any). */
static int npy_string(npy_cursor *c, ri_span *out)
{
    npy_blanks(c);
    if (c->p == c->end || (*c->p != '\'' && *c->p != '"'))
        return npy_bad(c, "expected a quoted string");
    char q = *c->p++;
    const char *b = c->p;
    while (c->p < c->end && *c->p != q && *c->p != '\\')
        c->p++;
    if (c->p == c->end || *c->p != q)
        return npy_bad(c, "unterminated or escaped string");
    *out = (ri_span){b, (size_t)(c->p - b)};
    c->p++;
    return RECINT_OK;
}

static int npy_word(npy_cursor *c, const char *w)
{
    npy_blanks(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

/* "(a, b)" or "(a,)" or "()"; up to 3 dimensions are recorded, more counted. */
static int npy_shape(npy_cursor *c, uint64_t dims[3], int *ndim)
{
    int rc = npy_expect(c, '(');
    if (rc != RECINT_OK)
        return rc;
    *ndim = 0;
    for (;;) {
        npy_blanks(c);
        if (c->p < c->end && *c->p == ')') {
            c->p++;
            return RECINT_OK;
        }
        const char *b = c->p;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        int64_t v;
        if (c->p == b || ri_parse_i64(b, (size_t)(c->p - b), &v) != 0)
            return npy_bad(c, "shape holds something other than non-negative integers");
        if (*ndim < 3)
            dims[*ndim] = (uint64_t)v;
        (*ndim)++;
        npy_blanks(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p == c->end || *c->p != ')')
            return npy_bad(c, "shape is not a tuple of integers");
    }
}

typedef struct {
    int elem;       /* 4 or 8 */
    uint64_t dims[3];
    int ndim;
} npy_header;

static int npy_dict(npy_cursor *c, npy_header *h)
{
    int rc, seen_descr = 0, seen_order = 0, seen_shape = 0;
    if ((rc = npy_expect(c, '{')) != RECINT_OK)
        return rc;
    for (;;) {
        npy_blanks(c);
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            break;
        }
        ri_span key;
        if ((rc = npy_string(c, &key)) != RECINT_OK || (rc = npy_expect(c, ':')) != RECINT_OK)
            return rc;
        if (ri_span_is(key, "descr")) {
            ri_span d;
            if (seen_descr++ || (rc = npy_string(c, &d)) != RECINT_OK)
                return seen_descr > 1 ? npy_bad(c, "'descr' given twice") : rc;
            if (ri_span_is(d, "<f4"))
                h->elem = 4;
            else if (ri_span_is(d, "<f8"))
                h->elem = 8;
            else
                return ri_error(RECINT_EUNSUPPORTED,
                                "%s: .npy dtype '%.*s' is not supported (little-endian float32 '<f4' "
                                "or float64 '<f8')", c->name, (int)(d.n > SHOW ? SHOW : d.n), d.p);
        } else if (ri_span_is(key, "fortran_order")) {
            if (seen_order++)
                return npy_bad(c, "'fortran_order' given twice");
            if (npy_word(c, "True"))
                return ri_error(RECINT_EUNSUPPORTED,
                                "%s: .npy in Fortran order is not supported (save "
                                "numpy.ascontiguousarray(a))", c->name);
            if (!npy_word(c, "False"))
                return npy_bad(c, "'fortran_order' is neither True nor False");
        } else if (ri_span_is(key, "shape")) {
            if (seen_shape++)
                return npy_bad(c, "'shape' given twice");
            if ((rc = npy_shape(c, h->dims, &h->ndim)) != RECINT_OK)
                return rc;
        } else {
            return npy_bad(c, "unknown key (expected descr, fortran_order and shape)");
        }
        npy_blanks(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p == c->end || *c->p != '}')
            return npy_bad(c, "expected ',' or '}' after a value");
    }
    if (!seen_descr || !seen_order || !seen_shape)
        return npy_bad(c, !seen_descr ? "no 'descr'" : !seen_order ? "no 'fortran_order'" : "no 'shape'");
    /* Padding: spaces, then the final newline. */
    npy_blanks(c);
    if (c->end - c->p != 1 || *c->p != '\n')
        return npy_bad(c, "the dictionary is not followed by padding and a newline");
    return RECINT_OK;
}

#define NPY_MAGIC "\x93NUMPY"
enum { NPY_MAGIC_LEN = 6 };

/* The fixed part of a .npy file: magic, version, header length. */
static int npy_preamble(int fd, const char *name, uint64_t size, uint64_t *header_len,
                        size_t *len_bytes)
{
    unsigned char pre[12];
    if (size < NPY_MAGIC_LEN + 2)
        return ri_error(RECINT_EFORMAT, "%s: not a .npy file (%llu bytes)", name,
                        (unsigned long long)size);
    int rc = ri_read_exact(fd, pre, 8, name);
    if (rc != RECINT_OK)
        return rc;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return ri_error(RECINT_EFORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
    unsigned major = pre[6], minor = pre[7];
    if (major != 1 && major != 2)
        return ri_error(RECINT_EUNSUPPORTED, "%s: .npy format version %u.%u is not supported (1.0, 2.0)",
                        name, major, minor);
    if (minor != 0)
        return ri_error(RECINT_EFORMAT, "%s: .npy format version %u.%u is unknown", name, major, minor);
    *len_bytes = major == 1 ? 2 : 4;
    if (size < 8 + *len_bytes)
        return ri_error(RECINT_EFORMAT, "%s: truncated .npy header", name);
    if ((rc = ri_read_exact(fd, pre + 8, *len_bytes, name)) != RECINT_OK)
        return rc;
    *header_len = major == 1 ? (uint64_t)(pre[8] | pre[9] << 8) : le32(pre + 8);
    if (8 + *len_bytes + *header_len > size)
        return ri_error(RECINT_EFORMAT, "%s: .npy header of %llu bytes runs past the end of the "
                        "%llu-byte file", name, (unsigned long long)*header_len,
                        (unsigned long long)size);
    return RECINT_OK;
}

static int load_npy_fd(recint_features **out, int fd, const char *name, uint64_t size,
                       const recint_idmap *rows)
{
    uint64_t hlen = 0;
    size_t len_bytes = 0;
    int rc = npy_preamble(fd, name, size, &hlen, &len_bytes);
    if (rc != RECINT_OK)
        return rc;
    char *text = ri_malloc_array((size_t)hlen + 1, 1); /* hlen < 2^32 and within the file */
    if (!text)
        return ri_error(RECINT_ENOMEM, "%s: cannot allocate the %llu-byte .npy header", name,
                        (unsigned long long)hlen);
    npy_header h = {0, {0, 0, 0}, 0};
    rc = ri_read_exact(fd, text, (size_t)hlen, name);
    if (rc == RECINT_OK) {
        npy_cursor c = {text, text + hlen, name};
        rc = npy_dict(&c, &h);
    }
    free(text);
    if (rc != RECINT_OK)
        return rc;
    if (h.ndim != 2)
        return ri_error(RECINT_EUNSUPPORTED, "%s: .npy array has %d dimensions; a feature matrix needs 2",
                        name, h.ndim);
    if (h.dims[0] == 0 || h.dims[1] == 0 || h.dims[0] > UINT32_MAX || h.dims[1] > UINT32_MAX)
        return ri_error(RECINT_EFORMAT, "%s: .npy shape (%" PRIu64 ", %" PRIu64 ") is outside [1, %u] x "
                        "[1, %u]", name, h.dims[0], h.dims[1], UINT32_MAX, UINT32_MAX);
    size_t bytes;
    if ((rc = dense_size(name, h.dims[0], h.dims[1], h.elem, &bytes)) != RECINT_OK)
        return rc;
    uint64_t data_len = size - (8 + len_bytes + hlen);
    if (data_len != bytes)
        return ri_error(RECINT_EFORMAT, "%s: .npy shape (%" PRIu64 ", %" PRIu64 ") needs %zu bytes of "
                        "data, the file holds %" PRIu64 "%s", name, h.dims[0], h.dims[1], bytes,
                        data_len, data_len < bytes ? " (truncated)" : "");
    if ((rc = check_rows_count(name, (uint32_t)h.dims[0], rows)) != RECINT_OK)
        return rc;
    return read_dense(out, fd, name, (uint32_t)h.dims[0], (uint32_t)h.dims[1], h.elem);
}

RECINT_API int recint_features_load_npy(recint_features **out, const char *path,
                                        const recint_idmap *rows)
{
    if (!out || !path)
        return ri_error(RECINT_EINVAL, "recint_features_load_npy: %s is NULL", !out ? "out" : "path");
    int fd;
    uint64_t size;
    int rc = ri_open_regular(path, &fd, &size);
    if (rc != RECINT_OK)
        return rc;
    rc = load_npy_fd(out, fd, path, size, rows);
    close(fd);
    return rc;
}

RECINT_API int recint_features_load_raw(recint_features **out, const char *path, uint32_t cols,
                                        const recint_idmap *rows)
{
    if (!out || !path)
        return ri_error(RECINT_EINVAL, "recint_features_load_raw: %s is NULL", !out ? "out" : "path");
    if (cols == 0)
        return ri_error(RECINT_EINVAL, "recint_features_load_raw: cols must be >= 1");
    int fd;
    uint64_t size;
    int rc = ri_open_regular(path, &fd, &size);
    if (rc != RECINT_OK)
        return rc;
    uint64_t row_bytes = (uint64_t)cols * 4;
    if (size == 0 || size % row_bytes != 0)
        rc = ri_error(RECINT_EFORMAT, "%s: %" PRIu64 " bytes are not a whole number of rows of %u "
                      "float32 (%" PRIu64 " bytes each)%s", path, size, cols, row_bytes,
                      size == 0 ? " (empty file)" : "");
    else if (size / row_bytes > UINT32_MAX)
        rc = ri_error(RECINT_EFORMAT, "%s: more than %u rows", path, UINT32_MAX);
    uint32_t n_rows = rc == RECINT_OK ? (uint32_t)(size / row_bytes) : 0;
    size_t bytes;
    if (rc == RECINT_OK)
        rc = dense_size(path, n_rows, cols, 4, &bytes);
    if (rc == RECINT_OK)
        rc = check_rows_count(path, n_rows, rows);
    if (rc == RECINT_OK)
        rc = read_dense(out, fd, path, n_rows, cols, 4);
    close(fd);
    return rc;
}
