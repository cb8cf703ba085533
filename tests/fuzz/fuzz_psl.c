/*  fuzz_psl: libFuzzer target for the Public Suffix List look-ups (aggregator/ag_psl) on names
    that come from sensors (untrusted). The list is Debian's when installed, else a small one.
    The input's first byte splits it: the rest is a name; half the time a list is also parsed
    from the input. A registered domain is always a suffix of the cleaned name, ends with the
    public suffix, has exactly one more label, and is its own registered domain. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_psl.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ag_psl_t *s_psl;

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

static size_t
s_labels (const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == '.';
    return n;
}

static void
s_one (const ag_psl_t *psl, const char *name)
{
    char reg[300], suf[300], again[300];
    int rs = ag_psl_suffix (psl, name, suf, sizeof suf);
    int rr = ag_psl_registered (psl, name, reg, sizeof reg);
    if (rs == -1) {
        s_check (rr == -1, "no suffix, no registered domain");
        return;
    }
    if (rr == -1)
        return;  //  the name is a public suffix itself
    size_t lr = strlen (reg), ls = strlen (suf);
    s_check (lr > ls + 1 && reg[lr - ls - 1] == '.' && strcmp (reg + lr - ls, suf) == 0,
             "the registered domain ends with the public suffix after a dot");
    s_check (s_labels (reg) == s_labels (suf) + 1, "exactly one label more");
    s_check (ag_psl_registered (psl, reg, again, sizeof again) == 0 && strcmp (again, reg) == 0,
             "a registered domain is its own registered domain");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_psl) {
        char err[256];
        s_psl = ag_psl_load (AG_PSL_DEFAULT_PATH, err, sizeof err);
        if (!s_psl) {
            const char *small = "com\njp\nco.jp\n*.kawasaki.jp\n!city.kawasaki.jp\n";
            s_psl = ag_psl_parse (small, strlen (small), err, sizeof err);
        }
        s_check (s_psl != NULL, "a list");
    }
    if (size == 0 || size > 512)
        return 0;
    char name[513];
    memcpy (name, data + 1, size - 1);
    name[size - 1] = 0;
    s_one (s_psl, name);
    if (data[0] & 1) {
        //  The name's text as a list too: whatever it holds, look-ups stay consistent.
        char err[256];
        ag_psl_t *own = ag_psl_parse (name, strlen (name), err, sizeof err);
        if (own) {
            s_one (own, name);
            s_one (own, "a.b.c.example.com");
            ag_psl_destroy (&own);
        }
    }
    return 0;
}
