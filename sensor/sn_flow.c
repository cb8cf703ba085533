/*  sn_flow: the flow table (see sn_flow.h).
    Layout: a pool of max_flows entries and a bucket array (a power of two, about twice the
    pool) of chains linked by index. The key is hashed with SipHash under a random per-table
    key, so traffic cannot be crafted to pile flows into one bucket. Four LRU lists, one per
    timeout class, keep flows in last-seen order: expiry only looks at list tails, and eviction
    takes the stalest tail. */
#include "sn_flow.h"

#include "sn_cid.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum { S_CLASS_TCP_EST = 0, S_CLASS_TCP_OTHER, S_CLASS_UDP, S_CLASS_OTHER, S_CLASSES };

#define S_NONE UINT32_MAX

typedef struct {
    uint32_t head, tail;  //  most and least recently seen
} s_lru_t;

struct sn_flow_table {
    sn_flow_config_t cfg;
    sn_flow_end_fn *end_fn;
    void *arg;
    sn_flow_t *pool;
    uint32_t *buckets;  //  index + 1 of the first flow in the chain, 0: empty
    uint32_t bucket_mask;
    uint32_t free_head;  //  recycled entries, linked through hash_next (index + 1)
    uint32_t fresh;      //  entries [fresh, max_flows) were never used
    s_lru_t lru[S_CLASSES];
    uint64_t timeout_ns[S_CLASSES];
    uint64_t next_id;
    uint64_t last_expire_ns;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    sn_flow_stats_t stats;
};

void
sn_flow_config_defaults (sn_flow_config_t *cfg)
{
    cfg->max_flows = 262144;
    cfg->tcp_established_s = 600;
    cfg->tcp_other_s = 30;
    cfg->udp_s = 60;
    cfg->other_s = 60;
    cfg->active_tcp_s = cfg->active_udp_s = cfg->active_other_s = 1800;
}

//  ---------------------------------------------------------------------------------------------
//  LRU lists

static void
s_lru_unlink (sn_flow_table_t *self, sn_flow_t *f)
{
    s_lru_t *l = &self->lru[f->lru_class];
    uint32_t idx = (uint32_t) (f - self->pool);
    if (f->lru_prev != S_NONE)
        self->pool[f->lru_prev].lru_next = f->lru_next;
    else if (l->head == idx)
        l->head = f->lru_next;
    if (f->lru_next != S_NONE)
        self->pool[f->lru_next].lru_prev = f->lru_prev;
    else if (l->tail == idx)
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = S_NONE;
}

static void
s_lru_push (sn_flow_table_t *self, sn_flow_t *f, uint8_t cls)
{
    s_lru_t *l = &self->lru[cls];
    uint32_t idx = (uint32_t) (f - self->pool);
    f->lru_class = cls;
    f->lru_prev = S_NONE;
    f->lru_next = l->head;
    if (l->head != S_NONE)
        self->pool[l->head].lru_prev = idx;
    l->head = idx;
    if (l->tail == S_NONE)
        l->tail = idx;
}

static uint8_t
s_class_of (const sn_flow_t *f)
{
    if (f->proto == 6) {
        bool est = f->tcp_state[0] == SN_TCP_ESTABLISHED || f->tcp_state[1] == SN_TCP_ESTABLISHED ||
                   f->tcp_state[0] == SN_TCP_PARTIAL || f->tcp_state[1] == SN_TCP_PARTIAL;
        return est ? S_CLASS_TCP_EST : S_CLASS_TCP_OTHER;
    }
    return f->proto == 17 ? S_CLASS_UDP : S_CLASS_OTHER;
}

//  ---------------------------------------------------------------------------------------------
//  Table

