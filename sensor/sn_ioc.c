/*  sn_ioc: the indicator set and its feed loaders (see sn_ioc.h). Records are 16 bytes: the
    keyed hash (SipHash, so packet contents cannot aim at a cluster) with the kind in its low
    byte, the value itself (IPv4) or its offset in the arena, and the prefix length with the
    meta index. Linear probing, at most 70 % full; a Bloom filter of one byte per slot answers
    most misses without touching the table, and a smaller one per network saves the probes of
    prefix lengths an address is not listed under. Owner: sensor. */
#include "sn_ioc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_distinct.h"

//  Kinds of record: an mm_ioc_type_t split by address family.
enum {
    K_NONE = 0,
    K_IP4,
    K_IP6,
    K_NET4,
    K_NET6,
    K_DOMAIN,
    K_URL,
    K_JA3,
    K_JA4,
    K_SHA1,
    K_SHA256,
    K_COUNT_,
    K_TOMB = 0xff,  //  a removed record (hash part 0): probing goes on past it
};

static const uint8_t s_kind_type[K_COUNT_] = {
    [K_IP4] = MM_IOC_IP,       [K_IP6] = MM_IOC_IP,        [K_NET4] = MM_IOC_CIDR,
    [K_NET6] = MM_IOC_CIDR,    [K_DOMAIN] = MM_IOC_DOMAIN, [K_URL] = MM_IOC_URL,
    [K_JA3] = MM_IOC_JA3,      [K_JA4] = MM_IOC_JA4,       [K_SHA1] = MM_IOC_CERT_SHA1,
    [K_SHA256] = MM_IOC_SHA256};

#define S_LOAD_PCT 70          //  grow the table beyond this fill
#define S_META_MAX (1u << 24)  //  meta index field width
#define S_FEED_MAX 65535
#define S_LINE_MAX 4096
#define S_FILE_MAX (2ULL << 30)  //  feed files are read whole; refuse absurd ones

typedef struct {
    uint64_t hk;   //  hash (high 56 bits) | kind (low 8); 0: empty slot
    uint32_t val;  //  IPv4 address (network order, as stored bytes) or arena offset
    uint32_t pm;   //  prefix length (high 8 bits) | meta index (low 24)
} s_rec_t;

typedef struct {
    uint64_t expires;
    uint16_t feed;
    uint8_t category, severity, block;
    uint8_t pad[3];
} s_meta_t;

typedef struct {
    char name[MM_ID_MAX + 1];
    uint64_t path_hash;  //  which file (0: WATCHLIST or a buffer)
} s_feed_t;

struct sn_ioc {
    uint64_t max;
    unsigned char key[crypto_shorthash_KEYBYTES];
    s_rec_t *recs;
    uint64_t cap, mask, live, tombs;
    //  A Bloom filter over the records (8 bits per slot, 2 bits per record): a lookup that
    //  misses, the common case, mostly stops there, in cache, instead of reading the table.
    uint64_t *bloom;
    uint8_t *arena;
    uint64_t arena_len, arena_cap;
    s_meta_t *metas;
    uint32_t n_metas, metas_cap;
    uint32_t *meta_map;  //  open addressing over metas, index + 1
    uint32_t meta_map_cap;
    s_feed_t *feeds;
    uint32_t n_feeds, feeds_cap;
    uint64_t v4_lens;     //  bit p: some IPv4 network of prefix p is held
    uint64_t v6_lens[3];  //  bits 0..128
    uint32_t v4_nets[33], v6_nets[129];
    //  A filter in front of the network probes: two bits per (prefix length, network) in a
    //  bitmap of ~16 bits per network, small enough to stay in cache. A random address then
    //  costs a few cache hits per prefix length held instead of a table probe each.
    uint64_t *nfilter;
    uint64_t nfilter_bits, nfilter_room, fseed;
    uint64_t count[MM_IOC_SHA256 + 1];
    bool replace;  //  a WATCHLIST set: a repeated add replaces the meta
    uint64_t serial;
    uint8_t iprep_cat[256];  //  Suricata iprep category id -> mm_category_t (0: unknown)
    uint64_t bytes;          //  allocated, for sn_ioc_memory
};

//  A parsed indicator: its kind, prefix length (networks) and value bytes.
typedef struct {
    uint8_t kind;
    uint8_t plen;
    uint32_t len;
    uint8_t b[SN_IOC_VALUE_MAX + 1];
} s_key_t;

//  ---------------------------------------------------------------------------------------------
//  Memory: every allocation of a set is counted.

static void *
s_realloc (sn_ioc_t *self, void *ptr, size_t old_size, size_t new_size)
{
    void *p = realloc (ptr, new_size);
    if (!p && new_size)
        return NULL;
    self->bytes = self->bytes - old_size + new_size;
    return p;
}

static void *
s_calloc (sn_ioc_t *self, size_t n, size_t size)
{
    void *p = calloc (n, size);
    if (p)
        self->bytes += n * size;
    return p;
}

static void
s_free (sn_ioc_t *self, void *ptr, size_t size)
{
    free (ptr);
    self->bytes -= size;
}

sn_ioc_t *
sn_ioc_new (uint64_t max)
{
    if (sodium_init () < 0)
        return NULL;
    sn_ioc_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->bytes = sizeof *self;
    self->max = max;
    crypto_shorthash_keygen (self->key);
    randombytes_buf (&self->fseed, sizeof self->fseed);
    self->cap = 1024;
    self->mask = self->cap - 1;
    self->recs = s_calloc (self, self->cap, sizeof *self->recs);
    self->bloom = s_calloc (self, self->cap / 8, sizeof (uint64_t));
    if (!self->recs || !self->bloom) {
        free (self->recs);
        free (self->bloom);
        free (self);
        return NULL;
    }
    return self;
}

void
sn_ioc_destroy (sn_ioc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_ioc_t *self = *self_p;
    free (self->recs);
    free (self->bloom);
    free (self->arena);
    free (self->metas);
    free (self->meta_map);
    free (self->feeds);
    free (self->nfilter);
    free (self);
    *self_p = NULL;
}

uint64_t
sn_ioc_size (const sn_ioc_t *self)
{
    return self->live;
}

uint64_t
sn_ioc_count (const sn_ioc_t *self, uint8_t type)
{
    return type <= MM_IOC_SHA256 ? self->count[type] : 0;
}

uint64_t
sn_ioc_memory (const sn_ioc_t *self)
{
    return self->bytes;
}

