/* Text loading (recint_dataset_load / _load_buffer) and saving (recint_dataset_save):
 * delimiters, headers, columns, id kinds, line endings, malformed input with exact
 * line numbers, atomicity, round trips and the MovieLens files. */
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* ------------------------------------------------------------- helpers */

static recint_dataset *fresh(const char *duplicates)
{
    recint_config *cfg = NULL;
    recint_dataset *ds = NULL;
    RI_OK(recint_config_new(&cfg));
    if (duplicates)
        RI_OK(recint_config_set(cfg, "duplicates", duplicates));
    RI_OK(recint_dataset_new(&ds, cfg));
    recint_config_free(cfg);
    return ds;
}

/* Config from "key=value" strings ending with NULL. */
static recint_config *cfg_va(va_list ap)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    for (const char *kv = va_arg(ap, const char *); kv; kv = va_arg(ap, const char *))
        RI_OK(recint_config_set_pair(cfg, kv));
    return cfg;
}

/* Load text (named "buf") with settings "key=value", ..., NULL. */
static int load(recint_dataset *ds, const char *text, ...)
{
    va_list ap;
    va_start(ap, text);
    recint_config *cfg = cfg_va(ap);
    va_end(ap);
    int rc = recint_dataset_load_buffer(ds, text, strlen(text), "buf", cfg);
    recint_config_free(cfg);
    return rc;
}

static const char *write_file(const char *name, const char *text, char *path, size_t cap)
{
    ri_test_tmp(name, path, cap);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Edge of (user index, item index) in the CSR, or -1. */
static int64_t edge(const recint_dataset *ds, uint32_t u, uint32_t i)
{
    const uint64_t *indptr;
    const uint32_t *items;
    RI_OK(recint_dataset_csr(ds, &indptr, &items, NULL, NULL));
    for (uint64_t e = indptr[u]; e < indptr[u + 1]; e++)
        if (items[e] == i)
            return (int64_t)e;
    return -1;
}

/* Weight and timestamp of (user id, item id); 0 when absent. */
static int row(const recint_dataset *ds, int64_t user, int64_t item, float *w, int64_t *t)
{
    uint32_t u, i;
    if (recint_idmap_index(recint_dataset_users(ds), user, &u) != RECINT_OK ||
        recint_idmap_index(recint_dataset_items(ds), item, &i) != RECINT_OK)
        return 0;
    int64_t e = edge(ds, u, i);
    if (e < 0)
        return 0;
    const float *ws;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &ws, &ts));
    if (w)
        *w = ws[e];
    if (t)
        *t = ts[e];
    return 1;
}

static int row_str(const recint_dataset *ds, const char *user, const char *item, float *w, int64_t *t)
{
    uint32_t u, i;
    if (recint_idmap_index_str(recint_dataset_users(ds), user, &u) != RECINT_OK ||
        recint_idmap_index_str(recint_dataset_items(ds), item, &i) != RECINT_OK)
        return 0;
    int64_t e = edge(ds, u, i);
    if (e < 0)
        return 0;
    const float *ws;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &ws, &ts));
    if (w)
        *w = ws[e];
    if (t)
        *t = ts[e];
    return 1;
}

static void expect_row(const recint_dataset *ds, int64_t u, int64_t i, float w, int64_t t)
{
    float gw = NAN;
    int64_t gt = -1;
    ck_assert_msg(row(ds, u, i, &gw, &gt), "row (%lld, %lld) missing", (long long)u, (long long)i);
    ck_assert_msg(gw == w && gt == t, "row (%lld, %lld): weight %g ts %lld, want %g %lld",
                  (long long)u, (long long)i, (double)gw, (long long)gt, (double)w, (long long)t);
}

static void expect_counts(const recint_dataset *ds, uint64_t nnz, uint32_t users, uint32_t items)
{
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), nnz);
    ck_assert_uint_eq(recint_dataset_n_users(ds), users);
    ck_assert_uint_eq(recint_dataset_n_items(ds), items);
}

/* Failed with EFORMAT and the message starts "buf:<line>: " and holds needle. */
static void expect_format_error(int rc, unsigned line, const char *needle)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "buf:%u: ", line);
    const char *msg = recint_last_error();
    ck_assert_msg(rc == RECINT_EFORMAT, "rc %d, want EFORMAT (%s)", rc, msg);
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", msg,
                  prefix);
    ck_assert_msg(strstr(msg, needle) != NULL, "'%s' lacks '%s'", msg, needle);
}

/* Same interactions, compared by external ids (index order may differ). */
static void expect_same(const recint_dataset *a, const recint_dataset *b)
{
    ck_assert_uint_eq(recint_dataset_n_interactions(a), recint_dataset_n_interactions(b));
    const recint_idmap *um = recint_dataset_users(a), *im = recint_dataset_items(a);
    int kind = recint_idmap_kind(um);
    ck_assert_int_eq(kind, recint_idmap_kind(recint_dataset_users(b)));
    const uint64_t *indptr;
    const uint32_t *items;
    const float *ws;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(a, &indptr, &items, &ws, &ts));
    size_t bad = 0;
    for (uint32_t u = 0; u < recint_dataset_n_users(a); u++) {
        for (uint64_t e = indptr[u]; e < indptr[u + 1]; e++) {
            float w = NAN;
            int64_t t = 0;
            int found;
            if (kind == RECINT_IDS_STRING) {
                const char *su, *si;
                RI_OK(recint_idmap_id_str(um, u, &su));
                RI_OK(recint_idmap_id_str(im, items[e], &si));
                found = row_str(b, su, si, &w, &t);
            } else {
                int64_t iu, ii;
                RI_OK(recint_idmap_id(um, u, &iu));
                RI_OK(recint_idmap_id(im, items[e], &ii));
                found = row(b, iu, ii, &w, &t);
            }
            if (!found || memcmp(&w, &ws[e], sizeof w) != 0 || t != ts[e]) {
                if (bad++ == 0)
                    fprintf(stderr, "row %u/%llu: found %d weight %a vs %a ts %lld vs %lld\n", u,
                            (unsigned long long)e, found, (double)w, (double)ws[e], (long long)t,
                            (long long)ts[e]);
            }
        }
    }
    ck_assert_msg(bad == 0, "%zu rows differ", bad);
}

/* ---------------------------------------------------------- delimiters */

/* Equal datasets: same catalogue at the same indices (ids of every index, id
 * kinds), the same CSR arrays, weights compared bit for bit. */
static void expect_equal(const recint_dataset *a, const recint_dataset *b)
{
    ck_assert_uint_eq(recint_dataset_n_users(a), recint_dataset_n_users(b));
    ck_assert_uint_eq(recint_dataset_n_items(a), recint_dataset_n_items(b));
    ck_assert_uint_eq(recint_dataset_n_interactions(a), recint_dataset_n_interactions(b));
    const recint_idmap *maps[2][2] = {{recint_dataset_users(a), recint_dataset_users(b)},
                                      {recint_dataset_items(a), recint_dataset_items(b)}};
    for (int m = 0; m < 2; m++) {
        const recint_idmap *x = maps[m][0], *y = maps[m][1];
        uint32_t n = recint_idmap_size(x);
        ck_assert_uint_eq(n, recint_idmap_size(y));
        /* An empty map has no kind to keep. */
        if (n)
            ck_assert_int_eq(recint_idmap_kind(x), recint_idmap_kind(y));
        for (uint32_t k = 0; k < n; k++) {
            if (recint_idmap_kind(x) == RECINT_IDS_STRING) {
                const char *sx, *sy;
                RI_OK(recint_idmap_id_str(x, k, &sx));
                RI_OK(recint_idmap_id_str(y, k, &sy));
                ck_assert_msg(strcmp(sx, sy) == 0, "%s index %u: '%s' vs '%s'", m ? "item" : "user",
                              k, sx, sy);
            } else {
                int64_t ix, iy;
                RI_OK(recint_idmap_id(x, k, &ix));
                RI_OK(recint_idmap_id(y, k, &iy));
                ck_assert_msg(ix == iy, "%s index %u: %lld vs %lld", m ? "item" : "user", k,
                              (long long)ix, (long long)iy);
            }
        }
    }
    const uint64_t *pa, *pb;
    const uint32_t *ia, *ib;
    const float *wa, *wb;
    const int64_t *ta, *tb;
    RI_OK(recint_dataset_csr(a, &pa, &ia, &wa, &ta));
    RI_OK(recint_dataset_csr(b, &pb, &ib, &wb, &tb));
    uint64_t nnz = recint_dataset_n_interactions(a);
    ck_assert(memcmp(pa, pb, ((size_t)recint_dataset_n_users(a) + 1) * sizeof *pa) == 0);
    if (nnz) {
        ck_assert(memcmp(ia, ib, nnz * sizeof *ia) == 0);
        ck_assert(memcmp(wa, wb, nnz * sizeof *wa) == 0);
        ck_assert(memcmp(ta, tb, nnz * sizeof *ta) == 0);
    }
}

