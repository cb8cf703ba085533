/*  mm_check: the checks behind --check-config (see mm_check.h). */
#include "mm_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void s_line (mm_check_t *c, const char *tag, const char *what, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 4, 0)));

static void
s_line (mm_check_t *c, const char *tag, const char *what, const char *fmt, va_list ap)
{
    fprintf (c->out, "%-4s %s: ", tag, what);
    vfprintf (c->out, fmt, ap);
    fputc ('\n', c->out);
}

void
mm_check_ok (mm_check_t *c, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_line (c, "ok", what, fmt, ap);
    va_end (ap);
}

void
mm_check_fix (mm_check_t *c, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_line (c, "FIX", what, fmt, ap);
    va_end (ap);
    c->problems++;
}

void
mm_check_cert (mm_check_t *c, const char *what, const char *path, bool secret, int role)
{
    char err[512];
    if (!path[0]) {
        mm_check_fix (c, what, "not set: give the %s certificate's path",
                      secret ? "secret" : "public");
        return;
    }
    mm_cert_t *cert = mm_cert_load (path, err, sizeof err);
    if (!cert) {
        mm_check_fix (c, what, "%s%s", err,
                      strstr (err, "No such file") ? " (make one with mimamori-keygen)" : "");
        return;
    }
    const mm_identity_t *id = mm_cert_identity (cert);
    struct stat st;
    if (secret && !mm_cert_has_secret (cert))
        mm_check_fix (c, what, "%s holds no secret key: give the .cert_secret file", path);
    else if (secret && stat (path, &st) == 0 && (st.st_mode & 077))
        mm_check_fix (c, what, "%s is mode %03o: others can read the secret key (chmod 600 %s)",
                      path, (unsigned) (st.st_mode & 0777), path);
    else if (role != MM_ROLE_NONE && id->role != (mm_role_t) role)
        mm_check_fix (c, what, "%s is a %s certificate; this needs a %s one", path,
                      mm_role_name (id->role), mm_role_name ((mm_role_t) role));
    else
        mm_check_ok (c, what, "%s: %s %s%s%s%s%s", path, mm_role_name (id->role), id->id,
                     id->org[0] ? ", org " : "", id->org, id->region[0] ? ", region " : "",
                     id->region);
    mm_cert_destroy (&cert);
}

void
mm_check_cert_dir (mm_check_t *c, const char *what, const char *path)
{
    DIR *d = path[0] ? opendir (path) : NULL;
    if (!d) {
        mm_check_fix (c, what, "%s: %s (the directory of allowed certificates)",
                      path[0] ? path : "(not set)", path[0] ? strerror (errno) : "give a path");
        return;
    }
    unsigned n = 0;
    for (struct dirent *e; (e = readdir (d)) != NULL;) {
        size_t len = strlen (e->d_name);
        n += len > 5 && strcmp (e->d_name + len - 5, ".cert") == 0;
    }
    closedir (d);
    if (n == 0)
        mm_check_ok (c, what, "%s: no *.cert yet: nobody can connect until one is copied in", path);
    else
        mm_check_ok (c, what, "%s: %u allowed certificates (changes apply without a restart)", path,
                     n);
}

void
mm_check_state_dir (mm_check_t *c, const char *what, const char *path)
{
    struct stat st;
    if (!path[0]) {
        mm_check_fix (c, what, "not set");
        return;
    }
    if (stat (path, &st) == 0) {
        if (!S_ISDIR (st.st_mode))
            mm_check_fix (c, what, "%s is not a directory", path);
        else if (access (path, W_OK | X_OK) != 0)
            mm_check_fix (c, what, "%s: not writable by this user (%s)", path, strerror (errno));
        else
            mm_check_ok (c, what, "%s (exists, writable)", path);
        return;
    }
    char parent[4096];
    snprintf (parent, sizeof parent, "%s", path);
    char *slash = strrchr (parent, '/');
    if (slash == parent)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf (parent, sizeof parent, ".");
    if (access (parent, W_OK | X_OK) != 0)
        mm_check_fix (c, what,
                      "%s does not exist and %s is not writable (%s): make it, owned by "
                      "this program's user",
                      path, parent, strerror (errno));
    else
        mm_check_ok (c, what, "%s (made at the first start)", path);
}

void
mm_check_file (mm_check_t *c, const char *what, const char *path, bool optional)
{
    if (!path[0]) {
        if (optional)
            mm_check_ok (c, what, "none");
        else
            mm_check_fix (c, what, "not set");
        return;
    }
    if (access (path, R_OK) != 0)
        mm_check_fix (c, what, "%s: %s", path, strerror (errno));
    else
        mm_check_ok (c, what, "%s (readable)", path);
}

void
mm_check_endpoint (mm_check_t *c, const char *what, const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    char *end = NULL;
    long port = colon ? strtol (colon + 1, &end, 10) : -1;
    if (strncmp (endpoint, "tcp://", 6) != 0 || !colon || colon < endpoint + 6 || !end || *end ||
        port < 1 || port > 65535)
        mm_check_fix (c, what, "'%s': expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:7100",
                      endpoint);
    else
        mm_check_ok (c, what, "%s", endpoint);
}

void
mm_check_listen (mm_check_t *c, const char *what, const char *listen)
{
    if (!listen[0]) {
        mm_check_ok (c, what, "none");
        return;
    }
    char host[64];
    const char *colon = strrchr (listen, ':');
    char *end = NULL;
    long port = colon ? strtol (colon + 1, &end, 10) : -1;
    size_t hlen = colon ? (size_t) (colon - listen) : 0;
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']')
        snprintf (host, sizeof host, "%.*s", (int) hlen - 2, listen + 1);
    else
        snprintf (host, sizeof host, "%.*s", (int) (hlen < sizeof host ? hlen : 0), listen);
    unsigned char addr[16];
    bool ip = inet_pton (AF_INET, host, addr) == 1 || inet_pton (AF_INET6, host, addr) == 1;
    if (!ip || !end || *end || port < 0 || port > 65535)
        mm_check_fix (c, what, "'%s': expected IP:PORT, e.g. 127.0.0.1:9101", listen);
    else if (strcmp (host, "127.0.0.1") != 0 && strcmp (host, "::1") != 0)
        mm_check_ok (c, what, "%s: reachable from other hosts (no TLS, no login: firewall it)",
                     listen);
    else
        mm_check_ok (c, what, "%s (this host only)", listen);
}

int
mm_check_done (mm_check_t *c, const char *prog, const char *file)
{
    if (c->problems)
        fprintf (c->out, "%s: %s: %u setting%s to fix\n", prog, file ? file : "(defaults)",
                 c->problems, c->problems == 1 ? "" : "s");
    else
        fprintf (c->out, "%s: %s: every setting checked is usable\n", prog,
                 file ? file : "(defaults)");
    return c->problems ? 2 : 0;
}
