/*  sn_ioc: a set of known-bad indicators (addresses, networks, domains, URLs, JA3, JA4,
    certificate SHA-1, SHA-256) and the feed loaders that fill it. Built for millions of entries:
    one open-addressing table of 16-byte records (hash, kind, value or arena offset, meta index)
    and one string arena, so an indicator costs ~50 bytes (tests/bench/bench_ioc); category,
    severity, feed and `block` are interned and shared. A lookup is one hash probe (per label
    for domains, per prefix length present for networks), compares the full value (no false
    positives) and never allocates. A set is not thread-safe: build it in one thread, then only read it from others.
    Owner: sensor (sn_det_ioc holds the sets; feed formats are in docs/detection.md). */
#ifndef SN_IOC_H
#define SN_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_proto.h"
#include "mm_watchlist.h"
#include "sn_detect.h"

typedef struct sn_ioc sn_ioc_t;

#define SN_IOC_VALUE_MAX MM_LONG_MAX  //  longest indicator text (URLs)
#define SN_IOC_ERRORS_MAX 5           //  bad lines reported in full per file
#define SN_IOC_ERROR_LEN 200

//  What an entry says about itself. 0 means "the default": category ioc_match; severity by
//  category (malware and c2_beacon high; scan, policy and sensor low; the rest medium).
typedef struct {
    uint8_t category;  //  mm_category_t
    uint8_t severity;  //  mm_sev_t
    bool block;        //  ask the sensor to block the outside party on a match
    uint64_t expires;  //  ns since the epoch; 0: never (WATCHLIST entries)
    const char *feed;  //  feed name (interned; NULL: the current file's)
} sn_ioc_meta_t;

//  A successful lookup: the entry that matched, as canonical text.
typedef struct {
    uint8_t type;  //  mm_ioc_type_t of the entry (a DOMAIN entry may match a longer name)
    uint8_t category, severity;
    bool block;
    uint64_t expires;
    const char *feed;  //  borrowed from the set
    uint64_t subject;  //  stable hash of (type, value): the same in every set and process
    char value[SN_IOC_VALUE_MAX + 1];
} sn_ioc_match_t;

//  What loading one file did. Bad lines never stop a load; the first SN_IOC_ERRORS_MAX are
//  kept as "file:line: reason".
typedef struct {
    const char *format;  //  "plain", "csv", "ndpi-ja3", "ndpi-sha1", "ndpi-categories",
                         //  "iprep-categories", "iprep", "datarep"; NULL if not recognised
    uint64_t lines;      //  lines read, comments included
    uint64_t added;
    uint64_t duplicates;  //  already in the set (the first one stays)
    uint64_t skipped;     //  valid but not kept (reputation 0, nDPI "allowed" categories)
    uint64_t bad;
    uint64_t dropped;  //  beyond the set's maximum
    uint32_t n_errors;
    char errors[SN_IOC_ERRORS_MAX][SN_IOC_ERROR_LEN];
    char failure[SN_IOC_ERROR_LEN];  //  why the file was refused as a whole (return -1)
} sn_ioc_report_t;

//  An empty set holding at most `max` indicators (0: no limit). NULL if memory cannot be had.
sn_ioc_t *sn_ioc_new (uint64_t max);
void sn_ioc_destroy (sn_ioc_t **self_p);

//  Adds one indicator from text; `type` 0 guesses it as a plain feed line would. Returns 0 if
//  added, 1 if it was already there (the entry keeps its meta, except in a set that replaces
//  metas, see sn_ioc_apply_watchlist), -1 if the text is not a valid indicator (*why says why)
//  or the set is full.
int sn_ioc_add (sn_ioc_t *self, uint8_t type, const char *value, size_t len,
                const sn_ioc_meta_t *meta, const char **why);

//  Removes an indicator. 0 if it was there, -1 if not.
int sn_ioc_remove (sn_ioc_t *self, uint8_t type, const char *value, size_t len);

//  Lookups. `now` (ns since the epoch) hides expired entries (0: nothing expires). True and
//  *m filled on a match.
//  An address: its exact entry, else the longest network that holds it. IPv4-mapped IPv6
//  addresses are looked up as IPv4.
bool sn_ioc_match_addr (const sn_ioc_t *self, const mm_addr_t *addr, uint64_t now,
                        sn_ioc_match_t *m);