uint8_t
sn_ioc_default_severity (uint8_t category)
{
    switch (category) {
    case MM_CAT_MALWARE:
    case MM_CAT_C2_BEACON: return MM_SEV_HIGH;
    case MM_CAT_NONE:
    case MM_CAT_SCAN:
    case MM_CAT_POLICY:
    case MM_CAT_EXPOSED_SERVICE:
    case MM_CAT_SENSOR: return MM_SEV_LOW;
    default: return MM_SEV_MEDIUM;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Feeds and metas

static uint64_t
s_path_hash (const char *path)
{
    uint64_t h = sn_distinct_hash (path, strlen (path));
    return h ? h : 1;
}

//  The index of feed (name, path_hash) among the feeds from index `from` on, added if new;
//  -1 if full or out of memory.
static int
s_feed_intern (sn_ioc_t *self, const char *name, size_t name_len, uint64_t path_hash, uint32_t from)
{
    if (name_len > MM_ID_MAX)
        name_len = MM_ID_MAX;
    for (uint32_t i = self->n_feeds; i > from; i--) {
        const s_feed_t *f = &self->feeds[i - 1];
        if (f->path_hash == path_hash && strlen (f->name) == name_len &&
            memcmp (f->name, name, name_len) == 0)
            return (int) (i - 1);
    }
    if (self->n_feeds >= S_FEED_MAX)
        return -1;
    if (self->n_feeds == self->feeds_cap) {
        uint32_t cap = self->feeds_cap ? self->feeds_cap * 2 : 8;
        s_feed_t *f = s_realloc (self, self->feeds, self->feeds_cap * sizeof *f, cap * sizeof *f);
        if (!f)
            return -1;
        self->feeds = f;
        self->feeds_cap = cap;
    }
    s_feed_t *f = &self->feeds[self->n_feeds];
    memset (f, 0, sizeof *f);
    memcpy (f->name, name, name_len);
    f->path_hash = path_hash;
    return (int) self->n_feeds++;
}

static uint32_t
s_meta_hash (const s_meta_t *m)
{
    return (uint32_t) sn_distinct_hash (m, sizeof *m);
}

static int
s_meta_map_grow (sn_ioc_t *self)
{
    uint32_t cap = self->meta_map_cap ? self->meta_map_cap * 2 : 64;
    uint32_t *map = s_calloc (self, cap, sizeof *map);
    if (!map)
        return -1;
    for (uint32_t i = 0; i < self->n_metas; i++) {
        uint32_t j = s_meta_hash (&self->metas[i]) & (cap - 1);
        while (map[j])
            j = (j + 1) & (cap - 1);
        map[j] = i + 1;
    }
    s_free (self, self->meta_map, self->meta_map_cap * sizeof *map);
    self->meta_map = map;
    self->meta_map_cap = cap;
    return 0;
}

//  The index of this meta, added if new (severity 0 resolved by category); -1 on failure.
static int64_t
s_meta_intern (sn_ioc_t *self, uint8_t category, uint8_t severity, bool block, uint16_t feed,
               uint64_t expires)
{
    s_meta_t m;
    memset (&m, 0, sizeof m);
    m.category = category ? category : MM_CAT_IOC_MATCH;
    m.severity = severity ? severity : sn_ioc_default_severity (m.category);
    m.block = block;
    m.feed = feed;
    m.expires = expires;
    if ((self->n_metas + 1) * 2 > self->meta_map_cap && s_meta_map_grow (self) == -1)
        return -1;
    uint32_t j = s_meta_hash (&m) & (self->meta_map_cap - 1);
    while (self->meta_map[j]) {
        if (memcmp (&self->metas[self->meta_map[j] - 1], &m, sizeof m) == 0)
            return self->meta_map[j] - 1;
        j = (j + 1) & (self->meta_map_cap - 1);
    }
    if (self->n_metas >= S_META_MAX)
        return -1;
    if (self->n_metas == self->metas_cap) {
        uint32_t cap = self->metas_cap ? self->metas_cap * 2 : 16;
        s_meta_t *p = s_realloc (self, self->metas, self->metas_cap * sizeof m, cap * sizeof m);
        if (!p)
            return -1;
        self->metas = p;
        self->metas_cap = cap;
    }
    self->metas[self->n_metas] = m;
    self->meta_map[j] = self->n_metas + 1;
    return self->n_metas++;
}

//  ---------------------------------------------------------------------------------------------
//  Records

static uint64_t
s_hash (const sn_ioc_t *self, uint8_t kind, uint8_t plen, const uint8_t *b, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash (out, b, len, self->key);
    uint64_t h;
    memcpy (&h, out, sizeof h);
    //  Kind and prefix length salt the hash: the same bytes as a domain and as a JA4 (or a
    //  network at two lengths) land apart.
    h ^= (uint64_t) kind * 0x9e3779b97f4a7c15ULL ^ (uint64_t) plen * 0xc2b2ae3d27d4eb4fULL;
    return (h & ~0xffULL) | kind;
}

static bool
s_inline (uint8_t kind)
{
    return kind == K_IP4 || kind == K_NET4;
}

//  The stored value bytes of a record.
static const uint8_t *
s_rec_value (const sn_ioc_t *self, const s_rec_t *r, uint32_t *len)
{
    uint8_t kind = (uint8_t) r->hk;
    if (s_inline (kind)) {
        *len = 4;
        return (const uint8_t *) &r->val;
    }
    const uint8_t *p = self->arena + r->val;
    uint32_t n = p[0] & 0x7f;
    if (p[0] & 0x80) {
        n |= (uint32_t) p[1] << 7;
        p++;
    }
    *len = n;
    return p + 1;
}

static bool
s_rec_equal (const sn_ioc_t *self, const s_rec_t *r, uint8_t plen, const uint8_t *b, uint32_t len)
{
    if ((r->pm >> 24) != plen)
        return false;
    uint32_t n;
    const uint8_t *v = s_rec_value (self, r, &n);
    return n == len && memcmp (v, b, len) == 0;
}

//  The two filter bits of a record hash, for a table of `cap` slots (cap * 8 bits).
static void
s_bloom_bits (uint64_t hk, uint64_t cap, uint64_t *b1, uint64_t *b2)
{
    uint64_t x = (hk ^ hk >> 29) * 0xbf58476d1ce4e5b9ULL;
    *b1 = (x ^ x >> 31) & (cap * 8 - 1);
    *b2 = (x >> 34 ^ x >> 7) & (cap * 8 - 1);
}

static void
s_bloom_set (uint64_t *bloom, uint64_t cap, uint64_t hk)
{
    uint64_t b1, b2;
    s_bloom_bits (hk, cap, &b1, &b2);
    bloom[b1 / 64] |= 1ULL << (b1 % 64);
    bloom[b2 / 64] |= 1ULL << (b2 % 64);
}

static bool
s_bloom_may (const sn_ioc_t *self, uint64_t hk)
{
    uint64_t b1, b2;
    s_bloom_bits (hk, self->cap, &b1, &b2);
    return (self->bloom[b1 / 64] >> (b1 % 64) & 1) && (self->bloom[b2 / 64] >> (b2 % 64) & 1);
}

//  The record holding (kind, plen, bytes), or NULL.
static const s_rec_t *
s_find (const sn_ioc_t *self, uint8_t kind, uint8_t plen, const uint8_t *b, uint32_t len)
{
    uint64_t hk = s_hash (self, kind, plen, b, len);
    if (!s_bloom_may (self, hk))
        return NULL;
    for (uint64_t i = (hk >> 8) & self->mask;; i = (i + 1) & self->mask) {
        const s_rec_t *r = &self->recs[i];
        if (r->hk == 0)
            return NULL;
        if (r->hk == hk && s_rec_equal (self, r, plen, b, len))
            return r;
    }
}

static int
s_rehash (sn_ioc_t *self, uint64_t cap)
{
    s_rec_t *recs = s_calloc (self, cap, sizeof *recs);
    uint64_t *bloom = s_calloc (self, cap / 8, sizeof (uint64_t));
    if (!recs || !bloom) {
        s_free (self, recs, recs ? cap * sizeof *recs : 0);
        s_free (self, bloom, bloom ? cap / 8 * sizeof (uint64_t) : 0);
        return -1;
    }
    for (uint64_t i = 0; i < self->cap; i++) {
        const s_rec_t *r = &self->recs[i];
        if (r->hk == 0 || (uint8_t) r->hk == K_TOMB)
            continue;
        uint64_t j = (r->hk >> 8) & (cap - 1);
        while (recs[j].hk)
            j = (j + 1) & (cap - 1);
        recs[j] = *r;
        s_bloom_set (bloom, cap, r->hk);
    }
    s_free (self, self->recs, self->cap * sizeof *recs);
    s_free (self, self->bloom, self->cap / 8 * sizeof (uint64_t));
    self->recs = recs;
    self->bloom = bloom;
    self->cap = cap;
    self->mask = cap - 1;
    self->tombs = 0;
    return 0;
}

static int64_t
s_arena_put (sn_ioc_t *self, const uint8_t *b, uint32_t len)
{
    uint64_t need = self->arena_len + len + 2;
    if (need > UINT32_MAX)
        return -1;
    if (need > self->arena_cap) {
        uint64_t cap = self->arena_cap ? self->arena_cap + self->arena_cap / 2 : 4096;
        if (cap < need)
            cap = need;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        uint8_t *a = s_realloc (self, self->arena, self->arena_cap, cap);
        if (!a)
            return -1;
        self->arena = a;
        self->arena_cap = cap;
    }
    uint64_t off = self->arena_len;
    uint8_t *p = self->arena + off;
    if (len < 0x80)
        *p++ = (uint8_t) len;
    else {
        *p++ = (uint8_t) (0x80 | (len & 0x7f));
        *p++ = (uint8_t) (len >> 7);
    }
    memcpy (p, b, len);
    self->arena_len = (uint64_t) (p + len - self->arena);
    return (int64_t) off;
}

static void
s_lens_add (sn_ioc_t *self, uint8_t kind, uint8_t plen, int delta)
{
    if (kind == K_NET4) {
        self->v4_nets[plen] = (uint32_t) ((int64_t) self->v4_nets[plen] + delta);
        if (self->v4_nets[plen])
            self->v4_lens |= 1ULL << plen;
        else
            self->v4_lens &= ~(1ULL << plen);
    }
    else if (kind == K_NET6) {
        self->v6_nets[plen] = (uint32_t) ((int64_t) self->v6_nets[plen] + delta);
        if (self->v6_nets[plen])
            self->v6_lens[plen / 64] |= 1ULL << (plen % 64);
        else
            self->v6_lens[plen / 64] &= ~(1ULL << (plen % 64));
    }
}

static uint64_t
s_net_fhash (const sn_ioc_t *self, const uint8_t *b, uint32_t len, uint8_t plen)
{
    uint64_t x = 0, y = 0;
    memcpy (&x, b, len < 8 ? len : 8);
    if (len > 8)
        memcpy (&y, b + 8, len - 8);
    uint64_t h = self->fseed ^ (uint64_t) plen * 0x9e3779b97f4a7c15ULL;
    h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
    h = (h ^ y) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 32);
}

static void
s_nfilter_set (sn_ioc_t *self, const uint8_t *b, uint32_t len, uint8_t plen)
{
    uint64_t h = s_net_fhash (self, b, len, plen), mask = self->nfilter_bits - 1;
    uint64_t b1 = h & mask, b2 = (h >> 32 ^ h >> 11) & mask;
    self->nfilter[b1 / 64] |= 1ULL << (b1 % 64);
    self->nfilter[b2 / 64] |= 1ULL << (b2 % 64);
}

//  False only if no network (plen, b) is held. Without a filter, everything may be.
static bool
s_nfilter_may (const sn_ioc_t *self, const uint8_t *b, uint32_t len, uint8_t plen)
{
    if (!self->nfilter)
        return true;
    uint64_t h = s_net_fhash (self, b, len, plen), mask = self->nfilter_bits - 1;
    uint64_t b1 = h & mask, b2 = (h >> 32 ^ h >> 11) & mask;
    return (self->nfilter[b1 / 64] >> (b1 % 64) & 1) && (self->nfilter[b2 / 64] >> (b2 % 64) & 1);
}

//  Sizes the filter for twice the networks held and fills it from the table. On failure the
//  filter goes: lookups then probe every length, slower but right.
static void
s_nfilter_rebuild (sn_ioc_t *self)
{
    uint64_t room = self->count[MM_IOC_CIDR] * 2 + 64, bits = 1024;
    while (bits < room * 16)
        bits *= 2;
    s_free (self, self->nfilter, self->nfilter_bits / 8);
    self->nfilter = s_calloc (self, bits / 64, sizeof (uint64_t));
    self->nfilter_bits = self->nfilter ? bits : 0;
    self->nfilter_room = self->nfilter ? room : 0;
    if (!self->nfilter)
        return;
    for (uint64_t i = 0; i < self->cap; i++) {
        const s_rec_t *r = &self->recs[i];
        uint8_t kind = (uint8_t) r->hk;
        if (r->hk == 0 || (kind != K_NET4 && kind != K_NET6))
            continue;
        uint32_t n;
        const uint8_t *v;
        if (kind == K_NET4)
            v = (const uint8_t *) &r->val, n = 4;
        else {
            const uint8_t *p = self->arena + r->val;
            n = p[0];
            v = p + 1;
        }
        s_nfilter_set (self, v, n, (uint8_t) (r->pm >> 24));
    }
}

enum { S_ADDED = 0, S_DUP = 1, S_FULL = -2, S_NOMEM = -3 };

//  Inserts a key with meta `meta`, or returns S_DUP with *found set to the existing record.
static int
s_insert (sn_ioc_t *self, const s_key_t *k, uint32_t meta, s_rec_t **found)
{
    if ((self->live + self->tombs + 1) * 100 > self->cap * S_LOAD_PCT) {
        uint64_t cap =
            (self->live + 1) * 100 > self->cap * (S_LOAD_PCT / 2) ? self->cap * 2 : self->cap;
        if (s_rehash (self, cap) == -1)
            return S_NOMEM;
    }
    uint64_t hk = s_hash (self, k->kind, k->plen, k->b, k->len);
    s_rec_t *slot = NULL;
    uint64_t i = (hk >> 8) & self->mask;
    for (;; i = (i + 1) & self->mask) {
        s_rec_t *r = &self->recs[i];
        if (r->hk == 0)
            break;
        if ((uint8_t) r->hk == K_TOMB) {
            if (!slot)
                slot = r;
            continue;
        }
        if (r->hk == hk && s_rec_equal (self, r, k->plen, k->b, k->len)) {
            *found = r;
            return S_DUP;
        }
    }
    if (self->max && self->live >= self->max)
        return S_FULL;
    if (!slot)
        slot = &self->recs[i];
    else
        self->tombs--;
    uint32_t val;
    if (s_inline (k->kind))
        memcpy (&val, k->b, 4);
    else {
        int64_t off = s_arena_put (self, k->b, k->len);
        if (off < 0)
            return S_NOMEM;
        val = (uint32_t) off;
    }
    slot->hk = hk;
    slot->val = val;
    slot->pm = (uint32_t) k->plen << 24 | meta;
    s_bloom_set (self->bloom, self->cap, hk);
    self->live++;
    self->count[s_kind_type[k->kind]]++;
    s_lens_add (self, k->kind, k->plen, 1);
    if (k->kind == K_NET4 || k->kind == K_NET6) {
        if (self->count[MM_IOC_CIDR] > self->nfilter_room)
            s_nfilter_rebuild (self);
        else if (self->nfilter)
            s_nfilter_set (self, k->b, k->len, k->plen);
    }
    return S_ADDED;
}

static void
s_tombstone (sn_ioc_t *self, s_rec_t *r)
{
    uint8_t kind = (uint8_t) r->hk;
    self->count[s_kind_type[kind]]--;
    s_lens_add (self, kind, (uint8_t) (r->pm >> 24), -1);
    r->hk = K_TOMB;
    self->live--;
    self->tombs++;
}

//  ---------------------------------------------------------------------------------------------
//  Parsing indicator text

static bool
s_is_hex (const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit ((unsigned char) s[i]))
            return false;
    return n > 0;
}

