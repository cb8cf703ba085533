/*  sn_det_beacon: beaconing, an inside host calling the same outside place again and again at
    a steady pace (malware asking its controller for work, ATT&CK T1071/T1573). Connections are
    timed at their first packet and grouped per (host, destination): the destination is its name
    when TLS SNI, HTTP Host or a DNS answer gives one (so a CDN rotating addresses does not split
    a beacon), else its address and port. The median of the recent intervals is the period, their
    inter-quartile range the jitter. Owner: sensor (issue 4). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_distinct.h"
#include "sn_ioc.h"
#include "sn_track.h"

#define S_NS 1000000000ULL
#define S_MS 1000000ULL
#define S_RING 32  //  intervals judged per (host, destination): recent enough, cheap to sort
//  New connections wait this long for the TLS or HTTP event that names them; a ClientHello
//  or a request comes within a round trip or two. The ring bounds the wait under a flood: when
//  it is full the oldest is decided early, from what is known.
#define S_PENDING 2048
#define S_HOLD_NS (5 * S_NS)
#define S_NAME_MAX 64  //  name text kept for messages (the key hashes the whole name)
#define S_DOMAINS_MAX 64

static const sn_det_info_t s_info = {"beacon",      1,  MM_CAT_C2_BEACON,
                                     MM_SEV_MEDIUM, 60, {"T1071", "T1573"}};

//  A new connection waiting for its name.
typedef struct {
    uint64_t flow_id, ts;
    mm_addr_t host, dst;
    uint16_t dport;
    uint8_t proto;
    uint8_t name_len;  //  0: no name yet
    char name[S_NAME_MAX];
    uint64_t bytes;  //  from its flow record, when the flow ended while it waited
} s_conn_t;

//  What a DNS answer, SNI or Host said an outside address is called, per inside host.
typedef struct {
    uint8_t name_len;
    char name[S_NAME_MAX];
} s_alias_t;

typedef struct {
    mm_addr_t host, dst;  //  the first address seen, kept so the finding keeps one target
    uint16_t dport;
    uint8_t proto;
    bool flagged, dirty;  //  reported; bytes grew since
    uint64_t subject;     //  hash of the name, 0 when keyed by address
    uint64_t first_ts, last_ts;
    uint64_t count;  //  connections
    uint64_t beats;  //  connections, bursts counted once
    uint64_t bytes;
    uint32_t period_ms, jitter_ms;  //  at the last judgement that found a beacon
    uint32_t iv[S_RING];            //  intervals between beats, ms
    uint8_t n_iv, pos;
    uint8_t name_len;
    char name[S_NAME_MAX];
} s_beacon_t;

typedef struct {
    char buf[2048];
    const char *item[S_DOMAINS_MAX];
    size_t len[S_DOMAINS_MAX];
    size_t n;
} s_domains_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *beacons;
    sn_track_t *aliases;
    uint8_t allow_port[65536 / 8];
    s_domains_t allow_domains;
    uint64_t merge_ms;  //  connections closer than this are one burst
    s_conn_t pending[S_PENDING];
    size_t head, n_pending;
} s_self_t;

//  ---------------------------------------------------------------------------------------------
//  Settings

static int
s_parse_ports (uint8_t *bits, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        unsigned long lo = strtoul (p, &end, 10), hi = lo;
        if (end == p || errno || lo > 65535)
            return -1;
        p = end;
        if (*p == '-') {
            const char *q = p + 1;
            hi = strtoul (q, &end, 10);
            if (end == q || errno || hi > 65535 || hi < lo)
                return -1;
            p = end;
        }
        if (*p && *p != ',' && *p != ' ' && *p != '\t')
            return -1;
        for (unsigned long v = lo; v <= hi; v++)
            bits[v / 8] |= (uint8_t) (1u << (v % 8));
    }
    return 0;
}

static int
s_parse_domains (s_domains_t *d, const char *text)
{
    memset (d, 0, sizeof *d);
    size_t o = 0;
    const char *p = text;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '.')
            p++;
        if (!*p)
            break;
        size_t len = strcspn (p, ", \t");
        size_t n = len;
        while (n && p[n - 1] == '.')
            n--;
        if (d->n == S_DOMAINS_MAX || o + n + 1 > sizeof d->buf)
            return -1;
        for (size_t i = 0; i < n; i++)
            d->buf[o + i] = (char) tolower ((unsigned char) p[i]);
        d->buf[o + n] = 0;
        d->item[d->n] = d->buf + o;
        d->len[d->n] = n;
        d->n++;
        o += n + 1;
        p += len;
    }
    return 0;
}

//  True if `name` (lower case) is one of the domains or under one.
static bool
s_domain_listed (const s_domains_t *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->n; i++) {
        size_t n = d->len[i];
        if (len < n || memcmp (name + len - n, d->item[i], n) != 0)
            continue;
        if (len == n || name[len - n - 1] == '.')
            return true;
    }
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Names and addresses

//  Multicast, broadcast, loopback, link-local, unspecified: never a controller outside.
static bool
s_is_special (const mm_addr_t *a)
{
    if (a->len == 4) {
        const uint8_t *b = a->b;
        return b[0] >= 224 || b[0] == 127 || b[0] == 0 || (b[0] == 169 && b[1] == 254);
    }
    if (a->len == 16) {
        static const uint8_t zero[15] = {0};
        const uint8_t *b = a->b;
        return b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
               (memcmp (b, zero, 15) == 0 && b[15] <= 1);
    }
    return true;
}

//  A destination name from SNI, an HTTP Host header or a DNS question: lower case, without
//  port or final dot, cut to S_NAME_MAX - 1 (its length returned; names are keyed by what is
//  kept). 0 if there is none worth keying by (empty, an address literal, odd bytes).
static size_t
s_norm_name (mm_str_t in, char *out, size_t size)
{
    char buf[MM_NAME_MAX + 1];
    size_t n = 0;
    bool letters = false;
    for (uint32_t i = 0; i < in.len && n < MM_NAME_MAX; i++) {
        char c = (char) tolower ((unsigned char) in.ptr[i]);
        if (c == ':')
            break;  //  Host: name:port (an IPv6 literal starts with '[' and is refused below)
        if (!(isalnum ((unsigned char) c) || c == '.' || c == '-' || c == '_'))
            return 0;
        if (isalpha ((unsigned char) c))
            letters = true;
        buf[n++] = c;
    }
    while (n && buf[n - 1] == '.')
        n--;
    if (n == 0 || !letters)
        return 0;  //  a dotted IPv4 literal names nothing more than its address
    size_t k = n < size - 1 ? n : size - 1;
    memcpy (out, buf, k);
    out[k] = 0;
    return k;
}

static size_t
s_alias_key (uint8_t *key, const mm_addr_t *host, const mm_addr_t *dst)
{
    return sn_track_key_pair (key, host, dst, 0);
}

static void
s_alias_set (s_self_t *self, const mm_addr_t *host, const mm_addr_t *dst, const char *name,
             size_t len, uint64_t ts)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_alias_key (key, host, dst);
    s_alias_t *a = sn_track_get (self->aliases, key, n, ts, NULL);
    size_t k = len < S_NAME_MAX - 1 ? len : S_NAME_MAX - 1;
    memcpy (a->name, name, k);
    a->name[k] = 0;
    a->name_len = (uint8_t) k;
}

static const s_alias_t *
s_alias_find (s_self_t *self, const mm_addr_t *host, const mm_addr_t *dst)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_alias_key (key, host, dst);
    const s_alias_t *a = sn_track_find (self->aliases, key, n);
    return a && a->name_len ? a : NULL;
}

//  The key of a (host, destination): by name hash when known, else by address, port, protocol.
static size_t
s_beacon_key (uint8_t *key, const mm_addr_t *host, uint64_t subject, const mm_addr_t *dst,
              uint16_t dport, uint8_t proto)
{
    size_t n = 0;
    key[n++] = subject ? 'n' : 'a';
    n += sn_track_key_addr (key + n, host);
    if (subject) {
        memcpy (key + n, &subject, sizeof subject);
        return n + sizeof subject;
    }
    n += sn_track_key_addr (key + n, dst);
    key[n++] = (uint8_t) (dport >> 8);
    key[n++] = (uint8_t) dport;
    key[n++] = proto;
    return n;
}

//  ---------------------------------------------------------------------------------------------
//  Judging

static int
s_cmp_u32 (const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
    return (x > y) - (x < y);
}

//  True if the recent intervals are a beacon's; sets its period (median) and jitter (IQR).
static bool
s_judge (const s_self_t *self, s_beacon_t *b)
{
    const sn_config_t *c = self->cfg;
    if (b->beats < c->beacon_min_connections || b->n_iv < 3)
        return false;
    uint32_t v[S_RING];
    size_t n = b->n_iv;
    memcpy (v, b->iv, n * sizeof v[0]);
    qsort (v, n, sizeof v[0], s_cmp_u32);
    uint64_t median = n % 2 ? v[n / 2] : ((uint64_t) v[n / 2 - 1] + v[n / 2]) / 2;
    uint64_t iqr = v[(3 * n) / 4] - v[n / 4];
    if (median < c->beacon_min_period * 1000 || median > c->beacon_max_period * 1000)
        return false;
    if (iqr * 100 > c->beacon_max_jitter_pct * median)
        return false;
    b->period_ms = (uint32_t) median;
    b->jitter_ms = (uint32_t) iqr;
    return true;
}

static void
s_raise (s_self_t *self, s_beacon_t *b, uint64_t ts)
{
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info;
    a.ts = ts;
    a.proto = b->proto;
    a.src = b->host;
    a.dst = b->dst;
    a.offender = SN_OFFENDER_DST;  //  the place called, never the inside host
    a.has_dport = true;
    a.dport = b->dport;
    a.subject = b->subject;
    //  Regularity held over many beats is stronger evidence than the minimum.
    uint64_t pct = b->period_ms ? (uint64_t) b->jitter_ms * 100 / b->period_ms : 100;
    a.confidence = b->beats >= 3 * self->cfg->beacon_min_connections && pct <= 10 ? 80 : 60;
    //  Calling a place the feeds know as bad, on a timer, is a controller at work: that needs
    //  immediate notice (high). An unknown place is worth a look (the info's medium).
    sn_ioc_match_t m;
    bool bad =
        sn_det_ioc_match_addr (self->engine, &b->dst, ts, &m) ||
        (b->name_len && sn_det_ioc_match_domain (self->engine, b->name, b->name_len, ts, &m));
    if (bad) {
        a.severity = MM_SEV_HIGH;
        a.confidence = 90;
        a.ioc_type = m.type;
        a.ioc_value = m.value;
        a.ioc_feed = m.feed;
        a.block = m.block;
    }
    mm_evidence_t *e = &a.evidence;
    e->count = b->count;
    e->period_ms = b->period_ms;
    e->jitter_ms = b->jitter_ms;
    e->window_s = (uint32_t) ((b->last_ts - b->first_ts) / S_NS);
    e->first_ts = b->first_ts;
    e->last_ts = b->last_ts;
    e->bytes = b->bytes;
    char host[64], dst[64];
    sn_detect_addr_str (&b->host, host, sizeof host);
    sn_detect_addr_str (&b->dst, dst, sizeof dst);
    //  Address texts are at most 39 characters (45 for the rare IPv4-mapped form, cut).
    if (b->name_len)
        snprintf (a.message, sizeof a.message,
                  "%.39s calls %.63s (%.39s port %u) every %u ms, jitter %u ms, %llu times in %u s",
                  host, b->name, dst, (unsigned) b->dport, (unsigned) b->period_ms,
                  (unsigned) b->jitter_ms, (unsigned long long) b->count, (unsigned) e->window_s);
    else
        snprintf (a.message, sizeof a.message,
                  "%.39s calls %.39s port %u every %u ms, jitter %u ms, %llu times in %u s", host,
                  dst, (unsigned) b->dport, (unsigned) b->period_ms, (unsigned) b->jitter_ms,
                  (unsigned long long) b->count, (unsigned) e->window_s);
    if (bad) {
        size_t n = strlen (a.message);
        snprintf (a.message + n, sizeof a.message - n, "; known bad (%.32s)",
                  m.feed ? m.feed : "indicator");
    }
    sn_detect_raise (self->engine, &a);
    b->flagged = true;
    b->dirty = false;
}

//  A connection, named or not, joins its (host, destination).
static void
s_count (s_self_t *self, const s_conn_t *c)
{
    const char *name = NULL;
    size_t name_len = 0;
    if (c->name_len) {
        name = c->name;
        name_len = c->name_len;
    }
    else {
        const s_alias_t *al = s_alias_find (self, &c->host, &c->dst);
        if (al) {
            name = al->name;
            name_len = al->name_len;
        }
    }
    if (name && s_domain_listed (&self->allow_domains, name, name_len))
        return;
    uint64_t subject = name ? sn_distinct_hash (name, name_len) | 1 : 0;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_beacon_key (key, &c->host, subject, &c->dst, c->dport, c->proto);
    bool created;
    s_beacon_t *b = sn_track_get (self->beacons, key, n, c->ts, &created);
    b->bytes += c->bytes;
    if (created) {
        b->host = c->host;
        b->dst = c->dst;
        b->dport = c->dport;
        b->proto = c->proto;
        b->subject = subject;
        b->first_ts = b->last_ts = c->ts;
        b->count = b->beats = 1;
        if (name) {
            memcpy (b->name, name, name_len);
            b->name[name_len] = 0;
            b->name_len = (uint8_t) name_len;
        }
        return;
    }
    b->count++;
    uint64_t gap_ms = c->ts > b->last_ts ? (c->ts - b->last_ts) / S_MS : 0;
    b->last_ts = c->ts > b->last_ts ? c->ts : b->last_ts;
    if (gap_ms < self->merge_ms)
        return;  //  part of the same burst (a page with many parts, a retry)
    b->beats++;
    b->iv[b->pos] = gap_ms > UINT32_MAX ? UINT32_MAX : (uint32_t) gap_ms;
    b->pos = (uint8_t) ((b->pos + 1) % S_RING);
    if (b->n_iv < S_RING)
        b->n_iv++;
    if (s_judge (self, b))
        s_raise (self, b, c->ts);
}

//  Decides the pending connections that waited long enough (all of them when `all`).
static void
s_drain (s_self_t *self, uint64_t now, bool all)
{
    while (self->n_pending) {
        const s_conn_t *c = &self->pending[self->head];
        if (!all && c->ts + S_HOLD_NS > now)
            break;
        s_count (self, c);
        self->head = (self->head + 1) % S_PENDING;
        self->n_pending--;
    }
}

//  The pending connection of flow `id` (ids grow with time, so the ring is sorted by them).
static s_conn_t *
s_pending_find (s_self_t *self, uint64_t id)
{
    size_t lo = 0, hi = self->n_pending;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        s_conn_t *c = &self->pending[(self->head + mid) % S_PENDING];
        if (c->flow_id == id)
            return c;
        if (c->flow_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Hooks

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->beacon)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    if (s_parse_ports (self->allow_port, cfg->beacon_allow_ports) != 0) {
        fprintf (stderr, "beacon: allow_ports: not a list of ports: %s\n", cfg->beacon_allow_ports);
        goto fail;
    }
    if (s_parse_domains (&self->allow_domains, cfg->beacon_allow_domains) != 0) {
        fprintf (stderr, "beacon: allow_domains: more than %d domains\n", S_DOMAINS_MAX);
        goto fail;
    }
    //  Half the shortest period: a burst never hides a beat, and a beat is never a burst.
    self->merge_ms = cfg->beacon_min_period * 1000 / 2;
    if (self->merge_ms > 1000)
        self->merge_ms = 1000;
    //  A (host, destination) is kept for two of the longest periods, so one missed call-back
    //  does not forget it.
    uint64_t idle = (2 * cfg->beacon_max_period + 60) * S_NS;
    uint32_t cap = (uint32_t) cfg->beacon_max_tracked;
    self->beacons = sn_track_new (cap, sizeof (s_beacon_t), idle, NULL, NULL);
    self->aliases = sn_track_new (cap, sizeof (s_alias_t), idle, NULL, NULL);
    if (!self->beacons || !self->aliases)
        goto fail;
    return self;
fail:
    sn_track_destroy (&self->beacons);
    sn_track_destroy (&self->aliases);
    free (self);
    return NULL;
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_self_t *self = *self_p;
    sn_track_destroy (&self->beacons);
    sn_track_destroy (&self->aliases);
    free (self);
    *self_p = NULL;
}

static void
s_packet (void *arg, const sn_det_pkt_t *p)
{
    s_self_t *self = arg;
    if (self->n_pending && self->pending[self->head].ts + S_HOLD_NS <= p->ts)
        s_drain (self, p->ts, false);
    if (!p->new_flow || !p->orig_home || p->resp_home)
        return;
    const sn_flow_t *f = p->flow;
    if (f->proto == 6) {
        if (!(p->pkt->tcp_flags & 0x02))
            return;  //  picked up mid-stream: not a connection we saw start
    }
    else if (f->proto != 17)
        return;
    if (self->allow_port[f->resp_port / 8] & (1u << (f->resp_port % 8)))
        return;
    if (s_is_special (&f->resp) || mm_netlist_contains (&self->cfg->beacon_allow, &f->resp))
        return;
    if (self->n_pending == S_PENDING) {
        //  Full (a flood of new connections): decide the oldest now rather than drop it.
        s_count (self, &self->pending[self->head]);
        self->head = (self->head + 1) % S_PENDING;
        self->n_pending--;
    }
    s_conn_t *c = &self->pending[(self->head + self->n_pending) % S_PENDING];
    self->n_pending++;
    c->flow_id = f->id;
    c->ts = p->ts;
    c->host = f->orig;
    c->dst = f->resp;
    c->dport = f->resp_port;
    c->proto = f->proto;
    c->name_len = 0;
    c->bytes = 0;
}

static void
s_event (void *arg, const mm_event_t *ev)
{
    s_self_t *self = arg;
    if (!sn_detect_is_home (self->engine, &ev->src))
        return;
    if (ev->kind == MM_KIND_FLOW) {
        if (sn_detect_is_home (self->engine, &ev->dst))
            return;
        s_conn_t *c = s_pending_find (self, ev->flow_id);
        if (c) {
            c->bytes += ev->bytes_orig + ev->bytes_resp;  //  a short flow, ended while it waited
            return;
        }
        //  Bytes of a (host, destination): found the way its connections were.
        const s_alias_t *al = s_alias_find (self, &ev->src, &ev->dst);
        uint64_t subject = al ? sn_distinct_hash (al->name, al->name_len) | 1 : 0;
        uint8_t key[SN_TRACK_KEY_MAX];
        size_t n = s_beacon_key (key, &ev->src, subject, &ev->dst, ev->dport, ev->proto);
        s_beacon_t *b = sn_track_find (self->beacons, key, n);
        if (b) {
            b->bytes += ev->bytes_orig + ev->bytes_resp;
            b->dirty = b->flagged;
        }
        return;
    }
    char name[S_NAME_MAX];
    size_t len = 0;
    if (ev->kind == MM_KIND_TLS && (ev->has & MM_EV_HAS_TLS))
        len = s_norm_name (ev->tls.sni, name, sizeof name);
    else if (ev->kind == MM_KIND_HTTP && (ev->has & MM_EV_HAS_HTTP))
        len = s_norm_name (ev->http.host, name, sizeof name);
    else if (ev->kind == MM_KIND_DNS && (ev->has & MM_EV_HAS_DNS) &&
             (ev->dns.has & MM_DNS_HAS_RCODE) && ev->dns.rcode == 0 && ev->dns.n_answers) {
        //  A resolved address is named before the connection to it starts.
        len = s_norm_name (ev->dns.qname, name, sizeof name);
        for (uint32_t i = 0; len && i < ev->dns.n_answers && i < MM_DNS_ANSWERS_MAX; i++) {
            const mm_dns_answer_t *an = &ev->dns.answers[i];
            if ((an->type != 1 && an->type != 28) || an->value.len == 0 || an->value.len >= 64)
                continue;
            char text[64];
            memcpy (text, an->value.ptr, an->value.len);
            text[an->value.len] = 0;
            mm_addr_t addr = {.len = an->type == 1 ? 4 : 16};
            if (inet_pton (an->type == 1 ? AF_INET : AF_INET6, text, addr.b) != 1)
                continue;
            if (!sn_detect_is_home (self->engine, &addr))
                s_alias_set (self, &ev->src, &addr, name, len, ev->ts);
        }
        return;
    }
    if (!len || sn_detect_is_home (self->engine, &ev->dst))
        return;
    s_alias_set (self, &ev->src, &ev->dst, name, len, ev->ts);
    s_conn_t *c = s_pending_find (self, ev->flow_id);
    if (c && !c->name_len) {
        size_t k = len < S_NAME_MAX - 1 ? len : S_NAME_MAX - 1;
        memcpy (c->name, name, k);
        c->name[k] = 0;
        c->name_len = (uint8_t) k;
    }
}

static void
s_tick (void *arg, uint64_t now)
{
    s_self_t *self = arg;
    s_drain (self, now, false);
    sn_track_expire (self->beacons, now);
    sn_track_expire (self->aliases, now);
}

static void
s_report_bytes (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    s_self_t *self = arg;
    s_beacon_t *b = value;
    if (b->flagged && b->dirty)
        s_raise (self, b, b->last_ts);
}

static void
s_flush (void *arg)
{
    s_self_t *self = arg;
    s_drain (self, 0, true);
    //  The last connections' bytes come with their flow records, after the last report.
    sn_track_foreach (self->beacons, s_report_bytes, self);
}

const sn_det_class_t sn_det_beacon = {.name = "beacon",
                                      .create = s_create,
                                      .destroy = s_destroy,
                                      .packet = s_packet,
                                      .event = s_event,
                                      .tick = s_tick,
                                      .flush = s_flush};
