/*  sn_spool: round trips, seqs across restarts, retransmission, trimming, the size bound,
    torn tails and damaged records (at open and while reading), kill -9 in the middle of
    appends, a power cut played with a changed boot id, a full disk (RLIMIT_FSIZE), the fsync
    policies. Each test works in its own temporary directory, removed by the suite's fini. */
#define _GNU_SOURCE  //  mkdtemp, MAP_ANONYMOUS
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sn_spool.h"

static char s_dir[64];

static void
s_setup (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/mm-spool-test-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
    //  The spool creates its directory itself: start from a path that does not exist yet.
    cr_assert_eq (rmdir (s_dir), 0);
}

static void
s_teardown (void)
{
    DIR *d = opendir (s_dir);
    if (!d)
        return;
    struct dirent *e;
    char path[sizeof s_dir + 256 + 1];
    while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            snprintf (path, sizeof path, "%s/%s", s_dir, e->d_name);
            unlink (path);
        }
    closedir (d);
    rmdir (s_dir);
}

TestSuite (sn_spool, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  Deterministic payloads: 50..349 bytes, the seq in the first 8, then a pattern of the seq.
static size_t
s_payload (uint64_t seq, uint8_t *buf)
{
    size_t len = 50 + (size_t) ((seq * 7919) % 300);
    memcpy (buf, &seq, 8);
    for (size_t i = 8; i < len; i++)
        buf[i] = (uint8_t) (seq * 31 + i);
    return len;
}

static bool
s_payload_ok (uint64_t seq, const uint8_t *data, size_t len)
{
    uint8_t want[400];
    size_t n = s_payload (seq, want);
    return n == len && memcmp (want, data, n) == 0;
}

static sn_spool_t *
s_open (uint64_t max, uint64_t segment, sn_spool_sync_t sync, const char *boot)
{
    sn_spool_opts_t o = {.max_bytes = max,
                         .segment_bytes = segment,
                         .sync = sync,
                         .boot_id = boot ? boot : "boot-test"};
    return sn_spool_new (s_dir, &o);
}

static void
s_append (sn_spool_t *sp, uint64_t n)
{
    uint8_t buf[400];
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seq = sn_spool_next_seq (sp);
        size_t len = s_payload (seq, buf);
        cr_assert_eq (sn_spool_append (sp, seq, buf, len), 0, "append %lu: %s", (unsigned long) seq,
                      strerror (errno));
    }
}

//  Reads from `from` to the end: the seqs must run from `first` to `last` without a hole
//  (except `missing`, 0 for none) and every payload must be the one written.
static void
s_expect (sn_spool_t *sp, uint64_t from, uint64_t first, uint64_t last, uint64_t missing)
{
    cr_assert_eq (sn_spool_seek (sp, from), 0);
    uint64_t want = first, seq;
    const uint8_t *data;
    size_t len;
    int rc;
    while ((rc = sn_spool_next (sp, &seq, &data, &len)) == 1) {
        if (want == missing)
            want++;
        cr_assert_eq (seq, want, "seq %lu, expected %lu", (unsigned long) seq,
                      (unsigned long) want);
        cr_assert (s_payload_ok (seq, data, len), "payload of %lu misread", (unsigned long) seq);
        want++;
    }
    cr_assert_eq (rc, 0);
    cr_assert_eq (want - 1, last, "read up to %lu, expected %lu", (unsigned long) (want - 1),
                  (unsigned long) last);
}

static int
s_count_segments (void)
{
    DIR *d = opendir (s_dir);
    cr_assert_not_null (d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        if (strlen (e->d_name) == 24 && strcmp (e->d_name + 20, ".seg") == 0)
            n++;
    closedir (d);
    return n;
}

//  The path of the k-th segment file (0: oldest, -1: newest).
static void
s_segment_path (int k, char *path, size_t size)
{
    DIR *d = opendir (s_dir);
    cr_assert_not_null (d);
    char names[256][32];
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)) && n < 256)
        if (strlen (e->d_name) == 24 && strcmp (e->d_name + 20, ".seg") == 0)
            memcpy (names[n++], e->d_name, 25);  //  24 characters and the NUL
    closedir (d);
    cr_assert (n > 0);
    qsort (names, (size_t) n, 32, (int (*) (const void *, const void *)) strcmp);
    int i = k < 0 ? n + k : k;
    cr_assert (i >= 0 && i < n);
    snprintf (path, size, "%s/%s", s_dir, names[i]);
}

