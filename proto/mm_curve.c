/*  mm_curve: CURVE sockets between nodes, their ZAP handler, allow-lists and socket options.
    Owner: proto/ (security). See mm_curve.h for the design and why zauth is not used. */
#include "mm_curve.h"
#include "mm_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93  //  a DRAFT name in libzmq 4.3.4's header, accepted by its build
#endif

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"  //  fixed by RFC 27
#define S_RACY_NS 2000000000LL  //  a file written less than 2 s before a scan is read again
#define S_DROP_BURST 1000       //  dropped messages one recv call goes through at most
#define S_LOG_EVERY_MS 10000    //  one line per kind of trouble per 10 s
#define S_ZAP_DOMAIN_MAX 254    //  libzmq's limit for ZMQ_ZAP_DOMAIN

//  ---------------------------------------------------------------------------------------------
//  Small helpers

//  A log line at most every S_LOG_EVERY_MS; the lines in between are counted and reported.
typedef struct {
    int64_t next_ms;
    uint64_t suppressed;
} s_ratelog_t;

static bool
s_ratelog (s_ratelog_t *r, uint64_t *suppressed)
{
    int64_t now = zclock_mono ();
    if (now < r->next_ms) {
        r->suppressed++;
        return false;
    }
    r->next_ms = now + S_LOG_EVERY_MS;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    return true;
}

static int64_t
s_realtime_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
s_ns (struct timespec ts)
{
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

//  FNV-1a, for the fingerprint of a directory's stat data.
static uint64_t
s_fnv (uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = (const unsigned char *) data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
#define S_FNV_INIT 0xcbf29ce484222325ULL

//  What identifies a version of a file without reading it: inode (a replacement by rename is a
//  new inode), size, mtime and ctime in nanoseconds (ctime cannot be set back by touch or
//  utimensat, so a replacement that restores the mtime still shows), and the mode.
static uint64_t
s_stat_hash (uint64_t h, const struct stat *st)
{
    int64_t v[7] = {(int64_t) st->st_dev,  (int64_t) st->st_ino, (int64_t) st->st_size,
                    s_ns (st->st_mtim),    s_ns (st->st_ctim),   (int64_t) st->st_mode,
                    (int64_t) st->st_nlink};
    return s_fnv (h, v, sizeof v);
}

static int64_t
s_newest (const struct stat *st)
{
    int64_t m = s_ns (st->st_mtim), c = s_ns (st->st_ctim);
    return m > c ? m : c;
}

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n >= m && memcmp (s + n - m, suffix, m) == 0;
}

//  The files of an allow-list directory: "*.cert", not hidden (temporary files of atomic
//  writes are ".NAME.tmp-XXXXXX"), and at least one character before the suffix.
static bool
s_cert_name (const char *name)
{
    return name[0] != '.' && s_ends_with (name, MM_CERT_SUFFIX);
}

static void
s_copy (char *dst, size_t cap, const char *src)
{
    snprintf (dst, cap, "%s", src ? src : "");
}

//  ---------------------------------------------------------------------------------------------
//  Allow-list

struct mm_curve_allow_t {
    char *dir;
    char *revoke;  //  NULL: no revocation file
    unsigned roles;
    int64_t interval_ms;
    int64_t next_ms;       //  monotonic time of the next look at the files
    uint64_t fingerprint;  //  of the stat data at the last successful load
    bool loaded;
    bool racy;        //  something was written within S_RACY_NS of the last load: read it again
    bool failing;     //  the last look failed (logged once, until it works again)
    zhashx_t *certs;  //  Z85 key -> mm_identity_t (owned)
    zhashx_t *revoked_keys;  //  set of Z85 keys
    zhashx_t *revoked_ids;   //  set of ids
    mm_curve_allow_stats_t stats;
};

static const char *s_verdict_names[] = {"allowed", "unknown key", "revoked", "role not accepted"};

const char *
mm_curve_verdict_name (mm_curve_verdict_t verdict)
{
    return (unsigned) verdict < 4 ? s_verdict_names[verdict] : "?";
}

//  The stat data of everything the allow-list reads, folded into one number. Entries are
//  combined by addition, so the order readdir returns them in does not matter. Sets *newest to
//  the latest mtime or ctime seen. 0, or -1 if the directory or the revocation file exists but
//  cannot be read.
static int
s_scan (mm_curve_allow_t *self, uint64_t *fingerprint, int64_t *newest)
{
    uint64_t sum = 0, count = 0;
    *newest = 0;
    DIR *d = opendir (self->dir);
    if (!d && errno != ENOENT)
        return -1;
    if (d) {
        struct stat st;
        if (fstat (dirfd (d), &st) == 0) {
            sum += s_stat_hash (S_FNV_INIT, &st);
            *newest = s_newest (&st);
        }
        struct dirent *e;
        while ((e = readdir (d))) {
            if (!s_cert_name (e->d_name) || fstatat (dirfd (d), e->d_name, &st, 0) == -1 ||
                !S_ISREG (st.st_mode))
                continue;
            uint64_t h = s_fnv (S_FNV_INIT, e->d_name, strlen (e->d_name));
            sum += s_stat_hash (h, &st);
            count++;
            if (s_newest (&st) > *newest)
                *newest = s_newest (&st);
        }
        closedir (d);
    }
    uint64_t h = s_fnv (S_FNV_INIT, &sum, sizeof sum);
    h = s_fnv (h, &count, sizeof count);
    if (self->revoke) {
        struct stat st;
        if (stat (self->revoke, &st) == 0) {
            h = s_stat_hash (h, &st);
            if (s_newest (&st) > *newest)
                *newest = s_newest (&st);
        }
        else if (errno != ENOENT)
            return -1;
        else
            h = s_fnv (h, "absent", 6);
    }
    *fingerprint = h;
    return 0;
}

//  Loads every certificate of the directory into a new table. NULL if the directory exists
//  but cannot be read; a missing directory gives an empty table (everyone refused).
static zhashx_t *
s_load_certs (mm_curve_allow_t *self, uint64_t *invalid)
{
    zhashx_t *certs = zhashx_new ();
    if (!certs)
        return NULL;
    zhashx_set_destructor (certs, s_free_item);
    *invalid = 0;
    DIR *d = opendir (self->dir);
    if (!d) {
        if (errno == ENOENT) {
            mm_log_warning ("mm_curve: allow-list %s does not exist: every key is refused",
                            self->dir);
            return certs;
        }
        mm_log_error ("mm_curve: allow-list %s: %s", self->dir, strerror (errno));
        zhashx_destroy (&certs);
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir (d))) {
        if (!s_cert_name (e->d_name))
            continue;
        char path[4096], err[512];
        if (snprintf (path, sizeof path, "%s/%s", self->dir, e->d_name) >= (int) sizeof path)
            continue;
        struct stat st;
        if (stat (path, &st) == -1 || !S_ISREG (st.st_mode))
            continue;
        if (zhashx_size (certs) >= MM_CURVE_ALLOW_MAX) {
            mm_log_error ("mm_curve: allow-list %s holds more than %d certificates: the rest are "
                          "ignored",
                          self->dir, MM_CURVE_ALLOW_MAX);
            (*invalid)++;
            break;
        }
        mm_cert_t *cert = mm_cert_load (path, err, sizeof err);
        if (!cert || mm_cert_has_secret (cert)) {
            //  Refused files are logged at each reload: reloads happen only when the directory
            //  changes, so this is once per change, not once per second.
            if (cert)
                mm_log_warning ("mm_curve: certificate refused: %s: holds a secret key; an "
                                "allow-list takes public certificates only",
                                path);
            else
                mm_log_warning ("mm_curve: certificate refused: %s", err);
            (*invalid)++;
            mm_cert_destroy (&cert);
            continue;
        }
        mm_identity_t *ident = (mm_identity_t *) malloc (sizeof *ident);
        if (!ident) {
            mm_cert_destroy (&cert);
            closedir (d);
            zhashx_destroy (&certs);
            return NULL;
        }
        *ident = *mm_cert_identity (cert);
        mm_cert_destroy (&cert);
        //  Two files with one key: the first one read wins; which one that is depends on the
        //  directory order, so say so.
        if (zhashx_insert (certs, ident->pubkey, ident) == -1) {
            mm_log_warning ("mm_curve: %s: the same key is in another file of %s: ignored", path,
                            self->dir);
            (*invalid)++;
            free (ident);
        }
    }
    closedir (d);
    return certs;
}

