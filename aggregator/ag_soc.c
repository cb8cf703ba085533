/*  ag_soc: a regional SOC console's state (see ag_soc.h). */
#include "ag_soc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_health.h"
#include "mm_incident.h"
#include "mm_json.h"
#include "mm_warning.h"

#define S_KEY_MAX (2 * MM_ID_MAX + 64)

typedef struct {
    uint64_t ts;
    uint32_t revision;    //  warnings: a later one replaces this
    char key[S_KEY_MAX];  //  what makes it the same item
    char *json;           //  mm_json's line without its newline
} s_item_t;

typedef struct {
    s_item_t **v;  //  newest first
    size_t n;
    size_t max;
} s_list_t;

struct ag_soc_t {
    s_list_t incidents;
    s_list_t warnings;
    s_list_t health;  //  one per sensor, newest report
    uint64_t newest;
    char *stats;  //  the statistics rows as a JSON array's members ("" for none)
    bool changed;
    ag_soc_stats_t st;
};

static void
s_item_destroy (s_item_t **item_p)
{
    s_item_t *item = *item_p;
    if (item) {
        free (item->json);
        free (item);
        *item_p = NULL;
    }
}

static int
s_list_init (s_list_t *list, size_t max)
{
    //  One spare slot: an insert may go one over the bound before the oldest leaves.
    list->v = (s_item_t **) calloc (max + 1, sizeof *list->v);
    list->max = max;
    return list->v ? 0 : -1;
}

static void
s_list_free (s_list_t *list)
{
    for (size_t i = 0; i < list->n; i++)
        s_item_destroy (&list->v[i]);
    free (list->v);
    list->v = NULL;
    list->n = 0;
}

ag_soc_t *
ag_soc_new (size_t max_items)
{
    ag_soc_t *self = (ag_soc_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (max_items < 1 || s_list_init (&self->incidents, max_items) == -1 ||
        s_list_init (&self->warnings, max_items) == -1 ||
        s_list_init (&self->health, max_items) == -1 || !(self->stats = strdup (""))) {
        ag_soc_destroy (&self);
        return NULL;
    }
    self->changed = true;
    return self;
}

void
ag_soc_destroy (ag_soc_t **self_p)
{
    ag_soc_t *self = *self_p;
    if (!self)
        return;
    s_list_free (&self->incidents);
    s_list_free (&self->warnings);
    s_list_free (&self->health);
    free (self->stats);
    free (self);
    *self_p = NULL;
}

//  The index of the item of `key`, or -1 (lists are a few thousand items at most, and a
//  console takes a few messages a second).
static ptrdiff_t
s_find (const s_list_t *list, const char *key)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp (list->v[i]->key, key) == 0)
            return (ptrdiff_t) i;
    return -1;
}

static void
s_remove (s_list_t *list, size_t at)
{
    s_item_destroy (&list->v[at]);
    memmove (&list->v[at], &list->v[at + 1], (list->n - at - 1) * sizeof *list->v);
    list->n--;
}

//  Puts `item` (owned by the list from now) in time order, newest first, pushing the oldest
//  out beyond the bound.
static void
s_insert (ag_soc_t *self, s_list_t *list, s_item_t *item)
{
    size_t at = 0;
    while (at < list->n && list->v[at]->ts > item->ts)
        at++;
    memmove (&list->v[at + 1], &list->v[at], (list->n - at) * sizeof *list->v);
    list->v[at] = item;
    list->n++;
    if (list->n > list->max) {
        s_remove (list, list->n - 1);
        self->st.dropped++;
    }
}

static s_item_t *
s_item_new (uint64_t ts, uint32_t revision, const char *key, const uint8_t *data, size_t len)
{
    mm_buf_t json = MM_BUF_INIT;
    mm_error_t err;
    s_item_t *item = (s_item_t *) calloc (1, sizeof *item);
    if (!item || mm_msg_to_json (data, len, &json, &err) == -1 || json.len == 0) {
        free (item);
        mm_buf_free (&json);
        return NULL;
    }
    while (json.len && (json.data[json.len - 1] == '\n'))
        json.len--;
    item->json = strndup ((const char *) json.data, json.len);
    mm_buf_free (&json);
    if (!item->json) {
        free (item);
        return NULL;
    }
    item->ts = ts;
    item->revision = revision;
    snprintf (item->key, sizeof item->key, "%s", key);
    return item;
}

