/* Delimited text -> dataset.
 *
 * The file is read in large blocks and split by hand (no stdio scanning, no
 * strtod: numbers go through numparse.h so a host's LC_NUMERIC cannot change
 * them). Rows accumulate in growable column arrays and reach the dataset in ONE
 * recint_dataset_add(_str) call at the end, which sorts, merges and is atomic: a
 * file that fails to parse leaves the dataset unchanged.
 *
 * A file whose first line is "# recint-dataset 1 ids=K users=U items=I" (what
 * recint_dataset_save writes) describes itself: tab-separated
 * user,item,weight,timestamp rows, id kind K, and first the catalogue, U lines
 * "#u<TAB>id" then I lines "#i<TAB>id" in index order. Those ids are interned
 * in that order before the rows, so an empty dataset reloads equal to the saved
 * one. The delimiter, columns, header and ids settings do not apply to it. Only
 * the catalogue lines, counted by the header, start with '#'; after them a
 * '#' is an id's first character like any other. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/dataset_internal.h"
#include "util/error.h"
#include "util/fileio.h"
#include "data/idmap.h"
#include "util/numparse.h"
#include "data/textscan.h"

/* The choices of delimiter, header and ids, by name (test_loader loads a file
 * in every listed choice). */
enum { D_AUTO, D_TAB, D_COMMA, D_ML, D_SPACE };
enum { H_AUTO, H_YES, H_NO };
enum { IDS_AUTO, IDS_INT, IDS_STRING };
static const char *const delim_names[] = {[D_AUTO] = "auto", [D_TAB] = "tab", [D_COMMA] = "comma",
                                          [D_ML] = "ml", [D_SPACE] = "space"};
static const char *const header_names[] = {[H_AUTO] = "auto", [H_YES] = "yes", [H_NO] = "no"};
static const char *const ids_names[] = {[IDS_AUTO] = "auto", [IDS_INT] = "int",
                                        [IDS_STRING] = "string"};
enum { C_USER, C_ITEM, C_WEIGHT, C_TIME, C_KINDS };
enum {
    MAX_COLUMNS = 64,
    SHOW = 40,                 /* characters of a bad field quoted in a message */
    FIRST_ROWS = 1 << 12,
};

typedef struct {
    const char *name;          /* path or buffer name, for messages */
    const char *columns_spec;
    int delim, header;
    int ids;                   /* RECINT_IDS_INT / _STRING, or RECINT_IDS_NONE while undecided */
    const char *ids_reason;    /* why ids are integers, quoted when a later id is not */
    char ids_reason_buf[64];
    int col[C_KINDS];          /* field index of each role, -1 when absent */
    int nfields;               /* fields a data line needs (last used column + 1) */

    /* A "# recint-dataset" file: the catalogue the header promises, read into
     * maps of their own so that a repeated id and a row id not listed are
     * found at their line. */
    int self_described;
    uint32_t cat_users, cat_items; /* lines promised */
    uint64_t cat_seen;             /* catalogue lines read */
    recint_idmap *cat_u, *cat_i;
    int64_t last_user, last_user_index; /* rows come grouped by user: skip repeats */
    int have_last_user;

    uint64_t line;             /* 1-based number of the line being handled */
    int started;               /* first non-empty line seen */
    char *pending;             /* first line kept until the next one says if it is a header */
    size_t pending_len;
    uint64_t pending_line;

    size_t n, cap;
    int64_t *users, *items;    /* int ids, or arena offsets for string ids */
    float *weights;            /* NULL without a weight column */
    int64_t *times;            /* NULL without a timestamp column */
    char *arena;
    size_t arena_len, arena_cap;
} loader;

/* --------------------------------------------------------------- fields */

/* Split s into at most `want` fields; returns how many were found. Fields past
 * `want` are never looked at, so extra trailing columns are ignored. */
