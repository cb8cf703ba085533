/*  mm_config: table-driven INI configuration (see mm_config.h). */
#include "mm_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const mm_cfg_item_t *
s_find (const mm_cfg_item_t *table, size_t n, const char *section, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (table[i].section, section) == 0 && strcmp (table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

static int
s_parse_bool (const char *v, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp (v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp (v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int
mm_netlist_parse (mm_netlist_t *list, const char *text, char *err, size_t errlen)
{
    memset (list, 0, sizeof *list);
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        char item[64];
        size_t len = strcspn (p, " ,\t");
        if (len >= sizeof item) {
            snprintf (err, errlen, "network '%.*s...' is too long", 20, p);
            return -1;
        }
        memcpy (item, p, len);
        item[len] = 0;
        p += len;
        if (list->n >= MM_NETS_MAX) {
            snprintf (err, errlen, "more than %d networks", MM_NETS_MAX);
            return -1;
        }
        mm_net_t *net = &list->nets[list->n];
        char *slash = strchr (item, '/');
        if (slash)
            *slash = 0;
        if (inet_pton (AF_INET, item, net->b) == 1)
            net->len = 4;
        else if (inet_pton (AF_INET6, item, net->b) == 1)
            net->len = 16;
        else {
            snprintf (err, errlen, "'%s' is not an IPv4 or IPv6 address", item);
            return -1;
        }
        unsigned max = net->len * 8u;
        net->prefix = (uint8_t) max;
        if (slash) {
            char *end;
            errno = 0;
            unsigned long prefix = strtoul (slash + 1, &end, 10);
            if (errno || end == slash + 1 || *end || prefix > max) {
                snprintf (err, errlen, "'%s' is not a prefix length 0..%u", slash + 1, max);
                return -1;
            }
            net->prefix = (uint8_t) prefix;
        }
        list->n++;
    }
    return 0;
}

bool
mm_netlist_contains (const mm_netlist_t *list, const mm_addr_t *addr)
{
    for (uint32_t i = 0; i < list->n; i++) {
        const mm_net_t *net = &list->nets[i];
        if (net->len != addr->len)
            continue;
        unsigned full = net->prefix / 8u, rest = net->prefix % 8u;
        if (memcmp (net->b, addr->b, full) != 0)
            continue;
        if (rest == 0)
            return true;
        uint8_t mask = (uint8_t) (0xff << (8 - rest));
        if ((net->b[full] & mask) == (addr->b[full] & mask))
            return true;
    }
    return false;
}

static int
s_set (const mm_cfg_item_t *item, void *cfg, const char *value, char *err, size_t errlen)
{
    void *at = (char *) cfg + item->offset;
    switch (item->type) {
    case MM_CFG_STR: {
        size_t len = strlen (value);
        if (len >= item->size) {
            snprintf (err, errlen, "%s.%s: value longer than %zu characters", item->section,
                      item->key, item->size - 1);
            return -1;
        }
        memcpy (at, value, len + 1);
        return 0;
    }
    case MM_CFG_UINT: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull (value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v < item->min || v > item->max) {
            snprintf (err, errlen, "%s.%s: '%s' is not a whole number in %llu..%llu", item->section,
                      item->key, value, (unsigned long long) item->min,
                      (unsigned long long) item->max);
            return -1;
        }
        uint64_t v64 = v;
        memcpy (at, &v64, sizeof v64);
        return 0;
    }
    case MM_CFG_BOOL: {
        bool b;
        if (s_parse_bool (value, &b) == -1) {
            snprintf (err, errlen, "%s.%s: '%s' is not true or false", item->section, item->key,
                      value);
            return -1;
        }
        memcpy (at, &b, sizeof b);
        return 0;
    }
    case MM_CFG_NETS: {
        char reason[128];
        if (mm_netlist_parse (at, value, reason, sizeof reason) == -1) {
            snprintf (err, errlen, "%s.%s: %s", item->section, item->key, reason);
            return -1;
        }
        return 0;
    }
    }
    snprintf (err, errlen, "%s.%s: unknown setting type", item->section, item->key);
    return -1;
}

int
mm_config_set (const mm_cfg_item_t *table, size_t n, void *cfg, const char *section,
               const char *key, const char *value, char *err, size_t errlen)
{
    const mm_cfg_item_t *item = s_find (table, n, section, key);
    if (!item) {
        snprintf (err, errlen, "unknown setting '%s' in [%s]", key, section);
        return -1;
    }
    return s_set (item, cfg, value, err, errlen);
}

int
mm_config_defaults (const mm_cfg_item_t *table, size_t n, void *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (s_set (&table[i], cfg, table[i].def ? table[i].def : "", err, errlen) == -1)
            return -1;
    return 0;
}

typedef struct {
    const mm_cfg_item_t *table;
    size_t n;
    void *cfg;
    FILE *file;
    int line;          //  lines read so far: inih calls the handler right after reading one
    int error_line;    //  the first line our handler refused, 0 if none
    char reason[192];  //  why
} s_load_t;

//  inih reads through this so we know which line the handler is looking at.
static char *
s_read_line (char *str, int num, void *stream)
{
    s_load_t *load = stream;
    char *line = fgets (str, num, load->file);
    if (line)
        load->line++;
    return line;
}

//  inih calls this per key; returning 0 marks the line as an error. Only the first error is
//  kept: inih goes on parsing, and a later one must not take the blame for the first.
static int
s_on_key (void *user, const char *section, const char *key, const char *value)
{
    s_load_t *load = user;
    char reason[sizeof load->reason];
    int ok;
    if (!section[0]) {
        snprintf (reason, sizeof reason, "'%s' is outside any [section]", key);
        ok = 0;
    }
    else
        ok = mm_config_set (load->table, load->n, load->cfg, section, key, value, reason,
                            sizeof reason) == 0;
    if (!ok && !load->error_line) {
        load->error_line = load->line;
        memcpy (load->reason, reason, sizeof reason);
    }
    return ok;
}

int
mm_config_load (const mm_cfg_item_t *table, size_t n, void *cfg, const char *path, char *err,
                size_t errlen)
{
    s_load_t load = {table, n, cfg, NULL, 0, 0, ""};
    load.file = fopen (path, "r");
    if (!load.file) {
        snprintf (err, errlen, "%s: cannot open: %s", path, strerror (errno));
        return -1;
    }
    int rc = ini_parse_stream (s_read_line, &load, s_on_key, &load);
    fclose (load.file);
    if (rc == 0)
        return 0;
    if (rc < 0)
        snprintf (err, errlen, "%s: out of memory", path);
    else if (rc == load.error_line)
        snprintf (err, errlen, "%s:%d: %s", path, rc, load.reason);
    else  //  inih's own syntax error came first
        snprintf (err, errlen, "%s:%d: not a '[section]' or 'key = value' line", path, rc);
    return -1;
}

void
mm_config_print (const mm_cfg_item_t *table, size_t n, FILE *out)
{
    const char *section = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!section || strcmp (section, table[i].section) != 0) {
            section = table[i].section;
            fprintf (out, "%s[%s]\n", i ? "\n" : "", section);
        }
        fprintf (out, "# %s\n%s = %s\n", table[i].help, table[i].key,
                 table[i].def ? table[i].def : "");
    }
}