sn_flow_table_t *
sn_flow_table_new (const sn_flow_config_t *cfg, sn_flow_end_fn *end_fn, void *arg)
{
    if (!cfg || cfg->max_flows == 0 || cfg->max_flows > (1u << 28) || sodium_init () < 0)
        return NULL;
    sn_flow_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->end_fn = end_fn;
    self->arg = arg;
    uint32_t nb = 1;
    while (nb < cfg->max_flows * 2u)
        nb <<= 1;
    self->bucket_mask = nb - 1;
    self->pool = calloc (cfg->max_flows, sizeof *self->pool);
    self->buckets = calloc (nb, sizeof *self->buckets);
    if (!self->pool || !self->buckets) {
        sn_flow_table_destroy (&self);
        return NULL;
    }
    //  The pool comes from calloc untouched: entries are handed out from `fresh` first, so
    //  the memory the process really uses follows the flows it sees, not max_flows.
    for (int c = 0; c < S_CLASSES; c++)
        self->lru[c].head = self->lru[c].tail = S_NONE;
    self->timeout_ns[S_CLASS_TCP_EST] = (uint64_t) cfg->tcp_established_s * 1000000000u;
    self->timeout_ns[S_CLASS_TCP_OTHER] = (uint64_t) cfg->tcp_other_s * 1000000000u;
    self->timeout_ns[S_CLASS_UDP] = (uint64_t) cfg->udp_s * 1000000000u;
    self->timeout_ns[S_CLASS_OTHER] = (uint64_t) cfg->other_s * 1000000000u;
    crypto_shorthash_keygen (self->hash_key);
    self->next_id = 1;
    return self;
}

void
sn_flow_table_destroy (sn_flow_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_flow_table_t *self = *self_p;
    free (self->pool);
    free (self->buckets);
    free (self);
    *self_p = NULL;
}

//  The ports a packet is keyed by. ICMP request and reply types are one exchange: both are
//  keyed (type, counterpart), seen from each side, so a ping and its answer share a flow.
static void
s_key_ports (const sn_pkt_t *pkt, uint16_t *sport, uint16_t *dport)
{
    *sport = pkt->sport;
    *dport = pkt->dport;
    uint16_t other;
    if ((pkt->proto == 1 || pkt->proto == 58) &&
        sn_cid_icmp_counterpart (pkt->proto, pkt->sport, &other))
        *dport = other;
}

//  The key in a canonical order (smaller address and port first), so both directions hash
//  alike. 2 + 1 + 1 + 2*16 + 2*2 bytes at most.
static uint32_t
s_hash (const sn_flow_table_t *self, const sn_pkt_t *pkt)
{
    uint8_t key[44];
    size_t n = 0;
    const mm_addr_t *a = &pkt->src, *b = &pkt->dst;
    uint16_t sport, dport;
    s_key_ports (pkt, &sport, &dport);
    uint16_t pa = sport, pb = dport;
    int cmp = memcmp (a->b, b->b, a->len);
    if (cmp > 0 || (cmp == 0 && pa > pb)) {
        a = &pkt->dst;
        b = &pkt->src;
        pa = dport;
        pb = sport;
    }
    uint16_t vlan = pkt->n_vlan ? pkt->vlan[0] : 0;
    key[n++] = (uint8_t) (vlan >> 8);
    key[n++] = (uint8_t) vlan;
    key[n++] = pkt->proto;
    key[n++] = a->len;
    memcpy (key + n, a->b, a->len);
    n += a->len;
    memcpy (key + n, b->b, b->len);
    n += b->len;
    memcpy (key + n, &pa, 2);
    n += 2;
    memcpy (key + n, &pb, 2);
    n += 2;
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash (out, key, n, self->hash_key);
    uint32_t h;
    memcpy (&h, out, sizeof h);
    return h & self->bucket_mask;
}

//  Which side of `f` sent `pkt`: 0 originator, 1 responder, -1 not this flow.
static int
s_match (const sn_flow_t *f, const sn_pkt_t *pkt)
{
    uint16_t vlan = pkt->n_vlan ? pkt->vlan[0] : 0;
    if (f->proto != pkt->proto || f->vlan != vlan || f->orig.len != pkt->src.len)
        return -1;
    size_t n = f->orig.len;
    uint16_t sport, dport;
    s_key_ports (pkt, &sport, &dport);
    if (f->orig_port == sport && f->resp_port == dport && memcmp (f->orig.b, pkt->src.b, n) == 0 &&
        memcmp (f->resp.b, pkt->dst.b, n) == 0)
        return 0;
    if (f->orig_port == dport && f->resp_port == sport && memcmp (f->orig.b, pkt->dst.b, n) == 0 &&
        memcmp (f->resp.b, pkt->src.b, n) == 0)
        return 1;
    return -1;
}

static void
s_remove (sn_flow_table_t *self, sn_flow_t *f, uint32_t bucket)
{
    uint32_t idx = (uint32_t) (f - self->pool) + 1;
    uint32_t *link = &self->buckets[bucket];
    while (*link && *link != idx)
        link = &self->pool[*link - 1].hash_next;
    if (*link)
        *link = f->hash_next;
    s_lru_unlink (self, f);
    memset (f, 0, sizeof *f);
    f->hash_next = self->free_head;
    self->free_head = idx;
    self->stats.active--;
}

