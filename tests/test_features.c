/* Feature matrices: values of every block kind read back by hand, hstack layout,
 * and every validation error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/features_internal.h"
#include "testutil.h"

static void expect_row(const recint_features *f, uint32_t r, const float *want, uint32_t cols)
{
    float got[32];
    ck_assert_uint_le(cols, 32);
    for (uint32_t c = 0; c < cols; c++)
        got[c] = -99.0f; /* row_dense must overwrite every column */
    RI_OK(recint_features_row_dense(f, r, got));
    for (uint32_t c = 0; c < cols; c++)
        ck_assert_msg(got[c] == want[c], "row %u col %u: got %g want %g", r, c, got[c], want[c]);
}

START_TEST(sparse_values)
{
    /* 3 x 4:  row0 = {1: 2.0, 3: 0.5}, row1 empty, row2 = {0: -1.0} */
    const uint64_t ptr[] = {0, 2, 2, 3};
    const uint32_t idx[] = {1, 3, 0};
    const float w[] = {2.0f, 0.5f, -1.0f};
    recint_features *f = NULL;
    RI_OK(recint_features_new_sparse(&f, 3, 4, ptr, idx, w));
    ck_assert_uint_eq(recint_features_rows(f), 3);
    ck_assert_uint_eq(recint_features_cols(f), 4);
    expect_row(f, 0, (const float[]){0, 2.0f, 0, 0.5f}, 4);
    expect_row(f, 1, (const float[]){0, 0, 0, 0}, 4);
    expect_row(f, 2, (const float[]){-1.0f, 0, 0, 0}, 4);
    recint_features_free(f);
}
END_TEST

START_TEST(sparse_unsorted_rows_sorted_and_repeats_summed)
{
    /* row0 given as cols 3,1,3 -> stored 1:1, 3:(2+4) ; weights NULL means 1 */
    const uint64_t ptr[] = {0, 3, 5};
    const uint32_t idx[] = {3, 1, 3, 2, 0};
    const float w[] = {2.0f, 1.0f, 4.0f, 7.0f, 8.0f};
    recint_features *f = NULL;
    RI_OK(recint_features_new_sparse(&f, 2, 4, ptr, idx, w));
    const ri_feat_block *b = &f->blocks[0];
    ck_assert_int_eq(b->kind, RI_FEAT_SPARSE);
    ck_assert_uint_eq(b->indptr[1], 2); /* the repeat merged */
    ck_assert_uint_eq(b->indptr[2], 4);
    ck_assert_uint_eq(b->indices[0], 1);
    ck_assert_uint_eq(b->indices[1], 3);
    ck_assert_float_eq(b->weights[1], 6.0f);
    ck_assert_uint_eq(b->indices[2], 0);
    ck_assert_uint_eq(b->indices[3], 2);
    expect_row(f, 0, (const float[]){0, 1.0f, 0, 6.0f}, 4);
    expect_row(f, 1, (const float[]){8.0f, 0, 7.0f, 0}, 4);
    recint_features_free(f);

    RI_OK(recint_features_new_sparse(&f, 2, 4, ptr, idx, NULL));
    expect_row(f, 0, (const float[]){0, 1.0f, 0, 2.0f}, 4);
    expect_row(f, 1, (const float[]){1.0f, 0, 1.0f, 0}, 4);
    recint_features_free(f);
}
END_TEST

START_TEST(sparse_all_empty_rows)
{
    const uint64_t ptr[] = {0, 0, 0};
    recint_features *f = NULL;
    RI_OK(recint_features_new_sparse(&f, 2, 3, ptr, NULL, NULL));
    expect_row(f, 1, (const float[]){0, 0, 0}, 3);
    recint_features_free(f);
}
END_TEST

START_TEST(dense_values_with_stride)
{
    /* 2 x 3 stored with stride 4; the padding column must not be copied */
    const float data[] = {1, 2, 3, 99, 4, 5, 6, 99};
    recint_features *f = NULL;
    RI_OK(recint_features_new_dense(&f, 2, 3, data, 4));
    ck_assert_uint_eq(recint_features_cols(f), 3);
    expect_row(f, 0, (const float[]){1, 2, 3}, 3);
    expect_row(f, 1, (const float[]){4, 5, 6}, 3);
    ck_assert_int_eq(f->blocks[0].kind, RI_FEAT_DENSE);
    ck_assert_float_eq(f->blocks[0].data[3], 4.0f); /* compact copy, stride cols */
    recint_features_free(f);
}
END_TEST