static int split(int delim, const char *s, size_t n, ri_span *f, int want)
{
    const char *end = s + n;
    int k = 0;
    if (delim == D_SPACE) {
        while (k < want && ri_span_next_word(&s, end, &f[k]))
            k++;
        return k;
    }
    while (k < want) {
        const char *q;
        size_t skip = 1;
        if (delim == D_ML) {
            q = memmem(s, (size_t)(end - s), "::", 2);
            skip = 2;
        } else {
            q = memchr(s, delim == D_TAB ? '\t' : ',', (size_t)(end - s));
        }
        f[k++] = (ri_span){s, (size_t)((q ? q : end) - s)};
        if (!q)
            break;
        s = q + skip;
    }
    return k;
}

/* Role field of a split line. String ids in tab files are kept exactly (so that
 * saved ids with blanks read back unchanged); everything else is trimmed. */
static ri_span field(const loader *L, const ri_span *f, int role)
{
    ri_span v = f[L->col[role]];
    if (L->delim == D_TAB && (role == C_USER || role == C_ITEM) && L->ids == RECINT_IDS_STRING)
        return v;
    return ri_span_trim(v);
}

static int is_int(ri_span f)
{
    int64_t v;
    return ri_parse_i64(f.p, f.n, &v) == 0;
}

/* Timestamps are integers; "964982703.0" (a float column written by a data
 * frame) is accepted as long as the fraction is all zeros. */
static int parse_time(ri_span f, int64_t *out)
{
    int rc = ri_parse_i64(f.p, f.n, out);
    if (rc != -1)
        return rc;
    const char *dot = memchr(f.p, '.', f.n);
    if (!dot || dot == f.p)
        return -1;
    for (const char *c = dot + 1; c < f.p + f.n; c++)
        if (*c != '0')
            return -1;
    return ri_parse_i64(f.p, (size_t)(dot - f.p), out);
}

static int is_number(ri_span f)
{
    double v;
    return ri_parse_f64(f.p, f.n, &v) == 0;
}

/* ------------------------------------------------------------- messages */

static int bad_field(const loader *L, uint64_t line, const char *what, ri_span f, const char *why,
                     const char *detail)
{
    int show = f.n > SHOW ? SHOW : (int)f.n;
    return ri_error(RECINT_EFORMAT, "%s:%" PRIu64 ": %s '%.*s%s' %s%s", L->name, line, what, show,
                    f.p, f.n > SHOW ? "..." : "", why, detail ? detail : "");
}

/* -------------------------------------------------------------- columns */

static int column_role(ri_span t)
{
    static const char *const names[C_KINDS] = {"user", "item", "weight", "timestamp"};
    for (int r = 0; r < C_KINDS; r++)
        if (ri_span_is(t, names[r]))
            return r;
    return ri_span_is(t, "skip") ? C_KINDS : -1;
}

static int parse_columns(loader *L, const char *spec)
{
    for (int r = 0; r < C_KINDS; r++)
        L->col[r] = -1;
    int count = 0;
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        ri_span t = ri_span_trim((ri_span){p, comma ? (size_t)(comma - p) : strlen(p)});
        int role = column_role(t);
        if (role < 0)
            return ri_error(RECINT_EINVAL,
                            "columns '%s': unknown column name '%.*s' (expected user, item, weight, "
                            "timestamp or skip)",
                            spec, (int)(t.n > SHOW ? SHOW : t.n), t.p);
        if (count == MAX_COLUMNS)
            return ri_error(RECINT_EINVAL, "columns '%.60s...': more than %d columns", spec,
                            MAX_COLUMNS);
        if (role < C_KINDS) {
            if (L->col[role] >= 0)
                return ri_error(RECINT_EINVAL, "columns '%s': '%.*s' appears twice", spec, (int)t.n,
                                t.p);
            L->col[role] = count;
        }
        count++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (L->col[C_USER] < 0 || L->col[C_ITEM] < 0)
        return ri_error(RECINT_EINVAL, "columns '%s': needs both a user and an item column", spec);
    L->nfields = 0;
    for (int r = 0; r < C_KINDS; r++)
        if (L->col[r] + 1 > L->nfields)
            L->nfields = L->col[r] + 1;
    return RECINT_OK;
}