static uint64_t
s_file_size (const char *path)
{
    struct stat sb;
    cr_assert_eq (stat (path, &sb), 0);
    return (uint64_t) sb.st_size;
}

static void
s_flip (const char *path, uint64_t off)
{
    int fd = open (path, O_RDWR);
    cr_assert (fd >= 0);
    uint8_t b;
    cr_assert_eq (pread (fd, &b, 1, (off_t) off), 1);
    b ^= 0x5a;
    cr_assert_eq (pwrite (fd, &b, 1, (off_t) off), 1);
    close (fd);
}

static sn_spool_stats_t
s_stats (sn_spool_t *sp)
{
    sn_spool_stats_t st;
    sn_spool_stats (sp, &st);
    return st;
}

//  ---------------------------------------------------------------------------------------

Test (sn_spool, crc32c_matches_the_standard_and_both_paths_agree)
{
    cr_assert_eq (sn_spool_crc32c (0, "123456789", 9), 0xe3069283u);
    cr_assert_eq (sn_spool_crc32c_sw (0, "123456789", 9), 0xe3069283u);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t) (i * 131 + 7);
    for (size_t n = 0; n < sizeof buf; n += 37) {
        uint32_t a = sn_spool_crc32c (0, buf, n);
        cr_assert_eq (a, sn_spool_crc32c_sw (0, buf, n));
        //  In pieces as in one go (records are checksummed in two pieces).
        cr_assert_eq (sn_spool_crc32c (sn_spool_crc32c (0, buf, n / 3), buf + n / 3, n - n / 3), a);
    }
}

Test (sn_spool, append_ack_reopen_round_trip)
{
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    cr_assert_not_null (sp);
    cr_assert_eq (sn_spool_next_seq (sp), 1u);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.depth, 0u);
    cr_assert_eq (st.oldest_unacked, 1u);
    s_append (sp, 1000);
    st = s_stats (sp);
    cr_assert_eq (st.depth, 1000u);
    cr_assert_eq (st.appended, 1000u);
    cr_assert_eq (st.oldest_unacked, 1u);
    cr_assert_eq (st.depth_bytes + 16, st.disk_bytes);  //  one segment: all of it but its header
    s_expect (sp, 0, 1, 1000, 0);
    cr_assert_eq (sn_spool_ack (sp, 500), 0);
    st = s_stats (sp);
    cr_assert_eq (st.depth, 500u);
    cr_assert_eq (st.acked, 500u);
    cr_assert_eq (st.acked_seq, 500u);
    cr_assert_eq (st.oldest_unacked, 501u);
    uint64_t bytes = st.depth_bytes;
    sn_spool_destroy (&sp);
    cr_assert_null (sp);
    sn_spool_destroy (&sp);  //  idempotent

    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    cr_assert_not_null (sp);
    st = s_stats (sp);
    cr_assert_eq (st.next_seq, 1001u);
    cr_assert_eq (st.depth, 500u);
    cr_assert_eq (st.depth_bytes, bytes);
    cr_assert_eq (st.oldest_unacked, 501u);
    cr_assert_eq (st.acked_seq, 500u);
    cr_assert_eq (st.torn + st.corrupt, 0u);
    s_expect (sp, 0, 501, 1000, 0);
    sn_spool_destroy (&sp);
}

Test (sn_spool, seq_continues_after_reopen_even_when_everything_was_acked)
{
    for (int round = 0; round < 5; round++) {
        sn_spool_t *sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
        cr_assert_not_null (sp);
        cr_assert_eq (sn_spool_next_seq (sp), (uint64_t) round * 300 + 1);
        s_append (sp, 300);
        if (round % 2 == 0)
            cr_assert_eq (sn_spool_ack (sp, sn_spool_next_seq (sp) - 1), 0);
        sn_spool_destroy (&sp);
    }
    //  Everything acked by round 4: no record left, and the seq still continues.
    sn_spool_t *sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.next_seq, 1501u);
    cr_assert_eq (st.depth, 0u);
    cr_assert_eq (st.oldest_unacked, 1501u);
    cr_assert_eq (s_count_segments (), 1);  //  the active one stays
    s_expect (sp, 0, 1501, 1500, 0);
    sn_spool_destroy (&sp);
}

