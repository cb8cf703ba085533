/*  mm_log: the line formats (journal and not) and the rate limit per call site. Criterion runs
    each test in its own process, so stderr and the journal detection are each test's own. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mm_log.h"

//  Points stderr at a fresh file; `journal` sets JOURNAL_STREAM to it, as systemd does.
static char *
s_capture (bool journal)
{
    static char path[] = "/tmp/mm-log-XXXXXX";
    int fd = mkstemp (path);
    cr_assert (fd >= 0);
    cr_assert (dup2 (fd, 2) == 2);
    close (fd);
    if (journal) {
        struct stat st;
        cr_assert (fstat (2, &st) == 0);
        char js[64];
        snprintf (js, sizeof js, "%llu:%llu", (unsigned long long) st.st_dev,
                  (unsigned long long) st.st_ino);
        setenv ("JOURNAL_STREAM", js, 1);
    }
    else
        unsetenv ("JOURNAL_STREAM");
    return path;
}

static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f);
    static char text[65536];
    size_t n = fread (text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose (f);
    unlink (path);
    return text;
}

static int
s_lines (const char *text)
{
    int n = 0;
    for (const char *c = text; *c; c++)
        n += *c == '\n';
    return n;
}

Test (mm_log, terminal_lines_read_like_czmq)
{
    char *path = s_capture (false);
    mm_log_warning ("bk_broker: b-kanto: sensor %s silent", "s-12");
    mm_log_info ("ag_console: two\nlines");
    cr_assert_not (mm_log_journal ());
    char *text = s_read (path);
    cr_assert (strncmp (text, "W: ", 3) == 0, "%s", text);
    cr_assert (strstr (text, " bk_broker: b-kanto: sensor s-12 silent\nI: "), "%s", text);
    //  A newline inside a message would start a line of no level: it becomes a space.
    cr_assert (strstr (text, "ag_console: two lines\n"), "%s", text);
    cr_assert_eq (s_lines (text), 2);
}

Test (mm_log, journal_lines_carry_the_priority)
{
    char *path = s_capture (true);
    mm_log_error ("ag_ingest: store write failed");
    mm_log_warning ("mm_curve: refused");
    mm_log_notice ("n");
    mm_log_info ("ag_console: connected");
    cr_assert (mm_log_journal ());
    char *text = s_read (path);
    cr_assert_str_eq (text, "<3>ag_ingest: store write failed\n<4>mm_curve: refused\n<5>n\n"
                            "<6>ag_console: connected\n");
}

Test (mm_log, a_journal_stream_of_another_file_is_not_ours)
{
    char *path = s_capture (false);
    setenv ("JOURNAL_STREAM", "1:2", 1);
    mm_log_info ("x");
    cr_assert_not (mm_log_journal ());
    char *text = s_read (path);
    cr_assert (strncmp (text, "I: ", 3) == 0, "%s", text);
}

static void
s_flood (int n)
{
    for (int i = 0; i < n; i++)
        mm_log_warning ("mm_curve: handshake refused from key %d", i);
}

Test (mm_log, repeats_are_held_back_and_counted)
{
    char *path = s_capture (true);
    mm_log_set_limit (3, 300);
    s_flood (10);
    mm_log_info ("another call site still logs");
    nanosleep (&(struct timespec){0, 350 * 1000 * 1000}, NULL);
    s_flood (1);  //  the next window: says how many were held
    char *text = s_read (path);
    cr_assert_eq (s_lines (text), 5, "%s", text);
    cr_assert (strstr (text, "key 0\n<4>mm_curve: handshake refused from key 1\n"
                             "<4>mm_curve: handshake refused from key 2\n<6>another call site"),
               "%s", text);
    cr_assert_null (strstr (text, "key 3\n"), "%s", text);
    cr_assert (strstr (text,
                       "<4>mm_curve: handshake refused from key 0 (7 more like this were held "
                       "back before this one)\n"),
               "%s", text);
}
