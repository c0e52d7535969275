/* Layout of a feature matrix, read by the models that embed features (hybrid).
 *
 * A matrix is a list of blocks placed side by side: block b covers the columns
 * col_offset .. col_offset + cols - 1 of every row. A single sparse, dense or
 * identity matrix is one block; recint_features_hstack concatenates the block lists
 * (an hstack of hstacks is flat), so a model walks the blocks once per row:
 *
 *   sparse:   row r holds (indices[k], weights[k]) for k in indptr[r] .. indptr[r+1]-1,
 *             indices ascending and distinct, local to the block (add col_offset)
 *   dense:    row r is data[r * cols .. r * cols + cols - 1] (contiguous, stride cols)
 *   identity: row r holds the single entry (r, 1.0); rows == cols
 */
#ifndef RI_FEATURES_INTERNAL_H
#define RI_FEATURES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "recint.h"

enum { RI_FEAT_SPARSE = 0, RI_FEAT_DENSE = 1, RI_FEAT_IDENTITY = 2 };

typedef struct ri_feat_block {
    int kind;            /* RI_FEAT_* */
    uint32_t cols;       /* width of the block */
    uint32_t col_offset; /* first column of the block in the whole matrix */
    /* RI_FEAT_SPARSE (NULL otherwise); indices/weights NULL when the block is empty */
    uint64_t *indptr;    /* rows + 1 */
    uint32_t *indices;   /* indptr[rows] */
    float *weights;      /* indptr[rows] */
    /* RI_FEAT_DENSE (NULL otherwise) */
    float *data;         /* rows * cols */
} ri_feat_block;

struct recint_features {
    uint32_t rows, cols; /* cols is the sum of the blocks' widths */
    size_t n_blocks;     /* >= 1 */
    ri_feat_block *blocks;
};

/* Number of stored entries of row r in block b (cols for dense, 1 for identity). */
static inline uint64_t ri_feat_block_row_nnz(const ri_feat_block *b, uint32_t r)
{
    switch (b->kind) {
    case RI_FEAT_SPARSE: return b->indptr[r + 1] - b->indptr[r];
    case RI_FEAT_DENSE: return b->cols;
    default: return 1;
    }
}

/* A one-block dense matrix that takes data (rows * cols finite floats, row-major,
 * from ri_malloc_array) over: the loaders fill the final buffer directly instead
 * of handing a copy to recint_features_new_dense. On failure data stays the
 * caller's. Errors: EINVAL (shape), ENOMEM. */
int ri_features_adopt_dense(recint_features **out, uint32_t rows, uint32_t cols, float *data);

#endif
