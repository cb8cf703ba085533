/*  ag_psl: Public Suffix List matching (see ag_psl.h). Owner: aggregator/.
    Three sets of rule strings (normal, wildcard parents, exceptions) in hash tables; a name is
    matched by trying each of its suffixes from the longest, so a look-up costs one hash probe
    per label per set. */
#include "ag_psl.h"

#include <czmq.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX 253

struct ag_psl_t {
    zhashx_t *normal;     //  "co.jp"
    zhashx_t *wildcard;   //  "kawasaki.jp" for "*.kawasaki.jp"
    zhashx_t *exception;  //  "city.kawasaki.jp" for "!city.kawasaki.jp"
    size_t rules;
};

void
ag_psl_destroy (ag_psl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_psl_t *self = *self_p;
    zhashx_destroy (&self->normal);
    zhashx_destroy (&self->wildcard);
    zhashx_destroy (&self->exception);
    free (self);
    *self_p = NULL;
}

//  Lower-cases ASCII in place (non-ASCII bytes, UTF-8 rules, stay as they are).
static void
s_lower (char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x80)
            *s = (char) tolower ((unsigned char) *s);
}

ag_psl_t *
ag_psl_parse (const char *text, size_t len, char *err, size_t err_size)
{
    ag_psl_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->normal = zhashx_new ();
    self->wildcard = zhashx_new ();
    self->exception = zhashx_new ();
    if (!self->normal || !self->wildcard || !self->exception) {
        snprintf (err, err_size, "out of memory");
        ag_psl_destroy (&self);
        return NULL;
    }
    size_t pos = 0;
    char rule[S_NAME_MAX + 2];
    while (pos < len) {
        const char *nl = memchr (text + pos, '\n', len - pos);
        size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += n + 1;
        //  A rule is the line's first word; comments start with "//".
        size_t w = 0;
        while (w < n && line[w] != ' ' && line[w] != '\t' && line[w] != '\r')
            w++;
        if (w == 0 || (w >= 2 && line[0] == '/' && line[1] == '/') || w > S_NAME_MAX + 1)
            continue;
        memcpy (rule, line, w);
        rule[w] = 0;
        s_lower (rule);
        zhashx_t *set = self->normal;
        const char *key = rule;
        if (rule[0] == '!') {
            set = self->exception;
            key = rule + 1;
        }
        else if (rule[0] == '*' && rule[1] == '.') {
            set = self->wildcard;
            key = rule + 2;
        }
        if (!*key)
            continue;
        if (zhashx_insert (set, key, (void *) 1) == 0)
            self->rules++;
    }
    if (self->rules == 0) {
        snprintf (err, err_size, "no rule in the list");
        ag_psl_destroy (&self);
        return NULL;
    }
    return self;
}

ag_psl_t *
ag_psl_load (const char *path, char *err, size_t err_size)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, err_size, "%s: %s (Debian package publicsuffix)", path, strerror (errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
            size_t ncap = (len + n) * 2;
            char *p = realloc (buf, ncap);
            if (!p) {
                free (buf);
                fclose (f);
                snprintf (err, err_size, "out of memory");
                return NULL;
            }
            buf = p;
            cap = ncap;
        }
        memcpy (buf + len, chunk, n);
        len += n;
    }
    bool bad = ferror (f) != 0;
    fclose (f);
    if (bad) {
        free (buf);
        snprintf (err, err_size, "%s: read error", path);
        return NULL;
    }
    ag_psl_t *self = ag_psl_parse (buf ? buf : "", len, err, err_size);
    free (buf);
    return self;
}

size_t
ag_psl_rules (const ag_psl_t *self)
{
    return self->rules;
}

//  A copy of `name`, lower-cased, without a trailing dot, checked: labels of 1..63 of
//  letters, digits, '-' and '_' (seen in real names), total <= 253. NULL if it is not one.
static bool
s_clean (const char *name, char *out)
{
    size_t len = name ? strlen (name) : 0;
    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > S_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) tolower ((unsigned char) name[i]);
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        }
        else if (isalnum (c) || c == '-' || c == '_') {
            if (++label > 63)
                return false;
        }
        else
            return false;
        out[i] = (char) c;
    }
    out[len] = 0;
    return label > 0;
}

//  Where the public suffix of the cleaned `name` starts (an offset into it).
static size_t
s_suffix_at (const ag_psl_t *self, const char *name)
{
    //  Suffixes from the longest (the whole name) to the shortest (the last label); the
    //  first rule to match is the longest. `prev` is the suffix one label longer than `s`.
    const char *prev = NULL;
    for (const char *s = name; s; prev = s, s = strchr (s, '.') ? strchr (s, '.') + 1 : NULL) {
        if (zhashx_lookup (self->exception, s))
            //  "!city.kawasaki.jp": the suffix is the rule minus its first label.
            return (size_t) (strchr (s, '.') ? strchr (s, '.') + 1 - name : s - name);
        //  A wildcard "*.s" matches one label more than s: longer than a normal rule "s".
        if (prev && zhashx_lookup (self->wildcard, s))
            return (size_t) (prev - name);
        if (zhashx_lookup (self->normal, s))
            return (size_t) (s - name);
    }
    //  No rule: the implicit "*", the last label.
    const char *last = strrchr (name, '.');
    return last ? (size_t) (last + 1 - name) : 0;
}

int
ag_psl_suffix (const ag_psl_t *self, const char *name, char *out, size_t out_size)
{
    char clean[S_NAME_MAX + 1];
    if (!s_clean (name, clean))
        return -1;
    size_t at = s_suffix_at (self, clean);
    if (strlen (clean + at) >= out_size)
        return -1;
    snprintf (out, out_size, "%s", clean + at);
    return 0;
}

int
ag_psl_registered (const ag_psl_t *self, const char *name, char *out, size_t out_size)
{
    char clean[S_NAME_MAX + 1];
    if (!s_clean (name, clean))
        return -1;
    size_t at = s_suffix_at (self, clean);
    if (at == 0)
        return -1;  //  the name is a public suffix itself
    //  One label more: back from the dot before the suffix to the previous dot.
    size_t start = at - 1;  //  the dot
    while (start > 0 && clean[start - 1] != '.')
        start--;
    if (strlen (clean + start) >= out_size)
        return -1;
    snprintf (out, out_size, "%s", clean + start);
    return 0;
}