static int loader_init(loader *L, const recint_dataset *ds, const char *name,
                       const recint_config *cfg)
{
    memset(L, 0, sizeof *L);
    L->name = name;
    L->columns_spec = ri_cfg_str(cfg, RI_P_COLUMNS);
    L->delim = RI_CFG_PICK(cfg, RI_P_DELIMITER, delim_names);
    L->header = RI_CFG_PICK(cfg, RI_P_HEADER, header_names);
    int ids = RI_CFG_PICK(cfg, RI_P_IDS, ids_names);
    if (L->delim < 0 || L->header < 0 || ids < 0)
        return ri_error(RECINT_EINVAL, "%s: delimiter '%s', header '%s' or ids '%s' is not a known choice",
                        name, ri_cfg_str(cfg, RI_P_DELIMITER), ri_cfg_str(cfg, RI_P_HEADER),
                        ri_cfg_str(cfg, RI_P_IDS));
    if (ids == IDS_INT) {
        L->ids = RECINT_IDS_INT;
        L->ids_reason = "ids=int";
    } else if (ids == IDS_STRING) {
        L->ids = RECINT_IDS_STRING;
    } else {
        /* Appending to a dataset: its id kind decides. */
        L->ids = recint_idmap_kind(recint_dataset_users(ds));
        L->ids_reason = "the dataset already holds integer ids";
    }
    return parse_columns(L, L->columns_spec);
}

static void loader_free(loader *L)
{
    ri_idmap_free(L->cat_u);
    ri_idmap_free(L->cat_i);
    free(L->pending);
    free(L->users);
    free(L->items);
    free(L->weights);
    free(L->times);
    free(L->arena);
}

/* ---------------------------------------------------------------- rows */

static int grow_rows(loader *L)
{
    size_t cap = L->cap ? L->cap * 2 : FIRST_ROWS;
    if (cap < L->cap)
        return ri_error(RECINT_ENOMEM, "%s: too many rows", L->name);
    /* Each array is replaced as soon as its realloc succeeds, so a later failure
     * leaves only valid (larger) blocks behind; cap grows only when all did. */
    int64_t *u = ri_realloc_array(L->users, cap, sizeof *u);
    if (!u)
        return RECINT_ENOMEM;
    L->users = u;
    int64_t *it = ri_realloc_array(L->items, cap, sizeof *it);
    if (!it)
        return RECINT_ENOMEM;
    L->items = it;
    if (L->col[C_WEIGHT] >= 0) {
        float *w = ri_realloc_array(L->weights, cap, sizeof *w);
        if (!w)
            return RECINT_ENOMEM;
        L->weights = w;
    }
    if (L->col[C_TIME] >= 0) {
        int64_t *t = ri_realloc_array(L->times, cap, sizeof *t);
        if (!t)
            return RECINT_ENOMEM;
        L->times = t;
    }
    L->cap = cap;
    return RECINT_OK;
}

/* Copy a string id into the arena; *offset receives where it starts. */
static int intern_text(loader *L, uint64_t line, const char *what, ri_span f, int64_t *offset)
{
    if (f.n == 0)
        return bad_field(L, line, what, f, "is empty", NULL);
    if (memchr(f.p, '\0', f.n))
        return bad_field(L, line, what, f, "holds a NUL byte", NULL);
    if (L->arena_cap - L->arena_len < f.n + 1) {
        size_t cap = L->arena_cap ? L->arena_cap : (1 << 20);
        while (cap - L->arena_len < f.n + 1) {
            if (cap > SIZE_MAX / 2)
                return ri_error(RECINT_ENOMEM, "%s: string ids too large", L->name);
            cap *= 2;
        }
        char *a = ri_realloc_array(L->arena, cap, 1);
        if (!a)
            return RECINT_ENOMEM;
        L->arena = a;
        L->arena_cap = cap;
    }
    memcpy(L->arena + L->arena_len, f.p, f.n);
    L->arena[L->arena_len + f.n] = '\0';
    *offset = (int64_t)L->arena_len;
    L->arena_len += f.n + 1;
    return RECINT_OK;
}

