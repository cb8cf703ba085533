/*  mm_cert: CURVE certificates with Mimamori metadata; atomic, no-clobber files.
    Owner: proto/ (security). See mm_cert.h for the file layout and the rules. */
#include "mm_cert.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct mm_cert_t {
    mm_identity_t ident;
    unsigned char public_key[32];
    unsigned char secret_key[32];
    char secret_txt[MM_CERT_KEY_TXT + 1];
    bool has_secret;
};

static const char *s_role_names[] = {NULL, "sensor", "broker", "aggregator", "console"};
#define S_ROLES_N (sizeof s_role_names / sizeof s_role_names[0])

static void s_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, errlen, fmt, ap);
    va_end (ap);
}

//  memset that the compiler may not drop: the secret key must not linger in freed memory.
static void
s_wipe (void *p, size_t n)
{
    volatile unsigned char *v = (volatile unsigned char *) p;
    while (n--)
        *v++ = 0;
}

const char *
mm_role_name (mm_role_t role)
{
    return (unsigned) role < S_ROLES_N ? s_role_names[role] : NULL;
}

int
mm_role_parse (const char *name, mm_role_t *role)
{
    for (unsigned i = 1; name && i < S_ROLES_N; i++)
        if (strcmp (name, s_role_names[i]) == 0) {
            *role = (mm_role_t) i;
            return 0;
        }
    return -1;
}

