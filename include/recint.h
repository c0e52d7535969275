/*
 * librecint — an embeddable C library for recommender systems that model and
 * explore user interests.
 *
 * Conventions (docs/api-guide.md has the long form):
 *   - Objects are opaque handles created by recint_<handle>_new*(&out, ...) and
 *     released by recint_<handle>_free() (NULL is accepted).
 *   - Fallible calls return RECINT_OK (0) or a negative RECINT_E* code; on failure
 *     outputs are untouched, nothing leaks, and recint_last_error() returns a
 *     message with context for the calling thread.
 *   - Users and items are dense uint32_t indices inside; external ids (int64 or
 *     strings) are mapped at the edge by a recint_idmap.
 *   - Caller owns output buffers. Views returned as const pointers stay valid until
 *     the handle they came from is modified or freed.
 *   - Thread-safety: calls taking a const handle may run concurrently on the same
 *     handle; calls taking a non-const handle need exclusive access to it.
 *     docs/threading.md lists the exceptions.
 *   - Two tiers (docs/api-stability.md): the section headed EXPERIMENTAL at the
 *     end may change in any minor release; the rest follows the stability rules.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RECINT_H
#define RECINT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RECINT_BUILDING) && defined(__GNUC__)
#define RECINT_API __attribute__((visibility("default")))
#else
#define RECINT_API
#endif

/* The handles (opaque). */
typedef struct recint_config recint_config;
typedef struct recint_idmap recint_idmap;
typedef struct recint_dataset recint_dataset;
typedef struct recint_features recint_features;
typedef struct recint_model recint_model;
typedef struct recint_trainer recint_trainer;
typedef struct recint_filter recint_filter;

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define RECINT_VERSION_MAJOR 0
#define RECINT_VERSION_MINOR 1
#define RECINT_VERSION_PATCH 0
#define RECINT_VERSION_NUMBER \
    (RECINT_VERSION_MAJOR * 10000 + RECINT_VERSION_MINOR * 100 + RECINT_VERSION_PATCH)

/* Version of the library actually loaded, "MAJOR.MINOR.PATCH". Static string. */
RECINT_API const char *recint_version(void);
/* Same as RECINT_VERSION_NUMBER of the loaded library (compare with the header's). */
RECINT_API int recint_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

#define RECINT_OK            0
#define RECINT_EINVAL       (-1)  /* bad argument: NULL, out of range, NaN, unknown key */
#define RECINT_ENOMEM       (-2)  /* allocation failed or size overflowed */
#define RECINT_EIO          (-3)  /* file could not be opened, read or written */
#define RECINT_EFORMAT      (-4)  /* malformed text line or damaged model file */
#define RECINT_ERANGE       (-5)  /* index or id outside the catalogue */
#define RECINT_ESTATE       (-6)  /* call not valid in the handle's current state */
#define RECINT_ECANCELED    (-7)  /* a progress callback asked to stop */
#define RECINT_EUNSUPPORTED (-8)  /* valid request this build or model kind cannot do */
#define RECINT_ENOTFOUND    (-9)  /* an id or key that does not exist */

/* Static name of a status code ("RECINT_EINVAL: invalid argument"); never NULL. */
RECINT_API const char *recint_strerror(int code);
/* Message of the last failed call on this thread ("" if none). Valid until the
 * next librecint call on this thread. Thread-safe (thread-local storage). */
RECINT_API const char *recint_last_error(void);

/* Progress callback of long calls: step of steps done, loss (NaN if none).
 * Return non-zero to cancel; the call then returns RECINT_ECANCELED. */
typedef int (*recint_progress_fn)(void *ctx, uint32_t step, uint32_t steps, double loss);

/* ------------------------------------------------------------------------ */
/* Configuration: every named parameter, described by one table             */
/* ------------------------------------------------------------------------ */


/* New config holding every key at its default. Free with recint_config_free.
 * Errors: EINVAL (out NULL), ENOMEM. */
RECINT_API int recint_config_new(recint_config **out);
/* Deep copy of src (NULL src gives defaults). Errors: EINVAL, ENOMEM. */
RECINT_API int recint_config_copy(recint_config **out, const recint_config *src);
RECINT_API void recint_config_free(recint_config *cfg);

/* Set key to value parsed from text ("64", "0.05", "warp", "true").
 * Errors: ENOTFOUND unknown key (message lists close keys), EINVAL value of the
 * wrong type, outside bounds or not among the choices (message names them). */
RECINT_API int recint_config_set(recint_config *cfg, const char *key, const char *value);
/* Parse "key=value" (as the CLI's --set does). Errors as recint_config_set. */
RECINT_API int recint_config_set_pair(recint_config *cfg, const char *key_eq_value);
/* Write the value of key as text into buf (capacity cap, always terminated).
 * cfg NULL reads the default. Errors: ENOTFOUND, ERANGE (buf too small). */
RECINT_API int recint_config_get(const recint_config *cfg, const char *key, char *buf, size_t cap);
/* Non-zero when key was set explicitly (not left at its default). */
RECINT_API int recint_config_is_set(const recint_config *cfg, const char *key);

/* Fields of one entry of the parameter table. */
#define RECINT_PARAM_KEY     0  /* "dim" */
#define RECINT_PARAM_TYPE    1  /* "int", "float", "bool", "choice", "string" */
#define RECINT_PARAM_DEFAULT 2  /* default value as text */
#define RECINT_PARAM_RANGE   3  /* "[1, 4096]" or "sum|last|max" or "" */
#define RECINT_PARAM_HELP    4  /* one line of help */
#define RECINT_PARAM_GROUP   5  /* "run", "data", "filter", "split", "model", "train", "serve", "eval", "synthetic" */
#define RECINT_PARAM_OWNER   6  /* who reads it: "core", kinds ("als", "hybrid|sequential"), "explore", "simulate" */
#define RECINT_PARAM_STABILITY 7 /* "stable" or "experimental" (may change between releases) */

