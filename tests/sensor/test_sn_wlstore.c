/*  sn_wlstore: what the sensor acknowledged survives its restart, a torn append is cut, and
    compaction keeps exactly the entries in force. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sn_wlstore.h"

static char s_dir[64];

static void
s_setup (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/mm-wlstore-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    cr_expect_eq (system (cmd), 0);
}

TestSuite (sn_wlstore, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  What replay hands over: serials in order, and the entries folded as the matcher would.
typedef struct {
    uint64_t serials[64];
    int n;
    char in_force[64][32];  //  "value" of entries added and not revoked, by value
    int n_force;
} s_seen_t;

static void
s_drop (s_seen_t *s, const char *value)
{
    for (int i = 0; i < s->n_force; i++)
        if (strcmp (s->in_force[i], value) == 0) {
            memmove (s->in_force[i], s->in_force[i + 1], (size_t) (s->n_force - i - 1) * 32);
            s->n_force--;
            return;
        }
}

static void
s_collect (void *arg, const mm_watchlist_t *wl)
{
    s_seen_t *s = arg;
    if (s->n < 64)
        s->serials[s->n++] = wl->serial;
    for (uint32_t i = 0; i < wl->n_entries; i++) {
        char v[32];
        snprintf (v, sizeof v, "%.*s", (int) wl->entries[i].value.len, wl->entries[i].value.ptr);
        s_drop (s, v);
        if (wl->entries[i].op == MM_WL_ADD && s->n_force < 64)
            snprintf (s->in_force[s->n_force++], 32, "%s", v);
    }
}

static bool
s_has (const s_seen_t *s, const char *value)
{
    for (int i = 0; i < s->n_force; i++)
        if (strcmp (s->in_force[i], value) == 0)
            return true;
    return false;
}

//  A list of `n` entries named PREFIX-0.. with op `op`.
static void
s_list (mm_watchlist_t *wl, uint64_t serial, uint8_t op, const char *prefix, int n,
        char names[][32])
{
    memset (wl, 0, sizeof *wl);
    wl->ts = 1000 + serial;
    wl->serial = serial;
    for (int i = 0; i < n; i++) {
        snprintf (names[i], 32, "%s-%d.example", prefix, i);
        wl->entries[i] = (mm_wl_entry_t){.op = op,
                                         .type = MM_IOC_DOMAIN,
                                         .value = mm_str (names[i]),
                                         .category = MM_CAT_C2_BEACON,
                                         .severity = MM_SEV_HIGH,
                                         .feed = mm_str ("lateral")};
    }
    wl->n_entries = (uint32_t) n;
}

Test (sn_wlstore, survives_a_restart_in_order)
{
    static mm_watchlist_t wl;
    char names[8][32], err[256];
    sn_wlstore_t *st = sn_wlstore_new (s_dir, 0, NULL, NULL, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    for (uint64_t serial = 1; serial <= 3; serial++) {
        s_list (&wl, serial, MM_WL_ADD, serial == 2 ? "b" : "a", 2, names);
        cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    }
    sn_wlstore_destroy (&st);
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, SN_WLSTORE_FILE);
    struct stat sb;
    cr_assert_eq (stat (path, &sb), 0);
    cr_expect_eq (sb.st_mode & 0777, 0600);
    s_seen_t seen = {0};
    st = sn_wlstore_new (s_dir, 0, s_collect, &seen, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect_eq (seen.n, 3);
    for (int i = 0; i < 3; i++)
        cr_expect_eq (seen.serials[i], (uint64_t) i + 1);
    cr_expect (s_has (&seen, "a-1.example") && s_has (&seen, "b-0.example"));
    sn_wlstore_stats_t ss;
    sn_wlstore_stats (st, &ss);
    cr_expect_eq (ss.replayed, 3);
    cr_expect_eq (ss.torn, 0);
    sn_wlstore_destroy (&st);
}

Test (sn_wlstore, torn_tail_is_cut_and_appending_goes_on)
{
    static mm_watchlist_t wl;
    char names[8][32], err[256];
    sn_wlstore_t *st = sn_wlstore_new (s_dir, 0, NULL, NULL, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    s_list (&wl, 1, MM_WL_ADD, "a", 3, names);
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    sn_wlstore_destroy (&st);
    //  Half a record: a crash in the middle of an append.
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, SN_WLSTORE_FILE);
    int fd = open (path, O_WRONLY | O_APPEND);
    cr_assert_geq (fd, 0);
    const uint8_t half[] = {200, 0, 0, 0, 1, 2, 3, 4, 0x85, 0x00};
    cr_assert_eq (write (fd, half, sizeof half), (ssize_t) sizeof half);
    close (fd);
    s_seen_t seen = {0};
    st = sn_wlstore_new (s_dir, 0, s_collect, &seen, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect_eq (seen.n, 1);
    sn_wlstore_stats_t ss;
    sn_wlstore_stats (st, &ss);
    cr_expect_eq (ss.torn, 1);
    s_list (&wl, 2, MM_WL_ADD, "b", 1, names);
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    sn_wlstore_destroy (&st);
    memset (&seen, 0, sizeof seen);
    st = sn_wlstore_new (s_dir, 0, s_collect, &seen, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect_eq (seen.n, 2, "the record after the cut must be readable");
    cr_expect (s_has (&seen, "b-0.example"));
    sn_wlstore_destroy (&st);
}

Test (sn_wlstore, compaction_keeps_exactly_what_is_in_force)
{
    static mm_watchlist_t wl;
    char names[16][32], err[256];
    sn_wlstore_t *st = sn_wlstore_new (s_dir, 1500, NULL, NULL, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    //  Serial 1 adds a-0..a-9; serial 2 revokes a-0..a-4; serial 3 adds b-0 expiring before
    //  serial 4's time; serial 4 adds c-0..c-1; then enough repeats of c to pass the bound.
    s_list (&wl, 1, MM_WL_ADD, "a", 10, names);
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 2, MM_WL_REVOKE, "a", 5, names);
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 3, MM_WL_ADD, "b", 1, names);
    wl.entries[0].expires = 1003;  //  <= the newest list's ts (1000 + serial)
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    for (uint64_t serial = 4; serial < 30; serial++) {
        s_list (&wl, serial, MM_WL_ADD, "c", 2, names);
        cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    }
    sn_wlstore_stats_t ss;
    sn_wlstore_stats (st, &ss);
    cr_assert_geq (ss.compactions, 1);
    cr_expect_lt (ss.bytes, 3000, "the file did not shrink: %llu bytes",
                  (unsigned long long) ss.bytes);
    sn_wlstore_destroy (&st);
    s_seen_t seen = {0};
    st = sn_wlstore_new (s_dir, 1500, s_collect, &seen, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect_eq (seen.n_force, 7, "a-5..a-9 and c-0..c-1: got %d", seen.n_force);
    for (int i = 0; i < 5; i++) {
        char v[32];
        snprintf (v, sizeof v, "a-%d.example", i);
        cr_expect (!s_has (&seen, v), "%s was revoked", v);
        snprintf (v, sizeof v, "a-%d.example", i + 5);
        cr_expect (s_has (&seen, v), "%s is in force", v);
    }
    cr_expect (!s_has (&seen, "b-0.example"), "b-0 expired");
    cr_expect (s_has (&seen, "c-0.example") && s_has (&seen, "c-1.example"));
    //  The serial carried over is the newest: a replayed matcher refuses older lists.
    cr_expect_eq (seen.serials[seen.n - 1], 29);
    sn_wlstore_destroy (&st);
}

//  Compaction folds as the matcher does: a value pushed first by another feed keeps its entry
//  through this feed's push and revocation; a revocation naming no feed removes any entry.
Test (sn_wlstore, compaction_keeps_another_feeds_entry)
{
    static mm_watchlist_t wl;
    char names[16][32], err[256];
    sn_wlstore_t *st = sn_wlstore_new (s_dir, 1500, NULL, NULL, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    s_list (&wl, 1, MM_WL_ADD, "v", 2, names);
    wl.entries[0].feed = mm_str ("ops");  //  v-0 by the operators' list, v-1 by lateral
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 2, MM_WL_ADD, "v", 2, names);  //  both again by lateral
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 3, MM_WL_REVOKE, "v", 2, names);  //  lateral takes both back
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 4, MM_WL_ADD, "w", 1, names);
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    s_list (&wl, 5, MM_WL_REVOKE, "w", 1, names);
    wl.entries[0].feed = mm_str ("");  //  no feed named: whatever pushed it
    cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    for (uint64_t serial = 6; serial < 30; serial++) {
        s_list (&wl, serial, MM_WL_ADD, "c", 2, names);
        cr_assert_eq (sn_wlstore_append (st, &wl), 0);
    }
    sn_wlstore_stats_t ss;
    sn_wlstore_stats (st, &ss);
    cr_assert_geq (ss.compactions, 1);
    sn_wlstore_destroy (&st);
    s_seen_t seen = {0};
    st = sn_wlstore_new (s_dir, 1500, s_collect, &seen, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    cr_expect (s_has (&seen, "v-0.example"), "the operators' entry survives lateral's revoke");
    cr_expect (!s_has (&seen, "v-1.example"), "lateral's own entry is revoked");
    cr_expect (!s_has (&seen, "w-0.example"), "a revocation naming no feed removes it");
    cr_expect_eq (seen.n_force, 3, "v-0, c-0, c-1: got %d", seen.n_force);
    sn_wlstore_destroy (&st);
}
