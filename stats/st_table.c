/*  st_table: see st_table.h. Cells live in one array indexed by their dimensions (about
    190,000 slots: 8 regions, 26 industry letters, 2 sensor types, 31 categories, 7
    severities, each with room for "all"); a cell holds one contribution per company, sorted by
    company number, and its notification delays by minute. */
#include "st_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_audit.h"

#define S_REGIONS 9      //  0: all, 1..8
#define S_INDUSTRIES 27  //  0: all, 1..26 = 'A'..'Z'
#define S_SENSORS 3
#define S_CATEGORIES (ST_CATEGORY_MAX + 1)
#define S_SEVERITIES 8
#define S_SLOTS (S_REGIONS * S_INDUSTRIES * S_SENSORS * S_CATEGORIES * S_SEVERITIES)

typedef struct {
    uint32_t org;
    uint16_t provider;
    uint32_t alerts;
    uint32_t incidents;
} s_contrib_t;

typedef struct {
    uint32_t minutes;
    uint32_t count;
} s_delay_t;

typedef struct {
    s_contrib_t *c;  //  sorted by org
    uint32_t n, max;
    s_delay_t *d;  //  sorted by minutes
    uint32_t nd, maxd;
} s_cell_t;

struct st_table_t {
    s_cell_t **slot;  //  S_SLOTS, NULL: no finding
    size_t cells;
    uint64_t findings;
    size_t bytes;
};

//  One cell of the published hierarchy, measured and judged.
typedef struct {
    bool present;
    uint32_t orgs;
    uint64_t alerts, incidents;
    uint64_t top1, top2;    //  the two largest clipped alert contributions
    uint64_t itop1, itop2;  //  and incident contributions
    uint32_t providers;
    uint32_t biggest;  //  companies of the provider with the most in the cell
    int32_t median;
    bool sup, asup;
    uint32_t why, awhy;
} s_pub_t;

static size_t
s_index (uint8_t region, uint8_t industry, uint8_t sensor, uint8_t category, uint8_t severity)
{
    return ((((size_t) region * S_INDUSTRIES + industry) * S_SENSORS + sensor) * S_CATEGORIES +
            category) *
               S_SEVERITIES +
           severity;
}

void
st_rules_default (st_rules_t *rules)
{
    memset (rules, 0, sizeof *rules);
    rules->k = 5;
    rules->dom1_pct = 60;
    rules->dom2_pct = 85;
    rules->min_providers = 2;
    rules->clip = 100;
    rules->complementary = true;
}

st_table_t *
st_table_new (void)
{
    st_table_t *self = (st_table_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->slot = (s_cell_t **) calloc (S_SLOTS, sizeof *self->slot);
    if (!self->slot) {
        free (self);
        return NULL;
    }
    self->bytes = sizeof *self + S_SLOTS * sizeof *self->slot;
    return self;
}

void
st_table_destroy (st_table_t **self_p)
{
    st_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < S_SLOTS; i++)
        if (self->slot[i]) {
            free (self->slot[i]->c);
            free (self->slot[i]->d);
            free (self->slot[i]);
        }
    free (self->slot);
    free (self);
    *self_p = NULL;
}

static int
s_grow (void **p, uint32_t *max, uint32_t n, size_t size, size_t *bytes)
{
    if (n < *max)
        return 0;
    uint32_t m = *max ? *max * 2 : 4;
    void *q = realloc (*p, m * size);
    if (!q)
        return -1;
    *bytes += (m - *max) * size;
    *p = q;
    *max = m;
    return 0;
}

static s_contrib_t *
s_contrib (st_table_t *self, s_cell_t *cell, uint32_t org, uint16_t provider)
{
    uint32_t lo = 0, hi = cell->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cell->c[mid].org < org)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < cell->n && cell->c[lo].org == org)
        return &cell->c[lo];
    if (s_grow ((void **) &cell->c, &cell->max, cell->n, sizeof *cell->c, &self->bytes) == -1)
        return NULL;
    memmove (&cell->c[lo + 1], &cell->c[lo], (cell->n - lo) * sizeof *cell->c);
    cell->n++;
    cell->c[lo] = (s_contrib_t){org, provider, 0, 0};
    return &cell->c[lo];
}

