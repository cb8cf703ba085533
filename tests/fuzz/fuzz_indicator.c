/*  fuzz_indicator: libFuzzer target for indicator normal forms and groups (aggregator/
    ag_indicator), fed with values sensors send (untrusted). The first byte picks the type, the
    rest is the value. A normal form is a fixpoint (normalising it again changes nothing), and
    grouping it never fails for an address. Aborts with a message when a promise is broken. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_indicator.h"
#include "mm_proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static ag_psl_t *s_psl;

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
    if (!s_psl) {
        const char *list = "com\njp\nco.jp\n*.kawasaki.jp\n!city.kawasaki.jp\nexample\n";
        char err[128];
        s_psl = ag_psl_parse (list, strlen (list), err, sizeof err);
        s_check (s_psl != NULL, "a list");
    }
    if (size == 0 || size > 600)
        return 0;
    uint8_t type = (uint8_t) (data[0] % 10);
    char value[601];
    memcpy (value, data + 1, size - 1);
    value[size - 1] = 0;
    static char norm[AG_INDICATOR_MAX], again[AG_INDICATOR_MAX], group[AG_INDICATOR_MAX];
    const char *why = NULL;
    if (ag_indicator_normalize (type, value, norm, sizeof norm, &why) == -1) {
        s_check (why && *why, "a refusal says why");
        return 0;
    }
    s_check (ag_indicator_normalize (type, norm, again, sizeof again, &why) == 0 &&
                 strcmp (norm, again) == 0,
             "a normal form is a fixpoint");
    int rc = ag_indicator_group (s_psl, type, norm, group, sizeof group);
    if (type == MM_IOC_IP)
        s_check (rc == 0 && strchr (group, '/'), "an address always has a /24 or /48 group");
    return 0;
}
