/* Feature files: sparse text with known answers and line-numbered errors, .npy
 * headers written byte by byte (valid and damaged), raw float32, and round trips
 * against matrices built by recint_features_new_sparse / _new_dense. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"
#include "util/fileio.h"
#include "testutil.h"

/* A dataset whose users are the given int ids (no interactions). */
static recint_dataset *int_users(const int64_t *ids, size_t n)
{
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_reserve_ids(ds, n, ids, 0, NULL));
    return ds;
}

static void expect_row(const recint_features *f, uint32_t r, const float *want)
{
    uint32_t cols = recint_features_cols(f);
    float got[64];
    ck_assert_uint_le(cols, 64);
    RI_OK(recint_features_row_dense(f, r, got));
    for (uint32_t c = 0; c < cols; c++)
        ck_assert_msg(got[c] == want[c], "row %u col %u: got %g want %g", r, c, got[c], want[c]);
}

static void expect_name(const recint_idmap *names, uint32_t col, const char *want)
{
    const char *got = NULL;
    RI_OK(recint_idmap_id_str(names, col, &got));
    ck_assert_str_eq(got, want);
}

static void expect_message(const char *part)
{
    ck_assert_msg(strstr(recint_last_error(), part), "message '%s' lacks '%s'", recint_last_error(),
                  part);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
}

static int load_text(recint_features **f, recint_idmap **names, const char *text,
                     const recint_idmap *rows, const recint_config *cfg)
{
    return recint_features_load_sparse_buffer(f, names, text, strlen(text), "feat.txt", rows, cfg);
}

