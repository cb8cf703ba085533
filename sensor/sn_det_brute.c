/*  sn_det_brute: password guessing against login services (issue 4, detector 2). Where the
    server answers in clear text the detector counts the failures it announces (FTP 530 after
    PASS, as Zeek does; SMTP 535, POP3 -ERR, IMAP NO, SMB logon failure, MySQL 1045, PostgreSQL
    28P01, MSSQL 18456, Oracle ORA-01017, Redis, Telnet "Login incorrect"); where the login is
    encrypted it counts short answered connections from the flow records (SSH, recognised by its
    banner on any port, RDP, VNC, IMAPS, POP3S). Counts are per source and service within the
    window; a login after the threshold is a success. Owner: sensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_distinct.h"
#include "sn_track.h"

#define S_NS 1000000000ULL

//  Bytes of one segment searched for a reply or command: replies to logins are short.
#define S_SCAN_MAX 1024

//  The server packets of a MySQL login (greeting, auth switch, OK) come first; later ones may
//  be result rows, whose bytes could look like an OK.
#define S_LOGIN_PKTS 8

#define S_TCP_SYN 0x02
#define S_TCP_PSH 0x08
#define S_TCP_ACK 0x10

//  How a service's failed logins are recognised.
typedef enum {
    S_P_SHORT = 0,  //  encrypted: short answered connections, from the flow records
    S_P_FTP,
    S_P_SMTP,
    S_P_POP3,
    S_P_IMAP,
    S_P_TELNET,
    S_P_SMB,
    S_P_MYSQL,
    S_P_PGSQL,
    S_P_MSSQL,
    S_P_ORACLE,
    S_P_REDIS,
} s_parser_t;

typedef struct {
    uint16_t port;
    uint8_t parser;
    const char *name;
} s_service_t;

//  Login services we know by port. SMTP over TLS (465, and 587 after STARTTLS) is on the reply
//  parser, not the short-connection count, on purpose: every mail an application submits is a
//  short connection, and would look like a guess.
static const s_service_t s_known[] = {
    {21, S_P_FTP, "FTP"},       {22, S_P_SHORT, "SSH"},          {23, S_P_TELNET, "Telnet"},
    {25, S_P_SMTP, "SMTP"},     {110, S_P_POP3, "POP3"},         {139, S_P_SMB, "SMB"},
    {143, S_P_IMAP, "IMAP"},    {445, S_P_SMB, "SMB"},           {465, S_P_SMTP, "SMTPS"},
    {587, S_P_SMTP, "SMTP"},    {993, S_P_SHORT, "IMAPS"},       {995, S_P_SHORT, "POP3S"},
    {1433, S_P_MSSQL, "MSSQL"}, {1521, S_P_ORACLE, "Oracle"},    {3306, S_P_MYSQL, "MySQL"},
    {3389, S_P_SHORT, "RDP"},   {5432, S_P_PGSQL, "PostgreSQL"}, {5900, S_P_SHORT, "VNC"},
    {5901, S_P_SHORT, "VNC"},   {6379, S_P_REDIS, "Redis"},
};
#define S_N_KNOWN (sizeof s_known / sizeof s_known[0])
#define S_UNKNOWN_PORT 0xff  //  in the ports setting but not in s_known: short connections

//  Which detector a count belongs to.
typedef enum { S_K_FTP = 0, S_K_SSH, S_K_SERVICE } s_kind_t;

//  One failed (or guessed-failed) login, as the counting code sees it.
typedef struct {
    s_kind_t kind;
    uint16_t port;     //  the service's port (the key of the per-source count; 22 for SSH)
    const char *name;  //  "FTP", "RDP", ...
    bool guessed;      //  from a short connection, not from the server's answer
} s_what_t;

//  Per (source, service): failures in the current window, and totals since the first.
typedef struct {
    uint64_t first_ts, last_ts, win_start;
    uint64_t total;      //  since first_ts: the finding's cumulative count
    uint64_t in_window;  //  in the window that began at win_start
    sn_distinct_t hosts;
    mm_addr_t last_dst;
    mm_addr_t raised_dst;  //  the finding's target (len 0: many)
    uint16_t last_dport;
    bool raised;
} s_source_t;

//  Per TCP connection of a reply-parsed service, while a login is in progress.
typedef struct {
    uint32_t last_seq;  //  server sequence number of the last segment that was counted
    uint8_t seq_known;
    uint8_t pending;  //  the client sent a login command; its answer is awaited
    uint8_t tag_len;
    char tag[16];  //  IMAP: the tag of that command
} s_conn_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *sources;
    sn_track_t *conns;
    uint8_t *svc;  //  per port: index + 1 into s_known, S_UNKNOWN_PORT, or 0
    uint64_t window_ns;
    uint64_t ssh_max_us;  //  [bruteforce] ssh_max_seconds, in microseconds
} s_brute_t;

//  ---------------------------------------------------------------------------------------------
//  What the findings say

static const sn_det_info_t s_info_ftp = {"bruteforce.ftp", 1,  MM_CAT_BRUTE_FORCE,
                                         MM_SEV_MEDIUM,    90, {"T1110", "T1110.001"}};
static const sn_det_info_t s_info_ftp_lateral = {
    "bruteforce.ftp", 1, MM_CAT_BRUTE_FORCE, MM_SEV_MEDIUM, 90, {"T1110", "T1110.001", "T1021"}};
static const sn_det_info_t s_info_ssh = {"bruteforce.ssh", 1,  MM_CAT_BRUTE_FORCE,
                                         MM_SEV_MEDIUM,    60, {"T1110", "T1110.001"}};
static const sn_det_info_t s_info_ssh_lateral = {
    "bruteforce.ssh", 1,  MM_CAT_BRUTE_FORCE,
    MM_SEV_MEDIUM,    60, {"T1110", "T1110.001", "T1021", "T1021.004"}};
static const sn_det_info_t s_info_service = {"bruteforce.service", 1,  MM_CAT_BRUTE_FORCE,
                                             MM_SEV_MEDIUM,        70, {"T1110", "T1110.001"}};
static const sn_det_info_t s_info_service_lateral = {
    "bruteforce.service", 1,  MM_CAT_BRUTE_FORCE,
    MM_SEV_MEDIUM,        70, {"T1110", "T1110.001", "T1021"}};
static const sn_det_info_t s_info_success = {
    "bruteforce.success", 1,  MM_CAT_BRUTE_FORCE,
    MM_SEV_CRITICAL,      80, {"T1110", "T1110.001", "T1078"}};

static const sn_det_info_t *
s_info (s_kind_t kind, bool lateral)
{
    switch (kind) {
    case S_K_FTP: return lateral ? &s_info_ftp_lateral : &s_info_ftp;
    case S_K_SSH: return lateral ? &s_info_ssh_lateral : &s_info_ssh;
    default: return lateral ? &s_info_service_lateral : &s_info_service;
    }
}

static uint64_t
s_threshold (const s_brute_t *self, s_kind_t kind)
{
    switch (kind) {
    case S_K_FTP: return self->cfg->brute_ftp_failures;
    case S_K_SSH: return self->cfg->brute_ssh_attempts;
    default: return self->cfg->brute_attempts;
    }
}

//  "0m37s", as Zeek writes durations in its notices.
static void
s_duration (uint64_t ns, char *buf, size_t size)
{
    uint64_t s = ns / S_NS;
    snprintf (buf, size, "%llum%llus", (unsigned long long) (s / 60),
              (unsigned long long) (s % 60));
}

//  Attempts from outside are medium. From inside they are high: a company machine guessing
//  passwords is compromised or misused (lateral movement when the target is inside too). The
//  one exception is a short-connection guess at an outside server, which ordinary clients
//  polling cloud services can resemble: medium.
static uint8_t
s_severity (const s_brute_t *self, const mm_addr_t *src, const mm_addr_t *dst, bool guessed)
{
    if (!sn_detect_is_home (self->engine, src))
        return MM_SEV_MEDIUM;
    if (guessed && dst->len && !sn_detect_is_home (self->engine, dst))
        return MM_SEV_MEDIUM;
    return MM_SEV_HIGH;
}

static void
s_report (s_brute_t *self, const s_source_t *st, const s_what_t *what, const mm_addr_t *src,
          const mm_addr_t *dst, uint64_t ts)
{
    bool lateral = sn_detect_is_home (self->engine, src) && sn_detect_is_home (self->engine, dst);
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = s_info (what->kind, lateral);
    a.ts = ts;
    a.severity = s_severity (self, src, dst, what->guessed);
    a.confidence = what->guessed ? 60 : 90;
    a.proto = 6;
    a.src = *src;
    a.dst = st->raised_dst;
    if (what->kind != S_K_SSH) {
        //  SSH is one service on any port; the others are told apart by theirs.
        a.has_dport = true;
        a.dport = what->port;
        a.subject = what->port;
    }
    uint32_t hosts = sn_distinct_count (&st->hosts);
    a.evidence.count = st->total;
    a.evidence.distinct_hosts = hosts;
    a.evidence.window_s = (uint32_t) self->cfg->brute_window;
    a.evidence.first_ts = st->first_ts;
    a.evidence.last_ts = st->last_ts;
    char s[64], dur[32];
    sn_detect_addr_str (src, s, sizeof s);
    s_duration (st->last_ts - st->first_ts, dur, sizeof dur);
    const char *plural = hosts == 1 ? "" : "s";
    if (what->kind == S_K_SSH)
        snprintf (a.message, sizeof a.message,
                  "%s appears to be guessing SSH passwords: %llu short SSH sessions with %u "
                  "server%s in %s",
                  s, (unsigned long long) st->total, hosts, plural, dur);
    else if (what->guessed)
        snprintf (a.message, sizeof a.message,
                  "%s made %llu short %s connections (port %u) to %u server%s in %s, like "
                  "failed logins",
                  s, (unsigned long long) st->total, what->name, what->port, hosts, plural, dur);
    else
        snprintf (a.message, sizeof a.message, "%s had %llu failed logins on %u %s server%s in %s",
                  s, (unsigned long long) st->total, hosts, what->name, plural, dur);
    sn_detect_raise (self->engine, &a);
}

//  ---------------------------------------------------------------------------------------------
//  Counting

static size_t
s_source_key (uint8_t *key, const mm_addr_t *src, uint16_t port)
{
    size_t n = sn_track_key_addr (key, src);
    key[n++] = (uint8_t) (port >> 8);
    key[n++] = (uint8_t) port;
    return n;
}

static void
s_failure (s_brute_t *self, const s_what_t *what, const mm_addr_t *src, const mm_addr_t *dst,
           uint16_t dport, uint64_t ts)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_source_key (key, src, what->port);
    bool created;
    s_source_t *st = sn_track_get (self->sources, key, n, ts, &created);
    if (created || ts > st->win_start + self->window_ns) {
        if (!created && st->raised) {
            //  The attack goes on: a new window, but the finding keeps its totals.
            st->win_start = ts;
            st->in_window = 0;
        }
        else {
            //  Too slow to count (or new): start afresh.
            memset (st, 0, sizeof *st);
            st->first_ts = st->win_start = ts;
        }
    }
    st->total++;
    st->in_window++;
    if (ts > st->last_ts)
        st->last_ts = ts;
    sn_distinct_add (&st->hosts, sn_distinct_hash (dst->b, dst->len));
    st->last_dst = *dst;
    st->last_dport = dport;
    if (!st->raised && st->in_window < s_threshold (self, what->kind))
        return;
    if (!st->raised)
        st->raised = true;
    //  The finding names the target while the source has failed on one server only. Once it
    //  fails on a second (it moved on, or sprays), its finding has no single target from then
    //  on: a new finding, as its key changed; the one that named the first server keeps the
    //  counts it had, true when they were sent.
    if (sn_distinct_count (&st->hosts) == 1)
        st->raised_dst = *dst;
    else
        memset (&st->raised_dst, 0, sizeof st->raised_dst);
    s_report (self, st, what, src, dst, ts);
}

//  A login that worked, from a source that had failed the threshold's worth: the guessing may
//  have paid off.
static void
s_success (s_brute_t *self, const s_what_t *what, const mm_addr_t *src, const mm_addr_t *dst,
           uint16_t dport, uint64_t ts)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_source_key (key, src, what->port);
    s_source_t *st = sn_track_find (self->sources, key, n);
    if (!st || !(st->raised || st->in_window >= s_threshold (self, what->kind)))
        return;
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &s_info_success;
    a.ts = ts;
    a.confidence = what->guessed ? 60 : 90;
    //  Critical is for one of our servers taken by guessing. An inside client reaching an
    //  outside service is not that: medium, and nobody to block. Between inside hosts, SSH
    //  failures inferred from sizes look like automation (git or backups over SSH every 30 s),
    //  so an inferred success there is high; failures read from the server's replies, or
    //  guessing from outside, make it critical.
    if (!sn_detect_is_home (self->engine, dst)) {
        a.severity = MM_SEV_MEDIUM;
        a.offender = SN_OFFENDER_NONE;
    }
    else if (what->guessed && sn_detect_is_home (self->engine, src))
        a.severity = MM_SEV_HIGH;
    a.proto = 6;
    a.src = *src;
    a.dst = *dst;
    a.has_dport = true;
    a.dport = dport;
    a.subject = what->port;
    a.evidence.count = st->total;
    a.evidence.distinct_hosts = sn_distinct_count (&st->hosts);
    a.evidence.window_s = (uint32_t) self->cfg->brute_window;
    a.evidence.first_ts = st->first_ts;
    a.evidence.last_ts = ts;
    char s[64], d[64];
    sn_detect_addr_str (src, s, sizeof s);
    sn_detect_addr_str (dst, d, sizeof d);
    if (what->guessed)
        snprintf (a.message, sizeof a.message,
                  "%s held a long %s session with %s:%u after %llu short ones that looked like "
                  "failed logins",
                  s, what->name, d, dport, (unsigned long long) st->total);
    else
        snprintf (a.message, sizeof a.message,
                  "%s logged in to %s on %s:%u after %llu failed logins", s, what->name, d, dport,
                  (unsigned long long) st->total);
    sn_detect_raise (self->engine, &a);
}

//  ---------------------------------------------------------------------------------------------
//  Server replies and client commands of the clear-text protocols

static bool
s_prefix_ci (const uint8_t *p, size_t n, const char *word)
{
    size_t len = strlen (word);
    if (n < len)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t) (c + 32);
        if (c != (uint8_t) word[i])
            return false;
    }
    return true;
}

//  Case-insensitive search for a lower-case `word` in the first bytes of a segment.
static bool
s_contains_ci (const uint8_t *p, size_t n, const char *word)
{
    size_t len = strlen (word);
    for (size_t i = 0; i + len <= n; i++)
        if (s_prefix_ci (p + i, n - i, word))
            return true;
    return false;
}

static bool
s_contains (const uint8_t *p, size_t n, const char *word)
{
    size_t len = strlen (word);
    for (size_t i = 0; i + len <= n; i++)
        if (p[i] == (uint8_t) word[0] && memcmp (p + i, word, len) == 0)
            return true;
    return false;
}

//  The line starting at `p`, without its end; *next is where the following one starts.
static size_t
s_line (const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
    const uint8_t *nl = memchr (p, '\n', (size_t) (end - p));
    *next = nl ? nl + 1 : end;
    size_t n = (size_t) ((nl ? nl : end) - p);
    if (n && p[n - 1] == '\r')
        n--;
    return n;
}

static uint32_t
s_le32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t
s_be32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

//  The IMAP tag of a line ("a001 LOGIN ..."): its length, 0 if none fits.
static size_t
s_imap_tag (const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != ' ' && i < 15)
        i++;
    return i < n && p[i] == ' ' && i > 0 ? i : 0;
}

static s_conn_t *
s_conn (s_brute_t *self, const sn_flow_t *f, uint64_t ts, bool create)
{
    if (create)
        return sn_track_get (self->conns, &f->id, sizeof f->id, ts, NULL);
    return sn_track_find (self->conns, &f->id, sizeof f->id);
}

//  A client segment: note login commands whose answer decides (FTP, POP3, IMAP).
static void
s_client (s_brute_t *self, const sn_det_pkt_t *p, uint8_t parser)
{
    if (parser != S_P_FTP && parser != S_P_POP3 && parser != S_P_IMAP)
        return;
    const uint8_t *data = p->pkt->payload;
    const uint8_t *end =
        data + (p->pkt->payload_len < S_SCAN_MAX ? p->pkt->payload_len : S_SCAN_MAX);
    for (const uint8_t *line = data, *next; line < end; line = next) {
        size_t n = s_line (line, end, &next);
        if (parser == S_P_FTP && s_prefix_ci (line, n, "pass")) {
            s_conn (self, p->flow, p->ts, true)->pending = 1;
        }
        else if (parser == S_P_POP3 &&
                 (s_prefix_ci (line, n, "pass ") || s_prefix_ci (line, n, "apop ") ||
                  s_prefix_ci (line, n, "auth "))) {
            s_conn (self, p->flow, p->ts, true)->pending = 1;
        }
        else if (parser == S_P_IMAP) {
            size_t t = s_imap_tag (line, n);
            if (t && (s_prefix_ci (line + t + 1, n - t - 1, "login ") ||
                      s_prefix_ci (line + t + 1, n - t - 1, "authenticate "))) {
                s_conn_t *c = s_conn (self, p->flow, p->ts, true);
                c->pending = 1;
                c->tag_len = (uint8_t) t;
                memcpy (c->tag, line, t);
            }
        }
    }
}

//  Reads a server segment: how many failed logins it announces, and whether one succeeded.
//  `early`: among the server's first packets. `c` is the connection's state if any (needed by
//  the protocols whose answers are only about a login after a login command).
static void
s_reply (uint8_t parser, const uint8_t *data, size_t len, bool early, s_conn_t *c, unsigned *fails,
         bool *ok)
{
    size_t n = len < S_SCAN_MAX ? len : S_SCAN_MAX;
    const uint8_t *end = data + n;
    switch (parser) {
    case S_P_FTP:
    case S_P_SMTP:
    case S_P_POP3:
    case S_P_IMAP:
        for (const uint8_t *line = data, *next; line < end; line = next) {
            size_t k = s_line (line, end, &next);
            bool pending = c && c->pending;
            if (parser == S_P_FTP && pending && k >= 4 && line[3] == ' ') {
                //  The last line of a reply ("530-" lines continue it).
                if (memcmp (line, "530", 3) == 0)
                    (*fails)++, c->pending = 0;
                else if (memcmp (line, "230", 3) == 0)
                    *ok = true, c->pending = 0;
            }
            else if (parser == S_P_SMTP && k >= 4 && (line[3] == ' ' || line[3] == '-')) {
                //  Only AUTH is answered with 535 or 235 (RFC 4954).
                if (memcmp (line, "535", 3) == 0 && line[3] == ' ')
                    (*fails)++;
                else if (memcmp (line, "235", 3) == 0 && line[3] == ' ')
                    *ok = true;
            }
            else if (parser == S_P_POP3 && pending) {
                if (s_prefix_ci (line, k, "-err"))
                    (*fails)++, c->pending = 0;
                else if (s_prefix_ci (line, k, "+ok"))
                    *ok = true, c->pending = 0;
            }
            else if (parser == S_P_IMAP && pending && k > c->tag_len &&
                     memcmp (line, c->tag, c->tag_len) == 0 && line[c->tag_len] == ' ') {
                const uint8_t *r = line + c->tag_len + 1;
                size_t rn = k - c->tag_len - 1;
                if (s_prefix_ci (r, rn, "no"))
                    (*fails)++, c->pending = 0;
                else if (s_prefix_ci (r, rn, "ok"))
                    *ok = true, c->pending = 0;
                else if (s_prefix_ci (r, rn, "bad"))
                    c->pending = 0;
            }
        }
        break;
    case S_P_TELNET:
        if (s_contains_ci (data, n, "login incorrect") || s_contains_ci (data, n, "login failed"))
            (*fails)++;
        break;
    case S_P_SMB: {
        //  NetBIOS session message, then an SMB2 or SMB1 header: SESSION_SETUP's status.
        if (n < 4 + 32 || data[0] != 0x00)
            break;
        const uint8_t *h = data + 4;
        uint32_t status;
        bool anonymous = false;
        if (memcmp (h, "\xfeSMB", 4) == 0) {
            if (n < 4 + 64 || (h[12] | h[13] << 8) != 1 || !(h[16] & 0x01))
                break;  //  not a SESSION_SETUP response
            status = s_le32 (h + 8);
            //  SessionFlags IS_GUEST, IS_NULL: a session, but no password was right.
            anonymous = n >= 4 + 64 + 4 && (h[66] & 0x03);
        }
        else if (memcmp (h, "\xffSMB", 4) == 0) {
            if (h[4] != 0x73 || !(h[9] & 0x80))
                break;  //  not a SESSION_SETUP_ANDX reply
            status = s_le32 (h + 5);
        }
        else
            break;
        //  LOGON_FAILURE, WRONG_PASSWORD, NO_SUCH_USER, ACCOUNT_LOCKED_OUT; and SMB1's DOS
        //  error ERRSRV/ERRbadpw for servers that do not speak NT status.
        if (status == 0xC000006D || status == 0xC000006A || status == 0xC0000064 ||
            status == 0xC0000234 || status == 0x00020002)
            (*fails)++;
        else if (status == 0 && !anonymous)
            *ok = true;
        break;
    }
    case S_P_MYSQL:
        //  ERR packet (0xff) with ER_ACCESS_DENIED_ERROR (1045); an OK packet (0x00) that answers
        //  the login (sequence 2, or 4 after an auth switch) among the server's first packets,
        //  where no result row can be.
        if (n >= 7 && data[4] == 0xff && data[5] == 0x15 && data[6] == 0x04)
            (*fails)++;
        else if (n >= 7 && data[4] == 0x00 && (data[3] == 2 || data[3] == 4) && early)
            *ok = true;
        break;
    case S_P_PGSQL:
        //  ErrorResponse with SQLSTATE invalid_password or invalid_authorization_specification;
        //  AuthenticationOk.
        if (n >= 5 && data[0] == 'E' &&
            (s_contains (data, n, "C28P01") || s_contains (data, n, "C28000")))
            (*fails)++;
        else if (n >= 9 && data[0] == 'R' && s_be32 (data + 1) == 8 && s_be32 (data + 5) == 0)
            *ok = true;
        break;
    case S_P_MSSQL:
        //  TDS tabular result whose first token is ERROR 18456 (login failed).
        if (n >= 15 && data[0] == 0x04 && data[8] == 0xaa && s_le32 (data + 11) == 18456)
            (*fails)++;
        break;
    case S_P_ORACLE:
        if (s_contains (data, n, "ORA-01017"))
            (*fails)++;
        break;
    case S_P_REDIS:
        if (s_prefix_ci (data, n, "-wrongpass") || s_prefix_ci (data, n, "-err invalid password") ||
            s_prefix_ci (data, n, "-err invalid username-password"))
            (*fails)++;
        break;
    default: break;
    }
}

static bool
s_seq_after (uint32_t a, uint32_t b)
{
    return (int32_t) (a - b) > 0;
}

static void
s_server (s_brute_t *self, const sn_det_pkt_t *p, const s_service_t *svc)
{
    const sn_flow_t *f = p->flow;
    bool needs_command =
        svc->parser == S_P_FTP || svc->parser == S_P_POP3 || svc->parser == S_P_IMAP;
    s_conn_t *c = s_conn (self, f, p->ts, false);
    if (needs_command && (!c || !c->pending))
        return;
    unsigned fails = 0;
    bool ok = false;
    //  Decide on a copy, so that a retransmitted reply changes nothing.
    s_conn_t scratch;
    if (c)
        scratch = *c;
    s_reply (svc->parser, p->pkt->payload, p->pkt->payload_len, f->pkts[1] <= S_LOGIN_PKTS,
             c ? &scratch : NULL, &fails, &ok);
    if (!fails && !ok)
        return;
    if (!c)
        c = s_conn (self, f, p->ts, true);
    uint32_t seq = p->pkt->tcp_seq;
    if (c->seq_known && !s_seq_after (seq, c->last_seq))
        return;  //  a retransmission: counted already
    if (needs_command)
        *c = scratch;
    c->last_seq = seq;
    c->seq_known = 1;
    s_what_t what = {svc->parser == S_P_FTP ? S_K_FTP : S_K_SERVICE, svc->port, svc->name, false};
    for (unsigned i = 0; i < fails; i++)
        s_failure (self, &what, &f->orig, &f->resp, f->resp_port, p->ts);
    if (ok)
        s_success (self, &what, &f->orig, &f->resp, f->resp_port, p->ts);
}

//  An SSH connection (to the port of recent failures) whose client has now sent more than a
//  login takes: a session, said as soon as it happens rather than at the end of the flow.
static void
s_ssh_grows (s_brute_t *self, const sn_det_pkt_t *p)
{
    const sn_flow_t *f = p->flow;
    uint64_t limit = self->cfg->brute_short_bytes;
    if (f->ip_bytes[0] <= limit || f->ip_bytes[0] - p->pkt->ip_len > limit)
        return;  //  not the packet that crossed the limit
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = s_source_key (key, &f->orig, 22);
    s_source_t *st = sn_track_find (self->sources, key, n);
    if (!st || st->last_dport != f->resp_port || st->last_dst.len != f->resp.len ||
        memcmp (st->last_dst.b, f->resp.b, f->resp.len) != 0)
        return;
    s_what_t what = {S_K_SSH, 22, "SSH", true};
    s_success (self, &what, &f->orig, &f->resp, f->resp_port, p->ts);
}

static void
s_packet (void *self_, const sn_det_pkt_t *p)
{
    s_brute_t *self = self_;
    const sn_flow_t *f = p->flow;
    if (f->proto != 6 || p->pkt->payload_len == 0)
        return;
    if (p->dir == 0)
        s_ssh_grows (self, p);
    uint8_t si = self->svc[f->resp_port];
    if (si == 0 || si == S_UNKNOWN_PORT || s_known[si - 1].parser == S_P_SHORT)
        return;
    if (mm_netlist_contains (&self->cfg->brute_allow, &f->orig))
        return;
    if (p->dir == 0)
        s_client (self, p, s_known[si - 1].parser);
    else
        s_server (self, p, &s_known[si - 1]);
}

//  ---------------------------------------------------------------------------------------------
//  Flow records: SSH anywhere, and the short-connection services

static void
s_event (void *self_, const mm_event_t *ev)
{
    s_brute_t *self = self_;
    if (ev->kind != MM_KIND_FLOW || ev->proto != 6 || !(ev->has & MM_EV_HAS_DPORT))
        return;
    uint8_t si = self->svc[ev->dport];
    if (si && si != S_UNKNOWN_PORT && s_known[si - 1].parser != S_P_SHORT)
        sn_track_remove (self->conns, &ev->flow_id, sizeof ev->flow_id);
    if (!(ev->has & MM_EV_HAS_TCP_FLAGS))
        return;
    //  A login needs a completed handshake and data both ways: unanswered connections are
    //  scans (the scan detector's), connect-and-close probes are not guesses.
    if (!(ev->tcp_flags_orig & S_TCP_SYN) ||
        (ev->tcp_flags_resp & (S_TCP_SYN | S_TCP_ACK)) != (S_TCP_SYN | S_TCP_ACK) ||
        !(ev->tcp_flags_orig & S_TCP_PSH) || !(ev->tcp_flags_resp & S_TCP_PSH))
        return;
    if (mm_netlist_contains (&self->cfg->brute_allow, &ev->src))
        return;
    uint64_t end = ev->ts + ev->duration_us * 1000;
    if (mm_str_eq (ev->app, "ssh")) {
        //  A key exchange moves at least ssh_kex_bytes each way (the KEXINIT alone is ~1 KB),
        //  which keeps banner grabbers out of the count. An unauthenticated OpenSSH connection
        //  lasts at most LoginGraceTime (ssh_max_seconds, 120 s by default): a longer one
        //  logged in.
        uint64_t kex = self->cfg->brute_ssh_kex_bytes;
        if (ev->bytes_orig < kex || ev->bytes_resp < kex)
            return;  //  no key exchange: a banner grab
        s_what_t what = {S_K_SSH, 22, "SSH", true};
        if (ev->bytes_orig <= self->cfg->brute_short_bytes && ev->duration_us < self->ssh_max_us)
            s_failure (self, &what, &ev->src, &ev->dst, ev->dport, end);
        else
            s_success (self, &what, &ev->src, &ev->dst, ev->dport, end);
        return;
    }
    if (si == 0 || ev->dport == 22)
        return;  //  not a login port; or port 22 without SSH in it
    if (si != S_UNKNOWN_PORT && s_known[si - 1].parser != S_P_SHORT)
        return;  //  counted from the server's answers instead
    if (ev->bytes_orig > self->cfg->brute_short_bytes)
        return;
    s_what_t what = {S_K_SERVICE, ev->dport, si == S_UNKNOWN_PORT ? "TCP" : s_known[si - 1].name,
                     true};
    s_failure (self, &what, &ev->src, &ev->dst, ev->dport, end);
}

//  ---------------------------------------------------------------------------------------------
//  Life cycle

static void
s_tick (void *self_, uint64_t now_ns)
{
    s_brute_t *self = self_;
    sn_track_expire (self->sources, now_ns);
    sn_track_expire (self->conns, now_ns);
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_brute_t *self = *self_p;
    sn_track_destroy (&self->sources);
    sn_track_destroy (&self->conns);
    free (self->svc);
    free (self);
    *self_p = NULL;
}

//  "21,22, 23": ports separated by commas or spaces. -1 on anything else.
static int
s_parse_ports (uint8_t *svc, const char *text)
{
    const char *p = text;
    while (*p) {
        if (*p == ',' || *p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        char *end;
        unsigned long port = strtoul (p, &end, 10);
        if (end == p || port == 0 || port > 65535 ||
            (*end && *end != ',' && *end != ' ' && *end != '\t'))
            return -1;
        svc[port] = S_UNKNOWN_PORT;
        for (size_t i = 0; i < S_N_KNOWN; i++)
            if (s_known[i].port == port)
                svc[port] = (uint8_t) (i + 1);
        p = end;
    }
    return 0;
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->brute)
        return NULL;
    s_brute_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    self->window_ns = cfg->brute_window * S_NS;
    self->ssh_max_us = cfg->brute_ssh_max_seconds * 1000000ULL;
    self->svc = calloc (65536, 1);
    if (!self->svc)
        goto fail;
    if (s_parse_ports (self->svc, cfg->brute_ports) != 0) {
        fprintf (stderr, "mimamori-sensor: [bruteforce] ports: not a list of ports: %s\n",
                 cfg->brute_ports);
        goto fail;
    }
    uint32_t cap = (uint32_t) cfg->brute_max_tracked;
    self->sources = sn_track_new (cap, sizeof (s_source_t), self->window_ns, NULL, NULL);
    self->conns = sn_track_new (cap, sizeof (s_conn_t), self->window_ns, NULL, NULL);
    if (!self->sources || !self->conns)
        goto fail;
    return self;
fail:
    s_destroy ((void **) &self);
    return NULL;
}

const sn_det_class_t sn_det_brute = {
    .name = "bruteforce",
    .create = s_create,
    .destroy = s_destroy,
    .packet = s_packet,
    .event = s_event,
    .tick = s_tick,
};
