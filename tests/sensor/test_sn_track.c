/*  sn_track and sn_distinct: the bounded state every detector keeps. The point of both is that
    memory does not grow with what an attacker sends, so the tests flood them. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sn_distinct.h"
#include "sn_track.h"

typedef struct {
    uint64_t gone, recycled;
    uint32_t last_value;
} s_log_t;

static void
s_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) key;
    (void) key_len;
    s_log_t *log = arg;
    log->gone++;
    log->recycled += recycled;
    log->last_value = *(uint32_t *) value;
}

#define S_NS 1000000000ULL

Test (sn_track, get_creates_once_and_keeps_value)
{
    s_log_t log = {0};
    sn_track_t *t = sn_track_new (8, sizeof (uint32_t), 60 * S_NS, s_gone, &log);
    cr_assert_not_null (t);
    bool created;
    uint32_t *v = sn_track_get (t, "abc", 3, S_NS, &created);
    cr_assert (created);
    cr_assert_eq (*v, 0u);
    *v = 7;
    v = sn_track_get (t, "abc", 3, 2 * S_NS, &created);
    cr_assert_not (created);
    cr_assert_eq (*v, 7u);
    cr_assert_eq (*(uint32_t *) sn_track_find (t, "abc", 3), 7u);
    cr_assert_null (sn_track_find (t, "abd", 3));
    cr_assert_eq (sn_track_stats (t)->active, 1u);
    sn_track_destroy (&t);
    cr_assert_null (t);
    sn_track_destroy (&t);  //  idempotent
}

Test (sn_track, idle_entries_expire_oldest_first)
{
    s_log_t log = {0};
    sn_track_t *t = sn_track_new (8, sizeof (uint32_t), 10 * S_NS, s_gone, &log);
    *(uint32_t *) sn_track_get (t, "a", 1, 1 * S_NS, NULL) = 1;
    *(uint32_t *) sn_track_get (t, "b", 1, 5 * S_NS, NULL) = 2;
    sn_track_get (t, "a", 1, 6 * S_NS, NULL);  //  touched: now younger than b
    sn_track_expire (t, 15 * S_NS + 1);        //  b idle 10 s + 1 ns, a only 9 s
    cr_assert_eq (log.gone, 1u);
    cr_assert_eq (log.last_value, 2u);
    cr_assert_not_null (sn_track_find (t, "a", 1));
    sn_track_expire (t, 17 * S_NS);
    cr_assert_eq (log.gone, 2u);
    cr_assert_eq (sn_track_stats (t)->expired, 2u);
    cr_assert_eq (sn_track_stats (t)->active, 0u);
    sn_track_destroy (&t);
}

Test (sn_track, a_flood_recycles_the_least_recent_and_memory_stays_fixed)
{
    s_log_t log = {0};
    sn_track_t *t = sn_track_new (1024, sizeof (uint32_t), 3600 * S_NS, s_gone, &log);
    //  One long-lived key is touched all along; 100,000 one-off keys flood the table.
    for (uint32_t i = 0; i < 100000; i++) {
        *(uint32_t *) sn_track_get (t, "keep", 4, S_NS + i, NULL) += 1;
        uint32_t *v = sn_track_get (t, &i, sizeof i, S_NS + i, NULL);
        *v = i;
    }
    cr_assert_eq (sn_track_stats (t)->active, 1024u);
    cr_assert_eq (log.recycled, 100000u + 1 - 1024u);
    cr_assert_eq (*(uint32_t *) sn_track_find (t, "keep", 4), 100000u);
    uint32_t last = 99999;
    cr_assert_not_null (sn_track_find (t, &last, sizeof last));
    uint32_t first = 0;
    cr_assert_null (sn_track_find (t, &first, sizeof first));
    sn_track_flush (t);
    cr_assert_eq (sn_track_stats (t)->active, 0u);
    cr_assert_eq (log.gone, 100000u + 1);
    sn_track_destroy (&t);
}

Test (sn_track, remove_and_reuse)
{
    sn_track_t *t = sn_track_new (2, sizeof (uint32_t), 3600 * S_NS, NULL, NULL);
    sn_track_get (t, "x", 1, 1, NULL);
    sn_track_get (t, "y", 1, 1, NULL);
    sn_track_remove (t, "x", 1);
    cr_assert_null (sn_track_find (t, "x", 1));
    bool created;
    sn_track_get (t, "z", 1, 2, &created);
    cr_assert (created);
    cr_assert_not_null (sn_track_find (t, "y", 1));
    cr_assert_eq (sn_track_stats (t)->recycled, 0u);
    sn_track_destroy (&t);
}

Test (sn_track, address_keys_ignore_bytes_beyond_the_length)
{
    mm_addr_t a = {.len = 4, .b = {192, 0, 2, 1}}, b = a;
    b.b[10] = 0xff;  //  garbage past an IPv4 address must not split the key
    uint8_t ka[SN_TRACK_KEY_MAX], kb[SN_TRACK_KEY_MAX];
    size_t na = sn_track_key_pair (ka, &a, &a, 80), nb = sn_track_key_pair (kb, &b, &b, 80);
    cr_assert_eq (na, nb);
    cr_assert (memcmp (ka, kb, na) == 0);
    cr_assert_leq (na, (size_t) SN_TRACK_KEY_MAX);
}

Test (sn_distinct, exact_while_few)
{
    sn_distinct_t d;
    memset (&d, 0, sizeof d);
    for (uint16_t port = 1; port <= 15; port++) {
        cr_assert (sn_distinct_add (&d, sn_distinct_hash (&port, sizeof port)));
        cr_assert_not (sn_distinct_add (&d, sn_distinct_hash (&port, sizeof port)));
    }
    cr_assert_eq (sn_distinct_count (&d), 15u);
}

Test (sn_distinct, estimates_large_counts_within_a_few_percent)
{
    const uint32_t sizes[] = {100, 1000, 3000};
    for (size_t s = 0; s < 3; s++) {
        sn_distinct_t d;
        memset (&d, 0, sizeof d);
        for (uint32_t i = 0; i < sizes[s]; i++) {
            sn_distinct_add (&d, sn_distinct_hash (&i, sizeof i));
            sn_distinct_add (&d, sn_distinct_hash (&i, sizeof i));  //  repeats change nothing
        }
        double est = sn_distinct_count (&d);
        cr_assert (est > sizes[s] * 0.93 && est < sizes[s] * 1.07, "%u values: estimate %.0f",
                   sizes[s], est);
    }
    cr_assert_leq (sizeof (sn_distinct_t), 324u);
}

Test (sn_distinct, saturation_gives_a_floor_not_garbage)
{
    sn_distinct_t d;
    memset (&d, 0, sizeof d);
    for (uint32_t i = 0; i < 200000; i++)
        sn_distinct_add (&d, sn_distinct_hash (&i, sizeof i));
    uint32_t n = sn_distinct_count (&d);
    cr_assert (n >= 10000 && n <= 200000, "saturated estimate %u", n);
}

//  An entry touched "in the future" (the clock stepped back since) must not hold back the
//  expiry of every entry behind it.
Test (sn_track, a_future_touch_does_not_stop_expiry)
{
    s_log_t log = {0};
    sn_track_t *t = sn_track_new (8, sizeof (uint32_t), 10 * S_NS, s_gone, &log);
    *(uint32_t *) sn_track_get (t, "future", 6, 4000000000ULL * S_NS, NULL) = 1;
    *(uint32_t *) sn_track_get (t, "now", 3, 100 * S_NS, NULL) = 2;
    //  The future entry was re-stamped to the time of the next touch (100 s) and so expires
    //  with the other one, instead of holding it until 2096.
    sn_track_expire (t, 105 * S_NS);
    cr_assert_eq (log.gone, 0u);
    sn_track_expire (t, 111 * S_NS);
    cr_assert_eq (log.gone, 2u);
    cr_assert_null (sn_track_find (t, "now", 3));
    cr_assert_null (sn_track_find (t, "future", 6));
    sn_track_destroy (&t);
}
