/*  ag_query: see ag_query.h. Each command scans one column family of the store in key order
    and renders one line per record; the exports collect the active warnings first (to order
    them and to know which TLP markings the bundle needs). */
#include "ag_query.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_correlate.h"
#include "ag_indicator.h"
#include "mm_event.h"
#include "mm_json.h"
#include "mm_period.h"

#define S_NS 1000000000ull
//  STIX caps a sighting's count (STIX 2.1, 5.5: "MUST be an integer between 0 and 999,999,999").
#define S_STIX_COUNT_MAX 999999999ull

struct ag_query_t {
    ag_store_t *store;
    const ag_psl_t *psl;
    uint64_t now;
    mm_event_t *ev;  //  a decoded EVENT (large: not on the stack)
    mm_buf_t line;
    bool failed;  //  memory ran out while rendering the current line
    ag_query_stats_t stats;
    char error[512];
};

//  ---------------------------------------------------------------------------------------------
//  Life

ag_query_t *
ag_query_new (const char *path, char *err, size_t err_size)
{
    ag_query_t *self = (ag_query_t *) calloc (1, sizeof *self);
    if (self)
        self->ev = (mm_event_t *) malloc (sizeof *self->ev);
    if (!self || !self->ev) {
        snprintf (err, err_size, "out of memory");
        free (self);
        return NULL;
    }
    self->store = ag_store_open_readonly (path, err, err_size);
    if (!self->store) {
        free (self->ev);
        free (self);
        return NULL;
    }
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    self->now = (uint64_t) t.tv_sec * S_NS + (uint64_t) t.tv_nsec;
    return self;
}

void
ag_query_destroy (ag_query_t **self_p)
{
    ag_query_t *self = *self_p;
    if (!self)
        return;
    ag_store_destroy (&self->store);
    mm_buf_free (&self->line);
    free (self->ev);
    free (self);
    *self_p = NULL;
}

void
ag_query_set_now (ag_query_t *self, uint64_t now)
{
    self->now = now;
}

void
ag_query_set_psl (ag_query_t *self, const ag_psl_t *psl)
{
    self->psl = psl;
}

void
ag_query_stats (const ag_query_t *self, ag_query_stats_t *stats)
{
    *stats = self->stats;
}

const char *
ag_query_error (const ag_query_t *self)
{
    return self->error;
}

static int64_t
s_fail (ag_query_t *self, const char *what)
{
    snprintf (self->error, sizeof self->error, "%s", what);
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  Rendering: one line at a time into self->line; a failed append marks the line failed.

static void
s_raw (ag_query_t *self, const void *data, size_t len)
{
    if (mm_buf_append (&self->line, data, len) == -1)
        self->failed = true;
}

static void
s_text (ag_query_t *self, const char *text)
{
    s_raw (self, text, strlen (text));
}

static void
s_uint (ag_query_t *self, uint64_t v)
{
    char num[24];
    int n = snprintf (num, sizeof num, "%llu", (unsigned long long) v);
    s_raw (self, num, (size_t) n);
}

//  Length of the valid UTF-8 sequence at `p`, or 0 (overlong forms, surrogates and code points
//  past U+10FFFF are not valid).
static size_t
s_utf8 (const uint8_t *p, size_t left)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || n > left || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

//  A JSON string. Bytes that are not UTF-8 show as the text "\xHH", as in mm_json.
static void
s_str (ag_query_t *self, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *) s;
    s_raw (self, "\"", 1);
    for (size_t i = 0; i < len;) {
        uint8_t c = p[i];
        size_t n = s_utf8 (p + i, len - i);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char) c};
            s_raw (self, esc, 2);
        }
        else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            s_raw (self, esc, 6);
        }
        else if (n == 0) {
            char esc[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
            s_raw (self, esc, 5);
            n = 1;
        }
        else
            s_raw (self, p + i, n);
        i += n ? n : 1;
    }
    s_raw (self, "\"", 1);
}

static void
s_cstr (ag_query_t *self, const char *s)
{
    s_str (self, s, strlen (s));
}

//  ,"key":
static void
s_key (ag_query_t *self, const char *key)
{
    s_raw (self, ",\"", 2);
    s_text (self, key);
    s_raw (self, "\":", 2);
}

//  An enumeration by its name, or its number when it has none (a newer or damaged record).
static void
s_enum (ag_query_t *self, const char *name, unsigned v)
{
    if (name)
        s_cstr (self, name);
    else
        s_uint (self, v);
}