static int
s_hexval (char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

//  Hex digits, optionally in colon-separated pairs ("A4:FB:..."), into `out`: the byte count,
//  or -1 if the text is not that.
static int
s_parse_hex (const char *s, size_t n, uint8_t *out, size_t max)
{
    size_t bytes = 0;
    bool colons = n > 2 && s[2] == ':';
    size_t i = 0;
    while (i < n) {
        if (i + 2 > n || !isxdigit ((unsigned char) s[i]) || !isxdigit ((unsigned char) s[i + 1]))
            return -1;
        if (bytes == max)
            return -1;
        out[bytes++] = (uint8_t) (s_hexval (s[i]) << 4 | s_hexval (s[i + 1]));
        i += 2;
        if (colons && i < n) {
            if (s[i] != ':')
                return -1;
            i++;
            if (i == n)
                return -1;
        }
    }
    return (int) bytes;
}

static int
s_parse_hash (s_key_t *k, uint8_t kind, size_t want, const char *s, size_t n, const char **why)
{
    int got = s_parse_hex (s, n, k->b, sizeof k->b);
    if (got != (int) want) {
        *why = kind == K_JA3    ? "not a JA3 hash (32 hex digits)"
               : kind == K_SHA1 ? "not a SHA-1 fingerprint (40 hex digits)"
                                : "not a SHA-256 hash (64 hex digits)";
        return -1;
    }
    k->kind = kind;
    k->plen = 0;
    k->len = (uint32_t) want;
    return 0;
}

static bool
s_is_mapped (const uint8_t *b)
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp (b, prefix, 12) == 0;
}

//  An address or network: "1.2.3.4", "1.2.3.0/24", "2001:db8::1", "[2001:db8::]/32".
//  Host bits of a network are cleared; a full-length network is an address.
static int
s_parse_addr (s_key_t *k, const char *s, size_t n, const char **why)
{
    char buf[64];
    const char *slash = memchr (s, '/', n);
    size_t alen = slash ? (size_t) (slash - s) : n;
    const char *a = s;
    if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']')
        a++, alen -= 2;
    if (alen == 0 || alen >= sizeof buf) {
        *why = "not an address";
        return -1;
    }
    memcpy (buf, a, alen);
    buf[alen] = 0;
    uint8_t addr[16];
    int bits;
    if (inet_pton (AF_INET, buf, addr) == 1)
        bits = 32;
    else if (inet_pton (AF_INET6, buf, addr) == 1)
        bits = 128;
    else {
        *why = "not an address";
        return -1;
    }
    int plen = bits;
    if (slash) {
        const char *p = slash + 1;
        size_t pl = n - (size_t) (p - s);
        if (pl == 0 || pl > 3) {
            *why = "bad prefix length";
            return -1;
        }
        plen = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit ((unsigned char) p[i])) {
                *why = "bad prefix length";
                return -1;
            }
            plen = plen * 10 + (p[i] - '0');
        }
        if (plen > bits) {
            *why = "prefix length too long for the address";
            return -1;
        }
        if (plen == 0) {
            *why = "a /0 network would match everything";
            return -1;
        }
    }
    if (bits == 128 && s_is_mapped (addr) && plen >= 96) {
        //  IPv4-mapped (::ffff:a.b.c.d, as Suricata "ip" datasets write IPv4): it is IPv4.
        memmove (addr, addr + 12, 4);
        bits = 32;
        plen -= 96;
        if (plen == 0) {
            *why = "a /0 network would match everything";
            return -1;
        }
    }
    size_t nbytes = (size_t) bits / 8;
    for (int i = plen; i < bits; i++)
        addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    memcpy (k->b, addr, nbytes);
    k->len = (uint32_t) nbytes;
    if (plen == bits) {
        k->kind = bits == 32 ? K_IP4 : K_IP6;
        k->plen = 0;
    }
    else {
        k->kind = bits == 32 ? K_NET4 : K_NET6;
        k->plen = (uint8_t) plen;
    }
    return 0;
}

static bool
s_host_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

//  A domain: lower-cased, "*." or "." prefix and trailing dots dropped (every entry matches
//  its subdomains anyway). A single label is accepted only when `tld_ok` (a leading dot or
//  an explicit type said so): it is a top-level domain.
static int
s_parse_domain (s_key_t *k, const char *s, size_t n, bool tld_ok, const char **why)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.')
        s += 2, n -= 2, tld_ok = true;
    else if (n >= 1 && s[0] == '.')
        s++, n--, tld_ok = true;
    while (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 253) {
        *why = n ? "domain name too long" : "empty domain name";
        return -1;
    }
    size_t label = 0, labels = 1;
    bool numeric = true;  //  the current label is all digits
    for (size_t i = 0; i < n; i++) {
        char c = (char) tolower ((unsigned char) s[i]);
        if (c == '.') {
            if (label == 0) {
                *why = "empty label in domain name";
                return -1;
            }
            label = 0;
            labels++;
            numeric = true;
            k->b[i] = '.';
            continue;
        }
        if (!s_host_char (c)) {
            *why = "not a domain name (bad character)";
            return -1;
        }
        if (++label > 63) {
            *why = "domain label longer than 63";
            return -1;
        }
        if (!isdigit ((unsigned char) c))
            numeric = false;
        k->b[i] = (uint8_t) c;
    }
    if (label == 0) {
        *why = "empty label in domain name";
        return -1;
    }
    if (numeric) {
        *why = "not a domain name (numeric top-level label)";
        return -1;
    }
    if (labels == 1 && !tld_ok) {
        *why = "a single label is not a domain (write .tld for a top-level domain)";
        return -1;
    }
    k->kind = K_DOMAIN;
    k->plen = 0;
    k->len = (uint32_t) n;
    return 0;
}

static bool
s_prefix_ci (const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen (prefix);
    return n >= pl && strncasecmp (s, prefix, pl) == 0;
}

//  Appends a lower-cased host, without a default port (80, or 443 for https), and without a
//  trailing dot. Returns the new length, or -1.
static int
s_put_host (uint8_t *out, size_t at, size_t max, const char *h, size_t n, bool https)
{
    //  Port: after the last ':' unless it belongs to an IPv6 literal.
    const char *colon = NULL;
    for (size_t i = n; i > 0; i--) {
        if (h[i - 1] == ']')
            break;
        if (h[i - 1] == ':') {
            colon = h + i - 1;
            break;
        }
    }
    if (colon) {
        const char *port = colon + 1;
        size_t pl = n - (size_t) (port - h);
        if ((pl == 2 && memcmp (port, "80", 2) == 0 && !https) ||
            (pl == 3 && memcmp (port, "443", 3) == 0 && https) || pl == 0)
            n = (size_t) (colon - h);
    }
    while (n && h[n - 1] == '.')
        n--;
    if (n == 0 || at + n > max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = (char) tolower ((unsigned char) h[i]);
        if ((unsigned char) c <= 0x20 || (unsigned char) c >= 0x7f || c == '/' || c == '@')
            return -1;
        out[at + i] = (uint8_t) c;
    }
    return (int) (at + n);
}

//  A URL into its key: host + path (+ "?query"), scheme and fragment dropped. Without a scheme
//  the text needs a path ("evil.com/x"), else it is a domain.
static int
s_parse_url (s_key_t *k, const char *s, size_t n, const char **why)
{
    bool https = false;
    const char *sep = NULL;
    for (size_t i = 0; i + 3 <= n && i < 16; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
    if (sep) {
        if (sep == s) {
            *why = "bad URL scheme";
            return -1;
        }
        for (const char *c = s; c < sep; c++)
            if (!isalnum ((unsigned char) *c) && *c != '+' && *c != '-' && *c != '.') {
                *why = "bad URL scheme";
                return -1;
            }
        https = s_prefix_ci (s, n, "https:");
        n -= (size_t) (sep + 3 - s);
        s = sep + 3;
    }
    size_t hend = 0;
    while (hend < n && s[hend] != '/' && s[hend] != '?' && s[hend] != '#')
        hend++;
    if (!sep && (hend == n || s[hend] != '/')) {
        *why = "not a URL (no scheme and no path)";
        return -1;
    }
    const char *host = s;
    size_t hlen = hend;
    const char *at = memchr (host, '@', hlen);
    if (at) {
        hlen -= (size_t) (at + 1 - host);
        host = at + 1;
    }
    int len = s_put_host (k->b, 0, SN_IOC_VALUE_MAX, host, hlen, https);
    if (len < 0) {
        *why = "bad URL host";
        return -1;
    }
    const char *path = s + hend;
    size_t plen = n - hend;
    const char *frag = memchr (path, '#', plen);
    if (frag)
        plen = (size_t) (frag - path);
    if (plen && path[plen - 1] == '?')
        plen--;  //  an empty query is no query
    size_t need = (size_t) len + (plen && path[0] == '/' ? 0 : 1) + plen;
    if (need > SN_IOC_VALUE_MAX) {
        *why = "URL too long";
        return -1;
    }
    if (!(plen && path[0] == '/'))
        k->b[len++] = '/';  //  "http://h" and "http://h?q" have the path "/"
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char) path[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "bad character in URL";
            return -1;
        }
        k->b[len++] = c;
    }
    k->kind = K_URL;
    k->plen = 0;
    k->len = (uint32_t) len;
    return 0;
}

