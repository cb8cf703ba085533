/*  fuzz_http: libFuzzer target for sn_http. The input is a list of records, each a header byte
    (top bit: direction, low 7 bits: length) and that many payload bytes, so the fuzzer chooses
    how requests and responses interleave and where segments split; the connection is flushed
    at the end. Beyond "no crash", it checks that every record's strings end within their caps
    and that a rejected stream stays rejected. Seeds in corpus/http/ are real conversations
    from the tests, cut into such records. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

static void
s_on_record (void *arg, const sn_http_record_t *rec)
{
    (*(size_t *) arg)++;
    s_check (memchr (rec->method, 0, sizeof (rec->method)) != NULL, "method ends");
    s_check (memchr (rec->host, 0, sizeof (rec->host)) != NULL, "host ends");
    s_check (memchr (rec->uri, 0, sizeof (rec->uri)) != NULL, "uri ends");
    s_check (memchr (rec->user_agent, 0, sizeof (rec->user_agent)) != NULL, "user agent ends");
    s_check (memchr (rec->content_type, 0, sizeof (rec->content_type)) != NULL, "type ends");
    mm_http_t ev;
    sn_http_to_event (rec, &ev);
    s_check (ev.uri.len == strlen (rec->uri) && ev.status == rec->status, "event mapping");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    size_t n_records = 0;
    sn_http_t *http = sn_http_new (s_on_record, &n_records);
    if (!http)
        return 0;
    size_t pos = 0;
    bool rejected = false;
    while (pos < size) {
        int dir = data[pos] >> 7;
        size_t len = data[pos] & 0x7F;
        pos++;
        if (len > size - pos)
            len = size - pos;
        int rc = sn_http_feed (http, dir, data + pos, len);
        s_check (rc == 0 || rc == -1, "feed returns 0 or -1");
        s_check (!rejected || rc == -1, "a rejected stream stays rejected");
        rejected = rc == -1;
        pos += len;
    }
    size_t before = n_records;
    sn_http_flush (http);
    s_check (!rejected || n_records == before, "a rejected stream emits nothing at the close");
    sn_http_flush (http);
    sn_http_destroy (&http);
    return 0;
}