static int int_id(const loader *L, uint64_t line, const char *what, ri_span f, int64_t *out)
{
    int rc = ri_parse_i64(f.p, f.n, out);
    if (rc == -2)
        return bad_field(L, line, what, f, "is outside the int64 range", NULL);
    if (rc != 0) {
        char detail[160];
        snprintf(detail, sizeof detail, " (%s; use ids=string for text ids)", L->ids_reason);
        return bad_field(L, line, what, f, "is not an integer", detail);
    }
    return RECINT_OK;
}

/* Rows of a self-described file are kept as indices into its catalogue (*out),
 * found here once per id; an id the catalogue does not list means the file was
 * damaged or edited by hand. */
static int catalogue_index(loader *L, uint64_t line, const recint_idmap *cat, const char *what,
                           ri_span f, int64_t *out)
{
    uint32_t idx;
    int rc;
    if (L->ids == RECINT_IDS_INT) {
        int64_t v;
        if ((rc = int_id(L, line, what, f, &v)) != RECINT_OK)
            return rc;
        rc = recint_idmap_index(cat, v, &idx);
    } else {
        int64_t off = 0;
        if ((rc = intern_text(L, line, what, f, &off)) != RECINT_OK)
            return rc;
        rc = recint_idmap_index_str(cat, L->arena + off, &idx);
        L->arena_len = (size_t)off; /* the copy only served the lookup */
    }
    if (rc != RECINT_OK)
        return bad_field(L, line, what, f, "is not in the file's catalogue", NULL);
    *out = idx;
    return RECINT_OK;
}

/* Catalogue indices of a row's ids. A saved file lists each user's rows
 * together, so an integer user id equal to the last one reuses its index. */
static int self_described_ids(loader *L, uint64_t line, ri_span u, ri_span it, size_t r)
{
    int rc;
    if (L->ids == RECINT_IDS_INT) {
        int64_t v;
        if ((rc = int_id(L, line, "user id", u, &v)) != RECINT_OK)
            return rc;
        if (!L->have_last_user || v != L->last_user) {
            uint32_t idx;
            if (recint_idmap_index(L->cat_u, v, &idx) != RECINT_OK)
                return bad_field(L, line, "user id", u, "is not in the file's catalogue", NULL);
            L->last_user = v;
            L->last_user_index = idx;
            L->have_last_user = 1;
        }
        L->users[r] = L->last_user_index;
    } else if ((rc = catalogue_index(L, line, L->cat_u, "user id", u, &L->users[r])) != RECINT_OK) {
        return rc;
    }
    return catalogue_index(L, line, L->cat_i, "item id", it, &L->items[r]);
}

