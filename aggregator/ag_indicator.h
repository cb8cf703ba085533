/*  ag_indicator: one spelling per indicator, so that the same threat seen by two sensors is
    recognised as the same (issue 6, "Normalize indicators"). Owner: aggregator/. Pure
    functions, no state.

    Normal form, by type (mm_ioc_type_t):
      IP         IPv4 dotted quad; IPv6 in RFC 5952 form (lower case, the longest run of zero
                 groups as "::", no leading zeros); an IPv4-mapped IPv6 address becomes IPv4
      CIDR       the network address in the form above, "/", the prefix length (host bits
                 cleared: 10.1.2.3/8 is 10.0.0.0/8)
      DOMAIN     lower case, no trailing dot, labels of 1-63 letters, digits, '-' or '_'
      URL        scheme and host lower-cased (the path keeps its case), a default port
                 (:80 for http, :443 for https) dropped
      JA3, CERT_SHA1, SHA256   lower-case hex of the right length (32, 40, 64)
      JA4        as given, lower-cased (its alphabet is [a-z0-9_])

    Grouping (rule R2 counts "the same indicator, or /24, or registered domain"): an IPv4
    address groups by its /24, an IPv6 address by its /48, a domain or a URL's host by its
    registered domain (ag_psl); other types are their own group. */
#ifndef AG_INDICATOR_H
#define AG_INDICATOR_H

#include <stddef.h>
#include <stdint.h>

#include "ag_psl.h"

#define AG_INDICATOR_MAX 2048  //  bytes of a normal form (MM_LONG_MAX)

//  Writes the normal form of `value` (of `type`) into `out`: 0, or -1 if it is not a valid
//  indicator of that type (the reason in `why`, may be NULL).
int ag_indicator_normalize (uint8_t type, const char *value, char *out, size_t out_size,
                            const char **why);

//  Writes the group of a NORMALISED indicator into `out` ("198.51.100.0/24",
//  "2001:db8:1::/48", "example.co.jp", or the value itself): 0, or -1 (no group: a domain that
//  is a public suffix, an output too small). `psl` may be NULL: domains are then their own
//  group.
int ag_indicator_group (const ag_psl_t *psl, uint8_t type, const char *norm, char *out,
                        size_t out_size);

#endif