Test (sn_spool, retransmission_starts_at_the_first_unacked_and_follows_appends)
{
    sn_spool_t *sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    s_append (sp, 400);
    cr_assert_eq (sn_spool_ack (sp, 123), 0);
    s_expect (sp, 0, 124, 400, 0);
    s_expect (sp, 1, 124, 400, 0);      //  below the ack: from the first unacked
    s_expect (sp, 321, 321, 400, 0);    //  in the middle of a segment
    s_expect (sp, 10000, 401, 400, 0);  //  beyond: nothing

    //  A caught-up cursor sees what is appended after.
    uint64_t seq;
    const uint8_t *data;
    size_t len;
    cr_assert_eq (sn_spool_seek (sp, 0), 0);
    for (uint64_t s = 124; s <= 400; s++)
        cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 1);
    cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 0);
    s_append (sp, 3);
    for (uint64_t s = 401; s <= 403; s++) {
        cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 1);
        cr_assert_eq (seq, s);
        cr_assert (s_payload_ok (seq, data, len));
    }
    cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 0);

    //  An ack that overtakes the cursor (and deletes its segment) moves it on.
    cr_assert_eq (sn_spool_seek (sp, 0), 0);
    cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 1);
    cr_assert_eq (seq, 124u);
    cr_assert_eq (sn_spool_ack (sp, 350), 0);
    cr_assert_eq (sn_spool_next (sp, &seq, &data, &len), 1);
    cr_assert_eq (seq, 351u);
    cr_assert (s_payload_ok (seq, data, len));
    sn_spool_destroy (&sp);
}

Test (sn_spool, acks_delete_whole_segments_only)
{
    sn_spool_t *sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    s_append (sp, 500);  //  ~100 KB: a dozen 8 KB segments
    sn_spool_stats_t st = s_stats (sp);
    int files = s_count_segments ();
    cr_assert_eq ((uint64_t) files, st.segments);
    cr_assert (files >= 10, "%d segments", files);

    //  An ack inside the first segment deletes nothing.
    char first[128];
    s_segment_path (0, first, sizeof first);
    cr_assert_eq (sn_spool_ack (sp, 3), 0);
    cr_assert_eq (s_count_segments (), files);
    cr_assert_eq (access (first, F_OK), 0);

    //  Acks past whole segments delete exactly those, oldest first.
    cr_assert_eq (sn_spool_ack (sp, 250), 0);
    int left = s_count_segments ();
    cr_assert (left < files && left > 1);
    cr_assert_neq (access (first, F_OK), 0);
    st = s_stats (sp);
    cr_assert_eq ((uint64_t) left, st.segments);
    cr_assert_eq (st.depth, 250u);
    cr_assert_eq (st.acked, 250u);
    s_expect (sp, 0, 251, 500, 0);

    //  A stale ack is counted and changes nothing; an ack beyond the last seq is refused.
    cr_assert_eq (sn_spool_ack (sp, 100), 0);
    cr_assert_eq (s_stats (sp).acks_stale, 1u);
    errno = 0;
    cr_assert_eq (sn_spool_ack (sp, 501), -1);
    cr_assert_eq (errno, ERANGE);
    cr_assert_eq (s_stats (sp).acked_seq, 250u);

    //  Everything acked: only the active segment stays.
    cr_assert_eq (sn_spool_ack (sp, 500), 0);
    cr_assert_eq (s_count_segments (), 1);
    st = s_stats (sp);
    cr_assert_eq (st.depth, 0u);
    cr_assert_eq (st.depth_bytes, 0u);
    sn_spool_destroy (&sp);
}

