/*  fuzz_wlstore: libFuzzer target for the sensor's watchlist store file (sensor/sn_wlstore).
    The input is the file as found at start (after a crash, damage, anything): opening it must
    replay its valid prefix, cut the rest, and leave a file that takes a new record and replays
    exactly one more message than before. A small bound makes appends compact now and then
    (compaction must succeed and leave a file that opens). Aborts with a message when a
    promise is broken. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_wlstore.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_dir[64];
static char s_path[128];

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

//  The scratch directory goes when the fuzzer exits (normally or at -max_total_time).
static void
s_cleanup (void)
{
    char tmp[160];
    snprintf (tmp, sizeof tmp, "%s.tmp", s_path);
    unlink (tmp);
    unlink (s_path);
    rmdir (s_dir);
}

static void
s_count (void *arg, const mm_watchlist_t *wl)
{
    s_check (wl->n_entries <= MM_WATCHLIST_MAX, "a replayed list holds at most 256 entries");
    (*(uint64_t *) arg)++;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (!s_dir[0]) {
        //  On tmpfs when there is one: the store syncs every append, which a disk makes slow.
        snprintf (s_dir, sizeof s_dir, "/dev/shm/mm-fuzz-wlstore-XXXXXX");
        if (!mkdtemp (s_dir)) {
            snprintf (s_dir, sizeof s_dir, "/tmp/mm-fuzz-wlstore-XXXXXX");
            s_check (mkdtemp (s_dir) != NULL, "a scratch directory");
        }
        snprintf (s_path, sizeof s_path, "%s/%s", s_dir, SN_WLSTORE_FILE);
        atexit (s_cleanup);
    }
    int fd = open (s_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    s_check (fd >= 0 && (size == 0 || write (fd, data, size) == (ssize_t) size), "write input");
    close (fd);

    char err[256];
    uint64_t first = 0;
    sn_wlstore_t *st = sn_wlstore_new (s_dir, 4096, s_count, &first, err, sizeof err);
    s_check (st != NULL, "any file content opens (a bad tail is cut)");
    sn_wlstore_stats_t ss;
    sn_wlstore_stats (st, &ss);
    s_check (ss.replayed == first, "replayed counts what was handed over");
    s_check (ss.bytes <= size, "the valid prefix is inside the input");
    struct stat sb;
    s_check (stat (s_path, &sb) == 0 && (uint64_t) sb.st_size == ss.bytes,
             "the file is cut to its valid prefix");

    static mm_watchlist_t wl;
    memset (&wl, 0, sizeof wl);
    wl.ts = 1;
    wl.serial = 1;
    wl.n_entries = 1;
    wl.entries[0] =
        (mm_wl_entry_t){.op = MM_WL_ADD, .type = MM_IOC_DOMAIN, .value = mm_str ("evil.example")};
    s_check (sn_wlstore_append (st, &wl) == 0, "an append after open succeeds");
    sn_wlstore_stats (st, &ss);
    bool compacted = ss.compactions > 0;
    sn_wlstore_destroy (&st);

    uint64_t second = 0;
    st = sn_wlstore_new (s_dir, 4096, s_count, &second, err, sizeof err);
    s_check (st != NULL, "the file opens again");
    sn_wlstore_stats (st, &ss);
    s_check (ss.torn == 0, "nothing to cut after our own writes");
    if (!compacted)
        s_check (second == first + 1, "one more message replays after the append");
    else
        s_check (second >= 1, "a compacted file replays the entries in force");
    sn_wlstore_destroy (&st);
    return 0;
}