//  JA4 (TLS client): "t13d1516h2_8daaf6152771_e5627efa2ab1", lower-cased.
static int
s_parse_ja4 (s_key_t *k, const char *s, size_t n, const char **why)
{
    if (n != 36 || s[10] != '_' || s[23] != '_' || !strchr ("tqdTQD", s[0])) {
        *why = "not a JA4 fingerprint";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == 10 || i == 23)
            k->b[i] = '_';
        else if (isalnum ((unsigned char) s[i]))
            k->b[i] = (uint8_t) tolower ((unsigned char) s[i]);
        else {
            *why = "not a JA4 fingerprint";
            return -1;
        }
    }
    k->kind = K_JA4;
    k->plen = 0;
    k->len = 36;
    return 0;
}

static bool
s_looks_ja4 (const char *s, size_t n)
{
    return n == 36 && s[10] == '_' && s[23] == '_' && strchr ("tqdTQD", s[0]);
}

static bool
s_addr_chars (const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit ((unsigned char) s[i]) && !strchr (".:/[]", s[i]))
            return false;
    return true;
}

//  Standard base64 (padding required, as Suricata writes it) into out; -1 if not base64.
static int
s_base64 (const char *s, size_t n, uint8_t *out, size_t max)
{
    if (n == 0 || n % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s[i + (size_t) j];
            int d;
            if (c >= 'A' && c <= 'Z')
                d = c - 'A';
            else if (c >= 'a' && c <= 'z')
                d = c - 'a' + 26;
            else if (c >= '0' && c <= '9')
                d = c - '0' + 52;
            else if (c == '+')
                d = 62;
            else if (c == '/')
                d = 63;
            else if (c == '=' && i + 4 == n && j >= 2) {
                d = 0;
                pad++;
            }
            else
                return -1;
            if (pad && c != '=')
                return -1;
            v = v << 6 | (uint32_t) d;
        }
        for (int j = 0; j < 3 - pad; j++) {
            if (o == max)
                return -1;
            out[o++] = (uint8_t) (v >> (16 - 8 * j));
        }
    }
    return (int) o;
}

static int s_parse (s_key_t *k, uint8_t type, const char *s, size_t n, bool b64, const char **why);

//  A value of unknown type, as a plain list line: address, network, URL, hash, JA4, domain,
//  and (Suricata datasets) base64 of one of those.
static int
s_guess (s_key_t *k, const char *s, size_t n, bool b64, const char **why)
{
    if (n == 0) {
        *why = "empty value";
        return -1;
    }
    for (size_t i = 0; i + 3 <= n && i < 16; i++)
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
            return s_parse_url (k, s, n, why);
    //  Hex digits, dots and colons: an address or network, unless it is a colon-separated
    //  SHA-1 or a domain that happens to be spelt in hex ("cafe.de").
    const char *addr_why = NULL;
    if (s_addr_chars (s, n) && (memchr (s, '.', n) || memchr (s, ':', n))) {
        if (s_parse_addr (k, s, n, &addr_why) == 0)
            return 0;
        const char *slash = memchr (s, '/', n);
        s_key_t base;
        const char *w;
        if (slash && s_parse_addr (&base, s, (size_t) (slash - s), &w) == 0) {
            *why = addr_why;  //  an address with a bad prefix
            return -1;
        }
    }
    if (n == 32 && s_is_hex (s, n))
        return s_parse_hash (k, K_JA3, 16, s, n, why);
    if (n == 40 && s_is_hex (s, n))
        return s_parse_hash (k, K_SHA1, 20, s, n, why);
    if (n == 59 && s[2] == ':')
        return s_parse_hash (k, K_SHA1, 20, s, n, why);
    if (n == 64 && s_is_hex (s, n))
        return s_parse_hash (k, K_SHA256, 32, s, n, why);
    if (s_looks_ja4 (s, n))
        return s_parse_ja4 (k, s, n, why);
    const char *slash = memchr (s, '/', n);
    if (slash && memchr (s, '.', (size_t) (slash - s)))
        return s_parse_url (k, s, n, why);
    if (s_parse_domain (k, s, n, false, why) == 0)
        return 0;
    if (addr_why) {
        bool letters = false;
        for (size_t i = 0; i < n; i++)
            letters |= isalpha ((unsigned char) s[i]) != 0;
        if (!letters) {
            *why = addr_why;
            return -1;
        }
    }
    if (b64 && !memchr (s, '.', n)) {
        uint8_t dec[SN_IOC_VALUE_MAX + 1];
        int m = s_base64 (s, n, dec, sizeof dec - 1);
        if (m < 0) {
            *why = "not an indicator (nor valid base64)";
            return -1;
        }
        while (m > 0 && isspace (dec[m - 1]))
            m--;
        for (int i = 0; i < m; i++)
            if (dec[i] < 0x21 || dec[i] > 0x7e) {
                *why = "base64 value decodes to binary data";
                return -1;
            }
        if (s_parse (k, 0, (const char *) dec, (size_t) m, false, why) == 0)
            return 0;
        *why = "base64 value decodes to no indicator type (user agents, paths... are not "
               "supported)";
        return -1;
    }
    return -1;
}

