/*  bench_proto: encode and decode 1,000,000 finding events, against msgpack-c itself measured in
    the same run as the reference: a hand-written packer of the same map (no schema, no checks)
    and msgpack_unpack_next (builds an object tree, validates nothing). Our figures are then
    read as ratios to those, since this machine is shared and absolute times drift.
    Usage: bench_proto [iterations] [repeats]. Prints a Markdown table row set. */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mm_sample.h"

static double
s_cpu_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  Keeps the optimizer from dropping work whose result is otherwise unused.
static volatile uint64_t s_sink;

static void
s_pack_str (msgpack_packer *pk, mm_str_t s)
{
    msgpack_pack_str (pk, s.len);
    msgpack_pack_str_body (pk, s.ptr, s.len);
}

//  The reference encoder: the same keys and values as mm_event_encode writes for the sample
//  finding, straight-line, with no presence logic and no limit checks. Not inlined, so
//  ops/bench can count its instructions with callgrind.
__attribute__ ((noinline)) static void
s_reference_pack (msgpack_packer *pk, const mm_event_t *ev)
{
    const mm_finding_t *f = &ev->finding;
    msgpack_pack_map (pk, 18);
    msgpack_pack_uint8 (pk, 0), msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 1), msgpack_pack_uint8 (pk, 1);
    msgpack_pack_uint8 (pk, 2), msgpack_pack_uint64 (pk, ev->ts);
    msgpack_pack_uint8 (pk, 3), s_pack_str (pk, ev->sensor);
    msgpack_pack_uint8 (pk, 4), s_pack_str (pk, ev->org);
    msgpack_pack_uint8 (pk, 5), msgpack_pack_uint64 (pk, ev->seq);
    msgpack_pack_uint8 (pk, 10), msgpack_pack_uint8 (pk, ev->kind);
    msgpack_pack_uint8 (pk, 11), msgpack_pack_uint8 (pk, ev->severity);
    msgpack_pack_uint8 (pk, 12), msgpack_pack_uint8 (pk, ev->confidence);
    msgpack_pack_uint8 (pk, 20), msgpack_pack_uint8 (pk, ev->proto);
    msgpack_pack_uint8 (pk, 21), msgpack_pack_bin (pk, 4), msgpack_pack_bin_body (pk, ev->src.b, 4);
    msgpack_pack_uint8 (pk, 22), msgpack_pack_uint16 (pk, ev->sport);
    msgpack_pack_uint8 (pk, 23), msgpack_pack_bin (pk, 4), msgpack_pack_bin_body (pk, ev->dst.b, 4);
    msgpack_pack_uint8 (pk, 24), msgpack_pack_uint16 (pk, ev->dport);
    msgpack_pack_uint8 (pk, 25), msgpack_pack_uint8 (pk, ev->direction);
    msgpack_pack_uint8 (pk, 26), s_pack_str (pk, ev->community_id);
    msgpack_pack_uint8 (pk, 27), msgpack_pack_uint64 (pk, ev->flow_id);
    msgpack_pack_uint8 (pk, 50), msgpack_pack_map (pk, 7);
    msgpack_pack_uint8 (pk, 1), s_pack_str (pk, f->detector);
    msgpack_pack_uint8 (pk, 2), msgpack_pack_uint16 (pk, f->detector_version);
    msgpack_pack_uint8 (pk, 3), msgpack_pack_uint8 (pk, f->category);
    msgpack_pack_uint8 (pk, 4), msgpack_pack_array (pk, f->n_attack);
    for (uint32_t i = 0; i < f->n_attack; i++)
        s_pack_str (pk, f->attack[i]);
    msgpack_pack_uint8 (pk, 5), s_pack_str (pk, f->message);
    msgpack_pack_uint8 (pk, 6), msgpack_pack_map (pk, 3);
    msgpack_pack_uint8 (pk, 1), msgpack_pack_uint8 (pk, f->ioc.type);
    msgpack_pack_uint8 (pk, 2), s_pack_str (pk, f->ioc.value);
    msgpack_pack_uint8 (pk, 3), s_pack_str (pk, f->ioc.feed);
    const mm_evidence_t *e = &f->evidence;
    msgpack_pack_uint8 (pk, 7), msgpack_pack_map (pk, 9);
    msgpack_pack_uint8 (pk, 1), msgpack_pack_uint64 (pk, e->count);
    msgpack_pack_uint8 (pk, 2), msgpack_pack_uint32 (pk, e->distinct_ports);
    msgpack_pack_uint8 (pk, 3), msgpack_pack_uint32 (pk, e->distinct_hosts);
    msgpack_pack_uint8 (pk, 4), msgpack_pack_uint32 (pk, e->window_s);
    msgpack_pack_uint8 (pk, 5), msgpack_pack_uint32 (pk, e->period_ms);
    msgpack_pack_uint8 (pk, 6), msgpack_pack_uint32 (pk, e->jitter_ms);
    msgpack_pack_uint8 (pk, 7), msgpack_pack_uint64 (pk, e->bytes);
    msgpack_pack_uint8 (pk, 8), msgpack_pack_uint64 (pk, e->first_ts);
    msgpack_pack_uint8 (pk, 9), msgpack_pack_uint64 (pk, e->last_ts);
}

