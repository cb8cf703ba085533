/*  sn_http: HTTP/1.x transactions from one TCP connection. Each direction buffers one header
    block at a time (at most SN_HTTP_HEADER_MAX bytes, allocated when a message starts and freed
    once parsed), then skips the body by Content-Length or chunk sizes, counting its bytes.
    Requests wait in a FIFO of compact copies until their response ends, so pipelined and
    keep-alive transactions pair up in order.

    Limits and choices, all deliberate:
    - A header block over SN_HTTP_HEADER_MAX: the complete lines seen so far are used (a request
      is queued, a response emitted), then that direction is given up: its later bytes are
      ignored, because the message boundaries are lost. The same happens on a broken chunk
      size, an unusable Content-Length on a request, or a later message that is not HTTP.
    - At most SN_HTTP_PENDING_MAX requests wait for responses; past that the oldest is emitted
      unanswered (status 0).
    - content_type is the media type without parameters ("text/html", not "...; charset=x").
    - 1xx responses other than 101 are interim and not reported; 101, and 2xx to CONNECT, end
      the HTTP part of the connection (the transaction is emitted, the rest is ignored).
    - HTTP/0.9 (request line without version, response without status line) is not parsed. */
#include "sn_http.h"

#include <stdlib.h>
#include <string.h>

#define SN_HTTP_PENDING_MAX 32
//  Chunk-size lines and trailers are read as a stream; these bound how long we wait.
#define SN_HTTP_CHUNK_LINE_MAX 1024
#define SN_HTTP_CHUNK_SIZE_MAX ((uint64_t) 1 << 60)

typedef enum {
    S_HEADERS = 0,  //  collecting a header block
    S_BODY,         //  `remaining` body bytes by Content-Length
    S_CHUNK_SIZE,   //  a chunk-size line
    S_CHUNK_DATA,   //  `remaining` chunk bytes
    S_CHUNK_END,    //  the CRLF after chunk data
    S_TRAILER,      //  trailer lines up to an empty one
    S_UNTIL_CLOSE,  //  response body delimited by the connection close
    S_GIVEN_UP      //  framing lost or not HTTP any more: bytes are ignored
} s_state_t;

typedef struct {
    uint8_t state;
    bool any;        //  one message was parsed in this direction
    bool method_sp;  //  first request line: the space after the method was seen
    bool chunk_ext;  //  in a chunk-size line, past the size (extension or spaces)
    uint16_t hdr_len;
    uint16_t line_pos;  //  chunk-size or trailer line length so far (CR not counted)
    uint16_t trailer;   //  trailer bytes so far
    uint8_t chunk_digits;
    uint8_t *hdr;  //  SN_HTTP_HEADER_MAX bytes while a header block is collected
    uint64_t remaining;
} s_dir_t;

//  A request waiting for its response: the four strings packed after the struct.
typedef struct s_req s_req_t;
struct s_req {
    s_req_t *next;
    uint64_t body_len;
    uint16_t method_len, host_len, uri_len, ua_len;
    char text[];
};

struct sn_http {
    sn_http_record_fn *fn;
    void *arg;
    s_dir_t dir[2];
    s_req_t *head, *tail;  //  FIFO of requests without a finished response
    s_req_t *cur_req;      //  the request whose body is arriving, if still queued
    uint32_t n_pending;
    bool failed;
    bool resp_active;  //  a response header was parsed, its body is arriving
    bool resp_no_req;  //  ... and it answers no request we saw
    uint16_t status;
    uint16_t ctype_len;
    char *ctype;  //  exact length, while a response is active
    uint64_t resp_len;
};

//  What the header parser extracts; pointers into the header buffer.
typedef struct {
    const char *a, *b, *c;  //  method, uri / -, status digits
    size_t a_len, b_len, c_len;
    const char *host, *ua, *ctype;
    size_t host_len, ua_len, ctype_len;
    bool has_cl, cl_bad, has_te, te_chunked;
    uint64_t cl;
} s_msg_t;

