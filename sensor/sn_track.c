/*  sn_track: bounded keyed state (see sn_track.h). Entries live in one array; a bucket array
    of chains (indices + 1) finds them, and a doubly linked LRU list orders them by last touch,
    so expiry and recycling both take from its head. */
#include "sn_track.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t key[SN_TRACK_KEY_MAX];
    uint8_t key_len;
    uint8_t in_use;
    uint32_t hash;
    uint32_t next;  //  bucket chain, index + 1 (0 ends it)
    uint32_t prev_lru, next_lru;
    uint64_t touched;
} s_entry_t;

struct sn_track {
    uint32_t capacity, n_buckets;
    size_t value_size;
    uint64_t idle_ns;
    sn_track_gone_fn *gone;
    void *arg;
    s_entry_t *entries;
    uint8_t *values;
    uint32_t *buckets;
    uint32_t free_head;           //  index + 1 of a free entry chain (through `next`)
    uint32_t lru_head, lru_tail;  //  index + 1; head is the least recently touched
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    sn_track_stats_t stats;
};

sn_track_t *
sn_track_new (uint32_t capacity, size_t value_size, uint64_t idle_ns, sn_track_gone_fn *gone,
              void *arg)
{
    if (capacity == 0 || sodium_init () < 0)
        return NULL;
    sn_track_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity;
    self->n_buckets = 1;
    while (self->n_buckets < capacity && self->n_buckets < (1u << 30))
        self->n_buckets <<= 1;
    self->value_size = value_size ? value_size : 1;
    self->idle_ns = idle_ns;
    self->gone = gone;
    self->arg = arg;
    self->entries = calloc (capacity, sizeof *self->entries);
    self->values = calloc (capacity, self->value_size);
    self->buckets = calloc (self->n_buckets, sizeof *self->buckets);
    if (!self->entries || !self->values || !self->buckets) {
        sn_track_destroy (&self);
        return NULL;
    }
    for (uint32_t i = 0; i < capacity; i++)
        self->entries[i].next = i + 2 <= capacity ? i + 2 : 0;
    self->free_head = 1;
    crypto_shorthash_keygen (self->hash_key);
    return self;
}

void
sn_track_destroy (sn_track_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_track_t *self = *self_p;
    free (self->entries);
    free (self->values);
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

static uint32_t
s_hash (const sn_track_t *self, const void *key, size_t len)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash (out, key, len, self->hash_key);
    uint32_t h;
    memcpy (&h, out, sizeof h);
    return h;
}

static void *
s_value (sn_track_t *self, uint32_t i)
{
    return self->values + (size_t) i * self->value_size;
}

static void
s_lru_unlink (sn_track_t *self, uint32_t i)
{
    s_entry_t *e = &self->entries[i];
    if (e->prev_lru)
        self->entries[e->prev_lru - 1].next_lru = e->next_lru;
    else
        self->lru_head = e->next_lru;
    if (e->next_lru)
        self->entries[e->next_lru - 1].prev_lru = e->prev_lru;
    else
        self->lru_tail = e->prev_lru;
    e->prev_lru = e->next_lru = 0;
}

static void
s_lru_append (sn_track_t *self, uint32_t i)
{
    s_entry_t *e = &self->entries[i];
    e->prev_lru = self->lru_tail;
    e->next_lru = 0;
    if (self->lru_tail)
        self->entries[self->lru_tail - 1].next_lru = i + 1;
    else
        self->lru_head = i + 1;
    self->lru_tail = i + 1;
}

static uint32_t
s_lookup (const sn_track_t *self, const void *key, size_t len, uint32_t h, uint32_t **link)
{
    uint32_t *l = &self->buckets[h & (self->n_buckets - 1)];
    while (*l) {
        const s_entry_t *e = &self->entries[*l - 1];
        if (e->hash == h && e->key_len == len && memcmp (e->key, key, len) == 0) {
            if (link)
                *link = l;
            return *l;
        }
        l = &self->entries[*l - 1].next;
    }
    return 0;
}

//  Takes entry i out of its bucket, the LRU list and the table; back to the free list.
static void
s_release (sn_track_t *self, uint32_t i, bool notify, bool recycled)
{
    s_entry_t *e = &self->entries[i];
    uint32_t *link = NULL;
    s_lookup (self, e->key, e->key_len, e->hash, &link);
    if (link)
        *link = e->next;
    s_lru_unlink (self, i);
    if (notify && self->gone)
        self->gone (self->arg, e->key, e->key_len, s_value (self, i), recycled);
    e->in_use = 0;
    e->next = self->free_head;
    self->free_head = i + 1;
    self->stats.active--;
}

