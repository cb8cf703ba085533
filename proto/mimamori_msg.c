/*  mimamori-msg: the wire format from the command line.
      mimamori-msg decode          hex-encoded messages on stdin, one per line -> JSON Lines
      mimamori-msg samples         every sample message as JSON Lines
      mimamori-msg doc FILE        rewrite the generated sections of FILE (docs/protocol.md)
      mimamori-msg doc FILE --check   fail if those sections differ from what the code says
    The generated sections are the key tables (from the schema tables the codec itself runs
    on) and the hex dump of an example, so the protocol document cannot drift from the code. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm_json.h"
#include "mm_sample.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif
#include "mm_schema.h"

//  ---------------------------------------------------------------------------------------------
//  decode

static int
s_hexval (int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower (c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

//  Turns one line of hex (whitespace ignored) into bytes. NULL, or a reason it cannot.
static const char *
s_unhex_line (const char *line, uint8_t *bytes, size_t cap, size_t *n)
{
    *n = 0;
    int hi = -1;
    for (const char *p = line; *p; p++) {
        if (isspace ((unsigned char) *p))
            continue;
        int v = s_hexval ((unsigned char) *p);
        if (v < 0)
            return "not a hex digit in the line";
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (*n >= cap)
            return "more than 65,536 bytes: larger than any message";
        bytes[(*n)++] = (uint8_t) (hi << 4 | v);
        hi = -1;
    }
    return hi >= 0 ? "an odd number of hex digits" : NULL;
}

static int
s_cmd_decode (void)
{
    static uint8_t bytes[MM_MSG_MAX];
    mm_buf_t out = MM_BUF_INIT;
    char *line = NULL;
    size_t line_cap = 0;
    int failures = 0;
    unsigned long lineno = 0;
    //  getline: a line of any length is read whole, never split into two messages.
    while (getline (&line, &line_cap, stdin) != -1) {
        lineno++;
        size_t n;
        const char *bad = s_unhex_line (line, bytes, sizeof bytes, &n);
        if (!bad && n == 0)
            continue;
        mm_error_t err;
        mm_buf_clear (&out);
        if (bad) {
            fprintf (stderr, "line %lu: %s\n", lineno, bad);
            failures++;
        }
        else if (mm_msg_to_json (bytes, n, &out, &err) == -1) {
            fprintf (stderr, "line %lu: %s\n", lineno, err.reason);
            failures++;
        }
        else
            fwrite (out.data, 1, out.len, stdout);
    }
    free (line);
    mm_buf_free (&out);
    return failures ? 1 : 0;
}

//  ---------------------------------------------------------------------------------------------
//  samples

static int
s_cmd_samples (void)
{
    mm_buf_t out = MM_BUF_INIT;
    mm_event_t ev;
    int rc = 0;
    for (int i = 0; i < MM_SAMPLE_EVENT_KINDS; i++) {
        mm_sample_event (&ev, mm_sample_kinds[i]);
        rc |= mm_event_to_json (&ev, &out);
    }
    mm_heartbeat_t hb;
    mm_sample_heartbeat (&hb);
    rc |= mm_heartbeat_to_json (&hb, &out);
    mm_ack_t ack;
    mm_sample_ack (&ack);
    rc |= mm_ack_to_json (&ack, &out);
    mm_warning_t w;
    mm_sample_warning (&w);
    rc |= mm_warning_to_json (&w, &out);
    mm_watchlist_t *wl = malloc (sizeof *wl);
    if (!wl)
        return 1;
    mm_sample_watchlist (wl);
    rc |= mm_watchlist_to_json (wl, &out);
    free (wl);
    mm_incident_t inc;
    mm_sample_incident (&inc);
    rc |= mm_incident_to_json (&inc, &out);
    mm_health_t health;
    mm_sample_health (&health);
    rc |= mm_health_to_json (&health, &out);
    fwrite (out.data, 1, out.len, stdout);
    mm_buf_free (&out);
    return rc ? 1 : 0;
}

//  ---------------------------------------------------------------------------------------------
//  doc: generated sections

static const char *
s_type_text (const mm_field_t *f, char *buf, size_t size)
{
    switch (f->type) {
    case MM_F_UINT:
        if (f->max == (f->width == 8 ? UINT64_MAX : (1ULL << (8 * f->width)) - 1)) {
            if (f->min == 0)
                snprintf (buf, size, "uint%d", 8 * f->width);
            else
                snprintf (buf, size, "uint%d >= %llu", 8 * f->width, (unsigned long long) f->min);
        }
        else if (f->min == f->max)
            snprintf (buf, size, "uint = %llu", (unsigned long long) f->min);
        else
            snprintf (buf, size, "uint %llu..%llu", (unsigned long long) f->min,
                      (unsigned long long) f->max);
        break;
    case MM_F_STR: snprintf (buf, size, "str <= %llu", (unsigned long long) f->max); break;
    case MM_F_BIN: snprintf (buf, size, "bin = %llu", (unsigned long long) f->max); break;
    case MM_F_ADDR: snprintf (buf, size, "bin = 4 or 16"); break;
    case MM_F_MAP: snprintf (buf, size, "map `%s`", f->sub->name); break;
    case MM_F_ARR_STR:
        snprintf (buf, size, "array <= %llu of str <= %llu", (unsigned long long) f->max,
                  (unsigned long long) f->max_value);
        break;
    case MM_F_ARR_UINT:
        snprintf (buf, size, "array <= %llu of uint %llu..%llu", (unsigned long long) f->max,
                  (unsigned long long) f->min, (unsigned long long) f->max_value);
        break;
    case MM_F_ARR_MAP:
        snprintf (buf, size, "array <= %llu of map `%s`", (unsigned long long) f->max,
                  f->sub->name);
        break;
    default: snprintf (buf, size, "?"); break;
    }
    return buf;
}

static int
s_schema_table (mm_buf_t *out, const mm_schema_t *s)
{
    int rc = mm_buf_appendf (out,
                             "#### `%s`\n\n| key | name | type | presence | meaning |\n"
                             "|---|---|---|---|---|\n",
                             s->name);
    if (s->msg_type)
        rc |= mm_buf_appendf (out,
                              "| 0 | v | uint = 1 | required | schema version |\n"
                              "| 1 | type | uint 1..%d | required | message type: %u (%s) |\n",
                              MM_MSG_TYPE_MAX, s->msg_type, mm_msg_type_name (s->msg_type));
    for (unsigned k = 0; k < s->nfields; k++) {
        const mm_field_t *f = &s->fields[k];
        if (f->type == MM_F_NONE)
            continue;
        char type[96];
        const char *presence = (f->flags & MM_FF_REQUIRED) ? "required"
                               : (f->flags & MM_FF_ALWAYS) ? "always sent"
                               : f->has_bit >= 0           ? "optional (has-bit)"
                                                           : "optional";
        rc |= mm_buf_appendf (out, "| %u | %s | %s | %s | %s%s |\n", k, f->name,
                              s_type_text (f, type, sizeof type), presence, f->doc,
                              (f->flags & MM_FF_ENUM_NAMED) ? " (enumeration below)" : "");
    }
    rc |= mm_buf_appendf (out, "\n");
    for (unsigned k = 0; k < s->nfields; k++) {
        const mm_field_t *f = &s->fields[k];
        if (f->type == MM_F_MAP || f->type == MM_F_ARR_MAP)
            rc |= s_schema_table (out, f->sub);
    }
    return rc;
}

static int
s_enum_table (mm_buf_t *out, const char *title, const char *(*name) (unsigned), unsigned first,
              unsigned last)
{
    int rc = mm_buf_appendf (out, "- **%s**:", title);
    const char *sep = " ";
    for (unsigned v = first; v <= last; v++) {
        if (!name (v))
            continue;
        rc |= mm_buf_appendf (out, "%s%u `%s`", sep, v, name (v));
        sep = ", ";
    }
    return rc | mm_buf_appendf (out, "\n");
}

static int
s_gen_schema (mm_buf_t *out)
{
    int rc = 0;
    for (const mm_schema_t *const *s = mm_schemas; *s; s++)
        rc |= s_schema_table (out, *s);
    rc |= mm_buf_appendf (out, "#### Enumerations\n\n");
    rc |= s_enum_table (out, "message type", mm_msg_type_name, 1, 255);
    rc |= s_enum_table (out, "event kind", mm_kind_name, 1, 255);
    rc |= s_enum_table (out, "severity (OCSF severity_id)", mm_sev_name, 0, 6);
    rc |= s_enum_table (out, "direction", mm_dir_name, 0, 4);
    rc |= s_enum_table (out, "state (Zeek conn_state)", mm_state_name, 1, 255);
    rc |= s_enum_table (out, "category", mm_category_name, 1, 255);
    rc |= s_enum_table (out, "indicator type", mm_ioc_type_name, 1, 255);
    rc |= s_enum_table (out, "warning status", mm_wstatus_name, 1, 255);
    rc |= s_enum_table (out, "indicator match", mm_match_name, 1, 255);
    rc |= s_enum_table (out, "relation", mm_relation_name, 1, 255);
    rc |= s_enum_table (out, "TLP", mm_tlp_name, 1, 255);
    rc |= s_enum_table (out, "action", mm_action_name, 1, 255);
    rc |= s_enum_table (out, "watchlist op", mm_wl_op_name, 1, 255);
    rc |= s_enum_table (out, "incident kind", mm_inc_kind_name, 1, 255);
    rc |= s_enum_table (out, "health state", mm_health_state_name, 1, 255);
    return rc;
}

//  The sample finding as hex (16 bytes a line, with offsets) and as its JSON rendering.
static int
s_gen_example (mm_buf_t *out)
{
    mm_event_t ev;
    mm_sample_finding (&ev);
    mm_buf_t wire = MM_BUF_INIT;
    mm_error_t err;
    if (mm_event_encode (&ev, &wire, &err) == -1) {
        fprintf (stderr, "example: %s\n", err.reason);
        return -1;
    }
    int rc = mm_buf_appendf (out, "The sample finding event, %zu bytes:\n\n```\n", wire.len);
    for (size_t i = 0; i < wire.len; i += 16) {
        rc |= mm_buf_appendf (out, "%04zx ", i);
        for (size_t j = i; j < i + 16 && j < wire.len; j++)
            rc |= mm_buf_appendf (out, " %02x", wire.data[j]);
        rc |= mm_buf_appendf (out, "\n");
    }
    rc |= mm_buf_appendf (out,
                          "```\n\nIts JSON Lines rendering (`mimamori-msg decode`):\n\n```json\n");
    rc |= mm_event_to_json (&ev, out);
    rc |= mm_buf_appendf (out, "```\n");
    mm_buf_free (&wire);
    return rc;
}

static char *
s_read_file (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    mm_buf_t buf = MM_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
        if (mm_buf_append (&buf, chunk, n) == -1)
            break;
    fclose (f);
    if (mm_buf_append (&buf, "", 1) == -1) {
        mm_buf_free (&buf);
        return NULL;
    }
    *len = buf.len - 1;
    return (char *) buf.data;
}

//  Replaces the text between "<!-- BEGIN GENERATED: name -->" and "<!-- END GENERATED: name -->".
static int
s_splice (mm_buf_t *doc_out, const char *doc, const char *name, const mm_buf_t *body)
{
    char begin[96], end[96];
    snprintf (begin, sizeof begin, "<!-- BEGIN GENERATED: %s -->\n", name);
    snprintf (end, sizeof end, "<!-- END GENERATED: %s -->", name);
    const char *b = strstr (doc, begin);
    const char *e = b ? strstr (b, end) : NULL;
    if (!b || !e) {
        fprintf (stderr, "doc: markers for section '%s' not found\n", name);
        return -1;
    }
    b += strlen (begin);
    int rc = mm_buf_append (doc_out, doc, (size_t) (b - doc));
    rc |= mm_buf_append (doc_out, body->data, body->len);
    rc |= mm_buf_append (doc_out, e, strlen (e));
    return rc;
}

static int
s_cmd_doc (const char *path, bool check)
{
    size_t len;
    char *doc = s_read_file (path, &len);
    if (!doc) {
        fprintf (stderr, "doc: cannot read %s\n", path);
        return 1;
    }
    mm_buf_t schema = MM_BUF_INIT, example = MM_BUF_INIT, pass1 = MM_BUF_INIT, pass2 = MM_BUF_INIT;
    int rc = 1;
    if (s_gen_schema (&schema) || s_gen_example (&example))
        goto cleanup;
    if (s_splice (&pass1, doc, "schema", &schema) || mm_buf_append (&pass1, "", 1) ||
        s_splice (&pass2, (const char *) pass1.data, "example", &example))
        goto cleanup;
    if (check) {
        if (pass2.len != len || memcmp (pass2.data, doc, len) != 0) {
            fprintf (stderr,
                     "%s: generated sections differ from the code; run: mimamori-msg doc %s\n",
                     path, path);
            goto cleanup;
        }
    }
    else {
        FILE *f = fopen (path, "wb");
        if (!f || fwrite (pass2.data, 1, pass2.len, f) != pass2.len || fclose (f) != 0) {
            fprintf (stderr, "doc: cannot write %s\n", path);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    mm_buf_free (&schema);
    mm_buf_free (&example);
    mm_buf_free (&pass1);
    mm_buf_free (&pass2);
    free (doc);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "decode") == 0)
        return s_cmd_decode ();
    if (argc >= 2 && strcmp (argv[1], "samples") == 0)
        return s_cmd_samples ();
    if (argc >= 3 && strcmp (argv[1], "doc") == 0)
        return s_cmd_doc (argv[2], argc >= 4 && strcmp (argv[3], "--check") == 0);
    if (argc == 2 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-V") == 0)) {
        printf ("mimamori-msg %s\n", MIMAMORI_VERSION);
        return 0;
    }
    bool help = argc == 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0);
    fprintf (help ? stdout : stderr,
             "usage: mimamori-msg decode | samples | doc FILE [--check]\n"
             "\n"
             "  decode          hex frames on stdin (one a line) to JSON lines on stdout\n"
             "  samples         every message type's sample as a JSON line\n"
             "  doc FILE        rewrite the generated sections of docs/protocol.md\n"
             "      --check     compare instead; differences fail\n"
             "\n"
             "It takes no settings (no --check-config). Exit status: 0 done; 1 a frame that\n"
             "does not decode, or a document that differs (--check); 2 a usage error.\n");
    return help ? 0 : 2;
}
