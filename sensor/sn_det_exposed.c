/*  sn_det_exposed: risky services inside the company that outside addresses reach. A finding
    when an address outside home_net completes a TCP handshake (SYN, SYN-ACK, ACK) with an
    inside host on a port of [exposed] ports, when an inside host answers an outside one with a
    VNC or Telnet banner on another port, or when it answers an HTTP request for an admin panel
    or VPN portal with 2xx or 401. Owner: sensor (issue 4, detector 3).

    The finding is about the service, not about who reached it: one per (inside host, port,
    service), with no source, and distinct_hosts counting the outside addresses that reached
    it. A service open to the internet is reached by every scanner there is; a finding per
    outside address would bury the one fact that matters (this service is exposed) under
    hundreds of findings, and a brute force or a scan from one of them is other detectors'
    finding. The newest address is named in the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_detect.h"
#include "sn_distinct.h"
#include "sn_track.h"

#define S_NS 1000000000ULL

#define S_SYN 0x02
#define S_ACK 0x10

//  Remote access (RDP, VNC, Telnet, WinRM, SSH) is T1133 External Remote Services; databases,
//  admin panels and APIs are T1190 Exploit Public-Facing Application.
static const sn_det_info_t s_info_remote = {"exposed.service", 1,  MM_CAT_EXPOSED_SERVICE,
                                            MM_SEV_MEDIUM,     90, {"T1133"}};
static const sn_det_info_t s_info_app = {"exposed.service", 1,  MM_CAT_EXPOSED_SERVICE,
                                         MM_SEV_MEDIUM,     90, {"T1190"}};

typedef struct {
    uint16_t port;
    const char *name;
    bool remote;  //  remote access (T1133) rather than an application (T1190)
    bool high;    //  high severity when reached from outside (see docs/detection.md)
} s_service_t;

//  Names for the ports [exposed] ports may list. High: Telnet (cleartext logins, Mirai's way
//  in), SMB (EternalBlue/WannaCry; never meant for the internet), RDP (the most common first
//  step of ransomware: BlueKeep, password guessing) and the Docker API without TLS (remote
//  root on the host, hijacked for mining within hours of exposure). The rest are medium.
static const s_service_t s_services[] = {
    {21, "FTP", false, false},
    {22, "SSH", true, false},
    {23, "Telnet", true, true},
    {69, "TFTP", false, false},
    {111, "RPC portmapper", false, false},
    {135, "MS-RPC", false, false},
    {139, "SMB (NetBIOS)", false, true},
    {389, "LDAP", false, false},
    {445, "SMB", false, true},
    {502, "Modbus", false, false},
    {512, "rexec", true, true},
    {513, "rlogin", true, true},
    {514, "rsh", true, true},
    {873, "rsync", false, false},
    {1433, "MSSQL", false, false},
    {1521, "Oracle DB", false, false},
    {1883, "MQTT", false, false},
    {2049, "NFS", false, false},
    {2323, "Telnet", true, true},
    {2375, "Docker API", false, true},
    {2376, "Docker API (TLS)", false, false},
    {2379, "etcd", false, false},
    {3306, "MySQL", false, false},
    {3389, "RDP", true, true},
    {5432, "PostgreSQL", false, false},
    {5601, "Kibana", false, false},
    {5900, "VNC", true, false},
    {5901, "VNC", true, false},
    {5902, "VNC", true, false},
    {5984, "CouchDB", false, false},
    {5985, "WinRM", true, false},
    {5986, "WinRM (TLS)", true, false},
    {6379, "Redis", false, false},
    {6443, "Kubernetes API", false, false},
    {8086, "InfluxDB", false, false},
    {9200, "Elasticsearch", false, false},
    {9300, "Elasticsearch transport", false, false},
    {10250, "Kubelet", false, false},
    {11211, "Memcached", false, false},
    {27017, "MongoDB", false, false},
};

//  Admin panels and VPN portals, by the start of the request path (case-insensitive). More
//  specific prefixes come first. A 2xx or a 401 (a login prompt) says the panel is there; 404
//  and 403 say it is not or is closed; a 3xx is left out because many sites redirect every
//  path (to HTTPS, to a login page of their own).
typedef struct {
    const char *prefix;
    const char *name;
} s_panel_t;

static const s_panel_t s_panels[] = {
    {"/wp-login.php", "WordPress login"},
    {"/wp-admin", "WordPress admin"},
    {"/administrator", "Joomla administrator"},
    {"/adminer", "Adminer"},
    {"/admin", "admin page"},
    {"/phpmyadmin", "phpMyAdmin"},
    {"/pma/", "phpMyAdmin"},
    {"/manager/html", "Tomcat Manager"},
    {"/host-manager/html", "Tomcat Host Manager"},
    {"/cgi-bin/luci", "OpenWrt LuCI"},
    {"/webadmin", "web admin"},
    {"/remote/login", "FortiGate SSL VPN portal"},
    {"/global-protect/", "GlobalProtect VPN portal"},
    {"/dana-na/", "Ivanti Connect Secure VPN portal"},
    {"/+cscoe+/", "Cisco ASA VPN portal"},
    {"/vpn/index.html", "Citrix Gateway"},
    {"/logon/logonpoint", "Citrix Gateway"},
    {"/ecp/", "Exchange admin center"},
    {"/jmx-console", "JBoss JMX console"},
    {"/web-console", "JBoss web console"},
    {"/console/login", "WebLogic console"},
    {"/solr/admin", "Solr admin"},
    {"/session_login.cgi", "Webmin"},
    {"/hnap1", "router admin (HNAP)"},
    {"/tmui/", "F5 BIG-IP TMUI"},
    {"/boaform/", "router admin (Boa)"},
};

//  Paths under a panel's prefix that every visitor of a public site requests.
static const char *const s_public[] = {"/wp-admin/admin-ajax.php"};

typedef struct {
    sn_distinct_t sources;
    mm_addr_t dst, last_src;
    uint64_t count, first_ts, last_ts, subject;
    const char *name;  //  static: a s_services or s_panels entry (NULL: unnamed port)
    const char *how;   //  static: how it was recognised
    uint16_t port, status;
    bool remote, high, dirty;
} s_exposure_t;

typedef struct {
    sn_detect_t *engine;
    const sn_config_t *cfg;
    sn_track_t *exposures;
    uint8_t ports[65536 / 8];
} s_self_t;

static void s_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled);

static bool
s_port_listed (const s_self_t *self, uint16_t port)
{
    return self->ports[port >> 3] & (1u << (port & 7));
}

//  "23,445,3389" or ranges "5900-5910"; 0 or -1 with the offending text on stderr.
static int
s_parse_ports (s_self_t *self, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *end;
        unsigned long lo = strtoul (p, &end, 10), hi;
        if (end == p || lo == 0 || lo > 65535)
            goto bad;
        hi = lo;
        if (*end == '-') {
            const char *q = end + 1;
            hi = strtoul (q, &end, 10);
            if (end == q || hi < lo || hi > 65535)
                goto bad;
        }
        if (*end && *end != ',' && *end != ' ' && *end != '\t')
            goto bad;
        for (unsigned long v = lo; v <= hi; v++)
            self->ports[v >> 3] |= (uint8_t) (1u << (v & 7));
        p = end;
    }
    return 0;
bad:
    fprintf (stderr, "exposed: ports: cannot read '%s'\n", p);
    return -1;
}

static void
s_destroy (void **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_self_t *self = *self_p;
    sn_track_destroy (&self->exposures);
    free (self);
    *self_p = NULL;
}

static void *
s_create (const sn_config_t *cfg, sn_detect_t *engine)
{
    if (!cfg->exposed)
        return NULL;
    s_self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->engine = engine;
    self->cfg = cfg;
    //  Kept as long as the engine keeps the finding open, so distinct_hosts keeps counting.
    //  A company exposes a handful of services; the bound ([exposed] max_tracked) only matters
    //  when someone fakes handshakes from many addresses to many ports, and then the least
    //  recently reached service is forgotten (its finding stays open in the engine).
    self->exposures = sn_track_new ((uint32_t) cfg->exposed_max_tracked, sizeof (s_exposure_t),
                                    cfg->suppress_window * S_NS, s_gone, self);
    if (!self->exposures || s_parse_ports (self, cfg->exposed_ports) != 0) {
        void *p = self;
        s_destroy (&p);
        return NULL;
    }
    return self;
}

//  ---------------------------------------------------------------------------------------------

static const s_service_t *
s_service (uint16_t port)
{
    for (size_t i = 0; i < sizeof s_services / sizeof s_services[0]; i++)
        if (s_services[i].port == port)
            return &s_services[i];
    return NULL;
}

static void
s_raise (s_self_t *self, s_exposure_t *x)
{
    sn_alert_t a;
    memset (&a, 0, sizeof a);
    a.info = x->remote ? &s_info_remote : &s_info_app;
    a.ts = x->last_ts;
    a.proto = 6;
    a.dst = x->dst;  //  no src: see the file's comment
    a.has_dport = true;
    a.dport = x->port;
    a.subject = x->subject;
    a.severity = x->high ? MM_SEV_HIGH : MM_SEV_MEDIUM;
    a.evidence.count = x->count;
    a.evidence.distinct_hosts = sn_distinct_count (&x->sources);
    if (a.evidence.distinct_hosts > x->count)
        a.evidence.distinct_hosts = (uint32_t) x->count;
    a.evidence.distinct_ports = 1;
    a.evidence.first_ts = x->first_ts;
    a.evidence.last_ts = x->last_ts;
    char dst[64], src[64], name[32];
    if (!x->name)
        snprintf (name, sizeof name, "port %u", x->port);
    unsigned hosts = a.evidence.distinct_hosts;
    if (snprintf (a.message, sizeof a.message,
                  "%s (%u/tcp) on %s is reachable from outside (%s): %llu connection%s from %u "
                  "outside address%s, latest %s",
                  x->name ? x->name : name, x->port, sn_detect_addr_str (&x->dst, dst, sizeof dst),
                  x->how, (unsigned long long) x->count, x->count == 1 ? "" : "s", hosts,
                  hosts == 1 ? "" : "es", sn_detect_addr_str (&x->last_src, src, sizeof src)) < 0)
        a.message[0] = 0;
    sn_detect_raise (self->engine, &a);
    x->dirty = false;
}

//  An outside `src` reached service `name` (NULL: by port only) on inside `dst`:`port`.
static void
s_reached (s_self_t *self, const mm_addr_t *src, const mm_addr_t *dst, uint16_t port,
           const char *name, const char *how, bool remote, bool high, uint64_t ts)
{
    if (mm_netlist_contains (&self->cfg->exposed_allow, src))
        return;
    uint64_t subject = name ? sn_distinct_hash (name, strlen (name)) : 0;
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, dst);
    key[n++] = (uint8_t) (port >> 8);
    key[n++] = (uint8_t) port;
    for (int i = 0; i < 8; i++)
        key[n++] = (uint8_t) (subject >> (8 * i));
    bool created;
    s_exposure_t *x = sn_track_get (self->exposures, key, n, ts, &created);
    if (created) {
        x->dst = *dst;
        x->port = port;
        x->subject = subject;
        x->name = name;
        x->how = how;
        x->remote = remote;
        x->high = high;
        x->first_ts = ts;
    }
    x->count++;
    x->last_ts = ts;
    x->last_src = *src;
    sn_distinct_add (&x->sources, sn_distinct_hash (src->b, src->len));
    if (created)
        s_raise (self, x);
    else
        x->dirty = true;
}

static void
s_packet (void *self_, const sn_det_pkt_t *p)
{
    s_self_t *self = self_;
    const sn_flow_t *f = p->flow;
    if (f->proto != 6 || p->orig_home || !p->resp_home || f->orig.len == 0)
        return;
    if (s_port_listed (self, f->resp_port)) {
        if (p->established) {
            const s_service_t *svc = s_service (f->resp_port);
            s_reached (self, &f->orig, &f->resp, f->resp_port, svc ? svc->name : NULL,
                       "handshake completed", svc ? svc->remote : false, svc ? svc->high : false,
                       p->ts);
        }
        return;
    }
    //  Remote desktops and shells on ports of their own choosing give themselves away in the
    //  server's first bytes: "RFB 003.008" (VNC), or Telnet option negotiation (IAC DO/WILL).
    const sn_pkt_t *k = p->pkt;
    if (p->dir != 1 || f->pkts[1] > 4 || k->payload_len < 6 || !(f->tcp_flags[0] & S_SYN) ||
        (f->tcp_flags[1] & (S_SYN | S_ACK)) != (S_SYN | S_ACK))
        return;
    if (memcmp (k->payload, "RFB 00", 6) == 0)
        s_reached (self, &f->orig, &f->resp, f->resp_port, "VNC", "recognised by its banner", true,
                   false, p->ts);
    else if (k->payload[0] == 0xff && k->payload[1] >= 0xfb && k->payload[1] <= 0xfe &&
             k->payload[3] == 0xff)
        s_reached (self, &f->orig, &f->resp, f->resp_port, "Telnet", "recognised by its banner",
                   true, true, p->ts);
}

static bool
s_prefix (const char *path, size_t len, const char *prefix)
{
    size_t n = strlen (prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = path[i];
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (c != prefix[i])
            return false;
    }
    return true;
}

static const s_panel_t *
s_panel (mm_str_t uri)
{
    const char *p = uri.ptr;
    size_t len = uri.len;
    //  A proxy request names the server: "http://host/path".
    if (s_prefix (p, len, "http://") || s_prefix (p, len, "https://")) {
        size_t skip = s_prefix (p, len, "http://") ? 7 : 8;
        const char *slash = memchr (p + skip, '/', len - skip);
        if (!slash)
            return NULL;
        len -= (size_t) (slash - p);
        p = slash;
    }
    for (size_t i = 0; i < sizeof s_public / sizeof s_public[0]; i++)
        if (s_prefix (p, len, s_public[i]))
            return NULL;
    for (size_t i = 0; i < sizeof s_panels / sizeof s_panels[0]; i++)
        if (s_prefix (p, len, s_panels[i].prefix))
            return &s_panels[i];
    return NULL;
}

static void
s_event (void *self_, const mm_event_t *ev)
{
    s_self_t *self = self_;
    if (ev->kind != MM_KIND_HTTP || !(ev->has & MM_EV_HAS_HTTP) || !(ev->has & MM_EV_HAS_DPORT))
        return;
    uint16_t status = ev->http.status;
    if (!((status >= 200 && status < 300) || status == 401))
        return;
    if (ev->src.len == 0 || sn_detect_is_home (self->engine, &ev->src) ||
        !sn_detect_is_home (self->engine, &ev->dst))
        return;
    if (ev->http.uri.len == 0 || !ev->http.uri.ptr)
        return;
    const s_panel_t *panel = s_panel (ev->http.uri);
    if (!panel)
        return;
    s_reached (self, &ev->src, &ev->dst, ev->dport, panel->name,
               status == 401 ? "HTTP login prompt" : "HTTP page served", false, false, ev->ts);
}

//  ---------------------------------------------------------------------------------------------

static void
s_revise (void *arg, const uint8_t *key, size_t key_len, void *value)
{
    (void) key;
    (void) key_len;
    s_exposure_t *x = value;
    if (x->dirty)
        s_raise (arg, x);
}

static void
s_gone (void *arg, const uint8_t *key, size_t key_len, void *value, bool recycled)
{
    (void) recycled;
    s_revise (arg, key, key_len, value);
}

static void
s_tick (void *self_, uint64_t now)
{
    s_self_t *self = self_;
    sn_track_expire (self->exposures, now);
    sn_track_foreach (self->exposures, s_revise, self);
}

static void
s_flush (void *self_)
{
    s_self_t *self = self_;
    sn_track_foreach (self->exposures, s_revise, self);
}

const sn_det_class_t sn_det_exposed = {
    .name = "exposed",
    .create = s_create,
    .destroy = s_destroy,
    .packet = s_packet,
    .event = s_event,
    .tick = s_tick,
    .flush = s_flush,
};
