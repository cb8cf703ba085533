/*  bench_lateral: the performance goals of issue 6 (supply-chain correlation), in one run.
    Both parts use one registry: 1,000 companies of 2 providers in 2 regions (Kanto, Kinki), in
    100 supply chains of 10 (supplier -> customer links along each chain, tier 9 up to the
    owner at tier 0), one sensor each.
      ingest   in process, no network: N findings of the 1,000 sensors go through the
               aggregator's store and correlation as mimamori-aggregator's loop drives them:
               per round of AG_INGEST_BATCH_DEFAULT (4096) events, ag_store_put_events, then
               ag_lateral_on_stored for each, ag_lateral_on_round (the synced write of the
               correlation's records and the WARNING/WATCHLIST down messages, for two
               registered brokers) and ag_lateral_tick. The reference, measured in the same run:
               the same rounds through ag_store_put_events alone. Also decode +
               ag_correlate_event alone (no store). The findings: mostly repeating indicators
               (addresses and domains) from a pool, drawn with a Zipf-like law (a few seen
               everywhere, a long tail seen once or twice), some fresh ones, categories fixed
               per indicator, 10 % severe.
      latency  the daemons: mimamori-aggregator (the registry, consoles off), two
               mimamori-brokers (one per region, 500 sensors each) and 1,000 sn_uplink sensors
               in one child process, all connected and heartbeating. Hit sensors publish severe
               high-confidence findings, each with a fresh domain, at a paced rate, ts = wall
               clock at publish; every partner sensor that receives the WARNING records its
               receipt time minus the warning's evidence.last_seen (the finding's ts). Every
               expected recipient (the hit company's direct partners in the registry, rule R1)
               must get each warning exactly once, and nobody else may get one.
    Children are this binary run again (--child ...) and the daemons. Every child dies with
    this process, however it ends: PR_SET_PDEATHSIG, a SIGINT/SIGTERM handler, atexit.
    Usage: bench_lateral [options] [ingest] [latency]; see s_usage. Owner: tests/bench. */
#define _GNU_SOURCE  //  pipe2, nftw
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ag_correlate.h"
#include "ag_ingest.h"
#include "ag_lateral.h"
#include "ag_registry.h"
#include "ag_store.h"
#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_curve.h"
#include "mm_incident.h"
#include "mm_event.h"
#include "mm_sample.h"
#include "sn_uplink.h"

#ifndef MM_ALLOWLISTS
#define MM_ALLOWLISTS "aggregator/allowlists"
#endif

#define S_ORGS 1000  //  companies, one sensor each
#define S_CHAIN 10   //  companies per supply chain
#define S_PATH 1024
#define S_DIR 512  //  a working directory: its paths (S_PATH) always fit
#define S_LINE 1024
#define S_WAIT_MS 60000      //  bound on any wait for a daemon or the sensors
#define S_DRAIN_MS 15000     //  after the last hit, how long warnings may take to arrive
#define S_SWEEP_NS 2000000u  //  the sensors' child polls every uplink this often
#define S_NOTICE_BURST 10    //  ag_correlate's default immediate notices per recipient
#define S_KANTO "b-kanto"
#define S_KINKI "b-kinki"

//  ---------------------------------------------------------------------------------------------
//  Small helpers: clocks, files, processes (bench_mesh's, with children that die with us)

static uint64_t
s_mono_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static uint64_t
s_wall_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static void
s_sleep_ns (uint64_t ns)
{
    struct timespec t = {(time_t) (ns / 1000000000u), (long) (ns % 1000000000u)};
    while (nanosleep (&t, &t) == -1 && errno == EINTR)
        ;
}

