/*  bench_curve: the transport reference of issue 5. Throughput of 200-byte messages over
    tcp://127.0.0.1 between two processes (each with its own ZeroMQ context and I/O thread):
      mm_curve DEALER->ROUTER   the product's sockets: ZAP handler, allow-list check on every
                                message, the options of mm_curve.h, zframe receive path
      raw CURVE DEALER->ROUTER  libzmq CURVE, no ZAP, default options, zmq_recv into a buffer
      raw CURVE PUSH->PULL      the figure the goals are ratios of
      plaintext PUSH->PULL      reference only: plaintext exists in this benchmark and nowhere
                                else in Mimamori (every product socket is made by mm_curve)
    The receiver times from its first to its last message (as libzmq's local_thr does).
    Usage: bench_curve [messages] [repeats] [scenario 1-4, default all]. Prints a Markdown
    table. Owner: proto/ (security). */
#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mm_curve.h"

#define S_SIZE 200
#define S_IDLE_MS 20000  //  a receiver that gets nothing for this long gives up

typedef enum { S_MM_CURVE, S_RAW_DEALER, S_RAW_PUSH, S_PLAIN_PUSH, S_SCENARIOS } s_kind_t;

static const char *s_names[] = {
    "mm_curve DEALER->ROUTER (ZAP + allow-list)",
    "raw CURVE DEALER->ROUTER",
    "raw CURVE PUSH->PULL",
    "plaintext PUSH->PULL (reference only)",
};

typedef struct {
    s_kind_t kind;
    long n;
    mm_cert_t *server, *client;
    const char *allow_dir;
} s_run_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_write_all (int fd, const void *data, size_t len)
{
    const char *p = (const char *) data;
    while (len) {
        ssize_t w = write (fd, p, len);
        if (w == -1 && errno == EINTR)
            continue;
        if (w <= 0)
            exit (3);
        p += w, len -= (size_t) w;
    }
}

static int
s_read_all (int fd, void *data, size_t len)
{
    char *p = (char *) data;
    while (len) {
        ssize_t r = read (fd, p, len);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r, len -= (size_t) r;
    }
    return 0;
}

//  Raw CURVE on a socket made here: only the benchmark does this (see the file comment).
static void
s_raw_curve (zsock_t *sock, const mm_cert_t *own, const char *server_key, bool server)
{
    zsock_set_curve_publickey_bin (sock, mm_cert_public_key (own));
    zsock_set_curve_secretkey_bin (sock, mm_cert_secret_key (own));
    if (server)
        zsock_set_curve_server (sock, 1);
    else
        zsock_set_curve_serverkey (sock, server_key);
}