START_TEST(sparse_known_answer_int_ids)
{
    const int64_t ids[] = {30, 10, 20, 40}; /* reserved in ascending order: 10 20 30 40 */
    recint_dataset *ds = int_users(ids, 4);
    const recint_idmap *users = recint_dataset_users(ds);
    const char *text = "# user features\n"
                       "\n"
                       "20\tdrama comedy:0.5\n"
                       "10 comedy:2 drama comedy\n"   /* space separated; comedy twice: 2+1 */
                       "99\tnever_seen\n"             /* not in the map: skipped */
                       "   # indented comment\n"
                       "20\tyear:-1.5\r\n"            /* second line of row 20, CRLF, negative */
                       "40\n";                        /* row without features */
    recint_features *f = NULL;
    recint_idmap *names = NULL;
    RI_OK(load_text(&f, &names, text, users, NULL));
    ck_assert_uint_eq(recint_features_rows(f), 4);
    ck_assert_uint_eq(recint_features_cols(f), 3);
    ck_assert_int_eq(recint_idmap_kind(names), RECINT_IDS_STRING);
    ck_assert_uint_eq(recint_idmap_size(names), 3);
    expect_name(names, 0, "drama"); /* first-seen order; never_seen is not interned */
    expect_name(names, 1, "comedy");
    expect_name(names, 2, "year");
    /* rows follow the map's indices: 10 -> 0, 20 -> 1, 30 -> 2, 40 -> 3 */
    expect_row(f, 0, (const float[]){1.0f, 3.0f, 0});
    expect_row(f, 1, (const float[]){1.0f, 0.5f, -1.5f});
    expect_row(f, 2, (const float[]){0, 0, 0});
    expect_row(f, 3, (const float[]){0, 0, 0});
    recint_features_free(f);
    recint_idmap_free(names);

    /* feature_names may be NULL */
    RI_OK(load_text(&f, NULL, text, users, NULL));
    ck_assert_uint_eq(recint_features_cols(f), 3);
    recint_features_free(f);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(sparse_string_ids_and_colon_names)
{
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    const char *items[] = {"m b", "ma"};
    RI_OK(recint_dataset_reserve_ids_str(ds, 0, NULL, 2, items));
    const recint_idmap *map = recint_dataset_items(ds);
    /* with a tab the row id may hold spaces; a name may hold ':' when the weight
     * is written out */
    const char *text = "m b\tgenre:Drama:1 x:0.25\nma\t genre:Drama:3\n";
    recint_features *f = NULL;
    recint_idmap *names = NULL;
    RI_OK(load_text(&f, &names, text, map, NULL));
    ck_assert_uint_eq(recint_features_cols(f), 2);
    expect_name(names, 0, "genre:Drama");
    expect_name(names, 1, "x");
    expect_row(f, 0, (const float[]){1.0f, 0.25f});
    expect_row(f, 1, (const float[]){3.0f, 0});
    recint_features_free(f);
    recint_idmap_free(names);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(sparse_unknown_ids_policy)
{
    const int64_t ids[] = {1, 2};
    recint_dataset *ds = int_users(ids, 2);
    const recint_idmap *users = recint_dataset_users(ds);
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "feature_unknown_ids", "error"));
    recint_features *f = NULL;
    recint_idmap *names = NULL;
    RI_FAILS(RECINT_ENOTFOUND, load_text(&f, &names, "1\ta\n\n7\tb\n", users, cfg));
    expect_message("feat.txt:3:");
    expect_message("'7'");
    ck_assert_ptr_null(f);
    ck_assert_ptr_null(names);
    RI_OK(load_text(&f, &names, "1\ta\n2\tb\n", users, cfg));
    recint_features_free(f);
    recint_idmap_free(names);
    /* skipping everything leaves no feature: an error that says why */
    f = NULL;
    RI_FAILS(RECINT_EFORMAT, load_text(&f, NULL, "5\ta\n6\tb\n", users, NULL));
    expect_message("2 named ids the map does not hold");
    ck_assert_ptr_null(f);
    recint_config_free(cfg);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(sparse_malformed_lines)
{
    const int64_t ids[] = {1, 2};
    recint_dataset *ds = int_users(ids, 2);
    const recint_idmap *users = recint_dataset_users(ds);
    static const struct {
        const char *text, *where, *what;
    } cases[] = {
        {"1\ta\n2\tb:x\n", "feat.txt:2:", "not a number"},
        {"1\ta:\n", "feat.txt:1:", "not a number"},
        {"1\ta\n\n2\tb:nan\n", "feat.txt:3:", "not finite"},
        {"1\tb:inf\n", "feat.txt:1:", "not finite"},
        {"1\tb:-inf\n", "feat.txt:1:", "not finite"},
        {"1\tb:1e39\n", "feat.txt:1:", "outside the float range"},
        {"1\t:2\n", "feat.txt:1:", "empty name"},
        {"1\ta\nabc\tb\n", "feat.txt:2:", "not an integer"},
        {"1\ta\n99999999999999999999\tb\n", "feat.txt:2:", "int64 range"},
        {"\tb\n", "feat.txt:1:", "is empty"},
        {"# only a comment\n\n", "feat.txt:", "no features"},
        {"", "feat.txt:", "no features"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        recint_features *f = NULL;
        recint_idmap *names = NULL;
        int rc = load_text(&f, &names, cases[i].text, users, NULL);
        ck_assert_msg(rc == RECINT_EFORMAT, "case %zu -> %d (%s)", i, rc, recint_last_error());
        expect_message(cases[i].where);
        expect_message(cases[i].what);
        ck_assert_ptr_null(f);
        ck_assert_ptr_null(names);
    }
    /* a NUL byte inside a feature name */
    recint_features *f = NULL;
    RI_FAILS(RECINT_EFORMAT, recint_features_load_sparse_buffer(&f, NULL, "1\ta\0b\n", 6, NULL,
                                                               users, NULL));
    expect_message("<buffer>:1:");
    expect_message("NUL");
    recint_dataset_free(ds);
}
END_TEST

START_TEST(sparse_argument_errors)
{
    const int64_t ids[] = {1};
    recint_dataset *ds = int_users(ids, 1);
    recint_dataset *empty = NULL;
    RI_OK(recint_dataset_new(&empty, NULL));
    recint_features *f = NULL;
    RI_FAILS(RECINT_EINVAL, load_text(NULL, NULL, "1 a\n", recint_dataset_users(ds), NULL));
    RI_FAILS(RECINT_EINVAL, load_text(&f, NULL, "1 a\n", NULL, NULL));
    RI_FAILS(RECINT_EINVAL, load_text(&f, NULL, "1 a\n", recint_dataset_users(empty), NULL));
    expect_message("empty");
    RI_FAILS(RECINT_EINVAL, recint_features_load_sparse_buffer(&f, NULL, NULL, 3, "x",
                                                              recint_dataset_users(ds), NULL));
    RI_FAILS(RECINT_EINVAL, recint_features_load_sparse(&f, NULL, NULL, recint_dataset_users(ds), NULL));
    RI_FAILS(RECINT_EIO, recint_features_load_sparse(&f, NULL, "/nonexistent/feat.txt",
                                                     recint_dataset_users(ds), NULL));
    expect_message("/nonexistent/feat.txt: cannot open");
    ck_assert_ptr_null(f);
    recint_idmap_free(NULL);
    recint_dataset_free(empty);
    recint_dataset_free(ds);
}
END_TEST

/* Random sparse matrix -> text file (external ids 100 + r) -> loaded matrix equals
 * the one recint_features_new_sparse builds from the same CSR; columns appear in
 * the file in first-seen order, so names "f<c>" map back to their columns. */
START_TEST(sparse_round_trip_file)
{
    enum { ROWS = 40, COLS = 13 };
    int64_t ids[ROWS];
    for (int r = 0; r < ROWS; r++)
        ids[r] = 100 + r;
    recint_dataset *ds = int_users(ids, ROWS);
    uint64_t indptr[ROWS + 1] = {0};
    uint32_t indices[ROWS * COLS];
    float weights[ROWS * COLS];
    uint64_t nnz = 0;
    uint32_t state = 12345;
    for (int r = 0; r < ROWS; r++) {
        for (uint32_t c = 0; c < COLS; c++) {
            state = state * 1103515245u + 12345u;
            if ((state >> 16) % 3 == 0) {
                indices[nnz] = c;
                weights[nnz] = (float)((int)((state >> 8) % 200) - 100) / 8.0f;
                nnz++;
            }
        }
        indptr[r + 1] = nnz;
    }
    /* every column once in row 0's position first so first-seen order is 0..COLS-1 */
    char path[512];
    ri_test_tmp("features_rt.txt", path, sizeof path);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "# header comment\n%d", 100);
    for (uint32_t c = 0; c < COLS; c++)
        fprintf(fp, " f%u:0", c);
    fprintf(fp, "\n");
    for (int r = ROWS - 1; r >= 0; r--) { /* rows in reverse: order must not matter */
        fprintf(fp, "%d\t", 100 + r);
        for (uint64_t k = indptr[r]; k < indptr[r + 1]; k++)
            fprintf(fp, "f%u:%.9g ", indices[k], (double)weights[k]);
        fprintf(fp, "\n");
    }
    ck_assert_int_eq(fclose(fp), 0);

    recint_features *want = NULL, *got = NULL;
    recint_idmap *names = NULL;
    RI_OK(recint_features_new_sparse(&want, ROWS, COLS, indptr, indices, weights));
    RI_OK(recint_features_load_sparse(&got, &names, path, recint_dataset_users(ds), NULL));
    ck_assert_uint_eq(recint_features_rows(got), ROWS);
    ck_assert_uint_eq(recint_features_cols(got), COLS);
    for (uint32_t c = 0; c < COLS; c++) {
        char name[16];
        snprintf(name, sizeof name, "f%u", c);
        expect_name(names, c, name);
    }
    for (uint32_t r = 0; r < ROWS; r++) {
        float a[COLS], b[COLS];
        RI_OK(recint_features_row_dense(want, r, a));
        RI_OK(recint_features_row_dense(got, r, b));
        ck_assert_msg(memcmp(a, b, sizeof a) == 0, "row %u differs", r);
    }
    recint_features_free(want);
    recint_features_free(got);
    recint_idmap_free(names);
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ npy */

/* .npy bytes: magic, version, header length, dict padded to a multiple of 64
 * with spaces and '\n', then data. Returns the length written into buf. */
static size_t npy_bytes(unsigned char *buf, size_t cap, int major, const char *dict,
                        const void *data, size_t data_len)
{
    size_t len_bytes = major == 1 ? 2 : 4, pre = 8 + len_bytes, dl = strlen(dict);
    size_t total = pre + dl + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - pre;
    ck_assert_uint_le(padded + data_len, cap);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < len_bytes; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', hlen - dl - 1);
    buf[padded - 1] = '\n';
    if (data_len)
        memcpy(buf + padded, data, data_len);
    return padded + data_len;
}

static const float F4[6] = {1.0f, -2.5f, 0.0f, 3.25f, 1e-3f, 7.0f}; /* 3 x 2 (or 2 x 3) */

START_TEST(npy_known_answers_and_round_trip)
{
    const int64_t ids[] = {5, 6, 7};
    recint_dataset *ds = int_users(ids, 3);
    const recint_idmap *users = recint_dataset_users(ds);
    char path[512];
    ri_test_tmp("features.npy", path, sizeof path);
    unsigned char buf[512];
    recint_features *want = NULL, *got = NULL;
    RI_OK(recint_features_new_dense(&want, 3, 2, F4, 2));

    /* version 1, float32, keys in numpy's order */
    size_t n = npy_bytes(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                         F4, sizeof F4);
    write_file(path, buf, n);
    RI_OK(recint_features_load_npy(&got, path, users));
    ck_assert_uint_eq(recint_features_rows(got), 3);
    ck_assert_uint_eq(recint_features_cols(got), 2);
    for (uint32_t r = 0; r < 3; r++)
        expect_row(got, r, F4 + 2 * r);
    recint_features_free(got);

    /* version 2, float64, keys in another order, double quotes, rows NULL */
    double f8[6];
    for (int i = 0; i < 6; i++)
        f8[i] = F4[i];
    n = npy_bytes(buf, sizeof buf, 2, "{\"shape\": (3,2), \"fortran_order\": False, \"descr\": \"<f8\"}",
                  f8, sizeof f8);
    write_file(path, buf, n);
    RI_OK(recint_features_load_npy(&got, path, NULL));
    for (uint32_t r = 0; r < 3; r++) {
        float a[2], b[2];
        RI_OK(recint_features_row_dense(want, r, a));
        RI_OK(recint_features_row_dense(got, r, b));
        ck_assert(memcmp(a, b, sizeof a) == 0);
    }
    recint_features_free(got);
    recint_features_free(want);
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(npy_damaged_headers)
{
    const int64_t ids[] = {5, 6, 7};
    recint_dataset *ds = int_users(ids, 3);
    const recint_idmap *users = recint_dataset_users(ds);
    char path[512];
    ri_test_tmp("damaged.npy", path, sizeof path);
    static const struct {
        const char *dict;
        size_t data_len;
        int code;
        const char *what;
    } cases[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }", 24, RECINT_EUNSUPPORTED, "dtype '>f4'"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", 24, RECINT_EUNSUPPORTED, "dtype '<i4'"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", 24, RECINT_EUNSUPPORTED, "Fortran"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, 2), }", 24, RECINT_EFORMAT, "neither True"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24, RECINT_EUNSUPPORTED, "1 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2), }", 24, RECINT_EUNSUPPORTED, "3 dimensions"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", 0, RECINT_EFORMAT, "outside"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, -2), }", 24, RECINT_EFORMAT, "non-negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 20, RECINT_EFORMAT, "truncated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 28, RECINT_EFORMAT, "needs 24 bytes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 16, RECINT_EINVAL, "id map holds 3"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 1), }", 24, RECINT_EFORMAT, "outside"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967295, 4294967295), }", 24, RECINT_EFORMAT, "overflows"},
        {"{'descr': '<f4', 'fortran_order': False}", 24, RECINT_EFORMAT, "no 'shape'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 2)}", 24, RECINT_EFORMAT, "twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'x': 1}", 24, RECINT_EFORMAT, "unknown key"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (3, 2)}", 24, RECINT_EFORMAT, "expected ','"},
        {"{'descr': \"<f4', 'fortran_order': False, 'shape': (3, 2)}", 24, RECINT_EFORMAT, "unterminated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2)} x", 24, RECINT_EFORMAT, "padding"},
        {"['descr', '<f4']", 24, RECINT_EFORMAT, "expected '{'"},
    };
    unsigned char buf[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char data[32] = {0};
        memcpy(data, F4, sizeof F4);
        size_t n = npy_bytes(buf, sizeof buf, 1, cases[i].dict, data, cases[i].data_len);
        write_file(path, buf, n);
        recint_features *f = NULL;
        int rc = recint_features_load_npy(&f, path, users);
        ck_assert_msg(rc == cases[i].code, "case %zu -> %d, want %d (%s)", i, rc, cases[i].code,
                      recint_last_error());
        expect_message(cases[i].what);
        ck_assert_ptr_null(f);
    }
    /* byte-level damage of a valid file */
    size_t n = npy_bytes(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                         F4, sizeof F4);
    recint_features *f = NULL;
    unsigned char bad[512];
    memcpy(bad, buf, n);
    bad[1] = 'X'; /* magic */
    write_file(path, bad, n);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    expect_message("magic");
    memcpy(bad, buf, n);
    bad[6] = 3; /* version 3.0 */
    write_file(path, bad, n);
    RI_FAILS(RECINT_EUNSUPPORTED, recint_features_load_npy(&f, path, users));
    expect_message("version 3.0");
    memcpy(bad, buf, n);
    bad[7] = 1; /* version 1.1 */
    write_file(path, bad, n);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    memcpy(bad, buf, n);
    bad[8] = 0xff; /* header length past the end */
    bad[9] = 0xff;
    write_file(path, bad, n);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    expect_message("runs past the end");
    write_file(path, buf, 9); /* cut inside the length field */
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    write_file(path, buf, 4);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    /* non-finite data, and a float64 that overflows float32 */
    float nan_data[6];
    memcpy(nan_data, F4, sizeof nan_data);
    nan_data[3] = NAN;
    n = npy_bytes(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
                  nan_data, sizeof nan_data);
    write_file(path, buf, n);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    expect_message("row 1 column 1 is not finite");
    double big[6] = {0, 0, 0, 0, 1e300, 0};
    n = npy_bytes(buf, sizeof buf, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
                  big, sizeof big);
    write_file(path, buf, n);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_npy(&f, path, users));
    expect_message("row 2 column 0 is not finite as a float");
    ck_assert_ptr_null(f);
    /* arguments and I/O */
    RI_FAILS(RECINT_EINVAL, recint_features_load_npy(NULL, path, users));
    RI_FAILS(RECINT_EINVAL, recint_features_load_npy(&f, NULL, users));
    RI_FAILS(RECINT_EIO, recint_features_load_npy(&f, "/nonexistent/x.npy", users));
    RI_FAILS(RECINT_EIO, recint_features_load_npy(&f, "/tmp", users));
    expect_message("not a regular file (directory)"); /* FIFOs and devices: test_util */
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ raw */