static int data_line(loader *L, const char *s, size_t n, uint64_t line)
{
    ri_span f[MAX_COLUMNS];
    int k = split(L->delim, s, n, f, L->nfields);
    if (k < L->nfields)
        return ri_error(RECINT_EFORMAT, "%s:%" PRIu64 ": too few fields: columns=%s needs %d, found %d",
                        L->name, line, L->columns_spec, L->nfields, k);
    if (L->ids == RECINT_IDS_NONE) {
        int ints = is_int(ri_span_trim(f[L->col[C_USER]])) && is_int(ri_span_trim(f[L->col[C_ITEM]]));
        L->ids = ints ? RECINT_IDS_INT : RECINT_IDS_STRING;
        snprintf(L->ids_reason_buf, sizeof L->ids_reason_buf,
                 "ids were detected as integers from line %" PRIu64, line);
        L->ids_reason = L->ids_reason_buf;
    }
    if (L->n == L->cap) {
        int rc = grow_rows(L);
        if (rc != RECINT_OK)
            return rc;
    }
    size_t r = L->n;
    ri_span u = field(L, f, C_USER), it = field(L, f, C_ITEM);
    int rc;
    if (L->self_described) {
        if ((rc = self_described_ids(L, line, u, it, r)) != RECINT_OK)
            return rc;
    } else if (L->ids == RECINT_IDS_INT) {
        if ((rc = int_id(L, line, "user id", u, &L->users[r])) != RECINT_OK ||
            (rc = int_id(L, line, "item id", it, &L->items[r])) != RECINT_OK)
            return rc;
    } else {
        if ((rc = intern_text(L, line, "user id", u, &L->users[r])) != RECINT_OK ||
            (rc = intern_text(L, line, "item id", it, &L->items[r])) != RECINT_OK)
            return rc;
    }
    if (L->col[C_WEIGHT] >= 0) {
        ri_span w = field(L, f, C_WEIGHT);
        double v;
        if (ri_parse_f64(w.p, w.n, &v) != 0)
            return bad_field(L, line, "weight", w, "is not a number", NULL);
        if (!isfinite(v))
            return bad_field(L, line, "weight", w, "is not finite", NULL);
        float fv = (float)v;
        if (!isfinite(fv))
            return bad_field(L, line, "weight", w, "is outside the float range", NULL);
        L->weights[r] = fv;
    }
    if (L->col[C_TIME] >= 0) {
        ri_span t = field(L, f, C_TIME);
        int trc = parse_time(t, &L->times[r]);
        if (trc != 0)
            return bad_field(L, line, "timestamp", t,
                             trc == -2 ? "is outside the int64 range" : "is not an integer", NULL);
    }
    L->n = r + 1;
    return RECINT_OK;
}

/* -------------------------------------------------------- first lines */

static int detect_delim(const char *s, size_t n)
{
    /* Tab before "::": a tab-separated file whose ids hold "::" must stay TSV
     * (files written by recint_dataset_save); MovieLens "::" files hold no tabs. */
    if (memchr(s, '\t', n))
        return D_TAB;
    if (memmem(s, n, "::", 2))
        return D_ML;
    if (memchr(s, ',', n))
        return D_COMMA;
    return D_SPACE;
}

/* header=auto on the first non-empty line. It is a header only when it cannot
 * be a row: no field that must hold a number does (weight, timestamp, and user
 * and item unless ids are strings), as no column name is a number. A line with
 * a number in any of those fields is a row, so a malformed first row fails at
 * line 1 instead of vanishing as a header. A line with text ids only (ids=auto,
 * no weight or timestamp column) may be a header or a row of string ids: the
 * next line decides, integer ids there making this line a header ("user,item"
 * then "1,2"). With ids=string and no weight or timestamp nothing tells a
 * header, so the line is a row. */
static int first_line(loader *L, const char *s, size_t n)
{
    if (L->header == H_YES)
        return RECINT_OK;
    ri_span f[MAX_COLUMNS];
    if (L->header == H_NO || split(L->delim, s, n, f, L->nfields) < L->nfields)
        return data_line(L, s, n, L->line);
    int numbers = 0, texts = 0; /* of the fields that must hold a number */
    for (int r = 0; r < C_KINDS; r++) {
        if (L->col[r] < 0 || ((r == C_USER || r == C_ITEM) && L->ids == RECINT_IDS_STRING))
            continue;
        if (is_number(ri_span_trim(f[L->col[r]])))
            numbers++;
        else
            texts++;
    }
    if (numbers > 0 || texts == 0)
        return data_line(L, s, n, L->line);
    if (L->col[C_WEIGHT] >= 0 || L->col[C_TIME] >= 0 || L->ids == RECINT_IDS_INT)
        return RECINT_OK;
    L->pending = ri_malloc_array(n ? n : 1, 1);
    if (!L->pending)
        return RECINT_ENOMEM;
    memcpy(L->pending, s, n);
    L->pending_len = n;
    L->pending_line = L->line;
    return RECINT_OK;
}

/* The pending first line is a header when this line has integer ids; else both
 * are data with string ids. */