//  Loads the revocation file into two new sets. 0, or -1 if it exists and cannot be read.
static int
s_load_revoked (mm_curve_allow_t *self, zhashx_t **keys_p, zhashx_t **ids_p, uint64_t *entries)
{
    zhashx_t *keys = zhashx_new (), *ids = zhashx_new ();
    char *buf = NULL;
    int rc = -1, fd = -1;
    *entries = 0;
    if (!keys || !ids)
        goto done;
    if (self->revoke) {
        fd = open (self->revoke, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd == -1 && errno != ENOENT) {
            mm_log_error ("mm_curve: revocation file %s: %s", self->revoke, strerror (errno));
            goto done;
        }
    }
    if (fd != -1) {
        buf = (char *) malloc (MM_CURVE_REVOKE_FILE_MAX + 1);
        if (!buf)
            goto done;
        size_t len = 0;
        for (;;) {
            ssize_t n = read (fd, buf + len, MM_CURVE_REVOKE_FILE_MAX - len);
            if (n == -1 && errno == EINTR)
                continue;
            if (n == -1) {
                mm_log_error ("mm_curve: revocation file %s: %s", self->revoke, strerror (errno));
                goto done;
            }
            if (n == 0)
                break;
            len += (size_t) n;
            if (len == MM_CURVE_REVOKE_FILE_MAX) {
                //  Fail closed on the whole file rather than honour half of it silently.
                mm_log_error ("mm_curve: revocation file %s is larger than %u bytes: not read",
                              self->revoke, MM_CURVE_REVOKE_FILE_MAX);
                goto done;
            }
        }
        buf[len] = 0;
        unsigned lineno = 0;
        for (char *line = buf; line && *line;) {
            char *next = strchr (line, '\n');
            if (next)
                *next++ = 0;
            lineno++;
            //  Z85 keys may contain '#' (never first: a 5-character group that starts with
            //  '#' would exceed 2^32), so a comment is not "from '#' on": the first word is the
            //  entry unless it is a '#' word that is not a key; after it only a comment.
            while (*line == ' ' || *line == '\t')
                line++;
            size_t n = strcspn (line, " \t\r");
            char *rest = line + n;
            rest += strspn (rest, " \t\r");
            bool bad = *rest && *rest != '#';
            line[n] = 0;
            unsigned char key[32];
            bool is_key = n == MM_CERT_KEY_TXT && zmq_z85_decode (key, line);
            bool is_id = mm_cert_id_valid (line);
            bool comment = n == 0 || (!is_key && line[0] == '#');  //  or blank
            if (!comment && !bad && (is_key || is_id)) {
                //  A 40-character id made of Z85 characters reads as both: revoke both.
                if (is_key)
                    zhashx_insert (keys, line, (void *) 1);
                if (is_id)
                    zhashx_insert (ids, line, (void *) 1);
                (*entries)++;
            }
            else if (!comment)
                mm_log_warning ("mm_curve: %s:%u: neither a Z85 key nor an id: ignored",
                                self->revoke, lineno);
            line = next;
        }
    }
    *keys_p = keys, *ids_p = ids;
    keys = ids = NULL;
    rc = 0;
done:
    if (fd != -1)
        close (fd);
    free (buf);
    zhashx_destroy (&keys);
    zhashx_destroy (&ids);
    return rc;
}

static int
s_load (mm_curve_allow_t *self)
{
    uint64_t invalid = 0, entries = 0;
    zhashx_t *keys = NULL, *ids = NULL;
    zhashx_t *certs = s_load_certs (self, &invalid);
    if (!certs || s_load_revoked (self, &keys, &ids, &entries) == -1) {
        zhashx_destroy (&certs);
        return -1;
    }
    zhashx_destroy (&self->certs);
    zhashx_destroy (&self->revoked_keys);
    zhashx_destroy (&self->revoked_ids);
    self->certs = certs, self->revoked_keys = keys, self->revoked_ids = ids;
    self->stats.certs = zhashx_size (certs);
    self->stats.invalid = invalid;
    self->stats.revoked = entries;
    return 0;
}

