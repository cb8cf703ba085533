/*  ag_registry: providers, orgs, chains, links and sensors (see ag_registry.h).
    Owner: aggregator/. Parsing in two passes: every line is read into the tables with its
    references as text (any order is allowed), then the references are resolved and checked. */
#include "ag_registry.h"

#include <czmq.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mm_cert.h"
#include "mm_log.h"

#define S_WORDS_MAX 32  //  words on one line

typedef struct {
    char org[MM_ID_MAX + 1];
    char provider[MM_ID_MAX + 1];
    uint32_t line;
} s_org_ref_t;

typedef struct {
    char owner[MM_ID_MAX + 1];
    uint32_t line;
} s_chain_ref_t;

typedef struct {
    char chain[MM_ID_MAX + 1], org[MM_ID_MAX + 1];
    uint32_t line;
    uint8_t tier;
    uint32_t chain_i, org_i;  //  resolved
} s_member_t;

typedef struct {
    char supplier[MM_ID_MAX + 1], customer[MM_ID_MAX + 1], chain[MM_ID_MAX + 1];
} s_edge_ref_t;

typedef struct {
    char org[MM_ID_MAX + 1];
    uint32_t line;
} s_sensor_ref_t;

struct ag_registry_t {
    ag_provider_t *providers;
    size_t n_providers, cap_providers;
    ag_org_t *orgs;
    s_org_ref_t *org_refs;
    size_t n_orgs, cap_orgs;
    ag_chain_t *chains;
    s_chain_ref_t *chain_refs;
    size_t n_chains, cap_chains;
    s_member_t *members;
    size_t n_members, cap_members;
    ag_edge_t *edges;
    s_edge_ref_t *edge_refs;
    size_t n_edges, cap_edges;
    ag_sensor_t *sensors;
    s_sensor_ref_t *sensor_refs;
    size_t n_sensors, cap_sensors;
    zhashx_t *provider_ix, *org_ix, *chain_ix, *sensor_ix;  //  id -> index + 1
    //  Adjacency built once the file is resolved (the correlation asks these per finding):
    //  for org i, its distinct customers are cus[cus_off[i] .. cus_off[i + 1]), and so on.
    uint32_t *cus_off, *cus, *sup_off, *sup, *org_chain_off, *org_chain, *member_off, *member;
};

//  The error list of one parse.
typedef struct {
    const char *name;
    char *out;
    size_t size, used, count;
} s_errs_t;

static void s_err (s_errs_t *e, uint32_t line, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_err (s_errs_t *e, uint32_t line, const char *fmt, ...)
{
    e->count++;
    if (e->count > AG_REGISTRY_ERRORS_MAX || !e->out || e->used + 1 >= e->size)
        return;
    int n = snprintf (e->out + e->used, e->size - e->used, "%s:%u: ", e->name, line);
    if (n > 0 && (size_t) n < e->size - e->used)
        e->used += (size_t) n;
    va_list args;
    va_start (args, fmt);
    n = vsnprintf (e->out + e->used, e->size - e->used, fmt, args);
    va_end (args);
    if (n > 0)
        e->used += (size_t) n < e->size - e->used ? (size_t) n : e->size - e->used - 1;
    if (e->used + 1 < e->size) {
        e->out[e->used++] = '\n';
        e->out[e->used] = 0;
    }
}

//  ---------------------------------------------------------------------------------------------
//  Names of the enumerations

static const char *s_regions[AG_REGION_COUNT_] = {"?",     "hokkaido", "tohoku",  "kanto", "chubu",
                                                  "kinki", "chugoku",  "shikoku", "kyushu"};
static const char *s_links[] = {"?", "vpn", "edi", "email", "remote_maint", "shared_saas"};
static const char *s_sizes[] = {"?", "micro", "small", "medium", "large"};
static const char *s_sensor_types[] = {"?", "network", "endpoint"};

const char *
ag_region_name (uint8_t region)
{
    return region < AG_REGION_COUNT_ ? s_regions[region] : "?";
}

const char *
ag_link_name (uint8_t link)
{
    return link < sizeof s_links / sizeof s_links[0] ? s_links[link] : "?";
}

uint8_t
ag_region_of_pref (unsigned pref)
{
    //  JIS X 0401 order: Hokkaido 1; Tohoku 2-7; Kanto 8-14; Chubu 15-23; Kinki 24-30;
    //  Chugoku 31-35; Shikoku 36-39; Kyushu and Okinawa 40-47.
    static const uint8_t first[] = {1, 2, 8, 15, 24, 31, 36, 40, 48};
    if (pref < 1 || pref > 47)
        return AG_REGION_NONE;
    uint8_t r = 0;
    while (pref >= first[r + 1])
        r++;
    return (uint8_t) (r + 1);
}

static int
s_enum (const char *const *names, size_t n, const char *text)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp (names[i], text) == 0)
            return (int) i;
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  Lines into words

