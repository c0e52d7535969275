/* Feature matrices: sparse CSR, dense and implicit identity blocks, and their
 * side-by-side concatenation (layout in features_internal.h). */
#include "data/features_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"

static void block_release(ri_feat_block *b)
{
    free(b->indptr);
    free(b->indices);
    free(b->weights);
    free(b->data);
    memset(b, 0, sizeof *b);
}

RECINT_API void recint_features_free(recint_features *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_blocks; i++)
        block_release(&f->blocks[i]);
    free(f->blocks);
    free(f);
}

/* A one-block matrix whose block the caller fills; ENOMEM leaves nothing behind. */
static int features_alloc_single(recint_features **out, uint32_t rows, uint32_t cols, int kind)
{
    recint_features *f = RI_NEW_ZEROED(recint_features, 1);
    if (!f)
        return RECINT_ENOMEM;
    f->blocks = RI_NEW_ZEROED(ri_feat_block, 1);
    if (!f->blocks) {
        free(f);
        return RECINT_ENOMEM;
    }
    f->rows = rows;
    f->cols = cols;
    f->n_blocks = 1;
    f->blocks[0].kind = kind;
    f->blocks[0].cols = cols;
    *out = f;
    return RECINT_OK;
}

static int check_shape(const char *what, uint32_t rows, uint32_t cols)
{
    if (rows == 0 || cols == 0)
        return ri_error(RECINT_EINVAL, "%s: a feature matrix needs rows >= 1 and cols >= 1, got %u x %u",
                        what, rows, cols);
    return RECINT_OK;
}

static int validate_sparse(uint32_t rows, uint32_t cols, const uint64_t *indptr,
                           const uint32_t *indices, const float *weights)
{
    if (indptr[0] != 0)
        return ri_error(RECINT_EINVAL, "features_new_sparse: indptr[0] must be 0, got %llu",
                        (unsigned long long)indptr[0]);
    for (uint32_t r = 0; r < rows; r++)
        if (indptr[r + 1] < indptr[r])
            return ri_error(RECINT_EINVAL,
                            "features_new_sparse: indptr not monotone at row %u (%llu then %llu)", r,
                            (unsigned long long)indptr[r], (unsigned long long)indptr[r + 1]);
    uint64_t nnz = indptr[rows];
    if (nnz > SIZE_MAX / sizeof(uint64_t))
        return ri_error(RECINT_ENOMEM, "features_new_sparse: %llu entries do not fit in memory",
                        (unsigned long long)nnz);
    if (nnz > 0 && !indices)
        return ri_error(RECINT_EINVAL, "features_new_sparse: indices is NULL with %llu entries",
                        (unsigned long long)nnz);
    for (uint32_t r = 0; r < rows; r++)
        for (uint64_t k = indptr[r]; k < indptr[r + 1]; k++) {
            if (indices[k] >= cols)
                return ri_error(RECINT_EINVAL,
                                "features_new_sparse: row %u entry %llu has column %u >= cols %u", r,
                                (unsigned long long)k, indices[k], cols);
            if (weights && !isfinite(weights[k]))
                return ri_error(RECINT_EINVAL,
                                "features_new_sparse: row %u entry %llu (column %u) has a non-finite weight",
                                r, (unsigned long long)k, indices[k]);
        }
    return RECINT_OK;
}

typedef struct {
    uint32_t col;
    uint32_t pos; /* position within the row in the input, keeps the sort stable */
} col_pos;