static uint32_t
s_bucket_of_flow (const sn_flow_table_t *self, const sn_flow_t *f)
{
    sn_pkt_t key = {0};
    key.proto = f->proto;
    key.src = f->orig;
    key.dst = f->resp;
    key.sport = f->orig_port;
    key.dport = f->resp_port;
    key.n_vlan = f->vlan ? 1 : 0;
    key.vlan[0] = f->vlan;
    return s_hash (self, &key);
}

static void
s_end (sn_flow_table_t *self, sn_flow_t *f, sn_end_t reason)
{
    if (self->end_fn)
        self->end_fn (self->arg, f, reason);
    self->stats.ended++;
    if (reason == SN_END_EVICTED)
        self->stats.evicted++;
    s_remove (self, f, s_bucket_of_flow (self, f));
}

void
sn_flow_expire (sn_flow_table_t *self, uint64_t now_ns)
{
    for (int c = 0; c < S_CLASSES; c++) {
        //  Lists are in last-seen order: stop at the first tail still within its timeout.
        while (self->lru[c].tail != S_NONE) {
            sn_flow_t *f = &self->pool[self->lru[c].tail];
            if (now_ns < f->last_ns || now_ns - f->last_ns <= self->timeout_ns[c])
                break;
            s_end (self, f, SN_END_IDLE);
        }
    }
    self->last_expire_ns = now_ns;
}

//  The full table gives up the flow seen longest ago, whatever its class.
static void
s_evict_stalest (sn_flow_table_t *self)
{
    sn_flow_t *stalest = NULL;
    for (int c = 0; c < S_CLASSES; c++) {
        if (self->lru[c].tail == S_NONE)
            continue;
        sn_flow_t *f = &self->pool[self->lru[c].tail];
        if (!stalest || f->last_ns < stalest->last_ns)
            stalest = f;
    }
    if (stalest)
        s_end (self, stalest, SN_END_EVICTED);
}

//  Reply types of the ICMP request/reply pairs (echo reply, timestamp reply, router
//  advertisement, ...): a flow first seen through one of these is reversed, as for a SYN-ACK.
static bool
s_icmp_is_reply (uint8_t proto, uint16_t type)
{
    if (proto == 1)
        return type == 0 || type == 14 || type == 16 || type == 9 || type == 18;
    return type == 129 || type == 131 || type == 134 || type == 136 || type == 140 || type == 145;
}

static sn_flow_t *
s_create (sn_flow_table_t *self, const sn_pkt_t *pkt, uint32_t bucket, uint64_t now_ns, int *dir)
{
    uint32_t idx;
    if (self->free_head) {
        idx = self->free_head;
        self->free_head = self->pool[idx - 1].hash_next;
    }
    else if (self->fresh < self->cfg.max_flows)
        idx = ++self->fresh;
    else {
        s_evict_stalest (self);
        idx = self->free_head;
        self->free_head = self->pool[idx - 1].hash_next;
    }
    sn_flow_t *f = &self->pool[idx - 1];
    memset (f, 0, sizeof *f);
    //  A first packet that is a SYN-ACK comes from the responder (we missed the SYN).
    bool flip = pkt->proto == 6 && (pkt->tcp_flags & 0x12) == 0x12;
    //  ICMP: a first reply comes from the responder too.
    uint16_t sport, dport, other;
    s_key_ports (pkt, &sport, &dport);
    if ((pkt->proto == 1 || pkt->proto == 58) &&
        sn_cid_icmp_counterpart (pkt->proto, sport, &other) && s_icmp_is_reply (pkt->proto, sport))
        flip = true;
    f->orig = flip ? pkt->dst : pkt->src;
    f->resp = flip ? pkt->src : pkt->dst;
    f->orig_port = flip ? dport : sport;
    f->resp_port = flip ? sport : dport;
    f->proto = pkt->proto;
    f->ip_version = pkt->ip_version;
    f->vlan = pkt->n_vlan ? pkt->vlan[0] : 0;
    f->n_vlan = pkt->n_vlan;
    memcpy (f->vlans, pkt->vlan, sizeof f->vlans);
    f->id = self->next_id++;
    f->first_ns = f->last_ns = now_ns;
    f->in_use = 1;
    f->hash_next = self->buckets[bucket];
    self->buckets[bucket] = idx;
    s_lru_push (self, f, s_class_of (f));
    self->stats.created++;
    self->stats.active++;
    *dir = flip ? 1 : 0;
    return f;
}