static int
s_take_incident (ag_soc_t *self, const uint8_t *data, size_t len)
{
    mm_incident_t inc;
    mm_error_t err;
    if (mm_incident_decode (&inc, data, len, &err) == -1)
        return -1;
    //  A notification is one (sensor, finding, time of notice): a catch-up sends it again.
    char key[S_KEY_MAX];
    snprintf (key, sizeof key, "i %.*s %llu %llu", (int) inc.sensor.len, inc.sensor.ptr,
              (unsigned long long) inc.finding_id, (unsigned long long) inc.ts);
    if (s_find (&self->incidents, key) >= 0) {
        self->st.duplicates++;
        return 0;
    }
    s_item_t *item = s_item_new (inc.ts, 0, key, data, len);
    if (!item)
        return -1;
    s_insert (self, &self->incidents, item);
    self->st.incidents++;
    if (inc.ts > self->newest)
        self->newest = inc.ts;
    self->changed = true;
    return 0;
}

static int
s_take_warning (ag_soc_t *self, const uint8_t *data, size_t len)
{
    mm_warning_t w;
    mm_error_t err;
    if (mm_warning_decode (&w, data, len, &err) == -1)
        return -1;
    char key[S_KEY_MAX];
    //  The org's length first: ids are not checked here, and "a b"+"c" must not meet "a"+"b c".
    snprintf (key, sizeof key, "w %u %.*s %.*s", (unsigned) w.org.len, (int) w.org.len, w.org.ptr,
              (int) w.id.len, w.id.ptr);
    ptrdiff_t old = s_find (&self->warnings, key);
    if (old >= 0) {
        if (self->warnings.v[old]->revision >= w.revision) {
            self->st.duplicates++;
            return 0;
        }
    }
    s_item_t *item = s_item_new (w.ts, w.revision, key, data, len);
    if (!item)
        return -1;
    if (old >= 0) {
        s_remove (&self->warnings, (size_t) old);
        self->st.replaced++;
    }
    s_insert (self, &self->warnings, item);
    self->st.warnings++;
    if (w.ts > self->newest)
        self->newest = w.ts;
    self->changed = true;
    return 0;
}

static int
s_take_health (ag_soc_t *self, const uint8_t *data, size_t len)
{
    mm_health_t h;
    mm_error_t err;
    if (mm_health_decode (&h, data, len, &err) == -1)
        return -1;
    char key[S_KEY_MAX];
    snprintf (key, sizeof key, "h %.*s", (int) h.sensor.len, h.sensor.ptr);
    ptrdiff_t old = s_find (&self->health, key);
    if (old >= 0 && self->health.v[old]->ts > h.ts) {
        self->st.duplicates++;  //  an older report after a newer one
        return 0;
    }
    s_item_t *item = s_item_new (h.ts, 0, key, data, len);
    if (!item)
        return -1;
    if (old >= 0)
        s_remove (&self->health, (size_t) old);
    s_insert (self, &self->health, item);
    self->st.health++;
    self->changed = true;
    return 0;
}

int
ag_soc_take (ag_soc_t *self, const uint8_t *data, size_t len)
{
    mm_msg_type_t type;
    mm_error_t err;
    int rc = -1;
    if (mm_msg_peek (data, len, &type, &err) == 0) {
        if (type == MM_MSG_INCIDENT)
            rc = s_take_incident (self, data, len);
        else if (type == MM_MSG_WARNING)
            rc = s_take_warning (self, data, len);
        else if (type == MM_MSG_HEALTH)
            rc = s_take_health (self, data, len);
    }
    if (rc == -1)
        self->st.bad++;
    return rc;
}

uint64_t
ag_soc_newest (const ag_soc_t *self)
{
    return self->newest;
}

//  The value of a row's "period" member ("2026-W47"), copied into `out`; false if none.
static bool
s_period (const char *line, size_t len, char *out, size_t outlen)
{
    static const char tag[] = "\"period\":\"";
    const char *p = NULL;
    for (size_t i = 0; !p && i + sizeof tag - 1 <= len; i++)
        if (memcmp (line + i, tag, sizeof tag - 1) == 0)
            p = line + i;
    if (!p)
        return false;
    p += sizeof tag - 1;
    const char *end = memchr (p, '"', len - (size_t) (p - line));
    if (!end || (size_t) (end - p) >= outlen)
        return false;
    memcpy (out, p, (size_t) (end - p));
    out[end - p] = 0;
    return true;
}

//  True if `tag` occurs in the `len` bytes at `line`.
static bool
s_has (const char *line, size_t len, const char *tag)
{
    size_t n = strlen (tag);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp (line + i, tag, n) == 0)
            return true;
    return false;
}

