/*  fuzz_ioc: libFuzzer target for the indicator feed loaders (sensor/sn_ioc.c), which read
    files an operator downloads from the internet. The input is a whole feed file. Beyond "no
    crash, no sanitizer report, no leak" it checks what sn_ioc.h promises, and aborts with a
    message when a promise is broken:

      - the loader returns 0 or -1; -1 leaves nothing of the file in the set and says why;
        0 names the format;
      - the report adds up: a fresh set holds exactly the entries reported added, at most
        SN_IOC_ERRORS_MAX bad lines are quoted, each quote NUL-terminated within its buffer;
      - the same bytes load the same way into a second set (no hidden state), and copying the
        feed's entries into a third set copies every one of them;
      - every line, used as a lookup of every kind, neither crashes nor allocates.

    Seeds in tests/fuzz/corpus/ioc/ are small feeds in every format the loader recognises
    (plain lists, hosts files, CSV, nDPI JA3/SHA-1/categories/risky domains, Suricata iprep,
    datasets and datarep), good and bad lines mixed. Run it through ops/fuzz; reproduce a saved
    input with `fuzz_ioc <file>`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_ioc.h"

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

static void
s_lookups (const sn_ioc_t *set, const char *line, size_t n)
{
    static sn_ioc_match_t m;
    sn_ioc_match_text (set, 0, line, n, 0, &m);
    for (uint8_t type = MM_IOC_IP; type <= MM_IOC_SHA256; type++)
        sn_ioc_match_text (set, type, line, n, 1, &m);
    sn_ioc_match_domain (set, line, n, 0, &m);
    const char *slash = memchr (line, '/', n);
    size_t host = slash ? (size_t) (slash - line) : n;
    sn_ioc_match_url (set, line, host, line + host, n - host, 0, &m);
    sn_ioc_match_ja4 (set, line, n, 0, &m);
    if (n >= 20) {
        sn_ioc_match_ja3 (set, (const uint8_t *) line, 0, &m);
        sn_ioc_match_cert_sha1 (set, (const uint8_t *) line, 0, &m);
    }
    if (n >= 16) {
        mm_addr_t a = {.len = 16};
        memcpy (a.b, line, 16);
        sn_ioc_match_addr (set, &a, 0, &m);
        a.len = 4;
        sn_ioc_match_addr (set, &a, 0, &m);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    sn_ioc_t *a = sn_ioc_new (0), *b = sn_ioc_new (0), *c = sn_ioc_new (0);
    s_check (a && b && c, "a new set");
    static sn_ioc_report_t ra, rb;
    int rc = sn_ioc_load_buffer (a, "fuzz/feed.txt", text, size, &ra);
    s_check (rc == 0 || rc == -1, "the loader returns 0 or -1");
    s_check (ra.n_errors <= SN_IOC_ERRORS_MAX, "at most SN_IOC_ERRORS_MAX quoted");
    s_check (ra.n_errors <= ra.bad, "every quoted line is counted bad");
    for (uint32_t i = 0; i < ra.n_errors; i++)
        s_check (s_terminated (ra.errors[i], SN_IOC_ERROR_LEN) && ra.errors[i][0],
                 "a quoted bad line is a terminated, non-empty string");
    s_check (s_terminated (ra.failure, sizeof ra.failure), "the failure is terminated");
    if (rc == -1) {
        s_check (ra.failure[0] != 0, "a refusal says why");
        s_check (sn_ioc_size (a) == 0, "a refused file leaves nothing behind");
    }
    else {
        s_check (ra.failure[0] == 0, "an accepted file has no failure");
        s_check (ra.format != NULL, "an accepted file names its format");
        s_check (sn_ioc_size (a) == ra.added, "the set holds what was reported added");
    }

    int rc2 = sn_ioc_load_buffer (b, "fuzz/feed.txt", text, size, &rb);
    s_check (rc2 == rc && rb.added == ra.added && rb.bad == ra.bad &&
                 rb.duplicates == ra.duplicates && rb.skipped == ra.skipped &&
                 rb.lines == ra.lines && sn_ioc_size (b) == sn_ioc_size (a),
             "the same bytes load the same way twice");
    s_check (sn_ioc_copy_feed (c, a, "fuzz/feed.txt") == sn_ioc_size (a),
             "copying a feed copies all of it");

    //  Every line as a lookup of every kind, against a set holding the file.
    size_t at = 0;
    while (at < size) {
        const char *nl = memchr (text + at, '\n', size - at);
        size_t end = nl ? (size_t) (nl - text) : size;
        s_lookups (a, text + at, end - at);
        at = end + 1;
    }
    sn_ioc_destroy (&a);
    sn_ioc_destroy (&b);
    sn_ioc_destroy (&c);
    return 0;
}