Test (sn_spool, the_bound_drops_the_oldest_and_counts_exactly)
{
    const uint64_t max = 64 * 1024;
    sn_spool_t *sp = s_open (max, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_not_null (sp);
    s_append (sp, 2000);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert (st.disk_bytes <= max, "%lu bytes", (unsigned long) st.disk_bytes);
    cr_assert (st.dropped > 0);
    //  Nothing silent: every event appended is either in the spool or counted as dropped.
    cr_assert_eq (st.depth + st.dropped, 2000u);
    cr_assert_eq (st.oldest_unacked, st.dropped + 1);
    cr_assert_eq (st.dropped_last, st.dropped);
    s_expect (sp, 0, st.dropped + 1, 2000, 0);

    uint64_t first, last;
    cr_assert_eq (sn_spool_dropped_take (sp, &first, &last), st.dropped);
    cr_assert_eq (first, 1u);
    cr_assert_eq (last, st.dropped);
    cr_assert_eq (sn_spool_dropped_take (sp, &first, &last), 0u);

    //  Acked events are not counted as dropped when their segment goes.
    uint64_t before = st.dropped;
    cr_assert_eq (sn_spool_ack (sp, st.oldest_unacked + 10), 0);
    s_append (sp, 500);
    st = s_stats (sp);
    cr_assert_eq (st.depth + st.dropped + st.acked, 2500u);
    uint64_t n = sn_spool_dropped_take (sp, &first, &last);
    cr_assert_eq (n, st.dropped - before);
    cr_assert_eq (last, st.oldest_unacked - 1);

    //  A report not taken survives a restart.
    s_append (sp, 500);
    st = s_stats (sp);
    uint64_t pending = st.dropped - before - n;
    cr_assert (pending > 0);
    sn_spool_destroy (&sp);
    sp = s_open (max, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_eq (sn_spool_dropped_take (sp, &first, &last), pending);
    cr_assert_eq (last, s_stats (sp).oldest_unacked - 1);

    //  A record larger than the bound is refused, not a reason to empty the spool.
    uint8_t big[SN_SPOOL_RECORD_MAX];
    memset (big, 1, sizeof big);
    sn_spool_destroy (&sp);
    sp = s_open (32768, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    uint64_t depth = s_stats (sp).depth;
    errno = 0;
    cr_assert_eq (sn_spool_append (sp, sn_spool_next_seq (sp), big, sizeof big), -1);
    cr_assert_eq (errno, EMSGSIZE);
    cr_assert_eq (s_stats (sp).depth, depth);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_torn_last_record_is_cut_counted_and_its_seq_not_reused)
{
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, NULL);
    s_append (sp, 50);
    sn_spool_destroy (&sp);
    char path[128];
    s_segment_path (-1, path, sizeof path);
    uint64_t size = s_file_size (path);
    cr_assert_eq (truncate (path, (off_t) (size - 3)), 0);

    sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, NULL);
    cr_assert_not_null (sp);
    sn_spool_stats_t st = s_stats (sp);
    uint8_t buf[400];
    cr_assert_eq (st.torn, 1u);
    cr_assert_eq (st.torn_bytes, 16 + s_payload (50, buf) - 3);
    cr_assert_eq (st.corrupt, 0u);
    cr_assert_eq (st.depth, 49u);
    cr_assert_eq (st.next_seq, 51u);  //  50 was handed out: never again
    s_expect (sp, 0, 1, 49, 0);
    s_append (sp, 1);
    sn_spool_destroy (&sp);

    //  Torn inside a record header this time (51 went to a new segment: 50 was skipped).
    s_segment_path (-1, path, sizeof path);
    size = s_file_size (path);
    cr_assert_eq (truncate (path, (off_t) (size - s_payload (51, buf) - 11)), 0);
    sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, NULL);
    st = s_stats (sp);
    cr_assert_eq (st.torn, 1u);
    cr_assert_eq (st.torn_bytes, 5u);
    cr_assert_eq (st.next_seq, 52u);
    s_expect (sp, 0, 1, 49, 0);
    sn_spool_destroy (&sp);

    //  Cut and synced: the next open finds nothing more to cut.
    sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, NULL);
    cr_assert_eq (s_stats (sp).torn, 0u);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_damaged_record_in_the_middle_is_skipped_counted_and_repaired)
{
    sn_spool_t *sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    s_append (sp, 200);
    sn_spool_destroy (&sp);
    cr_assert (s_count_segments () >= 4);

    //  A byte of the payload of the 3rd record of the 2nd segment.
    char path[128];
    s_segment_path (1, path, sizeof path);
    uint64_t name = strtoull (strrchr (path, '/') + 1, NULL, 10);
    uint8_t buf[400];
    uint64_t off = 16 + 16 + s_payload (name, buf) + 16 + s_payload (name + 1, buf);
    s_flip (path, off + 16 + 20);

    sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_not_null (sp);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.corrupt, 1u);
    cr_assert_eq (st.corrupt_events, 1u);
    cr_assert_eq (st.corrupt_bytes, 16 + s_payload (name + 2, buf));
    cr_assert_eq (st.torn, 0u);
    cr_assert_eq (st.next_seq, 201u);
    cr_assert_eq (st.depth, 199u);
    s_expect (sp, 0, 1, 200, name + 2);
    sn_spool_destroy (&sp);

    //  Repaired: the next open finds nothing, and reads the same.
    sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    st = s_stats (sp);
    cr_assert_eq (st.corrupt + st.torn, 0u);
    s_expect (sp, 0, 1, 200, name + 2);
    sn_spool_destroy (&sp);

    //  A damaged length field (the record cannot even be measured) and a damaged segment
    //  header: the records after them are still found.
    s_segment_path (3, path, sizeof path);
    name = strtoull (strrchr (path, '/') + 1, NULL, 10);
    s_flip (path, 16 + 16 + s_payload (name, buf) + 2);  //  len of record name + 1
    char head[128];
    s_segment_path (2, head, sizeof head);
    s_flip (head, 3);
    sp = s_open (1 << 20, 8192, SN_SPOOL_SYNC_NEVER, NULL);
    st = s_stats (sp);
    cr_assert_eq (st.corrupt, 2u);
    cr_assert_eq (st.corrupt_events, 1u);  //  the header hid no event
    cr_assert_eq (st.depth, 198u);
    cr_assert_eq (st.next_seq, 201u);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_repair_interrupted_by_a_crash_is_finished_at_the_next_open)
{
    //  One segment of 100 records with record 50 damaged, and the repair's new segment "51"
    //  already in place (written from the old tail) when the crash came, the old tail not
    //  yet cut: the records 51..100 exist twice on disk and must be read once.
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL);
    s_append (sp, 100);
    sn_spool_destroy (&sp);
    char path[128], copy[160];
    s_segment_path (0, path, sizeof path);
    uint8_t buf[400];
    uint64_t off = 16;
    for (uint64_t s = 1; s < 50; s++)
        off += 16 + s_payload (s, buf);
    uint64_t tail = off + 16 + s_payload (50, buf), size = s_file_size (path);
    s_flip (path, off + 16 + 30);
    snprintf (copy, sizeof copy, "%s/%020lu.seg", s_dir, 51ul);
    int in = open (path, O_RDONLY), out = open (copy, O_WRONLY | O_CREAT | O_EXCL, 0600);
    cr_assert (in >= 0 && out >= 0);
    uint8_t hdr[16] = "MMSPSEG1";
    uint64_t name = 51;
    memcpy (hdr + 8, &name, 8);  //  little-endian machine, as the test runs
    cr_assert_eq (write (out, hdr, 16), 16);
    static uint8_t rest[1 << 16];
    cr_assert (size - tail <= sizeof rest);
    cr_assert_eq (pread (in, rest, size - tail, (off_t) tail), (ssize_t) (size - tail));
    cr_assert_eq (write (out, rest, size - tail), (ssize_t) (size - tail));
    close (in);
    close (out);

    sp = s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_not_null (sp);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.depth, 99u);
    cr_assert_eq (st.next_seq, 101u);
    s_expect (sp, 0, 1, 100, 50);
    //  The old tail was cut: the first segment now ends before the damage.
    cr_assert_eq (s_file_size (path), off);
    sn_spool_destroy (&sp);
}