/* Save a, load the file into a new dataset (settings "key=value", ..., NULL). */
static recint_dataset *reload(const recint_dataset *a, const char *name, ...)
{
    char path[512];
    ri_test_tmp(name, path, sizeof path);
    RI_OK(recint_dataset_save(a, path));
    va_list ap;
    va_start(ap, name);
    recint_config *cfg = cfg_va(ap);
    va_end(ap);
    recint_dataset *b = NULL;
    RI_OK(recint_dataset_new(&b, cfg));
    RI_OK(recint_dataset_load(b, path, cfg));
    recint_config_free(cfg);
    unlink(path);
    return b;
}

/* Whole text of a file (NUL-terminated; free it). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Files in the directory of path whose names start with path's name + ".tmp.". */
static int temporaries_beside(const char *path)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    ck_assert_ptr_nonnull(slash);
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s.tmp.", slash + 1);
    *slash = '\0';
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

START_TEST(tab_basic)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1\t10\t4.5\t100\n2\t20\t3\t200\n2\t10\t-1.25\t300\n", NULL));
    expect_counts(ds, 3, 2, 2);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), RECINT_IDS_INT);
    expect_row(ds, 1, 10, 4.5f, 100);
    expect_row(ds, 2, 20, 3.0f, 200);
    expect_row(ds, 2, 10, -1.25f, 300);
    ck_assert(!row(ds, 1, 20, NULL, NULL));
    recint_dataset_free(ds);
}
END_TEST

START_TEST(every_delimiter)
{
    static const struct {
        const char *name, *text;
        int detectable; /* auto finds it (a tab anywhere on line 1 means tab) */
    } forms[] = {
        {"tab", "7\t70\t2.5\t11\n8\t80\t1\t12\n", 1},
        {"comma", "7,70,2.5,11\n8,80,1,12\n", 1},
        {"comma", " 7 , 70,  2.5 ,11 \n8,80 ,1, 12\n", 1}, /* blanks around fields */
        {"comma", "7,\t70,2.5,11\t\n8,80,1,12\n", 0},
        {"ml", "7::70::2.5::11\n8::80::1::12\n", 1},
        {"ml", "7 :: 70::2.5 ::11\n8::80::1::12\n", 1},
        {"space", "7 70 2.5 11\n8 80 1 12\n", 1},
        {"space", "   7     70   2.5    11   \n8 80 1 12\n", 1}, /* runs of blanks */
        {"space", "   7  \t 70 \t\t2.5    11   \n\t8 80 1 12\n", 0},
    };
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        for (int explicit_delim = !forms[k].detectable; explicit_delim < 2; explicit_delim++) {
            char setting[32];
            snprintf(setting, sizeof setting, "delimiter=%s", forms[k].name);
            recint_dataset *ds = fresh(NULL);
            int rc = load(ds, forms[k].text, explicit_delim ? setting : NULL, NULL);
            ck_assert_msg(rc == RECINT_OK, "form %zu (%s, explicit %d): %s", k, forms[k].name,
                          explicit_delim, recint_last_error());
            expect_counts(ds, 2, 2, 2);
            expect_row(ds, 7, 70, 2.5f, 11);
            expect_row(ds, 8, 80, 1.0f, 12);
            recint_dataset_free(ds);
        }
    }
}
END_TEST

