/*  ag_allow: the allowlist gate of issue 6 (MISP warning-list semantics). An indicator that a
    list holds (a public resolver, a special-purpose range, a CDN, a top site, the empty file's
    hash, a company's own address or domain) never produces a warning: warning partners to block
    8.8.8.8 or google.com would do more harm than the threat. Owner: aggregator/.

    Three kinds of entry, each under the name of the list it came from:
      addresses  an IPv4/IPv6 address or network ("192.0.2.0/24"); one hash table keyed by
                 (family, prefix length, network), probed once per prefix length present
      names      a domain name: the name and every name under it; one hash table probed once
                 per parent suffix of the name looked up
      hashes     32, 40 or 64 hex characters (MD5/JA3, SHA-1, SHA-256): exact

    An entry already present keeps the list that added it first. Lists are only ever added to:
    to reload, build a new gate and swap it in. A gate is not thread-safe for adding, but any
    number of threads may call ag_allow_match on a gate nobody adds to. */
#ifndef AG_ALLOW_H
#define AG_ALLOW_H

#include <stddef.h>
#include <stdint.h>

typedef struct ag_allow_t ag_allow_t;

//  The built-in list "special-purpose" (the IANA special-purpose address registries and the
//  special-use domain names of RFC 6761, 6762, 7686 and 8375) is already in. NULL if out of
//  memory.
ag_allow_t *ag_allow_new (void);
void ag_allow_destroy (ag_allow_t **self_p);

//  One entry under list `list` (e.g. "org-own"): an address or network (host bits must be clear:
//  "10.1.2.3/8" is refused as a probable typo), a domain name (lower-cased, a trailing dot
//  dropped), or a hash (hex of 32, 40 or 64 characters, lower-cased). 0, or -1 if the value is
//  none of those.
int ag_allow_add (ag_allow_t *self, const char *value, const char *list);

//  Like ag_allow_add, with the reason for a refusal in `why` (may be NULL).
int ag_allow_add_why (ag_allow_t *self, const char *value, const char *list, char *why,
                      size_t why_size);

//  A list file: one entry a line, '#' starts a comment (also after an entry), blank lines are
//  ignored; the list's name is the file name without ".list". Every bad line is an error
//  "path:line: reason"; the first 20 are kept in `err`, one a line, then "path: N more errors"
//  if there were more. A file with any error adds nothing (it is refused whole) and gives -1.
int ag_allow_load_file (ag_allow_t *self, const char *path, char *err, size_t err_size);

//  The same for text in memory: errors read "origin:line: reason", entries go to list `list`.
int ag_allow_load_text (ag_allow_t *self, const char *text, size_t len, const char *origin,
                        const char *list, char *err, size_t err_size);

//  Every regular file *.list in `dir` (not starting with '.'), in the order of their names. -1
//  if the directory cannot be read or any file is refused (the others still load); the errors
//  of all refused files in `err`.
int ag_allow_load_dir (ag_allow_t *self, const char *dir, char *err, size_t err_size);

//  The name of the list that allowlists this NORMALISED indicator (ag_indicator) of
//  mm_ioc_type_t `type`, or NULL. The pointer stays valid as long as the gate.
//    IP      the address is in a listed address or network (the longest listed prefix wins)
//    CIDR    the network lies inside a listed network, or contains a listed address or network
//            (a warning to block 8.8.0.0/16 would cut Google's resolver off)
//    DOMAIN  the name or one of its parents is listed
//    URL     its host, a name or an address literal ("[2001:db8::1]"), as above
//    JA3, JA4, CERT_SHA1, SHA256   the value is a listed hash
//  Cost: one hash probe per prefix length present (IP), per label (DOMAIN), or one (hashes);
//  a CIDR indicator also walks the address table (they are rare).
const char *ag_allow_match (const ag_allow_t *self, uint8_t type, const char *norm);

//  Entries held (duplicates counted once), the built-in ones included.
size_t ag_allow_entries (const ag_allow_t *self);

//  The name of a list holding `domain` (normalised) or a name under it, or NULL. A warning
//  for a domain covers every name under it (sensors match subdomains): one for
//  `example.co.jp` would hit a listed `www.example.co.jp`. One hash probe: every parent of a
//  listed name is kept when the name is added.
const char *ag_allow_under (const ag_allow_t *self, const char *domain);

#endif
