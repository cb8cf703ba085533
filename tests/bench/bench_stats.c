/*  bench_stats: the statistics' goal of issue 7 (ops/bench stats): a weekly table over
    10,000,000 findings in under 10 s, memory bounded by the number of cells, not findings.
    A store is filled with a week of finding records as ag_lateral writes them (1,000
    companies of 2 providers in all 8 regions and 20 industries, one sensor each, network and
    endpoint alternating; 11 categories drawn unevenly, 5 severities, 5 % notified), not timed.
    Then, best of 3, timed: the reference, a plain scan of the same records through ag_store
    (what reading the store costs at least), beside mimamori-stats' work: st_source_read into
    st_table, st_table_publish with the default rules, every row rendered as JSON Lines and
    CSV. Peak RSS is reset before each (/proc/self/clear_refs) and read after; the table's own
    bytes are reported for the full week and for a tenth of it.
    Usage: bench_stats [--findings N] [--dir DIR] [--keep]. Owner: tests/bench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mm_period.h"
#include "ag_registry.h"
#include "ag_store.h"
#include "st_output.h"
#include "st_source.h"
#include "st_table.h"

#define S_NS 1000000000ull
#define S_ORGS 1000
#define S_BATCH 50000

static uint64_t
s_mono_ns (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * S_NS + (uint64_t) t.tv_nsec;
}

static double
s_cpu (void)
{
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 +
           (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

static long
s_vm_kb (const char *field)
{
    char line[256];
    FILE *f = fopen ("/proc/self/status", "r");
    long kb = -1;
    size_t n = strlen (field);
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, field, n) == 0 && line[n] == ':') {
            kb = strtol (line + n + 1, NULL, 10);
            break;
        }
    if (f)
        fclose (f);
    return kb;
}

//  Resets the peak RSS (Linux 4.0+): what follows is measured from the current size.
static void
s_reset_peak (void)
{
    FILE *f = fopen ("/proc/self/clear_refs", "w");
    if (f) {
        fputs ("5", f);
        fclose (f);
    }
}

static uint64_t s_seed = 0x9e3779b97f4a7c15ull;

static uint64_t
s_rand (void)
{
    s_seed ^= s_seed << 13;
    s_seed ^= s_seed >> 7;
    s_seed ^= s_seed << 17;
    return s_seed;
}

static int
s_write_registry (const char *path)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fprintf (f, "provider p-east name=\"East\"\nprovider p-west name=\"West\"\n");
    for (int i = 0; i < S_ORGS; i++)
        fprintf (f, "org o-%04d provider=%s pref=%d industry=%c size=small\n", i,
                 i % 2 ? "p-west" : "p-east", 1 + i % 47, 'A' + (i / 47) % 20);
    for (int i = 0; i < S_ORGS; i++)
        fprintf (f, "sensor s-%04d org=o-%04d type=%s\n", i, i,
                 (i / 2) % 2 ? "endpoint" : "network");
    return fclose (f);
}

//  N finding records spread over the week from `from`.
static int
s_fill (ag_store_t *st, long n, uint64_t from)
{
    static ag_store_put_t puts[S_BATCH];
    static uint8_t keys[S_BATCH][32], vals[S_BATCH][32];
    uint64_t step = 7 * 86400 * S_NS / (uint64_t) n;
    for (long done = 0; done < n;) {
        size_t b = 0;
        for (; b < S_BATCH && done < n; b++, done++) {
            uint64_t ts = from + (uint64_t) done * step, r = s_rand ();
            int org = (int) (r % S_ORGS);
            uint8_t *k = keys[b], *v = vals[b];
            for (int i = 0; i < 8; i++)
                k[i] = (uint8_t) (ts >> (56 - 8 * i));
            k[8] = 6;
            snprintf ((char *) k + 9, 8, "s-%04d", org);
            for (int i = 0; i < 8; i++)
                k[15 + i] = (uint8_t) ((uint64_t) done >> (56 - 8 * i));
            v[0] = 7;
            memcpy (v + 1, "b-kanto", 7);
            for (int i = 0; i < 8; i++)
                v[8 + i] = (uint8_t) ((uint64_t) done >> (56 - 8 * i));
            //  Categories 1..11, the first ones more often; severities 2..5 (low..critical).
            uint8_t cat = (uint8_t) (1 + ((r >> 16) % 11) * ((r >> 24) % 3 == 0) +
                                     ((r >> 32) % 3) * ((r >> 24) % 3 != 0));
            uint8_t sev = (uint8_t) (2 + (r >> 40) % 4);
            uint32_t delay = (r >> 48) % 20 == 0 ? (uint32_t) (1 + (r >> 52) % 600) : 0;
            v[16] = 1, v[17] = cat, v[18] = sev;
            for (int i = 0; i < 4; i++)
                v[19 + i] = (uint8_t) (delay >> (24 - 8 * i));
            puts[b] = (ag_store_put_t){AG_KV_FINDING, k, 23, v, 23, 0};
        }
        if (ag_store_write (st, puts, b, NULL, 0) == -1)
            return -1;
    }
    return 0;
}

static int
s_count (void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
         uint64_t expires)
{
    (void) key, (void) val, (void) expires;
    uint64_t *n = (uint64_t *) arg;
    n[0]++;
    n[1] += klen + vlen;  //  touch what a reader would
    return 0;
}

typedef struct {
    st_meta_t meta;
    mm_buf_t jsonl, csv;
    size_t rows;
} s_out_t;

static int
s_row (void *arg, const st_row_t *row)
{
    s_out_t *o = (s_out_t *) arg;
    o->rows++;
    return st_jsonl_row (&o->meta, row, &o->jsonl) | st_csv_row (&o->meta, row, &o->csv);
}

typedef struct {
    double wall, cpu;
    long peak_kb, base_kb;
    size_t cells, table_bytes, rows;
    uint64_t added;
} s_run_t;

static int
s_stats (ag_store_t *st, const ag_registry_t *reg, uint64_t from, uint64_t to, s_run_t *r)
{
    st_rules_t rules;
    st_rules_default (&rules);
    s_reset_peak ();
    r->base_kb = s_vm_kb ("VmRSS");
    double c0 = s_cpu ();
    uint64_t t0 = s_mono_ns ();
    st_table_t *t = st_table_new ();
    st_source_stats_t ss;
    s_out_t out = {.meta = {"2026-W47", "week", "council", &rules}};
    int rc = t && st_source_read (st, reg, from, to, t, &ss) == 0 &&
                     st_table_publish (t, &rules, "2026-W47", s_row, &out) == 0
                 ? 0
                 : -1;
    r->wall = (double) (s_mono_ns () - t0) / 1e9;
    r->cpu = s_cpu () - c0;
    r->peak_kb = s_vm_kb ("VmHWM");
    r->cells = t ? st_table_cells (t) : 0;
    r->table_bytes = t ? st_table_memory (t) : 0;
    r->rows = out.rows;
    r->added = rc == 0 ? ss.added : 0;
    st_table_destroy (&t);
    mm_buf_free (&out.jsonl);
    mm_buf_free (&out.csv);
    return rc;
}

int
main (int argc, char **argv)
{
    long n = 10000000;
    const char *parent = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--findings") == 0 && i + 1 < argc)
            n = strtol (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--dir") == 0 && i + 1 < argc)
            parent = argv[++i];
        else if (strcmp (argv[i], "--keep") == 0)
            keep = 1;
        else {
            fprintf (stderr, "usage: bench_stats [--findings N] [--dir DIR] [--keep]\n");
            return 2;
        }
    }
    if (n < 1000) {
        fprintf (stderr, "bench_stats: at least 1000 findings\n");
        return 2;
    }
    char dir[4096], path[4200], err[4096];
    snprintf (dir, sizeof dir, "%s/mm-bench-stats-XXXXXX", parent);
    if (!mkdtemp (dir)) {
        perror ("bench_stats: mkdtemp");
        return 1;
    }
    snprintf (path, sizeof path, "%s/registry", dir);
    size_t n_errors;
    ag_registry_t *reg = NULL;
    if (s_write_registry (path) != 0 ||
        !(reg = ag_registry_load (path, err, sizeof err, &n_errors))) {
        fprintf (stderr, "bench_stats: registry: %s\n", err);
        return 1;
    }
    uint64_t from, to;
    const char *kind;
    mm_period_parse ("2026-W47", &from, &to, &kind);
    snprintf (path, sizeof path, "%s/store", dir);
    ag_store_t *st = ag_store_new (path, err, sizeof err);
    uint64_t t0 = s_mono_ns ();
    if (!st || s_fill (st, n, from) != 0) {
        fprintf (stderr, "bench_stats: fill: %s\n", st ? ag_store_error (st) : err);
        return 1;
    }
    //  A tenth of the findings again in the day before the week: the small run's table.
    ag_store_compact (st);
    ag_store_destroy (&st);
    printf ("bench_stats: %ld finding records of 1000 companies over 2026-W47 written in %.1f s "
            "(not timed); 2 cores\n",
            n, (double) (s_mono_ns () - t0) / 1e9);
    st = ag_store_open_readonly (path, err, sizeof err);
    if (!st) {
        fprintf (stderr, "bench_stats: %s\n", err);
        return 1;
    }
    double best_ref = 1e9, best = 1e9, ref_cpu = 0;
    s_run_t run = {0}, best_run = {0};
    uint64_t counted[2] = {0, 0};
    for (int rep = 0; rep < 3; rep++) {
        uint8_t lo[8], hi[8];
        for (int i = 0; i < 8; i++)
            lo[i] = (uint8_t) (from >> (56 - 8 * i)), hi[i] = (uint8_t) (to >> (56 - 8 * i));
        counted[0] = counted[1] = 0;
        double c0 = s_cpu ();
        uint64_t r0 = s_mono_ns ();
        if (ag_store_scan (st, AG_KV_FINDING, lo, 8, hi, 8, s_count, counted) < 0)
            return 1;
        double w = (double) (s_mono_ns () - r0) / 1e9;
        if (w < best_ref)
            best_ref = w, ref_cpu = s_cpu () - c0;
        if (s_stats (st, reg, from, to, &run) != 0) {
            fprintf (stderr, "bench_stats: the table failed\n");
            return 1;
        }
        if (run.wall < best)
            best = run.wall, best_run = run;
    }
    //  The same table over a tenth of the week: memory follows cells, not findings.
    s_run_t small;
    if (s_stats (st, reg, from, from + (to - from) / 10, &small) != 0)
        return 1;
    printf (
        "  reference, a plain scan of the week's records: %llu records in %.2f s (CPU %.2f s)\n",
        (unsigned long long) counted[0], best_ref, ref_cpu);
    printf ("  weekly table: %llu findings counted, %zu cells, %zu rows (JSON Lines and CSV) in "
            "%.2f s (CPU %.2f s); peak RSS %ld MB over a base of %ld MB; the table's own %zu KB\n",
            (unsigned long long) best_run.added, best_run.cells, best_run.rows, best, best_run.cpu,
            (best_run.peak_kb - best_run.base_kb) / 1024, best_run.base_kb / 1024,
            best_run.table_bytes / 1024);
    printf ("  a tenth of the week: %llu findings, %zu cells, the table's own %zu KB, peak RSS "
            "%ld MB over the base\n",
            (unsigned long long) small.added, small.cells, small.table_bytes / 1024,
            (small.peak_kb - small.base_kb) / 1024);
    printf (
        "\n| measure | figure | reference (same run) | ratio | goal |\n|---|---|---|---|---|\n");
    printf ("| weekly table over %ld findings (best of 3) | %.2f s | plain scan: %.2f s | %.2f | < "
            "10 s: "
            "%s |\n",
            n, best, best_ref, best / best_ref, best < 10 ? "**met**" : "**not met**");
    printf ("| memory: the table's own bytes, full week / a tenth | %zu KB / %zu KB (%zu / %zu "
            "cells) | | | bounded by cells |\n",
            best_run.table_bytes / 1024, small.table_bytes / 1024, best_run.cells, small.cells);
    ag_store_destroy (&st);
    ag_registry_destroy (&reg);
    if (!keep) {
        char cmd[4200];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system (cmd) != 0)
            fprintf (stderr, "bench_stats: could not remove %s\n", dir);
    }
    return best < 10 ? 0 : 1;
}