sn_http_t *
sn_http_new (sn_http_record_fn *fn, void *arg)
{
    sn_http_t *self = (sn_http_t *) calloc (1, sizeof (sn_http_t));
    if (self) {
        self->fn = fn;
        self->arg = arg;
    }
    return self;
}

static void
s_free_state (sn_http_t *self)
{
    for (int d = 0; d < 2; d++) {
        free (self->dir[d].hdr);
        self->dir[d].hdr = NULL;
        self->dir[d].hdr_len = 0;
    }
    while (self->head) {
        s_req_t *next = self->head->next;
        free (self->head);
        self->head = next;
    }
    self->tail = self->cur_req = NULL;
    self->n_pending = 0;
    free (self->ctype);
    self->ctype = NULL;
    self->resp_active = false;
}

void
sn_http_destroy (sn_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_free_state (*self_p);
    free (*self_p);
    *self_p = NULL;
}

static void
s_copy (char *dst, size_t cap, const char *src, size_t len)
{
    if (len > cap)
        len = cap;
    if (len)
        memcpy (dst, src, len);
    dst[len] = '\0';
}

//  Emits one transaction: `req` (may be NULL) with the active response, if any. Frees `req`.
static void
s_emit (sn_http_t *self, s_req_t *req, bool with_resp)
{
    sn_http_record_t rec;
    memset (&rec, 0, sizeof (rec));
    if (req) {
        const char *p = req->text;
        s_copy (rec.method, MM_SHORT_MAX, p, req->method_len);
        p += req->method_len;
        s_copy (rec.host, MM_NAME_MAX, p, req->host_len);
        p += req->host_len;
        s_copy (rec.uri, MM_LONG_MAX, p, req->uri_len);
        p += req->uri_len;
        s_copy (rec.user_agent, MM_TEXT_MAX, p, req->ua_len);
        rec.request_len = req->body_len;
    }
    if (with_resp) {
        rec.status = self->status;
        s_copy (rec.content_type, MM_NAME_MAX, self->ctype ? self->ctype : "", self->ctype_len);
        rec.response_len = self->resp_len;
    }
    if (self->fn)
        self->fn (self->arg, &rec);
    if (req) {
        if (self->cur_req == req)
            self->cur_req = NULL;
        free (req);
    }
}

static s_req_t *
s_pop (sn_http_t *self)
{
    s_req_t *req = self->head;
    if (req) {
        self->head = req->next;
        if (!self->head)
            self->tail = NULL;
        self->n_pending--;
    }
    return req;
}

//  The active response is complete: emit it with the request it answers.
static void
s_response_done (sn_http_t *self)
{
    if (!self->resp_active)
        return;
    s_emit (self, self->resp_no_req ? NULL : s_pop (self), true);
    free (self->ctype);
    self->ctype = NULL;
    self->ctype_len = 0;
    self->resp_active = false;
    self->resp_no_req = false;
}

static void
s_give_up (sn_http_t *self, int dir)
{
    s_dir_t *d = &self->dir[dir];
    free (d->hdr);
    d->hdr = NULL;
    d->hdr_len = 0;
    d->state = S_GIVEN_UP;
    if (dir == 0)
        self->cur_req = NULL;
    else
        s_response_done (self);
}

//  A message body (or the header-only message) in `dir` is complete.
static void
s_message_done (sn_http_t *self, int dir)
{
    s_dir_t *d = &self->dir[dir];
    d->state = S_HEADERS;
    if (dir == 0)
        self->cur_req = NULL;
    else
        s_response_done (self);
}

static void
s_start_chunk (s_dir_t *d)
{
    d->state = S_CHUNK_SIZE;
    d->line_pos = d->chunk_digits = 0;
    d->chunk_ext = false;
    d->remaining = 0;
}

static void
s_count_body (sn_http_t *self, int dir, size_t n)
{
    if (dir == 0) {
        if (self->cur_req)
            self->cur_req->body_len += n;
    }
    else
        self->resp_len += n;
}