//  The receiving process: binds, tells the sender where (ep_fd), receives n messages, writes
//  the rate (msgs/s, 0 on failure) to res_fd, then releases the sender (done_fd).
static int
s_receiver (const s_run_t *run, int ep_fd, int res_fd, int done_fd)
{
    mm_curve_auth_t *auth = NULL;
    mm_curve_server_t *server = NULL;
    zsock_t *sock = NULL;
    char endpoint[256] = "";
    if (run->kind == S_MM_CURVE) {
        auth = mm_curve_auth_new ();
        mm_curve_server_config_t cfg = {.endpoint = "tcp://127.0.0.1:*",
                                        .domain = "bench",
                                        .allow_dir = run->allow_dir,
                                        .roles = MM_ROLE_BIT (MM_ROLE_SENSOR)};
        server = auth ? mm_curve_server_new (auth, run->server, &cfg) : NULL;
        if (!server)
            return 1;
        snprintf (endpoint, sizeof endpoint, "%s", mm_curve_server_endpoint (server));
        sock = mm_curve_server_sock (server);
    }
    else {
        sock = zsock_new (run->kind == S_RAW_DEALER ? ZMQ_ROUTER : ZMQ_PULL);
        if (run->kind != S_PLAIN_PUSH)
            s_raw_curve (sock, run->server, NULL, true);
        if (zsock_bind (sock, "tcp://127.0.0.1:*") == -1)
            return 1;
        char *ep = zsock_last_endpoint (sock);
        snprintf (endpoint, sizeof endpoint, "%s", ep);
        zstr_free (&ep);
    }
    s_write_all (ep_fd, endpoint, sizeof endpoint);
    zsock_set_rcvtimeo (sock, S_IDLE_MS);
    void *handle = zsock_resolve (sock);
    char buf[S_SIZE + 64];
    double start = 0, end = 0;
    long got = 0;
    while (got < run->n) {
        if (run->kind == S_MM_CURVE) {
            zframe_t *rid = NULL;
            mm_identity_t peer;
            zframe_t *f = mm_curve_server_recv (server, &rid, &peer);
            if (!f)
                break;
            zframe_destroy (&f);
            zframe_destroy (&rid);
        }
        else {
            if (run->kind == S_RAW_DEALER && zmq_recv (handle, buf, sizeof buf, 0) == -1)
                break;  //  the routing id
            if (zmq_recv (handle, buf, sizeof buf, 0) == -1)
                break;
        }
        if (got++ == 0)
            start = s_now ();
    }
    end = s_now ();
    double rate = got == run->n && end > start ? (double) (run->n - 1) / (end - start) : 0;
    if (got != run->n)
        fprintf (stderr, "bench_curve: %s: received %ld of %ld\n", s_names[run->kind], got, run->n);
    s_write_all (res_fd, &rate, sizeof rate);
    s_write_all (done_fd, "x", 1);
    if (server) {
        mm_curve_server_destroy (&server);
        mm_curve_auth_destroy (&auth);
    }
    else
        zsock_destroy (&sock);
    return rate > 0 ? 0 : 1;
}

//  The sending process: connects where the receiver says, sends n messages as fast as the
//  socket takes them (waiting on POLLOUT when it does not), then stays until released so that
//  nothing queued is lost on close.
static int
s_sender (const s_run_t *run, int ep_fd, int done_fd)
{
    char endpoint[256];
    if (s_read_all (ep_fd, endpoint, sizeof endpoint) == -1)
        return 1;
    mm_curve_client_t *client = NULL;
    zsock_t *sock = NULL;
    if (run->kind == S_MM_CURVE) {
        client = mm_curve_client_new (endpoint, run->client, mm_cert_public_txt (run->server));
        if (!client)
            return 1;
        sock = mm_curve_client_sock (client);
    }
    else {
        sock = zsock_new (run->kind == S_RAW_DEALER ? ZMQ_DEALER : ZMQ_PUSH);
        if (run->kind != S_PLAIN_PUSH)
            s_raw_curve (sock, run->client, mm_cert_public_txt (run->server), false);
        if (zsock_connect (sock, "%s", endpoint) == -1)
            return 1;
    }
    void *handle = zsock_resolve (sock);
    char msg[S_SIZE];
    memset (msg, 'e', sizeof msg);
    for (long i = 0; i < run->n; i++) {
        memcpy (msg, &i, sizeof i);
        for (;;) {
            int rc = client ? mm_curve_client_send (client, msg, sizeof msg)
                            : zmq_send (handle, msg, sizeof msg, ZMQ_DONTWAIT);
            if (rc != -1)
                break;
            if (errno != EAGAIN && zmq_errno () != EAGAIN)
                return 1;
            zmq_pollitem_t item = {handle, 0, ZMQ_POLLOUT, 0};
            zmq_poll (&item, 1, 100);
        }
    }
    char c;
    s_read_all (done_fd, &c, 1);
    if (client)
        mm_curve_client_destroy (&client);
    else
        zsock_destroy (&sock);
    return 0;
}

