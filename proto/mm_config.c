/*  mm_config: table-driven INI configuration (see mm_config.h). */
#include "mm_config.h"

#include "mm_check.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
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

//  The INI reader. Debian's libinih is built with a 200-byte line limit, too short for a list
//  of feed files or networks, so the few rules are implemented here: "[section]" lines,
//  "key = value" lines, '#' or ';' comments at the start of a line or after whitespace, blank
//  lines; surrounding whitespace trimmed. A line longer than MM_CFG_LINE_MAX is an error, never
//  cut in two.
#define MM_CFG_LINE_MAX 8191

static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen (s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

//  Cuts an inline comment: '#' or ';' preceded by whitespace.
static void
s_cut_comment (char *s)
{
    for (char *c = s; *c; c++)
        if ((*c == '#' || *c == ';') && c > s && (c[-1] == ' ' || c[-1] == '\t')) {
            *c = 0;
            return;
        }
}

//  One line; 0, or -1 with the reason.
static int
s_line (const mm_cfg_item_t *table, size_t n, void *cfg, char *text, char *section,
        size_t section_size, char *reason, size_t reason_size)
{
    char *line = s_trim (text);
    if (!*line || *line == '#' || *line == ';')
        return 0;
    if (*line == '[') {
        s_cut_comment (line);
        line = s_trim (line);
        size_t len = strlen (line);
        if (len < 3 || line[len - 1] != ']') {
            snprintf (reason, reason_size, "not a '[section]' line");
            return -1;
        }
        line[len - 1] = 0;
        char *name = s_trim (line + 1);
        if (!*name || strlen (name) >= section_size) {
            snprintf (reason, reason_size, "not a '[section]' line");
            return -1;
        }
        snprintf (section, section_size, "%s", name);
        return 0;
    }
    char *eq = strchr (line, '=');
    if (!eq) {
        snprintf (reason, reason_size, "not a '[section]' or 'key = value' line");
        return -1;
    }
    *eq = 0;
    char *key = s_trim (line), *value = eq + 1;
    s_cut_comment (value);
    value = s_trim (value);
    if (!*key) {
        snprintf (reason, reason_size, "a value without a key");
        return -1;
    }
    if (!section[0]) {
        snprintf (reason, reason_size, "'%s' is outside any [section]", key);
        return -1;
    }
    return mm_config_set (table, n, cfg, section, key, value, reason, reason_size);
}

int
mm_config_load (const mm_cfg_item_t *table, size_t n, void *cfg, const char *path, char *err,
                size_t errlen)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "%s: cannot open: %s", path, strerror (errno));
        return -1;
    }
    char *text = NULL, section[64] = "", reason[192];
    size_t cap = 0;
    int lineno = 0, rc = 0;
    ssize_t len;
    while ((len = getline (&text, &cap, file)) >= 0) {
        lineno++;
        char *line = text;
        if (lineno == 1 && len >= 3 && memcmp (line, "\xef\xbb\xbf", 3) == 0)
            line += 3;  //  a UTF-8 byte-order mark, as editors on Windows write
        const char *why = NULL;
        if (len > MM_CFG_LINE_MAX)
            why = "line too long";
        else if (memchr (text, 0, (size_t) len))
            why = "a NUL byte in the line";
        if (why) {
            snprintf (err, errlen, "%s:%d: %s (lines hold at most %d characters)", path, lineno,
                      why, MM_CFG_LINE_MAX);
            rc = -1;
            break;
        }
        if (s_line (table, n, cfg, line, section, sizeof section, reason, sizeof reason) == -1) {
            snprintf (err, errlen, "%s:%d: %s", path, lineno, reason);
            rc = -1;
            break;
        }
    }
    free (text);
    if (rc == 0 && ferror (file)) {
        snprintf (err, errlen, "%s: read error: %s", path, strerror (errno));
        rc = -1;
    }
    fclose (file);
    return rc;
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

static void
s_daemon_usage (FILE *out, const char *prog, const char *about)
{
    fprintf (out,
             "usage: %s [options]\n"
             "\n"
             "%s\n"
             "\n"
             "  -c, --config FILE      settings file (INI)\n"
             "      --print-config     print every setting with its default and exit\n"
             "      --check-config     read the settings, look at every file, key and address\n"
             "                         they name, say what is wrong and exit\n"
             "  -V, --version          print the version and exit\n"
             "  -h, --help             this help\n"
             "\n"
             "Stops cleanly on SIGINT or SIGTERM and prints a summary on stderr.\n"
             "Exit status: 0 stopped cleanly (or --help, --version, --print-config, a clean\n"
             "--check-config); 1 a failure while running (store, socket, disk); 2 a bad flag\n"
             "or settings file, or a --check-config with something to fix.\n",
             prog, about);
}

int
mm_config_daemon_args (const char *prog, const char *version, const char *about,
                       const mm_cfg_item_t *table, size_t n, void *cfg, mm_config_check_fn *check,
                       int argc, char **argv)
{
    enum { O_PRINT_CONFIG = 256, O_CHECK_CONFIG };
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"print-config", no_argument, NULL, O_PRINT_CONFIG},
        {"check-config", no_argument, NULL, O_CHECK_CONFIG},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[512];
    if (mm_config_defaults (table, n, cfg, err, sizeof err) == -1) {
        fprintf (stderr, "%s: %s\n", prog, err);
        return 1;
    }
    int opt;
    bool checking = false;
    const char *file = NULL;
    while ((opt = getopt_long (argc, argv, "c:Vh", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            file = optarg;
            if (mm_config_load (table, n, cfg, optarg, err, sizeof err) == -1) {
                fprintf (stderr, "%s: %s\n", prog, err);
                return 2;
            }
            break;
        case O_CHECK_CONFIG: checking = true; break;
        case O_PRINT_CONFIG: mm_config_print (table, n, stdout); return 0;
        case 'V': printf ("%s %s\n", prog, version); return 0;
        case 'h': s_daemon_usage (stdout, prog, about); return 0;
        default: s_daemon_usage (stderr, prog, about); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
        s_daemon_usage (stderr, prog, about);
        return 2;
    }
    if (checking) {
        //  The file parsed (or there is none: the defaults); now what it names.
        mm_check_t c = {stdout, 0};
        printf ("%s: %s parses; what its settings name:\n", prog, file ? file : "no -c file");
        if (check)
            check (cfg, &c);
        return mm_check_done (&c, prog, file);
    }
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  Daemons' stop signals

//  A signal handler can only reach a global.
static volatile sig_atomic_t s_stopping;

static void
s_on_stop (int sig)
{
    (void) sig;
    s_stopping = 1;
}

int
mm_daemon_stop_signals (void)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_stop;
    if (sigaction (SIGINT, &sa, NULL) == -1 || sigaction (SIGTERM, &sa, NULL) == -1)
        return -1;
    return 0;
}

bool
mm_daemon_stopping (void)
{
    return s_stopping != 0;
}
