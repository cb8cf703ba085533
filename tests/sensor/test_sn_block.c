/*  sn_block: the nft command line, exactly; no second add while an address is blocked, a new
    one after the timeout; failures (nft missing, nft saying no, nft hanging) counted and the
    address retried later; addresses that must never be blocked; the queue behind a slow nft;
    and the engine's "defence.block" finding. A fake `nft` (a shell script written here)
    records its arguments one per line, and exits with the code in a file. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_block.h"
#include "sn_detect.h"

#define S_NS 1000000000ULL
#define T0 (1700000000ULL * S_NS)

static sn_config_t cfg;
static char dir[64];

static void
s_write (const char *name, const char *text)
{
    char path[128];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f);
    fputs (text, f);
    fclose (f);
}

//  Everything the fake nft recorded, as one string ("" if it never ran).
static char *
s_calls (void)
{
    static char buf[65536];
    char path[128];
    snprintf (path, sizeof path, "%s/calls", dir);
    FILE *f = fopen (path, "r");
    if (!f) {
        buf[0] = 0;
        return buf;
    }
    size_t n = fread (buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose (f);
    return buf;
}

static size_t
s_n_calls (void)
{
    size_t n = 0;
    for (const char *p = s_calls (); (p = strstr (p, "--end--")) != NULL; p++)
        n++;
    return n;
}

static void
s_setup (void)
{
    snprintf (dir, sizeof dir, "/tmp/mm-block-XXXXXX");
    cr_assert_not_null (mkdtemp (dir));
    //  Records argv[1..] one per line; sleeps if one of them is the address in `slow` (with
    //  the seconds after it); exits with the code in `rc`.
    char script[1024];
    snprintf (script, sizeof script,
              "#!/bin/sh\n"
              "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done >> %s/calls\n"
              "echo --end-- >> %s/calls\n"
              "if [ -f %s/slow ]; then read addr secs < %s/slow\n"
              "  for a in \"$@\"; do if [ \"$a\" = \"$addr\" ]; then sleep \"$secs\"; fi; done\n"
              "fi\n"
              "exit \"$(cat %s/rc 2>/dev/null || echo 0)\"\n",
              dir, dir, dir, dir, dir);
    s_write ("nft", script);
    char path[128];
    snprintf (path, sizeof path, "%s/nft", dir);
    cr_assert_eq (chmod (path, 0755), 0);

    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    cfg.block = true;
    snprintf (cfg.block_nft, sizeof cfg.block_nft, "%s", path);
    cfg.block_timeout = 3600;
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq (system (cmd), 0);
}

TestSuite (sn_block, .init = s_setup, .fini = s_teardown, .timeout = 30);

static mm_addr_t
s_ip (const char *text)
{
    mm_addr_t a;
    memset (&a, 0, sizeof a);
    a.len = strchr (text, ':') ? 16 : 4;
    cr_assert_eq (inet_pton (a.len == 4 ? AF_INET : AF_INET6, text, a.b), 1);
    return a;
}

Test (sn_block, exact_argv)
{
    sn_block_t *b = sn_block_new (&cfg);
    cr_assert_not_null (b);
    mm_addr_t v4 = s_ip ("192.0.2.7"), v6 = s_ip ("2001:db8::7");
    cr_expect_eq (sn_block_add (b, &v4, T0), 0);
    cr_expect_eq (sn_block_add (b, &v6, T0), 0);  //  queued behind the first
    sn_block_wait (b);
    cr_expect_str_eq (s_calls (), "add\nelement\ninet\nmimamori\nblock4\n{\n192.0.2.7\ntimeout\n"
                                  "3600s\n}\n--end--\n"
                                  "add\nelement\ninet\nmimamori\nblock6\n{\n2001:db8::7\ntimeout\n"
                                  "3600s\n}\n--end--\n");
    cr_expect_eq (sn_block_stats (b)->added, 2u);
    cr_expect_eq (sn_block_stats (b)->failed, 0u);
    sn_block_destroy (&b);
    cr_expect_null (b);
}

Test (sn_block, other_names_and_table_without_family)
{
    snprintf (cfg.block_table, sizeof cfg.block_table, "edge");
    snprintf (cfg.block_set4, sizeof cfg.block_set4, "bad_v4");
    cfg.block_timeout = 60;
    sn_block_t *b = sn_block_new (&cfg);
    cr_assert_not_null (b);
    mm_addr_t a = s_ip ("198.51.100.1");
    cr_expect_eq (sn_block_add (b, &a, T0), 0);
    sn_block_wait (b);
    cr_expect_str_eq (s_calls (),
                      "add\nelement\nedge\nbad_v4\n{\n198.51.100.1\ntimeout\n60s\n}\n--end--\n");
    sn_block_destroy (&b);
}

//  Names that would change the command nft parses are refused at start.
Test (sn_block, names_checked)
{
    snprintf (cfg.block_set4, sizeof cfg.block_set4, "b4 } ; flush ruleset ; {");
    cr_expect_null (sn_block_new (&cfg));
    snprintf (cfg.block_set4, sizeof cfg.block_set4, "block4");
    snprintf (cfg.block_table, sizeof cfg.block_table, "inet mimamori;");
    cr_expect_null (sn_block_new (&cfg));
}

Test (sn_block, dedup_while_blocked_then_again_after_expiry)
{
    sn_block_t *b = sn_block_new (&cfg);
    mm_addr_t a = s_ip ("203.0.113.9");
    cr_expect_eq (sn_block_add (b, &a, T0), 0);
    sn_block_wait (b);
    cr_expect (sn_block_is_blocked (b, &a, T0 + S_NS));
    cr_expect_eq (sn_block_add (b, &a, T0 + 10 * S_NS), -1);
    cr_expect_eq (sn_block_add (b, &a, T0 + 3599 * S_NS), -1);
    sn_block_expire (b, T0 + 3599 * S_NS);
    cr_expect_eq (sn_block_add (b, &a, T0 + 3599 * S_NS), -1);
    cr_expect_eq (sn_block_stats (b)->already, 3u);
    cr_expect_eq (s_n_calls (), 1u);
    //  The block has run out: nftables dropped the element, so it is added again.
    sn_block_expire (b, T0 + 3601 * S_NS);
    cr_expect_not (sn_block_is_blocked (b, &a, T0 + 3601 * S_NS));
    cr_expect_eq (sn_block_add (b, &a, T0 + 3601 * S_NS), 0);
    sn_block_wait (b);
    cr_expect_eq (s_n_calls (), 2u);
    cr_expect_eq (sn_block_stats (b)->added, 2u);
    //  An IPv4-mapped IPv6 address is the same IPv4 address.
    mm_addr_t mapped = s_ip ("::ffff:203.0.113.9");
    cr_expect_eq (sn_block_add (b, &mapped, T0 + 3602 * S_NS), -1);
    cr_expect_eq (sn_block_stats (b)->already, 4u);
    sn_block_destroy (&b);
}

Test (sn_block, nft_says_no)
{
    s_write ("rc", "1\n");
    sn_block_t *b = sn_block_new (&cfg);
    mm_addr_t a = s_ip ("203.0.113.10");
    cr_expect_eq (sn_block_add (b, &a, T0), 0);  //  started; the verdict comes later
    sn_block_wait (b);
    cr_expect_eq (sn_block_stats (b)->failed, 1u);
    cr_expect_not (sn_block_is_blocked (b, &a, T0 + S_NS));
    //  Forgotten, so the next finding tries again (and now nft agrees).
    s_write ("rc", "0\n");
    cr_expect_eq (sn_block_add (b, &a, T0 + S_NS), 0);
    sn_block_wait (b);
    cr_expect_eq (sn_block_stats (b)->failed, 1u);
    cr_expect_eq (sn_block_stats (b)->added, 2u);
    cr_expect_eq (s_n_calls (), 2u);
    sn_block_destroy (&b);
}

Test (sn_block, nft_missing)
{
    snprintf (cfg.block_nft, sizeof cfg.block_nft, "%s/no-such-nft", dir);
    sn_block_t *b = sn_block_new (&cfg);
    cr_assert_not_null (b);
    mm_addr_t a = s_ip ("203.0.113.11");
    cr_expect_eq (sn_block_add (b, &a, T0), -1);
    cr_expect_eq (sn_block_add (b, &a, T0), -1);  //  not remembered as blocked: tried again
    cr_expect_eq (sn_block_stats (b)->failed, 2u);
    cr_expect_eq (sn_block_stats (b)->added, 0u);
    sn_block_destroy (&b);
}

//  A hung nft is killed at SN_BLOCK_CHILD_TIMEOUT_MS; the sensor never waited for it.
Test (sn_block, nft_hangs)
{
    s_write ("slow", "203.0.113.12 30\n");
    sn_block_t *b = sn_block_new (&cfg);
    mm_addr_t a = s_ip ("203.0.113.12"), c = s_ip ("203.0.113.13");
    cr_expect_eq (sn_block_add (b, &a, T0), 0);
    cr_expect_eq (sn_block_add (b, &c, T0), 0);  //  queued behind it
    sn_block_expire (b, T0);                     //  the packet loop's tick returns at once
    cr_expect_eq (sn_block_stats (b)->failed, 0u);
    sn_block_wait (b);
    cr_expect_eq (sn_block_stats (b)->failed, 1u);  //  the hung one, killed
    cr_expect_not (sn_block_is_blocked (b, &a, T0));
    cr_expect (sn_block_is_blocked (b, &c, T0));
    cr_expect_eq (s_n_calls (), 2u);
    sn_block_destroy (&b);
}

Test (sn_block, never_blocked)
{
    char err[256];
    cr_assert_eq (
        mm_netlist_parse (&cfg.block_never, "198.51.100.0/24, 2001:db8:1::/48", err, sizeof err),
        0);
    sn_block_t *b = sn_block_new (&cfg);
    const char *never[] = {
        "192.168.1.10", "10.0.0.1",    "198.51.100.20",   "2001:db8:1::5",   "127.0.0.1",
        "169.254.1.1",  "224.0.0.251", "255.255.255.255", "0.0.0.0",         "::1",
        "::",           "fe80::1",     "ff02::1",         "::ffff:10.1.2.3", "fd00::1"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        mm_addr_t a = s_ip (never[i]);
        cr_expect_eq (sn_block_add (b, &a, T0), -1, "%s", never[i]);
    }
    cr_expect_eq (sn_block_stats (b)->refused, sizeof never / sizeof never[0]);
    cr_expect_eq (sn_block_stats (b)->added, 0u);
    sn_block_wait (b);
    cr_expect_eq (s_n_calls (), 0u);
    sn_block_destroy (&b);
}

//  Behind a slow nft the queue holds SN_BLOCK_QUEUE_MAX addresses; more are failures, not
//  memory; the queued ones all run, in order.
Test (sn_block, queue_is_bounded)
{
    s_write ("slow", "203.0.113.100 0.3\n");  //  only the first is slow
    sn_block_t *b = sn_block_new (&cfg);
    unsigned n = SN_BLOCK_QUEUE_MAX + 1 + 5;
    int ok = 0, refused = 0;
    for (unsigned i = 0; i < n; i++) {
        char text[32];
        snprintf (text, sizeof text, "203.0.113.%u", 100 + i);
        mm_addr_t a = s_ip (text);
        if (sn_block_add (b, &a, T0) == 0)
            ok++;
        else
            refused++;
    }
    cr_expect_eq (ok, SN_BLOCK_QUEUE_MAX + 1);
    cr_expect_eq (refused, 5);
    cr_expect_eq (sn_block_stats (b)->failed, 5u);
    sn_block_wait (b);
    cr_expect_eq (s_n_calls (), (size_t) SN_BLOCK_QUEUE_MAX + 1);
    cr_expect (strstr (s_calls (), "203.0.113.100\n") < strstr (s_calls (), "203.0.113.164\n"));
    sn_block_destroy (&b);
}

//  ---------------------------------------------------------------------------------------------
//  Through the engine: a finding at least min_severity, or an indicator marked `block`, blocks
//  its outside party and says so in a "defence.block" finding with action block.

typedef struct {
    size_t n;
    uint64_t seq;
    mm_event_t ev[16];
    char detector[16][32];
} s_out_t;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    s_out_t *o = arg;
    ev->seq = ++o->seq;
    if (o->n < 16) {
        o->ev[o->n] = *ev;
        snprintf (o->detector[o->n], sizeof o->detector[0], "%.*s", (int) ev->finding.detector.len,
                  ev->finding.detector.ptr);
        o->n++;
    }
    return ev->seq;
}

Test (sn_block, engine_blocks_and_says_so)
{
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.beacon = cfg.dnst = cfg.lateral = false;
    cfg.exfil = cfg.cleartext = false;
    cfg.block_min_severity = MM_SEV_HIGH;
    static s_out_t out;
    memset (&out, 0, sizeof out);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    static const sn_det_info_t info = {"test.c2", 1, MM_CAT_C2_BEACON, MM_SEV_HIGH, 90, {"T1071"}};
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = &info;
    a.ts = T0;
    a.src = s_ip ("192.168.1.5");
    a.dst = s_ip ("198.51.100.66");
    a.offender = SN_OFFENDER_DST;  //  a C2 server: the place called is the offender
    snprintf (a.message, sizeof a.message, "test");
    sn_detect_raise (d, &a);
    cr_assert_eq (out.n, 2u);
    cr_expect_str_eq (out.detector[1], "defence.block");
    cr_expect_eq (out.ev[1].finding.action, MM_ACTION_BLOCK);
    cr_expect (out.ev[1].finding.has & MM_FINDING_HAS_ACTION);
    cr_expect_eq (memcmp (out.ev[1].src.b, a.dst.b, 4), 0);  //  the outside party
    //  A medium finding does not block; an indicator marked `block` does.
    a.severity = MM_SEV_MEDIUM;
    a.dst = s_ip ("198.51.100.67");
    sn_detect_raise (d, &a);
    cr_expect_eq (out.n, 3u);
    a.dst = s_ip ("198.51.100.68");
    a.block = true;
    sn_detect_raise (d, &a);
    cr_expect_eq (out.n, 5u);
    cr_expect_str_eq (out.detector[4], "defence.block");
    sn_detect_destroy (&d);  //  waits for the nft runs
    cr_expect_eq (s_n_calls (), 2u);
    cr_expect (strstr (s_calls (), "198.51.100.66\n") != NULL);
    cr_expect (strstr (s_calls (), "198.51.100.68\n") != NULL);
}