Test (sn_spool, damage_found_while_reading_is_skipped_and_counted)
{
    sn_spool_t *sp = s_open (1 << 20, 0, SN_SPOOL_SYNC_NEVER, NULL);
    s_append (sp, 100);
    char path[128];
    s_segment_path (-1, path, sizeof path);
    uint8_t buf[400];
    uint64_t off = 16;
    for (uint64_t s = 1; s < 40; s++)
        off += 16 + s_payload (s, buf);
    s_flip (path, off + 16 + 9);  //  record 40
    s_expect (sp, 0, 1, 100, 40);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.corrupt, 1u);
    cr_assert_eq (st.corrupt_events, 1u);
    sn_spool_destroy (&sp);
}

//  The child of the crash test: appends until killed, acking behind itself, and publishes
//  what it handed out and acked through shared memory.
typedef struct {
    volatile uint64_t handed;  //  highest seq whose append returned 0
    volatile uint64_t ack_done, ack_trying;
} s_shared_t;

static void
s_crash_child (s_shared_t *sh)
{
    sn_spool_t *sp = s_open (4 << 20, 16384, SN_SPOOL_SYNC_INTERVAL, NULL);
    if (!sp)
        _exit (2);
    uint8_t buf[400];
    while (true) {
        uint64_t seq = sn_spool_next_seq (sp);
        if (sn_spool_append (sp, seq, buf, s_payload (seq, buf)) != 0)
            _exit (3);
        sh->handed = seq;
        if (seq % 97 == 0 && seq > 300) {
            sh->ack_trying = seq - 300;
            if (sn_spool_ack (sp, seq - 300) != 0)
                _exit (4);
            sh->ack_done = seq - 300;
        }
    }
}