typedef struct {
    char *word[S_WORDS_MAX];  //  positional words (keys=values kept whole here)
    size_t n;
} s_words_t;

//  Splits `line` in place. Quotes group blanks into a word and are removed; '#' outside quotes
//  starts a comment. 0, or -1 with `why`.
static int
s_split (char *line, s_words_t *w, const char **why)
{
    w->n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p || *p == '#')
            return 0;
        if (w->n == S_WORDS_MAX) {
            *why = "too many words on the line";
            return -1;
        }
        char *start = p, *out = p;
        bool quoted = false;
        while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\r'))) {
            if (*p == '"')
                quoted = !quoted;
            else
                *out++ = *p;
            p++;
        }
        if (quoted) {
            *why = "a quote is not closed";
            return -1;
        }
        bool end = !*p;
        *out = 0;
        w->word[w->n++] = start;
        if (end)
            return 0;
        p++;
    }
}

//  The value of `key=` among words[from..], or NULL. A key given twice is an error.
static const char *
s_opt (s_words_t *w, size_t from, const char *key, s_errs_t *e, uint32_t line)
{
    size_t klen = strlen (key);
    const char *found = NULL;
    for (size_t i = from; i < w->n; i++)
        if (strncmp (w->word[i], key, klen) == 0 && w->word[i][klen] == '=') {
            if (found)
                s_err (e, line, "%s= given twice", key);
            found = w->word[i] + klen + 1;
        }
    return found;
}

//  Words from `from` on must each be one of the keys in `keys` (NULL-terminated) as key=value.
static void
s_only (s_words_t *w, size_t from, const char *const *keys, s_errs_t *e, uint32_t line)
{
    for (size_t i = from; i < w->n; i++) {
        const char *eq = strchr (w->word[i], '=');
        bool ok = false;
        for (size_t k = 0; eq && keys[k] && !ok; k++)
            ok = strlen (keys[k]) == (size_t) (eq - w->word[i]) &&
                 strncmp (w->word[i], keys[k], (size_t) (eq - w->word[i])) == 0;
        if (!ok)
            s_err (e, line, "unexpected '%s'%s", w->word[i], eq ? ": unknown key" : "");
    }
}

static bool
s_id (const char *text, s_errs_t *e, uint32_t line, const char *what)
{
    if (text && mm_cert_id_valid (text))
        return true;
    s_err (e, line, "%s '%s' is not an id (1-64 of A-Za-z0-9._-, starting with a letter or digit)",
           what, text ? text : "");
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Tables

#define S_GROW(self, arr, n, cap)                                                                  \
    s_grow ((void **) &(self)->arr, &(self)->cap, (self)->n, sizeof *(self)->arr)

static int
s_grow (void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc (*arr, ncap * size);
    if (!p)
        return -1;
    memset ((char *) p + *cap * size, 0, (ncap - *cap) * size);
    *arr = p;
    *cap = ncap;
    return 0;
}

//  Adds `id` to `ix` as index `i`; an error if it is there already.
static bool
s_index (zhashx_t *ix, const char *id, size_t i, s_errs_t *e, uint32_t line, const char *what)
{
    if (zhashx_insert (ix, id, (void *) (uintptr_t) (i + 1)) == 0)
        return true;
    s_err (e, line, "%s '%s' is declared twice", what, id);
    return false;
}

static int32_t
s_lookup (zhashx_t *ix, const char *id)
{
    uintptr_t v = (uintptr_t) zhashx_lookup (ix, id);
    return v ? (int32_t) (v - 1) : -1;
}

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

//  A domain: letters, digits, '-' and '.', labels of 1..63, lower-cased, trailing dot dropped.
static bool
s_domain (const char *text, char *out, size_t size)
{
    size_t len = strlen (text);
    if (len && text[len - 1] == '.')
        len--;
    if (len == 0 || len > MM_NAME_MAX || len >= size)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = (char) tolower ((unsigned char) text[i]);
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        }
        else if (isalnum ((unsigned char) c) || c == '-') {
            if (++label > 63)
                return false;
        }
        else
            return false;
        out[i] = c;
    }
    out[len] = 0;
    return label > 0;
}

static void
s_parse_provider (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"name", NULL};
    if (w->n < 2 || strchr (w->word[1], '=')) {
        s_err (e, line, "provider needs an id: provider ID [name=\"...\"]");
        return;
    }
    s_only (w, 2, keys, e, line);
    if (!s_id (w->word[1], e, line, "provider") ||
        S_GROW (self, providers, n_providers, cap_providers) == -1)
        return;
    if (!s_index (self->provider_ix, w->word[1], self->n_providers, e, line, "provider"))
        return;
    ag_provider_t *p = &self->providers[self->n_providers++];
    s_copy (p->id, sizeof p->id, w->word[1]);
    s_copy (p->name, sizeof p->name, s_opt (w, 2, "name", e, line));
}

