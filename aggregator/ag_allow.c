/*  ag_allow: the allowlist gate (see ag_allow.h). Owner: aggregator/.
    Two small open-addressing tables of our own (linear probing, power-of-two capacity, at most
    3/4 full): one of fixed-size address keys, one of strings kept in a character pool. A file is
    parsed into a staging array and committed only if every line is good, with room reserved
    before the first insert, so a refused file leaves no trace, even when memory runs out. */
#include "ag_allow.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ag_indicator.h"
#include "mm_proto.h"

#define S_NAME_MAX 253          //  a domain name
#define S_ENTRY_MAX 300         //  longer than any address, name or hash
#define S_LINE_MAX 1024         //  a list file's line
#define S_ERRORS_KEPT 20        //  in err; the rest are counted
#define S_FILE_MAX (64u << 20)  //  a list file: about a million entries
#define S_HASH_TEXT_MAX 64      //  JA4 and SHA-256 are the longest exact values
#define S_NONE UINT32_MAX       //  no list

enum { S_ADDR = 1, S_NAME, S_HASH };

//  The special-purpose list: IANA's IPv4 and IPv6 special-purpose address registries (RFC 6890
//  and its successors) and the special-use domain names (RFC 6761, 6762, 7686, 8375).
static const char *s_special[] = {
    "0.0.0.0/8",     "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4",  //  with 255.255.255.255
    "::/128",        "::1/128",         "::ffff:0:0/96",  "64:ff9b::/96",   "64:ff9b:1::/48",
    "100::/64",      "2001::/23",       "2001:db8::/32",  "2002::/16",      "fc00::/7",
    "fe80::/10",     "ff00::/8",        "localhost",      "invalid",        "test",
    "example",       "example.com",     "example.net",    "example.org",    "local",
    "onion",         "home.arpa",       "in-addr.arpa",   "ip6.arpa"};

typedef struct {
    uint8_t used;
    uint8_t len;     //  4 or 16
    uint8_t prefix;  //  bits
    uint8_t b[16];   //  the network, host bits clear
    uint32_t list;
} s_addr_slot_t;

typedef struct {
    uint32_t off;  //  the key in the pool
    uint32_t len;  //  0: an empty slot (keys are never empty)
    uint32_t hash;
    uint32_t list;
} s_str_slot_t;

typedef struct {
    s_str_slot_t *slots;
    size_t cap, n;
    char *pool;  //  keys, not NUL-terminated
    size_t pool_len, pool_cap;
} s_strtab_t;

struct ag_allow_t {
    char **lists;  //  list names; entries hold an index
    size_t nlists, lists_cap;
    s_addr_slot_t *addrs;
    size_t addr_cap, addr_n;
    uint32_t count4[33], count6[129];  //  entries per prefix length
    uint8_t lens4[33], lens6[129];     //  the prefix lengths present, longest first
    size_t nlens4, nlens6;
    s_strtab_t names, hashes;
    s_strtab_t parents;  //  every parent of a listed name ("lta.go.jp" for "eltax.lta.go.jp")
};

//  One parsed entry, before it goes in.
typedef struct {
    int kind;
    uint8_t len, prefix;
    uint8_t b[16];
    char text[S_NAME_MAX + 1];  //  a name or a hash
    size_t text_len;
} s_entry_t;

//  Where error lines go: never past size, one a line.
typedef struct {
    char *buf;
    size_t size, pos;
} s_out_t;

static void
s_out_init (s_out_t *out, char *buf, size_t size)
{
    out->buf = size ? buf : NULL;
    out->size = buf ? size : 0;
    out->pos = 0;
    if (out->buf)
        out->buf[0] = 0;
}

