/*  mm_prom: Prometheus text exposition (format 0.0.4) for every daemon's /metrics (issue 8).
    Owner: proto/.

    A daemon renders its counters into an mm_prom_t once a second and publishes the text with
    mm_httpd. Names are "mimamori_<program>_<what>[_total|_seconds]". Label values come from
    the code only (a drop reason, a rule name), never from input: the metrics must not carry an
    org id or an address. As a backstop a value that is not a lower-case word
    ([a-z][a-z0-9_-]*) is written as "invalid" (addresses, host names and free text cannot pass;
    an id shaped like a word could, which is why only constants are passed). Errors are sticky: render everything, then check mm_prom_failed. */
#ifndef MM_PROM_H
#define MM_PROM_H

#include <stdbool.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_hist.h"
#include "mm_httpd.h"

typedef struct {
    mm_buf_t *out;
    bool failed;  //  out of memory or a bad name on the way
} mm_prom_t;

//  Starts a family: "# HELP" and "# TYPE" lines. `type` is "counter", "gauge" or "summary".
void mm_prom_family (mm_prom_t *p, const char *name, const char *type, const char *help);

//  One sample of the family just started: `name{label="value"} v`, or `name v` when `label`
//  is NULL.
void mm_prom_sample (mm_prom_t *p, const char *name, const char *label, const char *value,
                     double v);

//  A family with one unlabelled sample.
void mm_prom_counter (mm_prom_t *p, const char *name, const char *help, uint64_t v);
void mm_prom_gauge (mm_prom_t *p, const char *name, const char *help, double v);

//  A latency histogram (microseconds) as a summary in seconds: quantiles 0.5, 0.9, 0.99 and
//  1 (the maximum), then _sum and _count.
void mm_prom_summary (mm_prom_t *p, const char *name, const char *help, const mm_hist_t *h);

//  True if something went wrong since `p` was set up.
bool mm_prom_failed (const mm_prom_t *p);

//  True if `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool mm_prom_name_ok (const char *name);

//  A daemon's /metrics server on `listen` ([metrics] listen). Empty `listen`: NULL, no
//  metrics, *failed false. A bad address or a port taken: NULL, *failed true, the reason
//  logged as an error; the daemons go on without metrics (their data path matters more;
//  --check-config reports a bad address beforehand).
mm_httpd_t *mm_prom_listen (const char *prog, const char *listen, bool *failed);

//  Publishes `text` as the /metrics page (nothing if `http` is NULL).
void mm_prom_publish (mm_httpd_t *http, const mm_buf_t *text);

//  How often daemons render their figures.
#define MM_PROM_INTERVAL_MS 1000

#endif