static void
s_parse_org (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"provider", "pref", "industry", "size",
                                       "name",     "nets", "domains",  NULL};
    if (w->n < 2 || strchr (w->word[1], '=')) {
        s_err (e, line, "org needs an id: org ID provider=ID pref=N industry=X size=S ...");
        return;
    }
    s_only (w, 2, keys, e, line);
    if (!s_id (w->word[1], e, line, "org"))
        return;
    if (S_GROW (self, orgs, n_orgs, cap_orgs) == -1)
        return;
    s_org_ref_t *refs = realloc (self->org_refs, self->cap_orgs * sizeof *refs);
    if (!refs)
        return;
    self->org_refs = refs;
    if (!s_index (self->org_ix, w->word[1], self->n_orgs, e, line, "org"))
        return;
    ag_org_t *o = &self->orgs[self->n_orgs];
    s_org_ref_t *r = &self->org_refs[self->n_orgs];
    memset (o, 0, sizeof *o);
    memset (r, 0, sizeof *r);
    self->n_orgs++;
    s_copy (o->id, sizeof o->id, w->word[1]);
    s_copy (o->name, sizeof o->name, s_opt (w, 2, "name", e, line));
    r->line = line;
    const char *provider = s_opt (w, 2, "provider", e, line);
    if (!provider)
        s_err (e, line, "org %s: provider= is required", o->id);
    else if (s_id (provider, e, line, "provider"))
        s_copy (r->provider, sizeof r->provider, provider);
    const char *pref = s_opt (w, 2, "pref", e, line);
    char *end = NULL;
    long pv = pref ? strtol (pref, &end, 10) : 0;
    if (!pref || *end || pv < 1 || pv > 47)
        s_err (e, line, "org %s: pref= must be a prefecture code 1..47 (JIS X 0401)", o->id);
    else {
        o->pref = (uint8_t) pv;
        o->region = ag_region_of_pref ((unsigned) pv);
    }
    const char *ind = s_opt (w, 2, "industry", e, line);
    if (!ind || strlen (ind) != 1 || toupper ((unsigned char) ind[0]) < 'A' ||
        toupper ((unsigned char) ind[0]) > 'T')
        s_err (e, line, "org %s: industry= must be a JSIC major division letter A..T", o->id);
    else
        o->industry = (char) toupper ((unsigned char) ind[0]);
    const char *size = s_opt (w, 2, "size", e, line);
    int sz = size ? s_enum (s_sizes, sizeof s_sizes / sizeof s_sizes[0], size) : -1;
    if (sz < 0)
        s_err (e, line, "org %s: size= must be micro, small, medium or large", o->id);
    else
        o->size = (uint8_t) sz;
    const char *nets = s_opt (w, 2, "nets", e, line);
    char why[256];
    if (nets && mm_netlist_parse (&o->nets, nets, why, sizeof why) == -1)
        s_err (e, line, "org %s: nets=: %s", o->id, why);
    const char *domains = s_opt (w, 2, "domains", e, line);
    if (domains) {
        char copy[AG_REGISTRY_LINE_MAX];
        s_copy (copy, sizeof copy, domains);
        char *save = NULL;
        for (char *d = strtok_r (copy, ",", &save); d; d = strtok_r (NULL, ",", &save)) {
            if (o->n_domains == AG_REGISTRY_DOMAINS_MAX) {
                s_err (e, line, "org %s: more than %d domains", o->id, AG_REGISTRY_DOMAINS_MAX);
                break;
            }
            if (!s_domain (d, o->domains[o->n_domains], sizeof o->domains[0]))
                s_err (e, line, "org %s: '%s' is not a domain name", o->id, d);
            else
                o->n_domains++;
        }
    }
}

static void
s_parse_chain (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"name", "owner", NULL};
    if (w->n < 2 || strchr (w->word[1], '=')) {
        s_err (e, line, "chain needs an id: chain ID [name=\"...\"] [owner=ORG]");
        return;
    }
    s_only (w, 2, keys, e, line);
    if (!s_id (w->word[1], e, line, "chain") || S_GROW (self, chains, n_chains, cap_chains) == -1)
        return;
    s_chain_ref_t *refs = realloc (self->chain_refs, self->cap_chains * sizeof *refs);
    if (!refs)
        return;
    self->chain_refs = refs;
    if (!s_index (self->chain_ix, w->word[1], self->n_chains, e, line, "chain"))
        return;
    ag_chain_t *c = &self->chains[self->n_chains];
    s_chain_ref_t *r = &self->chain_refs[self->n_chains++];
    memset (r, 0, sizeof *r);
    s_copy (c->id, sizeof c->id, w->word[1]);
    s_copy (c->name, sizeof c->name, s_opt (w, 2, "name", e, line));
    c->owner = -1;
    r->line = line;
    const char *owner = s_opt (w, 2, "owner", e, line);
    if (owner && s_id (owner, e, line, "owner"))
        s_copy (r->owner, sizeof r->owner, owner);
}