static int
s_delay (st_table_t *self, s_cell_t *cell, uint32_t minutes)
{
    uint32_t lo = 0, hi = cell->nd;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cell->d[mid].minutes < minutes)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < cell->nd && cell->d[lo].minutes == minutes) {
        cell->d[lo].count++;
        return 0;
    }
    if (s_grow ((void **) &cell->d, &cell->maxd, cell->nd, sizeof *cell->d, &self->bytes) == -1)
        return -1;
    memmove (&cell->d[lo + 1], &cell->d[lo], (cell->nd - lo) * sizeof *cell->d);
    cell->nd++;
    cell->d[lo] = (s_delay_t){minutes, 1};
    return 0;
}

int
st_table_add (st_table_t *self, const st_finding_t *f)
{
    if (f->region < 1 || f->region >= S_REGIONS || f->industry < 'A' || f->industry > 'Z' ||
        f->sensor_type < 1 || f->sensor_type >= S_SENSORS || f->category < 1 ||
        f->category > ST_CATEGORY_MAX || f->severity >= S_SEVERITIES)
        return -1;
    size_t i = s_index (f->region, (uint8_t) (f->industry - 'A' + 1), f->sensor_type, f->category,
                        f->severity);
    s_cell_t *cell = self->slot[i];
    if (!cell) {
        if (!(cell = (s_cell_t *) calloc (1, sizeof *cell)))
            return -1;
        self->slot[i] = cell;
        self->cells++;
        self->bytes += sizeof *cell;
    }
    s_contrib_t *c = s_contrib (self, cell, f->org, f->provider);
    if (!c)
        return -1;
    if (c->alerts < UINT32_MAX)
        c->alerts++;
    if (f->notified) {
        if (c->incidents < UINT32_MAX)
            c->incidents++;
        if (s_delay (self, cell, f->notify_minutes) == -1)
            return -1;
    }
    self->findings++;
    return 0;
}

uint64_t
st_table_findings (const st_table_t *self)
{
    return self->findings;
}

size_t
st_table_cells (const st_table_t *self)
{
    return self->cells;
}

size_t
st_table_memory (const st_table_t *self)
{
    return self->bytes;
}

//  ---------------------------------------------------------------------------------------------
//  Measuring the hierarchy of one (sensor type, category, severity)

typedef struct {
    st_table_t *table;
    const st_rules_t *rules;
    uint8_t sensor, category, severity;
    s_pub_t pub[S_REGIONS][S_INDUSTRIES];
    uint64_t provider_bits[65536 / 64];
    s_delay_t *delays;  //  scratch for medians
    size_t n_delays, max_delays;
    uint32_t provider_orgs[65536];  //  companies per provider in the cell being measured
} s_slice_t;

static const s_cell_t *
s_cell (const s_slice_t *sl, int r, int i)
{
    return sl->table
        ->slot[s_index ((uint8_t) r, (uint8_t) i, sl->sensor, sl->category, sl->severity)];
}

static int
s_by_minutes (const void *a, const void *b)
{
    uint32_t x = ((const s_delay_t *) a)->minutes, y = ((const s_delay_t *) b)->minutes;
    return x < y ? -1 : x > y;
}

//  Measures the cell made of the finest cells (r, i) with r in [r0, r1], i in [i0, i1].
static int
s_measure (s_slice_t *sl, int r0, int r1, int i0, int i1, s_pub_t *p)
{
    memset (p, 0, sizeof *p);
    memset (sl->provider_bits, 0, sizeof sl->provider_bits);
    sl->n_delays = 0;
    uint64_t delays = 0;
    uint32_t clip = sl->rules->clip ? sl->rules->clip : UINT32_MAX;
    for (int r = r0; r <= r1; r++)
        for (int i = i0; i <= i1; i++) {
            const s_cell_t *c = s_cell (sl, r, i);
            if (!c)
                continue;
            p->present = true;
            //  A company is in one region and one industry: margins add up.
            for (uint32_t k = 0; k < c->n; k++) {
                const s_contrib_t *x = &c->c[k];
                uint64_t a = x->alerts < clip ? x->alerts : clip;
                uint64_t inc = x->incidents < clip ? x->incidents : clip;
                p->orgs++;
                p->alerts += a;
                p->incidents += inc;
                if (a > p->top1)
                    p->top2 = p->top1, p->top1 = a;
                else if (a > p->top2)
                    p->top2 = a;
                if (inc > p->itop1)
                    p->itop2 = p->itop1, p->itop1 = inc;
                else if (inc > p->itop2)
                    p->itop2 = inc;
                uint64_t *w = &sl->provider_bits[x->provider / 64];
                if (!(*w >> (x->provider % 64) & 1)) {
                    *w |= 1ull << (x->provider % 64);
                    p->providers++;
                    sl->provider_orgs[x->provider] = 0;
                }
                if (++sl->provider_orgs[x->provider] > p->biggest)
                    p->biggest = sl->provider_orgs[x->provider];
            }
            for (uint32_t k = 0; k < c->nd; k++) {
                if (sl->n_delays == sl->max_delays) {
                    size_t m = sl->max_delays ? sl->max_delays * 2 : 64;
                    s_delay_t *d = (s_delay_t *) realloc (sl->delays, m * sizeof *d);
                    if (!d)
                        return -1;
                    sl->delays = d;
                    sl->max_delays = m;
                }
                sl->delays[sl->n_delays++] = c->d[k];
                delays += c->d[k].count;
            }
        }
    p->median = -1;
    if (delays) {
        //  The lower median: the ((n - 1) / 2)-th delay in order.
        qsort (sl->delays, sl->n_delays, sizeof *sl->delays, s_by_minutes);
        uint64_t want = (delays - 1) / 2, seen = 0;
        for (size_t k = 0; k < sl->n_delays; k++) {
            seen += sl->delays[k].count;
            if (seen > want) {
                p->median = (int32_t) sl->delays[k].minutes;
                break;
            }
        }
    }
    return 0;
}