static int cmp_col_pos(const void *a, const void *b)
{
    const col_pos *x = a, *y = b;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Sort each row by column and sum repeated columns (in input order, so the result is
 * reproducible). Writes the merged CSR into indptr_out/indices_out/weights_out. */
static int sort_and_merge(uint32_t rows, const uint64_t *indptr, const uint32_t *indices,
                          const float *weights, uint64_t *indptr_out, uint32_t *indices_out,
                          float *weights_out)
{
    uint64_t longest = 0;
    for (uint32_t r = 0; r < rows; r++)
        if (indptr[r + 1] - indptr[r] > longest)
            longest = indptr[r + 1] - indptr[r];
    if (longest > UINT32_MAX)
        return ri_error(RECINT_EINVAL, "features_new_sparse: a row holds %llu entries (max %u)",
                        (unsigned long long)longest, UINT32_MAX);
    col_pos *scratch = RI_NEW_ARRAY(col_pos, (size_t)(longest ? longest : 1));
    if (!scratch)
        return RECINT_ENOMEM;
    uint64_t w = 0;
    indptr_out[0] = 0;
    for (uint32_t r = 0; r < rows; r++) {
        uint64_t b = indptr[r];
        uint32_t n = (uint32_t)(indptr[r + 1] - b);
        for (uint32_t k = 0; k < n; k++) {
            scratch[k].col = indices[b + k];
            scratch[k].pos = k;
        }
        qsort(scratch, n, sizeof *scratch, cmp_col_pos);
        for (uint32_t k = 0; k < n; k++) {
            float v = weights ? weights[b + scratch[k].pos] : 1.0f;
            if (w > indptr_out[r] && indices_out[w - 1] == scratch[k].col) {
                weights_out[w - 1] += v;
                if (!isfinite(weights_out[w - 1])) {
                    uint32_t col = scratch[k].col;
                    free(scratch);
                    return ri_error(RECINT_EINVAL,
                                    "features_new_sparse: repeated entries of row %u column %u sum to a non-finite value",
                                    r, col);
                }
            } else {
                indices_out[w] = scratch[k].col;
                weights_out[w] = v;
                w++;
            }
        }
        indptr_out[r + 1] = w;
    }
    free(scratch);
    return RECINT_OK;
}

RECINT_API int recint_features_new_sparse(recint_features **out, uint32_t rows, uint32_t cols,
                                          const uint64_t *indptr, const uint32_t *indices,
                                          const float *weights)
{
    if (!out || !indptr)
        return ri_error(RECINT_EINVAL, "features_new_sparse: %s is NULL", out ? "indptr" : "out");
    int rc = check_shape("features_new_sparse", rows, cols);
    if (rc == RECINT_OK)
        rc = validate_sparse(rows, cols, indptr, indices, weights);
    if (rc != RECINT_OK)
        return rc;
    size_t nnz = (size_t)indptr[rows];
    recint_features *f;
    if ((rc = features_alloc_single(&f, rows, cols, RI_FEAT_SPARSE)) != RECINT_OK)
        return rc;
    ri_feat_block *b = &f->blocks[0];
    b->indptr = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
    b->indices = RI_NEW_ARRAY(uint32_t, nnz);
    b->weights = RI_NEW_ARRAY(float, nnz);
    if (!b->indptr || !b->indices || !b->weights) {
        recint_features_free(f);
        return ri_error(RECINT_ENOMEM, "features_new_sparse: cannot allocate %zu entries", nnz);
    }
    rc = sort_and_merge(rows, indptr, indices, weights, b->indptr, b->indices, b->weights);
    if (rc != RECINT_OK) {
        recint_features_free(f);
        return rc;
    }
    *out = f;
    return RECINT_OK;
}

RECINT_API int recint_features_new_dense(recint_features **out, uint32_t rows, uint32_t cols,
                                         const float *data, size_t row_stride)
{
    if (!out || !data)
        return ri_error(RECINT_EINVAL, "features_new_dense: %s is NULL", out ? "data" : "out");
    int rc = check_shape("features_new_dense", rows, cols);
    if (rc != RECINT_OK)
        return rc;
    if (row_stride < cols)
        return ri_error(RECINT_EINVAL, "features_new_dense: row_stride %zu < cols %u", row_stride, cols);
    /* Both the copy (rows * cols) and the input span ((rows - 1) * stride + cols
     * floats) must be addressable. */
    size_t copy_n, copy_bytes, span, span_bytes;
    if (ri_mul_overflow(rows, cols, &copy_n) || ri_mul_overflow(copy_n, sizeof(float), &copy_bytes) ||
        ri_mul_overflow((size_t)rows - 1, row_stride, &span) || span > SIZE_MAX - cols ||
        ri_mul_overflow(span + cols, sizeof(float), &span_bytes))
        return ri_error(RECINT_ENOMEM, "features_new_dense: %u x %u (stride %zu) overflows memory sizes",
                        rows, cols, row_stride);
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++)
            if (!isfinite(data[(size_t)r * row_stride + c]))
                return ri_error(RECINT_EINVAL, "features_new_dense: value at row %u column %u is not finite",
                                r, c);
    recint_features *f;
    if ((rc = features_alloc_single(&f, rows, cols, RI_FEAT_DENSE)) != RECINT_OK)
        return rc;
    float *copy = ri_malloc_array((size_t)rows * cols, sizeof(float));
    if (!copy) {
        recint_features_free(f);
        return RECINT_ENOMEM;
    }
    for (uint32_t r = 0; r < rows; r++)
        memcpy(copy + (size_t)r * cols, data + (size_t)r * row_stride, (size_t)cols * sizeof(float));
    f->blocks[0].data = copy;
    *out = f;
    return RECINT_OK;
}

int ri_features_adopt_dense(recint_features **out, uint32_t rows, uint32_t cols, float *data)
{
    int rc = check_shape("features (dense)", rows, cols);
    if (rc != RECINT_OK)
        return rc;
    recint_features *f;
    if ((rc = features_alloc_single(&f, rows, cols, RI_FEAT_DENSE)) != RECINT_OK)
        return rc;
    f->blocks[0].data = data;
    *out = f;
    return RECINT_OK;
}

RECINT_API int recint_features_identity(recint_features **out, uint32_t n)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "features_identity: out is NULL");
    int rc = check_shape("features_identity", n, n);
    if (rc != RECINT_OK)
        return rc;
    return features_alloc_single(out, n, n, RI_FEAT_IDENTITY);
}