START_TEST(raw_round_trip_and_errors)
{
    const int64_t ids[] = {1, 2, 3};
    recint_dataset *ds = int_users(ids, 3);
    const recint_idmap *users = recint_dataset_users(ds);
    char path[512];
    ri_test_tmp("features.f32", path, sizeof path);
    /* little-endian bytes written explicitly, independent of the host */
    unsigned char bytes[sizeof F4];
    for (int i = 0; i < 6; i++) {
        uint32_t u;
        memcpy(&u, &F4[i], 4);
        for (int b = 0; b < 4; b++)
            bytes[4 * i + b] = (unsigned char)(u >> (8 * b));
    }
    write_file(path, bytes, sizeof bytes);
    recint_features *f = NULL;
    RI_OK(recint_features_load_raw(&f, path, 2, users));
    ck_assert_uint_eq(recint_features_rows(f), 3);
    ck_assert_uint_eq(recint_features_cols(f), 2);
    for (uint32_t r = 0; r < 3; r++)
        expect_row(f, r, F4 + 2 * r);
    recint_features_free(f);
    f = NULL;
    RI_OK(recint_features_load_raw(&f, path, 3, NULL)); /* 2 x 3 without a map */
    ck_assert_uint_eq(recint_features_rows(f), 2);
    expect_row(f, 1, F4 + 3);
    recint_features_free(f);
    f = NULL;
    RI_FAILS(RECINT_EINVAL, recint_features_load_raw(&f, path, 3, users));
    expect_message("id map holds 3");
    RI_FAILS(RECINT_EFORMAT, recint_features_load_raw(&f, path, 4, NULL));
    expect_message("not a whole number of rows");
    RI_FAILS(RECINT_EINVAL, recint_features_load_raw(&f, path, 0, NULL));
    RI_FAILS(RECINT_EINVAL, recint_features_load_raw(NULL, path, 2, NULL));
    write_file(path, bytes, 0);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_raw(&f, path, 2, NULL));
    expect_message("empty file");
    float inf[2] = {1.0f, INFINITY};
    write_file(path, inf, sizeof inf); /* the tests run on little-endian hosts only */
    RI_FAILS(RECINT_EFORMAT, recint_features_load_raw(&f, path, 2, NULL));
    expect_message("row 0 column 1 is not finite");
    RI_FAILS(RECINT_EIO, recint_features_load_raw(&f, "/nonexistent/x.f32", 2, NULL));
    ck_assert_ptr_null(f);
    unlink(path);
    recint_dataset_free(ds);
}
END_TEST

