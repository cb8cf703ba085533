/*  sn_block: the optional defence (see sn_block.h). Each address becomes one
    `nft add element FAMILY TABLE SET { ADDR timeout Ns }`, run without a shell; at most one nft
    runs at a time and it is reaped from the packet loop without waiting, so a slow or stuck nft
    never stalls capture (one that outlives SN_BLOCK_CHILD_TIMEOUT_MS is killed). Addresses
    wait their turn in a short bounded queue. Owner: sn_detect. */
#define _GNU_SOURCE  //  posix_spawn_file_actions_addclosefrom_np (glibc 2.34)
#include "sn_block.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sn_track.h"

extern char **environ;

#define S_NS 1000000000ULL
#define S_LOG_EVERY_NS (60 * S_NS)  //  at most one failure line a minute

typedef struct {
    uint64_t until;  //  capture time the block ends
} s_entry_t;

struct sn_block {
    const sn_config_t *cfg;
    char family[16];  //  "" when the table setting names no family (nft's default, ip)
    char table[64];
    uint64_t timeout_ns;
    sn_track_t *blocked;
    //  The one nft at work, and the addresses waiting for it.
    pid_t child;
    mm_addr_t child_addr;
    uint64_t child_started;  //  monotonic ns
    mm_addr_t queue[SN_BLOCK_QUEUE_MAX];
    size_t q_head, q_len;
    uint64_t log_last;   //  monotonic ns of the last failure line
    uint64_t log_quiet;  //  lines left out since
    sn_block_stats_t stats;
};

static uint64_t
s_mono (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * S_NS + (uint64_t) ts.tv_nsec;
}

