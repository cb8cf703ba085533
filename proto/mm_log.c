/*  mm_log: journald-friendly, rate-limited log lines (see mm_log.h). */
#include "mm_log.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define S_SITES 256  //  call sites tracked at once; a new one takes the stalest slot

typedef struct {
    const char *fmt;    //  the call site (NULL: free)
    int64_t window_ms;  //  start of its current window
    unsigned written;   //  lines written in it
    unsigned held;      //  lines held back in it
    int64_t used_ms;    //  last use, to pick a slot to reuse
} s_site_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_site_t s_sites[S_SITES];
static unsigned s_burst = 20, s_window_ms = 60000;
static int s_journal = -1;  //  -1: not read yet

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
mm_log_journal (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_journal < 0) {
        //  systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream it connected.
        const char *js = getenv ("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        s_journal = js && sscanf (js, "%llu:%llu", &dev, &ino) == 2 && fstat (2, &st) == 0 &&
                    (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
    }
    int j = s_journal;
    pthread_mutex_unlock (&s_lock);
    return j;
}

void
mm_log_set_limit (unsigned burst, unsigned window_ms)
{
    pthread_mutex_lock (&s_lock);
    s_burst = burst;
    s_window_ms = window_ms;
    memset (s_sites, 0, sizeof s_sites);
    pthread_mutex_unlock (&s_lock);
}

//  The site of `fmt`, reset when its window is over. Under the lock.
static s_site_t *
s_site (const char *fmt, int64_t now)
{
    uintptr_t h = ((uintptr_t) fmt >> 3) * 0x9e3779b97f4a7c15u;
    s_site_t *free_slot = NULL, *stalest = NULL;
    for (unsigned i = 0; i < 8; i++) {  //  a short probe: sites are few
        s_site_t *s = &s_sites[(h + i) % S_SITES];
        if (s->fmt == fmt)
            return s;
        if (!s->fmt) {
            if (!free_slot)
                free_slot = s;
        }
        else if (!stalest || s->used_ms < stalest->used_ms)
            stalest = s;
    }
    if (free_slot)
        stalest = free_slot;
    memset (stalest, 0, sizeof *stalest);
    stalest->fmt = fmt;
    stalest->window_ms = now;
    return stalest;
}

static void
s_prefix (FILE *out, mm_log_level_t level)
{
    if (s_journal) {
        fprintf (out, "<%d>", (int) level);
        return;
    }
    static const char tags[] = "EEEEWNID";
    char when[32];
    time_t t = time (NULL);
    struct tm tm;
    localtime_r (&t, &tm);
    //  CZMQ's "%y-%m-%d": two digits of the year, built by hand (-Wformat-y2k).
    snprintf (when, sizeof when, "%02d-%02d-%02d %02d:%02d:%02d", tm.tm_year % 100, tm.tm_mon + 1,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    fprintf (out, "%c: %s ", tags[level & 7], when);
}

void
mm_log_v (mm_log_level_t level, const char *fmt, va_list ap)
{
    if (s_journal < 0)
        mm_log_journal ();
    int64_t now = s_mono_ms ();
    pthread_mutex_lock (&s_lock);
    s_site_t *site = s_site (fmt, now);
    site->used_ms = now;
    unsigned held = 0;
    if (now - site->window_ms >= (int64_t) s_window_ms) {
        held = site->held;  //  said with this line, which opens the next window
        site->window_ms = now;
        site->written = site->held = 0;
    }
    if (site->written >= s_burst) {
        site->held++;
        pthread_mutex_unlock (&s_lock);
        return;
    }
    site->written++;
    //  One line, one write: lines of two threads never interleave.
    char line[2048];
    int n = vsnprintf (line, sizeof line, fmt, ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t) n < sizeof line ? (size_t) n : sizeof line - 1;
    for (size_t i = 0; i < len; i++)  //  a newline inside would start a line of no level
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    flockfile (stderr);
    s_prefix (stderr, level);
    fwrite (line, 1, len, stderr);
    if (held)
        fprintf (stderr, " (%u more like this were held back before this one)", held);
    fputc ('\n', stderr);
    fflush (stderr);
    funlockfile (stderr);
    pthread_mutex_unlock (&s_lock);
}

void
mm_log (mm_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    mm_log_v (level, fmt, ap);
    va_end (ap);
}
