/*  sn_spool: the sensor's on-disk spool (see sn_spool.h for the contract). Segment files of
    checksummed records, a two-slot state file, recovery at open, a size bound, fsync policies.
    Owner: sensor.

    Layout of the directory:
      NNNNNNNNNNNNNNNNNNNN.seg  a segment; the name (20 digits) is a lower bound of its seqs,
                                and the seq the segment was started for
        header  16 bytes: "MMSPSEG1", u64 LE name
        records u32 LE len (1..SN_SPOOL_RECORD_MAX), u32 LE crc32c (of len, seq and payload),
                u64 LE seq, payload (len bytes); no padding
      spool.meta                two 128-byte slots at offsets 0 and 4096, the valid one with
                                the higher generation wins (see s_meta_encode)
      *.seg.tmp                 a segment being rewritten at recovery; deleted at open
    Invariants the code keeps: seqs within a segment are contiguous (a gap starts a segment),
    segments are sorted by name and their seqs increase, and the last (active) segment is never
    deleted by an ack, so the highest seq written (or the name of an empty active segment,
    which is the next seq) is always on disk. */
#define _GNU_SOURCE  //  F_OFD_SETLK (a lock per open file), pwritev

#include "sn_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define S_SEG_MAGIC "MMSPSEG1"
#define S_SEG_HDR 16
#define S_REC_HDR 16
#define S_META_NAME "spool.meta"
#define S_META_MAGIC 0x4d534d4dU  //  "MMSM"
#define S_META_SLOT 128
#define S_META_SLOT_GAP 4096  //  slots in different pages: a torn write hurts one only
#define S_META_CLEAN 1U
#define S_BOOT_MAX 40
#define S_MARKS 32  //  offsets remembered per segment: a seek reads at most 1/32 of one
#define S_NAME_MAX 32
#define S_BUF_BYTES (128 * 1024)    //  read window; holds the largest record
#define S_RESYNC_SPAN (1ULL << 32)  //  a record after damage is believed within this many seqs

typedef struct {
    uint64_t seq, off;
} s_mark_t;

typedef struct {
    uint64_t name;         //  from the file name; <= first
    uint64_t first, last;  //  seqs of its records (contiguous); 0 0: none
    uint64_t size;         //  bytes, header included
    uint32_t n_marks;
    s_mark_t marks[S_MARKS];  //  (seq, offset) of a record every segment_bytes / S_MARKS
} s_seg_t;

typedef struct {
    uint64_t gen;
    uint64_t acked;     //  highest cumulative ack
    uint64_t reserved;  //  every seq handed out is <= this (durable before use)
    uint64_t drop_count, drop_first, drop_last;  //  dropped and not yet taken
    uint32_t flags;
    char boot[S_BOOT_MAX];  //  boot the state was written in
} s_meta_t;

typedef struct {
    uint64_t seq;
    uint32_t len;
    const uint8_t *data;
} s_rec_t;

typedef uint32_t (s_crc_fn) (uint32_t crc, const void *data, size_t len);

struct sn_spool {
    int dirfd, metafd;
    int wfd;  //  the active (last) segment, written with pwritev at its size
    int rfd;  //  the segment being read (scan, cursor, stats), -1: none
    uint64_t rfd_name;
    uint64_t max_bytes, segment_bytes, stride;
    size_t max_segs;
    sn_spool_sync_t sync;
    uint64_t interval_ns;
    char boot[S_BOOT_MAX];
    s_crc_fn *crc;

    s_meta_t meta;
    int synced_slot;  //  the slot last made durable; unsynced writes go to the other
    bool meta_dirty;  //  a slot written and not synced

    s_seg_t *segs;
    size_t n_segs, cap_segs;
    uint64_t disk_bytes;
    uint64_t next_seq;
    uint64_t floor;  //  everything <= floor is acknowledged or dropped
    bool dirty;      //  the active segment holds unsynced appends
    uint64_t last_sync_ns;

    uint8_t *buf;  //  read window over segment rfd_name: [win_off, win_off + win_len)
    uint64_t win_off;
    size_t win_len;

    uint64_t cur_seq;  //  cursor: the next seq to return, at cur_off of segment cur_name
    uint64_t cur_name, cur_off;
    bool cur_valid;

    sn_spool_stats_t st;
};

//  --------------------------------------------------------------------------------------
//  CRC32C