/* Number of entries of the parameter table. */
RECINT_API size_t recint_config_count(void);
/* Field of entry index as a static string, or NULL when index or field is out of
 * range. The CLI help, the Python binding and the docs read this table. */
RECINT_API const char *recint_config_describe(size_t index, int field);

/* ------------------------------------------------------------------------ */
/* Id maps: external ids (int64 or strings) <-> dense indices               */
/* ------------------------------------------------------------------------ */


#define RECINT_IDS_NONE   0   /* empty map, kind not fixed yet */
#define RECINT_IDS_INT    1
#define RECINT_IDS_STRING 2

/* Number of ids in the map (0 for NULL). */
RECINT_API uint32_t recint_idmap_size(const recint_idmap *map);
/* RECINT_IDS_INT, RECINT_IDS_STRING or RECINT_IDS_NONE. */
RECINT_API int recint_idmap_kind(const recint_idmap *map);
/* Index of an external id. Errors: ENOTFOUND, EINVAL (wrong id kind, NULL). */
RECINT_API int recint_idmap_index(const recint_idmap *map, int64_t id, uint32_t *out);
RECINT_API int recint_idmap_index_str(const recint_idmap *map, const char *id, uint32_t *out);
/* External id of index. The string stays owned by the map.
 * Errors: ERANGE (index >= size), EINVAL (wrong id kind, NULL). */
RECINT_API int recint_idmap_id(const recint_idmap *map, uint32_t index, int64_t *out);
RECINT_API int recint_idmap_id_str(const recint_idmap *map, uint32_t index, const char **out);

/* ------------------------------------------------------------------------ */
/* Dataset: interactions (user, item, weight, timestamp)                    */
/* ------------------------------------------------------------------------ */


/* Empty dataset. cfg (NULL = defaults) supplies "duplicates" (sum|last|max): how
 * repeated (user, item) pairs merge. Errors: EINVAL, ENOMEM. */
RECINT_API int recint_dataset_new(recint_dataset **out, const recint_config *cfg);
/* Empty dataset whose catalogue starts as a copy of the given id maps (either may
 * be NULL), so that data loaded into it uses the same indices as a model or
 * another dataset; new ids are appended. Errors: EINVAL, ENOMEM. */
RECINT_API int recint_dataset_new_with_catalogue(recint_dataset **out, const recint_idmap *users,
                                                const recint_idmap *items, const recint_config *cfg);
RECINT_API void recint_dataset_free(recint_dataset *ds);

/* Append n interactions with int64 external ids. weights NULL means 1,
 * timestamps NULL means 0. Ids new to the dataset get the next indices in
 * ascending id order within this call. Duplicates merge by the policy.
 * Errors: EINVAL (NaN/Inf weight, NULL arrays), ESTATE (dataset uses string ids),
 * ENOMEM, ERANGE (more than 2^32-1 users or items). Nothing changes on error. */
RECINT_API int recint_dataset_add(recint_dataset *ds, size_t n, const int64_t *users,
                                  const int64_t *items, const float *weights,
                                  const int64_t *timestamps);
/* Same with NUL-terminated string ids (new ids ordered by strcmp within the call). */
RECINT_API int recint_dataset_add_str(recint_dataset *ds, size_t n, const char *const *users,
                                      const char *const *items, const float *weights,
                                      const int64_t *timestamps);
/* Make sure the catalogue holds the given ids even without interactions.
 * Errors as recint_dataset_add. */
RECINT_API int recint_dataset_reserve_ids(recint_dataset *ds, size_t n_users, const int64_t *users,
                                          size_t n_items, const int64_t *items);
/* Same with string ids. */
RECINT_API int recint_dataset_reserve_ids_str(recint_dataset *ds, size_t n_users,
                                              const char *const *users, size_t n_items,
                                              const char *const *items);

/* Load delimited text and append it (as recint_dataset_add). cfg keys: delimiter
 * (auto|tab|comma|ml|space), columns ("user,item,weight,timestamp", "skip" ignores
 * a column), header (auto|yes|no), ids (auto|int|string). header=auto: the first
 * line is a header only when none of its fields that must hold a number (weight,
 * timestamp; user and item unless ids are strings) does; otherwise it is a row
 * (docs/api-guide.md). Lines end with "\n", "\r\n" or "\r". A file starting with
 * "# recint-dataset" (recint_dataset_save) describes itself: those keys do not apply.
 * Errors: EIO (also: not a regular file, refused at once: FIFO, device, directory),
 * EFORMAT with "path:line: reason", plus those of recint_dataset_add. */
RECINT_API int recint_dataset_load(recint_dataset *ds, const char *path, const recint_config *cfg);
/* Same from a memory buffer; name is used in messages. */
RECINT_API int recint_dataset_load_buffer(recint_dataset *ds, const char *text, size_t len,
                                          const char *name, const recint_config *cfg);

/* Write the dataset as tab-separated text: a "# recint-dataset" header line naming the
 * id kind and catalogue size, the whole catalogue in index order ("#u<TAB>id" and
 * "#i<TAB>id" lines, ids without interactions included), then rows
 * "user<TAB>item<TAB>weight<TAB>timestamp" by user index then item index. Loading it
 * into an empty dataset gives an equal one (same indices, rows, weights, timestamps).
 * The file is replaced atomically. Errors: EIO, EINVAL (string id holding a tab or
 * newline, or users and items of different id kinds). */
