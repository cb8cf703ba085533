/*  ag_indicator: normal forms and groups of indicators (see ag_indicator.h). Owner: aggregator/.
    Addresses go through inet_pton/inet_ntop: glibc's inet_ntop writes RFC 5952 form. */
#include "ag_indicator.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_proto.h"

static int
s_fail (const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

//  Parses an address (v4 or v6) into `b` (16 bytes), *len 4 or 16. IPv4-mapped v6 -> v4.
static bool
s_addr (const char *text, uint8_t *b, int *len)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton (AF_INET, text, &a4) == 1) {
        memcpy (b, &a4, 4);
        *len = 4;
        return true;
    }
    if (inet_pton (AF_INET6, text, &a6) != 1)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp (a6.s6_addr, mapped, 12) == 0) {
        memcpy (b, a6.s6_addr + 12, 4);
        *len = 4;
        return true;
    }
    memcpy (b, a6.s6_addr, 16);
    *len = 16;
    return true;
}

static bool
s_addr_text (const uint8_t *b, int len, char *out, size_t size)
{
    return inet_ntop (len == 4 ? AF_INET : AF_INET6, b, out, (socklen_t) size) != NULL;
}

static void
s_clear_host_bits (uint8_t *b, int len, unsigned prefix)
{
    for (int i = 0; i < len; i++) {
        unsigned bit = (unsigned) i * 8;
        if (bit >= prefix)
            b[i] = 0;
        else if (bit + 8 > prefix)
            b[i] &= (uint8_t) (0xff << (8 - (prefix - bit)));
    }
}

static int
s_cidr (const char *value, char *out, size_t size, const char **why)
{
    char addr[64];
    const char *slash = strchr (value, '/');
    if (!slash || (size_t) (slash - value) >= sizeof addr)
        return s_fail (why, "a CIDR is ADDRESS/PREFIX");
    memcpy (addr, value, (size_t) (slash - value));
    addr[slash - value] = 0;
    char *end;
    long prefix = strtol (slash + 1, &end, 10);
    uint8_t b[16];
    int len;
    if (!s_addr (addr, b, &len) || *end || end == slash + 1 || prefix < 0 || prefix > len * 8)
        return s_fail (why, "not an address and prefix length");
    s_clear_host_bits (b, len, (unsigned) prefix);
    char text[64];
    if (!s_addr_text (b, len, text, sizeof text) ||
        (size_t) snprintf (out, size, "%s/%ld", text, prefix) >= size)
        return s_fail (why, "output too small");
    return 0;
}

static int
s_domain (const char *value, char *out, size_t size, const char **why)
{
    size_t len = strlen (value);
    if (len && value[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || len >= size)
        return s_fail (why, "not a domain name (length)");
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) tolower ((unsigned char) value[i]);
        if (c == '.') {
            if (label == 0)
                return s_fail (why, "an empty label");
            label = 0;
        }
        else if (isalnum (c) || c == '-' || c == '_') {
            if (++label > 63)
                return s_fail (why, "a label longer than 63");
        }
        else
            return s_fail (why, "a character a domain name cannot hold");
        out[i] = (char) c;
    }
    out[len] = 0;
    return label ? 0 : s_fail (why, "an empty label");
}

static int
s_hex (const char *value, size_t want, char *out, size_t size, const char **why)
{
    size_t len = strlen (value);
    if (len != want || len >= size)
        return s_fail (why, "a hash of the wrong length");
    for (size_t i = 0; i < len; i++) {
        if (!isxdigit ((unsigned char) value[i]))
            return s_fail (why, "not hexadecimal");
        out[i] = (char) tolower ((unsigned char) value[i]);
    }
    out[len] = 0;
    return 0;
}