Test (sn_spool, kill_9_while_appending_loses_nothing_written)
{
    s_shared_t *sh =
        mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq (sh, MAP_FAILED);
    srand ((unsigned) time (NULL) ^ (unsigned) getpid ());
    uint64_t last_next = 1, torn = 0, opens = 0;
    for (int round = 0; round < 6; round++) {
        uint64_t start = sh->handed;
        pid_t pid = fork ();
        cr_assert (pid >= 0);
        if (pid == 0)
            s_crash_child (sh);
        //  Let it get going, then kill it at a random moment.
        for (int i = 0; i < 2000 && sh->handed == start; i++)
            usleep (1000);
        cr_assert_neq (sh->handed, start, "the child appended nothing");
        usleep ((useconds_t) (rand () % 150000));
        kill (pid, SIGKILL);
        int status;
        cr_assert_eq (waitpid (pid, &status, 0), pid);
        cr_assert (WIFSIGNALED (status), "child exited %d", WEXITSTATUS (status));

        //  Every other round the parent opens and closes cleanly; the others chain crashes.
        if (round % 2 == 1 && round != 5)
            continue;
        sn_spool_t *sp = s_open (4 << 20, 16384, SN_SPOOL_SYNC_INTERVAL, NULL);
        cr_assert_not_null (sp);
        sn_spool_stats_t st = s_stats (sp);
        uint64_t handed = sh->handed;
        cr_assert (st.next_seq > handed, "next %lu, handed out %lu", (unsigned long) st.next_seq,
                   (unsigned long) handed);
        cr_assert (st.next_seq <= handed + 2);  //  the record being written may be whole
        cr_assert (st.next_seq > last_next);
        cr_assert_eq (st.corrupt, 0u);
        cr_assert (st.torn <= 1);
        cr_assert (st.acked_seq >= sh->ack_done && st.acked_seq <= sh->ack_trying);
        cr_assert_eq (st.oldest_unacked, st.acked_seq + 1);
        cr_assert_eq (st.dropped, 0u);
        //  Contiguous from the first unacked to the last written, every payload intact.
        s_expect (sp, 0, st.acked_seq + 1, st.next_seq - 1, 0);
        cr_assert_eq (st.depth, st.next_seq - 1 - st.acked_seq);
        last_next = st.next_seq;
        torn += st.torn;
        opens++;
        sh->handed = st.next_seq - 1;
        sn_spool_destroy (&sp);
    }
    cr_log_info ("6 kills, %lu events, %lu torn tails in %lu recoveries",
                 (unsigned long) (last_next - 1), (unsigned long) torn, (unsigned long) opens);
    munmap (sh, sizeof *sh);
}