static int
s_parse (s_key_t *k, uint8_t type, const char *s, size_t n, bool b64, const char **why)
{
    while (n && isspace ((unsigned char) *s))
        s++, n--;
    while (n && isspace ((unsigned char) s[n - 1]))
        n--;
    if (n == 0) {
        *why = "empty value";
        return -1;
    }
    if (n > SN_IOC_VALUE_MAX) {
        *why = "value too long";
        return -1;
    }
    switch (type) {
    case 0: return s_guess (k, s, n, b64, why);
    case MM_IOC_IP:
    case MM_IOC_CIDR: return s_parse_addr (k, s, n, why);
    case MM_IOC_DOMAIN: return s_parse_domain (k, s, n, true, why);
    case MM_IOC_URL:
        if (s_parse_url (k, s, n, why) == 0)
            return 0;
        //  "evil.com" given as a URL: the site's root.
        {
            char buf[SN_IOC_VALUE_MAX + 2];
            if (memchr (s, '/', n) || n + 1 > SN_IOC_VALUE_MAX)
                return -1;
            memcpy (buf, s, n);
            buf[n] = '/';
            return s_parse_url (k, buf, n + 1, why);
        }
    case MM_IOC_JA3: return s_parse_hash (k, K_JA3, 16, s, n, why);
    case MM_IOC_JA4: return s_parse_ja4 (k, s, n, why);
    case MM_IOC_CERT_SHA1: return s_parse_hash (k, K_SHA1, 20, s, n, why);
    case MM_IOC_SHA256: return s_parse_hash (k, K_SHA256, 32, s, n, why);
    default: *why = "unknown indicator type"; return -1;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Adding and removing

static int
s_add_key (sn_ioc_t *self, const s_key_t *k, const s_meta_t *want)
{
    int64_t mi = s_meta_intern (self, want->category, want->severity, want->block, want->feed,
                                want->expires);
    if (mi < 0)
        return S_NOMEM;
    s_rec_t *r = NULL;
    int rc = s_insert (self, k, (uint32_t) mi, &r);
    if (rc != S_DUP)
        return rc;
    uint32_t old = r->pm & 0xffffff;
    if (old == (uint32_t) mi)
        return S_DUP;
    if (self->replace) {
        //  A push updates its own feed's entry; another feed's claim stays (and so survives
        //  this feed's revocation, s_revoke).
        if (self->metas[old].feed == self->metas[mi].feed)
            r->pm = (r->pm & 0xff000000u) | (uint32_t) mi;
        return S_DUP;
    }
    //  Listed twice in one feed: keep the stronger claim. Across feeds the first one stays.
    const s_meta_t *o = &self->metas[old], *n = &self->metas[mi];
    if (o->feed != n->feed)
        return S_DUP;
    bool stronger = n->severity > o->severity;
    uint8_t cat = stronger ? n->category : o->category;
    uint8_t sev = stronger ? n->severity : o->severity;
    int64_t merged = s_meta_intern (self, cat, sev, o->block || n->block, o->feed, o->expires);
    if (merged >= 0)
        r->pm = (r->pm & 0xff000000u) | (uint32_t) merged;
    return S_DUP;
}

static int
s_meta_from (sn_ioc_t *self, const sn_ioc_meta_t *meta, s_meta_t *m)
{
    memset (m, 0, sizeof *m);
    const char *feed = meta && meta->feed ? meta->feed : "local";
    int fi = s_feed_intern (self, feed, strlen (feed), 0, 0);
    if (fi < 0)
        return -1;
    m->feed = (uint16_t) fi;
    if (meta) {
        m->category = meta->category;
        m->severity = meta->severity;
        m->block = meta->block;
        m->expires = meta->expires;
    }
    return 0;
}

int
sn_ioc_add (sn_ioc_t *self, uint8_t type, const char *value, size_t len, const sn_ioc_meta_t *meta,
            const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    s_key_t k;
    if (s_parse (&k, type, value, len, false, why) == -1)
        return -1;
    s_meta_t m;
    if (s_meta_from (self, meta, &m) == -1) {
        *why = "out of memory";
        return -1;
    }
    if (k.kind == K_DOMAIN && !memchr (k.b, '.', k.len) && m.category == 0)
        m.category = MM_CAT_POLICY;
    int rc = s_add_key (self, &k, &m);
    if (rc >= 0)
        return rc;
    *why = rc == S_FULL ? "indicator set full ([ioc] max)" : "out of memory";
    return -1;
}

int
sn_ioc_remove (sn_ioc_t *self, uint8_t type, const char *value, size_t len)
{
    s_key_t k;
    const char *why;
    if (s_parse (&k, type, value, len, false, &why) == -1)
        return -1;
    s_rec_t *r = (s_rec_t *) s_find (self, k.kind, k.plen, k.b, k.len);
    if (!r)
        return -1;
    s_tombstone (self, r);
    return 0;
}

//  A revocation naming a feed takes back only what that feed pushed: the same value pushed by
//  another feed (an operator's list through the inbox, say) stays. `feed` NULL: any feed's.
static void
s_revoke (sn_ioc_t *self, uint8_t type, const char *value, size_t len, const char *feed)
{
    s_key_t k;
    const char *why;
    if (s_parse (&k, type, value, len, false, &why) == -1)
        return;
    s_rec_t *r = (s_rec_t *) s_find (self, k.kind, k.plen, k.b, k.len);
    if (r && (!feed || strcmp (self->feeds[self->metas[r->pm & 0xffffff].feed].name, feed) == 0))
        s_tombstone (self, r);
}

//  ---------------------------------------------------------------------------------------------
//  Lookups

static void
s_hex (char *out, const uint8_t *b, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

static uint64_t
s_subject (uint8_t kind, uint8_t plen, const uint8_t *b, uint32_t n)
{
    return sn_distinct_hash (b, n) ^ (uint64_t) s_kind_type[kind] * 0x9e3779b97f4a7c15ULL ^
           (uint64_t) plen * 0xc2b2ae3d27d4eb4fULL;
}

//  Fills *m from record r; false if it has expired.
static bool
s_matched (const sn_ioc_t *self, const s_rec_t *r, uint64_t now, sn_ioc_match_t *m)
{
    const s_meta_t *meta = &self->metas[r->pm & 0xffffff];
    if (meta->expires && now && meta->expires <= now)
        return false;
    uint8_t kind = (uint8_t) r->hk, plen = (uint8_t) (r->pm >> 24);
    uint32_t n;
    const uint8_t *v = s_rec_value (self, r, &n);
    m->type = s_kind_type[kind];
    m->category = meta->category;
    m->severity = meta->severity;
    m->block = meta->block;
    m->expires = meta->expires;
    m->feed = self->feeds[meta->feed].name;
    m->subject = s_subject (kind, plen, v, n);
    switch (kind) {
    case K_IP4:
    case K_NET4:
    case K_IP6:
    case K_NET6:
        inet_ntop (n == 4 ? AF_INET : AF_INET6, v, m->value, sizeof m->value);
        if (kind == K_NET4 || kind == K_NET6) {
            size_t l = strlen (m->value);
            snprintf (m->value + l, sizeof m->value - l, "/%u", plen);
        }
        break;
    case K_JA3:
    case K_SHA1:
    case K_SHA256: s_hex (m->value, v, n); break;
    default: memcpy (m->value, v, n); m->value[n] = 0;
    }
    return true;
}

static bool
s_lookup (const sn_ioc_t *self, uint8_t kind, uint8_t plen, const uint8_t *b, uint32_t n,
          uint64_t now, sn_ioc_match_t *m)
{
    const s_rec_t *r = s_find (self, kind, plen, b, n);
    return r && s_matched (self, r, now, m);
}

static int
s_top_bit (uint64_t v)
{
    return 63 - __builtin_clzll (v);
}

//  Networks of prefix at most `max_plen` holding the address, longest first.
static bool
s_match_nets (const sn_ioc_t *self, const uint8_t *addr, int bits, int max_plen, uint64_t now,
              sn_ioc_match_t *m)
{
    uint8_t masked[16];
    if (bits == 32) {
        uint64_t lens = self->v4_lens;
        if (max_plen < 63)
            lens &= (2ULL << max_plen) - 1;
        while (lens) {
            int p = s_top_bit (lens);
            lens &= ~(1ULL << p);
            uint32_t a;
            memcpy (&a, addr, 4);
            a = ntohl (a) & (uint32_t) (0xffffffffULL << (32 - p));
            a = htonl (a);
            memcpy (masked, &a, 4);
            if (s_nfilter_may (self, masked, 4, (uint8_t) p) &&
                s_lookup (self, K_NET4, (uint8_t) p, masked, 4, now, m))
                return true;
        }
        return false;
    }
    for (int w = 2; w >= 0; w--) {
        uint64_t lens = self->v6_lens[w];
        while (lens) {
            int bit = s_top_bit (lens);
            lens &= ~(1ULL << bit);
            int p = w * 64 + bit;
            if (p > max_plen)
                continue;
            memcpy (masked, addr, 16);
            int full = p / 8;
            if (p % 8)
                masked[full++] &= (uint8_t) (0xff << (8 - p % 8));
            memset (masked + full, 0, (size_t) (16 - full));
            if (s_nfilter_may (self, masked, 16, (uint8_t) p) &&
                s_lookup (self, K_NET6, (uint8_t) p, masked, 16, now, m))
                return true;
        }
    }
    return false;
}

bool
sn_ioc_match_addr (const sn_ioc_t *self, const mm_addr_t *addr, uint64_t now, sn_ioc_match_t *m)
{
    if (self->count[MM_IOC_IP] == 0 && self->count[MM_IOC_CIDR] == 0)
        return false;
    const uint8_t *b = addr->b;
    int bits;
    if (addr->len == 4)
        bits = 32;
    else if (addr->len == 16 && s_is_mapped (addr->b))
        b += 12, bits = 32;
    else if (addr->len == 16)
        bits = 128;
    else
        return false;
    if (s_lookup (self, bits == 32 ? K_IP4 : K_IP6, 0, b, (uint32_t) bits / 8, now, m))
        return true;
    return self->count[MM_IOC_CIDR] && s_match_nets (self, b, bits, bits, now, m);
}

bool
sn_ioc_match_domain (const sn_ioc_t *self, const char *name, size_t len, uint64_t now,
                     sn_ioc_match_t *m)
{
    if (self->count[MM_IOC_DOMAIN] == 0)
        return false;
    while (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 255)
        return false;
    uint8_t buf[256];
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t) tolower ((unsigned char) name[i]);
    //  The name, then each parent: one probe per label.
    for (size_t at = 0; at < len;) {
        if (s_lookup (self, K_DOMAIN, 0, buf + at, (uint32_t) (len - at), now, m))
            return true;
        const uint8_t *dot = memchr (buf + at, '.', len - at);
        if (!dot)
            break;
        at = (size_t) (dot - buf) + 1;
    }
    return false;
}

bool
sn_ioc_match_url (const sn_ioc_t *self, const char *host, size_t host_len, const char *uri,
                  size_t uri_len, uint64_t now, sn_ioc_match_t *m)
{
    if (self->count[MM_IOC_URL] == 0 || uri_len == 0)
        return false;
    s_key_t k;
    const char *why;
    if (uri[0] == '/') {
        int n = s_put_host (k.b, 0, SN_IOC_VALUE_MAX, host, host_len, false);
        if (n < 0)
            return false;
        const char *frag = memchr (uri, '#', uri_len);
        if (frag)
            uri_len = (size_t) (frag - uri);
        if ((size_t) n + uri_len > SN_IOC_VALUE_MAX)
            return false;
        memcpy (k.b + n, uri, uri_len);
        k.len = (uint32_t) ((size_t) n + uri_len);
        if (k.len && k.b[k.len - 1] == '?')
            k.len--;
    }
    else if (s_parse_url (&k, uri, uri_len, &why) == -1)
        return false;  //  "*" (OPTIONS), authority form (CONNECT): no URL
    if (s_lookup (self, K_URL, 0, k.b, k.len, now, m))
        return true;
    const uint8_t *q = memchr (k.b, '?', k.len);
    return q && s_lookup (self, K_URL, 0, k.b, (uint32_t) (q - k.b), now, m);
}

bool
sn_ioc_match_ja3 (const sn_ioc_t *self, const uint8_t md5[16], uint64_t now, sn_ioc_match_t *m)
{
    return self->count[MM_IOC_JA3] && s_lookup (self, K_JA3, 0, md5, 16, now, m);
}

bool
sn_ioc_match_ja4 (const sn_ioc_t *self, const char *ja4, size_t len, uint64_t now,
                  sn_ioc_match_t *m)
{
    if (self->count[MM_IOC_JA4] == 0 || len != 36)
        return false;
    uint8_t buf[36];
    for (size_t i = 0; i < 36; i++)
        buf[i] = (uint8_t) tolower ((unsigned char) ja4[i]);
    return s_lookup (self, K_JA4, 0, buf, 36, now, m);
}

bool
sn_ioc_match_cert_sha1 (const sn_ioc_t *self, const uint8_t sha1[20], uint64_t now,
                        sn_ioc_match_t *m)
{
    return self->count[MM_IOC_CERT_SHA1] && s_lookup (self, K_SHA1, 0, sha1, 20, now, m);
}

bool
sn_ioc_match_text (const sn_ioc_t *self, uint8_t type, const char *value, size_t len, uint64_t now,
                   sn_ioc_match_t *m)
{
    s_key_t k;
    const char *why;
    if (s_parse (&k, type, value, len, false, &why) == -1)
        return false;
    switch (k.kind) {
    case K_IP4:
    case K_IP6: {
        mm_addr_t a = {.len = (uint8_t) k.len};
        memcpy (a.b, k.b, k.len);
        return sn_ioc_match_addr (self, &a, now, m);
    }
    case K_NET4:
    case K_NET6:
        //  The network itself, else a shorter one holding it.
        return s_lookup (self, k.kind, k.plen, k.b, k.len, now, m) ||
               s_match_nets (self, k.b, k.kind == K_NET4 ? 32 : 128, k.plen, now, m);
    case K_DOMAIN: return sn_ioc_match_domain (self, (const char *) k.b, k.len, now, m);
    case K_URL: {
        if (s_lookup (self, K_URL, 0, k.b, k.len, now, m))
            return true;
        const uint8_t *q = memchr (k.b, '?', k.len);
        return q && s_lookup (self, K_URL, 0, k.b, (uint32_t) (q - k.b), now, m);
    }
    default: return s_lookup (self, k.kind, 0, k.b, k.len, now, m);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Feed loaders

typedef enum {
    F_NONE = 0,
    F_PLAIN,
    F_CSV,
    F_NDPI_JA3,
    F_NDPI_SHA1,
    F_NDPI_CATEGORIES,
    F_IPREP_CATEGORIES,
    F_IPREP,
    F_DATAREP,
} s_format_t;

static const char *const s_format_names[] = {
    NULL,    "plain",  "csv", "ndpi-ja3", "ndpi-sha1", "ndpi-categories", "iprep-categories",
    "iprep", "datarep"};

typedef struct {
    sn_ioc_t *set;
    const char *name;  //  for messages: the path, or the buffer's name
    sn_ioc_report_t *rep;
    uint64_t line_no;
    uint64_t path_hash;
    uint32_t feed0;  //  the first feed index this load made: undo removes feeds >= it
    uint16_t feed;
    s_format_t format;
    //  "# mimamori:" directives, overriding a format's own defaults.
    bool has_category, has_severity, has_block;
    uint8_t category, severity;
    bool block;
} s_ctx_t;

#define S_FIELDS_MAX 8
typedef struct {
    const char *p[S_FIELDS_MAX];
    size_t n[S_FIELDS_MAX];
    size_t count;
} s_fields_t;

static void
s_trim (const char **s, size_t *n)
{
    while (*n && isspace ((unsigned char) **s))
        (*s)++, (*n)--;
    while (*n && isspace ((unsigned char) (*s)[*n - 1]))
        (*n)--;
}

//  Splits on `sep`; fields may be double-quoted (quotes are dropped, "" inside is kept as is:
//  no indicator contains a quote).
static void
s_split (const char *s, size_t n, char sep, s_fields_t *f)
{
    f->count = 0;
    size_t i = 0;
    while (f->count < S_FIELDS_MAX) {
        size_t start = i;
        bool quoted = false;
        while (i < n && isspace ((unsigned char) s[i]) && s[i] != sep)
            i++;
        if (i < n && s[i] == '"') {
            quoted = true;
            start = ++i;
            while (i < n && s[i] != '"')
                i++;
        }
        size_t end = i;
        while (i < n && s[i] != sep)
            i++;
        if (!quoted)
            end = i;
        const char *p = s + start;
        size_t len = end - start;
        s_trim (&p, &len);
        f->p[f->count] = p;
        f->n[f->count] = len;
        f->count++;
        if (i >= n)
            break;
        i++;  //  past the separator
    }
}

//  Splits on runs of white space.
static void
s_tokens (const char *s, size_t n, s_fields_t *f)
{
    f->count = 0;
    size_t i = 0;
    while (f->count < S_FIELDS_MAX) {
        while (i < n && isspace ((unsigned char) s[i]))
            i++;
        if (i == n)
            break;
        size_t start = i;
        while (i < n && !isspace ((unsigned char) s[i]))
            i++;
        f->p[f->count] = s + start;
        f->n[f->count] = i - start;
        f->count++;
    }
}

//  Drops an inline comment: "1.2.3.0/24 ; SBL123" (Spamhaus), "evil.com # why".
static void
s_strip_comment (const char *s, size_t *n)
{
    for (size_t i = 1; i < *n; i++)
        if ((s[i] == '#' || s[i] == ';') && isspace ((unsigned char) s[i - 1])) {
            *n = i;
            break;
        }
}

static bool
s_eq_ci (const char *s, size_t n, const char *word)
{
    return strlen (word) == n && strncasecmp (s, word, n) == 0;
}

static bool
s_is_uint (const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit ((unsigned char) s[i]))
            return false;
    return true;
}

static uint32_t
s_uint (const char *s, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint32_t) (s[i] - '0');
    return v;
}

//  Numbers as datarep writes them, valid or not ("255", "-1", "111.0"): the line is datarep.
static bool
s_is_number_like (const char *s, size_t n)
{
    if (n == 0 || n > 24)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit ((unsigned char) s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '+')
            return false;
    return true;
}

static bool
s_is_date (const char *s, size_t n)
{
    return n >= 10 && isdigit ((unsigned char) s[0]) && isdigit ((unsigned char) s[3]) &&
           s[4] == '-' && s[7] == '-';
}

static const struct {
    const char *name;
    uint8_t type;
} s_type_names[] = {
    {"ip", MM_IOC_IP},
    {"ipv4", MM_IOC_IP},
    {"ipv6", MM_IOC_IP},
    {"addr", MM_IOC_IP},
    {"address", MM_IOC_IP},
    {"cidr", MM_IOC_CIDR},
    {"net", MM_IOC_CIDR},
    {"network", MM_IOC_CIDR},
    {"domain", MM_IOC_DOMAIN},
    {"host", MM_IOC_DOMAIN},
    {"hostname", MM_IOC_DOMAIN},
    {"fqdn", MM_IOC_DOMAIN},
    {"sni", MM_IOC_DOMAIN},
    {"url", MM_IOC_URL},
    {"uri", MM_IOC_URL},
    {"ja3", MM_IOC_JA3},
    {"md5", MM_IOC_JA3},
    {"ja4", MM_IOC_JA4},
    {"cert_sha1", MM_IOC_CERT_SHA1},
    {"sha1", MM_IOC_CERT_SHA1},
    {"x509_sha1", MM_IOC_CERT_SHA1},
    {"sha256", MM_IOC_SHA256},
};

static uint8_t
s_type_from_name (const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof s_type_names / sizeof s_type_names[0]; i++)
        if (s_eq_ci (s, n, s_type_names[i].name))
            return s_type_names[i].type;
    return 0;
}

//  A category from a name or number: our names ("malware"), or words feeds use ("C&C",
//  "botnet", "TrickBot"...). Unknown words give ioc_match. -1 only for a bad number.
static int
s_category_from_text (const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s_is_uint (s, n)) {
        uint32_t v = s_uint (s, n);
        return v <= MM_CAT_SENSOR ? (int) v : -1;
    }
    for (unsigned c = 1; c <= MM_CAT_SENSOR; c++)
        if (s_eq_ci (s, n, mm_category_name (c)))
            return (int) c;
    //  Word by word, lower-cased.
    static const struct {
        const char *word;
        uint8_t cat;
    } words[] = {
        {"c2", MM_CAT_MALWARE},           {"cnc", MM_CAT_MALWARE},
        {"botnet", MM_CAT_MALWARE},       {"malware", MM_CAT_MALWARE},
        {"trojan", MM_CAT_MALWARE},       {"rat", MM_CAT_MALWARE},
        {"ransomware", MM_CAT_MALWARE},   {"stealer", MM_CAT_MALWARE},
        {"loader", MM_CAT_MALWARE},       {"backdoor", MM_CAT_MALWARE},
        {"dridex", MM_CAT_MALWARE},       {"trickbot", MM_CAT_MALWARE},
        {"emotet", MM_CAT_MALWARE},       {"qakbot", MM_CAT_MALWARE},
        {"cobaltstrike", MM_CAT_MALWARE}, {"scanner", MM_CAT_SCAN},
        {"scanners", MM_CAT_SCAN},        {"scan", MM_CAT_SCAN},
        {"scanning", MM_CAT_SCAN},        {"bruteforce", MM_CAT_BRUTE_FORCE},
        {"brute", MM_CAT_BRUTE_FORCE},    {"exploit", MM_CAT_EXPLOIT},
        {"policy", MM_CAT_POLICY},
    };
    char lower[128];
    size_t m = n < sizeof lower - 1 ? n : sizeof lower - 1;
    for (size_t i = 0; i < m; i++)
        lower[i] = (char) tolower ((unsigned char) s[i]);
    lower[m] = 0;
    if (strstr (lower, "c&c") || strstr (lower, "command and control") ||
        strstr (lower, "command & control"))
        return MM_CAT_MALWARE;
    size_t i = 0;
    while (i < m) {
        while (i < m && !isalnum ((unsigned char) lower[i]))
            i++;
        size_t start = i;
        while (i < m && isalnum ((unsigned char) lower[i]))
            i++;
        size_t wl = i - start;
        for (size_t w = 0; wl && w < sizeof words / sizeof words[0]; w++)
            if (strlen (words[w].word) == wl && memcmp (words[w].word, lower + start, wl) == 0)
                return words[w].cat;
    }
    return MM_CAT_IOC_MATCH;
}