START_TEST(identity_values)
{
    recint_features *f = NULL;
    RI_OK(recint_features_identity(&f, 3));
    ck_assert_uint_eq(recint_features_rows(f), 3);
    ck_assert_uint_eq(recint_features_cols(f), 3);
    ck_assert_int_eq(f->blocks[0].kind, RI_FEAT_IDENTITY);
    ck_assert_ptr_null(f->blocks[0].data);
    ck_assert_ptr_null(f->blocks[0].indptr);
    expect_row(f, 1, (const float[]){0, 1, 0}, 3);
    expect_row(f, 2, (const float[]){0, 0, 1}, 3);
    recint_features_free(f);
    /* implicit: a huge identity costs nothing */
    RI_OK(recint_features_identity(&f, UINT32_MAX));
    ck_assert_uint_eq(recint_features_cols(f), UINT32_MAX);
    recint_features_free(f);
}
END_TEST

START_TEST(hstack_layout_and_flattening)
{
    recint_features *id = NULL, *dn = NULL, *sp = NULL, *ab = NULL, *all = NULL;
    RI_OK(recint_features_identity(&id, 2));
    RI_OK(recint_features_new_dense(&dn, 2, 2, (const float[]){1, 2, 3, 4}, 2));
    const uint64_t ptr[] = {0, 1, 2};
    RI_OK(recint_features_new_sparse(&sp, 2, 3, ptr, (const uint32_t[]){2, 0},
                                     (const float[]){5, 6}));
    const recint_features *p1[] = {id, dn};
    RI_OK(recint_features_hstack(&ab, p1, 2));
    const recint_features *p2[] = {ab, sp};
    RI_OK(recint_features_hstack(&all, p2, 2));
    /* the caller keeps its parts: free them before reading the stack */
    recint_features_free(id);
    recint_features_free(dn);
    recint_features_free(sp);
    recint_features_free(ab);

    ck_assert_uint_eq(recint_features_cols(all), 7);
    ck_assert_uint_eq(all->n_blocks, 3); /* flat, not nested */
    ck_assert_int_eq(all->blocks[0].kind, RI_FEAT_IDENTITY);
    ck_assert_int_eq(all->blocks[1].kind, RI_FEAT_DENSE);
    ck_assert_int_eq(all->blocks[2].kind, RI_FEAT_SPARSE);
    ck_assert_uint_eq(all->blocks[0].col_offset, 0);
    ck_assert_uint_eq(all->blocks[1].col_offset, 2);
    ck_assert_uint_eq(all->blocks[2].col_offset, 4);
    ck_assert_uint_eq(ri_feat_block_row_nnz(&all->blocks[1], 0), 2);
    ck_assert_uint_eq(ri_feat_block_row_nnz(&all->blocks[2], 1), 1);
    expect_row(all, 0, (const float[]){1, 0, 1, 2, 0, 0, 5}, 7);
    expect_row(all, 1, (const float[]){0, 1, 3, 4, 6, 0, 0}, 7);
    recint_features_free(all);
}
END_TEST

START_TEST(errors_sparse)
{
    recint_features *f = (recint_features *)0x1;
    const uint32_t idx[] = {0, 1};
    const float w[] = {1, 1};
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(NULL, 1, 2, (const uint64_t[]){0, 2}, idx, w));
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, NULL, idx, w));
    ck_assert(strstr(recint_last_error(), "indptr") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 0, 2, (const uint64_t[]){0}, idx, w));
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 0, (const uint64_t[]){0, 0}, idx, w));
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){1, 2}, idx, w));
    ck_assert(strstr(recint_last_error(), "indptr[0]") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 2, 2, (const uint64_t[]){0, 2, 1}, idx, w));
    ck_assert(strstr(recint_last_error(), "monotone at row 1") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){0, 2},
                                                       (const uint32_t[]){0, 2}, w));
    ck_assert(strstr(recint_last_error(), "column 2 >= cols 2") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){0, 2}, idx,
                                                       (const float[]){1, NAN}));
    ck_assert(strstr(recint_last_error(), "non-finite") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){0, 2}, idx,
                                                       (const float[]){INFINITY, 1}));
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){0, 2}, NULL, w));
    /* two finite repeats whose sum overflows */
    RI_FAILS(RECINT_EINVAL, recint_features_new_sparse(&f, 1, 2, (const uint64_t[]){0, 2},
                                                       (const uint32_t[]){1, 1},
                                                       (const float[]){3e38f, 3e38f}));
    ck_assert(strstr(recint_last_error(), "row 0 column 1") != NULL);
    ck_assert_ptr_eq(f, (recint_features *)0x1); /* untouched on failure */
}
END_TEST