//  Appends n events in a child that then dies without closing (what a crash leaves).
static void
s_append_and_die (uint64_t n, const char *boot, sn_spool_sync_t sync)
{
    pid_t pid = fork ();
    cr_assert (pid >= 0);
    if (pid == 0) {
        sn_spool_t *sp = s_open (0, 0, sync, boot);
        if (!sp)
            _exit (2);
        uint8_t buf[400];
        for (uint64_t i = 0; i < n; i++) {
            uint64_t seq = sn_spool_next_seq (sp);
            if (sn_spool_append (sp, seq, buf, s_payload (seq, buf)) != 0)
                _exit (3);
        }
        _exit (0);
    }
    int status;
    cr_assert_eq (waitpid (pid, &status, 0), pid);
    cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

Test (sn_spool, after_a_power_cut_seqs_continue_past_the_reservation)
{
    //  A process crash (same boot): the kernel kept every byte, the log is exact, no gap.
    s_append_and_die (100, "boot-A", SN_SPOOL_SYNC_INTERVAL);
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, "boot-A");
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.next_seq, 101u);
    cr_assert_eq (st.gap_first + st.gap_last, 0u);
    sn_spool_destroy (&sp);

    //  A power cut: the unsynced tail (seqs 91..110) is gone from the disk. The spool comes
    //  back in another boot and must not hand 91..110 out again: the broker may have them.
    s_append_and_die (10, "boot-A", SN_SPOOL_SYNC_INTERVAL);
    char path[128];
    s_segment_path (-1, path, sizeof path);
    uint8_t buf[400];
    uint64_t off = 16;
    for (uint64_t s = 1; s < 91; s++)
        off += 16 + s_payload (s, buf);
    cr_assert_eq (truncate (path, (off_t) off), 0);
    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, "boot-B");
    st = s_stats (sp);
    cr_assert (st.next_seq > 110);
    cr_assert (st.next_seq <= 110 + SN_SPOOL_LEASE + 1);
    cr_assert_eq (st.gap_first, 91u);
    cr_assert_eq (st.gap_last, st.next_seq - 1);
    cr_assert_eq (st.depth, 90u);
    s_expect (sp, 0, 1, 90, 0);
    //  Appends continue after the gap, in a segment of their own.
    uint64_t next = st.next_seq;
    s_append (sp, 5);
    s_expect (sp, next, next, next + 4, 0);
    cr_assert_eq (sn_spool_ack (sp, 90), 0);
    cr_assert_eq (s_stats (sp).depth, 5u);
    cr_assert_eq (s_stats (sp).oldest_unacked, next);
    sn_spool_destroy (&sp);

    //  A clean close in between: no gap, whatever the boot.
    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, "boot-C");
    cr_assert_eq (sn_spool_next_seq (sp), next + 5);
    cr_assert_eq (s_stats (sp).gap_first, 0u);
    sn_spool_destroy (&sp);

    //  Policy always: the log is durable, a power cut leaves no gap.
    s_append_and_die (10, "boot-C", SN_SPOOL_SYNC_ALWAYS);
    sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, "boot-D");
    cr_assert_eq (sn_spool_next_seq (sp), next + 15);
    cr_assert_eq (s_stats (sp).gap_first, 0u);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_full_disk_fails_the_append_cleanly)
{
    //  RLIMIT_FSIZE stands in for a full file system: the write stops part-way, then fails.
    int fds[2];
    cr_assert_eq (pipe (fds), 0);
    pid_t pid = fork ();
    cr_assert (pid >= 0);
    if (pid == 0) {
        close (fds[0]);
        signal (SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = 50000, .rlim_max = RLIM_INFINITY};
        sn_spool_t *sp = s_open (4 << 20, 1 << 20, SN_SPOOL_SYNC_NEVER, NULL);
        if (!sp || setrlimit (RLIMIT_FSIZE, &rl) != 0)
            _exit (2);
        uint8_t buf[400];
        uint64_t seq;
        int rc;
        do {
            seq = sn_spool_next_seq (sp);
            rc = sn_spool_append (sp, seq, buf, s_payload (seq, buf));
        } while (rc == 0 && seq < 100000);
        int e = errno;
        sn_spool_stats_t st;
        sn_spool_stats (sp, &st);
        uint64_t out[4] = {seq, (uint64_t) e, st.write_errors, sn_spool_next_seq (sp)};
        if (write (fds[1], out, sizeof out) != sizeof out)
            _exit (3);
        _exit (rc == -1 ? 0 : 4);  //  no destroy: as if the sensor died of it
    }
    close (fds[1]);
    uint64_t out[4];
    cr_assert_eq (read (fds[0], out, sizeof out), (ssize_t) sizeof out);
    close (fds[0]);
    int status;
    cr_assert_eq (waitpid (pid, &status, 0), pid);
    cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "child status %d", status);
    cr_assert_eq (out[1], (uint64_t) EFBIG);
    cr_assert_eq (out[2], 1u);
    cr_assert_eq (out[3], out[0]);  //  the failed seq is still free

    sn_spool_t *sp = s_open (4 << 20, 1 << 20, SN_SPOOL_SYNC_NEVER, NULL);
    sn_spool_stats_t st = s_stats (sp);
    cr_assert_eq (st.torn + st.corrupt, 0u);  //  the part-written record was taken back
    cr_assert_eq (st.next_seq, out[0]);
    s_expect (sp, 0, 1, out[0] - 1, 0);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_second_open_is_refused)
{
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_not_null (sp);
    errno = 0;
    cr_assert_null (s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL));
    cr_assert_eq (errno, EBUSY);
    pid_t pid = fork ();
    if (pid == 0)
        _exit (s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL) == NULL && errno == EBUSY ? 0 : 1);
    int status;
    cr_assert_eq (waitpid (pid, &status, 0), pid);
    cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    sn_spool_destroy (&sp);
    sp = s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL);
    cr_assert_not_null (sp);
    sn_spool_destroy (&sp);
}