//  -1 if not a severity.
static int
s_severity_from_text (const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (n == 1 && s[0] >= '1' && s[0] <= '5')
        return s[0] - '0';
    static const char *const names[] = {"info",   "informational", "low",
                                        "medium", "high",          "critical"};
    static const uint8_t values[] = {1, 1, 2, 3, 4, 5};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (s_eq_ci (s, n, names[i]))
            return values[i];
    if (s_eq_ci (s, n, "med"))
        return MM_SEV_MEDIUM;
    return -1;
}

//  -1 if not a boolean.
static int
s_bool_from_text (const char *s, size_t n)
{
    static const char *const yes[] = {"1", "true", "yes", "on", "block", "y"};
    static const char *const no[] = {"0", "false", "no", "off", "n", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (s_eq_ci (s, n, yes[i]))
            return 1;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (s_eq_ci (s, n, no[i]))
            return 0;
    return -1;
}

//  A printable excerpt of bad input for a message.
static void
s_snip (char *out, size_t size, const char *s, size_t n)
{
    size_t max = size > 4 ? size - 4 : 0, o = 0;
    for (size_t i = 0; i < n && o < max; i++)
        out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (n > max)
        memcpy (out + o, "...", 3), o += 3;
    out[o] = 0;
}

static void
s_bad (s_ctx_t *c, const char *why, const char *s, size_t n)
{
    sn_ioc_report_t *rep = c->rep;
    rep->bad++;
    if (rep->n_errors >= SN_IOC_ERRORS_MAX)
        return;
    char snip[64];
    s_snip (snip, sizeof snip, s, n);
    snprintf (rep->errors[rep->n_errors++], SN_IOC_ERROR_LEN, "%s:%llu: %s: '%s'", c->name,
              (unsigned long long) c->line_no, why, snip);
}

//  Adds one value with a format's default meta, directives applied over it.
static void
s_ctx_add (s_ctx_t *c, uint8_t type, const char *s, size_t n, bool b64, uint8_t category,
           uint8_t severity, bool block)
{
    s_key_t k;
    const char *why = "not an indicator";
    if (s_parse (&k, type, s, n, b64, &why) == -1) {
        s_bad (c, why, s, n);
        return;
    }
    s_meta_t m;
    memset (&m, 0, sizeof m);
    m.feed = c->feed;
    m.category = c->has_category ? c->category : category;
    m.severity = c->has_severity ? c->severity : severity;
    m.block = c->has_block ? c->block : block;
    //  A whole top-level domain (".xyz", nDPI's risky_domains) is a policy matter, never an
    //  incident by itself.
    if (k.kind == K_DOMAIN && !memchr (k.b, '.', k.len) && !c->has_category && category == 0)
        m.category = MM_CAT_POLICY;
    int rc = s_add_key (c->set, &k, &m);
    if (rc == S_ADDED)
        c->rep->added++;
    else if (rc == S_DUP)
        c->rep->duplicates++;
    else if (rc == S_FULL)
        c->rep->dropped++;
    else
        s_bad (c, "out of memory", s, n);
}

//  "# mimamori: category=malware severity=high block=yes feed=NAME"
static void
s_directive (s_ctx_t *c, const char *s, size_t n)
{
    s_fields_t f;
    s_tokens (s, n, &f);
    for (size_t i = 0; i < f.count; i++) {
        const char *p = f.p[i];
        size_t len = f.n[i];
        while (len && p[len - 1] == ',')
            len--;
        if (len == 0)
            continue;
        const char *eq = memchr (p, '=', len);
        if (!eq) {
            s_bad (c, "directive item is not key=value", p, len);
            continue;
        }
        size_t kl = (size_t) (eq - p), vl = len - kl - 1;
        const char *v = eq + 1;
        if (s_eq_ci (p, kl, "category")) {
            int cat = s_category_from_text (v, vl);
            if (cat < 0)
                s_bad (c, "bad category", v, vl);
            else
                c->has_category = cat != 0, c->category = (uint8_t) cat;
        }
        else if (s_eq_ci (p, kl, "severity")) {
            int sev = s_severity_from_text (v, vl);
            if (sev < 0)
                s_bad (c, "bad severity", v, vl);
            else
                c->has_severity = sev != 0, c->severity = (uint8_t) sev;
        }
        else if (s_eq_ci (p, kl, "block")) {
            int b = s_bool_from_text (v, vl);
            if (b < 0)
                s_bad (c, "bad block flag", v, vl);
            else
                c->has_block = true, c->block = b;
        }
        else if (s_eq_ci (p, kl, "feed")) {
            int fi = vl ? s_feed_intern (c->set, v, vl, c->path_hash, c->feed0) : -1;
            if (fi < 0)
                s_bad (c, "bad feed name", v, vl);
            else
                c->feed = (uint16_t) fi;
        }
        else
            s_bad (c, "unknown directive", p, kl);
    }
}

static s_format_t
s_detect_format (const char *s, size_t n)
{
    s_strip_comment (s, &n);
    while (n && isspace ((unsigned char) s[n - 1]))
        n--;
    s_fields_t f;
    if (memchr (s, '\t', n) && !memchr (s, ',', n)) {
        s_split (s, n, '\t', &f);
        if (f.count == 2 && s_is_uint (f.p[1], f.n[1]))
            return F_NDPI_CATEGORIES;
    }
    s_split (s, n, ',', &f);
    if (f.count == 1)
        return F_PLAIN;
    if (s_eq_ci (f.p[0], f.n[0], "type") || s_type_from_name (f.p[0], f.n[0]))
        return F_CSV;
    if (f.n[0] == 32 && s_is_hex (f.p[0], 32) && s_is_date (f.p[1], f.n[1]))
        return F_NDPI_JA3;
    if (s_is_date (f.p[0], f.n[0]) && f.n[1] == 40 && s_is_hex (f.p[1], 40))
        return F_NDPI_SHA1;
    if (f.count == 3 && s_is_uint (f.p[0], f.n[0]) && !s_is_uint (f.p[1], f.n[1]))
        return F_IPREP_CATEGORIES;
    if (f.count == 3 && s_addr_chars (f.p[0], f.n[0]) && s_is_uint (f.p[1], f.n[1]) &&
        s_is_uint (f.p[2], f.n[2]))
        return F_IPREP;
    if (f.count == 2 && s_is_number_like (f.p[1], f.n[1]))
        return F_DATAREP;
    //  A plain list whose first value holds a comma (a URL)?
    s_tokens (s, n, &f);
    s_key_t k;
    const char *why;
    if (f.count && s_guess (&k, f.p[0], f.n[0], false, &why) == 0)
        return F_PLAIN;
    return F_NONE;
}

static bool
s_sinkhole (const char *s, size_t n)
{
    return s_eq_ci (s, n, "0.0.0.0") || s_eq_ci (s, n, "127.0.0.1") || s_eq_ci (s, n, "::") ||
           s_eq_ci (s, n, "::1");
}

static bool
s_local_name (const char *s, size_t n)
{
    static const char *const names[] = {"localhost",     "localhost.localdomain", "local",
                                        "broadcasthost", "ip6-localhost",         "ip6-loopback",
                                        "0.0.0.0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (s_eq_ci (s, n, names[i]))
            return true;
    return false;
}

static void
s_line_plain (s_ctx_t *c, const char *s, size_t n)
{
    s_strip_comment (s, &n);
    s_fields_t f;
    s_tokens (s, n, &f);
    if (f.count == 0)
        return;
    if (f.count >= 2 && s_sinkhole (f.p[0], f.n[0])) {
        //  A hosts file: "0.0.0.0 evil.com [more.evil.com...]".
        for (size_t i = 1; i < f.count; i++)
            if (!s_local_name (f.p[i], f.n[i]))
                s_ctx_add (c, MM_IOC_DOMAIN, f.p[i], f.n[i], false, 0, 0, false);
        return;
    }
    s_ctx_add (c, 0, f.p[0], f.n[0], true, 0, 0, false);
}

static void
s_line_csv (s_ctx_t *c, const char *s, size_t n, bool first)
{
    s_fields_t f;
    s_split (s, n, ',', &f);
    if (first && s_eq_ci (f.p[0], f.n[0], "type"))
        return;  //  the header
    uint8_t type = s_type_from_name (f.p[0], f.n[0]);
    if (!type) {
        s_bad (c, "unknown indicator type", f.p[0], f.n[0]);
        return;
    }
    if (f.count < 2 || f.n[1] == 0) {
        s_bad (c, "no value", s, n);
        return;
    }
    int cat = f.count > 2 ? s_category_from_text (f.p[2], f.n[2]) : 0;
    int sev = f.count > 3 ? s_severity_from_text (f.p[3], f.n[3]) : 0;
    int block = f.count > 4 ? s_bool_from_text (f.p[4], f.n[4]) : 0;
    if (cat < 0)
        s_bad (c, "bad category", f.p[2], f.n[2]);
    else if (sev < 0)
        s_bad (c, "bad severity (info, low, medium, high, critical or 1-5)", f.p[3], f.n[3]);
    else if (block < 0)
        s_bad (c, "bad block flag (true/false)", f.p[4], f.n[4]);
    else
        s_ctx_add (c, type, f.p[1], f.n[1], false, (uint8_t) cat, (uint8_t) sev, block == 1);
}

//  nDPI's custom categories (example/categories.txt): "name<TAB>category id". Only the ids
//  that mean "bad" are kept: 99 mining, 100 malware, 102 banned site.
static void
s_line_ndpi_categories (s_ctx_t *c, const char *s, size_t n)
{
    s_fields_t f;
    s_split (s, n, '\t', &f);
    if (f.count != 2 || !s_is_uint (f.p[1], f.n[1])) {
        s_bad (c, "not 'name<TAB>category id'", s, n);
        return;
    }
    uint32_t id = s_uint (f.p[1], f.n[1]);
    uint8_t cat = id == 100 ? MM_CAT_MALWARE : (id == 99 || id == 102) ? MM_CAT_POLICY : 0;
    if (!cat) {
        c->rep->skipped++;
        return;
    }
    s_ctx_add (c, 0, f.p[0], f.n[0], false, cat, id == 99 ? MM_SEV_MEDIUM : 0, false);
}

static void
s_line (s_ctx_t *c, const char *s, size_t n, bool first)
{
    s_fields_t f;
    switch (c->format) {
    case F_PLAIN: s_line_plain (c, s, n); break;
    case F_CSV: s_line_csv (c, s, n, first); break;
    case F_NDPI_JA3:
        //  abuse.ch SSLBL "ja3_md5,Firstseen,Lastseen,Listingreason": JA3 of malware clients.
        //  A JA3 is shared by every program on the same TLS library, so medium at most.
        s_split (s, n, ',', &f);
        s_ctx_add (c, MM_IOC_JA3, f.p[0], f.n[0], false, MM_CAT_MALWARE, MM_SEV_MEDIUM, false);
        break;
    case F_NDPI_SHA1:
        //  abuse.ch SSLBL "Listingdate,SHA1,Listingreason": certificates of C2 servers.
        s_split (s, n, ',', &f);
        if (f.count < 2)
            s_bad (c, "not 'date,sha1,reason'", s, n);
        else
            s_ctx_add (c, MM_IOC_CERT_SHA1, f.p[1], f.n[1], false, MM_CAT_MALWARE, MM_SEV_HIGH,
                       false);
        break;
    case F_NDPI_CATEGORIES: s_line_ndpi_categories (c, s, n); break;
    case F_IPREP_CATEGORIES:
        //  Suricata iprep categories: "id,short name,description".
        s_split (s, n, ',', &f);
        if (f.count < 2 || !s_is_uint (f.p[0], f.n[0]) || s_uint (f.p[0], f.n[0]) > 255)
            s_bad (c, "not 'id,short name,description' (id 0-255)", s, n);
        else {
            int cat = s_category_from_text (f.p[1], f.n[1]);
            if (cat == MM_CAT_IOC_MATCH && f.count > 2)
                cat = s_category_from_text (f.p[2], f.n[2]);
            c->set->iprep_cat[s_uint (f.p[0], f.n[0])] = (uint8_t) (cat > 0 ? cat : 0);
            c->rep->skipped++;
        }
        break;
    case F_IPREP:
        //  Suricata iprep reputation: "ip or cidr,category id,score 0-127" (0: no data).
        s_split (s, n, ',', &f);
        if (f.count != 3 || !s_is_uint (f.p[1], f.n[1]) || !s_is_uint (f.p[2], f.n[2]) ||
            s_uint (f.p[1], f.n[1]) > 255 || s_uint (f.p[2], f.n[2]) > 127)
            s_bad (c, "not 'ip,category id (0-255),score (0-127)'", s, n);
        else if (s_uint (f.p[2], f.n[2]) == 0)
            c->rep->skipped++;
        else
            s_ctx_add (c, MM_IOC_IP, f.p[0], f.n[0], false,
                       c->set->iprep_cat[s_uint (f.p[1], f.n[1])], 0, false);
        break;
    case F_DATAREP:
        //  Suricata datarep: "value,reputation 0-65535"; the value as in a dataset file.
        s_split (s, n, ',', &f);
        if (f.count != 2 || !s_is_uint (f.p[1], f.n[1]) || s_uint (f.p[1], f.n[1]) > 65535)
            s_bad (c, "not 'value,reputation' (reputation 0-65535)", s, n);
        else
            s_ctx_add (c, 0, f.p[0], f.n[0], true, 0, 0, false);
        break;
    case F_NONE: break;
    }
}

//  Removes what this load added (a refused file leaves nothing behind).
static void
s_undo (sn_ioc_t *self, uint32_t feed0)
{
    for (uint64_t i = 0; i < self->cap; i++) {
        s_rec_t *r = &self->recs[i];
        if (r->hk == 0 || (uint8_t) r->hk == K_TOMB)
            continue;
        if (self->metas[r->pm & 0xffffff].feed >= feed0)
            s_tombstone (self, r);
    }
}

static void
s_feed_name (const char *path, const char **name, size_t *len)
{
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr (base, '.');
    *name = base;
    *len = dot && dot != base ? (size_t) (dot - base) : strlen (base);
    if (*len == 0)
        *name = "feed", *len = 4;
}

static int
s_load (sn_ioc_t *self, const char *name, uint64_t path_hash, const char *feed_name,
        size_t feed_len, const char *data, size_t len, sn_ioc_report_t *rep)
{
    memset (rep, 0, sizeof *rep);
    s_ctx_t c;
    memset (&c, 0, sizeof c);
    c.set = self;
    c.name = name;
    c.rep = rep;
    c.path_hash = path_hash;
    c.feed0 = self->n_feeds;
    //  A fresh feed record for every load, so that refusing this file removes exactly what
    //  it added (see s_undo).
    int fi = s_feed_intern (self, feed_name, feed_len, path_hash, c.feed0);
    if (fi < 0) {
        snprintf (rep->failure, sizeof rep->failure, "%s: too many feeds", name);
        return -1;
    }
    c.feed = (uint16_t) fi;
    if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        data += 3, len -= 3;  //  UTF-8 byte order mark
    uint64_t data_lines = 0;
    size_t at = 0;
    while (at < len) {
        const char *nl = memchr (data + at, '\n', len - at);
        size_t end = nl ? (size_t) (nl - data) : len;
        const char *s = data + at;
        size_t n = end - at;
        at = end + 1;
        c.line_no++;
        rep->lines++;
        s_trim (&s, &n);
        if (n == 0)
            continue;
        if (s[0] == '#' || s[0] == ';') {
            const char *d = s + 1;
            size_t dl = n - 1;
            s_trim (&d, &dl);
            if (s_prefix_ci (d, dl, "mimamori:")) {
                data_lines++;  //  a bad directive weighs like a bad line
                s_directive (&c, d + 9, dl - 9);
            }
            continue;
        }
        data_lines++;
        if (n > S_LINE_MAX || memchr (s, 0, n)) {
            s_bad (&c, n > S_LINE_MAX ? "line too long" : "NUL byte in line", s, n);
            continue;
        }
        bool first = false;
        if (c.format == F_NONE) {
            c.format = s_detect_format (s, n);
            if (c.format == F_NONE) {
                char snip[64];
                s_snip (snip, sizeof snip, s, n);
                snprintf (rep->failure, sizeof rep->failure, "%s:%llu: format not recognised: '%s'",
                          name, (unsigned long long) c.line_no, snip);
                s_undo (self, c.feed0);
                return -1;
            }
            rep->format = s_format_names[c.format];
            first = true;
        }
        s_line (&c, s, n, first);
    }
    if (rep->format == NULL)
        rep->format = "empty";
    if (data_lines && rep->bad * 2 >= data_lines) {
        snprintf (rep->failure, sizeof rep->failure,
                  "%s: %llu of %llu data lines are bad: refused as a whole", name,
                  (unsigned long long) rep->bad, (unsigned long long) data_lines);
        s_undo (self, c.feed0);
        rep->added = 0;
        return -1;
    }
    return 0;
}

int
sn_ioc_load_buffer (sn_ioc_t *self, const char *name, const char *data, size_t len,
                    sn_ioc_report_t *rep)
{
    const char *feed;
    size_t feed_len;
    s_feed_name (name, &feed, &feed_len);
    return s_load (self, name, s_path_hash (name), feed, feed_len, data, len, rep);
}

int
sn_ioc_load_file (sn_ioc_t *self, const char *path, sn_ioc_report_t *rep)
{
    memset (rep, 0, sizeof *rep);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf (rep->failure, sizeof rep->failure, "%s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    char *data = NULL;
    int rc = -1;
    if (fstat (fd, &st) == -1) {
        snprintf (rep->failure, sizeof rep->failure, "%s: %s", path, strerror (errno));
        goto cleanup;
    }
    if (!S_ISREG (st.st_mode) || (uint64_t) st.st_size > S_FILE_MAX) {
        snprintf (rep->failure, sizeof rep->failure, "%s: not a regular file under 2 GiB", path);
        goto cleanup;
    }
    size_t size = (size_t) st.st_size;
    data = malloc (size ? size : 1);
    if (!data) {
        snprintf (rep->failure, sizeof rep->failure, "%s: out of memory", path);
        goto cleanup;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read (fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf (rep->failure, sizeof rep->failure, "%s: %s", path,
                      r < 0 ? strerror (errno) : "file shrank while read");
            goto cleanup;
        }
        got += (size_t) r;
    }
    const char *feed;
    size_t feed_len;
    s_feed_name (path, &feed, &feed_len);
    rc = s_load (self, path, s_path_hash (path), feed, feed_len, data, size, rep);
cleanup:
    free (data);
    close (fd);
    return rc;
}

//  The key of a stored record, to insert it into another set.
static void
s_rec_key (const sn_ioc_t *self, const s_rec_t *r, s_key_t *k)
{
    uint32_t n;
    const uint8_t *v = s_rec_value (self, r, &n);
    k->kind = (uint8_t) r->hk;
    k->plen = (uint8_t) (r->pm >> 24);
    k->len = n;
    memcpy (k->b, v, n);
}

uint64_t
sn_ioc_copy_feed (sn_ioc_t *dst, const sn_ioc_t *src, const char *path)
{
    uint64_t ph = s_path_hash (path), copied = 0;
    //  Feed indexes of src that came from this path -> index in dst (-1: none yet).
    int32_t *map = calloc (src->n_feeds ? src->n_feeds : 1, sizeof *map);
    if (!map)
        return 0;
    for (uint32_t i = 0; i < src->n_feeds; i++)
        map[i] = -1;
    for (uint64_t i = 0; i < src->cap; i++) {
        const s_rec_t *r = &src->recs[i];
        if (r->hk == 0 || (uint8_t) r->hk == K_TOMB)
            continue;
        const s_meta_t *m = &src->metas[r->pm & 0xffffff];
        if (src->feeds[m->feed].path_hash != ph)
            continue;
        if (map[m->feed] < 0) {
            const char *name = src->feeds[m->feed].name;
            map[m->feed] = s_feed_intern (dst, name, strlen (name), ph, 0);
            if (map[m->feed] < 0)
                continue;
        }
        s_key_t k;
        s_rec_key (src, r, &k);
        s_meta_t want = *m;
        want.feed = (uint16_t) map[m->feed];
        if (s_add_key (dst, &k, &want) == S_ADDED)
            copied++;
    }
    free (map);
    return copied;
}

//  ---------------------------------------------------------------------------------------------
//  WATCHLIST

static void
s_expire (sn_ioc_t *self, uint64_t now)
{
    for (uint64_t i = 0; i < self->cap; i++) {
        s_rec_t *r = &self->recs[i];
        if (r->hk == 0 || (uint8_t) r->hk == K_TOMB)
            continue;
        const s_meta_t *m = &self->metas[r->pm & 0xffffff];
        if (m->expires && m->expires <= now)
            s_tombstone (self, r);
    }
}

//  Drops the metas no live record uses. A WATCHLIST set sees a new meta for every distinct
//  expiry time, and the records that used them go when they expire or are revoked: without
//  this, a sensor that runs for months would keep every expiry it was ever sent.
static void
s_meta_compact (sn_ioc_t *self)
{
    uint32_t *remap = calloc (self->n_metas ? self->n_metas : 1, sizeof *remap);
    if (!remap)
        return;  //  nothing lost: the metas stay as they were
    for (uint64_t i = 0; i < self->cap; i++) {
        const s_rec_t *r = &self->recs[i];
        if (r->hk && (uint8_t) r->hk != K_TOMB)
            remap[r->pm & 0xffffff] = 1;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->n_metas; i++)
        if (remap[i]) {
            self->metas[n] = self->metas[i];
            remap[i] = ++n;
        }
    for (uint64_t i = 0; i < self->cap; i++) {
        s_rec_t *r = &self->recs[i];
        if (r->hk && (uint8_t) r->hk != K_TOMB)
            r->pm = (r->pm & 0xff000000u) | (remap[r->pm & 0xffffff] - 1);
    }
    free (remap);
    self->n_metas = n;
    memset (self->meta_map, 0, self->meta_map_cap * sizeof *self->meta_map);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = s_meta_hash (&self->metas[i]) & (self->meta_map_cap - 1);
        while (self->meta_map[j])
            j = (j + 1) & (self->meta_map_cap - 1);
        self->meta_map[j] = i + 1;
    }
}

int
sn_ioc_apply_watchlist (sn_ioc_t *self, const mm_watchlist_t *wl, sn_ioc_report_t *rep)
{
    if (wl->serial < self->serial)
        return -1;
    self->serial = wl->serial;
    self->replace = true;
    if (self->live && wl->ts)
        s_expire (self, wl->ts);
    int applied = 0;
    uint32_t n = wl->n_entries < MM_WATCHLIST_MAX ? wl->n_entries : MM_WATCHLIST_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const mm_wl_entry_t *e = &wl->entries[i];
        const char *why = "unknown operation";
        int rc = -1;
        char feed[MM_ID_MAX + 1] = "watchlist";
        if (e->feed.len) {
            size_t fl = e->feed.len < MM_ID_MAX ? e->feed.len : MM_ID_MAX;
            memcpy (feed, e->feed.ptr, fl);
            feed[fl] = 0;
        }
        if (e->op == MM_WL_REVOKE) {
            s_revoke (self, e->type, e->value.ptr, e->value.len, e->feed.len ? feed : NULL);
            rc = 0;  //  revoking what is not there is no error
        }
        else if (e->op == MM_WL_ADD) {
            if (e->expires && wl->ts && e->expires <= wl->ts) {
                applied++;  //  already expired: nothing to hold
                continue;
            }
            sn_ioc_meta_t meta = {.category = e->category,
                                  .severity = e->severity <= MM_SEV_CRITICAL ? e->severity : 0,
                                  .expires = e->expires,
                                  .block = e->action == MM_ACTION_BLOCK,
                                  .feed = feed};
            rc = sn_ioc_add (self, e->type, e->value.ptr, e->value.len, &meta, &why);
        }
        if (rc >= 0)
            applied++;
        else if (rep) {
            rep->bad++;
            if (rep->n_errors < SN_IOC_ERRORS_MAX) {
                char snip[64];
                s_snip (snip, sizeof snip, e->value.ptr ? e->value.ptr : "", e->value.len);
                snprintf (rep->errors[rep->n_errors++], SN_IOC_ERROR_LEN,
                          "watchlist %llu entry %u: %s: '%s'", (unsigned long long) wl->serial, i,
                          why, snip);
            }
        }
    }
    if (rep)
        rep->added += (uint64_t) applied;
    if (self->n_metas > 2 * self->live + 64)
        s_meta_compact (self);
    return applied;
}