//  (n,k)-dominance of a total by its one or two largest contributions.
static bool
s_dominated (const st_rules_t *rules, uint64_t total, uint64_t top1, uint64_t top2)
{
    return total && (top1 * 100 > (uint64_t) rules->dom1_pct * total ||
                     (top1 + top2) * 100 > (uint64_t) rules->dom2_pct * total);
}

//  Rules 1-3 on one measured cell. Rule 3 also asks that the companies of the other providers
//  be at least k: a provider subtracting its own customers from a cell must not be left with
//  a few companies of a competitor (which it could then single out).
static void
s_judge (const st_rules_t *rules, s_pub_t *p)
{
    if (p->orgs < rules->k)
        p->why |= ST_WHY_K;
    if (rules->min_providers > 1 &&
        (p->providers < rules->min_providers || p->orgs - p->biggest < rules->k))
        p->why |= ST_WHY_PROVIDERS;
    p->sup = p->why != 0;
    //  The alert measures go together: alerts, incidents and the median delay (one company's
    //  incidents would give away its delays).
    if (s_dominated (rules, p->alerts, p->top1, p->top2) ||
        s_dominated (rules, p->incidents, p->itop1, p->itop2))
        p->awhy |= ST_WHY_DOMINANCE;
    p->awhy |= p->why;
    p->asup = p->awhy != 0;
}

//  ---------------------------------------------------------------------------------------------
//  Complementary suppression

//  One relation: a margin and the cells that add up to it.
typedef struct {
    s_pub_t *m[S_INDUSTRIES + S_REGIONS];
    size_t n;
} s_rel_t;

static void
s_rel_add (s_rel_t *rel, s_pub_t *p)
{
    if (p->present)
        rel->m[rel->n++] = p;
}

//  A relation with exactly one suppressed member gives it away by subtraction: suppress the
//  smallest other member too. True if it changed anything.
static bool
s_complement_one (s_rel_t *rel, bool alerts)
{
    size_t suppressed = 0;
    for (size_t k = 0; k < rel->n; k++)
        suppressed += alerts ? rel->m[k]->asup : rel->m[k]->sup;
    if (suppressed != 1)
        return false;
    s_pub_t *best = NULL;
    for (size_t k = 0; k < rel->n; k++) {
        s_pub_t *p = rel->m[k];
        if (alerts ? p->asup : p->sup)
            continue;
        uint64_t v = alerts ? p->alerts : p->orgs,
                 bv = best ? (alerts ? best->alerts : best->orgs) : 0;
        if (!best || v < bv)
            best = p;
    }
    if (!best)
        return false;
    if (alerts) {
        best->asup = true;
        best->awhy |= ST_WHY_COMPLEMENTARY;
    }
    else {
        best->sup = best->asup = true;
        best->why |= ST_WHY_COMPLEMENTARY;
        best->awhy |= ST_WHY_COMPLEMENTARY;
    }
    return true;
}

