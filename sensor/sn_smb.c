/*  sn_smb: SMB2/3 TREE_CONNECT share paths and CREATE file names from NetBIOS-framed TCP 445,
    each matched to its response by MessageId for the NT status. Only the first SN_SMB_BUF_MAX
    bytes of a message are looked at; the rest (READ/WRITE data) is skipped by length. */
#include <stdlib.h>
#include <string.h>

#include "sn_smb.h"

#define SMB2_HDR_LEN 64
#define SMB2_FLAG_RESPONSE 0x00000001u
#define SMB2_FLAG_ASYNC 0x00000002u
#define SMB2_FLAG_RELATED 0x00000004u
#define SMB2_TREE_CONNECT 3
#define SMB2_CREATE 5
#define STATUS_PENDING 0x00000103u

//  A message whose NetBIOS header says "session message"; the other session-service types
//  (request, responses, keepalive) carry no SMB and are skipped by their length.
#define NBSS_MESSAGE 0x00

//  One outstanding TREE_CONNECT or CREATE request, sized to its name so that 64 of them with
//  short names cost a few KB, not 64 full records.
typedef struct s_pending {
    struct s_pending *next;
    uint64_t msg_id;
    uint32_t tree_id;
    uint32_t access, disposition;  //  CREATE only
    uint16_t command;
    uint16_t len;
    char name[];
} s_pending_t;

//  A share the server accepted, so that a CREATE on that tree can name its share.
typedef struct s_tree {
    struct s_tree *next;
    uint32_t tree_id;
    uint16_t len;
    char name[];
} s_tree_t;

typedef struct {
    uint8_t hdr[4];
    uint8_t hdr_have;
    bool in_msg;
    uint32_t left;  //  bytes of the current message not yet consumed
    uint32_t keep;  //  bytes of its start that are parsed (at most SN_SMB_BUF_MAX)
    uint32_t have;  //  bytes of those already in buf
    uint8_t *buf;   //  only while a kept prefix spans feeds
} s_dir_t;

struct sn_smb {
    sn_smb_record_fn *fn;
    void *arg;
    s_dir_t dir[2];
    s_pending_t *pending;  //  oldest first
    s_pending_t *pending_tail;
    uint32_t n_pending;
    uint32_t pending_bytes;
    s_tree_t *trees;  //  newest first
    uint32_t n_trees;
    bool synced;  //  an SMB message was seen
    bool dead;
    sn_smb_stats_t stats;
};

static uint16_t
s_le16 (const uint8_t *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
s_le32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
s_le64 (const uint8_t *p)
{
    return (uint64_t) s_le32 (p) | (uint64_t) s_le32 (p + 4) << 32;
}

//  Appends one code point as UTF-8 if it fits whole (a cut sequence would be invalid UTF-8).
static size_t
s_put_utf8 (char *out, size_t pos, size_t cap, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t) cp;
        n = 1;
    }
    else if (cp < 0x800) {
        b[0] = (uint8_t) (0xC0 | cp >> 6);
        b[1] = (uint8_t) (0x80 | (cp & 0x3F));
        n = 2;
    }
    else if (cp < 0x10000) {
        b[0] = (uint8_t) (0xE0 | cp >> 12);
        b[1] = (uint8_t) (0x80 | (cp >> 6 & 0x3F));
        b[2] = (uint8_t) (0x80 | (cp & 0x3F));
        n = 3;
    }
    else {
        b[0] = (uint8_t) (0xF0 | cp >> 18);
        b[1] = (uint8_t) (0x80 | (cp >> 12 & 0x3F));
        b[2] = (uint8_t) (0x80 | (cp >> 6 & 0x3F));
        b[3] = (uint8_t) (0x80 | (cp & 0x3F));
        n = 4;
    }
    if (pos + n > cap)
        return 0;
    memcpy (out + pos, b, n);
    return n;
}

size_t
sn_smb_utf16le_to_utf8 (const uint8_t *in, size_t in_len, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t units = in_len / 2;  //  a lone trailing byte is no code unit
    //  Trailing NULs are terminators some clients send; they are not part of the name.
    while (units > 0 && s_le16 (in + 2 * (units - 1)) == 0)
        units--;
    size_t pos = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t cp = s_le16 (in + 2 * i);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
            uint32_t lo = s_le16 (in + 2 * (i + 1));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            }
            else
                cp = 0xFFFD;
        }
        else if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        else if (cp == 0)
            cp = 0xFFFD;  //  an embedded NUL would cut the C string and hide what follows
        size_t n = s_put_utf8 (out, pos, cap - 1, cp);
        if (n == 0)
            break;
        pos += n;
    }
    out[pos] = '\0';
    return pos;
}