//  One measurement: two fresh processes (so each has its own context; the parent never opens
//  a ZeroMQ socket, which is what makes forking safe). Returns msgs/s, 0 on failure.
static double
s_measure (const s_run_t *run)
{
    int ep[2], res[2], done[2];
    if (pipe (ep) || pipe (res) || pipe (done))
        return 0;
    //  Each child closes the ends it does not use, so that a peer that dies shows as EOF.
    //  Children leave with zsys_shutdown + _exit: no atexit handlers or stdio buffers of the
    //  parent run twice, and CZMQ is told to finish first (it loses queued output otherwise).
    fflush (stdout);
    pid_t rx = fork ();
    if (rx == 0) {
        close (ep[0]), close (res[0]), close (done[0]);
        int rc = s_receiver (run, ep[1], res[1], done[1]);
        zsys_shutdown ();
        _exit (rc);
    }
    pid_t tx = fork ();
    if (tx == 0) {
        close (ep[1]), close (res[0]), close (res[1]), close (done[1]);
        int rc = s_sender (run, ep[0], done[0]);
        zsys_shutdown ();
        _exit (rc);
    }
    close (ep[0]), close (ep[1]), close (res[1]), close (done[0]), close (done[1]);
    double rate = 0;
    if (s_read_all (res[0], &rate, sizeof rate) == -1)
        rate = 0;
    close (res[0]);
    int st;
    if (rate == 0) {
        kill (tx, SIGKILL);
        kill (rx, SIGKILL);
    }
    waitpid (rx, &st, 0);
    waitpid (tx, &st, 0);
    return rate;
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
    long n = argc > 1 ? strtol (argv[1], NULL, 10) : 1000000;
    int repeats = argc > 2 ? (int) strtol (argv[2], NULL, 10) : 3;
    long only = argc > 3 ? strtol (argv[3], NULL, 10) : 0;
    if (n < 2 || repeats < 1 || repeats > 20 || only < 0 || only > S_SCENARIOS) {
        fprintf (stderr, "usage: bench_curve [messages >= 2] [repeats 1..20] [scenario 1..4]\n");
        return 2;
    }
    //  Keys and the allow-list directory are made before any fork, without a ZeroMQ context.
    char err[256], dir[] = "/tmp/mm-bench-curve-XXXXXX", path[512];
    s_run_t run = {.n = n, .allow_dir = dir};
    run.server = mm_cert_new (MM_ROLE_BROKER, "bench-broker", NULL, "bench", err, sizeof err);
    run.client = mm_cert_new (MM_ROLE_SENSOR, "bench-sensor", "org", "bench", err, sizeof err);
    if (!run.server || !run.client || !mkdtemp (dir)) {
        fprintf (stderr, "bench_curve: setup: %s\n", err);
        return 1;
    }
    snprintf (path, sizeof path, "%s/bench-sensor.cert", dir);
    if (mm_cert_save_public (run.client, path, false, err, sizeof err) == -1) {
        fprintf (stderr, "bench_curve: %s\n", err);
        return 1;
    }
    printf ("bench_curve: %ld messages of %d bytes over tcp://127.0.0.1, two processes, "
            "median of %d runs\n\n",
            n, S_SIZE, repeats);
    printf ("| scenario | msgs/s (median) | min - max | MB/s |\n|---|---:|---:|---:|\n");
    double median[S_SCENARIOS] = {0};
    int status = 0;
    for (int k = 0; k < S_SCENARIOS; k++) {
        if (only && k != only - 1)
            continue;
        double rates[20];
        run.kind = (s_kind_t) k;
        for (int r = 0; r < repeats; r++) {
            rates[r] = s_measure (&run);
            status |= rates[r] == 0;
        }
        qsort (rates, (size_t) repeats, sizeof rates[0], s_cmp);
        median[k] = rates[repeats / 2];
        printf ("| %s | %.0f | %.0f - %.0f | %.1f |\n", s_names[k], median[k], rates[0],
                rates[repeats - 1], median[k] * S_SIZE / 1e6);
        fflush (stdout);
    }
    if (median[S_RAW_PUSH] > 0)
        printf ("\nmm_curve DEALER->ROUTER / raw CURVE PUSH->PULL: %.2f; raw CURVE / plaintext "
                "PUSH->PULL: %.2f\n",
                median[S_MM_CURVE] / median[S_RAW_PUSH],
                median[S_PLAIN_PUSH] > 0 ? median[S_RAW_PUSH] / median[S_PLAIN_PUSH] : 0);
    unlink (path);
    rmdir (dir);
    mm_cert_destroy (&run.server);
    mm_cert_destroy (&run.client);
    return status;
}