//  The smallest published cell of the row or column of (r, i), suppressed too. False if none.
static bool
s_widen (s_slice_t *sl, int r, int i, bool alerts)
{
    s_pub_t *best = NULL;
    for (int k = 0; k < S_INDUSTRIES + S_REGIONS; k++) {
        s_pub_t *p = k < S_INDUSTRIES ? &sl->pub[r][k] : &sl->pub[k - S_INDUSTRIES][i];
        if (!p->present || (alerts ? p->asup : p->sup))
            continue;
        uint64_t v = alerts ? p->alerts : p->orgs;
        if (!best || v < (alerts ? best->alerts : best->orgs))
            best = p;
    }
    if (!best)
        return false;
    best->asup = true;
    best->awhy |= ST_WHY_COMPLEMENTARY;
    if (!alerts) {
        best->sup = true;
        best->why |= ST_WHY_COMPLEMENTARY;
    }
    return true;
}

//  The full audit (st_audit: any combination of the relations, not only a lone suppressed
//  member): while some suppressed cell can be recovered, widen around it.
static int
s_audit (s_slice_t *sl, bool alerts)
{
    bool present[S_REGIONS][S_INDUSTRIES], sup[S_REGIONS][S_INDUSTRIES];
    bool rec[S_REGIONS][S_INDUSTRIES];
    for (int guard = 0; guard < S_REGIONS * S_INDUSTRIES; guard++) {
        for (int r = 0; r < S_REGIONS; r++)
            for (int i = 0; i < S_INDUSTRIES; i++) {
                present[r][i] = sl->pub[r][i].present;
                sup[r][i] = alerts ? sl->pub[r][i].asup : sl->pub[r][i].sup;
            }
        int n = st_audit (present, sup, rec);
        if (n <= 0)
            return n;
        bool widened = false;
        for (int r = 0; r < S_REGIONS && !widened; r++)
            for (int i = 0; i < S_INDUSTRIES && !widened; i++)
                if (rec[r][i])
                    widened = s_widen (sl, r, i, alerts);
        if (!widened)
            return -1;  //  nothing left to suppress around it: cannot happen with margins
    }
    return -1;
}

//  Every relation of the hierarchy, until none has exactly one suppressed member.
static void
s_complement (s_slice_t *sl, bool alerts)
{
    bool changed = true;
    while (changed) {
        changed = false;
        s_rel_t rel;
        for (int r = 0; r < S_REGIONS; r++) {  //  a region's industries and its total
            rel.n = 0;
            for (int i = 0; i < S_INDUSTRIES; i++)
                s_rel_add (&rel, &sl->pub[r][i]);
            changed |= s_complement_one (&rel, alerts);
        }
        for (int i = 0; i < S_INDUSTRIES; i++) {  //  an industry's regions and its total
            rel.n = 0;
            for (int r = 0; r < S_REGIONS; r++)
                s_rel_add (&rel, &sl->pub[r][i]);
            changed |= s_complement_one (&rel, alerts);
        }
    }
}

//  ---------------------------------------------------------------------------------------------
//  Publishing

static uint64_t
s_noised (const st_rules_t *rules, const char *label, uint64_t v, uint32_t sensitivity)
{
    st_rng_t rng;
    st_rng_seed (&rng, rules->secret, label);
    int64_t y = st_noise_laplace (&rng, rules->eps_num, rules->eps_den, sensitivity);
    if (y == INT64_MIN)
        return v;
    int64_t out = (int64_t) v + y;
    return out > 0 ? (uint64_t) out : 0;  //  post-processing: no negative counts
}

