/*  fuzz_records: libFuzzer target for the record views tools read the aggregator's store with
    (ag_correlate_warning_view, ag_correlate_sight_view; `mimamori` runs them on whatever the
    store holds, damaged records included). The input is one record value. A view must refuse
    or fill its fields within bounds: every string terminated inside its buffer, counts within
    their limits. Aborts with a message when a promise is broken. */
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
    static ag_seen_view_t seen[8];
    //  The views read straight from the value: give them exactly `size` bytes, so ASan sees
    //  any read past the end.
    uint8_t *copy = (uint8_t *) malloc (size ? size : 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    if (ag_correlate_warning_view (copy, size, &w) == 0) {
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
    memset (seen, 0xa5, sizeof seen);
    if (ag_correlate_sight_view (copy, size, &s, seen, 8) == 0) {
        s_check (s_terminated (s.value, sizeof s.value) && s_terminated (s.group, sizeof s.group),
                 "sight view: strings terminated");
        //  Each org takes at least 29 bytes, so a record cannot claim more than it holds.
        s_check ((uint64_t) s.n_seen * 29 <= size, "sight view: orgs fit the record");
        for (uint32_t i = 0; i < s.n_seen && i < 8; i++)
            s_check (s_terminated (seen[i].org, sizeof seen[i].org) &&
                         s_terminated (seen[i].sensor, sizeof seen[i].sensor),
                     "sight view: org and sensor terminated");
    }
    //  Without room for the orgs the view still parses the whole record.
    ag_correlate_sight_view (copy, size, &s, NULL, 0);
    free (copy);
    return 0;
}
