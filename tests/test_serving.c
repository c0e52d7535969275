/* placeholder suite until written */
#include "testutil.h"

START_TEST(placeholder) { ck_assert_int_eq(recint_version_number(), RECINT_VERSION_NUMBER); }
END_TEST

int main(void)
{
    Suite *s = suite_create("serving");
    TCase *tc = tcase_create("placeholder");
    tcase_add_test(tc, placeholder);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
