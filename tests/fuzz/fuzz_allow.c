/*  fuzz_allow: libFuzzer target for the allowlist gate (aggregator/ag_allow). List files come
    from operators and look-ups from sensors' findings (untrusted). The input's lines up to the
    first empty one are entries (ag_allow_add each); every later line is a look-up, its first
    byte picking the indicator type. The whole input is also loaded as a list file into a second
    gate. Promises checked: an accepted entry is allowlisted as itself under some type; a refused
    file adds nothing and says why; look-ups never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_allow.h"
#include "mm_proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    ag_allow_t *gate = ag_allow_new ();
    s_check (gate != NULL, "a gate");
    size_t builtin = ag_allow_entries (gate);

    static char line[8193];
    bool entries = true;
    size_t pos = 0;
    while (pos < size) {
        const uint8_t *nl = memchr (data + pos, '\n', size - pos);
        size_t n = nl ? (size_t) (nl - (data + pos)) : size - pos;
        memcpy (line, data + pos, n);
        line[n] = 0;
        pos += n + 1;
        if (n == 0) {
            entries = false;
            continue;
        }
        if (entries) {
            char why[512] = "";
            size_t before = ag_allow_entries (gate);
            if (ag_allow_add_why (gate, line, "fuzz", why, sizeof why) == 0) {
                s_check (ag_allow_entries (gate) <= before + 1, "one entry at most");
                //  An entry with an embedded NUL was cut there: check what was added.
                const uint8_t types[] = {MM_IOC_IP, MM_IOC_CIDR, MM_IOC_DOMAIN, MM_IOC_SHA256};
                bool found = false;
                for (size_t t = 0; t < sizeof types && !found; t++)
                    found = ag_allow_match (gate, types[t], line) != NULL;
                s_check (found, "an accepted entry is allowlisted as itself");
            }
            else
                s_check (why[0] != 0 && ag_allow_entries (gate) == before,
                         "a refusal says why and adds nothing");
        }
        else
            (void) ag_allow_match (gate, (uint8_t) (line[0] % 10), line + 1);
    }

    //  The whole input as one list file.
    ag_allow_t *file = ag_allow_new ();
    s_check (file != NULL, "a second gate");
    char err[4096];
    int rc =
        ag_allow_load_text (file, (const char *) data, size, "fuzz.list", "fuzz", err, sizeof err);
    if (rc == -1)
        s_check (err[0] != 0 && ag_allow_entries (file) == builtin,
                 "a refused file says why and adds nothing");
    else
        s_check (err[0] == 0 && ag_allow_entries (file) >= builtin, "a loaded file adds");
    ag_allow_destroy (&file);
    ag_allow_destroy (&gate);
    return 0;
}