//  RFC 3339 UTC with `digits` fraction digits (9: as mm_json; 3: STIX's milliseconds).
static void
s_time_text (uint64_t ns, int digits, char *out, size_t size)
{
    time_t secs = (time_t) (ns / S_NS);
    struct tm tm;
    if (!gmtime_r (&secs, &tm)) {
        snprintf (out, size, "1970-01-01T00:00:00Z");
        return;
    }
    size_t n = strftime (out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    unsigned frac = (unsigned) (ns % S_NS);
    if (digits == 9)
        snprintf (out + n, size - n, ".%09uZ", frac);
    else if (digits == 3)
        snprintf (out + n, size - n, ".%03uZ", frac / 1000000u);
    else
        snprintf (out + n, size - n, "Z");
}

static void
s_time (ag_query_t *self, uint64_t ns, int digits)
{
    char text[64];
    s_time_text (ns, digits, text, sizeof text);
    s_cstr (self, text);
}

//  Writes the line and starts the next one. 0, or -1 (memory, or the output failed).
static int
s_emit (ag_query_t *self, FILE *out)
{
    int rc = 0;
    if (self->failed)
        rc = (int) s_fail (self, "out of memory");
    else if (self->line.len && fwrite (self->line.data, 1, self->line.len, out) != self->line.len)
        rc = (int) s_fail (self, "cannot write the output");
    mm_buf_clear (&self->line);
    self->failed = false;
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  Arguments

uint8_t
ag_query_type_by_name (const char *name)
{
    static const struct {
        const char *name;
        uint8_t type;
    } names[] = {{"ip", MM_IOC_IP},          {"cidr", MM_IOC_CIDR},
                 {"domain", MM_IOC_DOMAIN},  {"url", MM_IOC_URL},
                 {"ja3", MM_IOC_JA3},        {"ja4", MM_IOC_JA4},
                 {"sha1", MM_IOC_CERT_SHA1}, {"cert_sha1", MM_IOC_CERT_SHA1},
                 {"sha256", MM_IOC_SHA256}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp (name, names[i].name) == 0)
            return names[i].type;
    return 0;
}

static bool
s_all (const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr (set, tolower ((unsigned char) s[i])))
            return false;
    return true;
}

uint8_t
ag_query_guess_type (const char *value)
{
    static const char *hexd = "0123456789abcdef";
    uint8_t b[16];
    size_t n = strlen (value);
    if (inet_pton (AF_INET, value, b) == 1 || inet_pton (AF_INET6, value, b) == 1)
        return MM_IOC_IP;
    if (strstr (value, "://"))
        return MM_IOC_URL;
    const char *slash = strchr (value, '/');
    if (slash && (size_t) (slash - value) < 64) {
        char addr[64];
        snprintf (addr, sizeof addr, "%.*s", (int) (slash - value), value);
        if (inet_pton (AF_INET, addr, b) == 1 || inet_pton (AF_INET6, addr, b) == 1)
            return MM_IOC_CIDR;
    }
    if (n == 64 && s_all (value, n, hexd))
        return MM_IOC_SHA256;
    if (n == 40 && s_all (value, n, hexd))
        return MM_IOC_CERT_SHA1;
    if (n == 32 && s_all (value, n, hexd))
        return MM_IOC_JA3;
    //  JA4: a 10-character prefix, then two 12-hex-digit hashes ("t13d1516h2_8daaf6152771_...").
    if (n == 36 && value[10] == '_' && value[23] == '_' &&
        s_all (value, 10, "abcdefghijklmnopqrstuvwxyz0123456789") && s_all (value + 11, 12, hexd) &&
        s_all (value + 24, 12, hexd))
        return MM_IOC_JA4;
    return MM_IOC_DOMAIN;
}

//  `n` decimal digits at `*p` (advanced), or -1.
static int64_t
s_digits (const char **p, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

int
ag_query_parse_time (const char *text, uint64_t *ns)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = text;
    int64_t y = s_digits (&p, 4);
    if (y < 1970 || *p++ != '-')
        return -1;
    int64_t mo = s_digits (&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        return -1;
    int64_t d = s_digits (&p, 2);
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return -1;
    int64_t secs = mm_days_from_civil (y, mo, d) * 86400;
    uint64_t frac = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        int64_t h = s_digits (&p, 2);
        if (h < 0 || h > 23 || *p++ != ':')
            return -1;
        int64_t mi = s_digits (&p, 2);
        if (mi < 0 || mi > 59 || *p++ != ':')
            return -1;
        int64_t s = s_digits (&p, 2);
        if (s < 0 || s > 60)  //  60: a leap second, counted as the next second
            return -1;
        secs += h * 3600 + mi * 60 + s;
        if (*p == '.') {
            p++;
            int digits = 0;
            for (; *p >= '0' && *p <= '9'; p++, digits++)
                if (digits < 9)
                    frac = frac * 10 + (uint64_t) (*p - '0');
            if (digits == 0)
                return -1;
            for (; digits < 9; digits++)
                frac *= 10;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (*p == '+' || *p == '-') {
            int sign = *p++ == '+' ? 1 : -1;
            int64_t oh = s_digits (&p, 2);
            if (oh < 0 || oh > 23 || *p++ != ':')
                return -1;
            int64_t om = s_digits (&p, 2);
            if (om < 0 || om > 59)
                return -1;
            secs -= sign * (oh * 3600 + om * 60);
        }
        else
            return -1;  //  RFC 3339 needs the offset: a local time would be a guess
    }
    //  ns since the epoch in 64 bits end in 2554.
    if (*p != '\0' || secs < 0 || (uint64_t) secs >= UINT64_MAX / S_NS)
        return -1;
    *ns = (uint64_t) secs * S_NS + frac;
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Sightings

//  The sighting record `key` with all its orgs (ag_correlate_sight_read); counts what does not
//  parse. 1, 0 (none or bad), -1 (the store failed: the caller fails).
static int
s_sight (ag_query_t *self, const char *key, ag_sight_view_t *v, ag_seen_view_t **seen)
{
    int rc = ag_correlate_sight_read (self->store, key, v, seen);
    if (rc == -2)
        self->stats.bad++;
    return rc == -1 ? -1 : rc == 1 ? 1 : 0;
}

typedef struct {
    ag_query_t *self;
    FILE *out;
    int64_t lines;
    bool error;
} s_scan_t;

static int
s_sight_line (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
              uint64_t expires)
{
    (void) expires;
    (void) val, (void) vlen;
    s_scan_t *ctx = (s_scan_t *) arg;
    ag_query_t *self = ctx->self;
    if (ag_correlate_record_is_entry (key, klen))
        return 0;  //  an org's part: read with its record
    self->stats.records++;
    ag_sight_view_t *v = (ag_sight_view_t *) malloc (sizeof *v);
    ag_seen_view_t *seen = NULL;
    char skey[AG_INDICATOR_MAX + 32];
    if (!v || klen >= sizeof skey) {
        free (v);
        ctx->error = !v;
        return v ? 0 : (int) s_fail (self, "out of memory");
    }
    memcpy (skey, key, klen);
    skey[klen] = '\0';
    int got = s_sight (self, skey, v, &seen);
    if (got != 1) {
        free (v);
        ctx->error = got == -1;
        return got == -1 ? (int) s_fail (self, ag_store_error (self->store)) : 0;
    }
    s_text (self, "{\"key\":");
    s_str (self, (const char *) key, klen);
    s_key (self, "group");
    s_cstr (self, v->group);
    s_key (self, "type");
    s_enum (self, mm_ioc_type_name (v->type), v->type);
    s_key (self, "value");
    s_cstr (self, v->value);
    s_key (self, "mixed");
    s_text (self, v->mixed ? "true" : "false");
    s_key (self, "first_seen");
    s_time (self, v->first, 9);
    s_key (self, "last_seen");
    s_time (self, v->last, 9);
    s_key (self, "count");
    s_uint (self, v->count);
    s_key (self, "orgs");
    s_raw (self, "[", 1);
    for (uint32_t i = 0; i < v->n_seen; i++) {
        const ag_seen_view_t *e = &seen[i];
        s_text (self, i ? ",{\"org_id\":" : "{\"org_id\":");
        s_cstr (self, e->org);
        s_key (self, "first_seen");
        s_time (self, e->first, 9);
        s_key (self, "last_seen");
        s_time (self, e->last, 9);
        s_key (self, "count");
        s_uint (self, e->count);
        //  The record counts distinct sensors up to 2: 2 means "two or more".
        s_key (self, "sensors");
        s_uint (self, e->sensors);
        s_key (self, "first_sensor_id");
        s_cstr (self, e->sensor);
        s_raw (self, "}", 1);
    }
    s_text (self, "]}\n");
    free (seen);
    free (v);
    if (s_emit (self, ctx->out) == -1) {
        ctx->error = true;
        return -1;
    }
    ctx->lines++;
    return 0;
}

int64_t
ag_query_indicator (ag_query_t *self, uint8_t type, const char *value, FILE *out, char *err,
                    size_t err_size)
{
    char norm[AG_INDICATOR_MAX];
    const char *why = NULL;
    if (ag_indicator_normalize (type, value, norm, sizeof norm, &why) == -1) {
        const char *name = mm_ioc_type_name (type);
        snprintf (err, err_size, "'%s' is not a valid %s indicator: %s", value, name ? name : "?",
                  why ? why : "refused");
        return -2;
    }
    char from[AG_INDICATOR_MAX + 32], to[AG_INDICATOR_MAX + 32];
    if (ag_correlate_group_key (self->psl, type, norm, from, sizeof from - 1) == -1) {
        snprintf (err, err_size, "'%s' has no group to look up (a public suffix?)", norm);
        return -2;
    }
    //  Every episode of the group: the keys "GROUPKEY|...", up to "GROUPKEY}" ('}' follows '|').
    size_t n = strlen (from);
    memcpy (to, from, n);
    from[n] = '|';
    to[n] = '}';
    s_scan_t ctx = {self, out, 0, false};
    int64_t rc =
        ag_store_scan (self->store, AG_KV_SIGHT, from, n + 1, to, n + 1, s_sight_line, &ctx);
    if (rc < 0 && !ctx.error)
        return s_fail (self, ag_store_error (self->store));
    return ctx.error ? -1 : ctx.lines;
}

//  ---------------------------------------------------------------------------------------------
//  Timelines

static uint64_t
s_u64 (const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void
s_put_u64 (uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

//  A finding's line: its EVENT through the pointer "u8 len | broker | u64 log index".
typedef struct {
    ag_query_t *self;
    ag_query_item_fn *fn;
    void *arg;
    int64_t items;
    bool error;
} s_timeline_t;

//  A finding's timeline record points at its EVENT in the event family: fetch it.
static int
s_finding_item (s_timeline_t *ctx, const uint8_t *val, size_t vlen)
{
    ag_query_t *self = ctx->self;
    if (vlen < 10 || val[0] == 0 || val[0] > MM_ID_MAX || vlen != 1u + val[0] + 8u) {
        self->stats.bad++;
        return 0;
    }
    mm_str_t broker = {(const char *) val + 1, val[0]};
    mm_buf_t data = {0};
    int got = ag_store_event_get (self->store, broker, s_u64 (val + 1 + val[0]), &data);
    int rc = 0;
    if (got == -1)
        rc = (int) s_fail (self, ag_store_error (self->store));
    else if (got == 0)
        self->stats.missing++;
    else {
        rc = ctx->fn (ctx->arg, 'F', data.data, data.len);
        ctx->items += rc == 0;
    }
    mm_buf_free (&data);
    return rc;
}

static int
s_timeline_item (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 uint64_t expires)
{
    (void) expires;
    s_timeline_t *ctx = (s_timeline_t *) arg;
    ag_query_t *self = ctx->self;
    self->stats.records++;
    //  u8 len | org | u64 ts | 'F' ... or 'W' ...
    size_t at = 1u + key[0] + 8u;
    if (klen < at + 1 || (key[at] != 'F' && key[at] != 'W')) {
        self->stats.bad++;
        return 0;
    }
    int rc = key[at] == 'F' ? s_finding_item (ctx, val, vlen) : ctx->fn (ctx->arg, 'W', val, vlen);
    if (rc == -1) {
        ctx->error = true;
        return -1;
    }
    if (key[at] == 'W')
        ctx->items++;
    return 0;
}

int64_t
ag_query_org_each (ag_query_t *self, const char *org, uint64_t since, uint64_t until,
                   ag_query_item_fn *fn, void *arg)
{
    size_t olen = strlen (org);
    if (olen == 0 || olen > MM_ID_MAX)
        return s_fail (self, "an org id has 1 to 64 characters");
    uint8_t from[1 + MM_ID_MAX + 8], to[1 + MM_ID_MAX + 8];
    from[0] = (uint8_t) olen;
    memcpy (from + 1, org, olen);
    memcpy (to, from, 1 + olen);
    s_put_u64 (from + 1 + olen, since);
    size_t tlen = 1 + olen + 8;
    if (until)
        s_put_u64 (to + 1 + olen, until);
    else {
        //  Everything of this org: the org's prefix with its last byte raised by one (ids
        //  are text, never 0xff).
        tlen = 1 + olen;
        to[olen]++;
    }
    s_timeline_t ctx = {self, fn, arg, 0, false};
    int64_t rc = ag_store_scan (self->store, AG_KV_TIMELINE, from, 1 + olen + 8, to, tlen,
                                s_timeline_item, &ctx);
    if (rc < 0 && !ctx.error)
        return s_fail (self, ag_store_error (self->store));
    return ctx.error ? -1 : ctx.items;
}

typedef struct {
    ag_query_t *self;
    FILE *out;
} s_json_t;

//  One timeline item as a JSON line: a finding as mm_event_to_json renders it, a warning as
//  sent. Items that do not decode are counted and skipped.
static int
s_json_item (void *arg, char kind, const uint8_t *msg, size_t len)
{
    s_json_t *ctx = (s_json_t *) arg;
    ag_query_t *self = ctx->self;
    mm_error_t err;
    if (kind == 'F') {
        if (mm_event_decode (self->ev, msg, len, &err) == -1)
            self->stats.bad++;
        else if (mm_event_to_json (self->ev, &self->line) == -1)
            self->failed = true;
    }
    else if (mm_msg_to_json (msg, len, &self->line, &err) == -1) {
        if (err.code == MM_ERR_NOMEM)
            self->failed = true;
        else
            self->stats.bad++;
    }
    if (self->line.len == 0 && !self->failed)
        return 1;  //  nothing to show (counted above)
    return s_emit (self, ctx->out);
}

int64_t
ag_query_org (ag_query_t *self, const char *org, uint64_t since, uint64_t until, FILE *out)
{
    s_json_t ctx = {self, out};
    return ag_query_org_each (self, org, since, until, s_json_item, &ctx);
}

//  ---------------------------------------------------------------------------------------------
//  Warnings

typedef struct {
    ag_query_t *self;
    ag_warning_view_t *v;
    size_t n, max;
    bool active_only;
    bool error;
} s_warnings_t;

static bool
s_active (const ag_query_t *self, const ag_warning_view_t *v)
{
    return v->status != MM_WSTATUS_REVOKED && (v->valid_until == 0 || v->valid_until > self->now);
}

static int
s_collect (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
           uint64_t expires)
{
    (void) key, (void) klen, (void) expires;
    s_warnings_t *ctx = (s_warnings_t *) arg;
    ctx->self->stats.records++;
    if (ctx->n == ctx->max) {
        size_t max = ctx->max ? ctx->max * 2 : 16;
        ag_warning_view_t *p = (ag_warning_view_t *) realloc (ctx->v, max * sizeof *p);
        if (!p) {
            ctx->error = true;
            s_fail (ctx->self, "out of memory");
            return -1;
        }
        ctx->v = p;
        ctx->max = max;
    }
    if (ag_correlate_record_is_entry (key, klen))
        return 0;  //  a recipient: the record counts them
    ag_warning_view_t *v = &ctx->v[ctx->n];
    if (ag_correlate_warning_view (val, vlen, v) == -1 || !v->id[0]) {
        ctx->self->stats.bad++;
        return 0;
    }
    if (!ctx->active_only || s_active (ctx->self, v))
        ctx->n++;
    return 0;
}

static int
s_by_issue (const void *a, const void *b)
{
    const ag_warning_view_t *x = (const ag_warning_view_t *) a, *y = (const ag_warning_view_t *) b;
    if (x->issued != y->issued)
        return x->issued < y->issued ? -1 : 1;
    return strcmp (x->id, y->id);
}

//  The warnings (all, or the active ones) by issue time into ctx->v. 0, or -1.
static int
s_warnings (ag_query_t *self, bool active_only, s_warnings_t *ctx)
{
    memset (ctx, 0, sizeof *ctx);
    ctx->self = self;
    ctx->active_only = active_only;
    int64_t rc = ag_store_scan (self->store, AG_KV_WARN, NULL, 0, NULL, 0, s_collect, ctx);
    if (rc < 0 && !ctx->error)
        s_fail (self, ag_store_error (self->store));
    if (rc < 0 || ctx->error) {
        free (ctx->v);
        ctx->v = NULL;
        return -1;
    }
    if (ctx->n > 1)
        qsort (ctx->v, ctx->n, sizeof *ctx->v, s_by_issue);
    return 0;
}

static void
s_warning_json (ag_query_t *self, const ag_warning_view_t *v)
{
    s_text (self, "{\"id\":");
    s_cstr (self, v->id);
    s_key (self, "revision");
    s_uint (self, v->revision);
    s_key (self, "status");
    s_enum (self, mm_wstatus_name (v->status), v->status);
    s_key (self, "active");
    s_text (self, s_active (self, v) ? "true" : "false");
    s_key (self, "severity");
    s_enum (self, mm_sev_name (v->severity), v->severity);
    s_key (self, "confidence");
    s_uint (self, v->confidence);
    s_key (self, "category");
    s_enum (self, mm_category_name (v->category), v->category);
    s_key (self, "tlp");
    s_enum (self, mm_tlp_name (v->tlp), v->tlp);
    s_key (self, "indicator");
    s_text (self, "{\"type\":");
    s_enum (self, mm_ioc_type_name (v->type), v->type);
    s_key (self, "value");
    s_cstr (self, v->value);
    s_key (self, "match");
    s_enum (self, mm_match_name (v->match), v->match);
    s_raw (self, "}", 1);
    s_key (self, "techniques");
    s_raw (self, "[", 1);
    for (uint32_t i = 0; i < v->n_techniques; i++) {
        if (i)
            s_raw (self, ",", 1);
        s_cstr (self, v->techniques[i]);
    }
    s_raw (self, "]", 1);
    s_key (self, "issued");
    s_time (self, v->issued, 9);
    s_key (self, "updated");
    s_time (self, v->updated, 9);
    if (v->valid_until) {
        s_key (self, "valid_until");
        s_time (self, v->valid_until, 9);
    }
    s_key (self, "sighting_key");
    s_cstr (self, v->sight_key);
}

int64_t
ag_query_warnings (ag_query_t *self, bool active_only, bool json, FILE *out)
{
    s_warnings_t ctx;
    if (s_warnings (self, active_only, &ctx) == -1)
        return -1;
    int rc = 0;
    if (!json && ctx.n) {
        s_text (self, "ID                               REV STATUS   SEVERITY INDICATOR          "
                      "                      MATCH             TOLD/ALL VALID UNTIL\n");
        rc = s_emit (self, out);
    }
    for (size_t i = 0; i < ctx.n && rc == 0; i++) {
        const ag_warning_view_t *v = &ctx.v[i];
        if (json) {
            s_warning_json (self, v);
            s_key (self, "recipients");
            s_uint (self, v->n_recipients);
            s_key (self, "told");
            s_uint (self, v->n_told);
            s_text (self, "}\n");
        }
        else {
            const char *type = mm_ioc_type_name (v->type), *match = mm_match_name (v->match);
            const char *sev = mm_sev_name (v->severity), *st = mm_wstatus_name (v->status);
            if (st && !s_active (self, v) && v->status != MM_WSTATUS_REVOKED)
                st = "lapsed";
            char until[64] = "-", told[32], ind[AG_INDICATOR_MAX + 16];
            if (v->valid_until)
                s_time_text (v->valid_until, 0, until, sizeof until);
            snprintf (told, sizeof told, "%u/%u", v->n_told, v->n_recipients);
            snprintf (ind, sizeof ind, "%s:%s", type ? type : "?", v->value);
            //  Values are normal forms (printable ASCII); a damaged record's bytes print as
            //  they are, which a terminal survives.
            mm_buf_appendf (&self->line, "%-32s %3u %-8s %-8s %-40s %-17s %8s %s\n", v->id,
                            v->revision, st ? st : "?", sev ? sev : "?", ind, match ? match : "?",
                            told, until);
        }
        rc = s_emit (self, out);
    }
    size_t n = ctx.n;
    free (ctx.v);
    return rc == 0 ? (int64_t) n : -1;
}

//  ---------------------------------------------------------------------------------------------
//  Exports

//  Deterministic ids: UUIDv5 (RFC 9562, SHA-1) of a name in Mimamori's own namespace, so a
//  warning keeps its STIX ids across exports and revisions (STIX versions an object by id).
static const uint8_t s_namespace[16] = {0x63, 0x39, 0x25, 0x9e, 0xe5, 0x2a, 0x4a, 0x61,
                                        0xa1, 0x07, 0x86, 0x46, 0xab, 0xa5, 0x9f, 0x6b};

static int
s_uuid5 (const char *type, const void *name, size_t len, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    bool ok = ctx && EVP_DigestInit_ex (ctx, EVP_sha1 (), NULL) == 1 &&
              EVP_DigestUpdate (ctx, s_namespace, sizeof s_namespace) == 1 &&
              EVP_DigestUpdate (ctx, name, len) == 1 && EVP_DigestFinal_ex (ctx, md, &mdlen) == 1 &&
              mdlen >= 16;
    EVP_MD_CTX_free (ctx);
    if (!ok || size < strlen (type) + 2 + 36 + 1)
        return -1;
    md[6] = (uint8_t) ((md[6] & 0x0f) | 0x50);  //  version 5
    md[8] = (uint8_t) ((md[8] & 0x3f) | 0x80);  //  the RFC variant
    size_t k = (size_t) snprintf (out, size, "%s--", type);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[md[i] >> 4];
        out[k++] = hex[md[i] & 15];
    }
    out[k] = '\0';
    return 0;
}

//  The id of `type` for the warning `id` ("indicator:ID", "sighting:ID"). 0, or -1.
static int
s_id_of (const char *type, const char *id, char *out, size_t size)
{
    char name[128];
    int n = snprintf (name, sizeof name, "%s:%s", type, id);
    return n > 0 && (size_t) n < sizeof name ? s_uuid5 (type, name, (size_t) n, out, size) : -1;
}

//  STIX 2.1 predefined TLP (v1) markings (section 7.2.1.4), referenced and included verbatim.
//  Mimamori's TLP 2.0 maps onto them: CLEAR is WHITE, AMBER+STRICT (the org only) goes to the
//  more restrictive RED rather than the looser AMBER; an unknown value also goes to RED.
typedef struct {
    const char *id, *name, *tlp;
} s_tlp_t;
static const s_tlp_t s_tlps[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red"},
};

static size_t
s_tlp_index (uint8_t tlp)
{
    switch (tlp) {
    case MM_TLP_CLEAR: return 0;
    case MM_TLP_GREEN: return 1;
    case MM_TLP_AMBER: return 2;
    default: return 3;
    }
}

//  The ATT&CK tactic (kill chain phase) of the advice a warning of this category carries
//  (ag_correlate's advice table: TA0011, TA0006, TA0001, TA0010, TA0002).
static const char *
s_phase (uint8_t category)
{
    switch (category) {
    case MM_CAT_BRUTE_FORCE: return "credential-access";
    case MM_CAT_EXPLOIT: return "initial-access";
    case MM_CAT_EXFILTRATION: return "exfiltration";
    case MM_CAT_MALWARE:
    case MM_CAT_LATERAL_MOVEMENT: return "execution";
    default: return "command-and-control";
    }
}

//  A value inside a STIX pattern string literal: quote and backslash escaped.
static void
s_literal (const char *value, char *out, size_t size)
{
    size_t k = 0;
    for (const char *p = value; *p && k + 3 < size; p++) {
        if (*p == '\'' || *p == '\\')
            out[k++] = '\\';
        out[k++] = *p;
    }
    out[k] = '\0';
}

//  The STIX pattern of what a warning names. 0, or -1 (a type STIX cannot say).
static int
s_pattern (const ag_warning_view_t *v, char *out, size_t size)
{
    char lit[2 * AG_INDICATOR_MAX];
    s_literal (v->value, lit, sizeof lit);
    const char *addr = strchr (v->value, ':') ? "ipv6-addr" : "ipv4-addr";
    int n;
    switch (v->type) {
    case MM_IOC_IP:
        n = v->match == MM_MATCH_PREFIX
                ? snprintf (out, size, "[%s:value ISSUBSET '%s']", addr, lit)
                : snprintf (out, size, "[%s:value = '%s']", addr, lit);
        break;
    case MM_IOC_CIDR: n = snprintf (out, size, "[%s:value ISSUBSET '%s']", addr, lit); break;
    case MM_IOC_DOMAIN:
        //  Subdomain and registered-domain matches take the name and everything under it.
        n = v->match == MM_MATCH_EXACT
                ? snprintf (out, size, "[domain-name:value = '%s']", lit)
                : snprintf (out, size,
                            "[domain-name:value = '%s' OR domain-name:value LIKE '%%.%s']", lit,
                            lit);
        break;
    case MM_IOC_URL: n = snprintf (out, size, "[url:value = '%s']", lit); break;
    //  STIX has no object for TLS client fingerprints: a custom one, documented.
    case MM_IOC_JA3: n = snprintf (out, size, "[x-tls-fingerprint:ja3 = '%s']", lit); break;
    case MM_IOC_JA4: n = snprintf (out, size, "[x-tls-fingerprint:ja4 = '%s']", lit); break;
    case MM_IOC_CERT_SHA1:
        n = snprintf (out, size, "[x509-certificate:hashes.'SHA-1' = '%s']", lit);
        break;
    case MM_IOC_SHA256: n = snprintf (out, size, "[file:hashes.'SHA-256' = '%s']", lit); break;
    default: return -1;
    }
    return n > 0 && (size_t) n < size && v->value[0] ? 0 : -1;
}

//  An active warning with what the exports need about it.
typedef struct {
    const ag_warning_view_t *w;
    char indicator_id[64], sighting_id[64];
    char *pattern;
    bool has_sight;
    ag_sight_view_t sight;
    uint32_t providers;
} s_export_t;

static void
s_export_free (s_export_t **ex_p, size_t n)
{
    for (size_t i = 0; *ex_p && i < n; i++)
        free ((*ex_p)[i].pattern);
    free (*ex_p);
    *ex_p = NULL;
}

//  Distinct providers of the orgs that saw it; orgs the registry no longer has count for
//  nothing. `mark` has room for every provider of the registry.
static uint32_t
s_providers (const ag_registry_t *registry, const ag_seen_view_t *seen, uint32_t n, bool *mark)
{
    size_t n_prov = ag_registry_providers (registry);
    uint32_t count = 0;
    memset (mark, 0, n_prov ? n_prov : 1);
    for (uint32_t k = 0; k < n; k++) {
        int32_t o = ag_registry_org_index (registry, seen[k].org);
        uint32_t p = o < 0 ? UINT32_MAX : ag_registry_org_at (registry, (size_t) o)->provider;
        if (p < n_prov && !mark[p]) {
            mark[p] = true;
            count++;
        }
    }
    return count;
}

//  Collects the active warnings that STIX can express, with their sighting records.
static s_export_t *
s_export_prepare (ag_query_t *self, s_warnings_t *ctx, size_t *n_out, const ag_registry_t *registry)
{
    *n_out = 0;
    if (s_warnings (self, true, ctx) == -1)
        return NULL;
    size_t n = 0, psize = 5 * AG_INDICATOR_MAX;
    s_export_t *ex = (s_export_t *) calloc (ctx->n ? ctx->n : 1, sizeof *ex);
    char *pattern = (char *) malloc (psize);
    bool *mark = (bool *) malloc (registry ? ag_registry_providers (registry) + 1 : 1);
    mm_buf_t b = {0};
    if (!ex || !pattern || !mark) {
        s_fail (self, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ctx->n; i++) {
        s_export_t *e = &ex[n];
        e->w = &ctx->v[i];
        if (s_pattern (e->w, pattern, psize) == -1) {
            self->stats.bad++;
            continue;
        }
        if (!(e->pattern = strdup (pattern))) {
            s_fail (self, "out of memory");
            goto fail;
        }
        n++;
        if (s_id_of ("indicator", e->w->id, e->indicator_id, sizeof e->indicator_id) == -1 ||
            s_id_of ("sighting", e->w->id, e->sighting_id, sizeof e->sighting_id) == -1) {
            s_fail (self, "libcrypto's SHA-1 failed (the STIX ids)");
            goto fail;
        }
        ag_seen_view_t *seen = NULL;
        int got = s_sight (self, e->w->sight_key, &e->sight, &seen);
        if (got == -1) {
            s_fail (self, ag_store_error (self->store));
            goto fail;
        }
        if (got == 1) {
            e->has_sight = true;
            if (registry)
                e->providers = s_providers (registry, seen, e->sight.n_seen, mark);
        }
        else
            self->stats.no_sight++;  //  (s_sight counted it if it did not parse)
        free (seen);
    }
    mm_buf_free (&b);
    free (pattern);
    free (mark);
    *n_out = n;
    return ex;
fail:
    mm_buf_free (&b);
    free (pattern);
    free (mark);
    s_export_free (&ex, n);
    free (ctx->v);
    ctx->v = NULL;
    return NULL;
}

static void
s_marking_refs (ag_query_t *self, uint8_t tlp)
{
    s_key (self, "object_marking_refs");
    s_raw (self, "[", 1);
    s_cstr (self, s_tlps[s_tlp_index (tlp)].id);
    s_raw (self, "]", 1);
}

//  The fixed ones: the anonymous identity every sighting points to, and the markings used.
#define S_IDENTITY_CREATED "2025-04-01T00:00:00.000Z"

static int
s_stix_head (ag_query_t *self, const s_export_t *ex, size_t n, const char *identity)
{
    //  The bundle's id follows its content (ids, revisions, sighting counts), so the same
    //  export twice is the same bundle.
    mm_buf_t name = {0};
    int rc = mm_buf_appendf (&name, "bundle:");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = mm_buf_appendf (&name, "%s:%u:%llu:%llu;", ex[i].w->id, ex[i].w->revision,
                             (unsigned long long) ex[i].sight.count,
                             (unsigned long long) ex[i].sight.last);
    char bundle[64];
    if (rc == 0)
        rc = s_uuid5 ("bundle", name.data, name.len, bundle, sizeof bundle);
    mm_buf_free (&name);
    if (rc == -1)
        return (int) s_fail (self, "out of memory, or libcrypto's SHA-1 failed (the bundle id)");
    s_text (self, "{\"type\":\"bundle\",\"id\":");
    s_cstr (self, bundle);
    s_text (self, ",\"objects\":[\n");
    s_text (self, "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":");
    s_cstr (self, identity);
    s_text (self, ",\"created\":\"" S_IDENTITY_CREATED "\",\"modified\":\"" S_IDENTITY_CREATED
                  "\",\"name\":\"Mimamori participants\",\"description\":\"The companies "
                  "taking part in Mimamori. Which of them saw an indicator is not disclosed.\","
                  "\"identity_class\":\"class\"}");
    bool used[4] = {false};
    for (size_t i = 0; i < n; i++)
        used[s_tlp_index (ex[i].w->tlp)] = true;
    for (size_t t = 0; t < 4; t++) {
        if (!used[t])
            continue;
        s_text (self, ",\n{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":");
        s_cstr (self, s_tlps[t].id);
        s_text (self, ",\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\","
                      "\"name\":");
        s_cstr (self, s_tlps[t].name);
        s_text (self, ",\"definition\":{\"tlp\":");
        s_cstr (self, s_tlps[t].tlp);
        s_text (self, "}}");
    }
    return 0;
}

static void
s_stix_indicator (ag_query_t *self, const s_export_t *e)
{
    const ag_warning_view_t *v = e->w;
    const char *cat = mm_category_name (v->category), *sev = mm_sev_name (v->severity);
    const char *match = mm_match_name (v->match);
    char text[AG_INDICATOR_MAX + 256];
    s_text (self, ",\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":");
    s_cstr (self, e->indicator_id);
    s_key (self, "created");
    s_time (self, v->issued, 3);
    s_key (self, "modified");
    s_time (self, v->updated > v->issued ? v->updated : v->issued, 3);
    s_key (self, "name");
    snprintf (text, sizeof text, "Mimamori warning: %s %s", cat ? cat : "threat", v->value);
    s_cstr (self, text);
    s_key (self, "description");
    snprintf (text, sizeof text,
              "Lateral warning %s (revision %u) of Mimamori: %s seen by participating companies.",
              v->id, v->revision, v->value);
    s_cstr (self, text);
    s_text (self, ",\"indicator_types\":[\"malicious-activity\"]");
    s_key (self, "pattern");
    s_cstr (self, e->pattern);
    s_text (self, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
    s_key (self, "valid_from");
    s_time (self, v->issued, 3);
    //  valid_until must be later than valid_from.
    if (v->valid_until / 1000000u > v->issued / 1000000u) {
        s_key (self, "valid_until");
        s_time (self, v->valid_until, 3);
    }
    s_key (self, "confidence");
    s_uint (self, v->confidence <= 100 ? v->confidence : 100);
    s_text (self, ",\"labels\":[\"mimamori\"");
    snprintf (text, sizeof text, "category:%s", cat ? cat : "unknown");
    s_raw (self, ",", 1);
    s_cstr (self, text);
    snprintf (text, sizeof text, "severity:%s", sev ? sev : "unknown");
    s_raw (self, ",", 1);
    s_cstr (self, text);
    snprintf (text, sizeof text, "match:%s", match ? match : "unknown");
    s_raw (self, ",", 1);
    s_cstr (self, text);
    s_text (self, "],\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\",\"phase_name\":");
    s_cstr (self, s_phase (v->category));
    s_text (self, "}],\"external_references\":[{\"source_name\":\"mimamori\",\"external_id\":");
    s_cstr (self, v->id);
    s_raw (self, "}", 1);
    for (uint32_t i = 0; i < v->n_techniques; i++) {
        const char *t = v->techniques[i];
        s_text (self, ",{\"source_name\":\"mitre-attack\",\"external_id\":");
        s_cstr (self, t);
        //  T1071.001 is https://attack.mitre.org/techniques/T1071/001/; only well-formed ids
        //  become URLs.
        size_t tl = strlen (t);
        if (tl >= 5 && t[0] == 'T' && s_all (t + 1, tl - 1, "0123456789.")) {
            snprintf (text, sizeof text, "https://attack.mitre.org/techniques/%s/", t);
            char *dot = strchr (text + 36, '.');
            if (dot)
                *dot = '/';
            s_key (self, "url");
            s_cstr (self, text);
        }
        s_raw (self, "}", 1);
    }
    s_raw (self, "]", 1);
    s_marking_refs (self, v->tlp);
    s_raw (self, "}", 1);
}

static void
s_stix_sighting (ag_query_t *self, const s_export_t *e, const char *identity)
{
    const ag_warning_view_t *v = e->w;
    const ag_sight_view_t *s = &e->sight;
    uint64_t modified = v->updated > v->issued ? v->updated : v->issued;
    if (s->last > modified)
        modified = s->last;
    s_text (self, ",\n{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":");
    s_cstr (self, e->sighting_id);
    s_key (self, "created");
    s_time (self, v->issued, 3);
    s_key (self, "modified");
    s_time (self, modified, 3);
    s_key (self, "first_seen");
    s_time (self, s->first, 3);
    s_key (self, "last_seen");
    s_time (self, s->last >= s->first ? s->last : s->first, 3);
    s_key (self, "count");
    s_uint (self, s->count < S_STIX_COUNT_MAX ? s->count : S_STIX_COUNT_MAX);
    s_key (self, "sighting_of_ref");
    s_cstr (self, e->indicator_id);
    s_key (self, "where_sighted_refs");
    s_raw (self, "[", 1);
    s_cstr (self, identity);
    s_raw (self, "]", 1);
    s_marking_refs (self, v->tlp);
    s_raw (self, "}", 1);
}

int64_t
ag_query_export_stix (ag_query_t *self, FILE *out)
{
    s_warnings_t ctx;
    size_t n;
    s_export_t *ex = s_export_prepare (self, &ctx, &n, NULL);
    if (!ex)
        return -1;
    static const char who[] = "identity:participants";
    char identity[64];
    int rc = s_uuid5 ("identity", who, sizeof who - 1, identity, sizeof identity);
    if (rc == -1)
        s_fail (self, "libcrypto's SHA-1 failed (the STIX ids)");
    if (rc == 0)
        rc = s_stix_head (self, ex, n, identity);
    if (rc == 0)
        rc = s_emit (self, out);
    for (size_t i = 0; i < n && rc == 0; i++) {
        s_stix_indicator (self, &ex[i]);
        if (ex[i].has_sight)
            s_stix_sighting (self, &ex[i], identity);
        rc = s_emit (self, out);
    }
    if (rc == 0) {
        s_text (self, "\n]}\n");
        rc = s_emit (self, out);
    }
    s_export_free (&ex, n);
    free (ctx.v);
    return rc == 0 ? (int64_t) n : -1;
}

int64_t
ag_query_export_jsonl (ag_query_t *self, const ag_registry_t *registry, FILE *out)
{
    s_warnings_t ctx;
    size_t n;
    s_export_t *ex = s_export_prepare (self, &ctx, &n, registry);
    if (!ex)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        s_text (self, "{\"type\":\"warning\",\"warning\":");
        s_warning_json (self, ex[i].w);
        s_key (self, "stix_id");
        s_cstr (self, ex[i].indicator_id);
        s_key (self, "pattern");
        s_cstr (self, ex[i].pattern);
        s_text (self, "}}\n");
        rc = s_emit (self, out);
    }
    //  One line per sighting group, after every warning that uses it.
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!ex[i].has_sight)
            continue;
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp (ex[k].w->sight_key, ex[i].w->sight_key) != 0;
        if (!first)
            continue;
        const ag_sight_view_t *s = &ex[i].sight;
        s_text (self, "{\"type\":\"sighting_group\",\"sighting\":{\"key\":");
        s_cstr (self, ex[i].w->sight_key);
        s_key (self, "group");
        s_cstr (self, s->group);
        s_key (self, "type");
        s_enum (self, mm_ioc_type_name (s->type), s->type);
        if (!s->mixed) {
            s_key (self, "value");
            s_cstr (self, s->value);
        }
        s_key (self, "mixed");
        s_text (self, s->mixed ? "true" : "false");
        s_key (self, "orgs");
        s_uint (self, s->n_seen);
        s_key (self, "providers");
        s_uint (self, ex[i].providers);
        s_key (self, "sightings");
        s_uint (self, s->count);
        s_key (self, "first_seen");
        s_time (self, s->first, 9);
        s_key (self, "last_seen");
        s_time (self, s->last, 9);
        s_key (self, "warnings");
        s_raw (self, "[", 1);
        for (size_t k = i, m = 0; k < n; k++)
            if (strcmp (ex[k].w->sight_key, ex[i].w->sight_key) == 0) {
                if (m++)
                    s_raw (self, ",", 1);
                s_cstr (self, ex[k].w->id);
            }
        s_text (self, "]}}\n");
        rc = s_emit (self, out);
    }
    s_export_free (&ex, n);
    free (ctx.v);
    return rc == 0 ? (int64_t) n : -1;
}