START_TEST(wrong_delimiter_fails)
{
    /* Forcing tab on a comma file: the whole line is one field. */
    recint_dataset *ds = fresh(NULL);
    expect_format_error(load(ds, "1,2,3,4\n", "delimiter=tab", NULL), 1, "too few fields");
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

/* -------------------------------------------------------------- header */

START_TEST(header_auto)
{
    recint_dataset *ds = fresh(NULL);
    /* MovieLens latest: the rating column names itself. */
    RI_OK(load(ds, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n", NULL));
    expect_counts(ds, 2, 1, 2);
    expect_row(ds, 1, 3, 4.0f, 964981247);
    recint_dataset_free(ds);

    /* No numeric column: "user,item" is a header because the next line has integer ids. */
    ds = fresh(NULL);
    RI_OK(load(ds, "user,item\n1,2\n3,4\n", "columns=user,item", NULL));
    expect_counts(ds, 2, 2, 2);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), RECINT_IDS_INT);
    expect_row(ds, 3, 4, 1.0f, 0);
    recint_dataset_free(ds);

    /* ... but text ids on every line are all data. */
    ds = fresh(NULL);
    RI_OK(load(ds, "a,b\nc,d\n", "columns=user,item", NULL));
    expect_counts(ds, 2, 2, 2);
    ck_assert(row_str(ds, "a", "b", NULL, NULL));
    recint_dataset_free(ds);

    /* A single text line is data. */
    ds = fresh(NULL);
    RI_OK(load(ds, "a,b", "columns=user,item", NULL));
    expect_counts(ds, 1, 1, 1);
    recint_dataset_free(ds);

    /* ids=int decides from the first line alone. */
    ds = fresh(NULL);
    RI_OK(load(ds, "u,i\n5,6\n", "columns=user,item", "ids=int", NULL));
    expect_counts(ds, 1, 1, 1);
    expect_row(ds, 5, 6, 1.0f, 0);
    recint_dataset_free(ds);

    /* ids=string has no evidence of a header: both lines are data. */
    ds = fresh(NULL);
    RI_OK(load(ds, "u,i\n5,6\n", "columns=user,item", "ids=string", NULL));
    expect_counts(ds, 2, 2, 2);
    ck_assert(row_str(ds, "u", "i", NULL, NULL));
    ck_assert(row_str(ds, "5", "6", NULL, NULL));
    recint_dataset_free(ds);

    /* A numeric first line is data; blank lines before the header do not count. */
    ds = fresh(NULL);
    RI_OK(load(ds, "\n\nuser\titem\tw\tt\n1\t2\t3\t4\n", NULL));
    expect_counts(ds, 1, 1, 1);
    expect_format_error(load(ds, "\n\nuser\titem\tw\tt\n1\t2\t3\t4\n1\t2\tx\t4\n", NULL), 5,
                        "weight 'x' is not a number");
    recint_dataset_free(ds);
}
END_TEST

/* header=auto takes a first line for a header only when none of its fields that
 * must hold a number does; a malformed first row fails at line 1. */
START_TEST(header_auto_malformed_first_line)
{
    recint_dataset *ds = fresh(NULL);
    expect_format_error(load(ds, "1,2,x,4\n5,6,7,8\n", NULL), 1, "weight 'x' is not a number");
    expect_format_error(load(ds, "1,2,3,x\n5,6,7,8\n", NULL), 1, "timestamp 'x' is not an integer");
    expect_format_error(load(ds, "1,2,,4\n5,6,7,8\n", NULL), 1, "weight '' is not a number");
    /* Half a header is not a header. */
    expect_format_error(load(ds, "user,2,rating,timestamp\n5,6,7,8\n", NULL), 1,
                        "weight 'rating' is not a number");
    expect_format_error(load(ds, "userId\tmovieId\trating\t964982703\n1\t2\t3\t4\n", NULL), 1,
                        "weight 'rating' is not a number");
    /* String ids: a number in the weight makes the line a row. */
    expect_format_error(load(ds, "alice,book,4,x\nbob,pen,3,5\n", NULL), 1,
                        "timestamp 'x' is not an integer");
    /* ids=int with user and item only: a half-numeric first line is a bad row. */
    expect_format_error(load(ds, "1,x\n2,3\n", "columns=user,item", "ids=int", NULL), 1,
                        "item id 'x' is not an integer");
    expect_format_error(load(ds, "1.5,2\n2,3\n", "columns=user,item", "ids=int", NULL), 1,
                        "user id '1.5' is not an integer");
    /* An int dataset judges ids too. */
    recint_dataset *ints = fresh(NULL);
    RI_OK(load(ints, "1,2\n", "columns=user,item", NULL));
    expect_format_error(load(ints, "3,y\n4,5\n", "columns=user,item", NULL), 1,
                        "item id 'y' is not an integer");
    RI_OK(load(ints, "user,item\n4,5\n", "columns=user,item", NULL));
    expect_counts(ints, 2, 2, 2);
    recint_dataset_free(ints);
    expect_counts(ds, 0, 0, 0);

    /* Headers still recognised: all text where numbers are expected. */
    RI_OK(load(ds, "user,item,rating\nalice,book,4\n", "columns=user,item,weight", NULL));
    expect_counts(ds, 1, 1, 1);
    ck_assert(row_str(ds, "alice", "book", NULL, NULL));
    recint_dataset_free(ds);
    ds = fresh(NULL);
    RI_OK(load(ds, "a,1\n2,3\n", "columns=user,item", NULL)); /* a number: a row */
    expect_counts(ds, 2, 2, 2);
    ck_assert(row_str(ds, "a", "1", NULL, NULL));
    recint_dataset_free(ds);
    ds = fresh(NULL);
    RI_OK(load(ds, "user id,item id,weight,time\n1,1,4.0,964982703\n", NULL));
    expect_row(ds, 1, 1, 4.0f, 964982703);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(header_yes_no)
{
    recint_dataset *ds = fresh(NULL);
    /* header=yes drops the first non-empty line even when it looks like data. */
    RI_OK(load(ds, "\n1,2,3,4\n5,6,7,8\n", "header=yes", NULL));
    expect_counts(ds, 1, 1, 1);
    expect_row(ds, 5, 6, 7.0f, 8);
    ck_assert(!row(ds, 1, 2, NULL, NULL));
    recint_dataset_free(ds);

    ds = fresh(NULL);
    expect_format_error(load(ds, "userId,movieId,rating,timestamp\n1,1,4.0,9\n", "header=no", NULL), 1,
                        "weight 'rating' is not a number");
    expect_counts(ds, 0, 0, 0);
    RI_OK(load(ds, "1,2,3,4\n", "header=no", NULL));
    expect_counts(ds, 1, 1, 1);
    recint_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------- columns */

START_TEST(column_variants)
{
    recint_dataset *ds = fresh(NULL);
    /* Extra trailing fields are ignored; missing weight is 1 and timestamp 0. */
    RI_OK(load(ds, "1\t2\t5\t100\n", "columns=user,item", NULL));
    expect_row(ds, 1, 2, 1.0f, 0);
    recint_dataset_free(ds);

    ds = fresh(NULL);
    RI_OK(load(ds, "1,ignored text,2\n3,x,4\n", "columns=user,skip,item", NULL));
    expect_counts(ds, 2, 2, 2);
    expect_row(ds, 3, 4, 1.0f, 0);
    recint_dataset_free(ds);

    ds = fresh(NULL);
    RI_OK(load(ds, "10,1,555\n", "columns= item , user ,timestamp", NULL));
    expect_row(ds, 1, 10, 1.0f, 555);
    recint_dataset_free(ds);

    ds = fresh(NULL);
    RI_OK(load(ds, "77,0.5,20,3\n", "columns=timestamp,weight,item,user", NULL));
    expect_row(ds, 3, 20, 0.5f, 77);
    recint_dataset_free(ds);

    /* A trailing skip column need not be present. */
    ds = fresh(NULL);
    RI_OK(load(ds, "1,2\n", "columns=user,item,skip", NULL));
    expect_counts(ds, 1, 1, 1);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(column_spec_errors)
{
    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"columns=user", "needs both a user and an item"},
        {"columns=item,weight", "needs both a user and an item"},
        {"columns=user,user,item", "'user' appears twice"},
        {"columns=user,item,weight,weight", "'weight' appears twice"},
        {"columns=user,item,rating", "unknown column name 'rating'"},
        {"columns=user,,item", "unknown column name ''"},
        {"columns=", "unknown column name ''"},
        {"columns=User,item", "unknown column name 'User'"},
    };
    recint_dataset *ds = fresh(NULL);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = load(ds, "1,2,3,4\n", bad[k].spec, NULL);
        ck_assert_msg(rc == RECINT_EINVAL, "%s -> %d", bad[k].spec, rc);
        ck_assert_msg(strstr(recint_last_error(), bad[k].needle) != NULL, "%s: '%s' lacks '%s'",
                      bad[k].spec, recint_last_error(), bad[k].needle);
    }
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

/* ----------------------------------------------------------------- ids */

START_TEST(string_ids)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "alice\tbook one\t5\t1\nbob\tbook one\t3\t2\nalice\tpen\t1\t3\n", NULL));
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), RECINT_IDS_STRING);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_items(ds)), RECINT_IDS_STRING);
    expect_counts(ds, 3, 2, 2);
    float w;
    int64_t t;
    ck_assert(row_str(ds, "bob", "book one", &w, &t));
    ck_assert(w == 3.0f && t == 2);
    /* New ids are indexed in strcmp order within the call. */
    uint32_t idx;
    RI_OK(recint_idmap_index_str(recint_dataset_users(ds), "alice", &idx));
    ck_assert_uint_eq(idx, 0);
    RI_OK(recint_idmap_index_str(recint_dataset_items(ds), "pen", &idx));
    ck_assert_uint_eq(idx, 1);

    /* ids=auto follows the dataset's kind: numeric text appends as strings. */
    RI_OK(load(ds, "42\t7\t1\t9\n", NULL));
    ck_assert(row_str(ds, "42", "7", NULL, NULL));
    expect_counts(ds, 4, 3, 3);
    recint_dataset_free(ds);

    /* Mixed: the first row has integer ids, a later one does not. */
    ds = fresh(NULL);
    int rc = load(ds, "1,2,1,0\n3,4,1,0\n\nabc,4,1,0\n", NULL);
    expect_format_error(rc, 4, "user id 'abc' is not an integer");
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "ids=string"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "line 1"));
    expect_counts(ds, 0, 0, 0);
    RI_OK(load(ds, "1,2,1,0\n3,4,1,0\n\nabc,4,1,0\n", "ids=string", NULL));
    expect_counts(ds, 3, 3, 2);
    /* An int dataset refuses text ids with the line. */
    recint_dataset *ids = fresh(NULL);
    RI_OK(load(ids, "1,2\n", "columns=user,item", NULL));
    expect_format_error(load(ids, "5,6\n5,x\n", "columns=user,item", NULL), 2,
                        "item id 'x' is not an integer");
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "dataset already holds integer ids"));
    recint_dataset_free(ids);
    recint_dataset_free(ds);

    /* ids=int on a text first row. */
    ds = fresh(NULL);
    expect_format_error(load(ds, "x,1,2,3\n", "ids=int", "header=no", NULL), 1,
                        "user id 'x' is not an integer");
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "ids=int"));
    recint_dataset_free(ds);
}
END_TEST

/* A long string id among short ones: the id map must not compare past the end
 * of the shorter stored ids (ASan flags the over-read). */
static char *long_ids_text(int n_long, size_t len)
{
    size_t cap = 200 + (size_t)n_long * (len + 8);
    char *text = malloc(cap), *p = text;
    ck_assert_ptr_nonnull(text);
    for (int k = 0; k < 10; k++)
        p += sprintf(p, "u%d,i%d\n", k, k);
    for (int k = 0; k < n_long; k++) {
        memset(p, 'z', len - 4);
        p += len - 4;
        p += sprintf(p, "%04d,i1\n", k);
    }
    return text;
}

static void expect_long_ids(const recint_dataset *ds, int n_long, size_t len)
{
    const recint_idmap *um = recint_dataset_users(ds);
    ck_assert_uint_eq(recint_idmap_size(um), 10 + (uint32_t)n_long);
    char *id = malloc(len + 1);
    ck_assert_ptr_nonnull(id);
    uint32_t idx;
    for (int k = 0; k < n_long; k++) {
        memset(id, 'z', len - 4);
        snprintf(id + len - 4, 5, "%04d", k % 10000);
        RI_OK(recint_idmap_index_str(um, id, &idx));
        ck_assert_uint_eq(idx, 10 + (uint32_t)k);
    }
    /* Longer still than every stored id. */
    free(id);
    id = malloc(2 * len + 1);
    ck_assert_ptr_nonnull(id);
    memset(id, 'z', 2 * len);
    id[2 * len] = '\0';
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(um, id, &idx));
    free(id);
    RI_OK(recint_idmap_index_str(um, "u3", &idx));
    ck_assert_uint_lt(idx, 10);
}

