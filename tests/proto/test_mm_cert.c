/*  mm_cert: key pairs with Mimamori metadata; 0600 secrets, atomic no-clobber writes, strict
    loading (metadata round trip, invalid ids and tampered files refused), zcert compatibility. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mm_cert.h"

static char s_dir[64];

static void
s_setup (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/mm-cert-test-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
}

//  Removes every file of the test directory, then the directory.
static void
s_teardown (void)
{
    DIR *d = opendir (s_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")) {
            char path[512];
            snprintf (path, sizeof path, "%s/%s", s_dir, e->d_name);
            unlink (path);
        }
    }
    closedir (d);
    rmdir (s_dir);
}

TestSuite (mm_cert, .init = s_setup, .fini = s_teardown, .timeout = 30);

static void
s_path (char *out, size_t cap, const char *name)
{
    snprintf (out, cap, "%s/%s", s_dir, name);
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    cr_assert_eq (stat (path, &st), 0, "%s: %s", path, strerror (errno));
    return st.st_mode & 0777;
}

static void
s_write (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert_neq (fd, -1);
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    cr_assert_eq (fchmod (fd, mode), 0);
    close (fd);
}

static int
s_count_files (void)
{
    DIR *d = opendir (s_dir);
    cr_assert_not_null (d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)))
        n += strcmp (e->d_name, ".") && strcmp (e->d_name, "..");  //  temporary files count
    closedir (d);
    return n;
}

Test (mm_cert, secret_is_0600_public_0644_whatever_the_umask)
{
    mode_t old = umask (0);  //  the most permissive umask: modes must not depend on it
    char err[256];
    mm_cert_t *cert =
        mm_cert_new (MM_ROLE_SENSOR, "s-kanto-0001", "org-0001", "kanto", err, sizeof err);
    cr_assert_not_null (cert, "%s", err);
    cr_assert_eq (mm_cert_save_pair (cert, s_dir, false, err, sizeof err), 0, "%s", err);
    umask (old);
    char pub[256], sec[256];
    s_path (pub, sizeof pub, "s-kanto-0001.cert");
    s_path (sec, sizeof sec, "s-kanto-0001.cert_secret");
    cr_expect_eq (s_mode (sec), 0600);
    cr_expect_eq (s_mode (pub), 0644);
    //  Nothing else: the temporary files were renamed or removed.
    cr_expect_eq (s_count_files (), 2);
    //  The public file holds no secret.
    FILE *f = fopen (pub, "r");
    char text[2048] = "";
    size_t n = fread (text, 1, sizeof text - 1, f);
    fclose (f);
    text[n] = 0;
    cr_expect_null (strstr (text, "secret-key"));
    cr_expect_not_null (strstr (text, mm_cert_public_txt (cert)));
    mm_cert_destroy (&cert);
    mm_cert_destroy (&cert);  //  idempotent
}

Test (mm_cert, refuses_to_overwrite_unless_asked)
{
    char err[256], pub[256], sec[256];
    s_path (pub, sizeof pub, "b-kanto.cert");
    s_path (sec, sizeof sec, "b-kanto.cert_secret");
    mm_cert_t *a = mm_cert_new (MM_ROLE_BROKER, "b-kanto", NULL, "kanto", err, sizeof err);
    mm_cert_t *b = mm_cert_new (MM_ROLE_BROKER, "b-kanto", NULL, "kanto", err, sizeof err);
    cr_assert (a && b);
    cr_assert_eq (mm_cert_save_pair (a, s_dir, false, err, sizeof err), 0, "%s", err);

    //  The pair, the secret alone, the public alone: each refused, and the files keep key a.
    errno = 0;
    cr_expect_eq (mm_cert_save_pair (b, s_dir, false, err, sizeof err), -1);
    cr_expect_eq (errno, EEXIST);
    cr_expect_not_null (strstr (err, "exists"), "%s", err);
    cr_expect_eq (mm_cert_save_secret (b, sec, false, err, sizeof err), -1);
    cr_expect_eq (errno, EEXIST);
    cr_expect_eq (mm_cert_save_public (b, pub, false, err, sizeof err), -1);
    cr_expect_eq (errno, EEXIST);
    mm_cert_t *l = mm_cert_load (sec, err, sizeof err);
    cr_assert_not_null (l, "%s", err);
    cr_expect_str_eq (mm_cert_public_txt (l), mm_cert_public_txt (a));
    mm_cert_destroy (&l);
    cr_expect_eq (s_count_files (), 2);

    //  Only one of the two present (a half pair from an old mistake): still refused, and the
    //  missing one is not written either.
    unlink (pub);
    cr_expect_eq (mm_cert_save_pair (b, s_dir, false, err, sizeof err), -1);
    cr_expect_eq (access (pub, F_OK), -1);

    //  Asked to: replaced, both files, modes kept.
    cr_assert_eq (mm_cert_save_pair (b, s_dir, true, err, sizeof err), 0, "%s", err);
    l = mm_cert_load (pub, err, sizeof err);
    cr_assert_not_null (l, "%s", err);
    cr_expect_str_eq (mm_cert_public_txt (l), mm_cert_public_txt (b));
    mm_cert_destroy (&l);
    cr_expect_eq (s_mode (sec), 0600);
    cr_expect_eq (s_count_files (), 2);
    mm_cert_destroy (&a);
    mm_cert_destroy (&b);
}

Test (mm_cert, metadata_round_trip_and_zcert_compatibility)
{
    struct {
        mm_role_t role;
        const char *id, *org, *region;
    } cases[] = {
        {MM_ROLE_SENSOR, "s-kanto-0001", "org-0001", "kanto"},
        {MM_ROLE_BROKER, "broker.kanto_1", NULL, "kanto"},
        {MM_ROLE_AGGREGATOR, "centre", NULL, NULL},
        {MM_ROLE_CONSOLE, "soc-kansai", NULL, "kansai"},
        {MM_ROLE_CONSOLE, "c1", "org-0002", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256], pub[256], sec[256];
        mm_cert_t *cert = mm_cert_new (cases[i].role, cases[i].id, cases[i].org, cases[i].region,
                                       err, sizeof err);
        cr_assert_not_null (cert, "%s: %s", cases[i].id, err);
        cr_assert_eq (mm_cert_save_pair (cert, s_dir, false, err, sizeof err), 0, "%s", err);
        snprintf (pub, sizeof pub, "%s/%s.cert", s_dir, cases[i].id);
        snprintf (sec, sizeof sec, "%s/%s.cert_secret", s_dir, cases[i].id);

        mm_cert_t *p = mm_cert_load (pub, err, sizeof err);
        mm_cert_t *s = mm_cert_load (sec, err, sizeof err);
        cr_assert (p && s, "%s", err);
        const mm_identity_t *want = mm_cert_identity (cert);
        for (int k = 0; k < 2; k++) {
            const mm_identity_t *got = mm_cert_identity (k ? s : p);
            cr_expect_str_eq (got->pubkey, want->pubkey);
            cr_expect_eq (got->role, cases[i].role);
            cr_expect_str_eq (got->id, cases[i].id);
            cr_expect_str_eq (got->org, cases[i].org ? cases[i].org : "");
            cr_expect_str_eq (got->region, cases[i].region ? cases[i].region : "");
        }
        cr_expect_not (mm_cert_has_secret (p));
        cr_expect_null (mm_cert_secret_key (p));
        cr_expect (mm_cert_has_secret (s));
        cr_expect_eq (memcmp (mm_cert_secret_key (s), mm_cert_secret_key (cert), 32), 0);
        cr_expect_eq (memcmp (mm_cert_public_key (p), mm_cert_public_key (cert), 32), 0);

        //  CZMQ reads the same files (zcertstore-based tools, zcert_apply).
        zcert_t *z = zcert_load (sec);
        cr_assert_not_null (z);
        cr_expect_str_eq (zcert_public_txt (z), want->pubkey);
        cr_expect_str_eq (zcert_meta (z, "role"), mm_role_name (cases[i].role));
        cr_expect_str_eq (zcert_meta (z, "id"), cases[i].id);
        zcert_destroy (&z);

        //  A public certificate cannot be saved as a secret one.
        char other[256];
        snprintf (other, sizeof other, "%s/x%zu.cert_secret", s_dir, i);
        cr_expect_eq (mm_cert_save_secret (p, other, false, err, sizeof err), -1);
        cr_expect_eq (access (other, F_OK), -1);
        mm_cert_destroy (&p);
        mm_cert_destroy (&s);
        mm_cert_destroy (&cert);
    }
}

Test (mm_cert, ids_outside_the_safe_charset_are_refused)
{
    char max[MM_ID_MAX + 1], over[MM_ID_MAX + 2];
    memset (max, 'a', MM_ID_MAX), max[MM_ID_MAX] = 0;
    memset (over, 'a', MM_ID_MAX + 1), over[MM_ID_MAX + 1] = 0;
    const char *good[] = {"a", "s-kanto-0001", "A.b_c-d", "0abc", max};
    const char *bad[] = {"",   "../x", "a/b",  "-x",  ".hidden", "a b", "a\tb", "a\nb",
                         over, "é",    "a\"b", "a#b", "a=b",     "a*",  "a$b"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_expect (mm_cert_id_valid (good[i]), "'%s' should be valid", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        cr_expect_not (mm_cert_id_valid (bad[i]), "'%s' should be invalid", bad[i]);
        mm_cert_t *c = mm_cert_new (MM_ROLE_SENSOR, bad[i], "org", "kanto", err, sizeof err);
        cr_expect_null (c, "id '%s' accepted", bad[i]);
        cr_expect_neq (err[0], 0);
        mm_cert_destroy (&c);
        c = mm_cert_new (MM_ROLE_SENSOR, "s1", bad[i], "kanto", err, sizeof err);
        cr_expect_null (c, "org '%s' accepted", bad[i]);
        mm_cert_destroy (&c);
        c = mm_cert_new (MM_ROLE_SENSOR, "s1", "org", bad[i], err, sizeof err);
        cr_expect_null (c, "region '%s' accepted", bad[i]);
        mm_cert_destroy (&c);
    }
    mm_cert_destroy (NULL);
}

Test (mm_cert, fields_follow_the_role)
{
    struct {
        mm_role_t role;
        const char *org, *region;
        bool ok;
    } cases[] = {
        {MM_ROLE_SENSOR, "o", "r", true},       {MM_ROLE_SENSOR, NULL, "r", false},
        {MM_ROLE_SENSOR, "o", NULL, false},     {MM_ROLE_BROKER, NULL, "r", true},
        {MM_ROLE_BROKER, NULL, NULL, false},    {MM_ROLE_BROKER, "o", "r", false},
        {MM_ROLE_AGGREGATOR, NULL, NULL, true}, {MM_ROLE_AGGREGATOR, NULL, "r", false},
        {MM_ROLE_AGGREGATOR, "o", NULL, false}, {MM_ROLE_CONSOLE, NULL, NULL, true},
        {MM_ROLE_CONSOLE, "o", "r", true},      {MM_ROLE_NONE, NULL, NULL, false},
        {(mm_role_t) 99, NULL, NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        mm_cert_t *c =
            mm_cert_new (cases[i].role, "n1", cases[i].org, cases[i].region, err, sizeof err);
        cr_expect_eq (c != NULL, cases[i].ok, "case %zu: %s", i, err);
        mm_cert_destroy (&c);
    }
    mm_role_t r;
    cr_expect_eq (mm_role_parse ("aggregator", &r), 0);
    cr_expect_eq (r, MM_ROLE_AGGREGATOR);
    cr_expect_eq (mm_role_parse ("Sensor", &r), -1);
    cr_expect_eq (mm_role_parse (NULL, &r), -1);
    cr_expect_null (mm_role_name ((mm_role_t) 7));
}

//  Copies `tmpl` with "@1" and "@2" replaced by k1 and k2 (inserted, not scanned).
static void
s_fill (char *out, size_t cap, const char *tmpl, const char *k1, const char *k2)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n + 64 < cap; p++) {
        if (p[0] == '@' && (p[1] == '1' || p[1] == '2')) {
            const char *k = p[1] == '1' ? k1 : k2;
            k = k ? k : "";
            memcpy (out + n, k, strlen (k));
            n += strlen (k);
            p++;
        }
        else
            out[n++] = *p;
    }
    out[n] = 0;
}

Test (mm_cert, tampered_or_unsafe_files_are_refused)
{
    char err[256];
    mm_cert_t *a = mm_cert_new (MM_ROLE_SENSOR, "s1", "o1", "r1", err, sizeof err);
    mm_cert_t *b = mm_cert_new (MM_ROLE_SENSOR, "s2", "o1", "r1", err, sizeof err);
    cr_assert (a && b);
    char ka[64], kb[64], sa[64];
    snprintf (ka, sizeof ka, "%s", mm_cert_public_txt (a));
    snprintf (kb, sizeof kb, "%s", mm_cert_public_txt (b));
    //  a's secret key, read back from its own secret file.
    char sec[256];
    s_path (sec, sizeof sec, "s1.cert_secret");
    cr_assert_eq (mm_cert_save_secret (a, sec, false, err, sizeof err), 0, "%s", err);
    zcert_t *z = zcert_load (sec);
    cr_assert_not_null (z);
    snprintf (sa, sizeof sa, "%s", zcert_secret_txt (z));
    zcert_destroy (&z);

    char text[4096];
    struct {
        const char *what, *fmt, *k1, *k2;
        mode_t mode;
        const char *reason;
    } cases[] = {
        {"unknown metadata key",
         "metadata\n    role = \"sensor\"\n    id = \"s1\"\n    org = \"o\"\n    region = \"r\"\n"
         "    admin = \"yes\"\ncurve\n    public-key = \"@1\"\n",
         ka, NULL, 0644, "unexpected"},
        {"id with a slash",
         "metadata\n    role = \"sensor\"\n    id = \"../s1\"\n    org = \"o\"\n    region = "
         "\"r\"\ncurve\n    public-key = \"@1\"\n",
         ka, NULL, 0644, "not valid"},
        {"unknown role",
         "metadata\n    role = \"root\"\n    id = \"s1\"\ncurve\n    public-key = \"@1\"\n", ka,
         NULL, 0644, "role"},
        {"short key",
         "metadata\n    role = \"aggregator\"\n    id = \"c\"\ncurve\n    public-key "
         "= \"abc%s\"\n",
         "", NULL, 0644, "public-key"},
        {"secret of another key",
         "metadata\n    role = \"sensor\"\n    id = \"s1\"\n    org = \"o\"\n    region = \"r\"\n"
         "curve\n    public-key = \"@1\"\n    secret-key = \"@2\"\n",
         kb, sa, 0600, "does not match"},
        {"secret readable by others",
         "metadata\n    role = \"sensor\"\n    id = \"s1\"\n    org = \"o\"\n    region = \"r\"\n"
         "curve\n    public-key = \"@1\"\n    secret-key = \"@2\"\n",
         ka, sa, 0640, "readable by others"},
        {"two roles",
         "metadata\n    role = \"sensor\"\n    role = \"broker\"\n    id = \"s1\"\ncurve\n    "
         "public-key = \"@1\"\n",
         ka, NULL, 0644, "role"},
        {"extra section",
         "metadata\n    role = \"aggregator\"\n    id = \"c\"\nadmin\n    x = "
         "\"1\"\ncurve\n    public-key = \"@1\"\n",
         ka, NULL, 0644, "section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf (path, sizeof path, "%s/case%zu.cert", s_dir, i);
        s_fill (text, sizeof text, cases[i].fmt, cases[i].k1, cases[i].k2);
        s_write (path, text, cases[i].mode);
        err[0] = 0;
        mm_cert_t *c = mm_cert_load (path, err, sizeof err);
        cr_expect_null (c, "%s: accepted", cases[i].what);
        cr_expect_not_null (strstr (err, cases[i].reason), "%s: '%s'", cases[i].what, err);
        mm_cert_destroy (&c);
    }
    //  The control: the same text as the last-but-two case with a's own key loads.
    char path[256];
    s_path (path, sizeof path, "good.cert_secret");
    s_fill (text, sizeof text, cases[5].fmt, ka, sa);
    s_write (path, text, 0600);
    mm_cert_t *c = mm_cert_load (path, err, sizeof err);
    cr_expect_not_null (c, "%s", err);
    mm_cert_destroy (&c);

    //  Bounded: a file larger than any certificate is not parsed.
    s_path (path, sizeof path, "big.cert");
    char *big = malloc (MM_CERT_FILE_MAX + 100);
    memset (big, '#', MM_CERT_FILE_MAX + 99);
    big[MM_CERT_FILE_MAX + 99] = 0;
    s_write (path, big, 0644);
    free (big);
    c = mm_cert_load (path, err, sizeof err);
    cr_expect_null (c);
    cr_expect_not_null (strstr (err, "larger"), "%s", err);
    //  Not a file, and no file.
    cr_expect_null (mm_cert_load (s_dir, err, sizeof err));
    s_path (path, sizeof path, "missing.cert");
    cr_expect_null (mm_cert_load (path, err, sizeof err));
    cr_expect_not_null (strstr (err, "No such file"), "%s", err);
    mm_cert_destroy (&a);
    mm_cert_destroy (&b);
}
