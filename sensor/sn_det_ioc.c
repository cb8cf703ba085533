/*  sn_det_ioc: the "ioc" detector. Matches what the sensor sees against known-bad indicators:
    the two addresses of every new flow, DNS query names and answers, TLS SNI, certificate
    SHA-1, JA3 and JA4, HTTP host and URL. Indicators come from the `feeds` files (sn_ioc
    loaders) and from WATCHLIST updates, held in a set of their own so a feed reload keeps
    them. A reload (SIGHUP, or a feed file that changed) builds a new set in a background
    thread while the old one keeps answering, then swaps the pointer at the next tick; a file
    that is refused keeps its previous entries. Owner: sensor (issue 4, docs/detection.md). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <arpa/inet.h>

#include "sn_detect.h"
#include "sn_ioc.h"
#include "sn_track.h"

#define S_FILES_MAX 32
#define S_PATH_MAX 1024
#define S_NS 1000000000ULL

//  Detector ids, each with one info per category of the matched indicator (the finding's
//  category is the indicator's).
enum { D_IP, D_DNS, D_TLS, D_JA3, D_JA4, D_HTTP, D_COUNT_ };

#define S_SEV(c)                                                                                   \
    ((c) == MM_CAT_MALWARE || (c) == MM_CAT_C2_BEACON ? MM_SEV_HIGH                                \
     : (c) == MM_CAT_SCAN || (c) == MM_CAT_POLICY || (c) == MM_CAT_EXPOSED_SERVICE ||              \
             (c) == MM_CAT_SENSOR                                                                  \
         ? MM_SEV_LOW                                                                              \
         : MM_SEV_MEDIUM)
#define S_I(id, c, conf, ...)                                                                      \
    {                                                                                              \
        id, 1, c, S_SEV (c), conf,                                                                 \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }
#define S_ROW(id, conf, ...)                                                                       \
    {                                                                                              \
        S_I (id, MM_CAT_IOC_MATCH, conf, __VA_ARGS__), S_I (id, 1, conf, __VA_ARGS__),             \
            S_I (id, 2, conf, __VA_ARGS__), S_I (id, 3, conf, __VA_ARGS__),                        \
            S_I (id, 4, conf, __VA_ARGS__), S_I (id, 5, conf, __VA_ARGS__),                        \
            S_I (id, 6, conf, __VA_ARGS__), S_I (id, 7, conf, __VA_ARGS__),                        \
            S_I (id, 8, conf, __VA_ARGS__), S_I (id, 9, conf, __VA_ARGS__),                        \
            S_I (id, 10, conf, __VA_ARGS__), S_I (id, 11, conf, __VA_ARGS__),                      \
            S_I (id, 12, conf, __VA_ARGS__)                                                        \
    }

static const sn_det_info_t s_info[D_COUNT_][MM_CAT_SENSOR + 1] = {
    [D_IP] = S_ROW ("ioc.ip", 90, "T1071"),
    [D_DNS] = S_ROW ("ioc.dns", 90, "T1071.004", "T1568"),
    [D_TLS] = S_ROW ("ioc.tls", 90, "T1071.001", "T1573"),
    //  A JA3 or JA4 names a TLS library, shared by benign programs: low confidence.
    [D_JA3] = S_ROW ("ioc.ja3", 50, "T1071.001", "T1573"),
    [D_JA4] = S_ROW ("ioc.ja4", 60, "T1071.001", "T1573"),
    [D_HTTP] = S_ROW ("ioc.http", 90, "T1071.001", "T1105"),
};

typedef struct {
    char path[S_PATH_MAX];
    bool seen;  //  stat() worked at the last look
    int64_t mtime_s, mtime_ns;
    uint64_t size, ino, dev;
} s_file_t;

//  One background build: in from the detector, out from the thread.
typedef struct {
    s_file_t files[S_FILES_MAX];  //  in: stamps of the current set; out: of the new one
    size_t n_files;
    bool all;             //  reload every file (SIGHUP), not only the changed ones
    const sn_ioc_t *old;  //  read only while the build runs
    uint64_t max;
    sn_ioc_t *set;  //  out: the new set, NULL if none could be made
} s_build_t;

typedef struct {
    uint64_t count;
    uint64_t first_ts;
} s_hit_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_ioc_t *feeds;   //  may be NULL (no feeds, or none loaded)
    sn_ioc_t *watch;   //  WATCHLIST entries
    sn_track_t *hits;  //  cumulative counts per (detector, source, target, indicator)
    s_file_t files[S_FILES_MAX];
    size_t n_files;
    uint64_t next_check;  //  CLOCK_MONOTONIC ns of the next stat() round
    pthread_t thread;
    bool running, again;
    atomic_bool done;
    s_build_t build;
} s_self_t;

//  ---------------------------------------------------------------------------------------------
//  Building sets from the feed files

static uint64_t
s_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * S_NS + (uint64_t) ts.tv_nsec;
}

static void
s_stamp (s_file_t *f)
{
    struct stat st;
    if (stat (f->path, &st) == -1) {
        f->seen = false;
        return;
    }
    f->seen = true;
    f->mtime_s = (int64_t) st.st_mtim.tv_sec;
    f->mtime_ns = (int64_t) st.st_mtim.tv_nsec;
    f->size = (uint64_t) st.st_size;
    f->ino = (uint64_t) st.st_ino;
    f->dev = (uint64_t) st.st_dev;
}

static bool
s_same_stamp (const s_file_t *a, const s_file_t *b)
{
    return a->seen == b->seen &&
           (!a->seen || (a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
                         a->size == b->size && a->ino == b->ino && a->dev == b->dev));
}

static void
s_report (const char *path, const sn_ioc_report_t *rep)
{
    for (uint32_t i = 0; i < rep->n_errors; i++)
        fprintf (stderr, "mimamori-sensor: ioc: %s\n", rep->errors[i]);
    if (rep->bad > rep->n_errors)
        fprintf (stderr, "mimamori-sensor: ioc: %s: %llu more bad lines\n", path,
                 (unsigned long long) (rep->bad - rep->n_errors));
    if (rep->dropped)
        fprintf (stderr,
                 "mimamori-sensor: ioc: %s: %llu indicators dropped: the set is full ([ioc] "
                 "max)\n",
                 path, (unsigned long long) rep->dropped);
}

//  Makes b->set from the files: a changed file (every file if b->all) is read again, an
//  unchanged one copied from the old set; a file that cannot be read or is refused keeps the
//  entries the old set had from it, and says why.
static void
s_build (s_build_t *b)
{
    b->set = sn_ioc_new (b->max);
    if (!b->set) {
        fprintf (stderr, "mimamori-sensor: ioc: out of memory building the indicator set\n");
        return;
    }
    for (size_t i = 0; i < b->n_files; i++) {
        s_file_t *f = &b->files[i];
        s_file_t now = *f;
        s_stamp (&now);
        if (!b->all && b->old && s_same_stamp (f, &now)) {
            sn_ioc_copy_feed (b->set, b->old, f->path);
            continue;
        }
        *f = now;  //  this version was looked at: do not retry it until it changes again
        sn_ioc_report_t rep;
        int rc = sn_ioc_load_file (b->set, f->path, &rep);
        s_report (f->path, &rep);
        if (rc == 0)
            continue;
        if (b->old)
            fprintf (stderr, "mimamori-sensor: ioc: %s; keeping its %llu previous indicators\n",
                     rep.failure, (unsigned long long) sn_ioc_copy_feed (b->set, b->old, f->path));
        else
            fprintf (stderr, "mimamori-sensor: ioc: %s; nothing loaded from it\n", rep.failure);
    }
}

static void *
s_thread_main (void *arg)
{
    s_self_t *self = arg;
    s_build (&self->build);
    atomic_store (&self->done, true);
    return NULL;
}

static void
s_start_build (s_self_t *self, bool all)
{
    s_build_t *b = &self->build;
    memcpy (b->files, self->files, sizeof b->files);
    b->n_files = self->n_files;
    b->all = all;
    b->old = self->feeds;
    b->max = self->cfg->ioc_max;
    b->set = NULL;
    atomic_store (&self->done, false);
    int err = pthread_create (&self->thread, NULL, s_thread_main, self);
    if (err == 0) {
        self->running = true;
        return;
    }
    //  No thread: build here. Packets wait, but none is lost to a half-made set.
    fprintf (stderr, "mimamori-sensor: ioc: no reload thread (%s); reloading inline\n",
             strerror (err));
    s_build (b);
    atomic_store (&self->done, true);
    self->running = false;
}

//  Takes a finished build: the new set replaces the old one.
static void
s_finish_build (s_self_t *self)
{
    s_build_t *b = &self->build;
    if (!b->set)
        return;  //  out of memory: the old set stays
    sn_ioc_t *old = self->feeds;
    self->feeds = b->set;
    b->set = NULL;
    b->old = NULL;
    memcpy (self->files, b->files, sizeof self->files);
    sn_ioc_destroy (&old);
    fprintf (stderr, "mimamori-sensor: ioc: %llu indicators from %zu feed files (%llu bytes)\n",
             (unsigned long long) sn_ioc_size (self->feeds), self->n_files,
             (unsigned long long) sn_ioc_memory (self->feeds));
}

static void
s_poll_build (s_self_t *self)
{
    if (!self->running || !atomic_load (&self->done))
        return;
    pthread_join (self->thread, NULL);
    self->running = false;
    s_finish_build (self);
    if (self->again) {
        self->again = false;
        s_start_build (self, true);
        if (!self->running)
            s_finish_build (self);
    }
}

static bool
s_any_changed (s_self_t *self)
{
    for (size_t i = 0; i < self->n_files; i++) {
        s_file_t now = self->files[i];
        s_stamp (&now);
        if (!s_same_stamp (&self->files[i], &now))
            return true;
    }
    return false;
}

static int
s_parse_feeds (s_self_t *self, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end == start)
            continue;
        if (self->n_files == S_FILES_MAX || (size_t) (end - start) >= S_PATH_MAX) {
            fprintf (stderr, "mimamori-sensor: ioc: at most %d feed files of %d characters\n",
                     S_FILES_MAX, S_PATH_MAX - 1);
            return -1;
        }
        s_file_t *f = &self->files[self->n_files++];
        memset (f, 0, sizeof *f);
        memcpy (f->path, start, (size_t) (end - start));
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Module

static void s_destroy (void **self_p);

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->ioc)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    atomic_init (&self->done, false);
    self->watch = sn_ioc_new (cfg->ioc_max);
    self->hits = sn_track_new ((uint32_t) cfg->max_findings, sizeof (s_hit_t),
                               cfg->suppress_window * S_NS, NULL, NULL);
    if (!self->watch || !self->hits || s_parse_feeds (self, cfg->ioc_feeds) == -1) {
        fprintf (stderr, "mimamori-sensor: ioc: cannot start the indicator matcher\n");
        void *p = self;
        s_destroy (&p);
        return NULL;
    }
    if (self->n_files) {
        //  The first set is built before the first packet: no thread needed.
        self->build.n_files = self->n_files;
        memcpy (self->build.files, self->files, sizeof self->files);
        self->build.all = true;
        self->build.max = cfg->ioc_max;
        s_build (&self->build);
        s_finish_build (self);
    }
    self->next_check = s_mono_ns () + cfg->ioc_reload_check * S_NS;
    return self;
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_self_t *self = *self_p;
    if (self->running)
        pthread_join (self->thread, NULL);
    sn_ioc_destroy (&self->build.set);
    sn_ioc_destroy (&self->feeds);
    sn_ioc_destroy (&self->watch);
    sn_track_destroy (&self->hits);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Matching

static bool
s_any (const s_self_t *self)
{
    return (self->feeds && sn_ioc_size (self->feeds)) || sn_ioc_size (self->watch);
}

static bool
s_match_addr (const s_self_t *self, const mm_addr_t *a, uint64_t now, sn_ioc_match_t *m)
{
    return sn_ioc_match_addr (self->watch, a, now, m) ||
           (self->feeds && sn_ioc_match_addr (self->feeds, a, now, m));
}

static bool
s_match_domain (const s_self_t *self, const char *name, size_t len, uint64_t now, sn_ioc_match_t *m)
{
    return sn_ioc_match_domain (self->watch, name, len, now, m) ||
           (self->feeds && sn_ioc_match_domain (self->feeds, name, len, now, m));
}

static const char *
s_what_type (uint8_t type)
{
    const char *name = mm_ioc_type_name (type);
    return name ? name : "indicator";
}

//  Reports a match. `count` says whether this sighting adds to the evidence (a DNS response
//  repeats its query's name: it counts only when the query was not seen).
static void
s_raise (s_self_t *self, int det, uint8_t offender, uint64_t ts, uint8_t proto,
         const mm_addr_t *src, const mm_addr_t *dst, bool inbound, const sn_ioc_match_t *m,
         bool count, const char *what)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = 0;
    key[n++] = (uint8_t) det;
    n += sn_track_key_addr (key + n, src);
    n += sn_track_key_addr (key + n, dst);
    memcpy (key + n, &m->subject, sizeof m->subject);
    n += sizeof m->subject;
    bool created;
    s_hit_t *h = sn_track_get (self->hits, key, n, ts, &created);
    if (created)
        h->first_ts = ts;
    else if (!count)
        return;
    h->count++;
    uint8_t cat = m->category <= MM_CAT_SENSOR ? m->category : MM_CAT_IOC_MATCH;
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info[det][cat];
    a.ts = ts;
    a.severity = m->severity;
    //  Addresses on public blocklists knock on every internet-facing door every day: a
    //  connection from outside is a matter for the week, not an incident.
    if (inbound && a.severity > MM_SEV_MEDIUM)
        a.severity = MM_SEV_MEDIUM;
    a.proto = proto;
    a.src = *src;
    a.dst = *dst;
    a.subject = m->subject;
    a.ioc_type = m->type;
    a.ioc_value = m->value;
    a.ioc_feed = m->feed;
    a.block = m->block;
    a.offender = offender;
    a.evidence.count = h->count;
    a.evidence.first_ts = h->first_ts;
    a.evidence.last_ts = ts;
    snprintf (a.message, sizeof a.message, "%s matches known-bad %s %.120s (%s, feed %s)", what,
              s_what_type (m->type), m->value, mm_category_name (cat), m->feed);
    sn_detect_raise (self->engine, &a);
}

static bool
s_inbound (const s_self_t *self, const mm_addr_t *src, const mm_addr_t *dst)
{
    return !sn_detect_is_home (self->engine, src) && sn_detect_is_home (self->engine, dst);
}

static void
s_packet (void *self_, const sn_det_pkt_t *p)
{
    s_self_t *self = self_;
    if (!p->new_flow || !s_any (self))
        return;
    const sn_flow_t *f = p->flow;
    bool inbound = !p->orig_home && p->resp_home;
    sn_ioc_match_t m;
    char addr[64], what[96];
    //  The side contacted first (the usual case: an inside host calls a bad place), then the
    //  side that called, unless the same indicator (a network) holds both.
    uint64_t resp_subject = 0;
    bool resp_hit = s_match_addr (self, &f->resp, p->ts, &m);
    if (resp_hit) {
        resp_subject = m.subject;
        snprintf (what, sizeof what, "destination %s",
                  sn_detect_addr_str (&f->resp, addr, sizeof addr));
        s_raise (self, D_IP, SN_OFFENDER_DST, p->ts, f->proto, &f->orig, &f->resp, inbound, &m,
                 true, what);
    }
    if (s_match_addr (self, &f->orig, p->ts, &m) && !(resp_hit && m.subject == resp_subject)) {
        snprintf (what, sizeof what, "source %s", sn_detect_addr_str (&f->orig, addr, sizeof addr));
        s_raise (self, D_IP, SN_OFFENDER_SRC, p->ts, f->proto, &f->orig, &f->resp, inbound, &m,
                 true, what);
    }
}

static void
s_dns (s_self_t *self, const mm_event_t *ev, bool inbound)
{
    const mm_dns_t *d = &ev->dns;
    bool response = d->has & MM_DNS_HAS_RCODE;
    sn_ioc_match_t m;
    char what[MM_NAME_MAX + 32];
    //  One count per message and indicator, however many records hit it (a CNAME to a listed
    //  name under a listed query name, A records in one listed network).
    uint64_t seen[MM_DNS_ANSWERS_MAX + 1];
    uint32_t n_seen = 0;
    if (d->qname.len && s_match_domain (self, d->qname.ptr, d->qname.len, ev->ts, &m)) {
        seen[n_seen++] = m.subject;
        snprintf (what, sizeof what, "DNS query %.*s", (int) d->qname.len, d->qname.ptr);
        s_raise (self, D_DNS, SN_OFFENDER_NONE, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 !response, what);
    }
    for (uint32_t i = 0; i < d->n_answers && i < MM_DNS_ANSWERS_MAX; i++) {
        const mm_dns_answer_t *a = &d->answers[i];
        bool hit = false;
        if ((a->type == 1 || a->type == 28) && a->value.len && a->value.len < 64) {
            char text[64];
            memcpy (text, a->value.ptr, a->value.len);
            text[a->value.len] = 0;
            mm_addr_t addr = {.len = a->type == 1 ? 4 : 16};
            if (inet_pton (a->type == 1 ? AF_INET : AF_INET6, text, addr.b) == 1 &&
                s_match_addr (self, &addr, ev->ts, &m)) {
                snprintf (what, sizeof what, "DNS answer %s for %.*s", text, (int) d->qname.len,
                          d->qname.ptr);
                hit = true;
            }
        }
        else if (a->type == 5 && a->value.len &&
                 s_match_domain (self, a->value.ptr, a->value.len, ev->ts, &m)) {
            snprintf (what, sizeof what, "DNS CNAME %.*s", (int) a->value.len, a->value.ptr);
            hit = true;
        }
        if (!hit)
            continue;
        bool dup = false;
        for (uint32_t j = 0; j < n_seen; j++)
            dup |= seen[j] == m.subject;
        if (dup)
            continue;
        seen[n_seen++] = m.subject;
        s_raise (self, D_DNS, SN_OFFENDER_NONE, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, what);
    }
}

static void
s_tls (s_self_t *self, const mm_event_t *ev, bool inbound)
{
    const mm_tls_t *t = &ev->tls;
    sn_ioc_match_t m;
    char what[MM_NAME_MAX + 32];
    if (t->sni.len && s_match_domain (self, t->sni.ptr, t->sni.len, ev->ts, &m)) {
        snprintf (what, sizeof what, "TLS server name %.*s", (int) t->sni.len, t->sni.ptr);
        s_raise (self, D_TLS, SN_OFFENDER_DST, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, what);
    }
    if ((t->has & MM_TLS_HAS_CERT_SHA1) &&
        (sn_ioc_match_cert_sha1 (self->watch, t->cert_sha1, ev->ts, &m) ||
         (self->feeds && sn_ioc_match_cert_sha1 (self->feeds, t->cert_sha1, ev->ts, &m))))
        s_raise (self, D_TLS, SN_OFFENDER_DST, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, "TLS server certificate");
    if ((t->has & MM_TLS_HAS_JA3) &&
        (sn_ioc_match_ja3 (self->watch, t->ja3, ev->ts, &m) ||
         (self->feeds && sn_ioc_match_ja3 (self->feeds, t->ja3, ev->ts, &m))))
        s_raise (self, D_JA3, SN_OFFENDER_SRC, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, "TLS client fingerprint (JA3)");
    if (t->ja4.len &&
        (sn_ioc_match_ja4 (self->watch, t->ja4.ptr, t->ja4.len, ev->ts, &m) ||
         (self->feeds && sn_ioc_match_ja4 (self->feeds, t->ja4.ptr, t->ja4.len, ev->ts, &m))))
        s_raise (self, D_JA4, SN_OFFENDER_SRC, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, "TLS client fingerprint (JA4)");
}

static void
s_http (s_self_t *self, const mm_event_t *ev, bool inbound)
{
    const mm_http_t *h = &ev->http;
    sn_ioc_match_t m;
    char what[MM_NAME_MAX + 32];
    //  The host without its port (not inside an IPv6 literal).
    size_t hl = h->host.len;
    for (size_t i = hl; i > 0; i--) {
        if (h->host.ptr[i - 1] == ']')
            break;
        if (h->host.ptr[i - 1] == ':') {
            hl = i - 1;
            break;
        }
    }
    uint64_t host_subject = 0;
    if (hl && s_match_domain (self, h->host.ptr, hl, ev->ts, &m)) {
        snprintf (what, sizeof what, "HTTP host %.*s", (int) hl, h->host.ptr);
        s_raise (self, D_HTTP, SN_OFFENDER_DST, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, what);
        host_subject = m.subject;
    }
    if (h->uri.len &&
        (sn_ioc_match_url (self->watch, h->host.ptr, h->host.len, h->uri.ptr, h->uri.len, ev->ts,
                           &m) ||
         (self->feeds && sn_ioc_match_url (self->feeds, h->host.ptr, h->host.len, h->uri.ptr,
                                           h->uri.len, ev->ts, &m))) &&
        m.subject != host_subject)
        s_raise (self, D_HTTP, SN_OFFENDER_DST, ev->ts, ev->proto, &ev->src, &ev->dst, inbound, &m,
                 true, "HTTP request URL");
}

static void
s_event (void *self_, const mm_event_t *ev)
{
    s_self_t *self = self_;
    if (!(ev->has & (MM_EV_HAS_DNS | MM_EV_HAS_TLS | MM_EV_HAS_HTTP)) || !s_any (self))
        return;
    bool inbound = s_inbound (self, &ev->src, &ev->dst);
    if (ev->has & MM_EV_HAS_DNS)
        s_dns (self, ev, inbound);
    if (ev->has & MM_EV_HAS_TLS)
        s_tls (self, ev, inbound);
    if (ev->has & MM_EV_HAS_HTTP)
        s_http (self, ev, inbound);
}

static void
s_tick (void *self_, uint64_t now_ns)
{
    s_self_t *self = self_;
    sn_track_expire (self->hits, now_ns);
    s_poll_build (self);
    if (!self->cfg->ioc_reload_check || self->running || self->n_files == 0)
        return;
    uint64_t mono = s_mono_ns ();
    if (mono < self->next_check)
        return;
    self->next_check = mono + self->cfg->ioc_reload_check * S_NS;
    if (s_any_changed (self)) {
        s_start_build (self, false);
        if (!self->running)
            s_finish_build (self);  //  built inline
    }
}

static void
s_reload (void *self_)
{
    s_self_t *self = self_;
    if (self->n_files == 0)
        return;
    if (self->running) {
        self->again = true;  //  once this build is in, start another with every file
        return;
    }
    s_start_build (self, true);
    if (!self->running)
        s_finish_build (self);  //  built inline
}

const sn_det_class_t sn_det_ioc = {.name = "ioc",
                                   .create = s_create,
                                   .destroy = s_destroy,
                                   .packet = s_packet,
                                   .event = s_event,
                                   .tick = s_tick,
                                   .reload = s_reload};

//  ---------------------------------------------------------------------------------------------
//  For the sensor and other detectors

int
sn_det_ioc_watchlist (sn_detect_t *engine, const mm_watchlist_t *wl)
{
    s_self_t *self = engine ? sn_detect_module (engine, "ioc") : NULL;
    if (!self)
        return -1;
    sn_ioc_report_t rep;
    memset (&rep, 0, sizeof rep);
    int rc = sn_ioc_apply_watchlist (self->watch, wl, &rep);
    for (uint32_t i = 0; i < rep.n_errors; i++)
        fprintf (stderr, "mimamori-sensor: ioc: %s\n", rep.errors[i]);
    return rc;
}

bool
sn_det_ioc_match_addr (sn_detect_t *engine, const mm_addr_t *addr, uint64_t now, sn_ioc_match_t *m)
{
    s_self_t *self = engine ? sn_detect_module (engine, "ioc") : NULL;
    return self && s_match_addr (self, addr, now, m);
}

bool
sn_det_ioc_match_domain (sn_detect_t *engine, const char *name, size_t len, uint64_t now,
                         sn_ioc_match_t *m)
{
    s_self_t *self = engine ? sn_detect_module (engine, "ioc") : NULL;
    return self && s_match_domain (self, name, len, now, m);
}

bool
sn_det_ioc_reloading (sn_detect_t *engine)
{
    s_self_t *self = engine ? sn_detect_module (engine, "ioc") : NULL;
    return self && self->running;
}