//  Per-endpoint TCP state, following Zeek's analyzer closely enough to derive its conn_state.
static void
s_tcp_update (sn_flow_t *f, int dir, uint8_t flags)
{
    uint8_t *me = &f->tcp_state[dir], *peer = &f->tcp_state[!dir];
    bool syn = flags & 0x02, ack = flags & 0x10, fin = flags & 0x01, rst = flags & 0x04;
    if (rst) {
        //  After both FINs the connection is over; a trailing RST does not make it aborted
        //  (Zeek still reports SF).
        if (!(*me == SN_TCP_CLOSED && *peer == SN_TCP_CLOSED))
            *me = SN_TCP_RESET;
        return;
    }
    if (fin) {
        if (*me != SN_TCP_RESET)
            *me = SN_TCP_CLOSED;
        return;
    }
    if (syn) {
        if (*me == SN_TCP_INACTIVE)
            *me = ack ? SN_TCP_SYN_ACK_SENT : SN_TCP_SYN_SENT;
        return;
    }
    switch (*me) {
    case SN_TCP_INACTIVE: *me = SN_TCP_PARTIAL; break;
    case SN_TCP_SYN_SENT:
    case SN_TCP_SYN_ACK_SENT:
        //  The handshake's last ACK (or data after it) establishes both ends.
        *me = SN_TCP_ESTABLISHED;
        if (*peer == SN_TCP_SYN_SENT || *peer == SN_TCP_SYN_ACK_SENT)
            *peer = SN_TCP_ESTABLISHED;
        break;
    default: break;
    }
}

//  The active timeout of a flow's protocol (seconds; 0: never reported while open).
static uint32_t
s_active_s (const sn_flow_config_t *cfg, uint8_t proto)
{
    return proto == 6 ? cfg->active_tcp_s : proto == 17 ? cfg->active_udp_s : cfg->active_other_s;
}

sn_flow_t *
sn_flow_update (sn_flow_table_t *self, const sn_pkt_t *pkt, uint64_t now_ns, int *dir)
{
    //  Expiry once a second of capture time is plenty and keeps it off the per-packet path.
    if (now_ns - self->last_expire_ns >= 1000000000u || now_ns < self->last_expire_ns)
        sn_flow_expire (self, now_ns);
    uint32_t bucket = s_hash (self, pkt);
    sn_flow_t *f = NULL;
    int d = -1;
    for (uint32_t i = self->buckets[bucket]; i; i = self->pool[i - 1].hash_next) {
        d = s_match (&self->pool[i - 1], pkt);
        if (d >= 0) {
            f = &self->pool[i - 1];
            break;
        }
    }
    if (!f) {
        f = s_create (self, pkt, bucket, now_ns, &d);
        //  Eviction in s_create may have emptied this very bucket's chain: f is linked anew.
    }
    else if (s_active_s (&self->cfg, f->proto) && now_ns > f->first_ns &&
             now_ns - f->first_ns >= (uint64_t) s_active_s (&self->cfg, f->proto) * 1000000000u) {
        //  A long flow is reported now and goes on counting afresh.
        if (self->end_fn)
            self->end_fn (self->arg, f, SN_END_ACTIVE);
        self->stats.active_reports++;
        f->first_ns = now_ns;
        memset (f->pkts, 0, sizeof f->pkts);
        memset (f->ip_bytes, 0, sizeof f->ip_bytes);
    }
    *dir = d;
    if (now_ns > f->last_ns)
        f->last_ns = now_ns;
    f->pkts[d]++;
    f->ip_bytes[d] += pkt->ip_len;
    if (pkt->proto == 6) {
        f->tcp_flags[d] |= pkt->tcp_flags;
        if (!(pkt->tcp_flags & 0x04))
            f->history[d] |= pkt->tcp_flags;
        //  The SYN fixes the initial sequence number: data is delivered from ISN + 1 only, so a
        //  lost first segment is a gap, not a silent skip.
        if ((pkt->tcp_flags & 0x02) && !f->seq_known[d]) {
            f->seq_known[d] = 1;
            f->next_seq[d] = pkt->tcp_seq + 1;
        }
        s_tcp_update (f, d, pkt->tcp_flags);
    }
    else if (f->tcp_state[d] == SN_TCP_INACTIVE)
        f->tcp_state[d] = SN_TCP_ESTABLISHED;  //  for UDP and others: "this side was active"
    s_lru_unlink (self, f);
    s_lru_push (self, f, s_class_of (f));
    return f;
}