static int resolve_pending(loader *L, const char *s, size_t n)
{
    ri_span f[MAX_COLUMNS];
    int header = split(L->delim, s, n, f, L->nfields) >= L->nfields &&
                 is_int(ri_span_trim(f[L->col[C_USER]])) && is_int(ri_span_trim(f[L->col[C_ITEM]]));
    char *p = L->pending;
    L->pending = NULL;
    int rc = RECINT_OK;
    if (!header) {
        L->ids = RECINT_IDS_STRING;
        rc = data_line(L, p, L->pending_len, L->pending_line);
    }
    free(p);
    if (rc == RECINT_OK)
        rc = data_line(L, s, n, L->line);
    return rc;
}

/* ------------------------------------------------- self-described files */

#define SELF_TAG "# recint-dataset"
#define SELF_FORM "'# recint-dataset 1 ids=int|string|none users=N items=N'"

static int header_value(ri_span t, const char *key, ri_span *v)
{
    size_t kn = strlen(key);
    if (t.n < kn || memcmp(t.p, key, kn) != 0)
        return 0;
    *v = (ri_span){t.p + kn, t.n - kn};
    return 1;
}

static int header_count(ri_span v, uint32_t *out)
{
    int64_t x;
    if (v.n == 0 || v.p[0] < '0' || v.p[0] > '9' || ri_parse_i64(v.p, v.n, &x) != 0 ||
        x > (int64_t)UINT32_MAX)
        return 0;
    *out = (uint32_t)x;
    return 1;
}

static int self_header(loader *L, const char *s, size_t n)
{
    ri_span f[7], kind = {NULL, 0}, users, items;
    int k = split(D_SPACE, s, n, f, 7);
    int show = n > 2 * SHOW ? 2 * SHOW : (int)n;
    int ok = k == 6 && ri_span_is(f[0], "#") && ri_span_is(f[1], "recint-dataset") &&
             header_value(f[3], "ids=", &kind) && header_value(f[4], "users=", &users) &&
             header_value(f[5], "items=", &items) && header_count(users, &L->cat_users) &&
             header_count(items, &L->cat_items);
    if (ok && !ri_span_is(f[2], "1"))
        return ri_error(RECINT_EFORMAT,
                        "%s:%" PRIu64 ": recint-dataset version '%.*s' is not supported (this build "
                        "reads version 1)", L->name, L->line, (int)(f[2].n > SHOW ? SHOW : f[2].n), f[2].p);
    int ids = !ok                     ? -1
              : ri_span_is(kind, "int")    ? RECINT_IDS_INT
              : ri_span_is(kind, "string") ? RECINT_IDS_STRING
              : ri_span_is(kind, "none")   ? RECINT_IDS_NONE
                                        : -1;
    if (ids < 0)
        return ri_error(RECINT_EFORMAT, "%s:%" PRIu64 ": damaged recint-dataset header '%.*s%s'; expected "
                        SELF_FORM, L->name, L->line, show, s, (size_t)show < n ? "..." : "");
    if (ids == RECINT_IDS_NONE && (L->cat_users || L->cat_items))
        return ri_error(RECINT_EFORMAT, "%s:%" PRIu64 ": recint-dataset header says ids=none but lists "
                        "%" PRIu32 " users and %" PRIu32 " items", L->name, L->line, L->cat_users,
                        L->cat_items);
    int rc;
    if ((rc = ri_idmap_new(&L->cat_u)) != RECINT_OK || (rc = ri_idmap_new(&L->cat_i)) != RECINT_OK)
        return rc;
    L->self_described = 1;
    L->delim = D_TAB;
    L->header = H_NO;
    L->ids = ids;
    L->ids_reason = ids == RECINT_IDS_INT ? "the file's header says ids=int" : NULL;
    L->columns_spec = "user,item,weight,timestamp";
    for (int r = 0; r < C_KINDS; r++)
        L->col[r] = r;
    L->nfields = C_KINDS;
    return RECINT_OK;
}