typedef struct {
    const char *name;
    double best_s;  //  best of the repeats, CPU seconds
} s_result_t;

static void
s_report (const char *what, s_result_t ours, s_result_t ref, long n)
{
    double ours_rate = (double) n / ours.best_s, ref_rate = (double) n / ref.best_s;
    printf ("| %s | %.2f M/s | %.0f ns | %s: %.2f M/s | %.2f |\n", what, ours_rate / 1e6,
            ours.best_s / (double) n * 1e9, ref.name, ref_rate / 1e6, ours_rate / ref_rate);
}

//  A positive decimal count, the whole argument. 0 or -1.
static int
s_parse_count (const char *text, long *value)
{
    char *end;
    errno = 0;
    long v = strtol (text, &end, 10);
    if (errno || end == text || *end || v <= 0)
        return -1;
    *value = v;
    return 0;
}

int
main (int argc, char **argv)
{
    long n = 1000000, repeats = 5;
    if ((argc > 1 && s_parse_count (argv[1], &n) == -1) ||
        (argc > 2 && s_parse_count (argv[2], &repeats) == -1)) {
        fprintf (stderr, "usage: bench_proto [iterations > 0] [repeats > 0]\n");
        return 2;
    }
    mm_event_t ev, back;
    mm_sample_finding (&ev);
    mm_buf_t buf = MM_BUF_INIT;
    mm_error_t err;
    if (mm_event_encode (&ev, &buf, &err) == -1) {
        fprintf (stderr, "encode: %s\n", err.reason);
        return 1;
    }
    size_t size = buf.len;
    uint8_t *wire = malloc (size);
    if (!wire)
        return 1;
    memcpy (wire, buf.data, size);

    s_result_t enc = {"mimamori", 1e9}, enc_ref = {"msgpack-c pack", 1e9};
    s_result_t dec = {"mimamori", 1e9}, dec_ref = {"msgpack-c unpack", 1e9};
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);

    for (long r = 0; r < repeats; r++) {
        double t = s_cpu_seconds ();
        for (long i = 0; i < n; i++) {
            mm_buf_clear (&buf);
            ev.seq = (uint64_t) i + 1;
            if (mm_event_encode (&ev, &buf, &err) == -1)
                return 1;
            s_sink += buf.len;
        }
        t = s_cpu_seconds () - t;
        enc.best_s = t < enc.best_s ? t : enc.best_s;

        t = s_cpu_seconds ();
        for (long i = 0; i < n; i++) {
            msgpack_sbuffer_clear (&sbuf);
            ev.seq = (uint64_t) i + 1;
            s_reference_pack (&pk, &ev);
            s_sink += sbuf.size;
        }
        t = s_cpu_seconds () - t;
        enc_ref.best_s = t < enc_ref.best_s ? t : enc_ref.best_s;

        t = s_cpu_seconds ();
        for (long i = 0; i < n; i++) {
            if (mm_event_decode (&back, wire, size, &err) == -1)
                return 1;
            s_sink += back.finding.evidence.count;
        }
        t = s_cpu_seconds () - t;
        dec.best_s = t < dec.best_s ? t : dec.best_s;

        t = s_cpu_seconds ();
        for (long i = 0; i < n; i++) {
            size_t off = 0;
            if (msgpack_unpack_next (&up, (const char *) wire, size, &off) !=
                MSGPACK_UNPACK_SUCCESS)
                return 1;
            s_sink += up.data.via.map.size;
        }
        t = s_cpu_seconds () - t;
        dec_ref.best_s = t < dec_ref.best_s ? t : dec_ref.best_s;
    }
    printf ("finding event: %zu bytes on the wire; %ld operations x %ld repeats, best CPU time\n\n",
            size, n, repeats);
    printf ("| operation | mimamori | per op | reference (same run) | ratio |\n");
    printf ("|---|---|---|---|---|\n");
    s_report ("encode", enc, enc_ref, n);
    s_report ("decode + validate", dec, dec_ref, n);
    msgpack_unpacked_destroy (&up);
    msgpack_sbuffer_destroy (&sbuf);
    mm_buf_free (&buf);
    free (wire);
    return 0;
}
