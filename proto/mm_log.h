/*  mm_log: the daemons' log lines (issue 8: "logs to stderr in a form journald keeps: level,
    component, message; rate-limited repeats"). Owner: proto/. Thread-safe (the aggregator's
    correlation worker logs too).

    A line is "COMPONENT: message" (the component is the message's own prefix, e.g.
    "bk_broker: b-kanto: sensor s-12 silent"). Where stderr is the journal (systemd sets
    JOURNAL_STREAM to stderr's device and inode), the line starts with the syslog priority
    "<4>" and journald files it at that level with no timestamp of ours; elsewhere (a terminal,
    a test's log file) it starts with CZMQ's "W: 26-11-22 21:28:27 " so both kinds read alike.

    Repeats: each call site (its format string) may write `burst` lines (default 20) per
    `window_ms` (60 s); beyond that lines are counted, not written, and the next line of that
    call site to pass says how many were held back before it (a flood that stops is reported
    by its next line, whenever that comes; a site pushed out of the table of 256 loses its
    count). A flood of refused handshakes or bad
    frames costs a counter, never the disk or the journal's rate limit (which would drop
    everyone's lines). */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stdarg.h>

typedef enum {
    MM_LOG_ERR = 3,
    MM_LOG_WARNING = 4,
    MM_LOG_NOTICE = 5,
    MM_LOG_INFO = 6,
    MM_LOG_DEBUG = 7,
} mm_log_level_t;

void mm_log (mm_log_level_t level, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void mm_log_v (mm_log_level_t level, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 2, 0)));

#define mm_log_error(...) mm_log (MM_LOG_ERR, __VA_ARGS__)
#define mm_log_warning(...) mm_log (MM_LOG_WARNING, __VA_ARGS__)
#define mm_log_notice(...) mm_log (MM_LOG_NOTICE, __VA_ARGS__)
#define mm_log_info(...) mm_log (MM_LOG_INFO, __VA_ARGS__)
#define mm_log_debug(...) mm_log (MM_LOG_DEBUG, __VA_ARGS__)

//  Repeats allowed per call site and window (tests; the defaults are 20 per 60,000 ms).
void mm_log_set_limit (unsigned burst, unsigned window_ms);

//  True if stderr is the journal (JOURNAL_STREAM names it). Read once, at the first line.
int mm_log_journal (void);

#endif