RECINT_API int recint_dataset_save(const recint_dataset *ds, const char *path);

/* Counts (0 for NULL). Users and items count the whole catalogue, including ids
 * whose interactions were all filtered or split away. */
RECINT_API uint32_t recint_dataset_n_users(const recint_dataset *ds);
RECINT_API uint32_t recint_dataset_n_items(const recint_dataset *ds);
RECINT_API uint64_t recint_dataset_n_interactions(const recint_dataset *ds);

/* Id maps of the dataset (views owned by ds; NULL for NULL ds). */
RECINT_API const recint_idmap *recint_dataset_users(const recint_dataset *ds);
RECINT_API const recint_idmap *recint_dataset_items(const recint_dataset *ds);

/* CSR by user: row u holds indptr[u]..indptr[u+1]-1, items ascending, no
 * repeats. Any output pointer may be NULL. Views owned by ds. Errors: EINVAL. */
RECINT_API int recint_dataset_csr(const recint_dataset *ds, const uint64_t **indptr,
                                  const uint32_t **items, const float **weights,
                                  const int64_t **timestamps);
/* CSC by item: column i holds the users of item i, ascending. Built on first use
 * (thread-safe). Errors: EINVAL, ENOMEM. */
RECINT_API int recint_dataset_csc(const recint_dataset *ds, const uint64_t **indptr,
                                  const uint32_t **users, const float **weights);

/* New dataset with the same catalogue keeping the interactions that pass: cfg keys
 * min_weight (kept rows become weight 1 when implicit=true), min_user_interactions
 * and min_item_interactions (k-core, iterated to a fixed point).
 * Errors: EINVAL, ENOMEM. */
RECINT_API int recint_dataset_filter(recint_dataset **out, const recint_dataset *ds,
                                     const recint_config *cfg);

/* New dataset with the same catalogue and rows, the weights rewritten by cfg's
 * weighting (none|log1p|bm25|tfidf; bm25_k1, bm25_b), for count data such as
 * plays: docs/weighting.md. Statistics (item rarity, mean user total) come from
 * ds itself, so reweight before splitting. Errors: EINVAL (unknown scheme, a
 * negative weight with a scheme other than none), ENOMEM. */
RECINT_API int recint_dataset_reweight(recint_dataset **out, const recint_dataset *ds,
                                       const recint_config *cfg);

/* Split into train / test (and optionally validation) datasets that share ds's
 * catalogue. spec: "random:F" (seeded fraction F to test), "temporal:F" (per user,
 * by (timestamp, item), the last (n*F) rounded up in integers; F=0.2 gives
 * (n+4)/5), "loo" (per user last -> test, second last -> validation, users with
 * fewer than 4 interactions keep all in train). valid may be NULL: then "loo" keeps
 * the validation row in train, and the fraction splits return no validation part;
 * with valid non-NULL the fraction splits carve valid from train by the same rule.
 * Errors: EINVAL (bad spec), ENOMEM. */
RECINT_API int recint_dataset_split(const recint_dataset *ds, const char *spec, uint64_t seed,
                                    recint_dataset **train, recint_dataset **valid,
                                    recint_dataset **test);

/* Planted-interest synthetic data (see docs/synthetic.md). cfg keys syn_users,
 * syn_items, syn_interactions, syn_clusters, syn_zipf, syn_noise, syn_drift,
 * syn_feature_dim, seed, threads. item_features may be NULL; else receives the
 * items' feature matrix (cluster one-hot + noise dense block).
 * Deterministic for a seed whatever the thread count. Errors: EINVAL, ENOMEM. */
RECINT_API int recint_dataset_synthetic(recint_dataset **out, const recint_config *cfg,
                                        recint_features **item_features);

/* ------------------------------------------------------------------------ */
/* Feature matrices                                                         */
/* ------------------------------------------------------------------------ */


/* Sparse rows x cols matrix from CSR arrays (copied). weights NULL means 1. Rows
 * may be unsorted: they are sorted and repeated columns summed. rows, cols >= 1.
 * Errors: EINVAL (indptr not monotone, index >= cols, NaN/Inf), ENOMEM. */
RECINT_API int recint_features_new_sparse(recint_features **out, uint32_t rows, uint32_t cols,
                                          const uint64_t *indptr, const uint32_t *indices,
                                          const float *weights);
/* Dense row-major rows x cols block (copied) whose rows are row_stride floats
 * apart (row_stride >= cols). Errors: EINVAL (NaN/Inf, stride), ENOMEM. */
RECINT_API int recint_features_new_dense(recint_features **out, uint32_t rows, uint32_t cols,
                                         const float *data, size_t row_stride);
/* n x n identity (stored implicitly). Errors: EINVAL, ENOMEM. */
RECINT_API int recint_features_identity(recint_features **out, uint32_t n);
/* [parts[0] | parts[1] | ...] side by side; all parts need the same row count.
 * Parts are copied; the caller keeps ownership of them. Errors: EINVAL, ENOMEM. */
RECINT_API int recint_features_hstack(recint_features **out, const recint_features *const *parts,
                                      size_t n_parts);
RECINT_API void recint_features_free(recint_features *f);
RECINT_API uint32_t recint_features_rows(const recint_features *f);
RECINT_API uint32_t recint_features_cols(const recint_features *f);
/* Copy row r as a dense vector of cols floats into out. Errors: EINVAL, ERANGE. */
RECINT_API int recint_features_row_dense(const recint_features *f, uint32_t r, float *out);