/* Files larger than the loaders' read chunk (1 MiB): values keep their place
 * across chunk boundaries and an error in a later chunk names the right cell. */
START_TEST(dense_across_read_chunks)
{
    enum { ROWS = 100000, COLS = 3, N = ROWS * COLS };
    char path[512];
    ri_test_tmp("chunks.bin", path, sizeof path);
    float *f4 = malloc(N * sizeof *f4);
    double *f8 = malloc(N * sizeof *f8);
    unsigned char *buf = malloc(256 + N * sizeof *f8);
    ck_assert(f4 && f8 && buf);
    for (int i = 0; i < N; i++) {
        f4[i] = (float)i * 0.5f;
        f8[i] = (double)i * 0.25;
    }
    write_file(path, f4, N * sizeof *f4); /* little-endian hosts, as above */
    recint_features *f = NULL;
    float row[COLS];
    RI_OK(recint_features_load_raw(&f, path, COLS, NULL));
    ck_assert_uint_eq(recint_features_rows(f), ROWS);
    for (uint32_t r = 0; r < ROWS; r += 9973) {
        RI_OK(recint_features_row_dense(f, r, row));
        for (int c = 0; c < COLS; c++)
            ck_assert_float_eq(row[c], (float)(r * COLS + c) * 0.5f);
    }
    RI_OK(recint_features_row_dense(f, ROWS - 1, row));
    ck_assert_float_eq(row[COLS - 1], (float)(N - 1) * 0.5f);
    recint_features_free(f);
    f = NULL;

    size_t n = npy_bytes(buf, 256 + N * sizeof *f8, 2,
                         "{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 3), }", f8,
                         N * sizeof *f8);
    write_file(path, buf, n);
    RI_OK(recint_features_load_npy(&f, path, NULL));
    RI_OK(recint_features_row_dense(f, 65536, row)); /* past the first chunk of 131072 doubles */
    ck_assert_float_eq(row[1], (float)((65536.0 * COLS + 1) * 0.25));
    recint_features_free(f);
    f = NULL;

    f4[270001] = NAN; /* in the second 1 MiB chunk (262144 floats) */
    write_file(path, f4, N * sizeof *f4);
    RI_FAILS(RECINT_EFORMAT, recint_features_load_raw(&f, path, COLS, NULL));
    expect_message("row 90000 column 1 is not finite");
    ck_assert_ptr_null(f);
    free(f4);
    free(f8);
    free(buf);
    unlink(path);
}
END_TEST

