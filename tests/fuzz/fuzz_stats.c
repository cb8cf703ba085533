/*  fuzz_stats: libFuzzer target for `mimamori-stats verify`, which reads published statistics
    from anywhere: st_verify_buffer over the input (JSON Lines or CSV, st_json inside). It must
    refuse or accept without reading out of bounds, and name a line when it refuses. Aborts
    with a message when a promise is broken. Seeds: a protected week in both formats. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_verify.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static st_policy_t policy;
    static bool ready;
    if (!ready) {
        st_policy_default (&policy);
        ready = true;
    }
    //  Exactly `size` bytes, so ASan sees any read past the end.
    char *copy = (char *) malloc (size ? size : 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    char err[512];
    size_t rows = 0;
    int rc = st_verify_buffer ("in", copy, size, &policy, &rows, err, sizeof err);
    if (rc == -1 && strncmp (err, "in:", 3) != 0) {
        fprintf (stderr, "INVARIANT VIOLATED: a refusal that names no line: %s\n", err);
        abort ();
    }
    if (rc == 0 && memchr (copy, '\0', size)) {
        fprintf (stderr, "INVARIANT VIOLATED: a NUL byte accepted\n");
        abort ();
    }
    free (copy);
    return 0;
}