//  A DNS name: the name itself, then each parent domain ("a.b.evil.com" matches an entry
//  "evil.com"), case-insensitively, a trailing dot ignored. The most specific entry wins.
bool sn_ioc_match_domain (const sn_ioc_t *self, const char *name, size_t len, uint64_t now,
                          sn_ioc_match_t *m);
//  An HTTP request: host (a default port is ignored) and request target (origin or absolute
//  form). A URL entry with a query matches only that query; one without, any query.
bool sn_ioc_match_url (const sn_ioc_t *self, const char *host, size_t host_len, const char *uri,
                       size_t uri_len, uint64_t now, sn_ioc_match_t *m);
bool sn_ioc_match_ja3 (const sn_ioc_t *self, const uint8_t md5[16], uint64_t now,
                       sn_ioc_match_t *m);
bool sn_ioc_match_ja4 (const sn_ioc_t *self, const char *ja4, size_t len, uint64_t now,
                       sn_ioc_match_t *m);
bool sn_ioc_match_cert_sha1 (const sn_ioc_t *self, const uint8_t sha1[20], uint64_t now,
                             sn_ioc_match_t *m);
//  Any indicator given as text (`type` 0: guessed), looked up the way its kind is (a domain
//  walks its parents, an address tries the networks). For tests and tools.
bool sn_ioc_match_text (const sn_ioc_t *self, uint8_t type, const char *value, size_t len,
                        uint64_t now, sn_ioc_match_t *m);

//  Feed loaders: the format is recognised from the first data line (see sn_ioc_report_t and
//  docs/detection.md). The feed's name is the file's name without directory and extension.
//  0 if the file was loaded, bad lines and all; -1 if it could not be read, its format was not
//  recognised or half or more of its data lines were bad: then nothing of it stays in the set
//  and rep->failure says why.
int sn_ioc_load_file (sn_ioc_t *self, const char *path, sn_ioc_report_t *rep);
int sn_ioc_load_buffer (sn_ioc_t *self, const char *name, const char *data, size_t len,
                        sn_ioc_report_t *rep);

//  Copies into `dst` the entries `src` holds from file `path` (loaded by sn_ioc_load_file).
//  Returns how many were copied. How a reload keeps a file's old entries when its new version
//  is refused, or when it did not change.
uint64_t sn_ioc_copy_feed (sn_ioc_t *dst, const sn_ioc_t *src, const char *path);

//  Applies a WATCHLIST (adds and revocations pushed by the aggregator). Use a set of its own
//  for them, apart from the file feeds, so that a feed reload does not lose them: in it a
//  repeated add from the same feed replaces the entry's meta (another feed's entry stays), a
//  REVOKE naming a feed removes the entry only if that feed added it (one naming none removes
//  it whatever added it), and expired entries are dropped here. A list
//  older than one already applied (lower serial) is ignored: returns -1. Else the number of
//  entries applied; bad entries are counted in `rep` (may be NULL).
int sn_ioc_apply_watchlist (sn_ioc_t *self, const mm_watchlist_t *wl, sn_ioc_report_t *rep);

//  Indicators held (all types, or one mm_ioc_type_t).
uint64_t sn_ioc_size (const sn_ioc_t *self);
uint64_t sn_ioc_count (const sn_ioc_t *self, uint8_t type);
//  Bytes allocated for the set (table, arena, metas, feeds and the object), as counted by
//  its allocator: what "bytes per indicator" is measured with.
uint64_t sn_ioc_memory (const sn_ioc_t *self);

//  Severity an entry of this category gets when it does not say (the severity policy).
uint8_t sn_ioc_default_severity (uint8_t category);

//  The "ioc" detector (sn_det_ioc.c), for the sensor and other detectors. Each returns -1 or
//  false when the detector is disabled.
//  Hands a WATCHLIST to the detector's own watch set.
int sn_det_ioc_watchlist (sn_detect_t *engine, const mm_watchlist_t *wl);
//  Looks up the detector's sets (WATCHLIST entries first, then the feeds).
bool sn_det_ioc_match_addr (sn_detect_t *engine, const mm_addr_t *addr, uint64_t now,
                            sn_ioc_match_t *m);
bool sn_det_ioc_match_domain (sn_detect_t *engine, const char *name, size_t len, uint64_t now,
                              sn_ioc_match_t *m);
//  True while a feed reload runs in the background (the old set still answers).
bool sn_det_ioc_reloading (sn_detect_t *engine);

#endif
