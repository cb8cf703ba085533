/*  bench_store: the broker store's ingest rate (bk_store_put_events, every batch synced) for
    batches of 1, 10, 100 and 1000 events of 200 bytes, from 1 and from 10 sensors, beside the
    reference of transport.md 3.2 measured in the same run: plain RocksDB WriteBatches of the
    same size (8-byte key, 200-byte value, sync). Also the forward path: read + ack in windows.
    Usage: bench_store [events-per-run] [runs] [directory]. Owner: broker. */
#define _XOPEN_SOURCE 700  //  nftw
#include <ftw.h>
#include <inttypes.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bk_store.h"

#define EVENT_SIZE 200
#define RUNS_MAX 9

static const char *const sensors[10] = {"sensor-00", "sensor-01", "sensor-02", "sensor-03",
                                        "sensor-04", "sensor-05", "sensor-06", "sensor-07",
                                        "sensor-08", "sensor-09"};

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_rm (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static void
s_fill (uint8_t *out, uint64_t seed)
{
    uint64_t x = seed * UINT64_C (0x9E3779B97F4A7C15) + 1;
    for (int i = 0; i < EVENT_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (uint8_t) (x & 0x3f);  //  about as compressible as MessagePack events
    }
}

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp);
    return v[n / 2];
}

//  What a forwarder does with each event, minus the socket: touch the bytes.
static int
s_forward_nop (void *arg, uint64_t index, mm_str_t sensor, uint64_t seq, const uint8_t *data,
               size_t len)
{
    uint64_t *sum = arg;
    *sum += index + seq + sensor.len + (len ? data[0] : 0);
    return 0;
}

//  bk_store_put_events, `batch` events a call spread over `n_sensors`. Events/s, or -1.
static double
s_run_store (const char *dir, size_t total, size_t batch, int n_sensors, double *fwd_rate)
{
    char err[512];
    bk_store_t *store = bk_store_new (dir, NULL, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_store: %s\n", err);
        return -1;
    }
    bk_store_item_t *items = calloc (batch, sizeof *items);
    bk_store_ack_t *acks = calloc (batch, sizeof *acks);
    uint8_t *data = malloc (batch * EVENT_SIZE);
    uint64_t seq[10] = {0};
    double rate = -1;
    if (!items || !acks || !data)
        goto done;
    double t0 = s_now ();
    for (size_t done = 0; done < total; done += batch) {
        for (size_t i = 0; i < batch; i++) {
            int s = (int) (i % (size_t) n_sensors);
            s_fill (data + i * EVENT_SIZE, done + i);
            items[i] =
                (bk_store_item_t){mm_str (sensors[s]), ++seq[s], data + i * EVENT_SIZE, EVENT_SIZE};
        }
        size_t n_acks = 0;
        if (bk_store_put_events (store, items, batch, acks, batch, &n_acks) != 0) {
            fprintf (stderr, "bench_store: %s\n", bk_store_error (store));
            goto done;
        }
    }
    rate = (double) total / (s_now () - t0);

    //  The forward path: read windows of 1000 and acknowledge each (one sync per window).
    if (fwd_rate) {
        t0 = s_now ();
        uint64_t n = 0, sum = 0;
        for (;;) {
            uint64_t from = bk_store_forward_cursor (store) + 1;
            int got = bk_store_read_forward (store, from, 1000, s_forward_nop, &sum);
            if (got <= 0)
                break;
            n += (uint64_t) got;
            if (bk_store_ack_forward (store, from + (uint64_t) got - 1) != 0) {
                fprintf (stderr, "bench_store: %s\n", bk_store_error (store));
                break;
            }
        }
        *fwd_rate = (double) n / (s_now () - t0);
        if (n != total || sum == 0)
            fprintf (stderr, "bench_store: forwarded %" PRIu64 " of %zu events\n", n, total);
    }
done:
    free (items);
    free (acks);
    free (data);
    bk_store_destroy (&store);
    return rate;
}

