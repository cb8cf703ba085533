/*  mm_httpd: published pages over libmicrohttpd (see mm_httpd.h). */
#include "mm_httpd.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

//  Bounds against a client holding connections open: idle ones go after 10 s.
#define S_CONNECTIONS 64
#define S_IDLE_S 10
#define S_CSP                                                                                      \
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "                 \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

typedef struct {
    char *type;
    uint8_t *data;
    size_t len;
} s_page_t;

#define S_HOSTS 4

struct mm_httpd_t {
    struct MHD_Daemon *daemon;
    uint16_t port;
    //  The Host headers it answers to (none: any, for a wildcard address). A page on
    //  loopback must not answer a name a web page chose: DNS rebinding would let any site
    //  the operator opens read the console's data.
    char hosts[S_HOSTS][80];
    size_t n_hosts;
    pthread_mutex_t lock;  //  guards pages and stats: the loop publishes, MHD's thread reads
    zhashx_t *pages;       //  path -> s_page_t
    mm_httpd_stats_t stats;
};

static void
s_page_destroy (void **item)
{
    s_page_t *page = (s_page_t *) *item;
    if (page) {
        free (page->type);
        free (page->data);
        free (page);
        *item = NULL;
    }
}

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status, const char *type, const void *data,
         size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer (len, (void *) data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header (resp, "Content-Type", type);
    MHD_add_response_header (resp, "Cache-Control", "no-store");
    MHD_add_response_header (resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (resp, "Content-Security-Policy", S_CSP);
    MHD_add_response_header (resp, "Referrer-Policy", "no-referrer");
    enum MHD_Result rc = MHD_queue_response (conn, status, resp);
    MHD_destroy_response (resp);
    return rc;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    (void) upload_data;
    mm_httpd_t *self = (mm_httpd_t *) cls;
    if (self->n_hosts) {
        const char *host = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Host");
        bool known = false;
        for (size_t i = 0; host && i < self->n_hosts && !known; i++)
            known = strcasecmp (host, self->hosts[i]) == 0;
        if (!known) {
            pthread_mutex_lock (&self->lock);
            self->stats.misdirected++;
            pthread_mutex_unlock (&self->lock);
            static const char msg[] = "this server answers to its own address only\n";
            return s_reply (conn, 421, "text/plain; charset=utf-8", msg, sizeof msg - 1);
        }
    }
    //  Another method is refused on the first call, before any body is read. A GET is
    //  answered on the second call (MHD's protocol); a body sent with it is discarded.
    if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0) {
        pthread_mutex_lock (&self->lock);
        self->stats.refused++;
        pthread_mutex_unlock (&self->lock);
        static const char msg[] = "only GET and HEAD\n";
        return s_reply (conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", msg,
                        sizeof msg - 1);
    }
    if (*con_cls == NULL) {
        *con_cls = self;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock (&self->lock);
    s_page_t *page = (s_page_t *) zhashx_lookup (self->pages, url);
    enum MHD_Result rc;
    if (page) {
        self->stats.requests++;
        rc = s_reply (conn, MHD_HTTP_OK, page->type, page->data, page->len);
    }
    else {
        self->stats.missing++;
        static const char msg[] = "not found\n";
        rc = s_reply (conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", msg, sizeof msg - 1);
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

//  "HOST:PORT" or "[V6]:PORT" into a socket address. 0, or -1 with the reason.
static int
s_parse_listen (const char *listen, struct sockaddr_storage *ss, socklen_t *sslen, bool *v6,
                char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr (listen, ':');
    if (!colon || colon == listen || colon - listen >= (ptrdiff_t) sizeof host) {
        snprintf (err, errlen, "'%s': expected HOST:PORT, e.g. 127.0.0.1:9101", listen);
        return -1;
    }
    const char *h = listen;
    size_t hlen = (size_t) (colon - listen);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    memcpy (host, h, hlen);
    host[hlen] = 0;
    char *end;
    unsigned long port = strtoul (colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535) {
        snprintf (err, errlen, "'%s': the port must be a number 0..65535", listen);
        return -1;
    }
    memset (ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
    if (inet_pton (AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons ((uint16_t) port);
        *sslen = sizeof *in4;
        *v6 = false;
        return 0;
    }
    if (inet_pton (AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons ((uint16_t) port);
        *sslen = sizeof *in6;
        *v6 = true;
        return 0;
    }
    snprintf (err, errlen, "'%s': the host must be an IP address (127.0.0.1, [::1])", listen);
    return -1;
}

//  The Host headers to answer: the address itself with its port, and "localhost" for loopback.
//  A wildcard address (0.0.0.0, ::) answers any: it is meant for other hosts, whose names we
//  cannot know (docs/operations.md: keep the console on loopback).
static void
s_hosts (mm_httpd_t *self, const struct sockaddr_storage *ss)
{
    char ip[64];
    bool loopback;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *) ss;
        if (in4->sin_addr.s_addr == htonl (INADDR_ANY))
            return;
        inet_ntop (AF_INET, &in4->sin_addr, ip, sizeof ip);
        loopback = (ntohl (in4->sin_addr.s_addr) >> 24) == 127;
        snprintf (self->hosts[self->n_hosts++], sizeof self->hosts[0], "%s:%u", ip, self->port);
    }
    else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
        if (IN6_IS_ADDR_UNSPECIFIED (&in6->sin6_addr))
            return;
        inet_ntop (AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        loopback = IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr);
        snprintf (self->hosts[self->n_hosts++], sizeof self->hosts[0], "[%s]:%u", ip, self->port);
    }
    if (loopback)
        snprintf (self->hosts[self->n_hosts++], sizeof self->hosts[0], "localhost:%u", self->port);
}

mm_httpd_t *
mm_httpd_new (const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6;
    if (s_parse_listen (listen, &ss, &sslen, &v6, err, errlen) == -1)
        return NULL;
    mm_httpd_t *self = (mm_httpd_t *) calloc (1, sizeof *self);
    if (!self || !(self->pages = zhashx_new ())) {
        free (self);
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    zhashx_set_destructor (self->pages, s_page_destroy);
    pthread_mutex_init (&self->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_access, self, MHD_OPTION_SOCK_ADDR,
                                     (struct sockaddr *) &ss, MHD_OPTION_CONNECTION_LIMIT,
                                     (unsigned) S_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                                     (unsigned) S_IDLE_S, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, errlen, "cannot listen on %s (address in use, or not this host's?)", listen);
        mm_httpd_destroy (&self);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    s_hosts (self, &ss);
    return self;
}

void
mm_httpd_destroy (mm_httpd_t **self_p)
{
    mm_httpd_t *self = *self_p;
    if (!self)
        return;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);  //  joins its thread: no reader is left
    zhashx_destroy (&self->pages);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

uint16_t
mm_httpd_port (const mm_httpd_t *self)
{
    return self->port;
}

int
mm_httpd_publish (mm_httpd_t *self, const char *path, const char *type, const void *data,
                  size_t len)
{
    if (path[0] != '/' || strlen (path) > MM_HTTPD_PATH_MAX)
        return -1;
    s_page_t *page = (s_page_t *) calloc (1, sizeof *page);
    if (!page)
        return -1;
    page->type = strdup (type);
    page->data = (uint8_t *) malloc (len ? len : 1);
    if (!page->type || !page->data) {
        void *item = page;
        s_page_destroy (&item);
        return -1;
    }
    if (len)
        memcpy (page->data, data, len);
    page->len = len;
    pthread_mutex_lock (&self->lock);
    zhashx_update (self->pages, path, page);  //  the old page goes through the destructor
    pthread_mutex_unlock (&self->lock);
    return 0;
}

void
mm_httpd_unpublish (mm_httpd_t *self, const char *path)
{
    pthread_mutex_lock (&self->lock);
    zhashx_delete (self->pages, path);
    pthread_mutex_unlock (&self->lock);
}

void
mm_httpd_stats (mm_httpd_t *self, mm_httpd_stats_t *stats)
{
    pthread_mutex_lock (&self->lock);
    *stats = self->stats;
    pthread_mutex_unlock (&self->lock);
}
