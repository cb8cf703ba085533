/*  mm_httpd and mm_prom: pages served over a real loopback socket, the exposition format. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mm_httpd.h"
#include "mm_prom.h"

//  One request over a fresh connection; the whole reply (headers and body) into `out`.
static size_t
s_request (uint16_t port, const char *request, char *out, size_t outlen)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    cr_assert (fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons (port)};
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    cr_assert_eq (connect (fd, (struct sockaddr *) &sa, sizeof sa), 0);
    cr_assert_eq (write (fd, request, strlen (request)), (ssize_t) strlen (request));
    size_t got = 0;
    ssize_t n;
    while (got + 1 < outlen && (n = read (fd, out + got, outlen - 1 - got)) > 0)
        got += (size_t) n;
    out[got] = 0;
    close (fd);
    return got;
}

static size_t
s_get (uint16_t port, const char *path, char *out, size_t outlen)
{
    char req[512];
    snprintf (req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n",
              path, port);
    return s_request (port, req, out, outlen);
}

Test (mm_httpd, serves_published_pages)
{
    char err[256], reply[4096];
    mm_httpd_t *http = mm_httpd_new ("127.0.0.1:0", err, sizeof err);
    cr_assert_not_null (http, "%s", err);
    uint16_t port = mm_httpd_port (http);
    cr_assert_gt (port, 0);
    cr_assert_eq (mm_httpd_publish (http, "/metrics", "text/plain; version=0.0.4", "a 1\n", 4), 0);
    s_get (port, "/metrics", reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 200"), "%s", reply);
    cr_assert (strstr (reply, "Content-Type: text/plain; version=0.0.4"), "%s", reply);
    cr_assert (strstr (reply, "Content-Security-Policy: default-src 'self'"), "%s", reply);
    cr_assert (strstr (reply, "Cache-Control: no-store"), "%s", reply);
    cr_assert (strstr (reply, "\r\n\r\na 1\n"), "%s", reply);
    //  A query string does not change the page; a replaced page is served whole.
    cr_assert_eq (mm_httpd_publish (http, "/metrics", "text/plain", "b 2\n", 4), 0);
    s_get (port, "/metrics?x=1", reply, sizeof reply);
    cr_assert (strstr (reply, "\r\n\r\nb 2\n"), "%s", reply);
    //  Unknown path, removed page, other methods.
    s_get (port, "/nothing", reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 404"), "%s", reply);
    mm_httpd_unpublish (http, "/metrics");
    s_get (port, "/metrics", reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 404"), "%s", reply);
    char post[256];
    snprintf (post, sizeof post,
              "POST /metrics HTTP/1.1\r\nHost: localhost:%u\r\nContent-Length: 3\r\n"
              "Connection: close\r\n\r\nabc",
              port);
    s_request (port, post, reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 405"), "%s", reply);
    //  An empty page is a page.
    cr_assert_eq (mm_httpd_publish (http, "/empty", "text/plain", "", 0), 0);
    s_get (port, "/empty", reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 200"), "%s", reply);
    mm_httpd_stats_t st;
    mm_httpd_stats (http, &st);
    cr_assert_eq (st.requests, 3);
    cr_assert_eq (st.missing, 2);
    cr_assert_eq (st.refused, 1);
    //  Paths must be absolute.
    cr_assert_eq (mm_httpd_publish (http, "metrics", "text/plain", "x", 1), -1);
    mm_httpd_destroy (&http);
    cr_assert_null (http);
}

Test (mm_httpd, bad_listen_addresses_are_explained)
{
    char err[256];
    const char *bad[] = {"localhost:80",    "127.0.0.1", "127.0.0.1:x",
                         "127.0.0.1:70000", ":80",       "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        cr_assert_null (mm_httpd_new (bad[i], err, sizeof err), "%s", bad[i]);
        cr_assert (strstr (err, bad[i]), "%s: %s", bad[i], err);
    }
    //  The port taken: refused with the address in the reason.
    mm_httpd_t *a = mm_httpd_new ("127.0.0.1:0", err, sizeof err);
    cr_assert_not_null (a);
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%u", mm_httpd_port (a));
    cr_assert_null (mm_httpd_new (listen, err, sizeof err));
    cr_assert (strstr (err, listen), "%s", err);
    mm_httpd_destroy (&a);
}

Test (mm_httpd, ipv6_loopback)
{
    char err[256];
    mm_httpd_t *http = mm_httpd_new ("[::1]:0", err, sizeof err);
    if (!http)
        cr_skip_test ("no IPv6 loopback here: %s", err);
    cr_assert_gt (mm_httpd_port (http), 0);
    mm_httpd_destroy (&http);
}

typedef struct {
    uint16_t port;
    int torn;
} s_reader_t;

static void *
s_reader (void *arg)
{
    s_reader_t *r = arg;
    char reply[70000];
    for (int i = 0; i < 200; i++) {
        s_get (r->port, "/big", reply, sizeof reply);
        char *body = strstr (reply, "\r\n\r\n");
        if (!body)
            continue;
        body += 4;
        //  Every page is one letter repeated: a mix would be a torn read.
        for (char *c = body; *c; c++)
            if (*c != body[0])
                r->torn++;
    }
    return NULL;
}

Test (mm_httpd, pages_replaced_while_read_are_never_torn)
{
    char err[256];
    mm_httpd_t *http = mm_httpd_new ("127.0.0.1:0", err, sizeof err);
    cr_assert_not_null (http);
    static char page[60000];
    memset (page, 'a', sizeof page);
    mm_httpd_publish (http, "/big", "text/plain", page, sizeof page);
    s_reader_t r = {mm_httpd_port (http), 0};
    pthread_t t;
    pthread_create (&t, NULL, s_reader, &r);
    for (int i = 0; i < 2000; i++) {
        memset (page, 'a' + i % 26, sizeof page);
        cr_assert_eq (mm_httpd_publish (http, "/big", "text/plain", page, sizeof page), 0);
    }
    pthread_join (t, NULL);
    cr_assert_eq (r.torn, 0);
    mm_httpd_destroy (&http);
}

Test (mm_prom, exposition_format)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_prom_t p = {&out, false};
    mm_prom_counter (&p, "mimamori_x_events_total", "Events received.", 42);
    mm_prom_gauge (&p, "mimamori_x_spool_depth", "Events in the spool.", 7);
    mm_prom_family (&p, "mimamori_x_drops_total", "counter", "Drops by reason.");
    mm_prom_sample (&p, "mimamori_x_drops_total", "reason", "bad_frame", 3);
    //  Not a word of the code: could be an org id or an address.
    mm_prom_sample (&p, "mimamori_x_drops_total", "reason", "Company 01", 1);
    mm_prom_sample (&p, "mimamori_x_drops_total", "reason", "192.0.2.1:80", 1);
    mm_prom_sample (&p, "mimamori_x_drops_total", "reason", "192.0.2.1", 1);
    mm_prom_sample (&p, "mimamori_x_drops_total", "reason", "www.example.co.jp", 1);
    mm_hist_t h;
    mm_hist_reset (&h);
    for (uint64_t v = 1; v <= 20; v++)
        mm_hist_add (&h, v * 1000);  //  1 .. 20 ms
    mm_prom_summary (&p, "mimamori_x_latency_seconds", "Latency.", &h);
    mm_prom_gauge (&p, "mimamori_x_ratio", "A fraction.", 0.25);
    cr_assert_not (mm_prom_failed (&p));
    mm_buf_append (&out, "", 1);
    const char *text = (const char *) out.data;
    cr_assert (strstr (text, "# HELP mimamori_x_events_total Events received.\n"
                             "# TYPE mimamori_x_events_total counter\n"
                             "mimamori_x_events_total 42\n"),
               "%s", text);
    cr_assert (strstr (text, "# TYPE mimamori_x_spool_depth gauge\nmimamori_x_spool_depth 7\n"));
    cr_assert (strstr (text, "mimamori_x_drops_total{reason=\"bad_frame\"} 3\n"));
    cr_assert (strstr (text, "mimamori_x_drops_total{reason=\"invalid\"} 1\n"));
    cr_assert_null (strstr (text, "Company"));
    cr_assert_null (strstr (text, "192.0.2.1"));
    cr_assert_null (strstr (text, "example"));
    cr_assert (strstr (text, "mimamori_x_latency_seconds{quantile=\"0.5\"} 0.010"), "%s", text);
    cr_assert (strstr (text, "mimamori_x_latency_seconds{quantile=\"1\"} 0.020000\n"), "%s", text);
    cr_assert (strstr (text, "mimamori_x_latency_seconds_sum 0.210000\n"), "%s", text);
    cr_assert (strstr (text, "mimamori_x_latency_seconds_count 20\n"), "%s", text);
    cr_assert (strstr (text, "mimamori_x_ratio 0.25\n"), "%s", text);
    //  A bad name fails the rendering instead of writing a line Prometheus would refuse.
    mm_prom_counter (&p, "mimamori x", "Bad.", 1);
    cr_assert (mm_prom_failed (&p));
    cr_assert_not (mm_prom_name_ok ("1abc"));
    cr_assert (mm_prom_name_ok ("a:b_c1"));
    mm_buf_free (&out);
}

Test (mm_httpd, answers_only_its_own_host)
{
    //  DNS rebinding: a page served as evil.example whose name now points at 127.0.0.1.
    char err[256], reply[4096], req[512];
    mm_httpd_t *http = mm_httpd_new ("127.0.0.1:0", err, sizeof err);
    cr_assert_not_null (http);
    uint16_t port = mm_httpd_port (http);
    mm_httpd_publish (http, "/api/state.json", "application/json", "{}", 2);
    char hosts[4][64];
    snprintf (hosts[0], sizeof hosts[0], "evil.example");
    snprintf (hosts[1], sizeof hosts[1], "evil.example:%u", port);
    snprintf (hosts[2], sizeof hosts[2], "127.0.0.2:%u", port);
    snprintf (hosts[3], sizeof hosts[3], "127.0.0.1:%u", port + 1);
    for (size_t i = 0; i < 4; i++) {
        snprintf (req, sizeof req,
                  "GET /api/state.json HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                  hosts[i]);
        s_request (port, req, reply, sizeof reply);
        cr_assert (strstr (reply, "HTTP/1.1 421"), "%s: %s", hosts[i], reply);
        cr_assert_null (strstr (reply, "\r\n\r\n{}"), "%s", hosts[i]);
    }
    //  Its own address and localhost, in any case.
    snprintf (req, sizeof req,
              "GET /api/state.json HTTP/1.1\r\nHost: LOCALHOST:%u\r\nConnection: close\r\n\r\n",
              port);
    s_request (port, req, reply, sizeof reply);
    cr_assert (strstr (reply, "HTTP/1.1 200"), "%s", reply);
    mm_httpd_stats_t st;
    mm_httpd_stats (http, &st);
    cr_assert_eq (st.misdirected, 4);
    mm_httpd_destroy (&http);
}
