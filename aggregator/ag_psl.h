/*  ag_psl: the Public Suffix List, for the registered domain of a name (the part a company
    registers: "example.co.jp" of "mail.example.co.jp"). The correlation groups domain
    indicators by it, so "a.evil.example" and "b.evil.example" count as one campaign.
    Owner: aggregator/. Read-only once loaded; one per process is enough.

    Source: Debian's `publicsuffix` package (/usr/share/publicsuffix/public_suffix_list.dat,
    AG_PSL_DEFAULT_PATH), kept current by the distribution. Rules follow the list's algorithm
    (https://publicsuffix.org/list/): normal rules, wildcards "*.x" and exceptions "!y.x"; the
    longest matching rule wins, an exception beats a wildcard, and a name no rule matches has
    the implicit rule "*" (its last label is the public suffix). Both the ICANN and the private
    sections are used. Names are compared lower-cased, in their ASCII (punycode) form: the list
    is read as UTF-8, and its non-ASCII rules are kept as they are, so a Unicode name must be
    converted to punycode by the caller (sensors report names as seen on the wire, ASCII). */
#ifndef AG_PSL_H
#define AG_PSL_H

#include <stdbool.h>
#include <stddef.h>

#define AG_PSL_DEFAULT_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

typedef struct ag_psl_t ag_psl_t;

//  Loads a list file. NULL with the reason in `err` if it cannot be read or holds no rule.
ag_psl_t *ag_psl_load (const char *path, char *err, size_t err_size);
//  From a buffer (tests).
ag_psl_t *ag_psl_parse (const char *text, size_t len, char *err, size_t err_size);
void ag_psl_destroy (ag_psl_t **self_p);

size_t ag_psl_rules (const ag_psl_t *self);

//  The public suffix of `name` ("co.jp" of "mail.example.co.jp") into `out`: 0, or -1 if
//  `name` is not a domain name (empty labels, bad characters, too long).
int ag_psl_suffix (const ag_psl_t *self, const char *name, char *out, size_t out_size);
//  The registered domain (the public suffix plus one label) into `out`: 0, or -1 if `name`
//  is not a domain name or is itself a public suffix (then it has no registered domain).
int ag_psl_registered (const ag_psl_t *self, const char *name, char *out, size_t out_size);

#endif
