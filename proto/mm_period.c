/*  mm_period: periods in Japan's time (see mm_period.h). */
#include "mm_period.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_NS 1000000000ull
#define S_DAY (86400ull * S_NS)
#define S_JST (9ull * 3600 * S_NS)

int64_t
mm_days_from_civil (int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

//  Monday of ISO week 1 of `year`, in days since the epoch: the week holding 4 January.
static int64_t
s_week1 (int64_t year)
{
    int64_t jan4 = mm_days_from_civil (year, 1, 4);
    int64_t weekday = ((jan4 % 7) + 7 + 3) % 7;  //  0 = Monday (1970-01-01 was a Thursday)
    return jan4 - weekday;
}

//  True if `text` has exactly the shape of `shape` ('9' a digit, anything else itself); the
//  numbers are then read from it.
static bool
s_shaped (const char *text, const char *shape)
{
    if (strlen (text) != strlen (shape))
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '9' ? !isdigit ((unsigned char) text[i]) : text[i] != shape[i])
            return false;
    return true;
}

static unsigned
s_num (const char *p, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned) (p[i] - '0');
    return v;
}

int
mm_period_parse (const char *text, uint64_t *from_ns, uint64_t *to_ns, const char **kind)
{
    int64_t day0, days;
    unsigned y;
    if (!text)
        return -1;
    if (s_shaped (text, "9999-W99")) {
        y = s_num (text, 4);
        unsigned w = s_num (text + 6, 2);
        int64_t next = s_week1 ((int64_t) y + 1), first = s_week1 (y);
        if (w < 1 || (int64_t) w > (next - first) / 7)
            return -1;
        day0 = first + (int64_t) (w - 1) * 7;
        days = 7;
        *kind = "week";
    }
    else if (s_shaped (text, "9999-99-99")) {
        y = s_num (text, 4);
        unsigned m = s_num (text + 5, 2), d = s_num (text + 8, 2);
        static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
            return -1;
        day0 = mm_days_from_civil (y, m, d);
        days = 1;
        *kind = "day";
    }
    else
        return -1;
    if (y < 1970)
        return -1;
    //  Midnight in Tokyo is 15:00 UTC the day before.
    *from_ns = (uint64_t) day0 * S_DAY - S_JST;
    *to_ns = *from_ns + (uint64_t) days * S_DAY;
    return 0;
}

void
mm_period_week_of (uint64_t ns, char *out, size_t size)
{
    int64_t day = (int64_t) ((ns + S_JST) / S_DAY);  //  the day in Tokyo
    int64_t weekday = ((day % 7) + 7 + 3) % 7;
    int64_t thursday = day - weekday + 3;  //  the ISO year is the Thursday's
    int64_t y = 1970 + thursday / 365;
    while (mm_days_from_civil (y, 1, 1) > thursday)
        y--;
    while (mm_days_from_civil (y + 1, 1, 1) <= thursday)
        y++;
    int64_t week = (day - s_week1 (y)) / 7 + 1;
    snprintf (out, size, "%04lld-W%02lld", (long long) y, (long long) week);
}