/* The next of the catalogue lines the header announced (cat_seen read so far). */
static int catalogue_line(loader *L, const char *s, size_t n)
{
    int user = L->cat_seen < L->cat_users;
    uint64_t nth = (user ? L->cat_seen : L->cat_seen - L->cat_users) + 1;
    const char *what = user ? "user id" : "item id";
    if (n < 3 || memcmp(s, user ? "#u\t" : "#i\t", 3) != 0) {
        int show = n > SHOW ? SHOW : (int)n;
        return ri_error(RECINT_EFORMAT,
                        "%s:%" PRIu64 ": expected catalogue line '#%c<TAB>id' (%s %" PRIu64 " of the %"
                        PRIu32 " the header lists), found '%.*s%s'", L->name, L->line, user ? 'u' : 'i',
                        user ? "user" : "item", nth, user ? L->cat_users : L->cat_items, show, s,
                        (size_t)show < n ? "..." : "");
    }
    ri_span id = {s + 3, n - 3};
    recint_idmap *m = user ? L->cat_u : L->cat_i;
    uint32_t idx = 0;
    int added = 0, rc;
    if (L->ids == RECINT_IDS_INT) {
        int64_t v;
        if (ri_parse_i64(id.p, id.n, &v) != 0)
            return bad_field(L, L->line, what, id, "is not an integer", " (the header says ids=int)");
        rc = ri_idmap_intern(m, v, &idx, &added);
    } else {
        if (id.n == 0)
            return bad_field(L, L->line, what, id, "is empty", NULL);
        if (memchr(id.p, '\0', id.n))
            return bad_field(L, L->line, what, id, "holds a NUL byte", NULL);
        rc = ri_idmap_intern_str(m, id.p, id.n, &idx, &added);
    }
    if (rc != RECINT_OK)
        return ri_error_prefix(rc, "%s:%" PRIu64 ": ", L->name, L->line);
    if (!added) {
        char detail[64];
        snprintf(detail, sizeof detail, " (first at index %" PRIu32 ")", idx);
        return bad_field(L, L->line, what, id, "is listed twice in the catalogue", detail);
    }
    L->cat_seen++;
    return RECINT_OK;
}

/* ---------------------------------------------------------------- lines */

static int handle_line(loader *L, const char *s, size_t n)
{
    L->line++;
    /* Counted by the header, catalogue lines (blank ones included) come first. */
    if (L->self_described && L->cat_seen < (uint64_t)L->cat_users + L->cat_items)
        return catalogue_line(L, s, n);
    size_t i = 0;
    while (i < n && ri_is_blank(s[i]))
        i++;
    if (i == n)
        return RECINT_OK;
    if (!L->started) {
        L->started = 1;
        if (n >= strlen(SELF_TAG) && memcmp(s, SELF_TAG, strlen(SELF_TAG)) == 0)
            return self_header(L, s, n);
        if (L->delim == D_AUTO)
            L->delim = detect_delim(s, n);
        return first_line(L, s, n);
    }
    if (L->pending)
        return resolve_pending(L, s, n);
    return data_line(L, s, n, L->line);
}

/* The catalogue goes in first, in its order; rows (catalogue indices) are
 * mapped to ds's indices and merged. A failure takes the catalogue out again. */