static void
s_parse_member (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"tier", NULL};
    if (w->n < 3 || strchr (w->word[1], '=') || strchr (w->word[2], '=')) {
        s_err (e, line, "member needs a chain and an org: member CHAIN ORG [tier=N]");
        return;
    }
    s_only (w, 3, keys, e, line);
    if (!s_id (w->word[1], e, line, "chain") || !s_id (w->word[2], e, line, "org") ||
        S_GROW (self, members, n_members, cap_members) == -1)
        return;
    s_member_t *m = &self->members[self->n_members++];
    s_copy (m->chain, sizeof m->chain, w->word[1]);
    s_copy (m->org, sizeof m->org, w->word[2]);
    m->line = line;
    const char *tier = s_opt (w, 3, "tier", e, line);
    if (tier) {
        if (strlen (tier) != 1 || !isdigit ((unsigned char) tier[0]))
            s_err (e, line, "tier= must be 0..9");
        else
            m->tier = (uint8_t) (tier[0] - '0');
    }
}

static void
s_parse_edge (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"chain", "link", NULL};
    if (w->n < 4 || strcmp (w->word[2], "->") != 0 || strchr (w->word[1], '=') ||
        strchr (w->word[3], '=')) {
        s_err (e, line, "edge needs: edge SUPPLIER -> CUSTOMER chain=CHAIN link=KIND");
        return;
    }
    s_only (w, 4, keys, e, line);
    if (!s_id (w->word[1], e, line, "supplier") || !s_id (w->word[3], e, line, "customer") ||
        S_GROW (self, edges, n_edges, cap_edges) == -1)
        return;
    s_edge_ref_t *refs = realloc (self->edge_refs, self->cap_edges * sizeof *refs);
    if (!refs)
        return;
    self->edge_refs = refs;
    ag_edge_t *g = &self->edges[self->n_edges];
    s_edge_ref_t *r = &self->edge_refs[self->n_edges++];
    memset (g, 0, sizeof *g);
    memset (r, 0, sizeof *r);
    g->line = line;
    s_copy (r->supplier, sizeof r->supplier, w->word[1]);
    s_copy (r->customer, sizeof r->customer, w->word[3]);
    const char *chain = s_opt (w, 4, "chain", e, line);
    if (!chain)
        s_err (e, line, "edge: chain= is required (the chain the link belongs to)");
    else if (s_id (chain, e, line, "chain"))
        s_copy (r->chain, sizeof r->chain, chain);
    const char *link = s_opt (w, 4, "link", e, line);
    int lk = link ? s_enum (s_links, sizeof s_links / sizeof s_links[0], link) : -1;
    if (lk < 0)
        s_err (e, line, "edge: link= must be vpn, edi, email, remote_maint or shared_saas");
    else
        g->link = (uint8_t) lk;
}

static void
s_parse_sensor (ag_registry_t *self, s_words_t *w, s_errs_t *e, uint32_t line)
{
    static const char *const keys[] = {"org", "type", NULL};
    if (w->n < 2 || strchr (w->word[1], '=')) {
        s_err (e, line, "sensor needs an id: sensor ID org=ORG [type=network|endpoint]");
        return;
    }
    s_only (w, 2, keys, e, line);
    if (!s_id (w->word[1], e, line, "sensor") ||
        S_GROW (self, sensors, n_sensors, cap_sensors) == -1)
        return;
    s_sensor_ref_t *refs = realloc (self->sensor_refs, self->cap_sensors * sizeof *refs);
    if (!refs)
        return;
    self->sensor_refs = refs;
    if (!s_index (self->sensor_ix, w->word[1], self->n_sensors, e, line, "sensor"))
        return;
    ag_sensor_t *s = &self->sensors[self->n_sensors];
    s_sensor_ref_t *r = &self->sensor_refs[self->n_sensors++];
    memset (r, 0, sizeof *r);
    s_copy (s->id, sizeof s->id, w->word[1]);
    r->line = line;
    const char *org = s_opt (w, 2, "org", e, line);
    if (!org)
        s_err (e, line, "sensor %s: org= is required", s->id);
    else if (s_id (org, e, line, "org"))
        s_copy (r->org, sizeof r->org, org);
    const char *type = s_opt (w, 2, "type", e, line);
    int t = type ? s_enum (s_sensor_types, 3, type) : AG_SENSOR_NETWORK;
    if (t < 0)
        s_err (e, line, "sensor %s: type= must be network or endpoint", s->id);
    else
        s->type = (uint8_t) t;
}

