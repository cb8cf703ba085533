/*  mm_config: INI files checked against a settings table; every error names file and line. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mm_config.h"

typedef struct {
    char name[16];
    uint64_t count;
    bool on;
    mm_netlist_t nets;
} s_cfg_t;

static const mm_cfg_item_t s_table[] = {
    {"main", "name", MM_CFG_STR, offsetof (s_cfg_t, name), 16, 0, 0, "mimamori", "a name"},
    {"main", "count", MM_CFG_UINT, offsetof (s_cfg_t, count), 0, 1, 100, "10", "a count"},
    {"main", "on", MM_CFG_BOOL, offsetof (s_cfg_t, on), 0, 0, 0, "false", "a switch"},
    {"net", "home", MM_CFG_NETS, offsetof (s_cfg_t, nets), 0, 0, 0, "10.0.0.0/8", "networks"},
};
#define S_N (sizeof s_table / sizeof s_table[0])

//  Writes `text` to a temporary file; the caller unlinks it.
static void
s_write (char path[64], const char *text)
{
    snprintf (path, 64, "/tmp/mm-config-test-XXXXXX");
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    FILE *f = fdopen (fd, "w");
    cr_assert (f);
    fputs (text, f);
    fclose (f);
}

//  Loads `text`; returns the loader's result and leaves the message in `err`.
static int
s_load (const char *text, s_cfg_t *cfg, char *err, size_t errlen)
{
    char path[64];
    s_write (path, text);
    char e[256];
    cr_assert_eq (mm_config_defaults (s_table, S_N, cfg, e, sizeof e), 0, "%s", e);
    int rc = mm_config_load (s_table, S_N, cfg, path, err, errlen);
    //  Name the file in the message independently of the random part.
    if (rc == -1 && strncmp (err, path, strlen (path)) == 0) {
        char rest[200];
        snprintf (rest, sizeof rest, "%s", err + strlen (path));
        snprintf (err, errlen, "FILE%s", rest);
    }
    unlink (path);
    return rc;
}

Test (config, defaults)
{
    s_cfg_t cfg;
    char err[256];
    cr_assert_eq (mm_config_defaults (s_table, S_N, &cfg, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq (cfg.name, "mimamori");
    cr_assert_eq (cfg.count, 10);
    cr_assert_not (cfg.on);
    cr_assert_eq (cfg.nets.n, 1);
    cr_assert_eq (cfg.nets.nets[0].prefix, 8);
}

Test (config, a_good_file_overrides_defaults)
{
    s_cfg_t cfg;
    char err[256];
    cr_assert_eq (s_load ("# comment\n; another\n[main]\nname = sensor-1\ncount=42\non = yes\n"
                          "\n[net]\nhome = 192.168.1.0/24, 2001:db8::/32 198.51.100.7\n",
                          &cfg, err, sizeof err),
                  0, "%s", err);
    cr_assert_str_eq (cfg.name, "sensor-1");
    cr_assert_eq (cfg.count, 42);
    cr_assert (cfg.on);
    cr_assert_eq (cfg.nets.n, 3);
    cr_assert_eq (cfg.nets.nets[2].prefix, 32, "a bare address is a /32");
}

//  Every kind of error names the file, the line and the reason.
Test (config, errors_name_the_line)
{
    static const struct {
        const char *text, *expect;
    } cases[] = {
        {"[main]\nname = a\nbogus = 1\n", "FILE:3: unknown setting 'bogus' in [main]"},
        {"[main]\n\ncount = 101\n", "FILE:3: main.count: '101' is not a whole number in 1..100"},
        {"[main]\ncount = -5\n", "FILE:2: main.count: '-5' is not a whole number in 1..100"},
        {"[main]\ncount = 12abc\n", "FILE:2: main.count: '12abc' is not a whole number in 1..100"},
        {"[main]\non = maybe\n", "FILE:2: main.on: 'maybe' is not true or false"},
        {"[main]\nname = this-name-is-too-long\n",
         "FILE:2: main.name: value longer than 15 characters"},
        {"count = 5\n", "FILE:1: 'count' is outside any [section]"},
        {"[net]\nhome = 10.0.0.0/33\n", "FILE:2: net.home: '33' is not a prefix length 0..32"},
        {"[net]\nhome = 10.0.0.300\n",
         "FILE:2: net.home: '10.0.0.300' is not an IPv4 or IPv6 address"},
        {"[main]\nthis line has no equals sign\n",
         "FILE:2: not a '[section]' or 'key = value' line"},
        {"[other]\nname = x\n", "FILE:2: unknown setting 'name' in [other]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_cfg_t cfg;
        char err[256] = "";
        cr_assert_eq (s_load (cases[i].text, &cfg, err, sizeof err), -1, "accepted: %s",
                      cases[i].text);
        cr_assert_str_eq (err, cases[i].expect, "for:\n%s", cases[i].text);
    }
}

//  Two errors: the first one is reported, with its own line and reason, whichever kind it is.
Test (config, the_first_error_is_the_one_reported)
{
    s_cfg_t cfg;
    char err[256] = "";
    cr_assert_eq (s_load ("[main]\ncount = 500\non = maybe\n", &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:2: main.count: '500' is not a whole number in 1..100");
    cr_assert_eq (s_load ("[main]\nno equals here\ncount = 500\n", &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:2: not a '[section]' or 'key = value' line");
    cr_assert_eq (s_load ("[main]\ncount = 500\nno equals here\n", &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:2: main.count: '500' is not a whole number in 1..100");
}

//  Real lists are long: 60 networks on one line (~900 characters) load whole; comments may
//  follow a value after whitespace; a byte-order mark is skipped; a line beyond the limit is
//  refused with its number, never cut in two.
Test (config, long_lines_comments_and_limits)
{
    static char text[20000];
    size_t n = (size_t) snprintf (text, sizeof text,
                                  "\xef\xbb\xbf[main]  # the main part\n"
                                  "count = 7 ; seven\nname = a#b\n[net]\nhome =");
    for (int i = 0; i < 60; i++)
        n += (size_t) snprintf (text + n, sizeof text - n, " 10.%d.0.0/16,", i);
    snprintf (text + n, sizeof text - n, " 192.0.2.0/24\n");
    s_cfg_t cfg;
    char err[256] = "";
    cr_assert_eq (s_load (text, &cfg, err, sizeof err), 0, "%s", err);
    cr_assert_eq (cfg.count, 7);
    cr_assert_str_eq (cfg.name, "a#b", "a '#' inside a value is no comment");
    cr_assert_eq (cfg.nets.n, 61);
    cr_assert_eq (cfg.nets.nets[60].prefix, 24);

    n = (size_t) snprintf (text, sizeof text, "[main]\ncount = 1\nname = ");
    memset (text + n, 'x', 9000);
    snprintf (text + n + 9000, sizeof text - n - 9000, "\n");
    cr_assert_eq (s_load (text, &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:3: line too long (lines hold at most 8191 characters)");
    cr_assert_eq (s_load ("[main\ncount = 1\n", &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:1: not a '[section]' line");
    cr_assert_eq (s_load ("[main]\n= 5\n", &cfg, err, sizeof err), -1);
    cr_assert_str_eq (err, "FILE:2: a value without a key");
}

Test (config, missing_file)
{
    s_cfg_t cfg;
    char err[256];
    cr_assert_eq (mm_config_defaults (s_table, S_N, &cfg, err, sizeof err), 0);
    cr_assert_eq (mm_config_load (s_table, S_N, &cfg, "/nonexistent/x.ini", err, sizeof err), -1);
    cr_assert (strstr (err, "/nonexistent/x.ini: cannot open"), "%s", err);
}

Test (config, set_from_flags_uses_the_same_rules)
{
    s_cfg_t cfg;
    char err[256];
    cr_assert_eq (mm_config_defaults (s_table, S_N, &cfg, err, sizeof err), 0);
    cr_assert_eq (mm_config_set (s_table, S_N, &cfg, "main", "count", "7", err, sizeof err), 0);
    cr_assert_eq (cfg.count, 7);
    cr_assert_eq (mm_config_set (s_table, S_N, &cfg, "main", "count", "0", err, sizeof err), -1);
    cr_assert_eq (cfg.count, 7, "a refused value leaves the setting alone");
}

Test (config, netlist_contains)
{
    mm_netlist_t list;
    char err[128];
    cr_assert_eq (mm_netlist_parse (&list, "10.0.0.0/8 192.168.10.0/23 2001:db8::/33 0.0.0.0/0",
                                    err, sizeof err),
                  0, "%s", err);
    struct {
        const char *addr;
        bool in_first_three;
    } cases[] = {{"10.255.1.2", true},    {"11.0.0.1", false},        {"192.168.11.254", true},
                 {"192.168.12.1", false}, {"2001:db8:7fff::1", true}, {"2001:db8:8000::1", false}};
    mm_netlist_t three = list;
    three.n = 3;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_addr_t a = {0};
        a.len = inet_pton (AF_INET, cases[i].addr, a.b) == 1 ? 4 : 16;
        if (a.len == 16)
            cr_assert_eq (inet_pton (AF_INET6, cases[i].addr, a.b), 1);
        cr_assert_eq (mm_netlist_contains (&three, &a), cases[i].in_first_three, "%s",
                      cases[i].addr);
    }
    mm_addr_t v4 = {4, {203, 0, 113, 9}};
    cr_assert (mm_netlist_contains (&list, &v4), "0.0.0.0/0 holds every IPv4 address");
}

Test (config, print_writes_a_loadable_file)
{
    char path[64];
    snprintf (path, sizeof path, "/tmp/mm-config-print-XXXXXX");
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    FILE *f = fdopen (fd, "w");
    mm_config_print (s_table, S_N, f);
    fclose (f);
    s_cfg_t cfg;
    char err[256];
    cr_assert_eq (mm_config_defaults (s_table, S_N, &cfg, err, sizeof err), 0);
    cr_assert_eq (mm_config_load (s_table, S_N, &cfg, path, err, sizeof err), 0, "%s", err);
    unlink (path);
    cr_assert_str_eq (cfg.name, "mimamori");
}
