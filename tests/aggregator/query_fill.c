/*  query_fill: makes an aggregator store with known content for tests/aggregator/query.sh,
    without the network. It does what ag_ingest does for a round: the findings are stored as
    two brokers forwarded them (ag_store_put_events), then handed to the correlation
    (ag_lateral_on_stored, ag_lateral_on_round) on the sample registry; one warning is revoked
    (ag_lateral_revoke), and three damaged records are written on purpose.

    Findings (times are BASE + seconds; sample registry: sensor s-NN is org-NN):
      +0     s-03  C2 beacon    ip 45.33.32.156            R1: org-03's partners
      +600   s-12  IOC match    domain login.evil-update.net
      +1200  s-15  IOC match    domain login.evil-update.net  R2: chain c-food
      +1800  s-20  C2 beacon    ip 185.220.101.5
      +2400  s-21  C2 beacon    ip 185.220.101.9  (the /24 is now mixed: the warning names it)
      +3000  s-03  malware      sha256 9f86d0...           R1, then revoked
      +3100  s-03  a flow record (not a finding: stored, not correlated)
    Damaged: a warning record "0bad" and a sighting episode of 45.33.32.0/24 that do not parse,
    and a timeline entry of org-03 at +100 whose EVENT is not stored.

    Usage: query_fill STORE REGISTRY ALLOWLISTS BASE_SECONDS [hold | seeds DIR]
      hold: keeps the store open for writing until standard input closes (read-only readers
            must work beside a live writer); seeds DIR: writes every warn and sight record
            into DIR as u8 key length | key | value (the fuzz_records seed corpus). Prints "revoked ID". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_lateral.h"
#include "ag_store.h"
#include "mm_event.h"

#define S_NS 1000000000ull
#define S_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

typedef struct {
    const char *broker, *sensor;
    uint64_t dt;
    uint8_t kind, severity, confidence, category, ioc_type;
    const char *value, *attack;
} s_finding_t;

static const s_finding_t s_findings[] = {
    {"b-kanto", "s-03", 0, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_C2_BEACON, MM_IOC_IP,
     "45.33.32.156", "T1071.001"},
    {"b-kanto", "s-12", 600, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_IOC_MATCH, MM_IOC_DOMAIN,
     "login.evil-update.net", "T1071.004"},
    {"b-kanto", "s-15", 1200, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_IOC_MATCH, MM_IOC_DOMAIN,
     "LOGIN.evil-update.net.", "T1071.004"},
    {"b-kinki", "s-20", 1800, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_C2_BEACON, MM_IOC_IP,
     "185.220.101.5", "T1071"},
    {"b-kinki", "s-21", 2400, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_C2_BEACON, MM_IOC_IP,
     "185.220.101.9", "T1071"},
    {"b-kanto", "s-03", 3000, MM_KIND_FINDING, MM_SEV_HIGH, 90, MM_CAT_MALWARE, MM_IOC_SHA256,
     S_SHA256, "T1204"},
    {"b-kanto", "s-03", 3100, MM_KIND_FLOW, MM_SEV_INFO, 0, 0, 0, NULL, NULL},
};

static int
s_fail (const char *what)
{
    fprintf (stderr, "query_fill: %s\n", what);
    return 1;
}

//  Stores one event as broker `f->broker` forwarded it, then lets the correlation see it.
static int
s_feed (ag_store_t *store, ag_lateral_t *lat, const s_finding_t *f, uint64_t base, uint64_t seq)
{
    static uint64_t index[2];
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.kind = f->kind;
    ev.ts = base + f->dt * S_NS;
    ev.sensor = mm_str (f->sensor);
    ev.org = mm_str ("org-99");  //  what an event claims never counts: the registry decides
    ev.seq = seq;
    ev.severity = f->severity;
    ev.confidence = f->confidence;
    if (f->kind == MM_KIND_FINDING) {
        ev.has = MM_EV_HAS_FINDING;
        ev.finding.id = seq;
        ev.finding.detector = mm_str ("ioc.match");
        ev.finding.category = f->category;
        ev.finding.n_attack = 1;
        ev.finding.attack[0] = mm_str (f->attack);
        ev.finding.message = mm_str ("query_fill");
        ev.finding.has = MM_FINDING_HAS_IOC;
        ev.finding.ioc.type = f->ioc_type;
        ev.finding.ioc.value = mm_str (f->value);
        ev.finding.ioc.feed = mm_str ("partner-intel");
    }
    mm_buf_t buf = {0};
    mm_error_t err;
    if (mm_event_encode (&ev, &buf, &err) == -1) {
        fprintf (stderr, "query_fill: an event does not encode: %s\n", err.reason);
        return -1;
    }
    uint64_t *idx = &index[strcmp (f->broker, "b-kanto") == 0 ? 0 : 1];
    ag_store_item_t item = {mm_str (f->broker), ++*idx, ev.sensor, seq, ev.ts, ev.kind,
                            buf.data,           buf.len};
    ag_store_ack_t ack;
    size_t n_acks = 0;
    int rc = ag_store_put_events (store, &item, 1, &ack, 1, &n_acks);
    if (rc == 0 && (n_acks != 1 || ack.stored != 1))
        rc = -1;
    if (rc == 0) {
        ag_lateral_on_stored (lat, mm_str (f->broker), *idx, buf.data, buf.len);
        ag_lateral_on_round (lat);
    }
    mm_buf_free (&buf);
    return rc;
}

typedef struct {
    char id[64];
} s_find_t;

static int
s_find_hash (void *arg, const mm_warning_t *w, size_t recipients)
{
    (void) recipients;
    s_find_t *f = (s_find_t *) arg;
    if (w->indicator.type == MM_IOC_SHA256)
        snprintf (f->id, sizeof f->id, "%.*s", (int) w->id.len, w->id.ptr);
    return 0;
}

//  The damaged records a reader must count and survive.
static int
s_damage (ag_store_t *store, uint64_t base)
{
    static const uint8_t junk[] = {0x01, 0x00, 0x05};
    static const char sight_key[] = "a:45.33.32.0/24|ffffffffffffffff";
    uint8_t tkey[64], ptr[32];
    size_t k = 0;
    tkey[k++] = 6;
    memcpy (tkey + k, "org-03", 6), k += 6;
    uint64_t ts = base + 100 * S_NS;
    for (int i = 7; i >= 0; i--)
        tkey[k + (size_t) (7 - i)] = (uint8_t) (ts >> (8 * i));
    k += 8;
    tkey[k++] = 'F';
    tkey[k++] = 4;
    memcpy (tkey + k, "s-03", 4), k += 4;
    memset (tkey + k, 0, 7), tkey[k + 7] = 99, k += 8;
    size_t p = 0;
    ptr[p++] = 7;
    memcpy (ptr + p, "b-kanto", 7), p += 7;
    memset (ptr + p, 0, 6), ptr[p + 6] = 0x27, ptr[p + 7] = 0x0f, p += 8;  //  index 9999
    ag_store_put_t puts[] = {
        {AG_KV_WARN, "0bad", 4, junk, sizeof junk, 0},
        {AG_KV_SIGHT, sight_key, sizeof sight_key - 1, junk, sizeof junk, 0},
        {AG_KV_TIMELINE, tkey, k, ptr, p, 0},
    };
    return ag_store_write (store, puts, 3, NULL, 0) < 0 ? -1 : 0;
}

typedef struct {
    const char *dir;
    const char *prefix;
    int n;
} s_seeds_t;

static int
s_seed (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
        uint64_t expires)
{
    (void) expires;
    s_seeds_t *s = (s_seeds_t *) arg;
    if (klen > 255)
        return 0;
    char path[4096];
    snprintf (path, sizeof path, "%s/%s-%d", s->dir, s->prefix, s->n++);
    FILE *f = fopen (path, "wb");
    if (!f)
        return -1;
    uint8_t kl = (uint8_t) klen;
    size_t w = fwrite (&kl, 1, 1, f) + fwrite (key, 1, klen, f) + fwrite (val, 1, vlen, f);
    return fclose (f) == 0 && w == 1 + klen + vlen ? 0 : -1;
}

int
main (int argc, char **argv)
{
    if (argc < 5 || (argc > 5 && strcmp (argv[5], "hold") != 0 &&
                     !(strcmp (argv[5], "seeds") == 0 && argc == 7)))
        return s_fail ("usage: query_fill STORE REGISTRY ALLOWLISTS BASE_SECONDS [hold | seeds "
                       "DIR]");
    char *end;
    errno = 0;
    unsigned long long base_s = strtoull (argv[4], &end, 10);
    if (errno || *end || base_s == 0)
        return s_fail ("BASE_SECONDS: seconds since the epoch");
    uint64_t base = (uint64_t) base_s * S_NS;
    char err[1024];
    ag_store_t *store = ag_store_new (argv[1], err, sizeof err);
    if (!store)
        return s_fail (err);
    int rc = 1;
    ag_lateral_t *lat = NULL;
    if (ag_store_down_register (store, mm_str ("b-kanto")) < 0 ||
        ag_store_down_register (store, mm_str ("b-kinki")) < 0) {
        s_fail ("cannot register the brokers");
        goto cleanup;
    }
    ag_lateral_config_t cfg = {.registry = argv[2], .allow_dir = argv[3], .psl = NULL};
    ag_correlate_config_default (&cfg.correlate);
    if (!(lat = ag_lateral_new (&cfg, store, NULL, NULL))) {
        s_fail ("ag_lateral_new failed");
        goto cleanup;
    }
    for (size_t i = 0; i < sizeof s_findings / sizeof s_findings[0]; i++)
        if (s_feed (store, lat, &s_findings[i], base, 100 + i) == -1) {
            s_fail ("an event was not stored");
            goto cleanup;
        }
    s_find_t hash = {""};
    ag_correlate_each_warning (ag_lateral_correlate (lat), s_find_hash, &hash);
    if (!hash.id[0] || ag_lateral_revoke (lat, hash.id) < 1) {
        s_fail ("no warning for the hash to revoke");
        goto cleanup;
    }
    printf ("revoked %s\n", hash.id);
    ag_lateral_stats_t st;
    ag_lateral_stats (lat, &st);
    ag_lateral_destroy (&lat);
    if (s_damage (store, base) == -1) {
        s_fail ("the damaged records were not written");
        goto cleanup;
    }
    fprintf (stderr, "query_fill: %llu events, %llu findings, %llu WARNING messages queued\n",
             (unsigned long long) st.events, (unsigned long long) st.findings,
             (unsigned long long) st.warnings);
    if (argc == 7) {
        s_seeds_t w = {argv[6], "warn", 0}, s = {argv[6], "sight", 0};
        if (ag_store_scan (store, AG_KV_WARN, NULL, 0, NULL, 0, s_seed, &w) < 0 ||
            ag_store_scan (store, AG_KV_SIGHT, NULL, 0, NULL, 0, s_seed, &s) < 0) {
            s_fail ("cannot write the seeds");
            goto cleanup;
        }
    }
    if (argc == 6) {
        printf ("holding\n");
        fflush (stdout);
        while (getchar () != EOF)
            ;
    }
    rc = 0;
cleanup:
    ag_lateral_destroy (&lat);
    ag_store_destroy (&store);
    return rc;
}
