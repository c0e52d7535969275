/* Spans of text and the blank-separated words of a line, shared by the text
 * loaders (interactions in loader.c, feature rows in features_load.c). */
#ifndef RI_TEXTSCAN_H
#define RI_TEXTSCAN_H

#include <stddef.h>
#include <string.h>

typedef struct {
    const char *p;
    size_t n;
} ri_span;

static inline int ri_is_blank(char c) { return c == ' ' || c == '\t'; }

static inline ri_span ri_span_trim(ri_span f)
{
    while (f.n && ri_is_blank(f.p[0])) {
        f.p++;
        f.n--;
    }
    while (f.n && ri_is_blank(f.p[f.n - 1]))
        f.n--;
    return f;
}

static inline int ri_span_is(ri_span f, const char *word)
{
    return f.n == strlen(word) && memcmp(f.p, word, f.n) == 0;
}

/* The next run of non-blank characters at or after *s (before end) into *word,
 * advancing *s past it; 0 when only blanks remain. */
static inline int ri_span_next_word(const char **s, const char *end, ri_span *word)
{
    const char *c = *s;
    while (c < end && ri_is_blank(*c))
        c++;
    if (c == end) {
        *s = c;
        return 0;
    }
    const char *b = c;
    while (c < end && !ri_is_blank(*c))
        c++;
    *word = (ri_span){b, (size_t)(c - b)};
    *s = c;
    return 1;
}

#endif