/* The shared line reader: lines across block boundaries are not the point here
 * (test_loader covers them); BOM, CRLF and a missing final newline are. */
static int collect(void *ctx, const char *s, size_t n, uint64_t line)
{
    char *out = ctx;
    char buf[64];
    snprintf(buf, sizeof buf, "%llu[%.*s]", (unsigned long long)line, (int)n, s);
    strcat(out, buf);
    return line == 4 ? RECINT_ECANCELED : RECINT_OK;
}

START_TEST(line_reader)
{
    char out[256] = "";
    static const char text[] = "\xEF\xBB\xBF" "a\r\nb\n\n";
    RI_OK(ri_read_lines_buffer(text, sizeof text - 1, collect, out));
    ck_assert_str_eq(out, "1[a]2[b]3[]");
    /* the callback's failure stops the reading and is returned; the last line
     * counts without a final newline */
    out[0] = '\0';
    ck_assert_int_eq(ri_read_lines_buffer("x\ny\n\nz", 7, collect, out), RECINT_ECANCELED);
    ck_assert_str_eq(out, "1[x]2[y]3[]4[z]");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("features_load");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, sparse_known_answer_int_ids);
    tcase_add_test(tc, sparse_string_ids_and_colon_names);
    tcase_add_test(tc, sparse_unknown_ids_policy);
    tcase_add_test(tc, sparse_malformed_lines);
    tcase_add_test(tc, sparse_argument_errors);
    tcase_add_test(tc, sparse_round_trip_file);
    tcase_add_test(tc, npy_known_answers_and_round_trip);
    tcase_add_test(tc, npy_damaged_headers);
    tcase_add_test(tc, raw_round_trip_and_errors);
    tcase_add_test(tc, dense_across_read_chunks);
    tcase_add_test(tc, line_reader);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
