/*  bench_mesh: the end-to-end benchmarks of issue 5, in one run, beside the raw CURVE reference
    measured in the same run with messages of the same size:
      raw    raw CURVE PUSH->PULL between two processes, messages the size of the mesh's EVENT
             frame (bench_curve's method: the receiver times from its first to its last message)
      tput   durable, acknowledged throughput: S sensors (real sn_uplinks, each with its own
             spool, in one child process) -> mimamori-broker (the binary, forwarding) -> the
             aggregator's ingest (ag_ingest, driven in this process exactly as
             mimamori-aggregator's loop drives it, so its round times can be read): events
             durably stored at the aggregator per second, from the first publish to the end of
             the round that stored (synced) and acknowledged the last one
      lat    the same path paced at R events/s for T seconds; the sensors stamp ev.ts with the
             wall clock when they publish; the latency is ag_ingest's own histogram (store
             commit minus ts), cross-checked here from the round times and the stored events
      conns  C CURVE sensor connections (mm_curve clients, each with its own certificate, in
             one child process) on one mimamori-broker: each sends a HEARTBEAT and K events and
             waits for its ACK; then the broker is killed with SIGKILL, restarted on the same
             port, and the reconnect storm is timed until every sensor has an ACK for K new
             events; peak RSS (VmHWM) of the broker and of the client process.
    Every part checks its outcome exactly (events stored once each, per sensor in order) and
    fails otherwise. Beside each figure: CPU seconds per process and the time its threads were
    runnable but found no free core (schedstat), because on a small shared machine that, not the
    code, is often what a figure measures. MM_BENCH_TIMELINE=1 prints, every 250 ms, what the
    sensors had published and the broker acknowledged, and what the aggregator had stored.
    Children are this binary run again (--child ...), never a fork of a process that holds a
    ZeroMQ context.
    Usage: bench_mesh [options] [raw|tput|lat|conns ...]; see s_usage. Owner: tests/bench. */
#define _XOPEN_SOURCE 700  //  nftw
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ag_ingest.h"
#include "bk_store.h"
#include "mm_ack.h"
#include "mm_cert.h"
#include "mm_curve.h"
#include "mm_event.h"
#include "mm_heartbeat.h"
#include "mm_hist.h"
#include "mm_sample.h"
#include "sn_uplink.h"

extern char **environ;

#define S_PATH 1024
#define S_DIR 512  //  a working directory: its paths (S_PATH) always fit
#define S_RUN 256
#define S_LINE 1024
#define S_REPEATS_MAX 9
#define S_BURST 256            //  events a sensor publishes before the loop polls it
#define S_CONN_RESEND_MS 5000  //  a simulated sensor resends when no ACK came (sn_uplink's)
#define S_WAIT_MS 120000       //  bound on any phase
#define S_BROKER_ID "b-bench"  //  the broker of tput and lat
#define S_CONNS_BROKER "b-conns"

//  ---------------------------------------------------------------------------------------------
//  Small helpers: clocks, files, processes

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

//  Seconds a process's threads were runnable but waited for a core (the second field of
//  /proc/PID/task/TID/schedstat, summed; pid 0: this process): CPU starvation, from our own
//  threads and from whatever else runs on the machine. -1 if unreadable.
static double
s_runq_wait (pid_t pid)
{
    char path[64];
    if (pid)
        snprintf (path, sizeof path, "/proc/%d/task", (int) pid);
    else
        snprintf (path, sizeof path, "/proc/self/task");
    DIR *d = opendir (path);
    if (!d)
        return -1;
    double sum = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[128];
        snprintf (file, sizeof file, "%s/%.16s/schedstat", path, e->d_name);
        FILE *f = fopen (file, "r");
        unsigned long long run = 0, wait = 0;
        if (f && fscanf (f, "%llu %llu", &run, &wait) == 2)
            sum += (double) wait / 1e9;
        if (f)
            fclose (f);
    }
    closedir (d);
    return sum;
}

