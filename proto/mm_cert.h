/*  mm_cert: the CURVE certificates of Mimamori nodes (sensors, brokers, the aggregator, SOC
    consoles): a key pair plus the identity the key stands for (role, id, org, region).
    Owner: proto/ (security). mm_curve authenticates with these; mimamori-keygen makes them.

    On disk a certificate is two ZPL files in CZMQ's zcert format, so zcert_load reads them too:
      ID.cert         the public key and the metadata; copied to the servers' allow-lists
      ID.cert_secret  the same plus the secret key; mode 0600, never leaves the node
    Files are written atomically (temporary file, fsync, rename or link, fsync of the directory)
    and an existing file is never replaced unless the caller asks. Loading is bounded (a file
    larger than MM_CERT_FILE_MAX is refused) and strict: only the four metadata keys below, ids
    in the safe charset, keys that decode, a secret key that matches its public key, and a
    secret file that nobody else can read. */
#ifndef MM_CERT_H
#define MM_CERT_H

#include <stdbool.h>
#include <stddef.h>

#include "mm_proto.h"

#define MM_CERT_KEY_TXT 40      //  a Z85-encoded CURVE key (32 bytes) is 40 characters
#define MM_CERT_FILE_MAX 8192   //  bytes; a real certificate is about 500
#define MM_CERT_SUFFIX ".cert"  //  ID.cert, and ID.cert_secret for the secret file
#define MM_CERT_SECRET_SUFFIX "_secret"

//  What a node is. The numbers are stable (they may end up in stored records).
typedef enum {
    MM_ROLE_NONE = 0,
    MM_ROLE_SENSOR = 1,
    MM_ROLE_BROKER = 2,
    MM_ROLE_AGGREGATOR = 3,
    MM_ROLE_CONSOLE = 4,
} mm_role_t;

//  A set of roles, for servers that accept only some (0 means any role).
#define MM_ROLE_BIT(role) (1u << (unsigned) (role))

//  Who a key belongs to. The same struct describes a certificate and an authenticated peer
//  (mm_curve fills it from the ZAP metadata and the allow-list). Strings are NUL-terminated;
//  "" means absent.
//    role    always set in a valid certificate
//    id      always set: the sensor id, broker id, ... (also the certificate's file name)
//    org     the company a sensor watches (required for sensors, optional for consoles)
//    region  the region of a broker or sensor (required for both)
typedef struct {
    char pubkey[MM_CERT_KEY_TXT + 1];
    mm_role_t role;
    char id[MM_ID_MAX + 1];
    char org[MM_ID_MAX + 1];
    char region[MM_ID_MAX + 1];
} mm_identity_t;

typedef struct mm_cert_t mm_cert_t;

//  Name of a role ("sensor", ...), or NULL for an unknown value.
const char *mm_role_name (mm_role_t role);
//  Parses a role name. 0, or -1 if it is not one of the four.
int mm_role_parse (const char *name, mm_role_t *role);

//  True if `s` can be an id, org or region: 1..MM_ID_MAX characters of [A-Za-z0-9._-], the
//  first one a letter or digit. Ids become file names (ID.cert), log words and message fields,
//  so no '/', no spaces, no control bytes, no leading '.' or '-'.
bool mm_cert_id_valid (const char *s);

//  Checks the metadata of an identity against its role (the public key is not checked).
//  0, or -1 with the reason in `err`.
int mm_cert_identity_check (const mm_identity_t *ident, char *err, size_t errlen);

//  Makes a new key pair for `role`, `id`, `org`, `region` (NULL or "" for absent). NULL with
//  the reason in `err` if the metadata is invalid or no key could be made.
mm_cert_t *mm_cert_new (mm_role_t role, const char *id, const char *org, const char *region,
                        char *err, size_t errlen);

//  Loads a public (ID.cert) or secret (ID.cert_secret) file: exactly the file named, without
//  zcert_load's habit of trying NAME_secret first. NULL with the reason in `err`.
mm_cert_t *mm_cert_load (const char *path, char *err, size_t errlen);

//  Destroys the certificate and wipes its secret key from memory. Idempotent.
void mm_cert_destroy (mm_cert_t **self_p);

//  The identity (public key and metadata). Borrowed; lives as long as the certificate.
const mm_identity_t *mm_cert_identity (const mm_cert_t *self);
//  The Z85 public key (40 characters).
const char *mm_cert_public_txt (const mm_cert_t *self);
//  True if the certificate holds its secret key (was made here or loaded from a secret file).
bool mm_cert_has_secret (const mm_cert_t *self);
//  The 32-byte binary keys, for zmq_setsockopt. The secret key is NULL on a public certificate.
const unsigned char *mm_cert_public_key (const mm_cert_t *self);
const unsigned char *mm_cert_secret_key (const mm_cert_t *self);

//  Writes the public file (mode 0644). Refuses to replace an existing file unless `overwrite`.
//  0, or -1 with the reason in `err` (errno is EEXIST if the file exists).
int mm_cert_save_public (const mm_cert_t *self, const char *path, bool overwrite, char *err,
                         size_t errlen);
//  Writes the secret file (mode 0600, whatever the umask). Same rules; -1 if there is no secret.
int mm_cert_save_secret (const mm_cert_t *self, const char *path, bool overwrite, char *err,
                         size_t errlen);
//  Writes DIR/ID.cert and DIR/ID.cert_secret. Without `overwrite`, refuses before writing
//  anything if either exists, and leaves neither behind if the second write fails.
int mm_cert_save_pair (const mm_cert_t *self, const char *dir, bool overwrite, char *err,
                       size_t errlen);

#endif