//  ---------------------------------------------------------------------------------------------
//  References, once everything is read

static void
s_resolve (ag_registry_t *self, s_errs_t *e)
{
    for (size_t i = 0; i < self->n_orgs; i++) {
        const s_org_ref_t *r = &self->org_refs[i];
        int32_t p = r->provider[0] ? s_lookup (self->provider_ix, r->provider) : -1;
        if (r->provider[0] && p < 0)
            s_err (e, r->line, "org %s: provider '%s' is not declared", self->orgs[i].id,
                   r->provider);
        self->orgs[i].provider = p < 0 ? 0 : (uint32_t) p;
    }
    for (size_t i = 0; i < self->n_chains; i++) {
        const s_chain_ref_t *r = &self->chain_refs[i];
        if (!r->owner[0])
            continue;
        self->chains[i].owner = s_lookup (self->org_ix, r->owner);
        if (self->chains[i].owner < 0)
            s_err (e, r->line, "chain %s: owner '%s' is not a declared org", self->chains[i].id,
                   r->owner);
    }
    for (size_t i = 0; i < self->n_members; i++) {
        s_member_t *m = &self->members[i];
        int32_t c = s_lookup (self->chain_ix, m->chain), o = s_lookup (self->org_ix, m->org);
        if (c < 0)
            s_err (e, m->line, "member: chain '%s' is not declared", m->chain);
        if (o < 0)
            s_err (e, m->line, "member: org '%s' is not declared", m->org);
        m->chain_i = c < 0 ? UINT32_MAX : (uint32_t) c;
        m->org_i = o < 0 ? UINT32_MAX : (uint32_t) o;
        for (size_t j = 0; j < i && c >= 0 && o >= 0; j++)
            if (self->members[j].chain_i == m->chain_i && self->members[j].org_i == m->org_i)
                s_err (e, m->line, "member: %s is already in chain %s (line %u)", m->org, m->chain,
                       self->members[j].line);
    }
    for (size_t i = 0; i < self->n_edges; i++) {
        ag_edge_t *g = &self->edges[i];
        const s_edge_ref_t *r = &self->edge_refs[i];
        int32_t s = s_lookup (self->org_ix, r->supplier), c = s_lookup (self->org_ix, r->customer);
        int32_t ch = r->chain[0] ? s_lookup (self->chain_ix, r->chain) : -1;
        if (s < 0)
            s_err (e, g->line, "edge: supplier '%s' is not a declared org", r->supplier);
        if (c < 0)
            s_err (e, g->line, "edge: customer '%s' is not a declared org", r->customer);
        if (r->chain[0] && ch < 0)
            s_err (e, g->line, "edge: chain '%s' is not declared", r->chain);
        if (s < 0 || c < 0 || ch < 0)
            continue;
        g->supplier = (uint32_t) s;
        g->customer = (uint32_t) c;
        g->chain = (uint32_t) ch;
        if (s == c)
            s_err (e, g->line, "edge: %s cannot supply itself", r->supplier);
        if (!ag_registry_is_member (self, g->supplier, g->chain))
            s_err (e, g->line, "edge: %s is not a member of chain %s", r->supplier, r->chain);
        if (!ag_registry_is_member (self, g->customer, g->chain))
            s_err (e, g->line, "edge: %s is not a member of chain %s", r->customer, r->chain);
        for (size_t j = 0; j < i; j++) {
            const ag_edge_t *h = &self->edges[j];
            if (h->supplier == g->supplier && h->customer == g->customer && h->chain == g->chain)
                s_err (e, g->line, "edge: %s -> %s in chain %s is already declared (line %u)",
                       r->supplier, r->customer, r->chain, h->line);
        }
    }
    for (size_t i = 0; i < self->n_sensors; i++) {
        const s_sensor_ref_t *r = &self->sensor_refs[i];
        int32_t o = r->org[0] ? s_lookup (self->org_ix, r->org) : -1;
        if (r->org[0] && o < 0)
            s_err (e, r->line, "sensor %s: org '%s' is not declared", self->sensors[i].id, r->org);
        self->sensors[i].org = o < 0 ? 0 : (uint32_t) o;
    }
}