int
mm_curve_allow_refresh (mm_curve_allow_t *self)
{
    //  The time is taken before the scan: a write that lands during the scan counts as recent.
    int64_t started = s_realtime_ns (), newest = 0;
    uint64_t fingerprint = 0;
    int rc = s_scan (self, &fingerprint, &newest);
    if (rc == 0 && (!self->loaded || self->racy || fingerprint != self->fingerprint)) {
        rc = s_load (self);
        if (rc == 0) {
            self->fingerprint = fingerprint;
            self->loaded = true;
            self->stats.reloads++;
            //  A file written within the timestamp granularity of this scan may be written
            //  again with the same size and times (the same-size-same-mtime caveat of
            //  zcertstore, czmq #2113): until everything is older than S_RACY_NS, every look
            //  reads the files again instead of trusting their stat data (git's "racy clean").
            self->racy = newest >= started - S_RACY_NS;
        }
    }
    if (rc == -1) {
        self->stats.reload_errors++;
        if (!self->failing)
            mm_log_error ("mm_curve: allow-list %s: cannot read it: %s; the previous list stays "
                          "in force",
                          self->dir, strerror (errno));
    }
    else if (self->failing)
        mm_log_info ("mm_curve: allow-list %s: readable again", self->dir);
    self->failing = rc == -1;
    return rc;
}