static void s_out_line (s_out_t *out, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_out_line (s_out_t *out, const char *fmt, ...)
{
    if (!out->buf || out->pos + 1 >= out->size)
        return;
    if (out->pos > 0)
        out->buf[out->pos++] = '\n';
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (out->buf + out->pos, out->size - out->pos, fmt, ap);
    va_end (ap);
    if (n < 0)
        out->buf[out->pos] = 0;
    else if ((size_t) n >= out->size - out->pos)
        out->pos = out->size - 1;  //  truncated
    else
        out->pos += (size_t) n;
}

//  FNV-1a with a final avalanche (MurmurHash3's fmix64), so that the low bits the table uses
//  depend on every byte: list entries are often consecutive addresses or similar names.
static uint64_t
s_hash (const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

//  The capacity that holds `need` entries at most 3/4 full, or 0 if there is none.
static size_t
s_capacity (size_t cap, size_t need)
{
    if (cap == 0)
        cap = 64;
    while (need >= cap / 4 * 3) {
        if (cap > SIZE_MAX / 2 / sizeof (s_addr_slot_t))
            return 0;
        cap *= 2;
    }
    return cap;
}

static void
s_clear_host_bits (uint8_t *b, unsigned len, unsigned prefix)
{
    for (unsigned i = 0; i < len; i++) {
        unsigned bit = i * 8;
        if (bit >= prefix)
            b[i] = 0;
        else if (bit + 8 > prefix)
            b[i] &= (uint8_t) (0xff << (8 - (prefix - bit)));
    }
}

//  ---------------------------------------------------------------------------------------------
//  The address table

//  The slot holding (len, prefix, b), or the empty slot where it would go.
static size_t
s_addr_find (const ag_allow_t *self, uint8_t len, uint8_t prefix, const uint8_t *b)
{
    size_t mask = self->addr_cap - 1;
    size_t i = (size_t) s_hash (b, len, (uint64_t) len << 8 | prefix) & mask;
    while (self->addrs[i].used) {
        const s_addr_slot_t *s = &self->addrs[i];
        if (s->len == len && s->prefix == prefix && memcmp (s->b, b, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int
s_addr_reserve (ag_allow_t *self, size_t extra)
{
    if (extra > SIZE_MAX / 2 - self->addr_n)
        return -1;
    size_t cap = s_capacity (self->addr_cap, self->addr_n + extra);
    if (cap == 0)
        return -1;
    if (cap == self->addr_cap)
        return 0;
    s_addr_slot_t *slots = calloc (cap, sizeof *slots);
    if (!slots)
        return -1;
    s_addr_slot_t *old = self->addrs;
    size_t old_cap = self->addr_cap;
    self->addrs = slots;
    self->addr_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].used)
            self->addrs[s_addr_find (self, old[i].len, old[i].prefix, old[i].b)] = old[i];
    free (old);
    return 0;
}

//  Keeps the list of prefix lengths present, longest first, so a look-up probes only those.
static void
s_addr_lengths (ag_allow_t *self, uint8_t len)
{
    const uint32_t *count = len == 4 ? self->count4 : self->count6;
    uint8_t *lens = len == 4 ? self->lens4 : self->lens6;
    size_t n = 0;
    for (int p = len * 8; p >= 0; p--)
        if (count[p])
            lens[n++] = (uint8_t) p;
    if (len == 4)
        self->nlens4 = n;
    else
        self->nlens6 = n;
}

//  Room was reserved: this cannot fail. A duplicate keeps its first list.
static void
s_addr_insert (ag_allow_t *self, const s_entry_t *e, uint32_t list)
{
    size_t i = s_addr_find (self, e->len, e->prefix, e->b);
    s_addr_slot_t *s = &self->addrs[i];
    if (s->used)
        return;
    s->used = 1;
    s->len = e->len;
    s->prefix = e->prefix;
    memcpy (s->b, e->b, sizeof s->b);
    s->list = list;
    self->addr_n++;
    uint32_t *count = e->len == 4 ? self->count4 : self->count6;
    if (count[e->prefix]++ == 0)
        s_addr_lengths (self, e->len);
}

//  The list of the longest listed network of at most `upto` bits holding address b, or NULL.
static const char *
s_addr_match (const ag_allow_t *self, uint8_t len, const uint8_t *b, unsigned upto)
{
    const uint8_t *lens = len == 4 ? self->lens4 : self->lens6;
    size_t n = len == 4 ? self->nlens4 : self->nlens6;
    uint8_t net[16];
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > upto)
            continue;
        memcpy (net, b, len);
        s_clear_host_bits (net, len, lens[i]);
        const s_addr_slot_t *s = &self->addrs[s_addr_find (self, len, lens[i], net)];
        if (s->used)
            return self->lists[s->list];
    }
    return NULL;
}

//  Parses an address; *len 4 or 16. An IPv4-mapped IPv6 address stays IPv6 here.
static bool
s_addr_parse (const char *text, uint8_t *b, uint8_t *len)
{
    if (inet_pton (AF_INET, text, b) == 1) {
        *len = 4;
        return true;
    }
    if (inet_pton (AF_INET6, text, b) == 1) {
        *len = 16;
        return true;
    }
    return false;
}

static bool
s_v4_mapped (const uint8_t *b)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp (b, mapped, sizeof mapped) == 0;
}

//  An address indicator. Normal forms write a mapped address as IPv4; one that is not normal
//  is tried both ways, since a miss here means a warning that should not go out.
static const char *
s_ip_match (const ag_allow_t *self, const char *text)
{
    uint8_t b[16], len;
    if (!s_addr_parse (text, b, &len))
        return NULL;
    const char *list = s_addr_match (self, len, b, len * 8u);
    if (!list && len == 16 && s_v4_mapped (b))
        list = s_addr_match (self, 4, b + 12, 32);
    return list;
}

//  A CIDR indicator: inside a listed network, or holding a listed address or network.
static const char *
s_cidr_match (const ag_allow_t *self, const char *text)
{
    const char *slash = strchr (text, '/');
    char addr[64];
    if (!slash || (size_t) (slash - text) >= sizeof addr)
        return NULL;
    memcpy (addr, text, (size_t) (slash - text));
    addr[slash - text] = 0;
    uint8_t b[16], len;
    const char *digits = slash + 1;
    size_t nd = strspn (digits, "0123456789");
    if (!s_addr_parse (addr, b, &len) || nd == 0 || nd > 3 || digits[nd])
        return NULL;
    unsigned prefix = (unsigned) strtoul (digits, NULL, 10);
    if (prefix > len * 8u)
        return NULL;
    s_clear_host_bits (b, len, prefix);
    const char *list = s_addr_match (self, len, b, prefix);
    if (list)
        return list;
    //  Holding a listed entry: a walk of the table, which CIDR indicators are rare enough for.
    for (size_t i = 0; i < self->addr_cap; i++) {
        const s_addr_slot_t *s = &self->addrs[i];
        if (!s->used || s->len != len || s->prefix <= prefix)
            continue;
        uint8_t net[16];
        memcpy (net, s->b, len);
        s_clear_host_bits (net, len, prefix);
        if (memcmp (net, b, len) == 0)
            return self->lists[s->list];
    }
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  The string tables (names and hashes)

static size_t
s_str_find (const s_strtab_t *tab, const char *key, size_t len, uint32_t hash)
{
    size_t mask = tab->cap - 1;
    size_t i = hash & mask;
    while (tab->slots[i].len) {
        const s_str_slot_t *s = &tab->slots[i];
        if (s->hash == hash && s->len == len && memcmp (tab->pool + s->off, key, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static uint32_t
s_str_hash (const char *key, size_t len)
{
    return (uint32_t) s_hash (key, len, 0);
}

static int
s_str_reserve (s_strtab_t *tab, size_t extra, size_t bytes)
{
    if (extra > SIZE_MAX / 2 - tab->n || bytes > UINT32_MAX - tab->pool_len)
        return -1;  //  offsets are 32 bits
    if (tab->pool_len + bytes > tab->pool_cap) {
        size_t cap = tab->pool_cap ? tab->pool_cap : 4096;
        while (cap < tab->pool_len + bytes)
            cap *= 2;
        char *pool = realloc (tab->pool, cap);
        if (!pool)
            return -1;
        tab->pool = pool;
        tab->pool_cap = cap;
    }
    size_t cap = s_capacity (tab->cap, tab->n + extra);
    if (cap == 0)
        return -1;
    if (cap == tab->cap)
        return 0;
    s_str_slot_t *slots = calloc (cap, sizeof *slots);
    if (!slots)
        return -1;
    s_str_slot_t *old = tab->slots;
    size_t old_cap = tab->cap;
    tab->slots = slots;
    tab->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].len)
            tab->slots[s_str_find (tab, tab->pool + old[i].off, old[i].len, old[i].hash)] = old[i];
    free (old);
    return 0;
}

//  Room was reserved: this cannot fail. A duplicate keeps its first list.
static void
s_str_insert (s_strtab_t *tab, const char *key, size_t len, uint32_t list)
{
    uint32_t hash = s_str_hash (key, len);
    s_str_slot_t *s = &tab->slots[s_str_find (tab, key, len, hash)];
    if (s->len)
        return;
    memcpy (tab->pool + tab->pool_len, key, len);
    s->off = (uint32_t) tab->pool_len;
    s->len = (uint32_t) len;
    s->hash = hash;
    s->list = list;
    tab->pool_len += len;
    tab->n++;
}

//  The list holding this key, or S_NONE.
static uint32_t
s_str_lookup (const s_strtab_t *tab, const char *key, size_t len)
{
    const s_str_slot_t *s = &tab->slots[s_str_find (tab, key, len, s_str_hash (key, len))];
    return s->len ? s->list : S_NONE;
}

static void
s_str_free (s_strtab_t *tab)
{
    free (tab->slots);
    free (tab->pool);
    memset (tab, 0, sizeof *tab);
}

//  A domain: the name, then each parent from the longest, so the most specific entry wins.
static const char *
s_name_match (const ag_allow_t *self, const char *name, size_t len)
{
    char buf[S_NAME_MAX + 1];
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > S_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char) tolower ((unsigned char) name[i]);
    size_t start = 0;
    while (start < len) {
        uint32_t list = s_str_lookup (&self->names, buf + start, len - start);
        if (list != S_NONE)
            return self->lists[list];
        const char *dot = memchr (buf + start, '.', len - start);
        if (!dot)
            break;
        start = (size_t) (dot - buf) + 1;
    }
    return NULL;
}

//  A URL's host: after "://" and any user info, a name, an IPv4 address or "[IPv6]".
static const char *
s_url_match (const ag_allow_t *self, const char *norm)
{
    const char *host = strstr (norm, "://");
    if (!host)
        return NULL;
    host += 3;
    size_t alen = strcspn (host, "/?#");
    for (size_t i = alen; i > 0; i--)
        if (host[i - 1] == '@') {
            alen -= i;
            host += i;
            break;
        }
    char buf[S_NAME_MAX + 2];
    if (alen > 0 && host[0] == '[') {
        const char *close = memchr (host, ']', alen);
        if (!close || (size_t) (close - host - 1) >= sizeof buf)
            return NULL;
        memcpy (buf, host + 1, (size_t) (close - host - 1));
        buf[close - host - 1] = 0;
        return s_ip_match (self, buf);
    }
    const char *colon = memchr (host, ':', alen);
    size_t hl = colon ? (size_t) (colon - host) : alen;
    if (hl == 0 || hl >= sizeof buf)
        return NULL;
    memcpy (buf, host, hl);
    buf[hl] = 0;
    uint8_t b[16];
    if (inet_pton (AF_INET, buf, b) == 1)
        return s_addr_match (self, 4, b, 32);
    return s_name_match (self, buf, hl);
}

static const char *
s_hash_match (const ag_allow_t *self, const char *norm)
{
    char buf[S_HASH_TEXT_MAX];
    size_t len = strlen (norm);
    if (len == 0 || len > sizeof buf)
        return NULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char) tolower ((unsigned char) norm[i]);
    uint32_t list = s_str_lookup (&self->hashes, buf, len);
    return list == S_NONE ? NULL : self->lists[list];
}

//  ---------------------------------------------------------------------------------------------
//  Entries

static int s_why (char *why, size_t size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_why (char *why, size_t size, const char *fmt, ...)
{
    if (why && size) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (why, size, fmt, ap);
        va_end (ap);
    }
    return -1;
}

static bool
s_is_hash (const char *value, size_t len)
{
    return (len == 32 || len == 40 || len == 64) && strspn (value, "0123456789abcdefABCDEF") == len;
}

static int
s_parse (const char *value, s_entry_t *e, char *why, size_t why_size)
{
    memset (e, 0, sizeof *e);
    size_t vlen = strlen (value);
    if (vlen == 0)
        return s_why (why, why_size, "an empty entry");
    if (vlen > S_ENTRY_MAX)
        return s_why (why, why_size, "an entry longer than %d characters", S_ENTRY_MAX);
    if (s_is_hash (value, vlen)) {
        for (size_t i = 0; i <= vlen; i++)
            e->text[i] = (char) tolower ((unsigned char) value[i]);
        e->text_len = vlen;
        e->kind = S_HASH;
        return 0;
    }
    //  Anything with a '/' or ':', or only digits and dots, is meant as an address.
    const char *slash = strchr (value, '/');
    size_t alen = slash ? (size_t) (slash - value) : vlen;
    if (slash || memchr (value, ':', alen) || strspn (value, "0123456789.") == vlen) {
        char addr[64];
        if (alen == 0 || alen >= sizeof addr)
            return s_why (why, why_size, "'%s' is not an IPv4 or IPv6 address", value);
        memcpy (addr, value, alen);
        addr[alen] = 0;
        if (!s_addr_parse (addr, e->b, &e->len))
            return s_why (why, why_size, "'%s' is not an IPv4 or IPv6 address", addr);
        unsigned max = e->len * 8u, prefix = max;
        if (slash) {
            const char *digits = slash + 1;
            size_t nd = strspn (digits, "0123456789");
            if (nd == 0 || nd > 3 || digits[nd] ||
                (prefix = (unsigned) strtoul (digits, NULL, 10)) > max)
                return s_why (why, why_size, "'%s' is not a prefix length 0..%u", digits, max);
        }
        //  Indicators write mapped addresses as IPv4, so such an entry would never match.
        if (e->len == 16 && prefix > 96 && s_v4_mapped (e->b))
            return s_why (why, why_size, "'%s' is an IPv4-mapped address: write it as IPv4", value);
        //  "10.1.2.3/8" is far more likely a typo than a way to write 10.0.0.0/8, and it would
        //  allowlist 16 million addresses: refused, with the network it would have meant.
        uint8_t net[16];
        memcpy (net, e->b, sizeof net);
        s_clear_host_bits (net, e->len, prefix);
        if (memcmp (net, e->b, e->len) != 0) {
            char text[INET6_ADDRSTRLEN];
            inet_ntop (e->len == 4 ? AF_INET : AF_INET6, net, text, sizeof text);
            return s_why (why, why_size, "'%s' has host bits set (the network is %s/%u)", value,
                          text, prefix);
        }
        e->prefix = (uint8_t) prefix;
        e->kind = S_ADDR;
        return 0;
    }
    const char *reason = NULL;
    if (ag_indicator_normalize (MM_IOC_DOMAIN, value, e->text, sizeof e->text, &reason) == -1)
        return s_why (why, why_size, "'%s' is not an address, network, domain name or hash (%s)",
                      value, reason ? reason : "?");
    e->text_len = strlen (e->text);
    e->kind = S_NAME;
    return 0;
}

//  The index of list `name`, added if new; -1 if out of memory. Lists are few (a handful of
//  files and the orgs' own), and this runs per file or per added entry, not per look-up.
static int64_t
s_list_id (ag_allow_t *self, const char *name)
{
    for (size_t i = self->nlists; i > 0; i--)
        if (strcmp (self->lists[i - 1], name) == 0)
            return (int64_t) (i - 1);
    if (self->nlists >= UINT32_MAX - 1)
        return -1;
    if (self->nlists == self->lists_cap) {
        size_t cap = self->lists_cap ? self->lists_cap * 2 : 8;
        char **lists = realloc (self->lists, cap * sizeof *lists);
        if (!lists)
            return -1;
        self->lists = lists;
        self->lists_cap = cap;
    }
    char *copy = strdup (name);
    if (!copy)
        return -1;
    self->lists[self->nlists] = copy;
    return (int64_t) self->nlists++;
}

//  All of `n` entries go in, or none.
static int
s_commit (ag_allow_t *self, const s_entry_t *e, size_t n, const char *list)
{
    if (n == 0)
        return 0;
    int64_t id = s_list_id (self, list);
    if (id < 0)
        return -1;
    size_t addrs = 0, names = 0, hashes = 0, name_bytes = 0, hash_bytes = 0;
    size_t parents = 0, parent_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == S_ADDR)
            addrs++;
        else if (e[i].kind == S_NAME) {
            names++;
            name_bytes += e[i].text_len;
            for (size_t k = 0; k < e[i].text_len; k++)
                if (e[i].text[k] == '.') {
                    parents++;
                    parent_bytes += e[i].text_len - k - 1;
                }
        }
        else {
            hashes++;
            hash_bytes += e[i].text_len;
        }
    }
    if (s_addr_reserve (self, addrs) == -1 || s_str_reserve (&self->names, names, name_bytes) ||
        s_str_reserve (&self->hashes, hashes, hash_bytes) ||
        s_str_reserve (&self->parents, parents, parent_bytes))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (e[i].kind == S_ADDR)
            s_addr_insert (self, &e[i], (uint32_t) id);
        else
            s_str_insert (e[i].kind == S_NAME ? &self->names : &self->hashes, e[i].text,
                          e[i].text_len, (uint32_t) id);
        for (size_t k = 0; e[i].kind == S_NAME && k < e[i].text_len; k++)
            if (e[i].text[k] == '.')
                s_str_insert (&self->parents, e[i].text + k + 1, e[i].text_len - k - 1,
                              (uint32_t) id);
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  The class

ag_allow_t *
ag_allow_new (void)
{
    ag_allow_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (s_addr_reserve (self, 0) || s_str_reserve (&self->names, 0, 0) ||
        s_str_reserve (&self->hashes, 0, 0) || s_str_reserve (&self->parents, 0, 0)) {
        ag_allow_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < sizeof s_special / sizeof s_special[0]; i++)
        if (ag_allow_add (self, s_special[i], "special-purpose") == -1) {
            ag_allow_destroy (&self);
            return NULL;
        }
    return self;
}

void
ag_allow_destroy (ag_allow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_allow_t *self = *self_p;
    for (size_t i = 0; i < self->nlists; i++)
        free (self->lists[i]);
    free (self->lists);
    free (self->addrs);
    s_str_free (&self->names);
    s_str_free (&self->hashes);
    s_str_free (&self->parents);
    free (self);
    *self_p = NULL;
}

int
ag_allow_add_why (ag_allow_t *self, const char *value, const char *list, char *why, size_t why_size)
{
    if (!self || !value || !list || !*list)
        return s_why (why, why_size, "no value or no list name");
    s_entry_t e;
    if (s_parse (value, &e, why, why_size) == -1)
        return -1;
    if (s_commit (self, &e, 1, list) == -1)
        return s_why (why, why_size, "out of memory");
    return 0;
}

int
ag_allow_add (ag_allow_t *self, const char *value, const char *list)
{
    return ag_allow_add_why (self, value, list, NULL, 0);
}

int
ag_allow_load_text (ag_allow_t *self, const char *text, size_t len, const char *origin,
                    const char *list, char *err, size_t err_size)
{
    s_out_t out;
    s_out_init (&out, err, err_size);
    if (!origin)
        origin = "(text)";
    if (!self || (!text && len) || !list || !*list) {
        s_out_line (&out, "%s: nothing to load", origin);
        return -1;
    }
    s_entry_t *stage = NULL;
    size_t n = 0, cap = 0, errors = 0, lineno = 0, pos = 0;
    int rc = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr (line, '\n', len - pos);
        size_t ll = nl ? (size_t) (nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        char reason[S_ENTRY_MAX + 200];
        if (ll > S_LINE_MAX)
            snprintf (reason, sizeof reason, "a line longer than %d characters", S_LINE_MAX);
        else if (memchr (line, 0, ll))
            snprintf (reason, sizeof reason, "a NUL byte");
        else {
            char buf[S_LINE_MAX + 1];
            memcpy (buf, line, ll);
            buf[ll] = 0;
            buf[strcspn (buf, "#")] = 0;
            const char *blank = " \t\r\v\f";
            char *start = buf + strspn (buf, blank);
            size_t sl = strlen (start);
            while (sl > 0 && strchr (blank, start[sl - 1]))
                start[--sl] = 0;
            if (sl == 0)
                continue;
            if (strcspn (start, blank) != sl)
                snprintf (reason, sizeof reason, "more than one entry on the line");
            else {
                if (n == cap) {
                    size_t ncap = cap ? cap * 2 : 64;
                    s_entry_t *grown = realloc (stage, ncap * sizeof *grown);
                    if (!grown) {
                        s_out_line (&out, "%s: out of memory", origin);
                        rc = -1;
                        break;
                    }
                    stage = grown;
                    cap = ncap;
                }
                if (s_parse (start, &stage[n], reason, sizeof reason) == 0) {
                    n++;
                    continue;
                }
            }
        }
        if (++errors <= S_ERRORS_KEPT)
            s_out_line (&out, "%s:%zu: %s", origin, lineno, reason);
    }
    if (errors > S_ERRORS_KEPT)
        s_out_line (&out, "%s: %zu more errors", origin, errors - S_ERRORS_KEPT);
    if (rc == 0 && errors == 0 && s_commit (self, stage, n, list) == -1) {
        s_out_line (&out, "%s: out of memory", origin);
        rc = -1;
    }
    free (stage);
    return errors ? -1 : rc;
}

int
ag_allow_load_file (ag_allow_t *self, const char *path, char *err, size_t err_size)
{
    s_out_t out;
    s_out_init (&out, err, err_size);
    if (!self || !path) {
        s_out_line (&out, "no gate or no path");
        return -1;
    }
    FILE *f = fopen (path, "rb");
    if (!f) {
        s_out_line (&out, "%s: %s", path, strerror (errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *grown = ncap <= S_FILE_MAX ? realloc (text, ncap) : NULL;
            if (!grown) {
                s_out_line (&out, "%s: %s", path,
                            ncap > S_FILE_MAX ? "larger than 64 MiB" : "out of memory");
                rc = -1;
                break;
            }
            text = grown;
            cap = ncap;
        }
        size_t got = fread (text + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror (f)) {
                s_out_line (&out, "%s: read error", path);
                rc = -1;
            }
            break;
        }
    }
    fclose (f);
    if (rc == 0) {
        //  The list's name is the file's, without the directory and ".list".
        const char *base = strrchr (path, '/');
        base = base ? base + 1 : path;
        char name[256];
        snprintf (name, sizeof name, "%s", base);
        size_t nl = strlen (name);
        if (nl > 5 && strcmp (name + nl - 5, ".list") == 0)
            name[nl - 5] = 0;
        rc = ag_allow_load_text (self, text, len, path, name, err, err_size);
    }
    free (text);
    return rc;
}

static int
s_strcmp_p (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

int
ag_allow_load_dir (ag_allow_t *self, const char *dir, char *err, size_t err_size)
{
    s_out_t out;
    s_out_init (&out, err, err_size);
    if (!self || !dir) {
        s_out_line (&out, "no gate or no directory");
        return -1;
    }
    DIR *d = opendir (dir);
    if (!d) {
        s_out_line (&out, "%s: %s", dir, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir (d))) {
        size_t len = strlen (de->d_name);
        if (de->d_name[0] == '.' || len <= 5 || strcmp (de->d_name + len - 5, ".list") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc (names, ncap * sizeof *grown);
            if (!grown)
                break;
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup (de->d_name)))
            break;
        n++;
        errno = 0;
    }
    if (errno) {
        s_out_line (&out, "%s: %s", dir, strerror (errno));
        rc = -1;
    }
    closedir (d);
    if (n > 0)
        qsort (names, n, sizeof *names, s_strcmp_p);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) {
            s_out_line (&out, "%s/%s: path too long", dir, names[i]);
            rc = -1;
            continue;
        }
        if (stat (path, &st) == -1) {
            s_out_line (&out, "%s: %s", path, strerror (errno));
            rc = -1;
            continue;
        }
        if (!S_ISREG (st.st_mode))
            continue;
        //  This file's errors go after the ones before, on a line of their own.
        size_t sep = out.buf && out.pos > 0 ? 1 : 0;
        char *sub = NULL;
        size_t sub_size = 0;
        if (out.buf && out.pos + sep + 1 < out.size) {
            sub = out.buf + out.pos + sep;
            sub_size = out.size - out.pos - sep;
        }
        if (ag_allow_load_file (self, path, sub, sub_size) == -1) {
            rc = -1;
            if (sub) {
                if (sep)
                    out.buf[out.pos] = '\n';
                out.pos += sep + strlen (sub);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        free (names[i]);
    free (names);
    return rc;
}

const char *
ag_allow_match (const ag_allow_t *self, uint8_t type, const char *norm)
{
    if (!self || !norm)
        return NULL;
    switch (type) {
    case MM_IOC_IP: return s_ip_match (self, norm);
    case MM_IOC_CIDR: return s_cidr_match (self, norm);
    case MM_IOC_DOMAIN: return s_name_match (self, norm, strlen (norm));
    case MM_IOC_URL: return s_url_match (self, norm);
    case MM_IOC_JA3:
    case MM_IOC_JA4:
    case MM_IOC_CERT_SHA1:
    case MM_IOC_SHA256: return s_hash_match (self, norm);
    default: return NULL;
    }
}

size_t
ag_allow_entries (const ag_allow_t *self)
{
    return self ? self->addr_n + self->names.n + self->hashes.n : 0;
}

const char *
ag_allow_under (const ag_allow_t *self, const char *domain)
{
    size_t len = strlen (domain);
    if (len == 0 || len > S_NAME_MAX)
        return NULL;
    char buf[S_NAME_MAX + 1];
    for (size_t i = 0; i < len; i++)
        buf[i] = (char) tolower ((unsigned char) domain[i]);
    if (buf[len - 1] == '.')
        len--;
    uint32_t list = s_str_lookup (&self->names, buf, len);
    if (list == S_NONE)
        list = s_str_lookup (&self->parents, buf, len);
    return list == S_NONE ? NULL : self->lists[list];
}