static int finish_self_described(loader *L, recint_dataset *ds)
{
    uint64_t want = (uint64_t)L->cat_users + L->cat_items;
    if (L->cat_seen < want)
        return ri_error(RECINT_EFORMAT,
                        "%s: the file ends at line %" PRIu64 " after %" PRIu64 " of the %" PRIu64
                        " catalogue lines its header lists", L->name, L->line, L->cat_seen, want);
    uint32_t old_users = recint_dataset_n_users(ds), old_items = recint_dataset_n_items(ds);
    uint32_t *cu = RI_NEW_ARRAY(uint32_t, L->cat_users ? L->cat_users : 1);
    uint32_t *ci = RI_NEW_ARRAY(uint32_t, L->cat_items ? L->cat_items : 1);
    uint32_t *uidx = RI_NEW_ARRAY(uint32_t, L->n ? L->n : 1);
    uint32_t *iidx = RI_NEW_ARRAY(uint32_t, L->n ? L->n : 1);
    int rc = RECINT_ENOMEM;
    if (cu && ci && uidx && iidx)
        rc = ri_dataset_intern_catalogue(ds, L->cat_u, L->cat_i, cu, ci);
    if (rc == RECINT_OK) {
        for (size_t r = 0; r < L->n; r++) {
            uidx[r] = cu[L->users[r]];
            iidx[r] = ci[L->items[r]];
        }
        free(L->users);
        free(L->items);
        L->users = NULL;
        L->items = NULL;
        rc = ri_dataset_add_indexed(ds, L->n, &uidx, &iidx, L->weights, L->times);
        if (rc != RECINT_OK)
            ri_dataset_drop_ids(ds, old_users, old_items);
    }
    free(cu);
    free(ci);
    free(uidx);
    free(iidx);
    if (rc != RECINT_OK)
        ri_error_prefix(rc, "%s: ", L->name);
    return rc;
}

static int finish(loader *L, recint_dataset *ds)
{
    if (L->pending) {
        /* A lone first line with text ids: data, as there is nothing to contradict it. */
        L->ids = RECINT_IDS_STRING;
        int rc = data_line(L, L->pending, L->pending_len, L->pending_line);
        free(L->pending);
        L->pending = NULL;
        if (rc != RECINT_OK)
            return rc;
    }
    if (L->self_described)
        return finish_self_described(L, ds);
    if (L->n == 0)
        return RECINT_OK;
    int rc;
    if (L->ids == RECINT_IDS_INT) {
        rc = recint_dataset_add(ds, L->n, L->users, L->items, L->weights, L->times);
    } else {
        const char **u = RI_NEW_ARRAY(const char *, L->n);
        const char **it = RI_NEW_ARRAY(const char *, L->n);
        rc = RECINT_ENOMEM;
        if (u && it) {
            for (size_t r = 0; r < L->n; r++) {
                u[r] = L->arena + L->users[r];
                it[r] = L->arena + L->items[r];
            }
            rc = recint_dataset_add_str(ds, L->n, u, it, L->weights, L->times);
        }
        free(u);
        free(it);
    }
    if (rc != RECINT_OK)
        ri_error_prefix(rc, "%s: ", L->name);
    return rc;
}

/* ---------------------------------------------------------------- files */

static int on_line(void *ctx, const char *s, size_t n, uint64_t line)
{
    (void)line; /* counted by the loader: the self-described catalogue relies on it */
    return handle_line(ctx, s, n);
}

RECINT_API int recint_dataset_load(recint_dataset *ds, const char *path, const recint_config *cfg)
{
    if (!ds || !path)
        return ri_error(RECINT_EINVAL, "recint_dataset_load: %s is NULL", !ds ? "dataset" : "path");
    loader L;
    int rc = loader_init(&L, ds, path, cfg);
    if (rc == RECINT_OK) {
        rc = ri_read_lines(path, on_line, &L);
        if (rc == RECINT_OK)
            rc = finish(&L, ds);
    }
    loader_free(&L);
    return rc;
}

RECINT_API int recint_dataset_load_buffer(recint_dataset *ds, const char *text, size_t len,
                                          const char *name, const recint_config *cfg)
{
    if (!ds || (!text && len))
        return ri_error(RECINT_EINVAL, "recint_dataset_load_buffer: %s is NULL",
                        !ds ? "dataset" : "text");
    loader L;
    int rc = loader_init(&L, ds, name ? name : "<buffer>", cfg);
    if (rc == RECINT_OK)
        rc = ri_read_lines_buffer(text, len, on_line, &L);
    if (rc == RECINT_OK)
        rc = finish(&L, ds);
    loader_free(&L);
    return rc;
}