START_TEST(long_string_ids)
{
    enum { N_LONG = 64, LEN = 3000 };
    char *text = long_ids_text(N_LONG, LEN);
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, text, "columns=user,item", NULL));
    expect_long_ids(ds, N_LONG, LEN);
    recint_dataset_free(ds);

    /* The same from a file, and appended to a dataset of short ids. */
    char path[512];
    write_file("long-ids.csv", text, path, sizeof path);
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "columns", "user,item"));
    ds = fresh(NULL);
    RI_OK(load(ds, "u0,i0\nu5,i5\n", "columns=user,item", NULL));
    RI_OK(recint_dataset_load(ds, path, cfg));
    expect_long_ids(ds, N_LONG, LEN);
    recint_dataset_free(ds);
    recint_config_free(cfg);
    unlink(path);
    free(text);
}
END_TEST

START_TEST(tab_string_ids_keep_blanks)
{
    /* Tab-separated text ids are taken exactly; comma ones are trimmed. */
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, " a b \tc,d\t1\t0\n", "ids=string", NULL));
    ck_assert(row_str(ds, " a b ", "c,d", NULL, NULL));
    recint_dataset_free(ds);
    ds = fresh(NULL);
    RI_OK(load(ds, " a b ,c\n", "ids=string", "columns=user,item", NULL));
    ck_assert(row_str(ds, "a b", "c", NULL, NULL));
    recint_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------- line endings */

START_TEST(crlf_and_empty_lines)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1,2,3,4\r\n\r\n  \t \r\n5,6,7,8", NULL)); /* no final newline */
    expect_counts(ds, 2, 2, 2);
    expect_row(ds, 1, 2, 3.0f, 4);
    expect_row(ds, 5, 6, 7.0f, 8);
    recint_dataset_free(ds);

    /* The CR must not stick to a text id at the end of the line. */
    ds = fresh(NULL);
    RI_OK(load(ds, "u1\ti1\r\nu2\ti2\r\n", "columns=user,item", NULL));
    ck_assert(row_str(ds, "u2", "i2", NULL, NULL));
    recint_dataset_free(ds);

    /* UTF-8 byte order mark, and a header with CRLF. */
    ds = fresh(NULL);
    RI_OK(load(ds, "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n", NULL));
    expect_row(ds, 1, 1, 4.0f, 964982703);
    recint_dataset_free(ds);

    /* CR-only line ends (old Mac spreadsheets) are line ends too, also mixed. */
    ds = fresh(NULL);
    RI_OK(load(ds, "1,2,3,4\r5,6,7,8\r", NULL));
    expect_counts(ds, 2, 2, 2);
    expect_row(ds, 5, 6, 7.0f, 8);
    RI_OK(load(ds, "userId,movieId,rating,timestamp\r9,2,1,4\r\r\n9,3,2,5", NULL));
    expect_counts(ds, 4, 3, 3);
    expect_row(ds, 9, 3, 2.0f, 5);
    recint_dataset_free(ds);
    ds = fresh(NULL);
    RI_OK(load(ds, "u1\ti1\ru2\ti2\r", "columns=user,item", NULL));
    expect_counts(ds, 2, 2, 2);
    ck_assert(row_str(ds, "u1", "i1", NULL, NULL));
    ck_assert(row_str(ds, "u2", "i2", NULL, NULL));
    recint_dataset_free(ds);
    /* ... and from a file. */
    char path[512];
    write_file("cr-only.csv", "user,item,rating,timestamp\r1,2,3,4\r5,6,7,8\r", path, sizeof path);
    ds = fresh(NULL);
    RI_OK(recint_dataset_load(ds, path, NULL));
    expect_counts(ds, 2, 2, 2);
    expect_row(ds, 1, 2, 3.0f, 4);
    unlink(path);
    recint_dataset_free(ds);

    /* Empty input and input of blank lines load nothing. */
    ds = fresh(NULL);
    RI_OK(load(ds, "", NULL));
    RI_OK(load(ds, "\n\r\n   \n", NULL));
    RI_OK(recint_dataset_load_buffer(ds, NULL, 0, NULL, NULL));
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(timestamps)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1,2,1,964982703.0\n1,3,1,-5\n1,4,1,+7.000\n", NULL));
    expect_row(ds, 1, 2, 1.0f, 964982703);
    expect_row(ds, 1, 3, 1.0f, -5);
    expect_row(ds, 1, 4, 1.0f, 7);
    expect_format_error(load(ds, "1,2,1,0\n1,2,1,12.5\n", NULL), 2, "timestamp '12.5' is not an integer");
    expect_format_error(load(ds, "1,2,1,0\n1,2,1,1e9\n", NULL), 2, "timestamp '1e9'");
    expect_format_error(load(ds, "1,2,1,99999999999999999999\n", "header=no", NULL), 1, "int64 range");
    /* On the first line too (header=auto): numbers in the other fields make it a
     * row, not a header to drop. */
    expect_format_error(load(ds, "1,2,1,1e9\n", NULL), 1, "timestamp '1e9' is not an integer");
    expect_counts(ds, 3, 1, 3);
    recint_dataset_free(ds);
}
END_TEST

/* ---------------------------------------------------------- duplicates */

START_TEST(duplicates_merge)
{
    const char *text = "1,2,1,10\n1,2,2.5,20\n3,2,4,5\n1,2,0.5,30\n";
    recint_dataset *ds = fresh("sum");
    RI_OK(load(ds, text, NULL));
    expect_counts(ds, 2, 2, 1);
    float w;
    ck_assert(row(ds, 1, 2, &w, NULL));
    ck_assert(w == 4.0f);
    recint_dataset_free(ds);

    ds = fresh("max");
    RI_OK(load(ds, text, NULL));
    ck_assert(row(ds, 1, 2, &w, NULL));
    ck_assert(w == 2.5f);
    recint_dataset_free(ds);

    ds = fresh("last");
    RI_OK(load(ds, text, NULL));
    int64_t t;
    ck_assert(row(ds, 1, 2, &w, &t));
    ck_assert(w == 0.5f && t == 30);
    recint_dataset_free(ds);
}
END_TEST

/* ----------------------------------------------------------- malformed */