Test (sn_spool, bad_arguments_are_refused)
{
    sn_spool_opts_t o = {.segment_bytes = 100};
    errno = 0;
    cr_assert_null (sn_spool_new (s_dir, &o));
    cr_assert_eq (errno, EINVAL);
    o = (sn_spool_opts_t){.max_bytes = 1 << 20, .segment_bytes = 1 << 20};
    cr_assert_null (sn_spool_new (s_dir, &o));
    o = (sn_spool_opts_t){.sync = (sn_spool_sync_t) 7};
    cr_assert_null (sn_spool_new (s_dir, &o));
    cr_assert_null (sn_spool_new (NULL, NULL));

    sn_spool_t *sp = sn_spool_new (s_dir, NULL);
    cr_assert_not_null (sp);
    uint8_t buf[SN_SPOOL_RECORD_MAX + 1] = {0};
    errno = 0;
    cr_assert_eq (sn_spool_append (sp, 2, buf, 10), -1);
    cr_assert_eq (errno, EINVAL);
    cr_assert_eq (sn_spool_append (sp, 1, buf, 0), -1);
    cr_assert_eq (errno, EMSGSIZE);
    cr_assert_eq (sn_spool_append (sp, 1, buf, sizeof buf), -1);
    cr_assert_eq (errno, EMSGSIZE);
    cr_assert_eq (sn_spool_append (sp, 1, buf, sizeof buf - 1), 0);
    cr_assert_eq (sn_spool_next_seq (sp), 2u);
    sn_spool_destroy (&sp);

    sn_spool_sync_t s;
    cr_assert_eq (sn_spool_sync_parse ("always", &s), 0);
    cr_assert_eq (s, SN_SPOOL_SYNC_ALWAYS);
    cr_assert_eq (sn_spool_sync_parse ("never", &s), 0);
    cr_assert_str_eq (sn_spool_sync_name (s), "never");
    cr_assert_eq (sn_spool_sync_parse ("sometimes", &s), -1);
}

Test (sn_spool, fsync_policies_sync_when_they_say)
{
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_ALWAYS, NULL);
    uint64_t f0 = s_stats (sp).fsyncs;
    s_append (sp, 20);
    cr_assert_eq (s_stats (sp).fsyncs - f0, 20u);
    sn_spool_destroy (&sp);

    sp = s_open (0, 0, SN_SPOOL_SYNC_NEVER, NULL);
    f0 = s_stats (sp).fsyncs;
    s_append (sp, 2000);
    cr_assert_eq (sn_spool_ack (sp, 1000), 0);
    cr_assert_eq (sn_spool_tick (sp), 0);
    cr_assert_eq (s_stats (sp).fsyncs, f0);
    sn_spool_destroy (&sp);

    sn_spool_opts_t o = {
        .sync = SN_SPOOL_SYNC_INTERVAL, .sync_interval_ms = 100, .boot_id = "boot-test"};
    sp = sn_spool_new (s_dir, &o);
    f0 = s_stats (sp).fsyncs;
    s_append (sp, 10);
    cr_assert_eq (sn_spool_tick (sp), 0);
    cr_assert_eq (s_stats (sp).fsyncs, f0);  //  not due yet
    usleep (120000);
    cr_assert_eq (sn_spool_tick (sp), 0);
    cr_assert_eq (s_stats (sp).fsyncs, f0 + 1);
    cr_assert_eq (sn_spool_tick (sp), 0);
    cr_assert_eq (s_stats (sp).fsyncs, f0 + 1);  //  nothing new to sync
    usleep (120000);
    s_append (sp, 1);  //  an append past the interval syncs by itself
    cr_assert_eq (s_stats (sp).fsyncs, f0 + 2);
    cr_assert_eq (s_stats (sp).sync_errors, 0u);
    sn_spool_destroy (&sp);
}

Test (sn_spool, a_damaged_state_slot_falls_back_to_the_other)
{
    sn_spool_t *sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    s_append (sp, 10);
    cr_assert_eq (sn_spool_ack (sp, 5), 0);
    sn_spool_destroy (&sp);
    char meta[128];
    snprintf (meta, sizeof meta, "%s/spool.meta", s_dir);
    //  Damage whichever slot the close wrote last: the older one is from the open (ack 0).
    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    sn_spool_destroy (&sp);
    s_flip (meta, 20);
    s_flip (meta, 4096 + 20);
    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    sn_spool_stats_t st = s_stats (sp);
    //  Both slots damaged: counted; seqs come from the log, the ack is lost (retransmission).
    cr_assert_eq (st.corrupt, 1u);
    cr_assert_eq (st.next_seq, 11u);
    cr_assert_eq (st.acked_seq, 0u);
    cr_assert_eq (st.depth, 10u);
    cr_assert_eq (sn_spool_ack (sp, 5), 0);
    sn_spool_destroy (&sp);

    //  One slot damaged: the other one is used.
    s_flip (meta, 20);
    sp = s_open (0, 0, SN_SPOOL_SYNC_INTERVAL, NULL);
    st = s_stats (sp);
    cr_assert_eq (st.next_seq, 11u);
    cr_assert_eq (st.corrupt, 0u);
    cr_assert (st.acked_seq == 5 || st.acked_seq == 0);
    sn_spool_destroy (&sp);
}
