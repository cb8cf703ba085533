/*  fuzz_registry: libFuzzer target for the aggregator's registry parser (aggregator/
    ag_registry), a file operators edit by hand. Any text either loads or is refused with at
    least one error naming its line; what loads answers its queries within bounds; parsing
    the same text twice gives the same verdict. Aborts with a message when a promise is broken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_registry.h"

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
    static char err[8192];
    size_t n = 0, n2 = 0;
    ag_registry_t *r = ag_registry_parse ("f.reg", (const char *) data, size, err, sizeof err, &n);
    ag_registry_t *again =
        ag_registry_parse ("f.reg", (const char *) data, size, err, sizeof err, &n2);
    s_check ((r == NULL) == (again == NULL) && n == n2, "the same text, the same verdict");
    ag_registry_destroy (&again);
    if (!r) {
        s_check (n >= 1, "a refusal counts at least one error");
        s_check (strncmp (err, "f.reg:", 6) == 0, "an error names the file and its line");
        s_check (memchr (err, 0, sizeof err) != NULL, "the error text is terminated");
        return 0;
    }
    s_check (n == 0, "a loaded registry has no error");
    uint32_t out[64];
    for (size_t i = 0; i < ag_registry_orgs (r); i++) {
        const ag_org_t *o = ag_registry_org_at (r, i);
        s_check (o && o->provider < ag_registry_providers (r), "an org's provider exists");
        s_check (o->region > AG_REGION_NONE && o->region < AG_REGION_COUNT_, "a region");
        s_check (ag_registry_org_index (r, o->id) == (int32_t) i, "an org is found by its id");
        size_t k = ag_registry_customers (r, (uint32_t) i, out, 64);
        for (size_t j = 0; j < k && j < 64; j++)
            s_check (out[j] < ag_registry_orgs (r) && out[j] != i, "a customer is another org");
        k = ag_registry_org_chains (r, (uint32_t) i, out, 64);
        for (size_t j = 0; j < k && j < 64; j++)
            s_check (out[j] < ag_registry_chains (r), "a chain of an org exists");
    }
    for (size_t i = 0; i < ag_registry_edges (r); i++) {
        const ag_edge_t *g = ag_registry_edge_at (r, i);
        s_check (ag_registry_is_member (r, g->supplier, g->chain) &&
                     ag_registry_is_member (r, g->customer, g->chain),
                 "both ends of a link are members of its chain");
    }
    ag_registry_destroy (&r);
    return 0;
}