START_TEST(malformed_lines)
{
    recint_dataset *ds = fresh(NULL);
    expect_format_error(load(ds, "1,2,3,4\n\n5,6,7\n", NULL), 3, "too few fields");
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "needs 4, found 3"));
    expect_format_error(load(ds, "1\t2\t3\t4\n1\t2\tx\t4\n", NULL), 2, "weight 'x' is not a number");
    expect_format_error(load(ds, "1,2,3,4\n1,2,3,4\n1,2,nan,4\n", NULL), 3, "weight 'nan' is not finite");
    expect_format_error(load(ds, "1,2,-inf,4\n", NULL), 1, "weight '-inf' is not finite");
    expect_format_error(load(ds, "1,2,1e39,4\n", NULL), 1, "float range");
    expect_format_error(load(ds, "1,2,3,4\n1,2,,4\n", NULL), 2, "weight '' is not a number");
    expect_format_error(load(ds, "1,2,3,4\n1,2,3.5.1,4\n", NULL), 2, "weight '3.5.1'");
    expect_format_error(load(ds, "1,2,3,4\r\n2,3,4,5\r\n3,x4,5,6\r\n", NULL), 3,
                        "item id 'x4' is not an integer");
    expect_format_error(load(ds, "1,2,3,4\n99999999999999999999,2,3,4\n", NULL), 2, "int64 range");
    expect_format_error(load(ds, "1::2::3\n", "delimiter=ml", NULL), 1, "too few fields");
    expect_format_error(load(ds, "a,b,1,0\nc,,1,0\n", NULL), 2, "item id '' is empty");
    /* A NUL inside a text id would silently cut it short. */
    static const char nul_text[] = "a,b,1,0\nc\0d,e,1,0\n";
    expect_format_error(recint_dataset_load_buffer(ds, nul_text, sizeof nul_text - 1, "buf", NULL),
                        2, "holds a NUL byte");
    /* A decimal comma is not a decimal point, whatever the locale. */
    expect_format_error(load(ds, "1\t2\t3,5\t4\n", "header=no", NULL), 1, "weight '3,5'");

    /* Long fields are cut in the message. */
    char text[400], longid[201];
    memset(longid, 'z', 200);
    longid[200] = '\0';
    snprintf(text, sizeof text, "1,2,3,4\n%s,2,3,4\n", longid);
    expect_format_error(load(ds, text, NULL), 2, "zzzzzzzzzz...'");
    ck_assert_ptr_null(strstr(recint_last_error(), longid));
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(atomic_on_failure)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1,10,2,5\n2,20,3,6\n", NULL));
    const uint64_t *ip0;
    const uint32_t *it0;
    RI_OK(recint_dataset_csr(ds, &ip0, &it0, NULL, NULL));
    /* New users and items on good lines, then a bad last line. */
    expect_format_error(load(ds, "3,30,1,0\n4,40,1,0\n1,10,5,0\n4,40,bad,0\n", NULL), 4,
                        "weight 'bad'");
    expect_counts(ds, 2, 2, 2);
    uint32_t idx;
    ck_assert_int_eq(recint_idmap_index(recint_dataset_users(ds), 3, &idx), RECINT_ENOTFOUND);
    expect_row(ds, 1, 10, 2.0f, 5);
    expect_row(ds, 2, 20, 3.0f, 6);
    /* A failure inside recint_dataset_add (NaN is impossible here, so use the id kind). */
    ck_assert_int_eq(load(ds, "a,b,1,0\n", "ids=string", NULL), RECINT_ESTATE);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "buf: "));
    expect_counts(ds, 2, 2, 2);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(bad_arguments)
{
    recint_dataset *ds = fresh(NULL);
    RI_FAILS(RECINT_EINVAL, recint_dataset_load(NULL, "x", NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_load(ds, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_load_buffer(NULL, "1,2", 3, "b", NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_load_buffer(ds, NULL, 3, "b", NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_save(NULL, "x"));
    RI_FAILS(RECINT_EINVAL, recint_dataset_save(ds, NULL));
    /* The length bounds the text: no terminator needed, nothing read past it. */
    RI_OK(recint_dataset_load_buffer(ds, "1,2,3,4\n5,6,7,8", 8, "b", NULL));
    expect_counts(ds, 1, 1, 1);
    recint_dataset_free(ds);
}
END_TEST

/* ---------------------------------------------------------------- files */

START_TEST(missing_file)
{
    recint_dataset *ds = fresh(NULL);
    char path[512];
    ri_test_tmp("does-not-exist.tsv", path, sizeof path);
    RI_FAILS(RECINT_EIO, recint_dataset_load(ds, path, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), path));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "No such file"));
    /* A directory is refused when opened (test_util covers FIFOs and devices). */
    RI_FAILS(RECINT_EIO, recint_dataset_load(ds, "/", NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "not a regular file (directory)"));
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(file_messages_name_path)
{
    char path[512];
    write_file("bad.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,3\n", path, sizeof path);
    recint_dataset *ds = fresh(NULL);
    RI_FAILS(RECINT_EFORMAT, recint_dataset_load(ds, path, NULL));
    char want[600];
    snprintf(want, sizeof want, "%s:3: too few fields", path);
    ck_assert_msg(strncmp(recint_last_error(), want, strlen(want)) == 0, "'%s'", recint_last_error());
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

/* Lines across the loader's read blocks, and one line longer than a block. */
START_TEST(big_file_blocks)
{
    char path[512];
    ri_test_tmp("big.tsv", path, sizeof path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    const int n = 700000; /* about 12 MB: more than one 8 MiB block */
    double sum = 0;
    for (int r = 0; r < n; r++) {
        int w = r % 5 + 1;
        fprintf(f, "%d\t%d\t%d\t%d\n", r % 9973, (r * 7) % 50021, w, r);
        sum += w;
    }
    ck_assert_int_eq(fclose(f), 0);
    recint_dataset *ds = fresh(NULL);
    RI_OK(recint_dataset_load(ds, path, NULL));
    /* (r % 9973, 7r % 50021) repeats only after lcm-many rows: every row is distinct. */
    expect_counts(ds, (uint64_t)n, 9973, 50021);
    const float *ws;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &ws, NULL));
    double got = 0;
    for (int e = 0; e < n; e++)
        got += ws[e];
    ck_assert(got == sum);
    expect_row(ds, 699999 % 9973, (699999 * 7) % 50021, 699999 % 5 + 1, 699999);
    recint_dataset_free(ds);

    /* A 9 MiB text id. */
    size_t big = (size_t)9 << 20;
    char *id = malloc(big + 1);
    ck_assert_ptr_nonnull(id);
    memset(id, 'q', big);
    id[big] = '\0';
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "short\tx\n%s\ty\n", id);
    ck_assert_int_eq(fclose(f), 0);
    ds = fresh(NULL);
    /* The default columns need 4 fields. */
    ck_assert_int_eq(recint_dataset_load(ds, path, NULL), RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), ":1: too few fields"));
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "columns", "user,item"));
    RI_OK(recint_dataset_load(ds, path, cfg));
    expect_counts(ds, 2, 2, 2);
    ck_assert(row_str(ds, id, "y", NULL, NULL));
    recint_config_free(cfg);
    free(id);
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

/* ----------------------------------------------------------- save/load */

START_TEST(save_load_int)
{
    recint_dataset *a = fresh(NULL);
    const int64_t users[] = {INT64_MIN, -5, 0, 7, INT64_MAX, 7, 7};
    const int64_t items[] = {3, 3, INT64_MAX, -9, INT64_MIN, 100, 3};
    const float weights[] = {0.1f, -2.5f, 3.4028235e38f, 1e-7f, 123456.789f, 16777217.0f, 1.0f / 3.0f};
    const int64_t times[] = {INT64_MIN, 0, 1, -1, INT64_MAX, 964982703, 42};
    RI_OK(recint_dataset_add(a, 7, users, items, weights, times));
    char path[512];
    ri_test_tmp("round.tsv", path, sizeof path);
    RI_OK(recint_dataset_save(a, path));
    recint_dataset *b = fresh(NULL);
    RI_OK(recint_dataset_load(b, path, NULL));
    expect_counts(b, 7, 5, 5);
    expect_same(a, b);
    expect_same(b, a);

    expect_equal(a, b);

    /* Header, catalogue in index order, then rows by user index then item index;
     * 0.1f is written with the fewest digits that read back as the same float. */
    char *text = slurp(path);
    const char *want = "# recint-dataset 1 ids=int users=5 items=5\n"
                       "#u\t-9223372036854775808\n#u\t-5\n#u\t0\n#u\t7\n#u\t9223372036854775807\n"
                       "#i\t-9223372036854775808\n#i\t-9\n#i\t3\n#i\t100\n#i\t9223372036854775807\n"
                       "-9223372036854775808\t3\t0.1\t-9223372036854775808\n";
    ck_assert_msg(strncmp(text, want, strlen(want)) == 0, "file starts:\n%.400s", text);
    free(text);

    /* Saving over an existing file replaces it and leaves no temporary behind. */
    recint_dataset *c = fresh(NULL);
    RI_OK(load(c, "1,2,3,4\n", NULL));
    RI_OK(recint_dataset_save(c, path));
    recint_dataset *d = fresh(NULL);
    RI_OK(recint_dataset_load(d, path, NULL));
    expect_same(c, d);
    ck_assert_int_eq(temporaries_beside(path), 0);
    unlink(path);
    recint_dataset_free(a);
    recint_dataset_free(b);
    recint_dataset_free(c);
    recint_dataset_free(d);
}
END_TEST

