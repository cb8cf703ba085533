/*  sn_det_lateral: admin shares, executables written over SMB, remote service and task pipes,
    their correlation per (source, target) pair, and RC4 service tickets (kerberoasting), fed
    as the sensor feeds them: SMB and Kerberos events through sn_detect_event. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sn_detect.h"

#define S_NS 1000000000ULL
#define S_MAX 256
#define T0 (1700000000ULL * S_NS)

typedef struct {
    size_t n;
    uint64_t seq;
    mm_event_t ev[S_MAX];
    char detector[S_MAX][40];
} s_out_t;

static s_out_t out;
static sn_config_t cfg;

static uint64_t
s_emit (void *arg, mm_event_t *ev)
{
    s_out_t *o = arg;
    ev->seq = ++o->seq;
    if (ev->finding.id == 0)
        ev->finding.id = ev->seq;
    if (o->n < S_MAX) {
        o->ev[o->n] = *ev;
        snprintf (o->detector[o->n], sizeof o->detector[0], "%.*s", (int) ev->finding.detector.len,
                  ev->finding.detector.ptr);
        o->n++;
    }
    return ev->seq;
}

static void
s_setup (void)
{
    memset (&out, 0, sizeof out);
    char err[256];
    cr_assert_eq (sn_config_defaults (&cfg, err, sizeof err), 0, "%s", err);
    //  Only this detector.
    cfg.scan = cfg.brute = cfg.exposed = cfg.ioc = cfg.beacon = cfg.dnst = false;
    cfg.exfil = cfg.cleartext = false;
    cfg.lateral = true;
}

TestSuite (sn_det_lateral, .init = s_setup);

static mm_addr_t
s_ip (const char *text)
{
    mm_addr_t a;
    memset (&a, 0, sizeof a);
    a.len = 4;
    cr_assert_eq (inet_pton (AF_INET, text, a.b), 1);
    return a;
}

//  An SMB record as sn_sensor makes it: client -> server port 445.
static mm_event_t
s_smb (const char *src, const char *dst, uint64_t ts, uint16_t command, const char *share,
       const char *file)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = ts;
    ev.kind = MM_KIND_SMB;
    ev.proto = 6;
    ev.src = s_ip (src);
    ev.dst = s_ip (dst);
    ev.has = MM_EV_HAS_PORTS | MM_EV_HAS_SMB;
    ev.sport = 49285;
    ev.dport = 445;
    ev.smb.has = MM_SMB_HAS_COMMAND | MM_SMB_HAS_STATUS;
    ev.smb.command = command;
    ev.smb.share = mm_str (share);
    ev.smb.file = mm_str (file);
    if (command == 5) {
        //  As PsExec opens its pipes: read/write, FILE_OPEN.
        ev.smb.has |= MM_SMB_HAS_ACCESS | MM_SMB_HAS_DISPOSITION;
        ev.smb.access = 0x0012019f;
        ev.smb.disposition = 1;
    }
    return ev;
}

static mm_event_t
s_connect (const char *src, const char *dst, uint64_t ts, const char *share)
{
    return s_smb (src, dst, ts, 3, share, NULL);
}

//  A CREATE with the given access and disposition.
static mm_event_t
s_create_file (const char *src, const char *dst, uint64_t ts, const char *share, const char *file,
               uint32_t access, uint32_t disposition)
{
    mm_event_t ev = s_smb (src, dst, ts, 5, share, file);
    ev.smb.access = access;
    ev.smb.disposition = disposition;
    return ev;
}

//  PsExec writing its service binary: 0x00120196 (write data, append, write EA/attributes,
//  read control, synchronize), FILE_OVERWRITE_IF, from suricata-verify smb2-07.
static mm_event_t
s_write_exe (const char *src, const char *dst, uint64_t ts, const char *share, const char *file)
{
    return s_create_file (src, dst, ts, share, file, 0x00120196, 5);
}

static mm_event_t
s_tgs_rep (const char *client, const char *kdc, uint64_t ts, const char *sname, uint16_t etype)
{
    mm_event_t ev;
    memset (&ev, 0, sizeof ev);
    ev.ts = ts;
    ev.kind = MM_KIND_KRB;
    ev.proto = 17;
    ev.src = s_ip (client);
    ev.dst = s_ip (kdc);
    ev.has = MM_EV_HAS_PORTS | MM_EV_HAS_KRB;
    ev.sport = 53000;
    ev.dport = 88;
    ev.krb.has = MM_KRB_HAS_ETYPE;
    ev.krb.msg_type = 13;
    ev.krb.realm = mm_str ("CORP.EXAMPLE");
    ev.krb.cname = mm_str ("alice");
    ev.krb.sname = mm_str (sname);
    ev.krb.etype = etype;
    return ev;
}

//  Findings emitted by `detector` (revisions included) and how many distinct ids they have.
static size_t
s_count (const char *detector, size_t *ids)
{
    size_t n = 0, distinct = 0;
    uint64_t seen[S_MAX];
    for (size_t i = 0; i < out.n; i++) {
        if (strcmp (out.detector[i], detector) != 0)
            continue;
        n++;
        bool known = false;
        for (size_t j = 0; j < distinct; j++)
            known |= seen[j] == out.ev[i].finding.id;
        if (!known)
            seen[distinct++] = out.ev[i].finding.id;
    }
    if (ids)
        *ids = distinct;
    return n;
}

//  The newest event of `detector`, or NULL.
static const mm_event_t *
s_last (const char *detector)
{
    for (size_t i = out.n; i > 0; i--)
        if (strcmp (out.detector[i - 1], detector) == 0)
            return &out.ev[i - 1];
    return NULL;
}

static void
s_feed (sn_detect_t *d, mm_event_t ev)
{
    sn_detect_event (d, &ev);
}

Test (sn_det_lateral, disabled_is_absent)
{
    cfg.lateral = false;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    cr_expect_null (sn_detect_module (d, "lateral"));
    s_feed (d, s_connect ("192.168.10.31", "192.168.10.10", T0, "\\\\dc1\\ADMIN$"));
    sn_detect_flush (d);
    cr_expect_eq (out.n, 0u);
    sn_detect_destroy (&d);
}

//  PsExec as suricata-verify smb2-07 shows it: ADMIN$, PSEXESVC.exe written, svcctl opened.
//  The admin-share finding escalates from medium to high (a revision of the same finding, sent
//  at once), and each sign is one finding for the pair.
Test (sn_det_lateral, psexec_chain_escalates_one_finding)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    cr_assert_not_null (d);
    const char *c = "192.168.10.31", *s = "192.168.10.10";
    s_feed (d, s_connect (c, s, T0, "\\\\dc1\\ADMIN$"));
    cr_assert_eq (out.n, 1u);
    cr_expect_str_eq (out.detector[0], "lateral.admin_share");
    cr_expect_eq (out.ev[0].severity, MM_SEV_MEDIUM);
    cr_expect_eq (out.ev[0].finding.revision, 0u);
    cr_expect_eq (out.ev[0].dport, 445);
    cr_expect_eq (out.ev[0].direction, MM_DIR_INTERNAL);
    cr_expect_eq (memcmp (out.ev[0].src.b, s_ip (c).b, 4), 0);
    cr_expect_eq (memcmp (out.ev[0].dst.b, s_ip (s).b, 4), 0);
    cr_expect_eq (out.ev[0].finding.evidence.count, 1u);
    cr_expect_str_eq (out.ev[0].finding.attack[0].ptr, "T1021.002");
    uint64_t admin_id = out.ev[0].finding.id;

    s_feed (d, s_write_exe (c, s, T0 + S_NS / 1000, "\\\\dc1\\ADMIN$", "PSEXESVC.exe"));
    cr_assert_eq (out.n, 3u);
    cr_expect_str_eq (out.detector[1], "lateral.smb_exec");
    cr_expect_eq (out.ev[1].severity, MM_SEV_MEDIUM);  //  onto an admin share
    cr_expect_str_eq (out.ev[1].finding.attack[0].ptr, "T1570");
    cr_expect (strstr (out.ev[1].finding.message.ptr, "PSEXESVC.exe") != NULL);
    cr_expect_str_eq (out.detector[2], "lateral.admin_share");
    cr_expect_eq (out.ev[2].severity, MM_SEV_HIGH);
    cr_expect_eq (out.ev[2].finding.id, admin_id);
    cr_expect_eq (out.ev[2].finding.revision, 1u);

    s_feed (d, s_smb (c, s, T0 + 21 * S_NS, 5, "\\\\dc1\\IPC$", "svcctl"));
    cr_assert_eq (out.n, 4u);  //  the admin finding is already high: no new revision yet
    cr_expect_str_eq (out.detector[3], "lateral.remote_service");
    cr_expect_eq (out.ev[3].severity, MM_SEV_HIGH);
    cr_expect_str_eq (out.ev[3].finding.attack[0].ptr, "T1569.002");
    s_feed (d, s_smb (c, s, T0 + 22 * S_NS, 5, "\\\\dc1\\IPC$", "svcctl"));
    s_feed (d, s_connect (c, s, T0 + 22 * S_NS, "\\\\dc1\\ADMIN$"));
    sn_detect_flush (d);

    size_t ids;
    s_count ("lateral.admin_share", &ids);
    cr_expect_eq (ids, 1u);
    s_count ("lateral.smb_exec", &ids);
    cr_expect_eq (ids, 1u);
    s_count ("lateral.remote_service", &ids);
    cr_expect_eq (ids, 1u);
    const mm_event_t *last = s_last ("lateral.admin_share");
    cr_expect_eq (last->severity, MM_SEV_HIGH);
    cr_expect_eq (last->finding.evidence.count, 2u);
    cr_expect (strstr (last->finding.message.ptr, "executable written") != NULL);
    cr_expect (strstr (last->finding.message.ptr, "service control opened") != NULL);
    cr_expect_eq (s_last ("lateral.remote_service")->finding.evidence.count, 2u);
    cr_expect_eq (sn_detect_stats (d)->by_severity[MM_SEV_HIGH], 1u);  //  remote_service
    sn_detect_destroy (&d);
}

//  The service first, the admin share after (the second PsExec connection of smb2-07): the
//  admin-share finding is high from its start.
Test (sn_det_lateral, service_before_admin_share)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_smb ("10.1.1.5", "10.1.1.9", T0, 5, "\\\\srv\\IPC$", "svcctl"));
    s_feed (d, s_connect ("10.1.1.5", "10.1.1.9", T0 + 200 * S_NS, "\\\\srv\\C$"));
    cr_assert_eq (out.n, 2u);
    cr_expect_str_eq (out.detector[1], "lateral.admin_share");
    cr_expect_eq (out.ev[1].severity, MM_SEV_HIGH);
    cr_expect_eq (out.ev[1].finding.revision, 0u);
    cr_expect (strstr (out.ev[1].finding.message.ptr, "admin share C$") != NULL);
    sn_detect_destroy (&d);
}

//  Signs further apart than the window make no chain.
Test (sn_det_lateral, chain_needs_the_window)
{
    cfg.lateral_window = 600;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_connect ("10.1.1.5", "10.1.1.9", T0, "\\\\srv\\ADMIN$"));
    s_feed (d, s_smb ("10.1.1.5", "10.1.1.9", T0 + 601 * S_NS, 5, "\\\\srv\\IPC$", "svcctl"));
    sn_detect_flush (d);
    const mm_event_t *a = s_last ("lateral.admin_share");
    cr_assert_not_null (a);
    cr_expect_eq (a->severity, MM_SEV_MEDIUM);
    cr_expect_eq (s_count ("lateral.admin_share", NULL), 1u);
    //  Another pair's service does not escalate this one either.
    s_feed (d, s_connect ("10.1.1.5", "10.1.1.8", T0 + 700 * S_NS, "\\\\srv\\ADMIN$"));
    s_feed (d, s_smb ("10.1.1.6", "10.1.1.8", T0 + 701 * S_NS, 5, "\\\\srv\\IPC$", "svcctl"));
    sn_detect_flush (d);
    cr_expect_eq (s_last ("lateral.admin_share")->severity, MM_SEV_MEDIUM);
    sn_detect_destroy (&d);
}

//  IPC$ and its ordinary pipes, PRINT$, named shares: what every Windows client does.
Test (sn_det_lateral, ordinary_shares_and_pipes_are_quiet)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    const char *c = "192.168.1.20", *s = "192.168.1.2";
    s_feed (d, s_connect (c, s, T0, "\\\\fs\\IPC$"));
    s_feed (d, s_smb (c, s, T0, 5, "\\\\fs\\IPC$", "srvsvc"));
    s_feed (d, s_smb (c, s, T0, 5, "\\\\fs\\IPC$", "lsarpc"));
    s_feed (d, s_connect (c, s, T0, "\\\\fs\\print$"));
    s_feed (d, s_connect (c, s, T0, "\\\\fs\\Public"));
    s_feed (d, s_connect (c, s, T0, "\\\\fs\\AB$"));  //  a hidden share, not a drive
    s_feed (d, s_smb (c, s, T0, 5, "\\\\fs\\Public", "report.docx"));
    //  "svcctl" as a file on a disk share is no pipe.
    s_feed (d, s_smb (c, s, T0, 5, "\\\\fs\\Public", "svcctl"));
    sn_detect_flush (d);
    cr_expect_eq (out.n, 0u);
    sn_detect_destroy (&d);
}

Test (sn_det_lateral, admin_share_names)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_connect ("10.0.0.1", "10.0.0.2", T0, "\\\\h\\d$"));
    s_feed (d, s_connect ("10.0.0.1", "10.0.0.3", T0, "\\\\h\\admin$"));
    s_feed (d, s_connect ("10.0.0.1", "10.0.0.4", T0, "C$"));
    cr_expect_eq (s_count ("lateral.admin_share", NULL), 3u);
    //  A refused connect did nothing.
    mm_event_t ev = s_connect ("10.0.0.1", "10.0.0.5", T0, "\\\\h\\C$");
    ev.smb.status = 0xC0000022;  //  STATUS_ACCESS_DENIED
    s_feed (d, ev);
    cr_expect_eq (s_count ("lateral.admin_share", NULL), 3u);
    //  No status yet (the response was never seen): counted.
    ev.smb.has &= ~MM_SMB_HAS_STATUS;
    s_feed (d, ev);
    cr_expect_eq (s_count ("lateral.admin_share", NULL), 4u);
    sn_detect_destroy (&d);
}

//  Only a CREATE that can write counts: reads, attribute queries and deletes of executables
//  (nDPI smb_deletefile.pcap, Zeek smb3_multichannel.pcap) are not tool transfers.
Test (sn_det_lateral, exec_needs_write)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    const char *c = "192.168.1.118", *s = "192.168.1.187";
    s_feed (d, s_create_file (c, s, T0, "", "Luca\\Downloads\\vcredist_x64.exe", 0x00100080, 1));
    s_feed (d, s_create_file (c, s, T0, "\\\\nas\\share2", "05hh.exe", 0x00120089, 1));
    s_feed (d, s_create_file (c, s, T0, "\\\\nas\\share2", "05hh.exe", 0x00010080, 1));
    s_feed (d, s_write_exe (c, s, T0, "\\\\nas\\share2", "notes.txt"));
    sn_detect_flush (d);
    cr_expect_eq (out.n, 0u);

    //  Written by access (FILE_WRITE_DATA, FILE_OPEN_IF), by disposition (FILE_CREATE with
    //  no write bit), by GENERIC_WRITE: one low finding for the pair, counting three.
    s_feed (d, s_create_file (c, s, T0 + S_NS, "\\\\nas\\share2", "tool.exe", 0x2, 3));
    cr_assert_eq (out.n, 1u);
    cr_expect_str_eq (out.detector[0], "lateral.smb_exec");
    cr_expect_eq (out.ev[0].severity, MM_SEV_LOW);
    s_feed (d, s_create_file (c, s, T0 + 2 * S_NS, "\\\\nas\\share2", "RUN.PS1", 0x80, 2));
    s_feed (d, s_create_file (c, s, T0 + 3 * S_NS, "", "x\\y.dll", 0x40000000, 1));
    sn_detect_flush (d);
    size_t ids;
    s_count ("lateral.smb_exec", &ids);
    cr_expect_eq (ids, 1u);
    const mm_event_t *e = s_last ("lateral.smb_exec");
    cr_expect_eq (e->finding.evidence.count, 3u);
    cr_expect_eq (e->severity, MM_SEV_LOW);
    cr_expect (strstr (e->finding.message.ptr, "y.dll") != NULL);
    //  A failed write did nothing.
    mm_event_t ev = s_write_exe (c, s, T0 + 4 * S_NS, "\\\\nas\\share2", "denied.exe");
    ev.smb.status = 0xC0000022;
    s_feed (d, ev);
    sn_detect_flush (d);
    cr_expect_eq (s_last ("lateral.smb_exec")->finding.evidence.count, 3u);
    sn_detect_destroy (&d);
}

Test (sn_det_lateral, exec_ext_is_configurable)
{
    snprintf (cfg.lateral_exec_ext, sizeof cfg.lateral_exec_ext, " .EXE, scr ,");
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_write_exe ("10.0.0.1", "10.0.0.2", T0, "\\\\h\\share", "a.ps1"));
    cr_expect_eq (out.n, 0u);
    s_feed (d, s_write_exe ("10.0.0.1", "10.0.0.2", T0, "\\\\h\\share", "a.scr"));
    s_feed (d, s_write_exe ("10.0.0.1", "10.0.0.3", T0, "\\\\h\\share", "dir.d\\B.Exe"));
    s_feed (d, s_write_exe ("10.0.0.1", "10.0.0.4", T0, "\\\\h\\share", "exe"));
    cr_expect_eq (s_count ("lateral.smb_exec", NULL), 2u);
    sn_detect_destroy (&d);
}

Test (sn_det_lateral, remote_task_pipe)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    //  suricata-verify smb2-04: a midstream capture, so no share is known.
    s_feed (d, s_smb ("192.168.10.31", "192.168.10.30", T0, 5, "", "atsvc"));
    cr_assert_eq (out.n, 1u);
    cr_expect_str_eq (out.detector[0], "lateral.remote_task");
    cr_expect_eq (out.ev[0].severity, MM_SEV_HIGH);
    //  ...and it escalates an admin share of the same pair.
    s_feed (d, s_connect ("192.168.10.31", "192.168.10.30", T0 + S_NS, "\\\\ws\\C$"));
    cr_expect_eq (s_last ("lateral.admin_share")->severity, MM_SEV_HIGH);
    sn_detect_destroy (&d);
}

//  Targets outside home_net are not lateral movement; sources in `allow` are the admins'.
Test (sn_det_lateral, home_net_and_allow)
{
    char err[256];
    cr_assert_eq (mm_netlist_parse (&cfg.lateral_allow, "192.168.1.250/32", err, sizeof err), 0);
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_connect ("192.168.1.20", "198.51.100.7", T0, "\\\\x\\ADMIN$"));
    s_feed (d, s_connect ("192.168.1.250", "192.168.1.2", T0, "\\\\x\\ADMIN$"));
    s_feed (d, s_smb ("192.168.1.250", "192.168.1.2", T0, 5, "\\\\x\\IPC$", "svcctl"));
    sn_detect_flush (d);
    cr_expect_eq (out.n, 0u);
    //  From outside to an inside host: reported (the direction says inbound).
    s_feed (d, s_connect ("203.0.113.5", "192.168.1.2", T0, "\\\\x\\ADMIN$"));
    cr_assert_eq (out.n, 1u);
    cr_expect_eq (out.ev[0].direction, MM_DIR_INBOUND);
    sn_detect_destroy (&d);
}

//  A record whose flow began with the server's packet: the client is still the source.
Test (sn_det_lateral, server_as_originator)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    mm_event_t ev = s_connect ("192.168.1.2", "192.168.1.20", T0, "\\\\x\\ADMIN$");
    ev.sport = 445;
    ev.dport = 49285;
    s_feed (d, ev);
    cr_assert_eq (out.n, 1u);
    cr_expect_eq (memcmp (out.ev[0].src.b, s_ip ("192.168.1.20").b, 4), 0);
    cr_expect_eq (memcmp (out.ev[0].dst.b, s_ip ("192.168.1.2").b, 4), 0);
    cr_expect_eq (out.ev[0].dport, 445);
    sn_detect_destroy (&d);
}

//  One RC4 ticket is a legacy service (low); many services for one client within the window
//  is kerberoasting (high), the same finding escalated.
Test (sn_det_lateral, kerberoast)
{
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    const char *c = "10.0.5.23", *kdc = "10.0.0.10";
    s_feed (d, s_tgs_rep (c, kdc, T0, "krbtgt/CORP.EXAMPLE", 23));     //  a TGT: not a service
    s_feed (d, s_tgs_rep (c, kdc, T0, "HTTP/web9.corp.example", 18));  //  AES
    //  Computer accounts' services, RC4 at every logon in a legacy domain (nDPI
    //  kerberos-login.pcap): not what kerberoasting cracks.
    s_feed (d, s_tgs_rep (c, kdc, T0, "cifs/VPC-W2K3ENT", 23));
    s_feed (d, s_tgs_rep (c, kdc, T0, "LDAP/vpc-w2k3ent.denyDC.com/denyDC.com", 23));
    s_feed (d, s_tgs_rep (c, kdc, T0, "host/xp1.denydc.com", 23));
    s_feed (d, s_tgs_rep (c, kdc, T0, "DC01$", 23));
    mm_event_t req = s_tgs_rep (c, kdc, T0, "MSSQLSvc/db1:1433", 23);
    req.krb.msg_type = 12;  //  a request says nothing of the ticket's etype
    s_feed (d, req);
    cr_expect_eq (out.n, 0u);

    s_feed (d, s_tgs_rep (c, kdc, T0, "MSSQLSvc/db1.corp.example:1433", 23));
    cr_assert_eq (out.n, 1u);
    cr_expect_str_eq (out.detector[0], "lateral.kerberoast");
    cr_expect_eq (out.ev[0].severity, MM_SEV_LOW);
    cr_expect_eq (out.ev[0].dport, 88);
    cr_expect_str_eq (out.ev[0].finding.attack[0].ptr, "T1558.003");
    cr_expect_eq (memcmp (out.ev[0].src.b, s_ip (c).b, 4), 0);
    cr_expect_eq (memcmp (out.ev[0].dst.b, s_ip (kdc).b, 4), 0);
    uint64_t id = out.ev[0].finding.id;
    //  The same service again (any case) is not a new one.
    s_feed (d, s_tgs_rep (c, kdc, T0 + S_NS, "mssqlsvc/DB1.corp.example:1433", 23));
    cr_expect_eq (out.n, 1u);
    const char *spn[] = {"HTTP/web1.corp.example", "HTTP/web2.corp.example", "svc/backup",
                         "MSSQLSvc/db2.corp.example:1433"};
    for (size_t i = 0; i < 3; i++)
        s_feed (d, s_tgs_rep (c, kdc, T0 + (2 + i) * S_NS, spn[i], 23));
    cr_expect_eq (out.n, 1u);  //  four services: still low, folded
    s_feed (d, s_tgs_rep (c, kdc, T0 + 5 * S_NS, spn[3], 23));
    cr_assert_eq (out.n, 2u);  //  the fifth: escalated at once
    cr_expect_eq (out.ev[1].severity, MM_SEV_HIGH);
    cr_expect_eq (out.ev[1].finding.id, id);
    cr_expect_eq (out.ev[1].finding.evidence.count, 6u);
    cr_expect_eq (out.ev[1].finding.evidence.distinct_hosts, 5u);
    cr_expect (strstr (out.ev[1].finding.message.ptr, "kerberoasting") != NULL);
    sn_detect_destroy (&d);
}

Test (sn_det_lateral, kerberoast_window_and_switch)
{
    cfg.lateral_window = 60;
    cfg.lateral_kerberoast_services = 3;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    //  Three services, each 61 s after the last: never three within a window.
    s_feed (d, s_tgs_rep ("10.0.5.23", "10.0.0.10", T0, "a/1", 23));
    s_feed (d, s_tgs_rep ("10.0.5.23", "10.0.0.10", T0 + 61 * S_NS, "b/1", 23));
    s_feed (d, s_tgs_rep ("10.0.5.23", "10.0.0.10", T0 + 122 * S_NS, "c/1", 23));
    sn_detect_flush (d);
    const mm_event_t *e = s_last ("lateral.kerberoast");
    cr_assert_not_null (e);
    cr_expect_eq (e->severity, MM_SEV_LOW);
    cr_expect_eq (e->finding.evidence.count, 3u);
    cr_expect_eq (e->finding.evidence.distinct_hosts, 3u);
    //  Three from another client within a window: high. Replies on the KDC's side of the
    //  flow (source port 88) still name the client.
    mm_event_t ev = s_tgs_rep ("10.0.0.10", "10.0.5.24", T0 + 200 * S_NS, "a/1", 23);
    ev.sport = 88;
    ev.dport = 53001;
    s_feed (d, ev);
    s_feed (d, s_tgs_rep ("10.0.5.24", "10.0.0.10", T0 + 201 * S_NS, "b/1", 24));
    s_feed (d, s_tgs_rep ("10.0.5.24", "10.0.0.10", T0 + 202 * S_NS, "c/1", 23));
    e = s_last ("lateral.kerberoast");
    cr_expect_eq (e->severity, MM_SEV_HIGH);
    cr_expect_eq (memcmp (e->src.b, s_ip ("10.0.5.24").b, 4), 0);
    sn_detect_destroy (&d);

    //  rc4_tickets off: nothing.
    memset (&out, 0, sizeof out);
    cfg.lateral_rc4 = false;
    d = sn_detect_new (&cfg, s_emit, &out);
    s_feed (d, s_tgs_rep ("10.0.5.23", "10.0.0.10", T0, "a/1", 23));
    sn_detect_flush (d);
    cr_expect_eq (out.n, 0u);
    sn_detect_destroy (&d);
}

//  Thousands of pairs in a table of 16: memory stays bounded and nothing breaks; the newest
//  pair still correlates.
Test (sn_det_lateral, bounded_state)
{
    cfg.lateral_max_tracked = 16;
    cfg.max_findings = 16;
    sn_detect_t *d = sn_detect_new (&cfg, s_emit, &out);
    for (unsigned i = 0; i < 5000; i++) {
        char src[32];
        snprintf (src, sizeof src, "10.%u.%u.1", (i >> 8) & 0xff, i & 0xff);
        s_feed (d, s_connect (src, "10.200.0.1", T0 + i * (S_NS / 100), "\\\\h\\C$"));
    }
    memset (&out, 0, sizeof out);
    s_feed (d, s_connect ("10.250.0.1", "10.200.0.1", T0 + 100 * S_NS, "\\\\h\\C$"));
    s_feed (d, s_smb ("10.250.0.1", "10.200.0.1", T0 + 101 * S_NS, 5, "\\\\h\\IPC$", "svcctl"));
    cr_expect_eq (s_last ("lateral.admin_share")->severity, MM_SEV_HIGH);
    sn_detect_destroy (&d);
}