static bool
s_ieq (const char *a, size_t a_len, const char *b)
{
    size_t n = strlen (b);
    if (a_len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char) (x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool
s_is_ows (char c)
{
    return c == ' ' || c == '\t';
}

static bool
s_is_method_char (uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

//  Content-Length: digits only, no overflow; repeated headers must agree.
static void
s_parse_cl (s_msg_t *m, const char *v, size_t len)
{
    uint64_t n = 0;
    if (len == 0)
        m->cl_bad = true;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || n > (UINT64_MAX - 9) / 10) {
            m->cl_bad = true;
            return;
        }
        n = n * 10 + (uint64_t) (v[i] - '0');
    }
    if (m->has_cl && m->cl != n)
        m->cl_bad = true;
    m->has_cl = true;
    m->cl = n;
}

//  Transfer-Encoding: chunked must be the final coding (RFC 9112 6.1).
static void
s_parse_te (s_msg_t *m, const char *v, size_t len)
{
    size_t end = len;
    while (end > 0 && (s_is_ows (v[end - 1]) || v[end - 1] == ','))
        end--;
    size_t start = end;
    while (start > 0 && v[start - 1] != ',')
        start--;
    while (start < end && s_is_ows (v[start]))
        start++;
    m->has_te = true;
    m->te_chunked = s_ieq (v + start, end - start, "chunked");
}

//  Parses the header lines of `buf` (complete lines only). The first line is split into
//  three space-separated parts. False if that line is unusable.
static bool
s_parse_block (const uint8_t *buf, size_t len, s_msg_t *m)
{
    memset (m, 0, sizeof (*m));
    const char *p = (const char *) buf;
    const char *end = p + len;
    bool first = true;
    while (p < end) {
        const char *nl = (const char *) memchr (p, '\n', (size_t) (end - p));
        if (!nl)
            break;  //  an incomplete last line (oversize block) is not used
        const char *le = nl;
        if (le > p && le[-1] == '\r')
            le--;
        size_t ll = (size_t) (le - p);
        if (first) {
            first = false;
            const char *sp1 = (const char *) memchr (p, ' ', ll);
            if (!sp1 || sp1 == p)
                return false;
            m->a = p;
            m->a_len = (size_t) (sp1 - p);
            const char *rest = sp1 + 1;
            while (rest < le && *rest == ' ')
                rest++;
            const char *sp2 = (const char *) memchr (rest, ' ', (size_t) (le - rest));
            m->b = rest;
            m->b_len = (size_t) ((sp2 ? sp2 : le) - rest);
            if (sp2) {
                m->c = sp2 + 1;
                m->c_len = (size_t) (le - m->c);
            }
        }
        else if (ll == 0)
            break;
        else if (!s_is_ows (*p)) {  //  obsolete folded continuations are skipped
            const char *colon = (const char *) memchr (p, ':', ll);
            if (colon) {
                size_t name_len = (size_t) (colon - p);
                while (name_len > 0 && s_is_ows (p[name_len - 1]))
                    name_len--;
                const char *v = colon + 1;
                const char *ve = le;
                while (v < ve && s_is_ows (*v))
                    v++;
                while (ve > v && s_is_ows (ve[-1]))
                    ve--;
                size_t vl = (size_t) (ve - v);
                if (s_ieq (p, name_len, "host") && !m->host) {
                    m->host = v;
                    m->host_len = vl;
                }
                else if (s_ieq (p, name_len, "user-agent") && !m->ua) {
                    m->ua = v;
                    m->ua_len = vl;
                }
                else if (s_ieq (p, name_len, "content-type") && !m->ctype) {
                    size_t n = 0;
                    while (n < vl && v[n] != ';')
                        n++;
                    while (n > 0 && s_is_ows (v[n - 1]))
                        n--;
                    m->ctype = v;
                    m->ctype_len = n;
                }
                else if (s_ieq (p, name_len, "content-length"))
                    s_parse_cl (m, v, vl);
                else if (s_ieq (p, name_len, "transfer-encoding"))
                    s_parse_te (m, v, vl);
            }
        }
        p = nl + 1;
    }
    return !first;
}

static bool
s_is_version (const char *v, size_t len)
{
    return len >= 8 && memcmp (v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' && v[6] == '.' &&
           v[7] >= '0' && v[7] <= '9';
}

static size_t
s_min (size_t a, size_t b)
{
    return a < b ? a : b;
}

//  Queues the request of a parsed block and sets up its body. -1 if it is not a request.
static int
s_on_request (sn_http_t *self, s_msg_t *m, bool complete)
{
    s_dir_t *d = &self->dir[0];
    if (m->a_len > MM_SHORT_MAX || !m->c || !s_is_version (m->c, m->c_len) || m->b_len == 0)
        return -1;
    for (size_t i = 0; i < m->a_len; i++)
        if (!s_is_method_char ((uint8_t) m->a[i]))
            return -1;
    if (self->n_pending >= SN_HTTP_PENDING_MAX) {
        //  The oldest can no longer be paired reliably: report it unanswered.
        if (self->resp_active && !self->resp_no_req)
            self->resp_no_req = true;  //  its response now answers nothing we keep
        s_emit (self, s_pop (self), false);
    }
    size_t uri_len = s_min (m->b_len, MM_LONG_MAX);
    size_t host_len = s_min (m->host_len, MM_NAME_MAX);
    size_t ua_len = s_min (m->ua_len, MM_TEXT_MAX);
    s_req_t *req = (s_req_t *) malloc (sizeof (s_req_t) + m->a_len + host_len + uri_len + ua_len);
    if (!req)
        return 0;
    req->next = NULL;
    req->body_len = 0;
    req->method_len = (uint16_t) m->a_len;
    req->host_len = (uint16_t) host_len;
    req->uri_len = (uint16_t) uri_len;
    req->ua_len = (uint16_t) ua_len;
    char *p = req->text;
    memcpy (p, m->a, m->a_len);
    p += m->a_len;
    if (host_len)
        memcpy (p, m->host, host_len);
    p += host_len;
    memcpy (p, m->b, uri_len);
    p += uri_len;
    if (ua_len)
        memcpy (p, m->ua, ua_len);
    if (self->tail)
        self->tail->next = req;
    else
        self->head = req;
    self->tail = req;
    self->n_pending++;
    self->cur_req = req;
    if (!complete) {
        s_give_up (self, 0);
        return 0;
    }
    //  A request has a body only by Transfer-Encoding or Content-Length (RFC 9112 6.3).
    if (m->has_te) {
        if (!m->te_chunked) {
            s_give_up (self, 0);
            return 0;
        }
        s_start_chunk (d);
    }
    else if (m->cl_bad) {
        s_give_up (self, 0);
        return 0;
    }
    else if (m->has_cl && m->cl > 0) {
        d->state = S_BODY;
        d->remaining = m->cl;
    }
    else
        s_message_done (self, 0);
    return 0;
}

static void
s_end_http (sn_http_t *self)
{
    //  The connection switched protocols: nothing more to parse in either direction.
    s_response_done (self);
    s_give_up (self, 0);
    s_give_up (self, 1);
}

//  Handles a parsed response block. -1 if it is not a response.
static int
s_on_response (sn_http_t *self, s_msg_t *m, bool complete)
{
    s_dir_t *d = &self->dir[1];
    if (!s_is_version (m->a, m->a_len) || !m->b || m->b_len != 3)
        return -1;
    uint16_t status = 0;
    for (int i = 0; i < 3; i++) {
        if (m->b[i] < '0' || m->b[i] > '9')
            return -1;
        status = (uint16_t) (status * 10 + (uint16_t) (m->b[i] - '0'));
    }
    if (status < 100)
        return -1;
    s_req_t *req = self->head;
    if (status < 200 && status != 101) {
        //  Interim (100 Continue, 103 Early Hints): the final response follows.
        d->state = S_HEADERS;
        return 0;
    }
    self->resp_active = true;
    self->resp_no_req = req == NULL;
    self->status = status;
    self->resp_len = 0;
    self->ctype_len = (uint16_t) s_min (m->ctype_len, MM_NAME_MAX);
    if (self->ctype_len) {
        self->ctype = (char *) malloc (self->ctype_len);
        if (self->ctype)
            memcpy (self->ctype, m->ctype, self->ctype_len);
        else
            self->ctype_len = 0;
    }
    bool connect = req && s_ieq (req->text, req->method_len, "connect");
    if (status == 101 || (connect && status < 300)) {
        s_end_http (self);
        return 0;
    }
    if (!complete) {
        s_give_up (self, 1);
        return 0;
    }
    bool head = req && s_ieq (req->text, req->method_len, "head");
    //  RFC 9112 6.3: no body after HEAD, 204 and 304; then chunked, length, or the close.
    if (head || status == 204 || status == 304)
        s_message_done (self, 1);
    else if (m->has_te && m->te_chunked)
        s_start_chunk (d);
    else if (m->has_te)
        d->state = S_UNTIL_CLOSE;
    else if (m->cl_bad)
        d->state = S_UNTIL_CLOSE;
    else if (m->has_cl) {
        d->remaining = m->cl;
        if (m->cl == 0)
            s_message_done (self, 1);
        else
            d->state = S_BODY;
    }
    else
        d->state = S_UNTIL_CLOSE;
    return 0;
}

//  The header block in dir's buffer is complete (or full). -1 if it is not HTTP.
static int
s_on_block (sn_http_t *self, int dir, bool complete)
{
    s_dir_t *d = &self->dir[dir];
    s_msg_t m;
    int rc = -1;
    if (s_parse_block (d->hdr, d->hdr_len, &m))
        rc = dir == 0 ? s_on_request (self, &m, complete) : s_on_response (self, &m, complete);
    free (d->hdr);
    d->hdr = NULL;
    d->hdr_len = 0;
    if (rc < 0) {
        //  Garbage after valid messages: the framing is lost, not the whole connection.
        if (d->any) {
            s_give_up (self, dir);
            return 0;
        }
        return -1;
    }
    d->any = true;
    return 0;
}

//  Early rejection on the first line of the first message, before a block is buffered.
static bool
s_plausible (s_dir_t *d, int dir, uint8_t c)
{
    size_t pos = (size_t) d->hdr_len - 1;
    if (d->any)
        return true;
    if (dir == 1)
        return pos >= 5 || c == (uint8_t) "HTTP/"[pos];
    if (d->method_sp)
        return true;
    if (c == ' ' && pos > 0) {
        d->method_sp = true;
        return true;
    }
    return s_is_method_char (c) && pos < MM_SHORT_MAX;
}

//  Collects header bytes; returns bytes used or -1 if this is not HTTP.
static long
s_feed_headers (sn_http_t *self, int dir, const uint8_t *data, size_t len)
{
    s_dir_t *d = &self->dir[dir];
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        //  Empty lines before a message are tolerated (RFC 9112 2.2).
        if (d->hdr_len == 0 && (c == '\r' || c == '\n'))
            continue;
        if (!d->hdr) {
            d->hdr = (uint8_t *) malloc (SN_HTTP_HEADER_MAX);
            if (!d->hdr) {
                s_give_up (self, dir);
                return (long) len;
            }
        }
        d->hdr[d->hdr_len++] = c;
        if (!s_plausible (d, dir, c))
            return -1;
        size_t n = d->hdr_len;
        bool end =
            c == '\n' && n >= 2 &&
            (d->hdr[n - 2] == '\n' || (n >= 3 && d->hdr[n - 2] == '\r' && d->hdr[n - 3] == '\n'));
        if (end || n == SN_HTTP_HEADER_MAX) {
            if (s_on_block (self, dir, end) < 0)
                return -1;
            return (long) (i + 1);
        }
    }
    return (long) len;
}

//  Streams chunked framing bytes; returns bytes used.
static size_t
s_feed_chunked (sn_http_t *self, int dir, const uint8_t *data, size_t len)
{
    s_dir_t *d = &self->dir[dir];
    size_t i = 0;
    while (i < len && d->state != S_GIVEN_UP && d->state != S_HEADERS) {
        if (d->state == S_CHUNK_DATA) {
            size_t n = (size_t) (len - i < d->remaining ? len - i : d->remaining);
            s_count_body (self, dir, n);
            d->remaining -= n;
            i += n;
            if (d->remaining == 0)
                d->state = S_CHUNK_END;
            continue;
        }
        uint8_t c = data[i++];
        if (d->state == S_CHUNK_END) {
            if (c == '\n')
                s_start_chunk (d);
            else if (c != '\r')
                s_give_up (self, dir);
            continue;
        }
        if (c == '\r')
            continue;
        if (d->state == S_TRAILER) {
            if (c == '\n') {
                if (d->line_pos == 0) {
                    s_message_done (self, dir);
                    return i;
                }
                d->line_pos = 0;
            }
            else
                d->line_pos++;
            if (++d->trailer > SN_HTTP_HEADER_MAX)
                s_give_up (self, dir);
            continue;
        }
        //  S_CHUNK_SIZE: hex digits, then an optional extension, then LF.
        if (c == '\n') {
            if (d->chunk_digits == 0)
                s_give_up (self, dir);
            else if (d->remaining == 0) {
                d->state = S_TRAILER;
                d->line_pos = d->trailer = 0;
            }
            else
                d->state = S_CHUNK_DATA;
            continue;
        }
        if (++d->line_pos > SN_HTTP_CHUNK_LINE_MAX) {
            s_give_up (self, dir);
            continue;
        }
        int v = -1;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        if (!d->chunk_ext && v >= 0) {
            d->remaining = d->remaining * 16 + (uint64_t) v;
            if (++d->chunk_digits > 16 || d->remaining > SN_HTTP_CHUNK_SIZE_MAX)
                s_give_up (self, dir);
        }
        else if (c == ';' || s_is_ows ((char) c))
            d->chunk_ext = true;
        else if (!d->chunk_ext)
            s_give_up (self, dir);
    }
    return i;
}

int
sn_http_feed (sn_http_t *self, int dir, const uint8_t *data, size_t len)
{
    if (!self || self->failed || (dir != 0 && dir != 1))
        return -1;
    if (!data)
        return 0;
    s_dir_t *d = &self->dir[dir];
    size_t pos = 0;
    while (pos < len) {
        switch (d->state) {
        case S_HEADERS: {
            long used = s_feed_headers (self, dir, data + pos, len - pos);
            if (used < 0) {
                self->failed = true;
                s_free_state (self);
                return -1;
            }
            pos += (size_t) used;
            break;
        }
        case S_BODY: {
            size_t n = (size_t) (len - pos < d->remaining ? len - pos : d->remaining);
            s_count_body (self, dir, n);
            d->remaining -= n;
            pos += n;
            if (d->remaining == 0)
                s_message_done (self, dir);
            break;
        }
        case S_CHUNK_SIZE:
        case S_CHUNK_DATA:
        case S_CHUNK_END:
        case S_TRAILER: pos += s_feed_chunked (self, dir, data + pos, len - pos); break;
        case S_UNTIL_CLOSE:
            s_count_body (self, dir, len - pos);
            pos = len;
            break;
        default: pos = len; break;
        }
    }
    return 0;
}

void
sn_http_flush (sn_http_t *self)
{
    if (!self || self->failed)
        return;
    //  A response read until the close ends here; a cut one is reported as far as it got.
    s_response_done (self);
    while (self->head)
        s_emit (self, s_pop (self), false);
    s_free_state (self);
    memset (self->dir, 0, sizeof (self->dir));
}

void
sn_http_to_event (const sn_http_record_t *rec, mm_http_t *http)
{
    memset (http, 0, sizeof (*http));
    if (!rec)
        return;
    http->method = mm_str (rec->method[0] ? rec->method : NULL);
    http->host = mm_str (rec->host[0] ? rec->host : NULL);
    http->uri = mm_str (rec->uri[0] ? rec->uri : NULL);
    http->user_agent = mm_str (rec->user_agent[0] ? rec->user_agent : NULL);
    http->status = rec->status;
    http->content_type = mm_str (rec->content_type[0] ? rec->content_type : NULL);
    http->request_len = rec->request_len;
    http->response_len = rec->response_len;
}