//  The reference: plain RocksDB, one CF, WriteBatch of `batch` puts, sync. Events/s, or -1.
static double
s_run_raw (const char *dir, size_t total, size_t batch)
{
    rocksdb_options_t *opts = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (opts, 1);
    rocksdb_options_set_compression (opts, rocksdb_lz4_compression);
    rocksdb_options_increase_parallelism (opts, 2);
    char *err = NULL;
    rocksdb_t *db = rocksdb_open (opts, dir, &err);
    if (err) {
        fprintf (stderr, "bench_store: raw open: %s\n", err);
        rocksdb_free (err);
        rocksdb_options_destroy (opts);
        return -1;
    }
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (wo, 1);
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create ();
    uint8_t value[EVENT_SIZE];
    double rate = -1, t0 = s_now ();
    uint64_t key = 0;
    for (size_t done = 0; done < total; done += batch) {
        rocksdb_writebatch_clear (wb);
        for (size_t i = 0; i < batch; i++) {
            uint8_t k[8];
            key++;
            for (int b = 0; b < 8; b++)
                k[b] = (uint8_t) (key >> (56 - 8 * b));
            s_fill (value, done + i);
            rocksdb_writebatch_put (wb, (const char *) k, 8, (const char *) value, EVENT_SIZE);
        }
        rocksdb_write (db, wo, wb, &err);
        if (err) {
            fprintf (stderr, "bench_store: raw write: %s\n", err);
            rocksdb_free (err);
            goto done;
        }
    }
    rate = (double) total / (s_now () - t0);
done:
    rocksdb_writebatch_destroy (wb);
    rocksdb_writeoptions_destroy (wo);
    rocksdb_close (db);
    rocksdb_options_destroy (opts);
    return rate;
}

static int
s_fresh (char *dir, size_t size, const char *base)
{
    snprintf (dir, size, "%s/mm-bench-store-XXXXXX", base);
    return mkdtemp (dir) ? 0 : -1;
}

int
main (int argc, char **argv)
{
    size_t total = 200000;
    int runs = 3;
    const char *base = "/tmp";
    if (argc > 1) {
        char *end = NULL;
        unsigned long v = strtoul (argv[1], &end, 10);
        if (!end || *end || v < 1000) {
            fprintf (stderr, "usage: bench_store [events >= 1000] [runs 1-9] [directory]\n");
            return 2;
        }
        total = v;
    }
    if (argc > 2) {
        char *end = NULL;
        unsigned long v = strtoul (argv[2], &end, 10);
        if (!end || *end || v < 1 || v > RUNS_MAX) {
            fprintf (stderr, "usage: bench_store [events >= 1000] [runs 1-9] [directory]\n");
            return 2;
        }
        runs = (int) v;
    }
    if (argc > 3)
        base = argv[3];

    printf ("bk_store ingest, %d-byte events, every batch synced (WAL + fdatasync), median of %d "
            "runs, directory %s\n",
            EVENT_SIZE, runs, base);
    printf ("%-6s %-8s %10s %12s %12s %12s %8s %14s\n", "batch", "sensors", "events", "store ev/s",
            "raw ev/s", "us/batch", "ratio", "forward ev/s");
    static const size_t batches[] = {1, 10, 100, 1000};
    for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
        size_t batch = batches[bi];
        //  A synced batch of 1 costs one fsync per event: fewer events keep the run short.
        size_t n = batch == 1 ? total / 20 : batch == 10 ? total / 4 : total;
        n -= n % batch;
        for (int n_sensors = 1; n_sensors <= 10; n_sensors += 9) {
            if (batch == 1 && n_sensors == 10)
                continue;
            double store_r[RUNS_MAX], raw_r[RUNS_MAX], fwd_r[RUNS_MAX];
            for (int r = 0; r < runs; r++) {
                char dir[256];
                if (s_fresh (dir, sizeof dir, base) != 0) {
                    perror ("bench_store: mkdtemp");
                    return 1;
                }
                store_r[r] = s_run_store (dir, n, batch, n_sensors, &fwd_r[r]);
                nftw (dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
                if (s_fresh (dir, sizeof dir, base) != 0)
                    return 1;
                raw_r[r] = s_run_raw (dir, n, batch);
                nftw (dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
                if (store_r[r] < 0 || raw_r[r] < 0)
                    return 1;
            }
            double sr = s_median (store_r, runs), rr = s_median (raw_r, runs);
            double fr = s_median (fwd_r, runs);
            printf ("%-6zu %-8d %10zu %12.0f %12.0f %12.1f %7.0f%% %14.0f\n", batch, n_sensors, n,
                    sr, rr, 1e6 * (double) batch / sr, 100.0 * sr / rr, fr);
            fflush (stdout);
        }
    }
    struct rusage ru;
    getrusage (RUSAGE_SELF, &ru);
    printf ("peak RSS %ld MB\n", ru.ru_maxrss / 1024);
    return 0;
}