static const uint32_t s_crc_table[256] = {
    0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4, 0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
    0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b, 0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
    0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b, 0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
    0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54, 0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
    0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a, 0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
    0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5, 0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
    0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45, 0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
    0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a, 0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
    0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48, 0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
    0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687, 0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
    0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927, 0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
    0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8, 0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
    0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096, 0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
    0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859, 0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
    0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9, 0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
    0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36, 0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
    0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c, 0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
    0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043, 0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
    0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3, 0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
    0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c, 0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
    0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652, 0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
    0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d, 0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
    0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d, 0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
    0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2, 0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
    0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530, 0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
    0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff, 0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
    0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f, 0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
    0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90, 0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
    0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee, 0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
    0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321, 0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
    0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81, 0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
    0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e, 0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t
sn_spool_crc32c_sw (uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = s_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define S_HW_CRC 1
__attribute__ ((target ("sse4.2"))) static uint32_t
s_crc32c_hw (uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    unsigned long long c = (uint32_t) ~crc;
    while (len >= 8) {
        unsigned long long v;
        memcpy (&v, p, 8);
        c = __builtin_ia32_crc32di (c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t) c;
    while (len--)
        c32 = __builtin_ia32_crc32qi (c32, *p++);
    return ~c32;
}
#endif

static s_crc_fn *
s_crc_pick (void)
{
#ifdef S_HW_CRC
    if (__builtin_cpu_supports ("sse4.2"))
        return s_crc32c_hw;
#endif
    return sn_spool_crc32c_sw;
}

uint32_t
sn_spool_crc32c (uint32_t crc, const void *data, size_t len)
{
    return s_crc_pick () (crc, data, len);
}

//  --------------------------------------------------------------------------------------
//  Small helpers

static void
s_put32 (uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static void
s_put64 (uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
s_get64 (const uint8_t *p)
{
    return (uint64_t) s_get32 (p) | (uint64_t) s_get32 (p + 4) << 32;
}

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void
s_seg_filename (char *out, size_t size, uint64_t name, bool tmp)
{
    snprintf (out, size, "%020" PRIu64 ".seg%s", name, tmp ? ".tmp" : "");
}

//  Remembers an error for the stats and leaves errno as it was.
static void
s_error (sn_spool_t *self, uint64_t *counter)
{
    int e = errno;
    (*counter)++;
    self->st.last_errno = e;
    errno = e;
}

static int
s_fsync (sn_spool_t *self, int fd, bool data_only)
{
    self->st.fsyncs++;
    if ((data_only ? fdatasync (fd) : fsync (fd)) != 0) {
        s_error (self, &self->st.sync_errors);
        return -1;
    }
    return 0;
}

static int
s_sync_dir (sn_spool_t *self)
{
    return s_fsync (self, self->dirfd, false);
}

static int
s_write_all (int fd, const void *data, size_t len, uint64_t off)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = pwrite (fd, p, len, (off_t) off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t) n;
        off += (uint64_t) n;
    }
    return 0;
}

//  --------------------------------------------------------------------------------------
//  The state file

static void
s_meta_encode (const s_meta_t *m, uint8_t *slot, s_crc_fn *crc)
{
    memset (slot, 0, S_META_SLOT);
    s_put32 (slot, S_META_MAGIC);
    s_put64 (slot + 8, m->gen);
    s_put64 (slot + 16, m->acked);
    s_put64 (slot + 24, m->reserved);
    s_put64 (slot + 32, m->drop_count);
    s_put64 (slot + 40, m->drop_first);
    s_put64 (slot + 48, m->drop_last);
    s_put32 (slot + 56, m->flags);
    memcpy (slot + 64, m->boot, S_BOOT_MAX);
    s_put32 (slot + 4, crc (0, slot + 8, S_META_SLOT - 8));
}

static bool
s_meta_decode (const uint8_t *slot, s_meta_t *m, s_crc_fn *crc)
{
    if (s_get32 (slot) != S_META_MAGIC || s_get32 (slot + 4) != crc (0, slot + 8, S_META_SLOT - 8))
        return false;
    m->gen = s_get64 (slot + 8);
    m->acked = s_get64 (slot + 16);
    m->reserved = s_get64 (slot + 24);
    m->drop_count = s_get64 (slot + 32);
    m->drop_first = s_get64 (slot + 40);
    m->drop_last = s_get64 (slot + 48);
    m->flags = s_get32 (slot + 56);
    memcpy (m->boot, slot + 64, S_BOOT_MAX);
    m->boot[S_BOOT_MAX - 1] = 0;
    return true;
}

static int
s_meta_sync (sn_spool_t *self)
{
    if (!self->meta_dirty)
        return 0;
    if (s_fsync (self, self->metafd, true) != 0)
        return -1;
    self->synced_slot = 1 - self->synced_slot;
    self->meta_dirty = false;
    return 0;
}

//  Writes the state into the slot that is not the last durable one, so a write torn by a
//  power cut can only lose changes made since the last sync, never what a sync promised.
static int
s_meta_write (sn_spool_t *self, bool sync)
{
    uint8_t slot[S_META_SLOT];
    self->meta.gen++;
    s_meta_encode (&self->meta, slot, self->crc);
    int target = 1 - self->synced_slot;
    if (s_write_all (self->metafd, slot, sizeof slot, (uint64_t) target * S_META_SLOT_GAP) != 0) {
        s_error (self, &self->st.write_errors);
        return -1;
    }
    self->meta_dirty = true;
    return sync ? s_meta_sync (self) : 0;
}

//  Reads the state; false if the file held none (new) and *corrupt if it held only damage.
static int
s_meta_load (sn_spool_t *self, bool *found, bool *corrupt)
{
    uint8_t slot[S_META_SLOT];
    *found = *corrupt = false;
    struct stat sb;
    if (fstat (self->metafd, &sb) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        ssize_t n = pread (self->metafd, slot, sizeof slot, (off_t) i * S_META_SLOT_GAP);
        if (n < 0)
            return -1;
        s_meta_t m;
        if (n == (ssize_t) sizeof slot && s_meta_decode (slot, &m, self->crc) &&
            (!*found || m.gen > self->meta.gen)) {
            self->meta = m;
            self->synced_slot = i;
            *found = true;
        }
    }
    *corrupt = !*found && sb.st_size > 0;
    return 0;
}

static void
s_read_boot (char *out, const char *given)
{
    memset (out, 0, S_BOOT_MAX);
    if (given) {
        snprintf (out, S_BOOT_MAX, "%s", given);
        return;
    }
    FILE *f = fopen ("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;  //  unknown: every open is then treated as after a reboot (safe, may skip seqs)
    if (!fgets (out, S_BOOT_MAX, f))
        out[0] = 0;
    fclose (f);
    out[strcspn (out, "\n")] = 0;
}

//  --------------------------------------------------------------------------------------
//  Reading segments through one window

static int
s_rd_open (sn_spool_t *self, uint64_t name)
{
    if (self->rfd >= 0 && self->rfd_name == name)
        return 0;
    if (self->rfd >= 0)
        close (self->rfd);
    self->win_len = 0;
    char file[S_NAME_MAX];
    s_seg_filename (file, sizeof file, name, false);
    self->rfd = openat (self->dirfd, file, O_RDONLY | O_CLOEXEC);
    if (self->rfd < 0)
        return -1;
    self->rfd_name = name;
    return 0;
}

static void
s_rd_forget (sn_spool_t *self, uint64_t name)
{
    if (self->rfd >= 0 && self->rfd_name == name) {
        close (self->rfd);
        self->rfd = -1;
        self->win_len = 0;
    }
}

//  Makes [off, off + n) of the open segment available (n <= S_BUF_BYTES). 1: *p points at it;
//  0: the segment ends (at `limit`) first; -1: read error.
static int
s_rd_get (sn_spool_t *self, uint64_t off, size_t n, uint64_t limit, const uint8_t **p)
{
    if (off + n > limit)
        return 0;
    if (off >= self->win_off && off + n <= self->win_off + self->win_len) {
        *p = self->buf + (off - self->win_off);
        return 1;
    }
    size_t want = S_BUF_BYTES;
    if (limit - off < want)
        want = (size_t) (limit - off);
    size_t got = 0;
    self->win_len = 0;
    while (got < want) {
        ssize_t r = pread (self->rfd, self->buf + got, want - got, (off_t) (off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t) r;
    }
    self->win_off = off;
    self->win_len = got;
    if (got < n)
        return 0;  //  the file is shorter than it was
    *p = self->buf;
    return 1;
}

//  The record at `off` if it is whole and its checksum holds (its seq is the caller's to
//  judge). 1, 0 (no record there), -1 (read error).
static int
s_rec_read (sn_spool_t *self, uint64_t off, uint64_t limit, s_rec_t *rec)
{
    const uint8_t *h;
    int rc = s_rd_get (self, off, S_REC_HDR, limit, &h);
    if (rc <= 0)
        return rc;
    uint32_t len = s_get32 (h), crc = s_get32 (h + 4);
    uint64_t seq = s_get64 (h + 8);
    if (len == 0 || len > SN_SPOOL_RECORD_MAX || seq == 0)
        return 0;
    rc = s_rd_get (self, off, S_REC_HDR + len, limit, &h);
    if (rc <= 0)
        return rc;
    uint32_t c = self->crc (0, h, 4);
    if (self->crc (c, h + 8, 8 + (size_t) len) != crc)
        return 0;
    rec->seq = seq;
    rec->len = len;
    rec->data = h + S_REC_HDR;
    return 1;
}

//  After damage at `from`: the first position holding a whole record that checks, with a
//  seq in (lo, hi). A candidate header is cheap to reject (length, bounds, seq), so the
//  checksum runs on few positions. 1 (*at, *rec), 0 (none before `limit`), -1 (read error).
static int
s_resync (sn_spool_t *self, uint64_t from, uint64_t limit, uint64_t lo, uint64_t hi, uint64_t *at,
          s_rec_t *rec)
{
    for (uint64_t p = from; p + S_REC_HDR < limit; p++) {
        const uint8_t *h;
        int rc = s_rd_get (self, p, S_REC_HDR, limit, &h);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        uint32_t len = s_get32 (h);
        uint64_t seq = s_get64 (h + 8);
        if (len == 0 || len > SN_SPOOL_RECORD_MAX || p + S_REC_HDR + len > limit || seq <= lo ||
            seq >= hi)
            continue;
        rc = s_rec_read (self, p, limit, rec);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            *at = p;
            return 1;
        }
    }
    return 0;
}

//  --------------------------------------------------------------------------------------
//  The segment index

static void
s_seg_note (sn_spool_t *self, s_seg_t *seg, uint64_t seq, uint64_t off)
{
    if (!seg->first)
        seg->first = seq;
    seg->last = seq;
    if (seg->n_marks < S_MARKS &&
        (seg->n_marks == 0 || off - seg->marks[seg->n_marks - 1].off >= self->stride))
        seg->marks[seg->n_marks++] = (s_mark_t){seq, off};
}

//  Makes room for one more entry at `at` (moving the rest up). -1 (ENOMEM).
static int
s_seg_insert (sn_spool_t *self, size_t at, uint64_t name)
{
    if (self->n_segs == self->cap_segs) {
        size_t cap = self->cap_segs ? self->cap_segs * 2 : 16;
        s_seg_t *segs = realloc (self->segs, cap * sizeof *segs);
        if (!segs)
            return -1;
        self->segs = segs;
        self->cap_segs = cap;
    }
    memmove (self->segs + at + 1, self->segs + at, (self->n_segs - at) * sizeof *self->segs);
    memset (self->segs + at, 0, sizeof *self->segs);
    self->segs[at].name = name;
    self->n_segs++;
    return 0;
}

static void
s_seg_remove (sn_spool_t *self, size_t at)
{
    memmove (self->segs + at, self->segs + at + 1, (self->n_segs - at - 1) * sizeof *self->segs);
    self->n_segs--;
}

static bool
s_seg_find (const sn_spool_t *self, uint64_t name, size_t *at)
{
    size_t lo = 0, hi = self->n_segs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->segs[mid].name < name)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return lo < self->n_segs && self->segs[lo].name == name;
}

//  Records with seqs in (lo, hi].
static uint64_t
s_count_between (const sn_spool_t *self, uint64_t lo, uint64_t hi)
{
    uint64_t n = 0;
    for (size_t i = 0; i < self->n_segs; i++) {
        const s_seg_t *seg = &self->segs[i];
        if (!seg->first || seg->last <= lo || seg->first > hi)
            continue;
        uint64_t a = seg->first > lo ? seg->first : lo + 1;
        uint64_t b = seg->last < hi ? seg->last : hi;
        n += b - a + 1;
    }
    return n;
}

//  Deletes segment i's file (not the active one) and forgets it. The caller syncs the
//  directory.
static int
s_seg_delete (sn_spool_t *self, size_t i)
{
    char file[S_NAME_MAX];
    s_seg_filename (file, sizeof file, self->segs[i].name, false);
    s_rd_forget (self, self->segs[i].name);
    if (unlinkat (self->dirfd, file, 0) != 0 && errno != ENOENT) {
        s_error (self, &self->st.write_errors);
        return -1;
    }
    self->disk_bytes -= self->segs[i].size;
    s_seg_remove (self, i);
    return 0;
}

//  Creates an empty segment named `name` (header written, directory synced). Its fd or -1.
static int
s_seg_create (sn_spool_t *self, uint64_t name)
{
    char file[S_NAME_MAX];
    uint8_t hdr[S_SEG_HDR];
    s_seg_filename (file, sizeof file, name, false);
    memcpy (hdr, S_SEG_MAGIC, 8);
    s_put64 (hdr + 8, name);
    int fd = openat (self->dirfd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        s_error (self, &self->st.write_errors);
        return -1;
    }
    if (s_write_all (fd, hdr, sizeof hdr, 0) != 0) {
        s_error (self, &self->st.write_errors);
        int e = errno;
        unlinkat (self->dirfd, file, 0);
        close (fd);
        errno = e;
        return -1;
    }
    if (s_sync_dir (self) != 0) {
        int e = errno;
        unlinkat (self->dirfd, file, 0);
        close (fd);
        errno = e;
        return -1;
    }
    return fd;
}

//  Closes the active segment (synced unless the policy is never) and starts a new one named
//  next_seq.
static int
s_roll (sn_spool_t *self)
{
    if (self->dirty && self->sync != SN_SPOOL_SYNC_NEVER) {
        if (s_fsync (self, self->wfd, true) != 0)
            return -1;
        self->dirty = false;
    }
    if (s_seg_insert (self, self->n_segs, self->next_seq) != 0)
        return -1;
    int fd = s_seg_create (self, self->next_seq);
    if (fd < 0) {
        int e = errno;
        s_seg_remove (self, self->n_segs - 1);
        errno = e;
        return -1;
    }
    //  Appends to the old segment that were not synced (policy never) stay with the kernel.
    close (self->wfd);
    self->wfd = fd;
    self->segs[self->n_segs - 1].size = S_SEG_HDR;
    self->disk_bytes += S_SEG_HDR;
    return 0;
}

//  Drops the oldest segment to respect the bound; its unacknowledged events are counted and
//  the count made durable before the data goes.
static int
s_drop_oldest (sn_spool_t *self)
{
    s_seg_t *seg = &self->segs[0];
    if (seg->first && seg->last > self->floor) {
        uint64_t lo = seg->first > self->floor ? seg->first : self->floor + 1;
        uint64_t n = seg->last - lo + 1;
        s_meta_t saved = self->meta;
        if (!self->meta.drop_count)
            self->meta.drop_first = lo;
        self->meta.drop_count += n;
        self->meta.drop_last = seg->last;
        if (s_meta_write (self, true) != 0) {
            saved.gen = self->meta.gen;  //  generations only grow, written or not
            self->meta = saved;
            return -1;
        }
        self->st.dropped += n;
        self->st.dropped_first = lo;
        self->st.dropped_last = seg->last;
        self->floor = seg->last;
    }
    if (s_seg_delete (self, 0) != 0)
        return -1;
    return s_sync_dir (self);
}

//  Drops the oldest segments until `need` more bytes fit.
static int
s_make_room (sn_spool_t *self, uint64_t need)
{
    while (self->disk_bytes + need > self->max_bytes || self->n_segs > self->max_segs) {
        if (self->n_segs == 1) {
            //  Only the active segment is left: start a new one so the old one can go.
            if (!self->segs[0].first)
                break;  //  empty: cannot happen for a record that fits the bound
            if (s_roll (self) != 0)
                return -1;
        }
        if (s_drop_oldest (self) != 0)
            return -1;
    }
    return 0;
}

//  Deletes the sealed segments that hold nothing left to deliver.
static int
s_trim (sn_spool_t *self)
{
    int deleted = 0;
    while (self->n_segs > 1 && (!self->segs[0].first || self->segs[0].last <= self->floor)) {
        if (s_seg_delete (self, 0) != 0)
            return -1;
        deleted++;
    }
    return deleted ? s_sync_dir (self) : 0;
}

//  The offset of record `seq` in segment i: from the nearest mark, reading headers only.
//  -1 if the headers do not lead there (damage since open) or on read error; *off is then
//  the mark's offset, a safe place to start reading from.
static int
s_locate (sn_spool_t *self, size_t i, uint64_t seq, uint64_t *off)
{
    const s_seg_t *seg = &self->segs[i];
    uint64_t o = S_SEG_HDR, s = seg->first;
    for (uint32_t m = 0; m < seg->n_marks && seg->marks[m].seq <= seq; m++) {
        o = seg->marks[m].off;
        s = seg->marks[m].seq;
    }
    *off = o;
    if (s_rd_open (self, seg->name) != 0)
        return -1;
    while (true) {
        const uint8_t *h;
        if (s_rd_get (self, o, S_REC_HDR, seg->size, &h) != 1 || s_get64 (h + 8) != s)
            return -1;
        if (s == seq)
            break;
        o += S_REC_HDR + s_get32 (h);
        s++;
    }
    *off = o;
    return 0;
}

//  --------------------------------------------------------------------------------------
//  Recovery

static int
s_truncate (sn_spool_t *self, uint64_t name, uint64_t size)
{
    char file[S_NAME_MAX];
    s_seg_filename (file, sizeof file, name, false);
    int fd = openat (self->dirfd, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = ftruncate (fd, (off_t) size);
    if (rc == 0)
        rc = s_fsync (self, fd, true);
    close (fd);
    if (self->rfd >= 0 && self->rfd_name == name)
        self->win_len = 0;
    return rc;
}

//  (Re)writes segment `name`'s header over whatever is there, synced.
static int
s_seg_header (sn_spool_t *self, uint64_t name)
{
    char file[S_NAME_MAX];
    uint8_t hdr[S_SEG_HDR];
    s_seg_filename (file, sizeof file, name, false);
    memcpy (hdr, S_SEG_MAGIC, 8);
    s_put64 (hdr + 8, name);
    int fd = openat (self->dirfd, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = s_write_all (fd, hdr, sizeof hdr, 0);
    if (rc == 0)
        rc = s_fsync (self, fd, true);
    close (fd);
    if (self->rfd >= 0 && self->rfd_name == name)
        self->win_len = 0;
    return rc;
}

//  Segment i has damage at `hole` and a good record `seq` at `at`: moves [at, size) into a
//  new segment named seq (written aside, synced, renamed in), then cuts segment i at the
//  hole. A crash in between leaves the new segment and the old tail: the next recovery finds
//  the tail's records beyond the next segment's name and cuts them.
static int
s_split (sn_spool_t *self, size_t i, uint64_t hole, uint64_t at, uint64_t seq, uint64_t size)
{
    char tmp[S_NAME_MAX], file[S_NAME_MAX];
    s_seg_filename (tmp, sizeof tmp, seq, true);
    s_seg_filename (file, sizeof file, seq, false);
    int fd = openat (self->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    uint8_t hdr[S_SEG_HDR];
    memcpy (hdr, S_SEG_MAGIC, 8);
    s_put64 (hdr + 8, seq);
    int rc = s_write_all (fd, hdr, sizeof hdr, 0);
    uint64_t out = S_SEG_HDR;
    for (uint64_t off = at; rc == 0 && off < size;) {
        size_t n = size - off < S_BUF_BYTES ? (size_t) (size - off) : S_BUF_BYTES;
        const uint8_t *p;
        int got = s_rd_get (self, off, n, size, &p);
        if (got != 1) {
            if (got == 0)
                errno = EIO;  //  the file shrank under us
            rc = -1;
            break;
        }
        rc = s_write_all (fd, p, n, out);
        off += n;
        out += n;
    }
    if (rc == 0)
        rc = s_fsync (self, fd, true);
    close (fd);
    if (rc == 0 && renameat (self->dirfd, tmp, self->dirfd, file) != 0)
        rc = -1;
    if (rc != 0) {
        int e = errno;
        unlinkat (self->dirfd, tmp, 0);
        errno = e;
        return -1;
    }
    if (s_sync_dir (self) != 0 || s_truncate (self, self->segs[i].name, hole) != 0)
        return -1;
    self->segs[i].size = hole;
    return s_seg_insert (self, i + 1, seq);
}

//  Checks every record of segment i, cutting a torn tail and splitting at damage.
static int
s_scan (sn_spool_t *self, size_t i)
{
    s_seg_t *seg = &self->segs[i];
    uint64_t name = seg->name;
    uint64_t upper = i + 1 < self->n_segs ? self->segs[i + 1].name : UINT64_MAX;
    if (s_rd_open (self, name) != 0)
        return -1;
    struct stat sb;
    if (fstat (self->rfd, &sb) != 0)
        return -1;
    uint64_t size = (uint64_t) sb.st_size;
    const uint8_t *h;
    int rc = s_rd_get (self, 0, S_SEG_HDR, size, &h);
    if (rc < 0)
        return -1;
    bool header_ok = rc == 1 && memcmp (h, S_SEG_MAGIC, 8) == 0 && s_get64 (h + 8) == name;
    if (!header_ok && size >= S_SEG_HDR) {
        //  The header only repeats the file name: write it again, keep the records.
        if (s_seg_header (self, name) != 0)
            return -1;
        self->st.corrupt++;
        self->st.corrupt_bytes += S_SEG_HDR;
        header_ok = true;
    }
    uint64_t pos = header_ok ? S_SEG_HDR : 0, prev = 0;
    seg->first = seg->last = 0;
    seg->n_marks = 0;
    while (pos < size) {
        s_rec_t rec;
        rc = s_rec_read (self, pos, size, &rec);
        if (rc < 0)
            return -1;
        if (rc == 1 && rec.seq < upper && (prev ? rec.seq == prev + 1 : rec.seq >= name)) {
            s_seg_note (self, seg, rec.seq, pos);
            pos += S_REC_HDR + rec.len;
            prev = rec.seq;
            continue;
        }
        //  Past the damage, seqs must exceed the last good one (or the segment's name: a
        //  split never makes a segment of the same name).
        uint64_t lo = prev ? prev : name, at;
        uint64_t hi = upper - lo > S_RESYNC_SPAN ? lo + S_RESYNC_SPAN : upper;
        rc = s_resync (self, pos, size, lo, hi, &at, &rec);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            self->st.corrupt++;
            self->st.corrupt_bytes += at - pos;
            if (prev)
                self->st.corrupt_events += rec.seq - prev - 1;
            return s_split (self, i, pos, at, rec.seq, size);
        }
        break;
    }
    if (pos < size) {
        self->st.torn++;
        self->st.torn_bytes += size - pos;
        if (s_truncate (self, name, pos) != 0)
            return -1;
    }
    self->segs[i].size = pos;
    return 0;
}

static int
s_name_cmp (const void *a, const void *b)
{
    uint64_t x = ((const s_seg_t *) a)->name, y = ((const s_seg_t *) b)->name;
    return x < y ? -1 : x > y;
}

//  The segment files, sorted; deletes leftovers of an interrupted split.
static int
s_list (sn_spool_t *self)
{
    int fd = dup (self->dirfd);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir (fd);
    if (!d) {
        close (fd);
        return -1;
    }
    rewinddir (d);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir (d))) {
        const char *n = e->d_name;
        size_t len = strlen (n);
        if (len == 28 && strcmp (n + 20, ".seg.tmp") == 0) {
            unlinkat (self->dirfd, n, 0);
            continue;
        }
        if (len != 24 || strcmp (n + 20, ".seg") != 0 || strspn (n, "0123456789") != 20)
            continue;
        char *end;
        errno = 0;
        uint64_t name = strtoull (n, &end, 10);
        if (errno || end != n + 20 || name == 0)
            continue;
        rc = s_seg_insert (self, self->n_segs, name);
    }
    closedir (d);
    if (rc == 0 && self->n_segs > 1)
        qsort (self->segs, self->n_segs, sizeof *self->segs, s_name_cmp);
    return rc;
}

static int
s_recover (sn_spool_t *self)
{
    bool found, meta_corrupt;
    if (s_meta_load (self, &found, &meta_corrupt) != 0)
        return -1;
    if (meta_corrupt) {
        self->st.corrupt++;
        self->st.corrupt_bytes += S_META_SLOT;
    }
    if (!found) {
        memset (&self->meta, 0, sizeof self->meta);
        self->synced_slot = 1;  //  the first write goes to slot 0
        //  A new spool has nothing to lose; a spool whose state is unreadable is treated as
        //  after a reboot, and the log alone says where seqs stand.
        self->meta.flags = meta_corrupt ? 0 : S_META_CLEAN;
    }
    if (s_list (self) != 0)
        return -1;
    for (size_t i = 0; i < self->n_segs; i++)
        if (s_scan (self, i) != 0)
            return -1;

    //  Where seqs stand: past every record and every segment name (an empty segment's name is
    //  the seq it was made for), past the ack, and past the reservation unless the kernel
    //  still held every byte written (same boot, not closed cleanly: then the log is exact).
    uint64_t log_next = 1;
    for (size_t i = 0; i < self->n_segs; i++) {
        if (self->segs[i].name > log_next)
            log_next = self->segs[i].name;
        if (self->segs[i].last + 1 > log_next)
            log_next = self->segs[i].last + 1;
    }
    if (self->meta.acked + 1 > log_next)
        log_next = self->meta.acked + 1;
    bool clean = self->meta.flags & S_META_CLEAN;
    bool rebooted = !self->boot[0] || strcmp (self->boot, self->meta.boot) != 0;
    self->next_seq = log_next;
    if ((clean || rebooted) && self->meta.reserved + 1 > log_next) {
        self->next_seq = self->meta.reserved + 1;
        if (!clean) {
            self->st.gap_first = log_next;
            self->st.gap_last = self->meta.reserved;
        }
    }

    self->disk_bytes = 0;
    for (size_t i = 0; i < self->n_segs; i++)
        self->disk_bytes += self->segs[i].size;
    //  Empty segments other than the last have nothing to say any more.
    bool deleted = false;
    for (size_t i = 0; i + 1 < self->n_segs;) {
        if (self->segs[i].first) {
            i++;
            continue;
        }
        if (s_seg_delete (self, i) != 0)
            return -1;
        deleted = true;
    }
    self->floor = self->meta.acked;
    if (deleted && s_sync_dir (self) != 0)
        return -1;
    if (s_trim (self) != 0)
        return -1;

    //  The active segment: the last one if it can take next_seq, else a new one.
    s_seg_t *last = self->n_segs ? &self->segs[self->n_segs - 1] : NULL;
    if (last && last->size < S_SEG_HDR) {
        //  Created and never given its whole header (a crash right after creation); the
        //  scan cut what there was.
        if (s_seg_header (self, last->name) != 0)
            return -1;
        self->disk_bytes += S_SEG_HDR - last->size;
        last->size = S_SEG_HDR;
    }
    if (last && (!last->first || last->last + 1 == self->next_seq)) {
        char file[S_NAME_MAX];
        s_seg_filename (file, sizeof file, last->name, false);
        self->wfd = openat (self->dirfd, file, O_WRONLY | O_CLOEXEC);
        if (self->wfd < 0)
            return -1;
    }
    else {
        if (s_seg_insert (self, self->n_segs, self->next_seq) != 0)
            return -1;
        self->wfd = s_seg_create (self, self->next_seq);
        if (self->wfd < 0)
            return -1;
        self->segs[self->n_segs - 1].size = S_SEG_HDR;
        self->disk_bytes += S_SEG_HDR;
    }
    if (s_make_room (self, 0) != 0)
        return -1;

    //  From now on the spool is open: not clean, this boot, seqs reserved ahead.
    self->meta.flags &= ~S_META_CLEAN;
    memcpy (self->meta.boot, self->boot, S_BOOT_MAX);
    self->meta.reserved = self->next_seq - 1;
    if (self->sync != SN_SPOOL_SYNC_ALWAYS)
        self->meta.reserved += SN_SPOOL_LEASE;
    if (s_meta_write (self, true) != 0)
        return -1;
    self->cur_seq = self->floor + 1;
    self->last_sync_ns = s_now_ns ();
    return 0;
}

//  --------------------------------------------------------------------------------------
//  The class

sn_spool_t *
sn_spool_new (const char *dir, const sn_spool_opts_t *opts)
{
    sn_spool_opts_t o = {0};
    if (opts)
        o = *opts;
    if (!o.max_bytes)
        o.max_bytes = SN_SPOOL_MAX_BYTES;
    if (!o.segment_bytes) {
        o.segment_bytes = SN_SPOOL_SEGMENT_BYTES;
        if (o.segment_bytes > o.max_bytes / 4)
            o.segment_bytes = o.max_bytes / 4;
    }
    if (!o.sync_interval_ms)
        o.sync_interval_ms = SN_SPOOL_INTERVAL_MS;
    if (!dir || o.segment_bytes < SN_SPOOL_SEGMENT_MIN || o.segment_bytes > o.max_bytes / 2 ||
        o.sync > SN_SPOOL_SYNC_NEVER) {
        errno = EINVAL;
        return NULL;
    }

    sn_spool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dirfd = self->metafd = self->wfd = self->rfd = -1;
    self->max_bytes = o.max_bytes;
    self->segment_bytes = o.segment_bytes;
    self->stride = o.segment_bytes / S_MARKS;
    self->max_segs = (size_t) (2 * (o.max_bytes / o.segment_bytes) + 16);
    self->sync = o.sync;
    self->interval_ns = (uint64_t) o.sync_interval_ms * 1000000ULL;
    self->crc = s_crc_pick ();
    s_read_boot (self->boot, o.boot_id);
    self->buf = malloc (S_BUF_BYTES);
    if (!self->buf)
        goto failed;

    if (mkdir (dir, 0700) != 0 && errno != EEXIST)
        goto failed;
    self->dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (self->dirfd < 0)
        goto failed;
    self->metafd = openat (self->dirfd, S_META_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->metafd < 0)
        goto failed;
    //  An open-file lock, so a second open fails even from the same process.
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl (self->metafd, F_OFD_SETLK, &fl) != 0) {
        if (errno == EAGAIN || errno == EACCES)
            errno = EBUSY;
        goto failed;
    }
    if (s_recover (self) != 0)
        goto failed;
    return self;

failed:;
    int e = errno;
    if (self->wfd >= 0)
        close (self->wfd);
    if (self->rfd >= 0)
        close (self->rfd);
    if (self->metafd >= 0)
        close (self->metafd);
    if (self->dirfd >= 0)
        close (self->dirfd);
    free (self->segs);
    free (self->buf);
    free (self);
    errno = e ? e : EIO;
    return NULL;
}

void
sn_spool_destroy (sn_spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_spool_t *self = *self_p;
    //  Whatever the policy, a clean close leaves everything on disk, and records exactly where
    //  seqs stand so the next open continues without a gap.
    if (self->dirty && s_fsync (self, self->wfd, true) == 0)
        self->dirty = false;
    self->meta.flags |= S_META_CLEAN;
    self->meta.reserved = self->next_seq - 1;
    s_meta_write (self, true);  //  failures are counted; nothing else to do on the way out
    close (self->wfd);
    if (self->rfd >= 0)
        close (self->rfd);
    close (self->metafd);
    close (self->dirfd);
    free (self->segs);
    free (self->buf);
    free (self);
    *self_p = NULL;
}

uint64_t
sn_spool_next_seq (const sn_spool_t *self)
{
    return self->next_seq;
}

static int
s_sync_all (sn_spool_t *self)
{
    int rc = 0;
    if (self->dirty) {
        if (s_fsync (self, self->wfd, true) == 0)
            self->dirty = false;
        else
            rc = -1;
    }
    if (s_meta_sync (self) != 0)
        rc = -1;
    self->last_sync_ns = s_now_ns ();
    return rc;
}

int
sn_spool_append (sn_spool_t *self, uint64_t seq, const void *data, size_t len)
{
    if (!self || !data || seq != self->next_seq) {
        errno = EINVAL;
        return -1;
    }
    uint64_t rec = S_REC_HDR + (uint64_t) len;
    if (len == 0 || len > SN_SPOOL_RECORD_MAX || S_SEG_HDR + rec > self->max_bytes) {
        errno = EMSGSIZE;
        return -1;
    }
    s_seg_t *act = &self->segs[self->n_segs - 1];
    if (act->first && (act->size + rec > self->segment_bytes || act->last + 1 != seq)) {
        if (s_roll (self) != 0)
            return -1;
    }
    if (s_make_room (self, rec) != 0)
        return -1;
    //  A seq handed out without a sync of its own must be covered by a durable reservation.
    if (self->sync != SN_SPOOL_SYNC_ALWAYS && seq > self->meta.reserved) {
        uint64_t saved = self->meta.reserved;
        self->meta.reserved = seq - 1 + SN_SPOOL_LEASE;
        if (s_meta_write (self, true) != 0) {
            self->meta.reserved = saved;
            return -1;
        }
    }
    act = &self->segs[self->n_segs - 1];
    uint8_t hdr[S_REC_HDR];
    s_put32 (hdr, (uint32_t) len);
    s_put64 (hdr + 8, seq);
    uint32_t crc = self->crc (0, hdr, 4);
    crc = self->crc (crc, hdr + 8, 8);
    s_put32 (hdr + 4, self->crc (crc, data, len));

    //  One system call per event; a short write (a file size limit) is continued.
    uint64_t off = act->size;
    size_t done = 0, total = sizeof hdr + len;
    while (done < total) {
        struct iovec part[2];
        int n = 0;
        if (done < sizeof hdr) {
            part[n++] = (struct iovec){hdr + done, sizeof hdr - done};
            part[n++] = (struct iovec){(void *) data, len};
        }
        else
            part[n++] = (struct iovec){(uint8_t *) data + (done - sizeof hdr), total - done};
        ssize_t w = pwritev (self->wfd, part, n, (off_t) (off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            //  Disk full, file too large, I/O error: take back what part of the record went
            //  in, so the next append follows the last whole record.
            if (w == 0)
                errno = EIO;
            s_error (self, &self->st.write_errors);
            int e = errno;
            if (done && ftruncate (self->wfd, (off_t) off) != 0)
                s_error (self, &self->st.write_errors);
            errno = e;
            return -1;
        }
        done += (size_t) w;
    }
    if (self->sync == SN_SPOOL_SYNC_ALWAYS && s_fsync (self, self->wfd, true) != 0) {
        int e = errno;
        if (ftruncate (self->wfd, (off_t) off) != 0)
            s_error (self, &self->st.write_errors);
        errno = e;
        return -1;
    }
    act->size += rec;
    self->disk_bytes += rec;
    s_seg_note (self, act, seq, off);
    self->next_seq++;
    self->st.appended++;
    self->dirty = self->sync != SN_SPOOL_SYNC_ALWAYS;
    if (self->sync == SN_SPOOL_SYNC_INTERVAL &&
        s_now_ns () - self->last_sync_ns >= self->interval_ns)
        s_sync_all (self);  //  a failure is counted; the event is in the spool either way
    return 0;
}

int
sn_spool_ack (sn_spool_t *self, uint64_t seq)
{
    if (seq <= self->meta.acked) {
        self->st.acks_stale++;
        return 0;
    }
    if (seq >= self->next_seq) {
        errno = ERANGE;
        return -1;
    }
    if (seq > self->floor) {
        self->st.acked += s_count_between (self, self->floor, seq);
        self->floor = seq;
    }
    self->meta.acked = seq;
    //  Not synced here: a lost ack only means a retransmission the broker recognises.
    int rc = s_meta_write (self, false);
    if (s_trim (self) != 0)
        rc = -1;
    return rc;
}

int
sn_spool_tick (sn_spool_t *self)
{
    if (self->sync == SN_SPOOL_SYNC_NEVER || (!self->dirty && !self->meta_dirty))
        return 0;
    if (self->sync == SN_SPOOL_SYNC_INTERVAL &&
        s_now_ns () - self->last_sync_ns < self->interval_ns)
        return 0;
    return s_sync_all (self);
}

int
sn_spool_sync (sn_spool_t *self)
{
    return s_sync_all (self);
}

int
sn_spool_seek (sn_spool_t *self, uint64_t seq)
{
    self->cur_seq = seq > self->floor ? seq : self->floor + 1;
    self->cur_valid = false;
    return 0;
}

int
sn_spool_next (sn_spool_t *self, uint64_t *seq, const uint8_t **data, size_t *len)
{
    while (true) {
        if (self->cur_seq <= self->floor) {
            self->cur_seq = self->floor + 1;
            self->cur_valid = false;
        }
        if (self->cur_seq >= self->next_seq)
            return 0;
        size_t i;
        if (self->cur_valid && !s_seg_find (self, self->cur_name, &i))
            self->cur_valid = false;
        if (!self->cur_valid) {
            for (i = 0; i < self->n_segs; i++)
                if (self->segs[i].first && self->segs[i].last >= self->cur_seq)
                    break;
            if (i == self->n_segs) {
                self->cur_seq = self->next_seq;  //  nothing on disk below next_seq (a gap)
                return 0;
            }
            if (self->cur_seq < self->segs[i].first)
                self->cur_seq = self->segs[i].first;
            uint64_t off;
            if (s_locate (self, i, self->cur_seq, &off) != 0 && self->rfd < 0)
                return -1;
            self->cur_name = self->segs[i].name;
            self->cur_off = off;
            self->cur_valid = true;
        }
        s_seg_t *seg = &self->segs[i];
        if (self->cur_off >= seg->size) {
            if (i + 1 >= self->n_segs)
                return 0;  //  caught up: the cursor waits here for the next append
            self->cur_name = self->segs[i + 1].name;
            self->cur_off = S_SEG_HDR;
            if (self->segs[i + 1].first > self->cur_seq)
                self->cur_seq = self->segs[i + 1].first;
            continue;
        }
        if (s_rd_open (self, seg->name) != 0)
            return -1;
        s_rec_t rec;
        int rc = s_rec_read (self, self->cur_off, seg->size, &rec);
        if (rc < 0)
            return -1;
        if (rc == 1 && rec.seq >= seg->first && rec.seq <= seg->last) {
            self->cur_off += S_REC_HDR + rec.len;
            if (rec.seq < self->cur_seq)
                continue;  //  before the position (reading on from a mark)
            self->cur_seq = rec.seq + 1;
            *seq = rec.seq;
            *data = rec.data;
            *len = rec.len;
            return 1;
        }
        //  Damaged since the spool was opened (recovery checked everything then): skip to the
        //  next record that checks, count what was lost.
        uint64_t at;
        rc = s_resync (self, self->cur_off + 1, seg->size, self->cur_seq - 1, seg->last + 1, &at,
                       &rec);
        if (rc < 0)
            return -1;
        self->st.corrupt++;
        if (rc == 1) {
            self->st.corrupt_bytes += at - self->cur_off;
            self->st.corrupt_events += rec.seq - self->cur_seq;
            self->cur_off = at;
        }
        else {
            self->st.corrupt_bytes += seg->size - self->cur_off;
            self->st.corrupt_events += seg->last - self->cur_seq + 1;
            self->cur_off = seg->size;
            self->cur_seq = seg->last + 1;
        }
    }
}

void
sn_spool_stats (sn_spool_t *self, sn_spool_stats_t *stats)
{
    *stats = self->st;
    stats->next_seq = self->next_seq;
    stats->acked_seq = self->meta.acked;
    stats->segments = self->n_segs;
    stats->disk_bytes = self->disk_bytes;
    stats->depth = s_count_between (self, self->floor, self->next_seq - 1);
    stats->oldest_unacked = self->next_seq;
    stats->depth_bytes = 0;
    for (size_t i = 0; i < self->n_segs; i++) {
        const s_seg_t *seg = &self->segs[i];
        if (!seg->first || seg->last <= self->floor)
            continue;
        if (stats->oldest_unacked == self->next_seq) {
            uint64_t oldest = seg->first > self->floor ? seg->first : self->floor + 1;
            uint64_t off = S_SEG_HDR;
            if (oldest > seg->first && s_locate (self, i, oldest, &off) != 0)
                off = S_SEG_HDR;  //  cannot place it: count the whole segment
            stats->oldest_unacked = oldest;
            stats->depth_bytes += seg->size - off;
        }
        else
            stats->depth_bytes += seg->size - S_SEG_HDR;
    }
}

uint64_t
sn_spool_dropped_take (sn_spool_t *self, uint64_t *first, uint64_t *last)
{
    uint64_t n = self->meta.drop_count;
    if (first)
        *first = self->meta.drop_first;
    if (last)
        *last = self->meta.drop_last;
    if (n) {
        self->meta.drop_count = self->meta.drop_first = self->meta.drop_last = 0;
        s_meta_write (self, false);  //  counted on failure; the report is in the caller's hands
    }
    return n;
}

int
sn_spool_sync_parse (const char *name, sn_spool_sync_t *sync)
{
    static const char *const names[] = {"interval", "always", "never"};
    for (int i = 0; name && i < 3; i++)
        if (strcmp (name, names[i]) == 0) {
            *sync = (sn_spool_sync_t) i;
            return 0;
        }
    return -1;
}

const char *
sn_spool_sync_name (sn_spool_sync_t sync)
{
    switch (sync) {
    case SN_SPOOL_SYNC_INTERVAL: return "interval";
    case SN_SPOOL_SYNC_ALWAYS: return "always";
    case SN_SPOOL_SYNC_NEVER: return "never";
    }
    return "?";
}