//  scheme://host[:port]/rest -> lower-case scheme and host, default port dropped.
static int
s_url (const char *value, char *out, size_t size, const char **why)
{
    const char *sep = strstr (value, "://");
    if (!sep || sep == value)
        return s_fail (why, "a URL needs a scheme");
    char scheme[16];
    size_t sl = (size_t) (sep - value);
    if (sl >= sizeof scheme)
        return s_fail (why, "an unknown URL scheme");
    for (size_t i = 0; i < sl; i++)
        scheme[i] = (char) tolower ((unsigned char) value[i]);
    scheme[sl] = 0;
    const char *host = sep + 3;
    size_t hl = strcspn (host, "/?#");
    const char *rest = host + hl;
    //  host[:port], or [v6]:port; user info is not expected in indicators and refused.
    char hostbuf[300], port[8] = "";
    if (hl == 0 || hl >= sizeof hostbuf || memchr (host, '@', hl))
        return s_fail (why, "a URL host is missing or unusable");
    memcpy (hostbuf, host, hl);
    hostbuf[hl] = 0;
    char *colon = hostbuf[0] == '[' ? strstr (hostbuf, "]:") : strrchr (hostbuf, ':');
    if (colon) {
        char *p = hostbuf[0] == '[' ? colon + 2 : colon + 1;
        if (strlen (p) == 0 || strlen (p) >= sizeof port || strspn (p, "0123456789") != strlen (p))
            return s_fail (why, "a URL port is not a number");
        snprintf (port, sizeof port, "%s", p);
        *(hostbuf[0] == '[' ? colon + 1 : colon) = 0;
    }
    if ((strcmp (scheme, "http") == 0 && strcmp (port, "80") == 0) ||
        (strcmp (scheme, "https") == 0 && strcmp (port, "443") == 0))
        port[0] = 0;
    char normhost[300];
    if (hostbuf[0] == '[') {
        size_t l = strlen (hostbuf);
        if (l < 3 || hostbuf[l - 1] != ']')
            return s_fail (why, "a URL's IPv6 host is not closed");
        hostbuf[l - 1] = 0;
        uint8_t b[16];
        int len;
        char t[64];
        if (!s_addr (hostbuf + 1, b, &len) || !s_addr_text (b, len, t, sizeof t))
            return s_fail (why, "a URL's IPv6 host is not an address");
        if (len == 16)
            snprintf (normhost, sizeof normhost, "[%s]", t);
        else
            snprintf (normhost, sizeof normhost, "%s", t);  //  [::ffff:a.b.c.d] is IPv4
    }
    else if (s_domain (hostbuf, normhost, sizeof normhost, why) == -1)
        return -1;
    int n = snprintf (out, size, "%s://%s%s%s%s", scheme, normhost, port[0] ? ":" : "", port, rest);
    if (n < 0 || (size_t) n >= size)
        return s_fail (why, "output too small");
    return 0;
}

int
ag_indicator_normalize (uint8_t type, const char *value, char *out, size_t out_size,
                        const char **why)
{
    if (!value || !out || out_size == 0)
        return s_fail (why, "nothing to normalise");
    switch (type) {
    case MM_IOC_IP: {
        uint8_t b[16];
        int len;
        if (!s_addr (value, b, &len))
            return s_fail (why, "not an IPv4 or IPv6 address");
        return s_addr_text (b, len, out, out_size) ? 0 : s_fail (why, "output too small");
    }
    case MM_IOC_CIDR: return s_cidr (value, out, out_size, why);
    case MM_IOC_DOMAIN: return s_domain (value, out, out_size, why);
    case MM_IOC_URL: return s_url (value, out, out_size, why);
    case MM_IOC_JA3: return s_hex (value, 32, out, out_size, why);
    case MM_IOC_CERT_SHA1: return s_hex (value, 40, out, out_size, why);
    case MM_IOC_SHA256: return s_hex (value, 64, out, out_size, why);
    case MM_IOC_JA4: {
        size_t len = strlen (value);
        if (len == 0 || len > 64 || len >= out_size)
            return s_fail (why, "not a JA4 fingerprint (length)");
        for (size_t i = 0; i <= len; i++) {
            unsigned char c = (unsigned char) tolower ((unsigned char) value[i]);
            if (c && !isalnum (c) && c != '_')
                return s_fail (why, "not a JA4 fingerprint (characters)");
            out[i] = (char) c;
        }
        return 0;
    }
    default: return s_fail (why, "an unknown indicator type");
    }
}

int
ag_indicator_group (const ag_psl_t *psl, uint8_t type, const char *norm, char *out, size_t out_size)
{
    if (type == MM_IOC_IP) {
        uint8_t b[16];
        int len;
        char t[64];
        if (!s_addr (norm, b, &len))
            return -1;
        unsigned prefix = len == 4 ? 24 : 48;
        s_clear_host_bits (b, len, prefix);
        if (!s_addr_text (b, len, t, sizeof t))
            return -1;
        int n = snprintf (out, out_size, "%s/%u", t, prefix);
        return n > 0 && (size_t) n < out_size ? 0 : -1;
    }
    if (type == MM_IOC_DOMAIN && psl)
        return ag_psl_registered (psl, norm, out, out_size);
    if (type == MM_IOC_URL && psl) {
        //  The host between "://" and the port or path; an address host is its own group.
        const char *host = strstr (norm, "://");
        if (!host)
            return -1;
        host += 3;
        size_t hl = strcspn (host, ":/?#");
        char h[300];
        if (host[0] != '[' && hl > 0 && hl < sizeof h) {
            memcpy (h, host, hl);
            h[hl] = 0;
            uint8_t b[16];
            int len;
            if (!s_addr (h, b, &len))
                return ag_psl_registered (psl, h, out, out_size);
        }
    }
    int n = snprintf (out, out_size, "%s", norm);
    return n >= 0 && (size_t) n < out_size ? 0 : -1;
}
