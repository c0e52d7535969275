#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *ri_test_datasets(void)
{
    const char *d = getenv("RECINT_DATASETS");
    return d && d[0] ? d : NULL;
}

const char *ri_test_dataset_file(const char *relative, char *buf, size_t cap)
{
    const char *d = ri_test_datasets();
    if (!d) {
        fprintf(stderr, "SKIP: RECINT_DATASETS not set, %s not available\n", relative);
        return NULL;
    }
    snprintf(buf, cap, "%s/%s", d, relative);
    if (access(buf, R_OK) != 0) {
        fprintf(stderr, "SKIP: %s not found (MovieLens is not redistributed; set RECINT_DATASETS)\n",
                buf);
        return NULL;
    }
    return buf;
}

const char *ri_test_tmp(const char *name, char *buf, size_t cap)
{
    const char *d = getenv("RECINT_TEST_TMP");
    snprintf(buf, cap, "%s/ritest-%ld-%s", d && d[0] ? d : "/tmp", (long)getpid(), name);
    return buf;
}

int ri_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