void *
sn_track_get (sn_track_t *self, const void *key, size_t key_len, uint64_t now_ns, bool *created)
{
    if (key_len > SN_TRACK_KEY_MAX)
        key_len = SN_TRACK_KEY_MAX;
    uint32_t h = s_hash (self, key, key_len);
    uint32_t idx = s_lookup (self, key, key_len, h, NULL);
    if (created)
        *created = idx == 0;
    if (idx) {
        s_entry_t *e = &self->entries[idx - 1];
        e->touched = now_ns;
        s_lru_unlink (self, idx - 1);
        s_lru_append (self, idx - 1);
        return s_value (self, idx - 1);
    }
    sn_track_expire (self, now_ns);
    if (!self->free_head) {
        self->stats.recycled++;
        s_release (self, self->lru_head - 1, true, true);
    }
    uint32_t i = self->free_head - 1;
    s_entry_t *e = &self->entries[i];
    self->free_head = e->next;
    memcpy (e->key, key, key_len);
    e->key_len = (uint8_t) key_len;
    e->hash = h;
    e->in_use = 1;
    e->touched = now_ns;
    uint32_t *bucket = &self->buckets[h & (self->n_buckets - 1)];
    e->next = *bucket;
    *bucket = i + 1;
    s_lru_append (self, i);
    memset (s_value (self, i), 0, self->value_size);
    self->stats.created++;
    self->stats.active++;
    return s_value (self, i);
}

void *
sn_track_find (sn_track_t *self, const void *key, size_t key_len)
{
    if (key_len > SN_TRACK_KEY_MAX)
        key_len = SN_TRACK_KEY_MAX;
    uint32_t idx = s_lookup (self, key, key_len, s_hash (self, key, key_len), NULL);
    return idx ? s_value (self, idx - 1) : NULL;
}

void
sn_track_remove (sn_track_t *self, const void *key, size_t key_len)
{
    if (key_len > SN_TRACK_KEY_MAX)
        key_len = SN_TRACK_KEY_MAX;
    uint32_t idx = s_lookup (self, key, key_len, s_hash (self, key, key_len), NULL);
    if (idx)
        s_release (self, idx - 1, false, false);
}

void
sn_track_expire (sn_track_t *self, uint64_t now_ns)
{
    //  Entries are in touch order, so the oldest is at the head. One touched "in the future"
    //  (the clock stepped back since) would hold every entry behind it: it counts as touched
    //  now and goes to the tail. That happens at most once per entry per step.
    uint32_t moved = 0;
    while (self->lru_head) {
        uint32_t i = self->lru_head - 1;
        s_entry_t *e = &self->entries[i];
        if (now_ns < e->touched && moved < self->capacity) {
            e->touched = now_ns;
            s_lru_unlink (self, i);
            s_lru_append (self, i);
            moved++;
            continue;
        }
        if (now_ns < e->touched || now_ns - e->touched <= self->idle_ns)
            break;
        self->stats.expired++;
        s_release (self, self->lru_head - 1, true, false);
    }
}

void
sn_track_flush (sn_track_t *self)
{
    while (self->lru_head)
        s_release (self, self->lru_head - 1, true, false);
}

void
sn_track_foreach (sn_track_t *self,
                  void (*fn) (void *arg, const uint8_t *key, size_t key_len, void *value),
                  void *arg)
{
    for (uint32_t i = self->lru_head; i; i = self->entries[i - 1].next_lru)
        fn (arg, self->entries[i - 1].key, self->entries[i - 1].key_len, s_value (self, i - 1));
}

const sn_track_stats_t *
sn_track_stats (const sn_track_t *self)
{
    return &self->stats;
}

size_t
sn_track_key_addr (uint8_t *key, const mm_addr_t *a)
{
    //  Only `len` bytes are meaningful: the rest is zeroed so equal addresses give equal keys.
    uint8_t len = a->len <= 16 ? a->len : 16;
    key[0] = len;
    memset (key + 1, 0, 16);
    memcpy (key + 1, a->b, len);
    return 17;
}

size_t
sn_track_key_pair (uint8_t *key, const mm_addr_t *a, const mm_addr_t *b, uint16_t port)
{
    size_t n = sn_track_key_addr (key, a);
    n += sn_track_key_addr (key + n, b);
    key[n++] = (uint8_t) (port >> 8);
    key[n++] = (uint8_t) port;
    return n;
}
