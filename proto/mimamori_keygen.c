/*  mimamori-keygen: makes and shows the CURVE certificates of Mimamori nodes (mm_cert).
      mimamori-keygen --role sensor --id s-kanto-0001 --org org-0001 --region kanto --out DIR
          writes DIR/ID.cert (public, give it to the servers) and DIR/ID.cert_secret (0600)
      mimamori-keygen show FILE     prints a certificate's metadata and public key
    Exit status: 0 done, 1 could not (a file exists, cannot write), 2 bad arguments. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mm_cert.h"

#ifndef MIMAMORI_VERSION
#define MIMAMORI_VERSION "0.0.0"
#endif

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: mimamori-keygen --role ROLE --id ID [--org ORG] [--region REGION] --out DIR"
             " [--force]\n"
             "       mimamori-keygen show FILE\n"
             "\n"
             "Makes a CURVE key pair for a Mimamori node: DIR/ID.cert (public key and metadata;\n"
             "copy it into the allow-list directory of the servers that must accept this node)\n"
             "and DIR/ID.cert_secret (mode 0600; it never leaves the node).\n"
             "\n"
             "  --role ROLE     sensor, broker, aggregator or console\n"
             "  --id ID         the node's id (also the file name): 1 to %d characters of\n"
             "                  A-Z a-z 0-9 . _ -, starting with a letter or digit\n"
             "  --org ORG       the company a sensor watches (sensors: required; consoles: "
             "optional)\n"
             "  --region REGION the region (sensors and brokers: required; consoles: optional)\n"
             "  --out DIR       where to write (created, mode 0700, if missing)\n"
             "  --force         replace existing files (the old key stops working)\n"
             "  -V, --version   print the version and exit\n"
             "  -h, --help      this help\n"
             "\n"
             "  show FILE       print the role, ids and public key of a .cert or .cert_secret\n"
             "                  file (never the secret key)\n"
             "\n"
             "It takes no settings (no --check-config: `show FILE` checks a key file).\n"
             "Exit status: 0 done, 1 could not (a file exists, cannot write), 2 bad arguments.\n",
             MM_ID_MAX);
}

static int
s_show (const char *path)
{
    char err[512];
    mm_cert_t *cert = mm_cert_load (path, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "mimamori-keygen: %s\n", err);
        return 1;
    }
    const mm_identity_t *id = mm_cert_identity (cert);
    printf ("file: %s\n", path);
    printf ("kind: %s\n", mm_cert_has_secret (cert) ? "secret" : "public");
    printf ("role: %s\n", mm_role_name (id->role));
    printf ("id: %s\n", id->id);
    if (id->org[0])
        printf ("org: %s\n", id->org);
    if (id->region[0])
        printf ("region: %s\n", id->region);
    printf ("public-key: %s\n", id->pubkey);
    mm_cert_destroy (&cert);
    return 0;
}

//  Makes `dir` (one level, 0700) if it does not exist. 0, or -1 with a message printed.
static int
s_make_dir (const char *dir)
{
    struct stat st;
    if (stat (dir, &st) == 0) {
        if (S_ISDIR (st.st_mode))
            return 0;
        fprintf (stderr, "mimamori-keygen: --out %s: not a directory\n", dir);
        return -1;
    }
    if (errno == ENOENT && mkdir (dir, 0700) == 0)
        return 0;
    fprintf (stderr, "mimamori-keygen: --out %s: %s\n", dir, strerror (errno));
    return -1;
}

enum { O_ROLE = 256, O_ID, O_ORG, O_REGION, O_OUT, O_FORCE };

static const struct option s_options[] = {
    {"role", required_argument, NULL, O_ROLE},
    {"id", required_argument, NULL, O_ID},
    {"org", required_argument, NULL, O_ORG},
    {"region", required_argument, NULL, O_REGION},
    {"out", required_argument, NULL, O_OUT},
    {"force", no_argument, NULL, O_FORCE},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "show") == 0) {
        if (argc != 3) {
            fprintf (stderr, "mimamori-keygen: show takes one FILE\n");
            return 2;
        }
        return s_show (argv[2]);
    }
    const char *role_txt = NULL, *id = NULL, *org = NULL, *region = NULL, *out = NULL;
    bool force = false;
    opterr = 0;  //  our own messages, with the usage line
    int c;
    while ((c = getopt_long (argc, argv, "Vh", s_options, NULL)) != -1) {
        switch (c) {
        case O_ROLE: role_txt = optarg; break;
        case O_ID: id = optarg; break;
        case O_ORG: org = optarg; break;
        case O_REGION: region = optarg; break;
        case O_OUT: out = optarg; break;
        case O_FORCE: force = true; break;
        case 'V': printf ("mimamori-keygen %s\n", MIMAMORI_VERSION); return 0;
        case 'h': s_usage (stdout); return 0;
        default:
            fprintf (stderr, "mimamori-keygen: unknown option or missing value: %s\n",
                     argv[optind - 1]);
            fprintf (stderr, "try: mimamori-keygen --help\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "mimamori-keygen: unexpected argument '%s'\n", argv[optind]);
        fprintf (stderr, "try: mimamori-keygen --help\n");
        return 2;
    }
    if (!role_txt || !id || !out) {
        fprintf (stderr, "mimamori-keygen: --role, --id and --out are required\n");
        fprintf (stderr, "try: mimamori-keygen --help\n");
        return 2;
    }
    mm_identity_t ident = {0};
    if (mm_role_parse (role_txt, &ident.role) == -1) {
        fprintf (stderr,
                 "mimamori-keygen: --role '%s': must be sensor, broker, aggregator or console\n",
                 role_txt);
        return 2;
    }
    //  Checked before any key is made, so every refusal of the metadata is a usage error.
    char err[512];
    if (strlen (id) > MM_ID_MAX || (org && strlen (org) > MM_ID_MAX) ||
        (region && strlen (region) > MM_ID_MAX)) {
        fprintf (stderr, "mimamori-keygen: ids are at most %d characters\n", MM_ID_MAX);
        return 2;
    }
    snprintf (ident.id, sizeof ident.id, "%s", id);
    snprintf (ident.org, sizeof ident.org, "%s", org ? org : "");
    snprintf (ident.region, sizeof ident.region, "%s", region ? region : "");
    if (mm_cert_identity_check (&ident, err, sizeof err) == -1) {
        fprintf (stderr, "mimamori-keygen: %s\n", err);
        return 2;
    }
    if (s_make_dir (out) == -1)
        return 1;
    mm_cert_t *cert = mm_cert_new (ident.role, id, org, region, err, sizeof err);
    if (!cert) {
        fprintf (stderr, "mimamori-keygen: %s\n", err);
        return 1;
    }
    int rc = mm_cert_save_pair (cert, out, force, err, sizeof err);
    if (rc == -1 && errno == EEXIST)
        fprintf (stderr, "mimamori-keygen: %s; --force replaces it (the old key stops working)\n",
                 err);
    else if (rc == -1)
        fprintf (stderr, "mimamori-keygen: %s\n", err);
    else {
        printf ("wrote %s/%s" MM_CERT_SUFFIX " (public: copy it to the servers that accept this "
                "key)\n",
                out, id);
        printf ("wrote %s/%s" MM_CERT_SUFFIX MM_CERT_SECRET_SUFFIX
                " (secret, mode 0600: it stays on this node)\n",
                out, id);
        printf ("public-key: %s\n", mm_cert_public_txt (cert));
    }
    mm_cert_destroy (&cert);
    return rc == -1 ? 1 : 0;
}