//  CPU seconds (user + system) of this process, all threads (RocksDB's included).
static double
s_cpu_self (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
           (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

//  CPU seconds (user + system, all threads) of a running process, from /proc/PID/stat.
static double
s_cpu_of (pid_t pid)
{
    char path[64], buf[2048];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[n] = 0;
    const char *p = strrchr (buf, ')');  //  the command name may hold spaces
    unsigned long long ut = 0, st = 0;
    if (!p ||
        sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double) (ut + st) / (double) sysconf (_SC_CLK_TCK);
}

//  A "Vm...:" figure of /proc/self/status in kB, -1 if unreadable.
static long
s_vm_kb (const char *field)
{
    char line[256];
    FILE *f = fopen ("/proc/self/status", "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t flen = strlen (field);
    while (fgets (line, sizeof line, f))
        if (strncmp (line, field, flen) == 0 && line[flen] == ':') {
            kb = strtol (line + flen + 1, NULL, 10);
            break;
        }
    fclose (f);
    return kb;
}

//  The first three fields of /proc/loadavg ("" if unreadable): how busy the machine was.
static void
s_loadavg (char *buf, size_t size)
{
    buf[0] = 0;
    FILE *f = fopen ("/proc/loadavg", "r");
    double a, b, c;
    if (f && fscanf (f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf (buf, size, "%.2f %.2f %.2f", a, b, c);
    if (f)
        fclose (f);
}

static int
s_rm_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb, (void) flag, (void) ftw;
    return remove (path);
}

static void
s_rm_rf (const char *path)
{
    nftw (path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
s_write_file (const char *path, const void *data, size_t len)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    int rc = fwrite (data, 1, len, f) == len ? 0 : -1;
    return fclose (f) == 0 ? rc : -1;
}

//  The whole of a small file (a daemon's log), NUL-terminated, or NULL. Caller frees.
static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    while (buf) {
        size_t n = fread (buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) {
            char *more = realloc (buf, cap * 2);
            if (!more) {
                free (buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
    }
    fclose (f);
    if (buf)
        buf[len] = 0;
    return buf;
}

//  The number written just before the last occurrence of `word` in `text` ("123 batches"),
//  -1 if there is none.
static long long
s_num_before (const char *text, const char *word)
{
    const char *hit = NULL;
    for (const char *p = text; (p = strstr (p, word)) != NULL; p++)
        hit = p;
    if (!hit || hit == text)
        return -1;
    const char *q = hit;
    while (q > text && q[-1] == ' ')
        q--;
    const char *end = q;
    while (q > text && q[-1] >= '0' && q[-1] <= '9')
        q--;
    return q == end ? -1 : strtoll (q, NULL, 10);
}

//  "key=value" in a result line; -1 when absent (every figure here is >= 0).
static double
s_kv (const char *line, const char *key)
{
    char pat[64];
    snprintf (pat, sizeof pat, " %s=", key);
    const char *p = strstr (line, pat);
    if (!p)
        return -1;
    return strtod (p + strlen (pat), NULL);
}

static int
s_parse_long (const char *text, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol (text, &end, 10);
    if (errno || end == text || *end || x < lo || x > hi)
        return -1;
    *v = x;
    return 0;
}

static int
s_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  The children this process started: killed when it exits or is told to stop. A signal
//  handler reads it, hence plain pids in a fixed array.
static volatile pid_t s_children[16];

static void
s_track (pid_t pid, bool add)
{
    for (size_t i = 0; i < sizeof s_children / sizeof s_children[0]; i++)
        if (add ? s_children[i] == 0 : s_children[i] == pid) {
            s_children[i] = add ? pid : 0;
            return;
        }
}

static void
s_kill_children (void)
{
    for (size_t i = 0; i < sizeof s_children / sizeof s_children[0]; i++)
        if (s_children[i] > 0) {
            kill (s_children[i], SIGKILL);
            waitpid (s_children[i], NULL, 0);
            s_children[i] = 0;
        }
}

static void
s_on_signal (int sig)
{
    //  kill and waitpid are async-signal-safe; the working files stay for inspection.
    s_kill_children ();
    _exit (128 + sig);
}

//  Starts argv[0] with argv. `stdin_w`: a pipe to its stdin (its EOF tells our own children
//  that we are gone); `stdout_r`: a pipe from its stdout (result lines); `err_path`: its
//  stderr into that file (NULL: inherited). fork + exec rather than posix_spawn so that the
//  child asks for SIGKILL when we die (PR_SET_PDEATHSIG survives exec): between the two only
//  async-signal-safe calls, as this process has RocksDB's and ZeroMQ's threads. The pid, or -1.
static pid_t
s_spawn (char *const argv[], int *stdin_w, int *stdout_r, const char *err_path)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errfd = -1;
    pid_t parent = getpid (), pid = -1;
    if ((stdin_w && pipe2 (in, O_CLOEXEC) == -1) || (stdout_r && pipe2 (out, O_CLOEXEC) == -1))
        goto fail;
    if (err_path && (errfd = open (err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
        goto fail;
    pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);  //  we died before the request took
        if ((in[0] != -1 && dup2 (in[0], 0) == -1) || (out[1] != -1 && dup2 (out[1], 1) == -1) ||
            (errfd != -1 && dup2 (errfd, 2) == -1))
            _exit (127);
        signal (SIGPIPE, SIG_DFL);  //  ignored here; an ignored signal would stay ignored
        signal (SIGINT, SIG_DFL);
        signal (SIGTERM, SIG_DFL);
        execv (argv[0], argv);
        _exit (127);
    }
    if (pid == -1)
        goto fail;
    s_track (pid, true);
    if (in[0] != -1)
        close (in[0]);
    if (out[1] != -1)
        close (out[1]);
    if (errfd != -1)
        close (errfd);
    if (stdin_w)
        *stdin_w = in[1];
    if (stdout_r)
        *stdout_r = out[0];
    return pid;
fail:
    fprintf (stderr, "bench_lateral: cannot start %s: %s\n", argv[0], strerror (errno));
    for (int i = 0; i < 2; i++) {
        if (in[i] != -1)
            close (in[i]);
        if (out[i] != -1)
            close (out[i]);
    }
    if (errfd != -1)
        close (errfd);
    return -1;
}

//  Waits for `pid` (bounded: SIGKILL after `timeout_ms`). Its exit status, or -1.
static int
s_reap (pid_t pid, int timeout_ms)
{
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid (pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r == -1 && errno != EINTR)
            return -1;
        if (waited >= timeout_ms) {
            kill (pid, SIGKILL);
            waitpid (pid, &st, 0);
            s_track (pid, false);
            return -1;
        }
        s_sleep_ns (10000000);
    }
    s_track (pid, false);
    return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

//  Stops a daemon (SIGTERM, then SIGKILL after `timeout_ms`). Its exit status, or -1.
static int
s_stop (pid_t *pid, int timeout_ms)
{
    if (*pid <= 0)
        return -1;
    kill (*pid, SIGTERM);
    int rc = s_reap (*pid, timeout_ms);
    *pid = -1;
    return rc;
}

//  One line from a child's stdout within `timeout_ms` (without the newline). Its length, or
//  -1 on timeout or EOF.
static int
s_read_line (int fd, char *buf, size_t size, int timeout_ms)
{
    size_t len = 0;
    uint64_t end = s_mono_ns () + (uint64_t) timeout_ms * 1000000u;
    while (len + 1 < size) {
        uint64_t now = s_mono_ns ();
        if (now >= end)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll (&p, 1, (int) ((end - now) / 1000000u) + 1);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        char c;
        ssize_t r = read (fd, &c, 1);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        buf[len++] = c;
    }
    buf[len] = 0;
    return (int) len;
}

//  Waits until `log` holds `what`; 0, or -1 if `pid` exited or `timeout_ms` passed.
static int
s_wait_log (const char *log, pid_t pid, const char *what, int timeout_ms)
{
    uint64_t end = s_mono_ns () + (uint64_t) timeout_ms * 1000000u;
    while (s_mono_ns () < end) {
        char *text = s_read_file (log);
        bool found = text && strstr (text, what);
        free (text);
        if (found)
            return 0;
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            s_track (pid, false);
            return -1;
        }
        s_sleep_ns (20000000);
    }
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  The registry: 100 chains of 10, tier t+1 supplies tier t; regions alternate every two
//  tiers (so 4 of a chain's 9 links cross between the brokers), providers every company.

static void
s_org_name (char *buf, size_t size, long i)
{
    snprintf (buf, size, "org-%04ld", i + 1);
}

static void
s_sensor_name (char *buf, size_t size, long i)
{
    snprintf (buf, size, "s-%04ld", i + 1);
}

static bool
s_in_kanto (long i)
{
    return ((i % S_CHAIN) / 2 + i / S_CHAIN) % 2 == 0;
}

//  The company whose sensor raises hit n of the latency part: a permutation of the 1,000
//  (337 is prime to 1,000), so no company is hit twice before all were hit once.
static long
s_hit_org (long n)
{
    return (n * 337) % S_ORGS;
}

static int
s_write_registry (const char *path)
{
    static const char *links[] = {"vpn", "edi", "email", "remote_maint", "shared_saas"};
    static const char *sizes[] = {"large", "medium", "medium", "small", "small",
                                  "small", "micro",  "micro",  "micro", "micro"};
    mm_buf_t b = MM_BUF_INIT;
    int rc = 0;
    rc |= mm_buf_appendf (&b,
                          "# bench_lateral: %d companies, %d chains of %d, one sensor each\n"
                          "provider p-east name=\"East SOC\"\n"
                          "provider p-west name=\"West SOC\"\n",
                          S_ORGS, S_ORGS / S_CHAIN, S_CHAIN);
    for (long i = 0; i < S_ORGS; i++) {
        char org[32], sensor[32];
        s_org_name (org, sizeof org, i);
        s_sensor_name (sensor, sizeof sensor, i);
        long pref = s_in_kanto (i) ? 11 + i % 4 : 25 + i % 4;  //  Saitama..Kanagawa, Kyoto..Hyogo
        rc |= mm_buf_appendf (&b,
                              "org %s provider=%s pref=%ld industry=%c size=%s domains=%s.co.jp\n"
                              "sensor %s org=%s\n",
                              org, i % 2 ? "p-west" : "p-east", pref,
                              (char) ('A' + (i / S_CHAIN) % 20), sizes[i % S_CHAIN], org, sensor,
                              org);
    }
    for (long c = 0; c < S_ORGS / S_CHAIN; c++) {
        char owner[32];
        s_org_name (owner, sizeof owner, c * S_CHAIN);
        rc |= mm_buf_appendf (&b, "chain c-%03ld owner=%s\n", c + 1, owner);
        for (long t = 0; t < S_CHAIN; t++) {
            char org[32], customer[32];
            s_org_name (org, sizeof org, c * S_CHAIN + t);
            rc |= mm_buf_appendf (&b, "member c-%03ld %s tier=%ld\n", c + 1, org, t);
            if (t > 0) {
                s_org_name (customer, sizeof customer, c * S_CHAIN + t - 1);
                rc |= mm_buf_appendf (&b, "edge %s -> %s chain=c-%03ld link=%s\n", org, customer,
                                      c + 1, links[t % 5]);
            }
        }
    }
    if (rc == 0)
        rc = s_write_file (path, b.data, b.len);
    mm_buf_free (&b);
    return rc;
}

//  The direct partners of company `i` (customers and suppliers, each once) as company
//  numbers, from the loaded registry. How many (at most `max`).
static size_t
s_partners (const ag_registry_t *reg, long i, long *out, size_t max)
{
    char org[32];
    s_org_name (org, sizeof org, i);
    int32_t x = ag_registry_org_index (reg, org);
    if (x < 0)
        return 0;
    uint32_t c[64], s[64];
    size_t nc = ag_registry_customers (reg, (uint32_t) x, c, 64);
    size_t ns = ag_registry_suppliers (reg, (uint32_t) x, s, 64);
    size_t n = 0;
    for (size_t k = 0; k < nc + ns && k < 128 && n < max; k++) {
        uint32_t p = k < nc ? c[k] : s[k - nc];
        long num;
        const ag_org_t *o = ag_registry_org_at (reg, p);
        if (!o || s_parse_long (o->id + 4, 1, S_ORGS, &num) == -1)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen |= out[j] == num - 1;
        if (!seen)
            out[n++] = num - 1;
    }
    return n;
}

//  ---------------------------------------------------------------------------------------------
//  Part 1: ingest with correlation, in process

typedef struct {
    uint64_t s;
} s_rng_t;

static uint64_t
s_rand (s_rng_t *r)
{
    //  xorshift64*: fixed seed, so every run feeds the same findings.
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static double
s_unit (s_rng_t *r)
{
    return (double) (s_rand (r) >> 11) / 9007199254740992.0;
}

//  Indicator k of the pool: even k an address (each in a /24 of its own, in hosting ranges
//  outside the CDN list), odd k a domain (a registered domain of its own). What an indicator
//  is about is fixed: a brute-forcing address stays one.
static void
s_pool_indicator (long k, uint8_t *type, uint8_t *category, char *value, size_t size)
{
    uint32_t h = (uint32_t) (((uint64_t) k * 2654435761u) >> 8) % 100;
    if (k % 2 == 0) {
        static const unsigned first[] = {45,  62,  77,  89,  91,  93,  95,
                                         185, 193, 194, 195, 212, 213, 217};
        long j = k / 2;
        snprintf (value, size, "%u.%ld.%ld.%ld", first[j % 14], (j / 14) % 256, (j / 3584) % 256,
                  1 + j % 250);
        *type = MM_IOC_IP;
        *category = h < 45   ? MM_CAT_BRUTE_FORCE
                    : h < 60 ? MM_CAT_EXPLOIT
                    : h < 80 ? MM_CAT_SCAN
                    : h < 90 ? MM_CAT_IOC_MATCH
                             : MM_CAT_C2_BEACON;
    }
    else {
        static const char *tld[] = {"com", "net", "info", "xyz", "top", "ru", "biz"};
        snprintf (value, size, "cdn%ld.update-%ld.%s", k % 5, k, tld[k % 7]);
        *type = MM_IOC_DOMAIN;
        *category = h < 40   ? MM_CAT_IOC_MATCH
                    : h < 65 ? MM_CAT_C2_BEACON
                    : h < 80 ? MM_CAT_DNS_TUNNEL
                    : h < 90 ? MM_CAT_MALWARE
                             : MM_CAT_EXFILTRATION;
    }
}

typedef struct {
    long n;                    //  findings
    mm_buf_t arena;            //  their encoded EVENTs, back to back
    ag_store_item_t *items;    //  as ag_ingest hands them to the store
    char sensors[S_ORGS][16];  //  the items' sensor ids point here
    long severe, fresh, distinct;
} s_feed_t;

typedef struct {
    long findings, pool, fresh_pct, severe_pct, budget_s;
    bool uniform;
} s_ingest_opts_t;

static int
s_feed_make (s_feed_t *feed, const s_ingest_opts_t *io)
{
    memset (feed, 0, sizeof *feed);
    feed->n = io->findings;
    feed->items = calloc ((size_t) feed->n, sizeof *feed->items);
    size_t *off = calloc ((size_t) feed->n, sizeof *off);
    uint64_t *seq = calloc (S_ORGS, sizeof *seq);
    uint8_t *used = calloc ((size_t) io->pool, 1);
    if (!feed->items || !off || !seq || !used) {
        free (off), free (seq), free (used);
        return -1;
    }
    for (long i = 0; i < S_ORGS; i++)
        s_sensor_name (feed->sensors[i], sizeof feed->sensors[i], i);
    char orgs[S_ORGS][16];
    for (long i = 0; i < S_ORGS; i++)
        s_org_name (orgs[i], sizeof orgs[i], i);
    mm_event_t *tmpl = malloc (sizeof *tmpl), *ev = malloc (sizeof *ev);
    s_rng_t rng = {0x9e3779b97f4a7c15ull};
    uint64_t index[2] = {0, 0};
    //  The findings span the last hour, in order: all within the rules' 72 h window.
    uint64_t t0 = s_wall_ns () - 3600 * 1000000000ull;
    uint64_t step = 3600 * 1000000000ull / (uint64_t) feed->n;
    double log_pool = log ((double) io->pool + 1);
    int rc = tmpl && ev ? 0 : -1;
    if (rc == 0)
        mm_sample_finding (tmpl);
    for (long i = 0; rc == 0 && i < feed->n; i++) {
        long o = (long) (s_rand (&rng) % S_ORGS);
        char value[128];
        uint8_t type, category;
        if (s_unit (&rng) * 100 < (double) io->fresh_pct) {
            snprintf (value, sizeof value, "f%ld.fresh-%ld.info", i % 3, i);
            type = MM_IOC_DOMAIN;
            category = MM_CAT_IOC_MATCH;
            feed->fresh++;
        }
        else {
            double u = s_unit (&rng);
            //  Zipf-like (P(k) ~ 1/(k+1)): exp(u ln(P+1)) - 1 is log-uniform.
            long k = io->uniform ? (long) (u * (double) io->pool) : (long) exp (u * log_pool) - 1;
            if (k < 0)
                k = 0;
            if (k >= io->pool)
                k = io->pool - 1;
            feed->distinct += !used[k];
            used[k] = 1;
            s_pool_indicator (k, &type, &category, value, sizeof value);
        }
        *ev = *tmpl;
        ev->sensor = mm_str (feed->sensors[o]);
        ev->org = mm_str (orgs[o]);
        ev->seq = ++seq[o];
        ev->ts = t0 + (uint64_t) i * step;
        uint64_t r = s_rand (&rng) % 100;
        ev->severity = r < 40   ? MM_SEV_LOW
                       : r < 90 ? MM_SEV_MEDIUM
                       : r < 98 ? MM_SEV_HIGH
                                : MM_SEV_CRITICAL;
        feed->severe += ev->severity >= MM_SEV_HIGH;
        ev->confidence = (uint8_t) (40 + s_rand (&rng) % 61);
        ev->direction =
            category == MM_CAT_BRUTE_FORCE || category == MM_CAT_EXPLOIT || category == MM_CAT_SCAN
                ? MM_DIR_INBOUND
                : MM_DIR_OUTBOUND;
        ev->finding.id = ev->seq;
        ev->finding.category = category;
        ev->finding.ioc.type = type;
        ev->finding.ioc.value = mm_str (value);
        ev->finding.ioc.feed = mm_str ("bench-feed");
        off[i] = feed->arena.len;
        mm_error_t err;
        if (mm_event_encode (ev, &feed->arena, &err) == -1) {
            fprintf (stderr, "bench_lateral: finding %ld does not encode: %s\n", i, err.reason);
            rc = -1;
            break;
        }
        int b = s_in_kanto (o) ? 0 : 1;
        feed->items[i] = (ag_store_item_t){.broker = mm_str (b == 0 ? S_KANTO : S_KINKI),
                                           .index = ++index[b],
                                           .sensor = mm_str (feed->sensors[o]),
                                           .seq = ev->seq,
                                           .ts = ev->ts,
                                           .kind = MM_KIND_FINDING,
                                           .len = feed->arena.len - off[i]};
    }
    for (long i = 0; rc == 0 && i < feed->n; i++)
        feed->items[i].data = feed->arena.data + off[i];  //  the arena has stopped moving
    free (tmpl);
    free (ev);
    free (off);
    free (seq);
    free (used);
    return rc;
}

static void
s_feed_free (s_feed_t *feed)
{
    mm_buf_free (&feed->arena);
    free (feed->items);
    feed->items = NULL;
}

static ag_store_t *
s_store_open (const char *path)
{
    char err[512];
    ag_store_t *store = ag_store_new (path, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_lateral: store %s: %s\n", path, err);
        return NULL;
    }
    //  Two brokers that announced themselves: ag_store_write queues every down message for
    //  each, as it does in the daemon (with none, it would drop them unwritten).
    if (ag_store_down_register (store, mm_str (S_KANTO)) == -1 ||
        ag_store_down_register (store, mm_str (S_KINKI)) == -1) {
        fprintf (stderr, "bench_lateral: store %s: %s\n", path, ag_store_error (store));
        ag_store_destroy (&store);
    }
    return store;
}

//  One round into the store; -1 unless every event was stored as new.
static int
s_put_round (ag_store_t *store, const ag_store_item_t *items, size_t n, ag_store_ack_t *acks)
{
    size_t n_acks = 0;
    if (ag_store_put_events (store, items, n, acks, AG_INGEST_BATCH_DEFAULT, &n_acks) == -1) {
        fprintf (stderr, "bench_lateral: ag_store_put_events: %s\n", ag_store_error (store));
        return -1;
    }
    size_t stored = 0;
    for (size_t i = 0; i < n_acks; i++)
        stored += acks[i].stored;
    if (stored != n) {
        fprintf (stderr, "bench_lateral: %zu of %zu events stored\n", stored, n);
        return -1;
    }
    return 0;
}

typedef struct {
    long rounds;  //  rounds run
    long events;  //  events in them
    //  Cumulative wall and CPU seconds at the end of each round (the reference's, so that the
    //  ratio compares the very rounds the correlated run got through).
    double *wall, *cpu;
    double t_put, t_stored, t_round, t_tick;  //  the correlated run's time by step
    ag_lateral_stats_t lat;
    ag_correlate_stats_t cor;
    uint64_t down_last;  //  down messages queued for broker b-kanto
    long rss_kb;
} s_ingest_t;

//  The reference: every round through ag_store_put_events alone.
static int
s_ingest_store_only (const s_feed_t *feed, const char *path, s_ingest_t *r)
{
    memset (r, 0, sizeof *r);
    long rounds = (feed->n + AG_INGEST_BATCH_DEFAULT - 1) / AG_INGEST_BATCH_DEFAULT;
    r->wall = calloc ((size_t) rounds, sizeof *r->wall);
    r->cpu = calloc ((size_t) rounds, sizeof *r->cpu);
    ag_store_ack_t *acks = calloc (AG_INGEST_BATCH_DEFAULT, sizeof *acks);
    ag_store_t *store = s_store_open (path);
    int rc = r->wall && r->cpu && acks && store ? 0 : -1;
    uint64_t t0 = s_mono_ns ();
    double c0 = s_cpu_self ();
    for (long b = 0; rc == 0 && b < rounds; b++) {
        long from = b * AG_INGEST_BATCH_DEFAULT;
        size_t n = (size_t) (feed->n - from < AG_INGEST_BATCH_DEFAULT ? feed->n - from
                                                                      : AG_INGEST_BATCH_DEFAULT);
        rc = s_put_round (store, feed->items + from, n, acks);
        r->wall[b] = (double) (s_mono_ns () - t0) / 1e9;
        r->cpu[b] = s_cpu_self () - c0;
        r->rounds = b + 1;
        r->events = from + (long) n;
    }
    ag_store_destroy (&store);
    free (acks);
    return rc;
}

//  The aggregator's path: each round stored, then correlated and committed, then the tick of
//  the daemon's loop. Stops after the round that crosses `budget_s`.
static int
s_ingest_correlated (const s_feed_t *feed, const char *path, const char *registry,
                     const char *allow, long budget_s, double *wall, double *cpu, s_ingest_t *r)
{
    memset (r, 0, sizeof *r);
    ag_store_ack_t *acks = calloc (AG_INGEST_BATCH_DEFAULT, sizeof *acks);
    ag_store_t *store = s_store_open (path);
    ag_lateral_config_t cfg = {.registry = registry, .allow_dir = allow, .psl = ""};
    ag_correlate_config_default (&cfg.correlate);
    ag_lateral_t *lat = store ? ag_lateral_new (&cfg, store, NULL, NULL) : NULL;
    int rc = acks && lat ? 0 : -1;
    long rounds = (feed->n + AG_INGEST_BATCH_DEFAULT - 1) / AG_INGEST_BATCH_DEFAULT;
    uint64_t t0 = s_mono_ns ();
    double c0 = s_cpu_self ();
    for (long b = 0; rc == 0 && b < rounds; b++) {
        long from = b * AG_INGEST_BATCH_DEFAULT;
        size_t n = (size_t) (feed->n - from < AG_INGEST_BATCH_DEFAULT ? feed->n - from
                                                                      : AG_INGEST_BATCH_DEFAULT);
        const ag_store_item_t *items = feed->items + from;
        uint64_t t1 = s_mono_ns ();
        rc = s_put_round (store, items, n, acks);
        uint64_t t2 = s_mono_ns ();
        for (size_t i = 0; rc == 0 && i < n; i++)
            ag_lateral_on_stored (lat, items[i].broker, items[i].index, items[i].data,
                                  items[i].len);
        uint64_t t3 = s_mono_ns ();
        ag_lateral_on_round (lat);
        uint64_t t4 = s_mono_ns ();
        ag_lateral_tick (lat);
        uint64_t t5 = s_mono_ns ();
        r->t_put += (double) (t2 - t1) / 1e9;
        r->t_stored += (double) (t3 - t2) / 1e9;
        r->t_round += (double) (t4 - t3) / 1e9;
        r->t_tick += (double) (t5 - t4) / 1e9;
        r->rounds = b + 1;
        r->events = from + (long) n;
        if ((double) (t5 - t0) / 1e9 >= (double) budget_s)
            break;
    }
    if (lat)
        ag_lateral_sync (lat);  //  the last round, still in the worker
    *wall = (double) (s_mono_ns () - t0) / 1e9;
    *cpu = s_cpu_self () - c0;
    r->rss_kb = s_vm_kb ("VmHWM");
    if (lat) {
        ag_lateral_stats (lat, &r->lat);
        ag_correlate_stats (ag_lateral_correlate (lat), &r->cor);
        if (r->lat.commit_errors)
            rc = -1;
    }
    uint64_t acked = 0;
    if (store && ag_store_down_state (store, mm_str (S_KANTO), &r->down_last, &acked) == -1)
        rc = -1;
    ag_lateral_destroy (&lat);
    ag_store_destroy (&store);
    free (acks);
    return rc;
}

typedef struct {
    uint64_t warnings, digests, incidents;
} s_sink_count_t;

static void
s_sink_warning (void *arg, const mm_warning_t *w, const mm_indicator_t *earlier, uint64_t matcher)
{
    (void) w, (void) earlier, (void) matcher;
    ((s_sink_count_t *) arg)->warnings++;
}

static void
s_sink_digest (void *arg, const char *org, const mm_warning_t *const *ws, size_t n)
{
    (void) org, (void) ws, (void) n;
    ((s_sink_count_t *) arg)->digests++;
}

static void
s_sink_incident (void *arg, const ag_incident_t *inc)
{
    (void) inc;
    ((s_sink_count_t *) arg)->incidents++;
}

static void
s_flush_nothing (void *arg, uint8_t kv, const void *key, size_t klen, const uint8_t *val,
                 size_t vlen, uint64_t expires)
{
    (void) arg, (void) kv, (void) key, (void) klen, (void) val, (void) vlen, (void) expires;
}

//  The correlation alone over the first `n` findings: decode + ag_correlate_event, with the
//  round's flush (to nothing) and tick between rounds, as ag_lateral does them; and decode
//  alone, to see what the correlation itself costs. Wall seconds of each.
static int
s_correlate_alone (const s_feed_t *feed, long n, const char *registry, const char *allow,
                   double *t_decode_cor, double *t_rounds, double *t_decode)
{
    char err[4096];
    ag_registry_t *reg = ag_registry_load (registry, err, sizeof err, NULL);
    ag_allow_t *gate = ag_allow_new ();
    ag_psl_t *psl = ag_psl_load (AG_PSL_DEFAULT_PATH, err, sizeof err);
    mm_event_t *ev = malloc (sizeof *ev);
    s_sink_count_t count = {0};
    ag_correlate_sink_t sink = {.arg = &count,
                                .warning = s_sink_warning,
                                .digest = s_sink_digest,
                                .incident = s_sink_incident};
    ag_correlate_config_t cfg;
    ag_correlate_config_default (&cfg);
    ag_correlate_t *cor = NULL;
    int rc = -1;
    if (!reg || !gate || !psl || !ev || ag_allow_load_dir (gate, allow, err, sizeof err) == -1 ||
        !(cor = ag_correlate_new (&cfg, reg, gate, psl, &sink))) {
        fprintf (stderr, "bench_lateral: correlation alone: cannot set up: %s\n", err);
        goto done;
    }
    *t_decode_cor = *t_rounds = *t_decode = 0;
    mm_error_t merr;
    for (long from = 0; from < n; from += AG_INGEST_BATCH_DEFAULT) {
        long to = from + AG_INGEST_BATCH_DEFAULT < n ? from + AG_INGEST_BATCH_DEFAULT : n;
        uint64_t now = s_wall_ns ();
        uint64_t t1 = s_mono_ns ();
        for (long i = from; i < to; i++)
            if (mm_event_decode (ev, feed->items[i].data, feed->items[i].len, &merr) == 0)
                ag_correlate_event (cor, ev, now);
        uint64_t t2 = s_mono_ns ();
        ag_correlate_flush (cor, true, s_flush_nothing, NULL);
        ag_correlate_tick (cor, s_wall_ns ());
        uint64_t t3 = s_mono_ns ();
        *t_decode_cor += (double) (t2 - t1) / 1e9;
        *t_rounds += (double) (t3 - t2) / 1e9;
    }
    uint64_t t1 = s_mono_ns ();
    long bad = 0;
    for (long i = 0; i < n; i++)
        bad += mm_event_decode (ev, feed->items[i].data, feed->items[i].len, &merr) == -1;
    *t_decode = (double) (s_mono_ns () - t1) / 1e9;
    rc = bad ? -1 : 0;
done:
    ag_correlate_destroy (&cor);
    ag_psl_destroy (&psl);
    ag_allow_destroy (&gate);
    ag_registry_destroy (&reg);
    free (ev);
    return rc;
}

typedef struct {
    double rate, cpu_rate, ref_rate, ref_cpu_rate, ratio, alone_rate;
    long events;
    bool ok;
} s_ingest_result_t;

static int
s_part_ingest (const char *run, const char *registry, const char *allow, const s_ingest_opts_t *io,
               s_ingest_result_t *res)
{
    memset (res, 0, sizeof *res);
    s_feed_t *feed = calloc (1, sizeof *feed);
    if (!feed)
        return -1;
    uint64_t tg = s_mono_ns ();
    if (s_feed_make (feed, io) == -1) {
        s_feed_free (feed);
        free (feed);
        return -1;
    }
    printf ("ingest: %ld findings from %d sensors (%ld severe, %ld with a fresh indicator, the "
            "rest from a pool of %ld drawn %s: %ld distinct), %.1f MB of EVENTs, rounds of %u; "
            "made in %.1f s\n",
            feed->n, S_ORGS, feed->severe, feed->fresh, io->pool,
            io->uniform ? "uniformly" : "Zipf-like", feed->distinct, (double) feed->arena.len / 1e6,
            AG_INGEST_BATCH_DEFAULT, (double) (s_mono_ns () - tg) / 1e9);
    fflush (stdout);
    char ref_path[S_PATH], cor_path[S_PATH];
    snprintf (ref_path, sizeof ref_path, "%s/store-alone", run);
    snprintf (cor_path, sizeof cor_path, "%s/store-correlated", run);
    s_ingest_t ref, cor;
    double wall = 0, cpu = 0;
    int rc = s_ingest_store_only (feed, ref_path, &ref);
    if (rc == 0)
        rc = s_ingest_correlated (feed, cor_path, registry, allow, io->budget_s, &wall, &cpu, &cor);
    double t_dc = 0, t_rounds = 0, t_dec = 0;
    if (rc == 0)
        rc = s_correlate_alone (feed, cor.events, registry, allow, &t_dc, &t_rounds, &t_dec);
    if (rc == 0 && cor.rounds > 0 && cor.rounds <= ref.rounds) {
        long k = cor.rounds - 1;
        double n = (double) cor.events;
        res->events = cor.events;
        res->rate = n / wall;
        res->cpu_rate = n / cpu;
        res->ref_rate = n / ref.wall[k];
        res->ref_cpu_rate = n / ref.cpu[k];
        res->ratio = res->rate / res->ref_rate;
        res->alone_rate = n / t_dc;
        res->ok = true;
        double full = (double) ref.events / ref.wall[ref.rounds - 1];
        printf ("  store alone (reference): %.0f findings/s wall over the same %ld rounds "
                "(%.2f s, CPU %.2f s: %.2f us per finding); all %ld findings: %.0f/s\n",
                res->ref_rate, cor.rounds, ref.wall[k], ref.cpu[k], ref.cpu[k] / n * 1e6,
                ref.events, full);
        printf ("  store + correlation:     %.0f findings/s wall (%ld findings in %.2f s%s), CPU "
                "%.2f s (%.2f us per finding, %.0f findings per CPU second); ratio to the store "
                "alone %.3f\n",
                res->rate, cor.events, wall, cor.events < feed->n ? ", stopped by --budget" : "",
                cpu, cpu / n * 1e6, res->cpu_rate, res->ratio);
        printf ("    ingest thread: put_events %.2f s, on_stored (copies the findings) %.2f s, "
                "on_round (waits for the worker's previous round, writes it, hands this one "
                "over) %.2f s, tick %.2f s; of that %.2f s waiting for the worker\n"
                "    worker thread: %.2f s CPU correlating (decode, records, correlation, "
                "messages, flush); peak RSS %.0f MB\n",
                cor.t_put, cor.t_stored, cor.t_round, cor.t_tick, (double) cor.lat.wait_ns / 1e9,
                (double) cor.lat.worker_cpu_ns / 1e9, (double) cor.rss_kb / 1024);
        const ag_correlate_stats_t *c = &cor.cor;
        printf ("    correlation: %llu findings, %llu incidents, %llu not travelling, %llu "
                "allowlisted, %llu over quota, %llu quarantines; %llu sightings in %llu groups; "
                "%llu warnings (R1 %llu, R2 %llu, R3 %llu, R4 %llu times), %llu notices, %llu "
                "held for digests\n",
                (unsigned long long) c->findings, (unsigned long long) c->incidents,
                (unsigned long long) c->local_category, (unsigned long long) c->allowlisted,
                (unsigned long long) c->quota_refused, (unsigned long long) c->quarantines,
                (unsigned long long) c->sightings, (unsigned long long) c->indicators,
                (unsigned long long) c->warnings, (unsigned long long) c->rule[1],
                (unsigned long long) c->rule[2], (unsigned long long) c->rule[3],
                (unsigned long long) c->rule[4], (unsigned long long) c->notices,
                (unsigned long long) c->digested);
        printf ("    down: %llu WARNING + %llu WATCHLIST messages queued for each of 2 brokers "
                "(store's b-kanto queue: %llu), %llu INCIDENTs, %llu synced writes\n",
                (unsigned long long) cor.lat.warnings, (unsigned long long) cor.lat.watchlists,
                (unsigned long long) cor.down_last, (unsigned long long) cor.lat.incidents,
                (unsigned long long) cor.lat.commits);
        printf ("  correlation alone (decode + ag_correlate_event, no store): %.0f findings/s "
                "(%.2f s; decode alone %.2f s); its flush and tick between rounds %.2f s more\n\n",
                res->alone_rate, t_dc, t_dec, t_rounds);
        if (cor.down_last != cor.lat.warnings + cor.lat.watchlists) {
            fprintf (stderr,
                     "bench_lateral: %llu down messages in the store, %llu WARNING + %llu "
                     "WATCHLIST queued\n",
                     (unsigned long long) cor.down_last, (unsigned long long) cor.lat.warnings,
                     (unsigned long long) cor.lat.watchlists);
            rc = -1;
        }
    }
    else if (rc == 0)
        rc = -1;
    fflush (stdout);
    free (ref.wall);
    free (ref.cpu);
    s_feed_free (feed);
    free (feed);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Part 2, child: the 1,000 sensors (sn_uplink each), the hits, the receipts

typedef struct {
    long s, n;  //  recipient company, hit number
    uint32_t revision;
    int64_t lat_us;
} s_rx_t;

typedef struct {
    s_rx_t *rx;
    size_t n_rx, max_rx;
    uint64_t foreign;  //  warnings about something else than a hit
    uint64_t watchlists;
} s_rxlog_t;

typedef struct {
    s_rxlog_t *log;
    long s;
} s_uparg_t;

static void
s_on_warning (void *arg, const mm_warning_t *w)
{
    uint64_t now = s_wall_ns ();
    s_uparg_t *a = (s_uparg_t *) arg;
    s_rxlog_t *log = a->log;
    char value[128];
    snprintf (value, sizeof value, "%.*s", (int) w->indicator.value.len, w->indicator.value.ptr);
    long n;
    char tail[128];
    if (sscanf (value, "c2-%ld.%127s", &n, tail) != 2 || n < 0) {
        log->foreign++;
        return;
    }
    if (log->n_rx == log->max_rx) {
        size_t max = log->max_rx ? log->max_rx * 2 : 1024;
        s_rx_t *p = realloc (log->rx, max * sizeof *p);
        if (!p)
            return;
        log->rx = p;
        log->max_rx = max;
    }
    log->rx[log->n_rx++] =
        (s_rx_t){a->s, n, w->revision, ((int64_t) now - (int64_t) w->evidence.last_seen) / 1000};
}

static int
s_on_watchlist (void *arg, const mm_watchlist_t *wl)
{
    (void) wl;
    ((s_uparg_t *) arg)->log->watchlists++;
    return 0;
}

//  True once our parent has closed our stdin (it is gone, or tells us to stop).
static bool
s_orphaned (void)
{
    struct pollfd p = {0, POLLIN, 0};
    if (poll (&p, 1, 0) != 1)
        return false;
    char c;
    return read (0, &c, 1) <= 0;
}

//  The four SOC consoles (one per provider and region) of the sensors' child: they say hello
//  every 500 ms and time each INCIDENT from the finding's own time to its receipt.
typedef struct {
    mm_curve_client_t *c[4];
    mm_cert_t *cert[4];
    mm_cert_t *server;
    int64_t next_hello;
    int64_t *lat_us;
    size_t n, max;
    long wrong;  //  an INCIDENT for a company of another provider or region
} s_consoles_t;

static int
s_consoles_open (s_consoles_t *con, const char *run, const char *ep)
{
    char path[S_PATH], err[256];
    snprintf (path, sizeof path, "%s/keys/centre.cert", run);
    con->server = mm_cert_load (path, err, sizeof err);
    for (int c = 0; con->server && c < 4; c++) {
        snprintf (path, sizeof path, "%s/keys/soc-%d.cert_secret", run, c);
        con->cert[c] = mm_cert_load (path, err, sizeof err);
        con->c[c] = con->cert[c]
                        ? mm_curve_client_new (ep, con->cert[c], mm_cert_public_txt (con->server))
                        : NULL;
        if (!con->c[c])
            break;
        zsock_set_rcvtimeo (mm_curve_client_sock (con->c[c]), 0);
    }
    if (!con->server || !con->c[3]) {
        fprintf (stderr, "bench_lateral: consoles: %s\n", err);
        return -1;
    }
    return 0;
}

static void
s_consoles_poll (s_consoles_t *con)
{
    bool hello = zclock_mono () >= con->next_hello;
    if (hello)
        con->next_hello = zclock_mono () + 500;
    for (int c = 0; c < 4; c++) {
        if (hello) {
            mm_ack_t ack = {.ts = s_wall_ns (),
                            .sensor = mm_str (mm_cert_identity (con->cert[c])->id),
                            .seq = s_wall_ns ()};  //  nothing from before: no catch-up
            mm_buf_t b = MM_BUF_INIT;
            mm_error_t e;
            if (mm_ack_encode (&ack, &b, &e) == 0)
                mm_curve_client_send (con->c[c], b.data, b.len);
            mm_buf_free (&b);
        }
        zframe_t *f;
        while ((f = mm_curve_client_recv (con->c[c]))) {
            uint64_t now = s_wall_ns ();
            mm_incident_t inc;
            mm_error_t e;
            if (mm_incident_decode (&inc, zframe_data (f), zframe_size (f), &e) == 0) {
                const mm_identity_t *id = mm_cert_identity (con->cert[c]);
                if (!mm_str_eq (inc.provider, id->org) || !mm_str_eq (inc.region, id->region))
                    con->wrong++;
                if (con->n == con->max) {
                    size_t max = con->max ? con->max * 2 : 1024;
                    int64_t *p = realloc (con->lat_us, max * sizeof *p);
                    if (p)
                        con->lat_us = p, con->max = max;
                }
                if (con->n < con->max)
                    con->lat_us[con->n++] = ((int64_t) now - (int64_t) inc.seen) / 1000;
            }
            zframe_destroy (&f);
        }
    }
}

static void
s_consoles_report (s_consoles_t *con, long expected)
{
    qsort (con->lat_us, con->n, sizeof *con->lat_us, s_cmp_i64);
    size_t n = con->n;
    int64_t q[4] = {0, 0, 0, 0};
    if (n) {
        q[0] = con->lat_us[(size_t) (0.50 * (double) (n - 1) + 0.5)];
        q[1] = con->lat_us[(size_t) (0.90 * (double) (n - 1) + 0.5)];
        q[2] = con->lat_us[(size_t) (0.99 * (double) (n - 1) + 0.5)];
        q[3] = con->lat_us[n - 1];
    }
    printf (" incidents received=%zu expected=%ld wrong_console=%ld p50_us=%lld p90_us=%lld "
            "p99_us=%lld max_us=%lld\n",
            n, expected, con->wrong, (long long) q[0], (long long) q[1], (long long) q[2],
            (long long) q[3]);
    fflush (stdout);
}

static void
s_consoles_close (s_consoles_t *con)
{
    for (int c = 0; c < 4; c++) {
        mm_curve_client_destroy (&con->c[c]);
        mm_cert_destroy (&con->cert[c]);
    }
    mm_cert_destroy (&con->server);
    free (con->lat_us);
}

//  sensors RUN KANTO_EP KINKI_EP RATE SECONDS EXPECTED CONSOLE_EP
//  Prints " ready ..." once every uplink is connected (its first heartbeat has left), then
//  publishes the hits, then one " rx ..." line per warning received and " done ...".
static int
s_child_sensors (char **argv)
{
    const char *run = argv[0], *ep[2] = {argv[1], argv[2]}, *con_ep = argv[6];
    long rate, seconds, expected;
    if (s_parse_long (argv[3], 1, 10000, &rate) || s_parse_long (argv[4], 1, 3600, &seconds) ||
        s_parse_long (argv[5], 0, 100000000, &expected))
        return 2;
    zsys_set_logstream (stderr);
    //  An uplink is a DEALER and the two PAIRs of its connection monitor, and a spool: about 6
    //  fds; CZMQ's default is 1,024 sockets a context.
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    zsys_set_max_sockets (3 * S_ORGS + 64);
    s_consoles_t con = {0};
    if (s_consoles_open (&con, run, con_ep) == -1)
        return 1;
    sn_uplink_t **up = calloc (S_ORGS, sizeof *up);
    s_uparg_t *args = calloc (S_ORGS, sizeof *args);
    s_rxlog_t log = {0};
    int rc = 1;
    if (!up || !args)
        goto done;
    uint64_t tc = s_mono_ns ();
    for (long i = 0; i < S_ORGS; i++) {
        char name[32], cert[S_PATH], bcert[S_PATH], spool[S_PATH];
        s_sensor_name (name, sizeof name, i);
        int b = s_in_kanto (i) ? 0 : 1;
        snprintf (cert, sizeof cert, "%s/keys/%s.cert_secret", run, name);
        snprintf (bcert, sizeof bcert, "%s/keys/%s.cert", run, b == 0 ? S_KANTO : S_KINKI);
        snprintf (spool, sizeof spool, "%s/spool/%s", run, name);
        args[i] = (s_uparg_t){&log, i};
        sn_uplink_config_t cfg = {.endpoint = ep[b],
                                  .broker_cert = bcert,
                                  .cert = cert,
                                  .spool_dir = spool,
                                  .version = "bench",
                                  .on_watchlist = s_on_watchlist,
                                  .on_warning = s_on_warning,
                                  .arg = &args[i]};
        up[i] = sn_uplink_new (&cfg);
        if (!up[i])
            goto done;
    }
    double create_s = (double) (s_mono_ns () - tc) / 1e9;
    //  Connected = the first heartbeat has left (with ZMQ_IMMEDIATE a send succeeds only on a
    //  connection whose CURVE handshake is done). Then a second more, so that each broker has
    //  taken every heartbeat and knows where to deliver.
    uint64_t until = s_mono_ns () + (uint64_t) S_WAIT_MS * 1000000u;
    for (long ready = 0; ready < S_ORGS;) {
        ready = 0;
        for (long i = 0; i < S_ORGS; i++) {
            sn_uplink_poll (up[i], 0, 0, NULL);
            sn_uplink_stats_t st;
            sn_uplink_stats (up[i], &st);
            ready += st.heartbeats > 0;
        }
        if (s_mono_ns () > until || s_orphaned ()) {
            fprintf (stderr, "bench_lateral: %ld of %d sensors connected in time\n", ready, S_ORGS);
            goto done;
        }
        s_sleep_ns (S_SWEEP_NS);
    }
    double connect_s = (double) (s_mono_ns () - tc) / 1e9 - create_s;
    for (uint64_t settle = s_mono_ns () + 1000000000u; s_mono_ns () < settle;) {
        for (long i = 0; i < S_ORGS; i++)
            sn_uplink_poll (up[i], 0, 0, NULL);
        s_sleep_ns (S_SWEEP_NS);
    }
    printf (" ready create_s=%.3f connect_s=%.3f\n", create_s, connect_s);
    fflush (stdout);

    //  The hits: hit n is due at t0 + n / rate; whatever is due is published, every uplink is
    //  polled (its ACKs, its warnings), then the loop sleeps until the next sweep.
    mm_event_t tmpl, ev;
    mm_sample_finding (&tmpl);
    tmpl.sensor = mm_str ("");
    tmpl.org = mm_str ("");  //  the uplink fills them from the certificate
    tmpl.severity = MM_SEV_HIGH;
    tmpl.confidence = 90;
    tmpl.finding.category = MM_CAT_C2_BEACON;
    tmpl.finding.ioc.type = MM_IOC_DOMAIN;
    tmpl.finding.ioc.feed = mm_str ("bench-feed");
    long total = rate * seconds, published = 0;
    double cpu0 = s_cpu_self (), sweep_max = 0, sweep_sum = 0;
    long sweeps = 0;
    uint64_t t0 = s_mono_ns (), t_last = 0, next_check = 0;
    until = t0 + (uint64_t) seconds * 1000000000u + (uint64_t) S_DRAIN_MS * 1000000u;
    for (;;) {
        uint64_t now = s_mono_ns ();
        long due = (long) ((double) (now - t0) * (double) rate / 1e9) + 1;
        while (published < total && published < due) {
            char value[128];
            //  Its own registered domain, so each hit is a warning of its own (one name under
            //  one registered domain would be one indicator group, one warning revised).
            snprintf (value, sizeof value, "c2-%ld.badexample-%ld.net", published, published);
            ev = tmpl;
            ev.finding.ioc.value = mm_str (value);
            ev.finding.id = (uint64_t) published + 1;
            ev.ts = s_wall_ns ();
            if (sn_uplink_publish (up[s_hit_org (published)], &ev) == -1)
                goto done;
            sn_uplink_poll (up[s_hit_org (published)], 0, 0, NULL);
            published++;
            if (published == total)
                t_last = s_mono_ns ();
        }
        s_consoles_poll (&con);
        uint64_t s0 = s_mono_ns ();
        for (long i = 0; i < S_ORGS; i++)
            sn_uplink_poll (up[i], 0, 0, NULL);
        double sweep = (double) (s_mono_ns () - s0) / 1e6;
        sweep_sum += sweep;
        sweeps++;
        if (sweep > sweep_max)
            sweep_max = sweep;
        size_t firsts = 0;
        for (size_t i = 0; i < log.n_rx; i++)
            firsts += log.rx[i].revision == 1;
        //  Done: everything expected came and one more second passed (for any extra copy).
        if (published == total && firsts >= (size_t) expected && !next_check)
            next_check = s_mono_ns () + 1000000000u;
        if ((next_check && s_mono_ns () >= next_check) || s_mono_ns () > until)
            break;
        if (sweeps % 50 == 0 && s_orphaned ())
            goto done;
        uint64_t next =
            published < total ? t0 + (uint64_t) ((double) published * 1e9 / (double) rate) : 0;
        now = s_mono_ns ();
        s_sleep_ns (next > now && next - now < S_SWEEP_NS ? next - now : S_SWEEP_NS);
    }
    double cpu = s_cpu_self () - cpu0;
    for (size_t i = 0; i < log.n_rx; i++)
        printf (" rx s=%ld n=%ld rev=%u lat_us=%lld\n", log.rx[i].s, log.rx[i].n,
                log.rx[i].revision, (long long) log.rx[i].lat_us);
    s_consoles_report (&con, total);
    sn_uplink_stats_t sum = {0};
    for (long i = 0; i < S_ORGS; i++) {
        sn_uplink_stats_t st;
        sn_uplink_stats (up[i], &st);
        sum.resent += st.resent, sum.timeouts += st.timeouts, sum.down_repeats += st.down_repeats;
        sum.heartbeats += st.heartbeats, sum.acked += st.acked;
    }
    printf (" done published=%ld acked=%llu warnings=%zu foreign=%llu watchlists=%llu "
            "drain_s=%.3f sweep_avg_ms=%.3f sweep_max_ms=%.3f cpu=%.3f resent=%llu "
            "down_repeats=%llu heartbeats=%llu\n",
            published, (unsigned long long) sum.acked, log.n_rx, (unsigned long long) log.foreign,
            (unsigned long long) log.watchlists,
            t_last ? (double) (s_mono_ns () - t_last) / 1e9 : -1, sweep_sum / (double) sweeps,
            sweep_max, cpu, (unsigned long long) sum.resent, (unsigned long long) sum.down_repeats,
            (unsigned long long) sum.heartbeats);
    fflush (stdout);
    rc = 0;
done:
    for (long i = 0; up && i < S_ORGS; i++)
        sn_uplink_destroy (&up[i]);
    free (up);
    free (args);
    free (log.rx);
    s_consoles_close (&con);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Part 2, orchestrator

typedef struct {
    char self[S_DIR];        //  this binary (the sensors' child is it, run again)
    char broker[S_DIR];      //  mimamori-broker
    char aggregator[S_DIR];  //  mimamori-aggregator
    char allow[S_DIR];       //  aggregator/allowlists
    char run[S_DIR];         //  working directory of this run
    char registry[S_PATH];
    long rate, seconds;
    s_ingest_opts_t ingest;
} s_opts_t;

typedef struct {
    long hits, expected, received, missing, unexpected, duplicates, later_revisions;
    long notice_burst;  //  as configured
    int64_t p50_us, p90_us, p99_us, max_us;
    double cpu_agg, cpu_kanto, cpu_kinki, cpu_sensors, wall_s;
    char child[S_LINE];      //  the sensors' " done" line
    char incidents[S_LINE];  //  the consoles' " incidents" line
    char corr[512];          //  the aggregator's correlation summary, shortened
    long long agg_warnings, agg_watchlists;
    bool ok;
} s_latency_t;

static int
s_make_keys (const s_opts_t *o)
{
    char path[S_PATH], err[256], name[32], org[32];
    const char *sub[] = {"keys", "brokers", "sensors-kanto", "sensors-kinki", "spool"};
    for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
        snprintf (path, sizeof path, "%s/%s", o->run, sub[i]);
        if (mkdir (path, 0700) == -1)
            return -1;
    }
    snprintf (path, sizeof path, "%s/keys", o->run);
    mm_cert_t *agg = mm_cert_new (MM_ROLE_AGGREGATOR, "centre", NULL, NULL, err, sizeof err);
    int rc = agg && mm_cert_save_pair (agg, path, false, err, sizeof err) == 0 ? 0 : -1;
    mm_cert_destroy (&agg);
    for (int b = 0; rc == 0 && b < 2; b++) {
        const char *id = b == 0 ? S_KANTO : S_KINKI;
        mm_cert_t *br =
            mm_cert_new (MM_ROLE_BROKER, id, NULL, b == 0 ? "kanto" : "kinki", err, sizeof err);
        snprintf (path, sizeof path, "%s/keys", o->run);
        rc = br && mm_cert_save_pair (br, path, false, err, sizeof err) == 0 ? 0 : -1;
        snprintf (path, sizeof path, "%s/brokers/%s.cert", o->run, id);
        if (rc == 0 && mm_cert_save_public (br, path, false, err, sizeof err) == -1)
            rc = -1;
        mm_cert_destroy (&br);
    }
    for (long i = 0; rc == 0 && i < S_ORGS; i++) {
        s_sensor_name (name, sizeof name, i);
        s_org_name (org, sizeof org, i);
        bool kanto = s_in_kanto (i);
        mm_cert_t *s =
            mm_cert_new (MM_ROLE_SENSOR, name, org, kanto ? "kanto" : "kinki", err, sizeof err);
        snprintf (path, sizeof path, "%s/keys", o->run);
        rc = s && mm_cert_save_pair (s, path, false, err, sizeof err) == 0 ? 0 : -1;
        snprintf (path, sizeof path, "%s/sensors-%s/%s.cert", o->run, kanto ? "kanto" : "kinki",
                  name);
        if (rc == 0 && mm_cert_save_public (s, path, false, err, sizeof err) == -1)
            rc = -1;
        mm_cert_destroy (&s);
    }
    //  One SOC console per (provider, region): each gets only its own companies' INCIDENTs.
    snprintf (path, sizeof path, "%s/consoles", o->run);
    if (rc == 0 && mkdir (path, 0700) == -1)
        rc = -1;
    for (int c = 0; rc == 0 && c < 4; c++) {
        snprintf (name, sizeof name, "soc-%d", c);
        mm_cert_t *con = mm_cert_new (MM_ROLE_CONSOLE, name, c % 2 ? "p-west" : "p-east",
                                      c / 2 ? "kinki" : "kanto", err, sizeof err);
        snprintf (path, sizeof path, "%s/keys", o->run);
        rc = con && mm_cert_save_pair (con, path, false, err, sizeof err) == 0 ? 0 : -1;
        snprintf (path, sizeof path, "%s/consoles/%s.cert", o->run, name);
        if (rc == 0 && mm_cert_save_public (con, path, false, err, sizeof err) == -1)
            rc = -1;
        mm_cert_destroy (&con);
    }
    if (rc == -1)
        fprintf (stderr, "bench_lateral: keys: %s\n", err);
    return rc;
}

//  The rest of the first line of `log` that starts with `prefix` (trailing newline dropped).
//  0, or -1.
static int
s_log_value (const char *log, const char *prefix, char *out, size_t size)
{
    FILE *f = fopen (log, "r");
    if (!f)
        return -1;
    char line[S_LINE];
    int rc = -1;
    while (rc == -1 && fgets (line, sizeof line, f))
        if (strncmp (line, prefix, strlen (prefix)) == 0) {
            const char *v = line + strlen (prefix);
            size_t n = strcspn (v, "\r\n");
            if (n < size) {
                memcpy (out, v, n);
                out[n] = '\0';
                rc = 0;
            }
        }
    fclose (f);
    return rc;
}

//  Starts a daemon whose configuration `ini` names "PORT" where its port goes, on a random
//  free port in 20000-31999 (a taken one is skipped: the daemon exits). Its pid, or -1.
static pid_t
s_start_daemon (const char *bin, const char *name, const char *ini_text, const char *ini,
                const char *log, char *ep, size_t ep_size)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int port = 20000 + (int) (random () % 12000);
        char text[4 * S_PATH];
        const char *at = strstr (ini_text, "PORT");
        snprintf (text, sizeof text, "%.*s%d%s", (int) (at - ini_text), ini_text, port, at + 4);
        if (s_write_file (ini, text, strlen (text)) == -1)
            return -1;
        char *argv[] = {(char *) bin, "-c", (char *) ini, NULL};
        pid_t pid = s_spawn (argv, NULL, NULL, log);
        if (pid == -1)
            return -1;
        char what[128];
        snprintf (what, sizeof what, "%s: listening on ", name);
        if (s_wait_log (log, pid, what, 30000) == 0) {
            snprintf (ep, ep_size, "tcp://127.0.0.1:%d", port);
            return pid;
        }
        if (waitpid (pid, NULL, WNOHANG) == 0) {  //  alive but silent: give up
            kill (pid, SIGKILL);
            s_reap (pid, 1000);
            return -1;
        }
        s_track (pid, false);
    }
    return -1;
}

typedef struct {
    long n, s;
} s_pair_t;

static int
s_cmp_pair (const void *a, const void *b)
{
    const s_pair_t *x = a, *y = b;
    if (x->n != y->n)
        return (x->n > y->n) - (x->n < y->n);
    return (x->s > y->s) - (x->s < y->s);
}

static int64_t
s_quantile (const int64_t *v, size_t n, double q)
{
    return n ? v[(size_t) (q * (double) (n - 1) + 0.5)] : 0;
}

static int
s_part_latency (const s_opts_t *o, s_latency_t *r)
{
    memset (r, 0, sizeof *r);
    r->hits = o->rate * o->seconds;
    char err[4096];
    ag_registry_t *reg = ag_registry_load (o->registry, err, sizeof err, NULL);
    if (!reg) {
        fprintf (stderr, "bench_lateral: the registry does not load:\n%s\n", err);
        return -1;
    }
    //  Who must hear of each hit: R1 warns the hit company's direct partners (the finding is
    //  severe, its confidence 90 >= 80); R2-R4 need a second company to see the same
    //  indicator, and each hit's indicator is new.
    s_pair_t *want = calloc ((size_t) r->hits * 8 + 1, sizeof *want);
    long *per = calloc (S_ORGS, sizeof *per);
    s_pair_t *got = NULL;
    int64_t *lat = NULL;
    pid_t agg = -1, kanto = -1, kinki = -1, child = -1;
    int sin = -1, sout = -1, rc = -1;
    if (!want || !per)
        goto done;
    for (long n = 0; n < r->hits; n++) {
        long p[8];
        size_t np = s_partners (reg, s_hit_org (n), p, 8);
        for (size_t i = 0; i < np; i++) {
            want[r->expected++] = (s_pair_t){n, p[i]};
            per[p[i]]++;
        }
    }
    long most = 0;
    for (long i = 0; i < S_ORGS; i++)
        most = per[i] > most ? per[i] : most;
    //  ag_correlate lets a company have S_NOTICE_BURST warnings at once and holds more for its
    //  digest (600 s): a run that would give some company more raises the burst to that many.
    r->notice_burst = most > S_NOTICE_BURST ? (most < 10000 ? most : 10000) : 0;
    qsort (want, (size_t) r->expected, sizeof *want, s_cmp_pair);

    char ini[S_PATH], log_agg[S_PATH], log_kanto[S_PATH], log_kinki[S_PATH];
    char agg_ep[256], kanto_ep[256], kinki_ep[256], text[4 * S_PATH];
    snprintf (ini, sizeof ini, "%s/aggregator.ini", o->run);
    snprintf (log_agg, sizeof log_agg, "%s/aggregator.log", o->run);
    snprintf (log_kanto, sizeof log_kanto, "%s/%s.log", o->run, S_KANTO);
    snprintf (log_kinki, sizeof log_kinki, "%s/%s.log", o->run, S_KINKI);
    int n = snprintf (text, sizeof text,
                      "[aggregator]\nid = centre\nstats_s = 3600\n"
                      "[brokers]\nbind = tcp://127.0.0.1:PORT\ncert_dir = %s/brokers\n"
                      "[keys]\ncert_secret = %s/keys/centre.cert_secret\n"
                      "[store]\npath = %s/aggregator-store\n"
                      "[registry]\npath = %s\n"
                      "[consoles]\nbind = tcp://127.0.0.1:*\ncert_dir = %s/consoles\n"
                      "[correlate]\nallowlists = %s\n",
                      o->run, o->run, o->run, o->registry, o->run, o->allow);
    if (r->notice_burst && n > 0 && (size_t) n < sizeof text)
        snprintf (text + n, sizeof text - (size_t) n, "notice_burst = %ld\n", r->notice_burst);
    agg = s_start_daemon (o->aggregator, "mimamori-aggregator", text, ini, log_agg, agg_ep,
                          sizeof agg_ep);
    if (agg == -1) {
        fprintf (stderr, "bench_lateral: the aggregator did not start (see %s)\n", log_agg);
        goto done;
    }
    for (int b = 0; b < 2; b++) {
        const char *id = b == 0 ? S_KANTO : S_KINKI;
        snprintf (ini, sizeof ini, "%s/%s.ini", o->run, id);
        snprintf (text, sizeof text,
                  "[broker]\nid = %s\nregion = %s\nstats_s = 3600\n"
                  "[sensors]\nbind = tcp://127.0.0.1:PORT\ncert_dir = %s/sensors-%s\n"
                  "[keys]\ncert_secret = %s/keys/%s.cert_secret\n"
                  "[store]\npath = %s/%s-store\n"
                  "[aggregator]\nendpoint = %s\naggregator_cert = %s/keys/centre.cert\n",
                  id, b == 0 ? "kanto" : "kinki", o->run, b == 0 ? "kanto" : "kinki", o->run, id,
                  o->run, id, agg_ep, o->run);
        pid_t pid =
            s_start_daemon (o->broker, "mimamori-broker", text, ini, b == 0 ? log_kanto : log_kinki,
                            b == 0 ? kanto_ep : kinki_ep, 256);
        if (pid == -1) {
            fprintf (stderr, "bench_lateral: broker %s did not start (see %s)\n", id,
                     b == 0 ? log_kanto : log_kinki);
            goto done;
        }
        *(b == 0 ? &kanto : &kinki) = pid;
    }
    //  A down message queued before a broker registered is not sent to it.
    if (s_wait_log (log_agg, agg, "broker " S_KANTO " registered", 30000) == -1 ||
        s_wait_log (log_agg, agg, "broker " S_KINKI " registered", 30000) == -1) {
        fprintf (stderr, "bench_lateral: the brokers did not register (see %s)\n", log_agg);
        goto done;
    }
    char rate_s[32], seconds_s[32], expected_s[32], line[S_LINE];
    snprintf (rate_s, sizeof rate_s, "%ld", o->rate);
    snprintf (seconds_s, sizeof seconds_s, "%ld", o->seconds);
    snprintf (expected_s, sizeof expected_s, "%ld", r->expected);
    char child_log[S_PATH];
    snprintf (child_log, sizeof child_log, "%s/sensors.log", o->run);
    char con_ep[256];
    if (s_log_value (log_agg, "mimamori-aggregator: consoles on ", con_ep, sizeof con_ep) == -1) {
        fprintf (stderr, "bench_lateral: the aggregator has no console endpoint (see %s)\n",
                 log_agg);
        goto done;
    }
    char *argv[] = {(char *) o->self, "--child", "sensors",  (char *) o->run, kanto_ep, kinki_ep,
                    rate_s,           seconds_s, expected_s, con_ep,          NULL};
    child = s_spawn (argv, &sin, &sout, child_log);
    if (child == -1)
        goto done;
    if (s_read_line (sout, line, sizeof line, 2 * S_WAIT_MS) == -1 || !strstr (line, "ready")) {
        fprintf (stderr, "bench_lateral: the sensors did not all connect (see %s)\n", child_log);
        goto done;
    }
    printf ("latency: %d sensors connected through 2 brokers (uplinks made in %.2f s, all "
            "connected %.2f s later); %ld hits at %ld/s for %ld s, %ld warnings expected%s\n",
            S_ORGS, s_kv (line, "create_s"), s_kv (line, "connect_s"), r->hits, o->rate, o->seconds,
            r->expected, r->notice_burst ? " (notice_burst raised)" : "");
    fflush (stdout);
    double c_agg = s_cpu_of (agg), c_kanto = s_cpu_of (kanto), c_kinki = s_cpu_of (kinki);
    uint64_t t0 = s_mono_ns ();
    got = calloc ((size_t) r->expected * 2 + 1024, sizeof *got);
    lat = calloc ((size_t) r->expected * 2 + 1024, sizeof *lat);
    size_t n_got = 0, max_got = (size_t) r->expected * 2 + 1024;
    while (got && lat) {
        if (s_read_line (sout, line, sizeof line,
                         (int) (o->seconds * 1000 + S_DRAIN_MS + S_WAIT_MS)) == -1) {
            fprintf (stderr, "bench_lateral: no report from the sensors (see %s)\n", child_log);
            goto done;
        }
        if (strncmp (line, " done", 5) == 0)
            break;
        if (strncmp (line, " incidents", 10) == 0) {
            snprintf (r->incidents, sizeof r->incidents, "%s", line + 1);
            continue;
        }
        if (strncmp (line, " rx ", 4) != 0 || n_got == max_got)
            continue;
        if (s_kv (line, "rev") != 1) {
            r->later_revisions++;
            continue;
        }
        got[n_got] = (s_pair_t){(long) s_kv (line, "n"), (long) s_kv (line, "s")};
        const char *p = strstr (line, " lat_us=");
        lat[n_got++] = p ? strtoll (p + 8, NULL, 10) : 0;
    }
    r->wall_s = (double) (s_mono_ns () - t0) / 1e9;
    r->cpu_agg = s_cpu_of (agg) - c_agg;
    r->cpu_kanto = s_cpu_of (kanto) - c_kanto;
    r->cpu_kinki = s_cpu_of (kinki) - c_kinki;
    snprintf (r->child, sizeof r->child, "%s", line);
    r->cpu_sensors = s_kv (line, "cpu");
    close (sin);
    sin = -1;
    if (s_reap (child, 30000) != 0) {
        fprintf (stderr, "bench_lateral: the sensors' child failed (see %s)\n", child_log);
        child = -1;
        goto done;
    }
    child = -1;
    //  Receipts against expectations: each (hit, recipient) once, nothing else.
    s_pair_t *sorted = calloc (n_got + 1, sizeof *sorted);
    if (!sorted)
        goto done;
    memcpy (sorted, got, n_got * sizeof *got);
    qsort (sorted, n_got, sizeof *sorted, s_cmp_pair);
    size_t i = 0, j = 0;
    while (i < (size_t) r->expected || j < n_got) {
        int c = i == (size_t) r->expected ? 1 : j == n_got ? -1 : s_cmp_pair (&want[i], &sorted[j]);
        if (c < 0) {
            r->missing++, i++;
            continue;
        }
        if (c > 0) {
            r->unexpected++, j++;
            continue;
        }
        r->received++, i++, j++;
        while (j < n_got && s_cmp_pair (&want[i - 1], &sorted[j]) == 0)
            r->duplicates++, j++;
    }
    free (sorted);
    qsort (lat, n_got, sizeof *lat, s_cmp_i64);
    r->p50_us = s_quantile (lat, n_got, 0.5);
    r->p90_us = s_quantile (lat, n_got, 0.9);
    r->p99_us = s_quantile (lat, n_got, 0.99);
    r->max_us = n_got ? lat[n_got - 1] : 0;
    int arc = s_stop (&agg, 15000), krc = s_stop (&kanto, 15000), nrc = s_stop (&kinki, 15000);
    char *t = s_read_file (log_agg);
    if (t) {
        const char *c = strstr (t, "correlation: ");
        for (const char *q = c; q && (q = strstr (q + 1, "correlation: ")) != NULL;)
            c = q;  //  the summary at exit
        if (c)
            snprintf (r->corr, sizeof r->corr, "%.*s", (int) strcspn (c, ";\n"), c);
        r->agg_warnings = s_num_before (t, "WARNING,");
        r->agg_watchlists = s_num_before (t, "WATCHLIST;");
    }
    free (t);
    r->ok = r->received == r->expected && r->missing == 0 && r->unexpected == 0 &&
            r->duplicates == 0 && arc == 0 && krc == 0 && nrc == 0;
    if (arc || krc || nrc)
        fprintf (stderr, "bench_lateral: daemons exited with %d (aggregator), %d, %d (brokers)\n",
                 arc, krc, nrc);
    rc = r->ok ? 0 : -1;
done:
    if (sin != -1)
        close (sin);
    if (sout != -1)
        close (sout);
    if (child != -1) {
        kill (child, SIGKILL);
        s_reap (child, 5000);
    }
    s_stop (&agg, 5000);
    s_stop (&kanto, 5000);
    s_stop (&kinki, 5000);
    free (want);
    free (per);
    free (got);
    free (lat);
    ag_registry_destroy (&reg);
    return rc;
}

//  ---------------------------------------------------------------------------------------------

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: bench_lateral [options] [ingest] [latency]   (default: both)\n"
             "  --broker PATH      mimamori-broker (default: ../../broker/ from here)\n"
             "  --aggregator PATH  mimamori-aggregator (default: ../../aggregator/ from here)\n"
             "  --allowlists DIR   the allowlists (default: the source tree's)\n"
             "  --dir DIR          parent of the working directory (default: $TMPDIR or /tmp)\n"
             "  --keep             keep the working directory (daemons' logs, stores)\n"
             "  ingest:  --findings N (1000000)  --pool P (50000)  --fresh PCT (5)\n"
             "           --uniform (draw the pool uniformly, not Zipf-like)\n"
             "           --budget S (90: the correlated ingest stops after the round that "
             "passes S s)\n"
             "  latency: --rate R hits/s (20)  --seconds T (20)\n");
}

static const char *
s_goal (bool met)
{
    return met ? "**met**" : "**not met**";
}

int
main (int argc, char **argv)
{
    if (argc > 2 && strcmp (argv[1], "--child") == 0) {
        if (strcmp (argv[2], "sensors") == 0 && argc == 10)
            return s_child_sensors (argv + 3);
        fprintf (stderr, "bench_lateral: bad child arguments\n");
        return 2;
    }
    s_opts_t o = {.rate = 20,
                  .seconds = 20,
                  .ingest = {.findings = 1000000, .pool = 50000, .fresh_pct = 5, .budget_s = 90}};
    bool part[2] = {false, false}, keep = false;
    const char *parts[2] = {"ingest", "latency"};
    const char *parent = getenv ("TMPDIR") && *getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    ssize_t sl = readlink ("/proc/self/exe", o.self, sizeof o.self - 1);
    if (sl <= 0)
        return 1;
    o.self[sl] = 0;
    int dl = (int) (strrchr (o.self, '/') - o.self);
    snprintf (o.broker, sizeof o.broker, "%.*s/../../broker/mimamori-broker", dl, o.self);
    snprintf (o.aggregator, sizeof o.aggregator, "%.*s/../../aggregator/mimamori-aggregator", dl,
              o.self);
    snprintf (o.allow, sizeof o.allow, "%s", MM_ALLOWLISTS);
    for (int i = 1; i < argc; i++) {
        struct {
            const char *flag;
            long *v, lo, hi;
        } nums[] = {{"--findings", &o.ingest.findings, 1, 100000000},
                    {"--pool", &o.ingest.pool, 1, 10000000},
                    {"--fresh", &o.ingest.fresh_pct, 0, 100},
                    {"--budget", &o.ingest.budget_s, 1, 86400},
                    {"--rate", &o.rate, 1, 1000},
                    {"--seconds", &o.seconds, 1, 600}};
        struct {
            const char *flag;
            char *v;
        } strs[] = {{"--broker", o.broker},
                    {"--aggregator", o.aggregator},
                    {"--allowlists", o.allow},
                    {"--dir", NULL}};
        bool known = false;
        for (size_t j = 0; j < sizeof nums / sizeof nums[0] && !known; j++)
            if (strcmp (argv[i], nums[j].flag) == 0) {
                if (i + 1 >= argc ||
                    s_parse_long (argv[++i], nums[j].lo, nums[j].hi, nums[j].v) == -1) {
                    s_usage ();
                    return 2;
                }
                known = true;
            }
        for (size_t j = 0; j < sizeof strs / sizeof strs[0] && !known; j++)
            if (strcmp (argv[i], strs[j].flag) == 0 && i + 1 < argc) {
                if (strs[j].v)
                    snprintf (strs[j].v, S_DIR, "%s", argv[++i]);
                else
                    parent = argv[++i];
                known = true;
            }
        if (!known && strcmp (argv[i], "--uniform") == 0)
            o.ingest.uniform = known = true;
        if (!known && strcmp (argv[i], "--keep") == 0)
            keep = known = true;
        for (int j = 0; j < 2 && !known; j++)
            if (strcmp (argv[i], parts[j]) == 0)
                part[j] = known = true;
        if (!known) {
            s_usage ();
            return 2;
        }
    }
    if (!part[0] && !part[1])
        part[0] = part[1] = true;
    if (part[1] && (access (o.broker, X_OK) == -1 || access (o.aggregator, X_OK) == -1)) {
        fprintf (stderr, "bench_lateral: %s or %s: not found (give --broker, --aggregator)\n",
                 o.broker, o.aggregator);
        return 2;
    }
    //  Our own handler, not CZMQ's (which only sets a flag): children die with us.
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction (SIGPIPE, &sa, NULL);
    atexit (s_kill_children);
    zsys_set_logstream (stderr);
    srandom ((unsigned) getpid ());
    snprintf (o.run, sizeof o.run, "%s/mm-bench-lateral-XXXXXX", parent);
    if (mkdtemp (o.run))
        snprintf (o.registry, sizeof o.registry, "%s/registry.reg", o.run);
    if (!o.registry[0] || s_write_registry (o.registry) == -1) {
        fprintf (stderr, "bench_lateral: cannot set up %s\n", o.run);
        return 1;
    }
    char load[64];
    s_loadavg (load, sizeof load);
    printf ("bench_lateral: registry of %d companies (2 providers, Kanto and Kinki, %d chains of "
            "%d), one sensor each; stores under %s; %ld cores, load average %s at the start\n\n",
            S_ORGS, S_ORGS / S_CHAIN, S_CHAIN, parent, sysconf (_SC_NPROCESSORS_ONLN), load);
    fflush (stdout);
    int status = 0;
    s_ingest_result_t ing = {0};
    if (part[0] && s_part_ingest (o.run, o.registry, o.allow, &o.ingest, &ing) == -1) {
        fprintf (stderr, "bench_lateral: the ingest part failed\n");
        status = 1;
    }
    s_latency_t lat = {0};
    if (part[1]) {
        if (s_make_keys (&o) == -1 || s_part_latency (&o, &lat) == -1)
            status = 1;
        if (lat.expected) {
            printf ("  %ld of %ld expected warnings received (%ld missing, %ld to companies that "
                    "should not have had them, %ld twice, %ld later revisions); latency p50 %.1f "
                    "ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                    lat.received, lat.expected, lat.missing, lat.unexpected, lat.duplicates,
                    lat.later_revisions, (double) lat.p50_us / 1e3, (double) lat.p90_us / 1e3,
                    (double) lat.p99_us / 1e3, (double) lat.max_us / 1e3);
            printf ("  CPU in %.1f s: aggregator %.2f s, brokers %.2f s + %.2f s, sensors' process "
                    "%.2f s (one sweep of the 1,000 uplinks: %.2f ms on average, %.2f ms at most; "
                    "sleeps %.0f ms between)\n",
                    lat.wall_s, lat.cpu_agg, lat.cpu_kanto, lat.cpu_kinki, lat.cpu_sensors,
                    s_kv (lat.child, "sweep_avg_ms"), s_kv (lat.child, "sweep_max_ms"),
                    (double) S_SWEEP_NS / 1e6);
            if (lat.notice_burst)
                printf ("  [correlate] notice_burst = %ld: a company gets up to that many "
                        "warnings in this run\n",
                        lat.notice_burst);
            if (lat.incidents[0])
                printf ("  INCIDENT, finding -> its provider's SOC console (4 consoles, one per "
                        "provider and region): received %.0f of %.0f, %.0f at a console not "
                        "entitled; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                        s_kv (lat.incidents, "received"), s_kv (lat.incidents, "expected"),
                        s_kv (lat.incidents, "wrong_console"), s_kv (lat.incidents, "p50_us") / 1e3,
                        s_kv (lat.incidents, "p90_us") / 1e3, s_kv (lat.incidents, "p99_us") / 1e3,
                        s_kv (lat.incidents, "max_us") / 1e3);
            printf ("  aggregator: %s; down: %lld WARNING, %lld WATCHLIST\n\n", lat.corr,
                    lat.agg_warnings, lat.agg_watchlists);
        }
    }
    s_loadavg (load, sizeof load);
    printf ("| measure | figure | reference (same run) | ratio | goal |\n|---|---|---|---|---|\n");
    if (part[0] && ing.ok) {
        printf ("| ingest with correlation (%ld findings, in process) | %.0f findings/s wall, "
                "%.0f per CPU second | store alone: %.0f findings/s wall, %.0f per CPU second | "
                "%.3f | >= 100,000/s: %s |\n",
                ing.events, ing.rate, ing.cpu_rate, ing.ref_rate, ing.ref_cpu_rate, ing.ratio,
                s_goal (ing.rate >= 100000));
        printf ("| correlation alone (decode + ag_correlate_event) | %.0f findings/s | | | "
                "reported |\n",
                ing.alone_rate);
    }
    if (part[1] && lat.expected)
        printf ("| lateral warning, finding -> partner sensor, %d sensors, 2 brokers, %ld/s | "
                "p99 %.1f ms (p50 %.1f, max %.1f; %ld of %ld received) | | | < 1 s, all "
                "received: %s |\n",
                S_ORGS, o.rate, (double) lat.p99_us / 1e3, (double) lat.p50_us / 1e3,
                (double) lat.max_us / 1e3, lat.received, lat.expected,
                s_goal (lat.ok && lat.p99_us < 1000000));
    if (part[1] && lat.incidents[0])
        printf (
            "| incident notice, severe finding -> its SOC console | p99 %.1f ms (p50 %.1f; %.0f "
            "of %.0f received, %.0f misdirected) | | | < 1 s: %s |\n",
            s_kv (lat.incidents, "p99_us") / 1e3, s_kv (lat.incidents, "p50_us") / 1e3,
            s_kv (lat.incidents, "received"), s_kv (lat.incidents, "expected"),
            s_kv (lat.incidents, "wrong_console"),
            s_goal (s_kv (lat.incidents, "received") == s_kv (lat.incidents, "expected") &&
                    s_kv (lat.incidents, "wrong_console") == 0 &&
                    s_kv (lat.incidents, "p99_us") < 1e6));
    printf ("\nload average at the end: %s\n", load);
    s_kill_children ();
    if (status == 0 && !keep)
        s_rm_rf (o.run);
    else
        fprintf (stderr, "bench_lateral: %s; working files left in %s\n",
                 status ? "failures above" : "--keep", o.run);
    return status;
}
