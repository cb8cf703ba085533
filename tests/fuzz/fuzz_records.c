/*  fuzz_records: libFuzzer target for the record views tools read the aggregator's store with
    (ag_correlate_warning_view, ag_correlate_sight_view, ag_correlate_seen_view,
    ag_correlate_record_is_entry; `mimamori` runs them on whatever the store holds, damaged
    records included). The input is one record: u8 key length | key | value (seeds: query_fill
    ... seeds DIR). A view must refuse or fill its fields within bounds: every string terminated
    inside its buffer, counts within their limits. Aborts with a message when a promise is
    broken. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_correlate.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

static bool
s_terminated (const char *s, size_t size)
{
    return memchr (s, 0, size) != NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static ag_warning_view_t w;
    static ag_sight_view_t s;
    static ag_seen_view_t e;
    if (size < 1 || (size_t) data[0] + 1 > size)
        return 0;
    //  The views read straight from key and value: give each exactly its bytes, so ASan sees
    //  any read past the end.
    size_t klen = data[0], vlen = size - 1 - klen;
    uint8_t *key = (uint8_t *) malloc (klen ? klen : 1);
    uint8_t *val = (uint8_t *) malloc (vlen ? vlen : 1);
    if (!key || !val) {
        free (key);
        free (val);
        return 0;
    }
    memcpy (key, data + 1, klen);
    memcpy (val, data + 1 + klen, vlen);
    bool entry = ag_correlate_record_is_entry (key, klen);
    s_check (entry == (memchr (key, 0, klen) != NULL), "is_entry: a key with a NUL");
    if (ag_correlate_warning_view (val, vlen, &w) == 0) {
        s_check (s_terminated (w.id, sizeof w.id) &&
                     s_terminated (w.dedup_key, sizeof w.dedup_key) &&
                     s_terminated (w.sight_key, sizeof w.sight_key) &&
                     s_terminated (w.value, sizeof w.value),
                 "warning view: strings terminated");
        s_check (w.n_techniques <= MM_ATTACK_MAX, "warning view: techniques within MM_ATTACK_MAX");
        for (uint32_t i = 0; i < w.n_techniques; i++)
            s_check (s_terminated (w.techniques[i], sizeof w.techniques[i]),
                     "warning view: technique terminated");
        s_check (w.n_told <= w.n_recipients, "warning view: told <= recipients");
    }
    if (ag_correlate_sight_view (val, vlen, &s) == 0)
        s_check (s_terminated (s.value, sizeof s.value) && s_terminated (s.group, sizeof s.group),
                 "sight view: strings terminated");
    memset (&e, 0xa5, sizeof e);
    if (ag_correlate_seen_view (key, klen, val, vlen, &e) == 0) {
        s_check (entry, "seen view: only an entry's key");
        s_check (s_terminated (e.org, sizeof e.org) && s_terminated (e.sensor, sizeof e.sensor) &&
                     e.org[0] != '\0',
                 "seen view: org and sensor terminated, org named");
    }
    free (key);
    free (val);
    return 0;
}
