/*  bench_ioc: the indicator matcher at the scale. Writes N mixed indicators (IPv4 and
    IPv6 addresses, networks of 15 prefix lengths, domains, URLs, JA3, JA4, certificate SHA-1)
    to a plain feed file, then measures: loading it (wall and CPU time, best of R), the bytes
    the set holds per indicator (counted by the set's allocator, and the heap growth as glibc
    sees it), and lookups per second for hits and misses of each kind. Deterministic input (a
    fixed xorshift seed). Usage: bench_ioc [N indicators] [R repeats] [feed path]. Prints
    Markdown for docs/performance.md. Owner: sensor. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sn_ioc.h"

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
s_rand (void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static double
s_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *const s_tlds[] = {"com", "net", "org", "info", "ru", "cn", "xyz", "top", "io"};
static const char *const s_words[] = {"update", "cdn",    "secure", "login", "mail",  "api",
                                      "static", "portal", "files",  "sync",  "track", "img"};

//  The k-th listed IPv4 address, spread over 1.0.0.0 - 222.255.255.255.
static uint32_t
s_ip4 (uint64_t k)
{
    return (uint32_t) ((k * 2654435761u) % (222u << 24)) + (1u << 24);
}

//  The network of the k-th line that lists one, of prefix length plen: inside 240.0.0.0/5,
//  which real traffic does not use, so that a sensor run with this feed (ops/bench) pays for
//  the lookups without turning every sixteenth flow into a finding.
static uint32_t
s_net4 (uint64_t k, unsigned plen)
{
    uint32_t a = 0xf0000000u | (uint32_t) ((k * 2654435761u) & 0x07ffffffu);
    return a & (uint32_t) (0xffffffffULL << (32 - plen));
}

static void
s_domain (char *out, size_t size, uint64_t k)
{
    snprintf (out, size, "%s%llu-%s.%s", s_words[k % 12], (unsigned long long) (k * 7919 % 1000003),
              s_words[(k / 12) % 12], s_tlds[k % 9]);
}

static void
s_hex (char *out, uint64_t a, uint64_t b, size_t digits)
{
    char tmp[64];
    snprintf (tmp, sizeof tmp, "%016llx%016llx%016llx", (unsigned long long) a,
              (unsigned long long) b, (unsigned long long) (a ^ b * 31));
    memcpy (out, tmp, digits);
    out[digits] = 0;
}

//  Writes n indicators, one per line, and fills counts by kind.
static int
s_write_feed (const char *path, uint64_t n, uint64_t *kinds)
{
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fprintf (f, "# bench_ioc: %llu mixed indicators\n", (unsigned long long) n);
    char line[256];
    for (uint64_t i = 0; i < n; i++) {
        unsigned pick = (unsigned) (i % 100);
        if (pick < 40) {  //  40 % IPv4
            uint32_t a = s_ip4 (i);
            snprintf (line, sizeof line, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                      a & 255);
            kinds[0]++;
        }
        else if (pick < 45) {  //  5 % IPv6
            snprintf (line, sizeof line, "2001:db8:%llx:%llx::%llx",
                      (unsigned long long) (i >> 16) & 0xffff, (unsigned long long) i & 0xffff,
                      (unsigned long long) (i * 31) & 0xffff);
            kinds[1]++;
        }
        else if (pick < 50) {  //  5 % IPv4 networks, /16 - /30, in 240.0.0.0/5
            unsigned plen = 16 + (unsigned) (i % 15);
            uint32_t a = s_net4 (i, plen);
            snprintf (line, sizeof line, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                      a & 255, plen);
            kinds[2]++;
        }
        else if (pick < 80) {  //  30 % domains
            s_domain (line, sizeof line, i);
            kinds[3]++;
        }
        else if (pick < 90) {  //  10 % URLs
            char d[128];
            s_domain (d, sizeof d, i);
            snprintf (line, sizeof line, "http://%s/%s/%llx.php?id=%llu", d, s_words[i % 12],
                      (unsigned long long) i, (unsigned long long) (i % 1000));
            kinds[4]++;
        }
        else if (pick < 95) {  //  5 % JA3
            s_hex (line, i * 0x9e3779b97f4a7c15ULL, i, 32);
            kinds[5]++;
        }
        else if (pick < 97) {  //  2 % JA4
            char a[16], b[16];
            s_hex (a, i, i * 77, 12);
            s_hex (b, i * 5, i, 12);
            snprintf (line, sizeof line, "t13d%02u%02uh2_%s_%s", (unsigned) (i % 90 + 10),
                      (unsigned) (i % 20 + 10), a, b);
            kinds[6]++;
        }
        else {  //  3 % certificate SHA-1
            s_hex (line, i * 0xc2b2ae3d27d4eb4fULL, ~i, 40);
            kinds[7]++;
        }
        if (fprintf (f, "%s\n", line) < 0) {
            fclose (f);
            return -1;
        }
    }
    return fclose (f);
}

//  Keeps the optimizer from dropping lookups.
static volatile uint64_t s_sink;

typedef struct {
    const char *what;
    uint64_t n, hits;
    double seconds;
} s_result_t;

static void
s_print (const s_result_t *r)
{
    printf ("| %s | %.2f M/s | %.0f ns | %llu of %llu |\n", r->what,
            (double) r->n / r->seconds / 1e6, r->seconds / (double) r->n * 1e9,
            (unsigned long long) r->hits, (unsigned long long) r->n);
}

int
main (int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull (argv[1], NULL, 10) : 1000000;
    long repeats = argc > 2 ? strtol (argv[2], NULL, 10) : 3;
    char path[256];
    snprintf (path, sizeof path, "%s", argc > 3 ? argv[3] : "/tmp/bench_ioc_feed.txt");
    if (n == 0 || repeats <= 0) {
        fprintf (stderr, "usage: bench_ioc [indicators > 0] [repeats > 0] [feed path]\n");
        return 2;
    }
    uint64_t kinds[8] = {0};
    if (s_write_feed (path, n, kinds) != 0) {
        fprintf (stderr, "bench_ioc: cannot write %s\n", path);
        return 1;
    }
    FILE *f = fopen (path, "r");
    fseek (f, 0, SEEK_END);
    long file_size = ftell (f);
    fclose (f);

    //  Load, best of `repeats` (the page cache is warm after the first).
    double best_wall = 1e9, best_cpu = 1e9;
    sn_ioc_t *set = NULL;
    sn_ioc_report_t rep;
    size_t heap_growth = 0;
    for (long r = 0; r < repeats; r++) {
        sn_ioc_destroy (&set);
        malloc_trim (0);
        struct mallinfo2 before = mallinfo2 ();
        set = sn_ioc_new (0);
        double w0 = s_wall (), c0 = s_cpu ();
        if (!set || sn_ioc_load_file (set, path, &rep) != 0) {
            fprintf (stderr, "bench_ioc: load failed: %s\n", rep.failure);
            return 1;
        }
        double w = s_wall () - w0, c = s_cpu () - c0;
        struct mallinfo2 after = mallinfo2 ();
        heap_growth = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
        if (w < best_wall)
            best_wall = w;
        if (c < best_cpu)
            best_cpu = c;
    }
    uint64_t size = sn_ioc_size (set), bytes = sn_ioc_memory (set);
    printf ("%llu indicators: %llu IPv4, %llu IPv6, %llu IPv4 networks (/16-/30), %llu domains, "
            "%llu URLs, %llu JA3, %llu JA4, %llu SHA-1; feed file %.1f MB\n\n",
            (unsigned long long) n, (unsigned long long) kinds[0], (unsigned long long) kinds[1],
            (unsigned long long) kinds[2], (unsigned long long) kinds[3],
            (unsigned long long) kinds[4], (unsigned long long) kinds[5],
            (unsigned long long) kinds[6], (unsigned long long) kinds[7], (double) file_size / 1e6);
    printf ("| measure | value |\n|---|---|\n");
    printf ("| load (best of %ld), wall | %.3f s (%.2f M indicators/s) |\n", repeats, best_wall,
            (double) n / best_wall / 1e6);
    printf ("| load, CPU | %.3f s |\n", best_cpu);
    printf ("| indicators held | %llu (duplicates %llu, bad lines %llu) |\n",
            (unsigned long long) size, (unsigned long long) rep.duplicates,
            (unsigned long long) rep.bad);
    printf ("| bytes held (set's own count) | %llu = %.1f bytes per indicator |\n",
            (unsigned long long) bytes, (double) bytes / (double) size);
    printf ("| heap growth (glibc mallinfo2) | %zu = %.1f bytes per indicator |\n\n", heap_growth,
            (double) heap_growth / (double) size);

    //  Lookups.
    const uint64_t q = 2000000;
    sn_ioc_match_t m;
    s_result_t res[8];
    int nr = 0;
    double t0;
    uint64_t hits;

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        uint64_t k = (i * 100) % (n - n % 100);  //  pick < 40: a listed IPv4
        uint32_t a = s_ip4 (k + (i % 40));
        mm_addr_t addr = {
            .len = 4,
            .b = {(uint8_t) (a >> 24), (uint8_t) (a >> 16), (uint8_t) (a >> 8), (uint8_t) a}};
        hits += sn_ioc_match_addr (set, &addr, 0, &m);
    }
    res[nr++] = (s_result_t){"IPv4 address, hit", q, hits, s_wall () - t0};

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        //  Random addresses: almost all miss, each after probing every network length held.
        uint32_t a = (uint32_t) s_rand ();
        mm_addr_t addr = {
            .len = 4,
            .b = {(uint8_t) (a >> 24), (uint8_t) (a >> 16), (uint8_t) (a >> 8), (uint8_t) a}};
        hits += sn_ioc_match_addr (set, &addr, 0, &m);
    }
    res[nr++] = (s_result_t){"IPv4 address, random (1 probe; 15 network lengths, filtered)", q,
                             hits, s_wall () - t0};

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        uint64_t k = (i * 100) % (n - n % 100) + 45 + i % 5;  //  a listed network
        unsigned plen = 16 + (unsigned) (k % 15);
        uint32_t a =
            s_net4 (k, plen) | ((uint32_t) s_rand () & (uint32_t) ((1ULL << (32 - plen)) - 1));
        mm_addr_t addr = {
            .len = 4,
            .b = {(uint8_t) (a >> 24), (uint8_t) (a >> 16), (uint8_t) (a >> 8), (uint8_t) a}};
        hits += sn_ioc_match_addr (set, &addr, 0, &m);
    }
    res[nr++] = (s_result_t){"IPv4 address in a listed network", q, hits, s_wall () - t0};

    char name[300];
    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        uint64_t k = (i * 100) % (n - n % 100) + 50 + i % 30;  //  a listed domain
        char d[128];
        s_domain (d, sizeof d, k);
        int len = snprintf (name, sizeof name, "www.%s", d);
        hits += sn_ioc_match_domain (set, name, (size_t) len, 0, &m);
    }
    res[nr++] = (s_result_t){"domain, hit on a subdomain (www.listed)", q, hits, s_wall () - t0};

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        int len = snprintf (name, sizeof name, "img%llu.static-%llu.example.com",
                            (unsigned long long) (s_rand () % 100000),
                            (unsigned long long) (s_rand () % 1000));
        hits += sn_ioc_match_domain (set, name, (size_t) len, 0, &m);
    }
    res[nr++] = (s_result_t){"domain, miss (4 labels: 4 probes)", q, hits, s_wall () - t0};

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        uint64_t k = (i * 100) % (n - n % 100) + 80 + i % 10;  //  a listed URL
        char d[128], uri[160];
        s_domain (d, sizeof d, k);
        int ul = snprintf (uri, sizeof uri, "/%s/%llx.php?id=%llu", s_words[k % 12],
                           (unsigned long long) k, (unsigned long long) (k % 1000));
        hits += sn_ioc_match_url (set, d, strlen (d), uri, (size_t) ul, 0, &m);
    }
    res[nr++] = (s_result_t){"URL, hit", q, hits, s_wall () - t0};

    hits = 0;
    t0 = s_wall ();
    uint8_t md5[16];
    for (uint64_t i = 0; i < q; i++) {
        uint64_t k = (i * 100) % (n - n % 100) + 90 + i % 5;  //  a listed JA3
        char hex[40];
        s_hex (hex, k * 0x9e3779b97f4a7c15ULL, k, 32);
        for (int j = 0; j < 16; j++) {
            unsigned v;
            sscanf (hex + 2 * j, "%2x", &v);
            md5[j] = (uint8_t) v;
        }
        hits += sn_ioc_match_ja3 (set, md5, 0, &m);
    }
    double parse_ja3 = s_wall () - t0;
    res[nr++] = (s_result_t){"JA3, hit (incl. hex decoding in the loop)", q, hits, parse_ja3};

    hits = 0;
    t0 = s_wall ();
    for (uint64_t i = 0; i < q; i++) {
        uint64_t r = s_rand ();
        memcpy (md5, &r, 8);
        memcpy (md5 + 8, &i, 8);
        hits += sn_ioc_match_ja3 (set, md5, 0, &m);
    }
    res[nr++] = (s_result_t){"JA3, miss", q, hits, s_wall () - t0};

    printf ("| lookup (%llu each) | lookups/s | per lookup | matched |\n|---|---|---|---|\n",
            (unsigned long long) q);
    for (int i = 0; i < nr; i++)
        s_print (&res[i]);
    s_sink = hits;
    sn_ioc_destroy (&set);
    if (argc <= 3)
        unlink (path);
    return 0;
}