mm_curve_allow_t *
mm_curve_allow_new (const char *dir, const char *revoke_file, unsigned roles)
{
    if (!dir || !*dir)
        return NULL;
    mm_curve_allow_t *self = (mm_curve_allow_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->revoke = revoke_file && *revoke_file ? strdup (revoke_file) : NULL;
    self->roles = roles;
    self->interval_ms = MM_CURVE_ALLOW_INTERVAL_MS;
    if (!self->dir || (revoke_file && *revoke_file && !self->revoke))
        goto fail;
    //  At start a missing directory is a configuration error, not an empty list.
    struct stat st;
    if (stat (dir, &st) == -1) {
        mm_log_error ("mm_curve: allow-list %s: %s", dir, strerror (errno));
        goto fail;
    }
    if (!S_ISDIR (st.st_mode)) {
        mm_log_error ("mm_curve: allow-list %s: not a directory", dir);
        goto fail;
    }
    if (mm_curve_allow_refresh (self) == -1)
        goto fail;
    self->next_ms = zclock_mono () + self->interval_ms;
    return self;
fail:
    mm_curve_allow_destroy (&self);
    return NULL;
}

void
mm_curve_allow_destroy (mm_curve_allow_t **self_p)
{
    if (self_p && *self_p) {
        mm_curve_allow_t *self = *self_p;
        zhashx_destroy (&self->certs);
        zhashx_destroy (&self->revoked_keys);
        zhashx_destroy (&self->revoked_ids);
        free (self->dir);
        free (self->revoke);
        free (self);
        *self_p = NULL;
    }
}

void
mm_curve_allow_set_interval (mm_curve_allow_t *self, int64_t ms)
{
    self->interval_ms = ms > 0 ? ms : 1;
    int64_t next = zclock_mono () + self->interval_ms;
    if (next < self->next_ms)
        self->next_ms = next;
}

//  Looks at the files if the interval has passed (counted and logged inside; the old list
//  stays on error).
static void
s_allow_refresh_due (mm_curve_allow_t *self)
{
    int64_t now = zclock_mono ();
    if (now >= self->next_ms) {
        self->next_ms = now + self->interval_ms;
        mm_curve_allow_refresh (self);
    }
}

//  The verdict on a certificate of the list (NULL: not in it), not counted.
static mm_curve_verdict_t
s_verdict (const mm_curve_allow_t *self, const mm_identity_t *cert)
{
    if (!cert)
        return MM_CURVE_UNKNOWN;
    if (zhashx_lookup (self->revoked_keys, cert->pubkey) ||
        zhashx_lookup (self->revoked_ids, cert->id))
        return MM_CURVE_REVOKED;
    if (self->roles && !(self->roles & MM_ROLE_BIT (cert->role)))
        return MM_CURVE_ROLE;
    return MM_CURVE_ALLOWED;
}

mm_curve_verdict_t
mm_curve_allow_check (mm_curve_allow_t *self, const char *pubkey, mm_identity_t *ident)
{
    s_allow_refresh_due (self);
    const mm_identity_t *cert =
        pubkey && self->certs ? (const mm_identity_t *) zhashx_lookup (self->certs, pubkey) : NULL;
    mm_curve_verdict_t verdict = s_verdict (self, cert);
    switch (verdict) {
    case MM_CURVE_ALLOWED:
        self->stats.allowed++;
        if (ident)
            *ident = *cert;
        break;
    case MM_CURVE_UNKNOWN: self->stats.denied_unknown++; break;
    case MM_CURVE_REVOKED: self->stats.denied_revoked++; break;
    case MM_CURVE_ROLE: self->stats.denied_role++; break;
    }
    return verdict;
}

void
mm_curve_allow_stats (const mm_curve_allow_t *self, mm_curve_allow_stats_t *stats)
{
    *stats = self->stats;
}

size_t
mm_curve_allow_each (mm_curve_allow_t *self, mm_curve_allow_fn *fn, void *arg)
{
    s_allow_refresh_due (self);
    size_t visited = 0;
    if (!self->certs)
        return 0;
    for (const mm_identity_t *c = zhashx_first (self->certs); c; c = zhashx_next (self->certs)) {
        if (s_verdict (self, c) != MM_CURVE_ALLOWED)
            continue;
        visited++;
        if (fn (arg, c) != 0)
            break;
    }
    return visited;
}

//  ---------------------------------------------------------------------------------------------
//  Socket options: every socket between nodes gets these, and nothing else sets options.

//  Applied to servers and clients alike. Must run before bind/connect: libzmq copies most
//  options into each new connection when it is made.
static void
s_apply_common (zsock_t *sock)
{
    //  ZMTP heartbeats. TCP alone notices a peer that vanished (power cut, NAT entry dropped,
    //  cable pulled) only when it next sends, or after keepalive's hours; with a PING every 2 s
    //  and 10 s of silence allowed, a dead connection is closed within ~12 s (a frozen peer was
    //  noticed after 4 s with 1 s/3 s in the research). 10 s rather than 3 s: a false
    //  disconnect costs a CURVE handshake and a resend burst, and a 2-core broker in a
    //  reconnect storm can be slow to answer. The TTL asks the peer to apply the same limit.
    //  Pings also keep NAT and firewall state alive on idle sensor links.
    zsock_set_heartbeat_ivl (sock, MM_CURVE_HEARTBEAT_IVL_MS);
    zsock_set_heartbeat_timeout (sock, MM_CURVE_HEARTBEAT_TIMEOUT_MS);
    zsock_set_heartbeat_ttl (sock, MM_CURVE_HEARTBEAT_TTL_MS);
    //  Reconnect after 1 s, doubling to 30 s while the server stays away (libzmq adds up to
    //  one interval of random jitter), so 1,000 sensors of a restarted broker do not all
    //  hammer it in the same millisecond, and a broker that is back is found within 30 s.
    zsock_set_reconnect_ivl (sock, MM_CURVE_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max (sock, MM_CURVE_RECONNECT_IVL_MAX_MS);
    //  A peer that opens TCP and never finishes the handshake is dropped after 10 s (libzmq's
    //  default is 30 s); a 1,000-sensor storm completes in ~1.5 s on the research machine.
    zsock_set_handshake_ivl (sock, MM_CURVE_HANDSHAKE_IVL_MS);
    //  CZMQ's linger is 0 (drop queued output on close), libzmq's is forever (a close can hang
    //  on a dead peer). Nothing depends on queued output surviving a close: events stay in the
    //  sender's spool until acknowledged, and acks are cumulative and re-sent. 1 s lets the
    //  last ack of a clean shutdown leave, and bounds how long a stop can take.
    zsock_set_linger (sock, MM_CURVE_LINGER_MS);
    //  Per-peer pipe limits. The applications' acknowledgement windows keep in-flight messages
    //  well below these, so a limit is a symptom, never the flow control; reached, it shows
    //  as EAGAIN on send (never a silent drop, see ROUTER_MANDATORY and the DONTWAIT sends)
    //  and as TCP back-pressure on receive. Memory bound: peers x HWM x message size.
    zsock_set_sndhwm (sock, MM_CURVE_SNDHWM);
    zsock_set_rcvhwm (sock, MM_CURVE_RCVHWM);
    //  A peer that sends a frame larger than any protocol message is disconnected before the
    //  frame is buffered. libzmq compares the CURVE frame (payload + ~33 bytes of box and
    //  command), so the limit is MM_MSG_MAX plus slack; the decoder enforces MM_MSG_MAX.
    zsock_set_maxmsgsize (sock, MM_CURVE_MAXMSGSIZE);
}

static int
s_apply_server (zsock_t *sock, const mm_cert_t *cert, const char *domain)
{
    zsock_set_curve_server (sock, 1);
    zsock_set_curve_publickey_bin (sock, mm_cert_public_key (cert));
    zsock_set_curve_secretkey_bin (sock, mm_cert_secret_key (cert));
    //  The ZAP domain selects the allow-list in the handler, and a domain must be set for
    //  libzmq to ask the handler at all (RFC 27; czmq PR #1768).
    zsock_set_zap_domain (sock, domain);
    //  Without it libzmq accepts every CURVE client when no ZAP handler answers (encryption
    //  without authentication); with it, the handshake fails. Measured on libzmq 4.3.4.
    int on = 1;
    if (zmq_setsockopt (zsock_resolve (sock), ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on) == -1) {
        mm_log_error ("mm_curve: ZMQ_ZAP_ENFORCE_DOMAIN refused: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    //  A ROUTER discards silently what it cannot route (peer gone, or at its HWM). Mandatory
    //  turns both into errors (EHOSTUNREACH, EAGAIN with DONTWAIT) that the caller counts and
    //  retries. No ROUTER_HANDOVER: clients set no routing id (identity is the key), so two
    //  connections never claim the same one.
    zsock_set_router_mandatory (sock, 1);
    //  The listen queue: libzmq's default of 100 overflowed 941-2,390 times when 1,000 sensors
    //  came back after a broker restart, and each overflowed client waited for TCP's SYN
    //  retries (1 s, 3 s...). With 4096 (the kernel caps it at net.core.somaxconn) all 1,000
    //  were served in under a second (bench_mesh conns).
    zsock_set_backlog (sock, MM_CURVE_BACKLOG);
    return 0;
}

static void
s_apply_client (zsock_t *sock, const mm_cert_t *cert, const char *server_public_txt)
{
    zsock_set_curve_publickey_bin (sock, mm_cert_public_key (cert));
    zsock_set_curve_secretkey_bin (sock, mm_cert_secret_key (cert));
    zsock_set_curve_serverkey (sock, server_public_txt);
    //  Queue only on a connection whose handshake is done. Without it a DEALER queues into
    //  the pipe of a connection still being made (or refused), and those messages are lost if
    //  it never completes; with it, send says EAGAIN and the event stays in the spool.
    zsock_set_immediate (sock, 1);
}

//  ---------------------------------------------------------------------------------------------
//  The ZAP handler actor

typedef struct {
    char *dir;
    char *revoke;
    unsigned roles;
    int refs;
    mm_curve_allow_t *allow;
} s_domain_t;

static void
s_domain_destroy (void **item)
{
    s_domain_t *d = (s_domain_t *) *item;
    if (d) {
        mm_curve_allow_destroy (&d->allow);
        free (d->dir);
        free (d->revoke);
        free (d);
    }
    *item = NULL;
}

typedef struct {
    zsock_t *pipe;
    zsock_t *handler;
    zhashx_t *domains;  //  ZAP domain -> s_domain_t
    mm_curve_auth_stats_t stats;
    s_ratelog_t log;
} s_auth_t;

struct mm_curve_auth_t {
    zactor_t *actor;
    pthread_mutex_t lock;  //  the actor pipe is one socket; servers may be made in any thread
    int servers;
};

//  ADD domain dir revoke roles: registers (or shares) a domain's allow-list.
static int
s_auth_add (s_auth_t *self, zmsg_t *msg)
{
    char *domain = zmsg_popstr (msg), *dir = zmsg_popstr (msg), *revoke = zmsg_popstr (msg),
         *roles_txt = zmsg_popstr (msg);
    int rc = -1;
    if (!domain || !dir || !revoke || !roles_txt)
        goto done;
    if (!self->domains)
        goto done;
    unsigned roles = (unsigned) strtoul (roles_txt, NULL, 10);
    s_domain_t *d = (s_domain_t *) zhashx_lookup (self->domains, domain);
    if (d) {
        //  One domain, one allow-list: two servers of the process may share a domain only if
        //  they accept the same keys.
        if (strcmp (d->dir, dir) == 0 && strcmp (d->revoke ? d->revoke : "", revoke) == 0 &&
            d->roles == roles) {
            d->refs++;
            rc = 0;
        }
        else
            mm_log_error ("mm_curve: ZAP domain '%s' already uses allow-list %s: give this server "
                          "another domain",
                          domain, d->dir);
        goto done;
    }
    d = (s_domain_t *) calloc (1, sizeof *d);
    if (!d)
        goto done;
    d->dir = strdup (dir);
    d->revoke = *revoke ? strdup (revoke) : NULL;
    d->roles = roles;
    d->refs = 1;
    d->allow = mm_curve_allow_new (dir, d->revoke, roles);
    void *item = d;
    if (!d->dir || (*revoke && !d->revoke) || !d->allow ||
        zhashx_insert (self->domains, domain, d) == -1) {
        s_domain_destroy (&item);
        goto done;
    }
    rc = 0;
done:
    zstr_free (&domain);
    zstr_free (&dir);
    zstr_free (&revoke);
    zstr_free (&roles_txt);
    return rc;
}

static void
s_auth_del (s_auth_t *self, zmsg_t *msg)
{
    char *domain = zmsg_popstr (msg);
    s_domain_t *d =
        domain && self->domains ? (s_domain_t *) zhashx_lookup (self->domains, domain) : NULL;
    if (d && --d->refs == 0)
        zhashx_delete (self->domains, domain);
    zstr_free (&domain);
}

//  Handles one command from the owner. -1 to stop.
static int
s_auth_pipe (s_auth_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        return -1;
    char *cmd = zmsg_popstr (msg);
    int rc = 0;
    if (!cmd || streq (cmd, "$TERM"))
        rc = -1;
    else if (streq (cmd, "ADD"))
        zsock_signal (self->pipe, s_auth_add (self, msg) == 0 ? 0 : 1);
    else if (streq (cmd, "DEL")) {
        s_auth_del (self, msg);
        zsock_signal (self->pipe, 0);
    }
    else if (streq (cmd, "STATS")) {
        mm_curve_auth_stats_t *s = &self->stats;
        zsock_send (self->pipe, "8888888", s->accepted, s->refused_unknown, s->refused_revoked,
                    s->refused_role, s->refused_domain, s->refused_mechanism, s->malformed);
    }
    else
        mm_log_error ("mm_curve: ZAP handler: unknown command '%s'", cmd);
    zstr_free (&cmd);
    zmsg_destroy (&msg);
    return rc;
}

static bool
s_frame_is (zframe_t *f, const char *s)
{
    size_t n = strlen (s);
    return f && zframe_size (f) == n && memcmp (zframe_data (f), s, n) == 0;
}

//  Copies a frame into a C string; false if it does not fit or holds a NUL.
static bool
s_frame_str (zframe_t *f, char *dst, size_t cap)
{
    size_t n = f ? zframe_size (f) : 0;
    if (!f || n >= cap || memchr (zframe_data (f), 0, n))
        return false;
    memcpy (dst, zframe_data (f), n);
    dst[n] = 0;
    return true;
}

//  One ZMTP property (RFC 23): name length (1 byte), name, value length (4 bytes, network
//  order), value. What libzmq attaches to every message of the connection.
static size_t
s_property (uint8_t *out, const char *name, const char *value)
{
    size_t n = strlen (name), v = strlen (value);
    out[0] = (uint8_t) n;
    memcpy (out + 1, name, n);
    out[1 + n] = (uint8_t) (v >> 24), out[2 + n] = (uint8_t) (v >> 16);
    out[3 + n] = (uint8_t) (v >> 8), out[4 + n] = (uint8_t) v;
    memcpy (out + 5 + n, value, v);
    return 5 + n + v;
}

static void
s_zap_reply (s_auth_t *self, zframe_t *request_id, const char *code, const char *text,
             const char *user_id, const uint8_t *meta, size_t meta_len)
{
    zmsg_t *reply = zmsg_new ();
    if (!reply)
        return;
    zmsg_addstr (reply, "1.0");
    if (request_id)
        zmsg_addmem (reply, zframe_data (request_id), zframe_size (request_id));
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, code);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user_id);
    zmsg_addmem (reply, meta, meta_len);
    if (zmsg_send (&reply, self->handler) == -1)
        zmsg_destroy (&reply);
}

//  Answers one ZAP request (RFC 27): version, request id, domain, address, routing id,
//  mechanism, credentials. Only CURVE with a key the domain's allow-list accepts gets "200";
//  the reply carries the key as User-Id and the certificate's metadata as properties.
static void
s_auth_zap (s_auth_t *self)
{
    zmsg_t *req = zmsg_recv (self->handler);
    if (!req)
        return;
    zframe_t *version = zmsg_first (req), *request_id = zmsg_next (req);
    zframe_t *domain_f = zmsg_next (req), *address_f = zmsg_next (req);
    zframe_t *routing_f = zmsg_next (req), *mechanism = zmsg_next (req);
    zframe_t *key_f = zmsg_next (req);
    char domain[S_ZAP_DOMAIN_MAX + 1] = "", address[64] = "?", key[MM_CERT_KEY_TXT + 1] = "";
    (void) routing_f;
    if (!s_frame_is (version, "1.0") || !request_id || !mechanism ||
        !s_frame_str (domain_f, domain, sizeof domain)) {
        self->stats.malformed++;
        s_zap_reply (self, request_id, "500", "malformed ZAP request", "", NULL, 0);
        zmsg_destroy (&req);
        return;
    }
    if (!s_frame_str (address_f, address, sizeof address))
        snprintf (address, sizeof address, "?");
    const char *why = NULL;
    mm_identity_t ident;
    s_domain_t *d = (s_domain_t *) zhashx_lookup (self->domains, domain);
    if (!s_frame_is (mechanism, "CURVE") || !key_f || zframe_size (key_f) != 32) {
        self->stats.refused_mechanism++;
        why = "CURVE only";
    }
    else if (!zmq_z85_encode (key, zframe_data (key_f), 32)) {
        self->stats.malformed++;
        why = "bad key";
    }
    else if (!d) {
        self->stats.refused_domain++;
        why = "unknown ZAP domain";
    }
    else {
        mm_curve_verdict_t v = mm_curve_allow_check (d->allow, key, &ident);
        if (v == MM_CURVE_ALLOWED) {
            //  4 properties of at most 6 + 5 + MM_ID_MAX bytes: well within the buffer.
            uint8_t meta[4 * (16 + MM_ID_MAX)];
            size_t len = s_property (meta, "role", mm_role_name (ident.role));
            len += s_property (meta + len, "id", ident.id);
            if (ident.org[0])
                len += s_property (meta + len, "org", ident.org);
            if (ident.region[0])
                len += s_property (meta + len, "region", ident.region);
            self->stats.accepted++;
            s_zap_reply (self, request_id, "200", "OK", key, meta, len);
            zmsg_destroy (&req);
            return;
        }
        why = mm_curve_verdict_name (v);
        if (v == MM_CURVE_UNKNOWN)
            self->stats.refused_unknown++;
        else if (v == MM_CURVE_REVOKED)
            self->stats.refused_revoked++;
        else
            self->stats.refused_role++;
    }
    uint64_t suppressed;
    if (s_ratelog (&self->log, &suppressed))
        mm_log_warning ("mm_curve: refused a handshake from %s, key %s, domain '%s': %s (and %llu "
                        "more refusals not logged)",
                        address, key[0] ? key : "-", domain, why, (unsigned long long) suppressed);
    s_zap_reply (self, request_id, "400", why, "", NULL, 0);
    zmsg_destroy (&req);
}

static void
s_auth_actor (zsock_t *pipe, void *args)
{
    s_auth_t self = {.pipe = pipe, .handler = (zsock_t *) args};
    self.domains = zhashx_new ();
    if (self.domains)
        zhashx_set_destructor (self.domains, s_domain_destroy);
    zpoller_t *poller = self.domains ? zpoller_new (pipe, self.handler, NULL) : NULL;
    zsock_signal (pipe, 0);
    if (poller) {
        //  Only the owner stops the handler ($TERM): a SIGINT must not leave servers without
        //  authentication (they would refuse everyone, but the owner decides when to stop).
        zpoller_set_nonstop (poller, true);
        for (;;) {
            void *which = zpoller_wait (poller, -1);
            if (which == pipe) {
                if (s_auth_pipe (&self) == -1)
                    break;
            }
            else if (which == self.handler)
                s_auth_zap (&self);
            else if (zpoller_terminated (poller))
                break;
        }
    }
    else
        //  Out of memory at birth: answer the owner (every ADD fails) until $TERM, so that
        //  nobody waits forever. Handshakes get no answer and time out: refused.
        while (s_auth_pipe (&self) != -1)
            ;
    zpoller_destroy (&poller);
    zhashx_destroy (&self.domains);
    //  Unbind first: inproc endpoints are released at once, so a new handler can bind.
    zsock_unbind (self.handler, "%s", S_ZAP_ENDPOINT);
    zsock_destroy (&self.handler);
}

mm_curve_auth_t *
mm_curve_auth_new (void)
{
    //  Bound here, before the actor starts, so that "another handler already runs" is a plain
    //  NULL rather than an actor that dies at birth. The socket then moves to the actor thread
    //  (thread creation is a full memory barrier, which is what libzmq asks for).
    zsock_t *handler = zsock_new (ZMQ_REP);
    if (!handler)
        return NULL;
    zsock_set_linger (handler, 0);
    if (zsock_bind (handler, "%s", S_ZAP_ENDPOINT) == -1) {
        mm_log_error ("mm_curve: cannot start the ZAP handler (%s): one already runs in this "
                      "process",
                      zmq_strerror (zmq_errno ()));
        zsock_destroy (&handler);
        return NULL;
    }
    mm_curve_auth_t *self = (mm_curve_auth_t *) calloc (1, sizeof *self);
    if (!self || pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self);
        zsock_destroy (&handler);
        return NULL;
    }
    self->actor = zactor_new (s_auth_actor, handler);
    if (!self->actor) {
        zsock_destroy (&handler);
        pthread_mutex_destroy (&self->lock);
        free (self);
        return NULL;
    }
    return self;
}

void
mm_curve_auth_destroy (mm_curve_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_curve_auth_t *self = *self_p;
    //  A programming error, not a run-time condition: the servers' handshakes would all fail.
    assert (self->servers == 0 && "destroy the mm_curve servers before their ZAP handler");
    zactor_destroy (&self->actor);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
mm_curve_auth_stats (mm_curve_auth_t *self, mm_curve_auth_stats_t *stats)
{
    pthread_mutex_lock (&self->lock);
    int rc = zstr_send (self->actor, "STATS");
    if (rc == 0)
        rc = zsock_recv (self->actor, "8888888", &stats->accepted, &stats->refused_unknown,
                         &stats->refused_revoked, &stats->refused_role, &stats->refused_domain,
                         &stats->refused_mechanism, &stats->malformed);
    pthread_mutex_unlock (&self->lock);
    return rc == 0 ? 0 : -1;
}

static int
s_register (mm_curve_auth_t *self, const mm_curve_server_config_t *cfg)
{
    char roles[16];
    snprintf (roles, sizeof roles, "%u", cfg->roles);
    pthread_mutex_lock (&self->lock);
    int rc = zsock_send (self->actor, "sssss", "ADD", cfg->domain, cfg->allow_dir,
                         cfg->revoke_file ? cfg->revoke_file : "", roles);
    if (rc == 0)
        rc = zsock_wait (self->actor) == 0 ? 0 : -1;
    if (rc == 0)
        self->servers++;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

static void
s_unregister (mm_curve_auth_t *self, const char *domain)
{
    pthread_mutex_lock (&self->lock);
    if (zsock_send (self->actor, "ss", "DEL", domain) == 0)
        zsock_wait (self->actor);
    self->servers--;
    pthread_mutex_unlock (&self->lock);
}

//  ---------------------------------------------------------------------------------------------
//  Server

struct mm_curve_server_t {
    zsock_t *sock;
    mm_curve_auth_t *auth;  //  borrowed
    char *domain;           //  set once registered with auth
    char *endpoint;
    mm_curve_allow_t *allow;
    mm_curve_server_stats_t stats;
    s_ratelog_t log;
};

mm_curve_server_t *
mm_curve_server_new (mm_curve_auth_t *auth, const mm_cert_t *cert,
                     const mm_curve_server_config_t *cfg)
{
    if (!auth || !cert || !cfg || !cfg->endpoint || !cfg->domain || !cfg->allow_dir) {
        mm_log_error ("mm_curve: a server needs a ZAP handler, a certificate, an endpoint, a "
                      "domain and an allow-list directory");
        return NULL;
    }
    size_t dlen = strlen (cfg->domain);
    if (dlen == 0 || dlen > S_ZAP_DOMAIN_MAX || !mm_cert_has_secret (cert)) {
        mm_log_error ("mm_curve: server %s: %s", cfg->endpoint,
                      mm_cert_has_secret (cert) ? "the ZAP domain must be 1 to 254 characters"
                                                : "its certificate has no secret key");
        return NULL;
    }
    mm_curve_server_t *self = (mm_curve_server_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->auth = auth;
    self->allow = mm_curve_allow_new (cfg->allow_dir, cfg->revoke_file, cfg->roles);
    if (!self->allow)
        goto fail;
    //  Registered before the bind, so no handshake can arrive for a domain the handler does
    //  not know (it would be refused anyway).
    if (s_register (auth, cfg) == -1) {
        mm_log_error ("mm_curve: server %s: the ZAP handler refused domain '%s'", cfg->endpoint,
                      cfg->domain);
        goto fail;
    }
    self->domain = strdup (cfg->domain);
    if (!self->domain) {
        s_unregister (auth, cfg->domain);
        goto fail;
    }
    self->sock = zsock_new (ZMQ_ROUTER);
    if (!self->sock)
        goto fail;
    s_apply_common (self->sock);
    if (s_apply_server (self->sock, cert, cfg->domain) == -1)
        goto fail;
    if (zsock_bind (self->sock, "%s", cfg->endpoint) == -1) {
        mm_log_error ("mm_curve: cannot bind %s: %s", cfg->endpoint, zmq_strerror (zmq_errno ()));
        goto fail;
    }
    self->endpoint = zsock_last_endpoint (self->sock);
    if (!self->endpoint)
        goto fail;
    return self;
fail:
    mm_curve_server_destroy (&self);
    return NULL;
}

void
mm_curve_server_destroy (mm_curve_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_curve_server_t *self = *self_p;
    zsock_destroy (&self->sock);
    if (self->domain)
        s_unregister (self->auth, self->domain);
    mm_curve_allow_destroy (&self->allow);
    free (self->domain);
    zstr_free (&self->endpoint);
    free (self);
    *self_p = NULL;
}

zsock_t *
mm_curve_server_sock (mm_curve_server_t *self)
{
    return self->sock;
}

const char *
mm_curve_server_endpoint (mm_curve_server_t *self)
{
    return self->endpoint;
}

mm_curve_allow_t *
mm_curve_server_allow (mm_curve_server_t *self)
{
    return self->allow;
}

void
mm_curve_server_stats (const mm_curve_server_t *self, mm_curve_server_stats_t *stats)
{
    *stats = self->stats;
}

mm_curve_verdict_t
mm_curve_server_check (mm_curve_server_t *self, const char *pubkey, mm_identity_t *peer)
{
    return mm_curve_allow_check (self->allow, pubkey, peer);
}

static bool
s_meta_differs (zframe_t *frame, const char *name, const char *now)
{
    const char *then = zframe_meta (frame, name);
    return strcmp (then ? then : "", now) != 0;
}

zframe_t *
mm_curve_server_recv (mm_curve_server_t *self, zframe_t **routing_id_p, mm_identity_t *peer)
{
    for (int i = 0; i < S_DROP_BURST; i++) {
        //  After a drop, go on only with what is already waiting: the caller polled for one
        //  message and must not block here because that one was refused.
        if (i > 0 && !(zsock_events (self->sock) & ZMQ_POLLIN))
            return NULL;
        //  Frame by frame rather than zmsg: two allocations fewer per message on the path
        //  every event takes.
        zframe_t *routing_id = zframe_recv (self->sock);
        if (!routing_id)
            return NULL;
        self->stats.received++;
        zframe_t *payload = zframe_more (routing_id) ? zframe_recv (self->sock) : NULL;
        if (!payload || zframe_more (payload)) {
            //  Not [routing id][one frame]: drop the whole message, whatever its length.
            bool more = payload && zframe_more (payload);
            zframe_destroy (&payload);
            while (more) {
                zframe_t *rest = zframe_recv (self->sock);
                more = rest && zframe_more (rest);
                zframe_destroy (&rest);
            }
            self->stats.dropped_framing++;
            zframe_destroy (&routing_id);
            continue;
        }
        const char *key = zframe_meta (payload, "User-Id");
        mm_identity_t ident;
        mm_curve_verdict_t v = MM_CURVE_UNKNOWN;
        if (!key || strlen (key) != MM_CERT_KEY_TXT)
            self->stats.dropped_no_key++;
        else {
            //  zauth-style checks happen at the handshake only; this is what makes a removal or
            //  a revocation reach connections that are already up.
            v = mm_curve_allow_check (self->allow, key, &ident);
            if (v == MM_CURVE_UNKNOWN)
                self->stats.dropped_unknown++;
            else if (v == MM_CURVE_REVOKED)
                self->stats.dropped_revoked++;
            else if (v == MM_CURVE_ROLE)
                self->stats.dropped_role++;
        }
        if (key && v == MM_CURVE_ALLOWED) {
            //  The certificate as it is now is the identity; the handshake's copy may be older.
            if (s_meta_differs (payload, "role", mm_role_name (ident.role)) ||
                s_meta_differs (payload, "id", ident.id) ||
                s_meta_differs (payload, "org", ident.org) ||
                s_meta_differs (payload, "region", ident.region))
                self->stats.meta_changed++;
            self->stats.delivered++;
            if (peer)
                *peer = ident;
            if (routing_id_p)
                *routing_id_p = routing_id;
            else
                zframe_destroy (&routing_id);
            return payload;
        }
        uint64_t suppressed;
        if (s_ratelog (&self->log, &suppressed))
            mm_log_warning ("mm_curve: %s: dropped a message from key %s: %s (and %llu more drops "
                            "not logged)",
                            self->domain, key ? key : "-",
                            key ? mm_curve_verdict_name (v) : "no User-Id",
                            (unsigned long long) suppressed);
        zframe_destroy (&routing_id);
        zframe_destroy (&payload);
    }
    return NULL;
}

int
mm_curve_server_send (mm_curve_server_t *self, zframe_t *routing_id, const char *pubkey,
                      const void *data, size_t len)
{
    //  A key removed or revoked while connected gets nothing more from us either: its
    //  connection stays up (libzmq 4.3 cannot close one ROUTER peer), so this is the place.
    if (mm_curve_allow_check (self->allow, pubkey, NULL) != MM_CURVE_ALLOWED) {
        self->stats.send_refused++;
        errno = EACCES;
        return -1;
    }
    void *handle = zsock_resolve (self->sock);
    //  The routing-id frame decides: ROUTER_MANDATORY fails it with EHOSTUNREACH or EAGAIN
    //  before anything is queued; once it is accepted the payload goes to the same pipe.
    int rc = zmq_send (handle, zframe_data (routing_id), zframe_size (routing_id),
                       ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc != -1)
        rc = zmq_send (handle, data, len, ZMQ_DONTWAIT);
    if (rc == -1) {
        if (zmq_errno () == EAGAIN)
            self->stats.send_full++;
        else
            self->stats.send_unreachable++;
        errno = zmq_errno ();
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Client

struct mm_curve_client_t {
    zsock_t *sock;
    zsock_t *monitor;  //  PAIR reading the DEALER's connection events (libzmq socket monitor)
    mm_curve_client_events_t events;
    mm_curve_client_stats_t stats;
};

//  The connection events a client watches: a finished handshake is a new connection (what was
//  in flight on the old one may be lost); a failed one says why nothing gets through.
#define S_MONITOR_EVENTS                                                                           \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |                             \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                  \
     ZMQ_EVENT_DISCONNECTED)

static int
s_client_monitor (mm_curve_client_t *self)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://mm-curve-monitor-%p", (void *) self);
    if (zmq_socket_monitor (zsock_resolve (self->sock), ep, S_MONITOR_EVENTS) == -1) {
        mm_log_error ("mm_curve: cannot monitor a client socket: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    char connect[72];
    snprintf (connect, sizeof connect, ">%s", ep);
    self->monitor = zsock_new_pair (connect);
    if (self->monitor)
        zsock_set_rcvtimeo (self->monitor, 0);
    return self->monitor ? 0 : -1;
}

mm_curve_client_t *
mm_curve_client_new (const char *endpoint, const mm_cert_t *cert, const char *server_public_txt)
{
    unsigned char key[32];
    if (!endpoint || !cert || !mm_cert_has_secret (cert) || !server_public_txt ||
        strlen (server_public_txt) != MM_CERT_KEY_TXT || !zmq_z85_decode (key, server_public_txt)) {
        mm_log_error ("mm_curve: a client needs an endpoint, a certificate with its secret key and "
                      "the server's public key (40 characters of Z85)");
        return NULL;
    }
    mm_curve_client_t *self = (mm_curve_client_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        goto fail;
    s_apply_common (self->sock);
    s_apply_client (self->sock, cert, server_public_txt);
    if (s_client_monitor (self) == -1)
        goto fail;
    if (zsock_connect (self->sock, "%s", endpoint) == -1) {
        mm_log_error ("mm_curve: cannot connect to %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        goto fail;
    }
    return self;
fail:
    mm_curve_client_destroy (&self);
    return NULL;
}

void
mm_curve_client_destroy (mm_curve_client_t **self_p)
{
    if (self_p && *self_p) {
        mm_curve_client_t *self = *self_p;
        if (self->monitor) {
            zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
            zsock_destroy (&self->monitor);
        }
        zsock_destroy (&self->sock);
        free (self);
        *self_p = NULL;
    }
}

void
mm_curve_client_events (mm_curve_client_t *self, mm_curve_client_events_t *events)
{
    while (self->monitor && (zsock_events (self->monitor) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->monitor);
        if (!msg)
            break;
        zframe_t *head = zmsg_first (msg);
        if (head && zframe_size (head) == 6) {
            uint16_t event;
            uint32_t value;
            memcpy (&event, zframe_data (head), 2);
            memcpy (&value, zframe_data (head) + 2, 4);
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                self->events.handshakes++;
            else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                self->events.auth_failures++;
                self->events.last_auth_status = value;
            }
            else if (event == ZMQ_EVENT_DISCONNECTED)
                self->events.disconnects++;
            else
                self->events.other_failures++;
        }
        zmsg_destroy (&msg);
    }
    *events = self->events;
}

zsock_t *
mm_curve_client_sock (mm_curve_client_t *self)
{
    return self->sock;
}

int
mm_curve_client_send (mm_curve_client_t *self, const void *data, size_t len)
{
    if (zmq_send (zsock_resolve (self->sock), data, len, ZMQ_DONTWAIT) == -1) {
        errno = zmq_errno ();
        if (errno == EAGAIN)
            self->stats.send_again++;
        return -1;
    }
    self->stats.sent++;
    return 0;
}

zframe_t *
mm_curve_client_recv (mm_curve_client_t *self)
{
    for (int i = 0; i < S_DROP_BURST; i++) {
        if (i > 0 && !(zsock_events (self->sock) & ZMQ_POLLIN))
            return NULL;
        zmsg_t *msg = zmsg_recv (self->sock);
        if (!msg)
            return NULL;
        if (zmsg_size (msg) != 1) {
            self->stats.dropped_framing++;
            zmsg_destroy (&msg);
            continue;
        }
        zframe_t *frame = zmsg_pop (msg);
        zmsg_destroy (&msg);
        self->stats.received++;
        return frame;
    }
    return NULL;
}

void
mm_curve_client_stats (const mm_curve_client_t *self, mm_curve_client_stats_t *stats)
{
    *stats = self->stats;
}

//  ---------------------------------------------------------------------------------------------
//  Peer identity

int
mm_curve_peer_from_frame (zframe_t *frame, mm_identity_t *peer)
{
    memset (peer, 0, sizeof *peer);
    const char *key = frame ? zframe_meta (frame, "User-Id") : NULL;
    if (!key || strlen (key) != MM_CERT_KEY_TXT)
        return -1;
    s_copy (peer->pubkey, sizeof peer->pubkey, key);
    if (mm_role_parse (zframe_meta (frame, "role"), &peer->role) == -1)
        peer->role = MM_ROLE_NONE;
    s_copy (peer->id, sizeof peer->id, zframe_meta (frame, "id"));
    s_copy (peer->org, sizeof peer->org, zframe_meta (frame, "org"));
    s_copy (peer->region, sizeof peer->region, zframe_meta (frame, "region"));
    return 0;
}
