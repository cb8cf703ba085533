/*  sn_det_lateral: lateral movement inside the company, from the SMB and Kerberos events.
    Admin shares (C$, ADMIN$), executables written over SMB, the service control and task
    scheduler pipes opened (PsExec, sc.exe, at.exe), and RC4 service tickets (kerberoasting).
    The SMB signs of one (source, target) pair are correlated: the admin-share finding turns
    high when the same pair also wrote an executable or opened a remote service within the
    window. Owner: sensor (issue 4, detector 7). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_distinct.h"
#include "sn_track.h"

#define S_NS 1000000000ULL
#define S_EXT_MAX 32  //  extensions in exec_ext
#define S_EXT_LEN 16  //  longest extension, with its NUL
#define SMB2_TREE_CONNECT 3
#define SMB2_CREATE 5
#define S_DRS_UUID "e3514235-4b06-11d1-ab04-00c04fc2dcd2"  //  replication between DCs

//  CREATE DesiredAccess bits that let a client write a file's data (MS-SMB2 2.2.13.1.1), and
//  the dispositions that create or replace one. A read, an attribute query or a delete
//  (PsExec removing its own service binary) is none of these.
#define S_FILE_WRITE_DATA 0x00000002u
#define S_FILE_APPEND_DATA 0x00000004u
#define S_GENERIC_ALL 0x10000000u
#define S_GENERIC_WRITE 0x40000000u
#define S_WRITE_MASK (S_FILE_WRITE_DATA | S_FILE_APPEND_DATA | S_GENERIC_ALL | S_GENERIC_WRITE)

static const sn_det_info_t s_admin_share = {"lateral.admin_share", 1,  MM_CAT_LATERAL_MOVEMENT,
                                            MM_SEV_MEDIUM,         70, {"T1021.002"}};
static const sn_det_info_t s_smb_exec = {"lateral.smb_exec", 1,  MM_CAT_LATERAL_MOVEMENT,
                                         MM_SEV_LOW,         70, {"T1570", "T1021.002"}};
static const sn_det_info_t s_remote_service = {"lateral.remote_service",
                                               1,
                                               MM_CAT_LATERAL_MOVEMENT,
                                               MM_SEV_HIGH,
                                               80,
                                               {"T1569.002", "T1021.002", "T1543.003"}};
static const sn_det_info_t s_remote_task = {
    "lateral.remote_task", 1,  MM_CAT_LATERAL_MOVEMENT,
    MM_SEV_HIGH,           80, {"T1053.005", "T1053.002", "T1021.002"}};
static const sn_det_info_t s_kerberoast = {"lateral.kerberoast", 1,  MM_CAT_LATERAL_MOVEMENT,
                                           MM_SEV_LOW,           60, {"T1558.003"}};

//  One (client, server) SMB pair. Counts are cumulative while the pair is tracked (the
//  engine keeps the newest evidence of a finding); the *_ts say whether a sign is recent
//  enough to join a chain.
typedef struct {
    uint64_t admin_ts, exec_ts, svc_ts, task_ts;
    uint32_t admin_n, exec_n, exec_admin_n, svc_n, task_n;
    char share[24];  //  the last admin share, e.g. "ADMIN$"
    char file[64];   //  the last executable written
} s_pair_t;

//  One Kerberos client's RC4 service tickets: all of them (evidence) and those of the
//  current window (severity).
typedef struct {
    uint64_t win_start;
    uint32_t tickets;
    sn_distinct_t all;
    sn_distinct_t win;
} s_client_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *pairs;
    sn_track_t *clients;  //  NULL when rc4_tickets is off
    uint64_t window_ns;
    char ext[S_EXT_MAX][S_EXT_LEN];
    size_t n_ext;
} s_lateral_t;

//  ---------------------------------------------------------------------------------------------
//  Names

//  The last path component of `s` (after its last backslash or slash).
static mm_str_t
s_last_component (mm_str_t s)
{
    if (!s.ptr)
        return s;
    uint32_t i = s.len;
    while (i > 0 && s.ptr[i - 1] != '\\' && s.ptr[i - 1] != '/')
        i--;
    return (mm_str_t){s.ptr + i, s.len - i};
}

static bool
s_ieq (mm_str_t s, const char *cstr)
{
    size_t n = strlen (cstr);
    if (!s.ptr || s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower ((unsigned char) s.ptr[i]) != tolower ((unsigned char) cstr[i]))
            return false;
    return true;
}

//  ADMIN$ and the drive shares (C$, D$...): what only administrators can open. IPC$ is the
//  named-pipe share every client opens; PRINT$ holds printer drivers.
static bool
s_is_admin_share (mm_str_t share)
{
    mm_str_t name = s_last_component (share);
    if (s_ieq (name, "ADMIN$"))
        return true;
    return name.len == 2 && isalpha ((unsigned char) name.ptr[0]) && name.ptr[1] == '$';
}

static bool
s_is_ipc (mm_str_t share)
{
    return share.len == 0 || s_ieq (s_last_component (share), "IPC$");
}

static bool
s_is_exec (const s_lateral_t *self, mm_str_t file)
{
    mm_str_t name = s_last_component (file);
    uint32_t dot = name.len;
    while (dot > 0 && name.ptr[dot - 1] != '.')
        dot--;
    if (dot == 0)
        return false;
    mm_str_t ext = {name.ptr + dot, name.len - dot};
    for (size_t i = 0; i < self->n_ext; i++)
        if (s_ieq (ext, self->ext[i]))
            return true;
    return false;
}

//  A CREATE that can write the file. Events without the request's access (none from this
//  sensor) count as writes: missing a tool copy is worse than one more low finding.
static bool
s_is_write (const mm_smb_t *smb)
{
    if (!(smb->has & (MM_SMB_HAS_ACCESS | MM_SMB_HAS_DISPOSITION)))
        return true;
    if ((smb->has & MM_SMB_HAS_ACCESS) && (smb->access & S_WRITE_MASK))
        return true;
    //  FILE_SUPERSEDE 0, FILE_CREATE 2, FILE_OVERWRITE 4, FILE_OVERWRITE_IF 5
    uint32_t d = smb->disposition;
    return (smb->has & MM_SMB_HAS_DISPOSITION) && (d == 0 || d == 2 || d == 4 || d == 5);
}

static void
s_copy_name (char *out, size_t size, mm_str_t s)
{
    size_t n = s.len < size - 1 ? s.len : size - 1;
    if (s.ptr)
        memcpy (out, s.ptr, n);
    else
        n = 0;
    out[n] = 0;
    //  No quote or control byte reaches a message.
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) out[i] < 0x20 || out[i] == '"' || out[i] == 0x7f)
            out[i] = '?';
}

//  ---------------------------------------------------------------------------------------------
//  Findings

static bool
s_recent (const s_lateral_t *self, uint64_t ts, uint64_t now)
{
    //  Records of two connections may arrive a little out of time order.
    return ts != 0 && (now <= ts || now - ts <= self->window_ns);
}

//  A message longer than the alert holds is cut: names come from the wire and may be long.
static void s_message (sn_alert_t *a, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_message (sn_alert_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (a->message, sizeof a->message, fmt, ap);
    va_end (ap);
}

static void
s_alert_init (const s_lateral_t *self, sn_alert_t *a, const sn_det_info_t *info,
              const mm_event_t *ev, const mm_addr_t *src, const mm_addr_t *dst, uint16_t dport)
{
    memset (a, 0, sizeof *a);
    a->info = info;
    a->ts = ev->ts;
    a->proto = ev->proto;
    a->src = *src;
    a->dst = *dst;
    a->has_dport = true;
    a->dport = dport;
    a->evidence.window_s = (uint32_t) self->cfg->lateral_window;
    a->evidence.distinct_hosts = 1;
    a->evidence.last_ts = ev->ts;
}

//  The pair's admin-share finding, high once the pair also wrote an executable or opened a
//  remote service or task within the window (in either order).
static void
s_raise_admin (s_lateral_t *self, const s_pair_t *p, const mm_event_t *ev, const mm_addr_t *src,
               const mm_addr_t *dst, uint16_t dport)
{
    uint64_t now = ev->ts ? ev->ts : 1;
    bool exec = s_recent (self, p->exec_ts, now);
    bool svc = s_recent (self, p->svc_ts, now);
    bool task = s_recent (self, p->task_ts, now);
    sn_alert_t a;
    s_alert_init (self, &a, &s_admin_share, ev, src, dst, dport);
    bool chain = exec || svc || task;
    a.severity = chain ? MM_SEV_HIGH : MM_SEV_MEDIUM;
    a.confidence = chain ? 90 : 70;
    a.evidence.count = p->admin_n;
    char s[64], d[64], also[96] = "";
    sn_detect_addr_str (src, s, sizeof s);
    sn_detect_addr_str (dst, d, sizeof d);
    if (chain)
        snprintf (also, sizeof also, ", with%s%s%s", exec ? " executable written" : "",
                  svc ? (exec ? ", service control opened" : " service control opened") : "",
                  task ? (exec || svc ? ", task scheduler opened" : " task scheduler opened") : "");
    s_message (&a, "admin share %s on %s opened from %s%s", p->share, d, s, also);
    sn_detect_raise (self->engine, &a);
}

static void
s_smb (s_lateral_t *self, const mm_event_t *ev)
{
    const mm_smb_t *smb = &ev->smb;
    if (!(smb->has & MM_SMB_HAS_COMMAND))
        return;
    if (smb->command != SMB2_TREE_CONNECT && smb->command != SMB2_CREATE)
        return;
    //  A refused connect or open did nothing (a brute force is another detector's).
    if ((smb->has & MM_SMB_HAS_STATUS) && smb->status != 0)
        return;
    //  The client is the side that is not port 445 (a capture that starts mid-connection may
    //  have made the server the flow's originator).
    const mm_addr_t *src = &ev->src, *dst = &ev->dst;
    uint16_t dport = ev->dport;
    if ((ev->has & MM_EV_HAS_PORTS) && ev->sport == 445 && ev->dport != 445) {
        src = &ev->dst;
        dst = &ev->src;
        dport = ev->sport;
    }
    if (src->len == 0 || dst->len == 0)
        return;
    if (self->cfg->home_net.n && !sn_detect_is_home (self->engine, dst))
        return;  //  the target must be ours
    if (mm_netlist_contains (&self->cfg->lateral_allow, src))
        return;

    bool admin = false, exec = false, svc = false, task = false;
    if (smb->command == SMB2_TREE_CONNECT)
        admin = s_is_admin_share (smb->share);
    else {
        //  A pipe is opened on IPC$; a capture that began after the TREE_CONNECT knows no share.
        if (s_is_ipc (smb->share)) {
            mm_str_t pipe = s_last_component (smb->file);
            svc = s_ieq (pipe, "svcctl");
            task = s_ieq (pipe, "atsvc");
        }
        bool on_ipc = smb->share.len && s_is_ipc (smb->share);
        if (!svc && !task && !on_ipc)
            exec = smb->file.len && s_is_exec (self, smb->file) && s_is_write (smb);
    }
    if (!admin && !exec && !svc && !task)
        return;

    uint8_t key[SN_TRACK_KEY_MAX];
    size_t klen = sn_track_key_pair (key, src, dst, 0);
    s_pair_t *p = sn_track_get (self->pairs, key, klen, ev->ts, NULL);
    uint64_t now = ev->ts ? ev->ts : 1;
    char s[64], d[64];
    sn_detect_addr_str (src, s, sizeof s);
    sn_detect_addr_str (dst, d, sizeof d);
    sn_alert_t a;
    if (admin) {
        p->admin_ts = now;
        p->admin_n++;
        s_copy_name (p->share, sizeof p->share, s_last_component (smb->share));
        s_raise_admin (self, p, ev, src, dst, dport);
        return;
    }
    if (exec) {
        p->exec_ts = now;
        p->exec_n++;
        bool on_admin = s_is_admin_share (smb->share);
        if (on_admin)
            p->exec_admin_n++;
        s_copy_name (p->file, sizeof p->file, s_last_component (smb->file));
        char share[48];
        s_copy_name (share, sizeof share, s_last_component (smb->share));
        s_alert_init (self, &a, &s_smb_exec, ev, src, dst, dport);
        //  Onto an admin share it is a tool being staged (PsExec's PSEXESVC.exe); onto an
        //  ordinary share it is as often an installer put on the file server.
        a.severity = p->exec_admin_n ? MM_SEV_MEDIUM : MM_SEV_LOW;
        a.evidence.count = p->exec_n;
        s_message (&a, "executable %s written to %s%s on %s from %s", p->file,
                   share[0] ? share : "a share", on_admin ? " (admin share)" : "", d, s);
        sn_detect_raise (self->engine, &a);
    }
    else if (svc) {
        p->svc_ts = now;
        p->svc_n++;
        s_alert_init (self, &a, &s_remote_service, ev, src, dst, dport);
        a.evidence.count = p->svc_n;
        s_message (&a,
                   "service control manager (svcctl pipe) opened on %s from %s: remote service "
                   "creation, as PsExec does",
                   d, s);
        sn_detect_raise (self->engine, &a);
    }
    else {
        p->task_ts = now;
        p->task_n++;
        s_alert_init (self, &a, &s_remote_task, ev, src, dst, dport);
        a.evidence.count = p->task_n;
        s_message (&a, "task scheduler (atsvc pipe) opened on %s from %s: remote scheduled task", d,
                   s);
        sn_detect_raise (self->engine, &a);
    }
    //  A recent admin share on this pair is now part of a chain: escalate it.
    if (s_recent (self, p->admin_ts, now))
        s_raise_admin (self, p, ev, src, dst, dport);
}

//  Service classes registered on computer accounts (HOST and what it stands for, the domain
//  controllers' own). A computer's key is 120 random characters: its tickets are not worth
//  cracking, so kerberoasting tools ask for user accounts' services (MSSQLSvc, HTTP, custom).
//  A legacy domain hands out RC4 tickets for these at every logon (nDPI kerberos-login.pcap).
static bool
s_is_machine_service (mm_str_t sname)
{
    static const char *const classes[] = {
        "host",     "cifs",   "ldap",   "gc",      "dns",
        "rpcss",    "rpc",    "wsman",  "termsrv", "restrictedkrbhost",
        "netlogon", "kadmin", "krbtgt", S_DRS_UUID};
    uint32_t slash = 0;
    while (slash < sname.len && sname.ptr[slash] != '/')
        slash++;
    if (slash == sname.len)  //  no class: a user-to-user ticket, or an account name
        return sname.len == 0 || sname.ptr[sname.len - 1] == '$';
    mm_str_t cls = {sname.ptr, slash};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (s_ieq (cls, classes[i]))
            return true;
    return false;
}

//  TGS-REP with an RC4 ticket: the service account's key is RC4, so the ticket can be cracked
//  offline (kerberoasting).
static void
s_krb (s_lateral_t *self, const mm_event_t *ev)
{
    const mm_krb_t *k = &ev->krb;
    if (!self->clients || k->msg_type != 13 || !(k->has & MM_KRB_HAS_ETYPE))
        return;
    if (k->etype != 23 && k->etype != 24)
        return;
    if (s_is_machine_service (k->sname))
        return;
    const mm_addr_t *client = &ev->src, *kdc = &ev->dst;
    if ((ev->has & MM_EV_HAS_PORTS) && ev->sport == 88 && ev->dport != 88) {
        client = &ev->dst;
        kdc = &ev->src;
    }
    if (client->len == 0 || mm_netlist_contains (&self->cfg->lateral_allow, client))
        return;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t klen = sn_track_key_addr (key, client);
    bool created;
    s_client_t *c = sn_track_get (self->clients, key, klen, ev->ts, &created);
    uint64_t now = ev->ts ? ev->ts : 1;
    if (created || (now > c->win_start && now - c->win_start > self->window_ns)) {
        c->win_start = now;
        memset (&c->win, 0, sizeof c->win);
    }
    //  Service names are case-insensitive in Active Directory.
    char lower[MM_NAME_MAX + 1];
    size_t n = k->sname.len < MM_NAME_MAX ? k->sname.len : MM_NAME_MAX;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char) tolower ((unsigned char) k->sname.ptr[i]);
    uint64_t h = sn_distinct_hash (lower, n);
    sn_distinct_add (&c->all, h);
    sn_distinct_add (&c->win, h);
    c->tickets++;
    uint32_t in_window = sn_distinct_count (&c->win);
    bool roast = in_window >= self->cfg->lateral_kerberoast_services;

    sn_alert_t a;
    s_alert_init (self, &a, &s_kerberoast, ev, client, kdc, 88);
    a.severity = roast ? MM_SEV_HIGH : MM_SEV_LOW;
    a.confidence = roast ? 85 : 60;
    a.evidence.count = c->tickets;
    a.evidence.distinct_hosts = sn_distinct_count (&c->all);
    char sname[96], s[64];
    s_copy_name (sname, sizeof sname, k->sname);
    sn_detect_addr_str (client, s, sizeof s);
    s_message (&a, "RC4 service ticket for %s to %s (%u service%s within %u s)%s", sname, s,
               (unsigned) in_window, in_window == 1 ? "" : "s",
               (unsigned) self->cfg->lateral_window, roast ? ": kerberoasting" : "");
    sn_detect_raise (self->engine, &a);
}

//  ---------------------------------------------------------------------------------------------
//  The module

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_lateral_t *self = *self_p;
    sn_track_destroy (&self->pairs);
    sn_track_destroy (&self->clients);
    free (self);
    *self_p = NULL;
}

//  "exe, dll,.ps1" -> {"exe", "dll", "ps1"}; longer or extra items are left out, and said so.
static void
s_parse_ext (s_lateral_t *self, const char *list)
{
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '.')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        size_t n = (size_t) (p - start);
        if (n == 0)
            continue;
        if (n >= S_EXT_LEN || self->n_ext == S_EXT_MAX) {
            fprintf (stderr, "mimamori-sensor: [lateral] exec_ext: '%.*s' left out\n", (int) n,
                     start);
            continue;
        }
        memcpy (self->ext[self->n_ext], start, n);
        self->ext[self->n_ext][n] = 0;
        self->n_ext++;
    }
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->lateral)
        return NULL;
    s_lateral_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    self->window_ns = cfg->lateral_window * S_NS;
    //  Entries live as long as the engine's findings may, so the counts a revision carries
    //  never go down while a finding is open.
    uint64_t keep =
        cfg->lateral_window > cfg->suppress_window ? cfg->lateral_window : cfg->suppress_window;
    uint32_t cap = (uint32_t) cfg->lateral_max_tracked;
    self->pairs = sn_track_new (cap, sizeof (s_pair_t), keep * S_NS, NULL, NULL);
    if (!self->pairs)
        goto fail;
    if (cfg->lateral_rc4) {
        self->clients = sn_track_new (cap, sizeof (s_client_t), keep * S_NS, NULL, NULL);
        if (!self->clients)
            goto fail;
    }
    s_parse_ext (self, cfg->lateral_exec_ext);
    return self;
fail:
    fprintf (stderr, "mimamori-sensor: lateral: cannot allocate %u tracked entries\n", cap);
    void *v = self;
    s_destroy (&v);
    return NULL;
}

static void
s_event (void *arg, const mm_event_t *ev)
{
    s_lateral_t *self = arg;
    if (ev->has & MM_EV_HAS_SMB)
        s_smb (self, ev);
    else if (ev->has & MM_EV_HAS_KRB)
        s_krb (self, ev);
}

static void
s_tick (void *arg, uint64_t now_ns)
{
    s_lateral_t *self = arg;
    sn_track_expire (self->pairs, now_ns);
    if (self->clients)
        sn_track_expire (self->clients, now_ns);
}

const sn_det_class_t sn_det_lateral = {
    .name = "lateral",
    .create = s_create,
    .destroy = s_destroy,
    .event = s_event,
    .tick = s_tick,
};