static int
s_emit (s_slice_t *sl, const char *label, int r, int i, st_row_fn *fn, void *arg)
{
    const s_pub_t *p = &sl->pub[r][i];
    const st_rules_t *rules = sl->rules;
    st_row_t row;
    memset (&row, 0, sizeof row);
    row.region = (uint8_t) r;
    row.industry = i ? (uint8_t) ('A' + i - 1) : ST_ALL;
    row.sensor_type = sl->sensor;
    row.category = sl->category;
    row.severity = sl->severity;
    row.suppressed = p->sup;
    row.alerts_suppressed = p->asup;
    row.why = p->why;
    row.alerts_why = p->awhy;
    row.median_minutes = -1;
    bool noise = rules->eps_num && rules->eps_den && rules->secret;
    char cell[192];
    snprintf (cell, sizeof cell, "%s|%u|%u|%u|%d|%d", label, sl->sensor, sl->category, sl->severity,
              r, i);
    if (!p->sup) {
        row.orgs = p->orgs;
        row.providers = p->providers;
        if (noise) {
            char l[224];
            snprintf (l, sizeof l, "%s|orgs", cell);
            row.orgs = (uint32_t) s_noised (rules, l, p->orgs, 1);
            //  Post-processing (free under differential privacy): a published cell had at
            //  least k companies, so it never shows fewer.
            if (row.orgs < rules->k)
                row.orgs = rules->k;
        }
    }
    if (!p->asup) {
        row.alerts = p->alerts;
        row.incidents = p->incidents;
        row.median_minutes = p->median;
        if (noise) {
            uint32_t clip = rules->clip ? rules->clip : 1;
            char l[224];
            snprintf (l, sizeof l, "%s|alerts", cell);
            row.alerts = s_noised (rules, l, p->alerts, clip);
            snprintf (l, sizeof l, "%s|incidents", cell);
            row.incidents = s_noised (rules, l, p->incidents, clip);
        }
    }
    row.noised = noise && !p->sup;
    return fn (arg, &row);
}

static int
s_slice (s_slice_t *sl, const char *label, st_row_fn *fn, void *arg)
{
    //  Most slices are empty: their total says so.
    if (s_measure (sl, 1, S_REGIONS - 1, 1, S_INDUSTRIES - 1, &sl->pub[0][0]) == -1)
        return -1;
    if (!sl->pub[0][0].present)
        return 0;
    //  Measure and judge every cell of the hierarchy.
    for (int r = 0; r < S_REGIONS; r++)
        for (int i = 0; i < S_INDUSTRIES; i++) {
            int r0 = r ? r : 1, r1 = r ? r : S_REGIONS - 1;
            int i0 = i ? i : 1, i1 = i ? i : S_INDUSTRIES - 1;
            if (s_measure (sl, r0, r1, i0, i1, &sl->pub[r][i]) == -1)
                return -1;
            if (sl->pub[r][i].present)
                s_judge (sl->rules, &sl->pub[r][i]);
        }
    if (sl->rules->complementary) {
        //  The singleton rule first (cheap, and usually all there is), then the full audit.
        s_complement (sl, false);
        if (s_audit (sl, false) == -1)
            return -1;
        //  A suppressed cell hides its alert measures too; then the same for those.
        for (int r = 0; r < S_REGIONS; r++)
            for (int i = 0; i < S_INDUSTRIES; i++)
                if (sl->pub[r][i].sup)
                    sl->pub[r][i].asup = true;
        s_complement (sl, true);
        if (s_audit (sl, true) == -1)
            return -1;
    }
    //  The total, the regions, the industries, then region x industry.
    int rc = s_emit (sl, label, 0, 0, fn, arg);
    for (int r = 1; r < S_REGIONS && rc == 0; r++)
        if (sl->pub[r][0].present)
            rc = s_emit (sl, label, r, 0, fn, arg);
    for (int i = 1; i < S_INDUSTRIES && rc == 0; i++)
        if (sl->pub[0][i].present)
            rc = s_emit (sl, label, 0, i, fn, arg);
    for (int r = 1; r < S_REGIONS && rc == 0; r++)
        for (int i = 1; i < S_INDUSTRIES && rc == 0; i++)
            if (sl->pub[r][i].present)
                rc = s_emit (sl, label, r, i, fn, arg);
    return rc == 0 ? 0 : -1;
}

int
st_table_publish (st_table_t *self, const st_rules_t *rules, const char *label, st_row_fn *fn,
                  void *arg)
{
    if (rules->k == 0 || rules->dom1_pct > 100 || rules->dom2_pct > 100 ||
        ((rules->eps_num != 0) != (rules->eps_den != 0)) || (rules->eps_num && !rules->secret))
        return -1;
    s_slice_t *sl = (s_slice_t *) calloc (1, sizeof *sl);
    if (!sl)
        return -1;
    sl->table = self;
    sl->rules = rules;
    int rc = 0;
    for (uint8_t s = 1; s < S_SENSORS && rc == 0; s++)
        for (uint8_t c = 1; c < S_CATEGORIES && rc == 0; c++)
            for (uint8_t v = 0; v < S_SEVERITIES && rc == 0; v++) {
                sl->sensor = s, sl->category = c, sl->severity = v;
                rc = s_slice (sl, label, fn, arg);
            }
    free (sl->delays);
    free (sl);
    return rc;
}
