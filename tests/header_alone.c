/* Compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror: the public header
 * must stand alone. */
#include "recint.h"

int header_alone_probe(void);
int header_alone_probe(void) { return RECINT_OK; }
