/*  sn_http: HTTP/1.x request and response metadata from one TCP connection: method, host, URI,
    user agent, status, content type and body lengths, one record per transaction (pipelined
    requests are matched to responses in order). Fed the in-order TCP payload of each direction;
    buffers at most SN_HTTP_HEADER_MAX bytes of headers per direction, skips bodies by their
    Content-Length or chunk sizes without buffering them. Owner: sensor. */
#ifndef SN_HTTP_H
#define SN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_HTTP_HEADER_MAX 8192

typedef struct {
    char method[MM_SHORT_MAX + 1];
    char host[MM_NAME_MAX + 1];
    char uri[MM_LONG_MAX + 1];  //  cut at MM_LONG_MAX bytes
    char user_agent[MM_TEXT_MAX + 1];
    uint16_t status;  //  0 when the response was not seen
    char content_type[MM_NAME_MAX + 1];
    uint64_t request_len;  //  body bytes
    uint64_t response_len;
} sn_http_record_t;

//  Called once per finished transaction (or at sn_http_flush for an unanswered request).
typedef void (sn_http_record_fn) (void *arg, const sn_http_record_t *rec);

typedef struct sn_http sn_http_t;

sn_http_t *sn_http_new (sn_http_record_fn *fn, void *arg);
void sn_http_destroy (sn_http_t **self_p);

//  In-order payload of one direction (0: client to server, 1: server to client).
//  0, or -1 once the stream is clearly not HTTP/1.x (then stop feeding).
int sn_http_feed (sn_http_t *self, int dir, const uint8_t *data, size_t len);

//  Emits what is pending (a request without its response) when the connection ends.
void sn_http_flush (sn_http_t *self);

void sn_http_to_event (const sn_http_record_t *rec, mm_http_t *http);

#endif