/* Sparse features from a text file (docs/features.md): lines "row<TAB>feature[:weight]
 * feature[:weight] ..." (without a tab, the first blank-separated word is the row id),
 * blank lines and lines starting with '#' ignored, weight 1 when omitted (negative
 * weights allowed; NaN/Inf refused), the weight after the LAST ':'. Row ids are
 * external ids of rows (a dataset's users or items, int or string as the map holds),
 * so row r of *out describes index r of rows; ids missing from the file give empty
 * rows, a row on several lines gets all their features, repeats are summed. An id
 * rows does not hold is skipped (cfg feature_unknown_ids=skip, the default: metadata
 * files often cover a larger catalogue) or an ENOTFOUND error (=error). Columns are
 * feature names in first-seen order; feature_names (may be NULL) receives them as a
 * new string id map owned by the caller (recint_idmap_free). Errors: EINVAL (NULL,
 * empty rows map), EIO (also: not a regular file), EFORMAT "path:line: reason"
 * (also: no feature at all), ENOTFOUND, ENOMEM. Nothing is allocated on failure.
 * Thread-safe. */
RECINT_API int recint_features_load_sparse(recint_features **out, recint_idmap **feature_names,
                                           const char *path, const recint_idmap *rows,
                                           const recint_config *cfg);
/* Same from text[0..len); name is used in messages (NULL: "<buffer>"). */
RECINT_API int recint_features_load_sparse_buffer(recint_features **out,
                                                  recint_idmap **feature_names, const char *text,
                                                  size_t len, const char *name,
                                                  const recint_idmap *rows, const recint_config *cfg);
/* Dense features from a NumPy .npy file (format 1.0 or 2.0, 2-D, C order, dtype
 * '<f4' or '<f8'; float64 must stay finite as float32). Row r of the file describes
 * index r of rows, so the file needs exactly recint_idmap_size(rows) rows (rows NULL:
 * any count). Errors: EINVAL (NULL, row count), EIO (also: not a regular file),
 * EFORMAT (damaged header, truncated or extra data, non-finite value), EUNSUPPORTED
 * (other dtype, Fortran order, not 2-D, version), ENOMEM. Thread-safe. */
RECINT_API int recint_features_load_npy(recint_features **out, const char *path,
                                        const recint_idmap *rows);
/* Dense features from raw little-endian float32, cols values per row, rows back to
 * back without a header; rows as recint_features_load_npy. Errors: EINVAL (NULL,
 * cols 0, row count), EIO (also: not a regular file), EFORMAT (size not a multiple
 * of a row, empty, non-finite value), ENOMEM. Thread-safe. */
RECINT_API int recint_features_load_raw(recint_features **out, const char *path, uint32_t cols,
                                        const recint_idmap *rows);
/* Release an id map the caller owns (from recint_features_load_sparse; never one
 * returned as a view by a dataset or model). NULL is accepted. */
RECINT_API void recint_idmap_free(recint_idmap *map);

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */


/* New untrained model of a kind ("pop"; recint_model_kinds lists the others).
 * cfg (NULL = defaults) is copied. Errors: EINVAL (also: cfg sets a key owned by
 * other kinds, RECINT_PARAM_OWNER, or a choice the kind lacks), EUNSUPPORTED
 * (unknown kind), ENOMEM. */
RECINT_API int recint_model_new(recint_model **out, const char *kind, const recint_config *cfg);
RECINT_API void recint_model_free(recint_model *m);
/* "pop|..." — the kinds this build knows. Static string. */
RECINT_API const char *recint_model_kinds(void);
/* Kind of m ("pop"). Static string; NULL for NULL. */
RECINT_API const char *recint_model_kind(const recint_model *m);
/* Catalogue sizes of a fitted model (0 before fit). */
RECINT_API uint32_t recint_model_n_users(const recint_model *m);
RECINT_API uint32_t recint_model_n_items(const recint_model *m);
/* Id maps copied from the training data (views owned by m). */
RECINT_API const recint_idmap *recint_model_users(const recint_model *m);
RECINT_API const recint_idmap *recint_model_items(const recint_model *m);

/* Scores of users x items into out (row-major, n_users * n_items floats; items
 * NULL means all items, out then holds n_users * recint_model_n_items(m)).
 * Thread-safe on a const model. Errors: ESTATE (not fitted), ERANGE, EINVAL. */
RECINT_API int recint_model_score(const recint_model *m, const uint32_t *users, size_t n_users,
                                  const uint32_t *items, size_t n_items, float *out);
/* Top-k items for user, excluding the items the user had in the training data,
 * best first, ties by smaller item index. Writes *n_out <= k entries into items
 * and scores (scores may be NULL). Thread-safe on a const model.
 * Errors: ESTATE, ERANGE (user), EINVAL (NULL, k == 0). */
RECINT_API int recint_model_recommend(const recint_model *m, uint32_t user, uint32_t k,
                                      uint32_t *items, float *scores, uint32_t *n_out);

/* Dimension of the model's user and item vectors (0 for pop and before fit). */
RECINT_API uint32_t recint_model_dim(const recint_model *m);

/* Copy out the vectors the model ranks with, the inverse of
 * recint_model_new_factors (same layout: row-major, index order): user_factors
 * n_users x dim, item_factors n_items x dim, item_bias n_items (zeros when the
 * kind has none); any may be NULL. n_users, n_items, dim state the arrays' sizes
 * and must equal recint_model_n_users / _n_items / _dim (pop: dim 0, bias only).
 * Hybrid rows are the users' and items' feature embeddings summed; sequential
 * user rows are what each training history gives. Errors: EINVAL (sizes, NULL
 * model), ESTATE (not fitted), ENOMEM (sequential; then only user_factors was
 * written to).
 * Thread-safe on a const model. */
