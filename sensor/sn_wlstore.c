/*  sn_wlstore: the sensor's durable copy of its WATCHLIST messages (see sn_wlstore.h).
    Owner: sensor. One record per message; compaction rebuilds the entries in force. */
#include "sn_wlstore.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_spool.h"
#include "mm_log.h"

#define S_HEAD 8

struct sn_wlstore {
    char path[1024];
    int fd;
    uint64_t max_bytes;
    uint64_t size;
    mm_watchlist_t wl;  //  large (256 entries): decoded here rather than on the stack
    mm_buf_t buf;
    sn_wlstore_stats_t stats;
};

static void
s_put_u32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
s_get_u32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

//  Writes all of `len` bytes. 0 or -1 (errno).
static int
s_write_all (int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

//  Reads the whole file into `buf`. 0 or -1 (errno).
static int
s_read_all (int fd, mm_buf_t *buf)
{
    uint8_t chunk[65536];
    mm_buf_clear (buf);
    for (;;) {
        ssize_t n = read (fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (mm_buf_append (buf, chunk, (size_t) n) == -1) {
            errno = ENOMEM;
            return -1;
        }
    }
}

//  Walks the records of `data`: each valid one decoded and handed to `fn`. Returns the length
//  of the valid prefix (where a damaged or partial record starts, or the end).
static size_t
s_walk (sn_wlstore_t *self, const uint8_t *data, size_t len, sn_wlstore_fn *fn, void *arg,
        uint64_t *count)
{
    size_t off = 0;
    while (len - off >= S_HEAD) {
        uint32_t n = s_get_u32 (data + off), crc = s_get_u32 (data + off + 4);
        if (n == 0 || n > MM_MSG_MAX || len - off - S_HEAD < n ||
            sn_spool_crc32c (0, data + off + S_HEAD, n) != crc)
            break;
        mm_error_t err;
        if (mm_watchlist_decode (&self->wl, data + off + S_HEAD, n, &err) == 0) {
            if (fn)
                fn (arg, &self->wl);
            (*count)++;
        }
        off += S_HEAD + n;
    }
    return off;
}

sn_wlstore_t *
sn_wlstore_new (const char *dir, uint64_t max_bytes, sn_wlstore_fn *fn, void *arg, char *err,
                size_t err_size)
{
    sn_wlstore_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->max_bytes = max_bytes ? max_bytes : SN_WLSTORE_MAX;
    snprintf (self->path, sizeof self->path, "%s/%s", dir, SN_WLSTORE_FILE);
    self->fd = open (self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0 || s_read_all (self->fd, &self->buf) == -1) {
        snprintf (err, err_size, "%s: %s", self->path, strerror (errno));
        sn_wlstore_destroy (&self);
        return NULL;
    }
    size_t valid = s_walk (self, self->buf.data, self->buf.len, fn, arg, &self->stats.replayed);
    if (valid < self->buf.len) {
        //  A torn append (its message was never acknowledged) or damage: cut it off.
        self->stats.torn++;
        if (ftruncate (self->fd, (off_t) valid) != 0 || fdatasync (self->fd) != 0) {
            snprintf (err, err_size, "%s: cannot cut a damaged tail: %s", self->path,
                      strerror (errno));
            sn_wlstore_destroy (&self);
            return NULL;
        }
        mm_log_warning ("sn_wlstore: %s: %zu damaged bytes cut at offset %zu", self->path,
                        self->buf.len - valid, valid);
    }
    self->size = valid;
    if (lseek (self->fd, (off_t) valid, SEEK_SET) < 0) {
        snprintf (err, err_size, "%s: %s", self->path, strerror (errno));
        sn_wlstore_destroy (&self);
        return NULL;
    }
    mm_buf_free (&self->buf);
    return self;
}

void
sn_wlstore_destroy (sn_wlstore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_wlstore_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);
    mm_buf_free (&self->buf);
    free (self);
    *self_p = NULL;
}

//  Appends one record (no sync). 0 or -1.
static int
s_append (int fd, const uint8_t *msg, size_t len, uint64_t *size)
{
    uint8_t head[S_HEAD];
    s_put_u32 (head, (uint32_t) len);
    s_put_u32 (head + 4, sn_spool_crc32c (0, msg, len));
    if (s_write_all (fd, head, sizeof head) == -1 || s_write_all (fd, msg, len) == -1)
        return -1;
    *size += S_HEAD + len;
    return 0;
}

//  An entry in force during compaction (strings owned).
typedef struct {
    mm_wl_entry_t e;
    char *value, *feed, *warning_id;
} s_entry_t;

static void
s_entry_free (void **item)
{
    s_entry_t *x = *item;
    if (x) {
        free (x->value);
        free (x->feed);
        free (x->warning_id);
        free (x);
        *item = NULL;
    }
}

static char *
s_dup (mm_str_t s)
{
    char *p = malloc (s.len + 1u);
    if (p) {
        if (s.len)  //  an absent string has no pointer at all
            memcpy (p, s.ptr, s.len);
        p[s.len] = 0;
    }
    return p;
}

//  Feed names as the matcher interns them: none is "watchlist", at most MM_ID_MAX bytes.
static bool
s_same_feed (mm_str_t a, mm_str_t b)
{
    mm_str_t dflt = mm_str ("watchlist");
    if (!a.len)
        a = dflt;
    if (!b.len)
        b = dflt;
    size_t la = a.len < MM_ID_MAX ? a.len : MM_ID_MAX, lb = b.len < MM_ID_MAX ? b.len : MM_ID_MAX;
    return la == lb && memcmp (a.ptr, b.ptr, la) == 0;
}

typedef struct {
    zhashx_t *entries;  //  "type:value" -> s_entry_t
    uint64_t serial, latest_ts;
    bool failed;
} s_fold_t;

//  Folds one message into the entries in force, as sn_ioc_apply_watchlist would.
static void
s_fold (void *arg, const mm_watchlist_t *wl)
{
    s_fold_t *f = arg;
    if (wl->serial < f->serial)
        return;  //  the matcher ignores an older list too
    f->serial = wl->serial;
    if (wl->ts > f->latest_ts)
        f->latest_ts = wl->ts;
    for (uint32_t i = 0; i < wl->n_entries; i++) {
        const mm_wl_entry_t *e = &wl->entries[i];
        char key[MM_LONG_MAX + 8];
        snprintf (key, sizeof key, "%u:%.*s", e->type, (int) e->value.len, e->value.ptr);
        //  One entry per value, owned by the feed that pushed it first (sn_ioc's s_add_key and
        //  s_revoke): a push updates its own feed's entry, a revocation naming a feed removes
        //  only that feed's entry, one naming none removes it whatever pushed it.
        s_entry_t *held = (s_entry_t *) zhashx_lookup (f->entries, key);
        bool same = held && s_same_feed (mm_str (held->feed), e->feed);
        if (e->op != MM_WL_ADD) {
            if (held && (e->feed.len == 0 || same))
                zhashx_delete (f->entries, key);
            continue;
        }
        if (held && !same)
            continue;
        s_entry_t *x = calloc (1, sizeof *x);
        if (!x || !(x->value = s_dup (e->value)) || !(x->feed = s_dup (e->feed)) ||
            !(x->warning_id = s_dup (e->warning_id))) {
            void *p = x;
            s_entry_free (&p);
            f->failed = true;
            continue;
        }
        x->e = *e;
        zhashx_update (f->entries, key, x);  //  the last add wins (destructor frees the old)
    }
}

//  Writes `wl` (its entries so far) as a record of the new file. 0 or -1.
static int
s_flush_compact (sn_wlstore_t *self, int fd, mm_watchlist_t *wl, uint64_t *size)
{
    if (wl->n_entries == 0)
        return 0;
    mm_error_t err;
    mm_buf_clear (&self->buf);
    if (mm_watchlist_encode (wl, &self->buf, &err) == -1)
        return -1;
    wl->n_entries = 0;
    return s_append (fd, self->buf.data, self->buf.len, size);
}

//  Rewrites the file with the entries in force. 0, or -1 (the old file stays).
static int
s_compact (sn_wlstore_t *self)
{
    s_fold_t fold = {.entries = zhashx_new ()};
    if (!fold.entries)
        return -1;
    zhashx_set_destructor (fold.entries, s_entry_free);
    int rc = -1, fd = -1;
    mm_watchlist_t *out = calloc (1, sizeof *out);
    char tmp[1100];
    snprintf (tmp, sizeof tmp, "%s.tmp", self->path);
    uint64_t count = 0, size = 0;
    if (!out || lseek (self->fd, 0, SEEK_SET) < 0 || s_read_all (self->fd, &self->buf) == -1)
        goto done;
    s_walk (self, self->buf.data, self->buf.len, s_fold, &fold, &count);
    if (fold.failed)
        goto done;
    fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto done;
    out->ts = fold.latest_ts ? fold.latest_ts : 1;
    out->serial = fold.serial;
    for (s_entry_t *x = zhashx_first (fold.entries); x; x = zhashx_next (fold.entries)) {
        if (x->e.expires && x->e.expires <= fold.latest_ts)
            continue;  //  expired by the newest list's time: the matcher dropped it too
        mm_wl_entry_t *e = &out->entries[out->n_entries++];
        *e = x->e;
        e->value = mm_str (x->value);
        e->feed = mm_str (x->feed);
        e->warning_id = mm_str (x->warning_id);
        if (out->n_entries == MM_WATCHLIST_MAX && s_flush_compact (self, fd, out, &size) == -1)
            goto done;
    }
    if (s_flush_compact (self, fd, out, &size) == -1 || fdatasync (fd) != 0)
        goto done;
    if (rename (tmp, self->path) != 0)
        goto done;
    //  The directory entry must be durable too before the old file's records are forgotten.
    char dir[1024];
    snprintf (dir, sizeof dir, "%s", self->path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = 0;
    int dfd = open (slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd);
        close (dfd);
    }
    close (self->fd);
    self->fd = fd;
    fd = -1;
    self->size = size;
    self->stats.compactions++;
    rc = 0;
done:
    if (fd >= 0) {
        close (fd);
        unlink (tmp);
    }
    if (rc == -1 && self->fd >= 0)
        lseek (self->fd, (off_t) self->size, SEEK_SET);
    free (out);
    zhashx_destroy (&fold.entries);
    mm_buf_free (&self->buf);
    return rc;
}

int
sn_wlstore_append (sn_wlstore_t *self, const mm_watchlist_t *wl)
{
    if (self->size >= self->max_bytes && s_compact (self) == -1)
        mm_log_warning ("sn_wlstore: %s: compaction failed (%s): the file keeps growing",
                        self->path, strerror (errno));
    mm_error_t err;
    mm_buf_clear (&self->buf);
    if (mm_watchlist_encode (wl, &self->buf, &err) == -1) {
        self->stats.errors++;
        errno = EINVAL;
        return -1;
    }
    uint64_t size = self->size;
    if (s_append (self->fd, self->buf.data, self->buf.len, &size) == -1 ||
        fdatasync (self->fd) != 0) {
        int saved = errno;
        self->stats.errors++;
        //  A partial record would hide every later one: cut it (replay would, too).
        if (ftruncate (self->fd, (off_t) self->size) == 0)
            lseek (self->fd, (off_t) self->size, SEEK_SET);
        errno = saved;
        return -1;
    }
    self->size = size;
    self->stats.appended++;
    return 0;
}

void
sn_wlstore_stats (const sn_wlstore_t *self, sn_wlstore_stats_t *stats)
{
    *stats = self->stats;
    stats->bytes = self->size;
}