uint32_t
sn_flow_stream (sn_flow_table_t *self, sn_flow_t *f, int dir, const sn_pkt_t *pkt,
                const uint8_t **data)
{
    *data = NULL;
    if (f->stream_gap[dir] || pkt->payload_len == 0)
        return 0;
    //  Sequence numbers count the SYN as one byte.
    uint32_t seq = pkt->tcp_seq + ((pkt->tcp_flags & 0x02) ? 1u : 0u);
    if (!f->seq_known[dir]) {
        f->seq_known[dir] = 1;
        f->next_seq[dir] = seq;
    }
    uint32_t ahead = seq - f->next_seq[dir];  //  modulo 2^32
    if (ahead != 0 && ahead < 0x80000000u) {
        //  A gap: bytes are missing (lost, or out of order). Parsers need contiguous bytes, so
        //  this direction stops here for good rather than guessing.
        f->stream_gap[dir] = 1;
        self->stats.stream_gaps++;
        return 0;
    }
    uint32_t behind = f->next_seq[dir] - seq;  //  already delivered (retransmission)
    if (behind >= pkt->payload_len)
        return 0;
    *data = pkt->payload + behind;
    uint32_t n = pkt->payload_len - behind;
    //  A payload cut by the capture's snap length is a gap after its captured part.
    if (pkt->payload_len < pkt->payload_wire_len) {
        f->stream_gap[dir] = 1;
        self->stats.stream_gaps++;
    }
    f->next_seq[dir] += n;
    return n;
}

void
sn_flow_flush (sn_flow_table_t *self)
{
    for (int c = 0; c < S_CLASSES; c++)
        while (self->lru[c].tail != S_NONE)
            s_end (self, &self->pool[self->lru[c].tail], SN_END_SHUTDOWN);
}

const sn_flow_stats_t *
sn_flow_stats (const sn_flow_table_t *self)
{
    return &self->stats;
}

uint8_t
sn_flow_conn_state (const sn_flow_t *f)
{
    uint8_t os = f->tcp_state[0], rs = f->tcp_state[1];
    if (f->proto == 17) {
        bool o = os != SN_TCP_INACTIVE, r = rs != SN_TCP_INACTIVE;
        return o ? (r ? MM_STATE_SF : MM_STATE_S0) : (r ? MM_STATE_SHR : MM_STATE_OTH);
    }
    if (f->proto != 6)
        return MM_STATE_OTH;
    bool o_inactive = os == SN_TCP_INACTIVE || os == SN_TCP_PARTIAL;
    bool r_inactive = rs == SN_TCP_INACTIVE || rs == SN_TCP_PARTIAL;
    if (rs == SN_TCP_RESET) {
        if (os == SN_TCP_SYN_SENT || os == SN_TCP_SYN_ACK_SENT ||
            (os == SN_TCP_RESET && f->pkts[0] <= 2 && f->pkts[1] <= 2 && !f->seq_known[0] &&
             !f->seq_known[1]))
            return MM_STATE_REJ;
        return o_inactive ? MM_STATE_RSTRH : MM_STATE_RSTR;
    }
    if (os == SN_TCP_RESET) {
        //  Zeek: RSTOS0 is a SYN then a RST with nothing from the originator in between
        //  (history ^?S[^HAFGIQ]*R), so an ACK or FIN from it makes the flow OTH.
        if (r_inactive)
            return (f->history[0] & 0x02) && !(f->history[0] & (0x10 | 0x01)) ? MM_STATE_RSTOS0
                                                                              : MM_STATE_OTH;
        return MM_STATE_RSTO;
    }
    if (rs == SN_TCP_CLOSED && os == SN_TCP_CLOSED)
        return MM_STATE_SF;
    if (os == SN_TCP_CLOSED)
        return r_inactive ? MM_STATE_SH : MM_STATE_S2;
    if (rs == SN_TCP_CLOSED)
        return o_inactive ? MM_STATE_SHR : MM_STATE_S3;
    if (os == SN_TCP_SYN_SENT && rs == SN_TCP_INACTIVE)
        return MM_STATE_S0;
    if (os == SN_TCP_ESTABLISHED && rs == SN_TCP_ESTABLISHED)
        return MM_STATE_S1;
    return MM_STATE_OTH;
}