START_TEST(save_load_strings)
{
    recint_dataset *a = fresh(NULL);
    const char *users[] = {"alice", " spaced out ", "x::y", "123", "comma,id", "alice"};
    const char *items[] = {"book", "b\"q\"", "caf\xC3\xA9", "7", "#hash", "pen"};
    const float w[] = {1, 2.25f, -0.001f, 4, 5, 6};
    RI_OK(recint_dataset_add_str(a, 6, users, items, w, NULL));
    char path[512];
    ri_test_tmp("round-str.tsv", path, sizeof path);
    RI_OK(recint_dataset_save(a, path));
    /* "123"/"7" look like integers: the header's ids=string decides, not a guess. */
    recint_dataset *b = fresh(NULL);
    RI_OK(recint_dataset_load(b, path, NULL));
    expect_same(a, b);
    expect_same(b, a);
    expect_equal(a, b);
    unlink(path);
    recint_dataset_free(a);
    recint_dataset_free(b);
}
END_TEST

START_TEST(save_errors)
{
    char path[512];
    ri_test_tmp("never.tsv", path, sizeof path);
    const char *bad_ids[] = {"tab\there", "line\nbreak", "cr\rhere", ""};
    for (int k = 0; k < 4; k++) {
        recint_dataset *ds = fresh(NULL);
        const char *u[] = {"ok"}, *i[] = {bad_ids[k]};
        RI_OK(recint_dataset_add_str(ds, 1, u, i, NULL, NULL));
        RI_FAILS(RECINT_EINVAL, recint_dataset_save(ds, path));
        ck_assert_ptr_nonnull(strstr(recint_last_error(), "item id 0"));
        ck_assert_int_ne(access(path, F_OK), 0);
        recint_dataset_free(ds);
    }
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1,2,3,4\n", NULL));
    RI_FAILS(RECINT_EIO, recint_dataset_save(ds, "/nonexistent-dir-ri/out.tsv"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "/nonexistent-dir-ri/out.tsv.tmp."));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "No such file"));
    /* Renaming a file over a directory fails: the temporary is removed. */
    char dir[512];
    ri_test_tmp("a-directory", dir, sizeof dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    RI_FAILS(RECINT_EIO, recint_dataset_save(ds, dir));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "cannot rename"));
    ck_assert_int_eq(temporaries_beside(dir), 0);
    rmdir(dir);
    /* One id kind per file: a catalogue mixing int users and string items fails. */
    recint_dataset *strs = fresh(NULL), *mixed = NULL;
    const char *su[] = {"a"}, *si[] = {"b"};
    RI_OK(recint_dataset_add_str(strs, 1, su, si, NULL, NULL));
    RI_OK(recint_dataset_new_with_catalogue(&mixed, recint_dataset_users(ds), recint_dataset_items(strs),
                                            NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_save(mixed, path));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user ids are int but item ids are string"));
    ck_assert_int_ne(access(path, F_OK), 0);
    recint_dataset_free(mixed);
    recint_dataset_free(strs);
    /* An empty dataset saves as its header alone. */
    recint_dataset *empty = fresh(NULL);
    RI_OK(recint_dataset_save(empty, path));
    char *text = slurp(path);
    ck_assert_str_eq(text, "# recint-dataset 1 ids=none users=0 items=0\n");
    free(text);
    unlink(path);
    recint_dataset_free(empty);
    recint_dataset_free(ds);
}
END_TEST

/* A host program may run under a locale whose decimal point is ','. */
START_TEST(locale_independent)
{
    static const char *const comma_locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                                "fr_FR.utf8", "de_DE", "fr_FR"};
    int got = 0;
    for (size_t i = 0; i < sizeof comma_locales / sizeof comma_locales[0] && !got; i++)
        got = setlocale(LC_NUMERIC, comma_locales[i]) &&
              strcmp(localeconv()->decimal_point, ",") == 0;
    if (!got) {
        setlocale(LC_NUMERIC, "C");
        fprintf(stderr, "SKIP: no locale with a ',' decimal point is installed; "
                        "loader locale independence not checked\n");
        return;
    }
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1\t2\t2.5\t3\n1\t3\t0.125\t4\n", NULL));
    expect_row(ds, 1, 2, 2.5f, 3);
    expect_row(ds, 1, 3, 0.125f, 4);
    char path[512], line[128];
    ri_test_tmp("locale.tsv", path, sizeof path);
    RI_OK(recint_dataset_save(ds, path));
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    for (int k = 0; k < 5; k++) /* header, 1 user, 2 items, then the first row */
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "1\t2\t2.5\t3\n");
    fclose(f);
    unlink(path);
    setlocale(LC_NUMERIC, "C");
    recint_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------- self-described files */

/* Ids without interactions and an index order that is not the sorted one
 * survive save -> load, so indices in models and splits stay valid. */
START_TEST(round_trip_catalogue_int)
{
    recint_dataset *a = fresh(NULL);
    const int64_t u1[] = {50, 50}, i1[] = {9, 4};
    const float w1[] = {1.0f / 3.0f, 2.0f};
    const int64_t t1[] = {5, -6};
    RI_OK(recint_dataset_add(a, 2, u1, i1, w1, t1));
    const int64_t u2[] = {-3}, i2[] = {-1};
    RI_OK(recint_dataset_add(a, 1, u2, i2, NULL, NULL)); /* indices after 50 and 9 */
    const int64_t ru[] = {1000, 7}, ri[] = {77, 2};
    RI_OK(recint_dataset_reserve_ids(a, 2, ru, 2, ri)); /* no rows */
    expect_counts(a, 3, 4, 5);
    uint32_t idx;
    RI_OK(recint_idmap_index(recint_dataset_users(a), 50, &idx));
    ck_assert_uint_eq(idx, 0);
    recint_dataset *b = reload(a, "cat-int.tsv", NULL);
    expect_equal(a, b);
    recint_dataset_free(b);
    /* The header's kind wins over a setting (and over the guess ids=auto makes). */
    b = reload(a, "cat-int2.tsv", "ids=string", "delimiter=comma", "columns=user,item", NULL);
    expect_equal(a, b);
    recint_dataset_free(b);
    /* A catalogue alone: users and items, no rows. */
    recint_dataset *c = fresh(NULL);
    RI_OK(recint_dataset_reserve_ids(c, 2, ru, 0, NULL));
    b = reload(c, "cat-only.tsv", NULL);
    expect_equal(c, b);
    expect_counts(b, 0, 2, 0);
    recint_dataset_free(b);
    recint_dataset_free(c);
    recint_dataset_free(a);
}
END_TEST

START_TEST(round_trip_catalogue_strings)
{
    recint_dataset *a = fresh(NULL);
    /* "42" looks like an integer; "#u" and "#i" look like catalogue tags but are
     * ids of rows, which come after the counted catalogue lines. */
    const char *u[] = {"42", "alice", "#u", " 7 "};
    const char *it[] = {"#i", "42", "x", "007"};
    const float w[] = {0.1f, -1e-30f, 3.4028235e38f, 1e-45f};
    const int64_t t[] = {1, 2, 3, 4};
    RI_OK(recint_dataset_add_str(a, 4, u, it, w, t));
    const char *ru[] = {"zed", "1"}, *ri[] = {"0", "   "};
    RI_OK(recint_dataset_reserve_ids_str(a, 2, ru, 2, ri));
    recint_dataset *b = reload(a, "cat-str.tsv", NULL);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(b)), RECINT_IDS_STRING);
    expect_equal(a, b);
    recint_dataset_free(b);
    b = reload(a, "cat-str2.tsv", "ids=int", NULL);
    expect_equal(a, b);
    recint_dataset_free(b);
    recint_dataset_free(a);
}
END_TEST

START_TEST(round_trip_empty)
{
    recint_dataset *a = fresh(NULL);
    recint_dataset *b = reload(a, "empty.tsv", NULL);
    expect_equal(a, b);
    expect_counts(b, 0, 0, 0);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(b)), RECINT_IDS_NONE);
    recint_dataset_free(b);
    recint_dataset_free(a);
}
END_TEST

/* Into a dataset that already holds ids: known ids keep their index, new ones
 * follow in the file's order; rows merge by the duplicates policy. */
