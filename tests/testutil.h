/* Shared helpers of the libcheck suites. */
#ifndef RI_TESTUTIL_H
#define RI_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "recint.h"

/* Assert a call returned RECINT_OK, showing the library's message when not. */
#define RI_OK(call)                                                                     \
    do {                                                                                \
        int ri_rc_ = (call);                                                            \
        ck_assert_msg(ri_rc_ == RECINT_OK, "%s -> %d (%s)", #call, ri_rc_,             \
                      recint_last_error());                                             \
    } while (0)

/* Assert a call failed with the given code and a non-empty message. */
#define RI_FAILS(code, call)                                                            \
    do {                                                                                \
        int ri_rc_ = (call);                                                            \
        ck_assert_msg(ri_rc_ == (code), "%s -> %d, expected %d (%s)", #call, ri_rc_,   \
                      (code), recint_last_error());                                     \
        ck_assert_msg(recint_last_error()[0] != '\0', "%s: empty error message", #call); \
    } while (0)

/* Folder holding ml-100k/ and ml-latest-small/ (RECINT_DATASETS), or NULL. */
const char *ri_test_datasets(void);
/* Full path of a MovieLens file, or NULL (and a skip note printed) when absent. */
const char *ri_test_dataset_file(const char *relative, char *buf, size_t cap);
/* A path for a temporary file unique to this process: name is appended. */
const char *ri_test_tmp(const char *name, char *buf, size_t cap);
/* A small random dataset of the tests' own (a tiny LCG, independent of the
 * library): each of n_users x n_items pairs kept with probability ~pct/100,
 * weights in 1..max_weight. */
recint_dataset *ri_test_random_dataset(uint32_t n_users, uint32_t n_items, unsigned pct,
                                       unsigned max_weight, unsigned seed);
/* The same pairs with no weights and distinct timestamps that are not in item
 * order. */
recint_dataset *ri_test_timed_dataset(uint32_t n_users, uint32_t n_items, unsigned pct,
                                      unsigned seed);
/* m's file with section repl's bytes replaced by data (CRCs recomputed, so only
 * the kind's own checks can object), loaded back from memory; returns the
 * load's status. Fails the test when m has no such section. */
int ri_test_load_with_section(const recint_model *m, const char *repl, const void *data,
                              uint64_t size);
/* Assert that m's file with section tag replaced by data fails to load with
 * RECINT_EFORMAT and a message containing needle. */
void ri_test_expect_section_error(const recint_model *m, const char *tag, const void *data,
                                  uint64_t size, const char *needle);
/* Run one suite with CK_NORMAL output; returns the process exit status. */
int ri_test_run(Suite *s);

#endif