RECINT_API int recint_model_factors(const recint_model *m, uint32_t n_users, uint32_t n_items,
                                    uint32_t dim, float *user_factors, float *item_factors,
                                    float *item_bias);

/* A model serving given factors: R = U V^T + item_bias (kind "factors"), e.g.
 * embeddings trained elsewhere. user_factors: n_users x dim row-major (may be NULL
 * when n_users == 0); item_factors: n_items x dim; item_bias: n_items or NULL.
 * Arrays are copied; ids are 0..n-1. cfg (NULL = defaults) as recint_model_new.
 * Errors: EINVAL (NaN/Inf, dim 0 with factors, sizes), ENOMEM. */
RECINT_API int recint_model_new_factors(recint_model **out, uint32_t n_users, uint32_t n_items,
                                        uint32_t dim, const float *user_factors,
                                        const float *item_factors, const float *item_bias,
                                        const recint_config *cfg);

/* Feature matrices of the next fit (kinds that embed features: hybrid). Row r of
 * user_features describes user index r of the training data (items likewise);
 * NULL keeps identity features for that side. Both are copied; the caller keeps
 * its matrices. Errors: EINVAL, ENOMEM, EUNSUPPORTED (kind without features).
 * Not thread-safe against other calls on m. */
RECINT_API int recint_model_set_features(recint_model *m, const recint_features *user_features,
                                         const recint_features *item_features);

/* Kind "sequential": the user vector (recint_model_dim floats) the model gives
 * a sequence of items, oldest first (only the last maxlen count; repeats
 * allowed; n == 0 gives zeros), e.g. a new session or a cold user's few clicks.
 * Rank it with recint_model_recommend_vector. Thread-safe on a const model.
 * Errors: EINVAL (NULL), EUNSUPPORTED (other kind), ESTATE, ERANGE (item), ENOMEM. */
RECINT_API int recint_model_sequence_vector(const recint_model *m, const uint32_t *items,
                                            size_t n, float *user_vector);

/* ------------------------------------------------------------------------ */
/* Filters of recommendation calls                                          */
/* ------------------------------------------------------------------------ */

/* Filter over a catalogue of n_items: nothing allowed-listed (all items allowed),
 * nothing blocked, the user's training items excluded. Errors: EINVAL, ENOMEM. */
RECINT_API int recint_filter_new(recint_filter **out, uint32_t n_items);
RECINT_API void recint_filter_free(recint_filter *f);
/* Restrict results to the union of the items given to all calls of this function
 * (an allow-list); a call with n == 0 still switches the allow-list on (then nothing
 * passes until items are allowed). Errors: ERANGE (item >= n_items), EINVAL. */
RECINT_API int recint_filter_allow(recint_filter *f, const uint32_t *items, size_t n);
/* Never return these items (a block-list). Errors: ERANGE, EINVAL. */
RECINT_API int recint_filter_block(recint_filter *f, const uint32_t *items, size_t n);
/* Back to the state of recint_filter_new. */
RECINT_API void recint_filter_clear(recint_filter *f);
/* include non-zero: do not exclude the user's training items (default: exclude). */
RECINT_API int recint_filter_include_seen(recint_filter *f, int include);

/* recint_model_recommend with a filter (NULL = the default filter). A filter is
 * read-only here: one filter may serve many concurrent calls.
 * Errors: those of recint_model_recommend, EINVAL (filter catalogue size differs). */
RECINT_API int recint_model_recommend_filtered(const recint_model *m, uint32_t user, uint32_t k,
                                               const recint_filter *f, uint32_t *items,
                                               float *scores, uint32_t *n_out);
/* Top-k for many users at once (the batch path: BLIS sgemm tiled with fused
 * selection). Row r of items/scores (k entries at r*k) belongs to users[r];
 * counts[r] entries of it are set. scores may be NULL. cfg (NULL: the model's)
 * supplies threads. Results equal recint_model_recommend_filtered's per user (with
 * quantize=int8 the batch path still scores exactly in fp32, so a row may in rare
 * cases differ from the int8 single-user call, never from the exact ranking).
 * Errors: as recint_model_recommend_filtered. */
RECINT_API int recint_model_recommend_batch(const recint_model *m, const uint32_t *users,
                                            size_t n_users, uint32_t k, const recint_filter *f,
                                            const recint_config *cfg, uint32_t *items,
                                            float *scores, uint32_t *counts);
/* Top-k for a user vector of recint_model_dim floats that is not in the model (a
 * folded-in or cold user). exclude: ascending items to leave out (may be NULL).
 * Errors: EINVAL (NaN/Inf, NULL), EUNSUPPORTED (kind has no user vectors). */
RECINT_API int recint_model_recommend_vector(const recint_model *m, const float *user_vector,
                                             uint32_t k, const recint_filter *f,
                                             const uint32_t *exclude, size_t n_exclude,
                                             uint32_t *items, float *scores, uint32_t *n_out);
/* Fold-in: the vector the model gives a user with these interactions (items, with
 * weights; weights NULL means 1), computed against the const model without changing
 * it, into user_vector (recint_model_dim floats). Pass it to
 * recint_model_recommend_vector. For kind "als" it is the exact (Cholesky) solve of
 * the user's ALS row; for "hybrid", fold_in_epochs passes of the model's loss on a
 * vector starting at zero (deterministic for the model's seed). Thread-safe;
 * allocates nothing for dim <= 128 and n <= 2048.
 * Errors: EUNSUPPORTED (kind without fold-in), ESTATE, ERANGE (item), EINVAL (NULL,
 * NaN/Inf or negative weight, repeated item). */