START_TEST(self_described_into_existing)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "5\t8\t1\t0\n", NULL));
    RI_OK(load(ds, "# recint-dataset 1 ids=int users=3 items=2\n#u\t9\n#u\t5\n#u\t2\n#i\t8\n#i\t1\n"
                   "5\t8\t2\t3\n2\t1\t4\t5\n", NULL));
    expect_counts(ds, 2, 3, 2);
    uint32_t idx;
    const int64_t order[] = {5, 9, 2};
    for (uint32_t k = 0; k < 3; k++) {
        RI_OK(recint_idmap_index(recint_dataset_users(ds), order[k], &idx));
        ck_assert_uint_eq(idx, k);
    }
    RI_OK(recint_idmap_index(recint_dataset_items(ds), 1, &idx));
    ck_assert_uint_eq(idx, 1);
    expect_row(ds, 5, 8, 3.0f, 3); /* summed */
    expect_row(ds, 2, 1, 4.0f, 5);
    /* Another id kind: ESTATE, nothing changes. */
    ck_assert_int_eq(load(ds, "# recint-dataset 1 ids=string users=1 items=0\n#u\tbob\n", NULL),
                     RECINT_ESTATE);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "buf: "));
    expect_counts(ds, 2, 3, 2);
    recint_dataset_free(ds);
}
END_TEST

/* A failing self-described file leaves the dataset as it was, catalogue too. */
START_TEST(self_described_atomic)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "1\t2\t3e38\t4\n", NULL));
    /* The sum of the repeated pair leaves the float range inside
     * recint_dataset_add, after the catalogue was interned. */
    int rc = load(ds, "# recint-dataset 1 ids=int users=2 items=2\n#u\t1\n#u\t6\n#i\t2\n#i\t7\n"
                      "1\t2\t3.4e38\t0\n", NULL);
    ck_assert_int_eq(rc, RECINT_EINVAL);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "float range"));
    expect_counts(ds, 1, 1, 1);
    ck_assert_int_eq(recint_idmap_index(recint_dataset_users(ds), 6, &(uint32_t){0}), RECINT_ENOTFOUND);
    ck_assert_int_eq(recint_idmap_index(recint_dataset_items(ds), 7, &(uint32_t){0}), RECINT_ENOTFOUND);
    expect_row(ds, 1, 2, 3e38f, 4);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(self_described_damaged)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *needle;
    } cases[] = {
        {"# recint-dataset 2 ids=int users=0 items=0\n", 1, "version '2' is not supported"},
        {"# recint-dataset 1 ids=int users=1\n#u\t1\n", 1, "damaged recint-dataset header"},
        {"# recint-dataset 1 ids=float users=0 items=0\n", 1, "damaged recint-dataset header"},
        {"# recint-dataset 1 ids=int users=-1 items=0\n", 1, "damaged recint-dataset header"},
        {"# recint-dataset 1 ids=int users=4294967296 items=0\n", 1, "damaged"},
        {"# recint-dataset 1 ids=int users=0 items=0 extra=1\n", 1, "damaged"},
        {"# recint-datasets 1 ids=int users=0 items=0\n", 1, "damaged"},
        {"# recint-dataset 1 ids=none users=1 items=0\n#u\t1\n", 1, "ids=none but lists 1 users"},
        /* fewer catalogue lines than the header lists: the row is not one */
        {"# recint-dataset 1 ids=int users=2 items=1\n#u\t1\n#i\t5\n1\t5\t1\t0\n", 3,
         "expected catalogue line '#u<TAB>id' (user 2 of the 2 the header lists), found '#i"},
        {"# recint-dataset 1 ids=int users=1 items=2\n#u\t1\n#i\t5\n1\t5\t1\t0\n", 4,
         "expected catalogue line '#i<TAB>id' (item 2 of the 2"},
        {"# recint-dataset 1 ids=int users=1 items=1\n#u\t1\n\n#i\t5\n", 3, "expected catalogue line"},
        /* more catalogue lines than listed: the extra one is read as a row */
        {"# recint-dataset 1 ids=int users=1 items=1\n#u\t1\n#i\t5\n#i\t6\n", 4, "too few fields"},
        {"# recint-dataset 1 ids=int users=2 items=0\n#u\t1\n#u\t1\n", 3,
         "user id '1' is listed twice in the catalogue (first at index 0)"},
        {"# recint-dataset 1 ids=int users=1 items=0\n#u\tbob\n", 2,
         "user id 'bob' is not an integer (the header says ids=int)"},
        {"# recint-dataset 1 ids=string users=1 items=0\n#u\t\n", 2, "user id '' is empty"},
        {"# recint-dataset 1 ids=int users=1 items=1\n#u\t1\n#i\t5\n1\t6\t1\t0\n", 4,
         "item id '6' is not in the file's catalogue"},
        {"# recint-dataset 1 ids=string users=1 items=1\n#u\ta\n#i\tb\nb\tb\t1\t0\n", 4,
         "user id 'b' is not in the file's catalogue"},
        {"# recint-dataset 1 ids=none users=0 items=0\n1\t2\t3\t4\n", 2, "not in the file's catalogue"},
        {"# recint-dataset 1 ids=int users=0 items=0\n1\t2\t3\n", 2, "too few fields"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        recint_dataset *ds = fresh(NULL);
        int rc = load(ds, cases[k].text, NULL);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "buf:%u: ", cases[k].line);
        const char *msg = recint_last_error();
        ck_assert_msg(rc == RECINT_EFORMAT && strncmp(msg, prefix, strlen(prefix)) == 0 &&
                          strstr(msg, cases[k].needle),
                      "case %zu: rc %d '%s', want EFORMAT '%s...%s'", k, rc, msg, prefix,
                      cases[k].needle);
        expect_counts(ds, 0, 0, 0);
        recint_dataset_free(ds);
    }
    /* The file ends inside the catalogue. */
    recint_dataset *ds = fresh(NULL);
    ck_assert_int_eq(load(ds, "# recint-dataset 1 ids=int users=3 items=0\n#u\t1\n", NULL),
                     RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(),
                                 "buf: the file ends at line 2 after 1 of the 3 catalogue lines"));
    /* Only the first line can be the header: later it is an ordinary bad row. */
    expect_format_error(load(ds, "1\t2\t3\t4\n# recint-dataset 1 ids=int users=0 items=0\n", NULL),
                        2, "too few fields");
    expect_counts(ds, 0, 0, 0);
    recint_dataset_free(ds);
}
END_TEST

/* Plain files keep their meaning: a '#' starts an id like any other character. */
START_TEST(plain_files_unchanged)
{
    recint_dataset *ds = fresh(NULL);
    RI_OK(load(ds, "#a\t#b\t1\t2\n", NULL));
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), RECINT_IDS_STRING);
    ck_assert(row_str(ds, "#a", "#b", NULL, NULL));
    recint_dataset_free(ds);
}
END_TEST

/* Every choice params.def lists for delimiter, header and ids reaches the
 * loader as that choice (the loader maps them by position). */
