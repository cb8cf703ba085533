/*  mm_httpd: a small local HTTP server of published pages, for /metrics on every daemon and the
    SOC console (issue 8). Owner: proto/. Built on libmicrohttpd, which runs its own thread.

    Why pages, not handlers: a daemon's state belongs to its one loop thread. Instead of
    calling into that state from the server's thread (locks everywhere), the loop renders what
    it wants to show (the metrics text, the console's JSON) and publishes it under a path; the
    server hands out the newest copy. A page is replaced whole, under one mutex, so a reader
    never sees half of it. Reads are GET or HEAD of an exact path ("?..." is ignored); anything
    else is 405, an unknown path 404.

    Binding: `listen` is "HOST:PORT" with HOST a literal IPv4 or IPv6 address ("127.0.0.1:9101",
    "[::1]:9101"); port 0 picks a free one (mm_httpd_port). There is no TLS and no login: bind to
    loopback, or put the page behind the host's own access control. A request whose Host header
    is not the address itself (or localhost, on loopback) gets 421: otherwise a web page could
    point a name of its own at 127.0.0.1 (DNS rebinding) and read the page as same-origin. A
    wildcard address (0.0.0.0, ::) answers any Host. Every reply carries
    no-store, nosniff and a Content-Security-Policy that forbids anything not from the page's
    own origin, so a console page cannot be made to load outside code. */
#ifndef MM_HTTPD_H
#define MM_HTTPD_H

#include <stddef.h>
#include <stdint.h>

typedef struct mm_httpd_t mm_httpd_t;

#define MM_HTTPD_PATH_MAX 256

typedef struct {
    uint64_t requests;     //  answered with a page
    uint64_t missing;      //  404
    uint64_t refused;      //  405 (not GET/HEAD)
    uint64_t misdirected;  //  421: a Host header that is not this server's address
} mm_httpd_stats_t;

//  Starts serving on `listen`. NULL with the reason in `err` (a bad address, the port taken).
mm_httpd_t *mm_httpd_new (const char *listen, char *err, size_t errlen);
void mm_httpd_destroy (mm_httpd_t **self_p);

//  The port bound (the one picked when `listen` asked for 0).
uint16_t mm_httpd_port (const mm_httpd_t *self);

//  Publishes `len` bytes under `path` ("/metrics") with a MIME `type`, replacing the page
//  there. The bytes are copied. 0, or -1 (out of memory, path too long or not starting "/").
int mm_httpd_publish (mm_httpd_t *self, const char *path, const char *type, const void *data,
                      size_t len);

//  Removes a page (a later GET is 404). Nothing if there was none.
void mm_httpd_unpublish (mm_httpd_t *self, const char *path);

void mm_httpd_stats (mm_httpd_t *self, mm_httpd_stats_t *stats);

#endif