RECINT_API int recint_model_fold_in(const recint_model *m, const uint32_t *items,
                                    const float *weights, size_t n, float *user_vector);

#define RECINT_SIDE_USER 0
#define RECINT_SIDE_ITEM 1
/* Cold start from features alone: the representation (recint_model_dim floats,
 * into vector) and bias (into *bias, may be NULL) of a user or item (side) that
 * has the feature row (cols[j], weights[j]; weights NULL means 1) in the column
 * numbering of the features given to recint_model_set_features for that side.
 * A user's vector goes to recint_model_recommend_vector; an item's score for a
 * user vector v is v . vector + bias. Const and thread-safe.
 * Errors: EUNSUPPORTED (kind without feature embeddings), ESTATE, ERANGE
 * (column), EINVAL (NULL, side, NaN/Inf weight, repeated column). */
RECINT_API int recint_model_feature_vector(const recint_model *m, int side, const uint32_t *cols,
                                           const float *weights, size_t n, float *vector,
                                           float *bias);
/* Why item scores as it does for user: the score decomposes over the user's training
 * items (for "als": score = sum_j contribution_j, from the exact solve of the user's
 * row with weight 1 per training item: the model keeps which items, not their weights). Writes the k largest contributions (best first) into items/contributions,
 * their count into *n_out, and the explained score (the sum over ALL training items)
 * into *score (may be NULL). Thread-safe. Errors: EUNSUPPORTED, ESTATE, ERANGE, EINVAL. */
RECINT_API int recint_model_explain(const recint_model *m, uint32_t user, uint32_t item,
                                    uint32_t k, uint32_t *items, float *contributions,
                                    uint32_t *n_out, float *score);
/* Partial fit: every user with rows in data (matched by external id) gets the
 * exact solve of its row from exactly those rows (they replace its history, also
 * for recommend's exclusion) against the model's current item vectors; users new
 * to the model are appended (index = the model's n_users at the call, in data's
 * order) and extend recint_model_users. Every other row stays as it was. data's
 * items must be in the model (ENOTFOUND otherwise); its ids must be of the
 * model's kind (int or string). Vectors are updated in place; the id map and
 * the exclusion lists are rebuilt, so a call costs the row solves plus
 * O(n_users + training rows): batch updates. Not thread-safe against any other
 * call on m; id maps
 * and linear views obtained from m before the call are invalid afterwards.
 * Errors: EINVAL, EUNSUPPORTED (kind without partial fit), ESTATE, ENOTFOUND,
 * ENOMEM; on failure m is unchanged. */
RECINT_API int recint_model_partial_fit_users(recint_model *m, const recint_dataset *data);
/* The same for items: every item with rows in data gets its exact solve from
 * them against the current user vectors (the item leaves every other user's
 * history); new items are appended. data's users must be in the model. Rebuilds
 * the serving copies of the item vectors: O(n_items dim) beyond the solves. */
RECINT_API int recint_model_partial_fit_items(recint_model *m, const recint_dataset *data);

/* Items most similar to item: cosine (cfg key similarity, default) or dot product
 * of the item vectors, read when the model is created, fitted or loaded; the item
 * itself is never returned. f may be NULL (its
 * seen-item exclusion does not apply here). Errors: ERANGE, ESTATE, EUNSUPPORTED
 * (kind without item vectors), EINVAL. */
RECINT_API int recint_model_similar_items(const recint_model *m, uint32_t item, uint32_t k,
                                          const recint_filter *f, uint32_t *items, float *scores,
                                          uint32_t *n_out);

/* Save to one binary file (docs/file-format.md). Errors: EIO, ESTATE, ENOMEM. */
RECINT_API int recint_model_save(const recint_model *m, const char *path);
/* Load a file written by recint_model_save. The load allocates at most
 * 8 x the file size + 64 MiB, derived arrays included (docs/file-format.md).
 * Errors: EIO (also: not a regular file, refused at once), EFORMAT (truncated,
 * damaged or forged file, or a load above that bound: the message names the
 * section and the check, or the bound), EINVAL (NULL), ENOMEM. */
RECINT_API int recint_model_load(recint_model **out, const char *path);
/* Same from memory (copied). */
RECINT_API int recint_model_load_buffer(recint_model **out, const void *data, size_t size);
/* recint_model_load / _load_buffer with the caller's load settings: cfg's
 * load_memory_limit (bytes; 0 or cfg NULL: the default bound) caps what the load
 * allocates; the model's own configuration still comes from the file. cfg is
 * only read (the caller keeps it); *out is the caller's to free. Errors: those of
 * recint_model_load (EFORMAT naming load_memory_limit when the load needs more).
 * Thread-safe: loads share nothing, cfg may be read by several at once. */
RECINT_API int recint_model_load_ex(recint_model **out, const char *path,
                                    const recint_config *cfg);
RECINT_API int recint_model_load_buffer_ex(recint_model **out, const void *data, size_t size,
                                           const recint_config *cfg);

/* ------------------------------------------------------------------------ */
/* Trainer                                                                  */
/* ------------------------------------------------------------------------ */


/* Trainer for m (m must outlive it); cfg (NULL = defaults) is copied.
 * Errors: EINVAL (also: cfg sets a key owned by kinds other than m's), ENOMEM. */