//  A statistics row of a weekly table: one JSON object of a mimamori.stats schema. The rows
//  were verified by mimamori-stats before they were published; here they are only passed to
//  the page. Weeks only: "2026-W47" and a day "2026-11-25" do not compare as text.
//  True if `line` is one JSON value as far as nesting goes: brackets balance outside strings,
//  strings close, no raw control character. Not a full parser: enough that one damaged row (a
//  file half written by hand) cannot make the page's whole document unreadable.
static bool
s_balanced (const char *line, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) line[i];
        if (c < 0x20)
            return false;
        if (in_str) {
            //  An escape takes the next character, which must be printable too (a NUL there
            //  would end the row when it is kept as a C string).
            if (c == '\\' && (++i >= len || (unsigned char) line[i] < 0x20))
                return false;
            else if (c == '"')
                in_str = false;
        }
        else if (c == '"')
            in_str = true;
        else if (depth == 0 && i > 0)
            return false;  //  something after the object closed
        else if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth < 0)
            return false;
    }
    return depth == 0 && !in_str;
}

static bool
s_is_row (const char *line, size_t len)
{
    static const char tag[] = "{\"schema\":\"mimamori.stats";
    return len > sizeof tag && memcmp (line, tag, sizeof tag - 1) == 0 && line[len - 1] == '}' &&
           s_has (line, len, "\"period_kind\":\"week\"") && s_balanced (line, len);
}

int
ag_soc_take_stats (ag_soc_t *self, const char *text, size_t len)
{
    //  Two passes: the newest period, then its rows.
    char newest[32] = "", period[32];
    size_t rows = 0;
    for (const char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr (line, '\n', len - (size_t) (line - text));
        if (!end)
            end = text + len;
        size_t n = (size_t) (end - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (!s_is_row (line, n) || !s_period (line, n, period, sizeof period)) {
            if (n)
                self->st.bad++;
            continue;
        }
        if (strcmp (period, newest) > 0)
            snprintf (newest, sizeof newest, "%s", period);
    }
    if (!newest[0])
        return -1;
    mm_buf_t out = MM_BUF_INIT;
    int rc = 0;
    for (const char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr (line, '\n', len - (size_t) (line - text));
        if (!end)
            end = text + len;
        size_t n = (size_t) (end - line);
        if (n && line[n - 1] == '\r')
            n--;
        if (!s_is_row (line, n) || !s_period (line, n, period, sizeof period) ||
            strcmp (period, newest) != 0)
            continue;
        if ((rows && mm_buf_append (&out, ",", 1) == -1) || mm_buf_append (&out, line, n) == -1 ||
            mm_buf_append (&out, "\n", 1) == -1)
            rc = -1;
        rows++;
    }
    char *stats = rc == 0 ? strndup ((const char *) out.data, out.len) : NULL;
    mm_buf_free (&out);
    if (!stats)
        return -1;
    free (self->stats);
    self->stats = stats;
    self->st.stats_rows = rows;
    self->changed = true;
    return 0;
}

bool
ag_soc_changed (const ag_soc_t *self)
{
    return self->changed;
}

static int
s_render_list (const s_list_t *list, mm_buf_t *out)
{
    for (size_t i = 0; i < list->n; i++)
        if ((i && mm_buf_append (out, ",\n", 2) == -1) ||
            mm_buf_append (out, list->v[i]->json, strlen (list->v[i]->json)) == -1)
            return -1;
    return 0;
}

int
ag_soc_render (ag_soc_t *self, const char *console_json, uint64_t now_ns, mm_buf_t *out)
{
    mm_buf_clear (out);
    const ag_soc_stats_t *s = &self->st;
    int rc = 0;
    rc |= mm_buf_appendf (out, "{\"generated\":%llu,\"console\":%s,\n\"incidents\":[\n",
                          (unsigned long long) (now_ns / 1000000u), console_json);
    rc |= s_render_list (&self->incidents, out);
    rc |= mm_buf_appendf (out, "],\n\"warnings\":[\n");
    rc |= s_render_list (&self->warnings, out);
    rc |= mm_buf_appendf (out, "],\n\"health\":[\n");
    rc |= s_render_list (&self->health, out);
    rc |= mm_buf_appendf (out, "],\n\"stats\":[\n%s],\n", self->stats);
    rc |= mm_buf_appendf (out,
                          "\"counts\":{\"incidents\":%llu,\"warnings\":%llu,\"dropped\":%llu,"
                          "\"bad\":%llu}}\n",
                          (unsigned long long) s->incidents, (unsigned long long) s->warnings,
                          (unsigned long long) s->dropped, (unsigned long long) s->bad);
    if (rc != 0)
        return -1;
    self->changed = false;
    return 0;
}

void
ag_soc_stats (const ag_soc_t *self, ag_soc_stats_t *stats)
{
    *stats = self->st;
}