//  One adjacency list: for each of `n` keys, the distinct values of the pairs (key, value),
//  in declaration order. 0, or -1 (out of memory).
static int
s_adjacency (size_t n, size_t n_pairs, const uint32_t *keys, const uint32_t *vals, uint32_t **off_p,
             uint32_t **out_p)
{
    uint32_t *off = (uint32_t *) calloc (n + 1, sizeof *off);
    uint32_t *out = (uint32_t *) calloc (n_pairs ? n_pairs : 1, sizeof *out);
    uint32_t *fill = (uint32_t *) calloc (n ? n : 1, sizeof *fill);
    if (!off || !out || !fill) {
        free (off), free (out), free (fill);
        return -1;
    }
    for (size_t i = 0; i < n_pairs; i++)
        off[keys[i] + 1]++;
    for (size_t k = 0; k < n; k++)
        off[k + 1] += off[k];
    for (size_t i = 0; i < n_pairs; i++) {
        uint32_t k = keys[i], *list = out + off[k];
        bool dup = false;
        for (uint32_t j = 0; j < fill[k] && !dup; j++)
            dup = list[j] == vals[i];
        if (!dup)
            list[fill[k]++] = vals[i];
    }
    //  Close the gaps the duplicates left.
    uint32_t w = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t start = off[k];
        off[k] = w;
        for (uint32_t j = 0; j < fill[k]; j++)
            out[w++] = out[start + j];
    }
    off[n] = w;
    free (fill);
    *off_p = off;
    *out_p = out;
    return 0;
}

static int
s_build_adjacency (ag_registry_t *self)
{
    size_t ne = self->n_edges, nm = self->n_members;
    uint32_t *a = (uint32_t *) calloc (ne + nm + 1, sizeof *a);
    uint32_t *b = (uint32_t *) calloc (ne + nm + 1, sizeof *b);
    int rc = a && b ? 0 : -1;
    for (size_t i = 0; i < ne && rc == 0; i++)
        a[i] = self->edges[i].supplier, b[i] = self->edges[i].customer;
    if (rc == 0)
        rc = s_adjacency (self->n_orgs, ne, a, b, &self->cus_off, &self->cus);
    if (rc == 0)
        rc = s_adjacency (self->n_orgs, ne, b, a, &self->sup_off, &self->sup);
    for (size_t i = 0; i < nm && rc == 0; i++)
        a[i] = self->members[i].org_i, b[i] = self->members[i].chain_i;
    if (rc == 0)
        rc = s_adjacency (self->n_orgs, nm, a, b, &self->org_chain_off, &self->org_chain);
    if (rc == 0)
        rc = s_adjacency (self->n_chains, nm, b, a, &self->member_off, &self->member);
    free (a);
    free (b);
    return rc;
}

//  Copies list [off[k], off[k + 1]) into out (up to max); its length.
static size_t
s_list (const uint32_t *off, const uint32_t *list, size_t n, uint32_t k, uint32_t *out, size_t max)
{
    if (k >= n)
        return 0;
    size_t len = off[k + 1] - off[k];
    memcpy (out, list + off[k], (len < max ? len : max) * sizeof *out);
    return len;
}

ag_registry_t *
ag_registry_parse (const char *name, const char *text, size_t len, char *err, size_t err_size,
                   size_t *n_errors)
{
    s_errs_t e = {.name = name ? name : "registry", .out = err, .size = err_size};
    if (err && err_size)
        err[0] = 0;
    ag_registry_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_err (&e, 0, "out of memory");
        goto done;
    }
    self->provider_ix = zhashx_new ();
    self->org_ix = zhashx_new ();
    self->chain_ix = zhashx_new ();
    self->sensor_ix = zhashx_new ();
    if (!self->provider_ix || !self->org_ix || !self->chain_ix || !self->sensor_ix) {
        s_err (&e, 0, "out of memory");
        goto done;
    }
    char *line = malloc (AG_REGISTRY_LINE_MAX + 1);
    if (!line) {
        s_err (&e, 0, "out of memory");
        goto done;
    }
    size_t pos = 0;
    uint32_t no = 0;
    //  A UTF-8 byte order mark at the start (a file saved by a Windows editor) is skipped.
    if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        no++;
        const char *nl = memchr (text + pos, '\n', len - pos);
        size_t n = nl ? (size_t) (nl - (text + pos)) : len - pos;
        if (n > AG_REGISTRY_LINE_MAX) {
            s_err (&e, no, "line longer than %d bytes", AG_REGISTRY_LINE_MAX);
            pos += n + 1;
            continue;
        }
        memcpy (line, text + pos, n);
        line[n] = 0;
        pos += n + 1;
        if (memchr (line, 0, n)) {
            s_err (&e, no, "a NUL byte in the line");
            continue;
        }
        s_words_t w;
        const char *why = NULL;
        if (s_split (line, &w, &why) == -1) {
            s_err (&e, no, "%s", why);
            continue;
        }
        if (w.n == 0)
            continue;
        const char *kw = w.word[0];
        if (strcmp (kw, "provider") == 0)
            s_parse_provider (self, &w, &e, no);
        else if (strcmp (kw, "org") == 0)
            s_parse_org (self, &w, &e, no);
        else if (strcmp (kw, "chain") == 0)
            s_parse_chain (self, &w, &e, no);
        else if (strcmp (kw, "member") == 0)
            s_parse_member (self, &w, &e, no);
        else if (strcmp (kw, "edge") == 0)
            s_parse_edge (self, &w, &e, no);
        else if (strcmp (kw, "sensor") == 0)
            s_parse_sensor (self, &w, &e, no);
        else
            s_err (&e, no, "unknown declaration '%s' (provider, org, chain, member, edge, sensor)",
                   kw);
    }
    free (line);
    if (e.count == 0)
        s_resolve (self, &e);
    if (e.count == 0 && s_build_adjacency (self) == -1)
        s_err (&e, 0, "out of memory");