//  A "Vm...:" figure of /proc/PID/status in kB (pid 0: this process), -1 if unreadable.
static long
s_vm_kb (pid_t pid, const char *field)
{
    char path[64], line[256];
    if (pid)
        snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    else
        snprintf (path, sizeof path, "/proc/self/status");
    FILE *f = fopen (path, "r");
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

//  A TcpExt counter of /proc/net/netstat (this network namespace), e.g. "ListenOverflows": SYNs
//  or final ACKs dropped because a listen queue was full. -1 if unreadable.
static long long
s_tcpext (const char *name)
{
    FILE *f = fopen ("/proc/net/netstat", "r");
    if (!f)
        return -1;
    char names[8192], values[8192];
    long long v = -1;
    while (fgets (names, sizeof names, f) && fgets (values, sizeof values, f)) {
        if (strncmp (names, "TcpExt:", 7) != 0)
            continue;
        char *np, *vp;
        char *n = strtok_r (names, " \n", &np), *x = strtok_r (values, " \n", &vp);
        while (n && x) {
            if (strcmp (n, name) == 0) {
                v = strtoll (x, NULL, 10);
                break;
            }
            n = strtok_r (NULL, " \n", &np);
            x = strtok_r (NULL, " \n", &vp);
        }
    }
    fclose (f);
    return v;
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
s_write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    int rc = fputs (text, f) < 0 ? -1 : 0;
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

//  The word after " key=" in a result line, "" when absent.
static const char *
s_kv_str (const char *line, const char *key, char *buf, size_t size)
{
    char pat[64];
    snprintf (pat, sizeof pat, " %s=", key);
    const char *p = strstr (line, pat);
    buf[0] = 0;
    if (p) {
        p += strlen (pat);
        snprintf (buf, size, "%.*s", (int) strcspn (p, " \n"), p);
    }
    return buf;
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

//  The children this process started, killed if it gives up (every wait is bounded).
static pid_t s_children[16];

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
s_cloexec (int fd)
{
    fcntl (fd, F_SETFD, FD_CLOEXEC);
}

//  Starts argv[0] with argv. `stdin_w`: a pipe to its stdin (its EOF is a signal); `stdout_r`:
//  a pipe from its stdout (result lines); `err_path`: its stderr into that file (NULL:
//  inherited). The parent's ends are close-on-exec, so later children do not hold them open.
//  The pid, or -1.
static pid_t
s_spawn (char *const argv[], int *stdin_w, int *stdout_r, const char *err_path)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    if (stdin_w) {
        if (pipe (in) == -1)
            return -1;
        posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
        s_cloexec (in[1]);
    }
    if (stdout_r) {
        if (pipe (out) == -1)
            return -1;
        posix_spawn_file_actions_adddup2 (&fa, out[1], 1);
        s_cloexec (out[0]);
    }
    if (err_path)
        posix_spawn_file_actions_addopen (&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn (&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    if (in[0] != -1)
        close (in[0]);
    if (out[1] != -1)
        close (out[1]);
    if (rc != 0) {
        fprintf (stderr, "bench_mesh: cannot start %s: %s\n", argv[0], strerror (rc));
        if (in[1] != -1)
            close (in[1]);
        if (out[0] != -1)
            close (out[0]);
        return -1;
    }
    if (stdin_w)
        *stdin_w = in[1];
    if (stdout_r)
        *stdout_r = out[0];
    s_track (pid, true);
    return pid;
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

//  Waits until a daemon's log says "NAME: listening on ENDPOINT"; copies the endpoint. 0, or
//  -1 if it exited or did not say so within `timeout_ms`. `ag` (may be NULL) is driven
//  meanwhile, so a broker that connects to it at start is answered.
static int
s_wait_listening (const char *log, pid_t pid, const char *name, char *ep, size_t size,
                  int timeout_ms, ag_ingest_t *ag)
{
    char key[128];
    snprintf (key, sizeof key, "%s: listening on ", name);
    uint64_t end = s_mono_ns () + (uint64_t) timeout_ms * 1000000u;
    while (s_mono_ns () < end) {
        char *text = s_read_file (log);
        const char *p = text ? strstr (text, key) : NULL;
        if (p) {
            p += strlen (key);
            size_t n = strcspn (p, "\n");
            snprintf (ep, size, "%.*s", (int) n, p);
            free (text);
            return 0;
        }
        free (text);
        if (waitpid (pid, NULL, WNOHANG) == pid) {
            s_track (pid, false);
            return -1;
        }
        if (ag)
            ag_ingest_run_once (ag, 10);
        else
            s_sleep_ns (10000000);
    }
    return -1;
}

static void
s_broker_ini (const char *path, const char *bind, const char *run, const char *store,
              const char *broker_id, const char *agg_ep)
{
    char text[4 * S_PATH];
    int n = snprintf (text, sizeof text,
                      "[broker]\nid = %s\n[sensors]\nbind = %s\ncert_dir = %s/sensors\n"
                      "[keys]\ncert_secret = %s/keys/%s.cert_secret\n[store]\npath = %s\n",
                      broker_id, bind, run, run, broker_id, store);
    if (agg_ep && n > 0 && (size_t) n < sizeof text)
        snprintf (text + n, sizeof text - (size_t) n,
                  "[aggregator]\nendpoint = %s\naggregator_cert = %s/keys/centre.cert\n", agg_ep,
                  run);
    if (s_write_file (path, text) == -1)
        fprintf (stderr, "bench_mesh: cannot write %s\n", path);
}

//  The event every sensor sends: the DNS sample (one of the ~200-byte kinds), its sensor and
//  org left empty so that the uplink fills them from the certificate.
static void
s_sample_event (mm_event_t *ev)
{
    mm_sample_event (ev, MM_KIND_DNS);
    ev->sensor = mm_str ("");
    ev->org = mm_str ("");
}

static void
s_sensor_name (char *buf, size_t size, long i)
{
    snprintf (buf, size, "s-%04ld", i + 1);
}

static int
s_cmp_u64 (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  ---------------------------------------------------------------------------------------------
//  Child: raw CURVE PUSH->PULL (bench_curve's scenario 3, with the mesh's frame size)

//  Raw CURVE on a socket made here: only benchmarks do this; every product socket is mm_curve's.
static int
s_raw_curve (zsock_t *sock, const char *cert_path, const char *server_key)
{
    char err[256];
    mm_cert_t *cert = mm_cert_load (cert_path, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "bench_mesh: %s\n", err);
        return -1;
    }
    zsock_set_curve_publickey_bin (sock, mm_cert_public_key (cert));
    zsock_set_curve_secretkey_bin (sock, mm_cert_secret_key (cert));
    if (server_key)
        zsock_set_curve_serverkey (sock, server_key);
    else
        zsock_set_curve_server (sock, 1);
    mm_cert_destroy (&cert);
    return 0;
}

//  raw-recv N SIZE SERVER.cert_secret: binds, prints "ep=...", receives N messages, prints the
//  rate (first to last message) and its CPU seconds.
static int
s_child_raw_recv (char **argv)
{
    long n, size;
    if (s_parse_long (argv[0], 2, 100000000, &n) || s_parse_long (argv[1], 1, 65536, &size))
        return 2;
    zsock_t *sock = zsock_new (ZMQ_PULL);
    if (!sock || s_raw_curve (sock, argv[2], NULL) == -1 ||
        zsock_bind (sock, "tcp://127.0.0.1:*") == -1)
        return 1;
    char *ep = zsock_last_endpoint (sock);
    printf (" ep=%s\n", ep ? ep : "");
    zstr_free (&ep);
    fflush (stdout);
    zsock_set_rcvtimeo (sock, 20000);
    void *handle = zsock_resolve (sock);
    char *buf = malloc ((size_t) size + 64);
    uint64_t start = 0, end = 0;
    long got = 0;
    double cpu0 = s_cpu_self ();
    while (buf && got < n) {
        if (zmq_recv (handle, buf, (size_t) size + 64, 0) == -1)
            break;
        if (got++ == 0)
            start = s_mono_ns ();
    }
    end = s_mono_ns ();
    double rate = got == n && end > start ? (double) (n - 1) * 1e9 / (double) (end - start) : 0;
    printf (" rate=%.0f got=%ld cpu=%.3f\n", rate, got, s_cpu_self () - cpu0);
    fflush (stdout);
    free (buf);
    zsock_destroy (&sock);
    return rate > 0 ? 0 : 1;
}

//  raw-send ENDPOINT N SIZE SERVER.cert CLIENT.cert_secret: sends N messages as fast as the
//  socket takes them, prints its CPU seconds, then stays until its stdin closes so that nothing
//  queued is lost on close (CZMQ's linger is 0).
static int
s_child_raw_send (char **argv)
{
    long n, size;
    if (s_parse_long (argv[1], 2, 100000000, &n) || s_parse_long (argv[2], 1, 65536, &size))
        return 2;
    char err[256];
    mm_cert_t *server = mm_cert_load (argv[3], err, sizeof err);
    if (!server)
        return 1;
    zsock_t *sock = zsock_new (ZMQ_PUSH);
    if (!sock || s_raw_curve (sock, argv[4], mm_cert_public_txt (server)) == -1 ||
        zsock_connect (sock, "%s", argv[0]) == -1)
        return 1;
    mm_cert_destroy (&server);
    void *handle = zsock_resolve (sock);
    char *msg = malloc ((size_t) size);
    if (!msg)
        return 1;
    memset (msg, 'e', (size_t) size);
    double cpu0 = s_cpu_self ();
    for (long i = 0; i < n; i++) {
        memcpy (msg, &i, sizeof i < (size_t) size ? sizeof i : (size_t) size);
        while (zmq_send (handle, msg, (size_t) size, ZMQ_DONTWAIT) == -1) {
            if (zmq_errno () != EAGAIN)
                return 1;
            zmq_pollitem_t item = {handle, 0, ZMQ_POLLOUT, 0};
            zmq_poll (&item, 1, 100);
        }
    }
    double cpu = s_cpu_self () - cpu0;
    char c;
    while (read (0, &c, 1) > 0)
        ;
    printf (" cpu=%.3f\n", cpu);
    fflush (stdout);
    free (msg);
    zsock_destroy (&sock);
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Child: S sensors (sn_uplink each, own spool) publishing TOTAL events, as fast as they go
//  (RATE 0) or paced at RATE events/s in all, round robin.

//  With MM_BENCH_TIMELINE set, a line on stderr every 250 ms: published and acknowledged so far.
static void
s_sensors_timeline (sn_uplink_t **up, long n, uint64_t t0, long published, uint64_t *next)
{
    uint64_t now = s_mono_ns ();
    if (!getenv ("MM_BENCH_TIMELINE") || now < *next)
        return;
    *next = now + 250000000u;
    uint64_t acked = 0;
    for (long i = 0; i < n; i++) {
        sn_uplink_stats_t st;
        sn_uplink_stats (up[i], &st);
        acked += st.acked_seq;
    }
    fprintf (stderr, "timeline sensors t=%.2f published=%ld broker_acked=%llu\n",
             (double) (now - t0) / 1e9, published, (unsigned long long) acked);
}

//  sensors ENDPOINT BROKER.cert KEYDIR SPOOLBASE S TOTAL RATE
//  Prints " go t0=NS" when every uplink is connected (its first heartbeat has left) and the
//  first event is about to be published, then " done ..." once the broker acknowledged all.
static int
s_child_sensors (char **argv)
{
    const char *endpoint = argv[0], *broker_cert = argv[1], *keydir = argv[2];
    const char *spoolbase = argv[3];
    long n, total, rate;
    if (s_parse_long (argv[4], 1, 10000, &n) || s_parse_long (argv[5], 1, 1000000000, &total) ||
        s_parse_long (argv[6], 0, 10000000, &rate))
        return 2;
    zsys_set_logstream (stderr);
    sn_uplink_t **up = calloc ((size_t) n, sizeof *up);
    long *quota = calloc ((size_t) n, sizeof *quota);
    long *pub = calloc ((size_t) n, sizeof *pub);
    int rc = 1;
    if (!up || !quota || !pub)
        goto done;
    for (long i = 0; i < n; i++) {
        char name[32], cert[S_PATH], spool[S_PATH];
        s_sensor_name (name, sizeof name, i);
        snprintf (cert, sizeof cert, "%s/%s.cert_secret", keydir, name);
        snprintf (spool, sizeof spool, "%s/%s", spoolbase, name);
        sn_uplink_config_t cfg = {.endpoint = endpoint,
                                  .broker_cert = broker_cert,
                                  .cert = cert,
                                  .spool_dir = spool,
                                  .version = "bench"};
        up[i] = sn_uplink_new (&cfg);
        if (!up[i])
            goto done;
        quota[i] = total / n + (i < total % n ? 1 : 0);
    }
    //  Connected = the first heartbeat has left: with ZMQ_IMMEDIATE a send succeeds only on a
    //  connection whose CURVE handshake is done. Connecting is not part of the measurement.
    uint64_t until = s_mono_ns () + 20000000000u;
    for (;;) {
        long ready = 0;
        for (long i = 0; i < n; i++) {
            sn_uplink_poll (up[i], 0, 0, NULL);
            sn_uplink_stats_t st;
            sn_uplink_stats (up[i], &st);
            ready += st.heartbeats > 0;
        }
        if (ready == n)
            break;
        if (s_mono_ns () > until) {
            fprintf (stderr, "bench_mesh: %ld of %ld sensors connected after 20 s\n", ready, n);
            goto done;
        }
        s_sleep_ns (10000000);
    }
    mm_event_t tmpl, ev;
    s_sample_event (&tmpl);
    double cpu0 = s_cpu_self (), wait0 = s_runq_wait (0);
    uint64_t t0 = s_mono_ns ();
    printf (" go t0=%llu\n", (unsigned long long) t0);
    fflush (stdout);
    long published = 0;
    uint64_t next_tl = 0;
    if (rate > 0) {
        //  Event k is due at t0 + k / rate; whatever is due is published, then every uplink is
        //  polled (ACKs, window), then the loop sleeps until the next one is due (<= 1 ms).
        while (published < total) {
            uint64_t now = s_mono_ns ();
            long due = (long) ((double) (now - t0) * (double) rate / 1e9) + 1;
            if (due > total)
                due = total;
            while (published < due) {
                long i = published % n;
                ev = tmpl;
                ev.ts = s_wall_ns ();
                if (sn_uplink_publish (up[i], &ev) == -1)
                    goto done;
                pub[i]++;
                published++;
            }
            for (long i = 0; i < n; i++)
                sn_uplink_poll (up[i], 0, 0, NULL);
            s_sensors_timeline (up, n, t0, published, &next_tl);
            uint64_t next = t0 + (uint64_t) ((double) published * 1e9 / (double) rate);
            now = s_mono_ns ();
            if (published < total && next > now)
                s_sleep_ns (next - now < 1000000u ? next - now : 1000000u);
        }
    }
    else {
        while (published < total)
            for (long i = 0; i < n; i++) {
                for (long k = 0; k < S_BURST && pub[i] < quota[i]; k++) {
                    ev = tmpl;
                    ev.ts = s_wall_ns ();
                    if (sn_uplink_publish (up[i], &ev) == -1)
                        goto done;
                    pub[i]++;
                    published++;
                }
                sn_uplink_poll (up[i], 0, 0, NULL);
                s_sensors_timeline (up, n, t0, published, &next_tl);
            }
    }
    //  Until the broker has acknowledged every event (the spools are empty). The child sleeps
    //  1 ms between rounds rather than spin: the broker and the aggregator need the cores.
    uint64_t t_acked = 0;
    until = s_mono_ns () + (uint64_t) S_WAIT_MS * 1000000u;
    for (int round = 0; !t_acked; round++) {
        for (long i = 0; i < n; i++)
            sn_uplink_poll (up[i], 0, 0, NULL);
        s_sensors_timeline (up, n, t0, published, &next_tl);
        if (round % 10 == 0) {
            long acked = 0;
            for (long i = 0; i < n; i++) {
                sn_uplink_stats_t st;
                sn_uplink_stats (up[i], &st);
                acked += st.acked_seq >= (uint64_t) pub[i];
            }
            if (acked == n)
                t_acked = s_mono_ns ();
        }
        if (s_mono_ns () > until) {
            fprintf (stderr, "bench_mesh: sensors not all acknowledged after %d s\n",
                     S_WAIT_MS / 1000);
            goto done;
        }
        if (!t_acked)
            s_sleep_ns (1000000);
    }
    double cpu = s_cpu_self () - cpu0, runq = s_runq_wait (0) - wait0;
    sn_uplink_stats_t sum = {0};
    for (long i = 0; i < n; i++) {
        sn_uplink_stats_t st;
        sn_uplink_stats (up[i], &st);
        sum.sent += st.sent, sum.resent += st.resent, sum.timeouts += st.timeouts;
        sum.send_again += st.send_again, sum.acks += st.acks;
        sum.publish_failed += st.publish_failed;
    }
    printf (" done t0=%llu acked=%llu published=%ld cpu=%.3f runq=%.3f sent=%llu resent=%llu "
            "timeouts=%llu "
            "send_again=%llu acks=%llu failed=%llu\n",
            (unsigned long long) t0, (unsigned long long) t_acked, published, cpu, runq,
            (unsigned long long) sum.sent, (unsigned long long) sum.resent,
            (unsigned long long) sum.timeouts, (unsigned long long) sum.send_again,
            (unsigned long long) sum.acks, (unsigned long long) sum.publish_failed);
    fflush (stdout);
    rc = 0;
done:
    for (long i = 0; up && i < n; i++)
        sn_uplink_destroy (&up[i]);
    free (up);
    free (quota);
    free (pub);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Child: C simulated sensor connections (mm_curve clients) on one broker, then its restart

typedef struct {
    mm_curve_client_t *client;
    mm_cert_t *cert;
    uint64_t next, target, acked;  //  next seq to send, seq the phase needs acked, acked so far
    bool hb_sent;
    uint64_t sent_ns;  //  when the phase's last frame left (the resend timer)
    uint64_t done_ns;  //  when the phase's ACK came
} s_conn_t;

typedef struct {
    uint64_t resends;     //  phases sent again after S_CONN_RESEND_MS without the ACK
    uint64_t send_again;  //  sends refused with EAGAIN (no connection yet)
    uint64_t acks;        //  ACKs received
} s_conn_stats_t;

static int
s_conn_send (s_conn_t *c, mm_buf_t *buf, s_conn_stats_t *st)
{
    if (mm_curve_client_send (c->client, buf->data, buf->len) == 0)
        return 0;
    st->send_again++;
    return -1;
}

//  Sends what the connection can take of the phase: a HEARTBEAT, then events next..target.
//  Stops at the first refusal (not connected yet); resends the phase when its ACK is late.
static void
s_conn_pump (s_conn_t *c, mm_buf_t *buf, uint64_t now, s_conn_stats_t *st)
{
    if (c->done_ns)
        return;
    const mm_identity_t *id = mm_cert_identity (c->cert);
    mm_error_t err;
    if (c->next > c->target) {
        if (now - c->sent_ns < (uint64_t) S_CONN_RESEND_MS * 1000000u)
            return;
        c->next = c->acked + 1;
        c->hb_sent = false;
        st->resends++;
    }
    if (!c->hb_sent) {
        mm_heartbeat_t hb;
        mm_sample_heartbeat (&hb);
        hb.ts = s_wall_ns ();
        hb.sensor = mm_str (id->id);
        hb.org = mm_str (id->org);
        hb.seq = c->next - 1;
        mm_buf_clear (buf);
        if (mm_heartbeat_encode (&hb, buf, &err) == -1 || s_conn_send (c, buf, st) == -1)
            return;
        c->hb_sent = true;
    }
    while (c->next <= c->target) {
        mm_event_t ev;
        s_sample_event (&ev);
        ev.ts = s_wall_ns ();
        ev.sensor = mm_str (id->id);
        ev.org = mm_str (id->org);
        ev.seq = c->next;
        mm_buf_clear (buf);
        if (mm_event_encode (&ev, buf, &err) == -1 || s_conn_send (c, buf, st) == -1)
            return;
        c->next++;
    }
    c->sent_ns = now;
}

//  One phase: every connection sends a HEARTBEAT and seqs from..from+k-1 and waits for the ACK
//  of the last. While `log` is given, notes when the broker says it listens (*t_listen). 0 when
//  every connection has its ACK, -1 after S_WAIT_MS.
static int
s_conns_phase (s_conn_t *cs, long n, uint64_t from, long k, s_conn_stats_t *st, const char *log,
               uint64_t *t_listen)
{
    zmq_pollitem_t *items = calloc ((size_t) n, sizeof *items);
    if (!items)
        return -1;
    for (long i = 0; i < n; i++) {
        cs[i].next = from;
        cs[i].target = from + (uint64_t) k - 1;
        cs[i].hb_sent = false;
        cs[i].done_ns = 0;
        cs[i].sent_ns = 0;
        items[i].socket = zsock_resolve (mm_curve_client_sock (cs[i].client));
        items[i].events = ZMQ_POLLIN;
    }
    mm_buf_t buf = MM_BUF_INIT;
    long done = 0;
    uint64_t until = s_mono_ns () + (uint64_t) S_WAIT_MS * 1000000u, next_log = 0;
    while (done < n && s_mono_ns () < until) {
        uint64_t now = s_mono_ns ();
        for (long i = 0; i < n; i++)
            s_conn_pump (&cs[i], &buf, now, st);
        if (zmq_poll (items, (int) n, 10) == -1 && zmq_errno () != EINTR)
            break;
        for (long i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            zframe_t *f;
            while ((f = mm_curve_client_recv (cs[i].client)) != NULL) {
                mm_ack_t ack;
                mm_error_t err;
                if (mm_ack_decode (&ack, zframe_data (f), zframe_size (f), &err) == 0 &&
                    mm_str_eq (ack.sensor, mm_cert_identity (cs[i].cert)->id)) {
                    st->acks++;
                    if (ack.seq > cs[i].acked)
                        cs[i].acked = ack.seq;
                    if (!cs[i].done_ns && cs[i].acked >= cs[i].target) {
                        cs[i].done_ns = s_mono_ns ();
                        done++;
                    }
                }
                zframe_destroy (&f);
            }
        }
        if (log && !*t_listen && s_mono_ns () >= next_log) {
            char *text = s_read_file (log);
            if (text && strstr (text, "listening on "))
                *t_listen = s_mono_ns ();
            free (text);
            next_log = s_mono_ns () + 5000000u;
        }
    }
    mm_buf_free (&buf);
    free (items);
    return done == n ? 0 : -1;
}

//  Quantiles of the phase's ACK times after `t_ref`, in seconds: min, p50, p90, p99, max.
static void
s_conns_quantiles (const s_conn_t *cs, long n, uint64_t t_ref, double q[5])
{
    uint64_t *t = calloc ((size_t) n, sizeof *t);
    if (!t)
        return;
    for (long i = 0; i < n; i++)
        t[i] = cs[i].done_ns > t_ref ? cs[i].done_ns - t_ref : 0;
    qsort (t, (size_t) n, sizeof *t, s_cmp_u64);
    const double at[5] = {0, 0.5, 0.9, 0.99, 1};
    for (int j = 0; j < 5; j++)
        q[j] = (double) t[(size_t) (at[j] * (double) (n - 1))] / 1e9;
    free (t);
}

typedef struct {
    long n, k;
    long sensors, wrong, broker_events;
    long *count;
    uint64_t *next;
} s_conns_check_t;

static int
s_conns_check_fn (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
                  size_t len)
{
    (void) index, (void) data, (void) len;
    s_conns_check_t *c = arg;
    long i;
    char name[MM_ID_MAX + 1];
    snprintf (name, sizeof name, "%.*s", (int) sensor.len, sensor.ptr);
    if (strcmp (name, S_CONNS_BROKER) == 0) {
        c->broker_events++;  //  its own findings (a sensor silent): not a sensor's event
        return 0;
    }
    if (strncmp (name, "c-", 2) != 0 || s_parse_long (name + 2, 0, c->n - 1, &i) == -1 ||
        seq != c->next[i]) {
        c->wrong++;
        return 0;
    }
    c->next[i]++;
    c->count[i]++;
    return 0;
}

//  The broker's store after the run: every connection's seqs 1..2k exactly once, in order.
static int
s_conns_check (const char *store, long n, long k, long *wrong)
{
    char err[256];
    bk_store_t *st = bk_store_new (store, NULL, err, sizeof err);
    if (!st) {
        fprintf (stderr, "bench_mesh: broker store: %s\n", err);
        return -1;
    }
    s_conns_check_t c = {.n = n, .k = k};
    c.count = calloc ((size_t) n, sizeof *c.count);
    c.next = calloc ((size_t) n, sizeof *c.next);
    int rc = -1;
    if (c.count && c.next) {
        for (long i = 0; i < n; i++)
            c.next[i] = 1;
        if (bk_store_read_forward (st, 0, SIZE_MAX, s_conns_check_fn, &c) >= 0) {
            rc = 0;
            for (long i = 0; i < n; i++)
                if (c.count[i] != 2 * k)
                    c.wrong++;
        }
    }
    *wrong = c.wrong;
    free (c.count);
    free (c.next);
    bk_store_destroy (&st);
    return rc;
}

//  Starts the broker of the conns part on `port` (0: a random one in 20000-31999, outside the
//  kernel's and CZMQ's ephemeral ranges, so that it can come back on the same one; a port that
//  is taken is skipped). Its pid, or -1.
static pid_t
s_conns_broker (const char *bin, const char *dir, int *port)
{
    char ini[S_PATH], log[S_PATH], store[S_PATH], bind[64], ep[256];
    snprintf (ini, sizeof ini, "%s/broker.ini", dir);
    snprintf (log, sizeof log, "%s/broker.log", dir);
    snprintf (store, sizeof store, "%s/broker-store", dir);
    for (int attempt = 0; attempt < 20; attempt++) {
        int p = *port ? *port : 20000 + (int) (random () % 12000);
        snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", p);
        s_broker_ini (ini, bind, dir, store, S_CONNS_BROKER, NULL);
        char *argv[] = {(char *) bin, "-c", ini, NULL};
        pid_t pid = s_spawn (argv, NULL, NULL, log);
        if (pid == -1)
            return -1;
        if (s_wait_listening (log, pid, "mimamori-broker", ep, sizeof ep, 30000, NULL) == 0) {
            *port = p;
            return pid;
        }
        if (waitpid (pid, NULL, WNOHANG) == 0) {  //  alive but silent: give up
            kill (pid, SIGKILL);
            s_reap (pid, 1000);
            return -1;
        }
        if (*port)
            return -1;  //  the port it must come back on is taken
    }
    return -1;
}

//  How many connections had their ACK within 0.25, 0.5, 1, 1.5, 2, 3, 5 and 10 s of `t_ref`:
//  " NAME=a/b/c/..." appended to `out`.
static void
s_conns_buckets (const s_conn_t *cs, long n, uint64_t t_ref, const char *name, char *out,
                 size_t size)
{
    static const double at[] = {0.25, 0.5, 1, 1.5, 2, 3, 5, 10};
    size_t len = strlen (out);
    len += (size_t) snprintf (out + len, len < size ? size - len : 0, " %s=", name);
    for (size_t j = 0; j < sizeof at / sizeof at[0]; j++) {
        long c = 0;
        for (long i = 0; i < n; i++)
            c += cs[i].done_ns && (double) (cs[i].done_ns - t_ref) / 1e9 <= at[j];
        len += (size_t) snprintf (out + len, len < size ? size - len : 0, "%s%ld", j ? "/" : "", c);
    }
}

//  conns BROKER DIR C K DOWN_MS SEND_DELAY_MS
static int
s_child_conns (char **argv)
{
    const char *bin = argv[0], *dir = argv[1];
    long n, k, down_ms, delay_ms;
    if (s_parse_long (argv[2], 1, 8000, &n) || s_parse_long (argv[3], 1, 1000, &k) ||
        s_parse_long (argv[4], 0, 600000, &down_ms) || s_parse_long (argv[5], 0, 60000, &delay_ms))
        return 2;
    zsys_set_logstream (stderr);
    //  A client is a DEALER plus the two PAIRs of its connection monitor: three mailboxes
    //  (eventfds) and a TCP connection, about 4 fds each; the broker (which inherits the
    //  limit) holds one per connection.
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t) (5 * n + 256)) {
        fprintf (stderr, "bench_mesh: %ld connections need %ld fds, the limit is %llu\n", n,
                 5 * n + 256, (unsigned long long) rl.rlim_cur);
        return 1;
    }
    srandom ((unsigned) getpid ());
    //  CZMQ's default is 1,024 sockets a context; each client makes three.
    zsys_set_max_sockets ((size_t) (3 * n + 64));
    char path[S_PATH], err[256], name[32];
    snprintf (path, sizeof path, "%s/keys", dir);
    mm_cert_t *broker =
        mm_cert_new (MM_ROLE_BROKER, S_CONNS_BROKER, NULL, "bench", err, sizeof err);
    if (!broker || mkdir (path, 0700) == -1 ||
        mm_cert_save_pair (broker, path, false, err, sizeof err) == -1) {
        fprintf (stderr, "bench_mesh: broker key: %s\n", err);
        return 1;
    }
    snprintf (path, sizeof path, "%s/sensors", dir);
    mkdir (path, 0700);
    s_conn_t *cs = calloc ((size_t) n, sizeof *cs);
    if (!cs)
        return 1;
    uint64_t tk = s_mono_ns ();
    for (long i = 0; i < n; i++) {
        snprintf (name, sizeof name, "c-%04ld", i);
        cs[i].cert = mm_cert_new (MM_ROLE_SENSOR, name, "org-bench", "bench", err, sizeof err);
        snprintf (path, sizeof path, "%s/sensors/%s.cert", dir, name);
        if (!cs[i].cert || mm_cert_save_public (cs[i].cert, path, false, err, sizeof err) == -1) {
            fprintf (stderr, "bench_mesh: %s: %s\n", name, err);
            return 1;
        }
    }
    double keys_s = (double) (s_mono_ns () - tk) / 1e9;
    int port = 0;
    pid_t bpid = s_conns_broker (bin, dir, &port);
    if (bpid == -1) {
        fprintf (stderr, "bench_mesh: the broker did not start (see %s/broker.log)\n", dir);
        return 1;
    }
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);

    //  Phase 1: every sensor connects (CURVE handshake, ZAP), heartbeats, sends k events.
    s_conn_stats_t st1 = {0}, st2 = {0};
    long long lo0 = s_tcpext ("ListenOverflows"), ld0 = s_tcpext ("ListenDrops");
    uint64_t t0 = s_mono_ns ();
    for (long i = 0; i < n; i++) {
        cs[i].client = mm_curve_client_new (ep, cs[i].cert, mm_cert_public_txt (broker));
        if (!cs[i].client) {
            fprintf (stderr, "bench_mesh: client %ld of %ld not made\n", i + 1, n);
            return 1;
        }
        zsock_set_rcvtimeo (mm_curve_client_sock (cs[i].client), 0);
    }
    double create_s = (double) (s_mono_ns () - t0) / 1e9;
    int rc1 = s_conns_phase (cs, n, 1, k, &st1, NULL, NULL);
    double q1[5] = {0};
    s_conns_quantiles (cs, n, t0, q1);
    char buckets[512] = "";
    s_conns_buckets (cs, n, t0, "c_by", buckets, sizeof buckets);
    long long lo1 = s_tcpext ("ListenOverflows"), ld1 = s_tcpext ("ListenDrops");
    long b1_hwm = s_vm_kb (bpid, "VmHWM"), b1_rss = s_vm_kb (bpid, "VmRSS");
    double b1_cpu = s_cpu_of (bpid);
    if (rc1 == -1) {
        fprintf (stderr, "bench_mesh: phase 1: not every sensor acknowledged\n");
        kill (bpid, SIGKILL);
        s_reap (bpid, 5000);
        return 1;
    }

    //  Phase 2: the broker dies (SIGKILL) and comes back on the same port; every sensor must
    //  reconnect (libzmq's backoff: 1 s + up to 1 s of jitter, doubling to 30 s) and get k new
    //  events acknowledged. The sensors send their new events `delay_ms` after the kill (or
    //  when the broker is back, if later): frames sent before a client has noticed that its
    //  connection died are lost with it and only resent after S_CONN_RESEND_MS, as sn_uplink's
    //  ack timeout would (delay 0 measures that case).
    kill (bpid, SIGKILL);
    s_reap (bpid, 5000);
    uint64_t t_kill = s_mono_ns ();
    if (down_ms)
        s_sleep_ns ((uint64_t) down_ms * 1000000u);
    char log[S_PATH];
    snprintf (log, sizeof log, "%s/broker.log", dir);
    remove (log);
    uint64_t t_spawn = s_mono_ns (), t_listen = 0;
    char *bargv[] = {(char *) bin, "-c", NULL, NULL};
    snprintf (path, sizeof path, "%s/broker.ini", dir);
    bargv[2] = path;
    bpid = s_spawn (bargv, NULL, NULL, log);
    if (bpid == -1)
        return 1;
    uint64_t t_send = t_kill + (uint64_t) delay_ms * 1000000u;
    if (s_mono_ns () < t_send)
        s_sleep_ns (t_send - s_mono_ns ());
    int rc2 = s_conns_phase (cs, n, (uint64_t) k + 1, k, &st2, log, &t_listen);
    double q2[5] = {0};
    s_conns_quantiles (cs, n, t_kill, q2);
    s_conns_buckets (cs, n, t_kill, "s_by", buckets, sizeof buckets);
    long long lo2 = s_tcpext ("ListenOverflows"), ld2 = s_tcpext ("ListenDrops");
    long b2_hwm = s_vm_kb (bpid, "VmHWM");
    double b2_cpu = s_cpu_of (bpid);
    long c_hwm = s_vm_kb (0, "VmHWM");
    double c_cpu = s_cpu_self ();
    for (long i = 0; i < n; i++) {
        mm_curve_client_destroy (&cs[i].client);
        mm_cert_destroy (&cs[i].cert);
    }
    kill (bpid, SIGTERM);
    int brc = s_reap (bpid, 10000);
    char *text = s_read_file (log);
    long long stored2 = text ? s_num_before (text, "events stored") : -1;
    long long hb2 = text ? s_num_before (text, "heartbeats,") : -1;
    free (text);
    long wrong = -1;
    snprintf (path, sizeof path, "%s/broker-store", dir);
    int crc = rc2 == 0 && brc == 0 ? s_conns_check (path, n, k, &wrong) : -1;
    printf (" conns=%ld k=%ld keys_s=%.3f create_s=%.3f connect_s=%.3f c_min=%.3f c_p50=%.3f "
            "c_p90=%.3f c_p99=%.3f b1_hwm_kb=%ld b1_rss_kb=%ld b1_cpu=%.3f resends1=%llu "
            "down_ms=%ld spawn_s=%.3f listen_s=%.3f storm_s=%.3f s_min=%.3f s_p50=%.3f s_p90=%.3f "
            "s_p99=%.3f resends2=%llu send_again2=%llu b2_hwm_kb=%ld b2_cpu=%.3f stored2=%lld "
            "heartbeats2=%lld client_hwm_kb=%ld client_cpu=%.3f delay_ms=%ld overflows1=%lld "
            "drops1=%lld overflows2=%lld drops2=%lld wrong=%ld ok=%d%s\n",
            n, k, keys_s, create_s, q1[4], q1[0], q1[1], q1[2], q1[3], b1_hwm, b1_rss, b1_cpu,
            (unsigned long long) st1.resends, down_ms, (double) (t_spawn - t_kill) / 1e9,
            t_listen ? (double) (t_listen - t_kill) / 1e9 : -1, q2[4], q2[0], q2[1], q2[2], q2[3],
            (unsigned long long) st2.resends, (unsigned long long) st2.send_again, b2_hwm, b2_cpu,
            stored2, hb2, c_hwm, c_cpu, delay_ms, lo1 - lo0, ld1 - ld0, lo2 - lo1, ld2 - ld1, wrong,
            rc2 == 0 && brc == 0 && crc == 0 && wrong == 0 && stored2 == n * k, buckets);
    fflush (stdout);
    free (cs);
    mm_cert_destroy (&broker);
    return rc2 == 0 && brc == 0 && crc == 0 && wrong == 0 && stored2 == n * k ? 0 : 1;
}

//  ---------------------------------------------------------------------------------------------
//  The orchestrator

typedef struct {
    char self[S_DIR];    //  this binary (children are it, run again)
    char broker[S_DIR];  //  mimamori-broker
    char run[S_RUN];     //  working directory of this run (keys, stores, spools, logs)
    long raw_n, repeats, sensors, events, rate, seconds, conns, per_conn, down_ms, delay_ms;
    size_t frame;  //  bytes of the EVENT frame a sensor sends (the raw reference's size)
    mm_curve_auth_t *auth;
} s_opts_t;

//  raw CURVE PUSH->PULL once: msgs/s (0 on failure) and the CPU seconds of both processes.
static double
s_raw_once (const s_opts_t *o, double *cpu_rx, double *cpu_tx)
{
    char n[32], size[32], line[S_LINE], scert[S_PATH], ccert[S_PATH], spub[S_PATH];
    snprintf (n, sizeof n, "%ld", o->raw_n);
    snprintf (size, sizeof size, "%zu", o->frame);
    snprintf (scert, sizeof scert, "%s/keys/%s.cert_secret", o->run, S_BROKER_ID);
    snprintf (spub, sizeof spub, "%s/keys/%s.cert", o->run, S_BROKER_ID);
    snprintf (ccert, sizeof ccert, "%s/keys/s-0001.cert_secret", o->run);
    char *rargv[] = {(char *) o->self, "--child", "raw-recv", n, size, scert, NULL};
    int rout = -1, sin = -1, sout = -1;
    pid_t rx = s_spawn (rargv, NULL, &rout, NULL);
    if (rx == -1 || s_read_line (rout, line, sizeof line, 10000) == -1) {
        if (rx != -1)
            s_reap (rx, 0);
        return 0;
    }
    char ep[S_LINE];
    snprintf (ep, sizeof ep, "%s", line + strlen (" ep="));
    char *sargv[] = {(char *) o->self, "--child", "raw-send", ep, n, size, spub, ccert, NULL};
    pid_t tx = s_spawn (sargv, &sin, &sout, NULL);
    double rate = 0, c1 = 0, c2 = 0;
    if (tx != -1 && s_read_line (rout, line, sizeof line, S_WAIT_MS) > 0) {
        rate = s_kv (line, "rate");
        c1 = s_kv (line, "cpu");
    }
    if (sin != -1)
        close (sin);
    if (tx != -1 && s_read_line (sout, line, sizeof line, 10000) > 0)
        c2 = s_kv (line, "cpu");
    if (tx != -1)
        s_reap (tx, rate > 0 ? 10000 : 0);
    s_reap (rx, rate > 0 ? 10000 : 0);
    close (rout);
    if (sout != -1)
        close (sout);
    *cpu_rx = c1;
    *cpu_tx = c2;
    return rate > 0 ? rate : 0;
}

//  One mesh run (tput or lat).
typedef struct {
    long total;
    double rate;     //  events stored at the aggregator per second (first publish -> last)
    double store_s;  //  first publish -> the round that stored and acked the last one
    double acked_s;  //  first publish -> the sensors saw the broker acknowledge the last
    double cpu_sensors, cpu_broker, cpu_agg;
    double runq_sensors, runq_broker, runq_agg;  //  runnable, waiting for a core
    char load[64];                               //  /proc/loadavg at the end
    long long broker_batches, broker_stored, broker_dups, fwd_sent, fwd_rewinds;
    uint64_t agg_batches, agg_dups, agg_frames;
    double resent, timeouts;
    long broker_hwm_kb;
    ag_latency_t lat;                                    //  ag_ingest's own histogram
    uint64_t own_p50_us, own_p99_us, own_max_us, own_n;  //  the cross-check
    long bad;  //  events missing, repeated or out of order in the aggregator's store
} s_mesh_t;

typedef struct {
    uint64_t *wall;  //  end of round r: wall ns
    uint64_t *upto;  //  ... and events stored so far (= the broker's log index now durable)
    size_t n, cap;
} s_rounds_t;

typedef struct {
    const s_rounds_t *rounds;
    mm_hist_t hist;
    long sensors, bad, count;
    char last[MM_ID_MAX + 1];
    uint64_t next;
    mm_event_t *ev;
} s_walk_t;

//  For each stored event: in order per sensor (1, 2, 3... no gap, no repeat), and its latency
//  = end of the round that stored its log index minus its ts (the cross-check).
static int
s_walk_fn (void *arg, mm_str_t sensor, uint64_t seq, mm_str_t broker, uint64_t index,
           const uint8_t *data, size_t len)
{
    (void) broker;
    s_walk_t *w = arg;
    w->count++;
    if (strlen (w->last) != sensor.len || memcmp (w->last, sensor.ptr, sensor.len) != 0) {
        snprintf (w->last, sizeof w->last, "%.*s", (int) sensor.len, sensor.ptr);
        w->sensors++;
        w->next = 1;
    }
    if (seq != w->next++)
        w->bad++;
    mm_error_t err;
    if (mm_event_decode (w->ev, data, len, &err) == -1) {
        w->bad++;
        return 0;
    }
    const s_rounds_t *r = w->rounds;
    size_t lo = 0, hi = r->n;  //  first round whose upto >= index
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->upto[mid] >= index)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo < r->n && r->wall[lo] >= w->ev->ts)
        mm_hist_add (&w->hist, (r->wall[lo] - w->ev->ts) / 1000u);
    return 0;
}

static int
s_mesh_once (const s_opts_t *o, long total, long rate, s_mesh_t *m)
{
    memset (m, 0, sizeof *m);
    m->total = total;
    char dir[S_DIR], agg_store[S_PATH], b_store[S_PATH], ini[S_PATH], log[S_PATH];
    char spool[S_PATH], allow[S_PATH], secret[S_PATH], bcert[S_PATH], keys[S_PATH];
    snprintf (dir, sizeof dir, "%s/mesh-XXXXXX", o->run);
    if (!mkdtemp (dir))
        return -1;
    snprintf (agg_store, sizeof agg_store, "%s/agg-store", dir);
    snprintf (b_store, sizeof b_store, "%s/broker-store", dir);
    snprintf (ini, sizeof ini, "%s/broker.ini", dir);
    snprintf (log, sizeof log, "%s/broker.log", dir);
    snprintf (spool, sizeof spool, "%s/spool", dir);
    snprintf (allow, sizeof allow, "%s/brokers", o->run);
    snprintf (secret, sizeof secret, "%s/keys/centre.cert_secret", o->run);
    snprintf (bcert, sizeof bcert, "%s/keys/%s.cert", o->run, S_BROKER_ID);
    snprintf (keys, sizeof keys, "%s/keys", o->run);
    mkdir (spool, 0700);
    ag_ingest_config_t icfg = {.id = "centre",
                               .endpoint = "tcp://127.0.0.1:*",
                               .allow_dir = allow,
                               .cert_secret = secret,
                               .store_path = agg_store};
    ag_ingest_t *ag = ag_ingest_new (&icfg, o->auth);
    if (!ag)
        return -1;
    int rc = -1, sout = -1;
    pid_t bpid = -1, spid = -1;
    s_rounds_t rounds = {0};
    s_walk_t walk = {0};
    s_broker_ini (ini, "tcp://127.0.0.1:*", o->run, b_store, S_BROKER_ID, ag_ingest_endpoint (ag));
    char *bargv[] = {(char *) o->broker, "-c", ini, NULL};
    char ep[S_LINE], line[S_LINE];
    bpid = s_spawn (bargv, NULL, NULL, log);
    if (bpid == -1 ||
        s_wait_listening (log, bpid, "mimamori-broker", ep, sizeof ep, 30000, ag) == -1) {
        fprintf (stderr, "bench_mesh: the broker did not start (see %s)\n", log);
        goto done;
    }
    char n_s[32], total_s[32], rate_s[32];
    snprintf (n_s, sizeof n_s, "%ld", o->sensors);
    snprintf (total_s, sizeof total_s, "%ld", total);
    snprintf (rate_s, sizeof rate_s, "%ld", rate);
    char *sargv[] = {(char *) o->self, "--child", "sensors", ep, bcert, keys, spool, n_s,
                     total_s,          rate_s,    NULL};
    spid = s_spawn (sargv, NULL, &sout, NULL);
    if (spid == -1)
        goto done;
    //  mimamori-aggregator's loop (ag_ingest_run_once with 100 ms), plus a look at the counters
    //  after each round: the end of the round that stores the last event is the finish line.
    double cpu_self0 = 0, cpu_b0 = 0, runq_self0 = 0, runq_b0 = 0;
    bool go = false;
    uint64_t wall_off = s_wall_ns () - s_mono_ns ();  //  wall = mono + wall_off (timeline)
    uint64_t t_end = 0,
             until = s_mono_ns () + ((uint64_t) S_WAIT_MS +
                                     (rate ? (uint64_t) total * 1000u / (uint64_t) rate : 0)) *
                                        1000000u;
    while (!t_end) {
        if (ag_ingest_run_once (ag, 100) == -1)
            fprintf (stderr, "bench_mesh: aggregator store write failed\n");
        ag_ingest_stats_t st;
        ag_ingest_stats (ag, &st);
        if (rounds.n == 0 || rounds.upto[rounds.n - 1] != st.stored) {
            if (rounds.n == rounds.cap) {
                size_t cap = rounds.cap ? rounds.cap * 2 : 4096;
                uint64_t *w = realloc (rounds.wall, cap * sizeof *w);
                if (w)
                    rounds.wall = w;
                uint64_t *u = realloc (rounds.upto, cap * sizeof *u);
                if (u)
                    rounds.upto = u;
                if (!w || !u)
                    goto done;
                rounds.cap = cap;
            }
            rounds.wall[rounds.n] = s_wall_ns ();
            rounds.upto[rounds.n++] = st.stored;
        }
        if (st.stored >= (uint64_t) total) {
            t_end = s_mono_ns ();
            m->cpu_agg = s_cpu_self () - cpu_self0;
            m->cpu_broker = s_cpu_of (bpid) - cpu_b0;
            m->runq_agg = s_runq_wait (0) - runq_self0;
            m->runq_broker = s_runq_wait (bpid) - runq_b0;
            break;
        }
        if (!go) {
            struct pollfd p = {sout, POLLIN, 0};
            if (poll (&p, 1, 0) == 1) {
                if (s_read_line (sout, line, sizeof line, 1000) == -1 || !strstr (line, "go"))
                    goto done;
                go = true;
                cpu_self0 = s_cpu_self ();
                cpu_b0 = s_cpu_of (bpid);
                runq_self0 = s_runq_wait (0);
                runq_b0 = s_runq_wait (bpid);
            }
        }
        if (waitpid (spid, NULL, WNOHANG) == spid) {
            s_track (spid, false);
            spid = -1;
            if (!go)
                goto done;
        }
        if (s_mono_ns () > until) {
            fprintf (stderr, "bench_mesh: %llu of %ld events stored at the aggregator in time\n",
                     (unsigned long long) st.stored, total);
            goto done;
        }
    }
    //  The sensors' report comes when the broker has acknowledged them all.
    if (s_read_line (sout, line, sizeof line, S_WAIT_MS) == -1 || !strstr (line, "done")) {
        fprintf (stderr, "bench_mesh: no report from the sensors\n");
        goto done;
    }
    uint64_t t0 = (uint64_t) s_kv (line, "t0"), t_acked = (uint64_t) s_kv (line, "acked");
    m->store_s = (double) (t_end - t0) / 1e9;
    m->acked_s = (double) (t_acked - t0) / 1e9;
    m->rate = (double) total / m->store_s;
    m->cpu_sensors = s_kv (line, "cpu");
    m->runq_sensors = s_kv (line, "runq");
    s_loadavg (m->load, sizeof m->load);
    if (getenv ("MM_BENCH_TIMELINE")) {
        double tick = 0;
        for (size_t r = 0; r < rounds.n; r++) {
            double t = ((double) rounds.wall[r] - (double) wall_off - (double) t0) / 1e9;
            if (t >= tick || r + 1 == rounds.n) {
                fprintf (stderr, "timeline aggregator t=%.2f stored=%llu\n", t,
                         (unsigned long long) rounds.upto[r]);
                while (tick <= t)
                    tick += 0.25;
            }
        }
    }
    if (spid != -1 && s_reap (spid, 10000) != 0)
        goto done;
    spid = -1;
    //  A few more rounds, so duplicates still in flight are counted.
    for (int i = 0; i < 5; i++)
        ag_ingest_run_once (ag, 20);
    ag_ingest_latency (ag, &m->lat);
    ag_ingest_stats_t st;
    ag_ingest_stats (ag, &st);
    m->agg_batches = st.batches;
    m->agg_dups = st.duplicates;
    m->agg_frames = st.frames;
    //  The aggregator's store, exactly: S sensors, each 1..its quota once, nothing else.
    walk.rounds = &rounds;
    walk.ev = malloc (sizeof *walk.ev);
    if (!walk.ev || ag_store_each (ag_ingest_store (ag), s_walk_fn, &walk) < 0)
        goto done;
    m->bad = walk.bad + (walk.count != total) + (walk.sensors != o->sensors);
    m->own_n = walk.hist.count;
    m->own_p50_us = mm_hist_quantile (&walk.hist, 0.5);
    m->own_p99_us = mm_hist_quantile (&walk.hist, 0.99);
    m->own_max_us = walk.hist.max_us;
    m->broker_hwm_kb = s_vm_kb (bpid, "VmHWM");
    kill (bpid, SIGTERM);
    int brc = s_reap (bpid, 10000);
    bpid = -1;
    char *text = s_read_file (log);
    if (text) {
        m->broker_batches = s_num_before (text, "batches,");
        m->broker_stored = s_num_before (text, "events stored");
        m->broker_dups = s_num_before (text, "duplicates, ");
        m->fwd_sent = s_num_before (text, "sent, ");
        m->fwd_rewinds = s_num_before (text, "rewinds");
    }
    free (text);
    if (m->bad)
        fprintf (stderr,
                 "bench_mesh: the aggregator's store is wrong: %ld events of %ld sensors, %ld "
                 "out of order or undecodable (expected %ld of %ld)\n",
                 walk.count, walk.sensors, walk.bad, total, o->sensors);
    if (brc != 0)
        fprintf (stderr, "bench_mesh: the broker exited with %d after SIGTERM (see %s)\n", brc,
                 log);
    if (m->broker_stored != total)
        fprintf (stderr, "bench_mesh: the broker stored %lld events, not %ld (see %s)\n",
                 m->broker_stored, total, log);
    rc = brc == 0 && m->bad == 0 && m->broker_stored == total ? 0 : -1;
done:
    if (spid != -1) {
        kill (spid, SIGKILL);
        s_reap (spid, 5000);
    }
    if (bpid != -1) {
        kill (bpid, SIGKILL);
        s_reap (bpid, 5000);
    }
    if (sout != -1)
        close (sout);
    free (walk.ev);
    free (rounds.wall);
    free (rounds.upto);
    ag_ingest_destroy (&ag);
    if (rc == 0)
        s_rm_rf (dir);
    else
        fprintf (stderr, "bench_mesh: left %s for inspection\n", dir);
    return rc;
}

static int
s_conns (const s_opts_t *o, char *result, size_t size)
{
    char dir[S_DIR], n[32], k[32], down[32], delay[32];
    snprintf (dir, sizeof dir, "%s/conns-XXXXXX", o->run);
    if (!mkdtemp (dir))
        return -1;
    snprintf (n, sizeof n, "%ld", o->conns);
    snprintf (k, sizeof k, "%ld", o->per_conn);
    snprintf (down, sizeof down, "%ld", o->down_ms);
    snprintf (delay, sizeof delay, "%ld", o->delay_ms);
    char *argv[] = {
        (char *) o->self, "--child", "conns", (char *) o->broker, dir, n, k, down, delay, NULL};
    int out = -1;
    pid_t pid = s_spawn (argv, NULL, &out, NULL);
    if (pid == -1)
        return -1;
    int len = s_read_line (out, result, size, 2 * S_WAIT_MS + 60000);
    int rc = s_reap (pid, len > 0 ? 30000 : 0);
    close (out);
    if (len <= 0 || rc != 0 || s_kv (result, "ok") != 1) {
        fprintf (stderr, "bench_mesh: conns failed (left %s for inspection)\n", dir);
        return -1;
    }
    s_rm_rf (dir);
    return 0;
}

static int
s_make_keys (s_opts_t *o)
{
    char path[S_PATH], err[256], name[32];
    const char *sub[] = {"keys", "brokers", "sensors"};
    for (size_t i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "%s/%s", o->run, sub[i]);
        if (mkdir (path, 0700) == -1)
            return -1;
    }
    snprintf (path, sizeof path, "%s/keys", o->run);
    mm_cert_t *agg = mm_cert_new (MM_ROLE_AGGREGATOR, "centre", NULL, NULL, err, sizeof err);
    mm_cert_t *br = mm_cert_new (MM_ROLE_BROKER, S_BROKER_ID, NULL, "bench", err, sizeof err);
    int rc = agg && br && mm_cert_save_pair (agg, path, false, err, sizeof err) == 0 &&
                     mm_cert_save_pair (br, path, false, err, sizeof err) == 0
                 ? 0
                 : -1;
    snprintf (path, sizeof path, "%s/brokers/%s.cert", o->run, S_BROKER_ID);
    if (rc == 0 && mm_cert_save_public (br, path, false, err, sizeof err) == -1)
        rc = -1;
    for (long i = 0; rc == 0 && i < o->sensors; i++) {
        s_sensor_name (name, sizeof name, i);
        char org[32];
        snprintf (org, sizeof org, "org-%04ld", i + 1);
        mm_cert_t *s = mm_cert_new (MM_ROLE_SENSOR, name, org, "bench", err, sizeof err);
        snprintf (path, sizeof path, "%s/keys", o->run);
        if (!s || mm_cert_save_pair (s, path, false, err, sizeof err) == -1)
            rc = -1;
        snprintf (path, sizeof path, "%s/sensors/%s.cert", o->run, name);
        if (rc == 0 && mm_cert_save_public (s, path, false, err, sizeof err) == -1)
            rc = -1;
        //  The frame size: this sensor's EVENT as the uplink encodes it, with a mid-run seq.
        if (rc == 0 && i == 0) {
            mm_event_t ev;
            s_sample_event (&ev);
            ev.sensor = mm_str (name);
            ev.org = mm_str (org);
            ev.seq = 100000;
            ev.ts = s_wall_ns ();
            mm_buf_t b = MM_BUF_INIT;
            mm_error_t merr;
            if (mm_event_encode (&ev, &b, &merr) == -1)
                rc = -1;
            o->frame = b.len;
            mm_buf_free (&b);
        }
        mm_cert_destroy (&s);
    }
    if (rc == -1)
        fprintf (stderr, "bench_mesh: keys: %s\n", err);
    mm_cert_destroy (&agg);
    mm_cert_destroy (&br);
    return rc;
}

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: bench_mesh [options] [raw] [tput] [lat] [conns]   (default: all four)\n"
             "  --broker PATH   mimamori-broker (default: ../../broker/mimamori-broker from here)\n"
             "  --dir DIR       parent of the working directory (default: $TMPDIR or /tmp)\n"
             "  --raw N         raw CURVE messages per repeat (1000000)\n"
             "  --repeats R     repeats of raw and tput, the median is reported (3)\n"
             "  --sensors S     sensors of tput and lat (10)\n"
             "  --events N      events of tput, over all sensors (200000)\n"
             "  --rate R        events/s of lat, over all sensors (10000)\n"
             "  --seconds T     duration of lat (10)\n"
             "  --conns C       sensor connections of conns (1000)\n"
             "  --per-conn K    events each connection sends before and after the restart (3)\n"
             "  --down-ms D     how long the broker stays down in conns (0)\n"
             "  --send-delay-ms M  conns: the sensors send again M ms after the kill (100)\n");
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
        const char *what = argv[2];
        if (strcmp (what, "raw-recv") == 0 && argc == 6)
            return s_child_raw_recv (argv + 3);
        if (strcmp (what, "raw-send") == 0 && argc == 8)
            return s_child_raw_send (argv + 3);
        if (strcmp (what, "sensors") == 0 && argc == 10)
            return s_child_sensors (argv + 3);
        if (strcmp (what, "conns") == 0 && argc == 9)
            return s_child_conns (argv + 3);
        fprintf (stderr, "bench_mesh: bad child arguments\n");
        return 2;
    }
    s_opts_t o = {.raw_n = 1000000,
                  .repeats = 3,
                  .sensors = 10,
                  .events = 200000,
                  .rate = 10000,
                  .seconds = 10,
                  .conns = 1000,
                  .per_conn = 3,
                  .delay_ms = 100};
    bool part[4] = {false, false, false, false};
    const char *parts[4] = {"raw", "tput", "lat", "conns"};
    const char *parent = getenv ("TMPDIR") && *getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    ssize_t sl = readlink ("/proc/self/exe", o.self, sizeof o.self - 1);
    if (sl <= 0)
        return 1;
    o.self[sl] = 0;
    snprintf (o.broker, sizeof o.broker, "%.*s/../../broker/mimamori-broker",
              (int) (strrchr (o.self, '/') - o.self), o.self);
    for (int i = 1; i < argc; i++) {
        struct {
            const char *flag;
            long *v, lo, hi;
        } nums[] = {
            {"--raw", &o.raw_n, 2, 100000000},    {"--repeats", &o.repeats, 1, S_REPEATS_MAX},
            {"--sensors", &o.sensors, 1, 1000},   {"--events", &o.events, 1, 100000000},
            {"--rate", &o.rate, 1, 1000000},      {"--seconds", &o.seconds, 1, 3600},
            {"--conns", &o.conns, 1, 8000},       {"--per-conn", &o.per_conn, 1, 1000},
            {"--down-ms", &o.down_ms, 0, 600000}, {"--send-delay-ms", &o.delay_ms, 0, 60000}};
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
        for (int j = 0; j < 4 && !known; j++)
            if (strcmp (argv[i], parts[j]) == 0)
                part[j] = known = true;
        if (!known && i + 1 < argc && strcmp (argv[i], "--broker") == 0) {
            snprintf (o.broker, sizeof o.broker, "%s", argv[++i]);
            known = true;
        }
        if (!known && i + 1 < argc && strcmp (argv[i], "--dir") == 0) {
            parent = argv[++i];
            known = true;
        }
        if (!known) {
            s_usage ();
            return 2;
        }
    }
    if (!part[0] && !part[1] && !part[2] && !part[3])
        part[0] = part[1] = part[2] = part[3] = true;
    if ((part[1] || part[2] || part[3]) && access (o.broker, X_OK) == -1) {
        fprintf (stderr, "bench_mesh: %s: not found (give --broker)\n", o.broker);
        return 2;
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction (SIGPIPE, &sa, NULL);
    zsys_set_logstream (stderr);
    snprintf (o.run, sizeof o.run, "%s/mm-bench-mesh-XXXXXX", parent);
    if (!mkdtemp (o.run) || s_make_keys (&o) == -1) {
        fprintf (stderr, "bench_mesh: cannot set up %s\n", o.run);
        return 1;
    }
    char load[64];
    s_loadavg (load, sizeof load);
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    printf ("bench_mesh: EVENT frames of %zu bytes (the DNS sample event), tcp://127.0.0.1, "
            "stores under %s; %ld cores, load average %s at the start\n\n",
            o.frame, parent, cores, load);
    fflush (stdout);
    int status = 0;
    double raw = 0, raw_cpu = 0, raw_rx = 0, raw_tx = 0;
    if (part[0]) {
        double rates[S_REPEATS_MAX], rx[S_REPEATS_MAX], tx[S_REPEATS_MAX];
        for (long r = 0; r < o.repeats; r++) {
            rates[r] = s_raw_once (&o, &rx[r], &tx[r]);
            status |= rates[r] == 0;
            fprintf (stderr, "bench_mesh: raw CURVE run %ld: %.0f msgs/s\n", r + 1, rates[r]);
        }
        double sorted[S_REPEATS_MAX];
        memcpy (sorted, rates, sizeof rates);
        qsort (sorted, (size_t) o.repeats, sizeof sorted[0], s_cmp_double);
        raw = sorted[o.repeats / 2];
        for (long r = 0; r < o.repeats; r++)
            if (rates[r] == raw) {
                raw_rx = rx[r] / (double) o.raw_n * 1e6;
                raw_tx = tx[r] / (double) o.raw_n * 1e6;
                raw_cpu = raw_rx + raw_tx;
            }
        printf ("raw CURVE PUSH->PULL, %ld messages of %zu bytes, median of %ld: %.0f msgs/s "
                "(runs:",
                o.raw_n, o.frame, o.repeats, raw);
        for (long r = 0; r < o.repeats; r++)
            printf (" %.0f", rates[r]);
        printf ("); CPU per message: sender %.2f us, receiver %.2f us\n\n", raw_tx, raw_rx);
        fflush (stdout);
    }
    if (part[1] || part[2]) {
        o.auth = mm_curve_auth_new ();
        if (!o.auth) {
            fprintf (stderr, "bench_mesh: no ZAP handler\n");
            return 1;
        }
    }
    s_mesh_t tput = {0}, lat = {0};
    if (part[1]) {
        s_mesh_t runs[S_REPEATS_MAX];
        double rates[S_REPEATS_MAX];
        long ok = 0;
        for (long r = 0; r < o.repeats; r++) {
            if (s_mesh_once (&o, o.events, 0, &runs[ok]) == -1) {
                status = 1;
                continue;
            }
            fprintf (stderr, "bench_mesh: mesh run %ld: %.0f events/s\n", r + 1, runs[ok].rate);
            rates[ok] = runs[ok].rate;
            ok++;
        }
        if (ok) {
            double sorted[S_REPEATS_MAX];
            memcpy (sorted, rates, sizeof rates);
            qsort (sorted, (size_t) ok, sizeof sorted[0], s_cmp_double);
            for (long r = 0; r < ok; r++)
                if (rates[r] == sorted[ok / 2])
                    tput = runs[r];
            const s_mesh_t *t = &tput;
            double cpu = t->cpu_sensors + t->cpu_broker + t->cpu_agg;
            printf ("durable sensor->broker->aggregator, %ld sensors, %ld events, median of %ld: "
                    "%.0f events/s (runs:",
                    o.sensors, o.events, ok, t->rate);
            for (long r = 0; r < ok; r++)
                printf (" %.0f", rates[r]);
            printf (")\n  all stored at the aggregator after %.3f s, all acked to the sensors "
                    "after %.3f s\n",
                    t->store_s, t->acked_s);
            double per = cpu / (double) o.events * 1e6;
            printf (
                "  CPU per event: sensors %.2f us, broker %.2f us, aggregator %.2f us = %.2f us "
                "(raw CURVE: %.2f us per message); %.2f cores busy of %ld; CPU-bound ceiling "
                "here %.0f events/s (%.2f of raw)\n",
                t->cpu_sensors / (double) o.events * 1e6, t->cpu_broker / (double) o.events * 1e6,
                t->cpu_agg / (double) o.events * 1e6, per, raw_cpu, cpu / t->store_s, cores,
                (double) cores / per * 1e6, raw > 0 ? (double) cores / per * 1e6 / raw : 0);
            printf ("  runnable but waiting for a core: sensors %.2f s, broker %.2f s, aggregator "
                    "%.2f s in %.2f s; load average %s at the end\n",
                    t->runq_sensors, t->runq_broker, t->runq_agg, t->store_s, t->load);
            printf ("  broker: %lld batches (%.0f events per fsync), %lld duplicates, forwarded "
                    "%lld frames, %lld rewinds, peak RSS %.1f MB; aggregator: %llu batches (%.0f "
                    "per fsync), %llu duplicates; sensors resent %.0f (%.0f timeouts)\n\n",
                    t->broker_batches,
                    t->broker_batches > 0 ? (double) o.events / (double) t->broker_batches : 0,
                    t->broker_dups, t->fwd_sent, t->fwd_rewinds, (double) t->broker_hwm_kb / 1024,
                    (unsigned long long) t->agg_batches,
                    t->agg_batches ? (double) o.events / (double) t->agg_batches : 0,
                    (unsigned long long) t->agg_dups, t->resent, t->timeouts);
            fflush (stdout);
        }
    }
    if (part[2]) {
        if (s_mesh_once (&o, o.rate * o.seconds, o.rate, &lat) == -1)
            status = 1;
        else {
            printf ("latency sensor->aggregator store at %ld events/s for %ld s (%ld sensors): "
                    "ag_ingest: %llu events, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms "
                    "(%llu not live); cross-check from round times: %llu events, p50 %.1f ms, "
                    "p99 %.1f ms, max %.1f ms\n",
                    o.rate, o.seconds, o.sensors, (unsigned long long) lat.lat.n,
                    (double) lat.lat.p50_us / 1e3, (double) lat.lat.p90_us / 1e3,
                    (double) lat.lat.p99_us / 1e3, (double) lat.lat.max_us / 1e3,
                    (unsigned long long) lat.lat.skipped, (unsigned long long) lat.own_n,
                    (double) lat.own_p50_us / 1e3, (double) lat.own_p99_us / 1e3,
                    (double) lat.own_max_us / 1e3);
            printf ("  CPU: sensors %.2f s, broker %.2f s, aggregator %.2f s in %.2f s; runnable "
                    "but waiting for a core: %.2f s, %.2f s, %.2f s; load average %s at the end\n",
                    lat.cpu_sensors, lat.cpu_broker, lat.cpu_agg, lat.store_s, lat.runq_sensors,
                    lat.runq_broker, lat.runq_agg, lat.load);
            printf ("  broker %lld batches (%.1f events per fsync), aggregator %llu batches (%.1f "
                    "per fsync)\n\n",
                    lat.broker_batches,
                    lat.broker_batches > 0 ? (double) lat.total / (double) lat.broker_batches : 0,
                    (unsigned long long) lat.agg_batches,
                    lat.agg_batches ? (double) lat.total / (double) lat.agg_batches : 0);
            fflush (stdout);
        }
    }
    char conns[S_LINE] = "";
    if (part[3]) {
        if (s_conns (&o, conns, sizeof conns) == -1)
            status = 1;
        else {
            char c_by[128], s_by[128];
            printf (
                "%ld CURVE sensor connections on one broker (%ld events each, before and "
                "after a kill -9 of the broker):\n  all connected and acked %.2f s after the "
                "first connect (p50 %.2f s, p90 %.2f s; making the clients took %.2f s); "
                "acked by 0.25/0.5/1/1.5/2/3/5/10 s: %s; listen queue overflows %.0f\n"
                "  storm: broker restarted %.3f s after the kill, listening after %.3f s, "
                "sensors sending from %.2f s; all acked again %.2f s after the kill (first "
                "%.2f s, p50 %.2f s, p90 %.2f s, p99 %.2f s); acked by 0.25/.../10 s: %s; "
                "resends after %d s without ACK: %.0f; listen queue overflows %.0f\n"
                "  peak RSS: broker %.1f MB (%.1f MB after the restart), client process %.1f MB "
                "(%.1f kB per connection); broker CPU %.2f s for the first connects\n\n",
                o.conns, o.per_conn, s_kv (conns, "connect_s"), s_kv (conns, "c_p50"),
                s_kv (conns, "c_p90"), s_kv (conns, "create_s"),
                s_kv_str (conns, "c_by", c_by, sizeof c_by), s_kv (conns, "overflows1"),
                s_kv (conns, "spawn_s"), s_kv (conns, "listen_s"), (double) o.delay_ms / 1e3,
                s_kv (conns, "storm_s"), s_kv (conns, "s_min"), s_kv (conns, "s_p50"),
                s_kv (conns, "s_p90"), s_kv (conns, "s_p99"),
                s_kv_str (conns, "s_by", s_by, sizeof s_by), S_CONN_RESEND_MS / 1000,
                s_kv (conns, "resends2"), s_kv (conns, "overflows2"),
                s_kv (conns, "b1_hwm_kb") / 1024, s_kv (conns, "b2_hwm_kb") / 1024,
                s_kv (conns, "client_hwm_kb") / 1024,
                s_kv (conns, "client_hwm_kb") / (double) o.conns, s_kv (conns, "b1_cpu"));
            fflush (stdout);
        }
    }
    //  The table of the goals, ratios to raw CURVE of this run.
    printf ("| measure | figure | raw CURVE PUSH->PULL (same run) | ratio | goal |\n"
            "|---|---|---|---|---|\n");
    if (part[1] && tput.rate > 0)
        printf ("| durable, acknowledged sensor->broker->aggregator (%ld sensors) | %.0f events/s "
                "| %.0f msgs/s | %.2f | >= 0.50: %s |\n",
                o.sensors, tput.rate, raw, raw > 0 ? tput.rate / raw : 0,
                raw > 0 ? s_goal (tput.rate / raw >= 0.5) : "no reference");
    if (part[2] && lat.lat.n)
        printf ("| p99 sensor->aggregator store at %ld events/s | %.1f ms (p50 %.1f, max %.1f) | "
                "| | < 50 ms: %s |\n",
                o.rate, (double) lat.lat.p99_us / 1e3, (double) lat.lat.p50_us / 1e3,
                (double) lat.lat.max_us / 1e3, s_goal (lat.lat.p99_us < 50000));
    if (part[3] && conns[0]) {
        printf ("| %ld CURVE sensors on one broker: all connected and acked | %.2f s | | | "
                "%ld of %ld acked: %s |\n",
                o.conns, s_kv (conns, "connect_s"), o.conns, o.conns, s_goal (true));
        printf ("| reconnect storm after kill -9 and restart: all acked again | %.2f s after the "
                "kill (broker listening after %.2f s) | | | reported |\n",
                s_kv (conns, "storm_s"), s_kv (conns, "listen_s"));
        printf ("| peak RSS, broker / client process (%ld connections) | %.1f MB / %.1f MB | | | "
                "reported |\n",
                o.conns, s_kv (conns, "b1_hwm_kb") / 1024, s_kv (conns, "client_hwm_kb") / 1024);
    }
    if (o.auth)
        mm_curve_auth_destroy (&o.auth);
    s_kill_children ();
    if (status == 0)
        s_rm_rf (o.run);
    else
        fprintf (stderr, "bench_mesh: failures above; working files left in %s\n", o.run);
    return status;
}