START_TEST(errors_dense_identity_hstack_row)
{
    recint_features *f = (recint_features *)0x1;
    const float d[] = {1, 2, 3, 4};
    RI_FAILS(RECINT_EINVAL, recint_features_new_dense(NULL, 2, 2, d, 2));
    RI_FAILS(RECINT_EINVAL, recint_features_new_dense(&f, 2, 2, NULL, 2));
    RI_FAILS(RECINT_EINVAL, recint_features_new_dense(&f, 2, 2, d, 1));
    ck_assert(strstr(recint_last_error(), "row_stride 1 < cols 2") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_new_dense(&f, 0, 2, d, 2));
    RI_FAILS(RECINT_EINVAL, recint_features_new_dense(&f, 2, 2, (const float[]){1, 2, NAN, 4}, 2));
    ck_assert(strstr(recint_last_error(), "row 1 column 0") != NULL);
    if (sizeof(size_t) == 8) /* rows * stride floats cannot be addressed */
        RI_FAILS(RECINT_ENOMEM, recint_features_new_dense(&f, 3, 2, d, SIZE_MAX / 2));
    RI_FAILS(RECINT_EINVAL, recint_features_identity(NULL, 3));
    RI_FAILS(RECINT_EINVAL, recint_features_identity(&f, 0));
    ck_assert_ptr_eq(f, (recint_features *)0x1);

    recint_features *a = NULL, *b = NULL, *big = NULL;
    RI_OK(recint_features_identity(&a, 2));
    RI_OK(recint_features_identity(&b, 3));
    RI_OK(recint_features_identity(&big, UINT32_MAX));
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(&f, (const recint_features *const[]){a, b}, 2));
    ck_assert(strstr(recint_last_error(), "part 1 has 3 rows") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(&f, (const recint_features *const[]){a, NULL}, 2));
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(&f, (const recint_features *const[]){a}, 0));
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(&f, NULL, 1));
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(NULL, (const recint_features *const[]){a}, 1));
    RI_FAILS(RECINT_EINVAL, recint_features_hstack(&f, (const recint_features *const[]){big, big}, 2));
    ck_assert(strstr(recint_last_error(), "columns in total") != NULL);
    ck_assert_ptr_eq(f, (recint_features *)0x1);

    float out[3];
    RI_FAILS(RECINT_ERANGE, recint_features_row_dense(a, 2, out));
    ck_assert(strstr(recint_last_error(), "row 2 >= rows 2") != NULL);
    RI_FAILS(RECINT_EINVAL, recint_features_row_dense(NULL, 0, out));
    RI_FAILS(RECINT_EINVAL, recint_features_row_dense(a, 0, NULL));
    ck_assert_uint_eq(recint_features_rows(NULL), 0);
    ck_assert_uint_eq(recint_features_cols(NULL), 0);
    recint_features_free(NULL);
    recint_features_free(a);
    recint_features_free(b);
    recint_features_free(big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("features");
    TCase *tc = tcase_create("features");
    tcase_add_test(tc, sparse_values);
    tcase_add_test(tc, sparse_unsorted_rows_sorted_and_repeats_summed);
    tcase_add_test(tc, sparse_all_empty_rows);
    tcase_add_test(tc, dense_values_with_stride);
    tcase_add_test(tc, identity_values);
    tcase_add_test(tc, hstack_layout_and_flattening);
    tcase_add_test(tc, errors_sparse);
    tcase_add_test(tc, errors_dense_identity_hstack_row);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