RECINT_API int recint_trainer_new(recint_trainer **out, recint_model *m, const recint_config *cfg);
RECINT_API void recint_trainer_free(recint_trainer *t);
/* Fit the model on train from scratch (valid may be NULL). progress may be NULL.
 * Errors: EINVAL, ENOMEM, ECANCELED (model keeps its last complete state). */
RECINT_API int recint_trainer_fit(recint_trainer *t, const recint_dataset *train,
                                  const recint_dataset *valid, recint_progress_fn progress,
                                  void *ctx);

/* Continue training m from its current state on data for `epochs` more epochs
 * (kind "hybrid": same parameters and optimizer moments; after a load the moments
 * start afresh). data must use the model's catalogue (recint_dataset_new_with_catalogue
 * with recint_model_users/items); its rows join the items recommend excludes. An
 * unfitted model is fitted from scratch. Errors: EUNSUPPORTED (kind cannot
 * continue), EINVAL (NULL, other catalogue), ENOMEM, ECANCELED (model keeps its
 * last complete epoch). */
RECINT_API int recint_trainer_partial_fit(recint_trainer *t, const recint_dataset *data,
                                          recint_progress_fn progress, void *ctx);

/* ------------------------------------------------------------------------ */
/* Evaluation (exact definitions: docs/metrics.md)                          */
/* ------------------------------------------------------------------------ */

#define RECINT_METRIC_PRECISION    0
#define RECINT_METRIC_RECALL       1
#define RECINT_METRIC_NDCG         2
#define RECINT_METRIC_MAP          3
#define RECINT_METRIC_HIT_RATE     4
#define RECINT_METRIC_AUC          5
#define RECINT_METRIC_COVERAGE     6
#define RECINT_METRIC_USERS        7   /* users evaluated */
#define RECINT_METRIC_FULL_HR      8
#define RECINT_METRIC_FULL_NDCG    9
#define RECINT_METRIC_SAMPLED_HR   10
#define RECINT_METRIC_SAMPLED_NDCG 11
#define RECINT_METRIC_COUNT        12

/* Static short name of a metric ("precision"), NULL out of range. */
RECINT_API const char *recint_metric_name(int metric);

/* Top-k ranking metrics: for every user with a test item, rank all items not in
 * the user's train rows. Writes out[0..out_len-1] (indices RECINT_METRIC_*;
 * metrics not computed here are NaN). cfg keys: threads. train and test must
 * share the model's catalogue. Thread-safe on const arguments.
 * Errors: EINVAL, ESTATE, ENOMEM. */
RECINT_API int recint_evaluate(const recint_model *m, const recint_dataset *train,
                               const recint_dataset *test, uint32_t k, const recint_config *cfg,
                               double *out, size_t out_len);
/* Next-item metrics (leave-one-out): each test row is a target; the history is the
 * user's rows in history. Full: rank against every item not in the history;
 * sampled: against eval_samples items (cfg) drawn uniformly, seeded, from items
 * not in the user's history. Fills FULL_HR, FULL_NDCG, SAMPLED_HR, SAMPLED_NDCG,
 * USERS. Errors as recint_evaluate. */
RECINT_API int recint_evaluate_next(const recint_model *m, const recint_dataset *history,
                                    const recint_dataset *test, uint32_t k,
                                    const recint_config *cfg, double *out, size_t out_len);

/* ------------------------------------------------------------------------ */
/* Exploration: bandit policies on a model's vectors (docs/exploration.md)  */
/* ------------------------------------------------------------------------ */

typedef struct recint_explorer recint_explorer;

/* Explorer over a fitted model with user and item vectors (m must outlive it and
 * stay unchanged). cfg (NULL = defaults; copied) supplies policy, epsilon,
 * temperature, ucb_alpha, thompson_scale, prior_precision, history_precision,
 * mmr_lambda, candidates, debias, propensity_samples, online and seed. Each user's online
 * state (a Bayesian linear posterior whose prior mean is the model's user vector)
 * lives in the explorer, created on the user's first call.
 * Errors: EINVAL, ESTATE (not fitted), EUNSUPPORTED (model without vectors), ENOMEM. */
RECINT_API int recint_explorer_new(recint_explorer **out, const recint_model *m,
                                   const recint_config *cfg);
RECINT_API void recint_explorer_free(recint_explorer *e);
/* A slate of up to k items for user from the top-`candidates` items of the
 * posterior mean (training items and items already observed for user excluded).
 * propensities[j] (may be NULL) is the probability that the policy puts items[j]
 * in slot j given slots 0..j-1: over the remaining candidates these sum to 1 (for
 * thompson they are estimated from propensity_samples posterior draws plus the
 * one acted on). Each call is the user's next round; its random choices come from
 * a stream of (seed, user, round). Thread-safe for calls on different users
 * (recommend and observe on the same user need external ordering).
 * Errors: EINVAL (NULL, k 0), ERANGE (user), ENOMEM. */
RECINT_API int recint_explorer_recommend(recint_explorer *e, uint32_t user, uint32_t k,
                                         uint32_t *items, double *propensities, uint32_t *n_out);
/* Feedback: user got reward (finite) for item. Updates the user's posterior in
 * O(dim^2) (Sherman-Morrison; not with cfg key online=false) and fills the reward of the item's record in the
 * log of the user's last round. Thread-safety as recommend.
 * Errors: EINVAL (NaN/Inf), ERANGE, ENOMEM. */
RECINT_API int recint_explorer_observe(recint_explorer *e, uint32_t user, uint32_t item,
                                       float reward);

