/*  sn_det_dnst: DNS used as a carrier (tunnels such as iodine, dnscat2, dns2tcp: ATT&CK
    T1071.004, T1572; exfiltration over DNS, T1048.003) and domain generation algorithms
    (T1568.002), from the sensor's DNS events: long and high-entropy names, many unique names
    under one registered domain, TXT/NULL volume, bursts of NXDOMAIN answers for many domains.
    Owner: sensor (issue 4). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_distinct.h"
#include "sn_track.h"

#define S_NS 1000000000ULL
#define S_NAME_MAX 64  //  domain text kept for messages
#define S_DOMAINS_MAX 64
#define S_RAISE_EVERY_NS S_NS  //  a running tunnel is re-reported at most once a second

static const sn_det_info_t s_tunnel = {"dns.tunnel",  1,  MM_CAT_DNS_TUNNEL,
                                       MM_SEV_MEDIUM, 70, {"T1071.004", "T1572", "T1048.003"}};
static const sn_det_info_t s_long = {"dns.long_name", 1,  MM_CAT_DNS_TUNNEL,
                                     MM_SEV_LOW,      40, {"T1071.004", "T1048.003"}};
static const sn_det_info_t s_txt = {"dns.txt_volume", 1,  MM_CAT_DNS_TUNNEL,
                                    MM_SEV_LOW,       40, {"T1071.004"}};
static const sn_det_info_t s_nx = {"dns.nxdomain_burst", 1,  MM_CAT_DNS_TUNNEL,
                                   MM_SEV_MEDIUM,        60, {"T1568.002"}};

//  Per (client, registered domain).
typedef struct {
    mm_addr_t client;
    uint64_t subject;  //  hash of the registered domain
    uint64_t win_start;
    uint32_t win_queries, win_encoded, win_txt;
    sn_distinct_t win_names;
    sn_distinct_t all_names;
    uint64_t queries, encoded, txt, long_names, bytes;
    uint64_t first_ts, last_ts, last_raise;
    uint16_t max_name, max_label, max_entropy;
    bool tunnel, dirty;      //  dns.tunnel raised; news since the last raise
    uint64_t long_reported;  //  long_names when dns.long_name was last raised
    char domain[S_NAME_MAX];
} s_dom_t;

//  Per client.
typedef struct {
    mm_addr_t client;
    uint64_t win_start;
    uint32_t win_txt, win_nx;
    sn_distinct_t win_nx_domains;
    sn_distinct_t all_nx_domains;
    uint64_t txt, nx;
    uint64_t first_ts, last_ts, last_raise;
    uint64_t txt_first, txt_last;
    uint32_t txt_peak;  //  most TXT/NULL queries seen in one window
    bool tunnel;        //  one of its domains raised dns.tunnel: TXT volume is part of that
    bool nx_raised, dirty;
    uint64_t txt_reported;
} s_host_t;

typedef struct {
    char buf[2048];
    const char *item[S_DOMAINS_MAX];
    size_t len[S_DOMAINS_MAX];
    size_t n;
} s_domains_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *domains;
    sn_track_t *hosts;
    s_domains_t allow;
    uint64_t window_ns;
} s_self_t;

//  What a name looks like.
typedef struct {
    size_t len, max_label;
    size_t sub_len;    //  characters left of the registered domain, dots excluded
    uint32_t entropy;  //  centibits per character of those; 0 when too short to judge
    bool service;      //  has an _label (DKIM, DMARC, SRV, ESNI, ACME...): protocol machinery
    bool reversed;     //  left part is single digits/nibbles or short numbers: an address
                       //  written backwards (DNSBL lookups, reverse zones)
} s_shape_t;

//  ---------------------------------------------------------------------------------------------
//  Helpers

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

//  Shannon entropy of `s` in hundredths of a bit per character.
static uint32_t
s_entropy_cb (const char *s, size_t len)
{
    uint32_t count[256] = {0};
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '.') {
            count[(unsigned char) s[i]]++;
            n++;
        }
    if (n == 0)
        return 0;
    double h = 0;
    for (size_t i = 0; i < 256; i++)
        if (count[i]) {
            double p = (double) count[i] / (double) n;
            h -= p * log2 (p);
        }
    return (uint32_t) (h * 100 + 0.5);
}

//  Entropy is judged on the labels left of the registered domain, and only when they hold at
//  least `entropy_min` characters ([dns_tunnel] entropy_min_len): a shorter string cannot show
//  a high entropy (at most log2 of its length) and ordinary host names (mail1, eu-west-1)
//  would be judged on noise.
static void
s_shape (const char *name, size_t len, size_t reg_len, uint64_t entropy_min, s_shape_t *s)
{
    memset (s, 0, sizeof *s);
    s->len = len;
    size_t sub = len > reg_len ? len - reg_len : 0;  //  "a.b." of "a.b.example.com"
    bool reversed = sub > 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.')
            continue;
        size_t l = i - start;
        if (l > s->max_label)
            s->max_label = l;
        if (l && name[start] == '_')
            s->service = true;
        if (start < sub) {
            s->sub_len += l;
            //  "4.3.2.1" (IPv4) or "b.a.9.8..." (IPv6 nibbles) or "10-0-0-1"-less short numbers
            bool short_num = l >= 1 && l <= 3;
            for (size_t k = start; k < i && short_num; k++)
                short_num = isdigit ((unsigned char) name[k]) ||
                            (l == 1 && isxdigit ((unsigned char) name[k]));
            if (!short_num)
                reversed = false;
        }
        start = i + 1;
    }
    s->reversed = reversed;
    if (s->sub_len >= entropy_min)
        s->entropy = s_entropy_cb (name, sub);
}

static void
s_roll_dom (const s_self_t *self, s_dom_t *d, uint64_t ts)
{
    if (d->win_start && ts < d->win_start + self->window_ns)
        return;
    d->win_start = ts;
    d->win_queries = d->win_encoded = d->win_txt = 0;
    memset (&d->win_names, 0, sizeof d->win_names);
}

static void
s_roll_host (const s_self_t *self, s_host_t *h, uint64_t ts)
{
    if (h->win_start && ts < h->win_start + self->window_ns)
        return;
    h->win_start = ts;
    h->win_txt = h->win_nx = 0;
    memset (&h->win_nx_domains, 0, sizeof h->win_nx_domains);
}

//  ---------------------------------------------------------------------------------------------
//  Reports

static void
s_alert_init (sn_alert_t *a, const sn_det_info_t *info, const mm_addr_t *client, uint64_t ts,
              uint32_t window_s)
{
    memset (a, 0, sizeof *a);
    a->info = info;
    a->ts = ts;
    a->proto = 17;
    a->src = *client;  //  no target: the resolver is not the culprit, and must never be blocked
    a->evidence.window_s = window_s;
}

static void
s_raise_tunnel (s_self_t *self, s_dom_t *d)
{
    sn_alert_t a;
    s_alert_init (&a, &s_tunnel, &d->client, d->last_ts, (uint32_t) self->cfg->dnst_window);
    a.subject = d->subject;
    a.evidence.count = d->queries;
    a.evidence.distinct_hosts = sn_distinct_count (&d->all_names);
    a.evidence.bytes = d->bytes;
    a.evidence.first_ts = d->first_ts;
    a.evidence.last_ts = d->last_ts;
    char client[64];
    sn_detect_addr_str (&d->client, client, sizeof client);
    snprintf (a.message, sizeof a.message,
              "%.39s sent %llu DNS queries with %u unique names under %.63s (%llu encoded-looking, "
              "%llu TXT/NULL, longest %u)",
              client, (unsigned long long) d->queries, a.evidence.distinct_hosts, d->domain,
              (unsigned long long) d->encoded, (unsigned long long) d->txt, (unsigned) d->max_name);
    sn_detect_raise (self->engine, &a);
    d->last_raise = d->last_ts;
    d->dirty = false;
}

static void
s_raise_long (s_self_t *self, s_dom_t *d)
{
    sn_alert_t a;
    s_alert_init (&a, &s_long, &d->client, d->last_ts, (uint32_t) self->cfg->dnst_window);
    a.subject = d->subject;
    a.evidence.count = d->long_names;
    a.evidence.distinct_hosts = sn_distinct_count (&d->all_names);
    a.evidence.bytes = d->bytes;
    a.evidence.first_ts = d->first_ts;
    a.evidence.last_ts = d->last_ts;
    char client[64];
    sn_detect_addr_str (&d->client, client, sizeof client);
    snprintf (a.message, sizeof a.message,
              "%.39s asked for %llu long names under %.63s (longest name %u, longest label %u)",
              client, (unsigned long long) d->long_names, d->domain, (unsigned) d->max_name,
              (unsigned) d->max_label);
    sn_detect_raise (self->engine, &a);
    d->long_reported = d->long_names;
}

static void
s_raise_txt (s_self_t *self, s_host_t *h)
{
    sn_alert_t a;
    s_alert_init (&a, &s_txt, &h->client, h->txt_last, (uint32_t) self->cfg->dnst_window);
    a.evidence.count = h->txt;
    a.evidence.first_ts = h->txt_first;
    a.evidence.last_ts = h->txt_last;
    char client[64];
    sn_detect_addr_str (&h->client, client, sizeof client);
    snprintf (a.message, sizeof a.message,
              "%.39s sent %llu TXT/NULL DNS queries (up to %u within %u s)", client,
              (unsigned long long) h->txt, (unsigned) h->txt_peak,
              (unsigned) self->cfg->dnst_window);
    sn_detect_raise (self->engine, &a);
    h->txt_reported = h->txt;
}

static void
s_raise_nx (s_self_t *self, s_host_t *h)
{
    sn_alert_t a;
    s_alert_init (&a, &s_nx, &h->client, h->last_ts, (uint32_t) self->cfg->dnst_window);
    a.evidence.count = h->nx;
    a.evidence.distinct_hosts = sn_distinct_count (&h->all_nx_domains);
    a.evidence.first_ts = h->first_ts;
    a.evidence.last_ts = h->last_ts;
    char client[64];
    sn_detect_addr_str (&h->client, client, sizeof client);
    snprintf (a.message, sizeof a.message,
              "%.39s got NXDOMAIN for %u different domains (%llu answers): generated names?",
              client, a.evidence.distinct_hosts, (unsigned long long) h->nx);
    sn_detect_raise (self->engine, &a);
    h->last_raise = h->last_ts;
    h->dirty = false;
}

//  Low findings wait for the end of a window or of the state: by then a tunnel (medium) that
//  explains them may have been found, and the weekly report loses nothing by the wait.
static void
s_dom_settle (s_self_t *self, s_dom_t *d)
{
    if (d->tunnel) {
        if (d->dirty)
            s_raise_tunnel (self, d);
    }
    else if (d->long_names > d->long_reported)
        s_raise_long (self, d);
}

static void
s_host_settle (s_self_t *self, s_host_t *h)
{
    if (h->nx_raised && h->dirty)
        s_raise_nx (self, h);
    if (!h->tunnel && h->txt_peak >= self->cfg->dnst_txt_null && h->txt > h->txt_reported)
        s_raise_txt (self, h);
}

static void
s_dom_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) key;
    (void) key_len;
    (void) recycled;
    s_dom_settle (arg, value);
}

static void
s_host_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) key;
    (void) key_len;
    (void) recycled;
    s_host_settle (arg, value);
}

//  ---------------------------------------------------------------------------------------------
//  Events

static s_host_t *
s_host (s_self_t *self, const mm_addr_t *client, uint64_t ts)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, client);
    bool created;
    s_host_t *h = sn_track_get (self->hosts, key, n, ts, &created);
    if (created) {
        h->client = *client;
        h->first_ts = ts;
    }
    if (h->win_start && ts >= h->win_start + self->window_ns && !h->tunnel &&
        h->txt_peak >= self->cfg->dnst_txt_null && h->txt > h->txt_reported)
        s_raise_txt (self, h);  //  the window that crossed the line is over
    s_roll_host (self, h, ts);
    h->last_ts = ts;
    return h;
}

static void
s_query (s_self_t *self, const mm_event_t *ev, const char *name, size_t len, const char *reg,
         size_t reg_len)
{
    const sn_config_t *c = self->cfg;
    s_shape_t sh;
    s_shape (name, len, reg_len, c->dnst_entropy_min_len, &sh);
    if (sh.service)
        return;
    uint16_t qtype = (ev->dns.has & MM_DNS_HAS_QTYPE) ? ev->dns.qtype : 0;
    bool txt = qtype == 16 || qtype == 10;  //  TXT, NULL: the roomiest answers for a tunnel
    bool is_long = len >= c->dnst_name_len || sh.max_label >= c->dnst_label_len;
    bool encoded = !sh.reversed && (is_long || sh.entropy >= c->dnst_entropy_centibits);
    uint64_t ts = ev->ts;

    s_host_t *h = s_host (self, &ev->src, ts);
    if (txt) {
        h->txt++;
        h->win_txt++;
        if (h->win_txt > h->txt_peak)
            h->txt_peak = h->win_txt;
        if (!h->txt_first)
            h->txt_first = ts;
        h->txt_last = ts;
    }

    uint64_t subject = sn_distinct_hash (reg, reg_len) | 1;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, &ev->src);
    memcpy (key + n, &subject, sizeof subject);
    n += sizeof subject;
    bool created;
    s_dom_t *d = sn_track_get (self->domains, key, n, ts, &created);
    if (created) {
        d->client = ev->src;
        d->subject = subject;
        d->first_ts = ts;
        size_t k = reg_len < S_NAME_MAX - 1 ? reg_len : S_NAME_MAX - 1;
        memcpy (d->domain, reg, k);
        d->domain[k] = 0;
    }
    if (d->win_start && ts >= d->win_start + self->window_ns && !d->tunnel &&
        d->long_names > d->long_reported)
        s_raise_long (self, d);
    s_roll_dom (self, d, ts);
    d->last_ts = ts;
    d->queries++;
    d->win_queries++;
    uint64_t hash = sn_distinct_hash (name, len);
    sn_distinct_add (&d->win_names, hash);
    sn_distinct_add (&d->all_names, hash);
    d->bytes += sh.sub_len;
    if (len > d->max_name)
        d->max_name = (uint16_t) len;
    if (sh.max_label > d->max_label)
        d->max_label = (uint16_t) sh.max_label;
    if (sh.entropy > d->max_entropy)
        d->max_entropy = (uint16_t) sh.entropy;
    if (encoded) {
        d->encoded++;
        d->win_encoded++;
    }
    if (is_long && !sh.reversed)
        d->long_names++;
    if (txt) {
        d->txt++;
        d->win_txt++;
    }
    //  Many unique names under one domain is what moving data through DNS looks like (every
    //  query must miss the caches); CDNs, trackers and DNSBL lookups do it too, so at least
    //  half as many names as the threshold must also look encoded or ask for TXT/NULL.
    uint64_t u = c->dnst_unique_subdomains;
    if (!d->tunnel && sn_distinct_count (&d->win_names) >= u &&
        (2 * (uint64_t) d->win_encoded >= u || 2 * (uint64_t) d->win_txt >= u)) {
        d->tunnel = true;
        h->tunnel = true;
        s_raise_tunnel (self, d);
        return;
    }
    if (d->tunnel) {
        d->dirty = true;
        if (ts >= d->last_raise + S_RAISE_EVERY_NS)
            s_raise_tunnel (self, d);
    }
}

static void
s_nxdomain (s_self_t *self, const mm_event_t *ev, const char *reg, size_t reg_len)
{
    s_host_t *h = s_host (self, &ev->src, ev->ts);
    h->nx++;
    h->win_nx++;
    uint64_t hash = sn_distinct_hash (reg, reg_len);
    sn_distinct_add (&h->win_nx_domains, hash);
    sn_distinct_add (&h->all_nx_domains, hash);
    //  Distinct registered domains, not answers: a typo or a missing internal name asked
    //  again and again, or DNSBL lookups (NXDOMAIN means "not listed"), stay under one domain;
    //  a DGA walks through many.
    if (!h->nx_raised && sn_distinct_count (&h->win_nx_domains) >= self->cfg->dnst_nxdomain) {
        h->nx_raised = true;
        s_raise_nx (self, h);
        return;
    }
    if (h->nx_raised) {
        h->dirty = true;
        if (ev->ts >= h->last_raise + S_RAISE_EVERY_NS)
            s_raise_nx (self, h);
    }
}

static void
s_event (void *arg, const mm_event_t *ev)
{
    s_self_t *self = arg;
    if (ev->kind != MM_KIND_DNS || !(ev->has & MM_EV_HAS_DNS))
        return;
    //  mDNS and LLMNR stay on the local link and name services, not domains.
    if ((ev->has & MM_EV_HAS_DPORT) &&
        (ev->dport == 5353 || ev->dport == 5355 || ev->sport == 5353 || ev->sport == 5355))
        return;
    if (!sn_detect_is_home (self->engine, &ev->src))
        return;  //  the client (the flow's originator) must be one of ours
    if (mm_netlist_contains (&self->cfg->dnst_allow_clients, &ev->src))
        return;  //  a forwarding resolver, a mail server's blocklist lookups
    const mm_dns_t *dns = &ev->dns;
    char name[MM_NAME_MAX + 1];
    size_t len = dns->qname.len < MM_NAME_MAX ? dns->qname.len : MM_NAME_MAX;
    for (size_t i = 0; i < len; i++)
        name[i] = (char) tolower ((unsigned char) dns->qname.ptr[i]);
    while (len && name[len - 1] == '.')
        len--;
    name[len] = 0;
    if (len == 0 || !memchr (name, '.', len))
        return;  //  the root, or a single label (a local name the resolver will refuse)
    if (s_domain_listed (&self->allow, name, len))
        return;
    char reg[MM_NAME_MAX + 1];
    size_t reg_len = sn_detect_registered_domain (name, len, reg, sizeof reg);
    if (reg_len == 0)
        return;
    if (dns->has & MM_DNS_HAS_RCODE) {
        if (dns->rcode == 3)
            s_nxdomain (self, ev, reg, reg_len);
        return;
    }
    s_query (self, ev, name, len, reg, reg_len);
}

//  ---------------------------------------------------------------------------------------------
//  Life

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->dnst)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    self->window_ns = cfg->dnst_window * S_NS;
    if (s_parse_domains (&self->allow, cfg->dnst_allow_domains) != 0) {
        fprintf (stderr, "dns_tunnel: allow_domains: more than %d domains\n", S_DOMAINS_MAX);
        free (self);
        return NULL;
    }
    //  Kept two windows after the last query, so a slow tunnel's windows follow one another.
    uint64_t idle = 2 * self->window_ns;
    uint32_t cap = (uint32_t) cfg->dnst_max_tracked;
    self->domains = sn_track_new (cap, sizeof (s_dom_t), idle, s_dom_gone, self);
    self->hosts = sn_track_new (cap, sizeof (s_host_t), idle, s_host_gone, self);
    if (!self->domains || !self->hosts) {
        sn_track_destroy (&self->domains);
        sn_track_destroy (&self->hosts);
        free (self);
        return NULL;
    }
    return self;
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_self_t *self = *self_p;
    sn_track_destroy (&self->domains);
    sn_track_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

static void
s_tick (void *arg, uint64_t now)
{
    s_self_t *self = arg;
    sn_track_expire (self->domains, now);
    sn_track_expire (self->hosts, now);
}

static void
s_flush (void *arg)
{
    s_self_t *self = arg;
    //  Domains first: a tunnel found there silences its host's TXT volume.
    sn_track_flush (self->domains);
    sn_track_flush (self->hosts);
}

const sn_det_class_t sn_det_dnst = {.name = "dns_tunnel",
                                    .create = s_create,
                                    .destroy = s_destroy,
                                    .event = s_event,
                                    .tick = s_tick,
                                    .flush = s_flush};