static void
s_emit (sn_smb_t *self, const s_pending_t *p, bool has_status, uint32_t status)
{
    sn_smb_record_t rec;
    memset (&rec, 0, sizeof rec);
    rec.command = p->command;
    rec.has_status = has_status;
    rec.status = status;
    if (p->command == SMB2_CREATE) {
        rec.has_access = true;
        rec.access = p->access;
        rec.disposition = p->disposition;
    }
    if (p->command == SMB2_TREE_CONNECT) {
        size_t n = p->len < MM_NAME_MAX ? p->len : MM_NAME_MAX;
        memcpy (rec.share, p->name, n);
    }
    else {
        memcpy (rec.file, p->name, p->len);  //  bounded by MM_LONG_MAX when it was stored
        for (const s_tree_t *t = self->trees; t; t = t->next)
            if (t->tree_id == p->tree_id) {
                memcpy (rec.share, t->name, t->len);
                break;
            }
    }
    self->stats.records++;
    if (self->fn)
        self->fn (self->arg, &rec);
}

//  Unlinks `p` (whose predecessor is `prev`, NULL for the head) and frees it.
static void
s_pending_remove (sn_smb_t *self, s_pending_t *prev, s_pending_t *p)
{
    if (prev)
        prev->next = p->next;
    else
        self->pending = p->next;
    if (self->pending_tail == p)
        self->pending_tail = prev;
    self->n_pending--;
    self->pending_bytes -= p->len;
    free (p);
}

static void
s_pending_add (sn_smb_t *self, uint16_t command, uint64_t msg_id, uint32_t tree_id, uint32_t access,
               uint32_t disposition, const char *name, size_t len)
{
    //  Over the cap the oldest request is reported without its status rather than dropped, so
    //  that a flood of requests cannot hide an ADMIN$ connect.
    while (self->pending && (self->n_pending >= SN_SMB_PENDING_MAX ||
                             self->pending_bytes + len > SN_SMB_PENDING_BYTES_MAX)) {
        self->stats.overflow++;
        s_emit (self, self->pending, false, 0);
        s_pending_remove (self, NULL, self->pending);
    }
    s_pending_t *p = (s_pending_t *) malloc (sizeof (s_pending_t) + len + 1);
    if (!p) {
        self->stats.overflow++;
        return;
    }
    p->next = NULL;
    p->msg_id = msg_id;
    p->tree_id = tree_id;
    p->access = access;
    p->disposition = disposition;
    p->command = command;
    p->len = (uint16_t) len;
    memcpy (p->name, name, len);
    p->name[len] = '\0';
    if (self->pending_tail)
        self->pending_tail->next = p;
    else
        self->pending = p;
    self->pending_tail = p;
    self->n_pending++;
    self->pending_bytes += (uint32_t) len;
}

static void
s_tree_add (sn_smb_t *self, uint32_t tree_id, const char *name, size_t len)
{
    s_tree_t *t = (s_tree_t *) malloc (sizeof (s_tree_t) + len + 1);
    if (!t)
        return;
    t->tree_id = tree_id;
    t->len = (uint16_t) len;
    memcpy (t->name, name, len);
    t->name[len] = '\0';
    t->next = self->trees;
    self->trees = t;
    self->n_trees++;
    if (self->n_trees > SN_SMB_TREES_MAX) {
        //  Drop the oldest: the list is short, so walking it is cheap.
        s_tree_t **pp = &self->trees;
        while ((*pp)->next)
            pp = &(*pp)->next;
        free (*pp);
        *pp = NULL;
        self->n_trees--;
    }
}

//  Converts the UTF-16LE name at `off`/`len` (relative to the SMB2 header `h` of `avail`
//  bytes). A name running past what was kept is cut there; one starting outside is malformed.
static int
s_name (const uint8_t *h, size_t avail, size_t fixed_end, uint16_t off, uint16_t len, char *out,
        size_t cap, size_t *out_len)
{
    *out_len = 0;
    out[0] = '\0';
    if (len == 0)
        return 0;
    if (off < fixed_end || off >= avail)
        return -1;
    size_t n = avail - off < len ? avail - off : len;
    *out_len = sn_smb_utf16le_to_utf8 (h + off, n, out, cap);
    return 0;
}

