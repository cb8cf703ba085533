/*  fuzz_console: libFuzzer target for what the SOC console and the weekly report read: frames
    of the aggregator's console feed (ag_soc_take), statistics rows (ag_soc_take_stats) and
    timeline items from the store (ag_report_take), then both renderings. The input is split
    into chunks at 0xff 0x00 separators; a chunk's first byte chooses its reader. It must
    never read out of bounds, and the console's document must stay balanced JSON brackets
    outside strings, statistics rows included (ag_soc refuses a row that does not balance).
    Seeds: corpus/console (made by make_seeds). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag_registry.h"
#include "ag_report.h"
#include "ag_soc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char s_reg[] = "provider p name=\"P <&>\"\n"
                            "org org-0001 provider=p pref=13 industry=E size=small name=\"A\"\n"
                            "sensor s-kanto-0001 org=org-0001\n";

//  Brackets balance outside strings, and strings close: the page's JSON.parse would fail
//  otherwise.
static bool
s_balanced (const uint8_t *p, size_t n)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                in_str = false;
            else if (p[i] < 0x20)
                return false;  //  a raw control character inside a string
        }
        else if (p[i] == '"')
            in_str = true;
        else if (p[i] == '{' || p[i] == '[')
            depth++;
        else if (p[i] == '}' || p[i] == ']') {
            if (--depth < 0)
                return false;
        }
    }
    return depth == 0 && !in_str;
}

static bool
s_has_script (const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 7 <= n; i++)
        if (memcmp (p + i, "<script", 7) == 0)
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static ag_registry_t *reg;
    if (!reg) {
        char err[256];
        size_t n;
        reg = ag_registry_parse ("f.reg", s_reg, strlen (s_reg), err, sizeof err, &n);
        if (!reg)
            abort ();
    }
    ag_soc_t *soc = ag_soc_new (8);
    ag_report_t *rep = ag_report_new (reg, 0, "2026-W47", 1, UINT64_MAX / 2, UINT64_MAX / 4);
    if (!soc || !rep)
        abort ();
    bool took_stats = false;
    for (size_t at = 0; at < size;) {
        size_t end = at;
        while (end + 1 < size && !(data[end] == 0xff && data[end + 1] == 0x00))
            end++;
        if (end + 1 >= size)
            end = size;
        if (end > at) {
            //  Exactly the chunk's bytes, so ASan sees a read past its end.
            size_t n = end - at - 1;
            uint8_t *chunk = (uint8_t *) malloc (n ? n : 1);
            memcpy (chunk, data + at + 1, n);
            switch (data[at] % 4) {
            case 0: ag_soc_take (soc, chunk, n); break;
            case 1:
                took_stats = true;
                ag_soc_take_stats (soc, (const char *) chunk, n);
                break;
            case 2: ag_report_take (rep, 'F', chunk, n); break;
            default: ag_report_take (rep, 'W', chunk, n); break;
            }
            free (chunk);
        }
        at = end + 2;
    }
    mm_buf_t out = MM_BUF_INIT;
    //  Rows are checked for balance as they are taken, so the document must balance always.
    (void) took_stats;
    if (ag_soc_render (soc, "{}", 0, &out) == 0 && !s_balanced (out.data, out.len)) {
        fprintf (stderr, "INVARIANT VIOLATED: the console's document is not balanced JSON\n");
        abort ();
    }
    if (ag_report_html (rep, &out) == 0 && s_has_script (out.data, out.len)) {
        fprintf (stderr, "INVARIANT VIOLATED: markup from input in the report\n");
        abort ();
    }
    mm_buf_free (&out);
    ag_soc_destroy (&soc);
    ag_report_destroy (&rep);
    return 0;
}