done:
    if (e.count > AG_REGISTRY_ERRORS_MAX && err && e.used + 1 < err_size)
        snprintf (err + e.used, err_size - e.used, "%s: ... %zu errors in all\n", e.name, e.count);
    if (n_errors)
        *n_errors = e.count;
    if (e.count) {
        ag_registry_destroy (&self);
        return NULL;
    }
    return self;
}

ag_registry_t *
ag_registry_load (const char *path, char *err, size_t err_size, size_t *n_errors)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (err, err_size, "%s: %s\n", path, strerror (errno));
        if (n_errors)
            *n_errors = 1;
        return NULL;
    }
    mm_buf_t buf = MM_BUF_INIT;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0)
        if (mm_buf_append (&buf, chunk, n) == -1) {
            rc = -1;
            break;
        }
    if (ferror (f))
        rc = -1;
    fclose (f);
    if (rc == -1) {
        snprintf (err, err_size, "%s: cannot read it\n", path);
        mm_buf_free (&buf);
        if (n_errors)
            *n_errors = 1;
        return NULL;
    }
    ag_registry_t *self =
        ag_registry_parse (path, (const char *) buf.data, buf.len, err, err_size, n_errors);
    mm_buf_free (&buf);
    return self;
}

void
ag_registry_destroy (ag_registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_registry_t *self = *self_p;
    free (self->providers);
    free (self->orgs);
    free (self->org_refs);
    free (self->chains);
    free (self->chain_refs);
    free (self->members);
    free (self->edges);
    free (self->edge_refs);
    free (self->sensors);
    free (self->sensor_refs);
    free (self->cus_off);
    free (self->cus);
    free (self->sup_off);
    free (self->sup);
    free (self->org_chain_off);
    free (self->org_chain);
    free (self->member_off);
    free (self->member);
    zhashx_destroy (&self->provider_ix);
    zhashx_destroy (&self->org_ix);
    zhashx_destroy (&self->chain_ix);
    zhashx_destroy (&self->sensor_ix);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Queries

size_t
ag_registry_providers (const ag_registry_t *self)
{
    return self->n_providers;
}

size_t
ag_registry_orgs (const ag_registry_t *self)
{
    return self->n_orgs;
}

size_t
ag_registry_chains (const ag_registry_t *self)
{
    return self->n_chains;
}

size_t
ag_registry_edges (const ag_registry_t *self)
{
    return self->n_edges;
}

size_t
ag_registry_sensors (const ag_registry_t *self)
{
    return self->n_sensors;
}

const ag_provider_t *
ag_registry_provider_at (const ag_registry_t *self, size_t i)
{
    return i < self->n_providers ? &self->providers[i] : NULL;
}

const ag_org_t *
ag_registry_org_at (const ag_registry_t *self, size_t i)
{
    return i < self->n_orgs ? &self->orgs[i] : NULL;
}

const ag_sensor_t *
ag_registry_sensor_at (const ag_registry_t *self, size_t i)
{
    return i < self->n_sensors ? &self->sensors[i] : NULL;
}

const ag_chain_t *
ag_registry_chain_at (const ag_registry_t *self, size_t i)
{
    return i < self->n_chains ? &self->chains[i] : NULL;
}

const ag_edge_t *
ag_registry_edge_at (const ag_registry_t *self, size_t i)
{
    return i < self->n_edges ? &self->edges[i] : NULL;
}

int32_t
ag_registry_org_index (const ag_registry_t *self, const char *id)
{
    return id ? s_lookup (self->org_ix, id) : -1;
}

int32_t
ag_registry_chain_index (const ag_registry_t *self, const char *id)
{
    return id ? s_lookup (self->chain_ix, id) : -1;
}

int32_t
ag_registry_sensor_org (const ag_registry_t *self, const char *sensor)
{
    int32_t i = sensor ? s_lookup (self->sensor_ix, sensor) : -1;
    return i < 0 ? -1 : (int32_t) self->sensors[i].org;
}

const ag_sensor_t *
ag_registry_sensor (const ag_registry_t *self, const char *sensor)
{
    int32_t i = sensor ? s_lookup (self->sensor_ix, sensor) : -1;
    return i < 0 ? NULL : &self->sensors[i];
}

size_t
ag_registry_customers (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max)
{
    return s_list (self->cus_off, self->cus, self->n_orgs, org, out, max);
}

size_t
ag_registry_suppliers (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max)
{
    return s_list (self->sup_off, self->sup, self->n_orgs, org, out, max);
}

size_t
ag_registry_org_chains (const ag_registry_t *self, uint32_t org, uint32_t *out, size_t max)
{
    return s_list (self->org_chain_off, self->org_chain, self->n_orgs, org, out, max);
}

size_t
ag_registry_chain_members (const ag_registry_t *self, uint32_t chain, uint32_t *out, size_t max)
{
    return s_list (self->member_off, self->member, self->n_chains, chain, out, max);
}

bool
ag_registry_is_member (const ag_registry_t *self, uint32_t org, uint32_t chain)
{
    if (org >= self->n_orgs)
        return false;
    if (!self->org_chain_off) {  //  still resolving (edges are checked against members)
        for (size_t i = 0; i < self->n_members; i++)
            if (self->members[i].org_i == org && self->members[i].chain_i == chain)
                return true;
        return false;
    }
    for (uint32_t i = self->org_chain_off[org]; i < self->org_chain_off[org + 1]; i++)
        if (self->org_chain[i] == chain)
            return true;
    return false;
}

bool
ag_registry_org_owns_addr (const ag_registry_t *self, uint32_t org, const mm_addr_t *addr)
{
    return org < self->n_orgs && mm_netlist_contains (&self->orgs[org].nets, addr);
}

bool
ag_registry_org_owns_domain (const ag_registry_t *self, uint32_t org, const char *name)
{
    if (org >= self->n_orgs || !name)
        return false;
    char low[MM_NAME_MAX + 1];
    if (!s_domain (name, low, sizeof low))
        return false;
    size_t len = strlen (low);
    const ag_org_t *o = &self->orgs[org];
    for (uint32_t i = 0; i < o->n_domains; i++) {
        size_t dl = strlen (o->domains[i]);
        //  The domain itself, or a name under it (a label boundary before it).
        if (len == dl ? strcmp (low, o->domains[i]) == 0
                      : len > dl && low[len - dl - 1] == '.' &&
                            strcmp (low + len - dl, o->domains[i]) == 0)
            return true;
    }
    return false;
}

//  ---------------------------------------------------------------------------------------------
//  Reload

struct ag_registry_watch_t {
    char path[1024];
    ag_registry_t *current;
    int64_t next_ms;
    struct stat seen;
};

static bool
s_same_stat (const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

ag_registry_watch_t *
ag_registry_watch_new (const char *path, char *err, size_t err_size)
{
    ag_registry_watch_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    snprintf (self->path, sizeof self->path, "%s", path);
    stat (path, &self->seen);  //  before the read: a change during it is seen next time
    self->current = ag_registry_load (path, err, err_size, NULL);
    if (!self->current) {
        free (self);
        return NULL;
    }
    self->next_ms = zclock_mono () + 1000;
    return self;
}

void
ag_registry_watch_destroy (ag_registry_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ag_registry_destroy (&(*self_p)->current);
    free (*self_p);
    *self_p = NULL;
}

const ag_registry_t *
ag_registry_watch_current (const ag_registry_watch_t *self)
{
    return self->current;
}

int
ag_registry_watch_check (ag_registry_watch_t *self, bool force)
{
    int64_t now = zclock_mono ();
    if (!force && now < self->next_ms)
        return 0;
    self->next_ms = now + 1000;
    struct stat st;
    if (stat (self->path, &st) != 0) {
        mm_log_warning ("ag_registry: %s: %s: the registry in force stays", self->path,
                        strerror (errno));
        return -1;
    }
    if (!force && s_same_stat (&st, &self->seen))
        return 0;
    self->seen = st;
    char err[4096];
    size_t n_errors = 0;
    ag_registry_t *fresh = ag_registry_load (self->path, err, sizeof err, &n_errors);
    if (!fresh) {
        mm_log_error ("ag_registry: %s refused (%zu errors), the registry in force stays:\n%s",
                      self->path, n_errors, err);
        return -1;
    }
    ag_registry_destroy (&self->current);
    self->current = fresh;
    mm_log_info ("ag_registry: %s reloaded: %zu providers, %zu orgs, %zu chains, %zu links, %zu "
                 "sensors",
                 self->path, fresh->n_providers, fresh->n_orgs, fresh->n_chains, fresh->n_edges,
                 fresh->n_sensors);
    return 1;
}