static void
s_request (sn_smb_t *self, const uint8_t *h, size_t avail, uint16_t command, uint32_t tree_id)
{
    uint64_t msg_id = s_le64 (h + 24);
    const uint8_t *b = h + SMB2_HDR_LEN;
    size_t blen = avail - SMB2_HDR_LEN;
    char name[MM_LONG_MAX + 1];
    size_t len;
    uint32_t access = 0, disposition = 0;
    if (command == SMB2_TREE_CONNECT) {
        //  StructureSize 9, Flags, PathOffset, PathLength
        if (blen < 8 || s_le16 (b) != 9 ||
            s_name (h, avail, SMB2_HDR_LEN + 8, s_le16 (b + 4), s_le16 (b + 6), name,
                    MM_NAME_MAX + 1, &len) != 0) {
            self->stats.malformed++;
            return;
        }
    }
    else {
        //  StructureSize 57, ..., DesiredAccess at 24, CreateDisposition at 36, NameOffset at
        //  44, NameLength at 46, Buffer at 56
        if (blen < 56 || s_le16 (b) != 57 ||
            s_name (h, avail, SMB2_HDR_LEN + 56, s_le16 (b + 44), s_le16 (b + 46), name,
                    MM_LONG_MAX + 1, &len) != 0) {
            self->stats.malformed++;
            return;
        }
        access = s_le32 (b + 24);       //  DesiredAccess
        disposition = s_le32 (b + 36);  //  CreateDisposition
    }
    s_pending_add (self, command, msg_id, tree_id, access, disposition, name, len);
}

static void
s_response (sn_smb_t *self, const uint8_t *h, uint16_t command, uint32_t flags)
{
    uint32_t status = s_le32 (h + 8);
    //  An interim "pending" answer of an async operation; the final one follows.
    if (status == STATUS_PENDING && (flags & SMB2_FLAG_ASYNC))
        return;
    uint64_t msg_id = s_le64 (h + 24);
    s_pending_t *prev = NULL;
    for (s_pending_t *p = self->pending; p; prev = p, p = p->next) {
        if (p->msg_id != msg_id || p->command != command)
            continue;
        if (command == SMB2_TREE_CONNECT && status == 0 && !(flags & SMB2_FLAG_ASYNC))
            s_tree_add (self, s_le32 (h + 36), p->name, p->len);
        s_emit (self, p, true, status);
        s_pending_remove (self, prev, p);
        return;
    }
}

//  One SMB2 message (possibly a compound chain) of which `n` bytes were kept.
static void
s_smb2 (sn_smb_t *self, const uint8_t *data, size_t n)
{
    size_t off = 0;
    uint32_t tree_id = 0;
    //  Each step advances at least a header, so the chain ends within n / 64 steps.
    while (n - off >= SMB2_HDR_LEN) {
        const uint8_t *h = data + off;
        if (memcmp (h, "\xFESMB", 4) != 0 || s_le16 (h + 4) != SMB2_HDR_LEN) {
            self->stats.malformed++;
            return;
        }
        uint16_t command = s_le16 (h + 12);
        uint32_t flags = s_le32 (h + 16);
        uint32_t next = s_le32 (h + 20);
        if (next != 0 && next < SMB2_HDR_LEN) {
            self->stats.malformed++;
            return;
        }
        size_t avail = n - off;
        if (next != 0 && next < avail)
            avail = next;
        self->stats.commands++;
        //  A related operation of a chain names its tree as 0xFFFFFFFF: the one before it.
        if (!(flags & SMB2_FLAG_ASYNC)) {
            uint32_t t = s_le32 (h + 36);
            if (!(flags & SMB2_FLAG_RELATED) || t != 0xFFFFFFFFu)
                tree_id = t;
        }
        if (command == SMB2_TREE_CONNECT || command == SMB2_CREATE) {
            if (flags & SMB2_FLAG_RESPONSE)
                s_response (self, h, command, flags);
            else
                s_request (self, h, avail, command, tree_id);
        }
        //  A chain running past the kept prefix is not an error: that part is skipped.
        if (next == 0 || next > n - off)
            return;
        off += next;
    }
    if (off == 0)
        self->stats.malformed++;
}

//  The kept prefix (`n` bytes) of one NetBIOS session message. -1: not SMB at all.
static int
s_message (sn_smb_t *self, const uint8_t *data, size_t n)
{
    self->stats.messages++;
    if (n >= 4 && memcmp (data + 1, "SMB", 3) == 0) {
        switch (data[0]) {
        case 0xFE:
            self->synced = true;
            s_smb2 (self, data, n);
            return 0;
        case 0xFD:
            self->synced = true;
            self->stats.encrypted++;
            return 0;
        case 0xFC:
            self->synced = true;
            self->stats.compressed++;
            return 0;
        case 0xFF:
            self->synced = true;
            self->stats.smb1++;
            return 0;
        default: break;
        }
    }
    self->stats.malformed++;
    return self->synced ? 0 : -1;
}

sn_smb_t *
sn_smb_new (sn_smb_record_fn *fn, void *arg)
{
    sn_smb_t *self = (sn_smb_t *) calloc (1, sizeof (sn_smb_t));
    if (!self)
        return NULL;
    self->fn = fn;
    self->arg = arg;
    return self;
}