static int block_copy(ri_feat_block *dst, const ri_feat_block *src, uint32_t rows, uint32_t offset)
{
    memset(dst, 0, sizeof *dst);
    dst->kind = src->kind;
    dst->cols = src->cols;
    dst->col_offset = offset;
    if (src->kind == RI_FEAT_SPARSE) {
        size_t nnz = (size_t)src->indptr[rows];
        dst->indptr = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
        dst->indices = RI_NEW_ARRAY(uint32_t, nnz);
        dst->weights = RI_NEW_ARRAY(float, nnz);
        if (!dst->indptr || !dst->indices || !dst->weights)
            return RECINT_ENOMEM;
        memcpy(dst->indptr, src->indptr, ((size_t)rows + 1) * sizeof(uint64_t));
        if (nnz) {
            memcpy(dst->indices, src->indices, nnz * sizeof(uint32_t));
            memcpy(dst->weights, src->weights, nnz * sizeof(float));
        }
    } else if (src->kind == RI_FEAT_DENSE) {
        size_t n = (size_t)rows * src->cols;
        dst->data = RI_NEW_ARRAY(float, n);
        if (!dst->data)
            return RECINT_ENOMEM;
        memcpy(dst->data, src->data, n * sizeof(float));
    }
    return RECINT_OK;
}

RECINT_API int recint_features_hstack(recint_features **out, const recint_features *const *parts,
                                      size_t n_parts)
{
    if (!out || !parts)
        return ri_error(RECINT_EINVAL, "features_hstack: %s is NULL", out ? "parts" : "out");
    if (n_parts == 0)
        return ri_error(RECINT_EINVAL, "features_hstack: no parts");
    uint64_t cols = 0;
    size_t n_blocks = 0;
    for (size_t p = 0; p < n_parts; p++) {
        if (!parts[p])
            return ri_error(RECINT_EINVAL, "features_hstack: part %zu is NULL", p);
        if (parts[p]->rows != parts[0]->rows)
            return ri_error(RECINT_EINVAL, "features_hstack: part %zu has %u rows, part 0 has %u", p,
                            parts[p]->rows, parts[0]->rows);
        cols += parts[p]->cols;
        n_blocks += parts[p]->n_blocks;
    }
    if (cols > UINT32_MAX)
        return ri_error(RECINT_EINVAL, "features_hstack: %llu columns in total (max %u)",
                        (unsigned long long)cols, UINT32_MAX);
    uint32_t rows = parts[0]->rows;
    recint_features *f = RI_NEW_ZEROED(recint_features, 1);
    if (!f)
        return RECINT_ENOMEM;
    f->blocks = RI_NEW_ZEROED(ri_feat_block, n_blocks);
    if (!f->blocks) {
        free(f);
        return RECINT_ENOMEM;
    }
    f->rows = rows;
    f->cols = (uint32_t)cols;
    f->n_blocks = n_blocks;
    size_t next = 0;
    uint32_t offset = 0;
    for (size_t p = 0; p < n_parts; p++)
        for (size_t i = 0; i < parts[p]->n_blocks; i++) {
            const ri_feat_block *src = &parts[p]->blocks[i];
            if (block_copy(&f->blocks[next++], src, rows, offset) != RECINT_OK) {
                recint_features_free(f);
                return ri_error(RECINT_ENOMEM, "features_hstack: cannot copy part %zu", p);
            }
            offset += src->cols;
        }
    *out = f;
    return RECINT_OK;
}

RECINT_API uint32_t recint_features_rows(const recint_features *f) { return f ? f->rows : 0; }

RECINT_API uint32_t recint_features_cols(const recint_features *f) { return f ? f->cols : 0; }

RECINT_API int recint_features_row_dense(const recint_features *f, uint32_t r, float *out)
{
    if (!f || !out)
        return ri_error(RECINT_EINVAL, "features_row_dense: %s is NULL", f ? "out" : "features");
    if (r >= f->rows)
        return ri_error(RECINT_ERANGE, "features_row_dense: row %u >= rows %u", r, f->rows);
    memset(out, 0, (size_t)f->cols * sizeof(float));
    for (size_t i = 0; i < f->n_blocks; i++) {
        const ri_feat_block *b = &f->blocks[i];
        float *dst = out + b->col_offset;
        switch (b->kind) {
        case RI_FEAT_SPARSE:
            for (uint64_t k = b->indptr[r]; k < b->indptr[r + 1]; k++)
                dst[b->indices[k]] = b->weights[k];
            break;
        case RI_FEAT_DENSE:
            memcpy(dst, b->data + (size_t)r * b->cols, (size_t)b->cols * sizeof(float));
            break;
        default:
            dst[r] = 1.0f;
            break;
        }
    }
    return RECINT_OK;
}