START_TEST(choices_by_position)
{
    static const struct {
        const char *key, *value, *text;
        int rc;
        uint64_t rows;
        int kind;
    } cases[] = {
        {"delimiter", "auto", "1\t2\t3\t4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"delimiter", "tab", "1\t2\t3\t4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"delimiter", "tab", "1,2,3,4\n", RECINT_EFORMAT, 0, 0},
        {"delimiter", "comma", "1,2,3,4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"delimiter", "comma", "1::2::3::4\n", RECINT_EFORMAT, 0, 0},
        {"delimiter", "ml", "1::2::3::4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"delimiter", "ml", "1 2 3 4\n", RECINT_EFORMAT, 0, 0},
        {"delimiter", "space", "1 2 3 4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"delimiter", "space", "1,2,3,4\n", RECINT_EFORMAT, 0, 0},
        {"header", "auto", "1\t2\t3\t4\n5\t6\t7\t8\n", RECINT_OK, 2, RECINT_IDS_INT},
        {"header", "yes", "1\t2\t3\t4\n5\t6\t7\t8\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"header", "no", "u\ti\tw\tt\n5\t6\t7\t8\n", RECINT_EFORMAT, 0, 0},
        {"ids", "auto", "1\t2\t3\t4\n", RECINT_OK, 1, RECINT_IDS_INT},
        {"ids", "int", "a\t2\t3\t4\nb\t2\t3\t4\n", RECINT_EFORMAT, 0, 0},
        {"ids", "string", "1\t2\t3\t4\n", RECINT_OK, 1, RECINT_IDS_STRING},
    };
    for (size_t p = 0; p < recint_config_count(); p++) {
        const char *key = recint_config_describe(p, RECINT_PARAM_KEY);
        if (strcmp(key, "delimiter") && strcmp(key, "header") && strcmp(key, "ids"))
            continue;
        /* Each listed choice has a case here. */
        char range[128];
        snprintf(range, sizeof range, "%s", recint_config_describe(p, RECINT_PARAM_RANGE));
        for (char *c = strtok(range, "|"); c; c = strtok(NULL, "|")) {
            int found = 0;
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
                found |= !strcmp(cases[k].key, key) && !strcmp(cases[k].value, c);
            ck_assert_msg(found, "%s=%s has no case", key, c);
        }
    }
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char kv[64];
        snprintf(kv, sizeof kv, "%s=%s", cases[k].key, cases[k].value);
        recint_dataset *ds = fresh(NULL);
        int rc = load(ds, cases[k].text, kv, NULL);
        ck_assert_msg(rc == cases[k].rc, "case %zu (%s): rc %d (%s)", k, kv, rc, recint_last_error());
        ck_assert_uint_eq(recint_dataset_n_interactions(ds), cases[k].rows);
        if (rc == RECINT_OK)
            ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), cases[k].kind);
        recint_dataset_free(ds);
    }
}
END_TEST

typedef struct {
    const recint_dataset *ds;
    const char *path;
    int failures;
} saver;

static void *save_repeatedly(void *arg)
{
    saver *s = arg;
    for (int k = 0; k < 20; k++)
        s->failures += recint_dataset_save(s->ds, s->path) != RECINT_OK;
    return NULL;
}

/* Two threads saving to one path: every save succeeds, the file is always one
 * complete version, and a "path.tmp" of the user's is never touched. */
START_TEST(concurrent_saves)
{
    recint_dataset *a = fresh(NULL), *b = fresh(NULL);
    enum { N = 20000 };
    int64_t *u = malloc(N * sizeof *u), *i = malloc(N * sizeof *i);
    ck_assert(u && i);
    for (int r = 0; r < N; r++) {
        u[r] = r % 211;
        i[r] = r;
    }
    RI_OK(recint_dataset_add(a, N, u, i, NULL, NULL));
    RI_OK(recint_dataset_add(b, N / 2, i, u, NULL, NULL));
    free(u);
    free(i);
    char path[512], user_tmp[600];
    ri_test_tmp("race.tsv", path, sizeof path);
    snprintf(user_tmp, sizeof user_tmp, "%s.tmp", path);
    FILE *f = fopen(user_tmp, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("mine\n", f);
    ck_assert_int_eq(fclose(f), 0);

    saver sa = {a, path, 0}, sb = {b, path, 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, save_repeatedly, &sa), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, save_repeatedly, &sb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(sa.failures + sb.failures, 0);
    recint_dataset *c = fresh(NULL);
    RI_OK(recint_dataset_load(c, path, NULL));
    if (recint_dataset_n_interactions(c) == N)
        expect_equal(a, c);
    else
        expect_equal(b, c);
    char *mine = slurp(user_tmp);
    ck_assert_str_eq(mine, "mine\n");
    free(mine);
    ck_assert_int_eq(temporaries_beside(path), 0);
    unlink(user_tmp);
    unlink(path);
    recint_dataset_free(a);
    recint_dataset_free(b);
    recint_dataset_free(c);
}
END_TEST

/* The CLI's split -> train flow through files: P1 on MovieLens 100k. Only 1447
 * of the 1682 items have a rating >= 4; the catalogue lines carry the rest, so
 * both files reload with the whole catalogue at the same indices. */
START_TEST(movielens_split_round_trip)
{
    char path[1024];
    if (!ri_test_dataset_file("ml-100k/u.data", path, sizeof path))
        return;
    recint_dataset *ds = fresh(NULL), *kept = NULL, *train = NULL, *test = NULL;
    RI_OK(recint_dataset_load(ds, path, NULL));
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "min_weight", "4"));
    RI_OK(recint_dataset_filter(&kept, ds, cfg));
    RI_OK(recint_dataset_split(kept, "temporal:0.2", 42, &train, NULL, &test));
    recint_dataset *back = reload(train, "p1.train.tsv", NULL);
    expect_counts(back, 43929, 943, 1682);
    expect_equal(train, back);
    recint_dataset_free(back);
    back = reload(test, "p1.test.tsv", NULL);
    expect_counts(back, 11446, 943, 1682);
    expect_equal(test, back);
    recint_dataset_free(back);
    recint_config_free(cfg);
    recint_dataset_free(ds);
    recint_dataset_free(kept);
    recint_dataset_free(train);
    recint_dataset_free(test);
}
END_TEST

/* ------------------------------------------------------------ MovieLens */

static double weight_sum(const recint_dataset *ds)
{
    const float *ws;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &ws, NULL));
    double s = 0;
    for (uint64_t e = 0; e < recint_dataset_n_interactions(ds); e++)
        s += ws[e];
    return s;
}

/* Counts checked with awk: 100000 rows, 943 distinct users, 1682 items, no repeated
 * pairs, ratings summing to 352986. */
START_TEST(movielens_100k)
{
    char path[1024];
    if (!ri_test_dataset_file("ml-100k/u.data", path, sizeof path))
        return;
    recint_dataset *ds = fresh(NULL);
    RI_OK(recint_dataset_load(ds, path, NULL));
    expect_counts(ds, 100000, 943, 1682);
    ck_assert(weight_sum(ds) == 352986.0);
    expect_row(ds, 196, 242, 3.0f, 881250949); /* first line of u.data */
    recint_dataset_free(ds);
}
END_TEST

/* awk: 100836 rows after the header, 610 users, 9724 items, ratings sum 353083. */
START_TEST(movielens_latest_small)
{
    char path[1024];
    if (!ri_test_dataset_file("ml-latest-small/ratings.csv", path, sizeof path))
        return;
    recint_dataset *ds = fresh(NULL);
    RI_OK(recint_dataset_load(ds, path, NULL));
    expect_counts(ds, 100836, 610, 9724);
    ck_assert(weight_sum(ds) == 353083.0);
    expect_row(ds, 1, 1, 4.0f, 964982703);
    recint_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loader");
    TCase *fmt = tcase_create("formats");
    tcase_add_test(fmt, tab_basic);
    tcase_add_test(fmt, every_delimiter);
    tcase_add_test(fmt, wrong_delimiter_fails);
    tcase_add_test(fmt, header_auto);
    tcase_add_test(fmt, header_yes_no);
    tcase_add_test(fmt, header_auto_malformed_first_line);
    tcase_add_test(fmt, column_variants);
    tcase_add_test(fmt, column_spec_errors);
    tcase_add_test(fmt, string_ids);
    tcase_add_test(fmt, tab_string_ids_keep_blanks);
    tcase_add_test(fmt, long_string_ids);
    tcase_add_test(fmt, crlf_and_empty_lines);
    tcase_add_test(fmt, timestamps);
    tcase_add_test(fmt, duplicates_merge);
    suite_add_tcase(s, fmt);
    TCase *err = tcase_create("errors");
    tcase_add_test(err, malformed_lines);
    tcase_add_test(err, atomic_on_failure);
    tcase_add_test(err, bad_arguments);
    tcase_add_test(err, missing_file);
    tcase_add_test(err, file_messages_name_path);
    suite_add_tcase(s, err);
    TCase *files = tcase_create("files");
    tcase_add_test(files, big_file_blocks);
    tcase_add_test(files, save_load_int);
    tcase_add_test(files, save_load_strings);
    tcase_add_test(files, save_errors);
    tcase_add_test(files, locale_independent);
    tcase_add_test(files, concurrent_saves);
    tcase_add_test(files, movielens_100k);
    tcase_add_test(files, movielens_latest_small);
    suite_add_tcase(s, files);
    TCase *self = tcase_create("self-described");
    tcase_add_test(self, round_trip_catalogue_int);
    tcase_add_test(self, round_trip_catalogue_strings);
    tcase_add_test(self, round_trip_empty);
    tcase_add_test(self, self_described_into_existing);
    tcase_add_test(self, self_described_atomic);
    tcase_add_test(self, self_described_damaged);
    tcase_add_test(self, plain_files_unchanged);
    tcase_add_test(self, choices_by_position);
    tcase_add_test(self, movielens_split_round_trip);
    suite_add_tcase(s, self);
    return ri_test_run(s);
}