//  Drops the stream buffers; pending requests (and the shares they may name) stay for
//  sn_smb_flush.
static void
s_stop (sn_smb_t *self)
{
    self->dead = true;
    for (int d = 0; d < 2; d++) {
        free (self->dir[d].buf);
        self->dir[d].buf = NULL;
    }
}

void
sn_smb_destroy (sn_smb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_smb_t *self = *self_p;
    s_stop (self);
    while (self->pending)
        s_pending_remove (self, NULL, self->pending);
    while (self->trees) {
        s_tree_t *t = self->trees;
        self->trees = t->next;
        free (t);
    }
    free (self);
    *self_p = NULL;
}

int
sn_smb_feed (sn_smb_t *self, int dir, const uint8_t *data, size_t len)
{
    if (!self || self->dead)
        return -1;
    if (!data)
        return 0;
    s_dir_t *d = &self->dir[dir ? 1 : 0];
    while (len > 0) {
        if (!d->in_msg) {
            while (d->hdr_have < 4 && len > 0) {
                d->hdr[d->hdr_have++] = *data++;
                len--;
            }
            if (d->hdr_have < 4)
                break;
            d->hdr_have = 0;
            uint8_t type = d->hdr[0];
            uint32_t mlen;
            if (type == NBSS_MESSAGE)
                mlen = (uint32_t) d->hdr[1] << 16 | (uint32_t) d->hdr[2] << 8 | d->hdr[3];
            else if (type >= 0x81 && type <= 0x85)
                mlen = (uint32_t) (d->hdr[1] & 1) << 16 | (uint32_t) d->hdr[2] << 8 | d->hdr[3];
            else {
                s_stop (self);
                return -1;
            }
            if (mlen == 0)
                continue;
            d->in_msg = true;
            d->left = mlen;
            d->keep = type == NBSS_MESSAGE ? (mlen < SN_SMB_BUF_MAX ? mlen : SN_SMB_BUF_MAX) : 0;
            d->have = 0;
            continue;
        }
        if (d->have < d->keep) {
            int rc = 0;
            if (d->have == 0 && len >= d->keep) {
                //  The whole kept prefix is in this feed: parse it in place, no copy.
                rc = s_message (self, data, d->keep);
                data += d->keep;
                len -= d->keep;
                d->left -= d->keep;
                d->have = d->keep;
            }
            else {
                if (!d->buf) {
                    d->buf = (uint8_t *) malloc (SN_SMB_BUF_MAX);
                    if (!d->buf) {
                        //  Cannot keep it: skip the message rather than misparse it.
                        d->keep = 0;
                        continue;
                    }
                }
                size_t n = d->keep - d->have < len ? d->keep - d->have : len;
                memcpy (d->buf + d->have, data, n);
                d->have += (uint32_t) n;
                d->left -= (uint32_t) n;
                data += n;
                len -= n;
                if (d->have == d->keep) {
                    rc = s_message (self, d->buf, d->keep);
                    free (d->buf);
                    d->buf = NULL;
                }
            }
            if (rc < 0) {
                s_stop (self);
                return -1;
            }
        }
        else {
            size_t n = d->left < len ? d->left : len;
            data += n;
            len -= n;
            d->left -= (uint32_t) n;
        }
        if (d->left == 0)
            d->in_msg = false;
    }
    return 0;
}

void
sn_smb_flush (sn_smb_t *self)
{
    if (!self)
        return;
    while (self->pending) {
        s_emit (self, self->pending, false, 0);
        s_pending_remove (self, NULL, self->pending);
    }
}

void
sn_smb_stats (const sn_smb_t *self, sn_smb_stats_t *stats)
{
    if (self)
        *stats = self->stats;
    else
        memset (stats, 0, sizeof *stats);
}

void
sn_smb_to_event (const sn_smb_record_t *rec, mm_smb_t *smb)
{
    memset (smb, 0, sizeof *smb);
    smb->has = MM_SMB_HAS_COMMAND;
    smb->command = rec->command;
    if (rec->has_status) {
        smb->has |= MM_SMB_HAS_STATUS;
        smb->status = rec->status;
    }
    if (rec->has_access) {
        smb->has |= MM_SMB_HAS_ACCESS | MM_SMB_HAS_DISPOSITION;
        smb->access = rec->access;
        smb->disposition = rec->disposition;
    }
    if (rec->share[0])
        smb->share = (mm_str_t){rec->share, (uint32_t) strnlen (rec->share, MM_NAME_MAX)};
    if (rec->file[0])
        smb->file = (mm_str_t){rec->file, (uint32_t) strnlen (rec->file, MM_LONG_MAX)};
}