static bool
s_alnum (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
mm_cert_id_valid (const char *s)
{
    if (!s || !s_alnum (s[0]))
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= MM_ID_MAX)
            return false;
        char c = s[n];
        if (!s_alnum (c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

//  One metadata field against its rule: required, optional or not allowed for this role.
typedef enum { S_NO, S_OPTIONAL, S_REQUIRED } s_rule_t;

static int
s_check_field (const char *what, const char *value, s_rule_t rule, const char *role, char *err,
               size_t errlen)
{
    if (!value[0]) {
        if (rule == S_REQUIRED) {
            s_err (err, errlen, "a %s certificate needs the field '%s'", role, what);
            return -1;
        }
        return 0;
    }
    if (rule == S_NO) {
        s_err (err, errlen, "a %s certificate has no %s (got '%.64s')", role, what, value);
        return -1;
    }
    if (!mm_cert_id_valid (value)) {
        s_err (err, errlen,
               "%s '%.80s' is not valid: 1 to %d characters of A-Z a-z 0-9 . _ -, "
               "starting with a letter or digit",
               what, value, MM_ID_MAX);
        return -1;
    }
    return 0;
}

int
mm_cert_identity_check (const mm_identity_t *ident, char *err, size_t errlen)
{
    const char *role = mm_role_name (ident->role);
    if (!role) {
        s_err (err, errlen, "unknown role (sensor, broker, aggregator or console)");
        return -1;
    }
    //  Which fields each role carries: a sensor watches one company in one region; a broker
    //  serves a region; the aggregator is the centre; a console may belong to a regional SOC
    //  or to one company. A field a role cannot have is refused, so swapped flags show.
    s_rule_t org = S_NO, region = S_NO;
    switch (ident->role) {
    case MM_ROLE_SENSOR: org = S_REQUIRED, region = S_REQUIRED; break;
    case MM_ROLE_BROKER: region = S_REQUIRED; break;
    case MM_ROLE_CONSOLE: org = S_OPTIONAL, region = S_OPTIONAL; break;
    default: break;
    }
    if (s_check_field ("id", ident->id, S_REQUIRED, role, err, errlen) == -1 ||
        s_check_field ("org", ident->org, org, role, err, errlen) == -1 ||
        s_check_field ("region", ident->region, region, role, err, errlen) == -1)
        return -1;
    return 0;
}

//  Copies a metadata value into a field, refusing what does not fit (checked again later).
static int
s_set_field (char *dst, const char *src, const char *what, char *err, size_t errlen)
{
    if (!src)
        src = "";
    size_t n = strlen (src);
    if (n > MM_ID_MAX) {
        s_err (err, errlen, "%s is longer than %d characters", what, MM_ID_MAX);
        return -1;
    }
    memcpy (dst, src, n + 1);
    return 0;
}

mm_cert_t *
mm_cert_new (mm_role_t role, const char *id, const char *org, const char *region, char *err,
             size_t errlen)
{
    mm_cert_t *self = (mm_cert_t *) calloc (1, sizeof *self);
    if (!self) {
        s_err (err, errlen, "out of memory");
        return NULL;
    }
    self->ident.role = role;
    if (s_set_field (self->ident.id, id, "id", err, errlen) == -1 ||
        s_set_field (self->ident.org, org, "org", err, errlen) == -1 ||
        s_set_field (self->ident.region, region, "region", err, errlen) == -1 ||
        mm_cert_identity_check (&self->ident, err, errlen) == -1)
        goto fail;
    if (zmq_curve_keypair (self->ident.pubkey, self->secret_txt) != 0) {
        s_err (err, errlen, "cannot make a CURVE key pair: %s", zmq_strerror (errno));
        goto fail;
    }
    if (!zmq_z85_decode (self->public_key, self->ident.pubkey) ||
        !zmq_z85_decode (self->secret_key, self->secret_txt)) {
        s_err (err, errlen, "libzmq made a key that does not decode");
        goto fail;
    }
    self->has_secret = true;
    return self;
fail:
    mm_cert_destroy (&self);
    return NULL;
}

void
mm_cert_destroy (mm_cert_t **self_p)
{
    if (self_p && *self_p) {
        s_wipe (*self_p, sizeof **self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

const mm_identity_t *
mm_cert_identity (const mm_cert_t *self)
{
    return &self->ident;
}

const char *
mm_cert_public_txt (const mm_cert_t *self)
{
    return self->ident.pubkey;
}

bool
mm_cert_has_secret (const mm_cert_t *self)
{
    return self->has_secret;
}

const unsigned char *
mm_cert_public_key (const mm_cert_t *self)
{
    return self->public_key;
}

const unsigned char *
mm_cert_secret_key (const mm_cert_t *self)
{
    return self->has_secret ? self->secret_key : NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Loading

//  Reads a whole file of at most MM_CERT_FILE_MAX bytes into `buf` (NUL-terminated). Sets
//  *mode. 0, or -1 with the reason.
static int
s_read_small (const char *path, char *buf, size_t cap, mode_t *mode, char *err, size_t errlen)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        s_err (err, errlen, "%s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat (fd, &st) == -1) {
        s_err (err, errlen, "%s: %s", path, strerror (errno));
        goto done;
    }
    if (!S_ISREG (st.st_mode)) {
        s_err (err, errlen, "%s: not a regular file", path);
        goto done;
    }
    *mode = st.st_mode;
    size_t len = 0;
    for (;;) {
        ssize_t n = read (fd, buf + len, cap - 1 - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1) {
            s_err (err, errlen, "%s: %s", path, strerror (errno));
            goto done;
        }
        if (n == 0)
            break;
        len += (size_t) n;
        if (len == cap - 1) {
            s_err (err, errlen, "%s: larger than %zu bytes, not a certificate", path, cap - 2);
            goto done;
        }
    }
    if (memchr (buf, 0, len)) {
        s_err (err, errlen, "%s: holds a NUL byte, not a certificate", path);
        goto done;
    }
    buf[len] = 0;
    rc = 0;
done:
    close (fd);
    return rc;
}

//  Decodes a 40-character Z85 key. 0, or -1.
static int
s_decode_key (const char *txt, unsigned char key[32])
{
    return txt && strlen (txt) == MM_CERT_KEY_TXT && zmq_z85_decode (key, txt) ? 0 : -1;
}

//  Fills the certificate from a parsed ZPL tree; strict about what it contains.
static int
s_from_config (mm_cert_t *self, zconfig_t *root, const char *path, char *err, size_t errlen)
{
    const char *public_txt = NULL, *secret_txt = NULL;
    bool seen_meta = false, seen_curve = false;
    for (zconfig_t *sec = zconfig_child (root); sec; sec = zconfig_next (sec)) {
        const char *name = zconfig_name (sec);
        bool is_meta = strcmp (name, "metadata") == 0, is_curve = strcmp (name, "curve") == 0;
        if ((!is_meta && !is_curve) || (is_meta && seen_meta) || (is_curve && seen_curve)) {
            s_err (err, errlen, "%s: unexpected section '%.40s'", path, name);
            return -1;
        }
        seen_meta |= is_meta, seen_curve |= is_curve;
        for (zconfig_t *item = zconfig_child (sec); item; item = zconfig_next (item)) {
            const char *key = zconfig_name (item), *value = zconfig_value (item);
            if (!value)
                value = "";
            char *dst = NULL;
            const char **dst_txt = NULL;
            if (is_meta && strcmp (key, "role") == 0) {
                if (self->ident.role != MM_ROLE_NONE || mm_role_parse (value, &self->ident.role)) {
                    s_err (err, errlen,
                           "%s: role '%.40s' is not sensor, broker, aggregator "
                           "or console (or is given twice)",
                           path, value);
                    return -1;
                }
                continue;
            }
            if (is_meta && strcmp (key, "id") == 0)
                dst = self->ident.id;
            else if (is_meta && strcmp (key, "org") == 0)
                dst = self->ident.org;
            else if (is_meta && strcmp (key, "region") == 0)
                dst = self->ident.region;
            else if (is_curve && strcmp (key, "public-key") == 0)
                dst_txt = &public_txt;
            else if (is_curve && strcmp (key, "secret-key") == 0)
                dst_txt = &secret_txt;
            if (dst_txt && !*dst_txt) {
                *dst_txt = value;
                continue;
            }
            //  Unknown keys are refused rather than carried: the metadata travels in every
            //  handshake and ends up in logs, so it stays these four short, checked fields.
            if (!dst || dst[0]) {
                s_err (err, errlen, "%s: unexpected or repeated key '%.40s' in [%s]", path, key,
                       name);
                return -1;
            }
            if (s_set_field (dst, value, key, err, errlen) == -1)
                return -1;
        }
    }
    if (s_decode_key (public_txt, self->public_key) == -1) {
        s_err (err, errlen, "%s: no valid public-key (40 characters of Z85)", path);
        return -1;
    }
    memcpy (self->ident.pubkey, public_txt, MM_CERT_KEY_TXT + 1);
    if (secret_txt) {
        char derived[MM_CERT_KEY_TXT + 1];
        if (s_decode_key (secret_txt, self->secret_key) == -1 ||
            zmq_curve_public (derived, secret_txt) != 0) {
            s_err (err, errlen, "%s: secret-key is not a valid key", path);
            return -1;
        }
        //  A secret that does not belong to the public key would make a node that nobody can
        //  authenticate, with an error only on the server's side: catch it here.
        if (strcmp (derived, public_txt) != 0) {
            s_err (err, errlen, "%s: secret-key does not match public-key", path);
            return -1;
        }
        memcpy (self->secret_txt, secret_txt, MM_CERT_KEY_TXT + 1);
        self->has_secret = true;
    }
    char why[200];
    if (mm_cert_identity_check (&self->ident, why, sizeof why) == -1) {
        s_err (err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

mm_cert_t *
mm_cert_load (const char *path, char *err, size_t errlen)
{
    mm_cert_t *self = (mm_cert_t *) calloc (1, sizeof *self);
    char *buf = (char *) malloc (MM_CERT_FILE_MAX + 2);
    zconfig_t *root = NULL;
    mode_t mode = 0;
    if (!self || !buf) {
        s_err (err, errlen, "out of memory");
        goto fail;
    }
    if (s_read_small (path, buf, MM_CERT_FILE_MAX + 2, &mode, err, errlen) == -1)
        goto fail;
    root = zconfig_str_load (buf);
    if (!root) {
        s_err (err, errlen, "%s: not a certificate (ZPL syntax)", path);
        goto fail;
    }
    if (s_from_config (self, root, path, err, errlen) == -1)
        goto fail;
    //  As ssh does with its keys: a secret that others could read is no longer a secret, and
    //  refusing it is the only way the operator learns.
    if (self->has_secret && (mode & 077)) {
        s_err (err, errlen,
               "%s: secret certificate is readable by others (mode %03o): "
               "chmod 600 it, or make a new key",
               path, (unsigned) (mode & 0777));
        goto fail;
    }
    zconfig_destroy (&root);
    s_wipe (buf, MM_CERT_FILE_MAX + 2);
    free (buf);
    return self;
fail:
    zconfig_destroy (&root);
    if (buf)
        s_wipe (buf, MM_CERT_FILE_MAX + 2);
    free (buf);
    mm_cert_destroy (&self);
    return NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Saving

//  The file text, in zcert's ZPL layout (so zcert_load and zcertstore read it). Values are
//  checked ids and Z85 keys: neither contains a quote, so quoting needs no escapes.
static int
s_render (const mm_cert_t *self, bool secret, mm_buf_t *out)
{
    const mm_identity_t *id = &self->ident;
    int rc = mm_buf_appendf (out,
                             "#   Mimamori CURVE %s certificate (ZeroMQ zcert format)\n"
                             "#   %s\n"
                             "metadata\n"
                             "    role = \"%s\"\n"
                             "    id = \"%s\"\n",
                             secret ? "**secret**" : "public",
                             secret ? "DO NOT COPY THIS FILE: it never leaves this node (mode 0600)"
                                    : "Give this file to the servers that must accept this key",
                             mm_role_name (id->role), id->id);
    if (rc == 0 && id->org[0])
        rc = mm_buf_appendf (out, "    org = \"%s\"\n", id->org);
    if (rc == 0 && id->region[0])
        rc = mm_buf_appendf (out, "    region = \"%s\"\n", id->region);
    if (rc == 0)
        rc = mm_buf_appendf (out, "curve\n    public-key = \"%s\"\n", id->pubkey);
    if (rc == 0 && secret)
        rc = mm_buf_appendf (out, "    secret-key = \"%s\"\n", self->secret_txt);
    return rc;
}

//  The directory part of `path` ("." if none), into `dir`. 0, or -1 if too long.
static int
s_dirname (const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr (path, '/');
    if (!slash)
        return snprintf (dir, cap, ".") < (int) cap ? 0 : -1;
    size_t n = slash == path ? 1 : (size_t) (slash - path);
    if (n >= cap)
        return -1;
    memcpy (dir, path, n);
    dir[n] = 0;
    return 0;
}

static int
s_fsync_dir (const char *path)
{
    char dir[PATH_MAX];
    if (s_dirname (path, dir, sizeof dir) == -1)
        return -1;
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

//  Writes `data` to a new hidden temporary file beside `path` (".NAME.tmp-XXXXXX": readers of
//  allow-list directories skip dot files, so a crash leaves nothing they would load), with
//  `mode`, and fsyncs it. 0 and the name in `tmp`, or -1 with the reason.
static int
s_write_temp (const char *path, const void *data, size_t len, mode_t mode, char *tmp, size_t tmpcap,
              char *err, size_t errlen)
{
    const char *slash = strrchr (path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirlen = slash ? (int) (slash - path + 1) : 0;
    if (!*base) {
        s_err (err, errlen, "%s: not a file name", path);
        return -1;
    }
    int n = snprintf (tmp, tmpcap, "%.*s.%s.tmp-XXXXXX", dirlen, path, base);
    if (n < 0 || (size_t) n >= tmpcap) {
        s_err (err, errlen, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp (tmp);  //  0600 from the start: the secret is never readable by others
    if (fd == -1) {
        s_err (err, errlen, "%s: cannot create a file there: %s", path, strerror (errno));
        return -1;
    }
    const char *p = (const char *) data;
    size_t left = len;
    while (left) {
        ssize_t w = write (fd, p, left);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            goto fail;
        p += w, left -= (size_t) w;
    }
    //  fchmod, not the umask: 0600 for the secret whatever the umask, 0644 for the public.
    if (fchmod (fd, mode) == -1 || fsync (fd) == -1)
        goto fail;
    if (close (fd) == -1) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    s_err (err, errlen, "%s: cannot write: %s", path, strerror (errno));
    if (fd != -1)
        close (fd);
    unlink (tmp);
    return -1;
}

//  Moves the temporary file to `path`: rename() when replacing is allowed, link() otherwise,
//  which fails with EEXIST instead of replacing (no window between a check and the write).
static int
s_commit (const char *tmp, const char *path, bool overwrite, char *err, size_t errlen)
{
    int rc = overwrite ? rename (tmp, path) : link (tmp, path);
    int saved = errno;
    if (!overwrite || rc == -1)
        unlink (tmp);
    if (rc == -1) {
        if (saved == EEXIST)
            s_err (err, errlen, "%s exists: not replaced", path);
        else
            s_err (err, errlen, "%s: %s", path, strerror (saved));
        errno = saved;
        return -1;
    }
    //  The rename or link itself must survive a power cut, not only the file's bytes.
    if (s_fsync_dir (path) == -1) {
        s_err (err, errlen, "%s: written, but its directory could not be synced: %s", path,
               strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_save (const mm_cert_t *self, const char *path, bool secret, bool overwrite, char *err,
        size_t errlen)
{
    if (secret && !self->has_secret) {
        s_err (err, errlen, "%s: this certificate has no secret key to save", path);
        return -1;
    }
    mm_buf_t text = MM_BUF_INIT;
    char tmp[PATH_MAX];
    int rc = -1;
    if (s_render (self, secret, &text) == -1)
        s_err (err, errlen, "out of memory");
    else if (s_write_temp (path, text.data, text.len, secret ? 0600 : 0644, tmp, sizeof tmp, err,
                           errlen) == 0)
        rc = s_commit (tmp, path, overwrite, err, errlen);
    if (text.data)
        s_wipe (text.data, text.cap);
    mm_buf_free (&text);
    return rc;
}

int
mm_cert_save_public (const mm_cert_t *self, const char *path, bool overwrite, char *err,
                     size_t errlen)
{
    return s_save (self, path, false, overwrite, err, errlen);
}

int
mm_cert_save_secret (const mm_cert_t *self, const char *path, bool overwrite, char *err,
                     size_t errlen)
{
    return s_save (self, path, true, overwrite, err, errlen);
}

int
mm_cert_save_pair (const mm_cert_t *self, const char *dir, bool overwrite, char *err, size_t errlen)
{
    char pub[PATH_MAX], sec[PATH_MAX];
    int n1 = snprintf (pub, sizeof pub, "%s/%s" MM_CERT_SUFFIX, dir, self->ident.id);
    int n2 = snprintf (sec, sizeof sec, "%s/%s" MM_CERT_SUFFIX MM_CERT_SECRET_SUFFIX, dir,
                       self->ident.id);
    if (n1 < 0 || n2 < 0 || (size_t) n2 >= sizeof sec) {
        s_err (err, errlen, "%s: path too long", dir);
        return -1;
    }
    if (!overwrite) {
        //  Refuse before writing anything, so a refusal never leaves half a pair. link() in
        //  s_commit still closes the race with another writer.
        struct stat st;
        const char *exists = lstat (sec, &st) == 0 ? sec : lstat (pub, &st) == 0 ? pub : NULL;
        if (exists) {
            s_err (err, errlen, "%s exists: not replaced", exists);
            errno = EEXIST;
            return -1;
        }
    }
    //  The secret first: a public file without its secret would be a key nobody holds.
    if (mm_cert_save_secret (self, sec, overwrite, err, errlen) == -1)
        return -1;
    if (mm_cert_save_public (self, pub, overwrite, err, errlen) == -1) {
        int saved = errno;
        if (!overwrite)
            unlink (sec);  //  ours: we just created it
        errno = saved;
        return -1;
    }
    return 0;
}