/* ======================================================================== */
/* EXPERIMENTAL: explorer logs, replay, off-policy evaluation, simulator    */
/* ======================================================================== */
/* Everything below, up to the end of the header, may change in a minor release
 * (0.1 -> 0.2; after 1.0, 1.x -> 1.y): a signature, the layout of an out array,
 * the value of a RECINT_OPE_* or RECINT_SIM_* macro, the log file format. These
 * calls are research tools whose outputs are still growing (more estimators,
 * more simulator totals), and freezing them now would fix today's layouts for a
 * whole major series. They are declared and exported like the rest, with no
 * macro to opt in, so programs using them today compile unchanged; rebuild such
 * a program against each new minor release and read its notes.
 * docs/api-stability.md describes the tiers. */

/* Start (enable != 0) or stop keeping a log of every slate: (user, round, slot,
 * item, propensity, candidates, reward; NaN until observed). Enabling clears it. */
RECINT_API int recint_explorer_set_logging(recint_explorer *e, int enable);
/* Records in the log (0 for NULL). */
RECINT_API uint64_t recint_explorer_log_size(const recint_explorer *e);
/* Write the log to path in the library's container (docs/exploration.md); the
 * file is replaced atomically. Errors: EINVAL, EIO, ENOMEM. Not thread-safe
 * against recommend/observe. */
RECINT_API int recint_explorer_log_save(const recint_explorer *e, const char *path);
/* The same log as tab-separated text: a "# recint-explore-log 1 users=U items=I"
 * line, then "user round slot item candidates propensity reward" per record
 * (numbers that read back to the same bits; "nan" for an unobserved reward).
 * replay and evaluate read either form. Errors and thread-safety as log_save. */
RECINT_API int recint_explorer_log_save_text(const recint_explorer *e, const char *path);
/* Replay a log into e (normally fresh, with the logging explorer's model and
 * config; the log written by log_save or log_save_text): re-run each round's
 * recommend, compare items and propensities bit for
 * bit, then observe the logged rewards. *mismatches (may be NULL) counts records
 * that differ. Errors: EIO (also: not a regular file), EFORMAT (damaged log), ERANGE,
 * ENOMEM. */
RECINT_API int recint_explorer_replay(recint_explorer *e, const char *path, uint64_t *mismatches);

/* Off-policy estimators of recint_explorer_evaluate. */
#define RECINT_OPE_IPS  0
#define RECINT_OPE_SNIPS 1
#define RECINT_OPE_DR   2
/* Value of target's policy (its state frozen as it is now) from a log: the
 * expected reward of the first slot, from the log's slot-0 records with a reward.
 * out[0] estimate, out[1] standard error, out[2], out[3] a 95% confidence
 * interval (normal approximation; delta method for SNIPS). DR's reward model is
 * target's posterior mean score clipped to [0, 1]. Errors: EINVAL (estimator,
 * out_len < 4), EIO (also: not a regular file), EFORMAT, ERANGE (log names users or
 * items outside the model), ESTATE (no usable record). */
RECINT_API int recint_explorer_evaluate(const recint_explorer *target, const char *log_path,
                                        int estimator, double *out, size_t out_len);

/* Totals of recint_simulate (indices of out). */
#define RECINT_SIM_ROUNDS      0  /* T */
#define RECINT_SIM_REWARD      1  /* clicks per user over T rounds */
#define RECINT_SIM_REGRET      2  /* oracle's minus the policy's expected clicks, per user */
#define RECINT_SIM_DISCOVERED  3  /* share of (user, hidden cluster) pairs with a click */
#define RECINT_SIM_COVERAGE    4  /* share of the catalogue shown at least once */
#define RECINT_SIM_DIVERSITY   5  /* mean share of slate pairs from different clusters */
#define RECINT_SIM_COUNT       6
/* Simulated exploration (docs/exploration.md): a world of users with planted
 * interest clusters (sim_* keys), an ALS model (dim, iterations, ...) trained on
 * histories that show sim_revealed of each user's true clusters, then sim_rounds
 * rounds of k-item slates chosen by an explorer with cfg's policy, clicks drawn
 * from the true interests. out[RECINT_SIM_*] totals; per_round (may be NULL)
 * receives rounds rows of RECINT_SIM_COUNT values (the totals after each round);
 * per_round_len counts doubles. Deterministic for a seed at any thread count.
 * Errors: EINVAL (out_len < RECINT_SIM_COUNT, per_round too short), ENOMEM. */
RECINT_API int recint_simulate(const recint_config *cfg, double *out, size_t out_len,
                               double *per_round, size_t per_round_len);

/* Layout of recint_simulate_ope's out. */
#define RECINT_OPE_SIM_TRUE   0   /* the target's value measured in the simulator */
#define RECINT_OPE_SIM_IPS    1   /* 4 values: estimate, standard error, CI low, CI high */
#define RECINT_OPE_SIM_SNIPS  5
#define RECINT_OPE_SIM_DR     9
#define RECINT_OPE_SIM_LOGGED 13  /* the logging policy's own value */
#define RECINT_OPE_SIM_COUNT  14
/* Off-policy experiment in the simulator's world: a frozen uniform-within-top-N
 * policy logs sim_ope_rounds first slots per explored user to log_path
 * (replaced); cfg's policy, frozen, is the target; its IPS, SNIPS and DR
 * estimates from the log and its true value (expected clicks of its own picks
 * over as many rounds) go to out. Errors: EINVAL, EIO, ENOMEM. */
RECINT_API int recint_simulate_ope(const recint_config *cfg, const char *log_path, double *out,
                                   size_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* RECINT_H */