//  Failures go to stderr, rate-limited: a broken nft must not flood the journal.
static void s_fail (sn_block_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_fail (sn_block_t *self, const char *fmt, ...)
{
    self->stats.failed++;
    uint64_t now = s_mono ();
    if (self->log_last && now - self->log_last < S_LOG_EVERY_NS) {
        self->log_quiet++;
        return;
    }
    char line[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    if (self->log_quiet)
        fprintf (stderr, "mimamori-sensor: block: %s (%llu similar messages left out)\n", line,
                 (unsigned long long) self->log_quiet);
    else
        fprintf (stderr, "mimamori-sensor: block: %s\n", line);
    self->log_last = now;
    self->log_quiet = 0;
}

//  An nft identifier: what may stand in an argument without changing the command's shape
//  (nft joins its arguments with spaces and parses the whole).
static bool
s_is_name (const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

//  ::ffff:a.b.c.d is the IPv4 address it carries: the home_net and `never` lists, and set4,
//  see it as IPv4.
static mm_addr_t
s_plain (const mm_addr_t *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    mm_addr_t out = *a;
    if (a->len == 16 && memcmp (a->b, mapped, 12) == 0) {
        memset (&out, 0, sizeof out);
        out.len = 4;
        memcpy (out.b, a->b + 12, 4);
    }
    return out;
}

//  Addresses never blocked whatever a finding says: ours, the operator's `never` list, and
//  those whose blocking would cut the network itself (loopback, link-local such as a router's
//  fe80:: address, multicast, broadcast, unspecified).
static bool
s_refused (const sn_block_t *self, const mm_addr_t *a)
{
    if (a->len != 4 && a->len != 16)
        return true;
    if (mm_netlist_contains (&self->cfg->home_net, a) ||
        mm_netlist_contains (&self->cfg->block_never, a))
        return true;
    const uint8_t *b = a->b;
    if (a->len == 4)
        return b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
    static const uint8_t zero[15] = {0};
    if (memcmp (b, zero, 15) == 0)
        return true;  //  :: and ::1
    return b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

//  Starts nft for `addr`. 0, or -1 (counted and logged).
static int
s_spawn (sn_block_t *self, const mm_addr_t *addr)
{
    char text[64], timeout[32];
    if (!inet_ntop (addr->len == 4 ? AF_INET : AF_INET6, addr->b, text, sizeof text)) {
        s_fail (self, "cannot format an address");
        return -1;
    }
    snprintf (timeout, sizeof timeout, "%llus", (unsigned long long) self->cfg->block_timeout);
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *) self->cfg->block_nft;
    argv[n++] = (char *) "add";
    argv[n++] = (char *) "element";
    if (self->family[0])
        argv[n++] = self->family;
    argv[n++] = self->table;
    argv[n++] = (char *) (addr->len == 4 ? self->cfg->block_set4 : self->cfg->block_set6);
    argv[n++] = (char *) "{";
    argv[n++] = text;
    argv[n++] = (char *) "timeout";
    argv[n++] = timeout;
    argv[n++] = (char *) "}";
    argv[n] = NULL;

    //  No shell; stdin from /dev/null and stdout onto stderr, so nothing nft says can get into
    //  the sensor's event stream (--jsonl -); the sensor's other descriptors (capture socket,
    //  output file) stay behind; its own process group, so a Ctrl-C meant for the sensor does
    //  not kill a half-done nft; no signal blocked.
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init (&fa) != 0) {
        s_fail (self, "cannot prepare to run %s", self->cfg->block_nft);
        return -1;
    }
    if (posix_spawnattr_init (&attr) != 0) {
        posix_spawn_file_actions_destroy (&fa);
        s_fail (self, "cannot prepare to run %s", self->cfg->block_nft);
        return -1;
    }
    sigset_t none;
    sigemptyset (&none);
    int rc = posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2 (&fa, STDERR_FILENO, STDOUT_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    if (rc == 0)
        rc = posix_spawn_file_actions_addclosefrom_np (&fa, STDERR_FILENO + 1);
#endif
    if (rc == 0)
        rc = posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    if (rc == 0)
        rc = posix_spawnattr_setpgroup (&attr, 0);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask (&attr, &none);
    pid_t pid = 0;
    if (rc == 0)
        rc = posix_spawnp (&pid, self->cfg->block_nft, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    if (rc != 0) {
        s_fail (self, "cannot run %s for %s: %s", self->cfg->block_nft, text, strerror (rc));
        return -1;
    }
    self->child = pid;
    self->child_addr = *addr;
    self->child_started = s_mono ();
    return 0;
}

//  A block that did not happen is forgotten, so the next detection of that address tries
//  again.
static void
s_forget (sn_block_t *self, const mm_addr_t *addr)
{
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, addr);
    sn_track_remove (self->blocked, key, n);
}

//  Starts queued work while nothing runs.
static void
s_next (sn_block_t *self)
{
    while (self->child == 0 && self->q_len > 0) {
        mm_addr_t addr = self->queue[self->q_head];
        self->q_head = (self->q_head + 1) % SN_BLOCK_QUEUE_MAX;
        self->q_len--;
        if (s_spawn (self, &addr) != 0)
            s_forget (self, &addr);
    }
}

//  Reaps the running nft if it is done (or overdue), without waiting; then starts the next.
static void
s_poll (sn_block_t *self)
{
    if (self->child == 0) {
        s_next (self);
        return;
    }
    char text[64];
    inet_ntop (self->child_addr.len == 4 ? AF_INET : AF_INET6, self->child_addr.b, text,
               sizeof text);
    int status = 0;
    pid_t r = waitpid (self->child, &status, WNOHANG);
    if (r == 0) {
        if (s_mono () - self->child_started < SN_BLOCK_CHILD_TIMEOUT_MS * 1000000ULL)
            return;
        kill (-self->child, SIGKILL);  //  its process group: nft and anything it started
        while (waitpid (self->child, &status, 0) == -1 && errno == EINTR)
            ;
        s_fail (self, "%s took over %d ms to block %s: killed", self->cfg->block_nft,
                SN_BLOCK_CHILD_TIMEOUT_MS, text);
        s_forget (self, &self->child_addr);
    }
    else if (r == -1) {
        if (errno == EINTR)
            return;
        s_fail (self, "cannot wait for %s (blocking %s): %s", self->cfg->block_nft, text,
                strerror (errno));
        s_forget (self, &self->child_addr);
    }
    else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        if (WIFEXITED (status))
            s_fail (self, "%s failed to block %s (exit %d)", self->cfg->block_nft, text,
                    WEXITSTATUS (status));
        else
            s_fail (self, "%s failed to block %s (signal %d)", self->cfg->block_nft, text,
                    WIFSIGNALED (status) ? WTERMSIG (status) : 0);
        s_forget (self, &self->child_addr);
    }
    self->child = 0;
    s_next (self);
}

sn_block_t *
sn_block_new (const sn_config_t *cfg)
{
    //  "inet mimamori" -> family "inet", table "mimamori"; "mimamori" alone -> table only.
    char family[16] = "", table[64] = "";
    const char *t = cfg->block_table;
    while (*t == ' ')
        t++;
    const char *sp = strchr (t, ' ');
    if (sp) {
        size_t n = (size_t) (sp - t);
        if (n < sizeof family) {
            memcpy (family, t, n);
            family[n] = 0;
        }
        else
            family[0] = '!';  //  refused below
        while (*sp == ' ')
            sp++;
        snprintf (table, sizeof table, "%s", sp);
    }
    else
        snprintf (table, sizeof table, "%s", t);
    if ((family[0] && !s_is_name (family)) || !s_is_name (table) || !s_is_name (cfg->block_set4) ||
        !s_is_name (cfg->block_set6) || !cfg->block_nft[0]) {
        fprintf (stderr,
                 "mimamori-sensor: [block] table '%s', set4 '%s', set6 '%s' and nft '%s' must be "
                 "nftables names (letters, digits, _ - .)\n",
                 cfg->block_table, cfg->block_set4, cfg->block_set6, cfg->block_nft);
        return NULL;
    }
    sn_block_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    memcpy (self->family, family, sizeof family);
    memcpy (self->table, table, sizeof table);
    self->timeout_ns = cfg->block_timeout * S_NS;
    self->blocked = sn_track_new (SN_BLOCK_MAX, sizeof (s_entry_t), self->timeout_ns, NULL, NULL);
    if (!self->blocked) {
        free (self);
        return NULL;
    }
    return self;
}

void
sn_block_destroy (sn_block_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_block_t *self = *self_p;
    //  Blocks decided before the end still happen (a capture file's last finding, SIGTERM).
    sn_block_wait (self);
    sn_track_destroy (&self->blocked);
    free (self);
    *self_p = NULL;
}

int
sn_block_add (sn_block_t *self, const mm_addr_t *addr_in, uint64_t now_ns)
{
    mm_addr_t addr = s_plain (addr_in);
    s_poll (self);
    if (s_refused (self, &addr)) {
        self->stats.refused++;
        return -1;
    }
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, &addr);
    s_entry_t *e = sn_track_find (self->blocked, key, n);
    if (e && e->until > now_ns) {
        self->stats.already++;
        return -1;
    }
    if (self->child == 0) {
        //  Nothing running: start at once, so a missing nft is known now.
        if (s_spawn (self, &addr) != 0)
            return -1;
    }
    else if (self->q_len == SN_BLOCK_QUEUE_MAX) {
        s_fail (self, "%d blocks already waiting for %s: dropped one", SN_BLOCK_QUEUE_MAX,
                self->cfg->block_nft);
        return -1;
    }
    else {
        self->queue[(self->q_head + self->q_len) % SN_BLOCK_QUEUE_MAX] = addr;
        self->q_len++;
    }
    e = sn_track_get (self->blocked, key, n, now_ns, NULL);
    e->until = now_ns + self->timeout_ns;
    self->stats.added++;
    return 0;
}

void
sn_block_expire (sn_block_t *self, uint64_t now_ns)
{
    s_poll (self);
    sn_track_expire (self->blocked, now_ns);
}

void
sn_block_wait (sn_block_t *self)
{
    //  A sensor being stopped must stop: whatever is not done within two timeouts (nft
    //  hanging again and again) is given up, counted and said.
    uint64_t deadline = s_mono () + 2 * SN_BLOCK_CHILD_TIMEOUT_MS * 1000000ULL;
    while (self->child || self->q_len) {
        s_poll (self);
        if (!self->child && !self->q_len)
            break;
        if (s_mono () >= deadline) {
            if (self->child) {
                kill (-self->child, SIGKILL);
                int status;
                while (waitpid (self->child, &status, 0) == -1 && errno == EINTR)
                    ;
                self->child = 0;
            }
            s_fail (self, "gave up %zu blocks still waiting for %s", self->q_len + 1,
                    self->cfg->block_nft);
            self->stats.failed += self->q_len;
            self->q_len = 0;
            break;
        }
        struct timespec ms = {0, 1000000};
        nanosleep (&ms, NULL);
    }
}

bool
sn_block_is_blocked (sn_block_t *self, const mm_addr_t *addr_in, uint64_t now_ns)
{
    mm_addr_t addr = s_plain (addr_in);
    uint8_t key[SN_TRACK_KEY_MAX];
    size_t n = sn_track_key_addr (key, &addr);
    const s_entry_t *e = sn_track_find (self->blocked, key, n);
    return e && e->until > now_ns;
}

const sn_block_stats_t *
sn_block_stats (const sn_block_t *self)
{
    return &self->stats;
}
